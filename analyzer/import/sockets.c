/* sockets.c - TCP streams (trace v6, WEFT_IO): which receive got which send's bytes.
 * SPDX-License-Identifier: MIT
 *
 * Each end of a TCP stream counted the bytes it sent or received (SOCK
 * records: the stream's identity, the offset of the first byte, the
 * count), so a receive is matched to the send that holds its last byte
 * without a clock: the same match places hosts on one clock (hosts.c) and
 * fills the table socket_transfer (link_sockets). A stream whose sends do
 * not run back to back, or whose receives reach past its sends (bytes sent
 * another way, two processes writing one socket), is left out whole.
 */
#include "config.h"

#include <stdlib.h>

#include "import-private.h"

static int cmp_xfer(const void *x, const void *y) {
  const SockXfer *a = x, *b = y;
  if (a->stream != b->stream) return a->stream < b->stream ? -1 : 1;
  if (a->recv != b->recv) return a->recv - b->recv; /* the sends first */
  return (a->off > b->off) - (a->off < b->off);
}

/* In the sends v[a, r) (by offset, back to back), the one holding byte x, or -1. */
static gssize holder(const SockXfer *v, guint a, guint r, uint64_t x) {
  guint lo = a, hi = r;
  while (hi - lo > 1) {
    guint m = (lo + hi) / 2;
    if (v[m].off <= x)
      lo = m;
    else
      hi = m;
  }
  return lo < r && v[lo].off <= x && x < v[lo].off + v[lo].bytes ? (gssize)lo : -1;
}

void sock_match(GArray *xs, SockMatchFn fn, void *user) {
  if (xs->len) qsort(xs->data, xs->len, sizeof(SockXfer), cmp_xfer);
  const SockXfer *v = (const SockXfer *)(const void *)xs->data;
  for (guint a = 0; a < xs->len;) {
    guint b = a, r = a;
    while (b < xs->len && v[b].stream == v[a].stream) b++;
    while (r < b && !v[r].recv) r++; /* sends [a, r), receives [r, b) */
    int fits = r > a;
    for (guint k = a; k + 1 < r && fits; k++) fits = v[k].off + v[k].bytes == v[k + 1].off;
    for (guint k = r; k < b && fits; k++) fits = holder(v, a, r, v[k].off + v[k].bytes - 1) >= 0;
    for (guint k = r; k < b && fits; k++) fn(user, &v[holder(v, a, r, v[k].off + v[k].bytes - 1)], &v[k]);
    a = b;
  }
}

static void transfer_row(void *user, const SockXfer *s, const SockXfer *r) {
  Imp *im = user;
  if (s->who == r->who) return; /* (a thread talking to itself) */
  int64_t row[5] = {s->who, (int64_t)s->ns, r->who, (int64_t)r->ns, (int64_t)r->bytes};
  imp_batch_add(im, &im->sock_rows, row, 0);
}

int link_sockets(Imp *im) {
  if (!im->sock_xfers->len) return 0;
  sock_match(im->sock_xfers, transfer_row, im);
  imp_batch_flush(im, &im->sock_rows);
  return im->sql.failed ? -1 : 0;
}
