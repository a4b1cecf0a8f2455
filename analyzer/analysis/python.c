/* python.c - parallel Python: the GIL, threads, process pools, verdicts.
 * SPDX-License-Identifier: MIT
 *
 * See python.h for what is computed and docs/report-json.md for the
 * definitions. Everything is allocated with GLib and owned by the
 * WeftPython (strings in priv->strings). Not thread-safe; called from
 * weft_metrics_compute() on its connection, inside its read transaction.
 */
#include "python.h"

#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft-trace.h"

#define GIL_THREAD_SHARE 0.10   /* a thread "waits for the GIL" above this share of its life */
#define GIL_PROCESS_SHARE 0.10  /* the gil finding: GIL waits >= this share of the process's thread time */
#define IO_THREAD_SHARE  0.50   /* an I/O thread: at least this share in io_wait/sleep ... */
#define IO_THREAD_GIL    0.10   /* ... and below this share in gil_wait */
#define FINISH_QUANTILE  0.95   /* a worker's finish: when it had done this share of its running */
#define STRAGGLER_SHARE  0.25   /* lag / the straggler's time in the pool, for a finding */

typedef struct {
  int64_t s, e;
} Span;

typedef struct {
  int64_t s, e;
  int st;                      /* thread_state.state */
} Iv;

typedef struct {
  GPtrArray *strings;          /* every string handed out */
  GArray *findings;            /* WeftFinding */
} Priv;

typedef struct {
  sqlite3 *db;
  const WeftMetrics *m;
  WeftPython *py;
  Priv *priv;
  int64_t a, b;
  char *err;
  size_t errlen;
  int failed;
} Ctx;

static const char *keep(Ctx *c, char *s) {
  g_ptr_array_add(c->priv->strings, s);
  return s;
}

static const char *fmt(Ctx *c, const char *f, ...) __attribute__((format(printf, 2, 3)));
static const char *fmt(Ctx *c, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  char *s = g_strdup_vprintf(f, ap);
  va_end(ap);
  return keep(c, s);
}

static void sql_fail(Ctx *c) {
  if (!c->failed && c->err && c->errlen)
    snprintf(c->err, c->errlen, "cannot read the database: %s", sqlite3_errmsg(c->db));
  c->failed = 1;
}

static sqlite3_stmt *prep(Ctx *c, const char *sql) {
  sqlite3_stmt *q = NULL;
  if (c->failed) return NULL;
  if (sqlite3_prepare_v2(c->db, sql, -1, &q, NULL) != SQLITE_OK) {
    sql_fail(c);
    sqlite3_finalize(q);
    return NULL;
  }
  return q;
}

static int64_t max64(int64_t x, int64_t y) { return x > y ? x : y; }
static int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

static const char *pct(char *buf, size_t len, double x) {
  x *= 100.0;
  if (x > 0 && x < 1) snprintf(buf, len, "%.1f%%", x);
  else snprintf(buf, len, "%.0f%%", x);
  return buf;
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

static int cmp_i64(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return a < b ? -1 : a > b;
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
    ev[2 * i] = s->s * 2 + 1;     /* begins after ends at the same instant */
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

typedef struct {
  int64_t upid, first_upid, parent_upid, exec_from;
  char *cmdline;
  int is_last;                 /* not followed by an exec */
} ProcRow;

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

static void add_finding(Ctx *c, WeftFindingKind kind, const char *kind_name, int64_t cost, const char *title,
                        const char *evidence, const char *fix, int64_t utid) {
  WeftFinding f = {.kind = kind, .kind_name = kind_name, .cost_ns = cost, .title = title, .evidence = evidence,
                   .fix = fix, .object_id = -1, .utid = utid, .region = -1};
  g_array_append_val(c->priv->findings, f);
}

static const WeftProcessMetrics *pm_of(const WeftMetrics *m, int64_t upid) { return weft_metrics_process(m, upid); }

static int64_t main_utid(const WeftMetrics *m, int64_t upid) {
  for (size_t i = 0; i < m->nthreads; i++)
    if (m->threads[i].upid == upid && m->threads[i].is_main) return m->threads[i].utid;
  return -1;
}

WeftPython *weft_python_compute(sqlite3 *db, const WeftMetrics *m, int64_t min_cost, int *failed, char *err,
                                size_t errlen) {
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
  Priv *priv = g_new0(Priv, 1);
  priv->strings = g_ptr_array_new_with_free_func(g_free);
  priv->findings = g_array_new(FALSE, TRUE, sizeof(WeftFinding));
  py->_priv = priv;
  Ctx cx = {.db = db, .m = m, .py = py, .priv = priv, .a = m->range_start_ns, .b = m->range_end_ns,
            .err = err, .errlen = errlen};
  Ctx *c = &cx;
  char b1[32], b2[32], b3[32], p1[16], p2[16], lab[200];

  /* ---- processes and threads ---- */
  py->nprocesses = pyup->len;
  py->processes = g_new0(WeftPyProcess, py->nprocesses);
  GHashTable *proc_idx = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (guint i = 0; i < pyup->len; i++) {
    WeftPyProcess *pp = &py->processes[i];
    const WeftProcessMetrics *p = pm_of(m, g_array_index(pyup, int64_t, i));
    pp->upid = p->upid;
    pp->pid = p->pid;
    const char *exe = p->exe && *p->exe ? strrchr(p->exe, '/') : NULL;
    pp->label = fmt(c, "pid %lld (%s)", (long long)p->pid, exe ? exe + 1 : *p->exe ? p->exe : "python");
    pp->lifetime_ns = p->lifetime_ns;
    pp->gil_wait_ns = p->state_ns[WEFT_ST_GIL_WAIT];
    pp->top_holder_utid = -1;
    g_hash_table_insert(proc_idx, &pp->upid, GSIZE_TO_POINTER(i + 1));
  }
  GArray *thr = g_array_new(FALSE, TRUE, sizeof(WeftPyThread));
  for (size_t i = 0; i < m->nthreads; i++) {
    const WeftThreadMetrics *t = &m->threads[i];
    gpointer v = g_hash_table_lookup(proc_idx, &t->upid);
    if (!v) continue;
    WeftPyProcess *pp = &py->processes[GPOINTER_TO_SIZE(v) - 1];
    WeftPyThread pt = {.utid = t->utid, .upid = t->upid, .lifetime_ns = t->lifetime_ns,
                       .running_ns = t->state_ns[WEFT_ST_RUNNING], .gil_wait_ns = t->state_ns[WEFT_ST_GIL_WAIT],
                       .io_ns = t->state_ns[WEFT_ST_IO_WAIT] + t->state_ns[WEFT_ST_SLEEP]};
    pt.label = keep(c, g_strdup(weft_metrics_thread_label(m, t->utid, lab, sizeof lab)));
    pt.gil_share = t->lifetime_ns > 0 ? (double)pt.gil_wait_ns / (double)t->lifetime_ns : 0;
    pt.io_share = t->lifetime_ns > 0 ? (double)pt.io_ns / (double)t->lifetime_ns : 0;
    py->io_ns += t->state_ns[WEFT_ST_IO_WAIT];
    py->sleep_ns += t->state_ns[WEFT_ST_SLEEP];
    pp->nthreads++;
    g_array_append_val(thr, pt);
  }
  py->nthreads = thr->len;
  py->threads = (WeftPyThread *)(void *)g_array_free(thr, FALSE);

  /* ---- pools (from the process table: exec chains, helpers) ---- */
  GArray *rows = g_array_new(FALSE, TRUE, sizeof(ProcRow));
  sqlite3_stmt *q = prep(c, "SELECT upid, exec_from_upid, parent_upid, cmdline, end_how FROM process");
  while (q && sqlite3_step(q) == SQLITE_ROW) {
    ProcRow r = {.upid = sqlite3_column_int64(q, 0), .exec_from = sqlite3_column_int64(q, 1),
                 .parent_upid = sqlite3_column_int64(q, 2),
                 .cmdline = g_strdup((const char *)sqlite3_column_text(q, 3))};
    const char *how = (const char *)sqlite3_column_text(q, 4);
    r.is_last = !how || strcmp(how, "exec") != 0;
    g_array_append_val(rows, r);
  }
  sqlite3_finalize(q);
  GArray *pools = g_array_new(FALSE, TRUE, sizeof(WeftPyPool));
  GHashTable *worker_pool = g_hash_table_new(g_int64_hash, g_int64_equal); /* worker upid -> pool index + 1 */
  for (size_t pi = 0; pi < py->nprocesses && !c->failed; pi++) {
    int64_t parent = py->processes[pi].upid;
    GArray *ws = g_array_new(FALSE, TRUE, sizeof(WeftPyWorker));
    const char *method = "";
    for (size_t k = 0; k < py->nprocesses; k++) {
      ProcRow *r = proc_row(rows, py->processes[k].upid);
      if (!r || !r->is_last || is_helper_row(rows, r) || pool_parent(rows, r->upid) != parent) continue;
      const WeftProcessMetrics *wp = pm_of(m, r->upid);
      WeftPyWorker w = {.upid = r->upid, .pid = wp->pid, .start_ns = max64(wp->start_ns, c->a),
                        .end_ns = min64(wp->end_ns, c->b), .useful_ns = wp->useful_ns, .idle_ns = wp->wait_ns};
      /* the images before its exec (a fork that exec'd: spawn, loky) */
      for (ProcRow *e = r; e && e->exec_from > 0;) {
        e = proc_row(rows, e->exec_from);
        const WeftProcessMetrics *ep = e ? pm_of(m, e->upid) : NULL;
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
      method = strstr(cmd, "loky") ? "loky"
               : strstr(cmd, "spawn_main") ? "spawn"
               : dad && dad->upid != parent ? "forkserver"
               : r->exec_from <= 0 ? "fork" : "";
      g_array_append_val(ws, w);
    }
    if (ws->len < 2) {
      g_array_free(ws, TRUE);
      continue;
    }
    WeftPyPool pl = {.parent_upid = parent, .start_method = method, .start_ns = INT64_MAX, .end_ns = INT64_MIN,
                     .straggler_upid = -1};
    pl.label = fmt(c, "pool of %s", py->processes[pi].label);
    pl.nworkers = ws->len;
    pl.workers = (WeftPyWorker *)(void *)g_array_free(ws, FALSE);
    for (size_t k = 0; k < pl.nworkers; k++) {
      pl.start_ns = min64(pl.start_ns, pl.workers[k].start_ns);
      pl.end_ns = max64(pl.end_ns, pl.workers[k].end_ns);
    }
    g_array_append_val(pools, pl);
    for (size_t k = 0; k < pl.nworkers; k++) {
      int64_t *key = g_new(int64_t, 1);
      *key = pl.workers[k].upid;
      keep(c, (char *)key);
      g_hash_table_insert(worker_pool, key, GSIZE_TO_POINTER(pools->len));
    }
  }

  /* ---- one pass over the rows of the CPython threads ---- */
  GHashTable *holder_ns = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free); /* utid -> int64 */
  GHashTable *kinds = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);       /* object -> kind+1 */
  GArray **gil_spans = g_new0(GArray *, py->nprocesses), **io_spans = g_new0(GArray *, py->nprocesses);
  GArray **run_spans = g_new0(GArray *, py->nthreads);
  GHashTable *gil_objs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  q = prep(c, "SELECT start_ns, dur_ns, state, blocker_utid, waker_utid, object_id FROM thread_state "
              "WHERE utid = ?1 AND start_ns < ?3 AND start_ns + dur_ns > ?2 ORDER BY start_ns");
  sqlite3_stmt *kq = prep(c, "SELECT kind FROM sync_object WHERE object_id = ?1");
  for (size_t i = 0; i < py->nthreads && q && kq && !c->failed; i++) {
    WeftPyThread *t = &py->threads[i];
    size_t pidx = GPOINTER_TO_SIZE(g_hash_table_lookup(proc_idx, &t->upid)) - 1;
    WeftPyProcess *pp = &py->processes[pidx];
    const WeftThreadMetrics *tm = weft_metrics_thread(m, t->utid);
    int io_thread = tm && !tm->is_main && t->io_share >= IO_THREAD_SHARE && t->gil_share < IO_THREAD_GIL;
    if (io_thread) pp->io_threads++;
    if (t->gil_share >= GIL_THREAD_SHARE) pp->gil_threads++;
    int want_run = g_hash_table_contains(worker_pool, &t->upid);
    int want_all = 0; /* the main thread of a pool's parent: its waits */
    for (guint k = 0; k < pools->len; k++)
      if (g_array_index(pools, WeftPyPool, k).parent_upid == t->upid && tm && tm->is_main) want_all = 1;
    if (!t->gil_wait_ns && !io_thread && !want_run && !want_all) continue;
    if (want_run || want_all) run_spans[i] = g_array_new(FALSE, FALSE, sizeof(Iv));
    sqlite3_bind_int64(q, 1, t->utid);
    sqlite3_bind_int64(q, 2, c->a);
    sqlite3_bind_int64(q, 3, c->b);
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      int64_t s = sqlite3_column_int64(q, 0), e = s + sqlite3_column_int64(q, 1);
      int st = sqlite3_column_int(q, 2);
      s = max64(s, c->a);
      e = min64(e, c->b);
      if (e <= s) continue;
      Span sp = {s, e};
      if (st == WEFT_ST_GIL_WAIT) {
        if (!gil_spans[pidx]) gil_spans[pidx] = g_array_new(FALSE, FALSE, sizeof(Span));
        g_array_append_val(gil_spans[pidx], sp);
        if (sqlite3_column_type(q, 3) != SQLITE_NULL) {
          int64_t h = sqlite3_column_int64(q, 3);
          int64_t *v = g_hash_table_lookup(holder_ns, &h);
          if (!v) {
            int64_t *k = g_new(int64_t, 1);
            *k = h;
            v = g_new0(int64_t, 1);
            g_hash_table_insert(holder_ns, k, v);
          }
          *v += e - s;
        }
        /* a hand-off: a wait on the GIL's condvar ended by another thread's drop */
        int64_t obj = sqlite3_column_int64(q, 5), waker = sqlite3_column_int64(q, 4);
        if (obj > 0 && !g_hash_table_contains(gil_objs, &obj)) {
          int64_t *k = g_new(int64_t, 1);
          *k = obj;
          g_hash_table_add(gil_objs, k);
        }
        int64_t end = sqlite3_column_int64(q, 0) + sqlite3_column_int64(q, 1);
        if (sqlite3_column_type(q, 4) != SQLITE_NULL && waker != t->utid && end > c->a && end <= c->b) {
          gpointer kv = g_hash_table_lookup(kinds, &obj);
          if (!kv) {
            sqlite3_bind_int64(kq, 1, obj);
            int kind = sqlite3_step(kq) == SQLITE_ROW ? sqlite3_column_int(kq, 0) : 0;
            sqlite3_reset(kq);
            int64_t *k = g_new(int64_t, 1);
            *k = obj;
            kv = GINT_TO_POINTER(kind + 1);
            g_hash_table_insert(kinds, k, kv);
          }
          if (GPOINTER_TO_INT(kv) - 1 == WEFT_KIND_COND) pp->gil_handoffs++;
        }
      }
      if (io_thread && (st == WEFT_ST_IO_WAIT || st == WEFT_ST_SLEEP)) {
        if (!io_spans[pidx]) io_spans[pidx] = g_array_new(FALSE, FALSE, sizeof(Span));
        g_array_append_val(io_spans[pidx], sp);
      }
      if (run_spans[i] && (st == WEFT_ST_RUNNING || want_all)) {
        Iv iv = {s, e, st};
        g_array_append_val(run_spans[i], iv);
      }
    }
    if (rc != SQLITE_DONE) sql_fail(c);
    sqlite3_reset(q);
  }
  sqlite3_finalize(q);
  sqlite3_finalize(kq);

  /* ---- GIL and I/O per process ---- */
  for (size_t pi = 0; pi < py->nprocesses; pi++) {
    WeftPyProcess *pp = &py->processes[pi];
    if (gil_spans[pi]) {
      g_array_sort(gil_spans[pi], cmp_span);
      pp->gil_serial_ns = covered(gil_spans[pi], 1, NULL);
      g_array_free(gil_spans[pi], TRUE);
    }
    pp->gil_serial_share = pp->lifetime_ns > 0 ? (double)pp->gil_serial_ns / (double)pp->lifetime_ns : 0;
    if (io_spans[pi]) {
      pp->io_overlap_ns = covered(io_spans[pi], 2, &pp->io_overlap_max);
      g_array_free(io_spans[pi], TRUE);
    }
    int64_t waited = 0, tw = 0;
    for (size_t i = 0; i < py->nthreads; i++) {
      WeftPyThread *t = &py->threads[i];
      if (t->upid != pp->upid) continue;
      int64_t *v = g_hash_table_lookup(holder_ns, &t->utid);
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
  g_free(gil_spans);
  g_free(io_spans);

  /* ---- pools: balance, finish times, the parent's waiting ---- */
  for (guint k = 0; k < pools->len; k++) {
    WeftPyPool *pl = &g_array_index(pools, WeftPyPool, k);
    int64_t *useful = g_new0(int64_t, pl->nworkers);
    for (size_t w = 0; w < pl->nworkers; w++) {
      WeftPyWorker *wk = &pl->workers[w];
      useful[w] = wk->useful_ns;
      /* the running spans of its threads, in time order */
      GArray *all = g_array_new(FALSE, FALSE, sizeof(Span));
      int64_t total = 0;
      for (size_t i = 0; i < py->nthreads; i++)
        if (py->threads[i].upid == wk->upid && run_spans[i])
          for (guint j = 0; j < run_spans[i]->len; j++) {
            Iv *iv = &g_array_index(run_spans[i], Iv, j);
            if (iv->st != WEFT_ST_RUNNING) continue;
            Span sp = {iv->s, iv->e};
            g_array_append_val(all, sp);
            total += sp.e - sp.s;
          }
      g_array_sort(all, cmp_span);
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
    int64_t mu = main_utid(m, pl->parent_upid);
    for (size_t i = 0; i < py->nthreads; i++) {
      if (py->threads[i].utid != mu || !run_spans[i]) continue;
      for (guint j = 0; j < run_spans[i]->len; j++) {
        const Iv *iv = &g_array_index(run_spans[i], Iv, j);
        if (iv->st == WEFT_ST_RUNNING) continue;
        int64_t s = max64(iv->s, pl->start_ns), e = min64(iv->e, pl->end_ns);
        if (e > s) pl->parent_wait_ns += e - s;
      }
    }
    pl->parent_wait_share =
        pl->end_ns > pl->start_ns ? (double)pl->parent_wait_ns / (double)(pl->end_ns - pl->start_ns) : 0;
  }
  for (size_t i = 0; i < py->nthreads; i++)
    if (run_spans[i]) g_array_free(run_spans[i], TRUE);
  g_free(run_spans);
  {
    py->ngil_objects = g_hash_table_size(gil_objs);
    py->gil_objects = g_new0(int64_t, py->ngil_objects + 1);
    GHashTableIter it;
    gpointer k;
    size_t n = 0;
    g_hash_table_iter_init(&it, gil_objs);
    while (g_hash_table_iter_next(&it, &k, NULL)) py->gil_objects[n++] = *(int64_t *)k;
    qsort(py->gil_objects, n, sizeof *py->gil_objects, cmp_i64);
    g_hash_table_destroy(gil_objs);
  }
  g_hash_table_destroy(holder_ns);
  g_hash_table_destroy(kinds);
  g_hash_table_destroy(worker_pool);
  g_hash_table_destroy(proc_idx);
  for (guint i = 0; i < rows->len; i++) g_free(g_array_index(rows, ProcRow, i).cmdline);
  g_array_free(rows, TRUE);
  g_array_free(pyup, TRUE);
  py->npools = pools->len;
  py->pools = (WeftPyPool *)(void *)g_array_free(pools, FALSE);

  /* ---- verdicts ---- */
  for (size_t pi = 0; pi < py->nprocesses && !c->failed; pi++) {
    const WeftPyProcess *pp = &py->processes[pi];
    const WeftProcessMetrics *pm = pm_of(m, pp->upid);
    /* A GIL holder that waits for a CPU (the machine is busy with more threads
     * than CPUs) makes the others wait for the GIL too: that part of the waits
     * is the oversubscription's (its own finding), not the program's. Weigh
     * the waits by the share of the process's running time that was on a CPU. */
    double on_cpu = pm && pm->cpu_ns > 0 && pm->runq_ns >= 0 ? (double)pm->cpu_ns / (double)(pm->cpu_ns + pm->runq_ns) : 1;
    if (pp->gil_threads && pp->gil_wait_ns >= min_cost && pp->gil_wait_ns > 0 && pm &&
        on_cpu * (double)pp->gil_wait_ns >= GIL_PROCESS_SHARE * (double)pm->thread_ns) {
      char who[200] = "";
      if (pp->top_holder_utid >= 0)
        snprintf(who, sizeof who, "; others waited longest (%s) while %s held it",
                 weft_format_ns(b3, sizeof b3, pp->top_holder_ns),
                 weft_metrics_thread_label(m, pp->top_holder_utid, lab, sizeof lab));
      add_finding(
          c, WEFT_FIND_GIL, "gil", pp->gil_wait_ns,
          fmt(c, "%zu thread%s of %s spent %s of their time waiting for the GIL: this work is CPU-bound Python",
              pp->gil_threads, pp->gil_threads == 1 ? "" : "s", pp->label, pct(p1, sizeof p1, pp->gil_threads_share)),
          fmt(c, "%s of GIL waits in all; threads were waiting for the GIL during %s of the process's life (%s), "
                 "so only one ran Python at a time; %lld hand-off%s between threads%s",
              weft_format_ns(b1, sizeof b1, pp->gil_wait_ns), pct(p2, sizeof p2, pp->gil_serial_share),
              weft_format_ns(b2, sizeof b2, pp->gil_serial_ns), (long long)pp->gil_handoffs,
              pp->gil_handoffs == 1 ? "" : "s", who),
          fmt(c, "use processes instead of threads: concurrent.futures.ProcessPoolExecutor or "
                 "multiprocessing.Pool (the same map/submit interface), or move the hot loop into native code "
                 "that releases the GIL (NumPy, a C extension, Cython with nogil)"),
          pp->top_holder_utid);
    }
    int pool_parent_proc = 0; /* a pool's helper threads idle in pipe reads: not an I/O-bound program */
    for (size_t k = 0; k < py->npools; k++) pool_parent_proc |= py->pools[k].parent_upid == pp->upid;
    if (!pool_parent_proc && pp->io_threads >= 2 && pp->io_overlap_max >= 2 && on_cpu * pp->gil_serial_share < 0.25) {
      int64_t io = 0, life = 0, gil = 0;
      for (size_t i = 0; i < py->nthreads; i++) {
        const WeftPyThread *t = &py->threads[i];
        const WeftThreadMetrics *tm = weft_metrics_thread(m, t->utid);
        if (t->upid != pp->upid || !tm || tm->is_main || t->io_share < IO_THREAD_SHARE ||
            t->gil_share >= IO_THREAD_GIL)
          continue;
        io += t->io_ns;
        life += t->lifetime_ns;
        gil += t->gil_wait_ns;
      }
      add_finding(c, WEFT_FIND_IO_OVERLAP, "io_overlap", 0,
                  fmt(c, "threads overlap well while waiting on I/O: threading is the right choice here (%zu "
                         "threads of %s, up to %zu waiting at once)",
                      pp->io_threads, pp->label, pp->io_overlap_max),
                  fmt(c, "they spent %s of their time blocked in I/O or sleeping and %s waiting for the GIL; two "
                         "or more waited at once for %s",
                      pct(p1, sizeof p1, life ? (double)io / (double)life : 0),
                      pct(p2, sizeof p2, life ? (double)gil / (double)life : 0),
                      weft_format_ns(b1, sizeof b1, pp->io_overlap_ns)),
                  fmt(c, "nothing to change: threads (or asyncio) suit I/O-bound work, since blocking calls "
                         "release the GIL; more threads help as long as the other side keeps up"),
                  -1);
    }
  }
  for (size_t k = 0; k < py->npools && !c->failed; k++) {
    const WeftPyPool *pl = &py->pools[k];
    int64_t cost = pl->straggler_lag_ns * (int64_t)(pl->nworkers - 1);
    if (pl->straggler_lag_share < STRAGGLER_SHARE || cost < min_cost || cost <= 0) continue;
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
    add_finding(c, WEFT_FIND_IMBALANCE, "imbalance", cost,
                fmt(c, "worker %zu (%s%spid %lld) of the %s finished %s after the others (%s of its time in the "
                       "pool): its tasks were longer",
                    idx + 1, wname, *wname ? ", " : "", (long long)sw->pid, pl->label,
                    weft_format_ns(b1, sizeof b1, pl->straggler_lag_ns), pct(p1, sizeof p1, pl->straggler_lag_share)),
                fmt(c, "%zu workers (%s); load balance of their useful time %.2f; the others sat idle "
                       "meanwhile; the parent waited %s (%s of the pool's span) for results",
                    pl->nworkers, *pl->start_method ? pl->start_method : "unknown start method", pl->pop.lb,
                    weft_format_ns(b2, sizeof b2, pl->parent_wait_ns), pct(p2, sizeof p2, pl->parent_wait_share)),
                fmt(c, "the tasks are unequal: hand them out in smaller pieces so idle workers take the rest "
                       "(a smaller chunksize, e.g. pool.map(f, items, chunksize=1), or imap_unordered; "
                       "executor.submit per task), and start the longest tasks first"),
                main_utid(m, sw->upid));
  }
  py->nfindings = priv->findings->len;
  py->findings = (WeftFinding *)(void *)priv->findings->data;
  if (c->failed) {
    *failed = 1;
    weft_python_free(py);
    return NULL;
  }
  return py;
}

void weft_python_free(WeftPython *py) {
  if (!py) return;
  Priv *priv = py->_priv;
  for (size_t k = 0; k < py->npools; k++) g_free(py->pools[k].workers);
  g_free(py->pools);
  g_free(py->threads);
  g_free(py->processes);
  g_free(py->gil_objects);
  if (priv) {
    g_ptr_array_free(priv->strings, TRUE);
    g_array_free(priv->findings, TRUE);
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
