/* fx-symbols.c - a contended mutex locked at a known function and line.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-symbols [K=5]
 * Built with -g -O0 (and -rdynamic, so hot_path_lock is also in .dynsym).
 * Each round: the main thread locks `hot_lock`, posts `go`; the worker takes
 * `go` and calls hot_path_lock(), whose pthread_mutex_lock (at lock_line)
 * blocks until main sees it blocked and unlocks. So the worker has exactly K
 * contended waits, each with the return address lock_ret in hot_path_lock as
 * its innermost stack frame, which symbolises as hot_path_lock at lock_line.
 * stderr (addresses relative to the executable's load bias, as rel_pc):
 *   fx: hot_path_lock=REL cold_helper=REL lock_site=REL lock_ret=REL lock_line=N
 *       hot_lock=ADDR main_tid=T worker_tid=T
 * lock_site is an address inside the call's line, lock_ret the return
 * address of the call (the first instruction of the next line: looked up as
 * a return address it gives lock_line, as a plain address lock_line + 1).
 * cold_helper is a static function, in .symtab but not in .dynsym.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dl_iterate_phdr */
#endif
#include "fx-common.h"

#include <link.h>
#include <semaphore.h>
#include <stdatomic.h>

static pthread_mutex_t hot_lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t go, done;
static long k_rounds;
static _Atomic pid_t worker_tid;
static long in_lock;
static void *lock_site_addr, *lock_ret_addr;
static int lock_line;

void hot_path_lock(void);

/* Not exported: only a full symbol table knows its name. */
static __attribute__((noinline)) long cold_helper(long x) { return x * 3 + 1; }

/* The lock call is the statement right before `lock_ret:`, with its result
 * unused, so at -O0 the label is exactly the call's return address. */
/* (the label and the statement after the call must stay on one line) */
/* clang-format off */
void hot_path_lock(void) {
  lock_site_addr = &&lock_site;
  lock_ret_addr = &&lock_ret;
  lock_line = __LINE__ + 2;
lock_site:
  pthread_mutex_lock(&hot_lock);
lock_ret: in_lock = cold_helper(in_lock);
  if (hot_lock.__data.__owner != fx_tid()) fx_die("worker lock", EINVAL);
  fx_ok(pthread_mutex_unlock(&hot_lock), "worker unlock");
}
/* clang-format on */

static void *worker(void *arg) {
  (void)arg;
  atomic_store(&worker_tid, fx_tid());
  for (long i = 0; i < k_rounds; i++) {
    while (sem_wait(&go) != 0) {}
    hot_path_lock();
    sem_post(&done);
  }
  return NULL;
}

static int main_bias_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  *(uintptr_t *)data = info->dlpi_addr; /* the first object is the executable */
  return 1;
}

int main(int argc, char **argv) {
  k_rounds = fx_arg(argc, argv, 1, 5);
  pthread_t th;
  if (sem_init(&go, 0, 0) != 0 || sem_init(&done, 0, 0) != 0) fx_die("sem_init", errno);
  fx_ok(pthread_create(&th, NULL, worker, NULL), "pthread_create");
  FX_WAIT_UNTIL(atomic_load(&worker_tid) != 0, "thread start");
  for (long i = 0; i < k_rounds; i++) {
    fx_ok(pthread_mutex_lock(&hot_lock), "main lock");
    sem_post(&go);
    /* glibc: 0 free, 1 locked, 2 locked with a sleeping waiter */
    FX_WAIT_UNTIL(__atomic_load_n(&hot_lock.__data.__lock, __ATOMIC_ACQUIRE) == 2, "worker never blocked on hot_lock");
    fx_ok(pthread_mutex_unlock(&hot_lock), "main unlock");
    while (sem_wait(&done) != 0) {}
  }
  fx_ok(pthread_join(th, NULL), "pthread_join");
  if (k_rounds == 0) hot_path_lock(); /* uncontended: just fill in the addresses */
  uintptr_t bias = 0;
  dl_iterate_phdr(main_bias_cb, &bias);
  fx_info("hot_path_lock=%#lx cold_helper=%#lx lock_site=%#lx lock_ret=%#lx lock_line=%d "
          "hot_lock=%p main_tid=%d worker_tid=%d",
          (unsigned long)((uintptr_t)&hot_path_lock - bias), (unsigned long)((uintptr_t)&cold_helper - bias),
          (unsigned long)((uintptr_t)lock_site_addr - bias), (unsigned long)((uintptr_t)lock_ret_addr - bias),
          lock_line, (void *)&hot_lock, (int)fx_tid(), (int)atomic_load(&worker_tid));
  printf("symbols rounds=%ld\n", k_rounds);
  return 0;
}
