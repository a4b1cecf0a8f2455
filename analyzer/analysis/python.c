/* python.c - parallel Python: the GIL, threads, process pools (see python.h
 * and docs/report-json.md, "python").
 * SPDX-License-Identifier: MIT
 *
 * The model of the Python analysis: which processes are CPython, their
 * threads' GIL waits and I/O, the pools and the balance of their workers.
 * Its verdicts are findings: findings-python.c, whose weft_python_compute()
 * builds this first. Everything is allocated with GLib and owned by the
 * WeftPython (strings in its PyPriv). Not thread-safe; called from
 * weft_metrics_compute() on its connection, inside its read transaction.
 */
#include "analysis-private.h"

#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "python.h"

#define GIL_THREAD_SHARE 0.10    /* a thread "waits for the GIL" above this share of its life */
#define IO_THREAD_SHARE  0.50    /* an I/O thread: at least this share in io_wait/sleep ... */
#define IO_THREAD_GIL    0.10    /* ... and below this share in gil_wait */
#define FINISH_QUANTILE  0.95    /* a worker's finish: when it had done this share of its running */
#define STARTUP_WAIT     1000000 /* ns: a worker's first wait this long ends its start-up */

typedef struct {
  int64_t s, e;
  int st; /* thread_state.state */
} Iv;

typedef struct {
  GPtrArray *strings; /* every string handed out */
} PyPriv;

typedef struct {
  int64_t upid, first_upid, parent_upid, exec_from;
  char *cmdline;
  int is_last; /* not followed by an exec */
} ProcRow;

typedef struct {
  WeftSql sql;
  const WeftMetrics *m;
  WeftPython *py;
  int64_t a, b;
  GHashTable *proc_idx;    /* upid -> index in py->processes + 1 */
  GArray *rows;            /* ProcRow: every process of the recording */
  GArray *pools;           /* WeftPyPool */
  GHashTable *worker_pool; /* worker upid -> pool index + 1 */
  /* the pass over the CPython threads' rows */
  GHashTable *holder_ns;          /* utid -> int64: others' GIL waits while it held the GIL */
  GHashTable *kinds;              /* object -> kind + 1 */
  GHashTable *gil_objs;           /* objects waited on in gil_wait */
  GArray **gil_spans, **io_spans; /* per process: Span */
  GArray **run_spans;             /* per thread: Iv (running; all states for a pool parent's main thread) */
} PyCtx;

static const char *keep(WeftPython *py, char *s) {
  g_ptr_array_add(((PyPriv *)py->_priv)->strings, s);
  return s;
}

const char *python_strf(WeftPython *py, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  char *s = g_strdup_vprintf(f, ap);
  va_end(ap);
  return keep(py, s);
}

static int is_python_exe(const char *exe) {
  const char *b = exe ? strrchr(exe, '/') : NULL;
  b = b ? b + 1 : exe;
  return b && !strncmp(b, "python", 6);
}

static int is_forkserver_cmd(const char *cmd) { return cmd && strstr(cmd, "forkserver import main"); }

/* multiprocessing's and loky's helpers are not workers: the resource
 * trackers, and the forkserver (not the workers it forks, which have its
 * command line) */
static int is_helper(const char *cmd, const char *parent_cmd) {
  return cmd && (strstr(cmd, "resource_tracker") || strstr(cmd, "semaphore_tracker") ||
                 (is_forkserver_cmd(cmd) && !is_forkserver_cmd(parent_cmd)));
}

static int cmp_span(const void *x, const void *y) {
  const Span *a = x, *b = y;
  return a->s < b->s ? -1 : a->s > b->s;
}

/* Wall time covered by at least k of the spans (sorted in place), and the
 * most covering one instant. */
static int64_t covered(GArray *v, size_t k, size_t *maxdepth) {
  size_t n = v->len;
  if (maxdepth) *maxdepth = 0;
  if (!n) return 0;
  /* a sweep over begin (+1) and end (-1) events */
  int64_t *ev = g_new(int64_t, 2 * n);
  for (size_t i = 0; i < n; i++) {
    Span *s = &g_array_index(v, Span, i);
    ev[2 * i] = s->s * 2 + 1; /* begins after ends at the same instant */
    ev[2 * i + 1] = s->e * 2;
  }
  qsort(ev, 2 * n, sizeof *ev, cmp_i64);
  size_t depth = 0;
  int64_t total = 0, last = 0;
  for (size_t i = 0; i < 2 * n; i++) {
    int64_t t = ev[i] >> 1;
    if (depth >= k) total += t - last;
    last = t;
    if (ev[i] & 1) {
      depth++;
      if (maxdepth && depth > *maxdepth) *maxdepth = depth;
    } else if (depth > 0) {
      depth--;
    }
  }
  g_free(ev);
  return total;
}

static ProcRow *proc_row(GArray *rows, int64_t upid) {
  for (guint i = 0; i < rows->len; i++)
    if (g_array_index(rows, ProcRow, i).upid == upid) return &g_array_index(rows, ProcRow, i);
  return NULL;
}

static int is_helper_row(GArray *rows, ProcRow *r) {
  ProcRow *p = proc_row(rows, r->parent_upid);
  return is_helper(r->cmdline, p ? p->cmdline : NULL);
}

/* the parent of the first image of upid's exec chain, through a forkserver */
static int64_t pool_parent(GArray *rows, int64_t upid) {
  ProcRow *r = proc_row(rows, upid);
  for (int guard = 0; r && r->exec_from > 0 && guard < 64; guard++) r = proc_row(rows, r->exec_from);
  if (!r) return -1;
  ProcRow *p = proc_row(rows, r->parent_upid);
  if (p && is_forkserver_cmd(p->cmdline) && !is_helper_row(rows, r)) return pool_parent(rows, p->upid);
  return r->parent_upid > 0 ? r->parent_upid : -1;
}

bool python_is_io_thread(const WeftMetrics *m, const WeftPyThread *t) {
  const WeftThreadMetrics *tm = weft_metrics_thread(m, t->utid);
  /* a library's own watchers (Dask's profiler, a nanny's queue watch, a pool's
   * handlers) sleep and poll by design: not the program's I/O; asyncio's
   * executor threads run the program's blocking calls (asyncio.to_thread) */
  bool machinery = tm && py_machinery_thread(tm->name) && strncmp(tm->name, "asyncio_", 8) != 0;
  return tm && !tm->is_main && !machinery && !weft_mpi_library_thread(m, tm->utid) && t->io_share >= IO_THREAD_SHARE &&
         t->gil_share < IO_THREAD_GIL;
}

/* py->processes for the CPython processes pyup, and their threads. */
static void python_threads(PyCtx *c, GArray *pyup) {
  const WeftMetrics *m = c->m;
  WeftPython *py = c->py;
  char lab[200];
  py->nprocesses = pyup->len;
  py->processes = g_new0(WeftPyProcess, py->nprocesses);
  for (guint i = 0; i < pyup->len; i++) {
    WeftPyProcess *pp = &py->processes[i];
    const WeftProcessMetrics *p = weft_metrics_process(m, g_array_index(pyup, int64_t, i));
    pp->upid = p->upid;
    pp->pid = p->pid;
    const char *exe = p->exe && *p->exe ? strrchr(p->exe, '/') : NULL;
    pp->label = python_strf(py, "pid %lld (%s)", (long long)p->pid, exe ? exe + 1 : *p->exe ? p->exe : "python");
    pp->lifetime_ns = p->lifetime_ns;
    pp->gil_wait_ns = p->state_ns[WEFT_ST_GIL_WAIT];
    pp->top_holder_utid = -1;
    g_hash_table_insert(c->proc_idx, &pp->upid, GSIZE_TO_POINTER(i + 1));
  }
  GArray *thr = g_array_new(FALSE, TRUE, sizeof(WeftPyThread));
  for (size_t i = 0; i < m->nthreads; i++) {
    const WeftThreadMetrics *t = &m->threads[i];
    gpointer v = g_hash_table_lookup(c->proc_idx, &t->upid);
    if (!v) continue;
    WeftPyProcess *pp = &py->processes[GPOINTER_TO_SIZE(v) - 1];
    WeftPyThread pt = {.utid = t->utid,
                       .upid = t->upid,
                       .lifetime_ns = t->lifetime_ns,
                       .running_ns = t->state_ns[WEFT_ST_RUNNING],
                       .gil_wait_ns = t->state_ns[WEFT_ST_GIL_WAIT],
                       .io_ns = t->state_ns[WEFT_ST_IO_WAIT] + t->state_ns[WEFT_ST_SLEEP],
                       .top_waker_utid = -1,
                       .top_lock_waker_utid = -1,
                       .top_wait_stack = -1};
    pt.label = keep(py, g_strdup(weft_metrics_thread_label(m, t->utid, lab, sizeof lab)));
    pt.gil_share = t->lifetime_ns > 0 ? (double)pt.gil_wait_ns / (double)t->lifetime_ns : 0;
    pt.io_share = t->lifetime_ns > 0 ? (double)pt.io_ns / (double)t->lifetime_ns : 0;
    py->io_ns += t->state_ns[WEFT_ST_IO_WAIT];
    py->sleep_ns += t->state_ns[WEFT_ST_SLEEP];
    pp->nthreads++;
    g_array_append_val(thr, pt);
  }
  py->nthreads = thr->len;
  py->threads = (WeftPyThread *)(void *)g_array_free(thr, FALSE);
}

/* c->rows: the process table (exec chains, helpers). */
static void read_processes(PyCtx *c) {
  c->rows = g_array_new(FALSE, TRUE, sizeof(ProcRow));
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT upid, exec_from_upid, parent_upid, cmdline, end_how "
                                              "FROM process");
  while (q && sqlite3_step(q) == SQLITE_ROW) {
    ProcRow r = {.upid = sqlite3_column_int64(q, 0),
                 .exec_from = sqlite3_column_int64(q, 1),
                 .parent_upid = sqlite3_column_int64(q, 2),
                 .cmdline = g_strdup((const char *)sqlite3_column_text(q, 3))};
    const char *how = (const char *)sqlite3_column_text(q, 4);
    r.is_last = !how || strcmp(how, "exec") != 0;
    g_array_append_val(c->rows, r);
  }
  sqlite3_finalize(q);
}

/* Worker r of the pool of parent: its images, span and times; *method its
 * pool's start method. */
static WeftPyWorker pool_worker(PyCtx *c, ProcRow *r, int64_t parent, const char **method) {
  const WeftMetrics *m = c->m;
  GArray *rows = c->rows;
  const WeftProcessMetrics *wp = weft_metrics_process(m, r->upid);
  WeftPyWorker w = {.upid = r->upid,
                    .pid = wp->pid,
                    .start_ns = max64(wp->start_ns, c->a),
                    .end_ns = min64(wp->end_ns, c->b),
                    .useful_ns = wp->useful_ns,
                    .idle_ns = wp->wait_ns};
  /* the images before its exec (a fork that exec'd: spawn, loky) */
  for (ProcRow *e = r; e && e->exec_from > 0;) {
    e = proc_row(rows, e->exec_from);
    const WeftProcessMetrics *ep = e ? weft_metrics_process(m, e->upid) : NULL;
    if (ep) {
      w.useful_ns += ep->useful_ns;
      w.idle_ns += ep->wait_ns;
      w.start_ns = min64(w.start_ns, max64(ep->start_ns, c->a));
    }
  }
  const char *cmd = r->cmdline ? r->cmdline : "";
  ProcRow *first = r;
  for (int guard = 0; first && first->exec_from > 0 && guard < 64; guard++) first = proc_row(rows, first->exec_from);
  ProcRow *dad = first ? proc_row(rows, first->parent_upid) : NULL;
  *method = strstr(cmd, "loky")          ? "loky"
            : strstr(cmd, "spawn_main")  ? "spawn"
            : dad && dad->upid != parent ? "forkserver"
            : r->exec_from <= 0          ? "fork"
                                         : "";
  return w;
}

/* Is worker r, the only CPython child of parent, a pool's? Its name
 * (ForkPoolWorker-N, LokyProcess-N: the hook names a process by its main
 * thread) or its command line (loky) say so, or the parent's pool
 * machinery: concurrent.futures' or loky's executor manager thread,
 * multiprocessing.Pool's _handle_workers. (A lone multiprocessing.Process
 * is not a pool.) */
static bool lone_pool_worker(PyCtx *c, ProcRow *r, int64_t parent) {
  const WeftMetrics *m = c->m;
  const WeftThreadMetrics *wt = weft_metrics_thread(m, main_utid(m, r->upid));
  const char *wn = wt && wt->name ? wt->name : "";
  if (strstr(wn, "PoolWorker-") || !strncmp(wn, "LokyProcess-", 12) || (r->cmdline && strstr(r->cmdline, "loky")))
    return true;
  for (size_t i = 0; i < c->py->nthreads; i++) {
    if (c->py->threads[i].upid != parent) continue;
    const WeftThreadMetrics *t = weft_metrics_thread(m, c->py->threads[i].utid);
    const char *n = t && t->name ? t->name : "";
    if (py_pool_manager_thread(n)) return true;
  }
  return false;
}

/* c->pools: the CPython processes with two or more CPython workers, or one
 * that a pool started (lone_pool_worker). */
static void find_pools(PyCtx *c) {
  WeftPython *py = c->py;
  c->pools = g_array_new(FALSE, TRUE, sizeof(WeftPyPool));
  c->worker_pool = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (size_t pi = 0; pi < py->nprocesses && !c->sql.failed; pi++) {
    int64_t parent = py->processes[pi].upid;
    GArray *ws = g_array_new(FALSE, TRUE, sizeof(WeftPyWorker));
    const char *method = "";
    ProcRow *one = NULL;
    for (size_t k = 0; k < py->nprocesses; k++) {
      ProcRow *r = proc_row(c->rows, py->processes[k].upid);
      if (!r || !r->is_last || is_helper_row(c->rows, r) || pool_parent(c->rows, r->upid) != parent) continue;
      WeftPyWorker w = pool_worker(c, r, parent, &method);
      g_array_append_val(ws, w);
      one = r;
    }
    if (ws->len < 2 && !(ws->len == 1 && lone_pool_worker(c, one, parent))) {
      g_array_free(ws, TRUE);
      continue;
    }
    WeftPyPool pl = {.parent_upid = parent,
                     .start_method = method,
                     .start_ns = INT64_MAX,
                     .end_ns = INT64_MIN,
                     .straggler_upid = -1};
    pl.label = python_strf(py, "pool of %s", py->processes[pi].label);
    pl.nworkers = ws->len;
    pl.workers = (WeftPyWorker *)(void *)g_array_free(ws, FALSE);
    for (size_t k = 0; k < pl.nworkers; k++) {
      pl.start_ns = min64(pl.start_ns, pl.workers[k].start_ns);
      pl.end_ns = max64(pl.end_ns, pl.workers[k].end_ns);
    }
    g_array_append_val(c->pools, pl);
    for (size_t k = 0; k < pl.nworkers; k++) {
      int64_t *key = g_new(int64_t, 1);
      *key = pl.workers[k].upid;
      keep(py, (char *)key);
      g_hash_table_insert(c->worker_pool, key, GSIZE_TO_POINTER(c->pools->len));
    }
  }
}

static void add_ns(GHashTable *h, int64_t key, int64_t ns) {
  int64_t *v = g_hash_table_lookup(h, &key);
  if (!v) {
    int64_t *k = g_new(int64_t, 1);
    *k = key;
    v = g_new0(int64_t, 1);
    g_hash_table_insert(h, k, v);
  }
  *v += ns;
}

/* One gil_wait row of thread t (of process pp, index pidx), [s, e) in the
 * range: the process's GIL spans, the holder's time, the GIL's objects and
 * hand-offs. */
static void gil_row(PyCtx *c, sqlite3_stmt *q, sqlite3_stmt *kq, const WeftPyThread *t, WeftPyProcess *pp, size_t pidx,
                    Span sp) {
  if (!c->gil_spans[pidx]) c->gil_spans[pidx] = g_array_new(FALSE, FALSE, sizeof(Span));
  g_array_append_val(c->gil_spans[pidx], sp);
  if (sqlite3_column_type(q, 3) != SQLITE_NULL) add_ns(c->holder_ns, sqlite3_column_int64(q, 3), sp.e - sp.s);
  /* a hand-off: a wait on the GIL's condvar ended by another thread's drop */
  int64_t obj = sqlite3_column_int64(q, 5), waker = sqlite3_column_int64(q, 4);
  if (obj > 0 && !g_hash_table_contains(c->gil_objs, &obj)) {
    int64_t *k = g_new(int64_t, 1);
    *k = obj;
    g_hash_table_add(c->gil_objs, k);
  }
  int64_t end = sqlite3_column_int64(q, 0) + sqlite3_column_int64(q, 1);
  if (sqlite3_column_type(q, 4) != SQLITE_NULL && waker != t->utid && end > c->a && end <= c->b) {
    gpointer kv = g_hash_table_lookup(c->kinds, &obj);
    if (!kv) {
      sqlite3_bind_int64(kq, 1, obj);
      int kind = sqlite3_step(kq) == SQLITE_ROW ? sqlite3_column_int(kq, 0) : 0;
      sqlite3_reset(kq);
      int64_t *k = g_new(int64_t, 1);
      *k = obj;
      kv = GINT_TO_POINTER(kind + 1);
      g_hash_table_insert(c->kinds, k, kv);
    }
    if (GPOINTER_TO_INT(kv) - 1 == WEFT_KIND_COND) pp->gil_handoffs++;
  }
}

/* The key of h (utid -> int64 ns) with the most ns, the lowest on ties. */
static void top_of(GHashTable *h, int64_t *utid, int64_t *ns) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, h);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (*(int64_t *)v > *ns || (*(int64_t *)v == *ns && *(int64_t *)k < *utid)) {
      *ns = *(int64_t *)v;
      *utid = *(int64_t *)k;
    }
}

/* The rows of CPython thread i in the range, when it waited for the GIL,
 * is an I/O thread, a pool worker's or a pool parent's main thread. */
static void scan_thread(PyCtx *c, sqlite3_stmt *q, sqlite3_stmt *kq, size_t i) {
  WeftPython *py = c->py;
  WeftPyThread *t = &py->threads[i];
  size_t pidx = GPOINTER_TO_SIZE(g_hash_table_lookup(c->proc_idx, &t->upid)) - 1;
  WeftPyProcess *pp = &py->processes[pidx];
  const WeftThreadMetrics *tm = weft_metrics_thread(c->m, t->utid);
  int io_thread = python_is_io_thread(c->m, t);
  if (io_thread) pp->io_threads++;
  if (t->gil_share >= GIL_THREAD_SHARE) pp->gil_threads++;
  int want_run = g_hash_table_contains(c->worker_pool, &t->upid);
  int want_all = want_run && tm && tm->is_main; /* a worker's main thread: its start-up ends at a wait */
  for (guint k = 0; k < c->pools->len; k++)     /* the main thread of a pool's parent: its waits */
    if (g_array_index(c->pools, WeftPyPool, k).parent_upid == t->upid && tm && tm->is_main) want_all = 1;
  /* a thread of a process that is not a pool's worker: who ended its waits */
  int want_wake = tm && !tm->is_main && !want_run;
  if (!t->gil_wait_ns && !io_thread && !want_run && !want_all && !want_wake) return;
  GHashTable *wakers = want_wake ? g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free) : NULL;
  GHashTable *lock_wakers = want_wake ? g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free) : NULL;
  GHashTable *by_stack = want_wake ? g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free) : NULL;
  if (want_run || want_all) c->run_spans[i] = g_array_new(FALSE, FALSE, sizeof(Iv));
  sqlite3_bind_int64(q, 1, t->utid);
  sqlite3_bind_int64(q, 2, c->a);
  sqlite3_bind_int64(q, 3, c->b);
  while (weft_sql_step(&c->sql, q)) {
    int64_t s = sqlite3_column_int64(q, 0), e = s + sqlite3_column_int64(q, 1);
    int st = sqlite3_column_int(q, 2);
    s = max64(s, c->a);
    e = min64(e, c->b);
    if (e <= s) continue;
    Span sp = {s, e};
    if (st == WEFT_ST_GIL_WAIT) gil_row(c, q, kq, t, pp, pidx, sp);
    if (io_thread && (st == WEFT_ST_IO_WAIT || st == WEFT_ST_SLEEP)) {
      if (!c->io_spans[pidx]) c->io_spans[pidx] = g_array_new(FALSE, FALSE, sizeof(Span));
      g_array_append_val(c->io_spans[pidx], sp);
    }
    if (c->run_spans[i] && (st == WEFT_ST_RUNNING || want_all)) {
      Iv iv = {s, e, st};
      g_array_append_val(c->run_spans[i], iv);
    }
    int lockish = st == WEFT_ST_LOCK_WAIT || st == WEFT_ST_COND_WAIT || st == WEFT_ST_SEM_WAIT;
    int col = st == WEFT_ST_GIL_WAIT ? 3 : 4; /* the GIL's holder; else the waker */
    if (wakers && (lockish || st == WEFT_ST_GIL_WAIT) && sqlite3_column_type(q, col) != SQLITE_NULL &&
        sqlite3_column_int64(q, col) != t->utid) {
      add_ns(wakers, sqlite3_column_int64(q, col), e - s);
      if (lockish) add_ns(lock_wakers, sqlite3_column_int64(q, col), e - s);
      if (lockish && sqlite3_column_type(q, 6) != SQLITE_NULL) add_ns(by_stack, sqlite3_column_int64(q, 6), e - s);
    }
  }
  sqlite3_reset(q);
  if (!wakers) return;
  int64_t lock_ns = 0;
  top_of(wakers, &t->top_waker_utid, &t->top_waker_ns);
  top_of(lock_wakers, &t->top_lock_waker_utid, &lock_ns);
  int64_t stack_ns = 0; /* where it waited longest in all (one long wait at the end is no pattern) */
  top_of(by_stack, &t->top_wait_stack, &stack_ns);
  g_hash_table_destroy(by_stack);
  g_hash_table_destroy(wakers);
  g_hash_table_destroy(lock_wakers);
}

/* One pass over the rows of the CPython threads. */
static void scan_threads(PyCtx *c) {
  WeftPython *py = c->py;
  c->holder_ns = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  c->kinds = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  c->gil_objs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  c->gil_spans = g_new0(GArray *, py->nprocesses);
  c->io_spans = g_new0(GArray *, py->nprocesses);
  c->run_spans = g_new0(GArray *, py->nthreads);
  sqlite3_stmt *q =
      weft_sql_prepare(&c->sql, "SELECT start_ns, dur_ns, state, blocker_utid, waker_utid, object_id, stack_id "
                                "FROM thread_state WHERE utid = ?1 AND start_ns < ?3 "
                                "AND start_ns + dur_ns > ?2 ORDER BY start_ns");
  sqlite3_stmt *kq = weft_sql_prepare(&c->sql, "SELECT kind FROM sync_object WHERE object_id = ?1");
  for (size_t i = 0; i < py->nthreads && q && kq && !c->sql.failed; i++) scan_thread(c, q, kq, i);
  sqlite3_finalize(q);
  sqlite3_finalize(kq);
}

/* Each process's GIL serialisation, top holder and I/O overlap. */
static void gil_and_io(PyCtx *c) {
  WeftPython *py = c->py;
  for (size_t pi = 0; pi < py->nprocesses; pi++) {
    WeftPyProcess *pp = &py->processes[pi];
    if (c->gil_spans[pi]) {
      g_array_sort(c->gil_spans[pi], cmp_span);
      pp->gil_serial_ns = covered(c->gil_spans[pi], 1, NULL);
    }
    pp->gil_serial_share = pp->lifetime_ns > 0 ? (double)pp->gil_serial_ns / (double)pp->lifetime_ns : 0;
    if (c->io_spans[pi]) pp->io_overlap_ns = covered(c->io_spans[pi], 2, &pp->io_overlap_max);
    int64_t waited = 0, tw = 0;
    for (size_t i = 0; i < py->nthreads; i++) {
      WeftPyThread *t = &py->threads[i];
      if (t->upid != pp->upid) continue;
      int64_t *v = g_hash_table_lookup(c->holder_ns, &t->utid);
      t->gil_held_ns = v ? *v : 0;
      if (t->gil_held_ns > pp->top_holder_ns) {
        pp->top_holder_ns = t->gil_held_ns;
        pp->top_holder_utid = t->utid;
      }
      if (t->gil_share >= GIL_THREAD_SHARE) {
        waited += t->gil_wait_ns;
        tw += t->lifetime_ns;
      }
    }
    pp->gil_threads_share = tw > 0 ? (double)waited / (double)tw : 0;
  }
}

/* When worker wk had done FINISH_QUANTILE of its running time. */
static void worker_finish(PyCtx *c, WeftPyWorker *wk) {
  WeftPython *py = c->py;
  /* the running spans of its threads, in time order */
  GArray *all = g_array_new(FALSE, FALSE, sizeof(Span));
  int64_t total = 0;
  for (size_t i = 0; i < py->nthreads; i++)
    if (py->threads[i].upid == wk->upid && c->run_spans[i])
      for (guint j = 0; j < c->run_spans[i]->len; j++) {
        Iv *iv = &g_array_index(c->run_spans[i], Iv, j);
        if (iv->st != WEFT_ST_RUNNING) continue;
        Span sp = {iv->s, iv->e};
        g_array_append_val(all, sp);
        total += sp.e - sp.s;
      }
  g_array_sort(all, cmp_span);
  wk->running_ns = total;
  int64_t target = (int64_t)((double)total * FINISH_QUANTILE), acc = 0;
  wk->finish_ns = wk->start_ns;
  for (guint j = 0; j < all->len; j++) {
    Span sp = g_array_index(all, Span, j);
    if (acc + (sp.e - sp.s) >= target) {
      wk->finish_ns = sp.s + (target - acc);
      break;
    }
    acc += sp.e - sp.s;
  }
  g_array_free(all, TRUE);
}

/* Worker wk's start-up, for a worker that exec'd (spawn, forkserver, loky:
 * an interpreter starts and imports the main module again; a forked worker
 * has its parent's and starts at once): from its start to the earliest of
 * the moment weft's Python hook named its main thread (multiprocessing's
 * BaseProcess._bootstrap: the imports are done, its target starts; schema
 * 5), its main thread's first wait of STARTUP_WAIT or more that is not for
 * the GIL (waiting for a first task) and its first result sent (its first
 * pipe flow out: when tasks were queued before it was ready it takes one
 * without waiting, so without the name the start-up is then an upper bound,
 * by its first task). */
static void worker_startup(PyCtx *c, WeftPyWorker *wk, sqlite3_stmt *first_out, sqlite3_stmt *named) {
  WeftPython *py = c->py;
  wk->startup_ns = wk->startup_run_ns = 0;
  int64_t out = INT64_MAX;
  sqlite3_bind_int64(first_out, 1, wk->upid);
  sqlite3_bind_int(first_out, 2, WEFT_FLOW_PIPE);
  if (weft_sql_step(&c->sql, first_out) && sqlite3_column_type(first_out, 0) != SQLITE_NULL)
    out = sqlite3_column_int64(first_out, 0);
  sqlite3_reset(first_out);
  sqlite3_bind_int64(named, 1, wk->upid);
  if (weft_sql_step(&c->sql, named) && sqlite3_column_type(named, 0) != SQLITE_NULL &&
      sqlite3_column_int64(named, 0) > wk->start_ns)
    out = min64(out, sqlite3_column_int64(named, 0));
  sqlite3_reset(named);
  for (size_t i = 0; i < py->nthreads; i++) {
    const WeftThreadMetrics *tm = weft_metrics_thread(c->m, py->threads[i].utid);
    if (py->threads[i].upid != wk->upid || !tm || !tm->is_main || !c->run_spans[i]) continue;
    int64_t run = 0;
    for (guint j = 0; j < c->run_spans[i]->len; j++) {
      Iv *iv = &g_array_index(c->run_spans[i], Iv, j);
      int64_t end = min64(iv->e, out);
      if (iv->st == WEFT_ST_RUNNING && end > iv->s) run += end - iv->s;
      if (iv->s >= out || (iv->st != WEFT_ST_RUNNING && iv->st != WEFT_ST_GIL_WAIT && iv->e - iv->s >= STARTUP_WAIT)) {
        wk->startup_ns = min64(iv->s, out) - wk->start_ns;
        wk->startup_run_ns = run;
        return;
      }
    }
    if (out != INT64_MAX) { /* no wait before its first result: that ends it */
      wk->startup_ns = out - wk->start_ns;
      wk->startup_run_ns = run;
    }
    return;
  }
}

/* A pool's balance, finish times, straggler and the parent's waiting. */
static void pool_balance(PyCtx *c, WeftPyPool *pl) {
  WeftPython *py = c->py;
  int64_t *useful = g_new0(int64_t, pl->nworkers);
  /* a worker's first result: its first pipe flow out (from any of its threads) */
  sqlite3_stmt *first_out = weft_sql_prepare(&c->sql, "SELECT min(f.from_ns) FROM flow f JOIN thread t ON "
                                                      "t.utid = f.from_utid WHERE t.upid = ?1 AND f.kind = ?2");
  /* when the Python hook named its main thread: its target started */
  sqlite3_stmt *named = weft_sql_prepare(&c->sql, "SELECT max(named_ns) FROM thread WHERE upid = ?1 AND is_main = 1");
  for (size_t w = 0; w < pl->nworkers; w++) {
    useful[w] = pl->workers[w].useful_ns;
    worker_finish(c, &pl->workers[w]);
    if (first_out && named && strcmp(pl->start_method, "fork")) worker_startup(c, &pl->workers[w], first_out, named);
    pl->startup_run_ns += pl->workers[w].startup_run_ns;
    pl->startup_ns = max64(pl->startup_ns, pl->workers[w].startup_ns);
  }
  sqlite3_finalize(first_out);
  sqlite3_finalize(named);
  int64_t all_running = 0;
  for (size_t w = 0; w < pl->nworkers; w++) all_running += pl->workers[w].running_ns;
  pl->startup_share = all_running > 0 ? (double)pl->startup_run_ns / (double)all_running : 0;
  weft_pop(useful, pl->nworkers, pl->end_ns - pl->start_ns, &pl->pop);
  g_free(useful);
  /* the straggler: the last to finish; its lag behind the median of the others */
  size_t last = 0;
  for (size_t w = 1; w < pl->nworkers; w++)
    if (pl->workers[w].finish_ns > pl->workers[last].finish_ns) last = w;
  int64_t *others = g_new(int64_t, pl->nworkers);
  size_t no = 0;
  for (size_t w = 0; w < pl->nworkers; w++)
    if (w != last) others[no++] = pl->workers[w].finish_ns;
  qsort(others, no, sizeof *others, cmp_i64);
  int64_t med = no ? others[(no - 1) / 2] : pl->workers[last].finish_ns;
  g_free(others);
  pl->straggler_upid = pl->workers[last].upid;
  pl->straggler_lag_ns = max64(pl->workers[last].finish_ns - med, 0);
  int64_t ran = pl->workers[last].finish_ns - pl->start_ns;
  pl->straggler_lag_share = ran > 0 ? (double)pl->straggler_lag_ns / (double)ran : 0;
  /* the parent's main thread, waiting during the pool's span */
  int64_t mu = main_utid(c->m, pl->parent_upid);
  for (size_t i = 0; i < py->nthreads; i++) {
    if (py->threads[i].utid != mu || !c->run_spans[i]) continue;
    for (guint j = 0; j < c->run_spans[i]->len; j++) {
      const Iv *iv = &g_array_index(c->run_spans[i], Iv, j);
      if (iv->st == WEFT_ST_RUNNING) continue;
      int64_t s = max64(iv->s, pl->start_ns), e = min64(iv->e, pl->end_ns);
      if (e > s) pl->parent_wait_ns += e - s;
    }
  }
  pl->parent_wait_share =
      pl->end_ns > pl->start_ns ? (double)pl->parent_wait_ns / (double)(pl->end_ns - pl->start_ns) : 0;
}

/* py->gil_objects, ascending. */
static void gil_objects(PyCtx *c) {
  WeftPython *py = c->py;
  py->ngil_objects = g_hash_table_size(c->gil_objs);
  py->gil_objects = g_new0(int64_t, py->ngil_objects + 1);
  GHashTableIter it;
  gpointer k;
  size_t n = 0;
  g_hash_table_iter_init(&it, c->gil_objs);
  while (g_hash_table_iter_next(&it, &k, NULL)) py->gil_objects[n++] = *(int64_t *)k;
  qsort(py->gil_objects, n, sizeof *py->gil_objects, cmp_i64);
}

static void ctx_free(PyCtx *c) {
  for (size_t i = 0; c->gil_spans && i < c->py->nprocesses; i++) {
    if (c->gil_spans[i]) g_array_free(c->gil_spans[i], TRUE);
    if (c->io_spans[i]) g_array_free(c->io_spans[i], TRUE);
  }
  g_free(c->gil_spans);
  g_free(c->io_spans);
  for (size_t i = 0; c->run_spans && i < c->py->nthreads; i++)
    if (c->run_spans[i]) g_array_free(c->run_spans[i], TRUE);
  g_free(c->run_spans);
  if (c->gil_objs) g_hash_table_destroy(c->gil_objs);
  if (c->holder_ns) g_hash_table_destroy(c->holder_ns);
  if (c->kinds) g_hash_table_destroy(c->kinds);
  if (c->worker_pool) g_hash_table_destroy(c->worker_pool);
  g_hash_table_destroy(c->proc_idx);
  for (guint i = 0; c->rows && i < c->rows->len; i++) g_free(g_array_index(c->rows, ProcRow, i).cmdline);
  if (c->rows) g_array_free(c->rows, TRUE);
  if (c->pools) g_array_free(c->pools, TRUE);
}

/* The bytes and messages the threads of process upid wrote to pipes, added to pl's. */
static void pipe_traffic(PyCtx *c, sqlite3_stmt *q, WeftPyPool *pl, int64_t upid) {
  sqlite3_bind_int64(q, 1, upid);
  if (weft_sql_step(&c->sql, q)) {
    pl->ipc_bytes += sqlite3_column_int64(q, 0);
    pl->ipc_messages += sqlite3_column_int64(q, 1);
  }
  sqlite3_reset(q);
}

/* Each pool's cost of moving data: its parent's helper threads' running and
 * the waits on its queues' locks (WeftObjectMetrics.py_ipc_wait_ns); and the
 * bytes its processes wrote to pipes. */
static void pools_ipc(PyCtx *c) {
  WeftPython *py = c->py;
  const WeftMetrics *m = c->m;
  char b[32];
  sqlite3_stmt *traffic = weft_sql_prepare(&c->sql, "SELECT coalesce(sum(pipe_bytes), 0), "
                                                    "coalesce(sum(pipe_messages), 0) FROM thread WHERE upid = ?1");
  for (size_t k = 0; k < py->npools && traffic; k++) {
    WeftPyPool *pl = &py->pools[k];
    GString *names = g_string_new(NULL);
    for (size_t i = 0; i < py->nthreads; i++) {
      const WeftThreadMetrics *tm = weft_metrics_thread(m, py->threads[i].utid);
      if (py->threads[i].upid != pl->parent_upid || !tm || !py_ipc_thread(tm->name)) continue;
      pl->ipc_helper_ns += py->threads[i].running_ns;
      g_string_append_printf(names, "%s%s %s", names->len ? ", " : "", tm->name,
                             weft_format_ns(b, sizeof b, py->threads[i].running_ns));
    }
    for (size_t i = 0; i < m->nobjects; i++)
      if (m->objects[i].kind == WEFT_KIND_SEM && m->objects[i].py_ipc_wait_ns > 0 &&
          weft_python_pool_of(py, m->objects[i].upid) == pl) /* (a worker's reads in get: also its idle waits) */
        pl->ipc_lock_ns += m->objects[i].py_ipc_wait_ns;
    int64_t work = 0;
    for (size_t w = 0; w < pl->nworkers; w++) work += pl->workers[w].running_ns;
    pl->ipc_work_ns = work;
    pl->ipc_share = work > 0 ? (double)(pl->ipc_helper_ns + pl->ipc_lock_ns) / (double)work : 0;
    pl->ipc_helpers = names->len ? python_strf(py, "%s", names->str) : NULL;
    g_string_free(names, TRUE);
    pipe_traffic(c, traffic, pl, pl->parent_upid);
    pl->ipc_sent_bytes = pl->ipc_bytes;
    for (size_t w = 0; w < pl->nworkers; w++) pipe_traffic(c, traffic, pl, pl->workers[w].upid);
  }
  sqlite3_finalize(traffic);
}

WeftPython *python_model(sqlite3 *db, const WeftMetrics *m, int *failed, char *err, size_t errlen) {
  *failed = 0;
  /* which processes are CPython */
  GArray *pyup = g_array_new(FALSE, FALSE, sizeof(int64_t));
  for (size_t i = 0; i < m->nprocesses; i++) {
    const WeftProcessMetrics *p = &m->processes[i];
    if (is_python_exe(p->exe) || p->state_ns[WEFT_ST_GIL_WAIT] > 0) g_array_append_val(pyup, p->upid);
  }
  if (!pyup->len) {
    g_array_free(pyup, TRUE);
    return NULL;
  }
  WeftPython *py = g_new0(WeftPython, 1);
  PyPriv *priv = g_new0(PyPriv, 1);
  priv->strings = g_ptr_array_new_with_free_func(g_free);
  py->_priv = priv;
  PyCtx c = {.m = m,
             .py = py,
             .a = m->range_start_ns,
             .b = m->range_end_ns,
             .proc_idx = g_hash_table_new(g_int64_hash, g_int64_equal)};
  weft_sql_init(&c.sql, db, err, errlen, WEFT_ANALYSIS_SQL_PREFIX);
  python_threads(&c, pyup);
  g_array_free(pyup, TRUE);
  read_processes(&c);
  find_pools(&c);
  scan_threads(&c);
  gil_and_io(&c);
  for (guint k = 0; k < c.pools->len; k++) pool_balance(&c, &g_array_index(c.pools, WeftPyPool, k));
  gil_objects(&c);
  py->npools = c.pools->len;
  py->pools = (WeftPyPool *)(void *)g_array_free(c.pools, FALSE);
  c.pools = NULL;
  pools_ipc(&c);
  ctx_free(&c);
  if (c.sql.failed) {
    *failed = 1;
    weft_python_free(py);
    return NULL;
  }
  return py;
}

void weft_python_free(WeftPython *py) {
  if (!py) return;
  PyPriv *priv = py->_priv;
  for (size_t k = 0; k < py->npools; k++) g_free(py->pools[k].workers);
  python_dask_free(py->dask);
  g_free(py->pools);
  g_free(py->threads);
  g_free(py->processes);
  g_free(py->gil_objects);
  g_free(py->libraries);
  g_free(py->findings);
  if (priv) {
    g_ptr_array_free(priv->strings, TRUE);
    g_free(priv);
  }
  g_free(py);
}

int weft_python_is_gil_object(const WeftPython *py, int64_t object_id) {
  return py && py->ngil_objects &&
         bsearch(&object_id, py->gil_objects, py->ngil_objects, sizeof object_id, cmp_i64) != NULL;
}

const WeftPyProcess *weft_python_process(const WeftPython *py, int64_t upid) {
  for (size_t i = 0; py && i < py->nprocesses; i++)
    if (py->processes[i].upid == upid) return &py->processes[i];
  return NULL;
}

const WeftPyPool *weft_python_pool_of(const WeftPython *py, int64_t upid) {
  for (size_t i = 0; py && i < py->npools; i++) {
    const WeftPyPool *pl = &py->pools[i];
    if (pl->parent_upid == upid) return pl;
    for (size_t k = 0; k < pl->nworkers; k++)
      if (pl->workers[k].upid == upid) return pl;
  }
  return NULL;
}
