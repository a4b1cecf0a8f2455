/* fx-execfail.c - a failed exec while another thread counts lock pairs.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-execfail [N=100]
 * A worker locks and unlocks `mutex` N times, then spins (sched_yield, no
 * wait the agent records: its counts stay unwritten) until main has called
 * execv on a program that does not exist (ENOENT), which fails; the worker
 * then does N more pairs; main joins it and exits 0. Under the agent the exec
 * attempt writes a snapshot of the worker's N counts, which the failure makes
 * void: the recording must count exactly 2N acquisitions of `mutex`, all by
 * the worker.
 * stderr: fx: mutex=ADDR worker_tid=T
 */
#include "fx-common.h"

#include <sched.h>
#include <stdatomic.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static long n;
static _Atomic pid_t worker_tid;
static _Atomic int stage; /* 1: the worker did its first N; 2: main's exec failed */

static void pairs(void) {
  for (long i = 0; i < n; i++) {
    fx_ok(pthread_mutex_lock(&mutex), "lock");
    fx_ok(pthread_mutex_unlock(&mutex), "unlock");
  }
}

static void *worker(void *arg) {
  (void)arg;
  worker_tid = fx_tid();
  pairs();
  stage = 1;
  while (stage != 2) sched_yield();
  pairs();
  return NULL;
}

int main(int argc, char **argv) {
  n = fx_arg(argc, argv, 1, 100);
  pthread_t th;
  fx_ok(pthread_create(&th, NULL, worker, NULL), "pthread_create");
  while (stage != 1) sched_yield();
  char *args[] = {"weft-fx-no-such-program", NULL};
  execv("/nonexistent/weft-fx-no-such-program", args);
  int e = errno;
  stage = 2;
  fx_ok(pthread_join(th, NULL), "pthread_join");
  fx_info("mutex=%p worker_tid=%d", (void *)&mutex, (int)worker_tid);
  printf("execfail exec=%s pairs=%ld\n", fx_errname(e), 2 * n);
  return 0;
}
