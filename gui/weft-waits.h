/* weft-waits.h - the Waits page: where the waits come from, as an icicle graph.
 * SPDX-License-Identifier: MIT
 *
 * A WeftWaitGraph is the call stacks of the waits of a time range (the
 * selection, or the whole recording) merged into a tree weighted by wait
 * time: the root is every wait with a recorded stack, below it the
 * outermost frames (main, a thread's start routine, a Python module), and
 * each box's children the functions it called on the way to a wait, the
 * innermost frame (the call that waited) at the bottom. Frames merge by
 * function and file, C and Python frames alike; a wait counts the part of
 * it inside the range. Read on a worker (weft_session_read_async) and kept
 * immutable. WeftWaitsPanel is the side page that draws it, root at the
 * top (an icicle, as Speedscope, Chrome's and Perfetto's flame charts draw
 * it), the children left to right by wait time; a click on a box emits
 * "frame-activated" (the window highlights the box's waits on the timeline);
 * a double click zooms to it.
 */
#ifndef WEFT_WAITS_H
#define WEFT_WAITS_H

#include <gtk/gtk.h>

#include "weft-session.h"

G_BEGIN_DECLS

typedef struct {
  char *function;           /* the symbol; "module+0x…" or "0x…" when unknown; "all waits" for the root */
  char *file;               /* NULL when unknown */
  int64_t line;             /* 0 when unknown, or when the merged frames' lines differ */
  int parent;               /* index, -1 for the root */
  int depth;                /* the root's is 0 */
  int64_t start_ns;         /* where the box starts: the wait time of the boxes left of it under the root */
  int64_t wait_ns, self_ns; /* the waits below it; of those, the waits it is the innermost frame of */
  guint waits;              /* how many waits (or parts of waits) */
  int64_t *stacks;          /* the stack ids through it */
  guint n_stacks;
} WeftWaitNode;

typedef struct {
  gint ref;
  gboolean has_range;
  int64_t start_ns, end_ns; /* the range (when has_range) */
  WeftWaitNode *nodes;      /* in preorder: each box's children follow it, the heaviest first */
  guint n_nodes;
  int max_depth;
  guint unstacked_waits; /* waits in the range without a recorded stack */
  int64_t unstacked_ns;
} WeftWaitGraph;

/* Read the graph of [start, end) (has_range FALSE: the whole recording) on a worker. */
void weft_wait_graph_read_async(WeftSession *session, gboolean has_range, int64_t start_ns, int64_t end_ns,
                                GCancellable *cancellable, GAsyncReadyCallback callback, gpointer data);
WeftWaitGraph *weft_wait_graph_read_finish(GAsyncResult *result, GError **error);
WeftWaitGraph *weft_wait_graph_ref(WeftWaitGraph *g);
void weft_wait_graph_unref(WeftWaitGraph *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WeftWaitGraph, weft_wait_graph_unref)

/* ---- the page ---- */

#define WEFT_TYPE_WAITS_PANEL (weft_waits_panel_get_type())
G_DECLARE_FINAL_TYPE(WeftWaitsPanel, weft_waits_panel, WEFT, WAITS_PANEL, GtkBox)

/* The recording (NULL: none); the graph is read again when the page is shown. */
void weft_waits_panel_set_session(WeftWaitsPanel *self, WeftSession *session);
/* The selection (has FALSE: none, the whole recording); read again when shown. */
void weft_waits_panel_set_range(WeftWaitsPanel *self, gboolean has, int64_t start_ns, int64_t end_ns);
/* TRUE while a read is waiting or under way. */
gboolean weft_waits_panel_is_busy(WeftWaitsPanel *self);
/* The graph shown, or NULL. */
const WeftWaitGraph *weft_waits_panel_get_graph(WeftWaitsPanel *self);
/* Choose box i (preorder index) as a click does ("frame-activated"). FALSE if none. */
gboolean weft_waits_panel_activate(WeftWaitsPanel *self, guint i);
/* No box chosen (the timeline's highlight was cleared). */
void weft_waits_panel_unselect(WeftWaitsPanel *self);
/* Draw box i (preorder index) the full width, its callees under it, as a double click does
 * (0: the whole graph). FALSE if none. */
gboolean weft_waits_panel_zoom(WeftWaitsPanel *self, guint i);
/* The box at (x, y) of the graph's drawing, or -1. */
int weft_waits_panel_node_at(WeftWaitsPanel *self, double x, double y);
/* {"range", "total_ns", "waits", "unstacked_*", "n_nodes", "zoom", "selected", "nodes": the first boxes} or null. */
void weft_waits_panel_write_json(WeftWaitsPanel *self, GString *out);

G_END_DECLS

#endif /* WEFT_WAITS_H */
