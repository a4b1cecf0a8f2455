/* weft-agent-private.h - state and hot-path emitters shared by the agent's files.
 * SPDX-License-Identifier: MIT
 *
 * Threading model: every thread writes only into its own chunk of the process's
 * trace file (a MAP_SHARED mapping, so a SIGKILL loses nothing already written).
 * The only shared mutable state is the file's end offset (atomic) and a few
 * tables updated with CAS. No lock is taken on any path a wrapper can reach.
 */
#ifndef WEFT_AGENT_PRIVATE_H
#define WEFT_AGENT_PRIVATE_H

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "weft-trace.h"

#define WEFT_HIDDEN __attribute__((visibility("hidden")))
#define WEFT_PUBLIC __attribute__((visibility("default")))
#define WEFT_LIKELY(x) __builtin_expect(!!(x), 1)
#define WEFT_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ---- configuration (read once in the constructor) ---- */
enum { WEFT_STACKS_NONE = 0, WEFT_STACKS_CONTENDED = 1, WEFT_STACKS_ALL = 2 };

/* ---- per-thread state, in initial-exec TLS ---- */
typedef struct WeftThread {
  uint64_t *pos;          /* next free word of the current chunk (NULL: none) */
  uint64_t *end;          /* end of the current chunk */
  uint64_t  last;         /* tick of the last record written */
  uint64_t  next_sample;  /* tick at which the slow path takes a SYNC + SCHED sample */
  uint32_t  busy;         /* inside the agent: wrappers call straight through */
  uint32_t  tid;
  uint32_t  seq;          /* next chunk number */
  uint32_t  state;        /* WEFT_T_* */
  uint64_t  lost;         /* records dropped since the last LOST record */
  uint64_t  retry_at;     /* when lost: number of drops at which to retry a chunk */
  void     *chunk;        /* mapping of the current chunk */
  uint32_t  chunk_size;
  uint32_t  next_size;    /* size of the next chunk (grows to WEFT_CHUNK_MAX_AGENT) */
  uint64_t  self;         /* pthread_self() */
  uint64_t  routine;      /* start routine, for THREAD_START */
  uint32_t  creator;      /* creator tid, for THREAD_START */
  uint32_t  exit_how;     /* WEFT_EXIT_* noted before the key destructor runs */
  int       slot;         /* registry slot, -1 if none */
  uint32_t  gen;          /* process generation this state belongs to (fork) */
  uint32_t  exited;       /* THREAD_EXIT written */
  uint32_t  resolving;    /* inside dlsym resolution */
} WeftThread;

enum { WEFT_T_NEW = 0, WEFT_T_ACTIVE = 1, WEFT_T_DONE = 2 };

extern __thread WeftThread _weft_tls __attribute__((tls_model("initial-exec"))) WEFT_HIDDEN;

/* ---- process state ---- */
typedef struct {
  _Atomic int       enabled;      /* tracing on in this process */
  int               use_tsc;
  int               stacks;       /* WEFT_STACKS_* */
  int               io;           /* second category (poll/read/sleep) on */
  uint32_t          gen;          /* bumped in the child after fork */
  pid_t             pid;
  int               fd;           /* trace file, high fd, O_CLOEXEC */
  dev_t             dev;
  ino_t             ino;
  _Atomic uint64_t  next_off;     /* end of the file: next chunk offset */
  WeftFileHeader   *hdr;          /* shared mapping of the header page */
  uint64_t          ticks_per_ms; /* estimate, for sampling intervals */
  uint64_t          sample_ticks; /* interval between SCHED samples */
  uint64_t          io_min_ticks; /* io waits shorter than this are not recorded */
  uint64_t          session;
  _Atomic int       exit_written;
  _Atomic int       inited;       /* the constructor's work has been done (or is being done) */
  char              dir[4096];
  char              path[4200];
  uintptr_t         self_lo, self_hi;   /* the agent's own text, skipped in stacks */
} WeftProcess;

extern WeftProcess _weft_proc WEFT_HIDDEN;

/* ---- the real functions (weft-real.c) ---- */
typedef struct {
#define WEFT_REAL(ret, name, args) ret (*name) args;
#include "weft-real.def"
#undef WEFT_REAL
  _Atomic int ready;
} WeftReal;

extern WeftReal _weft_real WEFT_HIDDEN;
WEFT_HIDDEN void _weft_real_init(void);

#define REAL(name) \
  (WEFT_LIKELY(atomic_load_explicit(&_weft_real.ready, memory_order_acquire)) \
     ? _weft_real.name : (_weft_real_init(), _weft_real.name))

/* ---- clock ---- */
static inline uint64_t weft_mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t weft_ticks(void) {
#if defined(__x86_64__) || defined(__i386__)
  if (WEFT_LIKELY(_weft_proc.use_tsc)) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
  }
#endif
  return weft_mono_ns();
}

/* ---- emit ---- */
/* Reserve n words for a record at tick *now; returns NULL if the record must be
 * dropped (tracing off, re-entered, or no buffer: then counted as lost).
 * Writes any TIME/SYNC/SCHED/LOST records that must precede it and then moves
 * *now to the tick after that work, so a thread's records stay in time order.
 * errno-safe. */
WEFT_HIDDEN uint64_t *_weft_reserve_slow(WeftThread *t, unsigned n, uint64_t *now);

/* Fast reservation. The caller fills p[1..n-1] then calls weft_publish. The
 * position is advanced before anything is written, so a signal handler that
 * records in between gets the words after ours. */
static inline uint64_t *weft_reserve(WeftThread *t, unsigned n, uint64_t *now) {
  uint64_t *p = t->pos;
  if (WEFT_UNLIKELY(p == NULL || (size_t)(t->end - p) < n || *now - t->last > UINT32_MAX ||
                    *now >= t->next_sample))
    return _weft_reserve_slow(t, n, now);
  t->pos = p + n;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  return p;
}

static inline void weft_publish(WeftThread *t, uint64_t *p, unsigned type, unsigned n,
                                unsigned aux, uint64_t now) {
  uint64_t dt = now - t->last;
  if (WEFT_UNLIKELY(dt > UINT32_MAX))
    dt = 0; /* a signal handler wrote a later record meanwhile: stamp ours at its time */
  else
    t->last = now;
  __atomic_store_n(p, WEFT_W0(type, n, aux, dt), __ATOMIC_RELEASE);
}

static inline void weft_emit1(unsigned type, unsigned aux, uint64_t a) {
  WeftThread *t = &_weft_tls;
  uint64_t now = weft_ticks();
  uint64_t *p = weft_reserve(t, 2, &now);
  if (WEFT_UNLIKELY(!p)) return;
  p[1] = a;
  weft_publish(t, p, type, 2, aux, now);
}

static inline void weft_emit3(unsigned type, unsigned aux, uint64_t a, uint64_t b, uint64_t c) {
  WeftThread *t = &_weft_tls;
  uint64_t now = weft_ticks();
  uint64_t *p = weft_reserve(t, 4, &now);
  if (WEFT_UNLIKELY(!p)) return;
  p[1] = a;
  p[2] = b;
  p[3] = c;
  weft_publish(t, p, type, 4, aux, now);
}

/* Record with a string payload after `nfixed` fixed words (w1..). */
WEFT_HIDDEN void _weft_emit_str(unsigned type, unsigned aux, const uint64_t *fixed, unsigned nfixed,
                                const char *s1, const char *s2);

/* Is recording on for this thread right now? Wrappers bail out early if not. */
WEFT_HIDDEN int _weft_lazy_init(void);

static inline int weft_on(void) {
  if (WEFT_LIKELY(atomic_load_explicit(&_weft_proc.enabled, memory_order_relaxed)))
    return !_weft_tls.busy;
  return _weft_lazy_init(); /* a call before our constructor: start now (once) */
}

/* ---- stacks (weft-unwind.c) ---- */
/* Capture the caller's stack, define it in the trace if new, return its id (0: none). */
WEFT_HIDDEN uint32_t _weft_stack_id(void);
WEFT_HIDDEN void _weft_stacks_reset(void);
WEFT_HIDDEN void _weft_modules_scan(int force);

/* Stacks where an object is created (init): taken unless WEFT_STACKS=none. */
static inline uint32_t weft_stack_init(void) {
  return _weft_proc.stacks != WEFT_STACKS_NONE ? _weft_stack_id() : 0;
}

static inline uint32_t weft_stack_contended(void) {
  return _weft_proc.stacks >= WEFT_STACKS_CONTENDED ? _weft_stack_id() : 0;
}

/* ---- thread and process lifecycle (weft-agent.c) ---- */
WEFT_HIDDEN void _weft_thread_begin(uint64_t routine, uint32_t creator, int is_main);
WEFT_HIDDEN void _weft_thread_end(unsigned how);
WEFT_HIDDEN void _weft_process_exit(unsigned how, int status);
WEFT_HIDDEN int  _weft_is_vfork_child(void);
WEFT_HIDDEN uint32_t _weft_tid_of(pthread_t th);
WEFT_HIDDEN pid_t _weft_gettid(void);
WEFT_HIDDEN void _weft_sched_sample(uint32_t tid);
WEFT_HIDDEN void _weft_env_capture(const char *self_path);

/* Mark the agent busy for the span of internal work (stack capture, chunk
 * allocation): wrapped calls made from inside go straight to libc. */
static inline uint32_t weft_busy_enter(void) { return _weft_tls.busy++; }
static inline void weft_busy_leave(void) { _weft_tls.busy--; }

#endif /* WEFT_AGENT_PRIVATE_H */
