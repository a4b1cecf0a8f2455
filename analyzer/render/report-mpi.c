/* report-mpi.c - the MPI part of `weft report`: the ranks as one team (WeftMpi).
 * SPDX-License-Identifier: MIT
 *
 * Text, JSON and Markdown of WeftMpi: the POP efficiencies across ranks
 * (load balance, communication efficiency, parallel efficiency), the
 * messages and collectives, and each rank's useful time and time in MPI.
 * Only formats; the numbers are analysis/mpi.c's.
 */
#include "report-mpi.h"

#include "weft-units.h"

/* "rank 2 (pid 7114): useful 240 ms, in MPI 12 ms (MPI_Init and MPI_Finalize 80 ms)" */
static void rank_line(FILE *f, const char *lead, const WeftMpiRank *r, const WeftMpi *mpi) {
  char b1[32], b2[32], b3[32];
  fprintf(f, "%srank %lld (pid %lld): useful %s, in MPI %s (MPI_Init and MPI_Finalize %s)%s\n", lead,
          (long long)r->rank, (long long)r->pid, weft_format_ns(b1, sizeof b1, r->useful_ns),
          weft_format_ns(b2, sizeof b2, r->mpi_wait_ns), weft_format_ns(b3, sizeof b3, r->startup_ns),
          r->rank == mpi->slowest_rank ? "  (the slowest)" : "");
}

void report_mpi_text(FILE *f, const WeftMetrics *m) {
  const WeftMpi *mpi = m->mpi;
  if (!mpi) return;
  char b1[32];
  fprintf(f, "\nMPI ranks\n");
  fprintf(f, "  %zu ranks of %lld: parallel efficiency %.2f (load balance %.2f x communication efficiency %.2f)\n",
          mpi->nranks, (long long)mpi->world_size, mpi->pop.pe, mpi->pop.lb, mpi->pop.synce);
  fprintf(f, "  %lld messages, %lld collectives a rank waited in; %s waiting in MPI\n", (long long)mpi->messages,
          (long long)mpi->collectives, weft_format_ns(b1, sizeof b1, mpi->mpi_wait_ns));
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
