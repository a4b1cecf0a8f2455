/* weft-compare.h - the Compare page: the recording shown (after) against
 * one recorded before a change (weft-gui --compare BEFORE.db), as
 * `weft report --compare` prints it.
 * SPDX-License-Identifier: MIT
 */
#ifndef WEFT_COMPARE_PANEL_H
#define WEFT_COMPARE_PANEL_H

#include <gtk/gtk.h>

#include "weft-session.h"

G_BEGIN_DECLS

#define WEFT_TYPE_COMPARE_PANEL (weft_compare_panel_get_type())
G_DECLARE_FINAL_TYPE(WeftComparePanel, weft_compare_panel, WEFT, COMPARE_PANEL, GtkBox)

GtkWidget *weft_compare_panel_new(const char *before_path);
/* The recording after the change (not owned; NULL: none): computes both
 * recordings' metrics and their comparison on a worker thread. */
void weft_compare_panel_set_session(WeftComparePanel *self, WeftSession *session);
/* TRUE while the comparison is being computed. */
gboolean weft_compare_panel_is_busy(WeftComparePanel *self);
/* {"before": path, "error": message or null, "compare": the report's "compare" object or null}. */
void weft_compare_panel_write_json(WeftComparePanel *self, GString *out);

G_END_DECLS

#endif /* WEFT_COMPARE_PANEL_H */
