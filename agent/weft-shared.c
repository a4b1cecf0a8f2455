/* weft-shared.c - the identity of objects in shared memory (SHARED records).
 * SPDX-License-Identifier: MIT
 *
 * A process-shared lock, semaphore or condition variable (a multiprocessing
 * Lock: a sem_open'ed semaphore; a PTHREAD_PROCESS_SHARED mutex in a
 * MAP_SHARED mapping) is one object in every process that maps it, at an
 * address of each process's own. Its identity is the backing of that
 * address: the mapped file's device and inode and the object's offset in it
 * (a deleted /dev/shm file, or the shmem inode of an anonymous shared
 * mapping, which forked children share). The SHARED record gives it once per
 * object and process, found in /proc/self/maps the first time a thread of
 * the process counts the object or waits on it (never on the uncontended fast
 * path, which only counts: a count's entry begins once per thread and flush),
 * and after the INIT of one (pthread_*_init, sem_init, a sem_open that
 * creates it: its creator may never take it; the first SHARED_INIT_MAX of a
 * process). A destroy frees its slot: an object made again there is new.
 * Only objects glibc marks process-shared are looked up; a table of those
 * done (per process life: a fork child starts over) keeps it to once. No
 * stdio, no lock: the file is read with open/read/close while the thread is
 * busy (wrappers pass through), and errno is kept.
 */
#include "weft-agent-private.h"

#include <fcntl.h>
#include <unistd.h>

#define SHARED_SLOTS    1024u /* objects identified per process; past that, no more */
#define SHARED_PROBE    16u
#define SHARED_INIT_MAX 256u /* of them, identified at their init (the rest when first used) */

static _Atomic uint64_t shared_done[SHARED_SLOTS];
static _Atomic uint32_t shared_inits; /* identified at their init, this process life */
static _Atomic uint32_t shared_inits_gen;

static uint64_t shared_key(uint64_t obj, unsigned kind) {
  return obj | (uint64_t)(_weft_proc.gen & 0xff) << 48 | (uint64_t)kind << 56;
}

static uint32_t shared_hash(uint64_t obj) { return (uint32_t)((obj >> 3) * 0x9e3779b97f4a7c15ull >> 40); }

/* Is key in its probe window? */
static int shared_present(uint64_t key, uint32_t h) {
  for (uint32_t i = 0; i < SHARED_PROBE; i++)
    if (atomic_load_explicit(&shared_done[(h + i) & (SHARED_SLOTS - 1)], memory_order_relaxed) == key) return 1;
  return 0;
}

/* May one more object be identified at its init? At most SHARED_INIT_MAX a
 * process life: a program that makes many process-shared objects (a lock per
 * bucket of a shared table) pays one /proc/self/maps read for each of those
 * only, and leaves the table's other slots to the objects it uses. */
static int shared_init_room(void) {
  uint32_t gen = (uint32_t)_weft_proc.gen;
  if (atomic_load_explicit(&shared_inits_gen, memory_order_relaxed) != gen) { /* a fork child starts over */
    atomic_store_explicit(&shared_inits, 0, memory_order_relaxed);
    atomic_store_explicit(&shared_inits_gen, gen, memory_order_relaxed);
  }
  return atomic_fetch_add_explicit(&shared_inits, 1, memory_order_relaxed) < SHARED_INIT_MAX;
}

/* 1 the first time (obj, kind) is claimed in this process life, else 0 (and
 * 0 at an init past the budget: shared_init_room). The whole window is
 * searched for it before a free slot is taken: a destroy frees slots, so an
 * object can sit past a free one (two threads claiming one object at once
 * may both take a slot: a duplicate record, which readers ignore, and
 * _weft_shared_forget clears every copy). */
static int shared_claim(uint64_t obj, unsigned kind, int at_init) {
  uint64_t key = shared_key(obj, kind);
  uint32_t h = shared_hash(obj);
  /* (at an init, an object identified already spends none of the budget) */
  if (shared_present(key, h) || (at_init && !shared_init_room())) return 0;
  for (uint32_t i = 0; i < SHARED_PROBE; i++) {
    _Atomic uint64_t *s = &shared_done[(h + i) & (SHARED_SLOTS - 1)];
    uint64_t cur = atomic_load_explicit(s, memory_order_relaxed);
    if (cur == key) return 0;
    /* an entry of an earlier process life (before a fork) is free again */
    if ((cur == 0 || ((cur >> 48) & 0xff) != (key >> 48 & 0xff)) && atomic_compare_exchange_strong(s, &cur, key))
      return 1;
    if (atomic_load_explicit(s, memory_order_relaxed) == key) return 0;
  }
  return 0; /* full: give up on this one */
}

static int hexval(int c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* The shared mapping that holds addr: its file's device, inode and addr's
 * offset in it. 0, or -1 when addr is not in a shared mapping of a file.
 * Reads /proc/self/maps a piece at a time, one line's fields as they come:
 * "start-end perms offset major:minor inode path". */
static int maps_find(uint64_t addr, uint64_t *dev, uint64_t *ino, uint64_t *off) {
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[512];
  uint64_t f[6] = {0}; /* start, end, offset, major, minor, inode */
  int field = 0, shared = 0, col = 0, found = -1, stop = 0;
  ssize_t n;
  while (!stop && (n = read(fd, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n && !stop; i++) {
      char c = buf[i];
      if (c == '\n') {
        if (f[0] <= addr && addr < f[1] && shared && f[5] != 0) {
          *dev = f[3] << 32 | f[4];
          *ino = f[5];
          *off = f[2] + (addr - f[0]);
          found = 0;
        }
        stop = found == 0 || f[0] > addr; /* the lines are in address order */
        for (int k = 0; k < 6; k++) f[k] = 0;
        field = shared = col = 0;
        continue;
      }
      if (field >= 7) continue; /* the path */
      if (c == '-' && field == 0) {
        field = 1;
        continue;
      }
      if (c == ':' && field == 4) {
        field = 5;
        continue;
      }
      if (c == ' ') {
        if (field == 1 || field == 2 || field == 3 || field == 5)
          field = field == 5 ? 6 : field + 1;
        else if (field == 6)
          field = 7;
        col = 0;
        continue;
      }
      switch (field) {
        case 0: f[0] = f[0] << 4 | (uint64_t)(hexval(c) & 15); break;
        case 1: f[1] = f[1] << 4 | (uint64_t)(hexval(c) & 15); break;
        case 2:
          if (col++ == 3) shared = c == 's';
          break;
        case 3: f[2] = f[2] << 4 | (uint64_t)(hexval(c) & 15); break;
        case 4: f[3] = f[3] << 4 | (uint64_t)(hexval(c) & 15); break;
        case 5: f[4] = f[4] << 4 | (uint64_t)(hexval(c) & 15); break;
        case 6: f[5] = f[5] * 10 + (uint64_t)(c >= '0' && c <= '9' ? c - '0' : 0); break;
        default: break;
      }
    }
  }
  close(fd);
  return found;
}


/* An rwlock's read and write operations are on one object. */
static unsigned shared_kind(unsigned kind) {
  return kind == WEFT_KIND_RWLOCK_RD || kind == WEFT_KIND_RWLOCK_WR ? WEFT_KIND_RWLOCK : kind;
}

void _weft_shared_note(unsigned kind, const volatile void *obj, int at_init) {
  uint64_t o = (uint64_t)(uintptr_t)obj;
  kind = shared_kind(kind);
  if (!shared_claim(o, kind, at_init)) return;
  WeftThread *t = &_weft_tls;
  int saved = errno;
  uint64_t dev = 0, ino = 0, off = 0;
  weft_busy_enter();
  int r = maps_find(o, &dev, &ino, &off);
  weft_busy_leave();
  errno = saved;
  if (r < 0) return;
  uint64_t now = weft_ticks();
  uint64_t *p = weft_reserve(t, 5, &now);
  if (!p) return;
  weft_enc_shared(p, o, dev, ino, off);
  weft_publish(t, p, WEFT_EV_SHARED, 5, WEFT_AUX(kind, 0, 0), now);
}

/* obj destroyed: its slots are free (every copy), so an object made again at
 * its address is identified anew. */
void _weft_shared_forget(unsigned kind, const volatile void *obj) {
  uint64_t o = (uint64_t)(uintptr_t)obj;
  uint64_t key = shared_key(o, shared_kind(kind));
  uint32_t h = shared_hash(o);
  for (uint32_t i = 0; i < SHARED_PROBE; i++) {
    uint64_t cur = key;
    atomic_compare_exchange_strong(&shared_done[(h + i) & (SHARED_SLOTS - 1)], &cur, 0);
  }
}
