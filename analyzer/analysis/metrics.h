/* metrics.h - the analyses of a recording: one definition for `weft report`,
 * `weft scale` and weft-gui.
 * SPDX-License-Identifier: MIT
 *
 * weft_metrics_compute() reads a recording database (docs/schema.md) over a
 * time range [a, b) and, optionally, the processes of one pid, and returns
 * plain structs: per process and per thread time accounting, POP efficiency
 * metrics for the range and for regions (barrier rounds, fork-join groups,
 * marked phases), contention per synchronisation object, the parallelism
 * profile, and ranked findings with suggested fixes. Nothing here prints;
 * report.h renders the structs as text, JSON or Markdown.
 *
 * Time is ns relative to the recording's origin, like the database. Every
 * interval is clipped to the range: a wait that began before a counts only
 * from a. A thread's time splits four ways (WeftTimeSplit): on a CPU,
 * runnable (waiting for a CPU), waiting in a recorded wait, off a CPU
 * outside any recorded wait; "useful" time is the first, from the
 * scheduler's readings (schedstat) and the running spans between them.
 *
 * The definitions of every number are in docs/report-json.md. Each
 * analysis has its file in analysis/ (analysis-private.h lists them, in the
 * order weft_metrics_compute() runs them); python.h is the Python part.
 *
 * Threads: weft_metrics_compute() may be called from any thread, with a
 * connection no other thread uses during the call; it reads in a read
 * transaction of its own (unless the caller has one open) and, with
 * query.jobs != 1, on worker threads with their own read-only connections
 * to the same file. A WeftMetrics is immutable after the call and may be
 * read from any thread.
 */
#ifndef WEFT_METRICS_H
#define WEFT_METRICS_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft-db.h"
#include "weft-units.h" /* weft_format_ns, weft_parse_time, weft_parse_range */

/* ---- the query ---- */

#define WEFT_TIME_OPEN_START INT64_MIN /* range starts at the recording's start */
#define WEFT_TIME_OPEN_END   INT64_MAX /* range ends at the recording's end */

/* What to compute; the per-process and per-thread accounting and the
 * summary are always computed. WEFT_METRICS_FINDINGS needs the rest and
 * turns it on. */
enum {
  WEFT_METRICS_OBJECTS = 1u << 0,       /* contention per sync object */
  WEFT_METRICS_REGIONS = 1u << 1,       /* barrier rounds, fork-join groups, phases */
  WEFT_METRICS_PARALLELISM = 1u << 2,   /* fraction of time with k threads running */
  WEFT_METRICS_FINDINGS = 1u << 3,      /* ranked findings (implies the three above) */
  WEFT_METRICS_CRITICAL_PATH = 1u << 4, /* the critical path and what-ifs (critpath.c, whatif.c); with
                                         * WEFT_METRICS_FINDINGS it also ranks the findings */
  WEFT_METRICS_ALL = 0x1fu,
};

typedef struct {
  int64_t start_ns;           /* a, or WEFT_TIME_OPEN_START */
  int64_t end_ns;             /* b, or WEFT_TIME_OPEN_END */
  int64_t pid;                /* only the process images with this pid; -1: all processes. An open
                               * end of the range is then their first start / last end */
  unsigned what;              /* WEFT_METRICS_* bits; 0 means WEFT_METRICS_ALL */
  int jobs;                   /* threads reading the database: 0 one per CPU (at most 8), 1 only the
                               * caller's. Extra threads open their own read-only connections to
                               * db's file (not for an in-memory database) */
  int all_processes;          /* 0 (the default): without a pid and with an open start, when the
                               * root process exec'd (env, a shell wrapper, pyenv's shims -> the
                               * program), leave out its earlier images and their children, the
                               * launchers: the program is the last image and its descendants, and
                               * the range starts with it. 1: every process */
  const char *const *whatifs; /* changes to replay (replay.c; "lock:hot=free", "cpus=8", ...): with
                               * WEFT_METRICS_CRITICAL_PATH, WeftMetrics.replay */
  size_t nwhatifs;
  int no_replay;       /* 1: the critical path's what-ifs stay estimates (not replayed besides the whatifs) */
  int replay_timeline; /* with whatifs: 1 keeps each replayed thread's timeline (WeftReplayTimeline) */
} WeftMetricsQuery;

/* The whole recording, all processes, everything, one thread per CPU. */
void weft_metrics_query_init(WeftMetricsQuery *q);

/* ---- results ---- */

/* POP efficiencies of a team of n threads over a span of length T, from
 * each member's useful time:
 *   lb    = mean(useful) / max(useful)   (1 when max is 0: no work, nothing to balance)
 *   synce = max(useful) / T
 *   pe    = lb * synce = mean(useful) / T
 *   idle_ns = sum(T - useful_i)          (thread-ns the team did no useful work)
 *   imbalance_ns = sum(max - useful_i)   (the part of idle caused by imbalance)
 * All zero (lb 1) for an empty team or T <= 0. */
typedef struct {
  size_t n;
  int64_t span_ns; /* T */
  int64_t sum_useful_ns;
  int64_t max_useful_ns;
  double lb, synce, pe;
  int64_t idle_ns;
  int64_t imbalance_ns;
} WeftPop;

void weft_pop(const int64_t *useful_ns, size_t n, int64_t span_ns, WeftPop *out);

/* Where the time of a thread (or the sum over threads) went; the four add up
 * to its lifetime in the range. The scheduler's readings (on-CPU and
 * runnable time, cumulative) come every 50 ms of a thread's activity, after
 * its long (1 ms+) barrier, join, child, sleep and I/O waits, and at its end; between two readings only their
 * difference is known, and it is placed in the running spans (outside recorded waits) first: oncpu    on a CPU outside
 * recorded waits = useful time. Without readings (after the last one, or none at all) the running time counts, and is
 * also counted in assumed runnable runnable but waiting for a CPU, inside waits (after a wake-up) or outside them
 * (preempted): exactly the scheduler's figure waiting  in a recorded wait and neither runnable nor (outside it) on a
 *            CPU; by kind of wait in waiting_state_ns, shared out in
 *            proportion to the waits' lengths between two readings
 *   offcpu   off a CPU outside any recorded wait (an unrecorded syscall,
 *            page faults, a stop): at least this much
 */
typedef struct {
  int64_t oncpu_ns, runnable_ns, waiting_ns, offcpu_ns;
  int64_t assumed_ns;
  int64_t interpolated_ns;                 /* lifetime in reading intervals the range cuts: their split is the
                                            * interval's, in proportion to the part inside the range */
  int64_t waiting_state_ns[WEFT_ST_COUNT]; /* [0]: in states this weft does not know */
} WeftTimeSplit;

typedef struct {
  int64_t utid, upid, tid, pid;
  const char *name; /* thread.name, or "" */
  int is_main;
  int64_t creator_utid;     /* -1: none/unknown */
  int64_t start_ns, end_ns; /* its whole life, unclipped */
  const char *end_how;
  int64_t lifetime_ns;             /* its life inside the range */
  int64_t state_ns[WEFT_ST_COUNT]; /* time in each state inside the range */
  WeftTimeSplit time;              /* on a CPU, runnable, waiting, off a CPU */
  int64_t useful_ns;               /* = time.oncpu_ns */
  int64_t wait_ns;                 /* wall time in every other state (waits, unknown states) */
  int64_t cpu_ns;                  /* schedstat on-CPU time in the range; -1 unknown */
  int64_t runq_ns;                 /* schedstat runnable-but-not-running time in the range; -1 unknown.
                                    * Life partly in the range: interpolated between sched_sample
                                    * readings; unknown without samples. Both at most lifetime_ns */
} WeftThreadMetrics;

typedef struct {
  int64_t upid, pid, image;
  int64_t parent_upid;                 /* -1: none */
  const char *cmdline, *exe, *end_how; /* "" when unknown */
  int64_t start_ns, end_ns;            /* unclipped */
  int has_exit_status;
  int64_t exit_status;
  int64_t lifetime_ns; /* inside the range */
  size_t nthreads;     /* its threads alive in the range */
  int64_t thread_ns;   /* sum of their lifetimes in the range */
  int64_t state_ns[WEFT_ST_COUNT];
  WeftTimeSplit time; /* sums over its threads */
  int64_t useful_ns, wait_ns;
  int64_t cpu_ns, runq_ns; /* sums over threads that know them; -1 if none does */
  WeftPop pop;             /* team: its threads; T: its lifetime in the range */
  int64_t mpi_rank;        /* its rank in MPI_COMM_WORLD; -1: not an MPI rank */
  int64_t host;            /* its host (WeftMetrics.hosts[].host; 0 with one host) */
} WeftProcessMetrics;

/* A machine of the recording (the host table, schema 5): how its clock was
 * mapped onto the first host's (docs/schema.md). */
typedef struct {
  int64_t host;
  const char *name, *host_id;
  int64_t files;
  int64_t anchor_shift_ns;       /* from the wall-clock anchors */
  int64_t clock_offset_ns;       /* then, from the messages between hosts, at offset_at_ns */
  int64_t offset_uncertainty_ns; /* how far the truth can be from it there; -1 unknown */
  double drift_ppm;
  int64_t messages;
  int64_t offset_at_ns;
} WeftHostMetrics;

/* A call site: the innermost frame (the caller of the wait) of the stacks of
 * waits, grouped by label. */
typedef struct {
  const char *label;         /* "symbol (file.c:88)", "symbol", "module+0x1a2b", "0x7f..", "(no stack)" */
  const char *symbol, *file; /* NULL when unknown; file as stored (full path) */
  int64_t line;              /* 0 when unknown */
  int64_t waits;
  int64_t wait_ns;
} WeftCallSite;

#define WEFT_TOP_SITES 3

typedef struct {
  int64_t object_id, upid, addr;
  int kind;                   /* WEFT_KIND_* (agent/format/weft-trace.h) */
  const char *kind_name;      /* "mutex", ... */
  const char *name;           /* sync_object.name, else the init site label, else the first
                               * contended site label, else "kind@0xaddr" */
  const char *site;           /* "file.c:88" of the init (else first) stack, or NULL */
  const char *label;          /* name plus " (site)" when named and the site is known */
  int named;                  /* name came from sync_object.name */
  int omp;                    /* an object of the OpenMP runtime (sync_object.runtime): a region's barrier, a dock */
  int64_t acquisitions;       /* successful acquisitions in the range; -1 unknown */
  int acquisitions_estimated; /* the range cuts a flush interval of the counts: prorated */
  int64_t failed_tries;       /* trylock/trywait that failed (EBUSY, EAGAIN); -1 unknown (before v3) */
  int64_t contended;          /* waits on it that ended in (a, b] with result 0 */
  int64_t timeouts;           /* waits on it that ended in (a, b] with ETIMEDOUT (a timed wait) */
  double contended_frac;      /* contended / acquisitions; -1 when acquisitions unknown or 0 */
  int64_t waits;              /* wait intervals overlapping the range */
  int64_t wait_ns, wait_p50_ns, wait_p99_ns, wait_max_ns; /* clipped durations; nearest rank */
  int64_t holds; /* recorded holds overlapping the range (all of them when holds_all; with
                  * contention first, those someone waited for) */
  int64_t hold_ns, hold_mean_ns, hold_max_ns;
  /* contention first: the holds that were not recorded, from a sample of timed ones (estimates) */
  int64_t hold_samples; /* timed holds in the sample (0: none; the hold_est_* are then -1) */
  int64_t hold_sample_mean_ns, hold_sample_max_ns;
  int64_t hold_est_ns; /* estimated total hold time: hold_ns + the unrecorded holds at the
                        * sample's mean; -1 unknown (no sample), = hold_ns when holds_all */
  int64_t handoffs;    /* lock_handoff flows on it arriving in (a, b] */
  int64_t waiters;     /* distinct threads that waited on it */
  /* its longest wait: by whom (-1 none); and, for a lock waited on 1 ms or
   * more, the holds one other thread began during it (the most of any: the
   * lock taken again and again while the waiter waited) and by whom (-1) */
  int64_t wait_max_utid, wait_max_retaken, wait_max_retaken_utid;
  int64_t wait_max_retaken_reads; /* of those holds, a rwlock's read holds (readers kept a writer out) */
  int py_manager;                 /* made by a multiprocessing Manager's server (Server.create): a Manager().Lock()
                                   * or the like, which the server threads take for the clients */
  int64_t processes;              /* distinct processes whose threads waited on it (in the whole recording):
                                   * 2 or more for a process-shared object (a multiprocessing lock) */
  double wait_share;              /* wait_ns / all waiting in the range except join_wait and
                                   * child_wait (waiting for threads or children to end); 0 if none */
  WeftCallSite sites[WEFT_TOP_SITES];
  size_t nsites;             /* entries in sites (top by wait_ns) */
  size_t nsites_total;       /* distinct call sites */
  int64_t py_join_wait_ns;   /* of wait_ns, in Python's Thread.join(): waiting for threads to end, by
                              * design (no finding, no what-if when it is most of wait_ns) */
  int64_t py_result_wait_ns; /* of wait_ns, in a Python wait for results or tasks (Future.result,
                              * as_completed, a Pool's AsyncResult.get and its helper and worker threads,
                              * Queue.get, Event.wait,
                              * Thread.start): idle by design (ranked last, no what-if) */
  int64_t py_ipc_wait_ns;    /* of wait_ns, in a multiprocessing queue's put or get: waiting to move data
                              * through a pool's task or result pipe while another process does */
  int64_t critical_share_ns; /* wall time of the critical path caused by waits on it (see
                              * WeftCriticalPath); 0 when not computed */
  int64_t critical_hold_ns;  /* wall time the critical path spent inside a hold of it */
} WeftObjectMetrics;         /* every object waited on or held in the range, except joins and children
                              * (kinds join, child: see the state totals and fork-join regions) */

typedef enum {
  WEFT_REGION_BARRIER = 1,   /* up to a round of one barrier, from the previous round */
  WEFT_REGION_FORK_JOIN = 2, /* a creator's first create .. last join of a group */
  WEFT_REGION_PHASE = 3,     /* a mark with a duration (weft.h) */
} WeftRegionKind;

typedef struct {
  WeftRegionKind kind;
  const char *kind_name;    /* "barrier", "fork_join", "phase" */
  const char *label;        /* for people */
  int64_t start_ns, end_ns; /* clipped to the range */
  int clipped;              /* the region extends beyond the range */
  int64_t object_id;        /* barrier: the object; else -1 */
  int64_t round;            /* barrier: index of the round that closes it (0..); else -1 */
  int64_t owner_utid;       /* fork-join: the creator; phase: the marking thread; else -1 */
  int64_t mark_id;          /* phase: mark.id; else -1 */
  WeftPop pop;
  int64_t straggler_utid; /* the member with the most useful time */
  int64_t last_utid;      /* the last to arrive (barrier), to end (fork-join); phase: -1 */
  size_t nteam;
  const int64_t *team_utid; /* nteam entries, ascending utid */
  const int64_t *team_useful_ns;
} WeftRegion;

/* "Running" here is outside any wait: on a CPU or runnable (ready, waiting
 * for one). With more such threads than CPUs (oversubscribed) the histogram
 * counts threads the CPUs could not all run; cpus_used says what they did. */
typedef struct {
  int64_t span_ns;       /* T of the range */
  size_t kmax;           /* most threads running (or runnable) at once */
  int64_t *ns;           /* kmax + 1 entries: time with exactly k threads running (or runnable) */
  double *fraction;      /* ns[k] / T */
  double average;        /* sum k * fraction[k] (= total running time / T) */
  int64_t io_overlap_ns; /* of ns[0]: time when 2+ threads were blocked in I/O at once */
  double cpus;           /* the CPUs the program may use (affinity, CPU limit); 0 unknown */
  double cpus_used;      /* the threads' time on a CPU outside waits / T: the CPUs they kept busy */
  bool oversubscribed;   /* kmax > cpus: more threads running or runnable at once than CPUs */
} WeftParallelism;

typedef enum {
  WEFT_FIND_CONTENTION = 1,     /* a lock, rwlock, spinlock or semaphore */
  WEFT_FIND_CONDVAR = 2,        /* waiting for a condition variable */
  WEFT_FIND_IMBALANCE = 3,      /* a region (or a barrier's rounds) with LB < 0.9 */
  WEFT_FIND_SERIAL = 4,         /* time with at most one thread running (cost: that wall time) */
  WEFT_FIND_OVERSUBSCRIBED = 5, /* runnable threads waiting for a CPU (>= 10% of thread time) */
  WEFT_FIND_GIL = 6,            /* Python threads waiting for the GIL */
  WEFT_FIND_IO = 7,             /* blocked in I/O */
  WEFT_FIND_SLEEP = 8,          /* sleeping */
  WEFT_FIND_IO_OVERLAP = 9,     /* a good sign: Python threads overlapping while blocked in I/O (cost 0) */
  WEFT_FIND_MACHINE_LOAD = 10,  /* a warning about the measurement: threads waited for a CPU that other
                                 * load or a CPU limit took, not the program's own threads (cost 0) */
  WEFT_FIND_BOTTLENECK = 11,    /* a thread others wait for while it works (a pipeline's slow stage) */
  WEFT_FIND_GIL_RELEASED = 12,  /* a good sign: Python threads ran at once, outside the GIL (cost 0) */
  WEFT_FIND_STARTUP = 13,       /* a Python pool's workers spent much of their time starting up */
  WEFT_FIND_IPC = 14,           /* a Python pool's data moved between processes cost as much as its work */
  WEFT_FIND_MPI_IMBALANCE = 15, /* MPI ranks waited in MPI for a slower rank (LB across ranks < 0.9) */
  WEFT_FIND_ONE_WORKER = 16,    /* a Python pool ran all its tasks on one worker while CPUs sat idle */
  WEFT_FIND_UNRECORDED = 17,    /* threads off a CPU outside any recorded wait (a call weft does not wrap) */
  WEFT_FIND_OPENMP = 18,        /* a warning: an OpenMP runtime whose regions and barriers weft does not record */
} WeftFindingKind;

typedef struct {
  WeftFindingKind kind;
  const char *kind_name; /* "contention", "condvar", "imbalance", ... */
  int64_t cost_ns;       /* the ranking key: thread-ns it accounts for (serial: wall ns) */
  const char *title;     /* one line: what and how much */
  const char *evidence;  /* the numbers behind it */
  const char *fix;       /* the suggested fix */
  int64_t object_id;     /* the object, or -1 */
  int64_t utid;          /* the thread (straggler), or -1 */
  int64_t region;        /* index into WeftMetrics.regions, or -1 */
  bool by_design;        /* waits for results or tasks (Python's Future.result, Queue.get ...): idle by
                          * design, ranked after the findings that are not */
} WeftFinding;

/* A warning about the measurement, not a cost of the program's (machine_load's warning, unrecorded):
 * cost 0, listed after the findings. */
static inline bool weft_finding_is_warning(const WeftFinding *f) {
  return f->cost_ns == 0 &&
         (f->kind == WEFT_FIND_MACHINE_LOAD || f->kind == WEFT_FIND_UNRECORDED || f->kind == WEFT_FIND_OPENMP);
}

typedef struct {
  size_t nprocesses, nthreads;
  int64_t span_ns;   /* T = b - a */
  int64_t thread_ns; /* sum of thread lifetimes in the range */
  int64_t state_ns[WEFT_ST_COUNT];
  WeftTimeSplit time; /* sums over threads */
  int64_t useful_ns, wait_ns;
  int64_t cpu_ns, runq_ns; /* -1 unknown */
  WeftPop pop;             /* team: every thread alive in the range but an MPI library's; T = b - a */
  size_t pop_left_out;     /* the MPI library's threads (WeftMetrics.mpi_lib_utids) left out of pop */
} WeftSummary;

/* ---- the critical path (critpath.c; definitions in docs/report-json.md) ----
 *
 * Walked backwards from the end of the range on the thread that ends last
 * (of the first selected process): while the thread runs, the time is on
 * the path and attributed to it; at the end of a wait with an incoming flow
 * (lock hand-off, wake-up, barrier, post, join, wait) the path jumps to the
 * flow's source thread at from_ns (the time between from_ns and the wait's
 * end, the wake-up latency, stays on the waiter); a wait without one
 * (timeout, sleep, I/O) stays on the thread; a thread's start jumps through
 * its create/fork/exec flow. Every instant of the path is caused by the
 * innermost wait jumped through that covers it (its object and call site),
 * or by the thread's own wait when it stayed in one. */
typedef struct {
  int64_t utid;
  const char *label;  /* "name [tid]" */
  int64_t path_ns;    /* time of the path on this thread */
  int64_t running_ns; /* of it, running */
  double share;       /* path_ns / length_ns */
} WeftPathThread;

typedef struct {
  int64_t object_id;
  const char *label, *kind_name;
  int64_t cause_ns; /* = WeftObjectMetrics.critical_share_ns */
  int64_t hold_ns;  /* = WeftObjectMetrics.critical_hold_ns */
  double share;     /* cause_ns / length_ns */
} WeftPathObject;

typedef struct {
  const char *label;        /* the wait's call site (as WeftCallSite.label) */
  const char *object_label; /* the object waited for */
  int64_t object_id;
  int64_t cause_ns;
} WeftPathSite;

typedef struct {
  int64_t utid;
  int64_t start_ns, end_ns; /* contiguous: one segment's end is the next one's start */
  int64_t running_ns;
  int flow_kind;     /* the flow from the previous segment into this one (WeftFlowKind); 0 first */
  int64_t object_id; /* that flow's object, or -1 */
} WeftPathSegment;

/* The least a change that keeps the work leaves: the threads' work on the
 * CPUs (their time on one, less the wake-ups of a lock whose waits go)
 * spread over the CPUs, or one thread's own work, which it does in turn
 * whatever the others do (a thread someone joined, or a main thread: the
 * run waits for all of it). A prediction below it is raised to it. */
typedef struct {
  double cpus;     /* > 0: the prediction is this floor: work_ns over this many CPUs; 0: not raised */
  int64_t work_ns; /* the work */
  int64_t utid;    /* >= 0: one thread's work (cpus 1); -1: every thread's */
} WeftWorkFloor;

typedef enum {
  WEFT_WHATIF_OBJECT = 1,  /* an object's waits removed */
  WEFT_WHATIF_BALANCE = 2, /* a region's straggler's work spread evenly over its team */
} WeftWhatIfKind;

typedef struct {
  WeftWhatIfKind kind;
  const char *kind_name; /* "object", "balance" */
  const char *label;     /* the object, or the region */
  int64_t object_id;     /* or -1 */
  int64_t region;        /* index into WeftMetrics.regions, or -1 */
  int64_t utid;          /* balance: the straggler; else -1 */
  int64_t saving_ns;     /* the predicted reduction of the range's length */
  int64_t predicted_ns;  /* length_ns - saving_ns */
  int replayed;          /* replayed as well (WeftMetrics.replay): the replay's prediction is the one to trust */
  WeftWorkFloor floor;   /* floor.cpus > 0: the prediction is that floor, not the path's */
} WeftWhatIf;

/* What-if by replay (replay.c): the recording re-run with a change applied. */
typedef enum {
  WEFT_REPLAY_LOCK_FREE = 1,     /* lock:NAME[=free]: it keeps no one waiting */
  WEFT_REPLAY_LOCK_SHORTER = 2,  /* lock:NAME=-X%: its critical sections X % shorter */
  WEFT_REPLAY_THREAD_FASTER = 3, /* thread:NAME=-X%: its work X % faster */
  WEFT_REPLAY_NO_GIL = 4,        /* gil=off */
  WEFT_REPLAY_CPUS = 5,          /* cpus=N */
  WEFT_REPLAY_BALANCE =
      6, /* balance: the most imbalanced region's work spread evenly; balance:NAME: every round of a barrier */
  WEFT_REPLAY_REGION_FASTER = 7, /* region:NAME=-X%: every thread's work inside the region X % faster */
} WeftReplayKind;

/* A replayed thread's timeline (WeftMetricsQuery.replay_timeline): its
 * life in the replay as consecutive intervals, from its start to its end,
 * in the recording's ns (the replay's time 0 is the recording's range start;
 * the replay's own clock: not scaled to the recorded length). */
typedef struct {
  int64_t start_ns, end_ns;
  int32_t state;    /* WEFT_ST_*: running, or the kind of wait it replays */
  int32_t offcpu;   /* running: 1 for the share off a CPU outside any wait (a delay, as recorded) */
  int64_t oncpu_ns; /* running, not offcpu: the part on a CPU (the rest: runnable, the CPUs shared) */
} WeftReplayInterval;

typedef struct {
  int64_t utid;
  WeftReplayInterval *v; /* by time, contiguous */
  size_t n;
} WeftReplayThread;

typedef struct {
  WeftReplayThread *threads; /* as WeftMetrics.threads (a thread with no interval: n 0) */
  size_t nthreads;
} WeftReplayTimeline;

typedef struct {
  const char *spec; /* as given */
  int asked;        /* 1: a change asked for (WeftMetricsQuery.whatifs); 0: weft's own (the critical path's) */
  WeftReplayKind kind;
  const char *description;     /* "hot (fx.c:12) keeps no one waiting (sharded or removed)" */
  int64_t replayed_ns;         /* the replay's length with the change */
  double kept;                 /* the unchanged replay's error (recorded / unchanged) as far as the change keeps it:
                                  its running's part always, of the rest all but a removed lock's share */
  int64_t predicted_ns;        /* replayed_ns * kept, raised to the floor (below) */
  int64_t saving_ns;           /* recorded_ns - predicted_ns (negative: slower) */
  int64_t forced;              /* operations skipped to get past a wait no one ended */
  WeftWorkFloor floor;         /* floor.cpus > 0: predicted_ns raised to it (a change that keeps the work) */
  WeftReplayTimeline timeline; /* with WeftMetricsQuery.replay_timeline; else empty */
} WeftReplayResult;

typedef struct {
  int64_t recorded_ns;       /* the selected threads' first start to last end */
  int64_t replayed_ns;       /* the replay of the recording unchanged */
  double error;              /* (replayed - recorded) / recorded: the model's own error bar */
  int64_t cpus;              /* the recording's CPUs (-1 unknown: no limit) */
  double background;         /* other work on the machine as threads always ready to run (the replay keeps it) */
  int64_t ops;               /* operations replayed */
  int64_t forced;            /* of the unchanged replay */
  int64_t placed_holds;      /* counted holds placed (0: spread: their unchanged replay was the further off) */
  const char *unavailable;   /* NULL, or why there is no replay ("too large") */
  int defaults;              /* no change was asked for: every result is weft's own */
  WeftReplayResult *results; /* the asked ones in their order, then weft's own by saving */
  size_t nresults;
  WeftReplayTimeline timeline; /* of the unchanged replay, with WeftMetricsQuery.replay_timeline */
} WeftReplay;

typedef struct WeftCriticalPath {
  int64_t start_ns, end_ns, length_ns; /* the range: length = b - a */
  int64_t end_utid;                    /* the thread the walk started on (-1: none) */
  int64_t path_ns;                     /* attributed to threads: length minus the two below */
  int64_t before_ns;                   /* before the first thread's start, no flow to follow */
  int64_t after_ns;                    /* between end_utid's end and the range's end */
  int64_t jumps;                       /* flows followed */
  WeftPathThread *threads;
  size_t nthreads; /* by path_ns desc, utid */
  WeftPathObject *objects;
  size_t nobjects; /* cause_ns > 0 or hold_ns > 0; by cause_ns, hold_ns desc;
                    * not joins and child waits */
  WeftPathSite *sites;
  size_t nsites; /* by cause_ns desc */
  WeftPathSegment *segments;
  size_t nsegments; /* in time order */
  WeftWhatIf *whatifs;
  size_t nwhatifs;
} WeftCriticalPath;

/* ---- MPI (mpi.c; definitions in docs/report-json.md, "MPI") ----
 * The selected processes that were MPI ranks, as one team: POP across the
 * ranks as across the threads of a process. */
typedef struct {
  int64_t rank, upid, pid;
  int64_t useful_ns;   /* its threads' useful time (WeftProcessMetrics.useful_ns) */
  int64_t mpi_wait_ns; /* its threads' time in MPI waits (state mpi_wait) */
  int64_t startup_ns;  /* of it, in MPI_Init, MPI_Init_thread and MPI_Finalize (0 without
                        * WEFT_METRICS_OBJECTS) */
  int64_t mpi_cpu_ns;  /* of it, on a CPU (the library polling for progress) */
  int64_t lifetime_ns; /* in the range */
  int64_t start_ns;    /* its process's start */
} WeftMpiRank;

typedef struct WeftMpi {
  WeftMpiRank *ranks;
  size_t nranks;        /* by rank */
  int64_t world_size;   /* the largest rank + 1 */
  WeftPop pop;          /* team: the ranks, each its useful time; T: from the first rank's start to the
                         * last one's end, in the range. lb = load balance, synce = communication
                         * efficiency, pe = parallel efficiency across ranks */
  int64_t mpi_wait_ns;  /* all ranks */
  int64_t mpi_cpu_ns;   /* of it, on a CPU: all ranks */
  int64_t slowest_rank; /* the rank with the most useful time (the others wait for it) */
  int64_t messages;     /* matched messages received in the range */
  int64_t collectives;  /* collectives in which a rank waited for another (flows mpi_collective), left in the range */
} WeftMpi;

typedef struct {
  /* the recording (meta) */
  const char *command, *weft_version, *clock; /* "" when unknown */
  const char *salvaged;      /* meta salvaged: the first corruption weft import --salvage read past; "" */
  int64_t salvaged_files;    /* corrupt trace files imported only up to their fault */
  int64_t ncpus;             /* the CPUs the first process may use (affinity); -1 unknown */
  int64_t cpu_limit_milli;   /* its cgroup's CPU limit in thousandths of a CPU (weft record); -1 none */
  int64_t machine_busy_ns;   /* the machine's busy CPU time during the run, all CPUs (weft record,
                              * /proc/stat); -1 unknown */
  int64_t machine_steal_ns;  /* of it, taken by the hypervisor; -1 unknown */
  int64_t other_cpu_ns;      /* CPU time other processes used during the run: machine_busy_ns less
                              * the program's (every thread's schedstat); -1 unknown */
  int64_t unselected_cpu_ns; /* the CPU time of the recording's threads outside the selection (their
                              * whole lives): other work for the selected ones; 0 all selected */
  int64_t lost_events;
  int io_waits;    /* meta io_waits: 1 the agent timed waits in poll, select and reads (WEFT_IO), 0 not, -1 unknown */
  int futex_waits; /* meta futex_waits: 1 the agent recorded syscall(SYS_futex) waits, 0 not, -1 unknown */
  int omp_tasks;   /* meta omp_tasks: the program made OpenMP tasks (its barrier waits may hold their work) */
  int64_t recording_end_ns;  /* meta end_ns */
  int holds_all;             /* every lock hold was recorded (meta holds = all: traces before version 3,
                              * or WEFT_HOLDS=all); 0: those someone waited for, counts and a sample
                              * of timed holds for the rest (contention first) */
  int64_t hold_sample;       /* one uncontended hold in N timed (contention first; 0 none) */
  int64_t counts_flush_ms;   /* a thread wrote its counts at least this often while it worked */
  int64_t counts_incomplete; /* processes killed before exit: counts since their threads' last flush lost */
  /* the query, resolved */
  int64_t range_start_ns, range_end_ns;
  int whole;            /* the range is the whole recording */
  int whole_program;    /* the range is the program's whole life: the whole recording, or (launchers left
                         * out, no pid or time asked for) its processes' first start to their last end */
  int64_t pid;          /* -1: all processes */
  unsigned what;        /* what was computed */
  int64_t program_upid; /* the program image when launchers were left out, else -1 */
  size_t launchers;     /* processes left out as launchers (WeftMetricsQuery.all_processes) */
  bool mpi_launchers;   /* they are an MPI job's launchers; the program is its ranks (program_upid the lowest) */

  WeftSummary summary;
  WeftProcessMetrics *processes;
  size_t nprocesses; /* by upid */
  WeftThreadMetrics *threads;
  size_t nthreads; /* by utid; alive in the range */
  WeftObjectMetrics *objects;
  size_t nobjects; /* by wait_ns, hold_ns desc, object_id */
  WeftRegion *regions;
  size_t nregions; /* by start_ns, kind, end_ns */
  WeftParallelism parallelism;
  WeftFinding *findings;
  size_t nfindings;                /* good signs first, then by cost_ns desc (by_design ones after the
                                    * others, warnings last) */
  WeftCriticalPath *critical_path; /* NULL unless WEFT_METRICS_CRITICAL_PATH */
  struct WeftPython *python;       /* parallel Python (python.h): the GIL, threads, pools; NULL unless
                                    * WEFT_METRICS_FINDINGS and a selected process is a CPython */
  WeftReplay *replay;              /* what-ifs by replay (WeftMetricsQuery.whatifs); NULL without */
  WeftMpi *mpi;                    /* MPI across ranks; NULL unless 2 or more selected processes are ranks */
  int64_t *mpi_lib_utids;          /* the threads the MPI library started in an MPI process (unannounced: no
                                    * creator, begun after its MPI_Init began): progress and event threads,
                                    * idle in polls by design; sorted */
  size_t nmpi_lib;
  WeftHostMetrics *hosts; /* every host of the recording (pool memory); none before schema 5 */
  size_t nhosts;
  int64_t host_out_of_order; /* messages between hosts still received before they were sent */

  void *_priv; /* allocations, freed by weft_metrics_free() */
} WeftMetrics;

/* The launchers of a recording (see WeftMetricsQuery.all_processes): of n
 * processes (exec_from_upid, parent_upid, mpi_rank: -1 none), sets
 * launcher[i] and *nlaunchers and returns the index of the program, or -1
 * when there are none (also when out of memory). With two or more MPI ranks
 * the program is the ranks and what they started, and every other process
 * (mpirun, its daemons, a rank's image before its exec, what ran mpirun) a
 * launcher; the index returned is the lowest rank's, and *mpi is set.
 * Otherwise the launchers are the root's images before its last exec and
 * what they started (*mpi false). */
typedef struct {
  int64_t upid, pid, image, parent_upid, exec_from_upid, end_ns, mpi_rank;
} WeftProcLink;
ptrdiff_t weft_find_launchers(const WeftProcLink *p, size_t n, bool *launcher, size_t *nlaunchers, bool *mpi);

/* Compute the metrics of db (opened with weft_db_open) for q (NULL: the whole
 * recording). Returns NULL with a one-line message in err (not naming the
 * file: the caller knows it) when the range does not overlap the recording,
 * no process has q->pid, or the database cannot be read (corrupt). */
WeftMetrics *weft_metrics_compute(sqlite3 *db, const WeftMetricsQuery *q, char *err, size_t errlen);
void weft_metrics_free(WeftMetrics *m);

/* Is utid a thread the MPI library started (WeftMetrics.mpi_lib_utids)? */
bool weft_mpi_library_thread(const WeftMetrics *m, int64_t utid);

/* Lookups in a result; NULL when absent. */
const WeftThreadMetrics *weft_metrics_thread(const WeftMetrics *m, int64_t utid);
const WeftProcessMetrics *weft_metrics_process(const WeftMetrics *m, int64_t upid);

/* "name [tid]" of a thread of m into buf (utid not in m: "utid N"). */
const char *weft_metrics_thread_label(const WeftMetrics *m, int64_t utid, char *buf, size_t len);

/* "; no less: the threads' 1.87 s of work on a CPU over 2 CPUs" (or "; no
 * less: W [501]'s 59.9 ms of work on a CPU") into buf for a prediction
 * raised to floor f (f->cpus 0: not raised, ""): what a report or the GUI
 * adds after a what-if's figures. */
const char *weft_work_floor_note(const WeftMetrics *m, const WeftWorkFloor *f, char *buf, size_t len);

#endif /* WEFT_METRICS_H */
