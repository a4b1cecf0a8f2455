/* compare.h - two recordings side by side: before and after a change.
 * SPDX-License-Identifier: MIT
 *
 * weft_compare() takes the metrics of two recordings, each computed by
 * weft_metrics_compute() as `weft report` computes them, and pairs their
 * figures: the summary (run length, the thread time split, the POP
 * efficiencies, average parallelism, the time in each wait state), the sync
 * objects and the findings. Nothing is computed again: every before and
 * after is a number of the one analysis, so each equals what `weft report`
 * shows for that recording, and difference = after - before.
 *
 * Sync objects have other ids in each database, so they are matched by kind,
 * name (WeftObjectMetrics.name) and process: processes pair by command line,
 * else (a changed argument) by executable, each in order of start. Objects
 * of one process with the same kind and name (an array of locks initialised
 * on one line) count as one row, their waits summed. A row of one side only
 * has appeared (only after) or gone (only before).
 *
 * Findings pair by kind and object name when about an object, else by kind
 * and title with its numbers taken out ("LB 0.62" and "LB 0.80" are the same
 * finding); a finding of one side only has appeared or gone.
 *
 * The strings of a WeftCompare point into the two WeftMetrics: free it before
 * them. docs/report-json.md, "Comparing two recordings", defines the JSON.
 */
#ifndef WEFT_COMPARE_H
#define WEFT_COMPARE_H

#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

typedef enum {
  WEFT_COMPARE_NS = 0,       /* a duration (ns) */
  WEFT_COMPARE_FRACTION = 1, /* an efficiency in [0, 1] */
  WEFT_COMPARE_NUMBER = 2,   /* a plain number (average parallelism) */
} WeftCompareUnit;

typedef enum {
  WEFT_COMPARE_BOTH = 0,     /* on both sides */
  WEFT_COMPARE_APPEARED = 1, /* only after */
  WEFT_COMPARE_GONE = 2,     /* only before */
} WeftCompareChange;

/* before, after and their difference; ratio = after / before, < 0 when
 * before is 0 (no ratio). Durations are whole ns in the doubles (exact up to
 * 2^53 ns, 104 days). */
typedef struct {
  double before, after, diff, ratio;
} WeftCompareValue;

typedef struct {
  char key[32];      /* the JSON key: "span_ns", "parallel_efficiency", "lock_wait_ns", ... */
  const char *label; /* for people: "run length", "parallel efficiency", "lock_wait" */
  WeftCompareUnit unit;
  int is_state; /* a recorded wait state (summary.states): only listed when one side has it */
  WeftCompareValue v;
} WeftCompareFigure;

typedef struct {
  const char *kind_name, *name; /* as WeftObjectMetrics */
  const char *cmdline;          /* the process's, after's side when on both */
  WeftCompareChange change;
  size_t nbefore, nafter; /* objects of the key on each side (several: one name, many objects) */
  WeftCompareValue wait_ns;
  WeftCompareValue waits;     /* wait intervals */
  WeftCompareValue contended; /* contended acquisitions */
} WeftCompareObject;

typedef struct {
  const char *kind_name;
  const char *title; /* after's title when on both, else the side's own */
  WeftCompareChange change;
  WeftCompareValue cost_ns;
  bool warning; /* a warning about the measurement (weft_finding_is_warning): no cost */
} WeftCompareFinding;

typedef struct {
  const WeftMetrics *before, *after;
  WeftCompareFigure *figures;
  size_t nfigures; /* the summary's, then every wait state either side has */
  WeftCompareObject *objects;
  size_t nobjects; /* by the larger of the two wait times desc, then kind, name */
  WeftCompareFinding *findings;
  size_t nfindings;                           /* appeared, then gone, then on both; each in its side's rank order */
  size_t processes_matched, processes_by_exe; /* pairs of processes; of them, paired by executable */
} WeftCompare;

/* Compare two recordings' metrics (computed with the same query, whole or a
 * range). NULL when out of memory. */
WeftCompare *weft_compare(const WeftMetrics *before, const WeftMetrics *after);
void weft_compare_free(WeftCompare *c);

/* "appeared", "gone" or "both" */
const char *weft_compare_change_name(WeftCompareChange c);

#endif /* WEFT_COMPARE_H */
