/* test-spill.c - the one external sort (analyzer/util/weft-spill.c): rows in
 * any order come out in order, the same whether they fit in memory, fill it
 * exactly or spill into many runs (windows smaller than a run included), with
 * a custom sort or qsort, stably for equal keys where the sort is stable, and
 * the buffers reused after a reset.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
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

int main(void) {
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
