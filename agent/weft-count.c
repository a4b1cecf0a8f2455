/* weft-count.c - contention first: counters, timed holds and recorded releases.
 * SPDX-License-Identifier: MIT
 *
 * The hot paths are inline in weft-agent-private.h; this file has their slow
 * halves. What is recorded (trace version 3):
 *  - every wait, in full, as before (WAIT_BEGIN/END, holder, stack);
 *  - a release (REL) or signal (SIGNAL) only when a thread waits on the
 *    object, found through the object's announcement bucket; a REL carries the
 *    hold's length when its start was timed;
 *  - everything else as counts: per thread and object, acquisitions, failed
 *    tries, sem_post releases and a sample of uncontended hold lengths, written
 *    as COUNTS records at least every flush_ticks of the thread's work, at
 *    thread end, before exec, at destroy, and at process exit (then for the
 *    threads still running, on their behalf).
 * A hold's start is timed when it may have to be recorded: after a wait, when
 * someone waits on the object at the acquisition, with WEFT_HOLDS=all, and
 * one hold in hold_sample as a sample. A hold whose start was not timed and
 * that someone then waited for is written with length 0 (start unknown): the
 * importer bounds it with the first waiter's arrival.
 * Counter tables are the thread's own (no atomics on the hot path); another
 * thread reads them only at process exit or exec, after taking the table's
 * `flushing` word, which the owner takes too before it flushes or grows it.
 */
#include "weft-agent-private.h"

#include <string.h>
#include <sys/mman.h>

WeftBucket _weft_buckets[1u << WEFT_BUCKET_BITS];

#define COUNT_PROBE     8u    /* slots probed for a key */
#define COUNT_MAX_SLOTS 4096u /* beyond this, entries are written out and reused */

static void held_push(WeftThread *t, uint64_t obj, unsigned kind, uint64_t start, unsigned flags, uint64_t bw) {
  if (t->nheld >= WEFT_HELD_MAX) {
    t->held_over = 1;
    return;
  }
  WeftHeld *h = &t->held[t->nheld];
  h->obj = obj;
  h->start = start;
  h->kind = (uint16_t)kind;
  h->flags = (uint16_t)flags;
  h->arrivals = weft_bucket_arrivals(bw);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  t->nheld++;
}

/* ---- counters ---- */
WEFT_START_CODE static int flush_take(WeftThread *t, int how) {
  int expect = 0;
  return atomic_compare_exchange_strong(&t->flushing, &expect, how);
}

WEFT_START_CODE static void flush_give(WeftThread *t) { atomic_store(&t->flushing, 0); }

/* One COUNTS record for e (of thread t, written by the calling thread), then
 * e counts from zero (unless keep: a snapshot of another thread's entry,
 * which that thread may still be counting into). */
static void count_emit(WeftThread *t, WeftCount *e, int keep);
static void count_write(WeftThread *t, WeftCount *e) { count_emit(t, e, 0); }

static void count_emit(WeftThread *t, WeftCount *e, int keep) {
  if (!e->first) return;
  WeftThread *me = &_weft_tls;
  uint64_t now = weft_ticks();
  uint64_t *p = weft_reserve(me, 10, &now);
  if (p) {
    weft_enc_counts(p, e->key & ((1ull << 56) - 1), t->tid, e->acq, e->fail, e->rel, e->samples, e->sample_sum,
                    e->sample_max, e->first);
    weft_publish(me, p, WEFT_EV_COUNTS, 10, WEFT_AUX((unsigned)(e->key >> 56), 0, 0), now);
  }
  if (keep) return;
  e->acq = 0;
  e->fail = e->rel = e->samples = 0;
  e->sample_sum = e->sample_max = 0;
  e->first = 0;
  e->gen = ~0u; /* the next operation begins it again */
}

WEFT_START_CODE void _weft_counts_flush(WeftThread *t, int on_behalf) {
  if (!t->ctab) return;
  if (on_behalf == WEFT_FLUSH_SNAPSHOT) { /* before an exec, which may fail: leave them as they are */
    if (!flush_take(t, 1)) return;
    for (uint32_t i = 0; i <= t->cmask; i++) count_emit(t, &t->ctab[i], 1);
    flush_give(t);
    return;
  }
  if (!flush_take(t, on_behalf ? 2 : 1)) return;
  for (uint32_t i = 0; i <= t->cmask; i++) count_write(t, &t->ctab[i]);
  if (!on_behalf) {
    t->dirty = 0;
    t->last_flush = weft_ticks();
    flush_give(t);
  }
}

/* At most once a millisecond (a thread may poll or read in a loop); never
 * in a vfork child (it shares the parent's memory: touch nothing). */
void _weft_wait_flush(WeftThread *t) {
  uint64_t now = weft_ticks();
  if (now - t->last_flush >= _weft_proc.ticks_per_ms && !_weft_is_vfork_child()) _weft_counts_flush(t, 0);
}

/* e starts counting (again): a new life of the object (bucket generation
 * changed: write what it counted of the old one first) or its first
 * operation since the last COUNTS. */
void _weft_count_begin(WeftThread *t, WeftCount *e, uint32_t gen) {
  if (e->first && flush_take(t, 1)) {
    count_write(t, e);
    flush_give(t);
  }
  /* the thread is using the object now: a process-shared one is named once */
  weft_shared_check((unsigned)(e->key >> 56), (const void *)(uintptr_t)(e->key & ((1ull << 56) - 1)));
  e->gen = gen;
  e->first = weft_ticks();
  t->dirty = 1;
}

void _weft_acquired_slow(WeftThread *t, unsigned kind, const volatile void *obj, uint64_t bw) {
  WeftCount *e = weft_count(t, obj, kind);
  uint32_t n = e ? (uint32_t)weft_xinc64(&e->acq) : 0, m = _weft_proc.tick_mask;
  if (((n & m) == m) | ((uint32_t)bw != 0)) _weft_acquired_timed(t, kind, obj, (n & m) == m, bw);
}

static WeftCount *table_new(uint32_t n) {
  void *m = mmap(NULL, (size_t)n * sizeof(WeftCount), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return m == MAP_FAILED ? NULL : m;
}

/* Probe for key; *slot is the first free (or, with evict, the first probed)
 * slot when it is not there. */
static WeftCount *probe(WeftCount *tab, uint32_t mask, uint64_t key, WeftCount **slot) {
  uint32_t i = weft_count_slot(key, mask);
  uint32_t n = mask + 1 < COUNT_PROBE ? mask + 1 : COUNT_PROBE;
  *slot = NULL;
  for (uint32_t k = 0; k < n; k++) {
    WeftCount *e = &tab[(i + k) & mask];
    if (e->key == key) return e;
    if (!e->key && !*slot) *slot = e;
  }
  return NULL;
}

static WeftCount *find_slow(WeftThread *t, uint64_t key);

/* A bigger table (the entries move; the old one is unmapped unless inline). */
static int table_grow(WeftThread *t) {
  uint32_t n = (t->cmask + 1) * 8;
  if (n > COUNT_MAX_SLOTS) n = COUNT_MAX_SLOTS;
  if (n <= t->cmask + 1) return -1;
  WeftCount *nt = table_new(n);
  if (!nt) return -1;
  WeftCount *old = t->ctab;
  uint32_t oldn = t->cmask + 1;
  for (uint32_t i = 0; i < oldn; i++) {
    if (!old[i].key) continue;
    WeftCount *slot;
    if (probe(nt, n - 1, old[i].key, &slot) || !slot) { /* cannot happen at 8x the size; keep it anyway */
      count_write(t, &old[i]);
      t->cused--;
      continue;
    }
    *slot = old[i];
  }
  t->ctab = nt;
  t->cmask = n - 1;
  if (old != t->cinline) munmap(old, (size_t)oldn * sizeof(WeftCount));
  return 0;
}

WeftCount *_weft_count_find_slow(WeftThread *t, uint64_t key) {
  int saved = errno;
  WeftCount *r = find_slow(t, key);
  errno = saved;
  return r;
}

static WeftCount *find_slow(WeftThread *t, uint64_t key) {
  if (!t->ctab) {
    t->ctab = t->cinline;
    t->cmask = WEFT_COUNT_INLINE - 1;
  }
  WeftCount *slot, *e = probe(t->ctab, t->cmask, key, &slot);
  if (e) return e;
  if (!flush_take(t, 1)) return NULL; /* the process is ending (or a handler interrupted a flush) */
  weft_busy_enter();
  /* grow before half full: a displaced key costs every acquisition a probe */
  if ((!slot || 2 * (t->cused + 1) > t->cmask + 1) && table_grow(t) == 0) {
    e = probe(t->ctab, t->cmask, key, &slot);
  }
  if (!e && !slot) { /* full around here: write one out and take its slot */
    slot = &t->ctab[weft_count_slot(key, t->cmask)];
    weft_busy_leave();
    count_write(t, slot);
    weft_busy_enter();
  }
  if (!e) {
    memset(slot, 0, sizeof *slot);
    slot->gen = ~0u;
    if (!slot->key) t->cused++;
    slot->key = key;
    e = slot;
  }
  weft_busy_leave();
  flush_give(t);
  return e;
}

void _weft_count_destroy(unsigned kind, const volatile void *obj) {
  WeftThread *t = &_weft_tls;
  /* this thread's counts of the object go out before its DESTROY; other
   * threads see the new generation at their next operation on the address */
  if (t->ctab) {
    WeftCount *slot;
    static const unsigned kinds[] = {WEFT_KIND_RWLOCK_RD, WEFT_KIND_RWLOCK_WR};
    unsigned n = kind == WEFT_KIND_RWLOCK ? 2 : 1;
    for (unsigned i = 0; i < n; i++) {
      WeftCount *e = probe(t->ctab, t->cmask, weft_count_key(obj, n == 2 ? kinds[i] : kind), &slot);
      if (e && flush_take(t, 1)) {
        count_write(t, e);
        flush_give(t);
      }
    }
  }
  atomic_fetch_add_explicit(&weft_bucket(obj)->word, 1ull << 32, memory_order_seq_cst);
}

/* A new thread, or the forking thread in a fork child: counting starts
 * again in the inline table (a child leaves its copy of a bigger table
 * untouched: clearing it would copy its pages). */
WEFT_START_CODE void _weft_count_reset(WeftThread *t) {
  t->ctab = NULL;
  t->cmask = 0;
  memset(t->cinline, 0, sizeof t->cinline);
  t->cused = 0;
  t->nheld = 0;
  t->held_over = 0;
  t->flush_due = 0;
  t->dirty = 0;
  t->last_flush = 0;
  atomic_store(&t->flushing, 0);
}

void _weft_count_thread_free(WeftThread *t) {
  if (!flush_take(t, 1)) return;
  WeftCount *old = t->ctab;
  if (old && old != t->cinline) munmap(old, (size_t)(t->cmask + 1) * sizeof(WeftCount));
  t->ctab = NULL;
  t->cmask = 0;
  t->cused = 0;
  flush_give(t);
}

/* ---- timed acquisitions ---- */
/* Write the counters when they are due (the first check only sets the time). */
static void flush_check(WeftThread *t, uint64_t now) {
  if (now < t->flush_due) return;
  if (t->flush_due) _weft_counts_flush(t, 0);
  t->flush_due = now + _weft_proc.flush_ticks;
}

/* tick: this acquisition is the object's sample (and the flush check) */
void _weft_acquired_timed(WeftThread *t, unsigned kind, const volatile void *obj, int tick, uint64_t bw) {
  uint64_t now = weft_ticks();
  unsigned flags = _weft_proc.holds_all ? WEFT_HELD_RECORD : 0;
  if (tick) {
    if (_weft_proc.hold_sample) flags |= WEFT_HELD_SAMPLE;
    flush_check(t, now);
  }
  if (weft_is_hold(kind)) held_push(t, (uint64_t)(uintptr_t)obj, kind, now, flags, bw);
}

void _weft_acquired_all(unsigned kind, const volatile void *obj) {
  WeftThread *t = &_weft_tls;
  WeftCount *e = weft_count(t, obj, kind);
  uint32_t n = e ? (uint32_t)weft_xinc64(&e->acq) : 0, m = _weft_proc.tick_mask;
  _weft_acquired_timed(t, kind, obj, (n & m) == m, atomic_load_explicit(&weft_bucket(obj)->word, memory_order_seq_cst));
}

void _weft_acquired_recorded(unsigned kind, const volatile void *obj, uint64_t at) {
  WeftThread *t = &_weft_tls;
  WeftCount *e = weft_count(t, obj, kind);
  if (e) weft_inc64(&e->acq);
  if (weft_is_hold(kind))
    held_push(t, (uint64_t)(uintptr_t)obj, kind, at, WEFT_HELD_RECORD,
              atomic_load_explicit(&weft_bucket(obj)->word, memory_order_seq_cst));
  flush_check(t, at);
}

/* ---- releases ---- */
static int is_recursive_inner(unsigned kind, const volatile void *obj) {
#ifdef __GLIBC__
  if (kind != WEFT_KIND_MUTEX) return 0;
  const pthread_mutex_t *m = (const pthread_mutex_t *)obj;
  int type = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) & 3;
  return type == PTHREAD_MUTEX_RECURSIVE && __atomic_load_n(&m->__data.__count, __ATOMIC_RELAXED) > 1;
#else
  (void)kind;
  (void)obj;
  return 0;
#endif
}

/* A late REL (written after the call returned, at the current tick): three
 * words. */
static void rel_write_late(unsigned kind, const volatile void *obj, uint64_t start) {
  WeftThread *t = &_weft_tls;
  uint64_t now = weft_ticks();
  uint64_t *p = weft_reserve(t, 3, &now);
  if (!p) return;
  p[1] = (uint64_t)(uintptr_t)obj;
  p[2] = weft_enc_rel_w2(weft_enc_hold_len1(start, now), 1);
  weft_publish(t, p, WEFT_EV_REL, 3, WEFT_AUX(kind, 0, 0), now);
}

/* The REL of a release about to happen, stamped now and reserved (so that it
 * comes before the acquisition of the thread the lock goes to), its words
 * written after the release (weft_release_post): the first touch of a fresh
 * trace page costs microseconds, not to be spent holding the lock. Two words
 * for a short timed hold (most of them, so a hot lock's RELs cost 16 bytes),
 * else three; three are reserved and one given back. */
static void rel_prepare(WeftThread *t, unsigned kind, const volatile void *obj, uint64_t start, WeftRelease *r) {
  uint64_t now = weft_ticks(), o = (uint64_t)(uintptr_t)obj;
  uint64_t *p = weft_reserve(t, 3, &now); /* now moves if it had work to do: the hold lasts until then */
  r->p = p;
  if (!p) return;
  t->pending_at = now;
  uint64_t len1 = weft_enc_hold_len1(start, now);
  if (weft_enc_rel_fits_held(o, len1) && t->pos == p + 3) {
    t->pos = p + 2;
    t->pending_n = 2;
    t->pending_aux = WEFT_AUX(kind, WEFT_OP_HELD, 0);
    t->pending_w1 = weft_enc_rel_held_w1(o, len1);
  } else {
    t->pending_n = 3;
    t->pending_aux = WEFT_AUX(kind, 0, 0);
    t->pending_w1 = o;
    t->pending_w2 = weft_enc_rel_w2(len1, 0);
  }
  t->pending_end = t->end;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  t->pending = p;
  t->end = t->pos;
}

/* The open REL as a skipped one (result EINTR, dt 0: the records after it
 * were stamped against the one before it), its chunk's end given back. */
void _weft_pending_abandon(WeftThread *t) {
  uint64_t *p = t->pending;
  p[1] = t->pending_w1;
  if (t->pending_n == 3) p[2] = t->pending_w2;
  weft_enc_publish(p, WEFT_EV_REL, t->pending_n, t->pending_aux | WEFT_AUX(0, 0, EINTR), 0);
  t->end = t->pending_end;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  t->pending = NULL;
}

void _weft_release_publish(WeftRelease *r, int err, int called) {
  WeftThread *t = &_weft_tls;
  uint64_t *p = r->p;
  r->p = NULL;
  if (t->pending != p) return; /* a signal handler wrote meanwhile: written as skipped */
  t->end = t->pending_end;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  t->pending = NULL;
  p[1] = t->pending_w1;
  if (t->pending_n == 3) p[2] = t->pending_w2;
  /* a failed release released nothing: the reader skips a REL with a result */
  weft_publish(t, p, WEFT_EV_REL, t->pending_n, t->pending_aux | WEFT_AUX(0, 0, (unsigned)err & 0xff), t->pending_at);
  /* called: the release call returned; what it took is waking the waiters (a what-if that removes
   * the wait removes this too) */
  if (called && r->waited && !err) weft_emit1(WEFT_EV_UNLOCK_COST, 0, weft_ticks() - t->pending_at);
}

/* Did someone wait during this hold (bw: the bucket word now)? A plain
 * mutex says so itself: glibc's lock word is 2 once a thread found it taken
 * and went to sleep on it, and stays 1 while the waiters sleep on (woken by
 * an earlier release, not yet running, or not woken yet) and others take it
 * in turn without waiting (the lock word protocol of lowlevellock.h: 0 free,
 * 1 taken, 2 taken and maybe waited for). So with waiters announced, a hold
 * of a plain mutex is recorded when the word is 2, or when a waiter arrived
 * during it (it may not have set the word yet); holds that sleeping waiters
 * did not contend are not. Other objects (and robust, PI and PP mutexes,
 * whose word holds the owner's tid): whenever waiters are announced. */
static int someone_waited(unsigned kind, const volatile void *obj, const WeftHeld *h, uint64_t bw) {
  if ((uint32_t)bw == 0) return weft_shared_waiters(kind, obj);
#ifdef __GLIBC__
  if (kind == WEFT_KIND_MUTEX) {
    const pthread_mutex_t *m = (const pthread_mutex_t *)obj;
    int k = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
    if ((k & (16 | 32 | 64)) == 0) /* glibc's __kind bits: robust 16, PI 32, PP 64 (pthreadP.h) */
      return __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) > 1 || !h || h->arrivals != weft_bucket_arrivals(bw);
  }
#else
  (void)kind;
  (void)obj;
  (void)h;
#endif
  return 1;
}

static void sample_add(WeftThread *t, unsigned kind, const volatile void *obj, uint64_t start) {
  uint64_t d = weft_ticks() - start;
  WeftCount *e = weft_count(t, obj, kind);
  if (!e) return;
  weft_inc32(&e->samples);
  e->sample_sum += d;
  if (d > e->sample_max) e->sample_max = d;
}

void _weft_release_slow(WeftThread *t, unsigned kind, const volatile void *obj, WeftRelease *r) {
  uint64_t o = (uint64_t)(uintptr_t)obj;
  int found = -1, more = 0;
  for (int i = (int)t->nheld - 1; i >= 0; i--)
    if (t->held[i].obj == o) {
      if (found < 0)
        found = i;
      else
        more = 1;
    }
  WeftHeld h = {0, 0, 0, 0, 0};
  if (found >= 0) {
    h = t->held[found];
    for (uint32_t i = (uint32_t)found; i + 1 < t->nheld; i++) t->held[i] = t->held[i + 1];
    t->nheld--;
    if (t->nheld == 0) t->held_over = 0;
  }
  if (more || (found < 0 && !t->held_over && is_recursive_inner(kind, obj))) {
    r->done = 1; /* the lock is still held: not a release */
    return;
  }
  r->start = h.start;
  int waited = someone_waited(kind, obj, found >= 0 ? &h : NULL, r->bw);
  if ((h.flags & WEFT_HELD_RECORD) || t->held_over || waited) {
    rel_prepare(t, kind, obj, h.start, r);
    r->done = 1;
    r->waited = waited;
  } else if (h.flags & WEFT_HELD_SAMPLE) {
    sample_add(t, kind, obj, h.start);
  }
}

void _weft_release_late(WeftThread *t, unsigned kind, const volatile void *obj, WeftRelease *r) {
  (void)t;
  rel_write_late(kind, obj, r->start);
  r->done = 1;
}
