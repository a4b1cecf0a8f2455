/* report-mpi.c - the distributed parts of `weft report`: the MPI ranks as one
 * team (WeftMpi), and the hosts with their clocks (WeftHostMetrics).
 * SPDX-License-Identifier: MIT
 *
 * Text, JSON and Markdown of WeftMpi: the POP efficiencies across ranks
 * (load balance, communication efficiency, parallel efficiency), the
 * messages and collectives, and each rank's useful time and time in MPI.
 * Only formats; the numbers are analysis/mpi.c's.
 */
#include "report-mpi.h"

#include "python.h"

#include "weft-units.h"

/* "rank 2 (pid 7114): useful 240 ms, in MPI 12 ms (on a CPU 9 ms; MPI_Init and MPI_Finalize 80 ms)" */
static void rank_line(FILE *f, const char *lead, const WeftMpiRank *r, const WeftMpi *mpi) {
  char b1[32], b2[32], b3[32], b4[32], cpu[48] = "";
  if (r->mpi_cpu_ns > 0) snprintf(cpu, sizeof cpu, "on a CPU %s; ", weft_format_ns(b4, sizeof b4, r->mpi_cpu_ns));
  fprintf(f, "%srank %lld (pid %lld): useful %s, in MPI %s (%sMPI_Init and MPI_Finalize %s)%s\n", lead,
          (long long)r->rank, (long long)r->pid, weft_format_ns(b1, sizeof b1, r->useful_ns),
          weft_format_ns(b2, sizeof b2, r->mpi_wait_ns), cpu, weft_format_ns(b3, sizeof b3, r->startup_ns),
          r->rank == mpi->slowest_rank ? "  (the slowest)" : "");
}

void report_mpi_text(FILE *f, const WeftMetrics *m) {
  const WeftMpi *mpi = m->mpi;
  if (!mpi) return;
  char b1[32], b2[32];
  fprintf(f, "\nMPI ranks\n");
  fprintf(f, "  %zu ranks of %lld: parallel efficiency %.2f (load balance %.2f x communication efficiency %.2f)\n",
          mpi->nranks, (long long)mpi->world_size, mpi->pop.pe, mpi->pop.lb, mpi->pop.synce);
  fprintf(f, "  %lld messages, %lld collectives a rank waited in; %s waiting in MPI", (long long)mpi->messages,
          (long long)mpi->collectives, weft_format_ns(b1, sizeof b1, mpi->mpi_wait_ns));
  if (mpi->mpi_cpu_ns > 0)
    fprintf(f, ", %s of it on a CPU (the library polling)", weft_format_ns(b2, sizeof b2, mpi->mpi_cpu_ns));
  fputc('\n', f);
  for (size_t i = 0; i < mpi->nranks; i++) rank_line(f, "  ", &mpi->ranks[i], mpi);
}

static void j_int(WeftJsonWriter *j, const char *key, int64_t v) {
  weft_json_key(j, key);
  weft_json_int(j, v);
}

static void j_num(WeftJsonWriter *j, const char *key, double v) {
  weft_json_key(j, key);
  weft_json_double(j, "%.6g", v == 0 ? 0.0 : v);
}

void report_mpi_json(WeftJsonWriter *j, const WeftMetrics *m) {
  const WeftMpi *mpi = m->mpi;
  weft_json_key(j, "mpi");
  if (!mpi) {
    weft_json_null(j);
    return;
  }
  weft_json_begin_object(j);
  j_int(j, "ranks_recorded", (int64_t)mpi->nranks);
  j_int(j, "world_size", mpi->world_size);
  j_num(j, "load_balance", mpi->pop.lb);
  j_num(j, "communication_efficiency", mpi->pop.synce);
  j_num(j, "parallel_efficiency", mpi->pop.pe);
  j_int(j, "span_ns", mpi->pop.span_ns);
  j_int(j, "max_useful_ns", mpi->pop.max_useful_ns);
  j_int(j, "imbalance_ns", mpi->pop.imbalance_ns);
  j_int(j, "mpi_wait_ns", mpi->mpi_wait_ns);
  j_int(j, "mpi_cpu_ns", mpi->mpi_cpu_ns);
  j_int(j, "slowest_rank", mpi->slowest_rank);
  j_int(j, "messages", mpi->messages);
  j_int(j, "collectives", mpi->collectives);
  weft_json_key(j, "ranks");
  weft_json_begin_array(j);
  for (size_t i = 0; i < mpi->nranks; i++) {
    const WeftMpiRank *r = &mpi->ranks[i];
    weft_json_begin_object(j);
    j_int(j, "rank", r->rank);
    j_int(j, "upid", r->upid);
    j_int(j, "pid", r->pid);
    j_int(j, "useful_ns", r->useful_ns);
    j_int(j, "mpi_wait_ns", r->mpi_wait_ns);
    j_int(j, "mpi_cpu_ns", r->mpi_cpu_ns);
    j_int(j, "startup_ns", r->startup_ns);
    j_int(j, "lifetime_ns", r->lifetime_ns);
    weft_json_end_object(j);
  }
  weft_json_end_array(j);
  weft_json_end_object(j);
}

void report_mpi_markdown(FILE *f, const WeftMetrics *m) {
  const WeftMpi *mpi = m->mpi;
  if (!mpi) return;
  char b1[32];
  fprintf(f, "\n#### MPI ranks\n\n");
  fprintf(f,
          "%zu ranks: parallel efficiency **%.2f** (load balance %.2f × communication efficiency %.2f) · %lld "
          "messages, %lld collectives a rank waited in · %s waiting in MPI\n\n",
          mpi->nranks, mpi->pop.pe, mpi->pop.lb, mpi->pop.synce, (long long)mpi->messages, (long long)mpi->collectives,
          weft_format_ns(b1, sizeof b1, mpi->mpi_wait_ns));
  for (size_t i = 0; i < mpi->nranks; i++) rank_line(f, "- ", &mpi->ranks[i], mpi);
}

/* ---- hosts ---- */

/* "beta: 2 process images; clock -5.10 ms ± 103 µs at 709 ms (drift 0.0 ppm) from 62 messages" */
static void host_line(FILE *f, const char *lead, const WeftHostMetrics *h, const WeftMetrics *m) {
  char b1[32], b2[32], b3[32];
  fprintf(f, "%s%s: %lld process image%s", lead, *h->name ? h->name : "(unnamed)", (long long)h->files,
          h->files == 1 ? "" : "s");
  if (h->host == m->hosts[0].host) {
    fprintf(f, "; the reference clock\n");
    return;
  }
  if (!h->messages) {
    fprintf(f, "; clock aligned by the wall clock alone (no message with the other hosts: its uncertainty is "
               "their NTP's)\n");
    return;
  }
  fprintf(f, "; clock %s%s", h->clock_offset_ns > 0 ? "+" : "", weft_format_ns(b1, sizeof b1, h->clock_offset_ns));
  if (h->offset_uncertainty_ns >= 0) fprintf(f, " ± %s", weft_format_ns(b2, sizeof b2, h->offset_uncertainty_ns));
  fprintf(f, " at %s (drift %.1f ppm) beyond its wall clock, from %lld messages%s\n",
          weft_format_ns(b3, sizeof b3, h->offset_at_ns), h->drift_ppm, (long long)h->messages,
          h->offset_uncertainty_ns < 0 ? " (in one direction only: a bound, not an estimate)" : "");
}

void report_hosts_text(FILE *f, const WeftMetrics *m) {
  if (m->nhosts < 2) return;
  fprintf(f, "\nHosts (%zu, each clock mapped onto %s's)\n", m->nhosts, m->hosts[0].name);
  for (size_t i = 0; i < m->nhosts; i++) host_line(f, "  ", &m->hosts[i], m);
  if (m->host_out_of_order > 0)
    fprintf(f, "  %lld messages between hosts still arrive before they were sent: no clock line fits them all\n",
            (long long)m->host_out_of_order);
}

void report_hosts_markdown(FILE *f, const WeftMetrics *m) {
  if (m->nhosts < 2) return;
  fprintf(f, "\n#### Hosts\n\n");
  for (size_t i = 0; i < m->nhosts; i++) host_line(f, "- ", &m->hosts[i], m);
}

void report_hosts_json(WeftJsonWriter *j, const WeftMetrics *m) {
  weft_json_key(j, "hosts");
  weft_json_begin_array(j);
  for (size_t i = 0; i < m->nhosts; i++) {
    const WeftHostMetrics *h = &m->hosts[i];
    weft_json_begin_object(j);
    j_int(j, "host", h->host);
    weft_json_key(j, "name");
    weft_json_string(j, h->name);
    weft_json_key(j, "host_id");
    weft_json_string(j, h->host_id);
    j_int(j, "files", h->files);
    j_int(j, "anchor_shift_ns", h->anchor_shift_ns);
    j_int(j, "clock_offset_ns", h->clock_offset_ns);
    weft_json_key(j, "offset_uncertainty_ns");
    if (h->offset_uncertainty_ns >= 0)
      weft_json_int(j, h->offset_uncertainty_ns);
    else
      weft_json_null(j);
    j_int(j, "offset_at_ns", h->offset_at_ns);
    j_num(j, "drift_ppm", h->drift_ppm);
    j_int(j, "messages", h->messages);
    weft_json_end_object(j);
  }
  weft_json_end_array(j);
  j_int(j, "host_messages_out_of_order", m->host_out_of_order);
}

/* ---- a Dask cluster ---- */

/* "worker pid 28611 (host beta): tasks 1.21 s on 2 threads, GIL waits 80 ms (6%); from the other workers
 * 886 B in 2 transfers, 3.10 ms on their way" */
static void dask_line(FILE *f, const char *lead, const WeftDaskWorker *w) {
  char b1[32], b2[32], b3[32], b4[32];
  fprintf(f, "%s%s: tasks %s on %zu thread%s, GIL waits %s (%.0f%% of their time)", lead, w->label,
          weft_format_ns(b1, sizeof b1, w->task_ns), w->task_threads, w->task_threads == 1 ? "" : "s",
          weft_format_ns(b2, sizeof b2, w->gil_wait_ns),
          w->thread_ns > 0 ? 100.0 * (double)w->gil_wait_ns / (double)w->thread_ns : 0.0);
  if (w->recv_transfers)
    fprintf(f, "; from the other workers %s in %lld transfer%s, %s on their way",
            weft_format_bytes(b3, sizeof b3, w->recv_bytes), (long long)w->recv_transfers,
            w->recv_transfers == 1 ? "" : "s", weft_format_ns(b4, sizeof b4, w->transit_ns));
  fputc('\n', f);
}

static const WeftDask *dask_of(const WeftMetrics *m) { return m->python ? m->python->dask : NULL; }

void report_dask_text(FILE *f, const WeftMetrics *m) {
  const WeftDask *d = dask_of(m);
  if (!d) return;
  char b1[32], sched[96] = "";
  const WeftProcessMetrics *sp = d->scheduler_local ? weft_metrics_process(m, d->scheduler_upid) : NULL;
  if (d->scheduler_upid < 0)
    snprintf(sched, sizeof sched, "; the scheduler was not recorded");
  else if (sp)
    snprintf(sched, sizeof sched, "; the scheduler in pid %lld (LocalCluster)", (long long)sp->pid);
  fprintf(f, "\nDask cluster\n");
  fprintf(f, "  %zu workers: load balance %.2f of their task time; %s moved between workers%s\n", d->nworkers,
          d->pop.lb, weft_format_bytes(b1, sizeof b1, d->peer_bytes), sched);
  for (size_t i = 0; i < d->nworkers; i++) dask_line(f, "  ", &d->workers[i]);
}

void report_dask_markdown(FILE *f, const WeftMetrics *m) {
  const WeftDask *d = dask_of(m);
  if (!d) return;
  char b1[32];
  fprintf(f,
          "\n#### Dask cluster\n\n%zu workers: load balance **%.2f** of their task time · %s moved between "
          "workers\n\n",
          d->nworkers, d->pop.lb, weft_format_bytes(b1, sizeof b1, d->peer_bytes));
  for (size_t i = 0; i < d->nworkers; i++) dask_line(f, "- ", &d->workers[i]);
}

void report_dask_json(WeftJsonWriter *j, const WeftMetrics *m) {
  const WeftDask *d = dask_of(m);
  weft_json_key(j, "dask");
  if (!d) {
    weft_json_null(j);
    return;
  }
  weft_json_begin_object(j);
  weft_json_key(j, "scheduler_upid");
  if (d->scheduler_upid >= 0)
    weft_json_int(j, d->scheduler_upid);
  else
    weft_json_null(j);
  weft_json_key(j, "scheduler_local");
  weft_json_bool(j, d->scheduler_local);
  j_num(j, "load_balance", d->pop.lb);
  j_int(j, "peer_bytes", d->peer_bytes);
  weft_json_key(j, "workers");
  weft_json_begin_array(j);
  for (size_t i = 0; i < d->nworkers; i++) {
    const WeftDaskWorker *w = &d->workers[i];
    weft_json_begin_object(j);
    j_int(j, "upid", w->upid);
    j_int(j, "pid", w->pid);
    j_int(j, "host", w->host);
    weft_json_key(j, "label");
    weft_json_string(j, w->label);
    j_int(j, "task_threads", (int64_t)w->task_threads);
    j_int(j, "task_ns", w->task_ns);
    j_int(j, "gil_wait_ns", w->gil_wait_ns);
    j_int(j, "thread_ns", w->thread_ns);
    j_int(j, "recv_bytes", w->recv_bytes);
    j_int(j, "recv_transfers", w->recv_transfers);
    j_int(j, "transit_ns", w->transit_ns);
    j_int(j, "sent_bytes", w->sent_bytes);
    weft_json_end_object(j);
  }
  weft_json_end_array(j);
  weft_json_end_object(j);
}
