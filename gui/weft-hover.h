/* weft-hover.h - a span of a thread row with its object and call stack, read on a worker.
 * SPDX-License-Identifier: MIT
 *
 * Hovering a thread row shows the state interval under the pointer, its
 * object, its call stack (file:line) and, when it is running, how the
 * interval between scheduler readings around it split its running time:
 * database reads, made on a worker (weft_session_read_async) so that the
 * GTK thread never waits for them. The timeline keeps the last result and
 * reuses it while the pointer stays over what it read
 * (weft_hover_span_covers); it reads again when the pointer leaves it.
 * A click on a span, and the Details page of a span shown otherwise (an
 * object's longest wait), read the same way: the span (or only its object
 * and stack when it is known) without the CPU split.
 */
#ifndef WEFT_HOVER_H
#define WEFT_HOVER_H

#include <gio/gio.h>

#include "weft-session.h"

G_BEGIN_DECLS

#define WEFT_HOVER_FRAMES 8 /* a tooltip's frames at most (then "… N more") */

typedef struct {
  guint thread;     /* the thread's index in the session */
  int64_t t;        /* the time asked for */
  gboolean found;   /* a state interval contains t (else nothing below is set) */
  WeftSpan span;    /* that interval */
  char *object;     /* its object's name (weft_object_display_name), or NULL */
  GArray *stack;    /* its call stack (WeftFrame, innermost first; empty if none) */
  gboolean has_cpu; /* running, and an interval between scheduler readings has t: */
  WeftCpuInterval cpu;
} WeftHoverSpan;

/* Read thread i's span at t on a worker (with the CPU split if cpu);
 * callback gets it with weft_hover_read_finish. Needs nothing of session
 * after it returns. */
void weft_hover_read_async(WeftSession *session, guint i, int64_t t, gboolean cpu, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer data);
/* The same for a span known already (span->utid a thread of session's):
 * its object's name and its stack are read. */
void weft_hover_read_span_async(WeftSession *session, const WeftSpan *span, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer data);
/* The span read (found FALSE if none has t), or NULL with error set. */
WeftHoverSpan *weft_hover_read_finish(GAsyncResult *result, GError **error);
void weft_hover_span_free(WeftHoverSpan *h);
/* TRUE if h says all a tooltip shows for thread i at t: the same span and,
 * running, the same interval between scheduler readings. */
gboolean weft_hover_span_covers(const WeftHoverSpan *h, guint i, int64_t t);

G_END_DECLS

#endif /* WEFT_HOVER_H */
