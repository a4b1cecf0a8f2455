/* gen-recording.c - synthetic but realistic recordings, for the import and report benchmarks.
 * SPDX-License-Identifier: MIT
 *
 *   gen-recording [--events N] [--threads T] [--processes P] [--seed S] [--json] [--force] OUTDIR
 *
 * Writes PID.0.wtrace files into OUTDIR in exactly the layout the agent
 * writes: a file header page, then page-aligned chunks taken per thread as the
 * agent takes them (16 KiB first, doubling up to 1 MiB, "n + 16 words" room
 * rule), TSC ticks (3 GHz) with a sync point in every chunk header and a SYNC
 * record (plus a SCHED sample) on each chunk change, every 50 ms of a thread's
 * activity and at thread end, TIME records when a delta does not fit 32 bits.
 *
 * The recording comes from a discrete-event simulation of a program, so the
 * times of all threads are consistent (a contended wait ends after the
 * holder's REL, a condvar waiter wakes after the SIGNAL and re-takes the
 * mutex after the signaller released it, a barrier round ends after its last
 * arrival, a join after the thread's exit). Per process (T / P threads):
 *   - the main thread: THREAD_START, PROCESS_INFO, MODULE (this executable,
 *     with its real build-id, so stacks and lock names symbolise), INIT of
 *     the objects, one THREAD_CREATE per worker, (the first process:
 *     posix_spawn of the other processes), joins, waitpid, DESTROY, EXIT;
 *   - compute workers (most threads): rounds of 40-160 lock/unlock pairs
 *     with about 12 us of work between them, on a hot "stats_lock" (25 % of
 *     the pairs) and on "table_locks" (one per worker, 8 to 256; 5 % of the
 *     pairs take a second one inside, in lock order), then a barrier round;
 *   - one pipeline per 16 workers (with 8 to 15 workers, one): a producer and
 *     three consumers on a queue (mutex + condvar); consumers wait on the
 *     condvar when the queue is empty (REL, WAIT_BEGIN cond, SIGNAL from the
 *     producer, WAIT_END, ACQ) and update a table lock per item.
 * A lock taken while held is a contended wait (WAIT_BEGIN with the holder's
 * tid and a stack id, WAIT_END when handed over, 2-8 us after the REL). Stacks
 * (STACK records, defined once per process before their first use) name
 * functions of this executable. The run stops once about N records have been
 * written: the barrier ends its rounds, producers close their queues (a
 * BROADCAST), consumers drain them, the main thread joins everyone.
 *
 * Records are encoded by the agent's own encoder (agent/format/weft-encode.h).
 *
 * Deterministic: the same arguments (and the same executable, whose build-id
 * and function offsets are recorded) give the same bytes. Prints a summary on
 * stdout (one JSON object with --json).
 */
#include "config.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <link.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft-encode.h"
#include "weft-trace.h"

/* ---- clock: TSC at 3 GHz, one global tick -> ns line ---- */
#define TPN     3u /* ticks per ns */
#define TSC_HZ  3000000000ull
#define TICK0   1000000000000ull            /* a tick count at... */
#define NS0     400000000000ull             /* ...this CLOCK_MONOTONIC ns */
#define US(x)   ((uint64_t)(x)*1000u * TPN) /* microseconds in ticks */
#define NSEC(x) ((uint64_t)(x)*TPN)

static uint64_t tick_ns(uint64_t t) { return NS0 + (t - TICK0) / TPN; }

/* ---- deterministic random numbers (xoshiro256**) ---- */
typedef struct {
  uint64_t s[4];
} Rng;

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void rng_seed(Rng *r, uint64_t seed, uint64_t stream) {
  uint64_t x = seed * 0x2545f4914f6cdd1dull + stream;
  for (int i = 0; i < 4; i++) r->s[i] = splitmix(&x);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(Rng *r) {
  uint64_t *s = r->s;
  uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return res;
}

/* uniform in [lo, hi] */
static uint64_t rng_range(Rng *r, uint64_t lo, uint64_t hi) { return lo + rng_next(r) % (hi - lo + 1); }

/* true with probability pct / 100 */
static int rng_pct(Rng *r, unsigned pct) { return rng_next(r) % 100 < pct; }

/* a duration around mean (bell-shaped on [0, 2 mean]), with a long tail: 3 % are 4-10x */
static uint64_t rng_dur(Rng *r, uint64_t mean) {
  uint64_t s = 0;
  for (int i = 0; i < 4; i++) s += rng_next(r) % (mean + 1);
  s /= 2;
  if (rng_pct(r, 3)) s *= rng_range(r, 4, 10);
  return s ? s : 1;
}

/* ---- the code the recording points at: functions and variables of this executable ---- */
static volatile unsigned sink;
#define FAKE_FN(name)                                      \
  __attribute__((noinline, used)) static void name(void) { \
    for (unsigned i = 0; i < 3; i++) sink += i * sink + 1; \
  }
FAKE_FN(table_update)
FAKE_FN(stats_add)
FAKE_FN(table_move)
FAKE_FN(queue_push)
FAKE_FN(queue_pop)
FAKE_FN(queue_wait_item)
FAKE_FN(round_sync)
FAKE_FN(pool_join)
FAKE_FN(children_wait)
FAKE_FN(compute_worker)
FAKE_FN(producer_main)
FAKE_FN(consumer_main)
FAKE_FN(run_pool)
FAKE_FN(program_main)
FAKE_FN(thread_entry)

#define MAX_TABLE_LOCKS 256
#define MAX_QUEUES      64
__attribute__((used, aligned(64))) static unsigned char stats_lock[64];
__attribute__((used, aligned(64))) static unsigned char table_locks[MAX_TABLE_LOCKS][64];
__attribute__((used, aligned(64))) static unsigned char queue_locks[MAX_QUEUES][64];
__attribute__((used, aligned(64))) static unsigned char queue_ready[MAX_QUEUES][64];
__attribute__((used, aligned(64))) static unsigned char round_barrier[64];

#define FAKE_BIAS 0x555555554000ull
static uint64_t real_bias;            /* this executable's load bias */
static uint64_t text_start, text_end; /* recorded (fake-bias) text range */
static uint8_t build_id[20];
static unsigned build_id_len;
static char exe_path[PATH_MAX];

/* an address of this executable as the recorded process would have it */
static uint64_t fake_addr(const void *p) { return (uint64_t)(uintptr_t)p - real_bias + FAKE_BIAS; }

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  real_bias = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      text_start = ph->p_vaddr + FAKE_BIAS;
      text_end = ph->p_vaddr + ph->p_memsz + FAKE_BIAS;
    }
    if (ph->p_type == PT_NOTE) {
      const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
      const unsigned char *end = p + ph->p_memsz;
      while (p + 12 <= end) {
        uint32_t nsz, dsz, type;
        memcpy(&nsz, p, 4);
        memcpy(&dsz, p + 4, 4);
        memcpy(&type, p + 8, 4);
        const unsigned char *name = p + 12, *desc = name + ((nsz + 3) & ~3u);
        if (desc + dsz > end) break;
        if (type == 3 /* NT_GNU_BUILD_ID */ && nsz == 4 && !memcmp(name, "GNU", 4)) {
          build_id_len = dsz < 20 ? dsz : 20;
          memcpy(build_id, desc, build_id_len);
        }
        p = desc + ((dsz + 3) & ~3u);
      }
    }
  }
  return 1; /* the executable is the first object */
}

/* ---- call sites (stacks) ---- */
enum {
  SITE_TABLE,
  SITE_STATS,
  SITE_NESTED,
  SITE_PUSH,
  SITE_POP,
  SITE_CONDWAIT,
  SITE_BARRIER,
  SITE_CONSUMER_TABLE,
  SITE_JOIN,
  SITE_WAITPID,
  SITE_COUNT
};
typedef void (*FakeFn)(void);
static const FakeFn site_frames[SITE_COUNT][6] = {
    [SITE_TABLE] = {table_update, compute_worker, thread_entry},
    [SITE_STATS] = {stats_add, table_update, compute_worker, thread_entry},
    [SITE_NESTED] = {table_move, table_update, compute_worker, thread_entry},
    [SITE_PUSH] = {queue_push, producer_main, thread_entry},
    [SITE_POP] = {queue_pop, consumer_main, thread_entry},
    [SITE_CONDWAIT] = {queue_wait_item, queue_pop, consumer_main, thread_entry},
    [SITE_BARRIER] = {round_sync, compute_worker, thread_entry},
    [SITE_CONSUMER_TABLE] = {table_update, consumer_main, thread_entry},
    [SITE_JOIN] = {pool_join, run_pool, program_main},
    [SITE_WAITPID] = {children_wait, program_main},
};

/* ---- the simulation ---- */
typedef struct Thread Thread;
typedef struct Proc Proc;

typedef struct {
  uint64_t addr;
  Thread *holder;
  Thread *head, *tail; /* FIFO of waiters (explicit WAIT_BEGIN, or condvar waiters re-taking it) */
  int wake_pending;
  int index; /* lock order for nested locking */
} Mutex;

typedef struct {
  uint64_t addr;
  Thread *head, *tail;
} Cond;

typedef struct {
  Mutex *m;
  Cond *c;
  int count, closed;
} Queue;

typedef struct {
  uint64_t addr;
  int count, arrived;
  Thread **arr;
} Barrier;

typedef struct {
  uint64_t *buf; /* the current chunk, header included */
  uint32_t size; /* its size in bytes (0: none) */
  uint32_t pos;  /* next word */
  uint64_t off;  /* its offset in the file */
  uint32_t seq, next_size;
  uint64_t last; /* tick of the previous record */
  uint64_t next_sample;
} Writer;

enum Role { ROLE_MAIN, ROLE_COMPUTE, ROLE_PRODUCER, ROLE_CONSUMER };

enum State {
  S_MAIN_START,
  S_MAIN_CREATE,
  S_MAIN_JOIN,
  S_MAIN_JOINED,
  S_MAIN_WAITPID,
  S_MAIN_REAPED,
  S_MAIN_EXIT,
  S_START,
  S_C_NEXT,
  S_C_LOCK,
  S_C_LOCK2,
  S_C_UNLOCK2,
  S_C_UNLOCK,
  S_C_BARRIER,
  S_C_AFTER_BARRIER,
  S_P_NEXT,
  S_P_LOCK,
  S_P_SIGNAL,
  S_P_UNLOCK,
  S_K_LOCK,
  S_K_LOCKED,
  S_K_UNLOCK,
  S_K_TABLE_LOCK,
  S_K_TABLE_UNLOCK,
  S_EXIT,
  S_TRY_WAKE,
  S_BLOCKED
};

struct Thread {
  Proc *p;
  int idx; /* 0 = main */
  uint32_t tid;
  uint64_t self, routine;
  enum Role role;
  enum State state;
  Rng rng;
  Writer w;
  uint64_t clk; /* tick of this thread's last record */
  uint64_t start_tick, cpu_ticks, run_since, slices;
  int running;
  /* locking */
  Mutex *want, *m1, *m2;
  Cond *reacq; /* re-taking want after a wait on this condvar */
  enum State after;
  uint64_t after_delay;
  Thread *qnext;
  Queue *q;
  /* compute rounds */
  int ops_left, serial, final_round;
  /* join / exit */
  int exited;
  uint64_t exit_tick;
  Thread *joiner;
  int join_next;
};

struct Proc {
  int idx;
  uint32_t pid, ppid;
  int fd;
  char path[PATH_MAX + 32];
  uint64_t next_off, start_tick, session;
  int nthreads;
  Thread **thr;
  Mutex stats, *table;
  int ntable;
  Queue *queues;
  int nqueues;
  Barrier barrier;
  uint32_t site_id[SITE_COUNT];
  uint32_t next_stack;
  int ended;
  uint64_t end_tick;
  Thread *waiter; /* the root's main thread, waiting for this process */
  int wait_next;
};

typedef struct {
  uint64_t tick, seq;
  Thread *t;
} HeapEnt;

static struct {
  HeapEnt *heap;
  size_t nheap, capheap;
  uint64_t seq;
  Proc *procs;
  int nprocs;
  uint64_t records, stop_at;
  int stop;
  /* statistics */
  uint64_t acq, contended, cond_waits, signals, barrier_rounds, chunks, time_records;
  uint64_t trace_bytes; /* bytes written into chunks: chunk headers and records */
  uint64_t first_tick, last_tick;
} G;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("gen-recording: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

static void *xcalloc(size_t n, size_t s) {
  void *p = calloc(n ? n : 1, s ? s : 1);
  if (!p) die("out of memory");
  return p;
}

/* ---- heap of pending thread steps ---- */
static int heap_less(const HeapEnt *a, const HeapEnt *b) {
  return a->tick < b->tick || (a->tick == b->tick && a->seq < b->seq);
}

static void heap_push(uint64_t tick, Thread *t) {
  if (G.nheap == G.capheap) {
    G.capheap = G.capheap ? 2 * G.capheap : 256;
    G.heap = realloc(G.heap, G.capheap * sizeof *G.heap);
    if (!G.heap) die("out of memory");
  }
  size_t i = G.nheap++;
  HeapEnt e = {tick, G.seq++, t};
  while (i > 0 && heap_less(&e, &G.heap[(i - 1) / 2])) {
    G.heap[i] = G.heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  G.heap[i] = e;
}

static HeapEnt heap_pop(void) {
  HeapEnt top = G.heap[0], e = G.heap[--G.nheap];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= G.nheap) break;
    if (c + 1 < G.nheap && heap_less(&G.heap[c + 1], &G.heap[c])) c++;
    if (!heap_less(&G.heap[c], &e)) break;
    G.heap[i] = G.heap[c];
    i = c;
  }
  if (G.nheap) G.heap[i] = e;
  return top;
}

/* run state s of t at tick (never before the thread's last record) */
static void sched(Thread *t, uint64_t tick, enum State s) {
  t->state = s;
  heap_push(tick > t->clk ? tick : t->clk, t);
}

/* ---- the writer: chunks and records, as the agent lays them out ---- */
#define CHUNK_FIRST  (16u << 10)
#define CHUNK_MAX    (1u << 20)
#define SAMPLE_TICKS US(50000) /* a SYNC + SCHED sample every 50 ms of activity */

static void xpwrite(Proc *p, const void *buf, size_t len, uint64_t off) {
  const char *b = buf;
  while (len) {
    ssize_t n = pwrite(p->fd, b, len, (off_t)off);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("%s: %s", p->path, strerror(errno));
    }
    b += n;
    len -= (size_t)n;
    off += (uint64_t)n;
  }
}

static void chunk_flush(Thread *t) {
  Writer *w = &t->w;
  if (!w->size) return;
  xpwrite(t->p, w->buf, (size_t)w->pos * 8, w->off);
  G.trace_bytes += (uint64_t)w->pos * 8;
}

static void chunk_take(Thread *t, uint64_t tick) {
  Writer *w = &t->w;
  chunk_flush(t);
  uint32_t size = w->next_size ? w->next_size : CHUNK_FIRST;
  if (size != w->size) {
    free(w->buf);
    w->buf = xcalloc(1, size);
  } else {
    memset(w->buf, 0, (size_t)w->pos * 8);
  }
  w->size = size;
  w->off = t->p->next_off;
  t->p->next_off += size;
  weft_enc_chunk((WeftChunkHeader *)(void *)w->buf, size, t->tid, w->seq++, tick, tick_ns(tick));
  w->pos = sizeof(WeftChunkHeader) / 8;
  w->last = tick;
  w->next_size = size * 2 <= CHUNK_MAX ? size * 2 : CHUNK_MAX;
  G.chunks++;
}

/* append a record with no slow-path checks (room was made) */
static void put(Thread *t, uint64_t tick, unsigned type, unsigned aux, unsigned n, const uint64_t *words) {
  Writer *w = &t->w;
  if (tick < w->last) die("internal: time runs backwards in thread %u", t->tid);
  if (tick - w->last > UINT32_MAX) {
    weft_enc_time(w->buf + w->pos, tick);
    w->pos += 2;
    w->last = tick;
    G.records++;
    G.time_records++;
  }
  uint64_t *rec = w->buf + w->pos;
  weft_enc_words(rec, n, words);
  weft_enc_publish(rec, type, n, aux, tick - w->last);
  w->pos += n;
  w->last = tick;
  G.records++;
  if (tick > G.last_tick) G.last_tick = tick;
}

static uint64_t cpu_ns_of(Thread *t, uint64_t tick) {
  return (t->cpu_ticks + (t->running ? tick - t->run_since : 0)) / TPN;
}

/* the SYNC record of tick, the words of the thread's SCHED reading then */
static void sync_words(uint64_t *rec, uint64_t tick) { weft_enc_sync(rec, tick, tick_ns(tick)); }

static void sched_words(Thread *t, uint64_t *rec, uint64_t tick) {
  uint64_t c = cpu_ns_of(t, tick);
  weft_enc_sched(rec, t->tid, c, c / 23, t->slices + 1);
}

/* write a record at tick, taking a new chunk and writing SYNC/SCHED first when the agent would */
static void emit_at(Thread *t, uint64_t tick, unsigned type, unsigned aux, unsigned n, const uint64_t *words) {
  Writer *w = &t->w;
  int no_room = !w->size || w->size / 8 - w->pos < n + 16u;
  if (no_room || tick >= w->next_sample) {
    if (no_room) chunk_take(t, tick);
    if (tick >= w->next_sample) {
      uint64_t r[5];
      sync_words(r, tick);
      put(t, tick, WEFT_EV_SYNC, 0, 3, r + 1);
      sched_words(t, r, tick);
      put(t, tick, WEFT_EV_SCHED, 0, 5, r + 1);
      w->next_sample = tick + SAMPLE_TICKS;
    }
  }
  put(t, tick, type, aux, n, words);
  t->clk = tick;
}

/* a record a few ns after the thread's previous one */
static void emit(Thread *t, unsigned type, unsigned aux, unsigned n, const uint64_t *words) {
  emit_at(t, t->clk + rng_range(&t->rng, NSEC(8), NSEC(30)), type, aux, n, words);
}

static void emit1(Thread *t, unsigned type, unsigned aux, uint64_t w1) { emit(t, type, aux, 2, &w1); }

static void emit3(Thread *t, unsigned type, unsigned aux, uint64_t w1, uint64_t w2, uint64_t w3) {
  uint64_t v[3] = {w1, w2, w3};
  emit(t, type, aux, 4, v);
}

/* WAIT_BEGIN (op lock) a few ns after the thread's previous record */
static void emit_wait_begin(Thread *t, unsigned kind, uint64_t obj, uint32_t holder, uint32_t stack, uint64_t obj2) {
  uint64_t rec[4];
  weft_enc_wait_begin(rec, obj, holder, stack, obj2);
  emit(t, WEFT_EV_WAIT_BEGIN, WEFT_AUX(kind, WEFT_OP_LOCK, 0), 4, rec + 1);
}

/* the agent's sample at a thread's end: SYNC at tick, the SCHED reading a few ns later */
static void emit_end_sample(Thread *t, uint64_t tick) {
  uint64_t r[5];
  sync_words(r, tick);
  emit_at(t, tick, WEFT_EV_SYNC, 0, 3, r + 1);
  sched_words(t, r, tick);
  emit(t, WEFT_EV_SCHED, 0, 5, r + 1);
}

/* the shared-state change of a step: exactly at the step's tick */
static void emit1_now(Thread *t, uint64_t now, unsigned type, unsigned aux, uint64_t w1) {
  emit_at(t, now, type, aux, 2, &w1);
}

/* a record with fixed words then NUL-terminated strings */
static void emit_str(Thread *t, unsigned type, unsigned aux, unsigned nfixed, const uint64_t *fixed,
                     const char *const *strs, unsigned nstr) {
  uint64_t rec[1 + WEFT_RECORD_MAX_WORDS];
  size_t bytes = 0;
  for (unsigned i = 0; i < nstr; i++) bytes += strlen(strs[i]) + 1;
  unsigned n = weft_enc_str_nwords(nfixed, bytes);
  if (n > WEFT_RECORD_MAX_WORDS) die("string record too long");
  weft_enc_words(rec, 1 + nfixed, fixed);
  char *s = weft_enc_str_area(rec, nfixed, n);
  for (unsigned i = 0; i < nstr; i++) s = weft_enc_str_put(s, strs[i], strlen(strs[i]));
  emit(t, type, aux, n, rec + 1);
}

/* the stack id of a call site, writing its STACK record at first use in this process */
static uint32_t site_stack(Thread *t, int site) {
  Proc *p = t->p;
  if (!p->site_id[site]) {
    uint64_t v[1 + 6];
    unsigned d = 0;
    for (; d < 6 && site_frames[site][d]; d++)
      v[1 + d] = fake_addr((const void *)(uintptr_t)site_frames[site][d]) + 9 + 4 * d;
    p->site_id[site] = ++p->next_stack;
    v[0] = weft_enc_stack_w1(p->site_id[site], d);
    emit(t, WEFT_EV_STACK, 0, 2 + d, v);
  }
  return p->site_id[site];
}

static void run_start(Thread *t, uint64_t tick) {
  if (!t->running) {
    t->running = 1;
    t->run_since = tick;
  }
}

static void run_stop(Thread *t, uint64_t tick) {
  if (t->running) {
    t->cpu_ticks += tick - t->run_since;
    t->running = 0;
    t->slices++;
  }
}

/* ---- mutexes ---- */
static void mq_append(Mutex *m, Thread *t) {
  t->qnext = NULL;
  if (m->tail)
    m->tail->qnext = t;
  else
    m->head = t;
  m->tail = t;
}

/* wake the first waiter a little after a release (it may find the mutex taken again: barging) */
static void mutex_wake(Mutex *m, uint64_t now) {
  if (m->holder || !m->head || m->wake_pending) return;
  m->wake_pending = 1;
  Thread *h = m->head;
  sched(h, now + rng_range(&h->rng, US(2), US(8)), S_TRY_WAKE);
}

/* lock m at now; after acquiring, run state `after` `delay` ticks later */
static void lock(Thread *t, uint64_t now, Mutex *m, int site, enum State after, uint64_t delay) {
  t->after = after;
  t->after_delay = delay;
  G.acq++;
  if (!m->holder) {
    m->holder = t;
    emit1_now(t, now, WEFT_EV_ACQ, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), m->addr);
    sched(t, t->clk + delay, after);
    return;
  }
  G.contended++;
  /* the agent: try fails, read the owner, capture the stack, WAIT_BEGIN, block */
  t->clk = now;
  uint32_t st = site_stack(t, site);
  emit_wait_begin(t, WEFT_KIND_MUTEX, m->addr, m->holder->tid, st, 0);
  run_stop(t, t->clk);
  t->want = m;
  t->reacq = NULL;
  t->state = S_BLOCKED;
  mq_append(m, t);
}

static void unlock(Thread *t, uint64_t now, Mutex *m) {
  if (m->holder != t) die("internal: unlock of a mutex not held");
  emit1_now(t, now, WEFT_EV_REL, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), m->addr);
  m->holder = NULL;
  mutex_wake(m, now);
}

static void try_wake(Thread *t, uint64_t now) {
  Mutex *m = t->want;
  m->wake_pending = 0;
  if (m->holder) return; /* barged: the holder's REL wakes us again */
  if (m->head != t) die("internal: woken thread is not the first waiter");
  m->head = t->qnext;
  if (!m->head) m->tail = NULL;
  m->holder = t;
  run_start(t, now);
  if (t->reacq) {
    emit1_now(t, now, WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_COND, WEFT_OP_LOCK, 0), t->reacq->addr);
    emit1(t, WEFT_EV_ACQ, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), m->addr);
  } else {
    emit1_now(t, now, WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), m->addr);
  }
  t->want = NULL;
  t->reacq = NULL;
  sched(t, t->clk + t->after_delay, t->after);
}

/* ---- condvars ---- */
static void cond_wait(Thread *t, uint64_t now, Cond *c, Mutex *m, enum State after) {
  if (m->holder != t) die("internal: cond wait without the mutex");
  G.cond_waits++;
  emit1_now(t, now, WEFT_EV_REL, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), m->addr);
  m->holder = NULL;
  uint32_t st = site_stack(t, SITE_CONDWAIT);
  emit_wait_begin(t, WEFT_KIND_COND, c->addr, 0, st, m->addr);
  run_stop(t, t->clk);
  mutex_wake(m, now);
  t->want = m;
  t->reacq = c;
  t->after = after;
  t->after_delay = rng_range(&t->rng, NSEC(20), NSEC(80));
  t->state = S_BLOCKED;
  t->qnext = NULL;
  if (c->tail)
    c->tail->qnext = t;
  else
    c->head = t;
  c->tail = t;
}

/* signal (all = broadcast) at now; the signaller holds the mutex: woken waiters queue on it */
static void cond_signal(Thread *t, uint64_t now, Cond *c, Mutex *m, int all) {
  G.signals++;
  emit1_now(t, now, WEFT_EV_SIGNAL, WEFT_AUX(WEFT_KIND_COND, all ? WEFT_OP_BROADCAST : WEFT_OP_SIGNAL, 0), c->addr);
  while (c->head) {
    Thread *w = c->head;
    c->head = w->qnext;
    if (!c->head) c->tail = NULL;
    mq_append(m, w);
    if (!all) break;
  }
  mutex_wake(m, now);
}

/* ---- threads ---- */
static const char *role_name(enum Role r) {
  return r == ROLE_COMPUTE ? "worker" : r == ROLE_PRODUCER ? "producer" : r == ROLE_CONSUMER ? "consumer" : "main";
}

static Mutex *pick_table(Thread *t) { return &t->p->table[rng_next(&t->rng) % (uint64_t)t->p->ntable]; }

static void new_round(Thread *t) { t->ops_left = (int)rng_range(&t->rng, 40, 160); }

static void thread_exit(Thread *t, uint64_t now) {
  run_stop(t, now);
  emit1_now(t, now, WEFT_EV_THREAD_EXIT, WEFT_EXIT_RETURN, t->self);
  emit_end_sample(t, t->clk + NSEC(200)); /* the agent's exit sample */
  chunk_flush(t);
  t->w.size = 0;
  t->exited = 1;
  t->exit_tick = t->clk;
  if (t->joiner) sched(t->joiner, t->clk + rng_range(&t->rng, US(3), US(12)), S_MAIN_JOINED);
}

static void proc_start_main(Proc *p, uint64_t tick);

/* a process's main thread starts: THREAD_START, PROCESS_INFO, MODULE, the spawns of the other
 * processes (the first process), then the objects */
static void main_start(Thread *t, uint64_t now) {
  Proc *p = t->p;
  Rng *r = &t->rng;
  run_start(t, now);
  uint64_t v[3] = {t->self, 0, 0};
  emit_at(t, now, WEFT_EV_THREAD_START, 1, 4, v);
  {
    char a2[32], a4[32];
    snprintf(a2, sizeof a2, "%d", p->nthreads);
    snprintf(a4, sizeof a4, "%d", p->idx);
    const char *argv[] = {exe_path, "--synthetic-workload", "--threads", a2, "--part", a4, exe_path};
    uint64_t w1 = weft_enc_process_w1(6, 0);
    emit_str(t, WEFT_EV_PROCESS_INFO, 0, 1, &w1, argv, 7);
  }
  {
    uint64_t w[1 + WEFT_ENC_MODULE_FIXED];
    weft_enc_module(w, FAKE_BIAS, text_start, text_end, build_id, build_id_len);
    const char *path[] = {exe_path};
    emit_str(t, WEFT_EV_MODULE, 0, WEFT_ENC_MODULE_FIXED, w + 1, path, 1);
  }
  t->clk += US(rng_range(r, 50, 200)); /* program start-up */
  if (p->idx == 0)
    for (int i = 1; i < G.nprocs; i++) {
      /* posix_spawn of the other processes: they start after their exec */
      t->clk += US(rng_range(r, 100, 300));
      emit1(t, WEFT_EV_FORK, weft_enc_fork_aux(WEFT_FORK_SPAWN, 0), G.procs[i].pid);
      proc_start_main(&G.procs[i], t->clk + US(rng_range(r, 300, 900)));
    }
  for (int i = 0; i < p->ntable; i++) emit3(t, WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), p->table[i].addr, 0, 0);
  for (int i = 0; i < p->nqueues; i++) {
    emit3(t, WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), p->queues[i].m->addr, 0, 0);
    emit3(t, WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_COND, 0, 0), p->queues[i].c->addr, 0, 0);
  }
  if (p->barrier.count)
    emit3(t, WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_BARRIER, 0, 0), p->barrier.addr, (uint64_t)p->barrier.count, 0);
  t->join_next = 1;
  sched(t, t->clk + US(rng_range(r, 20, 100)), S_MAIN_CREATE);
}

/* one pthread_create per step; the new thread runs 15-60 us later */
static void main_create(Thread *t, uint64_t now) {
  Proc *p = t->p;
  Rng *r = &t->rng;
  Thread *n = p->thr[t->join_next];
  emit3(t, WEFT_EV_THREAD_CREATE, 0, n->self, n->routine, 0);
  n->start_tick = t->clk + US(rng_range(r, 15, 60));
  sched(n, n->start_tick, S_START);
  if (++t->join_next < p->nthreads) {
    sched(t, t->clk + US(rng_range(r, 20, 40)), S_MAIN_CREATE);
  } else {
    t->join_next = 1;
    sched(t, t->clk + US(rng_range(r, 5, 20)), S_MAIN_JOIN);
  }
}

/* the main thread blocks in the wait it just began: resumed in state next at
 * once when what it waits for is over already (done), else by that thread or
 * process through *waiter when it ends */
static void main_block(Thread *t, int done, Thread **waiter, enum State next) {
  run_stop(t, t->clk);
  if (done)
    sched(t, t->clk + US(1), next);
  else {
    *waiter = t;
    t->state = S_BLOCKED;
  }
}

/* the main thread joins the next worker (blocks until it exits) */
static void main_join(Thread *t, uint64_t now) {
  Proc *p = t->p;
  Thread *j = p->thr[t->join_next];
  t->clk = now;
  uint32_t st = site_stack(t, SITE_JOIN);
  emit_wait_begin(t, WEFT_KIND_JOIN, j->self, j->exited ? 0 : j->tid, st, 0);
  main_block(t, j->exited, &j->joiner, S_MAIN_JOINED);
}

/* a join returned: the next one, or with all joined the objects destroyed */
static void main_joined(Thread *t, uint64_t now) {
  Proc *p = t->p;
  Rng *r = &t->rng;
  Thread *j = p->thr[t->join_next];
  run_start(t, now);
  emit1_now(t, now, WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_JOIN, WEFT_OP_LOCK, 0), j->self);
  if (++t->join_next < p->nthreads) {
    sched(t, t->clk + US(rng_range(r, 1, 5)), S_MAIN_JOIN);
    return;
  }
  /* all joined: destroy the objects */
  for (int i = 0; i < p->ntable; i++) emit1(t, WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), p->table[i].addr);
  for (int i = 0; i < p->nqueues; i++) {
    emit1(t, WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_COND, 0, 0), p->queues[i].c->addr);
    emit1(t, WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), p->queues[i].m->addr);
  }
  if (p->barrier.count) emit1(t, WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_BARRIER, 0, 0), p->barrier.addr);
  p->wait_next = 1;
  sched(t, t->clk + US(rng_range(r, 10, 50)), p->idx == 0 && G.nprocs > 1 ? S_MAIN_WAITPID : S_MAIN_EXIT);
}

/* the first process waits for the next of the others */
static void main_waitpid(Thread *t, uint64_t now) {
  Proc *p = t->p;
  Proc *c = &G.procs[p->wait_next];
  t->clk = now;
  uint32_t st = site_stack(t, SITE_WAITPID);
  emit_wait_begin(t, WEFT_KIND_CHILD, c->pid, 0, st, c->pid);
  main_block(t, c->ended, &c->waiter, S_MAIN_REAPED);
}

/* a waitpid returned: the next one, or the exit */
static void main_reaped(Thread *t, uint64_t now) {
  Proc *p = t->p;
  Rng *r = &t->rng;
  Proc *c = &G.procs[p->wait_next];
  run_start(t, now);
  uint64_t v[3] = {c->pid, c->pid, 0 /* exited, status 0 */};
  emit_at(t, now, WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_CHILD, WEFT_OP_LOCK, 0), 4, v);
  if (++p->wait_next < G.nprocs)
    sched(t, t->clk + US(rng_range(r, 1, 5)), S_MAIN_WAITPID);
  else
    sched(t, t->clk + US(rng_range(r, 10, 50)), S_MAIN_EXIT);
}

/* the agent at exit: SYNC + SCHED of this thread, EXIT */
static void main_exit(Thread *t, uint64_t now) {
  Proc *p = t->p;
  Rng *r = &t->rng;
  emit_end_sample(t, now);
  emit1(t, WEFT_EV_EXIT, WEFT_PEXIT_EXIT, 0);
  run_stop(t, t->clk);
  chunk_flush(t);
  t->w.size = 0;
  t->exited = 1;
  p->ended = 1;
  p->end_tick = t->clk;
  if (p->waiter) sched(p->waiter, t->clk + US(rng_range(r, 20, 80)), S_MAIN_REAPED);
}

/* a worker starts: THREAD_START, its name, its first step */
static void thread_start(Thread *t, uint64_t now) {
  Proc *p = t->p;
  Rng *r = &t->rng;
  run_start(t, now);
  uint64_t v[3] = {t->self, t->routine, p->thr[0]->tid};
  emit_at(t, now, WEFT_EV_THREAD_START, 0, 4, v);
  char name[32];
  snprintf(name, sizeof name, "%s-%d", role_name(t->role), t->idx);
  const char *s[] = {name};
  uint64_t zero = 0;
  emit_str(t, WEFT_EV_THREAD_NAME, 0, 1, &zero, s, 1);
  enum State first = t->role == ROLE_COMPUTE ? S_C_NEXT : t->role == ROLE_PRODUCER ? S_P_NEXT : S_K_LOCK;
  new_round(t);
  sched(t, t->clk + US(rng_range(r, 2, 20)), first);
}

/* a compute worker arrives at the barrier; the last arrival releases the round (it is the
 * serial thread) */
static void barrier_arrive(Thread *t, uint64_t now) {
  Proc *p = t->p;
  Barrier *b = &p->barrier;
  t->clk = now;
  uint32_t st = site_stack(t, SITE_BARRIER);
  emit_wait_begin(t, WEFT_KIND_BARRIER, b->addr, 0, st, 0);
  run_stop(t, t->clk);
  b->arr[b->arrived++] = t;
  t->state = S_BLOCKED;
  if (b->arrived == b->count) {
    /* the last arrival releases the round; it is the serial thread */
    int final = G.stop;
    G.barrier_rounds++;
    for (int i = 0; i < b->arrived; i++) {
      Thread *u = b->arr[i];
      u->serial = u == t;
      u->final_round = final;
      sched(u, u == t ? t->clk + NSEC(300) : t->clk + rng_range(&u->rng, US(3), US(15)), S_C_AFTER_BARRIER);
    }
    b->arrived = 0;
  }
}

/* compute workers: lock/unlock pairs, then a barrier round */
static void step_compute(Thread *t, uint64_t now) {
  Proc *p = t->p;
  Rng *r = &t->rng;
  switch (t->state) {
    case S_C_NEXT:
      if (G.stop) t->ops_left = 0;
      if (t->ops_left-- <= 0) {
        sched(t, now, S_C_BARRIER);
        break;
      }
      sched(t, now + rng_dur(r, US(12)), S_C_LOCK);
      break;
    case S_C_LOCK: {
      int hot = rng_pct(r, 25);
      t->m1 = hot ? &p->stats : pick_table(t);
      t->m2 = NULL;
      if (!hot && rng_pct(r, 5)) { /* nested, in lock order */
        Mutex *b = pick_table(t);
        if (b->index > t->m1->index) t->m2 = b;
      }
      if (t->m2)
        lock(t, now, t->m1, SITE_NESTED, S_C_LOCK2, rng_dur(r, NSEC(150)));
      else
        lock(t, now, t->m1, hot ? SITE_STATS : SITE_TABLE, S_C_UNLOCK, rng_dur(r, hot ? NSEC(120) : NSEC(400)));
      break;
    }
    case S_C_LOCK2: lock(t, now, t->m2, SITE_NESTED, S_C_UNLOCK2, rng_dur(r, NSEC(300))); break;
    case S_C_UNLOCK2:
      unlock(t, now, t->m2);
      sched(t, t->clk + rng_dur(r, NSEC(60)), S_C_UNLOCK);
      break;
    case S_C_UNLOCK:
      unlock(t, now, t->m1);
      sched(t, t->clk + NSEC(10), S_C_NEXT);
      break;
    case S_C_AFTER_BARRIER:
      run_start(t, now);
      emit1_now(t, now, WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_BARRIER, t->serial ? WEFT_OP_SERIAL : WEFT_OP_LOCK, 0),
                p->barrier.addr);
      if (t->final_round) {
        sched(t, t->clk + US(rng_range(r, 5, 30)), S_EXIT);
      } else {
        new_round(t);
        sched(t, t->clk + NSEC(50), S_C_NEXT);
      }
      break;
    default: die("internal: step_compute in state %d", (int)t->state);
  }
}

/* producers: make an item, push it, signal */
static void step_producer(Thread *t, uint64_t now) {
  Rng *r = &t->rng;
  switch (t->state) {
    case S_P_NEXT: sched(t, now + (G.stop ? US(1) : rng_dur(r, US(5))), S_P_LOCK); break;
    case S_P_LOCK: lock(t, now, t->q->m, SITE_PUSH, S_P_SIGNAL, rng_dur(r, NSEC(100))); break;
    case S_P_SIGNAL:
      if (G.stop)
        t->q->closed = 1;
      else
        t->q->count++;
      cond_signal(t, now, t->q->c, t->q->m, t->q->closed);
      sched(t, t->clk + rng_dur(r, NSEC(40)), S_P_UNLOCK);
      break;
    case S_P_UNLOCK:
      unlock(t, now, t->q->m);
      if (t->q->closed)
        sched(t, t->clk + US(rng_range(r, 5, 30)), S_EXIT);
      else
        sched(t, t->clk + NSEC(10), S_P_NEXT);
      break;
    default: die("internal: step_producer in state %d", (int)t->state);
  }
}

/* consumers: take an item (waiting on the condvar when there is none), work on it */
static void step_consumer(Thread *t, uint64_t now) {
  Rng *r = &t->rng;
  switch (t->state) {
    case S_K_LOCK: lock(t, now, t->q->m, SITE_POP, S_K_LOCKED, rng_range(r, NSEC(20), NSEC(60))); break;
    case S_K_LOCKED:
      if (t->q->count > 0) {
        t->q->count--;
        sched(t, now + rng_dur(r, NSEC(80)), S_K_UNLOCK);
      } else if (t->q->closed) {
        t->m1 = NULL;
        unlock(t, now, t->q->m);
        sched(t, t->clk + US(rng_range(r, 5, 30)), S_EXIT);
      } else {
        cond_wait(t, now, t->q->c, t->q->m, S_K_LOCKED);
      }
      break;
    case S_K_UNLOCK:
      unlock(t, now, t->q->m);
      /* work on the item, then record its result under a table lock */
      sched(t, t->clk + rng_dur(r, US(8)), S_K_TABLE_LOCK);
      break;
    case S_K_TABLE_LOCK:
      t->m1 = pick_table(t);
      lock(t, now, t->m1, SITE_CONSUMER_TABLE, S_K_TABLE_UNLOCK, rng_dur(r, NSEC(400)));
      break;
    case S_K_TABLE_UNLOCK:
      unlock(t, now, t->m1);
      sched(t, t->clk + rng_dur(r, NSEC(500)), S_K_LOCK);
      break;
    default: die("internal: step_consumer in state %d", (int)t->state);
  }
}

/* run t's state at now: its role's step, or the states all threads share */
static void step(Thread *t, uint64_t now) {
  switch (t->state) {
    case S_MAIN_START: main_start(t, now); break;
    case S_MAIN_CREATE: main_create(t, now); break;
    case S_MAIN_JOIN: main_join(t, now); break;
    case S_MAIN_JOINED: main_joined(t, now); break;
    case S_MAIN_WAITPID: main_waitpid(t, now); break;
    case S_MAIN_REAPED: main_reaped(t, now); break;
    case S_MAIN_EXIT: main_exit(t, now); break;
    case S_START: thread_start(t, now); break;
    case S_C_BARRIER: barrier_arrive(t, now); break;
    case S_EXIT: thread_exit(t, now); break;
    case S_TRY_WAKE: try_wake(t, now); break;
    case S_BLOCKED: die("internal: a blocked thread was scheduled");
    default:
      if (t->role == ROLE_COMPUTE)
        step_compute(t, now);
      else if (t->role == ROLE_PRODUCER)
        step_producer(t, now);
      else
        step_consumer(t, now);
  }
}

/* ---- set-up ---- */
static void proc_start_main(Proc *p, uint64_t tick) {
  p->start_tick = tick;
  Thread *m = p->thr[0];
  m->clk = tick;
  sched(m, tick + US(40), S_MAIN_START); /* the agent's constructor runs first */
}

static void proc_init(Proc *p, int idx, int nthreads, uint64_t seed, const char *dir) {
  p->idx = idx;
  p->pid = 41000 + (uint32_t)(seed % 1000) * 16 + (uint32_t)idx * 4096;
  p->ppid = idx ? G.procs[0].pid : 40999;
  p->nthreads = nthreads;
  p->next_off = WEFT_FILE_HEADER_SIZE;
  snprintf(p->path, sizeof p->path, "%s/%u.0.wtrace", dir, p->pid);
  p->fd = open(p->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (p->fd < 0) die("%s: %s", p->path, strerror(errno));
  int workers = nthreads - 1;
  int groups = workers >= 16 ? workers / 16 : workers >= 8 ? 1 : 0;
  if (groups > MAX_QUEUES) groups = MAX_QUEUES;
  int compute = workers - 4 * groups;
  /* objects: this executable's variables */
  p->stats.addr = fake_addr(stats_lock);
  p->ntable = workers < 8 ? 8 : workers > MAX_TABLE_LOCKS ? MAX_TABLE_LOCKS : workers;
  p->stats.index = p->ntable;
  p->table = xcalloc((size_t)p->ntable, sizeof *p->table);
  for (int i = 0; i < p->ntable; i++) {
    p->table[i].addr = fake_addr(table_locks[i]);
    p->table[i].index = i;
  }
  p->nqueues = groups;
  p->queues = xcalloc((size_t)groups, sizeof *p->queues);
  for (int i = 0; i < groups; i++) {
    p->queues[i].m = xcalloc(1, sizeof(Mutex));
    p->queues[i].m->addr = fake_addr(queue_locks[i]);
    p->queues[i].c = xcalloc(1, sizeof(Cond));
    p->queues[i].c->addr = fake_addr(queue_ready[i]);
  }
  p->barrier.addr = fake_addr(round_barrier);
  p->barrier.count = compute;
  p->barrier.arr = xcalloc((size_t)(compute > 0 ? compute : 1), sizeof(Thread *));
  p->thr = xcalloc((size_t)nthreads, sizeof(Thread *));
  for (int i = 0; i < nthreads; i++) {
    Thread *t = p->thr[i] = xcalloc(1, sizeof(Thread));
    t->p = p;
    t->idx = i;
    t->tid = p->pid + (uint32_t)i;
    t->self = 0x7f3a00000640ull + ((uint64_t)idx << 36) + (uint64_t)i * 0x801000ull;
    rng_seed(&t->rng, seed, ((uint64_t)idx << 32) | (uint64_t)i);
    if (i == 0) {
      t->role = ROLE_MAIN;
    } else if (i <= compute) {
      t->role = ROLE_COMPUTE;
      t->routine = fake_addr((const void *)(uintptr_t)compute_worker);
    } else {
      int k = i - compute - 1; /* 0.. 4 * groups - 1 */
      t->q = &p->queues[k / 4];
      t->role = k % 4 == 0 ? ROLE_PRODUCER : ROLE_CONSUMER;
      t->routine = fake_addr((const void *)(uintptr_t)(t->role == ROLE_PRODUCER ? producer_main : consumer_main));
    }
  }
}

static void proc_finish(Proc *p, uint64_t seed) {
  WeftFileHeader h;
  memset(&h, 0, sizeof h);
  weft_enc_header_begin(&h, WEFT_CLOCK_TSC);
  h.features = WEFT_FEAT_STACKS_CONTENDED | WEFT_FEAT_SCHEDSTAT;
  h.pid = p->pid;
  h.ppid = p->ppid;
  h.image = 0;
  h.ncpus = 64;
  h.session = 0x5e55000000000000ull | (seed & 0xffffffffffffull);
  h.start_tsc = p->start_tick;
  h.start_ns = tick_ns(p->start_tick);
  h.tsc_hz = TSC_HZ;
  h.realtime_ns = 1767225600000000000ull + tick_ns(p->start_tick);
  weft_enc_header_seal(&h);
  unsigned char page[WEFT_FILE_HEADER_SIZE];
  memset(page, 0, sizeof page);
  memcpy(page, &h, sizeof h);
  xpwrite(p, page, sizeof page, 0);
  if (ftruncate(p->fd, (off_t)p->next_off) != 0) die("%s: %s", p->path, strerror(errno));
  if (close(p->fd) != 0) die("%s: %s", p->path, strerror(errno));
}

static void usage(FILE *f) {
  fprintf(f, "usage: gen-recording [--events N] [--threads T] [--processes P] [--seed S] [--json] [--force] OUTDIR\n"
             "  Writes a synthetic recording of about N records (default 1000000) made by T threads\n"
             "  (default 64) in P processes (default 1) into OUTDIR, as PID.0.wtrace files.\n");
}

int main(int argc, char **argv) {
  static const struct option opts[] = {{"events", required_argument, NULL, 'e'},
                                       {"threads", required_argument, NULL, 't'},
                                       {"processes", required_argument, NULL, 'p'},
                                       {"seed", required_argument, NULL, 's'},
                                       {"json", no_argument, NULL, 'j'},
                                       {"force", no_argument, NULL, 'f'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
  uint64_t events = 1000000, seed = 1;
  long threads = 64, procs = 1;
  int json = 0, force = 0, c;
  char *end;
  while ((c = getopt_long(argc, argv, "e:t:p:s:jfh", opts, NULL)) != -1) {
    switch (c) {
      case 'e':
        events = strtoull(optarg, &end, 10);
        if (*end || !events) die("bad --events: %s", optarg);
        break;
      case 't':
        threads = strtol(optarg, &end, 10);
        if (*end || threads < 2 || threads > 100000) die("bad --threads: %s (2 to 100000)", optarg);
        break;
      case 'p':
        procs = strtol(optarg, &end, 10);
        if (*end || procs < 1 || procs > 1000) die("bad --processes: %s (1 to 1000)", optarg);
        break;
      case 's':
        seed = strtoull(optarg, &end, 10);
        if (*end) die("bad --seed: %s", optarg);
        break;
      case 'j': json = 1; break;
      case 'f': force = 1; break;
      case 'h': usage(stdout); return 0;
      default: usage(stderr); return 2;
    }
  }
  if (optind != argc - 1) {
    usage(stderr);
    return 2;
  }
  if (threads < 2 * procs) die("need at least 2 threads per process");
  const char *dir = argv[optind];
  if (mkdir(dir, 0755) != 0 && errno != EEXIST) die("%s: %s", dir, strerror(errno));
  /* a recording directory holds one recording: old trace files would join it */
  DIR *d = opendir(dir);
  if (!d) die("%s: %s", dir, strerror(errno));
  for (struct dirent *de; (de = readdir(d));) {
    size_t l = strlen(de->d_name);
    if (l < 7 || strcmp(de->d_name + l - 7, ".wtrace")) continue;
    if (!force) die("%s already holds trace files (use --force to replace them)", dir);
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    if (unlink(path) != 0) die("%s: %s", path, strerror(errno));
  }
  closedir(d);

  dl_iterate_phdr(phdr_cb, NULL);
  if (!realpath("/proc/self/exe", exe_path)) snprintf(exe_path, sizeof exe_path, "%s", argv[0]);

  G.nprocs = (int)procs;
  G.procs = xcalloc((size_t)procs, sizeof(Proc));
  for (int i = 0; i < G.nprocs; i++)
    proc_init(&G.procs[i], i, (int)(threads / procs) + (i < threads % procs ? 1 : 0), seed, dir);
  /* stop early enough that the shutdown records end near the target */
  uint64_t tail = 0;
  for (int i = 0; i < G.nprocs; i++) tail += 12 * (uint64_t)G.procs[i].nthreads + 3 * (uint64_t)G.procs[i].ntable + 20;
  G.stop_at = events > tail ? events - tail : 0;

  G.first_tick = TICK0 + US(1000);
  proc_start_main(&G.procs[0], G.first_tick);
  while (G.nheap) {
    HeapEnt e = heap_pop();
    if (!G.stop && G.records >= G.stop_at) G.stop = 1;
    step(e.t, e.tick);
  }
  uint64_t bytes = 0;
  for (int i = 0; i < G.nprocs; i++) {
    Proc *p = &G.procs[i];
    for (int j = 0; j < p->nthreads; j++)
      if (!p->thr[j]->exited) die("internal: thread %u never ended (deadlock)", p->thr[j]->tid);
    proc_finish(p, seed);
    bytes += p->next_off;
  }
  double secs = (double)(G.last_tick - G.first_tick) / (double)TSC_HZ;
  uint64_t record_bytes = G.trace_bytes - 32 * G.chunks; /* the records alone, as trace-size counts them */
  if (json)
    printf("{\"records\": %" PRIu64 ", \"files\": %d, \"threads\": %ld, \"file_bytes\": %" PRIu64
           ", \"record_bytes\": %" PRIu64 ", \"chunks\": %" PRIu64 ", \"acquisitions\": %" PRIu64
           ", \"contended\": %" PRIu64 ", \"cond_waits\": %" PRIu64 ", \"signals\": %" PRIu64
           ", \"barrier_rounds\": %" PRIu64 ", \"time_records\": %" PRIu64 ", \"simulated_s\": %.3f, \"seed\": %" PRIu64
           "}\n",
           G.records, G.nprocs, threads, bytes, record_bytes, G.chunks, G.acq, G.contended, G.cond_waits, G.signals,
           G.barrier_rounds, G.time_records, secs, seed);
  else
    printf("%s: %" PRIu64 " records, %d files, %ld threads, %" PRIu64 " bytes (%.1f B/record used)\n"
           "  %" PRIu64 " lock acquisitions (%.1f %% contended), %" PRIu64 " cond waits, %" PRIu64 " signals, %" PRIu64
           " barrier rounds, %.3f s simulated\n",
           dir, G.records, G.nprocs, threads, bytes, (double)record_bytes / (double)(G.records ? G.records : 1), G.acq,
           100.0 * (double)G.contended / (double)(G.acq ? G.acq : 1), G.cond_waits, G.signals, G.barrier_rounds, secs);
  return 0;
}
