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
#include <stdio.h>
#include <string.h>

#include "weft-db.h"
#include "weft-dbbuild.h"
#include "weft-trace.h"

#define MS 1000000LL

static WeftDbBuild b;

static void thread(int64_t utid, int64_t upid, int64_t tid, const char *name, int64_t creator, int64_t start_ms,
                   int64_t end_ms, int64_t cpu_ms, int64_t runq_ms) {
  dbb_thread(&b, utid, upid, tid, name, creator, start_ms * MS, end_ms * MS);
  dbb_thread_cpu(&b, utid, cpu_ms * MS, runq_ms * MS);
}

static void hold(int64_t obj, int64_t utid, int64_t s_ms, int64_t e_ms, int contended) {
  dbb_hold(&b, obj, utid, s_ms * MS, e_ms * MS, contended, 0);
}

static void flow(int kind, int64_t fu, int64_t f_ms, int64_t tu, int64_t t_ms, int64_t obj) {
  dbb_flow(&b, kind, fu, f_ms * MS, tu, t_ms * MS, obj);
}

/* a frame of the program and a stack of it under main (frame 99) */
static void frame_stack(int64_t id, const char *sym, const char *file, int line) {
  dbb_frame(&b, id, 0x555555554000LL + 0x1000 + id * 16, 1, 0x1000 + id * 16, sym, file, line);
  dbb_stack(&b, id, id, 99);
}

static void counts(int64_t obj, int64_t utid, int64_t s_ms, int64_t e_ms, int64_t acq, int64_t fail, int64_t samples,
                   int64_t sample_ms, int64_t sample_max_ms) {
  dbb_counts(&b, obj, utid, s_ms * MS, e_ms * MS, acq, fail, samples, sample_ms * MS, sample_max_ms * MS);
}

int main(int argc, char **argv) {
  int incomplete = argc == 3 && !strcmp(argv[2], "--incomplete");
  int contended = argc == 3 && !strcmp(argv[2], "--contended");
  if (argc < 2 || (argc == 3 && !incomplete && !contended) || argc > 3) {
    fprintf(stderr, "usage: report-mkdb OUT.db [--incomplete | --contended]\n");
    return 2;
  }
  dbb_create(&b, argv[1], "report-mkdb");
  dbb_process(&b, 1, 4242, 0, 1000 * MS, "./pool --threads 3", "/src/pool");
  dbb_process(&b, 2, 4243, 850 * MS, 990 * MS, "gzip -c", "/usr/bin/gzip");
  dbb_process_parent(&b, 2, 1);
  dbb_exec(&b,
           "INSERT INTO module(module_id, upid, path, build_id, bias, start, end) "
           "VALUES (1, 1, '/src/pool', 'abcd', %lld, %lld, %lld)",
           0x555555554000LL, 0x555555554000LL, 0x555555560000LL);

  thread(1, 1, 4242, "pool", -1, 0, 1000, 158, 2);
  thread(2, 1, 4243, "worker-1", 1, 100, 600, 330, 20);
  thread(3, 1, 4244, "worker-2", 1, 102, 760, 570, 10);
  thread(4, 1, 4245, "worker-3", 1, 104, 800, 600, 45);
  thread(5, 2, 4250, "gzip", -1, 850, 990, 135, 5);

  frame_stack(10, "worker", "/src/pool.c", 88);
  frame_stack(11, "drain", "/src/pool.c", 130);
  frame_stack(12, "worker", "/src/pool.c", 95);
  frame_stack(13, "wait_for_work", "/src/pool.c", 60);
  frame_stack(14, "lookup", "/src/table.c", 55);
  frame_stack(15, "pool_init", "/src/pool.c", 40);
  frame_stack(16, "setup_barrier", "/src/pool.c", 30);
  dbb_frame(&b, 99, 0x555555554000LL + 16, 1, 16, "main", "/src/pool.c", 200);

  const int R = WEFT_ST_RUNNING;
  dbb_object(&b, 1, 1, WEFT_KIND_MUTEX, 0x555555558040LL, "queue_lock", 15, 10, 9);
  dbb_object(&b, 2, 1, WEFT_KIND_BARRIER, 0x555555558080LL, NULL, 16, 12, 0);
  dbb_object(&b, 3, 1, WEFT_KIND_COND, 0x5555555580c0LL, "work_ready", -1, 13, 0);
  dbb_object(&b, 4, 1, WEFT_KIND_RWLOCK, 0x7ffff0000010LL, NULL, -1, 14, 2);
  dbb_object(&b, 20, 1, WEFT_KIND_JOIN, 0x7ffff7a00640LL, NULL, -1, -1, 0);
  dbb_object(&b, 21, 1, WEFT_KIND_JOIN, 0x7ffff7200640LL, NULL, -1, -1, 0);
  dbb_object(&b, 22, 1, WEFT_KIND_JOIN, 0x7ffff6a00640LL, NULL, -1, -1, 0);
  dbb_object(&b, 30, 1, WEFT_KIND_CHILD, 4243, NULL, -1, -1, 0);
  dbb_exec(&b, "UPDATE sync_object SET contended = 3 WHERE object_id = 1");
  dbb_exec(&b, "UPDATE sync_object SET contended = 1 WHERE object_id = 4");

  const DbbSeg main_s[] = {{100, R, -1, -1},
                           {500, WEFT_ST_JOIN_WAIT, 20, -1},
                           {160, WEFT_ST_JOIN_WAIT, 21, -1},
                           {40, WEFT_ST_JOIN_WAIT, 22, -1},
                           {50, R, -1, -1},
                           {140, WEFT_ST_CHILD_WAIT, 30, -1},
                           {10, R, -1, -1}};
  const DbbSeg w1[] = {
      {80, R, -1, -1},  {20, WEFT_ST_LOCK_WAIT, 1, 10}, {90, R, -1, -1}, {60, WEFT_ST_BARRIER_WAIT, 2, 12},
      {100, R, -1, -1}, {30, WEFT_ST_LOCK_WAIT, 1, 11}, {70, R, -1, -1}, {40, WEFT_ST_COND_WAIT, 3, 13},
      {10, R, -1, -1}};
  const DbbSeg w2[] = {
      {98, R, -1, -1},  {10, WEFT_ST_LOCK_WAIT, 1, 10},   {110, R, -1, -1}, {30, WEFT_ST_BARRIER_WAIT, 2, 12},
      {200, R, -1, -1}, {40, WEFT_ST_RWLOCK_WAIT, 4, 14}, {170, R, -1, -1}};
  const DbbSeg w3[] = {{245, R, -1, -1},
                       {1, WEFT_ST_BARRIER_WAIT, 2, 12},
                       {350, R, -1, -1},
                       {50, WEFT_ST_IO_WAIT, -1, -1},
                       {50, R, -1, -1}};
  const DbbSeg gz[] = {{140, R, -1, -1}};
  dbb_states(&b, 1, 0, MS, main_s, sizeof main_s / sizeof main_s[0]);
  dbb_states(&b, 2, 100 * MS, MS, w1, sizeof w1 / sizeof w1[0]);
  dbb_states(&b, 3, 102 * MS, MS, w2, sizeof w2 / sizeof w2[0]);
  dbb_states(&b, 4, 104 * MS, MS, w3, sizeof w3 / sizeof w3[0]);
  dbb_states(&b, 5, 850 * MS, MS, gz, sizeof gz / sizeof gz[0]);
  dbb_exec(&b, "UPDATE thread_state SET waker_utid = 4 WHERE state = %d AND utid IN (2, 3)", WEFT_ST_BARRIER_WAIT);

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
    dbb_meta(&b, "holds", "contended");
    dbb_meta(&b, "hold_sample", "64");
    dbb_meta(&b, "counts_flush_ms", "50");
    dbb_exec(&b,
             "UPDATE sync_object SET failed_tries = 2, hold_samples = 2, hold_sample_ns = %lld, "
             "hold_sample_max_ns = %lld WHERE object_id = 1",
             8 * MS, 5 * MS);
  }
  dbb_hold(&b, 4, 4, 540 * MS, 590 * MS, 0, 0);
  dbb_hold(&b, 4, 3, 590 * MS, 592 * MS, 1, 1);

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

  dbb_sched(&b, 4, 450 * MS, 330 * MS, 25 * MS, 40);
  dbb_mark(&b, 1, 0, 100 * MS, 1, "setup");
  dbb_mark(&b, 1, 100 * MS, 700 * MS, 2, "compute");

  dbb_meta(&b, "weft_version", "0.1.0");
  dbb_meta(&b, "schema_version", "8");
  dbb_meta(&b, "origin_ns", "5000000000000");
  dbb_meta_int(&b, "end_ns", 1000 * MS);
  dbb_meta(&b, "command", "./pool --threads 3");
  dbb_meta(&b, "clock", "tsc");
  dbb_meta(&b, "ncpus", "4");
  dbb_meta(&b, "lost_events", "0");
  dbb_finish(&b, !incomplete);
  return 0;
}
