/* weft-compare.c - the Compare page (weft-compare.h).
 * SPDX-License-Identifier: MIT
 *
 * Both recordings' metrics are weft_metrics_compute()'s with the query the
 * Findings page runs (everything, no replay), computed on a worker (the
 * session's weft_session_read_async for the one shown, a connection of the
 * worker's own for the one before), then compared by analysis/compare.c.
 * The page shows render/report-compare.c's three tables, cell for cell the
 * text of `weft report --compare`; the dump writes the report's JSON.
 */
#include "config.h"

#include "weft-compare.h"

#include "compare.h"
#include "metrics.h"
#include "report-compare.h"
#include "weft-json.h"

#define TOP_ROWS 10 /* as the text report */

typedef struct {
  WeftMetrics *before, *after;
  WeftCompare *cmp;
} Result;

static void result_free(Result *r) {
  if (!r) return;
  weft_compare_free(r->cmp);
  weft_metrics_free(r->before);
  weft_metrics_free(r->after);
  g_free(r);
}

struct _WeftComparePanel {
  GtkBox parent_instance;
  char *before_path;
  char *after_path; /* the session's */
  GtkLabel *status;
  GtkBox *content;
  GCancellable *cancellable;
  gboolean busy;
  Result *result;
  char *error;
};

G_DEFINE_FINAL_TYPE(WeftComparePanel, weft_compare_panel, GTK_TYPE_BOX)

static gpointer compare_work(WeftQuery *q, const WeftReadEnv *env, gpointer data, GCancellable *cancel,
                             GError **error) {
  const char *before_path = data;
  WeftMetricsQuery mq;
  weft_metrics_query_init(&mq);
  mq.no_replay = 1; /* as the Findings page: no what-if */
  mq.jobs = 1;
  char err[1024] = "";
  Result *r = g_new0(Result, 1);
  r->after = weft_metrics_compute(q->sql.db, &mq, err, sizeof err);
  if (!r->after) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: %s", env->path, err);
    return result_free(r), NULL;
  }
  sqlite3 *db = weft_db_open(before_path, 0, err, sizeof err);
  if (db) {
    r->before = weft_metrics_compute(db, &mq, err, sizeof err);
    sqlite3_close(db);
    if (!r->before) {
      char *e = g_strdup_printf("%s: %s", before_path, err);
      g_strlcpy(err, e, sizeof err);
      g_free(e);
    }
  }
  if (!r->before) {
    g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, err);
    return result_free(r), NULL;
  }
  r->cmp = weft_compare(r->before, r->after);
  return r;
}

static GtkWidget *heading(const char *text) {
  GtkWidget *l = gtk_label_new(NULL);
  char *m = g_markup_printf_escaped("<b>%s</b>", text);
  gtk_label_set_markup(GTK_LABEL(l), m);
  g_free(m);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_widget_set_margin_top(l, 8);
  return l;
}

/* A report table as a grid: the header row dim, numbers right-aligned; a
 * column of long names or titles is cut with "…" (its tooltip has all) so
 * that the numbers fit the side panel. */
static GtkWidget *grid_of(const Table *t) {
  GtkWidget *g = gtk_grid_new();
  gtk_grid_set_column_spacing(GTK_GRID(g), 10);
  for (size_t c = 0; c < t->ncols; c++) {
    size_t widest = 0;
    for (size_t r = 1; r < t->nrows; r++) widest = MAX(widest, text_width(t->cell[r * t->ncols + c]));
    gboolean cut = t->align[c] == 'l' && widest > 16;
    for (size_t r = 0; r < t->nrows; r++) {
      const char *text = t->cell[r * t->ncols + c];
      GtkWidget *l = gtk_label_new(text);
      gtk_label_set_xalign(GTK_LABEL(l), t->align[c] == 'r' ? 1 : 0);
      if (cut) {
        gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
        gtk_label_set_width_chars(GTK_LABEL(l), 8);
        gtk_widget_set_hexpand(l, TRUE);
        gtk_widget_set_tooltip_text(l, text);
      }
      if (r == 0) gtk_widget_add_css_class(l, "dim-label");
      gtk_grid_attach(GTK_GRID(g), l, (int)c, (int)r, 1, 1);
    }
  }
  return g;
}

static void add_table(WeftComparePanel *self, const char *title, Table *t) {
  if (title && t->nrows > 1) gtk_box_append(self->content, heading(title));
  if (t->nrows > 1) gtk_box_append(self->content, grid_of(t));
  table_free(t);
}

static void show_result(WeftComparePanel *self) {
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child(GTK_WIDGET(self->content)))) gtk_box_remove(self->content, c);
  if (!self->result) return;
  const WeftCompare *cmp = self->result->cmp;
  char *base = g_path_get_basename(self->before_path), a[32], b[32];
  char *s = g_strdup_printf("Before: %s (%s); after: this recording (%s). %zu process%s matched.", base,
                            weft_format_ns(a, sizeof a, cmp->before->summary.span_ns),
                            weft_format_ns(b, sizeof b, cmp->after->summary.span_ns), cmp->processes_matched,
                            cmp->processes_matched == 1 ? "" : "es");
  gtk_label_set_label(self->status, s);
  g_free(s);
  g_free(base);
  Table t;
  report_compare_figures_table(&t, cmp);
  add_table(self, NULL, &t);
  report_compare_objects_table(&t, cmp, TOP_ROWS);
  add_table(self, "Sync objects by wait time", &t);
  report_compare_findings_table(&t, cmp, TOP_ROWS);
  add_table(self, "Findings", &t);
}

static void on_computed(GObject *src, GAsyncResult *res, gpointer data) {
  WeftComparePanel *self = data;
  GError *error = NULL;
  Result *r = weft_session_read_finish(res, &error);
  if (!r && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free(error);
    g_object_unref(self);
    return;
  }
  self->busy = FALSE;
  result_free(self->result);
  self->result = r;
  g_free(self->error);
  self->error = r ? NULL : g_strdup(error->message);
  if (!r) gtk_label_set_label(self->status, error->message);
  g_clear_error(&error);
  show_result(self);
  g_object_unref(self);
}

void weft_compare_panel_set_session(WeftComparePanel *self, WeftSession *session) {
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
  g_clear_object(&self->cancellable);
  result_free(self->result);
  self->result = NULL;
  show_result(self);
  self->busy = session != NULL;
  g_free(self->after_path);
  self->after_path = session ? g_strdup(weft_session_get_path(session)) : NULL;
  if (!session) return;
  gtk_label_set_label(self->status, "Comparing with the recording before…");
  self->cancellable = g_cancellable_new();
  weft_session_read_async(session, compare_work, g_strdup(self->before_path), g_free, (GDestroyNotify)result_free,
                          self->cancellable, on_computed, g_object_ref(self));
}

gboolean weft_compare_panel_is_busy(WeftComparePanel *self) { return self->busy; }

void weft_compare_panel_write_json(WeftComparePanel *self, GString *out) {
  WeftJsonWriter w;
  weft_json_writer_gstring(&w, out, false);
  weft_json_begin_object(&w);
  weft_json_key(&w, "before");
  weft_json_string(&w, self->before_path);
  weft_json_key(&w, "error");
  if (self->error)
    weft_json_string(&w, self->error);
  else
    weft_json_null(&w);
  weft_json_key(&w, "compare");
  if (self->result)
    report_compare_json(&w, self->result->cmp, self->before_path, self->after_path, -1);
  else
    weft_json_null(&w);
  weft_json_end_object(&w);
}

static void weft_compare_panel_dispose(GObject *o) {
  WeftComparePanel *self = WEFT_COMPARE_PANEL(o);
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
  g_clear_object(&self->cancellable);
  G_OBJECT_CLASS(weft_compare_panel_parent_class)->dispose(o);
}

static void weft_compare_panel_finalize(GObject *o) {
  WeftComparePanel *self = WEFT_COMPARE_PANEL(o);
  result_free(self->result);
  g_free(self->error);
  g_free(self->before_path);
  g_free(self->after_path);
  G_OBJECT_CLASS(weft_compare_panel_parent_class)->finalize(o);
}

static void weft_compare_panel_class_init(WeftComparePanelClass *klass) {
  G_OBJECT_CLASS(klass)->dispose = weft_compare_panel_dispose;
  G_OBJECT_CLASS(klass)->finalize = weft_compare_panel_finalize;
}

static void weft_compare_panel_init(WeftComparePanel *self) {
  gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing(GTK_BOX(self), 4);
  self->status = GTK_LABEL(gtk_label_new(NULL));
  gtk_label_set_xalign(self->status, 0);
  gtk_label_set_wrap(self->status, TRUE);
  gtk_widget_set_margin_start(GTK_WIDGET(self->status), 8);
  gtk_widget_set_margin_end(GTK_WIDGET(self->status), 8);
  gtk_box_append(GTK_BOX(self), GTK_WIDGET(self->status));
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_widget_set_vexpand(scroll, TRUE);
  /* as wide as the panel: the long names and titles give way, not the numbers */
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  self->content = GTK_BOX(gtk_box_new(GTK_ORIENTATION_VERTICAL, 2));
  gtk_widget_set_margin_start(GTK_WIDGET(self->content), 8);
  gtk_widget_set_margin_end(GTK_WIDGET(self->content), 8);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), GTK_WIDGET(self->content));
  gtk_box_append(GTK_BOX(self), scroll);
}

GtkWidget *weft_compare_panel_new(const char *before_path) {
  WeftComparePanel *self = g_object_new(WEFT_TYPE_COMPARE_PANEL, NULL);
  self->before_path = g_strdup(before_path);
  return GTK_WIDGET(self);
}
