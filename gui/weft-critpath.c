/* weft-critpath.c - the critical path on the timeline and its page.
 * SPDX-License-Identifier: MIT
 *
 * The path is weft_metrics_compute's with the critical path asked for (its
 * segments do not depend on the other analyses), over the whole recording
 * and the processes `weft report` covers, on a worker through
 * weft_session_read_async; its segments and its threads' table are copied
 * out and the metrics freed. The bands of a window come from a binary
 * search to the window and, when its segments outnumber the pixels, one per
 * pixel column (the segment under the column's middle).
 */
#include "config.h"

#include "weft-critpath.h"

#include <math.h>
#include <string.h>

#include "metrics.h"
#include "weft-json.h"
#include "weft-table.h"

/* ---- the path ---- */

WeftCritPath *weft_critpath_ref(WeftCritPath *cp) {
  g_atomic_int_inc(&cp->ref);
  return cp;
}

void weft_critpath_unref(WeftCritPath *cp) {
  if (!cp || !g_atomic_int_dec_and_test(&cp->ref)) return;
  for (guint i = 0; i < cp->n_threads; i++) g_free(cp->threads[i].label);
  g_free(cp->threads);
  g_free(cp->segments);
  g_free(cp);
}

static gpointer read_work(WeftQuery *q, const WeftReadEnv *env, gpointer data, GCancellable *cancel, GError **error) {
  WeftMetricsQuery mq;
  weft_metrics_query_init(&mq); /* the whole recording, the processes `weft report` covers */
  mq.what = WEFT_METRICS_CRITICAL_PATH;
  mq.jobs = 1; /* the other core is the UI's */
  mq.no_replay = 1; /* the path, not the what-ifs */
  char err[512] = "";
  WeftMetrics *m = weft_metrics_compute(q->sql.db, &mq, err, sizeof err);
  if (!m) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s", err[0] ? err : "cannot compute the critical path");
    return NULL;
  }
  const WeftCriticalPath *p = m->critical_path;
  WeftCritPath *cp = g_new0(WeftCritPath, 1);
  cp->ref = 1;
  if (p) {
    *cp = (WeftCritPath){1,        p->start_ns, p->end_ns, p->length_ns, p->path_ns, p->before_ns, p->after_ns,
                         p->jumps, NULL,        0,         NULL,         0};
    cp->n_segments = (guint)p->nsegments;
    cp->segments = g_new0(WeftCritSegment, MAX(1, p->nsegments));
    for (size_t i = 0; i < p->nsegments; i++) {
      const WeftPathSegment *s = &p->segments[i];
      guint idx = GPOINTER_TO_UINT(g_hash_table_lookup(env->index, GSIZE_TO_POINTER((gsize)s->utid)));
      cp->segments[i] =
          (WeftCritSegment){s->utid, (int)idx - 1, s->start_ns, s->end_ns, s->running_ns, s->flow_kind, s->object_id};
    }
    cp->n_threads = (guint)p->nthreads;
    cp->threads = g_new0(WeftCritThread, MAX(1, p->nthreads));
    for (size_t i = 0; i < p->nthreads; i++) {
      const WeftPathThread *t = &p->threads[i];
      cp->threads[i] = (WeftCritThread){t->utid, g_strdup(t->label), t->path_ns, t->running_ns, t->share};
    }
  }
  weft_metrics_free(m);
  return cp;
}

void weft_critpath_read_async(WeftSession *session, GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer data) {
  weft_session_read_async(session, read_work, NULL, NULL, (GDestroyNotify)weft_critpath_unref, cancellable, callback,
                          data);
}

WeftCritPath *weft_critpath_read_finish(GAsyncResult *result, GError **error) {
  return weft_session_read_finish(result, error);
}

int weft_critpath_segment_at(const WeftCritPath *cp, int64_t t) {
  guint lo = 0, hi = cp ? cp->n_segments : 0;
  while (lo < hi) { /* the first segment ending after t */
    guint mid = lo + (hi - lo) / 2;
    if (cp->segments[mid].end_ns <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return cp && lo < cp->n_segments && cp->segments[lo].start_ns <= t ? (int)lo : -1;
}

/* ---- a window's bands ---- */

static void add_band(GArray *out, int thread, int xa, int xb) {
  if (thread < 0 || xb <= xa) return;
  WeftCritBand *last = out->len ? &g_array_index(out, WeftCritBand, out->len - 1) : NULL;
  if (last && last->thread == thread && xa <= last->xb) {
    last->xb = MAX(last->xb, xb);
    return;
  }
  WeftCritBand b = {thread, xa, xb};
  g_array_append_val(out, b);
}

guint weft_critpath_bands(const WeftCritPath *cp, double t0, double npp, int npx, GArray *out) {
  g_array_set_size(out, 0);
  if (!cp || !cp->n_segments || npp <= 0 || npx <= 0) return 0;
  double t1 = t0 + npp * npx;
  guint lo = 0, hi = cp->n_segments;
  while (lo < hi) { /* the first segment ending after t0 */
    guint mid = lo + (hi - lo) / 2;
    if ((double)cp->segments[mid].end_ns <= t0)
      lo = mid + 1;
    else
      hi = mid;
  }
  /* a segment per 4 px at most is drawn as it is; more, and the columns are sampled (a few
   * rectangles per band: the software renderer takes about a microsecond for each) */
  guint end = lo, most = MAX(1, (guint)npx / 4);
  while (end < cp->n_segments && (double)cp->segments[end].start_ns < t1 && end - lo <= most) end++;
  gboolean dense = end < cp->n_segments && (double)cp->segments[end].start_ns < t1;
  if (!dense) {
    for (guint k = lo; k < end; k++) {
      const WeftCritSegment *s = &cp->segments[k];
      double a = ((double)s->start_ns - t0) / npp, b = ((double)s->end_ns - t0) / npp;
      int xa = (int)floor(CLAMP(a, 0, npx)), xb = (int)ceil(CLAMP(b, 0, npx));
      add_band(out, s->thread, xa, MAX(xb, xa + 1));
    }
    return end - lo;
  }
  /* denser than the pixels: the thread under each column's middle */
  for (int p = 0; p < npx; p++) {
    int k = weft_critpath_segment_at(cp, (int64_t)floor(t0 + (p + 0.5) * npp));
    if (k >= 0) add_band(out, cp->segments[k].thread, p, p + 1);
  }
  guint n = lo; /* how many the window has: the last one starting before t1 */
  guint a = end, b = cp->n_segments;
  while (a < b) {
    guint mid = a + (b - a) / 2;
    if ((double)cp->segments[mid].start_ns < t1)
      a = mid + 1;
    else
      b = mid;
  }
  return a - n;
}

#define OUTLINE 2 /* px */

void weft_critpath_draw(GtkSnapshot *snapshot, const GArray *bands, const WeftPalette *pal, const double *y_of,
                        guint n_threads, double x0, int row_h) {
  double prev_y = -1;
  int prev_x = -1;
  for (guint k = 0; bands && k < bands->len; k++) {
    const WeftCritBand *b = &g_array_index(bands, WeftCritBand, k);
    double y = (guint)b->thread < n_threads ? y_of[b->thread] : -1;
    if (y < 0) {
      prev_y = -1;
      continue;
    }
    float top = (float)(y - row_h / 2.0 + 1), h = (float)(row_h - 2), xa = (float)(x0 + b->xa),
          w = (float)(b->xb - b->xa);
    /* where the path comes from another row: a line from there, at the band's start */
    if (prev_y >= 0 && prev_y != y && abs(prev_x - b->xa) <= 1) {
      float ya = (float)MIN(prev_y, y), yb = (float)MAX(prev_y, y);
      gtk_snapshot_append_color(snapshot, &pal->crit, &GRAPHENE_RECT_INIT(xa - 1, ya, OUTLINE, yb - ya));
    }
    gtk_snapshot_append_color(snapshot, &pal->crit_fill, &GRAPHENE_RECT_INIT(xa, top, w, h));
    gtk_snapshot_append_color(snapshot, &pal->crit, &GRAPHENE_RECT_INIT(xa, top, w, OUTLINE));
    gtk_snapshot_append_color(snapshot, &pal->crit, &GRAPHENE_RECT_INIT(xa, top + h - OUTLINE, w, OUTLINE));
    if (w > 2 * OUTLINE) {
      gtk_snapshot_append_color(snapshot, &pal->crit, &GRAPHENE_RECT_INIT(xa, top, OUTLINE, h));
      gtk_snapshot_append_color(snapshot, &pal->crit, &GRAPHENE_RECT_INIT(xa + w - OUTLINE, top, OUTLINE, h));
    }
    prev_y = y;
    prev_x = b->xb;
  }
}

/* ---- the page ---- */

struct _WeftCritPathPanel {
  GtkBox parent_instance;
  GtkLabel *title, *status;
  GtkWidget *threads, *segments; /* tables, or NULL */
  GtkBox *tables;
  WeftCritPath *cp;
};

enum { SIG_SEGMENT_ACTIVATED, SIG_THREAD_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(WeftCritPathPanel, weft_critpath_panel, GTK_TYPE_BOX)

static void on_segment_row(GtkWidget *table, int64_t id, gpointer data) {
  WeftCritPathPanel *self = data;
  if (id >= 0 && self->cp) g_signal_emit(self, signals[SIG_SEGMENT_ACTIVATED], 0, (guint)id);
}

static void on_thread_row(GtkWidget *table, int64_t id, gpointer data) {
  if (id >= 0) g_signal_emit(data, signals[SIG_THREAD_ACTIVATED], 0, (gint64)id);
}

static const char *thread_label(const WeftCritPath *cp, int64_t utid) {
  for (guint i = 0; i < cp->n_threads; i++)
    if (cp->threads[i].utid == utid) return cp->threads[i].label;
  return "";
}

static void fill(WeftCritPathPanel *self, const WeftCritPath *cp) {
  static const WeftTableColumn tcols[] = {
      {"Thread", "label", FALSE, TRUE},
      {"On path", "path_ns", TRUE, FALSE},
      {"Share", "share", TRUE, FALSE},
      {"Running", "running_ns", TRUE, FALSE},
  };
  static const WeftTableColumn scols[] = {
      {"#", "index", TRUE, FALSE},          {"Thread", "label", FALSE, TRUE},       {"Start", "start_ns", TRUE, FALSE},
      {"Length", "length_ns", TRUE, FALSE}, {"Running", "running_ns", TRUE, FALSE}, {"Came by", "flow", FALSE, FALSE},
  };
  self->threads = weft_table_new(tcols, G_N_ELEMENTS(tcols), "utid");
  self->segments = weft_table_new(scols, G_N_ELEMENTS(scols), "segment");
  gtk_widget_set_vexpand(self->threads, FALSE);
  gtk_widget_set_size_request(self->threads, -1, 150);
  for (guint i = 0; i < cp->n_threads; i++) {
    const WeftCritThread *t = &cp->threads[i];
    char b[4][160];
    const char *cells[4] = {b[0], b[1], b[2], b[3]};
    double nums[4] = {NAN, (double)t->path_ns, t->share, (double)t->running_ns};
    g_strlcpy(b[0], t->label, sizeof b[0]);
    weft_format_ns(b[1], sizeof b[1], t->path_ns);
    g_snprintf(b[2], sizeof b[2], "%.1f%%", 100 * t->share);
    weft_format_ns(b[3], sizeof b[3], t->running_ns);
    weft_table_append(self->threads, t->utid, cells, nums);
  }
  for (guint i = 0; i < cp->n_segments; i++) {
    const WeftCritSegment *s = &cp->segments[i];
    char b[6][160];
    const char *cells[6] = {b[0], b[1], b[2], b[3], b[4], b[5]};
    double nums[6] = {i, NAN, (double)s->start_ns, (double)(s->end_ns - s->start_ns), (double)s->running_ns, NAN};
    g_snprintf(b[0], sizeof b[0], "%u", i + 1);
    g_strlcpy(b[1], thread_label(cp, s->utid), sizeof b[1]);
    weft_format_instant(b[2], sizeof b[2], s->start_ns, s->end_ns - s->start_ns);
    weft_format_ns(b[3], sizeof b[3], s->end_ns - s->start_ns);
    weft_format_ns(b[4], sizeof b[4], s->running_ns);
    g_strlcpy(b[5], s->flow_kind ? weft_flow_name(s->flow_kind) : "(start)", sizeof b[5]);
    weft_table_append(self->segments, i, cells, nums);
  }
  weft_table_set_select_func(self->threads, on_thread_row, self);
  weft_table_set_select_func(self->segments, on_segment_row, self);
  gtk_box_append(self->tables, self->threads);
  GtkWidget *l = gtk_label_new(NULL);
  gtk_label_set_markup(GTK_LABEL(l), "<b>Segments</b> (a click zooms to it)");
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_box_append(self->tables, l);
  gtk_box_append(self->tables, self->segments);
}

void weft_critpath_panel_set_path(WeftCritPathPanel *self, WeftCritPath *cp, gboolean busy, const char *error) {
  if (self->threads) gtk_box_remove(self->tables, self->threads);
  if (self->segments) gtk_box_remove(self->tables, self->segments);
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child(GTK_WIDGET(self->tables)))) gtk_box_remove(self->tables, c);
  self->threads = self->segments = NULL;
  g_clear_pointer(&self->cp, weft_critpath_unref);
  if (!cp) {
    gtk_label_set_text(self->title, "Critical path");
    gtk_label_set_text(self->status, error  ? error
                                     : busy ? "computing the critical path…"
                                            : "P (or the Path button) draws the critical path over the rows and "
                                              "lists it here.");
    return;
  }
  self->cp = weft_critpath_ref(cp);
  char len[32], a[32], b[32];
  char *t = g_strdup_printf("Critical path %s; %" G_GINT64_FORMAT " flow%s followed",
                            weft_format_ns(len, sizeof len, cp->length_ns), cp->jumps, cp->jumps == 1 ? "" : "s");
  gtk_label_set_text(self->title, t);
  g_free(t);
  t = g_strdup_printf("From %s to %s, as `weft report` walks it: %u segment%s on %u thread%s, outlined on their rows "
                      "(the line between two rows: a flow the path follows). Before the first thread %s, after the "
                      "last %s.",
                      weft_format_ns(a, sizeof a, cp->start_ns), weft_format_ns(b, sizeof b, cp->end_ns),
                      cp->n_segments, cp->n_segments == 1 ? "" : "s", cp->n_threads, cp->n_threads == 1 ? "" : "s",
                      weft_format_ns(len, sizeof len, cp->before_ns), weft_format_ns(a, sizeof a, cp->after_ns));
  gtk_label_set_text(self->status, t);
  g_free(t);
  fill(self, cp);
}

gboolean weft_critpath_panel_activate(WeftCritPathPanel *self, guint i) {
  return self->segments && weft_table_select_id(self->segments, i);
}

void weft_critpath_panel_write_json(WeftCritPathPanel *self, GString *out) {
  const WeftCritPath *cp = self->cp;
  if (!cp) {
    g_string_append(out, "null");
    return;
  }
  g_string_append_printf(out,
                         "{\"start_ns\": %" G_GINT64_FORMAT ", \"end_ns\": %" G_GINT64_FORMAT
                         ", \"length_ns\": %" G_GINT64_FORMAT ", \"jumps\": %" G_GINT64_FORMAT
                         ", \"before_ns\": %" G_GINT64_FORMAT ", \"after_ns\": %" G_GINT64_FORMAT ",\n\"threads\": ",
                         cp->start_ns, cp->end_ns, cp->length_ns, cp->jumps, cp->before_ns, cp->after_ns);
  weft_table_write_json(self->threads, out);
  g_string_append(out, ",\n\"segments\": [");
  for (guint i = 0; i < cp->n_segments; i++) {
    const WeftCritSegment *s = &cp->segments[i];
    g_string_append_printf(out,
                           "%s{\"utid\": %" G_GINT64_FORMAT ", \"start_ns\": %" G_GINT64_FORMAT
                           ", \"end_ns\": %" G_GINT64_FORMAT ", \"running_ns\": %" G_GINT64_FORMAT ", \"flow\": ",
                           i ? ",\n " : "", s->utid, s->start_ns, s->end_ns, s->running_ns);
    if (s->flow_kind)
      weft_json_append(out, weft_flow_name(s->flow_kind));
    else
      g_string_append(out, "null");
    if (s->object_id >= 0)
      g_string_append_printf(out, ", \"object_id\": %" G_GINT64_FORMAT "}", s->object_id);
    else
      g_string_append(out, ", \"object_id\": null}");
  }
  g_string_append(out, "]}");
}

static void weft_critpath_panel_finalize(GObject *object) {
  g_clear_pointer(&WEFT_CRITPATH_PANEL(object)->cp, weft_critpath_unref);
  G_OBJECT_CLASS(weft_critpath_panel_parent_class)->finalize(object);
}

static void weft_critpath_panel_class_init(WeftCritPathPanelClass *klass) {
  G_OBJECT_CLASS(klass)->finalize = weft_critpath_panel_finalize;
  /* a segment was chosen: its index in time order */
  signals[SIG_SEGMENT_ACTIVATED] = g_signal_new("segment-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  /* a thread of the path's table was chosen: its utid */
  signals[SIG_THREAD_ACTIVATED] = g_signal_new("thread-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                               NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void weft_critpath_panel_init(WeftCritPathPanel *self) {
  weft_panel_header(GTK_BOX(self), "Critical path", TRUE, &self->title, &self->status);
  self->tables = GTK_BOX(gtk_box_new(GTK_ORIENTATION_VERTICAL, 4));
  gtk_widget_set_vexpand(GTK_WIDGET(self->tables), TRUE);
  gtk_box_append(GTK_BOX(self), GTK_WIDGET(self->tables));
  weft_critpath_panel_set_path(self, NULL, FALSE, NULL);
}
