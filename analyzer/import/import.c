/* import.c - a recording directory into a recording database.
 * SPDX-License-Identifier: MIT
 *
 * Each trace file (one process image) is read twice:
 *   pass 1 learns its threads (tid reuse: a new THREAD_START for a tid starts
 *          a new thread), objects, per-object timelines of releases, signals
 *          and barrier arrivals, stacks, modules, forks, execs, exits;
 *   pass 2 runs one state machine per thread and writes thread_state,
 *          lock_hold and the flows that need the timelines of pass 1
 *          (who released the lock a waiter got, who signalled it, ...).
 * Links between processes (fork, exec, wait) and the process rows come
 * last, then level-of-detail summaries and symbols. Everything runs in one
 * transaction; on failure the database file is removed.
 */
#include "config.h"

#include "weft-import.h"

#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "holds.h"
#include "symbolize.h"
#include "weft-db.h"
#include "weft-reader.h"

/* ---- the in-memory model of one process image ---- */
typedef struct {          /* 16 bytes: a hot lock has one per release */
  int64_t ns;
  uint32_t utid;
  uint32_t late;          /* trace v3: written after the call returned (happened at or before ns) */
} Stamp;

typedef struct {          /* trace v3: a wait on a lock began (for holds whose start was not timed) */
  int64_t ns, utid;
  uint32_t holder;        /* tid that held it then, 0 unknown */
} WaitStart;

typedef struct {
  int64_t begin, end;
  int64_t utid;
  int serial;
  int64_t rel_utid, rel_ns;   /* the last arrival of its round */
} Arrival;

typedef struct Obj {
  int64_t id;
  uint64_t addr;
  int kind;               /* class: MUTEX, RWLOCK, SPIN, COND, BARRIER, SEM, POLL, READ */
  int64_t init_stack, first_stack, first_ns;
  int64_t acquisitions, contended, wait_ns, hold_ns;
  int64_t failed, releases, samples, sample_ns, sample_max; /* trace v3 COUNTS */
  int64_t barrier_count;
  char *name;             /* from weft.h, else NULL */
  GArray *rel;            /* Stamp: releases (unlock, sem_post) */
  GArray *sig;            /* Stamp: cond signal/broadcast */
  GArray *arr;            /* Arrival: barrier waits */
  GArray *wb;             /* WaitStart (trace v3, locks): when waits on it began, by whom, for whom */
  int rel_sorted, sig_sorted;
  int gil;                /* GIL_*: part of CPython's GIL (gil_detect) */
} Obj;

typedef struct {
  int64_t obj;            /* object_id */
  Obj *o;
  int64_t start;
  int contended, shared, depth;
} Hold;

typedef struct Thr {
  int64_t utid;
  uint32_t tid;
  uint64_t self, routine;
  uint32_t creator_tid;
  int is_main, has_start, has_exit, exit_how;
  int64_t start_ns, end_ns, first_ns, last_ns, exit_ns;
  char *name;
  int64_t cpu_ns, runq_ns, lost;
  const char *end_how;
  int64_t sched_base;     /* index of its schedstat baseline in Imp.scheds + 1; 0 not looked for, -1 none */
  /* pass 2 */
  int st;                 /* current state */
  int64_t st_start;
  Obj *wobj;
  int wkind, wop;
  uint32_t blocker_tid;
  int64_t wstack, wbegin;
  uint64_t waddr, wobj2;
  int64_t gil_holder;     /* a GIL wait: the thread holding the GIL when it began (0 unknown) */
  GArray *holds;          /* Hold */
  int started2;           /* pass 2 has seen its THREAD_START */
  struct Thr *next_same_tid;
} Thr;

typedef struct {
  int64_t ns, utid;
  int64_t child_pid;
  int how;
} ForkEv;

typedef struct {
  int64_t begin, end, utid;
  int64_t pid;            /* reaped */
  int status;
} WaitEv;

typedef struct {
  int64_t ns, utid;
  uint64_t self;          /* new thread */
} CreateEv;

/* Rows inserted BATCH_ROWS at a time with one multi-row INSERT (about twice
 * as fast as one statement per row); integer columns, NULL where flagged. */
#define BATCH_ROWS 32
#define BATCH_MAXCOLS 10
typedef struct {
  sqlite3_stmt *one, *many;
  int ncols, n;
  int64_t v[BATCH_ROWS * BATCH_MAXCOLS];
  unsigned char null[BATCH_ROWS * BATCH_MAXCOLS];
} Batch;

typedef struct Proc {
  int64_t upid;
  uint32_t pid, ppid, image;
  uint64_t session;
  int64_t start_ns, end_ns;
  const char *end_how;
  int has_exit, exit_how;
  int64_t exit_status, has_status;
  int64_t exec_ns;        /* last EXEC record, -1 none */
  int exec_failed_after;
  char *cmdline, *exe;
  int64_t lost;
  char *file;
  int64_t parent_upid, exec_from_upid;
  int64_t main_utid;
  int has_fork_flow;      /* a FORK record of its parent's was matched to it */
  int counters;           /* trace v3: lock operations counted (lost with a kill since the last flush) */
  GArray *forks, *waits;  /* ForkEv, WaitEv */
  int64_t last_ns;
} Proc;

typedef struct {
  sqlite3 *db;
  WeftRecording *rec;
  uint64_t origin;
  FILE *warn;
  WeftImportStats *stats;
  int progress;
  struct timespec t0;
  uint64_t records_done, records_total;
  int progress_shown;
  double progress_after;   /* seconds before the progress line shows (WEFT_IMPORT_PROGRESS_MS for tests) */
  /* ids */
  int64_t next_utid, next_obj, next_stack, next_frame, next_flow, next_module;
  GPtrArray *procs;
  /* per file */
  Proc *p;
  GHashTable *thr_by_tid;     /* tid -> Thr* (pass 1: the latest; pass 2: the current) */
  struct {                    /* objs and destroys of recent keys (pass 1 and 2 look up an object per record) */
    guint64 key;
    GArray *destroys;
    GPtrArray *epochs;
    int used;
  } ocache[256];
  uint32_t tc_tid;            /* the last lookup in thr_by_tid (records come in runs of one thread's chunk) */
  Thr *tc_thr;
  GHashTable *thr_first;      /* tid -> first Thr* of the chain */
  GHashTable *thr_by_self;    /* pthread_t -> GPtrArray of Thr* */
  GPtrArray *threads;         /* all Thr of the file, in order of appearance */
  GHashTable *objs;           /* key(addr, kind) -> GPtrArray of Obj*, one per epoch */
  GHashTable *destroys;       /* key(addr, kind) -> sorted GArray of DESTROY times (pass 0) */
  GPtrArray *objlist;
  GHashTable *stack_map;      /* trace stack id -> global stack id */
  GArray *modules;            /* ModRec */
  GArray *creates;            /* CreateEv */
  GArray *scheds;
  GArray *marks;
  GHashTable *names;          /* object address -> name (weft.h) */
  GArray *pending_stacks;     /* PendingStack: this file's STACK records, written once modules are known */
  int pass;
  int v3;                     /* the file is contention-first (WEFT_FEAT_COUNTERS): counts, sparse RELs */
  int sched_base;             /* WEFT_FEAT_SCHED_BASE: baselines are flagged (a fork child has none) */
  WeftTrace *tr;              /* the file being read */
  GArray *counts;             /* CountRec of the file */
  guint exec_counts;          /* counts index at the file's last EXEC */
  /* rows of the file, written sorted once it is read */
  GArray *state_rows;         /* StateRow */
  GArray *pipe_writes;        /* ChanStamp: every file's writes to pipes (WEFT_IO) */
  GArray *pipe_waits;         /* ChanWait: every file's reads and polls that waited on a pipe */
  GArray *hold_rows;          /* HoldRow */
  FILE *hold_spill;           /* sorted runs of hold_rows written out (NULL: none yet) */
  GArray *hold_runs;          /* HoldRun: where each run is in hold_spill */
  guint hold_spill_rows;      /* rows kept in memory (HOLD_SPILL_ROWS; tests set fewer) */
  int no_symbols;             /* WeftImportOptions.no_symbols: no symbol tables read (no GIL either) */
  /* statements */
  Batch states, summaries, flows, count_rows;
  sqlite3_stmt *ins_block;
  int64_t max_hold_ns;        /* longest lock hold (meta max_hold_ns: lets readers bound hold lookups) */
  WeftSymbolizer *gil_sym;    /* data symbols of python modules (gil_detect), made on first use */
  sqlite3_stmt *ins_thread, *ins_obj, *ins_stack, *ins_sf, *ins_frame,
      *ins_module, *ins_proc, *ins_sched, *ins_mark, *find_frame;
  int64_t holds_estimated;    /* holds whose start was not timed (meta) */
  int64_t releases_missing;   /* v3 waits with no recorded release (meta: a hand-off from the holder) */
  char *err;
  size_t errlen;
  int salvage;                /* opt->salvage */
  char *salvage_first;        /* the first corruption salvaged past (meta salvaged) */
  int failed;
} Imp;

typedef struct {
  int64_t id;
  uint64_t bias, start, end;
} ModRec;

typedef struct {
  int64_t v[9];               /* thread_state's columns */
} StateRow;

typedef struct {
  uint64_t chan;              /* the pipe */
  int64_t ns, utid;
} ChanStamp;

typedef struct {
  uint64_t chan;
  int64_t begin, end, utid, obj;
  gboolean poll;              /* a poll (readiness: another thread may take the data), not a read */
} ChanWait;

typedef struct {              /* a lock hold until it goes into a block (24 bytes: there are millions) */
  int64_t start, dur;
  uint32_t obj;               /* object_id */
  uint32_t utid_flags;        /* utid << 3 | estimated << 2 | shared << 1 | contended */
} HoldRow;

/* A file's holds are sorted (by object, then start) before they go into
 * blocks. Past HOLD_SPILL_ROWS they are sorted in runs written to a
 * temporary file and merged from there, so memory stays bounded. */
#define HOLD_SPILL_ROWS (2u << 20) /* 48 MiB of rows */
typedef struct {
  off_t off;                  /* first row's offset in hold_spill */
  size_t n;                   /* rows */
} HoldRun;

typedef struct {              /* trace v3: one COUNTS record */
  Obj *o;
  uint32_t tid;               /* the thread counted */
  int64_t first_ns, ns;
  int64_t acq, fail, rel, samples, sample_ns, sample_max;
  int dropped;                /* a snapshot of another thread's counts before an exec that failed */
} CountRec;

typedef struct {
  int64_t ns;
  uint32_t tid;
  int64_t cpu, runq, slices;
  int base;                   /* WEFT_SCHED_BASELINE: a main thread's reading at its image's start */
} SchedRec;

typedef struct {
  int64_t ns;
  uint32_t tid;
  int64_t id;
  int how;
  char *label;
} MarkRec;

static int64_t rel_ns(Imp *im, uint64_t ns) {
  return ns >= im->origin ? (int64_t)(ns - im->origin) : -(int64_t)(im->origin - ns);
}

static int fail(Imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(Imp *im, const char *fmt, ...) {
  if (!im->failed) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(im->err, im->errlen, fmt, ap);
    va_end(ap);
  }
  im->failed = 1;
  return -1;
}

static void warnf(Imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(Imp *im, const char *fmt, ...) {
  im->stats->warnings++;
  if (!im->warn) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("weft: ", im->warn);
  vfprintf(im->warn, fmt, ap);
  fputc('\n', im->warn);
  va_end(ap);
}

static int step(Imp *im, sqlite3_stmt *q) {
  int rc = sqlite3_step(q);
  sqlite3_reset(q); /* bindings stay: every caller binds every column it uses, NULLs too */
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return fail(im, "database: %s", sqlite3_errmsg(im->db));
  return 0;
}

static int batch_prepare(sqlite3 *db, Batch *b, const char *table, int ncols) {
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
  int rc = sqlite3_prepare_v2(db, one->str, -1, &b->one, NULL) == SQLITE_OK &&
           sqlite3_prepare_v2(db, many->str, -1, &b->many, NULL) == SQLITE_OK ? 0 : -1;
  g_string_free(one, TRUE);
  g_string_free(many, TRUE);
  return rc;
}

static void batch_bind(sqlite3_stmt *q, const Batch *b, int row, int first_param) {
  for (int c = 0; c < b->ncols; c++) {
    int i = row * b->ncols + c;
    if (b->null[i]) sqlite3_bind_null(q, first_param + c);
    else sqlite3_bind_int64(q, first_param + c, b->v[i]);
  }
}

static void batch_flush(Imp *im, Batch *b) {
  if (b->n == BATCH_ROWS) {
    for (int r = 0; r < BATCH_ROWS; r++) batch_bind(b->many, b, r, 1 + r * b->ncols);
    step(im, b->many);
  } else {
    for (int r = 0; r < b->n; r++) {
      batch_bind(b->one, b, r, 1);
      step(im, b->one);
    }
  }
  b->n = 0;
}

/* Add a row: vals[ncols]; a column in `nullable` (bit c) is NULL when <= 0. */
static void batch_add(Imp *im, Batch *b, const int64_t *vals, unsigned nullable) {
  for (int c = 0; c < b->ncols; c++) {
    b->v[b->n * b->ncols + c] = vals[c];
    b->null[b->n * b->ncols + c] = (nullable >> c & 1) && vals[c] <= 0;
  }
  if (++b->n == BATCH_ROWS) batch_flush(im, b);
}

static void batch_free(Batch *b) {
  sqlite3_finalize(b->one);
  sqlite3_finalize(b->many);
  b->one = b->many = NULL;
}

static void bind_opt(sqlite3_stmt *q, int i, int64_t v) {
  if (v > 0) sqlite3_bind_int64(q, i, v);
  else sqlite3_bind_null(q, i);
}

/* ---- progress ---- */
static double elapsed(Imp *im) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - im->t0.tv_sec) + (double)(t.tv_nsec - im->t0.tv_nsec) / 1e9;
}

static void progress(Imp *im, const char *what) {
  if (!im->progress) return;
  double e = elapsed(im);
  if (e < im->progress_after) return;
  /* every record is read twice (two passes) */
  double frac = im->records_total ? (double)im->records_done / (2.0 * (double)im->records_total) : 0;
  if (frac > 1) frac = 1;
  fprintf(stderr, "\rweft: importing: %5.1f%% of %" PRIu64 " records, %s   ", 100.0 * frac, im->records_total, what);
  im->progress_shown = 1;
}

/* ---- objects ---- */
static int kind_class(int kind) {
  switch (kind) {
  case WEFT_KIND_RWLOCK_RD:
  case WEFT_KIND_RWLOCK_WR:
  case WEFT_KIND_RWLOCK: return WEFT_KIND_RWLOCK;
  default: return kind;
  }
}

static int has_object(int kind) {
  switch (kind) {
  case WEFT_KIND_MUTEX: case WEFT_KIND_RWLOCK: case WEFT_KIND_SPIN: case WEFT_KIND_COND:
  case WEFT_KIND_BARRIER: case WEFT_KIND_SEM: case WEFT_KIND_POLL: case WEFT_KIND_READ:
    return 1;
  default: return 0;
  }
}

static int is_lock(int kclass) {
  return kclass == WEFT_KIND_MUTEX || kclass == WEFT_KIND_RWLOCK || kclass == WEFT_KIND_SPIN;
}

/* An object destroyed and created again at the same address is a new object:
 * its epoch at ns is the number of DESTROY records on that address before ns
 * (collected by pass 0 from every thread, so the order of the file's chunks
 * does not matter). */
static guint obj_epoch(GArray *d, int64_t ns) {
  if (!d) return 0;
  const int64_t *v = (const int64_t *)d->data;
  guint a = 0, b = d->len;
  while (a < b) { /* count of destroy times < ns */
    guint m = (a + b) / 2;
    if (v[m] < ns) a = m + 1;
    else b = m;
  }
  return a;
}

static Obj *obj_lookup(Imp *im, uint64_t addr, int kind, int64_t ns, int create) {
  int k = kind_class(kind);
  if (!has_object(k)) return NULL;
  guint64 key = (addr << 5) ^ (guint64)k;
  guint slot = (guint)((key >> 5) ^ (key >> 13) ^ key) & 255;
  if (!im->ocache[slot].used || im->ocache[slot].key != key) {
    im->ocache[slot].key = key;
    im->ocache[slot].destroys = g_hash_table_lookup(im->destroys, &key);
    im->ocache[slot].epochs = g_hash_table_lookup(im->objs, &key);
    im->ocache[slot].used = 1;
  }
  guint epoch = obj_epoch(im->ocache[slot].destroys, ns);
  GPtrArray *epochs = im->ocache[slot].epochs;
  if (epochs && epoch < epochs->len && epochs->pdata[epoch]) return epochs->pdata[epoch];
  if (!create) return NULL;
  if (!epochs) {
    epochs = g_ptr_array_new();
    guint64 *kp = g_new(guint64, 1);
    *kp = key;
    g_hash_table_insert(im->objs, kp, epochs);
    im->ocache[slot].epochs = epochs;
  }
  if (epochs->len <= epoch) g_ptr_array_set_size(epochs, (gint)epoch + 1);
  Obj *o = g_new0(Obj, 1);
  o->id = ++im->next_obj;
  o->addr = addr;
  o->kind = k;
  o->first_ns = ns;
  o->rel = g_array_new(FALSE, FALSE, sizeof(Stamp));
  o->sig = g_array_new(FALSE, FALSE, sizeof(Stamp));
  o->arr = g_array_new(FALSE, FALSE, sizeof(Arrival));
  o->wb = g_array_new(FALSE, FALSE, sizeof(WaitStart));
  epochs->pdata[epoch] = o;
  g_ptr_array_add(im->objlist, o);
  return o;
}

static Obj *obj_get(Imp *im, uint64_t addr, int kind, int64_t ns) { return obj_lookup(im, addr, kind, ns, 1); }
static Obj *obj_find(Imp *im, uint64_t addr, int kind, int64_t ns) { return obj_lookup(im, addr, kind, ns, 0); }

static int pass0(const WeftEvent *ev, void *user) {
  Imp *im = user;
  if (ev->type != WEFT_EV_DESTROY || !has_object(kind_class((int)WEFT_AUX_KIND(ev->aux)))) return 0;
  guint64 key = (ev->w[1] << 5) ^ (guint64)kind_class((int)WEFT_AUX_KIND(ev->aux));
  GArray *d = g_hash_table_lookup(im->destroys, &key);
  if (!d) {
    d = g_array_new(FALSE, FALSE, sizeof(int64_t));
    guint64 *kp = g_new(guint64, 1);
    *kp = key;
    g_hash_table_insert(im->destroys, kp, d);
  }
  int64_t ns = rel_ns(im, ev->ns);
  g_array_append_val(d, ns);
  return 0;
}

static gint cmp_i64(gconstpointer a, gconstpointer b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static void obj_free(gpointer p) {
  Obj *o = p;
  g_free(o->name);
  g_array_free(o->rel, TRUE);
  g_array_free(o->sig, TRUE);
  g_array_free(o->arr, TRUE);
  g_array_free(o->wb, TRUE);
  g_free(o);
}

/* A stable sort of v[0..n) (tmp[n] is scratch): a bottom-up merge of the runs
 * already in order. The importer's arrays (one object's releases or holds)
 * are made of the runs of each thread's chunks, so there are few. */
#define DEFINE_MERGE_RUNS(name, T, before)                                                        \
  static void name(T *v, T *tmp, size_t n) {                                                    \
    size_t nruns = 1;                                                                           \
    for (size_t i = 1; i < n; i++) nruns += before(&v[i], &v[i - 1]);                           \
    if (nruns == 1) return;                                                                     \
    size_t *run = g_new(size_t, nruns + 1), r = 0;                                              \
    run[r++] = 0;                                                                               \
    for (size_t i = 1; i < n; i++)                                                              \
      if (before(&v[i], &v[i - 1])) run[r++] = i;                                               \
    run[r] = n;                                                                                 \
    T *src = v, *dst = tmp;                                                                     \
    while (nruns > 1) {                                                                         \
      size_t w = 0;                                                                             \
      for (size_t k = 0; k < nruns; k += 2) {                                                   \
        size_t a = run[k], m = run[k + 1], e = k + 2 <= nruns ? run[k + 2] : m, i = a, j = m, o = a; \
        while (i < m && j < e) dst[o++] = before(&src[j], &src[i]) ? src[j++] : src[i++];       \
        while (i < m) dst[o++] = src[i++];                                                      \
        while (j < e) dst[o++] = src[j++];                                                      \
        run[w++] = a;                                                                           \
      }                                                                                         \
      run[w] = n;                                                                               \
      nruns = w;                                                                                \
      T *x = src;                                                                               \
      src = dst;                                                                                \
      dst = x;                                                                                  \
    }                                                                                           \
    if (src != v) memcpy(v, src, n * sizeof *v);                                                \
    g_free(run);                                                                                \
  }

static inline int stamp_before(const Stamp *a, const Stamp *b) { return a->ns < b->ns; }
DEFINE_MERGE_RUNS(merge_stamps, Stamp, stamp_before)

/* Sort a timeline of stamps (once: *sorted says it is). */
static void stamps_sort(GArray *v, int *sorted) {
  if (*sorted) return;
  Stamp *tmp = g_new(Stamp, v->len ? v->len : 1);
  merge_stamps((Stamp *)v->data, tmp, v->len);
  g_free(tmp);
  *sorted = 1;
}

/* the last stamp in v at or before ns by a thread other than utid, within [lo, ns] */
static const Stamp *last_before(GArray *v, int *sorted, int64_t lo, int64_t ns, int64_t utid) {
  if (!v->len) return NULL;
  stamps_sort(v, sorted);
  const Stamp *s = (const Stamp *)v->data;
  /* binary search: first index with ns > target */
  guint a = 0, b = v->len;
  while (a < b) {
    guint m = (a + b) / 2;
    if (s[m].ns <= ns) a = m + 1;
    else b = m;
  }
  for (guint i = a; i-- > 0;) {
    if (s[i].ns < lo) break;
    if (s[i].utid != utid) return &s[i];
  }
  return NULL;
}

/* ---- threads ---- */
static Thr *thr_new(Imp *im, uint32_t tid, int64_t ns) {
  Thr *t = g_new0(Thr, 1);
  t->utid = ++im->next_utid;
  t->tid = tid;
  t->first_ns = t->last_ns = ns;
  t->start_ns = ns;
  t->exit_ns = -1;
  t->holds = g_array_new(FALSE, FALSE, sizeof(Hold));
  g_ptr_array_add(im->threads, t);
  Thr *prev = g_hash_table_lookup(im->thr_by_tid, GUINT_TO_POINTER(tid));
  if (prev) prev->next_same_tid = t;
  else g_hash_table_insert(im->thr_first, GUINT_TO_POINTER(tid), t);
  g_hash_table_insert(im->thr_by_tid, GUINT_TO_POINTER(tid), t);
  im->tc_thr = NULL;
  return t;
}

static void thr_free(gpointer p) {
  Thr *t = p;
  g_array_free(t->holds, TRUE);
  g_free(t->name);
  g_free(t);
}

static Thr *thr_cur(Imp *im, uint32_t tid) {
  if (im->tc_thr && im->tc_tid == tid) return im->tc_thr;
  im->tc_tid = tid;
  return im->tc_thr = g_hash_table_lookup(im->thr_by_tid, GUINT_TO_POINTER(tid));
}

/* The thread of tid alive at ns (pass 2 and cross-references): the last of
 * its chain that started at or before ns. */
static Thr *thr_at(Imp *im, uint32_t tid, int64_t ns) {
  Thr *t = g_hash_table_lookup(im->thr_first, GUINT_TO_POINTER(tid));
  Thr *best = t;
  for (; t; t = t->next_same_tid)
    if (t->start_ns <= ns) best = t;
  return best;
}

static int64_t utid_at(Imp *im, uint32_t tid, int64_t ns) {
  if (!tid) return 0;
  Thr *t = thr_at(im, tid, ns);
  return t ? t->utid : 0;
}

/* pthread_t -> the threads of the file that had it (GPtrArray of Thr*): a
 * program creating tens of thousands of threads joins each by its pthread_t. */
static void thr_set_self(Imp *im, Thr *t, uint64_t self) {
  t->self = self;
  GPtrArray *v = g_hash_table_lookup(im->thr_by_self, &t->self);
  if (!v) {
    v = g_ptr_array_new();
    g_hash_table_insert(im->thr_by_self, g_memdup2(&t->self, sizeof t->self), v);
  }
  g_ptr_array_add(v, t);
}

static Thr *thr_by_self(Imp *im, uint64_t self, int64_t after_ns) {
  Thr *best = NULL;
  GPtrArray *v = self ? g_hash_table_lookup(im->thr_by_self, &self) : im->threads; /* 0: threads without a START */
  for (guint i = 0; v && i < v->len; i++) {
    Thr *t = v->pdata[i];
    if (t->self == self && t->start_ns >= after_ns && (!best || t->start_ns < best->start_ns)) best = t;
  }
  return best;
}

/* the thread with pthread_t self alive (or most recently ended) at ns */
static Thr *thr_by_self_at(Imp *im, uint64_t self, int64_t ns) {
  Thr *best = NULL;
  GPtrArray *v = self ? g_hash_table_lookup(im->thr_by_self, &self) : im->threads; /* 0: threads without a START */
  for (guint i = 0; v && i < v->len; i++) {
    Thr *t = v->pdata[i];
    if (t->self == self && t->start_ns <= ns && (!best || t->start_ns > best->start_ns)) best = t;
  }
  return best;
}

/* ---- pass 1 ---- */
static int64_t stack_global(Imp *im, uint64_t trace_id) {
  if (!trace_id) return 0;
  gpointer v = g_hash_table_lookup(im->stack_map, GUINT_TO_POINTER((guint)trace_id));
  return v ? (int64_t)GPOINTER_TO_SIZE(v) : 0;
}

static int64_t module_for(Imp *im, uint64_t ip, uint64_t *bias) {
  for (guint i = 0; i < im->modules->len; i++) {
    ModRec *m = &g_array_index(im->modules, ModRec, i);
    if (ip >= m->start && ip < m->end) {
      *bias = m->bias;
      return m->id;
    }
  }
  return 0;
}

static int frame_id(Imp *im, uint64_t ip) {
  /* (upid, ip) unique: look up, else insert */
  sqlite3_bind_int64(im->find_frame, 1, im->p->upid);
  sqlite3_bind_int64(im->find_frame, 2, (int64_t)ip);
  int64_t id = 0;
  if (sqlite3_step(im->find_frame) == SQLITE_ROW) id = sqlite3_column_int64(im->find_frame, 0);
  sqlite3_reset(im->find_frame);
  if (id) return (int)id;
  uint64_t bias = 0;
  int64_t mod = module_for(im, ip, &bias);
  id = ++im->next_frame;
  sqlite3_bind_int64(im->ins_frame, 1, id);
  sqlite3_bind_int64(im->ins_frame, 2, im->p->upid);
  sqlite3_bind_int64(im->ins_frame, 3, (int64_t)ip);
  bind_opt(im->ins_frame, 4, mod);
  if (mod) sqlite3_bind_int64(im->ins_frame, 5, (int64_t)(ip - bias));
  else sqlite3_bind_null(im->ins_frame, 5);
  step(im, im->ins_frame);
  return (int)id;
}

typedef struct {
  uint64_t trace_id;
  int64_t global;
  GArray *ips;
} PendingStack;


static int pass1(const WeftEvent *ev, void *user) {
  Imp *im = user;
  Proc *p = im->p;
  int64_t ns = rel_ns(im, ev->ns);
  Thr *t = thr_cur(im, ev->tid);
  if (ev->type == WEFT_EV_THREAD_START && t && t->has_start) t = NULL; /* tid reused */
  if (!t) t = thr_new(im, ev->tid, ns);
  if (ns > t->last_ns) t->last_ns = ns;
  if (ns > p->last_ns) p->last_ns = ns;
  im->records_done++;
  if ((im->records_done & 0xfffff) == 0) progress(im, "reading");
  const uint64_t *w = ev->w;
  unsigned kind = WEFT_AUX_KIND(ev->aux);
  switch (ev->type) {
  case WEFT_EV_THREAD_START:
    t->has_start = 1;
    t->start_ns = ns;
    thr_set_self(im, t, w[1]);
    t->routine = w[2];
    t->creator_tid = (uint32_t)w[3];
    t->is_main = ev->aux & 1;
    break;
  case WEFT_EV_THREAD_EXIT:
    if (ev->aux == WEFT_EXIT_AT_PROCESS_EXIT) {
      /* on behalf of another thread: resolved after pass 1 */
      Thr *o = thr_by_self_at(im, w[1], ns);
      if (o && !o->has_exit && o != t) {
        o->has_exit = 1;
        o->exit_ns = ns;
        o->exit_how = WEFT_EXIT_AT_PROCESS_EXIT;
      }
    } else if (!t->has_exit) {
      t->has_exit = 1;
      t->exit_ns = ns;
      t->exit_how = (int)ev->aux;
    }
    break;
  case WEFT_EV_THREAD_CREATE:
    if (WEFT_AUX_RESULT(ev->aux) == 0 && ev->aux == 0) {
      CreateEv c = {ns, t->utid, w[1]};
      g_array_append_val(im->creates, c);
    }
    break;
  case WEFT_EV_THREAD_NAME: {
    size_t len;
    const char *s = weft_event_string(ev, 2, &len);
    if (ev->aux == 0) {
      Thr *target = w[1] ? thr_by_self_at(im, w[1], ns) : t;
      if (!target) target = t;
      g_free(target->name);
      target->name = g_strndup(s, len);
    }
    break;
  }
  case WEFT_EV_LOST:
    t->lost += (int64_t)w[1];
    p->lost += (int64_t)w[1];
    break;
  case WEFT_EV_INIT: {
    Obj *o = obj_get(im, w[1], (int)kind, ns);
    if (o) {
      if (ev->nwords > 3 && w[3]) o->init_stack = stack_global(im, w[3]);
      if (o->kind == WEFT_KIND_BARRIER) o->barrier_count = (int64_t)w[2];
    }
    break;
  }
  case WEFT_EV_ACQ:
  case WEFT_EV_DESTROY:
    obj_get(im, w[1], (int)kind, ns);
    break;
  case WEFT_EV_REL: {
    Obj *o = obj_get(im, weft_rel_addr(ev->aux, w[1]), (int)kind, ns);
    int late = 0;
    if (im->v3) weft_rel_len1(ev->aux, ev->nwords, w, &late);
    if (o && WEFT_AUX_RESULT(ev->aux) == 0) {
      Stamp s = {ns, (uint32_t)t->utid, (uint32_t)late};
      g_array_append_val(o->rel, s);
    } else if (o && o->rel->len && !im->v3) {
      /* versions 1 and 2: a failed unlock cancels this thread's REL just before
       * (version 3 writes the failed one in its place: nothing to undo) */
      Stamp *last = &g_array_index(o->rel, Stamp, o->rel->len - 1);
      if (last->utid == t->utid) g_array_set_size(o->rel, o->rel->len - 1);
    }
    break;
  }
  case WEFT_EV_SIGNAL: {
    Obj *o = obj_get(im, w[1], (int)kind, ns);
    if (o) {
      Stamp s = {ns, (uint32_t)t->utid, im->v3 && ev->nwords >= 3 && (w[2] & WEFT_REL_LATE)};
      g_array_append_val(o->sig, s);
    }
    break;
  }
  case WEFT_EV_WAIT_BEGIN: {
    Obj *o = obj_get(im, w[1], (int)kind, ns);
    if (o && !o->first_stack && (w[2] >> 32)) o->first_stack = stack_global(im, w[2] >> 32);
    if (o && o->kind == WEFT_KIND_BARRIER) {
      Arrival a = {ns, -1, t->utid, 0, 0, 0};
      g_array_append_val(o->arr, a);
    }
    if (o && im->v3 && is_lock(o->kind)) {
      WaitStart ws = {ns, t->utid, (uint32_t)w[2]};
      g_array_append_val(o->wb, ws);
    }
    if (kind == WEFT_KIND_COND && w[3]) obj_get(im, w[3], WEFT_KIND_MUTEX, ns);
    if (kind == WEFT_KIND_CHILD) {
      WaitEv we = {ns, -1, t->utid, -1, 0};
      g_array_append_val(p->waits, we);
    }
    break;
  }
  case WEFT_EV_WAIT_END:
    if (kind == WEFT_KIND_BARRIER) {
      Obj *o = obj_find(im, w[1], (int)kind, ns);
      if (o) /* close this thread's open arrival */
        for (guint i = o->arr->len; i-- > 0;) {
          Arrival *a = &g_array_index(o->arr, Arrival, i);
          if (a->utid == t->utid && a->end < 0) {
            a->end = ns;
            a->serial = WEFT_AUX_OP(ev->aux) == WEFT_OP_SERIAL;
            break;
          }
        }
    }
    if (kind == WEFT_KIND_CHILD && ev->nwords >= 4) {
      for (guint i = p->waits->len; i-- > 0;) {
        WaitEv *we = &g_array_index(p->waits, WaitEv, i);
        if (we->utid == t->utid && we->end < 0) {
          we->end = ns;
          we->pid = (int64_t)w[2];
          we->status = (int)(uint32_t)w[3];
          break;
        }
      }
    }
    break;
  case WEFT_EV_COUNTS: {
    int64_t first = rel_ns(im, weft_trace_ticks_to_ns(im->tr, w[9]));
    if (first > ns) first = ns;
    Obj *o = obj_get(im, w[1], (int)kind, first);
    if (!o) break;
    int64_t sns = (int64_t)(weft_trace_ticks_to_ns(im->tr, w[9] + w[7]) - weft_trace_ticks_to_ns(im->tr, w[9]));
    int64_t smax = (int64_t)(weft_trace_ticks_to_ns(im->tr, w[9] + w[8]) - weft_trace_ticks_to_ns(im->tr, w[9]));
    CountRec c = {o, (uint32_t)w[2], first, ns, (int64_t)w[3], (int64_t)w[4], (int64_t)w[5], (int64_t)w[6], sns, smax,
                  0};
    g_array_append_val(im->counts, c);
    break;
  }
  case WEFT_EV_PIPE_WRITE:
    if (ev->nwords >= 3 && w[2]) {
      ChanStamp cs = {w[2], ns, t->utid};
      g_array_append_val(im->pipe_writes, cs);
    }
    break;
  case WEFT_EV_FORK:
    if ((ev->aux >> 8) == 0 && (int64_t)w[1] > 0) {
      ForkEv f = {ns, t->utid, (int64_t)w[1], (int)(ev->aux & 0xff)};
      g_array_append_val(p->forks, f);
    }
    break;
  case WEFT_EV_EXEC:
    p->exec_ns = ns;
    im->exec_counts = im->counts->len; /* the snapshots of the other threads' counts follow */
    break;
  case WEFT_EV_EXEC_FAILED:
    p->exec_ns = -1;
    /* the exec failed: the other threads live on and write their counts themselves */
    for (guint i = im->exec_counts; i < im->counts->len; i++) {
      CountRec *c = &g_array_index(im->counts, CountRec, i);
      if (c->tid != ev->tid) c->dropped = 1;
    }
    break;
  case WEFT_EV_EXIT:
    if (!p->has_exit) {
      p->has_exit = 1;
      p->exit_how = (int)ev->aux;
      p->end_ns = ns;
      if (ev->aux != WEFT_PEXIT_RETURN) {
        p->exit_status = (int64_t)(int32_t)w[1];
        p->has_status = 1;
      }
    }
    break;
  case WEFT_EV_PROCESS_INFO: {
    /* argv: NUL-separated strings then the exe */
    unsigned argc = (unsigned)(w[1] & 0xffffffffu);
    const char *s = (const char *)&w[2];
    size_t cap = (size_t)(ev->nwords - 2) * 8, off = 0;
    GString *cmd = g_string_new(NULL);
    for (unsigned i = 0; i < argc && off < cap; i++) {
      size_t l = strnlen(s + off, cap - off);
      if (i) g_string_append_c(cmd, ' ');
      g_string_append_len(cmd, s + off, (gssize)l);
      off += l + 1;
    }
    g_free(p->cmdline);
    p->cmdline = g_string_free(cmd, FALSE);
    g_free(p->exe);
    p->exe = off < cap ? g_strndup(s + off, strnlen(s + off, cap - off)) : g_strdup("");
    break;
  }
  case WEFT_EV_MODULE: {
    size_t len;
    const char *path = weft_event_string(ev, 8, &len);
    ModRec m = {++im->next_module, w[1], w[2], w[3]};
    g_array_append_val(im->modules, m);
    char bid[41] = {0};
    unsigned bl = (unsigned)(w[4] & 0xff);
    if (bl > 20) bl = 20;
    const uint8_t *b = (const uint8_t *)&w[5];
    for (unsigned i = 0; i < bl; i++) snprintf(bid + 2 * i, 3, "%02x", b[i]);
    sqlite3_bind_int64(im->ins_module, 1, m.id);
    sqlite3_bind_int64(im->ins_module, 2, p->upid);
    sqlite3_bind_text(im->ins_module, 3, path, (int)len, SQLITE_TRANSIENT);
    if (bl) sqlite3_bind_text(im->ins_module, 4, bid, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(im->ins_module, 4);
    sqlite3_bind_int64(im->ins_module, 5, (int64_t)w[1]);
    sqlite3_bind_int64(im->ins_module, 6, (int64_t)w[2]);
    sqlite3_bind_int64(im->ins_module, 7, (int64_t)w[3]);
    step(im, im->ins_module);
    break;
  }
  case WEFT_EV_STACK: {
    uint32_t id = (uint32_t)w[1];
    uint32_t depth = (uint32_t)(w[1] >> 32);
    if (depth > ev->nwords - 2) depth = ev->nwords - 2;
    PendingStack ps = {id, ++im->next_stack, g_array_sized_new(FALSE, FALSE, sizeof(uint64_t), depth)};
    g_array_append_vals(ps.ips, &w[2], depth);
    g_array_append_val(im->pending_stacks, ps);
    g_hash_table_insert(im->stack_map, GUINT_TO_POINTER(id), GSIZE_TO_POINTER((gsize)ps.global));
    break;
  }
  case WEFT_EV_SCHED: {
    SchedRec s = {ns, (uint32_t)w[1], (int64_t)w[2], (int64_t)w[3], (int64_t)w[4],
                  (ev->aux & WEFT_SCHED_BASELINE) != 0};
    g_array_append_val(im->scheds, s);
    break;
  }
  case WEFT_EV_NAME_OBJECT: {
    size_t len;
    const char *s = weft_event_string(ev, 2, &len);
    g_hash_table_insert(im->names, GSIZE_TO_POINTER((gsize)w[1]), g_strndup(s, len));
    break;
  }
  case WEFT_EV_MARK: {
    size_t len;
    const char *s = weft_event_string(ev, 2, &len);
    MarkRec m = {ns, ev->tid, (int64_t)w[1], (int)ev->aux, g_strndup(s, len)};
    g_array_append_val(im->marks, m);
    break;
  }
  default:
    break;
  }
  return im->failed ? -1 : 0;
}

/* ---- barriers: rounds ---- */
static gint cmp_waitstart(gconstpointer a, gconstpointer b) {
  const WaitStart *x = a, *y = b;
  return (x->ns > y->ns) - (x->ns < y->ns);
}

static gint cmp_arrival(gconstpointer a, gconstpointer b) {
  const Arrival *x = a, *y = b;
  return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->utid > y->utid) - (x->utid < y->utid);
}

/* Arrivals in time order, N at a time, make the rounds (N from the barrier's
 * init, else the number of waits per serial thread); the last of each round
 * releases the others. */
static void barrier_rounds(Obj *o) {
  if (!o->arr->len) return;
  g_array_sort(o->arr, cmp_arrival);
  int64_t n = o->barrier_count, serial = 0;
  for (guint i = 0; i < o->arr->len; i++) serial += g_array_index(o->arr, Arrival, i).serial;
  if (n <= 0 && serial > 0 && o->arr->len % (guint)serial == 0) n = (int64_t)(o->arr->len / (guint)serial);
  if (n <= 0) n = 1;
  for (guint r = 0; r < o->arr->len; r += (guint)n) {
    guint last = r + (guint)n - 1 < o->arr->len ? r + (guint)n - 1 : o->arr->len - 1;
    Arrival *l = &g_array_index(o->arr, Arrival, last);
    for (guint i = r; i <= last; i++) {
      Arrival *a = &g_array_index(o->arr, Arrival, i);
      a->rel_utid = l->utid;
      a->rel_ns = l->begin;
    }
  }
}

static const Arrival *arrival_find(Obj *o, int64_t utid, int64_t begin) {
  const Arrival *v = (const Arrival *)o->arr->data;
  guint a = 0, b = o->arr->len;
  while (a < b) { /* first with begin >= target */
    guint m = (a + b) / 2;
    if (v[m].begin < begin) a = m + 1;
    else b = m;
  }
  for (guint i = a; i < o->arr->len && v[i].begin == begin; i++)
    if (v[i].utid == utid) return &v[i];
  return NULL;
}

/* ---- CPython's GIL ----
 *
 * CPython 3.8 to 3.13 (with the GIL) keep it in a struct
 * _gil_runtime_state: a pthread mutex and condition variable (plus, with
 * FORCE_SWITCHING, a second pair, switch_cond/switch_mutex), inside the
 * exported data symbol _PyRuntime of libpython or of the python executable
 * (3.8-3.11: _PyRuntime.ceval.gil; 3.12+: _PyRuntime._main_interpreter._gil).
 * take_gil() locks gil->mutex and waits on gil->cond with timed waits (the
 * 5 ms switch interval) until the holder's drop_gil() signals gil->cond;
 * drop_gil() signals gil->cond every time, and with FORCE_SWITCHING then
 * waits, untimed, on switch_cond until another thread took the GIL.
 *
 * So no offsets per version: a mutex or condvar is the GIL's when it lies
 * inside _PyRuntime of a module whose name contains "python" (found through
 * the symbol table, .dynsym of a stripped binary included), or when the
 * caller of its first contended wait is take_gil or drop_gil (a build with
 * symbols). Its waits become gil_wait. Which of them is gil->cond is told
 * by use: the one waited on with timeouts; its mutex is the one those waits
 * release. The holder when a wait on gil->cond began is the thread that
 * signalled gil->cond next (only the holder drops it).
 */
enum { GIL_OBJ = 1, GIL_COND = 2, GIL_MUTEX = 4, GIL_SWITCH = 8 };

static int is_python_module(const char *path) {
  const char *b = path ? strrchr(path, '/') : NULL;
  b = b ? b + 1 : path;
  return b && strstr(b, "python") != NULL;
}

static int is_gil_function(const char *sym) {
  return sym && (!strncmp(sym, "take_gil", 8) || !strncmp(sym, "drop_gil", 8));
}

/* Mark the GIL objects of the current file (after pass 1, before pass 2).
 * Reads the module table; touches nothing when no module looks like python. */
static void gil_detect(Imp *im) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(im->db, "SELECT path, build_id FROM module WHERE module_id = ?", -1, &q, NULL) != SQLITE_OK)
    return;
  GArray *py = g_array_new(FALSE, FALSE, sizeof(ModRec)); /* the python modules */
  GPtrArray *paths = g_ptr_array_new_with_free_func(g_free), *bids = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < im->modules->len; i++) {
    ModRec *m = &g_array_index(im->modules, ModRec, i);
    sqlite3_bind_int64(q, 1, m->id);
    if (sqlite3_step(q) == SQLITE_ROW && is_python_module((const char *)sqlite3_column_text(q, 0))) {
      g_array_append_val(py, *m);
      g_ptr_array_add(paths, g_strdup((const char *)sqlite3_column_text(q, 0)));
      g_ptr_array_add(bids, g_strdup((const char *)sqlite3_column_text(q, 1)));
    }
    sqlite3_reset(q);
  }
  if (py->len && !im->gil_sym) im->gil_sym = weft_sym_new();
  GHashTable *stacks = NULL; /* global stack id -> PendingStack, for the callers */
  for (guint j = 0; py->len && im->gil_sym && j < im->objlist->len; j++) {
    Obj *o = im->objlist->pdata[j];
    if (o->kind != WEFT_KIND_MUTEX && o->kind != WEFT_KIND_COND) continue;
    for (guint i = 0; i < py->len && !o->gil; i++) {
      ModRec *m = &g_array_index(py, ModRec, i);
      uint64_t off = 0;
      const char *name = o->addr >= m->bias ? weft_sym_object(im->gil_sym, paths->pdata[i], bids->pdata[i],
                                                              o->addr - m->bias, &off) : NULL;
      if (name && !strcmp(name, "_PyRuntime")) o->gil = GIL_OBJ;
    }
    if (o->gil || !o->first_stack) continue;
    if (!stacks) {
      stacks = g_hash_table_new(g_direct_hash, g_direct_equal);
      for (guint k = 0; k < im->pending_stacks->len; k++) {
        PendingStack *ps = &g_array_index(im->pending_stacks, PendingStack, k);
        g_hash_table_insert(stacks, GSIZE_TO_POINTER((gsize)ps->global), ps);
      }
    }
    PendingStack *ps = g_hash_table_lookup(stacks, GSIZE_TO_POINTER((gsize)o->first_stack));
    if (!ps || !ps->ips->len) continue;
    uint64_t ip = g_array_index(ps->ips, uint64_t, 0);
    for (guint i = 0; i < py->len; i++) {
      ModRec *m = &g_array_index(py, ModRec, i);
      WeftSymInfo si;
      if (ip >= m->start && ip < m->end &&
          weft_sym_lookup(im->gil_sym, paths->pdata[i], bids->pdata[i], ip - m->bias, 1, &si) == 0 &&
          is_gil_function(si.symbol))
        o->gil = GIL_OBJ;
    }
  }
  if (stacks) g_hash_table_destroy(stacks);
  g_ptr_array_free(paths, TRUE);
  g_ptr_array_free(bids, TRUE);
  g_array_free(py, TRUE);
  sqlite3_finalize(q);
}

/* A wait of t on the GIL object o begins at ns (pass 2): learn the roles
 * from it, and return the thread holding the GIL (0 unknown). */
static int64_t gil_wait_begin(Imp *im, Thr *t, Obj *o, unsigned op, uint64_t mutex, int64_t ns) {
  if (o->kind != WEFT_KIND_COND) return 0; /* a mutex: glibc's owner is the blocker */
  int timed = op == WEFT_OP_TIMED || op == WEFT_OP_CLOCK;
  o->gil |= timed ? GIL_COND : GIL_SWITCH;
  Obj *m = obj_find(im, mutex, WEFT_KIND_MUTEX, ns);
  if (m && m->gil) m->gil |= timed ? GIL_MUTEX : GIL_SWITCH;
  if (!timed || !o->sig->len) return 0;
  stamps_sort(o->sig, &o->sig_sorted);
  /* the first signal at or after ns by another thread: the next drop_gil */
  const Stamp *s = (const Stamp *)o->sig->data;
  guint a = 0, b = o->sig->len;
  while (a < b) {
    guint k = (a + b) / 2;
    if (s[k].ns < ns) a = k + 1;
    else b = k;
  }
  for (; a < o->sig->len; a++)
    if (s[a].utid != t->utid) return s[a].utid;
  return 0;
}

/* The names of the GIL's objects (after pass 2), unless weft.h named them. */
static void gil_name(Imp *im) {
  for (guint j = 0; j < im->objlist->len; j++) {
    Obj *o = im->objlist->pdata[j];
    const char *nm = !o->gil ? NULL
                     : o->gil & GIL_COND ? "GIL"
                     : o->gil & GIL_MUTEX ? "GIL mutex"
                     : o->gil & GIL_SWITCH ? (o->kind == WEFT_KIND_COND ? "GIL switch_cond" : "GIL switch_mutex")
                     : NULL;
    gpointer key = GSIZE_TO_POINTER((gsize)o->addr);
    if (nm && !g_hash_table_contains(im->names, key)) g_hash_table_insert(im->names, key, g_strdup(nm));
  }
}

/* ---- pass 2: per-thread state machines ---- */
static int wait_state(int kind) {
  switch (kind) {
  case WEFT_KIND_MUTEX: return WEFT_ST_LOCK_WAIT;
  case WEFT_KIND_RWLOCK_RD: case WEFT_KIND_RWLOCK_WR: case WEFT_KIND_RWLOCK: return WEFT_ST_RWLOCK_WAIT;
  case WEFT_KIND_SPIN: return WEFT_ST_SPIN_WAIT;
  case WEFT_KIND_COND: return WEFT_ST_COND_WAIT;
  case WEFT_KIND_BARRIER: return WEFT_ST_BARRIER_WAIT;
  case WEFT_KIND_SEM: return WEFT_ST_SEM_WAIT;
  case WEFT_KIND_JOIN: return WEFT_ST_JOIN_WAIT;
  case WEFT_KIND_CHILD: return WEFT_ST_CHILD_WAIT;
  case WEFT_KIND_POLL: case WEFT_KIND_READ: return WEFT_ST_IO_WAIT;
  case WEFT_KIND_SLEEP: return WEFT_ST_SLEEP;
  default: return WEFT_ST_LOCK_WAIT;
  }
}

static int flow(Imp *im, int kind, int64_t from_utid, int64_t from_ns, int64_t to_utid, int64_t to_ns,
                int64_t obj) {
  if (!from_utid || !to_utid || from_ns > to_ns) return 0;
  int64_t row[7] = {++im->next_flow, kind, from_utid, from_ns, to_utid, to_ns, obj};
  batch_add(im, &im->flows, row, 1u << 6); /* object: NULL when 0 */
  return im->failed ? -1 : 0;
}

/* Emit the current interval of t up to ns (if not empty) and start `state` there. */
static void set_state(Imp *im, Thr *t, int64_t ns, int state, int result, int64_t waker) {
  if (ns < t->st_start) ns = t->st_start;
  if (ns > t->st_start) {
    int w = t->st != WEFT_ST_RUNNING;
    int64_t row[9] = {t->utid, t->st_start, ns - t->st_start, t->st,
                      w && t->wobj ? t->wobj->id : 0,
                      w ? (t->gil_holder ? t->gil_holder : utid_at(im, t->blocker_tid, t->st_start)) : 0,
                      w ? waker : 0, w ? t->wstack : 0, result};
    g_array_append_vals(im->state_rows, row, 1);
    if (t->st != WEFT_ST_RUNNING && t->wobj) t->wobj->wait_ns += ns - t->st_start;
  }
  t->st = state;
  t->st_start = ns;
}

static void hold_spill(Imp *im);

static void hold_row(Imp *im, int64_t utid, Obj *o, int64_t start, int64_t end, int contended, int shared,
                     int estimated) {
  if (end < start) end = start;
  HoldRow row = {start, end - start, (uint32_t)o->id,
                 (uint32_t)utid << 3 | (uint32_t)(estimated != 0) << 2 | (uint32_t)(shared != 0) << 1 |
                     (uint32_t)(contended != 0)};
  if (end - start > im->max_hold_ns) im->max_hold_ns = end - start;
  g_array_append_val(im->hold_rows, row);
  if (im->hold_rows->len >= im->hold_spill_rows) hold_spill(im);
  o->hold_ns += end - start;
  im->holds_estimated += estimated != 0;
}

static void hold_emit(Imp *im, Thr *t, Hold *h, int64_t end) {
  hold_row(im, t->utid, h->o, h->start, end, h->contended, h->shared, 0);
}

/* A hold begins (a recorded acquisition: every one before trace v3; after a
 * wait, an ACQ that must be recorded, or a condvar's mutex taken again in v3,
 * where the COUNTS records count the acquisitions). */
static void hold_begin(Imp *im, Thr *t, Obj *o, int64_t ns, int contended, int shared) {
  if (!im->v3) o->acquisitions++;
  if (contended) o->contended++;
  if (!is_lock(o->kind)) return;
  for (guint i = t->holds->len; i-- > 0;) {
    Hold *h = &g_array_index(t->holds, Hold, i);
    if (h->o == o) { /* recursive mutex, or read lock taken twice */
      h->depth++;
      return;
    }
  }
  Hold h = {o->id, o, ns, contended, shared, 1};
  g_array_append_val(t->holds, h);
}

/* Ends t's open hold of o at ns; 0 when it had none. */
static int hold_end(Imp *im, Thr *t, Obj *o, int64_t ns) {
  for (guint i = t->holds->len; i-- > 0;) {
    Hold *h = &g_array_index(t->holds, Hold, i);
    if (h->o != o) continue;
    if (--h->depth > 0) return 1;
    hold_emit(im, t, h, ns);
    g_array_remove_index(t->holds, i);
    return 1;
  }
  return 0;
}

/* Trace v3: a REL of a hold whose acquisition was not recorded (someone
 * waited for it). len_ns: its length when its start was timed (-1 not). Not
 * timed: it is known to have begun before the first wait for it by another
 * thread (that began after the previous release of the object), which is
 * where it starts, marked estimated. */
static void hold_untimed(Imp *im, Thr *t, Obj *o, int64_t ns, int64_t len_ns, int shared) {
  if (!is_lock(o->kind)) return;
  if (len_ns >= 0) {
    hold_row(im, t->utid, o, ns - len_ns, ns, 0, shared, 0);
    return;
  }
  /* the previous release of the object (by anyone) bounds it from below */
  const Stamp *prev = last_before(o->rel, &o->rel_sorted, INT64_MIN, ns - 1, -1);
  int64_t lo = prev ? prev->ns : INT64_MIN, start = ns;
  const WaitStart *v = (const WaitStart *)o->wb->data; /* sorted by ns (after pass 1) */
  guint a = 0, b = o->wb->len;
  while (a < b) {
    guint m = (a + b) / 2;
    if (v[m].ns < lo) a = m + 1;
    else b = m;
  }
  for (; a < o->wb->len && v[a].ns < ns; a++)
    if (v[a].utid != t->utid && (!v[a].holder || v[a].holder == t->tid)) {
      start = v[a].ns;
      break;
    }
  hold_row(im, t->utid, o, start, ns, 0, shared, 1);
}

/* The release (or signal) that ended a wait of utid that began at lo and
 * ended at ns: the last stamp of another thread at or before ns (and, with
 * lo > INT64_MIN, at or after lo), else in trace v3 the first one written
 * just after the call returned (late, within LATE_NS after ns). *at is its
 * time, no later than ns. */
#define LATE_NS 1000000
static const Stamp *release_for(Imp *im, GArray *v, int *sorted, int64_t lo, int64_t ns, int64_t utid, int64_t *at) {
  const Stamp *s = last_before(v, sorted, lo, ns, utid);
  if (s) {
    *at = s->ns;
    return s;
  }
  if (!im->v3 || !v->len) return NULL;
  const Stamp *x = (const Stamp *)v->data;
  guint a = 0, b = v->len;
  while (a < b) { /* first with ns > target */
    guint m = (a + b) / 2;
    if (x[m].ns <= ns) a = m + 1;
    else b = m;
  }
  for (; a < v->len && x[a].ns <= ns + LATE_NS; a++)
    if (x[a].late && x[a].utid != utid) {
      *at = ns;
      return &x[a];
    }
  return NULL;
}

static int pass2(const WeftEvent *ev, void *user) {
  Imp *im = user;
  int64_t ns = rel_ns(im, ev->ns);
  Thr *t = thr_cur(im, ev->tid);
  if (!t) return 0;
  if (ev->type == WEFT_EV_THREAD_START) {
    if (t->started2 && t->next_same_tid) { /* the tid was reused: the next thread of the chain */
      t = t->next_same_tid;
      g_hash_table_insert(im->thr_by_tid, GUINT_TO_POINTER(ev->tid), t);
      im->tc_thr = NULL;
    }
    t->started2 = 1;
  }
  im->records_done++;
  if ((im->records_done & 0xfffff) == 0) progress(im, "building the timeline");
  if (ns > t->end_ns) ns = t->end_ns; /* records after the thread's end (it ended the process) */
  const uint64_t *w = ev->w;
  unsigned kind = WEFT_AUX_KIND(ev->aux), op = WEFT_AUX_OP(ev->aux), res = WEFT_AUX_RESULT(ev->aux);
  switch (ev->type) {
  case WEFT_EV_ACQ: {
    Obj *o = obj_find(im, w[1], (int)kind, ns);
    if (o && (res == 0 || res == EOWNERDEAD))
      hold_begin(im, t, o, ns, 0, kind == WEFT_KIND_RWLOCK_RD);
    break;
  }
  case WEFT_EV_REL: {
    Obj *o = obj_find(im, weft_rel_addr(ev->aux, w[1]), (int)kind, ns);
    if (!o || res != 0) break;
    if (!hold_end(im, t, o, ns) && im->v3) {
      int late;
      uint64_t len = weft_rel_len1(ev->aux, ev->nwords, w, &late);
      int64_t len_ns = len ? (int64_t)(ev->ns - weft_trace_ticks_to_ns(im->tr, ev->tsc - (len - 1))) : -1;
      hold_untimed(im, t, o, ns, len_ns, kind == WEFT_KIND_RWLOCK_RD);
    }
    break;
  }
  case WEFT_EV_WAIT_BEGIN: {
    if (t->st != WEFT_ST_RUNNING) set_state(im, t, ns, WEFT_ST_RUNNING, 0, 0);
    Obj *wo = obj_find(im, w[1], (int)kind, ns);
    set_state(im, t, ns, wo && wo->gil ? WEFT_ST_GIL_WAIT : wait_state((int)kind), 0, 0);
    t->wobj = wo;
    t->gil_holder = wo && wo->gil ? gil_wait_begin(im, t, wo, op, w[3], ns) : 0;
    t->wkind = (int)kind;
    t->wop = (int)op;
    t->waddr = w[1];
    t->wobj2 = w[3];
    t->blocker_tid = (uint32_t)w[2];
    t->wstack = stack_global(im, w[2] >> 32);
    t->wbegin = ns;
    break;
  }
  case WEFT_EV_WAIT_END: {
    if (t->st == WEFT_ST_RUNNING) break; /* an end without a begin (cut trace): ignore */
    Obj *o = t->wobj;
    int64_t waker = 0, from_ns = 0;
    int fk = 0;
    int ok = res == 0 || res == EOWNERDEAD;
    /* v3 records releases only when someone waits: one long before this
     * wait was not for it (a REL is timed before the unlock, so it can come
     * a little before the waiter's WAIT_BEGIN) */
    int64_t lo = im->v3 ? t->wbegin - LATE_NS : INT64_MIN;
    if (o && ok && is_lock(o->kind)) {
      /* the release that let it in: the last one before */
      const Stamp *s = release_for(im, o->rel, &o->rel_sorted, lo, ns, t->utid, &from_ns);
      if (s) { waker = s->utid; fk = WEFT_FLOW_LOCK_HANDOFF; }
      else if (im->v3 && t->blocker_tid) {
        /* the holder's release was not seen (it raced the announcement):
         * it happened before the waiter got the lock */
        waker = utid_at(im, t->blocker_tid, t->wbegin);
        from_ns = ns;
        fk = waker && waker != t->utid ? WEFT_FLOW_LOCK_HANDOFF : 0;
        im->releases_missing++;
      }
    } else if (o && ok && o->kind == WEFT_KIND_COND) {
      const Stamp *s = release_for(im, o->sig, &o->sig_sorted, t->wbegin, ns, t->utid, &from_ns);
      if (s) { waker = s->utid; fk = WEFT_FLOW_WAKEUP; }
    } else if (o && ok && o->kind == WEFT_KIND_SEM) {
      const Stamp *s = release_for(im, o->rel, &o->rel_sorted, lo, ns, t->utid, &from_ns);
      if (s) { waker = s->utid; fk = WEFT_FLOW_SEM_POST; }
    } else if (o && o->kind == WEFT_KIND_BARRIER) {
      const Arrival *a = arrival_find(o, t->utid, t->wbegin);
      if (a && a->rel_utid != t->utid) { waker = a->rel_utid; from_ns = a->rel_ns; fk = WEFT_FLOW_BARRIER; }
    } else if (t->wkind == WEFT_KIND_JOIN && ok) {
      /* the thread with that pthread_t alive when the join returned: it may
       * have started only after the join began (pthread_t are reused only
       * once joined, so no later thread can have it yet) */
      Thr *j = thr_by_self_at(im, t->waddr, ns);
      if (j) {
        waker = j->utid;
        from_ns = j->end_ns;
        fk = WEFT_FLOW_JOIN;
        if (!t->blocker_tid) t->blocker_tid = j->tid; /* the agent forgets threads that ended */
      }
    }
    if (o && ok && (is_lock(o->kind) || o->kind == WEFT_KIND_SEM)) hold_begin(im, t, o, ns, 1, t->wkind == WEFT_KIND_RWLOCK_RD);
    set_state(im, t, ns, WEFT_ST_RUNNING, (int)res, waker);
    if (fk && from_ns <= ns) flow(im, fk, waker, from_ns, t->utid, ns, o ? o->id : 0);
    if ((t->wkind == WEFT_KIND_READ || t->wkind == WEFT_KIND_POLL) && ok && ev->nwords >= 4 && w[3]) {
      ChanWait cw = {w[3], t->wbegin, ns, t->utid, o ? o->id : 0, t->wkind == WEFT_KIND_POLL}; /* linked once every file is read */
      g_array_append_val(im->pipe_waits, cw);
    }
    t->wobj = NULL;
    t->gil_holder = 0;
    break;
  }
  default:
    break;
  }
  return im->failed ? -1 : 0;
}

/* ---- the rows of a file, sorted ---- */

/* Level of detail: per thread, per level L (buckets of LOD_BASE_NS * 4^L),
 * per bucket and state: time, longest interval and interval count. The
 * finest level kept is the first whose bucket count is at most half the
 * thread's interval count; every coarser level up to one bucket for the
 * thread's life is kept. Threads with few intervals get none (viewers read
 * their intervals directly). */
#define LOD_BASE_NS 1024
#define LOD_MAX_LEVEL 24

typedef struct {
  int64_t total[WEFT_ST_COUNT], longest[WEFT_ST_COUNT], count[WEFT_ST_COUNT];
  int64_t bucket;
  int used;
  int carry;              /* state of the interval that began before the bucket and runs into it, -1 none */
} Bucket;

typedef struct {
  int64_t bucket;
  int carry;
} CarryRow;

typedef struct {
  int64_t v[7];               /* state_summary's columns */
} SumRow;

static void lod_flush(GArray *out, GArray *carries, int64_t utid, int level, Bucket *b) {
  if (!b->used) return;
  CarryRow cr = {b->bucket, b->carry};
  g_array_append_val(carries, cr);
  for (int s = 0; s < WEFT_ST_COUNT; s++) {
    if (!b->count[s]) continue;
    SumRow r = {{utid, level, b->bucket, s, b->total[s], b->longest[s], b->count[s]}};
    g_array_append_val(out, r);
  }
  memset(b, 0, sizeof *b);
}

/* out[L]: level L's rows, made in (bucket, state) order, so written level by
 * level they come in key order. */
/* Level L + 1 from level L: a bucket is its 4 children. Times add up and
 * longest is the largest; an interval overlapping two children is counted
 * in both, and it is the one that runs into the second from before (a
 * thread's intervals are contiguous), so the count is the children's sum
 * less one per carried-in internal child. */
static void lod_coarser(GArray *in, GArray *cin, GArray *out, GArray *cout, int64_t utid, int level, Bucket *b) {
  memset(b, 0, sizeof *b);
  guint r = 0;
  for (guint i = 0; i < cin->len; i++) {
    const CarryRow *c = &g_array_index(cin, CarryRow, i);
    int64_t K = c->bucket >> 2;
    if (b->used && b->bucket != K) lod_flush(out, cout, utid, level, b);
    if (!b->used) {
      b->used = 1;
      b->bucket = K;
      b->carry = (c->bucket & 3) == 0 ? c->carry : -1; /* the parent begins where its first child does */
    } else if (c->carry >= 0) {
      b->count[c->carry]--; /* counted in the child before too */
    }
    for (; r < in->len && g_array_index(in, SumRow, r).v[2] == c->bucket; r++) {
      const SumRow *x = &g_array_index(in, SumRow, r);
      int st = (int)x->v[3];
      b->total[st] += x->v[4];
      if (x->v[5] > b->longest[st]) b->longest[st] = x->v[5];
      b->count[st] += x->v[6];
    }
  }
  lod_flush(out, cout, utid, level, b);
}

/* out[L]: level L's rows, made in (bucket, state) order, so written level by
 * level they come in key order. The finest level from the intervals, each
 * coarser one from the one below. */
static void lod_thread(Imp *im, const Thr *t, const StateRow *rows, size_t n, Bucket *b, GArray **out,
                       GArray **carries) {
  int64_t s0 = t->start_ns, s1 = t->end_ns;
  int64_t life = s1 - s0 > 0 ? s1 - s0 : 1;
  int lo = 0, hi = 0;
  while (lo < LOD_MAX_LEVEL && life / ((int64_t)LOD_BASE_NS << (2 * lo)) + 1 > (int64_t)n / 2) lo++;
  while (hi < LOD_MAX_LEVEL && (s1 / ((int64_t)LOD_BASE_NS << (2 * hi))) != (s0 / ((int64_t)LOD_BASE_NS << (2 * hi)))) hi++;
  if (n < 8 || lo > hi) return;
  memset(b, 0, sizeof *b);
  int64_t w = (int64_t)LOD_BASE_NS << (2 * lo);
  for (size_t i = 0; i < n; i++) {
    int64_t a = rows[i].v[1], d = rows[i].v[2];
    int s = (int)rows[i].v[3];
    if (s < 0 || s >= WEFT_ST_COUNT || d <= 0) continue;
    for (int64_t k = a / w; k <= (a + d - 1) / w; k++) {
      if (b->used && b->bucket != k) lod_flush(out[lo], carries[lo], t->utid, lo, b);
      if (!b->used) {
        b->used = 1;
        b->bucket = k;
        b->carry = a < k * w ? s : -1;
      }
      int64_t x0 = a > k * w ? a : k * w, x1 = a + d < (k + 1) * w ? a + d : (k + 1) * w;
      b->total[s] += x1 - x0;
      if (d > b->longest[s]) b->longest[s] = d;
      b->count[s]++;
    }
  }
  lod_flush(out[lo], carries[lo], t->utid, lo, b);
  for (int L = lo + 1; L <= hi; L++) lod_coarser(out[L - 1], carries[L - 1], out[L], carries[L], t->utid, L, b);
  for (int L = lo; L <= hi; L++) {
    for (guint i = 0; i < out[L]->len && !im->failed; i++)
      batch_add(im, &im->summaries, g_array_index(out[L], SumRow, i).v, 0);
    out[L]->len = 0;
    carries[L]->len = 0;
  }
}

static int cmp_staterow(const void *x, const void *y) {
  const StateRow *a = x, *b = y;
  if (a->v[0] != b->v[0]) return a->v[0] < b->v[0] ? -1 : 1;
  return (a->v[1] > b->v[1]) - (a->v[1] < b->v[1]);
}

static int cmp_hold(const void *x, const void *y) {
  const HoldRow *a = x, *b = y;
  if (a->obj != b->obj) return a->obj < b->obj ? -1 : 1;
  if (a->start != b->start) return a->start < b->start ? -1 : 1;
  return (a->utid_flags >> 3 > b->utid_flags >> 3) - (a->utid_flags >> 3 < b->utid_flags >> 3);
}


static inline int hold_before(const HoldRow *a, const HoldRow *b) {
  return a->start < b->start || (a->start == b->start && a->utid_flags >> 3 < b->utid_flags >> 3);
}
DEFINE_MERGE_RUNS(merge_holds, HoldRow, hold_before)

/* By object (a stable counting pass: the file's objects have consecutive
 * ids), then each object's holds by start. */
static void sort_holds(GArray *hr) {
  if (hr->len < 2) return;
  HoldRow *v = (HoldRow *)hr->data;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (guint i = 0; i < hr->len; i++) {
    if (v[i].obj < lo) lo = v[i].obj;
    if (v[i].obj > hi) hi = v[i].obj;
  }
  if (hi - lo > (int64_t)hr->len * 4) { /* sparse ids: not worth a table */
    qsort(v, hr->len, sizeof *v, cmp_hold);
    return;
  }
  size_t nk = (size_t)(hi - lo) + 2;
  size_t *at = g_new0(size_t, nk);
  for (guint i = 0; i < hr->len; i++) at[v[i].obj - lo + 1]++;
  for (size_t k = 1; k < nk; k++) at[k] += at[k - 1];
  HoldRow *out = g_new(HoldRow, hr->len);
  size_t *fill = g_memdup2(at, nk * sizeof *at);
  for (guint i = 0; i < hr->len; i++) out[fill[v[i].obj - lo]++] = v[i];
  for (size_t k = 0; k + 1 < nk; k++)
    if (at[k + 1] - at[k] > 1) merge_holds(out + at[k], v + at[k], at[k + 1] - at[k]);
  memcpy(v, out, hr->len * sizeof *v);
  g_free(out);
  g_free(fill);
  g_free(at);
}

/* hold_rows, sorted, as a run at the end of the spill file. */
static void hold_spill(Imp *im) {
  GArray *hr = im->hold_rows;
  if (im->failed || !hr->len) return;
  if (!im->hold_spill && !(im->hold_spill = tmpfile())) {
    fail(im, "cannot create a temporary file for the lock holds: %s", g_strerror(errno));
    return;
  }
  sort_holds(hr);
  HoldRun run = {0, hr->len};
  if (fseeko(im->hold_spill, 0, SEEK_END) != 0 || (run.off = ftello(im->hold_spill)) < 0 ||
      fwrite(hr->data, sizeof(HoldRow), hr->len, im->hold_spill) != hr->len) {
    fail(im, "cannot write the lock holds to a temporary file: %s", g_strerror(errno));
    return;
  }
  g_array_append_val(im->hold_runs, run);
  hr->len = 0;
}

/* A run being merged: a window of its rows read from the spill file. */
typedef struct {
  HoldRun run;
  size_t done;                /* rows of the run consumed */
  HoldRow buf[4096];
  size_t pos, len;            /* in buf */
} RunReader;

static const HoldRow *run_peek(Imp *im, RunReader *r) {
  if (r->pos < r->len) return &r->buf[r->pos];
  size_t left = r->run.n - r->done;
  if (!left) return NULL;
  size_t n = left < G_N_ELEMENTS(r->buf) ? left : G_N_ELEMENTS(r->buf);
  if (fseeko(im->hold_spill, r->run.off + (off_t)(r->done * sizeof(HoldRow)), SEEK_SET) != 0 ||
      fread(r->buf, sizeof(HoldRow), n, im->hold_spill) != n) {
    fail(im, "cannot read the lock holds back from their temporary file");
    return NULL;
  }
  r->pos = 0;
  r->len = n;
  return &r->buf[0];
}

/* Every hold of the file in (object, start) order into blocks: the rows in
 * memory, or a merge of the spilled runs. */
static void holds_to_blocks(Imp *im) {
  GArray *hr = im->hold_rows;
  if (im->hold_spill) hold_spill(im); /* the rest as the last run */
  else sort_holds(hr);
  guint nr = im->hold_runs->len;
  RunReader *rr = nr ? g_new0(RunReader, nr) : NULL;
  for (guint k = 0; k < nr; k++) rr[k].run = g_array_index(im->hold_runs, HoldRun, k);
  WeftHoldBlock blk = {0};
  for (guint i = 0; !im->failed; i++) {
    const HoldRow *r = NULL;
    RunReader *from = NULL;
    if (!nr) {
      if (i >= hr->len) break;
      r = &g_array_index(hr, HoldRow, i);
    } else { /* the least head of the runs (a few dozen at most: a scan) */
      for (guint k = 0; k < nr; k++) {
        const HoldRow *x = run_peek(im, &rr[k]);
        if (x && (!r || cmp_hold(x, r) < 0)) {
          r = x;
          from = &rr[k];
        }
      }
      if (!r) break;
    }
    const WeftHold hh = {r->obj, r->utid_flags >> 3, r->start, r->dur, (int)(r->utid_flags & 1),
                         (int)(r->utid_flags >> 1 & 1), (int)(r->utid_flags >> 2 & 1)};
    if (from) {
      from->pos++;
      from->done++;
    }
    int rc = weft_hold_block_push(im->ins_block, &blk, &hh);
    if (rc == SQLITE_NOMEM) fail(im, "out of memory");
    else if (rc != SQLITE_OK) fail(im, "database: %s", sqlite3_errmsg(im->db));
  }
  if (!im->failed && weft_hold_block_insert(im->ins_block, &blk) != SQLITE_OK)
    fail(im, "database: %s", sqlite3_errmsg(im->db));
  weft_hold_block_free(&blk);
  g_free(rr);
  hr->len = 0;
  if (im->hold_spill) fclose(im->hold_spill);
  im->hold_spill = NULL;
  im->hold_runs->len = 0;
}

/* Thread states by utid (a stable counting pass: the file's threads have
 * consecutive utids), each thread's in start order as pass 2 made them
 * (checked: a thread whose rows are not gets sorted). */
static void sort_states(GArray *sr) {
  if (sr->len < 2) return;
  StateRow *v = (StateRow *)sr->data;
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (guint i = 0; i < sr->len; i++) {
    if (v[i].v[0] < lo) lo = v[i].v[0];
    if (v[i].v[0] > hi) hi = v[i].v[0];
  }
  if (hi - lo > (int64_t)sr->len * 4) {
    qsort(v, sr->len, sizeof *v, cmp_staterow);
    return;
  }
  size_t nk = (size_t)(hi - lo) + 2;
  size_t *at = g_new0(size_t, nk);
  for (guint i = 0; i < sr->len; i++) at[v[i].v[0] - lo + 1]++;
  for (size_t k = 1; k < nk; k++) at[k] += at[k - 1];
  StateRow *out = g_new(StateRow, sr->len);
  size_t *fill = g_memdup2(at, nk * sizeof *at);
  for (guint i = 0; i < sr->len; i++) out[fill[v[i].v[0] - lo]++] = v[i];
  for (size_t k = 0; k + 1 < nk; k++)
    for (size_t i = at[k] + 1; i < at[k + 1]; i++)
      if (out[i].v[1] < out[i - 1].v[1]) {
        qsort(out + at[k], at[k + 1] - at[k], sizeof *out, cmp_staterow);
        break;
      }
  memcpy(v, out, sr->len * sizeof *v);
  g_free(out);
  g_free(fill);
  g_free(at);
}

/* The file's thread states (in key order, so every insert is an append),
 * their level-of-detail summaries, and its lock holds in blocks. */
static void write_file_rows(Imp *im) {
  GArray *sr = im->state_rows;
  sort_states(sr);
  GHashTable *by_utid = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (guint i = 0; i < im->threads->len; i++) {
    Thr *t = im->threads->pdata[i];
    g_hash_table_insert(by_utid, &t->utid, t);
  }
  Bucket *b = g_new0(Bucket, 1);
  GArray *sums[LOD_MAX_LEVEL + 1], *carries[LOD_MAX_LEVEL + 1];
  for (int L = 0; L <= LOD_MAX_LEVEL; L++) {
    sums[L] = g_array_new(FALSE, FALSE, sizeof(SumRow));
    carries[L] = g_array_new(FALSE, FALSE, sizeof(CarryRow));
  }
  for (guint i = 0; i < sr->len && !im->failed;) {
    guint j = i;
    const StateRow *r = &g_array_index(sr, StateRow, i);
    while (j < sr->len && g_array_index(sr, StateRow, j).v[0] == r->v[0]) {
      batch_add(im, &im->states, g_array_index(sr, StateRow, j).v, 0xf0); /* object, blocker, waker, stack: NULL when 0 */
      j++;
    }
    const Thr *t = g_hash_table_lookup(by_utid, &r->v[0]);
    if (t) lod_thread(im, t, r, j - i, b, sums, carries);
    i = j;
  }
  for (int L = 0; L <= LOD_MAX_LEVEL; L++) {
    g_array_free(sums[L], TRUE);
    g_array_free(carries[L], TRUE);
  }
  g_free(b);
  g_hash_table_destroy(by_utid);
  sr->len = 0;

  holds_to_blocks(im);
}

/* ---- one file ---- */
/* The reading a thread's schedstat counts from, or NULL (from 0 at its
 * start): a main thread's reading at its image's start (its counters run
 * from its process's fork). Flagged by the agent; a fork child's main thread
 * has none. Files from before the flag: a main thread's first reading. */
/* Readings of t's tid up to this instant are t's: a thread reads its own
 * last one while it exits, after its THREAD_EXIT (on a busy machine, many
 * ms later), so up to the next thread with that tid, or a second on. */
static int64_t sched_until(const Thr *t) {
  return t->next_same_tid ? t->next_same_tid->start_ns : t->end_ns + 1000000000;
}

static const SchedRec *sched_baseline(Imp *im, Thr *t) {
  if (!t->sched_base) { /* once per thread (readings are all in by now) */
    t->sched_base = -1;
    for (guint k = 0; k < im->scheds->len && (t->is_main || !im->sched_base); k++) {
      const SchedRec *b = &g_array_index(im->scheds, SchedRec, k);
      if (b->tid != t->tid || b->ns < t->start_ns || b->ns > sched_until(t)) continue;
      if (im->sched_base ? b->base : t->is_main) t->sched_base = (int64_t)k + 1;
      if (!im->sched_base || b->base) break;
    }
  }
  return t->sched_base > 0 ? &g_array_index(im->scheds, SchedRec, t->sched_base - 1) : NULL;
}

static void thread_finish(Imp *im, Proc *p, Thr *t) {
  /* when did it end, and how */
  if (t->is_main || (!t->has_start && t == g_hash_table_lookup(im->thr_first, GUINT_TO_POINTER(p->pid))))
    t->start_ns = p->start_ns;
  if (t->has_exit && t->exit_how != WEFT_EXIT_AT_PROCESS_EXIT) {
    t->end_ns = t->exit_ns;
    t->end_how = t->exit_how == WEFT_EXIT_PTHREAD_EXIT ? "pthread_exit" : "return";
  } else if (t->has_exit) {
    t->end_ns = t->exit_ns;
    t->end_how = "process_exit";
  } else {
    t->end_ns = p->end_ns;
    t->end_how = !strcmp(p->end_how, "exec") ? "exec" : !strcmp(p->end_how, "killed") ? "killed" : "process_exit";
  }
  if (t->end_ns < t->start_ns) t->end_ns = t->start_ns;
}

/* A scan of tr failed with err. A file cut short at its end (a crash, a full
 * disk) is expected damage: a warning, its records before the cut imported.
 * Corruption (or a read error) fails the import, unless salvaging: then the
 * records before the fault are kept, and meta says so (weft report tells). */
static int scan_fault(Imp *im, WeftTrace *tr, const char *err) {
  if (!weft_trace_bad_at(tr) && weft_trace_cut_at(tr)) {
    warnf(im, "%s; the records before the cut are imported", err);
    return 0;
  }
  if (!im->salvage) return fail(im, "%s", err);
  warnf(im, "%s; salvaged: the records before it are imported, the rest of the file is not", err);
  im->stats->salvaged++;
  if (!im->salvage_first) im->salvage_first = g_strdup(err);
  return 0;
}

static int import_file(Imp *im, WeftTrace *tr) {
  const WeftFileHeader *h = weft_trace_header(tr);
  Proc *p = g_new0(Proc, 1);
  g_ptr_array_add(im->procs, p);
  p->upid = (int64_t)im->procs->len;
  p->pid = h->pid;
  p->ppid = h->ppid;
  p->image = h->image;
  p->session = h->session;
  p->start_ns = rel_ns(im, h->start_ns);
  p->last_ns = p->start_ns;
  p->exec_ns = -1;
  p->lost = (int64_t)h->lost;
  p->file = g_strdup(weft_trace_name(tr));
  p->forks = g_array_new(FALSE, FALSE, sizeof(ForkEv));
  p->waits = g_array_new(FALSE, FALSE, sizeof(WaitEv));
  im->p = p;
  im->tr = tr;
  im->v3 = (h->features & WEFT_FEAT_COUNTERS) != 0;
  im->sched_base = (h->features & WEFT_FEAT_SCHED_BASE) != 0;
  p->counters = im->v3;
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
  char err[512];
  int rc = 0;

  /* pass 0: when objects were destroyed (an address reused later is another object) */
  {
    char e0[256];
    const uint64_t destroys[4] = {[WEFT_EV_DESTROY >> 6] = 1ULL << (WEFT_EV_DESTROY & 63)};
    weft_trace_scan_types(tr, destroys, pass0, im, e0, sizeof e0); /* a fault is reported by pass 1 */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, im->destroys);
    while (g_hash_table_iter_next(&it, &k, &v)) g_array_sort(v, cmp_i64);
  }
  /* pass 1 */
  im->pass = 1;
  int r = weft_trace_scan(tr, pass1, im, err, sizeof err);
  if (r < 0 && !im->failed && scan_fault(im, tr, err) < 0) { rc = -1; goto out; }
  if (im->failed) { rc = -1; goto out; }
  im->stats->lost += (uint64_t)p->lost;
  if (weft_trace_cut_at(tr)) im->stats->truncated++; /* the records past the cut are lost, uncounted */

  /* the counts, into their objects */
  for (guint i = 0; i < im->counts->len; i++) {
    const CountRec *c = &g_array_index(im->counts, CountRec, i);
    if (c->dropped) continue;
    Obj *o = c->o;
    o->acquisitions += c->acq;
    o->failed += c->fail;
    o->releases += c->rel;
    o->samples += c->samples;
    o->sample_ns += c->sample_ns;
    if (c->sample_max > o->sample_max) o->sample_max = c->sample_max;
  }

  /* how the process ended */
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

  /* stacks and frames (modules are all known now) */
  for (guint i = 0; i < im->pending_stacks->len; i++) {
    PendingStack *ps = &g_array_index(im->pending_stacks, PendingStack, i);
    sqlite3_bind_int64(im->ins_stack, 1, ps->global);
    sqlite3_bind_int64(im->ins_stack, 2, p->upid);
    sqlite3_bind_int(im->ins_stack, 3, (int)ps->ips->len);
    step(im, im->ins_stack);
    for (guint d = 0; d < ps->ips->len; d++) {
      int fid = frame_id(im, g_array_index(ps->ips, uint64_t, d));
      sqlite3_bind_int64(im->ins_sf, 1, ps->global);
      sqlite3_bind_int(im->ins_sf, 2, (int)d);
      sqlite3_bind_int(im->ins_sf, 3, fid);
      step(im, im->ins_sf);
    }
  }

  /* threads: ends, then pass 2 */
  for (guint i = 0; i < im->threads->len; i++) thread_finish(im, p, im->threads->pdata[i]);
  for (guint i = 0; i < im->threads->len; i++) {
    Thr *t = im->threads->pdata[i];
    t->st = WEFT_ST_RUNNING;
    t->st_start = t->start_ns;
    if (t->is_main) p->main_utid = t->utid;
  }
  if (!p->main_utid) {
    Thr *m = g_hash_table_lookup(im->thr_first, GUINT_TO_POINTER(p->pid));
    if (m) p->main_utid = m->utid;
  }
  /* pass 2 starts every tid at the first thread of its chain */
  {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, im->thr_first);
    while (g_hash_table_iter_next(&it, &k, &v)) g_hash_table_insert(im->thr_by_tid, k, v);
    im->tc_thr = NULL;
  }
  for (guint j = 0; j < im->objlist->len; j++) {
    Obj *o = im->objlist->pdata[j];
    barrier_rounds(o);
    g_array_sort(o->wb, cmp_waitstart);
  }
  if (!im->no_symbols) gil_detect(im);
  im->pass = 2;
  r = weft_trace_scan(tr, pass2, im, err, sizeof err);
  if (im->failed) { rc = -1; goto out; }

  /* close every thread: open waits and holds end with it */
  for (guint i = 0; i < im->threads->len; i++) {
    Thr *t = im->threads->pdata[i];
    /* a thread still blocked when its process exits, execs or is killed is
     * normal (a pool's parked workers); one that returned from inside a wait
     * is not */
    if (t->st != WEFT_ST_RUNNING && t->end_ns > t->st_start && t->end_how &&
        (!strcmp(t->end_how, "return") || !strcmp(t->end_how, "pthread_exit")))
      warnf(im, "%s: thread %u ends inside a %s wait", p->file, t->tid, weft_state_name(t->st));
    set_state(im, t, t->end_ns, WEFT_ST_RUNNING, 0, 0);
    for (guint j = 0; j < t->holds->len; j++) hold_emit(im, t, &g_array_index(t->holds, Hold, j), t->end_ns);
    t->holds->len = 0;
    /* schedstat: the last reading of the thread, less its baseline */
    const SchedRec *b = sched_baseline(im, t);
    int64_t base_ns = b ? b->ns : t->start_ns;
    for (guint j = 0; j < im->scheds->len; j++) {
      SchedRec *s = &g_array_index(im->scheds, SchedRec, j);
      if (s->tid == t->tid && s->ns >= t->start_ns && s->ns <= sched_until(t)) {
        t->cpu_ns = s->cpu - (b ? b->cpu : 0);
        t->runq_ns = s->runq - (b ? b->runq : 0);
        /* a thread is on a CPU or in its run queue at most the wall time
         * between the readings: a vfork child's first reading after exec
         * can be a stale 0, its next one counting the time since the vfork */
        int64_t wall = ((int64_t)s->ns < t->end_ns ? (int64_t)s->ns : t->end_ns) - base_ns; /* a late one: to the end */
        if (wall < 0) wall = 0;
        if (t->cpu_ns > wall) t->cpu_ns = wall;
        if (t->runq_ns > wall - t->cpu_ns) t->runq_ns = wall - t->cpu_ns;
      }
    }
    /* row */
    sqlite3_stmt *q = im->ins_thread;
    Thr *creator = t->creator_tid ? thr_at(im, t->creator_tid, t->start_ns) : NULL;
    const char *name = t->name;
    char *base = NULL;
    if (!name || !*name) {
      const char *exe = p->exe && *p->exe ? p->exe : p->cmdline ? p->cmdline : "";
      const char *sl = strrchr(exe, '/');
      base = g_strdup(sl ? sl + 1 : exe);
      name = base;
    }
    sqlite3_bind_int64(q, 1, t->utid);
    sqlite3_bind_int64(q, 2, p->upid);
    sqlite3_bind_int64(q, 3, t->tid);
    sqlite3_bind_text(q, 4, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(q, 5, t->is_main || t->tid == p->pid);
    bind_opt(q, 6, creator ? creator->utid : 0);
    bind_opt(q, 7, (int64_t)t->routine);
    bind_opt(q, 8, t->routine ? frame_id(im, t->routine) : 0);
    sqlite3_bind_int64(q, 9, t->start_ns);
    sqlite3_bind_int64(q, 10, t->end_ns);
    sqlite3_bind_text(q, 11, t->end_how, -1, SQLITE_STATIC);
    if (t->cpu_ns || t->runq_ns) {
      sqlite3_bind_int64(q, 12, t->cpu_ns);
      sqlite3_bind_int64(q, 13, t->runq_ns);
    } else {
      sqlite3_bind_null(q, 12);
      sqlite3_bind_null(q, 13);
    }
    sqlite3_bind_int64(q, 14, t->lost);
    step(im, q);
    g_free(base);
    im->stats->threads++;
  }
  write_file_rows(im);
  batch_flush(im, &im->states);
  batch_flush(im, &im->summaries);
  batch_flush(im, &im->flows);
  /* schedstat samples, counted from the thread's start in this image (less
   * a main thread's baseline, taken at the image's start) */
  for (guint j = 0; j < im->scheds->len; j++) {
    SchedRec *s = &g_array_index(im->scheds, SchedRec, j);
    Thr *st = thr_at(im, s->tid, s->ns);
    if (!st || !st->utid) continue;
    const SchedRec *b = sched_baseline(im, st);
    int64_t base_cpu = b ? b->cpu : 0, base_runq = b ? b->runq : 0;
    sqlite3_bind_int64(im->ins_sched, 1, st->utid);
    /* the reading a thread takes as it exits, after its recorded end: at its end */
    sqlite3_bind_int64(im->ins_sched, 2, s->ns > st->end_ns ? st->end_ns : s->ns);
    sqlite3_bind_int64(im->ins_sched, 3, s->cpu - base_cpu);
    sqlite3_bind_int64(im->ins_sched, 4, s->runq - base_runq);
    sqlite3_bind_int64(im->ins_sched, 5, s->slices);
    step(im, im->ins_sched);
  }
  /* marks: begin/end pairs per thread and id */
  for (guint j = 0; j < im->marks->len; j++) {
    MarkRec *m = &g_array_index(im->marks, MarkRec, j);
    if (m->how == WEFT_MARK_END) continue;
    int64_t end = m->ns;
    if (m->how == WEFT_MARK_BEGIN) {
      end = -1;
      for (guint k = j + 1; k < im->marks->len; k++) {
        MarkRec *e = &g_array_index(im->marks, MarkRec, k);
        if (e->how == WEFT_MARK_END && e->id == m->id && e->tid == m->tid) { end = e->ns; break; }
      }
      if (end < 0) end = p->end_ns;
    }
    sqlite3_bind_int64(im->ins_mark, 1, utid_at(im, m->tid, m->ns));
    sqlite3_bind_int64(im->ins_mark, 2, m->ns);
    sqlite3_bind_int64(im->ins_mark, 3, end - m->ns);
    sqlite3_bind_int64(im->ins_mark, 4, m->id);
    sqlite3_bind_text(im->ins_mark, 5, m->label, -1, SQLITE_TRANSIENT);
    step(im, im->ins_mark);
  }
  /* create -> start flows */
  for (guint j = 0; j < im->creates->len; j++) {
    CreateEv *c = &g_array_index(im->creates, CreateEv, j);
    Thr *n = thr_by_self(im, c->self, c->ns);
    if (n) flow(im, WEFT_FLOW_CREATE, c->utid, c->ns, n->utid, n->start_ns, 0);
  }
  /* objects */
  gil_name(im);
  for (guint j = 0; j < im->objlist->len; j++) {
    Obj *o = im->objlist->pdata[j];
    sqlite3_stmt *q = im->ins_obj;
    sqlite3_bind_int64(q, 1, o->id);
    sqlite3_bind_int64(q, 2, p->upid);
    sqlite3_bind_int64(q, 3, (int64_t)o->addr);
    sqlite3_bind_int(q, 4, o->kind);
    bind_opt(q, 5, o->init_stack);
    bind_opt(q, 6, o->first_stack);
    sqlite3_bind_int64(q, 7, o->first_ns);
    sqlite3_bind_int64(q, 8, o->acquisitions);
    sqlite3_bind_int64(q, 9, o->contended);
    sqlite3_bind_int64(q, 10, o->wait_ns);
    sqlite3_bind_int64(q, 11, o->hold_ns);
    const char *nm = g_hash_table_lookup(im->names, GSIZE_TO_POINTER((gsize)o->addr));
    if (nm) sqlite3_bind_text(q, 12, nm, -1, SQLITE_TRANSIENT);
    else sqlite3_bind_null(q, 12);
    sqlite3_bind_int64(q, 13, o->failed);
    sqlite3_bind_int64(q, 14, o->releases);
    sqlite3_bind_int64(q, 15, o->samples);
    sqlite3_bind_int64(q, 16, o->sample_ns);
    sqlite3_bind_int64(q, 17, o->sample_max);
    step(im, q);
  }
  /* the counts, per thread and flush (v3) */
  for (guint j = 0; j < im->counts->len && !im->failed; j++) {
    const CountRec *c = &g_array_index(im->counts, CountRec, j);
    if (c->dropped) continue;
    int64_t row[10] = {c->o->id, utid_at(im, c->tid, c->first_ns), c->first_ns, c->ns, c->acq, c->fail, c->rel,
                       c->samples, c->sample_ns, c->sample_max};
    batch_add(im, &im->count_rows, row, 1u << 1); /* utid: NULL when unknown */
  }
  batch_flush(im, &im->count_rows);
  im->stats->processes++;
out:
  g_array_free(im->counts, TRUE);
  im->counts = NULL;
  im->state_rows->len = 0;
  im->hold_rows->len = 0;
  if (im->hold_spill) fclose(im->hold_spill); /* a failed import: its runs are not wanted */
  im->hold_spill = NULL;
  im->hold_runs->len = 0;
  for (guint i = 0; i < im->pending_stacks->len; i++)
    g_array_free(g_array_index(im->pending_stacks, PendingStack, i).ips, TRUE);
  g_array_free(im->pending_stacks, TRUE);
  im->pending_stacks = NULL;
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
  g_ptr_array_free(im->threads, TRUE);
  g_hash_table_destroy(im->thr_first);
  g_hash_table_destroy(im->thr_by_tid);
  g_hash_table_destroy(im->thr_by_self);
  return rc;
}

/* ---- links between processes ---- */
static Proc *proc_of_pid_at(Imp *im, int64_t pid, int64_t ns) {
  Proc *best = NULL;
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *p = im->procs->pdata[i];
    if (p->pid == pid && p->start_ns <= ns + 1 && (!best || p->start_ns > best->start_ns)) best = p;
  }
  return best;
}

static Proc *proc_first_after(Imp *im, int64_t pid, int64_t ns) {
  Proc *best = NULL;
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *p = im->procs->pdata[i];
    if (p->pid == pid && p->start_ns >= ns && (!best || p->start_ns < best->start_ns)) best = p;
  }
  return best;
}

static int link_processes(Imp *im) {
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *p = im->procs->pdata[i];
    /* exec: the image before, of the same pid, that ended by exec */
    if (p->image > 0) {
      for (guint j = 0; j < im->procs->len; j++) {
        Proc *q = im->procs->pdata[j];
        if (q->pid == p->pid && q->image + 1 == p->image && q->exec_ns >= 0) {
          p->exec_from_upid = q->upid;
          p->parent_upid = q->parent_upid; /* set below for q too; fixed in a second round */
          flow(im, WEFT_FLOW_EXEC, q->main_utid, q->exec_ns, p->main_utid, p->start_ns, 0);
        }
      }
    }
  }
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *p = im->procs->pdata[i];
    if (p->exec_from_upid) continue;
    Proc *parent = proc_of_pid_at(im, p->ppid, p->start_ns);
    if (parent && parent != p) p->parent_upid = parent->upid;
  }
  /* images after exec inherit the parent of the first image */
  for (int round = 0; round < 64; round++) {
    int changed = 0;
    for (guint i = 0; i < im->procs->len; i++) {
      Proc *p = im->procs->pdata[i];
      if (!p->exec_from_upid) continue;
      Proc *q = im->procs->pdata[p->exec_from_upid - 1];
      if (p->parent_upid != q->parent_upid) { p->parent_upid = q->parent_upid; changed = 1; }
    }
    if (!changed) break;
  }
  /* fork/spawn -> the child's first image; wait -> the child's last image */
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *p = im->procs->pdata[i];
    for (guint j = 0; j < p->forks->len; j++) {
      ForkEv *f = &g_array_index(p->forks, ForkEv, j);
      /* the first image of that pid, child of p, that started nearest the fork
       * (the parent may have been descheduled right after fork returned) */
      Proc *c = NULL;
      for (guint k = 0; k < im->procs->len; k++) {
        Proc *q = im->procs->pdata[k];
        if (q->pid != f->child_pid || q->image != 0 || q->ppid != p->pid) continue;
        int64_t dq = q->start_ns > f->ns ? q->start_ns - f->ns : f->ns - q->start_ns;
        int64_t dc = c ? (c->start_ns > f->ns ? c->start_ns - f->ns : f->ns - c->start_ns) : INT64_MAX;
        if (dq < dc) c = q;
      }
      /* the parent writes FORK when fork() returns, maybe after the child ran:
       * the flow goes from no later than the child's start to its start */
      if (c && c->image == 0) {
        flow(im, WEFT_FLOW_FORK, f->utid, f->ns < c->start_ns ? f->ns : c->start_ns, c->main_utid, c->start_ns, 0);
        c->has_fork_flow = 1;
      }
    }
    for (guint j = 0; j < p->waits->len; j++) {
      WaitEv *w = &g_array_index(p->waits, WaitEv, j);
      if (w->pid <= 0 || w->end < 0) continue;
      Proc *c = proc_of_pid_at(im, w->pid, w->end);
      if (!c) continue;
      /* the last image of that pid */
      for (Proc *n = proc_first_after(im, c->pid, c->start_ns + 1); n && n->exec_from_upid == c->upid;
           n = proc_first_after(im, c->pid, c->start_ns + 1))
        c = n;
      if (!c->has_status) {
        c->has_status = 1;
        c->exit_status = WIFEXITED(w->status) ? WEXITSTATUS(w->status)
                        : WIFSIGNALED(w->status) ? 128 + WTERMSIG(w->status) : w->status;
      }
      flow(im, WEFT_FLOW_WAIT, c->main_utid, c->end_ns < w->end ? c->end_ns : w->end, w->utid, w->end, 0);
      /* the parent's wait state gets its waker */
      sqlite3_stmt *q;
      if (sqlite3_prepare_v2(im->db, "UPDATE thread_state SET waker_utid = ? WHERE utid = ? AND start_ns = ?", -1,
                             &q, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(q, 1, c->main_utid);
        sqlite3_bind_int64(q, 2, w->utid);
        sqlite3_bind_int64(q, 3, w->begin);
        sqlite3_step(q);
        sqlite3_finalize(q);
      }
    }
  }
  /* a child with a known parent but no FORK record of it: made by vfork
   * (the agent cannot wrap it) or a raw clone, as gcc's driver, collect2 and
   * CPython's subprocess (posix_spawn) do. The parent's calling thread is
   * suspended until the child execs: a fork flow from the parent's main
   * thread (which thread called is not recorded) at the child's start. */
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *c = im->procs->pdata[i];
    if (c->image != 0 || c->has_fork_flow || c->parent_upid <= 0 || !c->main_utid) continue;
    Proc *p = im->procs->pdata[c->parent_upid - 1];
    if (p == c || !p->main_utid || c->start_ns < p->start_ns || c->start_ns > p->end_ns) continue;
    flow(im, WEFT_FLOW_FORK, p->main_utid, c->start_ns, c->main_utid, c->start_ns, 0);
  }
  /* rows */
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *p = im->procs->pdata[i];
    sqlite3_stmt *q = im->ins_proc;
    char sess[24];
    snprintf(sess, sizeof sess, "%016" PRIx64, p->session);
    sqlite3_bind_int64(q, 1, p->upid);
    sqlite3_bind_int64(q, 2, p->pid);
    sqlite3_bind_int64(q, 3, p->image);
    bind_opt(q, 4, p->parent_upid);
    bind_opt(q, 5, p->exec_from_upid);
    sqlite3_bind_text(q, 6, sess, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 7, p->cmdline ? p->cmdline : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 8, p->exe ? p->exe : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, p->start_ns);
    sqlite3_bind_int64(q, 10, p->end_ns);
    sqlite3_bind_text(q, 11, p->end_how, -1, SQLITE_STATIC);
    if (p->has_status) sqlite3_bind_int64(q, 12, p->exit_status);
    else sqlite3_bind_null(q, 12);
    sqlite3_bind_int64(q, 13, p->lost);
    sqlite3_bind_text(q, 14, p->file, -1, SQLITE_STATIC);
    if (step(im, q)) return -1;
  }
  return 0;
}

/* ---- pipes between processes ---- */
static int cmp_chanstamp(const void *x, const void *y) {
  const ChanStamp *a = x, *b = y;
  if (a->chan != b->chan) return a->chan < b->chan ? -1 : 1;
  return (a->ns > b->ns) - (a->ns < b->ns);
}

/* A read or poll that waited on a pipe was ended by the first write to that
 * pipe, by another thread of any process, after the wait began: a flow from
 * the writer, and the wait's waker. */
static int link_pipes(Imp *im) {
  GArray *wr = im->pipe_writes, *wt = im->pipe_waits;
  if (!wr->len || !wt->len) return 0;
  qsort(wr->data, wr->len, sizeof(ChanStamp), cmp_chanstamp);
  sqlite3_stmt *up = NULL;
  if (sqlite3_prepare_v2(im->db, "UPDATE thread_state SET waker_utid = ?1 WHERE utid = ?2 AND start_ns = ?3", -1, &up,
                         NULL) != SQLITE_OK)
    return fail(im, "database: %s", sqlite3_errmsg(im->db));
  const ChanStamp *s = (const ChanStamp *)wr->data;
  for (guint i = 0; i < wt->len && !im->failed; i++) {
    const ChanWait *c = &g_array_index(wt, ChanWait, i);
    guint a = 0, b = wr->len; /* the first write to the pipe at or after the wait's begin */
    while (a < b) {
      guint m = (a + b) / 2;
      if (s[m].chan < c->chan || (s[m].chan == c->chan && s[m].ns < c->begin)) a = m + 1;
      else b = m;
    }
    /* A read returns the data of the first write into the empty pipe; a poll
     * returns on the data there at its end, and an earlier write may have
     * been taken by another reader meanwhile (a pool's worker handler polls
     * the results pipe its result handler reads): the last write then. */
    const ChanStamp *by = NULL;
    for (; a < wr->len && s[a].chan == c->chan && s[a].ns <= c->end; a++) {
      if (s[a].utid == c->utid) continue;
      by = &s[a];
      if (!c->poll) break;
    }
    if (by) {
      flow(im, WEFT_FLOW_PIPE, by->utid, by->ns, c->utid, c->end, c->obj);
      sqlite3_bind_int64(up, 1, by->utid);
      sqlite3_bind_int64(up, 2, c->utid);
      sqlite3_bind_int64(up, 3, c->begin);
      step(im, up);
    }
  }
  sqlite3_finalize(up);
  return im->failed ? -1 : 0;
}

/* ---- the import ---- */
/* A name of the directory the reader skipped (not a regular file). */
static void warn_skipped(const char *msg, void *user) {
  warnf(user, "%s", msg);
}

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
  fprintf(im->warn, "weft: %s holds %zu recordings; importing session %016" PRIx64 " (started %s, %zu %s), not:\n",
          dir, n, cur->session, fmt_wallclock(cur->realtime_ns, when, sizeof when), cur->processes,
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
      return fail(im, "%s: the process's times run from %.0f s to %.0f s after the recording's start "
                  "(a recording spans at most %llu days): a corrupt clock", p->file, (double)p->start_ns / 1e9,
                  (double)p->end_ns / 1e9, (unsigned long long)(WEFT_SPAN_MAX_NS / 86400000000000ull));
  }
  return 0;
}

static int count_cb(const WeftEvent *ev, void *user) {
  (void)ev;
  (*(uint64_t *)user)++;
  return 0;
}

#define PREP(field, sql) \
  if (sqlite3_prepare_v2(im.db, sql, -1, &im.field, NULL) != SQLITE_OK) { \
    fail(&im, "%s: %s", db_path, sqlite3_errmsg(im.db)); goto done; }

int weft_import(const char *dir, const char *db_path, const WeftImportOptions *opt, WeftImportStats *stats,
                FILE *warn, char *err, size_t errlen) {
  Imp im;
  memset(&im, 0, sizeof im);
  WeftImportStats dummy;
  memset(&dummy, 0, sizeof dummy);
  if (!stats) stats = &dummy;
  memset(stats, 0, sizeof *stats);
  im.stats = stats;
  im.warn = warn;
  im.err = err;
  im.errlen = errlen;
  im.progress = opt && opt->progress && isatty(STDERR_FILENO); /* a \r line is for a terminal */
  const char *pa = getenv("WEFT_IMPORT_PROGRESS_MS");
  im.progress_after = pa && *pa ? atof(pa) / 1000 : 1.0;
  im.no_symbols = opt && opt->no_symbols;
  im.salvage = opt && opt->salvage;
  clock_gettime(CLOCK_MONOTONIC, &im.t0);
  int created = 0;

  const WeftRecordingOptions ropt = {.pick_session = opt && opt->pick_session, .session = opt ? opt->session : 0,
                                     .warn = warn_skipped, .warn_user = &im};
  if (weft_recording_open_with(dir, &ropt, &im.rec, err, errlen) != 0) return -1;
  note_sessions(&im, dir);
  im.origin = weft_recording_start_ns(im.rec);
  size_t nfiles = weft_recording_count(im.rec);
  if (im.progress) /* the total, for a percentage */
    for (size_t i = 0; i < nfiles; i++) {
      char e2[256];
      weft_trace_scan(weft_recording_trace(im.rec, i), count_cb, &im.records_total, e2, sizeof e2);
    }
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); /* no global allocator statistics (a mutex per allocation) */
  im.db = weft_db_create_bulk(db_path, opt && opt->force, 1, err, errlen);
  if (!im.db) {
    weft_recording_close(im.rec);
    return -1;
  }
  created = 1;
  sqlite3_exec(im.db, "BEGIN", NULL, NULL, NULL);
  im.state_rows = g_array_new(FALSE, FALSE, sizeof(StateRow));
  im.pipe_writes = g_array_new(FALSE, FALSE, sizeof(ChanStamp));
  im.pipe_waits = g_array_new(FALSE, FALSE, sizeof(ChanWait));
  im.hold_rows = g_array_new(FALSE, FALSE, sizeof(HoldRow));
  im.hold_runs = g_array_new(FALSE, FALSE, sizeof(HoldRun));
  /* WEFT_IMPORT_HOLD_SPILL: rows before a spill (tests make it small) */
  const char *spill = getenv("WEFT_IMPORT_HOLD_SPILL");
  im.hold_spill_rows = spill && atoi(spill) > 0 ? (guint)atoi(spill) : HOLD_SPILL_ROWS;
  if (batch_prepare(im.db, &im.states, "thread_state", 9) != 0 ||
      batch_prepare(im.db, &im.summaries, "state_summary", 7) != 0 ||
      batch_prepare(im.db, &im.flows, "flow", 7) != 0 || batch_prepare(im.db, &im.count_rows, "lock_count", 10) != 0 ||
      sqlite3_prepare_v2(im.db, WEFT_HOLD_BLOCK_INSERT, -1, &im.ins_block, NULL) != SQLITE_OK) {
    fail(&im, "%s: %s", db_path, sqlite3_errmsg(im.db));
    goto done;
  }
  PREP(ins_thread, "INSERT INTO thread VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  PREP(ins_obj, "INSERT INTO sync_object (object_id, upid, addr, kind, init_stack_id, first_stack_id, first_ns, "
                "acquisitions, contended, wait_ns, hold_ns, name, failed_tries, releases, hold_samples, "
                "hold_sample_ns, hold_sample_max_ns) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  PREP(ins_stack, "INSERT INTO stack VALUES (?,?,?)");
  PREP(ins_sf, "INSERT INTO stack_frame VALUES (?,?,?)");
  PREP(ins_frame, "INSERT INTO frame (frame_id, upid, ip, module_id, rel_pc) VALUES (?,?,?,?,?)");
  PREP(find_frame, "SELECT frame_id FROM frame WHERE upid = ? AND ip = ?");
  PREP(ins_module, "INSERT INTO module VALUES (?,?,?,?,?,?,?)");
  PREP(ins_proc, "INSERT INTO process VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  PREP(ins_sched, "INSERT INTO sched_sample VALUES (?,?,?,?,?)");
  PREP(ins_mark, "INSERT INTO mark VALUES (?,?,?,?,?)");
  im.procs = g_ptr_array_new();

  for (size_t i = 0; i < nfiles && !im.failed; i++) {
    import_file(&im, weft_recording_trace(im.rec, i));
    progress(&im, weft_trace_name(weft_recording_trace(im.rec, i)));
  }
  if (im.failed) goto done;
  if (check_span(&im) != 0) goto done;
  if (link_processes(&im) != 0) goto done;
  if (link_pipes(&im) != 0) goto done;
  batch_flush(&im, &im.flows);
  sqlite3_exec(im.db, "PRAGMA cache_size = -262144", NULL, NULL, NULL); /* 256 MiB for the index sorts */
  if (weft_db_create_indexes(im.db, err, errlen) != 0) { im.failed = 1; goto done; }

  /* meta */
  {
    int64_t end = 0;
    char *cmd = NULL;
    uint64_t lost = 0;
    int64_t incomplete = 0;
    for (guint i = 0; i < im.procs->len; i++) {
      Proc *p = im.procs->pdata[i];
      /* killed: what its threads counted since they last wrote their counts is gone */
      if (p->counters && !strcmp(p->end_how, "killed")) incomplete++;
      if (p->end_ns > end) end = p->end_ns;
      if (!cmd && !p->parent_upid && p->cmdline) cmd = p->cmdline;
      lost += (uint64_t)p->lost;
    }
    const WeftFileHeader *h = nfiles ? weft_trace_header(weft_recording_trace(im.rec, 0)) : NULL;
    char sess[24];
    snprintf(sess, sizeof sess, "%016" PRIx64, h ? h->session : 0);
    weft_db_meta_set(im.db, "weft_version", WEFT_VERSION);
    weft_db_meta_set_int(im.db, "schema_version", WEFT_SCHEMA_VERSION);
    weft_db_meta_set_int(im.db, "origin_ns", (int64_t)im.origin);
    weft_db_meta_set_int(im.db, "end_ns", end);
    if (cmd) weft_db_meta_set(im.db, "command", cmd);
    weft_db_meta_set(im.db, "clock", h && h->clock == WEFT_CLOCK_TSC ? "tsc" : "monotonic");
    weft_db_meta_set_int(im.db, "ncpus", h ? h->ncpus : 0);
    weft_db_meta_set_int(im.db, "lost_events", (int64_t)lost);
    weft_db_meta_set_int(im.db, "truncated_files", (int64_t)stats->truncated);
    weft_db_meta_set_int(im.db, "salvaged_files", (int64_t)stats->salvaged);
    if (im.salvage_first) weft_db_meta_set(im.db, "salvaged", im.salvage_first);
    weft_db_meta_set(im.db, "session", sess);
    char *abs = realpath(dir, NULL);
    weft_db_meta_set(im.db, "source_dir", abs ? abs : dir);
    free(abs);
    weft_db_meta_set_int(im.db, "lod_base_ns", LOD_BASE_NS);
    weft_db_meta_set_int(im.db, "max_hold_ns", im.max_hold_ns);
    /* what the holds are: every hold (traces before v3, or WEFT_HOLDS=all), or
     * those someone waited for, with counts and a sample for the rest */
    uint64_t feat = h ? h->features : 0;
    weft_db_meta_set(im.db, "holds", !(feat & WEFT_FEAT_COUNTERS) || (feat & WEFT_FEAT_HOLDS_ALL) ? "all" : "contended");
    weft_db_meta_set_int(im.db, "hold_sample", h && (feat & WEFT_FEAT_COUNTERS) ? h->hold_sample : 1);
    weft_db_meta_set_int(im.db, "counts_flush_ms", h && (feat & WEFT_FEAT_COUNTERS) ? h->flush_ms : 0);
    weft_db_meta_set_int(im.db, "holds_estimated", im.holds_estimated);
    weft_db_meta_set_int(im.db, "releases_missing", im.releases_missing);
    weft_db_meta_set_int(im.db, "counts_incomplete", incomplete);
    weft_db_meta_set_int(im.db, "records", (int64_t)im.records_done / 2);
  }
  if (!(opt && opt->no_symbols)) {
    char e2[512];
    if (weft_sym_fill_frames(im.db, warn, e2, sizeof e2) < 0) warnf(&im, "symbols: %s", e2);
    if (weft_sym_name_objects(im.db, e2, sizeof e2) < 0) warnf(&im, "object names: %s", e2);
  }
  weft_db_meta_set(im.db, "import_complete", "1");
  if (sqlite3_exec(im.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    fail(&im, "%s: %s", db_path, sqlite3_errmsg(im.db));
  /* statistics for the query planner, from a sample of each index */
  if (!im.failed) sqlite3_exec(im.db, "PRAGMA analysis_limit = 1000; ANALYZE", NULL, NULL, NULL);

done:
  stats->records = im.records_done / 2;
  batch_free(&im.states);
  batch_free(&im.summaries);
  sqlite3_finalize(im.ins_block);
  if (im.state_rows) g_array_free(im.state_rows, TRUE);
  if (im.pipe_writes) g_array_free(im.pipe_writes, TRUE);
  if (im.pipe_waits) g_array_free(im.pipe_waits, TRUE);
  if (im.hold_rows) g_array_free(im.hold_rows, TRUE);
  if (im.hold_runs) g_array_free(im.hold_runs, TRUE);
  if (im.hold_spill) fclose(im.hold_spill);
  batch_free(&im.flows);
  batch_free(&im.count_rows);
  sqlite3_finalize(im.ins_thread);
  sqlite3_finalize(im.ins_obj);
  sqlite3_finalize(im.ins_stack);
  sqlite3_finalize(im.ins_sf);
  sqlite3_finalize(im.ins_frame);
  sqlite3_finalize(im.find_frame);
  sqlite3_finalize(im.ins_module);
  sqlite3_finalize(im.ins_proc);
  sqlite3_finalize(im.ins_sched);
  sqlite3_finalize(im.ins_mark);
  if (im.procs) {
    for (guint i = 0; i < im.procs->len; i++) {
      Proc *p = im.procs->pdata[i];
      g_array_free(p->forks, TRUE);
      g_array_free(p->waits, TRUE);
      g_free(p->cmdline);
      g_free(p->exe);
      g_free(p->file);
      g_free(p);
    }
    g_ptr_array_free(im.procs, TRUE);
  }
  if (im.db) sqlite3_close(im.db);
  weft_sym_free(im.gil_sym);
  weft_recording_close(im.rec);
  g_free(im.salvage_first);
  if (im.progress_shown) fputs("\n", stderr);
  stats->seconds = elapsed(&im);
  if (im.failed && created) unlink(db_path);
  return im.failed ? -1 : 0;
}
