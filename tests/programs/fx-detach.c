/* fx-detach.c - detached threads, by pthread_detach and by attribute.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-detach [N=6]
 * N threads; even-numbered ones are created joinable and then detached with
 * pthread_detach, odd-numbered ones are created with PTHREAD_CREATE_DETACHED.
 * Each locks and unlocks `mutex` once, posts `done` and returns. main waits
 * for N posts, then until it is the only task left in /proc/self/task (every
 * thread has run its key destructors and gone), then returns.
 * Expected: ceil(N/2) THREAD_DETACH res=0; N THREAD_EXIT how=return;
 * N ACQ + N REL on `mutex`.
 * stderr: fx: mutex=ADDR detached=PTHREAD,PTHREAD,...
 */
#include "fx-common.h"

#include <dirent.h>
#include <semaphore.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static sem_t done;
static long ran;

static void *fn(void *arg) {
  (void)arg;
  fx_ok(pthread_mutex_lock(&mutex), "lock");
  ran++;
  fx_ok(pthread_mutex_unlock(&mutex), "unlock");
  sem_post(&done);
  return NULL;
}

static int task_count(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  if (!d) fx_die("opendir /proc/self/task", errno);
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

int main(int argc, char **argv) {
  long n = fx_arg(argc, argv, 1, 6);
  char list[4096] = "";
  size_t used = 0;
  pthread_attr_t det;
  if (sem_init(&done, 0, 0) != 0) fx_die("sem_init", errno);
  fx_ok(pthread_attr_init(&det), "attr_init");
  fx_ok(pthread_attr_setdetachstate(&det, PTHREAD_CREATE_DETACHED), "setdetachstate");
  for (long i = 0; i < n; i++) {
    pthread_t th;
    if (i % 2 == 0) {
      fx_ok(pthread_create(&th, NULL, fn, NULL), "create");
      fx_ok(pthread_detach(th), "detach");
      if (used < sizeof list - 32)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s0x%lx", used ? "," : "", (unsigned long)th);
    } else {
      fx_ok(pthread_create(&th, &det, fn, NULL), "create detached");
    }
  }
  pthread_attr_destroy(&det);
  for (long i = 0; i < n; i++)
    while (sem_wait(&done) != 0) {}
  FX_WAIT_UNTIL(task_count() == 1, "detached threads never went away");
  fx_info("mutex=%p detached=%s", (void *)&mutex, list);
  printf("detach threads=%ld ran=%ld\n", n, ran);
  return 0;
}
