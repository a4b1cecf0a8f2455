/* fx-chain.c - a chain of waits main -> A -> B for the critical path.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-chain [MS=60]
 * main creates B and A. B locks lock_l2 and holds it for MS milliseconds of
 * busy work (a loop reading CLOCK_MONOTONIC: the thread is running, not
 * sleeping, so the whole hold is B's running time). A, once B holds
 * lock_l2, locks lock_l1 and then lock_l2, which blocks until B releases
 * it. main, once A is blocked on lock_l2 (glibc's lock word turns 2 once a
 * waiter sleeps on it), locks lock_l1, held by A: it waits until B releases
 * lock_l2 and A releases lock_l1. Then main joins A and B. The handshakes
 * spin with raw nanosleep syscalls, invisible to the agent.
 * Expected critical path: main's wait on lock_l1 is almost all B's running
 * (holding lock_l2), reached through the hand-offs lock_l1 (A -> main) and
 * lock_l2 (B -> A); lock_l2 is the object whose waits are on the path.
 * stderr: fx: l1=ADDR l2=ADDR main_tid=T a_tid=T b_tid=T
 */
#include "fx-common.h"

#include <stdatomic.h>

pthread_mutex_t lock_l1 = PTHREAD_MUTEX_INITIALIZER;
pthread_mutex_t lock_l2 = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int b_has_l2, a_has_l1;
static _Atomic pid_t a_tid, b_tid;
static long hold_ms;
static volatile unsigned long spins;

static long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *thread_b(void *arg) {
  (void)arg;
  atomic_store(&b_tid, fx_tid());
  fx_ok(pthread_mutex_lock(&lock_l2), "B lock l2");
  atomic_store(&b_has_l2, 1);
  /* A must be blocked on lock_l2 before the work starts counting */
  FX_WAIT_UNTIL(__atomic_load_n(&lock_l2.__data.__lock, __ATOMIC_ACQUIRE) == 2, "A never blocked on lock_l2");
  long long end = now_ns() + hold_ms * 1000000LL;
  while (now_ns() < end) spins++;
  fx_ok(pthread_mutex_unlock(&lock_l2), "B unlock l2");
  return NULL;
}

static void *thread_a(void *arg) {
  (void)arg;
  atomic_store(&a_tid, fx_tid());
  FX_WAIT_UNTIL(atomic_load(&b_has_l2), "B never took lock_l2");
  fx_ok(pthread_mutex_lock(&lock_l1), "A lock l1");
  atomic_store(&a_has_l1, 1);
  fx_ok(pthread_mutex_lock(&lock_l2), "A lock l2");
  fx_ok(pthread_mutex_unlock(&lock_l2), "A unlock l2");
  fx_ok(pthread_mutex_unlock(&lock_l1), "A unlock l1");
  return NULL;
}

int main(int argc, char **argv) {
  hold_ms = fx_arg(argc, argv, 1, 60);
  pthread_t a, b;
  fx_ok(pthread_create(&b, NULL, thread_b, NULL), "create B");
  fx_ok(pthread_create(&a, NULL, thread_a, NULL), "create A");
  FX_WAIT_UNTIL(atomic_load(&a_has_l1) && __atomic_load_n(&lock_l2.__data.__lock, __ATOMIC_ACQUIRE) == 2,
                "A never blocked on lock_l2");
  fx_ok(pthread_mutex_lock(&lock_l1), "main lock l1");
  fx_ok(pthread_mutex_unlock(&lock_l1), "main unlock l1");
  fx_ok(pthread_join(a, NULL), "join A");
  fx_ok(pthread_join(b, NULL), "join B");
  fx_info("l1=%p l2=%p main_tid=%d a_tid=%d b_tid=%d", (void *)&lock_l1, (void *)&lock_l2, (int)fx_tid(),
          (int)atomic_load(&a_tid), (int)atomic_load(&b_tid));
  printf("chain hold_ms=%ld\n", hold_ms);
  return 0;
}
