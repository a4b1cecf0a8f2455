/* weft-unwind.c - call stacks (libunwind), deduplicated, and the module map.
 * SPDX-License-Identifier: MIT
 *
 * libunwind is loaded (dlopen) when the first stack is wanted, and a walk
 * is skipped when a per-thread cache proves the stack is one walked before
 * (see StackCache). Under Python frames, whose stacks seldom repeat, the walk
 * is libunwind's fast trace instead (walk_fast).
 *
 * A stack is defined once per process by a STACK record (id, return addresses)
 * written just before the first record that refers to it. In a thread that
 * runs Python, the stack begins with its Python frames (weft-pystack.c),
 * innermost first, and goes on with at most WEFT_STACK_C_MAX_PY C frames,
 * walked fast and never cached (its Python frames differ from one stack to
 * the next far more often than its C ones repeat). Deduplication uses a
 * lock-free open-addressing table keyed by a 64-bit hash of the addresses: a
 * slot is claimed with CAS; a racing thread that finds a claimed slot whose id
 * is not yet published simply defines its own copy (harmless duplicate).
 *
 * Modules (the executable and every shared object, with build-ids) are written
 * at start and again whenever the loader's count of loaded objects changes,
 * checked at each stack capture and at exit. Called with the agent busy.
 */
#include "weft-agent-private.h"

#include <sched.h>
#include <signal.h>

#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <dlfcn.h>
#include <libunwind.h>
#endif

#define WEFT_STACK_SLOTS 16384u /* power of two */
#define WEFT_STACK_PROBE 16u

typedef struct {
  _Atomic uint64_t hash;
  _Atomic uint32_t id;
} StackSlot;

/* The table (StackSlot[WEFT_STACK_SLOTS]) and the next id less 1 are
 * _weft_proc's stack_table and stack_next: where a fork child's reset
 * writes (a store of 0, none where there is nothing to reset). */

WEFT_START_CODE void _weft_stacks_reset(void) {
  /* after fork: ids defined in the parent's file mean nothing in ours. Our
   * copy of the parent's table is left untouched (not unmapped: a system
   * call in every child); a new one comes with the first stack. */
  if (atomic_load(&_weft_proc.stack_table))
    atomic_store(&_weft_proc.stack_table, NULL); /* a store only where needed: a fork */
  if (atomic_load(&_weft_proc.stack_next))
    atomic_store(&_weft_proc.stack_next, 0); /* child's first write to a page copies it */
  _weft_py_reset();
}

void *_weft_map_once(void *_Atomic *at, size_t bytes) {
  void *tb = atomic_load_explicit(at, memory_order_acquire);
  if (tb) return tb;
  void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return NULL;
  void *expect = NULL;
  if (!atomic_compare_exchange_strong(at, &expect, m)) { /* another thread's came first */
    munmap(m, bytes);
    return expect;
  }
  return m;
}

static StackSlot *table(void) { return _weft_map_once(&_weft_proc.stack_table, WEFT_STACK_SLOTS * sizeof(StackSlot)); }

static uint64_t hash_ips(const uint64_t *ips, int n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
  for (int i = 0; i < n; i++) {
    h ^= ips[i];
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  return h ? h : 1;
}

/* tick: the record's time (0: now), that of a wait written after it ended;
 * -1 if it could not be written at that time (weft_reserve_def). */
static int emit_stack(uint32_t id, const uint64_t *ips, int n, uint64_t tick) {
  WeftThread *t = &_weft_tls;
  unsigned words = 2 + (unsigned)n;
  uint64_t now;
  uint64_t *p = weft_reserve_def(t, words, &now, tick);
  if (!p) return tick ? -1 : 0;
  p[1] = weft_enc_stack_w1(id, (uint32_t)n);
  memcpy(p + 2, ips, (size_t)n * sizeof *ips);
  weft_publish(t, p, WEFT_EV_STACK, words, 0, now);
  return 0;
}

/* The id of the stack ips[0..n): defined once per process (STACK record);
 * 0 if it cannot be defined at tick (and then nothing is kept). */
static uint32_t stack_define(const uint64_t *ips, int n, uint64_t tick) {
  if (n <= 0) return 0;
  uint32_t id = 0;
  uint64_t h = hash_ips(ips, n);
  StackSlot *tb = table();
  if (tb) {
    for (uint32_t i = 0; i < WEFT_STACK_PROBE; i++) {
      StackSlot *s = &tb[(h + i) & (WEFT_STACK_SLOTS - 1)];
      uint64_t cur = atomic_load_explicit(&s->hash, memory_order_acquire);
      if (cur == h) {
        id = atomic_load_explicit(&s->id, memory_order_acquire);
        break; /* 0 if another thread is defining it right now: define our own copy */
      }
      if (cur == 0) {
        uint64_t expect = 0;
        if (atomic_compare_exchange_strong(&s->hash, &expect, h)) {
          id = atomic_fetch_add(&_weft_proc.stack_next, 1) + 1;
          if (emit_stack(id, ips, n, tick) != 0) {
            atomic_store_explicit(&s->hash, 0, memory_order_release); /* free again */
            return 0;
          }
          atomic_store_explicit(&s->id, id, memory_order_release);
          return id;
        }
        if (expect == h) {
          id = atomic_load_explicit(&s->id, memory_order_acquire);
          break;
        }
      }
    }
  }
  if (id == 0) {
    id = atomic_fetch_add(&_weft_proc.stack_next, 1) + 1;
    if (emit_stack(id, ips, n, tick) != 0) return 0;
  }
  return id;
}

#if HAVE_LIBUNWIND
/* ---- libunwind, loaded when the first stack is wanted ----
 * Linking it would load it (and liblzma) into every process at start-up,
 * most of which never capture a stack. */
static struct {
  int (*getcontext)(unw_context_t *);
  int (*init_local)(unw_cursor_t *, unw_context_t *);
  int (*step)(unw_cursor_t *);
  int (*get_reg)(unw_cursor_t *, unw_regnum_t, unw_word_t *);
  int (*get_save_loc)(unw_cursor_t *, int, unw_save_loc_t *);
  int (*backtrace)(void **, int);
} unw;
static _Atomic int unw_state; /* 0 not tried, 1 loaded, -1 unavailable, 2 loading */

static int unw_load(void) {
  int st = atomic_load_explicit(&unw_state, memory_order_acquire);
  if (st == 1 || st == -1) return st == 1;
  int expect = 0;
  if (st == 2 || !atomic_compare_exchange_strong(&unw_state, &expect, 2)) {
    /* another thread is loading it (a millisecond or a few): wait for it, but
     * not forever (the loader might need a lock this thread holds); a stack
     * missed here would be the first wait's, which names the lock */
    uint64_t until = weft_ticks() + 50 * _weft_proc.ticks_per_ms;
    while ((st = atomic_load_explicit(&unw_state, memory_order_acquire)) == 2 && weft_ticks() < until) sched_yield();
    return st == 1;
  }
  void *h = dlopen(WEFT_LIBUNWIND_SONAME, RTLD_NOW | RTLD_LOCAL);
  int ok = 0;
  if (h) {
    unw.getcontext = (int (*)(unw_context_t *))dlsym(h, "_Ux86_64_getcontext");
    unw.init_local = (int (*)(unw_cursor_t *, unw_context_t *))dlsym(h, "_ULx86_64_init_local");
    unw.step = (int (*)(unw_cursor_t *))dlsym(h, "_ULx86_64_step");
    unw.get_reg = (int (*)(unw_cursor_t *, unw_regnum_t, unw_word_t *))dlsym(h, "_ULx86_64_get_reg");
    unw.get_save_loc = (int (*)(unw_cursor_t *, int, unw_save_loc_t *))dlsym(h, "_ULx86_64_get_save_loc");
    unw.backtrace = (int (*)(void **, int))dlsym(h, "unw_backtrace");
    ok = unw.getcontext && unw.init_local && unw.step && unw.get_reg && unw.get_save_loc && unw.backtrace;
  }
  atomic_store_explicit(&unw_state, ok ? 1 : -1, memory_order_release);
  return ok;
}

/* ---- a per-thread cache of stacks by call path ----
 * A libunwind walk costs 0.3-0.5 us; a thread waiting again and again from one
 * call site would pay it at every wait. An entry remembers, for the state of
 * the capture point (its stack pointer, frame pointer and the agent's call
 * site), every stack word the walk read to go from one frame to the next (the
 * saved return addresses and frame pointers, by their addresses) and their
 * values. A hit needs all of them equal: from the same registers and the same
 * words, the walk would read the same frames, so the cached stack is the one
 * a walk would find. Anything else (another caller, a changed frame) is a
 * miss and a fresh walk. Per thread: no locks, and its stack's addresses stay
 * mapped.
 * Code built without frame pointers (-O2, most distributions) keeps anything
 * in rbp, a loop counter say, and a callee that uses the register saves it:
 * the saved "frame pointers" then change at every call, and the cache missed
 * every time (mutexbench: a walk, two signal-mask system calls a frame, at
 * each of 200,000 waits a second). rbp's values matter to a walk only where a
 * frame's CFA is computed from rbp (a frame pointer, or libunwind's fallback
 * for code without unwind information, which reads the return address at
 * rbp + 8). A frame unwound by a DWARF rule on rbp has its rbp within the
 * frame (between its stack pointer and its CFA, 16 below the CFA for the
 * usual push-rbp frame); one unwound by the fallback has its return address
 * elsewhere than just below its CFA (frame_may_use_rbp). The key keeps the
 * rbp word (or the capture point's bp) each such frame took its rbp from,
 * and leaves out the other saved rbp words: those frames follow from the
 * stack pointer and the return addresses alone. A step that failed, or a
 * register libunwind could not give, keeps them all. (Not keyed, as
 * before: a DRAP frame's saved CFA word, a signal frame's saved registers
 * on an alternate signal stack, a CFA on another register in hand-written
 * unwind information; and now a DWARF rule that puts the CFA on rbp while
 * rbp lies outside its frame, which no compiler emits.) */
#define SC_ENTRIES 8u
#define SC_WORDS   (2u * (WEFT_STACK_C_MAX + 8u)) /* a return address and a frame pointer a frame, 64 and ours */

typedef struct {
  uint64_t sp, bp, pc; /* the key: capture point's stack and frame pointers, the agent's call site */
  uint32_t valid;      /* 0: free, or a walk that cannot be cached */
  uint32_t fp;         /* a frame's CFA may come from rbp as it was at the capture point: bp in the key */
  uint32_t id;         /* the id of the stack of its C frames alone (0: not defined yet) */
  uint32_t nwords, nips;
  uint32_t off[SC_WORDS]; /* word addresses - sp */
  uint64_t val[SC_WORDS];
  uint64_t ips[WEFT_STACK_C_MAX]; /* the C frames */
} StackCacheEntry;

typedef struct {
  uint32_t next; /* round robin */
  StackCacheEntry e[SC_ENTRIES];
} StackCache;

static StackCache *cache_of(WeftThread *t) {
  if (!t->stack_cache) {
    void *m = mmap(NULL, sizeof(StackCache), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return NULL;
    t->stack_cache = m;
  }
  return t->stack_cache;
}

WEFT_START_CODE void _weft_stack_cache_reset(WeftThread *t, int unmap) {
  if (!t->stack_cache) return;
  /* in a fork child the parent's copy is left as it is, untouched (clearing
   * it would copy its pages; unmapping it, a system call): a new one comes
   * with the first stack */
  if (unmap) munmap(t->stack_cache, sizeof(StackCache));
  t->stack_cache = NULL;
}

static int in_agent(uint64_t ip) { return ip >= _weft_proc.self_lo && ip < _weft_proc.self_hi; }

/* Whether the frame just stepped from (its rbp rbp, its stack pointer spk)
 * may have been unwound with rbp: c is the cursor after the step, whose
 * stack pointer is that frame's CFA. A DWARF rule on rbp has rbp within the
 * frame; libunwind's fallback for code without unwind information reads the
 * return address at rbp + 8 (and sets the CFA to spk + 16), so a return
 * address anywhere but just below the CFA says the step went by rbp, as does
 * a step that read none (the walk's end). */
static int frame_may_use_rbp(unw_cursor_t *c, unw_word_t rbp, unw_word_t spk) {
  unw_word_t cfa;
  unw_save_loc_t loc;
  if (unw.get_reg(c, UNW_X86_64_RSP, &cfa) != 0 || unw.get_save_loc(c, UNW_X86_64_RIP, &loc) != 0 ||
      loc.type != UNW_SLT_MEMORY || loc.u.addr != cfa - 8)
    return 1;
  return (rbp >= spk && rbp <= cfa) || cfa - rbp == 16;
}

/* The words of e but the saved rbp ones no frame's CFA came from (WORD_RBP). */
enum { WORD_RIP = 0, WORD_RBP = 1, WORD_RBP_USED = 2 };
static void drop_rbp_words(StackCacheEntry *e, const uint8_t *what) {
  uint32_t j = 0;
  for (uint32_t i = 0; i < e->nwords; i++)
    if (what[i] != WORD_RBP) e->off[j] = e->off[i], e->val[j] = e->val[i], j++;
  e->nwords = j;
}

/* Walk from the capture point (whose stack pointer is sp), write the frames
 * outside the agent into ips, and the words the walk read at or above sp into
 * the entry (if any): the saved return addresses, and the saved rbp values
 * that a frame's CFA may have come from (each frame's rbp as the walk had it:
 * a word at or above sp, else the capture point's bp, the entry's fp).
 * Returns the number of frames. */
static int __attribute__((noinline)) walk(uint64_t sp, uint64_t *ips, int max, StackCacheEntry *ce) {
  unw_context_t uc;
  unw_cursor_t cur;
  if (unw.getcontext(&uc) != 0 || unw.init_local(&cur, &uc) != 0) {
    if (ce) ce->valid = 0, ce->nwords = 0;
    return 0;
  }
  int n = 0, user = 0, st = 0;
  uint32_t nw = 0;
  int overflow = 0, fp = 0, keep_all = 0; /* keep_all: a frame's rbp or stack pointer unknown */
  uint8_t what[SC_WORDS];
  for (;;) {
    unw_word_t ip = 0, rbp = 0, spk = 0;
    int bpw = -1; /* the word this frame's rbp came from */
    if (ce) {     /* where this frame's return address and frame pointer came from (the last frame's too: the
                   * return address that ended the walk) */
      static const int regs[2] = {UNW_X86_64_RIP, UNW_X86_64_RBP};
      for (int k = 0; k < 2; k++) {
        unw_save_loc_t loc;
        if (unw.get_save_loc(&cur, regs[k], &loc) != 0 || loc.type != UNW_SLT_MEMORY) continue;
        uint64_t a = loc.u.addr;
        if (a < sp) continue; /* below the capture point: the agent's own miss path */
        if (nw >= SC_WORDS || a - sp > UINT32_MAX) {
          overflow = 1;
          continue;
        }
        ce->off[nw] = (uint32_t)(a - sp);
        ce->val[nw] = *(const uint64_t *)(uintptr_t)a;
        what[nw] = k ? WORD_RBP : WORD_RIP;
        if (k) bpw = (int)nw;
        nw++;
      }
      if (unw.get_reg(&cur, UNW_X86_64_RBP, &rbp) != 0 || unw.get_reg(&cur, UNW_X86_64_RSP, &spk) != 0) keep_all = 1;
    }
    if (unw.get_reg(&cur, UNW_REG_IP, &ip) != 0 || !ip) break;
    if (!user && !in_agent(ip)) user = 1;
    if (user) {
      if (n >= max) break;
      ips[n++] = (uint64_t)ip;
    }
    st = unw.step(&cur);
    /* (frames below the capture point are the miss path's, laid out from sp by the agent's code; a step
     * that ended the walk is checked too: whether it ended may have depended on rbp) */
    if (ce && st >= 0 && !keep_all && spk >= sp && frame_may_use_rbp(&cur, rbp, spk)) {
      if (bpw >= 0)
        what[bpw] = WORD_RBP_USED;
      else
        fp = 1;
    }
    if (st <= 0) break;
  }
  if (ce) {
    ce->nwords = nw;
    if (overflow) ce->valid = 0; /* not cacheable */
    if (keep_all || st < 0) {    /* (a step that failed may have tried rbp): every rbp word kept, and bp */
      fp = 1;
      for (uint32_t i = 0; i < nw; i++)
        if (what[i] == WORD_RBP) what[i] = WORD_RBP_USED;
    }
    ce->fp = (uint32_t)fp;
    drop_rbp_words(ce, what);
  }
  return n;
}

/* The frames that lead to ours in a fast walk: libunwind's own
 * (unw_backtrace's) and the agent's (walk_fast, the capture, the wrapper). */
#define WALK_LEAD 16

/* The C frames from the agent's caller outwards into ips (at most max), as
 * walk() finds them, by libunwind's fast trace: per thread it keeps how each
 * return address's frame unwinds (found once by the DWARF rules), and a step
 * after that reads two words. walk()'s unw_step takes 2-5 us a frame on this
 * VM (two signal-mask system calls around each frame's lookup in libunwind's
 * global cache), paid again at every stack that StackCache has not seen: in a
 * thread running Python, at nearly every one (a Python program made 165
 * stacks, each of a lock, in its first 50 ms, 13 ms of them walking). Where
 * the fast trace cannot go on, libunwind finishes the slow way itself. It
 * says nothing of the words it read: no StackCache entry. */
static int __attribute__((noinline)) walk_fast(uint64_t *ips, int max) {
  void *buf[WEFT_STACK_C_MAX + WALK_LEAD];
  int cap = (int)(sizeof buf / sizeof *buf), want = max + WALK_LEAD < cap ? max + WALK_LEAD : cap;
  int got = unw.backtrace(buf, want), i = 0, n = 0;
  while (i < got && !in_agent((uint64_t)(uintptr_t)buf[i])) i++; /* libunwind's */
  while (i < got && in_agent((uint64_t)(uintptr_t)buf[i])) i++;  /* ours */
  /* (a caller's frame as its return address, as walk() has it: checked against unw_step, libunwind 1.6) */
  while (i < got && n < max && buf[i]) ips[n++] = (uint64_t)(uintptr_t)buf[i++];
  return n;
}
#endif

/* careful: the caller may be a signal handler or inside an allocator
 * (_weft_stack_id_signal_safe, _weft_stack_id_if_loaded);
 * pc: the agent's call site (the cache's key, with the stack's registers). */
static uint32_t capture(uint64_t tick, int careful, uint64_t pc) {
#if HAVE_LIBUNWIND
  WeftThread *t = &_weft_tls;
  int saved = errno;
  weft_busy_enter();
  uint32_t id = 0;
  uint64_t sp, bp;
#if defined(__x86_64__)
  __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
  __asm__ volatile("mov %%rbp, %0" : "=r"(bp));
#else
  sp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
  bp = 0;
#endif
  uint64_t w[WEFT_STACK_MAX_DEPTH];
  int np = _weft_py_stack(w, (int)WEFT_PY_MAX_FRAMES, tick), n = 0; /* the Python frames first */
  if (np < 0) { /* a Python frame could not be defined at tick: no stack this time */
    weft_busy_leave();
    errno = saved;
    return 0;
  }
  if (np > 0) { /* Python's: the fast walk, and fewer C frames */
    /* (the fast trace keeps its state in libunwind's thread-local storage, which the loader allocates
     * with malloc at a thread's first use and may again after a dlopen: where the caller may be a signal
     * handler or inside an allocator (careful), the walk that allocates nothing) */
    if (unw_load()) {
      _weft_modules_scan(0);
      n = careful ? walk(sp, w + np, (int)WEFT_STACK_C_MAX_PY, NULL) : walk_fast(w + np, (int)WEFT_STACK_C_MAX_PY);
    }
    id = stack_define(w, np + n, tick);
    weft_busy_leave();
    errno = saved;
    return id;
  }
  StackCache *sc = cache_of(t);
  StackCacheEntry *ce = NULL;
  if (sc) /* a hit: the same key and every word the walk read unchanged */
    for (uint32_t k = 0; k < SC_ENTRIES && !ce; k++) {
      StackCacheEntry *e = &sc->e[k];
      if (!e->valid || e->sp != sp || (e->fp && e->bp != bp) || e->pc != pc) continue;
      uint32_t i = 0;
      while (i < e->nwords && *(const uint64_t *)(uintptr_t)(sp + e->off[i]) == e->val[i]) i++;
      if (i == e->nwords) ce = e;
    }
  if (ce) {
    n = (int)ce->nips;
    if (ce->id)
      id = ce->id;
    else
      memcpy(w, ce->ips, (size_t)n * sizeof *w);
  } else if (unw_load()) {
    ce = sc ? &sc->e[sc->next++ % SC_ENTRIES] : NULL;
    if (ce) {
      ce->valid = 1; /* walk() clears it when the stack cannot be cached */
      ce->id = 0;
      ce->sp = sp;
      ce->bp = bp;
      ce->pc = pc;
    }
    _weft_modules_scan(0);
    n = walk(sp, w, (int)WEFT_STACK_C_MAX, ce);
    if (ce) {
      ce->nips = (uint32_t)n;
      memcpy(ce->ips, w, (size_t)n * sizeof *w);
    }
  }
  if (!id) {
    id = stack_define(w, n, tick);
    if (ce) ce->id = id;
  }
  weft_busy_leave();
  errno = saved;
  return id;
#else
  (void)tick;
  (void)careful;
  (void)pc;
  return 0;
#endif
}

uint32_t _weft_stack_id_at(uint64_t tick) { return capture(tick, 0, (uint64_t)(uintptr_t)__builtin_return_address(0)); }

#if HAVE_LIBUNWIND
/* Can no signal handler be running in this thread? A handler runs with its
 * signal blocked: none of the signals the thread blocks has a handler. A
 * handler's signal blocked outside it (bash blocks SIGCHLD around its job
 * table) reads as a handler: no stack, on the safe side. Not seen: a handler
 * installed with SA_NODEFER (its signal not blocked) or SA_RESETHAND (the
 * disposition reads SIG_DFL once it runs), System V signal()'s flags; only
 * a wrapper of every handler would see those. */
static int no_handler_running(void) {
  sigset_t cur;
  if (pthread_sigmask(SIG_BLOCK, NULL, &cur) != 0) return 0;
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction sa;
    if (sigismember(&cur, sig) != 1 || sigaction(sig, NULL, &sa) != 0) continue;
    if ((sa.sa_flags & SA_SIGINFO) || (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)) return 0;
  }
  return 1;
}
#endif

uint32_t _weft_stack_id_signal_safe(void) {
#if HAVE_LIBUNWIND
  int st = atomic_load_explicit(&unw_state, memory_order_acquire), saved = errno;
  int ok = st == 1 || (st == 0 && no_handler_running());
  errno = saved;
  if (!ok) return 0;
#endif
  return capture(0, 1, (uint64_t)(uintptr_t)__builtin_return_address(0));
}

uint32_t _weft_stack_id_if_loaded(void) {
#if HAVE_LIBUNWIND
  if (atomic_load_explicit(&unw_state, memory_order_acquire) != 1) return 0;
#endif
  return capture(0, 1, (uint64_t)(uintptr_t)__builtin_return_address(0));
}

void _weft_stacks_prepare(void) {
#if HAVE_LIBUNWIND
  if (_weft_proc.stacks < WEFT_STACKS_CONTENDED || atomic_load_explicit(&unw_state, memory_order_relaxed) != 0) return;
  int saved = errno;
  weft_busy_enter();
  unw_load();
  weft_busy_leave();
  _weft_py_thread(); /* and CPython detected (dlsym), after the load: a stack in a handler finds it done */
  errno = saved;
#endif
}

/* ---- modules ----
 * Every loaded object is written once per trace file (MODULE: its load bias,
 * executable range, build-id and path), at start, when a stack is captured
 * after a dlopen, and at exit. What was written is kept: a fork child, whose
 * objects are its parent's, writes its MODULEs from that copy instead of
 * reading each object's notes again (in a new child every first touch of a
 * library page is a page fault). */
#define WEFT_MOD_MAX 1024
typedef struct {
  uintptr_t bias, lo, hi; /* lo: start address (0: free) */
  const char *path;       /* the loader's (link_map) string, or NULL: the executable */
  uint32_t idlen;
  uint8_t id[20];
} WeftModule;
/* The first few (a program's usual objects) in .data, written at start on
 * pages written already; the rest in .bss, touched only when there are more. */
#define WEFT_MOD_NEAR 8
static WeftModule mods_near[WEFT_MOD_NEAR] WEFT_START_DATA;
static WeftModule mods_far[WEFT_MOD_MAX - WEFT_MOD_NEAR];
static int mod_n WEFT_START_DATA;
static inline WeftModule *mod_at(int i) { return i < WEFT_MOD_NEAR ? &mods_near[i] : &mods_far[i - WEFT_MOD_NEAR]; }
static unsigned long long mod_adds = ~0ull; /* the loader's count of loads when the table was made */

unsigned long long _weft_modules_adds(void) { return __atomic_load_n(&mod_adds, __ATOMIC_RELAXED); }
static _Atomic int mod_scanning WEFT_START_DATA;
static uintptr_t mod_sig WEFT_START_DATA; /* map_sig() when the table was last found up to date (0: never) */

/* A signature of the loader's list of objects (its base namespace): read
 * under the loader's lock (dl_iterate_phdr's callback), or where no other
 * thread can load or unload one. */
WEFT_START_CODE static uintptr_t map_sig(void) {
  uintptr_t h = 1469598103934665603ull;
  for (const struct link_map *l = _r_debug.r_map; l; l = l->l_next)
    h = (h ^ (uintptr_t)l ^ (uintptr_t)l->l_addr) * 1099511628211ull;
  return h ? h : 1;
}

typedef struct {
  unsigned long long adds;
  uintptr_t sig;
} LoadState;

WEFT_START_CODE static int first_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  LoadState *st = data;
  st->adds = info->dlpi_adds;
  st->sig = map_sig();
  return 1;
}

static void build_id(struct dl_phdr_info *info, WeftModule *m) {
  m->idlen = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_NOTE) continue;
    const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
    size_t left = ph->p_memsz;
    while (left >= sizeof(ElfW(Nhdr))) {
      const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
      size_t nsz = (nh->n_namesz + 3u) & ~3u, dsz = (nh->n_descsz + 3u) & ~3u;
      size_t all = sizeof *nh + nsz + dsz;
      if (all > left) break;
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(p + sizeof *nh, "GNU", 4) == 0) {
        m->idlen = nh->n_descsz < 20 ? nh->n_descsz : 20;
        memcpy(m->id, p + sizeof *nh + nsz, m->idlen);
        return;
      }
      p += all;
      left -= all;
    }
  }
}

static void emit_module(const WeftModule *m) {
  const char *path = m->path && *m->path ? m->path : _weft_self_exe(NULL);
  uint64_t w[1 + WEFT_ENC_MODULE_FIXED];
  weft_enc_module(w, (uint64_t)m->bias, m->lo, m->hi, m->id, m->idlen);
  WeftThread *t = &_weft_tls;
  t->busy--;
  _weft_emit_str(WEFT_EV_MODULE, 0, w + 1, WEFT_ENC_MODULE_FIXED, path, NULL);
  t->busy++;
}

static int module_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
    uintptr_t a = info->dlpi_addr + ph->p_vaddr;
    if (a < lo) lo = a;
    if (a + ph->p_memsz > hi) hi = a + ph->p_memsz;
  }
  if (hi == 0) return 0;
  for (int i = 0; i < mod_n; i++)
    if (mod_at(i)->lo == lo) return 0;
  WeftModule m = {(uintptr_t)info->dlpi_addr, lo, hi, info->dlpi_name, 0, {0}};
  build_id(info, &m);
  if (mod_n < WEFT_MOD_MAX) *mod_at(mod_n++) = m;
  emit_module(&m);
  return 0;
}

/* Whether a fork child may leave its modules to its parent's file (trace
 * feature MODULES_INHERITED): every entry of the table it copied was written
 * there before the fork. Not while another thread of the parent was filling
 * the table at the fork (the copy may hold an entry not yet written). */
WEFT_START_CODE int _weft_modules_inheritable(void) {
  return __atomic_load_n(&mod_adds, __ATOMIC_RELAXED) != ~0ull && !atomic_load(&mod_scanning);
}

/* again: a new trace file in a process whose objects are known (a fork
 * child that cannot inherit them): all of them into it, from the table if
 * nothing was loaded since */
WEFT_START_CODE void _weft_modules_scan(int again) {
  /* One thread, and the loader's list as it was at the last scan: nothing
   * was loaded since (a fork child at its exit: dl_iterate_phdr and the
   * loader's lock are two pages of libc it may not have run yet). */
  if (!again && mod_sig && _weft_one_thread() && map_sig() == mod_sig) return;
  LoadState st = {0, 0};
  dl_iterate_phdr(first_cb, &st);
  unsigned long long adds = st.adds;
  if (adds == mod_adds && mod_sig != st.sig) mod_sig = st.sig; /* (a store only where it changes) */
  if (adds == mod_adds && !again) return;
  int expect = 0;
  if (!atomic_compare_exchange_strong(&mod_scanning, &expect, 1)) return;
  if (again) {
    if (adds == mod_adds) {
      for (int i = 0; i < mod_n; i++) emit_module(mod_at(i));
      atomic_store(&mod_scanning, 0);
      return;
    }
    mod_n = 0; /* the table is stale: all again */
  }
  __atomic_store_n(&mod_adds, adds, __ATOMIC_RELAXED);
  mod_sig = st.sig;
  dl_iterate_phdr(module_cb, NULL);
  atomic_store(&mod_scanning, 0);
}
