/* fx-barrier.c - T threads pass one barrier R times.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-barrier [T=4] [R=50]
 * T worker threads each call pthread_barrier_wait R times; the main thread
 * joins them. Exactly one thread per round gets PTHREAD_BARRIER_SERIAL_THREAD.
 * Expected: T*R WAIT_BEGIN and T*R WAIT_END of kind barrier on `barrier`, R of
 * the ends with op=serial, one per round; INIT attr=T.
 * stderr: fx: barrier=ADDR
 */
#include "fx-common.h"

#include <stdatomic.h>

static pthread_barrier_t barrier;
static long rounds;
static _Atomic long serial;

static void *worker(void *arg) {
  (void)arg;
  for (long i = 0; i < rounds; i++) {
    int r = pthread_barrier_wait(&barrier);
    if (r == PTHREAD_BARRIER_SERIAL_THREAD)
      atomic_fetch_add(&serial, 1);
    else if (r != 0)
      fx_die("barrier_wait", r);
  }
  return NULL;
}

int main(int argc, char **argv) {
  long t = fx_arg(argc, argv, 1, 4);
  rounds = fx_arg(argc, argv, 2, 50);
  if (t < 1 || t > 64) fx_die("T must be 1..64", EINVAL);
  pthread_t th[64];
  fx_ok(pthread_barrier_init(&barrier, NULL, (unsigned)t), "barrier_init");
  for (long i = 0; i < t; i++) fx_ok(pthread_create(&th[i], NULL, worker, NULL), "pthread_create");
  for (long i = 0; i < t; i++) fx_ok(pthread_join(th[i], NULL), "pthread_join");
  fx_ok(pthread_barrier_destroy(&barrier), "barrier_destroy");
  fx_info("barrier=%p", (void *)&barrier);
  printf("barrier threads=%ld rounds=%ld serial=%ld\n", t, rounds, atomic_load(&serial));
  return 0;
}
