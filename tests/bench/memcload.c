/* memcload.c - a bounded memcached load generator on loopback (run-programs.py).
 * SPDX-License-Identifier: MIT
 *
 *   memcload PORT CONNECTIONS SECONDS SET_RATIO
 *
 * Connects only to 127.0.0.1:PORT (the address is fixed; there is no option
 * to change it). First stores every key of a small key space (KEYS keys of
 * VALUE_LEN bytes) over one connection, then starts CONNECTIONS threads, each
 * with its own TCP connection, which for SECONDS (CLOCK_MONOTONIC) send one
 * request at a time (no pipelining) in the memcached text protocol:
 * `set` with probability SET_RATIO (0..1), otherwise `get`, on a random key,
 * and wait for the whole reply. Every reply is checked: `STORED` for a set,
 * `VALUE key 0 len` + the key's value + `END` (or `END` alone, a miss) for a
 * get; the value of a key is fixed (derived from the key), so any get that
 * returns other bytes is an error. Prints one line:
 *   ops=N ops_per_s=R errors=E connections=C seconds=S gets=G sets=T misses=M
 * Exit status 0; 1 on a connection failure, a protocol error or a reply that
 * takes more than 10 s; 2 on a usage error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { KEYS = 1000, VALUE_LEN = 32, MAX_CONN = 256, BUF = 4096 };

typedef struct {
  int fd;
  char buf[BUF];
  size_t len, pos; /* buffered reply bytes: buf[pos..len) */
} Conn;

typedef struct {
  int id;
  pthread_t th;
  uint64_t rng;
  long ops, gets, sets, misses;
  int failed;
} Worker;

static int port, nconn;
static double seconds, set_ratio;
static pthread_barrier_t start_bar;
static double t_start;
static atomic_int stop_all; /* set on the first error: the others stop too */
static atomic_long errors;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(int id, const char *what) {
  fprintf(stderr, "memcload: connection %d: %s\n", id, what);
  atomic_fetch_add(&errors, 1);
  atomic_store(&stop_all, 1);
}

/* The value of key k: VALUE_LEN printable bytes that depend on k. */
static void key_value(int k, char *out) {
  uint32_t x = (uint32_t)k * 2654435761u + 12345u;
  for (int i = 0; i < VALUE_LEN; i++) {
    x = x * 1103515245u + 12345u;
    out[i] = (char)('a' + (x >> 16) % 26);
  }
}

static uint64_t next_rand(uint64_t *s) { /* xorshift64* */
  uint64_t x = *s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return x * 2685821657736338717ull;
}

static int conn_open(Conn *c) {
  c->len = c->pos = 0;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return -1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* 127.0.0.1, always */
  int one = 1;
  struct timeval tv = {.tv_sec = 10};
  if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
      setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
      setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0 ||
      connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int e = errno;
    close(c->fd);
    c->fd = -1;
    errno = e;
    return -1;
  }
  return 0;
}

static int send_all(Conn *c, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int fill(Conn *c) {
  if (c->pos > 0) {
    memmove(c->buf, c->buf + c->pos, c->len - c->pos);
    c->len -= c->pos;
    c->pos = 0;
  }
  if (c->len == sizeof c->buf) return -1; /* a line longer than the buffer */
  for (;;) {
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1; /* closed, error or timeout */
    c->len += (size_t)r;
    return 0;
  }
}

/* The next reply line without its \r\n (NUL-terminated in the buffer), or NULL. */
static char *read_line(Conn *c) {
  for (;;) {
    char *start = c->buf + c->pos;
    char *nl = memchr(start, '\n', c->len - c->pos);
    if (nl) {
      if (nl == start || nl[-1] != '\r') return NULL;
      nl[-1] = '\0';
      c->pos = (size_t)(nl + 1 - c->buf);
      return start;
    }
    if (fill(c) < 0) return NULL;
  }
}

/* Exactly n bytes of data followed by \r\n, compared with want. */
static int read_data(Conn *c, const char *want, size_t n) {
  while (c->len - c->pos < n + 2)
    if (fill(c) < 0) return -1;
  const char *p = c->buf + c->pos;
  if (memcmp(p, want, n) != 0 || p[n] != '\r' || p[n + 1] != '\n') return -1;
  c->pos += n + 2;
  return 0;
}

static int do_set(Conn *c, int k, const char **err) {
  char req[128], val[VALUE_LEN];
  key_value(k, val);
  int n = snprintf(req, sizeof req, "set key:%d 0 0 %d\r\n%.*s\r\n", k, VALUE_LEN, VALUE_LEN, val);
  if (send_all(c, req, (size_t)n) < 0) return *err = "send failed", -1;
  char *line = read_line(c);
  if (!line) return *err = "no reply to set", -1;
  if (strcmp(line, "STORED") != 0) return *err = "set: reply is not STORED", -1;
  return 0;
}

/* 1 on a hit, 0 on a miss, -1 on an error. */
static int do_get(Conn *c, int k, const char **err) {
  char req[64], head[64], val[VALUE_LEN];
  int n = snprintf(req, sizeof req, "get key:%d\r\n", k);
  if (send_all(c, req, (size_t)n) < 0) return *err = "send failed", -1;
  char *line = read_line(c);
  if (!line) return *err = "no reply to get", -1;
  if (strcmp(line, "END") == 0) return 0;
  snprintf(head, sizeof head, "VALUE key:%d 0 %d", k, VALUE_LEN);
  if (strcmp(line, head) != 0) return *err = "get: unexpected reply line", -1;
  key_value(k, val);
  if (read_data(c, val, VALUE_LEN) < 0) return *err = "get: wrong value bytes", -1;
  line = read_line(c);
  if (!line || strcmp(line, "END") != 0) return *err = "get: no END after the value", -1;
  return 1;
}

static void *run(void *arg) {
  Worker *w = arg;
  Conn c;
  const char *err = NULL;
  if (conn_open(&c) < 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "connect to 127.0.0.1:%d: %s", port, strerror(errno));
    fail(w->id, msg);
    w->failed = 1;
  }
  pthread_barrier_wait(&start_bar);
  if (w->failed) return NULL;
  double end = t_start + seconds;
  uint64_t set_cut = (uint64_t)(set_ratio * 4294967296.0);
  while (!atomic_load_explicit(&stop_all, memory_order_relaxed)) {
    uint64_t r = next_rand(&w->rng);
    int k = (int)((r >> 32) % KEYS);
    if ((r & 0xffffffffu) < set_cut) {
      if (do_set(&c, k, &err) < 0) break;
      w->sets++;
    } else {
      int hit = do_get(&c, k, &err);
      if (hit < 0) break;
      w->gets++;
      w->misses += !hit;
    }
    w->ops++;
    if ((w->ops & 15) == 0 && now_s() >= end) break;
  }
  if (err) {
    fail(w->id, err);
    w->failed = 1;
  }
  close(c.fd);
  return NULL;
}

static int parse_num(const char *s, double lo, double hi, double *out) {
  char *e;
  errno = 0;
  double v = strtod(s, &e);
  if (errno || e == s || *e || !(v >= lo && v <= hi)) return -1;
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  double p, n;
  if (argc != 5 || parse_num(argv[1], 1, 65535, &p) < 0 || parse_num(argv[2], 1, MAX_CONN, &n) < 0 ||
      parse_num(argv[3], 0.001, 3600, &seconds) < 0 || parse_num(argv[4], 0, 1, &set_ratio) < 0 || p != (int)p ||
      n != (int)n) {
    fprintf(stderr,
            "usage: memcload PORT CONNECTIONS SECONDS SET_RATIO\n"
            "  load memcached on 127.0.0.1:PORT with CONNECTIONS (1-%d) threads for SECONDS;\n"
            "  SET_RATIO (0-1) of the requests are sets, the others gets\n",
            MAX_CONN);
    return 2;
  }
  port = (int)p;
  nconn = (int)n;

  /* Store every key once, so that gets hit. */
  Conn c;
  const char *err = NULL;
  if (conn_open(&c) < 0) {
    fprintf(stderr, "memcload: connect to 127.0.0.1:%d: %s\n", port, strerror(errno));
    return 1;
  }
  for (int k = 0; k < KEYS; k++)
    if (do_set(&c, k, &err) < 0) {
      fprintf(stderr, "memcload: preload: %s\n", err);
      return 1;
    }
  close(c.fd);

  Worker *ws = calloc((size_t)nconn, sizeof *ws);
  if (!ws) return 1;
  pthread_barrier_init(&start_bar, NULL, (unsigned)nconn + 1);
  for (int i = 0; i < nconn; i++) {
    ws[i].id = i;
    ws[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
    if (pthread_create(&ws[i].th, NULL, run, &ws[i]) != 0) {
      fprintf(stderr, "memcload: pthread_create failed\n");
      return 1;
    }
  }
  t_start = now_s(); /* before the workers pass the barrier */
  pthread_barrier_wait(&start_bar);
  long ops = 0, gets = 0, sets = 0, misses = 0;
  for (int i = 0; i < nconn; i++) {
    pthread_join(ws[i].th, NULL);
    ops += ws[i].ops;
    gets += ws[i].gets;
    sets += ws[i].sets;
    misses += ws[i].misses;
  }
  double dt = now_s() - t_start;
  long nerr = atomic_load(&errors);
  printf("ops=%ld ops_per_s=%.0f errors=%ld connections=%d seconds=%.3f gets=%ld sets=%ld misses=%ld\n", ops,
         dt > 0 ? ops / dt : 0.0, nerr, nconn, dt, gets, sets, misses);
  free(ws);
  return nerr ? 1 : 0;
}
