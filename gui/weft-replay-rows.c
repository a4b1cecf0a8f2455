/* weft-replay-rows.c - a what-if's replayed timeline, as rows (weft-replay-rows.h).
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "weft-replay-rows.h"

#include <math.h>
#include <string.h>

#include "weft-json.h"

static void copy_set(WeftReplayRowSet *out, const WeftReplayTimeline *tl, char *title) {
  out->title = title;
  out->start_ns = INT64_MAX;
  out->rows = g_new0(WeftReplayRow, MAX(tl->nthreads, 1));
  for (size_t i = 0; i < tl->nthreads; i++) {
    const WeftReplayThread *t = &tl->threads[i];
    if (!t->n) continue; /* (not in the replay) */
    WeftReplayRow *r = &out->rows[out->n++];
    r->utid = t->utid;
    r->v = g_memdup2(t->v, t->n * sizeof *t->v);
    r->n = (guint)t->n;
    r->start_ns = t->v[0].start_ns;
    r->end_ns = t->v[t->n - 1].end_ns;
    out->start_ns = MIN(out->start_ns, r->start_ns);
    out->end_ns = MAX(out->end_ns, r->end_ns);
  }
  if (!out->n) out->start_ns = 0;
}

WeftReplayRows *weft_replay_rows_new(const WeftReplay *rp, const char *spec) {
  if (!rp || !rp->nresults || !rp->timeline.nthreads || !rp->results[0].timeline.nthreads) return NULL;
  WeftReplayRows *r = g_atomic_rc_box_new0(WeftReplayRows);
  r->spec = g_strdup(spec);
  copy_set(&r->sets[0], &rp->results[0].timeline, g_strdup_printf("replayed: %s", spec));
  copy_set(&r->sets[1], &rp->timeline, g_strdup("replayed as recorded"));
  r->recorded_end_ns = r->sets[1].start_ns + rp->recorded_ns; /* (the replay's time 0 is the range's start) */
  return r;
}

WeftReplayRows *weft_replay_rows_ref(WeftReplayRows *r) { return r ? g_atomic_rc_box_acquire(r) : NULL; }

static void rows_clear(gpointer p) {
  WeftReplayRows *r = p;
  g_free(r->spec);
  for (int k = 0; k < 2; k++) {
    for (guint i = 0; i < r->sets[k].n; i++) g_free(r->sets[k].rows[i].v);
    g_free(r->sets[k].rows);
    g_free(r->sets[k].title);
  }
}

void weft_replay_rows_unref(WeftReplayRows *r) {
  if (r) g_atomic_rc_box_release_full(r, rows_clear);
}

/* The parts of a pixel's time: each state's, and the running time's on a CPU, runnable, off a CPU. */
enum { PART_ON = WEFT_ST_COUNT, PART_RUNNABLE, PART_OFF, N_PARTS };

/* x's time in each pixel it overlaps, into acc (N_PARTS a pixel). */
static void add_interval(double *acc, int npx, double t0, double npp, const WeftReplayInterval *x) {
  double a = ((double)x->start_ns - t0) / npp, b = ((double)x->end_ns - t0) / npp, len = b - a;
  if (b <= 0 || a >= npx || len <= 0) return;
  double on = x->offcpu ? 0 : (double)x->oncpu_ns / (double)(x->end_ns - x->start_ns);
  for (int p = MAX(0, (int)floor(a)); p < npx && p < b; p++) {
    double ns = (fmin(b, p + 1) - fmax(a, p)) * npp;
    double *px = acc + (size_t)p * N_PARTS;
    px[x->state] += ns;
    if (x->state != WEFT_ST_RUNNING) continue;
    px[x->offcpu ? PART_OFF : PART_ON] += x->offcpu ? ns : ns * on;
    if (!x->offcpu) px[PART_RUNNABLE] += ns * (1 - on);
  }
}

void weft_replay_row_fold(const WeftReplayRow *r, double t0, double npp, int npx, WeftPixel *out) {
  for (int p = 0; p < npx; p++) out[p] = (WeftPixel){WEFT_PIXEL_NONE, WEFT_PIXEL_NONE, 0, 0, 0, 0, 0, 0, 0};
  if (!r || npx <= 0 || npp <= 0) return;
  g_autofree double *acc = g_new0(double, (size_t)npx *N_PARTS);
  guint lo = 0, hi = r->n; /* the first interval that ends after t0 */
  while (lo < hi) {
    guint mid = (lo + hi) / 2;
    if ((double)r->v[mid].end_ns <= t0)
      lo = mid + 1;
    else
      hi = mid;
  }
  double t1 = t0 + npp * npx;
  for (guint k = lo; k < r->n && (double)r->v[k].start_ns < t1; k++)
    if (r->v[k].state >= 0 && r->v[k].state < WEFT_ST_COUNT) add_interval(acc, npx, t0, npp, &r->v[k]);
  for (int p = 0; p < npx; p++) {
    const double *a = acc + (size_t)p * N_PARTS;
    if (!weft_pixel_pick(a, npp, &out[p])) continue;
    out[p].oncpu = (float)CLAMP(a[PART_ON] / npp, 0, 1);
    out[p].runnable = (float)CLAMP(a[PART_RUNNABLE] / npp, 0, 1);
    out[p].offcpu = (float)CLAMP(a[PART_OFF] / npp, 0, 1);
  }
}

void weft_replay_rows_write_json(const WeftReplayRows *r, WeftSession *session, GString *out) {
  if (!r) {
    g_string_append(out, "null");
    return;
  }
  g_string_append_c(out, '[');
  for (int k = 0; k < 2; k++) {
    const WeftReplayRowSet *s = &r->sets[k];
    g_string_append(out, k ? ",\n  {\"title\": " : "\n  {\"title\": ");
    weft_json_append(out, s->title);
    g_string_append_printf(out, ", \"start_ns\": %" G_GINT64_FORMAT ", \"end_ns\": %" G_GINT64_FORMAT ", \"rows\": [",
                           s->start_ns, s->end_ns);
    for (guint i = 0; i < s->n; i++) {
      int ti = session ? weft_session_thread_index(session, s->rows[i].utid) : -1;
      g_string_append_printf(
          out,
          "%s{\"thread\": %" G_GINT64_FORMAT ", \"tid\": %d, \"intervals\": %u, \"start_ns\": %" G_GINT64_FORMAT
          ", \"end_ns\": %" G_GINT64_FORMAT "}",
          i ? ", " : "", s->rows[i].utid, ti >= 0 ? weft_session_get_thread(session, (guint)ti)->tid : -1, s->rows[i].n,
          s->rows[i].start_ns, s->rows[i].end_ns);
    }
    g_string_append(out, "]}");
  }
  g_string_append(out, "]");
}
