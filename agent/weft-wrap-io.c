/* weft-wrap-io.c - the second category: blocking waits that explain idle threads.
 * SPDX-License-Identifier: MIT
 *
 * Only with WEFT_IO=1: poll/select/epoll_wait, read/recv on pipes and sockets.
 * Always: sleeps (nanosleep, clock_nanosleep, usleep, sleep: rare, cheap, and
 * without them a sleeping thread looks busy). Each is timed around the real
 * call; a call that blocked for at least
 * _weft_proc.io_min_ticks (10 us) is written as WAIT_BEGIN/WAIT_END at the
 * times it began and ended, so short non-blocking calls cost two clock reads
 * and nothing on disk. All are cancellation points inside the real call; the
 * wrappers keep return values and errno. A thread that runs Python names its
 * stack in the WAIT_END (the waits of other threads have none: a stack per
 * wait would cost more than the waits themselves tell).
 *
 * Whether recorded or not, these calls are where a thread goes idle: it
 * writes its counts first if it counted anything (weft_idle), and so do
 * pause, sigsuspend and sigwait*, which are otherwise not recorded.
 *
 * Pipes carry work and results between the processes of a pool: a write to a
 * pipe is a PIPE_WRITE record naming the pipe (its inode) and the bytes, and a read or poll
 * that waited on a pipe names it in its WAIT_END, so the importer can tell
 * which write ended the wait (a flow across processes).
 */
#include "weft-agent-private.h"

#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static inline int io_on(void) {
  weft_idle();
  return _weft_proc.io && weft_on();
}

/* What fd is: 0 not a pipe or socket (or no such fd), 1 a socket, 2 a pipe;
 * *chan: the pipe's identity (0 for anything else); *ino its inode. */
static int fd_kind(int fd, uint64_t *chan, uint64_t *ino) {
  struct stat st;
  int e = errno;
  int kind = fd < 0 || fstat(fd, &st) != 0 ? 0 : S_ISFIFO(st.st_mode) ? 2 : S_ISSOCK(st.st_mode) ? 1 : 0;
  *chan = kind == 2 ? weft_enc_pipe_id((uint64_t)st.st_dev, (uint64_t)st.st_ino) : 0;
  *ino = kind ? (uint64_t)st.st_ino : 0;
  errno = e;
  return kind;
}


/* The stack of a wait that ended at t1, for a thread that runs Python (others
 * do not pay for a stack here): defined at t1 if the chunk has room (so the
 * WAIT_END keeps its time), else now. */
static uint32_t io_stack(uint64_t t1) {
  if (_weft_proc.stacks < WEFT_STACKS_CONTENDED || !_weft_py_thread()) return 0;
  uint32_t st = _weft_stack_id_at(t1);
  return st ? st : _weft_stack_id();
}

/* Write WAIT_BEGIN at t0 and WAIT_END at t1 (both already past); chan: the
 * pipe waited on (0 none). A Python thread's WAIT_END names its stack (w4):
 * its definition cannot come before a WAIT_BEGIN stamped in the past. */
static void io_wait(unsigned kind, unsigned op, uint64_t obj, uint64_t t0, uint64_t t1, int err, uint64_t bytes,
                    uint64_t chan) {
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
  uint32_t st = io_stack(t1);
  unsigned nw = st ? 5 : chan ? 4 : 3;
  p = weft_reserve(t, nw, &t1);
  if (p) {
    p[1] = obj;
    p[2] = bytes;
    if (nw > 3) p[3] = chan;
    if (nw > 4) p[4] = st;
    weft_publish(t, p, WEFT_EV_WAIT_END, nw, WEFT_AUX(kind, op, err), t1);
  }
  t->wait_t0 = t0;
  weft_wait_ended(t1);
  errno = e;
}

/* Time call; when it blocked for io_min_ticks or more, write it as a wait.
 * on: whether to time it at all (io_on() or sleep_on(); both write the
 * thread's counts first). */
#define TIMED_WAIT(on, kind, obj, call, err_expr, bytes_expr)                             \
  do {                                                                                    \
    if (!(on)) return call;                                                               \
    uint64_t t0_ = weft_ticks();                                                          \
    __typeof__(call) r_ = call;                                                           \
    uint64_t t1_ = weft_ticks();                                                          \
    if (t1_ - t0_ >= _weft_proc.io_min_ticks)                                             \
      io_wait(kind, 0, (uint64_t)(obj), t0_, t1_, (err_expr), (uint64_t)(bytes_expr), 0); \
    return r_;                                                                            \
  } while (0)

#define IO_TIMED(kind, obj, call, failed, bytes_expr) \
  TIMED_WAIT(io_on(), kind, obj, call, (failed) ? errno : 0, bytes_expr)

/* A poll that waited: the pipe of the first fd that became readable, or
 * the TCP stream it receives, if it is one (which write or send woke it:
 * Python polls a socket with a timeout before it reads). */
static uint64_t poll_chan(const struct pollfd *fds, nfds_t n, int r) {
  for (nfds_t i = 0; r > 0 && i < n; i++)
    if (fds[i].revents & POLLIN) {
      uint64_t chan, ino;
      int kind = fd_kind(fds[i].fd, &chan, &ino);
      return kind == 1 ? _weft_sock_in(fds[i].fd, ino) : chan;
    }
  return 0;
}

#define POLL_TIMED(fds, n, call)                                                  \
  do {                                                                            \
    if (!io_on()) return call;                                                    \
    uint64_t t0_ = weft_ticks();                                                  \
    int r_ = call;                                                                \
    uint64_t t1_ = weft_ticks();                                                  \
    if (t1_ - t0_ >= _weft_proc.io_min_ticks)                                     \
      io_wait(WEFT_KIND_POLL, 0, (uint64_t)((n) ? (fds)[0].fd : 0), t0_, t1_,     \
              r_<0 ? errno : 0, r_> 0 ? (uint64_t)r_ : 0, poll_chan(fds, n, r_)); \
    return r_;                                                                    \
  } while (0)

WEFT_PUBLIC int poll(struct pollfd *fds, nfds_t n, int timeout) { POLL_TIMED(fds, n, REAL(poll)(fds, n, timeout)); }

WEFT_PUBLIC int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *ss) {
  POLL_TIMED(fds, n, REAL(ppoll)(fds, n, ts, ss));
}

WEFT_PUBLIC int select(int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *tv) {
  IO_TIMED(WEFT_KIND_POLL, n, REAL(select)(n, r, w, x, tv), r_<0, r_> 0 ? r_ : 0);
}

WEFT_PUBLIC int pselect(int n, fd_set *r, fd_set *w, fd_set *x, const struct timespec *ts, const sigset_t *ss) {
  IO_TIMED(WEFT_KIND_POLL, n, REAL(pselect)(n, r, w, x, ts, ss), r_<0, r_> 0 ? r_ : 0);
}

WEFT_PUBLIC int epoll_wait(int ep, struct epoll_event *ev, int max, int timeout) {
  IO_TIMED(WEFT_KIND_POLL, ep, REAL(epoll_wait)(ep, ev, max, timeout), r_<0, r_> 0 ? r_ : 0);
}

WEFT_PUBLIC int epoll_pwait(int ep, struct epoll_event *ev, int max, int timeout, const sigset_t *ss) {
  IO_TIMED(WEFT_KIND_POLL, ep, REAL(epoll_pwait)(ep, ev, max, timeout, ss), r_<0, r_> 0 ? r_ : 0);
}

/* A read of fd from t0 to t1 returned r: when it blocked for io_min_ticks
 * or more on a pipe or socket (a slow disk read is not an idle thread), a
 * wait naming the pipe, or the TCP stream it reads; the bytes a TCP
 * socket gave, a SOCK record. */
static void read_done(int fd, uint64_t t0, uint64_t t1, ssize_t r, int err) {
  uint64_t chan, ino;
  int kind = fd_kind(fd, &chan, &ino);
  if (kind == 1) chan = _weft_sock_in(fd, ino);
  if (kind && t1 - t0 >= _weft_proc.io_min_ticks)
    io_wait(WEFT_KIND_READ, 0, (uint64_t)fd, t0, t1, r < 0 ? err : 0, r > 0 ? (uint64_t)r : 0, chan);
  if (kind == 1 && r > 0) _weft_sock_xfer(fd, ino, 1, (uint64_t)r, t1);
}

#define READ_TIMED(fd, call)                  \
  do {                                        \
    if (!io_on()) return call;                \
    uint64_t t0_ = weft_ticks();              \
    ssize_t r_ = call;                        \
    int e_ = errno;                           \
    read_done(fd, t0_, weft_ticks(), r_, e_); \
    errno = e_;                               \
    return r_;                                \
  } while (0)

WEFT_PUBLIC ssize_t read(int fd, void *buf, size_t n) { READ_TIMED(fd, REAL(read)(fd, buf, n)); }

WEFT_PUBLIC ssize_t recv(int fd, void *buf, size_t n, int fl) { READ_TIMED(fd, REAL(recv)(fd, buf, n, fl)); }

WEFT_PUBLIC ssize_t recvfrom(int fd, void *buf, size_t n, int fl, struct sockaddr *a, socklen_t *al) {
  READ_TIMED(fd, REAL(recvfrom)(fd, buf, n, fl, a, al));
}

WEFT_PUBLIC ssize_t recvmsg(int fd, struct msghdr *m, int fl) { READ_TIMED(fd, REAL(recvmsg)(fd, m, fl)); }

/* fd wrote bytes in a call that began at t0: to a pipe (what a waiting
 * reader of another process gets), a PIPE_WRITE at the time the call began:
 * the reader can wake and return before the writer is back from the call,
 * and the data cannot be there before it began. With the bytes written
 * (version 6): a pool's task arguments and results cross between processes
 * in these writes, so their sum is the data it moved. To a TCP socket, a
 * SOCK record (weft-sock.c). */
static void wrote(int fd, uint64_t t0, uint64_t bytes) {
  uint64_t chan, ino;
  int kind = fd_kind(fd, &chan, &ino);
  if (kind == 1) _weft_sock_xfer(fd, ino, 0, bytes, t0);
  if (!chan) return;
  WeftThread *t = &_weft_tls;
  int e = errno;
  uint64_t *p = weft_reserve(t, 4, &t0);
  if (p) {
    p[1] = (uint64_t)fd;
    p[2] = chan;
    p[3] = bytes;
    weft_publish(t, p, WEFT_EV_PIPE_WRITE, 4, WEFT_AUX(WEFT_KIND_READ, 0, 0), t0);
  }
  errno = e;
}

/* write, writev and the sends: timed from the call's start, what they wrote recorded (wrote). */
#define WRITE_TIMED(fd, call)                 \
  do {                                        \
    if (!io_on()) return call;                \
    uint64_t t0_ = weft_ticks();              \
    ssize_t r_ = call;                        \
    if (r_ > 0) wrote(fd, t0_, (uint64_t)r_); \
    return r_;                                \
  } while (0)

WEFT_PUBLIC ssize_t write(int fd, const void *buf, size_t n) { WRITE_TIMED(fd, REAL(write)(fd, buf, n)); }

WEFT_PUBLIC ssize_t writev(int fd, const struct iovec *iov, int n) { WRITE_TIMED(fd, REAL(writev)(fd, iov, n)); }

WEFT_PUBLIC ssize_t send(int fd, const void *buf, size_t n, int fl) { WRITE_TIMED(fd, REAL(send)(fd, buf, n, fl)); }

WEFT_PUBLIC ssize_t sendto(int fd, const void *buf, size_t n, int fl, const struct sockaddr *a, socklen_t al) {
  WRITE_TIMED(fd, REAL(sendto)(fd, buf, n, fl, a, al));
}

WEFT_PUBLIC ssize_t sendmsg(int fd, const struct msghdr *m, int fl) { WRITE_TIMED(fd, REAL(sendmsg)(fd, m, fl)); }

/* Sleeps: recorded whether or not WEFT_IO is on. */
static inline int sleep_on(void) {
  weft_idle();
  return weft_on();
}

#define SLEEP_TIMED(call, err_expr) TIMED_WAIT(sleep_on(), WEFT_KIND_SLEEP, 0, call, err_expr, 0)

WEFT_PUBLIC int nanosleep(const struct timespec *req, struct timespec *rem) {
  SLEEP_TIMED(REAL(nanosleep)(req, rem), r_ != 0 ? errno : 0);
}

/* clock_nanosleep returns its error instead of setting errno */
WEFT_PUBLIC int clock_nanosleep(clockid_t c, int fl, const struct timespec *req, struct timespec *rem) {
  SLEEP_TIMED(REAL(clock_nanosleep)(c, fl, req, rem), r_);
}

/* glibc's usleep and sleep call its nanosleep directly, past this wrapper */
WEFT_PUBLIC int usleep(useconds_t us) { SLEEP_TIMED(REAL(usleep)(us), r_ != 0 ? errno : 0); }

/* sleep returns the seconds left when a signal ended it (then: EINTR) */
WEFT_PUBLIC unsigned sleep(unsigned s) { SLEEP_TIMED(REAL(sleep)(s), r_ != 0 ? EINTR : 0); }

/* ---- blocking calls recorded by nobody: the thread's counts go out first ---- */
WEFT_PUBLIC int pause(void) {
  weft_idle();
  return REAL(pause)();
}

WEFT_PUBLIC int sigsuspend(const sigset_t *mask) {
  weft_idle();
  return REAL(sigsuspend)(mask);
}

WEFT_PUBLIC int sigwait(const sigset_t *set, int *sig) {
  weft_idle();
  return REAL(sigwait)(set, sig);
}

WEFT_PUBLIC int sigwaitinfo(const sigset_t *set, siginfo_t *info) {
  weft_idle();
  return REAL(sigwaitinfo)(set, info);
}

WEFT_PUBLIC int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *ts) {
  weft_idle();
  return REAL(sigtimedwait)(set, info, ts);
}
