/* weft-session.h - an open recording, as weft-gui reads it.
 * SPDX-License-Identifier: MIT
 *
 * A WeftSession holds the database handle (opened with weft_db_open) and the
 * small tables the viewer keeps in memory: meta, processes in process-tree
 * order, and their threads. It reads them, like everything else, through
 * store/query.h. Thread states are never loaded whole: the timeline asks for
 * one row's pixels over the visible window (weft_session_fold), which reads
 * state_summary when a pixel is at least one summary bucket wide and the raw
 * thread_state rows otherwise. Not thread-safe: use from the GTK thread (a
 * worker folds through a WeftSessionReader of its own).
 */
#ifndef WEFT_SESSION_H
#define WEFT_SESSION_H

#include <gio/gio.h>
#include <glib.h>
#include <stdint.h>

#include "query.h"
#include "weft-cpu.h"
#include "weft-db.h"

G_BEGIN_DECLS

#define WEFT_PIXEL_NONE 0xff /* no state in the pixel (thread not alive) */

/* One pixel column of one thread row, folded from every state interval that
 * overlaps it: `state` is the state with the most time in the pixel; `mark` a
 * wait state that also happened in it when `state` is running (the wait with
 * the most time), else WEFT_PIXEL_NONE; `nstates` how many states share it
 * (> 1: the column is merged). The running time splits three ways
 * (weft-cpu.h): oncpu + runnable + offcpu = running. */
typedef struct {
  guint8 state;
  guint8 mark;
  guint8 nstates;
  float running;   /* the fraction of the pixel's time the thread was running, 0..1 */
  float oncpu;     /* ... on a CPU */
  float runnable;  /* ... runnable, waiting for a CPU */
  float offcpu;    /* ... off a CPU outside any recorded wait */
  float estimated; /* the fraction of `running` whose split is known only in total (0..1) */
  float alive;     /* the fraction of the pixel's time in some state (alive - running: waiting) */
} WeftPixel;

/* One pixel column of one lock lane, folded from every lock hold that
 * overlaps it: `holder` the index of the thread with the most hold time in
 * the pixel (-1: not held), `nholders` how many threads held it there. */
typedef struct {
  int holder;
  guint8 nholders;
} WeftHoldPixel;

typedef struct {
  int64_t utid;
  int64_t upid;
  int tid;
  char *name;
  int64_t start_ns;
  int64_t end_ns;
  int min_level; /* finest state_summary level of the thread, -1 if none */
  int max_level;
  guint host; /* its process's host: index into the session's hosts */
} WeftSessionThread;

typedef struct {
  int64_t upid;
  int pid;
  int image;    /* 0 for a pid's first image, N after N execs */
  int n_images; /* images of this pid in the recording */
  int depth;    /* in the process tree (0 for a root) */
  char *exe;
  guint first_thread; /* index into the session's threads */
  guint n_threads;
  guint first_lock; /* index into the session's locks */
  guint n_locks;
  int role;   /* WEFT_PROCESS_*: a launcher, as `weft report` leaves them out, or not */
  guint host; /* index into the session's hosts */
} WeftSessionProcess;

/* A machine of the recording (the host table, docs/schema.md "host"), in
 * host order: the first is the reference clock. The processes are ordered
 * by host first, so a host's processes are a range of them (and their
 * threads a range of threads); a recording of one host has one. */
typedef struct {
  int64_t host;
  char *name;
  char *host_id;
  int64_t files;
  int64_t anchor_shift_ns, clock_offset_ns, offset_at_ns;
  int64_t offset_uncertainty_ns; /* -1 when unknown (messages one way only: a bound) */
  double drift_ppm;
  int64_t messages;
  guint first_process, n_processes;
} WeftSessionHost;

enum {
  WEFT_PROCESS_PROGRAM,       /* part of the program (every process when the root did not exec) */
  WEFT_PROCESS_PROGRAM_START, /* the program's image that the launchers exec'd into */
  WEFT_PROCESS_LAUNCHER,      /* env, a shell wrapper, pyenv's shims before the program */
};

/* A contended lock (mutex, rwlock or spinlock that some thread waited for):
 * one lane of the timeline under its process's threads. */
typedef struct {
  int64_t object_id;
  int64_t upid;
  char *name; /* weft_object_display_name */
} WeftSessionLock;

/* One interval of thread_state (query.h). Object, blocker and waker are -1 when NULL. */
typedef WeftStateRow WeftSpan;

/* One lock hold (of a lock lane's fold). */
typedef struct {
  int64_t utid;
  int64_t start_ns;
  int64_t dur_ns;
} WeftSessionHold;

/* One frame of a call stack, for people. */
typedef struct {
  char *function; /* symbol, or "module+0x1a2b" / "0x7f.." when unknown */
  char *file;     /* base name, or NULL */
  int64_t line;   /* 0 when unknown */
  char *label;    /* weft_frame_label: "symbol (file.c:88)" */
} WeftFrame;

typedef struct _WeftSession WeftSession;

/* Open path with weft_db_open and load meta, processes and threads. Returns
 * NULL and sets error to a one-line message naming the file. */
WeftSession *weft_session_open(const char *path, GError **error);
void weft_session_free(WeftSession *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WeftSession, weft_session_free)

const char *weft_session_get_path(WeftSession *self);
const char *weft_session_get_command(WeftSession *self); /* never NULL */
int64_t weft_session_get_end_ns(WeftSession *self);
guint weft_session_get_n_processes(WeftSession *self);
const WeftSessionProcess *weft_session_get_process(WeftSession *self, guint i);
guint weft_session_get_n_threads(WeftSession *self);
const WeftSessionThread *weft_session_get_thread(WeftSession *self, guint i);
guint weft_session_get_n_hosts(WeftSession *self);
const WeftSessionHost *weft_session_get_host(WeftSession *self, guint i);
/* How host i's clock was put on the reference's: "clock -5.04 ms ± 19.9 µs,
 * from 42 messages", "the reference clock", "wall clock only" (no messages). */
const char *weft_session_host_clock(WeftSession *self, guint i, char *buf, size_t len);
/* The name of the host thread utid ran on when the recording has two hosts
 * or more (what a label does not say), else NULL. */
const char *weft_session_thread_host_name(WeftSession *self, int64_t utid);
guint weft_session_get_n_locks(WeftSession *self);
const WeftSessionLock *weft_session_get_lock(WeftSession *self, guint i);
/* Bit s set if state s occurs anywhere in the recording. */
guint32 weft_session_get_states_present(WeftSession *self);
/* How many reads went through the session's own connection since it was
 * opened: the GTK thread's (a worker reads through a WeftSessionReader). The
 * bench reports those made while frames were drawn, which should be none. */
guint weft_session_get_n_reads(WeftSession *self);
/* The CPUs of the machine when it was recorded (meta ncpus), 0 if unknown. */
int weft_session_get_ncpus(WeftSession *self);
/* TRUE if some thread has scheduler readings (its running time splits). */
gboolean weft_session_has_readings(WeftSession *self);

/* Fold thread i's states over the npx pixels [t0 + k·ns_per_px, t0 + (k+1)·ns_per_px)
 * into out[0..npx). Returns 0, or -1 if the database could not be read (out
 * is then all WEFT_PIXEL_NONE). */
int weft_session_fold(WeftSession *self, guint i, double t0, double ns_per_px, int npx, WeftPixel *out);
/* A pixel's state, mark, nstates, running and alive from its ns in each state (WEFT_ST_COUNT of them,
 * npp ns a pixel): the state with the most time, the wait with the most under a running one. FALSE
 * (out untouched) when it has none. (The folds', and the replayed rows' of weft-replay-rows.h.) */
gboolean weft_pixel_pick(const double *state_ns, double npp, WeftPixel *out);

/* Fold lock i's holds over the npx pixels as weft_session_fold does. Reads
 * the holds overlapping the window only. Returns 0, or -1 if the database
 * could not be read (out is then all holder -1). */
int weft_session_fold_lock(WeftSession *self, guint i, double t0, double ns_per_px, int npx, WeftHoldPixel *out);

/* A second connection to the recording with the statements of the two
 * folds above, for a worker thread: weft_session_reader_fold* may be called
 * on one thread at a time per reader, concurrently with the session's use on
 * the GTK thread (they read only the session's immutable tables: threads,
 * locks, meta). The session must outlive the reader. NULL and error set if
 * the file cannot be opened. */
typedef struct _WeftSessionReader WeftSessionReader;
WeftSessionReader *weft_session_reader_new(WeftSession *self, GError **error);
void weft_session_reader_free(WeftSessionReader *reader);
int weft_session_reader_fold(WeftSessionReader *reader, guint i, double t0, double ns_per_px, int npx, WeftPixel *out);
int weft_session_reader_fold_lock(WeftSessionReader *reader, guint i, double t0, double ns_per_px, int npx,
                                  WeftHoldPixel *out);

/* Thread i's running time over the whole recording split as the timeline
 * draws it: out[0] on a CPU, out[1] runnable, out[2] off a CPU, out[3] not
 * measured (in out[0]). Returns 0 or -1. */
int weft_session_cpu_totals(WeftSession *self, guint i, int64_t out[4]);


/* The interval between two scheduler readings of thread i that contains t,
 * with its split of the running time (weft-cpu.h), if the split was read
 * already (by a fold), without reading anything: 1 (out set), or 0 if no
 * interval has t; -1 if it was not read yet. lod is set in every case:
 * with the thread's start and end, what weft_cpu_model_read on a worker
 * needs to read it. */
int weft_session_cpu_cached_at(WeftSession *self, guint i, int64_t t, WeftCpuInterval *out, WeftCpuLod *lod);

/* Flows that start or end on thread utid inside [t0, t1], appended to out
 * (WeftFlow, query.h), at most limit rows. Returns 0 or -1. */
int weft_session_flows(WeftSession *self, int64_t utid, int64_t t0, int64_t t1, guint limit, GArray *out);

/* The frames of a call stack, innermost first, read through q (a worker's
 * connection: weft_session_read_async) (out: WeftFrame; free with
 * weft_frame_clear). Returns the number of frames appended. */
guint weft_read_stack(WeftQuery *q, int64_t stack_id, GArray *out);
void weft_frame_clear(WeftFrame *f);


/* A sync object with its totals over the recording (query.h's row, its
 * kind an interned string) and its name. */
typedef struct {
  WeftObjectRow row;
  char *name; /* weft_object_display_name */
} WeftSessionObject;

/* Every sync object except joins and children, the most waited-for first,
 * appended to out (WeftSessionObject; free with weft_session_object_clear).
 * Returns 0 or -1. */
int weft_session_objects(WeftSession *self, GArray *out);
/* The same from a connection of the caller's (db opened with weft_db_open;
 * any thread): reading every object's wait count and longest wait takes
 * long on a big recording (a scan of the waits), so the window reads them
 * on a worker. */
int weft_session_read_objects(sqlite3 *db, GArray *out);
void weft_session_object_clear(WeftSessionObject *o);

/* A read of the recording on a worker thread (a GTask's), the one way the
 * GUI reads off the GTK thread (the highlight, the flows, the search, a
 * span hovered or clicked, the critical path): what the worker knows of
 * the session is copied into a WeftReadEnv when the read starts, so that
 * the session is never touched off the GTK thread. The worker opens the
 * file with a connection of its own and calls work with a query whose
 * errors name the file; work returns its result (freed with result_free
 * when nobody takes it), or NULL with error set (cancelled:
 * G_IO_ERROR_CANCELLED, or the read failed). */
typedef struct {
  char *path;
  GHashTable *index; /* utid -> thread index + 1 */
  guint n_threads;
} WeftReadEnv;
typedef gpointer (*WeftReadWork)(WeftQuery *q, const WeftReadEnv *env, gpointer data, GCancellable *cancel,
                                 GError **error);
void weft_session_read_async(WeftSession *self, WeftReadWork work, gpointer data, GDestroyNotify data_free,
                             GDestroyNotify result_free, GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data);
/* The result of work, or NULL with error set. */
gpointer weft_session_read_finish(GAsyncResult *result, GError **error);
/* The data given to weft_session_read_async (in its callback). */
gpointer weft_session_read_get_data(GAsyncResult *result);
/* The message of a read that failed without one (work's fallback). */
void weft_read_set_error(WeftQuery *q, GError **error);
/* After a worker's read or computation: give the memory it freed back to the
 * system (glibc keeps a thread's freed blocks in its arena, where the next
 * worker's peak would stack on them); nothing elsewhere. */
void weft_release_free_memory(void);

/* A copy of the session's map of utid -> thread index + 1 (for a worker). */
GHashTable *weft_session_copy_index(WeftSession *self);
/* Index of the thread with this utid, or -1. */
int weft_session_thread_index(WeftSession *self, int64_t utid);
/* Index of the lock lane of object_id, or -1. */
int weft_session_lock_index(WeftSession *self, int64_t object_id);

/* Time t (ns since the start) as weft_format_ns writes it ("501 ms"), with
 * as many more decimals as it takes to tell it from t + dur ("501.031 ms"
 * for a 77.5 µs interval there): the start and end of a span. */
const char *weft_format_instant(char *buf, size_t len, int64_t t, int64_t dur);

/* "name [tid]" of a thread by utid (or "thread N" if unknown). */
const char *weft_session_thread_label(WeftSession *self, int64_t utid, char *buf, size_t len);

G_END_DECLS

#endif /* WEFT_SESSION_H */
