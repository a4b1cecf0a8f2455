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
 * GOMP_parallel: a library loaded with RTLD_LOCAL). Where several loaded
 * objects have runtimes of their own (Python extensions that each bring a
 * libgomp), each call site is sent to the runtime its object would bind to
 * (looked up once a site). The critical sections' lock word is read only in
 * GCC's libgomp itself: the GOMP_* entry points of LLVM's and Intel's
 * runtimes pass through unrecorded.
 *
 * A region's outlined function runs on every thread of its team through a
 * trampoline (its context on the starting thread's stack, which waits in
 * GOMP_parallel until the team is done). What is recorded, per region:
 * - the starting thread (the team's master) signals its team's dock (kind
 *   cond, an object of its own: the place its pool's threads wait between
 *   regions) before the region starts, a broadcast;
 * - each thread of the team, when the function returns, begins a wait on the
 *   region's barrier (kind barrier, the object the function's address for
 *   its first team, by (master, size), that address with a number in bits
 *   48 and up for another team: rounds of one team's size each, never mixed;
 *   w3 of a worker's WAIT_BEGIN names the dock); the master's ends when
 *   GOMP_parallel returns, a worker's when it enters its next region (its
 *   time at the dock included: the importer splits it at the round's last
 *   arrival, where the region ended, into the barrier wait and a wait at
 *   the dock);
 * - the team's barriers inside the region are waits on the same barrier,
 *   a round of the team's size each, as the end of the region is;
 * - the first time a region runs with a team, an INIT of kind barrier with
 *   op WEFT_OP_OMP, the size and the stack of the function's first call; a
 *   master's first region, an INIT of its dock (kind cond, op WEFT_OP_OMP).
 * Critical sections (GOMP_critical_start and _end, named or not) are a
 * mutex's: counted, a wait and the hold it waited for recorded (the object
 * the name's lock word; the unnamed one's, a word of the agent's), INIT op
 * WEFT_OP_OMP at the first use.
 * OpenMP's locks (omp_init_lock, omp_set_lock, omp_test_lock,
 * omp_unset_lock, omp_destroy_lock, and the nested ones: a recursive mutex)
 * are a mutex of the program's, the same way (the try: the runtime's
 * omp_test_lock, omp_test_nest_lock).
 * Not recorded: tasks and taskwait (a
 * task a thread runs inside a barrier counts as its wait there: GOMP_task
 * and GOMP_taskloop pass through, and the first task a process makes is
 * said with an INIT of kind cond, op WEFT_OP_OMP and w2 1 on a word of the
 * agent's, which the importer keeps as meta omp_tasks, not as an object, so
 * that the report can say the barrier waits may hold task work), the
 * regions of GOMP_parallel_reductions and GOMP_teams, LLVM's and Intel's
 * runtimes (libomp, libiomp5), and libgomp's own ABI before GCC 4.9
 * (GOMP_parallel_start). Return values and errno are the program's.
 */
#include "weft-agent-private.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdlib.h>

typedef void (*OmpFn)(void *);
typedef struct OmpLock OmpLock;         /* omp_lock_t (libgomp: an int), only passed on */
typedef struct OmpNestLock OmpNestLock; /* omp_nest_lock_t, only passed on */

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
  X(void, GOMP_critical_start, (void)) X(void, GOMP_critical_end, (void)) \
  X(void, GOMP_critical_name_start, (void **)) X(void, GOMP_critical_name_end, (void **)) \
  X(void, omp_init_lock, (OmpLock *)) X(void, omp_destroy_lock, (OmpLock *)) X(void, omp_set_lock, (OmpLock *)) \
  X(void, omp_unset_lock, (OmpLock *)) X(int, omp_test_lock, (OmpLock *)) \
  X(void, omp_init_nest_lock, (OmpNestLock *)) X(void, omp_destroy_nest_lock, (OmpNestLock *)) \
  X(void, omp_set_nest_lock, (OmpNestLock *)) X(void, omp_unset_nest_lock, (OmpNestLock *)) \
  X(int, omp_test_nest_lock, (OmpNestLock *)) \
  X(void, GOMP_task, (OmpFn, void *, void (*)(void *, void *), long, long, bool, unsigned, void **, int, void *)) \
  X(void, GOMP_taskloop, (OmpFn, void *, void (*)(void *, void *), long, long, unsigned, unsigned long, int, long, \
                          long, long)) \
  X(void, GOMP_taskloop_ull, (OmpFn, void *, void (*)(void *, void *), long, long, unsigned, unsigned long, int, \
                              unsigned long long, unsigned long long, unsigned long long)) \
  X(int, omp_get_num_threads, (void))
/* clang-format on */

/* the entry points defined here, as libgomp declares them (and the two it
 * only calls: omp_get_num_threads; __kmpc_critical, LLVM's and Intel's) */
#define OMP_PROTO(ret, name, args) WEFT_PUBLIC ret name args;
OMP_FUNCS(OMP_PROTO)
#undef OMP_PROTO

/* ---- the runtimes ---- */
typedef struct {
#define OMP_FIELD(ret, name, args) ret(*name) args;
  OMP_FUNCS(OMP_FIELD)
#undef OMP_FIELD
  void *kmpc; /* __kmpc_critical: LLVM's or Intel's runtime, whose locks are not libgomp's */
} Runtime;

#define RT_MAX 16
static Runtime rts[RT_MAX]; /* rts[0]: RTLD_NEXT's, else the first found */
static _Atomic int nrt;     /* how many are published */
static int local;           /* rts[0] is not in the global scope: each call site to its object's runtime */
static _Atomic int resolved;
static atomic_flag rt_lock = ATOMIC_FLAG_INIT; /* (held only to publish: never across a call into the loader) */

static void rt_fill(Runtime *r, void *(*sym)(void *, const char *), void *lib) {
#define OMP_RESOLVE(ret, name, args) r->name = (ret(*) args)sym(lib, #name);
  OMP_FUNCS(OMP_RESOLVE)
#undef OMP_RESOLVE
  r->kmpc = sym(lib, "__kmpc_critical");
}

/* dlsym in lib's own scope, never the agent's definition */
static void *scope_sym(void *lib, const char *name) {
  void *f = dlsym(lib, name);
  return f && !_weft_in_agent(f) ? f : NULL;
}

static void rt_lock_take(void) {
  while (atomic_flag_test_and_set_explicit(&rt_lock, memory_order_acquire)) {}
}

/* The runtime of the global scope, else of the first loaded object that has one
 * (racing threads: the first to publish wins, the others' copies are dropped). A
 * wrapper is only called when a loaded object calls the runtime, so one is there. */
static void omp_resolve(void) {
  int saved = errno;
  weft_busy_enter();
  void *lib = _weft_lib_defining("GOMP_parallel", NULL);
  Runtime r;
  rt_fill(&r, lib ? scope_sym : _weft_lib_sym, lib); /* (a local runtime's functions all from its scope) */
  rt_lock_take();
  if (!atomic_load_explicit(&resolved, memory_order_relaxed)) {
    rts[0] = r;
    local = lib != NULL;
    atomic_store_explicit(&nrt, 1, memory_order_relaxed);
    atomic_store_explicit(&resolved, 1, memory_order_release);
  }
  atomic_flag_clear_explicit(&rt_lock, memory_order_release);
  weft_busy_leave();
  errno = saved;
}

/* The runtime of the object at pc (a call site), when the runtimes are not
 * global: the one its own scope has (a runtime loaded after the first one
 * is found too), looked up with the loader, without a lock of ours held. */
static int rt_lookup(const void *pc) {
  Dl_info di;
  int idx = 0, saved = errno;
  void *h = dladdr(pc, &di) && di.dli_fname ? dlopen(di.dli_fname, RTLD_LAZY | RTLD_NOLOAD) : NULL;
  void *f = h ? scope_sym(h, "GOMP_parallel") : NULL;
  if (f) {
    int n = atomic_load_explicit(&nrt, memory_order_acquire);
    for (idx = 0; idx < n && rts[idx].GOMP_parallel != f; idx++) {}
    if (idx == n) {
      Runtime r;
      rt_fill(&r, scope_sym, h);
      rt_lock_take();
      n = atomic_load_explicit(&nrt, memory_order_relaxed);
      for (idx = 0; idx < n && rts[idx].GOMP_parallel != f; idx++) {}
      if (idx == n && n < RT_MAX) {
        rts[n] = r;
        atomic_store_explicit(&nrt, n + 1, memory_order_release);
      } else if (idx == n) {
        idx = 0; /* (more runtimes than the table: the first) */
      }
      atomic_flag_clear_explicit(&rt_lock, memory_order_release);
    }
  }
  if (h) dlclose(h);
  dlerror(); /* (a failed dlopen's message is not the program's to read) */
  errno = saved;
  return idx;
}

#define SITES      4096
#define SITE_PROBE 16
static _Atomic uintptr_t site_pc[SITES];
static _Atomic int site_rt[SITES];

static const Runtime *rt_of(const void *pc) {
  if (WEFT_UNLIKELY(!atomic_load_explicit(&resolved, memory_order_acquire))) omp_resolve();
  if (WEFT_LIKELY(!local)) return &rts[0];
  uintptr_t key = (uintptr_t)pc;
  uint64_t h = _weft_fnv1a(1469598103934665603ull, &key, sizeof key);
  for (unsigned i = 0; i < SITE_PROBE; i++) {
    size_t k = (h + i) % SITES;
    uintptr_t v = atomic_load_explicit(&site_pc[k], memory_order_acquire);
    if (v == key) return &rts[atomic_load_explicit(&site_rt[k], memory_order_relaxed)];
    if (v) continue;
    weft_busy_enter();
    int idx = rt_lookup(pc);
    weft_busy_leave();
    uintptr_t zero = 0;
    if (atomic_compare_exchange_strong(&site_pc[k], &zero, (uintptr_t)1)) { /* (1: being written) */
      atomic_store_explicit(&site_rt[k], idx, memory_order_relaxed);
      atomic_store_explicit(&site_pc[k], key, memory_order_release);
    }
    return &rts[idx];
  }
  weft_busy_enter();
  int idx = rt_lookup(pc); /* (a full neighbourhood: looked up every time) */
  weft_busy_leave();
  return &rts[idx];
}

/* A runtime's function the program called, which a runtime must have: a
 * runtime without it (a weak reference into none) ends the process with a
 * message rather than a call through NULL. */
static void *need(void *f, const char *name) {
  if (WEFT_UNLIKELY(!f)) {
    _weft_say(name, ": called, but no loaded OpenMP runtime defines it", "");
    abort();
  }
  return f;
}
#define NEED(rt, name) ((__typeof__((rt)->name))need((void *)(rt)->name, #name))

#define CALLER() (__builtin_return_address(0))

/* ---- the regions' objects ---- */
#define OMP_TAB   4096 /* open addressing; a full neighbourhood only means INITs and stacks written again */
#define OMP_PROBE 32
static _Atomic uint64_t seen[OMP_TAB]; /* critical sections whose INIT is written */

/* Was key in the table already? (It is now.) */
static bool seen_before(_Atomic uint64_t *tab, uint64_t key) {
  uint64_t h = _weft_fnv1a(1469598103934665603ull, &key, sizeof key);
  for (unsigned i = 0; i < OMP_PROBE; i++) {
    _Atomic uint64_t *s = &tab[(h + i) % OMP_TAB];
    uint64_t v = atomic_load_explicit(s, memory_order_relaxed);
    if (!v && atomic_compare_exchange_strong(s, &v, key)) return false;
    if (v == key) return true;
  }
  return false;
}

/* A region function's stack (its first call's), by function. */
static _Atomic uint64_t fn_key[OMP_TAB];
static _Atomic uint32_t fn_stack[OMP_TAB];

static uint32_t region_stack(uint64_t fn) {
  uint64_t h = _weft_fnv1a(1469598103934665603ull, &fn, sizeof fn);
  for (unsigned i = 0; i < OMP_PROBE; i++) {
    size_t k = (h + i) % OMP_TAB;
    uint64_t v = atomic_load_explicit(&fn_key[k], memory_order_acquire);
    if (v == fn) return atomic_load_explicit(&fn_stack[k], memory_order_relaxed);
    if (v) continue;
    uint32_t st = weft_stack_init(); /* (the wrapper's caller: the program's call) */
    uint64_t zero = 0;
    if (atomic_compare_exchange_strong(&fn_key[k], &zero, (uint64_t)1)) {
      atomic_store_explicit(&fn_stack[k], st, memory_order_relaxed);
      atomic_store_explicit(&fn_key[k], fn, memory_order_release);
    }
    return st;
  }
  return weft_stack_init();
}

/* A team's barrier, by (function, master, size): the function's address for
 * its first team, another number in bits 48-63 for each other one. *made:
 * this call made it (its INIT is the caller's to write). */
typedef struct {
  _Atomic uint64_t fn; /* 0 free, 1 being written */
  uint32_t master, n;
  uint64_t obj;
} TeamKey;
static TeamKey teams[OMP_TAB];
static _Atomic uint64_t fn_teams[OMP_TAB]; /* by function: teams made (a count in bits 48-63) */
static atomic_flag team_lock = ATOMIC_FLAG_INIT;

static uint64_t team_number(uint64_t fn) { /* (under team_lock) */
  uint64_t h = _weft_fnv1a(1469598103934665603ull, &fn, sizeof fn);
  for (unsigned i = 0; i < OMP_PROBE; i++) {
    _Atomic uint64_t *s = &fn_teams[(h + i) % OMP_TAB];
    uint64_t v = atomic_load_explicit(s, memory_order_relaxed);
    if (!v) {
      atomic_store_explicit(s, fn | 1ull << 48, memory_order_relaxed);
      return 0;
    }
    if ((v & ((1ull << 48) - 1)) == fn) {
      atomic_store_explicit(s, v + (1ull << 48), memory_order_relaxed);
      return v >> 48;
    }
  }
  return 0xffff; /* (a full table: one number for the rest) */
}

static TeamKey *team_find(uint64_t h, uint64_t fn, uint32_t master, uint32_t n, TeamKey **free_e) {
  *free_e = NULL;
  for (unsigned i = 0; i < OMP_PROBE; i++) {
    TeamKey *e = &teams[(h + i) % OMP_TAB];
    uint64_t v = atomic_load_explicit(&e->fn, memory_order_acquire);
    if (v == fn && e->master == master && e->n == n) return e;
    if (!v && !*free_e) *free_e = e;
  }
  return NULL;
}

static uint64_t team_obj(uint64_t fn, uint32_t master, uint32_t n, bool *made) {
  uint64_t key[2] = {fn, (uint64_t)master << 32 | n};
  uint64_t h = _weft_fnv1a(1469598103934665603ull, key, sizeof key);
  TeamKey *free_e, *e = team_find(h, fn, master, n, &free_e);
  *made = false;
  if (e) return e->obj;
  while (atomic_flag_test_and_set_explicit(&team_lock, memory_order_acquire)) {}
  uint64_t obj = fn;                        /* (a full neighbourhood: the function's) */
  e = team_find(h, fn, master, n, &free_e); /* (another thread may have made it meanwhile) */
  if (e) {
    obj = e->obj;
  } else if (free_e) {
    uint64_t num = team_number(fn);
    free_e->master = master;
    free_e->n = n;
    free_e->obj = obj = num ? (fn & ((1ull << 48) - 1)) | (num & 0xffff) << 48 : fn;
    atomic_store_explicit(&free_e->fn, fn, memory_order_release);
    *made = true;
  }
  atomic_flag_clear_explicit(&team_lock, memory_order_release);
  return obj;
}

/* ---- regions ---- */
typedef struct {
  OmpFn fn;
  void *data;
  const Runtime *rt;
  uint64_t dock;   /* the master's dock (a cond of the master's own) */
  uint32_t master; /* its tid */
  uint32_t stack;  /* the function's first call's stack */
  _Atomic int on;  /* recorded: tracing was on when it began */
} Region;

static void trampoline(void *p) {
  Region *rg = p;
  WeftThread *t = &_weft_tls;
  if (!atomic_load_explicit(&rg->on, memory_order_relaxed) || !weft_on() || !rg->rt->omp_get_num_threads) {
    rg->fn(rg->data);
    return;
  }
  bool master = t->tid == rg->master, made;
  unsigned n = (unsigned)rg->rt->omp_get_num_threads();
  uint64_t obj = team_obj((uint64_t)(uintptr_t)rg->fn, rg->master, n, &made);
  if (made) weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_OMP, 0), obj, n, rg->stack);
  if (!master && t->omp_open) { /* its time since its last region: ended (the importer splits it) */
    weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_LOCK, 0), t->omp_open);
    t->omp_open = 0;
  }
  uint64_t outer = t->omp_cur;
  t->omp_cur = obj;
  rg->fn(rg->data);
  t->omp_cur = outer;
  if (!weft_on()) return;
  weft_wait_begin(WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_LOCK, 0), obj, 0, master ? 0 : rg->dock);
  if (master)
    t->omp_ending = obj;
  else
    t->omp_open = obj;
}

/* Before the real call: the region's context, the dock signalled. */
static bool region_begin(Region *rg, OmpFn fn, void *data, const void *pc) {
  *rg = (Region){.fn = fn, .data = data, .rt = rt_of(pc)};
  if (!weft_on()) return false;
  WeftThread *t = &_weft_tls;
  rg->master = t->tid;
  rg->dock = (uint64_t)(uintptr_t)&t->omp_dock;
  rg->stack = region_stack((uint64_t)(uintptr_t)fn);
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
  bool on = region_begin(&rg, fn, data, CALLER());
  NEED(rg.rt, GOMP_parallel)(on ? trampoline : fn, on ? (void *)&rg : data, nthr, flags);
  region_end(on);
}

#define LOOP_WRAP(name)                                                                                    \
  WEFT_PUBLIC void name(OmpFn fn, void *data, unsigned nthr, long s, long e, long i, long c, unsigned f) { \
    Region rg;                                                                                             \
    bool on = region_begin(&rg, fn, data, CALLER());                                                       \
    NEED(rg.rt, name)(on ? trampoline : fn, on ? (void *)&rg : data, nthr, s, e, i, c, f);                 \
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
    bool on = region_begin(&rg, fn, data, CALLER());                                               \
    NEED(rg.rt, name)(on ? trampoline : fn, on ? (void *)&rg : data, nthr, s, e, i, f);            \
    region_end(on);                                                                                \
  }
RUNTIME_WRAP(GOMP_parallel_loop_runtime)
RUNTIME_WRAP(GOMP_parallel_loop_nonmonotonic_runtime)
RUNTIME_WRAP(GOMP_parallel_loop_maybe_nonmonotonic_runtime)

WEFT_PUBLIC void GOMP_parallel_sections(OmpFn fn, void *data, unsigned nthr, unsigned count, unsigned flags) {
  Region rg;
  bool on = region_begin(&rg, fn, data, CALLER());
  NEED(rg.rt, GOMP_parallel_sections)(on ? trampoline : fn, on ? (void *)&rg : data, nthr, count, flags);
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
  weft_wait_begin(WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_LOCK, 0), obj, 0, 0);
  real();
  weft_wait_ended(weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_BARRIER, WEFT_OP_LOCK, 0), obj));
}

WEFT_PUBLIC void GOMP_barrier(void) { team_barrier(NEED(rt_of(CALLER()), GOMP_barrier)); }
WEFT_PUBLIC void GOMP_loop_end(void) { team_barrier(NEED(rt_of(CALLER()), GOMP_loop_end)); }
WEFT_PUBLIC void GOMP_sections_end(void) { team_barrier(NEED(rt_of(CALLER()), GOMP_sections_end)); }

/* ---- tasks: passed through, their existence said once ---- */
static _Atomic int tasks_said;

static inline void tasks_made(void) {
  if (WEFT_UNLIKELY(!atomic_load_explicit(&tasks_said, memory_order_relaxed)) && weft_on() &&
      !atomic_exchange(&tasks_said, 1)) {
    /* (on a word of its own: the importer keeps it as meta omp_tasks, no object) */
    weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_COND, WEFT_OP_OMP, 0), (uint64_t)(uintptr_t)&tasks_said, 1, 0);
  }
}

WEFT_PUBLIC void GOMP_task(OmpFn fn, void *data, void (*cpyfn)(void *, void *), long size, long align, bool if_clause,
                           unsigned flags, void **depend, int priority, void *detach) {
  const Runtime *rt = rt_of(CALLER());
  tasks_made();
  NEED(rt, GOMP_task)(fn, data, cpyfn, size, align, if_clause, flags, depend, priority, detach);
}

WEFT_PUBLIC void GOMP_taskloop(OmpFn fn, void *data, void (*cpyfn)(void *, void *), long size, long align,
                               unsigned flags, unsigned long ntasks, int priority, long start, long end, long step) {
  const Runtime *rt = rt_of(CALLER());
  tasks_made();
  NEED(rt, GOMP_taskloop)(fn, data, cpyfn, size, align, flags, ntasks, priority, start, end, step);
}

WEFT_PUBLIC void GOMP_taskloop_ull(OmpFn fn, void *data, void (*cpyfn)(void *, void *), long size, long align,
                                   unsigned flags, unsigned long ntasks, int priority, unsigned long long start,
                                   unsigned long long end, unsigned long long step) {
  const Runtime *rt = rt_of(CALLER());
  tasks_made();
  NEED(rt, GOMP_taskloop_ull)(fn, data, cpyfn, size, align, flags, ntasks, priority, start, end, step);
}

/* ---- critical sections and locks: a mutex's records ---- */
/* A wait for obj (announced since w was read) in call(rt, arg), recorded. */
static void lock_waited(const WeftWaitStart *w, void *obj, void (*call)(const Runtime *, void *), const Runtime *rt,
                        void *arg) {
  weft_wait_begin_at(w, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), (uint64_t)(uintptr_t)obj, 0, 0);
  call(rt, arg);
  uint64_t at = weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), (uint64_t)(uintptr_t)obj);
  weft_unannounce(obj);
  _weft_acquired_recorded(WEFT_KIND_MUTEX, obj, at);
}

/* A release of obj by call(rt, arg): a REL when someone waits. */
static void lock_release(void *obj, void (*call)(const Runtime *, void *), const Runtime *rt, void *arg) {
  WeftRelease rel;
  weft_release_pre(WEFT_KIND_MUTEX, obj, &rel);
  call(rt, arg);
  int e = errno;
  weft_release_post(WEFT_KIND_MUTEX, obj, &rel, 0);
  errno = e;
}

static void crit_start(const Runtime *rt, void *pp) { NEED(rt, GOMP_critical_name_start)(pp); }
static void crit_end(const Runtime *rt, void *pp) { NEED(rt, GOMP_critical_name_end)(pp); }
static void lock_set(const Runtime *rt, void *l) { NEED(rt, omp_set_lock)(l); }
static void lock_unset(const Runtime *rt, void *l) { NEED(rt, omp_unset_lock)(l); }

/* The unnamed critical section's lock: libgomp's is a static of its own, out
 * of reach, so every unnamed one goes to libgomp's named critical section on
 * this word instead (the same exclusion: all unnamed ones share it, and
 * nothing else of libgomp took the static one). */
static void *default_critical;

/* libgomp's compare-and-swap of the critical section's word, 0 to 1 (its mutex's fast path) */
static inline bool crit_try(void **pp) {
  int free_word = 0;
  return __atomic_compare_exchange_n((int *)pp, &free_word, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* A critical section's lock is libgomp's mutex in the name's pointer-sized
 * word (an int: 0 free, 1 held, -1 held with sleepers; GOMP_critical_name_start's
 * own layout on Linux), which libgomp takes with a compare-and-swap of 0 to 1
 * first. The agent makes that try itself, as libgomp would: taken, the
 * acquisition is counted; else the thread announces itself and tries once
 * more (a holder that left before the announcement could not see it), then
 * it is a wait, recorded as a mutex's around libgomp's call, which tries
 * again and then spins and sleeps. libgomp's GOMP_critical_name_end releases
 * it either way. */
static void critical_enter(const Runtime *rt, void **pp) {
  if (!weft_on() || rt->kmpc) {
    NEED(rt, GOMP_critical_name_start)(pp);
    return;
  }
  WeftThread *t = &_weft_tls;
  if (WEFT_UNLIKELY(t->omp_crit != pp)) { /* (the thread's last one: no look in the table) */
    t->omp_crit = pp;
    if (!seen_before(seen, (uint64_t)(uintptr_t)pp)) /* (w2 1: the unnamed one) */
      weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_OMP, 0), (uint64_t)(uintptr_t)pp,
                 pp == &default_critical, weft_stack_init());
  }
  if (WEFT_LIKELY(crit_try(pp))) {
    weft_acq(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0, pp);
    return;
  }
  WeftWaitStart w;
  weft_wait_start(&w, 0);
  weft_announce(pp);
  if (crit_try(pp)) {
    weft_unannounce(pp);
    weft_acq(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0, pp);
    return;
  }
  lock_waited(&w, pp, crit_start, rt, pp);
}

static void critical_leave(const Runtime *rt, void **pp) {
  if (!weft_on() || rt->kmpc)
    NEED(rt, GOMP_critical_name_end)(pp);
  else
    lock_release(pp, crit_end, rt, pp);
}

/* (LLVM's and Intel's runtimes: their own unnamed critical section) */
WEFT_PUBLIC void GOMP_critical_start(void) {
  const Runtime *rt = rt_of(CALLER());
  if (rt->kmpc)
    NEED(rt, GOMP_critical_start)();
  else
    critical_enter(rt, &default_critical);
}
WEFT_PUBLIC void GOMP_critical_end(void) {
  const Runtime *rt = rt_of(CALLER());
  if (rt->kmpc)
    NEED(rt, GOMP_critical_end)();
  else
    critical_leave(rt, &default_critical);
}
WEFT_PUBLIC void GOMP_critical_name_start(void **pp) { critical_enter(rt_of(CALLER()), pp); }
WEFT_PUBLIC void GOMP_critical_name_end(void **pp) { critical_leave(rt_of(CALLER()), pp); }

/* ---- OpenMP locks (omp_lock_t, omp_nest_lock_t): a mutex of the program's, as pthread's ---- */
static int lock_try(const Runtime *rt, void *l) { return NEED(rt, omp_test_lock)(l); }
static int nest_try(const Runtime *rt, void *l) { return NEED(rt, omp_test_nest_lock)(l); }
static void nest_set(const Runtime *rt, void *l) { NEED(rt, omp_set_nest_lock)(l); }
static void nest_unset(const Runtime *rt, void *l) { NEED(rt, omp_unset_nest_lock)(l); }

static void lock_made(void *l) {
  if (weft_on())
    weft_emit3(WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), (uint64_t)(uintptr_t)l, 0, weft_stack_init());
}

static void lock_unmade(void *l) {
  if (weft_on()) {
    _weft_count_destroy(WEFT_KIND_MUTEX, l);
    weft_emit1(WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), (uint64_t)(uintptr_t)l);
  }
}

/* A try first (the runtime's own test): taken, counted; else a wait, as a mutex's. */
static void lock_take(const Runtime *rt, void *l, int (*try)(const Runtime *, void *),
                      void (*set)(const Runtime *, void *)) {
  if (!weft_on()) {
    set(rt, l);
    return;
  }
  if (WEFT_LIKELY(try(rt, l))) {
    weft_acq(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0, l);
    return;
  }
  WeftWaitStart w;
  weft_wait_start(&w, 0);
  weft_announce(l);
  if (try(rt, l)) { /* (released before the announcement: no wait) */
    weft_unannounce(l);
    weft_acq(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0, l);
    return;
  }
  lock_waited(&w, l, set, rt, l);
}

static void lock_give(const Runtime *rt, void *l, void (*unset)(const Runtime *, void *)) {
  if (!weft_on())
    unset(rt, l);
  else
    lock_release(l, unset, rt, l);
}

WEFT_PUBLIC void omp_init_lock(OmpLock *l) {
  NEED(rt_of(CALLER()), omp_init_lock)(l);
  lock_made(l);
}

WEFT_PUBLIC void omp_destroy_lock(OmpLock *l) {
  const Runtime *rt = rt_of(CALLER());
  lock_unmade(l);
  NEED(rt, omp_destroy_lock)(l);
}

WEFT_PUBLIC int omp_test_lock(OmpLock *l) {
  int r = NEED(rt_of(CALLER()), omp_test_lock)(l);
  if (weft_on()) weft_acq(WEFT_KIND_MUTEX, WEFT_OP_TRY, r ? 0 : EBUSY, l);
  return r;
}

WEFT_PUBLIC void omp_set_lock(OmpLock *l) { lock_take(rt_of(CALLER()), l, lock_try, lock_set); }
WEFT_PUBLIC void omp_unset_lock(OmpLock *l) { lock_give(rt_of(CALLER()), l, lock_unset); }

WEFT_PUBLIC void omp_init_nest_lock(OmpNestLock *l) {
  NEED(rt_of(CALLER()), omp_init_nest_lock)(l);
  lock_made(l);
}

WEFT_PUBLIC void omp_destroy_nest_lock(OmpNestLock *l) {
  const Runtime *rt = rt_of(CALLER());
  lock_unmade(l);
  NEED(rt, omp_destroy_nest_lock)(l);
}

/* (the nesting count it returns: 0 not taken) */
WEFT_PUBLIC int omp_test_nest_lock(OmpNestLock *l) {
  int r = NEED(rt_of(CALLER()), omp_test_nest_lock)(l);
  if (weft_on()) weft_acq(WEFT_KIND_MUTEX, WEFT_OP_TRY, r ? 0 : EBUSY, l);
  return r;
}

WEFT_PUBLIC void omp_set_nest_lock(OmpNestLock *l) { lock_take(rt_of(CALLER()), l, nest_try, nest_set); }
WEFT_PUBLIC void omp_unset_nest_lock(OmpNestLock *l) { lock_give(rt_of(CALLER()), l, nest_unset); }

/* After fork: the child's only thread may have been forked while another held a lock of ours. */
void _weft_omp_atfork_child(void) {
  atomic_flag_clear_explicit(&rt_lock, memory_order_relaxed);
  atomic_flag_clear_explicit(&team_lock, memory_order_relaxed);
}
