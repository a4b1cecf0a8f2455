/* fx-names.c - thread names set through pthread_setname_np and prctl.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-names
 * main: pthread_setname_np(self, "fx-main"); the worker names itself with
 * prctl(PR_SET_NAME, "fx-prctl"); main then renames it with
 * pthread_setname_np(worker, "fx-worker") and tries a 25-byte name on
 * itself (ERANGE, the name is unchanged).
 * Expected THREAD_NAME records, exactly 4: main thread=0 "fx-main" res=0;
 * worker thread=0 "fx-prctl" res=0; main thread=WORKER "fx-worker" res=0;
 * main thread=0 "this-name-is-far-too-long" res=ERANGE.
 * stderr: fx: main_tid=T worker_tid=T worker_self=PTHREAD
 */
#include "fx-common.h"

#include <semaphore.h>
#include <stdatomic.h>
#include <sys/prctl.h>

static sem_t named, go;
static _Atomic pid_t worker_tid;
static char worker_saw[32];

static void *worker(void *arg) {
  (void)arg;
  atomic_store(&worker_tid, fx_tid());
  if (prctl(PR_SET_NAME, (unsigned long)"fx-prctl", 0UL, 0UL, 0UL) != 0) fx_die("prctl", errno);
  sem_post(&named);
  while (sem_wait(&go) != 0) {}
  fx_ok(pthread_getname_np(pthread_self(), worker_saw, sizeof worker_saw), "getname");
  return NULL;
}

int main(void) {
  pthread_t th;
  char main_name[32], worker_name[32];
  if (sem_init(&named, 0, 0) != 0 || sem_init(&go, 0, 0) != 0) fx_die("sem_init", errno);
  fx_ok(pthread_setname_np(pthread_self(), "fx-main"), "setname main");
  fx_ok(pthread_create(&th, NULL, worker, NULL), "pthread_create");
  while (sem_wait(&named) != 0) {}
  fx_ok(pthread_getname_np(th, worker_name, sizeof worker_name), "getname worker");
  printf("names worker_before=%s\n", worker_name);
  fx_ok(pthread_setname_np(th, "fx-worker"), "setname worker");
  int toolong = pthread_setname_np(pthread_self(), "this-name-is-far-too-long");
  fx_ok(pthread_getname_np(pthread_self(), main_name, sizeof main_name), "getname main");
  sem_post(&go);
  fx_ok(pthread_join(th, NULL), "pthread_join");
  fx_info("main_tid=%d worker_tid=%d worker_self=0x%lx", (int)fx_tid(), (int)atomic_load(&worker_tid),
          (unsigned long)th);
  printf("names main=%s worker=%s toolong=%s\n", main_name, worker_saw, fx_errname(toolong));
  return 0;
}
