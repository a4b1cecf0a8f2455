/* waitstarts.c - where a hold whose start was not timed began, in bounded memory.
 * SPDX-License-Identifier: MIT
 *
 * Trace v3 times a hold only when its start was sampled; a hold someone
 * waited for is written at its release all the same, and its start is known
 * to be no later than the first wait for it by another thread (one that
 * began after the lock's previous release, and was not for another holder).
 * A contended program makes millions of waits, so their starts do not stay
 * in memory:
 *
 * - pass 1 puts each wait's start on a lock into an external sort
 *   (util/weft-spill.c) by (lock, time, order in the file);
 * - after pass 1 each lock's sorted wait starts meet its sorted releases
 *   (stamps.c), and for every release whose interval since the previous one
 *   holds such a wait, the start it gives goes into a second sort by (thread,
 *   time): the order in which pass 2 asks, a thread's releases one after the
 *   other;
 * - pass 2 reads them back in that order (by-thread.c).
 */
#include "config.h"

#include <stddef.h>

#include "import-private.h"

/* by-thread.c reads an answer's key, then its object */
_Static_assert(offsetof(HoldStart, ns) == 0 && offsetof(HoldStart, o) == sizeof(int64_t), "a HoldStart's layout");

typedef struct { /* a wait on a lock began (40 bytes) */
  Obj *o;
  int64_t ns;
  int64_t seq; /* its place in the file (ties at one time keep it) */
  int64_t utid;
  uint32_t holder; /* tid that held the lock then, 0 unknown */
} WsRow;

static int cmp_ws(const void *a, const void *b) {
  const WsRow *x = a, *y = b;
  if (x->o != y->o) return (uintptr_t)x->o < (uintptr_t)y->o ? -1 : 1;
  if (x->ns != y->ns) return x->ns < y->ns ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

/* ---- pass 1 ---- */
void wait_start_add(Imp *im, Thr *t, Obj *o, int64_t ns, uint32_t holder) {
  WsRow *r = imp_sort_row(im, &im->ws_spill, sizeof *r, cmp_ws, "the waits' starts");
  if (!r) return;
  *r = (WsRow){o, ns, (int64_t)weft_spill_count(im->ws_spill), t->utid, holder};
}

/* ---- after pass 1 ---- */
typedef struct {
  Imp *im;
  GHashTable *thr;   /* utid -> Thr of the file */
  const WsRow *next; /* the next wait start of the sort (NULL: none left) */
  GArray *win;       /* WsRow: the object's starts since the previous release */
  guint head;        /* win's first row still in the interval */
} Sweep;

/* The answer of o's release s, if one of the starts in win is it. */
static int answer(Sweep *w, Obj *o, Stamp s) {
  Thr *t = g_hash_table_lookup(w->thr, GINT_TO_POINTER((gint)s.utid));
  if (!t) return 0;
  for (guint k = w->head; k < w->win->len; k++) {
    const WsRow *r = &g_array_index(w->win, WsRow, k);
    if (r->utid != t->utid && (!r->holder || r->holder == t->tid)) {
      HoldStart *a = by_thread_add(w->im, &w->im->starts, t);
      if (!a) return -1;
      *a = (HoldStart){s.ns, o, r->ns};
      return 0;
    }
  }
  return 0;
}

/* o's releases in time order against its wait starts (w->next is its first). */
static int sweep_object(Sweep *w, Obj *o) {
  Imp *im = w->im;
  if (!o->untimed) { /* every hold of it was timed: nothing to answer */
    while (w->next && w->next->o == o) w->next = weft_spill_next(im->ws_spill);
    return 0;
  }
  stamps_order(im, &o->rel);
  g_array_set_size(w->win, 0);
  w->head = 0;
  int64_t lo = INT64_MIN, prev = INT64_MIN; /* the interval's start: the last release before */
  for (guint i = 0; i < o->rel.len && !im->sql.failed; i++) {
    Stamp s = stamp_get(im, &o->rel, i);
    if (i && s.ns > prev) lo = prev;
    prev = s.ns;
    for (; w->next && w->next->o == o && w->next->ns < s.ns; w->next = weft_spill_next(im->ws_spill))
      g_array_append_val(w->win, *w->next);
    while (w->head < w->win->len && g_array_index(w->win, WsRow, w->head).ns < lo) w->head++;
    if (w->head > 1024 && w->head * 2 > w->win->len) {
      g_array_remove_range(w->win, 0, w->head);
      w->head = 0;
    }
    if (w->head < w->win->len && answer(w, o, s) < 0) return -1;
  }
  while (w->next && w->next->o == o) w->next = weft_spill_next(im->ws_spill); /* after its last release */
  return im->sql.failed ? -1 : 0;
}

int wait_starts_settle(Imp *im) {
  if (!im->ws_spill || !weft_spill_count(im->ws_spill)) return 0;
  Sweep w = {im, g_hash_table_new(g_direct_hash, g_direct_equal), NULL, g_array_new(FALSE, FALSE, sizeof(WsRow)), 0};
  for (guint i = 0; i < im->threads->len; i++) {
    Thr *t = im->threads->pdata[i];
    g_hash_table_insert(w.thr, GINT_TO_POINTER((gint)t->utid), t);
  }
  int rc = 0;
  w.next = weft_spill_next(im->ws_spill);
  while (rc == 0 && w.next) rc = sweep_object(&w, w.next->o);
  g_hash_table_destroy(w.thr);
  g_array_free(w.win, TRUE);
  if (rc == 0 && weft_spill_error(im->ws_spill))
    rc = imp_fail(im, "the waits' starts: %s", weft_spill_error(im->ws_spill));
  return rc == 0 ? by_thread_settle(im, &im->starts) : -1;
}

/* ---- pass 2 ---- */
int hold_start_find(Imp *im, Thr *t, const Obj *o, int64_t ns, int64_t *start) {
  const HoldStart *a = by_thread_find(im, &im->starts, t, ns, o);
  if (!a) return 0;
  *start = a->start;
  return 1;
}

void wait_starts_file_end(Imp *im) {
  if (im->ws_spill) weft_spill_reset(im->ws_spill);
  by_thread_file_end(&im->starts);
}

void wait_starts_free(Imp *im) {
  by_thread_free(&im->starts);
  weft_spill_free(im->ws_spill);
  im->ws_spill = NULL;
}
