/* test-perfetto.c - the one protobuf encoder (analyzer/util/weft-perfetto.c):
 * packets compared byte for byte with encodings worked out by hand from the
 * wire format and the field numbers of Perfetto's .proto files; nested
 * messages whose length takes two and three bytes; interning once; bytes that
 * are not UTF-8.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "weft-perfetto.h"

static FILE *f;
static char *buf;
static size_t len;

static int same(const uint8_t *want, size_t n, size_t at) {
  if (at + n > len) return 0;
  return memcmp(buf + at, want, n) == 0;
}

static uint64_t varint(size_t *at) {
  uint64_t v = 0;
  for (int shift = 0; *at < len; shift += 7) {
    uint8_t b = (uint8_t)buf[(*at)++];
    v |= (uint64_t)(b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  return v;
}

/* A track whose name is n bytes: the name comes back whole after the three
 * lengths (packet, descriptor, name), each as long as it must be. */
static void long_name(WeftPerfetto *p, size_t n) {
  char *name = malloc(n + 1);
  memset(name, 'x', n);
  name[n] = 0;
  size_t start = len;
  weft_perfetto_track(p, 7, 0, name);
  fflush(f);
  size_t at = start;
  int good = (uint8_t)buf[at++] == 0x0a;
  uint64_t plen = varint(&at);
  size_t body = at;
  good = good && plen == len - body;
  /* 50 01: the sequence id; E2 03: track_descriptor; its length */
  good = good && same((const uint8_t[]){0x50, 0x01, 0xe2, 0x03}, 4, at);
  at += 4;
  uint64_t tdlen = varint(&at);
  good = good && tdlen == len - at;
  good = good && same((const uint8_t[]){0x08, 0x07, 0x12}, 3, at); /* uuid 7, name */
  at += 3;
  good = good && varint(&at) == n && at + n == len && memcmp(buf + at, name, n) == 0;
  ok(good, "a track named by %zu bytes: every length right (packet %llu, descriptor %llu)", n, (unsigned long long)plen,
     (unsigned long long)tdlen);
  free(name);
}

int main(void) {
  f = open_memstream(&buf, &len);
  WeftPerfetto *p = weft_perfetto_new(f);

  /* the first packet: sequence id 1 (50 01), SEQ_INCREMENTAL_STATE_CLEARED
   * (68 01), first_packet_on_sequence (B8 05 01), TrackDescriptor (E2 03 06)
   * {uuid 3 (08 03), name "ab" (12 02 61 62)}; Trace.packet 0A 10 */
  weft_perfetto_track(p, 3, 0, "ab");
  fflush(f);
  static const uint8_t p1[] = {0x0a, 0x10, 0x50, 0x01, 0x68, 0x01, 0xb8, 0x05, 0x01,
                               0xe2, 0x03, 0x06, 0x08, 0x03, 0x12, 0x02, 'a',  'b'};
  ok(len == sizeof p1 && same(p1, sizeof p1, 0), "a named track: the bytes worked out by hand (%zu bytes)", len);

  /* an instant at 5 on track 3 starting flow 0x0102030405060708: 50 01, 68 02
   * (needs the incremental state), timestamp 40 05, TrackEvent 5A 12 {type 48
   * 03, track_uuid 58 03, category_iids 18 01, name_iid 50 01, flow_ids F9 02
   * + 8 bytes}, InternedData 62 0E {event_categories 0A 05 {08 01 12 01 "c"},
   * event_names 12 05 {08 01 12 01 "n"}} */
  size_t at = len;
  WeftPfEvent e = {.ts = 5,
                   .type = WEFT_PF_INSTANT,
                   .track = 3,
                   .cat = "c",
                   .name = "n",
                   .flow = WEFT_PF_FLOW_OUT,
                   .flow_id = 0x0102030405060708ull};
  weft_perfetto_event(p, &e);
  fflush(f);
  static const uint8_t p2[] = {0x0a, 0x2a, 0x50, 0x01, 0x68, 0x02, 0x40, 0x05, 0x5a, 0x12, 0x48, 0x03, 0x58, 0x03, 0x18,
                               0x01, 0x50, 0x01, 0xf9, 0x02, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x62, 0x0e,
                               0x0a, 0x05, 0x08, 0x01, 0x12, 0x01, 'c',  0x12, 0x05, 0x08, 0x01, 0x12, 0x01, 'n'};
  ok(len - at == sizeof p2 && same(p2, sizeof p2, at), "an instant with a flow: the bytes worked out by hand");

  /* the same strings again: their iids, no InternedData; a slice end with
   * an int, a bool and a string annotation on a begin */
  at = len;
  WeftPfArg args[] = {{.name = "k", .i = -1}, {.name = "b", .i = 1, .is_bool = 1}, {.name = "k", .str = "c"}};
  WeftPfEvent b = {
      .ts = 300, .type = WEFT_PF_SLICE_BEGIN, .track = 3, .cat = "c", .name = "n", .args = args, .nargs = 3};
  weft_perfetto_event(p, &b);
  fflush(f);
  /* timestamp 300 = 40 AC 02; annotations 22 len {08 iid, value}: "k" is arg
   * iid 1 and int -1 a ten-byte varint (20 FF..FF 01); "b" iid 2, bool 10 01;
   * "k" again with string_value_iid (88 01) 1; InternedData: debug_annotation_names
   * 1A 05 {08 01 12 01 "k"}, 1A 05 {08 02 12 01 "b"}, debug_annotation_string_values
   * EA 01 05 {08 01 12 01 "c"} */
  static const uint8_t p3[] = {0x0a, 0x45, 0x50, 0x01, 0x68, 0x02, 0x40, 0xac, 0x02, 0x5a, 0x24, 0x48, 0x01, 0x58, 0x03,
                               0x18, 0x01, 0x50, 0x01, 0x22, 0x0d, 0x08, 0x01, 0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0x01, 0x22, 0x04, 0x08, 0x02, 0x10, 0x01, 0x22, 0x05, 0x08, 0x01, 0x88,
                               0x01, 0x01, 0x62, 0x16, 0x1a, 0x05, 0x08, 0x01, 0x12, 0x01, 'k',  0x1a, 0x05, 0x08, 0x02,
                               0x12, 0x01, 'b',  0xea, 0x01, 0x05, 0x08, 0x01, 0x12, 0x01, 'c'};
  ok(len - at == sizeof p3 && same(p3, sizeof p3, at),
     "a slice begin with annotations: known names by iid, new ones interned, bytes as worked out (%zu)", len - at);
  at = len;
  WeftPfEvent end = {.ts = 301, .type = WEFT_PF_SLICE_END, .track = 3, .flow = WEFT_PF_FLOW_END, .flow_id = 9};
  weft_perfetto_event(p, &end);
  fflush(f);
  static const uint8_t p4[] = {0x0a, 0x17, 0x50, 0x01, 0x68, 0x02, 0x40, 0xad, 0x02, 0x5a, 0x0e, 0x48, 0x02,
                               0x58, 0x03, 0x81, 0x03, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  /* 40 AD 02, 5A 0E {type 48 02, track 58 03, terminating_flow_ids 81 03 + 8 bytes} */
  ok(len - at == sizeof p4 && same(p4, sizeof p4, at), "a slice end ending flow 9: no strings, no InternedData");

  long_name(p, 127);
  long_name(p, 300);
  long_name(p, 20000);

  at = len;
  weft_perfetto_thread(p, 5, 10, 11, "bad\xff(");
  fflush(f);
  /* 50 01, E2 03 len {08 05, thread 22 len {08 0A, 10 0B, 2A 07 "bad" EF BF BD "("}} */
  static const uint8_t p5[] = {0x0a, 0x16, 0x50, 0x01, 0xe2, 0x03, 0x11, 0x08, 0x05, 0x22, 0x0d, 0x08,
                               0x0a, 0x10, 0x0b, 0x2a, 0x07, 'b',  'a',  'd',  0xef, 0xbf, 0xbd, '('};
  ok(len - at == sizeof p5 && same(p5, sizeof p5, at), "a thread: pid, tid, its name's bad byte as U+FFFD");
  ok(weft_perfetto_packets(p) == 8, "8 packets counted (%llu)", (unsigned long long)weft_perfetto_packets(p));

  weft_perfetto_free(p);
  fclose(f);
  free(buf);
  printf("1..%d\n", ntest);
  return nfail ? 1 : 0;
}
