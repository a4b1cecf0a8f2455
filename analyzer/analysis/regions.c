/* regions.c - regions and the parallelism profile (see metrics.h,
 * WeftRegion and WeftParallelism).
 * SPDX-License-Identifier: MIT
 *
 * Regions are barrier rounds (from all waits of each barrier seen), fork-join
 * groups (from the create and join flows) and marked phases; each has a team
 * and the POP metrics of its members' useful time (metrics.c's running spans
 * and scheduler readings). They are defined over the whole recording and
 * then clipped to the range, so that a region means the same thing whatever
 * the range. The parallelism profile is the time with k threads running,
 * from a sweep over every running span of the range.
 */
#include "analysis-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* regions                                                                   */

typedef struct {
  WeftRegion *v;
  size_t n, cap;
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
  if (!region_team(c, r, utids, n, r->kind == WEFT_REGION_PHASE)) return !c->sql.failed;
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
/* An OpenMP region's round that follows its team's idle time: it starts when
 * its master woke the team (the latest wake-up at an OpenMP dock of one of
 * its threads after lo, whose wait ended by hi, the round's end: a worker
 * may wake after the master arrived), not at the round before (another
 * region's end, the master's serial code between). lo otherwise. */
static int64_t omp_round_start(Ctx *c, sqlite3_stmt *q, const Member *w, size_t n, int64_t lo, int64_t hi) {
  int64_t start = lo;
  for (size_t k = 0; k < n && q; k++) {
    sqlite3_bind_int64(q, 1, w[k].utid);
    sqlite3_bind_int64(q, 2, lo);
    sqlite3_bind_int64(q, 3, hi);
    if (weft_sql_step(&c->sql, q) && sqlite3_column_type(q, 0) != SQLITE_NULL)
      start = max64(start, sqlite3_column_int64(q, 0));
    sqlite3_reset(q);
  }
  return start;
}

static bool barrier_regions(Ctx *c, RegionVec *rv, const WeftObjectMetrics *om) {
  sqlite3_stmt *qd = om->omp ? weft_sql_prepare(&c->sql, "SELECT max(f.from_ns) FROM flow f WHERE f.to_utid = ?1 "
                                                         "AND f.to_ns BETWEEN ?2 AND ?3 AND f.object_id IN (SELECT "
                                                         "object_id FROM sync_object WHERE runtime = 'openmp' AND "
                                                         "kind = 6)")
                             : NULL;
  if (om->omp && !qd) return false;
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT utid, start_ns, dur_ns FROM thread_state "
                                              "WHERE object_id = ?1 AND state = 5");
  if (!q) {
    sqlite3_finalize(qd);
    return false;
  }
  Member *w = NULL;
  size_t n = 0, cap = 0;
  sqlite3_bind_int64(q, 1, om->object_id);
  while (weft_sql_step(&c->sql, q)) {
    int64_t s = sqlite3_column_int64(q, 1);
    Member mb = {sqlite3_column_int64(q, 0), s, sat_add(s, max64(weft_sql_i64(q, 2, 0), 0))};
    if (VEC_PUSH(w, n, cap, mb) < 0) {
      oom(c);
      break;
    }
  }
  sqlite3_finalize(q);
  if (c->sql.failed) {
    free(w);
    sqlite3_finalize(qd);
    return false;
  }
  if (n) qsort(w, n, sizeof *w, cmp_member_start);
  int64_t *utids = malloc((n ? n : 1) * sizeof *utids);
  if (!utids) {
    free(w);
    sqlite3_finalize(qd);
    return oom(c);
  }
  int64_t prev_end = INT64_MIN, round = 0;
  size_t i = 0;
  while (i < n && !c->sql.failed) {
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
    int64_t start = qd ? omp_round_start(c, qd, w + i, j - i, prev_end, max_end) : prev_end;
    if (start == INT64_MIN)
      for (size_t k = i; k < j; k++) {
        const ThreadInfo *ti = thread_info(c, w[k].utid);
        start = max64(start, ti ? ti->start : w[k].s);
      }
    {
      WeftRegion r = {.kind = WEFT_REGION_BARRIER,
                      .kind_name = "barrier",
                      .object_id = om->object_id,
                      .round = round,
                      .owner_utid = -1,
                      .mark_id = -1,
                      .last_utid = last_utid};
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
  sqlite3_finalize(qd);
  return !c->sql.failed;
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
    fj[i] = (ForkJoin){
        .creator = c->thr[i].creator, .child = c->thr[i].utid, .create_ns = c->thr[i].start, .join_ns = INT64_MIN};
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT kind, from_utid, from_ns, to_utid, to_ns FROM flow "
                                              "WHERE kind IN (5, 6)");
  while (q && weft_sql_step(&c->sql, q)) {
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
  while (i < n && !c->sql.failed) {
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
    for (size_t k = i; k < ec && !c->sql.failed;) {
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
        WeftRegion r = {.kind = WEFT_REGION_FORK_JOIN,
                        .kind_name = "fork_join",
                        .start_ns = cs,
                        .end_ns = ce,
                        .clipped = cs != start || ce != end,
                        .object_id = -1,
                        .round = -1,
                        .owner_utid = fj[k].creator,
                        .mark_id = -1,
                        .last_utid = last};
        r.label = ngroups > 1 ? pool_printf(c->pool, "fork-join %zu/%zu by %s", g, ngroups, who)
                              : pool_printf(c->pool, "fork-join by %s", who);
        if (!r.label)
          oom(c);
        else if (!push_region(c, rv, &r, utids, j - k))
          break;
      }
      k = j;
    }
    i = ec;
  }
  free(utids);
  free(fj);
  return !c->sql.failed;
}

/* Phases: marks with a duration; team: the selected threads alive in them,
 * but for those that spent more than half of it waiting for threads or
 * child processes to end (a parent joining its workers does not do the
 * phase's work). */
static bool phase_regions(Ctx *c, RegionVec *rv) {
  WeftMetrics *m = c->m;
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT utid, start_ns, dur_ns, id, label FROM mark WHERE dur_ns > 0 AND "
                                              "start_ns < ?2 AND start_ns + dur_ns > ?1 ORDER BY start_ns, utid, id");
  if (!q) return false;
  int64_t *utids = malloc((m->nthreads ? m->nthreads : 1) * sizeof *utids);
  if (!utids) {
    sqlite3_finalize(q);
    return oom(c);
  }
  sqlite3_bind_int64(q, 1, c->a);
  sqlite3_bind_int64(q, 2, c->b);
  while (weft_sql_step(&c->sql, q)) {
    int64_t utid = sqlite3_column_int64(q, 0), s = sqlite3_column_int64(q, 1);
    int64_t e = sat_add(s, max64(weft_sql_i64(q, 2, 0), 0)), cs, ce;
    ThreadInfo *owner = thread_info(c, utid);
    if ((owner && !owner->sel) || !clip(s, e, c->a, c->b, &cs, &ce) || ce <= cs) continue;
    const char *label = (const char *)sqlite3_column_text(q, 4);
    WeftRegion r = {.kind = WEFT_REGION_PHASE,
                    .kind_name = "phase",
                    .start_ns = cs,
                    .end_ns = ce,
                    .clipped = cs != s || ce != e,
                    .object_id = -1,
                    .round = -1,
                    .owner_utid = utid,
                    .mark_id = weft_sql_i64(q, 3, 0),
                    .last_utid = -1};
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
  return !c->sql.failed;
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

bool build_regions(Ctx *c) {
  WeftMetrics *m = c->m;
  RegionVec rv = {0};
  for (size_t i = 0; i < m->nobjects && !c->sql.failed; i++)
    if (m->objects[i].kind == WEFT_KIND_BARRIER) barrier_regions(c, &rv, &m->objects[i]);
  if (!c->sql.failed) forkjoin_regions(c, &rv);
  if (!c->sql.failed) phase_regions(c, &rv);
  if (c->sql.failed) {
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

/* The running spans of every thread in [x, y), clipped, into *tmp (grown
 * here as needed); their number, or SIZE_MAX when out of memory. */
static size_t runs_in(Ctx *c, int64_t x, int64_t y, Span **tmp, size_t *cap) {
  size_t n = 0;
  for (size_t i = 0; i < c->m->nthreads; i++) {
    const RunList *rl = &c->runs[i];
    size_t lo = 0, hi = rl->n; /* the first span ending after x */
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (rl->run[mid].e <= x)
        lo = mid + 1;
      else
        hi = mid;
    }
    for (size_t j = lo; j < rl->n && rl->run[j].s < y; j++) {
      if (n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        Span *g = realloc(*tmp, nc * sizeof *g);
        if (!g) return SIZE_MAX;
        *tmp = g;
        *cap = nc;
      }
      (*tmp)[n++] = (Span){max64(rl->run[j].s, x), min64(rl->run[j].e, y)};
    }
  }
  return n;
}

/* The time in [x, y) with no thread running; tmp as for runs_in. */
static int64_t idle_in(Ctx *c, int64_t x, int64_t y, Span **tmp, size_t *cap) {
  size_t n = runs_in(c, x, y, tmp, cap);
  if (n == SIZE_MAX) return 0;                   /* (an estimate left out, not a failure) */
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

int64_t serial_in(Ctx *c, int64_t x, int64_t y) {
  x = max64(x, c->a);
  y = min64(y, c->b);
  if (y <= x) return 0;
  Span *tmp = NULL;
  size_t cap = 0, n = runs_in(c, x, y, &tmp, &cap);
  Edge *e = n && n != SIZE_MAX ? malloc(2 * n * sizeof *e) : NULL;
  if (!e) {
    free(tmp);
    return n ? 0 : y - x; /* (out of memory: an estimate left out) */
  }
  for (size_t k = 0; k < n; k++) {
    e[2 * k] = (Edge){tmp[k].s, 1};
    e[2 * k + 1] = (Edge){tmp[k].e, -1};
  }
  free(tmp);
  qsort(e, 2 * n, sizeof *e, cmp_edge);
  int64_t sum = 0, last = x;
  int depth = 0;
  for (size_t k = 0; k < 2 * n; k++) {
    if (depth <= 1) sum += e[k].t - last;
    last = e[k].t;
    depth += e[k].d;
  }
  free(e);
  return sum + (y - last);
}

double usable_cpus(const WeftMetrics *m) {
  double n = m->ncpus > 0 ? (double)m->ncpus : 0;
  double lim = m->cpu_limit_milli > 0 ? (double)m->cpu_limit_milli / 1000 : 0;
  return n > 0 && lim > 0 ? (lim < n ? lim : n) : n > 0 ? n : lim;
}

bool build_parallelism(Ctx *c) {
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
  /* (several hosts: one host's CPUs say nothing of the rest; time assumed on a CPU, without scheduler
   * readings, may be runnable: never more than the CPUs) */
  p->cpus = m->nhosts > 1 ? 0 : usable_cpus(m);
  p->cpus_used = T > 0 ? (double)m->summary.time.oncpu_ns / (double)T : 0;
  if (p->cpus > 0 && p->cpus_used > p->cpus) p->cpus_used = p->cpus;
  p->oversubscribed = p->cpus > 0 && (double)kmax > p->cpus;
  return true;
}
