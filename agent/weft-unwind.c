/* weft-unwind.c - call stacks (libunwind), deduplicated, and the module map.
 * SPDX-License-Identifier: MIT
 *
 * A stack is defined once per process by a STACK record (id, return addresses)
 * written just before the first record that refers to it. Deduplication uses a
 * lock-free open-addressing table keyed by a 64-bit hash of the addresses: a
 * slot is claimed with CAS; a racing thread that finds a claimed slot whose id
 * is not yet published simply defines its own copy (harmless duplicate).
 *
 * Modules (the executable and every shared object, with build-ids) are written
 * at start and again whenever the loader's count of loaded objects changes,
 * checked at each stack capture and at exit. Called with the agent busy.
 */
#include "weft-agent-private.h"

#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if HAVE_LIBUNWIND
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#endif

#define WEFT_STACK_SLOTS 16384u /* power of two */
#define WEFT_STACK_PROBE 16u

typedef struct {
  _Atomic uint64_t hash;
  _Atomic uint32_t id;
} StackSlot;

static StackSlot *_Atomic stack_table;
static _Atomic uint32_t stack_next = 1;

void _weft_stacks_reset(void) {
  /* after fork: ids defined in the parent's file mean nothing in ours */
  StackSlot *old = atomic_exchange(&stack_table, NULL);
  if (old) munmap(old, WEFT_STACK_SLOTS * sizeof(StackSlot));
  atomic_store(&stack_next, 1);
}

static StackSlot *table(void) {
  StackSlot *tb = atomic_load_explicit(&stack_table, memory_order_acquire);
  if (tb) return tb;
  void *m = mmap(NULL, WEFT_STACK_SLOTS * sizeof(StackSlot), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return NULL;
  StackSlot *expect = NULL;
  if (!atomic_compare_exchange_strong(&stack_table, &expect, (StackSlot *)m)) {
    munmap(m, WEFT_STACK_SLOTS * sizeof(StackSlot));
    return expect;
  }
  return m;
}

static uint64_t hash_ips(void *const *ips, int n) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ (uint64_t)n;
  for (int i = 0; i < n; i++) {
    h ^= (uint64_t)(uintptr_t)ips[i];
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
  }
  return h ? h : 1;
}

static void emit_stack(uint32_t id, void *const *ips, int n) {
  WeftThread *t = &_weft_tls;
  unsigned words = 2 + (unsigned)n;
  uint64_t now = weft_ticks();
  /* weft_reserve would refuse: we are busy; the thread is active here */
  t->busy--;
  uint64_t *p = weft_reserve(t, words, &now);
  t->busy++;
  if (!p) return;
  p[1] = (uint64_t)id | ((uint64_t)(uint32_t)n << 32);
  for (int i = 0; i < n; i++) p[2 + i] = (uint64_t)(uintptr_t)ips[i];
  weft_publish(t, p, WEFT_EV_STACK, words, 0, now);
}

uint32_t _weft_stack_id(void) {
#if HAVE_LIBUNWIND
  void *raw[WEFT_STACK_MAX_DEPTH + 8];
  int saved = errno;
  weft_busy_enter();
  _weft_modules_scan(0);
  int n = unw_backtrace(raw, (int)(sizeof raw / sizeof raw[0]));
  /* drop the agent's own frames at the top */
  int first = 0;
  while (first < n && (uintptr_t)raw[first] >= _weft_proc.self_lo &&
         (uintptr_t)raw[first] < _weft_proc.self_hi)
    first++;
  void **ips = raw + first;
  n -= first;
  if (n > (int)WEFT_STACK_MAX_DEPTH) n = (int)WEFT_STACK_MAX_DEPTH;
  uint32_t id = 0;
  if (n > 0) {
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
            id = atomic_fetch_add(&stack_next, 1);
            emit_stack(id, ips, n);
            atomic_store_explicit(&s->id, id, memory_order_release);
            goto done;
          }
          if (expect == h) {
            id = atomic_load_explicit(&s->id, memory_order_acquire);
            break;
          }
        }
      }
    }
    if (id == 0) {
      id = atomic_fetch_add(&stack_next, 1);
      emit_stack(id, ips, n);
    }
  }
done:
  weft_busy_leave();
  errno = saved;
  return id;
#else
  return 0;
#endif
}

/* ---- modules ---- */
#define WEFT_MOD_MAX 1024
static uintptr_t mod_seen[WEFT_MOD_MAX]; /* start addresses already written */
static int mod_nseen;
static unsigned long long mod_adds = ~0ull;
static _Atomic int mod_scanning;

static int first_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  *(unsigned long long *)data = info->dlpi_adds;
  return 1;
}

static void emit_module(struct dl_phdr_info *info, uintptr_t lo, uintptr_t hi) {
  uint8_t id[20] = {0};
  unsigned idlen = 0;
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
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
          memcmp(p + sizeof *nh, "GNU", 4) == 0) {
        idlen = nh->n_descsz < 20 ? nh->n_descsz : 20;
        memcpy(id, p + sizeof *nh + nsz, idlen);
        break;
      }
      p += all;
      left -= all;
    }
    if (idlen) break;
  }
  char exe[1024];
  const char *path = info->dlpi_name;
  if (!path || !*path) {
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = 0;
    path = exe;
  }
  uint64_t fixed[7] = {(uint64_t)info->dlpi_addr, lo, hi, idlen, 0, 0, 0};
  memcpy(&fixed[4], id, 20);
  WeftThread *t = &_weft_tls;
  t->busy--;
  _weft_emit_str(WEFT_EV_MODULE, 0, fixed, 7, path, NULL);
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
  for (int i = 0; i < mod_nseen; i++)
    if (mod_seen[i] == lo) return 0;
  if (mod_nseen < WEFT_MOD_MAX) mod_seen[mod_nseen++] = lo;
  emit_module(info, lo, hi);
  return 0;
}

void _weft_modules_scan(int force) {
  if (force) {
    mod_nseen = 0;
    mod_adds = ~0ull;
  }
  unsigned long long adds = 0;
  dl_iterate_phdr(first_cb, &adds);
  if (adds == mod_adds) return;
  int expect = 0;
  if (!atomic_compare_exchange_strong(&mod_scanning, &expect, 1)) return;
  mod_adds = adds;
  dl_iterate_phdr(module_cb, NULL);
  atomic_store(&mod_scanning, 0);
}
