/* objects.c - contention per sync object (see metrics.h, WeftObjectMetrics).
 * SPDX-License-Identifier: MIT
 *
 * metrics.c accumulates, per object, the waits, holds, hand-offs and counts
 * of the selected threads, and per (object, stack) the call sites; this
 * turns them into WeftObjectMetrics: a name for each object (naming.h), the
 * percentiles of its waits, its acquisitions and holds (exact, or estimated
 * from the counts and timed holds of contention first), its top call sites.
 * stack_info() describes a stack's innermost frame, stack_site() where a
 * wait was called (the user's Python line), for every analysis.
 */
#include "analysis-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holds.h"
#include "naming.h"

/* A frame of stack_id, described; cached (by stack and which frame). */
static const StackInfo *stack_frame_info(Ctx *c, int64_t stack_id, bool user) {
  static const StackInfo none = {"(no stack)", NULL, NULL, NULL, 0, false, false, false, false};
  if (stack_id < 0) return &none;
  size_t i;
  if (weft_hmap_get(&c->stack_by_id, stack_id, user, &i)) return &c->stacks[i];
  StackInfo si = none;
  /* ?2: 0 the innermost frame; 1 the user's site (see stack_site) */
  if (!c->stack_q)
    c->stack_q = weft_sql_prepare(&c->sql, "SELECT f.symbol, f.file, f.line, f.ip, f.rel_pc, m.path, "
                                           "EXISTS (SELECT 1 FROM stack_frame s3 JOIN frame f3 "
                                           "ON f3.frame_id = s3.frame_id WHERE s3.stack_id = ?1 AND f3.ip < 0 "
                                           "AND f3.symbol IN ('join', 'Thread.join') "
                                           "AND f3.file LIKE '%/threading.py'), "
                                           "EXISTS (SELECT 1 FROM stack_frame s4 JOIN frame f4 "
                                           "ON f4.frame_id = s4.frame_id WHERE s4.stack_id = ?1 AND f4.ip < 0 "
                                           "AND ((f4.file LIKE '%/concurrent/futures/_base.py' AND f4.symbol IN "
                                           "('result', 'Future.result', 'as_completed', 'wait')) "
                                           "OR (f4.file LIKE '%/multiprocessing/pool.py' AND f4.symbol IN "
                                           "('get', 'wait', 'next', 'ApplyResult.get', 'ApplyResult.wait', "
                                           "'IMapIterator.next', 'worker', '_handle_tasks', '_handle_results', "
                                           "'_handle_workers', 'Pool._handle_tasks', 'Pool._handle_results', "
                                           "'Pool._handle_workers')) "
                                           "OR (f4.file LIKE '%/queue.py' AND f4.symbol IN ('get', 'Queue.get')) "
                                           "OR (f4.file LIKE '%/threading.py' AND f4.symbol IN ('Event.wait', "
                                           "'start', 'Thread.start')))), "
                                           "EXISTS (SELECT 1 FROM stack_frame s5 JOIN frame f5 "
                                           "ON f5.frame_id = s5.frame_id WHERE s5.stack_id = ?1 AND f5.ip < 0 "
                                           "AND f5.file LIKE '%/multiprocessing/queues.py' AND f5.symbol IN "
                                           "('put', 'get', 'SimpleQueue.put', 'SimpleQueue.get', 'Queue.get')) "
                                           "FROM stack_frame sf JOIN frame f ON f.frame_id = sf.frame_id "
                                           "LEFT JOIN module m ON m.module_id = f.module_id "
                                           "WHERE sf.stack_id = ?1 AND sf.depth = CASE WHEN ?2 THEN coalesce(("
                                           "SELECT min(s2.depth) FROM stack_frame s2 JOIN frame f2 "
                                           "ON f2.frame_id = s2.frame_id WHERE s2.stack_id = ?1 AND f2.ip < 0 "
                                           "AND NOT ((f2.file LIKE '%/lib/python3.%/%' AND f2.file NOT LIKE "
                                           "'%-packages/%') OR f2.file LIKE '<frozen %')), 0) ELSE 0 END");
  sqlite3_stmt *q = c->stack_q;
  if (!q) return &none;
  sqlite3_bind_int64(q, 1, stack_id);
  sqlite3_bind_int(q, 2, user);
  if (weft_sql_step(&c->sql, q)) {
    const char *sym = (const char *)sqlite3_column_text(q, 0);
    const char *file = (const char *)sqlite3_column_text(q, 1);
    int64_t line = weft_sql_i64(q, 2, 0);
    const char *mod = (const char *)sqlite3_column_text(q, 5);
    if (sym && !*sym) sym = NULL;
    if (file && !*file) file = NULL;
    si.known = true;
    si.py_join = sqlite3_column_int(q, 6) != 0;
    si.py_result = sqlite3_column_int(q, 7) != 0;
    si.py_ipc = sqlite3_column_int(q, 8) != 0;
    si.line = line > 0 ? line : 0;
    si.symbol = sym ? pool_strdup(c->pool, sym) : NULL;
    si.file = file ? pool_strdup(c->pool, file) : NULL;
    char lb[1024];
    si.site = file ? pool_strdup(c->pool, weft_frame_site(file, si.line, lb, sizeof lb)) : NULL;
    si.label = pool_strdup(c->pool, weft_frame_label(sym, file, si.line, mod, weft_sql_i64(q, 4, 0),
                                                     weft_sql_i64(q, 3, 0), lb, sizeof lb));
    if (!si.label || (sym && !si.symbol) || (file && !si.file) || (file && !si.site)) oom(c);
  }
  sqlite3_reset(q);
  if (c->sql.failed) return &none;
  if (VEC_PUSH(c->stacks, c->nstacks, c->capstacks, si) < 0 ||
      weft_hmap_put(&c->stack_by_id, stack_id, user, c->nstacks - 1) < 0) {
    oom(c);
    return &none;
  }
  return &c->stacks[c->nstacks - 1];
}

/* The innermost frame of stack_id: where an object was made (its name). */
const StackInfo *stack_info(Ctx *c, int64_t stack_id) { return stack_frame_info(c, stack_id, false); }

/* Where a wait was called: the innermost frame, but for a Python stack the
 * innermost Python frame outside the standard library when there is one, so
 * that a wait in Queue.get(), Condition.wait() or Thread.join() names the
 * user's line that called it, not threading.py's. (Python frames have a
 * negative ip; the standard library is a file under .../lib/python3.N/ but
 * not in site-packages or dist-packages, or a frozen module.) */
const StackInfo *stack_site(Ctx *c, int64_t stack_id) { return stack_frame_info(c, stack_id, true); }

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
  for (size_t i = 0, j; i < m->nobjects && !c->sql.failed; i = j) {
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
  return !c->sql.failed;
}

/* Scratch for build_objects: the call sites grouped per object
 * (order[site_start[o] .. site_start[o+1])), room for one object's call
 * sites, and for sorting the wait durations. */
typedef struct {
  size_t *site_start, *order;
  WeftCallSite *tmp;
  int64_t *rtmp;
  size_t *rcount;
  sqlite3_stmt *qr; /* an object's hold blocks in which holds begin in (?2, ?3) (retaken) */
} ObjScratch;

static void scratch_free(ObjScratch *x) {
  free(x->site_start);
  free(x->order);
  free(x->tmp);
  free(x->rtmp);
  free(x->rcount);
}

static bool scratch_init(Ctx *c, ObjScratch *x) {
  size_t maxd = 0;
  for (size_t i = 0; i < c->nobjs; i++)
    if (c->objs[i].ndurs > maxd) maxd = c->objs[i].ndurs;
  x->site_start = calloc(c->nobjs + 1, sizeof *x->site_start);
  size_t *fillp = calloc(c->nobjs + 1, sizeof *fillp);
  x->order = malloc((c->nsites ? c->nsites : 1) * sizeof *x->order);
  x->tmp = malloc((c->nsites ? c->nsites : 1) * sizeof *x->tmp);
  x->rtmp = malloc((maxd ? maxd : 1) * sizeof *x->rtmp);
  x->rcount = malloc(65536 * sizeof *x->rcount);
  if (!x->site_start || !fillp || !x->order || !x->tmp || !x->rtmp || !x->rcount) {
    free(fillp);
    scratch_free(x);
    return oom(c);
  }
  for (size_t i = 0; i < c->nsites; i++) x->site_start[c->sites[i].obj + 1]++;
  for (size_t i = 0; i < c->nobjs; i++) x->site_start[i + 1] += x->site_start[i];
  for (size_t i = 0; i < c->nsites; i++) {
    size_t o = c->sites[i].obj;
    x->order[x->site_start[o] + fillp[o]++] = i;
  }
  free(fillp);
  return true;
}

/* om's name and label: sync_object.name (so_name), else, for a fork child's object made before the fork, the
 * parent's object's name (weft_object_namer_inherited), else its Python name (naming.h: made in Python), else its
 * init (else first) stack's frame, told apart from others of the same site, else "kind@0xaddr". *namer is made on
 * first use. */
static bool object_name(Ctx *c, WeftObjectMetrics *om, const char *so_name, int64_t init_stack, int64_t first_stack,
                        WeftObjectNamer **namer) {
  /* copies: the second call may grow (move) the vector the first one points into */
  const StackInfo si_v = *stack_info(c, init_stack), sf_v = *stack_info(c, first_stack);
  const StackInfo *si = &si_v, *sf = &sf_v;
  om->site = si->site ? si->site : sf->site;
  /* a Manager's object: made in its server by Server.create (create before 3.11) */
  size_t fl = si->file ? strlen(si->file) : 0, sl = si->symbol ? strlen(si->symbol) : 0;
  om->py_manager = fl >= 27 && !strcmp(si->file + fl - 27, "multiprocessing/managers.py") && sl >= 6 &&
                   !strcmp(si->symbol + sl - 6, "create");
  char nb[1024];
  if (!so_name && (si->known || init_stack < 0) && !*namer) *namer = weft_object_namer_new(c->sql.db);
  int64_t inherited = !so_name && init_stack < 0 ? weft_object_namer_inherited(*namer, om->object_id) : -1;
  if (so_name) {
    om->name = so_name;
    om->named = 1;
  } else if (inherited >= 0) { /* a fork child's object made by its parent: the parent's name */
    om->name = pool_strdup(c->pool, weft_object_namer_name(*namer, inherited, nb, sizeof nb));
  } else if (si->known && weft_object_namer_python(*namer, om->object_id, nb, sizeof nb)) {
    om->name = pool_strdup(c->pool, nb); /* made in Python: "threading.Lock() at app.py:17" */
  } else if (si->known || sf->known) {
    snprintf(nb, sizeof nb, "%s", si->known ? si->label : sf->label);
    if (!*namer) *namer = weft_object_namer_new(c->sql.db);
    weft_object_namer_disambiguate(*namer, om->object_id, nb, sizeof nb);
    if (om->omp && om->kind == WEFT_KIND_BARRIER) weft_omp_region_name(nb, sizeof nb); /* (as naming.c names it) */
    om->name = pool_strdup(c->pool, nb);
  } else {
    om->name = pool_printf(c->pool, "%s@0x%llx", om->kind_name, (unsigned long long)om->addr);
  }
  om->label = om->named && om->site ? pool_printf(c->pool, "%s (%s)", om->name, om->site) : om->name;
  return om->name && om->label ? true : oom(c);
}

/* A lock's longest wait of at least this long is looked into for holds
 * other threads began during it. */
#define RETAKEN_MIN_WAIT 1000000 /* ns */
#define RETAKEN_THREADS  8

typedef struct {
  int64_t s, e, waiter;
  int64_t utid[RETAKEN_THREADS], n[RETAKEN_THREADS], reads[RETAKEN_THREADS];
} Retaken;

static int retaken_hold(const WeftHold *h, void *user) {
  Retaken *r = user;
  if (h->start_ns <= r->s || h->start_ns >= r->e || h->utid == r->waiter) return 0;
  for (int i = 0; i < RETAKEN_THREADS; i++)
    if (r->n[i] == 0 || r->utid[i] == h->utid) {
      r->utid[i] = h->utid;
      r->n[i]++;
      r->reads[i] += h->shared != 0;
      break;
    }
  return 0;
}

/* The holds other threads began during om's longest wait: with glibc's
 * mutex a releasing thread takes the lock again before the waiter it woke
 * gets to run, and a waiter can wait while another thread takes the lock
 * hundreds of times (each of those holds is recorded: someone waited). */
static void retaken(Ctx *c, WeftObjectMetrics *om, const ObjAcc *o, sqlite3_stmt *qr) {
  Retaken r = {.s = o->wmax_s, .e = o->wmax_e, .waiter = o->wmax_utid};
  sqlite3_bind_int64(qr, 1, o->object_id);
  sqlite3_bind_int64(qr, 2, r.s);
  sqlite3_bind_int64(qr, 3, r.e);
  while (!c->sql.failed && weft_sql_step(&c->sql, qr))
    if (weft_holds_from_row(qr, 0, r.s, r.e, retaken_hold, &r) < 0)
      weft_sql_fail(&c->sql, "lock holds of object %lld: corrupt block", (long long)o->object_id);
  sqlite3_reset(qr);
  for (int i = 0; i < RETAKEN_THREADS; i++)
    if (r.n[i] > om->wait_max_retaken ||
        (r.n[i] && r.n[i] == om->wait_max_retaken && r.utid[i] < om->wait_max_retaken_utid))
      om->wait_max_retaken = r.n[i], om->wait_max_retaken_utid = r.utid[i], om->wait_max_retaken_reads = r.reads[i];
}

/* om's waits, holds and acquisitions from its accumulator o; so_acq: the
 * importer's count (sync_object.acquisitions); qh finds whether it has any
 * hold at all. */
static void object_counts(Ctx *c, WeftObjectMetrics *om, ObjAcc *o, int64_t so_acq, sqlite3_stmt *qh,
                          const ObjScratch *x) {
  const WeftMetrics *m = c->m;
  om->waits = o->waits;
  om->wait_ns = o->wait_ns;
  om->wait_max_ns = o->wait_max;
  om->contended = o->contended;
  om->timeouts = o->timeouts;
  om->wait_max_utid = o->wmax_utid;
  om->wait_max_retaken = 0;
  om->wait_max_retaken_utid = -1;
  om->wait_max_retaken_reads = 0;
  if (kind_is_lockish(om->kind) && o->wmax_utid >= 0 && o->wmax_e - o->wmax_s >= RETAKEN_MIN_WAIT)
    retaken(c, om, o, x->qr);
  om->waiters = o->waiters;
  if (o->ndurs) {
    radix_sort(o->durs, x->rtmp, x->rcount, o->ndurs); /* durations are >= 0 */
    size_t n = o->ndurs;
    om->wait_p50_ns = o->durs[(n + 1) / 2 - 1];
    om->wait_p99_ns = o->durs[(99 * n + 99) / 100 - 1];
  }
  om->wait_share = c->share_base > 0 ? (double)o->wait_ns / (double)c->share_base : 0;

  om->holds = o->holds;
  om->hold_ns = o->hold_ns;
  om->hold_max_ns = o->hold_max;
  om->hold_mean_ns = o->holds ? o->hold_ns / o->holds : 0;
  om->handoffs = o->handoffs;
  bool has_holds = o->holds > 0;
  if (!has_holds) {
    sqlite3_bind_int64(qh, 1, o->object_id);
    has_holds = weft_sql_step(&c->sql, qh);
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
}

/* The call sites of object oi, merged by label, the top ones by wait. */
static void object_sites(Ctx *c, WeftObjectMetrics *om, size_t oi, ObjScratch *x) {
  WeftCallSite *tmp = x->tmp;
  size_t ns = 0;
  for (size_t k = x->site_start[oi]; k < x->site_start[oi + 1]; k++) {
    const SiteAcc *sa = &c->sites[x->order[k]];
    const StackInfo *st = stack_site(c, sa->stack_id);
    tmp[ns++] = (WeftCallSite){.label = st->label,
                               .symbol = st->symbol,
                               .file = st->file,
                               .line = st->line,
                               .waits = sa->waits,
                               .wait_ns = sa->wait_ns};
    if (st->py_join) om->py_join_wait_ns += sa->wait_ns;
    if (st->py_result) om->py_result_wait_ns += sa->wait_ns;
    if (st->py_ipc) om->py_ipc_wait_ns += sa->wait_ns;
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

bool build_objects(Ctx *c) {
  WeftMetrics *m = c->m;
  m->objects = calloc(c->nobjs ? c->nobjs : 1, sizeof *m->objects);
  if (!m->objects) return oom(c);
  ObjScratch x;
  if (!scratch_init(c, &x)) return false;

  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT upid, addr, kind, name, init_stack_id, first_stack_id, "
                                              "acquisitions, runtime = 'openmp' FROM sync_object WHERE object_id = ?1");
  sqlite3_stmt *qh = weft_sql_prepare(&c->sql, "SELECT 1 FROM hold_block WHERE object_id = ?1 LIMIT 1");
  /* the blocks whose holds may begin in (?2, ?3): a block's holds begin in order, after its start and
   * before the next block's start, so from the last block that starts at or before ?2 */
  x.qr = weft_sql_prepare(&c->sql,
                          "SELECT object_id, start_ns, data FROM hold_block WHERE object_id = ?1 AND start_ns < ?3 "
                          "AND start_ns >= coalesce((SELECT max(start_ns) FROM hold_block WHERE object_id = ?1 AND "
                          "start_ns <= ?2), ?2) ORDER BY start_ns");
  /* a process-shared object is waited on from several processes */
  sqlite3_stmt *qp = weft_sql_prepare(&c->sql, "SELECT count(DISTINCT t.upid) FROM thread_state ts "
                                               "JOIN thread t USING (utid) WHERE ts.object_id = ?1");
  WeftObjectNamer *namer = NULL; /* tells apart objects made at the same site */
  for (size_t oi = 0; q && qh && qp && x.qr && oi < c->nobjs && !c->sql.failed; oi++) {
    ObjAcc *o = &c->objs[oi];
    WeftObjectMetrics *om = &m->objects[m->nobjects++];
    om->object_id = o->object_id;
    om->upid = -1;
    int64_t init_stack = -1, first_stack = -1, so_acq = 0;
    const char *so_name = NULL;
    sqlite3_bind_int64(q, 1, o->object_id);
    if (weft_sql_step(&c->sql, q)) {
      om->upid = weft_sql_i64(q, 0, -1);
      om->addr = weft_sql_i64(q, 1, 0);
      om->kind = (int)weft_sql_i64(q, 2, 0);
      so_name = (const char *)sqlite3_column_text(q, 3);
      if (so_name && *so_name)
        so_name = pool_strdup(c->pool, so_name);
      else
        so_name = NULL;
      init_stack = weft_sql_i64(q, 4, -1);
      first_stack = weft_sql_i64(q, 5, -1);
      so_acq = weft_sql_i64(q, 6, 0);
      om->omp = (int)weft_sql_i64(q, 7, 0);
    }
    sqlite3_reset(q);
    if (c->sql.failed) break;
    if (om->kind == WEFT_KIND_JOIN || om->kind == WEFT_KIND_CHILD) {
      /* waiting for a thread or process to end is not contention: it shows
       * in the join_wait/child_wait totals and the fork-join regions */
      memset(om, 0, sizeof *om);
      m->nobjects--;
      continue;
    }
    const char *kn = weft_kind_name((unsigned)om->kind);
    om->kind_name = kn ? kn : "object";
    if (!object_name(c, om, so_name, init_stack, first_stack, &namer)) break;
    object_counts(c, om, o, so_acq, qh, &x);
    object_sites(c, om, oi, &x);
    if (om->waits > 0) {
      sqlite3_bind_int64(qp, 1, om->object_id);
      om->processes = weft_sql_step(&c->sql, qp) ? weft_sql_i64(qp, 0, 0) : 0;
      sqlite3_reset(qp);
    }
  }
  sqlite3_finalize(q);
  sqlite3_finalize(qh);
  sqlite3_finalize(qp);
  sqlite3_finalize(x.qr);
  weft_object_namer_free(namer);
  scratch_free(&x);
  if (c->sql.failed) return false;
  qsort(m->objects, m->nobjects, sizeof *m->objects, cmp_object);
  return label_processes(c);
}
