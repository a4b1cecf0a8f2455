/* weft-wrap-lock.c - mutexes, rwlocks and spinlocks.
 * SPDX-License-Identifier: MIT
 *
 * Every lock wrapper tries first: an uncontended acquisition writes one ACQ
 * record (16 bytes). Only when the try fails with EBUSY does it read the
 * holder (glibc keeps the owner's tid in the object), capture the stack, write
 * WAIT_BEGIN, block in the real call and write WAIT_END with its result.
 * Unlocks write REL before releasing, so a hand-off is ordered in the trace.
 * Return values and errno are the real function's; none of these functions is
 * a cancellation point. Async-signal-safe to the extent the real call is.
 */
#include "weft-agent-private.h"

/* glibc's own aliases (a non-default symbol version, bound explicitly): usable
 * even while dlsym is still resolving on this thread. */
#if defined(__x86_64__) && defined(__GLIBC__)
#define WEFT_COMPAT(local, sym) \
  extern __typeof__(pthread_mutex_lock) local; __asm__(".symver " #local "," #sym "@GLIBC_2.2.5");
WEFT_COMPAT(weft_compat_lock, __pthread_mutex_lock)
WEFT_COMPAT(weft_compat_trylock, __pthread_mutex_trylock)
WEFT_COMPAT(weft_compat_unlock, __pthread_mutex_unlock)
WEFT_COMPAT(weft_compat_destroy, __pthread_mutex_destroy)
extern int weft_compat_init(pthread_mutex_t *, const pthread_mutexattr_t *);
__asm__(".symver weft_compat_init,__pthread_mutex_init@GLIBC_2.2.5");
#define __pthread_mutex_lock weft_compat_lock
#define __pthread_mutex_trylock weft_compat_trylock
#define __pthread_mutex_unlock weft_compat_unlock
#define __pthread_mutex_destroy weft_compat_destroy
#define __pthread_mutex_init weft_compat_init
#else
#define __pthread_mutex_lock NULL
#define __pthread_mutex_trylock NULL
#define __pthread_mutex_unlock NULL
#define __pthread_mutex_destroy NULL
#define __pthread_mutex_init NULL
#endif

#define REAL_OR(name, fallback) (REAL(name) ? REAL(name) : (fallback))

static inline uint64_t holder_word(uint32_t holder, uint32_t stack) {
  return (uint64_t)holder | ((uint64_t)stack << 32);
}

static inline void acq(unsigned kind, unsigned op, int r, const volatile void *obj) {
  if (WEFT_UNLIKELY(_weft_proc.stacks == WEFT_STACKS_ALL) && (r == 0 || r == EOWNERDEAD)) {
    uint32_t st = _weft_stack_id();
    weft_emit3(WEFT_EV_ACQ, WEFT_AUX(kind, op, r), (uint64_t)(uintptr_t)obj, st, 0);
    return;
  }
  weft_emit1(WEFT_EV_ACQ, WEFT_AUX(kind, op, r), (uint64_t)(uintptr_t)obj);
}

static inline void wait_begin(unsigned kind, unsigned op, const volatile void *obj, uint32_t holder,
                              uint64_t obj2) {
  uint32_t st = weft_stack_contended();
  weft_emit3(WEFT_EV_WAIT_BEGIN, WEFT_AUX(kind, op, 0), (uint64_t)(uintptr_t)obj,
             holder_word(holder, st), obj2);
}

static inline void wait_end(unsigned kind, unsigned op, int r, const volatile void *obj) {
  weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(kind, op, r), (uint64_t)(uintptr_t)obj);
}

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
    weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), (uint64_t)(uintptr_t)m,
               mutex_attr_bits(a), st);
  }
  return r;
}

WEFT_PUBLIC int pthread_mutex_destroy(pthread_mutex_t *m) {
  if (weft_on()) weft_emit1(WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), (uint64_t)(uintptr_t)m);
  return REAL_OR(pthread_mutex_destroy, __pthread_mutex_destroy)(m);
}

WEFT_PUBLIC int pthread_mutex_lock(pthread_mutex_t *m) {
  if (!weft_on()) return REAL_OR(pthread_mutex_lock, __pthread_mutex_lock)(m);
  int r = REAL(pthread_mutex_trylock)(m);
  if (WEFT_LIKELY(r == 0)) {
    acq(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0, m);
    return 0;
  }
  if (r != EBUSY) {
    /* EOWNERDEAD, or an error trylock and lock agree on */
    if (r != EOWNERDEAD) r = REAL(pthread_mutex_lock)(m);
    acq(WEFT_KIND_MUTEX, WEFT_OP_LOCK, r, m);
    return r;
  }
  uint32_t owner = mutex_owner(m);
  if (WEFT_UNLIKELY(owner != 0 && owner == _weft_tls.tid && mutex_errorcheck(m))) {
    /* relocking an owned error-checking mutex fails at once: not a wait */
    r = REAL(pthread_mutex_lock)(m);
    acq(WEFT_KIND_MUTEX, WEFT_OP_LOCK, r, m);
    return r;
  }
  wait_begin(WEFT_KIND_MUTEX, WEFT_OP_LOCK, m, owner, 0);
  r = REAL(pthread_mutex_lock)(m);
  wait_end(WEFT_KIND_MUTEX, WEFT_OP_LOCK, r, m);
  return r;
}

WEFT_PUBLIC int pthread_mutex_trylock(pthread_mutex_t *m) {
  int r = REAL_OR(pthread_mutex_trylock, __pthread_mutex_trylock)(m);
  if (weft_on()) acq(WEFT_KIND_MUTEX, WEFT_OP_TRY, r, m);
  return r;
}

typedef int (*timed_mutex_fn)(pthread_mutex_t *, clockid_t, const struct timespec *);

static int mutex_timed(pthread_mutex_t *m, unsigned op, clockid_t clk, const struct timespec *ts) {
  int r;
  if (!weft_on())
    return op == WEFT_OP_TIMED ? REAL(pthread_mutex_timedlock)(m, ts)
                               : REAL(pthread_mutex_clocklock)(m, clk, ts);
  r = REAL(pthread_mutex_trylock)(m);
  if (r == 0 || r == EOWNERDEAD) {
    acq(WEFT_KIND_MUTEX, op, r, m);
    return r;
  }
  uint32_t owner = mutex_owner(m);
  if (WEFT_UNLIKELY(owner != 0 && owner == _weft_tls.tid && mutex_errorcheck(m))) {
    r = op == WEFT_OP_TIMED ? REAL(pthread_mutex_timedlock)(m, ts) : REAL(pthread_mutex_clocklock)(m, clk, ts);
    acq(WEFT_KIND_MUTEX, op, r, m);
    return r;
  }
  wait_begin(WEFT_KIND_MUTEX, op, m, owner, 0);
  r = op == WEFT_OP_TIMED ? REAL(pthread_mutex_timedlock)(m, ts)
                          : REAL(pthread_mutex_clocklock)(m, clk, ts);
  wait_end(WEFT_KIND_MUTEX, op, r, m);
  return r;
}

WEFT_PUBLIC int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts) {
  return mutex_timed(m, WEFT_OP_TIMED, CLOCK_REALTIME, ts);
}

WEFT_PUBLIC int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk, const struct timespec *ts) {
  return mutex_timed(m, WEFT_OP_CLOCK, clk, ts);
}

WEFT_PUBLIC int pthread_mutex_unlock(pthread_mutex_t *m) {
  if (!weft_on()) return REAL_OR(pthread_mutex_unlock, __pthread_mutex_unlock)(m);
  weft_emit1(WEFT_EV_REL, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), (uint64_t)(uintptr_t)m);
  int r = REAL(pthread_mutex_unlock)(m);
  /* a failed unlock (EPERM: not the owner) cancels the REL just written */
  if (WEFT_UNLIKELY(r != 0))
    weft_emit1(WEFT_EV_REL, WEFT_AUX(WEFT_KIND_MUTEX, 0, r), (uint64_t)(uintptr_t)m);
  return r;
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
  }
  return r;
}

WEFT_PUBLIC int pthread_rwlock_destroy(pthread_rwlock_t *l) {
  if (weft_on()) weft_emit1(WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_RWLOCK, 0, 0), (uint64_t)(uintptr_t)l);
  return REAL(pthread_rwlock_destroy)(l);
}

typedef int (*rw_try_fn)(pthread_rwlock_t *);

/* kind is RWLOCK_RD or RWLOCK_WR; op LOCK, TIMED or CLOCK */
static int rw_acquire(pthread_rwlock_t *l, unsigned kind, unsigned op, clockid_t clk,
                      const struct timespec *ts) {
  int rd = kind == WEFT_KIND_RWLOCK_RD;
#define RW_CALL()                                                                          \
  (op == WEFT_OP_LOCK   ? (rd ? REAL(pthread_rwlock_rdlock)(l) : REAL(pthread_rwlock_wrlock)(l)) \
   : op == WEFT_OP_TIMED ? (rd ? REAL(pthread_rwlock_timedrdlock)(l, ts)                      \
                               : REAL(pthread_rwlock_timedwrlock)(l, ts))                     \
                        : (rd ? REAL(pthread_rwlock_clockrdlock)(l, clk, ts)                  \
                              : REAL(pthread_rwlock_clockwrlock)(l, clk, ts)))
  if (!weft_on()) return RW_CALL();
  int r = rd ? REAL(pthread_rwlock_tryrdlock)(l) : REAL(pthread_rwlock_trywrlock)(l);
  if (WEFT_LIKELY(r == 0)) {
    acq(kind, op, 0, l);
    return 0;
  }
  if (r != EBUSY) {
    r = RW_CALL(); /* EDEADLK, EAGAIN: let the real call decide and report */
    acq(kind, op, r, l);
    return r;
  }
  uint32_t writer = rwlock_writer(l);
  if (WEFT_UNLIKELY(writer != 0 && writer == _weft_tls.tid)) {
    r = RW_CALL(); /* we hold it for writing: EDEADLK at once, not a wait */
    acq(kind, op, r, l);
    return r;
  }
  wait_begin(kind, op, l, writer, 0);
  r = RW_CALL();
  wait_end(kind, op, r, l);
  return r;
#undef RW_CALL
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
  if (weft_on()) acq(WEFT_KIND_RWLOCK_RD, WEFT_OP_TRY, r, l);
  return r;
}

WEFT_PUBLIC int pthread_rwlock_trywrlock(pthread_rwlock_t *l) {
  int r = REAL(pthread_rwlock_trywrlock)(l);
  if (weft_on()) acq(WEFT_KIND_RWLOCK_WR, WEFT_OP_TRY, r, l);
  return r;
}

WEFT_PUBLIC int pthread_rwlock_unlock(pthread_rwlock_t *l) {
  if (!weft_on()) return REAL(pthread_rwlock_unlock)(l);
  /* the writer's tid is in the lock while it is write-held */
  unsigned kind = rwlock_writer(l) == _weft_tls.tid && _weft_tls.tid ? WEFT_KIND_RWLOCK_WR
                                                                     : WEFT_KIND_RWLOCK_RD;
  weft_emit1(WEFT_EV_REL, WEFT_AUX(kind, 0, 0), (uint64_t)(uintptr_t)l);
  int r = REAL(pthread_rwlock_unlock)(l);
  if (WEFT_UNLIKELY(r != 0)) weft_emit1(WEFT_EV_REL, WEFT_AUX(kind, 0, r), (uint64_t)(uintptr_t)l);
  return r;
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
  if (weft_on()) weft_emit1(WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_SPIN, 0, 0), (uint64_t)(uintptr_t)s);
  return REAL(pthread_spin_destroy)(s);
}

WEFT_PUBLIC int pthread_spin_lock(pthread_spinlock_t *s) {
  if (!weft_on()) return REAL(pthread_spin_lock)(s);
  int r = REAL(pthread_spin_trylock)(s);
  if (WEFT_LIKELY(r == 0)) {
    acq(WEFT_KIND_SPIN, WEFT_OP_LOCK, 0, s);
    return 0;
  }
  wait_begin(WEFT_KIND_SPIN, WEFT_OP_LOCK, s, 0, 0);
  r = REAL(pthread_spin_lock)(s);
  wait_end(WEFT_KIND_SPIN, WEFT_OP_LOCK, r, s);
  return r;
}

WEFT_PUBLIC int pthread_spin_trylock(pthread_spinlock_t *s) {
  int r = REAL(pthread_spin_trylock)(s);
  if (weft_on()) acq(WEFT_KIND_SPIN, WEFT_OP_TRY, r, s);
  return r;
}

WEFT_PUBLIC int pthread_spin_unlock(pthread_spinlock_t *s) {
  if (!weft_on()) return REAL(pthread_spin_unlock)(s);
  weft_emit1(WEFT_EV_REL, WEFT_AUX(WEFT_KIND_SPIN, 0, 0), (uint64_t)(uintptr_t)s);
  return REAL(pthread_spin_unlock)(s);
}
