/* weft-timeline.h - the timeline: a time ruler, one row per thread grouped
 * under its process, and a legend, drawn with GtkSnapshot.
 * SPDX-License-Identifier: MIT
 */
#ifndef WEFT_TIMELINE_H
#define WEFT_TIMELINE_H

#include <gtk/gtk.h>

#include "weft-critpath.h"
#include "weft-flows.h"
#include "weft-hover.h"
#include "weft-replay-rows.h"
#include "weft-session.h"

G_BEGIN_DECLS

#define WEFT_TYPE_TIMELINE (weft_timeline_get_type())
G_DECLARE_FINAL_TYPE(WeftTimeline, weft_timeline, WEFT, TIMELINE, GtkWidget)

GtkWidget *weft_timeline_new(void);
/* The timeline does not own the session; it must outlive the widget or be
 * replaced (NULL) first. Setting a session fits the whole recording. */
void weft_timeline_set_session(WeftTimeline *self, WeftSession *session);
WeftSession *weft_timeline_get_session(WeftTimeline *self);
/* The visible window [start, end) in ns since the start of the recording
 * (set as asked, at least 50 ns wide; zooms and pans keep it overlapping the
 * recording). */
void weft_timeline_set_range(WeftTimeline *self, int64_t start_ns, int64_t end_ns);
void weft_timeline_get_range(WeftTimeline *self, int64_t *start_ns, int64_t *end_ns);
/* Where the window is drawn: from x0 (the label column's width), npx pixels wide. */
void weft_timeline_get_plot(WeftTimeline *self, int *x0, int *npx);
/* Show the whole recording. */
void weft_timeline_fit(WeftTimeline *self);

/* The selected time range [start, end) (drag on the rows); FALSE and 0..0
 * when there is none. Setting end <= start clears it. "selection-changed"
 * is emitted on every change. */
gboolean weft_timeline_get_selection(WeftTimeline *self, int64_t *start_ns, int64_t *end_ns);
void weft_timeline_set_selection(WeftTimeline *self, int64_t start_ns, int64_t end_ns);
void weft_timeline_zoom_to_selection(WeftTimeline *self);

/* Highlight the waits (a strip on top of the waiting thread's row) and the
 * holds (a strip at the bottom of the holder's row) of an object; -1: none.
 * They are read on a worker ("highlight-ready" when they are there). Esc, a
 * click on nothing or on the highlighted lock lane's label clear it (and the
 * highlighted thread): "highlight-cleared". */
void weft_timeline_set_highlight(WeftTimeline *self, int64_t object_id);
int64_t weft_timeline_get_highlight(WeftTimeline *self);
/* Highlight the waits whose call stacks pass through function (a frame's
 * symbol) and file (a frame's file; each NULL: any), or through one of
 * stacks[0..n_stacks): what the search and the wait flame graph pick;
 * label says what they are ("function worker"). NULL label: none. Read on
 * a worker like an object's ("highlight-ready" with -1). */
void weft_timeline_set_highlight_frames(WeftTimeline *self, const char *label, const char *function, const char *file,
                                        const int64_t *stacks, guint n_stacks);
/* The label of the highlighted frames, NULL when none (or an object is). */
const char *weft_timeline_get_highlight_label(WeftTimeline *self);
/* How many waits the highlight marks (0 until read). */
guint weft_timeline_get_highlight_n_waits(WeftTimeline *self);
/* TRUE once the highlighted object's waits and holds are read (or failed). */
gboolean weft_timeline_highlight_is_ready(WeftTimeline *self);
/* The highlighted object's longest wait; FALSE if it has none or it is not
 * read yet. */
gboolean weft_timeline_get_highlight_worst(WeftTimeline *self, WeftSpan *span);
/* Highlight a thread's row (tinted, bold label, a bar at its left); -1: none. */
void weft_timeline_set_highlight_thread(WeftTimeline *self, int64_t utid);
int64_t weft_timeline_get_highlight_thread(WeftTimeline *self);

/* A finding's time marked on the timeline inside [start, end): the pixel
 * columns with at most one thread running on average (serial phases), or
 * with at least half a thread runnable, waiting for a CPU (oversubscribed);
 * tinted over the rows, a bar under the ruler. Cleared with the highlight. */
typedef enum { WEFT_MARK_NONE, WEFT_MARK_SERIAL, WEFT_MARK_RUNNABLE } WeftMark;
void weft_timeline_set_mark(WeftTimeline *self, WeftMark mark, int64_t start_ns, int64_t end_ns);
WeftMark weft_timeline_get_mark(WeftTimeline *self);
/* The time of the marked columns in the window (ns), from the folds there. */
int64_t weft_timeline_get_marked_ns(WeftTimeline *self);

/* Outline span (its utid set) and show it: its process expanded, its row
 * scrolled into view, the window three times its length around it. */
void weft_timeline_show_span(WeftTimeline *self, const WeftSpan *span);
/* The clicked span as read (weft-hover.h: with its object and call stack)
 * while it is outlined, else NULL (none, or one shown by
 * weft_timeline_show_span). */
const WeftHoverSpan *weft_timeline_get_clicked(WeftTimeline *self);
/* The outlined span (the last clicked or shown); FALSE if none. */
gboolean weft_timeline_get_span(WeftTimeline *self, WeftSpan *span);
void weft_timeline_scroll_to_thread(WeftTimeline *self, int64_t utid);
/* The tooltip that hovering (x, y) (widget coordinates) shows, as markup
 * (g_free), or NULL: none there, or (*loading TRUE) not yet: its data is
 * read on a worker (weft_timeline_is_busy until it is there), ask again
 * then. Reads nothing on the calling (GTK) thread. */
char *weft_timeline_get_tooltip(WeftTimeline *self, double x, double y, gboolean *loading);
/* Open the process (and the folded trees that hide it) and scroll its header into view. */
void weft_timeline_scroll_to_process(WeftTimeline *self, int64_t upid);
void weft_timeline_scroll_to_lock(WeftTimeline *self, int64_t object_id);

/* Flow arrows (lock hand-off, wake-up, create, join, fork, ...) between the
 * rows, with an end in the window: read once on a worker when first shown,
 * bundled when they are denser than the pixels (weft-flows.h), what they
 * show said at the top right of the rows ("1,200 of 74,606 hand-offs shown"). */
void weft_timeline_set_show_flows(WeftTimeline *self, gboolean show);
gboolean weft_timeline_get_show_flows(WeftTimeline *self);
/* The kinds drawn (bit k: WeftFlowKind k; all by default) and the kinds the recording has. */
void weft_timeline_set_flow_kinds(WeftTimeline *self, guint kinds);
guint weft_timeline_get_flow_kinds(WeftTimeline *self);
guint weft_timeline_get_flow_kinds_present(WeftTimeline *self);
/* All flows, or only those of the highlighted object, or of the highlighted
 * thread (all while none is highlighted). */
typedef enum { WEFT_FLOWS_ALL, WEFT_FLOWS_OBJECT, WEFT_FLOWS_THREAD } WeftFlowScope;
void weft_timeline_set_flow_scope(WeftTimeline *self, WeftFlowScope scope);
WeftFlowScope weft_timeline_get_flow_scope(WeftTimeline *self);
/* How many flows the window's arrows show (0 when flows are hidden or not
 * there yet), the arrows and counts (NULL then), and the caption drawn. */
guint weft_timeline_get_n_flows(WeftTimeline *self);
const WeftFlowSet *weft_timeline_get_flow_set(WeftTimeline *self);
const char *weft_timeline_get_flow_caption(WeftTimeline *self);

/* The critical path drawn over the rows (P): a band on the row of each of
 * its segments in the window, a line where it follows a flow to another
 * row (weft-critpath.h). The window computes the path (on a worker) and
 * gives it (NULL: none); nothing is drawn until then. */
/* A what-if's replayed rows (weft-replay-rows.h; NULL: none), drawn under the recorded rows when
 * show-replay is on (Shift+R, the what-if bar's toggle): a group with the change, one of the recording
 * replayed unchanged, on the same time axis. */
void weft_timeline_set_replay(WeftTimeline *self, WeftReplayRows *rows);
void weft_timeline_set_show_replay(WeftTimeline *self, gboolean show);
gboolean weft_timeline_get_show_replay(WeftTimeline *self);
void weft_timeline_set_show_critical_path(WeftTimeline *self, gboolean show);
gboolean weft_timeline_get_show_critical_path(WeftTimeline *self);
void weft_timeline_set_critical_path(WeftTimeline *self, WeftCritPath *cp);
WeftCritPath *weft_timeline_get_critical_path(WeftTimeline *self);
/* The bands (WeftCritBand, x from the window's left edge) drawn in the last
 * frame, and the number of the path's segments in its window. */
const GArray *weft_timeline_get_critical_path_bands(WeftTimeline *self, guint *in_window);

/* The rows are folded on a worker thread; until a row's fold for the window
 * arrives the frame shows its last fold stretched. TRUE while folds for
 * the current window (rows in view, all threads, lanes in view) are missing
 * (a window changed since the last frame counts as busy). */
gboolean weft_timeline_is_busy(WeftTimeline *self);
/* Ask for the current window's folds now (as a frame does). */
void weft_timeline_request(WeftTimeline *self);
/* Wait up to timeout_ms for folds to arrive and take them; TRUE if any of
 * the current window arrived (for --bench, which draws without the main loop). */
gboolean weft_timeline_wait(WeftTimeline *self, guint timeout_ms);

/* Lock lane i's label as drawn: "lock NAME", cut at its end to fit the
 * label column ("…"). NULL if there is no such lane. */
const char *weft_timeline_get_lane_label(WeftTimeline *self, guint i);

/* A click at (x, y) in the widget, as the mouse's (for --click). */
void weft_timeline_click(WeftTimeline *self, double x, double y);

/* Collapse process i, its threads and its subtree's folded into a summary in
 * its header row (weft-fold.h), or open it (a click on its header). */
void weft_timeline_toggle_process(WeftTimeline *self, guint process);
/* Fold host i's processes into a summary in its header row, or open them
 * (a click on its header; only with two hosts or more, which have headers). */
void weft_timeline_toggle_host(WeftTimeline *self, guint host);
/* The rows, top to bottom, as JSON: {"host": H, "folded_processes": N,
 * "folded_threads": M, "y": Y} (a host's header, with two hosts or more),
 * {"process": PID, "folded_processes": N,
 * "folded_threads": M, "y": Y} (N, M 0 when open), {"thread": UTID, "y": Y},
 * {"lock": OBJECT_ID, "y": Y} (y: the row's top in the widget, unscrolled). */
void weft_timeline_write_rows_json(WeftTimeline *self, GString *out);
/* The hosts as JSON: [{"host": H, "name": N, "host_id": I, "clock": "clock
 * -5.04 ms ± 19.9 µs, from 42 messages", "processes": [PID, ...] (its, all),
 * "rows": [K, ...] (indices into the rows of its header and the rows under
 * it; every row with one host), "header": the header's text (null with one
 * host: no header), "folded": B, "y": Y (null without a header)}]. */
void weft_timeline_write_hosts_json(WeftTimeline *self, GString *out);

G_END_DECLS

#endif /* WEFT_TIMELINE_H */
