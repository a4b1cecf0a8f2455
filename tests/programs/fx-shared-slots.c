/* fx-shared-slots.c - three process-shared semaphores whose addresses share
 * one slot window of the agent's table of identified shared objects
 * (agent/weft-shared.c: shared_hash; the fixture copies that hash, so it
 * tests the agent's table as it is), used so that a stale copy of one of
 * them would be left behind a freed slot.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-shared-slots
 * x is made (slot h), y is made (h + 1), x destroyed (h free), y waited on
 * (a wait identifies it: a table that claims the first free slot puts a
 * second copy of y at h), y destroyed, z made (h), y made again, then a
 * forked child and the parent take y 5 and 3 times. The remade y is one
 * object of both processes, acquired 8 times, when its identity is written
 * again after its destroy.
 * stdout: "shared-slots y acquired 8 times"; stderr: fx: y=ADDR
 */
#include "fx-common.h"

#include <semaphore.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

/* the agent's shared_hash, and its table's size (SHARED_SLOTS) */
static uint32_t slot_of(const void *p) {
  return (uint32_t)(((uint64_t)(uintptr_t)p >> 3) * 0x9e3779b97f4a7c15ull >> 40) & 1023;
}

int main(void) {
  size_t len = 8u << 20;
  char *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) fx_die("mmap", errno);
  sem_t *x = (sem_t *)base, *y = NULL, *z = NULL;
  uint32_t h = slot_of(x);
  for (size_t off = 64; off + 64 < len && !z; off += 64)
    if (slot_of(base + off) == h) {
      if (!y)
        y = (sem_t *)(base + off);
      else
        z = (sem_t *)(base + off);
    }
  if (!z) fx_die("no three addresses of one slot", ENOENT);
  fx_info("y=%p", (void *)y);
  fx_ok(sem_init(x, 1, 1), "sem_init x");
  fx_ok(sem_init(y, 1, 0), "sem_init y");
  fx_ok(sem_destroy(x), "sem_destroy x");
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 1000000;
  if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
  if (sem_timedwait(y, &ts) == 0) fx_die("sem_timedwait y: no timeout", EINVAL);
  fx_ok(sem_destroy(y), "sem_destroy y");
  fx_ok(sem_init(z, 1, 1), "sem_init z");
  fx_ok(sem_init(y, 1, 1), "sem_init y again");
  pid_t c = fork();
  if (c < 0) fx_die("fork", errno);
  if (c == 0) {
    for (int i = 0; i < 5; i++) sem_wait(y), sem_post(y);
    _exit(0);
  }
  int st;
  if (waitpid(c, &st, 0) != c || !WIFEXITED(st) || WEXITSTATUS(st) != 0) fx_die("child", ECHILD);
  for (int i = 0; i < 3; i++) sem_wait(y), sem_post(y);
  printf("shared-slots y acquired 8 times\n");
  return 0;
}
