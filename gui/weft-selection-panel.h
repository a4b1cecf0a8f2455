/* weft-selection-panel.h - the numbers of a selected time range: summary
 * (parallel efficiency, load balance, ...), per-thread state totals and the
 * contention table, computed by weft_metrics_compute() (metrics.h) like
 * `weft report --range A..B`.
 * SPDX-License-Identifier: MIT
 */
#ifndef WEFT_SELECTION_PANEL_H
#define WEFT_SELECTION_PANEL_H

#include <gtk/gtk.h>

#include "weft-session.h"

G_BEGIN_DECLS

#define WEFT_TYPE_SELECTION_PANEL (weft_selection_panel_get_type())
G_DECLARE_FINAL_TYPE(WeftSelectionPanel, weft_selection_panel, WEFT, SELECTION_PANEL, GtkBox)

GtkWidget *weft_selection_panel_new(void);
/* The recording the ranges are of (not owned; NULL: none). */
void weft_selection_panel_set_session(WeftSelectionPanel *self, WeftSession *session);
/* Compute the numbers of [start, end) on a worker thread (with a connection
 * of its own), replacing any computation under way; has_range FALSE empties
 * the panel. Emits "computed" when the panel shows the new numbers (or an
 * error). With delay_ms > 0 the computation starts after that long without
 * another call (while the user drags). */
void weft_selection_panel_set_range(WeftSelectionPanel *self, gboolean has_range, int64_t start_ns, int64_t end_ns,
                                    guint delay_ms);
/* TRUE while a computation is pending or running. */
gboolean weft_selection_panel_is_busy(WeftSelectionPanel *self);
/* The panel's content as JSON: {"selection": {...}, "summary": {...},
 * "threads": [...], "sync_objects": [...]} with the numbers the panel shows
 * (raw ns and fractions), or {"selection": null} when empty. */
void weft_selection_panel_write_json(WeftSelectionPanel *self, GString *out);

G_END_DECLS

#endif /* WEFT_SELECTION_PANEL_H */
