/* query.c - the reads of a recording that weft export, weft check and weft-gui share (see query.h).
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "query.h"

#include <string.h>

/* ---- statements ---- */

/* The columns every read of thread_state gives, in the order read_state takes them. */
#define STATE_COLUMNS  "utid, start_ns, dur_ns, state, object_id, blocker_utid, waker_utid, stack_id, result"
#define FLOW_COLUMNS   "flow_id, kind, from_utid, from_ns, to_utid, to_ns, object_id"
#define THREAD_COLUMNS "utid, upid, tid, is_main, name, start_ns, end_ns"

/* The kept statements, in the order weft_query_prepare_all prepares them. */
enum {
  K_STATES_IN,
  K_SUMMARY,
  K_HOLDS,
  K_STATE_AT,
  K_WAITS,
  K_WORST_WAIT,
  K_FLOWS_OF,
  K_STACK,
  K_THREADS_OF,
  K_LEVELS,
  K_LOCK_LANES,
  K_SUMS_SUMMARY,
  K_SUMS_RAW,
  K_COUNT
};
_Static_assert(K_COUNT == WEFT_QUERY_KEPT, "WEFT_QUERY_KEPT counts the kept statements");

static const char *const kept_sql[K_COUNT] = {
    /* the interval containing t0 (contiguous rows: the last one starting at or
     * before it), then every one starting before t1 */
    [K_STATES_IN] = "SELECT start_ns, dur_ns, state FROM thread_state WHERE utid = ?1 AND start_ns >= "
                    "coalesce((SELECT max(start_ns) FROM thread_state WHERE utid = ?1 AND start_ns <= ?2), 0) "
                    "AND start_ns < ?3 ORDER BY start_ns",
    [K_SUMMARY] = "SELECT bucket, state, total_ns FROM state_summary "
                  "WHERE utid = ?1 AND level = ?2 AND bucket >= ?3 AND bucket <= ?4",
    [K_HOLDS] = "SELECT object_id, start_ns, data FROM hold_block WHERE object_id = ?1 "
                "AND start_ns < ?3 AND end_ns >= ?2 ORDER BY start_ns",
    [K_STATE_AT] = "SELECT " STATE_COLUMNS " FROM thread_state WHERE utid = ?1 AND start_ns <= ?2 "
                   "ORDER BY start_ns DESC LIMIT 1",
    [K_WAITS] = "SELECT " STATE_COLUMNS " FROM thread_state WHERE object_id = ?1 AND start_ns < ?3 "
                "AND start_ns + dur_ns > ?2 ORDER BY start_ns",
    [K_WORST_WAIT] = "SELECT " STATE_COLUMNS " FROM thread_state WHERE object_id = ?1 "
                     "ORDER BY dur_ns DESC, start_ns LIMIT 1",
    [K_FLOWS_OF] = "SELECT " FLOW_COLUMNS " FROM flow WHERE to_utid = ?1 AND to_ns BETWEEN ?2 AND ?3 UNION "
                   "SELECT " FLOW_COLUMNS " FROM flow WHERE from_utid = ?1 AND from_ns BETWEEN ?2 AND ?3 LIMIT ?4",
    [K_STACK] = "SELECT f.symbol, f.file, f.line, m.path, f.rel_pc, f.ip FROM stack_frame sf "
                "JOIN frame f ON f.frame_id = sf.frame_id LEFT JOIN module m ON m.module_id = f.module_id "
                "WHERE sf.stack_id = ?1 ORDER BY sf.depth",
    [K_THREADS_OF] = "SELECT " THREAD_COLUMNS " FROM thread WHERE upid = ?1 ORDER BY is_main DESC, start_ns, utid",
    /* two subqueries: each is one step down the primary key */
    [K_LEVELS] = "SELECT (SELECT min(level) FROM state_summary WHERE utid = ?1), "
                 "(SELECT max(level) FROM state_summary WHERE utid = ?1)",
    [K_LOCK_LANES] = "SELECT o.object_id FROM sync_object o "
                     "JOIN kind_name k ON k.kind = o.kind WHERE o.upid = ?1 "
                     "AND k.name IN ('mutex', 'rwlock', 'spin') AND (o.contended > 0 OR EXISTS "
                     "(SELECT 1 FROM thread_state s WHERE s.object_id = o.object_id)) "
                     "ORDER BY o.wait_ns DESC, o.object_id",
    [K_SUMS_SUMMARY] = "SELECT state, sum(total_ns) FROM state_summary WHERE utid = ?1 AND level = ?2 GROUP BY state",
    [K_SUMS_RAW] = "SELECT state, sum(dur_ns) FROM thread_state WHERE utid = ?1 GROUP BY state",
};

void weft_query_init(WeftQuery *q, sqlite3 *db, char *err, size_t errlen, const char *prefix) {
  memset(q, 0, sizeof *q);
  weft_sql_init(&q->sql, db, err, errlen, prefix);
}

void weft_query_clear(WeftQuery *q) {
  for (int i = 0; i < K_COUNT; i++) {
    sqlite3_finalize(q->kept[i]);
    q->kept[i] = NULL;
  }
}

static sqlite3_stmt *kept(WeftQuery *q, int k) {
  if (!q->kept[k]) q->kept[k] = weft_sql_prepare(&q->sql, kept_sql[k]);
  return q->kept[k];
}

bool weft_query_prepare_all(WeftQuery *q) {
  for (int k = 0; k < K_COUNT; k++)
    if (!kept(q, k)) return false;
  return true;
}

/* ---- cursors ---- */

/* The rows a cursor gives (ROW_ID also for this file's own reads of a
 * column or two). */
enum {
  ROW_PROCESS = 1,
  ROW_THREAD,
  ROW_ID,
  ROW_OBJECT,
  ROW_STATE,
  ROW_STATE_WHERE,
  ROW_STATE_TIMES,
  ROW_SUMMARY,
  ROW_HOLD,
  ROW_HOLD_BLOCK,
  ROW_FLOW,
  ROW_FRAME,
  ROW_MARK,
  ROW_META,
  ROW_SCHED,
  ROW_STACK_FRAME,
  ROW_FRAME_NAME,
  ROW_HOST
};

/* Start a read of kind on a kept statement k (reset, bound next by the
 * caller) or on sql prepared now (k < 0). */
static sqlite3_stmt *open_cursor(WeftQuery *q, WeftCursor *c, int kind, int k, const char *sql) {
  *c = (WeftCursor){.q = q, .kind = kind, .kept = k >= 0};
  c->st = k >= 0 ? kept(q, k) : weft_sql_prepare(&q->sql, sql);
  c->failed = !c->st;
  if (c->st) sqlite3_reset(c->st);
  return c->st;
}

/* Step to the next row of a cursor of this kind; false at the end or on an
 * error (kept). */
static bool next_row(WeftCursor *c, int kind) {
  if (c->failed || !c->st) return false;
  if (c->kind != kind) {
    c->failed = true;
    return weft_sql_fail(&c->q->sql, "%s: a cursor read as the wrong kind of row", c->q->sql.prefix);
  }
  int rc = sqlite3_step(c->st);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) {
    weft_sql_error(&c->q->sql);
    c->failed = true;
  }
  return false;
}

int weft_cursor_close(WeftCursor *c) {
  if (c->st) {
    if (c->kept)
      sqlite3_reset(c->st);
    else
      sqlite3_finalize(c->st);
  }
  c->st = NULL;
  return c->failed ? -1 : 0;
}

static const char *text(sqlite3_stmt *st, int col) { return (const char *)sqlite3_column_text(st, col); }

/* ---- processes and threads ---- */

void weft_query_processes(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_PROCESS, -1,
              "SELECT p.upid, p.pid, p.image, coalesce(p.parent_upid, -1), coalesce(p.exec_from_upid, -1), "
              "(SELECT count(*) FROM process p2 WHERE p2.pid = p.pid), "
              "EXISTS (SELECT 1 FROM process p3 WHERE p3.pid = p.upid), p.start_ns, p.end_ns, p.exe, p.cmdline, "
              "p.host, coalesce(p.mpi_rank, -1) FROM process p ORDER BY p.upid");
}

bool weft_next_process(WeftCursor *c, WeftProcessRow *r) {
  if (!next_row(c, ROW_PROCESS)) return false;
  sqlite3_stmt *st = c->st;
  *r = (WeftProcessRow){.upid = sqlite3_column_int64(st, 0),
                        .pid = sqlite3_column_int64(st, 1),
                        .image = sqlite3_column_int64(st, 2),
                        .parent_upid = sqlite3_column_int64(st, 3),
                        .exec_from_upid = sqlite3_column_int64(st, 4),
                        .n_images = sqlite3_column_int64(st, 5),
                        .upid_is_pid = sqlite3_column_int(st, 6) != 0,
                        .start_ns = sqlite3_column_int64(st, 7),
                        .end_ns = sqlite3_column_int64(st, 8),
                        .exe = text(st, 9),
                        .cmdline = text(st, 10),
                        .host = weft_sql_i64(st, 11, 0),
                        .mpi_rank = sqlite3_column_int64(st, 12)};
  return true;
}

void weft_query_hosts(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_HOST, -1,
              "SELECT host, name, host_id, files, anchor_shift_ns, clock_offset_ns, offset_uncertainty_ns, "
              "drift_ppm, messages, offset_at_ns FROM host ORDER BY host");
}

bool weft_next_host(WeftCursor *c, WeftHostRow *r) {
  if (!next_row(c, ROW_HOST)) return false;
  sqlite3_stmt *st = c->st;
  *r = (WeftHostRow){.host = sqlite3_column_int64(st, 0),
                     .name = text(st, 1),
                     .host_id = text(st, 2),
                     .files = sqlite3_column_int64(st, 3),
                     .anchor_shift_ns = sqlite3_column_int64(st, 4),
                     .clock_offset_ns = sqlite3_column_int64(st, 5),
                     .offset_uncertainty_ns = weft_sql_i64(st, 6, -1),
                     .drift_ppm = sqlite3_column_double(st, 7),
                     .messages = sqlite3_column_int64(st, 8),
                     .offset_at_ns = sqlite3_column_int64(st, 9)};
  return true;
}

int weft_query_max_pid(WeftQuery *q, int64_t *out) {
  WeftCursor c;
  *out = 0;
  if (open_cursor(q, &c, ROW_ID, -1, "SELECT max(pid) FROM process") && next_row(&c, ROW_ID))
    *out = weft_sql_i64(c.st, 0, 0);
  return weft_cursor_close(&c);
}

void weft_query_threads(WeftQuery *q, WeftCursor *c, int64_t upid) {
  if (upid < 0) {
    open_cursor(q, c, ROW_THREAD, -1, "SELECT " THREAD_COLUMNS " FROM thread ORDER BY utid");
  } else if (open_cursor(q, c, ROW_THREAD, K_THREADS_OF, NULL)) {
    sqlite3_bind_int64(c->st, 1, upid);
  }
}

bool weft_next_thread(WeftCursor *c, WeftThreadRow *r) {
  if (!next_row(c, ROW_THREAD)) return false;
  sqlite3_stmt *st = c->st;
  *r = (WeftThreadRow){.utid = sqlite3_column_int64(st, 0),
                       .upid = sqlite3_column_int64(st, 1),
                       .tid = sqlite3_column_int64(st, 2),
                       .is_main = sqlite3_column_int(st, 3) != 0,
                       .name = text(st, 4),
                       .start_ns = sqlite3_column_int64(st, 5),
                       .end_ns = sqlite3_column_int64(st, 6)};
  return true;
}

int weft_query_summary_levels(WeftQuery *q, int64_t utid, int *min, int *max) {
  WeftCursor c;
  *min = *max = -1;
  if (open_cursor(q, &c, ROW_ID, K_LEVELS, NULL)) sqlite3_bind_int64(c.st, 1, utid);
  if (next_row(&c, ROW_ID)) {
    *min = (int)weft_sql_i64(c.st, 0, -1);
    *max = (int)weft_sql_i64(c.st, 1, -1);
  }
  return weft_cursor_close(&c);
}

/* ---- sync objects ---- */

void weft_query_object_ids(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_ID, -1, "SELECT object_id FROM sync_object ORDER BY object_id");
}

void weft_query_lock_lanes(WeftQuery *q, WeftCursor *c, int64_t upid) {
  if (open_cursor(q, c, ROW_ID, K_LOCK_LANES, NULL)) sqlite3_bind_int64(c->st, 1, upid);
}

bool weft_next_id(WeftCursor *c, int64_t *id) {
  if (!next_row(c, ROW_ID)) return false;
  *id = sqlite3_column_int64(c->st, 0);
  return true;
}

void weft_query_objects(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_OBJECT, -1,
              "SELECT o.object_id, o.upid, p.pid, k.name, o.acquisitions, o.contended, o.wait_ns, "
              "o.hold_ns, (SELECT count(*) FROM thread_state s WHERE s.object_id = o.object_id), "
              "(SELECT max(dur_ns) FROM thread_state s WHERE s.object_id = o.object_id) "
              "FROM sync_object o JOIN kind_name k ON k.kind = o.kind "
              "LEFT JOIN process p ON p.upid = o.upid WHERE k.name NOT IN ('join', 'child') "
              "ORDER BY o.wait_ns DESC, o.object_id");
}

void weft_query_object_list(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_OBJECT, -1,
              "SELECT o.object_id, o.upid, p.pid, k.name, o.acquisitions, o.contended, o.wait_ns, "
              "o.hold_ns, -1, -1 FROM sync_object o JOIN kind_name k ON k.kind = o.kind "
              "LEFT JOIN process p ON p.upid = o.upid WHERE k.name NOT IN ('join', 'child') ORDER BY o.object_id");
}

bool weft_next_object(WeftCursor *c, WeftObjectRow *r) {
  if (!next_row(c, ROW_OBJECT)) return false;
  sqlite3_stmt *st = c->st;
  const char *kind = text(st, 3);
  *r = (WeftObjectRow){.object_id = sqlite3_column_int64(st, 0),
                       .upid = sqlite3_column_int64(st, 1),
                       .pid = sqlite3_column_int(st, 2),
                       .kind = kind ? kind : "",
                       .acquisitions = sqlite3_column_int64(st, 4),
                       .contended = sqlite3_column_int64(st, 5),
                       .wait_ns = sqlite3_column_int64(st, 6),
                       .hold_ns = sqlite3_column_int64(st, 7),
                       .waits = sqlite3_column_int64(st, 8),
                       .max_wait_ns = weft_sql_i64(st, 9, 0)};
  return true;
}

/* ---- thread states ---- */

static void read_state(sqlite3_stmt *st, WeftStateRow *r) {
  *r = (WeftStateRow){.utid = sqlite3_column_int64(st, 0),
                      .start_ns = sqlite3_column_int64(st, 1),
                      .dur_ns = sqlite3_column_int64(st, 2),
                      .state = sqlite3_column_int(st, 3),
                      .object_id = weft_sql_i64(st, 4, -1),
                      .blocker_utid = weft_sql_i64(st, 5, -1),
                      .waker_utid = weft_sql_i64(st, 6, -1),
                      .stack_id = weft_sql_i64(st, 7, -1),
                      .result = sqlite3_column_int(st, 8)};
}

/* A kept statement bound to (a, b, c): the reads by thread or object in a window. */
static void open_window(WeftQuery *q, WeftCursor *c, int kind, int k, int64_t id, int64_t t0, int64_t t1) {
  if (!open_cursor(q, c, kind, k, NULL)) return;
  sqlite3_bind_int64(c->st, 1, id);
  sqlite3_bind_int64(c->st, 2, t0);
  sqlite3_bind_int64(c->st, 3, t1);
}

void weft_query_state_times(WeftQuery *q, WeftCursor *c, int64_t utid, int64_t t0, int64_t t1) {
  open_window(q, c, ROW_STATE_TIMES, K_STATES_IN, utid, t0, t1);
}

bool weft_next_state_times(WeftCursor *c, WeftStateTimes *r) {
  if (!next_row(c, ROW_STATE_TIMES)) return false;
  *r = (WeftStateTimes){sqlite3_column_int64(c->st, 0), sqlite3_column_int64(c->st, 1), sqlite3_column_int(c->st, 2)};
  return true;
}

void weft_query_waits(WeftQuery *q, WeftCursor *c, int64_t object_id, int64_t t0, int64_t t1) {
  open_window(q, c, ROW_STATE, K_WAITS, object_id, t0, t1);
}

bool weft_next_state(WeftCursor *c, WeftStateRow *r) {
  if (!next_row(c, ROW_STATE)) return false;
  read_state(c->st, r);
  return true;
}

/* The first row of a kept statement bound to (id, t), into out. */
static bool first_state(WeftQuery *q, int k, int64_t id, int64_t t, WeftStateRow *out) {
  WeftCursor c;
  if (!open_cursor(q, &c, ROW_STATE, k, NULL)) return false;
  sqlite3_bind_int64(c.st, 1, id);
  if (k == K_STATE_AT) sqlite3_bind_int64(c.st, 2, t);
  bool found = weft_next_state(&c, out);
  return weft_cursor_close(&c) == 0 && found;
}

bool weft_query_state_at(WeftQuery *q, int64_t utid, int64_t t, WeftStateRow *out) {
  return first_state(q, K_STATE_AT, utid, t, out);
}

bool weft_query_worst_wait(WeftQuery *q, int64_t object_id, WeftStateRow *out) {
  return first_state(q, K_WORST_WAIT, object_id, 0, out);
}

void weft_query_stacked_waits(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_STATE, -1,
              "SELECT " STATE_COLUMNS " FROM thread_state WHERE stack_id IS NOT NULL AND state <> 0 "
              "ORDER BY utid, start_ns");
}

void weft_query_all_states(WeftQuery *q, WeftCursor *c, bool running) {
#define ALL_STATES(where)                                                                            \
  "SELECT ts.utid, ts.start_ns, ts.dur_ns, ts.state, ts.object_id, ts.blocker_utid, ts.waker_utid, " \
  "ts.stack_id, ts.result, f.symbol, f.file, f.line"                                                 \
  " FROM thread_state ts LEFT JOIN stack_frame sf ON sf.stack_id = ts.stack_id AND sf.depth = 0"     \
  " LEFT JOIN frame f ON f.frame_id = sf.frame_id" where " ORDER BY ts.utid, ts.start_ns"
  open_cursor(q, c, ROW_STATE_WHERE, -1, running ? ALL_STATES("") : ALL_STATES(" WHERE ts.state <> 0"));
#undef ALL_STATES
}

bool weft_next_state_where(WeftCursor *c, WeftStateRow *r, WeftFrameRow *where) {
  if (!next_row(c, ROW_STATE_WHERE)) return false;
  read_state(c->st, r);
  *where = (WeftFrameRow){.symbol = text(c->st, 9), .file = text(c->st, 10), .line = sqlite3_column_int(c->st, 11)};
  return true;
}

int weft_query_state_sums(WeftQuery *q, int64_t utid, int level, int64_t *out, uint32_t *present) {
  for (int s = 0; s < WEFT_ST_COUNT; s++) out[s] = 0;
  WeftCursor c;
  if (open_cursor(q, &c, ROW_ID, level >= 0 ? K_SUMS_SUMMARY : K_SUMS_RAW, NULL)) {
    sqlite3_bind_int64(c.st, 1, utid);
    if (level >= 0) sqlite3_bind_int(c.st, 2, level);
  }
  while (next_row(&c, ROW_ID)) {
    int s = sqlite3_column_int(c.st, 0);
    if (s < 0 || s >= WEFT_ST_COUNT) continue;
    out[s] += sqlite3_column_int64(c.st, 1);
    if (present) *present |= 1u << s;
  }
  return weft_cursor_close(&c);
}

void weft_query_sched(WeftQuery *q, WeftCursor *c, int64_t utid) {
  if (open_cursor(q, c, ROW_SCHED, -1,
                  "SELECT ts_ns, cpu_ns, runq_ns, 0 AS last FROM sched_sample WHERE utid = ?1 "
                  "UNION ALL SELECT end_ns, cpu_ns, coalesce(runq_ns, 0), 1 FROM thread "
                  "WHERE utid = ?1 AND cpu_ns IS NOT NULL ORDER BY last, ts_ns"))
    sqlite3_bind_int64(c->st, 1, utid);
}

bool weft_next_sched(WeftCursor *c, WeftSchedRow *r) {
  if (!next_row(c, ROW_SCHED)) return false;
  sqlite3_stmt *st = c->st;
  *r = (WeftSchedRow){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                      sqlite3_column_int(st, 3) != 0};
  return true;
}

void weft_query_summary(WeftQuery *q, WeftCursor *c, int64_t utid, int level, int64_t b0, int64_t b1) {
  if (!open_cursor(q, c, ROW_SUMMARY, K_SUMMARY, NULL)) return;
  sqlite3_bind_int64(c->st, 1, utid);
  sqlite3_bind_int(c->st, 2, level);
  sqlite3_bind_int64(c->st, 3, b0);
  sqlite3_bind_int64(c->st, 4, b1);
}

bool weft_next_summary(WeftCursor *c, WeftSummaryRow *r) {
  if (!next_row(c, ROW_SUMMARY)) return false;
  *r = (WeftSummaryRow){sqlite3_column_int64(c->st, 0), sqlite3_column_int64(c->st, 2), sqlite3_column_int(c->st, 1)};
  return true;
}

/* ---- lock holds ---- */

void weft_query_holds(WeftQuery *q, WeftCursor *c, int64_t object_id, int64_t t0, int64_t t1) {
  open_window(q, c, ROW_HOLD, K_HOLDS, object_id, t0, t1);
  c->a = t0;
  c->b = t1;
}

void weft_query_contended_holds(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_HOLD, -1,
              "SELECT h.object_id, h.start_ns, h.data FROM hold_block h JOIN sync_object o ON o.object_id = h.object_id"
              " WHERE o.contended > 0 ORDER BY h.object_id, h.start_ns");
  c->a = INT64_MIN;
  c->b = INT64_MAX;
}

bool weft_next_hold(WeftCursor *c, WeftHold *h) {
  for (;;) {
    int r = weft_hold_iter_next(&c->it, h); /* 0 before the first block */
    if (r < 0) {
      c->failed = true;
      return weft_sql_fail(&c->q->sql, "%s: the lock holds of object %lld are corrupt", c->q->sql.prefix,
                           (long long)c->it.object_id);
    }
    if (r == 1 && h->start_ns < c->b) { /* in start order: past b, the rest of the block starts later */
      if (h->start_ns + h->dur_ns > c->a) return true;
      continue;
    }
    if (!next_row(c, ROW_HOLD)) return false;
    weft_hold_iter_init(&c->it, sqlite3_column_int64(c->st, 0), sqlite3_column_int64(c->st, 1),
                        sqlite3_column_blob(c->st, 2), (size_t)sqlite3_column_bytes(c->st, 2));
  }
}

void weft_query_hold_blocks(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_HOLD_BLOCK, -1,
              "SELECT object_id, start_ns, data, end_ns, holds, contended, hold_ns, max_ns FROM hold_block "
              "ORDER BY object_id, start_ns, rowid");
}

bool weft_next_hold_block(WeftCursor *c, WeftHoldBlockRow *r) {
  if (!next_row(c, ROW_HOLD_BLOCK)) return false;
  sqlite3_stmt *st = c->st;
  *r = (WeftHoldBlockRow){.object_id = sqlite3_column_int64(st, 0),
                          .start_ns = sqlite3_column_int64(st, 1),
                          .data = sqlite3_column_blob(st, 2),
                          .len = (size_t)sqlite3_column_bytes(st, 2),
                          .end_ns = sqlite3_column_int64(st, 3),
                          .holds = sqlite3_column_int64(st, 4),
                          .contended = sqlite3_column_int64(st, 5),
                          .hold_ns = sqlite3_column_int64(st, 6),
                          .max_ns = sqlite3_column_int64(st, 7)};
  return true;
}

/* ---- flows, stacks, marks, meta ---- */

void weft_query_flows(WeftQuery *q, WeftCursor *c, int64_t utid, int64_t t0, int64_t t1, int64_t limit) {
  open_window(q, c, ROW_FLOW, K_FLOWS_OF, utid, t0, t1);
  if (c->st) sqlite3_bind_int64(c->st, 4, limit);
}

void weft_query_all_flows(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_FLOW, -1, "SELECT " FLOW_COLUMNS " FROM flow ORDER BY flow_id");
}

bool weft_next_flow(WeftCursor *c, WeftFlow *r) {
  if (!next_row(c, ROW_FLOW)) return false;
  sqlite3_stmt *st = c->st;
  *r = (WeftFlow){sqlite3_column_int64(st, 0), sqlite3_column_int(st, 1),   sqlite3_column_int64(st, 2),
                  sqlite3_column_int64(st, 3), sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5),
                  weft_sql_i64(st, 6, -1)};
  return true;
}

void weft_query_stack(WeftQuery *q, WeftCursor *c, int64_t stack_id) {
  if (open_cursor(q, c, ROW_FRAME, K_STACK, NULL)) sqlite3_bind_int64(c->st, 1, stack_id);
}

bool weft_next_frame(WeftCursor *c, WeftFrameRow *r) {
  if (!next_row(c, ROW_FRAME)) return false;
  sqlite3_stmt *st = c->st;
  *r = (WeftFrameRow){.symbol = text(st, 0),
                      .file = text(st, 1),
                      .line = weft_sql_i64(st, 2, 0),
                      .module = text(st, 3),
                      .rel_pc = weft_sql_i64(st, 4, 0),
                      .ip = sqlite3_column_int64(st, 5)};
  return true;
}

void weft_query_all_stack_frames(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_STACK_FRAME, -1,
              "SELECT f.symbol, f.file, f.line, m.path, f.rel_pc, f.ip, sf.stack_id, sf.depth, sf.frame_id "
              "FROM stack_frame sf JOIN frame f ON f.frame_id = sf.frame_id "
              "LEFT JOIN module m ON m.module_id = f.module_id ORDER BY sf.stack_id, sf.depth");
}

bool weft_next_stack_frame(WeftCursor *c, WeftStackFrameRow *r) {
  if (!next_row(c, ROW_STACK_FRAME)) return false;
  sqlite3_stmt *st = c->st;
  *r = (WeftStackFrameRow){.stack_id = sqlite3_column_int64(st, 6),
                           .depth = sqlite3_column_int(st, 7),
                           .frame_id = sqlite3_column_int64(st, 8),
                           .f = {.symbol = text(st, 0),
                                 .file = text(st, 1),
                                 .line = weft_sql_i64(st, 2, 0),
                                 .module = text(st, 3),
                                 .rel_pc = weft_sql_i64(st, 4, 0),
                                 .ip = sqlite3_column_int64(st, 5)}};
  return true;
}

void weft_query_frame_names(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_FRAME_NAME, -1,
              "SELECT f.symbol, f.file, count(DISTINCT sf.stack_id) FROM stack_frame sf "
              "JOIN frame f ON f.frame_id = sf.frame_id WHERE f.symbol IS NOT NULL OR f.file IS NOT NULL "
              "GROUP BY f.symbol, f.file ORDER BY f.symbol, f.file");
}

bool weft_next_frame_name(WeftCursor *c, WeftFrameNameRow *r) {
  if (!next_row(c, ROW_FRAME_NAME)) return false;
  *r = (WeftFrameNameRow){text(c->st, 0), text(c->st, 1), sqlite3_column_int64(c->st, 2)};
  return true;
}

void weft_query_marks(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_MARK, -1, "SELECT utid, start_ns, dur_ns, id, label FROM mark ORDER BY utid, start_ns");
}

bool weft_next_mark(WeftCursor *c, WeftMarkRow *r) {
  if (!next_row(c, ROW_MARK)) return false;
  sqlite3_stmt *st = c->st;
  *r = (WeftMarkRow){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                     sqlite3_column_int64(st, 3), text(st, 4)};
  return true;
}

void weft_query_meta(WeftQuery *q, WeftCursor *c) {
  open_cursor(q, c, ROW_META, -1, "SELECT key, value FROM meta ORDER BY key");
}

bool weft_next_meta(WeftCursor *c, const char **key, const char **value) {
  if (!next_row(c, ROW_META)) return false;
  *key = text(c->st, 0);
  *value = text(c->st, 1);
  return true;
}

/* ---- invariants ---- */

bool weft_query_has_table(WeftQuery *q, const char *name) {
  WeftCursor c;
  bool have = false;
  if (open_cursor(q, &c, ROW_ID, -1, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1") &&
      sqlite3_bind_text(c.st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK)
    have = next_row(&c, ROW_ID);
  return weft_cursor_close(&c) == 0 && have;
}

/* Each is one count that must be 0. */
static const struct {
  const char *name;
  const char *count_sql;
} invariants[] = {
    {"thread_state intervals have a positive duration", "SELECT count(*) FROM thread_state WHERE dur_ns <= 0"},
    {"a thread's states do not overlap and leave no gap",
     "SELECT count(*) FROM (SELECT start_ns, lag(start_ns + dur_ns) OVER (PARTITION BY utid ORDER BY start_ns) AS "
     "prev_end"
     " FROM thread_state) WHERE prev_end IS NOT NULL AND prev_end != start_ns"},
    {"a thread's states cover its life from start to end",
     "SELECT count(*) FROM thread t LEFT JOIN (SELECT utid, min(start_ns) AS a, max(start_ns + dur_ns) AS b"
     " FROM thread_state GROUP BY utid) s USING (utid)"
     " WHERE t.end_ns > t.start_ns AND (s.a IS NULL OR s.a != t.start_ns OR s.b != t.end_ns)"},
    {"threads lie inside their process",
     "SELECT count(*) FROM thread t JOIN process p USING (upid) WHERE t.start_ns < p.start_ns OR t.end_ns > p.end_ns"},
    {"state codes are known", "SELECT count(*) FROM thread_state WHERE state NOT IN (SELECT state FROM state_name)"},
    {"flows point at existing threads", "SELECT count(*) FROM flow WHERE from_utid NOT IN (SELECT utid FROM thread) OR "
                                        "to_utid NOT IN (SELECT utid FROM thread)"},
    {"flows go forward in time", "SELECT count(*) FROM flow WHERE from_ns > to_ns"},
    {"flows start inside the life of their thread", "SELECT count(*) FROM flow f JOIN thread t ON t.utid = f.from_utid "
                                                    "WHERE f.from_ns < t.start_ns OR f.from_ns > t.end_ns"},
    {"flows end inside the life of their thread", "SELECT count(*) FROM flow f JOIN thread t ON t.utid = f.to_utid "
                                                  "WHERE f.to_ns < t.start_ns OR f.to_ns > t.end_ns"},
    {"waits name existing objects", "SELECT count(*) FROM thread_state WHERE object_id IS NOT NULL AND object_id NOT "
                                    "IN (SELECT object_id FROM sync_object)"},
    {"object wait totals equal the sum of their waits",
     "SELECT count(*) FROM sync_object o WHERE o.wait_ns != (SELECT coalesce(sum(dur_ns), 0) FROM thread_state s"
     " WHERE s.object_id = o.object_id AND s.state != 0)"},
    {"object hold totals equal the sum of their holds",
     "SELECT count(*) FROM sync_object o WHERE o.hold_ns != (SELECT coalesce(sum(hold_ns), 0) FROM hold_block h"
     " WHERE h.object_id = o.object_id)"},
    {"summaries equal the raw sums (per thread, level and state)",
     "SELECT count(*) FROM (SELECT utid, level, state, sum(total_ns) AS s FROM state_summary GROUP BY utid, level, "
     "state) x"
     " WHERE x.s != (SELECT coalesce(sum(dur_ns), 0) FROM thread_state t WHERE t.utid = x.utid AND t.state = x.state)"},
    {"summary buckets add up to at most their width",
     "SELECT count(*) FROM (SELECT level, bucket, utid, sum(total_ns) AS s FROM state_summary GROUP BY utid, level, "
     "bucket)"
     " WHERE s > (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'lod_base_ns') << (2 * level)"},
    {"stack frames exist", "SELECT count(*) FROM stack_frame WHERE frame_id NOT IN (SELECT frame_id FROM frame)"},
    {"processes end after they start", "SELECT count(*) FROM process WHERE end_ns < start_ns"},
};

size_t weft_query_n_invariants(void) { return sizeof invariants / sizeof invariants[0]; }

const char *weft_query_invariant_name(size_t i) { return i < weft_query_n_invariants() ? invariants[i].name : NULL; }

int64_t weft_query_invariant(WeftQuery *q, size_t i) {
  if (i >= weft_query_n_invariants()) return -1;
  WeftCursor c;
  int64_t n = -1;
  if (open_cursor(q, &c, ROW_ID, -1, invariants[i].count_sql)) {
    if (next_row(&c, ROW_ID))
      n = sqlite3_column_int64(c.st, 0);
    else if (!c.failed) { /* a count always gives a row */
      weft_sql_error(&q->sql);
      c.failed = true;
    }
  }
  return weft_cursor_close(&c) == 0 ? n : -1;
}
