/* holds.h - lock holds, stored in blocks.
 * SPDX-License-Identifier: MIT
 *
 * A recording has a lock hold for nearly every second record, and most are
 * short and uncontended. One SQLite row per hold made them most of the
 * import time and of the database, so they are stored as blocks: the holds
 * of one object, in start order, up to WEFT_HOLD_BLOCK_MAX per row of
 * hold_block, packed in a blob of varints (docs/schema.md gives the format).
 * Every hold is kept exactly; the block's columns (time span, count,
 * contended, total, longest) let readers skip blocks without decoding them.
 */
#ifndef WEFT_HOLDS_H
#define WEFT_HOLDS_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#define WEFT_HOLD_BLOCK_MAX 256

typedef struct {
  int64_t object_id, utid, start_ns, dur_ns;
  int contended, shared;
  int estimated; /* its start was not timed: start_ns is when the first waiter came */
} WeftHold;

/* ---- writing ---- */
typedef struct {
  int64_t object_id, start_ns, end_ns, hold_ns, max_ns;
  int64_t count, contended;
  int64_t prev_start, prev_utid;
  uint8_t *buf;
  size_t len, cap;
} WeftHoldBlock;

/* Start an empty block for object_id (keeps the buffer). */
void weft_hold_block_reset(WeftHoldBlock *b, int64_t object_id);
/* Append a hold of the block's object; holds come in start order. 0, or -1
 * when out of memory or out of order. */
int weft_hold_block_add(WeftHoldBlock *b, const WeftHold *h);
void weft_hold_block_free(WeftHoldBlock *b);
/* Insert the block (if not empty) with a statement prepared from
 * WEFT_HOLD_BLOCK_INSERT. SQLite result code. */
#define WEFT_HOLD_BLOCK_INSERT "INSERT INTO hold_block VALUES (?,?,?,?,?,?,?,?)"
int weft_hold_block_insert(sqlite3_stmt *ins, const WeftHoldBlock *b);
/* Append h (holds come by object, then start), first inserting the block
 * when h is of another object or the block is full. SQLite result code
 * (SQLITE_NOMEM when out of memory or out of order). */
int weft_hold_block_push(sqlite3_stmt *ins, WeftHoldBlock *b, const WeftHold *h);

/* Pack the rows of `table` (columns object_id, utid, start_ns, dur_ns,
 * contended, shared, estimated; one per hold, any order) into hold_block. For tools
 * and tests that build a database by hand. 0, or -1 with a message. */
int weft_holds_pack_table(sqlite3 *db, const char *table, char *err, size_t errlen);

/* ---- reading ---- */
typedef struct {
  const uint8_t *p, *end;
  int64_t object_id, start, utid;
} WeftHoldIter;

void weft_hold_iter_init(WeftHoldIter *it, int64_t object_id, int64_t block_start_ns, const void *data, size_t len);
/* 1 and *out filled, 0 at the end, -1 if the blob is corrupt. */
int weft_hold_iter_next(WeftHoldIter *it, WeftHold *out);

/* Call fn for every hold of object_id (every object if object_id < 0) with
 * start_ns < b and start_ns + dur_ns >= a, in block order (by object, then
 * start). fn returns non-zero to stop. Returns 0, 1 when fn stopped, -1 on
 * an error (message in err). */
typedef int (*WeftHoldFn)(const WeftHold *h, void *user);
int weft_holds_scan(sqlite3 *db, int64_t object_id, int64_t a, int64_t b, WeftHoldFn fn, void *user, char *err,
                    size_t errlen);

/* The holds of one block row: columns object_id, start_ns, data at col0... */
int weft_holds_from_row(sqlite3_stmt *q, int col0, int64_t a, int64_t b, WeftHoldFn fn, void *user);

#endif
