/* findings-python.c - the findings about parallel Python (see python.h and
 * docs/python.md).
 * SPDX-License-Identifier: MIT
 *
 * weft_python_compute(): python.c's model, then its verdicts, which go in
 * WeftPython.findings: a process whose threads wait for the GIL (CPU-bound
 * Python: use processes), I/O threads that overlap well (threading is
 * right), a pool's worker that finishes long after the others (unequal
 * tasks). And groups of Python locks: one finding per group of objects made
 * at one site (findings.c leaves their members out).
 */
#include "analysis-private.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "python.h"

#define GIL_PROCESS_SHARE 0.10 /* the gil finding: GIL waits >= this share of the process's thread time */
#define STRAGGLER_SHARE   0.25 /* lag / the straggler's time in the pool, for a finding */
#define IPC_SHARE         0.5  /* data moved / the workers' time running, for a finding: it rivals the work */
#define STARTUP_SHARE     0.25 /* the workers' start-up / their time running, for a finding */
#define ONE_WORKER_SHARE  0.10 /* a lone worker's tasks / the range, for a finding */

/* "12%", "0.5%" (one decimal below 1%, where findings.c's pct() has 0.95%:
 * the Python verdicts always printed so) */
static const char *py_pct(char *buf, size_t len, double x) {
  x *= 100.0;
  if (x > 0 && x < 1)
    snprintf(buf, len, "%.1f%%", x);
  else
    snprintf(buf, len, "%.0f%%", x);
  return buf;
}

static void add_verdict(GArray *fv, WeftFindingKind kind, const char *kind_name, int64_t cost, const char *title,
                        const char *evidence, const char *fix, int64_t utid) {
  WeftFinding f = {.kind = kind,
                   .kind_name = kind_name,
                   .cost_ns = cost,
                   .title = title,
                   .evidence = evidence,
                   .fix = fix,
                   .object_id = -1,
                   .utid = utid,
                   .region = -1};
  g_array_append_val(fv, f);
}

/* Threads of pp that wait for the GIL: CPU-bound Python. on_cpu: the share of
 * the process's running time that was on a CPU. */
static void gil_verdict(GArray *fv, WeftPython *py, const WeftMetrics *m, const WeftPyProcess *pp,
                        const WeftProcessMetrics *pm, double on_cpu, int64_t min_cost) {
  char b1[32], b2[32], b3[32], p1[16], p2[16], lab[200];
  if (!(pp->gil_threads && pp->gil_wait_ns >= min_cost && pp->gil_wait_ns > 0 && pm &&
        on_cpu * (double)pp->gil_wait_ns >= GIL_PROCESS_SHARE * (double)pm->thread_ns))
    return;
  char who[200] = "";
  if (pp->top_holder_utid >= 0)
    snprintf(who, sizeof who, "; others waited longest (%s) while %s held it",
             weft_format_ns(b3, sizeof b3, pp->top_holder_ns),
             weft_metrics_thread_label(m, pp->top_holder_utid, lab, sizeof lab));
  const char *title = python_strf(
      py, "%zu thread%s of %s spent %s of their time waiting for the GIL: this work is CPU-bound Python",
      pp->gil_threads, pp->gil_threads == 1 ? "" : "s", pp->label, py_pct(p1, sizeof p1, pp->gil_threads_share));
  const char *evidence =
      python_strf(py,
                  "%s of GIL waits in all; threads were waiting for the GIL during %s of the process's life "
                  "(%s), so only one ran Python at a time; %lld hand-off%s between threads%s",
                  weft_format_ns(b1, sizeof b1, pp->gil_wait_ns), py_pct(p2, sizeof p2, pp->gil_serial_share),
                  weft_format_ns(b2, sizeof b2, pp->gil_serial_ns), (long long)pp->gil_handoffs,
                  pp->gil_handoffs == 1 ? "" : "s", who);
  const char *fix = py_fix_processes(py);
  add_verdict(fv, WEFT_FIND_GIL, "gil", pp->gil_wait_ns, title, evidence, fix, pp->top_holder_utid);
}

/* Two or more I/O threads of pp waiting at once, the GIL no bottleneck:
 * threading is the right choice (cost 0: nothing to fix). */
static void io_verdict(GArray *fv, WeftPython *py, const WeftMetrics *m, const WeftPyProcess *pp, double on_cpu) {
  char b1[32], p1[16], p2[16];
  int pool_parent_proc = 0; /* a pool's helper threads idle in pipe reads: not an I/O-bound program */
  for (size_t k = 0; k < py->npools; k++) pool_parent_proc |= py->pools[k].parent_upid == pp->upid;
  if (pool_parent_proc || pp->io_threads < 2 || pp->io_overlap_max < 2 || !(on_cpu * pp->gil_serial_share < 0.25))
    return;
  int64_t io = 0, life = 0, gil = 0;
  for (size_t i = 0; i < py->nthreads; i++) {
    const WeftPyThread *t = &py->threads[i];
    if (t->upid != pp->upid || !python_is_io_thread(m, t)) continue;
    io += t->io_ns;
    life += t->lifetime_ns;
    gil += t->gil_wait_ns;
  }
  const char *title = python_strf(py,
                                  "threads overlap well while waiting on I/O: threading is the right choice here (%zu "
                                  "threads of %s, up to %zu waiting at once)",
                                  pp->io_threads, pp->label, pp->io_overlap_max);
  const char *evidence = python_strf(
      py,
      "they spent %s of their time blocked in I/O or sleeping and %s waiting for the GIL; two "
      "or more waited at once for %s",
      py_pct(p1, sizeof p1, life ? (double)io / (double)life : 0),
      py_pct(p2, sizeof p2, life ? (double)gil / (double)life : 0), weft_format_ns(b1, sizeof b1, pp->io_overlap_ns));
  const char *fix = python_strf(py, "nothing to change: threads (or asyncio) suit I/O-bound work, since blocking calls "
                                    "release the GIL; more threads help as long as the other side keeps up");
  add_verdict(fv, WEFT_FIND_IO_OVERLAP, "io_overlap", 0, title, evidence, fix, -1);
}

/* The lock pl's straggler finished last for: the most waited-for one
 * processes took turns on (py_shared_user_lock: a multiprocessing lock of the
 * program's own) whose longest wait was a worker's of pl, waited for longer
 * than the straggler's lag; NULL if none. */
const WeftObjectMetrics *py_turns_lock(const WeftMetrics *m, const WeftPyPool *pl) {
  const WeftObjectMetrics *turns = NULL;
  for (size_t i = 0; i < m->nobjects; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    const WeftThreadMetrics *w = weft_metrics_thread(m, o->wait_max_utid);
    bool ours = false;
    for (size_t k = 0; w && k < pl->nworkers; k++) ours |= pl->workers[k].upid == w->upid;
    if (ours && py_shared_user_lock(o) && o->wait_ns >= pl->straggler_lag_ns && (!turns || o->wait_ns > turns->wait_ns))
      turns = o;
  }
  return turns;
}

/* A pool whose straggler finished long after the others: unequal tasks, or
 * the workers took turns on a lock (the one that got it last ends last). */
static void pool_verdict(GArray *fv, WeftPython *py, const WeftMetrics *m, const WeftPyPool *pl, int64_t min_cost) {
  char b1[32], b2[32], p1[16], p2[16];
  int64_t cost = pl->straggler_lag_ns * (int64_t)(pl->nworkers - 1);
  if (pl->straggler_lag_share < STRAGGLER_SHARE || cost < min_cost || cost <= 0) return;
  size_t idx = 0;
  for (size_t w = 0; w < pl->nworkers; w++)
    if (pl->workers[w].upid == pl->straggler_upid) idx = w;
  const WeftPyWorker *sw = &pl->workers[idx];
  /* its process's name when the Python hook gave one ("ForkPoolWorker-2") */
  const char *wname = "";
  int64_t mu = main_utid(m, sw->upid);
  for (size_t i = 0; i < m->nthreads; i++)
    if (m->threads[i].utid == mu && m->threads[i].name && strncmp(m->threads[i].name, "python", 6))
      wname = m->threads[i].name;
  const WeftObjectMetrics *turns = py_turns_lock(m, pl);
  const char *title =
      python_strf(py, "%s %zu (%s%spid %lld) of the %s finished %s after the others (%s of its %s): %s%s",
                  pl->plain ? "process" : "worker", idx + 1, wname, *wname ? ", " : "", (long long)sw->pid, pl->label,
                  weft_format_ns(b1, sizeof b1, pl->straggler_lag_ns), py_pct(p1, sizeof p1, pl->straggler_lag_share),
                  pl->plain ? "life" : "time in the pool", turns ? "they took turns on " : "its tasks were longer",
                  turns ? turns->label : "");
  const char *evidence = python_strf(
      py,
      "%zu %s (%s); load balance of their useful time %.2f; the others sat idle "
      "meanwhile; the parent waited %s (%s of %s span) for %s",
      pl->nworkers, pl->plain ? "processes" : "workers", *pl->start_method ? pl->start_method : "unknown start method",
      pl->pop.lb, weft_format_ns(b2, sizeof b2, pl->parent_wait_ns), py_pct(p2, sizeof p2, pl->parent_wait_share),
      pl->plain ? "their" : "the pool's", pl->plain ? "them" : "results");
  const char *fix = turns ? python_strf(py,
                                        "the %s ran one at a time while one held %s, so the last to get it "
                                        "finished last: make the lock's critical sections shorter (its finding)",
                                        pl->plain ? "processes" : "workers", turns->name)
                          : py_fix_smaller_tasks(py);
  add_verdict(fv, WEFT_FIND_IMBALANCE, "imbalance", cost, title, evidence, fix, mu);
}

/* A pool whose workers spent a large share of their running time starting:
 * an interpreter and its imports for each spawned worker, the main module
 * again for each forkserver one. */
static void startup_verdict(GArray *fv, WeftPython *py, const WeftMetrics *m, const WeftPyPool *pl, int64_t min_cost) {
  char b1[32], b2[32], b3[32], p1[16], p2[16];
  if (pl->startup_share < STARTUP_SHARE || pl->startup_run_ns < min_cost || pl->startup_run_ns <= 0) return;
  const char *meth = pl->start_method;
  int64_t span = pl->end_ns - pl->start_ns;
  const char *title =
      python_strf(py, "%s spent %s starting up (%s of %s time running): %s%s", py_workers_of(py, pl, false),
                  weft_format_ns(b1, sizeof b1, pl->startup_run_ns), py_pct(p1, sizeof p1, pl->startup_share),
                  pl->nworkers == 1 ? "its" : "their", py_startup_what(meth, pl->plain),
                  !strcmp(meth, "fork") ? ""
                  : pl->plain           ? ", before its target ran"
                                        : ", before the first task");
  const char *evidence = python_strf(py, "start method %s; the longest start-up took %s (%s of %s %s)",
                                     *meth ? meth : "unknown", weft_format_ns(b2, sizeof b2, pl->startup_ns),
                                     py_pct(p2, sizeof p2, span > 0 ? (double)pl->startup_ns / span : 0),
                                     pl->plain ? "their" : "the pool's", weft_format_ns(b3, sizeof b3, span));
  add_verdict(fv, WEFT_FIND_STARTUP, "startup", pl->startup_run_ns, title, evidence, py_fix_startup(py, meth),
              main_utid(m, pl->parent_upid));
}

/* A pool whose data moved between processes cost as much as its work. */
static void ipc_verdict(GArray *fv, WeftPython *py, const WeftMetrics *m, const WeftPyPool *pl, int64_t min_cost) {
  char b1[32], b2[32], b3[32], p1[32], s1[32], s2[32], s3[32], r1[32];
  int64_t cost = pl->ipc_helper_ns + pl->ipc_lock_ns;
  if (pl->ipc_share < IPC_SHARE || cost < min_cost || cost <= 0) return;
  /* the bytes (trace version 6 with WEFT_IO; else the times alone) */
  const char *moved =
      pl->ipc_bytes > 0
          ? python_strf(py, ": %s in %lld messages (%s/s), pickled, piped and unpickled",
                        weft_format_bytes(s1, sizeof s1, pl->ipc_bytes), (long long)pl->ipc_messages,
                        weft_format_bytes(r1, sizeof r1, (int64_t)((double)pl->ipc_bytes * 1e9 / (double)cost)))
      : pl->plain ? ": pickling, piping and unpickling what they sent and received"
                  : ": pickling, piping and unpickling task arguments and results";
  const char *title =
      python_strf(py, "moving data to and from %s took %s against %s of work in %s%s", py_workers_of(py, pl, false),
                  weft_format_ns(b1, sizeof b1, cost), weft_format_ns(p1, sizeof p1, pl->ipc_work_ns),
                  pl->nworkers == 1 ? "it" : "them", moved);
  const char *split = pl->ipc_bytes > 0
                          ? python_strf(py,
                                        pl->plain ? "; the parent sent %s, the child processes sent back %s"
                                                  : "; the parent sent %s of task arguments, the workers "
                                                    "returned %s of results",
                                        weft_format_bytes(s2, sizeof s2, pl->ipc_sent_bytes),
                                        weft_format_bytes(s3, sizeof s3, pl->ipc_bytes - pl->ipc_sent_bytes))
                          : "";
  const char *evidence = python_strf(
      py,
      "the parent's threads that move the data ran %s%s%s%s; the processes waited %s for the queues' pipes (one "
      "at a time sends or takes)%s",
      weft_format_ns(b2, sizeof b2, pl->ipc_helper_ns), pl->ipc_helpers ? " (" : "",
      pl->ipc_helpers ? pl->ipc_helpers : "", pl->ipc_helpers ? ")" : "",
      weft_format_ns(b3, sizeof b3, pl->ipc_lock_ns), split);
  add_verdict(fv, WEFT_FIND_IPC, "ipc", cost, title, evidence, py_fix_send_less(py), main_utid(m, pl->parent_upid));
}

/* A pool that ran all its tasks on its one worker while CPUs sat idle: as
 * used, one process. Cost: the wall time the tasks would save spread over
 * the recording's CPUs (an upper bound: another worker's start-up comes off
 * it, and the tasks may not split). */
static void one_worker_verdict(GArray *fv, WeftPython *py, const WeftMetrics *m, const WeftPyPool *pl,
                               int64_t min_cost) {
  char b1[32], b2[32], b3[32], b4[32], lab[200];
  if (pl->nworkers != 1 || m->ncpus < 2) return;
  const WeftPyWorker *w = &pl->workers[0];
  int64_t work = max64(w->running_ns - w->startup_run_ns, 0);
  int64_t cost = work - work / m->ncpus;
  if (cost < min_cost || cost <= 0 || (double)work < ONE_WORKER_SHARE * (double)m->parallelism.span_ns) return;
  int64_t mu = main_utid(m, w->upid);
  const char *title = python_strf(
      py, "the %s ran all its tasks on one worker (%s, %s of tasks) while %lld of the %lld CPUs had none to run",
      pl->label, weft_metrics_thread_label(m, mu, lab, sizeof lab), weft_format_ns(b1, sizeof b1, work),
      (long long)(m->ncpus - 1), (long long)m->ncpus);
  const char *evidence = python_strf(
      py,
      "one worker process (start method %s) ran %s, %s of it starting up; the parent waited %s for it; spread "
      "over %lld workers the tasks would take about %s (another worker's start-up comes off the saving)",
      *pl->start_method ? pl->start_method : "unknown", weft_format_ns(b2, sizeof b2, w->running_ns),
      weft_format_ns(b3, sizeof b3, w->startup_run_ns), weft_format_ns(b4, sizeof b4, pl->parent_wait_ns),
      (long long)m->ncpus, weft_format_ns(b1, sizeof b1, work / m->ncpus));
  add_verdict(fv, WEFT_FIND_ONE_WORKER, "one_worker", cost, title, evidence, py_fix_one_worker(py),
              main_utid(m, pl->parent_upid));
}

/* A pool that is the program's own multiprocessing.Process children: the
 * library found is multiprocessing.Process, not a pool (Pool, an executor,
 * joblib, Dask come first), and none of its workers is a pool's. */
static void plain_processes(WeftPython *py, const WeftMetrics *m) {
  if (!py->nlibraries || py->libraries[0].kind != WEFT_PYLIB_MP_PROCESS) return;
  for (size_t k = 0; k < py->npools; k++) {
    WeftPyPool *pl = &py->pools[k];
    bool pooled = false;
    for (size_t w = 0; w < pl->nworkers; w++) {
      const WeftThreadMetrics *t = weft_metrics_thread(m, main_utid(m, pl->workers[w].upid));
      pooled |= t && t->name && (strstr(t->name, "PoolWorker") || strstr(t->name, "Loky"));
    }
    const WeftPyProcess *parent = weft_python_process(py, pl->parent_upid);
    if (!pooled && parent) {
      pl->plain = true;
      pl->label = python_strf(py, "child process%s of %s", pl->nworkers == 1 ? "" : "es", parent->label);
    }
  }
}

WeftPython *weft_python_compute(sqlite3 *db, const WeftMetrics *m, int64_t min_cost, int *failed, char *err,
                                size_t errlen) {
  WeftPython *py = python_model(db, m, failed, err, errlen);
  if (!py) return NULL;
  WeftSql sql;
  weft_sql_init(&sql, db, err, errlen, WEFT_ANALYSIS_SQL_PREFIX);
  if (!python_libraries(&sql, m, py) || !python_dask(&sql, m, py)) {
    *failed = 1;
    weft_python_free(py);
    return NULL;
  }
  plain_processes(py, m);
  GArray *fv = g_array_new(FALSE, TRUE, sizeof(WeftFinding));
  for (size_t pi = 0; pi < py->nprocesses; pi++) {
    const WeftPyProcess *pp = &py->processes[pi];
    const WeftProcessMetrics *pm = weft_metrics_process(m, pp->upid);
    /* A GIL holder that waits for a CPU (the machine is busy with more threads
     * than CPUs) makes the others wait for the GIL too: that part of the waits
     * is the oversubscription's (its own finding), not the program's. Weigh
     * the waits by the share of the process's running time that was on a CPU. */
    double on_cpu =
        pm && pm->cpu_ns > 0 && pm->runq_ns >= 0 ? (double)pm->cpu_ns / (double)(pm->cpu_ns + pm->runq_ns) : 1;
    gil_verdict(fv, py, m, pp, pm, on_cpu, min_cost);
    io_verdict(fv, py, m, pp, on_cpu);
  }
  for (size_t k = 0; k < py->npools; k++) {
    pool_verdict(fv, py, m, &py->pools[k], min_cost);
    startup_verdict(fv, py, m, &py->pools[k], min_cost);
    ipc_verdict(fv, py, m, &py->pools[k], min_cost);
    one_worker_verdict(fv, py, m, &py->pools[k], min_cost);
  }
  py->nfindings = fv->len;
  py->findings = (WeftFinding *)(void *)g_array_free(fv, FALSE);
  return py;
}

/* CPython makes a lock per Future, Event, Condition or Queue: many objects
 * of one creation site, told apart only by an ordinal ("... #17"), each with
 * a wait or two. They are one finding, not one per object. */
typedef struct {
  size_t idx; /* in m->objects */
  int64_t upid;
  const char *base; /* the name without " #k" */
  size_t blen;
} PyGroupKey;

static int cmp_pygroup(const void *x, const void *y) {
  const PyGroupKey *a = x, *b = y;
  if (a->upid != b->upid) return (a->upid > b->upid) - (a->upid < b->upid);
  size_t n = a->blen < b->blen ? a->blen : b->blen;
  int r = strncmp(a->base, b->base, n);
  if (r) return r;
  if (a->blen != b->blen) return a->blen < b->blen ? -1 : 1;
  return (a->idx > b->idx) - (a->idx < b->idx);
}

static size_t ordinal_stripped(const char *name) {
  size_t n = strlen(name), k = n;
  while (k > 0 && name[k - 1] >= '0' && name[k - 1] <= '9') k--;
  return k < n && k >= 2 && name[k - 1] == '#' && name[k - 2] == ' ' ? k - 2 : n;
}

/* A Python lock a finding may be about: not a pool's queues, not the GIL,
 * not one waited on in Thread.join() (waiting for threads to end, by design). */
static bool is_pylock(const WeftMetrics *m, const WeftObjectMetrics *o) {
  return o->kind == WEFT_KIND_SEM && weft_python_process(m->python, o->upid) && !py_pool_bookkeeping(m, o) &&
         !weft_python_is_gil_object(m->python, o->object_id) && !py_join_object(o);
}

/* Groups of 2+ Python locks with waits: one finding each; their members are
 * marked in grouped[]. */
bool find_pylock_groups(Ctx *c, FindVec *fv, int64_t min_cost, bool *grouped) {
  WeftMetrics *m = c->m;
  Pool *pl = c->pool;
  PyGroupKey *k = malloc((m->nobjects ? m->nobjects : 1) * sizeof *k);
  if (!k) return oom(c);
  size_t n = 0;
  for (size_t i = 0; i < m->nobjects; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    if (o->wait_ns <= 0 || !is_pylock(m, o) || !o->name) continue;
    size_t bl = ordinal_stripped(o->name);
    if (bl == strlen(o->name)) continue; /* no ordinal: a lock of its own site */
    k[n++] = (PyGroupKey){i, o->upid, o->name, bl};
  }
  qsort(k, n, sizeof *k, cmp_pygroup);
  for (size_t a = 0, b; a < n && !c->sql.failed; a = b) {
    int64_t wait = 0, crit = 0, waits = 0;
    size_t top = k[a].idx;
    for (b = a; b < n && k[b].upid == k[a].upid && k[b].blen == k[a].blen && !strncmp(k[b].base, k[a].base, k[a].blen);
         b++) {
      const WeftObjectMetrics *o = &m->objects[k[b].idx];
      wait += o->wait_ns;
      crit += o->critical_share_ns;
      waits += o->waits;
      if (o->wait_ns > m->objects[top].wait_ns) top = k[b].idx;
    }
    if (b - a < 2) continue;
    for (size_t q = a; q < b; q++) grouped[k[q].idx] = true;
    int64_t cost = sat_add(wait, crit);
    if (wait < min_cost) continue;
    const WeftObjectMetrics *t = &m->objects[top];
    char b1[32], b2[32], b3[32];
    char *base = pool_printf(pl, "%.*s", (int)k[a].blen, k[a].base);
    char *title = pool_printf(pl, "%zu Python locks or semaphores made at %s: threads waited %s on them", b - a,
                              base ? base : "", weft_format_ns(b1, sizeof b1, wait));
    char *evidence = pool_printf(pl,
                                 "%lld waits in all; the longest %s on %s (waited %s in all); CPython makes "
                                 "one per Future, Event, Condition or Queue",
                                 (long long)waits, weft_format_ns(b2, sizeof b2, t->wait_max_ns), t->label,
                                 weft_format_ns(b3, sizeof b3, t->wait_ns));
    int64_t result_wait = 0;
    for (size_t q = a; q < b; q++) result_wait += m->objects[k[q].idx].py_result_wait_ns;
    if (!add_finding(c, fv, WEFT_FIND_CONTENTION, cost, title, evidence,
                     pool_strdup(pl,
                                 "waits for results (Future.result(), Event.wait(), Queue.get()) are idle by design "
                                 "when the waiting thread has nothing else to do; if they hold up the run, the work "
                                 "they wait for is the thing to speed up (see the critical path); if threads "
                                 "contend for one lock, hold it for less time"),
                     t->object_id, -1, -1))
      break;
    fv->v[fv->n - 1].by_design = result_wait * 2 > wait; /* waits for results or tasks */
  }
  free(k);
  return !c->sql.failed;
}
