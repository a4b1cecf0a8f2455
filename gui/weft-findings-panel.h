/* weft-findings-panel.h - the ranked findings of the recording, or of the
 * selected range, as `weft report` prints them (metrics.h WeftFinding).
 * SPDX-License-Identifier: MIT
 */
#ifndef WEFT_FINDINGS_PANEL_H
#define WEFT_FINDINGS_PANEL_H

#include <gtk/gtk.h>

#include "weft-session.h"

G_BEGIN_DECLS

#define WEFT_TYPE_FINDINGS_PANEL (weft_findings_panel_get_type())
G_DECLARE_FINAL_TYPE(WeftFindingsPanel, weft_findings_panel, WEFT, FINDINGS_PANEL, GtkBox)

/* One finding as the panel holds it (copied out of the WeftMetrics). */
typedef struct {
  char *kind; /* WeftFinding.kind_name */
  int64_t cost_ns;
  gboolean warning; /* a warning about the measurement, no cost (weft_finding_is_warning) */
  char *title, *evidence, *fix;
  int64_t object_id;                      /* -1: none */
  int64_t utid;                           /* -1: none */
  int64_t region;                         /* index into the metrics' regions, -1: none */
  int64_t region_start_ns, region_end_ns; /* the region's extent (clipped to the range), when region >= 0 */
} WeftFindingItem;

GtkWidget *weft_findings_panel_new(void);
/* The recording (not owned; NULL: none). Starts computing the findings of
 * the whole recording on a worker thread. */
void weft_findings_panel_set_session(WeftFindingsPanel *self, WeftSession *session);
/* Show the findings of [start, end) (has_range TRUE) or of the whole
 * recording (FALSE: shown at once when already computed). Computed on a
 * worker thread with a connection of its own, replacing any computation
 * under way; with delay_ms > 0 it starts after that long without another
 * call. Emits "computed" when the panel shows the new list (or an error). */
void weft_findings_panel_set_range(WeftFindingsPanel *self, gboolean has_range, int64_t start_ns, int64_t end_ns,
                                   guint delay_ms);
/* TRUE while a computation is pending or running. */
gboolean weft_findings_panel_is_busy(WeftFindingsPanel *self);
/* The finding shown at rank i (0-based), or NULL. */
const WeftFindingItem *weft_findings_panel_get_item(WeftFindingsPanel *self, guint i);
guint weft_findings_panel_get_n_items(WeftFindingsPanel *self);
/* Select the finding at rank i (as a click does: emits "finding-activated").
 * FALSE if there is none. */
gboolean weft_findings_panel_activate(WeftFindingsPanel *self, guint i);
/* {"scope": "recording"|"selection", "start_ns", "end_ns", "verdict" (a Python program's verdict
 * as text, else null), "items": [{"rank", "kind",
 * "cost_ns", "title", "evidence", "fix", "object_id", "utid", "region"}]} (ids null
 * when absent), or {"scope": null} when nothing is shown. */
void weft_findings_panel_write_json(WeftFindingsPanel *self, GString *out);

G_END_DECLS

#endif /* WEFT_FINDINGS_PANEL_H */
