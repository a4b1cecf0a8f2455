/* weft-fold.h - collapsed processes: a process tree folded into one summary row.
 * SPDX-License-Identifier: MIT
 *
 * Collapsing a process folds its threads, and those of every process under
 * it in the process tree, into its header row, which then shows what they
 * did together per pixel column as the running track does: the shares of
 * their alive time on a CPU, runnable, off a CPU and waiting (in the colour
 * of the wait with the most time), stacked from the bottom. The processes
 * are in tree order and their threads numbered in that order, so a folded
 * tree is a range of processes and a range of threads. A recording of two
 * hosts or more orders its processes by host first: a host folds the same
 * way, its processes' range and their threads' into its header row.
 */
#ifndef WEFT_FOLD_H
#define WEFT_FOLD_H

#include <glib.h>

#include "weft-session.h"

G_BEGIN_DECLS

/* How a process is shown. */
typedef enum {
  WEFT_FOLD_OPEN, /* its header, its threads and lock lanes, then its children */
  WEFT_FOLD_OWN,  /* its threads summarised in its header; its children shown (launchers start so) */
  WEFT_FOLD_TREE, /* its threads and its whole subtree's summarised in its header */
} WeftFold;

/* The end of process p's subtree: p's descendants are p + 1 .. end - 1. */
guint weft_fold_subtree_end(WeftSession *session, guint p);
/* The first thread of process p, or the thread count when p is past the
 * last process: the threads of processes a .. b - 1 are
 * weft_fold_first_thread(a) .. weft_fold_first_thread(b) - 1. */
guint weft_fold_first_thread(WeftSession *session, guint p);
/* The parent of process p in the tree (the last process before it one level up), or -1. */
int weft_fold_parent(WeftSession *session, guint p);

/* One pixel column of a summary row: the folded threads' time, in threads
 * (1 = one thread the whole pixel). */
typedef struct {
  float alive, oncpu, runnable, offcpu, waiting;
  float top_wait;    /* the most waiting of one thread in the pixel ... */
  guint8 wait_state; /* ... and its wait state (WEFT_PIXEL_NONE: none) */
} WeftFoldPixel;

void weft_fold_clear(WeftFoldPixel *acc, int npx);
/* Add one thread's folded pixels (NULL: not folded yet, nothing added). */
void weft_fold_add(WeftFoldPixel *acc, const WeftPixel *px, int npx);

/* The heights of a summary column's parts in a stack of h px, from the
 * bottom: on a CPU, runnable, off a CPU, waiting, in their shares of the
 * alive time (all 0 when nothing was alive); a part of at least 5 % gets a
 * pixel. */
void weft_fold_heights(const WeftFoldPixel *px, int h, int out[4]);

G_END_DECLS

#endif /* WEFT_FOLD_H */
