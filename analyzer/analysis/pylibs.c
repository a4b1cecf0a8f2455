/* pylibs.c - which parallel library a Python program uses, and each fix
 * phrased in it (see python.h, WeftPyLibrary, and docs/python.md).
 * SPDX-License-Identifier: MIT
 *
 * The one place that tells threading, multiprocessing (Pool, ThreadPool,
 * Process), concurrent.futures (Thread/ProcessPoolExecutor), joblib (and its
 * backend) and Dask (and its scheduler) apart, from what a recording holds:
 * the names of threads and processes (weft's Python hook gives them:
 * "ThreadPoolExecutor-0_1 (_worker)", "ForkPoolWorker-2", "LokyProcess-1",
 * "Dask-Default-Threads-..."), the command lines of processes (loky's
 * workers) and the files of Python frames (a module the program imported,
 * such as dask/ or joblib/: frames show imports, not which scheduler runs,
 * so the variant comes from the threads and processes). The findings and
 * the verdict phrase their fixes through py_fix_*().
 */
#include "analysis-private.h"

#include <ctype.h>
#include <glib.h>
#include <string.h>

#include "python.h"

/* What the threads and processes of the CPython processes show. */
typedef struct {
  bool tpe;          /* concurrent.futures.ThreadPoolExecutor's workers */
  bool ppe;          /* ProcessPoolExecutor's manager thread (not loky's) */
  bool pool_helper;  /* multiprocessing.Pool's (or ThreadPool's) _handle_workers */
  bool pool_thread;  /* ThreadPool's worker threads */
  bool pool_proc;    /* Pool's worker processes: ForkPoolWorker-N ... */
  bool loky;         /* joblib's loky workers */
  bool mp_proc;      /* multiprocessing.Process children: ForkProcess-N, SpawnProcess-N ... */
  bool dask_dist;    /* distributed's threads */
  bool plain_thread; /* a thread none of the above explains */
  bool workers;      /* some pool has worker processes */
  bool joblib_frames, dask_frames, dist_frames;
  size_t mpi_ranks; /* CPython processes that are MPI ranks */
} Signals;

static bool has_prefix(const char *s, const char *p) { return strstr(s, p) == s; }
static bool ends_with(const char *s, const char *t) {
  size_t n = strlen(s), k = strlen(t);
  return n >= k && !strcmp(s + n - k, t);
}

/* Whether thread name n says it runs fn: CPython 3.10 and later name a thread "Thread-N (fn)",
 * weft's hook "NAME (fn)" or, for a method, "NAME (Class.fn)" (a Pool's threads on 3.8 and 3.9:
 * "Thread-1 (Pool._handle_workers)"). */
bool py_thread_runs(const char *n, const char *fn) {
  const char *p = n ? strrchr(n, '(') : NULL, *e = p ? strchr(p, ')') : NULL;
  if (!e) return false;
  size_t k = strlen(fn), len = (size_t)(e - p - 1);
  return len >= k && !strncmp(e - k, fn, k) && (len == k || e[-1 - (ptrdiff_t)k] == '.');
}

/* An executor's manager thread: concurrent.futures' _ExecutorManagerThread (3.9 and later) or
 * its function _queue_management_worker (3.8), or loky's (joblib), which the hook names
 * "ExecutorManagerThread (_ExecutorManagerThread.run)". */
static bool manager_thread(const char *n) {
  return strstr(n, "_ExecutorManagerThread") || py_thread_runs(n, "_queue_management_worker");
}

/* Of them, a ProcessPoolExecutor's: loky's is joblib's. */
static bool ppe_manager(const char *n) { return manager_thread(n) && !has_prefix(n, "ExecutorManagerThread"); }

/* A multiprocessing.Pool's thread that starts its workers (_handle_workers), or an executor's
 * manager: a pool's parent has one. */
bool py_pool_manager_thread(const char *n) { return n && (py_thread_runs(n, "_handle_workers") || manager_thread(n)); }

/* A thread of a pool's parent that moves its data: a Pool's task and result handlers, a Queue's
 * feeder, an executor's manager. */
bool py_ipc_thread(const char *n) {
  return n && (py_thread_runs(n, "_handle_tasks") || py_thread_runs(n, "_handle_results") ||
               strstr(n, "QueueFeederThread") || manager_thread(n));
}

/* One thread's name (its process's CPython main thread: the process's name). */
bool py_machinery_thread(const char *n) {
  return n && (py_pool_manager_thread(n) || py_ipc_thread(n) || py_thread_runs(n, "monitor_parent") ||
               py_thread_runs(n, "_do_shutdown") || has_prefix(n, "asyncio_") || has_prefix(n, "IO loop") ||
               has_prefix(n, "Profile") || has_prefix(n, "Nanny") || has_prefix(n, "Dask ") ||
               has_prefix(n, "AsyncProcess "));
}

/* A process's name as the hook gives a multiprocessing child that runs the program's code:
 * "CLASS-N (QUALNAME)", one word before the number and none but the function's in the parentheses. */
static bool hook_process_name(const char *n) {
  const char *sp = strchr(n, ' '), *dash = sp ? sp : n;
  while (dash > n && isdigit((unsigned char)dash[-1])) dash--;
  if (!sp || dash == sp || dash == n || dash[-1] != '-' || sp[1] != '(' || !ends_with(n, ")")) return false;
  return !strchr(sp + 2, ' ') && !strchr(sp + 2, '(') && strchr(sp + 2, ')') == n + strlen(n) - 1 && sp[2] != ')';
}

static void thread_signals(Signals *g, const WeftThreadMetrics *t) {
  const char *n = t->name ? t->name : "";
  if (t->is_main) {
    g->pool_proc |=
        has_prefix(n, "ForkPoolWorker-") || has_prefix(n, "SpawnPoolWorker-") || has_prefix(n, "ForkServerPoolWorker-");
    g->loky |= has_prefix(n, "LokyProcess-");
    /* (multiprocessing.Process under the default context is "Process-N", a context's "ForkProcess-N";
     * the hook adds the program's own function a child runs, or its class's run: "Worker-1
     * (Worker.run)", never to a pool's worker) */
    g->mp_proc |= has_prefix(n, "ForkProcess-") || has_prefix(n, "SpawnProcess-") ||
                  has_prefix(n, "ForkServerProcess-") || (has_prefix(n, "Process-") && isdigit((unsigned char)n[8])) ||
                  hook_process_name(n);
    return;
  }
  bool tpe = has_prefix(n, "ThreadPoolExecutor-"), dist = has_prefix(n, "Dask-");
  bool helper = py_machinery_thread(n);
  g->tpe |= tpe;
  g->dask_dist |= dist;
  g->ppe |= ppe_manager(n);
  g->pool_helper |= py_thread_runs(n, "_handle_workers");
  g->pool_thread |= ends_with(n, " (worker)");
  /* (without the hook a thread has the process's OS name, "python3.11": a thread all the same) */
  g->plain_thread |= !tpe && !dist && !helper && !ends_with(n, " (worker)") && !ends_with(n, " (_worker)");
}

static void frame_signals(WeftSql *sql, Signals *g) {
  sqlite3_stmt *q =
      weft_sql_prepare(sql, "SELECT EXISTS (SELECT 1 FROM frame WHERE ip < 0 AND file LIKE '%/joblib/%'), "
                            "EXISTS (SELECT 1 FROM frame WHERE ip < 0 AND file LIKE '%/dask/%'), "
                            "EXISTS (SELECT 1 FROM frame WHERE ip < 0 AND file LIKE "
                            "'%/distributed/client.py')");
  if (q && weft_sql_step(sql, q)) {
    g->joblib_frames = sqlite3_column_int(q, 0) != 0;
    g->dask_frames = sqlite3_column_int(q, 1) != 0;
    g->dist_frames = sqlite3_column_int(q, 2) != 0;
  }
  sqlite3_finalize(q);
}

static void add_lib(GArray *v, WeftPython *py, WeftPyLibKind kind, const char *name, const char *variant,
                    const char *evidence) {
  WeftPyLibrary l = {kind, python_strf(py, "%s", name), python_strf(py, "%s", variant),
                     python_strf(py, "%s", evidence)};
  g_array_append_val(v, l);
}

bool python_libraries(WeftSql *sql, const WeftMetrics *m, WeftPython *py) {
  Signals g = {0};
  for (size_t i = 0; i < m->nthreads; i++)
    if (weft_python_process(py, m->threads[i].upid) && !weft_mpi_library_thread(m, m->threads[i].utid))
      thread_signals(&g, &m->threads[i]);
  for (size_t i = 0; m->mpi && i < m->mpi->nranks; i++) g.mpi_ranks += !!weft_python_process(py, m->mpi->ranks[i].upid);
  for (size_t i = 0; i < m->nprocesses; i++)
    g.loky |= strstr(m->processes[i].cmdline, "loky.backend.popen_loky") != NULL;
  for (size_t k = 0; k < py->npools; k++) g.workers |= py->pools[k].nworkers > 0;
  frame_signals(sql, &g);
  if (sql->failed) return false;
  GArray *v = g_array_new(FALSE, TRUE, sizeof(WeftPyLibrary));
  if (g.mpi_ranks >= 2)
    add_lib(v, py, WEFT_PYLIB_MPI4PY, "mpi4py", "",
            python_strf(py, "%zu CPython processes are MPI ranks", g.mpi_ranks));
  bool procs = g.workers || g.mp_proc || g.pool_proc || g.loky;
  if (g.dask_frames || g.dask_dist) {
    const char *sched = g.dist_frames || g.dask_dist ? "distributed" : procs ? "processes" : "threads";
    add_lib(v, py, WEFT_PYLIB_DASK, "dask", sched,
            g.dask_dist     ? "Python frames in dask/; threads named Dask-*"
            : g.dist_frames ? "Python frames in dask/ and distributed/"
            : procs         ? "Python frames in dask/; worker processes"
                            : "Python frames in dask/; no worker processes");
  }
  if (g.joblib_frames && !g.dask_frames) {
    const char *be = g.loky ? "loky" : g.pool_proc ? "multiprocessing" : g.pool_thread ? "threading" : "";
    add_lib(v, py, WEFT_PYLIB_JOBLIB, "joblib", be,
            g.loky          ? "Python frames in joblib/; loky worker processes"
            : g.pool_proc   ? "Python frames in joblib/; multiprocessing pool workers"
            : g.pool_thread ? "Python frames in joblib/; thread-pool worker threads"
                            : "Python frames in joblib/");
  }
  bool lib = v->len > 0;
  if (g.ppe && !lib)
    add_lib(v, py, WEFT_PYLIB_CF_PROCESS, "concurrent.futures.ProcessPoolExecutor", "",
            "its manager thread (_ExecutorManagerThread)");
  if (g.tpe && !lib)
    add_lib(v, py, WEFT_PYLIB_CF_THREAD, "concurrent.futures.ThreadPoolExecutor", "",
            "threads named ThreadPoolExecutor-*");
  if (g.pool_proc && !lib)
    add_lib(v, py, WEFT_PYLIB_MP_POOL, "multiprocessing.Pool", "", "workers named *PoolWorker-*");
  if (g.pool_helper && g.pool_thread && !g.pool_proc && !lib)
    add_lib(v, py, WEFT_PYLIB_MP_THREADPOOL, "multiprocessing.pool.ThreadPool", "", "worker threads (worker)");
  if (g.mp_proc && !g.ppe && !lib)
    add_lib(v, py, WEFT_PYLIB_MP_PROCESS, "multiprocessing.Process", "", "processes named *Process-*");
  if (g.plain_thread) add_lib(v, py, WEFT_PYLIB_THREADING, "threading", "", "threads of its own");
  py->nlibraries = v->len;
  py->libraries = (WeftPyLibrary *)(void *)g_array_free(v, FALSE);
  return true;
}

/* The library advice is phrased in: the first (dask, joblib, then the
 * executors, multiprocessing, threading), or NULL. */
static const WeftPyLibrary *main_lib(const WeftPython *py) { return py && py->nlibraries ? &py->libraries[0] : NULL; }

static bool variant_is(const WeftPyLibrary *l, const char *v) { return l->variant && !strcmp(l->variant, v); }

const char *py_fix_processes(WeftPython *py) {
  const WeftPyLibrary *l = main_lib(py);
  const char *native = "; or move the hot loop into native code that releases the GIL (NumPy, a C extension, "
                       "Cython with nogil)";
  if (l && l->kind == WEFT_PYLIB_DASK && variant_is(l, "distributed"))
    return python_strf(py,
                       "give the Dask workers processes, not threads: LocalCluster(n_workers=N, "
                       "threads_per_worker=1) or Client(processes=True, threads_per_worker=1)%s",
                       native);
  if (l && l->kind == WEFT_PYLIB_DASK)
    return python_strf(py,
                       "switch Dask to its process scheduler: dask.config.set(scheduler=\"processes\"), or "
                       "compute(..., scheduler=\"processes\") for one call (or a distributed Client)%s",
                       native);
  if (l && l->kind == WEFT_PYLIB_JOBLIB)
    return python_strf(py,
                       "let joblib run the tasks in processes: Parallel(n_jobs=..., backend=\"loky\") (joblib's "
                       "default), or prefer=\"processes\" instead of the threading backend%s",
                       native);
  if (l && l->kind == WEFT_PYLIB_MP_THREADPOOL)
    return python_strf(py,
                       "use multiprocessing.Pool instead of multiprocessing.pool.ThreadPool (the same map/apply "
                       "interface)%s",
                       native);
  if (l && l->kind == WEFT_PYLIB_CF_THREAD)
    return python_strf(py,
                       "use concurrent.futures.ProcessPoolExecutor instead of the ThreadPoolExecutor (the same "
                       "map/submit interface)%s",
                       native);
  return python_strf(py,
                     "use processes instead of threads: concurrent.futures.ProcessPoolExecutor or "
                     "multiprocessing.Pool (the same map/submit interface)%s",
                     native);
}

const char *py_fix_smaller_tasks(WeftPython *py) {
  const WeftPyLibrary *l = main_lib(py);
  const char *first = ", and start the longest tasks first";
  if (l && l->kind == WEFT_PYLIB_JOBLIB)
    return python_strf(py,
                       "the tasks are unequal: stop joblib batching them so idle workers take the rest "
                       "(Parallel(n_jobs=..., batch_size=1), or fewer, smaller tasks per delayed call)%s",
                       first);
  if (l && l->kind == WEFT_PYLIB_DASK)
    return python_strf(py,
                       "the tasks are unequal: split the long ones into more, smaller tasks (for a collection, "
                       "more partitions or chunks: repartition, rechunk), so idle workers take the rest%s",
                       first);
  if (l && l->kind == WEFT_PYLIB_CF_PROCESS)
    return python_strf(py,
                       "the tasks are unequal: hand them out one at a time so idle workers take the rest "
                       "(executor.map(f, items, chunksize=1), or executor.submit per task with as_completed)%s",
                       first);
  if (l && l->kind == WEFT_PYLIB_MP_PROCESS)
    return python_strf(py,
                       "the processes' shares of the work are unequal: split it evenly, or hand it out through a "
                       "multiprocessing.Queue that each process takes its next piece from (or a Pool: "
                       "pool.imap_unordered(f, items, chunksize=1))%s",
                       first);
  return python_strf(py,
                     "the tasks are unequal: hand them out in smaller pieces so idle workers take the rest "
                     "(a smaller chunksize, e.g. pool.map(f, items, chunksize=1), or imap_unordered; "
                     "executor.submit per task)%s",
                     first);
}

const char *py_fix_more_consumers(WeftPython *py, bool cpu_bound) {
  const WeftPyLibrary *l = main_lib(py);
  if (!cpu_bound)
    return python_strf(py, "speed up that thread's work, or run more threads like it on the same "
                           "queue: its waits release the GIL, so they overlap");
  if (l && l->kind == WEFT_PYLIB_DASK) return py_fix_processes(py);
  return python_strf(py, "its work is CPU-bound Python, so more threads like it would wait for the GIL: run several "
                         "of them in processes (a multiprocessing.Pool or ProcessPoolExecutor taking the items, "
                         "with imap or map and a chunksize), or make its work cheaper");
}

const char *py_processes_short(WeftPython *py) {
  const WeftPyLibrary *l = main_lib(py);
  if (l && l->kind == WEFT_PYLIB_DASK && variant_is(l, "distributed"))
    return "LocalCluster(n_workers=N, threads_per_worker=1)";
  if (l && l->kind == WEFT_PYLIB_DASK) return "dask.config.set(scheduler=\"processes\")";
  if (l && l->kind == WEFT_PYLIB_JOBLIB) return "Parallel(n_jobs=..., backend=\"loky\")";
  if (l && l->kind == WEFT_PYLIB_CF_THREAD) return "ProcessPoolExecutor instead of ThreadPoolExecutor";
  if (l && l->kind == WEFT_PYLIB_MP_THREADPOOL) return "multiprocessing.Pool instead of ThreadPool";
  return "concurrent.futures.ProcessPoolExecutor or multiprocessing.Pool";
}

const char *py_tasks_short(WeftPython *py) {
  const WeftPyLibrary *l = main_lib(py);
  if (l && l->kind == WEFT_PYLIB_JOBLIB) return "Parallel(n_jobs=..., batch_size=1)";
  if (l && l->kind == WEFT_PYLIB_DASK) return "more, smaller tasks";
  if (l && l->kind == WEFT_PYLIB_CF_PROCESS) return "executor.map(f, items, chunksize=1)";
  if (l && l->kind == WEFT_PYLIB_MP_PROCESS) return "a Queue each process takes its next piece from, or a Pool";
  return "pool.map(f, items, chunksize=1) or imap_unordered";
}

const char *py_fix_send_less(WeftPython *py) {
  const WeftPyLibrary *l = main_lib(py);
  const char *rest = "put big arrays in shared memory (multiprocessing.shared_memory, numpy.memmap) and send their "
                     "names, and return only what the parent needs";
  if (l && l->kind == WEFT_PYLIB_JOBLIB)
    return python_strf(py,
                       "send less: joblib memory-maps NumPy arrays over max_nbytes (1 MB) for its workers instead of "
                       "pickling them, so pass big data as NumPy arrays (other objects are pickled for every task), "
                       "or joblib.dump it once and load it with mmap_mode=\"r\" in the tasks; return only what the "
                       "parent needs, and give each call more work (Parallel(batch_size=...), fewer, bigger "
                       "delayed calls)");
  if (l && l->kind == WEFT_PYLIB_DASK && variant_is(l, "processes"))
    return python_strf(py,
                       "send less: the process scheduler pickles every task's inputs and outputs between processes; "
                       "use a distributed Client (its workers keep the data: client.scatter the big inputs once), "
                       "or the threaded scheduler when the tasks release the GIL (NumPy, pandas), and make the "
                       "tasks bigger (fewer partitions or chunks)");
  if (l && l->kind == WEFT_PYLIB_DASK)
    return python_strf(py, "send less: client.scatter big inputs once and pass the futures, persist intermediate "
                           "results on the workers, and make the tasks bigger (fewer partitions or chunks)");
  /* a pool: its initializer, fork, bigger tasks */
  const char *init = NULL, *fork = NULL, *tasks = NULL;
  if (l && l->kind == WEFT_PYLIB_CF_PROCESS)
    init = "ProcessPoolExecutor(initializer=load, initargs=(path,)) that loads or maps the data into a global",
    fork = "mp_context=multiprocessing.get_context(\"fork\")", tasks = "executor.map(f, items, chunksize=N)";
  else if (l && l->kind == WEFT_PYLIB_MP_POOL)
    init = "Pool(initializer=load, initargs=(path,)) that loads or maps the data into a global",
    fork = "the fork start method", tasks = "pool.imap(f, items, chunksize=N)";
  if (l && l->kind == WEFT_PYLIB_MP_PROCESS)
    return python_strf(py,
                       "send less: pass big data to Process(target, args) with the fork start method (inherited, "
                       "not copied) instead of through a Queue or Pipe, %s; and send fewer, bigger messages",
                       rest);
  return python_strf(py,
                     "send less: give each worker what it needs once (%s, or globals inherited with %s), %s; and "
                     "make each task carry more work (bigger tasks, %s)",
                     init ? init : "an initializer that loads or maps the data", fork ? fork : "fork", rest,
                     tasks ? tasks : "map or imap with a chunksize");
}

const char *py_send_less_short(WeftPython *py) {
  const WeftPyLibrary *l = main_lib(py);
  if (l && l->kind == WEFT_PYLIB_JOBLIB) return "NumPy arrays (which joblib memory-maps) or joblib.dump/load";
  if (l && l->kind == WEFT_PYLIB_DASK) return "client.scatter once, bigger tasks";
  if (l && l->kind == WEFT_PYLIB_CF_PROCESS) return "an initializer, shared memory, executor.map(..., chunksize=N)";
  if (l && l->kind == WEFT_PYLIB_MP_POOL) return "an initializer, shared memory, pool.imap(..., chunksize=N)";
  if (l && l->kind == WEFT_PYLIB_MP_PROCESS)
    return "the data as Process(target, args) with fork, shared memory, fewer and bigger messages";
  return "an initializer or fork-inherited globals, shared memory, bigger tasks";
}

/* multiprocessing.Process children of the program's own, started too often or too dear: forked ones
 * repeat a setup, spawned ones an interpreter and the main module's imports */
#define PROCESS_FORK_STARTUP_FIX                                                                               \
  "forked processes start at once: the time is the setup each does before its work; do it once in the parent " \
  "before starting them (they inherit it), or start fewer processes and give each more of the work"
#define PROCESS_STARTUP_FIX                                                                                        \
  "start fewer processes and give each more of the work (or one Pool reused for the whole program), use the fork " \
  "start method where the program allows it (multiprocessing.get_context(\"fork\")), and keep the main module "    \
  "light (a spawned process imports it again: heavy imports under if __name__ == \"__main__\":)"

const char *py_fix_startup(WeftPython *py, const char *method) {
  const WeftPyLibrary *l = main_lib(py);
  if (l && l->kind == WEFT_PYLIB_DASK && variant_is(l, "distributed"))
    return python_strf(py, "a distributed LocalCluster starts its worker processes once (each spawned worker imports "
                           "distributed and the main module again): create one cluster and Client for the whole "
                           "program, keep the main module light (heavy imports under if __name__ == \"__main__\":), "
                           "and for a short computation use LocalCluster(processes=False) or Dask's local "
                           "schedulers, which start no process");
  if (l && l->kind == WEFT_PYLIB_DASK && variant_is(l, "processes") && strcmp(method, "fork"))
    return python_strf(py, "Dask's process scheduler starts a pool of spawned workers for every compute() call: start "
                           "them cheaper with dask.config.set({\"multiprocessing.context\": \"forkserver\"}) (or "
                           "\"fork\" where the program allows it), once for all calls with "
                           "dask.config.set(pool=ProcessPoolExecutor(N, mp_context=...)) or a distributed "
                           "LocalCluster, and keep the main module light (a spawned worker imports it again: heavy "
                           "imports under if __name__ == \"__main__\": or inside the functions that need them)");
  if (l && l->kind == WEFT_PYLIB_MP_PROCESS)
    return python_strf(py, "%s", !strcmp(method, "fork") ? PROCESS_FORK_STARTUP_FIX : PROCESS_STARTUP_FIX);
  return python_strf(
      py, "%s",
      !strcmp(method, "loky")
          ? "joblib starts loky workers once and reuses them: give one Parallel(...) call all the tasks (or keep "
            "n_jobs the same across calls so the workers are reused), and import heavy modules inside the "
            "functions the workers run, not at the top of the main module"
      : !strcmp(method, "fork")
          ? "forked workers start at once: the time is the setup each worker does before its first task (an "
            "initializer): do it once in the parent before the pool starts, and the workers inherit it"
          : "start workers less often and make them cheaper: create one pool and reuse it for the whole program, "
            "use the fork start method where the program allows it (multiprocessing.get_context(\"fork\")), and "
            "keep the main module light (a spawned worker imports it again: put heavy imports and setup under "
            "if __name__ == \"__main__\": or inside the functions that need them)");
}

const char *py_startup_what(const char *method, bool plain) {
  if (plain && !strcmp(method, "fork")) return "the setup each does before its target runs";
  return !strcmp(method, "fork")         ? "the setup each does before its first task"
         : !strcmp(method, "forkserver") ? "each forked from one server, then the main module imported again"
                                         : "an interpreter and the main module's imports each";
}

const char *py_startup_short(WeftPython *py, const char *method) {
  const WeftPyLibrary *l = main_lib(py);
  if (l && l->kind == WEFT_PYLIB_DASK && variant_is(l, "distributed"))
    return "one LocalCluster and Client for the whole program, a light main module, or LocalCluster(processes=False) "
           "for a short computation";
  if ((l && l->kind == WEFT_PYLIB_JOBLIB) || !strcmp(method, "loky"))
    return "give one Parallel(...) call all the tasks, or keep n_jobs the same across calls so loky reuses its "
           "workers, and import heavy modules inside the functions the workers run";
  if (l && l->kind == WEFT_PYLIB_DASK && variant_is(l, "processes") && strcmp(method, "fork"))
    return "dask.config.set({\"multiprocessing.context\": \"forkserver\"}), one pool for all compute() calls "
           "(dask.config.set(pool=...)), and a light main module";
  if (l && l->kind == WEFT_PYLIB_MP_PROCESS)
    return !strcmp(method, "fork") ? PROCESS_FORK_STARTUP_FIX : PROCESS_STARTUP_FIX;
  if (!strcmp(method, "fork"))
    return "do the setup each worker repeats once in the parent, before the pool starts: the forked workers "
           "inherit it";
  if (l && l->kind == WEFT_PYLIB_CF_PROCESS)
    return "create one ProcessPoolExecutor and reuse it for the whole program, with "
           "mp_context=multiprocessing.get_context(\"fork\") where the program allows it, and keep the main module "
           "light (heavy imports under if __name__ == \"__main__\":)";
  return "create one pool and reuse it for the whole program, use the fork start method where the program allows it "
         "(multiprocessing.get_context(\"fork\")), and keep the main module light (heavy imports under "
         "if __name__ == \"__main__\":)";
}

const char *py_workers_of(WeftPython *py, const WeftPyPool *pl, bool cap) {
  if (pl->plain && pl->nworkers == 1) return python_strf(py, "%s one %s", cap ? "The" : "the", pl->label);
  if (pl->plain) return python_strf(py, "%s %zu %s", cap ? "The" : "the", pl->nworkers, pl->label);
  if (pl->nworkers == 1) return python_strf(py, "%s one worker of the %s", cap ? "The" : "the", pl->label);
  return python_strf(py, "%s %zu workers of the %s", cap ? "The" : "the", pl->nworkers, pl->label);
}

/* Why a pool ran on one worker depends on the library: Dask's process
 * scheduler batches ready tasks (chunksize, 6 by default), a spawn or
 * forkserver ProcessPoolExecutor starts a worker only for a task that finds
 * none idle (Python 3.9+), a Pool or loky starts all its workers at once. */
const char *py_fix_one_worker(WeftPython *py) {
  const WeftPyLibrary *l = main_lib(py);
  if (l && l->kind == WEFT_PYLIB_DASK)
    return python_strf(py, "Dask's process scheduler hands ready tasks to its workers in batches of chunksize (6 by "
                           "default), so a graph with few tasks goes to one worker: pass chunksize=1 "
                           "(compute(..., scheduler=\"processes\", chunksize=1), or dask.config.set(chunksize=1)), "
                           "or split the work into more tasks than workers x chunksize");
  if (l && l->kind == WEFT_PYLIB_JOBLIB)
    return python_strf(py, "give joblib more workers and more tasks: Parallel(n_jobs=-1) (or n_jobs=N, N > 1), and "
                           "more, smaller delayed calls than workers (batch_size=1 keeps them from going out in one "
                           "batch)");
  if (l && l->kind == WEFT_PYLIB_CF_PROCESS)
    return python_strf(py, "hand the executor several tasks at once: with the spawn or forkserver start method a "
                           "ProcessPoolExecutor starts a worker only when a task finds none idle, so one big task "
                           "(or executor.map with a chunksize that makes one chunk) keeps one worker; submit a task "
                           "per piece of work (executor.submit, or executor.map(f, items, chunksize=1)) and check "
                           "max_workers");
  if (l && l->kind == WEFT_PYLIB_MP_POOL)
    return python_strf(py, "give the pool more processes (Pool(processes=N), os.cpu_count() by default) and the "
                           "work in more tasks than processes (pool.map(f, items, chunksize=1) or imap_unordered)");
  return python_strf(py, "run the work on more worker processes, each with a share of the tasks (more tasks than "
                         "workers, handed out one at a time)");
}

const char *py_one_worker_short(WeftPython *py) {
  const WeftPyLibrary *l = main_lib(py);
  if (l && l->kind == WEFT_PYLIB_DASK) return "compute(..., scheduler=\"processes\", chunksize=1)";
  if (l && l->kind == WEFT_PYLIB_JOBLIB) return "Parallel(n_jobs=-1, batch_size=1) with more delayed calls";
  if (l && l->kind == WEFT_PYLIB_CF_PROCESS) return "a submit per task, or executor.map(f, items, chunksize=1)";
  if (l && l->kind == WEFT_PYLIB_MP_POOL) return "Pool(processes=N) and pool.map(f, items, chunksize=1)";
  return "more worker processes and more tasks than workers";
}
