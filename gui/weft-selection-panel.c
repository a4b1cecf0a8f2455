/* weft-selection-panel.c - the numbers of a selected time range.
 * SPDX-License-Identifier: MIT
 *
 * The numbers are weft_metrics_compute()'s for the range (what `weft report
 * --range A..B` prints: the same query, without the critical path and the
 * findings), computed on a GTask worker thread with its own read-only
 * connection (weft_db_open), so that the UI never waits for them. Each
 * request has a generation number; a result that arrives after a newer
 * request is dropped.
 */
#include "config.h"

#include "weft-selection-panel.h"

#include <math.h>

#include "metrics.h"
#include "weft-table.h"

struct _WeftSelectionPanel {
  GtkBox parent_instance;
  WeftSession *session;
  GtkLabel *title;
  GtkLabel *status;
  GtkFlowBox *summary; /* name-value pairs, two a line, one when the panel is narrow */
  GtkBox *threads_box;
  GtkWidget *threads; /* WeftTable, rebuilt with the states of each range */
  GtkWidget *objects; /* WeftTable */
  GCancellable *cancellable;
  guint generation;
  guint delay_id;
  gboolean busy;

  /* what the panel shows */
  gboolean has_range;
  gboolean has_numbers;
  int64_t start_ns, end_ns;
  WeftSummary sum;
  double average_parallelism;
  size_t max_parallelism;
};

enum { SIG_COMPUTED, SIG_OBJECT_ACTIVATED, SIG_THREAD_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(WeftSelectionPanel, weft_selection_panel, GTK_TYPE_BOX)

/* ---- the worker ---- */

typedef struct {
  char *path;
  int64_t start_ns, end_ns;
  guint generation;
} Job;

static void job_free(Job *j) {
  g_free(j->path);
  g_free(j);
}

static void compute_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  Job *job = data;
  WeftMetricsQuery q;
  weft_metrics_query_init(&q);
  q.start_ns = job->start_ns;
  q.end_ns = job->end_ns;
  q.what = WEFT_METRICS_OBJECTS | WEFT_METRICS_PARALLELISM;
  WeftMetrics *m = weft_panel_compute(task, job->path, &q);
  if (m) g_task_return_pointer(task, m, (GDestroyNotify)weft_metrics_free);
}

/* ---- showing the numbers ---- */

static void clear_summary(WeftSelectionPanel *self) {
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child(GTK_WIDGET(self->summary)))) gtk_flow_box_remove(self->summary, c);
}

static void summary_row(WeftSelectionPanel *self, int row, const char *name, const char *value, const char *tip) {
  GtkWidget *n = gtk_label_new(name), *v = gtk_label_new(value);
  gtk_label_set_xalign(GTK_LABEL(n), 0);
  gtk_label_set_xalign(GTK_LABEL(v), 1);
  gtk_widget_add_css_class(n, "dim-label");
  gtk_widget_add_css_class(v, "numeric");
  gtk_label_set_selectable(GTK_LABEL(v), TRUE);
  if (tip) {
    gtk_widget_set_tooltip_text(n, tip);
    gtk_widget_set_tooltip_text(v, tip);
  }
  gtk_widget_set_hexpand(n, TRUE);
  GtkWidget *pair = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  gtk_box_append(GTK_BOX(pair), n);
  gtk_box_append(GTK_BOX(pair), v);
  gtk_flow_box_insert(self->summary, pair, row);
}

static const char *fmt_ns(char *buf, size_t len, int64_t ns) { return weft_format_ns(buf, len, ns); }

static void on_thread_selected(GtkWidget *table, int64_t id, gpointer data) {
  if (id >= 0) g_signal_emit(data, signals[SIG_THREAD_ACTIVATED], 0, (gint64)id);
}

static void on_object_selected(GtkWidget *table, int64_t id, gpointer data) {
  if (id >= 0) g_signal_emit(data, signals[SIG_OBJECT_ACTIVATED], 0, (gint64)id);
}

/* The per-thread table, with a column per state that occurs in the range. */
static void fill_threads(WeftSelectionPanel *self, const WeftMetrics *m) {
  enum { FIXED = 8 };
  WeftTableColumn cols[FIXED + WEFT_ST_COUNT] = {
      {"Thread", "label", FALSE, TRUE},         {"Lifetime", "lifetime_ns", TRUE, FALSE},
      {"On CPU", "oncpu_ns", TRUE, FALSE},      {"On CPU %", "oncpu_fraction", TRUE, FALSE},
      {"Runnable", "runnable_ns", TRUE, FALSE}, {"Waiting", "waiting_ns", TRUE, FALSE},
      {"Off CPU", "offcpu_ns", TRUE, FALSE},    {"In waits", "wait_ns", TRUE, FALSE},
  };
  guint n = FIXED, state_col[WEFT_ST_COUNT];
  char *keys[WEFT_ST_COUNT] = {0};
  for (int s = 0; s < WEFT_ST_COUNT; s++) {
    state_col[s] = G_MAXUINT;
    gboolean any = s == WEFT_ST_RUNNING;
    for (size_t i = 0; i < m->nthreads && !any; i++) any = m->threads[i].state_ns[s] > 0;
    if (!any) continue;
    keys[s] = g_strdup_printf("%s_ns", weft_state_name(s));
    state_col[s] = n;
    cols[n++] = (WeftTableColumn){weft_state_name(s), keys[s], TRUE, FALSE};
  }
  if (self->threads) gtk_box_remove(self->threads_box, self->threads);
  self->threads = weft_table_new(cols, n, "utid");
  for (int s = 0; s < WEFT_ST_COUNT; s++) g_free(keys[s]);
  gtk_widget_set_size_request(self->threads, -1, 160);
  weft_table_set_select_func(self->threads, on_thread_selected, self);
  gtk_box_append(self->threads_box, self->threads);
  for (size_t i = 0; i < m->nthreads; i++) {
    const WeftThreadMetrics *t = &m->threads[i];
    char b[FIXED + WEFT_ST_COUNT][96];
    const char *cells[FIXED + WEFT_ST_COUNT];
    double nums[FIXED + WEFT_ST_COUNT];
    g_snprintf(b[0], sizeof b[0], "%s [%" G_GINT64_FORMAT "]", t->name, t->tid);
    nums[0] = NAN;
    fmt_ns(b[1], sizeof b[1], t->lifetime_ns), nums[1] = (double)t->lifetime_ns;
    fmt_ns(b[2], sizeof b[2], t->time.oncpu_ns), nums[2] = (double)t->time.oncpu_ns;
    /* "*": mostly running time without scheduler readings, assumed on a CPU */
    if (t->time.assumed_ns > t->time.oncpu_ns / 2) g_strlcat(b[2], "*", sizeof b[2]);
    double frac = t->lifetime_ns > 0 ? (double)t->time.oncpu_ns / (double)t->lifetime_ns : 0;
    g_snprintf(b[3], sizeof b[3], "%.1f%%", 100 * frac), nums[3] = frac;
    fmt_ns(b[4], sizeof b[4], t->time.runnable_ns), nums[4] = (double)t->time.runnable_ns;
    fmt_ns(b[5], sizeof b[5], t->time.waiting_ns), nums[5] = (double)t->time.waiting_ns;
    fmt_ns(b[6], sizeof b[6], t->time.offcpu_ns), nums[6] = (double)t->time.offcpu_ns;
    fmt_ns(b[7], sizeof b[7], t->wait_ns), nums[7] = (double)t->wait_ns;
    for (int s = 0; s < WEFT_ST_COUNT; s++) {
      if (state_col[s] == G_MAXUINT) continue;
      fmt_ns(b[state_col[s]], sizeof b[0], t->state_ns[s]);
      nums[state_col[s]] = (double)t->state_ns[s];
    }
    for (guint c = 0; c < n; c++) cells[c] = b[c];
    weft_table_append(self->threads, t->utid, cells, nums);
  }
  weft_table_sort(self->threads, 2, TRUE);
}

static void fill_objects(WeftSelectionPanel *self, const WeftMetrics *m) {
  weft_table_clear(self->objects);
  for (size_t i = 0; i < m->nobjects; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    char b[16][160];
    double nums[16];
    const char *cells[16];
    g_strlcpy(b[0], o->label, sizeof b[0]), nums[0] = NAN;
    g_strlcpy(b[1], o->kind_name, sizeof b[1]), nums[1] = NAN;
    g_snprintf(b[2], sizeof b[2], "%" G_GINT64_FORMAT, o->waits), nums[2] = (double)o->waits;
    fmt_ns(b[3], sizeof b[3], o->wait_ns), nums[3] = (double)o->wait_ns;
    g_snprintf(b[4], sizeof b[4], "%.1f%%", 100 * o->wait_share), nums[4] = o->wait_share;
    fmt_ns(b[5], sizeof b[5], o->wait_p50_ns), nums[5] = (double)o->wait_p50_ns;
    fmt_ns(b[6], sizeof b[6], o->wait_p99_ns), nums[6] = (double)o->wait_p99_ns;
    fmt_ns(b[7], sizeof b[7], o->wait_max_ns), nums[7] = (double)o->wait_max_ns;
    g_snprintf(b[8], sizeof b[8], "%" G_GINT64_FORMAT, o->contended), nums[8] = (double)o->contended;
    if (o->acquisitions >= 0) {
      /* ≈: prorated from counts the selection cuts through */
      g_snprintf(b[9], sizeof b[9], "%s%" G_GINT64_FORMAT, o->acquisitions_estimated ? "≈" : "", o->acquisitions);
      nums[9] = (double)o->acquisitions;
    } else {
      g_strlcpy(b[9], "–", sizeof b[9]);
      nums[9] = NAN;
    }
    /* With contention first only the holds someone waited for are recorded:
     * the total is an estimate from the timed sample (≈), the longest a lower
     * bound (≥), as in the report. */
    g_snprintf(b[10], sizeof b[10], "%" G_GINT64_FORMAT, o->holds), nums[10] = (double)o->holds;
    char t[64];
    int64_t total = m->holds_all || o->hold_est_ns < 0 ? o->hold_ns : o->hold_est_ns;
    int64_t mx = o->hold_max_ns > o->hold_sample_max_ns ? o->hold_max_ns : o->hold_sample_max_ns;
    fmt_ns(t, sizeof t, total);
    g_snprintf(b[11], sizeof b[11], "%s%s", m->holds_all ? "" : o->hold_est_ns >= 0 ? "≈" : "≥", t);
    nums[11] = (double)total;
    fmt_ns(t, sizeof t, m->holds_all ? o->hold_max_ns : mx);
    g_snprintf(b[12], sizeof b[12], "%s%s", m->holds_all ? "" : "≥", t);
    nums[12] = (double)(m->holds_all ? o->hold_max_ns : mx);
    g_snprintf(b[13], sizeof b[13], "%" G_GINT64_FORMAT, o->handoffs), nums[13] = (double)o->handoffs;
    g_snprintf(b[14], sizeof b[14], "%" G_GINT64_FORMAT, o->waiters), nums[14] = (double)o->waiters;
    g_strlcpy(b[15], o->nsites ? o->sites[0].label : "", sizeof b[15]), nums[15] = NAN;
    for (int c = 0; c < 16; c++) cells[c] = b[c];
    weft_table_append(self->objects, o->object_id, cells, nums);
  }
  weft_table_sort(self->objects, 3, TRUE);
}

static void show_metrics(WeftSelectionPanel *self, const WeftMetrics *m) {
  char a[32], b[32], c[32], buf[256];
  self->has_numbers = TRUE;
  self->start_ns = m->range_start_ns;
  self->end_ns = m->range_end_ns;
  self->sum = m->summary;
  self->average_parallelism = m->parallelism.average;
  self->max_parallelism = m->parallelism.kmax;
  g_snprintf(buf, sizeof buf, "%s … %s  (%s)", fmt_ns(a, sizeof a, m->range_start_ns),
             fmt_ns(b, sizeof b, m->range_end_ns), fmt_ns(c, sizeof c, m->range_end_ns - m->range_start_ns));
  gtk_label_set_text(self->title, buf);
  gtk_label_set_text(self->status, "");
  gtk_widget_set_visible(GTK_WIDGET(self->status), FALSE);
  clear_summary(self);
  const WeftSummary *s = &m->summary;
  g_snprintf(buf, sizeof buf, "%.2f", s->pop.pe);
  summary_row(self, 0, "parallel efficiency", buf, "load balance × synchronisation efficiency = mean useful / T");
  g_snprintf(buf, sizeof buf, "%.2f", s->pop.lb);
  summary_row(self, 1, "load balance", buf, "mean useful / max useful over the threads alive in the range");
  g_snprintf(buf, sizeof buf, "%.2f", s->pop.synce);
  summary_row(self, 2, "sync efficiency", buf, "max useful / T");
  const WeftParallelism *p = &m->parallelism;
  if (p->oversubscribed)
    g_snprintf(buf, sizeof buf, "%.2f of %g CPU%s (%.2f, max %zu)", p->cpus_used, p->cpus, p->cpus == 1 ? "" : "s",
               p->average, p->kmax);
  else
    g_snprintf(buf, sizeof buf, "%.2f (max %zu)", p->average, p->kmax);
  summary_row(self, 3, "avg parallelism", buf,
              p->oversubscribed ? "more threads running or runnable than CPUs: the CPUs busy on average (in "
                                  "brackets: the threads running or runnable on average; the most at once)"
                                : "threads running on average; the most at once");
  g_snprintf(buf, sizeof buf, "%zu in %zu process%s", s->nthreads, s->nprocesses, s->nprocesses == 1 ? "" : "es");
  summary_row(self, 4, "threads", buf, NULL);
  summary_row(self, 5, "thread time", fmt_ns(a, sizeof a, s->thread_ns),
              "the threads' lifetimes in the range: on a CPU + runnable + waiting + off a CPU");
  static const struct {
    const char *name, *tip;
  } parts[4] = {
      {"on a CPU (useful)", "on a CPU outside recorded waits (the scheduler's readings)"},
      {"runnable", "runnable but waiting for a CPU, in or out of waits"},
      {"waiting", "in a recorded wait, neither runnable nor on a CPU"},
      {"off a CPU elsewhere", "off a CPU outside any recorded wait: an unrecorded syscall or sleep (at least)"},
  };
  const int64_t v[4] = {s->time.oncpu_ns, s->time.runnable_ns, s->time.waiting_ns, s->time.offcpu_ns};
  for (int k = 0; k < 4; k++) {
    g_snprintf(buf, sizeof buf, "%s (%.1f%%)%s", fmt_ns(a, sizeof a, v[k]),
               s->thread_ns > 0 ? 100.0 * (double)v[k] / (double)s->thread_ns : 0,
               k == 0 && s->time.assumed_ns > 0 ? " *" : "");
    char *tip = g_strdup_printf("%s%s%s%s", parts[k].tip,
                                k == 0 && s->time.assumed_ns > 0
                                    ? "; * includes running time without scheduler readings, assumed on a CPU"
                                    : "",
                                s->time.interpolated_ns > 0 ? "; interpolated where the selection cuts the "
                                                              "intervals between scheduler readings: "
                                                            : "",
                                s->time.interpolated_ns > 0 ? fmt_ns(b, sizeof b, s->time.interpolated_ns) : "");
    summary_row(self, 6 + k, parts[k].name, buf, tip);
    g_free(tip);
  }
  fill_threads(self, m);
  fill_objects(self, m);
}

static void show_message(WeftSelectionPanel *self, const char *title, const char *status) {
  gtk_label_set_text(self->title, title);
  gtk_label_set_text(self->status, status ? status : "");
  gtk_widget_set_visible(GTK_WIDGET(self->status), status != NULL);
}

/* data is a reference to the panel, taken by start_job */
static void on_computed(GObject *source, GAsyncResult *res, gpointer data) {
  GTask *task = G_TASK(res);
  WeftSelectionPanel *self = data;
  Job *job = g_task_get_task_data(task);
  GError *error = NULL;
  WeftMetrics *m = g_task_propagate_pointer(task, &error);
  /* cancelled, or a newer request is on its way: drop it */
  if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && job->generation == self->generation) {
    self->busy = FALSE;
    if (m) {
      show_metrics(self, m);
    } else {
      self->has_numbers = FALSE;
      show_message(self, "No numbers for this range", error ? error->message : "cannot compute");
    }
    g_signal_emit(self, signals[SIG_COMPUTED], 0);
  }
  weft_metrics_free(m);
  g_clear_error(&error);
  g_object_unref(self);
}

static void start_job(WeftSelectionPanel *self) {
  Job *job = g_new0(Job, 1);
  job->path = g_strdup(weft_session_get_path(self->session));
  job->start_ns = self->start_ns;
  job->end_ns = self->end_ns;
  job->generation = self->generation;
  /* the callback holds the panel until the task returns, and checks the generation */
  GTask *task = g_task_new(NULL, self->cancellable, on_computed, g_object_ref(self));
  g_task_set_task_data(task, job, (GDestroyNotify)job_free);
  g_task_run_in_thread(task, compute_thread);
  g_object_unref(task);
}

static gboolean on_delay(gpointer data) {
  WeftSelectionPanel *self = data;
  self->delay_id = 0;
  start_job(self);
  return G_SOURCE_REMOVE;
}

void weft_selection_panel_set_range(WeftSelectionPanel *self, gboolean has_range, int64_t start_ns, int64_t end_ns,
                                    guint delay_ms) {
  self->generation++;
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
  g_clear_object(&self->cancellable);
  g_clear_handle_id(&self->delay_id, g_source_remove);
  self->has_range = has_range && self->session && end_ns > start_ns;
  self->has_numbers = FALSE;
  self->start_ns = start_ns;
  self->end_ns = end_ns;
  if (!self->has_range) {
    self->busy = FALSE;
    clear_summary(self);
    if (self->threads) weft_table_clear(self->threads);
    weft_table_clear(self->objects);
    show_message(self, "No selection",
                 "Drag across the timeline to select a time range: its per-thread times, load balance, parallel "
                 "efficiency and contention show here, as `weft report --range A..B` prints them.");
    g_signal_emit(self, signals[SIG_COMPUTED], 0);
    return;
  }
  char a[32], b[32], buf[128];
  g_snprintf(buf, sizeof buf, "%s … %s", weft_format_ns(a, sizeof a, start_ns), weft_format_ns(b, sizeof b, end_ns));
  show_message(self, buf, "computing…");
  self->busy = TRUE;
  self->cancellable = g_cancellable_new();
  if (delay_ms > 0)
    self->delay_id = g_timeout_add(delay_ms, on_delay, self);
  else
    start_job(self);
}

gboolean weft_selection_panel_is_busy(WeftSelectionPanel *self) { return self->busy; }

void weft_selection_panel_set_session(WeftSelectionPanel *self, WeftSession *session) {
  self->session = session;
  weft_selection_panel_set_range(self, FALSE, 0, 0, 0);
}

void weft_selection_panel_write_json(WeftSelectionPanel *self, GString *out) {
  if (!self->has_numbers) {
    g_string_append(out, "{\"selection\": null}\n");
    return;
  }
  const WeftSummary *s = &self->sum;
  g_string_append_printf(out,
                         "{\"selection\": {\"start_ns\": %" G_GINT64_FORMAT ", \"end_ns\": %" G_GINT64_FORMAT "},\n"
                         " \"summary\": {\"threads\": %zu, \"processes\": %zu, \"thread_ns\": %" G_GINT64_FORMAT
                         ", \"useful_ns\": %" G_GINT64_FORMAT ", \"wait_ns\": %" G_GINT64_FORMAT
                         ", \"time\": {\"oncpu_ns\": %" G_GINT64_FORMAT ", \"runnable_ns\": %" G_GINT64_FORMAT
                         ", \"waiting_ns\": %" G_GINT64_FORMAT ", \"offcpu_ns\": %" G_GINT64_FORMAT
                         ", \"assumed_ns\": %" G_GINT64_FORMAT "}"
                         ", \"load_balance\": %.17g, \"sync_efficiency\": %.17g, \"parallel_efficiency\": %.17g"
                         ", \"average_parallelism\": %.17g, \"max_parallelism\": %zu},\n \"threads\": ",
                         self->start_ns, self->end_ns, s->nthreads, s->nprocesses, s->thread_ns, s->useful_ns,
                         s->wait_ns, s->time.oncpu_ns, s->time.runnable_ns, s->time.waiting_ns, s->time.offcpu_ns,
                         s->time.assumed_ns, s->pop.lb, s->pop.synce, s->pop.pe, self->average_parallelism,
                         self->max_parallelism);
  weft_table_write_json(self->threads, out);
  g_string_append(out, ",\n \"sync_objects\": ");
  weft_table_write_json(self->objects, out);
  g_string_append(out, "}\n");
}

static void weft_selection_panel_dispose(GObject *object) {
  WeftSelectionPanel *self = WEFT_SELECTION_PANEL(object);
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
  g_clear_object(&self->cancellable);
  g_clear_handle_id(&self->delay_id, g_source_remove);
  G_OBJECT_CLASS(weft_selection_panel_parent_class)->dispose(object);
}

static void weft_selection_panel_class_init(WeftSelectionPanelClass *klass) {
  G_OBJECT_CLASS(klass)->dispose = weft_selection_panel_dispose;
  /* the panel shows the numbers of the last range set (or a message) */
  signals[SIG_COMPUTED] =
      g_signal_new("computed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* a row of the contention table was selected: its object_id */
  signals[SIG_OBJECT_ACTIVATED] = g_signal_new("object-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                               NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  /* a row of the thread table was selected: its utid */
  signals[SIG_THREAD_ACTIVATED] = g_signal_new("thread-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                               NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static GtkWidget *heading(const char *text) {
  GtkWidget *l = gtk_label_new(text);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_widget_add_css_class(l, "heading");
  gtk_widget_set_margin_top(l, 6);
  return l;
}

static void weft_selection_panel_init(WeftSelectionPanel *self) {
  GtkBox *box = GTK_BOX(self);
  weft_panel_header(box, "No selection", TRUE, &self->title, &self->status);
  self->summary = GTK_FLOW_BOX(gtk_flow_box_new());
  gtk_flow_box_set_selection_mode(self->summary, GTK_SELECTION_NONE);
  gtk_flow_box_set_homogeneous(self->summary, TRUE);
  gtk_flow_box_set_max_children_per_line(self->summary, 2);
  gtk_flow_box_set_column_spacing(self->summary, 12);
  gtk_flow_box_set_row_spacing(self->summary, 0);
  gtk_box_append(box, GTK_WIDGET(self->summary));
  gtk_box_append(box, heading("Threads"));
  self->threads_box = GTK_BOX(gtk_box_new(GTK_ORIENTATION_VERTICAL, 0));
  gtk_widget_set_vexpand(GTK_WIDGET(self->threads_box), TRUE);
  gtk_box_append(box, GTK_WIDGET(self->threads_box));
  gtk_box_append(box, heading("Contention"));
  static const WeftTableColumn ocols[] = {
      {"Object", "label", FALSE, TRUE},
      {"Kind", "kind", FALSE, FALSE},
      {"Waits", "waits", TRUE, FALSE},
      {"Wait total", "wait_ns", TRUE, FALSE},
      {"Share", "wait_share", TRUE, FALSE},
      {"p50", "wait_p50_ns", TRUE, FALSE},
      {"p99", "wait_p99_ns", TRUE, FALSE},
      {"Max wait", "wait_max_ns", TRUE, FALSE},
      {"Contended", "contended", TRUE, FALSE},
      {"Acquisitions", "acquisitions", TRUE, FALSE},
      {"Holds", "holds", TRUE, FALSE},
      {"Hold total", "hold_total_ns", TRUE, FALSE},
      {"Max hold", "hold_longest_ns", TRUE, FALSE},
      {"Hand-offs", "handoffs", TRUE, FALSE},
      {"Waiters", "waiters", TRUE, FALSE},
      {"Top call site", "top_site", FALSE, FALSE},
  };
  self->objects = weft_table_new(ocols, G_N_ELEMENTS(ocols), "object_id");
  gtk_widget_set_size_request(self->objects, -1, 140);
  weft_table_set_select_func(self->objects, on_object_selected, self);
  gtk_box_append(box, self->objects);
  /* an empty thread table until the first range */
  WeftMetrics empty = {0};
  fill_threads(self, &empty);
  weft_selection_panel_set_range(self, FALSE, 0, 0, 0);
}

GtkWidget *weft_selection_panel_new(void) { return g_object_new(WEFT_TYPE_SELECTION_PANEL, NULL); }
