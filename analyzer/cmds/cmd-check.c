/* cmd-check.c - weft check run.db: verify the invariants docs/schema.md promises.
 * SPDX-License-Identifier: MIT
 *
 * The invariants are store/query.c's counts of violations, the decoded lock
 * holds and the analysis's split of each thread's time; a failed check
 * prints its name and the count (the time split up to 3 examples).
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "holds.h"
#include "metrics.h"
#include "query.h"
#include "weft-cli.h"
#include "weft-db.h"

/* The lock hold blocks, decoded: each block's columns agree with its holds,
 * and every hold lies inside the life of an existing thread. Returns the
 * number of violations, -1 if it could not read. */
static long long check_holds(WeftQuery *q) {
  GHashTable *life = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  long long bad = 0;
  WeftCursor c;
  WeftThreadRow t;
  weft_query_threads(q, &c, -1);
  while (weft_next_thread(&c, &t)) {
    int64_t *v = g_new(int64_t, 3);
    v[0] = t.utid;
    v[1] = t.start_ns;
    v[2] = t.end_ns;
    g_hash_table_insert(life, v, v);
  }
  if (weft_cursor_close(&c) < 0) goto fail;
  WeftHoldBlockRow blk;
  int64_t prev_obj = -1, prev_last = INT64_MIN; /* an object's blocks follow each other in time */
  weft_query_hold_blocks(q, &c);
  while (weft_next_hold_block(&c, &blk)) {
    WeftHoldIter it;
    weft_hold_iter_init(&it, blk.object_id, blk.start_ns, blk.data, blk.len);
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
      const int64_t *life_of = g_hash_table_lookup(life, &h.utid);
      if (!life_of || h.start_ns < life_of[1] || h.start_ns + h.dur_ns > life_of[2]) bad++;
    }
    if (blk.object_id == prev_obj && first < prev_last) bad++;
    prev_obj = blk.object_id;
    prev_last = it.start;
    if (r < 0 || n == 0 || first != blk.start_ns || end != blk.end_ns || n != blk.holds || cont != blk.contended ||
        sum != blk.hold_ns || mx != blk.max_ns)
      bad++;
  }
  if (weft_cursor_close(&c) < 0) goto fail;
  g_hash_table_destroy(life);
  return bad;
fail:
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

int weft_cmd_check(int argc, char **argv) {
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
            "usage: weft check run.db\n  Verifies the invariants of a recording database.\n");
    return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
  }
  char err[PATH_MAX + 1536];
  sqlite3 *db = weft_db_open(argv[1], 0, err, sizeof err);
  if (!db) {
    fprintf(stderr, "weft check: %s\n", err);
    return 1;
  }
  /* a failed read: "weft check: DB: cannot check (NAME): <what SQLite said>" */
  char prefix[PATH_MAX + 200] = "weft check";
  WeftQuery q;
  weft_query_init(&q, db, err, sizeof err, prefix);
  /* every table the checks read, or one line saying which is missing (not
   * one failed query per check) */
  static const char *const tables[] = {"thread_state", "thread",     "process",       "flow",
                                       "sync_object",  "hold_block", "state_summary", "stack_frame",
                                       "frame",        "state_name", "meta",          "sched_sample"};
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    if (!weft_query_has_table(&q, tables[i])) {
      fprintf(stderr, "weft check: %s: cannot check: table %s is missing\n", argv[1], tables[i]);
      weft_query_clear(&q);
      sqlite3_close(db);
      return 1;
    }
  }
  /* a check that cannot run (a damaged file) ends the run with one line */
  int bad = 0;
  size_t ninv = weft_query_n_invariants();
  for (size_t i = 0; i < ninv + 2; i++) {
    long long n = -1;
    const char *unit = i <= ninv ? "violations" : "threads";
    const char *name = i < ninv ? weft_query_invariant_name(i)
                       : i == ninv
                           ? "lock hold blocks agree with their holds, which lie inside their thread's life"
                           : "each thread's time on a CPU, runnable, waiting and off a CPU adds up to its lifetime";
    snprintf(prefix, sizeof prefix, "weft check: %s: cannot check (%s)", argv[1], name);
    if (i < ninv) {
      n = weft_query_invariant(&q, i);
    } else if (i == ninv) {
      n = check_holds(&q);
    } else {
      char merr[1024] = "";
      n = check_time_split(db, argv[1], merr, sizeof merr);
      if (n < 0 && merr[0])
        weft_sql_fail(&q.sql, "%s: %s", prefix, merr);
      else if (n < 0)
        weft_sql_error(&q.sql);
    }
    if (n < 0) {
      fflush(stdout);
      fprintf(stderr, "%s\n", err);
      weft_query_clear(&q);
      sqlite3_close(db);
      return 1;
    }
    printf("%-4s %s", n == 0 ? "ok" : "FAIL", name);
    if (n > 0) printf(" (%lld %s)", n, unit);
    putchar('\n');
    if (n != 0) bad++;
  }
  weft_query_clear(&q);
  sqlite3_close(db);
  if (bad) fprintf(stderr, "weft check: %s: %d invariant(s) violated\n", argv[1], bad);
  return bad ? 1 : 0;
}
