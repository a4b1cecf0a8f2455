/* findings.c - the findings: what to fix, ranked by cost (see metrics.h,
 * WeftFinding, and docs/report-json.md, "Findings").
 * SPDX-License-Identifier: MIT
 *
 * The rules read every analysis: the objects (locks, semaphores, condition
 * variables: their waits, holds and critical-path shares), the regions
 * (imbalance), the parallelism profile (serial phases, CPUs), the states
 * (I/O, sleep), and the Python analysis to leave out what its own verdicts
 * judge (the GIL, a pool's queues, the I/O of CPython threads). The Python
 * verdicts and groups of Python locks are in findings-python.c; analysis.c
 * runs the rules in order.
 */
#include "analysis-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "naming.h"
#include "python.h"

/* Finding thresholds (docs/report-json.md, "Findings"). */
#define FIND_MIN_COST_DIV     100  /* a finding costs >= 1/100 of the thread time in the range */
#define FIND_IMBALANCE_LB     0.90 /* regions with LB below this are imbalanced */
#define FIND_RUNQ_SHARE       0.10 /* runq >= 10% of the thread time */
#define FIND_UNRECORDED_SHARE 0.10 /* off a CPU outside recorded waits >= 10% of the thread time */

int64_t findings_min_cost(const WeftMetrics *m) {
  return (m->summary.thread_ns + FIND_MIN_COST_DIV - 1) / FIND_MIN_COST_DIV; /* rounded up */
}

const char *pct(char *buf, size_t len, double f) {
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
    case WEFT_FIND_BOTTLENECK: return "bottleneck";
    case WEFT_FIND_GIL_RELEASED: return "gil_released";
    case WEFT_FIND_STARTUP: return "startup";
    case WEFT_FIND_IPC: return "ipc";
    case WEFT_FIND_MPI_IMBALANCE: return "mpi_imbalance";
    case WEFT_FIND_ONE_WORKER: return "one_worker";
    case WEFT_FIND_UNRECORDED: return "unrecorded";
    case WEFT_FIND_OPENMP: return "openmp";
  }
  return "other";
}

bool add_finding(Ctx *c, FindVec *fv, WeftFindingKind kind, int64_t cost, char *title, char *evidence, char *fix,
                 int64_t object_id, int64_t utid, int64_t region) {
  if (!title || !evidence || !fix) return oom(c);
  WeftFinding f = {.kind = kind,
                   .kind_name = find_kind_name(kind),
                   .cost_ns = cost,
                   .title = title,
                   .evidence = evidence,
                   .fix = fix,
                   .object_id = object_id,
                   .utid = utid,
                   .region = region};
  if (VEC_PUSH(fv->v, fv->n, fv->cap, f) < 0) return oom(c);
  return true;
}

/* What to do about waits on o (pylock: a CPython lock or semaphore). */
static const char *object_fix(const WeftObjectMetrics *o, bool pylock) {
  if (o->omp && o->kind == WEFT_KIND_MUTEX)
    return "the team takes turns in this OpenMP critical section: move work out of it; a single update can be "
           "`#pragma omp atomic`, a sum or a maximum a reduction clause (each thread its own copy, combined at the "
           "end); unrelated critical sections can each have a name, `critical (name)`, instead of sharing one lock";
  if (o->kind == WEFT_KIND_MUTEX)
    return "shorten the critical section (move work out of it) or shard the lock (one per bucket or per "
           "thread, merged at the end)";
  if (kind_is_rwlock(o->kind))
    return "shorten the write-locked sections; if reads dominate, use per-thread copies or RCU instead of "
           "a shared rwlock";
  if (o->kind == WEFT_KIND_SPIN)
    return "a spinlock held this long burns CPU in the waiters: use a mutex, or shorten the critical section";
  if (pylock)
    return "CPython's threading.Lock, and the Condition, Event, Queue, Future.result() and Thread.join() "
           "built on it, and multiprocessing's locks, queues and semaphores, are semaphores: if the waiting "
           "thread is idle by design (a pool's parent waiting for results, a worker waiting for tasks), "
           "nothing to fix; if threads contend for a lock, hold it for less time or give each thread its own "
           "data";
  if (o->kind == WEFT_KIND_SEM)
    return "the semaphore's count limits concurrency: raise it if the resource allows, or hold it for less "
           "time";
  if (o->omp)
    return "an OpenMP team's threads wait here between parallel regions while the thread that starts them runs the "
           "code between: parallelise that code too, or make one parallel region of several (its loops with nowait "
           "where they allow, `#pragma omp single` for the serial steps) so that the team is not started again and "
           "again";
  if (o->kind == WEFT_KIND_FUTEX)
    return "threads blocked on this word (a C++20 std::barrier, std::latch, semaphore or std::atomic::wait, a "
           "Rust lock, condition variable or park, or a lock of the program's own): for a barrier or latch, the "
           "threads that came first waited for the last (balance the work between them); for a lock, hold it for "
           "less time or shard it; for a queue or a flag, the thread that sets it is the bottleneck";
  return "threads wait for work or a state change: the producer is the bottleneck or the tasks are too "
         "small; hand out work in bigger batches, or add producers";
}

/* A lock the program's processes share, held around their work. */
#define MPLOCK_FIX                                                                                            \
  "the processes take turns on this lock, so they run one at a time while one holds it: hold it around less " \
  "(only the update of the shared state, not the computation), or partition the data so that each process "   \
  "works on its own part without the lock and the parent combines the results (return values, a Queue)"

/* A Manager().Lock(): the server threads take it for the clients. */
#define MANAGER_FIX                                                                                           \
  "the processes take turns on a lock that lives in the Manager's process, each acquire and release a round " \
  "trip to it: hold it around less, partition the data so that the processes need no lock, or use a "         \
  "multiprocessing.Lock (shared memory, no round trip)"

/* A lock whose longest waiter saw another thread take it this many times
 * is said to be unfair (the wait, 1 ms or more, is looked into: objects.c). */
#define RETAKEN_FINDING 10
#define UNFAIR_FIX                                                                                       \
  "one thread took the lock again and again while another waited: a mutex is not fair (the thread that " \
  "releases it takes it again before the waiter it woke gets to run), so let go for longer between "     \
  "acquisitions (do the work outside the lock), or hand it over in turn (a ticket or queue lock)"

#define READERS_FIX                                                                                           \
  "readers kept taking the rwlock while a writer waited: glibc's rwlock lets readers in while a writer "      \
  "waits (its default, PTHREAD_RWLOCK_PREFER_READER_NP), so a steady stream of readers starves the writers; " \
  "let waiting writers go first (pthread_rwlockattr_setkind_np(&attr, "                                       \
  "PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) before pthread_rwlock_init), or shorten the read-locked "    \
  "sections"

bool collector_wait(const WeftObjectMetrics *o, int64_t path_ns) {
  return o->kind == WEFT_KIND_COND && o->waiters == 1 && path_ns > 0 && o->critical_share_ns * 10 <= o->wait_ns &&
         o->critical_share_ns * 20 <= path_ns;
}

#define COLLECTOR_FIX                                                                                        \
  "one thread waited here while the others worked (it collects their results or waits for its next input), " \
  "and its waits held up the run little (their share of the critical path): nothing to fix here; to make "   \
  "the run faster, make faster the threads it waits for (the critical path names them)"

/* Locks, semaphores and condition variables: one finding each. */
bool find_objects(Ctx *c, FindVec *fv, int64_t min_cost, const bool *grouped) {
  WeftMetrics *m = c->m;
  Pool *pl = c->pool;
  int64_t path_ns = m->critical_path ? m->critical_path->length_ns : 0;
  for (size_t i = 0; i < m->nobjects && !c->sql.failed; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    if (grouped[i]) continue;
    bool cond = o->kind == WEFT_KIND_COND; /* (a futex's finding is a contention one: most are locks) */
    if (!(kind_is_lockish(o->kind) || cond || o->kind == WEFT_KIND_FUTEX) || o->wait_ns < min_cost || o->wait_ns <= 0)
      continue;
    if (weft_python_is_gil_object(m->python, o->object_id)) continue; /* the GIL: findings-python.c's verdict */
    bool pylock = o->kind == WEFT_KIND_SEM && weft_python_process(m->python, o->upid);
    /* a pool's parent waiting for results and its workers waiting for tasks
     * wait by design: the pool's finding (straggler, balance, the parent's
     * wait) tells why, not a lock finding per queue (but a lock the
     * program's processes share is contention) */
    if (pylock && py_pool_bookkeeping(m, o)) continue;
    /* nor is a thread's Thread.join() a lock to fix: the threads it waits
     * for are (the critical path and the imbalance say which) */
    if (py_join_object(o)) continue;
    bool mplock = pylock && py_shared_user_lock(o), manager = pylock && o->py_manager;
    const char *noun = manager                      ? "Manager lock"
                       : mplock                     ? "multiprocessing lock"
                       : pylock                     ? "Python lock or semaphore"
                       : o->kind == WEFT_KIND_MUTEX ? "lock"
                       : kind_is_rwlock(o->kind)    ? "rwlock"
                       : o->kind == WEFT_KIND_SPIN  ? "spinlock"
                       : o->kind == WEFT_KIND_SEM   ? "semaphore"
                       : o->kind == WEFT_KIND_FUTEX ? "futex"
                       : o->omp                     ? "OpenMP team between parallel regions,"
                                                    : "condition variable";
    char b1[32], b2[32], b3[32], b4[32], b5[32], b6[32], b7[32], p1[16], p2[16];
    char procs[48] = "";
    if (o->processes >= 2) snprintf(procs, sizeof procs, " (shared by %lld processes)", (long long)o->processes);
    if (manager) snprintf(procs, sizeof procs, " (in the manager's process)");
    char *title = pool_printf(pl, "%s %s%s: threads waited %s on it (%s of all waiting); %zu call site%s", noun,
                              o->label, procs, weft_format_ns(b1, sizeof b1, o->wait_ns),
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
      snprintf(hold, sizeof hold,
               "; held ≈%s in all (the %lld hold%s someone waited for: %s, max %s; the "
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
      snprintf(crit, sizeof crit, "; its waits put %s on the critical path (%s of the run; counted in the cost again)",
               weft_format_ns(b1, sizeof b1, o->critical_share_ns),
               pct(p1, sizeof p1, (double)o->critical_share_ns / (double)m->critical_path->length_ns));
    /* a waiter that waited while another thread took the lock again and again: an unfair lock */
    char unfair[512] = "";
    bool retaken = o->wait_max_retaken >= RETAKEN_FINDING && o->wait_max_retaken_utid >= 0;
    bool readers = retaken && 2 * o->wait_max_retaken_reads > o->wait_max_retaken; /* a writer kept out */
    if (retaken) {
      char w1[160], w2[160];
      ctx_thread_label(c, o->wait_max_utid, w1, sizeof w1);
      ctx_thread_label(c, o->wait_max_retaken_utid, w2, sizeof w2);
      char reads[48] = "";
      if (readers)
        snprintf(reads, sizeof reads,
                 o->wait_max_retaken_reads == o->wait_max_retaken ? " to read" : " (%lld of them to read)",
                 (long long)o->wait_max_retaken_reads);
      snprintf(unfair, sizeof unfair, "; during the longest wait (%s, %s) %s took it %lld times%s", w1,
               weft_format_ns(b1, sizeof b1, o->wait_max_ns), w2, (long long)o->wait_max_retaken, reads);
    }
    char *evidence =
        pool_printf(pl, "%swait p50 %s, p99 %s, max %s%s; %lld thread%s waited; top site %s%s%s", acq,
                    weft_format_ns(b2, sizeof b2, o->wait_p50_ns), weft_format_ns(b3, sizeof b3, o->wait_p99_ns),
                    weft_format_ns(b4, sizeof b4, o->wait_max_ns), hold, (long long)o->waiters,
                    o->waiters == 1 ? "" : "s", o->nsites ? o->sites[0].label : "(unknown)", crit, unfair);
    /* a wait on the critical path costs the run time too: its share counts twice */
    if (add_finding(c, fv, cond ? WEFT_FIND_CONDVAR : WEFT_FIND_CONTENTION, sat_add(o->wait_ns, o->critical_share_ns),
                    title, evidence,
                    retaken ? pool_printf(pl, "%s; %s", object_fix(o, pylock), readers ? READERS_FIX : UNFAIR_FIX)
                            : pool_strdup(pl, manager                      ? MANAGER_FIX
                                              : mplock                     ? MPLOCK_FIX
                                              : collector_wait(o, path_ns) ? COLLECTOR_FIX
                                                                           : object_fix(o, pylock)),
                    o->object_id, -1, -1))
      fv->v[fv->n - 1].by_design = (pylock && !mplock && !manager && py_result_object(o)) || /* results or tasks */
                                   collector_wait(o, path_ns);
  }
  return !c->sql.failed;
}

static void thread_name(const Ctx *c, int64_t utid, char *buf, size_t len) { ctx_thread_label(c, utid, buf, len); }

/* The condition variable a fork-join team takes its work from, a queue: two
 * or more members waited on it inside the region once they had been going
 * a while (a twentieth of the region: not a start gate), in waits someone
 * outside the team ended (a producer; a barrier's end with the last member
 * to arrive); of those, the one most members did (NULL: none). One query per
 * member, over its own waits in the region. */
static const WeftObjectMetrics *team_queue(Ctx *c, const WeftRegion *r) {
  const WeftMetrics *m = c->m;
  sqlite3_stmt *q = weft_sql_prepare(&c->sql, "SELECT object_id, coalesce(waker_utid, -1) FROM thread_state WHERE "
                                              "utid = ?1 AND start_ns >= ?2 AND start_ns < ?3 AND state = ?4");
  if (!q) return NULL;
  struct {
    int64_t obj, members, last;
  } v[16];
  size_t nv = 0;
  for (size_t k = 0; k < r->nteam && !c->sql.failed; k++) {
    const WeftThreadMetrics *t = weft_metrics_thread(m, r->team_utid[k]);
    int64_t from = max64(r->start_ns, t ? t->start_ns : r->start_ns) + (r->end_ns - r->start_ns) / 20;
    sqlite3_bind_int64(q, 1, r->team_utid[k]);
    sqlite3_bind_int64(q, 2, from);
    sqlite3_bind_int64(q, 3, r->end_ns);
    sqlite3_bind_int(q, 4, WEFT_ST_COND_WAIT);
    while (weft_sql_step(&c->sql, q)) {
      int64_t obj = sqlite3_column_int64(q, 0), waker = sqlite3_column_int64(q, 1);
      bool inside = false;
      for (size_t j = 0; j < r->nteam; j++) inside |= waker == r->team_utid[j];
      if (inside) continue;
      size_t i = 0;
      while (i < nv && v[i].obj != obj) i++;
      if (i == nv && nv < sizeof v / sizeof v[0]) v[nv++] = (__typeof__(v[0])){obj, 0, -1};
      if (i < nv && v[i].last != r->team_utid[k]) v[i].members++, v[i].last = r->team_utid[k];
    }
    sqlite3_reset(q);
  }
  sqlite3_finalize(q);
  const WeftObjectMetrics *best = NULL;
  int64_t most = 1;
  for (size_t i = 0; i < nv; i++)
    for (size_t j = 0; v[i].members > most && j < m->nobjects; j++)
      if (m->objects[j].object_id == v[i].obj && m->objects[j].kind == WEFT_KIND_COND)
        best = &m->objects[j], most = v[i].members;
  return best;
}

bool find_imbalance(Ctx *c, FindVec *fv, int64_t min_cost) {
  WeftMetrics *m = c->m;
  Pool *pl = c->pool;
  char b1[32], b2[32], b3[32], b4[32], b5[32], who[160];
  /* fork-join groups and phases, one finding per region */
  for (size_t i = 0; i < m->nregions && !c->sql.failed; i++) {
    const WeftRegion *r = &m->regions[i];
    if (r->kind == WEFT_REGION_BARRIER || r->nteam < 2 || r->pop.lb >= FIND_IMBALANCE_LB ||
        r->pop.imbalance_ns < min_cost || r->pop.imbalance_ns <= 0)
      continue;
    /* a fork-join group that a phase marks exactly: one finding, under the
     * phase's name (regions are sorted by start, so the twin is near) */
    bool twin = false;
    for (size_t k = i + 1; r->kind == WEFT_REGION_FORK_JOIN && k < m->nregions && m->regions[k].start_ns == r->start_ns;
         k++) {
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
    char *evidence =
        pool_printf(pl, "%zu threads over %s: useful time min %s, mean %s, max %s; parallel efficiency %.2f", r->nteam,
                    weft_format_ns(b2, sizeof b2, r->pop.span_ns), weft_format_ns(b3, sizeof b3, mn),
                    weft_format_ns(b4, sizeof b4, r->pop.sum_useful_ns / (int64_t)r->nteam),
                    weft_format_ns(b5, sizeof b5, r->pop.max_useful_ns), r->pop.pe);
    /* (threads that already take their work from a shared queue: the items, or the CPU each got) */
    const WeftObjectMetrics *queue = r->kind == WEFT_REGION_FORK_JOIN ? team_queue(c, r) : NULL;
    char *fix = queue ? pool_printf(pl,
                                    "the threads already take their work from a shared queue (they wait on %s for "
                                    "it): what is uneven is the items or the CPU each thread got: hand out smaller "
                                    "items (split the big ones), start the longest first, and run at most as many "
                                    "threads as there are CPUs",
                                    queue->label)
                      : pool_strdup(pl, "split the work into smaller chunks handed out dynamically (a shared work "
                                        "queue, OpenMP schedule(dynamic)) instead of one equal share per thread");
    add_finding(c, fv, WEFT_FIND_IMBALANCE, r->pop.imbalance_ns, title, evidence, fix, -1, r->straggler_utid,
                (int64_t)i);
  }
  /* barriers: one finding per object over all its rounds */
  for (size_t oi = 0; oi < m->nobjects && !c->sql.failed; oi++) {
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
    for (size_t i = 0; i < m->nregions && !c->sql.failed; i++) {
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
    if (c->sql.failed) break;
    thread_name(c, best, who, sizeof who);
    size_t pl_len = strlen(WEFT_OMP_REGION_PREFIX);
    const char *rl = o->omp && !strncmp(o->label, WEFT_OMP_REGION_PREFIX, pl_len) ? o->label + pl_len : o->label;
    char *title = pool_printf(pl,
                              "load imbalance %s %s%s: LB %.2f over %lld round%s; "
                              "%s was the straggler in %lld; %s of thread time idle",
                              o->omp ? "in the" : "between the rounds of barrier", o->omp ? "OpenMP region " : "", rl,
                              lb, (long long)rounds, rounds == 1 ? "" : "s", who, (long long)best_n,
                              weft_format_ns(b1, sizeof b1, idle));
    char *evidence =
        pool_printf(pl, "threads waited %s at the barrier; the worst round is %s (LB %.2f, %s)%s",
                    weft_format_ns(b2, sizeof b2, o->wait_ns), m->regions[worst].label, m->regions[worst].pop.lb,
                    weft_format_ns(b3, sizeof b3, m->regions[worst].pop.span_ns),
                    o->omp && m->omp_tasks ? "; the program makes OpenMP tasks, which the runtime runs in threads "
                                             "waiting at a barrier: weft counts that work as waiting, so the team "
                                             "may be better balanced than this reads"
                                           : "");
    char *fix = pool_strdup(
        pl, o->omp ? "the team's threads that finished first waited for the straggler at the region's barriers: "
                     "give its loops schedule(dynamic) or schedule(guided) (or smaller chunks) so that threads that "
                     "finish early take more iterations; split work that is not a loop into tasks (`#pragma omp "
                     "taskloop`, `#pragma omp task`); or give the straggler less of it"
                   : "balance the work of each phase (smaller chunks, work stealing), or let fast "
                     "threads take other work instead of waiting at the barrier");
    add_finding(c, fv, WEFT_FIND_IMBALANCE, cost, title, evidence, fix, o->object_id, best, worst);
  }
  return !c->sql.failed;
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
  if (rq <= 0 || s->thread_ns <= 0 || (double)rq < FIND_RUNQ_SHARE * (double)s->thread_ns || rq < min_cost) return true;
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
  char *evidence =
      pool_printf(pl,
                  "up to %zu thread%s running or runnable at once, on %s CPU%s; the program used %.2f CPUs on "
                  "average (on-CPU time %s)%s",
                  p->kmax, p->kmax == 1 ? "" : "s", ncpu, cpus == 1 ? "" : "s", used,
                  weft_format_ns(b2, sizeof b2, s->time.oncpu_ns), other);
  if (!own) {
    char *title = pool_printf(pl,
                              "measurement: threads waited %s for a CPU (%s of the thread time) that other load "
                              "took, not the program's own threads",
                              weft_format_ns(b1, sizeof b1, rq), pct(p1, sizeof p1, (double)rq / (double)s->thread_ns));
    char *fix = pool_printf(pl,
                            "a warning about this measurement, not advice: the program used %s of the %s CPUs it "
                            "may use; other processes%s or a CPU limit (cgroup quota, taskset) took the rest. "
                            "Measure on a quiet machine; `weft scale --repeat` shows the spread",
                            pct(p2, sizeof p2, used / cpus), ncpu, m->other_cpu_ns > 0 ? " (see the evidence)" : "");
    return add_finding(c, fv, WEFT_FIND_MACHINE_LOAD, 0, title, evidence, fix, -1, -1, -1);
  }
  char *title = pool_printf(pl, "threads were runnable but waiting for a CPU for %s (%s of the thread time)",
                            weft_format_ns(b1, sizeof b1, rq), pct(p1, sizeof p1, (double)rq / (double)s->thread_ns));
  /* the runnable threads of several processes (a process pool, forked workers): workers either way */
  size_t busy = 0;
  for (size_t i = 0; i < m->nprocesses; i++)
    busy += (double)m->processes[i].time.oncpu_ns >= 0.05 * (double)s->time.oncpu_ns;
  char *fix;
  if (cpus > 0 && busy >= 2)
    fix = pool_printf(pl,
                      "more runnable threads than CPUs, in %zu processes: run at most %g worker%s at once, "
                      "threads or processes (the CPUs this program may use), or fewer that each do more",
                      busy, cpus, cpus == 1 ? "" : "s");
  else if (cpus > 0)
    fix = pool_printf(pl,
                      "more runnable threads than CPUs: use at most %g worker thread%s (the CPUs this program "
                      "may use), or fewer threads that each do more",
                      cpus, cpus == 1 ? "" : "s");
  else
    fix = pool_strdup(pl, "use at most one worker thread per CPU");
  return add_finding(c, fv, WEFT_FIND_OVERSUBSCRIBED, rq, title, evidence, fix, -1, -1, -1);
}

/* Threads off a CPU outside every recorded wait (the scheduler's readings
 * say so, at least this much) for FIND_UNRECORDED_SHARE of the thread time:
 * blocked in a call the agent does not wrap, which no other finding can
 * explain; a warning about the measurement (cost 0, as machine_load) that
 * says which calls those are. */
static bool find_unrecorded(Ctx *c, FindVec *fv, int64_t min_cost) {
  const WeftMetrics *m = c->m;
  int64_t v = 0, thread_ns = m->summary.thread_ns, top = -1, topv = -1;
  for (size_t k = 0; k < m->nthreads; k++) { /* (an MPI library's own threads idle by design, as for I/O) */
    const WeftThreadMetrics *t = &m->threads[k];
    if (weft_mpi_library_thread(m, t->utid)) continue;
    v += t->time.offcpu_ns;
    if (t->time.offcpu_ns > topv) topv = t->time.offcpu_ns, top = t->utid;
  }
  if (v <= 0 || v < min_cost || thread_ns <= 0 || (double)v < FIND_UNRECORDED_SHARE * (double)thread_ns) return true;
  char who[160], b1[32], b2[32], p1[16];
  thread_name(c, top, who, sizeof who);
  char *title = pool_printf(c->pool,
                            "measurement: threads were off a CPU for %s outside every wait weft records (%s of "
                            "thread time)",
                            weft_format_ns(b1, sizeof b1, v), pct(p1, sizeof p1, (double)v / (double)thread_ns));
  /* WEFT_IO: waits in poll, select and reads were timed (1), not (0), not known (-1: an older database) */
  const char *io_waits = "waits in poll, select, epoll and reads of pipes and sockets";
  char *evidence = pool_printf(c->pool,
                               "most of it in %s (%s); the scheduler's readings show the time, no recorded wait "
                               "covers it: weft records pthread locks, condition variables, barriers and "
                               "semaphores, %sjoins, child waits and sleeps%s%s%s",
                               who, weft_format_ns(b2, sizeof b2, topv),
                               m->futex_waits > 0 ? "futex waits made through syscall(), " : "",
                               m->io_waits > 0 ? ", and " : "", m->io_waits > 0 ? io_waits : "",
                               m->io_waits == 0 ? "; waits in poll, select, epoll and reads were not recorded (WEFT_IO "
                                                  "was off)"
                                                : "");
  char *again = m->io_waits > 0 ? pool_strdup(c->pool, "")
                                : pool_printf(c->pool,
                                              "%srecord again with `weft record --io` (WEFT_IO=1) to see %s as such; "
                                              "the rest is where ",
                                              m->io_waits < 0 ? "if WEFT_IO was off, " : "", io_waits);
  char *fix = pool_printf(c->pool,
                          "%sthe threads blocked in calls weft does not wrap, so it cannot say on what: %s, a file "
                          "lock (flock, fcntl F_SETLKW), accept or connect, io_uring, reads of files and terminals, "
                          "or page faults that read a mapped file. The timeline shows where in each thread; `perf "
                          "trace -s -p PID` or bcc's offcputime names the call",
                          again,
                          m->futex_waits > 0
                              ? "a futex waited on without libc's syscall() (inline assembly, a statically linked "
                                "runtime)"
                              : "a futex used directly (C++20 std::barrier, std::latch, std::counting_semaphore and "
                                "std::atomic::wait in libstdc++, Rust's std::sync, a hand-made lock)");
  /* a blind spot of the measurement, not a cost weft can rank against the others (a server's thread idle in
   * accept by design would outrank them): cost 0, listed with the warnings */
  return add_finding(c, fv, WEFT_FIND_UNRECORDED, 0, title, evidence, fix, -1, top, -1);
}

/* An OpenMP runtime among a recorded process's modules (GCC's libgomp, LLVM's libomp, Intel's libiomp5):
 * its threads wait at its barriers and for work spinning, then sleeping through system calls of its own,
 * none of it recorded; the load balance and parallel efficiency count a spinning thread as busy. A
 * warning about the measurement (cost 0), with what to do meanwhile. */
static bool find_openmp(Ctx *c, FindVec *fv) {
  sqlite3_stmt *q =
      /* (libgomp's regions are recorded when the agent wrapped them: its objects say so) */
      weft_sql_prepare(&c->sql, "SELECT path FROM module WHERE (path GLOB '*/libgomp.so*' AND NOT EXISTS (SELECT 1 "
                                "FROM sync_object WHERE runtime = 'openmp')) OR path GLOB '*/libomp.so*' OR path "
                                "GLOB '*/libiomp5.so*' ORDER BY module_id LIMIT 1");
  char lib[160] = "";
  if (q && weft_sql_step(&c->sql, q))
    snprintf(lib, sizeof lib, "%s", weft_base_name((const char *)sqlite3_column_text(q, 0)));
  sqlite3_finalize(q);
  if (!*lib || c->sql.failed) return !c->sql.failed;
  char *title = pool_printf(c->pool,
                            "measurement: the program runs OpenMP (%s), whose parallel regions and barriers weft "
                            "does not record",
                            lib);
  char *evidence =
      pool_printf(c->pool, "an OpenMP thread that waits at a barrier or for work spins first (counted here as "
                           "running: busy) and then sleeps in the runtime's own system calls (off a CPU); the "
                           "load balance, parallel efficiency and findings above see neither as waiting");
  char *fix =
      pool_strdup(c->pool, "a warning about this measurement: record with OMP_WAIT_POLICY=passive (GOMP_SPINCOUNT=0 "
                           "for libgomp) so that waiting threads sleep at once; their idle time then shows as off a "
                           "CPU, and the difference between the team's CPU times is the imbalance of the work. A "
                           "tool that reads the runtime itself (OMPT, with LLVM's libomp) names the regions");
  return add_finding(c, fv, WEFT_FIND_OPENMP, 0, title, evidence, fix, -1, -1, -1);
}

bool find_global(Ctx *c, FindVec *fv, int64_t min_cost) {
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
      char par[160];
      if (p->oversubscribed) /* (more ran or waited to run than the CPUs: what they ran first) */
        snprintf(par, sizeof par,
                 "up to %zu threads running or runnable at once, on %g CPU%s; average parallelism %.2f on a CPU "
                 "(%.2f running or runnable)",
                 p->kmax, p->cpus, p->cpus == 1 ? "" : "s", p->cpus_used, p->average);
      else
        snprintf(par, sizeof par, "up to %zu threads ran at once; average parallelism %.2f", p->kmax, p->average);
      char *evidence =
          pool_printf(pl, "no thread running %s%s, one thread %s; %s", weft_format_ns(b2, sizeof b2, p->ns[0]), io,
                      weft_format_ns(b3, sizeof b3, p->ns[1]), par);
      char *fix = pool_printf(pl,
                              "parallelise the serial part or overlap it with parallel work: with %s of the "
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
    /* CPython threads' I/O and sleeps: findings-python.c judges them (pool helpers idle in reads, I/O
     * threads) */
    if (m->python) v -= st[i].state == WEFT_ST_IO_WAIT ? m->python->io_ns : m->python->sleep_ns;
    /* the MPI library's own threads idle in polls by design (those of CPython ranks are taken out above) */
    for (size_t k = 0; k < m->nmpi_lib; k++) {
      const WeftThreadMetrics *t = weft_metrics_thread(m, m->mpi_lib_utids[k]);
      if (t && !weft_python_process(m->python, t->upid)) v -= t->state_ns[st[i].state];
    }
    if (v <= 0 || v < min_cost || s->thread_ns <= 0) continue;
    /* the thread that spent the most time in it (of those counted) */
    int64_t top = -1, topv = -1;
    for (size_t k = 0; k < m->nthreads; k++)
      if (!weft_python_process(m->python, m->threads[k].upid) && !weft_mpi_library_thread(m, m->threads[k].utid) &&
          m->threads[k].state_ns[st[i].state] > topv) {
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
  return find_unrecorded(c, fv, min_cost) && find_openmp(c, fv);
}
/* Good signs (threads are the right choice) first, warnings about the
 * measurement last, and idle-by-design waits after the findings that are
 * not: a wait for results never leads. */
static int find_class(const WeftFinding *f) {
  if (f->kind == WEFT_FIND_IO_OVERLAP || f->kind == WEFT_FIND_GIL_RELEASED) return 0;
  if (weft_finding_is_warning(f)) return 3; /* warnings about the measurement, last */
  return f->by_design ? 2 : 1;
}

static int cmp_finding(const void *x, const void *y) {
  const WeftFinding *a = x, *b = y;
  if (find_class(a) != find_class(b)) return find_class(a) - find_class(b);
  if (a->cost_ns != b->cost_ns) return a->cost_ns > b->cost_ns ? -1 : 1;
  if (a->kind != b->kind) return (int)a->kind - (int)b->kind;
  if (a->object_id != b->object_id) return (a->object_id > b->object_id) - (a->object_id < b->object_id);
  return (a->region > b->region) - (a->region < b->region);
}

void sort_findings(FindVec *fv) {
  if (fv->n) qsort(fv->v, fv->n, sizeof *fv->v, cmp_finding);
}
