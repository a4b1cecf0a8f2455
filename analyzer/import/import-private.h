/* import-private.h - what the importer's files share (not its API: weft-import.h).
 * SPDX-License-Identifier: MIT
 *
 * The in-memory model of one process image (objects, threads, the process),
 * the rows a file makes before they are written, and Imp, the state of one
 * import, with the functions each file (import.c the driver, and its passes)
 * offers the others. Small lookups every record makes are inline here.
 */
#ifndef WEFT_IMPORT_PRIVATE_H
#define WEFT_IMPORT_PRIVATE_H

#include <glib.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "symbolize.h"
#include "weft-db.h"
#include "weft-import.h"
#include "weft-reader.h"
#include "weft-scratch.h"
#include "weft-spill.h"
#include "weft-sqlite.h"

/* ---- the in-memory model of one process image ---- */
typedef struct __attribute__((packed)) { /* 12 bytes: a hot lock has one per release */
  int64_t ns;
  uint32_t utid : 31;
  uint32_t late : 1; /* trace v3: written after the call returned (happened at or before ns) */
} Stamp;
_Static_assert(sizeof(Stamp) == 12, "a Stamp is 12 bytes");

/* A timeline of stamps: appended in the file's order (runs of each thread's
 * chunks), sorted by time once, on its first search; a hot lock has
 * millions. Up to STAMP_BLOCK stamps it is one array on the heap (first);
 * past that, that array is its first block and the others come from the
 * file's pool of huge pages (StampPool): it grows without a copy, and a
 * fault maps 2 MiB. Stamp i is in block i / STAMP_BLOCK. */
#define STAMP_BLOCK_SHIFT 12
#define STAMP_BLOCK       (1u << STAMP_BLOCK_SHIFT) /* 48 KiB of stamps */
typedef struct {
  Stamp *first; /* the array, or block 0 */
  Stamp **blk;  /* the blocks (NULL: only first) */
  guint len, cap, nblk;
  guint pooled; /* blocks 1 to pooled are the pool's (the later ones, if any, the heap's) */
  int sorted;
  /* spilled (StampSpill): its stamps are in the external sort, then in the
   * file of sorted stamps from stamp off; key[j] is the time of its stamp
   * j * STAMP_FILE_BLOCK there. held: its last stamp, last, is not in the sort yet */
  guint tl; /* its number in the spill (0: none) */
  int held;
  Stamp last;
  uint64_t off;
  int64_t *key;
} Stamps;

static inline Stamp *stamp_at(const Stamps *v, guint i) {
  return v->blk ? &v->blk[i >> STAMP_BLOCK_SHIFT][i & (STAMP_BLOCK - 1)] : &v->first[i];
}

typedef struct {  /* the file's blocks of stamps: one reservation, handed out in order */
  char *map, *p;  /* the mapping, and its first huge page boundary */
  size_t map_len; /* its length */
  size_t len;     /* bytes usable from p */
  size_t used;    /* bytes handed out as blocks */
} StampPool;

/* A file's timelines hold at most STAMP_MEM_MAX stamps in memory; past
 * that they are spilled (stamps.c), the sort STAMP_SPILL_ROWS rows at a time,
 * and pass 2 reads them back through STAMP_CACHE blocks. */
#define STAMP_MEM_MAX    (8u << 20) /* 96 MiB of stamps */
#define STAMP_SPILL_ROWS (1u << 20) /* 16 MiB of rows (and as much to sort them) */
#define STAMP_FILE_SHIFT 9          /* a block of the file: 512 stamps, 6 KiB */
#define STAMP_FILE_BLOCK (1u << STAMP_FILE_SHIFT)
#define STAMP_CACHE      4096u /* 24 MiB of blocks */
typedef struct {
  size_t budget, mem;  /* stamps the file may keep in memory, and has room for now */
  size_t spill_rows;   /* the sort's buffer, in rows */
  WeftSpill *spill;    /* the file's stamps (pass 1, once spilled; NULL: in memory) */
  GPtrArray *tls;      /* Stamps* of the spilled timelines, by tl - 1 */
  WeftScratchFile *f;  /* the sorted stamps (after pass 1) */
  uint64_t total;      /* stamps in it */
  Stamp *cache;        /* STAMP_CACHE blocks of it */
  uint64_t *cache_blk; /* the block in each slot, + 1 (0: none) */
} StampSpill;

typedef struct { /* trace v3: where a hold released at ns began, when its start was not timed (waitstarts.c) */
  int64_t ns;    /* the release */
  struct Obj *o; /* the lock */
  int64_t start; /* the first wait for it by another thread */
} HoldStart;

typedef struct {            /* a barrier wait's round (barriers.c): what pass 2 reads, in a thread's order */
  int64_t begin;            /* when the wait began */
  struct Obj *o;            /* the barrier */
  int64_t rel_utid, rel_ns; /* the last arrival of its round */
} BarRound;

/* An answer pass 2 reads in a thread's order (by-thread.c): a thread's
 * range of them, and its window on it. */
typedef struct {
  uint64_t off, left; /* left more from off */
  char *buf;          /* the window (own: allocated, else a part of ByThread.mem) */
  guint pos, len;
  int own;
} ThrCursor;

/* The answers of one kind: rows of row bytes, each an int64_t key and an
 * object pointer first, sorted by (thread, key) through spill, then in mem
 * or f; cursor is the offset of each Thr's ThrCursor for them. */
typedef struct {
  size_t row, cursor;
  const char *what; /* for errors: "the barrier rounds" */
  WeftSpill *spill;
  char *mem;
  WeftScratchFile *f;
} ByThread;

typedef struct Obj {
  int64_t id;
  uint64_t addr;
  int kind; /* class: MUTEX, RWLOCK, SPIN, COND, BARRIER, SEM, POLL, READ */
  int64_t init_stack, first_stack, first_ns;
  int64_t destroyed_ns; /* its DESTROY record's time (-1: none) */
  int closed;           /* that DESTROY was a sem_close (the semaphore lives on elsewhere) */
  int64_t acquisitions, contended, wait_ns, hold_ns;
  int64_t failed, releases, samples, sample_ns, sample_max; /* trace v3 COUNTS */
  int64_t barrier_count;
  char *name;                /* from weft.h, else NULL */
  Stamps rel;                /* releases (unlock, sem_post) */
  Stamps sig;                /* cond signal/broadcast */
  int64_t arr_n, arr_serial; /* barrier waits, and those that returned the serial thread's value */
  int64_t untimed;           /* trace v3: its releases of holds whose start was not timed (pass 1) */
  int gil;                   /* GIL_*: part of CPython's GIL (gil_detect) */
  int omp;                   /* an object of the OpenMP runtime (INIT op WEFT_OP_OMP): a region's barrier, a dock */
  /* trace v5 SHARED: the object lies in a shared mapping of a file, at offset
   * sh_off of (sh_dev, sh_ino): one object of the recording in every process
   * that maps it (its first process's row; merged: a later process's part) */
  uint64_t sh_dev, sh_ino, sh_off;
  int shared, merged;
} Obj;

typedef struct {
  int64_t obj; /* object_id */
  Obj *o;
  int64_t start;
  int contended, shared, depth;
} Hold;

typedef struct { /* trace v6: a rank in a collective (mpi.c) */
  uint64_t comm, seq;
  unsigned call;
  int64_t root;                  /* the root's world rank, -1 none */
  int64_t utid, begin, end, obj; /* its wait (end -1: not seen) */
  int64_t upid;
} MpiColl;

typedef struct Thr {
  int64_t utid;
  uint32_t tid;
  uint64_t self, routine;
  uint32_t creator_tid;
  int is_main, has_start, has_exit, exit_how;
  int64_t start_ns, end_ns, first_ns, last_ns, exit_ns;
  char *name;
  int64_t named_ns; /* when name was set (-1: never) */
  int64_t cpu_ns, runq_ns, lost;
  int64_t pipe_bytes, pipe_writes, pipe_msgs; /* its writes to pipes (trace version 6) */
  uint64_t pipe_last_chan;                    /* the pipe of its last write, if that wrote 4 bytes */
  const char *end_how;
  int64_t sched_base; /* index of its schedstat baseline in Imp.scheds + 1; 0 not looked for, -1 none */
  /* pass 2 */
  int st; /* current state */
  int64_t st_start;
  Obj *wobj;
  int wkind, wop;
  uint32_t blocker_tid;
  int64_t wstack, wbegin;
  uint64_t waddr, wobj2;
  int64_t gil_holder; /* a GIL wait: the thread holding the GIL when it began (0 unknown) */
  GArray *holds;      /* Hold */
  int64_t nstates;    /* thread_state rows of the file (pass 2) */
  int started2;       /* pass 2 has seen its THREAD_START */
  struct Thr *next_same_tid;
  Obj *last_rel;       /* pass 1: its last REL's object, for an UNLOCK_COST after it (NULL: none) */
  int64_t last_rel_ns; /* and when */
  /* barriers.c: pass 1, its barrier wait not ended yet (NULL: none); pass 2, its waits' rounds */
  struct Obj *arr_o;
  int64_t arr_begin;
  ThrCursor rounds;
  ThrCursor starts; /* waitstarts.c, pass 2: where its untimed holds began */
  /* trace v6 (mpi.c): its last MPI wait (mpi_end -1: none yet), and its collective whose wait
   * has not ended (coll_open) */
  int64_t mpi_begin, mpi_end, mpi_obj;
  MpiColl coll;
  int coll_open;
} Thr;

typedef struct {
  int64_t ns, utid;
  int64_t child_pid;
  int how;
} ForkEv;

typedef struct {
  int64_t begin, end, utid;
  int64_t pid; /* reaped */
  int status;
} WaitEv;

typedef struct {
  int64_t ns, utid;
  uint64_t self; /* new thread */
} CreateEv;

/* Rows inserted BATCH_ROWS at a time with one multi-row INSERT (about twice
 * as fast as one statement per row); integer columns, NULL where flagged. */
#define BATCH_ROWS    32
#define BATCH_MAXCOLS 10
typedef struct {
  sqlite3_stmt *one, *many;
  int ncols, n;
  int64_t v[BATCH_ROWS * BATCH_MAXCOLS];
  unsigned char null[BATCH_ROWS * BATCH_MAXCOLS];
} Batch;

/* A module of a process, kept for the fork children that inherit it
 * (WEFT_FEAT_MODULES_INHERITED): its own MODULE records and what it inherited. */
typedef struct {
  int64_t ns; /* when the process had it (written, or inherited at its start) */
  char *path, *build_id;
  uint64_t bias, start, end;
} ProcMod;

/* A release (unlock, post) of a process-shared mutex or semaphore, and a
 * wait on one that acquired it: linked once every file is read, across the
 * processes of a host (link_shared). obj: the object's id (one for all the
 * processes' parts). */
typedef struct {
  int64_t host, obj, ns, utid;
  int late; /* written after the call (a waiter came during it) */
} SharedRel;

typedef struct {
  int64_t host, obj, utid, begin, end;
  int kind; /* the flow: WEFT_FLOW_LOCK_HANDOFF, WEFT_FLOW_SEM_POST */
} SharedWait;

typedef struct Proc {
  int64_t upid;
  uint32_t pid, ppid, image;
  uint64_t session;
  int64_t start_ns, end_ns;
  const char *end_how;
  int has_exit, exit_how;
  int64_t exit_status, has_status;
  int64_t exec_ns; /* last EXEC record, -1 none */
  int exec_failed_after;
  char *cmdline, *exe;
  int64_t lost;
  char *file;
  int64_t parent_upid, exec_from_upid;
  int64_t main_utid;
  int has_fork_flow;     /* a FORK record of its parent's was matched to it */
  int started_by;        /* that record's call, WEFT_FORK_* (-1: none) */
  int counters;          /* trace v3: lock operations counted (lost with a kill since the last flush) */
  GArray *forks, *waits; /* ForkEv, WaitEv */
  GArray *mods;          /* ProcMod */
  int mods_inherited;    /* its header says its modules at the start are its parent's */
  int64_t last_ns;
  int64_t mpi_rank, mpi_size; /* trace v6 MPI_RANK: its place in MPI_COMM_WORLD (-1: none) */
  int64_t host;               /* its host's index (weft_recording_hosts): pids are per host */
  uint32_t ncpus;             /* the CPUs it could run on when it started (its header) */
} Proc;

typedef struct {
  int64_t id;
  uint64_t bias, start, end;
} ModRec;

typedef struct {
  uint64_t trace_id;
  int64_t global;
  GArray *ips;
} PendingStack;

typedef struct {      /* a thread_state row until it is inserted (40 bytes: there are millions) */
  int64_t start, dur; /* start_ns, dur_ns */
  uint32_t utid, obj, blocker, waker, stack; /* ids, 0 for NULL */
  int16_t result;
  uint8_t state;
} StateRow;
_Static_assert(sizeof(StateRow) == 40, "a StateRow is 40 bytes");

typedef struct {
  uint64_t chan; /* the pipe */
  int64_t ns, utid;
} ChanStamp;

typedef struct {
  uint64_t chan;
  int64_t begin, end, utid, obj;
  int64_t seq;   /* its place among the recording's (the flows keep that order) */
  gboolean poll; /* a poll (readiness: another thread may take the data), not a read */
} ChanWait;

typedef struct { /* sockets.c: bytes of a TCP stream sent or received (SOCK) */
  uint64_t stream, off, bytes;
  double ns;   /* a send's start, a receive's end */
  int64_t who; /* the thread (utid), or the host (hosts.c) */
  int recv;
} SockXfer;

/* Each receive matched to the send holding its last byte (streams that do
 * not fit: none), from xs, an external sort by sock_xfer_cmp; a stream's rows
 * beyond cap go to a temporary file. -1: a sort or file error. */
typedef void (*SockMatchFn)(void *user, const SockXfer *send, const SockXfer *recv);
int sock_xfer_cmp(const void *a, const void *b);
int sock_match(WeftSpill *xs, size_t cap, SockMatchFn fn, void *user);

typedef struct {               /* hosts.c: a host's correction onto the time base, after its anchors */
  double offset, drift, pivot; /* c(t) = offset + drift x (t - pivot) */
  double bmin, bmax;           /* the drifts that keep every message in order */
  struct Bound *bounds;        /* what its messages say (hosts.c) */
  size_t nbounds;
  int64_t messages; /* its messages with the hosts placed before it */
  int infeasible;   /* no line keeps every message in order */
} HostClock;

typedef struct { /* trace v6: a message sent or received (mpi.c) */
  uint64_t comm, seq;
  int64_t ns;    /* a send's start; the end of the wait that received it */
  int64_t begin; /* a receive: that wait's start (-1 a send) */
  int64_t utid, obj, upid;
  int32_t peer, tag; /* the peer's world rank */
  int recv;
  int32_t self; /* its process's world rank (pass 1 read every MPI_RANK; -1 none) */
} MpiMsg;

typedef struct { /* a lock hold until it goes into a block (24 bytes: there are millions) */
  int64_t start, dur;
  uint32_t obj;        /* object_id */
  uint32_t utid_flags; /* utid << 3 | estimated << 2 | shared << 1 | contended */
} HoldRow;

/* A file's holds are sorted (by object, then start) before they go into
 * blocks. Past HOLD_SPILL_ROWS they are sorted in runs written to a
 * temporary file and merged from there (util/weft-spill.c), so memory stays
 * bounded; a file's thread states likewise past STATE_SPILL_ROWS. */
#define HOLD_SPILL_ROWS  (1u << 20)   /* 24 MiB of rows (and as much to sort them) */
#define STATE_SPILL_ROWS (512u << 10) /* 20 MiB of rows (and as much to sort them) */

typedef struct { /* trace v3: one COUNTS record */
  Obj *o;
  uint32_t tid; /* the thread counted */
  int64_t first_ns, ns;
  int64_t acq, fail, rel, samples, sample_ns, sample_max;
  int dropped; /* a snapshot of another thread's counts before an exec that failed */
} CountRec;

typedef struct {
  int64_t ns;
  uint32_t tid;
  int64_t cpu, runq, slices;
  int base; /* WEFT_SCHED_BASELINE: a main thread's reading at its image's start */
} SchedRec;

typedef struct {
  int64_t ns;
  uint32_t tid;
  int64_t id;
  int how;
  char *label;
} MarkRec;

/* ---- one import ---- */
typedef struct {
  sqlite3 *db;
  WeftSql sql; /* the first error, SQLite's or not ("database: ..." for SQLite's) */
  WeftRecording *rec;
  uint64_t origin;
  FILE *warn;
  WeftImportStats *stats;
  int progress;
  struct timespec t0;
  uint64_t records_done, records_total;
  int progress_shown;
  double progress_after; /* seconds before the progress line shows (WEFT_IMPORT_PROGRESS_MS for tests) */
  /* ids */
  int64_t next_utid, next_obj, next_stack, next_frame, next_flow, next_module;
  GPtrArray *procs;
  /* per file */
  Proc *p;
  GHashTable *thr_by_tid; /* tid -> Thr* (pass 1: the latest; pass 2: the current) */
  struct {                /* objs and destroys of recent keys (pass 1 and 2 look up an object per record) */
    guint64 key;
    GArray *destroys;
    GPtrArray *epochs;
    int used;
  } ocache[256];
  uint32_t tc_tid; /* the last lookup in thr_by_tid (records come in runs of one thread's chunk) */
  Thr *tc_thr;
  GHashTable *thr_first;   /* tid -> first Thr* of the chain */
  GHashTable *thr_by_self; /* pthread_t -> GPtrArray of Thr* */
  GPtrArray *threads;      /* all Thr of the file, in order of appearance */
  GHashTable *objs;        /* key(addr, kind) -> GPtrArray of Obj*, one per epoch */
  GHashTable *destroys;    /* key(addr, kind) -> sorted GArray of DESTROY times (pass 0) */
  GPtrArray *objlist;
  GHashTable *stack_map; /* trace stack id -> global stack id */
  GArray *modules;       /* ModRec */
  GArray *creates;       /* CreateEv */
  GArray *scheds;
  GArray *marks;
  GHashTable *names;      /* object address -> name (weft.h) */
  GArray *pending_stacks; /* PendingStack: this file's STACK records, written once modules are known */
  int v3;                 /* the file is contention-first (WEFT_FEAT_COUNTERS): counts, sparse RELs */
  int sched_base;         /* WEFT_FEAT_SCHED_BASE: baselines are flagged (a fork child has none) */
  WeftTrace *tr;          /* the file being read */
  size_t tick_hint;       /* weft_trace_ticks_to_ns_near's cache for tr's records */
  GArray *counts;         /* CountRec of the file */
  guint exec_counts;      /* counts index at the file's last EXEC */
  /* rows of the file, written sorted once it is read */
  WeftSpill *state_spill; /* StateRow, sorted by (utid, start) */
  WeftSpill *sum_spill;   /* a thread's summaries above its finest level, by (level, bucket, state) (lod.c) */
  StampPool stamp_pool;   /* the blocks of the file's long timelines */
  StampSpill stamps;      /* the file's timelines past their budget */
  WeftSpill *pipe_writes; /* ChanStamp: every file's writes to pipes and sends on TCP streams (link.c) */
  WeftSpill *pipe_waits;  /* ChanWait: every file's reads and polls that waited on one */
  WeftSpill *mpi_msgs;    /* MpiMsg: every file's MPI messages (trace v6), sorted by their key (mpi.c) */
  HostClock *hosts;       /* by weft_recording_hosts index (hosts.c) */
  size_t nhosts;
  int64_t hosts_out_of_order; /* messages between hosts received before sent, after the correction */
  WeftSpill *mpi_colls;       /* MpiColl: every file's ranks in MPI collectives, by (comm, seq) */
  WeftSpill *hold_spill;      /* HoldRow, sorted by (object, start) */
  /* barriers.c, waitstarts.c: a file's barrier waits sorted into rounds, and its waits' starts
   * on locks sorted by lock; the answers pass 2 reads, by thread */
  WeftSpill *arr_spill, *ws_spill;
  ByThread rounds, starts;
  /* WAIT_SPILL_ROWS, or WEFT_IMPORT_WAIT_SPILL: rows of the buffer of every sort imp_sort_row makes
   * (these, pipes, MPI, TCP) and of hosts.c's */
  size_t sort_rows;
  GArray *shared_holds; /* HoldRow: the holds of process-shared objects, from every file */
  GArray *shared_rels;  /* SharedRel: the releases and posts of process-shared objects, from every file */
  GArray *shared_waits; /* SharedWait: waits on them no release of the waiter's own process ended */
  int no_symbols;       /* WeftImportOptions.no_symbols: no symbol tables read (no GIL either) */
  /* statements */
  Batch states, summaries, flows, count_rows, unlock_rows, sock_rows;
  WeftSpill *sock_xfers; /* SockXfer: every file's TCP transfers (who: the utid), for link_sockets */
  sqlite3_stmt *ins_block;
  int64_t max_hold_ns;     /* longest lock hold (meta max_hold_ns: lets readers bound hold lookups) */
  WeftSymbolizer *gil_sym; /* data symbols of python modules (gil_detect), made on first use */
  GHashTable *shared;      /* the recording's process-shared objects: "kind:dev:ino:off" -> object_id */
  sqlite3_stmt *ins_thread, *ins_obj, *upd_obj, *ins_stack, *ins_sf, *ins_frame, *ins_module, *ins_proc, *ins_sched,
      *ins_mark, *find_frame, *ins_pyframe;
  struct PyFrames *py;      /* the file's Python frames (pyframes.c; NULL: none) */
  int64_t holds_estimated;  /* holds whose start was not timed (meta) */
  int64_t releases_missing; /* v3 waits with no recorded release (meta: a hand-off from the holder) */
  int omp_tasks;            /* a process made OpenMP tasks (meta omp_tasks) */
  int salvage;              /* opt->salvage */
  char *salvage_first;      /* the first corruption salvaged past (meta salvaged) */
} Imp;

static inline int64_t rel_ns(Imp *im, uint64_t ns) {
  return ns >= im->origin ? (int64_t)(ns - im->origin) : -(int64_t)(im->origin - ns);
}

/* ---- import.c: the driver ---- */
/* Keep the import's error (the first one wins); returns -1. */
int imp_fail(Imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A problem tolerated: "weft: ..." on the warning stream, and counted. */
void imp_warn(Imp *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The progress line on stderr, once the import has taken a while. */
void imp_progress(Imp *im, const char *what);
/* Run an INSERT or UPDATE and reset it; -1 once the import has failed. */
int imp_step(Imp *im, sqlite3_stmt *q);
/* Add a row to b: vals[ncols]; a column in `nullable` (bit c) is NULL when <= 0. */
void imp_batch_add(Imp *im, Batch *b, const int64_t *vals, unsigned nullable);
void imp_batch_flush(Imp *im, Batch *b);
/* v > 0 as parameter i, else NULL. */
void imp_bind_opt(sqlite3_stmt *q, int i, int64_t v);

/* A stable sort of v[0..n) (tmp[n] is scratch): a bottom-up merge of the runs
 * already in order. One object's holds are made of the runs of each thread's
 * chunks; a long array of them takes a radix sort (hold-rows.c). */
#define DEFINE_MERGE_RUNS(name, T, before)                                                           \
  static void name(T *v, T *tmp, size_t n) {                                                         \
    size_t nruns = 1;                                                                                \
    for (size_t i = 1; i < n; i++) nruns += before(&v[i], &v[i - 1]);                                \
    if (nruns == 1) return;                                                                          \
    size_t *run = g_new(size_t, nruns + 1), r = 0;                                                   \
    run[r++] = 0;                                                                                    \
    for (size_t i = 1; i < n; i++)                                                                   \
      if (before(&v[i], &v[i - 1])) run[r++] = i;                                                    \
    run[r] = n;                                                                                      \
    T *src = v, *dst = tmp;                                                                          \
    while (nruns > 1) {                                                                              \
      size_t w = 0;                                                                                  \
      for (size_t k = 0; k < nruns; k += 2) {                                                        \
        size_t a = run[k], m = run[k + 1], e = k + 2 <= nruns ? run[k + 2] : m, i = a, j = m, o = a; \
        while (i < m && j < e) dst[o++] = before(&src[j], &src[i]) ? src[j++] : src[i++];            \
        while (i < m) dst[o++] = src[i++];                                                           \
        while (j < e) dst[o++] = src[j++];                                                           \
        run[w++] = a;                                                                                \
      }                                                                                              \
      run[w] = n;                                                                                    \
      nruns = w;                                                                                     \
      T *x = src;                                                                                    \
      src = dst;                                                                                     \
      dst = x;                                                                                       \
    }                                                                                                \
    if (src != v) memcpy(v, src, n * sizeof *v);                                                     \
    g_free(run);                                                                                     \
  }

/* ---- objects.c: synchronisation objects and their timelines ---- */
static inline int kind_class(int kind) {
  switch (kind) {
    case WEFT_KIND_RWLOCK_RD:
    case WEFT_KIND_RWLOCK_WR:
    case WEFT_KIND_RWLOCK: return WEFT_KIND_RWLOCK;
    default: return kind;
  }
}

static inline int has_object(int kind) {
  switch (kind) {
    case WEFT_KIND_MUTEX:
    case WEFT_KIND_RWLOCK:
    case WEFT_KIND_SPIN:
    case WEFT_KIND_COND:
    case WEFT_KIND_BARRIER:
    case WEFT_KIND_SEM:
    case WEFT_KIND_POLL:
    case WEFT_KIND_READ:
    case WEFT_KIND_MPI:
    case WEFT_KIND_FUTEX: return 1;
    default: return 0;
  }
}

static inline int is_lock(int kclass) {
  return kclass == WEFT_KIND_MUTEX || kclass == WEFT_KIND_RWLOCK || kclass == WEFT_KIND_SPIN;
}

/* The object at addr of kind's class alive at ns (its epoch), made when
 * create and it is not known yet; NULL for kinds without objects. */
Obj *obj_lookup(Imp *im, uint64_t addr, int kind, int64_t ns, int create);
static inline Obj *obj_get(Imp *im, uint64_t addr, int kind, int64_t ns) { return obj_lookup(im, addr, kind, ns, 1); }
static inline Obj *obj_find(Imp *im, uint64_t addr, int kind, int64_t ns) { return obj_lookup(im, addr, kind, ns, 0); }
void obj_free(gpointer p);
void shared_versions_free(gpointer p); /* im->shared's values */
/* Pass 0: when the file's objects were destroyed (im->destroys). */
void objs_read_destroys(Imp *im, WeftTrace *tr);
/* The COUNTS records (trace v3) into their objects' totals. */
void objs_add_counts(Imp *im);
/* Pass 1: a SHARED record (trace v5). */
void obj_read_shared(Imp *im, const WeftEvent *ev, int64_t ns);
/* After pass 1: a process-shared object seen in an earlier process given
 * that one's id. */
void objs_prepare_pass2(Imp *im);
/* After pass 2: the sync_object rows, then the lock_count rows. */
void objs_write(Imp *im);
void counts_write(Imp *im);

/* Room for one more row (row bytes) in *sp, the external sort of what
 * ("the barrier waits"), made on first use with sort_rows rows of buffer;
 * NULL on an error (im failed). */
void *imp_sort_row(Imp *im, WeftSpill **sp, size_t row, WeftSpillCmp cmp, const char *what);

/* ---- by-thread.c: answers read back in each thread's order ---- */
/* Room for one answer of t (b->row bytes to fill), NULL on an error (im failed). */
void *by_thread_add(Imp *im, ByThread *b, Thr *t);
/* After they are all added: sorted, and each thread's range in its cursor. */
int by_thread_settle(Imp *im, ByThread *b);
/* t's answer for (key, o), or NULL; rows of t with a smaller key are passed
 * over for good (a thread asks in its own order). */
const void *by_thread_find(Imp *im, ByThread *b, Thr *t, int64_t key, const void *o);
void by_thread_file_end(ByThread *b);
void by_thread_free(ByThread *b);

/* ---- barriers.c: barrier waits into rounds, in bounded memory ---- */
#define WAIT_SPILL_ROWS (256u << 10) /* rows of a sort's buffer (8-10 MiB), and of answers kept in memory */
/* Pass 1: t began to wait at the barrier o at ns; its wait on o ended
 * (serial: it returned PTHREAD_BARRIER_SERIAL_THREAD). */
void barrier_arrive(Imp *im, Thr *t, Obj *o, int64_t ns);
void barrier_leave(Imp *im, Thr *t, Obj *o, int serial);
/* After pass 1: the rounds made (the waits still open at the file's end
 * included); -1 on an error (im failed). */
int barriers_settle(Imp *im);
/* Pass 2: the round of t's wait at o that began at begin: 1 and the last
 * arrival of it (*rel_utid at *rel_ns), 0 none. A thread asks in the order
 * of its waits. */
int barrier_round(Imp *im, Thr *t, const Obj *o, int64_t begin, int64_t *rel_utid, int64_t *rel_ns);
/* The file's rounds dropped (its threads free their own buffers), and at
 * the import's end the sorts. */
void barriers_file_end(Imp *im);
void barriers_free(Imp *im);

/* ---- waitstarts.c: where untimed holds began, in bounded memory ---- */
/* Pass 1 (trace v3): t began to wait for the lock o at ns, held by holder (0 unknown). */
void wait_start_add(Imp *im, Thr *t, Obj *o, int64_t ns, uint32_t holder);
/* After pass 1 (and stamps_settle): each release's answer; -1 on an error. */
int wait_starts_settle(Imp *im);
/* Pass 2: t's release of o at ns: 1 and *start, the first wait for it by
 * another thread since the previous release (not for another holder); 0
 * none. A thread asks in the order of its releases. */
int hold_start_find(Imp *im, Thr *t, const Obj *o, int64_t ns, int64_t *start);
void wait_starts_file_end(Imp *im);
void wait_starts_free(Imp *im);

/* ---- stamps.c: the timelines of releases and signals ---- */
/* Room for one more stamp in v (a block from im->stamp_pool past the
 * first); 1: none, the file's timelines are spilled now. */
int stamps_grow(Imp *im, Stamps *v);
/* A stamp of a spilled timeline (pass 1). */
void stamps_spill_push(Imp *im, Stamps *v, Stamp s);
static inline void stamps_push(Imp *im, Stamps *v, Stamp s) {
  if (im->stamps.spill || (v->len == v->cap && stamps_grow(im, v))) {
    stamps_spill_push(im, v, s);
    return;
  }
  *stamp_at(v, v->len++) = s;
  v->sorted = 0;
}
/* Trace versions 1 and 2: v's last stamp dropped if it is utid's (a failed unlock); 1 if it was. */
int stamps_cancel(Imp *im, Stamps *v, int64_t utid);
void stamps_free(Stamps *v);
/* After pass 1: a spilled file's timelines sorted, for pass 2. */
int stamps_settle(Imp *im);
/* The file's timelines' pool and spill given back (after its objects are freed). */
void stamps_file_end(Imp *im);
/* Stamp i of v in time order (pass 2). */
Stamp stamp_spilled(Imp *im, const Stamps *v, guint i);
static inline Stamp stamp_get(Imp *im, const Stamps *v, guint i) {
  return v->tl ? stamp_spilled(im, v, i) : *stamp_at(v, i);
}
/* The index of v's first stamp after ns (upper), at or after ns (lower); v is sorted once, on its first search. */
guint stamps_upper(Imp *im, Stamps *v, int64_t ns);
/* v in time order for stamp_get (a spilled one always is). */
void stamps_order(Imp *im, Stamps *v);
guint stamps_lower(Imp *im, Stamps *v, int64_t ns);
/* The last stamp in v at or before ns by a thread other than utid, within [lo, ns]: 1 and *out, or 0. */
int last_before(Imp *im, Stamps *v, int64_t lo, int64_t ns, int64_t utid, Stamp *out);

/* ---- threads.c: the threads of a process image ---- */
Thr *thr_new(Imp *im, uint32_t tid, int64_t ns);
void thr_free(gpointer p);
/* The thread of tid alive at ns: the last of its chain that started at or before ns. */
Thr *thr_at(Imp *im, uint32_t tid, int64_t ns);
int64_t utid_at(Imp *im, uint32_t tid, int64_t ns);
void thr_set_self(Imp *im, Thr *t, uint64_t self);
/* The thread with pthread_t self alive (or most recently ended) at ns. */
Thr *thr_by_self_at(Imp *im, uint64_t self, int64_t ns);
/* After pass 1: every thread's end, and pass 2 starts each tid at the first thread of its chain. */
void threads_prepare_pass2(Imp *im, Proc *p);
/* After pass 2: t's schedstat times and its thread row. */
void thread_write(Imp *im, Proc *p, Thr *t);
/* The file's sched_sample and mark rows, and its create -> start flows. */
void scheds_write(Imp *im);
void marks_write(Imp *im, Proc *p);
void creates_link(Imp *im);

/* The current thread of tid (records come in runs of one thread's chunk). */
static inline Thr *thr_cur(Imp *im, uint32_t tid) {
  if (im->tc_thr && im->tc_tid == tid) return im->tc_thr;
  im->tc_tid = tid;
  return im->tc_thr = g_hash_table_lookup(im->thr_by_tid, GUINT_TO_POINTER(tid));
}

/* ---- pass1.c: learning a file ---- */
int imp_pass1(const WeftEvent *ev, void *user);
/* A fork child's modules from its parent's (WEFT_FEAT_MODULES_INHERITED),
 * before its own file is read; a warning when the parent is not there. */
void modules_inherit(Imp *im, Proc *p);
/* The parent a fork child inherits from: the latest image of pid ppid that
 * started before it, among procs (NULL: none). */
Proc *proc_fork_parent(GPtrArray *procs, const Proc *child);
void proc_mods_free(Proc *p);

/* After pass 1: the file's stacks and frames (its modules are all known now). */
void stacks_write(Imp *im, Proc *p);
/* The frame id of ip in the current process, made when new. */
int frame_id(Imp *im, uint64_t ip);

static inline int64_t stack_global(Imp *im, uint64_t trace_id) {
  if (!trace_id) return 0;
  gpointer v = g_hash_table_lookup(im->stack_map, GUINT_TO_POINTER((guint)trace_id));
  return v ? (int64_t)GPOINTER_TO_SIZE(v) : 0;
}

/* ---- pyframes.c: Python frames (trace v4) ---- */
typedef struct PyFrames PyFrames;
/* Pass 1: a PY_FRAME record. */
void pyframe_read(Imp *im, const WeftEvent *ev);
/* A stack's words as the database has them: its Python frames first,
 * innermost first (those never defined left out), then its C frames. */
void pyframe_order(Imp *im, GArray *ips);
/* The frame id of a Python frame's word in the current process, made when
 * new (0: not defined). */
int pyframe_id(Imp *im, uint64_t word);
/* The file's Python frames forgotten. */
void pyframes_free(Imp *im);

/* ---- pass2.c: the state machines ---- */
int imp_pass2(const WeftEvent *ev, void *user);
/* After pass 2: every thread's open wait and holds end with it. */
void thread_close(Imp *im, Proc *p, Thr *t);
/* A flow row (none when an end is unknown or it runs backwards). */
int imp_flow(Imp *im, int kind, int64_t from_utid, int64_t from_ns, int64_t to_utid, int64_t to_ns, int64_t obj);

/* ---- hold-rows.c: lock holds into blocks ---- */
void hold_row(Imp *im, int64_t utid, Obj *o, int64_t start, int64_t end, int contended, int shared, int estimated);
/* The holds' external sort, mem_rows of them in memory. */
WeftSpill *hold_spill_new(size_t mem_rows);
/* Every hold of the file, sorted, into hold_block rows. */
void holds_to_blocks(Imp *im);
/* After every file: the holds of process-shared objects (from all of them). */
void shared_holds_to_blocks(Imp *im);
/* No hold rows, runs or spill file left: for the next file (the holds are
 * in blocks, or a failed file's are not wanted). */
void holds_discard(Imp *im);

/* ---- lod.c: thread states and their summaries ---- */
#define LOD_BASE_NS 1024
/* The thread states' external sort, mem_rows of them in memory. */
WeftSpill *state_spill_new(size_t mem_rows);
/* A thread's summary rows above its finest level, until its end; mem_rows in memory. */
WeftSpill *summary_spill_new(size_t mem_rows);
/* The file's thread_state rows in key order, and their state_summary rows. */
void states_write(Imp *im);

/* ---- gil.c: CPython's GIL ---- */
/* After pass 1: mark the file's GIL objects (reads the module table). */
void gil_detect(Imp *im);
/* A wait of t on the GIL object o begins at ns (pass 2): the GIL's holder, 0 unknown. */
int64_t gil_wait_begin(Imp *im, Thr *t, Obj *o, unsigned op, uint64_t mutex, int64_t ns);
/* After pass 2: the names of the GIL's objects, unless weft.h named them. */
void gil_name(Imp *im);

/* ---- link.c: across files ---- */
/* exec, fork and wait between processes, and the process rows. */
int link_processes(Imp *im);
/* reads and polls on pipes to the writes that ended them. */
int link_pipes(Imp *im);
/* A write to a pipe (or a send on a TCP stream) chan at ns by utid, and a
 * read or poll that waited on one: for link_pipes. */
void pipe_write_add(Imp *im, uint64_t chan, int64_t ns, int64_t utid);
void pipe_wait_add(Imp *im, const ChanWait *w);
/* Their sorts, made on first use. */
void pipes_free(Imp *im);
/* waits on process-shared mutexes and semaphores to the releases (posts) of
 * other processes that ended them. */
int link_shared(Imp *im);

/* ---- mpi.c: MPI across processes (trace v6) ---- */
/* Pass 2: an MPI_RANK, MPI_MSG or MPI_COLL record; the end of an MPI wait. */
void mpi_read(Imp *im, Thr *t, const WeftEvent *ev, int64_t ns);
void mpi_wait_end(Imp *im, Thr *t, int64_t begin, int64_t ns);
/* At the file's end: t's collective whose wait's end was not seen. */
void mpi_thread_end(Imp *im, Thr *t);
/* The sorts of messages and collectives. */
void mpi_sorts_free(Imp *im);
/* After pass 2: the file's MPI wait objects named by their call. */
void mpi_name_objects(Imp *im);
/* After every file: messages and collectives matched across processes (flows, wakers, meta). */
int link_mpi(Imp *im);
int link_sockets(Imp *im); /* the table socket_transfer */
/* Pass 1: a TCP transfer, for link_sockets; at the end, their sort freed. */
void sock_xfer_add(Imp *im, const SockXfer *x);
void sock_xfers_free(Imp *im);
int hosts_align(Imp *im);  /* before the import: each host's clock onto the first's */
void hosts_write(Imp *im); /* the host table */
void hosts_free(Imp *im);

#endif /* WEFT_IMPORT_PRIVATE_H */
