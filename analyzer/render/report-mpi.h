/* report-mpi.h - the MPI and hosts parts of `weft report` (report-mpi.c), for report.c.
 * SPDX-License-Identifier: MIT
 */
#ifndef WEFT_REPORT_MPI_H
#define WEFT_REPORT_MPI_H

#include <stdio.h>

#include "metrics.h"
#include "weft-json.h"

/* "MPI ranks": the POP metrics across ranks and a line per rank (nothing without m->mpi). */
void report_mpi_text(FILE *f, const WeftMetrics *m);
/* "mpi": the same as an object, or null. */
void report_mpi_json(WeftJsonWriter *j, const WeftMetrics *m);
/* "#### MPI ranks" (nothing without m->mpi). */
void report_mpi_markdown(FILE *f, const WeftMetrics *m);

/* "Hosts": each host and how its clock was mapped (nothing with one host). */
void report_hosts_text(FILE *f, const WeftMetrics *m);
void report_hosts_markdown(FILE *f, const WeftMetrics *m);
/* "hosts": every host (an array, empty before schema 5), and "host_messages_out_of_order". */
void report_hosts_json(WeftJsonWriter *j, const WeftMetrics *m);

/* "Dask cluster": the workers of a Dask distributed cluster (python.h, WeftDask; nothing without one). */
void report_dask_text(FILE *f, const WeftMetrics *m);
void report_dask_markdown(FILE *f, const WeftMetrics *m);
/* "dask" inside "python": the same as an object, or null. */
void report_dask_json(WeftJsonWriter *j, const WeftMetrics *m);

#endif /* WEFT_REPORT_MPI_H */
