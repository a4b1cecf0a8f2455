/* weft-dbbuild.c - recording databases built by hand (see weft-dbbuild.h).
 * SPDX-License-Identifier: MIT
 *
 * The one place the tests write rows of the schema (analyzer/store/schema.sql)
 * themselves: a change of a table changes this file, not every test.
 */
#include "weft-dbbuild.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "holds.h"
#include "weft-db.h"

void dbb_fail(const WeftDbBuild *b, const char *what, const char *msg) {
  if (!b->prog) {
    printf("Bail out! %s%s%s\n", what, msg ? ": " : "", msg ? msg : "");
    exit(99);
  }
  fprintf(stderr, "%s: %s%s%s\n", b->prog, what, msg ? ": " : "", msg ? msg : "");
  exit(1);
}

static void vexec(WeftDbBuild *b, const char *fmt, va_list ap) {
  char *sql = sqlite3_vmprintf(fmt, ap);
  char *msg = NULL;
  if (sqlite3_exec(b->db, sql, NULL, NULL, &msg) != SQLITE_OK) dbb_fail(b, sql, msg);
  sqlite3_free(sql);
}

void dbb_exec(WeftDbBuild *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vexec(b, fmt, ap);
  va_end(ap);
}

void dbb_create(WeftDbBuild *b, const char *path, const char *prog) {
  char err[512];
  b->prog = prog;
  snprintf(b->path, sizeof b->path, "%s", path);
  b->db = weft_db_create(path, 1, err, sizeof err);
  if (!b->db) dbb_fail(b, err, NULL);
  dbb_exec(b, "BEGIN");
  /* the importer's temporary table of holds, packed into hold_block at the end */
  dbb_exec(b, "CREATE TEMP TABLE lock_hold (object_id INTEGER, utid INTEGER, start_ns INTEGER, dur_ns INTEGER, "
              "contended INTEGER, shared INTEGER DEFAULT 0, estimated INTEGER DEFAULT 0)");
}

/* An id or NULL (negative), for %s. */
static const char *opt(char *buf, size_t len, int64_t v) {
  if (v < 0) return "NULL";
  snprintf(buf, len, "%lld", (long long)v);
  return buf;
}

void dbb_process(WeftDbBuild *b, int64_t upid, int64_t pid, int64_t start_ns, int64_t end_ns, const char *cmdline,
                 const char *exe) {
  char file[64];
  snprintf(file, sizeof file, "%lld.0.wtrace", (long long)pid);
  dbb_exec(b,
           "INSERT INTO process(upid, pid, image, parent_upid, cmdline, exe, start_ns, end_ns, end_how, exit_status, "
           "file) VALUES (%lld, %lld, 0, NULL, %Q, %Q, %lld, %lld, 'exit', 0, %Q)",
           (long long)upid, (long long)pid, cmdline, exe ? exe : cmdline, (long long)start_ns, (long long)end_ns, file);
}

void dbb_process_parent(WeftDbBuild *b, int64_t upid, int64_t parent) {
  dbb_exec(b, "UPDATE process SET parent_upid = %lld WHERE upid = %lld", (long long)parent, (long long)upid);
}

void dbb_process_started_by(WeftDbBuild *b, int64_t upid, const char *how) {
  dbb_exec(b, "UPDATE process SET started_by = %Q WHERE upid = %lld", how, (long long)upid);
}

void dbb_process_exec(WeftDbBuild *b, int64_t upid, int64_t from, int64_t image) {
  dbb_exec(b, "UPDATE process SET image = %lld, exec_from_upid = %lld WHERE upid = %lld", (long long)image,
           (long long)from, (long long)upid);
  dbb_exec(b, "UPDATE process SET end_how = 'exec' WHERE upid = %lld", (long long)from);
}

void dbb_process_mpi_rank(WeftDbBuild *b, int64_t upid, int64_t rank) {
  dbb_exec(b, "UPDATE process SET mpi_rank = %lld WHERE upid = %lld", (long long)rank, (long long)upid);
}

void dbb_thread(WeftDbBuild *b, int64_t utid, int64_t upid, int64_t tid, const char *name, int64_t creator,
                int64_t start_ns, int64_t end_ns) {
  char c[24];
  dbb_exec(b,
           "INSERT INTO thread(utid, upid, tid, name, is_main, creator_utid, start_ns, end_ns, end_how) "
           "VALUES (%lld, %lld, %lld, %Q, %d, %s, %lld, %lld, 'return')",
           (long long)utid, (long long)upid, (long long)tid, name, creator < 0, opt(c, sizeof c, creator),
           (long long)start_ns, (long long)end_ns);
}

void dbb_thread_cpu(WeftDbBuild *b, int64_t utid, int64_t cpu_ns, int64_t runq_ns) {
  dbb_exec(b, "UPDATE thread SET cpu_ns = %lld, runq_ns = %lld WHERE utid = %lld", (long long)cpu_ns,
           (long long)runq_ns, (long long)utid);
}

void dbb_state(WeftDbBuild *b, int64_t utid, int64_t start_ns, int64_t end_ns, int state, int64_t obj, int64_t stack) {
  char o[24], s[24];
  dbb_exec(b,
           "INSERT INTO thread_state(utid, start_ns, dur_ns, state, object_id, stack_id) "
           "VALUES (%lld, %lld, %lld, %d, %s, %s)",
           (long long)utid, (long long)start_ns, (long long)(end_ns - start_ns), state, opt(o, sizeof o, obj),
           opt(s, sizeof s, stack));
}

void dbb_state_link(WeftDbBuild *b, int64_t utid, int64_t start_ns, int64_t blocker, int64_t waker) {
  char bl[24], wk[24];
  dbb_exec(b, "UPDATE thread_state SET blocker_utid = %s, waker_utid = %s WHERE utid = %lld AND start_ns = %lld",
           opt(bl, sizeof bl, blocker), opt(wk, sizeof wk, waker), (long long)utid, (long long)start_ns);
}

int64_t dbb_states(WeftDbBuild *b, int64_t utid, int64_t start_ns, int64_t unit_ns, const DbbSeg *segs, size_t n) {
  int64_t t = start_ns;
  for (size_t i = 0; i < n; i++) {
    dbb_state(b, utid, t, t + segs[i].dur * unit_ns, segs[i].state, segs[i].obj, segs[i].stack);
    t += segs[i].dur * unit_ns;
  }
  return t;
}

void dbb_object(WeftDbBuild *b, int64_t id, int64_t upid, int kind, int64_t addr, const char *name, int64_t init_stack,
                int64_t first_stack, int64_t acquisitions) {
  char is[24], fs[24];
  dbb_exec(b,
           "INSERT INTO sync_object(object_id, upid, addr, kind, name, init_stack_id, first_stack_id, acquisitions) "
           "VALUES (%lld, %lld, %lld, %d, %Q, %s, %s, %lld)",
           (long long)id, (long long)upid, (long long)addr, kind, name, opt(is, sizeof is, init_stack),
           opt(fs, sizeof fs, first_stack), (long long)acquisitions);
}

void dbb_hold(WeftDbBuild *b, int64_t obj, int64_t utid, int64_t start_ns, int64_t end_ns, int contended, int shared) {
  dbb_exec(b,
           "INSERT INTO lock_hold(object_id, utid, start_ns, dur_ns, contended, shared) "
           "VALUES (%lld, %lld, %lld, %lld, %d, %d)",
           (long long)obj, (long long)utid, (long long)start_ns, (long long)(end_ns - start_ns), contended, shared);
}

void dbb_hold_estimated(WeftDbBuild *b, int64_t obj, int64_t utid, int64_t start_ns, int64_t end_ns) {
  dbb_exec(b,
           "INSERT INTO lock_hold(object_id, utid, start_ns, dur_ns, contended, estimated) "
           "VALUES (%lld, %lld, %lld, %lld, 0, 1)",
           (long long)obj, (long long)utid, (long long)start_ns, (long long)(end_ns - start_ns));
}

void dbb_flow(WeftDbBuild *b, int kind, int64_t from_utid, int64_t from_ns, int64_t to_utid, int64_t to_ns,
              int64_t obj) {
  char o[24];
  dbb_exec(b,
           "INSERT INTO flow(kind, from_utid, from_ns, to_utid, to_ns, object_id) "
           "VALUES (%d, %lld, %lld, %lld, %lld, %s)",
           kind, (long long)from_utid, (long long)from_ns, (long long)to_utid, (long long)to_ns, opt(o, sizeof o, obj));
}

void dbb_frame(WeftDbBuild *b, int64_t id, int64_t ip, int64_t module, int64_t rel_pc, const char *symbol,
               const char *file, int line) {
  char m[24], r[24];
  dbb_exec(b,
           "INSERT INTO frame(frame_id, upid, ip, module_id, rel_pc, symbol, file, line) "
           "VALUES (%lld, 1, %lld, %s, %s, %Q, %Q, %d)",
           (long long)id, (long long)ip, opt(m, sizeof m, module), opt(r, sizeof r, module < 0 ? -1 : rel_pc), symbol,
           file, line);
}

void dbb_stack(WeftDbBuild *b, int64_t id, int64_t f0, int64_t f1) {
  dbb_exec(b, "INSERT INTO stack(stack_id, upid, depth) VALUES (%lld, 1, %d)", (long long)id, f1 < 0 ? 1 : 2);
  dbb_exec(b, "INSERT INTO stack_frame(stack_id, depth, frame_id) VALUES (%lld, 0, %lld)", (long long)id,
           (long long)f0);
  if (f1 >= 0)
    dbb_exec(b, "INSERT INTO stack_frame(stack_id, depth, frame_id) VALUES (%lld, 1, %lld)", (long long)id,
             (long long)f1);
}

void dbb_stack_frames(WeftDbBuild *b, int64_t id, const int64_t *frames, int n) {
  dbb_exec(b, "INSERT INTO stack(stack_id, upid, depth) VALUES (%lld, 1, %d)", (long long)id, n);
  for (int i = 0; i < n; i++)
    dbb_exec(b, "INSERT INTO stack_frame(stack_id, depth, frame_id) VALUES (%lld, %d, %lld)", (long long)id, i,
             (long long)frames[i]);
}

void dbb_counts(WeftDbBuild *b, int64_t obj, int64_t utid, int64_t start_ns, int64_t end_ns, int64_t acq,
                int64_t failed, int64_t samples, int64_t sample_ns, int64_t sample_max_ns) {
  dbb_exec(b, "INSERT INTO lock_count VALUES (%lld, %lld, %lld, %lld, %lld, %lld, 0, %lld, %lld, %lld)", (long long)obj,
           (long long)utid, (long long)start_ns, (long long)end_ns, (long long)acq, (long long)failed,
           (long long)samples, (long long)sample_ns, (long long)sample_max_ns);
}

void dbb_sched(WeftDbBuild *b, int64_t utid, int64_t ts_ns, int64_t cpu_ns, int64_t runq_ns, int64_t slices) {
  dbb_exec(b, "INSERT INTO sched_sample(utid, ts_ns, cpu_ns, runq_ns, slices) VALUES (%lld, %lld, %lld, %lld, %lld)",
           (long long)utid, (long long)ts_ns, (long long)cpu_ns, (long long)runq_ns, (long long)slices);
}

void dbb_mark(WeftDbBuild *b, int64_t utid, int64_t start_ns, int64_t dur_ns, int64_t id, const char *label) {
  dbb_exec(b, "INSERT INTO mark(utid, start_ns, dur_ns, id, label) VALUES (%lld, %lld, %lld, %lld, %Q)",
           (long long)utid, (long long)start_ns, (long long)dur_ns, (long long)id, label);
}

void dbb_meta(WeftDbBuild *b, const char *key, const char *value) {
  dbb_exec(b, "INSERT OR REPLACE INTO meta VALUES (%Q, %Q)", key, value);
}

void dbb_meta_int(WeftDbBuild *b, const char *key, int64_t value) {
  char v[24];
  snprintf(v, sizeof v, "%lld", (long long)value);
  dbb_meta(b, key, v);
}

/* A fixture's objects took at least as many acquisitions as they have holds
 * (a recording cannot hold a lock it did not take): an object given fewer
 * gets its holds' number, as an import would count them. */
static void check_acquisitions(WeftDbBuild *b) {
  dbb_exec(b, "UPDATE sync_object SET acquisitions = (SELECT COUNT(*) FROM lock_hold h WHERE h.object_id = "
              "sync_object.object_id) WHERE acquisitions < (SELECT COUNT(*) FROM lock_hold h WHERE h.object_id = "
              "sync_object.object_id)");
}

void dbb_finish(WeftDbBuild *b, int complete) {
  char err[512];
  check_acquisitions(b);
  if (weft_holds_pack_table(b->db, "lock_hold", err, sizeof err) != 0) dbb_fail(b, err, NULL);
  if (complete) dbb_meta(b, "import_complete", "1");
  dbb_exec(b, "COMMIT");
  if (sqlite3_close(b->db) != SQLITE_OK) dbb_fail(b, b->path, "cannot close");
  b->db = NULL;
}

sqlite3 *dbb_finish_reopen(WeftDbBuild *b, int64_t end_ns, int ncpus, const char *command) {
  dbb_meta(b, "origin_ns", "1000000000000");
  dbb_meta_int(b, "end_ns", end_ns);
  dbb_meta_int(b, "ncpus", ncpus);
  dbb_meta(b, "command", command);
  dbb_finish(b, 1);
  char err[512];
  sqlite3 *r = weft_db_open(b->path, 0, err, sizeof err);
  if (!r) dbb_fail(b, err, NULL);
  return r;
}

void dbb_dir_init(WeftDbDir *d, const char *test) {
  const char *t = getenv("TMPDIR");
  snprintf(d->path, sizeof d->path, "%s/%s.XXXXXX", t && *t ? t : "/tmp", test);
  d->n = 0;
  if (!mkdtemp(d->path)) {
    printf("Bail out! mkdtemp %s\n", d->path);
    exit(99);
  }
}

void dbb_dir_next(WeftDbDir *d, WeftDbBuild *b) {
  char path[320];
  snprintf(path, sizeof path, "%s/t%d.db", d->path, ++d->n);
  dbb_create(b, path, NULL);
}

void dbb_dir_remove(WeftDbDir *d) {
  for (int i = 1; i <= d->n; i++) {
    char path[320];
    snprintf(path, sizeof path, "%s/t%d.db", d->path, i);
    unlink(path);
  }
  rmdir(d->path);
}
