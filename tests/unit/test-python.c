/* test-python.c - unit tests of the Python analysis (analyzer/analysis/python.c), TAP output.
 * SPDX-License-Identifier: MIT
 *
 * Each test builds a recording database by hand (tests/common/weft-dbbuild.h)
 * shaped like what the importer stores for a parallel Python program, runs
 * weft_metrics_compute like `weft report` does and checks python.h's
 * figures and the findings against values computed by hand in the comments
 * (times in ms; a worker's finish is when it had done 95% of its running
 * time; a pool's straggler lags the median finish of the others).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "python.h"
#include "weft-db.h"
#include "weft-dbbuild.h"
#include "weft-trace.h"

#define MS 1000000LL

#include "tap.h"

static WeftDbDir dir;
static WeftDbBuild bd;

static int has(const char *s, const char *sub) { return s && sub && strstr(s, sub) != NULL; }

static int near(double a, double b) {
  double d = a - b;
  return d < 1e-9 && d > -1e-9;
}

static WeftMetrics *compute_ok(sqlite3 *d) {
  WeftMetricsQuery q;
  weft_metrics_query_init(&q);
  char err[256];
  WeftMetrics *m = weft_metrics_compute(d, &q, err, sizeof err);
  if (!m) {
    printf("Bail out! weft_metrics_compute: %s\n", err);
    exit(99);
  }
  return m;
}

/* The finding of kind about object obj (-1: any), or NULL. */
static const WeftFinding *finding(const WeftMetrics *m, WeftFindingKind kind, int64_t obj) {
  for (size_t i = 0; i < m->nfindings; i++)
    if (m->findings[i].kind == kind && (obj < 0 || m->findings[i].object_id == obj)) return &m->findings[i];
  return NULL;
}

static const WeftPyWorker *worker(const WeftPyPool *pl, int64_t upid) {
  for (size_t i = 0; pl && i < pl->nworkers; i++)
    if (pl->workers[i].upid == upid) return &pl->workers[i];
  return NULL;
}

static const WeftPyThread *pythread(const WeftPython *py, int64_t utid) {
  for (size_t i = 0; py && i < py->nthreads; i++)
    if (py->threads[i].utid == utid) return &py->threads[i];
  return NULL;
}

/* thread_state rows [s, e) ms */
static void st(int64_t utid, int64_t s, int64_t e, int state, int64_t obj) {
  dbb_state(&bd, utid, s * MS, e * MS, state, obj, -1);
}

/* A new database with one CPython process (upid 1, pid, 0..1000 ms) whose
 * main thread (utid 1) runs until main_ms, then joins the others (object 30). */
static void db_threads_of(int64_t pid, const char *cmdline, int64_t main_ms) {
  dbb_dir_next(&dir, &bd);
  dbb_process(&bd, 1, pid, 0, 1000 * MS, cmdline, "/usr/bin/python3");
  dbb_thread(&bd, 1, 1, pid, "python3", -1, 0, 1000 * MS);
  dbb_object(&bd, 30, 1, WEFT_KIND_JOIN, 0x7f3a00000640, NULL, -1, -1, 0);
  st(1, 0, main_ms, WEFT_ST_RUNNING, -1);
  st(1, main_ms, 1000, WEFT_ST_JOIN_WAIT, 30);
}

#define PY      "/usr/bin/python3.11"
#define TRACKER PY " -c from multiprocessing.resource_tracker import main;main(5)"

/* A multiprocessing.Pool (fork) of pid 100 with three workers and
 * multiprocessing's resource tracker, over 1000 ms:
 *   upid 1 pid 100 the parent [0, 1000): main runs 0..100, waits for results
 *     on a semaphore (object 10) 100..900, runs 900..1000
 *   upid 2 pid 101 the resource tracker [20, 1000), a child too: reads a pipe
 *   upid 3 pid 102 worker A [100, 600): runs 100..500 (400), waits for tasks
 *     500..600 -> useful 400, idle 100, finish 100 + 0.95 * 400 = 480
 *   upid 4 pid 103 worker B [100, 600): runs 100..300 and 340..540 (400),
 *     waits 300..340 and 540..600 -> useful 400, idle 100; 380 of running
 *     is reached at 340 + 180 = 520
 *   upid 5 pid 104 worker C "ForkPoolWorker-3" [100, 900): runs (800) ->
 *     finish 100 + 760 = 860
 * The pool: 3 workers (not the tracker), span 100..900 (800), method fork;
 * LB (1600 / 3) / 800 = 2/3; the straggler C lags the median of 480 and 520
 * (the lower: 480) by 380, 380 / (860 - 100) = 50% of its time in the pool
 * >= 25%: an imbalance finding of cost 380 * (3 - 1) = 760. The parent's
 * main thread waits 800 of the span (100%). Semaphores of a pool's parent
 * and workers wait by design: no contention finding for objects 10-12.
 * py38: the parent also has the Pool's three threads as CPython 3.8 and 3.9
 * name them ("Thread-1 (Pool._handle_workers)" ...), reading pipes
 * 100..900: the pool's machinery, not threads of the program's own. */
static sqlite3 *db_fork_pool(int py38) {
  dbb_dir_next(&dir, &bd);
  dbb_process(&bd, 1, 100, 0, 1000 * MS, "python3 pool.py", PY);
  dbb_process(&bd, 2, 101, 20 * MS, 1000 * MS, TRACKER, PY);
  dbb_process(&bd, 3, 102, 100 * MS, 600 * MS, "python3 pool.py", PY);
  dbb_process(&bd, 4, 103, 100 * MS, 600 * MS, "python3 pool.py", PY);
  dbb_process(&bd, 5, 104, 100 * MS, 900 * MS, "python3 pool.py", PY);
  for (int u = 2; u <= 5; u++) dbb_process_parent(&bd, u, 1);
  dbb_thread(&bd, 1, 1, 100, "python3.11", -1, 0, 1000 * MS);
  dbb_thread(&bd, 2, 2, 101, "python3.11", -1, 20 * MS, 1000 * MS);
  dbb_thread(&bd, 3, 3, 102, "ForkPoolWorker-1", -1, 100 * MS, 600 * MS);
  dbb_thread(&bd, 4, 4, 103, "ForkPoolWorker-2", -1, 100 * MS, 600 * MS);
  dbb_thread(&bd, 5, 5, 104, "ForkPoolWorker-3", -1, 100 * MS, 900 * MS);
  const char *helpers[] = {"Thread-1 (Pool._handle_workers)", "Thread-2 (Pool._handle_tasks)",
                           "Thread-3 (Pool._handle_results)"};
  for (int i = 0; py38 && i < 3; i++) {
    dbb_thread(&bd, 6 + i, 1, 105 + i, helpers[i], 1, 100 * MS, 900 * MS);
    st(6 + i, 100, 900, WEFT_ST_IO_WAIT, -1);
  }
  dbb_object(&bd, 10, 1, WEFT_KIND_SEM, 0x7f0000001000, NULL, -1, -1, 1);
  dbb_object(&bd, 11, 3, WEFT_KIND_SEM, 0x7f0000002000, NULL, -1, -1, 1);
  dbb_object(&bd, 12, 4, WEFT_KIND_SEM, 0x7f0000002000, NULL, -1, -1, 2);
  const int R = WEFT_ST_RUNNING, L = WEFT_ST_LOCK_WAIT;
  st(1, 0, 100, R, -1);
  st(1, 100, 900, L, 10);
  st(1, 900, 1000, R, -1);
  st(2, 20, 1000, WEFT_ST_IO_WAIT, -1);
  st(3, 100, 500, R, -1);
  st(3, 500, 600, L, 11);
  st(4, 100, 300, R, -1);
  st(4, 300, 340, L, 12);
  st(4, 340, 540, R, -1);
  st(4, 540, 600, L, 12);
  st(5, 100, 900, R, -1);
  return dbb_finish_reopen(&bd, 1000 * MS, 4, "python3 pool.py");
}

static void test_fork_pool(int py38) {
  sqlite3 *d = db_fork_pool(py38);
  WeftMetrics *m = compute_ok(d);
  const WeftPython *py = m->python;
  ok(py && py->nlibraries == 1 && py->libraries[0].kind == WEFT_PYLIB_MP_POOL,
     "fork pool%s: the library: multiprocessing.Pool, and no other (%zu)", py38 ? " (3.8 thread names)" : "",
     py ? py->nlibraries : 0);
  ok(py && py->nprocesses == 5 && weft_python_process(py, 2) && weft_python_process(py, 5),
     "fork pool: 5 CPython processes, the resource tracker among them (%zu)", py ? py->nprocesses : 0);
  ok(py && py->npools == 1, "fork pool: one pool (%zu)", py ? py->npools : 0);
  const WeftPyPool *pl = py && py->npools ? &py->pools[0] : NULL;
  ok(pl && pl->parent_upid == 1 && pl->nworkers == 3 && !strcmp(pl->start_method, "fork") &&
         !strcmp(pl->label, "pool of pid 100 (python3.11)"),
     "fork pool: of pid 100, 3 workers (the tracker is none), started with fork: %s, %zu, %s", pl ? pl->label : "",
     pl ? pl->nworkers : 0, pl ? pl->start_method : "");
  ok(pl && pl->start_ns == 100 * MS && pl->end_ns == 900 * MS, "fork pool: span 100..900 ms");
  ok(weft_python_pool_of(py, 1) == pl && weft_python_pool_of(py, 4) == pl && !weft_python_pool_of(py, 2),
     "pool_of: the parent and a worker are the pool's, the tracker is not");
  const WeftPyWorker *a = worker(pl, 3), *b = worker(pl, 4), *c = worker(pl, 5);
  ok(a && a->useful_ns == 400 * MS && a->idle_ns == 100 * MS && a->finish_ns == 480 * MS && a->pid == 102,
     "worker A: useful 400, idle 100, finished at 480 ms (%lld)", a ? (long long)(a->finish_ns / MS) : -1);
  ok(b && b->useful_ns == 400 * MS && b->idle_ns == 100 * MS && b->finish_ns == 520 * MS,
     "worker B: useful 400, idle 100, finished at 520 ms (%lld)", b ? (long long)(b->finish_ns / MS) : -1);
  ok(c && c->useful_ns == 800 * MS && c->idle_ns == 0 && c->finish_ns == 860 * MS,
     "worker C: useful 800, finished at 860 ms (%lld)", c ? (long long)(c->finish_ns / MS) : -1);
  ok(pl && near(pl->pop.lb, 2.0 / 3) && pl->straggler_upid == 5 && pl->straggler_lag_ns == 380 * MS &&
         near(pl->straggler_lag_share, 0.5),
     "straggler C: 380 ms behind, 50%% of its time in the pool; LB %.4f (0.6667)", pl ? pl->pop.lb : -1);
  ok(pl && pl->parent_wait_ns == 800 * MS && near(pl->parent_wait_share, 1.0),
     "the parent waited 800 ms, all of the span");
  const WeftFinding *f = finding(m, WEFT_FIND_IMBALANCE, -1);
  /* causes before symptoms: of the 560 ms with at most one thread running
   * (0-100, 540-1000), the straggler's lag (380 ms) is the straggler's */
  ok(f && f->cost_ns == 1140 * MS && f->utid == 5 &&
         has(f->title, "worker 3 (ForkPoolWorker-3, pid 104) of the pool of pid 100 (python3.11) finished 380 ms "
                       "after the others (50% of its time in the pool)") &&
         has(f->evidence, "; 380 ms of the run's serial time (at most one thread running) is this, counted here"),
     "imbalance finding: cost 760 ms (lag x 2 others) + 380 ms of serial time, on the straggler: %s",
     f ? f->title : "none");
  const WeftFinding *sf = finding(m, WEFT_FIND_SERIAL, -1);
  ok(sf && sf->cost_ns == 180 * MS && has(sf->evidence, "; 380 ms of it is explained by the findings above") &&
         m->findings[0].kind == WEFT_FIND_IMBALANCE,
     "the serial finding keeps the other 180 ms and ranks after the straggler (%lld ms)",
     sf ? (long long)(sf->cost_ns / MS) : -1);
  ok(py && py->verdict.choice && !strcmp(py->verdict.choice, "processes") && !strcmp(py->verdict.reason, "straggler") &&
         py->verdict.straggler_lag_ns == 380 * MS &&
         has(py->verdict.text, "one finished 380 ms after the others (load balance 0.67)") &&
         has(py->verdict.text, "pool.map(f, items, chunksize=1)"),
     "verdict: processes, the straggler: %s", py && py->verdict.text ? py->verdict.text : "none");
  ok(py && py->nlibraries == 1 && py->libraries[0].kind == WEFT_PYLIB_MP_POOL &&
         !strcmp(py->libraries[0].name, "multiprocessing.Pool"),
     "libraries: multiprocessing.Pool, from the workers' names (%zu)", py ? py->nlibraries : 0);
  ok(f && has(f->evidence, "3 workers (fork); load balance of their useful time 0.67") &&
         has(f->evidence, "the parent waited 800 ms (100% of the pool's span)"),
     "imbalance evidence: %s", f ? f->evidence : "none");
  ok(!finding(m, WEFT_FIND_CONTENTION, 10) && !finding(m, WEFT_FIND_CONTENTION, 11) &&
         !finding(m, WEFT_FIND_CONTENTION, 12),
     "no contention finding for the semaphores of the pool's parent and workers");
  ok(py && py->io_ns == (py38 ? 980 + 3 * 800 : 980) * MS && !finding(m, WEFT_FIND_IO, -1) &&
         !finding(m, WEFT_FIND_GIL, -1),
     "the tracker's 980 ms of pipe reads (and the Pool's threads' 3 x 800) are Python's (no io finding), no GIL "
     "finding (%lld)",
     py ? (long long)(py->io_ns / MS) : -1);
  weft_metrics_free(m);
  sqlite3_close(d);
}

#define FORKSERVER PY " -c from multiprocessing.forkserver import main; main(7, 8, ['__main__'])"
#define LOKY       PY " -m joblib.externals.loky.backend.popen_loky_posix --process-name LokyProcess-%d --pipe 9"

/* Two pools, both balanced:
 *   a forkserver pool of pid 500 (upid 1, runs 0..1000): its forkserver (upid
 *   2, a child, reading requests 50..1000) forks the workers upid 4 [100,
 *   600) and 5 [120, 600), which have its command line; multiprocessing's
 *   resource tracker (upid 3) is a child too. Workers run 400 each (4:
 *   100..500, 5: 120..520) then wait: finish 480 and 500, the straggler 5
 *   lags 20 of its 400: 5% < 25%, no finding. Span 100..600.
 *   a joblib (loky) executor of pid 600 (upid 6, a root): each worker
 *   forks (upids 7 and 9, 10 ms) and execs the loky worker (upids 8 and 10,
 *   500 ms running each, 210..710 and 215..715). A worker is its last image
 *   (8, 10), with the fork image's time: starts 200 and 205, useful 510
 *   each. Span 200..715 (515); the parent waits on a semaphore (object 20)
 *   200..800, 515 of the span; finishes 210 + 475 = 685 and 690. Its
 *   manager thread (utid 11, "ExecutorManagerThread (_ExecutorManagerThread.run)",
 *   as weft's hook names loky's) runs 200..300 and reads pipes 300..800: the
 *   pool's data moving (100 ms), not a thread of the program's own. */
static sqlite3 *db_two_pools(void) {
  dbb_dir_next(&dir, &bd);
  char loky1[200], loky2[200];
  snprintf(loky1, sizeof loky1, LOKY, 1);
  snprintf(loky2, sizeof loky2, LOKY, 2);
  dbb_process(&bd, 1, 500, 0, 1000 * MS, "python3 app.py", PY);
  dbb_process(&bd, 2, 501, 50 * MS, 1000 * MS, FORKSERVER, PY);
  dbb_process(&bd, 3, 502, 40 * MS, 1000 * MS, TRACKER, PY);
  dbb_process(&bd, 4, 503, 100 * MS, 600 * MS, FORKSERVER, PY);
  dbb_process(&bd, 5, 504, 120 * MS, 600 * MS, FORKSERVER, PY);
  dbb_process(&bd, 6, 600, 0, 1000 * MS, "python3 job.py", PY);
  dbb_process(&bd, 7, 601, 200 * MS, 210 * MS, "python3 job.py", PY);
  dbb_process(&bd, 8, 601, 210 * MS, 710 * MS, loky1, PY);
  dbb_process(&bd, 9, 602, 205 * MS, 215 * MS, "python3 job.py", PY);
  dbb_process(&bd, 10, 602, 215 * MS, 715 * MS, loky2, PY);
  dbb_process_parent(&bd, 2, 1);
  dbb_process_parent(&bd, 3, 1);
  dbb_process_parent(&bd, 4, 2);
  dbb_process_parent(&bd, 5, 2);
  dbb_process_parent(&bd, 7, 6);
  dbb_process_parent(&bd, 9, 6);
  dbb_process_exec(&bd, 8, 7, 1);
  dbb_process_exec(&bd, 10, 9, 1);
  const int64_t life[][2] = {{0, 1000}, {50, 1000}, {40, 1000}, {100, 600}, {120, 600},
                             {0, 1000}, {200, 210}, {210, 710}, {205, 215}, {215, 715}};
  for (int u = 1; u <= 10; u++)
    dbb_thread(&bd, u, u, 500 + u, "python3.11", -1, life[u - 1][0] * MS, life[u - 1][1] * MS);
  dbb_thread(&bd, 11, 6, 611, "ExecutorManagerThread (_ExecutorManagerThread.run)", 6, 200 * MS, 800 * MS);
  dbb_object(&bd, 20, 6, WEFT_KIND_SEM, 0x7f0000003000, NULL, -1, -1, 1);
  const int R = WEFT_ST_RUNNING, L = WEFT_ST_LOCK_WAIT;
  st(1, 0, 1000, R, -1);
  st(2, 50, 1000, WEFT_ST_IO_WAIT, -1);
  st(3, 40, 1000, WEFT_ST_IO_WAIT, -1);
  st(4, 100, 500, R, -1);
  st(4, 500, 600, L, -1);
  st(5, 120, 520, R, -1);
  st(5, 520, 600, L, -1);
  st(6, 0, 200, R, -1);
  st(6, 200, 800, L, 20);
  st(6, 800, 1000, R, -1);
  st(7, 200, 210, R, -1);
  st(8, 210, 710, R, -1);
  st(9, 205, 215, R, -1);
  st(10, 215, 715, R, -1);
  st(11, 200, 300, R, -1);
  st(11, 300, 800, WEFT_ST_IO_WAIT, -1);
  return dbb_finish_reopen(&bd, 1000 * MS, 4, "python3 app.py");
}

static void test_two_pools(void) {
  sqlite3 *d = db_two_pools();
  WeftMetrics *m = compute_ok(d);
  const WeftPython *py = m->python;
  ok(py && py->npools == 2, "two pools (%zu)", py ? py->npools : 0);
  const WeftPyPool *fs = weft_python_pool_of(py, 1), *lk = weft_python_pool_of(py, 6);
  ok(fs && fs->nworkers == 2 && worker(fs, 4) && worker(fs, 5) && !strcmp(fs->start_method, "forkserver"),
     "forkserver pool: the 2 workers the forkserver forked, method %s (%zu workers)", fs ? fs->start_method : "",
     fs ? fs->nworkers : 0);
  ok(fs && !weft_python_pool_of(py, 2) && !weft_python_pool_of(py, 3) && fs->start_ns == 100 * MS &&
         fs->end_ns == 600 * MS,
     "the forkserver and the resource tracker are no workers: the span is the workers' 100..600 ms");
  ok(fs && worker(fs, 4)->finish_ns == 480 * MS && worker(fs, 5)->finish_ns == 500 * MS && fs->straggler_upid == 5 &&
         fs->straggler_lag_ns == 20 * MS && near(fs->straggler_lag_share, 0.05) && near(fs->pop.lb, 1.0),
     "forkserver pool: finishes 480 and 500 ms, lag 20 ms (5%%), LB 1");
  ok(lk && lk->nworkers == 2 && worker(lk, 8) && worker(lk, 10) && !strcmp(lk->start_method, "loky") &&
         !weft_python_pool_of(py, 7),
     "loky executor: its 2 workers are their exec'd images, method %s", lk ? lk->start_method : "");
  const WeftPyWorker *w8 = worker(lk, 8), *w10 = worker(lk, 10);
  ok(w8 && w8->start_ns == 200 * MS && w8->useful_ns == 510 * MS && w8->finish_ns == 685 * MS && w10 &&
         w10->start_ns == 205 * MS && w10->finish_ns == 690 * MS && w8->pid == 601,
     "loky workers: from their fork (200, 205 ms), useful 510 ms with it, finished at 685 and 690 ms");
  ok(lk && lk->start_ns == 200 * MS && lk->end_ns == 715 * MS && lk->parent_wait_ns == 515 * MS &&
         near(lk->parent_wait_share, 1.0) && lk->straggler_lag_ns == 5 * MS,
     "loky executor: span 200..715 ms, the parent waited all 515 ms of it, lag 5 ms");
  ok(!finding(m, WEFT_FIND_IMBALANCE, -1), "balanced pools: no imbalance finding");
  ok(!finding(m, WEFT_FIND_CONTENTION, 20), "the executor's parent waiting for results: no contention finding");
  bool threading = false;
  for (size_t i = 0; py && i < py->nlibraries; i++) threading |= py->libraries[i].kind == WEFT_PYLIB_THREADING;
  ok(py && !threading && lk && lk->ipc_helper_ns == 100 * MS,
     "loky's manager thread is the pool's: no threading, 100 ms of its data moving (%lld)",
     lk ? (long long)(lk->ipc_helper_ns / MS) : -1);
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* Two threads of pid 700 taking turns on the GIL, over 1000 ms:
 *   main (utid 1) runs 0..100, joins 100..1000
 *   T1 (utid 2) [100, 1000): runs 100..300, 500..700, 900..1000; waits for
 *     the GIL (its condvar, object 5) 300..500 and 700..900 while T2 holds
 *     it (blocker 3), handed over by T2 (waker 3)
 *   T2 (utid 3) [100, 1000): waits on the condvar 100..300 and 500..700
 *     (blocker and waker T1), on the GIL's mutex (object 6) 900..1000 (a
 *     mutex: no hand-off), runs 300..500 and 700..900
 * GIL waits: T1 400 (44% of its 900), T2 500 (56%): 2 threads, 900 of
 * their 1800 (50%); someone waits 100..1000: 900 of the process's 1000
 * (90%); 4 hand-offs (the condvar waits ended by the other thread); T1 held
 * it while others waited 500, T2 400: top holder T1. The gil finding: 900
 * >= 10% of the 2800 thread time, cost 900, on T1. The GIL's objects get no
 * condvar or contention finding. */
static sqlite3 *db_gil(void) {
  db_threads_of(700, "python3 cpu.py", 100);
  dbb_thread(&bd, 2, 1, 701, "T1", 1, 100 * MS, 1000 * MS);
  dbb_thread(&bd, 3, 1, 702, "T2", 1, 100 * MS, 1000 * MS);
  dbb_object(&bd, 5, 1, WEFT_KIND_COND, 0x7f0000005000, "GIL", -1, -1, 0);
  dbb_object(&bd, 6, 1, WEFT_KIND_MUTEX, 0x7f0000005040, "GIL mutex", -1, -1, 0);
  const int R = WEFT_ST_RUNNING, G = WEFT_ST_GIL_WAIT;
  const int64_t t1[][3] = {{100, 300, R}, {300, 500, G}, {500, 700, R}, {700, 900, G}, {900, 1000, R}};
  const int64_t t2[][3] = {{100, 300, G}, {300, 500, R}, {500, 700, G}, {700, 900, R}, {900, 1000, G}};
  for (int i = 0; i < 5; i++) {
    st(2, t1[i][0], t1[i][1], (int)t1[i][2], t1[i][2] == G ? 5 : -1);
    st(3, t2[i][0], t2[i][1], (int)t2[i][2], t2[i][2] == G ? (i == 4 ? 6 : 5) : -1);
    if (t1[i][2] == G) dbb_state_link(&bd, 2, t1[i][0] * MS, 3, 3);
    if (t2[i][2] == G) dbb_state_link(&bd, 3, t2[i][0] * MS, 2, 2);
  }
  return dbb_finish_reopen(&bd, 1000 * MS, 4, "python3 cpu.py");
}

static void test_gil(void) {
  sqlite3 *d = db_gil();
  WeftMetrics *m = compute_ok(d);
  const WeftPython *py = m->python;
  const WeftPyProcess *pp = weft_python_process(py, 1);
  ok(pp && pp->pid == 700 && !strcmp(pp->label, "pid 700 (python3)") && pp->nthreads == 3,
     "GIL: pid 700 (python3), 3 threads: %s", pp ? pp->label : "none");
  ok(pp && pp->gil_wait_ns == 900 * MS && pp->gil_threads == 2 && near(pp->gil_threads_share, 0.5),
     "GIL: 900 ms of waits, 2 threads at 50%% of their time (%zu, %.4f)", pp ? pp->gil_threads : 0,
     pp ? pp->gil_threads_share : -1);
  ok(pp && pp->gil_serial_ns == 900 * MS && near(pp->gil_serial_share, 0.9),
     "GIL: someone waited for it 900 ms, 90%% of the process's life (%lld)",
     pp ? (long long)(pp->gil_serial_ns / MS) : -1);
  ok(pp && pp->gil_handoffs == 4, "GIL: 4 hand-offs on its condvar (not the mutex wait) (%lld)",
     pp ? (long long)pp->gil_handoffs : -1);
  const WeftPyThread *t1 = pythread(py, 2), *t2 = pythread(py, 3);
  ok(t1 && t2 && t1->gil_wait_ns == 400 * MS && t2->gil_wait_ns == 500 * MS && t1->gil_held_ns == 500 * MS &&
         t2->gil_held_ns == 400 * MS && near(t1->gil_share, 4.0 / 9) && !strcmp(t1->label, "T1 [701]"),
     "T1 waited 400 ms and held it 500 ms while T2 waited; T2 the other way round");
  ok(pp && pp->top_holder_utid == 2 && pp->top_holder_ns == 500 * MS, "top holder T1, 500 ms");
  ok(weft_python_is_gil_object(py, 5) && weft_python_is_gil_object(py, 6) && !weft_python_is_gil_object(py, 30) &&
         py->ngil_objects == 2,
     "the GIL's objects: its condvar and mutex, not the join");
  ok(!finding(m, WEFT_FIND_BOTTLENECK, -1), "two threads taking turns on the GIL: no bottleneck (no lock waits)");
  const WeftFinding *f = finding(m, WEFT_FIND_GIL, -1);
  ok(f && f->cost_ns == 900 * MS && f->utid == 2 &&
         has(f->title, "2 threads of pid 700 (python3) spent 50% of their time waiting for the GIL"),
     "gil finding: cost 900 ms, on T1: %s", f ? f->title : "none");
  ok(f &&
         has(f->evidence, "900 ms of GIL waits in all; threads were waiting for the GIL during 90% of the "
                          "process's life (900 ms)") &&
         has(f->evidence, "4 hand-offs between threads; others waited longest (500 ms) while T1 [701] held it"),
     "gil evidence: %s", f ? f->evidence : "none");
  ok(!finding(m, WEFT_FIND_CONDVAR, 5) && !finding(m, WEFT_FIND_CONTENTION, 6) && !finding(m, WEFT_FIND_IO_OVERLAP, -1),
     "the GIL's condvar and mutex get no finding of their own; no io_overlap");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* Threads of pid 800 blocked in I/O together, over 1000 ms:
 *   main (utid 1) runs 0..50, joins 50..1000
 *   io1 (utid 2) [50, 1000): I/O 100..600 and 650..1000 (850 of 950)
 *   io2 (utid 3) [50, 1000): I/O 300..900 (600 of 950)
 *   cpu (utid 4) [50, 1000): runs
 * Two I/O threads (>= 50% in I/O, no GIL waits), both in I/O 300..600 and
 * 650..900: 550 ms, at most 2 at once; 1450 of their 1900 ms (76%) in I/O:
 * the io_overlap finding (cost 0). Their I/O is Python's: no io finding. */
static sqlite3 *db_io_threads(void) {
  db_threads_of(800, "python3 fetch.py", 50);
  dbb_thread(&bd, 2, 1, 801, "io1", 1, 50 * MS, 1000 * MS);
  dbb_thread(&bd, 3, 1, 802, "io2", 1, 50 * MS, 1000 * MS);
  dbb_thread(&bd, 4, 1, 803, "cpu", 1, 50 * MS, 1000 * MS);
  const int R = WEFT_ST_RUNNING, IO = WEFT_ST_IO_WAIT;
  st(2, 50, 100, R, -1);
  st(2, 100, 600, IO, -1);
  st(2, 600, 650, R, -1);
  st(2, 650, 1000, IO, -1);
  st(3, 50, 300, R, -1);
  st(3, 300, 900, IO, -1);
  st(3, 900, 1000, R, -1);
  st(4, 50, 1000, R, -1);
  return dbb_finish_reopen(&bd, 1000 * MS, 4, "python3 fetch.py");
}

static void test_io_threads(void) {
  sqlite3 *d = db_io_threads();
  WeftMetrics *m = compute_ok(d);
  const WeftPython *py = m->python;
  const WeftPyProcess *pp = weft_python_process(py, 1);
  ok(pp && pp->io_threads == 2 && pp->io_overlap_max == 2 && pp->io_overlap_ns == 550 * MS && pp->gil_wait_ns == 0,
     "I/O threads: 2 (not main, not the CPU thread), both in I/O 550 ms (%zu, %lld)", pp ? pp->io_threads : 0,
     pp ? (long long)(pp->io_overlap_ns / MS) : -1);
  ok(py && py->io_ns == 1450 * MS && py->sleep_ns == 0 && py->npools == 0, "1450 ms of Python I/O, no pool");
  const WeftFinding *f = finding(m, WEFT_FIND_IO_OVERLAP, -1);
  ok(f && f->cost_ns == 0 && has(f->title, "(2 threads of pid 800 (python3), up to 2 waiting at once)") &&
         has(f->evidence, "76% of their time blocked in I/O or sleeping and 0% waiting for the GIL") &&
         has(f->evidence, "at once for 550 ms"),
     "io_overlap finding (cost 0): %s / %s", f ? f->title : "none", f ? f->evidence : "");
  ok(!finding(m, WEFT_FIND_IO, -1) && !finding(m, WEFT_FIND_GIL, -1), "no io finding, no gil finding");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* A producer/consumer of pid 800 whose consumer is the bottleneck, over
 * 1000 ms (issue 13 item 6):
 *   main (utid 1) runs 0..100, joins 100..1000
 *   producer (utid 2) [100, 1000): runs 100..120, waits in put() on a
 *     semaphore (object 40) 120..520 ended by the consumer's post (waker 3),
 *     runs 520..540, waits for the GIL (object 5) 540..940 while the
 *     consumer holds it (blocker 3), runs 940..1000
 *   consumer (utid 3) [100, 1000): runs all 900 ms
 * The producer waited 800 of its 900 ms for the consumer (89% >= 50%), its
 * lock waits too; the consumer ran 100% of its life and waited 0 on others:
 * a bottleneck finding on utid 3, waited 800 (400 of it for the GIL). The
 * gil finding (400 ms, top holder the consumer) is folded into it. Serial
 * time (at most one thread running): 0..100, 120..520, 540..940 = 900 of
 * 1000; the consumer's 900 ms of running explain all of it, so the
 * bottleneck costs 800 + 900 = 1700 and the serial finding goes. Verdict:
 * processes (the consumer runs Python), the library threading. */
static sqlite3 *db_pipeline(void) {
  db_threads_of(800, "python3 pipe.py", 100);
  dbb_thread(&bd, 2, 1, 801, "producer (produce)", 1, 100 * MS, 1000 * MS);
  dbb_thread(&bd, 3, 1, 802, "consumer (consume)", 1, 100 * MS, 1000 * MS);
  dbb_object(&bd, 5, 1, WEFT_KIND_COND, 0x7f0000005000, "GIL", -1, -1, 0);
  dbb_object(&bd, 40, 1, WEFT_KIND_SEM, 0x7f0000006000, NULL, -1, -1, 0);
  const int R = WEFT_ST_RUNNING;
  st(2, 100, 120, R, -1);
  st(2, 120, 520, WEFT_ST_SEM_WAIT, 40);
  dbb_state_link(&bd, 2, 120 * MS, -1, 3);
  st(2, 520, 540, R, -1);
  st(2, 540, 940, WEFT_ST_GIL_WAIT, 5);
  dbb_state_link(&bd, 2, 540 * MS, 3, 3);
  st(2, 940, 1000, R, -1);
  st(3, 100, 1000, R, -1);
  return dbb_finish_reopen(&bd, 1000 * MS, 4, "python3 pipe.py");
}

static void test_pipeline(void) {
  sqlite3 *d = db_pipeline();
  WeftMetrics *m = compute_ok(d);
  const WeftPython *py = m->python;
  const WeftPyThread *pr = pythread(py, 2);
  ok(pr && pr->top_waker_utid == 3 && pr->top_waker_ns == 800 * MS && pr->top_lock_waker_utid == 3,
     "pipeline: the consumer ended 800 ms of the producer's waits, its lock waits too (%lld)",
     pr ? (long long)(pr->top_waker_ns / MS) : -1);
  const WeftFinding *f = m->nfindings ? &m->findings[0] : NULL;
  ok(f && f->kind == WEFT_FIND_BOTTLENECK && f->utid == 3 && f->cost_ns == 1700 * MS &&
         has(f->title, "consumer (consume) [802] is the bottleneck: producer (produce) [801] spent 89% of its time "
                       "waiting for it") &&
         has(f->evidence, "the waiters waited 800 ms for it in all (400 ms of it for the GIL while it held it)") &&
         has(f->evidence, "900 ms of the run's serial time") && has(f->fix, "processes"),
     "pipeline: finding 1 is the consumer as the bottleneck, cost 800 + 900 ms: %s", f ? f->title : "none");
  ok(!finding(m, WEFT_FIND_GIL, -1) && !finding(m, WEFT_FIND_SERIAL, -1),
     "pipeline: the GIL's and the serial time are the bottleneck's: no gil or serial finding");
  ok(py && !strcmp(py->verdict.choice, "processes") && !strcmp(py->verdict.reason, "bottleneck") &&
         has(py->verdict.text, "consumer (consume) [802] is the bottleneck: the others waited 800 ms"),
     "pipeline: the verdict is processes, for the consumer: %s", py ? py->verdict.text : "none");
  ok(py && py->nlibraries == 1 && py->libraries[0].kind == WEFT_PYLIB_THREADING, "pipeline: the library: threading");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* A ProcessPoolExecutor (fork) of pid 200 whose arguments are big, over
 * 1000 ms:
 *   upid 1 pid 200 the parent [0, 1000): main (utid 1) runs 0..100, waits for
 *     results (semaphore 20) 100..900, runs 900..1000; its QueueFeederThread
 *     (utid 2) pickles and writes [100, 900), running: 64,000,000 bytes to
 *     pipes in 8 messages; its _ExecutorManagerThread (utid 5) waits in pipe
 *     reads [100, 900)
 *   upid 2 pid 201 worker A (utid 3) [100, 900): reads 100..200, runs
 *     200..300 (100), reads 300..900; 1000 bytes in 4 messages
 *   upid 3 pid 202 worker B (utid 4) [100, 900): reads 100..700, runs
 *     700..820 (120), reads 820..900; 1000 bytes in 4 messages
 * The pool: ipc 800 ms (the feeder's running) against 220 ms of work (share
 * 3.64 >= 0.5): 64,002,000 bytes in 16 messages, 80.0 MB/s of the 800 ms.
 * A finishes at 295, B at 814: B lags 519 ms (73% of its 714 in the pool),
 * an imbalance of cost 519, but B ran only 20 ms more than A: it waited for
 * its data, so the straggler is the ipc finding's. At most one thread runs
 * 0..200, 300..700, 820..1000: 780 ms serial; in the pool's span [100, 900)
 * 580 of it, which the ipc finding takes (cost 800 + 580); the serial
 * finding keeps 200 (>= 10% of the range). py38: as CPython 3.8 names the
 * manager thread (QueueManagerThread, running _queue_management_worker):
 * the same pool, the same library, no "threading". (test_plain_ipc: no
 * manager thread at all, the program's own Process children and a Queue.) */
static sqlite3 *db_ipc_pool(int py38) {
  dbb_dir_next(&dir, &bd);
  dbb_process(&bd, 1, 200, 0, 1000 * MS, "python3 big.py", PY);
  dbb_process(&bd, 2, 201, 100 * MS, 900 * MS, "python3 big.py", PY);
  dbb_process(&bd, 3, 202, 100 * MS, 900 * MS, "python3 big.py", PY);
  for (int u = 2; u <= 3; u++) dbb_process_parent(&bd, u, 1);
  dbb_thread(&bd, 1, 1, 200, "python3.11", -1, 0, 1000 * MS);
  dbb_thread(&bd, 2, 1, 205, "QueueFeederThread (Queue._feed)", 1, 100 * MS, 900 * MS);
  if (py38 >= 0)
    dbb_thread(&bd, 5, 1, 206,
               py38 ? "QueueManagerThread (_queue_management_worker)" : "Thread-1 (_ExecutorManagerThread.run)", 1,
               100 * MS, 900 * MS);
  /* (the program's own children: multiprocessing.Process under the default context names them Process-N;
   * -2: a Process subclass with its own run, which the hook names after it; -3: os.fork children that
   * named themselves) */
  const char *kid[][2] = {{"ForkProcess-1", "ForkProcess-2"},
                          {"Process-1", "Process-2"},
                          {"Worker-1 (Worker.run)", "Worker-2 (Worker.run)"},
                          {"srv (child)", "srv (child)"}}; /* -3: names of its own (prctl), no multiprocessing */
  int v = py38 < 0 ? -py38 : 0;
  dbb_thread(&bd, 3, 2, 201, kid[v][0], -1, 100 * MS, 900 * MS);
  dbb_thread(&bd, 4, 3, 202, kid[v][1], -1, 100 * MS, 900 * MS);
  dbb_exec(&bd, "UPDATE thread SET pipe_bytes = 64000000, pipe_writes = 16, pipe_messages = 8 WHERE utid = 2");
  dbb_exec(&bd, "UPDATE thread SET pipe_bytes = 1000, pipe_writes = 4, pipe_messages = 4 WHERE utid IN (3, 4)");
  dbb_object(&bd, 20, 1, WEFT_KIND_SEM, 0x7f0000003000, NULL, -1, -1, 1);
  const int R = WEFT_ST_RUNNING, IO = WEFT_ST_IO_WAIT;
  st(1, 0, 100, R, -1);
  st(1, 100, 900, WEFT_ST_SEM_WAIT, 20);
  st(1, 900, 1000, R, -1);
  st(2, 100, 900, R, -1);
  if (py38 >= 0) st(5, 100, 900, IO, -1);
  st(3, 100, 200, IO, -1);
  st(3, 200, 300, R, -1);
  st(3, 300, 900, IO, -1);
  st(4, 100, 700, IO, -1);
  st(4, 700, 820, R, -1);
  st(4, 820, 900, IO, -1);
  return dbb_finish_reopen(&bd, 1000 * MS, 2, "python3 big.py");
}

static void test_ipc_pool(int py38) {
  sqlite3 *d = db_ipc_pool(py38);
  WeftMetrics *m = compute_ok(d);
  const WeftPython *py = m->python;
  ok(py && py->nlibraries == 1 && py->libraries[0].kind == WEFT_PYLIB_CF_PROCESS,
     "ipc pool%s: the library: concurrent.futures.ProcessPoolExecutor, and no other (%zu)", py38 ? " (3.8)" : "",
     py ? py->nlibraries : 0);
  const WeftPyPool *pl = py && py->npools == 1 ? &py->pools[0] : NULL;
  ok(pl && pl->ipc_helper_ns == 800 * MS && pl->ipc_work_ns == 220 * MS && pl->ipc_bytes == 64002000 &&
         pl->ipc_sent_bytes == 64000000 && pl->ipc_messages == 16,
     "ipc pool: 800 ms moving data against 220 ms of work; 64,002,000 bytes (64,000,000 sent) in 16 messages");
  ok(pl && pl->straggler_upid == 3 && pl->straggler_lag_ns == 519 * MS, "ipc pool: worker B lags by 519 ms (%lld)",
     pl ? (long long)(pl->straggler_lag_ns / MS) : -1);
  const WeftFinding *f = m->nfindings ? &m->findings[0] : NULL;
  ok(f && f->kind == WEFT_FIND_IPC && f->cost_ns == 1380 * MS &&
         has(f->title, "moving data to and from the 2 workers of the pool of pid 200 (python3.11) took 800 ms "
                       "against 220 ms of work in them: 64.0 MB in 16 messages (80.0 MB/s), pickled, piped and "
                       "unpickled") &&
         has(f->evidence, "the parent sent 64.0 MB of task arguments, the workers returned 2.00 kB of results") &&
         has(f->evidence, "worker pid 202 finished 519 ms after the others but ran only 20.0 ms more than them: it "
                          "waited for its data") &&
         has(f->evidence, "; 580 ms of the run's serial time (at most one thread running) is this"),
     "ipc pool: finding 1 is moving the data, cost 800 + 580 ms of serial time, the straggler its: %s",
     f ? f->title : "none");
  ok(f && has(f->fix, "ProcessPoolExecutor(initializer=load") && has(f->fix, "executor.map(f, items, chunksize=N)"),
     "ipc pool: the fix in concurrent.futures' words: %s", f ? f->fix : "none");
  const WeftFinding *sf = finding(m, WEFT_FIND_SERIAL, -1);
  ok(!finding(m, WEFT_FIND_IMBALANCE, -1) && sf && sf->cost_ns == 200 * MS && m->nfindings >= 2 &&
         m->findings[1].kind == WEFT_FIND_SERIAL,
     "ipc pool: no imbalance finding; the serial finding keeps 200 ms, after it (%lld)",
     sf ? (long long)(sf->cost_ns / MS) : -1);
  ok(py && !strcmp(py->verdict.reason, "ipc") && !strcmp(py->verdict.choice, "processes") &&
         near(py->verdict.ipc_share, 800.0 / 220) && py->verdict.startup_share < 0 &&
         has(py->verdict.text, "took 800 ms (64.0 MB in 16 messages), 364% of the 220 ms of work they did: as used, "
                               "the processes spend more time receiving and returning data than working"),
     "ipc pool: the verdict rests on moving the data, with its share: %s", py ? py->verdict.text : "none");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* db_ipc_pool without the executor's manager thread: the program's own two
 * multiprocessing.Process children fed through a Queue. The same figures, in
 * their words: child processes, not a pool's workers and its tasks. */
static void test_plain_ipc(int subclass) {
  sqlite3 *d = db_ipc_pool(subclass ? -2 : -1);
  WeftMetrics *m = compute_ok(d);
  const WeftPython *py = m->python;
  ok(py && py->nlibraries == 1 && py->libraries[0].kind == WEFT_PYLIB_MP_PROCESS && py->npools == 1 &&
         py->pools[0].plain,
     "plain ipc%s: multiprocessing.Process children, and no other library (%zu)",
     subclass ? " (a Process subclass's)" : "", py ? py->nlibraries : 0);
  const WeftFinding *f = m->nfindings ? &m->findings[0] : NULL;
  ok(f && f->kind == WEFT_FIND_IPC && f->cost_ns == 1380 * MS &&
         has(f->title, "moving data to and from the 2 child processes of pid 200 (python3.11) took 800 ms against "
                       "220 ms of work in them") &&
         has(f->evidence, "; the parent sent 64.0 MB, the child processes sent back 2.00 kB") &&
         has(f->evidence, "; process pid 202 finished 519 ms after the others") && !has(f->evidence, "task") &&
         !has(f->evidence, "worker") && !has(f->title, "worker"),
     "plain ipc: the finding speaks of child processes, not of workers and tasks: %s / %s", f ? f->title : "none",
     f ? f->evidence : "");
  ok(f && has(f->fix, "Process(target, args)") && !has(f->fix, "Pool") && !has(f->fix, "executor"),
     "plain ipc: the fix in multiprocessing.Process's words: %s", f ? f->fix : "none");
  ok(py && !strcmp(py->verdict.reason, "ipc") &&
         has(py->verdict.text, "Moving the data to and from the 2 child processes of pid 200 (python3.11) took 800 "
                               "ms") &&
         has(py->verdict.text, "Send less: the data as Process(target, args) with fork, shared memory, fewer and "
                               "bigger messages.") &&
         !has(py->verdict.text, "initializer") && !has(py->verdict.text, "worker"),
     "plain ipc: the verdict too: %s", py ? py->verdict.text : "none");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* db_ipc_pool's children named by the program itself ("srv (child)": prctl after os.fork), with
 * the parent's QueueFeederThread: no multiprocessing.Process children for a name in parentheses. */
static void test_own_names(void) {
  sqlite3 *d = db_ipc_pool(-3);
  WeftMetrics *m = compute_ok(d);
  const WeftPython *py = m->python;
  bool mp = false;
  for (size_t i = 0; py && i < py->nlibraries; i++) mp |= py->libraries[i].kind == WEFT_PYLIB_MP_PROCESS;
  ok(py && !mp && py->npools == 1 && !py->pools[0].plain,
     "own names: \"srv (child)\" is not the hook's name of a multiprocessing child (%zu libraries)",
     py ? py->nlibraries : 0);
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* A lock the workers take turns on. pid 600 (upid 1) starts three workers
 * (fork) and waits for them 100..900 (semaphore 10); they share its lock 20
 * (made by the parent: a multiprocessing lock), whose waits are in work()
 * at app.py:10:
 *   A (upid 3) runs 100..300, waits for lock 20 300..500, runs 500..600:
 *     95% of its 300 ms of running reached at 585;
 *   B (upid 4) runs 100..150, waits for it 150..400 (its longest wait),
 *     runs 400..600: 95% of 250 reached at 587.5;
 *   C (upid 5) runs 100..900: at 860, 275 ms after A.
 * pool: the workers are a multiprocessing.Pool's (ForkPoolWorker-N, a Pool
 * task's frames under pool.py's worker()), else the program's own
 * multiprocessing.Process children (ForkProcess-N): not a pool's workers.
 * Either way the lock (450 ms of waits, B's the longest) explains the
 * straggler, and the verdict is the lock's. */
static void test_shared_lock(int pool) {
  dbb_dir_next(&dir, &bd);
  dbb_process(&bd, 1, 600, 0, 1000 * MS, "python3 app.py", PY);
  for (int u = 3; u <= 5; u++) {
    dbb_process(&bd, u, 600 + u - 1, 100 * MS, (u == 5 ? 900 : 600) * MS, "python3 app.py", PY);
    dbb_process_parent(&bd, u, 1);
    char name[32];
    snprintf(name, sizeof name, pool ? "ForkPoolWorker-%d" : "ForkProcess-%d", u - 2);
    dbb_thread(&bd, u, u, 600 + u - 1, name, -1, 100 * MS, (u == 5 ? 900 : 600) * MS);
  }
  dbb_thread(&bd, 1, 1, 600, "python3.11", -1, 0, 1000 * MS);
  dbb_frame(&bd, 1, -1, -1, 0, "work", "/home/u/app.py", 10);
  dbb_frame(&bd, 2, -2, -1, 0, pool ? "worker" : "BaseProcess._bootstrap",
            pool ? "/usr/lib/python3.11/multiprocessing/pool.py" : "/usr/lib/python3.11/multiprocessing/process.py",
            125);
  dbb_stack(&bd, 1, 1, 2);
  dbb_object(&bd, 10, 1, WEFT_KIND_SEM, 0x7f0000001000, NULL, -1, -1, 1);
  dbb_object(&bd, 20, 1, WEFT_KIND_SEM, 0x7f0000003000, NULL, -1, 1, 5);
  const int R = WEFT_ST_RUNNING, W = WEFT_ST_SEM_WAIT;
  st(1, 0, 100, R, -1);
  st(1, 100, 900, W, 10);
  st(1, 900, 1000, R, -1);
  st(3, 100, 300, R, -1);
  dbb_state(&bd, 3, 300 * MS, 500 * MS, W, 20, 1);
  st(3, 500, 600, R, -1);
  st(4, 100, 150, R, -1);
  dbb_state(&bd, 4, 150 * MS, 400 * MS, W, 20, 1);
  st(4, 400, 600, R, -1);
  st(5, 100, 900, R, -1);
  sqlite3 *d = dbb_finish_reopen(&bd, 1000 * MS, 2, "python3 app.py");
  WeftMetrics *m = compute_ok(d);
  const WeftPython *py = m->python;
  const char *what = pool ? "Pool tasks' lock" : "Process children's lock";
  const WeftPyPool *pl = py && py->npools == 1 ? &py->pools[0] : NULL;
  ok(pl && pl->plain == !pool &&
         !strcmp(pl->label, pool ? "pool of pid 600 (python3.11)" : "child processes of pid 600 (python3.11)"),
     "%s: the workers are %s: %s", what, pool ? "a pool's" : "the program's child processes", pl ? pl->label : "none");
  const WeftFinding *f = finding(m, WEFT_FIND_IMBALANCE, -1), *lk = finding(m, WEFT_FIND_CONTENTION, 20);
  ok(lk && f && has(f->title, "finished 275 ms after the others") && has(f->title, "they took turns on ") &&
         !has(f->title, "tasks were longer") && has(f->title, pool ? "worker 3 (" : "process 3 (") &&
         (pool || (!has(f->title, "pool") && !has(f->evidence, "pool") && !has(f->evidence, "workers"))),
     "%s: the straggler finished last for the lock: %s | %s", what, f ? f->title : "none", f ? f->evidence : "");
  ok(py && py->verdict.reason && !strcmp(py->verdict.reason, "shared_lock") &&
         has(py->verdict.text, "3 processes") == 0 && has(py->verdict.text, "2 processes took turns on") &&
         has(py->verdict.text, "one at a time"),
     "%s: the verdict is the lock's: %s", what, py && py->verdict.text ? py->verdict.text : "none");
  weft_metrics_free(m);
  sqlite3_close(d);
}

int main(void) {
  dbb_dir_init(&dir, "test-python");
  test_fork_pool(0);
  test_fork_pool(1);
  test_two_pools();
  test_gil();
  test_io_threads();
  test_pipeline();
  test_ipc_pool(0);
  test_ipc_pool(1);
  test_plain_ipc(0);
  test_plain_ipc(1);
  test_own_names();
  test_shared_lock(0);
  test_shared_lock(1);
  dbb_dir_remove(&dir);
  printf("1..%d\n", ntest);
  return nfail ? 1 : 0;
}
