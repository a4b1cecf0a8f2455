/* analysis-private.h - what the files of analysis/ share with each other
 * (internal to libweft-analysis; the public face is metrics.h and python.h).
 * SPDX-License-Identifier: MIT
 *
 * weft_metrics_compute() (analysis.c) runs the analyses in this order, each
 * reading what the ones before it left in the WeftMetrics; a file calls only
 * the files above it in the list:
 *   metrics.c         the model: meta, processes, threads; their states, holds,
 *                     hand-offs and counts (on worker threads); each thread's
 *                     time split four ways; the summary
 *   objects.c         contention per sync object, from the model's accumulators
 *   regions.c         barrier rounds, fork-join groups, phases; parallelism
 *   mpi.c             MPI across ranks (POP over the ranks), and its finding
 *   python.c          parallel Python: processes, threads, pools, the GIL
 *   pylibs.c          the parallel library a Python program uses; fixes phrased in it
 *   critpath.c        the critical path
 *   whatif.c          the what-ifs (the path, objects, regions, Python pools)
 *   replay.c          what-ifs by replay: the recording re-run with a change
 *   findings.c        the findings of every analysis
 *   findings-python.c the Python verdicts (GIL, I/O threads, pool stragglers:
 *                     weft_python_compute) and groups of Python locks
 *   verdict.c         a pipeline's bottleneck thread; causes before symptoms (serial
 *                     time folded into the GIL, straggler or bottleneck); the verdict
 *   analysis.c        weft_metrics_compute(), weft_metrics_free()
 */
#ifndef WEFT_ANALYSIS_PRIVATE_H
#define WEFT_ANALYSIS_PRIVATE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "metrics.h"
#include "python.h"
#include "weft-hmap.h"
#include "weft-sqlite.h"
#include "weft-trace.h"

/* The message of a database error: "cannot read the database: <SQLite's>". */
#define WEFT_ANALYSIS_SQL_PREFIX "cannot read the database"

/* ---- allocation (metrics.c) ---- */

/* Everything a WeftMetrics hands out but its arrays: freed all at once. */
typedef struct {
  void **p;
  size_t n, cap;
} Pool;

void *pool_calloc(Pool *pl, size_t n, size_t size);
char *pool_strdup(Pool *pl, const char *s);
char *pool_printf(Pool *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Grow *v (elements of size sz) to hold at least n + 1; 0 or -1. */
int vec_reserve(void **v, size_t *cap, size_t n, size_t sz);
#define VEC_PUSH(vec, n, cap, val) \
  (vec_reserve((void **)&(vec), &(cap), (n), sizeof *(vec)) == 0 ? ((vec)[(n)++] = (val), 0) : -1)

/* ---- small helpers ---- */

static inline int64_t sat_add(int64_t x, int64_t y) {
  int64_t r;
  if (__builtin_add_overflow(x, y, &r)) return y > 0 ? INT64_MAX : INT64_MIN;
  return r;
}
/* qsort/bsearch order of int64_t */
static inline int cmp_i64(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return (a > b) - (a < b);
}
static inline int64_t max64(int64_t x, int64_t y) { return x > y ? x : y; }
static inline int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

/* [s, e) clipped to [a, b) as [*cs, *ce); true if it is inside the range:
 * a positive overlap, or a zero-length interval at an instant in [a, b). */
static inline bool clip(int64_t s, int64_t e, int64_t a, int64_t b, int64_t *cs, int64_t *ce) {
  *cs = max64(s, a);
  *ce = min64(e, b);
  if (*ce > *cs) return true;
  if (e == s && s >= a && s < b) {
    *ce = *cs;
    return true;
  }
  return false;
}

/* LSD radix sort of non-negative int64 values, 16 bits per pass, skipping
 * passes above the largest value. tmp has n entries; count 65536. */
void radix_sort(int64_t *v, int64_t *tmp, size_t *count, size_t n);

static inline bool kind_is_rwlock(int k) {
  return k == WEFT_KIND_RWLOCK || k == WEFT_KIND_RWLOCK_RD || k == WEFT_KIND_RWLOCK_WR;
}
static inline bool kind_is_lock(int k) { return k == WEFT_KIND_MUTEX || kind_is_rwlock(k) || k == WEFT_KIND_SPIN; }
static inline bool kind_is_lockish(int k) { return kind_is_lock(k) || k == WEFT_KIND_SEM; }

/* ---- the computation context (metrics.c) ---- */

typedef struct {
  int64_t upid, pid, image, parent_upid, exec_from;
  const char *cmdline, *exe, *end_how;
  int64_t start, end;
  bool has_exit;
  int64_t exit_status;
  bool sel;         /* matches the pid filter */
  ptrdiff_t idx;    /* in m->processes, or -1 */
  int64_t mpi_rank; /* -1: none */
  int64_t host;
} ProcInfo;

typedef struct {
  int64_t utid, upid, tid, pid, creator;
  const char *name, *end_how;
  int is_main;
  int64_t start, end;
  int64_t cpu, runq; /* -1: NULL */
  bool sel;          /* its process is selected */
  ptrdiff_t idx;     /* in m->threads, or -1 */
} ThreadInfo;

typedef struct {
  int64_t s, e;
} Span;

/* Sorted, non-overlapping spans of one thread with prefix sums. */
typedef struct {
  Span *run;
  size_t n, cap;
  int64_t *prefix; /* n + 1: prefix[i] = sum of lengths of run[0..i) */
} RunList;

/* The waits of one thread (every state but running), in time order. */
typedef struct {
  int64_t s, e;
  int st; /* WEFT_ST_*; 0 for a state this weft does not know */
} WSpan;

typedef struct {
  WSpan *v;
  size_t n, cap;
} WSpanList;

/* One interval between two scheduler readings of a thread, inside the
 * range: its running time and the part of it on a CPU (for useful time in
 * any sub-range), and inside its recorded waits the time it was on a CPU
 * (spinning, the wait's own calls) and runnable (for the CPU a spinning
 * wait wants: wait_demand). */
typedef struct {
  int64_t s, e, run, oncpu;
  int64_t wcpu, wrun;
} CpuSeg;

typedef struct {
  CpuSeg *v;
  size_t n, cap;
} CpuList;

/* The waits, holds and counts of one object, as the threads are loaded. */
typedef struct {
  int64_t object_id;
  int64_t *durs;
  size_t ndurs, capdurs;
  int64_t wait_ns, wait_max, waits, contended, timeouts, waiters;
  int64_t wmax_s, wmax_e, wmax_utid; /* the longest wait (clipped), by whom (-1 none) */
  size_t last_thread;                /* for distinct waiters: threads are loaded one at a time */
  int64_t holds, hold_ns, hold_max, hold_starts;
  int64_t handoffs;
  /* lock_count rows (contention first), prorated to the range */
  double cnt_acq, cnt_fail, cnt_samples, cnt_sample_ns;
  int64_t cnt_sample_max;
  bool counted, cnt_prorated;
} ObjAcc;

typedef struct {
  size_t obj; /* index into objs */
  int64_t stack_id;
  int64_t waits, wait_ns;
} SiteAcc;

typedef struct {
  const char *label, *symbol, *file, *site;
  int64_t line;
  bool known;     /* the stack has a depth-0 frame */
  bool py_join;   /* a Python frame of Thread.join (threading.py) is on it: a wait by design */
  bool py_result; /* a Python frame of a wait for results or tasks is on it (Future.result, as_completed,
                   * a Pool's AsyncResult.get and its helper and worker threads, Queue.get, Event.wait,
                   * Thread.start): idle by design */
  bool py_ipc;    /* a frame of a multiprocessing queue's put or get is on it: moving data between
                   * processes (a pool's task and result queues: one pipe each, under a lock) */
} StackInfo;

typedef struct {
  WeftSql sql; /* the connection and the first error ("out of memory" too) */
  WeftMetrics *m;
  Pool *pool;
  int64_t a, b;
  bool txn; /* the read transaction is ours (else no worker threads) */

  ProcInfo *procs;
  size_t nprocs, capprocs;
  WeftHMap proc_by_upid;
  ThreadInfo *thr;
  size_t nthr, capthr;
  WeftHMap thr_by_utid;

  RunList *runs;    /* parallel to m->threads: running spans */
  RunList *ios;     /* parallel to m->threads: io_wait spans */
  WSpanList *waits; /* parallel to m->threads: spans in any other state */
  CpuList *cpu;     /* parallel to m->threads: intervals between scheduler readings */
  RunList *joins;   /* parallel to m->threads: join_wait and child_wait spans */

  ObjAcc *objs;
  size_t nobjs, capobjs;
  WeftHMap obj_by_id;
  SiteAcc *sites;
  size_t nsites, capsites;
  WeftHMap site_by_key;
  StackInfo *stacks;
  size_t nstacks, capstacks;
  WeftHMap stack_by_id;
  sqlite3_stmt *stack_q; /* stack_frame_info's read, prepared once */

  int64_t share_base; /* waiting in the range but for threads or children to end */
  bool *floor_needed; /* parallel to m->threads, once read (work_floor_ns): the run waits for its work */
} Ctx;

static inline bool oom(Ctx *c) { return weft_sql_fail(&c->sql, "out of memory"); }

/* Start a computation for q with WEFT_METRICS_* bits what (resolved): a new
 * c->m, and a read transaction unless the caller has one open. false when
 * out of memory (the message in err; nothing to end or free). */
bool metrics_begin(Ctx *c, sqlite3 *db, const WeftMetricsQuery *q, unsigned what, char *err, size_t errlen);
/* The model: meta and the range, processes, threads, their states (and with
 * WEFT_METRICS_OBJECTS holds, hand-offs and counts), the time split and the
 * summary. false on failure (c->sql.failed). */
bool metrics_load(Ctx *c, const WeftMetricsQuery *q);
/* Close the read transaction and free c (not c->m). */
void metrics_end(Ctx *c);
/* Free the model's part of m: its arrays and the pool. */
void metrics_free_model(WeftMetrics *m);

/* Any thread of the recording, selected or not; NULL if unknown. */
ThreadInfo *thread_info(const Ctx *c, int64_t utid);
/* "name [tid]" of any thread of the recording. */
const char *ctx_thread_label(const Ctx *c, int64_t utid, char *buf, size_t len);
/* The main thread of process upid in m, or -1. */
int64_t main_utid(const WeftMetrics *m, int64_t upid);
/* Total length of rl's spans inside [x, y). */
int64_t span_sum(const RunList *rl, int64_t x, int64_t y);
/* Useful time of selected thread ti (index into m->threads) inside [x, y). */
int64_t run_useful(const Ctx *c, size_t ti, int64_t x, int64_t y);
void wait_demand(const Ctx *c, size_t ti, int64_t x, int64_t y, double *cpu, double *runnable);
/* The range's and each process's POP figures, the MPI library's threads left out of their teams. */
bool summary_pops(Ctx *c);

/* ---- the analyses on top of the model ---- */

/* objects.c: m->objects from the accumulators; the innermost frame of a
 * stack (-1: none), cached, for the call sites of any analysis. */
bool build_objects(Ctx *c);
const StackInfo *stack_info(Ctx *c, int64_t stack_id);
const StackInfo *stack_site(Ctx *c, int64_t stack_id);

/* Are o's waits mostly in Python's Thread.join()? Threads waiting for
 * others to end, by design: no lock finding, no group, no what-if. */
static inline bool py_join_object(const WeftObjectMetrics *o) { return o->py_join_wait_ns * 2 > o->wait_ns; }
/* Are o's waits mostly waits for results or tasks (py_result)? Idle by
 * design: a finding ranked after the others, and no what-if. */
static inline bool py_result_object(const WeftObjectMetrics *o) { return o->py_result_wait_ns * 2 > o->wait_ns; }
/* A condition variable one thread waited on while the others worked (a
 * thread collecting their results, or waiting for its next input), and whose
 * waits held up the run little (a tenth of them or less on the critical path
 * of path_ns, and at most 5 % of it): waiting by design (findings.c). Never
 * without a critical path (path_ns 0). */
bool collector_wait(const WeftObjectMetrics *o, int64_t path_ns);

/* A file of Python's standard library: under .../lib/python3.N/ but not in
 * site-packages or dist-packages, or a frozen module (as stack_site). */
static inline bool py_stdlib_file(const char *f) {
  return (strstr(f, "/lib/python3.") && !strstr(f, "-packages/")) || !strncmp(f, "<frozen ", 8);
}

/* A Python lock shared by processes (waited on from 2+) at a line of the
 * program's own: a multiprocessing lock the program holds around its work. */
static inline bool py_shared_user_lock(const WeftObjectMetrics *o) {
  /* (not a queue's lock: a forked worker's stack ends in the program's line that started the pool) */
  return o->processes >= 2 && o->nsites && o->sites[0].file && !py_stdlib_file(o->sites[0].file) &&
         o->py_ipc_wait_ns * 2 <= o->wait_ns;
}

/* A Python lock of a pool's process that is the pool's own bookkeeping
 * (its task and result queues' locks, the parent's wait for results): idle
 * by design, no finding of its own. Not a lock the program shares. */
static inline bool py_pool_bookkeeping(const WeftMetrics *m, const WeftObjectMetrics *o) {
  return weft_python_pool_of(m->python, o->upid) && !py_shared_user_lock(o) && !o->py_manager;
}

/* regions.c */
bool build_regions(Ctx *c);
bool build_parallelism(Ctx *c);
/* CPUs the program may use: its affinity, or its cgroup's limit if lower; 0 unknown. */
double usable_cpus(const WeftMetrics *m);
/* The wall time in [x, y) (clipped to the range) with at most one thread
 * running: the serial time of a window, as the serial finding counts it
 * over the range (less its I/O overlap). */
int64_t serial_in(Ctx *c, int64_t x, int64_t y);

/* ---- mpi.c ---- */
bool build_mpi(Ctx *c);
void mpi_free(WeftMpi *mpi);

/* python.c: the Python model (python.h) without its verdicts: NULL when no
 * selected process is a CPython, or on failure (*failed set, the message in
 * err). weft_python_compute() (findings-python.c) adds the verdicts. */
WeftPython *python_model(sqlite3 *db, const WeftMetrics *m, int *failed, char *err, size_t errlen);
/* A string that lives as long as py. */
const char *python_strf(WeftPython *py, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An I/O thread: not a main thread, a framework's machinery (but asyncio's
 * executor threads) nor an MPI library thread; at least half of its life in
 * I/O waits or sleeps and under a tenth waiting for the GIL. */
bool python_is_io_thread(const WeftMetrics *m, const WeftPyThread *t);

/* pylibs.c: py->libraries from the threads, processes and Python frames
 * (false on a database error, in sql). The fixes phrased in the library
 * the program uses (strings of py). */
bool python_libraries(WeftSql *sql, const WeftMetrics *m, WeftPython *py);
/* A thread of a pool's or a framework's own machinery, by its name (Pool's
 * _handle_* threads, concurrent.futures' feeder and manager, asyncio and Dask
 * loops, distributed's nanny, profiler and AsyncProcess watchers): never a
 * stage of the program's own pipeline. */
bool py_machinery_thread(const char *name);
bool py_thread_runs(const char *name, const char *fn); /* the name says it runs fn (3.10's "(fn)", 3.8's "(Cls.fn)") */
bool py_pool_manager_thread(const char *name);         /* a Pool's _handle_workers, an executor's manager */
bool py_ipc_thread(const char *name); /* moves a pool's data: task/result handlers, feeder, manager (ipc_helper_ns) */
const char *py_fix_processes(WeftPython *py); /* CPU-bound Python on threads: use processes */
const WeftObjectMetrics *py_turns_lock(const WeftMetrics *m, const WeftPyPool *pl); /* its straggler's, or NULL */
const char *py_fix_smaller_tasks(WeftPython *py);                                   /* a pool's unequal tasks */
const char *py_fix_more_consumers(WeftPython *py, bool cpu_bound);                  /* a pipeline's bottleneck thread */
const char *py_processes_short(WeftPython *py);                   /* "dask.config.set(scheduler=\"processes\")" ... */
const char *py_tasks_short(WeftPython *py);                       /* "pool.map(f, items, chunksize=1)" ... */
const char *py_fix_send_less(WeftPython *py);                     /* a pool's data moved costs as much as its work */
const char *py_send_less_short(WeftPython *py);                   /* "shared memory or an initializer" ... */
const char *py_startup_short(WeftPython *py, const char *method); /* "one pool reused for the whole program" ... */
const char *py_startup_what(const char *method, bool plain);      /* what a worker's start is, by start method */
const char *py_workers_of(WeftPython *py, const WeftPyPool *pl, bool cap); /* "the 2 workers of the pool of ..." */
bool python_dask(WeftSql *sql, const WeftMetrics *m, WeftPython *py);      /* dask.c: py->dask */
void python_dask_free(WeftDask *d);
const char *py_fix_startup(WeftPython *py, const char *method); /* a pool's workers' start-up */
const char *py_fix_one_worker(WeftPython *py);                  /* a pool ran its tasks on one worker */
const char *py_one_worker_short(WeftPython *py);                /* "compute(..., chunksize=1)" ... */

/* critpath.c: m->critical_path (but its what-ifs), and the objects'
 * critical_share_ns and critical_hold_ns. */
bool build_critical_path(Ctx *c);

/* whatif.c: m->critical_path->whatifs (none when no path was walked). */
bool build_whatifs(Ctx *c);
/* The least a change that keeps the work can make the range (WeftWorkFloor,
 * into *f): the threads' time on a CPU less the waking done by the releases
 * of object_id (>= 0: the object whose waits the change takes away, and its
 * wake-ups with them), over cpus CPUs (0: unknown; and none across several
 * hosts, each with CPUs of its own), or (per_thread: not for a change that
 * moves work between threads) one thread's, the larger. With more
 * threads than CPUs the time a lock's waiters waited was largely time
 * runnable, which no change to the lock gives back; and a thread's own work
 * does not overlap itself. */
int64_t work_floor_ns(Ctx *c, double cpus, int64_t object_id, bool per_thread, WeftWorkFloor *f);

/* A release that wakes a waiter takes a system call, a few microseconds;
 * one recorded longer had its thread preempted inside it (on a machine with
 * more threads than CPUs the woken thread often runs first, for its whole
 * time slice): time runnable, not work, which the replay's sharing of the
 * CPUs makes itself. Taken as the work after the release and charged again,
 * it took 80 ms of 165 out of two threads on one CPU. */
#define UNLOCK_COST_MAX 50000
/* replay.c: m->replay, the recording replayed unchanged, with each change
 * asked for (an error names a spec that does not parse) and, with defaults,
 * with the critical path's what-ifs (marked replayed; only for a small
 * enough recording). timeline: each thread's timeline in the unchanged
 * replay and the asked ones kept (WeftReplayTimeline). */
bool build_replay(Ctx *c, const char *const *asked, size_t nasked, bool defaults, bool timeline);

/* ---- findings (findings.c) ---- */

typedef struct {
  WeftFinding *v;
  size_t n, cap;
} FindVec;

#define FIND_SERIAL_SHARE 0.10 /* serial: at most one thread running >= 10% of the range */

/* A finding costs at least this (thread-ns): 1/100 of the thread time. */
int64_t findings_min_cost(const WeftMetrics *m);
/* "12%", "0.5%" (one decimal below 0.95%). */
const char *pct(char *buf, size_t len, double f);
/* Append a finding; title, evidence and fix are from c's pool (NULL: out
 * of memory). false on failure. */
bool add_finding(Ctx *c, FindVec *fv, WeftFindingKind kind, int64_t cost, char *title, char *evidence, char *fix,
                 int64_t object_id, int64_t utid, int64_t region);

/* The rules, in the order analysis.c runs them (a fixed order: findings
 * that tie in the sort come out as qsort leaves them). grouped[i]: m->objects[i] is in a group of
 * Python locks (findings-python.c), which has the finding. */
bool find_objects(Ctx *c, FindVec *fv, int64_t min_cost, const bool *grouped);
bool find_imbalance(Ctx *c, FindVec *fv, int64_t min_cost);
bool find_global(Ctx *c, FindVec *fv, int64_t min_cost);
bool find_mpi(Ctx *c, FindVec *fv, int64_t min_cost); /* mpi.c */
void sort_findings(FindVec *fv);

/* verdict.c: the bottleneck of a Python pipeline (a thread others wait for
 * while it works), one finding each; then, on every rule's findings, the
 * serial time a GIL, straggler or bottleneck finding explains moved into
 * it, and a GIL finding about a bottleneck's waiters folded into that one. */
bool find_py_bottlenecks(Ctx *c, FindVec *fv, int64_t min_cost);
bool fold_py_causes(Ctx *c, FindVec *fv, int64_t min_cost);
/* verdict.c: a good sign, one process's Python threads on CPUs at once with
 * little GIL waiting (native code that releases it). */
bool find_py_released(Ctx *c, FindVec *fv);
/* m->python->verdict, from the sorted findings. */
bool build_py_verdict(Ctx *c);

/* findings-python.c: groups of 2+ Python locks with waits (one finding each;
 * their members marked in grouped[]). */
bool find_pylock_groups(Ctx *c, FindVec *fv, int64_t min_cost, bool *grouped);

#endif /* WEFT_ANALYSIS_PRIVATE_H */
