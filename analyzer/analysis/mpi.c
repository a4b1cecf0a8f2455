/* mpi.c - MPI across ranks (see metrics.h, WeftMpi, and docs/report-json.md, "MPI").
 * SPDX-License-Identifier: MIT
 *
 * The selected processes that were MPI ranks (process.mpi_rank; of the
 * processes with one rank, which a rank's children inherit with its
 * environment, the one that called MPI, else the first started) are one
 * team: each rank's useful time (its threads' time on a CPU outside any
 * recorded wait; a rank spinning inside MPI_Allreduce is in an MPI wait,
 * not working) gives the POP efficiencies across ranks as across the threads
 * of a process: load balance, communication efficiency (the part of the
 * run the busiest rank worked) and their product. The messages and
 * collectives are the importer's flows. The finding: ranks that waited in
 * MPI for a slower rank, that rank named.
 */
#include "analysis-private.h"

#include <stdio.h>
#include <stdlib.h>

#define FIND_MPI_LB 0.90 /* ranks are imbalanced below this load balance (as regions: findings.c) */

static int cmp_rank(const void *x, const void *y) {
  const WeftMpiRank *a = x, *b = y;
  return (a->rank > b->rank) - (a->rank < b->rank);
}

/* How many flows of kind k end in the range (distinct: counted once per source instant). */
static int64_t flows_in_range(Ctx *c, int k, bool distinct) {
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, distinct ? "SELECT count(*) FROM (SELECT DISTINCT from_utid, from_ns "
                                                         "FROM flow WHERE kind = ?1 AND to_ns >= ?2 AND to_ns < ?3)"
                                                       : "SELECT count(*) FROM flow WHERE kind = ?1 AND to_ns >= ?2 "
                                                         "AND to_ns < ?3");
  if (!q) return 0;
  sqlite3_bind_int(q, 1, k);
  sqlite3_bind_int64(q, 2, c->a);
  sqlite3_bind_int64(q, 3, c->b);
  int64_t n = weft_sql_step(&c->sql, q) ? sqlite3_column_int64(q, 0) : 0;
  sqlite3_finalize(q);
  return n;
}

static bool library_threads(Ctx *c);
static int64_t mpi_cpu(const Ctx *c, int64_t upid);

/* By rank, then the process that called MPI first, then the first started. */
static int cmp_rank_candidate(const void *x, const void *y) {
  const WeftMpiRank *a = x, *b = y;
  if (a->rank != b->rank) return (a->rank > b->rank) - (a->rank < b->rank);
  if ((a->startup_ns < 0) != (b->startup_ns < 0)) return a->startup_ns < 0 ? 1 : -1;
  if (a->start_ns != b->start_ns) return a->start_ns < b->start_ns ? -1 : 1;
  return (a->upid > b->upid) - (a->upid < b->upid);
}

bool build_mpi(Ctx *c) {
  WeftMetrics *m = c->m;
  size_t n = 0;
  for (size_t i = 0; i < m->nprocesses; i++) n += m->processes[i].mpi_rank >= 0;
  if (n && !library_threads(c)) return false;
  if (m->nmpi_lib && !summary_pops(c)) return false; /* (their teams without them) */
  if (n < 2) return true;
  WeftMpi *mpi = calloc(1, sizeof *mpi);
  WeftMpiRank *r = calloc(n, sizeof *r);
  int64_t *useful = calloc(n, sizeof *useful);
  if (!mpi || !r || !useful) {
    free(mpi);
    free(r);
    free(useful);
    return oom(c);
  }
  size_t k = 0;
  for (size_t i = 0; i < m->nprocesses; i++) {
    const WeftProcessMetrics *p = &m->processes[i];
    if (p->mpi_rank < 0) continue;
    r[k++] = (WeftMpiRank){.rank = p->mpi_rank,
                           .upid = p->upid,
                           .pid = p->pid,
                           .useful_ns = p->useful_ns,
                           .mpi_wait_ns = p->state_ns[WEFT_ST_MPI_WAIT],
                           .startup_ns = -1, /* (until an MPI call of its own is found) */
                           .lifetime_ns = p->lifetime_ns,
                           .start_ns = p->start_ns};
  }
  /* the start and the end of MPI: its objects are per process and call */
  for (size_t i = 0; i < m->nobjects; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    if (o->kind != WEFT_KIND_MPI) continue;
    unsigned call = WEFT_MPI_OBJ_CALL((uint64_t)o->addr);
    bool start_end = call == WEFT_MPI_INIT || call == WEFT_MPI_INIT_THREAD || call == WEFT_MPI_FINALIZE;
    for (size_t k2 = 0; k2 < n; k2++)
      if (r[k2].upid == o->upid) r[k2].startup_ns = max64(r[k2].startup_ns, 0) + (start_end ? o->wait_ns : 0);
  }
  /* one process a rank: what a rank starts inherits its environment and its
   * rank (a shell's exec, a subprocess); the one that called MPI is the rank */
  qsort(r, n, sizeof *r, cmp_rank_candidate);
  size_t kept = 0;
  for (size_t i = 0; i < n; i++)
    if (!kept || r[i].rank != r[kept - 1].rank) r[kept++] = r[i];
  n = kept;
  if (n < 2) {
    free(mpi);
    free(r);
    free(useful);
    return true;
  }
  int64_t start = INT64_MAX, end = INT64_MIN;
  for (size_t i = 0; i < n; i++) {
    const WeftProcessMetrics *p = weft_metrics_process(m, r[i].upid);
    r[i].startup_ns = max64(r[i].startup_ns, 0);
    start = min64(start, max64(p->start_ns, c->a));
    end = max64(end, min64(p->end_ns, c->b));
    mpi->mpi_wait_ns += r[i].mpi_wait_ns;
    mpi->world_size = max64(mpi->world_size, r[i].rank + 1);
  }
  qsort(r, n, sizeof *r, cmp_rank);
  for (size_t i = 0; i < n; i++) {
    r[i].mpi_cpu_ns = mpi_cpu(c, r[i].upid);
    mpi->mpi_cpu_ns += r[i].mpi_cpu_ns;
  }
  mpi->slowest_rank = -1;
  for (size_t i = 0; i < n; i++) {
    useful[i] = r[i].useful_ns;
    if (mpi->slowest_rank < 0 || r[i].useful_ns > useful[mpi->slowest_rank]) mpi->slowest_rank = (int64_t)i;
  }
  mpi->slowest_rank = r[mpi->slowest_rank].rank;
  weft_pop(useful, n, end > start ? end - start : 0, &mpi->pop);
  free(useful);
  mpi->ranks = r;
  mpi->nranks = n;
  mpi->messages = flows_in_range(c, WEFT_FLOW_MPI_MESSAGE, false);
  mpi->collectives = flows_in_range(c, WEFT_FLOW_MPI_COLLECTIVE, true); /* one flow per rank but the last */
  m->mpi = mpi;
  return !c->sql.failed;
}

bool weft_mpi_library_thread(const WeftMetrics *m, int64_t utid) {
  return m && m->nmpi_lib && bsearch(&utid, m->mpi_lib_utids, m->nmpi_lib, sizeof utid, cmp_i64);
}

/* The CPU time a rank's threads (not the library's) spent on a CPU inside
 * their MPI waits: a library that polls for progress (Open MPI, MPICH)
 * keeps the CPU busy while the rank waits. */
static int64_t mpi_cpu(const Ctx *c, int64_t upid) {
  const WeftMetrics *m = c->m;
  double sum = 0;
  for (size_t i = 0; i < m->nthreads; i++) {
    if (m->threads[i].upid != upid || weft_mpi_library_thread(m, m->threads[i].utid)) continue;
    const WSpanList *wl = &c->waits[i];
    for (size_t k = 0; k < wl->n; k++) {
      int64_t a = max64(wl->v[k].s, c->a), b = min64(wl->v[k].e, c->b);
      if (wl->v[k].st != WEFT_ST_MPI_WAIT || b <= a) continue;
      double cpu, runnable;
      wait_demand(c, i, a, b, &cpu, &runnable);
      sum += cpu;
    }
  }
  return (int64_t)(sum + 0.5);
}

/* The threads MPI_Init started (Open MPI's progress and event threads): a
 * process's threads that no recorded thread created (the agent is busy
 * inside an MPI call, so they start unannounced, traced from their first
 * record) and that began after its MPI_Init or MPI_Init_thread began,
 * whatever the range. */
static bool library_threads(Ctx *c) {
  WeftMetrics *m = c->m;
  sqlite3_stmt *q =
      weft_sql_prepare(&c->sql, "SELECT o.upid, min(s.start_ns) FROM sync_object o JOIN thread_state s "
                                "ON s.object_id = o.object_id WHERE o.kind = ?1 AND (o.addr >> 48 & 255) IN "
                                "(?2, ?3) GROUP BY o.upid");
  if (!q) return false;
  sqlite3_bind_int(q, 1, WEFT_KIND_MPI);
  sqlite3_bind_int(q, 2, WEFT_MPI_INIT);
  sqlite3_bind_int(q, 3, WEFT_MPI_INIT_THREAD);
  size_t cap = 0;
  while (weft_sql_step(&c->sql, q)) {
    int64_t upid = sqlite3_column_int64(q, 0), init = sqlite3_column_int64(q, 1);
    for (size_t k = 0; k < m->nthreads; k++) {
      const WeftThreadMetrics *t = &m->threads[k];
      if (t->upid != upid || t->is_main || t->creator_utid >= 0 || t->start_ns < init) continue;
      if (VEC_PUSH(m->mpi_lib_utids, m->nmpi_lib, cap, t->utid) != 0) {
        sqlite3_finalize(q);
        return oom(c);
      }
    }
  }
  sqlite3_finalize(q);
  if (m->nmpi_lib) qsort(m->mpi_lib_utids, m->nmpi_lib, sizeof *m->mpi_lib_utids, cmp_i64);
  return !c->sql.failed;
}

void mpi_free(WeftMpi *mpi) {
  if (!mpi) return;
  free(mpi->ranks);
  free(mpi);
}

/* Ranks waited in MPI for a slower one: the imbalance across ranks costs the
 * time the others could have worked while the slowest did. It counts from
 * 1% of the ranks' time (n x T), not of all threads': Open MPI's helper
 * threads and its launcher, idle all along, would hide it. */
bool find_mpi(Ctx *c, FindVec *fv, int64_t min_cost) {
  const WeftMpi *mpi = c->m->mpi;
  if (mpi) min_cost = min64(min_cost, (mpi->pop.span_ns * (int64_t)mpi->nranks + 99) / 100);
  if (!mpi || mpi->pop.lb >= FIND_MPI_LB || mpi->pop.imbalance_ns < min_cost || mpi->pop.imbalance_ns <= 0) return true;
  Pool *pl = c->pool;
  char b1[32], b2[32], b3[32], b4[32];
  const WeftMpiRank *slow = NULL, *fast = NULL;
  int64_t others_wait = 0;
  for (size_t i = 0; i < mpi->nranks; i++) {
    const WeftMpiRank *r = &mpi->ranks[i];
    if (r->rank == mpi->slowest_rank)
      slow = r;
    else
      others_wait += r->mpi_wait_ns - r->startup_ns;
    if (!fast || r->useful_ns < fast->useful_ns) fast = r;
  }
  char *title =
      pool_printf(pl,
                  "MPI ranks waited %s in MPI (MPI_Init and MPI_Finalize aside) for the slowest rank, rank %lld (pid "
                  "%lld): load balance %.2f across %zu ranks",
                  weft_format_ns(b1, sizeof b1, others_wait), (long long)slow->rank, (long long)slow->pid, mpi->pop.lb,
                  mpi->nranks);
  char *evidence = pool_printf(pl,
                               "useful time per rank: rank %lld %s, rank %lld %s, mean %s; communication "
                               "efficiency %.2f, parallel efficiency %.2f",
                               (long long)slow->rank, weft_format_ns(b2, sizeof b2, slow->useful_ns),
                               (long long)fast->rank, weft_format_ns(b3, sizeof b3, fast->useful_ns),
                               weft_format_ns(b4, sizeof b4, mpi->pop.sum_useful_ns / (int64_t)mpi->nranks),
                               mpi->pop.synce, mpi->pop.pe);
  char *fix = pool_printf(pl,
                          "give rank %lld less work (or the others more): split the domain by the work it holds, "
                          "not by its size, or rebalance it between iterations",
                          (long long)slow->rank);
  return add_finding(c, fv, WEFT_FIND_MPI_IMBALANCE, mpi->pop.imbalance_ns, title, evidence, fix, -1,
                     main_utid(c->m, slow->upid), -1);
}
