/* lod.c - a file's thread states, and their level-of-detail summaries.
 * SPDX-License-Identifier: MIT
 *
 * Pass 2 makes each thread's intervals in order; once the file is read they
 * are sorted by thread (a stable counting pass) and written in key order, so
 * every insert is an append, and from each thread's intervals come the
 * summaries (state_summary) a viewer reads when it shows more time than it
 * has pixels.
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

typedef struct {
  int64_t bucket;
  int carry;
} CarryRow;

typedef struct {
  int64_t v[7]; /* state_summary's columns */
} SumRow;

static void lod_flush(GArray *out, GArray *carries, int64_t utid, int level, Bucket *b) {
  if (!b->used) return;
  CarryRow cr = {b->bucket, b->carry};
  g_array_append_val(carries, cr);
  for (int s = 0; s < WEFT_ST_COUNT; s++) {
    if (!b->count[s]) continue;
    SumRow r = {{utid, level, b->bucket, s, b->total[s], b->longest[s], b->count[s]}};
    g_array_append_val(out, r);
  }
  memset(b, 0, sizeof *b);
}

/* Level L + 1 from level L: a bucket is its 4 children. Times add up and
 * longest is the largest; an interval overlapping two children is counted
 * in both, and it is the one that runs into the second from before (a
 * thread's intervals are contiguous), so the count is the children's sum
 * less one per carried-in internal child. */
static void lod_coarser(GArray *in, GArray *cin, GArray *out, GArray *cout, int64_t utid, int level, Bucket *b) {
  memset(b, 0, sizeof *b);
  guint r = 0;
  for (guint i = 0; i < cin->len; i++) {
    const CarryRow *c = &g_array_index(cin, CarryRow, i);
    int64_t K = c->bucket >> 2;
    if (b->used && b->bucket != K) lod_flush(out, cout, utid, level, b);
    if (!b->used) {
      b->used = 1;
      b->bucket = K;
      b->carry = (c->bucket & 3) == 0 ? c->carry : -1; /* the parent begins where its first child does */
    } else if (c->carry >= 0) {
      b->count[c->carry]--; /* counted in the child before too */
    }
    for (; r < in->len && g_array_index(in, SumRow, r).v[2] == c->bucket; r++) {
      const SumRow *x = &g_array_index(in, SumRow, r);
      int st = (int)x->v[3];
      b->total[st] += x->v[4];
      if (x->v[5] > b->longest[st]) b->longest[st] = x->v[5];
      b->count[st] += x->v[6];
    }
  }
  lod_flush(out, cout, utid, level, b);
}

/* out[L]: level L's rows, made in (bucket, state) order, so written level by
 * level they come in key order. The finest level from the intervals, each
 * coarser one from the one below. */
static void lod_thread(Imp *im, const Thr *t, const StateRow *rows, size_t n, Bucket *b, GArray **out,
                       GArray **carries) {
  int64_t s0 = t->start_ns, s1 = t->end_ns;
  int64_t life = s1 - s0 > 0 ? s1 - s0 : 1;
  int lo = 0, hi = 0;
  while (lo < LOD_MAX_LEVEL && life / ((int64_t)LOD_BASE_NS << (2 * lo)) + 1 > (int64_t)n / 2) lo++;
  while (hi < LOD_MAX_LEVEL && (s1 / ((int64_t)LOD_BASE_NS << (2 * hi))) != (s0 / ((int64_t)LOD_BASE_NS << (2 * hi))))
    hi++;
  if (n < 8 || lo > hi) return;
  memset(b, 0, sizeof *b);
  int64_t w = (int64_t)LOD_BASE_NS << (2 * lo);
  for (size_t i = 0; i < n; i++) {
    int64_t a = rows[i].v[1], d = rows[i].v[2];
    int s = (int)rows[i].v[3];
    if (s < 0 || s >= WEFT_ST_COUNT || d <= 0) continue;
    for (int64_t k = a / w; k <= (a + d - 1) / w; k++) {
      if (b->used && b->bucket != k) lod_flush(out[lo], carries[lo], t->utid, lo, b);
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
  lod_flush(out[lo], carries[lo], t->utid, lo, b);
  for (int L = lo + 1; L <= hi; L++) lod_coarser(out[L - 1], carries[L - 1], out[L], carries[L], t->utid, L, b);
  for (int L = lo; L <= hi; L++) {
    for (guint i = 0; i < out[L]->len && !im->sql.failed; i++)
      imp_batch_add(im, &im->summaries, g_array_index(out[L], SumRow, i).v, 0);
    out[L]->len = 0;
    carries[L]->len = 0;
  }
}

static int cmp_staterow(const void *x, const void *y) {
  const StateRow *a = x, *b = y;
  if (a->v[0] != b->v[0]) return a->v[0] < b->v[0] ? -1 : 1;
  return (a->v[1] > b->v[1]) - (a->v[1] < b->v[1]);
}

/* Thread states by utid (a stable counting pass: the file's threads have
 * consecutive utids), each thread's in start order as pass 2 made them
 * (checked: a thread whose rows are not gets sorted). */
static void sort_states(GArray *sr) {
  if (sr->len < 2) return;
  StateRow *v = (StateRow *)sr->data;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (guint i = 0; i < sr->len; i++) {
    if (v[i].v[0] < lo) lo = v[i].v[0];
    if (v[i].v[0] > hi) hi = v[i].v[0];
  }
  if (hi - lo > (int64_t)sr->len * 4) {
    qsort(v, sr->len, sizeof *v, cmp_staterow);
    return;
  }
  size_t nk = (size_t)(hi - lo) + 2;
  size_t *at = g_new0(size_t, nk);
  for (guint i = 0; i < sr->len; i++) at[v[i].v[0] - lo + 1]++;
  for (size_t k = 1; k < nk; k++) at[k] += at[k - 1];
  StateRow *out = g_new(StateRow, sr->len);
  size_t *fill = g_memdup2(at, nk * sizeof *at);
  for (guint i = 0; i < sr->len; i++) out[fill[v[i].v[0] - lo]++] = v[i];
  for (size_t k = 0; k + 1 < nk; k++)
    for (size_t i = at[k] + 1; i < at[k + 1]; i++)
      if (out[i].v[1] < out[i - 1].v[1]) {
        qsort(out + at[k], at[k + 1] - at[k], sizeof *out, cmp_staterow);
        break;
      }
  memcpy(v, out, sr->len * sizeof *v);
  g_free(out);
  g_free(fill);
  g_free(at);
}

/* The file's thread states (in key order, so every insert is an append)
 * and their level-of-detail summaries. */
void states_write(Imp *im) {
  GArray *sr = im->state_rows;
  sort_states(sr);
  GHashTable *by_utid = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (guint i = 0; i < im->threads->len; i++) {
    Thr *t = im->threads->pdata[i];
    g_hash_table_insert(by_utid, &t->utid, t);
  }
  Bucket *b = g_new0(Bucket, 1);
  GArray *sums[LOD_MAX_LEVEL + 1], *carries[LOD_MAX_LEVEL + 1];
  for (int L = 0; L <= LOD_MAX_LEVEL; L++) {
    sums[L] = g_array_new(FALSE, FALSE, sizeof(SumRow));
    carries[L] = g_array_new(FALSE, FALSE, sizeof(CarryRow));
  }
  for (guint i = 0; i < sr->len && !im->sql.failed;) {
    guint j = i;
    const StateRow *r = &g_array_index(sr, StateRow, i);
    while (j < sr->len && g_array_index(sr, StateRow, j).v[0] == r->v[0]) {
      imp_batch_add(im, &im->states, g_array_index(sr, StateRow, j).v,
                    0xf0); /* object, blocker, waker, stack: NULL when 0 */
      j++;
    }
    const Thr *t = g_hash_table_lookup(by_utid, &r->v[0]);
    if (t) lod_thread(im, t, r, j - i, b, sums, carries);
    i = j;
  }
  for (int L = 0; L <= LOD_MAX_LEVEL; L++) {
    g_array_free(sums[L], TRUE);
    g_array_free(carries[L], TRUE);
  }
  g_free(b);
  g_hash_table_destroy(by_utid);
  sr->len = 0;
}
