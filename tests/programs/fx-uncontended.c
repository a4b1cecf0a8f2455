/* fx-uncontended.c - N uncontended lock/unlock pairs while a second thread idles.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-uncontended [N=1000]
 * The main thread locks and unlocks one mutex N times while a second thread
 * is alive, blocked on a barrier. Then both pass the barrier and the main
 * thread joins the second one, which stays alive until the main thread is
 * asleep in pthread_join (so the join is a real wait on a live thread).
 * Expected: N ACQ and N REL on `mutex`, no wait on it; 2 barrier waits (one
 * serial); one join wait with holder = idle_tid.
 * stderr: fx: mutex=ADDR main_tid=T idle_tid=T idle_self=PTHREAD
 */
#include "fx-common.h"

#include <stdatomic.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t barrier;
static _Atomic int about_to_join;
static _Atomic pid_t idle_tid;
static pid_t main_tid;
static long counter;

static void *idle(void *arg) {
  (void)arg;
  atomic_store(&idle_tid, fx_tid());
  pthread_barrier_wait(&barrier); /* blocks until the main thread is done */
  FX_WAIT_UNTIL(atomic_load(&about_to_join), "main never reached the join");
  FX_WAIT_UNTIL(fx_task_state(main_tid) == 'S', "main never slept in the join");
  fx_sleep_us(2000);
  return NULL;
}

int main(int argc, char **argv) {
  long n = fx_arg(argc, argv, 1, 1000);
  pthread_t th;
  main_tid = fx_tid();
  fx_ok(pthread_barrier_init(&barrier, NULL, 2), "barrier_init");
  fx_ok(pthread_create(&th, NULL, idle, NULL), "pthread_create");
  FX_WAIT_UNTIL(atomic_load(&idle_tid) != 0, "thread start");
  for (long i = 0; i < n; i++) {
    fx_ok(pthread_mutex_lock(&mutex), "lock");
    counter++;
    fx_ok(pthread_mutex_unlock(&mutex), "unlock");
  }
  fx_info("mutex=%p barrier=%p main_tid=%d idle_tid=%d idle_self=0x%lx", (void *)&mutex, (void *)&barrier,
          (int)main_tid, (int)atomic_load(&idle_tid), (unsigned long)th);
  int r = pthread_barrier_wait(&barrier);
  if (r != 0 && r != PTHREAD_BARRIER_SERIAL_THREAD) fx_die("barrier_wait", r);
  atomic_store(&about_to_join, 1);
  fx_ok(pthread_join(th, NULL), "pthread_join");
  printf("uncontended n=%ld counter=%ld\n", n, counter);
  return 0;
}
