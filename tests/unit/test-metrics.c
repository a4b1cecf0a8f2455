/* test-metrics.c - unit tests of the analyses (analyzer/analysis/, weft_metrics_compute), TAP output.
 * SPDX-License-Identifier: MIT
 *
 * Each test builds a small recording database by hand (weft_db_create in a
 * fresh directory under $TMPDIR, rows INSERTed as docs/schema.md says the
 * importer writes them, meta import_complete = 1), reopens it read-only with
 * weft_db_open like `weft report` does, and checks the metrics against
 * values computed by hand in the comments.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "naming.h"
#include "report.h"
#include "symbolize.h"
#include "weft-db.h"
#include "weft-dbbuild.h"
#include "weft-trace.h"

#define MS 1000000LL
#define US 1000LL

#include "tap.h"

static int near(double a, double b) {
  double d = a - b;
  return d < 1e-9 && d > -1e-9;
}

static int has(const char *s, const char *sub) { return s && sub && strstr(s, sub) != NULL; }

/* ---- building databases (tests/common/weft-dbbuild.h) ---- */

static WeftDbDir dir;
static WeftDbBuild bd;

static void db_new(void) { dbb_dir_next(&dir, &bd); }

/* Mark the import complete, close, and reopen read-only like weft report. */
static sqlite3 *db_finish(long long end_ns) { return dbb_finish_reopen(&bd, end_ns, 4, "test"); }

static WeftMetrics *compute(sqlite3 *d, long long a, long long b, long long pid, char *err, size_t errlen) {
  WeftMetricsQuery q;
  weft_metrics_query_init(&q);
  q.start_ns = a;
  q.end_ns = b;
  q.pid = pid;
  return weft_metrics_compute(d, &q, err, errlen);
}

static WeftMetrics *compute_ok(sqlite3 *d, long long a, long long b) {
  char err[256];
  WeftMetrics *m = compute(d, a, b, -1, err, sizeof err);
  if (!m) {
    printf("Bail out! weft_metrics_compute: %s\n", err);
    exit(99);
  }
  return m;
}

/* The whole recording without the replay: the critical path's estimates as printed where it is not. */
static WeftMetrics *compute_no_replay(sqlite3 *d) {
  WeftMetricsQuery q;
  weft_metrics_query_init(&q);
  q.no_replay = 1;
  char err[256] = "";
  WeftMetrics *m = weft_metrics_compute(d, &q, err, sizeof err);
  if (!m) {
    printf("Bail out! weft_metrics_compute: %s\n", err);
    exit(99);
  }
  return m;
}


static const WeftObjectMetrics *object(const WeftMetrics *m, long long id) {
  for (size_t i = 0; i < m->nobjects; i++)
    if (m->objects[i].object_id == id) return &m->objects[i];
  return NULL;
}

/* ---- tests ---- */

static void test_pop(void) {
  WeftPop p;
  int64_t u[] = {1000 * MS, 2000 * MS};
  weft_pop(u, 2, 2000 * MS, &p);
  ok(near(p.lb, 0.75) && near(p.synce, 1.0) && near(p.pe, 0.75),
     "pop: useful 1 s and 2 s over 2 s: LB %.4f SyncE %.4f PE %.4f (0.75 1 0.75)", p.lb, p.synce, p.pe);
  ok(p.idle_ns == 1000 * MS && p.imbalance_ns == 1000 * MS && p.max_useful_ns == 2000 * MS,
     "pop: idle 1 s, imbalance 1 s");
  weft_pop(u, 0, 10, &p);
  ok(near(p.lb, 1.0) && p.pe == 0 && p.n == 0, "pop: an empty team is LB 1, PE 0");
  int64_t z[] = {0, 0};
  weft_pop(z, 2, 10, &p);
  ok(near(p.lb, 1.0) && p.synce == 0 && p.idle_ns == 20, "pop: no work at all is LB 1, SyncE 0, idle 2T");
  /* a damaged recording's huge times saturate (UBSan: no signed overflow) */
  int64_t big[] = {INT64_MAX / 2, INT64_MAX / 2 + 7};
  weft_pop(big, 2, INT64_MAX - 1, &p);
  ok(p.sum_useful_ns == INT64_MAX && p.idle_ns > 0 && p.imbalance_ns == 0,
     "pop: huge times saturate: sum %lld idle %lld imbalance %lld", (long long)p.sum_useful_ns, (long long)p.idle_ns,
     (long long)p.imbalance_ns);
}

static void test_units(void) {
  int64_t v = -1;
  ok(weft_parse_time("1.5s", &v) == 0 && v == 1500 * MS, "parse 1.5s");
  ok(weft_parse_time("200ms", &v) == 0 && v == 200 * MS, "parse 200ms");
  ok(weft_parse_time("30us", &v) == 0 && v == 30000, "parse 30us");
  ok(weft_parse_time("30µs", &v) == 0 && v == 30000, "parse 30µs");
  ok(weft_parse_time("1000ns", &v) == 0 && v == 1000, "parse 1000ns");
  ok(weft_parse_time("1000", &v) == 0 && v == 1000, "parse 1000 (ns)");
  ok(weft_parse_time(".5ms", &v) == 0 && v == 500000, "parse .5ms");
  const char *bad[] = {"", "-1s", "1e3", "abc", "1.2.3s", "5 s", "5sec", "s", "inf", "nan", "99999999999s"};
  int nbad = 0;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) nbad += weft_parse_time(bad[i], &v) < 0;
  ok(nbad == (int)(sizeof bad / sizeof bad[0]), "parse rejects %d of %zu malformed times", nbad,
     sizeof bad / sizeof bad[0]);
  char b[32];
  ok(!strcmp(weft_format_ns(b, sizeof b, 850), "850 ns"), "format 850 ns: %s", b);
  ok(!strcmp(weft_format_ns(b, sizeof b, 12345), "12.3 µs"), "format 12.3 µs: %s", b);
  ok(!strcmp(weft_format_ns(b, sizeof b, 1230000), "1.23 ms"), "format 1.23 ms: %s", b);
  ok(!strcmp(weft_format_ns(b, sizeof b, 999999), "1.00 ms"), "format 999999 ns as 1.00 ms: %s", b);
  ok(!strcmp(weft_format_ns(b, sizeof b, 2000 * MS), "2.00 s"), "format 2.00 s: %s", b);
  ok(!strcmp(weft_format_ns(b, sizeof b, 100000 * MS), "100 s"), "format 100 s: %s", b);
  ok(!strcmp(weft_format_ns(b, sizeof b, 0), "0 ns"), "format 0 ns: %s", b);
  /* sizes: decimal units, three significant digits, rounded before the unit is picked */
  static const struct {
    int64_t n;
    const char *s;
  } sizes[] = {{0, "0 B"},          {999, "999 B"},        {1000, "1.00 kB"},       {12345, "12.3 kB"},
               {999600, "1.00 MB"}, {134217728, "134 MB"}, {2150000000, "2.15 GB"}, {-5, "0 B"}};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
    ok(!strcmp(weft_format_bytes(b, sizeof b, sizes[i].n), sizes[i].s), "format %lld bytes as %s: %s",
       (long long)sizes[i].n, sizes[i].s, b);
  /* the one range parser of weft report (open ends) and weft-gui (both ends) */
  int64_t x, y;
  ok(weft_parse_range("1ms..2.5ms", 0, &x, &y) == 0 && x == MS && y == 2500000, "range 1ms..2.5ms");
  ok(weft_parse_range("..300ms", 1, &x, &y) == 0 && x == WEFT_TIME_OPEN_START && y == 300 * MS &&
         weft_parse_range("0.2s..", 1, &x, &y) == 0 && x == 200 * MS && y == WEFT_TIME_OPEN_END,
     "open ends where allowed");
  ok(weft_parse_range("..300ms", 0, &x, &y) < 0 && weft_parse_range("1s..", 0, &x, &y) < 0,
     "open ends refused where not");
  ok(weft_parse_range("5s..1s", 1, &x, &y) < 0 && weft_parse_range("1s..1s", 0, &x, &y) < 0 &&
         weft_parse_range("1s", 1, &x, &y) < 0 && weft_parse_range("1parsec..2s", 1, &x, &y) < 0,
     "empty, reversed, undotted and unit-less ranges refused");
}

/* Two threads over 2 s: main runs 1 s then sleeps 1 s, worker runs 2 s.
 * Worker: cpu 1.8 s, runq 100 ms, one schedstat sample at 1 s (900 ms, 50 ms).
 * Useful time is time on a CPU: main 1 s (no readings: its running time,
 * assumed), worker 1.8 s; in each second of the worker's, 900 ms on a CPU,
 * 50 ms runnable and so at least 50 ms off a CPU outside any wait. LB =
 * 1.4 / 1.8 = 0.7778, SyncE = 1.8 / 2 = 0.9, PE = 0.7 (without readings it
 * is the classic 1:2 case, LB 0.75: db_two(0)). */
static sqlite3 *db_two(int with_runq) {
  db_new();
  dbb_process(&bd, 1, 100, 0, 2000 * MS, "two", NULL);
  dbb_thread(&bd, 1, 1, 100, "main", -1, 0, 2000 * MS);
  dbb_thread(&bd, 2, 1, 101, "worker", 1, 0, 2000 * MS);
  dbb_state(&bd, 1, 0, 1000 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 1, 1000 * MS, 2000 * MS, WEFT_ST_SLEEP, -1, -1);
  dbb_state(&bd, 2, 0, 2000 * MS, WEFT_ST_RUNNING, -1, -1);
  if (with_runq) {
    dbb_thread_cpu(&bd, 2, 1800 * MS, 100 * MS);
    dbb_sched(&bd, 2, 1000 * MS, 900 * MS, 50 * MS, 10);
  }
  return db_finish(2000 * MS);
}

static void test_two_threads(void) {
  /* work 1:2 and no run queue: LB 0.75, SyncE 1, PE 0.75 */
  sqlite3 *d0 = db_two(0);
  WeftMetrics *m0 = compute_ok(d0, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  ok(near(m0->summary.pop.lb, 0.75) && near(m0->summary.pop.synce, 1.0) && near(m0->summary.pop.pe, 0.75),
     "work 1:2: LB %.4f SyncE %.4f PE %.4f (0.75 1 0.75)", m0->summary.pop.lb, m0->summary.pop.synce,
     m0->summary.pop.pe);
  weft_metrics_free(m0);
  sqlite3_close(d0);
  sqlite3 *d = db_two(1);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftSummary *s = &m->summary;
  ok(m->whole && m->range_start_ns == 0 && m->range_end_ns == 2000 * MS, "whole range 0..2 s");
  ok(s->nthreads == 2 && s->nprocesses == 1 && s->thread_ns == 4000 * MS, "2 threads, 1 process, 4 s thread time");
  ok(near(s->pop.lb, 1.4 / 1.8) && near(s->pop.synce, 0.9) && near(s->pop.pe, 0.7),
     "whole run: LB %.4f SyncE %.4f PE %.4f (0.7778 0.9 0.7: useful is on a CPU)", s->pop.lb, s->pop.synce, s->pop.pe);
  const WeftTimeSplit *w = &m->threads[1].time, *mn = &m->threads[0].time;
  ok(m->threads[1].useful_ns == 1800 * MS && m->threads[1].state_ns[WEFT_ST_RUNNING] == 2000 * MS &&
         w->oncpu_ns == 1800 * MS && w->runnable_ns == 100 * MS && w->offcpu_ns == 100 * MS && w->waiting_ns == 0 &&
         w->assumed_ns == 0,
     "worker: running 2 s = on a CPU 1.8 s + runnable 100 ms + off a CPU 100 ms (%lld %lld %lld %lld)",
     (long long)w->oncpu_ns, (long long)w->runnable_ns, (long long)w->offcpu_ns, (long long)w->waiting_ns);
  ok(m->threads[0].useful_ns == 1000 * MS && m->threads[0].state_ns[WEFT_ST_SLEEP] == 1000 * MS &&
         m->threads[0].wait_ns == 1000 * MS && m->threads[0].lifetime_ns == 2000 * MS && mn->oncpu_ns == 1000 * MS &&
         mn->assumed_ns == 1000 * MS && mn->waiting_ns == 1000 * MS &&
         mn->waiting_state_ns[WEFT_ST_SLEEP] == 1000 * MS && mn->runnable_ns == 0 && mn->offcpu_ns == 0,
     "main (no readings): on a CPU 1 s, all of it assumed; waiting 1 s, in sleep; lifetime 2 s");
  ok(m->threads[0].cpu_ns == -1 && m->threads[1].cpu_ns == 1800 * MS && m->threads[1].runq_ns == 100 * MS,
     "cpu/runq: unknown for main, the thread's reading for the worker");
  ok(s->cpu_ns == 1800 * MS && s->runq_ns == 100 * MS, "summary cpu/runq sum the known threads");
  ok(near(m->processes[0].pop.lb, 1.4 / 1.8) && m->processes[0].nthreads == 2 &&
         m->processes[0].useful_ns == 2800 * MS && m->processes[0].time.runnable_ns == 100 * MS &&
         s->time.oncpu_ns == 2800 * MS && s->time.assumed_ns == 1000 * MS,
     "process and summary: 2 threads, useful 2.8 s (1 s assumed), LB 0.7778");
  const WeftParallelism *p = &m->parallelism;
  ok(p->kmax == 2 && p->ns[0] == 0 && p->ns[1] == 1000 * MS && p->ns[2] == 1000 * MS,
     "parallelism: 1 s with 1 running, 1 s with 2");
  ok(near(p->fraction[1], 0.5) && near(p->fraction[2], 0.5) && near(p->average, 1.5),
     "parallelism: 0.5/0.5, average %.4f", p->average);
  /* findings: serial (1 s at most one thread x (2-1)) and sleep (1 s); equal
   * cost, serial ranks first by kind; runq 100 ms < 10% of 3 s running */
  ok(m->nfindings == 2 && m->findings[0].kind == WEFT_FIND_SERIAL && m->findings[1].kind == WEFT_FIND_SLEEP &&
         m->findings[0].cost_ns == 1000 * MS && m->findings[1].cost_ns == 1000 * MS,
     "findings: serial then sleep, 1 s each (%zu findings)", m->nfindings);
  ok(m->nfindings >= 1 && has(m->findings[0].title, "50% of the time") && has(m->findings[0].fix, "2.0x"),
     "serial finding: 50%% of the time, Amdahl bound 2.0x: %s / %s", m->nfindings ? m->findings[0].title : "",
     m->nfindings ? m->findings[0].fix : "");
  ok(m->nregions == 0 && m->nobjects == 0, "no regions, no objects");
  weft_metrics_free(m);

  /* clipped to [0.5 s, 1.5 s): useful 0.5 s and 1 s over T 1 s */
  m = compute_ok(d, 500 * MS, 1500 * MS);
  s = &m->summary;
  ok(!m->whole && s->span_ns == 1000 * MS && m->threads[0].lifetime_ns == 1000 * MS &&
         m->threads[1].lifetime_ns == 1000 * MS,
     "range 0.5..1.5 s: T 1 s, lifetimes clipped to 1 s");
  /* the worker's readings in the range: 450 ms on a CPU in each half second (interpolated) */
  ok(m->threads[0].useful_ns == 500 * MS && m->threads[0].state_ns[WEFT_ST_SLEEP] == 500 * MS &&
         m->threads[1].useful_ns == 900 * MS && m->threads[1].time.runnable_ns == 50 * MS &&
         m->threads[1].time.offcpu_ns == 50 * MS,
     "range: main useful 0.5 s, sleep 0.5 s; worker useful 0.9 s, runnable 50 ms, off a CPU 50 ms");
  ok(near(s->pop.lb, 0.7 / 0.9) && near(s->pop.synce, 0.9), "range: LB %.4f SyncE %.4f", s->pop.lb, s->pop.synce);
  ok(m->parallelism.ns[1] == 500 * MS && m->parallelism.ns[2] == 500 * MS && near(m->parallelism.average, 1.5),
     "range: parallelism 0.5 s / 0.5 s");
  /* schedstat interpolated: cpu points (0,0) (1 s, 900 ms) (2 s, 1.8 s): 450 ms at 0.5 s, 1.35 s at 1.5 s */
  ok(m->threads[1].cpu_ns == 900 * MS && m->threads[1].runq_ns == 50 * MS,
     "range: worker cpu %lld ns (900 ms), runq %lld ns (50 ms), interpolated", (long long)m->threads[1].cpu_ns,
     (long long)m->threads[1].runq_ns);
  weft_metrics_free(m);

  /* open end */
  m = compute_ok(d, 1500 * MS, WEFT_TIME_OPEN_END);
  /* on a CPU 1.35 s at 1.5 s (interpolated), 1.8 s at the end: 450 ms */
  ok(m->range_end_ns == 2000 * MS && m->threads[0].useful_ns == 0 && m->threads[1].useful_ns == 450 * MS,
     "range 1.5 s..: to the end of the recording");
  weft_metrics_free(m);
  /* a range past the end is clipped */
  m = compute_ok(d, 1000 * MS, 9000 * MS);
  ok(m->range_end_ns == 2000 * MS && m->summary.span_ns == 1000 * MS, "range 1..9 s is clipped to 1..2 s");
  weft_metrics_free(m);

  char err[256];
  m = compute(d, 3000 * MS, 4000 * MS, -1, err, sizeof err);
  ok(!m && has(err, "does not overlap"), "range 3..4 s: error '%s'", err);
  weft_metrics_free(m);
  m = compute(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END, 999, err, sizeof err);
  ok(!m && has(err, "no process with pid 999"), "pid 999: error '%s'", err);
  weft_metrics_free(m);
  m = compute(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END, 100, err, sizeof err);
  ok(m && m->nthreads == 2 && m->pid == 100, "pid 100 selects its threads");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* The text report of m (free it). */
static char *text_report(const WeftMetrics *m) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  WeftReportOptions opt = {.format = WEFT_REPORT_TEXT, .top = 0, .database = "t.db"};
  weft_report_write(f, m, &opt);
  fclose(f);
  return buf;
}

/* More runnable threads than CPUs: a thread whose lock waits end long after
 * its wake-up, and one that sleeps without a recorded wait. Over 1 s:
 *   utid 1 "worker": running [0, 200), lock_wait [200, 700), running [700, 1000) ms;
 *     readings (cumulative on a CPU, runnable): 150/250 at 500 ms, 400/300 at its end.
 *     [0, 500): 500 long, 200 running; on a CPU 150, runnable 250, the rest 100 in the wait.
 *     [500, 1000): 300 running; on a CPU 250, runnable 50, waiting 200.
 *     -> on a CPU 400, runnable 300, waiting 300 (all lock_wait), off a CPU 0;
 *        the old rule (running less runnable) said useful 500 - 300 = 200.
 *   utid 2 "sleeper": running [0, 1000) (its sleep was not recorded); readings 5/0 at its end
 *     -> on a CPU 5, off a CPU 995, runnable 0, waiting 0.
 *   The range [0, 250): the first interval cut in half (on a CPU 75, runnable 125 in 250 ms
 *   with 200 running) -> on a CPU 75, runnable 125, waiting 50. */
static sqlite3 *db_oversubscribed(void) {
  db_new();
  dbb_process(&bd, 1, 300, 0, 1000 * MS, "over", NULL);
  dbb_thread(&bd, 1, 1, 300, "worker", -1, 0, 1000 * MS);
  dbb_thread(&bd, 2, 1, 301, "sleeper", 1, 0, 1000 * MS);
  dbb_object(&bd, 1, 1, WEFT_KIND_MUTEX, 0x5000, "hot", -1, -1, 0);
  dbb_state(&bd, 1, 0, 200 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 1, 200 * MS, 700 * MS, WEFT_ST_LOCK_WAIT, 1, -1);
  dbb_state(&bd, 1, 700 * MS, 1000 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, 0, 1000 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_thread_cpu(&bd, 1, 400 * MS, 300 * MS);
  dbb_thread_cpu(&bd, 2, 5 * MS, 0);
  dbb_sched(&bd, 1, 500 * MS, 150 * MS, 250 * MS, 10);
  dbb_sched(&bd, 2, 500 * MS, 2 * MS, 0, 10);
  return db_finish(1000 * MS);
}

static void test_oversubscribed(void) {
  sqlite3 *d = db_oversubscribed();
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftTimeSplit *w = &m->threads[0].time, *z = &m->threads[1].time;
  ok(w->oncpu_ns == 400 * MS && w->runnable_ns == 300 * MS && w->waiting_ns == 300 * MS && w->offcpu_ns == 0 &&
         w->waiting_state_ns[WEFT_ST_LOCK_WAIT] == 300 * MS && m->threads[0].useful_ns == 400 * MS,
     "worker: on a CPU 400 ms, runnable 300 ms, waiting 300 ms in lock_wait (%lld %lld %lld %lld)",
     (long long)w->oncpu_ns, (long long)w->runnable_ns, (long long)w->waiting_ns, (long long)w->offcpu_ns);
  ok(m->threads[0].wait_ns == 500 * MS && m->threads[0].state_ns[WEFT_ST_LOCK_WAIT] == 500 * MS,
     "worker: the recorded wait keeps its wall time, 500 ms");
  ok(w->interpolated_ns == 0 && m->summary.time.interpolated_ns == 0, "the whole run: nothing interpolated");
  ok(z->oncpu_ns == 5 * MS && z->offcpu_ns == 995 * MS && z->runnable_ns == 0 && z->waiting_ns == 0 &&
         m->threads[1].useful_ns == 5 * MS,
     "sleeper: on a CPU 5 ms, off a CPU 995 ms, not useful while asleep (%lld %lld)", (long long)z->oncpu_ns,
     (long long)z->offcpu_ns);
  ok(near(m->summary.pop.lb, 202.5 / 400) && near(m->summary.pop.synce, 0.4),
     "LB %.4f (0.5063) SyncE %.4f (0.4): the sleeper is no straggler", m->summary.pop.lb, m->summary.pop.synce);
  /* 4 CPUs: the two threads used 0.4 of one, never more running than CPUs:
   * the runnable time is a warning about the measurement */
  const WeftFinding *f = NULL;
  for (size_t i = 0; i < m->nfindings; i++)
    if (m->findings[i].kind == WEFT_FIND_MACHINE_LOAD || m->findings[i].kind == WEFT_FIND_OVERSUBSCRIBED)
      f = &m->findings[i];
  ok(f && f->kind == WEFT_FIND_MACHINE_LOAD && f->cost_ns == 0, "4 CPUs: runnable 300 ms is other load (%s)",
     f ? f->kind_name : "none");
  /* running (or runnable): both [0, 200) and [700, 1000), the sleeper alone [200, 700) */
  const WeftParallelism *p = &m->parallelism;
  ok(p->kmax == 2 && p->ns[2] == 500 * MS && near(p->average, 1.5) && p->cpus == 4 && !p->oversubscribed &&
         near(p->cpus_used, 0.405),
     "4 CPUs: parallelism 1.5, at most 2, not oversubscribed; 0.405 CPUs used (%.4f)", p->cpus_used);
  char *txt = text_report(m);
  ok(has(txt, "average parallelism  1.50  (at most 2 threads running at once)") &&
         has(txt, "Parallelism (average 1.50 threads running)"),
     "4 CPUs: the report's parallelism as the threads ran");
  free(txt);
  weft_metrics_free(m);
  sqlite3_close(d);
  /* 1 CPU: 500 ms with both threads running: the program's own threads */
  d = db_oversubscribed();
  sqlite3 *w1 = NULL;
  if (sqlite3_open(bd.path, &w1) != SQLITE_OK ||
      sqlite3_exec(w1, "UPDATE meta SET value = '1' WHERE key = 'ncpus'", NULL, NULL, NULL) != SQLITE_OK)
    printf("Bail out! cannot set ncpus\n");
  sqlite3_close(w1);
  m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  f = NULL;
  for (size_t i = 0; i < m->nfindings; i++)
    if (m->findings[i].kind == WEFT_FIND_MACHINE_LOAD || m->findings[i].kind == WEFT_FIND_OVERSUBSCRIBED)
      f = &m->findings[i];
  ok(f && f->kind == WEFT_FIND_OVERSUBSCRIBED && f->cost_ns == 300 * MS && has(f->fix, "use at most 1 worker"),
     "1 CPU: runnable 300 ms is the program's own oversubscription, cost 300 ms (%s)", f ? f->fix : "none");
  /* 2 threads running or runnable for 500 ms on 1 CPU: the CPU ran 405 ms of them */
  p = &m->parallelism;
  ok(p->oversubscribed && p->cpus == 1 && near(p->average, 1.5) && near(p->cpus_used, 0.405),
     "1 CPU: oversubscribed, 1.5 threads running or runnable, 0.405 on the CPU (%.4f)", p->cpus_used);
  txt = text_report(m);
  ok(has(txt, "average parallelism  0.41  on a CPU, of 1 CPU (1.50 threads running or runnable, at most 2 at once)") &&
         has(txt, "Parallelism (average 1.50 threads running or runnable on 1 CPU; 0.41 on a CPU)") &&
         has(txt, "RUNNING OR RUNNABLE") && has(txt, "up to 2 threads running or runnable at once, on 1 CPU;"),
     "1 CPU: the report says what the CPU ran, not 1.5 threads at once on it");
  free(txt);
  f = NULL;
  for (size_t i = 0; i < m->nfindings; i++)
    if (m->findings[i].kind == WEFT_FIND_SERIAL) f = &m->findings[i];
  ok(f && has(f->evidence, "up to 2 threads running or runnable at once, on 1 CPU; average parallelism 0.41 on a "
                           "CPU (1.50 running or runnable)"),
     "1 CPU: the serial phases' evidence says the same (%s)", f ? f->evidence : "no finding");
  weft_metrics_free(m);
  m = compute_ok(d, 0, 250 * MS);
  w = &m->threads[0].time;
  ok(w->interpolated_ns == 250 * MS,
     "range 0..250 ms: its 250 ms cut from the reading interval 0..500 ms are "
     "interpolated, and said so (%lld)",
     (long long)w->interpolated_ns);
  ok(w->oncpu_ns == 75 * MS && w->runnable_ns == 125 * MS && w->waiting_ns == 50 * MS && w->offcpu_ns == 0,
     "range 0..250 ms: worker on a CPU 75 ms, runnable 125 ms, waiting 50 ms (%lld %lld %lld)", (long long)w->oncpu_ns,
     (long long)w->runnable_ns, (long long)w->waiting_ns);
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* Two forked workers (pids 401, 402, a process each, a child of 400) on 1 CPU, each running
 * 0..1000 ms: on a CPU 500 ms and runnable 500 ms each. The runnable time is the program's own
 * (2 running on 1 CPU all the time), in 2 processes: the fix speaks of workers, threads or
 * processes, not of worker threads. */
/* A thread running 1000 ms by its records, on a CPU cpu ms by the scheduler
 * and never runnable: off a CPU 1000 - cpu ms outside any recorded wait. */
static sqlite3 *db_unrecorded(int64_t cpu) {
  db_new();
  dbb_process(&bd, 1, 400, 0, 1000 * MS, "cxx", NULL);
  dbb_thread(&bd, 1, 1, 400, "main", -1, 0, 1000 * MS);
  dbb_state(&bd, 1, 0, 1000 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_thread_cpu(&bd, 1, cpu, 0);
  dbb_sched(&bd, 1, 500 * MS, cpu / 2, 0, 10);
  return db_finish(1000 * MS);
}

/* Off a CPU outside every recorded wait for 10 % of the thread time or more:
 * the unrecorded finding, a warning about the measurement (cost 0, last),
 * naming the calls weft cannot see. */
static void test_unrecorded(void) {
  static const struct { int64_t cpu, want; } c[] = {{880 * MS, 120 * MS}, {920 * MS, 0}};
  for (size_t k = 0; k < 2; k++) {
    sqlite3 *d = db_unrecorded(c[k].cpu);
    WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
    const WeftFinding *f = NULL;
    for (size_t i = 0; i < m->nfindings; i++)
      if (m->findings[i].kind == WEFT_FIND_UNRECORDED) f = &m->findings[i];
    if (c[k].want)
      ok(f && f->cost_ns == 0 && f->utid == 1 && !strcmp(f->kind_name, "unrecorded") && has(f->fix, "std::barrier") &&
             has(f->title, "measurement: threads were off a CPU for 120 ms") && has(f->title, "(12% of thread time)") &&
             f == &m->findings[m->nfindings - 1],
         "off a CPU 120 ms of 1000 outside recorded waits: an unrecorded warning, listed last (%s)",
         f ? f->title : "none");
    else
      ok(!f, "off a CPU 80 ms of 1000: under a tenth, no unrecorded finding (%s)", f ? f->title : "none");
    weft_metrics_free(m);
    sqlite3_close(d);
  }
}

/* A process that loaded an OpenMP runtime (libgomp): a warning that its regions and barriers are not
 * recorded (cost 0, last, kind openmp) with the way to record it meanwhile; none without one. */
static void test_openmp(void) {
  for (int with = 0; with < 2; with++) {
    sqlite3 *d = NULL;
    db_new();
    dbb_process(&bd, 1, 400, 0, 1000 * MS, "omp", NULL);
    dbb_thread(&bd, 1, 1, 400, "main", -1, 0, 1000 * MS);
    dbb_state(&bd, 1, 0, 1000 * MS, WEFT_ST_RUNNING, -1, -1);
    dbb_thread_cpu(&bd, 1, 1000 * MS, 0);
    dbb_exec(&bd, "INSERT INTO module VALUES (1, 1, '/usr/lib/x86_64-linux-gnu/libc.so.6', NULL, 0, 0, 1)");
    if (with)
      dbb_exec(&bd, "INSERT INTO module VALUES (2, 1, '/usr/lib/x86_64-linux-gnu/libgomp.so.1', NULL, 0, 0, 1)");
    d = db_finish(1000 * MS);
    WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
    const WeftFinding *f = NULL;
    for (size_t i = 0; i < m->nfindings; i++)
      if (m->findings[i].kind == WEFT_FIND_OPENMP) f = &m->findings[i];
    if (with)
      ok(f && f->cost_ns == 0 && weft_finding_is_warning(f) && !strcmp(f->kind_name, "openmp") &&
             has(f->title, "runs OpenMP (libgomp.so.1)") && has(f->fix, "OMP_WAIT_POLICY=passive") &&
             f == &m->findings[m->nfindings - 1],
         "libgomp loaded: an openmp warning, listed last (%s)", f ? f->title : "none");
    else
      ok(!f, "no OpenMP runtime: no openmp warning (%s)", f ? f->title : "none");
    weft_metrics_free(m);
    sqlite3_close(d);
  }
}

static void test_oversubscribed_procs(void) {
  db_new();
  dbb_process(&bd, 1, 400, 0, 1000 * MS, "over", NULL);
  for (int u = 2; u <= 3; u++) {
    dbb_process(&bd, u, 399 + u, 0, 1000 * MS, "over", NULL);
    dbb_process_parent(&bd, u, 1);
    dbb_thread(&bd, u, u, 399 + u, "over", -1, 0, 1000 * MS);
    dbb_state(&bd, u, 0, 1000 * MS, WEFT_ST_RUNNING, -1, -1);
    dbb_thread_cpu(&bd, u, 500 * MS, 500 * MS);
  }
  dbb_thread(&bd, 1, 1, 400, "over", -1, 0, 1000 * MS);
  dbb_object(&bd, 9, 1, WEFT_KIND_CHILD, 0x191, NULL, -1, -1, 0);
  dbb_state(&bd, 1, 0, 1000 * MS, WEFT_ST_CHILD_WAIT, 9, -1);
  sqlite3 *d = dbb_finish_reopen(&bd, 1000 * MS, 1, "over");
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftFinding *f = NULL;
  for (size_t i = 0; i < m->nfindings; i++)
    if (m->findings[i].kind == WEFT_FIND_OVERSUBSCRIBED) f = &m->findings[i];
  ok(f && f->cost_ns == 1000 * MS &&
         has(f->fix, "in 2 processes: run at most 1 worker at once, threads or processes") &&
         !has(f->fix, "worker thread"),
     "2 processes on 1 CPU: runnable 1 s is the program's own, its fix names workers, threads or processes (%s)",
     f ? f->fix : "none");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* A lock with ten waits of 1..10 ms, a condvar with one 45 ms wait, and an
 * unnamed lock only held. Three threads over 100 ms.
 *   object 1 mutex "queue_lock", init stack 1 (init_pool, pool.c:80)
 *     waits by t2: 1 2 3 4 5 ms at stack 10 (worker pool.c:88)
 *     waits by t3: 6 (stack 12: same innermost frame as 10, another caller),
 *                  7 8 (stack 10), 9 10 (stack 11: flush pool.c:120)
 *     holds: 1, 2, 1, 4 ms (two contended); acquisitions (importer) 12
 *     hand-offs: 3
 *   object 2 cond at 0x1000, no name, no stacks: main waits 45 ms
 *   object 3 mutex, no name, first stack 11: held 10 ms by main, no waits */
static sqlite3 *db_lock(void) {
  db_new();
  dbb_process(&bd, 1, 200, 0, 100 * MS, "pool", NULL);
  dbb_thread(&bd, 1, 1, 200, "main", -1, 0, 100 * MS);
  dbb_thread(&bd, 2, 1, 201, "w1", 1, 0, 100 * MS);
  dbb_thread(&bd, 3, 1, 202, "w2", 1, 0, 100 * MS);
  dbb_frame(&bd, 1, 0x1000 + 1, -1, 0, "init_pool", "/src/pool.c", 80);
  dbb_frame(&bd, 2, 0x1000 + 2, -1, 0, "worker", "/src/pool.c", 88);
  dbb_frame(&bd, 3, 0x1000 + 3, -1, 0, "flush", "/src/pool.c", 120);
  dbb_frame(&bd, 4, 0x1000 + 4, -1, 0, "main", "/src/main.c", 10);
  dbb_stack(&bd, 1, 1, 4);
  dbb_stack(&bd, 10, 2, 4);
  dbb_stack(&bd, 11, 3, 4);
  dbb_stack(&bd, 12, 2, 3);
  dbb_object(&bd, 1, 1, WEFT_KIND_MUTEX, 0x5000, "queue_lock", 1, 10, 12);
  dbb_object(&bd, 2, 1, WEFT_KIND_COND, 0x1000, NULL, -1, -1, 0);
  dbb_object(&bd, 3, 1, WEFT_KIND_MUTEX, 0x6000, NULL, -1, 11, 1);
  const int L = WEFT_ST_LOCK_WAIT, R = WEFT_ST_RUNNING;
  dbb_state(&bd, 1, 0, 5 * MS, R, -1, -1);
  dbb_state(&bd, 1, 5 * MS, 50 * MS, WEFT_ST_COND_WAIT, 2, -1);
  dbb_state(&bd, 1, 50 * MS, 100 * MS, R, -1, -1);
  long long t2[][2] = {{0, 10},  {10, 11}, {11, 20}, {20, 22}, {22, 30}, {30, 33},
                       {33, 40}, {40, 44}, {44, 50}, {50, 55}, {55, 100}};
  for (int i = 0; i < 11; i++)
    dbb_state(&bd, 2, t2[i][0] * MS, t2[i][1] * MS, i % 2 ? L : R, i % 2 ? 1 : -1, i % 2 ? 10 : -1);
  long long t3[][3] = {{0, 10, -1},  {10, 16, 12}, {16, 20, -1}, {20, 27, 10}, {27, 30, -1}, {30, 38, 10},
                       {38, 40, -1}, {40, 49, 11}, {49, 50, -1}, {50, 60, 11}, {60, 100, -1}};
  for (int i = 0; i < 11; i++) dbb_state(&bd, 3, t3[i][0] * MS, t3[i][1] * MS, i % 2 ? L : R, i % 2 ? 1 : -1, t3[i][2]);
  dbb_hold(&bd, 1, 2, 11 * MS, 12 * MS, 1, 0);
  dbb_hold(&bd, 1, 3, 16 * MS, 18 * MS, 1, 0);
  dbb_hold(&bd, 1, 1, 1 * MS, 2 * MS, 0, 0);
  dbb_hold(&bd, 1, 2, 60 * MS, 64 * MS, 0, 0);
  dbb_hold(&bd, 3, 1, 60 * MS, 70 * MS, 0, 0);
  dbb_flow(&bd, WEFT_FLOW_LOCK_HANDOFF, 1, 2 * MS, 2, 11 * MS, 1);
  dbb_flow(&bd, WEFT_FLOW_LOCK_HANDOFF, 2, 12 * MS, 3, 16 * MS, 1);
  dbb_flow(&bd, WEFT_FLOW_LOCK_HANDOFF, 3, 18 * MS, 2, 22 * MS, 1);
  return db_finish(100 * MS);
}

/* A condition variable one thread waits on while the others work, off the
 * critical path, is waited on by design; one two threads wait on is not.
 * main waits on cond A [10, 90) ms until w1 signals it at 90 and ends at
 * 95; w1 waits on cond B [30, 40) and ends at 98, w2 waits on it [50, 60)
 * and ends at 100. The critical path: w2's, its B wait on it (nobody ended
 * it). */
static void test_collector_wait(void) {
  db_new();
  dbb_process(&bd, 1, 300, 0, 100 * MS, "app", NULL);
  dbb_thread(&bd, 1, 1, 300, "main", -1, 0, 95 * MS);
  dbb_thread(&bd, 2, 1, 301, "w1", 1, 0, 98 * MS);
  dbb_thread(&bd, 3, 1, 302, "w2", 1, 0, 100 * MS);
  dbb_object(&bd, 10, 1, WEFT_KIND_COND, 0x1000, "results", -1, -1, 0);
  dbb_object(&bd, 11, 1, WEFT_KIND_COND, 0x2000, "work", -1, -1, 0);
  const int R = WEFT_ST_RUNNING, C = WEFT_ST_COND_WAIT;
  static const long long st[][5] = {{1, 0, 10, R, -1}, {1, 10, 90, C, 10}, {1, 90, 95, R, -1},
                                    {2, 0, 30, R, -1}, {2, 30, 40, C, 11}, {2, 40, 98, R, -1},
                                    {3, 0, 50, R, -1}, {3, 50, 60, C, 11}, {3, 60, 100, R, -1}};
  for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
    dbb_state(&bd, st[i][0], st[i][1] * MS, st[i][2] * MS, (int)st[i][3], st[i][4], -1);
  dbb_flow(&bd, WEFT_FLOW_WAKEUP, 2, 90 * MS, 1, 90 * MS, 10);
  dbb_state_link(&bd, 1, 10 * MS, -1, 2);
  sqlite3 *d = db_finish(100 * MS);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftFinding *a = NULL, *b = NULL;
  for (size_t i = 0; i < m->nfindings; i++) {
    if (m->findings[i].object_id == 10) a = &m->findings[i];
    if (m->findings[i].object_id == 11) b = &m->findings[i];
  }
  const WeftObjectMetrics *oa = object(m, 10), *ob = object(m, 11);
  ok(oa && ob && oa->critical_share_ns == 0 && ob->critical_share_ns == 10 * MS,
     "critical shares: results 0 (main's waits are off the path), work 10 ms (w2's wait on it)");
  ok(a && a->by_design && has(a->fix, "nothing to fix here") && a > b,
     "one thread waiting on results off the path: by design, after the others: %s", a ? a->fix : "(none)");
  ok(b && !b->by_design && has(b->fix, "the producer is the bottleneck"),
     "two threads waiting for work: not by design: %s", b ? b->fix : "(none)");
  int wa = 0, wb = 0;
  for (size_t i = 0; m->critical_path && i < m->critical_path->nwhatifs; i++) {
    wa += m->critical_path->whatifs[i].object_id == 10;
    wb += m->critical_path->whatifs[i].object_id == 11;
  }
  ok(m->critical_path && !wa && wb == 1, "a what-if without the waits on work, none on results (%d, %d)", wa, wb);
  weft_metrics_free(m);
  sqlite3_close(d);
}

static void test_lock(void) {
  sqlite3 *d = db_lock();
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  ok(m->nobjects == 3 && m->objects[0].object_id == 1 && m->objects[1].object_id == 2 && m->objects[2].object_id == 3,
     "3 objects, by wait time: the lock, the condvar, the held-only lock");
  const WeftObjectMetrics *o = object(m, 1);
  ok(o && o->waits == 10 && o->wait_ns == 55 * MS && o->waiters == 2, "lock: 10 waits, 55 ms, 2 waiters");
  ok(o && o->wait_p50_ns == 5 * MS && o->wait_p99_ns == 10 * MS && o->wait_max_ns == 10 * MS,
     "lock: p50 5 ms, p99 10 ms, max 10 ms (nearest rank)");
  ok(o && near(o->wait_share, 0.55), "lock: 55%% of all waiting (55 of 100 ms): %.4f", o ? o->wait_share : -1);
  ok(o && o->holds == 4 && o->hold_ns == 8 * MS && o->hold_mean_ns == 2 * MS && o->hold_max_ns == 4 * MS,
     "lock: 4 holds, 8 ms, mean 2 ms, max 4 ms");
  ok(o && o->acquisitions == 12 && o->contended == 10 && near(o->contended_frac, 10.0 / 12),
     "lock: 12 acquisitions (importer total), 10 contended");
  ok(o && o->handoffs == 3, "lock: 3 hand-offs");
  ok(o && o->named && !strcmp(o->name, "queue_lock") && o->site && !strcmp(o->site, "pool.c:80") &&
         !strcmp(o->label, "queue_lock (pool.c:80)"),
     "lock: named queue_lock, site pool.c:80 from its init stack: %s", o ? o->label : "");
  ok(o && o->nsites_total == 2 && o->nsites == 2 && !strcmp(o->sites[0].label, "worker (pool.c:88)") &&
         o->sites[0].waits == 8 && o->sites[0].wait_ns == 36 * MS && o->sites[0].line == 88 &&
         !strcmp(o->sites[0].file, "/src/pool.c") && !strcmp(o->sites[1].label, "flush (pool.c:120)") &&
         o->sites[1].wait_ns == 19 * MS,
     "lock: call sites merged by innermost frame: worker (pool.c:88) 8 waits 36 ms, flush (pool.c:120) 19 ms");
  const WeftObjectMetrics *cv = object(m, 2);
  ok(cv && !cv->named && !strcmp(cv->name, "cond@0x1000") && !cv->site && cv->acquisitions == -1 &&
         cv->contended_frac < 0 && near(cv->wait_share, 0.45),
     "condvar: named cond@0x1000 (no name, no stacks), acquisitions n/a, 45%% of waiting");
  ok(cv && cv->nsites == 1 && !strcmp(cv->sites[0].label, "(no stack)"), "condvar: its waits have no stack");
  const WeftObjectMetrics *o3 = object(m, 3);
  ok(o3 && !strcmp(o3->name, "flush (pool.c:120)") && !strcmp(o3->label, "flush (pool.c:120)") && o3->waits == 0 &&
         o3->holds == 1 && o3->hold_ns == 10 * MS && o3->acquisitions == 1,
     "unnamed lock: named by its first contended site; held only: %s", o3 ? o3->label : "");
  /* main's condvar wait (5..50 ms) has no wake-up flow: the critical path
   * stays in it, so its 45 ms count twice (waiting, and run time) and the
   * condvar ranks first (90 ms) before the lock (55 ms, off the path) */
  ok(m->nfindings >= 2 && m->findings[0].kind == WEFT_FIND_CONDVAR && m->findings[0].cost_ns == 90 * MS &&
         m->findings[1].kind == WEFT_FIND_CONTENTION && m->findings[1].object_id == 1 &&
         m->findings[1].cost_ns == 55 * MS,
     "findings: the condvar on the critical path first (45 + 45 ms), then the lock (55 ms)");
  const WeftFinding *lf = m->nfindings >= 2 ? &m->findings[1] : NULL;
  ok(lf &&
         has(lf->title, "lock queue_lock (pool.c:80): threads waited 55.0 ms on it (55% of all waiting); 2 call sites"),
     "lock finding title: %s", lf ? lf->title : "");
  ok(lf && has(lf->evidence, "10 of 12 acquisitions contended (83%)") &&
         has(lf->evidence, "top site worker (pool.c:88)") && has(lf->fix, "shard the lock") &&
         !has(lf->evidence, "critical path"),
     "lock finding evidence and fix: %s", lf ? lf->evidence : "");
  ok(m->nfindings >= 1 &&
         has(m->findings[0].evidence,
             "its waits put 45.0 ms on the critical path (45% of the run; counted in the cost again)") &&
         m->findings[0].cost_ns == 90 * MS,
     "condvar finding evidence names its critical path share, and its cost is the 45 ms wait and the 45 ms on the "
     "path: %s",
     m->nfindings ? m->findings[0].evidence : "");
  ok(o && o->critical_share_ns == 0 && cv && cv->critical_share_ns == 45 * MS,
     "critical share: condvar 45 ms, lock 0 (main never waits for it)");
  ok(m->nfindings >= 1 && !m->findings[0].by_design,
     "the condvar one thread waited on, on the critical path: not by design");
  weft_metrics_free(m);

  /* clipped to [0, 35 ms): t2 waits 1 2 3; t3 waits 6 7 and 5 of its 8 */
  m = compute_ok(d, 0, 35 * MS);
  o = object(m, 1);
  ok(o && o->waits == 6 && o->wait_ns == 24 * MS && o->wait_max_ns == 7 * MS,
     "range 0..35 ms: lock waits clipped: 6 waits, 24 ms, max 7 ms");
  ok(o && o->contended == 5, "range: 5 waits ended inside (the 8 ms one ends at 38 ms)");
  ok(o && o->acquisitions == 5 && o->holds == 3 && o->hold_ns == 4 * MS,
     "range: acquisitions max(3 holds started, 5 contended) = 5; holds 3, 4 ms");
  ok(o && o->handoffs == 3, "range: 3 hand-offs");
  const WeftObjectMetrics *c2 = object(m, 2);
  ok(c2 && c2->wait_ns == 30 * MS && near(o->wait_share, 24.0 / 54), "range: condvar 30 ms; lock share 24/54");
  ok(!object(m, 3), "range: the lock held at 60..70 ms is not in 0..35 ms");
  weft_metrics_free(m);

  /* a narrow range (holds and hand-offs read through the per-thread
   * indexes): [10, 20 ms) has the holds at 11 and 16 ms and the hand-offs
   * arriving at 11 and 16 ms */
  m = compute_ok(d, 10 * MS, 20 * MS);
  o = object(m, 1);
  ok(o && o->holds == 2 && o->hold_ns == 3 * MS && o->handoffs == 2 && o->contended == 2 && o->acquisitions == 2,
     "range 10..20 ms: 2 holds, 3 ms, 2 hand-offs; 2 waits ended inside (at 11 and 16 ms)");
  weft_metrics_free(m);
  /* the pid filter also takes the per-thread path: the same as the whole run */
  char err[256];
  m = compute(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END, 200, err, sizeof err);
  o = m ? object(m, 1) : NULL;
  ok(o && o->holds == 4 && o->hold_ns == 8 * MS && o->handoffs == 3 && o->acquisitions == 10,
     "--process 200: holds 4, 8 ms, 3 hand-offs as for the whole run; acquisitions from its own threads "
     "(max of 4 holds, 10 contended), not the importer's all-process total 12");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* The same metrics with the loading on 1 and on 4 threads. */
static void test_jobs(void) {
  sqlite3 *d = db_lock();
  WeftMetrics *r[2];
  for (int i = 0; i < 2; i++) {
    WeftMetricsQuery q;
    weft_metrics_query_init(&q);
    q.jobs = i ? 4 : 1;
    char err[256];
    r[i] = weft_metrics_compute(d, &q, err, sizeof err);
    if (!r[i]) {
      printf("Bail out! %s\n", err);
      exit(99);
    }
  }
  int same = r[0]->nobjects == r[1]->nobjects && r[0]->nthreads == r[1]->nthreads &&
             r[0]->nfindings == r[1]->nfindings && r[0]->summary.useful_ns == r[1]->summary.useful_ns;
  for (size_t i = 0; same && i < r[0]->nobjects; i++) {
    const WeftObjectMetrics *a = &r[0]->objects[i], *b = &r[1]->objects[i];
    same = a->object_id == b->object_id && a->waits == b->waits && a->wait_ns == b->wait_ns &&
           a->wait_p50_ns == b->wait_p50_ns && a->wait_p99_ns == b->wait_p99_ns && a->waiters == b->waiters &&
           a->holds == b->holds && a->hold_ns == b->hold_ns && a->handoffs == b->handoffs &&
           a->contended == b->contended && a->acquisitions == b->acquisitions && a->nsites == b->nsites &&
           a->wait_share == b->wait_share;
    for (size_t k = 0; same && k < a->nsites; k++)
      same = !strcmp(a->sites[k].label, b->sites[k].label) && a->sites[k].wait_ns == b->sites[k].wait_ns;
  }
  for (size_t i = 0; same && i < r[0]->nthreads; i++)
    same = !memcmp(r[0]->threads[i].state_ns, r[1]->threads[i].state_ns, sizeof r[0]->threads[i].state_ns);
  ok(same, "jobs 1 and jobs 4 give the same metrics");
  weft_metrics_free(r[0]);
  weft_metrics_free(r[1]);
  sqlite3_close(d);
}

/* Three threads over 100 ns with known overlaps:
 *   t1 runs [0,100); t2 sleeps [0,20), runs [20,60), sleeps [60,100); t3 lives [50,80), runs.
 *   running: [0,20) 1, [20,50) 2, [50,60) 3, [60,80) 2, [80,100) 1
 *   -> k1 40, k2 50, k3 10; average 0.4 + 1.0 + 0.3 = 1.7 */
static void test_parallelism(void) {
  db_new();
  dbb_process(&bd, 1, 300, 0, 100, "par", NULL);
  dbb_thread(&bd, 1, 1, 300, "t1", -1, 0, 100);
  dbb_thread(&bd, 2, 1, 301, "t2", 1, 0, 100);
  dbb_thread(&bd, 3, 1, 302, "t3", 1, 50, 80);
  dbb_state(&bd, 1, 0, 100, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, 0, 20, WEFT_ST_SLEEP, -1, -1);
  dbb_state(&bd, 2, 20, 40, WEFT_ST_RUNNING, -1, -1); /* two adjacent running rows: one span */
  dbb_state(&bd, 2, 40, 60, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, 60, 100, WEFT_ST_SLEEP, -1, -1);
  dbb_state(&bd, 3, 50, 80, WEFT_ST_RUNNING, -1, -1);
  sqlite3 *d = db_finish(100);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftParallelism *p = &m->parallelism;
  ok(p->kmax == 3 && p->ns[0] == 0 && p->ns[1] == 40 && p->ns[2] == 50 && p->ns[3] == 10,
     "parallelism: k=1 40 ns, k=2 50 ns, k=3 10 ns");
  ok(near(p->fraction[1], 0.4) && near(p->fraction[2], 0.5) && near(p->fraction[3], 0.1) && near(p->average, 1.7),
     "parallelism: fractions 0.4 0.5 0.1, average %.4f (1.7)", p->average);
  ok(near(m->summary.pop.lb, (170.0 / 3) / 100) && near(m->summary.pop.synce, 1.0) && m->threads[2].lifetime_ns == 30,
     "team of 3 over 100 ns: LB %.4f (0.5667), SyncE 1", m->summary.pop.lb);
  weft_metrics_free(m);
  /* [55, 75): t1 20, t2 5, t3 20 -> k2 15 ([60,75)), k3 5 ([55,60)) */
  m = compute_ok(d, 55, 75);
  p = &m->parallelism;
  ok(p->kmax == 3 && p->ns[2] == 15 && p->ns[3] == 5 && p->ns[0] == 0 && p->ns[1] == 0,
     "parallelism in 55..75: k=2 15 ns, k=3 5 ns");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* Two threads that wait in I/O together while nothing runs:
 *   t1: run [0,10) io [10,60) run [60,100)
 *   t2: run [0,10) io [10,60) run [60,70)
 * k=0 [10,60) 50 ns, all of it with both in I/O; k=1 [70,100) 30; k=2 20.
 * The serial-phase finding counts 30 ns (not the 50 of overlapped I/O);
 * with one thread in I/O in [10,60) instead, all 80 would count. */
static void test_io_overlap(void) {
  for (int both = 1; both >= 0; both--) {
    db_new();
    dbb_process(&bd, 1, 310, 0, 100, "io", NULL);
    dbb_thread(&bd, 1, 1, 310, "t1", -1, 0, 100);
    dbb_thread(&bd, 2, 1, 311, "t2", 1, 0, 70);
    dbb_state(&bd, 1, 0, 10, WEFT_ST_RUNNING, -1, -1);
    dbb_state(&bd, 1, 10, 60, WEFT_ST_IO_WAIT, -1, -1);
    dbb_state(&bd, 1, 60, 100, WEFT_ST_RUNNING, -1, -1);
    dbb_state(&bd, 2, 0, 10, WEFT_ST_RUNNING, -1, -1);
    dbb_state(&bd, 2, 10, 60, both ? WEFT_ST_IO_WAIT : WEFT_ST_SLEEP, -1, -1);
    dbb_state(&bd, 2, 60, 70, WEFT_ST_RUNNING, -1, -1);
    sqlite3 *d = db_finish(100);
    WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
    const WeftParallelism *p = &m->parallelism;
    const WeftFinding *f = NULL;
    for (size_t i = 0; i < m->nfindings; i++)
      if (m->findings[i].kind == WEFT_FIND_SERIAL) f = &m->findings[i];
    if (both)
      ok(p->ns[0] == 50 && p->io_overlap_ns == 50 && f && f->cost_ns == 30 &&
             has(f->evidence, "not counted: 50 ns of it with 2 or more threads blocked in I/O at once"),
         "io overlap: 50 ns with both threads in I/O and none running are not a serial phase (cost %lld)",
         f ? (long long)f->cost_ns : -1);
    else
      ok(p->io_overlap_ns == 0 && f && f->cost_ns == 80 && !has(f->evidence, "not counted"),
         "one thread in I/O, one asleep: all 80 ns with at most one running are serial (cost %lld)",
         f ? (long long)f->cost_ns : -1);
    weft_metrics_free(m);
    sqlite3_close(d);
  }
}

/* Two threads, barrier object 5, two rounds:
 *   t1: run [0,100)  bw [100,301) run [301,500) bw [500,601) run [601,700)
 *   t2: run [0,299)  bw [299,300) run [300,598) bw [598,600) run [600,700)
 * round 0 ends at 301 (t1 leaves last), round 1 at 601.
 * Region 0 [0, 301) (both started at 0): T 301; useful t1 100, t2 300;
 *   LB 200/300; imbalance 200; idle 201 + 1 = 202.
 * Region 1 [301, 601): T 300; useful t1 199, t2 297 + 1 = 298;
 *   LB 248.5/298; SyncE 298/300; idle 101 + 2 = 103; imbalance 99;
 *   straggler t2; last arrival t2.
 * Over both rounds: LB (200 + 248.5) / (300 + 298) = 0.75, cost 299. */
/* The straggler of a barrier round is the last to arrive, even when it did
 * less work in the round than another: t2 sleeps (20..140) and arrives last,
 * at 150; t1 works 100 and waits for it.
 *   t1: run [0,100) bw [100,151)     t2: run [0,20) sleep [20,140) run [140,150) bw [150,151) */
static void test_barrier_last_arrival(void) {
  db_new();
  dbb_process(&bd, 1, 410, 0, 200, "bar2", NULL);
  dbb_thread(&bd, 1, 1, 410, "t1", -1, 0, 200);
  dbb_thread(&bd, 2, 1, 411, "t2", 1, 0, 200);
  dbb_object(&bd, 6, 1, WEFT_KIND_BARRIER, 0x7100, "gate", -1, -1, 0);
  const int R = WEFT_ST_RUNNING, B = WEFT_ST_BARRIER_WAIT;
  dbb_state(&bd, 1, 0, 100, R, -1, -1);
  dbb_state(&bd, 1, 100, 151, B, 6, -1);
  dbb_state(&bd, 1, 151, 200, R, -1, -1);
  dbb_state(&bd, 2, 0, 20, R, -1, -1);
  dbb_state(&bd, 2, 20, 140, WEFT_ST_SLEEP, -1, -1);
  dbb_state(&bd, 2, 140, 150, R, -1, -1);
  dbb_state(&bd, 2, 150, 151, B, 6, -1);
  dbb_state(&bd, 2, 151, 200, R, -1, -1);
  sqlite3 *d = db_finish(200);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftRegion *r = NULL;
  for (size_t i = 0; i < m->nregions; i++)
    if (m->regions[i].kind == WEFT_REGION_BARRIER) r = &m->regions[i];
  ok(r && r->last_utid == 2 && r->straggler_utid == 2 && r->team_useful_ns[0] == 100 && r->team_useful_ns[1] == 30,
     "barrier round: t2 arrived last and is the straggler (useful t1 100, t2 30): straggler utid %lld",
     r ? (long long)r->straggler_utid : -1);
  weft_metrics_free(m);
  sqlite3_close(d);
}

static void test_barrier(void) {
  db_new();
  dbb_process(&bd, 1, 400, 0, 700, "bar", NULL);
  dbb_thread(&bd, 1, 1, 400, "t1", -1, 0, 700);
  dbb_thread(&bd, 2, 1, 401, "t2", 1, 0, 700);
  dbb_frame(&bd, 1, 0x1000 + 1, -1, 0, "phase_loop", "/src/bar.c", 42);
  dbb_stack(&bd, 1, 1, -1);
  dbb_object(&bd, 5, 1, WEFT_KIND_BARRIER, 0x7000, "bar", 1, -1, 0);
  const int R = WEFT_ST_RUNNING, B = WEFT_ST_BARRIER_WAIT;
  dbb_state(&bd, 1, 0, 100, R, -1, -1);
  dbb_state(&bd, 1, 100, 301, B, 5, 1);
  dbb_state(&bd, 1, 301, 500, R, -1, -1);
  dbb_state(&bd, 1, 500, 601, B, 5, 1);
  dbb_state(&bd, 1, 601, 700, R, -1, -1);
  dbb_state(&bd, 2, 0, 299, R, -1, -1);
  dbb_state(&bd, 2, 299, 300, B, 5, 1);
  dbb_state(&bd, 2, 300, 598, R, -1, -1);
  dbb_state(&bd, 2, 598, 600, B, 5, 1);
  dbb_state(&bd, 2, 600, 700, R, -1, -1);
  sqlite3 *d = db_finish(700);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  ok(m->nregions == 2 && m->regions[0].kind == WEFT_REGION_BARRIER && m->regions[1].kind == WEFT_REGION_BARRIER,
     "two barrier regions");
  if (m->nregions == 2) {
    const WeftRegion *r0 = &m->regions[0];
    ok(r0->start_ns == 0 && r0->end_ns == 301 && r0->round == 0 && r0->team_useful_ns[0] == 100 &&
           r0->team_useful_ns[1] == 300 && near(r0->pop.lb, 200.0 / 300) && r0->pop.idle_ns == 202 &&
           r0->pop.imbalance_ns == 200,
       "region 0..301 (round 0): useful 100/300, LB %.4f, idle 202", r0->pop.lb);
    const WeftRegion *r = &m->regions[1];
    ok(r->start_ns == 301 && r->end_ns == 601 && r->round == 1 && r->object_id == 5 && !r->clipped,
       "region 301..601, round 1 of object 5");
    ok(r->nteam == 2 && r->team_utid[0] == 1 && r->team_useful_ns[0] == 199 && r->team_utid[1] == 2 &&
           r->team_useful_ns[1] == 298,
       "team t1 199 ns, t2 298 ns");
    ok(near(r->pop.lb, 248.5 / 298) && near(r->pop.synce, 298.0 / 300) && near(r->pop.pe, 248.5 / 300),
       "LB %.6f SyncE %.6f PE %.6f", r->pop.lb, r->pop.synce, r->pop.pe);
    ok(r->pop.idle_ns == 103 && r->pop.imbalance_ns == 99 && r->straggler_utid == 2 && r->last_utid == 2,
       "idle 103, imbalance 99, straggler and last arrival t2");
    ok(has(r->label, "barrier bar (bar.c:42), round 1"), "label: %s", r->label);
  }
  const WeftFinding *bf = NULL;
  for (size_t i = 0; i < m->nfindings; i++)
    if (m->findings[i].kind == WEFT_FIND_IMBALANCE) bf = &m->findings[i];
  ok(bf && bf->object_id == 5 && bf->cost_ns == 299 && bf->region == 0 &&
         has(bf->title, "barrier bar (bar.c:42): LB 0.75 over 2 rounds; t2 [401] was the straggler in 2; 305 ns"),
     "barrier imbalance finding: %s", bf ? bf->title : "");
  weft_metrics_free(m);
  /* clipped: [400, 650) -> region [400, 601): t1 100, t2 198 + 1 */
  m = compute_ok(d, 400, 650);
  ok(m->nregions == 1 && m->regions[0].start_ns == 400 && m->regions[0].end_ns == 601 && m->regions[0].clipped &&
         m->regions[0].team_useful_ns[0] == 100 && m->regions[0].team_useful_ns[1] == 199,
     "range 400..650: the region is clipped to 400..601, useful 100 and 199");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* main creates w1 at 100 (starts 100) and w2 at 105 (starts 110), joins w1
 * at 500 and w2 at 900; w3 is created at 300 and never joined (detached).
 *   w1 runs [100,500); w2 runs [110,700), sleeps [700,900); w3 runs [300,400)
 * fork-join region [100,900): T 800, team w1 400, w2 590:
 *   LB 495/590, SyncE 590/800, PE 495/800, idle 400 + 210, straggler w2,
 *   last to finish w2.
 * A phase mark 'compute' by main over [100,500): team = w1 400, w2 390,
 *   w3 100 (not main: it only waits in join): LB 296.67/400, imbalance 310. */
static void test_forkjoin(void) {
  db_new();
  dbb_process(&bd, 1, 500, 0, 1000, "fj", NULL);
  dbb_thread(&bd, 1, 1, 500, "main", -1, 0, 1000);
  dbb_thread(&bd, 2, 1, 501, "w1", 1, 100, 500);
  dbb_thread(&bd, 3, 1, 502, "w2", 1, 110, 900);
  dbb_thread(&bd, 4, 1, 503, "w3", 1, 300, 400);
  dbb_object(&bd, 20, 1, WEFT_KIND_JOIN, 0xa, NULL, -1, -1, 0);
  dbb_object(&bd, 21, 1, WEFT_KIND_JOIN, 0xb, NULL, -1, -1, 0);
  dbb_state(&bd, 1, 0, 100, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 1, 100, 500, WEFT_ST_JOIN_WAIT, 20, -1);
  dbb_state(&bd, 1, 500, 900, WEFT_ST_JOIN_WAIT, 21, -1);
  dbb_state(&bd, 1, 900, 1000, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, 100, 500, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 3, 110, 700, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 3, 700, 900, WEFT_ST_SLEEP, -1, -1);
  dbb_state(&bd, 4, 300, 400, WEFT_ST_RUNNING, -1, -1);
  dbb_flow(&bd, WEFT_FLOW_CREATE, 1, 100, 2, 100, -1);
  dbb_flow(&bd, WEFT_FLOW_CREATE, 1, 105, 3, 110, -1);
  dbb_flow(&bd, WEFT_FLOW_CREATE, 1, 300, 4, 300, -1);
  dbb_flow(&bd, WEFT_FLOW_JOIN, 2, 500, 1, 500, 20);
  dbb_flow(&bd, WEFT_FLOW_JOIN, 3, 900, 1, 900, 21);
  dbb_mark(&bd, 1, 100, 400, 7, "compute");
  dbb_mark(&bd, 1, 150, 0, 8, "instant");
  sqlite3 *d = db_finish(1000);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftRegion *fj = NULL, *ph = NULL;
  for (size_t i = 0; i < m->nregions; i++) {
    if (m->regions[i].kind == WEFT_REGION_FORK_JOIN) fj = &m->regions[i];
    if (m->regions[i].kind == WEFT_REGION_PHASE) ph = &m->regions[i];
  }
  ok(m->nregions == 2 && fj && ph, "two regions: a fork-join group and a phase (the instant mark is none)");
  if (fj) {
    ok(fj->start_ns == 100 && fj->end_ns == 900 && fj->owner_utid == 1 && fj->nteam == 2 && fj->team_utid[0] == 2 &&
           fj->team_utid[1] == 3,
       "fork-join 100..900 by main, team w1 w2 (not main, not the detached w3)");
    ok(fj->team_useful_ns[0] == 400 && fj->team_useful_ns[1] == 590 && near(fj->pop.lb, 495.0 / 590) &&
           near(fj->pop.synce, 590.0 / 800) && near(fj->pop.pe, 495.0 / 800),
       "fork-join: useful 400/590, LB %.6f SyncE %.6f PE %.6f", fj->pop.lb, fj->pop.synce, fj->pop.pe);
    ok(fj->pop.idle_ns == 610 && fj->straggler_utid == 3 && fj->last_utid == 3 &&
           !strcmp(fj->label, "fork-join by main [500]"),
       "fork-join: idle 610, straggler and last w2, label '%s'", fj->label);
  }
  if (ph) {
    ok(ph->start_ns == 100 && ph->end_ns == 500 && ph->nteam == 3 && ph->team_utid[0] == 2 &&
           near(ph->pop.lb, (890.0 / 3) / 400) && ph->pop.imbalance_ns == 310 && ph->mark_id == 7 &&
           !strcmp(ph->label, "phase 'compute'"),
       "phase 'compute' 100..500: team of the 3 workers (not main, joining), LB %.6f", ph->pop.lb);
  }
  /* findings: serial 610 (at most one running: [0,110) main then w1
   * alone, [500,700) w2 alone, [700,900) none, [900,1000) main: 110 + 200
   * + 200 + 100); phase imbalance 310; sleep 200; fork-join imbalance 190 */
  ok(m->nfindings == 4 && m->findings[0].kind == WEFT_FIND_SERIAL && m->findings[0].cost_ns == 610 &&
         m->findings[1].kind == WEFT_FIND_IMBALANCE && m->findings[1].utid == 2 && m->findings[1].cost_ns == 310 &&
         m->findings[2].kind == WEFT_FIND_SLEEP && m->findings[3].cost_ns == 190,
     "findings ranked: serial 610, phase imbalance 310, sleep 200, fork-join imbalance 190");
  int fjfind = 0;
  for (size_t i = 0; i < m->nfindings; i++)
    fjfind |=
        m->findings[i].kind == WEFT_FIND_IMBALANCE && m->findings[i].cost_ns == 190 &&
        has(m->findings[i].title, "load imbalance in fork-join by main [500]: LB 0.84; w2 [502] is the straggler");
  ok(fjfind, "fork-join imbalance finding: cost 190, straggler w2");
  weft_metrics_free(m);

  /* clipped to [200, 600): fork-join [200, 600): w1 300, w2 400 -> LB 0.875 */
  m = compute_ok(d, 200, 600);
  fj = NULL;
  for (size_t i = 0; i < m->nregions; i++)
    if (m->regions[i].kind == WEFT_REGION_FORK_JOIN) fj = &m->regions[i];
  ok(fj && fj->clipped && fj->start_ns == 200 && fj->end_ns == 600 && fj->team_useful_ns[0] == 300 &&
         fj->team_useful_ns[1] == 400 && near(fj->pop.lb, 0.875),
     "range 200..600: fork-join clipped, useful 300/400, LB 0.875");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* A fork-join team that takes its work from a shared queue: its imbalance
 * is in the items or the CPU, not in equal shares. main creates w1 and w2
 * at 100 and joins them; w1 runs [100,200), waits on a condvar [200,210),
 * runs [210,400); w2 runs [100,250), waits [250,260), runs [260,900):
 * useful 290 and 790, LB 540/790. mode: 'q' both wait on queue, main
 * signals them (a queue); 's' each on a condvar of its own; 'g' both on
 * queue at their start, [100,110) and [100,105) (a start gate, not a
 * queue); 'b' both on queue, each wait ended by the other (a barrier of
 * their own). Only 'q' gets the queue's fix. */
static void forkjoin_queue(char mode) {
  db_new();
  dbb_process(&bd, 1, 510, 0, 1000, "fjq", NULL);
  dbb_thread(&bd, 1, 1, 510, "main", -1, 0, 1000);
  dbb_thread(&bd, 2, 1, 511, "w1", 1, 100, 400);
  dbb_thread(&bd, 3, 1, 512, "w2", 1, 100, 900);
  dbb_object(&bd, 20, 1, WEFT_KIND_JOIN, 0xa, NULL, -1, -1, 0);
  dbb_object(&bd, 21, 1, WEFT_KIND_JOIN, 0xb, NULL, -1, -1, 0);
  dbb_object(&bd, 30, 1, WEFT_KIND_COND, 0x3000, "queue", -1, -1, 0);
  dbb_object(&bd, 31, 1, WEFT_KIND_COND, 0x3100, "other", -1, -1, 0);
  dbb_state(&bd, 1, 0, 100, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 1, 100, 400, WEFT_ST_JOIN_WAIT, 20, -1);
  dbb_state(&bd, 1, 400, 900, WEFT_ST_JOIN_WAIT, 21, -1);
  dbb_state(&bd, 1, 900, 1000, WEFT_ST_RUNNING, -1, -1);
  bool gate = mode == 'g';
  int64_t w1[] = {gate ? 100 : 200, gate ? 110 : 210}, w2[] = {gate ? 100 : 250, gate ? 105 : 260};
  if (!gate) dbb_state(&bd, 2, 100, w1[0], WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, w1[0], w1[1], WEFT_ST_COND_WAIT, 30, -1);
  dbb_state(&bd, 2, w1[1], 400, WEFT_ST_RUNNING, -1, -1);
  if (!gate) dbb_state(&bd, 3, 100, w2[0], WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 3, w2[0], w2[1], WEFT_ST_COND_WAIT, mode == 's' ? 31 : 30, -1);
  dbb_state(&bd, 3, w2[1], 900, WEFT_ST_RUNNING, -1, -1);
  dbb_state_link(&bd, 2, w1[0], -1, mode == 'b' ? 3 : 1);
  dbb_state_link(&bd, 3, w2[0], -1, mode == 'b' ? 2 : 1);
  dbb_flow(&bd, WEFT_FLOW_CREATE, 1, 100, 2, 100, -1);
  dbb_flow(&bd, WEFT_FLOW_CREATE, 1, 100, 3, 100, -1);
  dbb_flow(&bd, WEFT_FLOW_JOIN, 2, 400, 1, 400, 20);
  dbb_flow(&bd, WEFT_FLOW_JOIN, 3, 900, 1, 900, 21);
  sqlite3 *d = db_finish(1000);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftFinding *f = NULL;
  for (size_t i = 0; i < m->nfindings; i++)
    if (m->findings[i].kind == WEFT_FIND_IMBALANCE) f = &m->findings[i];
  static const char *const why[] = {"q: both waited for items main signalled: a shared queue",
                                    "s: each waited on a condvar of its own", "g: both waited on one at their start",
                                    "b: each wait ended by the other member"};
  const char *w = why[mode == 'q' ? 0 : mode == 's' ? 1 : mode == 'g' ? 2 : 3];
  if (mode == 'q')
    ok(f && has(f->fix, "already take their work from a shared queue (they wait on queue for it)"),
       "fork-join imbalance, %s: the items or the CPU: %s", w, f ? f->fix : "(none)");
  else
    ok(f && has(f->fix, "split the work into smaller chunks handed out dynamically"),
       "fork-join imbalance, %s: the fix for equal shares: %s", w, f ? f->fix : "(none)");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* Two processes; the pid filter; the report renders all formats. */
static void test_filter_and_render(void) {
  db_new();
  dbb_process(&bd, 1, 600, 0, 100, "parent", NULL);
  dbb_process(&bd, 2, 601, 10, 90, "child", NULL);
  dbb_process_parent(&bd, 2, 1);
  dbb_thread(&bd, 1, 1, 600, "parent", -1, 0, 100);
  dbb_thread(&bd, 2, 2, 601, "child", -1, 10, 90);
  dbb_state(&bd, 1, 0, 10, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 1, 10, 90, WEFT_ST_CHILD_WAIT, -1, -1);
  dbb_state(&bd, 1, 90, 100, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, 10, 90, WEFT_ST_RUNNING, -1, -1);
  /* one reading, at its end, and no samples */
  dbb_thread_cpu(&bd, 2, 50, 30);
  sqlite3 *d = db_finish(100);
  char err[256];
  WeftMetrics *m = compute(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END, 601, err, sizeof err);
  ok(m && m->nprocesses == 1 && m->processes[0].pid == 601 && m->nthreads == 1 && m->threads[0].utid == 2 &&
         m->summary.thread_ns == 80,
     "--process 601: only the child and its thread");
  /* running 80: on a CPU 50, runnable 30: useful 50 of 80 */
  ok(m && m->range_start_ns == 10 && m->range_end_ns == 90 && !m->whole && near(m->processes[0].pop.synce, 50.0 / 80) &&
         near(m->summary.pop.synce, 50.0 / 80),
     "--process 601: the open range narrows to its life 10..90; SyncE 0.625 (30 of 80 runnable)");
  ok(m && m->threads[0].cpu_ns == 50 && m->threads[0].runq_ns == 30 && m->threads[0].time.assumed_ns == 0,
     "the end reading alone is the thread's: cpu 50, runq 30, nothing assumed");
  /* runq 30 >= 10% of the thread time 80, but 1 thread on 4 CPUs that used
   * 50 / 80 = 0.63 of a CPU: not the program's doing. A warning about the
   * measurement (cost 0), no advice to use fewer threads */
  int over = 0, load = 0;
  for (size_t i = 0; m && i < m->nfindings; i++) {
    over |= m->findings[i].kind == WEFT_FIND_OVERSUBSCRIBED;
    load |= m->findings[i].kind == WEFT_FIND_MACHINE_LOAD && m->findings[i].cost_ns == 0 &&
            has(m->findings[i].title, "measurement: threads waited 30 ns for a CPU (38% of the thread time)") &&
            has(m->findings[i].fix, "not advice") && has(m->findings[i].fix, "16% of the 4 CPUs");
  }
  ok(!over && load, "1 thread on 4 CPUs, runnable 30 ns in 80 ns: a machine_load warning (cost 0), not advice");
  weft_metrics_free(m);
  m = compute(d, 0, 50, 601, err, sizeof err);
  ok(m && m->range_start_ns == 0 && m->range_end_ns == 50 && m->processes[0].lifetime_ns == 40 &&
         near(m->summary.pop.synce, 25.0 / 50),
     "--process 601 --range 0..50: an explicit range is kept; SyncE 0.5 (half the reading: 25 on a CPU)");
  weft_metrics_free(m);
  m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  ok(m->nprocesses == 2 && m->summary.state_ns[WEFT_ST_CHILD_WAIT] == 80, "all processes: child_wait 80 ns");
  const WeftReportFormat fmts[] = {WEFT_REPORT_TEXT, WEFT_REPORT_JSON, WEFT_REPORT_MARKDOWN};
  const char *want[] = {"Parallelism", "\"weft_report_version\": 1", "**Parallel efficiency"};
  for (int i = 0; i < 3; i++) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    WeftReportOptions opt = {.format = fmts[i], .top = 0, .database = "t.db"};
    int rc = weft_report_write(f, m, &opt);
    fclose(f);
    ok(rc == 0 && has(buf, want[i]), "render format %d: %zu bytes with '%s'", i, len, want[i]);
    free(buf);
  }
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* mpirun (never exec'd) forks two children that exec into ranks 0 and 1
 * and a helper of its own; rank 0 runs a shell (which inherits its rank with
 * its environment) that execs into uname (no rank: its parent, as the import
 * links an exec'd image, is rank 0). The program is the 2 ranks and what
 * they started (upids 3, 5, 6, 8); mpirun, the images before the
 * execs and the helper are launchers. The open range starts with the first
 * rank (40) and ends with the last of them (95), and the critical path,
 * which ends on rank 1, does not follow its exec back into the image
 * before it (nor rank 1's wake-up by mpirun at 60). */
static void test_mpi_launchers(void) {
  db_new();
  dbb_process(&bd, 1, 700, 0, 100, "mpirun -np 2 app", NULL);
  dbb_process(&bd, 2, 701, 10, 40, "mpirun -np 2 app", NULL);
  dbb_process(&bd, 3, 701, 40, 90, "app", NULL);
  dbb_process(&bd, 4, 702, 10, 45, "mpirun -np 2 app", NULL);
  dbb_process(&bd, 5, 702, 45, 95, "app", NULL);
  dbb_process(&bd, 6, 703, 50, 55, "sh -c uname -p", NULL);
  dbb_process(&bd, 7, 704, 20, 30, "mpirun's helper", NULL);
  dbb_process(&bd, 8, 703, 55, 60, "uname -p", NULL);
  dbb_process_exec(&bd, 3, 2, 1);
  dbb_process_exec(&bd, 5, 4, 1);
  dbb_process_exec(&bd, 8, 6, 1);
  for (int64_t u = 2; u <= 5; u++) dbb_process_parent(&bd, u, 1);
  dbb_process_parent(&bd, 7, 1);
  dbb_process_parent(&bd, 6, 3);
  dbb_process_parent(&bd, 8, 3);
  dbb_process_mpi_rank(&bd, 3, 0);
  dbb_process_mpi_rank(&bd, 5, 1);
  dbb_process_mpi_rank(&bd, 6, 0);
  long long span[][3] = {{1, 0, 100}, {2, 10, 40}, {3, 40, 90}, {4, 10, 45},
                         {5, 45, 95}, {6, 50, 55}, {7, 20, 30}, {8, 55, 60}};
  for (int i = 0; i < 8; i++) {
    dbb_thread(&bd, i + 1, span[i][0], 800 + i, "t", -1, span[i][1], span[i][2]);
    if (i != 4) dbb_state(&bd, i + 1, span[i][1], span[i][2], WEFT_ST_RUNNING, -1, -1);
  }
  /* rank 1 waits 50..60 for a message mpirun's thread sends at 55 */
  dbb_state(&bd, 5, 45, 50, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 5, 50, 60, WEFT_ST_IO_WAIT, -1, -1);
  dbb_state(&bd, 5, 60, 95, WEFT_ST_RUNNING, -1, -1);
  dbb_flow(&bd, WEFT_FLOW_SOCKET, 1, 55, 5, 60, -1);
  dbb_flow(&bd, WEFT_FLOW_EXEC, 4, 45, 5, 45, -1);
  dbb_flow(&bd, WEFT_FLOW_EXEC, 2, 40, 3, 40, -1);
  sqlite3 *d = db_finish(100);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  ok(m->launchers == 4 && m->mpi_launchers && m->program_upid == 3 && m->nprocesses == 4 && m->mpi &&
         m->mpi->nranks == 2,
     "MPI: the 2 ranks (program upid 3, rank 0) and rank 0's child, before and after its exec; 4 launchers left "
     "out (%zu, %lld, %zu)",
     m->launchers, (long long)m->program_upid, m->nprocesses);
  ok(m->range_start_ns == 40 && m->range_end_ns == 95, "MPI: the open range is the ranks' (40..95: %lld..%lld)",
     (long long)m->range_start_ns, (long long)m->range_end_ns);
  const WeftCriticalPath *cp = m->critical_path;
  bool launcher_on_path = false;
  for (size_t i = 0; cp && i < cp->nthreads; i++) launcher_on_path |= cp->threads[i].utid != 5;
  ok(cp && cp->end_utid == 5 && !launcher_on_path && cp->before_ns == 5,
     "MPI: the critical path stays on rank 1 (its wait from 50 to 60 not followed into mpirun, nor its exec: 5 ns "
     "before it started): end %lld, %zu threads (first %lld), before %lld",
     cp ? (long long)cp->end_utid : -1, cp ? cp->nthreads : 0, cp && cp->nthreads ? (long long)cp->threads[0].utid : -1,
     cp ? (long long)cp->before_ns : -1);
  char *buf = text_report(m);
  ok(has(buf, "program    app  (2 MPI ranks; rank 0: pid 701, image 1)") &&
         has(buf, "the MPI ranks; 4 launcher processes (mpirun's) left out"),
     "MPI: the text report names the ranks and the launchers left out");
  free(buf);
  weft_metrics_free(m);
  WeftMetricsQuery q;
  weft_metrics_query_init(&q);
  q.all_processes = 1;
  char err[256];
  m = weft_metrics_compute(d, &q, err, sizeof err);
  ok(m && m->launchers == 0 && !m->mpi_launchers && m->nprocesses == 8, "MPI, all_processes: all 8 processes");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* A root that exec'd (env -> a shim shell -> the program), the shell with a
 * helper child, the program with a worker that has a child of its own and
 * a spawned worker that exec'd: by default the scope is the program (its
 * image and the three processes under it) from its start; the launchers
 * (env, the shell, the helper) are left out; all_processes keeps them. */
static void test_launchers(void) {
  db_new();
  dbb_process(&bd, 1, 700, 0, 10, "env sh shim", NULL);
  dbb_process(&bd, 2, 700, 10, 30, "sh shim", NULL);
  dbb_process(&bd, 3, 701, 12, 20, "shim-helper", NULL);
  dbb_process(&bd, 4, 700, 30, 100, "prog", NULL);
  dbb_process(&bd, 5, 702, 40, 90, "worker", NULL);
  dbb_process(&bd, 6, 703, 50, 60, "grandchild", NULL);
  dbb_process(&bd, 7, 704, 45, 50, "spawned (before exec)", NULL);
  dbb_process(&bd, 8, 704, 50, 95, "spawned worker", NULL);
  dbb_process_exec(&bd, 2, 1, 1);
  dbb_process_exec(&bd, 4, 2, 2);
  dbb_process_exec(&bd, 8, 7, 1);
  dbb_process_parent(&bd, 3, 2);
  dbb_process_parent(&bd, 5, 4);
  dbb_process_parent(&bd, 7, 4);
  dbb_process_parent(&bd, 6, 5);
  long long span[][3] = {{1, 0, 10},  {2, 10, 30}, {3, 12, 20}, {4, 30, 100},
                         {5, 40, 90}, {6, 50, 60}, {7, 45, 50}, {8, 50, 95}};
  for (int i = 0; i < 8; i++) {
    dbb_thread(&bd, i + 1, span[i][0], 800 + i, "t", -1, span[i][1], span[i][2]);
    dbb_state(&bd, i + 1, span[i][1], span[i][2], i == 3 ? WEFT_ST_CHILD_WAIT : WEFT_ST_RUNNING, -1, -1);
  }
  sqlite3 *d = db_finish(100);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  ok(m->launchers == 3 && m->program_upid == 4 && m->nprocesses == 5 && m->summary.nthreads == 5,
     "the program (upid 4) and its 4 descendants; 3 launchers left out (%zu, %lld, %zu)", m->launchers,
     (long long)m->program_upid, m->nprocesses);
  ok(m->range_start_ns == 30 && m->range_end_ns == 100 && !m->whole && m->summary.span_ns == 70,
     "the open range starts with the program: 30..100");
  /* useful: 50 + 10 + 5 + 45 (the program's thread waits for children) */
  ok(m->summary.useful_ns == 110 && near(m->summary.pop.lb, (110.0 / 5) / 50),
     "useful 110 ns over 5 threads, LB 0.44 (the launchers' running time is not in it)");
  char *buf = text_report(m);
  ok(has(buf, "program    prog  (pid 700, image 2)") && has(buf, "3 launcher processes before it left out"),
     "the text report names the program and the launchers left out");
  free(buf);
  weft_metrics_free(m);
  WeftMetricsQuery q;
  weft_metrics_query_init(&q);
  q.all_processes = 1;
  char err[256];
  m = weft_metrics_compute(d, &q, err, sizeof err);
  ok(m && m->launchers == 0 && m->program_upid == -1 && m->nprocesses == 8 && m->whole,
     "all_processes: all 8 processes, the whole recording");
  weft_metrics_free(m);
  m = compute(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END, 701, err, sizeof err);
  ok(m && m->launchers == 0 && m->nprocesses == 1 && m->processes[0].pid == 701,
     "--process 701: the helper, though a launcher");
  weft_metrics_free(m);
  m = compute(d, 0, 20, -1, err, sizeof err);
  ok(m && m->launchers == 0 && m->nprocesses == 3 && m->range_start_ns == 0,
     "--range 0..20 (a start given): what ran then, the launchers (%zu processes)", m ? m->nprocesses : 0);
  weft_metrics_free(m);
  m = compute(d, WEFT_TIME_OPEN_START, 50, -1, err, sizeof err);
  ok(m && m->launchers == 3 && m->range_start_ns == 30 && m->range_end_ns == 50,
     "--range ..50 (an open start): the program from its start, 30..50");
  weft_metrics_free(m);
  m = compute(d, WEFT_TIME_OPEN_START, 25, -1, err, sizeof err);
  ok(m && m->launchers == 0 && m->range_start_ns == 0 && m->range_end_ns == 25 && m->nprocesses == 3,
     "--range ..25 (before the program starts): the launchers that ran then (%zu)", m ? m->nprocesses : 0);
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* A database that is damaged after weft_db_open accepted it: the metrics
 * fail with a message instead of crashing. */
static void test_corrupt(void) {
  sqlite3 *d = db_lock();
  sqlite3_close(d);
  /* drop a table behind the reader's back */
  sqlite3 *w = NULL;
  sqlite3_open(bd.path, &w);
  sqlite3_exec(w, "DROP TABLE hold_block", NULL, NULL, NULL);
  sqlite3_close(w);
  char err[256];
  d = weft_db_open(bd.path, 0, err, sizeof err);
  WeftMetrics *m = d ? compute(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END, -1, err, sizeof err) : NULL;
  ok(d && !m && has(err, "cannot read the database") && has(err, "hold_block"), "a missing table: '%s'", err);
  weft_metrics_free(m);
  sqlite3_close(d);
}


/* ---- the critical path (analyzer/analysis/critpath.c) ---- */

static const WeftPathThread *path_thread(const WeftCriticalPath *cp, long long utid) {
  for (size_t i = 0; i < cp->nthreads; i++)
    if (cp->threads[i].utid == utid) return &cp->threads[i];
  return NULL;
}

static const WeftPathObject *path_object(const WeftCriticalPath *cp, long long id) {
  for (size_t i = 0; i < cp->nobjects; i++)
    if (cp->objects[i].object_id == id) return &cp->objects[i];
  return NULL;
}

/* main -> A -> B: main (0..100) creates A at 1 ms (starts 2) and B at 2 ms
 * (starts 3); B runs 3..80 holding L2 4..80; A runs 2..5 holding L1 from 3,
 * waits for L2 5..81 (hand-off from B at 80), runs 81..90 and releases L1
 * at 84; main waits for L1 10..85 (hand-off from A at 84) and runs 85..100.
 * Walking back from main at 100: main 85..100 (running), 84..85 (its wake-up
 * latency, caused by L1); A 81..84 (L1), 80..81 (latency, L2); B 5..80
 * (L2: the wait of A on L2 began at 5, inside main's wait on L1 that began
 * at 10, so L2 is the innermost cause from 5 on) and 3..5 (no cause), its
 * start gap 2..3; main 0..2. */
static void test_critpath_chain(void) {
  db_new();
  dbb_process(&bd, 1, 300, 0, 100 * MS, "chain", NULL);
  dbb_thread(&bd, 1, 1, 300, "main", -1, 0, 100 * MS);
  dbb_thread(&bd, 2, 1, 301, "A", 1, 2 * MS, 90 * MS);
  dbb_thread(&bd, 3, 1, 302, "B", 1, 3 * MS, 80 * MS);
  dbb_frame(&bd, 1, 0x1000 + 1, -1, 0, "a_fn", "/src/chain.c", 20);
  dbb_frame(&bd, 2, 0x1000 + 2, -1, 0, "main", "/src/chain.c", 40);
  dbb_stack(&bd, 10, 1, -1);
  dbb_stack(&bd, 11, 2, -1);
  dbb_object(&bd, 1, 1, WEFT_KIND_MUTEX, 0x1000, "L1", -1, 11, 2);
  dbb_object(&bd, 2, 1, WEFT_KIND_MUTEX, 0x2000, "L2", -1, 10, 2);
  const int R = WEFT_ST_RUNNING, LW = WEFT_ST_LOCK_WAIT;
  dbb_state(&bd, 1, 0, 10 * MS, R, -1, -1);
  dbb_state(&bd, 1, 10 * MS, 85 * MS, LW, 1, 11);
  dbb_state(&bd, 1, 85 * MS, 100 * MS, R, -1, -1);
  dbb_state(&bd, 2, 2 * MS, 5 * MS, R, -1, -1);
  dbb_state(&bd, 2, 5 * MS, 81 * MS, LW, 2, 10);
  dbb_state(&bd, 2, 81 * MS, 90 * MS, R, -1, -1);
  dbb_state(&bd, 3, 3 * MS, 80 * MS, R, -1, -1);
  dbb_hold(&bd, 2, 3, 4 * MS, 80 * MS, 0, 0);
  dbb_hold(&bd, 1, 2, 3 * MS, 84 * MS, 0, 0);
  dbb_hold(&bd, 2, 2, 81 * MS, 82 * MS, 1, 0);
  dbb_hold(&bd, 1, 1, 85 * MS, 86 * MS, 1, 0);
  dbb_flow(&bd, WEFT_FLOW_CREATE, 1, 1 * MS, 2, 2 * MS, -1);
  dbb_flow(&bd, WEFT_FLOW_CREATE, 1, 2 * MS, 3, 3 * MS, -1);
  dbb_flow(&bd, WEFT_FLOW_LOCK_HANDOFF, 3, 80 * MS, 2, 81 * MS, 2);
  dbb_flow(&bd, WEFT_FLOW_LOCK_HANDOFF, 2, 84 * MS, 1, 85 * MS, 1);
  dbb_thread_cpu(&bd, 1, 25 * MS, 0); /* (their running time measured on a CPU: the what-if's floor) */
  dbb_thread_cpu(&bd, 2, 12 * MS, 0);
  dbb_thread_cpu(&bd, 3, 77 * MS, 0);
  sqlite3 *d = db_finish(100 * MS);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftCriticalPath *cp = m->critical_path;
  ok(cp && cp->length_ns == 100 * MS && cp->path_ns == 100 * MS && cp->before_ns == 0 && cp->after_ns == 0 &&
         cp->end_utid == 1 && cp->jumps == 3,
     "chain: the path covers the 100 ms run from main's end, through 3 flows");
  const WeftPathThread *tm = cp ? path_thread(cp, 1) : NULL, *ta = cp ? path_thread(cp, 2) : NULL,
                       *tb = cp ? path_thread(cp, 3) : NULL;
  ok(tm && tm->path_ns == 18 * MS && tm->running_ns == 17 * MS && ta && ta->path_ns == 4 * MS &&
         ta->running_ns == 3 * MS && tb && tb->path_ns == 78 * MS && tb->running_ns == 77 * MS,
     "chain: main 18 ms (17 running), A 4 ms (3), B 78 ms (77) on the path");
  ok(cp && cp->nthreads == 3 && cp->threads[0].utid == 3 && near(cp->threads[0].share, 0.78),
     "chain: B first, 78%% of the path");
  const WeftPathObject *l1 = cp ? path_object(cp, 1) : NULL, *l2 = cp ? path_object(cp, 2) : NULL;
  /* holds on the path: B's L2 4..80 and A's L2 81..82; A's L1 80..84 and main's L1 85..86 */
  ok(l2 && l2->cause_ns == 76 * MS && l2->hold_ns == 77 * MS && l1 && l1->cause_ns == 4 * MS && l1->hold_ns == 5 * MS,
     "chain: L2 caused 76 ms (held 77 ms on the path), L1 4 ms (held 5 ms): %lld %lld %lld %lld",
     l2 ? (long long)l2->cause_ns : -1, l2 ? (long long)l2->hold_ns : -1, l1 ? (long long)l1->cause_ns : -1,
     l1 ? (long long)l1->hold_ns : -1);
  ok(cp && cp->nobjects == 2 && cp->objects[0].object_id == 2, "chain: L2 first");
  ok(cp && cp->nsites == 2 && !strcmp(cp->sites[0].label, "a_fn (chain.c:20)") &&
         !strcmp(cp->sites[0].object_label, "L2 (chain.c:20)") && cp->sites[0].cause_ns == 76 * MS,
     "chain: the call site of A's wait on L2 carries 76 ms: %zu %s %s", cp ? cp->nsites : 0,
     cp && cp->nsites ? cp->sites[0].label : "", cp && cp->nsites ? cp->sites[0].object_label : "");
  const WeftObjectMetrics *o2 = object(m, 2), *o1 = object(m, 1);
  int64_t l1_hold_ns = o1 ? o1->critical_hold_ns : -2;
  ok(o2 && o2->critical_share_ns == 76 * MS && o2->critical_hold_ns == 77 * MS,
     "chain: WeftObjectMetrics.critical_share_ns of L2 is 76 ms");
  /* B's path time inside main's wait on L1 (10..85): 10..80 = 70 of 75 ms */
  int64_t in_wait = 0;
  for (size_t i = 0; cp && i < cp->nsegments; i++)
    if (cp->segments[i].utid == 3)
      in_wait += (cp->segments[i].end_ns < 85 * MS ? cp->segments[i].end_ns : 85 * MS) -
                 (cp->segments[i].start_ns > 10 * MS ? cp->segments[i].start_ns : 10 * MS);
  ok(in_wait == 70 * MS, "chain: 70 of main's 75 ms wait on L1 is B's time on the path");
  ok(cp && cp->nsegments == 4 && cp->segments[0].utid == 1 && cp->segments[0].end_ns == 2 * MS &&
         cp->segments[0].flow_kind == 0 && cp->segments[1].utid == 3 && cp->segments[1].start_ns == 2 * MS &&
         cp->segments[1].end_ns == 80 * MS && cp->segments[1].flow_kind == WEFT_FLOW_CREATE &&
         cp->segments[2].utid == 2 && cp->segments[2].end_ns == 84 * MS &&
         cp->segments[2].flow_kind == WEFT_FLOW_LOCK_HANDOFF && cp->segments[2].object_id == 2 &&
         cp->segments[3].utid == 1 && cp->segments[3].end_ns == 100 * MS && cp->segments[3].object_id == 1,
     "chain: segments main 0..2, B 2..80 (create), A 80..84 (hand-off of L2), main 84..100 (hand-off of L1)");
  /* the path less L2's 76 ms would be 24 ms, but the threads ran 114 ms (main 25, A 12, B 77), which
   * 4 CPUs take 28.5 ms to run at the least */
  ok(cp && cp->nwhatifs >= 1 && cp->whatifs[0].kind == WEFT_WHATIF_OBJECT && cp->whatifs[0].object_id == 2 &&
         cp->whatifs[0].saving_ns == 71500 * 1000 && cp->whatifs[0].predicted_ns == 28500 * 1000 &&
         cp->whatifs[0].floor.cpus == 4 && cp->whatifs[0].floor.work_ns == 114 * MS,
     "chain: what-if without L2's waits: 28.5 ms, the CPUs' floor, not the path's 24 ms (%lld)",
     cp && cp->nwhatifs ? (long long)cp->whatifs[0].predicted_ns : -1);
  /* (the replay re-runs it: 80 ms, B's own work; the estimate is printed where the replay is not) */
  char *txt = text_report(m);
  ok(has(txt, "L2 (chain.c:20) keeps no one waiting (sharded or removed): 80.0 ms instead of 100 ms (-20.0%)") &&
         cp->whatifs[0].replayed,
     "chain: the replay of L2's what-if, above the CPUs' floor: 80 ms");
  free(txt);
  weft_metrics_free(m);
  m = compute_no_replay(d);
  txt = text_report(m);
  ok(txt && has(txt, "without the waits on L2 (chain.c:20): 28.5 ms instead of 100 ms (-71.5%; no less: the "
                     "threads' 114 ms of work on a CPU over 4 CPUs)"),
     "chain, not replayed: the estimate says the floor and why");
  free(txt);
  weft_metrics_free(m);
  /* a range: [50, 100 ms) starts the walk at main's end and stops at 50 */
  m = compute_ok(d, 50 * MS, 100 * MS);
  cp = m->critical_path;
  tb = cp ? path_thread(cp, 3) : NULL;
  l2 = cp ? path_object(cp, 2) : NULL;
  ok(cp && cp->length_ns == 50 * MS && cp->path_ns == 50 * MS && tb && tb->path_ns == 30 * MS && l2 &&
         l2->cause_ns == 31 * MS,
     "chain, range 50..100 ms: B 30 ms on the path, L2 caused 31 ms");
  weft_metrics_free(m);
  /* with the importer's max_hold_ns the walk reads only the holds near its
   * segments: the same hold times (the longest hold here is B's 76 ms) */
  sqlite3 *wdb = NULL;
  ok(sqlite3_open(bd.path, &wdb) == SQLITE_OK && weft_db_meta_set_int(wdb, "max_hold_ns", 81 * MS) == 0 &&
         weft_db_meta_get_int(d, "max_hold_ns", -1) == 81 * MS,
     "chain: meta max_hold_ns set");
  sqlite3_close(wdb);
  m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftObjectMetrics *b1 = object(m, 1), *b2 = object(m, 2);
  ok(b2 && b2->critical_hold_ns == 77 * MS && b1 && b1->critical_hold_ns == l1_hold_ns,
     "chain with max_hold_ns: the same hold times on the path (L2 %lld, L1 %lld)",
     b2 ? (long long)b2->critical_hold_ns : -1, b1 ? (long long)b1->critical_hold_ns : -1);
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* A wait without a flow (a timed-out lock wait, a sleep) stays on the
 * thread: main 0..50 runs 0..10, waits for lock 1 10..40 (ETIMEDOUT; t2
 * held it), runs 40..42, sleeps 42..45, runs 45..50. */
/* A lock taken again and again while another thread waits: lk (mutex) is
 * held by A 12 times during B's wait [10, 40) ms (1 ms each, from 11 ms
 * every 2 ms), then by B [40, 41); lk2 waited on 0.5 ms by A while B took it
 * 3 times (a wait under 1 ms is not looked into). B's wait is lk's longest:
 * 12 holds by A in it, and the finding says so. rw: lk is a rwlock, A's 12
 * holds read it and B waits to write (glibc lets readers in while a writer
 * waits): the finding says they were reads, and how to let writers first. */
static void test_retaken(int rw) {
  db_new();
  dbb_process(&bd, 1, 700, 0, 50 * MS, "unfair", NULL);
  dbb_thread(&bd, 1, 1, 700, "A", -1, 0, 50 * MS);
  dbb_thread(&bd, 2, 1, 701, "B", 1, 0, 50 * MS);
  dbb_object(&bd, 1, 1, rw ? WEFT_KIND_RWLOCK : WEFT_KIND_MUTEX, 0x1000, "lk", -1, -1, 1);
  dbb_object(&bd, 2, 1, WEFT_KIND_MUTEX, 0x2000, "lk2", -1, -1, 1);
  dbb_state(&bd, 1, 0, 45 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 1, 45 * MS, 45 * MS + MS / 2, WEFT_ST_LOCK_WAIT, 2, -1);
  dbb_state(&bd, 1, 45 * MS + MS / 2, 50 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, 0, 10 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, 10 * MS, 40 * MS, rw ? WEFT_ST_RWLOCK_WAIT : WEFT_ST_LOCK_WAIT, 1, -1);
  dbb_state(&bd, 2, 40 * MS, 50 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_hold(&bd, 1, 1, 9 * MS, 10 * MS + MS / 2, 0, rw);
  for (int k = 0; k < 12; k++) dbb_hold(&bd, 1, 1, 11 * MS + 2 * k * MS, 12 * MS + 2 * k * MS, 0, rw);
  dbb_hold(&bd, 1, 2, 40 * MS, 41 * MS, 1, 0);
  for (int k = 0; k < 3; k++) dbb_hold(&bd, 2, 2, 44 * MS + k * MS / 2 + MS / 10, 44 * MS + k * MS / 2 + MS / 5, 0, 0);
  dbb_flow(&bd, WEFT_FLOW_LOCK_HANDOFF, 1, 39 * MS, 2, 40 * MS, 1);
  sqlite3 *d = db_finish(50 * MS);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftObjectMetrics *lk = object(m, 1), *lk2 = object(m, 2);
  ok(lk && lk->wait_max_ns == 30 * MS && lk->wait_max_utid == 2 && lk->wait_max_retaken == 12 &&
         lk->wait_max_retaken_utid == 1 && lk->wait_max_retaken_reads == (rw ? 12 : 0),
     "retaken%s: lk's longest wait is B's 30 ms, A took it 12 times meanwhile (%lld by %lld, %lld to read)",
     rw ? " (rwlock)" : "", lk ? (long long)lk->wait_max_retaken : -1, lk ? (long long)lk->wait_max_retaken_utid : -1,
     lk ? (long long)lk->wait_max_retaken_reads : -1);
  ok(lk2 && lk2->wait_max_utid == 1 && lk2->wait_max_retaken == 0 && lk2->wait_max_retaken_utid == -1,
     "retaken: a wait under 1 ms is not looked into (lk2: %lld)", lk2 ? (long long)lk2->wait_max_retaken : -1);
  const WeftFinding *f = NULL;
  for (size_t i = 0; i < m->nfindings; i++)
    if (m->findings[i].object_id == 1) f = &m->findings[i];
  ok(f &&
         strstr(f->evidence, rw ? "during the longest wait (B [701], 30.0 ms) A [700] took it 12 times to read"
                                : "during the longest wait (B [701], 30.0 ms) A [700] took it 12 times") &&
         (rw ? strstr(f->fix, "PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP") && !strstr(f->fix, "a mutex is not fair")
             : strstr(f->fix, "a mutex is not fair") && !strstr(f->evidence, "to read")),
     "retaken%s: lk's finding says who took it how often, and what to do (%s | %s)", rw ? " (rwlock)" : "",
     f ? f->evidence : "no finding", f ? f->fix : "");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* A joined worker's own work floors a what-if (WeftWorkFloor): W runs
 * [0, 60) holding L from 1 ms; main runs [0, 5), waits for L [5, 60) (W
 * hands it over at 60), runs [60, 70), then joins W (ended at 60: no wait).
 * The path less L's 55 ms would be 15 ms, and the threads' 75 ms over 4
 * CPUs 18.75, but W's 60 ms are done before the join whatever the lock:
 * 60 ms. Unjoined, W's work floors nothing of its own (the run need not
 * wait for it): 18.75 ms. */
static void test_floor_thread(void) {
  for (int joined = 1; joined >= 0; joined--) {
    db_new();
    dbb_process(&bd, 1, 500, 0, 70 * MS, "floor", NULL);
    dbb_thread(&bd, 1, 1, 500, "main", -1, 0, 70 * MS);
    dbb_thread(&bd, 2, 1, 501, "W", 1, 0, 60 * MS);
    dbb_object(&bd, 1, 1, WEFT_KIND_MUTEX, 0x1000, "L", -1, -1, 2);
    dbb_state(&bd, 1, 0, 5 * MS, WEFT_ST_RUNNING, -1, -1);
    dbb_state(&bd, 1, 5 * MS, 60 * MS, WEFT_ST_LOCK_WAIT, 1, -1);
    dbb_state(&bd, 1, 60 * MS, 70 * MS, WEFT_ST_RUNNING, -1, -1);
    dbb_state(&bd, 2, 0, 60 * MS, WEFT_ST_RUNNING, -1, -1);
    dbb_hold(&bd, 1, 2, 1 * MS, 60 * MS, 0, 0);
    dbb_hold(&bd, 1, 1, 60 * MS, 61 * MS, 1, 0);
    dbb_thread_cpu(&bd, 1, 15 * MS, 0); /* (scheduler readings: time on a CPU measured, not assumed) */
    dbb_thread_cpu(&bd, 2, 60 * MS, 0);
    /* W's releases of L woke main: 20 us, and one of 2 ms (preempted inside: taken as 50 us) */
    dbb_exec(&bd, "INSERT INTO unlock_cost(utid, ns, object_id, cost_ns) VALUES (2, %lld, 1, %lld), (2, %lld, 1, %lld)",
             60 * MS, 20 * US, 30 * MS, 2 * MS);
    dbb_flow(&bd, WEFT_FLOW_CREATE, 1, 0, 2, 0, -1);
    dbb_flow(&bd, WEFT_FLOW_LOCK_HANDOFF, 2, 60 * MS, 1, 60 * MS, 1);
    if (joined) dbb_flow(&bd, WEFT_FLOW_JOIN, 2, 60 * MS, 1, 70 * MS, -1);
    sqlite3 *d = db_finish(70 * MS);
    WeftMetrics *m = compute_no_replay(d);
    const WeftCriticalPath *cp = m->critical_path;
    const WeftWhatIf *w = cp && cp->nwhatifs ? &cp->whatifs[0] : NULL;
    char *txt = text_report(m);
    /* W's work less its wake-ups of L: 60 ms - 70 us */
    if (joined)
      ok(w && w->object_id == 1 && w->predicted_ns == 59930 * 1000 && w->floor.utid == 2 && w->floor.cpus == 1 &&
             w->floor.work_ns == 59930 * 1000 &&
             has(txt, "without the waits on L: 59.9 ms instead of 70.0 ms (-14.4%; no less: W [501]'s 59.9 ms of "
                      "work on a CPU)"),
         "floor, W joined: without L's waits 59.93 ms, W's own work less its wake-ups, not the path's 15 ms (%lld)",
         w ? (long long)w->predicted_ns : -1);
    else
      ok(w && w->object_id == 1 && w->predicted_ns == 18732500 && w->floor.utid == -1 && w->floor.cpus == 4 &&
             w->floor.work_ns == 74930 * 1000,
         "floor, W not joined: without L's waits 18.73 ms, the threads' 74.93 ms over 4 CPUs (%lld)",
         w ? (long long)w->predicted_ns : -1);
    free(txt);
    weft_metrics_free(m);
    sqlite3_close(d);
  }
}

/* A balance what-if moves the straggler's work to its team: its own work
 * is no floor. main creates W1..W4 at 1 ms, joins W1 (ends at 101) then
 * W2..W4 (ended at 51), runs to 102. W1 works 100 ms, the others 50:
 * mean 62.5, W1's excess 37.5 ms, all on the path: 102 - 37.5 = 64.5 ms,
 * above the threads' 252 ms over 4 CPUs (63 ms): not raised (W1's 100 ms
 * would have made it "no shorter"). */
static void test_floor_balance(void) {
  db_new();
  dbb_process(&bd, 1, 510, 0, 102 * MS, "balance", NULL);
  dbb_thread(&bd, 1, 1, 510, "main", -1, 0, 102 * MS);
  dbb_state(&bd, 1, 0, 1 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 1, 1 * MS, 101 * MS, WEFT_ST_JOIN_WAIT, -1, -1);
  dbb_state(&bd, 1, 101 * MS, 102 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_thread_cpu(&bd, 1, 2 * MS, 0);
  for (int k = 2; k <= 5; k++) {
    int64_t end = (k == 2 ? 101 : 51) * MS;
    char name[8];
    snprintf(name, sizeof name, "W%d", k - 1);
    dbb_thread(&bd, k, 1, 509 + k, name, 1, 1 * MS, end);
    dbb_state(&bd, k, 1 * MS, end, WEFT_ST_RUNNING, -1, -1);
    dbb_thread_cpu(&bd, k, end - 1 * MS, 0);
    dbb_flow(&bd, WEFT_FLOW_CREATE, 1, 1 * MS, k, 1 * MS, -1);
    dbb_flow(&bd, WEFT_FLOW_JOIN, k, end, 1, 101 * MS, -1);
  }
  sqlite3 *d = db_finish(102 * MS);
  WeftMetrics *m = compute_no_replay(d);
  const WeftCriticalPath *cp = m->critical_path;
  const WeftWhatIf *w = NULL;
  for (size_t i = 0; cp && i < cp->nwhatifs; i++)
    if (cp->whatifs[i].kind == WEFT_WHATIF_BALANCE) w = &cp->whatifs[i];
  ok(w && w->predicted_ns == 64500 * 1000 && w->floor.cpus == 0 && w->floor.utid == -1,
     "floor, balance: the straggler's work spread, 64.5 ms, not floored by its own 100 ms (%lld, floor %g)",
     w ? (long long)w->predicted_ns : -1, w ? w->floor.cpus : -1);
  weft_metrics_free(m);
  sqlite3_close(d);
}

static void test_critpath_timeout(void) {
  db_new();
  dbb_process(&bd, 1, 400, 0, 50 * MS, "timeout", NULL);
  dbb_thread(&bd, 1, 1, 400, "main", -1, 0, 50 * MS);
  dbb_thread(&bd, 2, 1, 401, "t2", 1, 1 * MS, 45 * MS);
  dbb_object(&bd, 1, 1, WEFT_KIND_MUTEX, 0x1000, "lk", -1, -1, 1);
  dbb_state(&bd, 1, 0, 10 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_exec(
      &bd,
      "INSERT INTO thread_state(utid, start_ns, dur_ns, state, object_id, result) VALUES (1, %lld, %lld, %d, 1, 110)",
      10 * MS, 30 * MS, WEFT_ST_LOCK_WAIT);
  dbb_state(&bd, 1, 40 * MS, 42 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 1, 42 * MS, 45 * MS, WEFT_ST_SLEEP, -1, -1);
  dbb_state(&bd, 1, 45 * MS, 50 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, 1 * MS, 45 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_hold(&bd, 1, 2, 5 * MS, 45 * MS, 0, 0);
  dbb_flow(&bd, WEFT_FLOW_CREATE, 1, 0, 2, 1 * MS, -1);
  sqlite3 *d = db_finish(50 * MS);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftCriticalPath *cp = m->critical_path;
  const WeftPathThread *tm = cp ? path_thread(cp, 1) : NULL;
  const WeftPathObject *lk = cp ? path_object(cp, 1) : NULL;
  ok(cp && cp->nthreads == 1 && tm && tm->path_ns == 50 * MS && tm->running_ns == 17 * MS && cp->jumps == 0 &&
         cp->nsegments == 1,
     "timeout: the whole path is main (17 ms running), no flow followed");
  ok(lk && lk->cause_ns == 30 * MS && lk->hold_ns == 0,
     "timeout: the timed-out wait puts 30 ms of lk on the path; t2's hold is not on it");
  ok(cp && cp->nwhatifs >= 1 && cp->whatifs[0].object_id == 1 && cp->whatifs[0].predicted_ns == 20 * MS,
     "timeout: what-if without lk's waits: 20 ms");
  const WeftObjectMetrics *o = object(m, 1);
  ok(o && o->waits == 1 && o->contended == 0 && o->timeouts == 1,
     "timeout: lk waited once, timed out, not contended (%lld waits, %lld contended, %lld timed out)",
     o ? (long long)o->waits : -1, o ? (long long)o->contended : -1, o ? (long long)o->timeouts : -1);
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* A barrier: main waits 20..60, t2 30..60, t3 arrives last at 59 and the
 * barrier releases both at 60 (flows from t3 at 59). From main's end at
 * 100: main 60..100, its latency 59..60 (barrier); t3 0..59, of it 20..59
 * caused by the barrier (main's wait began at 20). */
static void test_critpath_barrier(void) {
  db_new();
  dbb_process(&bd, 1, 500, 0, 100 * MS, "barrier", NULL);
  dbb_thread(&bd, 1, 1, 500, "main", -1, 0, 100 * MS);
  dbb_thread(&bd, 2, 1, 501, "t2", -1, 0, 100 * MS);
  dbb_thread(&bd, 3, 1, 502, "t3", -1, 0, 100 * MS);
  dbb_exec(&bd, "UPDATE thread SET is_main = 0 WHERE utid > 1");
  dbb_object(&bd, 5, 1, WEFT_KIND_BARRIER, 0x5000, "bar", -1, -1, 0);
  dbb_state(&bd, 1, 0, 20 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 1, 20 * MS, 60 * MS, WEFT_ST_BARRIER_WAIT, 5, -1);
  dbb_state(&bd, 1, 60 * MS, 100 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, 0, 30 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, 30 * MS, 60 * MS, WEFT_ST_BARRIER_WAIT, 5, -1);
  dbb_state(&bd, 2, 60 * MS, 100 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 3, 0, 100 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_flow(&bd, WEFT_FLOW_BARRIER, 3, 59 * MS, 1, 60 * MS, 5);
  dbb_flow(&bd, WEFT_FLOW_BARRIER, 3, 59 * MS, 2, 60 * MS, 5);
  sqlite3 *d = db_finish(100 * MS);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftCriticalPath *cp = m->critical_path;
  const WeftPathThread *t1 = cp ? path_thread(cp, 1) : NULL, *t3 = cp ? path_thread(cp, 3) : NULL;
  const WeftPathObject *b = cp ? path_object(cp, 5) : NULL;
  ok(cp && cp->end_utid == 1 && cp->jumps == 1 && t1 && t1->path_ns == 41 * MS && t1->running_ns == 40 * MS && t3 &&
         t3->path_ns == 59 * MS && !path_thread(cp, 2),
     "barrier: main 41 ms, the last arrival t3 59 ms, t2 not on the path");
  ok(b && b->cause_ns == 40 * MS, "barrier: 40 ms caused by the barrier");
  ok(cp && cp->nsegments == 2 && cp->segments[1].flow_kind == WEFT_FLOW_BARRIER && cp->segments[1].start_ns == 59 * MS,
     "barrier: segments t3 0..59, main 59..100 through the barrier flow");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* Many objects created at one site and each first waited on at a site of
 * its own: naming looks up two stacks per object, and the second lookup
 * grows (moves) the stack cache the first one points into; ASan catches a
 * pointer kept across the two. */
static void test_many_sites(void) {
  enum { N = 200 };
  db_new();
  dbb_process(&bd, 1, 700, 0, 1000 * MS, "sites", NULL);
  dbb_thread(&bd, 1, 1, 700, "main", -1, 0, 1000 * MS);
  dbb_thread(&bd, 2, 1, 701, "w", 1, 0, 1000 * MS);
  dbb_state(&bd, 1, 0, 1000 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, 0, 500 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_frame(&bd, 1, 0x1000 + 1, -1, 0, "make_locks", "/src/sites.c", 10);
  dbb_stack(&bd, 1000, 1, -1);
  for (int i = 0; i < N; i++) {
    char fn[32];
    snprintf(fn, sizeof fn, "wait_%d", i);
    dbb_frame(&bd, 2 + i, 0x1000 + 2 + i, -1, 0, fn, "/src/sites.c", 500 + i);
    dbb_stack(&bd, 2000 + i, 2 + i, -1);
    dbb_object(&bd, 1 + i, 1, WEFT_KIND_MUTEX, 0x10000 + 64 * i, NULL, 1000, 2000 + i, 1);
  }
  /* two more made by make_locks, each called from a function of its own */
  dbb_frame(&bd, 900, 0x1000 + 900, -1, 0, "queue_new", "/src/queue.c", 12);
  dbb_frame(&bd, 901, 0x1000 + 901, -1, 0, "pool_new", "/src/pool.c", 40);
  dbb_stack(&bd, 3000, 1, 900);
  dbb_stack(&bd, 3001, 1, 901);
  dbb_object(&bd, N + 1, 1, WEFT_KIND_MUTEX, 0x90000, NULL, 3000, -1, 1);
  dbb_object(&bd, N + 2, 1, WEFT_KIND_MUTEX, 0x90040, NULL, 3001, -1, 1);
  /* one 1 ms wait per object, back to back in w's timeline */
  for (int i = 0; i < N; i++)
    dbb_state(&bd, 2, 500 * MS + i * MS, 501 * MS + i * MS, WEFT_ST_LOCK_WAIT, 1 + i, 2000 + i);
  dbb_state(&bd, 2, (500 + N) * MS, 1000 * MS, WEFT_ST_RUNNING, -1, -1);
  sqlite3 *d = db_finish(1000 * MS);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  int good = m->nobjects == N;
  for (size_t i = 0; good && i < m->nobjects; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    char site[64];
    snprintf(site, sizeof site, "wait_%lld (sites.c:%lld)", (long long)o->object_id - 1,
             (long long)(500 + o->object_id - 1));
    char name[64]; /* one creation site for all, no caller: told apart by an ordinal */
    snprintf(name, sizeof name, "make_locks (sites.c:10) #%lld", (long long)o->object_id);
    good = o->name && !strcmp(o->name, name) && o->nsites == 1 && !strcmp(o->sites[0].label, site);
  }
  ok(good, "%d objects: named by their shared creation site and an ordinal, each waited on at its own site", N);
  char buf[256];
  ok(!strcmp(weft_object_display_name(d, 7, buf, sizeof buf), "make_locks (sites.c:10) #7"),
     "the display name agrees: '%s'", buf);
  ok(!strcmp(weft_object_display_name(d, N + 1, buf, sizeof buf),
             "make_locks (sites.c:10) from queue_new (queue.c:12)"),
     "the caller tells apart objects made at the same site: '%s'", buf);
  ok(!strcmp(weft_object_display_name(d, N + 2, buf, sizeof buf), "make_locks (sites.c:10) from pool_new (pool.c:40)"),
     "... each its own caller: '%s'", buf);
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* A program built without -g: two futex words first waited on at two
 * return addresses in one function read the same ("worker"), and are told
 * apart by an ordinal; a third, in a function of its own, is not. */
static void test_same_function_sites(void) {
  db_new();
  dbb_process(&bd, 1, 700, 0, 100 * MS, "rel", NULL);
  dbb_thread(&bd, 1, 1, 700, "main", -1, 0, 100 * MS);
  dbb_state(&bd, 1, 0, 10 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_frame(&bd, 1, 0x1100, -1, 0, "worker", NULL, 0);
  dbb_frame(&bd, 2, 0x1180, -1, 0, "worker", NULL, 0); /* the same function, another call */
  dbb_frame(&bd, 3, 0x1200, -1, 0, "main", NULL, 0);
  dbb_frame(&bd, 9, 0x1900, -1, 0, "start_thread", NULL, 0);
  dbb_stack(&bd, 10, 1, 9);
  dbb_stack(&bd, 11, 2, 9);
  dbb_stack(&bd, 12, 3, -1);
  for (int i = 0; i < 3; i++) {
    dbb_object(&bd, 1 + i, 1, WEFT_KIND_FUTEX, 0x8000 + 64 * i, NULL, -1, 10 + i, 0);
    dbb_state(&bd, 1, (10 + 10 * i) * MS, (20 + 10 * i) * MS, WEFT_ST_FUTEX_WAIT, 1 + i, 10 + i);
  }
  dbb_state(&bd, 1, 40 * MS, 100 * MS, WEFT_ST_RUNNING, -1, -1);
  sqlite3 *d = db_finish(100 * MS);
  char buf[256];
  static const char *const want[] = {"worker #1", "worker #2", "main"};
  for (int i = 0; i < 3; i++)
    ok(!strcmp(weft_object_display_name(d, 1 + i, buf, sizeof buf), want[i]),
       "release build: object %d, at a site that reads like another's or not: '%s'", 1 + i, buf);
  sqlite3_close(d);
}

/* A release build's stacks trimmed of the C++ library's own frames at
 * their top (weft_sym_trim_stacks): libstdc++'s wait machinery goes, the
 * program's function templates whose return types are the library's
 * ("std::__cxx11::basic_string<...> fmt<int>(int)") stay. */
static void test_trim_cxx_internal(void) {
  db_new();
  dbb_process(&bd, 1, 700, 0, 100 * MS, "rel", NULL);
  dbb_thread(&bd, 1, 1, 700, "main", -1, 0, 100 * MS);
  dbb_state(&bd, 1, 0, 10 * MS, WEFT_ST_RUNNING, -1, -1);
  static const char *const top[] = {
      "void std::__detail::__platform_wait<int>(int const*, int)",
      "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > fmt_locked<int>(int)",
      "__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > > find_slot(int)",
      "bool std::__atomic_semaphore::_M_try_acquire()",
  };
  static const char *const want[] = {
      /* (the two trimmed ones share worker's frame: one site, told apart by an ordinal) */
      "worker #1",
      "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > fmt_locked<int>(int)",
      "__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > > find_slot(int)",
      "worker #2",
  };
  dbb_frame(&bd, 9, 0x1900, -1, 0, "worker", NULL, 0);
  for (int i = 0; i < 4; i++) {
    dbb_frame(&bd, 1 + i, 0x1100 + 0x10 * i, -1, 0, top[i], NULL, 0);
    dbb_stack(&bd, 10 + i, 1 + i, 9);
    dbb_object(&bd, 1 + i, 1, WEFT_KIND_FUTEX, 0x8000 + 64 * i, NULL, -1, 10 + i, 0);
    dbb_state(&bd, 1, (10 + 10 * i) * MS, (20 + 10 * i) * MS, WEFT_ST_FUTEX_WAIT, 1 + i, 10 + i);
  }
  dbb_state(&bd, 1, 50 * MS, 100 * MS, WEFT_ST_RUNNING, -1, -1);
  sqlite3 *d = db_finish(100 * MS);
  char err[512], buf[256];
  sqlite3 *w = weft_db_open(bd.path, 1, err, sizeof err);
  long trimmed = w ? weft_sym_trim_stacks(w, err, sizeof err) : -1;
  if (w) sqlite3_close(w);
  ok(trimmed == 2, "release build: two stacks trimmed of libstdc++'s frames (%ld)", trimmed);
  for (int i = 0; i < 4; i++)
    ok(!strcmp(weft_object_display_name(d, 1 + i, buf, sizeof buf), want[i]),
       "release build: a wait whose top frame is %s is named '%s'",
       i == 0 || i == 3 ? "the library's" : "the program's", buf);
  sqlite3_close(d);
}

/* A stack trimmed of its system frames only down to the program's: a Rust
 * program's futex wait whose every frame of the program is in its standard
 * library's source (a -g build whose closure libdw cannot see inlined) keeps
 * them, where the first frame that is not a system header's is libc's
 * (start_thread); a C++ one's (/usr/include/c++) trimmed to the program's. */
static void test_trim_to_library(void) {
  db_new();
  dbb_process(&bd, 1, 710, 0, 100 * MS, "rs", NULL);
  dbb_thread(&bd, 1, 1, 710, "main", -1, 0, 100 * MS);
  dbb_state(&bd, 1, 0, 10 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_exec(
      &bd,
      "INSERT INTO module(module_id, upid, path, build_id, bias, start, end) VALUES "
      "(1, 1, '/home/u/rs', NULL, 0, 0, 65536), (2, 1, '/lib/x86_64-linux-gnu/libc.so.6', NULL, 0, 65536, 131072)");
  dbb_frame(&bd, 1, 0x1100, 1, 0x1100, "<std::sys::sync::mutex::futex::Mutex>::lock_contended",
            "/rustc/0123/library/std/src/sys/pal/unix/futex.rs", 73);
  dbb_frame(&bd, 2, 0x1200, 1, 0x1200, "std::sys::backtrace::__rust_begin_short_backtrace",
            "/rustc/0123/library/std/src/sys/sync/mutex/futex.rs", 33);
  dbb_frame(&bd, 3, 0x11000, 2, 0x1000, "start_thread", "./nptl/pthread_create.c", 442);
  dbb_frame(&bd, 4, 0x1300, 1, 0x1300, "std::mutex::lock", "/usr/include/c++/12/bits/std_mutex.h", 100);
  dbb_frame(&bd, 5, 0x1400, 1, 0x1400, "worker", "/home/u/w.cc", 7);
  const int64_t rust[] = {1, 2, 3}, cxx[] = {4, 5, 3};
  dbb_stack_frames(&bd, 10, rust, 3);
  dbb_stack_frames(&bd, 11, cxx, 3);
  for (int i = 0; i < 2; i++) {
    dbb_object(&bd, 1 + i, 1, WEFT_KIND_FUTEX, 0x8000 + 64 * i, NULL, -1, 10 + i, 0);
    dbb_state(&bd, 1, (10 + 10 * i) * MS, (20 + 10 * i) * MS, WEFT_ST_FUTEX_WAIT, 1 + i, 10 + i);
  }
  dbb_state(&bd, 1, 30 * MS, 100 * MS, WEFT_ST_RUNNING, -1, -1);
  sqlite3 *d = db_finish(100 * MS);
  char err[512];
  sqlite3 *w = weft_db_open(bd.path, 1, err, sizeof err);
  long trimmed = w ? weft_sym_trim_stacks(w, err, sizeof err) : -1;
  if (w) sqlite3_close(w);
  sqlite3_stmt *q = NULL;
  int64_t depth[2] = {-1, -1};
  if (sqlite3_prepare_v2(d, "SELECT stack_id, depth FROM stack WHERE stack_id IN (10, 11)", -1, &q, NULL) == SQLITE_OK)
    while (sqlite3_step(q) == SQLITE_ROW) depth[sqlite3_column_int64(q, 0) - 10] = sqlite3_column_int64(q, 1);
  sqlite3_finalize(q);
  ok(trimmed == 1 && depth[0] == 3 && depth[1] == 2,
     "trim: the Rust stack kept whole (%lld frames), the C++ one trimmed to the program's (%lld; %ld trimmed; %s)",
     (long long)depth[0], (long long)depth[1], trimmed, trimmed < 0 ? err : "");
  sqlite3_close(d);
}

/* A program behind a launcher (a shell that runs a command, then execs
 * the program): the report leaves the launchers out, and the range is the
 * program's whole life, which a replay may take alone, unless a launcher's
 * child still runs beside the program (a daemon it left behind). */
static void test_launched_program(void) {
  for (int daemon = 0; daemon < 2; daemon++) {
    db_new();
    dbb_process(&bd, 1, 700, 0, 30 * MS, "sh -c 'cmd; exec prog'", "/bin/sh");
    dbb_process(&bd, 2, 701, 5 * MS, daemon ? 90 * MS : 20 * MS, "cmd", "/bin/cmd");
    dbb_process_parent(&bd, 2, 1);
    dbb_process(&bd, 3, 700, 30 * MS, 100 * MS, "prog", "/bin/prog");
    dbb_process_exec(&bd, 3, 1, 1);
    dbb_thread(&bd, 1, 1, 700, "sh", -1, 0, 30 * MS);
    dbb_thread(&bd, 2, 2, 701, "cmd", -1, 5 * MS, daemon ? 90 * MS : 20 * MS);
    dbb_thread(&bd, 3, 3, 700, "prog", -1, 30 * MS, 100 * MS);
    dbb_state(&bd, 1, 0, 30 * MS, WEFT_ST_RUNNING, -1, -1);
    dbb_state(&bd, 2, 5 * MS, daemon ? 90 * MS : 20 * MS, WEFT_ST_RUNNING, -1, -1);
    dbb_state(&bd, 3, 30 * MS, 100 * MS, WEFT_ST_RUNNING, -1, -1);
    sqlite3 *d = db_finish(100 * MS);
    WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
    ok(m && m->launchers == 2 && !m->whole && m->range_start_ns == 30 * MS && m->whole_program == !daemon,
       "launched program%s: the launchers left out, the range the program's, %s its whole life to replay (%d)",
       daemon ? " with a launcher's child still running" : "", daemon ? "not" : "", m ? m->whole_program : -1);
    weft_metrics_free(m);
    sqlite3_close(d);
  }
}

/* A fork child's object with no init of its own is its parent's, made
 * before the fork (a multiprocessing.Lock() the parent made and only its
 * children took): named as the parent names it. app (upid 1, /bin/app at
 * bias 0x1000) makes lock 0x5000 at 5 ms (make_lock, app.c:10), 0x7000 at
 * 9 ms (make_soon, app.c:40) and 0x6000 at 50 ms (make_later, app.c:30);
 * it forks upid 2 at 8 ms (which starts at 10), spawns upid 3 (/bin/other)
 * and upid 6 (/bin/app again, mapped at 0x3000) at 9; upid 2 forks upid 5
 * at 19 ms and execs /bin/app again (upid 4). Each waits on what it has at
 * 0x5000 (wait_here, app.c:20), upid 2 on 0x6000 too and on 0x7000
 * (wait_soon, app.c:50). */
static void test_inherited_names(void) {
  db_new();
  dbb_process(&bd, 1, 100, 0, 100 * MS, "app", "/bin/app");
  dbb_process(&bd, 2, 101, 10 * MS, 60 * MS, "app", "/bin/app");
  dbb_process_parent(&bd, 2, 1);
  dbb_process(&bd, 3, 102, 10 * MS, 90 * MS, "other", "/bin/other");
  dbb_process_parent(&bd, 3, 1);
  dbb_process(&bd, 4, 101, 60 * MS, 90 * MS, "app", "/bin/app");
  dbb_process_exec(&bd, 4, 2, 1);
  dbb_process(&bd, 5, 104, 20 * MS, 90 * MS, "app", "/bin/app");
  dbb_process_parent(&bd, 5, 2);
  dbb_process(&bd, 6, 106, 10 * MS, 90 * MS, "app", "/bin/app");
  dbb_process_parent(&bd, 6, 1);
  /* 7: posix_spawn'd, 8: no record of the call (vfork), both of the same executable at the parent's address
   * (not position-independent, or ASLR off) */
  dbb_process(&bd, 7, 107, 10 * MS, 90 * MS, "app", "/bin/app");
  dbb_process_parent(&bd, 7, 1);
  dbb_process(&bd, 8, 108, 10 * MS, 90 * MS, "app", "/bin/app");
  dbb_process_parent(&bd, 8, 1);
  static const char *const by[] = {NULL, NULL, "fork", "spawn", NULL, "fork", "spawn", "spawn", NULL};
  for (int i = 1; i <= 8; i++)
    if (by[i]) dbb_process_started_by(&bd, i, by[i]);
  for (int i = 1; i <= 8; i++) dbb_thread(&bd, i, i, 100 + i, "app", -1, i == 1 ? 0 : 10 * MS, 90 * MS);
  static const long long bias[] = {0, 0x1000, 0x1000, 0x2000, 0x4000, 0x1000, 0x3000, 0x1000, 0x1000};
  for (int i = 1; i <= 8; i++)
    dbb_exec(&bd, "INSERT INTO module(module_id, upid, path, bias, start, end) VALUES (%d, %d, %Q, %lld, 0, 0)", i, i,
             i == 3 ? "/bin/other" : "/bin/app", bias[i]);
  dbb_flow(&bd, WEFT_FLOW_FORK, 1, 8 * MS, 2, 10 * MS, -1);
  dbb_flow(&bd, WEFT_FLOW_FORK, 1, 9 * MS, 3, 10 * MS, -1);
  dbb_flow(&bd, WEFT_FLOW_FORK, 1, 9 * MS, 6, 10 * MS, -1);
  dbb_flow(&bd, WEFT_FLOW_FORK, 2, 19 * MS, 5, 20 * MS, -1);
  dbb_flow(&bd, WEFT_FLOW_FORK, 1, 9 * MS, 7, 10 * MS, -1);
  dbb_flow(&bd, WEFT_FLOW_FORK, 1, 10 * MS, 8, 10 * MS, -1);
  static const char *const fn[] = {"",          "make_lock", "wait_here", "make_later", "make_soon",
                                   "wait_soon", "make_old",  "wait_old",  "make_kept"};
  for (int i = 1; i <= 8; i++) {
    dbb_frame(&bd, i, 0x1000 + i, -1, 0, fn[i], "/src/app.c", 10 * i);
    dbb_stack(&bd, 100 * i, i, -1);
  }
  dbb_object(&bd, 1, 1, WEFT_KIND_MUTEX, 0x5000, NULL, 100, -1, 1);
  dbb_object(&bd, 6, 1, WEFT_KIND_MUTEX, 0x6000, NULL, 300, -1, 1);
  dbb_object(&bd, 8, 1, WEFT_KIND_MUTEX, 0x7000, NULL, 400, -1, 1);
  for (int u = 2; u <= 5; u++) dbb_object(&bd, u, u, WEFT_KIND_MUTEX, 0x5000, NULL, -1, 200, 1);
  dbb_object(&bd, 7, 2, WEFT_KIND_MUTEX, 0x6000, NULL, -1, 200, 1);
  dbb_object(&bd, 9, 2, WEFT_KIND_MUTEX, 0x7000, NULL, -1, 500, 1);
  dbb_object(&bd, 10, 6, WEFT_KIND_MUTEX, 0x5000, NULL, -1, 200, 1);
  dbb_object(&bd, 11, 7, WEFT_KIND_MUTEX, 0x5000, NULL, -1, 200, 1);
  dbb_object(&bd, 12, 8, WEFT_KIND_MUTEX, 0x5000, NULL, -1, 200, 1);
  /* the parent's lock at 0x8000 destroyed before the fork (its memory reused), at 0x9000 after it */
  dbb_object(&bd, 13, 1, WEFT_KIND_MUTEX, 0x8000, NULL, 600, -1, 1);
  dbb_object(&bd, 14, 2, WEFT_KIND_MUTEX, 0x8000, NULL, -1, 700, 1);
  dbb_object(&bd, 15, 1, WEFT_KIND_MUTEX, 0x9000, NULL, 800, -1, 1);
  dbb_object(&bd, 16, 2, WEFT_KIND_MUTEX, 0x9000, NULL, -1, 700, 1);
  dbb_exec(&bd,
           "UPDATE sync_object SET first_ns = CASE object_id WHEN 1 THEN %lld WHEN 6 THEN %lld WHEN 8 THEN %lld "
           "ELSE %lld END",
           (long long)(5 * MS), (long long)(50 * MS), (long long)(9 * MS), (long long)(25 * MS));
  dbb_exec(&bd, "UPDATE sync_object SET first_ns = %lld, destroyed_ns = %lld WHERE object_id = 13", (long long)(5 * MS),
           (long long)(7 * MS));
  dbb_exec(&bd, "UPDATE sync_object SET first_ns = %lld, destroyed_ns = %lld WHERE object_id = 15", (long long)(5 * MS),
           (long long)(50 * MS));
  dbb_state(&bd, 2, 10 * MS, 30 * MS, WEFT_ST_RUNNING, -1, -1);
  dbb_state(&bd, 2, 30 * MS, 31 * MS, WEFT_ST_LOCK_WAIT, 2, 200);
  dbb_state(&bd, 2, 31 * MS, 60 * MS, WEFT_ST_RUNNING, -1, -1);
  sqlite3 *d = db_finish(100 * MS);
  static const struct {
    int64_t id;
    const char *want, *why;
  } c[] = {
      {2, "make_lock (app.c:10)", "a fork child's: its parent's, made before the fork"},
      {5, "make_lock (app.c:10)", "a fork child's fork child's: past its parent's, which had none of its own either"},
      {3, "wait_here (app.c:20)", "a spawned child's (another executable): its own"},
      {10, "wait_here (app.c:20)", "a spawned child's of the same executable (mapped elsewhere): its own"},
      {11, "wait_here (app.c:20)", "a posix_spawn'd child's of the same executable at the same address: its own"},
      {12, "wait_here (app.c:20)", "a child's that no FORK record made (vfork), at the same address: its own"},
      {14, "wait_old (app.c:70)", "a fork child's, where the parent's was destroyed before the fork: its own"},
      {16, "make_kept (app.c:80)", "a fork child's, where the parent's was destroyed after the fork: the parent's"},
      {4, "wait_here (app.c:20)", "an exec'd image's: its own"},
      {7, "wait_here (app.c:20)",
       "a fork child's, where the parent's was made after the fork: its own, the only one named by that site"},
      {9, "wait_soon (app.c:50)",
       "a fork child's, where the parent's was made after the fork call, before the child ran"},
  };
  char buf[256];
  for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
    ok(!strcmp(weft_object_display_name(d, c[i].id, buf, sizeof buf), c[i].want), "%s: '%s'", c[i].why, buf);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftObjectMetrics *o = NULL;
  for (size_t i = 0; i < m->nobjects; i++)
    if (m->objects[i].object_id == 2) o = &m->objects[i];
  ok(o && o->name && !strcmp(o->name, "make_lock (app.c:10)"), "the report's name of the fork child's lock: '%s'",
     o && o->name ? o->name : "(none)");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* Objects made in Python are named by the call and the line that made them
 * (naming.h): Python frames (negative ip) first, then C frames. */
static void test_python_names(void) {
  db_new();
  dbb_process(&bd, 1, 800, 0, 1000 * MS, "python3.11", NULL);
  dbb_thread(&bd, 1, 1, 800, "main", -1, 0, 1000 * MS);
  dbb_state(&bd, 1, 0, 500 * MS, WEFT_ST_RUNNING, -1, -1);
  const char *lib = "/usr/lib/python3.11/";
  char f[128];
  dbb_frame(&bd, 10, -10, -1, 0, "<module>", "/app/app.py", 17);
  dbb_frame(&bd, 11, 0x5000, -1, 0, "PyThread_allocate_lock", NULL, 0);
  dbb_frame(&bd, 12, 0x5001, -1, 0, "lock_new", NULL, 0);
  dbb_frame(&bd, 13, 0x5002, -1, 0, "_buffered_init", NULL, 0);
  snprintf(f, sizeof f, "%squeue.py", lib);
  dbb_frame(&bd, 20, -20, -1, 0, "Queue.__init__", f, 35);
  dbb_frame(&bd, 21, -21, -1, 0, "main", "/app/app.py", 30);
  snprintf(f, sizeof f, "%sthreading.py", lib);
  dbb_frame(&bd, 30, -30, -1, 0, "Condition.wait", f, 320);
  snprintf(f, sizeof f, "%squeue.py", lib);
  dbb_frame(&bd, 31, -31, -1, 0, "Queue.get", f, 171);
  dbb_frame(&bd, 32, -32, -1, 0, "consume", "/app/app.py", 35);
  dbb_frame(&bd, 40, 0x6000, -1, 0, "make", "/src/x.c", 5);
  /* 3.8-3.10: functions without their class, matched where the name is unique in the file */
  dbb_frame(&bd, 50, -50, -1, 0, "__init__", "/usr/lib/python3.9/multiprocessing/synchronize.py", 57);
  dbb_frame(&bd, 51, -51, -1, 0, "Lock", "/usr/lib/python3.9/multiprocessing/context.py", 68);
  dbb_frame(&bd, 52, -52, -1, 0, "main", "/app/mp.py", 9);
  dbb_frame(&bd, 53, -53, -1, 0, "__init__", "/usr/lib/python3.9/queue.py", 35);
  dbb_frame(&bd, 60, -60, -1, 0, "helper", "/usr/lib/python3/dist-packages/lib.py", 5);
  /* a module lock made while mp.Lock() at mp.py:9 imported a module */
  dbb_frame(&bd, 54, -54, -1, 0, "_ModuleLock.__init__", "<frozen importlib._bootstrap>", 72);
  dbb_frame(&bd, 55, -55, -1, 0, "_find_and_load", "<frozen importlib._bootstrap>", 1173);
  static const int64_t lock[] = {10, 11, 12}, queue[] = {20, 21}, get[] = {30, 31, 32}, cmade[] = {40},
                       mp[] = {50, 51, 52}, q39[] = {53, 21}, pkg[] = {60, 11, 12}, buffered[] = {10, 11, 13},
                       imported[] = {54, 55, 51, 52};
  dbb_stack_frames(&bd, 100, lock, 3);
  dbb_stack_frames(&bd, 101, queue, 2);
  dbb_stack_frames(&bd, 102, get, 3);
  dbb_stack_frames(&bd, 103, cmade, 1);
  dbb_stack_frames(&bd, 104, mp, 3);
  dbb_stack_frames(&bd, 105, q39, 2);
  dbb_stack_frames(&bd, 106, pkg, 3);
  dbb_stack_frames(&bd, 107, buffered, 3);
  dbb_stack_frames(&bd, 108, imported, 4);
  dbb_object(&bd, 1, 1, WEFT_KIND_SEM, 0x1000, NULL, 100, -1, 1);
  dbb_object(&bd, 2, 1, WEFT_KIND_SEM, 0x2000, NULL, 101, -1, 1);
  dbb_object(&bd, 3, 1, WEFT_KIND_SEM, 0x3000, NULL, 102, -1, 1);
  dbb_object(&bd, 4, 1, WEFT_KIND_SEM, 0x4000, NULL, 102, -1, 1);
  dbb_object(&bd, 5, 1, WEFT_KIND_SEM, 0x5000, "queue_lock", 100, -1, 1);
  dbb_object(&bd, 6, 1, WEFT_KIND_MUTEX, 0x6000, NULL, 103, -1, 1);
  dbb_object(&bd, 7, 1, WEFT_KIND_SEM, 0x7000, NULL, 104, -1, 1);
  dbb_object(&bd, 8, 1, WEFT_KIND_SEM, 0x8000, NULL, 105, -1, 1);
  dbb_object(&bd, 9, 1, WEFT_KIND_SEM, 0x9000, NULL, 106, -1, 1);
  dbb_object(&bd, 10, 1, WEFT_KIND_SEM, 0xa000, NULL, 107, -1, 1);
  dbb_object(&bd, 11, 1, WEFT_KIND_MUTEX, 0xb000, NULL, 108, -1, 1);
  dbb_state(&bd, 1, 500 * MS, 600 * MS, WEFT_ST_SEM_WAIT, 1, -1);
  dbb_state(&bd, 1, 600 * MS, 1000 * MS, WEFT_ST_RUNNING, -1, -1);
  sqlite3 *d = db_finish(1000 * MS);
  static const char *const want[] = {"threading.Lock() at app.py:17",
                                     "queue.Queue() at app.py:30",
                                     "Queue.get() at app.py:35 #1",
                                     "Queue.get() at app.py:35 #2",
                                     "queue_lock",
                                     "make (x.c:5)",
                                     "mp.Lock() at mp.py:9",
                                     "__init__ (queue.py:35)",
                                     "threading.Lock() at lib.py:5",
                                     "<module> (app.py:17) #2",
                                     "_ModuleLock.__init__ (<frozen importlib._bootstrap>:72)"};
  static const char *const why[] = {
      "a threading.Lock() made at the user's line",
      "a queue.Queue()'s mutex",
      "a Queue.get() waiter, the first of two made at one line",
      "... the second",
      "a symbol's name comes first",
      "an object made in C keeps its frame's name",
      "3.9's bare names: mp.Lock() through context.py's Lock",
      "3.9's bare __init__ in queue.py: not a known maker, the frame's name",
      "a dist-packages file is the user's code",
      "a lock made by another builtin (a buffered file) is no threading.Lock() (#2: the frame is shared)",
      "a module lock made while mp.Lock() imported a module is none of it (nor does it mark mp.Lock() 'via')"};
  char buf[256];
  for (int i = 0; i < 11; i++)
    ok(!strcmp(weft_object_display_name(d, i + 1, buf, sizeof buf), want[i]), "%s: '%s'", why[i], buf);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  const WeftObjectMetrics *o = m->nobjects ? &m->objects[0] : NULL;
  ok(m->nobjects == 1 && o->name && !strcmp(o->name, want[0]), "the analysis names it the same: '%s'",
     o && o->name ? o->name : "");
  ok(!strcmp(weft_py_maker("/usr/lib/python3.12/threading.py", "Condition.__init__"), "threading.Condition()") &&
         !weft_py_maker("/usr/lib/python3.9/threading.py", "__init__") &&
         !strcmp(weft_py_maker("/usr/lib/python3.9/threading.py", "RLock"), "threading.RLock()") &&
         !weft_py_maker("/app/threading.py.bak", "RLock"),
     "the maker table: qualified names, bare names only where unique");
  weft_metrics_free(m);
  sqlite3_close(d);
}

/* Two MPI ranks (pids 710 and 711), each a main thread and a thread MPI_Init
 * started (no recorded creator, begun after MPI_Init began at 5) polling
 * 10..100. Rank 0's main thread waits in MPI_Init 5..45, on a CPU 80 ns of
 * its life: 60 ns running outside the wait, 20 ns polling inside it; rank
 * 1's waits 5..6 and is on a CPU 30 ns. The Summary's team is the two main
 * threads: load balance 45 / 60 = 0.75 (with the library's threads, 0 useful
 * each: 22.5 / 60), synchronisation efficiency 60 / 100. */
static void test_mpi_library_team(void) {
  db_new();
  for (int r = 0; r < 2; r++) {
    int64_t upid = r + 1, main = 2 * r + 1, lib = 2 * r + 2;
    dbb_process(&bd, upid, 710 + r, 0, 100, "app", NULL);
    dbb_process_mpi_rank(&bd, upid, r);
    dbb_object(&bd, 10 + r, upid, WEFT_KIND_MPI, (int64_t)WEFT_MPI_OBJ(WEFT_MPI_INIT, 0), "MPI_Init", -1, -1, 0);
    dbb_thread(&bd, main, upid, 710 + r, "app", -1, 0, 100);
    dbb_thread(&bd, lib, upid, 720 + r, "progress", -1, 10, 100);
    dbb_exec(&bd, "UPDATE thread SET is_main = 0 WHERE utid = %lld", (long long)lib);
    dbb_thread_cpu(&bd, main, r ? 30 : 80, 0);
    dbb_thread_cpu(&bd, lib, 0, 0);
    dbb_state(&bd, main, 0, 5, WEFT_ST_RUNNING, -1, -1);
    dbb_state(&bd, main, 5, r ? 6 : 45, WEFT_ST_MPI_WAIT, 10 + r, -1);
    dbb_state(&bd, main, r ? 6 : 45, 100, WEFT_ST_RUNNING, -1, -1);
    dbb_state(&bd, lib, 10, 100, WEFT_ST_IO_WAIT, -1, -1);
  }
  sqlite3 *d = db_finish(100);
  WeftMetrics *m = compute_ok(d, WEFT_TIME_OPEN_START, WEFT_TIME_OPEN_END);
  ok(m->nmpi_lib == 2 && m->summary.pop.n == 2 && m->summary.pop_left_out == 2 && near(m->summary.pop.lb, 0.75) &&
         near(m->processes[0].pop.lb, 1.0),
     "MPI: the Summary's team leaves the library's 2 threads out: load balance 0.75 (%zu threads, %zu left out, "
     "%.3f; rank 0's own %.3f)",
     m->summary.pop.n, m->summary.pop_left_out, m->summary.pop.lb, m->processes[0].pop.lb);
  ok(m->mpi && m->mpi->nranks == 2 && m->mpi->ranks[0].mpi_cpu_ns == 20 && m->mpi->ranks[1].mpi_cpu_ns == 0 &&
         m->mpi->mpi_cpu_ns == 20,
     "MPI: rank 0 was on a CPU 20 ns of its 40 ns in MPI, rank 1 none (%lld, %lld)",
     m->mpi && m->mpi->nranks ? (long long)m->mpi->ranks[0].mpi_cpu_ns : -1,
     m->mpi && m->mpi->nranks > 1 ? (long long)m->mpi->ranks[1].mpi_cpu_ns : -1);
  char *buf = text_report(m);
  ok(has(buf, "parallel efficiency  0.45  (load balance 0.75 x synchronisation efficiency 0.60)") &&
         has(buf, "over 2 threads: the MPI library's 2 left out") &&
         has(buf, "41 ns waiting in MPI, 20 ns of it on a CPU (the library polling)") &&
         has(buf, "rank 0 (pid 710): useful 60 ns, in MPI 40 ns (on a CPU 20 ns; MPI_Init and MPI_Finalize"),
     "MPI: the text report says so");
  free(buf);
  weft_metrics_free(m);
  sqlite3_close(d);
}

int main(void) {
  dbb_dir_init(&dir, "test-metrics");
  test_pop();
  test_units();
  test_two_threads();
  test_oversubscribed();
  test_unrecorded();
  test_openmp();
  test_oversubscribed_procs();
  test_lock();
  test_collector_wait();
  forkjoin_queue('q');
  forkjoin_queue('s');
  forkjoin_queue('g');
  forkjoin_queue('b');
  test_jobs();
  test_parallelism();
  test_floor_thread();
  test_floor_balance();
  test_io_overlap();
  test_barrier();
  test_barrier_last_arrival();
  test_forkjoin();
  test_filter_and_render();
  test_launchers();
  test_mpi_launchers();
  test_mpi_library_team();
  test_corrupt();
  test_critpath_chain();
  test_critpath_timeout();
  test_retaken(0);
  test_retaken(1);
  test_critpath_barrier();
  test_many_sites();
  test_same_function_sites();
  test_trim_cxx_internal();
  test_trim_to_library();
  test_launched_program();
  test_python_names();
  test_inherited_names();
  dbb_dir_remove(&dir);
  printf("1..%d\n", ntest);
  return nfail ? 1 : 0;
}
