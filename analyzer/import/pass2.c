/* pass2.c - pass 2: one state machine per thread.
 * SPDX-License-Identifier: MIT
 *
 * Every record of the file again, now that pass 1 knows its threads and
 * objects: each thread's state (running, or waiting on what) becomes
 * thread_state intervals; acquisitions and releases become lock holds
 * (hold-rows.c stores them); and each wait that ended is resolved against
 * pass 1's timelines to who ended it - the release that let a waiter in, the
 * signal that woke it, the last arrival of its barrier round, the thread it
 * joined - a flow row and the interval's waker. Once the file is read, every
 * thread's open wait and holds end with it.
 */
#include "config.h"

#include <errno.h>

#include "import-private.h"

/* ---- states ---- */
static int wait_state(int kind) {
  switch (kind) {
    case WEFT_KIND_MUTEX: return WEFT_ST_LOCK_WAIT;
    case WEFT_KIND_RWLOCK_RD:
    case WEFT_KIND_RWLOCK_WR:
    case WEFT_KIND_RWLOCK: return WEFT_ST_RWLOCK_WAIT;
    case WEFT_KIND_SPIN: return WEFT_ST_SPIN_WAIT;
    case WEFT_KIND_COND: return WEFT_ST_COND_WAIT;
    case WEFT_KIND_BARRIER: return WEFT_ST_BARRIER_WAIT;
    case WEFT_KIND_SEM: return WEFT_ST_SEM_WAIT;
    case WEFT_KIND_JOIN: return WEFT_ST_JOIN_WAIT;
    case WEFT_KIND_CHILD: return WEFT_ST_CHILD_WAIT;
    case WEFT_KIND_POLL:
    case WEFT_KIND_READ: return WEFT_ST_IO_WAIT;
    case WEFT_KIND_SLEEP: return WEFT_ST_SLEEP;
    case WEFT_KIND_MPI: return WEFT_ST_MPI_WAIT;
    case WEFT_KIND_FUTEX: return WEFT_ST_FUTEX_WAIT;
    default: return WEFT_ST_LOCK_WAIT;
  }
}

int imp_flow(Imp *im, int kind, int64_t from_utid, int64_t from_ns, int64_t to_utid, int64_t to_ns, int64_t obj) {
  if (!from_utid || !to_utid || from_ns > to_ns) return 0;
  int64_t row[7] = {++im->next_flow, kind, from_utid, from_ns, to_utid, to_ns, obj};
  imp_batch_add(im, &im->flows, row, 1u << 6); /* object: NULL when 0 */
  return im->sql.failed ? -1 : 0;
}

/* Emit the current interval of t up to ns (if not empty) and start `state` there. */
static void set_state(Imp *im, Thr *t, int64_t ns, int state, int result, int64_t waker) {
  if (ns < t->st_start) ns = t->st_start;
  if (ns > t->st_start) {
    int w = t->st != WEFT_ST_RUNNING;
    /* the ids in 32 bits; NULL (0) where <= 0, as thread_state has them */
    int64_t ids[4] = {w && t->wobj ? t->wobj->id : 0,
                      w ? (t->gil_holder ? t->gil_holder : utid_at(im, t->blocker_tid, t->st_start)) : 0, w ? waker : 0,
                      w ? t->wstack : 0};
    uint64_t any = (uint64_t)t->utid;
    for (int k = 0; k < 4; k++) any |= (uint64_t)(ids[k] = ids[k] > 0 ? ids[k] : 0);
    if (any > UINT32_MAX) {
      imp_fail(im, "the thread states: an id past 2^32");
    } else {
      StateRow *r = weft_spill_add(im->state_spill);
      if (r) {
        *r = (StateRow){t->st_start,      ns - t->st_start, (uint32_t)t->utid, (uint32_t)ids[0], (uint32_t)ids[1],
                        (uint32_t)ids[2], (uint32_t)ids[3], (int16_t)result,   (uint8_t)t->st};
        t->nstates++;
      } else {
        imp_fail(im, "the thread states: %s", weft_spill_error(im->state_spill));
      }
    }
    if (t->st != WEFT_ST_RUNNING && t->wobj) t->wobj->wait_ns += ns - t->st_start;
  }
  t->st = state;
  t->st_start = ns;
}

/* ---- holds ---- */
static void hold_emit(Imp *im, Thr *t, Hold *h, int64_t end) {
  hold_row(im, t->utid, h->o, h->start, end, h->contended, h->shared, 0);
}

/* A hold begins (a recorded acquisition: every one before trace v3; after a
 * wait, an ACQ that must be recorded, or a condvar's mutex taken again in v3,
 * where the COUNTS records count the acquisitions). */
static void hold_begin(Imp *im, Thr *t, Obj *o, int64_t ns, int contended, int shared) {
  if (!im->v3) o->acquisitions++;
  if (contended) o->contended++;
  if (!is_lock(o->kind)) return;
  for (guint i = t->holds->len; i-- > 0;) {
    Hold *h = &g_array_index(t->holds, Hold, i);
    if (h->o == o) { /* recursive mutex, or read lock taken twice */
      h->depth++;
      return;
    }
  }
  Hold h = {o->id, o, ns, contended, shared, 1};
  g_array_append_val(t->holds, h);
}

/* Ends t's open hold of o at ns; 0 when it had none. */
static int hold_end(Imp *im, Thr *t, Obj *o, int64_t ns) {
  for (guint i = t->holds->len; i-- > 0;) {
    Hold *h = &g_array_index(t->holds, Hold, i);
    if (h->o != o) continue;
    if (--h->depth > 0) return 1;
    hold_emit(im, t, h, ns);
    g_array_remove_index(t->holds, i);
    return 1;
  }
  return 0;
}

/* Trace v3: a REL of a hold whose acquisition was not recorded (someone
 * waited for it). len_ns: its length when its start was timed (-1 not). Not
 * timed: it is known to have begun before the first wait for it by another
 * thread (that began after the previous release of the object), which is
 * where it starts, marked estimated. */
static void hold_untimed(Imp *im, Thr *t, Obj *o, int64_t ns, int64_t len_ns, int shared) {
  if (!is_lock(o->kind)) return;
  if (len_ns >= 0) {
    hold_row(im, t->utid, o, ns - len_ns, ns, 0, shared, 0);
    return;
  }
  int64_t start = ns; /* the first wait for it since the object's previous release (waitstarts.c) */
  hold_start_find(im, t, o, ns, &start);
  hold_row(im, t->utid, o, start, ns, 0, shared, 1);
}

/* ---- who ended a wait ---- */
/* The release (or signal) that ended a wait of utid that began at lo and
 * ended at ns: the last stamp of another thread at or before ns (and, with
 * lo > INT64_MIN, at or after lo), else in trace v3 the first one written
 * just after the call returned (late, within LATE_NS after ns): 1 and *s,
 * whose time *at is, no later than ns; 0 none. */
#define LATE_NS        1000000
#define FUTEX_EARLY_NS 20000 /* a futex wake before the wait's WAIT_BEGIN: its time read before its call */
static int release_for(Imp *im, Stamps *v, int64_t lo, int64_t ns, int64_t utid, int64_t *at, Stamp *s) {
  if (last_before(im, v, lo, ns, utid, s)) {
    *at = s->ns;
    return 1;
  }
  if (!im->v3 || !v->len) return 0;
  for (guint a = stamps_upper(im, v, ns); a < v->len; a++) {
    *s = stamp_get(im, v, a);
    if (s->ns > ns + LATE_NS) break;
    if (s->late && s->utid != utid) {
      *at = ns;
      return 1;
    }
  }
  return 0;
}

/* The thread that ended t's wait on o (ok: it succeeded) at ns, 0 none;
 * *from_ns is when, and *fk the kind of flow from it (0 none). */
static int64_t wait_waker(Imp *im, Thr *t, Obj *o, int ok, int64_t ns, int64_t *from_ns, int *fk) {
  int64_t waker = 0;
  Stamp s;
  /* v3 records releases only when someone waits: one long before this
   * wait was not for it (a REL is timed before the unlock, so it can come
   * a little before the waiter's WAIT_BEGIN) */
  int64_t lo = im->v3 ? t->wbegin - LATE_NS : INT64_MIN;
  if (o && ok && is_lock(o->kind)) {
    /* the release that let it in: the last one before */
    if (release_for(im, &o->rel, lo, ns, t->utid, from_ns, &s)) {
      waker = s.utid;
      *fk = WEFT_FLOW_LOCK_HANDOFF;
    } else if (im->v3 && t->blocker_tid) {
      /* the holder's release was not seen (it raced the announcement):
       * it happened before the waiter got the lock */
      waker = utid_at(im, t->blocker_tid, t->wbegin);
      *from_ns = ns;
      *fk = waker && waker != t->utid ? WEFT_FLOW_LOCK_HANDOFF : 0;
      im->releases_missing++;
    }
  } else if (o && ok && o->kind == WEFT_KIND_COND) {
    if (release_for(im, &o->sig, t->wbegin, ns, t->utid, from_ns, &s)) {
      waker = s.utid;
      *fk = WEFT_FLOW_WAKEUP;
    }
  } else if (o && ok && o->kind == WEFT_KIND_FUTEX) {
    /* the wake that woke it: the last that woke someone since its wait began, else one written late (its
     * record's time moved past the wake), else one a little before the wait began (a wake is timed before
     * its call: it can precede the waiter's WAIT_BEGIN); not the wake of a round before */
    if (release_for(im, &o->sig, t->wbegin, ns, t->utid, from_ns, &s) ||
        release_for(im, &o->sig, t->wbegin - FUTEX_EARLY_NS, ns, t->utid, from_ns, &s)) {
      waker = s.utid;
      *fk = WEFT_FLOW_WAKEUP;
    }
  } else if (o && ok && o->kind == WEFT_KIND_SEM) {
    if (release_for(im, &o->rel, lo, ns, t->utid, from_ns, &s)) {
      waker = s.utid;
      *fk = WEFT_FLOW_SEM_POST;
    }
  } else if (o && o->kind == WEFT_KIND_BARRIER) {
    int64_t rel_utid, rel_at;
    if (barrier_round(im, t, o, t->wbegin, &rel_utid, &rel_at) && rel_utid != t->utid) {
      waker = rel_utid;
      *from_ns = rel_at;
      *fk = WEFT_FLOW_BARRIER;
    }
  } else if (t->wkind == WEFT_KIND_JOIN && ok) {
    /* the thread with that pthread_t alive when the join returned: it may
     * have started only after the join began (pthread_t are reused only
     * once joined, so no later thread can have it yet) */
    Thr *j = thr_by_self_at(im, t->waddr, ns);
    if (j) {
      waker = j->utid;
      *from_ns = j->end_ns;
      *fk = WEFT_FLOW_JOIN;
      if (!t->blocker_tid) t->blocker_tid = j->tid; /* the agent forgets threads that ended */
    }
  }
  return waker;
}

/* An OpenMP worker's wait since its region's function returned (w3 its team's
 * dock), ending at ns (its next region, or its end): the region's barrier
 * until the round's last arrival, where the region ended, then a wait at
 * the dock (a cond wait, woken by the master's signal at its next region).
 * The barrier part's flow is written here; *waker, *from_ns and *fk are for
 * what ends at ns. 0: not such a wait (or its round unknown). */
static int omp_wait_end(Imp *im, Thr *t, int ok, int64_t ns, int64_t *waker, int64_t *from_ns, int *fk) {
  Obj *o = t->wobj;
  int64_t rel_utid, rel_at;
  if (!o || !o->omp || o->kind != WEFT_KIND_BARRIER || !t->wobj2) return 0;
  if (!barrier_round(im, t, o, t->wbegin, &rel_utid, &rel_at)) return 0;
  /* (the last to arrive: a barrier wait of 1 ns, so that the round has its whole team) */
  if (rel_at <= t->wbegin) rel_at = t->wbegin + 1;
  Obj *dock = rel_at < ns ? obj_find(im, t->wobj2, WEFT_KIND_COND, rel_at) : NULL;
  int64_t by = rel_utid != t->utid ? rel_utid : 0;
  if (!dock) { /* no time at the dock: the barrier's wait alone */
    *waker = by;
    *from_ns = rel_at;
    *fk = by ? WEFT_FLOW_BARRIER : 0;
    return 1;
  }
  set_state(im, t, rel_at, WEFT_ST_COND_WAIT, 0, by);
  if (by) imp_flow(im, WEFT_FLOW_BARRIER, by, rel_at, t->utid, rel_at, o->id);
  t->wobj = dock;
  t->wkind = WEFT_KIND_COND;
  t->waddr = t->wobj2;
  t->wobj2 = 0;
  t->blocker_tid = 0;
  t->wstack = 0;
  t->wbegin = rel_at;
  *waker = wait_waker(im, t, dock, ok, ns, from_ns, fk);
  return 1;
}

/* ---- the records ---- */
static void on_release(Imp *im, Thr *t, const WeftEvent *ev, unsigned kind, unsigned res, int64_t ns) {
  const uint64_t *w = ev->w;
  Obj *o = obj_find(im, weft_rel_addr(ev->aux, w[1]), (int)kind, ns);
  if (!o || res != 0) return;
  int late;
  uint64_t len = weft_rel_len1(ev->aux, ev->nwords, w, &late);
  if (o->shared && (is_lock(o->kind) || o->kind == WEFT_KIND_SEM)) { /* for the waits of every process */
    SharedRel x = {im->p->host, o->id, ns, t->utid, late};
    g_array_append_val(im->shared_rels, x);
  }
  if (!hold_end(im, t, o, ns) && im->v3) {
    int64_t len_ns =
        len ? (int64_t)(ev->ns - weft_trace_ticks_to_ns_near(im->tr, ev->tsc - (len - 1), &im->tick_hint)) : -1;
    hold_untimed(im, t, o, ns, len_ns, kind == WEFT_KIND_RWLOCK_RD);
  }
}

/* The flow that links a wait on a process-shared object of kind k to the release, post or signal
 * that ended it, of any process (link_shared). */
static int shared_flow(int k) {
  return is_lock(k)            ? WEFT_FLOW_LOCK_HANDOFF
         : k == WEFT_KIND_SEM  ? WEFT_FLOW_SEM_POST
         : k == WEFT_KIND_COND ? WEFT_FLOW_WAKEUP
                               : 0;
}

/* A signal of a process-shared condition variable: for the waits of every process (link_shared). */
static void on_signal(Imp *im, Thr *t, const WeftEvent *ev, unsigned kind, int64_t ns) {
  Obj *o = obj_find(im, ev->w[1], (int)kind, ns);
  if (!o || !o->shared || o->kind != WEFT_KIND_COND) return;
  SharedRel x = {im->p->host, o->id, ns, t->utid, im->v3 && ev->nwords >= 3 && (ev->w[2] & WEFT_REL_LATE)};
  g_array_append_val(im->shared_rels, x);
}

static void on_wait_begin(Imp *im, Thr *t, const WeftEvent *ev, unsigned kind, unsigned op, int64_t ns) {
  const uint64_t *w = ev->w;
  if (t->st != WEFT_ST_RUNNING) set_state(im, t, ns, WEFT_ST_RUNNING, 0, 0);
  Obj *wo = obj_find(im, w[1], (int)kind, ns);
  set_state(im, t, ns, wo && wo->gil ? WEFT_ST_GIL_WAIT : wait_state((int)kind), 0, 0);
  t->wobj = wo;
  t->gil_holder = wo && wo->gil ? gil_wait_begin(im, t, wo, op, w[3], ns) : 0;
  t->wkind = (int)kind;
  t->wop = (int)op;
  t->waddr = w[1];
  t->wobj2 = w[3];
  t->blocker_tid = (uint32_t)w[2];
  t->wstack = stack_global(im, w[2] >> 32);
  t->wbegin = ns;
}

static void on_wait_end(Imp *im, Thr *t, const WeftEvent *ev, unsigned res, int64_t ns) {
  const uint64_t *w = ev->w;
  if (t->st == WEFT_ST_RUNNING) return; /* an end without a begin (cut trace): ignore */
  Obj *o = t->wobj;
  int64_t from_ns = 0;
  int fk = 0;
  int ok = res == 0 || res == EOWNERDEAD;
  /* a process-shared mutex's, semaphore's or condition variable's waits: the release or signal that
   * ended one may be another process's, later than the last of this one's: once every file is read
   * (link_shared) */
  int shared = o && o->shared ? shared_flow(o->kind) : 0;
  int64_t waker = 0;
  if (!shared && omp_wait_end(im, t, ok, ns, &waker, &from_ns, &fk))
    o = t->wobj; /* (the dock, when split) */
  else if (!shared)
    waker = wait_waker(im, t, o, ok, ns, &from_ns, &fk);
  if (o && ok && (is_lock(o->kind) || o->kind == WEFT_KIND_SEM))
    hold_begin(im, t, o, ns, 1, t->wkind == WEFT_KIND_RWLOCK_RD);
  if (ev->nwords >= 5 && (uint32_t)w[4] && !t->wstack) /* trace v4: written after it ended, a Python */
    t->wstack = stack_global(im, (uint32_t)w[4]);      /* thread's wait names its stack here */
  if (t->wkind == WEFT_KIND_MPI) mpi_wait_end(im, t, t->wbegin, ns);
  set_state(im, t, ns, WEFT_ST_RUNNING, (int)res, waker);
  if (fk && from_ns <= ns) imp_flow(im, fk, waker, from_ns, t->utid, ns, o ? o->id : 0);
  /* (EOWNERDEAD: no release ended a lock wait, its holder died; a condition variable's wait was
   * ended by a signal all the same, its mutex's holder died) */
  if (shared && (res == 0 || (res == EOWNERDEAD && o->kind == WEFT_KIND_COND))) {
    SharedWait x = {im->p->host, o->id, t->utid, t->wbegin, ns, shared};
    g_array_append_val(im->shared_waits, x);
  }
  if ((t->wkind == WEFT_KIND_READ || t->wkind == WEFT_KIND_POLL) && ok && ev->nwords >= 4 && w[3]) {
    ChanWait cw = {w[3], t->wbegin, ns, t->utid, o ? o->id : 0, 0, t->wkind == WEFT_KIND_POLL};
    pipe_wait_add(im, &cw); /* linked once every file is read */
  }
  t->wobj = NULL;
  t->gil_holder = 0;
}

int imp_pass2(const WeftEvent *ev, void *user) {
  Imp *im = user;
  int64_t ns = rel_ns(im, ev->ns);
  Thr *t = thr_cur(im, ev->tid);
  if (!t) return 0;
  if (ev->type == WEFT_EV_THREAD_START) {
    if (t->started2 && t->next_same_tid) { /* the tid was reused: the next thread of the chain */
      t = t->next_same_tid;
      g_hash_table_insert(im->thr_by_tid, GUINT_TO_POINTER(ev->tid), t);
      im->tc_thr = NULL;
    }
    t->started2 = 1;
  }
  im->records_done++;
  if ((im->records_done & 0xfffff) == 0) imp_progress(im, "building the timeline");
  if (ns > t->end_ns) ns = t->end_ns; /* records after the thread's end (it ended the process) */
  unsigned kind = WEFT_AUX_KIND(ev->aux), op = WEFT_AUX_OP(ev->aux), res = WEFT_AUX_RESULT(ev->aux);
  switch (ev->type) {
    case WEFT_EV_ACQ: {
      Obj *o = obj_find(im, ev->w[1], (int)kind, ns);
      if (o && (res == 0 || res == EOWNERDEAD)) hold_begin(im, t, o, ns, 0, kind == WEFT_KIND_RWLOCK_RD);
      break;
    }
    case WEFT_EV_REL: on_release(im, t, ev, kind, res, ns); break;
    case WEFT_EV_SIGNAL: on_signal(im, t, ev, kind, ns); break;
    case WEFT_EV_WAIT_BEGIN: on_wait_begin(im, t, ev, kind, op, ns); break;
    case WEFT_EV_WAIT_END: on_wait_end(im, t, ev, res, ns); break;
    case WEFT_EV_MPI_RANK:
    case WEFT_EV_MPI_MSG:
    case WEFT_EV_MPI_COLL: mpi_read(im, t, ev, ns); break;
    default: break;
  }
  return im->sql.failed ? -1 : 0;
}

void thread_close(Imp *im, Proc *p, Thr *t) {
  /* a thread still blocked when its process exits, execs or is killed is
   * normal (a pool's parked workers); one that returned from inside a wait
   * is not */
  /* (nor is an OpenMP worker that ends after its region: a nested team's, or one of a pool that shrank) */
  if (t->st != WEFT_ST_RUNNING && t->end_ns > t->st_start && t->end_how && !(t->wobj && t->wobj->omp) &&
      (!strcmp(t->end_how, "return") || !strcmp(t->end_how, "pthread_exit")))
    imp_warn(im, "%s: thread %u ends inside a %s wait", p->file, t->tid, weft_state_name(t->st));
  int64_t waker, from_ns;
  int fk;
  /* an OpenMP worker at its team's dock since its last region when the process ended: split there */
  if (t->st != WEFT_ST_RUNNING) omp_wait_end(im, t, 0, t->end_ns, &waker, &from_ns, &fk);
  set_state(im, t, t->end_ns, WEFT_ST_RUNNING, 0, 0);
  for (guint j = 0; j < t->holds->len; j++) hold_emit(im, t, &g_array_index(t->holds, Hold, j), t->end_ns);
  t->holds->len = 0;
}
