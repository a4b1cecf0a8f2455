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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <threads.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "weft-encode.h"
#include "weft-trace.h"

#define WEFT_HIDDEN      __attribute__((visibility("hidden")))
#define WEFT_PUBLIC      __attribute__((visibility("default")))
#define WEFT_LIKELY(x)   __builtin_expect(!!(x), 1)
#define WEFT_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* The code a process runs as it starts and ends (the constructor, a fork
 * child's handler, exit), kept together on a few pages: a fork child has
 * none of its parent's page table entries for our code and faults each page
 * it runs in, 10 us and more each on some VMs (docs/performance.md). */
#define WEFT_START_CODE  __attribute__((section(".text.hot.weft_start")))
/* And the small variables they write: in .data, whose pages the loader has
 * written already (relocations, the zeroed start of .bss), not on a page of
 * .bss of their own, another fault each. */
#define WEFT_START_DATA  __attribute__((section(".data.weft_start")))

/* ---- configuration (read once in the constructor) ---- */
enum { WEFT_STACKS_NONE = 0, WEFT_STACKS_CONTENDED = 1, WEFT_STACKS_ALL = 2 };

/* ---- contention-first: counters and held locks (weft-count.c) ---- */
/* One thread's count of the operations on one object that did not wait, since
 * its last COUNTS record of it (first == 0: nothing counted since). */
typedef struct {
  uint64_t key;                    /* weft_count_key(object, kind); 0: free slot */
  uint32_t gen;                    /* the object's announcement bucket generation when counting began */
  uint32_t samples;                /* timed holds */
  uint64_t acq;                    /* acquisitions (those that waited too) */
  uint32_t fail, rel;              /* failed tries; releases (sem_post) */
  uint64_t sample_sum, sample_max; /* ticks of the timed holds */
  uint64_t first;                  /* tick of the first operation counted */
  uint64_t pad;
} WeftCount; /* 64 bytes */

/* A hold this thread may have to record: its start is timed. */
typedef struct {
  uint64_t obj;
  uint64_t start; /* tick of the acquisition */
  uint16_t kind;
  uint16_t flags;    /* WEFT_HELD_* */
  uint32_t arrivals; /* the object's bucket arrivals count then (weft_bucket_arrivals) */
} WeftHeld;

enum {
  WEFT_HELD_RECORD = 1, /* began with a recorded wait or ACQ (or WEFT_HOLDS=all): REL at release */
  WEFT_HELD_SAMPLE = 2, /* a timed sample of an uncontended hold */
};

#define WEFT_COUNT_INLINE 8u /* entries in the thread's first counter table (in TLS) */
#define WEFT_HELD_MAX     16u

/* ---- per-thread state, in initial-exec TLS ---- */
typedef struct WeftThread {
  uint64_t *pos;        /* next free word of the current chunk (NULL: none) */
  uint64_t *end;        /* end of the current chunk */
  uint64_t last;        /* tick of the last record written */
  uint64_t next_sample; /* tick at which the slow path takes a SYNC + SCHED sample */
  union {               /* read as one word by the unlock fast path: both 0 there */
    struct {
      uint32_t busy;  /* inside the agent: wrappers call straight through */
      uint32_t nheld; /* entries in held[] (contention first, weft-count.c) */
    };
    uint64_t busy_nheld;
  };
  uint32_t tid;
  uint32_t seq;      /* next chunk number */
  uint32_t state;    /* WEFT_T_* */
  uint64_t lost;     /* records dropped since the last LOST record */
  uint64_t retry_at; /* when lost: number of drops at which to retry a chunk */
  void *chunk;       /* mapping of the current chunk */
  uint32_t chunk_size;
  uint32_t next_size; /* size of the next chunk (grows to WEFT_CHUNK_MAX_AGENT) */
  uint64_t self;      /* pthread_self() */
  uint64_t routine;   /* start routine, for THREAD_START */
  uint32_t creator;   /* creator tid, for THREAD_START */
  uint32_t exit_how;  /* WEFT_EXIT_* noted before the key destructor runs */
  int slot;           /* registry slot, -1 if none */
  uint32_t gen;       /* process generation this state belongs to (fork) */
  uint32_t exited;    /* THREAD_EXIT written */
  uint32_t resolving; /* inside dlsym resolution */
  uint32_t key_set;   /* its exit key's value is set (pthread_setspecific) */
  int *errno_p;       /* &errno of this thread (a fork child's is its parent's thread's: its copy) */
  /* contention-first (weft-count.c) */
  WeftCount *ctab; /* counter table of cmask + 1 entries (NULL: cinline, not set up yet) */
  uint32_t cmask;
  uint32_t cused;       /* keys in it (it grows past half full) */
  uint64_t flush_due;   /* tick from which the counters are written at the next check */
  uint64_t wait_t0;     /* when its last barrier, join, child, sleep or I/O wait began (0: read taken) */
  uint32_t held_over;   /* held[] was full: releases are recorded until nheld is 0 again
                           (so nheld != 0 whenever it is set) */
  _Atomic int flushing; /* 1: writing its counters; 2: taken for good by the process's end */
  uint32_t dirty;       /* some counter counted since the last flush */
  void *stack_cache;    /* weft-unwind.c: stacks by call path (NULL until the first) */
  uint64_t last_flush;  /* tick of the last flush of its own counters */
  /* A REL reserved before an unlock and written after it (weft-count.c).
   * While it is open, end is pulled in to pos so that any other reservation
   * (a signal handler's) goes the slow way, which first writes it as a
   * skipped record: a handler that longjmps out of the unlock leaves no hole. */
  uint64_t *pending;                           /* the reserved record (NULL: none) */
  uint64_t *pending_end;                       /* the chunk's real end meanwhile */
  uint64_t pending_at, pending_w1, pending_w2; /* its tick and words */
  uint32_t pending_n, pending_aux;             /* its length, and aux with result 0 */
  /* OpenMP (weft-wrap-omp.c): the barrier of the region it runs in (0: none), of the region whose end
   * it waits for since its function returned (a worker: until its next region; the master: until
   * GOMP_parallel returns), and its dock's INIT written (its address is the dock) */
  uint64_t omp_cur, omp_open, omp_ending, omp_dock;
  void *omp_crit; /* the critical section it entered last (its INIT written) */
  WeftHeld held[WEFT_HELD_MAX];
  WeftCount cinline[WEFT_COUNT_INLINE];
} WeftThread;

enum { WEFT_T_NEW = 0, WEFT_T_ACTIVE = 1, WEFT_T_DONE = 2 };

extern __thread WeftThread _weft_tls __attribute__((tls_model("initial-exec"))) WEFT_HIDDEN;

/* t's errno, through the address noted when it was first wanted: a fork
 * child's first call into libc's __errno_location is a page fault. */
static inline int *weft_errno_p(WeftThread *t) { return t->errno_p ? t->errno_p : (t->errno_p = &errno); }

/* ---- process state ---- */
typedef struct {
  _Atomic int enabled; /* tracing on in this process */
  int use_tsc;
  /* sync pairs still to read the clocks with system calls, not the vDSO: its
   * first call maps the clock's data pages, 50 us on this VM, which a short
   * process would pay for two or three readings (weft_sync_pair) */
  _Atomic int cold_pairs;
  int stacks;     /* WEFT_STACKS_* */
  int holds_all;  /* WEFT_HOLDS=all: every hold timed and recorded */
  int acq_record; /* holds_all or WEFT_STACKS=all: every acquisition goes the slow way */
  int io;         /* second category (poll/read/sleep) on */
  uint32_t gen;   /* bumped in the child after fork */
  pid_t pid;
  int fd; /* trace file, high fd, O_CLOEXEC */
  dev_t dev;
  ino_t ino;
  WeftFileHeader *root;     /* shared mapping of the file's header page: where chunks are allocated (its
                               alloc_end and grow_lock), by every process writing into the file */
  WeftFileHeader *hdr;      /* this process's header: root, or a fork child's PROCESS page in root's file */
  pid_t file_pid;           /* the file's name, PID.N.wtrace: the process that created it ... */
  int section;              /* we are a fork child writing a section into file_pid's file: CHILD chunks */
  uint32_t ncpus;           /* our header's CPU count (a fork child's is its parent's) */
  uint64_t ticks_per_ms;    /* estimate, for sampling intervals */
  uint64_t sample_ticks;    /* interval between SCHED samples */
  uint64_t long_wait_ticks; /* a wait this long ends with a SCHED sample (1 ms) */
  uint64_t io_min_ticks;    /* io waits shorter than this are not recorded */
  uint64_t session;
  _Atomic int exit_written;
  _Atomic int inited;         /* the constructor's work has been done (or is being done) */
  uint32_t image;             /* ... and N (the path is made again when needed: not stored, so a fork
                                 child does not write a page for it) */
  uintptr_t self_lo, self_hi; /* the agent's own text, skipped in stacks */
  uint32_t hold_sample;       /* one uncontended hold in N timed (0: none; else a power of two) */
  uint32_t tick_mask;         /* an acquisition whose count & mask == mask is timed: a sample (N - 1),
                                 or with no sampling only the flush check (4095) */
  uint64_t flush_ticks;       /* a working thread writes its counters at least this often */
  /* the host (weft-host.c): the file header's host_id and host_name */
  uint64_t host_id;
  char host_name[64];
  /* WEFT_TEST_HOST / WEFT_TEST_CLOCK_*: this host's clock is distorted (tests) */
  int test_clock;
  int64_t clk_boot, clk_skew, clk_ppb; /* its boot offset, skew (ns) and drift (parts per billion) */
  uint64_t clk_base;                   /* the real monotonic time the drift counts from */
  /* what a fork child starts anew, here so that its writes fall on this
   * page (weft-unwind.c, weft-pystack.c): the tables of stacks and of Python
   * frames (their ids are the parent's file's) and the next ids */
  void *_Atomic stack_table;
  _Atomic uint32_t stack_next;
  _Atomic uint32_t py_next;
  void *_Atomic py_table;
  _Atomic int py_feature; /* WEFT_FEAT_PY_FRAMES set in this process's header */
} WeftProcess;

extern WeftProcess _weft_proc WEFT_HIDDEN;

/* ---- the real functions (weft-real.c) ----
 * Each is resolved the first time it is called (one dlsym: a short process
 * pays for the few it uses, not for all of them at start-up). */
typedef struct {
#define WEFT_REAL(ret, name, args) ret(*name) args;
#include "weft-real.def"
#undef WEFT_REAL
} WeftReal;

enum {
#define WEFT_REAL(ret, name, args) WEFT_REAL_##name,
#include "weft-real.def"
#undef WEFT_REAL
  WEFT_REAL_COUNT
};

/* What a process's start writes outside its trace, together (weft-agent.c):
 * each first write to a page of zeroes is a page fault, 10 us on this VM and
 * far more when the host backs the page only then (docs/performance.md). */
typedef struct {
  WeftReal real;        /* the real functions */
  int argc;             /* main's arguments, as glibc passes them to the constructors of preloaded */
  char **argv;          /* objects (NULL when the agent started before its constructor ran) */
  char trace_dir[4096]; /* WEFT_OUTPUT, absolute (its first bytes on the same page) */
} WeftStartState;

extern WeftStartState _weft_start WEFT_HIDDEN;
/* Resolve function idx, store it and return it; NULL while this thread is
 * inside a resolution already (dlsym called back into a wrapper). */
WEFT_HIDDEN void *_weft_resolve(unsigned idx);
WEFT_HIDDEN void _weft_resolve_for_children(void);
/* A library the program calls that RTLD_NEXT does not see (loaded with
 * RTLD_LOCAL, as Python extensions are): the first loaded object whose scope
 * defines sym (NULL: RTLD_NEXT sees it, or none does), *several set when
 * another object's scope has another sym; a function from RTLD_NEXT, else
 * from lib. Never the agent's own definitions (its wrappers). */
WEFT_HIDDEN void *_weft_lib_defining(const char *sym, int *several);
WEFT_HIDDEN void *_weft_lib_sym(void *lib, const char *name);
WEFT_HIDDEN int _weft_in_agent(const void *p); /* p is in the agent's own object */
WEFT_HIDDEN void _weft_omp_atfork_child(void); /* weft-wrap-omp.c: its locks free in a fork child */
WEFT_HIDDEN void _weft_resolve_for_threads(void);

#define REAL(name)                                                                \
  (WEFT_LIKELY(__atomic_load_n(&_weft_start.real.name, __ATOMIC_RELAXED) != NULL) \
       ? __atomic_load_n(&_weft_start.real.name, __ATOMIC_RELAXED)                \
       : (__typeof__(_weft_start.real.name))_weft_resolve(WEFT_REAL_##name))
/* The few that the lock and unlock fast paths call: resolved before tracing
 * starts (weft_agent_init), so no check there. */
#define REAL_HOT(name) (__atomic_load_n(&_weft_start.real.name, __ATOMIC_RELAXED))

/* ---- clock ---- */
static inline long weft_sys6(long nr, long a, long b, long c, long d, long e, long f);

/* Clock clk in ns: through the vDSO, or (raw) a system call, which touches
 * none of the vDSO's pages (the vDSO if the call fails). */
static inline uint64_t weft_clock_ns(clockid_t clk, int raw) {
  struct timespec ts;
  /* (a sandbox may refuse the system call and still let the vDSO read the clock) */
  if (!raw || weft_sys6(SYS_clock_gettime, (long)clk, (long)(uintptr_t)&ts, 0, 0, 0, 0) != 0) clock_gettime(clk, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t weft_mono_ns(void) { return weft_clock_ns(CLOCK_MONOTONIC, 0); }

/* The host's clock (weft-host.c): the monotonic time mono as this host
 * writes it in sync points (the machine's own but under WEFT_TEST_HOST and
 * WEFT_TEST_CLOCK_*), and CLOCK_REALTIME read at mono, likewise. */
void _weft_host_init(void) WEFT_HIDDEN;
/* Small helpers (weft-agent.c): hex digits of s (either case) up to the first other character
 * (*end, when given); v as 16 lowercase hex digits; FNV-1a over n bytes, from h
 * (WEFT_FNV_START for a new hash). */
uint64_t _weft_parse_hex(const char *s, const char **end) WEFT_HIDDEN;
void _weft_hex16(char out[17], uint64_t v) WEFT_HIDDEN;
uint64_t _weft_fnv1a(uint64_t h, const void *p, size_t n) WEFT_HIDDEN;
#define WEFT_FNV_START 14695981039346656037ull
/* TCP streams (weft-sock.c): n bytes of the socket fd (inode ino) sent (dir 0, at t, the call's
 * start) or received (dir 1, at t, its end); the identity of the stream fd receives. */
void _weft_sock_xfer(int fd, uint64_t ino, int dir, uint64_t n, uint64_t t) WEFT_HIDDEN;
uint64_t _weft_sock_in(int fd, uint64_t ino) WEFT_HIDDEN;
uint64_t _weft_test_host_ns(uint64_t mono) WEFT_HIDDEN;
uint64_t _weft_realtime_ns(uint64_t mono, int raw) WEFT_HIDDEN;
void _weft_say(const char *a, const char *b, const char *c) WEFT_HIDDEN;
static inline uint64_t weft_host_ns(uint64_t mono) {
  return WEFT_LIKELY(!_weft_proc.test_clock) ? mono : _weft_test_host_ns(mono);
}

static inline uint64_t weft_ticks(void);

/* A sync point: ticks and CLOCK_MONOTONIC ns read together. A thread
 * preempted between the two reads would make a point that bends the time
 * around it (the reader trusts every point): the monotonic clock is read
 * on both sides of the ticks, and a pair more than 2 us apart read again
 * (at most 4 times; the tightest kept, its middle). */
static inline uint64_t weft_sync_pair(uint64_t *tick, int *raw_out) {
  uint64_t best_gap = UINT64_MAX, best_ns = 0;
  int raw = atomic_load_explicit(&_weft_proc.cold_pairs, memory_order_relaxed) > 0 &&
            atomic_fetch_sub_explicit(&_weft_proc.cold_pairs, 1, memory_order_relaxed) > 0;
  if (raw_out) *raw_out = raw; /* (for the wall clock read with it: _weft_realtime_ns) */
  *tick = 0;
  for (int i = 0; i < 4 && best_gap > 2000; i++) {
    uint64_t m1 = weft_clock_ns(CLOCK_MONOTONIC, raw), t = weft_ticks(), m2 = weft_clock_ns(CLOCK_MONOTONIC, raw);
    if (m2 - m1 < best_gap) best_gap = m2 - m1, best_ns = m1 + (m2 - m1) / 2, *tick = t;
  }
  return best_ns;
}

/* syscall(SYS_futex, ...) waits and wakes recorded (weft-wrap-futex.c): where
 * the wrapper can make every other system call itself, without libc's
 * syscall(), which the agent calls too. */
#if defined(__x86_64__)
#define WEFT_AGENT_FEAT_FUTEX WEFT_FEAT_FUTEX
#else
#define WEFT_AGENT_FEAT_FUTEX 0
#endif

/* A system call of no arguments without a call into libc (getpid, gettid): a
 * fork child and every exit ask them, and in a fork child the first call into
 * a page of libc's code is a page fault (10 us on some VMs). gettid this way
 * is the thread's own id even where our copy of it is stale (a fork child's
 * handler runs before the child's thread is begun). */
static inline long weft_sys0(long nr) {
#if defined(__x86_64__)
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "0"(nr) : "rcx", "r11", "memory");
  return r;
#else
  return syscall(nr);
#endif
}

/* The same with arguments: the result, or -errno (errno is not touched). */
static inline long weft_sys6(long nr, long a, long b, long c, long d, long e, long f) {
#if defined(__x86_64__)
  long r;
  register long r10 __asm__("r10") = d, r8 __asm__("r8") = e, r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(r)
                   : "0"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return r;
#else
  long r = syscall(nr, a, b, c, d, e, f);
  return r == -1 ? -errno : r;
#endif
}
/* Whether r, a result of weft_sys6 that may be an address (mmap), is an error. */
static inline int weft_sys_failed(long r) { return r < 0 && r > -4096; }
#define weft_sys3(nr, a, b, c)    weft_sys6((nr), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define weft_sys4(nr, a, b, c, d) weft_sys6((nr), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

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
  if (WEFT_UNLIKELY(p == NULL || (size_t)(t->end - p) < n || *now - t->last > UINT32_MAX || *now >= t->next_sample))
    return _weft_reserve_slow(t, n, now);
  t->pos = p + n;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  return p;
}

static inline void weft_publish(WeftThread *t, uint64_t *p, unsigned type, unsigned n, unsigned aux, uint64_t now) {
  uint64_t dt = now - t->last;
  if (WEFT_UNLIKELY(dt > UINT32_MAX))
    dt = 0; /* a signal handler wrote a later record meanwhile: stamp ours at its time */
  else
    t->last = now;
  weft_enc_publish(p, type, n, aux, dt);
}

/* The emitters return the tick the record carries (also when it was lost). */
static inline uint64_t weft_emit1(unsigned type, unsigned aux, uint64_t a) {
  WeftThread *t = &_weft_tls;
  uint64_t now = weft_ticks();
  uint64_t *p = weft_reserve(t, 2, &now);
  if (WEFT_UNLIKELY(!p)) return now;
  p[1] = a;
  weft_publish(t, p, type, 2, aux, now);
  return now;
}

static inline uint64_t weft_emit2(unsigned type, unsigned aux, uint64_t a, uint64_t b) {
  WeftThread *t = &_weft_tls;
  uint64_t now = weft_ticks();
  uint64_t *p = weft_reserve(t, 3, &now);
  if (WEFT_UNLIKELY(!p)) return now;
  p[1] = a;
  p[2] = b;
  weft_publish(t, p, type, 3, aux, now);
  return now;
}

static inline uint64_t weft_emit3(unsigned type, unsigned aux, uint64_t a, uint64_t b, uint64_t c) {
  WeftThread *t = &_weft_tls;
  uint64_t now = weft_ticks();
  uint64_t *p = weft_reserve(t, 4, &now);
  if (WEFT_UNLIKELY(!p)) return now;
  p[1] = a;
  p[2] = b;
  p[3] = c;
  weft_publish(t, p, type, 4, aux, now);
  return now;
}

/* Record with a string payload after `nfixed` fixed words (w1..). */
WEFT_HIDDEN void _weft_emit_str(unsigned type, unsigned aux, const uint64_t *fixed, unsigned nfixed, const char *s1,
                                const char *s2);

/* Is recording on for this thread right now? Wrappers bail out early if not. */
WEFT_HIDDEN int _weft_lazy_init(void);

static inline int weft_on(void) {
  if (WEFT_LIKELY(atomic_load_explicit(&_weft_proc.enabled, memory_order_relaxed))) return !_weft_tls.busy;
  return _weft_lazy_init(); /* a call before our constructor: start now (once) */
}

/* ---- stacks (weft-unwind.c) ---- */
#define WEFT_STACK_C_MAX    64u /* C frames in a stack */
/* C frames in a stack that has Python frames: the native code the Python
 * code called (an extension's function, the lock it took) and the first
 * levels of the interpreter; its deeper levels (some 5-8 C frames a Python
 * call) add nothing the Python frames do not say. */
#define WEFT_STACK_C_MAX_PY 16u
#define WEFT_PY_MAX_FRAMES  64u /* Python frames before them (WEFT_STACK_MAX_DEPTH holds both) */
/* Capture the caller's stack, define it in the trace if new, return its id
 * (0: none). tick: the time of the records that define it (0: now), for a
 * wait written after it ended, whose WAIT_BEGIN must not follow later ones. */
WEFT_HIDDEN uint32_t _weft_stack_id_at(uint64_t tick);
static inline uint32_t _weft_stack_id(void) { return _weft_stack_id_at(0); }
/* libunwind is loaded (dlopen: malloc, the loader's lock) by the first
 * stack. A wrapper of a call that a signal handler may make (a blocking wait
 * for a child) takes a stack only once it is loaded, or where no handler
 * can be running (_weft_stack_id_signal_safe), and fork and posix_spawn load
 * it first, in the parent, where a conforming program runs no handler that
 * interrupted its malloc. */
WEFT_HIDDEN uint32_t _weft_stack_id_signal_safe(void);
/* The same, but 0 unless libunwind is loaded already (never loads it: a futex wait may come from
 * inside an allocator's lock, where dlopen's allocations would wait for it). */
WEFT_HIDDEN uint32_t _weft_stack_id_if_loaded(void);
WEFT_HIDDEN void _weft_stacks_prepare(void);
/* Before a process starts (fork, spawn, exec): its section's space allocated ahead in the file. */
WEFT_HIDDEN void _weft_reserve_ahead(void);
WEFT_HIDDEN void _weft_stacks_reset(void);
WEFT_HIDDEN void _weft_stack_cache_reset(WeftThread *t, int unmap);
WEFT_HIDDEN void _weft_modules_scan(int again);
WEFT_HIDDEN unsigned long long _weft_modules_adds(void); /* the loader's count of loads at the last scan */
WEFT_HIDDEN int _weft_modules_inheritable(void);
/* The zeroed table of bytes at *at, mapped by the first thread to want it (NULL: no memory). */
WEFT_HIDDEN void *_weft_map_once(void *_Atomic *at, size_t bytes);

/* Reserve n words for a definition (STACK, PY_FRAME) at *now = tick, for a
 * record stamped at that earlier tick that will name it (the end of a wait
 * written after it ended): through the fast path only, with room left for
 * that record, else NULL (the slow path would stamp what follows at the
 * current time). tick 0: at the current time, either path (NULL: the record
 * is lost). Called with the agent busy. */
#define WEFT_DEF_SPARE 8u
static inline uint64_t *weft_reserve_def(WeftThread *t, unsigned n, uint64_t *now, uint64_t tick) {
  if (!tick) {
    *now = weft_ticks();
    t->busy--; /* weft_reserve's slow path would refuse: we are busy; the thread is active here */
    uint64_t *p = weft_reserve(t, n, now);
    t->busy++;
    return p;
  }
  uint64_t *p = t->pos;
  *now = tick;
  if (!p || (size_t)(t->end - p) < n + WEFT_DEF_SPARE || tick - t->last > UINT32_MAX || tick >= t->next_sample)
    return NULL;
  t->pos = p + n;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  return p;
}

/* ---- Python frames (weft-pystack.c) ---- */
/* The calling thread's Python frames, innermost first, as STACK words (PY_FRAME
 * records written for the new ones at tick, 0: now; see weft_reserve_def); 0
 * if it runs no Python, -1 if a PY_FRAME could not be written at tick.
 * Called with the agent busy. */
WEFT_HIDDEN int _weft_py_stack(uint64_t *words, int max, uint64_t tick);
WEFT_HIDDEN int _weft_py_thread(void); /* the calling thread has a Python thread state */
WEFT_HIDDEN void _weft_py_reset(void); /* after fork: frame ids start again */

/* Stacks where an object is created (init): taken unless WEFT_STACKS=none. */
static inline uint32_t weft_stack_init(void) { return _weft_proc.stacks != WEFT_STACKS_NONE ? _weft_stack_id() : 0; }

static inline uint32_t weft_stack_contended(void) {
  return _weft_proc.stacks >= WEFT_STACKS_CONTENDED ? _weft_stack_id() : 0;
}

/* ---- thread and process lifecycle (weft-agent.c) ---- */
WEFT_HIDDEN void _weft_thread_begin(uint64_t routine, uint32_t creator, int is_main);
WEFT_HIDDEN void _weft_thread_end(unsigned how);
WEFT_HIDDEN void _weft_process_exit(unsigned how, int status);
WEFT_HIDDEN int _weft_is_vfork_child(void);
WEFT_HIDDEN uint32_t _weft_tid_of(pthread_t th);
WEFT_HIDDEN pid_t _weft_gettid(void);
/* No thread but the caller's was ever registered in this process. */
WEFT_HIDDEN int _weft_one_thread(void);
WEFT_HIDDEN void _weft_sched_sample(uint32_t tid);
WEFT_HIDDEN void _weft_env_capture(const char *self_path);
/* The executable's path, and its length in *len (if len is not NULL). */
WEFT_HIDDEN const char *_weft_self_exe(size_t *len);
WEFT_HIDDEN void _weft_mpi_env_rank(void); /* weft-mpi.c: MPI_RANK from Open MPI's launcher, at start */

/* ---- contention-first hot paths (weft-count.c has the slow ones) ----
 *
 * An operation that does not wait only counts: a lookup in the thread's own
 * counter table, one increment, no clock and no record. A thread about to wait
 * for a lock, semaphore or condvar first announces itself in the object's
 * bucket (a count of waiters per hash of the address, collisions only making
 * weft record more); whoever releases, posts or signals reads that count before
 * (and after) the real call and records the release only when it is not zero.
 * A destroy bumps the bucket's generation, so counts never straddle two lives
 * of one address. An arrivals count tells a releaser whether a waiter came
 * during its hold (or during its release). */
#define WEFT_BUCKET_BITS 12
typedef struct {
  _Atomic uint64_t word; /* waiters (bits 0..31) | destroy generation (32..47) | arrivals (48..63) */
  char pad[56];
} WeftBucket;
#define WEFT_BUCKET_ARRIVAL (1ull << 48)

static inline uint32_t weft_bucket_gen(uint64_t bw) { return (uint32_t)(bw >> 32) & 0xffffu; }
static inline uint32_t weft_bucket_arrivals(uint64_t bw) { return (uint32_t)(bw >> 48); }
extern WeftBucket _weft_buckets[1u << WEFT_BUCKET_BITS] WEFT_HIDDEN;

/* One multiply hashes an object for both its bucket (top bits) and its slot
 * in a thread's counter table (weft_count_slot: the bits below). */
static inline uint64_t weft_obj_hash(const volatile void *obj) {
  return ((uint64_t)(uintptr_t)obj >> 3) * 0x9e3779b97f4a7c15ull;
}

static inline WeftBucket *weft_bucket_h(uint64_t h) { return &_weft_buckets[h >> (64 - WEFT_BUCKET_BITS)]; }
static inline WeftBucket *weft_bucket(const volatile void *obj) { return weft_bucket_h(weft_obj_hash(obj)); }

static inline uint32_t weft_waiters(const volatile void *obj) {
  return (uint32_t)atomic_load_explicit(&weft_bucket(obj)->word, memory_order_seq_cst);
}

static inline void weft_announce(const volatile void *obj) {
  atomic_fetch_add_explicit(&weft_bucket(obj)->word, 1 + WEFT_BUCKET_ARRIVAL, memory_order_seq_cst);
}

/* A waiter announced itself since the bucket word was bw. */
static inline int weft_arrived(WeftBucket *b, uint64_t bw) {
  return weft_bucket_arrivals(atomic_load_explicit(&b->word, memory_order_seq_cst)) != weft_bucket_arrivals(bw);
}

static inline void weft_unannounce(const volatile void *obj) {
  atomic_fetch_sub_explicit(&weft_bucket(obj)->word, 1, memory_order_seq_cst);
}

static inline uint64_t weft_count_key(const volatile void *obj, unsigned kind) {
  return (uint64_t)(uintptr_t)obj | (uint64_t)kind << 56;
}

static inline uint32_t weft_count_slot_h(uint64_t h, uint32_t mask) { return (uint32_t)(h >> 32) & mask; }
static inline uint32_t weft_count_slot(uint64_t key, uint32_t mask) {
  return weft_count_slot_h(weft_obj_hash((const void *)(uintptr_t)(key & ((1ull << 56) - 1))), mask);
}

/* One increment that a signal handler on this thread cannot tear (the
 * handler's own count is never lost between our load and store). */
static inline void weft_inc64(uint64_t *p) {
#if defined(__x86_64__)
  __asm__ volatile("addq $1, %0" : "+m"(*p));
#else
  __atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
#endif
}
/* The same, returning the value before (xadd without a lock prefix: one
 * instruction, so a signal handler cannot come in between either). */
static inline uint64_t weft_xinc64(uint64_t *p) {
#if defined(__x86_64__)
  uint64_t v = 1;
  __asm__ volatile("xaddq %0, %1" : "+r"(v), "+m"(*p));
  return v;
#else
  return __atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
#endif
}

static inline void weft_inc32(uint32_t *p) {
#if defined(__x86_64__) || defined(__i386__)
  __asm__ volatile("addl $1, %0" : "+m"(*p));
#else
  __atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
#endif
}

WEFT_HIDDEN WeftCount *_weft_count_find_slow(WeftThread *t, uint64_t key);
WEFT_HIDDEN void _weft_count_begin(WeftThread *t, WeftCount *e, uint32_t gen);
WEFT_HIDDEN void _weft_acquired_timed(WeftThread *t, unsigned kind, const volatile void *obj, int tick, uint64_t bw);
WEFT_HIDDEN void _weft_acquired_slow(WeftThread *t, unsigned kind, const volatile void *obj, uint64_t bw);

/* The thread's entry for (obj, kind), ready to count into (NULL: none). An
 * entry written out (or never used) has gen ~0, which no bucket has, so one
 * compare tells the entry is live and of the object's current life. */
static inline WeftCount *weft_count(WeftThread *t, const volatile void *obj, unsigned kind) {
  uint64_t key = weft_count_key(obj, kind);
  uint32_t gen = weft_bucket_gen(atomic_load_explicit(&weft_bucket(obj)->word, memory_order_relaxed));
  WeftCount *e = t->ctab ? &t->ctab[weft_count_slot(key, t->cmask)] : NULL;
  if (WEFT_UNLIKELY(!e || e->key != key)) e = _weft_count_find_slow(t, key);
  if (WEFT_LIKELY(e != NULL) && WEFT_UNLIKELY(e->gen != gen)) _weft_count_begin(t, e, gen);
  return e;
}

static inline int weft_is_hold(unsigned kind) {
  return kind == WEFT_KIND_MUTEX || kind == WEFT_KIND_RWLOCK_RD || kind == WEFT_KIND_RWLOCK_WR ||
         kind == WEFT_KIND_SPIN;
}

/* An acquisition (lock, try, or a semaphore wait) that succeeded without
 * waiting: one bucket read (waiters, generation), one table probe, one
 * increment. Timed only when someone waits on the object now, or as a sample
 * (every hold_sample-th acquisition of the object by the thread, which also
 * checks whether its counts are due) (with _weft_proc.acq_record, callers go
 * the slow way instead). */
static inline void weft_acquired(unsigned kind, const volatile void *obj) {
  WeftThread *t = &_weft_tls;
  uint64_t h = weft_obj_hash(obj);
  uint64_t bw = atomic_load_explicit(&weft_bucket_h(h)->word, memory_order_seq_cst);
  uint64_t key = weft_count_key(obj, kind);
  uintptr_t tab = (uintptr_t)t->ctab;
  WeftCount *e = (WeftCount *)(tab + (uintptr_t)weft_count_slot_h(h, t->cmask) * sizeof(WeftCount));
  if (WEFT_LIKELY(tab != 0) && WEFT_LIKELY(e->key == key) && WEFT_LIKELY(e->gen == weft_bucket_gen(bw))) {
    uint32_t n = (uint32_t)weft_xinc64(&e->acq), m = _weft_proc.tick_mask;
    if (WEFT_UNLIKELY(((n & m) == m) | ((uint32_t)bw != 0))) _weft_acquired_timed(t, kind, obj, (n & m) == m, bw);
  } else {
    _weft_acquired_slow(t, kind, obj, bw);
  }
}

/* With WEFT_HOLDS=all: counted, and every hold timed and recorded. */
WEFT_HIDDEN void _weft_acquired_all(unsigned kind, const volatile void *obj);

/* The outcome r of an acquisition (op) that did not wait (weft-wrap-lock.c).
 * 0: counted (and timed if need be); EBUSY of a try: counted as a failed
 * try; EOWNERDEAD: a hold that must be recorded (ACQ); any other error: an
 * ACQ record with it. With WEFT_STACKS=all every successful acquisition is
 * recorded with its stack. */
WEFT_HIDDEN void _weft_acq_other(unsigned kind, unsigned op, int r, const volatile void *obj);
static inline void weft_acq(unsigned kind, unsigned op, int r, const volatile void *obj) {
  if (WEFT_LIKELY(r == 0) && WEFT_LIKELY(!_weft_proc.acq_record))
    weft_acquired(kind, obj);
  else
    _weft_acq_other(kind, op, r, obj);
}

/* A try that failed (EBUSY, EAGAIN): counted. */
static inline void weft_try_failed(unsigned kind, const volatile void *obj) {
  WeftThread *t = &_weft_tls;
  WeftCount *e = weft_count(t, obj, kind);
  if (WEFT_LIKELY(e != NULL)) weft_inc32(&e->fail);
}

/* An acquisition after a recorded wait (or a recorded ACQ) at tick `at`: its
 * hold is recorded, so its release will be too. */
WEFT_HIDDEN void _weft_acquired_recorded(unsigned kind, const volatile void *obj, uint64_t at);

/* Releases. weft_release_pre before the real call: nothing to do when
 * nobody waits and the thread has no timed hold. Otherwise the slow path
 * stamps and reserves the REL it must write and fills *r; weft_release_post
 * after the call (err: its errno value, 0 on success) writes it and an
 * UNLOCK_COST with what the call took (trace v6), or a late REL if a waiter
 * announced itself meanwhile. */
typedef struct {
  uint64_t start;     /* tick the hold began, 0 unknown */
  WeftBucket *bucket; /* the object's */
  uint64_t bw;        /* its word before the call */
  uint64_t *p;        /* the REL reserved, to be written after the call (NULL: none; the
                         rest of it is the thread's pending_*) */
  int done;           /* REL reserved, or nothing to write (an inner recursive release) */
  int waited;         /* REL reserved: someone waited during the hold (its call wakes them) */
} WeftRelease;

WEFT_HIDDEN void _weft_release_slow(WeftThread *t, unsigned kind, const volatile void *obj, WeftRelease *r);
WEFT_HIDDEN void _weft_release_late(WeftThread *t, unsigned kind, const volatile void *obj, WeftRelease *r);
WEFT_HIDDEN void _weft_release_publish(WeftRelease *r, int err, int called);
WEFT_HIDDEN void _weft_pending_abandon(WeftThread *t);

static inline int weft_shared_waiters(unsigned kind, const volatile void *obj);

static inline void weft_release_pre(unsigned kind, const volatile void *obj, WeftRelease *r) {
  WeftThread *t = &_weft_tls;
  r->bucket = weft_bucket(obj);
  r->done = 0;
  r->p = NULL;
  r->bw = atomic_load_explicit(&r->bucket->word, memory_order_seq_cst);
  if (WEFT_UNLIKELY(t->nheld != 0) || WEFT_UNLIKELY((uint32_t)r->bw != 0) ||
      WEFT_UNLIKELY(weft_shared_waiters(kind, obj)))
    _weft_release_slow(t, kind, obj, r);
  else
    r->start = 0;
}

static inline void weft_release_post(unsigned kind, const volatile void *obj, WeftRelease *r, int err) {
  if (WEFT_UNLIKELY(r->p != NULL))
    _weft_release_publish(r, err, 1);
  else if (!err && !r->done && WEFT_UNLIKELY(weft_arrived(r->bucket, r->bw)))
    _weft_release_late(&_weft_tls, kind, obj, r);
}

/* The thread's counters into the trace (own: at thread end, before exec, at
 * destroy; others': at process exit, on their behalf, for good; before an
 * exec, as a snapshot: the exec may fail, and the importer drops the
 * snapshots an EXEC_FAILED follows). */
enum { WEFT_FLUSH_OWN = 0, WEFT_FLUSH_FOR_GOOD = 1, WEFT_FLUSH_SNAPSHOT = 2 };
WEFT_HIDDEN void _weft_counts_flush(WeftThread *t, int on_behalf);
WEFT_HIDDEN void _weft_count_destroy(unsigned kind, const volatile void *obj);
WEFT_HIDDEN void _weft_count_reset(WeftThread *t);
WEFT_HIDDEN void _weft_count_thread_free(WeftThread *t);
WEFT_HIDDEN void _weft_counts_flush_all(int how); /* WEFT_FLUSH_FOR_GOOD or _SNAPSHOT for the others */

/* Before a thread blocks in a recorded wait: its counters are written if it
 * counted anything and did not write them in the last millisecond (a thread
 * blocked for good, or killed while blocked, loses nothing). */
WEFT_HIDDEN void _weft_wait_flush(WeftThread *t);

/* A thread about to block where the agent records nothing (sleep, poll,
 * read, pause, sigsuspend, ...): the same, so that a program killed while
 * idle keeps every count. */
static inline void weft_idle(void) {
  if (WEFT_UNLIKELY(_weft_tls.dirty) && !_weft_tls.busy) _weft_wait_flush(&_weft_tls);
}

static inline uint64_t weft_wait_begin(unsigned aux, uint64_t obj, uint64_t holder_stack, uint64_t obj2) {
  if (WEFT_UNLIKELY(_weft_tls.dirty)) _weft_wait_flush(&_weft_tls);
  return _weft_tls.wait_t0 = weft_emit3(WEFT_EV_WAIT_BEGIN, aux, obj, holder_stack, obj2);
}

/* After a recorded wait's WAIT_END (at: its time): a wait of a millisecond
 * or more ends with a scheduler reading, so the thread's CPU time is known
 * at the edges of its running spans, not only every 50 ms of activity (a few
 * microseconds against a wait of 1 ms or more). Only after waits that leave
 * the thread holding nothing (barrier, join, child, sleep, I/O): after a
 * lock, condition variable or semaphore the reading would lengthen a
 * critical section others may be waiting for. */
static inline void weft_wait_ended(uint64_t at) {
  WeftThread *t = &_weft_tls;
  if (WEFT_UNLIKELY(at - t->wait_t0 >= _weft_proc.long_wait_ticks) && t->wait_t0 && !t->busy && t->tid) {
    int e = errno;
    _weft_sched_sample(t->tid);
    t->wait_t0 = 0;
    errno = e;
  }
}

/* A wait on an object whose releases are recorded only for announced
 * waiters (locks, semaphores) begins when its first try failed, before the
 * waiter announces itself and tries again: a release it then waits for is
 * recorded after that instant, never before. weft_wait_start reads it (after
 * writing the counts and the stack, so the records stay in time order);
 * weft_wait_begin_at writes WAIT_BEGIN with it once the wait is certain. */
typedef struct {
  uint64_t at;
  uint32_t stack;
} WeftWaitStart;

static inline void weft_wait_start_with(WeftWaitStart *w, int idle, uint32_t (*stack)(void)) {
  /* idle: the wait may be long (a semaphore): write the counts first. A
   * lock wait is short and, under contention, frequent: the periodic flush
   * is enough */
  if (idle && WEFT_UNLIKELY(_weft_tls.dirty)) _weft_wait_flush(&_weft_tls);
  w->stack = _weft_proc.stacks >= WEFT_STACKS_CONTENDED ? stack() : 0;
  w->at = weft_ticks();
}

/* The stack captured as a contended wait's (weft_stack_contended). */
static inline void weft_wait_start(WeftWaitStart *w, int idle) { weft_wait_start_with(w, idle, _weft_stack_id); }

static inline void weft_wait_begin_at(const WeftWaitStart *w, unsigned aux, uint64_t obj, uint32_t holder,
                                      uint64_t obj2) {
  WeftThread *t = &_weft_tls;
  uint64_t now = w->at;
  uint64_t *p = weft_reserve(t, 4, &now);
  if (WEFT_UNLIKELY(!p)) return;
  weft_enc_wait_begin(p, obj, holder, w->stack, obj2);
  weft_publish(t, p, WEFT_EV_WAIT_BEGIN, 4, aux, now);
}

/* ---- process-shared objects (weft-shared.c) ----
 * Does glibc mark obj process-shared? Read while the caller uses obj (it is
 * mapped): a mutex's __kind bit 7, an rwlock's __shared, a condvar's __wrefs
 * bit 0, a semaphore's `private` word (glibc's FUTEX_SHARED, 128; FUTEX_PRIVATE is 0). */
WEFT_HIDDEN void _weft_shared_note(unsigned kind, const volatile void *obj, int at_init);
WEFT_HIDDEN void _weft_shared_forget(unsigned kind, const volatile void *obj);

static inline int weft_pshared(unsigned kind, const volatile void *obj) {
#if defined(__GLIBC__) && defined(__x86_64__)
  switch (kind) {
    case WEFT_KIND_MUTEX:
      return (__atomic_load_n(&((const pthread_mutex_t *)obj)->__data.__kind, __ATOMIC_RELAXED) & 128) != 0;
    case WEFT_KIND_RWLOCK_RD:
    case WEFT_KIND_RWLOCK_WR:
    case WEFT_KIND_RWLOCK:
      return __atomic_load_n(&((const pthread_rwlock_t *)obj)->__data.__shared, __ATOMIC_RELAXED) != 0;
    case WEFT_KIND_COND:
      return (__atomic_load_n(&((const pthread_cond_t *)obj)->__data.__wrefs, __ATOMIC_RELAXED) & 1) != 0;
    case WEFT_KIND_SEM: return __atomic_load_n(&((const int *)obj)[2], __ATOMIC_RELAXED) != 0;
    default: return 0;
  }
#else
  (void)kind;
  (void)obj;
  return 0;
#endif
}

/* Does someone in another process wait for obj? Its waiters announce
 * themselves in their own process's buckets, so a process-shared object
 * says it itself, as glibc keeps it (read before the release; a waiter that
 * left may leave the sign behind: then a release is recorded that nobody
 * waited for, never the other way round): a mutex's lock word (2: locked
 * with waiters; robust and PI mutexes: FUTEX_WAITERS; PP mutexes: the same
 * below the ceiling's bits), a semaphore's waiter count (the high half of its
 * value word), a condition variable's (__wrefs / 8: its waiters, signalled or
 * not), a rwlock's (below). 0 for objects of this process. */
static inline int weft_shared_waiters(unsigned kind, const volatile void *obj) {
  if (WEFT_LIKELY(!weft_pshared(kind, obj))) return 0;
#if defined(__GLIBC__) && defined(__x86_64__)
  if (kind == WEFT_KIND_MUTEX) {
    const pthread_mutex_t *m = (const pthread_mutex_t *)obj;
    int k = __atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED);
    unsigned lock = (unsigned)__atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);
    /* PP: the ceiling in the high bits (glibc's PTHREAD_MUTEX_PRIO_CEILING_MASK) */
    return (k & 64) ? (lock & 0x7ffffu) > 1 : (k & (16 | 32)) ? (lock & 0x80000000u) != 0 : lock > 1;
  }
  if (kind == WEFT_KIND_SEM) return (__atomic_load_n((const uint64_t *)obj, __ATOMIC_RELAXED) >> 32) != 0;
  if (kind == WEFT_KIND_COND) /* __wrefs: 8 a waiter (glibc 2.25 and later), the low 3 bits flags */
    return (__atomic_load_n(&((const pthread_cond_t *)obj)->__data.__wrefs, __ATOMIC_RELAXED) >> 3) != 0;
  if (kind == WEFT_KIND_RWLOCK_RD || kind == WEFT_KIND_RWLOCK_WR || kind == WEFT_KIND_RWLOCK) {
    /* glibc 2.25 and later, read conservatively: in __readers, readers waiting (RWAITING), readers
     * registered in a write phase (WRPHASE: they wait for it to end) or a writer registered in a read
     * phase (WRLOCKED: it waits for the readers to leave), before either sleeps; a futex waited on
     * (FUTEX_USED in __wrphase_futex or __writers_futex); writers waiting (__writers) */
    const pthread_rwlock_t *l = (const pthread_rwlock_t *)obj;
    unsigned r = __atomic_load_n(&l->__data.__readers, __ATOMIC_RELAXED);
    return (r & 4) != 0 || ((r & 1) ? (r >> 3) != 0 : (r & 2) != 0) ||
           (__atomic_load_n(&l->__data.__wrphase_futex, __ATOMIC_RELAXED) & 2) != 0 ||
           (__atomic_load_n(&l->__data.__writers_futex, __ATOMIC_RELAXED) & 2) != 0 ||
           (__atomic_load_n(&l->__data.__writers, __ATOMIC_RELAXED) & 0x7fffffffu) != 0;
  }
#endif
  return 0;
}

/* A SHARED record for obj, once per process, if it is process-shared (errno
 * kept). Called at a wait, a count's first entry and after an INIT. */
static inline void weft_shared_check(unsigned kind, const volatile void *obj) {
  if (WEFT_UNLIKELY(weft_pshared(kind, obj))) _weft_shared_note(kind, obj, 0);
}

/* The same after its INIT (a creator may never take it; bounded per process). */
static inline void weft_shared_init(unsigned kind, const volatile void *obj) {
  if (WEFT_UNLIKELY(weft_pshared(kind, obj))) _weft_shared_note(kind, obj, 1);
}

/* After the real destroy of obj returned r (shared: weft_pshared read before
 * the call, while obj was alive): a destroy that succeeded frees its place in
 * the table (an object made there again is another one); EBUSY: it lives on. */
static inline int weft_shared_destroyed(unsigned kind, const volatile void *obj, int shared, int r) {
  if (WEFT_UNLIKELY(shared) && r == 0) _weft_shared_forget(kind, obj);
  return r;
}

/* Mark the agent busy for the span of internal work (stack capture, chunk
 * allocation): wrapped calls made from inside go straight to libc. */
static inline uint32_t weft_busy_enter(void) { return _weft_tls.busy++; }
static inline void weft_busy_leave(void) { _weft_tls.busy--; }

#endif /* WEFT_AGENT_PRIVATE_H */
