/* weft-wrap-lock.c - mutexes, rwlocks and spinlocks.
 * SPDX-License-Identifier: MIT
 *
 * Every lock wrapper tries first: an acquisition that succeeds is counted
 * (weft-count.c), no clock read and no record. Only when the try fails with
 * EBUSY does it announce itself to the holder, read the holder (glibc keeps
 * the owner's tid in the object), capture the stack, write WAIT_BEGIN, block
 * in the real call and write WAIT_END with its result. An unlock that someone
 * waits for stamps its REL before releasing (so a hand-off is ordered in the
 * trace) and writes it after (outside the hold); a waiter that announced
 * itself meanwhile gets a late REL.
 * Return values and errno are the real function's; none of these functions is
 * a cancellation point. Async-signal-safe to the extent the real call is.
 */
#include "weft-agent-private.h"

/* glibc's own aliases (a non-default symbol version, bound explicitly): usable
 * even while dlsym is still resolving on this thread. */
#if defined(__x86_64__) && defined(__GLIBC__)
#define WEFT_COMPAT(local, sym)                \
  extern __typeof__(pthread_mutex_lock) local; \
  __asm__(".symver " #local "," #sym "@GLIBC_2.2.5");
WEFT_COMPAT(weft_compat_lock, __pthread_mutex_lock)
WEFT_COMPAT(weft_compat_trylock, __pthread_mutex_trylock)
WEFT_COMPAT(weft_compat_unlock, __pthread_mutex_unlock)
WEFT_COMPAT(weft_compat_destroy, __pthread_mutex_destroy)
extern int weft_compat_init(pthread_mutex_t *, const pthread_mutexattr_t *);
__asm__(".symver weft_compat_init,__pthread_mutex_init@GLIBC_2.2.5");
#define __pthread_mutex_lock    weft_compat_lock
#define __pthread_mutex_trylock weft_compat_trylock
#define __pthread_mutex_unlock  weft_compat_unlock
#define __pthread_mutex_destroy weft_compat_destroy
#define __pthread_mutex_init    weft_compat_init
#else
#define __pthread_mutex_lock    NULL
#define __pthread_mutex_trylock NULL
#define __pthread_mutex_unlock  NULL
#define __pthread_mutex_destroy NULL
#define __pthread_mutex_init    NULL
#endif

#define REAL_OR(name, fallback) (REAL(name) ? REAL(name) : (fallback))

/* (weft_acq's other outcomes: weft-agent-private.h) */
void __attribute__((noinline)) _weft_acq_other(unsigned kind, unsigned op, int r, const volatile void *obj) {
  if (r == 0 && _weft_proc.stacks != WEFT_STACKS_ALL) {
    _weft_acquired_all(kind, obj); /* WEFT_HOLDS=all */
    return;
  }
  if (r == EBUSY && op == WEFT_OP_TRY) {
    weft_try_failed(kind, obj);
    return;
  }
  int e = errno;
  uint64_t at;
  if (_weft_proc.stacks == WEFT_STACKS_ALL && (r == 0 || r == EOWNERDEAD))
    at = weft_emit3(WEFT_EV_ACQ, WEFT_AUX(kind, op, r), (uint64_t)(uintptr_t)obj, _weft_stack_id(), 0);
  else
    at = weft_emit1(WEFT_EV_ACQ, WEFT_AUX(kind, op, r), (uint64_t)(uintptr_t)obj);
  if (r == 0 || r == EOWNERDEAD) _weft_acquired_recorded(kind, obj, at);
  errno = e;
}

static inline void wait_begin(const WeftWaitStart *w, unsigned kind, unsigned op, const volatile void *obj,
                              uint32_t holder) {
  weft_wait_begin_at(w, WEFT_AUX(kind, op, 0), (uint64_t)(uintptr_t)obj, holder, 0);
}

/* After the real blocking call: WAIT_END, the waiter's announcement taken
 * back, and a successful acquisition counted with its hold recorded. */
static inline void wait_end(unsigned kind, unsigned op, int r, const volatile void *obj) {
  uint64_t at = weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(kind, op, r), (uint64_t)(uintptr_t)obj);
  weft_unannounce(obj);
  if (r == 0 || r == EOWNERDEAD) _weft_acquired_recorded(kind, obj, at);
}

/* A release (unlock) around the real call: REL when someone waits. */
#define RELEASE(kind, obj, call)                 \
  do {                                           \
    WeftRelease rel_;                            \
    weft_release_pre((kind), (obj), &rel_);      \
    int r_ = (call);                             \
    int e_ = errno;                              \
    weft_release_post((kind), (obj), &rel_, r_); \
    errno = e_;                                  \
    return r_;                                   \
  } while (0)

/* ---- mutexes ---- */
static inline uint32_t mutex_owner(const pthread_mutex_t *m) {
#ifdef __GLIBC__
  return (uint32_t)__atomic_load_n(&m->__data.__owner, __ATOMIC_RELAXED) & 0x3fffffffu;
#else
  return 0;
#endif
}

/* glibc keeps the type in the low bits of __kind */
static inline int mutex_errorcheck(const pthread_mutex_t *m) {
#ifdef __GLIBC__
  return (__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) & 3) == PTHREAD_MUTEX_ERRORCHECK;
#else
  return 0;
#endif
}

static uint64_t mutex_attr_bits(const pthread_mutexattr_t *a) {
  if (!a) return 0;
  int type = 0, robust = 0, pshared = 0, proto = 0;
  pthread_mutexattr_gettype(a, &type);
  pthread_mutexattr_getrobust(a, &robust);
  pthread_mutexattr_getpshared(a, &pshared);
  pthread_mutexattr_getprotocol(a, &proto);
  return ((uint64_t)type & WEFT_ATTR_TYPE_MASK) | (robust ? WEFT_ATTR_ROBUST : 0) |
         (pshared == PTHREAD_PROCESS_SHARED ? WEFT_ATTR_PSHARED : 0) |
         (proto == PTHREAD_PRIO_INHERIT ? WEFT_ATTR_PI : 0);
}

WEFT_PUBLIC int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a) {
  int r = REAL_OR(pthread_mutex_init, __pthread_mutex_init)(m, a);
  if (r == 0 && weft_on()) {
    uint32_t st = weft_stack_init();
    weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), (uint64_t)(uintptr_t)m, mutex_attr_bits(a), st);
    weft_shared_init(WEFT_KIND_MUTEX, m);
  }
  return r;
}

WEFT_PUBLIC int pthread_mutex_destroy(pthread_mutex_t *m) {
  int shared = 0;
  if (weft_on()) {
    _weft_count_destroy(WEFT_KIND_MUTEX, m);
    shared = weft_pshared(WEFT_KIND_MUTEX, m);
    weft_emit1(WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), (uint64_t)(uintptr_t)m);
  }
  return weft_shared_destroyed(WEFT_KIND_MUTEX, m, shared, REAL_OR(pthread_mutex_destroy, __pthread_mutex_destroy)(m));
}

static inline int mutex_call(pthread_mutex_t *m, unsigned op, clockid_t clk, const struct timespec *ts) {
  return op == WEFT_OP_LOCK    ? REAL(pthread_mutex_lock)(m)
         : op == WEFT_OP_TIMED ? REAL(pthread_mutex_timedlock)(m, ts)
                               : REAL(pthread_mutex_clocklock)(m, clk, ts);
}

/* The try failed with r: wait in the real call, recorded. A waiter announces
 * itself, then tries once more: a holder that released before the
 * announcement could not see it, and then this try succeeds. */
static int __attribute__((noinline, cold))
mutex_contended(pthread_mutex_t *m, unsigned op, clockid_t clk, const struct timespec *ts, int r) {
  if (r != EBUSY) {
    /* EOWNERDEAD, or an error trylock and lock agree on */
    if (r != EOWNERDEAD) r = mutex_call(m, op, clk, ts);
    weft_acq(WEFT_KIND_MUTEX, op, r, m);
    return r;
  }
  uint32_t owner = mutex_owner(m);
  if (WEFT_UNLIKELY(owner != 0 && owner == _weft_tls.tid && mutex_errorcheck(m))) {
    /* relocking an owned error-checking mutex fails at once: not a wait */
    r = mutex_call(m, op, clk, ts);
    weft_acq(WEFT_KIND_MUTEX, op, r, m);
    return r;
  }
  weft_shared_check(WEFT_KIND_MUTEX, m); /* before the wait's time is read: records stay in order */
  WeftWaitStart w;
  weft_wait_start(&w, 0);
  weft_announce(m);
  r = REAL(pthread_mutex_trylock)(m);
  if (r == 0 || r == EOWNERDEAD) {
    weft_unannounce(m);
    weft_acq(WEFT_KIND_MUTEX, op, r, m);
    return r;
  }
  wait_begin(&w, WEFT_KIND_MUTEX, op, m, mutex_owner(m));
  r = mutex_call(m, op, clk, ts);
  wait_end(WEFT_KIND_MUTEX, op, r, m);
  return r;
}

WEFT_PUBLIC int pthread_mutex_lock(pthread_mutex_t *m) {
  if (!weft_on()) return REAL_OR(pthread_mutex_lock, __pthread_mutex_lock)(m);
  int r = REAL_HOT(pthread_mutex_trylock)(m);
  if (WEFT_LIKELY(r == 0)) {
    weft_acq(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0, m);
    return 0;
  }
  return mutex_contended(m, WEFT_OP_LOCK, 0, NULL, r);
}

WEFT_PUBLIC int pthread_mutex_trylock(pthread_mutex_t *m) {
  int r = REAL_OR(pthread_mutex_trylock, __pthread_mutex_trylock)(m);
  if (weft_on()) weft_acq(WEFT_KIND_MUTEX, WEFT_OP_TRY, r, m);
  return r;
}

static int mutex_timed(pthread_mutex_t *m, unsigned op, clockid_t clk, const struct timespec *ts) {
  if (!weft_on()) return mutex_call(m, op, clk, ts);
  int r = REAL(pthread_mutex_trylock)(m);
  if (r == 0) {
    weft_acq(WEFT_KIND_MUTEX, op, r, m);
    return r;
  }
  return mutex_contended(m, op, clk, ts, r);
}

WEFT_PUBLIC int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts) {
  return mutex_timed(m, WEFT_OP_TIMED, CLOCK_REALTIME, ts);
}

WEFT_PUBLIC int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *ts) {
  return mutex_timed(m, WEFT_OP_CLOCK, clk, ts);
}

static int __attribute__((noinline)) mutex_unlock_slow(pthread_mutex_t *m) {
  if (!weft_on()) return REAL_OR(pthread_mutex_unlock, __pthread_mutex_unlock)(m);
  RELEASE(WEFT_KIND_MUTEX, m, REAL_HOT(pthread_mutex_unlock)(m));
}

/* The common case inline: tracing on, nothing held timed, nobody waiting. */
WEFT_PUBLIC int pthread_mutex_unlock(pthread_mutex_t *m) {
  WeftThread *t = &_weft_tls;
  if (WEFT_LIKELY(atomic_load_explicit(&_weft_proc.enabled, memory_order_relaxed)) && WEFT_LIKELY(t->busy_nheld == 0)) {
    WeftBucket *b = weft_bucket(m);
    uint64_t bw = atomic_load_explicit(&b->word, memory_order_seq_cst);
    if (WEFT_LIKELY((uint32_t)bw == 0) && WEFT_LIKELY(!weft_shared_waiters(WEFT_KIND_MUTEX, m))) {
      int r = REAL_HOT(pthread_mutex_unlock)(m);
      if (WEFT_UNLIKELY(weft_arrived(b, bw)) && r == 0) {
        WeftRelease rel = {.bucket = b, .bw = bw};
        _weft_release_late(t, WEFT_KIND_MUTEX, m, &rel);
      }
      return r;
    }
  }
  return mutex_unlock_slow(m);
}

/* ---- rwlocks ---- */
static inline uint32_t rwlock_writer(const pthread_rwlock_t *l) {
#ifdef __GLIBC__
  return (uint32_t)__atomic_load_n(&l->__data.__cur_writer, __ATOMIC_RELAXED);
#else
  return 0;
#endif
}

WEFT_PUBLIC int pthread_rwlock_init(pthread_rwlock_t *l, const pthread_rwlockattr_t *a) {
  int r = REAL(pthread_rwlock_init)(l, a);
  if (r == 0 && weft_on()) {
    uint32_t st = weft_stack_init();
    weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_RWLOCK, 0, 0), (uint64_t)(uintptr_t)l, 0, st);
    weft_shared_init(WEFT_KIND_RWLOCK, l);
  }
  return r;
}

WEFT_PUBLIC int pthread_rwlock_destroy(pthread_rwlock_t *l) {
  int shared = 0;
  if (weft_on()) {
    _weft_count_destroy(WEFT_KIND_RWLOCK, l);
    shared = weft_pshared(WEFT_KIND_RWLOCK, l);
    weft_emit1(WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_RWLOCK, 0, 0), (uint64_t)(uintptr_t)l);
  }
  return weft_shared_destroyed(WEFT_KIND_RWLOCK, l, shared, REAL(pthread_rwlock_destroy)(l));
}

/* kind is RWLOCK_RD or RWLOCK_WR; op LOCK, TIMED or CLOCK */
static int rw_call(pthread_rwlock_t *l, int rd, unsigned op, clockid_t clk, const struct timespec *ts) {
  if (op == WEFT_OP_LOCK) return rd ? REAL(pthread_rwlock_rdlock)(l) : REAL(pthread_rwlock_wrlock)(l);
  if (op == WEFT_OP_TIMED)
    return rd ? REAL(pthread_rwlock_timedrdlock)(l, ts) : REAL(pthread_rwlock_timedwrlock)(l, ts);
  return rd ? REAL(pthread_rwlock_clockrdlock)(l, clk, ts) : REAL(pthread_rwlock_clockwrlock)(l, clk, ts);
}

static inline int rw_try(pthread_rwlock_t *l, int rd) {
  return rd ? REAL(pthread_rwlock_tryrdlock)(l) : REAL(pthread_rwlock_trywrlock)(l);
}

static int rw_acquire(pthread_rwlock_t *l, unsigned kind, unsigned op, clockid_t clk, const struct timespec *ts) {
  int rd = kind == WEFT_KIND_RWLOCK_RD;
  if (!weft_on()) return rw_call(l, rd, op, clk, ts);
  int r = rw_try(l, rd);
  if (WEFT_LIKELY(r == 0)) {
    weft_acq(kind, op, 0, l);
    return 0;
  }
  if (r != EBUSY) {
    r = rw_call(l, rd, op, clk, ts); /* EDEADLK, EAGAIN: let the real call decide and report */
    weft_acq(kind, op, r, l);
    return r;
  }
  uint32_t writer = rwlock_writer(l);
  if (WEFT_UNLIKELY(writer != 0 && writer == _weft_tls.tid)) {
    r = rw_call(l, rd, op, clk, ts); /* we hold it for writing: EDEADLK at once, not a wait */
    weft_acq(kind, op, r, l);
    return r;
  }
  weft_shared_check(kind, l);
  WeftWaitStart w;
  weft_wait_start(&w, 0);
  weft_announce(l);
  r = rw_try(l, rd);
  if (r == 0) {
    weft_unannounce(l);
    weft_acq(kind, op, 0, l);
    return 0;
  }
  wait_begin(&w, kind, op, l, rwlock_writer(l));
  r = rw_call(l, rd, op, clk, ts);
  wait_end(kind, op, r, l);
  return r;
}

WEFT_PUBLIC int pthread_rwlock_rdlock(pthread_rwlock_t *l) {
  return rw_acquire(l, WEFT_KIND_RWLOCK_RD, WEFT_OP_LOCK, 0, NULL);
}
WEFT_PUBLIC int pthread_rwlock_wrlock(pthread_rwlock_t *l) {
  return rw_acquire(l, WEFT_KIND_RWLOCK_WR, WEFT_OP_LOCK, 0, NULL);
}
WEFT_PUBLIC int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *ts) {
  return rw_acquire(l, WEFT_KIND_RWLOCK_RD, WEFT_OP_TIMED, CLOCK_REALTIME, ts);
}
WEFT_PUBLIC int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *ts) {
  return rw_acquire(l, WEFT_KIND_RWLOCK_WR, WEFT_OP_TIMED, CLOCK_REALTIME, ts);
}
WEFT_PUBLIC int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t c, const struct timespec *ts) {
  return rw_acquire(l, WEFT_KIND_RWLOCK_RD, WEFT_OP_CLOCK, c, ts);
}
WEFT_PUBLIC int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t c, const struct timespec *ts) {
  return rw_acquire(l, WEFT_KIND_RWLOCK_WR, WEFT_OP_CLOCK, c, ts);
}

WEFT_PUBLIC int pthread_rwlock_tryrdlock(pthread_rwlock_t *l) {
  int r = REAL(pthread_rwlock_tryrdlock)(l);
  if (weft_on()) weft_acq(WEFT_KIND_RWLOCK_RD, WEFT_OP_TRY, r, l);
  return r;
}

WEFT_PUBLIC int pthread_rwlock_trywrlock(pthread_rwlock_t *l) {
  int r = REAL(pthread_rwlock_trywrlock)(l);
  if (weft_on()) weft_acq(WEFT_KIND_RWLOCK_WR, WEFT_OP_TRY, r, l);
  return r;
}

WEFT_PUBLIC int pthread_rwlock_unlock(pthread_rwlock_t *l) {
  if (!weft_on()) return REAL(pthread_rwlock_unlock)(l);
  /* the writer's tid is in the lock while it is write-held */
  unsigned kind = rwlock_writer(l) == _weft_tls.tid && _weft_tls.tid ? WEFT_KIND_RWLOCK_WR : WEFT_KIND_RWLOCK_RD;
  RELEASE(kind, l, REAL(pthread_rwlock_unlock)(l));
}

/* ---- spinlocks ---- */
WEFT_PUBLIC int pthread_spin_init(pthread_spinlock_t *s, int pshared) {
  int r = REAL(pthread_spin_init)(s, pshared);
  if (r == 0 && weft_on())
    weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_SPIN, 0, 0), (uint64_t)(uintptr_t)s,
               pshared == PTHREAD_PROCESS_SHARED ? WEFT_ATTR_PSHARED : 0, weft_stack_init());
  return r;
}

WEFT_PUBLIC int pthread_spin_destroy(pthread_spinlock_t *s) {
  if (weft_on()) {
    _weft_count_destroy(WEFT_KIND_SPIN, s);
    weft_emit1(WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_SPIN, 0, 0), (uint64_t)(uintptr_t)s);
  }
  return REAL(pthread_spin_destroy)(s);
}

WEFT_PUBLIC int pthread_spin_lock(pthread_spinlock_t *s) {
  if (!weft_on()) return REAL(pthread_spin_lock)(s);
  int r = REAL(pthread_spin_trylock)(s);
  if (WEFT_LIKELY(r == 0)) {
    weft_acq(WEFT_KIND_SPIN, WEFT_OP_LOCK, 0, s);
    return 0;
  }
  WeftWaitStart w;
  weft_wait_start(&w, 0);
  weft_announce(s);
  r = REAL(pthread_spin_trylock)(s);
  if (r == 0) {
    weft_unannounce(s);
    weft_acq(WEFT_KIND_SPIN, WEFT_OP_LOCK, 0, s);
    return 0;
  }
  wait_begin(&w, WEFT_KIND_SPIN, WEFT_OP_LOCK, s, 0);
  r = REAL(pthread_spin_lock)(s);
  wait_end(WEFT_KIND_SPIN, WEFT_OP_LOCK, r, s);
  return r;
}

WEFT_PUBLIC int pthread_spin_trylock(pthread_spinlock_t *s) {
  int r = REAL(pthread_spin_trylock)(s);
  if (weft_on()) weft_acq(WEFT_KIND_SPIN, WEFT_OP_TRY, r, s);
  return r;
}

WEFT_PUBLIC int pthread_spin_unlock(pthread_spinlock_t *s) {
  if (!weft_on()) return REAL(pthread_spin_unlock)(s);
  RELEASE(WEFT_KIND_SPIN, s, REAL(pthread_spin_unlock)(s));
}
