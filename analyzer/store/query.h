/* query.h - the reads of a recording that weft export, weft check and weft-gui share.
 * SPDX-License-Identifier: MIT
 *
 * The consumers of a recording never write SQL themselves: they read it
 * through these functions, the way a viewer and its command-line tools read
 * one model. A WeftQuery is one connection's reads: it keeps the first
 * error (WeftSql: "<prefix>: <what SQLite said>") and the statements a
 * viewer repeats many times a second (a timeline's window, a hover),
 * prepared once. A read of many rows opens a cursor; the rows come with
 * the matching weft_next_*() and point into SQLite's memory until the next
 * call (nothing is allocated per row):
 *
 *   WeftQuery q;
 *   weft_query_init(&q, db, err, sizeof err, "weft export: run.db");
 *   WeftCursor c;
 *   WeftFlow f;
 *   weft_query_all_flows(&q, &c);
 *   while (weft_next_flow(&c, &f)) ...;
 *   if (weft_cursor_close(&c) < 0) puts(err);   (always close, also when leaving early)
 *   weft_query_clear(&q);
 *
 * Each read returns its own outcome (a cursor's close, -1 or false); the
 * message is the first error of the WeftQuery. Not thread-safe: one
 * WeftQuery per thread and connection.
 */
#ifndef WEFT_QUERY_H
#define WEFT_QUERY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "holds.h"
#include "weft-db.h"
#include "weft-sqlite.h"

#define WEFT_QUERY_KEPT 13

typedef struct {
  WeftSql sql;                         /* the connection and the first error */
  sqlite3_stmt *kept[WEFT_QUERY_KEPT]; /* the reads a viewer repeats, prepared on first use */
} WeftQuery;

/* Reads of db (not owned); the first error goes to err as "<prefix>: ...". */
void weft_query_init(WeftQuery *q, sqlite3 *db, char *err, size_t errlen, const char *prefix);
/* Finalize the kept statements (the connection stays open). */
void weft_query_clear(WeftQuery *q);
/* Prepare every kept statement now: a viewer learns when it opens a file,
 * not at its first hover, that a read will fail. false on an error. */
bool weft_query_prepare_all(WeftQuery *q);

/* One read in progress. Two cursors of the same kept read cannot be open
 * at once (they share its statement). */
typedef struct {
  WeftQuery *q;
  sqlite3_stmt *st; /* NULL when it could not be prepared */
  int kind;         /* the rows it gives (checked by weft_next_*) */
  bool kept, failed;
  WeftHoldIter it; /* holds: the block being decoded */
  int64_t a, b;    /* holds: the window (ends after a, starts before b) */
} WeftCursor;

/* End the read: 0, or -1 if it failed (the message is in the WeftQuery). */
int weft_cursor_close(WeftCursor *c);

/* ---- processes and threads ---- */

typedef struct {
  int64_t upid, pid, image;
  int64_t parent_upid;    /* -1 when NULL */
  int64_t exec_from_upid; /* -1 when NULL */
  int64_t n_images;       /* images of this pid in the recording */
  bool upid_is_pid;       /* some process of the recording has this upid as its pid */
  int64_t start_ns, end_ns;
  const char *exe, *cmdline; /* NULL when unknown */
  int64_t host;              /* host.host: the machine it ran on (schema 5) */
  int64_t mpi_rank;          /* its MPI_COMM_WORLD rank; -1 when NULL */
} WeftProcessRow;

/* Every process image, by upid: weft_next_process. */
void weft_query_processes(WeftQuery *q, WeftCursor *c);
bool weft_next_process(WeftCursor *c, WeftProcessRow *r);
/* The machines of the recording (schema 5's host table; docs/schema.md), by host. */
typedef struct {
  int64_t host;
  const char *name, *host_id; /* NULL when unknown */
  int64_t files, anchor_shift_ns;
  int64_t clock_offset_ns, offset_uncertainty_ns; /* -1: unknown */
  double drift_ppm;
  int64_t messages, offset_at_ns;
} WeftHostRow;
void weft_query_hosts(WeftQuery *q, WeftCursor *c);
bool weft_next_host(WeftCursor *c, WeftHostRow *r);

/* The largest pid of the recording (0 if none) into *out. 0 or -1. */
int weft_query_max_pid(WeftQuery *q, int64_t *out);

typedef struct {
  int64_t utid, upid, tid;
  bool is_main;
  const char *name; /* NULL when unknown */
  int64_t start_ns, end_ns;
} WeftThreadRow;

/* The threads of process upid, its main thread first, then by start; every
 * thread by utid when upid < 0: weft_next_thread. */
void weft_query_threads(WeftQuery *q, WeftCursor *c, int64_t upid);
bool weft_next_thread(WeftCursor *c, WeftThreadRow *r);
/* The finest and coarsest state_summary levels of thread utid, -1 when it
 * has none. 0 or -1. */
int weft_query_summary_levels(WeftQuery *q, int64_t utid, int *min, int *max);

/* ---- sync objects ---- */

/* Every sync object's id, in order: weft_next_id. */
void weft_query_object_ids(WeftQuery *q, WeftCursor *c);
/* The lock lanes of process upid: the mutexes, rwlocks and spinlocks some
 * thread waited for, the most waited-for first: weft_next_id. */
void weft_query_lock_lanes(WeftQuery *q, WeftCursor *c, int64_t upid);
bool weft_next_id(WeftCursor *c, int64_t *id);

typedef struct {
  int64_t object_id, upid;
  int pid;
  const char *kind; /* kind_name.name, never NULL */
  int64_t acquisitions, contended, wait_ns, hold_ns;
  int64_t waits; /* wait intervals (thread_state rows) */
  int64_t max_wait_ns;
} WeftObjectRow;

/* Every sync object but joins and children with its totals, the most
 * waited-for first (a scan of the waits: slow on a big recording):
 * weft_next_object. */
void weft_query_objects(WeftQuery *q, WeftCursor *c);
/* The same objects by object_id without the scan of the waits (waits and
 * max_wait_ns are -1): weft_next_object. */
void weft_query_object_list(WeftQuery *q, WeftCursor *c);
bool weft_next_object(WeftCursor *c, WeftObjectRow *r);

/* ---- thread states ---- */

/* One interval of thread_state. */
typedef struct {
  int64_t start_ns;
  int64_t dur_ns;
  int state;            /* WeftState */
  int64_t object_id;    /* -1 when NULL */
  int64_t blocker_utid; /* -1 when NULL */
  int64_t waker_utid;   /* -1 when NULL */
  int64_t stack_id;     /* -1 when NULL */
  int64_t utid;
  int result; /* errno-style result of a wait */
} WeftStateRow;

/* One frame of a call stack. Strings are NULL when unknown, numbers 0. */
typedef struct {
  const char *symbol, *file, *module;
  int64_t line, rel_pc, ip;
} WeftFrameRow;

/* The times and state of thread utid's intervals from the one containing t0
 * to the last starting before t1, in start order (a viewer folds thousands
 * a frame: nothing else is read): weft_next_state_times. */
typedef struct {
  int64_t start_ns, dur_ns;
  int state;
} WeftStateTimes;
void weft_query_state_times(WeftQuery *q, WeftCursor *c, int64_t utid, int64_t t0, int64_t t1);
bool weft_next_state_times(WeftCursor *c, WeftStateTimes *r);
/* The last interval of thread utid starting at or before t. false if none
 * (or on an error). */
bool weft_query_state_at(WeftQuery *q, int64_t utid, int64_t t, WeftStateRow *out);
/* The waits on object_id overlapping [t0, t1), in start order: weft_next_state. */
void weft_query_waits(WeftQuery *q, WeftCursor *c, int64_t object_id, int64_t t0, int64_t t1);
bool weft_next_state(WeftCursor *c, WeftStateRow *r);
/* The longest wait on object_id (the first of equals). false if none. */
bool weft_query_worst_wait(WeftQuery *q, int64_t object_id, WeftStateRow *out);
/* Every wait with a call stack, by thread then start: weft_next_state. */
void weft_query_stacked_waits(WeftQuery *q, WeftCursor *c);
/* Every interval (waits only unless running), by thread then start, with
 * the innermost frame of its stack (symbol, file and line: NULL and 0 when
 * it has none): weft_next_state_where. */
void weft_query_all_states(WeftQuery *q, WeftCursor *c, bool running);
bool weft_next_state_where(WeftCursor *c, WeftStateRow *r, WeftFrameRow *where);

/* Thread utid's time in each state into out[WEFT_ST_COUNT] and the bit of
 * each state it was in into *present (may be NULL): the sums of its
 * state_summary at level, or of its thread_state rows when level < 0 (the
 * coarsest level has a few rows per thread). 0 or -1. */
int weft_query_state_sums(WeftQuery *q, int64_t utid, int level, int64_t *out, uint32_t *present);

/* Thread utid's scheduler readings (sched_sample: cumulative schedstat
 * times since it started) in time order, then the last one, at its end, from
 * thread.cpu_ns and runq_ns (runq_ns 0 when NULL) when it has one (`last`):
 * weft_next_sched. How they split a thread's time: docs/report-json.md. */
typedef struct {
  int64_t ts_ns, cpu_ns, runq_ns;
  bool last;
} WeftSchedRow;
void weft_query_sched(WeftQuery *q, WeftCursor *c, int64_t utid);
bool weft_next_sched(WeftCursor *c, WeftSchedRow *r);

/* Level of detail: state_summary rows of (utid, level) for buckets b0..b1
 * (inclusive): weft_next_summary. */
typedef struct {
  int64_t bucket, total_ns;
  int state;
} WeftSummaryRow;
void weft_query_summary(WeftQuery *q, WeftCursor *c, int64_t utid, int level, int64_t b0, int64_t b1);
bool weft_next_summary(WeftCursor *c, WeftSummaryRow *r);

/* ---- lock holds ---- */

/* The holds of object_id overlapping [t0, t1) (ending after t0, starting
 * before t1), in start order: weft_next_hold. */
void weft_query_holds(WeftQuery *q, WeftCursor *c, int64_t object_id, int64_t t0, int64_t t1);
/* Every hold of the objects that were contended at least once, by object
 * then start: weft_next_hold. */
void weft_query_contended_holds(WeftQuery *q, WeftCursor *c);
/* A corrupt block fails the read: "<prefix>: the lock holds of object N are corrupt". */
bool weft_next_hold(WeftCursor *c, WeftHold *h);

/* One row of hold_block, undecoded (data: see holds.h). */
typedef struct {
  int64_t object_id, start_ns, end_ns, holds, contended, hold_ns, max_ns;
  const void *data;
  size_t len;
} WeftHoldBlockRow;
/* Every block, by object, start and rowid: weft_next_hold_block. */
void weft_query_hold_blocks(WeftQuery *q, WeftCursor *c);
bool weft_next_hold_block(WeftCursor *c, WeftHoldBlockRow *r);

/* ---- flows, stacks, marks, meta ---- */

/* One flow row: from_utid at from_ns made to_utid continue at to_ns. */
typedef struct {
  int64_t flow_id;
  int kind; /* WeftFlowKind */
  int64_t from_utid, from_ns;
  int64_t to_utid, to_ns;
  int64_t object_id; /* -1 when NULL */
} WeftFlow;

/* The flows that start or end on thread utid inside [t0, t1], at most
 * limit: weft_next_flow. */
void weft_query_flows(WeftQuery *q, WeftCursor *c, int64_t utid, int64_t t0, int64_t t1, int64_t limit);
/* Every flow, by flow_id: weft_next_flow. */
void weft_query_all_flows(WeftQuery *q, WeftCursor *c);
bool weft_next_flow(WeftCursor *c, WeftFlow *r);

/* The frames of a call stack, innermost first: weft_next_frame. */
void weft_query_stack(WeftQuery *q, WeftCursor *c, int64_t stack_id);
bool weft_next_frame(WeftCursor *c, WeftFrameRow *r);

/* Every frame of every stack, by stack then depth (innermost first):
 * weft_next_stack_frame. */
typedef struct {
  int64_t stack_id, frame_id;
  int depth;
  WeftFrameRow f;
} WeftStackFrameRow;
void weft_query_all_stack_frames(WeftQuery *q, WeftCursor *c);
bool weft_next_stack_frame(WeftCursor *c, WeftStackFrameRow *r);

/* The functions and files of the frames of stacks: each distinct (symbol,
 * file) with the number of stacks it is in, by symbol then file:
 * weft_next_frame_name. Frames with neither are left out. */
typedef struct {
  const char *symbol, *file; /* NULL when unknown */
  int64_t stacks;
} WeftFrameNameRow;
void weft_query_frame_names(WeftQuery *q, WeftCursor *c);
bool weft_next_frame_name(WeftCursor *c, WeftFrameNameRow *r);

/* Marks and phases from weft.h, by thread then start: weft_next_mark. */
typedef struct {
  int64_t utid, start_ns, dur_ns, id;
  const char *label; /* NULL when none */
} WeftMarkRow;
void weft_query_marks(WeftQuery *q, WeftCursor *c);
bool weft_next_mark(WeftCursor *c, WeftMarkRow *r);

/* The meta table, by key: weft_next_meta. */
void weft_query_meta(WeftQuery *q, WeftCursor *c);
bool weft_next_meta(WeftCursor *c, const char **key, const char **value);

/* ---- invariants (weft check) ---- */

/* Whether the database has a table of this name (false on an error too). */
bool weft_query_has_table(WeftQuery *q, const char *name);
/* The invariants docs/schema.md promises that one count of violations
 * checks: how many, the name of invariant i, and its violations (-1 if
 * they could not be counted). */
size_t weft_query_n_invariants(void);
const char *weft_query_invariant_name(size_t i);
int64_t weft_query_invariant(WeftQuery *q, size_t i);

#endif /* WEFT_QUERY_H */
