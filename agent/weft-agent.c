/* weft-agent.c - start-up, the trace file, chunks, threads and process exit.
 * SPDX-License-Identifier: MIT
 *
 * Configuration (environment, read once in the constructor):
 *   WEFT_OUTPUT   directory for the trace files (required; untraced without it)
 *   WEFT_STACKS   none | contended (default) | all
 *   WEFT_IO       1 to record blocking poll/select/epoll/read/recv waits (sleeps: always)
 *   WEFT_CLOCK    tsc (default where invariant) | monotonic
 *   WEFT_SESSION  recording id (hex), set by `weft record`; a process started
 *                 without it picks one and puts it into its environment, so
 *                 that each run is a recording of its own and its children
 *                 (which inherit the variable) are part of it
 *   WEFT_BUFFER_KB  largest chunk a thread takes at once (default 1024)
 *   WEFT_HOLDS    contended (default: holds someone waited for, counts for the
 *                 rest) | all (every hold timed and recorded)
 *   WEFT_HOLD_SAMPLE  one uncontended hold in N is timed (default 64; 0: none)
 */
#include "weft-agent-private.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/* glibc's functions behind pthread_atfork and atexit (LSB; theirs live in
 * libc_nonshared.a), and this object's handle for them */
extern int __register_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void), void *dso);
extern int __cxa_atexit(void (*fn)(void *), void *arg, void *dso);
extern void *__dso_handle __attribute__((visibility("hidden")));

__thread WeftThread _weft_tls __attribute__((tls_model("initial-exec")));
/* (within one page: a fork child's writes to it are one page copy) */
WeftProcess _weft_proc __attribute__((aligned(512))) = {.fd = -1};
_Static_assert(sizeof(WeftProcess) <= 512, "WeftProcess fits in its alignment: never across two pages");
/* in .data, beside _weft_proc: its first page is written at start anyway */
WeftStartState _weft_start __attribute__((section(".data")));

/* The main thread's first chunk is mapped with the header; another thread's
 * first chunk is a small one from a slab (most threads of a pool write
 * little); each next one doubles, up to chunk_max. Chunks from
 * WEFT_POPULATE_MIN up are faulted in at once. */
#define WEFT_CHUNK_FIRST         (16u << 10)
#define WEFT_CHUNK_SMALL         4096u
#define WEFT_FLUSH_MS            50u /* counters and schedstat: every 50 ms of a thread's work */
#define WEFT_HOLD_SAMPLE_DEFAULT 64u
#define WEFT_POPULATE_MIN        (256u << 10)
static uint32_t chunk_max = 1u << 20;
static pthread_key_t exit_key WEFT_START_DATA;
static int exit_key_ok WEFT_START_DATA;

/* ---- live thread registry: tid and pthread_t of every thread we know ---- */
#define WEFT_REG_SLOTS 4096
typedef struct {
  _Atomic uint32_t tid;
  _Atomic uint64_t self;
  WeftThread *t;
} WeftRegSlot;
/* (the first few, the main thread's among them, in .data: WEFT_START_DATA) */
#define WEFT_REG_NEAR 4
static WeftRegSlot registry_near[WEFT_REG_NEAR] WEFT_START_DATA;
static WeftRegSlot registry_far[WEFT_REG_SLOTS - WEFT_REG_NEAR];
static inline WeftRegSlot *reg_at(int i) {
  return i < WEFT_REG_NEAR ? &registry_near[i] : &registry_far[i - WEFT_REG_NEAR];
}
static _Atomic int registry_hi WEFT_START_DATA; /* slots at and above are unused */

WEFT_START_CODE static int registry_add(WeftThread *t) {
  for (int i = 0; i < WEFT_REG_SLOTS; i++) {
    uint32_t expect = 0;
    if (atomic_load_explicit(&reg_at(i)->tid, memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong(&reg_at(i)->tid, &expect, t->tid)) {
      reg_at(i)->t = t;
      atomic_store(&reg_at(i)->self, t->self);
      int hi = atomic_load(&registry_hi);
      while (hi < i + 1 && !atomic_compare_exchange_weak(&registry_hi, &hi, i + 1)) {}
      return i;
    }
  }
  return -1;
}

static void registry_del(WeftThread *t) {
  if (t->slot >= 0) {
    atomic_store(&reg_at(t->slot)->self, 0);
    atomic_store(&reg_at(t->slot)->tid, 0);
    t->slot = -1;
  }
}

uint32_t _weft_tid_of(pthread_t th) {
  int hi = atomic_load_explicit(&registry_hi, memory_order_relaxed);
  for (int i = 0; i < hi; i++)
    if (atomic_load_explicit(&reg_at(i)->self, memory_order_relaxed) == (uint64_t)th)
      return atomic_load_explicit(&reg_at(i)->tid, memory_order_relaxed);
  return 0;
}

pid_t _weft_gettid(void) { return (pid_t)weft_sys0(SYS_gettid); }
WEFT_START_CODE int _weft_one_thread(void) { return atomic_load(&registry_hi) <= 1; }

/* The calling thread's counters, and those of every other live thread on
 * their behalf (process exit, exec: they will not write them). */
WEFT_START_CODE void _weft_counts_flush_all(int how) {
  WeftThread *me = &_weft_tls;
  _weft_counts_flush(me, WEFT_FLUSH_OWN);
  int hi = atomic_load(&registry_hi);
  for (int i = 0; i < hi; i++) {
    WeftThread *o = reg_at(i)->t;
    if (atomic_load(&reg_at(i)->tid) && o && o != me) _weft_counts_flush(o, how);
  }
}

/* ---- small helpers with no libc state ---- */
WEFT_START_CODE static size_t str_copy(char *dst, size_t cap, const char *src) {
  size_t n = 0;
  if (cap == 0) return 0;
  while (src && src[n] && n + 1 < cap) {
    dst[n] = src[n];
    n++;
  }
  dst[n] = 0;
  return n;
}

WEFT_START_CODE static size_t fmt_u64(char *dst, uint64_t v) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++) dst[i] = tmp[n - 1 - i];
  dst[n] = 0;
  return n;
}

static void say(const char *a, const char *b, const char *c);
void _weft_say(const char *a, const char *b, const char *c) { say(a, b, c); }

static void say(const char *a, const char *b, const char *c) {
  /* one line on stderr, no stdio (we may run before it is set up, or inside a wrapper) */
  char buf[4600];
  size_t n = str_copy(buf, sizeof buf, "weft: ");
  n += str_copy(buf + n, sizeof buf - n, a);
  n += str_copy(buf + n, sizeof buf - n, b);
  n += str_copy(buf + n, sizeof buf - n, c);
  if (n < sizeof buf - 1) buf[n++] = '\n';
  long w = syscall(SYS_write, 2, buf, n); /* not our write() wrapper */
  (void)w;
}

/* "running untraced": once per recording, not once per process image. The
 * first image to say it leaves WEFT_UNTRACED_NOTED in its environment (only
 * from weft_agent_init, where setenv is safe), and its descendants stay
 * quiet. */
static int init_running WEFT_START_DATA;
static void say_untraced(const char *a, const char *b, const char *c) {
  const char *noted = getenv("WEFT_UNTRACED_NOTED");
  if (noted && *noted) return;
  say(a, b, c);
  if (init_running) setenv("WEFT_UNTRACED_NOTED", "1", 1);
}

/* The executable's path (readlink of /proc/self/exe, once per process image). */
WEFT_START_CODE const char *_weft_self_exe(size_t *len) {
  /* (a usual path in .data, a long one read again into .bss: WEFT_START_DATA) */
  static char near[256] WEFT_START_DATA, far[1024];
  static char *exe WEFT_START_DATA;
  static size_t n WEFT_START_DATA;
  char *p = __atomic_load_n(&exe, __ATOMIC_ACQUIRE);
  if (!p) { /* (published last: a signal handler meanwhile reads the link itself) */
    p = near;
    ssize_t r = readlink("/proc/self/exe", near, sizeof near - 1);
    if (r >= (ssize_t)sizeof near - 1) r = readlink("/proc/self/exe", p = far, sizeof far - 1);
    size_t k = r > 0 ? (size_t)r : 0;
    p[k] = 0;
    n = k;
    __atomic_store_n(&exe, p, __ATOMIC_RELEASE);
  }
  if (len) *len = n;
  return p;
}

/* ---- the trace file ---- */
static int tsc_usable(void) {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (__get_cpuid(0x80000000u, &a, &b, &c, &d) && a >= 0x80000007u && __get_cpuid(0x80000007u, &a, &b, &c, &d) &&
      (d & (1u << 8)))
    return 1; /* invariant TSC */
#endif
  return 0;
}

/* The TSC rate the CPU or the hypervisor announces (0: none). Asked once
 * per process image: CPUID traps to the hypervisor in a VM (1-2 us each),
 * and a fork child asks the same CPU again. */
static uint64_t tsc_hz_cached = ~0ull;
static uint64_t tsc_hz_cpuid(void);
static uint64_t tsc_hz_hint(void) {
  if (tsc_hz_cached == ~0ull) tsc_hz_cached = tsc_hz_cpuid();
  return tsc_hz_cached;
}

static uint64_t tsc_hz_cpuid(void) {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a, b, c, d;
  if (__get_cpuid(0, &a, &b, &c, &d) && a >= 0x15) {
    __cpuid(0x15, a, b, c, d);
    if (a && b && c) return (uint64_t)c * b / a;
  }
  /* KVM and VMware publish the TSC rate in a hypervisor leaf (kHz) */
  __cpuid(0x40000000u, a, b, c, d);
  if (a >= 0x40000010u) {
    __cpuid(0x40000010u, a, b, c, d);
    if (a) return (uint64_t)a * 1000;
  }
#endif
  return 0;
}

#define WEFT_PATH_MAX (sizeof _weft_start.trace_dir + 64)

/* DIR/PID.IMAGE.wtrace into path (WEFT_PATH_MAX bytes). */
WEFT_START_CODE static void trace_path(char *path, uint32_t image) {
  char num[24];
  size_t n = str_copy(path, WEFT_PATH_MAX, _weft_start.trace_dir);
  n += str_copy(path + n, WEFT_PATH_MAX - n, "/");
  fmt_u64(num, (uint64_t)_weft_proc.file_pid);
  n += str_copy(path + n, WEFT_PATH_MAX - n, num);
  n += str_copy(path + n, WEFT_PATH_MAX - n, ".");
  fmt_u64(num, image);
  n += str_copy(path + n, WEFT_PATH_MAX - n, num);
  str_copy(path + n, WEFT_PATH_MAX - n, ".wtrace");
}

/* Check that our fd still is our file (a program may close every fd, or dup2
 * over ours); reopen it by path if not. Returns the fd or -1. */
static int trace_fd(void) {
  struct stat st;
  int fd = _weft_proc.fd;
  if (fd >= 0 && fstat(fd, &st) == 0 && st.st_dev == _weft_proc.dev && st.st_ino == _weft_proc.ino) return fd;
  char path[WEFT_PATH_MAX];
  trace_path(path, _weft_proc.image);
  int nfd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (nfd < 0) return -1;
  int hfd = fcntl(nfd, F_DUPFD_CLOEXEC, 700);
  if (hfd >= 0) {
    close(nfd);
    nfd = hfd;
  }
  if (fstat(nfd, &st) != 0 || st.st_dev != _weft_proc.dev || st.st_ino != _weft_proc.ino) {
    close(nfd);
    return -1;
  }
  _weft_proc.fd = nfd;
  return nfd;
}

WEFT_START_CODE static int reserve_space(int fd, uint64_t off, uint64_t len) {
  /* Growing past the program's file size limit would raise SIGXFSZ, which
   * kills it: treat the limit as a full disk instead. */
  /* (system calls of our own here and in map_chunks_at: a fork child runs
   * them first, and each call into a page of libc it has not run yet is a
   * page fault) */
  struct rlimit rl;
  if (weft_sys4(SYS_prlimit64, 0, RLIMIT_FSIZE, NULL, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      off + len > (uint64_t)rl.rlim_cur)
    return -1;
  /* Real blocks now, so a full disk is an error here and never a SIGBUS later. */
  long r = weft_sys4(SYS_fallocate, fd, 0, off, len);
  if (r == 0) return 0;
  if (r != -EOPNOTSUPP) return -1;
  int cancel, rc; /* (a file system without fallocate: writes, which could be cancellation points) */
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
  rc = posix_fallocate(fd, (off_t)off, (off_t)len) == 0 ? 0 : -1;
  pthread_setcancelstate(cancel, NULL);
  return rc;
}

/* Create PID.N.wtrace with the first free N; map its header. */
/* The main thread's first chunk, reserved and mapped with the header (one
 * fallocate and one mmap at start-up instead of two each). */
static void *spare_chunk WEFT_START_DATA;

/* The fields of a header (a file's, or a fork child's PROCESS page) but the
 * magic and image. */
WEFT_START_CODE static void header_fill(WeftFileHeader *h, pid_t ppid, uint64_t features, uint32_t ncpus) {
  weft_enc_header_begin(h, _weft_proc.use_tsc ? WEFT_CLOCK_TSC : WEFT_CLOCK_MONOTONIC);
  h->features = (_weft_proc.stacks == WEFT_STACKS_ALL         ? WEFT_FEAT_STACKS_ALL
                 : _weft_proc.stacks == WEFT_STACKS_CONTENDED ? WEFT_FEAT_STACKS_CONTENDED
                                                              : 0) |
                (_weft_proc.io ? WEFT_FEAT_IO_WAITS : 0) | WEFT_FEAT_SCHEDSTAT | WEFT_FEAT_SCHED_BASE |
                WEFT_FEAT_COUNTERS | (_weft_proc.holds_all ? WEFT_FEAT_HOLDS_ALL : 0) | WEFT_AGENT_FEAT_FUTEX |
                features;
  h->pid = (uint32_t)_weft_proc.pid;
  h->ppid = (uint32_t)ppid;
  /* the CPUs this process may run on (one system call; sysconf reads a file), unless known: a fork
   * child's are its parent's */
  if (!ncpus) {
    cpu_set_t cs;
    CPU_ZERO(&cs); /* the system call writes the kernel's mask size only */
    long nc = syscall(SYS_sched_getaffinity, 0, sizeof cs, &cs) > 0 ? CPU_COUNT(&cs) : sysconf(_SC_NPROCESSORS_ONLN);
    ncpus = nc > 0 ? (uint32_t)nc : 0;
  }
  h->ncpus = _weft_proc.ncpus = ncpus;
  h->session = _weft_proc.session;
  int raw;
  uint64_t start_tsc, mono = weft_sync_pair(&start_tsc, &raw);
  h->start_tsc = start_tsc;
  h->start_ns = weft_host_ns(mono);
  /* the rate: the file's, when joining a file of this host's (CPUID traps in a VM), else the CPU's */
  const WeftFileHeader *r = _weft_proc.root;
  if (_weft_proc.use_tsc && tsc_hz_cached == ~0ull && r && r != h && r->clock == WEFT_CLOCK_TSC)
    tsc_hz_cached = r->tsc_hz;
  h->tsc_hz = _weft_proc.use_tsc ? tsc_hz_hint() : 1000000000ull;
  h->realtime_ns = _weft_realtime_ns(mono, raw);
  h->host_id = _weft_proc.host_id;
  memcpy(h->host_name, _weft_proc.host_name, sizeof h->host_name);
  h->hold_sample = _weft_proc.holds_all ? 1 : _weft_proc.hold_sample;
  h->flush_ms = WEFT_FLUSH_MS;
}

WEFT_START_CODE static int trace_open(pid_t ppid, uint64_t features) {
  char path[WEFT_PATH_MAX];
  int fd = -1;
  _weft_proc.file_pid = _weft_proc.pid;
  uint32_t image = 0;
  for (; image < 10000; image++) {
    trace_path(path, image);
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd >= 0 || errno != EEXIST) break;
  }
  if (fd < 0) {
    say_untraced("cannot create a trace file in WEFT_OUTPUT=", _weft_start.trace_dir,
                 errno == ENOENT   ? ": no such directory; running untraced"
                 : errno == EACCES ? ": permission denied; running untraced"
                                   : ": cannot write there; running untraced");
    return -1;
  }
  int hfd = fcntl(fd, F_DUPFD_CLOEXEC, 700); /* out of the program's way */
  if (hfd >= 0) {
    close(fd);
    fd = hfd;
  }
  struct stat st;
  const size_t first = WEFT_FILE_HEADER_SIZE + WEFT_CHUNK_FIRST;
  if (reserve_space(fd, 0, first) != 0 || fstat(fd, &st) != 0) {
    say_untraced("cannot write the trace file ", path, ": disk full or unwritable; running untraced");
    close(fd);
    unlink(path);
    return -1;
  }
  WeftFileHeader *h = mmap(NULL, first, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (h == MAP_FAILED) {
    close(fd);
    unlink(path);
    return -1;
  }
  madvise(h, first, 23 /* MADV_POPULATE_WRITE */);
  spare_chunk = (char *)h + WEFT_FILE_HEADER_SIZE;
  _weft_proc.image = image;
  _weft_proc.fd = fd;
  _weft_proc.dev = st.st_dev;
  _weft_proc.ino = st.st_ino;
  _weft_proc.hdr = _weft_proc.root = h;
  _weft_proc.section = 0;
  /* fork children write their sections here: the end is in the shared page */
  __atomic_store_n(&h->alloc_end, first, __ATOMIC_RELAXED);
  header_fill(h, ppid, features | WEFT_FEAT_SHARED_FILE, 0);
  h->image = image;
  weft_enc_header_seal(h);
  return 0;
}

/* ---- slabs of small first chunks ----
 * A thread's first chunk comes from a slab of them, reserved and mapped at
 * once and unmapped when the last of them is given up: a thread that writes
 * a few records costs no system call for its trace. A process's first two
 * slabs have 32 chunks, each next one twice as many up to 256: the unmapping
 * (a TLB flush, 4 us a thread on this VM with slabs of 32) is paid once per
 * 256 threads by a program that makes many, and one that makes a few
 * reserves little of the file. The current slab is one word: its base (page
 * aligned), its size (bits 9-11: log2 of chunks / 32) and the index of its
 * next free chunk (bits 0-8). Each slab has a slot in a ring, one word too:
 * its base, its size and the count of its chunks given up (bits 0-8),
 * changed only by compare-and-swap, so a chunk is counted against the very
 * slab it was found in (a slot the ring reused meanwhile fails the swap and
 * is read again). */
#define WEFT_SLAB_RING       256u
#define WEFT_SLAB_CHUNKS_MIN 32u
#define WEFT_SLAB_GROWTH     3u                 /* up to 32 << 3 = 256 chunks */
static _Atomic uintptr_t slabs[WEFT_SLAB_RING]; /* base | size << 9 | chunks given up */
static _Atomic uintptr_t slab_cur;              /* base | size << 9 | next index */
static _Atomic uint32_t slab_seq;
static _Atomic uint32_t slab_made; /* slabs made (up to WEFT_SLAB_GROWTH + 1), 0 after fork */

static int map_chunks_at(uint32_t size, void **m, int fresh);
static int map_chunks(uint32_t size, void **m) { return map_chunks_at(size, m, 0); }

#define SLAB_INDEX  511u /* a word's low bits: an index or a count, up to 256 */
#define SLAB_MAKING 511u /* the index while one thread makes the next slab */
static inline uint32_t slab_chunks(uintptr_t w) { return WEFT_SLAB_CHUNKS_MIN << (w >> 9 & 7); }

WEFT_START_CODE static void *slab_take(void) {
  for (;;) {
    uintptr_t w = atomic_load_explicit(&slab_cur, memory_order_acquire);
    uintptr_t base = w & ~(uintptr_t)4095, i = w & SLAB_INDEX;
    if (i == SLAB_MAKING) { /* another thread is making one (a fallocate and an mmap): wait for it */
      sched_yield();
      continue;
    }
    if (base && i < slab_chunks(w)) {
      if (atomic_compare_exchange_weak(&slab_cur, &w, w + 1)) return (void *)(base + i * WEFT_CHUNK_SMALL);
      continue;
    }
    /* none yet, or used up: this thread makes the next one */
    if (!atomic_compare_exchange_strong(&slab_cur, &w, base | SLAB_MAKING)) continue;
    void *m;
    uint32_t made = atomic_load_explicit(&slab_made, memory_order_relaxed);
    uint32_t g = made ? made - 1 : 0; /* 32, 32, 64, 128, 256, 256... chunks */
    int ok = map_chunks((WEFT_SLAB_CHUNKS_MIN << g) * WEFT_CHUNK_SMALL, &m) == 0;
    if (ok && made <= WEFT_SLAB_GROWTH) atomic_store_explicit(&slab_made, made + 1, memory_order_relaxed);
    if (!ok && g) { /* no room for a big slab: a small one */
      g = 0;
      ok = map_chunks(WEFT_SLAB_CHUNKS_MIN * WEFT_CHUNK_SMALL, &m) == 0;
    }
    if (!ok) { /* nor for a small one: one chunk */
      atomic_store_explicit(&slab_cur, w, memory_order_release);
      return map_chunks(WEFT_CHUNK_SMALL, &m) == 0 ? m : NULL;
    }
    uint32_t n = WEFT_SLAB_CHUNKS_MIN << g;
    /* one batched fault for all of them (Linux >= 5.14), not one each with
     * the readahead of a file fault */
    madvise(m, n * WEFT_CHUNK_SMALL, 23 /* MADV_POPULATE_WRITE */);
    /* (a slab still in use when the ring comes round to its slot again stays mapped) */
    atomic_store(&slabs[atomic_fetch_add(&slab_seq, 1) % WEFT_SLAB_RING], (uintptr_t)m | (uintptr_t)g << 9);
    atomic_store_explicit(&slab_cur, (uintptr_t)m | (uintptr_t)g << 9 | 1, memory_order_release);
    return m;
  }
}

/* A small chunk given up: the slab is unmapped with its last one. */
static void slab_give(void *chunk) {
  uintptr_t c = (uintptr_t)chunk;
  for (uint32_t i = 0; i < WEFT_SLAB_RING; i++) {
    uintptr_t w = atomic_load_explicit(&slabs[i], memory_order_acquire);
    for (;;) {
      uintptr_t b = w & ~(uintptr_t)4095;
      uint32_t n = slab_chunks(w);
      if (!b || c < b || c >= b + (uintptr_t)n * WEFT_CHUNK_SMALL) break;
      uintptr_t last = (w & SLAB_INDEX) + 1 == n, next = last ? 0 : w + 1;
      if (atomic_compare_exchange_weak_explicit(&slabs[i], &w, next, memory_order_acq_rel, memory_order_acquire)) {
        if (last) munmap((void *)b, (size_t)n * WEFT_CHUNK_SMALL);
        return;
      }
    }
  }
  munmap(chunk, WEFT_CHUNK_SMALL); /* mapped alone */
}

WEFT_START_CODE static void chunk_drop(WeftThread *t) {
  if (t->chunk && t->chunk_size == WEFT_CHUNK_SMALL)
    slab_give(t->chunk);
  else if (t->chunk)
    munmap(t->chunk, t->chunk_size);
  t->chunk = NULL;
  t->pos = t->end = NULL;
}

/* The file header's grow_lock, held while the file grows, by a thread of
 * any process writing into the file (fork children share their parent's:
 * the header page is a shared mapping). The end of the file moves only past
 * space fallocate really reserved: were offsets handed out first and
 * reserved after, a reservation that fails on a full disk while a later one
 * succeeds would leave a hole before that later chunk, and reading a hole
 * through a mapping on a full tmpfs is a SIGBUS. One fallocate per chunk (a
 * thread's chunks double up to WEFT_BUFFER_KB) is all it covers. The lock
 * word is the holder's thread id: a holder killed with the lock held (it is
 * held across one fallocate) is found dead and replaced. */
WEFT_START_CODE static void grow_lock_take(WeftFileHeader *r) {
  /* asked of the kernel: in a fork child's handler our copy is still the
   * parent's thread's, alive in the parent, so a child killed holding the
   * lock would never be found dead */
  uint32_t me = (uint32_t)weft_sys0(SYS_gettid);
  for (unsigned spins = 1;; spins++) {
    uint32_t cur = 0;
    if (__atomic_compare_exchange_n(&r->grow_lock, &cur, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
    if (spins % 256 == 0 && cur) {
      int saved = errno;
      int dead = syscall(SYS_kill, (long)cur, 0L) != 0 && errno == ESRCH;
      errno = saved;
      if (dead && __atomic_compare_exchange_n(&r->grow_lock, &cur, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
    }
    sched_yield();
  }
}

/* size bytes of new chunks at the end of the file, reserved and mapped.
 * fresh: where a process starts (a fork child's handler, the constructor),
 * its descriptor just inherited or opened (not checked: a system call and a
 * first call into a page of libc less per process). The system calls under
 * the lock are no cancellation points: a thread cancelled never holds it. */
WEFT_START_CODE static int map_chunks_at(uint32_t size, void **m, int fresh) {
  int fd = fresh ? _weft_proc.fd : trace_fd();
  WeftFileHeader *r = _weft_proc.root;
  if (fd < 0 || !r) return -1;
  grow_lock_take(r);
  uint64_t off = __atomic_load_n(&r->alloc_end, __ATOMIC_RELAXED);
  /* space a parent allocated ahead for the processes it starts (_weft_reserve_ahead) needs no fallocate */
  uint64_t ahead = (uint64_t)__atomic_load_n(&r->reserve_end, __ATOMIC_RELAXED) << 12;
  int rc = off + size <= ahead ? 0 : reserve_space(fd, off, size);
  if (rc == 0) __atomic_store_n(&r->alloc_end, off + size, __ATOMIC_RELAXED);
  __atomic_store_n(&r->grow_lock, 0, __ATOMIC_RELEASE);
  if (rc != 0) return -1; /* nothing mapped, the end where it was: the caller counts the records as lost */
  /* a failed mmap leaves reserved zero pages, which readers skip */
  long a = weft_sys6(SYS_mmap, 0, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (long)off);
  *m = (void *)a;
  return weft_sys_failed(a) ? -1 : 0;
}

/* Before this process starts another (fork, spawn, exec): room at the
 * file's end for two more processes' sections, allocated ahead in steps of a
 * quarter of the file (4 sections to 1 MiB), so that a new process takes its
 * section without a fallocate (20-40 us on ext4 here). The end of that space
 * is in the root header (reserve_end, writers only); a recording that ends
 * with some of it unused has zero pages at its end, which readers skip. Only
 * an optimization: nothing is waited for (the grow lock taken if free), and
 * errno is the program's. */
void _weft_reserve_ahead(void) {
  WeftFileHeader *r = _weft_proc.root;
  const uint64_t section = WEFT_FILE_HEADER_SIZE + WEFT_CHUNK_FIRST;
  if (!r || !atomic_load_explicit(&_weft_proc.enabled, memory_order_relaxed))
    return; /* (a parent: not a vfork child) */
  uint64_t at = __atomic_load_n(&r->alloc_end, __ATOMIC_RELAXED);
  if (((uint64_t)__atomic_load_n(&r->reserve_end, __ATOMIC_RELAXED) << 12) >= at + 2 * section) return;
  int saved = errno;
  weft_busy_enter(); /* (a signal handler's wrappers record nothing while we hold the lock) */
  int fd = trace_fd();
  uint32_t me = (uint32_t)weft_sys0(SYS_gettid), free_ = 0;
  if (fd >= 0 && __atomic_compare_exchange_n(&r->grow_lock, &free_, me, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
    at = __atomic_load_n(&r->alloc_end, __ATOMIC_RELAXED);
    uint64_t end = (uint64_t)__atomic_load_n(&r->reserve_end, __ATOMIC_RELAXED) << 12;
    if (end < at) end = at; /* (both multiples of WEFT_CHUNK_ALIGN, as every size handed out is) */
    if (end < at + 2 * section) {
      uint64_t step = at / 4 & ~(uint64_t)(WEFT_CHUNK_ALIGN - 1);
      step = step < 4 * section ? 4 * section : step > (1u << 20) ? (1u << 20) : step;
      if ((end + step) >> 12 <= UINT32_MAX && reserve_space(fd, end, step) == 0)
        __atomic_store_n(&r->reserve_end, (uint32_t)((end + step) >> 12), __ATOMIC_RELAXED);
    }
    __atomic_store_n(&r->grow_lock, 0, __ATOMIC_RELEASE);
  }
  weft_busy_leave();
  errno = saved;
}

/* Give t a fresh chunk. Returns 0, or -1 (disk full, file gone). */
WEFT_START_CODE static int chunk_new(WeftThread *t) {
  uint32_t size = t->next_size;
  void *m = NULL;
  if (!size) { /* the first: the main thread's spare, or a small one */
    m = __atomic_exchange_n(&spare_chunk, NULL, __ATOMIC_ACQ_REL);
    size = m ? WEFT_CHUNK_FIRST : WEFT_CHUNK_SMALL;
    if (!m && !(m = slab_take())) return -1;
  } else if (map_chunks(size, &m) != 0) {
    return -1;
  }
  /* Fault the whole chunk in with one call (Linux >= 5.14): one batched kernel
   * entry instead of a page fault every 256 records. Older kernels: ignored. */
  if (size >= WEFT_POPULATE_MIN) weft_sys3(SYS_madvise, m, size, 23 /* MADV_POPULATE_WRITE */);
  chunk_drop(t);
  uint64_t tick, ns = weft_host_ns(weft_sync_pair(&tick, NULL));
  size_t head = sizeof(WeftChunkHeader);
  if (_weft_proc.section) { /* a fork child's, in its parent's file: with our pid */
    weft_enc_child_chunk(m, size, t->tid, t->seq++, tick, ns, (uint32_t)_weft_proc.pid);
    head = sizeof(WeftChildChunkHeader);
  } else {
    weft_enc_chunk(m, size, t->tid, t->seq++, tick, ns);
  }
  t->chunk = m;
  t->chunk_size = size;
  t->pos = (uint64_t *)((char *)m + head);
  t->end = (uint64_t *)((char *)m + size);
  t->last = tick;
  t->next_size = size * 2 <= chunk_max ? size * 2 : chunk_max;
  return 0;
}

/* Write a record directly (slow paths only; the thread has a chunk with room). */
WEFT_START_CODE static uint64_t *raw_reserve(WeftThread *t, unsigned n, uint64_t now) {
  if (!t->pos || (size_t)(t->end - t->pos) < n) return NULL;
  uint64_t *p = t->pos;
  if (now - t->last > UINT32_MAX) {
    if ((size_t)(t->end - p) < n + 2u) return NULL;
    weft_enc_time(p, now);
    t->pos = p + 2;
    t->last = now;
    p = t->pos;
  }
  t->pos = p + n;
  return p;
}

/* /proc/PID/task of this process, opened once (a thread's schedstat is then
 * one short path away, not five); -1 until then, and again after fork. A
 * program that closes or reuses the descriptor makes openat fail: it is
 * opened again. */
static int task_dirfd = -1;
static pid_t task_dir_pid WEFT_START_DATA;

static int open_task_dir(void) {
  int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  int hfd = fcntl(fd, F_DUPFD_CLOEXEC, 700); /* out of the program's way */
  if (hfd >= 0) {
    close(fd);
    fd = hfd;
  }
  return fd;
}

/* own: tid is the calling thread; a main thread's file is one path away
 * without the task directory (a new fork child reads only its own: at its
 * end); another thread opens the directory once, for every thread's end. */
WEFT_START_CODE static int read_schedstat(uint32_t tid, int own, uint64_t v[3]) {
  char path[64], buf[96];
  size_t n = fmt_u64(path, tid);
  str_copy(path + n, sizeof path - n, "/schedstat");
  /* (system calls of our own: no errno to save, no wrapper of ours, no
   * page of libc a new fork child has not run yet) */
  int dfd = task_dirfd, fd = -1;
  if (dfd >= 0 && task_dir_pid == _weft_proc.pid) /* (a shorter walk than thread-self's: 3 us less here) */
    fd = (int)weft_sys4(SYS_openat, dfd, path, O_RDONLY | O_CLOEXEC, 0);
  else if (own && tid == (uint32_t)_weft_proc.pid) /* a main thread: maybe a fork child's one reading */
    fd = (int)weft_sys4(SYS_openat, AT_FDCWD, "/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    int nd = open_task_dir();
    if (nd < 0) return -1;
    /* two threads may race here: the loser's descriptor is closed */
    if (__atomic_compare_exchange_n(&task_dirfd, &dfd, nd, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
      task_dir_pid = _weft_proc.pid;
    } else {
      close(nd);
      nd = dfd;
    }
    fd = (int)weft_sys4(SYS_openat, nd, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
  }
  long r = weft_sys3(SYS_read, fd, buf, sizeof buf - 1);
  weft_sys3(SYS_close, fd, 0, 0);
  if (r <= 0) return -1;
  buf[r] = 0;
  const char *s = buf;
  for (int i = 0; i < 3; i++) {
    uint64_t x = 0;
    while (*s == ' ') s++;
    if (*s < '0' || *s > '9') return -1;
    while (*s >= '0' && *s <= '9') x = x * 10 + (uint64_t)(*s++ - '0');
    v[i] = x;
  }
  return 0;
}

/* SYNC point plus the SCHED reading of thread tid, into the calling thread's
 * chunk; aux: WEFT_SCHED_BASELINE for a main thread's reading at its image's start. */
WEFT_START_CODE static void sample(WeftThread *t, uint32_t tid, unsigned aux) {
  uint64_t v[3];
  int *ep = weft_errno_p(t), saved = *ep;
  int have = read_schedstat(tid, tid == t->tid, v) == 0;
  /* schedstat shows a running thread's CPU time as of its last tick or
   * switch (up to a tick behind); its own CPU clock is exact */
  struct timespec cts;
  if (have && tid == t->tid &&
      weft_sys6(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, (long)(uintptr_t)&cts, 0, 0, 0, 0) == 0) {
    /* (a system call of our own: the vDSO makes one for this clock, through a page of libc) */
    uint64_t c = (uint64_t)cts.tv_sec * 1000000000u + (uint64_t)cts.tv_nsec;
    if (c > v[0]) v[0] = c;
  }
  *ep = saved;
  int raw;
  uint64_t now, mono = weft_sync_pair(&now, &raw);
  uint64_t *p = raw_reserve(t, 4, now);
  if (p) { /* with the wall clock: an anchor between hosts (version 6) */
    weft_enc_sync(p, now, weft_host_ns(mono));
    p[3] = _weft_realtime_ns(mono, raw);
    weft_enc_publish(p, WEFT_EV_SYNC, 4, 0, now - t->last);
    t->last = now;
  }
  if (!have) return;
  now = weft_ticks();
  p = raw_reserve(t, 5, now);
  if (p) {
    weft_enc_sched(p, tid, v[0], v[1], v[2]);
    weft_enc_publish(p, WEFT_EV_SCHED, 5, aux, now - t->last);
    t->last = now;
  }
}

WEFT_START_CODE void _weft_sched_sample(uint32_t tid) {
  WeftThread *t = &_weft_tls;
  weft_busy_enter();
  sample(t, tid, 0);
  weft_busy_leave();
}

static void thread_activate(WeftThread *t);

WEFT_START_CODE uint64_t *_weft_reserve_slow(WeftThread *t, unsigned n, uint64_t *nowp) {
  uint64_t now = *nowp;
  if (WEFT_UNLIKELY(t->pending != NULL)) _weft_pending_abandon(t); /* before anything else in the chunk */
  if (!atomic_load_explicit(&_weft_proc.enabled, memory_order_relaxed) || t->busy) return NULL;
  if (WEFT_UNLIKELY(t->state != WEFT_T_ACTIVE || t->gen != _weft_proc.gen)) {
    if (t->state == WEFT_T_DONE && t->gen == _weft_proc.gen && t->pos == NULL) return NULL;
    thread_activate(t); /* a thread we did not see start (or the first record after fork) */
  }
  int *ep = weft_errno_p(t), saved = *ep;
  weft_busy_enter();
  uint64_t *p = NULL;
  if (t->pos == NULL || (size_t)(t->end - t->pos) < n + 16u) {
    /* out of room: a new chunk, or count the loss (retrying now and then) */
    if (t->lost && t->lost < t->retry_at) {
      t->lost++;
      goto out;
    }
    if (chunk_new(t) != 0) {
      t->lost++;
      t->retry_at = t->lost + 4096;
      goto out;
    }
  }
  if (t->lost) {
    uint64_t tick = weft_ticks();
    uint64_t *q = raw_reserve(t, 2, tick);
    if (q) {
      q[1] = t->lost;
      weft_enc_publish(q, WEFT_EV_LOST, 2, 0, tick - t->last);
      t->last = tick;
      t->lost = 0;
    }
  }
  if (now >= t->next_sample) {
    sample(t, t->tid, 0);
    t->next_sample = weft_ticks() + _weft_proc.sample_ticks;
    t->flush_due = 1; /* the counters at the next timed operation (not from inside a record) */
  }
  *nowp = weft_ticks();         /* after the work above: the caller stamps its record with it */
  p = raw_reserve(t, n, *nowp); /* writes a TIME record first if needed */
  if (!p) t->lost++;
out:
  weft_busy_leave();
  *ep = saved;
  return p;
}

void _weft_emit_str(unsigned type, unsigned aux, const uint64_t *fixed, unsigned nfixed, const char *s1,
                    const char *s2) {
  WeftThread *t = &_weft_tls;
  size_t l1 = s1 ? strnlen(s1, 1500) : 0;
  size_t l2 = s2 ? strnlen(s2, 400) : 0;
  unsigned n = weft_enc_str_nwords(nfixed, l1 + 1 + (s2 ? l2 + 1 : 0));
  if (n > WEFT_RECORD_MAX_WORDS) return;
  uint64_t now = weft_ticks();
  uint64_t *p = weft_reserve(t, n, &now);
  if (!p) return;
  weft_enc_words(p, 1 + nfixed, fixed);
  char *s = weft_enc_str_put(weft_enc_str_area(p, nfixed, n), s1, l1);
  if (s2) weft_enc_str_put(s, s2, l2);
  weft_publish(t, p, type, n, aux, now);
}

/* ---- threads ---- */
/* Forget everything but busy and the exit bookkeeping of the wrappers: a new
 * thread, or the state a fork child inherited (the parent's chunk is not ours). */
WEFT_START_CODE static void thread_reset(WeftThread *t) {
  _weft_count_reset(t);
  _weft_stack_cache_reset(t, 0); /* a fork child: the parent's stack ids are not ours */
  t->pos = t->end = NULL;
  t->pending = NULL;
  t->chunk = NULL;
  t->chunk_size = 0;
  t->next_size = 0;
  t->seq = 0;
  t->lost = 0;
  t->retry_at = 0;
  t->exited = 0;
  t->slot = -1;
  t->state = WEFT_T_NEW;
  t->gen = _weft_proc.gen;
}

/* The calling thread's id, self its descriptor (pthread_self): glibc keeps
 * the id there (struct pthread's tid, 720 bytes in on x86_64 since glibc
 * 2.26, updated in a fork child). Read from there once it has matched
 * gettid() twice (the first two threads to start), never after a mismatch:
 * a system call less per thread. */
#define WEFT_PTHREAD_TID_OFF 720
static int tid_trust WEFT_START_DATA; /* 0, 1: matches so far; 2: trusted; -1: not to be used */

WEFT_START_CODE static uint32_t self_tid(uint64_t self) {
#if defined(__x86_64__) && defined(__GLIBC__)
  int k = __atomic_load_n(&tid_trust, __ATOMIC_RELAXED);
  pid_t v = self ? *(const volatile pid_t *)(uintptr_t)(self + WEFT_PTHREAD_TID_OFF) : 0;
  if (k >= 2 && v > 0) return (uint32_t)v;
  pid_t real = (pid_t)weft_sys0(SYS_gettid);
  if (k >= 0 && k < 2) __atomic_store_n(&tid_trust, v == real ? k + 1 : -1, __ATOMIC_RELAXED);
  return (uint32_t)real;
#else
  (void)self;
  return (uint32_t)weft_sys0(SYS_gettid);
#endif
}

WEFT_START_CODE static void thread_activate(WeftThread *t) {
  if (t->gen != _weft_proc.gen) thread_reset(t);
  if (t->state == WEFT_T_NEW) {
    t->state = WEFT_T_ACTIVE;
    if (!t->self) t->self = (uint64_t)pthread_self(); /* (a fork child has its parent's thread's: its own) */
    t->tid = self_tid(t->self);
    weft_errno_p(t);
    /* the first chunk's header is a sync point; schedstat comes later (at
     * 50 ms of activity, and at the thread's end) */
    t->next_sample = weft_ticks() + _weft_proc.sample_ticks;
    t->slot = registry_add(t);
    if (exit_key_ok && !t->key_set) /* (a fork child's is set: its parent's thread's copied) */
      t->key_set = pthread_setspecific(exit_key, t) == 0;
  }
}

WEFT_START_CODE void _weft_thread_begin(uint64_t routine, uint32_t creator, int is_main) {
  WeftThread *t = &_weft_tls;
  if (!atomic_load(&_weft_proc.enabled)) return;
  thread_reset(t);
  weft_busy_enter();
  thread_activate(t);
  weft_busy_leave();
  weft_emit3(WEFT_EV_THREAD_START, is_main ? 1 : 0, t->self, routine, creator);
}

void _weft_thread_end(unsigned how) {
  WeftThread *t = &_weft_tls;
  if (t->state != WEFT_T_ACTIVE || t->gen != _weft_proc.gen || t->exited) return;
  if (!atomic_load(&_weft_proc.enabled)) return;
  t->exited = 1;
  _weft_counts_flush(t, 0);
  weft_emit1(WEFT_EV_THREAD_EXIT, how, t->self);
  weft_busy_enter();
  if (t->pos) sample(t, t->tid, 0);
  if (t->lost && _weft_proc.hdr) __atomic_fetch_add(&_weft_proc.hdr->lost, t->lost, __ATOMIC_RELAXED);
  t->lost = 0;
  registry_del(t);
  weft_busy_leave();
  /* Keep the chunk mapped: destructors of other keys may still lock and unlock. */
}

static void exit_key_destructor(void *p) {
  WeftThread *t = &_weft_tls;
  (void)p;
  _weft_thread_end(t->exit_how);
  chunk_drop(t);
  _weft_count_thread_free(t);
  _weft_stack_cache_reset(t, 1);
  t->state = WEFT_T_DONE;
  t->key_set = 0; /* (glibc cleared it) */
}

/* ---- process exit ---- */
WEFT_START_CODE void _weft_process_exit(unsigned how, int status) {
  if (!atomic_load(&_weft_proc.enabled) || _weft_is_vfork_child()) return;
  int expect = 0;
  if (!atomic_compare_exchange_strong(&_weft_proc.exit_written, &expect, 1)) return;
  WeftThread *t = &_weft_tls;
  int *ep = weft_errno_p(t), saved = *ep;
  /* The last thread to end (after main's pthread_exit) ends the process from
   * inside its own exit: it has written THREAD_EXIT and given up its chunk. */
  if (t->state == WEFT_T_DONE) t->state = WEFT_T_NEW;
  /* CPU time and counts of every thread still alive, read from here */
  _weft_counts_flush_all(WEFT_FLUSH_FOR_GOOD);
  int hi = atomic_load(&registry_hi);
  for (int i = 0; i < hi; i++) {
    uint32_t tid = atomic_load(&reg_at(i)->tid);
    uint64_t self = atomic_load(&reg_at(i)->self);
    if (!tid || tid == t->tid) continue;
    WeftThread *o = reg_at(i)->t;
    /* the records it could not write (disk full): it will not end to count them itself */
    uint64_t lost = o ? __atomic_exchange_n(&o->lost, 0, __ATOMIC_RELAXED) : 0;
    if (lost && _weft_proc.hdr) __atomic_fetch_add(&_weft_proc.hdr->lost, lost, __ATOMIC_RELAXED);
    _weft_sched_sample(tid);
    /* written on its behalf: w1 names the thread (the record's tid is ours) */
    weft_emit1(WEFT_EV_THREAD_EXIT, WEFT_EXIT_AT_PROCESS_EXIT, self);
  }
  _weft_sched_sample(t->tid ? t->tid : (uint32_t)_weft_gettid());
  weft_busy_enter();
  _weft_modules_scan(0);
  weft_busy_leave();
  weft_emit1(WEFT_EV_EXIT, how, (uint64_t)(int64_t)status);
  if (t->lost && _weft_proc.hdr) __atomic_fetch_add(&_weft_proc.hdr->lost, t->lost, __ATOMIC_RELAXED);
  t->lost = 0;
  *ep = saved;
}

WEFT_START_CODE int _weft_is_vfork_child(void) {
  /* A vfork child shares our memory (and this thread's TLS): touch nothing. */
  return _weft_proc.pid != 0 && (pid_t)weft_sys0(SYS_getpid) != _weft_proc.pid;
}

WEFT_START_CODE static void at_exit_handler(void *unused) {
  (void)unused;
  _weft_process_exit(WEFT_PEXIT_RETURN, 0);
}

/* ---- process start ---- */
WEFT_START_CODE static void process_info(void) {
  /* argv as the constructor got it, else from /proc/self/cmdline; the executable */
  char buf[1600];
  size_t n = 0;
  uint64_t argc = 0;
  if (_weft_start.argv) {
    for (int i = 0; i < _weft_start.argc && _weft_start.argv[i]; i++) {
      size_t l = 0; /* strnlen, without a call into a page of libc a fork child has not touched */
      while (l < sizeof buf && _weft_start.argv[i][l]) l++;
      if (n + l + 1 > sizeof buf - 1) break;
      memcpy(buf + n, _weft_start.argv[i], l + 1);
      n += l + 1;
      argc++;
    }
  } else {
    int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    ssize_t r = 0;
    if (fd >= 0) {
      r = read(fd, buf, sizeof buf - 1);
      close(fd);
    }
    n = r > 0 ? (size_t)r : 0;
    for (size_t i = 0; i < n; i++)
      if (buf[i] == 0) argc++;
  }
  buf[n] = 0;
  size_t el;
  const char *exe = _weft_self_exe(&el);
  /* argv strings are already NUL-separated: pass them as one blob */
  WeftThread *t = &_weft_tls;
  unsigned words = weft_enc_str_nwords(1, n + el + 1);
  if (words > WEFT_RECORD_MAX_WORDS) return;
  uint64_t now = weft_ticks();
  uint64_t *p = weft_reserve(t, words, &now);
  if (!p) return;
  p[1] = weft_enc_process_w1((uint32_t)argc, _weft_proc.hdr->image);
  char *s = weft_enc_str_area(p, 1, words);
  memcpy(s, buf, n); /* argv: NUL-separated already */
  weft_enc_str_put(s + n, exe, el);
  weft_publish(t, p, WEFT_EV_PROCESS_INFO, words, 0, now);
}

WEFT_START_CODE uint64_t _weft_parse_hex(const char *s, const char **end) {
  uint64_t v = 0;
  for (; s && *s; s++) {
    int d = *s >= '0' && *s <= '9'   ? *s - '0'
            : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
            : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
                                     : -1;
    if (d < 0) break;
    v = v * 16 + (uint64_t)d;
  }
  if (end) *end = s;
  return v;
}

WEFT_START_CODE void _weft_hex16(char out[17], uint64_t v) {
  for (int i = 0; i < 16; i++) out[i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
  out[16] = 0;
}

WEFT_START_CODE uint64_t _weft_fnv1a(uint64_t h, const void *p, size_t n) {
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++) {
    h ^= b[i];
    h *= 1099511628211ull;
  }
  return h;
}

/* WEFT_SESSION, or a new session id for a run started without one (an
 * LD_PRELOAD run by hand): the variable is set for the children, so a whole
 * process tree shares the id, and two runs into one directory do not. */
WEFT_START_CODE static uint64_t session_id(void) {
  uint64_t v = _weft_parse_hex(getenv("WEFT_SESSION"), NULL);
  if (v) return v;
  if (syscall(SYS_getrandom, &v, sizeof v, 1 /* GRND_NONBLOCK */) != (long)sizeof v || !v)
    v = weft_mono_ns() ^ ((uint64_t)_weft_proc.pid << 40) ^ (uint64_t)(uintptr_t)&v;
  if (!v) v = 1;
  char hex[17];
  _weft_hex16(hex, v);
  setenv("WEFT_SESSION", hex, 1);
  return v;
}

static int self_range_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  uintptr_t me = (uintptr_t)data;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
    uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (me >= lo && me < hi) {
      _weft_proc.self_lo = lo;
      _weft_proc.self_hi = hi;
      return 1;
    }
  }
  return 0;
}

/* A process's section in its tree's file (version 7; a fork child's, or an
 * exec'd image's that joined the file): a PROCESS page and its main thread's
 * first chunk, taken together at the end of the file like any chunk: no file
 * to create, which on ext4 is most of what a traced fork or start costs.
 * Called where a process starts (map_chunks_at's fresh); ncpus: a fork
 * child's, its parent's CPU count (0: ask). */
WEFT_START_CODE static int section_open(pid_t ppid, uint64_t features, uint32_t ncpus) {
  void *m;
  if (!_weft_proc.root || map_chunks_at(WEFT_FILE_HEADER_SIZE + WEFT_CHUNK_FIRST, &m, 1) != 0) return -1;
  weft_sys3(SYS_madvise, m, WEFT_FILE_HEADER_SIZE + WEFT_CHUNK_FIRST, 23 /* MADV_POPULATE_WRITE */);
  WeftFileHeader *h = m;
  header_fill(h, ppid, features, ncpus);
  h->image = 0; /* readers number a pid's images by their start */
  weft_enc_proc_seal(h);
  _weft_proc.hdr = h;
  _weft_proc.section = 1;
  spare_chunk = (char *)m + WEFT_FILE_HEADER_SIZE;
  return 0;
}

/* Is v the header of a file this process may write a section into: this
 * version, recording, host and clock? */
WEFT_START_CODE static int joinable(const WeftFileHeader *v) {
  for (int i = 0; i < 8; i++)
    if (v->magic[i] != WEFT_TRACE_MAGIC[i]) return 0;
  return v->version == WEFT_TRACE_VERSION && v->endian == WEFT_ENDIAN_MARK && (v->features & WEFT_FEAT_SHARED_FILE) &&
         v->session == _weft_proc.session && v->host_id == _weft_proc.host_id &&
         v->clock == (_weft_proc.use_tsc ? WEFT_CLOCK_TSC : WEFT_CLOCK_MONOTONIC) &&
         v->alloc_end >= WEFT_FILE_HEADER_SIZE;
}

/* fstat by a system call where the kernel's struct stat is libc's (newfstatat,
 * as glibc calls it: a seccomp filter made from what glibc calls allows it) */
WEFT_START_CODE static int weft_fstat(int fd, struct stat *st) {
#if (defined(__x86_64__) || defined(__aarch64__)) && defined(SYS_newfstatat)
  return weft_sys4(SYS_newfstatat, fd, "", st, AT_EMPTY_PATH) == 0 ? 0 : -1;
#else
  return fstat(fd, st);
#endif
}

/* An exec'd image (or any process started with the agent) whose
 * environment names the file of the process tree it is in, WEFT_FILE=PID.N
 * (set by the tree's first process, in our directory): it writes a section
 * there too, so that starting a process creates no file. Only into a file of
 * this version, session and host (a file on a shared disk seen from another
 * machine is not shared memory). Returns 0, or -1: make a file of our own. */
WEFT_START_CODE static int file_join(pid_t ppid) {
  const char *f = getenv("WEFT_FILE"), *e;
  if (!f || !*f) return -1;
  uint64_t pid = 0, image = 0;
  for (e = f; *e >= '0' && *e <= '9' && pid < WEFT_PID_MAX; e++) pid = pid * 10 + (uint64_t)(*e - '0');
  if (*e++ != '.' || !pid || pid > WEFT_PID_MAX) return -1;
  for (; *e >= '0' && *e <= '9' && image < 10000; e++) image = image * 10 + (uint64_t)(*e - '0');
  if (*e || image >= 10000) return -1;
  char path[WEFT_PATH_MAX];
  _weft_proc.file_pid = (pid_t)pid;
  trace_path(path, (uint32_t)image);
  /* (system calls of our own: a new image that has not called open, fstat or
   * mmap yet would fault in a page of libc's code for each) */
  int fd = (int)weft_sys4(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0) return -1;
  int hfd = (int)weft_sys3(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 700); /* out of the program's way */
  if (hfd >= 0) {
    weft_sys3(SYS_close, fd, 0, 0);
    fd = hfd;
  }
  struct stat st;
  WeftFileHeader v, *h = MAP_FAILED;
  /* checked in a copy (one read): the mapped page is then first touched by a write, one page fault,
   * not a read's and then a write's */
  if (weft_fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (off_t)WEFT_FILE_HEADER_SIZE &&
      weft_sys4(SYS_pread64, fd, &v, sizeof v, 0) == (long)sizeof v && joinable(&v)) {
    long a = weft_sys6(SYS_mmap, 0, WEFT_FILE_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (!weft_sys_failed(a)) h = (WeftFileHeader *)a;
  }
  if (h != MAP_FAILED) {
    _weft_proc.root = h;
    _weft_proc.fd = fd;
    _weft_proc.dev = st.st_dev;
    _weft_proc.ino = st.st_ino;
    _weft_proc.image = (uint32_t)image;
    if (section_open(ppid, 0, 0) == 0) return 0;
    _weft_proc.root = NULL;
  }
  if (h != MAP_FAILED) munmap(h, WEFT_FILE_HEADER_SIZE);
  weft_sys3(SYS_close, fd, 0, 0);
  _weft_proc.fd = -1;
  return -1;
}

/* Start tracing this process (constructor, or the child side of fork);
 * features: header bits beyond the settings' (SHARED_FILE for a fork child
 * writing into its parent's file, MODULES_INHERITED). */
WEFT_START_CODE static void process_start(pid_t ppid, uint64_t features, uint32_t ncpus) {
  int rc;
  if (features & WEFT_FEAT_SHARED_FILE) {
    rc = section_open(ppid, features & ~WEFT_FEAT_SHARED_FILE, ncpus);
  } else if (file_join(ppid) == 0) {
    rc = 0;
  } else if ((rc = trace_open(ppid, features)) == 0) {
    /* the processes this one starts write into our file (file_join) */
    char v[48];
    size_t n = fmt_u64(v, (uint64_t)_weft_proc.file_pid);
    v[n++] = '.';
    fmt_u64(v + n, _weft_proc.image);
    setenv("WEFT_FILE", v, 1);
  }
  if (rc != 0) {
    atomic_store(&_weft_proc.enabled, 0);
    return;
  }
  _weft_proc.ticks_per_ms = _weft_proc.hdr->tsc_hz ? _weft_proc.hdr->tsc_hz / 1000
                            : _weft_proc.use_tsc   ? 3000000
                                                   : 1000000;
  _weft_proc.sample_ticks = _weft_proc.ticks_per_ms * 50;  /* schedstat every 50 ms of activity */
  _weft_proc.long_wait_ticks = _weft_proc.ticks_per_ms;    /* and after a wait of 1 ms or more */
  _weft_proc.io_min_ticks = _weft_proc.ticks_per_ms / 100; /* 10 us */
  _weft_proc.flush_ticks = _weft_proc.ticks_per_ms * WEFT_FLUSH_MS;
  atomic_store(&_weft_proc.exit_written, 0);
  atomic_store(&_weft_proc.enabled, 1);
}

static void atfork_prepare(void) { _weft_tls.busy++; }
static void atfork_parent(void) { _weft_tls.busy--; }

static void atfork_child_work(WeftThread *t);

/* fork returns in the child after this: its errno is the program's */
WEFT_START_CODE static void atfork_child(void) {
  WeftThread *t = &_weft_tls;
  t->busy--;
  if (!atomic_load(&_weft_proc.enabled)) return;
  int *ep = weft_errno_p(t), saved = *ep;
  atfork_child_work(t);
  *ep = saved;
}

WEFT_START_CODE static void atfork_child_work(WeftThread *t) {
  pid_t parent = _weft_proc.pid;
  /* Our copies of the parent's mappings (its header, chunks and slabs) stay
   * mapped, unused: unmapping them would cost the child a system call each. */
  int hi = atomic_load_explicit(&registry_hi, memory_order_relaxed);
  for (int i = 0; i < hi; i++) { /* one thread here: plain stores, only the slots in use */
    atomic_store_explicit(&reg_at(i)->tid, 0, memory_order_relaxed);
    atomic_store_explicit(&reg_at(i)->self, 0, memory_order_relaxed);
    reg_at(i)->t = NULL;
  }
  atomic_store_explicit(&registry_hi, 0, memory_order_relaxed);
  /* The stores below only where the value changes: a child's first write to
   * a page of ours is a page copy (and a fault, 10 us on some VMs). */
  if (atomic_load_explicit(&slab_cur, memory_order_relaxed))
    atomic_store_explicit(&slab_cur, 0, memory_order_relaxed); /* the ring's old entries name the parent's slabs,
                                                                  which stay mapped: no chunk of ours is in them */
  if (atomic_load_explicit(&slab_made, memory_order_relaxed))
    atomic_store_explicit(&slab_made, 0, memory_order_relaxed); /* a child starts small again */
  /* The file's grow lock is in its shared header page: a parent thread that
   * holds it releases it there. */
  t->chunk = NULL;
  t->pos = t->end = NULL;
  t->omp_open = t->omp_ending = 0;   /* no team of the parent's waits here */
  _weft_omp_atfork_child();
  uint32_t ncpus = _weft_proc.ncpus; /* the affinity is inherited (not read from the header: a fault) */
  WeftFileHeader *parent_hdr = _weft_proc.hdr;
  _weft_proc.hdr = NULL; /* the descriptor and the file's header (root) stay: we write into that file */
  if (task_dirfd >= 0) { /* the parent's /proc/PID/task (a store only where needed: a page less to copy) */
    close(task_dirfd);
    task_dirfd = -1;
  }
  _weft_proc.gen++;
  _weft_proc.pid = (pid_t)weft_sys0(SYS_getpid);
  atomic_store(&_weft_proc.enabled, 0);
  _weft_stacks_reset();
  /* Our objects are the parent's, written to its file before the fork: the
   * importer takes them from there (writing them again costs a new child a
   * first touch of every page they live on). */
  int inherit = _weft_modules_inheritable();
  process_start(parent, WEFT_FEAT_SHARED_FILE | (inherit ? WEFT_FEAT_MODULES_INHERITED : 0), ncpus);
  if (!atomic_load(&_weft_proc.enabled)) {
    /* the file had no room for us (disk full, the size limit): we run
     * untraced, counted as a record lost in our parent's header (a shared
     * page), so that the recording says something is missing */
    if (parent_hdr) __atomic_fetch_add(&parent_hdr->lost, 1, __ATOMIC_RELAXED);
    return;
  }
  uint64_t routine = t->routine;
  _weft_thread_begin(routine, 0, 1);
  if (!inherit) {
    weft_busy_enter();
    _weft_modules_scan(1);
    weft_busy_leave();
  }
  process_info();
}

static void weft_agent_init(void);

/* A library constructor that runs before ours (the loader orders them) may
 * call a wrapper: set up then, once. Returns whether recording is on. */
int _weft_lazy_init(void) {
  if (!atomic_load_explicit(&_weft_proc.inited, memory_order_acquire) && !_weft_tls.busy && !_weft_tls.resolving) {
    int saved = errno; /* the wrapper that calls this returns the program's errno */
    weft_agent_init();
    errno = saved;
  }
  return atomic_load_explicit(&_weft_proc.enabled, memory_order_relaxed) && !_weft_tls.busy;
}

/* glibc passes argc, argv and the environment to constructors */
__attribute__((constructor(101))) static void weft_agent_ctor(int argc, char **argv, char **envp) {
  (void)envp;
  _weft_start.argc = argc;
  _weft_start.argv = argv;
  int saved = errno; /* main starts with the errno it would have had (this creates files: EEXIST) */
  weft_agent_init();
  errno = saved;
}

/* A relative WEFT_OUTPUT made absolute (from the current directory), in
 * _weft_start.trace_dir and in the environment: a child that changes directory
 * before it execs writes to the same place. 0, or -1 (no cwd, too long). */
WEFT_START_CODE static int output_absolute(const char *dir) {
  char cwd[sizeof _weft_start.trace_dir];
  if (!getcwd(cwd, sizeof cwd)) return -1;
  size_t n = str_copy(_weft_start.trace_dir, sizeof _weft_start.trace_dir, cwd);
  n += str_copy(_weft_start.trace_dir + n, sizeof _weft_start.trace_dir - n, "/");
  n += str_copy(_weft_start.trace_dir + n, sizeof _weft_start.trace_dir - n, dir);
  if (n >= sizeof _weft_start.trace_dir - 64) return -1;
  setenv("WEFT_OUTPUT", _weft_start.trace_dir, 1);
  return 0;
}

static void agent_init_body(void);

WEFT_START_CODE static void weft_agent_init(void) {
  int expect = 0;
  if (!atomic_compare_exchange_strong(&_weft_proc.inited, &expect, 1)) return;
  init_running = 1;
  agent_init_body();
  init_running = 0;
}

static void agent_init_body(void) {
  /* the fast paths' functions (REAL_HOT) before anything is traced */
  if (!REAL(pthread_mutex_trylock) || !REAL(pthread_mutex_unlock)) {
    say_untraced("cannot find pthread_mutex_trylock and pthread_mutex_unlock; running untraced", "", "");
    return;
  }
  WeftThread *t = &_weft_tls;
  t->slot = -1;
  const char *dir = getenv("WEFT_OUTPUT");
  _weft_proc.pid = (pid_t)syscall(SYS_getpid);
  if (!dir || !*dir) {
    say_untraced("WEFT_OUTPUT is not set: no directory to write the trace to; running untraced", "", "");
    return;
  }
  if (strlen(dir) >= sizeof _weft_start.trace_dir - 64) {
    say_untraced("WEFT_OUTPUT is too long; running untraced", "", "");
    return;
  }
  if (dir[0] != '/' && output_absolute(dir) != 0) {
    say_untraced("WEFT_OUTPUT=", dir, ": cannot make it an absolute path; running untraced");
    return;
  }
  if (dir[0] == '/') str_copy(_weft_start.trace_dir, sizeof _weft_start.trace_dir, dir);
  const char *s = getenv("WEFT_STACKS");
  _weft_proc.stacks = !s || !*s || !strcmp(s, "contended") ? WEFT_STACKS_CONTENDED
                      : !strcmp(s, "none")                 ? WEFT_STACKS_NONE
                      : !strcmp(s, "all")                  ? WEFT_STACKS_ALL
                                                           : WEFT_STACKS_CONTENDED;
  if (s && *s && strcmp(s, "contended") && strcmp(s, "none") && strcmp(s, "all"))
    say("WEFT_STACKS=", s, " is not one of none, contended, all; using contended");
  s = getenv("WEFT_IO");
  _weft_proc.io = s && *s && strcmp(s, "0") != 0;
  s = getenv("WEFT_CLOCK");
  _weft_proc.use_tsc = tsc_usable() && !(s && !strcmp(s, "monotonic"));
  /* the start's and the exit's sync pairs (header, first chunk, baseline, exit) by system calls */
  atomic_store(&_weft_proc.cold_pairs, _weft_proc.use_tsc ? 4 : 0);
  if (s && *s && strcmp(s, "tsc") && strcmp(s, "monotonic"))
    say("WEFT_CLOCK=", s,
        _weft_proc.use_tsc ? " is not one of tsc, monotonic; using tsc"
                           : " is not one of tsc, monotonic; using monotonic");
  _weft_proc.session = session_id();
  _weft_host_init();
  s = getenv("WEFT_HOLDS");
  _weft_proc.holds_all = s && !strcmp(s, "all");
  if (s && *s && strcmp(s, "all") && strcmp(s, "contended"))
    say("WEFT_HOLDS=", s, " is not one of contended, all; using contended");
  _weft_proc.acq_record = _weft_proc.holds_all || _weft_proc.stacks == WEFT_STACKS_ALL;
  s = getenv("WEFT_HOLD_SAMPLE");
  _weft_proc.hold_sample = WEFT_HOLD_SAMPLE_DEFAULT;
  if (s && *s) {
    uint64_t n = 0;
    const char *q = s;
    for (; *q >= '0' && *q <= '9' && n < 1000000000; q++) n = n * 10 + (uint64_t)(*q - '0');
    if (*q || n > (1u << 30) || (n & (n - 1)))
      say("WEFT_HOLD_SAMPLE=", s, " is not 0 or a power of two up to 2^30; using the default");
    else
      _weft_proc.hold_sample = (uint32_t)n;
  }
  /* 4096: with no sampling, how often an acquisition checks whether the counts are due */
  _weft_proc.tick_mask = _weft_proc.hold_sample ? _weft_proc.hold_sample - 1 : 4095;
  s = getenv("WEFT_BUFFER_KB");
  if (s && *s) {
    uint64_t kb = 0;
    const char *q = s;
    for (; *q >= '0' && *q <= '9' && kb <= (WEFT_CHUNK_MAX >> 10); q++) kb = kb * 10 + (uint64_t)(*q - '0');
    if (!*q && kb >= 64 && kb <= (WEFT_CHUNK_MAX >> 10))
      chunk_max = (uint32_t)(kb << 10) & ~(WEFT_CHUNK_ALIGN - 1);
    else
      say("WEFT_BUFFER_KB=", s, " is not a number of KiB from 64 to 65536; using 1024");
  }
  dl_iterate_phdr(self_range_cb, (void *)(uintptr_t)&weft_agent_init);
  if (pthread_key_create(&exit_key, exit_key_destructor) == 0) exit_key_ok = 1;
  /* what pthread_atfork and atexit do (libc_nonshared.a links them into our
   * code, on a page of their own: a page fault at each start) */
  __register_atfork(atfork_prepare, atfork_parent, atfork_child, __dso_handle);
  __cxa_atexit(at_exit_handler, NULL, __dso_handle);
  process_start((pid_t)syscall(SYS_getppid), 0, 0);
  if (!atomic_load(&_weft_proc.enabled)) return;
  /* after process_start: WEFT_FILE is one of the variables put back at an exec */
  Dl_info self_info;
  _weft_env_capture(dladdr((void *)(uintptr_t)&weft_agent_init, &self_info) ? self_info.dli_fname : NULL);
  _weft_thread_begin(0, 0, 1);
  /* the main thread's schedstat counts from its fork, before this exec: a
   * baseline reading lets the analyzer count this image's time only */
  weft_busy_enter();
  sample(&_weft_tls, _weft_tls.tid, WEFT_SCHED_BASELINE);
  weft_busy_leave();
  weft_busy_enter();
  _weft_modules_scan(1);
  weft_busy_leave();
  process_info();
  _weft_mpi_env_rank();
}

__attribute__((destructor)) static void weft_agent_fini(void) { _weft_process_exit(WEFT_PEXIT_RETURN, 0); }

/* DT_FINI (-Wl,-fini in agent/meson.build), which the loader calls at exit:
 * the toolchain's _fini does nothing, on the last page of our code, alone;
 * this does nothing on the start's page, which every process has run (a page
 * fault less at each exit). */
void _weft_dt_fini(void);
WEFT_START_CODE void _weft_dt_fini(void) {}
