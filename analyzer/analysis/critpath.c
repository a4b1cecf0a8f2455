/* critpath.c - the critical path through a recording (see critpath.h,
 * metrics.h and docs/report-json.md, "Critical path").
 * SPDX-License-Identifier: MIT
 *
 * The walk goes backwards in time from (end_utid, end_ns). At (u, t) it
 * looks at u's state interval [s, e) containing the instant just before t
 * (the row with the largest start_ns < t, through the primary key, stepping
 * down the same cursor while it stays on u):
 *   - running: [max(s, a), t) is on the path, on u; t = s;
 *   - a wait left at its end (t == e) through an incoming flow (any kind)
 *     from another thread v at from_ns, with s <= from_ns <= t: the wait is
 *     pushed on the cause stack, [from_ns, t) (the wake-up latency) stays on
 *     u, and the walk continues at (v, from_ns);
 *   - any other wait (no flow: a timeout, a sleep, I/O; or entered in the
 *     middle), and every GIL wait: [max(s, a), t) is on the path, on u, in
 *     that wait; t = s. The GIL is not followed to the thread that dropped
 *     it: that thread ran unrelated Python code (every thread takes turns),
 *     while what u was doing before (a read of a pool's results, say) is
 *     what made it ready; its GIL waits stay on the path as the GIL's cost;
 *   - before u's first state: through the create/fork/exec flow that
 *     started u to its source; without one, the rest is before_ns.
 * Each path instant's cause is the innermost jumped wait covering it (the
 * top of the cause stack whose wait began before the instant), else the
 * thread's own wait when it stayed in one. The cause stack keeps its starts
 * increasing: a pushed wait that began earlier than the top covers every
 * instant the top would.
 *
 * Then lock holds: each thread's holds (lock_hold_thread) intersected with
 * its path segments give the time the path spent inside a hold of each
 * object.
 */
#include "analysis-private.h"
#include "critpath.h"
#include "holds.h"
#include "naming.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft-db.h"

#define NOPROGRESS_MAX 64   /* flows followed without time going back: a cycle (bad data); stop following */

/* ---- a hash map from a pair of int64 to an index ---- */

typedef struct {
  int64_t k1, k2;
  size_t  v;
  bool    used;
} CEnt;

typedef struct {
  CEnt  *e;
  size_t cap, n;
} CMap;

static size_t cslot(const CMap *h, int64_t k1, int64_t k2) {
  uint64_t x = (uint64_t)k1 * 0x9e3779b97f4a7c15ull ^ ((uint64_t)k2 + 0x632be59bd9b4e019ull) * 0xbf58476d1ce4e5b9ull;
  x ^= x >> 31;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 29;
  size_t mask = h->cap - 1, i = (size_t)x & mask;
  while (h->e[i].used && (h->e[i].k1 != k1 || h->e[i].k2 != k2)) i = (i + 1) & mask;
  return i;
}

static bool cget(const CMap *h, int64_t k1, int64_t k2, size_t *v) {
  if (!h->cap) return false;
  const CEnt *e = &h->e[cslot(h, k1, k2)];
  if (!e->used) return false;
  *v = e->v;
  return true;
}

static int cput(CMap *h, int64_t k1, int64_t k2, size_t v) {
  if ((h->n + 1) * 2 > h->cap) {
    size_t nc = h->cap ? h->cap * 2 : 64;
    CMap nh = {calloc(nc, sizeof(CEnt)), nc, 0};
    if (!nh.e) return -1;
    for (size_t i = 0; i < h->cap; i++)
      if (h->e[i].used) {
        nh.e[cslot(&nh, h->e[i].k1, h->e[i].k2)] = h->e[i];
        nh.n++;
      }
    free(h->e);
    *h = nh;
  }
  CEnt *e = &h->e[cslot(h, k1, k2)];
  if (!e->used) h->n++;
  *e = (CEnt){k1, k2, v, true};
  return 0;
}

static int reserve(void **v, size_t *cap, size_t n, size_t sz) {
  if (n < *cap) return 0;
  size_t nc = *cap ? *cap * 2 : 16;
  while (nc <= n) nc *= 2;
  void *nv = realloc(*v, nc * sz);
  if (!nv) return -1;
  *v = nv;
  *cap = nc;
  return 0;
}
#define PUSH(vec, n, cap, val) \
  (reserve((void **)&(vec), &(cap), (n), sizeof *(vec)) == 0 ? ((vec)[(n)++] = (val), 0) : -1)

/* ---- the walk ---- */

typedef struct {
  int64_t object_id, stack_id, s;
} Cause;

typedef struct {
  sqlite3      *db;
  WeftCpResult *r;
  char         *err;
  size_t        errlen;
  bool          failed;
  int64_t       a;
  size_t        capthr, capobj, capsite, capseg;
  CMap          thr, obj, site;
  Cause        *cause;
  size_t        ncause, capcause;
  WeftPathSegment cur;       /* the segment being walked (its start moves down) */
} W;

static bool wfail(W *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool wfail(W *w, const char *fmt, ...) {
  if (!w->failed && w->err && w->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, w->errlen, fmt, ap);
    va_end(ap);
  }
  w->failed = true;
  return false;
}
static bool woom(W *w) { return wfail(w, "out of memory"); }
static bool wsql(W *w) {
  const char *m = sqlite3_errmsg(w->db);
  return wfail(w, "cannot read the database: %s", m ? m : "unknown error");
}

static WeftCpThread *thr(W *w, int64_t utid) {
  size_t i;
  if (!cget(&w->thr, utid, 0, &i)) {
    WeftCpThread t = {.utid = utid};
    if (PUSH(w->r->threads, w->r->nthreads, w->capthr, t) < 0 || cput(&w->thr, utid, 0, w->r->nthreads - 1) < 0)
      return woom(w), NULL;
    i = w->r->nthreads - 1;
  }
  return &w->r->threads[i];
}

static WeftCpObject *obj(W *w, int64_t object_id) {
  size_t i;
  if (!cget(&w->obj, object_id, 0, &i)) {
    WeftCpObject o = {.object_id = object_id};
    if (PUSH(w->r->objects, w->r->nobjects, w->capobj, o) < 0 ||
        cput(&w->obj, object_id, 0, w->r->nobjects - 1) < 0)
      return woom(w), NULL;
    i = w->r->nobjects - 1;
  }
  return &w->r->objects[i];
}

static void cause_add(W *w, int64_t object_id, int64_t stack_id, int64_t ns) {
  if (ns <= 0 || object_id < 0) return;
  WeftCpObject *o = obj(w, object_id);
  if (!o) return;
  o->cause_ns += ns;
  size_t i;
  if (!cget(&w->site, stack_id, object_id, &i)) {
    WeftCpSite s = {.stack_id = stack_id, .object_id = object_id};
    if (PUSH(w->r->sites, w->r->nsites, w->capsite, s) < 0 || cput(&w->site, stack_id, object_id, w->r->nsites - 1) < 0) {
      woom(w);
      return;
    }
    i = w->r->nsites - 1;
  }
  w->r->sites[i].cause_ns += ns;
}

/* [x, y) of thread u is on the path; direct_obj/direct_stack: the thread's
 * own wait when it stayed in one (-1: none). */
static void add(W *w, int64_t u, int64_t x, int64_t y, bool running, int64_t direct_obj, int64_t direct_stack) {
  if (y <= x) return;
  WeftCpThread *t = thr(w, u);
  if (!t) return;
  t->path_ns += y - x;
  w->r->path_ns += y - x;
  if (running) {
    t->running_ns += y - x;
    w->cur.running_ns += y - x;
  }
  while (y > x) {
    while (w->ncause && w->cause[w->ncause - 1].s >= y) w->ncause--;
    if (w->ncause) {
      const Cause *c = &w->cause[w->ncause - 1];
      int64_t lo = max64(x, c->s);
      cause_add(w, c->object_id, c->stack_id, y - lo);
      y = lo;
    } else {
      cause_add(w, direct_obj, direct_stack, y - x);
      y = x;
    }
  }
}

static bool cause_push(W *w, int64_t object_id, int64_t stack_id, int64_t s) {
  while (w->ncause && w->cause[w->ncause - 1].s >= s) w->ncause--;
  if (PUSH(w->cause, w->ncause, w->capcause, ((Cause){object_id, stack_id, s})) < 0) return woom(w);
  return true;
}

/* Close the current segment at t (entered through flow kind/object) and
 * start one on v ending at t. */
static bool seg_jump(W *w, int64_t t, int kind, int64_t object_id, int64_t v) {
  w->cur.start_ns = t;
  w->cur.flow_kind = kind;
  w->cur.object_id = object_id;
  if (w->cur.end_ns > w->cur.start_ns &&
      PUSH(w->r->segments, w->r->nsegments, w->capseg, w->cur) < 0)
    return woom(w);
  w->cur = (WeftPathSegment){.utid = v, .start_ns = t, .end_ns = t, .object_id = -1};
  return true;
}

static int cmp_seg_thread(const void *x, const void *y) {
  const WeftPathSegment *a = *(const WeftPathSegment *const *)x, *b = *(const WeftPathSegment *const *)y;
  if (a->utid != b->utid) return a->utid < b->utid ? -1 : 1;
  return (a->start_ns > b->start_ns) - (a->start_ns < b->start_ns);
}

typedef struct {
  W *w;
  const WeftPathSegment **v;
  size_t n;
} HoldCtx;

static int hold_on_path(const WeftHold *h, void *user) {
  HoldCtx *hc = user;
  int64_t hs = h->start_ns, he = hs + max64(h->dur_ns, 0);
  /* the first segment of the thread (v is by thread, then start) ending after hs */
  size_t lo = 0, up = hc->n;
  while (lo < up) {
    size_t mid = lo + (up - lo) / 2;
    const WeftPathSegment *g = hc->v[mid];
    if (g->utid < h->utid || (g->utid == h->utid && g->end_ns <= hs)) lo = mid + 1;
    else up = mid;
  }
  int64_t sum = 0;
  for (size_t k = lo; k < hc->n && hc->v[k]->utid == h->utid && hc->v[k]->start_ns < he; k++)
    sum += min64(he, hc->v[k]->end_ns) - max64(hs, hc->v[k]->start_ns);
  if (sum > 0) {
    WeftCpObject *o = obj(hc->w, h->object_id);
    if (!o) return 1;
    o->hold_ns += sum;
  }
  return 0;
}

/* Time the path spent inside each lock hold of the threads on it: one pass
 * over the holds that overlap the path's span. */
static bool holds(W *w) {
  WeftCpResult *r = w->r;
  if (!r->nsegments) return true;
  const WeftPathSegment **v = malloc(r->nsegments * sizeof *v);
  if (!v) return woom(w);
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (size_t i = 0; i < r->nsegments; i++) {
    v[i] = &r->segments[i];
    lo = min64(lo, v[i]->start_ns);
    hi = max64(hi, v[i]->end_ns);
  }
  qsort(v, r->nsegments, sizeof *v, cmp_seg_thread);
  HoldCtx hc = {w, v, r->nsegments};
  char e[200];
  if (weft_holds_scan(w->db, -1, lo, hi, hold_on_path, &hc, e, sizeof e) < 0) wfail(w, "%s", e);
  free(v);
  return !w->failed;
}

int weft_critpath_walk(sqlite3 *db, int64_t a, int64_t end_utid, int64_t end_ns, WeftCpResult *out, char *err,
                       size_t errlen) {
  memset(out, 0, sizeof *out);
  W w = {.db = db, .r = out, .err = err, .errlen = errlen, .a = a};
  sqlite3_stmt *qs = NULL, *qw = NULL, *qc = NULL;
  if (sqlite3_prepare_v2(db, "SELECT start_ns, dur_ns, state, object_id, stack_id FROM thread_state "
                             "WHERE utid = ?1 AND start_ns < ?2 ORDER BY start_ns DESC", -1, &qs, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT kind, from_utid, from_ns, object_id FROM flow WHERE to_utid = ?1 "
                             "AND to_ns > ?2 AND to_ns <= ?3 ORDER BY to_ns DESC, from_ns DESC LIMIT 1",
                         -1, &qw, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT kind, from_utid, from_ns, object_id FROM flow WHERE to_utid = ?1 "
                             "AND to_ns <= ?2 AND kind IN (5, 7, 8) ORDER BY to_ns DESC LIMIT 1",
                         -1, &qc, NULL) != SQLITE_OK) {
    wsql(&w);
    goto done;
  }

  int64_t u = end_utid, t = end_ns;
  int noprog = 0;
  bool have = false;
  int64_t s = 0, e = 0, ostack = -1, oobj = -1;
  int st = 0;
  w.cur = (WeftPathSegment){.utid = u, .start_ns = t, .end_ns = t, .object_id = -1};
  sqlite3_bind_int64(qs, 1, u);
  sqlite3_bind_int64(qs, 2, t);
  while (t > a && !w.failed) {
    if (!have) {
      int rc = sqlite3_step(qs);
      if (rc == SQLITE_ROW) {
        s = sqlite3_column_int64(qs, 0);
        e = s + max64(sqlite3_column_int64(qs, 1), 0);
        st = sqlite3_column_int(qs, 2);
        oobj = sqlite3_column_type(qs, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(qs, 3);
        ostack = sqlite3_column_type(qs, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(qs, 4);
        have = true;
      } else if (rc != SQLITE_DONE) {
        wsql(&w);
        break;
      }
    }
    int kind = 0;
    int64_t from_u = -1, from_ns = 0, fobj = -1;
    if (!have) {
      /* before the thread's first state: the flow that started it */
      sqlite3_bind_int64(qc, 1, u);
      sqlite3_bind_int64(qc, 2, t);
      int rc = sqlite3_step(qc);
      if (rc == SQLITE_ROW) {
        kind = sqlite3_column_int(qc, 0);
        from_u = sqlite3_column_int64(qc, 1);
        from_ns = sqlite3_column_int64(qc, 2);
        fobj = sqlite3_column_type(qc, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(qc, 3);
      } else if (rc != SQLITE_DONE) {
        wsql(&w);
      }
      sqlite3_reset(qc);
      if (w.failed) break;
      if (from_u < 0 || from_u == u || from_ns > t || (from_ns == t && noprog >= NOPROGRESS_MAX)) {
        out->before_ns = t - a;
        break;
      }
      noprog = from_ns == t ? noprog + 1 : 0;
      add(&w, u, max64(from_ns, a), t, false, -1, -1); /* a gap between the create and the start */
      if (!seg_jump(&w, max64(from_ns, a), kind, fobj, from_u)) break;
      out->jumps++;
      u = from_u;
      t = from_ns;
      sqlite3_reset(qs);
      sqlite3_bind_int64(qs, 1, u);
      sqlite3_bind_int64(qs, 2, t);
      continue;
    }
    if (e < t) { /* not covered by a state (bad data): on the path, on u, not running */
      add(&w, u, max64(e, a), t, false, -1, -1);
      t = e;
      continue;
    }
    int64_t lo = max64(s, a);
    if (st == WEFT_ST_RUNNING) {
      add(&w, u, lo, t, true, -1, -1);
      t = lo;
      have = false;
      continue;
    }
    if (t == e && st != WEFT_ST_GIL_WAIT) {
      sqlite3_bind_int64(qw, 1, u);
      sqlite3_bind_int64(qw, 2, s);
      sqlite3_bind_int64(qw, 3, e);
      int rc = sqlite3_step(qw);
      if (rc == SQLITE_ROW) {
        kind = sqlite3_column_int(qw, 0);
        from_u = sqlite3_column_int64(qw, 1);
        from_ns = sqlite3_column_int64(qw, 2);
        fobj = sqlite3_column_type(qw, 3) == SQLITE_NULL ? -1 : sqlite3_column_int64(qw, 3);
      } else if (rc != SQLITE_DONE) {
        wsql(&w);
      }
      sqlite3_reset(qw);
      if (w.failed) break;
    }
    if (from_u >= 0 && from_u != u && from_ns >= s && from_ns <= t &&
        !(from_ns == t && noprog >= NOPROGRESS_MAX)) {
      noprog = from_ns == t ? noprog + 1 : 0;
      int64_t o = oobj >= 0 ? oobj : fobj;
      if (!cause_push(&w, o, ostack, lo)) break;
      add(&w, u, max64(from_ns, a), t, false, -1, -1); /* the wake-up latency */
      if (!seg_jump(&w, max64(from_ns, a), kind, o, from_u)) break;
      out->jumps++;
      u = from_u;
      t = from_ns;
      have = false;
      sqlite3_reset(qs);
      sqlite3_bind_int64(qs, 1, u);
      sqlite3_bind_int64(qs, 2, t);
      continue;
    }
    add(&w, u, lo, t, false, oobj, ostack);
    t = lo;
    have = false;
  }
  if (!w.failed) {
    w.cur.start_ns = max64(t, a);
    if (w.cur.end_ns > w.cur.start_ns && PUSH(out->segments, out->nsegments, w.capseg, w.cur) < 0) woom(&w);
  }
  if (!w.failed) { /* walked backwards: into time order */
    for (size_t i = 0, j = out->nsegments; i + 1 < j; i++, j--) {
      WeftPathSegment x = out->segments[i];
      out->segments[i] = out->segments[j - 1];
      out->segments[j - 1] = x;
    }
    holds(&w);
  }
done:
  sqlite3_finalize(qs);
  sqlite3_finalize(qw);
  sqlite3_finalize(qc);
  free(w.thr.e);
  free(w.obj.e);
  free(w.site.e);
  free(w.cause);
  if (w.failed) {
    weft_critpath_free(out);
    return -1;
  }
  return 0;
}

void weft_critpath_free(WeftCpResult *r) {
  free(r->threads);
  free(r->objects);
  free(r->sites);
  free(r->segments);
  memset(r, 0, sizeof *r);
}

/* ---- the critical path of a WeftMetrics ---- */

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

/* The threads on the path, by path time. */
static bool path_threads(Ctx *c, WeftCriticalPath *cp, const WeftCpResult *r) {
  char buf[1024];
  cp->threads = pool_calloc(c->pool, r->nthreads, sizeof *cp->threads);
  if (!cp->threads) return oom(c);
  for (size_t i = 0; i < r->nthreads; i++) {
    const WeftCpThread *t = &r->threads[i];
    if (t->path_ns <= 0) continue;
    WeftPathThread *pt = &cp->threads[cp->nthreads++];
    *pt = (WeftPathThread){.utid = t->utid, .path_ns = t->path_ns, .running_ns = t->running_ns,
                           .share = cp->length_ns > 0 ? (double)t->path_ns / (double)cp->length_ns : 0};
    if (!(pt->label = pool_strdup(c->pool, ctx_thread_label(c, t->utid, buf, sizeof buf)))) return oom(c);
  }
  qsort(cp->threads, cp->nthreads, sizeof *cp->threads, cmp_path_thread);
  return true;
}

/* The objects on the path (in the walk's order; po_by_id: object -> index
 * in cp->objects), with their labels from m->objects, else named here;
 * joins and child waits left out. Sets the objects' critical shares. */
static bool path_objects(Ctx *c, WeftCriticalPath *cp, const WeftCpResult *r, WeftHMap *po_by_id) {
  WeftMetrics *m = c->m;
  char buf[1024];
  WeftHMap om_by_id = {0};
  for (size_t i = 0; i < m->nobjects; i++)
    if (weft_hmap_put(&om_by_id, m->objects[i].object_id, 0, i) < 0) {
      weft_hmap_free(&om_by_id);
      return oom(c);
    }
  WeftObjectNamer *namer = NULL;
  sqlite3_stmt *qk = weft_sql_prepare(&c->sql, "SELECT kind FROM sync_object WHERE object_id = ?1");
  cp->objects = pool_calloc(c->pool, r->nobjects, sizeof *cp->objects);
  for (size_t i = 0; cp->objects && qk && i < r->nobjects && !c->sql.failed; i++) {
    const WeftCpObject *o = &r->objects[i];
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
      kind = weft_sql_step(&c->sql, qk) ? (int)weft_sql_i64(qk, 0, 0) : 0;
      sqlite3_reset(qk);
      if (kind == WEFT_KIND_JOIN || kind == WEFT_KIND_CHILD) continue;
      if (!namer && !(namer = weft_object_namer_new(c->sql.db))) {
        weft_sql_error(&c->sql);
        break;
      }
      label = pool_strdup(c->pool, weft_object_namer_name(namer, o->object_id, buf, sizeof buf));
      kind_name = weft_kind_name((unsigned)kind);
      if (!kind_name) kind_name = "object";
    }
    if (kind == WEFT_KIND_JOIN || kind == WEFT_KIND_CHILD || (o->cause_ns <= 0 && o->hold_ns <= 0)) continue;
    if (!label || weft_hmap_put(po_by_id, o->object_id, 0, cp->nobjects) < 0) {
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
  return !c->sql.failed;
}

/* The call sites on the path: by (object, label), objects of the list only. */
static bool path_sites(Ctx *c, WeftCriticalPath *cp, const WeftCpResult *r, const WeftHMap *po_by_id) {
  cp->sites = pool_calloc(c->pool, r->nsites, sizeof *cp->sites);
  if (!cp->sites) return oom(c);
  for (size_t i = 0; i < r->nsites && !c->sql.failed; i++) {
    const WeftCpSite *rs = &r->sites[i];
    size_t k;
    if (rs->cause_ns <= 0 || !weft_hmap_get(po_by_id, rs->object_id, 0, &k)) continue;
    cp->sites[cp->nsites++] = (WeftPathSite){.label = stack_info(c, rs->stack_id)->label,
                                             .object_label = cp->objects[k].label, .object_id = rs->object_id,
                                             .cause_ns = rs->cause_ns};
  }
  if (c->sql.failed) return false;
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
  return true;
}

bool build_critical_path(Ctx *c) {
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
  if (weft_critpath_walk(c->sql.db, c->a, cp->end_utid, end_ns, &r, c->sql.err, c->sql.errlen) < 0) {
    c->sql.failed = true;
    return false;
  }
  cp->path_ns = r.path_ns;
  cp->before_ns = r.before_ns;
  cp->jumps = r.jumps;
  WeftHMap po_by_id = {0};
  bool ok = path_threads(c, cp, &r) && path_objects(c, cp, &r, &po_by_id) && path_sites(c, cp, &r, &po_by_id);
  weft_hmap_free(&po_by_id);
  if (ok) { /* (sorted after the sites took their labels by index) */
    qsort(cp->objects, cp->nobjects, sizeof *cp->objects, cmp_path_object);
    cp->segments = pool_calloc(c->pool, r.nsegments, sizeof *cp->segments);
    if (!cp->segments) ok = oom(c);
  }
  if (ok) {
    if (r.nsegments) memcpy(cp->segments, r.segments, r.nsegments * sizeof *cp->segments);
    cp->nsegments = r.nsegments;
    m->critical_path = cp;
  }
  weft_critpath_free(&r);
  return ok;
}
