/* weft-window.h - the weft-gui main window: a header bar, the timeline and
 * the side panels (findings, selection, details, threads, sync objects).
 * SPDX-License-Identifier: MIT
 */
#ifndef WEFT_WINDOW_H
#define WEFT_WINDOW_H

#include <gtk/gtk.h>

#include "weft-critpath.h"
#include "weft-findings-panel.h"
#include "weft-search.h"
#include "weft-waits.h"
#include "weft-selection-panel.h"
#include "weft-timeline.h"

G_BEGIN_DECLS

#define WEFT_TYPE_WINDOW (weft_window_get_type())
G_DECLARE_FINAL_TYPE(WeftWindow, weft_window, WEFT, WINDOW, GtkApplicationWindow)

WeftWindow *weft_window_new(GtkApplication *app);
/* Open a recording in the window, replacing the current one. On failure the
 * window keeps what it showed, shows a dialog and returns FALSE. */
gboolean weft_window_open(WeftWindow *self, const char *path);

/* The side panel at its default width for the window's default size (30 %
 * of it, 300 to 480 pixels: the timeline gets the rest). */
void weft_window_reset_layout(WeftWindow *self);

/* For the headless paths of weft-gui.c: */
/* errors to stderr instead of a dialog */
void weft_window_set_quiet_errors(WeftWindow *self, gboolean quiet);
/* FALSE: do not compute the findings page (before opening; default TRUE) */
void weft_window_set_findings_enabled(WeftWindow *self, gboolean enabled);
/* no side panel: the window's content is the timeline */
void weft_window_set_timeline_only(WeftWindow *self, gboolean only);
WeftTimeline *weft_window_get_timeline(WeftWindow *self);
WeftSelectionPanel *weft_window_get_selection_panel(WeftWindow *self);
WeftFindingsPanel *weft_window_get_findings_panel(WeftWindow *self);
/* as selecting object_id in the sync objects table: highlight its waits and
 * holds, show its longest wait */
void weft_window_activate_object(WeftWindow *self, int64_t object_id);
/* TRUE while the sync objects table is being read, a search runs or the
 * critical path is computed (on workers). */
gboolean weft_window_is_busy(WeftWindow *self);
/* Search for text as typing it in the search field does (the Search page shown). */
void weft_window_search(WeftWindow *self, const char *text);
WeftSearchPanel *weft_window_get_search_panel(WeftWindow *self);
WeftCritPathPanel *weft_window_get_critpath_panel(WeftWindow *self);
WeftWaitsPanel *weft_window_get_waits_panel(WeftWindow *self);
/* Add the Compare page (Alt+9): the recording shown against before_path, a
 * recording made before a change (weft-gui --compare), computed on a worker
 * for each recording opened. */
void weft_window_set_compare(WeftWindow *self, const char *before_path);
/* The Compare page as JSON (weft-compare.h), or null without one. */
void weft_window_write_compare_json(WeftWindow *self, GString *out);
/* "findings", "selection", "details", "threads", "locks", "critpath", "search" or "waits" */
void weft_window_show_page(WeftWindow *self, const char *page);
const char *weft_window_get_page(WeftWindow *self); /* the side page shown */
/* The outlined span and the details page's text, as JSON (null if none). */
void weft_window_write_details_json(WeftWindow *self, GString *out);
/* The widths of the window's content, the timeline and the side panel (0
 * when hidden: F9), and the side panel's minimum width, as JSON. */
void weft_window_write_layout_json(WeftWindow *self, GString *out);

/* Replay the recording with a change (as weft report --what-if SPEC) on the Sync objects page. */
void weft_window_what_if(WeftWindow *self, const char *spec);
/* The last replay's result as JSON (weft-gui --dump), or null. */
void weft_window_write_what_if_json(WeftWindow *self, GString *out);

G_END_DECLS

#endif /* WEFT_WINDOW_H */
