/* analysis.c - weft_metrics_compute(): every analysis, in order (see
 * metrics.h; analysis-private.h lists the files and what each reads).
 * SPDX-License-Identifier: MIT
 *
 * The model first (metrics.c), then the analyses built on it, each reading
 * what the ones before it computed: objects (needed by the barrier regions),
 * regions, parallelism, Python (before the critical path's what-ifs, which
 * leave out a pool's queues, and the findings, which merge its own), the
 * critical path and its what-ifs, and last the findings, in the order of
 * their rules.
 */
#include "analysis-private.h"

#include <stdlib.h>

#include "python.h"

/* The Python analysis (python.h) and its verdicts. */
static bool build_python(Ctx *c) {
  WeftMetrics *m = c->m;
  int pyfail = 0;
  m->python = weft_python_compute(c->sql.db, m, findings_min_cost(m), &pyfail, c->sql.err, c->sql.errlen);
  if (pyfail) c->sql.failed = true;
  return !c->sql.failed;
}

/* The findings of every rule, by cost. The rules run in a fixed order (the
 * Python verdicts, the groups of Python locks, one per object, the
 * imbalances, the global ones, a Python pipeline's bottleneck and threads
 * outside the GIL), then causes before symptoms (verdict.c); findings that
 * tie in the sort come out as qsort leaves them. Last the Python verdict. */
static bool build_findings(Ctx *c) {
  WeftMetrics *m = c->m;
  FindVec fv = {0};
  int64_t min_cost = findings_min_cost(m);
  for (size_t i = 0; m->python && i < m->python->nfindings && !c->sql.failed; i++)
    if (VEC_PUSH(fv.v, fv.n, fv.cap, m->python->findings[i]) < 0) oom(c);
  bool *grouped = calloc(m->nobjects ? m->nobjects : 1, sizeof *grouped);
  if (!grouped) oom(c);
  if (!c->sql.failed && (!m->python || find_pylock_groups(c, &fv, min_cost, grouped)) &&
      find_objects(c, &fv, min_cost, grouped) && find_imbalance(c, &fv, min_cost) && find_mpi(c, &fv, min_cost) &&
      find_global(c, &fv, min_cost) && find_py_bottlenecks(c, &fv, min_cost) && find_py_released(c, &fv))
    fold_py_causes(c, &fv, min_cost); /* causes before symptoms */
  free(grouped);
  if (c->sql.failed) {
    free(fv.v);
    return false;
  }
  sort_findings(&fv);
  m->findings = fv.v;
  m->nfindings = fv.n;
  return build_py_verdict(c);
}

WeftMetrics *weft_metrics_compute(sqlite3 *db, const WeftMetricsQuery *query, char *err, size_t errlen) {
  WeftMetricsQuery dq;
  if (!query) {
    weft_metrics_query_init(&dq);
    query = &dq;
  }
  unsigned what = query->what ? query->what : WEFT_METRICS_ALL;
  if (what & WEFT_METRICS_FINDINGS) what |= WEFT_METRICS_OBJECTS | WEFT_METRICS_REGIONS | WEFT_METRICS_PARALLELISM;
  if (what & WEFT_METRICS_CRITICAL_PATH) what |= WEFT_METRICS_OBJECTS; /* names and per-object shares */
  /* an asked what-if may name a region or balance one (the GUI asks with the critical path alone) */
  if ((what & WEFT_METRICS_CRITICAL_PATH) && query->nwhatifs) what |= WEFT_METRICS_REGIONS;
  what &= WEFT_METRICS_ALL;
  Ctx c;
  if (!metrics_begin(&c, db, query, what, err, errlen)) return NULL;
  WeftMetrics *m = c.m;
  if (metrics_load(&c, query)) {
    if (what & (WEFT_METRICS_OBJECTS | WEFT_METRICS_REGIONS)) build_objects(&c);
    if (!c.sql.failed && (what & WEFT_METRICS_REGIONS)) build_regions(&c);
    if (!c.sql.failed && (what & WEFT_METRICS_PARALLELISM)) build_parallelism(&c);
    if (!c.sql.failed) build_mpi(&c);
    if (!c.sql.failed && (what & (WEFT_METRICS_CRITICAL_PATH | WEFT_METRICS_FINDINGS))) build_python(&c);
    if (!c.sql.failed && (what & WEFT_METRICS_CRITICAL_PATH) && build_critical_path(&c)) build_whatifs(&c);
    if (!c.sql.failed && (what & WEFT_METRICS_CRITICAL_PATH) && (query->nwhatifs || !query->no_replay))
      build_replay(&c, query->whatifs, query->nwhatifs, !query->no_replay, query->replay_timeline != 0);
    if (!c.sql.failed && (what & WEFT_METRICS_FINDINGS)) build_findings(&c);
    if (!c.sql.failed && !(what & WEFT_METRICS_OBJECTS)) m->nobjects = 0;
  }
  metrics_end(&c);
  if (c.sql.failed) {
    weft_metrics_free(m);
    return NULL;
  }
  return m;
}

void weft_metrics_free(WeftMetrics *m) {
  if (!m) return;
  free(m->findings);
  weft_python_free(m->python);
  mpi_free(m->mpi);
  free(m->mpi_lib_utids);
  metrics_free_model(m);
}
