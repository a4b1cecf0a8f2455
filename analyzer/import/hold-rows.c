/* hold-rows.c - the lock holds of a file, from pass 2 into hold_block rows.
 * SPDX-License-Identifier: MIT
 *
 * A hold is kept as a 24-byte row (there are millions) until the file is
 * read; then the file's holds are sorted by object and start and packed into
 * blocks (store/holds.c). Past a bound (HOLD_SPILL_ROWS) the rows are sorted
 * in runs written to a temporary file and merged from there, so memory stays
 * bounded however many holds a file has. The holds of a process-shared
 * object come from several files: they wait until every file is read, so
 * that its blocks follow each other in time like any object's.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "holds.h"
#include "import-private.h"

static void hold_spill(Imp *im);

void hold_row(Imp *im, int64_t utid, Obj *o, int64_t start, int64_t end, int contended, int shared, int estimated) {
  if (end < start) end = start;
  HoldRow row = {start, end - start, (uint32_t)o->id,
                 (uint32_t)utid << 3 | (uint32_t)(estimated != 0) << 2 | (uint32_t)(shared != 0) << 1 |
                     (uint32_t)(contended != 0)};
  if (end - start > im->max_hold_ns) im->max_hold_ns = end - start;
  if (o->shared) {
    g_array_append_val(im->shared_holds, row); /* only the holds someone waited for: few */
  } else {
    g_array_append_val(im->hold_rows, row);
    if (im->hold_rows->len >= im->hold_spill_rows) hold_spill(im);
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

/* By object (a stable counting pass: the file's objects have consecutive
 * ids), then each object's holds by start. */
static void sort_holds(GArray *hr) {
  if (hr->len < 2) return;
  HoldRow *v = (HoldRow *)hr->data;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (guint i = 0; i < hr->len; i++) {
    if (v[i].obj < lo) lo = v[i].obj;
    if (v[i].obj > hi) hi = v[i].obj;
  }
  if (hi - lo > (int64_t)hr->len * 4) { /* sparse ids: not worth a table */
    qsort(v, hr->len, sizeof *v, cmp_hold);
    return;
  }
  size_t nk = (size_t)(hi - lo) + 2;
  size_t *at = g_new0(size_t, nk);
  for (guint i = 0; i < hr->len; i++) at[v[i].obj - lo + 1]++;
  for (size_t k = 1; k < nk; k++) at[k] += at[k - 1];
  HoldRow *out = g_new(HoldRow, hr->len);
  size_t *fill = g_memdup2(at, nk * sizeof *at);
  for (guint i = 0; i < hr->len; i++) out[fill[v[i].obj - lo]++] = v[i];
  for (size_t k = 0; k + 1 < nk; k++)
    if (at[k + 1] - at[k] > 1) merge_holds(out + at[k], v + at[k], at[k + 1] - at[k]);
  memcpy(v, out, hr->len * sizeof *v);
  g_free(out);
  g_free(fill);
  g_free(at);
}

/* hold_rows, sorted, as a run at the end of the spill file. */
static void hold_spill(Imp *im) {
  GArray *hr = im->hold_rows;
  if (im->sql.failed || !hr->len) return;
  if (!im->hold_spill && !(im->hold_spill = tmpfile())) {
    imp_fail(im, "cannot create a temporary file for the lock holds: %s", g_strerror(errno));
    return;
  }
  sort_holds(hr);
  HoldRun run = {0, hr->len};
  if (fseeko(im->hold_spill, 0, SEEK_END) != 0 || (run.off = ftello(im->hold_spill)) < 0 ||
      fwrite(hr->data, sizeof(HoldRow), hr->len, im->hold_spill) != hr->len) {
    imp_fail(im, "cannot write the lock holds to a temporary file: %s", g_strerror(errno));
    return;
  }
  g_array_append_val(im->hold_runs, run);
  hr->len = 0;
}

/* A run being merged: a window of its rows read from the spill file. */
typedef struct {
  HoldRun run;
  size_t done; /* rows of the run consumed */
  HoldRow buf[4096];
  size_t pos, len; /* in buf */
} RunReader;

static const HoldRow *run_peek(Imp *im, RunReader *r) {
  if (r->pos < r->len) return &r->buf[r->pos];
  size_t left = r->run.n - r->done;
  if (!left) return NULL;
  size_t n = left < G_N_ELEMENTS(r->buf) ? left : G_N_ELEMENTS(r->buf);
  if (fseeko(im->hold_spill, r->run.off + (off_t)(r->done * sizeof(HoldRow)), SEEK_SET) != 0 ||
      fread(r->buf, sizeof(HoldRow), n, im->hold_spill) != n) {
    imp_fail(im, "cannot read the lock holds back from their temporary file");
    return NULL;
  }
  r->pos = 0;
  r->len = n;
  return &r->buf[0];
}

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

/* Every hold of the file in (object, start) order into blocks: the rows in
 * memory, or a merge of the spilled runs. */
void holds_to_blocks(Imp *im) {
  GArray *hr = im->hold_rows;
  if (im->hold_spill)
    hold_spill(im); /* the rest as the last run */
  else
    sort_holds(hr);
  guint nr = im->hold_runs->len;
  RunReader *rr = nr ? g_new0(RunReader, nr) : NULL;
  for (guint k = 0; k < nr; k++) rr[k].run = g_array_index(im->hold_runs, HoldRun, k);
  WeftHoldBlock blk = {0};
  for (guint i = 0; !im->sql.failed; i++) {
    const HoldRow *r = NULL;
    RunReader *from = NULL;
    if (!nr) {
      if (i >= hr->len) break;
      r = &g_array_index(hr, HoldRow, i);
    } else { /* the least head of the runs (a few dozen at most: a scan) */
      for (guint k = 0; k < nr; k++) {
        const HoldRow *x = run_peek(im, &rr[k]);
        if (x && (!r || cmp_hold(x, r) < 0)) {
          r = x;
          from = &rr[k];
        }
      }
      if (!r) break;
    }
    if (from) {
      from->pos++;
      from->done++;
    }
    push_row(im, &blk, r);
  }
  if (!im->sql.failed && weft_hold_block_insert(im->ins_block, &blk) != SQLITE_OK) weft_sql_error(&im->sql);
  weft_hold_block_free(&blk);
  g_free(rr);
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

void holds_discard(Imp *im) {
  im->hold_rows->len = 0;
  if (im->hold_spill) fclose(im->hold_spill);
  im->hold_spill = NULL;
  im->hold_runs->len = 0;
}
