/* critpath.c - the critical path through a recording (see metrics.h,
 * WeftCriticalPath, and docs/report-json.md, "Critical path").
 * SPDX-License-Identifier: MIT
 *
 * The walk reads thread_state through its (utid, start_ns) primary key,
 * flows through flow_to and lock holds through lock_hold_thread:
 * O(path rows + jumps · log n), independent of the rows not on the path.
 * It goes backwards in time from (end_utid, end_ns). At (u, t) it
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
 * object. build_critical_path() turns the walk's raw result into the
 * WeftCriticalPath, with the names of threads, objects and call sites.
 */
#include "analysis-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holds.h"
#include "naming.h"

#define NOPROGRESS_MAX 64 /* flows followed without time going back: a cycle (bad data); stop following */

typedef struct {
  int64_t utid, path_ns, running_ns;
} CpThread;

typedef struct {
  int64_t object_id, cause_ns, hold_ns;
} CpObject;

typedef struct {
  int64_t stack_id, object_id, cause_ns; /* stack_id -1: no stack */
} CpSite;

/* The walk's raw result; every array malloc'd, freed by critpath_free. */
typedef struct {
  int64_t path_ns, before_ns, jumps;
  CpThread *threads;
  size_t nthreads; /* in no particular order */
  CpObject *objects;
  size_t nobjects;
  CpSite *sites;
  size_t nsites;
  WeftPathSegment *segments;
  size_t nsegments; /* in time order */
} CpResult;

/* ---- the walk ---- */

typedef struct {
  int64_t object_id, stack_id, s;
} Cause;

typedef struct {
  WeftSql *sql; /* the connection and the first error */
  CpResult *r;
  int64_t a;
  size_t capthr, capobj, capsite, capseg;
  WeftHMap thr, obj, site;
  Cause *cause;
  size_t ncause, capcause;
  WeftPathSegment cur;      /* the segment being walked (its start moves down) */
  const WeftMetrics *scope; /* with launchers left out: a flow from one of their threads is not followed */
} W;

/* Is a flow from thread u at ns one to follow? Not from a launcher left out
 * (an MPI rank's start from its image before the exec, a wake-up by mpirun):
 * the path stays in the program, as the report's scope does. */
static bool follow(const W *w, int64_t u, int64_t ns) {
  return !w->scope || ns < w->a || weft_metrics_thread(w->scope, u) != NULL;
}

static bool woom(W *w) { return weft_sql_fail(w->sql, "out of memory"); }

static CpThread *thr(W *w, int64_t utid) {
  size_t i;
  if (!weft_hmap_get(&w->thr, utid, 0, &i)) {
    CpThread t = {.utid = utid};
    if (VEC_PUSH(w->r->threads, w->r->nthreads, w->capthr, t) < 0 ||
        weft_hmap_put(&w->thr, utid, 0, w->r->nthreads - 1) < 0)
      return woom(w), NULL;
    i = w->r->nthreads - 1;
  }
  return &w->r->threads[i];
}

static CpObject *obj(W *w, int64_t object_id) {
  size_t i;
  if (!weft_hmap_get(&w->obj, object_id, 0, &i)) {
    CpObject o = {.object_id = object_id};
    if (VEC_PUSH(w->r->objects, w->r->nobjects, w->capobj, o) < 0 ||
        weft_hmap_put(&w->obj, object_id, 0, w->r->nobjects - 1) < 0)
      return woom(w), NULL;
    i = w->r->nobjects - 1;
  }
  return &w->r->objects[i];
}

static void cause_add(W *w, int64_t object_id, int64_t stack_id, int64_t ns) {
  if (ns <= 0 || object_id < 0) return;
  CpObject *o = obj(w, object_id);
  if (!o) return;
  o->cause_ns += ns;
  size_t i;
  if (!weft_hmap_get(&w->site, stack_id, object_id, &i)) {
    CpSite s = {.stack_id = stack_id, .object_id = object_id};
    if (VEC_PUSH(w->r->sites, w->r->nsites, w->capsite, s) < 0 ||
        weft_hmap_put(&w->site, stack_id, object_id, w->r->nsites - 1) < 0) {
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
  CpThread *t = thr(w, u);
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
  if (VEC_PUSH(w->cause, w->ncause, w->capcause, ((Cause){object_id, stack_id, s})) < 0) return woom(w);
  return true;
}

/* Close the current segment at t (entered through flow kind/object) and
 * start one on v ending at t. */
static bool seg_jump(W *w, int64_t t, int kind, int64_t object_id, int64_t v) {
  w->cur.start_ns = t;
  w->cur.flow_kind = kind;
  w->cur.object_id = object_id;
  if (w->cur.end_ns > w->cur.start_ns && VEC_PUSH(w->r->segments, w->r->nsegments, w->capseg, w->cur) < 0)
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
    if (g->utid < h->utid || (g->utid == h->utid && g->end_ns <= hs))
      lo = mid + 1;
    else
      up = mid;
  }
  int64_t sum = 0;
  for (size_t k = lo; k < hc->n && hc->v[k]->utid == h->utid && hc->v[k]->start_ns < he; k++)
    sum += min64(he, hc->v[k]->end_ns) - max64(hs, hc->v[k]->start_ns);
  if (sum > 0) {
    CpObject *o = obj(hc->w, h->object_id);
    if (!o) return 1;
    o->hold_ns += sum;
  }
  return 0;
}

/* Time the path spent inside each lock hold of the threads on it: one pass
 * over the holds that overlap the path's span. */
static bool holds(W *w) {
  CpResult *r = w->r;
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
  if (weft_holds_scan(w->sql->db, -1, lo, hi, hold_on_path, &hc, e, sizeof e) < 0) weft_sql_fail(w->sql, "%s", e);
  free(v);
  return !w->sql->failed;
}

/* A flow into the walk's thread: the columns kind, from_utid, from_ns,
 * object_id of q's row, if it has one. */
typedef struct {
  int kind;
  int64_t from_u, from_ns, obj; /* from_u -1: none */
} Flow;

static void read_flow(W *w, sqlite3_stmt *q, Flow *f) {
  if (weft_sql_step(w->sql, q))
    *f = (Flow){sqlite3_column_int(q, 0), sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2),
                weft_sql_i64(q, 3, -1)};
  sqlite3_reset(q);
}

/* Walk back from (u, t) to w->a: qs the thread's states backwards, qw the
 * flow that ended a wait, qc the flow that started a thread. */
static void walk(W *w, sqlite3_stmt *qs, sqlite3_stmt *qw, sqlite3_stmt *qc, int64_t u, int64_t t) {
  CpResult *out = w->r;
  int64_t a = w->a;
  int noprog = 0;
  bool have = false;
  int64_t s = 0, e = 0, ostack = -1, oobj = -1;
  int st = 0;
  w->cur = (WeftPathSegment){.utid = u, .start_ns = t, .end_ns = t, .object_id = -1};
  sqlite3_bind_int64(qs, 1, u);
  sqlite3_bind_int64(qs, 2, t);
  while (t > a && !w->sql->failed) {
    if (!have) {
      if (weft_sql_step(w->sql, qs)) {
        s = sqlite3_column_int64(qs, 0);
        e = s + max64(sqlite3_column_int64(qs, 1), 0);
        st = sqlite3_column_int(qs, 2);
        oobj = weft_sql_i64(qs, 3, -1);
        ostack = weft_sql_i64(qs, 4, -1);
        have = true;
      } else if (w->sql->failed) {
        break;
      }
    }
    Flow f = {0, -1, 0, -1};
    if (!have) {
      /* before the thread's first state: the flow that started it */
      sqlite3_bind_int64(qc, 1, u);
      sqlite3_bind_int64(qc, 2, t);
      read_flow(w, qc, &f);
      if (w->sql->failed) break;
      if (f.from_u < 0 || f.from_u == u || f.from_ns > t || (f.from_ns == t && noprog >= NOPROGRESS_MAX) ||
          !follow(w, f.from_u, f.from_ns)) {
        out->before_ns = t - a;
        break;
      }
      noprog = f.from_ns == t ? noprog + 1 : 0;
      add(w, u, max64(f.from_ns, a), t, false, -1, -1); /* a gap between the create and the start */
      if (!seg_jump(w, max64(f.from_ns, a), f.kind, f.obj, f.from_u)) break;
      out->jumps++;
      u = f.from_u;
      t = f.from_ns;
      sqlite3_reset(qs);
      sqlite3_bind_int64(qs, 1, u);
      sqlite3_bind_int64(qs, 2, t);
      continue;
    }
    if (e < t) { /* not covered by a state (bad data): on the path, on u, not running */
      add(w, u, max64(e, a), t, false, -1, -1);
      t = e;
      continue;
    }
    int64_t lo = max64(s, a);
    if (st == WEFT_ST_RUNNING) {
      add(w, u, lo, t, true, -1, -1);
      t = lo;
      have = false;
      continue;
    }
    if (t == e && st != WEFT_ST_GIL_WAIT) {
      sqlite3_bind_int64(qw, 1, u);
      sqlite3_bind_int64(qw, 2, s);
      sqlite3_bind_int64(qw, 3, e);
      read_flow(w, qw, &f);
      if (w->sql->failed) break;
    }
    if (f.from_u >= 0 && f.from_u != u && f.from_ns >= s && f.from_ns <= t &&
        !(f.from_ns == t && noprog >= NOPROGRESS_MAX) && follow(w, f.from_u, f.from_ns)) {
      noprog = f.from_ns == t ? noprog + 1 : 0;
      int64_t o = oobj >= 0 ? oobj : f.obj;
      if (!cause_push(w, o, ostack, lo)) break;
      add(w, u, max64(f.from_ns, a), t, false, -1, -1); /* the wake-up latency */
      if (!seg_jump(w, max64(f.from_ns, a), f.kind, o, f.from_u)) break;
      out->jumps++;
      u = f.from_u;
      t = f.from_ns;
      have = false;
      sqlite3_reset(qs);
      sqlite3_bind_int64(qs, 1, u);
      sqlite3_bind_int64(qs, 2, t);
      continue;
    }
    add(w, u, lo, t, false, oobj, ostack);
    t = lo;
    have = false;
  }
  if (!w->sql->failed) {
    w->cur.start_ns = max64(t, a);
    if (w->cur.end_ns > w->cur.start_ns && VEC_PUSH(out->segments, out->nsegments, w->capseg, w->cur) < 0) woom(w);
  }
}

static void critpath_free(CpResult *r) {
  free(r->threads);
  free(r->objects);
  free(r->sites);
  free(r->segments);
  memset(r, 0, sizeof *r);
}

/* Walk back from (end_utid, end_ns) to a (a <= end_ns) into out, not into
 * the threads scope lacks (NULL: any). false on failure (the message kept in
 * sql: database error, out of memory). */
static bool critpath_walk(WeftSql *sql, const WeftMetrics *scope, int64_t a, int64_t end_utid, int64_t end_ns,
                          CpResult *out) {
  memset(out, 0, sizeof *out);
  W w = {.sql = sql, .r = out, .a = a, .scope = scope};
  sqlite3_stmt *qs = weft_sql_prepare(sql, "SELECT start_ns, dur_ns, state, object_id, stack_id FROM thread_state "
                                           "WHERE utid = ?1 AND start_ns < ?2 ORDER BY start_ns DESC");
  sqlite3_stmt *qw = weft_sql_prepare(sql, "SELECT kind, from_utid, from_ns, object_id FROM flow WHERE to_utid = ?1 "
                                           "AND to_ns > ?2 AND to_ns <= ?3 ORDER BY to_ns DESC, from_ns DESC LIMIT 1");
  sqlite3_stmt *qc = weft_sql_prepare(sql, "SELECT kind, from_utid, from_ns, object_id FROM flow WHERE to_utid = ?1 "
                                           "AND to_ns <= ?2 AND kind IN (5, 7, 8) ORDER BY to_ns DESC LIMIT 1");
  if (qs && qw && qc) walk(&w, qs, qw, qc, end_utid, end_ns);
  if (!sql->failed) { /* walked backwards: into time order */
    for (size_t i = 0, j = out->nsegments; i + 1 < j; i++, j--) {
      WeftPathSegment x = out->segments[i];
      out->segments[i] = out->segments[j - 1];
      out->segments[j - 1] = x;
    }
    holds(&w);
  }
  sqlite3_finalize(qs);
  sqlite3_finalize(qw);
  sqlite3_finalize(qc);
  weft_hmap_free(&w.thr);
  weft_hmap_free(&w.obj);
  weft_hmap_free(&w.site);
  free(w.cause);
  if (sql->failed) critpath_free(out);
  return !sql->failed;
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
static bool path_threads(Ctx *c, WeftCriticalPath *cp, const CpResult *r) {
  char buf[1024];
  cp->threads = pool_calloc(c->pool, r->nthreads, sizeof *cp->threads);
  if (!cp->threads) return oom(c);
  for (size_t i = 0; i < r->nthreads; i++) {
    const CpThread *t = &r->threads[i];
    if (t->path_ns <= 0) continue;
    WeftPathThread *pt = &cp->threads[cp->nthreads++];
    *pt = (WeftPathThread){.utid = t->utid,
                           .path_ns = t->path_ns,
                           .running_ns = t->running_ns,
                           .share = cp->length_ns > 0 ? (double)t->path_ns / (double)cp->length_ns : 0};
    if (!(pt->label = pool_strdup(c->pool, ctx_thread_label(c, t->utid, buf, sizeof buf)))) return oom(c);
  }
  qsort(cp->threads, cp->nthreads, sizeof *cp->threads, cmp_path_thread);
  return true;
}

/* The objects on the path (in the walk's order; po_by_id: object -> index
 * in cp->objects), with their labels from m->objects, else named here;
 * joins and child waits left out. Sets the objects' critical shares. */
static bool path_objects(Ctx *c, WeftCriticalPath *cp, const CpResult *r, WeftHMap *po_by_id) {
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
    const CpObject *o = &r->objects[i];
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
        (WeftPathObject){.object_id = o->object_id,
                         .label = label,
                         .kind_name = kind_name,
                         .cause_ns = o->cause_ns,
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
static bool path_sites(Ctx *c, WeftCriticalPath *cp, const CpResult *r, const WeftHMap *po_by_id) {
  cp->sites = pool_calloc(c->pool, r->nsites, sizeof *cp->sites);
  if (!cp->sites) return oom(c);
  for (size_t i = 0; i < r->nsites && !c->sql.failed; i++) {
    const CpSite *rs = &r->sites[i];
    size_t k;
    if (rs->cause_ns <= 0 || !weft_hmap_get(po_by_id, rs->object_id, 0, &k)) continue;
    cp->sites[cp->nsites++] = (WeftPathSite){.label = stack_site(c, rs->stack_id)->label,
                                             .object_label = cp->objects[k].label,
                                             .object_id = rs->object_id,
                                             .cause_ns = rs->cause_ns};
  }
  if (c->sql.failed) return false;
  qsort(cp->sites, cp->nsites, sizeof *cp->sites, cmp_path_site_key);
  size_t nm = 0;
  for (size_t i = 0; i < cp->nsites; i++) {
    if (nm && cp->sites[nm - 1].object_id == cp->sites[i].object_id &&
        !strcmp(cp->sites[nm - 1].label, cp->sites[i].label))
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
  CpResult r;
  if (!critpath_walk(&c->sql, c->m->launchers ? c->m : NULL, c->a, cp->end_utid, end_ns, &r)) return false;
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
  critpath_free(&r);
  return ok;
}
