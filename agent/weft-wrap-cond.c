/* weft-wrap-cond.c - condition variables, barriers and semaphores.
 * SPDX-License-Identifier: MIT
 *
 * A condvar wait releases and re-acquires its mutex inside glibc, where no
 * wrapper sees it: the wrapper releases the mutex as an unlock would (REL when
 * someone waits for it) and writes WAIT_BEGIN(cond, obj2 = mutex) before the
 * call, and WAIT_END(cond) and ACQ(mutex) after it (a recorded hold). A
 * waiter announces itself on the condvar (or semaphore) first, so that a
 * signal (or sem_post) is recorded only when someone waits. The waits are
 * cancellation points; cancellation still happens inside the real call (the
 * thread's exit then closes its open wait; a cleanup takes the announcement
 * back). Semaphore calls report failure through errno: the wrappers keep the
 * caller's errno intact on success.
 */
#include "weft-agent-private.h"

#include <fcntl.h>
#include <stdarg.h>

#define OBJ(p) ((uint64_t)(uintptr_t)(p))

/* Takes the announcement back when the wait is cancelled (a cleanup handler:
 * pthread_cleanup_push, which costs a sigsetjmp and no library of its own). */
static void unannounce_cb(void *obj) { weft_unannounce(obj); }

static inline void cond_before(pthread_cond_t *c, pthread_mutex_t *m, unsigned op) {
  if (WEFT_UNLIKELY(_weft_tls.dirty)) _weft_wait_flush(&_weft_tls); /* before the REL, not between */
  WeftRelease rel;
  weft_release_pre(WEFT_KIND_MUTEX, m, &rel);
  if (rel.p) _weft_release_publish(&rel, 0, 0); /* the wait releases it */
  uint32_t st = weft_stack_contended();
  weft_shared_check(WEFT_KIND_COND, c);
  /* not weft_wait_begin: its flush (the first one skipped as within 1 ms of
   * the last) would put COUNTS between the REL and the wait it belongs to */
  weft_emit3(WEFT_EV_WAIT_BEGIN, WEFT_AUX(WEFT_KIND_COND, op, 0), OBJ(c), weft_enc_holder(0, st), OBJ(m));
}

static inline void cond_after(pthread_cond_t *c, pthread_mutex_t *m, unsigned op, int r) {
  /* no weft_wait_ended: the thread holds the mutex again, and others may wait for it */
  weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_COND, op, r), OBJ(c));
  uint64_t at = weft_emit1(WEFT_EV_ACQ, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, r == EOWNERDEAD ? r : 0), OBJ(m));
  _weft_acquired_recorded(WEFT_KIND_MUTEX, m, at);
}

/* SIGNAL when someone waits on c (announced; for a process-shared c, a
 * waiter of any process, as glibc counts them), before the call or, for a
 * waiter that announced itself meanwhile, after it. */
static void signal_emit(pthread_cond_t *c, unsigned op, uint64_t late) {
  weft_shared_check(WEFT_KIND_COND, c); /* (a process-shared one's identity in this process) */
  weft_emit2(WEFT_EV_SIGNAL, WEFT_AUX(WEFT_KIND_COND, op, 0), OBJ(c), late);
}

static int signal_wrap(pthread_cond_t *c, unsigned op) {
  int (*fn)(pthread_cond_t *) = op == WEFT_OP_SIGNAL ? REAL(pthread_cond_signal) : REAL(pthread_cond_broadcast);
  if (!weft_on()) return fn(c);
  WeftBucket *b = weft_bucket(c);
  uint64_t bw = atomic_load_explicit(&b->word, memory_order_seq_cst);
  int done = (uint32_t)bw != 0 || weft_shared_waiters(WEFT_KIND_COND, c);
  if (done) signal_emit(c, op, 0);
  int r = fn(c);
  /* (late: a waiter of this process announced itself meanwhile, or one of another process came
   * between our reading of glibc's count and glibc's own) */
  if (!done && (weft_arrived(b, bw) || WEFT_UNLIKELY(weft_shared_waiters(WEFT_KIND_COND, c))))
    signal_emit(c, op, WEFT_REL_LATE);
  return r;
}

WEFT_PUBLIC int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a) {
  int r = REAL(pthread_cond_init)(c, a);
  if (r == 0 && weft_on()) {
    weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_COND, 0, 0), OBJ(c), 0, weft_stack_init());
    weft_shared_init(WEFT_KIND_COND, c);
  }
  return r;
}

WEFT_PUBLIC int pthread_cond_destroy(pthread_cond_t *c) {
  int shared = 0;
  if (weft_on()) {
    shared = weft_pshared(WEFT_KIND_COND, c);
    weft_emit1(WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_COND, 0, 0), OBJ(c));
  }
  return weft_shared_destroyed(WEFT_KIND_COND, c, shared, REAL(pthread_cond_destroy)(c));
}

static int cond_call(pthread_cond_t *c, pthread_mutex_t *m, unsigned op, clockid_t clk, const struct timespec *ts) {
  return op == WEFT_OP_LOCK    ? REAL(pthread_cond_wait)(c, m)
         : op == WEFT_OP_TIMED ? REAL(pthread_cond_timedwait)(c, m, ts)
                               : REAL(pthread_cond_clockwait)(c, m, clk, ts);
}

static int cond_wrap(pthread_cond_t *c, pthread_mutex_t *m, unsigned op, clockid_t clk, const struct timespec *ts) {
  if (!weft_on()) return cond_call(c, m, op, clk, ts);
  volatile int r;
  weft_announce(c);
  pthread_cleanup_push(unannounce_cb, (void *)c);
  cond_before(c, m, op);
  r = cond_call(c, m, op, clk, ts);
  cond_after(c, m, op, r);
  pthread_cleanup_pop(1);
  return r;
}

WEFT_PUBLIC int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) {
  return cond_wrap(c, m, WEFT_OP_LOCK, 0, NULL);
}

WEFT_PUBLIC int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *ts) {
  return cond_wrap(c, m, WEFT_OP_TIMED, CLOCK_REALTIME, ts);
}

WEFT_PUBLIC int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clk,
                                       const struct timespec *ts) {
  return cond_wrap(c, m, WEFT_OP_CLOCK, clk, ts);
}

WEFT_PUBLIC int pthread_cond_signal(pthread_cond_t *c) { return signal_wrap(c, WEFT_OP_SIGNAL); }

WEFT_PUBLIC int pthread_cond_broadcast(pthread_cond_t *c) { return signal_wrap(c, WEFT_OP_BROADCAST); }

/* ---- barriers ---- */
WEFT_PUBLIC int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *a, unsigned n) {
  int r = REAL(pthread_barrier_init)(b, a, n);
  if (r == 0 && weft_on()) weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_BARRIER, 0, 0), OBJ(b), n, weft_stack_init());
  return r;
}

WEFT_PUBLIC int pthread_barrier_destroy(pthread_barrier_t *b) {
  if (weft_on()) weft_emit1(WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_BARRIER, 0, 0), OBJ(b));
  return REAL(pthread_barrier_destroy)(b);
}

WEFT_PUBLIC int pthread_barrier_wait(pthread_barrier_t *b) {
  if (!weft_on()) return REAL(pthread_barrier_wait)(b);
  uint32_t st = weft_stack_contended();
  weft_wait_begin(WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_LOCK, 0), OBJ(b), weft_enc_holder(0, st), 0);
  int r = REAL(pthread_barrier_wait)(b);
  uint64_t end;
  if (r == PTHREAD_BARRIER_SERIAL_THREAD)
    end = weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_SERIAL, 0), OBJ(b));
  else
    end = weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_LOCK, r), OBJ(b));
  weft_wait_ended(end);
  return r;
}

/* ---- semaphores ---- */
WEFT_PUBLIC int sem_init(sem_t *s, int pshared, unsigned value) {
  int r = REAL(sem_init)(s, pshared, value);
  if (r == 0 && weft_on()) {
    int e = errno;
    weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_SEM, 0, 0), OBJ(s), value, weft_stack_init());
    weft_shared_init(WEFT_KIND_SEM, s);
    errno = e;
  }
  return r;
}

WEFT_PUBLIC int sem_destroy(sem_t *s) {
  int shared = 0;
  if (weft_on()) {
    _weft_count_destroy(WEFT_KIND_SEM, s);
    shared = weft_pshared(WEFT_KIND_SEM, s);
    weft_emit1(WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_SEM, 0, 0), OBJ(s));
  }
  return weft_shared_destroyed(WEFT_KIND_SEM, s, shared, REAL(sem_destroy)(s));
}

static int sem_call(sem_t *s, unsigned op, clockid_t clk, const struct timespec *ts) {
  return op == WEFT_OP_LOCK    ? REAL(sem_wait)(s)
         : op == WEFT_OP_TIMED ? REAL(sem_timedwait)(s, ts)
                               : REAL(sem_clockwait)(s, clk, ts);
}

/* The wait of an announced waiter: it tries once more (a post that came
 * before it could see the announcement), then waits, recorded. errno as the
 * real call left it, or the caller's (saved) on success. */
static int sem_wait_announced(sem_t *s, unsigned op, clockid_t clk, const struct timespec *ts, const WeftWaitStart *w,
                              int saved) {
  if (REAL(sem_trywait)(s) == 0) {
    errno = saved;
    weft_acquired(WEFT_KIND_SEM, s);
    return 0;
  }
  errno = saved; /* the try's EAGAIN must not leak out of a wait that succeeds */
  weft_wait_begin_at(w, WEFT_AUX(WEFT_KIND_SEM, op, 0), OBJ(s), 0, 0);
  int r = sem_call(s, op, clk, ts);
  int e = errno;
  uint64_t at = weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_SEM, op, r == 0 ? 0 : e), OBJ(s));
  if (r == 0) _weft_acquired_recorded(WEFT_KIND_SEM, s, at); /* no weft_wait_ended: a semaphore can be a lock */
  errno = e;
  return r;
}

/* ... with the announcement taken back however it ends (a cancellation too) */
static int sem_waited(sem_t *s, unsigned op, clockid_t clk, const struct timespec *ts, const WeftWaitStart *w,
                      int saved) {
  volatile int r;
  pthread_cleanup_push(unannounce_cb, (void *)s);
  r = sem_wait_announced(s, op, clk, ts, w, saved);
  pthread_cleanup_pop(1);
  return r;
}

static int sem_blocking(sem_t *s, unsigned op, clockid_t clk, const struct timespec *ts) {
  if (!weft_on()) return sem_call(s, op, clk, ts);
  int saved = errno;
  if (REAL(sem_trywait)(s) == 0) {
    errno = saved;
    weft_acquired(WEFT_KIND_SEM, s);
    return 0;
  }
  weft_shared_check(WEFT_KIND_SEM, s); /* before the wait's time is read: records stay in order */
  WeftWaitStart w;
  weft_wait_start(&w, 1);
  weft_announce(s);
  return sem_waited(s, op, clk, ts, &w, saved);
}

WEFT_PUBLIC int sem_wait(sem_t *s) { return sem_blocking(s, WEFT_OP_LOCK, 0, NULL); }
WEFT_PUBLIC int sem_timedwait(sem_t *s, const struct timespec *ts) {
  return sem_blocking(s, WEFT_OP_TIMED, CLOCK_REALTIME, ts);
}
WEFT_PUBLIC int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *ts) {
  return sem_blocking(s, WEFT_OP_CLOCK, clk, ts);
}

WEFT_PUBLIC int sem_trywait(sem_t *s) {
  int r = REAL(sem_trywait)(s);
  if (weft_on()) {
    int e = errno;
    if (r == 0)
      weft_acquired(WEFT_KIND_SEM, s);
    else if (e == EAGAIN)
      weft_try_failed(WEFT_KIND_SEM, s);
    else
      weft_emit1(WEFT_EV_ACQ, WEFT_AUX(WEFT_KIND_SEM, WEFT_OP_TRY, e), OBJ(s));
    errno = e;
  }
  return r;
}

WEFT_PUBLIC int sem_post(sem_t *s) {
  if (!weft_on()) return REAL(sem_post)(s);
  WeftCount *c = weft_count(&_weft_tls, s, WEFT_KIND_SEM);
  if (c) weft_inc32(&c->rel);
  WeftRelease rel;
  weft_release_pre(WEFT_KIND_SEM, s, &rel);
  int r = REAL(sem_post)(s);
  int e = errno;
  weft_release_post(WEFT_KIND_SEM, s, &rel, r == 0 ? 0 : e);
  errno = e;
  return r;
}

WEFT_PUBLIC sem_t *sem_open(const char *name, int oflag, ...) {
  mode_t mode = 0;
  unsigned value = 0;
  if (oflag & O_CREAT) {
    va_list ap;
    va_start(ap, oflag);
    mode = (mode_t)va_arg(ap, unsigned);
    value = va_arg(ap, unsigned);
    va_end(ap);
  }
  sem_t *s = (oflag & O_CREAT) ? REAL(sem_open)(name, oflag, mode, value) : REAL(sem_open)(name, oflag);
  if (weft_on()) {
    int e = errno;
    uint64_t w = s == SEM_FAILED ? 0 : OBJ(s);
    _weft_emit_str(WEFT_EV_SEM_OPEN, WEFT_AUX(WEFT_KIND_SEM, 0, s == SEM_FAILED ? e : 0), &w, 1, name, NULL);
    /* a semaphore this call made gets the creator's stack, as sem_init's does: the
     * line that made a multiprocessing lock names it (an open of one that exists,
     * as a spawned child's, is no creation) */
    if (s != SEM_FAILED && (oflag & O_CREAT)) {
      weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_SEM, 0, 0), w, value, weft_stack_init());
      weft_shared_init(WEFT_KIND_SEM, s); /* (a multiprocessing.Lock() only the children take) */
    }
    errno = e;
  }
  return s;
}

WEFT_PUBLIC int sem_close(sem_t *s) {
  int shared = 0;
  if (weft_on()) {
    _weft_count_destroy(WEFT_KIND_SEM, s);
    shared = weft_pshared(WEFT_KIND_SEM, s); /* (read before the mapping goes) */
    weft_emit1(WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_SEM, WEFT_OP_CLOSE, 0), OBJ(s));
  }
  return weft_shared_destroyed(WEFT_KIND_SEM, s, shared, REAL(sem_close)(s)); /* (another may be mapped there) */
}
