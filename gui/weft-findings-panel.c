/* weft-findings-panel.c - the ranked findings beside the timeline.
 * SPDX-License-Identifier: MIT
 *
 * The findings are weft_metrics_compute()'s with everything on (the query
 * `weft report` runs, critical path included, so the ranking is the
 * report's), for the whole recording or for the selected range, computed on
 * a GTask worker thread with its own read-only connection (weft_db_open) so
 * that the UI never waits for them. The worker copies the findings out of
 * the WeftMetrics and frees it. The whole recording's list is kept, so that
 * clearing the selection shows it again at once. Each request has a
 * generation number; a result that arrives after a newer request is dropped.
 *
 * A Python program's verdict (threads, processes or neither, and why: the
 * report's "Verdict" section) sits above the list. A row shows the finding
 * as the report's text does: rank and title, then "cost X; evidence", then
 * "fix: ...". Activating a row (click, Enter)
 * emits "finding-activated" with its rank; the window acts on the finding's
 * object, thread and region.
 */
#include "config.h"

#include "weft-findings-panel.h"

#include "metrics.h"
#include "python.h"
#include "weft-json.h"
#include "weft-table.h"

struct _WeftFindingsPanel {
  GtkBox parent_instance;
  WeftSession *session;
  GtkLabel *title;
  GtkLabel *status;
  GtkLabel *verdict; /* a Python program's verdict, hidden for others */
  GtkListBox *list;
  GCancellable *cancellable;
  guint generation;
  guint delay_id;
  gboolean busy;

  /* what the panel shows */
  int scope; /* SCOPE_* */
  int64_t start_ns, end_ns;
  GPtrArray *items; /* WeftFindingItem*, shown, by rank; NULL when none */
  GPtrArray *whole; /* the whole recording's, once computed */
  int64_t whole_start_ns, whole_end_ns;
  char *whole_program;    /* the program when launchers were left out (as `weft report`), else NULL */
  char *whole_verdict;    /* the whole recording's verdict (Pango markup), else NULL */
  char *shown_verdict;    /* the verdict shown (markup), else NULL */
  gboolean whole_pending; /* the whole recording's computation is running */
  guint whole_gen;        /* of the last whole-recording job started (set_session bumps it) */
  gboolean want_whole;    /* the last request is the whole recording */
  gboolean range_running; /* a selection's computation is running (it cannot be stopped midway) */
  gboolean range_queued;  /* start the latest selection's when it returns */
};

enum { SCOPE_NONE, SCOPE_RECORDING, SCOPE_SELECTION };

enum { SIG_COMPUTED, SIG_FINDING_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(WeftFindingsPanel, weft_findings_panel, GTK_TYPE_BOX)

static void item_free(WeftFindingItem *it) {
  if (!it) return;
  g_free(it->kind);
  g_free(it->title);
  g_free(it->evidence);
  g_free(it->fix);
  g_free(it);
}

/* ---- the worker ---- */

typedef struct {
  char *path;
  gboolean has_range;
  int64_t start_ns, end_ns;
  guint generation; /* range jobs: the panel's generation; whole jobs: whole_gen */
} Job;

typedef struct {
  GPtrArray *items;
  int64_t start_ns, end_ns; /* the range, resolved */
  char *program;            /* "the program …; N launcher processes …", or NULL */
  char *verdict;            /* a Python program's verdict as Pango markup, or NULL */
} Result;

static void job_free(Job *j) {
  g_free(j->path);
  g_free(j);
}

static void result_free(Result *r) {
  if (!r) return;
  g_ptr_array_unref(r->items);
  g_free(r->program);
  g_free(r->verdict);
  g_free(r);
}

static void compute_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  Job *job = data;
  WeftMetricsQuery q;
  weft_metrics_query_init(&q); /* everything, as `weft report` */
  q.no_replay = 1;             /* the page shows no what-if */
  if (job->has_range) {
    q.start_ns = job->start_ns;
    q.end_ns = job->end_ns;
  }
  WeftMetrics *m = weft_panel_compute(task, job->path, &q);
  if (!m) return;
  Result *r = g_new0(Result, 1);
  r->items = g_ptr_array_new_with_free_func((GDestroyNotify)item_free);
  r->start_ns = m->range_start_ns;
  r->end_ns = m->range_end_ns;
  const WeftProcessMetrics *prog = m->launchers ? weft_metrics_process(m, m->program_upid) : NULL;
  if (prog) {
    const char *exe = *prog->exe ? prog->exe : prog->cmdline, *sl = strrchr(exe, '/');
    char t0[32];
    if (m->mpi_launchers)
      r->program = g_strdup_printf("The MPI ranks of %s, from %s: %zu launcher process%s (mpirun, its daemons, the "
                                   "ranks before their exec) left out, as `weft report` does.",
                                   sl ? sl + 1 : exe, weft_format_ns(t0, sizeof t0, m->range_start_ns), m->launchers,
                                   m->launchers == 1 ? "" : "es");
    else
      r->program =
          g_strdup_printf("The program %s [%lld], from %s: %zu launcher process%s before it (env, shells, "
                          "shims) left out, as `weft report` does.",
                          sl ? sl + 1 : exe, (long long)prog->pid, weft_format_ns(t0, sizeof t0, m->range_start_ns),
                          m->launchers, m->launchers == 1 ? "" : "es");
  }
  if (m->python && m->python->verdict.choice)
    r->verdict = g_markup_printf_escaped("<b>Verdict: %s</b>\n%s", m->python->verdict.choice, m->python->verdict.text);
  for (size_t i = 0; i < m->nfindings; i++) {
    const WeftFinding *f = &m->findings[i];
    WeftFindingItem *it = g_new0(WeftFindingItem, 1);
    it->kind = g_strdup(f->kind_name ? f->kind_name : "");
    it->cost_ns = f->cost_ns;
    it->warning = weft_finding_is_warning(f);
    it->title = g_strdup(f->title ? f->title : "");
    it->evidence = g_strdup(f->evidence ? f->evidence : "");
    it->fix = g_strdup(f->fix ? f->fix : "");
    it->object_id = f->object_id;
    it->utid = f->utid;
    it->region = f->region;
    it->region_start_ns = it->region_end_ns = 0;
    if (f->region >= 0 && (size_t)f->region < m->nregions) {
      it->region_start_ns = m->regions[f->region].start_ns;
      it->region_end_ns = m->regions[f->region].end_ns;
    } else {
      it->region = -1;
    }
    g_ptr_array_add(r->items, it);
  }
  weft_metrics_free(m);
  g_task_return_pointer(task, r, (GDestroyNotify)result_free);
}

/* ---- showing the list ---- */

static void clear_list(WeftFindingsPanel *self) {
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child(GTK_WIDGET(self->list)))) gtk_list_box_remove(self->list, c);
}

static GtkWidget *wrapped_label(const char *markup, const char *css) {
  GtkWidget *l = gtk_label_new(NULL);
  gtk_label_set_markup(GTK_LABEL(l), markup);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_label_set_wrap(GTK_LABEL(l), TRUE);
  gtk_label_set_wrap_mode(GTK_LABEL(l), PANGO_WRAP_WORD_CHAR);
  if (css) gtk_widget_add_css_class(l, css);
  return l;
}

static GtkWidget *item_row(guint rank, const WeftFindingItem *it) {
  char cost[32];
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_margin_start(box, 6);
  gtk_widget_set_margin_end(box, 6);
  gtk_widget_set_margin_top(box, 6);
  gtk_widget_set_margin_bottom(box, 6);
  char *t = g_markup_printf_escaped("<b>%u. %s</b>", rank, it->title);
  gtk_box_append(GTK_BOX(box), wrapped_label(t, NULL));
  g_free(t);
  /* what the row does when activated */
  const char *go = !strcmp(it->kind, "serial")           ? "click: mark that time on the timeline"
                   : !strcmp(it->kind, "oversubscribed") ? "click: mark where threads waited for a CPU"
                   : it->region >= 0                     ? "click: zoom to the region"
                   : it->object_id >= 0                  ? "click: highlight the object, show its longest wait"
                   : it->utid >= 0                       ? "click: show the thread"
                                                         : NULL;
  /* a warning about the measurement is no cost */
  t = g_markup_printf_escaped("<small>%s · %s%s%s%s</small>", it->kind, it->warning ? "a warning, not a cost" : "cost ",
                              it->warning ? "" : weft_format_ns(cost, sizeof cost, it->cost_ns), go ? " · " : "",
                              go ? go : "");
  gtk_box_append(GTK_BOX(box), wrapped_label(t, "dim-label"));
  g_free(t);
  t = g_markup_printf_escaped("%s", it->evidence);
  gtk_box_append(GTK_BOX(box), wrapped_label(t, NULL));
  g_free(t);
  t = g_markup_printf_escaped("<i>fix:</i> %s", it->fix);
  gtk_box_append(GTK_BOX(box), wrapped_label(t, NULL));
  g_free(t);
  GtkWidget *row = gtk_list_box_row_new();
  gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
  return row;
}

static void show_message(WeftFindingsPanel *self, const char *title, const char *status) {
  gtk_label_set_text(self->title, title);
  gtk_label_set_text(self->status, status ? status : "");
  gtk_widget_set_visible(GTK_WIDGET(self->status), status != NULL);
}

/* Show items (a reference is taken) for scope over [a, b), under verdict
 * (markup; NULL: none). */
static void show_items(WeftFindingsPanel *self, int scope, GPtrArray *items, int64_t a, int64_t b,
                       const char *verdict) {
  char x[32], y[32], d[32], buf[256];
  clear_list(self);
  g_free(self->shown_verdict);
  self->shown_verdict = g_strdup(verdict);
  gtk_label_set_markup(self->verdict, verdict ? verdict : "");
  gtk_widget_set_visible(GTK_WIDGET(self->verdict), verdict != NULL);
  g_clear_pointer(&self->items, g_ptr_array_unref);
  self->items = g_ptr_array_ref(items);
  self->scope = scope;
  self->start_ns = a;
  self->end_ns = b;
  guint n = items->len;
  if (scope == SCOPE_RECORDING)
    g_snprintf(buf, sizeof buf, "%s: %u finding%s", self->whole_program ? "The program" : "Whole recording", n,
               n == 1 ? "" : "s");
  else
    g_snprintf(buf, sizeof buf, "Selection %s … %s (%s): %u finding%s", weft_format_ns(x, sizeof x, a),
               weft_format_ns(y, sizeof y, b), weft_format_ns(d, sizeof d, b - a), n, n == 1 ? "" : "s");
  char *sub = NULL;
  if (scope == SCOPE_RECORDING && self->whole_program)
    sub = g_strdup_printf("%s %s", self->whole_program,
                          n == 0 ? "No wait, imbalance or serial phase costs 1% or more of the thread time."
                                 : "Ranked by the time they cost. Select a range on the timeline for its own "
                                   "findings.");
  show_message(self, buf,
               sub      ? sub
               : n == 0 ? "None: no wait, imbalance or serial phase costs 1% or more of the thread time."
               : scope == SCOPE_RECORDING
                   ? "Ranked by the time they cost, as `weft report` prints them. Select a range on the timeline "
                     "for its own findings."
                   : "Ranked by the time they cost, as `weft report --range A..B` prints them. Esc on the timeline "
                     "shows the whole recording's.");
  g_free(sub);
  for (guint i = 0; i < n; i++) gtk_list_box_append(self->list, item_row(i + 1, g_ptr_array_index(items, i)));
}

static void start_job(WeftFindingsPanel *self, gboolean has_range);

/* data is a reference to the panel, taken by start_job */
static void on_computed(GObject *source, GAsyncResult *res, gpointer data) {
  GTask *task = G_TASK(res);
  WeftFindingsPanel *self = data;
  Job *job = g_task_get_task_data(task);
  GError *error = NULL;
  Result *r = g_task_propagate_pointer(task, &error);
  gboolean cancelled = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  gboolean current;
  if (!job->has_range) {
    /* the whole recording's list is kept even when a selection came meanwhile */
    current = job->generation == self->whole_gen;
    if (current) {
      self->whole_pending = FALSE;
      if (r) {
        self->whole = g_ptr_array_ref(r->items);
        self->whole_start_ns = r->start_ns;
        self->whole_end_ns = r->end_ns;
        g_free(self->whole_program);
        self->whole_program = g_strdup(r->program);
        g_free(self->whole_verdict);
        self->whole_verdict = g_strdup(r->verdict);
      }
      current = self->want_whole;
    }
  } else {
    current = !cancelled && job->generation == self->generation && !self->want_whole;
  }
  if (current) {
    self->busy = FALSE;
    if (r) {
      show_items(self, job->has_range ? SCOPE_SELECTION : SCOPE_RECORDING, r->items, r->start_ns, r->end_ns,
                 r->verdict);
    } else {
      clear_list(self);
      g_clear_pointer(&self->items, g_ptr_array_unref);
      self->scope = SCOPE_NONE;
      show_message(self, "No findings", error ? error->message : "cannot compute");
    }
    g_signal_emit(self, signals[SIG_COMPUTED], 0);
  }
  result_free(r);
  g_clear_error(&error);
  if (job->has_range) {
    /* one selection's computation at a time: while the user drags, the
     * latest range is computed when the running one is done */
    self->range_running = FALSE;
    if (self->range_queued) {
      self->range_queued = FALSE;
      if (!self->want_whole && self->busy) start_job(self, TRUE);
    }
  }
  g_object_unref(self);
}

static void start_job(WeftFindingsPanel *self, gboolean has_range) {
  if (has_range && self->range_running) {
    self->range_queued = TRUE;
    return;
  }
  self->range_running |= has_range;
  Job *job = g_new0(Job, 1);
  job->path = g_strdup(weft_session_get_path(self->session));
  job->has_range = has_range;
  job->start_ns = self->start_ns;
  job->end_ns = self->end_ns;
  job->generation = has_range ? self->generation : ++self->whole_gen;
  if (!has_range) self->whole_pending = TRUE;
  /* the whole recording's computation is never cancelled by a selection (its
   * list is kept), only by another recording or the panel's end */
  GTask *task = g_task_new(NULL, has_range ? self->cancellable : NULL, on_computed, g_object_ref(self));
  g_task_set_task_data(task, job, (GDestroyNotify)job_free);
  g_task_run_in_thread(task, compute_thread);
  g_object_unref(task);
}

static gboolean on_delay(gpointer data) {
  WeftFindingsPanel *self = data;
  self->delay_id = 0;
  start_job(self, TRUE);
  return G_SOURCE_REMOVE;
}

void weft_findings_panel_set_range(WeftFindingsPanel *self, gboolean has_range, int64_t start_ns, int64_t end_ns,
                                   guint delay_ms) {
  self->generation++;
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
  g_clear_object(&self->cancellable);
  g_clear_handle_id(&self->delay_id, g_source_remove);
  if (!self->session) {
    self->want_whole = FALSE;
    self->busy = FALSE;
    clear_list(self);
    g_clear_pointer(&self->items, g_ptr_array_unref);
    self->scope = SCOPE_NONE;
    show_message(self, "No recording", NULL);
    g_signal_emit(self, signals[SIG_COMPUTED], 0);
    return;
  }
  has_range = has_range && end_ns > start_ns;
  self->want_whole = !has_range;
  self->start_ns = start_ns;
  self->end_ns = end_ns;
  if (!has_range && self->whole) {
    self->busy = FALSE;
    show_items(self, SCOPE_RECORDING, self->whole, self->whole_start_ns, self->whole_end_ns, self->whole_verdict);
    g_signal_emit(self, signals[SIG_COMPUTED], 0);
    return;
  }
  char a[32], b[32], buf[160];
  if (has_range)
    g_snprintf(buf, sizeof buf, "Selection %s … %s", weft_format_ns(a, sizeof a, start_ns),
               weft_format_ns(b, sizeof b, end_ns));
  else
    g_strlcpy(buf, "Whole recording", sizeof buf);
  clear_list(self);
  g_clear_pointer(&self->items, g_ptr_array_unref);
  self->scope = SCOPE_NONE;
  show_message(self, buf, "computing the findings…");
  self->busy = TRUE;
  self->cancellable = g_cancellable_new();
  if (!has_range) {
    /* a running job shows its list when it returns */
    if (!self->whole_pending) start_job(self, FALSE);
  } else if (delay_ms > 0) {
    self->delay_id = g_timeout_add(delay_ms, on_delay, self);
  } else {
    start_job(self, TRUE);
  }
}

gboolean weft_findings_panel_is_busy(WeftFindingsPanel *self) { return self->busy; }

void weft_findings_panel_set_session(WeftFindingsPanel *self, WeftSession *session) {
  /* a previous recording's list and job are of no use any more */
  g_clear_pointer(&self->whole_program, g_free);
  g_clear_pointer(&self->whole_verdict, g_free);
  g_clear_pointer(&self->whole, g_ptr_array_unref);
  self->whole_pending = FALSE;
  self->whole_gen++;
  self->range_queued = FALSE;
  self->session = session;
  weft_findings_panel_set_range(self, FALSE, 0, 0, 0);
}

const WeftFindingItem *weft_findings_panel_get_item(WeftFindingsPanel *self, guint i) {
  return self->items && i < self->items->len ? g_ptr_array_index(self->items, i) : NULL;
}

guint weft_findings_panel_get_n_items(WeftFindingsPanel *self) { return self->items ? self->items->len : 0; }

gboolean weft_findings_panel_activate(WeftFindingsPanel *self, guint i) {
  GtkListBoxRow *row = gtk_list_box_get_row_at_index(self->list, (int)i);
  if (!row) return FALSE;
  gtk_list_box_select_row(self->list, row);
  g_signal_emit(self, signals[SIG_FINDING_ACTIVATED], 0, i);
  return TRUE;
}

static void on_row_activated(GtkListBox *box, GtkListBoxRow *row, WeftFindingsPanel *self) {
  int i = gtk_list_box_row_get_index(row);
  if (i >= 0) g_signal_emit(self, signals[SIG_FINDING_ACTIVATED], 0, (guint)i);
}

static void json_id(GString *out, const char *key, int64_t v) {
  if (v < 0)
    g_string_append_printf(out, ", \"%s\": null", key);
  else
    g_string_append_printf(out, ", \"%s\": %" G_GINT64_FORMAT, key, v);
}

void weft_findings_panel_write_json(WeftFindingsPanel *self, GString *out) {
  if (self->scope == SCOPE_NONE || !self->items) {
    g_string_append(out, "{\"scope\": null}");
    return;
  }
  g_string_append_printf(out,
                         "{\"scope\": \"%s\", \"start_ns\": %" G_GINT64_FORMAT ", \"end_ns\": %" G_GINT64_FORMAT ", ",
                         self->scope == SCOPE_RECORDING ? "recording" : "selection", self->start_ns, self->end_ns);
  g_string_append(out, "\"verdict\": ");
  if (self->shown_verdict) {
    char *plain = NULL;
    pango_parse_markup(self->shown_verdict, -1, 0, NULL, &plain, NULL, NULL);
    weft_json_append(out, plain ? plain : "");
    g_free(plain);
  } else {
    g_string_append(out, "null");
  }
  g_string_append(out, ", \"items\": [");
  for (guint i = 0; i < self->items->len; i++) {
    const WeftFindingItem *it = g_ptr_array_index(self->items, i);
    g_string_append_printf(out, "%s\n  {\"rank\": %u, \"kind\": ", i ? "," : "", i + 1);
    weft_json_append(out, it->kind);
    g_string_append_printf(out, ", \"cost_ns\": %" G_GINT64_FORMAT ", \"title\": ", it->cost_ns);
    weft_json_append(out, it->title);
    g_string_append(out, ", \"evidence\": ");
    weft_json_append(out, it->evidence);
    g_string_append(out, ", \"fix\": ");
    weft_json_append(out, it->fix);
    json_id(out, "object_id", it->object_id);
    json_id(out, "utid", it->utid);
    json_id(out, "region", it->region);
    g_string_append_c(out, '}');
  }
  g_string_append(out, "]}");
}

static void weft_findings_panel_dispose(GObject *object) {
  WeftFindingsPanel *self = WEFT_FINDINGS_PANEL(object);
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
  g_clear_object(&self->cancellable);
  g_clear_handle_id(&self->delay_id, g_source_remove);
  G_OBJECT_CLASS(weft_findings_panel_parent_class)->dispose(object);
}

static void weft_findings_panel_finalize(GObject *object) {
  WeftFindingsPanel *self = WEFT_FINDINGS_PANEL(object);
  g_clear_pointer(&self->items, g_ptr_array_unref);
  g_clear_pointer(&self->whole, g_ptr_array_unref);
  g_clear_pointer(&self->whole_program, g_free);
  g_clear_pointer(&self->whole_verdict, g_free);
  g_clear_pointer(&self->shown_verdict, g_free);
  G_OBJECT_CLASS(weft_findings_panel_parent_class)->finalize(object);
}

static void weft_findings_panel_class_init(WeftFindingsPanelClass *klass) {
  G_OBJECT_CLASS(klass)->dispose = weft_findings_panel_dispose;
  G_OBJECT_CLASS(klass)->finalize = weft_findings_panel_finalize;
  /* the panel shows the list of the last range set (or a message) */
  signals[SIG_COMPUTED] =
      g_signal_new("computed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* a finding was activated (click, Enter): its rank, 0-based */
  signals[SIG_FINDING_ACTIVATED] = g_signal_new("finding-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void weft_findings_panel_init(WeftFindingsPanel *self) {
  GtkBox *box = GTK_BOX(self);
  weft_panel_header(box, "No recording", TRUE, &self->title, &self->status);
  self->verdict = GTK_LABEL(wrapped_label("", NULL));
  gtk_widget_set_margin_start(GTK_WIDGET(self->verdict), 6);
  gtk_widget_set_margin_end(GTK_WIDGET(self->verdict), 6);
  gtk_widget_set_margin_bottom(GTK_WIDGET(self->verdict), 6);
  gtk_widget_set_visible(GTK_WIDGET(self->verdict), FALSE);
  gtk_box_append(box, GTK_WIDGET(self->verdict));
  self->list = weft_panel_list(box, G_CALLBACK(on_row_activated), self);
}

GtkWidget *weft_findings_panel_new(void) { return g_object_new(WEFT_TYPE_FINDINGS_PANEL, NULL); }
