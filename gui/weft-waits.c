/* weft-waits.c - the Waits page: the waits' call stacks merged into an icicle graph.
 * SPDX-License-Identifier: MIT
 *
 * The read (a worker's, through weft_session_read_async) is two passes over
 * query.h: every wait (weft_query_all_states), its time inside the range
 * summed per stack, then every frame of every stack
 * (weft_query_all_stack_frames, innermost first), each stack with waits
 * walked from its outermost frame down into a tree keyed by function and
 * file. The tree is flattened in preorder, the heaviest child first, so a
 * box's x is the sum of the boxes before it. The page draws the boxes with
 * cairo from the immutable graph; a new range or recording marks it stale,
 * read again (after a short pause, so a drag reads once) while it is shown.
 */
#include "config.h"

#include "weft-waits.h"

#include <string.h>

#include "query.h"
#include "weft-json.h"
#include "weft-table.h"

#define CANCEL_EVERY 4096 /* rows between two looks at the cancellable */
#define ROW_H        18   /* px, a box's height */
#define JSON_NODES   500  /* boxes written by weft_waits_panel_write_json */
#define PAUSE_MS     150  /* after a change of range, before the read */

/* ---- the graph ---- */

WeftWaitGraph *weft_wait_graph_ref(WeftWaitGraph *g) {
  g_atomic_int_inc(&g->ref);
  return g;
}

void weft_wait_graph_unref(WeftWaitGraph *g) {
  if (!g || !g_atomic_int_dec_and_test(&g->ref)) return;
  for (guint i = 0; i < g->n_nodes; i++) {
    g_free(g->nodes[i].function);
    g_free(g->nodes[i].file);
    g_free(g->nodes[i].stacks);
  }
  g_free(g->nodes);
  g_free(g);
}

typedef struct {
  gboolean has_range;
  int64_t t0, t1;
} Job;

/* A box while the tree is built. */
typedef struct {
  WeftWaitNode n;
  GHashTable *kids; /* "function\x1ffile" -> index + 1 */
  GArray *children; /* int */
  GArray *stacks;   /* int64_t */
} BNode;

typedef struct {
  int64_t ns;
  guint waits;
  gboolean placed;
} StackSum;

typedef struct {
  char *function, *file;
  int64_t line;
} Frame;

static void frame_clear(gpointer p) {
  Frame *f = p;
  g_free(f->function);
  g_free(f->file);
}

static guint bnode_new(GArray *nodes, int parent, const char *function, const char *file, int64_t line) {
  BNode b = {.n = {.function = g_strdup(function), .file = g_strdup(file), .line = line, .parent = parent},
             .kids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
             .children = g_array_new(FALSE, FALSE, sizeof(int)),
             .stacks = g_array_new(FALSE, FALSE, sizeof(int64_t))};
  if (parent >= 0) b.n.depth = g_array_index(nodes, BNode, parent).n.depth + 1;
  g_array_append_val(nodes, b);
  guint i = nodes->len - 1;
  if (parent >= 0) g_array_append_val(g_array_index(nodes, BNode, parent).children, i);
  return i;
}

/* One stack's frames (innermost first) walked from the root down, its waits added to each box. */
static void add_stack(GArray *nodes, int64_t stack_id, const GArray *frames, const StackSum *sum) {
  guint at = 0;
  for (guint k = frames->len; k-- > 0;) {
    const Frame *f = &g_array_index(frames, Frame, k);
    BNode *b = &g_array_index(nodes, BNode, at);
    b->n.wait_ns += sum->ns;
    b->n.waits += sum->waits;
    g_array_append_val(b->stacks, stack_id);
    char *key = g_strdup_printf("%s\x1f%s", f->function, f->file ? f->file : "");
    guint kid = GPOINTER_TO_UINT(g_hash_table_lookup(b->kids, key));
    if (kid) {
      g_free(key);
      BNode *c = &g_array_index(nodes, BNode, kid - 1);
      if (c->n.line != f->line) c->n.line = 0; /* frames of several lines of it: no one line */
      at = kid - 1;
    } else {
      guint c = bnode_new(nodes, (int)at, f->function, f->file, f->line);
      g_hash_table_insert(g_array_index(nodes, BNode, at).kids, key, GUINT_TO_POINTER(c + 1));
      at = c;
    }
  }
  BNode *b = &g_array_index(nodes, BNode, at);
  b->n.wait_ns += sum->ns;
  b->n.waits += sum->waits;
  b->n.self_ns += sum->ns;
  g_array_append_val(b->stacks, stack_id);
}

/* The waits' time inside the job's range per stack (stack_id -> StackSum), the others counted in g. */
static GHashTable *sum_waits(WeftQuery *q, const Job *job, WeftWaitGraph *g, GCancellable *cancel) {
  GHashTable *sums = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  WeftCursor c;
  WeftStateRow r;
  WeftFrameRow where;
  guint64 n = 0;
  weft_query_all_states(q, &c, false);
  while (weft_next_state_where(&c, &r, &where)) {
    if (++n % CANCEL_EVERY == 0 && g_cancellable_is_cancelled(cancel)) break;
    int64_t s = r.start_ns, e = r.start_ns + r.dur_ns;
    if (job->has_range) {
      s = MAX(s, job->t0);
      e = MIN(e, job->t1);
    }
    if (e <= s) continue;
    if (r.stack_id < 0) {
      g->unstacked_waits++;
      g->unstacked_ns += e - s;
      continue;
    }
    StackSum *sum = g_hash_table_lookup(sums, &r.stack_id);
    if (!sum) {
      sum = g_new0(StackSum, 1);
      g_hash_table_insert(sums, g_memdup2(&r.stack_id, sizeof r.stack_id), sum);
    }
    sum->ns += e - s;
    sum->waits++;
  }
  if (weft_cursor_close(&c) != 0) {
    g_hash_table_unref(sums);
    return NULL;
  }
  return sums;
}

/* A frame's name: its symbol, else where it is ("libc.so.6+0x1f2e0"). */
static char *frame_name(const WeftFrameRow *f) {
  if (f->symbol && *f->symbol) return g_strdup(f->symbol);
  if (f->module && *f->module) {
    const char *base = strrchr(f->module, '/');
    return g_strdup_printf("%s+0x%" G_GINT64_MODIFIER "x", base ? base + 1 : f->module, f->rel_pc);
  }
  return g_strdup_printf("0x%" G_GINT64_MODIFIER "x", f->ip);
}

/* Every stack with waits into the tree. FALSE on an error. */
static gboolean build_tree(WeftQuery *q, GHashTable *sums, GArray *nodes, GCancellable *cancel) {
  WeftCursor c;
  WeftStackFrameRow r;
  GArray *frames = g_array_new(FALSE, FALSE, sizeof(Frame));
  g_array_set_clear_func(frames, frame_clear);
  int64_t cur = -1;
  StackSum *sum = NULL;
  guint64 n = 0;
  weft_query_all_stack_frames(q, &c);
  for (;;) {
    gboolean more = weft_next_stack_frame(&c, &r);
    if (more && ++n % CANCEL_EVERY == 0 && g_cancellable_is_cancelled(cancel)) break;
    if (!more || r.stack_id != cur) { /* the previous stack is complete */
      if (sum) {
        add_stack(nodes, cur, frames, sum);
        sum->placed = TRUE;
      }
      g_array_set_size(frames, 0);
      if (!more) break;
      cur = r.stack_id;
      sum = g_hash_table_lookup(sums, &cur);
    }
    if (!sum) continue;
    Frame f = {frame_name(&r.f), g_strdup(r.f.file), r.f.line > 0 ? r.f.line : 0};
    g_array_append_val(frames, f);
  }
  g_array_free(frames, TRUE);
  if (weft_cursor_close(&c) != 0) return FALSE;
  /* stacks without frames: their waits end at the root */
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, sums);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    const StackSum *s = value;
    if (!s->placed) add_stack(nodes, *(const int64_t *)key, &(GArray){0}, s);
  }
  return TRUE;
}

/* The heaviest first; equals by function, then file. */
static gint by_weight(gconstpointer a, gconstpointer b, gpointer nodes) {
  const WeftWaitNode *x = &g_array_index((GArray *)nodes, BNode, *(const int *)a).n;
  const WeftWaitNode *y = &g_array_index((GArray *)nodes, BNode, *(const int *)b).n;
  if (x->wait_ns != y->wait_ns) return x->wait_ns > y->wait_ns ? -1 : 1;
  int c = g_strcmp0(x->function, y->function);
  return c ? c : g_strcmp0(x->file, y->file);
}

/* Box i and its subtree into g in preorder, from start; their parent's new index. */
static void flatten(GArray *nodes, guint i, int parent, int64_t start, WeftWaitGraph *g) {
  BNode *b = &g_array_index(nodes, BNode, i);
  guint at = g->n_nodes++;
  WeftWaitNode *n = &g->nodes[at];
  *n = b->n;
  n->parent = parent;
  n->start_ns = start;
  n->n_stacks = b->stacks->len;
  n->stacks = (int64_t *)(void *)g_array_free(b->stacks, FALSE);
  g_hash_table_unref(b->kids);
  g->max_depth = MAX(g->max_depth, n->depth);
  g_array_sort_with_data(b->children, by_weight, nodes);
  GArray *children = b->children; /* (b moves no more: the tree is built) */
  for (guint k = 0; k < children->len; k++) {
    guint c = (guint)g_array_index(children, int, k);
    flatten(nodes, c, (int)at, start, g);
    start += g_array_index(nodes, BNode, c).n.wait_ns;
  }
  g_array_free(children, TRUE);
}

static gpointer read_work(WeftQuery *q, const WeftReadEnv *env, gpointer data, GCancellable *cancel, GError **error) {
  const Job *job = data;
  WeftWaitGraph *g = g_new0(WeftWaitGraph, 1);
  g->ref = 1;
  g->has_range = job->has_range;
  g->start_ns = job->t0;
  g->end_ns = job->t1;
  GHashTable *sums = sum_waits(q, job, g, cancel);
  GArray *nodes = g_array_new(FALSE, FALSE, sizeof(BNode));
  bnode_new(nodes, -1, "all waits", NULL, 0);
  gboolean ok = sums && build_tree(q, sums, nodes, cancel);
  if (sums) g_hash_table_unref(sums);
  if (ok && !g_cancellable_set_error_if_cancelled(cancel, error)) {
    g->nodes = g_new0(WeftWaitNode, nodes->len);
    flatten(nodes, 0, -1, 0, g);
    g_array_free(nodes, TRUE);
    return g;
  }
  if (!ok) weft_read_set_error(q, error);
  for (guint i = 0; i < nodes->len; i++) { /* (not flattened: every box is still the tree's) */
    BNode *b = &g_array_index(nodes, BNode, i);
    g_free(b->n.function);
    g_free(b->n.file);
    g_hash_table_unref(b->kids);
    g_array_free(b->children, TRUE);
    g_array_free(b->stacks, TRUE);
  }
  g_array_free(nodes, TRUE);
  weft_wait_graph_unref(g);
  return NULL;
}

void weft_wait_graph_read_async(WeftSession *session, gboolean has_range, int64_t start_ns, int64_t end_ns,
                                GCancellable *cancellable, GAsyncReadyCallback callback, gpointer data) {
  Job *job = g_new0(Job, 1);
  *job = (Job){has_range, has_range ? start_ns : 0, has_range ? end_ns : 0};
  weft_session_read_async(session, read_work, job, g_free, (GDestroyNotify)weft_wait_graph_unref, cancellable, callback,
                          data);
}

WeftWaitGraph *weft_wait_graph_read_finish(GAsyncResult *result, GError **error) {
  return weft_session_read_finish(result, error);
}

/* ---- the page ---- */

struct _WeftWaitsPanel {
  GtkBox parent_instance;
  GtkLabel *title, *status, *picked;
  GtkWidget *area; /* the drawing */
  WeftSession *session;
  gboolean has_range;
  int64_t start_ns, end_ns;
  WeftWaitGraph *graph;
  int selected;       /* the box chosen, -1 none */
  guint zoom;         /* the box drawn the full width (0: the root) */
  gboolean stale;     /* the graph is not of the session and range */
  guint pause;        /* the source of the pause before a read, 0 none */
  GCancellable *read; /* the read under way, or NULL */
  char *error;
};

enum { SIG_FRAME_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(WeftWaitsPanel, weft_waits_panel, GTK_TYPE_BOX)

/* Where box i is drawn, zoomed to box self->zoom: its subtree spread over the width, the boxes above
 * it (its callers) the full width, the others not drawn (FALSE). Boxes of one depth do not overlap
 * and every box has some wait time: a box is the zoomed one's caller or callee when its time
 * contains or is contained in the zoomed one's. */
static gboolean box_place(const WeftWaitsPanel *self, guint i, int width, double *x, double *w) {
  const WeftWaitGraph *g = self->graph;
  const WeftWaitNode *z = &g->nodes[self->zoom < g->n_nodes ? self->zoom : 0], *n = &g->nodes[i];
  if (z->wait_ns <= 0) return FALSE;
  if (n->depth < z->depth) {
    *x = 0;
    *w = width;
    return n->start_ns <= z->start_ns && z->start_ns + z->wait_ns <= n->start_ns + n->wait_ns;
  }
  *x = (double)(n->start_ns - z->start_ns) / (double)z->wait_ns * width;
  *w = (double)n->wait_ns / (double)z->wait_ns * width;
  return n->start_ns >= z->start_ns && n->start_ns + n->wait_ns <= z->start_ns + z->wait_ns;
}

/* A box's colour: C frames warm (the flame graph's), Python frames blue, the root grey;
 * the shade from the name, so a function keeps its colour. */
static void box_colour(const WeftWaitNode *n, GdkRGBA *c) {
  if (n->parent < 0) {
    *c = (GdkRGBA){0.75f, 0.75f, 0.75f, 1};
    return;
  }
  guint h = g_str_hash(n->function);
  float a = (float)(h % 97) / 97.0f, b = (float)((h / 97) % 89) / 89.0f;
  if (n->file && g_str_has_suffix(n->file, ".py"))
    *c = (GdkRGBA){0.45f + 0.2f * a, 0.65f + 0.15f * b, 0.95f, 1};
  else
    *c = (GdkRGBA){0.92f + 0.08f * a, 0.45f + 0.35f * b, 0.2f + 0.2f * a, 1};
}

/* "worker (example-pool.c:58)": the function, and its file's name and line when known. */
static char *node_title(const WeftWaitNode *n) {
  if (!n->file) return g_strdup(n->function);
  const char *base = strrchr(n->file, '/');
  base = base ? base + 1 : n->file;
  return n->line > 0 ? g_strdup_printf("%s (%s:%" G_GINT64_FORMAT ")", n->function, base, n->line)
                     : g_strdup_printf("%s (%s)", n->function, base);
}

static void draw_graph(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data) {
  WeftWaitsPanel *self = data;
  const WeftWaitGraph *g = self->graph;
  if (!g || !g->n_nodes || g->nodes[0].wait_ns <= 0) return;
  PangoLayout *layout = gtk_widget_create_pango_layout(GTK_WIDGET(area), NULL);
  pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
  for (guint i = 0; i < g->n_nodes; i++) {
    const WeftWaitNode *n = &g->nodes[i];
    double x, w, y = n->depth * ROW_H;
    if (!box_place(self, i, width, &x, &w) || w < 0.5 || y > height) continue;
    GdkRGBA c;
    box_colour(n, &c);
    gdk_cairo_set_source_rgba(cr, &c);
    cairo_rectangle(cr, x, y, MAX(w - 1, 0.5), ROW_H - 1);
    cairo_fill(cr);
    if ((int)i == self->selected) {
      cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
      cairo_set_line_width(cr, 2);
      cairo_rectangle(cr, x + 1, y + 1, MAX(w - 3, 0.5), ROW_H - 3);
      cairo_stroke(cr);
    }
    if (w < 24) continue;
    char t[32];
    char *title = node_title(n);
    char *text = g_strdup_printf("%s  %s, %.1f%%", title, weft_format_ns(t, sizeof t, n->wait_ns),
                                 100.0 * (double)n->wait_ns / (double)g->nodes[0].wait_ns);
    pango_layout_set_text(layout, text, -1);
    pango_layout_set_width(layout, (int)((w - 6) * PANGO_SCALE));
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1); /* the boxes are light in both themes */
    cairo_move_to(cr, x + 3, y + 1);
    pango_cairo_show_layout(cr, layout);
    g_free(text);
    g_free(title);
  }
  g_object_unref(layout);
}

int weft_waits_panel_node_at(WeftWaitsPanel *self, double x, double y) {
  const WeftWaitGraph *g = self->graph;
  int width = gtk_widget_get_width(self->area);
  if (!g || x < 0 || y < 0) return -1;
  int depth = (int)(y / ROW_H);
  for (guint i = 0; i < g->n_nodes; i++) {
    const WeftWaitNode *n = &g->nodes[i];
    if (n->depth != depth) continue;
    double a, w;
    if (box_place(self, i, width, &a, &w) && x >= a && x < a + w) return (int)i;
  }
  return -1;
}

static gboolean on_query_tooltip(GtkWidget *w, int x, int y, gboolean keyboard, GtkTooltip *tip, gpointer data) {
  WeftWaitsPanel *self = data;
  int i = weft_waits_panel_node_at(self, x, y);
  if (i < 0) return FALSE;
  const WeftWaitNode *n = &self->graph->nodes[i];
  char a[32], b[32];
  char *title = node_title(n);
  char *text = g_strdup_printf(
      "%s%s%s\nwaited %s under it (%.1f%% of the graph), %u wait%s\n%s of it in calls it made no further\n%s", title,
      n->file ? "\n" : "", n->file ? n->file : "", weft_format_ns(a, sizeof a, n->wait_ns),
      100.0 * (double)n->wait_ns / (double)MAX(1, self->graph->nodes[0].wait_ns), n->waits, n->waits == 1 ? "" : "s",
      weft_format_ns(b, sizeof b, n->self_ns),
      "A click highlights its waits on the timeline, a double click zooms to it.");
  gtk_tooltip_set_text(tip, text);
  g_free(text);
  g_free(title);
  return TRUE;
}

/* A click chooses a box; a double click zooms to it (on a caller drawn the full width: out to it). */
static void on_pressed(GtkGestureClick *gesture, int n_press, double x, double y, gpointer data) {
  int i = weft_waits_panel_node_at(data, x, y);
  if (i >= 0 && n_press == 2)
    weft_waits_panel_zoom(data, (guint)i);
  else if (i >= 0)
    weft_waits_panel_activate(data, (guint)i);
}

void weft_waits_panel_unselect(WeftWaitsPanel *self) {
  self->selected = -1;
  gtk_label_set_text(self->picked, "");
  gtk_widget_queue_draw(self->area);
}

gboolean weft_waits_panel_zoom(WeftWaitsPanel *self, guint i) {
  if (!self->graph || i >= self->graph->n_nodes) return FALSE;
  self->zoom = i;
  gtk_widget_queue_draw(self->area);
  return TRUE;
}

gboolean weft_waits_panel_activate(WeftWaitsPanel *self, guint i) {
  if (!self->graph || i >= self->graph->n_nodes) return FALSE;
  self->selected = (int)i;
  const WeftWaitNode *n = &self->graph->nodes[i];
  char a[32];
  char *title = node_title(n);
  char *text = g_strdup_printf("%s: %s in %u wait%s here, highlighted on the timeline (Esc clears it).", title,
                               weft_format_ns(a, sizeof a, n->wait_ns), n->waits, n->waits == 1 ? "" : "s");
  gtk_label_set_text(self->picked, text);
  g_free(text);
  g_free(title);
  gtk_widget_queue_draw(self->area);
  g_signal_emit(self, signals[SIG_FRAME_ACTIVATED], 0, i);
  return TRUE;
}

static void show_graph(WeftWaitsPanel *self) {
  const WeftWaitGraph *g = self->graph;
  char a[32], b[32], c[32];
  gtk_label_set_text(self->picked, "");
  if (!g) {
    gtk_label_set_text(self->status, self->error     ? self->error
                                     : self->session ? "reading the waits' call stacks…"
                                                     : "No recording.");
    gtk_widget_set_size_request(self->area, -1, 0);
    gtk_widget_queue_draw(self->area);
    return;
  }
  char *range = g->has_range ? g_strdup_printf("the selection %s..%s", weft_format_ns(a, sizeof a, g->start_ns),
                                               weft_format_ns(b, sizeof b, g->end_ns))
                             : g_strdup("the whole recording");
  char *text;
  if (g->nodes[0].waits)
    text = g_strdup_printf("The call stacks of the waits of %s: %s in %u wait%s, root at the top, each call below "
                           "its caller, the heaviest first; a box's width is its wait time. %u wait%s (%s) had no "
                           "stack recorded.",
                           range, weft_format_ns(c, sizeof c, g->nodes[0].wait_ns), g->nodes[0].waits,
                           g->nodes[0].waits == 1 ? "" : "s", g->unstacked_waits, g->unstacked_waits == 1 ? "" : "s",
                           weft_format_ns(a, sizeof a, g->unstacked_ns));
  else
    text = g_strdup_printf("No wait of %s has a call stack recorded (%u wait%s without). WEFT_STACKS=all records "
                           "every wait's stack.",
                           range, g->unstacked_waits, g->unstacked_waits == 1 ? "" : "s");
  gtk_label_set_text(self->status, text);
  g_free(text);
  g_free(range);
  gtk_widget_set_size_request(self->area, -1, g->nodes[0].waits ? (g->max_depth + 1) * ROW_H : 0);
  gtk_widget_queue_draw(self->area);
}

/* data: a reference to the panel */
static void on_read(GObject *source, GAsyncResult *res, gpointer data) {
  WeftWaitsPanel *self = data;
  GError *error = NULL;
  WeftWaitGraph *g = weft_wait_graph_read_finish(res, &error);
  if (self->read && g_task_get_cancellable(G_TASK(res)) == self->read) {
    g_clear_object(&self->read);
    g_clear_pointer(&self->graph, weft_wait_graph_unref);
    g_clear_pointer(&self->error, g_free);
    self->graph = g ? weft_wait_graph_ref(g) : NULL;
    if (error) self->error = g_strdup(error->message);
    self->selected = -1;
    self->zoom = 0;
    show_graph(self);
  }
  if (g) weft_wait_graph_unref(g);
  g_clear_error(&error);
  g_object_unref(self);
}

static gboolean start_read(gpointer data) {
  WeftWaitsPanel *self = data;
  self->pause = 0;
  if (!self->session || !self->stale) return G_SOURCE_REMOVE;
  self->stale = FALSE;
  if (self->read) g_cancellable_cancel(self->read);
  g_clear_object(&self->read);
  self->read = g_cancellable_new();
  weft_wait_graph_read_async(self->session, self->has_range, self->start_ns, self->end_ns, self->read, on_read,
                             g_object_ref(self));
  return G_SOURCE_REMOVE;
}

/* TRUE when the page is its stack's visible child (the side panel itself may be hidden: the
 * headless dump reads it then too). */
static gboolean is_shown(WeftWaitsPanel *self) {
  GtkWidget *parent = gtk_widget_get_parent(GTK_WIDGET(self));
  return GTK_IS_STACK(parent) ? gtk_stack_get_visible_child(GTK_STACK(parent)) == GTK_WIDGET(self)
                              : gtk_widget_get_mapped(GTK_WIDGET(self));
}

/* The graph is not of the session and range any more: read again, after a pause, if the page is shown. */
static void set_stale(WeftWaitsPanel *self, guint pause_ms) {
  self->stale = TRUE;
  if (self->pause) g_source_remove(self->pause);
  self->pause = 0;
  if (self->session && is_shown(self)) self->pause = g_timeout_add(pause_ms, start_read, self);
}

static void on_page_shown(WeftWaitsPanel *self) {
  if (self->stale && !self->pause && is_shown(self)) set_stale(self, 0);
}

/* In a stack (the side panel): read when the stack shows the page. */
static void on_parent(WeftWaitsPanel *self) {
  GtkWidget *parent = gtk_widget_get_parent(GTK_WIDGET(self));
  if (GTK_IS_STACK(parent))
    g_signal_connect_object(parent, "notify::visible-child", G_CALLBACK(on_page_shown), self, G_CONNECT_SWAPPED);
}

void weft_waits_panel_set_session(WeftWaitsPanel *self, WeftSession *session) {
  self->session = session;
  self->has_range = FALSE;
  if (self->read) g_cancellable_cancel(self->read);
  g_clear_object(&self->read);
  g_clear_pointer(&self->graph, weft_wait_graph_unref);
  g_clear_pointer(&self->error, g_free);
  self->selected = -1;
  self->zoom = 0;
  show_graph(self);
  set_stale(self, 0);
}

void weft_waits_panel_set_range(WeftWaitsPanel *self, gboolean has, int64_t start_ns, int64_t end_ns) {
  if (has == self->has_range && (!has || (start_ns == self->start_ns && end_ns == self->end_ns))) return;
  self->has_range = has;
  self->start_ns = start_ns;
  self->end_ns = end_ns;
  set_stale(self, PAUSE_MS);
}

gboolean weft_waits_panel_is_busy(WeftWaitsPanel *self) { return self->pause || self->read; }

const WeftWaitGraph *weft_waits_panel_get_graph(WeftWaitsPanel *self) { return self->graph; }

void weft_waits_panel_write_json(WeftWaitsPanel *self, GString *out) {
  const WeftWaitGraph *g = self->graph;
  if (!g) {
    g_string_append(out, "null");
    return;
  }
  if (g->has_range)
    g_string_append_printf(out, "{\"range\": [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]", g->start_ns, g->end_ns);
  else
    g_string_append(out, "{\"range\": null");
  g_string_append_printf(out,
                         ", \"total_ns\": %" G_GINT64_FORMAT ", \"waits\": %u, \"unstacked_waits\": %u, "
                         "\"unstacked_ns\": %" G_GINT64_FORMAT ", \"n_nodes\": %u, \"max_depth\": %d, \"zoom\": %u, "
                         "\"selected\": ",
                         g->nodes[0].wait_ns, g->nodes[0].waits, g->unstacked_waits, g->unstacked_ns, g->n_nodes,
                         g->max_depth, self->zoom);
  if (self->selected >= 0)
    g_string_append_printf(out, "%d", self->selected);
  else
    g_string_append(out, "null");
  g_string_append(out, ",\n\"nodes\": [");
  for (guint i = 0; i < MIN(g->n_nodes, JSON_NODES); i++) {
    const WeftWaitNode *n = &g->nodes[i];
    g_string_append_printf(out, "%s{\"id\": %u, \"parent\": %d, \"depth\": %d, \"function\": ", i ? ",\n " : "", i,
                           n->parent, n->depth);
    weft_json_append(out, n->function);
    g_string_append(out, ", \"file\": ");
    if (n->file)
      weft_json_append(out, n->file);
    else
      g_string_append(out, "null");
    g_string_append_printf(out,
                           ", \"line\": %" G_GINT64_FORMAT ", \"start_ns\": %" G_GINT64_FORMAT
                           ", \"wait_ns\": %" G_GINT64_FORMAT ", \"self_ns\": %" G_GINT64_FORMAT
                           ", \"waits\": %u, \"stacks\": %u}",
                           n->line, n->start_ns, n->wait_ns, n->self_ns, n->waits, n->n_stacks);
  }
  g_string_append(out, "]}");
}

static void weft_waits_panel_dispose(GObject *object) {
  WeftWaitsPanel *self = WEFT_WAITS_PANEL(object);
  if (self->pause) g_source_remove(self->pause);
  self->pause = 0;
  if (self->read) g_cancellable_cancel(self->read);
  g_clear_object(&self->read);
  G_OBJECT_CLASS(weft_waits_panel_parent_class)->dispose(object);
}

static void weft_waits_panel_finalize(GObject *object) {
  WeftWaitsPanel *self = WEFT_WAITS_PANEL(object);
  g_clear_pointer(&self->graph, weft_wait_graph_unref);
  g_free(self->error);
  G_OBJECT_CLASS(weft_waits_panel_parent_class)->finalize(object);
}

static void weft_waits_panel_class_init(WeftWaitsPanelClass *klass) {
  G_OBJECT_CLASS(klass)->dispose = weft_waits_panel_dispose;
  G_OBJECT_CLASS(klass)->finalize = weft_waits_panel_finalize;
  /* a box was chosen: its index in the graph (preorder) */
  signals[SIG_FRAME_ACTIVATED] = g_signal_new("frame-activated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                              NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
}

static void weft_waits_panel_init(WeftWaitsPanel *self) {
  self->selected = -1;
  weft_panel_header(GTK_BOX(self), "Waits", TRUE, &self->title, &self->status);
  self->picked = GTK_LABEL(gtk_label_new(NULL));
  gtk_label_set_wrap(self->picked, TRUE);
  gtk_label_set_xalign(self->picked, 0);
  gtk_box_append(GTK_BOX(self), GTK_WIDGET(self->picked));
  self->area = gtk_drawing_area_new();
  gtk_widget_set_hexpand(self->area, TRUE);
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->area), draw_graph, self, NULL);
  gtk_widget_set_has_tooltip(self->area, TRUE);
  g_signal_connect(self->area, "query-tooltip", G_CALLBACK(on_query_tooltip), self);
  GtkGesture *click = gtk_gesture_click_new();
  g_signal_connect(click, "pressed", G_CALLBACK(on_pressed), self);
  gtk_widget_add_controller(self->area, GTK_EVENT_CONTROLLER(click));
  GtkWidget *scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(scroll), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(scroll), self->area);
  gtk_widget_set_vexpand(scroll, TRUE);
  gtk_box_append(GTK_BOX(self), scroll);
  g_signal_connect(self, "notify::parent", G_CALLBACK(on_parent), NULL);
  g_signal_connect(self, "map", G_CALLBACK(on_page_shown), NULL);
  show_graph(self);
}
