/* lod.c - a file's thread states, and their level-of-detail summaries.
 * SPDX-License-Identifier: MIT
 *
 * Pass 2 makes each thread's intervals in order; they go through the
 * analyzer's external sort (util/weft-spill.c: bounded memory) by thread and
 * come back in key order, so every insert is an append, and from each
 * thread's intervals, as they stream by, come the summaries (state_summary)
 * a viewer reads when it shows more time than it has pixels. They too are
 * appended in key order (utid, level, bucket, state), twice as fast as
 * inserts whose levels interleave: the finest level's rows go in as they are
 * made, the coarser levels' (a third as many) wait in an external sort until
 * the thread's last interval.
 */
#include "config.h"

#include <stdlib.h>

#include "import-private.h"

/* Level of detail: per thread, per level L (buckets of LOD_BASE_NS * 4^L),
 * per bucket and state: time, longest interval and interval count. The
 * finest level kept is the first whose bucket count is at most half the
 * thread's interval count; every coarser level up to one bucket for the
 * thread's life is kept. Threads with few intervals get none (viewers read
 * their intervals directly). LOD_BASE_NS is in import-private.h (the meta
 * records it). */
#define LOD_MAX_LEVEL 24

typedef struct {
  int64_t total[WEFT_ST_COUNT], longest[WEFT_ST_COUNT], count[WEFT_ST_COUNT];
  int64_t bucket;
  int used;
  int carry; /* state of the interval that began before the bucket and runs into it, -1 none */
} Bucket;

/* One thread's summaries, made as its intervals stream by: a bucket being
 * filled at each level; a finished bucket is written and added into the
 * level above. */
typedef struct {
  int64_t utid, w; /* w: the finest level's bucket width */
  int lo, hi;      /* the levels kept; lo > hi: none */
  Bucket b[LOD_MAX_LEVEL + 1];
} Lod;

static void lod_add_child(Imp *im, Lod *l, int level, const Bucket *c);

typedef struct {
  int64_t v[7]; /* state_summary's columns */
} SumRow;

static int cmp_sumrow(const void *x, const void *y) {
  const SumRow *a = x, *b = y;
  for (int k = 1; k < 4; k++) /* (one thread's) */
    if (a->v[k] != b->v[k]) return a->v[k] < b->v[k] ? -1 : 1;
  return 0;
}

WeftSpill *summary_spill_new(size_t mem_rows) { return weft_spill_new(sizeof(SumRow), mem_rows, cmp_sumrow, NULL); }

/* Level's bucket into state_summary (the finest level's now, the others'
 * at the thread's end), and into its parent at level + 1. */
static void lod_flush(Imp *im, Lod *l, int level) {
  Bucket *b = &l->b[level];
  if (!b->used) return;
  for (int s = 0; s < WEFT_ST_COUNT; s++) {
    if (!b->count[s]) continue;
    SumRow r = {{l->utid, level, b->bucket, s, b->total[s], b->longest[s], b->count[s]}};
    if (level == l->lo) {
      imp_batch_add(im, &im->summaries, r.v, 0);
    } else {
      SumRow *to = weft_spill_add(im->sum_spill);
      if (!to) {
        imp_fail(im, "the summaries: %s", weft_spill_error(im->sum_spill));
        break;
      }
      *to = r;
    }
  }
  if (level < l->hi) lod_add_child(im, l, level + 1, b);
  memset(b, 0, sizeof *b);
}

/* Level L + 1 from level L: a bucket is its 4 children. Times add up and
 * longest is the largest; an interval overlapping two children is counted
 * in both, and it is the one that runs into the second from before (a
 * thread's intervals are contiguous), so the count is the children's sum
 * less one per carried-in internal child. */
static void lod_add_child(Imp *im, Lod *l, int level, const Bucket *c) {
  Bucket *b = &l->b[level];
  int64_t K = c->bucket >> 2;
  if (b->used && b->bucket != K) lod_flush(im, l, level);
  if (!b->used) {
    b->used = 1;
    b->bucket = K;
    b->carry = (c->bucket & 3) == 0 ? c->carry : -1; /* the parent begins where its first child does */
  } else if (c->carry >= 0) {
    b->count[c->carry]--; /* counted in the child before too */
  }
  for (int st = 0; st < WEFT_ST_COUNT; st++) {
    b->total[st] += c->total[st];
    if (c->longest[st] > b->longest[st]) b->longest[st] = c->longest[st];
    b->count[st] += c->count[st];
  }
}

/* The levels kept for t's n intervals: the finest is the first whose bucket
 * count is at most half of n; every coarser one up to one bucket for its life. */
static void lod_begin(Lod *l, const Thr *t, int64_t n) {
  int64_t s0 = t->start_ns, s1 = t->end_ns;
  int64_t life = s1 - s0 > 0 ? s1 - s0 : 1;
  int lo = 0, hi = 0;
  while (lo < LOD_MAX_LEVEL && life / ((int64_t)LOD_BASE_NS << (2 * lo)) + 1 > n / 2) lo++;
  while (hi < LOD_MAX_LEVEL && (s1 / ((int64_t)LOD_BASE_NS << (2 * hi))) != (s0 / ((int64_t)LOD_BASE_NS << (2 * hi))))
    hi++;
  memset(l, 0, sizeof *l);
  l->utid = t->utid;
  l->lo = lo;
  l->hi = n < 8 ? -1 : hi; /* few intervals: viewers read them directly */
  l->w = (int64_t)LOD_BASE_NS << (2 * lo);
}

/* One interval (in start order) into the finest level's buckets. */
static void lod_row(Imp *im, Lod *l, const StateRow *row) {
  if (l->lo > l->hi) return;
  int64_t a = row->start, d = row->dur, w = l->w;
  int s = row->state;
  if (s < 0 || s >= WEFT_ST_COUNT || d <= 0) return;
  Bucket *b = &l->b[l->lo];
  for (int64_t k = a / w; k <= (a + d - 1) / w; k++) {
    if (b->used && b->bucket != k) lod_flush(im, l, l->lo);
    if (!b->used) {
      b->used = 1;
      b->bucket = k;
      b->carry = a < k * w ? s : -1;
    }
    int64_t x0 = a > k * w ? a : k * w, x1 = a + d < (k + 1) * w ? a + d : (k + 1) * w;
    b->total[s] += x1 - x0;
    if (d > b->longest[s]) b->longest[s] = d;
    b->count[s]++;
  }
}

/* The thread's last buckets, then its coarser levels' rows in key order. */
static void lod_end(Imp *im, Lod *l) {
  for (int L = l->lo; L <= l->hi; L++) lod_flush(im, l, L);
  const SumRow *r;
  while (!im->sql.failed && (r = weft_spill_next(im->sum_spill))) imp_batch_add(im, &im->summaries, r->v, 0);
  if (weft_spill_error(im->sum_spill)) imp_fail(im, "the summaries: %s", weft_spill_error(im->sum_spill));
  weft_spill_reset(im->sum_spill);
}

static int cmp_staterow(const void *x, const void *y) {
  const StateRow *a = x, *b = y;
  if (a->utid != b->utid) return a->utid < b->utid ? -1 : 1;
  return (a->start > b->start) - (a->start < b->start);
}

/* Thread states by utid (a stable counting pass: the file's threads have
 * consecutive utids), each thread's in start order as pass 2 made them
 * (checked: a thread whose rows are not gets sorted). */
static void *sort_states(void *rows, void *tmp, size_t n) {
  StateRow *v = rows;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (size_t i = 0; i < n; i++) {
    if ((int64_t)v[i].utid < lo) lo = (int64_t)v[i].utid;
    if ((int64_t)v[i].utid > hi) hi = (int64_t)v[i].utid;
  }
  if (hi - lo > (int64_t)n * 4) {
    qsort(v, n, sizeof *v, cmp_staterow);
    return v;
  }
  size_t nk = (size_t)(hi - lo) + 2;
  size_t *at = g_new0(size_t, nk);
  for (size_t i = 0; i < n; i++) at[(int64_t)v[i].utid - lo + 1]++;
  for (size_t k = 1; k < nk; k++) at[k] += at[k - 1];
  StateRow *out = tmp;
  size_t *fill = g_memdup2(at, nk * sizeof *at);
  for (size_t i = 0; i < n; i++) out[fill[(int64_t)v[i].utid - lo]++] = v[i];
  for (size_t k = 0; k + 1 < nk; k++)
    for (size_t i = at[k] + 1; i < at[k + 1]; i++)
      if (out[i].start < out[i - 1].start) {
        qsort(out + at[k], at[k + 1] - at[k], sizeof *out, cmp_staterow);
        break;
      }
  g_free(fill);
  g_free(at);
  return out;
}

WeftSpill *state_spill_new(size_t mem_rows) {
  return weft_spill_new(sizeof(StateRow), mem_rows, cmp_staterow, sort_states);
}

/* The file's thread states (in key order, so every insert is an append)
 * and their level-of-detail summaries, as the sorted rows stream by. */
void states_write(Imp *im) {
  GHashTable *by_utid = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (guint i = 0; i < im->threads->len; i++) {
    Thr *t = im->threads->pdata[i];
    g_hash_table_insert(by_utid, &t->utid, t);
  }
  Lod *l = g_new0(Lod, 1);
  int64_t utid = -1;
  const StateRow *r;
  while (!im->sql.failed && (r = weft_spill_next(im->state_spill))) {
    if ((int64_t)r->utid != utid) {
      lod_end(im, l);
      utid = r->utid;
      const Thr *t = g_hash_table_lookup(by_utid, &utid);
      if (t)
        lod_begin(l, t, t->nstates);
      else
        l->lo = 1, l->hi = 0; /* none */
    }
    int64_t row[9] = {r->utid, r->start, r->dur, r->state, r->obj, r->blocker, r->waker, r->stack, r->result};
    imp_batch_add(im, &im->states, row, 0xf0); /* object, blocker, waker, stack: NULL when 0 */
    lod_row(im, l, r);
  }
  lod_end(im, l);
  if (weft_spill_error(im->state_spill)) imp_fail(im, "the thread states: %s", weft_spill_error(im->state_spill));
  g_free(l);
  g_hash_table_destroy(by_utid);
  weft_spill_reset(im->state_spill);
}
