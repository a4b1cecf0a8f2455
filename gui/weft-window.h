/* weft-window.h - the weft-gui main window: a header bar and the timeline.
 * SPDX-License-Identifier: MIT
 */
#ifndef WEFT_WINDOW_H
#define WEFT_WINDOW_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define WEFT_TYPE_WINDOW (weft_window_get_type())
G_DECLARE_FINAL_TYPE(WeftWindow, weft_window, WEFT, WINDOW, GtkApplicationWindow)

WeftWindow *weft_window_new(GtkApplication *app);
/* Open a recording in the window, replacing the current one. On failure the
 * window keeps what it showed, shows a dialog and returns FALSE. */
gboolean weft_window_open(WeftWindow *self, const char *path);

G_END_DECLS

#endif /* WEFT_WINDOW_H */
