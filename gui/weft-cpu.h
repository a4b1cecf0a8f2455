/* weft-cpu.h - where a thread's running time went, as the timeline draws it.
 * SPDX-License-Identifier: MIT
 *
 * The thread_state "running" state is the time outside any recorded wait:
 * on a CPU, or runnable (waiting for one), or off a CPU in a call weft does
 * not record. The scheduler's cumulative readings (sched_sample, every 50 ms
 * of a thread's work, and the last one at its end) tell how much of each
 * there was between two readings, not when: a WeftCpuModel is a thread's
 * intervals between readings with that split of their running time, as
 * weft report computes it (analysis/metrics.c, split_interval: the on-CPU
 * and runnable times are placed in the running spans first). The timeline
 * spreads it over pixels in proportion; a pixel whose split comes from an
 * interval wider than itself is drawn hatched (known only in total).
 */
#ifndef WEFT_CPU_H
#define WEFT_CPU_H

#include <glib.h>
#include <stdint.h>

#include "query.h"

G_BEGIN_DECLS

/* The accumulators of a pixel (weft_cpu_spread): ns of running time on a
 * CPU, runnable, off a CPU, and of those, ns whose split is only known in
 * total (from an interval not inside the pixel, or not measured at all). */
enum { WEFT_CPU_ON, WEFT_CPU_RUNNABLE, WEFT_CPU_OFF, WEFT_CPU_ESTIMATED, WEFT_CPU_N };

typedef struct {
  int64_t start_ns, end_ns;                 /* between two readings, or after the last one */
  int64_t run_ns;                           /* running (state 0) time in it */
  int64_t oncpu_ns, runnable_ns, offcpu_ns; /* run_ns split: on a CPU, runnable, off a CPU */
  gboolean measured;                        /* FALSE: no reading covers it; counted as on a CPU, as the report does */
} WeftCpuInterval;

typedef struct {
  WeftCpuInterval *v; /* from the thread's start to its end, contiguous */
  guint n;
} WeftCpuModel;

/* A thread and its level-of-detail summaries (meta lod_base_ns, its finest
 * and coarsest state_summary levels: -1 when it has none). */
typedef struct {
  int64_t utid, base_ns;
  int min_level, max_level;
} WeftCpuLod;

/* Read the model of a thread alive [start_ns, end_ns) through q: its
 * readings, and the running time between them (from its summaries, the
 * ends of each interval from its states). NULL on an error (q has it). */
WeftCpuModel *weft_cpu_model_read(WeftQuery *q, const WeftCpuLod *lod, int64_t start_ns, int64_t end_ns);
void weft_cpu_model_free(WeftCpuModel *m);

/* The interval containing t, or NULL. */
const WeftCpuInterval *weft_cpu_model_at(const WeftCpuModel *m, int64_t t);

/* Spread amount ns of running time, uniformly over [s, e), onto the npx
 * pixels [t0 + k·npp, t0 + (k+1)·npp): acc[k * WEFT_CPU_N + WEFT_CPU_*], each
 * part of [s, e) split as its interval's running time is. */
void weft_cpu_spread(const WeftCpuModel *m, double *acc, int npx, double t0, double npp, double s, double e,
                     double amount);

G_END_DECLS

#endif /* WEFT_CPU_H */
