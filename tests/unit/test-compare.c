/* test-compare.c - analyzer/analysis/compare.c on metrics built by hand.
 * SPDX-License-Identifier: MIT
 *
 * Two recordings of "./app" as WeftMetrics structs, the numbers chosen so
 * that every outcome is known:
 *   before: ./app --mode lock  (pid 10): hot 40 ms of waits (2 waits), q 5 ms;
 *           findings: contention on hot (cost 40 ms), "serial phases: ... 41% of the time (20.5 ms)"
 *   after:  ./app --mode shard (pid 20): shard 1 ms and shard 2 ms (two objects, one name), q 7 ms;
 *           findings: "serial phases: ... 12% of the time (6.1 ms)", imbalance "LB 0.62"
 * The processes pair by executable (the arguments changed); hot is gone,
 * shard appeared as one row of two objects (3 ms), q is on both (+2 ms);
 * the serial finding matches without its numbers, the contention is gone,
 * the imbalance appeared. The figures are after - before and after / before.
 * Then a warning about the measurement (unrecorded, cost 0) that appeared: the
 * text table says "-" before and "warning" after, not a cost of 0 ns.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "report.h"
#include "tap.h"

#define MS 1000000LL

static WeftObjectMetrics object(int64_t id, int64_t upid, const char *name, int64_t wait_ms, int64_t waits) {
  return (WeftObjectMetrics){.object_id = id,
                             .upid = upid,
                             .kind_name = "mutex",
                             .name = name,
                             .wait_ns = wait_ms * MS,
                             .waits = waits,
                             .contended = waits};
}

static WeftFinding finding(const char *kind, const char *title, int64_t cost_ms, int64_t object_id) {
  return (WeftFinding){.kind_name = kind, .title = title, .cost_ns = cost_ms * MS, .object_id = object_id};
}

static const WeftCompareObject *find_object(const WeftCompare *c, const char *name) {
  for (size_t i = 0; i < c->nobjects; i++)
    if (!strcmp(c->objects[i].name, name)) return &c->objects[i];
  return NULL;
}

static const WeftCompareFigure *find_figure(const WeftCompare *c, const char *key) {
  for (size_t i = 0; i < c->nfigures; i++)
    if (!strcmp(c->figures[i].key, key)) return &c->figures[i];
  return NULL;
}

int main(void) {
  WeftProcessMetrics pb = {.upid = 1, .pid = 10, .cmdline = "./app --mode lock", .exe = "/bin/app"};
  WeftProcessMetrics pa = {.upid = 1, .pid = 20, .cmdline = "./app --mode shard", .exe = "/bin/app"};
  WeftObjectMetrics ob[] = {object(7, 1, "hot", 40, 2), object(8, 1, "q", 5, 1)};
  WeftObjectMetrics oa[] = {object(3, 1, "q", 7, 3), object(4, 1, "shard", 2, 1), object(5, 1, "shard", 1, 1)};
  WeftFinding fb[] = {
      finding("contention", "mutex hot: threads waited 40 ms on it", 40, 7),
      finding("serial", "serial phases: at most one thread running for 41% of the time (20.5 ms)", 20, -1)};
  WeftFinding fa[] = {
      finding("serial", "serial phases: at most one thread running for 12% of the time (6.1 ms)", 6, -1),
      finding("imbalance", "load imbalance in fork_join by main: LB 0.62; worker-1 is the straggler", 3, -1)};
  WeftMetrics b = {.processes = &pb, .nprocesses = 1, .objects = ob, .nobjects = 2, .findings = fb, .nfindings = 2};
  WeftMetrics a = {.processes = &pa, .nprocesses = 1, .objects = oa, .nobjects = 3, .findings = fa, .nfindings = 2};
  b.summary.span_ns = 200 * MS;
  a.summary.span_ns = 150 * MS;
  b.summary.pop.pe = 0.5;
  a.summary.pop.pe = 0.75;
  b.summary.state_ns[WEFT_ST_LOCK_WAIT] = 45 * MS;
  a.summary.state_ns[WEFT_ST_LOCK_WAIT] = 10 * MS;
  a.summary.state_ns[WEFT_ST_SLEEP] = 1 * MS;

  WeftCompare *c = weft_compare(&b, &a);
  ok(c->processes_matched == 1 && c->processes_by_exe == 1, "the processes pair by executable (%zu, %zu)",
     c->processes_matched, c->processes_by_exe);
  const WeftCompareFigure *span = find_figure(c, "span_ns"), *pe = find_figure(c, "parallel_efficiency");
  ok(span && span->v.before == 200 * MS && span->v.after == 150 * MS && span->v.diff == -50 * MS &&
         span->v.ratio == 0.75,
     "run length: 200 ms -> 150 ms, -50 ms, 0.75x");
  ok(pe && fabs(pe->v.diff - 0.25) < 1e-12 && pe->v.ratio == 1.5, "parallel efficiency: +0.25, 1.5x");
  const WeftCompareFigure *lw = find_figure(c, "lock_wait_ns"), *sl = find_figure(c, "sleep_ns");
  ok(lw && lw->is_state && lw->v.diff == -35 * MS && sl && sl->v.before == 0 && sl->v.ratio < 0 &&
         !find_figure(c, "io_wait_ns") && c->nfigures == 12,
     "states: lock_wait -35 ms, sleep without a ratio (0 before), none neither has (%zu figures)", c->nfigures);
  const WeftCompareObject *hot = find_object(c, "hot"), *shard = find_object(c, "shard"), *q = find_object(c, "q");
  ok(hot && hot->change == WEFT_COMPARE_GONE && hot->wait_ns.before == 40 * MS && hot->wait_ns.after == 0 &&
         hot->wait_ns.ratio == 0 && hot->nbefore == 1 && hot->nafter == 0,
     "hot: gone, 40 ms -> 0");
  ok(shard && shard->change == WEFT_COMPARE_APPEARED && shard->nafter == 2 && shard->wait_ns.after == 3 * MS &&
         shard->waits.after == 2 && shard->wait_ns.ratio < 0,
     "shard: appeared, two objects as one row, 3 ms");
  ok(q && q->change == WEFT_COMPARE_BOTH && q->wait_ns.diff == 2 * MS && q->waits.diff == 2 &&
         !strcmp(q->cmdline, "./app --mode shard"),
     "q: on both, +2 ms, after's command line");
  ok(c->nobjects == 3 && c->objects[0].wait_ns.before == 40 * MS && !strcmp(c->objects[1].name, "q") &&
         !strcmp(c->objects[2].name, "shard"),
     "objects by the larger wait: hot, q, shard");
  ok(c->nfindings == 3 && c->findings[0].change == WEFT_COMPARE_APPEARED &&
         !strcmp(c->findings[0].kind_name, "imbalance") && c->findings[1].change == WEFT_COMPARE_GONE &&
         !strcmp(c->findings[1].kind_name, "contention") && c->findings[2].change == WEFT_COMPARE_BOTH &&
         c->findings[2].cost_ns.before == 20 * MS && c->findings[2].cost_ns.after == 6 * MS,
     "findings: the imbalance appeared, the contention is gone, serial on both (numbers aside)");
  weft_compare_free(c);

  /* a warning about the measurement (cost 0, unrecorded) that appeared after: "warning" in the text
   * table after the change, not a cost of "0 ns"; nothing before */
  WeftFinding fw[] = {fa[0], fa[1], finding("unrecorded", "measurement: threads were off a CPU for 9 ms", 0, -1)};
  fw[2].kind = WEFT_FIND_UNRECORDED;
  a.findings = fw;
  a.nfindings = 3;
  c = weft_compare(&b, &a);
  char *text = NULL;
  size_t len = 0;
  FILE *mf = open_memstream(&text, &len);
  if (mf) {
    weft_report_compare_text(mf, c, "before.db", "after.db", -1);
    fclose(mf);
  }
  const char *row = text ? strstr(text, "unrecorded") : NULL;
  const char *eol = row ? strchr(row, '\n') : NULL;
  char line[512] = "";
  if (row && eol && (size_t)(eol - row) < sizeof line) memcpy(line, row, (size_t)(eol - row));
  size_t ln = strlen(line);
  ok(ln > 7 && !strcmp(line + ln - 7, "warning") && strstr(line, " -  ") && !strstr(line, "0 ns"),
     "compare text: the warning that appeared: \"-\" before, \"warning\" after, no 0 ns (%s)", line);
  free(text);
  weft_compare_free(c);
  a.findings = fa;
  a.nfindings = 2;

  /* one more process before that nothing pairs: its object is gone, not merged with after's */
  WeftProcessMetrics pb2[] = {pb, {.upid = 2, .pid = 11, .cmdline = "gzip", .exe = "/bin/gzip"}};
  WeftObjectMetrics ob2[] = {object(8, 2, "q", 5, 1)};
  b.processes = pb2;
  b.nprocesses = 2;
  b.objects = ob2;
  b.nobjects = 1;
  c = weft_compare(&b, &a);
  q = NULL;
  size_t nq = 0;
  for (size_t i = 0; i < c->nobjects; i++)
    if (!strcmp(c->objects[i].name, "q")) q = &c->objects[i], nq++;
  ok(nq == 2 && c->processes_matched == 1, "q of an unpaired process (gzip) is another row than after's q");
  weft_compare_free(c);
  printf("1..%d\n", ntest);
  return nfail ? 1 : 0;
}
