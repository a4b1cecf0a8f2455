/* weft-highlight.h - the waits and holds of one sync object, as the timeline highlights them.
 * SPDX-License-Identifier: MIT
 *
 * Picking a lock highlights every wait for it (a strip over the waiting
 * thread's row) and every hold of it (a strip under the holder's row);
 * picking a function or a file (the search, the wait flame graph) every
 * wait whose call stack passes through it. A
 * WeftHighlight is the object's waits and holds over the whole recording, by
 * thread, read once on a worker thread (weft_highlight_read_async) through a
 * connection of its own; after that any window folds them into pixel strips
 * from memory (weft_highlight_fold), at the level of detail of the rows: a
 * pixel is marked if some wait or hold overlaps it, so ten thousand holds
 * narrower than a pixel are one run of marked pixels, not ten thousand
 * rectangles. Immutable once read and reference-counted: the GTK thread
 * and the fold worker share it.
 */
#ifndef WEFT_HIGHLIGHT_H
#define WEFT_HIGHLIGHT_H

#include <gio/gio.h>

#include "weft-session.h"

G_BEGIN_DECLS

/* Bits of a folded pixel: a wait for the object, a hold of it. */
#define WEFT_HL_WAIT 1
#define WEFT_HL_HOLD 2

typedef struct _WeftHighlight WeftHighlight;

/* Read object_id's waits and holds on a worker thread; callback gets them
 * with weft_highlight_read_finish. Needs nothing of session after it
 * returns (the file's path and the threads' indices are copied). */
void weft_highlight_read_async(WeftSession *session, int64_t object_id, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer data);
/* The same for the waits whose call stacks have a frame of function (its
 * symbol) and of file (each NULL: any), or are among stacks[0..n_stacks):
 * the waits of a function or file found by the search, of a frame of the
 * wait flame graph. No holds; label says what they are the waits of. */
void weft_highlight_read_frames_async(WeftSession *session, const char *label, const char *function, const char *file,
                                      const int64_t *stacks, guint n_stacks, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer data);
/* The highlight (a reference), or NULL with error set (cancelled, or the
 * database could not be read). */
WeftHighlight *weft_highlight_read_finish(GAsyncResult *result, GError **error);

WeftHighlight *weft_highlight_ref(WeftHighlight *hl);
void weft_highlight_unref(WeftHighlight *hl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WeftHighlight, weft_highlight_unref)

int64_t weft_highlight_get_object(const WeftHighlight *hl); /* -1 for waits of frames */
/* What a frames highlight is of ("function worker"), NULL for an object. */
const char *weft_highlight_get_label(const WeftHighlight *hl);
/* The object's name (weft_object_display_name, read with its waits), NULL for frames. */
const char *weft_highlight_get_object_name(const WeftHighlight *hl);
/* How many waits it highlights. */
guint weft_highlight_get_n_waits(const WeftHighlight *hl);
/* The longest wait for the object (the first of equals); FALSE if none. */
gboolean weft_highlight_get_worst_wait(const WeftHighlight *hl, WeftSpan *out);

/* Fold thread i's waits (WEFT_HL_WAIT) and holds (WEFT_HL_HOLD) over the
 * npx pixels [t0 + k·npp, t0 + (k+1)·npp) into out[0..npx). Any thread. */
void weft_highlight_fold(const WeftHighlight *hl, guint i, double t0, double npp, int npx, guint8 *out);

G_END_DECLS

#endif /* WEFT_HIGHLIGHT_H */
