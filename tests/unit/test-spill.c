/* test-spill.c - the one external sort (analyzer/util/weft-spill.c): rows in
 * any order come out in order, the same whether they fit in memory, fill it
 * exactly or spill into many runs (windows smaller than a run included), with
 * a custom sort or qsort, stably for equal keys where the sort is stable, and
 * the buffers reused after a reset; and the scratch files the runs go to
 * (analyzer/util/weft-scratch.c): bytes read back as written across its
 * blocks, two written at once, blocks given back reused.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "weft-scratch.h"
#include "weft-spill.h"

typedef struct {
  int64_t key;
  uint32_t seq; /* the order the row went in */
  uint32_t check;
  char pad[48]; /* 64 bytes a row: a window of 4096 rows, runs longer than it */
} Row;

static int cmp_row(const void *x, const void *y) {
  const Row *a = x, *b = y;
  if (a->key != b->key) return a->key < b->key ? -1 : 1;
  return (a->seq > b->seq) - (a->seq < b->seq);
}

/* A sort that returns the scratch buffer (as the importer's counting sorts do). */
static void *sort_into_tmp(void *v, void *tmp, size_t n) {
  memcpy(tmp, v, n * sizeof(Row));
  qsort(tmp, n, sizeof(Row), cmp_row);
  memset(v, 0xee, n * sizeof(Row)); /* the rows must be read from tmp */
  return tmp;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

/* By the key only: rows of one key are in the order they went in only if
 * the sort of a buffer and the merge of the runs are stable. */
static int cmp_key(const void *x, const void *y) {
  const Row *a = x, *b = y;
  return (a->key > b->key) - (a->key < b->key);
}

/* n rows of keys in [0, keys) through s, whose comparison is the key's only:
 * 1 if they come out by key and, within a key, in the order they went in. */
static int stable_trip(WeftSpill *s, size_t n, int64_t keys, const char *what) {
  for (size_t i = 0; i < n; i++) {
    Row *r = weft_spill_add(s);
    if (!r) return ok(0, "%s: add row %zu", what, i);
    r->key = (int64_t)(next_rand() % (uint64_t)keys);
    r->seq = (uint32_t)i;
  }
  size_t got = 0;
  int good = 1;
  Row prev = {INT64_MIN, 0, 0, {0}};
  const Row *r;
  while ((r = weft_spill_next(s))) {
    if (got && cmp_row(&prev, r) >= 0) good = 0;
    prev = *r;
    got++;
  }
  ok(good && got == n, "%s: %zu rows back of %zu, by key, each key's in the order they went in", what, got, n);
  weft_spill_reset(s);
  return good;
}

/* n rows with keys in [0, keys) through a spill of mem rows; 1 if they come
 * out complete and in order. */
static int round_trip(WeftSpill *s, size_t n, int64_t keys, const char *what) {
  for (size_t i = 0; i < n; i++) {
    Row *r = weft_spill_add(s);
    if (!r) return ok(0, "%s: add row %zu: %s", what, i, weft_spill_error(s) ? weft_spill_error(s) : "?");
    r->key = (int64_t)(next_rand() % (uint64_t)keys);
    r->seq = (uint32_t)i;
    r->check = (uint32_t)(r->key * 2654435761u) ^ r->seq;
  }
  int good = weft_spill_count(s) == n;
  size_t got = 0;
  Row prev = {INT64_MIN, 0, 0, {0}};
  const Row *r;
  while ((r = weft_spill_next(s))) {
    if (cmp_row(&prev, r) >= 0 && got) good = 0;
    if (r->check != ((uint32_t)(r->key * 2654435761u) ^ r->seq)) good = 0;
    prev = *r;
    got++;
  }
  good = good && got == n && !weft_spill_error(s);
  ok(good, "%s: %zu rows back of %zu, in order, intact", what, got, n);
  ok(weft_spill_add(s) == NULL && weft_spill_error(s), "%s: no row may be added while reading", what);
  weft_spill_reset(s);
  return good;
}

/* The byte at position i of scratch file k. */
static unsigned char byte_of(int k, uint64_t i) { return (unsigned char)(i * 2654435761u >> 13) ^ (unsigned char)k; }

/* Appends of odd sizes to two scratch files in turn (3.5 and 2.25 MiB:
 * past the 1 MiB blocks), read back whole and at offsets across blocks;
 * closed, their blocks serve the next without the shared file growing. */
static void scratch(void) {
  const uint64_t len[2] = {7u << 19, 9u << 18};
  WeftScratchFile *f[2] = {weft_scratch_open(), weft_scratch_open()};
  ok(f[0] && f[1] && weft_scratch_shared_size() == 0, "scratch: two open, nothing written yet");
  unsigned char *buf = malloc(len[0]);
  int good = f[0] && f[1] && buf;
  for (uint64_t at[2] = {0, 0}; good && (at[0] < len[0] || at[1] < len[1]);)
    for (int k = 0; k < 2; k++) {
      size_t n = (size_t)(next_rand() % 300000) + 1;
      if (n > len[k] - at[k]) n = (size_t)(len[k] - at[k]);
      for (size_t i = 0; i < n; i++) buf[i] = byte_of(k, at[k] + i);
      good = good && weft_scratch_append(f[k], buf, n) == 0;
      at[k] += n;
    }
  ok(good && weft_scratch_size(f[0]) == len[0] && weft_scratch_size(f[1]) == len[1] &&
         weft_scratch_shared_size() == 7u << 20,
     "scratch: 3.5 and 2.25 MiB written in turns, in 4 + 3 blocks (%llu bytes)",
     (unsigned long long)weft_scratch_shared_size());
  for (int k = 0; good && k < 2; k++) {
    good = weft_scratch_read(f[k], buf, (size_t)len[k], 0) == 0;
    for (uint64_t i = 0; good && i < len[k]; i++) good = buf[i] == byte_of(k, i);
    uint64_t off = (1u << 20) - 5; /* across a block's end */
    good = good && weft_scratch_read(f[k], buf, 10, off) == 0;
    for (uint64_t i = 0; good && i < 10; i++) good = buf[i] == byte_of(k, off + i);
  }
  ok(good, "scratch: each reads back as written, whole and across a block's end");
  ok(f[1] && weft_scratch_read(f[1], buf, 2, len[1] - 1) != 0, "scratch: a read past the end fails");
  weft_scratch_close(f[0]);
  WeftScratchFile *g = weft_scratch_open();
  good = g != NULL;
  for (int i = 0; good && i < 4; i++) {
    memset(buf, 'a' + i, 1u << 20);
    good = weft_scratch_append(g, buf, 1u << 20) == 0;
  }
  good = good && weft_scratch_read(g, buf, 1u << 20, 3u << 20) == 0 && buf[0] == 'd' && buf[(1u << 20) - 1] == 'd';
  ok(good && weft_scratch_shared_size() == 7u << 20, "scratch: 4 MiB more in the blocks given back (%llu bytes)",
     (unsigned long long)weft_scratch_shared_size());
  weft_scratch_close(g);
  weft_scratch_close(f[1]);
  ok(weft_scratch_shared_size() == 0, "scratch: the last closed, the shared file is gone");
  weft_scratch_close(NULL);
  free(buf);
}

int main(void) {
  scratch();
  const size_t mem = 10000;
  WeftSpill *s = weft_spill_new(sizeof(Row), mem, cmp_row, NULL);
  ok(s != NULL, "a spill of %zu rows", mem);
  round_trip(s, 0, 10, "qsort, no rows");
  round_trip(s, 1, 10, "qsort, one row");
  round_trip(s, 5000, 100, "qsort, in memory");
  round_trip(s, mem, 7, "qsort, the buffer exactly full");
  round_trip(s, mem + 1, 7, "qsort, one row past the buffer");
  round_trip(s, 123457, 1000, "qsort, 13 runs on disk and a tail in memory");
  round_trip(s, 3 * mem, 3, "qsort, 3 runs exactly, few keys");
  weft_spill_free(s);

  s = weft_spill_new(sizeof(Row), mem, cmp_row, sort_into_tmp);
  round_trip(s, 777, 50, "sort into tmp, in memory");
  round_trip(s, 55555, 1u << 30, "sort into tmp, 6 runs");
  round_trip(s, 2 * mem, 1, "sort into tmp, one key");
  weft_spill_free(s);

  s = weft_spill_new(sizeof(Row), 1, cmp_row, NULL);
  round_trip(s, 300, 20, "one row a run (300 runs)");
  weft_spill_free(s);

  s = weft_spill_new(sizeof(Row), 1000, cmp_row, sort_into_tmp);
  weft_spill_in_line(s); /* no worker thread: the same rows */
  round_trip(s, 12345, 300, "in line, 12 runs and a tail in memory");
  weft_spill_free(s);

  /* a stable sort (key, then order in) under a merge by the key only */
  s = weft_spill_new(sizeof(Row), 1000, cmp_key, sort_into_tmp);
  stable_trip(s, 700, 5, "stable, in memory");
  stable_trip(s, 20500, 5, "stable, 20 runs and a tail in memory");
  weft_spill_free(s);
  s = weft_spill_new(sizeof(Row), 7, cmp_key, sort_into_tmp);
  stable_trip(s, 7 * 2500, 3, "stable, 2500 runs (windows of the least size)");
  weft_spill_free(s);

  ok(weft_spill_new(0, 10, cmp_row, NULL) == NULL, "a row of no size is refused");
  weft_spill_free(NULL);
  printf("1..%d\n", ntest);
  return nfail ? 1 : 0;
}
