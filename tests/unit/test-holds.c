/* test-holds.c - the lock hold blocks (analyzer/store/holds.c): what goes in comes out.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holds.h"
#include "tap.h"

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

int main(void) {
  enum { N = 1000 };
  WeftHold in[N];
  int64_t t = 1000000000000LL, sum = 0, mx = 0, end = 0;
  int cont = 0;
  for (int i = 0; i < N; i++) {
    /* equal starts, huge gaps and durations, utids going up and down */
    t += (i % 7 == 0) ? 0 : (int64_t)(next() % (i % 50 == 0 ? 1000000000000ULL : 5000));
    in[i] = (WeftHold){42,
                       1 + (int64_t)(next() % 70),
                       t,
                       (int64_t)(next() % (i % 97 == 0 ? 1ULL << 40 : 3000)),
                       (int)(next() % 2),
                       (int)(next() % 2),
                       (int)(next() % 2)};
    sum += in[i].dur_ns;
    if (in[i].dur_ns > mx) mx = in[i].dur_ns;
    if (t + in[i].dur_ns > end) end = t + in[i].dur_ns;
    cont += in[i].contended;
  }
  WeftHoldBlock b = {0};
  weft_hold_block_reset(&b, 42);
  int bad = 0;
  for (int i = 0; i < N; i++) bad |= weft_hold_block_add(&b, &in[i]);
  ok(!bad, "1000 holds in start order are accepted");
  ok(b.count == N && b.contended == cont && b.hold_ns == sum && b.max_ns == mx && b.start_ns == in[0].start_ns &&
         b.end_ns == end,
     "the block's columns: count %lld, contended %lld, total, longest, start and end", (long long)b.count,
     (long long)b.contended);
  ok(b.len < (size_t)N * 8, "packed in %zu bytes (%.1f per hold)", b.len, (double)b.len / N);

  WeftHoldIter it;
  weft_hold_iter_init(&it, 42, b.start_ns, b.buf, b.len);
  WeftHold h;
  int n = 0, same = 1, r;
  while ((r = weft_hold_iter_next(&it, &h)) == 1) {
    if (n >= N || h.object_id != in[n].object_id || h.utid != in[n].utid || h.start_ns != in[n].start_ns ||
        h.dur_ns != in[n].dur_ns || h.contended != in[n].contended || h.shared != in[n].shared ||
        h.estimated != in[n].estimated)
      same = 0;
    n++;
  }
  ok(r == 0 && n == N && same, "every hold decodes to what was written (%d of %d)", n, N);

  WeftHold early = {42, 1, in[N - 1].start_ns - 1, 5, 0, 0, 0};
  ok(weft_hold_block_add(&b, &early) == -1, "a hold out of start order is refused");

  /* a block cut anywhere is corrupt, never read past its end */
  int cut_ok = 1;
  for (size_t len = 1; len < 64; len++) {
    weft_hold_iter_init(&it, 42, b.start_ns, b.buf, len);
    int k = 0;
    while ((r = weft_hold_iter_next(&it, &h)) == 1) k++;
    /* either it stopped at a whole hold (0) or found the cut (-1) */
    if (r == 0 && it.p != b.buf + len) cut_ok = 0;
  }
  ok(cut_ok, "truncated blobs end or fail, never read beyond their length");
  uint8_t junk[12];
  memset(junk, 0xff, sizeof junk);
  weft_hold_iter_init(&it, 42, 0, junk, sizeof junk);
  ok(weft_hold_iter_next(&it, &h) == -1, "an endless varint is corrupt");
  weft_hold_iter_init(&it, 42, 0, NULL, 0);
  ok(weft_hold_iter_next(&it, &h) == 0, "an empty block has no holds");
  weft_hold_block_free(&b);
  printf("1..%d\n", ntest);
  return nfail ? 1 : 0;
}
