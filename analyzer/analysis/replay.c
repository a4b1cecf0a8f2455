/* replay.c - what-if by replay: the recording re-run with a change applied
 * (see metrics.h, WeftReplay, and docs/report-json.md, "What-if by replay").
 * SPDX-License-Identifier: MIT
 *
 * Each selected thread's recorded life becomes a list of operations:
 *   run       CPU work (the running time's share on a CPU, from the
 *             scheduler's readings: the time runnable is the machine's, and
 *             the replay makes its own), then the share off a CPU outside
 *             any wait (page faults, unrecorded calls) as a fixed delay;
 *   delay     a wait nothing in the recording ended (a sleep, a timeout,
 *             I/O from outside): as long as it was;
 *   acquire,  a mutex, spin lock or rwlock (whose read holds share it):
 *   release   taken where the thread began to wait for it, or where a
 *             recorded hold began, and given back where the hold ended (a
 *             waiter's hold nobody waited for is given back at once: no one
 *             was kept out by it); waiters get it in the order they came,
 *             but for a release the recording says did not hand it to one
 *             (its thread took it again first: may_hand);
 *   wait for  a wait another thread ended (a condition signalled, a
 *             semaphore posted, a thread or child that ended, a pipe
 *             written): until that thread has got as far as it had then
 *             (a thread's start too, plus its start's latency);
 *   barrier   a round of a barrier: until every member has arrived (the
 *             last arrival is whoever comes last in the replay);
 *   start at  a thread nothing in the recording started: at its time.
 * The simulation shares the CPUs between the threads that have work (each
 * gets min(1, CPUs / threads with work) of a CPU), so threads beyond the
 * CPUs time-share; a wait that spins (a spin lock's, an MPI library's
 * polling) takes a place on the CPUs and does no work (cpu_share); other
 * work on the machine counts as the threads always ready to run that gave
 * the program's threads the share of a CPU they had (background). A thread
 * its process's exit ended (or an MPI library's) ends with the process's
 * main thread. A change is applied to the operations
 * before the run: a lock that keeps no one out (its acquires and releases dropped), a lock's critical sections shorter
 * (the work inside its holds, and the estimated work of its holds nobody waited for, counted not recorded), a thread
 * faster (its work), the GIL gone (its waits dropped), another number of CPUs. A hand-off's latency and the waking's
 * cost are the recording's for waiters that had waited as long (wait_class). The holds nobody waited for (counted,
 * not recorded) are placed between the recorded ones (place_counted_holds): the lock is held there in the replay too.
 * A loop's interrupted pieces of work have their excess shared out over the loop (spread_interruptions), decided
 * on the unchanged replay; a changed one, whose runs may join or split, spreads their recorded time the same way.
 * The replay of the recording unchanged is the model's own error bar.
 */
#include "analysis-private.h"

#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "holds.h"

#define REPLAY_MAX_OPS  6000000  /* beyond: no replay (say so): 32 bytes an operation */
#define EPS             1e-6     /* ns */
#define SAME_NS         1000     /* a hold that begins within this of a wait's end is that wait's */
#define OTHER_CPU_SLACK 20000000 /* ns: other processes' CPU time is read from /proc/stat in 10 ms ticks */

/* How long a waiter had waited when its lock was released, in classes
 * 0.5 us << k: a waiter that has not gone to sleep yet runs again within a
 * microsecond, one that slept after the kernel wakes it (10 us and more on a
 * VM), and waking it costs the releaser more. */
#define WAIT_CLASSES   9
#define WAIT_CLASS_MIN 20 /* hand-offs a class needs to have its own figures */

static int wait_class(double pre_ns) {
  int k = 0;
  while (k < WAIT_CLASSES - 1 && pre_ns >= 500.0 * (double)(1 << k)) k++;
  return k;
}

/* ---- the recording, loaded once ---- */
typedef struct {
  int64_t s, e;
  int16_t st;
  bool failed; /* a lock wait that did not acquire (its timeout, ENOTRECOVERABLE): it got nothing */
  float spin;  /* a wait that spins: the share of a CPU it wants (spin_demand), else 0 */
  int64_t obj;
} RState;

typedef struct {
  int64_t obj, s, e;
  bool placed;    /* counted, not recorded: placed by place_counted_holds */
  bool estimated; /* its start was not timed (hold_block): s is where estimate_starts put it */
  bool shared;    /* a rwlock's read hold */
} RHold;

typedef struct {
  int kind;
  int64_t from_utid, from_ns, to_utid, to_ns, obj;
} RFlow;

typedef struct {
  int64_t ns, obj, cost;
  bool woke; /* another thread waited for the lock then: the call woke one (else it is the call's own) */
} RCost;

/* A lock_count row (contention first): the acquisitions of a lock by a
 * thread in [s, e] that no hold in hold_block records (nobody waited), and
 * the thread's running time there outside its recorded holds of the lock:
 * the work a shorter critical section takes out of it is estimated from
 * these and the lock's sampled hold time. */
typedef struct {
  int64_t s, e;
  ptrdiff_t l;
  int64_t n;
  int64_t run;
  bool placed; /* its holds are placed (place_counted_holds) */
} RCount;

typedef struct {
  int64_t utid, start, end;
  double cpu_ratio, off_ratio; /* of its running time: on a CPU, off a CPU outside waits */
  int64_t run_ns;              /* its running time (state running) */
  bool tied;                   /* its process's exit (or the MPI library's end) ends it (tie_threads) */
  double busy_cpu;             /* its time on a CPU in spin lock waits, in the range (spin_demand) */
  RState *st;
  size_t nst, capst;
  RHold *holds;
  size_t nholds, capholds;
  size_t flow_in0, nflow_in; /* its incoming flows in Rec.in (by to_ns) */
  int64_t *points;           /* times other threads wait for (flows from it), sorted */
  size_t npoints, cappoints;
  RCost *costs; /* what its releases someone waited for took (unlock_cost), by ns */
  size_t ncosts, capcosts;
  RCount *counts; /* by s */
  size_t ncounts, capcounts;
  /* its loops whose interruptions are spread (spread_interruptions), by key: decided on its
   * unchanged replay, one plan with the counted holds spread and one with them placed */
  struct LoopPlan *plan[2];
  size_t nplan[2];
  bool planned[2];
  /* what that unchanged replay made of each run it spread, by recorded time: a changed replay,
   * whose runs may join (a lock's acquires dropped) or split, spreads its runs the same way */
  struct Spread *spread[2];
  size_t nspread[2];
} RThread;

typedef struct {
  RThread *t;
  size_t n;
  WeftHMap by_utid;
  RFlow *in; /* flows to selected threads, by (to_utid, to_ns) */
  size_t nin, capin;
  int64_t *lock_ids; /* mutex, spin and rwlock objects: their index is the lock's number */
  bool *lock_rw;     /* by lock: a rwlock (read holds share it) */
  size_t nlocks, caplocks, caprw;
  double *lock_wake; /* each lock's mean unlock cost (0: none recorded) */
  double *lock_lat;  /* each lock's mean hand-off latency, release to the waiter running (0: none) */
  double *lock_hold; /* each lock's mean hold nobody waited for: sampled, else its recorded holds' (0: none) */
  /* each lock's hand-off latency and unlock cost by how long the waiter had
   * waited when the lock was released (wait_class): means (NAN: none) */
  double (*lat_by)[WAIT_CLASSES], (*cost_by)[WAIT_CLASSES];
  /* and the figures themselves, sorted by (lock, class) (class_v), where
   * each lock's class takes its own from (a range; n = 0: none) */
  struct ClassVal *class_v;
  struct ClassRange {
    uint32_t a, n;
  } (*lat_rg)[WAIT_CLASSES], (*cost_rg)[WAIT_CLASSES];
  WeftHMap lock_by_id;
  int64_t *gil_ids;
  size_t ngil, capgil;
  int64_t start, end; /* of the selected threads */
  int64_t nplaced;    /* counted holds placed */
  double bg;          /* other work on the machine, as threads always ready (background) */
  double run_wall;    /* the last replay's running time (SimThr.run_wall) of the threads not tied */
  /* the threads each thread's end ends (its process's exit: tie_threads), tied[tied_at[i] .. tied_at[i + 1]) */
  size_t *tied, *tied_at;
} Rec;

/* ---- the operations of a replay ---- */
enum { OP_RUN, OP_DELAY, OP_ACQ, OP_REL, OP_WAITFOR, OP_BARRIER, OP_START_AT };

/* What a thread is shown doing in the replay's timeline while an op keeps
 * it (WEFT_ST_*, or one of these). */
#define TL_OFF  0xfe /* running, off a CPU outside any wait (run_piece's delay) */
#define TL_NONE 0xff /* not started yet */

typedef struct {
  uint8_t kind;
  uint8_t st;           /* its timeline state (WEFT_ST_*, TL_*) */
  uint16_t spin   : 15; /* a wait: the share of a CPU it wants while waiting, in 1/SPIN_ONE (RState.spin) */
  uint16_t shared : 1;  /* a lock's acquire or release: a rwlock's read hold */
  int32_t x;            /* lock, thread (index) or round */
  int64_t rec;          /* when it was done in the recording (a wait: its end) */
  double v;             /* run: work; delay: length; start at: time; wait for: the point (ops done); a lock wait:
                         * when the release that ended it was recorded (0: none) */
  double lat;           /* wait for, barrier: the wake-up's latency when it had to wait (recorded); release: what
                         * its waking costs; run: the work before the change (spread_interruptions); a lock
                         * wait: when it began in the recording */
} Op;

typedef struct {
  Op *ops;
  size_t n, cap;
  int64_t *run_from; /* while its ops are built: a run's recorded start, by op (others unset) */
  size_t caprun;
  size_t pc;
  int state; /* TS_* */
  double rem, until, end;
  bool arrived;       /* at its barrier op */
  bool waking;        /* its delay is a wake-up's latency: the op is done already */
  double run_since;   /* in the run heap: since when */
  double run_wall;    /* its time in the run heap so far, less its wake-ups' (a release's waking) */
  double wait_since;  /* blocked on a lock: since when */
  double spin;        /* the share of a CPU it wants waiting now, yielding it (Op.spin; counted in Sim.spin) */
  bool busy;          /* waiting on a spin lock now: working a CPU (counted in Sim.busy) */
  bool queued;        /* in the work list */
  int32_t waiting_on; /* a wait for: the thread (in its waiters), -1 none */
  size_t *waiters;    /* threads waiting for this one to get further */
  size_t nwaiters, capwaiters;
  /* its timeline (Sim.timeline): the intervals so far, and the open one's state (TL_NONE: none), start and the
   * virtual time then */
  WeftReplayInterval *tl;
  size_t ntl, captl;
  int tl_st;
  double tl_s, tl_v;
} SimThr;

typedef struct { /* a binary min-heap of threads by a time */
  double *key;
  size_t *idx;
  size_t n, cap;
} Heap;

enum { TS_READY, TS_RUN, TS_DELAY, TS_BLOCKED, TS_DONE };
#define SPIN_ONE 32767.0

typedef struct {
  double lat;      /* a hand-off's latency: from the release to the waiter running (recorded mean) */
  int64_t owner;   /* thread index, -1 free (a rwlock: its writer) */
  int64_t readers; /* a rwlock: its read holds now */
  size_t *q;       /* waiting threads, FIFO */
  size_t qh, qn, qcap;
} SimLock;

typedef struct {
  int64_t obj, from_utid, from_ns;
  size_t size, arrived; /* members (waiters and the last arrival), arrived in the replay */
  bool done;
} Round;

/* A change, resolved. */
typedef struct {
  int kind; /* WEFT_REPLAY_* */
  int64_t lock_obj;
  double factor; /* work kept: 1 - x % */
  int64_t utid;
  int64_t cpus;
  const WeftRegion *rg; /* balance: the region whose team's work is spread evenly */
  /* balance:NAME: every round of that barrier, by start (malloc'd), each spread evenly over its team */
  const WeftRegion **rounds;
  size_t nrounds;
  int64_t bal_obj;
} Change;

typedef struct {
  Ctx *c;
  Rec *r;
  const Change *ch;
  SimThr *th;
  SimLock *locks;
  Round *rounds;
  size_t nrounds, caprounds;
  int64_t forced; /* ops skipped to get out of a deadlock the data made */
  /* the run: threads to step, threads on a CPU by when their work is done
   * in virtual time (the work each running thread has done: all run at the
   * same rate, so the order never changes), threads in a delay by its end */
  size_t *work;
  size_t nwork, capwork;
  Heap run, delay;
  double vnow; /* virtual time */
  double spin; /* the threads waiting that spin yielding the CPU, as the CPUs they want (SimThr.spin) */
  size_t nspin;
  size_t busy; /* the threads spinning on a spin lock (SimThr.busy) */
  size_t ndone;
  bool timeline; /* keep each thread's timeline (SimThr.tl) */
  uint64_t rng;  /* the figures' draws (the same sequence in every replay) */
  bool placed;   /* the counted holds placed, else spread (Rec.nplaced) */
} Sim;

static bool rfail(Ctx *c) { return weft_sql_fail(&c->sql, "out of memory"); }

/* ---- loading ---- */
static bool load_wait_classes(Ctx *c, Rec *r);
static bool place_counted_holds(Ctx *c, Rec *r);
/* The first of n elements (stride bytes apart) whose int64 at offset off is
 * at least key, or n: the one binary search of the replay's sorted arrays. */
static size_t first_from(const void *base, size_t n, size_t stride, size_t off, int64_t key) {
  size_t a = 0, b = n;
  while (a < b) {
    size_t mid = (a + b) / 2;
    int64_t v;
    memcpy(&v, (const char *)base + mid * stride + off, sizeof v);
    if (v < key)
      a = mid + 1;
    else
      b = mid;
  }
  return a;
}
#define FIRST_FROM(arr, n, field, key) first_from((arr), (n), sizeof *(arr), offsetof(__typeof__(*(arr)), field), (key))

static ptrdiff_t lock_of(const Rec *r, int64_t obj);
static RThread *rthread(Rec *r, int64_t utid) {
  size_t i;
  return weft_hmap_get(&r->by_utid, utid, 0, &i) ? &r->t[i] : NULL;
}

static int cmp_flow_in(const void *x, const void *y) {
  const RFlow *a = x, *b = y;
  if (a->to_utid != b->to_utid) return a->to_utid < b->to_utid ? -1 : 1;
  return (a->to_ns > b->to_ns) - (a->to_ns < b->to_ns);
}

static int cmp_hold(const void *x, const void *y) {
  const RHold *a = x, *b = y;
  return (a->s > b->s) - (a->s < b->s);
}

static int hold_cb(const WeftHold *h, void *user) {
  Rec *r = ((void **)user)[0];
  Ctx *c = ((void **)user)[1];
  RThread *t = rthread(r, h->utid);
  if (!t) return 0;
  RHold x = {h->object_id, h->start_ns, h->start_ns + h->dur_ns, false, h->estimated != 0, h->shared != 0};
  if (VEC_PUSH(t->holds, t->nholds, t->capholds, x) != 0) return rfail(c), 1;
  return 0;
}

/* A wait that spins keeps its thread on a CPU's run queue. A spin lock's
 * wait all of it, working the CPU like a thread with work (its CPU time in
 * the range: RThread.busy_cpu); an MPI wait (Open MPI and MPICH poll for
 * progress, yielding the CPU but staying runnable) the share of it in the
 * range the thread was on a CPU or runnable in the recording (wait_demand),
 * giving its CPU up to a thread with work (cpu_share). A wait outside the
 * range is marked -1: the thread's mean (spin_fill). */
static void spin_demand(const Ctx *c, size_t ti, RThread *t, RState *w) {
  int64_t a = max64(w->s, c->a), b = min64(w->e, c->b);
  double cpu = 0, runnable = 0;
  if (b > a) wait_demand(c, ti, a, b, &cpu, &runnable);
  if (w->st == WEFT_ST_SPIN_WAIT) {
    w->spin = 1;
    t->busy_cpu += cpu;
  } else {
    w->spin = b > a ? (float)fmin(1.0, (cpu + runnable) / (double)(b - a)) : -1;
  }
}

/* The MPI waits of t outside the range: its mean spin in the range, by length. */
static void spin_fill(RThread *t) {
  double sum = 0, len = 0;
  for (size_t k = 0; k < t->nst; k++)
    if (t->st[k].st == WEFT_ST_MPI_WAIT && t->st[k].spin >= 0) {
      sum += t->st[k].spin * (double)(t->st[k].e - t->st[k].s);
      len += (double)(t->st[k].e - t->st[k].s);
    }
  for (size_t k = 0; k < t->nst; k++)
    if (t->st[k].spin < 0) t->st[k].spin = len > 0 ? (float)(sum / len) : 0;
}

/* A thread still there when its process exited (its main thread called
 * exit) ends with it, and an MPI library's thread (progress, PMIx: polling
 * until MPI_Finalize wakes it, which nothing records) when its rank's main
 * thread ends: in a replay they end there (simulate: end_tied), however far
 * their own operations got, so that their waits neither keep the run going
 * nor take the CPUs after it. Rec.tied, by the main thread. */
static bool tie_threads(Ctx *c, Rec *r) {
  const WeftMetrics *m = c->m;
  WeftHMap mains = {0}; /* upid -> its main thread */
  size_t n = m->nthreads, *of = malloc((n ? n : 1) * sizeof *of);
  r->tied_at = calloc(n + 1, sizeof *r->tied_at);
  r->tied = malloc((n ? n : 1) * sizeof *r->tied);
  bool good = of && r->tied_at && r->tied;
  for (size_t i = 0; good && i < n; i++)
    if (m->threads[i].is_main && weft_hmap_put(&mains, m->threads[i].upid, 0, i) != 0) good = false;
  for (size_t k = 0; good && k < n; k++) { /* of[k]: the main thread whose end ends k, else SIZE_MAX */
    const WeftThreadMetrics *x = &m->threads[k];
    size_t i;
    of[k] = SIZE_MAX;
    if (x->is_main || !weft_hmap_get(&mains, x->upid, 0, &i)) continue;
    if ((!strcmp(m->threads[i].end_how, "process_exit") && !strcmp(x->end_how, "process_exit")) ||
        weft_mpi_library_thread(m, x->utid))
      of[k] = i, r->tied_at[i + 1]++, r->t[k].tied = true;
  }
  for (size_t i = 0; good && i < n; i++) r->tied_at[i + 1] += r->tied_at[i];
  if (good) {
    size_t *next = calloc(n ? n : 1, sizeof *next);
    if (!next) good = false;
    for (size_t k = 0; good && k < n; k++)
      if (of[k] != SIZE_MAX) r->tied[r->tied_at[of[k]] + next[of[k]]++] = k;
    free(next);
  }
  free(of);
  weft_hmap_free(&mains);
  return good || rfail(c);
}

static bool load_threads(Ctx *c, Rec *r) {
  const WeftMetrics *m = c->m;
  r->t = calloc(m->nthreads ? m->nthreads : 1, sizeof *r->t);
  if (!r->t) return rfail(c);
  r->start = INT64_MAX;
  r->end = INT64_MIN;
  for (size_t i = 0; i < m->nthreads; i++) {
    const WeftThreadMetrics *tm = &m->threads[i];
    RThread *t = &r->t[r->n];
    t->utid = tm->utid;
    t->start = tm->start_ns;
    t->end = tm->end_ns;
    int64_t run = tm->state_ns[WEFT_ST_RUNNING];
    t->run_ns = run;
    t->cpu_ratio = run > 0 ? fmin(1.0, (double)tm->time.oncpu_ns / (double)run) : 1.0;
    t->off_ratio = run > 0 ? fmin(1.0 - t->cpu_ratio, (double)tm->time.offcpu_ns / (double)run) : 0.0;
    if (weft_hmap_put(&r->by_utid, t->utid, 0, r->n) != 0) return rfail(c);
    r->n++;
    r->start = min64(r->start, t->start);
    r->end = max64(r->end, t->end);
  }
  if (!tie_threads(c, r)) return false;
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT utid, start_ns, dur_ns, state, object_id, result "
                                              "FROM thread_state ORDER BY utid, start_ns");
  RThread *t = NULL;
  while (q && weft_sql_step(&c->sql, q)) {
    int64_t utid = sqlite3_column_int64(q, 0);
    if (!t || t->utid != utid) t = rthread(r, utid);
    if (!t) continue;
    RState s = {sqlite3_column_int64(q, 1),
                sqlite3_column_int64(q, 1) + sqlite3_column_int64(q, 2),
                (int16_t)sqlite3_column_int(q, 3),
                sqlite3_column_int(q, 5) != 0 && sqlite3_column_int(q, 5) != EOWNERDEAD,
                0,
                sqlite3_column_type(q, 4) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 4)};
    if (s.st == WEFT_ST_MPI_WAIT || s.st == WEFT_ST_SPIN_WAIT) spin_demand(c, (size_t)(t - r->t), t, &s);
    if (VEC_PUSH(t->st, t->nst, t->capst, s) != 0) return sqlite3_finalize(q), rfail(c);
    if (s.st == WEFT_ST_GIL_WAIT && s.obj && (!r->ngil || r->gil_ids[r->ngil - 1] != s.obj) &&
        VEC_PUSH(r->gil_ids, r->ngil, r->capgil, s.obj) != 0)
      return sqlite3_finalize(q), rfail(c);
  }
  sqlite3_finalize(q);
  for (size_t i = 0; i < r->n; i++) spin_fill(&r->t[i]);
  return !c->sql.failed;
}

static bool load_objects(Ctx *c, Rec *r) {
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT object_id, kind FROM sync_object");
  while (q && weft_sql_step(&c->sql, q)) {
    int64_t id = sqlite3_column_int64(q, 0);
    int kind = sqlite3_column_int(q, 1);
    bool rw = kind == WEFT_KIND_RWLOCK || kind == WEFT_KIND_RWLOCK_RD || kind == WEFT_KIND_RWLOCK_WR;
    if (kind == WEFT_KIND_MUTEX || kind == WEFT_KIND_SPIN || rw) {
      size_t n = r->nlocks;
      if (weft_hmap_put(&r->lock_by_id, id, 0, r->nlocks) != 0 || VEC_PUSH(r->lock_rw, n, r->caprw, rw) != 0 ||
          VEC_PUSH(r->lock_ids, r->nlocks, r->caplocks, id) != 0)
        return sqlite3_finalize(q), rfail(c);
    }
  }
  sqlite3_finalize(q);
  return !c->sql.failed;
}

static bool load_flows(Ctx *c, Rec *r) {
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT kind, from_utid, from_ns, to_utid, to_ns, object_id FROM flow");
  while (q && weft_sql_step(&c->sql, q)) {
    RFlow f = {sqlite3_column_int(q, 0),   sqlite3_column_int64(q, 1),
               sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3),
               sqlite3_column_int64(q, 4), sqlite3_column_type(q, 5) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 5)};
    RThread *to = rthread(r, f.to_utid), *from = rthread(r, f.from_utid);
    if (!to || !from || f.from_utid == f.to_utid) continue;
    if (VEC_PUSH(r->in, r->nin, r->capin, f) != 0 ||
        VEC_PUSH(from->points, from->npoints, from->cappoints, f.from_ns) != 0)
      return sqlite3_finalize(q), rfail(c);
  }
  sqlite3_finalize(q);
  if (c->sql.failed) return false;
  if (r->nin) qsort(r->in, r->nin, sizeof *r->in, cmp_flow_in);
  for (size_t i = 0; i < r->nin;) {
    RThread *t = rthread(r, r->in[i].to_utid);
    size_t j = i;
    while (j < r->nin && r->in[j].to_utid == r->in[i].to_utid) j++;
    t->flow_in0 = i;
    t->nflow_in = j - i;
    i = j;
  }
  for (size_t i = 0; i < r->n; i++) {
    RThread *t = &r->t[i];
    if (t->npoints) qsort(t->points, t->npoints, sizeof *t->points, cmp_i64);
  }
  return true;
}

/* Does a flow leave t at ns (within SAME_NS)? */
static bool has_point(const RThread *t, int64_t ns) {
  size_t a = first_from(t->points, t->npoints, sizeof *t->points, 0, ns - SAME_NS);
  return a < t->npoints && t->points[a] <= ns + SAME_NS;
}

/* A lock's waits, every thread's, by start, with the latest end of
 * those up to each (mark_wakes). */
typedef struct {
  int64_t s, e, max_e;
  ptrdiff_t l;
} LockWait;

static int cmp_lock_wait(const void *x, const void *y) {
  const LockWait *a = x, *b = y;
  if (a->l != b->l) return a->l < b->l ? -1 : 1;
  return (a->s > b->s) - (a->s < b->s);
}

/* Which releases woke a waiter (RCost.woke): another thread waited for the
 * lock when it was released, or it handed the lock over (a flow leaves it:
 * the waiter may have come during the call). Only such a release's cost is the
 * contention's (a futex wake, on a VM an interrupt to another CPU): it is
 * taken out of the work after it and paid where a replayed release has a
 * waiter; the call's own cost, without one, stays work. */
static bool mark_wakes(Ctx *c, Rec *r) {
  LockWait *v = NULL;
  size_t n = 0, cap = 0;
  for (size_t i = 0; i < r->n; i++)
    for (size_t k = 0; k < r->t[i].nst; k++) {
      const RState *w = &r->t[i].st[k];
      ptrdiff_t l = w->st == WEFT_ST_LOCK_WAIT || w->st == WEFT_ST_SPIN_WAIT || w->st == WEFT_ST_RWLOCK_WAIT
                        ? lock_of(r, w->obj)
                        : -1;
      LockWait x = {w->s, w->e, 0, l};
      if (l >= 0 && VEC_PUSH(v, n, cap, x) != 0) return free(v), rfail(c);
    }
  if (n) qsort(v, n, sizeof *v, cmp_lock_wait);
  for (size_t k = 0; k < n; k++) v[k].max_e = k && v[k - 1].l == v[k].l ? max64(v[k - 1].max_e, v[k].e) : v[k].e;
  for (size_t i = 0; i < r->n; i++)
    for (size_t k = 0; k < r->t[i].ncosts; k++) {
      RCost *x = &r->t[i].costs[k];
      LockWait key = {x->ns, 0, 0, lock_of(r, x->obj)};
      size_t a = 0, b = n; /* the first wait of the lock that begins at the release or later */
      while (a < b) {
        size_t mid = (a + b) / 2;
        if (cmp_lock_wait(&v[mid], &key) < 0)
          a = mid + 1;
        else
          b = mid;
      }
      x->woke = (a > 0 && v[a - 1].l == key.l && v[a - 1].max_e > x->ns) || has_point(&r->t[i], x->ns);
    }
  free(v);
  return true;
}

/* unlock_cost (trace v6): each release's own (at most UNLOCK_COST_MAX), and each lock's mean; and
 * each lock's mean hand-off latency (from its hand-off flows). Once per
 * recording: every replay of it reads them. */
static bool load_costs(Ctx *c, Rec *r) {
  size_t nl = r->nlocks ? r->nlocks : 1;
  r->lock_wake = calloc(nl, sizeof *r->lock_wake);
  r->lock_lat = calloc(nl, sizeof *r->lock_lat);
  size_t *n = calloc(nl, sizeof *n);
  if (!r->lock_wake || !r->lock_lat || !n) return free(n), rfail(c);
  for (size_t i = 0; i < r->nin; i++) {
    ptrdiff_t l = r->in[i].kind == WEFT_FLOW_LOCK_HANDOFF ? lock_of(r, r->in[i].obj) : -1;
    if (l < 0) continue;
    r->lock_lat[l] += (double)max64(0, r->in[i].to_ns - r->in[i].from_ns);
    n[l]++;
  }
  for (size_t i = 0; i < r->nlocks; i++) {
    if (n[i]) r->lock_lat[i] /= (double)n[i];
    n[i] = 0;
  }
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT utid, ns, object_id, cost_ns FROM unlock_cost ORDER BY utid, ns");
  while (q && weft_sql_step(&c->sql, q)) {
    RThread *t = rthread(r, sqlite3_column_int64(q, 0));
    RCost x = {sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3), false};
    ptrdiff_t l = lock_of(r, x.obj);
    if (!t || l < 0 || x.cost < 0) continue;
    x.cost = min64(x.cost, UNLOCK_COST_MAX);
    if (VEC_PUSH(t->costs, t->ncosts, t->capcosts, x) != 0) return sqlite3_finalize(q), free(n), rfail(c);
    r->lock_wake[l] += (double)x.cost;
    n[l]++;
  }
  sqlite3_finalize(q);
  for (size_t i = 0; i < r->nlocks; i++)
    if (n[i]) r->lock_wake[i] /= (double)n[i];
  free(n);
  return !c->sql.failed && mark_wakes(c, r);
}

/* t's running time in [s, e] outside its holds of obj, and how many of
 * those holds begin there. */
static int64_t run_outside_holds(const RThread *t, int64_t obj, int64_t s, int64_t e, int64_t *nholds) {
  int64_t run = 0;
  for (size_t a = FIRST_FROM(t->st, t->nst, e, s); a < t->nst && t->st[a].s < e; a++)
    if (t->st[a].st == WEFT_ST_RUNNING) run += max64(0, min64(e, t->st[a].e) - max64(s, t->st[a].s));
  *nholds = 0;
  size_t a = FIRST_FROM(t->holds, t->nholds, s, s);
  for (a = a ? a - 1 : 0; a < t->nholds && t->holds[a].s <= e; a++) { /* (and one that began before) */
    if (t->holds[a].obj != obj || t->holds[a].e < s) continue;
    run -= max64(0, min64(e, t->holds[a].e) - max64(s, t->holds[a].s));
    if (t->holds[a].s >= s) ++*nholds;
  }
  return max64(0, run);
}

/* A hold acquired untimed and waited for afterwards is stored from its
 * first waiter's arrival (hold_block's estimated bit), but it began before:
 * replayed from there, the part of its critical section before the waiter
 * came is work outside the lock, which a shorter critical section does not
 * shorten, and the lock looks free then. Its start is taken at the lock's
 * mean hold before its release, where that is earlier, but not before the
 * running state it is in began nor before the lock's previous hold (any
 * thread's; a read hold's, the previous write hold's or its own thread's
 * previous hold's) ended: two holds of one thread that overlapped would
 * lose count of what the thread holds, and with it what a shorter critical
 * section shortens. */
typedef struct {
  ptrdiff_t l;
  int64_t e;
} LockEnd;

static int cmp_lock_end(const void *x, const void *y) {
  const LockEnd *a = x, *b = y;
  if (a->l != b->l) return a->l < b->l ? -1 : 1;
  return (a->e > b->e) - (a->e < b->e);
}

/* The latest end at or before ns of t's holds of obj before its a-th (by
 * stored start), or lb; a few holds back (a thread's holds of one lock follow
 * each other, and those of other locks between them are few). */
static int64_t own_last_end(const RThread *t, size_t a, int64_t obj, int64_t ns, int64_t lb) {
  for (size_t k = a, n = 0; k-- > 0 && n < 16;)
    if (t->holds[k].obj == obj) {
      n++;
      if (t->holds[k].e <= ns) lb = max64(lb, t->holds[k].e);
    }
  return lb;
}

/* The end of the last hold in v (n, by lock and end) of lock l to end at or before ns, or lb. */
static int64_t last_end(const LockEnd *v, size_t n, ptrdiff_t l, int64_t ns, int64_t lb) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t m = lo + (hi - lo) / 2;
    if (v[m].l < l || (v[m].l == l && v[m].e <= ns))
      lo = m + 1;
    else
      hi = m;
  }
  return lo > 0 && v[lo - 1].l == l ? max64(lb, v[lo - 1].e) : lb;
}

static bool estimate_starts(Ctx *c, Rec *r) {
  size_t n = 0, cap = 0, nest = 0, nw = 0, capw = 0;
  LockEnd *v = NULL, *w = NULL; /* every hold's end; the exclusive ones' (a read hold shares a rwlock with reads) */
  for (size_t i = 0; i < r->n; i++)
    for (size_t a = 0; a < r->t[i].nholds; a++) {
      LockEnd x = {lock_of(r, r->t[i].holds[a].obj), r->t[i].holds[a].e};
      nest += r->t[i].holds[a].estimated;
      if (x.l >= 0 && (VEC_PUSH(v, n, cap, x) != 0 || (!r->t[i].holds[a].shared && VEC_PUSH(w, nw, capw, x) != 0)))
        return free(v), free(w), rfail(c);
    }
  if (!nest || !n) return free(v), free(w), true;
  qsort(v, n, sizeof *v, cmp_lock_end);
  if (nw) qsort(w, nw, sizeof *w, cmp_lock_end);
  for (size_t i = 0; i < r->n; i++) {
    RThread *t = &r->t[i];
    bool moved = false;
    for (size_t a = 0; a < t->nholds; a++) {
      RHold *h = &t->holds[a];
      ptrdiff_t l = h->estimated ? lock_of(r, h->obj) : -1;
      if (l < 0 || r->lock_hold[l] <= 0 || h->e - llround(r->lock_hold[l]) >= h->s) continue;
      size_t b = FIRST_FROM(t->st, t->nst, e, h->s + 1); /* the state it begins in */
      if (b >= t->nst || t->st[b].s > h->s || t->st[b].st != WEFT_ST_RUNNING) continue;
      int64_t lb = t->st[b].s;
      /* the last hold of the lock to end at or before it began (not itself: a hold stored without a
       * waiter's arrival to start from begins and ends at its release); a read hold's, the last write
       * hold's (other reads may have held the lock with it) */
      int64_t before = min64(h->s, h->e - 1);
      lb = h->shared ? own_last_end(t, a, h->obj, before, last_end(w, nw, l, before, lb))
                     : last_end(v, n, l, before, lb);
      int64_t s0 = h->s;
      h->s = min64(h->s, max64(lb, h->e - llround(r->lock_hold[l])));
      moved |= h->s != s0;
    }
    if (moved) qsort(t->holds, t->nholds, sizeof(RHold), cmp_hold); /* (load sorted them by their stored starts) */
  }
  free(v);
  free(w);
  return true;
}

/* The acquisitions of each lock nobody waited for (lock_count), and the
 * mean hold of each lock that had them timed one in N (else the mean of its
 * recorded holds whose start was timed): what a shorter critical section
 * takes out of the running time between the recorded holds. A sample more
 * than twice the mean of the others is left out of it: one hold the
 * scheduler interrupted (69 us of a lock held 10 us) made the mean of two
 * samples 40 us. After the holds are loaded; their estimated starts are
 * placed before the counts' running time is measured. */
static bool load_counts(Ctx *c, Rec *r) {
  size_t nl = r->nlocks ? r->nlocks : 1;
  double *ns = calloc(nl, sizeof *ns), *top = calloc(nl, sizeof *top);
  int64_t *n = calloc(nl, sizeof *n);
  r->lock_hold = calloc(nl, sizeof *r->lock_hold);
  if (!ns || !top || !n || !r->lock_hold) return free(ns), free(top), free(n), rfail(c);
  sqlite3_stmt *q =
      weft_sql_prepare(&c->sql, "SELECT object_id, utid, start_ns, end_ns, acquisitions, hold_samples, "
                                "hold_sample_ns, hold_sample_max_ns FROM lock_count ORDER BY utid, start_ns");
  while (q && weft_sql_step(&c->sql, q)) {
    ptrdiff_t l = lock_of(r, sqlite3_column_int64(q, 0));
    RThread *t = rthread(r, sqlite3_column_int64(q, 1));
    if (l < 0 || !t) continue;
    ns[l] += (double)sqlite3_column_int64(q, 6);
    n[l] += sqlite3_column_int64(q, 5);
    top[l] = fmax(top[l], (double)sqlite3_column_int64(q, 7));
    RCount x = {sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3), l, sqlite3_column_int64(q, 4), 0, false};
    if (x.n > 0 && VEC_PUSH(t->counts, t->ncounts, t->capcounts, x) != 0)
      return sqlite3_finalize(q), free(ns), free(top), free(n), rfail(c);
  }
  sqlite3_finalize(q);
  for (size_t l = 0; l < r->nlocks; l++) {
    double rest = n[l] > 1 ? (ns[l] - top[l]) / (double)(n[l] - 1) : 0;
    r->lock_hold[l] = n[l] > 1 && rest > 0 && top[l] > 2 * rest ? rest : n[l] > 0 ? ns[l] / (double)n[l] : 0;
    ns[l] = 0;
    n[l] = 0;
  }
  free(top);
  for (size_t i = 0; i < r->n; i++) /* none sampled: the mean of its recorded holds */
    for (size_t a = 0; a < r->t[i].nholds; a++) {
      ptrdiff_t l = lock_of(r, r->t[i].holds[a].obj);
      if (l < 0 || r->lock_hold[l] > 0 || r->t[i].holds[a].estimated) continue;
      ns[l] += (double)(r->t[i].holds[a].e - r->t[i].holds[a].s);
      n[l]++;
    }
  for (size_t l = 0; l < r->nlocks; l++)
    if (n[l] > 0) r->lock_hold[l] = ns[l] / (double)n[l];
  free(ns);
  free(n);
  if (c->sql.failed || !estimate_starts(c, r)) return false;
  for (size_t i = 0; i < r->n; i++) { /* (after the estimated starts: the running time outside the holds) */
    RThread *t = &r->t[i];
    size_t k = 0;
    for (size_t a = 0; a < t->ncounts; a++) {
      RCount x = t->counts[a];
      int64_t recorded;
      x.run = run_outside_holds(t, r->lock_ids[x.l], x.s, x.e, &recorded);
      x.n = max64(0, x.n - recorded);
      if (x.n > 0) t->counts[k++] = x;
    }
    t->ncounts = k;
  }
  return true;
}

static bool load(Ctx *c, Rec *r) {
  if (!load_threads(c, r) || !load_objects(c, r) || !load_flows(c, r) || !load_costs(c, r)) return false;
  void *u[2] = {r, c};
  char err[256];
  if (weft_holds_scan(c->sql.db, -1, INT64_MIN, INT64_MAX, hold_cb, u, err, sizeof err) < 0)
    return weft_sql_fail(&c->sql, "%s", err);
  for (size_t i = 0; i < r->n; i++)
    if (r->t[i].nholds) qsort(r->t[i].holds, r->t[i].nholds, sizeof(RHold), cmp_hold);
  return !c->sql.failed && load_counts(c, r) && load_wait_classes(c, r) && place_counted_holds(c, r);
}

static void rec_free(Rec *r) {
  for (size_t i = 0; i < r->n; i++) {
    free(r->t[i].st);
    free(r->t[i].holds);
    free(r->t[i].points);
    free(r->t[i].costs);
    free(r->t[i].counts);
    free(r->t[i].plan[0]);
    free(r->t[i].plan[1]);
    free(r->t[i].spread[0]);
    free(r->t[i].spread[1]);
  }
  free(r->lock_hold);
  free(r->lat_by);
  free(r->cost_by);
  free(r->lat_rg);
  free(r->cost_rg);
  free(r->class_v);
  free(r->lock_wake);
  free(r->lock_lat);
  free(r->t);
  free(r->in);
  free(r->lock_ids);
  free(r->lock_rw);
  free(r->gil_ids);
  free(r->tied);
  free(r->tied_at);
  weft_hmap_free(&r->by_utid);
  weft_hmap_free(&r->lock_by_id);
}

/* ---- building the operations ---- */
static ptrdiff_t lock_of(const Rec *r, int64_t obj) {
  size_t i;
  return obj && weft_hmap_get(&r->lock_by_id, obj, 0, &i) ? (ptrdiff_t)i : -1;
}

static bool is_gil(const Rec *r, int64_t obj) {
  for (size_t i = 0; i < r->ngil; i++)
    if (r->gil_ids[i] == obj) return true;
  return false;
}

/* The timeline state of an op unless its caller says otherwise (a wait's own kind). */
static uint8_t op_state(int kind) {
  switch (kind) {
    case OP_RUN:
    case OP_REL: return WEFT_ST_RUNNING;
    case OP_DELAY: return TL_OFF;
    case OP_ACQ: return WEFT_ST_LOCK_WAIT;
    case OP_BARRIER: return WEFT_ST_BARRIER_WAIT;
    case OP_WAITFOR: return WEFT_ST_JOIN_WAIT;
    default: return TL_NONE;
  }
}

static bool op_push(Sim *s, SimThr *st, int kind, int32_t x, int64_t rec, double v) {
  Op o = {.kind = (uint8_t)kind, .st = op_state(kind), .x = x, .rec = rec, .v = v};
  return VEC_PUSH(st->ops, st->n, st->cap, o) == 0 || rfail(s->c);
}

/* The flow that ended t's wait [b, e): to t at a time in [b, e], the latest. */
static const RFlow *flow_into(const Rec *r, const RThread *t, int64_t b, int64_t e) {
  size_t lo = t->flow_in0 + FIRST_FROM(r->in + t->flow_in0, t->nflow_in, to_ns, e + 1); /* the first after e */
  return lo > t->flow_in0 && r->in[lo - 1].to_ns >= b ? &r->in[lo - 1] : NULL;
}

static size_t round_of(Sim *s, const RFlow *f) {
  for (size_t i = s->nrounds; i-- > 0;) {
    Round *x = &s->rounds[i];
    if (x->obj == f->obj && x->from_utid == f->from_utid && x->from_ns == f->from_ns) return i;
  }
  Round x = {f->obj, f->from_utid, f->from_ns, 1, 0, false}; /* the last arrival is a member */
  if (VEC_PUSH(s->rounds, s->nrounds, s->caprounds, x) != 0) return SIZE_MAX;
  return s->nrounds - 1;
}

/* A thread index of r (for a wait for). */
static int32_t tindex(const Rec *r, int64_t utid) {
  size_t i;
  return weft_hmap_get(&r->by_utid, utid, 0, &i) ? (int32_t)i : -1;
}

/* Work of [x, y) of t's running time, and the holds it is inside. */
static bool run_piece(Sim *s, SimThr *st, const RThread *t, int64_t x, int64_t y, double factor, double *debt) {
  if (y <= x) return true;
  double d = (double)(y - x), work = d * t->cpu_ratio, paid = fmin(work, *debt);
  *debt -= paid; /* the wake-ups of releases just before: the replay charges its own */
  if (!op_push(s, st, OP_RUN, 0, y, (work - paid) * factor)) return false;
  st->ops[st->n - 1].lat = work - paid;
  if (vec_reserve((void **)&st->run_from, &st->caprun, st->n - 1, sizeof *st->run_from) != 0) return rfail(s->c);
  st->run_from[st->n - 1] = x; /* (by op: the ops before it need none) */
  return t->off_ratio <= 0 || op_push(s, st, OP_DELAY, 0, y, d * t->off_ratio);
}

/* Events inside a running interval, in time order: hold starts and ends,
 * points other threads wait for, barrier arrivals of the last arriver. */
typedef struct {
  int64_t ns;
  int kind; /* 0 release, 1 acquire, 2 a point, 3 a barrier arrival, 4 a release the change removed */
  int64_t x;
  double cost; /* a release: what its call took (its unlock_cost, 0 none) */
  bool shared; /* an acquire or release of a rwlock's read hold */
} Mark;

static int cmp_mark(const void *x, const void *y) {
  const Mark *a = x, *b = y;
  if (a->ns != b->ns) return a->ns < b->ns ? -1 : 1;
  return (a->kind > b->kind) - (a->kind < b->kind);
}

typedef struct {
  Mark *v;
  size_t n, cap;
} Marks;

static bool mark(Sim *s, Marks *mk, int64_t ns, int kind, int64_t x) {
  Mark m = {ns, kind, x, 0, false};
  return VEC_PUSH(mk->v, mk->n, mk->cap, m) == 0 || rfail(s->c);
}

/* The state of t that ends at or just before ns (the last to begin before it). */
static const RState *state_before(const RThread *t, int64_t ns) {
  size_t a = FIRST_FROM(t->st, t->nst, s, ns);
  return a ? &t->st[a - 1] : NULL;
}

/* Has t a hold of obj beginning within SAME_NS of ns? */
static const RHold *hold_at(const RThread *t, int64_t obj, int64_t ns) {
  for (size_t a = FIRST_FROM(t->holds, t->nholds, s, ns - SAME_NS); a < t->nholds && t->holds[a].s <= ns + SAME_NS; a++)
    if (t->holds[a].obj == obj && !t->holds[a].placed) return &t->holds[a];
  return NULL;
}

/* What t's release of obj at ns took (its unlock_cost; 0 none); woke:
 * only if it woke a waiter (RCost.woke). */
static double unlock_cost_of(const RThread *t, int64_t obj, int64_t ns, bool woke) {
  const RCost *x = NULL; /* the release's own row (at ns), else the first within SAME_NS */
  for (size_t a = FIRST_FROM(t->costs, t->ncosts, ns, ns - SAME_NS); a < t->ncosts && t->costs[a].ns <= ns + SAME_NS;
       a++)
    if (t->costs[a].obj == obj && (!x || t->costs[a].ns == ns)) x = &t->costs[a];
  return x && (!woke || x->woke) ? (double)x->cost : 0;
}

static double unlock_cost(const RThread *t, int64_t obj, int64_t ns) { return unlock_cost_of(t, obj, ns, false); }

/* ---- the holds nobody waited for, placed ----
 * Contention first records a hold only when someone waited for it; the other
 * acquisitions of a lock are counted (lock_count: per thread and flush
 * interval). Left out, they leave the lock free in the replay where it was
 * held: another thread takes it at once, no hand-off, and a loop whose rounds
 * alternate with another thread's runs ahead of the recording. So each
 * interval's count of a lock handed over WAIT_CLASS_MIN times or more is shared out over the gaps
 * of running time between the thread's recorded holds of it, by each gap's
 * length beyond one round (the interval's running time per acquisition), and
 * placed evenly in its gap after the release's own cost, each as long as the
 * lock's mean sampled hold. Past PLACE_MAX in all none is placed, and the
 * counted holds stay spread over the running time (unrecorded_factor). */
#define PLACE_MAX     1000000
#define PLACED_OFF    0.25 /* a replay with the counted holds placed this far off: spread, if closer */
#define PLACE_PER_GAP 2    /* counted holds a recorded one, at most, to place them */

/* A hold to place: where, and how far it may move (its running state, in its gap). */
typedef struct {
  int64_t s, e, lo, hi;
  size_t ti;
  ptrdiff_t l;
  bool shared; /* a rwlock's read hold: other read holds do not keep it out */
} Cand;

typedef struct {
  Cand *v;
  size_t n, cap;
  const Cand **latest; /* (recorded holds: of v[0..k] of k's lock, the one that ends last; or NULL) */
} Cands;

typedef struct {
  int64_t a, b; /* the gap */
  double cost;  /* the release that opens it: what its waking took */
  double run, w, rem;
  int64_t k;
} Gap;

/* The time at which t has run off ns of running time after a (at most b),
 * and where the running state it is in ends. */
static int64_t run_to_ns(const RThread *t, int64_t a, int64_t b, double off, int64_t *state_end) {
  for (size_t i = FIRST_FROM(t->st, t->nst, e, a); i < t->nst && t->st[i].s < b; i++) {
    if (t->st[i].st != WEFT_ST_RUNNING) continue;
    int64_t x = max64(a, t->st[i].s), y = min64(b, t->st[i].e);
    if (y <= x) continue;
    *state_end = y;
    if (off <= (double)(y - x)) return x + llround(off);
    off -= (double)(y - x);
  }
  return *state_end = b;
}

static int cmp_gap_rem(const void *x, const void *y) {
  const Gap *a = *(const Gap *const *)x, *b = *(const Gap *const *)y;
  return (a->rem < b->rem) - (a->rem > b->rem);
}

/* The gaps of count x of t (nrec: t's recorded holds) into *g. */
static bool count_gaps(Ctx *c, const Rec *r, const RThread *t, size_t nrec, const RCount *x, Gap **g, size_t *ng,
                       size_t *cap) {
  int64_t obj = r->lock_ids[x->l], a = x->s, unused;
  double cost = 0;
  size_t i = FIRST_FROM(t->holds, nrec, s, x->s);
  for (size_t j = i; j > 0 && j + 8 > i; j--) /* a hold that began before and ends inside */
    if (t->holds[j - 1].obj == obj && t->holds[j - 1].e > a) a = t->holds[j - 1].e;
  *ng = 0;
  for (;; i++) {
    bool end = i >= nrec || t->holds[i].s > x->e;
    if (!end && t->holds[i].obj != obj) continue;
    int64_t b = end ? x->e : t->holds[i].s;
    if (b > a) {
      Gap y = {a, b, cost, (double)run_outside_holds(t, obj, a, b, &unused), 0, 0, 0};
      if (VEC_PUSH(*g, *ng, *cap, y) != 0) return rfail(c);
    }
    if (end) return true;
    a = max64(a, t->holds[i].e);
    cost = unlock_cost(t, obj, t->holds[i].e);
  }
}

/* Count x's holds placed (1), or left spread (0: more than PLACE_PER_GAP of
 * them a recorded hold in the interval: a lock mostly taken freely, where
 * guessed places meet in the replay though the real holds did not), -1 out
 * of memory. */
static int place_count(Ctx *c, Rec *r, size_t ti, size_t nrec, const RCount *x, Gap **g, size_t *cap, Cands *cands) {
  const RThread *t = &r->t[ti];
  size_t ng;
  if (!count_gaps(c, r, t, nrec, x, g, &ng, cap)) return -1;
  if (!ng || x->n > PLACE_PER_GAP * ((int64_t)ng - 1)) return 0;
  Gap *v = *g;
  double round = x->run / (double)(x->n + (int64_t)ng - 1), sum = 0;
  for (size_t i = 0; i < ng; i++) { /* (the first and last gaps are cut by the interval: half a round) */
    v[i].w = fmax(0, v[i].run - v[i].cost - (i == 0 || i + 1 == ng ? round / 2 : round));
    sum += v[i].w;
  }
  for (size_t i = 0; i < ng && sum <= 0; i++) sum += v[i].w = v[i].run;
  if (sum <= 0) return 0;
  int64_t left = x->n;
  Gap **by = malloc(ng * sizeof *by);
  if (!by) return rfail(c), -1;
  for (size_t i = 0; i < ng; i++) { /* largest remainders */
    double q = (double)x->n * v[i].w / sum;
    v[i].k = (int64_t)q;
    v[i].rem = q - (double)v[i].k;
    left -= v[i].k;
    by[i] = &v[i];
  }
  qsort(by, ng, sizeof *by, cmp_gap_rem);
  for (size_t i = 0; left > 0; i = (i + 1) % ng, left--) by[i]->k++;
  free(by);
  for (size_t i = 0; i < ng; i++) {
    const Gap *y = &v[i];
    double room = fmax(0, y->run - y->cost);
    if (y->k <= 0 || room <= 0) continue;
    double hold = fmin(r->lock_hold[x->l], 0.5 * room / (double)y->k),
           out = (room - (double)y->k * hold) / (double)(y->k + 1);
    for (int64_t j = 1; j <= y->k; j++) {
      double off = y->cost + (double)j * out + (double)(j - 1) * hold;
      int64_t end, hs = run_to_ns(t, y->a, y->b, off, &end), unused;
      /* (within one running state: a hold never spans a wait) */
      Cand h = {hs, min64(end, run_to_ns(t, y->a, y->b, off + hold, &unused)), y->a, end, ti, x->l, false};
      if (h.e > h.s && VEC_PUSH(cands->v, cands->n, cands->cap, h) != 0) return rfail(c), -1;
    }
  }
  return 1;
}

static int cmp_cand(const void *x, const void *y) {
  const Cand *a = x, *b = y;
  if (a->l != b->l) return a->l < b->l ? -1 : 1;
  return (a->s > b->s) - (a->s < b->s);
}

/* Into votes (by lock), t's recorded holds of each rwlock: read +1, write
 * -1 (on); back to 0 (off). */
static void rw_votes(const Rec *r, const RThread *t, ptrdiff_t *votes, bool on) {
  for (size_t i = 0; i < t->nholds; i++) {
    ptrdiff_t l = lock_of(r, t->holds[i].obj);
    if (l >= 0 && r->lock_rw[l] && !t->holds[i].placed) votes[l] = on ? votes[l] + (t->holds[i].shared ? 1 : -1) : 0;
  }
}

/* A hold of lock l by another thread than h's overlapping h that keeps it
 * out: recorded (rec: lock l's, by start; recw: its write holds, for a read
 * hold, which only they keep out) or placed before (the last few of done). */
static const Cand *conflict(const Cands *rec, const Cands *recw, const Cand *done, size_t ndone, const Cand *h) {
  const Cands *in = h->shared ? recw : rec;
  size_t a = FIRST_FROM(in->v, in->n, s, h->e);  /* the first to begin at or after its end */
  for (size_t k = 0; a > 0 && k < 8; k++, a--) { /* (write holds do not overlap: a few before are enough) */
    const Cand *o = &in->v[a - 1];
    if (o->ti != h->ti && o->e > h->s) return o;
  }
  /* before those, of a write's (read holds overlap: one begun before the last eight may still be held),
   * the one that ends last */
  if (!h->shared && a > 0 && in->latest && in->latest[a - 1]->ti != h->ti && in->latest[a - 1]->e > h->s)
    return in->latest[a - 1];
  for (size_t k = ndone; k > 0 && k + 8 > ndone; k--)
    if (done[k - 1].ti != h->ti && done[k - 1].s < h->e && done[k - 1].e > h->s && !(h->shared && done[k - 1].shared))
      return &done[k - 1];
  return NULL;
}

/* The candidates of one lock (by start) moved off the holds of other
 * threads where their room allows: the lock was free when they took it. */
static void deconflict(Cand *v, size_t n, const Cands *rec, const Cands *recw) {
  for (size_t i = 0; i < n; i++) {
    Cand *h = &v[i];
    int64_t d = h->e - h->s;
    for (int tries = 0; tries < 4; tries++) {
      const Cand *o = conflict(rec, recw, v, i, h);
      if (!o) break;
      if (o->e + d <= h->hi) /* after it */
        h->s = o->e, h->e = o->e + d;
      else if (o->s - d >= h->lo) /* before it */
        h->e = o->s, h->s = o->s - d;
      else
        break;
    }
  }
}

/* The locks' recorded holds of every thread into rec, their write holds
 * (a mutex's: all) into recw (by lock and start, as candidates that do not
 * move). */
static bool recorded_holds(const Rec *r, Cands *rec, Cands *recw) {
  for (size_t i = 0; i < r->n; i++)
    for (size_t a = 0; a < r->t[i].nholds; a++) {
      const RHold *h = &r->t[i].holds[a];
      ptrdiff_t l = lock_of(r, h->obj);
      Cand x = {h->s, h->e, 0, 0, i, l, h->shared};
      if (l >= 0 &&
          (VEC_PUSH(rec->v, rec->n, rec->cap, x) != 0 || (!h->shared && VEC_PUSH(recw->v, recw->n, recw->cap, x) != 0)))
        return false;
    }
  if (rec->n) qsort(rec->v, rec->n, sizeof *rec->v, cmp_cand);
  if (recw->n) qsort(recw->v, recw->n, sizeof *recw->v, cmp_cand);
  return true;
}

/* v->latest made: for each hold of v (by lock and start), of its lock's up
 * to it the one that ends last (the earlier of two that end together; one
 * of h's own thread hides another's that ends before it, but a thread's
 * counted holds go in gaps between its recorded ones). */
static bool latest_ends(Cands *v) {
  if (!v->n) return true;
  if (!(v->latest = malloc(v->n * sizeof *v->latest))) return false;
  for (size_t k = 0; k < v->n; k++) {
    const Cand *p = k && v->v[k - 1].l == v->v[k].l ? v->latest[k - 1] : NULL;
    v->latest[k] = p && p->e >= v->v[k].e ? p : &v->v[k];
  }
  return true;
}

/* The part of v (by lock) that is lock l's. */
static Cands lock_slice(const Cands *v, ptrdiff_t l) {
  size_t lo = 0, hi = v->n;
  while (lo < hi) { /* the first of lock l or later */
    size_t m = lo + (hi - lo) / 2;
    if (v->v[m].l < l)
      lo = m + 1;
    else
      hi = m;
  }
  size_t b = lo;
  while (b < v->n && v->v[b].l == l) b++;
  return (Cands){v->v + lo, b - lo, b - lo, v->latest ? v->latest + lo : NULL};
}

static bool place_counted_holds(Ctx *c, Rec *r) {
  /* (a lock handed over a few times: nothing to keep in step) */
  size_t *handoffs = calloc(r->nlocks ? r->nlocks : 1, sizeof *handoffs);
  if (!handoffs) return rfail(c);
  for (size_t i = 0; i < r->nin; i++) {
    ptrdiff_t l = r->in[i].kind == WEFT_FLOW_LOCK_HANDOFF ? lock_of(r, r->in[i].obj) : -1;
    if (l >= 0) handoffs[l]++;
  }
  int64_t total = 0;
  for (size_t i = 0; i < r->n; i++)
    for (size_t a = 0; a < r->t[i].ncounts; a++) {
      const RCount *x = &r->t[i].counts[a];
      if (handoffs[x->l] >= WAIT_CLASS_MIN && r->lock_hold[x->l] > 0) total += x->n;
    }
  Cands rec = {0}, recw = {0}, cand = {0};
  ptrdiff_t *votes = NULL;
  Gap *g = NULL;
  size_t cap = 0;
  for (size_t i = 0; i < r->n && total <= PLACE_MAX; i++) {
    RThread *t = &r->t[i];
    for (size_t a = 0; a < t->ncounts; a++) {
      RCount *x = &t->counts[a];
      if (handoffs[x->l] < WAIT_CLASS_MIN || r->lock_hold[x->l] <= 0 || x->n <= 0) continue;
      int placed = place_count(c, r, i, t->nholds, x, &g, &cap, &cand);
      if (placed < 0) goto fail;
      x->placed = placed; /* (not spread as well, when the replay takes the placed holds) */
    }
  }
  if (cand.n) {
    votes = calloc(r->nlocks, sizeof *votes);
    if (!votes) goto fail;
    for (size_t a = 0, b; a < cand.n; a = b) { /* each thread's (made in the threads' order) */
      RThread *t = &r->t[cand.v[a].ti];
      for (b = a; b < cand.n && cand.v[b].ti == cand.v[a].ti; b++) {}
      rw_votes(r, t, votes, 1);
      for (size_t k = a; k < b; k++) /* a rwlock's: read, unless the thread's recorded holds of it are writes */
        cand.v[k].shared = r->lock_rw[cand.v[k].l] && votes[cand.v[k].l] >= 0;
      rw_votes(r, t, votes, 0);
    }
    if (!recorded_holds(r, &rec, &recw) || !latest_ends(&rec)) goto fail;
    qsort(cand.v, cand.n, sizeof *cand.v, cmp_cand);
    for (size_t a = 0, b; a < cand.n; a = b) { /* each lock's */
      for (b = a; b < cand.n && cand.v[b].l == cand.v[a].l; b++) {}
      Cands lr = lock_slice(&rec, cand.v[a].l), lw = lock_slice(&recw, cand.v[a].l);
      deconflict(cand.v + a, b - a, &lr, &lw);
    }
    r->nplaced = (int64_t)cand.n;
    for (size_t k = 0; k < cand.n; k++) {
      RThread *t = &r->t[cand.v[k].ti];
      RHold h = {r->lock_ids[cand.v[k].l], cand.v[k].s, cand.v[k].e, true, false, cand.v[k].shared};
      if (VEC_PUSH(t->holds, t->nholds, t->capholds, h) != 0) goto fail;
    }
    for (size_t i = 0; i < r->n; i++)
      if (r->t[i].nholds) qsort(r->t[i].holds, r->t[i].nholds, sizeof(RHold), cmp_hold);
  }
  free(g);
  free(votes);
  free(rec.v);
  free(rec.latest);
  free(recw.v);
  free(cand.v);
  free(handoffs);
  return true;
fail:
  free(votes);
  free(g);
  free(rec.v);
  free(rec.latest);
  free(recw.v);
  free(cand.v);
  free(handoffs);
  return c->sql.failed ? false : rfail(c);
}

/* A hand-off's figure in its lock's class (key = lock * WAIT_CLASSES +
 * class; lock nlocks: every lock's). */
typedef struct ClassVal {
  size_t key;
  double v;
} ClassVal;
typedef struct ClassRange ClassRange;

static int cmp_class_val(const void *x, const void *y) {
  const ClassVal *a = x, *b = y;
  if (a->key != b->key) return a->key < b->key ? -1 : 1;
  return (a->v > b->v) - (a->v < b->v);
}

/* Means by key of v[0..n) into med (NAN where fewer than WAIT_CLASS_MIN),
 * then each empty class of a lock from every lock's class, else from its
 * own nearest class with figures, the shorter wait first; rg: where in v
 * each class's figures are (after the same choice). A class shorter than
 * every class of its lock with figures keeps its own if it has
 * WAIT_CLASS_FEW or more: a waiter that had waited so little was not asleep
 * yet, and the longer classes' figures are a sleeper's wake-up (a
 * recording with 11 and 16 hand-offs to waiters that had waited under 0.5
 * and 1 us, 0.4-2 us each, gave those classes the next class's 12 us). */
#define WAIT_CLASS_FEW 5

/* The mean of the figures v[r.a .. r.a + r.n). */
static double range_mean(const ClassVal *v, ClassRange r) {
  double sum = 0;
  for (uint32_t x = 0; x < r.n; x++) sum += v[r.a + x].v;
  return sum / (double)r.n;
}

static void class_medians(ClassVal *v, size_t n, size_t nlocks, double (*med)[WAIT_CLASSES],
                          ClassRange (*rg)[WAIT_CLASSES]) {
  for (size_t i = 0; i <= nlocks; i++)
    for (int k = 0; k < WAIT_CLASSES; k++) med[i][k] = NAN, rg[i][k] = (ClassRange){0, 0};
  qsort(v, n, sizeof *v, cmp_class_val);
  for (size_t a = 0, b; a < n; a = b) {
    for (b = a; b < n && v[b].key == v[a].key; b++) {}
    if (b - a < WAIT_CLASS_FEW) continue;
    /* (a class with fewer than WAIT_CLASS_MIN: its range only, its mean NAN, until the choice below) */
    ClassRange r = {(uint32_t)a, (uint32_t)(b - a)};
    med[v[a].key / WAIT_CLASSES][v[a].key % WAIT_CLASSES] = b - a >= WAIT_CLASS_MIN ? range_mean(v, r) : NAN;
    rg[v[a].key / WAIT_CLASSES][v[a].key % WAIT_CLASSES] = r;
  }
  for (size_t j = 0; j <= nlocks; j++) {
    size_t i = j ? j - 1 : nlocks; /* every lock's first: a lock's empty classes take from it */
    double own[WAIT_CLASSES];
    ClassRange ownrg[WAIT_CLASSES];
    memcpy(own, med[i], sizeof own);
    memcpy(ownrg, rg[i], sizeof ownrg);
    bool shorter = true; /* than every class with figures so far */
    for (int k = 0; k < WAIT_CLASSES; k++) {
      if (!isnan(own[k])) {
        shorter = false;
        continue;
      }
      rg[i][k] = (ClassRange){0, 0};
      if (i < nlocks && !isnan(med[nlocks][k])) {
        med[i][k] = med[nlocks][k], rg[i][k] = rg[nlocks][k];
      } else if (shorter && ownrg[k].n) { /* its own few */
        med[i][k] = range_mean(v, ownrg[k]), rg[i][k] = ownrg[k];
      } else if (i < nlocks) {
        int from = -1;
        for (int d = 1; d <= k && from < 0; d++) /* the nearest shorter wait's first */
          if (!isnan(own[k - d])) from = k - d;
        for (int d = 1; k + d < WAIT_CLASSES && from < 0; d++)
          if (!isnan(own[k + d])) from = k + d;
        if (from >= 0) med[i][k] = own[from], rg[i][k] = ownrg[from];
      }
    }
  }
}

/* Each lock's hand-off latency and unlock cost by the waiter's wait before
 * the release (its hand-off flows, their waits and unlock_cost rows). */
static bool load_wait_classes(Ctx *c, Rec *r) {
  size_t nl = r->nlocks;
  r->lat_by = malloc((nl + 1) * sizeof *r->lat_by);
  r->cost_by = malloc((nl + 1) * sizeof *r->cost_by);
  r->lat_rg = malloc((nl + 1) * sizeof *r->lat_rg);
  r->cost_rg = malloc((nl + 1) * sizeof *r->cost_rg);
  ClassVal *lat = r->class_v = malloc((4 * r->nin + 1) * sizeof *lat),
           *cost = lat + 2 * r->nin; /* (each twice: its lock's, all's) */
  if (!r->lat_by || !r->cost_by || !r->lat_rg || !r->cost_rg || !lat) return rfail(c);
  size_t nlat = 0, ncost = 0;
  for (size_t i = 0; i < r->nin; i++) {
    const RFlow *f = &r->in[i];
    ptrdiff_t l = f->kind == WEFT_FLOW_LOCK_HANDOFF ? lock_of(r, f->obj) : -1;
    RThread *t = l >= 0 ? rthread(r, f->to_utid) : NULL, *from = l >= 0 ? rthread(r, f->from_utid) : NULL;
    if (!t || !from) continue;
    size_t a = FIRST_FROM(t->st, t->nst, e, f->to_ns - SAME_NS); /* the wait it ended */
    while (a < t->nst && t->st[a].s <= f->to_ns && (t->st[a].obj != f->obj || t->st[a].st == WEFT_ST_RUNNING)) a++;
    if (a >= t->nst || t->st[a].s > f->from_ns || t->st[a].obj != f->obj) continue;
    int k = wait_class((double)(f->from_ns - t->st[a].s));
    double x = (double)max64(0, f->to_ns - f->from_ns), y = unlock_cost(from, f->obj, f->from_ns);
    lat[nlat++] = (ClassVal){(size_t)l * WAIT_CLASSES + (size_t)k, x};
    lat[nlat++] = (ClassVal){nl * WAIT_CLASSES + (size_t)k, x};
    if (y > 0) {
      cost[ncost++] = (ClassVal){(size_t)l * WAIT_CLASSES + (size_t)k, y};
      cost[ncost++] = (ClassVal){nl * WAIT_CLASSES + (size_t)k, y};
    }
  }
  class_medians(lat, nlat, nl, r->lat_by, r->lat_rg);
  class_medians(cost, ncost, nl, r->cost_by, r->cost_rg);
  for (size_t i = 0; i <= nl; i++) /* (cost's ranges into the whole block) */
    for (int k = 0; k < WAIT_CLASSES; k++) r->cost_rg[i][k].a += (uint32_t)(2 * r->nin);
  return true;
}

/* What the release ending hold h took that is taken out of the work after
 * it: a release that woke a waiter (handed the lock over, or woke one that
 * found it taken again), paid again where a replayed release has a waiter;
 * a read release only as the last reader; a placed hold nothing. */
static double taken_cost(const RThread *t, const RHold *h) {
  return h->placed            ? 0
         : !h->shared         ? unlock_cost_of(t, h->obj, h->e, true)
         : has_point(t, h->e) ? unlock_cost(t, h->obj, h->e)
                              : 0;
}

/* t's marks: its holds (those that begin where a wait of its for that lock
 * ended are taken at the wait's start instead), the points waited for, and
 * its arrivals as the last of a barrier round. */
static bool thread_marks(Sim *s, const RThread *t, Marks *mk) {
  const Rec *r = s->r;
  for (size_t i = 0; i < t->nholds; i++) {
    const RHold *h = &t->holds[i];
    ptrdiff_t l = lock_of(r, h->obj);
    if (l < 0 || (h->placed && !s->placed)) continue;
    bool gone = s->ch && s->ch->kind == WEFT_REPLAY_LOCK_FREE && h->obj == s->ch->lock_obj;
    const RState *w = state_before(t, h->s);
    bool after_wait = w && w->obj == h->obj && w->st != WEFT_ST_RUNNING && llabs(w->e - h->s) <= SAME_NS;
    if (!gone && !after_wait && !mark(s, mk, h->s, 1, l)) return false;
    if (!gone && !after_wait) mk->v[mk->n - 1].shared = h->shared;
    if (!mark(s, mk, h->e, gone ? 4 : 0, l)) return false;
    mk->v[mk->n - 1].shared = h->shared;
    mk->v[mk->n - 1].cost = taken_cost(t, h);
  }
  for (size_t i = 0; i < t->npoints; i++)
    if (!mark(s, mk, t->points[i], 2, 0)) return false;
  for (size_t k = 0; k < s->nrounds; k++) /* the barrier rounds it arrived at last */
    if (s->rounds[k].from_utid == t->utid && !mark(s, mk, s->rounds[k].from_ns, 3, (int64_t)k)) return false;
  if (s->ch && (s->ch->kind == WEFT_REPLAY_BALANCE || s->ch->kind == WEFT_REPLAY_REGION_FASTER) && s->ch->rg &&
      /* its work in the region is another's share, or faster */
      (!mark(s, mk, s->ch->rg->start_ns, 2, 0) || !mark(s, mk, s->ch->rg->end_ns, 2, 0)))
    return false;
  for (size_t k = 0; s->ch && s->ch->kind == WEFT_REPLAY_BALANCE && k < s->ch->nrounds; k++) {
    const WeftRegion *rg = s->ch->rounds[k];
    bool member = false; /* (only a member's work changes: the others' runs are not cut there) */
    for (size_t i = 0; i < rg->nteam && !member; i++) member = rg->team_utid[i] == t->utid;
    if (member && (!mark(s, mk, rg->start_ns, 2, 0) || !mark(s, mk, rg->end_ns, 2, 0))) return false;
  }
  if (mk->n) qsort(mk->v, mk->n, sizeof *mk->v, cmp_mark);
  return true;
}

/* How much of a run's work is kept: the change's factor inside the holds of
 * its lock or for its thread, else 1. */
static double balance_factor(const WeftRegion *rg, int64_t utid, int64_t x) {
  if (x < rg->start_ns || x >= rg->end_ns || !rg->nteam) return 1;
  for (size_t i = 0; i < rg->nteam; i++)
    if (rg->team_utid[i] == utid && rg->team_useful_ns[i] > 0)
      return (double)rg->pop.sum_useful_ns / (double)rg->nteam / (double)rg->team_useful_ns[i];
  return 1;
}

/* Outside t's recorded holds of lock l, at x: the work kept when its holds
 * nobody waited for (counted, not recorded) keep `factor` of theirs: their
 * number times the lock's mean hold, spread over the running time of the
 * count's span. */
static double unrecorded_factor(const Rec *r, const RThread *t, ptrdiff_t l, int64_t x, double factor, bool placed) {
  if (r->lock_hold[l] <= 0) return 1;
  for (size_t a = FIRST_FROM(t->counts, t->ncounts, e, x); a < t->ncounts && t->counts[a].s <= x; a++) {
    const RCount *k = &t->counts[a];
    if (k->l != l || k->run <= 0 || (placed && k->placed)) continue;
    double cs = fmin(1.0, (double)k->n * r->lock_hold[l] / (double)k->run); /* the critical sections' share */
    return 1 - cs * (1 - factor);
  }
  return 1;
}

/* balance:NAME: the round of the barrier at x (the last that starts at or before it), spread evenly */
static double rounds_factor(const Change *ch, int64_t utid, int64_t x) {
  size_t lo = 0, hi = ch->nrounds;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ch->rounds[mid]->start_ns <= x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo ? balance_factor(ch->rounds[lo - 1], utid, x) : 1;
}

static double work_factor(const Sim *s, const RThread *t, const int *held, int64_t x) {
  if (!s->ch) return 1;
  if (s->ch->kind == WEFT_REPLAY_BALANCE)
    return s->ch->nrounds ? rounds_factor(s->ch, t->utid, x) : balance_factor(s->ch->rg, t->utid, x);
  if (s->ch->kind == WEFT_REPLAY_REGION_FASTER) /* every thread's work inside it */
    return x >= s->ch->rg->start_ns && x < s->ch->rg->end_ns ? s->ch->factor : 1;
  if (s->ch->kind == WEFT_REPLAY_THREAD_FASTER && t->utid == s->ch->utid) return s->ch->factor;
  if (s->ch->kind == WEFT_REPLAY_LOCK_SHORTER) {
    ptrdiff_t l = lock_of(s->r, s->ch->lock_obj);
    if (l >= 0 && held[l] > 0) return s->ch->factor;
    if (l >= 0) return unrecorded_factor(s->r, t, l, x, s->ch->factor, s->placed);
  }
  return 1;
}

/* A wait state of t: the operation that replays it. */
/* Wait w as a delay: as long as it was. */
static bool op_delay(Sim *s, SimThr *st, const RState *w) {
  if (!op_push(s, st, OP_DELAY, 0, w->e, (double)(w->e - w->s))) return false;
  st->ops[st->n - 1].st = (uint8_t)w->st;
  st->ops[st->n - 1].spin = (uint16_t)lround(w->spin * SPIN_ONE);
  return true;
}

static bool wait_op(Sim *s, SimThr *st, const RThread *t, const RState *w, int *held_now) {
  const Rec *r = s->r;
  if (s->ch && s->ch->kind == WEFT_REPLAY_NO_GIL && (w->st == WEFT_ST_GIL_WAIT || is_gil(r, w->obj))) return true;
  ptrdiff_t l = lock_of(r, w->obj);
  if (l >= 0 && (w->st == WEFT_ST_LOCK_WAIT || w->st == WEFT_ST_SPIN_WAIT || w->st == WEFT_ST_RWLOCK_WAIT)) {
    if (s->ch && s->ch->kind == WEFT_REPLAY_LOCK_FREE && w->obj == s->ch->lock_obj) return true;
    if (w->failed) return op_delay(s, st, w);     /* it never got the lock: its timeout, as long as it was */
    const RHold *held = hold_at(t, w->obj, w->e); /* its hold: released where it ended; else at once */
    bool shared = held && held->shared;           /* (a rwlock's wait without a hold: taken as a write) */
    const RFlow *f = flow_into(r, t, w->s, w->e);
    /* (the import's fallback flow from a blocker starts at the wait's end: no release to go by) */
    bool handed = f && f->kind == WEFT_FLOW_LOCK_HANDOFF && f->from_ns > w->s && f->from_ns < w->e;
    if (!op_push(s, st, OP_ACQ, (int32_t)l, w->e, handed ? (double)f->from_ns : 0)) return false;
    st->ops[st->n - 1].lat = (double)w->s;
    st->ops[st->n - 1].st = (uint8_t)w->st;
    st->ops[st->n - 1].spin = (uint16_t)lround(w->spin * SPIN_ONE);
    st->ops[st->n - 1].shared = shared;
    if (held) held_now[l]++; /* its release is a mark */
    if (held) return true;
    if (!op_push(s, st, OP_REL, (int32_t)l, w->e, 0)) return false;
    st->ops[st->n - 1].shared = shared;
    return true;
  }
  const RFlow *f = flow_into(r, t, w->s, w->e);
  if (f && f->kind == WEFT_FLOW_BARRIER) {
    size_t k = round_of(s, f);
    if (k == SIZE_MAX) return rfail(s->c);
    s->rounds[k].size++;
    if (!op_push(s, st, OP_BARRIER, (int32_t)k, w->e, 0)) return false;
    st->ops[st->n - 1].lat = (double)max64(0, f->to_ns - f->from_ns);
    return true;
  }
  if (f) {
    int32_t v = tindex(r, f->from_utid);
    if (v >= 0) { /* a time: made a point later */
      if (!op_push(s, st, OP_WAITFOR, v, w->e, (double)f->from_ns)) return false;
      st->ops[st->n - 1].st = (uint8_t)w->st;
      st->ops[st->n - 1].spin = (uint16_t)lround(w->spin * SPIN_ONE);
      /* a wait that began after its event (a thread joined after its end, a message already there) was the
       * call's own time, blocked or not here: a delay after the wait for */
      if (f->from_ns < w->s) return op_delay(s, st, w);
      st->ops[st->n - 1].lat = (double)max64(0, f->to_ns - f->from_ns); /* its wake-up's, when it blocks */
      return true;
    }
  }
  return op_delay(s, st, w);
}

/* ---- a loop's interruptions, spread ----
 * In a loop of identical rounds (a lock taken and released in turn) most
 * pieces of work between the same two operations last the same, and the
 * few that last a little longer were interrupted: an interrupt, a stall of
 * the (virtual) machine, a preemption the scheduler's readings do not
 * show. Those come at a rate in time, not at a place in the program:
 * replayed where they were, every one of them stays in a changed run
 * however much shorter it gets, and each one shifts its thread against the
 * others by its whole length (two threads that took turns collide there,
 * and a collision costs a hand-off). So in such a loop (at least LOOP_MIN
 * pieces between the same two operations of a thread, the 90th percentile
 * within LOOP_TIGHT of the 10th) a piece up to LOOP_CUT_MAX longer than the
 * 90th percentile is cut to it, and what was cut is shared out over those
 * pieces by their length: the thread's work stays what it was. A piece
 * longer still did more work (a flush every hundredth round) and is left
 * where it is, as are the pieces of loops that vary (tasks of different
 * sizes). Which loops, their 90th percentiles and shares are decided once,
 * on the recorded work (Op.lat of a run) of the unchanged replay, and each
 * replay applies them to the pieces it has of those loops: a change that
 * only scales work spreads the same interruptions as the unchanged replay. */
#define LOOP_MIN     32
#define LOOP_TIGHT   1.15
#define LOOP_CUT_MAX 50e3 /* ns */

typedef struct LoopPlan {
  uint64_t key;
  double p90, share; /* a piece's work kept: min(work, p90) * share, if work <= p90 + LOOP_CUT_MAX */
} LoopPlan;

typedef struct Spread {
  int64_t x, y; /* a run's recorded time */
  double mult;  /* its work's multiplier */
} Spread;

typedef struct {
  uint64_t key; /* the operations before and after it */
  size_t i;     /* the op */
} Piece;

static int cmp_piece(const void *x, const void *y) {
  const Piece *a = x, *b = y;
  if (a->key != b->key) return a->key < b->key ? -1 : 1;
  return (a->i > b->i) - (a->i < b->i);
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* An operation a run is between, as a key: its kind and lock, thread or
 * barrier (not the round). */
static uint64_t op_key(const Sim *s, const Op *o) {
  uint64_t x = o->kind == OP_BARRIER ? (uint64_t)s->rounds[o->x].obj : (uint32_t)o->x;
  return 1 + ((uint64_t)o->kind << 56 ^ x);
}

static bool is_sync(const Op *o) { return o->kind != OP_RUN && o->kind != OP_DELAY; }

/* The runs of st with recorded work, keyed by the sync operations around them, sorted by key. */
static size_t pieces(const Sim *s, const SimThr *st, Piece *pc) {
  size_t np = 0;
  uint64_t after = 0;
  for (size_t i = st->n; i-- > 0;) { /* each run with the sync operation after it, */
    if (is_sync(&st->ops[i])) after = op_key(s, &st->ops[i]);
    if (st->ops[i].kind == OP_RUN && st->ops[i].lat > EPS) pc[np++] = (Piece){after, i};
  }
  uint64_t before = 0;
  for (size_t i = 0, k = np; i < st->n; i++) { /* and the one before it */
    if (is_sync(&st->ops[i])) before = op_key(s, &st->ops[i]);
    if (st->ops[i].kind == OP_RUN && st->ops[i].lat > EPS) k--, pc[k].key ^= before * 0x9e3779b97f4a7c15u;
  }
  qsort(pc, np, sizeof *pc, cmp_piece);
  return np;
}

/* The plan of t's tight loops from the pieces pc[0..np) of its unchanged replay. */
static bool plan_loops(Sim *s, const SimThr *st, RThread *t, const Piece *pc, size_t np) {
  LoopPlan **plan = &t->plan[s->placed];
  size_t *n = &t->nplan[s->placed], cap = 0;
  double *v = malloc((np + 1) * sizeof *v); /* one loop's recorded work, sorted */
  if (!v) return rfail(s->c);
  for (size_t a = 0, b; a < np; a = b) {
    for (b = a; b < np && pc[b].key == pc[a].key; b++) v[b - a] = st->ops[pc[b].i].lat;
    size_t m = b - a;
    if (m < LOOP_MIN) continue;
    qsort(v, m, sizeof *v, cmp_double);
    double p10 = v[m / 10], p90 = v[9 * m / 10], cut = 0, kept = 0;
    if (p90 > LOOP_TIGHT * p10) continue;
    for (size_t k = 0; k < m && v[k] <= p90 + LOOP_CUT_MAX; k++) {
      cut += fmax(0, v[k] - p90);
      kept += fmin(v[k], p90);
    }
    LoopPlan x = {pc[a].key, p90, kept > 0 ? 1 + cut / kept : 1};
    if (cut > 0 && VEC_PUSH(*plan, *n, cap, x) != 0) return free(v), rfail(s->c);
  }
  free(v);
  t->planned[s->placed] = true;
  return true;
}

static int cmp_spread(const void *x, const void *y) {
  const Spread *a = x, *b = y;
  return (a->x > b->x) - (a->x < b->x);
}

/* A changed replay's runs: each run's work times the unchanged replay's
 * multipliers over its recorded time (1 where it had none), weighted by time. */
static void spread_as_unchanged(const RThread *t, bool placed, SimThr *st) {
  const Spread *sp = t->spread[placed];
  size_t n = t->nspread[placed];
  for (size_t i = 0; n && i < st->n; i++) {
    Op *o = &st->ops[i];
    if (o->kind != OP_RUN || o->lat <= EPS) continue;
    int64_t x = st->run_from[i], y = o->rec;
    if (y <= x) continue;
    size_t k = FIRST_FROM(sp, n, y, x + 1);
    double sum = 0, cov = 0;
    for (; k < n && sp[k].x < y; k++) {
      double ov = (double)(min64(y, sp[k].y) - max64(x, sp[k].x));
      if (ov <= 0) continue;
      sum += ov * sp[k].mult;
      cov += ov;
    }
    if (cov > 0) o->v *= (sum + ((double)(y - x) - cov)) / (double)(y - x);
  }
}

static bool spread_interruptions(Sim *s, SimThr *st, size_t ti) {
  RThread *t = &s->r->t[ti];
  if (s->ch) { /* (before its mode's unchanged replay, which the report never runs: nothing to follow) */
    spread_as_unchanged(t, s->placed, st);
    return true;
  }
  if (t->planned[s->placed] && !t->nplan[s->placed]) return true;
  bool first = !t->planned[s->placed];
  Piece *pc = malloc((st->n + 1) * sizeof *pc);
  if (!pc) return rfail(s->c);
  size_t np = pieces(s, st, pc), cap = 0;
  bool ok = !first || plan_loops(s, st, t, pc, np);
  const LoopPlan *plan = t->plan[s->placed];
  size_t nplan = t->nplan[s->placed], j = 0;
  for (size_t k = 0; ok && k < np; k++) { /* (plan and pieces both by key) */
    while (j < nplan && plan[j].key < pc[k].key) j++;
    if (j == nplan) break;
    Op *o = &st->ops[pc[k].i];
    if (plan[j].key != pc[k].key || o->lat > plan[j].p90 + LOOP_CUT_MAX) continue;
    double mult = fmin(o->lat, plan[j].p90) * plan[j].share / o->lat;
    o->v *= mult;
    Spread x = {st->run_from[pc[k].i], o->rec, mult};
    if (first && VEC_PUSH(t->spread[s->placed], t->nspread[s->placed], cap, x) != 0) ok = rfail(s->c);
  }
  if (first && t->nspread[s->placed]) qsort(t->spread[s->placed], t->nspread[s->placed], sizeof(Spread), cmp_spread);
  free(pc);
  return ok;
}

/* When a thread or process started at ns was made by thread v: ns, or the
 * start of the wait v was in then (a vfork, whose parent is held until its
 * child execs and then waits: the import dates it at the child's start). Its
 * start's latency (the kernel's, the loader's, the agent's) runs from there. */
static int64_t made_at(const RThread *v, int64_t ns) {
  size_t a = FIRST_FROM(v->st, v->nst, e, ns + 1); /* (the state ns falls in, not one ending at it) */
  return a < v->nst && v->st[a].s < ns && v->st[a].st != WEFT_ST_RUNNING ? v->st[a].s : ns;
}

static bool build_thread(Sim *s, size_t ti, int *held) {
  const Rec *r = s->r;
  const RThread *t = &r->t[ti];
  SimThr *st = &s->th[ti];
  const RFlow *f = flow_into(r, t, t->start - 1, t->start + SAME_NS);
  int32_t v = f ? tindex(r, f->from_utid) : -1;
  if (v >= 0 && (f->kind == WEFT_FLOW_CREATE || f->kind == WEFT_FLOW_FORK || f->kind == WEFT_FLOW_EXEC)) {
    if (!op_push(s, st, OP_WAITFOR, v, t->start, (double)f->from_ns)) return false;
    st->ops[0].st = TL_NONE; /* (not started yet) */
    st->ops[0].lat = (double)max64(0, t->start - made_at(&r->t[v], f->from_ns));
  } else if (!op_push(s, st, OP_START_AT, 0, t->start, (double)(t->start - r->start))) {
    return false;
  }
  Marks mk = {0};
  if (!thread_marks(s, t, &mk)) return free(mk.v), false;
  memset(held, 0, r->nlocks * sizeof *held);
  size_t mi = 0;
  double debt = 0;
  for (size_t k = 0; k < t->nst; k++) {
    const RState *w = &t->st[k];
    int64_t x = w->s;
    if (w->st != WEFT_ST_RUNNING && !wait_op(s, st, t, w, held)) break;
    for (; mi < mk.n && mk.v[mi].ns <= w->e; mi++) { /* the marks in (or at the end of) this state */
      const Mark *m = &mk.v[mi];
      if (w->st == WEFT_ST_RUNNING && m->ns > x) {
        if (!run_piece(s, st, t, x, m->ns, work_factor(s, t, held, x), &debt)) break;
        x = m->ns;
      }
      debt += m->kind == 0 || m->kind == 4 ? m->cost : 0;
      if (m->kind == 1 || m->kind == 0) {
        held[m->x] += m->kind == 1 ? 1 : held[m->x] > 0 ? -1 : 0; /* (a release of no hold counted: not below 0) */
        if (!op_push(s, st, m->kind == 1 ? OP_ACQ : OP_REL, (int32_t)m->x, m->ns, 0)) break;
        st->ops[st->n - 1].shared = m->shared;
        st->ops[st->n - 1].lat = m->cost; /* a release: what its waking costs, if it wakes someone */
      } else if (m->kind == 3 && !op_push(s, st, OP_BARRIER, (int32_t)m->x, m->ns, 0)) {
        break;
      }
    }
    if (w->st == WEFT_ST_RUNNING && !run_piece(s, st, t, x, w->e, work_factor(s, t, held, x), &debt)) break;
  }
  free(mk.v);
  bool ok = !s->c->sql.failed && spread_interruptions(s, st, ti);
  free(st->run_from); /* (needed no further) */
  st->run_from = NULL;
  st->caprun = 0;
  return ok;
}

/* A wait for's time into the number of operations the thread it waits for
 * had done by that time. */
static void resolve_points(Sim *s) {
  for (size_t i = 0; i < s->r->n; i++) {
    SimThr *st = &s->th[i];
    for (size_t k = 0; k < st->n; k++) {
      Op *o = &st->ops[k];
      if (o->kind != OP_WAITFOR) continue;
      const SimThr *v = &s->th[o->x];
      int64_t ns = (int64_t)o->v;
      o->v = (double)FIRST_FROM(v->ops, v->n, rec, ns + 1); /* the ops it had done by ns */
    }
  }
}

/* ---- the simulation ---- */
/* key (thread idx) into h's hole at i: up, or down, to where it belongs. */
static void heap_place(Heap *h, size_t i, double key, size_t idx) {
  while (i > 0 && h->key[(i - 1) / 2] > key) {
    h->key[i] = h->key[(i - 1) / 2];
    h->idx[i] = h->idx[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n) break;
    if (c + 1 < h->n && h->key[c + 1] < h->key[c]) c++;
    if (h->key[c] >= key) break;
    h->key[i] = h->key[c];
    h->idx[i] = h->idx[c];
    i = c;
  }
  h->key[i] = key;
  h->idx[i] = idx;
}

static bool heap_push(Sim *s, Heap *h, double key, size_t idx) {
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 64;
    double *k = realloc(h->key, cap * sizeof *k);
    if (k) h->key = k;
    size_t *x = realloc(h->idx, cap * sizeof *x);
    if (x) h->idx = x;
    if (!k || !x) return rfail(s->c);
    h->cap = cap;
  }
  heap_place(h, h->n++, key, idx);
  return true;
}

static size_t heap_pop(Heap *h) {
  size_t top = h->idx[0];
  h->n--;
  if (h->n) heap_place(h, 0, h->key[h->n], h->idx[h->n]);
  return top;
}

/* Thread idx out of h, wherever it is (a linear search: only a process's end does this). */
static void heap_remove(Heap *h, size_t idx) {
  size_t i = 0;
  while (i < h->n && h->idx[i] != idx) i++;
  if (i == h->n) return;
  h->n--;
  if (i < h->n) heap_place(h, i, h->key[h->n], h->idx[h->n]);
}

static void heap_free(Heap *h) {
  free(h->key);
  free(h->idx);
}

/* ti into the run heap for work w at now. */
static bool run_push(Sim *s, size_t ti, double w, double now) {
  s->th[ti].run_since = now;
  return heap_push(s, &s->run, s->vnow + w, ti);
}

/* ti out of the run heap at now: its time there counted, but a wake-up's. */
static void run_left(Sim *s, size_t ti, double now) {
  SimThr *t = &s->th[ti];
  if (!t->waking) t->run_wall += now - t->run_since;
}

/* Thread ti to be stepped. */
static bool work_push(Sim *s, size_t ti) {
  if (s->th[ti].queued) return true;
  if (VEC_PUSH(s->work, s->nwork, s->capwork, ti) != 0) return rfail(s->c);
  s->th[ti].queued = true;
  return true;
}

/* Thread ti got further: those waiting for it look again. */
static bool notify(Sim *s, size_t ti) {
  SimThr *t = &s->th[ti];
  for (size_t k = 0; k < t->nwaiters; k++) {
    s->th[t->waiters[k]].waiting_on = -1;
    if (!work_push(s, t->waiters[k])) return false;
  }
  t->nwaiters = 0;
  return true;
}

/* ti is in a delay now: into the heap of delays. */
static bool delayed(Sim *s, size_t ti) { return heap_push(s, &s->delay, s->th[ti].until, ti); }

/* One of the recording's figures of class rg, drawn (their spread, not only
 * their mean: replayed rounds fall out of step as the real ones do); mean
 * where the class has none. */
static double draw(Sim *s, ClassRange rg, double mean) {
  if (!rg.n) return mean;
  s->rng ^= s->rng << 13; /* xorshift64 */
  s->rng ^= s->rng >> 7;
  s->rng ^= s->rng << 17;
  return s->r->class_v[rg.a + s->rng % rg.n].v;
}

/* What thread ti wants of a CPU while it waits, as it is now, into
 * Sim.spin and Sim.busy: a wait that spins (Op.spin) while blocked, or in a
 * delay that is the wait itself (not a wake-up's latency). */
static void spin_note(Sim *s, size_t ti) {
  SimThr *t = &s->th[ti];
  double v = 0;
  if (t->pc < t->n && !t->waking &&
      (t->state == TS_BLOCKED || (t->state == TS_DELAY && t->ops[t->pc].kind == OP_DELAY)))
    v = t->ops[t->pc].spin / SPIN_ONE;
  bool busy = v > 0 && t->ops[t->pc].st == WEFT_ST_SPIN_WAIT;
  if (busy != t->busy) {
    s->busy = busy ? s->busy + 1 : s->busy - 1;
    t->busy = busy;
  }
  if (busy) v = 0;
  if (v == t->spin) return;
  s->nspin += (v > 0) - (t->spin > 0);
  s->spin = s->nspin ? s->spin + v - t->spin : 0; /* (no drift left once none spins) */
  t->spin = v;
}

/* Whether t, at a write (or mutex) release of lock l, takes l again as
 * it did in the recording before any of l's waiters was handed it: its
 * next operation but work (and that work's time off a CPU) an acquire of l
 * (a read one: it keeps l until then, and goes on reading) recorded before
 * the earliest release that handed l to one of them. */
static bool takes_again(const Sim *s, const SimThr *t, const SimLock *l, int32_t li) {
  double before = INFINITY;
  for (size_t k = 0; k < l->qn; k++) {
    const SimThr *w = &s->th[l->q[(l->qh + k) % l->qcap]];
    if (w->ops[w->pc].v > 0) before = fmin(before, w->ops[w->pc].v);
  }
  for (size_t k = t->pc + 1; k < t->n; k++) {
    const Op *o = &t->ops[k];
    if (o->kind == OP_RUN || (o->kind == OP_DELAY && o->st == TL_OFF)) continue;
    return o->kind == OP_ACQ && o->x == li && (double)o->rec < before;
  }
  return false;
}

/* Whether a release recorded at rec may hand the lock to waiter ti: not
 * one its recorded wait went on through (the releaser, or another thread,
 * took the lock again before the waiter ran: a mutex is not fair). */
static bool may_hand(const Sim *s, size_t ti, int64_t rec) {
  const Op *o = &s->th[ti].ops[s->th[ti].pc];
  return !(o->v > 0 && (double)rec >= o->lat && (double)rec < o->v);
}

/* The first of l's waiters a release recorded at rec may hand it to (an index into its queue), l->qn if none. */
static size_t lock_next(const Sim *s, const SimLock *l, int64_t rec) {
  size_t k = 0;
  while (k < l->qn && !may_hand(s, l->q[(l->qh + k) % l->qcap], rec)) k++;
  return k;
}

static void lock_unqueue(SimLock *l, size_t ti);

/* Whether thread ti's operation (an acquire) takes a rwlock's read hold. */
static bool op_shared(const Sim *s, size_t ti) { return s->th[ti].ops[s->th[ti].pc].shared; }

/* l to its waiter next (out of the queue). */
static bool lock_to(Sim *s, SimLock *l, size_t next, double now) {
  lock_unqueue(l, next);
  if (op_shared(s, next))
    l->readers++;
  else
    l->owner = (int64_t)next;
  SimThr *t = &s->th[next];
  /* its acquire is done; it runs after the hand-off's latency: as recorded
   * for waiters that had waited as long, else the lock's mean */
  int k = wait_class(now - t->wait_since);
  double lat = draw(s, s->r->lat_rg[l - s->locks][k], s->r->lat_by[l - s->locks][k]);
  if (isnan(lat)) lat = l->lat;
  t->pc++;
  t->waking = lat > EPS;
  t->state = t->waking ? TS_DELAY : TS_READY;
  t->until = now + lat;
  spin_note(s, next);
  return (t->waking ? delayed(s, next) : work_push(s, next)) && notify(s, next);
}

/* l, free now, to the qi-th of its waiters, and with a reader every other
 * reader a release recorded at rec may hand it to (they share it). */
static bool lock_grant(Sim *s, SimLock *l, double now, size_t qi, int64_t rec) {
  if (!l->qn) return true;
  size_t next = l->q[(l->qh + qi) % l->qcap];
  bool shared = op_shared(s, next);
  if (!lock_to(s, l, next, now)) return false;
  for (size_t k = 0; shared && k < l->qn;) {
    size_t i = l->q[(l->qh + k) % l->qcap];
    if (!op_shared(s, i) || !may_hand(s, i, rec))
      k++;
    else if (!lock_to(s, l, i, now))
      return false;
  }
  return true;
}

/* ti out of l's queue. */
static void lock_unqueue(SimLock *l, size_t ti) {
  for (size_t k = 0; k < l->qn; k++)
    if (l->q[(l->qh + k) % l->qcap] == ti) {
      for (size_t j = k; j + 1 < l->qn; j++) l->q[(l->qh + j) % l->qcap] = l->q[(l->qh + j + 1) % l->qcap];
      l->qn--;
      return;
    }
}

static bool lock_wait(Sim *s, SimLock *l, size_t ti) {
  if (l->qn == l->qcap) {
    size_t cap = l->qcap ? 2 * l->qcap : 8, *q = malloc(cap * sizeof *q);
    if (!q) return rfail(s->c);
    for (size_t i = 0; i < l->qn; i++) q[i] = l->q[(l->qh + i) % l->qcap];
    free(l->q);
    l->q = q;
    l->qh = 0;
    l->qcap = cap;
  }
  l->q[(l->qh + l->qn++) % l->qcap] = ti;
  return true;
}

/* t's wait is over: it runs again after lat (the op done). */
static void wake(SimThr *t, double now, double lat) {
  t->pc++;
  t->state = TS_DELAY;
  t->until = now + lat;
  t->waking = true;
}

/* ti waits for thread v to get further. */
static bool wait_for(Sim *s, size_t ti, int32_t v) {
  SimThr *t = &s->th[ti], *w = &s->th[v];
  t->state = TS_BLOCKED;
  if (t->waiting_on == v) return true;
  if (VEC_PUSH(w->waiters, w->nwaiters, w->capwaiters, ti) != 0) return rfail(s->c);
  t->waiting_on = v;
  return true;
}

/* The members of a round that came before the last: on their way. */
static bool round_done(Sim *s, size_t k) {
  for (size_t i = 0; i < s->r->n; i++) {
    const SimThr *t = &s->th[i];
    if (t->state == TS_BLOCKED && t->pc < t->n && t->ops[t->pc].kind == OP_BARRIER && (size_t)t->ops[t->pc].x == k &&
        !work_push(s, i))
      return false;
  }
  return true;
}

static bool tl_note(Sim *s, size_t ti, double now);

/* The read holds of rwlock l thread t has now (its done acquires less releases). */
static int64_t read_holds(const SimThr *t, int32_t l) {
  int64_t n = 0;
  for (size_t k = 0; k < t->pc && k < t->n; k++)
    if (t->ops[k].x == l && t->ops[k].shared) n += t->ops[k].kind == OP_ACQ ? 1 : t->ops[k].kind == OP_REL ? -1 : 0;
  return n > 0 ? n : 0;
}

/* Thread ti has ended: the threads its end ends (Rec.tied) end now,
 * whatever they were doing: out of the heaps and the lock queues, their
 * locks handed on, those waiting for them told. */
static bool end_tied(Sim *s, size_t ti, double now) {
  const Rec *r = s->r;
  for (size_t k = r->tied_at[ti]; k < r->tied_at[ti + 1]; k++) {
    size_t i = r->tied[k];
    SimThr *t = &s->th[i];
    if (t->state == TS_DONE) continue;
    if (t->state == TS_RUN) heap_remove(&s->run, i), run_left(s, i, now);
    if (t->state == TS_DELAY) heap_remove(&s->delay, i);
    if (t->state == TS_BLOCKED && t->pc < t->n && t->ops[t->pc].kind == OP_ACQ)
      lock_unqueue(&s->locks[t->ops[t->pc].x], i);
    t->state = TS_DONE;
    t->end = now;
    t->waking = false;
    s->ndone++;
    spin_note(s, i);
    for (size_t l = 0; l < r->nlocks; l++) {
      SimLock *x = &s->locks[l];
      /* (a granted reader in its hand-off's latency too; only a rwlock has read holds) */
      int64_t rd = r->lock_rw[l] ? read_holds(t, (int32_t)l) : 0;
      bool held = rd > 0 || x->owner == (int64_t)i;
      x->readers = rd < x->readers ? x->readers - rd : 0;
      if (x->owner == (int64_t)i) x->owner = -1;
      if (held && x->owner < 0 && !x->readers && !lock_grant(s, x, now, 0, INT64_MIN)) return false;
    }
    if (!notify(s, i) || !tl_note(s, i, now)) return false;
  }
  return true;
}

/* Run t's operations that take no time until it must wait, run or is done. */
static bool step(Sim *s, size_t ti, double now) {
  SimThr *t = &s->th[ti];
  while (t->state == TS_READY || t->state == TS_BLOCKED) {
    if (t->pc >= t->n) {
      t->state = TS_DONE;
      t->end = now;
      s->ndone++;
      return end_tied(s, ti, now);
    }
    const Op *o = &t->ops[t->pc];
    if (o->kind == OP_RUN || o->kind == OP_DELAY) {
      if (o->v <= EPS) {
        t->pc++;
        t->state = TS_READY;
        continue;
      }
      t->state = o->kind == OP_RUN ? TS_RUN : TS_DELAY;
      t->until = now + o->v;
      return o->kind == OP_RUN ? run_push(s, ti, o->v, now) : delayed(s, ti);
    }
    if (o->kind == OP_START_AT) {
      if (now + EPS < o->v) {
        t->state = TS_DELAY;
        t->until = o->v;
        return delayed(s, ti);
      }
    } else if (o->kind == OP_WAITFOR) {
      const SimThr *v = &s->th[o->x];
      if (v->pc < (size_t)o->v && v->state != TS_DONE) return wait_for(s, ti, o->x);
      /* (a thread's start takes its latency however late its creator gets there) */
      if ((t->state == TS_BLOCKED || o->st == TL_NONE) && o->lat > EPS) return wake(t, now, o->lat), delayed(s, ti);
    } else if (o->kind == OP_ACQ) {
      SimLock *l = &s->locks[o->x];
      if (t->state == TS_BLOCKED) return true; /* queued: lock_grant moves it on */
      if ((l->owner >= 0 && l->owner != (int64_t)ti) || (!o->shared && l->readers > 0)) {
        t->state = TS_BLOCKED;
        t->wait_since = now;
        return lock_wait(s, l, ti);
      }
      if (o->shared) {
        if (l->owner == (int64_t)ti) l->owner = -1; /* (a write hold kept for it: takes_again) */
        l->readers++;                               /* (readers go in while a writer waits, as glibc's default) */
      } else {
        l->owner = (int64_t)ti;
      }
    } else if (o->kind == OP_REL) {
      SimLock *l = &s->locks[o->x];
      if (o->shared && l->readers > 0) l->readers--;
      /* does it free the lock (a read hold: the last of them) */
      bool mine = o->shared ? l->readers == 0 && l->owner < 0 : l->owner == (int64_t)ti, wakes = mine && l->qn > 0;
      size_t q = wakes ? lock_next(s, l, o->rec) : 0;
      if (q == l->qn && wakes && !o->shared && takes_again(s, t, l, o->x)) {
        /* as recorded: it takes it again first (the waiter it woke found it taken), paying the waking
         * the recording took out of its work after it (0: none) */
        t->pc++;
        if (o->lat <= EPS) continue;
        t->state = TS_RUN;
        t->waking = true;
        return run_push(s, ti, o->lat, now);
      }
      if (q == l->qn) q = 0;
      /* what waking the next owner costs: as recorded for waiters that had waited as long as it, else
       * what this release took in the recording, else the lock's mean */
      int k = wakes ? wait_class(now - s->th[l->q[(l->qh + q) % l->qcap]].wait_since) : 0;
      double cost = wakes ? draw(s, s->r->cost_rg[o->x][k], s->r->cost_by[o->x][k]) : NAN;
      if (isnan(cost)) cost = o->lat > 0 ? o->lat : s->r->lock_wake[o->x];
      if (mine) l->owner = -1;
      if (mine && !lock_grant(s, l, now, q, o->rec)) return false;
      if (wakes && cost > EPS) { /* waking the next owner takes the releaser's CPU */
        t->pc++;
        t->state = TS_RUN;
        t->waking = true;
        return run_push(s, ti, cost, now);
      }
    } else if (o->kind == OP_BARRIER) {
      Round *rd = &s->rounds[o->x];
      if (!t->arrived) {
        t->arrived = true;
        if (++rd->arrived >= rd->size) {
          rd->done = true;
          if (!round_done(s, (size_t)o->x)) return false;
        }
      }
      if (!rd->done) {
        t->state = TS_BLOCKED;
        return true;
      }
      t->arrived = false;
      if (t->state == TS_BLOCKED && o->lat > EPS) return wake(t, now, o->lat), delayed(s, ti);
    }
    t->pc++;
    t->state = TS_READY;
  }
  return true;
}

/* The earliest blocked thread skips its operation: the data left a wait no
 * one in the replay ends (an unrecorded hold, a round short of a member). */
static bool unstick(Sim *s) {
  size_t i = SIZE_MAX; /* the wait that ended first in the recording */
  for (size_t k = 0; k < s->r->n; k++)
    if (s->th[k].state == TS_BLOCKED &&
        (i == SIZE_MAX || s->th[k].ops[s->th[k].pc].rec < s->th[i].ops[s->th[i].pc].rec))
      i = k;
  if (i != SIZE_MAX) {
    SimThr *t = &s->th[i];
    const Op *o = &t->ops[t->pc];
    if (o->kind == OP_ACQ) lock_unqueue(&s->locks[o->x], i);
    t->arrived = false;
    t->pc++;
    t->state = TS_READY;
    s->forced++;
    return work_push(s, i);
  }
  return false;
}

/* The share of a CPU each of k threads with work gets, with waits that
 * spin wanting s CPUs between them, on cpus CPUs. The scheduler spreads the
 * runnable threads over the CPUs by their number, and a thread that spins
 * waiting gives its CPU up (MPI libraries call sched_yield) to another on
 * that CPU: so spinning costs the others only by taking a CPU's place,
 * which crowds the working threads onto the rest. Spread at random, a
 * working thread shares its CPU with (k - 1) (n / cpus - 1) / (n - 1) others
 * that work (n = k + s): k / cpus each without spinning, none with one CPU
 * (all of them on it, the spinning ones giving way). */
static double cpu_share(double k, double s, double cpus) {
  double n = k + s;
  if (cpus <= 0 || n <= cpus || k <= 1) return 1;
  return 1 / (1 + (k - 1) * (n / cpus - 1) / (n - 1));
}

/* ---- the timeline (Sim.timeline) ---- */
/* What t is shown doing now: a timeline state, TL_NONE when done, or -1 to
 * go on as it was (ready: only for an instant; a wake-up's latency: still
 * the wait it ends). */
static int shown_state(const SimThr *t) {
  switch (t->state) {
    case TS_DONE: return TL_NONE;
    case TS_RUN: return t->waking ? WEFT_ST_RUNNING : t->ops[t->pc].st; /* (a release waking someone: running) */
    case TS_DELAY: return t->waking ? -1 : t->ops[t->pc].st;
    case TS_BLOCKED: return t->ops[t->pc].st;
    default: return -1;
  }
}

/* t's open interval ends at now, and st's begins (TL_NONE: none). The same
 * state again goes on in the interval. */
static bool tl_switch(Sim *s, SimThr *t, int st, double now) {
  if (st == t->tl_st) return true;
  if (t->tl_st != TL_NONE && now > t->tl_s) {
    int64_t a = s->r->start + llround(t->tl_s), b = s->r->start + llround(now);
    bool run = t->tl_st == WEFT_ST_RUNNING;
    int64_t on = run ? llround(s->vnow - t->tl_v) : 0; /* every running thread moves at the CPUs' rate */
    WeftReplayInterval *last = t->ntl ? &t->tl[t->ntl - 1] : NULL;
    int32_t state = t->tl_st == TL_OFF ? WEFT_ST_RUNNING : t->tl_st, off = t->tl_st == TL_OFF;
    if (last && last->end_ns == a && last->state == state && last->offcpu == off) { /* (a zero-length state between) */
      last->end_ns = b;
      last->oncpu_ns = min64(last->oncpu_ns + on, b - last->start_ns);
    } else if (b > a) {
      WeftReplayInterval x = {a, b, state, off, on};
      if (VEC_PUSH(t->tl, t->ntl, t->captl, x) != 0) return rfail(s->c);
      t->tl[t->ntl - 1].oncpu_ns = min64(on, b - a);
    }
  }
  t->tl_st = st;
  t->tl_s = now;
  t->tl_v = s->vnow;
  return true;
}

static bool tl_note(Sim *s, size_t ti, double now) {
  int st = s->timeline ? shown_state(&s->th[ti]) : -1;
  return st < 0 || tl_switch(s, &s->th[ti], st, now);
}

/* The timelines into out (pool memory; the threads as r's), their open intervals closed at now. */
static bool tl_keep(Sim *s, double now, WeftReplayTimeline *out) {
  out->threads = pool_calloc(s->c->pool, s->r->n ? s->r->n : 1, sizeof *out->threads);
  if (!out->threads) return rfail(s->c);
  out->nthreads = s->r->n;
  for (size_t i = 0; i < s->r->n; i++) {
    SimThr *t = &s->th[i];
    if (!tl_switch(s, t, TL_NONE, now)) return false;
    WeftReplayThread *x = &out->threads[i];
    x->utid = s->r->t[i].utid;
    x->v = t->ntl ? pool_calloc(s->c->pool, t->ntl, sizeof *x->v) : NULL;
    if (t->ntl && !x->v) return rfail(s->c);
    if (t->ntl) memcpy(x->v, t->tl, t->ntl * sizeof *x->v);
    x->n = t->ntl;
  }
  return true;
}

/* Step every thread in the work list (and those it wakes). */
static bool drain(Sim *s, double now) {
  while (s->nwork) {
    size_t i = s->work[--s->nwork];
    s->th[i].queued = false;
    size_t pc = s->th[i].pc;
    if ((s->th[i].state == TS_READY || s->th[i].state == TS_BLOCKED) && !step(s, i, now)) return false;
    spin_note(s, i);
    if (!tl_note(s, i, now)) return false;
    if ((s->th[i].pc != pc || s->th[i].state == TS_DONE) && !notify(s, i)) return false;
  }
  return true;
}

/* The replay's length (ns from the first thread's start to the last one's
 * end). Processor sharing: the k threads with work (and those spinning on a
 * spin lock) and bg always ready each get cpu_share(k + bg, the waits that
 * spin yielding their CPU, cpus) of a CPU. */
static double simulate(Sim *s, double cpus, double bg, double *last) {
  size_t n = s->r->n;
  double now = 0;
  for (size_t i = 0; i < n; i++) {
    s->th[i].waiting_on = -1;
    s->th[i].tl_st = TL_NONE;
    if (!work_push(s, i)) return -1;
  }
  for (;;) {
    if (!drain(s, now)) return -1;
    if (s->ndone == n) break;
    double rate = cpu_share((double)(s->run.n + s->busy) + bg, s->spin, cpus);
    double t_run = s->run.n ? now + (s->run.key[0] - s->vnow) / rate : INFINITY;
    double t_delay = s->delay.n ? s->delay.key[0] : INFINITY;
    double next = fmin(t_run, t_delay);
    if (!isfinite(next)) { /* everyone waits for something no one will do */
      if (!unstick(s)) break;
      continue;
    }
    if (next < now) next = now;
    s->vnow += (next - now) * rate;
    now = next;
    while (s->run.n && s->run.key[0] <= s->vnow + EPS) {
      size_t i = heap_pop(&s->run);
      run_left(s, i, now);
      if (!s->th[i].waking) s->th[i].pc++; /* (a wake-up's cost: its op is done) */
      s->th[i].waking = false;
      s->th[i].state = TS_READY;
      if (!work_push(s, i) || !notify(s, i)) return -1;
    }
    while (s->delay.n && s->delay.key[0] <= now + EPS) {
      size_t i = heap_pop(&s->delay);
      SimThr *t = &s->th[i];
      if (!t->waking && t->ops[t->pc].kind != OP_START_AT) t->pc++;
      t->waking = false;
      t->state = TS_READY;
      if (!work_push(s, i) || !notify(s, i)) return -1;
    }
  }
  double end = 0;
  for (size_t i = 0; i < n; i++) end = fmax(end, s->th[i].state == TS_DONE ? s->th[i].end : now);
  *last = now;
  return end;
}

static void sim_free(Sim *s) {
  if (s->th)
    for (size_t i = 0; i < s->r->n; i++) {
      free(s->th[i].ops);
      free(s->th[i].run_from);
      free(s->th[i].waiters);
      free(s->th[i].tl);
    }
  free(s->work);
  heap_free(&s->run);
  heap_free(&s->delay);
  if (s->locks)
    for (size_t i = 0; i < s->r->nlocks; i++) free(s->locks[i].q);
  free(s->th);
  free(s->locks);
  free(s->rounds);
}

/* Other work on the machine as threads always ready to run, sharing the
 * CPUs with the program's, estimated two ways and the smaller kept:
 * - over time: b such that the program's threads running (on a CPU or
 *   runnable outside waits, or spinning on a spin lock), D of them at a
 *   time with the MPI waits that spin then, each getting cpu_share(D + b,
 *   spin, cpus) of a CPU, got the CPU time they had;
 * - from the averages: b such that nd threads wanting a CPU on average
 *   (their CPU and runnable time over the range) got the share of it they
 *   had, cpus / (nd + b).
 * The first is right where the demand varies (three threads wanting a CPU
 * at times, one at others, got less than their average demand asked for
 * without sharing the CPUs with anything), the second where it does not and
 * the CPUs were never all wanted (a thread's wake-ups, runnable a moment on
 * an idle machine, which the first could only explain by others taking
 * every free CPU); each overstates it where the other is right. None when
 * the CPUs were enough for the threads' demand. Either at most what other
 * processes used, where the recording measured it. */
typedef struct {
  int64_t ns;
  double d, sp; /* threads running, waits that spin */
} DemandStep;

static int cmp_demand_step(const void *x, const void *y) {
  const DemandStep *a = x, *b = y;
  return (a->ns > b->ns) - (a->ns < b->ns);
}

static double cpu_got(const double *dt, const double *d, const double *sp, size_t n, double cpus, double b) {
  double got = 0;
  for (size_t i = 0; i < n; i++) got += dt[i] * d[i] * cpu_share(d[i] + b, sp[i], cpus);
  return got;
}

static bool background(Ctx *c, Rec *r, double cpus) {
  r->bg = 0;
  if (cpus <= 0) return true;
  DemandStep *ev = NULL;
  size_t nev = 0, capev = 0;
  double had = 0, want = 0;
  for (size_t i = 0; i < r->n; i++) {
    const RThread *t = &r->t[i];
    const WeftThreadMetrics *tm = &c->m->threads[i];
    had += (double)tm->time.oncpu_ns + t->busy_cpu;
    /* runnable outside waits: its running time neither on a CPU nor off one */
    want += (double)tm->state_ns[WEFT_ST_RUNNING] * (1.0 - t->off_ratio) + t->busy_cpu;
    for (size_t k = 0; k < t->nst; k++) {
      const RState *w = &t->st[k];
      bool busy = w->st == WEFT_ST_SPIN_WAIT;
      double d = w->st == WEFT_ST_RUNNING ? 1.0 - t->off_ratio : busy ? 1.0 : 0, sp = d > 0 ? 0 : w->spin;
      int64_t a = max64(w->s, c->a), b = min64(w->e, c->b);
      if ((d <= 0 && sp <= 0) || b <= a) continue;
      if (VEC_PUSH(ev, nev, capev, ((DemandStep){a, d, sp})) != 0 ||
          VEC_PUSH(ev, nev, capev, ((DemandStep){b, -d, -sp})) != 0)
        return free(ev), rfail(c);
    }
  }
  if (nev) qsort(ev, nev, sizeof *ev, cmp_demand_step);
  /* the time at each level of demand: dt[k] at dl[k] threads */
  double *dt = malloc((nev ? nev : 1) * sizeof *dt), *dl = malloc((nev ? nev : 1) * sizeof *dl),
         *ds = malloc((nev ? nev : 1) * sizeof *ds);
  if (!dt || !dl || !ds) return free(ev), free(dt), free(dl), free(ds), rfail(c);
  size_t n = 0;
  double level = 0, spin = 0;
  for (size_t k = 0; k < nev; k++) {
    if (k > 0 && ev[k].ns > ev[k - 1].ns && level + spin > 1e-9) {
      dt[n] = (double)(ev[k].ns - ev[k - 1].ns);
      dl[n] = level;
      ds[n++] = spin;
    }
    level += ev[k].d;
    spin += ev[k].sp;
  }
  free(ev);
  if (cpu_got(dt, dl, ds, n, cpus, 0) > had) {
    double lo = 0, hi = 1;
    while (hi < 1e4 && cpu_got(dt, dl, ds, n, cpus, hi) > had) hi *= 2;
    for (int it = 0; it < 60; it++) {
      double mid = (lo + hi) / 2;
      if (cpu_got(dt, dl, ds, n, cpus, mid) > had)
        lo = mid;
      else
        hi = mid;
    }
    r->bg = (lo + hi) / 2;
  }
  double span = (double)(c->b - c->a), nd = span > 0 ? want / span : 0;
  if (had > 0 && nd > 0) r->bg = fmin(r->bg, fmax(0, cpus * want / had - fmax(nd, cpus)));
  /* no more than other processes used (weft record's reading of the machine, the recording's own
   * threads taken out; with the recording's threads the replay leaves out, and two of /proc/stat's
   * 10 ms ticks for its rounding), as threads over the range: run-queue time beyond it is the
   * program's own scheduling (a woken thread kept on its waker's CPU: 8-21 ms a thread in some
   * recordings of two threads handing a lock over), which a change need not keep as other work. Not
   * under a CPU quota (cgroup) below the CPUs: its throttling is run-queue time too. */
  const WeftMetrics *m = c->m;
  bool quota = m->cpu_limit_milli > 0 && m->cpu_limit_milli < 1000 * (int64_t)cpus;
  if (m->other_cpu_ns >= 0 && span > 0 && !quota)
    r->bg = fmin(r->bg, (double)(m->other_cpu_ns + m->unselected_cpu_ns + OTHER_CPU_SLACK) / span);
  free(dt);
  free(dl);
  free(ds);
  return true;
}

/* One replay of r with change ch (NULL: none); its length in ns, -1 on
 * failure. With tl, each thread's timeline in it (else NULL). */
static double replay_once(Ctx *c, Rec *r, const Change *ch, bool placed, int64_t *forced, size_t *nops,
                          WeftReplayTimeline *tl) {
  Sim s = {.c = c, .r = r, .ch = ch, .timeline = tl != NULL, .rng = 0x9e3779b97f4a7c15u, .placed = placed};
  s.th = calloc(r->n ? r->n : 1, sizeof *s.th);
  s.locks = calloc(r->nlocks ? r->nlocks : 1, sizeof *s.locks);
  int *held = calloc(r->nlocks ? r->nlocks : 1, sizeof *held);
  double len = -1;
  if (!s.th || !s.locks || !held) {
    rfail(c);
    goto out;
  }
  for (size_t i = 0; i < r->nlocks; i++) s.locks[i].owner = -1;
  for (size_t i = 0; i < r->nlocks; i++) s.locks[i].lat = r->lock_lat[i];
  for (size_t i = 0; i < r->nin; i++) /* the barrier rounds, each with its last arrival */
    if (r->in[i].kind == WEFT_FLOW_BARRIER && round_of(&s, &r->in[i]) == SIZE_MAX) {
      rfail(c);
      goto out;
    }
  size_t total = 0;
  for (size_t i = 0; i < r->n; i++) /* at most this many operations: too many, and none is built */
    total += 2 * r->t[i].nst + 2 * r->t[i].nholds + r->t[i].npoints + 2;
  *nops = total;
  if (total > 2 * (size_t)REPLAY_MAX_OPS) goto out;
  total = 0;
  for (size_t i = 0; i < r->n; i++) {
    if (!build_thread(&s, i, held)) goto out;
    total += s.th[i].n;
  }
  *nops = total;
  if (total > REPLAY_MAX_OPS) goto out;
  resolve_points(&s);
  double cpus = ch && ch->kind == WEFT_REPLAY_CPUS ? (double)ch->cpus : c->m->ncpus > 0 ? (double)c->m->ncpus : 0;
  double last = 0;
  len = simulate(&s, cpus, r->bg, &last);
  r->run_wall = 0;
  for (size_t i = 0; i < r->n; i++) r->run_wall += r->t[i].tied ? 0 : s.th[i].run_wall;
  *forced = s.forced;
  if (len >= 0 && tl && !tl_keep(&s, last, tl)) len = -1;
out:
  free(held);
  sim_free(&s);
  return len;
}

/* ---- the changes users ask for ---- */
/* "lock:NAME", "lock:NAME=free", "lock:NAME=-40%", "thread:NAME=-30%",
 * "cpus=N", "gil=off": resolved against m; false with a message in err. */
static bool parse_percent(const char *s, double *factor) {
  char *end;
  errno = 0;
  double x = strtod(s, &end);
  if (errno || end == s || strcmp(end, "%") != 0 || x >= 0 || x <= -100) return false;
  *factor = 1 + x / 100;
  return true;
}

static bool name_matches(const char *label, const char *name) {
  size_t n = strlen(name);
  return label && !strncmp(label, name, n) && (label[n] == '\0' || label[n] == ' ');
}

static bool resolve_lock(const WeftMetrics *m, const Rec *r, const char *name, int64_t *obj, char *err, size_t len) {
  const WeftObjectMetrics *hit = NULL;
  for (size_t i = 0; i < m->nobjects; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    char id[32];
    snprintf(id, sizeof id, "#%lld", (long long)o->object_id);
    if (!(name_matches(o->label, name) || !strcmp(id, name))) continue;
    if (lock_of(r, o->object_id) < 0) {
      snprintf(err, len, "%s is a %s, not a mutex, rwlock or spin lock", name, o->kind_name);
      return false;
    }
    if (hit) {
      snprintf(err, len, "%s names more than one lock (%s, %s): give its #id", name, hit->label, o->label);
      return false;
    }
    hit = o;
  }
  if (!hit) {
    int k = snprintf(err, len, "no lock named %s (locks:", name);
    int shown = 0;
    for (size_t i = 0; i < m->nobjects && shown < 5 && k > 0 && (size_t)k < len; i++)
      if (lock_of(r, m->objects[i].object_id) >= 0) {
        k += snprintf(err + k, len - (size_t)k, "%s %s", shown ? "," : "", m->objects[i].label);
        shown++;
      }
    if (k > 0 && (size_t)k < len) snprintf(err + k, len - (size_t)k, "%s)", shown ? "" : " none");
    return false;
  }
  *obj = hit->object_id;
  return true;
}

/* A thread's name, or the name without the function the Python hook adds to it ("Thread-1" for
 * "Thread-1 (crunch)"). */
static bool thread_named(const char *tn, const char *name) {
  size_t k = strlen(name), n = strlen(tn);
  return !strcmp(tn, name) ||
         (n > k + 3 && !strncmp(tn, name, k) && tn[k] == ' ' && tn[k + 1] == '(' && tn[n - 1] == ')');
}

static bool resolve_thread(const WeftMetrics *m, const char *name, int64_t *utid, char *err, size_t len) {
  char *end;
  long long tid = strtoll(name, &end, 10);
  const WeftThreadMetrics *hit = NULL;
  for (size_t i = 0; i < m->nthreads; i++) {
    const WeftThreadMetrics *t = &m->threads[i];
    if (!((*end == '\0' && t->tid == tid) || (t->name && thread_named(t->name, name)))) continue;
    if (hit && *end != '\0') {
      snprintf(err, len, "%s names more than one thread: give its tid", name);
      return false;
    }
    hit = t;
  }
  if (!hit) {
    snprintf(err, len, "no thread named %s (a thread's name or tid)", name);
    return false;
  }
  *utid = hit->utid;
  return true;
}

static bool is_round_of(const WeftRegion *rg, int64_t obj) {
  return rg->kind == WEFT_REGION_BARRIER && rg->object_id == obj && rg->nteam >= 2;
}

static int cmp_round_start(const void *x, const void *y) {
  const WeftRegion *a = *(const WeftRegion *const *)x, *b = *(const WeftRegion *const *)y;
  return (a->start_ns > b->start_ns) - (a->start_ns < b->start_ns);
}

/* balance:NAME: every round of barrier NAME (its label, or #ID) spread evenly over its team. */
static bool parse_balance(const WeftMetrics *m, const char *name, const char *val, Change *ch, char *err, size_t len) {
  const WeftObjectMetrics *o = NULL;
  char *end = NULL;
  long long id = name[0] == '#' ? strtoll(name + 1, &end, 10) : -1;
  if (name[0] == '#' && (!name[1] || *end || id < 0)) id = -2; /* (#ID wants a number: matches nothing) */
  for (size_t i = 0; !o && id != -2 && i < m->nobjects; i++)
    if (m->objects[i].kind == WEFT_KIND_BARRIER &&
        (id >= 0 ? m->objects[i].object_id == id : name_matches(m->objects[i].label, name)))
      o = &m->objects[i];
  if (!o)
    return snprintf(err, len, "balance:%s: no barrier of that name (a label as the report prints it, or #ID)", name),
           false;
  if (*val) return snprintf(err, len, "balance:NAME takes no value"), false;
  size_t n = 0;
  for (size_t i = 0; i < m->nregions; i++) n += is_round_of(&m->regions[i], o->object_id);
  if (!n) return snprintf(err, len, "balance:%s: no round of a team of two or more", name), false;
  ch->rounds = malloc(n * sizeof *ch->rounds);
  if (!ch->rounds) return snprintf(err, len, "out of memory"), false;
  for (size_t i = 0; i < m->nregions; i++)
    if (is_round_of(&m->regions[i], o->object_id)) ch->rounds[ch->nrounds++] = &m->regions[i];
  qsort(ch->rounds, ch->nrounds, sizeof *ch->rounds, cmp_round_start);
  ch->kind = WEFT_REPLAY_BALANCE;
  ch->bal_obj = o->object_id;
  return true;
}

static bool parse_change(const WeftMetrics *m, const Rec *r, const char *spec, Change *ch, char *err, size_t len) {
  memset(ch, 0, sizeof *ch);
  ch->factor = 1;
  const char *eq = strchr(spec, '=');
  char key[256];
  size_t kn = eq ? (size_t)(eq - spec) : strlen(spec);
  if (kn >= sizeof key) kn = sizeof key - 1;
  memcpy(key, spec, kn);
  key[kn] = '\0';
  const char *val = eq ? eq + 1 : "";
  if (!strcmp(key, "cpus")) {
    char *end;
    long long n = strtoll(val, &end, 10);
    if (!*val || *end || n < 1 || n > 4096)
      return snprintf(err, len, "cpus=N wants a number of CPUs from 1 to 4096"), false;
    ch->kind = WEFT_REPLAY_CPUS;
    ch->cpus = n;
    return true;
  }
  if (!strcmp(key, "balance")) { /* the most imbalanced region, as the estimate picks it */
    const WeftRegion *worst = NULL;
    for (size_t i = 0; i < m->nregions; i++) {
      const WeftRegion *rg = &m->regions[i];
      if (rg->nteam >= 2 && rg->pop.imbalance_ns > 0 && (!worst || rg->pop.imbalance_ns > worst->pop.imbalance_ns))
        worst = rg;
    }
    if (*val || !worst)
      return snprintf(err, len, "balance: %s", *val ? "takes no value" : "no imbalanced region"), false;
    ch->kind = WEFT_REPLAY_BALANCE;
    ch->rg = worst;
    return true;
  }
  if (!strncmp(key, "balance:", 8) && key[8]) return parse_balance(m, key + 8, val, ch, err, len);
  if (!strncmp(key, "region:", 7) && key[7]) { /* by its label as the report prints it, or #N (regions[N]) */
    const WeftRegion *hit = NULL;
    char *end;
    long long k = key[7] == '#' ? strtoll(key + 8, &end, 10) : -1;
    if (key[7] == '#' && key[8] && !*end && k >= 0 && (size_t)k < m->nregions) hit = &m->regions[k];
    for (size_t i = 0; !hit && key[7] != '#' && i < m->nregions; i++)
      if (name_matches(m->regions[i].label, key + 7)) hit = &m->regions[i];
    if (!hit)
      return snprintf(err, len, "no region %s (a region's label as the report prints it, or #N: regions[N])", key + 7),
             false;
    if (!parse_percent(val, &ch->factor))
      return snprintf(err, len, "region:NAME takes =-X%% (its work X %% faster)"), false;
    ch->kind = WEFT_REPLAY_REGION_FASTER;
    ch->rg = hit;
    return true;
  }
  if (!strcmp(key, "gil")) {
    if (strcmp(val, "off")) return snprintf(err, len, "gil=off is the only change of the GIL"), false;
    if (!r->ngil) return snprintf(err, len, "gil=off: this recording has no GIL (no CPython)"), false;
    ch->kind = WEFT_REPLAY_NO_GIL;
    return true;
  }
  if (!strncmp(key, "lock:", 5) && key[5]) {
    if (!resolve_lock(m, r, key + 5, &ch->lock_obj, err, len)) return false;
    if (!*val || !strcmp(val, "free")) {
      ch->kind = WEFT_REPLAY_LOCK_FREE;
      return true;
    }
    if (!parse_percent(val, &ch->factor))
      return snprintf(err, len, "lock:NAME takes =free or =-X%% (its critical sections X %% shorter)"), false;
    ch->kind = WEFT_REPLAY_LOCK_SHORTER;
    return true;
  }
  if (!strncmp(key, "thread:", 7) && key[7]) {
    if (!resolve_thread(m, key + 7, &ch->utid, err, len)) return false;
    if (!parse_percent(val, &ch->factor))
      return snprintf(err, len, "thread:NAME takes =-X%% (its work X %% faster)"), false;
    ch->kind = WEFT_REPLAY_THREAD_FASTER;
    return true;
  }
  snprintf(err, len,
           "not a change weft can replay (lock:NAME[=free|=-X%%], thread:NAME=-X%%, region:NAME=-X%%, balance[:NAME], "
           "cpus=N, "
           "gil=off)");
  return false;
}

static const char *describe(Pool *pl, const WeftMetrics *m, const Change *ch) {
  char who[200] = "";
  for (size_t i = 0; i < m->nobjects; i++)
    if (m->objects[i].object_id == ch->lock_obj) snprintf(who, sizeof who, "%s", m->objects[i].label);
  switch (ch->kind) {
    case WEFT_REPLAY_LOCK_FREE: return pool_printf(pl, "%s keeps no one waiting (sharded or removed)", who);
    case WEFT_REPLAY_LOCK_SHORTER:
      return pool_printf(pl, "the critical sections of %s %.0f %% shorter", who, 100 * (1 - ch->factor));
    case WEFT_REPLAY_THREAD_FASTER: {
      char t[160];
      weft_metrics_thread_label(m, ch->utid, t, sizeof t);
      return pool_printf(pl, "the work of %s %.0f %% faster", t, 100 * (1 - ch->factor));
    }
    case WEFT_REPLAY_NO_GIL: return pool_printf(pl, "no GIL (free-threaded Python)");
    case WEFT_REPLAY_BALANCE:
      if (ch->nrounds) {
        const char *bl = "";
        for (size_t i = 0; i < m->nobjects; i++)
          if (m->objects[i].object_id == ch->bal_obj) bl = m->objects[i].label;
        return pool_printf(pl, "the work in each of the %zu rounds of %s spread evenly over its team", ch->nrounds, bl);
      }
      return pool_printf(pl, "the work in %s spread evenly over its team", ch->rg->label);
    case WEFT_REPLAY_REGION_FASTER:
      return pool_printf(pl, "the work in %s %.0f %% faster", ch->rg->label, 100 * (1 - ch->factor));
    default: return pool_printf(pl, "%lld CPU%s", (long long)ch->cpus, ch->cpus == 1 ? "" : "s");
  }
}

static bool same_change(const Change *a, const Change *b) {
  return a->kind == b->kind && a->lock_obj == b->lock_obj && a->factor == b->factor && a->utid == b->utid &&
         a->cpus == b->cpus && a->rg == b->rg && a->bal_obj == b->bal_obj && a->nrounds == b->nrounds;
}

/* The default what-ifs: the critical path's (an object's waits gone, if it
 * is a mutex or spin lock; a region balanced) as specs, with the index of
 * each one's WeftWhatIf in of; none when the recording is too large to
 * replay them unasked. */
#define REPLAY_DEFAULT_MAX_STATES 400000
#define REPLAY_DEFAULTS           4

static size_t default_specs(Ctx *c, const char **specs, size_t *of) {
  WeftCriticalPath *cp = c->m->critical_path;
  if (!cp || !cp->nwhatifs || !c->m->whole_program) return 0; /* a replay is of the program's whole life */
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT count(*) FROM thread_state");
  int64_t states = q && weft_sql_step(&c->sql, q) ? sqlite3_column_int64(q, 0) : -1;
  sqlite3_finalize(q);
  if (states < 0 || states > REPLAY_DEFAULT_MAX_STATES) return 0;
  size_t n = 0;
  for (size_t i = 0; i < cp->nwhatifs && n < REPLAY_DEFAULTS; i++) {
    const WeftWhatIf *w = &cp->whatifs[i];
    const char *sp = NULL;
    if (w->kind == WEFT_WHATIF_BALANCE) sp = "balance";
    /* an OpenMP region's round: every round of the region balanced (what schedule(dynamic) would do) */
    if (w->kind == WEFT_WHATIF_BALANCE && w->region >= 0 && (size_t)w->region < c->m->nregions &&
        c->m->regions[w->region].kind == WEFT_REGION_BARRIER)
      for (size_t k = 0; k < c->m->nobjects; k++)
        if (c->m->objects[k].object_id == c->m->regions[w->region].object_id && c->m->objects[k].omp)
          sp = pool_printf(c->pool, "balance:#%lld", (long long)c->m->objects[k].object_id);
    /* a part of CPython's GIL (its condvar or one of its mutexes): its waits gone is no GIL */
    if (w->kind == WEFT_WHATIF_OBJECT && weft_python_is_gil_object(c->m->python, w->object_id)) sp = "gil=off";
    for (size_t k = 0; !sp && w->kind == WEFT_WHATIF_OBJECT && k < c->m->nobjects; k++) {
      const WeftObjectMetrics *o = &c->m->objects[k];
      if (o->object_id == w->object_id && (o->kind == WEFT_KIND_MUTEX || o->kind == WEFT_KIND_SPIN))
        sp = pool_printf(c->pool, "lock:#%lld", (long long)o->object_id);
    }
    if (!sp) continue;
    of[n] = i;
    specs[n++] = sp;
  }
  return n;
}

static int cmp_saving(const void *x, const void *y) {
  const WeftReplayResult *a = x, *b = y;
  return (a->saving_ns < b->saving_ns) - (a->saving_ns > b->saving_ns);
}

/* What a replay with ch is scaled by for its prediction: the unchanged
 * replay's error err (recorded / unchanged) as far as the change keeps it.
 * Of that error, the part in the threads' running, cpu (running_error:
 * the CPUs' sharing, other load), stays with any change; the rest, err /
 * cpu, is the waits' dynamics, and a lock that keeps no one waiting takes the share of it
 * that was that lock's waiting (its wait_share) with it:
 *   kept = cpu * (err / cpu)^(1 - share),  share 0 for every other change.
 * Threads their process's exit ends are left out of both sides (the replay
 * ends them where their main thread ends). A convoy is where the replay errs
 * most: two threads whose one lock is all their waiting, 13 recordings:
 * unchanged replays 29 % short to 20 % long, the lock removed 0.39-0.47 of
 * the recording, scaled by the whole error 0.39-0.57; the program with the
 * lock sharded takes 0.40-0.42 of the time. */
static double kept_error(const WeftMetrics *m, const Change *ch, double err, double cpu) {
  double share = 0;
  for (size_t i = 0; ch->kind == WEFT_REPLAY_LOCK_FREE && i < m->nobjects; i++)
    if (m->objects[i].object_id == ch->lock_obj) share = fmin(1.0, fmax(0.0, m->objects[i].wait_share));
  return share > 0 ? cpu * pow(err / cpu, 1 - share) : err;
}

/* kept_error's cpu: the recording's running time (off-CPU stretches and what
 * the replay takes out of the work, its own wake-ups, left out) over the
 * unchanged replay's (base_run), both of the threads not tied; no more than
 * all of err, nor of the other sign (all of it when base_run is unknown). */
static double running_error(const Rec *r, double err, double base_run) {
  if (base_run <= 0) return err;
  double run = 0;
  for (size_t i = 0; i < r->n; i++) {
    const RThread *t = &r->t[i];
    if (t->tied) continue;
    run += (double)t->run_ns * (1 - t->off_ratio);
    for (size_t k = 0; k < t->nholds; k++)
      if (lock_of(r, t->holds[k].obj) >= 0) run -= taken_cost(t, &t->holds[k]);
  }
  return fmin(fmax(run > 0 ? run / base_run : 1, fmin(1.0, err)), fmax(1.0, err));
}

/* The least ch can make the recorded length (of recorded_ns) where it keeps
 * the work (a lock's waits, the GIL's, a region's balance, the CPUs): the
 * recorded work on the CPUs it leaves (work_floor_ns); 0 for a change of the
 * work itself. */
static int64_t work_floor(Ctx *c, const Change *ch, int64_t recorded_ns, WeftWorkFloor *f) {
  *f = (WeftWorkFloor){0, 0, -1};
  if (ch->kind == WEFT_REPLAY_CPUS) return work_floor_ns(c, (double)ch->cpus, -1, true, f); /* (fewer: maybe longer) */
  if (ch->kind != WEFT_REPLAY_LOCK_FREE && ch->kind != WEFT_REPLAY_NO_GIL && ch->kind != WEFT_REPLAY_BALANCE) return 0;
  int64_t obj = ch->kind == WEFT_REPLAY_LOCK_FREE ? ch->lock_obj : -1;
  /* (balance moves the straggler's work to its team: its own is no floor) */
  return min64(work_floor_ns(c, usable_cpus(c->m), obj, ch->kind != WEFT_REPLAY_BALANCE, f), recorded_ns);
}

/* The changes asked for (each must parse: an error names the one that does
 * not) and, with defaults, the critical path's what-ifs not among them, each
 * replayed; the asked ones' results first, in their order, then weft's own
 * by saving. A WeftWhatIf whose change was replayed is marked. */
bool build_replay(Ctx *c, const char *const *asked, size_t nasked, bool defaults, bool timeline) {
  WeftMetrics *m = c->m;
  const char *own[REPLAY_DEFAULTS];
  size_t of[REPLAY_DEFAULTS];
  size_t nown = defaults ? default_specs(c, own, of) : 0;
  if (c->sql.failed) return false;
  if (!nasked && !nown) return true;
  size_t nspecs = nasked + nown;
  Rec r = {0};
  bool ok = load(c, &r) && background(c, &r, m->ncpus > 0 ? (double)m->ncpus : 0);
  WeftReplay *rp = ok ? pool_calloc(c->pool, 1, sizeof *rp) : NULL;
  if (ok && !rp) ok = rfail(c);
  Change *ch = ok ? calloc(nspecs, sizeof *ch) : NULL;
  const char **specs = ok ? calloc(nspecs, sizeof *specs) : NULL;
  if (ok && (!ch || !specs)) ok = rfail(c);
  for (size_t i = 0; ok && i < nspecs; i++) {
    char why[400];
    specs[i] = i < nasked ? asked[i] : own[i - nasked];
    if (parse_change(m, &r, specs[i], &ch[i], why, sizeof why)) continue;
    if (i >= nasked) { /* weft's own: left out */
      ch[i].kind = 0;
      continue;
    }
    ok = weft_sql_fail(&c->sql, "--what-if %s: %s", specs[i], why);
  }
  /* the change (+ 1) that a default of weft's own is already: asked for, or an earlier default (two GIL objects
   * on the path are one gil=off): replayed once, as that one */
  size_t dup[REPLAY_DEFAULTS] = {0};
  for (size_t i = nasked; ok && i < nspecs; i++)
    for (size_t k = 0; ch[i].kind && k < i; k++)
      if (ch[k].kind && same_change(&ch[i], &ch[k])) ch[i].kind = 0, dup[i - nasked] = k + 1;
  if (ok) {
    rp->results = pool_calloc(c->pool, nspecs, sizeof *rp->results);
    if (!rp->results) ok = rfail(c);
  }
  if (ok) {
    rp->defaults = !nasked;
    rp->recorded_ns = r.end > r.start ? r.end - r.start : 0;
    rp->cpus = m->ncpus;
    rp->background = r.bg;
    size_t nops = 0;
    /* the counted holds placed: a change to a lock is replayed on the acquisitions the program made.
     * Spread (none placed) only where the replay with them placed is more than PLACED_OFF off the
     * recording and the spread one comes closer: guessed places that met though the real holds did
     * not. (A prediction rests on two replays, so a replay a little off in both moves it
     * little; spread, a lock's counted holds never hold it up.) A replay is deterministic: the
     * chosen one is run again only for its timeline. */
    bool placed = r.nplaced > 0;
    double base = replay_once(c, &r, NULL, false, &rp->forced, &nops, timeline && !placed ? &rp->timeline : NULL);
    double base_run = r.run_wall;
    if (placed && !c->sql.failed) {
      int64_t forced = 0;
      size_t n = 0;
      double a = replay_once(c, &r, NULL, true, &forced, &n, NULL), rec = (double)rp->recorded_ns;
      placed = a >= 0 && (base < 0 || fabs(a - rec) <= PLACED_OFF * rec || fabs(a - rec) <= fabs(base - rec));
      if (placed) base = a, base_run = r.run_wall, rp->forced = forced, nops = n;
      if (timeline && !c->sql.failed) base = replay_once(c, &r, NULL, placed, &rp->forced, &nops, &rp->timeline);
    }
    rp->placed_holds = placed ? r.nplaced : 0;
    rp->ops = (int64_t)nops;
    if (base < 0 && !c->sql.failed) {
      rp->unavailable = nops > REPLAY_MAX_OPS ? "the recording is too large to replay" : "the replay failed";
    } else if (base >= 0) {
      rp->replayed_ns = (int64_t)llround(base);
      rp->error = rp->recorded_ns > 0 ? (base - (double)rp->recorded_ns) / (double)rp->recorded_ns : 0;
      /* the unchanged replay's error, and its running's part: the recording's, computed once */
      double err = base > 0 ? (double)rp->recorded_ns / base : 1, cpu_err = running_error(&r, err, base_run);
      size_t nasked_done = 0;
      for (size_t i = 0; i < nspecs && !c->sql.failed; i++) {
        if (!ch[i].kind) continue;
        WeftReplayResult *x = &rp->results[rp->nresults];
        int64_t forced = 0;
        bool mine = i < nasked;
        double len = replay_once(c, &r, &ch[i], placed, &forced, &nops, timeline && mine ? &x->timeline : NULL);
        if (len < 0) continue;
        x->spec = pool_strdup(c->pool, specs[i]);
        x->kind = ch[i].kind;
        x->asked = mine;
        x->description = describe(c->pool, m, &ch[i]);
        x->replayed_ns = (int64_t)llround(len);
        x->floor = (WeftWorkFloor){0, 0, -1};
        /* the change's effect on the replay, applied to the recorded length: the changed replay less the
         * unchanged one's error, but for the part of that error the change takes away (kept_error) */
        x->kept = base > 0 ? kept_error(m, &ch[i], err, cpu_err) : 1;
        x->predicted_ns = (int64_t)llround(len * x->kept);
        /* no shorter than the CPUs can run the work, where the change keeps it */
        WeftWorkFloor f;
        int64_t floor_ns = work_floor(c, &ch[i], rp->recorded_ns, &f);
        if (x->predicted_ns < floor_ns) x->predicted_ns = floor_ns, x->floor = f;
        x->saving_ns = rp->recorded_ns - x->predicted_ns;
        x->forced = forced;
        rp->nresults++;
        nasked_done += mine;
        /* a what-if of the critical path is marked only where its replay has a result */
        for (size_t d = 0; d < nown; d++)
          if (dup[d] == i + 1 || (!mine && d == i - nasked)) m->critical_path->whatifs[of[d]].replayed = 1;
      }
      qsort(rp->results + nasked_done, rp->nresults - nasked_done, sizeof *rp->results, cmp_saving);
    }
    m->replay = rp;
  }
  free(specs);
  for (size_t i = 0; ch && i < nspecs; i++) free((void *)ch[i].rounds);
  free(ch);
  rec_free(&r);
  return ok && !c->sql.failed;
}
