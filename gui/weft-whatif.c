/* weft-whatif.c - what-if by replay from the timeline's tables (weft-whatif.h).
 * SPDX-License-Identifier: MIT
 *
 * The replay is analyzer/analysis/replay.c through weft_metrics_compute
 * (the critical path asked for, with one what-if), on a worker through
 * weft_session_read_async; the result is copied out and the metrics freed.
 * A new choice cancels the replay under way. The replay keeps the threads'
 * timelines too (weft-replay-rows.h): the toggle on the bar (and Shift+R on
 * the timeline, the same property) shows them as rows under the recorded ones.
 */
#include "config.h"

#include "weft-whatif.h"

#include <math.h>

#include "metrics.h"
#include "weft-json.h"
#include "weft-units.h"

typedef struct {
  char *spec, *description, *message; /* message: the error, or NULL */
  int64_t recorded_ns, predicted_ns, replayed_ns;
  char floor[240]; /* weft_work_floor_note: a prediction raised to the floor of its work says so */
  double error;
  WeftReplayRows *rows; /* the replayed timelines, or NULL */
} Result;

static void result_free(gpointer p) {
  Result *r = p;
  if (!r) return;
  g_free(r->spec);
  g_free(r->description);
  g_free(r->message);
  weft_replay_rows_unref(r->rows);
  g_free(r);
}

struct _WeftWhatIfBar {
  GtkBox parent;
  WeftSession *session;
  GtkLabel *title;
  GtkButton *buttons[2];
  char *specs[2];
  GtkLabel *result;
  GtkToggleButton *show_rows; /* the replayed rows beside the recorded ones */
  GCancellable *cancel;       /* the replay under way, or NULL */
  Result *last;
};

G_DEFINE_FINAL_TYPE(WeftWhatIfBar, weft_whatif_bar, GTK_TYPE_BOX)

enum { SIG_REPLAYED, N_SIGNALS };
static guint signals[N_SIGNALS];

/* ---- the replay, on a worker ---- */
static gpointer replay_work(WeftQuery *q, const WeftReadEnv *env, gpointer data, GCancellable *cancel, GError **error) {
  (void)env;
  (void)cancel;
  const char *spec = data;
  WeftMetricsQuery mq;
  weft_metrics_query_init(&mq); /* the whole recording, as weft report --what-if */
  mq.what = WEFT_METRICS_CRITICAL_PATH;
  mq.jobs = 1; /* the other core is the UI's */
  mq.whatifs = &spec;
  mq.nwhatifs = 1;
  mq.replay_timeline = 1;
  mq.no_replay = 1; /* the asked change alone: not weft's own what-ifs besides */
  char err[512] = "";
  Result *r = g_new0(Result, 1);
  r->spec = g_strdup(spec);
  WeftMetrics *m = weft_metrics_compute(q->sql.db, &mq, err, sizeof err);
  const WeftReplay *rp = m ? m->replay : NULL;
  if (!m || !rp || rp->unavailable || !rp->nresults) {
    r->message = g_strdup(!m ? err : !rp ? "no replay" : rp->unavailable ? rp->unavailable : "no replay");
  } else {
    r->description = g_strdup(rp->results[0].description);
    r->recorded_ns = rp->recorded_ns;
    r->predicted_ns = rp->results[0].predicted_ns;
    r->replayed_ns = rp->results[0].replayed_ns;
    weft_work_floor_note(m, &rp->results[0].floor, r->floor, sizeof r->floor);
    r->error = rp->error;
    r->rows = weft_replay_rows_new(rp, spec);
  }
  weft_metrics_free(m);
  (void)error;
  return r;
}

static void show(WeftWhatIfBar *self) {
  const Result *r = self->last;
  if (!r) {
    gtk_label_set_text(self->result, "");
    gtk_widget_set_visible(GTK_WIDGET(self->show_rows), FALSE);
    return;
  }
  char *text;
  if (r->message) {
    text = g_strdup_printf("%s: %s", r->spec, r->message);
  } else {
    char a[32], b[32];
    double frac = r->recorded_ns > 0 ? (double)(r->recorded_ns - r->predicted_ns) / (double)r->recorded_ns : 0;
    text = g_strdup_printf("If %s: %s instead of %s (%s%.1f %%%s), replayed; the replay of the recording as it is "
                           "is %.1f %% off it",
                           r->description, weft_format_ns(a, sizeof a, r->predicted_ns),
                           weft_format_ns(b, sizeof b, r->recorded_ns), frac >= 0 ? "-" : "+", 100 * fabs(frac),
                           r->floor, 100 * fabs(r->error));
  }
  gtk_label_set_text(self->result, text);
  g_free(text);
  gtk_widget_set_visible(GTK_WIDGET(self->show_rows), r->rows != NULL);
}

static void on_replayed(GObject *source, GAsyncResult *res, gpointer data) {
  (void)source;
  GError *error = NULL;
  Result *r = weft_session_read_finish(res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) { /* the bar may be gone */
    g_error_free(error);
    result_free(r);
    return;
  }
  WeftWhatIfBar *self = data;
  g_clear_object(&self->cancel);
  if (!r) {
    r = g_new0(Result, 1);
    r->spec = g_strdup("?");
    r->message = g_strdup(error ? error->message : "the replay failed");
  }
  g_clear_error(&error);
  result_free(self->last);
  self->last = r;
  show(self);
  g_signal_emit(self, signals[SIG_REPLAYED], 0);
  g_object_unref(self);
}

void weft_whatif_bar_run(WeftWhatIfBar *self, const char *spec) {
  if (!self->session) return;
  if (self->cancel) g_cancellable_cancel(self->cancel);
  g_clear_object(&self->cancel);
  self->cancel = g_cancellable_new();
  gtk_label_set_text(self->result, "replaying…");
  weft_session_read_async(self->session, replay_work, g_strdup(spec), g_free, result_free, self->cancel, on_replayed,
                          g_object_ref(self));
}

gboolean weft_whatif_bar_is_busy(WeftWhatIfBar *self) { return self->cancel != NULL; }

WeftReplayRows *weft_whatif_bar_get_rows(WeftWhatIfBar *self) { return self->last ? self->last->rows : NULL; }

GtkToggleButton *weft_whatif_bar_get_rows_toggle(WeftWhatIfBar *self) { return self->show_rows; }

/* ---- the choices ---- */
static void on_button(GtkButton *button, WeftWhatIfBar *self) {
  for (int i = 0; i < 2; i++)
    if (button == self->buttons[i] && self->specs[i]) weft_whatif_bar_run(self, self->specs[i]);
}

static void offer(WeftWhatIfBar *self, const char *title, const char *l0, char *s0, const char *l1, char *s1) {
  gtk_label_set_text(self->title, title);
  const char *labels[2] = {l0, l1};
  char *specs[2] = {s0, s1};
  for (int i = 0; i < 2; i++) {
    g_free(self->specs[i]);
    self->specs[i] = specs[i];
    gtk_widget_set_visible(GTK_WIDGET(self->buttons[i]), specs[i] != NULL);
    if (labels[i]) gtk_button_set_label(self->buttons[i], labels[i]);
  }
  gtk_widget_set_visible(GTK_WIDGET(self), self->session != NULL);
}

void weft_whatif_bar_set_object(WeftWhatIfBar *self, int64_t object_id, const char *label, const char *kind) {
  char *title = g_strdup_printf("What if %s…", label ? label : "it");
  if (kind && !strcmp(kind, "barrier")) /* (an OpenMP region's: what schedule(dynamic) would give) */
    offer(self, title, "had every round's work spread evenly", g_strdup_printf("balance:#%" G_GINT64_FORMAT, object_id),
          NULL, NULL);
  else
    offer(self, title, "kept no one waiting", g_strdup_printf("lock:#%" G_GINT64_FORMAT, object_id),
          "had critical sections half as long", g_strdup_printf("lock:#%" G_GINT64_FORMAT "=-50%%", object_id));
  g_free(title);
}

void weft_whatif_bar_set_thread(WeftWhatIfBar *self, int tid, const char *label) {
  char *title = g_strdup_printf("What if %s…", label ? label : "it");
  offer(self, title, "worked twice as fast", g_strdup_printf("thread:%d=-50%%", tid), NULL, NULL);
  g_free(title);
}

void weft_whatif_bar_set_session(WeftWhatIfBar *self, WeftSession *session) {
  if (self->cancel) g_cancellable_cancel(self->cancel);
  g_clear_object(&self->cancel);
  self->session = session;
  result_free(self->last);
  self->last = NULL;
  show(self);
  gtk_widget_set_visible(GTK_WIDGET(self), FALSE); /* until something is chosen */
}

void weft_whatif_bar_write_json(WeftWhatIfBar *self, GString *out) {
  const Result *r = self->last;
  if (!r) {
    g_string_append(out, "null");
    return;
  }
  g_string_append(out, "{\"spec\": ");
  weft_json_append(out, r->spec);
  g_string_append(out, ", \"description\": ");
  if (r->description)
    weft_json_append(out, r->description);
  else
    g_string_append(out, "null");
  g_string_append_printf(out,
                         ", \"recorded_ns\": %" G_GINT64_FORMAT ", \"predicted_ns\": %" G_GINT64_FORMAT
                         ", \"replayed_ns\": %" G_GINT64_FORMAT ", \"error\": %.6g, \"message\": ",
                         r->recorded_ns, r->predicted_ns, r->replayed_ns, r->error);
  if (r->message)
    weft_json_append(out, r->message);
  else
    g_string_append(out, "null");
  g_string_append(out, ", \"shown\": ");
  weft_json_append(out, gtk_label_get_text(self->result));
  g_string_append(out, ", \"rows\": ");
  weft_replay_rows_write_json(r->rows, self->session, out);
  g_string_append_c(out, '}');
}

/* ---- the widget ---- */
static void weft_whatif_bar_dispose(GObject *obj) {
  WeftWhatIfBar *self = WEFT_WHATIF_BAR(obj);
  if (self->cancel) g_cancellable_cancel(self->cancel);
  g_clear_object(&self->cancel);
  G_OBJECT_CLASS(weft_whatif_bar_parent_class)->dispose(obj);
}

static void weft_whatif_bar_finalize(GObject *obj) {
  WeftWhatIfBar *self = WEFT_WHATIF_BAR(obj);
  for (int i = 0; i < 2; i++) g_free(self->specs[i]);
  result_free(self->last);
  G_OBJECT_CLASS(weft_whatif_bar_parent_class)->finalize(obj);
}

static void weft_whatif_bar_class_init(WeftWhatIfBarClass *klass) {
  G_OBJECT_CLASS(klass)->dispose = weft_whatif_bar_dispose;
  G_OBJECT_CLASS(klass)->finalize = weft_whatif_bar_finalize;
  /* a replay's result arrived (weft_whatif_bar_get_rows) */
  signals[SIG_REPLAYED] =
      g_signal_new("replayed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void weft_whatif_bar_init(WeftWhatIfBar *self) {
  gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing(GTK_BOX(self), 4);
  gtk_widget_set_margin_top(GTK_WIDGET(self), 6);
  self->title = GTK_LABEL(gtk_label_new("What if… (replayed)"));
  gtk_label_set_xalign(self->title, 0);
  gtk_label_set_ellipsize(self->title, PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class(GTK_WIDGET(self->title), "heading");
  gtk_box_append(GTK_BOX(self), GTK_WIDGET(self->title));
  GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  for (int i = 0; i < 2; i++) {
    self->buttons[i] = GTK_BUTTON(gtk_button_new_with_label(""));
    gtk_widget_set_visible(GTK_WIDGET(self->buttons[i]), FALSE); /* until a row offers its changes */
    g_signal_connect(self->buttons[i], "clicked", G_CALLBACK(on_button), self);
    gtk_box_append(GTK_BOX(row), GTK_WIDGET(self->buttons[i]));
  }
  self->show_rows = GTK_TOGGLE_BUTTON(gtk_toggle_button_new_with_label("Replayed rows"));
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->show_rows),
                              "Show the replay's threads under the recorded ones, on the same time axis (Shift+R)");
  gtk_widget_set_visible(GTK_WIDGET(self->show_rows), FALSE); /* until a replay has them */
  gtk_box_append(GTK_BOX(row), GTK_WIDGET(self->show_rows));
  gtk_box_append(GTK_BOX(self), row);
  self->result = GTK_LABEL(gtk_label_new(""));
  gtk_label_set_xalign(self->result, 0);
  gtk_label_set_wrap(self->result, TRUE);
  gtk_label_set_selectable(self->result, TRUE);
  gtk_box_append(GTK_BOX(self), GTK_WIDGET(self->result));
  gtk_widget_set_visible(GTK_WIDGET(self), FALSE);
}

WeftWhatIfBar *weft_whatif_bar_new(void) { return g_object_new(WEFT_TYPE_WHATIF_BAR, NULL); }
