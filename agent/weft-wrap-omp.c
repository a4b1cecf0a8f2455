/* weft-wrap-omp.c - OpenMP parallel regions of GCC's runtime (libgomp).
 * SPDX-License-Identifier: MIT
 *
 * libgomp's threads wait for each other inside the runtime, with system
 * calls made inline after a spin: no call the agent sees. So the agent
 * defines the entry points a program compiled with gcc -fopenmp calls to
 * start a parallel region (GOMP_parallel and its loop and sections
 * variants) and the team's barriers inside one (GOMP_barrier, GOMP_loop_end,
 * GOMP_sections_end), and calls libgomp's behind them, resolved once at the
 * first call (RTLD_NEXT, else from whichever loaded object defines
 * GOMP_parallel: a library loaded with RTLD_LOCAL).
 *
 * A region's outlined function runs on every thread of its team through a
 * trampoline (its context on the starting thread's stack, which waits in
 * GOMP_parallel until the team is done). What is recorded, per region:
 * - the starting thread (the team's master) signals its team's dock (kind
 *   cond, an object of its own: the place its pool's threads wait between
 *   regions) before the region starts, a broadcast;
 * - each thread of the team, when the function returns, begins a wait on the
 *   region's barrier (kind barrier, the object the function's address, or
 *   that address with the team's size in bits 48 and up for a second size;
 *   w3 of a worker's WAIT_BEGIN names the dock); the master's ends when
 *   GOMP_parallel returns, a worker's when it enters its next region (its
 *   time at the dock included: the importer splits it at the round's last
 *   arrival, where the region ended, into the barrier wait and a wait at
 *   the dock);
 * - the team's barriers inside the region are waits on the same barrier,
 *   a round of the team's size each, as the end of the region is;
 * - the first time a region runs with a team size, an INIT of kind barrier
 *   with op WEFT_OP_OMP and the size; a master's first region, an INIT of
 *   its dock (kind cond, op WEFT_OP_OMP).
 * Not recorded: critical sections, OpenMP locks, tasks and taskwait, the
 * regions of GOMP_parallel_reductions and GOMP_teams, LLVM's and Intel's
 * runtimes (libomp, libiomp5), and libgomp's own ABI before GCC 4.9
 * (GOMP_parallel_start). Return values and errno are the program's.
 */
#include "weft-agent-private.h"

#include <stdbool.h>

typedef void (*OmpFn)(void *);

/* clang-format off */
#define OMP_FUNCS(X) \
  X(void, GOMP_parallel, (OmpFn, void *, unsigned, unsigned)) \
  X(void, GOMP_parallel_loop_static, (OmpFn, void *, unsigned, long, long, long, long, unsigned)) \
  X(void, GOMP_parallel_loop_dynamic, (OmpFn, void *, unsigned, long, long, long, long, unsigned)) \
  X(void, GOMP_parallel_loop_guided, (OmpFn, void *, unsigned, long, long, long, long, unsigned)) \
  X(void, GOMP_parallel_loop_nonmonotonic_dynamic, (OmpFn, void *, unsigned, long, long, long, long, unsigned)) \
  X(void, GOMP_parallel_loop_nonmonotonic_guided, (OmpFn, void *, unsigned, long, long, long, long, unsigned)) \
  X(void, GOMP_parallel_loop_runtime, (OmpFn, void *, unsigned, long, long, long, unsigned)) \
  X(void, GOMP_parallel_loop_nonmonotonic_runtime, (OmpFn, void *, unsigned, long, long, long, unsigned)) \
  X(void, GOMP_parallel_loop_maybe_nonmonotonic_runtime, (OmpFn, void *, unsigned, long, long, long, unsigned)) \
  X(void, GOMP_parallel_sections, (OmpFn, void *, unsigned, unsigned, unsigned)) \
  X(void, GOMP_barrier, (void)) X(void, GOMP_loop_end, (void)) X(void, GOMP_sections_end, (void)) \
  X(int, omp_get_num_threads, (void))
/* clang-format on */

/* the entry points defined here, as libgomp declares them (and omp_get_num_threads, not defined) */
#define OMP_PROTO(ret, name, args) WEFT_PUBLIC ret name args;
OMP_FUNCS(OMP_PROTO)
#undef OMP_PROTO

static struct {
#define OMP_FIELD(ret, name, args) ret(*name) args;
  OMP_FUNCS(OMP_FIELD)
#undef OMP_FIELD
} og;
static _Atomic int resolved;

/* Every libgomp function once (a racing thread stores the same pointers). A
 * wrapper is only called when a loaded object calls libgomp, so it is there. */
static void omp_resolve(void) {
  int saved = errno;
  weft_busy_enter();
  void *lib = _weft_lib_defining("GOMP_parallel");
#define OMP_RESOLVE(ret, name, args) og.name = (ret(*) args)_weft_lib_sym(lib, #name);
  OMP_FUNCS(OMP_RESOLVE)
#undef OMP_RESOLVE
  weft_busy_leave();
  errno = saved;
  atomic_store_explicit(&resolved, 1, memory_order_release);
}

/* The libgomp function (the program calls it, so its runtime defines it). */
#define OG(name) (omp_resolved(), og.name)
static inline void omp_resolved(void) {
  if (WEFT_UNLIKELY(!atomic_load_explicit(&resolved, memory_order_acquire))) omp_resolve();
}

/* ---- the regions' objects ---- */
/* Keys seen, for their INIT: (function, team size) pairs, and functions
 * alone (whose first region takes a stack at its call). A full table only
 * means INITs and stacks written again. */
#define OMP_SEEN 256
static _Atomic uint64_t seen[OMP_SEEN], fns_seen[OMP_SEEN];

/* Was key in the table already? (It is now.) */
static bool seen_before(_Atomic uint64_t *tab, uint64_t key) {
  uint64_t h = _weft_fnv1a(1469598103934665603ull, &key, sizeof key);
  for (unsigned i = 0; i < 16; i++) {
    _Atomic uint64_t *s = &tab[(h + i) % OMP_SEEN];
    uint64_t v = atomic_load_explicit(s, memory_order_relaxed);
    if (!v && atomic_compare_exchange_strong(s, &v, key)) return false;
    if (v == key) return true;
  }
  return false;
}

/* ---- regions ---- */
typedef struct {
  OmpFn fn;
  void *data;
  uint64_t dock;   /* the master's dock (a cond of the master's own) */
  uint32_t master; /* its tid */
  uint32_t stack;  /* the call's stack, taken at a function's first region */
  _Atomic int on;  /* recorded: tracing was on when it began */
} Region;

/* A function's team size in its first region, by function (0: none yet). */
static _Atomic uint64_t first_size[OMP_SEEN];
static uint32_t fn_first_size(uint64_t fn, unsigned n) {
  uint64_t h = _weft_fnv1a(1469598103934665603ull, &fn, sizeof fn);
  for (unsigned i = 0; i < 16; i++) {
    _Atomic uint64_t *s = &first_size[(h + i) % OMP_SEEN];
    uint64_t v = atomic_load_explicit(s, memory_order_relaxed), want = fn | (uint64_t)(n & 0xffffu) << 48;
    if (!v && atomic_compare_exchange_strong(s, &v, want)) return n;
    if ((v & ((1ull << 48) - 1)) == fn) return (uint32_t)(v >> 48);
  }
  return n;
}

static void trampoline(void *p) {
  Region *rg = p;
  WeftThread *t = &_weft_tls;
  if (!atomic_load_explicit(&rg->on, memory_order_relaxed) || !weft_on()) {
    rg->fn(rg->data);
    return;
  }
  bool master = t->tid == rg->master;
  unsigned n = (unsigned)og.omp_get_num_threads();
  uint64_t fn = (uint64_t)(uintptr_t)rg->fn, obj = fn;
  if (master) {
    uint32_t n0 = fn_first_size(fn, n);
    if (n0 != n) obj = fn | (uint64_t)(n & 0xffffu) << 48;
    if (!seen_before(seen, obj))
      weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_OMP, 0), obj, n, rg->stack);
  } else if (fn_first_size(fn, n) != n) { /* (whichever thread of the first team comes first sets it) */
    obj = fn | (uint64_t)(n & 0xffffu) << 48;
  }
  if (!master && t->omp_open) { /* its time since its last region: ended (the importer splits it) */
    weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_LOCK, 0), t->omp_open);
    t->omp_open = 0;
  }
  uint64_t outer = t->omp_cur;
  t->omp_cur = obj;
  rg->fn(rg->data);
  t->omp_cur = outer;
  if (!weft_on()) return;
  weft_emit3(WEFT_EV_WAIT_BEGIN, WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_LOCK, 0), obj, 0, master ? 0 : rg->dock);
  if (master)
    t->omp_ending = obj;
  else
    t->omp_open = obj;
}

/* Before the real call: the region's context, the dock signalled. */
static bool region_begin(Region *rg, OmpFn fn, void *data) {
  *rg = (Region){.fn = fn, .data = data};
  omp_resolved();
  if (!weft_on() || !og.omp_get_num_threads) return false;
  WeftThread *t = &_weft_tls;
  rg->master = t->tid;
  rg->dock = (uint64_t)(uintptr_t)&t->omp_dock;
  uint64_t f = (uint64_t)(uintptr_t)fn;
  rg->stack = seen_before(fns_seen, f) ? 0 : weft_stack_init(); /* (here: the program's call is the caller's) */
  if (!t->omp_dock) {
    t->omp_dock = 1;
    weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_COND, WEFT_OP_OMP, 0), rg->dock, 0, 0); /* (named by its master) */
  }
  weft_emit2(WEFT_EV_SIGNAL, WEFT_AUX(WEFT_KIND_COND, WEFT_OP_BROADCAST, 0), rg->dock, 0);
  atomic_store_explicit(&rg->on, 1, memory_order_relaxed);
  return true;
}

/* After it: the master's wait at the region's end is over. */
static void region_end(bool on) {
  WeftThread *t = &_weft_tls;
  if (!on || !t->omp_ending) return;
  uint64_t obj = t->omp_ending;
  t->omp_ending = 0;
  if (weft_on()) weft_wait_ended(weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_LOCK, 0), obj));
}

WEFT_PUBLIC void GOMP_parallel(OmpFn fn, void *data, unsigned nthr, unsigned flags) {
  Region rg;
  bool on = region_begin(&rg, fn, data);
  og.GOMP_parallel(on ? trampoline : fn, on ? (void *)&rg : data, nthr, flags);
  region_end(on);
}

#define LOOP_WRAP(name)                                                                                    \
  WEFT_PUBLIC void name(OmpFn fn, void *data, unsigned nthr, long s, long e, long i, long c, unsigned f) { \
    Region rg;                                                                                             \
    bool on = region_begin(&rg, fn, data);                                                                 \
    og.name(on ? trampoline : fn, on ? (void *)&rg : data, nthr, s, e, i, c, f);                           \
    region_end(on);                                                                                        \
  }
LOOP_WRAP(GOMP_parallel_loop_static)
LOOP_WRAP(GOMP_parallel_loop_dynamic)
LOOP_WRAP(GOMP_parallel_loop_guided)
LOOP_WRAP(GOMP_parallel_loop_nonmonotonic_dynamic)
LOOP_WRAP(GOMP_parallel_loop_nonmonotonic_guided)

#define RUNTIME_WRAP(name)                                                                         \
  WEFT_PUBLIC void name(OmpFn fn, void *data, unsigned nthr, long s, long e, long i, unsigned f) { \
    Region rg;                                                                                     \
    bool on = region_begin(&rg, fn, data);                                                         \
    og.name(on ? trampoline : fn, on ? (void *)&rg : data, nthr, s, e, i, f);                      \
    region_end(on);                                                                                \
  }
RUNTIME_WRAP(GOMP_parallel_loop_runtime)
RUNTIME_WRAP(GOMP_parallel_loop_nonmonotonic_runtime)
RUNTIME_WRAP(GOMP_parallel_loop_maybe_nonmonotonic_runtime)

WEFT_PUBLIC void GOMP_parallel_sections(OmpFn fn, void *data, unsigned nthr, unsigned count, unsigned flags) {
  Region rg;
  bool on = region_begin(&rg, fn, data);
  og.GOMP_parallel_sections(on ? trampoline : fn, on ? (void *)&rg : data, nthr, count, flags);
  region_end(on);
}

/* ---- the team's barriers inside a region ---- */
static void team_barrier(void (*real)(void)) {
  WeftThread *t = &_weft_tls;
  uint64_t obj = t->omp_cur;
  if (!obj || !weft_on()) {
    real();
    return;
  }
  weft_emit3(WEFT_EV_WAIT_BEGIN, WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_LOCK, 0), obj, 0, 0);
  real();
  weft_wait_ended(weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_LOCK, 0), obj));
}

WEFT_PUBLIC void GOMP_barrier(void) { team_barrier(OG(GOMP_barrier)); }
WEFT_PUBLIC void GOMP_loop_end(void) { team_barrier(OG(GOMP_loop_end)); }
WEFT_PUBLIC void GOMP_sections_end(void) { team_barrier(OG(GOMP_sections_end)); }
