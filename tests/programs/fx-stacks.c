/* fx-stacks.c - contended waits from one call site reached by two callers.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-stacks [K=20]
 * The waiter thread takes `mutex` K times through take_lock(), called in
 * turn from via_a() (even rounds) and via_b() (odd rounds): two callers
 * with the same frame layout, so the wait happens at the same stack depth
 * and the same stack pointer each time, and only the return address into
 * via_a or via_b tells the two stacks apart (the agent's per-thread stack
 * cache must see it). Main holds the mutex until the waiter is blocked on it,
 * so every one of the K acquisitions waits.
 * Expected: K contended WAIT_BEGINs on `mutex` by the waiter; the stack of
 * round i holds a return address into via_a (i even) or via_b (i odd), and
 * not into the other.
 * stderr: fx: mutex=ADDR waiter_tid=T via_a=ADDR via_b=ADDR
 */
#include "fx-common.h"

#include <semaphore.h>
#include <stdint.h>
#include <stdatomic.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static sem_t go, done;
static long k_rounds;
static _Atomic pid_t waiter_tid;
static volatile long taken;

__attribute__((noinline)) static void take_lock(void) {
  fx_ok(pthread_mutex_lock(&mutex), "lock");
  taken++;
  fx_ok(pthread_mutex_unlock(&mutex), "unlock");
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void via_a(void);
__attribute__((noinline)) void via_b(void);
__attribute__((noinline)) void via_a(void) {
  take_lock();
  __asm__ volatile("" ::: "memory"); /* not a tail call: via_a stays on the stack */
}
__attribute__((noinline)) void via_b(void) {
  take_lock();
  __asm__ volatile("" ::: "memory");
}

static void *waiter(void *arg) {
  (void)arg;
  atomic_store(&waiter_tid, fx_tid());
  for (long i = 0; i < k_rounds; i++) {
    while (sem_wait(&go) != 0) {}
    if (i % 2 == 0)
      via_a();
    else
      via_b();
    sem_post(&done);
  }
  return NULL;
}

int main(int argc, char **argv) {
  k_rounds = fx_arg(argc, argv, 1, 20);
  pthread_t th;
  if (sem_init(&go, 0, 0) != 0 || sem_init(&done, 0, 0) != 0) fx_die("sem_init", errno);
  fx_ok(pthread_create(&th, NULL, waiter, NULL), "pthread_create");
  FX_WAIT_UNTIL(atomic_load(&waiter_tid) != 0, "thread start");
  for (long i = 0; i < k_rounds; i++) fx_contend_once(&mutex, &go, &done);
  fx_ok(pthread_join(th, NULL), "pthread_join");
  fx_info("mutex=%p waiter_tid=%d via_a=%p via_b=%p", (void *)&mutex, (int)atomic_load(&waiter_tid),
          (void *)(uintptr_t)via_a, (void *)(uintptr_t)via_b);
  printf("stacks rounds=%ld taken=%ld\n", k_rounds, taken);
  return 0;
}
