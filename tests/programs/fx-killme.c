/* fx-killme.c - N lock pairs, "ready", then wait to be killed.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-killme [N=500]
 * A second thread is blocked in sem_wait, so the process has two threads with
 * open chunks. After N lock/unlock pairs on `mutex` the program
 * prints "ready" and sleeps until a signal ends it (the test sends SIGKILL).
 * Expected after SIGKILL: the recording reads cleanly and holds the N ACQ and
 * N REL on `mutex` written before "ready".
 * stderr: fx: mutex=ADDR
 */
#include "fx-common.h"

#include <semaphore.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static sem_t never;

static void *sleeper(void *arg) {
  (void)arg;
  while (sem_wait(&never) != 0) {}
  return NULL;
}

int main(int argc, char **argv) {
  long n = fx_arg(argc, argv, 1, 500);
  pthread_t th;
  if (sem_init(&never, 0, 0) != 0) fx_die("sem_init", errno);
  fx_ok(pthread_create(&th, NULL, sleeper, NULL), "pthread_create");
  for (long i = 0; i < n; i++) {
    fx_ok(pthread_mutex_lock(&mutex), "lock");
    fx_ok(pthread_mutex_unlock(&mutex), "unlock");
  }
  fx_info("mutex=%p", (void *)&mutex);
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
