/* critpath.h - the critical path walk over a recording database (internal to
 * libweft-analysis; metrics.c turns its result into WeftCriticalPath).
 * SPDX-License-Identifier: MIT
 *
 * The walk is described in metrics.h ("the critical path") and
 * docs/report-json.md. It reads thread_state through its (utid, start_ns)
 * primary key, flows through flow_to and lock holds through
 * lock_hold_thread: O(path rows + jumps · log n), independent of the rows
 * not on the path.
 */
#ifndef WEFT_CRITPATH_H
#define WEFT_CRITPATH_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

typedef struct {
  int64_t utid, path_ns, running_ns;
} WeftCpThread;

typedef struct {
  int64_t object_id, cause_ns, hold_ns;
} WeftCpObject;

typedef struct {
  int64_t stack_id, object_id, cause_ns;   /* stack_id -1: no stack */
} WeftCpSite;

/* The raw result; every array malloc'd, freed by weft_critpath_free. */
typedef struct {
  int64_t          path_ns, before_ns, jumps;
  WeftCpThread    *threads;  size_t nthreads;   /* in no particular order */
  WeftCpObject    *objects;  size_t nobjects;
  WeftCpSite      *sites;    size_t nsites;
  WeftPathSegment *segments; size_t nsegments;  /* in time order */
} WeftCpResult;

/* Walk back from (end_utid, end_ns) to a (a <= end_ns). Returns 0, or -1
 * with a message in err (database error, out of memory). */
int  weft_critpath_walk(sqlite3 *db, int64_t a, int64_t end_utid, int64_t end_ns, WeftCpResult *out, char *err,
                        size_t errlen);
void weft_critpath_free(WeftCpResult *r);

#endif /* WEFT_CRITPATH_H */
