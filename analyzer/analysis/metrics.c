/* metrics.c - the analyses of a recording (see metrics.h, docs/report-json.md).
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
 *     site accumulators.
 * Then the lock holds and lock hand-offs of the selected threads (through
 * the lock_hold_thread and flow_to indexes, or for a wide range of all
 * processes by scanning the tables), and, for the regions, all waits of each
 * barrier seen (thread_state_object index), the create and join flows, and
 * the marks with a duration. Reading rows is most of the cost, so these
 * loads run on one thread per CPU (see "loading on several threads").
 *
 * Regions are defined over the whole recording and then clipped to the
 * range, so that a region means the same thing whatever the range.
 *
 * Memory: O(running intervals + waits in the range). The result is
 * immutable; weft_metrics_compute may be called from any thread, on a
 * connection no other thread uses meanwhile.
 */
#include "metrics.h"
#include "weft-hmap.h"

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

#include "critpath.h"
#include "holds.h"
#include "naming.h"
#include "python.h"
#include "weft-trace.h"

/* Finding thresholds (docs/report-json.md, "Findings"). */
#define FIND_MIN_COST_DIV      100    /* a finding costs >= 1/100 of the thread time in the range */
#define FIND_IMBALANCE_LB      0.90   /* regions with LB below this are imbalanced */
#define FIND_SERIAL_SHARE      0.10   /* at most one thread running >= 10% of the range */
#define FIND_RUNQ_SHARE        0.10   /* runq >= 10% of the thread time */

/* ------------------------------------------------------------------------ */
/* allocation                                                                */

typedef struct {
  void  **p;
  size_t  n, cap;
} Pool;

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

static void *pool_calloc(Pool *pl, size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  return pool_adopt(pl, p) == 0 ? p : NULL;
}

static char *pool_strdup(Pool *pl, const char *s) {
  char *d = strdup(s ? s : "");
  return pool_adopt(pl, d) == 0 ? d : NULL;
}

static char *pool_printf(Pool *pl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *pool_printf(Pool *pl, const char *fmt, ...) {
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

/* Grow *v (elements of size sz) to hold at least n + 1; 0 or -1. */
static int vec_reserve(void **v, size_t *cap, size_t n, size_t sz) {
  if (n < *cap) return 0;
  size_t nc = *cap ? *cap * 2 : 16;
  while (nc <= n) nc *= 2;
  void *nv = realloc(*v, nc * sz);
  if (!nv) return -1;
  *v = nv;
  *cap = nc;
  return 0;
}
#define VEC_PUSH(vec, n, cap, val)                                                                        \
  (vec_reserve((void **)&(vec), &(cap), (n), sizeof *(vec)) == 0 ? ((vec)[(n)++] = (val), 0) : -1)


/* ------------------------------------------------------------------------ */
/* small helpers                                                             */

static int64_t sat_add(int64_t x, int64_t y) {
  int64_t r;
  if (__builtin_add_overflow(x, y, &r)) return y > 0 ? INT64_MAX : INT64_MIN;
  return r;
}
static int64_t max64(int64_t x, int64_t y) { return x > y ? x : y; }
static int64_t min64(int64_t x, int64_t y) { return x < y ? x : y; }

/* [s, e) clipped to [a, b) as [*cs, *ce); true if it is inside the range:
 * a positive overlap, or a zero-length interval at an instant in [a, b). */
static bool clip(int64_t s, int64_t e, int64_t a, int64_t b, int64_t *cs, int64_t *ce) {
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
static void radix_sort(int64_t *v, int64_t *tmp, size_t *count, size_t n) {
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

typedef struct {
  int64_t     upid, pid, image, parent_upid, exec_from;
  const char *cmdline, *exe, *end_how;
  int64_t     start, end;
  bool        has_exit;
  int64_t     exit_status;
  bool        sel;            /* matches the pid filter */
  ptrdiff_t   idx;            /* in m->processes, or -1 */
} ProcInfo;

typedef struct {
  int64_t     utid, upid, tid, pid, creator;
  const char *name, *end_how;
  int         is_main;
  int64_t     start, end;
  int64_t     cpu, runq;      /* -1: NULL */
  bool        sel;            /* its process is selected */
  ptrdiff_t   idx;            /* in m->threads, or -1 */
} ThreadInfo;

typedef struct {
  int64_t s, e;
} Span;

/* Sorted, non-overlapping spans of one thread with prefix sums. */
typedef struct {
  Span    *run;
  size_t   n, cap;
  int64_t *prefix;            /* n + 1: prefix[i] = sum of lengths of run[0..i) */
} RunList;

/* The waits of one thread (every state but running), in time order. */
typedef struct {
  int64_t s, e;
  int     st;                 /* WEFT_ST_*; 0 for a state this weft does not know */
} WSpan;

typedef struct {
  WSpan  *v;
  size_t  n, cap;
} WSpanList;

/* One interval between two scheduler readings of a thread, inside the
 * range: its running time and the part of it on a CPU (for useful time in
 * any sub-range). */
typedef struct {
  int64_t s, e, run, oncpu;
} CpuSeg;

typedef struct {
  CpuSeg *v;
  size_t  n, cap;
} CpuList;

typedef struct {
  int64_t  object_id;
  int64_t *durs;
  size_t   ndurs, capdurs;
  int64_t  wait_ns, wait_max, waits, contended, waiters;
  size_t   last_thread;       /* for distinct waiters: threads are loaded one at a time */
  int64_t  holds, hold_ns, hold_max, hold_starts;
  int64_t  handoffs;
  /* lock_count rows (contention first), prorated to the range */
  double   cnt_acq, cnt_fail, cnt_samples, cnt_sample_ns;
  int64_t  cnt_sample_max;
  bool     counted, cnt_prorated;
} ObjAcc;

typedef struct {
  size_t  obj;                /* index into objs */
  int64_t stack_id;
  int64_t waits, wait_ns;
} SiteAcc;

typedef struct {
  const char *label, *symbol, *file, *site;
  int64_t     line;
  bool        known;          /* the stack has a depth-0 frame */
} StackInfo;

typedef struct {
  sqlite3     *db;
  WeftMetrics *m;
  Pool        *pool;
  char        *err;
  size_t       errlen;
  bool         failed;
  int64_t      a, b;

  ProcInfo    *procs;
  size_t       nprocs, capprocs;
  WeftHMap         proc_by_upid;
  ThreadInfo  *thr;
  size_t       nthr, capthr;
  WeftHMap         thr_by_utid;

  RunList     *runs;          /* parallel to m->threads: running spans */
  RunList     *ios;           /* parallel to m->threads: io_wait spans */
  WSpanList   *waits;         /* parallel to m->threads: spans in any other state */
  CpuList     *cpu;           /* parallel to m->threads: intervals between scheduler readings */
  RunList     *joins;         /* parallel to m->threads: join_wait and child_wait spans */

  ObjAcc      *objs;
  size_t       nobjs, capobjs;
  WeftHMap         obj_by_id;
  SiteAcc     *sites;
  size_t       nsites, capsites;
  WeftHMap         site_by_key;
  StackInfo   *stacks;
  size_t       nstacks, capstacks;
  WeftHMap         stack_by_id;

  int64_t      share_base;    /* waiting in the range but for threads or children to end */
} Ctx;

static bool fail(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(Ctx *c, const char *fmt, ...) {
  if (!c->failed && c->err && c->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
  }
  c->failed = true;
  return false;
}

static bool oom(Ctx *c) { return fail(c, "out of memory"); }

static bool sql_fail(Ctx *c) {
  const char *msg = sqlite3_errmsg(c->db);
  return fail(c, "cannot read the database: %s", msg ? msg : "unknown error");
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

/* sqlite3_step: true on a row, false on done or error (c->failed set). */
static bool step(Ctx *c, sqlite3_stmt *q) {
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) sql_fail(c);
  return false;
}

static int64_t col_i64(sqlite3_stmt *q, int i, int64_t dflt) {
  return sqlite3_column_type(q, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(q, i);
}

static const char *col_str(Ctx *c, sqlite3_stmt *q, int i) {
  const unsigned char *s = sqlite3_column_text(q, i);
  char *d = pool_strdup(c->pool, s ? (const char *)s : "");
  if (!d) oom(c);
  return d ? d : "";
}

static ThreadInfo *thread_info(const Ctx *c, int64_t utid) {
  size_t i;
  return weft_hmap_get(&c->thr_by_utid, utid, 0, &i) ? &c->thr[i] : NULL;
}

/* "name [tid]" of any thread of the recording. */
static const char *ctx_thread_label(const Ctx *c, int64_t utid, char *buf, size_t len) {
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
    char *v = weft_db_meta_get(c->db, strs[i].key);
    char *d = pool_strdup(c->pool, v ? v : "");
    free(v);
    if (!d) return oom(c);
    *(const char **)((char *)m + strs[i].off) = d;
  }
  m->ncpus = weft_db_meta_get_int(c->db, "ncpus", -1);
  if (m->ncpus == 0) m->ncpus = -1;
  m->cpu_limit_milli = weft_db_meta_get_int(c->db, "cpu_limit_milli", -1);
  m->machine_busy_ns = weft_db_meta_get_int(c->db, "machine_busy_ns", -1);
  m->machine_steal_ns = weft_db_meta_get_int(c->db, "machine_steal_ns", -1);
  m->other_cpu_ns = -1;
  m->lost_events = weft_db_meta_get_int(c->db, "lost_events", 0);
  m->salvaged_files = weft_db_meta_get_int(c->db, "salvaged_files", 0);
  char *holds = weft_db_meta_get(c->db, "holds");
  m->holds_all = !holds || strcmp(holds, "contended") != 0;
  free(holds);
  m->hold_sample = weft_db_meta_get_int(c->db, "hold_sample", 1);
  m->counts_flush_ms = weft_db_meta_get_int(c->db, "counts_flush_ms", 0);
  m->counts_incomplete = weft_db_meta_get_int(c->db, "counts_incomplete", 0);
  *end_ns = weft_db_meta_get_int(c->db, "end_ns", -1);
  if (*end_ns < 0) {
    sqlite3_stmt *q = prep(c, "SELECT max(end_ns) FROM process");
    if (!q) return false;
    *end_ns = step(c, q) ? col_i64(q, 0, 0) : 0;
    sqlite3_finalize(q);
  }
  m->recording_end_ns = *end_ns;
  return !c->failed;
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
    if (p[by_upid[mid]].upid < upid) lo = mid + 1;
    else hi = mid;
  }
  return lo < n && p[by_upid[lo]].upid == upid ? (ptrdiff_t)by_upid[lo] : -1;
}

ptrdiff_t weft_find_launchers(const WeftProcLink *p, size_t n, bool *launcher, size_t *nlaunchers) {
  *nlaunchers = 0;
  for (size_t i = 0; i < n; i++) launcher[i] = false;
  size_t *by = malloc((n ? n : 1) * sizeof *by);
  if (!by) return -1;
  for (size_t i = 0; i < n; i++) by[i] = i;
  qsort_r(by, n, sizeof *by, cmp_link_upid, (void *)p);
  ptrdiff_t prog = -1;
  for (size_t i = 0; i < n; i++) {
    bool root = p[i].parent_upid < 0 || link_find(p, by, n, p[i].parent_upid) < 0;
    if (root && (prog < 0 || p[i].end_ns > p[prog].end_ns ||
                 (p[i].end_ns == p[prog].end_ns && p[i].image > p[prog].image)))
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
    l[i] = (WeftProcLink){p->upid, p->pid, p->image, p->parent_upid, p->exec_from, p->end};
  }
  size_t n = 0;
  ptrdiff_t prog = weft_find_launchers(l, c->nprocs, out, &n);
  /* a range that ends before the program starts (--range ..100ms) is the
   * launchers' time: then it covers them */
  if (prog >= 0 && c->procs[prog].start < c->b) {
    for (size_t i = 0; i < c->nprocs; i++)
      if (out[i]) c->procs[i].sel = false;
    c->m->program_upid = c->procs[prog].upid;
    c->m->launchers = n;
  }
  free(l);
  free(out);
  return true;
}

static bool load_processes(Ctx *c, int64_t pid, bool all) {
  sqlite3_stmt *q = prep(c, "SELECT upid, pid, image, parent_upid, cmdline, exe, start_ns, end_ns, end_how, "
                            "exit_status, exec_from_upid FROM process ORDER BY upid");
  if (!q) return false;
  bool any = false;
  while (step(c, q)) {
    ProcInfo p = {
      .upid = sqlite3_column_int64(q, 0), .pid = sqlite3_column_int64(q, 1), .image = col_i64(q, 2, 0),
      .parent_upid = col_i64(q, 3, -1), .cmdline = col_str(c, q, 4), .exe = col_str(c, q, 5),
      .start = col_i64(q, 6, 0), .end = col_i64(q, 7, 0), .end_how = col_str(c, q, 8),
      .has_exit = sqlite3_column_type(q, 9) != SQLITE_NULL, .exit_status = col_i64(q, 9, 0),
      .exec_from = col_i64(q, 10, -1), .idx = -1};
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
  if (c->failed) return false;
  if (pid >= 0 && !any) return fail(c, "no process with pid %lld in the recording", (long long)pid);
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
    *pm = (WeftProcessMetrics){.upid = p->upid, .pid = p->pid, .image = p->image, .parent_upid = p->parent_upid,
                               .cmdline = p->cmdline, .exe = p->exe, .end_how = p->end_how,
                               .start_ns = p->start, .end_ns = p->end, .has_exit_status = p->has_exit,
                               .exit_status = p->exit_status, .lifetime_ns = ce - cs,
                               .cpu_ns = -1, .runq_ns = -1};
  }
  return true;
}

static bool load_threads(Ctx *c) {
  sqlite3_stmt *q = prep(c, "SELECT utid, upid, tid, name, is_main, creator_utid, start_ns, end_ns, end_how, "
                            "cpu_ns, runq_ns FROM thread ORDER BY utid");
  if (!q) return false;
  while (step(c, q)) {
    ThreadInfo t = {.utid = sqlite3_column_int64(q, 0), .upid = sqlite3_column_int64(q, 1),
                    .tid = sqlite3_column_int64(q, 2), .name = col_str(c, q, 3),
                    .is_main = (int)col_i64(q, 4, 0), .creator = col_i64(q, 5, -1),
                    .start = col_i64(q, 6, 0), .end = col_i64(q, 7, 0), .end_how = col_str(c, q, 8),
                    .cpu = col_i64(q, 9, -1), .runq = col_i64(q, 10, -1), .pid = -1, .idx = -1};
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
  if (c->failed) return false;

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
    m->threads[m->nthreads++] = (WeftThreadMetrics){
      .utid = t->utid, .upid = t->upid, .tid = t->tid, .pid = t->pid, .name = t->name, .is_main = t->is_main,
      .creator_utid = t->creator, .start_ns = t->start, .end_ns = t->end, .end_how = t->end_how,
      .lifetime_ns = ce - cs, .cpu_ns = -1, .runq_ns = -1};
  }
  return true;
}

/* ------------------------------------------------------------------------ */
/* states, waits, holds, hand-offs                                           */

static ObjAcc *obj_acc(Ctx *c, int64_t object_id, size_t *index) {
  size_t i;
  if (!weft_hmap_get(&c->obj_by_id, object_id, 0, &i)) {
    ObjAcc o = {.object_id = object_id, .last_thread = SIZE_MAX};
    if (VEC_PUSH(c->objs, c->nobjs, c->capobjs, o) < 0) return oom(c), NULL;
    i = c->nobjs - 1;
    if (weft_hmap_put(&c->obj_by_id, object_id, 0, i) < 0) return oom(c), NULL;
  }
  if (index) *index = i;
  return &c->objs[i];
}

static bool add_wait(Ctx *c, size_t ti, int64_t obj, int64_t cs, int64_t ce, int64_t e, int64_t stack,
                     int64_t result) {
  size_t oi;
  ObjAcc *o = obj_acc(c, obj, &oi);
  if (!o) return false;
  int64_t len = ce - cs;
  if (VEC_PUSH(o->durs, o->ndurs, o->capdurs, len) < 0) return oom(c);
  o->wait_ns += len;
  o->wait_max = max64(o->wait_max, len);
  o->waits++;
  if (e > c->a && e <= c->b && result == 0) o->contended++;
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
  if (step(c, q0)) lo = min64(col_i64(q0, 0, c->a), c->a);
  sqlite3_reset(q0);
  if (c->failed) return false;
  sqlite3_bind_int64(q, 1, t->utid);
  sqlite3_bind_int64(q, 2, lo);
  sqlite3_bind_int64(q, 3, c->b);
  int64_t other = 0;
  while (step(c, q)) {
    int64_t s = sqlite3_column_int64(q, 0), dur = max64(col_i64(q, 1, 0), 0);
    int64_t e = sat_add(s, dur), cs, ce;
    int st = (int)col_i64(q, 2, -1);
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
        !add_wait(c, ti, sqlite3_column_int64(q, 3), cs, ce, e, col_i64(q, 4, -1), col_i64(q, 5, 0)))
      break;
  }
  sqlite3_reset(q);
  if (c->failed) return false;
  t->useful_ns = t->state_ns[WEFT_ST_RUNNING];
  t->wait_ns = other;
  for (int k = 1; k < WEFT_ST_COUNT; k++) t->wait_ns += t->state_ns[k];
  c->share_base += t->wait_ns - t->state_ns[WEFT_ST_JOIN_WAIT] - t->state_ns[WEFT_ST_CHILD_WAIT];
  return span_index(c, rl) && span_index(c, &c->joins[ti]);
}

/* Total length of rl's spans inside [x, y). */
static int64_t span_sum(const RunList *rl, int64_t x, int64_t y) {
  if (y <= x || !rl->n) return 0;
  /* i: first span ending after x; j: first span starting at or after y */
  size_t lo = 0, hi = rl->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (rl->run[mid].e > x) hi = mid;
    else lo = mid + 1;
  }
  size_t i = lo;
  lo = i, hi = rl->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (rl->run[mid].s >= y) hi = mid;
    else lo = mid + 1;
  }
  size_t j = lo;
  if (i >= j) return 0;
  int64_t sum = rl->prefix[j] - rl->prefix[i];
  sum -= max64(0, x - rl->run[i].s);
  sum -= max64(0, rl->run[j - 1].e - y);
  return sum;
}

/* Useful time (on a CPU, outside recorded waits) of selected thread ti
 * inside [x, y): each interval between two scheduler readings contributes
 * its on-CPU time in proportion to its running time inside [x, y) (between
 * readings only the interval's total is known). */
static int64_t run_useful(const Ctx *c, size_t ti, int64_t x, int64_t y) {
  const CpuList *cl = &c->cpu[ti];
  size_t lo = 0, hi = cl->n;
  while (lo < hi) { /* the first interval ending after x */
    size_t mid = lo + (hi - lo) / 2;
    if (cl->v[mid].e > x) hi = mid;
    else lo = mid + 1;
  }
  double sum = 0;
  for (size_t i = lo; i < cl->n && cl->v[i].s < y; i++) {
    const CpuSeg *g = &cl->v[i];
    if (g->run <= 0) continue;
    int64_t in = span_sum(&c->runs[ti], max64(x, g->s), min64(y, g->e));
    sum += (double)g->oncpu * (double)in / (double)g->run;
  }
  return (int64_t)(sum + 0.5);
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
  double  by_state[WEFT_ST_COUNT]; /* waiting, by the state of the wait (0: unknown states, gaps) */
} TimeSplit;

static void split_interval(Ctx *c, size_t ti, int64_t s, int64_t e, bool known, int64_t dc, int64_t dr,
                           size_t *wi, TimeSplit *out) {
  int64_t len = e - s, run = span_sum(&c->runs[ti], s, e), w = len - run;
  int64_t oc, r = 0, off = 0;
  if (!known) {
    oc = run;
    out->assumed += run;
  } else {
    dc = min64(max64(dc, 0), len);
    dr = min64(max64(dr, 0), len - dc);
    oc = min64(dc, run);
    int64_t cw = min64(dc - oc, w); /* on a CPU inside waits: spinning, the wait's own calls */
    off = max64(0, run - oc - dr);
    r = min64(dr, len - oc - off - cw);
  }
  int64_t wt = len - oc - off - r;
  out->oncpu += oc;
  out->runnable += r;
  out->offcpu += off;
  out->waiting += wt;
  if (c->cpu && run > 0) {
    CpuSeg g = {s, e, run, oc};
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
  while (step(c, q)) {
    Pt p = {sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2)};
    if (p.ts < pt[n - 1].ts) continue;
    if (VEC_PUSH(pt, n, cap, p) < 0) {
      oom(c);
      break;
    }
  }
  sqlite3_reset(q);
  if (!c->failed && ti->cpu >= 0 && ti->end >= pt[n - 1].ts &&
      VEC_PUSH(pt, n, cap, ((Pt){ti->end, ti->cpu, max64(ti->runq, 0)})) < 0)
    oom(c);
  if (c->failed) {
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
  t->time = (WeftTimeSplit){.oncpu_ns = sp.oncpu, .runnable_ns = sp.runnable, .waiting_ns = sp.waiting,
                            .offcpu_ns = sp.offcpu, .assumed_ns = sp.assumed,
                            .interpolated_ns = sp.interpolated};
  for (int k = 0; k < WEFT_ST_COUNT; k++) t->time.waiting_state_ns[k] = (int64_t)(sp.by_state[k] + 0.5);
  t->useful_ns = sp.oncpu;
  return !c->failed;
}

/* A lock hold of a selected thread, clipped to the range. */
static int add_hold(const WeftHold *h, void *user) {
  Ctx *c = user;
  const ThreadInfo *ti = thread_info(c, h->utid);
  if (!ti || ti->idx < 0) return 0;
  int64_t s = h->start_ns, e = sat_add(s, max64(h->dur_ns, 0)), cs, ce;
  if (!clip(s, e, c->a, c->b, &cs, &ce)) return 0;
  ObjAcc *o = obj_acc(c, h->object_id, NULL);
  if (!o) return c->failed;
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
  while (!c->failed && step(c, qf)) {
    ObjAcc *o = obj_acc(c, sqlite3_column_int64(qf, 0), NULL);
    if (o) o->handoffs++;
  }
  sqlite3_reset(qf);
  return !c->failed;
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
    while (!c->failed && step(c, q[k])) {
      if (k == 0) {
        if (weft_holds_from_row(q[k], 0, c->a, c->b, add_hold, c) < 0 && !c->failed)
          fail(c, "lock holds of object %lld: corrupt block", (long long)sqlite3_column_int64(q[k], 0));
      } else {
        const ThreadInfo *ti = thread_info(c, sqlite3_column_int64(q[k], 0));
        if (!ti || ti->idx < 0) continue;
        ObjAcc *o = obj_acc(c, sqlite3_column_int64(q[k], 1), NULL);
        if (o) o->handoffs++;
      }
    }
    sqlite3_reset(q[k]);
  }
  return !c->failed;
}

/* The counts of the selected threads (contention first: lock_count rows, one
 * per thread, object and flush interval), each prorated to its overlap with
 * the range (a range that cuts an interval makes the figures estimates). */
static bool load_counts(Ctx *c) {
  if (c->m->holds_all) return true;
  sqlite3_stmt *q = prep(c, "SELECT object_id, utid, start_ns, end_ns, acquisitions, failed_tries, hold_samples, "
                            "hold_sample_ns, hold_sample_max_ns FROM lock_count WHERE start_ns <= ?2 AND end_ns >= ?1");
  if (!q) return false;
  sqlite3_bind_int64(q, 1, c->a);
  sqlite3_bind_int64(q, 2, c->b);
  while (!c->failed && step(c, q)) {
    const ThreadInfo *ti = thread_info(c, col_i64(q, 1, 0));
    if (!ti || ti->idx < 0) continue;
    int64_t s = col_i64(q, 2, 0), e = col_i64(q, 3, 0), cs, ce;
    double f = 1;
    if (e > s) {
      if (!clip(s, e, c->a, c->b, &cs, &ce)) continue;
      f = (double)(ce - cs) / (double)(e - s);
    } else if (s < c->a || s > c->b) {
      continue;
    }
    ObjAcc *o = obj_acc(c, col_i64(q, 0, 0), NULL);
    if (!o) break;
    o->counted = true;
    o->cnt_prorated |= f < 1;
    o->cnt_acq += f * (double)col_i64(q, 4, 0);
    o->cnt_fail += f * (double)col_i64(q, 5, 0);
    o->cnt_samples += f * (double)col_i64(q, 6, 0);
    o->cnt_sample_ns += f * (double)col_i64(q, 7, 0);
    o->cnt_sample_max = max64(o->cnt_sample_max, col_i64(q, 8, 0));
  }
  sqlite3_finalize(q);
  return !c->failed;
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

#define WEFT_MAX_JOBS 8
#define HOLD_CHUNKS_PER_JOB 4

typedef struct {
  atomic_size_t next_thread;   /* states: the next thread index to load */
  atomic_size_t next_holds;    /* hand-offs, per thread: the next thread index */
  atomic_size_t next_chunk;    /* holds (and hand-offs), by chunks: the next chunk */
  atomic_bool   abort;         /* a worker failed: stop taking work */
  bool          objects;       /* load holds and hand-offs too */
  bool          chunked;       /* hand-offs too by rowid chunks of the table */
  size_t        nchunks;
  int64_t       hold_step, flow_step;  /* rowids per chunk */
} Shared;

static bool load_work(Ctx *c, Shared *sh) {
  WeftMetrics *m = c->m;
  sqlite3_stmt *q0 = prep(c, "SELECT max(start_ns) FROM thread_state WHERE utid = ?1 AND start_ns <= ?2");
  sqlite3_stmt *q = prep(c, "SELECT start_ns, dur_ns, state, object_id, stack_id, result FROM thread_state "
                            "WHERE utid = ?1 AND start_ns >= ?2 AND start_ns < ?3 ORDER BY start_ns");
  sqlite3_stmt *qh = NULL, *qf = NULL;
  if (sh->objects)
    qh = prep(c, "SELECT object_id, start_ns, data FROM hold_block NOT INDEXED "
                 "WHERE rowid >= ?3 AND rowid < ?4 AND start_ns < ?2 AND end_ns >= ?1");
  if (sh->objects && sh->chunked)
    qf = prep(c, "SELECT to_utid, object_id FROM flow NOT INDEXED WHERE rowid >= ?3 AND rowid < ?4 AND "
                 "kind = 1 AND to_ns > ?1 AND to_ns <= ?2 AND object_id IS NOT NULL");
  else if (sh->objects)
    qf = prep(c, "SELECT object_id FROM flow WHERE to_utid = ?1 AND to_ns > ?2 AND to_ns <= ?3 "
                 "AND kind = 1 AND object_id IS NOT NULL");
  size_t i;
  while (!c->failed && !atomic_load(&sh->abort) && (i = atomic_fetch_add(&sh->next_thread, 1)) < m->nthreads)
    load_thread_states(c, q0, q, i);
  if (sh->objects) {
    while (!c->failed && !atomic_load(&sh->abort) && (i = atomic_fetch_add(&sh->next_chunk, 1)) < sh->nchunks) {
      int64_t k = (int64_t)i;
      bool last = i + 1 == sh->nchunks;
      load_chunk_holds(c, qh, sh->chunked ? qf : NULL, k * sh->hold_step, last ? INT64_MAX : (k + 1) * sh->hold_step,
                       k * sh->flow_step, last ? INT64_MAX : (k + 1) * sh->flow_step);
    }
  }
  if (sh->objects && !sh->chunked) {
    while (!c->failed && !atomic_load(&sh->abort) && (i = atomic_fetch_add(&sh->next_holds, 1)) < m->nthreads)
      load_thread_flows(c, qf, i);
  }
  sqlite3_finalize(q0);
  sqlite3_finalize(q);
  sqlite3_finalize(qh);
  sqlite3_finalize(qf);
  if (c->failed) atomic_store(&sh->abort, true);
  return !c->failed;
}

typedef struct {
  Ctx       w;
  Shared   *sh;
  const char *path;
  char      err[256];
  pthread_t thread;
  bool      started;
} Worker;

static void *worker_main(void *arg) {
  Worker *wk = arg;
  Ctx *c = &wk->w;
  if (sqlite3_open_v2(wk->path, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    /* no connection: leave the work to the others */
    sqlite3_close(c->db);
    c->db = NULL;
    return NULL;
  }
  sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL);
  load_work(c, wk->sh);
  sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
  sqlite3_close(c->db);
  c->db = NULL;
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
  for (size_t i = 0; i < w->nobjs && !c->failed; i++) {
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
    o->wait_max = max64(o->wait_max, wo->wait_max);
    o->waits += wo->waits;
    o->contended += wo->contended;
    o->waiters += wo->waiters; /* each thread was loaded by one worker */
    o->holds += wo->holds;
    o->hold_ns += wo->hold_ns;
    o->hold_max = max64(o->hold_max, wo->hold_max);
    o->hold_starts += wo->hold_starts;
    o->handoffs += wo->handoffs;
  }
  for (size_t i = 0; i < w->nsites && !c->failed; i++) {
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
  return !c->failed;
}

/* max(rowid) of table, or 0. */
static int64_t max_rowid(Ctx *c, const char *sql) {
  sqlite3_stmt *q = prep(c, sql);
  int64_t v = q && step(c, q) ? col_i64(q, 0, 0) : 0;
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
  const char *path = sqlite3_db_filename(c->db, "main");
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
  if (c->failed) return false;

  Worker *wk = calloc((size_t)jobs, sizeof *wk);
  if (!wk) return oom(c);
  for (int i = 1; i < jobs; i++) {
    wk[i].w = *c;
    Ctx *w = &wk[i].w;
    w->db = NULL;
    w->err = wk[i].err;
    w->errlen = sizeof wk[i].err;
    w->failed = false;
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
    if (wk[i].w.failed && !c->failed) fail(c, "%s", wk[i].err);
    if (!c->failed) merge_acc(c, &wk[i].w);
    acc_free(&wk[i].w);
  }
  free(wk);
  return !c->failed;
}

/* ------------------------------------------------------------------------ */
/* stacks and objects                                                        */

/* The innermost frame of stack_id, described; cached. */
static const StackInfo *stack_info(Ctx *c, int64_t stack_id) {
  static const StackInfo none = {"(no stack)", NULL, NULL, NULL, 0, false};
  if (stack_id < 0) return &none;
  size_t i;
  if (weft_hmap_get(&c->stack_by_id, stack_id, 0, &i)) return &c->stacks[i];
  StackInfo si = none;
  sqlite3_stmt *q = prep(c, "SELECT f.symbol, f.file, f.line, f.ip, f.rel_pc, m.path FROM stack_frame sf "
                            "JOIN frame f ON f.frame_id = sf.frame_id "
                            "LEFT JOIN module m ON m.module_id = f.module_id "
                            "WHERE sf.stack_id = ?1 AND sf.depth = 0");
  if (!q) return &none;
  sqlite3_bind_int64(q, 1, stack_id);
  if (step(c, q)) {
    const char *sym = (const char *)sqlite3_column_text(q, 0);
    const char *file = (const char *)sqlite3_column_text(q, 1);
    int64_t line = col_i64(q, 2, 0);
    const char *mod = (const char *)sqlite3_column_text(q, 5);
    if (sym && !*sym) sym = NULL;
    if (file && !*file) file = NULL;
    si.known = true;
    si.line = line > 0 ? line : 0;
    si.symbol = sym ? pool_strdup(c->pool, sym) : NULL;
    si.file = file ? pool_strdup(c->pool, file) : NULL;
    char lb[1024];
    si.site = file ? pool_strdup(c->pool, weft_frame_site(file, si.line, lb, sizeof lb)) : NULL;
    si.label = pool_strdup(c->pool, weft_frame_label(sym, file, si.line, mod, col_i64(q, 4, 0), col_i64(q, 3, 0),
                                                     lb, sizeof lb));
    if (!si.label || (sym && !si.symbol) || (file && !si.file) || (file && !si.site)) oom(c);
  }
  sqlite3_finalize(q);
  if (c->failed) return &none;
  if (VEC_PUSH(c->stacks, c->nstacks, c->capstacks, si) < 0 ||
      weft_hmap_put(&c->stack_by_id, stack_id, 0, c->nstacks - 1) < 0) {
    oom(c);
    return &none;
  }
  return &c->stacks[c->nstacks - 1];
}

static bool kind_is_rwlock(int k) { return k == WEFT_KIND_RWLOCK || k == WEFT_KIND_RWLOCK_RD || k == WEFT_KIND_RWLOCK_WR; }
static bool kind_is_lock(int k) { return k == WEFT_KIND_MUTEX || kind_is_rwlock(k) || k == WEFT_KIND_SPIN; }
static bool kind_is_lockish(int k) { return kind_is_lock(k) || k == WEFT_KIND_SEM; }

static int cmp_site(const void *x, const void *y) {
  const WeftCallSite *a = x, *b = y;
  if (a->wait_ns != b->wait_ns) return a->wait_ns > b->wait_ns ? -1 : 1;
  return strcmp(a->label, b->label);
}
static int cmp_site_label(const void *x, const void *y) {
  return strcmp(((const WeftCallSite *)x)->label, ((const WeftCallSite *)y)->label);
}

static int cmp_object(const void *x, const void *y) {
  const WeftObjectMetrics *a = x, *b = y;
  if (a->wait_ns != b->wait_ns) return a->wait_ns > b->wait_ns ? -1 : 1;
  if (a->hold_ns != b->hold_ns) return a->hold_ns > b->hold_ns ? -1 : 1;
  return (a->object_id > b->object_id) - (a->object_id < b->object_id);
}

static int cmp_object_label(const void *x, const void *y) {
  const WeftObjectMetrics *a = *(const WeftObjectMetrics *const *)x, *b = *(const WeftObjectMetrics *const *)y;
  int r = strcmp(a->label, b->label);
  return r ? r : (a->upid > b->upid) - (a->upid < b->upid);
}

/* Objects of different processes with the same label (a pool's workers run
 * the same code): " in pid N" (" in pid N image K" after an exec) tells
 * them apart. */
static bool label_processes(Ctx *c) {
  WeftMetrics *m = c->m;
  if (m->nobjects < 2) return true;
  WeftObjectMetrics **v = malloc(m->nobjects * sizeof *v);
  if (!v) return oom(c);
  for (size_t i = 0; i < m->nobjects; i++) v[i] = &m->objects[i];
  qsort(v, m->nobjects, sizeof *v, cmp_object_label);
  for (size_t i = 0, j; i < m->nobjects && !c->failed; i = j) {
    for (j = i + 1; j < m->nobjects && !strcmp(v[j]->label, v[i]->label); j++) {}
    if (v[j - 1]->upid == v[i]->upid) continue; /* one process */
    for (size_t k = i; k < j; k++) {
      size_t pi;
      if (!weft_hmap_get(&c->proc_by_upid, v[k]->upid, 0, &pi)) continue;
      const ProcInfo *p = &c->procs[pi];
      char *l = p->image ? pool_printf(c->pool, "%s in pid %lld image %lld", v[k]->label, (long long)p->pid,
                                       (long long)p->image)
                         : pool_printf(c->pool, "%s in pid %lld", v[k]->label, (long long)p->pid);
      if (!l) {
        oom(c);
        break;
      }
      v[k]->label = l;
    }
  }
  free(v);
  return !c->failed;
}

static bool build_objects(Ctx *c) {
  WeftMetrics *m = c->m;
  m->objects = calloc(c->nobjs ? c->nobjs : 1, sizeof *m->objects);
  if (!m->objects) return oom(c);
  /* call sites grouped per object (order[site_start[o] .. site_start[o+1])),
   * scratch for the call sites and for sorting the wait durations */
  size_t maxd = 0;
  for (size_t i = 0; i < c->nobjs; i++)
    if (c->objs[i].ndurs > maxd) maxd = c->objs[i].ndurs;
  size_t *site_start = calloc(c->nobjs + 1, sizeof *site_start);
  size_t *fillp = calloc(c->nobjs + 1, sizeof *fillp);
  size_t *order = malloc((c->nsites ? c->nsites : 1) * sizeof *order);
  WeftCallSite *tmp = malloc((c->nsites ? c->nsites : 1) * sizeof *tmp);
  int64_t *rtmp = malloc((maxd ? maxd : 1) * sizeof *rtmp);
  size_t *rcount = malloc(65536 * sizeof *rcount);
  if (!site_start || !fillp || !order || !tmp || !rtmp || !rcount) {
    free(site_start);
    free(fillp);
    free(order);
    free(tmp);
    free(rtmp);
    free(rcount);
    return oom(c);
  }
  for (size_t i = 0; i < c->nsites; i++) site_start[c->sites[i].obj + 1]++;
  for (size_t i = 0; i < c->nobjs; i++) site_start[i + 1] += site_start[i];
  for (size_t i = 0; i < c->nsites; i++) {
    size_t o = c->sites[i].obj;
    order[site_start[o] + fillp[o]++] = i;
  }
  free(fillp);

  sqlite3_stmt *q = prep(c, "SELECT upid, addr, kind, name, init_stack_id, first_stack_id, acquisitions "
                            "FROM sync_object WHERE object_id = ?1");
  sqlite3_stmt *qh = prep(c, "SELECT 1 FROM hold_block WHERE object_id = ?1 LIMIT 1");
  WeftObjectNamer *namer = NULL; /* tells apart objects made at the same site */
  for (size_t oi = 0; q && qh && oi < c->nobjs && !c->failed; oi++) {
    ObjAcc *o = &c->objs[oi];
    WeftObjectMetrics *om = &m->objects[m->nobjects++];
    om->object_id = o->object_id;
    om->upid = -1;
    int64_t init_stack = -1, first_stack = -1, so_acq = 0;
    const char *so_name = NULL;
    sqlite3_bind_int64(q, 1, o->object_id);
    if (step(c, q)) {
      om->upid = col_i64(q, 0, -1);
      om->addr = col_i64(q, 1, 0);
      om->kind = (int)col_i64(q, 2, 0);
      so_name = (const char *)sqlite3_column_text(q, 3);
      if (so_name && *so_name) so_name = pool_strdup(c->pool, so_name);
      else so_name = NULL;
      init_stack = col_i64(q, 4, -1);
      first_stack = col_i64(q, 5, -1);
      so_acq = col_i64(q, 6, 0);
    }
    sqlite3_reset(q);
    if (c->failed) break;
    if (om->kind == WEFT_KIND_JOIN || om->kind == WEFT_KIND_CHILD) {
      /* waiting for a thread or process to end is not contention: it shows
       * in the join_wait/child_wait totals and the fork-join regions */
      memset(om, 0, sizeof *om);
      m->nobjects--;
      continue;
    }
    const char *kn = weft_kind_name((unsigned)om->kind);
    om->kind_name = kn ? kn : "object";

    /* naming */
    /* copies: the second call may grow (move) the vector the first one points into */
    const StackInfo si_v = *stack_info(c, init_stack), sf_v = *stack_info(c, first_stack);
    const StackInfo *si = &si_v, *sf = &sf_v;
    om->site = si->site ? si->site : sf->site;
    if (so_name) {
      om->name = so_name;
      om->named = 1;
    } else if (si->known || sf->known) {
      char nb[1024];
      snprintf(nb, sizeof nb, "%s", si->known ? si->label : sf->label);
      if (!namer) namer = weft_object_namer_new(c->db);
      weft_object_namer_disambiguate(namer, o->object_id, nb, sizeof nb);
      om->name = pool_strdup(c->pool, nb);
    } else {
      om->name = pool_printf(c->pool, "%s@0x%llx", om->kind_name, (unsigned long long)om->addr);
    }
    om->label = om->named && om->site ? pool_printf(c->pool, "%s (%s)", om->name, om->site) : om->name;
    if (!om->name || !om->label) {
      oom(c);
      break;
    }

    /* waits */
    om->waits = o->waits;
    om->wait_ns = o->wait_ns;
    om->wait_max_ns = o->wait_max;
    om->contended = o->contended;
    om->waiters = o->waiters;
    if (o->ndurs) {
      radix_sort(o->durs, rtmp, rcount, o->ndurs); /* durations are >= 0 */
      size_t n = o->ndurs;
      om->wait_p50_ns = o->durs[(n + 1) / 2 - 1];
      om->wait_p99_ns = o->durs[(99 * n + 99) / 100 - 1];
    }
    om->wait_share = c->share_base > 0 ? (double)o->wait_ns / (double)c->share_base : 0;

    /* holds, acquisitions */
    om->holds = o->holds;
    om->hold_ns = o->hold_ns;
    om->hold_max_ns = o->hold_max;
    om->hold_mean_ns = o->holds ? o->hold_ns / o->holds : 0;
    om->handoffs = o->handoffs;
    bool has_holds = o->holds > 0;
    if (!has_holds) {
      sqlite3_bind_int64(qh, 1, o->object_id);
      has_holds = step(c, qh);
      sqlite3_reset(qh);
    }
    om->failed_tries = -1;
    om->hold_est_ns = om->hold_sample_mean_ns = om->hold_sample_max_ns = -1;
    if (!kind_is_lockish(om->kind))
      om->acquisitions = -1;
    else if (!m->holds_all) { /* contention first: the counts, exact unless prorated */
      om->acquisitions = max64((int64_t)(o->cnt_acq + 0.5), o->contended);
      om->acquisitions_estimated = o->cnt_prorated;
      om->failed_tries = (int64_t)(o->cnt_fail + 0.5);
      om->hold_samples = (int64_t)(o->cnt_samples + 0.5);
      if (om->hold_samples > 0 && kind_is_lock(om->kind)) {
        om->hold_sample_mean_ns = (int64_t)(o->cnt_sample_ns / o->cnt_samples + 0.5);
        om->hold_sample_max_ns = o->cnt_sample_max;
        om->hold_est_ns = om->hold_ns + max64(om->acquisitions - om->holds, 0) * om->hold_sample_mean_ns;
      }
    } else {
      if (m->whole && m->pid < 0) /* the importer's total counts every thread */
        om->acquisitions = max64(max64(so_acq, o->hold_starts), o->contended);
      else if (has_holds)
        om->acquisitions = max64(o->hold_starts, o->contended);
      else
        om->acquisitions = -1;
      if (kind_is_lock(om->kind)) om->hold_est_ns = om->hold_ns;
    }
    om->contended_frac = om->acquisitions > 0 ? (double)om->contended / (double)om->acquisitions : -1;

    /* call sites, merged by label */
    size_t ns = 0;
    for (size_t k = site_start[oi]; k < site_start[oi + 1]; k++) {
      const SiteAcc *sa = &c->sites[order[k]];
      const StackInfo *st = stack_info(c, sa->stack_id);
      tmp[ns++] = (WeftCallSite){.label = st->label, .symbol = st->symbol, .file = st->file, .line = st->line,
                                 .waits = sa->waits, .wait_ns = sa->wait_ns};
    }
    qsort(tmp, ns, sizeof *tmp, cmp_site_label);
    size_t nm = 0;
    for (size_t k = 0; k < ns; k++) {
      if (nm && !strcmp(tmp[nm - 1].label, tmp[k].label)) {
        tmp[nm - 1].waits += tmp[k].waits;
        tmp[nm - 1].wait_ns += tmp[k].wait_ns;
      } else {
        tmp[nm++] = tmp[k];
      }
    }
    qsort(tmp, nm, sizeof *tmp, cmp_site);
    om->nsites_total = nm;
    om->nsites = nm < WEFT_TOP_SITES ? nm : WEFT_TOP_SITES;
    memcpy(om->sites, tmp, om->nsites * sizeof *tmp);
  }
  sqlite3_finalize(q);
  sqlite3_finalize(qh);
  weft_object_namer_free(namer);
  free(site_start);
  free(order);
  free(tmp);
  free(rtmp);
  free(rcount);
  if (c->failed) return false;
  qsort(m->objects, m->nobjects, sizeof *m->objects, cmp_object);
  return label_processes(c);
}

/* ------------------------------------------------------------------------ */
/* regions                                                                   */

typedef struct {
  WeftRegion *v;
  size_t      n, cap;
} RegionVec;

typedef struct {
  int64_t utid, s, e;
} Member;

typedef struct {
  int64_t utid, useful;
} TeamMember;

static int cmp_team(const void *x, const void *y) {
  const TeamMember *a = x, *b = y;
  return (a->utid > b->utid) - (a->utid < b->utid);
}

/* Fill r's team from the distinct utids (those selected and alive in
 * [r->start_ns, r->end_ns); with no_joiners, not those waiting for threads
 * or children to end for more than half of their time in it), its POP and
 * straggler; false when the team is empty (the region is dropped) or on
 * error. */
static bool region_team(Ctx *c, WeftRegion *r, const int64_t *utids, size_t n, bool no_joiners) {
  TeamMember *tm = malloc((n ? n : 1) * sizeof *tm);
  if (!tm) return oom(c);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    ThreadInfo *ti = thread_info(c, utids[i]);
    int64_t cs, ce;
    if (!ti || ti->idx < 0 || !clip(ti->start, ti->end, r->start_ns, r->end_ns, &cs, &ce) || ce <= cs) continue;
    if (no_joiners && 2 * span_sum(&c->joins[ti->idx], cs, ce) > ce - cs) continue;
    tm[k].utid = utids[i];
    tm[k].useful = run_useful(c, (size_t)ti->idx, r->start_ns, r->end_ns);
    k++;
  }
  if (!k) {
    free(tm);
    return false;
  }
  qsort(tm, k, sizeof *tm, cmp_team);
  int64_t *team = pool_calloc(c->pool, k, sizeof *team);
  int64_t *useful = pool_calloc(c->pool, k, sizeof *useful);
  if (!team || !useful) {
    free(tm);
    return oom(c);
  }
  size_t best = 0;
  for (size_t i = 0; i < k; i++) {
    team[i] = tm[i].utid;
    useful[i] = tm[i].useful;
    if (useful[i] > useful[best]) best = i;
  }
  free(tm);
  r->nteam = k;
  r->team_utid = team;
  r->team_useful_ns = useful;
  weft_pop(useful, k, r->end_ns - r->start_ns, &r->pop);
  r->straggler_utid = team[best];
  return true;
}

static bool push_region(Ctx *c, RegionVec *rv, WeftRegion *r, const int64_t *utids, size_t n) {
  if (!region_team(c, r, utids, n, r->kind == WEFT_REGION_PHASE)) return !c->failed;
  /* a barrier round's straggler is the thread the others waited for: the
   * last to arrive (not the one with the most work in the round's window,
   * which can be one that left the previous round first) */
  if (r->kind == WEFT_REGION_BARRIER && r->last_utid >= 0)
    for (size_t i = 0; i < r->nteam; i++)
      if (r->team_utid[i] == r->last_utid) r->straggler_utid = r->last_utid;
  if (VEC_PUSH(rv->v, rv->n, rv->cap, *r) < 0) return oom(c);
  return true;
}

static int cmp_member_start(const void *x, const void *y) {
  const Member *a = x, *b = y;
  if (a->s != b->s) return (a->s > b->s) - (a->s < b->s);
  return (a->utid > b->utid) - (a->utid < b->utid);
}

/* Barrier rounds: the waits of one round all contain the release instant,
 * so, in order of start, a wait joins the current round while it starts no
 * later than the round's earliest end and its thread is not in the round
 * yet. A round ends when its last thread leaves (the latest end). Region k
 * spans from the end of round k-1 to the end of round k (region 0 from when
 * the last of its team started); its team is round k's threads; the last to
 * arrive is the latest start. */
static bool barrier_regions(Ctx *c, RegionVec *rv, const WeftObjectMetrics *om) {
  sqlite3_stmt *q = prep(c, "SELECT utid, start_ns, dur_ns FROM thread_state WHERE object_id = ?1 AND state = 5");
  if (!q) return false;
  Member *w = NULL;
  size_t n = 0, cap = 0;
  sqlite3_bind_int64(q, 1, om->object_id);
  while (step(c, q)) {
    int64_t s = sqlite3_column_int64(q, 1);
    Member mb = {sqlite3_column_int64(q, 0), s, sat_add(s, max64(col_i64(q, 2, 0), 0))};
    if (VEC_PUSH(w, n, cap, mb) < 0) {
      oom(c);
      break;
    }
  }
  sqlite3_finalize(q);
  if (c->failed) {
    free(w);
    return false;
  }
  if (n) qsort(w, n, sizeof *w, cmp_member_start);
  int64_t *utids = malloc((n ? n : 1) * sizeof *utids);
  if (!utids) {
    free(w);
    return oom(c);
  }
  int64_t prev_end = INT64_MIN, round = 0;
  size_t i = 0;
  while (i < n && !c->failed) {
    size_t j = i + 1;
    int64_t min_end = w[i].e, max_end = w[i].e, last_start = w[i].s, last_utid = w[i].utid;
    for (; j < n && w[j].s <= min_end; j++) {
      bool dup = false;
      for (size_t k = i; k < j; k++) dup |= w[k].utid == w[j].utid;
      if (dup) break;
      min_end = min64(min_end, w[j].e);
      max_end = max64(max_end, w[j].e);
      if (w[j].s >= last_start) {
        last_start = w[j].s;
        last_utid = w[j].utid;
      }
    }
    int64_t start = prev_end;
    if (start == INT64_MIN)
      for (size_t k = i; k < j; k++) {
        const ThreadInfo *ti = thread_info(c, w[k].utid);
        start = max64(start, ti ? ti->start : w[k].s);
      }
    {
      WeftRegion r = {.kind = WEFT_REGION_BARRIER, .kind_name = "barrier", .object_id = om->object_id,
                      .round = round, .owner_utid = -1, .mark_id = -1, .last_utid = last_utid};
      int64_t cs, ce;
      if (start < max_end && clip(start, max_end, c->a, c->b, &cs, &ce) && ce > cs) {
        r.start_ns = cs;
        r.end_ns = ce;
        r.clipped = cs != start || ce != max_end;
        r.label = pool_printf(c->pool, "barrier %s, round %lld", om->label, (long long)round);
        if (!r.label) {
          oom(c);
          break;
        }
        for (size_t k = i; k < j; k++) utids[k - i] = w[k].utid;
        if (!push_region(c, rv, &r, utids, j - i)) break;
      }
    }
    prev_end = max_end;
    round++;
    i = j;
  }
  free(utids);
  free(w);
  return !c->failed;
}

typedef struct {
  int64_t creator, child, create_ns, join_ns;
} ForkJoin;

static int cmp_forkjoin(const void *x, const void *y) {
  const ForkJoin *a = x, *b = y;
  if (a->creator != b->creator) return (a->creator > b->creator) - (a->creator < b->creator);
  if (a->create_ns != b->create_ns) return (a->create_ns > b->create_ns) - (a->create_ns < b->create_ns);
  return (a->child > b->child) - (a->child < b->child);
}

/* Fork-join groups: the children a creator joins itself (thread.creator_utid,
 * or the create flow's source, equals the join flow's target), as intervals
 * [create, join return]; a group is a connected run of overlapping
 * intervals of one creator (the number of outstanding children returns to
 * zero at its end). Team: the children; the last to finish: the child that
 * ended last. */
static bool forkjoin_regions(Ctx *c, RegionVec *rv) {
  ForkJoin *fj = calloc(c->nthr ? c->nthr : 1, sizeof *fj);
  if (!fj) return oom(c);
  for (size_t i = 0; i < c->nthr; i++)
    fj[i] = (ForkJoin){.creator = c->thr[i].creator, .child = c->thr[i].utid, .create_ns = c->thr[i].start,
                       .join_ns = INT64_MIN};
  sqlite3_stmt *q = prep(c, "SELECT kind, from_utid, from_ns, to_utid, to_ns FROM flow WHERE kind IN (5, 6)");
  while (q && step(c, q)) {
    int kind = sqlite3_column_int(q, 0);
    int64_t fu = sqlite3_column_int64(q, 1), fns = sqlite3_column_int64(q, 2);
    int64_t tu = sqlite3_column_int64(q, 3), tns = sqlite3_column_int64(q, 4);
    size_t i;
    if (kind == WEFT_FLOW_CREATE && weft_hmap_get(&c->thr_by_utid, tu, 0, &i)) {
      if (fj[i].creator < 0) fj[i].creator = fu;
      if (fj[i].creator == fu) fj[i].create_ns = fns;
    } else if (kind == WEFT_FLOW_JOIN && weft_hmap_get(&c->thr_by_utid, fu, 0, &i) && tu == fj[i].creator) {
      fj[i].join_ns = max64(fj[i].join_ns, tns);
    }
  }
  sqlite3_finalize(q);
  size_t n = 0;
  for (size_t i = 0; i < c->nthr; i++)
    if (fj[i].creator >= 0 && fj[i].join_ns != INT64_MIN && fj[i].join_ns >= fj[i].create_ns) fj[n++] = fj[i];
  qsort(fj, n, sizeof *fj, cmp_forkjoin);
  int64_t *utids = malloc((n ? n : 1) * sizeof *utids);
  if (!utids) {
    free(fj);
    return oom(c);
  }
  size_t i = 0;
  while (i < n && !c->failed) {
    /* the creator's groups: [i, end_creator) */
    size_t ec = i;
    while (ec < n && fj[ec].creator == fj[i].creator) ec++;
    size_t ngroups = 0;
    for (size_t k = i; k < ec;) {
      int64_t end = fj[k].join_ns;
      size_t j = k + 1;
      for (; j < ec && fj[j].create_ns < end; j++) end = max64(end, fj[j].join_ns);
      ngroups++;
      k = j;
    }
    ThreadInfo *cr = thread_info(c, fj[i].creator);
    char who[160];
    ctx_thread_label(c, fj[i].creator, who, sizeof who);
    size_t g = 0;
    for (size_t k = i; k < ec && !c->failed;) {
      int64_t start = fj[k].create_ns, end = fj[k].join_ns, last_end = INT64_MIN, last = -1;
      size_t j = k;
      for (; j < ec && (j == k || fj[j].create_ns < end); j++) {
        end = max64(end, fj[j].join_ns);
        ThreadInfo *ch = thread_info(c, fj[j].child);
        if (ch && ch->end > last_end) {
          last_end = ch->end;
          last = ch->utid;
        }
        utids[j - k] = fj[j].child;
      }
      g++;
      int64_t cs, ce;
      if (cr && cr->sel && clip(start, end, c->a, c->b, &cs, &ce) && ce > cs) {
        WeftRegion r = {.kind = WEFT_REGION_FORK_JOIN, .kind_name = "fork_join", .start_ns = cs, .end_ns = ce,
                        .clipped = cs != start || ce != end, .object_id = -1, .round = -1,
                        .owner_utid = fj[k].creator, .mark_id = -1, .last_utid = last};
        r.label = ngroups > 1 ? pool_printf(c->pool, "fork-join %zu/%zu by %s", g, ngroups, who)
                              : pool_printf(c->pool, "fork-join by %s", who);
        if (!r.label) oom(c);
        else if (!push_region(c, rv, &r, utids, j - k)) break;
      }
      k = j;
    }
    i = ec;
  }
  free(utids);
  free(fj);
  return !c->failed;
}

/* Phases: marks with a duration; team: the selected threads alive in them,
 * but for those that spent more than half of it waiting for threads or
 * child processes to end (a parent joining its workers does not do the
 * phase's work). */
static bool phase_regions(Ctx *c, RegionVec *rv) {
  WeftMetrics *m = c->m;
  sqlite3_stmt *q = prep(c, "SELECT utid, start_ns, dur_ns, id, label FROM mark WHERE dur_ns > 0 AND "
                            "start_ns < ?2 AND start_ns + dur_ns > ?1 ORDER BY start_ns, utid, id");
  if (!q) return false;
  int64_t *utids = malloc((m->nthreads ? m->nthreads : 1) * sizeof *utids);
  if (!utids) {
    sqlite3_finalize(q);
    return oom(c);
  }
  sqlite3_bind_int64(q, 1, c->a);
  sqlite3_bind_int64(q, 2, c->b);
  while (step(c, q)) {
    int64_t utid = sqlite3_column_int64(q, 0), s = sqlite3_column_int64(q, 1);
    int64_t e = sat_add(s, max64(col_i64(q, 2, 0), 0)), cs, ce;
    ThreadInfo *owner = thread_info(c, utid);
    if ((owner && !owner->sel) || !clip(s, e, c->a, c->b, &cs, &ce) || ce <= cs) continue;
    const char *label = (const char *)sqlite3_column_text(q, 4);
    WeftRegion r = {.kind = WEFT_REGION_PHASE, .kind_name = "phase", .start_ns = cs, .end_ns = ce,
                    .clipped = cs != s || ce != e, .object_id = -1, .round = -1, .owner_utid = utid,
                    .mark_id = col_i64(q, 3, 0), .last_utid = -1};
    r.label = label && *label ? pool_printf(c->pool, "phase '%s'", label)
                              : pool_printf(c->pool, "phase #%lld", (long long)r.mark_id);
    if (!r.label) {
      oom(c);
      break;
    }
    size_t n = 0;
    for (size_t i = 0; i < m->nthreads; i++) utids[n++] = m->threads[i].utid;
    if (!push_region(c, rv, &r, utids, n)) break;
  }
  sqlite3_finalize(q);
  free(utids);
  return !c->failed;
}

static int cmp_region(const void *x, const void *y) {
  const WeftRegion *a = x, *b = y;
  if (a->start_ns != b->start_ns) return (a->start_ns > b->start_ns) - (a->start_ns < b->start_ns);
  if (a->kind != b->kind) return (int)a->kind - (int)b->kind;
  if (a->end_ns != b->end_ns) return (a->end_ns > b->end_ns) - (a->end_ns < b->end_ns);
  if (a->object_id != b->object_id) return (a->object_id > b->object_id) - (a->object_id < b->object_id);
  if (a->owner_utid != b->owner_utid) return (a->owner_utid > b->owner_utid) - (a->owner_utid < b->owner_utid);
  return (a->mark_id > b->mark_id) - (a->mark_id < b->mark_id);
}

static bool build_regions(Ctx *c) {
  WeftMetrics *m = c->m;
  RegionVec rv = {0};
  for (size_t i = 0; i < m->nobjects && !c->failed; i++)
    if (m->objects[i].kind == WEFT_KIND_BARRIER) barrier_regions(c, &rv, &m->objects[i]);
  if (!c->failed) forkjoin_regions(c, &rv);
  if (!c->failed) phase_regions(c, &rv);
  if (c->failed) {
    free(rv.v);
    return false;
  }
  if (rv.n) qsort(rv.v, rv.n, sizeof *rv.v, cmp_region);
  m->regions = rv.v;
  m->nregions = rv.n;
  return true;
}

/* ------------------------------------------------------------------------ */
/* parallelism                                                               */

/* The time in the range when no thread ran but two or more were blocked in
 * I/O at once: the program waited on the outside world in parallel (a
 * thread pool's requests), not a serial phase. The io_wait spans are few
 * next to the running ones: a sweep over them gives the intervals with 2+
 * threads in I/O, and only the running spans inside those are read (each
 * thread's spans are sorted: a binary search finds the first). */
typedef struct {
  int64_t t;
  int d;
} Edge;

static int cmp_edge(const void *x, const void *y) {
  const Edge *a = x, *b = y;
  if (a->t != b->t) return (a->t > b->t) - (a->t < b->t);
  return a->d - b->d; /* ends first */
}

static int cmp_span(const void *x, const void *y) {
  const Span *a = x, *b = y;
  return (a->s > b->s) - (a->s < b->s);
}

/* The time in [x, y) with no thread running; tmp holds one span per thread
 * and more as needed (grown here). */
static int64_t idle_in(Ctx *c, int64_t x, int64_t y, Span **tmp, size_t *cap) {
  size_t n = 0;
  for (size_t i = 0; i < c->m->nthreads; i++) {
    const RunList *rl = &c->runs[i];
    size_t lo = 0, hi = rl->n; /* the first span ending after x */
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (rl->run[mid].e <= x) lo = mid + 1;
      else hi = mid;
    }
    for (size_t j = lo; j < rl->n && rl->run[j].s < y; j++) {
      if (n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        Span *g = realloc(*tmp, nc * sizeof *g);
        if (!g) return 0; /* (an estimate left out, not a failure) */
        *tmp = g;
        *cap = nc;
      }
      (*tmp)[n++] = (Span){max64(rl->run[j].s, x), min64(rl->run[j].e, y)};
    }
  }
  if (n) qsort(*tmp, n, sizeof **tmp, cmp_span); /* *tmp may still be NULL */
  int64_t busy = 0, end = x;
  for (size_t k = 0; k < n; k++) {
    int64_t s0 = max64((*tmp)[k].s, end);
    if ((*tmp)[k].e > s0) {
      busy += (*tmp)[k].e - s0;
      end = (*tmp)[k].e;
    }
  }
  return (y - x) - busy;
}

static int64_t io_overlap_idle(Ctx *c) {
  const WeftMetrics *m = c->m;
  size_t nio = 0;
  for (size_t i = 0; i < m->nthreads; i++) nio += c->ios[i].n;
  if (nio < 2) return 0;
  Edge *e = malloc(2 * nio * sizeof *e);
  if (!e) return 0;
  size_t k = 0;
  for (size_t i = 0; i < m->nthreads; i++)
    for (size_t j = 0; j < c->ios[i].n; j++) {
      e[k++] = (Edge){c->ios[i].run[j].s, 1};
      e[k++] = (Edge){c->ios[i].run[j].e, -1};
    }
  qsort(e, k, sizeof *e, cmp_edge);
  Span *tmp = NULL;
  size_t cap = 0;
  int io = 0;
  int64_t sum = 0, from = 0;
  for (size_t i = 0; i < k; i++) {
    int was = io;
    io += e[i].d;
    if (was < 2 && io >= 2) from = e[i].t;
    if (was >= 2 && io < 2 && e[i].t > from) sum += idle_in(c, from, e[i].t, &tmp, &cap);
  }
  free(tmp);
  free(e);
  return sum;
}

static bool build_parallelism(Ctx *c) {
  WeftMetrics *m = c->m;
  WeftParallelism *p = &m->parallelism;
  size_t n = 0;
  for (size_t i = 0; i < m->nthreads; i++) n += c->runs[i].n;
  int64_t *st = malloc((n ? n : 1) * sizeof *st), *en = malloc((n ? n : 1) * sizeof *en);
  int64_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
  size_t *count = malloc(65536 * sizeof *count);
  if (!st || !en || !tmp || !count) {
    free(st);
    free(en);
    free(tmp);
    free(count);
    return oom(c);
  }
  size_t k = 0;
  for (size_t i = 0; i < m->nthreads; i++)
    for (size_t j = 0; j < c->runs[i].n; j++, k++) {
      st[k] = c->runs[i].run[j].s - c->a;
      en[k] = c->runs[i].run[j].e - c->a;
    }
  radix_sort(st, tmp, count, n);
  radix_sort(en, tmp, count, n);
  free(tmp);
  free(count);
  int64_t *hist = calloc(m->nthreads + 1, sizeof *hist);
  if (!hist) {
    free(st);
    free(en);
    return oom(c);
  }
  size_t cur = 0, kmax = 0, i = 0, j = 0;
  int64_t t = 0, T = c->b - c->a;
  while (j < n) {
    /* ends first at equal times: a zero-length overlap is no parallelism */
    if (i < n && st[i] < en[j]) {
      hist[cur] += st[i] - t;
      t = st[i++];
      cur++;
      if (cur > kmax) kmax = cur;
    } else {
      hist[cur] += en[j] - t;
      t = en[j++];
      cur--;
    }
  }
  hist[0] += T - t;
  free(st);
  free(en);
  p->io_overlap_ns = io_overlap_idle(c);
  p->span_ns = T;
  p->kmax = kmax;
  p->ns = hist;
  p->fraction = calloc(kmax + 1, sizeof *p->fraction);
  if (!p->fraction) return oom(c);
  p->average = 0;
  for (size_t q = 0; q <= kmax; q++) {
    p->fraction[q] = T > 0 ? (double)hist[q] / (double)T : 0;
    p->average += (double)q * p->fraction[q];
  }
  return true;
}

/* ------------------------------------------------------------------------ */
/* findings                                                                  */

/* ------------------------------------------------------------------------ */
/* critical path and what-if                                                 */

static int cmp_path_thread(const void *x, const void *y) {
  const WeftPathThread *a = x, *b = y;
  if (a->path_ns != b->path_ns) return a->path_ns > b->path_ns ? -1 : 1;
  return (a->utid > b->utid) - (a->utid < b->utid);
}

static int cmp_path_object(const void *x, const void *y) {
  const WeftPathObject *a = x, *b = y;
  if (a->cause_ns != b->cause_ns) return a->cause_ns > b->cause_ns ? -1 : 1;
  if (a->hold_ns != b->hold_ns) return a->hold_ns > b->hold_ns ? -1 : 1;
  return (a->object_id > b->object_id) - (a->object_id < b->object_id);
}

static int cmp_path_site_key(const void *x, const void *y) {
  const WeftPathSite *a = x, *b = y;
  if (a->object_id != b->object_id) return a->object_id < b->object_id ? -1 : 1;
  return strcmp(a->label, b->label);
}

static int cmp_path_site(const void *x, const void *y) {
  const WeftPathSite *a = x, *b = y;
  if (a->cause_ns != b->cause_ns) return a->cause_ns > b->cause_ns ? -1 : 1;
  return cmp_path_site_key(x, y);
}

/* The thread the walk starts on: of the first selected process whose
 * parent is not selected (the root), the thread ending last inside the
 * range (the main thread on ties, then the lowest utid). */
static int64_t path_end_thread(const Ctx *c, int64_t *end_ns) {
  const WeftMetrics *m = c->m;
  /* the root process; of an exec chain (env -> a shell wrapper -> python),
   * the image that ends last, the program the user ran */
  int64_t root = -1, root_end = INT64_MIN;
  for (size_t i = 0; i < m->nprocesses; i++) {
    const WeftProcessMetrics *p = &m->processes[i];
    if ((p->parent_upid < 0 || !weft_metrics_process(m, p->parent_upid)) && p->end_ns > root_end) {
      root = p->upid;
      root_end = p->end_ns;
    }
  }
  int64_t best = -1, best_end = INT64_MIN;
  int best_main = 0;
  for (int pass = 0; pass < 2 && best < 0; pass++)
    for (size_t i = 0; i < m->nthreads; i++) {
      const WeftThreadMetrics *t = &m->threads[i];
      if (pass == 0 && t->upid != root) continue;
      int64_t e = min64(t->end_ns, c->b);
      if (e > best_end || (e == best_end && t->is_main && !best_main)) {
        best = t->utid;
        best_end = e;
        best_main = t->is_main;
      }
    }
  *end_ns = best_end;
  return best;
}

static bool build_python(Ctx *c);

/* An object whose waits a what-if may take away: a lock, condition variable,
 * barrier or semaphore, not a pipe read or poll (waiting for data: the
 * writer's time is already on the path), nor a Python pool's queues (its
 * parent and workers wait by design). */
static bool whatif_object(const WeftMetrics *m, int64_t object_id) {
  for (size_t i = 0; i < m->nobjects; i++) {
    const WeftObjectMetrics *om = &m->objects[i];
    if (om->object_id != object_id) continue;
    if (!(kind_is_lockish(om->kind) || om->kind == WEFT_KIND_COND || om->kind == WEFT_KIND_BARRIER)) return false;
    return !(om->kind == WEFT_KIND_SEM && weft_python_process(m->python, om->upid) &&
             weft_python_pool_of(m->python, om->upid));
  }
  return false;
}

static bool build_critical_path(Ctx *c) {
  WeftMetrics *m = c->m;
  WeftCriticalPath *cp = pool_calloc(c->pool, 1, sizeof *cp);
  if (!cp) return oom(c);
  cp->start_ns = c->a;
  cp->end_ns = c->b;
  cp->length_ns = c->b - c->a;
  int64_t end_ns = c->b;
  cp->end_utid = path_end_thread(c, &end_ns);
  if (cp->end_utid < 0) {
    cp->after_ns = cp->length_ns;
    m->critical_path = cp;
    return true;
  }
  end_ns = max64(end_ns, c->a);
  cp->after_ns = c->b - end_ns;
  WeftCpResult r;
  if (weft_critpath_walk(c->db, c->a, cp->end_utid, end_ns, &r, c->err, c->errlen) < 0) {
    c->failed = true;
    return false;
  }
  cp->path_ns = r.path_ns;
  cp->before_ns = r.before_ns;
  cp->jumps = r.jumps;
  char buf[1024];

  /* threads */
  cp->threads = pool_calloc(c->pool, r.nthreads, sizeof *cp->threads);
  if (!cp->threads) goto oom;
  for (size_t i = 0; i < r.nthreads; i++) {
    const WeftCpThread *t = &r.threads[i];
    if (t->path_ns <= 0) continue;
    WeftPathThread *pt = &cp->threads[cp->nthreads++];
    *pt = (WeftPathThread){.utid = t->utid, .path_ns = t->path_ns, .running_ns = t->running_ns,
                           .share = cp->length_ns > 0 ? (double)t->path_ns / (double)cp->length_ns : 0};
    if (!(pt->label = pool_strdup(c->pool, ctx_thread_label(c, t->utid, buf, sizeof buf)))) goto oom;
  }
  qsort(cp->threads, cp->nthreads, sizeof *cp->threads, cmp_path_thread);

  /* objects: labels from m->objects, else named here; joins and child waits left out */
  WeftHMap om_by_id = {0};
  for (size_t i = 0; i < m->nobjects; i++)
    if (weft_hmap_put(&om_by_id, m->objects[i].object_id, 0, i) < 0) {
      weft_hmap_free(&om_by_id);
      goto oom;
    }
  WeftObjectNamer *namer = NULL;
  sqlite3_stmt *qk = prep(c, "SELECT kind FROM sync_object WHERE object_id = ?1");
  cp->objects = pool_calloc(c->pool, r.nobjects, sizeof *cp->objects);
  WeftHMap po_by_id = {0};
  for (size_t i = 0; cp->objects && qk && i < r.nobjects && !c->failed; i++) {
    const WeftCpObject *o = &r.objects[i];
    size_t k;
    const char *label, *kind_name;
    int kind;
    if (weft_hmap_get(&om_by_id, o->object_id, 0, &k)) {
      WeftObjectMetrics *om = &m->objects[k];
      om->critical_share_ns = o->cause_ns;
      om->critical_hold_ns = o->hold_ns;
      label = om->label;
      kind_name = om->kind_name;
      kind = om->kind;
    } else {
      sqlite3_bind_int64(qk, 1, o->object_id);
      kind = step(c, qk) ? (int)col_i64(qk, 0, 0) : 0;
      sqlite3_reset(qk);
      if (kind == WEFT_KIND_JOIN || kind == WEFT_KIND_CHILD) continue;
      if (!namer && !(namer = weft_object_namer_new(c->db))) {
        sql_fail(c);
        break;
      }
      label = pool_strdup(c->pool, weft_object_namer_name(namer, o->object_id, buf, sizeof buf));
      kind_name = weft_kind_name((unsigned)kind);
      if (!kind_name) kind_name = "object";
    }
    if (kind == WEFT_KIND_JOIN || kind == WEFT_KIND_CHILD || (o->cause_ns <= 0 && o->hold_ns <= 0)) continue;
    if (!label || weft_hmap_put(&po_by_id, o->object_id, 0, cp->nobjects) < 0) {
      oom(c);
      break;
    }
    cp->objects[cp->nobjects++] =
      (WeftPathObject){.object_id = o->object_id, .label = label, .kind_name = kind_name, .cause_ns = o->cause_ns,
                       .hold_ns = o->hold_ns,
                       .share = cp->length_ns > 0 ? (double)o->cause_ns / (double)cp->length_ns : 0};
  }
  sqlite3_finalize(qk);
  weft_object_namer_free(namer);
  weft_hmap_free(&om_by_id);
  if (!cp->objects) oom(c);
  if (c->failed) {
    weft_hmap_free(&po_by_id);
    weft_critpath_free(&r);
    return false;
  }

  /* call sites: by (object, label), objects of the list only */
  cp->sites = pool_calloc(c->pool, r.nsites, sizeof *cp->sites);
  if (!cp->sites) {
    weft_hmap_free(&po_by_id);
    goto oom;
  }
  for (size_t i = 0; i < r.nsites && !c->failed; i++) {
    const WeftCpSite *rs = &r.sites[i];
    size_t k;
    if (rs->cause_ns <= 0 || !weft_hmap_get(&po_by_id, rs->object_id, 0, &k)) continue;
    cp->sites[cp->nsites++] = (WeftPathSite){.label = stack_info(c, rs->stack_id)->label,
                                             .object_label = cp->objects[k].label, .object_id = rs->object_id,
                                             .cause_ns = rs->cause_ns};
  }
  weft_hmap_free(&po_by_id);
  if (c->failed) {
    weft_critpath_free(&r);
    return false;
  }
  qsort(cp->sites, cp->nsites, sizeof *cp->sites, cmp_path_site_key);
  size_t nm = 0;
  for (size_t i = 0; i < cp->nsites; i++) {
    if (nm && cp->sites[nm - 1].object_id == cp->sites[i].object_id && !strcmp(cp->sites[nm - 1].label, cp->sites[i].label))
      cp->sites[nm - 1].cause_ns += cp->sites[i].cause_ns;
    else
      cp->sites[nm++] = cp->sites[i];
  }
  cp->nsites = nm;
  qsort(cp->sites, cp->nsites, sizeof *cp->sites, cmp_path_site);
  qsort(cp->objects, cp->nobjects, sizeof *cp->objects, cmp_path_object);

  /* segments */
  cp->segments = pool_calloc(c->pool, r.nsegments, sizeof *cp->segments);
  if (!cp->segments) goto oom;
  if (r.nsegments) memcpy(cp->segments, r.segments, r.nsegments * sizeof *cp->segments);
  cp->nsegments = r.nsegments;
  weft_critpath_free(&r);

  /* what-if: the objects (the top by critical share, and the top contended
   * lock if it is another), then the most imbalanced region */
  cp->whatifs = pool_calloc(c->pool, 3, sizeof *cp->whatifs);
  if (!cp->whatifs) return oom(c);
  int64_t wid[2] = {-1, -1};
  const char *wlabel[2] = {NULL, NULL};
  int64_t wsave[2] = {0, 0};
  for (size_t i = 0; i < cp->nobjects; i++) {
    const WeftPathObject *po = &cp->objects[i];
    /* (one that caused under 1% of the path is not worth a line) */
    if (po->cause_ns > 0 && po->cause_ns * 100 >= cp->length_ns && whatif_object(m, po->object_id)) {
      wid[0] = po->object_id;
      wlabel[0] = po->label;
      wsave[0] = po->cause_ns;
      break;
    }
  }
  for (size_t i = 0; i < m->nobjects; i++) {
    const WeftObjectMetrics *om = &m->objects[i];
    if (!whatif_object(m, om->object_id) || om->wait_ns <= 0) continue;
    if (om->wait_ns * 100 < m->summary.wait_ns) break; /* under 1% of all waiting: not worth a line */
    if (om->object_id != wid[0]) {
      wid[1] = om->object_id;
      wlabel[1] = om->label;
      wsave[1] = om->critical_share_ns;
    }
    break;
  }
  for (int k = 0; k < 2; k++)
    if (wid[k] >= 0)
      cp->whatifs[cp->nwhatifs++] =
        (WeftWhatIf){.kind = WEFT_WHATIF_OBJECT, .kind_name = "object", .label = wlabel[k], .object_id = wid[k],
                     .region = -1, .utid = -1, .saving_ns = wsave[k], .predicted_ns = cp->length_ns - wsave[k]};
  ptrdiff_t worst = -1;
  for (size_t i = 0; i < m->nregions; i++) {
    const WeftRegion *rg = &m->regions[i];
    if (rg->nteam < 2 || rg->pop.imbalance_ns <= 0) continue;
    if (worst < 0 || rg->pop.imbalance_ns > m->regions[worst].pop.imbalance_ns) worst = (ptrdiff_t)i;
  }
  if (worst >= 0) {
    const WeftRegion *rg = &m->regions[worst];
    int64_t on_path = 0;
    for (size_t i = 0; i < cp->nsegments; i++) {
      const WeftPathSegment *sg = &cp->segments[i];
      if (sg->utid == rg->straggler_utid)
        on_path += max64(0, min64(sg->end_ns, rg->end_ns) - max64(sg->start_ns, rg->start_ns));
    }
    int64_t excess = rg->pop.max_useful_ns - rg->pop.sum_useful_ns / (int64_t)rg->nteam;
    int64_t save = max64(0, min64(excess, on_path));
    cp->whatifs[cp->nwhatifs++] =
      (WeftWhatIf){.kind = WEFT_WHATIF_BALANCE, .kind_name = "balance", .label = rg->label, .object_id = -1,
                   .region = (int64_t)worst, .utid = rg->straggler_utid, .saving_ns = save,
                   .predicted_ns = cp->length_ns - save};
  }
  m->critical_path = cp;
  return true;
oom:
  weft_critpath_free(&r);
  return oom(c);
}

typedef struct {
  WeftFinding *v;
  size_t       n, cap;
} FindVec;

static const char *pct(char *buf, size_t len, double f) {
  double x = f * 100;
  if (x > 0 && x < 0.95)
    snprintf(buf, len, "%.1f%%", x);
  else
    snprintf(buf, len, "%.0f%%", x);
  return buf;
}

static const char *find_kind_name(WeftFindingKind k) {
  switch (k) {
  case WEFT_FIND_CONTENTION: return "contention";
  case WEFT_FIND_CONDVAR: return "condvar";
  case WEFT_FIND_IMBALANCE: return "imbalance";
  case WEFT_FIND_SERIAL: return "serial";
  case WEFT_FIND_OVERSUBSCRIBED: return "oversubscribed";
  case WEFT_FIND_GIL: return "gil";
  case WEFT_FIND_IO: return "io";
  case WEFT_FIND_SLEEP: return "sleep";
  case WEFT_FIND_IO_OVERLAP: return "io_overlap";
  case WEFT_FIND_MACHINE_LOAD: return "machine_load";
  }
  return "other";
}

static bool add_finding(Ctx *c, FindVec *fv, WeftFindingKind kind, int64_t cost, char *title, char *evidence,
                        char *fix, int64_t object_id, int64_t utid, int64_t region) {
  if (!title || !evidence || !fix) return oom(c);
  WeftFinding f = {.kind = kind, .kind_name = find_kind_name(kind), .cost_ns = cost, .title = title,
                   .evidence = evidence, .fix = fix, .object_id = object_id, .utid = utid, .region = region};
  if (VEC_PUSH(fv->v, fv->n, fv->cap, f) < 0) return oom(c);
  return true;
}

/* CPython makes a lock per Future, Event, Condition or Queue: many objects
 * of one creation site, told apart only by an ordinal ("... #17"), each with
 * a wait or two. They are one finding, not one per object. */
typedef struct {
  size_t      idx;    /* in m->objects */
  int64_t     upid;
  const char *base;   /* the name without " #k" */
  size_t      blen;
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

static bool is_pylock(const WeftMetrics *m, const WeftObjectMetrics *o) {
  return o->kind == WEFT_KIND_SEM && weft_python_process(m->python, o->upid) &&
         !weft_python_pool_of(m->python, o->upid) && !weft_python_is_gil_object(m->python, o->object_id);
}

/* Groups of 2+ Python locks with waits: one finding each; their members are
 * marked in grouped[]. */
static bool find_pylock_groups(Ctx *c, FindVec *fv, int64_t min_cost, bool *grouped) {
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
  for (size_t a = 0, b; a < n && !c->failed; a = b) {
    int64_t wait = 0, crit = 0, waits = 0;
    size_t top = k[a].idx;
    for (b = a; b < n && k[b].upid == k[a].upid && k[b].blen == k[a].blen &&
                !strncmp(k[b].base, k[a].base, k[a].blen); b++) {
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
    char *evidence = pool_printf(pl, "%lld waits in all; the longest %s on %s (waited %s in all); CPython makes "
                                     "one per Future, Event, Condition or Queue",
                                 (long long)waits, weft_format_ns(b2, sizeof b2, t->wait_max_ns), t->label,
                                 weft_format_ns(b3, sizeof b3, t->wait_ns));
    add_finding(c, fv, WEFT_FIND_CONTENTION, cost, title, evidence,
                pool_strdup(pl, "waits for results (Future.result(), Event.wait(), Queue.get()) are idle by design "
                                "when the waiting thread has nothing else to do; if they hold up the run, the work "
                                "they wait for is the thing to speed up (see the critical path); if threads "
                                "contend for one lock, hold it for less time"),
                t->object_id, -1, -1);
  }
  free(k);
  return !c->failed;
}

static bool find_objects(Ctx *c, FindVec *fv, int64_t min_cost) {
  WeftMetrics *m = c->m;
  Pool *pl = c->pool;
  bool *grouped = calloc(m->nobjects ? m->nobjects : 1, sizeof *grouped);
  if (!grouped) return oom(c);
  if (m->python && !find_pylock_groups(c, fv, min_cost, grouped)) {
    free(grouped);
    return false;
  }
  for (size_t i = 0; i < m->nobjects && !c->failed; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    if (grouped[i]) continue;
    bool cond = o->kind == WEFT_KIND_COND;
    if (!(kind_is_lockish(o->kind) || cond) || o->wait_ns < min_cost || o->wait_ns <= 0) continue;
    if (weft_python_is_gil_object(m->python, o->object_id)) continue; /* the GIL: python.c's finding */
    bool pylock = o->kind == WEFT_KIND_SEM && weft_python_process(m->python, o->upid);
    /* a pool's parent waiting for results and its workers waiting for tasks
     * wait by design: the pool's finding (straggler, balance, the parent's
     * wait) tells why, not a lock finding per queue */
    if (pylock && weft_python_pool_of(m->python, o->upid)) continue;
    const char *noun = pylock ? "Python lock or semaphore"
                       : o->kind == WEFT_KIND_MUTEX ? "lock"
                       : kind_is_rwlock(o->kind) ? "rwlock"
                       : o->kind == WEFT_KIND_SPIN ? "spinlock"
                       : o->kind == WEFT_KIND_SEM  ? "semaphore"
                                                   : "condition variable";
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32], b7[32], p1[16], p2[16];
    char *title = pool_printf(pl, "%s %s: threads waited %s on it (%s of all waiting); %zu call site%s", noun,
                              o->label, weft_format_ns(b1, sizeof b1, o->wait_ns),
                              pct(p1, sizeof p1, o->wait_share), o->nsites_total, o->nsites_total == 1 ? "" : "s");
    char acq[96] = "";
    if (o->acquisitions > 0)
      snprintf(acq, sizeof acq, "%lld of %lld acquisitions contended (%s); ", (long long)o->contended,
               (long long)o->acquisitions, pct(p2, sizeof p2, o->contended_frac));
    else
      snprintf(acq, sizeof acq, "%lld wait%s; ", (long long)o->waits, o->waits == 1 ? "" : "s");
    char hold[320] = "";
    if (o->holds && m->holds_all)
      snprintf(hold, sizeof hold, "; held %s in %lld hold%s (mean %s, max %s); %lld hand-off%s",
               weft_format_ns(b5, sizeof b5, o->hold_ns), (long long)o->holds, o->holds == 1 ? "" : "s",
               weft_format_ns(b6, sizeof b6, o->hold_mean_ns), weft_format_ns(b7, sizeof b7, o->hold_max_ns),
               (long long)o->handoffs, o->handoffs == 1 ? "" : "s");
    else if (o->holds && o->hold_est_ns >= 0) /* contention first, with a sample: estimates, marked */
      snprintf(hold, sizeof hold, "; held ≈%s in all (the %lld hold%s someone waited for: %s, max %s; the "
               "others ≈%s each, from %lld timed); %lld hand-off%s",
               weft_format_ns(b5, sizeof b5, o->hold_est_ns), (long long)o->holds, o->holds == 1 ? "" : "s",
               weft_format_ns(b6, sizeof b6, o->hold_ns), weft_format_ns(b7, sizeof b7, o->hold_max_ns),
               weft_format_ns(b1, sizeof b1, o->hold_sample_mean_ns), (long long)o->hold_samples,
               (long long)o->handoffs, o->handoffs == 1 ? "" : "s");
    else if (o->holds)
      snprintf(hold, sizeof hold, "; the %lld hold%s someone waited for: %s, max %s; %lld hand-off%s",
               (long long)o->holds, o->holds == 1 ? "" : "s", weft_format_ns(b5, sizeof b5, o->hold_ns),
               weft_format_ns(b7, sizeof b7, o->hold_max_ns), (long long)o->handoffs, o->handoffs == 1 ? "" : "s");
    char crit[160] = "";
    if (o->critical_share_ns > 0 && m->critical_path && m->critical_path->length_ns > 0)
      snprintf(crit, sizeof crit, "; its waits put %s on the critical path (%s of the run)",
               weft_format_ns(b1, sizeof b1, o->critical_share_ns),
               pct(p1, sizeof p1, (double)o->critical_share_ns / (double)m->critical_path->length_ns));
    char *evidence = pool_printf(pl, "%swait p50 %s, p99 %s, max %s%s; %lld thread%s waited; top site %s%s", acq,
                                 weft_format_ns(b2, sizeof b2, o->wait_p50_ns),
                                 weft_format_ns(b3, sizeof b3, o->wait_p99_ns),
                                 weft_format_ns(b4, sizeof b4, o->wait_max_ns), hold, (long long)o->waiters,
                                 o->waiters == 1 ? "" : "s", o->nsites ? o->sites[0].label : "(unknown)", crit);
    const char *fix;
    if (o->kind == WEFT_KIND_MUTEX)
      fix = "shorten the critical section (move work out of it) or shard the lock (one per bucket or per "
            "thread, merged at the end)";
    else if (kind_is_rwlock(o->kind))
      fix = "shorten the write-locked sections; if reads dominate, use per-thread copies or RCU instead of "
            "a shared rwlock";
    else if (o->kind == WEFT_KIND_SPIN)
      fix = "a spinlock held this long burns CPU in the waiters: use a mutex, or shorten the critical section";
    else if (pylock)
      fix = "CPython's threading.Lock, and the Condition, Event, Queue, Future.result() and Thread.join() "
            "built on it, and multiprocessing's locks, queues and semaphores, are semaphores: if the waiting "
            "thread is idle by design (a pool's parent waiting for results, a worker waiting for tasks), "
            "nothing to fix; if threads contend for a lock, hold it for less time or give each thread its own "
            "data";
    else if (o->kind == WEFT_KIND_SEM)
      fix = "the semaphore's count limits concurrency: raise it if the resource allows, or hold it for less "
            "time";
    else
      fix = "threads wait for work or a state change: the producer is the bottleneck or the tasks are too "
            "small; hand out work in bigger batches, or add producers";
    /* a wait on the critical path costs the run time too: its share counts twice */
    add_finding(c, fv, cond ? WEFT_FIND_CONDVAR : WEFT_FIND_CONTENTION, sat_add(o->wait_ns, o->critical_share_ns),
                title, evidence,
                pool_strdup(pl, fix), o->object_id, -1, -1);
  }
  free(grouped);
  return !c->failed;
}

static void thread_name(const Ctx *c, int64_t utid, char *buf, size_t len) {
  ctx_thread_label(c, utid, buf, len);
}

static bool find_imbalance(Ctx *c, FindVec *fv, int64_t min_cost) {
  WeftMetrics *m = c->m;
  Pool *pl = c->pool;
  char b1[32], b2[32], b3[32], b4[32], b5[32], who[160];
  /* fork-join groups and phases, one finding per region */
  for (size_t i = 0; i < m->nregions && !c->failed; i++) {
    const WeftRegion *r = &m->regions[i];
    if (r->kind == WEFT_REGION_BARRIER || r->nteam < 2 || r->pop.lb >= FIND_IMBALANCE_LB ||
        r->pop.imbalance_ns < min_cost || r->pop.imbalance_ns <= 0)
      continue;
    /* a fork-join group that a phase marks exactly: one finding, under the
     * phase's name (regions are sorted by start, so the twin is near) */
    bool twin = false;
    for (size_t k = i + 1; r->kind == WEFT_REGION_FORK_JOIN && k < m->nregions &&
                           m->regions[k].start_ns == r->start_ns; k++) {
      const WeftRegion *r2 = &m->regions[k];
      twin |= r2->kind == WEFT_REGION_PHASE && r2->end_ns == r->end_ns && r2->nteam == r->nteam &&
              !memcmp(r2->team_utid, r->team_utid, r->nteam * sizeof *r->team_utid);
    }
    if (twin) continue;
    thread_name(c, r->straggler_utid, who, sizeof who);
    int64_t mn = INT64_MAX;
    for (size_t k = 0; k < r->nteam; k++) mn = min64(mn, r->team_useful_ns[k]);
    char *title = pool_printf(pl, "load imbalance in %s: LB %.2f; %s is the straggler; %s of thread time idle",
                              r->label, r->pop.lb, who, weft_format_ns(b1, sizeof b1, r->pop.idle_ns));
    char *evidence = pool_printf(
      pl, "%zu threads over %s: useful time min %s, mean %s, max %s; parallel efficiency %.2f", r->nteam,
      weft_format_ns(b2, sizeof b2, r->pop.span_ns), weft_format_ns(b3, sizeof b3, mn),
      weft_format_ns(b4, sizeof b4, r->pop.sum_useful_ns / (int64_t)r->nteam),
      weft_format_ns(b5, sizeof b5, r->pop.max_useful_ns), r->pop.pe);
    char *fix = pool_strdup(pl, "split the work into smaller chunks handed out dynamically (a shared work queue, "
                                "OpenMP schedule(dynamic)) instead of one equal share per thread");
    add_finding(c, fv, WEFT_FIND_IMBALANCE, r->pop.imbalance_ns, title, evidence, fix, -1, r->straggler_utid,
                (int64_t)i);
  }
  /* barriers: one finding per object over all its rounds */
  for (size_t oi = 0; oi < m->nobjects && !c->failed; oi++) {
    const WeftObjectMetrics *o = &m->objects[oi];
    if (o->kind != WEFT_KIND_BARRIER) continue;
    double sum_mean = 0, sum_max = 0;
    int64_t cost = 0, idle = 0, rounds = 0, worst = -1, worst_cost = -1;
    for (size_t i = 0; i < m->nregions; i++) {
      const WeftRegion *r = &m->regions[i];
      if (r->kind != WEFT_REGION_BARRIER || r->object_id != o->object_id || r->nteam < 2) continue;
      rounds++;
      sum_mean += (double)r->pop.sum_useful_ns / (double)r->nteam;
      sum_max += (double)r->pop.max_useful_ns;
      cost += r->pop.imbalance_ns;
      idle += r->pop.idle_ns;
      if (r->pop.imbalance_ns > worst_cost) {
        worst_cost = r->pop.imbalance_ns;
        worst = (int64_t)i;
      }
    }
    double lb = sum_max > 0 ? sum_mean / sum_max : 1.0;
    if (!rounds || lb >= FIND_IMBALANCE_LB || cost < min_cost || cost <= 0) continue;
    /* the thread that was the straggler most often (lowest utid on ties) */
    int64_t best = -1, best_n = 0;
    WeftHMap cnt = {0};
    int64_t *counts = calloc(m->nthreads ? m->nthreads : 1, sizeof *counts);
    if (!counts) return oom(c);
    for (size_t i = 0; i < m->nregions && !c->failed; i++) {
      const WeftRegion *r = &m->regions[i];
      if (r->kind != WEFT_REGION_BARRIER || r->object_id != o->object_id || r->nteam < 2) continue;
      size_t slot;
      if (!weft_hmap_get(&cnt, r->straggler_utid, 0, &slot)) {
        slot = cnt.n;
        if (slot >= m->nthreads || weft_hmap_put(&cnt, r->straggler_utid, 0, slot) < 0) {
          oom(c);
          break;
        }
      }
      int64_t n = ++counts[slot];
      if (n > best_n || (n == best_n && r->straggler_utid < best)) {
        best_n = n;
        best = r->straggler_utid;
      }
    }
    free(counts);
    weft_hmap_free(&cnt);
    if (c->failed) break;
    thread_name(c, best, who, sizeof who);
    char *title = pool_printf(pl, "load imbalance between the rounds of barrier %s: LB %.2f over %lld round%s; "
                                  "%s was the straggler in %lld; %s of thread time idle",
                              o->label, lb, (long long)rounds, rounds == 1 ? "" : "s", who, (long long)best_n,
                              weft_format_ns(b1, sizeof b1, idle));
    char *evidence = pool_printf(pl, "threads waited %s at the barrier; the worst round is %s (LB %.2f, %s)",
                                 weft_format_ns(b2, sizeof b2, o->wait_ns), m->regions[worst].label,
                                 m->regions[worst].pop.lb,
                                 weft_format_ns(b3, sizeof b3, m->regions[worst].pop.span_ns));
    char *fix = pool_strdup(pl, "balance the work of each phase (smaller chunks, work stealing), or let fast "
                                "threads take other work instead of waiting at the barrier");
    add_finding(c, fv, WEFT_FIND_IMBALANCE, cost, title, evidence, fix, o->object_id, best, worst);
  }
  return !c->failed;
}

/* CPUs the program may use: its affinity, or its cgroup's limit if lower; 0 unknown. */
static double usable_cpus(const WeftMetrics *m) {
  double n = m->ncpus > 0 ? (double)m->ncpus : 0;
  double lim = m->cpu_limit_milli > 0 ? (double)m->cpu_limit_milli / 1000 : 0;
  return n > 0 && lim > 0 ? (lim < n ? lim : n) : n > 0 ? n : lim;
}

/* Time runnable but waiting for a CPU (compared with the thread time, not
 * the running time: a woken waiter waits for its CPU inside its wait).
 * The program's own doing when it kept the CPUs busy itself (its on-CPU
 * time at least 3/4 of the usable CPUs over the range) or had more threads
 * running or runnable outside waits than CPUs for at least half of that
 * time: then advice, with that cost. Otherwise other load or a CPU limit
 * took the CPUs: a warning about the measurement (cost 0), not advice. */
static bool find_runnable(Ctx *c, FindVec *fv, int64_t min_cost) {
  WeftMetrics *m = c->m;
  const WeftSummary *s = &m->summary;
  const WeftParallelism *p = &m->parallelism;
  Pool *pl = c->pool;
  char b1[32], b2[32], b3[32], p1[16], p2[16];
  int64_t rq = s->time.runnable_ns;
  if (rq <= 0 || s->thread_ns <= 0 || (double)rq < FIND_RUNQ_SHARE * (double)s->thread_ns || rq < min_cost)
    return true;
  double cpus = usable_cpus(m), used = s->span_ns > 0 ? (double)s->time.oncpu_ns / (double)s->span_ns : 0;
  double excess = 0; /* thread-ns with more threads in state running than CPUs, beyond the CPUs */
  for (size_t k = 1; cpus > 0 && k <= p->kmax; k++)
    if ((double)k > cpus) excess += ((double)k - cpus) * (double)p->ns[k];
  bool own = cpus <= 0 || used >= 0.75 * cpus || excess >= 0.5 * (double)rq;
  char ncpu[48] = "an unknown number of";
  if (cpus > 0) snprintf(ncpu, sizeof ncpu, "%g", cpus);
  char other[192] = "";
  if (m->other_cpu_ns >= 0) {
    int n = snprintf(other, sizeof other, "; other processes used %s of CPU time during the run",
                     weft_format_ns(b3, sizeof b3, m->other_cpu_ns));
    if (m->machine_steal_ns > 0 && n > 0 && (size_t)n < sizeof other)
      snprintf(other + n, sizeof other - (size_t)n, ", the hypervisor took %s",
               weft_format_ns(b3, sizeof b3, m->machine_steal_ns));
  }
  char *evidence = pool_printf(pl, "up to %zu thread%s running at once, on %s CPU%s; the program used %.2f CPUs on "
                                   "average (on-CPU time %s)%s",
                               p->kmax, p->kmax == 1 ? "" : "s", ncpu, cpus == 1 ? "" : "s", used,
                               weft_format_ns(b2, sizeof b2, s->time.oncpu_ns), other);
  if (!own) {
    char *title = pool_printf(pl, "measurement: threads waited %s for a CPU (%s of the thread time) that other load "
                                  "took, not the program's own threads",
                              weft_format_ns(b1, sizeof b1, rq), pct(p1, sizeof p1, (double)rq / (double)s->thread_ns));
    char *fix = pool_printf(pl, "a warning about this measurement, not advice: the program used %s of the %s CPUs it "
                                "may use; other processes%s or a CPU limit (cgroup quota, taskset) took the rest. "
                                "Measure on a quiet machine; `weft scale --repeat` shows the spread",
                            pct(p2, sizeof p2, used / cpus), ncpu, m->other_cpu_ns > 0 ? " (see the evidence)" : "");
    return add_finding(c, fv, WEFT_FIND_MACHINE_LOAD, 0, title, evidence, fix, -1, -1, -1);
  }
  char *title = pool_printf(pl, "threads were runnable but waiting for a CPU for %s (%s of the thread time)",
                            weft_format_ns(b1, sizeof b1, rq), pct(p1, sizeof p1, (double)rq / (double)s->thread_ns));
  char *fix;
  if (cpus > 0)
    fix = pool_printf(pl, "more runnable threads than CPUs: use at most %g worker thread%s (the CPUs this program "
                          "may use), or fewer threads that each do more",
                      cpus, cpus == 1 ? "" : "s");
  else
    fix = pool_strdup(pl, "use at most one worker thread per CPU");
  return add_finding(c, fv, WEFT_FIND_OVERSUBSCRIBED, rq, title, evidence, fix, -1, -1, -1);
}

static bool find_global(Ctx *c, FindVec *fv, int64_t min_cost) {
  WeftMetrics *m = c->m;
  const WeftSummary *s = &m->summary;
  Pool *pl = c->pool;
  char b1[32], b2[32], b3[32], p1[16];
  const WeftParallelism *p = &m->parallelism;
  if (p->kmax >= 2 && p->span_ns > 0) {
    /* time when nothing ran while threads waited in I/O together is I/O
     * latency, not a serial phase */
    int64_t serial = max64(0, p->ns[0] - p->io_overlap_ns) + p->ns[1];
    double frac = (double)serial / (double)p->span_ns;
    /* cost: the wall time itself. Multiplying by the idle capacity would
     * rank it above the lock or imbalance that usually causes it. */
    int64_t cost = serial;
    if (frac >= FIND_SERIAL_SHARE && cost >= min_cost) {
      char *title = pool_printf(pl, "serial phases: at most one thread running for %s of the time (%s)",
                                pct(p1, sizeof p1, frac), weft_format_ns(b1, sizeof b1, serial));
      char b4[32], io[160] = "";
      if (p->io_overlap_ns > 0)
        snprintf(io, sizeof io, " (not counted: %s of it with 2 or more threads blocked in I/O at once)",
                 weft_format_ns(b4, sizeof b4, p->io_overlap_ns));
      char *evidence = pool_printf(pl, "no thread running %s%s, one thread %s; up to %zu threads ran at once; "
                                       "average parallelism %.2f",
                                   weft_format_ns(b2, sizeof b2, p->ns[0]), io,
                                   weft_format_ns(b3, sizeof b3, p->ns[1]), p->kmax, p->average);
      char *fix = pool_printf(pl, "parallelise the serial part or overlap it with parallel work: with %s of the "
                                  "time serial, no number of threads can make this range more than %.1fx faster "
                                  "(Amdahl)",
                              pct(p1, sizeof p1, frac), 1.0 / frac);
      add_finding(c, fv, WEFT_FIND_SERIAL, cost, title, evidence, fix, -1, -1, -1);
    }
  }
  if (!find_runnable(c, fv, min_cost)) return false;
  static const struct {
    int state;
    WeftFindingKind kind;
    const char *what, *fix;
  } st[] = {
    {WEFT_ST_IO_WAIT, WEFT_FIND_IO, "threads were blocked in I/O for %s (%s of thread time)",
     "overlap I/O with computation: read ahead, use more I/O threads or asynchronous I/O, or batch small "
     "reads and writes"},
    {WEFT_ST_SLEEP, WEFT_FIND_SLEEP, "threads slept %s (%s of thread time)",
     "sleeping to wait for something (polling) wastes time: wait on a condition variable, semaphore or "
     "eventfd that wakes the thread exactly when it is ready"},
  };
  for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
    int64_t v = s->state_ns[st[i].state];
    /* CPython threads' I/O and sleeps: python.c judges them (pool helpers idle in reads, I/O threads) */
    if (m->python) v -= st[i].state == WEFT_ST_IO_WAIT ? m->python->io_ns : m->python->sleep_ns;
    if (v <= 0 || v < min_cost || s->thread_ns <= 0) continue;
    /* the thread that spent the most time in it */
    int64_t top = -1, topv = -1;
    for (size_t k = 0; k < m->nthreads; k++)
      if (m->threads[k].state_ns[st[i].state] > topv) {
        topv = m->threads[k].state_ns[st[i].state];
        top = m->threads[k].utid;
      }
    char who[160];
    thread_name(c, top, who, sizeof who);
    char *title = pool_printf(pl, st[i].what, weft_format_ns(b1, sizeof b1, v),
                              pct(p1, sizeof p1, (double)v / (double)s->thread_ns));
    char *evidence = pool_printf(pl, "most of it in %s (%s)", who, weft_format_ns(b2, sizeof b2, topv));
    add_finding(c, fv, st[i].kind, v, title, evidence, pool_strdup(pl, st[i].fix), -1, top, -1);
  }
  return !c->failed;
}

static int cmp_finding(const void *x, const void *y) {
  const WeftFinding *a = x, *b = y;
  if (a->cost_ns != b->cost_ns) return a->cost_ns > b->cost_ns ? -1 : 1;
  if (a->kind != b->kind) return (int)a->kind - (int)b->kind;
  if (a->object_id != b->object_id) return (a->object_id > b->object_id) - (a->object_id < b->object_id);
  return (a->region > b->region) - (a->region < b->region);
}

/* The Python analysis (python.h), before the critical path (its what-ifs
 * leave out a pool's queues) and the findings (it has findings of its own). */
static bool build_python(Ctx *c) {
  WeftMetrics *m = c->m;
  int64_t min_cost = (m->summary.thread_ns + FIND_MIN_COST_DIV - 1) / FIND_MIN_COST_DIV; /* rounded up */
  int pyfail = 0;
  m->python = weft_python_compute(c->db, m, min_cost, &pyfail, c->err, c->errlen);
  if (pyfail) c->failed = true;
  return !c->failed;
}

static bool build_findings(Ctx *c) {
  WeftMetrics *m = c->m;
  FindVec fv = {0};
  int64_t min_cost = (m->summary.thread_ns + FIND_MIN_COST_DIV - 1) / FIND_MIN_COST_DIV; /* rounded up */
  if (!c->failed) {
    for (size_t i = 0; m->python && i < m->python->nfindings; i++)
      if (VEC_PUSH(fv.v, fv.n, fv.cap, m->python->findings[i]) < 0) oom(c);
  }
  if (!c->failed && find_objects(c, &fv, min_cost) && find_imbalance(c, &fv, min_cost)) find_global(c, &fv, min_cost);
  if (c->failed) {
    free(fv.v);
    return false;
  }
  if (fv.n) qsort(fv.v, fv.n, sizeof *fv.v, cmp_finding);
  m->findings = fv.v;
  m->nfindings = fv.n;
  return true;
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
  sqlite3_stmt *q = prep(c, "SELECT ts_ns, cpu_ns, runq_ns FROM sched_sample WHERE utid = ?1 ORDER BY ts_ns");
  if (!q) return false;
  /* useful time is time on a CPU outside recorded waits (thread_time) */
  for (size_t i = 0; i < m->nthreads && !c->failed; i++)
    thread_time(c, q, thread_info(c, m->threads[i].utid), i, &m->threads[i]);
  sqlite3_finalize(q);
  if (c->failed) return false;
  /* other processes' CPU time during the run: the machine's less every
   * thread of the recording (the whole run, whatever the range) */
  if (m->machine_busy_ns >= 0) {
    int64_t own = 0;
    for (size_t i = 0; i < c->nthr; i++) own += max64(c->thr[i].cpu, 0);
    m->other_cpu_ns = max64(m->machine_busy_ns - own, 0);
  }

  int64_t *useful = malloc((m->nthreads ? m->nthreads : 1) * sizeof *useful);
  if (!useful) return oom(c);
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
    useful[i] = t->useful_ns;
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
  weft_pop(useful, m->nthreads, s->span_ns, &s->pop);
  /* per process: its threads over its lifetime in the range */
  for (size_t pi = 0; pi < m->nprocesses; pi++) {
    WeftProcessMetrics *p = &m->processes[pi];
    size_t n = 0;
    for (size_t i = 0; i < m->nthreads; i++)
      if (m->threads[i].upid == p->upid) useful[n++] = m->threads[i].useful_ns;
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
  if ((m->pid < 0 && !m->launchers) || !m->nprocesses) return true;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (size_t i = 0; i < c->nprocs; i++)
    if (c->procs[i].sel) {
      lo = min64(lo, c->procs[i].start);
      hi = max64(hi, c->procs[i].end);
    }
  int64_t a = q->start_ns == WEFT_TIME_OPEN_START ? max64(lo, c->a) : c->a;
  int64_t b = q->end_ns == WEFT_TIME_OPEN_END ? min64(hi, c->b) : c->b;
  if (a >= b) return true; /* a process of no duration: keep the range */
  c->a = m->range_start_ns = a;
  c->b = m->range_end_ns = b;
  m->whole = a == 0 && b == end;
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
  free(c->waits);
  free(c->cpu);
  acc_free(c);
  free(c->stacks);
  weft_hmap_free(&c->stack_by_id);
}

WeftMetrics *weft_metrics_compute(sqlite3 *db, const WeftMetricsQuery *query, char *err, size_t errlen) {
  WeftMetricsQuery dq;
  if (!query) {
    weft_metrics_query_init(&dq);
    query = &dq;
  }
  if (err && errlen) err[0] = '\0';
  WeftMetrics *m = calloc(1, sizeof *m);
  Priv *priv = calloc(1, sizeof *priv);
  if (!m || !priv) {
    free(m);
    free(priv);
    if (err && errlen) snprintf(err, errlen, "out of memory");
    return NULL;
  }
  m->_priv = priv;
  Ctx c = {.db = db, .m = m, .pool = &priv->pool, .err = err, .errlen = errlen};
  unsigned what = query->what ? query->what : WEFT_METRICS_ALL;
  if (what & WEFT_METRICS_FINDINGS) what |= WEFT_METRICS_OBJECTS | WEFT_METRICS_REGIONS | WEFT_METRICS_PARALLELISM;
  if (what & WEFT_METRICS_CRITICAL_PATH) what |= WEFT_METRICS_OBJECTS; /* names and per-object shares */
  what &= WEFT_METRICS_ALL;
  m->what = what;
  m->pid = query->pid < 0 ? -1 : query->pid;

  int64_t end = 0;
  /* one read transaction: a consistent snapshot, and faster. A transaction
   * of the caller's may hold changes other connections cannot see: then no
   * worker threads. */
  bool txn = sqlite3_get_autocommit(db);
  if (txn && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) sql_fail(&c);
  if (!c.failed && load_meta(&c, &end)) {
    int64_t a = query->start_ns == WEFT_TIME_OPEN_START ? 0 : query->start_ns;
    int64_t b = query->end_ns == WEFT_TIME_OPEN_END ? end : query->end_ns;
    char b1[32], b2[32], b3[32];
    if (end <= 0)
      fail(&c, "the recording is empty");
    else if (max64(a, 0) >= min64(b, end))
      fail(&c, "the range %s..%s does not overlap the recording (0 ns..%s)",
           a < 0 ? "-" : weft_format_ns(b1, sizeof b1, a), b < 0 ? "-" : weft_format_ns(b2, sizeof b2, b),
           weft_format_ns(b3, sizeof b3, end));
    c.a = max64(a, 0);
    c.b = min64(b, end);
    m->range_start_ns = c.a;
    m->range_end_ns = c.b;
    m->whole = c.a == 0 && c.b == end;
  }
  if (!c.failed && load_processes(&c, m->pid, query->all_processes || query->start_ns != WEFT_TIME_OPEN_START) &&
      narrow_to_processes(&c, query, end) && load_threads(&c) &&
      load_all(&c, (what & WEFT_METRICS_OBJECTS) != 0, txn ? query->jobs : 1) &&
      (!(what & WEFT_METRICS_OBJECTS) || load_counts(&c)) && build_summary(&c)) {
    /* objects are needed by the barrier regions */
    if (what & (WEFT_METRICS_OBJECTS | WEFT_METRICS_REGIONS)) build_objects(&c);
    if (!c.failed && (what & WEFT_METRICS_REGIONS)) build_regions(&c);
    if (!c.failed && (what & WEFT_METRICS_PARALLELISM)) build_parallelism(&c);
    if (!c.failed && (what & (WEFT_METRICS_CRITICAL_PATH | WEFT_METRICS_FINDINGS))) build_python(&c);
    if (!c.failed && (what & WEFT_METRICS_CRITICAL_PATH)) build_critical_path(&c);
    if (!c.failed && (what & WEFT_METRICS_FINDINGS)) build_findings(&c);
    if (!c.failed && !(what & WEFT_METRICS_OBJECTS)) m->nobjects = 0;
  }
  if (txn) sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
  ctx_free(&c);
  if (c.failed) {
    weft_metrics_free(m);
    return NULL;
  }
  return m;
}

void weft_metrics_free(WeftMetrics *m) {
  if (!m) return;
  free(m->processes);
  free(m->threads);
  free(m->objects);
  free(m->regions);
  free(m->findings);
  free(m->parallelism.ns);
  free(m->parallelism.fraction);
  weft_python_free(m->python);
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
    if (m->threads[mid].utid < utid) lo = mid + 1;
    else hi = mid;
  }
  return lo < m->nthreads && m->threads[lo].utid == utid ? &m->threads[lo] : NULL;
}

const WeftProcessMetrics *weft_metrics_process(const WeftMetrics *m, int64_t upid) {
  for (size_t i = 0; i < m->nprocesses; i++)
    if (m->processes[i].upid == upid) return &m->processes[i];
  return NULL;
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
