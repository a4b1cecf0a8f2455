/* fx-dlopen.c - lookups the agent must not make under a lock of the program.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-dlopen [broadcast|wait|c11]
 * A worker takes fx_dl_lock and waits until main, inside dlopen of
 * libfx-dlopen-plugin.so (next to this program), runs the plugin's
 * constructor, which spins on pthread_mutex_trylock until the lock is free
 * (a plugin registering itself under the program's lock). Holding the lock,
 * the worker then:
 *   broadcast  broadcasts a condition variable (the process's first
 *              condition call) and unlocks;
 *   wait       waits 1 ms on a condition variable, twice (each wait's stack is
 *              taken under the lock, after the plugin was loaded) and unlocks;
 *   c11        as broadcast, the worker made with C11's thrd_create.
 * dlsym and dlopen take the loader's lock, which dlopen holds while the
 * constructor runs: a wrapper that looked a function up, loaded libunwind or
 * looked for CPython there would wait for the loader, and the loader for the
 * worker's lock: the program would hang.
 * stdout: "dlopen MODE ok registered=1"
 */
#include "fx-common.h"

#include <dlfcn.h>
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <threads.h>
#include <time.h>
#include <unistd.h>

pthread_mutex_t fx_dl_lock = PTHREAD_MUTEX_INITIALIZER;
atomic_int fx_dl_in_ctor, fx_dl_registered;
static atomic_int holding;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static const char *mode = "broadcast";

static void wait_1ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 1000000;
  if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
  int r = pthread_cond_timedwait(&cv, &fx_dl_lock, &ts);
  if (r && r != ETIMEDOUT) fx_die("pthread_cond_timedwait", r);
}

static void work(void) {
  fx_ok(pthread_mutex_lock(&fx_dl_lock), "lock");
  atomic_store(&holding, 1);
  while (!atomic_load(&fx_dl_in_ctor)) sched_yield();
  if (!strcmp(mode, "wait")) {
    wait_1ms();
    wait_1ms();
  } else {
    fx_ok(pthread_cond_broadcast(&cv), "broadcast"); /* the first condition call, under the lock */
  }
  fx_ok(pthread_mutex_unlock(&fx_dl_lock), "unlock");
}

static void *worker(void *arg) {
  (void)arg;
  work();
  return NULL;
}

static int worker_c11(void *arg) {
  (void)arg;
  work();
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1) mode = argv[1];
  if (strcmp(mode, "broadcast") && strcmp(mode, "wait") && strcmp(mode, "c11")) {
    fprintf(stderr, "fx: error: usage: fx-dlopen [broadcast|wait|c11]\n");
    return 2;
  }
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 64);
  if (n <= 0) fx_die("readlink /proc/self/exe", errno);
  path[n] = 0;
  char *slash = strrchr(path, '/');
  strcpy(slash ? slash + 1 : path, "libfx-dlopen-plugin.so");
  pthread_t t;
  thrd_t t11;
  if (!strcmp(mode, "c11")) {
    if (thrd_create(&t11, worker_c11, NULL) != thrd_success) fx_die("thrd_create", EAGAIN);
  } else {
    fx_ok(pthread_create(&t, NULL, worker, NULL), "pthread_create");
  }
  while (!atomic_load(&holding)) sched_yield();
  void *h = dlopen(path, RTLD_NOW);
  if (!h) {
    fprintf(stderr, "fx: error: %s\n", dlerror());
    return 1;
  }
  if (!strcmp(mode, "c11")) {
    if (thrd_join(t11, NULL) != thrd_success) fx_die("thrd_join", EINVAL);
  } else {
    fx_ok(pthread_join(t, NULL), "join");
  }
  printf("dlopen %s ok registered=%d\n", mode, atomic_load(&fx_dl_registered));
  return 0;
}
