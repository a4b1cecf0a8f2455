/* weft-cpu.c - a thread's running time split between scheduler readings (see weft-cpu.h).
 * SPDX-License-Identifier: MIT
 *
 * The readings become intervals as in analysis/metrics.c (thread_time): the
 * first starts at the thread's start with zero counters, a reading earlier
 * than the one before it is skipped, the thread's last reading closes the
 * last interval at its end, and time after the last reading is not
 * measured. Each interval's on-CPU and runnable times are clipped to it and
 * placed in its running time first (split_interval); whatever of the
 * runnable time does not fit there lies inside a recorded wait (woken, not
 * yet returned), where the timeline draws the wait.
 */
#include "config.h"

#include "weft-cpu.h"

#include <math.h>

typedef struct {
  int64_t ts, cpu, runq;
} Reading;

/* The readings of thread utid, from its start (zero counters). NULL on an error. */
static GArray *read_readings(WeftQuery *q, int64_t utid, int64_t start_ns, int64_t end_ns) {
  GArray *pt = g_array_new(FALSE, FALSE, sizeof(Reading));
  Reading r0 = {start_ns, 0, 0};
  g_array_append_val(pt, r0);
  WeftCursor c;
  WeftSchedRow r;
  weft_query_sched(q, &c, utid);
  while (weft_next_sched(&c, &r)) {
    const Reading *prev = &g_array_index(pt, Reading, pt->len - 1);
    if (r.last ? r.cpu_ns < 0 || end_ns < prev->ts : r.ts_ns < prev->ts) continue;
    Reading p = {r.last ? end_ns : r.ts_ns, r.cpu_ns, r.last ? MAX(r.runq_ns, 0) : r.runq_ns};
    g_array_append_val(pt, p);
  }
  if (weft_cursor_close(&c) < 0) {
    g_array_unref(pt);
    return NULL;
  }
  return pt;
}

/* The intervals between readings inside [start, end), their scheduler
 * times in rc, rr; then the time after the last reading, not measured. */
static GArray *make_intervals(const GArray *pt, int64_t start_ns, int64_t end_ns, GArray *rc, GArray *rr) {
  GArray *iv = g_array_new(FALSE, TRUE, sizeof(WeftCpuInterval));
  int64_t at = start_ns;
  for (guint k = 0; k + 1 < pt->len && at < end_ns; k++) {
    const Reading *a = &g_array_index(pt, Reading, k), *b = &g_array_index(pt, Reading, k + 1);
    int64_t s = MAX(a->ts, start_ns), e = MIN(b->ts, end_ns);
    if (e <= s) continue;
    /* a range cutting the interval takes its share (a reading past the thread's end) */
    double f = (double)(e - s) / (double)(b->ts - a->ts);
    int64_t ic = MIN((int64_t)(f * (double)MAX(b->cpu - a->cpu, 0) + 0.5), e - s);
    int64_t ir = MIN((int64_t)(f * (double)MAX(b->runq - a->runq, 0) + 0.5), e - s - ic);
    WeftCpuInterval x = {.start_ns = s, .end_ns = e, .measured = TRUE};
    g_array_append_val(iv, x);
    g_array_append_val(rc, ic);
    g_array_append_val(rr, ir);
    at = e;
  }
  if (at < end_ns) {
    WeftCpuInterval x = {.start_ns = at, .end_ns = end_ns, .measured = FALSE};
    int64_t zero = 0;
    g_array_append_val(iv, x);
    g_array_append_val(rc, zero);
    g_array_append_val(rr, zero);
  }
  return iv;
}

/* Running time of thread utid in [s, e) from its states. -1 on an error. */
static int64_t raw_running(WeftQuery *q, int64_t utid, int64_t s, int64_t e) {
  if (e <= s) return 0;
  WeftCursor c;
  WeftStateTimes st;
  int64_t run = 0;
  weft_query_state_times(q, &c, utid, s, e);
  while (weft_next_state_times(&c, &st))
    if (st.state == WEFT_ST_RUNNING) run += MAX(0, MIN(st.start_ns + st.dur_ns, e) - MAX(st.start_ns, s));
  return weft_cursor_close(&c) < 0 ? -1 : run;
}

/* Running time of thread utid in [s, e), exact: the whole level-of-detail
 * buckets inside it from state_summary (at the coarsest level with at
 * least 16 in it: a few rows), the two ends, shorter than a bucket, from its
 * states. -1 on an error. */
static int64_t running_in(WeftQuery *q, const WeftCpuLod *lod, int64_t s, int64_t e) {
  int level = -1;
  for (int l = lod->max_level; lod->base_ns > 0 && l >= lod->min_level && l >= 0 && level < 0; l--)
    if ((double)lod->base_ns * pow(4, l) * 16 <= (double)(e - s)) level = l;
  if (level < 0) return raw_running(q, lod->utid, s, e);
  int64_t w = lod->base_ns << (2 * level), b0 = (s + w - 1) / w, b1 = e / w; /* whole buckets [b0, b1) */
  int64_t run = 0, left = raw_running(q, lod->utid, s, b0 * w), right = raw_running(q, lod->utid, b1 * w, e);
  WeftCursor c;
  WeftSummaryRow r;
  weft_query_summary(q, &c, lod->utid, level, b0, b1 - 1);
  while (weft_next_summary(&c, &r))
    if (r.state == WEFT_ST_RUNNING) run += r.total_ns;
  if (weft_cursor_close(&c) < 0 || left < 0 || right < 0) return -1;
  return run + left + right;
}

WeftCpuModel *weft_cpu_model_read(WeftQuery *q, const WeftCpuLod *lod, int64_t start_ns, int64_t end_ns) {
  g_autoptr(GArray) pt = read_readings(q, lod->utid, start_ns, end_ns);
  if (!pt) return NULL;
  g_autoptr(GArray) rc = g_array_new(FALSE, FALSE, sizeof(int64_t));
  g_autoptr(GArray) rr = g_array_new(FALSE, FALSE, sizeof(int64_t));
  GArray *iv = make_intervals(pt, start_ns, end_ns, rc, rr);
  WeftCpuInterval *v = (WeftCpuInterval *)(void *)iv->data;
  for (guint j = 0; j < iv->len; j++) {
    v[j].run_ns = running_in(q, lod, v[j].start_ns, v[j].end_ns);
    if (v[j].run_ns < 0) {
      g_array_unref(iv);
      return NULL;
    }
  }
  for (guint j = 0; j < iv->len; j++) {
    WeftCpuInterval *x = &v[j];
    if (!x->measured) {
      x->oncpu_ns = x->run_ns;
      continue;
    }
    int64_t dc = g_array_index(rc, int64_t, j), dr = g_array_index(rr, int64_t, j);
    x->oncpu_ns = MIN(dc, x->run_ns);
    x->offcpu_ns = MAX(0, x->run_ns - x->oncpu_ns - dr);
    x->runnable_ns = x->run_ns - x->oncpu_ns - x->offcpu_ns;
  }
  WeftCpuModel *m = g_new0(WeftCpuModel, 1);
  m->n = iv->len;
  m->v = (WeftCpuInterval *)(void *)g_array_free(iv, FALSE);
  return m;
}

void weft_cpu_model_free(WeftCpuModel *m) {
  if (!m) return;
  g_free(m->v);
  g_free(m);
}

/* The first interval ending after t. */
static guint first_after(const WeftCpuModel *m, double t) {
  guint lo = 0, hi = m->n;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if ((double)m->v[mid].end_ns <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

const WeftCpuInterval *weft_cpu_model_at(const WeftCpuModel *m, int64_t t) {
  guint k = m ? first_after(m, (double)t) : 0;
  return m && k < m->n && m->v[k].start_ns <= t ? &m->v[k] : NULL;
}

void weft_cpu_spread(const WeftCpuModel *m, double *acc, int npx, double t0, double npp, double s, double e,
                     double amount) {
  if (!m || e <= s || amount <= 0) return;
  for (guint k = first_after(m, s); k < m->n && (double)m->v[k].start_ns < e; k++) {
    const WeftCpuInterval *x = &m->v[k];
    double a = fmax(s, (double)x->start_ns), b = fmin(e, (double)x->end_ns);
    if (b <= a) continue;
    double part = amount * (b - a) / (e - s), run = (double)MAX(x->run_ns, 1);
    double f[3] = {(double)x->oncpu_ns / run, (double)x->runnable_ns / run, (double)x->offcpu_ns / run};
    if (x->run_ns <= 0) f[0] = 1; /* a sliver the states did not give it: as not measured */
    /* the interval inside one pixel: that pixel's split is exact */
    double xa = ((double)x->start_ns - t0) / npp, xb = ((double)x->end_ns - t0) / npp;
    int inside = x->measured && x->run_ns > 0 && floor(xa) == ceil(xb) - 1 ? (int)floor(xa) : -1;
    double pa = (a - t0) / npp, pb = (b - t0) / npp;
    if (pb <= 0 || pa >= npx) continue;
    double per_px = part / (pb - pa);
    for (int p = MAX(0, (int)pa); p < npx && p < pb; p++) {
      double w = (fmin(pb, p + 1) - fmax(pa, p)) * per_px;
      if (w <= 0) continue;
      double *ap = acc + (size_t)p * WEFT_CPU_N;
      for (int j = 0; j < 3; j++) ap[j] += w * f[j];
      if (p != inside) ap[WEFT_CPU_ESTIMATED] += w;
    }
  }
}
