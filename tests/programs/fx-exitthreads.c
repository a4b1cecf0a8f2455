/* fx-exitthreads.c - exit(3) while two threads are blocked.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-exitthreads
 * Two threads block in sem_wait on `never`, which nobody posts. Once both
 * sleep (scheduler state S), main prints a line and calls exit(3).
 * Expected: exit status 3; EXIT how=exit status=3; each blocked thread has an
 * open WAIT_BEGIN kind=sem on `never` and no THREAD_EXIT how=return or
 * pthread_exit.
 * stderr: fx: never=ADDR blocked_tids=T,T
 */
#include "fx-common.h"

#include <semaphore.h>
#include <stdatomic.h>

static sem_t never;
static _Atomic pid_t tids[2];

static void *blocker(void *arg) {
  atomic_store(&tids[(long)arg], fx_tid());
  while (sem_wait(&never) != 0) {}
  fx_die("never was posted", 0);
}

int main(void) {
  pthread_t th[2];
  if (sem_init(&never, 0, 0) != 0) fx_die("sem_init", errno);
  for (long i = 0; i < 2; i++) fx_ok(pthread_create(&th[i], NULL, blocker, (void *)i), "create");
  for (int i = 0; i < 2; i++) {
    FX_WAIT_UNTIL(atomic_load(&tids[i]) != 0, "thread start");
    FX_WAIT_UNTIL(fx_task_state(atomic_load(&tids[i])) == 'S', "thread never blocked");
  }
  fx_sleep_us(2000);
  fx_info("never=%p blocked_tids=%d,%d", (void *)&never, (int)tids[0], (int)tids[1]);
  printf("exitthreads exiting with 3\n");
  exit(3);
}
