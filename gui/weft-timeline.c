/* weft-timeline.c - the timeline widget.
 * SPDX-License-Identifier: MIT
 *
 * One custom widget draws, top to bottom: a time ruler, a track with the
 * number of threads running over time, the rows (a header per process, one
 * row per thread, then one lane per contended lock of the process, scrolled
 * vertically by the widget itself so that the ruler, the track and the legend
 * stay in view) and a legend of the states.
 *
 * Level of detail: each thread row is folded into pixel columns by
 * weft_session_fold() (from state_summary when a pixel is at least a summary
 * bucket wide, else from thread_state over the visible window only). A column
 * gets the colour of the state with the most time in it; a running column
 * that also holds a wait shows that wait as a mark on the lower part of the
 * bar, so a column is never blank if something happened in it. Adjacent
 * columns with the same look are drawn as one rectangle: at most one bar
 * rectangle and one mark rectangle per pixel column per row.
 *
 * The running track sums, per pixel column, the running fraction of every
 * thread's folded pixels (the same fold as the rows): the average number of
 * threads running in the column, drawn as a filled step chart scaled to
 * 0..max (max: the peak of the window, rounded up). A lock lane folds the
 * lock's holds (lock_hold, the visible window only) the same way: a column
 * gets the hue of the thread that held the lock longest in it (the hue shown
 * as a swatch next to that thread's label); a dark mark on top when several
 * threads held it in the column.
 */
#include "config.h"

#include "weft-timeline.h"

#include <math.h>

#include "metrics.h"

#define LABEL_W 200   /* the label column */
#define RIGHT_M 16
#define RULER_H 26
#define TRACK_H 44    /* the running-threads track under the ruler */
#define TRACK_PAD_T 6 /* its plot area inside it */
#define TRACK_PAD_B 4
#define ROWS_TOP (RULER_H + TRACK_H)
#define SWATCH 8      /* a thread's hue, left of its label */
#define MERGED_H 2    /* several holders in a lock lane column */
#define LEGEND_H 28
#define ROW_H 22      /* a thread row */
#define PROC_H 22     /* a process header */
#define BAR_INSET 3   /* bar inside a thread row, top and bottom */
#define MARK_H 5      /* a wait folded into a running column */
#define ZOOM_STEP 1.25
#define MIN_WINDOW_NS 50.0

typedef enum { ENTRY_PROCESS, ENTRY_THREAD, ENTRY_LOCK } EntryKind;

typedef struct {
  EntryKind kind;
  guint index; /* process, thread or lock index in the session */
  int y;       /* top, in content coordinates (0 = first row) */
  int h;
} Entry;

struct _WeftTimeline {
  GtkWidget parent_instance;
  WeftSession *session;
  GArray *entries;   /* Entry */
  int content_h;
  double scroll_y;

  double t0, t1;     /* visible window, ns */

  /* folded pixels per thread for (cache_t0, cache_t1, cache_npx) */
  WeftPixel *cache;
  gboolean *cache_valid;
  double cache_t0, cache_t1;
  int cache_npx;
  WeftHoldPixel *lock_cache; /* the same per lock, for the same window */
  gboolean *lock_cache_valid;

  double pointer_x, pointer_y;
  gboolean pointer_inside;
  double drag_t0, drag_scroll_y;
};

enum { PROP_0, PROP_START_NS, PROP_END_NS, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE(WeftTimeline, weft_timeline, GTK_TYPE_WIDGET)

/* Okabe-Ito (colour-blind safe) for the common states; greys and light tints
 * for the rarer ones. Index = WeftState. */
static const GdkRGBA state_colors[WEFT_ST_COUNT] = {
  [WEFT_ST_RUNNING] = {0x00 / 255., 0x9e / 255., 0x73 / 255., 1},      /* bluish green */
  [WEFT_ST_LOCK_WAIT] = {0xd5 / 255., 0x5e / 255., 0x00 / 255., 1},    /* vermillion */
  [WEFT_ST_RWLOCK_WAIT] = {0xe6 / 255., 0x9f / 255., 0x00 / 255., 1},  /* orange */
  [WEFT_ST_SPIN_WAIT] = {0xcc / 255., 0x79 / 255., 0xa7 / 255., 1},    /* reddish purple */
  [WEFT_ST_COND_WAIT] = {0x00 / 255., 0x72 / 255., 0xb2 / 255., 1},    /* blue */
  [WEFT_ST_BARRIER_WAIT] = {0x56 / 255., 0xb4 / 255., 0xe9 / 255., 1}, /* sky blue */
  [WEFT_ST_SEM_WAIT] = {0xf0 / 255., 0xe4 / 255., 0x42 / 255., 1},     /* yellow */
  [WEFT_ST_JOIN_WAIT] = {0x99 / 255., 0x99 / 255., 0x99 / 255., 1},    /* grey */
  [WEFT_ST_CHILD_WAIT] = {0x66 / 255., 0x66 / 255., 0x66 / 255., 1},   /* dark grey */
  [WEFT_ST_IO_WAIT] = {0xa6 / 255., 0xd8 / 255., 0xf5 / 255., 1},      /* light blue */
  [WEFT_ST_SLEEP] = {0xd4 / 255., 0xd4 / 255., 0xd4 / 255., 1},        /* light grey */
  [WEFT_ST_GIL_WAIT] = {0x00 / 255., 0x00 / 255., 0x00 / 255., 1},     /* black */
};
static const GdkRGBA bg_color = {0xfc / 255., 0xfc / 255., 0xfc / 255., 1};
static const GdkRGBA row_alt_color = {0xf2 / 255., 0xf3 / 255., 0xf5 / 255., 1};
static const GdkRGBA proc_color = {0xdd / 255., 0xe1 / 255., 0xe6 / 255., 1};
static const GdkRGBA chrome_color = {0xee / 255., 0xef / 255., 0xf1 / 255., 1};
static const GdkRGBA line_color = {0xc4 / 255., 0xc8 / 255., 0xcc / 255., 1};
static const GdkRGBA grid_color = {0xe4 / 255., 0xe6 / 255., 0xe9 / 255., 1};
static const GdkRGBA text_color = {0x1e / 255., 0x22 / 255., 0x26 / 255., 1};
static const GdkRGBA dim_text_color = {0x5a / 255., 0x60 / 255., 0x66 / 255., 1};
static const GdkRGBA track_bg_color = {0xe6 / 255., 0xf2 / 255., 0xee / 255., 1};
static const GdkRGBA track_fill_color = {0x4f / 255., 0xb0 / 255., 0x95 / 255., 1};
static const GdkRGBA lane_bg_color = {0xf7 / 255., 0xf4 / 255., 0xec / 255., 1};
static const GdkRGBA merged_color = {0x30 / 255., 0x30 / 255., 0x30 / 255., 1};

/* A distinct hue per thread (golden-ratio steps around the wheel), medium
 * saturation and value so that it reads on the light background and differs
 * from the state colours. */
static GdkRGBA thread_color(guint i) {
  double h = fmod(0.11 + i * 0.618033988749895, 1.0) * 6, s = 0.55, v = 0.80;
  int k = (int)h;
  double f = h - k, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r, g, b;
  switch (k % 6) {
  case 0: r = v, g = t, b = p; break;
  case 1: r = q, g = v, b = p; break;
  case 2: r = p, g = v, b = t; break;
  case 3: r = p, g = q, b = v; break;
  case 4: r = t, g = p, b = v; break;
  default: r = v, g = p, b = q; break;
  }
  /* whole 8-bit values, so that the screenshot shows exactly this colour */
  return (GdkRGBA){(float)(round(r * 255) / 255), (float)(round(g * 255) / 255), (float)(round(b * 255) / 255), 1};
}

static int timeline_x0(void) { return LABEL_W; }
static int timeline_npx(WeftTimeline *self) {
  return MAX(1, gtk_widget_get_width(GTK_WIDGET(self)) - LABEL_W - RIGHT_M);
}
static double ns_per_px(WeftTimeline *self) { return (self->t1 - self->t0) / timeline_npx(self); }
static int rows_h(WeftTimeline *self) {
  return MAX(0, gtk_widget_get_height(GTK_WIDGET(self)) - ROWS_TOP - LEGEND_H);
}

static void invalidate(WeftTimeline *self) {
  g_clear_pointer(&self->cache, g_free);
  g_clear_pointer(&self->cache_valid, g_free);
  g_clear_pointer(&self->lock_cache, g_free);
  g_clear_pointer(&self->lock_cache_valid, g_free);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void clamp_scroll(WeftTimeline *self) {
  double max = MAX(0, self->content_h - rows_h(self));
  self->scroll_y = CLAMP(self->scroll_y, 0, max);
}

static double end_ns(WeftTimeline *self) {
  return self->session ? MAX(1.0, (double)weft_session_get_end_ns(self->session)) : 1e6;
}

/* Set the window, keeping it at least MIN_WINDOW_NS wide and overlapping the
 * recording by at least half its width. */
static void set_window(WeftTimeline *self, double t0, double t1) {
  double w = CLAMP(t1 - t0, MIN_WINDOW_NS, end_ns(self) * 4);
  t0 = CLAMP(t0, -w / 2, end_ns(self) - w / 2);
  if (t0 == self->t0 && t0 + w == self->t1) return;
  self->t0 = t0;
  self->t1 = t0 + w;
  invalidate(self);
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_START_NS]);
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_END_NS]);
}

/* Zoom by factor (> 1 zooms in) keeping the time under x fixed. */
static void zoom_at(WeftTimeline *self, double factor, double x) {
  double npp = ns_per_px(self);
  double t = self->t0 + (x - timeline_x0()) * npp;
  double w = (self->t1 - self->t0) / factor;
  double frac = (t - self->t0) / (self->t1 - self->t0);
  set_window(self, t - frac * w, t - frac * w + w);
}

static double zoom_anchor(WeftTimeline *self) {
  int x0 = timeline_x0();
  if (self->pointer_inside && self->pointer_x >= x0 && self->pointer_x < x0 + timeline_npx(self))
    return self->pointer_x;
  return x0 + timeline_npx(self) / 2.0;
}

static void pan_by(WeftTimeline *self, double frac) {
  double d = (self->t1 - self->t0) * frac;
  set_window(self, self->t0 + d, self->t1 + d);
}

static void rebuild_entries(WeftTimeline *self) {
  g_array_set_size(self->entries, 0);
  int y = 0;
  if (self->session) {
    for (guint p = 0; p < weft_session_get_n_processes(self->session); p++) {
      const WeftSessionProcess *pr = weft_session_get_process(self->session, p);
      Entry e = {ENTRY_PROCESS, p, y, PROC_H};
      g_array_append_val(self->entries, e);
      y += PROC_H;
      for (guint t = 0; t < pr->n_threads; t++) {
        Entry te = {ENTRY_THREAD, pr->first_thread + t, y, ROW_H};
        g_array_append_val(self->entries, te);
        y += ROW_H;
      }
      for (guint l = 0; l < pr->n_locks; l++) {
        Entry le = {ENTRY_LOCK, pr->first_lock + l, y, ROW_H};
        g_array_append_val(self->entries, le);
        y += ROW_H;
      }
    }
  }
  self->content_h = y;
  self->scroll_y = 0;
}

/* The folded pixels of thread i for the current window and width. */
static const WeftPixel *row_pixels(WeftTimeline *self, guint i) {
  int npx = timeline_npx(self);
  guint n = weft_session_get_n_threads(self->session);
  if (!self->cache || self->cache_npx != npx || self->cache_t0 != self->t0 || self->cache_t1 != self->t1) {
    guint nl = weft_session_get_n_locks(self->session);
    g_free(self->cache);
    g_free(self->cache_valid);
    g_free(self->lock_cache);
    g_free(self->lock_cache_valid);
    self->cache = g_new(WeftPixel, (size_t)npx * MAX(n, 1));
    self->cache_valid = g_new0(gboolean, MAX(n, 1));
    self->lock_cache = g_new(WeftHoldPixel, (size_t)npx * MAX(nl, 1));
    self->lock_cache_valid = g_new0(gboolean, MAX(nl, 1));
    self->cache_npx = npx;
    self->cache_t0 = self->t0;
    self->cache_t1 = self->t1;
  }
  WeftPixel *px = self->cache + (size_t)i * npx;
  if (!self->cache_valid[i]) {
    weft_session_fold(self->session, i, self->t0, ns_per_px(self), npx, px);
    self->cache_valid[i] = TRUE;
  }
  return px;
}

static void snapshot_text(WeftTimeline *self, GtkSnapshot *snapshot, const char *text, gboolean bold,
                          double x, double y, int width, int height, const GdkRGBA *color);

/* The folded holds of lock i for the current window and width. */
static const WeftHoldPixel *lock_pixels(WeftTimeline *self, guint i) {
  int npx = timeline_npx(self);
  row_pixels(self, 0); /* (re)allocates both caches for this window */
  WeftHoldPixel *px = self->lock_cache + (size_t)i * npx;
  if (!self->lock_cache_valid[i]) {
    weft_session_fold_lock(self->session, i, self->t0, ns_per_px(self), npx, px);
    self->lock_cache_valid[i] = TRUE;
  }
  return px;
}

/* Draw one lock lane: runs of columns with the same holder as one rectangle. */
static void snapshot_lane(WeftTimeline *self, GtkSnapshot *snapshot, guint i, int y) {
  const WeftHoldPixel *px = lock_pixels(self, i);
  int npx = timeline_npx(self), x0 = timeline_x0();
  int by = y + BAR_INSET, bh = ROW_H - 2 * BAR_INSET;
  for (int p = 0; p < npx;) {
    int q = p + 1;
    gboolean merged = px[p].nholders > 1;
    while (q < npx && px[q].holder == px[p].holder && (px[q].nholders > 1) == merged) q++;
    if (px[p].holder >= 0) {
      GdkRGBA c = thread_color((guint)px[p].holder);
      gtk_snapshot_append_color(snapshot, &c, &GRAPHENE_RECT_INIT(x0 + p, by, q - p, bh));
      if (merged) gtk_snapshot_append_color(snapshot, &merged_color, &GRAPHENE_RECT_INIT(x0 + p, by, q - p, MERGED_H));
    }
    p = q;
  }
}

/* The running-threads track: the sum of the rows' running fractions per column. */
static void snapshot_track(WeftTimeline *self, GtkSnapshot *snapshot, int width) {
  int npx = timeline_npx(self), x0 = timeline_x0();
  guint n = weft_session_get_n_threads(self->session);
  double *sum = g_new0(double, npx);
  for (guint i = 0; i < n; i++) {
    const WeftPixel *px = row_pixels(self, i);
    for (int p = 0; p < npx; p++) sum[p] += px[p].running;
  }
  double peak = 0;
  for (int p = 0; p < npx; p++) peak = MAX(peak, sum[p]);
  int max = MAX(1, (int)ceil(peak - 1e-6));
  int top = RULER_H + TRACK_PAD_T, ph = TRACK_H - TRACK_PAD_T - TRACK_PAD_B, base = top + ph;
  gtk_snapshot_append_color(snapshot, &chrome_color, &GRAPHENE_RECT_INIT(0, RULER_H, width, TRACK_H));
  gtk_snapshot_append_color(snapshot, &track_bg_color, &GRAPHENE_RECT_INIT(x0, top, npx, ph));
  for (int p = 0; p < npx;) {
    int h = (int)round(sum[p] / max * ph), q = p + 1;
    if (sum[p] > 0 && h == 0) h = 1; /* never blank if a thread ran */
    while (q < npx) {
      int hq = (int)round(sum[q] / max * ph);
      if (sum[q] > 0 && hq == 0) hq = 1;
      if (hq != h) break;
      q++;
    }
    if (h > 0) gtk_snapshot_append_color(snapshot, &track_fill_color, &GRAPHENE_RECT_INIT(x0 + p, base - h, q - p, h));
    p = q;
  }
  g_free(sum);
  /* the label and the y scale, in the label column */
  char buf[32];
  snapshot_text(self, snapshot, "running", TRUE, 8, top, LABEL_W - 60, ph, &text_color);
  g_snprintf(buf, sizeof buf, "%d", max);
  snapshot_text(self, snapshot, buf, FALSE, LABEL_W - 30, top - 8, 24, 16, &dim_text_color);
  snapshot_text(self, snapshot, "0", FALSE, LABEL_W - 30, base - 8, 24, 16, &dim_text_color);
  gtk_snapshot_append_color(snapshot, &line_color, &GRAPHENE_RECT_INIT(LABEL_W - 6, top, 4, 1));
  gtk_snapshot_append_color(snapshot, &line_color, &GRAPHENE_RECT_INIT(LABEL_W - 6, base - 1, 4, 1));
  gtk_snapshot_append_color(snapshot, &line_color, &GRAPHENE_RECT_INIT(LABEL_W - 3, top, 1, ph));
  gtk_snapshot_append_color(snapshot, &line_color, &GRAPHENE_RECT_INIT(0, ROWS_TOP - 1, width, 1));
}

/* Draw one thread's bar: runs of equal columns as single rectangles. */
static void snapshot_bar(WeftTimeline *self, GtkSnapshot *snapshot, guint i, int y) {
  const WeftPixel *px = row_pixels(self, i);
  int npx = timeline_npx(self), x0 = timeline_x0();
  int by = y + BAR_INSET, bh = ROW_H - 2 * BAR_INSET;
  for (int p = 0; p < npx;) {
    int q = p + 1;
    while (q < npx && px[q].state == px[p].state && px[q].mark == px[p].mark) q++;
    if (px[p].state != WEFT_PIXEL_NONE) {
      gboolean marked = px[p].mark != WEFT_PIXEL_NONE;
      gtk_snapshot_append_color(snapshot, &state_colors[px[p].state],
                                &GRAPHENE_RECT_INIT(x0 + p, by, q - p, marked ? bh - MARK_H : bh));
      if (marked)
        gtk_snapshot_append_color(snapshot, &state_colors[px[p].mark],
                                  &GRAPHENE_RECT_INIT(x0 + p, by + bh - MARK_H, q - p, MARK_H));
    }
    p = q;
  }
}

static void snapshot_text(WeftTimeline *self, GtkSnapshot *snapshot, const char *text, gboolean bold,
                          double x, double y, int width, int height, const GdkRGBA *color) {
  PangoLayout *layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
  if (bold) {
    char *m = g_markup_printf_escaped("<b>%s</b>", text);
    pango_layout_set_markup(layout, m, -1);
    g_free(m);
  } else {
    pango_layout_set_text(layout, text, -1);
  }
  pango_layout_set_width(layout, width * PANGO_SCALE);
  pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_MIDDLE);
  int lw, lh;
  pango_layout_get_pixel_size(layout, &lw, &lh);
  gtk_snapshot_save(snapshot);
  gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT((float)x, (float)(y + (height - lh) / 2.0)));
  gtk_snapshot_append_layout(snapshot, layout, color);
  gtk_snapshot_restore(snapshot);
  g_object_unref(layout);
}

/* A step of 1, 2 or 5 × 10^k ns giving ticks at least min_px apart. */
static double tick_step(double npp, double min_px) {
  double raw = npp * min_px, step = pow(10, floor(log10(MAX(raw, 1e-3))));
  while (step < raw) {
    if (step * 2 >= raw) return step * 2;
    if (step * 5 >= raw) return step * 5;
    step *= 10;
  }
  return step;
}

/* A ruler label for t: the unit of the larger end of the window (so that
 * the labels read 1.05 ms, 1.10 ms, not 1050 µs), decimals for step. */
static void format_tick(char *buf, size_t len, double t, double step, double tmax) {
  static const struct {
    double scale;
    const char *unit;
  } units[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}, {1, "ns"}};
  guint u = 0;
  while (u + 1 < G_N_ELEMENTS(units) && MAX(tmax, step) < units[u].scale) u++;
  double v = t / units[u].scale, s = step / units[u].scale;
  int decimals = s >= 1 ? 0 : (int)ceil(-log10(s) - 1e-9);
  if (fabs(v) < s / 2) v = 0;
  g_snprintf(buf, len, "%.*f %s", decimals, v, units[u].unit);
}

static void snapshot_ruler(WeftTimeline *self, GtkSnapshot *snapshot, int width, int height) {
  int x0 = timeline_x0(), npx = timeline_npx(self);
  double npp = ns_per_px(self), step = tick_step(npp, 110);
  gtk_snapshot_append_color(snapshot, &chrome_color, &GRAPHENE_RECT_INIT(0, 0, width, RULER_H));
  gtk_snapshot_append_color(snapshot, &line_color, &GRAPHENE_RECT_INIT(0, RULER_H - 1, width, 1));
  char buf[64], w[32];
  g_snprintf(buf, sizeof buf, "window %s", weft_format_ns(w, sizeof w, (int64_t)(self->t1 - self->t0)));
  snapshot_text(self, snapshot, buf, FALSE, 8, 0, LABEL_W - 16, RULER_H, &dim_text_color);
  for (double t = ceil(self->t0 / step) * step; t < self->t1; t += step) {
    int x = x0 + (int)floor((t - self->t0) / npp);
    if (x < x0 || x >= x0 + npx) continue;
    gtk_snapshot_append_color(snapshot, &line_color, &GRAPHENE_RECT_INIT(x, RULER_H - 8, 1, 7));
    /* the grid line through the rows */
    gtk_snapshot_append_color(snapshot, &grid_color, &GRAPHENE_RECT_INIT(x, RULER_H, 1, height - RULER_H - LEGEND_H));
    format_tick(buf, sizeof buf, t, step, MAX(fabs(self->t0), fabs(self->t1)));
    if (x + 4 < x0 + npx - 20) snapshot_text(self, snapshot, buf, FALSE, x + 4, 0, 100, RULER_H - 6, &dim_text_color);
  }
}

static void snapshot_legend(WeftTimeline *self, GtkSnapshot *snapshot, int width, int height) {
  int y = height - LEGEND_H;
  gtk_snapshot_append_color(snapshot, &chrome_color, &GRAPHENE_RECT_INIT(0, y, width, LEGEND_H));
  gtk_snapshot_append_color(snapshot, &line_color, &GRAPHENE_RECT_INIT(0, y, width, 1));
  guint32 present = self->session ? weft_session_get_states_present(self->session) : 1;
  double x = 8;
  for (int s = 0; s < WEFT_ST_COUNT; s++) {
    if (!(present & (1u << s))) continue;
    gtk_snapshot_append_color(snapshot, &state_colors[s], &GRAPHENE_RECT_INIT((float)x, y + 8, 12, 12));
    PangoLayout *layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), weft_state_name(s));
    int lw, lh;
    pango_layout_get_pixel_size(layout, &lw, &lh);
    gtk_snapshot_save(snapshot);
    gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT((float)x + 16, y + 1 + (LEGEND_H - lh) / 2.0f));
    gtk_snapshot_append_layout(snapshot, layout, &text_color);
    gtk_snapshot_restore(snapshot);
    g_object_unref(layout);
    x += 16 + lw + 18;
  }
  snapshot_text(self, snapshot, "lower mark: a wait inside a running pixel", FALSE, x + 8, y + 1,
                MAX(0, width - (int)x - 16), LEGEND_H, &dim_text_color);
}

static void weft_timeline_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  WeftTimeline *self = WEFT_TIMELINE(widget);
  int width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
  gtk_snapshot_append_color(snapshot, &bg_color, &GRAPHENE_RECT_INIT(0, 0, width, height));
  if (!self->session) {
    snapshot_text(self, snapshot, "No recording. Open one with weft-gui run.db or the Open button.", FALSE, 24,
                  0, MAX(0, width - 48), height, &dim_text_color);
    return;
  }
  clamp_scroll(self);
  int top = ROWS_TOP, rh = rows_h(self);
  gtk_snapshot_push_clip(snapshot, &GRAPHENE_RECT_INIT(0, top, width, rh));
  guint row = 0;
  /* backgrounds first, then the ruler's grid lines over them, then bars */
  for (guint k = 0; k < self->entries->len; k++) {
    Entry *e = &g_array_index(self->entries, Entry, k);
    int y = top + e->y - (int)self->scroll_y;
    if (e->kind == ENTRY_PROCESS) row = 0;
    if (y + e->h < top || y >= top + rh) {
      row++;
      continue;
    }
    if (e->kind == ENTRY_PROCESS)
      gtk_snapshot_append_color(snapshot, &proc_color, &GRAPHENE_RECT_INIT(0, y, width, e->h));
    else if (e->kind == ENTRY_LOCK)
      gtk_snapshot_append_color(snapshot, &lane_bg_color, &GRAPHENE_RECT_INIT(0, y, width, e->h));
    else if (row % 2 == 0)
      gtk_snapshot_append_color(snapshot, &row_alt_color, &GRAPHENE_RECT_INIT(0, y, width, e->h));
    row++;
  }
  gtk_snapshot_pop(snapshot);
  snapshot_ruler(self, snapshot, width, height);
  snapshot_track(self, snapshot, width);
  gtk_snapshot_push_clip(snapshot, &GRAPHENE_RECT_INIT(0, top, width, rh));
  for (guint k = 0; k < self->entries->len; k++) {
    Entry *e = &g_array_index(self->entries, Entry, k);
    int y = top + e->y - (int)self->scroll_y;
    if (y + e->h < top || y >= top + rh) continue;
    char buf[512];
    if (e->kind == ENTRY_PROCESS) {
      const WeftSessionProcess *p = weft_session_get_process(self->session, e->index);
      if (p->n_images > 1)
        g_snprintf(buf, sizeof buf, "%d %s (image %d)", p->pid, p->exe, p->image);
      else
        g_snprintf(buf, sizeof buf, "%d %s", p->pid, p->exe);
      snapshot_text(self, snapshot, buf, TRUE, 6 + 12 * p->depth, y, width - 12 - 12 * p->depth, e->h, &text_color);
    } else if (e->kind == ENTRY_LOCK) {
      const WeftSessionLock *l = weft_session_get_lock(self->session, e->index);
      g_snprintf(buf, sizeof buf, "lock %s", l->name);
      snapshot_text(self, snapshot, buf, FALSE, 18, y, LABEL_W - 26, e->h, &dim_text_color);
      snapshot_lane(self, snapshot, e->index, y);
    } else {
      const WeftSessionThread *t = weft_session_get_thread(self->session, e->index);
      GdkRGBA hue = thread_color(e->index);
      gtk_snapshot_append_color(snapshot, &hue,
                                &GRAPHENE_RECT_INIT(6, y + (e->h - SWATCH) / 2, SWATCH, SWATCH));
      g_snprintf(buf, sizeof buf, "%s [%d]", t->name, t->tid);
      snapshot_text(self, snapshot, buf, FALSE, 18, y, LABEL_W - 26, e->h, &text_color);
      snapshot_bar(self, snapshot, e->index, y);
    }
  }
  gtk_snapshot_append_color(snapshot, &line_color, &GRAPHENE_RECT_INIT(LABEL_W - 1, top, 1, rh));
  gtk_snapshot_pop(snapshot);
  snapshot_legend(self, snapshot, width, height);
}

static void weft_timeline_measure(GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                                  int *natural, int *minimum_baseline, int *natural_baseline) {
  WeftTimeline *self = WEFT_TIMELINE(widget);
  if (orientation == GTK_ORIENTATION_HORIZONTAL) {
    *minimum = LABEL_W + RIGHT_M + 100;
    *natural = 1000;
  } else {
    *minimum = ROWS_TOP + LEGEND_H + ROW_H * 2;
    *natural = ROWS_TOP + LEGEND_H + MAX(self->content_h, ROW_H * 4);
  }
}

static void weft_timeline_size_allocate(GtkWidget *widget, int width, int height, int baseline) {
  WeftTimeline *self = WEFT_TIMELINE(widget);
  clamp_scroll(self);
  invalidate(self);
}

/* The entry under y (widget coordinates), or NULL. */
static Entry *entry_at(WeftTimeline *self, double y) {
  if (y < ROWS_TOP || y >= ROWS_TOP + rows_h(self)) return NULL;
  double cy = y - ROWS_TOP + self->scroll_y;
  for (guint k = 0; k < self->entries->len; k++) {
    Entry *e = &g_array_index(self->entries, Entry, k);
    if (cy >= e->y && cy < e->y + e->h) return e;
  }
  return NULL;
}

static gboolean weft_timeline_query_tooltip(GtkWidget *widget, int x, int y, gboolean keyboard_mode,
                                            GtkTooltip *tooltip) {
  WeftTimeline *self = WEFT_TIMELINE(widget);
  if (!self->session) return FALSE;
  Entry *e = entry_at(self, y);
  if (e && e->kind == ENTRY_LOCK) {
    const WeftSessionLock *l = weft_session_get_lock(self->session, e->index);
    char *esc = g_markup_escape_text(l->name, -1);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "<b>lock %s</b>", esc);
    g_free(esc);
    int p = x - timeline_x0();
    if (p >= 0 && p < timeline_npx(self)) {
      const WeftHoldPixel *px = lock_pixels(self, e->index);
      if (px[p].holder >= 0) {
        char lbl[512];
        const WeftSessionThread *h = weft_session_get_thread(self->session, (guint)px[p].holder);
        esc = g_markup_escape_text(weft_session_thread_label(self->session, h->utid, lbl, sizeof lbl), -1);
        g_string_append_printf(s, "\nheld by: %s", esc);
        g_free(esc);
        if (px[p].nholders > 1) g_string_append_printf(s, "\n<i>this pixel merges holds of %d threads</i>", px[p].nholders);
      } else {
        g_string_append(s, "\nnot held");
      }
    }
    gtk_tooltip_set_markup(tooltip, s->str);
    g_string_free(s, TRUE);
    return TRUE;
  }
  if (!e || e->kind != ENTRY_THREAD) return FALSE;
  const WeftSessionThread *th = weft_session_get_thread(self->session, e->index);
  char a[64], b[64], name[512];
  GString *s = g_string_new(NULL);
  if (x < timeline_x0()) {
    g_string_append_printf(s, "<b>%s [%d]</b>\nlived %s … %s (%s)", th->name, th->tid,
                           weft_format_ns(a, sizeof a, th->start_ns), weft_format_ns(b, sizeof b, th->end_ns),
                           weft_format_ns(name, sizeof name, th->end_ns - th->start_ns));
  } else {
    int p = x - timeline_x0();
    if (p >= timeline_npx(self)) goto none;
    double npp = ns_per_px(self);
    int64_t t = (int64_t)floor(self->t0 + (p + 0.5) * npp);
    WeftSpan span;
    if (!weft_session_span_at(self->session, e->index, t, &span)) goto none;
    char *esc = g_markup_escape_text(th->name, -1);
    g_string_append_printf(s, "<b>%s</b>  %s\n%s [%d] at %s", weft_state_name(span.state),
                           weft_format_ns(a, sizeof a, span.dur_ns), esc, th->tid,
                           weft_format_ns(b, sizeof b, span.start_ns));
    g_free(esc);
    if (span.object_id >= 0) {
      esc = g_markup_escape_text(weft_session_object_name(self->session, span.object_id, name, sizeof name), -1);
      g_string_append_printf(s, "\nobject: %s", esc);
      g_free(esc);
    }
    if (span.blocker_utid >= 0) {
      esc = g_markup_escape_text(weft_session_thread_label(self->session, span.blocker_utid, name, sizeof name), -1);
      g_string_append_printf(s, "\nheld by: %s", esc);
      g_free(esc);
    }
    if (span.waker_utid >= 0) {
      esc = g_markup_escape_text(weft_session_thread_label(self->session, span.waker_utid, name, sizeof name), -1);
      g_string_append_printf(s, "\nwoken by: %s", esc);
      g_free(esc);
    }
    const WeftPixel *px = row_pixels(self, e->index);
    if (px[p].nstates > 1)
      g_string_append_printf(s, "\n<i>this pixel (%s) merges %d states; it shows %s%s%s</i>",
                             weft_format_ns(a, sizeof a, (int64_t)npp), px[p].nstates, weft_state_name(px[p].state),
                             px[p].mark != WEFT_PIXEL_NONE ? " with a mark for " : "",
                             px[p].mark != WEFT_PIXEL_NONE ? weft_state_name(px[p].mark) : "");
  }
  gtk_tooltip_set_markup(tooltip, s->str);
  g_string_free(s, TRUE);
  return TRUE;
none:
  g_string_free(s, TRUE);
  return FALSE;
}

static gboolean on_scroll(GtkEventControllerScroll *ctl, double dx, double dy, WeftTimeline *self) {
  GdkModifierType mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(ctl));
  if (mods & GDK_CONTROL_MASK) {
    zoom_at(self, pow(ZOOM_STEP, -dy), zoom_anchor(self));
  } else if (mods & GDK_SHIFT_MASK) {
    pan_by(self, (dy + dx) * 0.1);
  } else {
    if (dx != 0) pan_by(self, dx * 0.1);
    if (dy != 0) {
      self->scroll_y += dy * ROW_H * 2;
      clamp_scroll(self);
      gtk_widget_queue_draw(GTK_WIDGET(self));
    }
  }
  return TRUE;
}

static void on_motion(GtkEventControllerMotion *ctl, double x, double y, WeftTimeline *self) {
  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_inside = TRUE;
}

static void on_leave(GtkEventControllerMotion *ctl, WeftTimeline *self) { self->pointer_inside = FALSE; }

static void on_drag_begin(GtkGestureDrag *g, double x, double y, WeftTimeline *self) {
  self->drag_t0 = self->t0;
  self->drag_scroll_y = self->scroll_y;
  gtk_widget_grab_focus(GTK_WIDGET(self));
}

static void on_drag_update(GtkGestureDrag *g, double ox, double oy, WeftTimeline *self) {
  double w = self->t1 - self->t0, t0 = self->drag_t0 - ox * ns_per_px(self);
  set_window(self, t0, t0 + w);
  self->scroll_y = self->drag_scroll_y - oy;
  clamp_scroll(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void action_zoom(GtkWidget *w, const char *name, GVariant *param) {
  WeftTimeline *self = WEFT_TIMELINE(w);
  zoom_at(self, g_str_equal(name, "timeline.zoom-in") ? ZOOM_STEP : 1 / ZOOM_STEP, zoom_anchor(self));
}

static void action_pan(GtkWidget *w, const char *name, GVariant *param) {
  pan_by(WEFT_TIMELINE(w), g_str_equal(name, "timeline.pan-left") ? -0.1 : 0.1);
}

static void action_fit(GtkWidget *w, const char *name, GVariant *param) { weft_timeline_fit(WEFT_TIMELINE(w)); }

static void weft_timeline_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
  WeftTimeline *self = WEFT_TIMELINE(object);
  switch (prop_id) {
  case PROP_START_NS: g_value_set_int64(value, (gint64)floor(self->t0)); break;
  case PROP_END_NS: g_value_set_int64(value, (gint64)ceil(self->t1)); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void weft_timeline_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec) {
  WeftTimeline *self = WEFT_TIMELINE(object);
  switch (prop_id) {
  case PROP_START_NS: set_window(self, (double)g_value_get_int64(value), self->t1); break;
  case PROP_END_NS: set_window(self, self->t0, (double)g_value_get_int64(value)); break;
  default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void weft_timeline_finalize(GObject *object) {
  WeftTimeline *self = WEFT_TIMELINE(object);
  g_free(self->cache);
  g_free(self->cache_valid);
  g_free(self->lock_cache);
  g_free(self->lock_cache_valid);
  g_array_unref(self->entries);
  G_OBJECT_CLASS(weft_timeline_parent_class)->finalize(object);
}

static void weft_timeline_class_init(WeftTimelineClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->finalize = weft_timeline_finalize;
  object_class->get_property = weft_timeline_get_property;
  object_class->set_property = weft_timeline_set_property;
  widget_class->snapshot = weft_timeline_snapshot;
  widget_class->measure = weft_timeline_measure;
  widget_class->size_allocate = weft_timeline_size_allocate;
  widget_class->query_tooltip = weft_timeline_query_tooltip;

  properties[PROP_START_NS] = g_param_spec_int64("start-ns", NULL, "Start of the visible window (ns)", G_MININT64,
                                                 G_MAXINT64, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_END_NS] = g_param_spec_int64("end-ns", NULL, "End of the visible window (ns)", G_MININT64,
                                               G_MAXINT64, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, properties);

  gtk_widget_class_install_action(widget_class, "timeline.zoom-in", NULL, action_zoom);
  gtk_widget_class_install_action(widget_class, "timeline.zoom-out", NULL, action_zoom);
  gtk_widget_class_install_action(widget_class, "timeline.pan-left", NULL, action_pan);
  gtk_widget_class_install_action(widget_class, "timeline.pan-right", NULL, action_pan);
  gtk_widget_class_install_action(widget_class, "timeline.fit", NULL, action_fit);
  static const struct {
    guint key;
    const char *action;
  } keys[] = {
    {GDK_KEY_w, "timeline.zoom-in"},    {GDK_KEY_plus, "timeline.zoom-in"},   {GDK_KEY_equal, "timeline.zoom-in"},
    {GDK_KEY_s, "timeline.zoom-out"},   {GDK_KEY_minus, "timeline.zoom-out"}, {GDK_KEY_a, "timeline.pan-left"},
    {GDK_KEY_Left, "timeline.pan-left"}, {GDK_KEY_d, "timeline.pan-right"}, {GDK_KEY_Right, "timeline.pan-right"},
    {GDK_KEY_0, "timeline.fit"},        {GDK_KEY_Home, "timeline.fit"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    gtk_widget_class_add_binding_action(widget_class, keys[i].key, 0, keys[i].action, NULL);
  gtk_widget_class_set_css_name(widget_class, "weft-timeline");
  gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void weft_timeline_init(WeftTimeline *self) {
  self->entries = g_array_new(FALSE, TRUE, sizeof(Entry));
  self->t0 = 0;
  self->t1 = 1e6;
  gtk_widget_set_focusable(GTK_WIDGET(self), TRUE);
  gtk_widget_set_has_tooltip(GTK_WIDGET(self), TRUE);
  gtk_widget_set_hexpand(GTK_WIDGET(self), TRUE);
  gtk_widget_set_vexpand(GTK_WIDGET(self), TRUE);

  GtkEventController *scroll = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
  gtk_widget_add_controller(GTK_WIDGET(self), scroll);

  GtkEventController *motion = gtk_event_controller_motion_new();
  g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
  g_signal_connect(motion, "enter", G_CALLBACK(on_motion), self);
  g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
  gtk_widget_add_controller(GTK_WIDGET(self), motion);

  GtkGesture *drag = gtk_gesture_drag_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), GDK_BUTTON_PRIMARY);
  g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drag));
}

GtkWidget *weft_timeline_new(void) { return g_object_new(WEFT_TYPE_TIMELINE, NULL); }

void weft_timeline_set_session(WeftTimeline *self, WeftSession *session) {
  g_return_if_fail(WEFT_IS_TIMELINE(self));
  self->session = session;
  rebuild_entries(self);
  self->t0 = self->t1 = 0; /* so that fit notifies */
  weft_timeline_fit(self);
  gtk_widget_queue_resize(GTK_WIDGET(self));
}

WeftSession *weft_timeline_get_session(WeftTimeline *self) { return self->session; }

void weft_timeline_set_range(WeftTimeline *self, int64_t start_ns, int64_t end_ns) {
  set_window(self, (double)start_ns, (double)end_ns);
}

void weft_timeline_get_range(WeftTimeline *self, int64_t *start_ns, int64_t *end_ns) {
  if (start_ns) *start_ns = (int64_t)floor(self->t0);
  if (end_ns) *end_ns = (int64_t)ceil(self->t1);
}

void weft_timeline_fit(WeftTimeline *self) { set_window(self, 0, end_ns(self)); }
