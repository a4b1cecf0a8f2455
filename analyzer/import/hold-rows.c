/* hold-rows.c - the lock holds of a file, from pass 2 into hold_block rows.
 * SPDX-License-Identifier: MIT
 *
 * A hold is kept as a 24-byte row (there are millions) until the file is
 * read; then the file's holds are sorted by object and start and packed into
 * blocks (store/holds.c). The rows go through the analyzer's external sort
 * (util/weft-spill.c): past HOLD_SPILL_ROWS they are sorted in runs written
 * to a temporary file and merged from there, so memory stays bounded however
 * many holds a file has. The holds of a process-shared
 * object come from several files: they wait until every file is read, so
 * that its blocks follow each other in time like any object's.
 */
#include "config.h"

#include <stdlib.h>

#include "holds.h"
#include "import-private.h"

void hold_row(Imp *im, int64_t utid, Obj *o, int64_t start, int64_t end, int contended, int shared, int estimated) {
  if (end < start) end = start;
  HoldRow row = {start, end - start, (uint32_t)o->id,
                 (uint32_t)utid << 3 | (uint32_t)(estimated != 0) << 2 | (uint32_t)(shared != 0) << 1 |
                     (uint32_t)(contended != 0)};
  if (end - start > im->max_hold_ns) im->max_hold_ns = end - start;
  if (o->shared) {
    g_array_append_val(im->shared_holds, row); /* only the holds someone waited for: few */
  } else {
    HoldRow *r = weft_spill_add(im->hold_spill);
    if (r)
      *r = row;
    else
      imp_fail(im, "the lock holds: %s", weft_spill_error(im->hold_spill));
  }
  o->hold_ns += end - start;
  im->holds_estimated += estimated != 0;
}

static int cmp_hold(const void *x, const void *y) {
  const HoldRow *a = x, *b = y;
  if (a->obj != b->obj) return a->obj < b->obj ? -1 : 1;
  if (a->start != b->start) return a->start < b->start ? -1 : 1;
  return (a->utid_flags >> 3 > b->utid_flags >> 3) - (a->utid_flags >> 3 < b->utid_flags >> 3);
}

static inline int hold_before(const HoldRow *a, const HoldRow *b) {
  return a->start < b->start || (a->start == b->start && a->utid_flags >> 3 < b->utid_flags >> 3);
}
DEFINE_MERGE_RUNS(merge_holds, HoldRow, hold_before)

#define RADIX_BITS 11
#define RADIX      (1u << RADIX_BITS)

/* One stable counting pass of src into dst by the digit of key(row) - lo at shift. */
#define RADIX_PASS(src, dst, n, key, lo, shift, count)                                                           \
  do {                                                                                                           \
    memset(count, 0, RADIX * sizeof *count);                                                                     \
    for (size_t i_ = 0; i_ < n; i_++) count[((key(&src[i_])) - (lo)) >> (shift) & (RADIX - 1)]++;                \
    size_t sum_ = 0;                                                                                             \
    for (unsigned d_ = 0; d_ < RADIX; d_++) {                                                                    \
      size_t c_ = count[d_];                                                                                     \
      count[d_] = sum_;                                                                                          \
      sum_ += c_;                                                                                                \
    }                                                                                                            \
    for (size_t i_ = 0; i_ < n; i_++) dst[count[((key(&src[i_])) - (lo)) >> (shift) & (RADIX - 1)]++] = src[i_]; \
  } while (0)

static inline uint64_t hold_start_key(const HoldRow *r) { return (uint64_t)r->start; }
static inline uint64_t hold_utid_key(const HoldRow *r) { return r->utid_flags >> 3; }

/* One object's holds by (start, utid), stably, like merge_holds: least
 * significant digits first, the thread's then the start's (3 passes for
 * times under 8 s apart), each pass stable. tmp: n rows of scratch. */
static void radix_holds(HoldRow *v, HoldRow *tmp, size_t n, size_t *count) {
  int64_t smin = v[0].start, smax = v[0].start;
  uint64_t ulo = hold_utid_key(&v[0]), uhi = ulo;
  int inorder = 1;
  for (size_t i = 1; i < n; i++) {
    uint64_t u = hold_utid_key(&v[i]);
    inorder &= !hold_before(&v[i], &v[i - 1]);
    if (v[i].start < smin) smin = v[i].start;
    if (v[i].start > smax) smax = v[i].start;
    if (u < ulo) ulo = u;
    if (u > uhi) uhi = u;
  }
  if (inorder) return;
  const uint64_t slo = (uint64_t)smin, srange = (uint64_t)smax - (uint64_t)smin; /* start - smin, unsigned */
  HoldRow *src = v, *dst = tmp;
  for (unsigned sh = 0; sh < 64 && ((uhi - ulo) >> sh); sh += RADIX_BITS) {
    RADIX_PASS(src, dst, n, hold_utid_key, ulo, sh, count);
    HoldRow *x = src;
    src = dst;
    dst = x;
  }
  for (unsigned sh = 0; sh < 64 && (srange >> sh); sh += RADIX_BITS) {
    RADIX_PASS(src, dst, n, hold_start_key, slo, sh, count);
    HoldRow *x = src;
    src = dst;
    dst = x;
  }
  if (src != v) memcpy(v, src, n * sizeof *v);
}

/* By object (a stable counting pass: the file's objects have consecutive
 * ids), then each object's holds by start: the order of the spill
 * (hold_spill_new). */
static void *sort_holds(void *rows, void *tmp, size_t n) {
  HoldRow *v = rows;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (size_t i = 0; i < n; i++) {
    if (v[i].obj < lo) lo = v[i].obj;
    if (v[i].obj > hi) hi = v[i].obj;
  }
  if (hi - lo > (int64_t)n * 4) { /* sparse ids: not worth a table */
    qsort(v, n, sizeof *v, cmp_hold);
    return v;
  }
  size_t nk = (size_t)(hi - lo) + 2;
  size_t *at = g_new0(size_t, nk);
  for (size_t i = 0; i < n; i++) at[v[i].obj - lo + 1]++;
  for (size_t k = 1; k < nk; k++) at[k] += at[k - 1];
  HoldRow *out = tmp;
  size_t *fill = g_memdup2(at, nk * sizeof *at);
  for (size_t i = 0; i < n; i++) out[fill[v[i].obj - lo]++] = v[i];
  size_t *count = g_new(size_t, RADIX);
  for (size_t k = 0; k + 1 < nk; k++) {
    size_t m = at[k + 1] - at[k];
    if (m > 256)
      radix_holds(out + at[k], v + at[k], m, count);
    else if (m > 1)
      merge_holds(out + at[k], v + at[k], m);
  }
  g_free(count);
  g_free(fill);
  g_free(at);
  return out;
}

WeftSpill *hold_spill_new(size_t mem_rows) { return weft_spill_new(sizeof(HoldRow), mem_rows, cmp_hold, sort_holds); }

/* r into the block (the block into hold_block first when it is full or of another object). */
static void push_row(Imp *im, WeftHoldBlock *blk, const HoldRow *r) {
  const WeftHold hh = {r->obj,
                       r->utid_flags >> 3,
                       r->start,
                       r->dur,
                       (int)(r->utid_flags & 1),
                       (int)(r->utid_flags >> 1 & 1),
                       (int)(r->utid_flags >> 2 & 1)};
  int rc = weft_hold_block_push(im->ins_block, blk, &hh);
  if (rc == SQLITE_NOMEM)
    imp_fail(im, "out of memory");
  else if (rc != SQLITE_OK)
    weft_sql_error(&im->sql);
}

/* Every hold of the file in (object, start) order into blocks. */
void holds_to_blocks(Imp *im) {
  WeftHoldBlock blk = {0};
  const HoldRow *r;
  while (!im->sql.failed && (r = weft_spill_next(im->hold_spill))) push_row(im, &blk, r);
  if (weft_spill_error(im->hold_spill)) imp_fail(im, "the lock holds: %s", weft_spill_error(im->hold_spill));
  if (!im->sql.failed && weft_hold_block_insert(im->ins_block, &blk) != SQLITE_OK) weft_sql_error(&im->sql);
  weft_hold_block_free(&blk);
  holds_discard(im);
}

void shared_holds_to_blocks(Imp *im) {
  GArray *hr = im->shared_holds;
  if (!hr->len) return;
  qsort(hr->data, hr->len, sizeof(HoldRow), cmp_hold);
  WeftHoldBlock blk = {0};
  for (guint i = 0; i < hr->len && !im->sql.failed; i++) {
    push_row(im, &blk, &g_array_index(hr, HoldRow, i));
  }
  if (!im->sql.failed && weft_hold_block_insert(im->ins_block, &blk) != SQLITE_OK) weft_sql_error(&im->sql);
  weft_hold_block_free(&blk);
  hr->len = 0;
}

void holds_discard(Imp *im) { weft_spill_reset(im->hold_spill); }
