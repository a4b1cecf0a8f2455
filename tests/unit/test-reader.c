/* test-reader.c - unit tests of the trace reader (agent/format/reader.c), TAP output.
 * SPDX-License-Identifier: MIT
 *
 * Traces are built in memory with tests/fuzz/trace-build.h; the recording
 * tests write files into a fresh directory under $TMPDIR (removed at the end).
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace-build.h"
#include "weft-reader.h"

#include "tap.h"

/* The aux of a mutex's sync record: a kind is required. */
#define MUTEX WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0)

/* ---- collecting records ---- */

typedef struct {
  WeftEvent ev[256];
  uint64_t w1[256]; /* ev[i].w[1] (0 for a 1-word record): w points into a file's buffer only while delivered */
  size_t n;
  size_t stop_at; /* return 7 when this many records were seen (0 = never) */
} Events;

static int collect(const WeftEvent *ev, void *user) {
  Events *e = user;
  if (e->n < sizeof e->ev / sizeof e->ev[0]) {
    e->ev[e->n] = *ev;
    e->w1[e->n] = ev->nwords > 1 ? ev->w[1] : 0;
  }
  e->n++;
  return e->stop_at && e->n == e->stop_at ? 7 : 0;
}

/* Open b's buffer as name, scan it into e; returns the scan result, or -100
 * if the open failed. err gets the message. */
static int open_scan(const TraceBuild *b, size_t len, const char *name, Events *e, WeftTrace **tp, char *err,
                     size_t errlen) {
  WeftTrace *t;
  memset(e, 0, sizeof *e);
  err[0] = '\0';
  if (weft_trace_open_mem(b->buf, len, name, &t, err, errlen) < 0) return -100;
  int rc = weft_trace_scan(t, collect, e, err, errlen);
  if (tp)
    *tp = t;
  else
    weft_trace_close(t);
  return rc;
}

static int has(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

/* ---- the seed: exact decoding ---- */

static void test_seed(void) {
  TraceBuild b;
  tb_build_seed(&b);
  Events e;
  char err[512];
  WeftTrace *t = NULL;
  int rc = open_scan(&b, b.len, "seed.wtrace", &e, &t, err, sizeof err);
  ok(rc == 0, "seed scans cleanly (%s)", err);
  if (rc != 0) {
    free(b.buf);
    return;
  }
  const WeftFileHeader *h = weft_trace_header(t);
  ok(h->pid == SEED_PID && h->clock == WEFT_CLOCK_TSC && h->tsc_hz == SEED_HZ && h->session == 0x5eed0000cafe0001ull,
     "seed header fields");
  ok(strcmp(weft_trace_name(t), "seed.wtrace") == 0, "trace name");
  ok(e.n == 43, "seed has 43 records (got %zu)", e.n);

  static const unsigned types[] = {
      WEFT_EV_THREAD_START, WEFT_EV_PROCESS_INFO, WEFT_EV_MODULE,        WEFT_EV_THREAD_NAME,  WEFT_EV_INIT,
      WEFT_EV_NAME_OBJECT,  WEFT_EV_STACK,        WEFT_EV_THREAD_CREATE, WEFT_EV_ACQ,          WEFT_EV_REL,
      WEFT_EV_WAIT_BEGIN,   WEFT_EV_WAIT_END,     WEFT_EV_SIGNAL,        WEFT_EV_REL,          WEFT_EV_REL,
      WEFT_EV_COUNTS,       WEFT_EV_TIME,         WEFT_EV_SYNC,          WEFT_EV_MARK,         WEFT_EV_FORK,
      WEFT_EV_WAIT_BEGIN,   WEFT_EV_WAIT_END,     WEFT_EV_MARK,          WEFT_EV_SEM_OPEN,     WEFT_EV_SCHED,
      WEFT_EV_LOST,         WEFT_EV_THREAD_EXIT,  WEFT_EV_EXIT,          WEFT_EV_THREAD_START, WEFT_EV_THREAD_NAME,
      WEFT_EV_ACQ,          WEFT_EV_ACQ,          WEFT_EV_WAIT_BEGIN,    WEFT_EV_WAIT_END,     WEFT_EV_REL,
      WEFT_EV_WAIT_BEGIN,   WEFT_EV_WAIT_END,     WEFT_EV_INIT,          WEFT_EV_DESTROY,      WEFT_EV_THREAD_DETACH,
      WEFT_EV_EXEC,         WEFT_EV_EXEC_FAILED,  WEFT_EV_THREAD_EXIT,
  };
  int types_ok = e.n == 43, tids_ok = 1, ns_ok = 1, pid_ok = 1, order_ok = 1;
  for (size_t i = 0; i < e.n && i < 43; i++) {
    const WeftEvent *ev = &e.ev[i];
    if (ev->type != types[i]) types_ok = 0;
    if (ev->tid != (i < 28 ? SEED_PID : SEED_TID2)) tids_ok = 0;
    if (ev->pid != SEED_PID) pid_ok = 0;
    if (ev->ns != SEED_NS(ev->tsc) || weft_trace_ticks_to_ns(t, ev->tsc) != ev->ns) ns_ok = 0;
    if (i > 0 && i != 28 && ev->tsc <= e.ev[i - 1].tsc) order_ok = 0;
    if (ev->w[0] != 0 && WEFT_W0_NWORDS(ev->w[0]) != ev->nwords) types_ok = 0;
  }
  ok(types_ok, "seed record types and lengths in file order");
  ok(tids_ok && pid_ok, "seed pid and tids");
  ok(ns_ok, "seed ns = the 2 GHz line through the sync points, for every record");
  ok(order_ok, "seed ticks increase within each chunk");

  const WeftEvent *ev = e.ev;
  ok(ev[0].offset == WEFT_FILE_HEADER_SIZE + 32 && ev[0].tsc == SEED_START_TSC + 220,
     "first record: offset 4128, tick = chunk tsc + dt");
  ok(ev[0].w[1] == SEED_SELF1 && ev[0].w[2] == 0 && ev[0].aux == 1, "THREAD_START fields");
  {
    size_t pos = 0, len;
    const char *a0 = weft_event_next_string(&ev[1], 2, &pos, &len);
    int good = a0 && strcmp(a0, "./prog") == 0 && len == 6;
    const char *a1 = weft_event_next_string(&ev[1], 2, &pos, &len);
    good = good && a1 && strcmp(a1, "-j4") == 0 && len == 3;
    const char *exe = weft_event_next_string(&ev[1], 2, &pos, &len);
    good = good && exe && strcmp(exe, "/usr/bin/prog") == 0;
    while (weft_event_next_string(&ev[1], 2, &pos, &len)) good = good && len == 0; /* padding reads as empty strings */
    ok(good && (ev[1].w[1] & 0xffffffffu) == 2, "PROCESS_INFO argv and exe");
  }
  ok(strcmp(weft_event_string(&ev[2], 8, NULL), "/usr/bin/prog") == 0 && ev[2].w[4] == 20 && ev[2].nwords == 10,
     "MODULE path at w8");
  ok(strcmp(weft_event_string(&ev[3], 2, NULL), "main") == 0, "THREAD_NAME string");
  ok(ev[4].nwords == 4 && ev[4].w[3] == 1 && WEFT_AUX_KIND(ev[4].aux) == WEFT_KIND_MUTEX, "INIT with stack id");
  {
    size_t len;
    const char *s = weft_event_string(&ev[5], 2, &len);
    ok(strcmp(s, "queue\tlock \"q\"") == 0 && len == 14, "NAME_OBJECT string with tab and quotes");
  }
  ok(ev[6].w[1] == (1ull | 3ull << 32) && ev[6].nwords == 5 && ev[6].w[4] == 0x7f0000400000ull,
     "STACK id, depth and frames");
  ok((ev[10].w[2] & 0xffffffffu) == SEED_TID2 && ev[10].w[2] >> 32 == 1, "WAIT_BEGIN holder tid and stack id");
  ok(ev[13].nwords == 3 && WEFT_REL_LEN(ev[13].w[2]) == 1021 && !(ev[13].w[2] & WEFT_REL_LATE) && ev[14].nwords == 3 &&
         WEFT_REL_LEN(ev[14].w[2]) == 0 && (ev[14].w[2] & WEFT_REL_LATE),
     "version 3 REL: the hold's length, or late with no length");
  ok(ev[15].nwords == 10 && ev[15].w[1] == SEED_MUTEX && ev[15].w[2] == SEED_PID && ev[15].w[3] == 40 &&
         ev[15].w[4] == 2 && ev[15].w[6] == 1 && ev[15].w[9] == SEED_START_TSC + 300 &&
         WEFT_AUX_KIND(ev[15].aux) == WEFT_KIND_MUTEX,
     "COUNTS fields");
  ok(h->hold_sample == 64 && h->flush_ms == 50 && (h->features & WEFT_FEAT_COUNTERS),
     "version 3 header: hold sample, flush interval, counters feature");
  ok(ev[16].type == WEFT_EV_TIME && ev[16].tsc == ev[16].w[1] && ev[17].tsc == ev[16].w[1] + 20,
     "TIME sets the running tick");
  ok(ev[17].w[1] == ev[17].tsc && ev[17].ns == ev[17].w[2], "SYNC maps its own tick exactly");
  ok(WEFT_AUX_RESULT(ev[30].aux) == 16 && WEFT_AUX_OP(ev[30].aux) == WEFT_OP_TRY, "try-lock failure result in aux");
  ok(ev[28].offset == 3 * WEFT_FILE_HEADER_SIZE + 32, "zero page skipped: worker chunk at 12288");
  ok(ev[40].type == WEFT_EV_EXEC && strcmp(weft_event_string(&ev[40], 1, NULL), "/bin/true") == 0, "EXEC path");
  ok(ev[41].nwords == 1 && ev[41].aux == 2, "EXEC_FAILED has no payload");
  {
    uint64_t destroy[4] = {0}, mpi[4] = {0}, both[4] = {0};
    destroy[WEFT_EV_DESTROY >> 6] = both[WEFT_EV_DESTROY >> 6] = 1ull << (WEFT_EV_DESTROY & 63);
    mpi[WEFT_EV_MPI_MSG >> 6] = 1ull << (WEFT_EV_MPI_MSG & 63);
    both[WEFT_EV_MPI_MSG >> 6] |= 1ull << (WEFT_EV_MPI_MSG & 63);
    ok(weft_trace_has_types(t, destroy) && !weft_trace_has_types(t, mpi) && weft_trace_has_types(t, both),
       "the open says which record types the file has");
    ok(weft_trace_size(t) == b.len, "its size");
  }

  /* Stopping early. */
  Events e2 = {.stop_at = 3};
  ok(weft_trace_scan(t, collect, &e2, err, sizeof err) == 7 && e2.n == 3,
     "the callback's non-zero value stops the scan and is returned");
  weft_trace_close(t);

  /* An unaligned buffer reads the same. */
  unsigned char *odd = malloc(b.len + 1);
  memcpy(odd + 1, b.buf, b.len);
  WeftTrace *t2;
  memset(&e, 0, sizeof e);
  rc = weft_trace_open_mem(odd + 1, b.len, "odd", &t2, err, sizeof err);
  if (rc == 0) {
    rc = weft_trace_scan(t2, collect, &e, err, sizeof err);
    weft_trace_close(t2);
  }
  ok(rc == 0 && e.n == 43, "unaligned buffer");
  free(odd);
  free(b.buf);
}

/* ---- the clock ---- */

static void test_clock(void) {
  char err[512];
  Events e;
  WeftTrace *t;
  TraceBuild b;

  /* Points (1000,10000) header, (3000,12000) chunk, (5000,16000) and
   * (9000,17000) SYNC: slopes 1, 2, 0.25; least squares 0.9. */
  tb_header(&b, 10, 0, WEFT_CLOCK_TSC, 1000, 10000, 0);
  tb_chunk(&b, 10, 0, 3000, 12000, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, 3000, 2, 1ull);
  tb_rec(&b, WEFT_EV_SYNC, 0, 5000, 3, 5000ull, 16000ull);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, 7000, 2, 1ull);
  tb_rec(&b, WEFT_EV_SYNC, 0, 9000, 3, 9000ull, 17000ull);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, 9400, 2, 1ull);
  int rc = open_scan(&b, b.len, "clock.wtrace", &e, &t, err, sizeof err);
  ok(rc == 0 && e.n == 5, "clock trace scans");
  if (rc == 0) {
    ok(weft_trace_ticks_to_ns(t, 1000) == 10000 && weft_trace_ticks_to_ns(t, 3000) == 12000 &&
           weft_trace_ticks_to_ns(t, 5000) == 16000 && weft_trace_ticks_to_ns(t, 9000) == 17000,
       "exact at the sync points");
    ok(weft_trace_ticks_to_ns(t, 2000) == 11000 && weft_trace_ticks_to_ns(t, 4000) == 14000 &&
           weft_trace_ticks_to_ns(t, 4500) == 15000 && weft_trace_ticks_to_ns(t, 7000) == 16500,
       "linear between neighbouring points");
    ok(e.ev[0].ns == 12000 && e.ev[2].ns == 16500, "record ns use the fit");
    uint64_t after = weft_trace_ticks_to_ns(t, 9400), before = weft_trace_ticks_to_ns(t, 0);
    ok(after == 17360 && e.ev[4].ns == 17360,
       "after the last point: least-squares slope 0.9 "
       "(got %" PRIu64 ")",
       after);
    ok(before == 9100, "before the first point: least-squares slope 0.9 (got %" PRIu64 ")", before);
    ok(weft_trace_ticks_to_ns(t, UINT64_MAX) >= weft_trace_ticks_to_ns(t, UINT64_MAX - 1) &&
           weft_trace_ticks_to_ns(t, UINT64_MAX - 1) > 17000,
       "far extrapolation forwards");
    /* the cached segment changes nothing: any hint, a sweep forwards, backwards */
    int same = 1;
    size_t sweep = 0;
    for (uint64_t x = 0; x < 10000; x += 13) {
      uint64_t want = weft_trace_ticks_to_ns(t, x);
      for (size_t h0 = 0; h0 < 8; h0++) {
        size_t h = h0 == 7 ? SIZE_MAX : h0;
        if (weft_trace_ticks_to_ns_near(t, x, &h) != want) same = 0;
      }
      if (weft_trace_ticks_to_ns_near(t, x, &sweep) != want) same = 0;
    }
    for (int64_t x = 9999; x >= 0; x -= 13)
      if (weft_trace_ticks_to_ns_near(t, (uint64_t)x, &sweep) != weft_trace_ticks_to_ns(t, (uint64_t)x)) same = 0;
    ok(same, "a hint gives the same ns as none");
    weft_trace_close(t);
  }
  free(b.buf);

  /* One point: 1e9 / tsc_hz. */
  tb_header(&b, 10, 0, WEFT_CLOCK_TSC, 1000, 5000, 4000000000ull);
  rc = open_scan(&b, b.len, "one.wtrace", &e, &t, err, sizeof err);
  if (ok(rc == 0 && e.n == 0, "header-only trace scans, no records")) {
    ok(weft_trace_ticks_to_ns(t, 5000) == 6000 && weft_trace_ticks_to_ns(t, 0) == 4750, "one point: slope 1e9/tsc_hz");
    weft_trace_close(t);
  }
  free(b.buf);

  tb_header(&b, 10, 0, WEFT_CLOCK_TSC, 1000, 5000, 100000000ull);
  rc = open_scan(&b, b.len, "slow.wtrace", &e, &t, err, sizeof err);
  if (ok(rc == 0, "10 ns per tick trace")) {
    ok(weft_trace_ticks_to_ns(t, UINT64_MAX) == UINT64_MAX && weft_trace_ticks_to_ns(t, UINT64_MAX / 4) == UINT64_MAX,
       "saturates at UINT64_MAX");
    ok(weft_trace_ticks_to_ns(t, 0) == 0 && weft_trace_ticks_to_ns(t, 500) == 0 &&
           weft_trace_ticks_to_ns(t, 600) == 1000,
       "saturates at 0");
    weft_trace_close(t);
  }
  free(b.buf);

  tb_header(&b, 10, 0, WEFT_CLOCK_MONOTONIC, 1000, 5000, 0);
  rc = open_scan(&b, b.len, "mono.wtrace", &e, &t, err, sizeof err);
  if (ok(rc == 0, "monotonic header-only trace")) {
    ok(weft_trace_ticks_to_ns(t, 2000) == 6000 && weft_trace_ticks_to_ns(t, 0) == 4000,
       "one point, tsc_hz 0: 1 ns per tick");
    ok(weft_trace_ticks_to_ns(t, 1000000) == 1004000, "far extrapolation");
    weft_trace_close(t);
  }
  free(b.buf);

  /* An outlier point running far ahead is dropped, not followed. */
  tb_header(&b, 10, 0, WEFT_CLOCK_TSC, 1000, 10000, 0);
  tb_chunk(&b, 10, 0, 2000, 11000, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_SYNC, 0, 3000, 3, 3000ull, 999999999ull);
  tb_rec(&b, WEFT_EV_SYNC, 0, 4000, 3, 4000ull, 13000ull);
  tb_rec(&b, WEFT_EV_SYNC, 0, 5000, 3, 5000ull, 14000ull);
  rc = open_scan(&b, b.len, "outlier.wtrace", &e, &t, err, sizeof err);
  if (ok(rc == 0 && e.n == 3, "outlier trace scans")) {
    ok(weft_trace_ticks_to_ns(t, 3000) == 12000 && e.ev[0].ns == 12000,
       "backwards point dropped (longest non-decreasing run kept)");
    int mono = 1;
    uint64_t prev = 0;
    for (uint64_t x = 0; x < 8000; x += 7) {
      uint64_t ns = weft_trace_ticks_to_ns(t, x);
      if (ns < prev) mono = 0;
      prev = ns;
    }
    ok(mono, "conversion never decreases");
    weft_trace_close(t);
  }
  free(b.buf);

  /* Ticks saturate instead of wrapping. */
  tb_header(&b, 10, 0, WEFT_CLOCK_TSC, 1000, 10000, 0);
  tb_chunk(&b, 10, 0, UINT64_MAX - 5, 20000, WEFT_CHUNK_ALIGN);
  tb_word(&b, WEFT_W0(WEFT_EV_ACQ, 2, MUTEX, 100));
  tb_word(&b, 1);
  rc = open_scan(&b, b.len, "sat.wtrace", &e, NULL, err, sizeof err);
  ok(rc == 0 && e.n == 1 && e.ev[0].tsc == UINT64_MAX, "tick sum saturates at UINT64_MAX");
  free(b.buf);
}

/* ---- layout: end markers and reserved pages ---- */

static void test_layout(void) {
  char err[512];
  Events e;
  TraceBuild b;

  tb_header(&b, 20, 0, WEFT_CLOCK_TSC, 0, 0, 1000000000);
  tb_chunk(&b, 7, 0, 100, 100, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, 110, 2, 1ull);
  tb_rec(&b, WEFT_EV_REL, MUTEX, 120, 2, 1ull);
  tb_word(&b, 0);                                 /* crash cut: word 0 never published */
  tb_word(&b, WEFT_W0(WEFT_EV_ACQ, 2, MUTEX, 5)); /* ... a later record is not read */
  tb_word(&b, 1);
  tb_chunk(&b, 8, 0, 200, 200, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, 210, 2, 2ull);
  int rc = open_scan(&b, b.len, "cut.wtrace", &e, NULL, err, sizeof err);
  ok(rc == 0 && e.n == 3 && e.ev[1].type == WEFT_EV_REL && e.ev[2].tid == 8,
     "word 0 == 0 mid-chunk ends the chunk without error (%s)", err);
  free(b.buf);

  tb_header(&b, 20, 0, WEFT_CLOCK_TSC, 0, 0, 1000000000);
  tb_zero_pages(&b, 2);
  tb_chunk(&b, 7, 0, 100, 100, 2 * WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, 110, 2, 1ull);
  tb_zero_pages(&b, 1);
  rc = open_scan(&b, b.len, "zero.wtrace", &e, NULL, err, sizeof err);
  ok(rc == 0 && e.n == 1 && e.ev[0].offset == 3 * 4096 + 32, "reserved zero pages skipped, 8 KiB chunk read (%s)", err);
  tb_reserve(&b, b.len + 100);
  rc = open_scan(&b, b.len, "zero.wtrace", &e, NULL, err, sizeof err);
  ok(rc == 0 && e.n == 1, "zero partial page at the end (%s)", err);
  b.len -= 100 - 16;
  rc = open_scan(&b, b.len, "zero.wtrace", &e, NULL, err, sizeof err);
  ok(rc == 0 && e.n == 1, "zero partial chunk header at the end (%s)", err);
  free(b.buf);

  /* A chunk full to the last word. */
  tb_header(&b, 20, 0, WEFT_CLOCK_TSC, 0, 0, 1000000000);
  tb_chunk(&b, 7, 0, 100, 100, WEFT_CHUNK_ALIGN);
  unsigned nrec = 0;
  while (b.pos + 16 <= b.chunk_end) {
    tb_rec(&b, WEFT_EV_ACQ, MUTEX, 100 + nrec, 2, 1ull);
    nrec++;
  }
  rc = open_scan(&b, b.len, "full.wtrace", &e, NULL, err, sizeof err);
  ok(rc == 0 && e.n == nrec && nrec == (4096 - 32) / 16, "a chunk filled to its end (%u records)", nrec);
  free(b.buf);
}

/* ---- strings ---- */

static void test_strings(void) {
  char err[512];
  Events e;
  TraceBuild b;
  tb_header(&b, 30, 0, WEFT_CLOCK_TSC, 0, 0, 1000000000);
  tb_chunk(&b, 7, 0, 100, 100, WEFT_CHUNK_ALIGN);
  tb_word(&b, WEFT_W0(WEFT_EV_THREAD_NAME, 3, 0, 1));
  tb_word(&b, 0);
  uint64_t word;
  memcpy(&word, "abcdefgh", 8);
  tb_word(&b, word);                              /* no NUL inside the record */
  tb_word(&b, WEFT_W0(WEFT_EV_ACQ, 2, MUTEX, 1)); /* a record right after it */
  tb_word(&b, 0x4141414141414141ull);
  tb_word(&b, WEFT_W0(WEFT_EV_THREAD_NAME, 4, 0, 1));
  tb_word(&b, 0);
  memcpy(&word, "12345678", 8);
  tb_word(&b, word);
  memcpy(&word, "abcdefg", 8); /* NUL in the last byte */
  tb_word(&b, word);
  int rc = open_scan(&b, b.len, "str.wtrace", &e, NULL, err, sizeof err);
  ok(rc == -1 && e.n == 0 &&
         has(err, "str.wtrace: offset 4128: THREAD_NAME record whose string is not "
                  "NUL-terminated"),
     "a string without its NUL is corruption (%s)", err);
  /* weft_event_string clips such a string (an event a caller built) */
  const uint64_t *words = (const uint64_t *)(const void *)(b.buf + 4096 + 32);
  e.n = 3;
  e.ev[0] = (WeftEvent){.type = WEFT_EV_THREAD_NAME, .nwords = 3, .w = words};
  e.ev[1] = (WeftEvent){.type = WEFT_EV_ACQ, .nwords = 2, .w = words + 3};
  e.ev[2] = (WeftEvent){.type = WEFT_EV_THREAD_NAME, .nwords = 4, .w = words + 5};
  {
    size_t len = 0;
    const char *s = weft_event_string(&e.ev[0], 2, &len);
    ok(strcmp(s, "abcdefgh") == 0 && len == 8, "unterminated string clipped to the record");
    s = weft_event_string(&e.ev[2], 2, &len);
    ok(strcmp(s, "12345678abcdefg") == 0 && len == 15, "string filling its record");
    s = weft_event_string(&e.ev[0], 3, &len);
    ok(s && *s == '\0' && len == 0, "string index at the end: empty");
    s = weft_event_string(&e.ev[0], 200, &len);
    ok(s && *s == '\0' && len == 0, "string index past the end: empty");
    size_t pos = 0;
    ok(weft_event_next_string(&e.ev[0], 2, &pos, &len) && pos == 8 &&
           weft_event_next_string(&e.ev[0], 2, &pos, &len) == NULL,
       "next_string stops at the end");
    WeftEvent fake = e.ev[1]; /* a user-built event, bigger than any record */
    fake.nwords = 1;
    ok(*weft_event_string(&fake, 1, NULL) == '\0', "no payload: empty");
  }
  free(b.buf);
}

/* ---- errors ---- */

typedef struct {
  const char *what;
  const char *expect; /* substring of the message */
  int at_open;        /* fails at open (else at scan) */
  size_t delivered;   /* records delivered before a scan error */
} Expect;

/* A scan that fails on corruption names the offset weft_trace_bad_at gives;
 * one that fails on a cut is no corruption (bad_at 0). */
static void expect_fail(const TraceBuild *b, size_t len, Expect x) {
  char err[512];
  Events e;
  WeftTrace *t = NULL;
  int rc = open_scan(b, len, "bad.wtrace", &e, &t, err, sizeof err);
  int good = x.at_open ? rc == -100 : rc == -1 && e.n == x.delivered;
  good = good && strncmp(err, "bad.wtrace: ", 12) == 0 && has(err, x.expect);
  if (rc != -100) {
    char at[64];
    uint64_t bad = weft_trace_bad_at(t);
    snprintf(at, sizeof at, "bad.wtrace: offset %" PRIu64 ": ", bad);
    good = good && (has(x.expect, "truncated") ? bad == 0 : bad != 0 && strncmp(err, at, strlen(at)) == 0);
    weft_trace_close(t);
  }
  ok(good, "%s: \"%s\"", x.what, err);
}

/* A valid one-chunk trace with 3 ACQ records, to break. */
static void good_trace(TraceBuild *b) {
  tb_header(b, 40, 0, WEFT_CLOCK_TSC, 0, 0, 1000000000);
  tb_chunk(b, 7, 0, 100, 100, WEFT_CHUNK_ALIGN);
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 110, 2, 1ull);
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 120, 2, 1ull);
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 130, 2, 1ull);
}

static void test_errors(void) {
  TraceBuild b;
  WeftFileHeader *h;
  uint32_t v;

  good_trace(&b);
  h = tb_hdr(&b);
  memcpy(h->magic, "NOTWEFT", 8);
  expect_fail(&b, b.len, (Expect){"foreign magic", "not a weft trace (bad magic)", 1, 0});
  free(b.buf);

  good_trace(&b);
  /* the older versions still read: version 1 to 7 files */
  for (uint32_t ver = 1; ver <= 7; ver++) {
    char err[512];
    Events e;
    tb_hdr(&b)->version = ver;
    int rc = open_scan(&b, b.len, "old.wtrace", &e, NULL, err, sizeof err);
    ok(rc == 0 && e.n == 3, "a version %u trace reads (%d, %zu records)", ver, rc, e.n);
  }
  tb_hdr(&b)->version = 9;
  expect_fail(&b, b.len, (Expect){"wrong version", "unsupported trace version 9 (this reader knows 1 to 8)", 1, 0});
  /* the futex bit came with version 8: in a version 7 file it is unknown */
  tb_hdr(&b)->version = 7;
  tb_hdr(&b)->features |= WEFT_FEAT_FUTEX;
  expect_fail(&b, b.len, (Expect){"the futex bit in a version-7 file", "unknown feature bits 0x400", 1, 0});
  free(b.buf);

  good_trace(&b);
  tb_hdr(&b)->endian = 0x04030201u;
  expect_fail(&b, b.len, (Expect){"foreign endianness", "other byte order", 1, 0});
  tb_hdr(&b)->endian = 0x11111111u;
  expect_fail(&b, b.len, (Expect){"bad endian mark", "bad endian mark", 1, 0});
  free(b.buf);

  good_trace(&b);
  tb_hdr(&b)->header_size = 8192;
  expect_fail(&b, b.len, (Expect){"header size", "bad header size 8192", 1, 0});
  tb_hdr(&b)->header_size = WEFT_FILE_HEADER_SIZE;
  tb_hdr(&b)->clock = 3;
  expect_fail(&b, b.len, (Expect){"clock", "unknown clock 3", 1, 0});
  expect_fail(&b, 100, (Expect){"truncated header", "100 bytes, shorter than the 4096-byte", 1, 0});
  expect_fail(&b, 0, (Expect){"empty file", "0 bytes", 1, 0});
  free(b.buf);

  /* A chunk cut by the end of the file. */
  tb_header(&b, 40, 0, WEFT_CLOCK_TSC, 0, 0, 1000000000);
  tb_chunk(&b, 7, 0, 100, 100, 2 * WEFT_CHUNK_ALIGN);
  for (unsigned i = 0; i < 300; i++) /* 300 * 16 bytes: into the second page */
    tb_rec(&b, WEFT_EV_ACQ, MUTEX, 100 + i, 2, 1ull);
  expect_fail(&b, 2 * 4096,
              (Expect){"truncated chunk", "truncated: chunk at offset 4096 claims 8192 bytes, file has 8192", 0, 254});
  expect_fail(&b, 2 * 4096 + 100,
              (Expect){"truncated chunk, odd length",
                       "truncated: chunk at offset 4096 claims 8192 bytes, file has 8292", 0, 260});
  free(b.buf);

  good_trace(&b);
  while (b.pos < b.chunk_end - 16) tb_rec(&b, WEFT_EV_ACQ, MUTEX, 200, 2, 1ull);
  tb_word(&b, WEFT_W0(WEFT_EV_WAIT_BEGIN, 4, MUTEX, 1));
  tb_word(&b, 1);
  expect_fail(&b, b.len,
              (Expect){"record overrunning the chunk",
                       "offset 8176: WAIT_BEGIN record of 4 words overruns the end of its chunk at "
                       "offset 8192",
                       0, 253});
  free(b.buf);

  good_trace(&b);
  tb_word(&b, WEFT_W0(WEFT_EV_ACQ, 1, MUTEX, 1));
  expect_fail(&b, b.len,
              (Expect){"nwords below the minimum", "offset 4176: ACQ record of 1 words, needs at least 2", 0, 3});
  free(b.buf);

  good_trace(&b);
  tb_word(&b, WEFT_W0(99, 2, 0, 1));
  expect_fail(&b, b.len, (Expect){"unknown type", "offset 4176: unknown record type 99", 0, 3});
  free(b.buf);

  good_trace(&b);
  tb_word(&b, WEFT_W0(WEFT_EV_ACQ, 0, MUTEX, 1));
  expect_fail(&b, b.len,
              (Expect){"record of 0 words", "offset 4176: record of 0 words (in the chunk at offset 4096)", 0, 3});
  free(b.buf);

  good_trace(&b);
  tb_word(&b, WEFT_W0(0, 2, 5, 1)); /* type 0 with other bits set */
  expect_fail(&b, b.len, (Expect){"type 0", "unknown record type 0", 0, 3});
  free(b.buf);

  /* Chunk headers. */
  good_trace(&b);
  v = 0x12345678;
  memcpy(b.buf + 4096, &v, 4);
  expect_fail(&b, b.len, (Expect){"bad chunk magic", "offset 4096: bad chunk magic 0x12345678", 0, 0});
  free(b.buf);

  /* A chunk taken just before a kill: fields written, magic (stored last) not. */
  {
    char err[512];
    Events e;
    tb_header(&b, 40, 0, WEFT_CLOCK_TSC, 0, 0, 1000000000);
    tb_chunk(&b, 7, 0, 100, 100, 2 * WEFT_CHUNK_ALIGN);
    v = 0;
    memcpy(b.buf + 4096, &v, 4);
    tb_chunk(&b, 8, 0, 200, 200, WEFT_CHUNK_ALIGN);
    tb_rec(&b, WEFT_EV_ACQ, MUTEX, 210, 2, 1ull);
    int rc = open_scan(&b, b.len, "unfinished.wtrace", &e, NULL, err, sizeof err);
    ok(rc == 0 && e.n == 1 && e.ev[0].tid == 8 && e.ev[0].offset == 3 * 4096 + 32,
       "chunk header with magic 0 but fields set: skipped page by page (%s)", err);
    free(b.buf);
  }
  good_trace(&b);
  memset(b.buf, 0, 8);
  expect_fail(&b, b.len, (Expect){"zero file magic", "empty trace", 1, 0});
  free(b.buf);

  static const uint32_t bad_sizes[] = {0, 100, 4097, WEFT_CHUNK_MAX + 4096};
  for (unsigned i = 0; i < 4; i++) {
    good_trace(&b);
    memcpy(b.buf + 4096 + 4, &bad_sizes[i], 4);
    char what[64];
    snprintf(what, sizeof what, "chunk size %" PRIu32, bad_sizes[i]);
    char expect[64];
    snprintf(expect, sizeof expect, "offset 4096: bad chunk size %" PRIu32, bad_sizes[i]);
    expect_fail(&b, b.len, (Expect){what, expect, 0, 0});
    free(b.buf);
  }

  good_trace(&b);
  v = 0;
  memcpy(b.buf + 4096 + 8, &v, 4);
  expect_fail(&b, b.len, (Expect){"chunk tid 0", "thread id 0", 0, 0});
  free(b.buf);

  /* Second chunk's header cut off, non-zero. */
  good_trace(&b);
  tb_reserve(&b, b.len + 16);
  b.buf[b.len - 16] = 'W';
  expect_fail(&b, b.len,
              (Expect){"truncated chunk header", "truncated: chunk header at offset 8192, file has 8208 bytes", 0, 3});
  free(b.buf);

  /* Errors from weft_trace_open on paths. */
  char err[512];
  WeftTrace *t;
  ok(weft_trace_open("/nonexistent/x.wtrace", &t, err, sizeof err) < 0 && has(err, "/nonexistent/x.wtrace: ") &&
         t == NULL,
     "missing file: \"%s\"", err);
  ok(weft_trace_open("/", &t, err, sizeof err) < 0 && has(err, "/: not a regular file"), "directory as a file: \"%s\"",
     err);
}

/* ---- corruption: every field checked, the error names the offset ---- */

/* good_trace plus one record of type with aux and the n - 1 payload words w. */
static void bad_record(TraceBuild *b, unsigned type, unsigned aux, unsigned n, const uint64_t *w) {
  good_trace(b);
  tb_word(b, WEFT_W0(type, n, aux, 1));
  for (unsigned i = 1; i < n; i++) tb_word(b, w[i - 1]);
}

static void test_corruption(void) {
  TraceBuild b;
  uint32_t v;

  /* A bad magic in the middle: the first chunk's records come first. */
  good_trace(&b);
  tb_chunk(&b, 8, 0, 200, 200, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, 210, 2, 1ull);
  tb_chunk(&b, 7, 1, 300, 300, WEFT_CHUNK_ALIGN);
  v = 0x4b484358; /* WCHK with one bit flipped */
  memcpy(b.buf + 8192, &v, 4);
  expect_fail(&b, b.len, (Expect){"bad chunk magic mid-file", "offset 8192: bad chunk magic 0x4b484358", 0, 3});
  free(b.buf);

  /* One bad record after three good ones: offset 4096 + 32 + 3 * 16. */
  static const struct {
    const char *what;
    unsigned type, aux, n;
    uint64_t w[4];
    const char *expect;
  } recs[] = {
      {"wait of kind none", WEFT_EV_WAIT_BEGIN, 0, 4, {1, 0, 0}, "WAIT_BEGIN record of kind none"},
      {"unknown kind", WEFT_EV_ACQ, WEFT_AUX(WEFT_KIND_COUNT, 0, 0), 2, {1}, "ACQ record of kind unknown"},
      {"op held off a REL", WEFT_EV_ACQ, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_HELD, 0), 2, {1}, "ACQ record with op held"},
      {"stack depth 67 M",
       WEFT_EV_STACK,
       0,
       3,
       {5 | 67108864ull << 32, 0x1234},
       "STACK record of depth 67108864 (at most 128)"},
      {"PY_FRAME id 0", WEFT_EV_PY_FRAME, 0, 4, {7ull << 32, 1, 0x41}, "PY_FRAME record with id 0"},
      {"PY_FRAME string",
       WEFT_EV_PY_FRAME,
       0,
       4,
       {1 | 7ull << 32, 1, 0x4141414141414141ull},
       "PY_FRAME record whose string is not NUL-terminated inside the record"},
      {"stack depth past the record",
       WEFT_EV_STACK,
       0,
       3,
       {5 | 3ull << 32, 0x1234},
       "STACK record of depth 3 in 3 words"},
      {"string without a NUL",
       WEFT_EV_THREAD_NAME,
       0,
       3,
       {0, 0x4141414141414141ull},
       "THREAD_NAME record whose string"},
      {"LOST count", WEFT_EV_LOST, 0, 2, {7800000000000000000ull}, "LOST record of 7800000000000000000"},
      {"EXIT how", WEFT_EV_EXIT, 9, 2, {0}, "EXIT record with aux 9 (at most 2)"},
      {"FORK pid", WEFT_EV_FORK, 0, 2, {1ull << 40}, "FORK record with child pid"},
      {"THREAD_START creator", WEFT_EV_THREAD_START, 0, 4, {1, 0, 99999999}, "THREAD_START with creator tid"},
      {"SYNC time far off", WEFT_EV_SYNC, 0, 3, {150, 8000000000000000ull}, "SYNC record time more than 7 days"},
      {"TIME tick far off", WEFT_EV_TIME, 0, 2, {1ull << 62}, "TIME record time more than 7 days"},
      {"MPI_MSG of no call",
       WEFT_EV_MPI_MSG,
       WEFT_MPI_MSG_AUX(WEFT_MPI_MSG_RECV, 0),
       5,
       {0, 1, 8, 0},
       "MPI_MSG record with aux 0x1 (a direction and a known call)"},
      {"MPI_COLL of a send",
       WEFT_EV_MPI_COLL,
       WEFT_MPI_SEND,
       5,
       {0, 0, 0, 0},
       "MPI_COLL record of call 4 (no collective)"},
      {"MPI_RANK past its world",
       WEFT_EV_MPI_RANK,
       WEFT_MPI_RANK_INIT,
       3,
       {3, 3},
       "MPI_RANK record of rank 3 in a world of 3"},
  };
  for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
    char expect[200];
    snprintf(expect, sizeof expect, "offset 4176: %s", recs[i].expect);
    bad_record(&b, recs[i].type, recs[i].aux, recs[i].n, recs[i].w);
    expect_fail(&b, b.len, (Expect){recs[i].what, expect, 0, 3});
    free(b.buf);
  }

  /* Version 4: a Python frame and a stack that names it read as they were written. */
  {
    static const uint64_t frame[5] = {9 | 27ull << 32, 25, 0x2e707061006b6174ull, 0x7970, 0}; /* "tak", "app.py" */
    static const uint64_t stack[3] = {4 | 2ull << 32, WEFT_STACK_PY_BIT | 9, 0x7f0000400000ull};
    char err[512];
    Events e;
    bad_record(&b, WEFT_EV_PY_FRAME, 0, 6, frame);
    tb_word(&b, WEFT_W0(WEFT_EV_STACK, 4, 0, 1));
    for (unsigned i = 0; i < 3; i++) tb_word(&b, stack[i]);
    int rc = open_scan(&b, b.len, "py.wtrace", &e, NULL, err, sizeof err);
    size_t pos = 0, l1 = 0, l2 = 0;
    const WeftEvent *f = rc == 0 && e.n == 5 ? &e.ev[3] : NULL, *st = f ? &e.ev[4] : NULL;
    const char *fn = f ? weft_event_next_string(f, 3, &pos, &l1) : NULL;
    const char *file = f ? weft_event_next_string(f, 3, &pos, &l2) : NULL;
    ok(f && f->type == WEFT_EV_PY_FRAME && (uint32_t)f->w[1] == 9 && f->w[1] >> 32 == 27 && f->w[2] == 25 && fn &&
           l1 == 3 && !memcmp(fn, "tak", 3) && file && l2 == 6 && !memcmp(file, "app.py", 6),
       "PY_FRAME: id, line, first line, function and file (%s)", err);
    ok(st && st->type == WEFT_EV_STACK && weft_stack_word_is_py(st->w[2]) && weft_stack_word_py_id(st->w[2]) == 9 &&
           !weft_stack_word_is_py(st->w[3]),
       "STACK: a Python frame's word, then a return address");
    free(b.buf);
  }

  /* A chunk 92 days from the process start (SYNC and TIME: in the table above). */
  good_trace(&b);
  tb_chunk(&b, 7, 1, 100, 8000000000000000ull, WEFT_CHUNK_ALIGN);
  expect_fail(&b, b.len, (Expect){"chunk time far off", "offset 8192: chunk start time more than 7 days", 0, 3});
  free(b.buf);
  /* The bound on ticks is exact: at 1 GHz, WEFT_SPAN_MAX_NS ticks from the start is in, one more is out. */
  {
    char err[512];
    Events e;
    good_trace(&b);
    tb_chunk(&b, 7, 1, WEFT_SPAN_MAX_NS, WEFT_SPAN_MAX_NS, WEFT_CHUNK_ALIGN);
    ok(open_scan(&b, b.len, "edge.wtrace", &e, NULL, err, sizeof err) == 0 && e.n == 3,
       "a chunk tick exactly the longest span from the start is read (%s)", err);
    free(b.buf);
    good_trace(&b);
    tb_chunk(&b, 7, 1, WEFT_SPAN_MAX_NS + 1, 100, WEFT_CHUNK_ALIGN);
    expect_fail(&b, b.len,
                (Expect){"chunk tick one past the span", "offset 8192: chunk start time more than 7 days", 0, 3});
    free(b.buf);
  }
  /* Header fields: the open fails, naming offset 0. */
  good_trace(&b);
  tb_hdr(&b)->lost = 7800000000000000000ull;
  expect_fail(&b, b.len, (Expect){"header lost", "offset 0: bad file header: implausible lost record count", 1, 0});
  tb_hdr(&b)->lost = 0;
  tb_hdr(&b)->tsc_hz = 12;
  expect_fail(&b, b.len, (Expect){"header tick rate", "offset 0: bad file header: implausible tick rate 12 Hz", 1, 0});
  tb_hdr(&b)->tsc_hz = 1000000000;
  tb_hdr(&b)->hold_sample = 48;
  expect_fail(&b, b.len, (Expect){"header hold_sample", "offset 0: bad file header: hold_sample 48", 1, 0});
  tb_hdr(&b)->hold_sample = 64;
  tb_hdr(&b)->pid = 0;
  expect_fail(&b, b.len, (Expect){"header pid", "offset 0: bad file header: bad pid 0", 1, 0});
  tb_hdr(&b)->pid = 40;
  tb_hdr(&b)->features |= 1ull << 40;
  expect_fail(&b, b.len, (Expect){"header features", "offset 0: bad file header: unknown feature bits", 1, 0});
  free(b.buf);

  /* Not corruption: a zero word ends the chunk, a cut file reads to its cut. */
  {
    char err[512];
    Events e;
    WeftTrace *t;
    good_trace(&b);
    tb_word(&b, 0);
    tb_word(&b, WEFT_W0(99, 2, 0, 1)); /* past the end marker: never read */
    int rc = open_scan(&b, b.len, "end.wtrace", &e, &t, err, sizeof err);
    ok(rc == 0 && e.n == 3 && weft_trace_bad_at(t) == 0, "a zero word ends the chunk: no corruption (%s)", err);
    weft_trace_close(t);
    rc = open_scan(&b, 4096 + 40, "cut.wtrace", &e, &t, err, sizeof err);
    ok(rc == -1 && weft_trace_cut_at(t) == 4096 && weft_trace_bad_at(t) == 0, "a file cut short is no corruption (%s)",
       err);
    weft_trace_close(t);
    free(b.buf);
  }
}

/* ---- recordings ---- */

static char tmpdir[4096];

static void write_file(const char *name, const TraceBuild *b) {
  char path[sizeof tmpdir + 300];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(b->buf, 1, b->len, f) != b->len || fclose(f) != 0) {
    perror(path);
    exit(99);
  }
}

static void remove_tmpdir(void) {
  DIR *d = opendir(tmpdir);
  if (!d) return;
  struct dirent *de;
  char path[sizeof tmpdir + 300];
  while ((de = readdir(d)))
    if (de->d_name[0] != '.') {
      snprintf(path, sizeof path, "%s/%s", tmpdir, de->d_name);
      if (unlink(path) != 0) rmdir(path);
    }
  closedir(d);
  rmdir(tmpdir);
}

static void new_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/test-reader-XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    exit(99);
  }
}

static void test_recording(void) {
  new_tmpdir();
  char err[512];
  WeftRecording *r = NULL;
  ok(weft_recording_open(tmpdir, &r, err, sizeof err) < 0 && r == NULL && has(err, tmpdir) &&
         has(err, ": no weft trace files (*.wtrace) in this directory"),
     "empty directory: \"%s\"", err);

  /* pid 200: only its header point (1000 -> 10000). */
  TraceBuild b;
  tb_header(&b, 200, 0, WEFT_CLOCK_TSC, 1000, 10000, 0);
  tb_chunk(&b, 200, 0, 4000, 14000, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, 6000, 2, 1ull);
  write_file("200.0.wtrace", &b);
  free(b.buf);
  /* pid 100, two images: the points (3000 -> 12000), (5000 -> 16000). */
  tb_header(&b, 100, 1, WEFT_CLOCK_TSC, 5000, 16000, 0);
  tb_chunk(&b, 100, 0, 5000, 16000, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, 5000, 2, 1ull);
  write_file("100.1.wtrace", &b);
  free(b.buf);
  tb_header(&b, 100, 0, WEFT_CLOCK_TSC, 3000, 12000, 0);
  tb_chunk(&b, 100, 0, 3000, 12000, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, 3000, 2, 1ull);
  write_file("100.0.wtrace", &b);
  free(b.buf);
  /* A MONOTONIC file keeps its own clock. */
  tb_header(&b, 300, 0, WEFT_CLOCK_MONOTONIC, 500000, 500000, 1000000000);
  write_file("300.0.wtrace", &b);
  free(b.buf);
  {
    char path[sizeof tmpdir + 300];
    snprintf(path, sizeof path, "%s/notes.txt", tmpdir);
    FILE *f = fopen(path, "w");
    if (f) {
      fputs("not a trace\n", f);
      fclose(f);
    }
  }

  int rc = weft_recording_open(tmpdir, &r, err, sizeof err);
  if (ok(rc == 0, "recording opens (%s)", err)) {
    ok(weft_recording_count(r) == 4, "4 trace files, notes.txt ignored");
    const char *names[] = {"100.0.wtrace", "100.1.wtrace", "200.0.wtrace", "300.0.wtrace"};
    int order = weft_recording_count(r) == 4;
    for (size_t i = 0; order && i < 4; i++) {
      const char *n = weft_trace_name(weft_recording_trace(r, i));
      size_t ln = strlen(n), lw = strlen(names[i]);
      order = ln > lw && strcmp(n + ln - lw, names[i]) == 0;
    }
    ok(order, "sorted by (pid, image)");
    ok(weft_recording_trace(r, 4) == NULL, "trace index out of range: NULL");
    ok(weft_recording_start_ns(r) == 10000, "start = earliest start_ns");
    WeftTrace *t200 = weft_recording_trace(r, 2);
    ok(weft_trace_ticks_to_ns(t200, 2000) == 11000 && weft_trace_ticks_to_ns(t200, 4500) == 15000,
       "one recording-wide fit over the points of all files");
    ok(weft_trace_ticks_to_ns(weft_recording_trace(r, 0), 4000) == 14000, "every trace uses the recording fit");
    ok(weft_trace_ticks_to_ns(weft_recording_trace(r, 3), 600000) == 600000,
       "a MONOTONIC file is fitted apart from the TSC files");
    weft_trace_close(t200); /* owned by the recording: a no-op */
    Events e;
    memset(&e, 0, sizeof e);
    rc = weft_recording_scan(r, collect, &e, err, sizeof err);
    ok(rc == 0 && e.n == 3 && e.ev[0].pid == 100 && e.ev[0].ns == 12000 && e.ev[1].ns == 16000 && e.ev[2].pid == 200 &&
           e.ev[2].ns == 17486,
       "recording scan: every file in order, one clock; "
       "extrapolated with the least-squares slope 1.4857 (%s)",
       err);
    weft_recording_close(r);
  }

  /* Files of processes killed before their header was written: skipped. */
  {
    char path[sizeof tmpdir + 300];
    snprintf(path, sizeof path, "%s/500.0.wtrace", tmpdir);
    FILE *f0 = fopen(path, "w");
    if (f0) fclose(f0);
    snprintf(path, sizeof path, "%s/501.0.wtrace", tmpdir);
    f0 = fopen(path, "w");
    if (f0) {
      static const char zeros[4096];
      fwrite(zeros, 1, sizeof zeros, f0);
      fclose(f0);
    }
    rc = weft_recording_open(tmpdir, &r, err, sizeof err);
    ok(rc == 0 && weft_recording_count(r) == 4, "empty trace files skipped in a recording (%s)", rc == 0 ? "" : err);
    if (rc == 0) weft_recording_close(r);
    WeftTrace *t0;
    ok(weft_trace_open(path, &t0, err, sizeof err) < 0 && has(err, "501.0.wtrace: empty trace"),
       "empty trace opened alone: \"%s\"", err);
  }

  /* A corrupt file fails the recording with its name. */
  tb_header(&b, 400, 0, WEFT_CLOCK_TSC, 1000, 10000, 0);
  tb_hdr(&b)->version = 9;
  write_file("400.0.wtrace", &b);
  free(b.buf);
  r = NULL;
  ok(weft_recording_open(tmpdir, &r, err, sizeof err) < 0 && r == NULL &&
         has(err, "400.0.wtrace: unsupported trace version 9"),
     "corrupt file in a recording: \"%s\"", err);
  ok(weft_recording_open("/nonexistent-dir", &r, err, sizeof err) < 0 && has(err, "/nonexistent-dir: "),
     "missing directory: \"%s\"", err);

  /* weft_trace_open on a real file. */
  char path[sizeof tmpdir + 300];
  snprintf(path, sizeof path, "%s/seed.wtrace", tmpdir);
  tb_build_seed(&b);
  write_file("seed.wtrace", &b);
  free(b.buf);
  WeftTrace *t;
  Events e;
  memset(&e, 0, sizeof e);
  rc = weft_trace_open(path, &t, err, sizeof err);
  if (rc == 0) {
    rc = weft_trace_scan(t, collect, &e, err, sizeof err);
    ok(strcmp(weft_trace_name(t), path) == 0, "name of a file trace is its path");
    weft_trace_close(t);
  }
  ok(rc == 0 && e.n == 43, "seed file read from the file (%s)", err);
  remove_tmpdir();
}

/* ---- files that change under the reader, or are no files (issue 11) ---- */

static char *tmp_path(const char *name) {
  static char path[sizeof tmpdir + 300];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  return path;
}

/* Pid 600: a 2-page chunk of 400 ACQ records (into its second page), then a
 * 1-page chunk of thread 601 with 2; 16 KiB. */
static void two_chunk_trace(TraceBuild *b) {
  tb_header(b, 600, 0, WEFT_CLOCK_TSC, 0, 0, 1000000000);
  tb_chunk(b, 600, 0, 100, 100, 2 * WEFT_CHUNK_ALIGN);
  for (unsigned i = 0; i < 400; i++) tb_rec(b, WEFT_EV_ACQ, MUTEX, 100 + i, 2, 1ull);
  tb_chunk(b, 601, 0, 200, 200, WEFT_CHUNK_ALIGN);
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 210, 2, 2ull);
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 220, 2, 2ull);
}

typedef struct {
  int n;
  char last[1200];
} Warnings;

static void collect_warning(const char *msg, void *user) {
  Warnings *w = user;
  w->n++;
  snprintf(w->last, sizeof w->last, "%s", msg);
}

/* A file that shrinks after it was opened is read, not mapped: the scan
 * reports it cut short instead of dying of SIGBUS (a full disk under an
 * older agent left holes that faulted the same way); a hole in the file
 * reads as pages never written. */
static void test_changing_files(void) {
  new_tmpdir();
  char err[512];
  TraceBuild b;
  two_chunk_trace(&b);
  write_file("600.0.wtrace", &b);
  const char *path = tmp_path("600.0.wtrace");
  WeftTrace *t = NULL;
  Events e;
  int rc = weft_trace_open(path, &t, err, sizeof err);
  ok(rc == 0 && weft_trace_cut_at(t) == 0, "whole file opens, not cut (%s)", rc ? err : "");
  if (rc == 0) {
    if (truncate(path, 2 * WEFT_CHUNK_ALIGN) != 0) perror("truncate");
    memset(&e, 0, sizeof e);
    rc = weft_trace_scan(t, collect, &e, err, sizeof err);
    ok(rc == -1 &&
           has(err, "600.0.wtrace: truncated: chunk at offset 4096: the file is shorter now than the "
                    "16384 bytes") &&
           weft_trace_cut_at(t) == 4096,
       "a file that shrank after the open: cut short, no SIGBUS: \"%s\"", err);
    weft_trace_close(t);
  }

  /* The same through a recording. */
  write_file("600.0.wtrace", &b);
  WeftRecording *r = NULL;
  rc = weft_recording_open(tmpdir, &r, err, sizeof err);
  if (ok(rc == 0, "recording opens (%s)", rc ? err : "")) {
    if (truncate(path, WEFT_CHUNK_ALIGN + 100) != 0) perror("truncate");
    memset(&e, 0, sizeof e);
    rc = weft_recording_scan(r, collect, &e, err, sizeof err);
    ok(rc == -1 && has(err, "600.0.wtrace: truncated: chunk at offset 4096"),
       "a recording whose file shrank: cut short, no SIGBUS: \"%s\"", err);
    weft_recording_close(r);
  }

  /* A copy cut short: known at the open, the records before the cut read. */
  write_file("600.0.wtrace", &b);
  if (truncate(path, 2 * WEFT_CHUNK_ALIGN) != 0) perror("truncate");
  rc = weft_trace_open(path, &t, err, sizeof err);
  if (ok(rc == 0 && weft_trace_cut_at(t) == 4096, "a file cut short: the cut chunk known at the open")) {
    memset(&e, 0, sizeof e);
    rc = weft_trace_scan(t, collect, &e, err, sizeof err);
    ok(rc == -1 && e.n == 254 && has(err, "600.0.wtrace: truncated: chunk at offset 4096 claims 8192 bytes"),
       "... its records before the cut delivered (%zu), then the cut named: \"%s\"", e.n, err);
    weft_trace_close(t);
  }
  free(b.buf);

  /* A hole (sparse file) between two chunks and at the end: pages never written. */
  tb_header(&b, 610, 0, WEFT_CLOCK_TSC, 0, 0, 1000000000);
  tb_chunk(&b, 610, 0, 100, 100, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, 110, 2, 1ull);
  size_t first = b.len;
  tb_zero_pages(&b, 2);
  tb_chunk(&b, 611, 0, 200, 200, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, 210, 2, 2ull);
  path = tmp_path("610.0.wtrace");
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int wrote = fd >= 0 && pwrite(fd, b.buf, first, 0) == (ssize_t)first &&
              pwrite(fd, b.buf + b.len - WEFT_CHUNK_ALIGN, WEFT_CHUNK_ALIGN, (off_t)(b.len - WEFT_CHUNK_ALIGN)) ==
                  (ssize_t)WEFT_CHUNK_ALIGN &&
              ftruncate(fd, (off_t)(b.len + 3 * WEFT_CHUNK_ALIGN)) == 0;
  if (fd >= 0) close(fd);
  rc = wrote ? weft_trace_open(path, &t, err, sizeof err) : -1;
  if (ok(rc == 0, "a sparse file opens (%s)", rc ? err : "")) {
    memset(&e, 0, sizeof e);
    rc = weft_trace_scan(t, collect, &e, err, sizeof err);
    ok(rc == 0 && e.n == 2 && e.ev[1].tid == 611 && weft_trace_cut_at(t) == 0, "holes read as pages never written (%s)",
       rc ? err : "");
    weft_trace_close(t);
  }
  free(b.buf);
  remove_tmpdir();
}

/* A FIFO (or a directory) named *.wtrace is refused before it is read:
 * opening a FIFO to read it waits for a writer that never comes. */
static void test_not_files(void) {
  new_tmpdir();
  char err[512];
  TraceBuild b;
  two_chunk_trace(&b);
  write_file("600.0.wtrace", &b);
  free(b.buf);
  const char *fifo = tmp_path("700.0.wtrace");
  if (mkfifo(fifo, 0600) != 0) {
    perror("mkfifo");
    exit(99);
  }
  alarm(60); /* a hang is a failure, not a stuck test */
  WeftTrace *t = NULL;
  ok(weft_trace_open(fifo, &t, err, sizeof err) < 0 && t == NULL &&
         has(err, "700.0.wtrace: not a regular file (a FIFO)"),
     "a FIFO opened alone: \"%s\"", err);
  WeftRecording *r = NULL;
  Warnings w = {0, ""};
  WeftRecordingOptions opt = {.warn = collect_warning, .warn_user = &w};
  int rc = weft_recording_open_with(tmpdir, &opt, &r, err, sizeof err);
  ok(rc == 0 && weft_recording_count(r) == 1 && w.n == 1 &&
         has(w.last, "700.0.wtrace: not a regular file (a FIFO): skipped"),
     "a FIFO in a recording: skipped with a warning naming it (%s; \"%s\")", rc ? err : "opened", w.last);
  if (rc == 0) weft_recording_close(r);
  if (mkdir(tmp_path("701.0.wtrace"), 0700) != 0) perror("mkdir");
  w.n = 0;
  rc = weft_recording_open_with(tmpdir, &opt, &r, err, sizeof err);
  ok(rc == 0 && weft_recording_count(r) == 1 && w.n == 2, "and a directory too (%d warnings)", w.n);
  if (rc == 0) weft_recording_close(r);
  alarm(0);
  remove_tmpdir();
}

/* Write b as PID.IMAGE.wtrace and free it. */
static void write_image(TraceBuild *b, uint32_t pid, uint32_t image) {
  char name[64];
  snprintf(name, sizeof name, "%" PRIu32 ".%" PRIu32 ".wtrace", pid, image);
  write_file(name, b);
  free(b->buf);
}

/* One file of pid with session id and start times (s of CLOCK_REALTIME,
 * and of CLOCK_MONOTONIC). */
static void session_file(uint32_t pid, uint32_t image, uint64_t session, uint64_t realtime_s, uint64_t mono_s) {
  TraceBuild b;
  tb_header(&b, pid, image, WEFT_CLOCK_MONOTONIC, mono_s * 1000000000ull, mono_s * 1000000000ull, 1000000000);
  tb_hdr(&b)->session = session;
  tb_hdr(&b)->realtime_ns = realtime_s * 1000000000ull;
  tb_chunk(&b, pid, 0, mono_s * 1000000000ull, mono_s * 1000000000ull, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, mono_s * 1000000000ull + 10, 2, 1ull);
  write_image(&b, pid, image);
}

/* Two runs into one directory are two recordings: the latest by default. */
static void test_sessions(void) {
  new_tmpdir();
  char err[512];
  const uint64_t A = 0xaaaa000000000001ull, B = 0x0bbb000000000002ull, C = 0xcccc000000000003ull;
  session_file(100, 0, A, 1000, 50); /* A: pid 100, two images */
  session_file(100, 1, A, 1001, 51);
  session_file(200, 0, B, 2000, 90); /* B: the latest, pids 200 and 201 */
  session_file(201, 0, B, 2001, 91);
  session_file(300, 0, C, 500, 100); /* C: the oldest wall clock (before a reboot) */
  WeftRecording *r = NULL;
  int rc = weft_recording_open(tmpdir, &r, err, sizeof err);
  if (ok(rc == 0, "a directory of three sessions opens (%s)", rc ? err : "")) {
    const WeftSession *all;
    size_t n = weft_recording_sessions(r, &all);
    ok(n == 3 && all[0].session == C && all[1].session == A && all[2].session == B,
       "three sessions, oldest first by wall-clock start");
    ok(n == 3 && all[1].files == 2 && all[1].processes == 1 && all[2].files == 2 && all[2].processes == 2 &&
           all[1].start_ns == 50000000000ull && all[1].realtime_ns == 1000000000000ull,
       "files, processes and start of each");
    ok(weft_recording_session(r) == &all[2] && weft_recording_count(r) == 2 &&
           weft_trace_header(weft_recording_trace(r, 0))->pid == 200 &&
           weft_trace_header(weft_recording_trace(r, 1))->pid == 201 && weft_recording_start_ns(r) == 90000000000ull,
       "the latest session is the recording");
    weft_recording_close(r);
  }
  WeftRecordingOptions opt = {.pick_session = 1, .session = A};
  rc = weft_recording_open_with(tmpdir, &opt, &r, err, sizeof err);
  if (ok(rc == 0, "another session chosen (%s)", rc ? err : "")) {
    ok(weft_recording_count(r) == 2 && weft_recording_session(r)->session == A &&
           weft_trace_header(weft_recording_trace(r, 1))->image == 1 && weft_recording_start_ns(r) == 50000000000ull,
       "its files only, its own start");
    weft_recording_close(r);
  }
  opt.session = 0xff;
  ok(weft_recording_open_with(tmpdir, &opt, &r, err, sizeof err) < 0 && r == NULL &&
         has(err, ": no trace file of session 00000000000000ff in this directory (its sessions: "
                  "cccc000000000003, aaaa000000000001, 0bbb000000000002)"),
     "a session not there: \"%s\"", err);
  opt = (WeftRecordingOptions){.all_sessions = 1};
  rc = weft_recording_open_with(tmpdir, &opt, &r, err, sizeof err);
  if (ok(rc == 0 && weft_recording_count(r) == 5 && !weft_recording_session(r), "all sessions at once"))
    weft_recording_close(r);
  remove_tmpdir();
}

/* ---- sections (version 7): fork children in their parent's file ---- */

/* Where build_shared put things. */
typedef struct {
  size_t proc101, proc102; /* the PROCESS chunks */
  size_t child101;         /* 101's first CHILD chunk */
  size_t root_b;           /* the file's second chunk */
  size_t child102b;        /* 102's second CHILD chunk (the last chunk) */
  size_t rec101;           /* 101's ACQ of object 2 */
} Shared;

/* Pid 100's file (1 GHz ticks = ns) with the sections of its fork child 101
 * and grandchild 102, their chunks interleaved with 100's and each other's:
 *   4096 100 | 8192 PROCESS 101 | 12288 CHILD 101 | 16384 100 | 20480 PROCESS 102 |
 *   24576 zero | 28672 CHILD 102 | 32768 CHILD 101 (8 KiB) | 40960 100 | 45056 CHILD 102 */
static Shared build_shared(TraceBuild *b) {
  Shared at;
  WeftFileHeader *h = tb_header(b, 100, 0, WEFT_CLOCK_TSC, 1000, 1000, 1000000000);
  h->features |= WEFT_FEAT_SHARED_FILE;
  tb_chunk(b, 100, 0, 1050, 1050, WEFT_CHUNK_ALIGN);
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 1100, 2, 1ull);
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 1110, 2, 1ull);
  tb_rec(b, WEFT_EV_FORK, WEFT_FORK_FORK, 1120, 2, 101ull);
  at.proc101 = b->len;
  tb_process(b, 101, 100, 1200, 1200);
  at.child101 = b->len;
  tb_child_chunk(b, 101, 101, 0, 1250, 1250, WEFT_CHUNK_ALIGN);
  tb_rec(b, WEFT_EV_THREAD_START, 1, 1260, 4, 0ull, 0ull, 0ull);
  at.rec101 = b->pos;
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 1300, 2, 2ull);
  tb_rec(b, WEFT_EV_FORK, WEFT_FORK_FORK, 1310, 2, 102ull);
  at.root_b = b->len;
  tb_chunk(b, 100, 1, 1350, 1350, WEFT_CHUNK_ALIGN);
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 1400, 2, 3ull);
  at.proc102 = b->len;
  tb_process(b, 102, 101, 1500, 1500);
  tb_zero_pages(b, 1);
  tb_child_chunk(b, 102, 102, 0, 1550, 1550, WEFT_CHUNK_ALIGN);
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 1600, 2, 4ull);
  tb_child_chunk(b, 101, 103, 0, 1650, 1650, 2 * WEFT_CHUNK_ALIGN);
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 1700, 2, 5ull);
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 1710, 2, 6ull);
  tb_chunk(b, 104, 0, 1750, 1750, WEFT_CHUNK_ALIGN);
  tb_rec(b, WEFT_EV_ACQ, MUTEX, 1800, 2, 7ull);
  at.child102b = b->len;
  tb_child_chunk(b, 102, 102, 1, 1850, 1850, WEFT_CHUNK_ALIGN);
  tb_rec(b, WEFT_EV_EXIT, WEFT_PEXIT_EXIT, 1900, 2, 0ull);
  return at;
}

/* What one trace of a shared file gives: its scan's result and message,
 * records (type, w1 or tid, pid and time checked by the caller). */
typedef struct {
  int rc;
  char err[512];
  Events e;
} Scan;

static void scan_into(WeftTrace *t, Scan *s) {
  memset(&s->e, 0, sizeof s->e);
  s->err[0] = '\0';
  s->rc = weft_trace_scan(t, collect, &s->e, s->err, sizeof s->err);
}

/* Records e hold exactly objects objs[] (ACQ w1; 0: a record of another type), all of pid and ns == tsc. */
static int records_are(const Events *e, uint32_t pid, const uint64_t *objs, size_t n) {
  if (e->n != n) return 0;
  for (size_t i = 0; i < n; i++) {
    const WeftEvent *ev = &e->ev[i];
    if (ev->pid != pid || ev->ns != ev->tsc) return 0;
    if (objs[i] ? ev->type != WEFT_EV_ACQ || e->w1[i] != objs[i] : ev->type == WEFT_EV_ACQ) return 0;
  }
  return 1;
}

/* The three traces of the file in b (len bytes) opened from memory; each
 * scanned. Returns the number of sections, or -1 if the open failed. */
static int open_shared(const TraceBuild *b, size_t len, WeftTrace **t, Scan s[3]) {
  char err[512];
  if (weft_trace_open_mem(b->buf, len, "x.wtrace", t, err, sizeof err) < 0) {
    snprintf(s[0].err, sizeof s[0].err, "%s", err);
    return -1;
  }
  WeftTrace *const *sec;
  size_t n = weft_trace_sections(*t, &sec);
  for (size_t i = 0; i < 3; i++) {
    memset(&s[i], 0, sizeof s[i]);
    if (i <= n) scan_into(i ? sec[i - 1] : *t, &s[i]);
  }
  return (int)n;
}

static void test_sections_read(void) {
  TraceBuild b;
  Shared at = build_shared(&b);
  WeftTrace *t;
  Scan s[3];
  int n = open_shared(&b, b.len, &t, s);
  if (!ok(n == 2, "a file with two sections opens (%d: %s)", n, s[0].err)) {
    free(b.buf);
    return;
  }
  WeftTrace *const *sec;
  weft_trace_sections(t, &sec);
  static const uint64_t root[] = {1, 1, 0, 3, 7}, c101[] = {0, 2, 0, 5, 6}, c102[] = {4, 0};
  ok(s[0].rc == 0 && records_are(&s[0].e, 100, root, 5) && s[0].e.ev[4].tid == 104,
     "the file's trace: its own records only, its chunks between the sections' (%s)", s[0].err);
  ok(s[1].rc == 0 && records_are(&s[1].e, 101, c101, 5) && s[1].e.ev[1].offset == at.rec101 &&
         s[1].e.ev[0].offset == at.child101 + 40 && s[1].e.ev[3].tid == 103,
     "the child's section: its records, of both its threads, from byte 40 of its chunks (%s)", s[1].err);
  ok(s[2].rc == 0 && records_are(&s[2].e, 102, c102, 2) && s[2].e.ev[1].type == WEFT_EV_EXIT,
     "the grandchild's section: its records (%s)", s[2].err);
  const WeftFileHeader *h1 = weft_trace_header(sec[0]), *h2 = weft_trace_header(sec[1]);
  ok(h1->pid == 101 && h1->ppid == 100 && h1->image == 0 && h1->version == WEFT_TRACE_VERSION && h1->start_ns == 1200 &&
         memcmp(h1->magic, WEFT_TRACE_MAGIC, 8) == 0 && h2->pid == 102 && h2->ppid == 101 && h2->start_ns == 1500,
     "section headers: the PROCESS pages, with the file magic");
  ok(weft_trace_section_at(sec[0]) == at.proc101 && weft_trace_section_at(sec[1]) == at.proc102 &&
         weft_trace_section_at(t) == 0,
     "the PROCESS chunks' offsets");
  ok(strcmp(weft_trace_name(sec[0]), "x.wtrace [pid 101]") == 0, "a section's name: \"%s\"", weft_trace_name(sec[0]));
  WeftTrace *const *none;
  ok(weft_trace_sections(sec[0], &none) == 0, "a section has no sections");
  ok(weft_trace_cut_at(t) == 0 && weft_trace_bad_at(t) == 0 && weft_trace_cut_at(sec[1]) == 0 &&
         weft_trace_bad_at(sec[0]) == 0,
     "nothing cut, nothing bad");
  weft_trace_close(sec[0]); /* owned by the file's trace: a no-op */
  weft_trace_close(t);

  /* The same from a file: read with pread, each trace its own chunks. */
  new_tmpdir();
  write_file("100.0.wtrace", &b);
  char path[sizeof tmpdir + 32], err[512] = "";
  snprintf(path, sizeof path, "%s/100.0.wtrace", tmpdir);
  if (ok(weft_trace_open(path, &t, err, sizeof err) == 0, "from a file (%s)", err)) {
    size_t k = weft_trace_sections(t, &sec);
    Scan f[3];
    for (size_t i = 0; i < 3 && k == 2; i++) scan_into(i ? sec[i - 1] : t, &f[i]);
    ok(k == 2 && f[0].rc == 0 && f[1].rc == 0 && f[2].rc == 0 && records_are(&f[0].e, 100, root, 5) &&
           records_are(&f[1].e, 101, c101, 5) && records_are(&f[2].e, 102, c102, 2),
       "from a file: the same records per trace (%zu: %s %s %s)", k, f[0].err, f[1].err, f[2].err);
    weft_trace_close(t);
  }
  remove_tmpdir();
  free(b.buf);
}

/* One file of pid (image, start s), an ACQ of object pid. */
static void plain_file(uint32_t pid, uint32_t image, uint64_t start) {
  TraceBuild b;
  tb_header(&b, pid, image, WEFT_CLOCK_TSC, start, start, 1000000000);
  tb_chunk(&b, pid, 0, start + 10, start + 10, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_ACQ, MUTEX, start + 20, 2, (uint64_t)pid);
  write_image(&b, pid, image);
}

static void test_sections_recording(void) {
  new_tmpdir();
  TraceBuild b;
  build_shared(&b);
  write_file("100.0.wtrace", &b);
  free(b.buf);
  plain_file(102, 0, 2000); /* the grandchild exec'd: its file, image 0 too */
  plain_file(200, 1, 2100); /* no section of 200: its image stays */
  WeftRecording *r;
  char err[512] = "";
  if (!ok(weft_recording_open(tmpdir, &r, err, sizeof err) == 0, "a recording with sections opens (%s)", err)) {
    remove_tmpdir();
    return;
  }
  static const uint32_t pids[] = {100, 101, 102, 102, 200}, images[] = {0, 0, 0, 1, 1};
  static const uint64_t starts[] = {1000, 1200, 1500, 2000, 2100};
  int good = weft_recording_count(r) == 5;
  for (size_t i = 0; good && i < 5; i++) {
    const WeftFileHeader *h = weft_trace_header(weft_recording_trace(r, i));
    good = h->pid == pids[i] && h->image == images[i] && h->start_ns == starts[i];
  }
  ok(good, "3 files and 2 sections, by (pid, image): the section of 102 image 0, its file 102.0 image 1, 200.1 kept");
  const WeftSession *ss = weft_recording_session(r);
  const WeftHost *hosts;
  ok(ss && ss->files == 5 && ss->processes == 4 && weft_recording_hosts(r, &hosts) == 1 && hosts[0].files == 5,
     "the session and the host count the sections as process images");
  Events e;
  memset(&e, 0, sizeof e);
  err[0] = '\0';
  int rc = weft_recording_scan(r, collect, &e, err, sizeof err);
  ok(rc == 0 && e.n == 5 + 5 + 2 + 1 + 1 && e.ev[5].pid == 101 && e.ev[10].pid == 102 && e.ev[12].pid == 102 &&
         e.w1[12] == 102 && e.ev[13].ns == 2120,
     "the recording scan: each trace's records once (%zu; %s)", e.n, err);
  weft_recording_close(r);

  /* weft-dump's way: every session; a second file of 102 before the section keeps the order by start */
  plain_file(102, 1, 1400);
  WeftRecordingOptions opt = {.all_sessions = 1};
  if (ok(weft_recording_open_with(tmpdir, &opt, &r, err, sizeof err) == 0, "all sessions (%s)", err)) {
    int order = weft_recording_count(r) == 6;
    static const uint64_t st102[] = {1400, 1500, 2000};
    for (size_t i = 0; order && i < 3; i++) {
      const WeftFileHeader *h = weft_trace_header(weft_recording_trace(r, 2 + i));
      order = h->pid == 102 && h->image == i && h->start_ns == st102[i];
    }
    ok(order, "pid 102's images numbered by start: 102.1 (earlier) 0, the section 1, 102.0 2");
    weft_recording_close(r);
  }
  remove_tmpdir();
}

/* Each trace of the file in b (len bytes): scan rc, records delivered, a
 * message part ("" for none), cut_at and bad_at. */
typedef struct {
  int rc;
  size_t n;
  const char *msg;
  uint64_t cut, bad;
} Want;

static void expect_shared(const char *what, const TraceBuild *b, size_t len, int nsec, const Want *w) {
  WeftTrace *t;
  Scan s[3];
  int n = open_shared(b, len, &t, s);
  int good = n == nsec;
  char got[1600] = "";
  size_t used = 0;
  WeftTrace *const *sec;
  if (n >= 0) weft_trace_sections(t, &sec);
  for (int i = 0; good && i <= n && i < 3; i++) {
    WeftTrace *one = i ? sec[i - 1] : t;
    good = s[i].rc == w[i].rc && s[i].e.n == w[i].n && (w[i].msg[0] ? has(s[i].err, w[i].msg) : !s[i].err[0]) &&
           weft_trace_cut_at(one) == w[i].cut && weft_trace_bad_at(one) == w[i].bad &&
           (!s[i].err[0] || strncmp(s[i].err, weft_trace_name(one), strlen(weft_trace_name(one))) == 0);
    used += (size_t)snprintf(got + used, sizeof got - used > 0 ? sizeof got - used : 0, "%s[%d %zu] %s", i ? "; " : "",
                             s[i].rc, s[i].e.n, s[i].err);
    if (used >= sizeof got) used = sizeof got - 1;
  }
  ok(good, "%s: %d sections: %s", what, n, n < 0 ? s[0].err : got);
  if (n >= 0) weft_trace_close(t);
}

static void test_sections_errors(void) {
  TraceBuild b;
  Shared at;
  char m[200];
  WeftFileHeader *p;

  /* A CHILD chunk of a pid with no PROCESS chunk before it: every trace ends there. */
  at = build_shared(&b);
  memcpy(b.buf + at.child101 + 32, &(uint32_t){555}, 4);
  snprintf(m, sizeof m, ": offset %zu: chunk of pid 555 before its process header", at.child101);
  expect_shared("a chunk of an unknown pid", &b, b.len, 1,
                (Want[]){{-1, 3, m, 0, at.child101}, {-1, 0, m, 0, at.child101}});
  free(b.buf);

  /* Bad PROCESS chunks: the file's pass ends there, for every trace. */
  static const struct {
    const char *what, *msg;
    int field; /* 0 size, 1 version, 2 clock, 3 pid 0, 4 pid too big, 5 start far, 6 session, 7 header size */
  } bad_proc[] = {
      {"process chunk size", "bad process chunk: size 8192 (expected 4096)", 0},
      {"process chunk version", "bad process chunk: version 6 in a version-8 file", 1},
      {"process chunk clock", "bad process chunk: clock 2, the file's is 1", 2},
      {"process chunk pid 0", "bad process chunk: bad pid 0", 3},
      {"process chunk pid too big", "bad process chunk: bad pid 4194305", 4},
      {"process chunk start far", "bad process chunk: start time more than 7 days from the file's start", 5},
      {"process chunk session", "bad process chunk: session 0000000000000001, the file's is 5eed0000cafe0001", 6},
      {"process chunk header size", "bad process chunk: header size 0 (expected 4096)", 7},
  };
  for (size_t i = 0; i < sizeof bad_proc / sizeof bad_proc[0]; i++) {
    at = build_shared(&b);
    p = (WeftFileHeader *)(void *)(b.buf + at.proc102);
    switch (bad_proc[i].field) {
      case 0: memcpy(b.buf + at.proc102 + 4, &(uint32_t){8192}, 4); break;
      case 1: p->version = 6; break;
      case 2: p->clock = WEFT_CLOCK_MONOTONIC; break;
      case 3: p->pid = 0; break;
      case 4: p->pid = WEFT_PID_MAX + 1; break;
      case 5: p->start_ns += 8 * 86400000000000ull; break;
      case 6: p->session = 1; break;
      default: p->header_size = 0; break;
    }
    snprintf(m, sizeof m, ": offset %zu: %s", at.proc102, bad_proc[i].msg);
    expect_shared(bad_proc[i].what, &b, b.len, 1, (Want[]){{-1, 4, m, 0, at.proc102}, {-1, 3, m, 0, at.proc102}});
    free(b.buf);
  }

  /* A bad record in a section: only that section stops there. */
  at = build_shared(&b);
  memcpy(b.buf + at.rec101, &(uint64_t){WEFT_W0(99, 2, 0, 0)}, 8);
  snprintf(m, sizeof m, "x.wtrace [pid 101]: offset %zu: unknown record type 99", at.rec101);
  expect_shared("a bad record in a section", &b, b.len, 2,
                (Want[]){{0, 5, "", 0, 0}, {-1, 1, m, 0, at.rec101}, {0, 2, "", 0, 0}});
  free(b.buf);

  /* A bad chunk header after the sections: every trace ends there. */
  at = build_shared(&b);
  memcpy(b.buf + at.child102b, &(uint32_t){0x12345678}, 4);
  snprintf(m, sizeof m, ": offset %zu: bad chunk magic 0x12345678", at.child102b);
  expect_shared("a bad chunk magic", &b, b.len, 2,
                (Want[]){{-1, 5, m, 0, at.child102b}, {-1, 5, m, 0, at.child102b}, {-1, 1, m, 0, at.child102b}});
  free(b.buf);

  /* A CHILD chunk with a bad tid: the same. */
  at = build_shared(&b);
  memcpy(b.buf + at.child102b + 8, &(uint32_t){0}, 4);
  snprintf(m, sizeof m, ": offset %zu: chunk of thread id 0", at.child102b);
  expect_shared("a CHILD chunk of thread 0", &b, b.len, 2,
                (Want[]){{-1, 5, m, 0, at.child102b}, {-1, 5, m, 0, at.child102b}, {-1, 1, m, 0, at.child102b}});
  free(b.buf);

  /* The last chunk (a section's) cut by the end of the file: that section's cut. */
  at = build_shared(&b);
  memcpy(b.buf + at.child102b + 4, &(uint32_t){8192}, 4);
  snprintf(m, sizeof m, "truncated: chunk at offset %zu claims 8192 bytes, file has %zu", at.child102b, b.len);
  expect_shared("a section's chunk cut short", &b, b.len, 2,
                (Want[]){{0, 5, "", 0, 0}, {0, 5, "", 0, 0}, {-1, 2, m, at.child102b, 0}});
  /* A CHILD chunk header cut by the end of the file: the file is cut there. */
  snprintf(m, sizeof m, "x.wtrace: truncated: chunk header at offset %zu, file has %zu bytes", at.child102b,
           at.child102b + 36);
  expect_shared("a CHILD chunk header cut short", &b, at.child102b + 36, 2,
                (Want[]){{-1, 5, m, at.child102b, 0}, {0, 5, "", 0, 0}, {0, 1, "", 0, 0}});
  free(b.buf);

  /* A PROCESS chunk cut by the end of the file: the file is cut there. */
  at = build_shared(&b);
  snprintf(m, sizeof m, "x.wtrace: truncated: chunk at offset %zu claims 4096 bytes, file has %zu", at.proc102,
           at.proc102 + 1000);
  expect_shared("a PROCESS chunk cut short", &b, at.proc102 + 1000, 1,
                (Want[]){{-1, 4, m, at.proc102, 0}, {0, 3, "", 0, 0}});
  free(b.buf);

  /* Version 6 and files without the bit: no sections, the chunks as before. */
  at = build_shared(&b);
  tb_hdr(&b)->version = 6;
  expect_fail(&b, b.len, (Expect){"the shared-file bit in a version-6 file", "unknown feature bits 0x200", 1, 0});
  tb_hdr(&b)->features &= ~WEFT_FEAT_SHARED_FILE;
  snprintf(m, sizeof m, "offset %zu: bad chunk magic 0x43525057", at.proc101);
  expect_fail(&b, b.len, (Expect){"a PROCESS chunk in a version-6 file", m, 0, 3});
  tb_hdr(&b)->version = 7;
  expect_fail(&b, b.len, (Expect){"a PROCESS chunk in a file without the shared-file bit", m, 0, 3});
  free(b.buf);
}

static void test_names(void) {
  ok(strcmp(weft_event_name(WEFT_EV_WAIT_BEGIN), "WAIT_BEGIN") == 0 && weft_event_name(0) == NULL &&
         weft_event_name(99) == NULL && weft_event_name(256) == NULL,
     "event names");
  ok(weft_event_min_words(WEFT_EV_MODULE) == 9 && weft_event_min_words(WEFT_EV_EXEC_FAILED) == 1 &&
         weft_event_min_words(0) == 0,
     "event min words");
  ok(strcmp(weft_kind_name(WEFT_KIND_NONE), "none") == 0 &&
         strcmp(weft_kind_name(WEFT_KIND_RWLOCK_RD), "rwlock_rd") == 0 &&
         strcmp(weft_kind_name(WEFT_KIND_SLEEP), "sleep") == 0 && weft_kind_name(WEFT_KIND_COUNT) == NULL,
     "kind names");
  ok(strcmp(weft_op_name(WEFT_OP_LOCK), "lock") == 0 && strcmp(weft_op_name(WEFT_OP_SERIAL), "serial") == 0 &&
         strcmp(weft_op_name(WEFT_OP_HELD), "held") == 0 && weft_op_name(8) == NULL,
     "op names");
}

int main(void) {
  test_names();
  test_seed();
  test_clock();
  test_layout();
  test_strings();
  test_errors();
  test_corruption();
  test_recording();
  test_changing_files();
  test_not_files();
  test_sessions();
  test_sections_read();
  test_sections_recording();
  test_sections_errors();
  printf("1..%d\n", ntest);
  return nfail ? 1 : 0;
}
