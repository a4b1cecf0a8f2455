/* whatif.c - what-ifs: how much shorter the range would be (see metrics.h,
 * WeftWhatIf, and docs/report-json.md, "Critical path").
 * SPDX-License-Identifier: MIT
 *
 * Predictions from the critical path (critpath.c): without the waits on the
 * object that put the most time on it, without those on the most contended
 * lock if it is another, and with the most imbalanced region's work spread
 * evenly over its team. Reads the objects, regions and, to leave out a
 * Python pool's queues, the Python analysis (python.h).
 */
#include "analysis-private.h"

#include "python.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* c->floor_needed: the threads the run waits for to the end of their work
 * (WeftWorkFloor): joined in the range (a join flow from them), or a main
 * thread; read once. */
static bool floor_needed(Ctx *c) {
  const WeftMetrics *m = c->m;
  if (c->floor_needed) return true;
  c->floor_needed = calloc(m->nthreads ? m->nthreads : 1, sizeof *c->floor_needed);
  if (!c->floor_needed) return oom(c);
  for (size_t i = 0; i < m->nthreads; i++) c->floor_needed[i] = m->threads[i].is_main;
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT DISTINCT from_utid FROM flow WHERE kind = ?1 AND to_ns <= ?2");
  if (q) {
    sqlite3_bind_int(q, 1, WEFT_FLOW_JOIN);
    sqlite3_bind_int64(q, 2, c->b);
  }
  while (q && weft_sql_step(&c->sql, q)) {
    const ThreadInfo *ti = thread_info(c, sqlite3_column_int64(q, 0));
    if (ti && ti->idx >= 0) c->floor_needed[ti->idx] = true;
  }
  sqlite3_finalize(q);
  return !c->sql.failed;
}

/* A thread's time on a CPU that is work: measured (not assumed where it
 * had no scheduler readings: a floor must err low), and not an MPI
 * library's polling. */
static double floor_work(const WeftMetrics *m, const WeftThreadMetrics *t) {
  if (weft_mpi_library_thread(m, t->utid)) return 0;
  return (double)max64(0, t->time.oncpu_ns - t->time.assumed_ns);
}

int64_t work_floor_ns(Ctx *c, double cpus, int64_t object_id, bool per_thread, WeftWorkFloor *f) {
  const WeftMetrics *m = c->m;
  *f = (WeftWorkFloor){0, 0, -1};
  if (cpus <= 0 || m->nhosts > 1 || !m->nthreads || !floor_needed(c)) return 0;
  double *own = calloc(m->nthreads, sizeof *own); /* by thread: its releases' waking, then its work less it */
  if (!own) return oom(c), 0;
  if (object_id >= 0) {
    sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT utid, TOTAL(MIN(cost_ns, ?1)) FROM unlock_cost "
                                                "WHERE object_id = ?2 AND ns >= ?3 AND ns <= ?4 AND cost_ns > 0 "
                                                "GROUP BY utid");
    if (q) {
      sqlite3_bind_int64(q, 1, UNLOCK_COST_MAX);
      sqlite3_bind_int64(q, 2, object_id);
      sqlite3_bind_int64(q, 3, c->a);
      sqlite3_bind_int64(q, 4, c->b);
    }
    while (q && weft_sql_step(&c->sql, q)) {
      const ThreadInfo *ti = thread_info(c, sqlite3_column_int64(q, 0));
      if (ti && ti->idx >= 0) own[ti->idx] = sqlite3_column_double(q, 1);
    }
    sqlite3_finalize(q);
  }
  double all = 0;
  for (size_t i = 0; i < m->nthreads; i++) all += own[i] = fmax(0, floor_work(m, &m->threads[i]) - own[i]);
  int64_t work = (int64_t)llround(all), best = (int64_t)llround(all / cpus);
  *f = (WeftWorkFloor){cpus, work, -1};
  for (size_t i = 0; per_thread && i < m->nthreads; i++) {
    int64_t w = (int64_t)llround(own[i]);
    if (c->floor_needed[i] && w > best) best = w, *f = (WeftWorkFloor){1, w, m->threads[i].utid};
  }
  free(own);
  return best;
}

const char *weft_work_floor_note(const WeftMetrics *m, const WeftWorkFloor *f, char *buf, size_t len) {
  char work[32], who[160];
  if (len) buf[0] = '\0';
  if (f->cpus > 0 && f->utid >= 0)
    snprintf(buf, len, "; no less: %s's %s of work on a CPU", weft_metrics_thread_label(m, f->utid, who, sizeof who),
             weft_format_ns(work, sizeof work, f->work_ns));
  else if (f->cpus > 0)
    snprintf(buf, len, "; no less: the threads' %s of work on a CPU over %g CPU%s",
             weft_format_ns(work, sizeof work, f->work_ns), f->cpus, f->cpus == 1 ? "" : "s");
  return buf;
}

/* w's prediction no shorter than the floor of the work it keeps. */
static void whatif_floor(Ctx *c, const WeftCriticalPath *cp, WeftWhatIf *w) {
  WeftWorkFloor f;
  /* (a balance what-if moves the straggler's work to its team: its own is no floor) */
  int64_t floor_ns =
      min64(work_floor_ns(c, usable_cpus(c->m), w->object_id, w->kind != WEFT_WHATIF_BALANCE, &f), cp->length_ns);
  if (w->predicted_ns >= floor_ns) return;
  w->predicted_ns = floor_ns;
  w->saving_ns = cp->length_ns - floor_ns;
  w->floor = f;
}

/* An object whose waits a what-if may take away: a lock, condition variable,
 * barrier or semaphore, not a pipe read or poll (waiting for data: the
 * writer's time is already on the path), nor a Python pool's queues (its
 * parent and workers wait by design), nor a condition variable one thread
 * collecting results waited on (collector_wait, over a path of path_ns). */
static bool whatif_object(const WeftMetrics *m, int64_t object_id, int64_t path_ns) {
  for (size_t i = 0; i < m->nobjects; i++) {
    const WeftObjectMetrics *om = &m->objects[i];
    if (om->object_id != object_id) continue;
    if (collector_wait(om, path_ns)) return false; /* a condvar waited on by design, as its finding says */
    if (!(kind_is_lockish(om->kind) || om->kind == WEFT_KIND_COND || om->kind == WEFT_KIND_BARRIER)) return false;
    if (py_join_object(om)) return false; /* Thread.join(): no wait to take away */
    /* nor is a Python wait for results or tasks: the work it waits for is */
    if (om->kind == WEFT_KIND_SEM && weft_python_process(m->python, om->upid) && py_result_object(om)) return false;
    return !(om->kind == WEFT_KIND_SEM && weft_python_process(m->python, om->upid) &&
             weft_python_pool_of(m->python, om->upid));
  }
  return false;
}

/* The objects: the top by critical share, and the top contended lock if it
 * is another (none waited on by design). */
static void whatif_objects(Ctx *c, WeftCriticalPath *cp) {
  const WeftMetrics *m = c->m;
  int64_t wid[2] = {-1, -1};
  const char *wlabel[2] = {NULL, NULL};
  int64_t wsave[2] = {0, 0};
  for (size_t i = 0; i < cp->nobjects; i++) {
    const WeftPathObject *po = &cp->objects[i];
    /* (one that caused under 1% of the path is not worth a line) */
    if (po->cause_ns > 0 && po->cause_ns * 100 >= cp->length_ns && whatif_object(m, po->object_id, cp->length_ns)) {
      wid[0] = po->object_id;
      wlabel[0] = po->label;
      wsave[0] = po->cause_ns;
      break;
    }
  }
  for (size_t i = 0; i < m->nobjects; i++) {
    const WeftObjectMetrics *om = &m->objects[i];
    if (!whatif_object(m, om->object_id, cp->length_ns) || om->wait_ns <= 0) continue;
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
      cp->whatifs[cp->nwhatifs++] = (WeftWhatIf){.kind = WEFT_WHATIF_OBJECT,
                                                 .kind_name = "object",
                                                 .label = wlabel[k],
                                                 .object_id = wid[k],
                                                 .region = -1,
                                                 .utid = -1,
                                                 .saving_ns = wsave[k],
                                                 .predicted_ns = cp->length_ns - wsave[k],
                                                 .floor = {0, 0, -1}};
  for (size_t i = 0; i < cp->nwhatifs; i++) whatif_floor(c, cp, &cp->whatifs[i]);
}

/* The most imbalanced region: its straggler's excess over the mean, as far
 * as the straggler is on the path during it. */
static void whatif_balance(Ctx *c, WeftCriticalPath *cp) {
  const WeftMetrics *m = c->m;
  ptrdiff_t worst = -1;
  for (size_t i = 0; i < m->nregions; i++) {
    const WeftRegion *rg = &m->regions[i];
    if (rg->nteam < 2 || rg->pop.imbalance_ns <= 0) continue;
    if (worst < 0 || rg->pop.imbalance_ns > m->regions[worst].pop.imbalance_ns) worst = (ptrdiff_t)i;
  }
  if (worst < 0) return;
  const WeftRegion *rg = &m->regions[worst];
  int64_t on_path = 0;
  for (size_t i = 0; i < cp->nsegments; i++) {
    const WeftPathSegment *sg = &cp->segments[i];
    if (sg->utid == rg->straggler_utid)
      on_path += max64(0, min64(sg->end_ns, rg->end_ns) - max64(sg->start_ns, rg->start_ns));
  }
  int64_t excess = rg->pop.max_useful_ns - rg->pop.sum_useful_ns / (int64_t)rg->nteam;
  int64_t save = max64(0, min64(excess, on_path));
  cp->whatifs[cp->nwhatifs++] = (WeftWhatIf){.kind = WEFT_WHATIF_BALANCE,
                                             .kind_name = "balance",
                                             .label = rg->label,
                                             .object_id = -1,
                                             .region = (int64_t)worst,
                                             .utid = rg->straggler_utid,
                                             .saving_ns = save,
                                             .predicted_ns = cp->length_ns - save,
                                             .floor = {0, 0, -1}};
  whatif_floor(c, cp, &cp->whatifs[cp->nwhatifs - 1]);
}

bool build_whatifs(Ctx *c) {
  WeftCriticalPath *cp = c->m->critical_path;
  if (!cp || cp->end_utid < 0) return true; /* no path walked: nothing to predict */
  cp->whatifs = pool_calloc(c->pool, 3, sizeof *cp->whatifs);
  if (!cp->whatifs) return oom(c);
  whatif_objects(c, cp);
  whatif_balance(c, cp);
  return !c->sql.failed;
}
