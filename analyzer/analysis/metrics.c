/* metrics.c - the model of a recording: what every other analysis reads
 * (see metrics.h, analysis-private.h, docs/report-json.md).
 * SPDX-License-Identifier: MIT
 *
 * One pass per selected thread over its thread_state rows inside the range
 * (found through the (utid, start_ns) primary key: the interval containing a
 * is the one with the largest start <= a, the states being contiguous) feeds
 * everything else:
 *   - the per-thread state totals (clipped to [a, b));
 *   - the thread's running spans (and join/child wait spans), kept sorted
 *     with prefix sums so that the useful time of any thread over any region
 *     is two binary searches;
 *   - per object accumulators for waits (durations for the percentiles,
 *     distinct waiters, contended acquisitions) and per (object, stack) call
 *     site accumulators, which objects.c turns into WeftObjectMetrics.
 * Then the lock holds and lock hand-offs of the selected threads (through
 * the lock_hold_thread and flow_to indexes, or for a wide range of all
 * processes by scanning the tables). Reading rows is most of the cost, so
 * these loads run on one thread per CPU (see "loading on several threads").
 * Last, each thread's time split four ways from its scheduler readings, and
 * the sums per process and over the range.
 *
 * Memory: O(running intervals + waits in the range). Knows nothing of the
 * analyses built on it (analysis-private.h lists them).
 */
#include "analysis-private.h"
#include "query.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "holds.h"

/* ------------------------------------------------------------------------ */
/* allocation                                                                */

typedef struct {
  Pool pool;
} Priv;

static int pool_adopt(Pool *pl, void *p) {
  if (!p) return -1;
  if (pl->n == pl->cap) {
    size_t cap = pl->cap ? pl->cap * 2 : 64;
    void **np = realloc(pl->p, cap * sizeof *np);
    if (!np) {
      free(p);
      return -1;
    }
    pl->p = np;
    pl->cap = cap;
  }
  pl->p[pl->n++] = p;
  return 0;
}

void *pool_calloc(Pool *pl, size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  return pool_adopt(pl, p) == 0 ? p : NULL;
}

char *pool_strdup(Pool *pl, const char *s) {
  char *d = strdup(s ? s : "");
  return pool_adopt(pl, d) == 0 ? d : NULL;
}

char *pool_printf(Pool *pl, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  return pool_adopt(pl, s) == 0 ? s : NULL;
}

static void pool_free(Pool *pl) {
  for (size_t i = 0; i < pl->n; i++) free(pl->p[i]);
  free(pl->p);
  memset(pl, 0, sizeof *pl);
}

int vec_reserve(void **v, size_t *cap, size_t n, size_t sz) {
  if (n < *cap) return 0;
  size_t nc = *cap ? *cap * 2 : 16;
  while (nc <= n) nc *= 2;
  void *nv = realloc(*v, nc * sz);
  if (!nv) return -1;
  *v = nv;
  *cap = nc;
  return 0;
}

void radix_sort(int64_t *v, int64_t *tmp, size_t *count, size_t n) {
  int64_t mx = 0;
  for (size_t i = 0; i < n; i++) mx = max64(mx, v[i]);
  for (int shift = 0; shift < 64 && ((uint64_t)mx >> shift) != 0; shift += 16) {
    memset(count, 0, 65536 * sizeof *count);
    for (size_t i = 0; i < n; i++) count[((uint64_t)v[i] >> shift) & 0xffff]++;
    size_t sum = 0;
    for (size_t i = 0; i < 65536; i++) {
      size_t c = count[i];
      count[i] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) tmp[count[((uint64_t)v[i] >> shift) & 0xffff]++] = v[i];
    memcpy(v, tmp, n * sizeof *v);
  }
}

/* ------------------------------------------------------------------------ */
/* POP                                                                       */

void weft_pop(const int64_t *useful_ns, size_t n, int64_t span_ns, WeftPop *out) {
  memset(out, 0, sizeof *out);
  out->n = n;
  out->span_ns = span_ns;
  out->lb = 1.0;
  if (n == 0 || span_ns <= 0) return;
  /* saturating: a damaged recording's times can be huge, never undefined */
  int64_t sum = 0, mx = 0, idle = 0, nmx;
  for (size_t i = 0; i < n; i++) {
    sum = sat_add(sum, useful_ns[i]);
    mx = max64(mx, useful_ns[i]);
    idle = sat_add(idle, sat_add(span_ns, -useful_ns[i]));
  }
  out->sum_useful_ns = sum;
  out->max_useful_ns = mx;
  out->idle_ns = idle;
  if (__builtin_mul_overflow((int64_t)n, mx, &nmx)) nmx = INT64_MAX;
  out->imbalance_ns = sat_add(nmx, -sum);
  double mean = (double)sum / (double)n;
  out->lb = mx > 0 ? mean / (double)mx : 1.0;
  out->synce = (double)mx / (double)span_ns;
  out->pe = out->lb * out->synce;
}

/* ------------------------------------------------------------------------ */
/* the computation context                                                   */

static const char *col_str(Ctx *c, sqlite3_stmt *q, int i) {
  const unsigned char *s = sqlite3_column_text(q, i);
  char *d = pool_strdup(c->pool, s ? (const char *)s : "");
  if (!d) oom(c);
  return d ? d : "";
}

ThreadInfo *thread_info(const Ctx *c, int64_t utid) {
  size_t i;
  return weft_hmap_get(&c->thr_by_utid, utid, 0, &i) ? &c->thr[i] : NULL;
}

const char *ctx_thread_label(const Ctx *c, int64_t utid, char *buf, size_t len) {
  const ThreadInfo *t = thread_info(c, utid);
  if (!t)
    snprintf(buf, len, "utid %lld", (long long)utid);
  else
    snprintf(buf, len, "%s [%lld]", t->name && *t->name ? t->name : "thread", (long long)t->tid);
  return buf;
}
/* ------------------------------------------------------------------------ */
/* meta, processes, threads                                                  */

static bool load_meta(Ctx *c, int64_t *end_ns) {
  WeftMetrics *m = c->m;
  static const struct {
    const char *key;
    size_t off;
  } strs[] = {{"command", offsetof(WeftMetrics, command)},
              {"weft_version", offsetof(WeftMetrics, weft_version)},
              {"clock", offsetof(WeftMetrics, clock)},
              {"salvaged", offsetof(WeftMetrics, salvaged)}};
  for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
    char *v = weft_db_meta_get(c->sql.db, strs[i].key);
    char *d = pool_strdup(c->pool, v ? v : "");
    free(v);
    if (!d) return oom(c);
    *(const char **)((char *)m + strs[i].off) = d;
  }
  m->ncpus = weft_db_meta_get_int(c->sql.db, "ncpus", -1);
  if (m->ncpus == 0) m->ncpus = -1;
  m->cpu_limit_milli = weft_db_meta_get_int(c->sql.db, "cpu_limit_milli", -1);
  m->machine_busy_ns = weft_db_meta_get_int(c->sql.db, "machine_busy_ns", -1);
  m->machine_steal_ns = weft_db_meta_get_int(c->sql.db, "machine_steal_ns", -1);
  m->other_cpu_ns = -1;
  m->lost_events = weft_db_meta_get_int(c->sql.db, "lost_events", 0);
  m->io_waits = weft_db_meta_get_int(c->sql.db, "io_waits", -1);
  m->futex_waits = weft_db_meta_get_int(c->sql.db, "futex_waits", -1);
  m->omp_tasks = weft_db_meta_get_int(c->sql.db, "omp_tasks", 0);
  m->salvaged_files = weft_db_meta_get_int(c->sql.db, "salvaged_files", 0);
  char *holds = weft_db_meta_get(c->sql.db, "holds");
  m->holds_all = !holds || strcmp(holds, "contended") != 0;
  free(holds);
  m->hold_sample = weft_db_meta_get_int(c->sql.db, "hold_sample", 1);
  m->counts_flush_ms = weft_db_meta_get_int(c->sql.db, "counts_flush_ms", 0);
  m->counts_incomplete = weft_db_meta_get_int(c->sql.db, "counts_incomplete", 0);
  *end_ns = weft_db_meta_get_int(c->sql.db, "end_ns", -1);
  if (*end_ns < 0) {
    sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT max(end_ns) FROM process");
    if (!q) return false;
    *end_ns = weft_sql_step(&c->sql, q) ? weft_sql_i64(q, 0, 0) : 0;
    sqlite3_finalize(q);
  }
  m->recording_end_ns = *end_ns;
  return !c->sql.failed;
}

/* m->hosts from the host table (store/query.h's reader, which the GUI uses too). */
static bool load_hosts(Ctx *c) {
  WeftMetrics *m = c->m;
  WeftQuery q;
  WeftCursor cur;
  WeftHostRow r;
  size_t cap = 0;
  weft_query_init(&q, c->sql.db, c->sql.err, c->sql.errlen, WEFT_ANALYSIS_SQL_PREFIX);
  weft_query_hosts(&q, &cur);
  while (weft_next_host(&cur, &r)) {
    WeftHostMetrics h = {.host = r.host,
                         .name = pool_strdup(c->pool, r.name ? r.name : ""),
                         .host_id = pool_strdup(c->pool, r.host_id ? r.host_id : ""),
                         .files = r.files,
                         .anchor_shift_ns = r.anchor_shift_ns,
                         .clock_offset_ns = r.clock_offset_ns,
                         .offset_uncertainty_ns = r.offset_uncertainty_ns,
                         .drift_ppm = r.drift_ppm,
                         .messages = r.messages,
                         .offset_at_ns = r.offset_at_ns};
    if (!h.name || !h.host_id || VEC_PUSH(m->hosts, m->nhosts, cap, h) < 0) {
      weft_cursor_close(&cur);
      weft_query_clear(&q);
      return oom(c);
    }
  }
  bool ok = weft_cursor_close(&cur) == 0;
  weft_query_clear(&q);
  if (!ok) c->sql.failed = true;
  m->host_out_of_order = weft_db_meta_get_int(c->sql.db, "host_messages_out_of_order", 0);
  return ok;
}

static int cmp_link_upid(const void *x, const void *y, void *user) {
  const WeftProcLink *p = user;
  int64_t a = p[*(const size_t *)x].upid, b = p[*(const size_t *)y].upid;
  return (a > b) - (a < b);
}

static ptrdiff_t link_find(const WeftProcLink *p, const size_t *by_upid, size_t n, int64_t upid) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (p[by_upid[mid]].upid < upid)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && p[by_upid[lo]].upid == upid ? (ptrdiff_t)by_upid[lo] : -1;
}

/* The nearest of p[i]'s ancestors (through its exec first: an exec'd image
 * has its predecessor's parent too) that has an MPI rank, or -1. */
static ptrdiff_t ranked_ancestor(const WeftProcLink *p, const size_t *by, size_t n, size_t i) {
  size_t x = i;
  for (size_t steps = 0; steps <= n; steps++) { /* (a cycle is bad data: stop) */
    int64_t up = p[x].exec_from_upid >= 0 ? p[x].exec_from_upid : p[x].parent_upid;
    ptrdiff_t k = up < 0 ? -1 : link_find(p, by, n, up);
    if (k < 0) return -1;
    if (p[k].mpi_rank >= 0) return k;
    x = (size_t)k;
  }
  return -1;
}

/* The MPI rule of weft_find_launchers: with 2 or more ranks (processes with
 * a rank and no ranked ancestor: what a rank starts inherits its
 * environment, and its rank), everything that is not a rank or under one is
 * a launcher. Returns the lowest rank's index, or -1 (fewer ranks, or no
 * launcher: ranks each started under `weft exec`). */
static ptrdiff_t mpi_launchers(const WeftProcLink *p, const size_t *by, size_t n, bool *launcher, size_t *nl) {
  ptrdiff_t prog = -1;
  size_t ranks = 0;
  for (size_t i = 0; i < n; i++) ranks += p[i].mpi_rank >= 0;
  if (ranks < 2) return -1; /* (no walk up the tree for every process of a recording without MPI) */
  ranks = 0;
  for (size_t i = 0; i < n; i++) {
    bool ranked = p[i].mpi_rank >= 0, below = ranked_ancestor(p, by, n, i) >= 0;
    launcher[i] = !ranked && !below;
    *nl += launcher[i];
    if (!ranked || below) continue;
    ranks++;
    if (prog < 0 || p[i].mpi_rank < p[prog].mpi_rank || (p[i].mpi_rank == p[prog].mpi_rank && p[i].upid < p[prog].upid))
      prog = (ptrdiff_t)i;
  }
  return ranks >= 2 && *nl ? prog : -1;
}

ptrdiff_t weft_find_launchers(const WeftProcLink *p, size_t n, bool *launcher, size_t *nlaunchers, bool *mpi) {
  *nlaunchers = 0;
  *mpi = false;
  for (size_t i = 0; i < n; i++) launcher[i] = false;
  size_t *by = malloc((n ? n : 1) * sizeof *by);
  if (!by) return -1;
  for (size_t i = 0; i < n; i++) by[i] = i;
  qsort_r(by, n, sizeof *by, cmp_link_upid, (void *)p);
  ptrdiff_t prog = mpi_launchers(p, by, n, launcher, nlaunchers);
  if (prog >= 0) {
    *mpi = true;
    free(by);
    return prog;
  }
  *nlaunchers = 0;
  for (size_t i = 0; i < n; i++) launcher[i] = false;
  for (size_t i = 0; i < n; i++) {
    bool root = p[i].parent_upid < 0 || link_find(p, by, n, p[i].parent_upid) < 0;
    if (root &&
        (prog < 0 || p[i].end_ns > p[prog].end_ns || (p[i].end_ns == p[prog].end_ns && p[i].image > p[prog].image)))
      prog = (ptrdiff_t)i;
  }
  if (prog < 0 || p[prog].exec_from_upid < 0) {
    free(by);
    return -1;
  }
  const WeftProcLink *P = &p[prog];
  for (size_t i = 0; i < n; i++) {
    size_t x = i;
    for (size_t steps = 0; steps <= n; steps++) { /* (a cycle is bad data: stay) */
      const WeftProcLink *q = &p[x];
      if (q->upid == P->upid) break;
      if (q->pid == P->pid && q->image < P->image) {
        launcher[i] = true;
        ++*nlaunchers;
        break;
      }
      int64_t up = q->parent_upid >= 0 ? q->parent_upid : q->exec_from_upid;
      ptrdiff_t k = up < 0 ? -1 : link_find(p, by, n, up);
      if (k < 0) break;
      x = (size_t)k;
    }
  }
  free(by);
  return prog;
}

/* The launchers (WeftMetricsQuery.all_processes) are not selected. */
static bool leave_out_launchers(Ctx *c) {
  WeftProcLink *l = malloc((c->nprocs ? c->nprocs : 1) * sizeof *l);
  bool *out = malloc((c->nprocs ? c->nprocs : 1) * sizeof *out);
  if (!l || !out) {
    free(l);
    free(out);
    return oom(c);
  }
  for (size_t i = 0; i < c->nprocs; i++) {
    const ProcInfo *p = &c->procs[i];
    l[i] = (WeftProcLink){p->upid, p->pid, p->image, p->parent_upid, p->exec_from, p->end, p->mpi_rank};
  }
  size_t n = 0;
  bool mpi = false;
  ptrdiff_t prog = weft_find_launchers(l, c->nprocs, out, &n, &mpi);
  /* a range that ends before the program starts (--range ..100ms) is the
   * launchers' time: then it covers them */
  int64_t first = INT64_MAX;
  for (size_t i = 0; prog >= 0 && i < c->nprocs; i++)
    if (!out[i]) first = min64(first, c->procs[i].start);
  if (prog >= 0 && first < c->b) {
    for (size_t i = 0; i < c->nprocs; i++)
      if (out[i]) c->procs[i].sel = false;
    c->m->program_upid = c->procs[prog].upid;
    c->m->launchers = n;
    c->m->mpi_launchers = mpi;
  }
  free(l);
  free(out);
  return true;
}

static bool load_processes(Ctx *c, int64_t pid, bool all) {
  sqlite3_stmt *q =
      weft_sql_prepare(&c->sql, "SELECT upid, pid, image, parent_upid, cmdline, exe, start_ns, end_ns, "
                                "end_how, exit_status, exec_from_upid, mpi_rank, host FROM process ORDER BY upid");
  if (!q) return false;
  bool any = false;
  while (weft_sql_step(&c->sql, q)) {
    ProcInfo p = {.upid = sqlite3_column_int64(q, 0),
                  .pid = sqlite3_column_int64(q, 1),
                  .image = weft_sql_i64(q, 2, 0),
                  .parent_upid = weft_sql_i64(q, 3, -1),
                  .cmdline = col_str(c, q, 4),
                  .exe = col_str(c, q, 5),
                  .start = weft_sql_i64(q, 6, 0),
                  .end = weft_sql_i64(q, 7, 0),
                  .end_how = col_str(c, q, 8),
                  .has_exit = sqlite3_column_type(q, 9) != SQLITE_NULL,
                  .exit_status = weft_sql_i64(q, 9, 0),
                  .exec_from = weft_sql_i64(q, 10, -1),
                  .idx = -1,
                  .mpi_rank = weft_sql_i64(q, 11, -1),
                  .host = weft_sql_i64(q, 12, 0)};
    if (p.end < p.start) p.end = p.start;
    p.sel = pid < 0 || p.pid == pid;
    any |= p.sel;
    if (VEC_PUSH(c->procs, c->nprocs, c->capprocs, p) < 0 ||
        weft_hmap_put(&c->proc_by_upid, p.upid, 0, c->nprocs - 1) < 0) {
      oom(c);
      break;
    }
  }
  sqlite3_finalize(q);
  if (c->sql.failed) return false;
  if (pid >= 0 && !any) return weft_sql_fail(&c->sql, "no process with pid %lld in the recording", (long long)pid);
  c->m->program_upid = -1;
  if (pid < 0 && !all && !leave_out_launchers(c)) return false;

  WeftMetrics *m = c->m;
  size_t n = 0;
  for (size_t i = 0; i < c->nprocs; i++) {
    int64_t cs, ce;
    if (c->procs[i].sel && clip(c->procs[i].start, c->procs[i].end, c->a, c->b, &cs, &ce)) n++;
  }
  m->processes = calloc(n ? n : 1, sizeof *m->processes);
  if (!m->processes) return oom(c);
  for (size_t i = 0; i < c->nprocs; i++) {
    ProcInfo *p = &c->procs[i];
    int64_t cs, ce;
    if (!p->sel || !clip(p->start, p->end, c->a, c->b, &cs, &ce)) continue;
    WeftProcessMetrics *pm = &m->processes[m->nprocesses];
    p->idx = (ptrdiff_t)m->nprocesses++;
    *pm = (WeftProcessMetrics){.upid = p->upid,
                               .pid = p->pid,
                               .image = p->image,
                               .parent_upid = p->parent_upid,
                               .cmdline = p->cmdline,
                               .exe = p->exe,
                               .end_how = p->end_how,
                               .start_ns = p->start,
                               .end_ns = p->end,
                               .has_exit_status = p->has_exit,
                               .exit_status = p->exit_status,
                               .lifetime_ns = ce - cs,
                               .cpu_ns = -1,
                               .runq_ns = -1,
                               .mpi_rank = p->mpi_rank,
                               .host = p->host};
  }
  return true;
}

static bool load_threads(Ctx *c) {
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT utid, upid, tid, name, is_main, creator_utid, start_ns, end_ns, "
                                              "end_how, cpu_ns, runq_ns FROM thread ORDER BY utid");
  if (!q) return false;
  while (weft_sql_step(&c->sql, q)) {
    ThreadInfo t = {.utid = sqlite3_column_int64(q, 0),
                    .upid = sqlite3_column_int64(q, 1),
                    .tid = sqlite3_column_int64(q, 2),
                    .name = col_str(c, q, 3),
                    .is_main = (int)weft_sql_i64(q, 4, 0),
                    .creator = weft_sql_i64(q, 5, -1),
                    .start = weft_sql_i64(q, 6, 0),
                    .end = weft_sql_i64(q, 7, 0),
                    .end_how = col_str(c, q, 8),
                    .cpu = weft_sql_i64(q, 9, -1),
                    .runq = weft_sql_i64(q, 10, -1),
                    .pid = -1,
                    .idx = -1};
    if (t.end < t.start) t.end = t.start;
    size_t pi;
    if (weft_hmap_get(&c->proc_by_upid, t.upid, 0, &pi)) {
      t.pid = c->procs[pi].pid;
      t.sel = c->procs[pi].sel;
    }
    if (VEC_PUSH(c->thr, c->nthr, c->capthr, t) < 0 || weft_hmap_put(&c->thr_by_utid, t.utid, 0, c->nthr - 1) < 0) {
      oom(c);
      break;
    }
  }
  sqlite3_finalize(q);
  if (c->sql.failed) return false;

  WeftMetrics *m = c->m;
  size_t n = 0;
  int64_t cs, ce;
  for (size_t i = 0; i < c->nthr; i++)
    if (c->thr[i].sel && clip(c->thr[i].start, c->thr[i].end, c->a, c->b, &cs, &ce)) n++;
  m->threads = calloc(n ? n : 1, sizeof *m->threads);
  c->runs = calloc(n ? n : 1, sizeof *c->runs);
  c->ios = calloc(n ? n : 1, sizeof *c->ios);
  c->joins = calloc(n ? n : 1, sizeof *c->joins);
  c->waits = calloc(n ? n : 1, sizeof *c->waits);
  c->cpu = calloc(n ? n : 1, sizeof *c->cpu);
  if (!m->threads || !c->runs || !c->ios || !c->joins || !c->waits || !c->cpu) return oom(c);
  for (size_t i = 0; i < c->nthr; i++) {
    ThreadInfo *t = &c->thr[i];
    if (!t->sel || !clip(t->start, t->end, c->a, c->b, &cs, &ce)) continue;
    t->idx = (ptrdiff_t)m->nthreads;
    m->threads[m->nthreads++] = (WeftThreadMetrics){.utid = t->utid,
                                                    .upid = t->upid,
                                                    .tid = t->tid,
                                                    .pid = t->pid,
                                                    .name = t->name,
                                                    .is_main = t->is_main,
                                                    .creator_utid = t->creator,
                                                    .start_ns = t->start,
                                                    .end_ns = t->end,
                                                    .end_how = t->end_how,
                                                    .lifetime_ns = ce - cs,
                                                    .cpu_ns = -1,
                                                    .runq_ns = -1};
  }
  return true;
}

/* ------------------------------------------------------------------------ */
/* states, waits, holds, hand-offs                                           */

static ObjAcc *obj_acc(Ctx *c, int64_t object_id, size_t *index) {
  size_t i;
  if (!weft_hmap_get(&c->obj_by_id, object_id, 0, &i)) {
    ObjAcc o = {.object_id = object_id, .last_thread = SIZE_MAX, .wmax_utid = -1};
    if (VEC_PUSH(c->objs, c->nobjs, c->capobjs, o) < 0) return oom(c), NULL;
    i = c->nobjs - 1;
    if (weft_hmap_put(&c->obj_by_id, object_id, 0, i) < 0) return oom(c), NULL;
  }
  if (index) *index = i;
  return &c->objs[i];
}

/* A wait in state st can time out (ETIMEDOUT is its call's result, not an
 * I/O or MPI call's error code): the timed lock, rwlock, condition,
 * semaphore and futex waits. */
static bool timed_state(int st) {
  return st == WEFT_ST_LOCK_WAIT || st == WEFT_ST_RWLOCK_WAIT || st == WEFT_ST_COND_WAIT || st == WEFT_ST_SEM_WAIT ||
         st == WEFT_ST_FUTEX_WAIT;
}

/* Is the wait [s, s + len) of utid the object's longest so far (ties: the
 * earlier, then the lower utid: the same whichever worker loads it)? */
static bool longest_wait(const ObjAcc *o, int64_t len, int64_t s, int64_t utid) {
  if (o->wmax_utid < 0 || len != o->wait_max) return o->wmax_utid < 0 || len > o->wait_max;
  return s < o->wmax_s || (s == o->wmax_s && utid < o->wmax_utid);
}

static bool add_wait(Ctx *c, size_t ti, int st, int64_t obj, int64_t cs, int64_t ce, int64_t e, int64_t stack,
                     int64_t result) {
  size_t oi;
  ObjAcc *o = obj_acc(c, obj, &oi);
  if (!o) return false;
  int64_t len = ce - cs, utid = c->m->threads[ti].utid;
  if (VEC_PUSH(o->durs, o->ndurs, o->capdurs, len) < 0) return oom(c);
  if (longest_wait(o, len, cs, utid)) o->wmax_s = cs, o->wmax_e = ce, o->wmax_utid = utid;
  o->wait_ns += len;
  o->wait_max = max64(o->wait_max, len);
  o->waits++;
  if (e > c->a && e <= c->b && result == 0) o->contended++;
  if (e > c->a && e <= c->b && result == ETIMEDOUT && timed_state(st)) o->timeouts++;
  if (o->last_thread != ti) {
    o->last_thread = ti;
    o->waiters++;
  }
  size_t si;
  if (!weft_hmap_get(&c->site_by_key, (int64_t)oi, stack, &si)) {
    SiteAcc s = {.obj = oi, .stack_id = stack};
    if (VEC_PUSH(c->sites, c->nsites, c->capsites, s) < 0) return oom(c);
    si = c->nsites - 1;
    if (weft_hmap_put(&c->site_by_key, (int64_t)oi, stack, si) < 0) return oom(c);
  }
  c->sites[si].waits++;
  c->sites[si].wait_ns += len;
  return true;
}

/* Append [cs, ce) to rl, merging with an adjacent last span. */
static bool span_push(Ctx *c, RunList *rl, int64_t cs, int64_t ce) {
  if (ce <= cs) return true;
  if (rl->n && rl->run[rl->n - 1].e == cs) {
    rl->run[rl->n - 1].e = ce;
    return true;
  }
  if (VEC_PUSH(rl->run, rl->n, rl->cap, ((Span){cs, ce})) < 0) return oom(c);
  return true;
}

static bool span_index(Ctx *c, RunList *rl) {
  rl->prefix = malloc((rl->n + 1) * sizeof *rl->prefix);
  if (!rl->prefix) return oom(c);
  rl->prefix[0] = 0;
  for (size_t i = 0; i < rl->n; i++) rl->prefix[i + 1] = rl->prefix[i] + (rl->run[i].e - rl->run[i].s);
  return true;
}

/* One selected thread's states inside the range: its state totals, running
 * and join spans, waits. q0 and q are the two statements of load_prepare. */
static bool load_thread_states(Ctx *c, sqlite3_stmt *q0, sqlite3_stmt *q, size_t ti) {
  WeftThreadMetrics *t = &c->m->threads[ti];
  RunList *rl = &c->runs[ti];
  int64_t lo = c->a;
  sqlite3_bind_int64(q0, 1, t->utid);
  sqlite3_bind_int64(q0, 2, c->a);
  if (weft_sql_step(&c->sql, q0)) lo = min64(weft_sql_i64(q0, 0, c->a), c->a);
  sqlite3_reset(q0);
  if (c->sql.failed) return false;
  sqlite3_bind_int64(q, 1, t->utid);
  sqlite3_bind_int64(q, 2, lo);
  sqlite3_bind_int64(q, 3, c->b);
  int64_t other = 0;
  while (weft_sql_step(&c->sql, q)) {
    int64_t s = sqlite3_column_int64(q, 0), dur = max64(weft_sql_i64(q, 1, 0), 0);
    int64_t e = sat_add(s, dur), cs, ce;
    int st = (int)weft_sql_i64(q, 2, -1);
    if (!clip(s, e, c->a, c->b, &cs, &ce)) continue;
    int64_t len = ce - cs;
    if (st == WEFT_ST_RUNNING) {
      t->state_ns[st] += len;
      if (!span_push(c, rl, cs, ce)) break;
      continue;
    }
    WSpan ws = {cs, ce, st > WEFT_ST_RUNNING && st < WEFT_ST_COUNT ? st : 0};
    if (VEC_PUSH(c->waits[ti].v, c->waits[ti].n, c->waits[ti].cap, ws) < 0) {
      oom(c);
      break;
    }
    if (st == WEFT_ST_IO_WAIT && !span_push(c, &c->ios[ti], cs, ce)) break;
    if ((st == WEFT_ST_JOIN_WAIT || st == WEFT_ST_CHILD_WAIT) && !span_push(c, &c->joins[ti], cs, ce)) break;
    if (st > WEFT_ST_RUNNING && st < WEFT_ST_COUNT)
      t->state_ns[st] += len;
    else
      other += len; /* a state this weft does not know: not useful */
    if (sqlite3_column_type(q, 3) != SQLITE_NULL &&
        !add_wait(c, ti, st, sqlite3_column_int64(q, 3), cs, ce, e, weft_sql_i64(q, 4, -1), weft_sql_i64(q, 5, 0)))
      break;
  }
  sqlite3_reset(q);
  if (c->sql.failed) return false;
  t->useful_ns = t->state_ns[WEFT_ST_RUNNING];
  t->wait_ns = other;
  for (int k = 1; k < WEFT_ST_COUNT; k++) t->wait_ns += t->state_ns[k];
  c->share_base += t->wait_ns - t->state_ns[WEFT_ST_JOIN_WAIT] - t->state_ns[WEFT_ST_CHILD_WAIT];
  return span_index(c, rl) && span_index(c, &c->joins[ti]);
}

int64_t span_sum(const RunList *rl, int64_t x, int64_t y) {
  if (y <= x || !rl->n) return 0;
  /* i: first span ending after x; j: first span starting at or after y */
  size_t lo = 0, hi = rl->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (rl->run[mid].e > x)
      hi = mid;
    else
      lo = mid + 1;
  }
  size_t i = lo;
  lo = i, hi = rl->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (rl->run[mid].s >= y)
      hi = mid;
    else
      lo = mid + 1;
  }
  size_t j = lo;
  if (i >= j) return 0;
  int64_t sum = rl->prefix[j] - rl->prefix[i];
  sum -= max64(0, x - rl->run[i].s);
  sum -= max64(0, rl->run[j - 1].e - y);
  return sum;
}

/* The first of cl's intervals that ends after x. */
static size_t first_seg_after(const CpuList *cl, int64_t x) {
  size_t lo = 0, hi = cl->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cl->v[mid].e > x)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

/* Useful time (on a CPU, outside recorded waits) of selected thread ti
 * inside [x, y): each interval between two scheduler readings contributes
 * its on-CPU time in proportion to its running time inside [x, y) (between
 * readings only the interval's total is known). */
int64_t run_useful(const Ctx *c, size_t ti, int64_t x, int64_t y) {
  const CpuList *cl = &c->cpu[ti];
  size_t lo = first_seg_after(cl, x);
  double sum = 0;
  for (size_t i = lo; i < cl->n && cl->v[i].s < y; i++) {
    const CpuSeg *g = &cl->v[i];
    if (g->run <= 0) continue;
    int64_t in = span_sum(&c->runs[ti], max64(x, g->s), min64(y, g->e));
    sum += (double)g->oncpu * (double)in / (double)g->run;
  }
  return (int64_t)(sum + 0.5);
}

/* What selected thread ti wanted of a CPU inside its recorded waits in
 * [x, y): each interval between two scheduler readings gives its time on
 * a CPU and runnable inside waits to its waits by their length inside
 * [x, y). */
void wait_demand(const Ctx *c, size_t ti, int64_t x, int64_t y, double *cpu, double *runnable) {
  const CpuList *cl = &c->cpu[ti];
  size_t lo = first_seg_after(cl, x);
  *cpu = *runnable = 0;
  for (size_t i = lo; i < cl->n && cl->v[i].s < y; i++) {
    const CpuSeg *g = &cl->v[i];
    int64_t w = g->e - g->s - g->run, a = max64(x, g->s), b = min64(y, g->e);
    if (w <= 0 || b <= a || (g->wcpu <= 0 && g->wrun <= 0)) continue;
    double in = (double)(b - a - span_sum(&c->runs[ti], a, b)) / (double)w;
    *cpu += (double)g->wcpu * in;
    *runnable += (double)g->wrun * in;
  }
}

/* A thread's time in one interval [s, e) of its life, split four ways
 * (docs/report-json.md, "Thread time"). dc/dr: the scheduler's on-CPU and
 * runnable time in the interval; known 0: no readings cover it (its running
 * time then counts as on a CPU, and as assumed). The running spans are the
 * time outside recorded waits; time on a CPU or runnable is placed there
 * first, so offcpu is a lower bound of the time off a CPU outside any
 * recorded wait, and waiting (in a recorded wait, neither runnable nor on a
 * CPU outside it) the matching upper bound. */
typedef struct {
  int64_t oncpu, runnable, waiting, offcpu, assumed, interpolated;
  double by_state[WEFT_ST_COUNT]; /* waiting, by the state of the wait (0: unknown states, gaps) */
} TimeSplit;

static void split_interval(Ctx *c, size_t ti, int64_t s, int64_t e, bool known, int64_t dc, int64_t dr, size_t *wi,
                           TimeSplit *out) {
  int64_t len = e - s, run = span_sum(&c->runs[ti], s, e), w = len - run;
  int64_t oc, r = 0, off = 0, cw = 0, rw = 0;
  if (!known) {
    oc = run;
    out->assumed += run;
  } else {
    dc = min64(max64(dc, 0), len);
    dr = min64(max64(dr, 0), len - dc);
    oc = min64(dc, run);
    cw = min64(dc - oc, w); /* on a CPU inside waits: spinning, the wait's own calls */
    off = max64(0, run - oc - dr);
    r = min64(dr, len - oc - off - cw);
    rw = max64(0, r - min64(dr, run - oc)); /* runnable inside waits */
  }
  int64_t wt = len - oc - off - r;
  out->oncpu += oc;
  out->runnable += r;
  out->offcpu += off;
  out->waiting += wt;
  if (c->cpu && (run > 0 || cw > 0 || rw > 0)) {
    CpuSeg g = {s, e, run, oc, cw, rw};
    if (VEC_PUSH(c->cpu[ti].v, c->cpu[ti].n, c->cpu[ti].cap, g) < 0) oom(c);
  }
  if (wt <= 0 || w <= 0) return;
  /* the waiting time goes to the kinds of wait in the interval, by their length */
  const WSpanList *wl = &c->waits[ti];
  int64_t known_w = 0;
  while (*wi < wl->n && wl->v[*wi].e <= s) (*wi)++;
  for (size_t k = *wi; k < wl->n && wl->v[k].s < e; k++) {
    int64_t part = min64(e, wl->v[k].e) - max64(s, wl->v[k].s);
    if (part <= 0) continue;
    out->by_state[wl->v[k].st] += (double)wt * (double)part / (double)w;
    known_w += part;
  }
  if (known_w < w) out->by_state[0] += (double)wt * (double)(w - known_w) / (double)w;
}

/* The four-way split of thread t inside the range, from its scheduler
 * readings (sched_sample, cumulative from its start, and the last reading in
 * thread) and its states; also cpu_ns/runq_ns, the readings' own totals in
 * the range (interpolated linearly where the range cuts an interval), -1
 * for a thread without readings. */
static bool thread_time(Ctx *c, sqlite3_stmt *q, const ThreadInfo *ti, size_t idx, WeftThreadMetrics *t) {
  typedef struct {
    int64_t ts, cpu, runq;
  } Pt;
  Pt *pt = NULL;
  size_t n = 0, cap = 0;
  if (VEC_PUSH(pt, n, cap, ((Pt){ti->start, 0, 0})) < 0) return oom(c);
  sqlite3_bind_int64(q, 1, ti->utid);
  while (weft_sql_step(&c->sql, q)) {
    Pt p = {sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2)};
    if (p.ts < pt[n - 1].ts) continue;
    if (VEC_PUSH(pt, n, cap, p) < 0) {
      oom(c);
      break;
    }
  }
  sqlite3_reset(q);
  if (!c->sql.failed && ti->cpu >= 0 && ti->end >= pt[n - 1].ts &&
      VEC_PUSH(pt, n, cap, ((Pt){ti->end, ti->cpu, max64(ti->runq, 0)})) < 0)
    oom(c);
  if (c->sql.failed) {
    free(pt);
    return false;
  }
  int64_t lo = max64(c->a, ti->start), hi = min64(c->b, ti->end);
  TimeSplit sp = {0};
  size_t wi = 0;
  double dcsum = 0, drsum = 0;
  int64_t at = lo; /* the split so far covers [lo, at) */
  for (size_t k = 0; n > 1 && k + 1 < n && at < hi; k++) {
    int64_t s = max64(pt[k].ts, lo), e = min64(pt[k + 1].ts, hi);
    if (e <= s) continue;
    double f = (double)(e - s) / (double)(pt[k + 1].ts - pt[k].ts);
    double dc = f * (double)max64(pt[k + 1].cpu - pt[k].cpu, 0), dr = f * (double)max64(pt[k + 1].runq - pt[k].runq, 0);
    /* a reading can include time before the thread's first record (the
     * first thread of a process: since the fork): at most the interval */
    int64_t ic = min64((int64_t)(dc + 0.5), e - s), ir = min64((int64_t)(dr + 0.5), e - s - ic);
    dcsum += (double)ic;
    drsum += (double)ir;
    split_interval(c, idx, s, e, true, ic, ir, &wi, &sp);
    if (e - s < pt[k + 1].ts - pt[k].ts) sp.interpolated += e - s; /* the range cuts the interval */
    at = e;
  }
  if (at < hi) split_interval(c, idx, at, hi, false, 0, 0, &wi, &sp); /* after the last reading, or none */
  if (n > 1) {
    t->cpu_ns = (int64_t)(dcsum + 0.5);
    t->runq_ns = (int64_t)(drsum + 0.5);
  }
  free(pt);
  t->time = (WeftTimeSplit){.oncpu_ns = sp.oncpu,
                            .runnable_ns = sp.runnable,
                            .waiting_ns = sp.waiting,
                            .offcpu_ns = sp.offcpu,
                            .assumed_ns = sp.assumed,
                            .interpolated_ns = sp.interpolated};
  for (int k = 0; k < WEFT_ST_COUNT; k++) t->time.waiting_state_ns[k] = (int64_t)(sp.by_state[k] + 0.5);
  t->useful_ns = sp.oncpu;
  return !c->sql.failed;
}

/* A lock hold of a selected thread, clipped to the range. */
static int add_hold(const WeftHold *h, void *user) {
  Ctx *c = user;
  const ThreadInfo *ti = thread_info(c, h->utid);
  if (!ti || ti->idx < 0) return 0;
  int64_t s = h->start_ns, e = sat_add(s, max64(h->dur_ns, 0)), cs, ce;
  if (!clip(s, e, c->a, c->b, &cs, &ce)) return 0;
  ObjAcc *o = obj_acc(c, h->object_id, NULL);
  if (!o) return c->sql.failed;
  o->holds++;
  o->hold_ns += ce - cs;
  o->hold_max = max64(o->hold_max, ce - cs);
  if (s >= c->a) o->hold_starts++;
  return 0;
}

/* Hand-offs to one selected thread, through the flow_to index. */
static bool load_thread_flows(Ctx *c, sqlite3_stmt *qf, size_t ti) {
  int64_t utid = c->m->threads[ti].utid;
  sqlite3_bind_int64(qf, 1, utid);
  sqlite3_bind_int64(qf, 2, c->a);
  sqlite3_bind_int64(qf, 3, c->b);
  while (!c->sql.failed && weft_sql_step(&c->sql, qf)) {
    ObjAcc *o = obj_acc(c, sqlite3_column_int64(qf, 0), NULL);
    if (o) o->handoffs++;
  }
  sqlite3_reset(qf);
  return !c->sql.failed;
}

/* Lock holds from the blocks with rowids in [hlo, hhi) and, with qf, the
 * hand-offs with rowids in [flo, fhi), by a scan of the tables: for a wide
 * range over all processes it costs less than the indexes, whose every row
 * is one more lookup in the table. Blocks are few (256 holds each), so they
 * are always read this way. */
static bool load_chunk_holds(Ctx *c, sqlite3_stmt *qh, sqlite3_stmt *qf, int64_t hlo, int64_t hhi, int64_t flo,
                             int64_t fhi) {
  sqlite3_stmt *q[2] = {qh, qf};
  int64_t lo[2] = {hlo, flo}, hi[2] = {hhi, fhi};
  for (int k = 0; k < 2; k++) {
    if (!q[k]) continue;
    sqlite3_bind_int64(q[k], 1, c->a);
    sqlite3_bind_int64(q[k], 2, c->b);
    sqlite3_bind_int64(q[k], 3, lo[k]);
    sqlite3_bind_int64(q[k], 4, hi[k]);
    while (!c->sql.failed && weft_sql_step(&c->sql, q[k])) {
      if (k == 0) {
        if (weft_holds_from_row(q[k], 0, c->a, c->b, add_hold, c) < 0 && !c->sql.failed)
          weft_sql_fail(&c->sql, "lock holds of object %lld: corrupt block", (long long)sqlite3_column_int64(q[k], 0));
      } else {
        const ThreadInfo *ti = thread_info(c, sqlite3_column_int64(q[k], 0));
        if (!ti || ti->idx < 0) continue;
        ObjAcc *o = obj_acc(c, sqlite3_column_int64(q[k], 1), NULL);
        if (o) o->handoffs++;
      }
    }
    sqlite3_reset(q[k]);
  }
  return !c->sql.failed;
}

/* The counts of the selected threads (contention first: lock_count rows, one
 * per thread, object and flush interval), each prorated to its overlap with
 * the range (a range that cuts an interval makes the figures estimates). */
static bool load_counts(Ctx *c) {
  if (c->m->holds_all) return true;
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT object_id, utid, start_ns, end_ns, acquisitions, failed_tries, "
                                              "hold_samples, hold_sample_ns, hold_sample_max_ns FROM lock_count "
                                              "WHERE start_ns <= ?2 AND end_ns >= ?1");
  if (!q) return false;
  sqlite3_bind_int64(q, 1, c->a);
  sqlite3_bind_int64(q, 2, c->b);
  while (!c->sql.failed && weft_sql_step(&c->sql, q)) {
    const ThreadInfo *ti = thread_info(c, weft_sql_i64(q, 1, 0));
    if (!ti || ti->idx < 0) continue;
    int64_t s = weft_sql_i64(q, 2, 0), e = weft_sql_i64(q, 3, 0), cs, ce;
    double f = 1;
    if (e > s) {
      if (!clip(s, e, c->a, c->b, &cs, &ce)) continue;
      f = (double)(ce - cs) / (double)(e - s);
    } else if (s < c->a || s > c->b) {
      continue;
    }
    ObjAcc *o = obj_acc(c, weft_sql_i64(q, 0, 0), NULL);
    if (!o) break;
    o->counted = true;
    o->cnt_prorated |= f < 1;
    o->cnt_acq += f * (double)weft_sql_i64(q, 4, 0);
    o->cnt_fail += f * (double)weft_sql_i64(q, 5, 0);
    o->cnt_samples += f * (double)weft_sql_i64(q, 6, 0);
    o->cnt_sample_ns += f * (double)weft_sql_i64(q, 7, 0);
    o->cnt_sample_max = max64(o->cnt_sample_max, weft_sql_i64(q, 8, 0));
  }
  sqlite3_finalize(q);
  return !c->sql.failed;
}

/* ---- loading on several threads ----
 *
 * The per-thread loads (states; holds and hand-offs) are independent, and
 * reading SQLite rows is most of the time of a report, so they run on up to
 * WEFT_MAX_JOBS threads: the caller's, on its connection, and workers with
 * their own read-only connections to the same file. Each worker has a copy
 * of the Ctx whose accumulators (objects, call sites, share_base, error)
 * are its own; per-thread results go straight to the thread's slots, each
 * thread index being taken by one worker. Work is handed out one thread (or
 * one rowid chunk of the tables) at a time. After the join, the workers'
 * accumulators are merged into the caller's, and every list built from them
 * is sorted, so the result does not depend on the schedule. */

#define WEFT_MAX_JOBS       8
#define HOLD_CHUNKS_PER_JOB 4

typedef struct {
  atomic_size_t next_thread; /* states: the next thread index to load */
  atomic_size_t next_holds;  /* hand-offs, per thread: the next thread index */
  atomic_size_t next_chunk;  /* holds (and hand-offs), by chunks: the next chunk */
  atomic_bool abort;         /* a worker failed: stop taking work */
  bool objects;              /* load holds and hand-offs too */
  bool chunked;              /* hand-offs too by rowid chunks of the table */
  size_t nchunks;
  int64_t hold_step, flow_step; /* rowids per chunk */
} Shared;

static bool load_work(Ctx *c, Shared *sh) {
  WeftMetrics *m = c->m;
  sqlite3_stmt *q0 = weft_sql_prepare(&c->sql, "SELECT max(start_ns) FROM thread_state "
                                               "WHERE utid = ?1 AND start_ns <= ?2");
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT start_ns, dur_ns, state, object_id, stack_id, result "
                                              "FROM thread_state WHERE utid = ?1 AND start_ns >= ?2 AND start_ns < ?3 "
                                              "ORDER BY start_ns");
  sqlite3_stmt *qh = NULL, *qf = NULL;
  if (sh->objects)
    qh = weft_sql_prepare(&c->sql, "SELECT object_id, start_ns, data FROM hold_block NOT INDEXED "
                                   "WHERE rowid >= ?3 AND rowid < ?4 AND start_ns < ?2 AND end_ns >= ?1");
  if (sh->objects && sh->chunked)
    qf = weft_sql_prepare(&c->sql, "SELECT to_utid, object_id FROM flow NOT INDEXED WHERE rowid >= ?3 AND rowid < ?4 "
                                   "AND kind = 1 AND to_ns > ?1 AND to_ns <= ?2 AND object_id IS NOT NULL");
  else if (sh->objects)
    qf = weft_sql_prepare(&c->sql, "SELECT object_id FROM flow WHERE to_utid = ?1 AND to_ns > ?2 AND to_ns <= ?3 "
                                   "AND kind = 1 AND object_id IS NOT NULL");
  size_t i;
  while (!c->sql.failed && !atomic_load(&sh->abort) && (i = atomic_fetch_add(&sh->next_thread, 1)) < m->nthreads)
    load_thread_states(c, q0, q, i);
  if (sh->objects) {
    while (!c->sql.failed && !atomic_load(&sh->abort) && (i = atomic_fetch_add(&sh->next_chunk, 1)) < sh->nchunks) {
      int64_t k = (int64_t)i;
      bool last = i + 1 == sh->nchunks;
      load_chunk_holds(c, qh, sh->chunked ? qf : NULL, k * sh->hold_step, last ? INT64_MAX : (k + 1) * sh->hold_step,
                       k * sh->flow_step, last ? INT64_MAX : (k + 1) * sh->flow_step);
    }
  }
  if (sh->objects && !sh->chunked) {
    while (!c->sql.failed && !atomic_load(&sh->abort) && (i = atomic_fetch_add(&sh->next_holds, 1)) < m->nthreads)
      load_thread_flows(c, qf, i);
  }
  sqlite3_finalize(q0);
  sqlite3_finalize(q);
  sqlite3_finalize(qh);
  sqlite3_finalize(qf);
  if (c->sql.failed) atomic_store(&sh->abort, true);
  return !c->sql.failed;
}

typedef struct {
  Ctx w;
  Shared *sh;
  const char *path;
  char err[256];
  pthread_t thread;
  bool started;
} Worker;

static void *worker_main(void *arg) {
  Worker *wk = arg;
  Ctx *c = &wk->w;
  if (sqlite3_open_v2(wk->path, &c->sql.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    /* no connection: leave the work to the others */
    sqlite3_close(c->sql.db);
    c->sql.db = NULL;
    return NULL;
  }
  sqlite3_exec(c->sql.db, "BEGIN", NULL, NULL, NULL);
  load_work(c, wk->sh);
  sqlite3_exec(c->sql.db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(c->sql.db);
  c->sql.db = NULL;
  return NULL;
}

static void acc_free(Ctx *c) {
  for (size_t i = 0; i < c->nobjs; i++) free(c->objs[i].durs);
  free(c->objs);
  weft_hmap_free(&c->obj_by_id);
  free(c->sites);
  weft_hmap_free(&c->site_by_key);
  c->objs = NULL;
  c->sites = NULL;
  c->nobjs = c->nsites = c->capobjs = c->capsites = 0;
}

/* Add worker w's accumulators to c's. */
static bool merge_acc(Ctx *c, Ctx *w) {
  size_t *map = malloc((w->nobjs ? w->nobjs : 1) * sizeof *map);
  if (!map) return oom(c);
  for (size_t i = 0; i < w->nobjs && !c->sql.failed; i++) {
    ObjAcc *wo = &w->objs[i];
    ObjAcc *o = obj_acc(c, wo->object_id, &map[i]);
    if (!o) break;
    if (!o->ndurs) {
      free(o->durs);
      o->durs = wo->durs;
      o->ndurs = wo->ndurs;
      o->capdurs = wo->capdurs;
      wo->durs = NULL;
      wo->ndurs = 0;
    } else if (wo->ndurs) {
      if (vec_reserve((void **)&o->durs, &o->capdurs, o->ndurs + wo->ndurs, sizeof *o->durs) < 0) {
        oom(c);
        break;
      }
      memcpy(o->durs + o->ndurs, wo->durs, wo->ndurs * sizeof *o->durs);
      o->ndurs += wo->ndurs;
    }
    o->wait_ns += wo->wait_ns;
    if (wo->wmax_utid >= 0 && longest_wait(o, wo->wait_max, wo->wmax_s, wo->wmax_utid))
      o->wmax_s = wo->wmax_s, o->wmax_e = wo->wmax_e, o->wmax_utid = wo->wmax_utid;
    o->wait_max = max64(o->wait_max, wo->wait_max);
    o->waits += wo->waits;
    o->contended += wo->contended;
    o->timeouts += wo->timeouts;
    o->waiters += wo->waiters; /* each thread was loaded by one worker */
    o->holds += wo->holds;
    o->hold_ns += wo->hold_ns;
    o->hold_max = max64(o->hold_max, wo->hold_max);
    o->hold_starts += wo->hold_starts;
    o->handoffs += wo->handoffs;
  }
  for (size_t i = 0; i < w->nsites && !c->sql.failed; i++) {
    const SiteAcc *ws = &w->sites[i];
    size_t oi = map[ws->obj], si;
    if (!weft_hmap_get(&c->site_by_key, (int64_t)oi, ws->stack_id, &si)) {
      SiteAcc sa = {.obj = oi, .stack_id = ws->stack_id};
      if (VEC_PUSH(c->sites, c->nsites, c->capsites, sa) < 0 ||
          weft_hmap_put(&c->site_by_key, (int64_t)oi, ws->stack_id, c->nsites - 1) < 0) {
        oom(c);
        break;
      }
      si = c->nsites - 1;
    }
    c->sites[si].waits += ws->waits;
    c->sites[si].wait_ns += ws->wait_ns;
  }
  c->share_base += w->share_base;
  free(map);
  return !c->sql.failed;
}

/* max(rowid) of table, or 0. */
static int64_t max_rowid(Ctx *c, const char *sql) {
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, sql);
  int64_t v = q && weft_sql_step(&c->sql, q) ? weft_sql_i64(q, 0, 0) : 0;
  sqlite3_finalize(q);
  return v;
}

static bool load_all(Ctx *c, bool objects, int jobs) {
  WeftMetrics *m = c->m;
  Shared sh = {.objects = objects};
  atomic_init(&sh.next_thread, 0);
  atomic_init(&sh.next_holds, 0);
  atomic_init(&sh.next_chunk, 0);
  atomic_init(&sh.abort, false);

  if (jobs <= 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    jobs = n > 0 ? (int)n : 1;
  }
  if (jobs > WEFT_MAX_JOBS) jobs = WEFT_MAX_JOBS;
  if ((size_t)jobs > m->nthreads) jobs = m->nthreads ? (int)m->nthreads : 1;
  const char *path = sqlite3_db_filename(c->sql.db, "main");
  if (!path || !*path || !sqlite3_threadsafe()) jobs = 1;

  if (objects) {
    int64_t mh = max_rowid(c, "SELECT max(rowid) FROM hold_block");
    sh.nchunks = (size_t)jobs * HOLD_CHUNKS_PER_JOB;
    sh.hold_step = mh / (int64_t)sh.nchunks + 1;
  }
  if (objects && m->pid < 0 && (c->b - c->a) >= m->recording_end_ns / 4) {
    int64_t mf = max_rowid(c, "SELECT max(rowid) FROM flow");
    sh.chunked = true;
    sh.flow_step = mf / (int64_t)sh.nchunks + 1;
  }
  if (c->sql.failed) return false;

  Worker *wk = calloc((size_t)jobs, sizeof *wk);
  if (!wk) return oom(c);
  for (int i = 1; i < jobs; i++) {
    wk[i].w = *c;
    Ctx *w = &wk[i].w;
    weft_sql_init(&w->sql, NULL, wk[i].err, sizeof wk[i].err, WEFT_ANALYSIS_SQL_PREFIX);
    w->objs = NULL;
    w->nobjs = w->capobjs = 0;
    memset(&w->obj_by_id, 0, sizeof w->obj_by_id);
    w->sites = NULL;
    w->nsites = w->capsites = 0;
    memset(&w->site_by_key, 0, sizeof w->site_by_key);
    w->share_base = 0;
    wk[i].sh = &sh;
    wk[i].path = path;
    wk[i].started = pthread_create(&wk[i].thread, NULL, worker_main, &wk[i]) == 0;
  }
  load_work(c, &sh); /* the caller's thread is a worker too */
  for (int i = 1; i < jobs; i++) {
    if (!wk[i].started) continue;
    pthread_join(wk[i].thread, NULL);
    if (wk[i].w.sql.failed && !c->sql.failed) weft_sql_fail(&c->sql, "%s", wk[i].err);
    if (!c->sql.failed) merge_acc(c, &wk[i].w);
    acc_free(&wk[i].w);
  }
  free(wk);
  return !c->sql.failed;
}
/* ------------------------------------------------------------------------ */
/* summary and processes                                                     */

static void time_add(WeftTimeSplit *to, const WeftTimeSplit *x) {
  to->oncpu_ns += x->oncpu_ns;
  to->runnable_ns += x->runnable_ns;
  to->waiting_ns += x->waiting_ns;
  to->offcpu_ns += x->offcpu_ns;
  to->assumed_ns += x->assumed_ns;
  to->interpolated_ns += x->interpolated_ns;
  for (int k = 0; k < WEFT_ST_COUNT; k++) to->waiting_state_ns[k] += x->waiting_state_ns[k];
}

static bool build_summary(Ctx *c) {
  WeftMetrics *m = c->m;
  WeftSummary *s = &m->summary;
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT ts_ns, cpu_ns, runq_ns FROM sched_sample WHERE utid = ?1 "
                                              "ORDER BY ts_ns");
  if (!q) return false;
  /* useful time is time on a CPU outside recorded waits (thread_time) */
  for (size_t i = 0; i < m->nthreads && !c->sql.failed; i++)
    thread_time(c, q, thread_info(c, m->threads[i].utid), i, &m->threads[i]);
  sqlite3_finalize(q);
  if (c->sql.failed) return false;
  /* other processes' CPU time during the run: the machine's less every
   * thread of the recording (the whole run, whatever the range) */
  int64_t own = 0;
  for (size_t i = 0; i < c->nthr; i++) {
    own += max64(c->thr[i].cpu, 0);
    if (c->thr[i].idx < 0) m->unselected_cpu_ns += max64(c->thr[i].cpu, 0);
  }
  if (m->machine_busy_ns >= 0) m->other_cpu_ns = max64(m->machine_busy_ns - own, 0);

  s->nprocesses = m->nprocesses;
  s->nthreads = m->nthreads;
  s->span_ns = c->b - c->a;
  s->cpu_ns = s->runq_ns = -1;
  for (size_t i = 0; i < m->nthreads; i++) {
    const WeftThreadMetrics *t = &m->threads[i];
    s->thread_ns += t->lifetime_ns;
    for (int k = 0; k < WEFT_ST_COUNT; k++) s->state_ns[k] += t->state_ns[k];
    s->useful_ns += t->useful_ns;
    s->wait_ns += t->wait_ns;
    time_add(&s->time, &t->time);
    if (t->cpu_ns >= 0) s->cpu_ns = max64(s->cpu_ns, 0) + t->cpu_ns;
    if (t->runq_ns >= 0) s->runq_ns = max64(s->runq_ns, 0) + t->runq_ns;
    size_t pi;
    if (weft_hmap_get(&c->proc_by_upid, t->upid, 0, &pi) && c->procs[pi].idx >= 0) {
      WeftProcessMetrics *p = &m->processes[c->procs[pi].idx];
      p->nthreads++;
      p->thread_ns += t->lifetime_ns;
      for (int k = 0; k < WEFT_ST_COUNT; k++) p->state_ns[k] += t->state_ns[k];
      p->useful_ns += t->useful_ns;
      p->wait_ns += t->wait_ns;
      time_add(&p->time, &t->time);
      if (t->cpu_ns >= 0) p->cpu_ns = max64(p->cpu_ns, 0) + t->cpu_ns;
      if (t->runq_ns >= 0) p->runq_ns = max64(p->runq_ns, 0) + t->runq_ns;
    }
  }
  return summary_pops(c);
}

/* The POP figures of the range (its threads over b - a) and of each process
 * (its threads over its lifetime in the range), their teams without the MPI
 * library's threads (they poll from MPI_Init to MPI_Finalize and do none of
 * the program's work: two a rank would make a team's load balance a third of
 * the ranks'). build_summary has no MPI library threads yet; build_mpi,
 * which finds them, calls it again. */
bool summary_pops(Ctx *c) {
  WeftMetrics *m = c->m;
  WeftSummary *s = &m->summary;
  int64_t *useful = malloc((m->nthreads ? m->nthreads : 1) * sizeof *useful);
  if (!useful) return oom(c);
  size_t n = 0;
  for (size_t i = 0; i < m->nthreads; i++)
    if (!weft_mpi_library_thread(m, m->threads[i].utid)) useful[n++] = m->threads[i].useful_ns;
  s->pop_left_out = m->nthreads - n;
  weft_pop(useful, n, s->span_ns, &s->pop);
  for (size_t pi = 0; pi < m->nprocesses; pi++) {
    WeftProcessMetrics *p = &m->processes[pi];
    n = 0;
    for (size_t i = 0; i < m->nthreads; i++)
      if (m->threads[i].upid == p->upid && !weft_mpi_library_thread(m, m->threads[i].utid))
        useful[n++] = m->threads[i].useful_ns;
    weft_pop(useful, n, p->lifetime_ns, &p->pop);
  }
  free(useful);
  return true;
}

/* With a pid filter, or launchers left out, an open end of the range is the
 * selected processes' first start or last end instead of the recording's.
 * Called after load_processes (which clipped them to the recording). */
static bool narrow_to_processes(Ctx *c, const WeftMetricsQuery *q, int64_t end) {
  WeftMetrics *m = c->m;
  m->whole_program = m->whole;
  if ((m->pid < 0 && !m->launchers) || !m->nprocesses) return true;
  /* launchers left out, every one ended when the program began (not an MPI job's, which run beside the
   * ranks, nor a daemon a launcher left running): the program's threads are replayed alone, from its
   * first start */
  bool program = m->whole && m->pid < 0 && !m->mpi_launchers;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (size_t i = 0; i < c->nprocs; i++)
    if (c->procs[i].sel) {
      lo = min64(lo, c->procs[i].start);
      hi = max64(hi, c->procs[i].end);
    }
  for (size_t i = 0; i < c->nprocs; i++)
    if (!c->procs[i].sel && c->procs[i].end > lo) program = false;
  int64_t a = q->start_ns == WEFT_TIME_OPEN_START ? max64(lo, c->a) : c->a;
  int64_t b = q->end_ns == WEFT_TIME_OPEN_END ? min64(hi, c->b) : c->b;
  if (a >= b) return true; /* a process of no duration: keep the range */
  c->a = m->range_start_ns = a;
  c->b = m->range_end_ns = b;
  m->whole = a == 0 && b == end;
  m->whole_program = m->whole || program;
  for (size_t i = 0; i < m->nprocesses; i++) {
    int64_t cs, ce;
    clip(m->processes[i].start_ns, m->processes[i].end_ns, a, b, &cs, &ce);
    m->processes[i].lifetime_ns = ce - cs;
  }
  return true;
}
/* ------------------------------------------------------------------------ */
/* the entry points                                                          */

void weft_metrics_query_init(WeftMetricsQuery *q) {
  q->start_ns = WEFT_TIME_OPEN_START;
  q->end_ns = WEFT_TIME_OPEN_END;
  q->pid = -1;
  q->what = WEFT_METRICS_ALL;
  q->jobs = 0;
  q->all_processes = 0;
  q->whatifs = NULL;
  q->nwhatifs = 0;
  q->no_replay = 0;
  q->replay_timeline = 0;
}

static void ctx_free(Ctx *c) {
  free(c->procs);
  weft_hmap_free(&c->proc_by_upid);
  free(c->thr);
  weft_hmap_free(&c->thr_by_utid);
  for (size_t i = 0; i < c->m->nthreads; i++) {
    if (c->runs) {
      free(c->runs[i].run);
      free(c->runs[i].prefix);
    }
    if (c->ios) free(c->ios[i].run);
    if (c->waits) free(c->waits[i].v);
    if (c->cpu) free(c->cpu[i].v);
    if (c->joins) {
      free(c->joins[i].run);
      free(c->joins[i].prefix);
    }
  }
  free(c->runs);
  free(c->ios);
  free(c->joins);
  free(c->floor_needed);
  free(c->waits);
  free(c->cpu);
  acc_free(c);
  free(c->stacks);
  weft_hmap_free(&c->stack_by_id);
  sqlite3_finalize(c->stack_q);
}

bool metrics_begin(Ctx *c, sqlite3 *db, const WeftMetricsQuery *q, unsigned what, char *err, size_t errlen) {
  *c = (Ctx){0};
  weft_sql_init(&c->sql, db, err, errlen, WEFT_ANALYSIS_SQL_PREFIX);
  WeftMetrics *m = calloc(1, sizeof *m);
  Priv *priv = calloc(1, sizeof *priv);
  if (!m || !priv) {
    free(m);
    free(priv);
    return oom(c);
  }
  m->_priv = priv;
  m->what = what;
  m->pid = q->pid < 0 ? -1 : q->pid;
  c->m = m;
  c->pool = &priv->pool;
  /* one read transaction: a consistent snapshot, and faster. A transaction
   * of the caller's may hold changes other connections cannot see: then no
   * worker threads. */
  c->txn = sqlite3_get_autocommit(db);
  if (c->txn && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) weft_sql_error(&c->sql);
  return true;
}

/* The range of q over a recording that ends at end (meta). */
static bool resolve_range(Ctx *c, const WeftMetricsQuery *q, int64_t end) {
  WeftMetrics *m = c->m;
  int64_t a = q->start_ns == WEFT_TIME_OPEN_START ? 0 : q->start_ns;
  int64_t b = q->end_ns == WEFT_TIME_OPEN_END ? end : q->end_ns;
  char b1[32], b2[32], b3[32];
  if (end <= 0)
    weft_sql_fail(&c->sql, "the recording is empty");
  else if (max64(a, 0) >= min64(b, end))
    weft_sql_fail(&c->sql, "the range %s..%s does not overlap the recording (0 ns..%s)",
                  a < 0 ? "-" : weft_format_ns(b1, sizeof b1, a), b < 0 ? "-" : weft_format_ns(b2, sizeof b2, b),
                  weft_format_ns(b3, sizeof b3, end));
  c->a = max64(a, 0);
  c->b = min64(b, end);
  m->range_start_ns = c->a;
  m->range_end_ns = c->b;
  m->whole = c->a == 0 && c->b == end;
  return !c->sql.failed;
}

bool metrics_load(Ctx *c, const WeftMetricsQuery *q) {
  bool objects = (c->m->what & WEFT_METRICS_OBJECTS) != 0;
  int64_t end = 0;
  return !c->sql.failed && load_meta(c, &end) && load_hosts(c) && resolve_range(c, q, end) &&
         load_processes(c, c->m->pid, q->all_processes || q->start_ns != WEFT_TIME_OPEN_START) &&
         narrow_to_processes(c, q, end) && load_threads(c) && load_all(c, objects, c->txn ? q->jobs : 1) &&
         (!objects || load_counts(c)) && build_summary(c);
}

void metrics_end(Ctx *c) {
  if (c->txn) sqlite3_exec(c->sql.db, "COMMIT", NULL, NULL, NULL);
  ctx_free(c);
}

void metrics_free_model(WeftMetrics *m) {
  free(m->processes);
  free(m->hosts);
  free(m->threads);
  free(m->objects);
  free(m->regions);
  free(m->parallelism.ns);
  free(m->parallelism.fraction);
  Priv *priv = m->_priv;
  if (priv) {
    pool_free(&priv->pool);
    free(priv);
  }
  free(m);
}

const WeftThreadMetrics *weft_metrics_thread(const WeftMetrics *m, int64_t utid) {
  size_t lo = 0, hi = m->nthreads;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (m->threads[mid].utid < utid)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < m->nthreads && m->threads[lo].utid == utid ? &m->threads[lo] : NULL;
}

const WeftProcessMetrics *weft_metrics_process(const WeftMetrics *m, int64_t upid) {
  for (size_t i = 0; i < m->nprocesses; i++)
    if (m->processes[i].upid == upid) return &m->processes[i];
  return NULL;
}

int64_t main_utid(const WeftMetrics *m, int64_t upid) {
  for (size_t i = 0; i < m->nthreads; i++)
    if (m->threads[i].upid == upid && m->threads[i].is_main) return m->threads[i].utid;
  return -1;
}

const char *weft_metrics_thread_label(const WeftMetrics *m, int64_t utid, char *buf, size_t len) {
  const WeftThreadMetrics *t = weft_metrics_thread(m, utid);
  if (!t)
    snprintf(buf, len, "utid %lld", (long long)utid);
  else if (t->name && *t->name)
    snprintf(buf, len, "%s [%lld]", t->name, (long long)t->tid);
  else
    snprintf(buf, len, "thread [%lld]", (long long)t->tid);
  return buf;
}
