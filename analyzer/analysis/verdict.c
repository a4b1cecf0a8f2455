/* verdict.c - causes before symptoms, and the verdict for a Python program
 * (see python.h, WeftPyVerdict, and docs/python.md, "The verdict").
 * SPDX-License-Identifier: MIT
 *
 * A pipeline's bottleneck: a thread the others wait for (their lock,
 * condition and GIL waits end when it posts or drops the GIL, and their lock
 * waits mostly when it posts) while it works itself. Then the findings of every rule are put in cause order: the serial
 * time that a GIL, bottleneck or pool-straggler finding explains is counted
 * in that finding (the serial finding keeps the rest, or goes), and a GIL
 * finding whose waiters wait for a bottleneck thread is that bottleneck's.
 * Last, from the sorted findings and the Python model, the verdict: threads,
 * processes or neither for this program, in two or three sentences with the
 * numbers, phrased in the library it uses (pylibs.c).
 */
#include "analysis-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "python.h"

#define WAITER_SHARE    0.50 /* a thread waits for the bottleneck >= this share of its life */
#define BUSY_SHARE      0.50 /* the bottleneck runs or is in I/O >= this share of its life ... */
#define BUSY_WAIT_SHARE 0.25 /* ... and waits on locks and the GIL < this share */
#define RELEASED_SHARE  0.25 /* gil_released: 2+ threads running at once >= this share of the range */
#define RELEASED_GIL    0.10 /* ... while the threads waited < this share of their time for the GIL */

static const WeftPyThread *py_thread(const WeftPython *py, int64_t utid) {
  for (size_t i = 0; py && i < py->nthreads; i++)
    if (py->threads[i].utid == utid) return &py->threads[i];
  return NULL;
}

/* The waiters of bottleneck w: how many, their time waiting for it, of it
 * for the GIL it held, the first one, and the stack where they waited most. */
typedef struct {
  size_t n;
  int64_t waited, gil, stack;
  const WeftPyThread *first;
} Waiters;

static Waiters waiters_of(const WeftPython *py, const WeftPyThread *w) {
  Waiters ws = {.stack = -1};
  int64_t top = -1;
  for (size_t i = 0; i < py->nthreads; i++) {
    const WeftPyThread *t = &py->threads[i];
    /* (its lock waits too: threads that only take turns on the GIL are no pipeline) */
    if (t == w || t->top_waker_utid != w->utid || t->top_lock_waker_utid != w->utid ||
        (double)t->top_waker_ns < WAITER_SHARE * (double)t->lifetime_ns)
      continue;
    ws.n++;
    ws.waited += t->top_waker_ns;
    ws.gil += min64(t->gil_wait_ns, t->top_waker_ns);
    if (!ws.first) ws.first = t;
    if (t->top_waker_ns > top && t->top_wait_stack >= 0) {
      top = t->top_waker_ns;
      ws.stack = t->top_wait_stack;
    }
  }
  return ws;
}

bool find_py_bottlenecks(Ctx *c, FindVec *fv, int64_t min_cost) {
  WeftMetrics *m = c->m;
  WeftPython *py = m->python;
  for (size_t i = 0; py && i < py->nthreads && !c->sql.failed; i++) {
    const WeftPyThread *w = &py->threads[i];
    const WeftThreadMetrics *wm = weft_metrics_thread(m, w->utid);
    double life = (double)w->lifetime_ns;
    if (!wm || wm->is_main || life <= 0 || weft_python_pool_of(py, w->upid) || py_machinery_thread(wm->name)) continue;
    int64_t lockish = wm->wait_ns - w->io_ns; /* its own waits but I/O and sleep */
    if ((double)(w->running_ns + w->io_ns) < BUSY_SHARE * life || (double)lockish >= BUSY_WAIT_SHARE * life) continue;
    Waiters ws = waiters_of(py, w);
    if (!ws.n || ws.waited < min_cost || ws.waited <= 0) continue;
    bool cpu = w->running_ns >= w->io_ns;
    char b1[32], b2[32], p1[16], p2[16];
    double wshare = (double)ws.first->top_waker_ns / (double)ws.first->lifetime_ns;
    char *title =
        ws.n == 1 ? pool_printf(c->pool, "%s is the bottleneck: %s spent %s of its time waiting for it", w->label,
                                ws.first->label, pct(p1, sizeof p1, wshare))
                  : pool_printf(c->pool, "%s is the bottleneck: %zu threads spent most of their time waiting for it",
                                w->label, ws.n);
    const StackInfo *si = ws.stack >= 0 ? stack_site(c, ws.stack) : NULL;
    char *evidence = pool_printf(
        c->pool,
        "the waiters waited %s for it in all (%s of it for the GIL while it held it)%s%s; it was %s %s of its "
        "life and waited on others %s: the work goes at the speed of this one thread",
        weft_format_ns(b1, sizeof b1, ws.waited), weft_format_ns(b2, sizeof b2, ws.gil),
        si && si->known ? "; the lock waits mostly at " : "", si && si->known ? si->label : "",
        cpu ? "running Python" : "in I/O", pct(p2, sizeof p2, (double)(cpu ? w->running_ns : w->io_ns) / life),
        pct(p1, sizeof p1, (double)lockish / life));
    if (!add_finding(c, fv, WEFT_FIND_BOTTLENECK, ws.waited, title, evidence,
                     pool_strdup(c->pool, py_fix_more_consumers(py, cpu)), -1, w->utid, -1))
      return false;
  }
  return !c->sql.failed;
}

static void drop(FindVec *fv, size_t i) {
  memmove(&fv->v[i], &fv->v[i + 1], (fv->n - i - 1) * sizeof *fv->v);
  fv->n--;
}

static ptrdiff_t find_kind(const FindVec *fv, WeftFindingKind k, int64_t utid) {
  for (size_t i = 0; i < fv->n; i++)
    if (fv->v[i].kind == k && (utid < -1 || fv->v[i].utid == utid)) return (ptrdiff_t)i;
  return -1;
}

/* The Python process a GIL finding is about (its utid: the top holder). */
static const WeftPyProcess *gil_process(const WeftPython *py, const WeftFinding *f) {
  const WeftPyThread *t = py_thread(py, f->utid);
  if (t) return weft_python_process(py, t->upid);
  for (size_t i = 0; i < py->nprocesses; i++)
    if (py->processes[i].gil_threads) return &py->processes[i];
  return NULL;
}

/* A pool straggler's finding: its pool (NULL: not one). */
static const WeftPyPool *straggler_pool(const WeftMetrics *m, const WeftFinding *f) {
  if (f->kind != WEFT_FIND_IMBALANCE || f->region >= 0 || f->object_id >= 0) return NULL;
  const WeftThreadMetrics *t = weft_metrics_thread(m, f->utid);
  return t ? weft_python_pool_of(m->python, t->upid) : NULL;
}

/* The pool whose parent's main thread is finding f's utid (NULL: none). */
static const WeftPyPool *parent_pool(const WeftMetrics *m, const WeftFinding *f) {
  const WeftThreadMetrics *t = weft_metrics_thread(m, f->utid);
  const WeftPyPool *pl = t ? weft_python_pool_of(m->python, t->upid) : NULL;
  return pl && pl->parent_upid == t->upid ? pl : NULL;
}

/* A startup or ipc finding's pool (NULL: not one). */
static const WeftPyPool *cost_pool(const WeftMetrics *m, const WeftFinding *f) {
  return f->kind == WEFT_FIND_STARTUP || f->kind == WEFT_FIND_IPC ? parent_pool(m, f) : NULL;
}

/* A one_worker finding's pool (NULL: not one). */
static const WeftPyPool *lone_pool(const WeftMetrics *m, const WeftFinding *f) {
  const WeftPyPool *pl = f->kind == WEFT_FIND_ONE_WORKER ? parent_pool(m, f) : NULL;
  return pl && pl->nworkers == 1 ? pl : NULL;
}

/* The object of a contention finding when the processes took turns on it
 * (py_shared_user_lock: a multiprocessing lock of the program's own). */
static const WeftObjectMetrics *shared_lock(const WeftMetrics *m, const WeftFinding *f) {
  if (f->kind != WEFT_FIND_CONTENTION || f->by_design) return NULL;
  for (size_t i = 0; i < m->nobjects; i++)
    if (m->objects[i].object_id == f->object_id) return py_shared_user_lock(&m->objects[i]) ? &m->objects[i] : NULL;
  return NULL;
}

/* When the last worker of pl was ready for its first task: the end of the
 * pool's start-up (its start for forked workers). */
static int64_t startup_end(const WeftPyPool *pl) {
  int64_t e = pl->start_ns;
  for (size_t k = 0; k < pl->nworkers; k++) e = max64(e, pl->workers[k].start_ns + pl->workers[k].startup_ns);
  return e;
}

/* How much of the serial time finding f may explain: a bottleneck's busy
 * time (running, waiting for the GIL to run, or in I/O: its own work, while
 * the others wait for it; on a busy machine much of it is spent runnable or
 * waiting for the GIL), the GIL's serialised wall time, a straggler's lag,
 * the serial time while a pool's workers start (from its first worker's
 * start to its last one's first task) or, after that, while it moves data
 * (up to that cost), or while a pool's one worker ran all its tasks; 0 for
 * other findings. */
static int64_t serial_cap(Ctx *c, const WeftFinding *f) {
  const WeftMetrics *m = c->m;
  const WeftPython *py = m->python;
  if (f->kind == WEFT_FIND_BOTTLENECK) {
    const WeftPyThread *w = py_thread(py, f->utid);
    return w ? w->running_ns + w->gil_wait_ns + w->io_ns : 0;
  }
  if (f->kind == WEFT_FIND_GIL) {
    const WeftPyProcess *pp = gil_process(py, f);
    return pp ? pp->gil_serial_ns : 0;
  }
  const WeftPyPool *cp = cost_pool(m, f);
  if (cp && f->kind == WEFT_FIND_STARTUP) return serial_in(c, cp->start_ns, startup_end(cp));
  if (cp) return min64(f->cost_ns, serial_in(c, startup_end(cp), cp->end_ns));
  const WeftPyPool *lp = lone_pool(m, f);
  if (lp) return serial_in(c, startup_end(lp), lp->end_ns);
  const WeftPyPool *pl = straggler_pool(m, f);
  return pl ? pl->straggler_lag_ns : 0;
}

static int cmp_ns(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return (a > b) - (a < b);
}

/* How much longer than the median of the others pl's worker w ran. */
static int64_t ran_more(const WeftPyPool *pl, const WeftPyWorker *w) {
  int64_t *v = malloc(pl->nworkers * sizeof *v);
  size_t n = 0;
  for (size_t k = 0; v && k < pl->nworkers; k++)
    if (&pl->workers[k] != w) v[n++] = pl->workers[k].running_ns;
  if (!n) {
    free(v);
    return 0;
  }
  qsort(v, n, sizeof *v, cmp_ns);
  int64_t more = w->running_ns - v[(n - 1) / 2];
  free(v);
  return more;
}

/* A pool's straggler that did not have longer tasks but started or got its
 * work late: its running time was mostly its start-up (a spawned worker
 * that took longer to start; the others took the tasks meanwhile), or,
 * when the pool's data moving is a finding, it ran less than half its lag
 * more than the others (it waited for its data). That imbalance is the
 * startup or ipc finding's (index s): dropped, and said there. Returns false
 * when out of memory. */
static bool fold_cost_straggler(Ctx *c, FindVec *fv, size_t s) {
  const WeftPyPool *pl = cost_pool(c->m, &fv->v[s]);
  for (size_t i = 0; pl && i < fv->n; i++) {
    if (straggler_pool(c->m, &fv->v[i]) != pl) continue;
    const WeftPyWorker *sw = NULL;
    for (size_t k = 0; k < pl->nworkers; k++)
      if (pl->workers[k].upid == pl->straggler_upid) sw = &pl->workers[k];
    bool startup = fv->v[s].kind == WEFT_FIND_STARTUP;
    int64_t more = sw && !startup ? ran_more(pl, sw) : 0;
    if (!sw || (startup ? 2 * sw->startup_run_ns < sw->running_ns : 2 * more >= pl->straggler_lag_ns)) return true;
    char b1[32], b2[32], b3[32];
    WeftFinding *sf = &fv->v[s];
    weft_format_ns(b1, sizeof b1, pl->straggler_lag_ns);
    sf->evidence = startup
                       ? pool_printf(c->pool,
                                     "%s; %s pid %lld finished %s after the others, but %s of its %s running was its "
                                     "start-up: that straggler is this start-up's",
                                     sf->evidence, pl->plain ? "process" : "worker", (long long)sw->pid, b1,
                                     weft_format_ns(b2, sizeof b2, sw->startup_run_ns),
                                     weft_format_ns(b3, sizeof b3, sw->running_ns))
                       : pool_printf(c->pool,
                                     "%s; %s pid %lld finished %s after the others but ran only %s more than them: it "
                                     "waited for its data, that straggler is this data moving's",
                                     sf->evidence, pl->plain ? "process" : "worker", (long long)sw->pid, b1,
                                     weft_format_ns(b2, sizeof b2, max64(more, 0)));
    if (!sf->evidence) return oom(c);
    drop(fv, i);
    return true;
  }
  return true;
}

bool fold_py_causes(Ctx *c, FindVec *fv, int64_t min_cost) {
  WeftMetrics *m = c->m;
  if (!m->python) return true;
  char b1[32];
  /* a GIL finding whose top holder is a bottleneck: its waits are the waiters' (counted there) */
  for (size_t i = 0; i < fv->n; i++) {
    if (fv->v[i].kind != WEFT_FIND_GIL || find_kind(fv, WEFT_FIND_BOTTLENECK, fv->v[i].utid) < 0) continue;
    drop(fv, i--);
  }
  /* a straggler that started or got its data late: the start-up's or the data moving's */
  for (size_t i = 0; i < fv->n; i++)
    if ((fv->v[i].kind == WEFT_FIND_STARTUP || fv->v[i].kind == WEFT_FIND_IPC) && !fold_cost_straggler(c, fv, i))
      return false;
  ptrdiff_t s = find_kind(fv, WEFT_FIND_SERIAL, -2);
  if (s < 0) return true;
  int64_t left = fv->v[s].cost_ns, moved = 0;
  static const WeftFindingKind order[] = {WEFT_FIND_BOTTLENECK, WEFT_FIND_GIL, WEFT_FIND_IMBALANCE,
                                          WEFT_FIND_STARTUP,    WEFT_FIND_IPC, WEFT_FIND_ONE_WORKER};
  for (size_t k = 0; k < sizeof order / sizeof *order; k++)
    for (size_t i = 0; i < fv->n && left > 0; i++) {
      WeftFinding *f = &fv->v[i];
      int64_t e = f->kind == order[k] ? min64(left, serial_cap(c, f)) : 0;
      if (e <= 0) continue;
      f->cost_ns = sat_add(f->cost_ns, e);
      f->evidence = pool_printf(c->pool,
                                "%s; %s of the run's serial time (at most one thread running) is this, counted "
                                "here",
                                f->evidence, weft_format_ns(b1, sizeof b1, e));
      if (!f->evidence) return oom(c);
      left -= e;
      moved += e;
    }
  if (!moved) return true;
  WeftFinding *sf = &fv->v[s];
  if (left < min_cost || (double)left < FIND_SERIAL_SHARE * (double)m->parallelism.span_ns) {
    drop(fv, (size_t)s);
    return true;
  }
  sf->cost_ns = left;
  sf->evidence = pool_printf(c->pool, "%s; %s of it is explained by the findings above and counted there", sf->evidence,
                             weft_format_ns(b1, sizeof b1, moved));
  return sf->evidence ? true : oom(c);
}

/* The CPython threads' GIL waits and I/O over their thread time, and (one
 * process, no pool) the share of the range with 2+ of its threads on a CPU. */
static void verdict_numbers(const WeftMetrics *m, WeftPyVerdict *v) {
  const WeftPython *py = m->python;
  int64_t life = 0, gil = 0, io = 0;
  for (size_t i = 0; i < py->nthreads; i++) {
    life += py->threads[i].lifetime_ns;
    gil += py->threads[i].gil_wait_ns;
    io += py->threads[i].io_ns;
  }
  v->gil_wait_share = life > 0 ? (double)gil / (double)life : 0;
  v->io_share = life > 0 ? (double)io / (double)life : 0;
  v->parallel_share = -1;
  v->straggler_lag_ns = -1;
  v->startup_share = v->ipc_share = -1;
  const WeftParallelism *p = &m->parallelism;
  if (m->nprocesses == 1 && !py->npools && py->nthreads >= 2 && p->ns && p->span_ns > 0) {
    int64_t par = 0;
    for (size_t k = 2; k <= p->kmax; k++) par += p->ns[k];
    v->parallel_share = (double)par / (double)p->span_ns;
  }
}

bool find_py_released(Ctx *c, FindVec *fv) {
  WeftMetrics *m = c->m;
  if (!m->python) return true;
  WeftPyVerdict v;
  verdict_numbers(m, &v);
  if (v.parallel_share < RELEASED_SHARE || v.gil_wait_share >= RELEASED_GIL) return true;
  const WeftPyProcess *pp = &m->python->processes[0];
  char p1[16], p2[16];
  char *title = pool_printf(
      c->pool, "threads ran at once, outside the GIL: threading is the right choice here (%zu threads of %s)",
      pp->nthreads, pp->label);
  char *evidence =
      pool_printf(c->pool,
                  "two or more threads were running at once for %s of the run (average parallelism "
                  "%.2f) while they waited %s of their time for the GIL",
                  pct(p1, sizeof p1, v.parallel_share), m->parallelism.average, pct(p2, sizeof p2, v.gil_wait_share));
  char *fix = pool_strdup(c->pool, "nothing to change: their work releases the GIL (NumPy, a C extension, I/O), so "
                                   "threads run it at once and share its data for free; processes would add "
                                   "start-up and copying");
  return add_finding(c, fv, WEFT_FIND_GIL_RELEASED, 0, title, evidence, fix, -1, -1, -1);
}

/* The verdict of a pool whose start-up or data moving (a finding of kind) decides:
 * processes still, started or fed otherwise; the share says whether, as
 * used, they cost more than they bring. */
static void pool_cost_verdict(Ctx *c, WeftPyVerdict *v, WeftFindingKind kind, const WeftPyPool *pl) {
  WeftPython *py = c->m->python;
  char b1[32], b2[32], p1[16], s1[32];
  v->choice = "processes";
  if (kind == WEFT_FIND_STARTUP) {
    v->reason = "startup", v->startup_share = pl->startup_share;
    int64_t work = max64(pl->ipc_work_ns - pl->startup_run_ns, 0);
    v->text = pool_printf(
        c->pool,
        "Processes, started %s. %s spent %s starting up (start method %s: %s), %s of %s running time against %s "
        "of %s%s. Start them less and cheaper: %s.",
        strcmp(pl->start_method, "fork") ? "once" : "with less setup", py_workers_of(py, pl, true),
        weft_format_ns(b1, sizeof b1, pl->startup_run_ns), *pl->start_method ? pl->start_method : "unknown",
        py_startup_what(pl->start_method, pl->plain), pct(p1, sizeof p1, pl->startup_share),
        pl->nworkers == 1 ? "its" : "their", weft_format_ns(b2, sizeof b2, work), pl->plain ? "work" : "tasks",
        pl->startup_run_ns > work ? ": as used, the processes cost more to start than the work they do" : "",
        py_startup_short(py, pl->start_method));
    return;
  }
  v->reason = "ipc", v->ipc_share = pl->ipc_share;
  const char *bytes = pl->ipc_bytes > 0
                          ? pool_printf(c->pool, " (%s in %lld messages)",
                                        weft_format_bytes(s1, sizeof s1, pl->ipc_bytes), (long long)pl->ipc_messages)
                          : "";
  v->text =
      pool_printf(c->pool,
                  "Processes, sending less. Moving the data to and from %s took %s%s, "
                  "%s of the %s of work %s did%s. Send less: %s.",
                  py_workers_of(py, pl, false), weft_format_ns(b1, sizeof b1, pl->ipc_helper_ns + pl->ipc_lock_ns),
                  bytes ? bytes : "", pct(p1, sizeof p1, pl->ipc_share), weft_format_ns(b2, sizeof b2, pl->ipc_work_ns),
                  pl->nworkers == 1 ? "it" : "they",
                  pl->ipc_share >= 1 ? ": as used, the processes spend more time receiving and returning "
                                       "data than working, so they cannot beat one process"
                                     : "",
                  py_send_less_short(py));
}

/* Processes that took turns on lock o. */
static void shared_lock_verdict(Ctx *c, WeftPyVerdict *v, const WeftObjectMetrics *o) {
  char b1[32], p1[16];
  v->choice = "processes", v->reason = "shared_lock";
  v->text = pool_printf(c->pool,
                        "Processes, as used, but one at a time: %lld processes took turns on %s, waiting %s for "
                        "it (%s of all waiting), so only the one holding it ran. Threads would take turns on a "
                        "lock the same way: hold it around less (only the update of the shared state, not the "
                        "computation), or give each process its own part of the data and combine the results.",
                        (long long)o->processes, o->label, weft_format_ns(b1, sizeof b1, o->wait_ns),
                        pct(p1, sizeof p1, o->wait_share));
}

/* The verdict when a finding decides it (NULL text: none does). */
static void verdict_from_findings(Ctx *c, WeftPyVerdict *v) {
  WeftMetrics *m = c->m;
  WeftPython *py = m->python;
  char b1[32], p1[16], p2[16];
  const WeftFinding *f;
  for (size_t i = 0; i < m->nfindings && !v->text; i++) {
    f = &m->findings[i];
    if (f->kind == WEFT_FIND_IO_OVERLAP) {
      v->choice = "threads", v->reason = "io_overlap";
      v->text = pool_printf(c->pool,
                            "Threads. The threads spent %s of their time blocked in I/O or sleeping and %s waiting "
                            "for the GIL: blocking calls release the GIL, so the waits overlap. Threads (or asyncio) "
                            "suit this work; processes would add start-up and pickling for nothing.",
                            pct(p1, sizeof p1, v->io_share), pct(p2, sizeof p2, v->gil_wait_share));
    } else if (f->kind == WEFT_FIND_GIL_RELEASED) {
      v->choice = "threads", v->reason = "gil_released";
      v->text = pool_printf(
          c->pool,
          "Threads. Two or more threads were running at once for %s of the run while they waited only %s of "
          "their time for the GIL: their work runs outside it (NumPy, C code). Threads share the "
          "data for free; processes would add start-up and copying.",
          pct(p1, sizeof p1, v->parallel_share), pct(p2, sizeof p2, v->gil_wait_share));
    } else if (f->kind == WEFT_FIND_BOTTLENECK) {
      const WeftPyThread *w = py_thread(py, f->utid);
      bool cpu = w && w->running_ns >= w->io_ns;
      v->choice = cpu ? "processes" : "threads", v->reason = "bottleneck";
      v->text = pool_printf(c->pool,
                            "%s for the slow stage. %s is the bottleneck: the others waited %s for it while it "
                            "worked, so the run goes at the speed of that one thread. %s%s%s",
                            cpu ? "Processes" : "Threads", w ? w->label : "one thread",
                            weft_format_ns(b1, sizeof b1, w ? waiters_of(py, w).waited : 0),
                            cpu ? "Its work is CPU-bound Python: run several of it in processes (" : "",
                            cpu ? py_processes_short(py) : "",
                            cpu ? "; more threads would wait for the GIL)."
                                : "It waits in I/O, which releases the GIL: run more threads like it.");
    } else if (f->kind == WEFT_FIND_GIL) {
      v->choice = "processes", v->reason = "gil";
      v->text = pool_printf(c->pool,
                            "Processes. The threads waited for the GIL %s of their time, so only one ran Python at "
                            "a time (average parallelism %.2f): this is CPU-bound Python. Use %s, or native code "
                            "that releases the GIL.",
                            pct(p1, sizeof p1, v->gil_wait_share), m->parallelism.average, py_processes_short(py));
    } else if (shared_lock(m, f)) {
      shared_lock_verdict(c, v, shared_lock(m, f));
    } else if (cost_pool(m, f)) {
      pool_cost_verdict(c, v, f->kind, cost_pool(m, f));
    } else if (lone_pool(m, f)) {
      const WeftPyPool *pl = lone_pool(m, f);
      v->choice = "processes", v->reason = "one_worker";
      v->text = pool_printf(c->pool,
                            "Processes, more than one. The %s ran all its tasks on one worker (%s running) while %lld "
                            "of the %lld CPUs had none to run: as used, the pool is one process and nothing runs in "
                            "parallel. Give it work for every CPU: %s.",
                            pl->label, weft_format_ns(b1, sizeof b1, pl->workers[0].running_ns),
                            (long long)(m->ncpus - 1), (long long)m->ncpus, py_one_worker_short(py));
    } else if (straggler_pool(m, f) && py_turns_lock(m, straggler_pool(m, f))) { /* last to get a lock */
      shared_lock_verdict(c, v, py_turns_lock(m, straggler_pool(m, f)));
    } else if (straggler_pool(m, f)) {
      const WeftPyPool *pl = straggler_pool(m, f);
      v->choice = "processes", v->reason = "straggler", v->straggler_lag_ns = pl->straggler_lag_ns;
      v->text =
          pool_printf(c->pool,
                      "Processes, as used: %s ran without a GIL between them, but one finished %s after the "
                      "others (load balance %.2f). Keep processes and %s: %s.",
                      py_workers_of(py, pl, false), weft_format_ns(b1, sizeof b1, pl->straggler_lag_ns), pl->pop.lb,
                      pl->plain ? "split the work more evenly" : "hand out smaller tasks", py_tasks_short(py));
    }
  }
}

#define WANT_CPU_SHARE 0.50 /* threads wanted a CPU this share of their life ... */
#define WANT_GIL_SHARE 0.05 /* ... and waited for the GIL at least this share of it */

/* Did two or more non-main Python threads want a CPU (running, runnable,
 * waiting for the GIL) most of their life, with GIL waits among it? (A
 * pool's idle helper threads are not among them.) Their share in buf. */
static bool cpu_bound_threads(const WeftMetrics *m, char *buf, size_t len) {
  const WeftPython *py = m->python;
  int64_t want = 0, gil = 0, life = 0;
  size_t n = 0;
  for (size_t i = 0; i < py->nthreads; i++) {
    const WeftThreadMetrics *t = weft_metrics_thread(m, py->threads[i].utid);
    if (!t || t->is_main || t->lifetime_ns <= 0) continue;
    /* (a woken waiter's runnable time lies inside its wait: at most its life) */
    int64_t w = min64(t->lifetime_ns, t->time.oncpu_ns + t->time.runnable_ns + py->threads[i].gil_wait_ns);
    if ((double)w < WANT_CPU_SHARE * (double)t->lifetime_ns) continue;
    n++;
    want += w;
    gil += py->threads[i].gil_wait_ns;
    life += t->lifetime_ns;
  }
  pct(buf, len, life > 0 ? (double)want / (double)life : 0);
  return n >= 2 && (double)gil >= WANT_GIL_SHARE * (double)life && m->parallelism.average < 1.5;
}

static bool machine_busy(const WeftMetrics *m) {
  for (size_t i = 0; i < m->nfindings; i++)
    if (m->findings[i].kind == WEFT_FIND_MACHINE_LOAD) return true;
  return false;
}

/* The verdict when no finding decides it: a pool, CPU-bound threads on a
 * busy machine, threads that ran one at a time, or one thread. */
static void verdict_otherwise(Ctx *c, WeftPyVerdict *v) {
  WeftMetrics *m = c->m;
  WeftPython *py = m->python;
  char p1[16], p2[16], b1[32];
  size_t nthreads = 0;
  int64_t run = 0, life = 0;
  for (size_t i = 0; i < py->nthreads; i++) {
    run += py->threads[i].running_ns;
    life += py->threads[i].lifetime_ns;
    nthreads++;
  }
  if (py->npools && py->pools[0].nworkers == 1) {
    const WeftPyPool *pl = &py->pools[0];
    v->choice = "processes", v->reason = "pool";
    v->text = pool_printf(c->pool,
                          "Processes, as used: the %s ran its tasks on one worker, too little work to judge more "
                          "(%s running). With more work, give it work for every CPU: %s.",
                          pl->label, weft_format_ns(b1, sizeof b1, pl->workers[0].running_ns), py_one_worker_short(py));
  } else if (py->npools) {
    const WeftPyPool *pl = &py->pools[0];
    v->choice = "processes", v->reason = "pool";
    v->text = pool_printf(c->pool,
                          "Processes, as used: %s ran in parallel without a GIL between them (load balance %.2f of "
                          "their useful time). Keep them busy with enough work per %s.",
                          py_workers_of(py, pl, false), pl->pop.lb, pl->plain ? "process" : "task");
  } else if (nthreads >= 2 && py->nprocesses == 1 && cpu_bound_threads(m, p1, sizeof p1)) {
    /* (on a machine busy with other load the GIL finding stays out: the holder waits for a CPU too) */
    v->choice = "processes", v->reason = "gil";
    v->text = pool_printf(c->pool,
                          "Processes. The working threads wanted a CPU %s of their life (running, runnable or "
                          "waiting for the GIL) yet ran one at a time (average parallelism %.2f): this is CPU-bound "
                          "Python. Use %s%s.",
                          p1, m->parallelism.average, py_processes_short(py),
                          machine_busy(m) ? " (measured on a busy machine: measure again on a quiet one)" : "");
  } else if (nthreads >= 2 && py->nprocesses == 1) {
    double one = m->parallelism.span_ns > 0 && m->parallelism.kmax >= 1
                     ? (double)(m->parallelism.ns[0] + m->parallelism.ns[1]) / (double)m->parallelism.span_ns
                     : 1;
    v->choice = "neither", v->reason = "serial";
    v->text = pool_printf(c->pool,
                          "Neither, as the work stands. At most one thread ran %s of the time (average parallelism "
                          "%.2f) and the threads waited only %s of their time for the GIL: they wait for each other "
                          "(see the findings), which processes would not change.",
                          pct(p1, sizeof p1, one), m->parallelism.average, pct(p2, sizeof p2, v->gil_wait_share));
  } else {
    bool cpu = life > 0 && (double)run >= 0.5 * (double)life;
    v->choice = cpu ? "processes" : "neither", v->reason = "one_thread";
    v->text = cpu ? pool_printf(c->pool,
                                "Processes, to go parallel. The program ran Python on one thread %s of the time: "
                                "threads would take turns on the GIL, processes run at once (%s).",
                                pct(p1, sizeof p1, (double)run / (double)life), py_processes_short(py))
                  : pool_printf(c->pool,
                                "Neither. The program ran on one thread, running %s of the time and waiting the "
                                "rest: no parallel work to judge.",
                                pct(p1, sizeof p1, life > 0 ? (double)run / (double)life : 0));
  }
}

/* A Dask distributed cluster: the question is the workers' processes and
 * threads (their task threads' GIL waits), not the other processes' I/O. */
static void dask_verdict(Ctx *c, WeftPyVerdict *v) {
  const WeftDask *d = c->m->python->dask;
  char p1[16];
  int64_t gil = 0, tlife = 0;
  size_t threads = 0;
  for (size_t k = 0; k < d->nworkers; k++) {
    gil += d->workers[k].gil_wait_ns;
    tlife += d->workers[k].thread_ns;
    threads += d->workers[k].task_threads;
  }
  double share = tlife > 0 ? (double)gil / (double)tlife : 0;
  v->choice = "processes", v->reason = "dask_workers";
  v->text = share >= 0.10 && threads > d->nworkers
                ? pool_printf(c->pool,
                              "Processes, one thread each. The %zu Dask workers ran tasks at once (load balance "
                              "%.2f of their task time), but inside each the %zu task threads waited for the GIL "
                              "%s of their time: the tasks are CPU-bound Python. Give each worker process one "
                              "thread and start more of them (dask worker --nworkers N --nthreads 1).",
                              d->nworkers, d->pop.lb, threads / d->nworkers, pct(p1, sizeof p1, share))
                : pool_printf(c->pool,
                              "Processes, as the cluster runs: %zu Dask workers ran tasks at once (load balance "
                              "%.2f of their task time), their task threads waiting for the GIL %s of their time.",
                              d->nworkers, d->pop.lb, pct(p1, sizeof p1, share));
  /* a LocalCluster made for a short computation: its workers' start-up is the run */
  int64_t task = 0;
  for (size_t k = 0; k < d->nworkers; k++) task += d->workers[k].task_ns;
  const WeftPython *py = c->m->python;
  for (size_t k = 0; d->scheduler_local && k < py->npools; k++) {
    const WeftPyPool *pl = &py->pools[k];
    if (pl->parent_upid != d->scheduler_upid || pl->startup_run_ns <= task) continue;
    char b1[32], b2[32];
    v->text = pool_printf(c->pool, "%s Starting the LocalCluster's workers took %s, more than their %s of tasks: %s.",
                          v->text, weft_format_ns(b1, sizeof b1, pl->startup_run_ns),
                          weft_format_ns(b2, sizeof b2, task), py_startup_short(c->m->python, pl->start_method));
    break;
  }
}

/* MPI ranks that are CPython processes (mpi4py): the program is processes
 * already; the question is their balance and their time in MPI. */
static bool mpi_verdict(Ctx *c, WeftPyVerdict *v) {
  const WeftMpi *mp = c->m->mpi;
  size_t py = 0;
  int64_t startup = 0;
  for (size_t k = 0; mp && k < mp->nranks; k++) {
    py += weft_python_process(c->m->python, mp->ranks[k].upid) != NULL;
    startup += mp->ranks[k].startup_ns;
  }
  if (!mp || py < 2) return false;
  char b1[32], b2[32], p1[16];
  const char *more = "";
  if (mp->mpi_wait_ns > 0 && startup * 2 >= mp->mpi_wait_ns)
    more = pool_printf(c->pool,
                       " Of their %s in MPI, %s (%s) was MPI_Init and MPI_Finalize: the run is short against "
                       "MPI's start and end, so measure a longer one before changing the program.",
                       weft_format_ns(b1, sizeof b1, mp->mpi_wait_ns), weft_format_ns(b2, sizeof b2, startup),
                       pct(p1, sizeof p1, (double)startup / (double)mp->mpi_wait_ns));
  else if (mp->pop.lb < 0.9)
    more = pool_printf(c->pool,
                       " Rank %lld had the most work and the others waited for it in MPI (%s in all): give the "
                       "ranks equal work (the mpi_imbalance finding).",
                       (long long)mp->slowest_rank, weft_format_ns(b1, sizeof b1, mp->mpi_wait_ns));
  v->choice = "processes", v->reason = "mpi_ranks";
  v->text = pool_printf(c->pool,
                        "Processes, as MPI runs them: %zu ranks (mpi4py) ran at once, load balance %.2f and "
                        "communication efficiency %.2f across them.%s",
                        mp->nranks, mp->pop.lb, mp->pop.synce, more);
  return true;
}

bool build_py_verdict(Ctx *c) {
  WeftMetrics *m = c->m;
  if (!m->python) return true;
  WeftPyVerdict *v = &m->python->verdict;
  verdict_numbers(m, v);
  if (!mpi_verdict(c, v) && m->python->dask) dask_verdict(c, v);
  if (!v->text) verdict_from_findings(c, v);
  if (!v->text) verdict_otherwise(c, v);
  return v->text ? true : oom(c);
}
