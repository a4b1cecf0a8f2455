/* weft-timeline.h - the timeline: a time ruler, one row per thread grouped
 * under its process, and a legend, drawn with GtkSnapshot.
 * SPDX-License-Identifier: MIT
 */
#ifndef WEFT_TIMELINE_H
#define WEFT_TIMELINE_H

#include <gtk/gtk.h>

#include "weft-session.h"

G_BEGIN_DECLS

#define WEFT_TYPE_TIMELINE (weft_timeline_get_type())
G_DECLARE_FINAL_TYPE(WeftTimeline, weft_timeline, WEFT, TIMELINE, GtkWidget)

GtkWidget *weft_timeline_new(void);
/* The timeline does not own the session; it must outlive the widget or be
 * replaced (NULL) first. Setting a session fits the whole recording. */
void weft_timeline_set_session(WeftTimeline *self, WeftSession *session);
WeftSession *weft_timeline_get_session(WeftTimeline *self);
/* The visible window [start, end) in ns since the start of the recording. */
void weft_timeline_set_range(WeftTimeline *self, int64_t start_ns, int64_t end_ns);
void weft_timeline_get_range(WeftTimeline *self, int64_t *start_ns, int64_t *end_ns);
/* Show the whole recording. */
void weft_timeline_fit(WeftTimeline *self);

G_END_DECLS

#endif /* WEFT_TIMELINE_H */
