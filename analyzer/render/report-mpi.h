/* report-mpi.h - the MPI part of `weft report` (report-mpi.c), for report.c.
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

#endif /* WEFT_REPORT_MPI_H */
