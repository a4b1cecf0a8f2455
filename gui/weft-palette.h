/* weft-palette.h - the timeline's colours, for a light and a dark theme.
 * SPDX-License-Identifier: MIT
 *
 * The timeline draws with its own colours (the states must be the same on
 * every machine: the tests and the user guide read them), but its
 * background, chrome, text and the marks over the bars follow the theme:
 * weft_palette_for(widget) gives the dark palette when the widget's CSS text
 * colour is light (GTK_THEME=Adwaita:dark, gtk-application-prefer-dark-theme,
 * or any dark theme), the light one otherwise. The states keep their
 * Okabe-Ito colours in both (gil_wait, black, turns near-white on dark rows).
 */
#ifndef WEFT_PALETTE_H
#define WEFT_PALETTE_H

#include <gtk/gtk.h>

#include "weft-db.h"

G_BEGIN_DECLS

typedef struct {
  gboolean dark;
  GdkRGBA state[WEFT_ST_COUNT];
  GdkRGBA runnable, offcpu; /* the running state's parts besides on a CPU (state[RUNNING]) */
  GdkRGBA bg, row_alt, proc, host, chrome, line, grid, text, dim_text, track_bg, lane_bg, merged;
  GdkRGBA overview_bg, overview_fill, window, window_fill, sel_fill, sel_edge;
  GdkRGBA hl_wait, hl_hold, mark, mark_fill, hl_row, span_outline, span_inner;
  GdkRGBA flow[WEFT_FLOW_COUNT]; /* flow arrows by WeftFlowKind ([0]: unknown) */
  GdkRGBA flow_casing;           /* drawn under each arrow: it reads on any bar */
  GdkRGBA crit, crit_fill;       /* the critical path: its outline and tint over the rows */
} WeftPalette;

const WeftPalette *weft_palette_light(void);
const WeftPalette *weft_palette_dark(void);
/* TRUE if the widget's theme is dark (its CSS text colour is light). */
gboolean weft_palette_theme_is_dark(GtkWidget *widget);
/* The palette of the widget's theme. */
const WeftPalette *weft_palette_for(GtkWidget *widget);

G_END_DECLS

#endif /* WEFT_PALETTE_H */
