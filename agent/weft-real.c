/* weft-real.c - resolving the real libc functions behind the wrappers.
 * SPDX-License-Identifier: MIT
 *
 * Resolved once, in the constructor, or lazily by the first wrapper called
 * before it (another library's constructor may lock a mutex first). dlsym may
 * itself call wrapped functions (through an interposed malloc, say): a call
 * that re-enters while this thread resolves is served by glibc's
 * __pthread_mutex_* aliases, which need no lookup.
 */
#include "weft-agent-private.h"

#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>

#if defined(__x86_64__)
#define WEFT_COND_VERSION "GLIBC_2.3.2"
#elif defined(__aarch64__)
#define WEFT_COND_VERSION "GLIBC_2.17"
#elif defined(__i386__)
#define WEFT_COND_VERSION "GLIBC_2.3.2"
#else
#error "set WEFT_COND_VERSION for this architecture (the pthread_cond_* version of the new ABI)"
#endif

WeftReal _weft_real;

void _weft_real_init(void) {
  WeftThread *t = &_weft_tls;
  if (atomic_load_explicit(&_weft_real.ready, memory_order_acquire) || t->resolving) return;
  t->resolving = 1;
  int saved = errno;
  WeftReal r;
#define WEFT_REAL(ret, name, args) r.name = (ret(*) args)dlsym(RTLD_NEXT, #name);
#include "weft-real.def"
#undef WEFT_REAL
  /* the new condvar ABI, not the 2.2.5 compatibility one dlsym would find */
  void *v;
  if ((v = dlvsym(RTLD_NEXT, "pthread_cond_init", WEFT_COND_VERSION))) r.pthread_cond_init = v;
  if ((v = dlvsym(RTLD_NEXT, "pthread_cond_destroy", WEFT_COND_VERSION))) r.pthread_cond_destroy = v;
  if ((v = dlvsym(RTLD_NEXT, "pthread_cond_wait", WEFT_COND_VERSION))) r.pthread_cond_wait = v;
  if ((v = dlvsym(RTLD_NEXT, "pthread_cond_timedwait", WEFT_COND_VERSION))) r.pthread_cond_timedwait = v;
  if ((v = dlvsym(RTLD_NEXT, "pthread_cond_signal", WEFT_COND_VERSION))) r.pthread_cond_signal = v;
  if ((v = dlvsym(RTLD_NEXT, "pthread_cond_broadcast", WEFT_COND_VERSION))) r.pthread_cond_broadcast = v;
  /* Copy field by field so a racing thread never sees a half-written pointer. */
#define WEFT_REAL(ret, name, args) \
  __atomic_store_n((void **)&_weft_real.name, (void *)r.name, __ATOMIC_RELAXED);
#include "weft-real.def"
#undef WEFT_REAL
  atomic_store_explicit(&_weft_real.ready, 1, memory_order_release);
  errno = saved;
  t->resolving = 0;
}
