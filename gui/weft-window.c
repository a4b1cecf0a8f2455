/* weft-window.c - the weft-gui main window.
 * SPDX-License-Identifier: MIT
 *
 * The timeline on the left; on the right a stack of pages: the numbers of
 * the selected range (WeftSelectionPanel), the details of the clicked span
 * (with its call stack), and tables of the threads and of the sync objects.
 * The window ties them together: a drag-selection on the timeline computes
 * the panel's numbers; a row of a table scrolls the timeline to its thread,
 * or highlights the object's waits and holds and shows its longest wait.
 */
#include "config.h"

#include "weft-window.h"

#include <math.h>
#include <string.h>

#include "metrics.h"
#include "weft-compare.h"
#include "weft-critpath.h"
#include "weft-findings-panel.h"
#include "weft-selection-panel.h"
#include "weft-session.h"
#include "weft-whatif.h"
#include "weft-json.h"
#include "weft-search.h"
#include "weft-waits.h"
#include "weft-table.h"
#include "weft-timeline.h"

struct _WeftWindow {
  GtkApplicationWindow parent_instance;
  WeftTimeline *timeline;
  GtkLabel *title_label;
  GtkLabel *subtitle_label;
  GtkPaned *paned;
  GtkWidget *side;
  GtkStack *side_stack;
  GtkFlowBox *page_buttons; /* one toggle button per page of side_stack */
  WeftSelectionPanel *selection_panel;
  WeftFindingsPanel *findings_panel;
  WeftSearchPanel *search_panel;
  WeftCritPathPanel *critpath_panel;
  WeftWaitsPanel *waits_panel;
  WeftComparePanel *compare_panel; /* --compare: the Compare page, else NULL */
  GtkToggleButton *critpath_button;
  GCancellable *critpath_cancel; /* the critical path's computation under way, or NULL */
  GtkSearchEntry *search_entry;
  GtkLabel *details_label;
  GCancellable *details_cancel; /* the read of a shown span's object and stack (not a click's), or NULL */
  GtkBox *threads_box;
  GtkBox *objects_box;
  GtkToggleButton *flows_button;
  GtkMenuButton *flows_menu;
  GtkCheckButton *flow_kind_checks[WEFT_FLOW_COUNT]; /* [0] unused */
  GtkCheckButton *flow_scope_checks[3];              /* by WeftFlowScope */
  GtkWidget *threads_table;
  GtkWidget *objects_table;
  WeftWhatIfBar *threads_whatif; /* under the tables: the chosen row's changes, replayed */
  WeftWhatIfBar *objects_whatif;
  GHashTable *object_kinds; /* object_id -> its kind's name (interned): the what-ifs to offer */
  GHashTable *object_names; /* object_id -> its name (owned), for the what-if's title */
  WeftSession *session;
  gboolean quiet_errors;      /* headless: errors go to stderr, not a dialog */
  gboolean no_findings;       /* headless without the side panel or a dump: nothing shows them */
  guint objects_gen;          /* of the objects table's load (one per opened recording) */
  gboolean objects_busy;      /* the objects table is being read on a worker */
  GtkWidget *objects_status;  /* "reading…" over the objects table */
  int64_t show_worst_of;      /* an object whose longest wait is shown once its highlight is read, or -1 */
  gboolean show_worst_frames; /* the same for the waits of a function or file picked by the search */
};

G_DEFINE_FINAL_TYPE(WeftWindow, weft_window, GTK_TYPE_APPLICATION_WINDOW)

static void show_error(WeftWindow *self, const char *message) {
  if (self->quiet_errors) {
    g_printerr("weft-gui: %s\n", message);
    return;
  }
  GtkWidget *d = gtk_message_dialog_new(GTK_WINDOW(self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                        GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "Cannot open the recording");
  gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(d), "%s", message);
  g_signal_connect(d, "response", G_CALLBACK(gtk_window_destroy), NULL);
  gtk_window_present(GTK_WINDOW(d));
}

/* ---- the details page ---- */

static void append_thread(WeftWindow *self, GString *s, const char *what, int64_t utid) {
  char buf[512];
  if (utid < 0) return;
  char *esc = g_markup_escape_text(weft_session_thread_label(self->session, utid, buf, sizeof buf), -1);
  g_string_append_printf(s, "<b>%s</b> %s\n", what, esc);
  g_free(esc);
}

static void append_stack(GString *s, const GArray *frames) {
  if (!frames || frames->len == 0) {
    g_string_append(s, "\n<b>Call stack</b>\n<i>none recorded (WEFT_STACKS=all records every wait's)</i>\n");
    return;
  }
  g_string_append(s, "\n<b>Call stack</b> (innermost first)\n");
  for (guint k = 0; k < frames->len; k++) {
    const WeftFrame *f = &g_array_index(frames, WeftFrame, k);
    char *fn = g_markup_escape_text(f->function, -1);
    g_string_append_printf(s, "<tt>#%-2u</tt> %s", k, fn);
    if (f->file) {
      char *file = g_markup_escape_text(f->file, -1);
      if (f->line > 0)
        g_string_append_printf(s, "  <span alpha=\"62%%\">%s:%" G_GINT64_FORMAT "</span>", file, f->line);
      else
        g_string_append_printf(s, "  <span alpha=\"62%%\">%s</span>", file);
      g_free(file);
    }
    g_string_append_c(s, '\n');
    g_free(fn);
  }
}

#define DETAILS_HINT                                                                                        \
  "Click a span on the timeline to see what the thread did, what it waited for, who held it, who woke it, " \
  "and the call stack."

/* Show a span (utid set), read with its object and stack, on the details page. */
static void show_span_details(WeftWindow *self, const WeftHoverSpan *h) {
  const WeftSpan *span = &h->span;
  char a[32], b[32], c[32];
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "<big><b>%s</b></big>  %s\n", weft_state_name(span->state),
                         weft_format_ns(a, sizeof a, span->dur_ns));
  append_thread(self, s, "thread", span->utid);
  const char *host = weft_session_thread_host_name(self->session, span->utid);
  if (host) {
    char *esc = g_markup_escape_text(host, -1);
    g_string_append_printf(s, "<b>host</b> %s\n", esc);
    g_free(esc);
  }
  g_string_append_printf(s, "<b>from</b> %s <b>to</b> %s\n",
                         weft_format_instant(b, sizeof b, span->start_ns, span->dur_ns),
                         weft_format_instant(c, sizeof c, span->start_ns + span->dur_ns, span->dur_ns));
  if (span->object_id >= 0 && h->object) {
    char *esc = g_markup_escape_text(h->object, -1);
    g_string_append_printf(s, "<b>object</b> %s\n", esc);
    g_free(esc);
  }
  append_thread(self, s, "held by", span->blocker_utid);
  append_thread(self, s, "woken by", span->waker_utid);
  if (span->state != WEFT_ST_RUNNING) append_stack(s, h->stack);
  gtk_label_set_markup(self->details_label, s->str);
  g_string_free(s, TRUE);
}

/* The details page while a span is read: which thread, when. */
static void show_details_loading(WeftWindow *self, int64_t utid, int64_t t) {
  char who[512], when[32];
  char *text =
      g_strdup_printf("Reading what %s did at %s…", weft_session_thread_label(self->session, utid, who, sizeof who),
                      weft_format_ns(when, sizeof when, t));
  gtk_label_set_label(self->details_label, text);
  g_free(text);
}

static void forget_details_read(WeftWindow *self) {
  if (self->details_cancel) g_cancellable_cancel(self->details_cancel);
  g_clear_object(&self->details_cancel);
}

static void on_span_pending(WeftTimeline *tl, gint64 utid, gint64 t, WeftWindow *self) {
  forget_details_read(self); /* (a click supersedes a span shown before) */
  show_details_loading(self, utid, t);
  gtk_stack_set_visible_child_name(self->side_stack, "details");
}

static void on_span_selected(WeftTimeline *tl, gint64 utid, gint64 t, WeftWindow *self) {
  const WeftHoverSpan *h = weft_timeline_get_clicked(tl);
  if (!h) { /* (nothing there, or the read was dropped: Esc) */
    gtk_label_set_label(self->details_label, DETAILS_HINT);
    return;
  }
  show_span_details(self, h);
  gtk_stack_set_visible_child_name(self->side_stack, "details");
}

static void on_details_read(GObject *source, GAsyncResult *result, gpointer data) {
  WeftWindow *self = data;
  GError *error = NULL;
  WeftHoverSpan *h = weft_hover_read_finish(result, &error);
  if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && self->details_label) {
    g_clear_object(&self->details_cancel);
    if (h)
      show_span_details(self, h);
    else
      gtk_label_set_label(self->details_label, error->message);
  }
  weft_hover_span_free(h);
  g_clear_error(&error);
  g_object_unref(self);
}

/* Show span on the details page once its object and stack are read (on a
 * worker; a click, or another span shown, before then supersedes it). */
static void show_span_details_async(WeftWindow *self, const WeftSpan *span) {
  forget_details_read(self);
  show_details_loading(self, span->utid, span->start_ns);
  self->details_cancel = g_cancellable_new();
  weft_hover_read_span_async(self->session, span, self->details_cancel, on_details_read, g_object_ref(self));
}

/* ---- objects: highlight and jump to the longest wait ---- */

/* The highlighted object's longest wait on the timeline and the details
 * page, or its lane when it has no wait. */
static void show_worst(WeftWindow *self, int64_t object_id) {
  self->show_worst_of = -1;
  WeftSpan worst;
  if (weft_timeline_get_highlight_worst(self->timeline, &worst)) {
    weft_timeline_show_span(self->timeline, &worst);
    show_span_details_async(self, &worst);
  } else {
    weft_timeline_scroll_to_lock(self->timeline, object_id);
  }
}

/* Highlight the object; its longest wait is shown when the highlight's
 * waits and holds are read (on a worker: the longest is found there). */
static void activate_object(WeftWindow *self, int64_t object_id) {
  weft_timeline_set_highlight(self->timeline, object_id);
  self->show_worst_of = object_id;
  if (weft_timeline_highlight_is_ready(self->timeline)) show_worst(self, object_id);
}

static void on_highlight_ready(WeftTimeline *tl, gint64 object_id, WeftWindow *self) {
  if (object_id >= 0 && object_id == self->show_worst_of && object_id == weft_timeline_get_highlight(tl))
    show_worst(self, object_id);
  const char *label = weft_timeline_get_highlight_label(tl);
  if (object_id < 0 && self->show_worst_frames && label) {
    self->show_worst_frames = FALSE;
    guint n = weft_timeline_get_highlight_n_waits(tl);
    char *note = n ? g_strdup_printf("Highlighted: the %u wait%s whose call stack%s through %s; the longest shown.", n,
                                     n == 1 ? "" : "s", n == 1 ? " passes" : "s pass", label)
                   : g_strdup_printf("No recorded wait has %s in its call stack (WEFT_STACKS=all records every "
                                     "wait's stack).",
                                     label);
    weft_search_panel_set_note(self->search_panel, note);
    g_free(note);
    if (n) show_worst(self, -1);
  }
}

static void on_highlight_cleared(WeftTimeline *tl, WeftWindow *self) {
  self->show_worst_of = -1;
  self->show_worst_frames = FALSE;
  weft_search_panel_set_note(self->search_panel, NULL);
  weft_waits_panel_unselect(self->waits_panel);
  if (self->objects_table) weft_table_unselect(self->objects_table);
}

static void on_lock_selected(WeftTimeline *tl, gint64 object_id, gint64 t, WeftWindow *self) {
  weft_timeline_set_highlight(self->timeline, object_id);
  if (self->objects_table) weft_table_select_id(self->objects_table, object_id);
}

/* (a table's selection also changes while the window is disposed: its timeline is gone) */
static void on_object_row(GtkWidget *table, int64_t id, gpointer data) {
  WeftWindow *self = data;
  if (id >= 0 && self->timeline) activate_object(self, id);
  if (id >= 0 && self->objects_whatif && self->session) {
    int lane = weft_session_lock_index(self->session, id);
    const WeftSessionLock *l = lane >= 0 ? weft_session_get_lock(self->session, (guint)lane) : NULL;
    char fallback[32];
    g_snprintf(fallback, sizeof fallback, "#%" G_GINT64_FORMAT, id);
    const char *kind = self->object_kinds ? g_hash_table_lookup(self->object_kinds, GSIZE_TO_POINTER((gsize)id)) : NULL;
    const char *name = self->object_names ? g_hash_table_lookup(self->object_names, GSIZE_TO_POINTER((gsize)id)) : NULL;
    weft_whatif_bar_set_object(self->objects_whatif, id, l && l->name ? l->name : name ? name : fallback, kind);
  }
}

static void on_panel_object(WeftSelectionPanel *panel, gint64 object_id, WeftWindow *self) {
  activate_object(self, object_id);
}

/* A finding: a region zooms to it; an object is highlighted (without a region:
 * the timeline jumps to its longest wait, as from the Sync objects table); a
 * thread is scrolled to and highlighted; serial phases and threads waiting
 * for a CPU are marked over the range the findings are of. */
static void on_finding_activated(WeftFindingsPanel *panel, guint rank, WeftWindow *self) {
  const WeftFindingItem *it = weft_findings_panel_get_item(panel, rank);
  if (!it || !self->session) return;
  weft_timeline_set_highlight_thread(self->timeline, it->utid);
  WeftMark mark = !strcmp(it->kind, "serial")           ? WEFT_MARK_SERIAL
                  : !strcmp(it->kind, "oversubscribed") ? WEFT_MARK_RUNNABLE
                                                        : WEFT_MARK_NONE;
  int64_t a, b; /* the findings are of the selection, or of the whole recording */
  if (!weft_timeline_get_selection(self->timeline, &a, &b)) {
    a = 0;
    b = weft_session_get_end_ns(self->session);
  }
  weft_timeline_set_mark(self->timeline, mark, a, b);
  if (mark != WEFT_MARK_NONE) weft_timeline_set_range(self->timeline, a, b);
  if (it->region >= 0 && it->region_end_ns > it->region_start_ns) {
    weft_timeline_set_highlight(self->timeline, it->object_id);
    int64_t pad = (it->region_end_ns - it->region_start_ns) / 20;
    weft_timeline_set_range(self->timeline, it->region_start_ns - pad, it->region_end_ns + pad);
  } else if (it->object_id >= 0) {
    activate_object(self, it->object_id);
  }
  if (it->utid >= 0) weft_timeline_scroll_to_thread(self->timeline, it->utid);
}

static void on_thread_row(GtkWidget *table, int64_t id, gpointer data) {
  WeftWindow *self = data;
  if (id >= 0 && self->timeline) weft_timeline_scroll_to_thread(self->timeline, id);
  int i = id >= 0 && self->session && self->threads_whatif ? weft_session_thread_index(self->session, id) : -1;
  if (i >= 0) {
    const WeftSessionThread *t = weft_session_get_thread(self->session, (guint)i);
    char label[200];
    g_snprintf(label, sizeof label, "%s [%d]", t->name, t->tid);
    weft_whatif_bar_set_thread(self->threads_whatif, t->tid, label);
  }
}

static void on_panel_thread(WeftSelectionPanel *panel, gint64 utid, WeftWindow *self) {
  weft_timeline_scroll_to_thread(self->timeline, utid);
}

/* ---- the search ---- */

/* A search result chosen: a thread or a process is scrolled to and
 * highlighted (its row tinted), an object highlighted as from the Sync
 * objects table, a function or a file: the waits whose stacks pass through
 * it highlighted, the longest shown. */
static void on_search_result(WeftSearchPanel *panel, guint i, WeftWindow *self) {
  const WeftFound *f = weft_search_panel_get_result(panel, i);
  if (!f || !self->session) return;
  weft_search_panel_set_note(panel, NULL);
  switch (f->kind) {
    case WEFT_FOUND_THREAD:
      weft_timeline_set_highlight_thread(self->timeline, f->id);
      weft_timeline_scroll_to_thread(self->timeline, f->id);
      if (self->threads_table) weft_table_select_id(self->threads_table, f->id);
      break;
    case WEFT_FOUND_PROCESS:
      for (guint p = 0; p < weft_session_get_n_processes(self->session); p++) {
        const WeftSessionProcess *pr = weft_session_get_process(self->session, p);
        if (pr->upid == f->id && pr->n_threads) /* its main thread (the first) */
          weft_timeline_set_highlight_thread(self->timeline,
                                             weft_session_get_thread(self->session, pr->first_thread)->utid);
      }
      weft_timeline_scroll_to_process(self->timeline, f->id);
      break;
    case WEFT_FOUND_OBJECT:
      if (!self->objects_table || !weft_table_select_id(self->objects_table, f->id)) activate_object(self, f->id);
      break;
    default: {
      char *label = g_strdup_printf("%s %s", f->what, f->name);
      self->show_worst_of = -1;
      self->show_worst_frames = TRUE;
      weft_timeline_set_highlight_frames(self->timeline, label, f->kind == WEFT_FOUND_FUNCTION ? f->key : NULL,
                                         f->kind == WEFT_FOUND_FILE ? f->key : NULL, NULL, 0);
      weft_search_panel_set_note(panel, "reading the waits…");
      g_free(label);
    }
  }
}

static void on_search_changed(GtkSearchEntry *entry, WeftWindow *self) {
  const char *text = gtk_editable_get_text(GTK_EDITABLE(entry));
  if (!g_strcmp0(text, weft_search_panel_get_query(self->search_panel))) return;
  weft_search_panel_set_query(self->search_panel, text);
  if (*text) gtk_stack_set_visible_child_name(self->side_stack, "search");
}

/* Enter in the search field: the first result. */
static void on_search_activate(GtkSearchEntry *entry, WeftWindow *self) {
  on_search_changed(entry, self);
  if (!weft_search_panel_is_busy(self->search_panel)) weft_search_panel_activate(self->search_panel, 0);
}

/* Esc in the search field: back to the timeline. */
static void on_search_stop(GtkSearchEntry *entry, WeftWindow *self) {
  gtk_widget_grab_focus(GTK_WIDGET(self->timeline));
}

static void action_search(GtkWidget *w, const char *name, GVariant *param) {
  WeftWindow *self = WEFT_WINDOW(w);
  gtk_widget_grab_focus(GTK_WIDGET(self->search_entry));
  gtk_editable_select_region(GTK_EDITABLE(self->search_entry), 0, -1);
  if (*gtk_editable_get_text(GTK_EDITABLE(self->search_entry)))
    gtk_stack_set_visible_child_name(self->side_stack, "search");
}

/* ---- the waits' call stacks ---- */

/* A box of the Waits page: the waits whose stacks pass through it highlighted. */
static void on_waits_frame(WeftWaitsPanel *panel, guint i, WeftWindow *self) {
  const WeftWaitGraph *g = weft_waits_panel_get_graph(panel);
  if (!g || i >= g->n_nodes) return;
  const WeftWaitNode *n = &g->nodes[i];
  char *label = g_strdup_printf("frame %s", n->function);
  self->show_worst_of = -1;
  weft_timeline_set_highlight_frames(self->timeline, label, NULL, NULL, n->stacks, n->n_stacks);
  g_free(label);
}

/* ---- the critical path ---- */

/* data: a reference to the window */
static void on_critpath_read(GObject *source, GAsyncResult *res, gpointer data) {
  WeftWindow *self = data;
  GError *error = NULL;
  WeftCritPath *cp = weft_critpath_read_finish(res, &error);
  if (self->critpath_cancel && g_task_get_cancellable(G_TASK(res)) == self->critpath_cancel) {
    g_clear_object(&self->critpath_cancel);
    weft_timeline_set_critical_path(self->timeline, cp);
    weft_critpath_panel_set_path(self->critpath_panel, cp, FALSE, error ? error->message : NULL);
  }
  if (cp) weft_critpath_unref(cp);
  g_clear_error(&error);
  g_object_unref(self);
}

/* P or the Path button: the first time, the path is computed (on a worker) and its page shown. */
static void on_critpath_notify(WeftWindow *self) {
  gboolean on = weft_timeline_get_show_critical_path(self->timeline);
  if (gtk_toggle_button_get_active(self->critpath_button) != on)
    gtk_toggle_button_set_active(self->critpath_button, on);
  if (!on || !self->session) return;
  gtk_stack_set_visible_child_name(self->side_stack, "critpath");
  if (weft_timeline_get_critical_path(self->timeline) || self->critpath_cancel) return;
  self->critpath_cancel = g_cancellable_new();
  weft_critpath_panel_set_path(self->critpath_panel, NULL, TRUE, NULL);
  weft_critpath_read_async(self->session, self->critpath_cancel, on_critpath_read, g_object_ref(self));
}

static void on_critpath_toggled(GtkToggleButton *b, WeftWindow *self) {
  weft_timeline_set_show_critical_path(self->timeline, gtk_toggle_button_get_active(b));
}

/* A segment of the page: the timeline zooms to it (a third of the window
 * each side), its thread's row scrolled to and highlighted, the path drawn. */
static void on_critpath_segment(WeftCritPathPanel *panel, guint i, WeftWindow *self) {
  const WeftCritPath *cp = weft_timeline_get_critical_path(self->timeline);
  if (!cp || i >= cp->n_segments) return;
  const WeftCritSegment *sg = &cp->segments[i];
  int64_t d = MAX(sg->end_ns - sg->start_ns, 60);
  weft_timeline_set_show_critical_path(self->timeline, TRUE);
  weft_timeline_set_range(self->timeline, sg->start_ns - d, sg->end_ns + d);
  weft_timeline_set_highlight_thread(self->timeline, sg->utid);
  weft_timeline_scroll_to_thread(self->timeline, sg->utid);
}

static void on_critpath_thread(WeftCritPathPanel *panel, gint64 utid, WeftWindow *self) {
  weft_timeline_set_highlight_thread(self->timeline, utid);
  weft_timeline_scroll_to_thread(self->timeline, utid);
}

/* The sync objects table and the threads' totals: read on a worker (the
 * wait counts and longest waits scan every wait: most of a second on 10 M
 * events; a thread's totals are a query each), the tables filled when it
 * returns if the recording is still the one it was read for. */
typedef struct {
  char *path;
  guint gen;
  GArray *threads; /* the threads' (utid, max_level) in, ThreadTotals out */
} ObjectsJob;

typedef struct {
  int64_t utid;
  int level;
  int rc;
  int64_t tot[WEFT_ST_COUNT];
} ThreadTotals;

static void objects_job_free(ObjectsJob *j) {
  g_free(j->path);
  if (j->threads) g_array_unref(j->threads);
  g_free(j);
}

static void objects_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  ObjectsJob *job = data;
  char err[512] = "";
  sqlite3 *db = weft_db_open(job->path, 0, err, sizeof err);
  if (!db) {
    g_task_return_new_error(task, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s", err);
    return;
  }
  GArray *objs = g_array_new(FALSE, FALSE, sizeof(WeftSessionObject));
  g_array_set_clear_func(objs, (GDestroyNotify)weft_session_object_clear);
  int rc = weft_session_read_objects(db, objs);
  WeftQuery q;
  weft_query_init(&q, db, NULL, 0, NULL);
  for (guint i = 0; i < job->threads->len; i++) { /* (read whether or not the objects were) */
    ThreadTotals *t = &g_array_index(job->threads, ThreadTotals, i);
    t->rc = weft_query_state_sums(&q, t->utid, t->level, t->tot, NULL);
  }
  weft_query_clear(&q);
  sqlite3_close(db);
  if (rc < 0) {
    g_array_unref(objs);
    g_task_return_new_error(task, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot read the sync objects");
    return;
  }
  g_task_return_pointer(task, objs, (GDestroyNotify)g_array_unref);
}

/* The threads table, from their totals read on the worker (ObjectsJob). */
static void fill_threads(WeftWindow *self, const GArray *totals) {
  WeftSession *ss = self->session;
  for (guint i = 0; i < weft_session_get_n_threads(ss); i++) {
    const WeftSessionThread *t = weft_session_get_thread(ss, i);
    const ThreadTotals *tt = i < totals->len ? &g_array_index(totals, ThreadTotals, i) : NULL;
    if (!t || !tt || tt->utid != t->utid) continue;
    const int64_t *tot = tt->tot;
    int64_t wait = 0;
    int top = -1;
    for (int s = 1; s < WEFT_ST_COUNT; s++) {
      wait += tot[s];
      if (tot[s] > 0 && (top < 0 || tot[s] > tot[top])) top = s;
    }
    char b[7][160];
    const char *cells[7];
    double nums[7];
    int pid = 0;
    for (guint p = 0; p < weft_session_get_n_processes(ss); p++)
      if (weft_session_get_process(ss, p)->upid == t->upid) pid = weft_session_get_process(ss, p)->pid;
    g_snprintf(b[0], sizeof b[0], "%s [%d]", t->name, t->tid), nums[0] = NAN;
    g_snprintf(b[1], sizeof b[1], "%d", pid), nums[1] = pid;
    weft_format_ns(b[2], sizeof b[2], t->start_ns), nums[2] = (double)t->start_ns;
    weft_format_ns(b[3], sizeof b[3], t->end_ns - t->start_ns), nums[3] = (double)(t->end_ns - t->start_ns);
    weft_format_ns(b[4], sizeof b[4], tot[WEFT_ST_RUNNING]), nums[4] = (double)tot[WEFT_ST_RUNNING];
    weft_format_ns(b[5], sizeof b[5], wait), nums[5] = (double)wait;
    g_strlcpy(b[6], top >= 0 ? weft_state_name(top) : "", sizeof b[6]), nums[6] = NAN;
    for (int c = 0; c < 7; c++) cells[c] = b[c];
    weft_table_append(self->threads_table, t->utid, cells, nums);
  }
  weft_table_sort(self->threads_table, 0, FALSE);
  weft_table_sort(self->threads_table, 3, TRUE);
}

static void fill_objects(WeftWindow *self, GArray *objs) {
  if (!self->object_kinds) self->object_kinds = g_hash_table_new(g_direct_hash, g_direct_equal);
  if (!self->object_names) self->object_names = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
  g_hash_table_remove_all(self->object_kinds);
  g_hash_table_remove_all(self->object_names);
  for (guint i = 0; i < objs->len; i++) {
    const WeftSessionObject *o = &g_array_index(objs, WeftSessionObject, i);
    char b[9][160];
    const char *cells[9];
    double nums[9];
    g_strlcpy(b[0], o->name, sizeof b[0]), nums[0] = NAN;
    g_strlcpy(b[1], o->row.kind, sizeof b[1]), nums[1] = NAN;
    g_snprintf(b[2], sizeof b[2], "%d", o->row.pid), nums[2] = o->row.pid;
    weft_format_ns(b[3], sizeof b[3], o->row.wait_ns), nums[3] = (double)o->row.wait_ns;
    g_snprintf(b[4], sizeof b[4], "%" G_GINT64_FORMAT, o->row.waits), nums[4] = (double)o->row.waits;
    weft_format_ns(b[5], sizeof b[5], o->row.max_wait_ns), nums[5] = (double)o->row.max_wait_ns;
    g_snprintf(b[6], sizeof b[6], "%" G_GINT64_FORMAT, o->row.contended), nums[6] = (double)o->row.contended;
    g_snprintf(b[7], sizeof b[7], "%" G_GINT64_FORMAT, o->row.acquisitions), nums[7] = (double)o->row.acquisitions;
    weft_format_ns(b[8], sizeof b[8], o->row.hold_ns), nums[8] = (double)o->row.hold_ns;
    for (int c = 0; c < 9; c++) cells[c] = b[c];
    weft_table_append(self->objects_table, o->row.object_id, cells, nums);
    g_hash_table_insert(self->object_kinds, GSIZE_TO_POINTER((gsize)o->row.object_id),
                        (gpointer)g_intern_string(o->row.kind));
    g_hash_table_insert(self->object_names, GSIZE_TO_POINTER((gsize)o->row.object_id), g_strdup(o->name));
  }
  weft_table_sort(self->objects_table, 3, TRUE);
}

/* data: a reference to the window */
static void on_objects_read(GObject *source, GAsyncResult *res, gpointer data) {
  WeftWindow *self = data;
  ObjectsJob *job = g_task_get_task_data(G_TASK(res));
  GError *error = NULL;
  GArray *objs = g_task_propagate_pointer(G_TASK(res), &error);
  if (job->gen == self->objects_gen && self->objects_table) {
    self->objects_busy = FALSE;
    fill_threads(self, job->threads); /* (whether or not the objects could be read, as before) */
    if (objs) {
      fill_objects(self, objs);
      gtk_widget_set_visible(self->objects_status, FALSE);
    } else {
      gtk_label_set_text(GTK_LABEL(self->objects_status), error ? error->message : "cannot read the sync objects");
    }
  }
  if (objs) g_array_unref(objs);
  g_clear_error(&error);
  g_object_unref(self);
}

static void start_objects(WeftWindow *self) {
  ObjectsJob *job = g_new0(ObjectsJob, 1);
  job->path = g_strdup(weft_session_get_path(self->session));
  WeftSession *ss = self->session;
  job->threads = g_array_sized_new(FALSE, TRUE, sizeof(ThreadTotals), weft_session_get_n_threads(ss));
  for (guint i = 0; i < weft_session_get_n_threads(ss); i++) {
    const WeftSessionThread *t = weft_session_get_thread(ss, i);
    ThreadTotals tt = {.utid = t->utid, .level = t->max_level, .rc = -1};
    g_array_append_val(job->threads, tt);
  }
  job->gen = ++self->objects_gen;
  self->objects_busy = TRUE;
  gtk_label_set_text(GTK_LABEL(self->objects_status), "reading the sync objects…");
  gtk_widget_set_visible(self->objects_status, TRUE);
  GTask *task = g_task_new(NULL, NULL, on_objects_read, g_object_ref(self));
  g_task_set_task_data(task, job, (GDestroyNotify)objects_job_free);
  g_task_run_in_thread(task, objects_thread);
  g_object_unref(task);
}

/* ---- the tables of the whole recording ---- */

/* A what-if bar's replay arrived: its rows are the timeline's replayed rows. */
static void on_whatif_replayed(WeftWhatIfBar *bar, WeftWindow *self) {
  weft_timeline_set_replay(self->timeline, weft_whatif_bar_get_rows(bar));
}

static void fill_tables(WeftWindow *self) {
  static const WeftTableColumn tcols[] = {
      {"Thread", "label", FALSE, TRUE},
      {"PID", "pid", TRUE, FALSE},
      {"Start", "start_ns", TRUE, FALSE},
      {"Lifetime", "lifetime_ns", TRUE, FALSE},
      {"Running", "running_ns", TRUE, FALSE},
      {"Waiting", "wait_ns", TRUE, FALSE},
      {"Mostly waiting in", "top_wait", FALSE, FALSE},
  };
  static const WeftTableColumn ocols[] = {
      {"Object", "label", FALSE, TRUE},
      {"Kind", "kind", FALSE, FALSE},
      {"PID", "pid", TRUE, FALSE},
      {"Wait total", "wait_ns", TRUE, FALSE},
      {"Waits", "waits", TRUE, FALSE},
      {"Max wait", "wait_max_ns", TRUE, FALSE},
      {"Contended", "contended", TRUE, FALSE},
      {"Acquisitions", "acquisitions", TRUE, FALSE},
      {"Hold total", "hold_ns", TRUE, FALSE},
  };
  if (self->threads_table) gtk_box_remove(self->threads_box, self->threads_table);
  if (self->objects_table) gtk_box_remove(self->objects_box, self->objects_table);
  self->threads_table = weft_table_new(tcols, G_N_ELEMENTS(tcols), "utid");
  self->objects_table = weft_table_new(ocols, G_N_ELEMENTS(ocols), "object_id");
  gtk_box_append(self->threads_box, self->threads_table);
  gtk_box_append(self->objects_box, self->objects_table);
  for (int k = 0; k < 2; k++) { /* the what-if bars go under the new tables */
    WeftWhatIfBar **bar = k ? &self->objects_whatif : &self->threads_whatif;
    GtkBox *box = k ? self->objects_box : self->threads_box;
    if (*bar) gtk_box_remove(box, GTK_WIDGET(*bar));
    *bar = weft_whatif_bar_new();
    weft_whatif_bar_set_session(*bar, self->session);
    g_signal_connect(*bar, "replayed", G_CALLBACK(on_whatif_replayed), self);
    /* its toggle is the timeline's (Shift+R there) */
    g_object_bind_property(self->timeline, "show-replay", weft_whatif_bar_get_rows_toggle(*bar), "active",
                           G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
    gtk_box_append(box, GTK_WIDGET(*bar));
  }
  weft_timeline_set_replay(self->timeline, NULL); /* (another recording's) */
  weft_table_set_select_func(self->threads_table, on_thread_row, self);
  weft_table_set_select_func(self->objects_table, on_object_row, self);
  start_objects(self);
}

/* ---- the page buttons ----
 *
 * GtkStackSwitcher's buttons are as wide as the widest, all on one line:
 * five of them kept the side panel at least 670 pixels wide. These wrap. */

static void on_page_button(GtkToggleButton *b, WeftWindow *self) {
  if (gtk_toggle_button_get_active(b))
    gtk_stack_set_visible_child_name(self->side_stack, g_object_get_data(G_OBJECT(b), "page"));
}

/* The stack's page changed (a button, a key, the code): its button is the active one. */
static void on_page_shown(WeftWindow *self) {
  const char *page = gtk_stack_get_visible_child_name(self->side_stack);
  for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(self->page_buttons)); c;
       c = gtk_widget_get_next_sibling(c)) {
    GtkToggleButton *b = GTK_TOGGLE_BUTTON(gtk_flow_box_child_get_child(GTK_FLOW_BOX_CHILD(c)));
    gboolean mine = !g_strcmp0(g_object_get_data(G_OBJECT(b), "page"), page);
    /* (a page without a button, none is active) */
    if (mine || gtk_toggle_button_get_active(b)) gtk_toggle_button_set_active(b, mine);
  }
}

/* The pages reached from the header bar (the search field, the Path button)
 * and their keys have no button: the five others stay on one line. */
static gboolean has_button(const char *page) {
  return strcmp(page, "critpath") != 0 && strcmp(page, "search") != 0 && strcmp(page, "waits") != 0;
}

/* A button for page, in the group of the others. */
static void add_page_button(WeftWindow *self, GtkStackPage *page) {
  GtkWidget *first = gtk_widget_get_first_child(GTK_WIDGET(self->page_buttons));
  GtkWidget *b = gtk_toggle_button_new_with_label(gtk_stack_page_get_title(page));
  g_object_set_data_full(G_OBJECT(b), "page", g_strdup(gtk_stack_page_get_name(page)), g_free);
  gtk_widget_set_focus_on_click(b, FALSE);
  gtk_widget_add_css_class(b, "weft-page");
  if (first)
    gtk_toggle_button_set_group(GTK_TOGGLE_BUTTON(b),
                                GTK_TOGGLE_BUTTON(gtk_flow_box_child_get_child(GTK_FLOW_BOX_CHILD(first))));
  g_signal_connect(b, "toggled", G_CALLBACK(on_page_button), self);
  gtk_flow_box_append(self->page_buttons, b);
}

static void make_page_buttons(WeftWindow *self) {
  /* compact: the five fit on one line of a 340-pixel panel */
  static GtkCssProvider *css;
  if (!css) {
    css = gtk_css_provider_new();
    gtk_css_provider_load_from_data(css, "button.weft-page { padding: 2px 5px; min-height: 22px; }", -1);
    gtk_style_context_add_provider_for_display(gtk_widget_get_display(GTK_WIDGET(self)), GTK_STYLE_PROVIDER(css),
                                               GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  }
  for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(self->side_stack)); c; c = gtk_widget_get_next_sibling(c)) {
    GtkStackPage *page = gtk_stack_get_page(self->side_stack, c);
    if (has_button(gtk_stack_page_get_name(page))) add_page_button(self, page);
  }
  g_signal_connect_swapped(self->side_stack, "notify::visible-child", G_CALLBACK(on_page_shown), self);
  on_page_shown(self);
}

/* ---- opening ---- */

/* The recording's lists (processes, threads, locks) are read on a worker
 * while the GTK thread goes on drawing and handling events: no database
 * read on the GTK thread, even at the open. */
typedef struct {
  char *path;
  WeftSession *session;
  GError *error;
  gboolean done;
} OpenJob;

static void open_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  OpenJob *job = data;
  job->session = weft_session_open(job->path, &job->error);
  g_task_return_boolean(task, TRUE);
}

static void on_opened(GObject *source, GAsyncResult *res, gpointer data) { ((OpenJob *)data)->done = TRUE; }

static WeftSession *open_on_worker(const char *path, GError **error) {
  OpenJob job = {g_strdup(path), NULL, NULL, FALSE};
  GTask *task = g_task_new(NULL, NULL, on_opened, &job);
  g_task_set_task_data(task, &job, NULL);
  g_task_run_in_thread(task, open_thread);
  g_object_unref(task);
  while (!job.done) g_main_context_iteration(NULL, TRUE);
  g_free(job.path);
  if (!job.session) g_propagate_error(error, job.error);
  return job.session;
}

gboolean weft_window_open(WeftWindow *self, const char *path) {
  GError *error = NULL;
  WeftSession *s = open_on_worker(path, &error);
  if (!s) {
    show_error(self, error->message);
    g_error_free(error);
    return FALSE;
  }
  weft_timeline_set_session(self->timeline, s);
  weft_selection_panel_set_session(self->selection_panel, s);
  weft_findings_panel_set_session(self->findings_panel, self->no_findings ? NULL : s);
  weft_search_panel_set_session(self->search_panel, s);
  weft_waits_panel_set_session(self->waits_panel, s);
  if (self->compare_panel) weft_compare_panel_set_session(self->compare_panel, s);
  if (self->critpath_cancel) g_cancellable_cancel(self->critpath_cancel);
  g_clear_object(&self->critpath_cancel);
  weft_critpath_panel_set_path(self->critpath_panel, NULL, FALSE, NULL);
  gtk_editable_set_text(GTK_EDITABLE(self->search_entry), "");
  weft_session_free(self->session);
  self->session = s;
  fill_tables(self);
  forget_details_read(self);
  gtk_label_set_label(self->details_label, DETAILS_HINT);
  const char *cmd = weft_session_get_command(s);
  gtk_window_set_title(GTK_WINDOW(self), cmd[0] ? cmd : path);
  gtk_label_set_label(self->title_label, cmd[0] ? cmd : path);
  char *base = g_path_get_basename(path);
  gtk_label_set_label(self->subtitle_label, base);
  g_free(base);
  gtk_widget_grab_focus(GTK_WIDGET(self->timeline));
  if (weft_timeline_get_show_critical_path(self->timeline)) on_critpath_notify(self); /* the new one's */
  return TRUE;
}

static void on_open_response(GtkNativeDialog *dialog, int response, WeftWindow *self) {
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    char *path = file ? g_file_get_path(file) : NULL;
    if (path)
      weft_window_open(self, path);
    else if (file)
      show_error(self, "only local files can be opened");
    g_free(path);
    g_clear_object(&file);
  }
  g_object_unref(dialog);
}

static void action_open(GtkWidget *w, const char *name, GVariant *param) {
  GtkFileChooserNative *d =
      gtk_file_chooser_native_new("Open a recording", GTK_WINDOW(w), GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  GtkFileFilter *f = gtk_file_filter_new();
  gtk_file_filter_set_name(f, "weft recordings (*.db)");
  gtk_file_filter_add_pattern(f, "*.db");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
  g_object_unref(f);
  f = gtk_file_filter_new();
  gtk_file_filter_set_name(f, "all files");
  gtk_file_filter_add_pattern(f, "*");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
  g_object_unref(f);
  g_signal_connect(d, "response", G_CALLBACK(on_open_response), w);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static gboolean on_drop(GtkDropTarget *target, const GValue *value, double x, double y, WeftWindow *self) {
  if (!G_VALUE_HOLDS(value, G_TYPE_FILE)) return FALSE;
  char *path = g_file_get_path(g_value_get_object(value));
  if (!path) {
    show_error(self, "only local files can be opened");
    return FALSE;
  }
  gboolean ok = weft_window_open(self, path);
  g_free(path);
  return ok;
}

/* win.zoom-in etc. forward to the timeline's own actions */
static void action_forward(GtkWidget *w, const char *name, GVariant *param) {
  WeftWindow *self = WEFT_WINDOW(w);
  char *target = g_strconcat("timeline.", name + strlen("win."), NULL);
  gtk_widget_activate_action(GTK_WIDGET(self->timeline), target, NULL);
  g_free(target);
}

static void action_page(GtkWidget *w, const char *name, GVariant *param) {
  WeftWindow *self = WEFT_WINDOW(w);
  const char *page = name + strlen("win.page-");
  if (!gtk_stack_get_child_by_name(self->side_stack, page)) return; /* Compare without --compare */
  gtk_stack_set_visible_child_name(self->side_stack, page);
  GtkWidget *child = gtk_stack_get_visible_child(self->side_stack);
  if (child) gtk_widget_child_focus(child, GTK_DIR_TAB_FORWARD);
}

static void action_focus_timeline(GtkWidget *w, const char *name, GVariant *param) {
  gtk_widget_grab_focus(GTK_WIDGET(WEFT_WINDOW(w)->timeline));
}

static void on_selection_changed(WeftTimeline *tl, WeftWindow *self) {
  int64_t a, b;
  gboolean has = weft_timeline_get_selection(tl, &a, &b);
  weft_selection_panel_set_range(self->selection_panel, has, a, b, 150);
  if (!self->no_findings) weft_findings_panel_set_range(self->findings_panel, has, a, b, 150);
  weft_waits_panel_set_range(self->waits_panel, has, a, b);
  /* the findings and waits pages follow the selection; the other pages show the selection's numbers */
  const char *page = gtk_stack_get_visible_child_name(self->side_stack);
  if (has && g_strcmp0(page, "findings") != 0 && g_strcmp0(page, "waits") != 0)
    gtk_stack_set_visible_child_name(self->side_stack, "selection");
}

static void on_flows_toggled(GtkToggleButton *b, WeftWindow *self) {
  weft_timeline_set_show_flows(self->timeline, gtk_toggle_button_get_active(b));
}

static void on_flows_notify(WeftWindow *self) {
  /* the timeline's F key: keep the button in step */
  gboolean on = weft_timeline_get_show_flows(self->timeline);
  if (gtk_toggle_button_get_active(self->flows_button) != on) gtk_toggle_button_set_active(self->flows_button, on);
}

/* ---- the flows' popover: kinds and scope ---- */

static void on_flow_kind_toggled(GtkCheckButton *b, WeftWindow *self) {
  guint kinds = weft_timeline_get_flow_kinds(self->timeline);
  for (int k = 1; k < WEFT_FLOW_COUNT; k++)
    if (b == self->flow_kind_checks[k]) kinds = gtk_check_button_get_active(b) ? kinds | 1u << k : kinds & ~(1u << k);
  weft_timeline_set_flow_kinds(self->timeline, kinds);
}

static void on_flow_scope_toggled(GtkCheckButton *b, WeftWindow *self) {
  for (int k = 0; k < 3; k++)
    if (b == self->flow_scope_checks[k] && gtk_check_button_get_active(b))
      weft_timeline_set_flow_scope(self->timeline, (WeftFlowScope)k);
}

/* The timeline's kinds or scope changed (an action, a check): the checks follow. */
static void on_flow_filter_notify(WeftWindow *self) {
  guint kinds = weft_timeline_get_flow_kinds(self->timeline);
  for (int k = 1; k < WEFT_FLOW_COUNT; k++)
    if (gtk_check_button_get_active(self->flow_kind_checks[k]) != !!(kinds & 1u << k))
      gtk_check_button_set_active(self->flow_kind_checks[k], !!(kinds & 1u << k));
  GtkCheckButton *scope = self->flow_scope_checks[weft_timeline_get_flow_scope(self->timeline)];
  if (!gtk_check_button_get_active(scope)) gtk_check_button_set_active(scope, TRUE);
}

static void make_flows_popover(WeftWindow *self) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new("Flows shown");
  gtk_widget_add_css_class(title, "heading");
  gtk_label_set_xalign(GTK_LABEL(title), 0);
  gtk_box_append(GTK_BOX(box), title);
  guint kinds = weft_timeline_get_flow_kinds(self->timeline);
  for (int k = 1; k < WEFT_FLOW_COUNT; k++) {
    GtkWidget *c = gtk_check_button_new_with_label(weft_flow_kind_label(k, TRUE));
    gtk_check_button_set_active(GTK_CHECK_BUTTON(c), !!(kinds & 1u << k));
    g_signal_connect(c, "toggled", G_CALLBACK(on_flow_kind_toggled), self);
    self->flow_kind_checks[k] = GTK_CHECK_BUTTON(c);
    gtk_box_append(GTK_BOX(box), c);
  }
  gtk_box_append(GTK_BOX(box), gtk_separator_new(GTK_ORIENTATION_HORIZONTAL));
  static const char *const scopes[3] = {"Of every object and thread", "Only the highlighted object",
                                        "Only the highlighted thread"};
  for (int k = 0; k < 3; k++) {
    GtkWidget *c = gtk_check_button_new_with_label(scopes[k]);
    if (k) gtk_check_button_set_group(GTK_CHECK_BUTTON(c), self->flow_scope_checks[0]);
    gtk_check_button_set_active(GTK_CHECK_BUTTON(c), k == (int)weft_timeline_get_flow_scope(self->timeline));
    g_signal_connect(c, "toggled", G_CALLBACK(on_flow_scope_toggled), self);
    self->flow_scope_checks[k] = GTK_CHECK_BUTTON(c);
    gtk_box_append(GTK_BOX(box), c);
  }
  GtkWidget *pop = gtk_popover_new();
  gtk_popover_set_child(GTK_POPOVER(pop), box);
  gtk_menu_button_set_popover(self->flows_menu, pop);
  g_signal_connect_swapped(self->timeline, "notify::flow-kinds", G_CALLBACK(on_flow_filter_notify), self);
  g_signal_connect_swapped(self->timeline, "notify::flow-scope", G_CALLBACK(on_flow_filter_notify), self);
}

static void weft_window_dispose(GObject *object) {
  WeftWindow *self = WEFT_WINDOW(object);
  forget_details_read(self);
  gtk_widget_dispose_template(GTK_WIDGET(self), WEFT_TYPE_WINDOW);
  G_OBJECT_CLASS(weft_window_parent_class)->dispose(object);
}

static void weft_window_finalize(GObject *object) {
  WeftWindow *self = WEFT_WINDOW(object);
  if (self->critpath_cancel) g_cancellable_cancel(self->critpath_cancel);
  g_clear_object(&self->critpath_cancel);
  weft_session_free(self->session);
  if (self->object_kinds) g_hash_table_destroy(self->object_kinds);
  if (self->object_names) g_hash_table_destroy(self->object_names);
  G_OBJECT_CLASS(weft_window_parent_class)->finalize(object);
}

static void weft_window_class_init(WeftWindowClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->dispose = weft_window_dispose;
  object_class->finalize = weft_window_finalize;
  g_type_ensure(WEFT_TYPE_TIMELINE);
  g_type_ensure(WEFT_TYPE_FINDINGS_PANEL);
  g_type_ensure(WEFT_TYPE_SELECTION_PANEL);
  g_type_ensure(WEFT_TYPE_SEARCH_PANEL);
  g_type_ensure(WEFT_TYPE_CRITPATH_PANEL);
  g_type_ensure(WEFT_TYPE_WAITS_PANEL);
  gtk_widget_class_set_template_from_resource(widget_class, "/org/weft/Gui/weft-window.ui");
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, timeline);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, title_label);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, subtitle_label);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, side);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, side_stack);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, page_buttons);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, selection_panel);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, findings_panel);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, search_panel);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, critpath_panel);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, waits_panel);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, critpath_button);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, search_entry);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, details_label);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, threads_box);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, objects_box);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, flows_button);
  gtk_widget_class_bind_template_child(widget_class, WeftWindow, flows_menu);
  gtk_widget_class_install_action(widget_class, "win.open", NULL, action_open);
  static const char *const forwarded[] = {
      "win.zoom-in",        "win.zoom-out",        "win.fit",   "win.pan-left",     "win.pan-right",
      "win.zoom-selection", "win.clear-selection", "win.flows", "win.collapse-all", "win.critical-path"};
  for (guint i = 0; i < G_N_ELEMENTS(forwarded); i++)
    gtk_widget_class_install_action(widget_class, forwarded[i], NULL, action_forward);
  static const char *const pages[] = {"win.page-findings", "win.page-selection", "win.page-details",
                                      "win.page-threads",  "win.page-locks",     "win.page-critpath",
                                      "win.page-search",   "win.page-waits",     "win.page-compare"};
  for (guint i = 0; i < G_N_ELEMENTS(pages); i++)
    gtk_widget_class_install_action(widget_class, pages[i], NULL, action_page);
  gtk_widget_class_install_action(widget_class, "win.focus-timeline", NULL, action_focus_timeline);
  gtk_widget_class_install_action(widget_class, "win.search", NULL, action_search);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "win.search", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_1, GDK_ALT_MASK, "win.page-findings", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_2, GDK_ALT_MASK, "win.page-selection", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_3, GDK_ALT_MASK, "win.page-details", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_4, GDK_ALT_MASK, "win.page-threads", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_5, GDK_ALT_MASK, "win.page-locks", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_6, GDK_ALT_MASK, "win.page-critpath", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_7, GDK_ALT_MASK, "win.page-search", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_8, GDK_ALT_MASK, "win.page-waits", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_9, GDK_ALT_MASK, "win.page-compare", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_t, GDK_CONTROL_MASK, "win.focus-timeline", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_question, 0, "win.show-help-overlay", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_question, GDK_SHIFT_MASK, "win.show-help-overlay", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F1, 0, "win.show-help-overlay", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_F9, 0, "win.side-panel", NULL);
}

static void weft_window_init(WeftWindow *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  self->show_worst_of = -1;
  self->objects_status = gtk_label_new(NULL);
  gtk_label_set_xalign(GTK_LABEL(self->objects_status), 0);
  gtk_widget_add_css_class(self->objects_status, "dim-label");
  gtk_widget_set_margin_start(self->objects_status, 8);
  gtk_widget_set_visible(self->objects_status, FALSE);
  gtk_box_append(self->objects_box, self->objects_status);
  g_signal_connect(self->timeline, "selection-changed", G_CALLBACK(on_selection_changed), self);
  g_signal_connect(self->timeline, "span-pending", G_CALLBACK(on_span_pending), self);
  g_signal_connect(self->timeline, "span-selected", G_CALLBACK(on_span_selected), self);
  g_signal_connect(self->timeline, "lock-selected", G_CALLBACK(on_lock_selected), self);
  g_signal_connect(self->timeline, "highlight-ready", G_CALLBACK(on_highlight_ready), self);
  g_signal_connect(self->timeline, "highlight-cleared", G_CALLBACK(on_highlight_cleared), self);
  g_signal_connect(self->selection_panel, "object-activated", G_CALLBACK(on_panel_object), self);
  g_signal_connect(self->selection_panel, "thread-activated", G_CALLBACK(on_panel_thread), self);
  g_signal_connect(self->findings_panel, "finding-activated", G_CALLBACK(on_finding_activated), self);
  g_signal_connect(self->search_panel, "result-activated", G_CALLBACK(on_search_result), self);
  g_signal_connect(self->critpath_panel, "segment-activated", G_CALLBACK(on_critpath_segment), self);
  g_signal_connect(self->critpath_panel, "thread-activated", G_CALLBACK(on_critpath_thread), self);
  g_signal_connect(self->waits_panel, "frame-activated", G_CALLBACK(on_waits_frame), self);
  g_signal_connect(self->critpath_button, "toggled", G_CALLBACK(on_critpath_toggled), self);
  g_signal_connect_swapped(self->timeline, "notify::show-critical-path", G_CALLBACK(on_critpath_notify), self);
  g_signal_connect(self->search_entry, "search-changed", G_CALLBACK(on_search_changed), self);
  g_signal_connect(self->search_entry, "activate", G_CALLBACK(on_search_activate), self);
  g_signal_connect(self->search_entry, "stop-search", G_CALLBACK(on_search_stop), self);
  g_signal_connect(self->flows_button, "toggled", G_CALLBACK(on_flows_toggled), self);
  g_signal_connect_swapped(self->timeline, "notify::show-flows", G_CALLBACK(on_flows_notify), self);
  make_flows_popover(self);
  /* (the paned, the window's own child, is not a bound template child:
   * gtk_widget_dispose_template would unparent it under GtkWindow's feet) */
  self->paned = GTK_PANED(gtk_window_get_child(GTK_WINDOW(self)));
  /* the content draws the theme's window background itself: a rendering of
   * it alone (--screenshot --window) is opaque, and light text of a dark
   * theme (the Findings title) is not put on a transparent background */
  gtk_widget_add_css_class(GTK_WIDGET(self->paned), "background");
  weft_window_reset_layout(self);
  make_page_buttons(self);
  /* F9 and the header's toggle: the side panel shown or hidden (the timeline takes the window) */
  GPropertyAction *side = g_property_action_new("side-panel", self->side, "visible");
  g_action_map_add_action(G_ACTION_MAP(self), G_ACTION(side));
  g_object_unref(side);

  GtkDropTarget *drop = gtk_drop_target_new(G_TYPE_FILE, GDK_ACTION_COPY);
  g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));

  GtkBuilder *b = gtk_builder_new_from_resource("/org/weft/Gui/weft-shortcuts.ui");
  GtkShortcutsWindow *help = GTK_SHORTCUTS_WINDOW(gtk_builder_get_object(b, "help_overlay"));
  gtk_application_window_set_help_overlay(GTK_APPLICATION_WINDOW(self), help);
  g_object_unref(b);
}

WeftWindow *weft_window_new(GtkApplication *app) { return g_object_new(WEFT_TYPE_WINDOW, "application", app, NULL); }

/* The side panel's default width: the timeline gets most of the window. */
#define SIDE_SHARE 0.3
#define SIDE_MIN   300 /* the side box's width-request (weft-window.ui) */
#define SIDE_MAX   480

void weft_window_reset_layout(WeftWindow *self) {
  int w, h;
  gtk_window_get_default_size(GTK_WINDOW(self), &w, &h);
  gtk_paned_set_position(self->paned, w - CLAMP((int)(w * SIDE_SHARE), SIDE_MIN, SIDE_MAX));
}

void weft_window_write_layout_json(WeftWindow *self, GString *out) {
  int min = 0, nat = 0;
  gtk_widget_measure(self->side, GTK_ORIENTATION_HORIZONTAL, -1, &min, &nat, NULL, NULL);
  g_string_append_printf(out,
                         "{\"width\": %d, \"timeline_width\": %d, \"side_visible\": %s, \"side_width\": %d, "
                         "\"side_min_width\": %d}",
                         gtk_widget_get_width(GTK_WIDGET(self->paned)),
                         gtk_widget_get_width(GTK_WIDGET(self->timeline)),
                         gtk_widget_get_visible(self->side) ? "true" : "false",
                         gtk_widget_get_visible(self->side) ? gtk_widget_get_width(self->side) : 0, min);
}

void weft_window_set_quiet_errors(WeftWindow *self, gboolean quiet) { self->quiet_errors = quiet; }
void weft_window_set_findings_enabled(WeftWindow *self, gboolean enabled) { self->no_findings = !enabled; }
WeftTimeline *weft_window_get_timeline(WeftWindow *self) { return self->timeline; }
WeftSelectionPanel *weft_window_get_selection_panel(WeftWindow *self) { return self->selection_panel; }
WeftFindingsPanel *weft_window_get_findings_panel(WeftWindow *self) { return self->findings_panel; }

void weft_window_set_timeline_only(WeftWindow *self, gboolean only) {
  /* (the header bar stays: without it, on X11, GTK keeps the window inside
   * the screen even when its content asks for more) */
  gtk_widget_set_visible(self->side, !only);
}

void weft_window_activate_object(WeftWindow *self, int64_t object_id) {
  if (!self->session) return;
  gtk_stack_set_visible_child_name(self->side_stack, "locks");
  if (!self->objects_table || !weft_table_select_id(self->objects_table, object_id)) activate_object(self, object_id);
}

gboolean weft_window_is_busy(WeftWindow *self) {
  return self->objects_busy || self->details_cancel || weft_search_panel_is_busy(self->search_panel) ||
         self->critpath_cancel || (self->objects_whatif && weft_whatif_bar_is_busy(self->objects_whatif)) ||
         (self->threads_whatif && weft_whatif_bar_is_busy(self->threads_whatif)) ||
         weft_waits_panel_is_busy(self->waits_panel) ||
         (self->compare_panel && weft_compare_panel_is_busy(self->compare_panel));
}

void weft_window_set_compare(WeftWindow *self, const char *before_path) {
  if (self->compare_panel) return;
  GtkWidget *p = weft_compare_panel_new(before_path);
  self->compare_panel = WEFT_COMPARE_PANEL(p);
  add_page_button(self, gtk_stack_add_titled(self->side_stack, p, "compare", "Compare"));
  if (self->session) weft_compare_panel_set_session(self->compare_panel, self->session);
}

void weft_window_write_compare_json(WeftWindow *self, GString *out) {
  if (self->compare_panel)
    weft_compare_panel_write_json(self->compare_panel, out);
  else
    g_string_append(out, "null");
}

/* Replay the recording with spec (--what-if), on the Sync objects page's bar. */
void weft_window_what_if(WeftWindow *self, const char *spec) {
  if (!self->objects_whatif) return;
  gtk_widget_set_visible(GTK_WIDGET(self->objects_whatif), TRUE);
  weft_whatif_bar_run(self->objects_whatif, spec);
}

void weft_window_write_what_if_json(WeftWindow *self, GString *out) {
  if (self->objects_whatif)
    weft_whatif_bar_write_json(self->objects_whatif, out);
  else
    g_string_append(out, "null");
}

WeftWaitsPanel *weft_window_get_waits_panel(WeftWindow *self) { return self->waits_panel; }

WeftCritPathPanel *weft_window_get_critpath_panel(WeftWindow *self) { return self->critpath_panel; }

void weft_window_search(WeftWindow *self, const char *text) {
  weft_search_panel_set_query(self->search_panel, text);
  gtk_editable_set_text(GTK_EDITABLE(self->search_entry), text);
  gtk_stack_set_visible_child_name(self->side_stack, "search");
}

WeftSearchPanel *weft_window_get_search_panel(WeftWindow *self) { return self->search_panel; }

void weft_window_show_page(WeftWindow *self, const char *page) {
  gtk_stack_set_visible_child_name(self->side_stack, page);
}

const char *weft_window_get_page(WeftWindow *self) { return gtk_stack_get_visible_child_name(self->side_stack); }

void weft_window_write_details_json(WeftWindow *self, GString *out) {
  WeftSpan span;
  if (!weft_timeline_get_span(self->timeline, &span)) {
    g_string_append(out, "null");
    return;
  }
  g_string_append_printf(out,
                         "{\"utid\": %" G_GINT64_FORMAT ", \"start_ns\": %" G_GINT64_FORMAT
                         ", \"dur_ns\": %" G_GINT64_FORMAT ", \"state\": \"%s\", \"object_id\": %" G_GINT64_FORMAT
                         ", \"text\": ",
                         span.utid, span.start_ns, span.dur_ns, weft_state_name(span.state), span.object_id);
  weft_json_append(out, gtk_label_get_text(self->details_label));
  g_string_append_c(out, '}');
}
