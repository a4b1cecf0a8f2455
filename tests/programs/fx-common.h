/* fx-common.h - helpers shared by the fixture programs in tests/programs/.
 * SPDX-License-Identifier: MIT
 *
 * A fixture prints its deterministic result on stdout (the same with and
 * without the agent) and facts the tests need but cannot know in advance
 * (object addresses, thread ids, child pids) as "fx: key=value" lines on
 * stderr. A fixture that cannot set up its known behaviour says
 * "fx: error: ..." on stderr and exits 99, so a broken fixture never passes
 * for a broken agent.
 */
#ifndef FX_COMMON_H
#define FX_COMMON_H

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline pid_t fx_tid(void) { return (pid_t)syscall(SYS_gettid); }

/* One "fx: ..." line on stderr, written at once (threads may print too). */
__attribute__((format(printf, 1, 2))) static inline void fx_info(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n > sizeof buf - 2) n = (int)sizeof buf - 2;
  fprintf(stderr, "fx: %.*s\n", n, buf);
}

__attribute__((noreturn)) static inline void fx_die(const char *what, int err) {
  fprintf(stderr, "fx: error: %s: %s\n", what, strerror(err));
  fflush(NULL);
  _exit(99);
}

/* Die unless a pthread-style call returned 0. */
static inline void fx_ok(int r, const char *what) {
  if (r != 0) fx_die(what, r);
}

/* argv[i] as a positive count, or def if absent. */
static inline long fx_arg(int argc, char **argv, int i, long def) {
  if (i >= argc) return def;
  char *end;
  long v = strtol(argv[i], &end, 10);
  if (*end || v < 0) {
    fprintf(stderr, "fx: error: bad count '%s'\n", argv[i]);
    exit(2);
  }
  return v;
}

/* Sleep through the raw syscall: no wrapper, nothing in any trace. */
static inline void fx_sleep_us(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (syscall(SYS_nanosleep, &ts, &ts) != 0 && errno == EINTR) {}
}

/* Poll expr every 100 us for up to 20 s; die if it never holds. */
#define FX_WAIT_UNTIL(expr, what)                  \
  do {                                             \
    for (long fx_i_ = 0; !(expr); fx_i_++) {       \
      if (fx_i_ > 200000) fx_die(what, ETIMEDOUT); \
      fx_sleep_us(100);                            \
    }                                              \
  } while (0)

/* One contended acquisition, made to happen: lock m, let the other thread go
 * (post go) to lock it, hold m until that thread sleeps on it (glibc's lock
 * word: 0 free, 1 locked, 2 locked with a sleeping waiter), then unlock and
 * wait (done) until it is through. */
static inline void fx_contend_once(pthread_mutex_t *m, sem_t *go, sem_t *done);

/* The scheduler state letter of one of our threads ('R', 'S', 'D', 'Z'...), or 0. */
static inline char fx_task_state(pid_t tid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  FILE *f = fopen(path, "re");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  return p && p[1] == ' ' ? p[2] : 0;
}

/* An absolute deadline ms milliseconds from now on clock clk. */
static inline struct timespec fx_deadline(clockid_t clk, long ms) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

/* Name of an errno value for the result lines ("EBUSY"), "0" for success. */
static inline const char *fx_errname(int e) {
  switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EAGAIN: return "EAGAIN";
    case EBUSY: return "EBUSY";
    case EINVAL: return "EINVAL";
    case ERANGE: return "ERANGE";
    case EDEADLK: return "EDEADLK";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EOWNERDEAD: return "EOWNERDEAD";
    default: return "E?";
  }
}

static inline void fx_contend_once(pthread_mutex_t *m, sem_t *go, sem_t *done) {
  fx_ok(pthread_mutex_lock(m), "main lock");
  sem_post(go);
  FX_WAIT_UNTIL(__atomic_load_n(&m->__data.__lock, __ATOMIC_ACQUIRE) == 2, "waiter never blocked on the mutex");
  fx_ok(pthread_mutex_unlock(m), "main unlock");
  while (sem_wait(done) != 0) {}
}

#endif /* FX_COMMON_H */
