/* fx-fill.c - many threads writing many records at once: fills a small disk.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-fill [THREADS=16] [ROUNDS=100000]
 * THREADS threads each lock and unlock mutexes of their own ROUNDS times,
 * all at once, so that they take trace chunks at the same time: on a small
 * disk (tests/integration/test_import.py mounts a 2 MB tmpfs) many of them
 * fail to get one together, the case that once left holes in the file.
 * Expected with WEFT_HOLDS=all: every pair is a REL record (the hold timed;
 * the acquisitions are counted), or counted as lost: REL + lost >= THREADS x
 * ROUNDS, on any disk.
 * stdout: "fill threads=T rounds=R pairs=P"
 */
#include "fx-common.h"

#define FX_FILL_LOCKS 4

static long rounds;
static pthread_barrier_t start;

static void *worker(void *arg) {
  pthread_mutex_t *own = arg;
  pthread_barrier_wait(&start);
  for (long r = 0; r < rounds; r++) {
    pthread_mutex_t *m = &own[r % FX_FILL_LOCKS];
    fx_ok(pthread_mutex_lock(m), "lock");
    fx_ok(pthread_mutex_unlock(m), "unlock");
  }
  return NULL;
}

int main(int argc, char **argv) {
  long n = fx_arg(argc, argv, 1, 16);
  rounds = fx_arg(argc, argv, 2, 100000);
  if (n < 1 || n > 256) {
    fprintf(stderr, "fx: error: THREADS must be 1..256\n");
    return 2;
  }
  static pthread_mutex_t locks[256][FX_FILL_LOCKS];
  pthread_t th[256];
  fx_ok(pthread_barrier_init(&start, NULL, (unsigned)n), "pthread_barrier_init");
  for (long i = 0; i < n; i++) {
    for (int k = 0; k < FX_FILL_LOCKS; k++) fx_ok(pthread_mutex_init(&locks[i][k], NULL), "pthread_mutex_init");
    fx_ok(pthread_create(&th[i], NULL, worker, locks[i]), "pthread_create");
  }
  for (long i = 0; i < n; i++) fx_ok(pthread_join(th[i], NULL), "pthread_join");
  printf("fill threads=%ld rounds=%ld pairs=%ld\n", n, rounds, n * rounds);
  return 0;
}
