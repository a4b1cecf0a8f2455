/* weft-dbbuild.h - recording databases built by hand, for the unit and report tests.
 * SPDX-License-Identifier: MIT
 *
 * One builder for every test that needs a database with known numbers
 * (tests/unit/test-metrics.c, test-python.c, tests/report/mkdb.c): rows go
 * in as docs/schema.md says the importer writes them, inside one
 * transaction; lock holds go through a temporary table that dbb_finish()
 * packs into hold_block as the importer does. Frames and stacks belong to
 * process 1. An id argument of -1 stores NULL.
 *
 * Any failure ends the program: a TAP test (prog NULL) prints "Bail out!
 * ..." on stdout and exits 99; a tool prints "prog: ..." on stderr and
 * exits 1.
 */
#ifndef WEFT_DBBUILD_H
#define WEFT_DBBUILD_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  sqlite3 *db;
  const char *prog; /* NULL: a TAP test */
  char path[512];
} WeftDbBuild;

/* A thread_state row of dbb_states: dur in the call's unit. */
typedef struct {
  int64_t dur;
  int state;
  int64_t obj, stack;
} DbbSeg;

/* Create (or overwrite) the database at path and begin its transaction. */
void dbb_create(WeftDbBuild *b, const char *path, const char *prog);
/* Run SQL formatted by sqlite3_vmprintf (%Q quotes a string or NULL; no
 * printf format attribute: the compiler does not know %Q). */
void dbb_exec(WeftDbBuild *b, const char *fmt, ...);
/* Stop with a message, as a failed statement does. */
void dbb_fail(const WeftDbBuild *b, const char *what, const char *msg) __attribute__((noreturn));

/* A process image 0 that ended with exit(0) (exe NULL: the command line). */
void dbb_process(WeftDbBuild *b, int64_t upid, int64_t pid, int64_t start_ns, int64_t end_ns, const char *cmdline,
                 const char *exe);
/* upid was forked or spawned by parent. */
void dbb_process_parent(WeftDbBuild *b, int64_t upid, int64_t parent);
/* The parent's recorded call that made upid: "fork", "vfork", "spawn" (NULL: none). */
void dbb_process_started_by(WeftDbBuild *b, int64_t upid, const char *how);
/* upid is image `image` of its pid, which from exec'd into (from ends with 'exec'). */
void dbb_process_exec(WeftDbBuild *b, int64_t upid, int64_t from, int64_t image);
/* upid is rank `rank` of MPI_COMM_WORLD. */
void dbb_process_mpi_rank(WeftDbBuild *b, int64_t upid, int64_t rank);
/* A thread ending with 'return'; creator -1: a main thread (is_main = 1). */
void dbb_thread(WeftDbBuild *b, int64_t utid, int64_t upid, int64_t tid, const char *name, int64_t creator,
                int64_t start_ns, int64_t end_ns);
/* The thread's last schedstat reading (thread.cpu_ns, runq_ns). */
void dbb_thread_cpu(WeftDbBuild *b, int64_t utid, int64_t cpu_ns, int64_t runq_ns);
/* A thread_state row [start, end). */
void dbb_state(WeftDbBuild *b, int64_t utid, int64_t start_ns, int64_t end_ns, int state, int64_t obj, int64_t stack);
/* Who held what the thread_state row of utid at start_ns waited for when
 * the wait began (blocker) and who ended it (waker); -1: not known. */
void dbb_state_link(WeftDbBuild *b, int64_t utid, int64_t start_ns, int64_t blocker, int64_t waker);
/* Contiguous rows from start_ns, each seg's dur times unit_ns; returns their end. */
int64_t dbb_states(WeftDbBuild *b, int64_t utid, int64_t start_ns, int64_t unit_ns, const DbbSeg *segs, size_t n);
void dbb_object(WeftDbBuild *b, int64_t id, int64_t upid, int kind, int64_t addr, const char *name, int64_t init_stack,
                int64_t first_stack, int64_t acquisitions);
/* A lock hold [start, end) (packed into hold_block by dbb_finish). */
void dbb_hold(WeftDbBuild *b, int64_t obj, int64_t utid, int64_t start_ns, int64_t end_ns, int contended, int shared);
/* A hold acquired untimed and waited for afterwards: stored from its first waiter's arrival. */
void dbb_hold_estimated(WeftDbBuild *b, int64_t obj, int64_t utid, int64_t start_ns, int64_t end_ns);
void dbb_flow(WeftDbBuild *b, int kind, int64_t from_utid, int64_t from_ns, int64_t to_utid, int64_t to_ns,
              int64_t obj);
/* A frame of process 1 (module -1: none, and no rel_pc). */
void dbb_frame(WeftDbBuild *b, int64_t id, int64_t ip, int64_t module, int64_t rel_pc, const char *symbol,
               const char *file, int line);
/* A stack of one frame (f1 -1) or two, innermost first. */
void dbb_stack(WeftDbBuild *b, int64_t id, int64_t f0, int64_t f1);
/* A stack of n frames, innermost first. */
void dbb_stack_frames(WeftDbBuild *b, int64_t id, const int64_t *frames, int n);
/* A lock_count row: a thread's counts between two COUNTS records. */
void dbb_counts(WeftDbBuild *b, int64_t obj, int64_t utid, int64_t start_ns, int64_t end_ns, int64_t acq,
                int64_t failed, int64_t samples, int64_t sample_ns, int64_t sample_max_ns);
void dbb_sched(WeftDbBuild *b, int64_t utid, int64_t ts_ns, int64_t cpu_ns, int64_t runq_ns, int64_t slices);
void dbb_mark(WeftDbBuild *b, int64_t utid, int64_t start_ns, int64_t dur_ns, int64_t id, const char *label);
void dbb_meta(WeftDbBuild *b, const char *key, const char *value);
void dbb_meta_int(WeftDbBuild *b, const char *key, int64_t value);

/* Pack the holds, mark the import complete (unless not), commit and close. */
void dbb_finish(WeftDbBuild *b, int complete);

/* The meta every recording has (origin_ns, end_ns, ncpus, command), then
 * dbb_finish(b, 1), and the database reopened read-only as weft report
 * opens it (weft_db_open). */
sqlite3 *dbb_finish_reopen(WeftDbBuild *b, int64_t end_ns, int ncpus, const char *command);

/* A TAP test's databases: t1.db, t2.db, ... in a fresh directory under
 * $TMPDIR, removed at the end. */
typedef struct {
  char path[256];
  int n;
} WeftDbDir;

void dbb_dir_init(WeftDbDir *d, const char *test);
/* Create the next database of d in b (a TAP test's builder). */
void dbb_dir_next(WeftDbDir *d, WeftDbBuild *b);
void dbb_dir_remove(WeftDbDir *d);

#endif /* WEFT_DBBUILD_H */
