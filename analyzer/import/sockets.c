/* sockets.c - TCP streams (trace v6, WEFT_IO): which receive got which send's bytes.
 * SPDX-License-Identifier: MIT
 *
 * Each end of a TCP stream counted the bytes it sent or received (SOCK
 * records: the stream's identity, the offset of the first byte, the
 * count), so a receive is matched to the send that holds its last byte
 * without a clock: the same match places hosts on one clock (hosts.c) and
 * fills the table socket_transfer (link_sockets). A stream whose sends do
 * not run back to back, or whose receives reach past its sends (bytes sent
 * another way, two processes writing one socket), is left out whole. The
 * transfers come out of an external sort (util/weft-spill.c), a stream at a
 * time; a stream's sends, and its receives until the stream is known to
 * fit, are held in memory up to a bound and in a temporary file past it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "import-private.h"

int sock_xfer_cmp(const void *x, const void *y) {
  const SockXfer *a = x, *b = y;
  if (a->stream != b->stream) return a->stream < b->stream ? -1 : 1;
  if (a->recv != b->recv) return a->recv - b->recv; /* the sends first */
  return (a->off > b->off) - (a->off < b->off);
}

/* Rows of one stream: in memory up to cap of them, then in a scratch file
 * (a long-lived stream has millions), mem holding the rows not written yet. */
typedef struct {
  size_t row, n, cap; /* rows added; rows mem holds */
  char *mem;
  size_t in_f; /* rows in f */
  WeftScratchFile *f;
} Store;

static int store_add(Store *s, const void *x) {
  if (s->n - s->in_f == s->cap) { /* full: its rows to the scratch file */
    if (!s->f && !(s->f = weft_scratch_open())) return -1;
    if (weft_scratch_append(s->f, s->mem, s->cap * s->row) != 0) return -1;
    s->in_f += s->cap;
  }
  memcpy(s->mem + (s->n - s->in_f) * s->row, x, s->row);
  s->n++;
  return 0;
}

static int store_get(Store *s, size_t i, void *out) {
  if (i >= s->in_f) {
    memcpy(out, s->mem + (i - s->in_f) * s->row, s->row);
    return 0;
  }
  return weft_scratch_read(s->f, out, s->row, (uint64_t)i * s->row);
}

static void store_clear(Store *s) {
  weft_scratch_close(s->f);
  s->f = NULL;
  s->n = s->in_f = 0;
}

typedef struct {
  Store sends, pending; /* the stream's sends (back to back); its receives with their sends */
  size_t cur;           /* the send that held the last receive's last byte */
  int fits, err;
  uint64_t end; /* the end of the stream's sends so far */
} Stream;

/* The stream's send holding byte x (into *out), or -1 (none, or unreadable: st->err). */
static int holder(Stream *st, uint64_t x, SockXfer *out) {
  size_t n = st->sends.n;
  for (size_t k = st->cur; k < n && k < st->cur + 2; k++) { /* the receives come in order: the same or the next */
    if (store_get(&st->sends, k, out) != 0) return st->err = -1;
    if (out->off <= x && x < out->off + out->bytes) {
      st->cur = k;
      return 0;
    }
  }
  size_t lo = 0, hi = n; /* the last send with off <= x */
  while (hi - lo > 1) {
    size_t m = (lo + hi) / 2;
    if (store_get(&st->sends, m, out) != 0) return st->err = -1;
    if (out->off <= x)
      lo = m;
    else
      hi = m;
  }
  if (!n || store_get(&st->sends, lo, out) != 0) return n ? (st->err = -1) : -1;
  if (!(out->off <= x && x < out->off + out->bytes)) return -1;
  st->cur = lo;
  return 0;
}

/* The stream's end: its receives to fn, if its bytes added up. */
static void stream_end(Stream *st, SockMatchFn fn, void *user) {
  SockXfer pr[2];
  for (size_t k = 0; st->fits && !st->err && k < st->pending.n; k++) {
    if (store_get(&st->pending, k, pr) != 0)
      st->err = -1;
    else
      fn(user, &pr[0], &pr[1]);
  }
  store_clear(&st->sends);
  store_clear(&st->pending);
  st->cur = 0;
  st->fits = 1;
}

/* One row of a stream, in the sort's order (its sends, then its receives). */
static void stream_row(Stream *st, const SockXfer *x) {
  if (!st->fits || st->err) return;
  if (!x->recv) { /* back to back, or the stream does not fit */
    if (st->sends.n && x->off != st->end) st->fits = 0;
    st->end = x->off + x->bytes;
    if (st->fits && store_add(&st->sends, x) != 0) st->err = -1;
    return;
  }
  SockXfer pr[2];
  if (!st->sends.n || holder(st, x->off + x->bytes - 1, &pr[0]) != 0) {
    st->fits = 0;
    return;
  }
  pr[1] = *x;
  if (store_add(&st->pending, pr) != 0) st->err = -1;
}

int sock_match(WeftSpill *xs, size_t cap, SockMatchFn fn, void *user) {
  Stream st = {.sends = {.row = sizeof(SockXfer), .cap = cap, .mem = g_malloc(cap * sizeof(SockXfer))},
               .pending = {.row = 2 * sizeof(SockXfer), .cap = cap, .mem = g_malloc(cap * 2 * sizeof(SockXfer))},
               .fits = 1};
  const SockXfer *x;
  uint64_t stream = 0;
  int any = 0;
  while ((x = weft_spill_next(xs))) {
    if (any && x->stream != stream) stream_end(&st, fn, user);
    stream = x->stream;
    any = 1;
    stream_row(&st, x);
  }
  if (any) stream_end(&st, fn, user);
  int err = st.err || weft_spill_error(xs) ? -1 : 0;
  store_clear(&st.sends);
  store_clear(&st.pending);
  g_free(st.sends.mem);
  g_free(st.pending.mem);
  return err;
}

static void transfer_row(void *user, const SockXfer *s, const SockXfer *r) {
  Imp *im = user;
  if (s->who == r->who) return; /* (a thread talking to itself) */
  int64_t row[5] = {s->who, (int64_t)s->ns, r->who, (int64_t)r->ns, (int64_t)r->bytes};
  imp_batch_add(im, &im->sock_rows, row, 0);
}

void sock_xfer_add(Imp *im, const SockXfer *x) {
  SockXfer *r = imp_sort_row(im, &im->sock_xfers, sizeof *r, sock_xfer_cmp, "the TCP transfers");
  if (r) *r = *x;
}

int link_sockets(Imp *im) {
  if (!im->sock_xfers || !weft_spill_count(im->sock_xfers)) return 0;
  if (sock_match(im->sock_xfers, im->sort_rows, transfer_row, im) != 0)
    return imp_fail(im, "the TCP transfers: %s",
                    weft_spill_error(im->sock_xfers) ? weft_spill_error(im->sock_xfers)
                                                     : "cannot use a temporary file");
  imp_batch_flush(im, &im->sock_rows);
  return im->sql.failed ? -1 : 0;
}

void sock_xfers_free(Imp *im) {
  weft_spill_free(im->sock_xfers);
  im->sock_xfers = NULL;
}
