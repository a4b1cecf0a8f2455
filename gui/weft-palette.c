/* weft-palette.c - the timeline's colours, for a light and a dark theme.
 * SPDX-License-Identifier: MIT
 *
 * Two constant palettes; the theme is told by the widget's CSS text colour
 * (a light text colour means a dark theme), which GTK 4.8 gives through the
 * style context.
 */
#include "config.h"

#include "weft-palette.h"

#define RGB(x) \
  { ((x) >> 16 & 0xff) / 255.f, ((x) >> 8 & 0xff) / 255.f, ((x)&0xff) / 255.f, 1 }
#define RGBA(x, a) \
  { ((x) >> 16 & 0xff) / 255.f, ((x) >> 8 & 0xff) / 255.f, ((x)&0xff) / 255.f, (a) }

/* Okabe-Ito (colour-blind safe) for the common states; greys and light tints
 * for the rarer ones. Index = WeftState. gil_wait is the one state whose
 * colour depends on the theme (black on light rows, near-white on dark). */
#define STATES(gil)                                                                                                   \
  {                                                                                                                   \
    [WEFT_ST_RUNNING] = RGB(0x009e73), [WEFT_ST_LOCK_WAIT] = RGB(0xd55e00), [WEFT_ST_RWLOCK_WAIT] = RGB(0xe69f00),    \
    [WEFT_ST_SPIN_WAIT] = RGB(0xcc79a7), [WEFT_ST_COND_WAIT] = RGB(0x0072b2), [WEFT_ST_BARRIER_WAIT] = RGB(0x56b4e9), \
    [WEFT_ST_SEM_WAIT] = RGB(0xf0e442), [WEFT_ST_JOIN_WAIT] = RGB(0x999999), [WEFT_ST_CHILD_WAIT] = RGB(0x666666),    \
    [WEFT_ST_IO_WAIT] = RGB(0xa6d8f5), [WEFT_ST_SLEEP] = RGB(0xd4d4d4), [WEFT_ST_GIL_WAIT] = RGB(gil),                \
    [WEFT_ST_MPI_WAIT] = RGB(0x8c6bb1), [WEFT_ST_FUTEX_WAIT] = RGB(0x7b2d5b),                                         \
  }

/* clang-format off */
static const WeftPalette light = {
  .dark = FALSE,
  .state = STATES(0x000000),
  /* the running state's time splits (weft-cpu.h): on a CPU is the running
   * colour; runnable a pale tint of it; off a CPU a brown no state uses */
  .runnable = RGB(0xa0dcc8), .offcpu = RGB(0x9e7b4f),
  .bg = RGB(0xfcfcfc), .row_alt = RGB(0xf2f3f5), .proc = RGB(0xdde1e6), .host = RGB(0xc3cbd6), .chrome = RGB(0xeeeff1),
  .line = RGB(0xc4c8cc), .grid = RGB(0xe4e6e9), .text = RGB(0x1e2226), .dim_text = RGB(0x5a6066),
  .track_bg = RGB(0xe6f2ee), .lane_bg = RGB(0xf7f4ec), .merged = RGB(0x303030),
  .overview_bg = RGB(0xe8eaee), .overview_fill = RGB(0x8a94a3), .window = RGB(0x1c71d8),
  .window_fill = RGBA(0x1c71d8, 0.12f), .sel_fill = RGBA(0x3584e4, 0.16f), .sel_edge = RGB(0x1a5fb4),
  .hl_wait = RGB(0x2e3436), .hl_hold = RGB(0x6a008a), .mark = RGB(0xe69f00), .mark_fill = RGBA(0xe69f00, 0.14f),
  .hl_row = RGB(0xd6e6fa), .span_outline = RGB(0x000000), .span_inner = RGB(0xffffff),
  /* dark and saturated, each on a white casing: they read on every bar */
  .flow = {
    [0] = RGB(0x4d4d4d), [WEFT_FLOW_LOCK_HANDOFF] = RGB(0xb0006a), [WEFT_FLOW_WAKEUP] = RGB(0x00358f),
    [WEFT_FLOW_BARRIER] = RGB(0x005a70), [WEFT_FLOW_SEM_POST] = RGB(0x6e5f00), [WEFT_FLOW_CREATE] = RGB(0x202020),
    [WEFT_FLOW_JOIN] = RGB(0x454545), [WEFT_FLOW_FORK] = RGB(0x5b2a86), [WEFT_FLOW_EXEC] = RGB(0x5b2a86),
    [WEFT_FLOW_WAIT] = RGB(0x454545), [WEFT_FLOW_PIPE] = RGB(0x005f5f),
    [WEFT_FLOW_MPI_MESSAGE] = RGB(0x7a3e00), [WEFT_FLOW_MPI_COLLECTIVE] = RGB(0x005a70),
    [WEFT_FLOW_SOCKET] = RGB(0x3d5a00),
  },
  .flow_casing = RGBA(0xffffff, 0.9f),
  /* red, which no state and no flow is */
  .crit = RGB(0xe01b24), .crit_fill = RGBA(0xe01b24, 0.22f),
};

static const WeftPalette dark = {
  .dark = TRUE,
  .state = STATES(0xf5f5f5),
  .runnable = RGB(0xa0dcc8), .offcpu = RGB(0x9e7b4f),
  .bg = RGB(0x1e1e1e), .row_alt = RGB(0x28292b), .proc = RGB(0x3a3e44), .host = RGB(0x4a5566), .chrome = RGB(0x2c2d30),
  .line = RGB(0x50545a), .grid = RGB(0x34363a), .text = RGB(0xeeeeec), .dim_text = RGB(0xa8adb3),
  .track_bg = RGB(0x1d2c28), .lane_bg = RGB(0x2e2b24), .merged = RGB(0xe8e8e8),
  .overview_bg = RGB(0x323438), .overview_fill = RGB(0x8a94a3), .window = RGB(0x78aeed),
  .window_fill = RGBA(0x78aeed, 0.16f), .sel_fill = RGBA(0x3584e4, 0.24f), .sel_edge = RGB(0x78aeed),
  .hl_wait = RGB(0xf6f5f4), .hl_hold = RGB(0xd68cf0), .mark = RGB(0xe69f00), .mark_fill = RGBA(0xe69f00, 0.18f),
  .hl_row = RGB(0x1d3a5f), .span_outline = RGB(0xffffff), .span_inner = RGB(0x000000),
  /* light and saturated, each on a black casing */
  .flow = {
    [0] = RGB(0xc0c0c0), [WEFT_FLOW_LOCK_HANDOFF] = RGB(0xff6ec7), [WEFT_FLOW_WAKEUP] = RGB(0x8cc4ff),
    [WEFT_FLOW_BARRIER] = RGB(0x86dcec), [WEFT_FLOW_SEM_POST] = RGB(0xf5e050), [WEFT_FLOW_CREATE] = RGB(0xf2f2f2),
    [WEFT_FLOW_JOIN] = RGB(0xcccccc), [WEFT_FLOW_FORK] = RGB(0xcfa6ff), [WEFT_FLOW_EXEC] = RGB(0xcfa6ff),
    [WEFT_FLOW_WAIT] = RGB(0xcccccc), [WEFT_FLOW_PIPE] = RGB(0x66e0d2),
    [WEFT_FLOW_MPI_MESSAGE] = RGB(0xffb066), [WEFT_FLOW_MPI_COLLECTIVE] = RGB(0x86dcec),
    [WEFT_FLOW_SOCKET] = RGB(0xb5e86b),
  },
  .flow_casing = RGBA(0x000000, 0.85f),
  .crit = RGB(0xff5f5f), .crit_fill = RGBA(0xff5f5f, 0.25f),
};
/* clang-format on */

const WeftPalette *weft_palette_light(void) { return &light; }
const WeftPalette *weft_palette_dark(void) { return &dark; }

gboolean weft_palette_theme_is_dark(GtkWidget *widget) {
  GdkRGBA c;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS /* gtk_widget_get_color is GTK 4.10 */
      gtk_style_context_get_color(gtk_widget_get_style_context(widget), &c);
  G_GNUC_END_IGNORE_DEPRECATIONS
  /* relative luminance (sRGB weights, without the gamma: a threshold is all it takes) */
  return 0.2126 * c.red + 0.7152 * c.green + 0.0722 * c.blue > 0.5;
}

const WeftPalette *weft_palette_for(GtkWidget *widget) { return weft_palette_theme_is_dark(widget) ? &dark : &light; }
