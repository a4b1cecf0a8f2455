/* holds.c - lock holds, stored in blocks (see holds.h).
 * SPDX-License-Identifier: MIT
 *
 * A block's data is, per hold, three unsigned LEB128 varints:
 *   start - previous start (the block's start_ns for the first hold),
 *   dur_ns << 3 | estimated << 2 | shared << 1 | contended,
 *   zigzag(utid - previous utid) (previous = 0 for the first hold).
 */
#include "config.h"

#include "holds.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int put_uleb(WeftHoldBlock *b, uint64_t v) {
  if (b->cap - b->len < 10) {
    size_t cap = b->cap ? b->cap * 2 : 1024;
    uint8_t *n = realloc(b->buf, cap);
    if (!n) return -1;
    b->buf = n;
    b->cap = cap;
  }
  do {
    uint8_t c = v & 0x7f;
    v >>= 7;
    b->buf[b->len++] = c | (v ? 0x80 : 0);
  } while (v);
  return 0;
}

void weft_hold_block_reset(WeftHoldBlock *b, int64_t object_id) {
  b->object_id = object_id;
  b->start_ns = b->end_ns = b->hold_ns = b->max_ns = 0;
  b->count = b->contended = 0;
  b->prev_start = b->prev_utid = 0;
  b->len = 0;
}

int weft_hold_block_add(WeftHoldBlock *b, const WeftHold *h) {
  int64_t dur = h->dur_ns > 0 ? h->dur_ns : 0;
  if (!b->count) b->start_ns = b->prev_start = h->start_ns;
  if (h->start_ns < b->prev_start) return -1;
  int64_t du = h->utid - b->prev_utid;
  uint64_t zz = du >= 0 ? (uint64_t)du << 1 : ((uint64_t)(-(du + 1)) << 1) | 1;
  if (put_uleb(b, (uint64_t)(h->start_ns - b->prev_start)) ||
      put_uleb(b, (uint64_t)dur << 3 | (uint64_t)(h->estimated != 0) << 2 | (uint64_t)(h->shared != 0) << 1 |
                      (uint64_t)(h->contended != 0)) ||
      put_uleb(b, zz))
    return -1;
  b->prev_start = h->start_ns;
  b->prev_utid = h->utid;
  b->count++;
  b->contended += h->contended != 0;
  b->hold_ns += dur;
  if (dur > b->max_ns) b->max_ns = dur;
  if (h->start_ns + dur > b->end_ns || b->count == 1) b->end_ns = h->start_ns + dur;
  return 0;
}

void weft_hold_block_free(WeftHoldBlock *b) {
  free(b->buf);
  memset(b, 0, sizeof *b);
}

int weft_hold_block_insert(sqlite3_stmt *ins, const WeftHoldBlock *b) {
  if (!b->count) return SQLITE_OK;
  sqlite3_bind_int64(ins, 1, b->object_id);
  sqlite3_bind_int64(ins, 2, b->start_ns);
  sqlite3_bind_int64(ins, 3, b->end_ns);
  sqlite3_bind_int64(ins, 4, b->count);
  sqlite3_bind_int64(ins, 5, b->contended);
  sqlite3_bind_int64(ins, 6, b->hold_ns);
  sqlite3_bind_int64(ins, 7, b->max_ns);
  sqlite3_bind_blob(ins, 8, b->buf, (int)b->len, SQLITE_STATIC);
  int rc = sqlite3_step(ins);
  sqlite3_reset(ins);
  sqlite3_clear_bindings(ins);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int weft_hold_block_push(sqlite3_stmt *ins, WeftHoldBlock *b, const WeftHold *h) {
  if (b->count && (b->object_id != h->object_id || b->count == WEFT_HOLD_BLOCK_MAX)) {
    int rc = weft_hold_block_insert(ins, b);
    if (rc != SQLITE_OK) return rc;
    b->count = 0;
  }
  if (!b->count) weft_hold_block_reset(b, h->object_id);
  return weft_hold_block_add(b, h) == 0 ? SQLITE_OK : SQLITE_NOMEM;
}

void weft_hold_iter_init(WeftHoldIter *it, int64_t object_id, int64_t block_start_ns, const void *data, size_t len) {
  it->p = data;
  it->end = it->p ? it->p + len : NULL;
  it->object_id = object_id;
  it->start = block_start_ns;
  it->utid = 0;
}

static int get_uleb(WeftHoldIter *it, uint64_t *v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (it->p >= it->end) return -1;
    uint8_t c = *it->p++;
    x |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80)) {
      *v = x;
      return 0;
    }
  }
  return -1;
}

int weft_hold_iter_next(WeftHoldIter *it, WeftHold *out) {
  if (!it->p || it->p >= it->end) return 0;
  uint64_t ds, df, zz;
  if (get_uleb(it, &ds) || get_uleb(it, &df) || get_uleb(it, &zz)) return -1;
  if (ds > (uint64_t)INT64_MAX - (uint64_t)(it->start > 0 ? it->start : 0) || (df >> 3) > (uint64_t)INT64_MAX / 2)
    return -1;
  if ((zz >> 1) >= (1ULL << 40)) return -1; /* utids are small: a corrupt blob, not an overflow */
  int64_t du = (zz & 1) ? -(int64_t)(zz >> 1) - 1 : (int64_t)(zz >> 1);
  if (it->utid + du < INT32_MIN || it->utid + du > (int64_t)1 << 41) return -1;
  it->start += (int64_t)ds;
  it->utid += du;
  out->object_id = it->object_id;
  out->utid = it->utid;
  out->start_ns = it->start;
  out->dur_ns = (int64_t)(df >> 3);
  out->estimated = (int)(df >> 2 & 1);
  out->shared = (int)(df >> 1 & 1);
  out->contended = (int)(df & 1);
  return 1;
}

int weft_holds_from_row(sqlite3_stmt *q, int col0, int64_t a, int64_t b, WeftHoldFn fn, void *user) {
  WeftHoldIter it;
  const void *data = sqlite3_column_blob(q, col0 + 2);
  weft_hold_iter_init(&it, sqlite3_column_int64(q, col0), sqlite3_column_int64(q, col0 + 1), data,
                      (size_t)sqlite3_column_bytes(q, col0 + 2));
  WeftHold h;
  int rc;
  while ((rc = weft_hold_iter_next(&it, &h)) == 1) {
    if (h.start_ns >= b) break; /* in start order: the rest start later */
    if (h.start_ns + h.dur_ns < a) continue;
    if (fn(&h, user)) return 1;
  }
  return rc < 0 ? -1 : 0;
}

int weft_holds_scan(sqlite3 *db, int64_t object_id, int64_t a, int64_t b, WeftHoldFn fn, void *user, char *err,
                    size_t errlen) {
  sqlite3_stmt *q = NULL;
  const char *sql = object_id >= 0
                        ? "SELECT object_id, start_ns, data FROM hold_block WHERE object_id = ?3 AND start_ns < ?2 "
                          "AND end_ns >= ?1 ORDER BY start_ns"
                        : "SELECT object_id, start_ns, data FROM hold_block WHERE start_ns < ?2 AND end_ns >= ?1 "
                          "ORDER BY object_id, start_ns";
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "lock holds: %s", sqlite3_errmsg(db));
    return -1;
  }
  sqlite3_bind_int64(q, 1, a);
  sqlite3_bind_int64(q, 2, b);
  if (object_id >= 0) sqlite3_bind_int64(q, 3, object_id);
  int rc, ret = 0;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int r = weft_holds_from_row(q, 0, a, b, fn, user);
    if (r < 0) {
      snprintf(err, errlen, "lock holds of object %lld: corrupt block", (long long)sqlite3_column_int64(q, 0));
      ret = -1;
      break;
    }
    if (r) {
      ret = 1;
      break;
    }
  }
  if (ret == 0 && rc != SQLITE_DONE) {
    snprintf(err, errlen, "lock holds: %s", sqlite3_errmsg(db));
    ret = -1;
  }
  sqlite3_finalize(q);
  return ret;
}

int weft_holds_pack_table(sqlite3 *db, const char *table, char *err, size_t errlen) {
  char *sql = sqlite3_mprintf("SELECT object_id, utid, start_ns, dur_ns, contended, shared, estimated FROM \"%w\" "
                              "ORDER BY object_id, start_ns, utid",
                              table);
  sqlite3_stmt *q = NULL, *ins = NULL;
  WeftHoldBlock blk = {0};
  int ret = -1, rc;
  if (!sql || sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, WEFT_HOLD_BLOCK_INSERT, -1, &ins, NULL) != SQLITE_OK)
    goto out;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    WeftHold h = {sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2),
                  sqlite3_column_int64(q, 3), sqlite3_column_int(q, 4),   sqlite3_column_int(q, 5),
                  sqlite3_column_int(q, 6)};
    if (weft_hold_block_push(ins, &blk, &h) != SQLITE_OK) goto out;
  }
  if (rc == SQLITE_DONE && weft_hold_block_insert(ins, &blk) == SQLITE_OK) ret = 0;
out:
  if (ret) snprintf(err, errlen, "packing %s: %s", table, sqlite3_errmsg(db));
  sqlite3_free(sql);
  sqlite3_finalize(q);
  sqlite3_finalize(ins);
  weft_hold_block_free(&blk);
  return ret;
}
