/* fx-whatif.c - pairs of programs for what-if by replay (issue 17): a program,
 * and the same program with the change a what-if predicts really made.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-whatif MODE THREADS ROUNDS IN OUT
 * THREADS threads each do ROUNDS rounds of IN units of fx_scale_work inside
 * a critical section and OUT units outside it; MODE says what the critical
 * section is:
 *   lock      one mutex, `hot`, shared by every thread (the recording)
 *   sharded   a mutex per thread (`hot` sharded: what lock:hot predicts)
 *   t0fast    like lock, but thread 0 does half the units in and out (what
 *             thread:NAME=-50% predicts of thread 0, named "worker-0")
 *   imbalance like sharded, thread i doing (i + 1) times the units, then
 *             all join: a fork-join whose last thread is the straggler
 *   rwlock    one rwlock, `hotrw`: thread 0 write-locks it, the others
 *             read-lock it (they share it with each other, not with 0)
 * Threads are named worker-0, worker-1, ...
 * stdout: "whatif MODE threads=N rounds=R in=I out=O" and a checksum.
 */
#include "fx-scale-common.h"

#include <string.h>

static pthread_mutex_t hot = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t hotrw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t shards[64];
static long rounds, in_units, out_units;
static const char *mode;
static uint64_t sums[64];

static void *worker(void *arg) {
  long i = (long)(intptr_t)arg;
  char name[16];
  snprintf(name, sizeof name, "worker-%ld", i);
  pthread_setname_np(pthread_self(), name);
  long in = in_units, out = out_units;
  if (!strcmp(mode, "t0fast") && i == 0) in /= 2, out /= 2;
  if (!strcmp(mode, "imbalance")) in *= i + 1, out *= i + 1;
  pthread_mutex_t *m = !strcmp(mode, "sharded") || !strcmp(mode, "imbalance") ? &shards[i] : &hot;
  uint64_t s = 0;
  if (!strcmp(mode, "rwlock")) {
    for (long r = 0; r < rounds; r++) {
      fx_ok(i ? pthread_rwlock_rdlock(&hotrw) : pthread_rwlock_wrlock(&hotrw), "rwlock");
      s ^= fx_scale_work(in);
      fx_ok(pthread_rwlock_unlock(&hotrw), "rwlock unlock");
      s ^= fx_scale_work(out);
    }
    sums[i] = s;
    return NULL;
  }
  for (long r = 0; r < rounds; r++) {
    fx_ok(pthread_mutex_lock(m), "lock");
    s ^= fx_scale_work(in);
    fx_ok(pthread_mutex_unlock(m), "unlock");
    s ^= fx_scale_work(out);
  }
  sums[i] = s;
  return NULL;
}

int main(int argc, char **argv) {
  mode = argc > 1 ? argv[1] : "lock";
  long n = fx_arg(argc, argv, 2, 2);
  rounds = fx_arg(argc, argv, 3, 2000);
  in_units = fx_arg(argc, argv, 4, 20);
  out_units = fx_arg(argc, argv, 5, 20);
  if (n < 1 || n > 64 || rounds < 1 || in_units < 0 || out_units < 0 ||
      (strcmp(mode, "lock") && strcmp(mode, "sharded") && strcmp(mode, "t0fast") && strcmp(mode, "imbalance") &&
       strcmp(mode, "rwlock"))) {
    fprintf(stderr, "fx: error: usage: fx-whatif lock|sharded|t0fast|imbalance|rwlock THREADS(1-64) ROUNDS IN OUT\n");
    return 2;
  }
  for (long i = 0; i < n; i++) pthread_mutex_init(&shards[i], NULL);
  pthread_t th[64];
  for (long i = 0; i < n; i++) fx_ok(pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i), "pthread_create");
  uint64_t total = 0;
  for (long i = 0; i < n; i++) {
    fx_ok(pthread_join(th[i], NULL), "pthread_join");
    total ^= sums[i];
  }
  printf("whatif %s threads=%ld rounds=%ld in=%ld out=%ld sum=%llx\n", mode, n, rounds, in_units, out_units,
         (unsigned long long)total);
  return 0;
}
