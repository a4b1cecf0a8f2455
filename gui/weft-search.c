/* weft-search.c - the Search page: threads, processes, sync objects, functions and files by name.
 * SPDX-License-Identifier: MIT
 *
 * What can be found is an index (a list of WeftFound) made once per
 * recording: the threads and processes from the session (copied on the GTK
 * thread), the sync objects with their display names and the functions and
 * files of the frames of the call stacks (C and Python frames alike: the
 * store has both) read on a worker (weft_session_read_async). Each search
 * is a job on a worker too: the first builds the index and looks in it,
 * the later ones only look (the index is immutable once built and shared
 * by reference). A job has a generation; results of an older one are
 * dropped, so typing replaces the search under way.
 */
#include "config.h"

#include "weft-search.h"

#include <string.h>

#include "naming.h"
#include "query.h"
#include "weft-json.h"
#include "weft-table.h"

#define MAX_SHOWN 200 /* results listed; the rest are counted */

typedef struct {
  gint ref;
  GPtrArray *found; /* WeftFound* */
} Index;

struct _WeftSearchPanel {
  GtkBox parent_instance;
  WeftSession *session;
  GtkLabel *title, *status, *note;
  GtkListBox *list;
  Index *index;  /* once read; NULL before the first search */
  GArray *hits;  /* guint indices into index->found, shown */
  guint matched; /* how many matched (hits: the first MAX_SHOWN) */
  char *query;   /* of the hits */
  GCancellable *cancellable;
  guint gen;
  gboolean busy;
};

enum { SIG_RESULT_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(WeftSearchPanel, weft_search_panel, GTK_TYPE_BOX)

static void found_free(WeftFound *f) {
  g_free(f->name);
  g_free(f->key);
  g_free(f->what);
  g_free(f->detail);
  g_free(f->haystack);
  g_free(f);
}

static WeftFound *found_new(WeftFoundKind kind, int64_t id, const char *name, const char *what, char *detail,
                            const char *extra) {
  WeftFound *f = g_new0(WeftFound, 1);
  f->kind = kind;
  f->id = id;
  f->name = g_strdup(name);
  f->what = g_strdup(what);
  f->detail = detail;
  char *text = extra ? g_strconcat(name, " ", extra, NULL) : g_strdup(name);
  f->haystack = g_utf8_casefold(text, -1);
  g_free(text);
  return f;
}

static Index *index_ref(Index *ix) {
  g_atomic_int_inc(&ix->ref);
  return ix;
}

static void index_unref(Index *ix) {
  if (!ix || !g_atomic_int_dec_and_test(&ix->ref)) return;
  g_ptr_array_unref(ix->found);
  g_free(ix);
}

/* ---- the index ---- */

/* The threads and processes of the session (GTK thread). */
static GPtrArray *session_entries(WeftSession *ss) {
  GPtrArray *v = g_ptr_array_new_with_free_func((GDestroyNotify)found_free);
  for (guint p = 0; p < weft_session_get_n_processes(ss); p++) {
    const WeftSessionProcess *pr = weft_session_get_process(ss, p);
    const char *base = weft_base_name(pr->exe);
    char pid[32];
    g_snprintf(pid, sizeof pid, "%d", pr->pid);
    char *name = g_strdup_printf("%s [%d]", base && *base ? base : "?", pr->pid);
    g_ptr_array_add(
        v,
        found_new(WEFT_FOUND_PROCESS, pr->upid, name, "process",
                  g_strdup_printf("%s · %u thread%s", pr->exe, pr->n_threads, pr->n_threads == 1 ? "" : "s"), pr->exe));
    g_free(name);
    for (guint t = 0; t < pr->n_threads; t++) {
      const WeftSessionThread *th = weft_session_get_thread(ss, pr->first_thread + t);
      name = g_strdup_printf("%s [%d]", th->name, th->tid);
      g_ptr_array_add(v, found_new(WEFT_FOUND_THREAD, th->utid, name, "thread",
                                   g_strdup_printf("of process %d %s", pr->pid, base ? base : ""), NULL));
      g_free(name);
    }
  }
  return v;
}

/* The sync objects, by their display names, into v. FALSE on an error. */
static gboolean read_objects(WeftQuery *q, GPtrArray *v) {
  WeftCursor c;
  WeftObjectRow r;
  WeftObjectNamer *namer = weft_object_namer_new(q->sql.db);
  weft_query_object_list(q, &c);
  while (weft_next_object(&c, &r)) {
    char buf[512];
    const char *name = namer ? weft_object_namer_name(namer, r.object_id, buf, sizeof buf)
                             : weft_object_display_name(q->sql.db, r.object_id, buf, sizeof buf);
    char *detail = r.contended > 0
                       ? g_strdup_printf("of process %d · %" G_GINT64_FORMAT " contended", r.pid, r.contended)
                       : g_strdup_printf("of process %d", r.pid);
    g_ptr_array_add(v, found_new(WEFT_FOUND_OBJECT, r.object_id, name, r.kind, detail, r.kind));
  }
  if (namer) weft_object_namer_free(namer);
  return weft_cursor_close(&c) == 0;
}

/* Add a function's or a file's entry to v (one per name: the files of a
 * symbol, the frames of a file are counted together). */
static void add_frame_entry(GHashTable *seen, GPtrArray *v, WeftFoundKind kind, const char *key, const char *other,
                            int64_t stacks) {
  WeftFound *f = g_hash_table_lookup(seen, key);
  if (!f) {
    const char *base = weft_base_name(key);
    f = found_new(kind, -1, kind == WEFT_FOUND_FILE ? base : key, kind == WEFT_FOUND_FILE ? "file" : "function", NULL,
                  kind == WEFT_FOUND_FILE ? key : NULL);
    f->key = g_strdup(key);
    f->detail = g_strdup(other ? other : "");
    g_hash_table_insert(seen, f->key, f);
    g_ptr_array_add(v, f);
  }
  f->stacks += stacks;
}

/* The functions and files of the stacks' frames, into v. FALSE on an error. */
static gboolean read_frames(WeftQuery *q, GPtrArray *v) {
  g_autoptr(GHashTable) fns = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GHashTable) files = g_hash_table_new(g_str_hash, g_str_equal);
  WeftCursor c;
  WeftFrameNameRow r;
  guint first = v->len;
  weft_query_frame_names(q, &c);
  while (weft_next_frame_name(&c, &r)) {
    if (r.symbol && *r.symbol) add_frame_entry(fns, v, WEFT_FOUND_FUNCTION, r.symbol, weft_base_name(r.file), r.stacks);
    if (r.file && *r.file) add_frame_entry(files, v, WEFT_FOUND_FILE, r.file, NULL, r.stacks);
  }
  for (guint i = first; i < v->len; i++) { /* the details, now that the stacks are counted */
    WeftFound *f = g_ptr_array_index(v, i);
    char *where = f->kind == WEFT_FOUND_FILE ? g_path_get_dirname(f->key) : g_strdup(f->detail);
    g_free(f->detail);
    f->detail = g_strdup_printf("in %" G_GINT64_FORMAT " call stack%s%s%s", f->stacks, f->stacks == 1 ? "" : "s",
                                *where && strcmp(where, ".") ? " · " : "", strcmp(where, ".") ? where : "");
    g_free(where);
  }
  return weft_cursor_close(&c) == 0;
}

/* ---- a search ---- */

typedef struct {
  Index *index;        /* a reference, or NULL: build it */
  GPtrArray *sessions; /* the session's entries, when building */
  char *needle;        /* case-folded */
  guint gen;           /* the panel's, when it started */
} Job;

typedef struct {
  Index *index; /* a reference */
  GArray *hits; /* guint, best first, at most MAX_SHOWN */
  guint matched;
} Result;

static void job_free(Job *j) {
  index_unref(j->index);
  if (j->sessions) g_ptr_array_unref(j->sessions);
  g_free(j->needle);
  g_free(j);
}

static void result_free(Result *r) {
  index_unref(r->index);
  g_array_unref(r->hits);
  g_free(r);
}

/* How well f matches: 0 its name is the text, 1 starts with it, 2 has it elsewhere; -1 no match. */
static int score(const WeftFound *f, const char *needle) {
  const char *at = strstr(f->haystack, needle);
  if (!at) return -1;
  size_t n = strlen(needle), name_len = strlen(f->name); /* the name is the haystack's start */
  if (at == f->haystack && (f->haystack[n] == '\0' || (n == name_len && f->haystack[n] == ' '))) return 0;
  return at == f->haystack ? 1 : 2;
}

typedef struct {
  const GPtrArray *found;
  const char *needle;
} Order;

static gint hit_cmp(gconstpointer a, gconstpointer b, gpointer data) {
  const Order *o = data;
  const WeftFound *x = g_ptr_array_index(o->found, *(const guint *)a),
                  *y = g_ptr_array_index(o->found, *(const guint *)b);
  int sx = score(x, o->needle), sy = score(y, o->needle);
  if (sx != sy) return sx - sy;
  if (x->kind != y->kind) return (int)x->kind - (int)y->kind;
  int c = g_utf8_collate(x->name, y->name);
  if (c) return c;
  return *(const guint *)a < *(const guint *)b ? -1 : 1;
}

static gpointer search_work(WeftQuery *q, const WeftReadEnv *env, gpointer data, GCancellable *cancel, GError **error) {
  Job *job = data;
  Index *ix = job->index ? index_ref(job->index) : NULL;
  if (!ix) {
    ix = g_new0(Index, 1);
    ix->ref = 1;
    ix->found = g_steal_pointer(&job->sessions);
    if (!read_objects(q, ix->found) || !read_frames(q, ix->found)) {
      index_unref(ix);
      return NULL;
    }
  }
  if (g_cancellable_set_error_if_cancelled(cancel, error)) {
    index_unref(ix);
    return NULL;
  }
  Result *r = g_new0(Result, 1);
  r->index = ix;
  r->hits = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint i = 0; *job->needle && i < ix->found->len; i++)
    if (score(g_ptr_array_index(ix->found, i), job->needle) >= 0) g_array_append_val(r->hits, i);
  r->matched = r->hits->len;
  Order o = {ix->found, job->needle};
  g_array_sort_with_data(r->hits, hit_cmp, &o);
  if (r->hits->len > MAX_SHOWN) g_array_set_size(r->hits, MAX_SHOWN);
  return r;
}

/* ---- the list ---- */

static GtkWidget *result_row(const WeftFound *f) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 1);
  gtk_widget_set_margin_start(box, 6);
  gtk_widget_set_margin_end(box, 6);
  gtk_widget_set_margin_top(box, 4);
  gtk_widget_set_margin_bottom(box, 4);
  char *m = g_markup_printf_escaped("<small><b>%s</b></small>  %s", f->what, f->name);
  GtkWidget *l = gtk_label_new(NULL);
  gtk_label_set_markup(GTK_LABEL(l), m);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
  gtk_box_append(GTK_BOX(box), l);
  g_free(m);
  l = gtk_label_new(f->detail);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_add_css_class(l, "dim-label");
  gtk_widget_add_css_class(l, "caption");
  gtk_box_append(GTK_BOX(box), l);
  GtkWidget *row = gtk_list_box_row_new();
  gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
  return row;
}

static void clear_list(WeftSearchPanel *self) {
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child(GTK_WIDGET(self->list)))) gtk_list_box_remove(self->list, c);
  g_array_set_size(self->hits, 0);
  self->matched = 0;
}

static void show_status(WeftSearchPanel *self, const char *title, const char *status) {
  gtk_label_set_text(self->title, title);
  gtk_label_set_text(self->status, status ? status : "");
  gtk_widget_set_visible(GTK_WIDGET(self->status), status != NULL);
}

static void show_result(WeftSearchPanel *self, Result *r) {
  clear_list(self);
  g_array_append_vals(self->hits, r->hits->data, r->hits->len);
  self->matched = r->matched;
  for (guint k = 0; k < self->hits->len; k++)
    gtk_list_box_append(self->list,
                        result_row(g_ptr_array_index(self->index->found, g_array_index(self->hits, guint, k))));
  char *title = g_strdup_printf("“%s”: %u found", self->query, r->matched);
  char *status = r->matched > r->hits->len
                     ? g_strdup_printf("the first %u shown; type more to narrow the search", r->hits->len)
                 : r->matched ? g_strdup("Enter or a click jumps to the first one, or to the one clicked.")
                              : g_strdup("Nothing is named so: threads, processes, sync objects, and the functions "
                                         "and files of the call stacks are searched.");
  show_status(self, title, status);
  g_free(title);
  g_free(status);
}

/* data: a reference to the panel */
static void on_searched(GObject *source, GAsyncResult *res, gpointer data) {
  WeftSearchPanel *self = data;
  const Job *job = weft_session_read_get_data(res);
  guint gen = job->gen;
  GError *error = NULL;
  Result *r = weft_session_read_finish(res, &error);
  if (gen == self->gen && self->session) {
    self->busy = FALSE;
    if (r) {
      if (!self->index) self->index = index_ref(r->index);
      show_result(self, r);
    } else {
      clear_list(self);
      show_status(self, "Search", error->message);
    }
  }
  if (r) result_free(r);
  g_clear_error(&error);
  g_object_unref(self);
}

void weft_search_panel_set_query(WeftSearchPanel *self, const char *text) {
  self->gen++;
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
  g_clear_object(&self->cancellable);
  g_free(self->query);
  self->query = g_strstrip(g_strdup(text ? text : ""));
  weft_search_panel_set_note(self, NULL);
  if (!self->session || !*self->query) {
    self->busy = FALSE;
    clear_list(self);
    show_status(self, "Search",
                "Type in the search field (Ctrl+F): a thread, a process, a sync object, a function "
                "or a file of the call stacks.");
    return;
  }
  Job *job = g_new0(Job, 1);
  job->needle = g_utf8_casefold(self->query, -1);
  job->gen = self->gen;
  if (self->index)
    job->index = index_ref(self->index);
  else
    job->sessions = session_entries(self->session);
  self->busy = TRUE;
  char *title = g_strdup_printf("“%s”", self->query);
  show_status(self, title, self->index ? "searching…" : "reading the names of the recording…");
  g_free(title);
  self->cancellable = g_cancellable_new();
  weft_session_read_async(self->session, search_work, job, (GDestroyNotify)job_free, (GDestroyNotify)result_free,
                          self->cancellable, on_searched, g_object_ref(self));
}

void weft_search_panel_set_session(WeftSearchPanel *self, WeftSession *session) {
  g_clear_pointer(&self->index, index_unref);
  self->session = session;
  weft_search_panel_set_query(self, NULL);
}

gboolean weft_search_panel_is_busy(WeftSearchPanel *self) { return self->busy; }

const char *weft_search_panel_get_query(WeftSearchPanel *self) { return self->query ? self->query : ""; }

guint weft_search_panel_get_n_results(WeftSearchPanel *self) { return self->hits->len; }

const WeftFound *weft_search_panel_get_result(WeftSearchPanel *self, guint i) {
  if (!self->index || i >= self->hits->len) return NULL;
  return g_ptr_array_index(self->index->found, g_array_index(self->hits, guint, i));
}

gboolean weft_search_panel_activate(WeftSearchPanel *self, guint i) {
  GtkListBoxRow *row = gtk_list_box_get_row_at_index(self->list, (int)i);
  if (!row) return FALSE;
  gtk_list_box_select_row(self->list, row);
  g_signal_emit(self, signals[SIG_RESULT_ACTIVATED], 0, i);
  return TRUE;
}

void weft_search_panel_set_note(WeftSearchPanel *self, const char *text) {
  gtk_label_set_text(self->note, text ? text : "");
  gtk_widget_set_visible(GTK_WIDGET(self->note), text != NULL);
}

static void on_row_activated(GtkListBox *box, GtkListBoxRow *row, WeftSearchPanel *self) {
  int i = gtk_list_box_row_get_index(row);
  if (i >= 0) g_signal_emit(self, signals[SIG_RESULT_ACTIVATED], 0, (guint)i);
}

void weft_search_panel_write_json(WeftSearchPanel *self, GString *out) {
  static const char *const kinds[WEFT_FOUND_COUNT] = {"process", "thread", "object", "function", "file"};
  g_string_append(out, "{\"query\": ");
  weft_json_append(out, self->query ? self->query : "");
  g_string_append_printf(out, ", \"matched\": %u, \"results\": [", self->matched);
  for (guint i = 0; i < weft_search_panel_get_n_results(self); i++) {
    const WeftFound *f = weft_search_panel_get_result(self, i);
    g_string_append_printf(out, "%s\n  {\"kind\": \"%s\", \"what\": ", i ? "," : "", kinds[f->kind]);
    weft_json_append(out, f->what);
    if (f->id >= 0)
      g_string_append_printf(out, ", \"id\": %" G_GINT64_FORMAT, f->id);
    else
      g_string_append(out, ", \"id\": null");
    g_string_append(out, ", \"name\": ");
    weft_json_append(out, f->name);
    g_string_append(out, ", \"key\": ");
    if (f->key)
      weft_json_append(out, f->key);
    else
      g_string_append(out, "null");
    g_string_append(out, ", \"detail\": ");
    weft_json_append(out, f->detail);
    g_string_append_c(out, '}');
  }
  g_string_append(out, "], \"note\": ");
  if (gtk_widget_get_visible(GTK_WIDGET(self->note)))
    weft_json_append(out, gtk_label_get_text(self->note));
  else
    g_string_append(out, "null");
  g_string_append_c(out, '}');
}

static void weft_search_panel_dispose(GObject *object) {
  WeftSearchPanel *self = WEFT_SEARCH_PANEL(object);
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
  g_clear_object(&self->cancellable);
  G_OBJECT_CLASS(weft_search_panel_parent_class)->dispose(object);
}

static void weft_search_panel_finalize(GObject *object) {
  WeftSearchPanel *self = WEFT_SEARCH_PANEL(object);
  g_clear_pointer(&self->index, index_unref);
  g_array_unref(self->hits);
  g_free(self->query);
  G_OBJECT_CLASS(weft_search_panel_parent_class)->finalize(object);
}

static void weft_search_panel_class_init(WeftSearchPanelClass *klass) {
  G_OBJECT_CLASS(klass)->dispose = weft_search_panel_dispose;
  G_OBJECT_CLASS(klass)->finalize = weft_search_panel_finalize;
  /* a result was chosen (click, Enter): its index in the list */
  signals[SIG_RESULT_ACTIVATED] = g_signal_new("result-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                               NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void weft_search_panel_init(WeftSearchPanel *self) {
  GtkBox *box = GTK_BOX(self);
  self->hits = g_array_new(FALSE, FALSE, sizeof(guint));
  weft_panel_header(box, "Search", TRUE, &self->title, &self->status);
  self->note = GTK_LABEL(gtk_label_new(NULL));
  gtk_label_set_xalign(self->note, 0);
  gtk_label_set_wrap(self->note, TRUE);
  gtk_widget_set_visible(GTK_WIDGET(self->note), FALSE);
  gtk_box_append(box, GTK_WIDGET(self->note));
  self->list = weft_panel_list(box, G_CALLBACK(on_row_activated), self);
  weft_search_panel_set_query(self, NULL);
}

GtkWidget *weft_search_panel_new(void) { return g_object_new(WEFT_TYPE_SEARCH_PANEL, NULL); }
