/* python.h - what a recording says about parallel Python: the GIL, the
 * threads, the process pools, and which technique fits.
 * SPDX-License-Identifier: MIT
 *
 * weft_python_compute() runs inside weft_metrics_compute() (with
 * WEFT_METRICS_FINDINGS) on a WeftMetrics whose processes, threads and
 * parallelism are already computed, and reads thread_state and flow rows of
 * the CPython processes of the range only: a recording without Python costs
 * one pass over its processes. The result hangs off WeftMetrics.python (NULL
 * when no selected process is a CPython) and its findings are merged into
 * WeftMetrics.findings. Definitions: docs/report-json.md ("python"), the
 * guide: docs/python.md. The model is python.c's; weft_python_compute()
 * and the verdicts are findings-python.c's.
 *
 * A CPython process is one whose executable's base name starts with
 * "python" (python3, python3.11, python3.11d, ...) or that waited on the GIL.
 * GIL waits are the thread_state intervals in state gil_wait (the importer
 * recognises the GIL's mutex and condition variables, see import/gil.c).
 *
 * A process pool is a CPython process with two or more CPython worker
 * processes: its children, and the children of a forkserver it started,
 * less multiprocessing's and loky's resource trackers and the forkserver
 * itself; a worker that exec'd (spawn) is its last image. The pool's span
 * runs from its first worker's start to its last worker's end, clipped to
 * the range.
 *
 * Immutable after weft_python_compute(); freed by weft_metrics_free().
 */
#ifndef WEFT_PYTHON_H
#define WEFT_PYTHON_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

typedef struct {
  int64_t utid, upid;
  const char *label;   /* "name [tid]" */
  int64_t lifetime_ns; /* in the range */
  int64_t running_ns;  /* state running */
  int64_t gil_wait_ns; /* state gil_wait */
  int64_t io_ns;       /* io_wait + sleep */
  int64_t gil_held_ns; /* time other threads waited for the GIL while this one held it
                        * (gil_wait intervals whose blocker it is) */
  double gil_share;    /* gil_wait_ns / lifetime_ns */
  double io_share;     /* io_ns / lifetime_ns */
  /* not a main thread, not in a pool's worker: the thread that ended most of
   * its lock, semaphore, condition variable and GIL waits (the waker; for
   * the GIL, the holder), for the bottleneck of a pipeline */
  int64_t top_waker_utid;      /* -1 none */
  int64_t top_waker_ns;        /* the time of those waits */
  int64_t top_lock_waker_utid; /* the same over its lock, semaphore and condition waits only: a
                                * pipeline's stage posts to the next (-1 none) */
  int64_t top_wait_stack;      /* the stack of its lock waits with the most time in all (-1 none) */
} WeftPyThread;                /* every thread of a CPython process alive in the range */

typedef struct {
  int64_t upid, pid;
  const char *label; /* "pid N (python3.11)" */
  size_t nthreads;
  int64_t lifetime_ns;      /* in the range */
  int64_t gil_wait_ns;      /* its threads' time in gil_wait */
  size_t gil_threads;       /* threads that spent >= 10% of their life waiting for the GIL */
  double gil_threads_share; /* their gil_wait / their lifetime (0 when none) */
  int64_t gil_serial_ns;    /* wall time with at least one of its threads waiting for the GIL:
                             * the GIL serialised the threads that wanted to run Python */
  double gil_serial_share;  /* gil_serial_ns / lifetime_ns */
  int64_t gil_handoffs;     /* GIL waits ended by another thread's drop_gil (wake-up flows on the GIL
                             * into the end of a gil_wait, from another thread), ending in the range */
  int64_t top_holder_utid;  /* the thread others waited on most (-1 none) */
  int64_t top_holder_ns;
  size_t io_threads;     /* threads (not the main one) that spent >= 50% of their life in I/O
                          * waits or sleeps and < 10% waiting for the GIL */
  size_t io_overlap_max; /* most of those in I/O at once */
  int64_t io_overlap_ns; /* wall time with two or more of them in I/O at once */
} WeftPyProcess;

typedef struct {
  int64_t upid; /* the worker's (last) image */
  int64_t pid;
  int64_t start_ns, end_ns; /* clipped to the range */
  int64_t useful_ns;        /* WeftProcessMetrics.useful_ns of its images */
  int64_t idle_ns;          /* its threads' waits (waiting for tasks, results, the GIL...) */
  int64_t finish_ns;        /* when it had done 95% of its running time: the end of its last task,
                             * without the interpreter's exit */
  int64_t startup_ns;       /* its start-up: from its start (its fork) to its main thread's first wait
                             * of 1 ms or more other than for the GIL (waiting for a first task), or 0
                             * when it never waited so long */
  int64_t startup_run_ns;   /* of it, the main thread's time in state running (interpreter start, imports) */
  int64_t running_ns;       /* its threads' time in state running in the range */
} WeftPyWorker;

typedef struct {
  int64_t parent_upid;
  const char *label;        /* "pool of pid N"; plain: "child processes of pid N" */
  bool plain;               /* multiprocessing.Process children, no pool library (python_libraries) */
  const char *start_method; /* "fork", "spawn", "forkserver", "loky" (joblib), or "" */
  int64_t start_ns, end_ns;
  size_t nworkers;
  WeftPyWorker *workers;      /* by start_ns */
  WeftPop pop;                /* team: the workers' useful time; T: the pool's span */
  int64_t straggler_upid;     /* the worker that finished last (-1 none) */
  int64_t straggler_lag_ns;   /* its finish minus the median finish of the others */
  double straggler_lag_share; /* lag / (its finish - pool start) */
  int64_t parent_wait_ns;     /* the parent's main thread waiting (any wait) during the span */
  double parent_wait_share;
  int64_t startup_run_ns;  /* the workers' start-up time in state running, summed */
  int64_t startup_ns;      /* the longest start-up of a worker (wall) */
  double startup_share;    /* startup_run_ns / the workers' time in state running */
  int64_t ipc_helper_ns;   /* the parent's threads that move the data (multiprocessing.Pool's
                            * _handle_tasks and _handle_results, concurrent.futures' QueueFeederThread
                            * and _ExecutorManagerThread): their time running, pickling, writing,
                            * reading and unpickling task arguments and results */
  int64_t ipc_lock_ns;     /* waits on the task and result queues' locks (in a multiprocessing
                            * queue's put or get): one process at a time sends or takes */
  int64_t ipc_work_ns;     /* the workers' time in state running */
  double ipc_share;        /* (ipc_helper_ns + ipc_lock_ns) / ipc_work_ns */
  const char *ipc_helpers; /* "QueueFeederThread (Queue._feed) 1.77 s, ..." (NULL: none) */
  int64_t ipc_bytes;       /* what the parent and the workers wrote to pipes (thread.pipe_bytes, whole
                            * threads, not clipped to the range; 0: not recorded, a trace before
                            * version 6 or without WEFT_IO): the task arguments and results moved */
  int64_t ipc_messages;    /* those writes as messages (thread.pipe_messages) */
  int64_t ipc_sent_bytes;  /* of ipc_bytes, the parent's: the task arguments (the rest: results) */
} WeftPyPool;

/* A parallel library the program uses, from the names of its threads and
 * processes (weft's Python hook names them), the command lines of its
 * processes and the files of its Python frames (pylibs.c). */
typedef enum {
  WEFT_PYLIB_DASK = 1,      /* variant: the scheduler, "threads", "processes" or "distributed" */
  WEFT_PYLIB_JOBLIB,        /* variant: the backend, "loky", "multiprocessing" or "threading" ("" unknown) */
  WEFT_PYLIB_CF_PROCESS,    /* concurrent.futures.ProcessPoolExecutor */
  WEFT_PYLIB_CF_THREAD,     /* concurrent.futures.ThreadPoolExecutor */
  WEFT_PYLIB_MP_POOL,       /* multiprocessing.Pool */
  WEFT_PYLIB_MP_THREADPOOL, /* multiprocessing.pool.ThreadPool */
  WEFT_PYLIB_MP_PROCESS,    /* multiprocessing.Process */
  WEFT_PYLIB_THREADING,     /* threading.Thread */
  WEFT_PYLIB_MPI4PY,        /* mpi4py: two or more CPython processes are MPI ranks */
} WeftPyLibKind;

typedef struct {
  WeftPyLibKind kind;
  const char *name;     /* "dask", "joblib", "concurrent.futures.ProcessPoolExecutor", ... */
  const char *variant;  /* see WeftPyLibKind, else "" */
  const char *evidence; /* what showed it, for people */
} WeftPyLibrary;

/* Which technique fits this program (verdict.c): threads, processes or
 * neither, and why, in two or three sentences with the numbers. */
typedef struct {
  const char *choice; /* "threads", "processes", "neither"; NULL: no verdict */
  const char *reason; /* the measurement it rests on: "gil", "io_overlap", "gil_released", "bottleneck",
                       * "straggler", "startup", "ipc", "pool", "serial", "one_thread" */
  const char *text;
  double gil_wait_share;    /* the CPython threads' GIL waits / their thread time */
  double io_share;          /* their io_wait and sleep / their thread time */
  double parallel_share;    /* a process without a pool: wall time with 2+ of its threads on a CPU at once
                             * (so at least one outside the GIL) / the range; -1 not measured */
  int64_t straggler_lag_ns; /* a pool's straggler finding's lag; -1 none */
  double startup_share;     /* the startup finding that decided it: WeftPyPool.startup_share; -1 none */
  double ipc_share;         /* the ipc finding that decided it: WeftPyPool.ipc_share; -1 none */
} WeftPyVerdict;

/* A Dask distributed cluster (dask.c): its workers, each the process that
 * runs tasks on its Dask-Default-Threads executor threads. */
typedef struct {
  int64_t upid, pid, host;
  const char *label;      /* "worker pid N (host beta)" */
  size_t task_threads;    /* its executor threads alive in the range */
  int64_t task_ns;        /* their time running tasks (state running) */
  int64_t gil_wait_ns;    /* their time waiting for the GIL */
  int64_t thread_ns;      /* their lifetime in the range */
  int64_t recv_bytes;     /* TCP bytes it received from the other workers (socket_transfer, WEFT_IO) */
  int64_t recv_transfers; /* in that many receives */
  int64_t transit_ns;     /* sum over them of receive end - send start: data on its way from a peer */
  int64_t sent_bytes;     /* what it sent to the other workers */
} WeftDaskWorker;

typedef struct {
  int64_t scheduler_upid;  /* -1 none recorded */
  bool scheduler_local;    /* it is the process that made a LocalCluster (and started the workers) */
  WeftDaskWorker *workers; /* by upid */
  size_t nworkers;
  WeftPop pop;        /* team: the workers' task time; T: the range */
  int64_t peer_bytes; /* bytes between workers in all */
} WeftDask;

typedef struct WeftPython {
  WeftPyProcess *processes;
  size_t nprocesses; /* CPython processes, by upid */
  WeftPyThread *threads;
  size_t nthreads; /* their threads, by utid */
  WeftPyPool *pools;
  size_t npools; /* by start_ns */
  WeftFinding *findings;
  size_t nfindings; /* also in WeftMetrics.findings */
  int64_t *gil_objects;
  size_t ngil_objects;     /* sync objects waited on in gil_wait, ascending */
  int64_t io_ns, sleep_ns; /* the CPython threads' io_wait and sleep (left out of the
                            * generic io and sleep findings) */
  WeftPyLibrary *libraries;
  size_t nlibraries;     /* by WeftPyLibKind: the first is the one advice is phrased in */
  WeftPyVerdict verdict; /* set by weft_metrics_compute() after the findings */
  WeftDask *dask;        /* a Dask distributed cluster's workers (2 or more), else NULL */
  void *_priv;
} WeftPython;

/* Compute from db for m (see above). min_cost: the findings' threshold
 * (thread-ns), as for the other findings. Returns NULL when no selected
 * process is a CPython, or on failure with a message in err (then *failed
 * is set). */
WeftPython *weft_python_compute(sqlite3 *db, const WeftMetrics *m, int64_t min_cost, int *failed, char *err,
                                size_t errlen);
void weft_python_free(WeftPython *py);

const WeftPyProcess *weft_python_process(const WeftPython *py, int64_t upid);
int weft_python_is_gil_object(const WeftPython *py, int64_t object_id);
/* The pool whose parent or worker upid is (NULL: none). */
const WeftPyPool *weft_python_pool_of(const WeftPython *py, int64_t upid);

#endif /* WEFT_PYTHON_H */
