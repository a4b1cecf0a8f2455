/* weft-sock.c - TCP streams: what was sent and received, by byte offset (trace v6).
 * SPDX-License-Identifier: MIT
 *
 * With WEFT_IO, every successful send or receive on a TCP socket (IPv4 or
 * IPv6, stream) is a SOCK record: the direction, the stream's identity (a
 * hash of the sender's address and port and the receiver's, the same
 * number at both ends) and the offset of its first byte in that direction
 * of the stream, with the byte count. Two processes, on one host or two,
 * then say which receive got which send's bytes without a clock: the
 * importer matches them by offset, makes flows from them, and bounds each
 * host's clock by them (a byte cannot arrive before it was sent).
 *
 * A socket is known by its inode (fstat, which the write wrappers already
 * do for pipes): a table of SOCK_SLOTS keeps each socket's two identities
 * and its two byte counts, filled at its first transfer (getsockname,
 * getpeername, SO_TYPE: three system calls once per socket). A slot
 * claimed by a socket that was closed since is found stale by its inode no
 * more being the fd's (a new socket has a new inode) and taken again when
 * the table is full. The counts are per process: a socket two processes
 * write at once (after a fork) gets offsets that match neither; the
 * importer drops a stream whose receives do not fit its sends.
 */
#include "weft-agent-private.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define SOCK_SLOTS 1024 /* a power of two */

typedef struct {
  _Atomic uint64_t ino;  /* 0 free, 1 being filled */
  uint64_t out, in;      /* the stream's identity sending from here, and receiving here (0: not TCP) */
  _Atomic uint64_t sent; /* bytes this process sent on it */
  _Atomic uint64_t got;  /* bytes it received */
} Sock;

static Sock socks[SOCK_SLOTS];

/* The address and port of sa as bytes into h (0: not IPv4 or IPv6). */
static uint64_t addr_hash(uint64_t h, const struct sockaddr_storage *sa) {
  if (sa->ss_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)(const void *)sa;
    h = _weft_fnv1a(h, &a->sin_addr, sizeof a->sin_addr);
    return _weft_fnv1a(h, &a->sin_port, sizeof a->sin_port);
  }
  if (sa->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)(const void *)sa;
    /* an IPv4-mapped address is the IPv4 address the other end may see */
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
      h = _weft_fnv1a(h, (const char *)&a->sin6_addr + 12, 4);
    else
      h = _weft_fnv1a(h, &a->sin6_addr, sizeof a->sin6_addr);
    return _weft_fnv1a(h, &a->sin6_port, sizeof a->sin6_port);
  }
  return 0;
}

/* The stream's identity from src to dst (never 0; bit 62 set, bit 63 clear: apart from a pipe's). */
static uint64_t stream_id(const struct sockaddr_storage *src, const struct sockaddr_storage *dst) {
  uint64_t h = addr_hash(WEFT_FNV_START, src);
  h = h ? addr_hash(_weft_fnv1a(h, ">", 1), dst) : 0;
  return h ? (h & ~(3ull << 62)) | 1ull << 62 : 0;
}

/* Fill s for fd: its two identities, or 0 when it is no connected TCP socket
 * (errno is the caller's to keep: sock_slot). */
static void sock_fill(Sock *s, int fd) {
  struct sockaddr_storage me, peer;
  socklen_t ml = sizeof me, pl = sizeof peer;
  int type = 0;
  socklen_t tl = sizeof type;
  s->out = s->in = 0;
  atomic_store(&s->sent, 0);
  atomic_store(&s->got, 0);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 || type != SOCK_STREAM) return;
  if (getsockname(fd, (struct sockaddr *)&me, &ml) != 0 || getpeername(fd, (struct sockaddr *)&peer, &pl) != 0) return;
  s->out = stream_id(&me, &peer);
  s->in = stream_id(&peer, &me);
}

/* The slot of the socket of inode ino (fd), filled on first sight; NULL
 * when the table is full or another thread is filling the slot. */
static Sock *sock_slot(int fd, uint64_t ino) {
  uint32_t h = (uint32_t)(ino * 0x9E3779B97F4A7C15ull >> 40);
  for (uint32_t k = 0; k < 16; k++) {
    Sock *s = &socks[(h + k) & (SOCK_SLOTS - 1)];
    uint64_t cur = atomic_load(&s->ino);
    if (cur == ino) return s;
    if (cur == 0) {
      uint64_t expect = 0;
      if (!atomic_compare_exchange_strong(&s->ino, &expect, 1)) {
        if (expect == ino) return s;
        continue;
      }
      int e = errno; /* (getpeername fails with ENOTCONN on an unconnected socket) */
      sock_fill(s, fd);
      errno = e;
      atomic_store(&s->ino, ino);
      return s;
    }
  }
  return NULL; /* (a full neighbourhood: this socket goes unrecorded) */
}

/* n bytes went out (dir 0, at t0, the call's start) or came in (dir 1, at
 * the call's end) on fd, a socket of inode ino. */
void _weft_sock_xfer(int fd, uint64_t ino, int dir, uint64_t n, uint64_t t) {
  Sock *s = sock_slot(fd, ino);
  if (!s || !s->out) return;
  uint64_t off = atomic_fetch_add(dir ? &s->got : &s->sent, n);
  WeftThread *th = &_weft_tls;
  int e = errno;
  /* the record cannot go before what the thread wrote last (a sample may be
   * due first): then its time is later than the transfer's, by w4 ticks */
  uint64_t at = t;
  uint64_t *p = weft_reserve(th, 5, &at);
  if (p) {
    p[1] = dir ? s->in : s->out;
    p[2] = off;
    p[3] = n;
    p[4] = at > t ? at - t : 0;
    weft_publish(th, p, WEFT_EV_SOCK, 5, (unsigned)dir, at);
  }
  errno = e;
}

/* The incoming stream's identity of the socket fd (for a read that waited on it; 0 none). */
uint64_t _weft_sock_in(int fd, uint64_t ino) {
  Sock *s = sock_slot(fd, ino);
  return s ? s->in : 0;
}

/* After fork: the child keeps the counts of the sockets it shares with its
 * parent (it continues their streams); nothing to reset. */
