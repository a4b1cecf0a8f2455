/* fx-longjmp-lib.c - a pthread_mutex_unlock that can raise a signal first.
 * SPDX-License-Identifier: MIT
 *
 * fx-longjmp links this library, so it comes after a preloaded agent in the
 * lookup order: the agent's "real" pthread_mutex_unlock is this one, which
 * calls glibc's. When fx_unlock_trap names the mutex being unlocked, it
 * raises SIGUSR1 once, before glibc's unlock: a handler that siglongjmps
 * leaves the agent's unlock wrapper in the middle, as a signal during the
 * real unlock would.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>

pthread_mutex_t *volatile fx_unlock_trap;

int pthread_mutex_unlock(pthread_mutex_t *m) {
  static int (*real)(pthread_mutex_t *);
  if (!real) real = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT, "pthread_mutex_unlock");
  if (m == fx_unlock_trap) {
    fx_unlock_trap = NULL;
    raise(SIGUSR1);
  }
  return real(m);
}
