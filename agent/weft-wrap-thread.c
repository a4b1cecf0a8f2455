/* weft-wrap-thread.c - thread create, start, exit, join, detach and names.
 * SPDX-License-Identifier: MIT
 *
 * pthread_create starts the new thread in a trampoline that writes
 * THREAD_START (with the creator's tid and the real start routine) before
 * calling the routine. THREAD_EXIT is written by a pthread key destructor,
 * which runs on return, pthread_exit and cancellation alike. Joins are waits
 * (WAIT_BEGIN/END of kind join on the pthread_t, holder = the joined tid).
 */
#include "weft-agent-private.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#define OBJ(p) ((uint64_t)(uintptr_t)(p))

typedef struct {
  void *(*fn)(void *);
  void *arg;
  uint32_t creator;
} WeftStart;

static void *weft_trampoline(void *p) {
  WeftStart s = *(WeftStart *)p;
  free(p);
  _weft_tls.routine = (uint64_t)(uintptr_t)s.fn;
  _weft_tls.exit_how = WEFT_EXIT_RETURN;
  _weft_thread_begin((uint64_t)(uintptr_t)s.fn, s.creator, 0);
  return s.fn(s.arg);
}

WEFT_PUBLIC int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg) {
  int on = weft_on();
  _weft_resolve_for_threads(); /* (untraced too: the wrappers still look their functions up) */
  if (!on) return REAL(pthread_create)(th, attr, fn, arg);
  WeftStart *s = malloc(sizeof *s);
  if (!s) return REAL(pthread_create)(th, attr, fn, arg);
  s->fn = fn;
  s->arg = arg;
  s->creator = _weft_tls.tid ? _weft_tls.tid : (uint32_t)_weft_gettid();
  int r = REAL(pthread_create)(th, attr, weft_trampoline, s);
  if (r != 0) free(s);
  uint32_t st = _weft_proc.stacks == WEFT_STACKS_ALL ? _weft_stack_id() : 0;
  weft_emit3(WEFT_EV_THREAD_CREATE, (unsigned)r, r == 0 ? (uint64_t)*th : 0, OBJ(fn), st);
  return r;
}

/* C11 threads: glibc's thrd_create makes its thread without pthread_create's
 * symbol, so this is where a program of them first has a second thread (the
 * thread is traced from its first record, as one we did not see start). */
WEFT_PUBLIC int thrd_create(thrd_t *th, thrd_start_t fn, void *arg) {
  _weft_resolve_for_threads();
  return REAL(thrd_create)(th, fn, arg);
}

WEFT_PUBLIC void pthread_exit(void *ret) {
  _weft_tls.exit_how = WEFT_EXIT_PTHREAD_EXIT;
  REAL(pthread_exit)(ret);
  __builtin_unreachable();
}

static int join_wait(pthread_t th, unsigned op, int r_try, void **ret, clockid_t clk, const struct timespec *ts) {
  (void)r_try;
  uint32_t holder = _weft_tid_of(th);
  uint32_t st = weft_stack_contended();
  weft_wait_begin(WEFT_AUX(WEFT_KIND_JOIN, op, 0), (uint64_t)th, weft_enc_holder(holder, st), 0);
  int r = op == WEFT_OP_LOCK    ? REAL(pthread_join)(th, ret)
          : op == WEFT_OP_TIMED ? REAL(pthread_timedjoin_np)(th, ret, ts)
                                : REAL(pthread_clockjoin_np)(th, ret, clk, ts);
  weft_wait_ended(weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_JOIN, op, r), (uint64_t)th));
  return r;
}

WEFT_PUBLIC int pthread_join(pthread_t th, void **ret) {
  if (!weft_on()) return REAL(pthread_join)(th, ret);
  return join_wait(th, WEFT_OP_LOCK, 0, ret, 0, NULL);
}

WEFT_PUBLIC int pthread_timedjoin_np(pthread_t th, void **ret, const struct timespec *ts) {
  if (!weft_on()) return REAL(pthread_timedjoin_np)(th, ret, ts);
  return join_wait(th, WEFT_OP_TIMED, 0, ret, CLOCK_REALTIME, ts);
}

WEFT_PUBLIC int pthread_clockjoin_np(pthread_t th, void **ret, clockid_t clk, const struct timespec *ts) {
  if (!weft_on()) return REAL(pthread_clockjoin_np)(th, ret, clk, ts);
  return join_wait(th, WEFT_OP_CLOCK, 0, ret, clk, ts);
}

WEFT_PUBLIC int pthread_tryjoin_np(pthread_t th, void **ret) {
  int r = REAL(pthread_tryjoin_np)(th, ret);
  if (weft_on()) weft_emit1(WEFT_EV_ACQ, WEFT_AUX(WEFT_KIND_JOIN, WEFT_OP_TRY, r), (uint64_t)th);
  return r;
}

WEFT_PUBLIC int pthread_detach(pthread_t th) {
  int r = REAL(pthread_detach)(th);
  if (weft_on()) weft_emit1(WEFT_EV_THREAD_DETACH, (unsigned)r, (uint64_t)th);
  return r;
}

WEFT_PUBLIC int pthread_setname_np(pthread_t th, const char *name) {
  int r = REAL(pthread_setname_np)(th, name);
  if (weft_on()) {
    uint64_t w = th == pthread_self() ? 0 : (uint64_t)th;
    _weft_emit_str(WEFT_EV_THREAD_NAME, (unsigned)r, &w, 1, name, NULL);
  }
  return r;
}

WEFT_PUBLIC int prctl(int option, ...) {
  va_list ap;
  va_start(ap, option);
  unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
  unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
  va_end(ap);
  int r = REAL(prctl)(option, a2, a3, a4, a5);
  if (option == PR_SET_NAME && r == 0 && weft_on()) {
    int e = errno;
    char name[17];
    const char *src = (const char *)a2;
    size_t n = 0;
    if (src)
      for (; n < 16 && src[n]; n++) name[n] = src[n];
    name[n] = 0;
    uint64_t w = 0;
    _weft_emit_str(WEFT_EV_THREAD_NAME, 0, &w, 1, name, NULL);
    errno = e;
  }
  return r;
}
