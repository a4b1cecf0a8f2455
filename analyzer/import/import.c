/* import.c - a recording directory into a recording database: the driver.
 * SPDX-License-Identifier: MIT
 *
 * Each trace file (one process image) is read twice:
 *   pass 1 learns its threads (tid reuse: a new THREAD_START for a tid starts
 *          a new thread), objects, per-object timelines of releases, signals
 *          and barrier arrivals, stacks, modules, forks, execs, exits
 *          (pass1.c, after pass 0 found when objects were destroyed:
 *          a walk for the DESTROY records, skipped when the open of the
 *          trace met none);
 *   pass 2 runs one state machine per thread and writes thread_state,
 *          lock_hold and the flows that need the timelines of pass 1
 *          (who released the lock a waiter got, who signalled it, ...;
 *          pass2.c).
 * Links between processes (fork, exec, wait) and the process rows come
 * last, then level-of-detail summaries and symbols. Everything runs in one
 * transaction; on failure the database file is removed.
 *
 * This file owns the order of it all: the Imp of an import (its tables,
 * statements, batched inserts), one file from pass 0 to its rows, errors,
 * warnings, progress, and the meta rows.
 */
#include "config.h"

#include "weft-import.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "holds.h"
#include "import-private.h"

/* ---- errors, warnings, progress ---- */
int imp_fail(Imp *im, const char *fmt, ...) {
  if (im->sql.failed) return -1; /* the first error is the one to tell */
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  weft_sql_fail(&im->sql, "%s", msg);
  g_free(msg);
  return -1;
}

void imp_warn(Imp *im, const char *fmt, ...) {
  im->stats->warnings++;
  if (!im->warn) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("weft: ", im->warn);
  vfprintf(im->warn, fmt, ap);
  fputc('\n', im->warn);
  va_end(ap);
}

static double elapsed(Imp *im) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - im->t0.tv_sec) + (double)(t.tv_nsec - im->t0.tv_nsec) / 1e9;
}

void imp_progress(Imp *im, const char *what) {
  if (!im->progress) return;
  double e = elapsed(im);
  if (e < im->progress_after) return;
  /* every record is read twice (two passes) */
  double frac = im->records_total ? (double)im->records_done / (2.0 * (double)im->records_total) : 0;
  if (frac > 1) frac = 1;
  fprintf(stderr, "\rweft: importing: %5.1f%% of %" PRIu64 " records, %s   ", 100.0 * frac, im->records_total, what);
  im->progress_shown = 1;
}

/* ---- statements ---- */
int imp_step(Imp *im, sqlite3_stmt *q) {
  weft_sql_step(&im->sql, q);
  sqlite3_reset(q); /* bindings stay: every caller binds every column it uses, NULLs too */
  return im->sql.failed ? -1 : 0;
}

void imp_bind_opt(sqlite3_stmt *q, int i, int64_t v) {
  if (v > 0)
    sqlite3_bind_int64(q, i, v);
  else
    sqlite3_bind_null(q, i);
}

static void batch_prepare(Imp *im, Batch *b, const char *table, int ncols) {
  GString *one = g_string_new(NULL), *many = g_string_new(NULL);
  g_string_printf(one, "INSERT INTO %s VALUES (", table);
  for (int c = 0; c < ncols; c++) g_string_append(one, c ? ",?" : "?");
  g_string_append(one, ")");
  g_string_printf(many, "%s", one->str);
  for (int r = 1; r < BATCH_ROWS; r++) {
    g_string_append_c(many, ',');
    g_string_append(many, strchr(one->str, '('));
  }
  b->ncols = ncols;
  b->n = 0;
  b->one = weft_sql_prepare(&im->sql, one->str);
  b->many = weft_sql_prepare(&im->sql, many->str);
  g_string_free(one, TRUE);
  g_string_free(many, TRUE);
}

static void batch_bind(sqlite3_stmt *q, const Batch *b, int row, int first_param) {
  for (int c = 0; c < b->ncols; c++) {
    int i = row * b->ncols + c;
    if (b->null[i])
      sqlite3_bind_null(q, first_param + c);
    else
      sqlite3_bind_int64(q, first_param + c, b->v[i]);
  }
}

void imp_batch_flush(Imp *im, Batch *b) {
  if (b->n == BATCH_ROWS) {
    for (int r = 0; r < BATCH_ROWS; r++) batch_bind(b->many, b, r, 1 + r * b->ncols);
    imp_step(im, b->many);
  } else {
    for (int r = 0; r < b->n; r++) {
      batch_bind(b->one, b, r, 1);
      imp_step(im, b->one);
    }
  }
  b->n = 0;
}

void imp_batch_add(Imp *im, Batch *b, const int64_t *vals, unsigned nullable) {
  for (int c = 0; c < b->ncols; c++) {
    b->v[b->n * b->ncols + c] = vals[c];
    b->null[b->n * b->ncols + c] = (nullable >> c & 1) && vals[c] <= 0;
  }
  if (++b->n == BATCH_ROWS) imp_batch_flush(im, b);
}

static void batch_free(Batch *b) {
  sqlite3_finalize(b->one);
  sqlite3_finalize(b->many);
  b->one = b->many = NULL;
}

/* The statements of an import, each prepared once (in Imp at off). */
static const struct {
  size_t off;
  const char *sql;
} statements[] = {
    {offsetof(Imp, ins_block), WEFT_HOLD_BLOCK_INSERT},
    {offsetof(Imp, ins_thread), "INSERT INTO thread VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
    {offsetof(Imp, ins_obj), "INSERT INTO sync_object (object_id, upid, addr, kind, init_stack_id, first_stack_id, "
                             "first_ns, acquisitions, contended, wait_ns, hold_ns, name, failed_tries, releases, "
                             "hold_samples, hold_sample_ns, hold_sample_max_ns, destroyed_ns, runtime) "
                             "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
    /* a process-shared object's part in a later process: added to its row */
    {offsetof(Imp, upd_obj), "UPDATE sync_object SET acquisitions = acquisitions + ?2, contended = contended + ?3, "
                             "wait_ns = wait_ns + ?4, hold_ns = hold_ns + ?5, failed_tries = failed_tries + ?6, "
                             "releases = releases + ?7, hold_samples = hold_samples + ?8, "
                             "hold_sample_ns = hold_sample_ns + ?9, hold_sample_max_ns = max(hold_sample_max_ns, ?10), "
                             "first_ns = min(first_ns, ?11), first_stack_id = coalesce(first_stack_id, ?12), "
                             "init_stack_id = coalesce(init_stack_id, ?13), name = coalesce(name, ?14) "
                             "WHERE object_id = ?1"},
    {offsetof(Imp, ins_stack), "INSERT INTO stack VALUES (?,?,?)"},
    {offsetof(Imp, ins_sf), "INSERT INTO stack_frame VALUES (?,?,?)"},
    {offsetof(Imp, ins_frame), "INSERT INTO frame (frame_id, upid, ip, module_id, rel_pc) VALUES (?,?,?,?,?)"},
    {offsetof(Imp, find_frame), "SELECT frame_id FROM frame WHERE upid = ? AND ip = ?"},
    {offsetof(Imp, ins_pyframe), "INSERT INTO frame VALUES (?,?,?,NULL,NULL,?,?,?)"},
    {offsetof(Imp, ins_module), "INSERT INTO module VALUES (?,?,?,?,?,?,?)"},
    {offsetof(Imp, ins_proc), "INSERT INTO process VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"},
    {offsetof(Imp, ins_sched), "INSERT INTO sched_sample VALUES (?,?,?,?,?)"},
    {offsetof(Imp, ins_mark), "INSERT INTO mark VALUES (?,?,?,?,?)"},
};

static sqlite3_stmt **statement(Imp *im, size_t i) { return (sqlite3_stmt **)(void *)((char *)im + statements[i].off); }

/* A statement that does not prepare is the fault of the database file: its
 * error names it. */
static int statements_prepare(Imp *im, const char *db_path) {
  im->sql.prefix = db_path;
  batch_prepare(im, &im->states, "thread_state", 9);
  batch_prepare(im, &im->summaries, "state_summary", 7);
  batch_prepare(im, &im->flows, "flow", 7);
  batch_prepare(im, &im->count_rows, "lock_count", 10);
  batch_prepare(im, &im->unlock_rows, "unlock_cost", 4);
  batch_prepare(im, &im->sock_rows, "socket_transfer", 5);
  for (size_t i = 0; i < G_N_ELEMENTS(statements); i++)
    *statement(im, i) = weft_sql_prepare(&im->sql, statements[i].sql);
  im->sql.prefix = "database";
  return im->sql.failed ? -1 : 0;
}

static void statements_free(Imp *im) {
  batch_free(&im->states);
  batch_free(&im->summaries);
  batch_free(&im->flows);
  batch_free(&im->count_rows);
  batch_free(&im->unlock_rows);
  batch_free(&im->sock_rows);
  for (size_t i = 0; i < G_N_ELEMENTS(statements); i++) sqlite3_finalize(*statement(im, i));
}

/* ---- one file ---- */
static Proc *proc_new(Imp *im, WeftTrace *tr) {
  const WeftFileHeader *h = weft_trace_header(tr);
  Proc *p = g_new0(Proc, 1);
  g_ptr_array_add(im->procs, p);
  p->upid = (int64_t)im->procs->len;
  p->pid = h->pid;
  p->ppid = h->ppid;
  p->image = h->image;
  p->session = h->session;
  p->start_ns = rel_ns(im, weft_trace_start_ns(tr));
  p->host = (int64_t)weft_trace_host(tr);
  p->last_ns = p->start_ns;
  p->exec_ns = -1;
  p->mpi_rank = -1;
  p->started_by = -1;
  p->lost = (int64_t)h->lost;
  p->ncpus = h->ncpus;
  p->file = g_strdup(weft_trace_name(tr));
  p->forks = g_array_new(FALSE, FALSE, sizeof(ForkEv));
  p->waits = g_array_new(FALSE, FALSE, sizeof(WaitEv));
  p->counters = (h->features & WEFT_FEAT_COUNTERS) != 0;
  p->mods = g_array_new(FALSE, FALSE, sizeof(ProcMod));
  p->mods_inherited = (h->features & WEFT_FEAT_MODULES_INHERITED) != 0;
  return p;
}

static void proc_free(gpointer data) {
  Proc *p = data;
  g_array_free(p->forks, TRUE);
  g_array_free(p->waits, TRUE);
  proc_mods_free(p);
  g_free(p->cmdline);
  g_free(p->exe);
  g_free(p->file);
  g_free(p);
}

/* how the process ended (after pass 1) */
static void proc_end(Proc *p) {
  if (p->has_exit) {
    p->end_how = p->exit_how == WEFT_PEXIT_EXIT ? "exit" : p->exit_how == WEFT_PEXIT__EXIT ? "_exit" : "return";
    if (p->end_ns < p->last_ns && p->exit_how == WEFT_PEXIT_RETURN) p->end_ns = p->end_ns; /* atexit work after */
  } else if (p->exec_ns >= 0) {
    p->end_how = "exec";
    p->end_ns = p->exec_ns;
  } else {
    p->end_how = "killed";
    p->end_ns = p->last_ns;
  }
  if (p->end_ns < p->last_ns) p->end_ns = p->last_ns;
}

/* The tables of one file, empty. */
static void file_begin(Imp *im, WeftTrace *tr, Proc *p) {
  const WeftFileHeader *h = weft_trace_header(tr);
  im->p = p;
  im->tr = tr;
  im->tick_hint = 0;
  im->v3 = (h->features & WEFT_FEAT_COUNTERS) != 0;
  im->sched_base = (h->features & WEFT_FEAT_SCHED_BASE) != 0;
  im->counts = g_array_new(FALSE, FALSE, sizeof(CountRec));
  im->exec_counts = 0;
  im->thr_by_tid = g_hash_table_new(g_direct_hash, g_direct_equal);
  im->thr_by_self = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
  im->tc_thr = NULL;
  memset(im->ocache, 0, sizeof im->ocache);
  im->thr_first = g_hash_table_new(g_direct_hash, g_direct_equal);
  im->threads = g_ptr_array_new_with_free_func(thr_free);
  im->objs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
  im->destroys = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)g_array_unref);
  im->objlist = g_ptr_array_new_with_free_func(obj_free);
  im->stack_map = g_hash_table_new(g_direct_hash, g_direct_equal);
  im->modules = g_array_new(FALSE, FALSE, sizeof(ModRec));
  im->creates = g_array_new(FALSE, FALSE, sizeof(CreateEv));
  im->scheds = g_array_new(FALSE, FALSE, sizeof(SchedRec));
  im->marks = g_array_new(FALSE, FALSE, sizeof(MarkRec));
  im->names = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
  im->pending_stacks = g_array_new(FALSE, FALSE, sizeof(PendingStack));
}

/* The tables of the file freed, its rows not written dropped. */
static void file_end(Imp *im) {
  g_array_free(im->counts, TRUE);
  im->counts = NULL;
  weft_spill_reset(im->state_spill);
  weft_spill_reset(im->sum_spill);
  holds_discard(im); /* a failed import: its runs are not wanted */
  for (guint i = 0; i < im->pending_stacks->len; i++)
    g_array_free(g_array_index(im->pending_stacks, PendingStack, i).ips, TRUE);
  g_array_free(im->pending_stacks, TRUE);
  im->pending_stacks = NULL;
  pyframes_free(im);
  for (guint j = 0; j < im->marks->len; j++) g_free(g_array_index(im->marks, MarkRec, j).label);
  g_array_free(im->marks, TRUE);
  g_hash_table_destroy(im->names);
  g_array_free(im->scheds, TRUE);
  g_array_free(im->creates, TRUE);
  g_array_free(im->modules, TRUE);
  g_hash_table_destroy(im->stack_map);
  g_hash_table_destroy(im->objs);
  g_hash_table_destroy(im->destroys);
  g_ptr_array_free(im->objlist, TRUE);
  stamps_file_end(im); /* their timelines' blocks and spill */
  barriers_file_end(im);
  wait_starts_file_end(im);
  g_ptr_array_free(im->threads, TRUE);
  g_hash_table_destroy(im->thr_first);
  g_hash_table_destroy(im->thr_by_tid);
  g_hash_table_destroy(im->thr_by_self);
}

/* A scan of tr failed with err. A file cut short at its end (a crash, a full
 * disk) is expected damage: a warning, its records before the cut imported.
 * Corruption (or a read error) fails the import, unless salvaging: then the
 * records before the fault are kept, and meta says so (weft report tells). */
static int scan_fault(Imp *im, WeftTrace *tr, const char *err) {
  if (!weft_trace_bad_at(tr) && weft_trace_cut_at(tr)) {
    imp_warn(im, "%s; the records before the cut are imported", err);
    return 0;
  }
  if (!im->salvage) return imp_fail(im, "%s", err);
  imp_warn(im, "%s; salvaged: the records before it are imported, the rest of the file is not", err);
  im->stats->salvaged++;
  if (!im->salvage_first) im->salvage_first = g_strdup(err);
  return 0;
}

/* Passes 0 and 1, and what they tell once the file is read. */
static int read_file(Imp *im, WeftTrace *tr, Proc *p) {
  char err[512];
  /* pass 0: when objects were destroyed (an address reused later is another object) */
  objs_read_destroys(im, tr);
  int r = weft_trace_scan(tr, imp_pass1, im, err, sizeof err);
  if (r < 0 && !im->sql.failed && scan_fault(im, tr, err) < 0) return -1;
  if (im->sql.failed) return -1;
  im->stats->lost += (uint64_t)p->lost;
  if (weft_trace_cut_at(tr)) im->stats->truncated++; /* the records past the cut are lost, uncounted */
  objs_add_counts(im);
  proc_end(p);
  stacks_write(im, p); /* modules are all known now */
  return 0;
}

/* Pass 2, then every row of the file. */
static int build_file(Imp *im, WeftTrace *tr, Proc *p) {
  char err[512];
  threads_prepare_pass2(im, p);
  if (stamps_settle(im) < 0) return -1;
  if (barriers_settle(im) < 0 || wait_starts_settle(im) < 0) return -1;
  objs_prepare_pass2(im);
  if (!im->no_symbols) gil_detect(im);
  weft_trace_scan(tr, imp_pass2, im, err, sizeof err); /* a fault was met (and judged) in pass 1 */
  if (im->sql.failed) return -1;
  for (guint i = 0; i < im->threads->len; i++) {
    mpi_thread_end(im, im->threads->pdata[i]);
    thread_close(im, p, im->threads->pdata[i]);
    thread_write(im, p, im->threads->pdata[i]);
  }
  states_write(im);
  holds_to_blocks(im);
  imp_batch_flush(im, &im->states);
  imp_batch_flush(im, &im->summaries);
  imp_batch_flush(im, &im->flows);
  imp_batch_flush(im, &im->unlock_rows);
  scheds_write(im);
  marks_write(im, p);
  creates_link(im);
  gil_name(im);
  mpi_name_objects(im);
  objs_write(im);
  counts_write(im);
  im->stats->processes++;
  return 0;
}

static int import_file(Imp *im, WeftTrace *tr) {
  Proc *p = proc_new(im, tr);
  file_begin(im, tr, p);
  if (p->mods_inherited) modules_inherit(im, p);
  int rc = read_file(im, tr, p) == 0 && build_file(im, tr, p) == 0 ? 0 : -1;
  file_end(im);
  return rc;
}

/* ---- the import ---- */
/* A name of the directory the reader skipped (not a regular file). */
static void warn_skipped(const char *msg, void *user) { imp_warn(user, "%s", msg); }

/* "2024-05-01 14:03:22", local time, of a CLOCK_REALTIME ns. */
static const char *fmt_wallclock(uint64_t ns, char *buf, size_t len) {
  time_t sec = (time_t)(ns / 1000000000u);
  struct tm tm;
  if (!localtime_r(&sec, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm)) snprintf(buf, len, "?");
  return buf;
}

/* Runs written into one directory are recordings of their own: say which
 * one is imported, what else is there and how to import it. */
static void note_sessions(Imp *im, const char *dir) {
  const WeftSession *all, *cur = weft_recording_session(im->rec);
  size_t n = weft_recording_sessions(im->rec, &all);
  if (n < 2 || !cur || !im->warn) return;
  char when[32];
  fprintf(im->warn, "weft: %s holds %zu recordings; importing session %016" PRIx64 " (started %s, %zu %s), not:\n", dir,
          n, cur->session, fmt_wallclock(cur->realtime_ns, when, sizeof when), cur->processes,
          cur->processes == 1 ? "process" : "processes");
  for (size_t i = 0; i < n; i++)
    if (&all[i] != cur)
      fprintf(im->warn, "weft:   session %016" PRIx64 " (started %s, %zu %s)\n", all[i].session,
              fmt_wallclock(all[i].realtime_ns, when, sizeof when), all[i].processes,
              all[i].processes == 1 ? "process" : "processes");
  fprintf(im->warn, "weft: to import another one: weft import %s --session ID -o FILE.db\n", dir);
}

/* The reader refuses times far from their file's start; this is the
 * backstop for what the importer derives from them (a process's end): a
 * recording longer than WEFT_SPAN_MAX_NS is a corrupt clock, and a report
 * of it would be silently wrong. */
static int check_span(Imp *im) {
  for (guint i = 0; i < im->procs->len; i++) {
    const Proc *p = im->procs->pdata[i];
    if (p->end_ns < 0 || (uint64_t)p->end_ns > WEFT_SPAN_MAX_NS || p->start_ns < 0)
      return imp_fail(im,
                      "%s: the process's times run from %.0f s to %.0f s after the recording's start "
                      "(a recording spans at most %llu days): a corrupt clock",
                      p->file, (double)p->start_ns / 1e9, (double)p->end_ns / 1e9,
                      (unsigned long long)(WEFT_SPAN_MAX_NS / 86400000000000ull));
  }
  return 0;
}

static int count_cb(const WeftEvent *ev, void *user) {
  (void)ev;
  (*(uint64_t *)user)++;
  return 0;
}

/* The options into im, the recording opened and its records counted (for a
 * percentage, when progress shows). */
static int imp_open(Imp *im, const char *const *dirs, size_t ndirs, const WeftImportOptions *opt,
                    WeftImportStats *stats, FILE *warn, char *err, size_t errlen) {
  const char *dir = dirs[0];
  memset(im, 0, sizeof *im);
  memset(stats, 0, sizeof *stats);
  weft_sql_init(&im->sql, NULL, err, errlen, "database");
  im->stats = stats;
  im->warn = warn;
  im->progress = opt && opt->progress && isatty(STDERR_FILENO); /* a \r line is for a terminal */
  const char *pa = getenv("WEFT_IMPORT_PROGRESS_MS");
  im->progress_after = pa && *pa ? atof(pa) / 1000 : 1.0;
  im->no_symbols = opt && opt->no_symbols;
  im->salvage = opt && opt->salvage;
  /* rows of the external sorts' buffers (tests make them small): from here, where the hosts'
   * alignment is the first to sort */
  const char *ws = getenv("WEFT_IMPORT_WAIT_SPILL");
  im->sort_rows = ws && atoi(ws) > 0 ? (size_t)atoi(ws) : WAIT_SPILL_ROWS;
  clock_gettime(CLOCK_MONOTONIC, &im->t0);

  const WeftRecordingOptions ropt = {.pick_session = opt && opt->pick_session,
                                     .session = opt ? opt->session : 0,
                                     .warn = warn_skipped,
                                     .warn_user = im};
  if (weft_recording_open_dirs(dirs, ndirs, &ropt, &im->rec, err, errlen) != 0) return -1;
  note_sessions(im, dir);
  im->origin = weft_recording_start_ns(im->rec);
  hosts_align(im);
  if (im->progress) /* the total, for a percentage */
    for (size_t i = 0; i < weft_recording_count(im->rec); i++) {
      char e2[256];
      weft_trace_scan(weft_recording_trace(im->rec, i), count_cb, &im->records_total, e2, sizeof e2);
    }
  return 0;
}

void *imp_sort_row(Imp *im, WeftSpill **sp, size_t row, WeftSpillCmp cmp, const char *what) {
  if (im->sql.failed) return NULL;
  if (!*sp && !(*sp = weft_spill_new(row, im->sort_rows, cmp, NULL))) {
    imp_fail(im, "out of memory");
    return NULL;
  }
  void *r = weft_spill_add(*sp);
  if (!r) imp_fail(im, "%s: %s", what, weft_spill_error(*sp));
  return r;
}

/* The tables that outlive a file, and the statements. */
static int imp_begin(Imp *im, const char *db_path) {
  sqlite3_exec(im->db, "BEGIN", NULL, NULL, NULL);
  im->shared_holds = g_array_new(FALSE, FALSE, sizeof(HoldRow));
  im->shared_rels = g_array_new(FALSE, FALSE, sizeof(SharedRel));
  im->shared_waits = g_array_new(FALSE, FALSE, sizeof(SharedWait));
  /* WEFT_IMPORT_HOLD_SPILL, WEFT_IMPORT_STATE_SPILL: rows in memory before a
   * run goes to disk (tests make them small) */
  const char *hs = getenv("WEFT_IMPORT_HOLD_SPILL"), *ss = getenv("WEFT_IMPORT_STATE_SPILL");
  const char *ts = getenv("WEFT_IMPORT_STAMP_SPILL"); /* and a file's releases in memory before they spill */
  im->stamps.budget = ts && atoi(ts) > 0 ? (size_t)atoi(ts) : STAMP_MEM_MAX;
  im->stamps.spill_rows = ts && atoi(ts) > 0 ? (size_t)atoi(ts) : STAMP_SPILL_ROWS;
  im->hold_spill = hold_spill_new(hs && atoi(hs) > 0 ? (size_t)atoi(hs) : HOLD_SPILL_ROWS);
  im->state_spill = state_spill_new(ss && atoi(ss) > 0 ? (size_t)atoi(ss) : STATE_SPILL_ROWS);
  im->sum_spill = summary_spill_new(ss && atoi(ss) > 0 ? (size_t)atoi(ss) : STATE_SPILL_ROWS / 2);
  im->rounds = (ByThread){sizeof(BarRound), offsetof(Thr, rounds), "the barrier rounds", NULL, NULL, NULL};
  im->starts = (ByThread){sizeof(HoldStart), offsetof(Thr, starts), "the holds' starts", NULL, NULL, NULL};
  if (!im->hold_spill || !im->state_spill || !im->sum_spill) return imp_fail(im, "out of memory");
  if (statements_prepare(im, db_path) != 0) return -1;
  im->procs = g_ptr_array_new_with_free_func(proc_free);
  im->shared = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, shared_versions_free);
  return 0;
}

/* The trace a fork child with inherited modules takes them from (the same
 * choice as proc_fork_parent, on headers), or -1. by_pid: pid -> indexes. */
static gssize trace_fork_parent(WeftRecording *rec, GHashTable *by_pid, size_t child) {
  const WeftFileHeader *c = weft_trace_header(weft_recording_trace(rec, child));
  GArray *same = g_hash_table_lookup(by_pid, GUINT_TO_POINTER(c->ppid));
  gssize best = -1;
  for (guint k = 0; same && k < same->len; k++) {
    size_t j = g_array_index(same, size_t, k);
    const WeftFileHeader *h = weft_trace_header(weft_recording_trace(rec, j));
    if (j == child || h->session != c->session || h->start_ns > c->start_ns ||
        weft_trace_host(weft_recording_trace(rec, j)) != weft_trace_host(weft_recording_trace(rec, child)))
      continue;
    if (best < 0 || h->start_ns > weft_trace_header(weft_recording_trace(rec, (size_t)best))->start_ns)
      best = (gssize)j;
  }
  return best;
}

/* The order files are imported in: the recording's (by pid), except that a
 * fork child that inherits its parent's modules comes after the parent (pids
 * wrap around). */
static size_t *import_order(WeftRecording *rec) {
  size_t n = weft_recording_count(rec), k = 0;
  size_t *order = g_new(size_t, n ? n : 1);
  char *done = g_new0(char, n ? n : 1);
  GHashTable *by_pid = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_array_unref);
  for (size_t i = 0; i < n; i++) {
    guint pid = weft_trace_header(weft_recording_trace(rec, i))->pid;
    GArray *a = g_hash_table_lookup(by_pid, GUINT_TO_POINTER(pid));
    if (!a) g_hash_table_insert(by_pid, GUINT_TO_POINTER(pid), a = g_array_new(FALSE, FALSE, sizeof(size_t)));
    g_array_append_val(a, i);
  }
  for (int stuck = 0; k < n;) {
    size_t before = k;
    for (size_t i = 0; i < n; i++) {
      if (done[i]) continue;
      const WeftFileHeader *h = weft_trace_header(weft_recording_trace(rec, i));
      gssize parent = (h->features & WEFT_FEAT_MODULES_INHERITED) ? trace_fork_parent(rec, by_pid, i) : -1;
      if (parent >= 0 && !done[parent] && !stuck) continue;
      done[i] = 1;
      order[k++] = i;
    }
    stuck = k == before; /* a cycle (corrupt headers): the rest in order */
  }
  g_hash_table_destroy(by_pid);
  g_free(done);
  return order;
}

/* Every file, then what links them; the indexes once the data is in. */
static int imp_import(Imp *im) {
  size_t *order = import_order(im->rec);
  for (size_t i = 0; i < weft_recording_count(im->rec) && !im->sql.failed; i++) {
    WeftTrace *tr = weft_recording_trace(im->rec, order[i]);
    import_file(im, tr);
    imp_progress(im, weft_trace_name(tr));
  }
  g_free(order);
  weft_spill_free(im->state_spill); /* their memory is the index sorts' now */
  weft_spill_free(im->sum_spill);
  im->sum_spill = NULL;
  weft_spill_free(im->hold_spill);
  im->state_spill = im->hold_spill = NULL;
  if (!im->sql.failed && link_shared(im) == 0) shared_holds_to_blocks(im); /* (link_shared moves their starts) */
  if (im->sql.failed || check_span(im) != 0 || link_processes(im) != 0 || link_pipes(im) != 0 || link_mpi(im) != 0 ||
      link_sockets(im) != 0)
    return -1;
  imp_batch_flush(im, &im->flows);
  /* 64 MiB for the index sorts: SQLite's sorter takes as much again as the
   * page cache, so 256 MiB grew the import by up to 512 MiB on a big
   * recording (+334 MB at 60 M events), and the sorts are no slower */
  sqlite3_exec(im->db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
  if (weft_db_create_indexes(im->db, im->sql.err, im->sql.errlen) != 0) {
    im->sql.failed = true; /* its message is in err */
    return -1;
  }
  return 0;
}

/* The CPUs the program could run on: the most any image could, leaving out
 * launchers that start with CPUs they take from the program: an image that
 * exec'd into another (taskset, numactl, env), and one that forked a single
 * child below which an image had fewer CPUs (timeout, sh -c, nohup before
 * a taskset); not one whose fewer-CPU descendants are MPI ranks (mpirun
 * binds each rank to its own CPUs). 0: no image said. */
static uint32_t program_ncpus(const Imp *im) {
  guint n = im->procs->len;
  uint32_t best = 0;
  uint8_t *out = g_new0(uint8_t, n + 1); /* by upid: 1 left out */
  int *children = g_new0(int, n + 1);    /* by upid: the processes it forked */
  for (guint i = 0; i < n; i++) {
    const Proc *p = im->procs->pdata[i];
    if (p->end_how && !strcmp(p->end_how, "exec")) out[p->upid] = 1;
    if (!p->exec_from_upid && p->parent_upid > 0 && p->parent_upid <= (int64_t)n) children[p->parent_upid]++;
  }
  for (guint i = 0; i < n; i++) {
    const Proc *y = im->procs->pdata[i];
    if (y->mpi_rank >= 0 || !y->ncpus) continue;
    int64_t up = y->parent_upid;
    for (guint hops = 0; up > 0 && up <= (int64_t)n && hops < n; hops++) {
      const Proc *a = im->procs->pdata[up - 1];
      if (a->ncpus > y->ncpus && children[up] == 1) out[up] = 1;
      up = a->parent_upid;
    }
  }
  for (guint i = 0; i < n; i++) {
    const Proc *p = im->procs->pdata[i];
    if (!out[p->upid] && p->ncpus > best) best = p->ncpus;
  }
  g_free(out);
  g_free(children);
  return best;
}

/* What the recording is, for the readers of the database. */
static void write_meta(Imp *im, const char *dir) {
  int64_t end = 0;
  char *cmd = NULL;
  uint64_t lost = 0;
  int64_t incomplete = 0;
  uint32_t ncpus = program_ncpus(im);
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *p = im->procs->pdata[i];
    /* killed: what its threads counted since they last wrote their counts is gone */
    if (p->counters && !strcmp(p->end_how, "killed")) incomplete++;
    if (p->end_ns > end) end = p->end_ns;
    if (!cmd && !p->parent_upid && p->cmdline) cmd = p->cmdline;
    lost += (uint64_t)p->lost;
  }
  sqlite3 *db = im->db;
  const WeftFileHeader *h = weft_recording_count(im->rec) ? weft_trace_header(weft_recording_trace(im->rec, 0)) : NULL;
  char sess[24];
  snprintf(sess, sizeof sess, "%016" PRIx64, h ? h->session : 0);
  weft_db_meta_set(db, "weft_version", WEFT_VERSION);
  weft_db_meta_set_int(db, "schema_version", WEFT_SCHEMA_VERSION);
  weft_db_meta_set_int(db, "origin_ns", (int64_t)im->origin);
  weft_db_meta_set_int(db, "end_ns", end);
  if (cmd) weft_db_meta_set(db, "command", cmd);
  weft_db_meta_set(db, "clock", h && h->clock == WEFT_CLOCK_TSC ? "tsc" : "monotonic");
  weft_db_meta_set_int(db, "ncpus", ncpus ? ncpus : h ? h->ncpus : 0);
  weft_db_meta_set_int(db, "lost_events", (int64_t)lost);
  weft_db_meta_set_int(db, "truncated_files", (int64_t)im->stats->truncated);
  weft_db_meta_set_int(db, "salvaged_files", (int64_t)im->stats->salvaged);
  if (im->salvage_first) weft_db_meta_set(db, "salvaged", im->salvage_first);
  weft_db_meta_set(db, "session", sess);
  char *abs = realpath(dir, NULL);
  weft_db_meta_set(db, "source_dir", abs ? abs : dir);
  free(abs);
  weft_db_meta_set_int(db, "lod_base_ns", LOD_BASE_NS);
  weft_db_meta_set_int(db, "max_hold_ns", im->max_hold_ns);
  /* what the holds are: every hold (traces before v3, or WEFT_HOLDS=all), or
   * those someone waited for, with counts and a sample for the rest */
  uint64_t feat = h ? h->features : 0;
  weft_db_meta_set(db, "holds", !(feat & WEFT_FEAT_COUNTERS) || (feat & WEFT_FEAT_HOLDS_ALL) ? "all" : "contended");
  weft_db_meta_set_int(db, "hold_sample", h && (feat & WEFT_FEAT_COUNTERS) ? h->hold_sample : 1);
  weft_db_meta_set_int(db, "io_waits", (feat & WEFT_FEAT_IO_WAITS) != 0); /* WEFT_IO: poll, select, reads timed */
  weft_db_meta_set_int(db, "futex_waits", (feat & WEFT_FEAT_FUTEX) != 0); /* syscall(SYS_futex) waits recorded */
  weft_db_meta_set_int(db, "omp_tasks", im->omp_tasks); /* OpenMP tasks made: barrier waits may hold their work */
  weft_db_meta_set_int(db, "counts_flush_ms", h && (feat & WEFT_FEAT_COUNTERS) ? h->flush_ms : 0);
  weft_db_meta_set_int(db, "holds_estimated", im->holds_estimated);
  weft_db_meta_set_int(db, "releases_missing", im->releases_missing);
  weft_db_meta_set_int(db, "counts_incomplete", incomplete);
  weft_db_meta_set_int(db, "records", (int64_t)im->records_done / 2);
}

/* Symbols (their failure only a warning), then the commit. */
static void imp_commit(Imp *im, const char *db_path) {
  if (!im->no_symbols) {
    char e2[512];
    if (weft_sym_fill_frames(im->db, im->warn, e2, sizeof e2) < 0) imp_warn(im, "symbols: %s", e2);
    if (weft_sym_trim_stacks(im->db, e2, sizeof e2) < 0) imp_warn(im, "stacks: %s", e2);
    if (weft_sym_name_objects(im->db, e2, sizeof e2) < 0) imp_warn(im, "object names: %s", e2);
  }
  weft_db_meta_set(im->db, "import_complete", "1");
  if (sqlite3_exec(im->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    im->sql.prefix = db_path;
    weft_sql_error(&im->sql);
  }
  /* statistics for the query planner, from a sample of each index */
  if (!im->sql.failed) sqlite3_exec(im->db, "PRAGMA analysis_limit = 1000; ANALYZE", NULL, NULL, NULL);
}

static void imp_close(Imp *im) {
  im->stats->records = im->records_done / 2;
  statements_free(im);
  weft_spill_free(im->state_spill);
  weft_spill_free(im->sum_spill);
  pipes_free(im);
  weft_spill_free(im->hold_spill);
  barriers_free(im);
  wait_starts_free(im);
  mpi_sorts_free(im);
  sock_xfers_free(im);
  hosts_free(im);
  if (im->shared_holds) g_array_free(im->shared_holds, TRUE);
  if (im->shared_rels) g_array_free(im->shared_rels, TRUE);
  if (im->shared_waits) g_array_free(im->shared_waits, TRUE);
  if (im->procs) g_ptr_array_free(im->procs, TRUE);
  if (im->shared) g_hash_table_destroy(im->shared);
  if (im->db) sqlite3_close(im->db);
  weft_sym_free(im->gil_sym);
  weft_recording_close(im->rec);
  g_free(im->salvage_first);
  if (im->progress_shown) fputs("\n", stderr);
  im->stats->seconds = elapsed(im);
}

int weft_import(const char *dir, const char *db_path, const WeftImportOptions *opt, WeftImportStats *stats, FILE *warn,
                char *err, size_t errlen) {
  return weft_import_dirs(&dir, 1, db_path, opt, stats, warn, err, errlen);
}

int weft_import_dirs(const char *const *dirs, size_t ndirs, const char *db_path, const WeftImportOptions *opt,
                     WeftImportStats *stats, FILE *warn, char *err, size_t errlen) {
  Imp im;
  WeftImportStats dummy;
  const char *dir = dirs[0];
  if (imp_open(&im, dirs, ndirs, opt, stats ? stats : &dummy, warn, err, errlen) != 0) return -1;
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* no global allocator statistics (a mutex per allocation) */
  im.db = im.sql.db = weft_db_create_bulk(db_path, opt && opt->force, 1, err, errlen);
  if (!im.db) {
    hosts_free(&im);
    weft_recording_close(im.rec);
    return -1;
  }
  if (imp_begin(&im, db_path) == 0 && imp_import(&im) == 0) {
    write_meta(&im, dir);
    hosts_write(&im);
    imp_commit(&im, db_path);
  }
  imp_close(&im);
  if (im.sql.failed) unlink(db_path);
  return im.sql.failed ? -1 : 0;
}
