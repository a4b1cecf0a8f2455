/* weft-critpath.h - the critical path on the timeline and its page.
 * SPDX-License-Identifier: MIT
 *
 * A WeftCritPath is the critical path of the whole recording as `weft
 * report` computes it (analysis/critpath.c through weft_metrics_compute:
 * the same segments, to the nanosecond), read on a worker
 * (weft_critpath_read_async) and kept immutable and reference-counted. For
 * a window it folds into bands, one per run of the path on one thread row
 * (weft_critpath_bands: exact segments when they are wider than the pixels,
 * else the thread the path is on at each pixel column, so a path of a
 * million hand-offs costs a binary search per column), which
 * weft_critpath_draw outlines on the rows, joined by a line where the path
 * follows a flow to another row. WeftCritPathPanel is the side page: the
 * report's table of the path's threads and the list of its segments; a
 * click on a segment zooms the timeline to it.
 */
#ifndef WEFT_CRITPATH_H
#define WEFT_CRITPATH_H

#include <gtk/gtk.h>

#include "weft-palette.h"
#include "weft-session.h"

G_BEGIN_DECLS

typedef struct {
  int64_t utid;
  int thread; /* index in the session, -1 if unknown */
  int64_t start_ns, end_ns, running_ns;
  int flow_kind;     /* of the flow into it (WeftFlowKind), 0 for the first */
  int64_t object_id; /* that flow's object, or -1 */
} WeftCritSegment;

typedef struct {
  int64_t utid;
  char *label; /* "name [tid]" as the report prints it */
  int64_t path_ns, running_ns;
  double share;
} WeftCritThread;

typedef struct {
  gint ref;
  int64_t start_ns, end_ns, length_ns, path_ns, before_ns, after_ns, jumps;
  WeftCritSegment *segments; /* in time order, contiguous */
  guint n_segments;
  WeftCritThread *threads; /* by path_ns, as the report lists them */
  guint n_threads;
} WeftCritPath;

/* Compute the whole recording's critical path on a worker. */
void weft_critpath_read_async(WeftSession *session, GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer data);
WeftCritPath *weft_critpath_read_finish(GAsyncResult *result, GError **error);
WeftCritPath *weft_critpath_ref(WeftCritPath *cp);
void weft_critpath_unref(WeftCritPath *cp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WeftCritPath, weft_critpath_unref)

/* One band of the window: the path on thread `thread` over pixels [xa, xb) of it. */
typedef struct {
  int thread;
  int xa, xb;
} WeftCritBand;

/* The bands of the window [t0, t0 + npp·npx) into out (WeftCritBand),
 * consecutive bands on one row merged. Returns how many segments the window has. */
guint weft_critpath_bands(const WeftCritPath *cp, double t0, double npp, int npx, GArray *out);

/* Draw the bands: an outline and a tint over the bar of each band's row
 * (y_of[thread]: the middle of its row, < 0 not drawn; row_h its height),
 * a line between the rows where the path goes from one to the next; x0 the
 * window's left edge. */
void weft_critpath_draw(GtkSnapshot *snapshot, const GArray *bands, const WeftPalette *pal, const double *y_of,
                        guint n_threads, double x0, int row_h);

/* The segment containing t, or -1. */
int weft_critpath_segment_at(const WeftCritPath *cp, int64_t t);

/* ---- the page ---- */

#define WEFT_TYPE_CRITPATH_PANEL (weft_critpath_panel_get_type())
G_DECLARE_FINAL_TYPE(WeftCritPathPanel, weft_critpath_panel, WEFT, CRITPATH_PANEL, GtkBox)

/* Show cp (NULL: "computing…" when busy, else how to get it). */
void weft_critpath_panel_set_path(WeftCritPathPanel *self, WeftCritPath *cp, gboolean busy, const char *error);
/* Choose segment i (0-based, time order) as a click does ("segment-activated"). FALSE if none. */
gboolean weft_critpath_panel_activate(WeftCritPathPanel *self, guint i);
/* {"length_ns", "jumps", "threads": the threads table, "segments": the segments table} or null. */
void weft_critpath_panel_write_json(WeftCritPathPanel *self, GString *out);

G_END_DECLS

#endif /* WEFT_CRITPATH_H */
