/* fx-futex.c - exactly K futex waits woken by another thread, made through
 * syscall(SYS_futex), as C++20's std::barrier and Rust's locks make them.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-futex [K=10]
 * Round r (0 <= r < K): the waiter sleeps in FUTEX_WAIT on `word` while it
 * is r; main sees it asleep (its task state is S, after it said it had
 * finished round r - 1), sets `word` to r + 1 and wakes it with FUTEX_WAKE
 * (which returns 1). So the waiter's K waits each end with result 0, woken by
 * main. Then the waiter waits once with a value `word` no longer has: the
 * call returns EAGAIN at once; and main wakes `word` once more with no one
 * waiting: the call returns 0.
 * Expected: K + 1 futex WAIT_BEGIN/WAIT_END of the waiter on `word` (K
 * results 0, then one EAGAIN), K futex SIGNALs by main (none for the last
 * wake), the waits named by the marked line.
 * stdout: "fx-futex rounds=K eagain=yes unwoken=0"
 * stderr: "fx: word=ADDR main_tid=T waiter_tid=T wait_line=N"
 */
#include "fx-common.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>

static _Atomic uint32_t word;
static _Atomic long finished; /* rounds the waiter has finished */
static _Atomic pid_t waiter_tid;
static long k_rounds;
static int wait_line, eagain;

/* (a macro: the wait's call site is the line that uses it) */
#define FUTEX(w, op, val) syscall(SYS_futex, (uint32_t *)(w), (op), (uint32_t)(val), NULL, NULL, 0)

static void *waiter(void *arg) {
  (void)arg;
  atomic_store(&waiter_tid, fx_tid());
  for (long r = 0; r < k_rounds; r++) {
    while (atomic_load(&word) == (uint32_t)r) {
      /* clang-format off */
      FUTEX(&word, FUTEX_WAIT_PRIVATE, r); wait_line = __LINE__; /* WAIT: one line */
      /* clang-format on */
    }
    atomic_store(&finished, r + 1);
  }
  /* a value the word no longer has: no sleep */
  eagain = FUTEX(&word, FUTEX_WAIT_PRIVATE, k_rounds + 1) == -1 && errno == EAGAIN;
  return NULL;
}

int main(int argc, char **argv) {
  k_rounds = fx_arg(argc, argv, 1, 10);
  pthread_t t;
  fx_ok(pthread_create(&t, NULL, waiter, NULL), "pthread_create");
  FX_WAIT_UNTIL(atomic_load(&waiter_tid) != 0, "the waiter's tid");
  pid_t wt = atomic_load(&waiter_tid);
  for (long r = 0; r < k_rounds; r++) {
    /* it finished round r - 1 and sleeps in its next wait */
    FX_WAIT_UNTIL(atomic_load(&finished) == r && fx_task_state(wt) == 'S', "the waiter asleep on the word");
    atomic_store(&word, (uint32_t)r + 1);
    if (FUTEX(&word, FUTEX_WAKE_PRIVATE, 1) != 1) {
      fprintf(stderr, "fx: error: FUTEX_WAKE woke no one in round %ld\n", r);
      return 1;
    }
  }
  fx_ok(pthread_join(t, NULL), "pthread_join");
  long unwoken = FUTEX(&word, FUTEX_WAKE_PRIVATE, 1);
  fx_info("word=%p main_tid=%d waiter_tid=%d wait_line=%d", (void *)&word, (int)fx_tid(), (int)wt, wait_line);
  printf("fx-futex rounds=%ld eagain=%s unwoken=%ld\n", k_rounds, eagain ? "yes" : "no", unwoken);
  return 0;
}
