/* cmd-check.c - weft check run.db: verify the invariants docs/schema.md promises.
 * SPDX-License-Identifier: MIT
 *
 * Each check is one SQL query that must return 0 (violations counted); a
 * failed check prints its name, the count and up to 3 examples.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "holds.h"
#include "metrics.h"
#include "weft-cli.h"
#include "weft-db.h"

/* The lock hold blocks, decoded: each block's columns agree with its holds,
 * and every hold lies inside the life of an existing thread. Returns the
 * number of violations, -1 if it could not read. */
static long long check_holds(sqlite3 *db) {
  sqlite3_stmt *q = NULL;
  GHashTable *life = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  long long bad = 0;
  if (sqlite3_prepare_v2(db, "SELECT utid, start_ns, end_ns FROM thread", -1, &q, NULL) != SQLITE_OK) goto fail;
  while (sqlite3_step(q) == SQLITE_ROW) {
    int64_t *v = g_new(int64_t, 3);
    v[0] = sqlite3_column_int64(q, 0);
    v[1] = sqlite3_column_int64(q, 1);
    v[2] = sqlite3_column_int64(q, 2);
    g_hash_table_insert(life, v, v);
  }
  sqlite3_finalize(q);
  if (sqlite3_prepare_v2(db, "SELECT object_id, start_ns, data, end_ns, holds, contended, hold_ns, max_ns FROM hold_block "
                         "ORDER BY object_id, start_ns, rowid",
                         -1, &q, NULL) != SQLITE_OK)
    goto fail;
  int rc;
  int64_t prev_obj = -1, prev_last = INT64_MIN; /* an object's blocks follow each other in time */
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    WeftHoldIter it;
    weft_hold_iter_init(&it, sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), sqlite3_column_blob(q, 2),
                        (size_t)sqlite3_column_bytes(q, 2));
    WeftHold h;
    int64_t n = 0, cont = 0, sum = 0, mx = 0, end = INT64_MIN, first = 0;
    int r;
    while ((r = weft_hold_iter_next(&it, &h)) == 1) {
      if (!n) first = h.start_ns;
      n++;
      cont += h.contended;
      sum += h.dur_ns;
      if (h.dur_ns > mx) mx = h.dur_ns;
      if (h.start_ns + h.dur_ns > end) end = h.start_ns + h.dur_ns;
      const int64_t *t = g_hash_table_lookup(life, &h.utid);
      if (!t || h.start_ns < t[1] || h.start_ns + h.dur_ns > t[2]) bad++;
    }
    if (sqlite3_column_int64(q, 0) == prev_obj && first < prev_last) bad++;
    prev_obj = sqlite3_column_int64(q, 0);
    prev_last = it.start;
    if (r < 0 || n == 0 || first != sqlite3_column_int64(q, 1) || end != sqlite3_column_int64(q, 3) ||
        n != sqlite3_column_int64(q, 4) || cont != sqlite3_column_int64(q, 5) || sum != sqlite3_column_int64(q, 6) ||
        mx != sqlite3_column_int64(q, 7))
      bad++;
  }
  if (rc != SQLITE_DONE) goto fail;
  sqlite3_finalize(q);
  g_hash_table_destroy(life);
  return bad;
fail:
  sqlite3_finalize(q);
  g_hash_table_destroy(life);
  return -1;
}

/* Each thread's time, split four ways by the analysis (on a CPU, runnable,
 * waiting, off a CPU), adds up to its lifetime, with no part negative, and
 * the waiting time by kind adds up to the waiting time (to rounding).
 * Returns the number of threads violating it, -1 if it could not compute. */
static long long check_time_split(sqlite3 *db, const char *path, char *err, size_t errlen) {
  WeftMetricsQuery q;
  weft_metrics_query_init(&q);
  q.what = WEFT_METRICS_PARALLELISM; /* the accounting is always computed; nothing costly besides */
  q.all_processes = 1;
  q.jobs = 1;
  WeftMetrics *m = weft_metrics_compute(db, &q, err, errlen);
  if (!m) return -1;
  long long bad = 0;
  for (size_t i = 0; i < m->nthreads; i++) {
    const WeftThreadMetrics *t = &m->threads[i];
    const WeftTimeSplit *x = &t->time;
    int64_t by = 0;
    for (int k = 0; k < WEFT_ST_COUNT; k++) by += x->waiting_state_ns[k];
    bool ok = x->oncpu_ns >= 0 && x->runnable_ns >= 0 && x->waiting_ns >= 0 && x->offcpu_ns >= 0 &&
              x->assumed_ns >= 0 && x->assumed_ns <= x->oncpu_ns &&
              x->oncpu_ns + x->runnable_ns + x->waiting_ns + x->offcpu_ns == t->lifetime_ns &&
              by - x->waiting_ns <= WEFT_ST_COUNT && x->waiting_ns - by <= WEFT_ST_COUNT;
    if (ok) continue;
    if (bad++ < 3)
      fprintf(stderr,
              "weft check: %s: thread %lld (tid %lld): on a CPU %lld + runnable %lld + waiting %lld + off a CPU %lld "
              "ns != lifetime %lld ns (or a part is negative)\n",
              path, (long long)t->utid, (long long)t->tid, (long long)x->oncpu_ns, (long long)x->runnable_ns,
              (long long)x->waiting_ns, (long long)x->offcpu_ns, (long long)t->lifetime_ns);
  }
  weft_metrics_free(m);
  return bad;
}

static const struct {
  const char *name;
  const char *count_sql;
} checks[] = {
  {"thread_state intervals have a positive duration",
   "SELECT count(*) FROM thread_state WHERE dur_ns <= 0"},
  {"a thread's states do not overlap and leave no gap",
   "SELECT count(*) FROM (SELECT start_ns, lag(start_ns + dur_ns) OVER (PARTITION BY utid ORDER BY start_ns) AS prev_end"
   " FROM thread_state) WHERE prev_end IS NOT NULL AND prev_end != start_ns"},
  {"a thread's states cover its life from start to end",
   "SELECT count(*) FROM thread t LEFT JOIN (SELECT utid, min(start_ns) AS a, max(start_ns + dur_ns) AS b"
   " FROM thread_state GROUP BY utid) s USING (utid)"
   " WHERE t.end_ns > t.start_ns AND (s.a IS NULL OR s.a != t.start_ns OR s.b != t.end_ns)"},
  {"threads lie inside their process",
   "SELECT count(*) FROM thread t JOIN process p USING (upid) WHERE t.start_ns < p.start_ns OR t.end_ns > p.end_ns"},
  {"state codes are known", "SELECT count(*) FROM thread_state WHERE state NOT IN (SELECT state FROM state_name)"},
  {"flows point at existing threads",
   "SELECT count(*) FROM flow WHERE from_utid NOT IN (SELECT utid FROM thread) OR to_utid NOT IN (SELECT utid FROM thread)"},
  {"flows go forward in time", "SELECT count(*) FROM flow WHERE from_ns > to_ns"},
  {"flows start inside the life of their thread",
   "SELECT count(*) FROM flow f JOIN thread t ON t.utid = f.from_utid WHERE f.from_ns < t.start_ns OR f.from_ns > t.end_ns"},
  {"flows end inside the life of their thread",
   "SELECT count(*) FROM flow f JOIN thread t ON t.utid = f.to_utid WHERE f.to_ns < t.start_ns OR f.to_ns > t.end_ns"},
  {"waits name existing objects",
   "SELECT count(*) FROM thread_state WHERE object_id IS NOT NULL AND object_id NOT IN (SELECT object_id FROM sync_object)"},
  {"object wait totals equal the sum of their waits",
   "SELECT count(*) FROM sync_object o WHERE o.wait_ns != (SELECT coalesce(sum(dur_ns), 0) FROM thread_state s"
   " WHERE s.object_id = o.object_id AND s.state != 0)"},
  {"object hold totals equal the sum of their holds",
   "SELECT count(*) FROM sync_object o WHERE o.hold_ns != (SELECT coalesce(sum(hold_ns), 0) FROM hold_block h"
   " WHERE h.object_id = o.object_id)"},
  {"summaries equal the raw sums (per thread, level and state)",
   "SELECT count(*) FROM (SELECT utid, level, state, sum(total_ns) AS s FROM state_summary GROUP BY utid, level, state) x"
   " WHERE x.s != (SELECT coalesce(sum(dur_ns), 0) FROM thread_state t WHERE t.utid = x.utid AND t.state = x.state)"},
  {"summary buckets add up to at most their width",
   "SELECT count(*) FROM (SELECT level, bucket, utid, sum(total_ns) AS s FROM state_summary GROUP BY utid, level, bucket)"
   " WHERE s > (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'lod_base_ns') << (2 * level)"},
  {"stack frames exist", "SELECT count(*) FROM stack_frame WHERE frame_id NOT IN (SELECT frame_id FROM frame)"},
  {"processes end after they start", "SELECT count(*) FROM process WHERE end_ns < start_ns"},
};

int weft_cmd_check(int argc, char **argv) {
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
            "usage: weft check run.db\n  Verifies the invariants of a recording database.\n");
    return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
  }
  char err[1024];
  sqlite3 *db = weft_db_open(argv[1], 0, err, sizeof err);
  if (!db) {
    fprintf(stderr, "weft check: %s\n", err);
    return 1;
  }
  /* every table the checks read, or one line saying which is missing (not
   * one failed query per check) */
  static const char *const tables[] = {"thread_state", "thread", "process", "flow", "sync_object", "hold_block",
                                       "state_summary", "stack_frame", "frame", "state_name", "meta",
                                       "sched_sample"};
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    sqlite3_stmt *q = NULL;
    int have = sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", -1, &q,
                                  NULL) == SQLITE_OK &&
               sqlite3_bind_text(q, 1, tables[i], -1, SQLITE_STATIC) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    if (!have) {
      fprintf(stderr, "weft check: %s: cannot check: table %s is missing\n", argv[1], tables[i]);
      sqlite3_close(db);
      return 1;
    }
  }
  /* a check that cannot run (a damaged file) ends the run with one line */
  int bad = 0;
  err[0] = '\0';
  for (size_t i = 0; i < sizeof checks / sizeof checks[0] + 2; i++) {
    long long n = -1;
    const char *name, *unit = "violations";
    if (i < sizeof checks / sizeof checks[0]) {
      sqlite3_stmt *q = NULL;
      name = checks[i].name;
      if (sqlite3_prepare_v2(db, checks[i].count_sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int64(q, 0);
      sqlite3_finalize(q);
    } else if (i == sizeof checks / sizeof checks[0]) {
      name = "lock hold blocks agree with their holds, which lie inside their thread's life";
      n = check_holds(db);
    } else {
      name = "each thread's time on a CPU, runnable, waiting and off a CPU adds up to its lifetime";
      unit = "threads";
      n = check_time_split(db, argv[1], err, sizeof err);
    }
    if (n < 0) {
      fflush(stdout);
      fprintf(stderr, "weft check: %s: cannot check (%s): %s\n", argv[1], name, err[0] ? err : sqlite3_errmsg(db));
      sqlite3_close(db);
      return 1;
    }
    printf("%-4s %s", n == 0 ? "ok" : "FAIL", name);
    if (n > 0) printf(" (%lld %s)", n, unit);
    putchar('\n');
    if (n != 0) bad++;
  }
  sqlite3_close(db);
  if (bad) fprintf(stderr, "weft check: %s: %d invariant(s) violated\n", argv[1], bad);
  return bad ? 1 : 0;
}
