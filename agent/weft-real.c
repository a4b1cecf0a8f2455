/* weft-real.c - resolving the real libc functions behind the wrappers.
 * SPDX-License-Identifier: MIT
 *
 * Each is resolved once, the first time a wrapper calls it, and all of them
 * when the process makes its first thread (_weft_resolve_for_threads: a
 * single-threaded process resolves the few it uses, not the ~90 the agent
 * wraps; a lookup under a lock of the program, with other threads, could wait
 * for the loader while a dlopen waits for that lock). dlsym may itself
 * call wrapped functions (through an interposed malloc, say): a call that
 * re-enters while this thread resolves gets NULL, and the mutex wrappers are
 * then served by glibc's __pthread_mutex_* aliases, which need no lookup.
 */
#include "weft-agent-private.h"

#include <dlfcn.h>
#include <link.h>
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

static const char *const real_names[WEFT_REAL_COUNT] = {
#define WEFT_REAL(ret, name, args) #name,
#include "weft-real.def"
#undef WEFT_REAL
};

/* the condvar functions of the new ABI, not the 2.2.5 compatibility ones dlsym would find */
static int versioned(unsigned idx) {
  switch (idx) {
    case WEFT_REAL_pthread_cond_init:
    case WEFT_REAL_pthread_cond_destroy:
    case WEFT_REAL_pthread_cond_wait:
    case WEFT_REAL_pthread_cond_timedwait:
    case WEFT_REAL_pthread_cond_signal:
    case WEFT_REAL_pthread_cond_broadcast: return 1;
    default: return 0;
  }
}

void *_weft_resolve(unsigned idx) {
  WeftThread *t = &_weft_tls;
  void **slot = (void **)&_weft_start.real + idx;
  void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
  if (f || t->resolving || idx >= WEFT_REAL_COUNT) return f;
  t->resolving = 1;
  t->busy++; /* wrappers dlsym calls into (an interposed malloc's locks) record nothing */
  int saved = errno;
  if (versioned(idx)) f = dlvsym(RTLD_NEXT, real_names[idx], WEFT_COND_VERSION);
  if (!f) f = dlsym(RTLD_NEXT, real_names[idx]);
  errno = saved;
  t->busy--;
  t->resolving = 0;
  if (f) __atomic_store_n(slot, f, __ATOMIC_RELEASE); /* racing threads store the same pointer */
  return f;
}

/* ---- libraries the agent wraps beyond libc (weft-mpi.c, weft-wrap-omp.c) ---- */
typedef struct {
  const char *sym;
  void *handle, *fn; /* the first object whose scope defines sym, and its sym */
  int several;       /* another one's scope defines another */
} LibFind;

int _weft_in_agent(const void *p) {
  static const void *_Atomic base;
  Dl_info di;
  const void *b = atomic_load_explicit(&base, memory_order_relaxed);
  if (!b && dladdr((const void *)_weft_in_agent, &di))
    atomic_store_explicit(&base, b = di.dli_fbase, memory_order_relaxed);
  return p && b && dladdr(p, &di) && di.dli_fbase == b;
}

static int lib_find_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  LibFind *f = data;
  if (!info->dlpi_name || !info->dlpi_name[0]) return 0;
  void *h = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
  if (!h) return 0;
  void *fn = dlsym(h, f->sym);
  if (fn && !_weft_in_agent(fn)) { /* (not the agent's own definition of it: a wrapper) */
    if (!f->handle) {
      f->handle = h; /* kept open: the library stays loaded while the program uses it anyway */
      f->fn = fn;
      return 0;
    }
    if (fn != f->fn) f->several = 1;
  }
  dlclose(h);
  return 0;
}

void *_weft_lib_defining(const char *sym, int *several) {
  void *next = dlsym(RTLD_NEXT, sym);
  if (several) *several = 0;
  if (next && !_weft_in_agent(next)) return NULL;
  LibFind f = {sym, NULL, NULL, 0};
  dl_iterate_phdr(lib_find_cb, &f);
  if (several) *several = f.several;
  return f.handle;
}

void *_weft_lib_sym(void *lib, const char *name) {
  void *f = dlsym(RTLD_NEXT, name);
  if (f && _weft_in_agent(f)) f = NULL;
  if (!f && lib) f = dlsym(lib, name);
  return f && !_weft_in_agent(f) ? f : NULL;
}

/* Before the first fork: what a child calls first (exit, exec), resolved
 * here once and inherited. A lookup in each child would read the symbol
 * tables anew, and in a new child every first touch of a library page is a
 * page fault: about 150 us a child. */
void _weft_resolve_for_children(void) {
  static _Atomic int done;
  if (atomic_load_explicit(&done, memory_order_relaxed)) return;
  static const unsigned idx[] = {WEFT_REAL__exit, WEFT_REAL_exit,   WEFT_REAL__Exit,  WEFT_REAL_execve,
                                 WEFT_REAL_execv, WEFT_REAL_execvp, WEFT_REAL_execvpe};
  for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) _weft_resolve(idx[i]);
  atomic_store_explicit(&done, 1, memory_order_relaxed);
}

/* Before the first thread is made: every function a wrapper calls, resolved
 * while this is the process's only thread. A lookup takes the loader's lock,
 * and a wrapper may be called with a lock of the program held (a condition
 * wait always is): later, with another thread inside dlopen running a
 * constructor that wants that lock, the lookup would wait for the loader and
 * the loader for the lock. */
void _weft_resolve_for_threads(void) {
  static _Atomic int done;
  if (atomic_load_explicit(&done, memory_order_relaxed) || _weft_tls.resolving) return;
  for (unsigned i = 0; i < WEFT_REAL_COUNT; i++) _weft_resolve(i);
  /* and what a stack needs (libunwind loaded, CPython looked for): a wait's stack is taken under the
   * program's lock (a condition wait's always) */
  if (atomic_load_explicit(&_weft_proc.enabled, memory_order_relaxed)) _weft_stacks_prepare();
  atomic_store_explicit(&done, 1, memory_order_relaxed);
}
