/* dask.c - a Dask distributed cluster: its workers, their balance, their
 * GIL waits and the data they wait for from each other (see python.h,
 * WeftDask, and docs/distributed.md).
 * SPDX-License-Identifier: MIT
 *
 * A cluster's processes are started as separate commands (a scheduler, a
 * worker or nanny per host, the client), each under `weft exec`, and
 * imported together. A worker is the process that runs tasks: its threads
 * named Dask-Default-Threads-* (weft's Python hook names them after
 * threading's names) are the executor's, and their running time is task
 * time. The scheduler is the process whose command line runs
 * distributed's scheduler, or, for a LocalCluster, the process that started
 * the workers. What the workers send each other (gathering a
 * task's inputs from the worker that computed them) is in socket_transfer
 * with WEFT_IO: the bytes, and how long each was on its way (from the
 * send's start to the receive's end, on one clock: several hosts are put
 * on one by the import).
 */
#include "analysis-private.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "python.h"

static bool is_task_thread(const char *name) { return name && !strncmp(name, "Dask-Default-Threads-", 21); }

static bool is_scheduler(const char *cmd) {
  return cmd && (strstr(cmd, "dask_scheduler") || strstr(cmd, "dask-scheduler") || strstr(cmd, "dask scheduler"));
}

static bool is_worker_cli(const char *cmd) {
  return cmd && (strstr(cmd, "dask_worker") || strstr(cmd, "dask-worker") || strstr(cmd, "dask worker"));
}

/* A LocalCluster (processes=True) runs its scheduler and nannies in the
 * process that made it, which starts every worker process: the workers'
 * one recorded parent when that is a CPython process and not a `dask
 * worker` command (whose nanny starts its worker too). -1: none such. */
static int64_t local_cluster(const WeftMetrics *m, const WeftPython *py, const WeftDaskWorker *w, size_t n) {
  int64_t parent = -1;
  for (size_t i = 0; i < n; i++) {
    const WeftProcessMetrics *p = weft_metrics_process(m, w[i].upid);
    if (!p || p->parent_upid < 0 || (i && p->parent_upid != parent)) return -1;
    parent = p->parent_upid;
  }
  const WeftProcessMetrics *pp = weft_metrics_process(m, parent);
  return pp && weft_python_process(py, parent) && !is_worker_cli(pp->cmdline) && !is_scheduler(pp->cmdline) ? parent
                                                                                                            : -1;
}

static int cmp_worker(const void *x, const void *y) {
  const WeftDaskWorker *a = x, *b = y;
  return (a->upid > b->upid) - (a->upid < b->upid);
}

static WeftDaskWorker *worker_of(WeftDask *d, int64_t upid) {
  WeftDaskWorker key = {.upid = upid};
  return bsearch(&key, d->workers, d->nworkers, sizeof key, cmp_worker);
}

/* The transfers between two workers, into the receiver's and the sender's numbers. */
static bool peer_transfers(WeftSql *sql, const WeftMetrics *m, WeftDask *d) {
  sqlite3_stmt *q = weft_sql_prepare(sql, "SELECT a.upid, b.upid, s.bytes, s.to_ns - s.from_ns, s.to_ns "
                                          "FROM socket_transfer s JOIN thread a ON a.utid = s.from_utid "
                                          "JOIN thread b ON b.utid = s.to_utid WHERE a.upid != b.upid");
  while (q && weft_sql_step(sql, q)) {
    WeftDaskWorker *from = worker_of(d, sqlite3_column_int64(q, 0)), *to = worker_of(d, sqlite3_column_int64(q, 1));
    int64_t at = sqlite3_column_int64(q, 4);
    if (!from || !to || at < m->range_start_ns || at > m->range_end_ns) continue;
    int64_t bytes = sqlite3_column_int64(q, 2), transit = sqlite3_column_int64(q, 3);
    to->recv_bytes += bytes;
    to->recv_transfers++;
    to->transit_ns += transit > 0 ? transit : 0;
    from->sent_bytes += bytes;
    d->peer_bytes += bytes;
  }
  sqlite3_finalize(q);
  return !sql->failed;
}

bool python_dask(WeftSql *sql, const WeftMetrics *m, WeftPython *py) {
  GArray *ws = g_array_new(FALSE, TRUE, sizeof(WeftDaskWorker));
  int64_t scheduler = -1;
  for (size_t i = 0; i < m->nprocesses; i++) {
    const WeftProcessMetrics *p = &m->processes[i];
    if (is_scheduler(p->cmdline)) scheduler = p->upid;
    WeftDaskWorker w = {.upid = p->upid, .pid = p->pid, .host = p->host};
    for (size_t k = 0; k < m->nthreads; k++) {
      const WeftThreadMetrics *t = &m->threads[k];
      if (t->upid != p->upid || !is_task_thread(t->name)) continue;
      w.task_threads++;
      w.task_ns += t->state_ns[WEFT_ST_RUNNING];
      w.gil_wait_ns += t->state_ns[WEFT_ST_GIL_WAIT];
      w.thread_ns += t->lifetime_ns;
    }
    if (!w.task_threads) continue;
    const char *host = p->host < (int64_t)m->nhosts && m->nhosts > 1 ? m->hosts[p->host].name : NULL;
    w.label = python_strf(py, "worker pid %lld%s%s%s", (long long)p->pid, host ? " (host " : "", host ? host : "",
                          host ? ")" : "");
    g_array_append_val(ws, w);
  }
  if (ws->len < 2) {
    g_array_free(ws, TRUE);
    return true;
  }
  WeftDask *d = g_new0(WeftDask, 1);
  d->nworkers = ws->len;
  d->workers = (WeftDaskWorker *)(void *)g_array_free(ws, FALSE);
  if (scheduler < 0 && (scheduler = local_cluster(m, py, d->workers, d->nworkers)) >= 0) d->scheduler_local = true;
  d->scheduler_upid = scheduler;
  qsort(d->workers, d->nworkers, sizeof *d->workers, cmp_worker);
  int64_t *task = g_new(int64_t, d->nworkers);
  for (size_t k = 0; k < d->nworkers; k++) task[k] = d->workers[k].task_ns;
  weft_pop(task, d->nworkers, m->range_end_ns - m->range_start_ns, &d->pop);
  g_free(task);
  py->dask = d;
  return peer_transfers(sql, m, d);
}

void python_dask_free(WeftDask *d) {
  if (!d) return;
  g_free(d->workers);
  g_free(d);
}
