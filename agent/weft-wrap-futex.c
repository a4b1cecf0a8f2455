/* weft-wrap-futex.c - waits on a futex made directly: syscall(SYS_futex, ...).
 * SPDX-License-Identifier: MIT
 *
 * Code that blocks on a word of its own calls the kernel through libc's
 * syscall(): libstdc++'s C++20 std::barrier, std::latch,
 * std::counting_semaphore and std::atomic<T>::wait, Rust's std::sync (Mutex,
 * Condvar, RwLock, Once, thread::park), hand-made locks. glibc's own locks
 * make their system calls inline, never through this function, so nothing
 * is recorded twice.
 *
 * FUTEX_WAIT and FUTEX_WAIT_BITSET are a wait on the word (kind futex, the
 * object its address): WAIT_BEGIN with the call's stack before the call,
 * WAIT_END with its result after (0 woken, EAGAIN the word had changed
 * already, ETIMEDOUT, EINTR), as a lock's wait (the thread's counts go out
 * first: the wait may be long). FUTEX_WAKE and FUTEX_WAKE_BITSET that woke
 * someone are a SIGNAL of the word at the time before the call (so that it
 * comes before the end of every wait it ended; flagged late where writing it
 * had to move its time), which the importer links to those waits; so are
 * FUTEX_REQUEUE and FUTEX_CMP_REQUEUE that asked to wake some (their result
 * counts the waiters moved to the second word too, and those are linked to
 * nothing). A wake that woke no one writes nothing, nor does FUTEX_WAKE_OP.
 *
 * Every other system call, and every one while the agent is off or busy,
 * goes straight to the kernel without a call into libc: the agent's own
 * calls of syscall() come here too. x86-64 only (WEFT_AGENT_FEAT_FUTEX);
 * elsewhere libc's syscall() is left alone. Not told apart: priority-
 * inheritance futexes (FUTEX_LOCK_PI: passed through), futex_waitv, and a
 * word shared between processes (an object of each process).
 */
#include "weft-agent-private.h"

#if defined(__x86_64__)
#include <linux/futex.h>
#include <stdarg.h>

static long futex_wait(long a, long b, long c, long d, long e, long f) {
  /* the thread's counts first (the wait may be long); a stack only once libunwind is loaded: a futex
   * wait may come from inside an allocator's lock or a signal handler, where loading it is not safe
   * (a threaded program has it from its first pthread_create) */
  WeftWaitStart w;
  weft_wait_start_with(&w, 1, _weft_stack_id_if_loaded);
  weft_wait_begin_at(&w, WEFT_AUX(WEFT_KIND_FUTEX, WEFT_OP_LOCK, 0), (uint64_t)a, 0, 0);
  long r = weft_sys6(SYS_futex, a, b, c, d, e, f);
  weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_FUTEX, WEFT_OP_LOCK, r < 0 ? (unsigned)-r : 0), (uint64_t)a);
  return r;
}

static long futex_wake(long a, long b, long c, long d, long e, long f) {
  WeftThread *t = &_weft_tls;
  uint64_t at = weft_ticks(), asked = at;
  long r = weft_sys6(SYS_futex, a, b, c, d, e, f);
  if (r > 0) {
    /* asked to wake one: a signal; else a broadcast ((int): the count is an int argument, the upper half
     * of its register undefined) */
    unsigned op = (int)c == 1 ? WEFT_OP_SIGNAL : WEFT_OP_BROADCAST;
    uint64_t *p = weft_reserve(t, 3, &at);
    if (p) {
      p[1] = (uint64_t)a;
      /* a reservation that had work to do (a scheduler reading, a new chunk) moved the time past the
       * wake, or a signal handler wrote a record during the call (the record is then stamped at its):
       * maybe past the end of a wait it ended: late, as a REL written after its call */
      p[2] = at != asked || at < t->last ? WEFT_REL_LATE : 0;
      weft_publish(t, p, WEFT_EV_SIGNAL, 3, WEFT_AUX(WEFT_KIND_FUTEX, op, 0), at);
    }
  }
  return r;
}

/* libc's syscall(): the result, or -1 with errno set. (Six words are read
 * whatever the call takes, as libc's own does: the kernel ignores the rest.) */
WEFT_PUBLIC long syscall(long nr, ...) {
  va_list ap;
  va_start(ap, nr);
  long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long), d = va_arg(ap, long), e = va_arg(ap, long),
       f = va_arg(ap, long);
  va_end(ap);
  long r;
  if (WEFT_UNLIKELY(nr == SYS_futex) && weft_on()) {
    int saved = errno, cmd = (int)b & FUTEX_CMD_MASK;
    if (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET)
      r = futex_wait(a, b, c, d, e, f);
    else if (cmd == FUTEX_WAKE || cmd == FUTEX_WAKE_BITSET ||
             ((cmd == FUTEX_REQUEUE || cmd == FUTEX_CMP_REQUEUE) && (int)c > 0))
      r = futex_wake(a, b, c, d, e, f);
    else
      r = weft_sys6(nr, a, b, c, d, e, f);
    errno = saved;
  } else {
    r = weft_sys6(nr, a, b, c, d, e, f);
  }
  if (weft_sys_failed(r)) {
    errno = (int)-r;
    return -1;
  }
  return r;
}
#endif
