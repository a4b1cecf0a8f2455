/* weft-flows.h - the flow arrows of the timeline: every flow read once, bundled per window.
 * SPDX-License-Identifier: MIT
 *
 * A WeftFlows is every flow of the recording (lock hand-offs, wake-ups,
 * creates, joins, forks, pipes, ...), read once on a worker thread
 * (weft_flows_read_async) through a connection of its own and kept sorted by
 * both ends' times. For a window, weft_flows_select picks the flows with an
 * end in it that pass a filter (kinds, an object, a thread) and whose ends
 * are on two different rows, and bundles them: flows of one kind between the
 * same two rows whose ends in the window are within a bundle width of each
 * other become one arrow (drawn thicker), the width doubled until the arrows
 * fit the budget (an arrow per 8 px of the window's width); when one
 * bundle per pair of rows is still too many (dozens of threads handing a
 * lock to each other), the flows are bundled by 64 px, the biggest bundles
 * of each 64 px are drawn (as many as the budget allows) and the rest
 * counted as not shown. So flows are bundled evenly over the window rather than
 * dropped, and the counts say how many of each kind the window has and how
 * many are shown. Immutable once read and
 * reference-counted: the GTK thread and the fold worker share it.
 */
#ifndef WEFT_FLOWS_H
#define WEFT_FLOWS_H

#include <gio/gio.h>

#include "weft-palette.h"
#include "weft-session.h"

G_BEGIN_DECLS

#define WEFT_FLOW_BUNDLE_PX    12 /* flows closer than this (px) on the same rows are one arrow */
#define WEFT_FLOW_PX_PER_ARROW 8  /* at most an arrow per 8 px of the window's width ... */
#define WEFT_FLOW_MIN_ARROWS   64 /* ... or 64 (the bundle width grows until they fit) */
#define WEFT_FLOW_THIN_PX      64 /* when they cannot fit: bundles this wide, the biggest of each 64 px drawn */

typedef struct _WeftFlows WeftFlows;

/* Read every flow on a worker thread; callback gets them with
 * weft_flows_read_finish. Needs nothing of session after it returns. */
void weft_flows_read_async(WeftSession *session, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer data);
/* The flows (a reference), or NULL with error set. */
WeftFlows *weft_flows_read_finish(GAsyncResult *result, GError **error);
WeftFlows *weft_flows_ref(WeftFlows *flows);
void weft_flows_unref(WeftFlows *flows);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WeftFlows, weft_flows_unref)

guint weft_flows_get_n(const WeftFlows *flows);
/* Bit k set if the recording has flows of WeftFlowKind k. */
guint weft_flows_get_kinds(const WeftFlows *flows);

/* Which flows to show and where their ends are drawn. */
typedef struct {
  guint kinds;       /* bit k: WeftFlowKind k shown */
  int64_t object_id; /* only the flows of this sync object, or -1 */
  int thread;        /* only the flows from or to this thread index, or -1 */
  guint n_threads;
  int *row; /* [n_threads]: the row thread i is drawn on (a collapsed process's threads share one) */
} WeftFlowFilter;

WeftFlowFilter *weft_flow_filter_copy(const WeftFlowFilter *f);
void weft_flow_filter_free(WeftFlowFilter *f);

/* One arrow: a flow, or a bundle of count flows (its times the means of theirs). */
typedef struct {
  double from_ns, to_ns;
  int from_thread, to_thread; /* thread indices of the first flow of the bundle */
  guint count;
  guint8 kind;
} WeftFlowArrow;

/* The arrows of a window, one allocation (g_free). */
typedef struct {
  guint total[WEFT_FLOW_COUNT]; /* flows of each kind with an end in the window */
  guint shown[WEFT_FLOW_COUNT]; /* of those, in an arrow (the kind shown, the filter passed, two rows) */
  guint kinds;                  /* the kinds shown (the filter's) */
  gboolean scoped;              /* only an object's or a thread's flows were shown */
  double bundle_px;             /* the bundle width (px), 0 when every arrow is one flow */
  guint n_arrows;
  WeftFlowArrow arrows[];
} WeftFlowSet;

/* The arrows of the window [t0, t0 + npp·npx] (any thread). */
WeftFlowSet *weft_flows_select(const WeftFlows *flows, const WeftFlowFilter *filter, double t0, double npp, int npx);

/* "hand-off", "wake-up", ... (plural: "hand-offs"). */
const char *weft_flow_kind_label(int kind, gboolean plural);
/* What the set shows of the kinds shown, for the timeline: "1,200 of 74,606
 * hand-offs shown · 12 wake-ups · bundled: 310 arrows (flows within 12 px)"
 * (newly allocated); when scoped, the kinds none of whose flows is shown are
 * left out. */
char *weft_flow_set_caption(const WeftFlowSet *set);

/* The arrows' image, kept from frame to frame (the timeline's): drawn
 * again only when the arrows or where they go changed. */
typedef struct _WeftFlowImage WeftFlowImage;
WeftFlowImage *weft_flow_image_new(void);
void weft_flow_image_free(WeftFlowImage *im);

/* Draw the set's arrows with cr (user space: the widget's) through im:
 * thread i's end at y_of[i] (< 0: not drawn), time t at x0 + (t - t0) /
 * npp, the window npx wide from x0. An arrow is the kind's colour on a
 * casing of the palette's (it reads on any bar), wider for a bundle of
 * more flows. */
void weft_flows_draw(cairo_t *cr, WeftFlowImage *im, const WeftFlowSet *set, const WeftPalette *pal, const double *y_of,
                     guint n_threads, double x0, int npx, double t0, double npp);

G_END_DECLS

#endif /* WEFT_FLOWS_H */
