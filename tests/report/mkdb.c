/* mkdb.c - write the fixed recording database of the `weft report` golden tests.
 * SPDX-License-Identifier: MIT
 *
 * usage: report-mkdb OUT.db [--incomplete]
 *
 * A thread pool as docs/schema.md says the importer stores it, built by
 * hand so the numbers are known (times in ms from the recording's start):
 *
 *   pid 4242 "./pool --threads 3" [0, 1000)
 *     main     setup 100, joins worker-1 (..600), worker-2 (..760), worker-3 (..800),
 *              runs 50, forks gzip at 850 and waits for it (..990), runs 10
 *     worker-1 [100, 600)  queue_lock waits 20 + 30, barrier 60, condvar 40
 *     worker-2 [102, 760)  queue_lock wait 10, barrier 30, rwlock 40
 *     worker-3 [104, 800)  barrier 1 (the last to arrive), io wait 50
 *   pid 4243 "gzip -c" [850, 990), forked by main
 *   marks: phase 'setup' [0, 100) and 'compute' [100, 800) on main
 *
 * --incomplete leaves out meta import_complete (an interrupted import).
 * --contended stores it as contention-first recording (meta holds =
 * contended) would: only the holds someone waited for (5 of queue_lock's 9,
 * 70 ms; both of the rwlock's), and per thread the counts (lock_count): of
 * queue_lock worker-1 3 acquisitions with one timed hold of 5 ms, worker-2 4
 * with one of 3 ms, worker-3 2 and 2 failed tries; of the rwlock one each
 * for worker-2 and worker-3. By hand: queue_lock held ≈ 70 + (9 - 5) * 4 =
 * 86 ms (really 85), the longest hold at least 40 ms.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holds.h"
#include "weft-db.h"
#include "weft-trace.h"

#define MS 1000000LL

static sqlite3 *db;

static void X(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *sql = sqlite3_vmprintf(fmt, ap);
  va_end(ap);
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "report-mkdb: %s: %s\n", sql, msg);
    exit(1);
  }
  sqlite3_free(sql);
}

typedef struct {
  long long ms;     /* duration */
  int       state;
  long long obj;    /* -1: NULL */
  long long stack;  /* -1: NULL */
} Seg;

/* Contiguous thread_state rows from start; returns the end. */
static long long segs(long long utid, long long start, const Seg *s, size_t n) {
  long long t = start;
  for (size_t i = 0; i < n; i++) {
    char obj[24] = "NULL", stk[24] = "NULL";
    if (s[i].obj >= 0) snprintf(obj, sizeof obj, "%lld", s[i].obj);
    if (s[i].stack >= 0) snprintf(stk, sizeof stk, "%lld", s[i].stack);
    X("INSERT INTO thread_state(utid, start_ns, dur_ns, state, object_id, stack_id) VALUES (%lld, %lld, %lld, %d, %s, %s)",
      utid, t, s[i].ms * MS, s[i].state, obj, stk);
    t += s[i].ms * MS;
  }
  return t;
}

static void thread(long long utid, long long upid, long long tid, const char *name, int is_main, long long creator,
                   long long start_ms, long long end_ms, long long cpu_ms, long long runq_ms) {
  char cr[24] = "NULL";
  if (creator >= 0) snprintf(cr, sizeof cr, "%lld", creator);
  X("INSERT INTO thread(utid, upid, tid, name, is_main, creator_utid, start_ns, end_ns, end_how, cpu_ns, runq_ns) "
    "VALUES (%lld, %lld, %lld, %Q, %d, %s, %lld, %lld, 'return', %lld, %lld)",
    utid, upid, tid, name, is_main, cr, start_ms * MS, end_ms * MS, cpu_ms * MS, runq_ms * MS);
}

static void hold(long long obj, long long utid, long long s_ms, long long e_ms, int contended) {
  X("INSERT INTO lock_hold(object_id, utid, start_ns, dur_ns, contended) VALUES (%lld, %lld, %lld, %lld, %d)", obj,
    utid, s_ms * MS, (e_ms - s_ms) * MS, contended);
}

static void flow(int kind, long long fu, long long f_ms, long long tu, long long t_ms, long long obj) {
  char o[24] = "NULL";
  if (obj >= 0) snprintf(o, sizeof o, "%lld", obj);
  X("INSERT INTO flow(kind, from_utid, from_ns, to_utid, to_ns, object_id) VALUES (%d, %lld, %lld, %lld, %lld, %s)",
    kind, fu, f_ms * MS, tu, t_ms * MS, o);
}

static void frame_stack(long long id, const char *sym, const char *file, int line) {
  X("INSERT INTO frame(frame_id, upid, ip, module_id, rel_pc, symbol, file, line) "
    "VALUES (%lld, 1, %lld, 1, %lld, %Q, %Q, %d)",
    id, 0x555555554000LL + 0x1000 + id * 16, 0x1000 + id * 16, sym, file, line);
  X("INSERT INTO stack(stack_id, upid, depth) VALUES (%lld, 1, 2)", id);
  X("INSERT INTO stack_frame(stack_id, depth, frame_id) VALUES (%lld, 0, %lld)", id, id);
  X("INSERT INTO stack_frame(stack_id, depth, frame_id) VALUES (%lld, 1, 99)", id);
}

static void object(long long id, int kind, long long addr, const char *name, long long init_stack,
                   long long first_stack, long long acq, long long contended) {
  char is[24] = "NULL", fs[24] = "NULL";
  if (init_stack >= 0) snprintf(is, sizeof is, "%lld", init_stack);
  if (first_stack >= 0) snprintf(fs, sizeof fs, "%lld", first_stack);
  X("INSERT INTO sync_object(object_id, upid, addr, kind, name, init_stack_id, first_stack_id, acquisitions, "
    "contended) VALUES (%lld, 1, %lld, %d, %Q, %s, %s, %lld, %lld)",
    id, addr, kind, name, is, fs, acq, contended);
}

static void counts(long long obj, long long utid, long long s_ms, long long e_ms, long long acq, long long fail,
                   long long samples, long long sample_ms, long long sample_max_ms) {
  X("INSERT INTO lock_count VALUES (%lld, %lld, %lld, %lld, %lld, %lld, 0, %lld, %lld, %lld)", obj, utid, s_ms * MS,
    e_ms * MS, acq, fail, samples, sample_ms * MS, sample_max_ms * MS);
}

int main(int argc, char **argv) {
  int incomplete = argc == 3 && !strcmp(argv[2], "--incomplete");
  int contended = argc == 3 && !strcmp(argv[2], "--contended");
  if (argc < 2 || (argc == 3 && !incomplete && !contended) || argc > 3) {
    fprintf(stderr, "usage: report-mkdb OUT.db [--incomplete | --contended]\n");
    return 2;
  }
  char err[512];
  db = weft_db_create(argv[1], 1, err, sizeof err);
  if (!db) {
    fprintf(stderr, "report-mkdb: %s\n", err);
    return 1;
  }
  X("BEGIN");
  X("CREATE TEMP TABLE lock_hold (object_id INTEGER, utid INTEGER, start_ns INTEGER, dur_ns INTEGER, contended INTEGER, shared INTEGER DEFAULT 0)");
  X("INSERT INTO process(upid, pid, image, parent_upid, cmdline, exe, start_ns, end_ns, end_how, exit_status, file) "
    "VALUES (1, 4242, 0, NULL, './pool --threads 3', '/src/pool', 0, %lld, 'exit', 0, '4242.0.wtrace')",
    1000 * MS);
  X("INSERT INTO process(upid, pid, image, parent_upid, cmdline, exe, start_ns, end_ns, end_how, exit_status, file) "
    "VALUES (2, 4243, 0, 1, 'gzip -c', '/usr/bin/gzip', %lld, %lld, 'exit', 0, '4243.0.wtrace')",
    850 * MS, 990 * MS);
  X("INSERT INTO module(module_id, upid, path, build_id, bias, start, end) "
    "VALUES (1, 1, '/src/pool', 'abcd', %lld, %lld, %lld)",
    0x555555554000LL, 0x555555554000LL, 0x555555560000LL);

  thread(1, 1, 4242, "pool", 1, -1, 0, 1000, 158, 2);
  thread(2, 1, 4243, "worker-1", 0, 1, 100, 600, 330, 20);
  thread(3, 1, 4244, "worker-2", 0, 1, 102, 760, 570, 10);
  thread(4, 1, 4245, "worker-3", 0, 1, 104, 800, 600, 45);
  thread(5, 2, 4250, "gzip", 1, -1, 850, 990, 135, 5);

  frame_stack(10, "worker", "/src/pool.c", 88);
  frame_stack(11, "drain", "/src/pool.c", 130);
  frame_stack(12, "worker", "/src/pool.c", 95);
  frame_stack(13, "wait_for_work", "/src/pool.c", 60);
  frame_stack(14, "lookup", "/src/table.c", 55);
  frame_stack(15, "pool_init", "/src/pool.c", 40);
  frame_stack(16, "setup_barrier", "/src/pool.c", 30);
  X("INSERT INTO frame(frame_id, upid, ip, module_id, rel_pc, symbol, file, line) "
    "VALUES (99, 1, %lld, 1, 16, 'main', '/src/pool.c', 200)",
    0x555555554000LL + 16);

  const int R = WEFT_ST_RUNNING;
  object(1, WEFT_KIND_MUTEX, 0x555555558040LL, "queue_lock", 15, 10, 9, 3);
  object(2, WEFT_KIND_BARRIER, 0x555555558080LL, NULL, 16, 12, 0, 0);
  object(3, WEFT_KIND_COND, 0x5555555580c0LL, "work_ready", -1, 13, 0, 0);
  object(4, WEFT_KIND_RWLOCK, 0x7ffff0000010LL, NULL, -1, 14, 2, 1);
  object(20, WEFT_KIND_JOIN, 0x7ffff7a00640LL, NULL, -1, -1, 0, 0);
  object(21, WEFT_KIND_JOIN, 0x7ffff7200640LL, NULL, -1, -1, 0, 0);
  object(22, WEFT_KIND_JOIN, 0x7ffff6a00640LL, NULL, -1, -1, 0, 0);
  object(30, WEFT_KIND_CHILD, 4243, NULL, -1, -1, 0, 0);

  const Seg main_s[] = {{100, R, -1, -1},
                        {500, WEFT_ST_JOIN_WAIT, 20, -1},
                        {160, WEFT_ST_JOIN_WAIT, 21, -1},
                        {40, WEFT_ST_JOIN_WAIT, 22, -1},
                        {50, R, -1, -1},
                        {140, WEFT_ST_CHILD_WAIT, 30, -1},
                        {10, R, -1, -1}};
  const Seg w1[] = {{80, R, -1, -1},  {20, WEFT_ST_LOCK_WAIT, 1, 10},    {90, R, -1, -1},
                    {60, WEFT_ST_BARRIER_WAIT, 2, 12}, {100, R, -1, -1}, {30, WEFT_ST_LOCK_WAIT, 1, 11},
                    {70, R, -1, -1},  {40, WEFT_ST_COND_WAIT, 3, 13},    {10, R, -1, -1}};
  const Seg w2[] = {{98, R, -1, -1},  {10, WEFT_ST_LOCK_WAIT, 1, 10},    {110, R, -1, -1},
                    {30, WEFT_ST_BARRIER_WAIT, 2, 12}, {200, R, -1, -1}, {40, WEFT_ST_RWLOCK_WAIT, 4, 14},
                    {170, R, -1, -1}};
  const Seg w3[] = {{245, R, -1, -1}, {1, WEFT_ST_BARRIER_WAIT, 2, 12}, {350, R, -1, -1},
                    {50, WEFT_ST_IO_WAIT, -1, -1}, {50, R, -1, -1}};
  const Seg gz[] = {{140, R, -1, -1}};
  segs(1, 0, main_s, sizeof main_s / sizeof main_s[0]);
  segs(2, 100 * MS, w1, sizeof w1 / sizeof w1[0]);
  segs(3, 102 * MS, w2, sizeof w2 / sizeof w2[0]);
  segs(4, 104 * MS, w3, sizeof w3 / sizeof w3[0]);
  segs(5, 850 * MS, gz, sizeof gz / sizeof gz[0]);
  X("UPDATE thread_state SET waker_utid = 4 WHERE state = %d AND utid IN (2, 3)", WEFT_ST_BARRIER_WAIT);

  /* queue_lock: with --contended only the holds someone waited for (worker-1
   * waited [180, 200) and [450, 480), worker-2 [200, 210)) and those that began
   * with a wait */
  if (!contended) hold(1, 2, 100, 105, 0);
  if (!contended) hold(1, 3, 150, 155, 0);
  hold(1, 3, 190, 200, 0);
  hold(1, 2, 200, 210, 1);
  hold(1, 3, 210, 215, 1);
  if (!contended) hold(1, 4, 300, 302, 0);
  hold(1, 4, 440, 480, 0);
  hold(1, 2, 480, 485, 1);
  if (!contended) hold(1, 3, 500, 503, 0);
  if (contended) {
    counts(1, 2, 100, 600, 3, 0, 1, 5, 5);
    counts(1, 3, 102, 760, 4, 0, 1, 3, 3);
    counts(1, 4, 104, 800, 2, 2, 0, 0, 0);
    counts(4, 3, 102, 760, 1, 0, 0, 0, 0);
    counts(4, 4, 104, 800, 1, 0, 0, 0, 0);
    X("INSERT OR REPLACE INTO meta VALUES ('holds', 'contended')");
    X("INSERT OR REPLACE INTO meta VALUES ('hold_sample', '64')");
    X("INSERT OR REPLACE INTO meta VALUES ('counts_flush_ms', '50')");
    X("UPDATE sync_object SET failed_tries = 2, hold_samples = 2, hold_sample_ns = %lld, hold_sample_max_ns = %lld "
      "WHERE object_id = 1", 8 * MS, 5 * MS);
  }
  X("INSERT INTO lock_hold(object_id, utid, start_ns, dur_ns, contended, shared) VALUES (4, 4, %lld, %lld, 0, 0)",
    540 * MS, 50 * MS);
  X("INSERT INTO lock_hold(object_id, utid, start_ns, dur_ns, contended, shared) VALUES (4, 3, %lld, %lld, 1, 1)",
    590 * MS, 2 * MS);

  flow(WEFT_FLOW_LOCK_HANDOFF, 3, 200, 2, 200, 1);
  flow(WEFT_FLOW_LOCK_HANDOFF, 2, 210, 3, 210, 1);
  flow(WEFT_FLOW_LOCK_HANDOFF, 4, 480, 2, 480, 1);
  flow(WEFT_FLOW_LOCK_HANDOFF, 4, 590, 3, 590, 4);
  flow(WEFT_FLOW_BARRIER, 4, 349, 2, 350, 2);
  flow(WEFT_FLOW_BARRIER, 4, 349, 3, 350, 2);
  flow(WEFT_FLOW_WAKEUP, 3, 590, 2, 590, 3);
  flow(WEFT_FLOW_CREATE, 1, 100, 2, 100, -1);
  flow(WEFT_FLOW_CREATE, 1, 102, 3, 102, -1);
  flow(WEFT_FLOW_CREATE, 1, 104, 4, 104, -1);
  flow(WEFT_FLOW_JOIN, 2, 600, 1, 600, 20);
  flow(WEFT_FLOW_JOIN, 3, 760, 1, 760, 21);
  flow(WEFT_FLOW_JOIN, 4, 800, 1, 800, 22);
  flow(WEFT_FLOW_FORK, 1, 850, 5, 850, -1);
  flow(WEFT_FLOW_WAIT, 5, 990, 1, 990, 30);

  X("INSERT INTO sched_sample(utid, ts_ns, cpu_ns, runq_ns, slices) VALUES (4, %lld, %lld, %lld, 40)", 450 * MS,
    330 * MS, 25 * MS);
  X("INSERT INTO mark(utid, start_ns, dur_ns, id, label) VALUES (1, 0, %lld, 1, 'setup')", 100 * MS);
  X("INSERT INTO mark(utid, start_ns, dur_ns, id, label) VALUES (1, %lld, %lld, 2, 'compute')", 100 * MS, 700 * MS);

  X("INSERT OR REPLACE INTO meta VALUES ('weft_version', '0.1.0')");
  X("INSERT OR REPLACE INTO meta VALUES ('schema_version', '3')");
  X("INSERT OR REPLACE INTO meta VALUES ('origin_ns', '5000000000000')");
  X("INSERT OR REPLACE INTO meta VALUES ('end_ns', '%lld')", 1000 * MS);
  X("INSERT OR REPLACE INTO meta VALUES ('command', './pool --threads 3')");
  X("INSERT OR REPLACE INTO meta VALUES ('clock', 'tsc')");
  X("INSERT OR REPLACE INTO meta VALUES ('ncpus', '4')");
  X("INSERT OR REPLACE INTO meta VALUES ('lost_events', '0')");
  if (weft_holds_pack_table(db, "lock_hold", err, sizeof err) != 0) {
    fprintf(stderr, "report-mkdb: %s\n", err);
    return 1;
  }
  if (!incomplete) X("INSERT OR REPLACE INTO meta VALUES ('import_complete', '1')");
  X("COMMIT");
  if (sqlite3_close(db) != SQLITE_OK) {
    fprintf(stderr, "report-mkdb: %s: cannot close\n", argv[1]);
    return 1;
  }
  return 0;
}
