/* weft-wrap-io.c - the second category: blocking waits that explain idle threads.
 * SPDX-License-Identifier: MIT
 *
 * Only with WEFT_IO=1. poll/select/epoll_wait, read/recv on pipes and sockets,
 * and sleeps are timed around the real call; a call that blocked for at least
 * _weft_proc.io_min_ticks (10 us) is written as WAIT_BEGIN/WAIT_END at the
 * times it began and ended, so short non-blocking calls cost two clock reads
 * and nothing on disk. All are cancellation points inside the real call; the
 * wrappers keep return values and errno.
 */
#include "weft-agent-private.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int io_on(void) { return _weft_proc.io && weft_on(); }

/* Write WAIT_BEGIN at t0 and WAIT_END at t1 (both already past). */
static void io_wait(unsigned kind, unsigned op, uint64_t obj, uint64_t t0, uint64_t t1, int err,
                    uint64_t bytes) {
  WeftThread *t = &_weft_tls;
  int e = errno;
  uint64_t *p = weft_reserve(t, 4, &t0);
  if (p) {
    p[1] = obj;
    p[2] = 0;
    p[3] = 0;
    weft_publish(t, p, WEFT_EV_WAIT_BEGIN, 4, WEFT_AUX(kind, op, 0), t0);
  }
  if (t1 < t0) t1 = t0;
  p = weft_reserve(t, 3, &t1);
  if (p) {
    p[1] = obj;
    p[2] = bytes;
    weft_publish(t, p, WEFT_EV_WAIT_END, 3, WEFT_AUX(kind, op, err), t1);
  }
  errno = e;
}

#define IO_TIMED(kind, obj, call, failed, bytes_expr)                              \
  do {                                                                             \
    if (!io_on()) return call;                                                     \
    uint64_t t0_ = weft_ticks();                                                   \
    __typeof__(call) r_ = call;                                                    \
    uint64_t t1_ = weft_ticks();                                                   \
    if (t1_ - t0_ >= _weft_proc.io_min_ticks)                                      \
      io_wait(kind, 0, (uint64_t)(obj), t0_, t1_, (failed) ? errno : 0, (uint64_t)(bytes_expr)); \
    return r_;                                                                     \
  } while (0)

WEFT_PUBLIC int poll(struct pollfd *fds, nfds_t n, int timeout) {
  IO_TIMED(WEFT_KIND_POLL, n ? fds[0].fd : 0, REAL(poll)(fds, n, timeout), r_ < 0, r_ > 0 ? r_ : 0);
}

WEFT_PUBLIC int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *ss) {
  IO_TIMED(WEFT_KIND_POLL, n ? fds[0].fd : 0, REAL(ppoll)(fds, n, ts, ss), r_ < 0, r_ > 0 ? r_ : 0);
}

WEFT_PUBLIC int select(int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv) {
  IO_TIMED(WEFT_KIND_POLL, n, REAL(select)(n, r, w, x, tv), r_ < 0, r_ > 0 ? r_ : 0);
}

WEFT_PUBLIC int pselect(int n, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts,
                        const sigset_t *ss) {
  IO_TIMED(WEFT_KIND_POLL, n, REAL(pselect)(n, r, w, x, ts, ss), r_ < 0, r_ > 0 ? r_ : 0);
}

WEFT_PUBLIC int epoll_wait(int ep, struct epoll_event *ev, int max, int timeout) {
  IO_TIMED(WEFT_KIND_POLL, ep, REAL(epoll_wait)(ep, ev, max, timeout), r_ < 0, r_ > 0 ? r_ : 0);
}

WEFT_PUBLIC int epoll_pwait(int ep, struct epoll_event *ev, int max, int timeout, const sigset_t *ss) {
  IO_TIMED(WEFT_KIND_POLL, ep, REAL(epoll_pwait)(ep, ev, max, timeout, ss), r_ < 0, r_ > 0 ? r_ : 0);
}

/* reads count only on pipes and sockets (a slow disk read is not an idle thread) */
static int idle_fd(int fd) {
  struct stat st;
  int e = errno;
  int ok = fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
  errno = e;
  return ok;
}

#define READ_TIMED(fd, call)                                                       \
  do {                                                                             \
    if (!io_on()) return call;                                                     \
    uint64_t t0_ = weft_ticks();                                                   \
    ssize_t r_ = call;                                                             \
    uint64_t t1_ = weft_ticks();                                                   \
    if (t1_ - t0_ >= _weft_proc.io_min_ticks && idle_fd(fd))                       \
      io_wait(WEFT_KIND_READ, 0, (uint64_t)(fd), t0_, t1_, r_ < 0 ? errno : 0,     \
              r_ > 0 ? (uint64_t)r_ : 0);                                          \
    return r_;                                                                     \
  } while (0)

WEFT_PUBLIC ssize_t read(int fd, void *buf, size_t n) { READ_TIMED(fd, REAL(read)(fd, buf, n)); }

WEFT_PUBLIC ssize_t recv(int fd, void *buf, size_t n, int fl) { READ_TIMED(fd, REAL(recv)(fd, buf, n, fl)); }

WEFT_PUBLIC ssize_t recvfrom(int fd, void *buf, size_t n, int fl, struct sockaddr *a, socklen_t *al) {
  READ_TIMED(fd, REAL(recvfrom)(fd, buf, n, fl, a, al));
}

WEFT_PUBLIC ssize_t recvmsg(int fd, struct msghdr *m, int fl) { READ_TIMED(fd, REAL(recvmsg)(fd, m, fl)); }

WEFT_PUBLIC int nanosleep(const struct timespec *req, struct timespec *rem) {
  IO_TIMED(WEFT_KIND_SLEEP, 0, REAL(nanosleep)(req, rem), r_ != 0, 0);
}

WEFT_PUBLIC int clock_nanosleep(clockid_t c, int fl, const struct timespec *req, struct timespec *rem) {
  IO_TIMED(WEFT_KIND_SLEEP, 0, REAL(clock_nanosleep)(c, fl, req, rem), r_ != 0, 0);
}
