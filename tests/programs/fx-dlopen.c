/* fx-dlopen.c - a lookup the agent must not make under a lock of the program.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-dlopen
 * A worker takes fx_dl_lock and waits until main, inside dlopen of
 * libfx-dlopen-plugin.so (next to this program), runs the plugin's
 * constructor, which spins on pthread_mutex_trylock until the lock is free
 * (a plugin registering itself under the program's lock). Holding the lock,
 * the worker then broadcasts a condition variable, the process's first
 * condition call, and unlocks. dlsym takes the loader's lock, which dlopen
 * holds while the constructor runs: a wrapper that looked its function up
 * there would wait for the loader, and the loader for the worker's lock.
 * stdout: "dlopen ok registered=1"
 */
#include "fx-common.h"

#include <dlfcn.h>
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

pthread_mutex_t fx_dl_lock = PTHREAD_MUTEX_INITIALIZER;
atomic_int fx_dl_in_ctor, fx_dl_registered;
static atomic_int holding;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void *worker(void *arg) {
  (void)arg;
  fx_ok(pthread_mutex_lock(&fx_dl_lock), "lock");
  atomic_store(&holding, 1);
  while (!atomic_load(&fx_dl_in_ctor)) sched_yield();
  fx_ok(pthread_cond_broadcast(&cv), "broadcast"); /* the first condition call, under the lock */
  fx_ok(pthread_mutex_unlock(&fx_dl_lock), "unlock");
  return NULL;
}

int main(void) {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 64);
  if (n <= 0) fx_die("readlink /proc/self/exe", errno);
  path[n] = 0;
  char *slash = strrchr(path, '/');
  strcpy(slash ? slash + 1 : path, "libfx-dlopen-plugin.so");
  pthread_t t;
  fx_ok(pthread_create(&t, NULL, worker, NULL), "pthread_create");
  while (!atomic_load(&holding)) sched_yield();
  void *h = dlopen(path, RTLD_NOW);
  if (!h) {
    fprintf(stderr, "fx: error: %s\n", dlerror());
    return 1;
  }
  fx_ok(pthread_join(t, NULL), "join");
  printf("dlopen ok registered=%d\n", atomic_load(&fx_dl_registered));
  return 0;
}
