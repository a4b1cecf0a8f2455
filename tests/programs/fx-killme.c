/* fx-killme.c - lock pairs, "ready", then wait to be killed.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-killme [N=500] [MODE=pause]
 * A second thread is blocked in sem_wait, so the process has two threads with
 * open chunks. Then `mutex` is locked and unlocked without contention, and
 * the program prints "ready" and waits until a signal ends it (the test sends
 * SIGKILL):
 *   pause   N pairs, then pause() (a wait the agent does not record)
 *   wait    N pairs, a 1 ms sem_timedwait that times out (a recorded wait:
 *           the agent writes the thread's counts before it blocks), then pause()
 *   ms      pairs for N milliseconds (CLOCK_MONOTONIC), then pause()
 * Expected after SIGKILL: the recording reads cleanly; with wait it counts
 * exactly the pairs done; otherwise at most them (the counts of the last
 * flush interval may be lost: the process never exited).
 * stderr: fx: mutex=ADDR pairs=DONE
 */
#include "fx-common.h"

#include <semaphore.h>
#include <string.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static sem_t never;

static void *sleeper(void *arg) {
  (void)arg;
  while (sem_wait(&never) != 0) {}
  return NULL;
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int main(int argc, char **argv) {
  long n = fx_arg(argc, argv, 1, 500);
  const char *mode = argc > 2 ? argv[2] : "pause";
  if (strcmp(mode, "pause") && strcmp(mode, "wait") && strcmp(mode, "ms")) {
    fprintf(stderr, "usage: fx-killme [N] [pause|wait|ms]\n");
    return 2;
  }
  pthread_t th;
  if (sem_init(&never, 0, 0) != 0) fx_die("sem_init", errno);
  fx_ok(pthread_create(&th, NULL, sleeper, NULL), "pthread_create");
  long done = 0;
  if (!strcmp(mode, "ms")) {
    long end = now_ms() + n;
    while (now_ms() < end)
      for (int i = 0; i < 1000; i++, done++) {
        fx_ok(pthread_mutex_lock(&mutex), "lock");
        fx_ok(pthread_mutex_unlock(&mutex), "unlock");
      }
  } else {
    for (; done < n; done++) {
      fx_ok(pthread_mutex_lock(&mutex), "lock");
      fx_ok(pthread_mutex_unlock(&mutex), "unlock");
    }
  }
  if (!strcmp(mode, "wait")) {
    struct timespec dl = fx_deadline(CLOCK_REALTIME, 1);
    while (sem_timedwait(&never, &dl) != 0 && errno == EINTR) {}
  }
  fx_info("mutex=%p pairs=%ld", (void *)&mutex, done);
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
