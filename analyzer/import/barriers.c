/* barriers.c - a file's barrier waits made into rounds, in bounded memory.
 * SPDX-License-Identifier: MIT
 *
 * A barrier's waits, in time order, N at a time, are its rounds (N from the
 * barrier's init, else the number of waits per one that returned
 * PTHREAD_BARRIER_SERIAL_THREAD); the last arrival of a round released the
 * others, which pass 2 draws as a flow from it. A barrier-heavy program
 * makes millions of waits, so nothing here grows with them in memory:
 *
 * - pass 1 puts each wait, once it ended (or the file did), into an
 *   external sort (util/weft-spill.c) by (barrier, start, thread);
 * - after pass 1 the sorted waits stream by a round at a time, and each
 *   wait's round (its last arrival) goes into a second sort, by (thread,
 *   start): the order in which pass 2 asks, a thread's waits one after the
 *   other;
 * - pass 2 reads them back in that order (by-thread.c).
 */
#include "config.h"

#include <stddef.h>

#include "import-private.h"

/* by-thread.c reads an answer's key, then its object */
_Static_assert(offsetof(BarRound, begin) == 0 && offsetof(BarRound, o) == sizeof(int64_t), "a BarRound's layout");

typedef struct { /* a barrier wait (32 bytes) */
  Obj *o;
  int64_t begin;
  Thr *t;
  int64_t serial;
} ArrRow;

static int cmp_arr(const void *a, const void *b) {
  const ArrRow *x = a, *y = b;
  if (x->o != y->o) return (uintptr_t)x->o < (uintptr_t)y->o ? -1 : 1;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return (x->t->utid > y->t->utid) - (x->t->utid < y->t->utid);
}

/* ---- pass 1 ---- */
static void arr_put(Imp *im, Thr *t, int serial) {
  Obj *o = t->arr_o;
  t->arr_o = NULL;
  ArrRow *r = imp_sort_row(im, &im->arr_spill, sizeof *r, cmp_arr, "the barrier waits");
  if (!r) return;
  *r = (ArrRow){o, t->arr_begin, t, serial};
  o->arr_n++;
  o->arr_serial += serial;
}

void barrier_arrive(Imp *im, Thr *t, Obj *o, int64_t ns) {
  if (t->arr_o) arr_put(im, t, 0); /* a wait that never ended (a record lost) */
  t->arr_o = o;
  t->arr_begin = ns;
}

void barrier_leave(Imp *im, Thr *t, Obj *o, int serial) {
  if (t->arr_o && t->arr_o == o) arr_put(im, t, serial);
}

/* ---- after pass 1 ---- */
/* The waits of one round (the last one released them) into the second sort. */
static int round_out(Imp *im, GArray *round) {
  if (!round->len) return 0;
  const ArrRow *last = &g_array_index(round, ArrRow, round->len - 1);
  for (guint i = 0; i < round->len; i++) {
    const ArrRow *a = &g_array_index(round, ArrRow, i);
    BarRound *r = by_thread_add(im, &im->rounds, a->t);
    if (!r) return -1;
    *r = (BarRound){a->begin, a->o, last->t->utid, last->begin};
  }
  g_array_set_size(round, 0);
  return 0;
}

/* The barrier's wait count: its init's, else the waits per serial one. */
static int64_t round_size(const Obj *o) {
  int64_t n = o->barrier_count;
  if (n <= 0 && o->arr_serial > 0 && o->arr_n % o->arr_serial == 0) n = o->arr_n / o->arr_serial;
  return n > 0 ? n : 1;
}

static int make_rounds(Imp *im) {
  GArray *round = g_array_new(FALSE, FALSE, sizeof(ArrRow));
  const ArrRow *a;
  const Obj *o = NULL;
  int64_t n = 1;
  int rc = 0;
  while (rc == 0 && (a = weft_spill_next(im->arr_spill))) {
    if (a->o != o || (int64_t)round->len == n) rc = round_out(im, round);
    if (a->o != o) {
      o = a->o;
      n = round_size(o);
    }
    g_array_append_val(round, *a);
  }
  if (rc == 0) rc = round_out(im, round);
  g_array_free(round, TRUE);
  if (rc == 0 && weft_spill_error(im->arr_spill))
    rc = imp_fail(im, "the barrier waits: %s", weft_spill_error(im->arr_spill));
  return rc;
}

int barriers_settle(Imp *im) {
  for (guint i = 0; i < im->threads->len; i++) { /* the waits still open at the file's end */
    Thr *t = im->threads->pdata[i];
    if (t->arr_o) arr_put(im, t, 0);
  }
  if (im->sql.failed) return -1;
  if (!im->arr_spill || !weft_spill_count(im->arr_spill)) return 0;
  if (make_rounds(im) < 0) return -1;
  return by_thread_settle(im, &im->rounds);
}

/* ---- pass 2 ---- */
int barrier_round(Imp *im, Thr *t, const Obj *o, int64_t begin, int64_t *rel_utid, int64_t *rel_ns) {
  const BarRound *r = by_thread_find(im, &im->rounds, t, begin, o);
  if (!r) return 0;
  *rel_utid = r->rel_utid;
  *rel_ns = r->rel_ns;
  return 1;
}

void barriers_file_end(Imp *im) {
  if (im->arr_spill) weft_spill_reset(im->arr_spill);
  by_thread_file_end(&im->rounds);
}

void barriers_free(Imp *im) {
  by_thread_free(&im->rounds);
  weft_spill_free(im->arr_spill);
  im->arr_spill = NULL;
}
