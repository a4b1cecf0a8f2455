/* fuzz-reader.c - fuzz the trace reader (agent/format/reader.c).
 * SPDX-License-Identifier: MIT
 *
 * LLVMFuzzerTestOneInput opens the input with weft_trace_open_mem, scans every
 * record, reads every string of every record and converts extreme ticks; it
 * aborts if an invariant of the reader API breaks (string length, time never
 * decreasing while ticks grow). Built with -fsanitize=fuzzer this is a libFuzzer
 * target; with -DWEFT_FUZZ_STANDALONE it gets its own main:
 *
 *   fuzz-reader-standalone FILE...                 run each file once
 *   fuzz-reader-standalone --mutate SEED ITER FILE  ITER deterministic mutations of FILE
 *
 * The mutation mode needs no libFuzzer: bit flips, byte and word sets,
 * truncation, growth, word-0 and chunk-header rewrites, aimed at the places
 * the format's lengths live. Every mutant is in a malloc'd buffer of exactly
 * its length, so ASan sees any read past the end.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft-reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
  const WeftTrace *t;
  uint64_t prev_tick, prev_ns;
  int have_prev;
  uint64_t count;
} FuzzState;

#define CHECK(cond)                                                                      \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      fprintf(stderr, "fuzz-reader: invariant failed: %s (line %d)\n", #cond, __LINE__); \
      abort();                                                                           \
    }                                                                                    \
  } while (0)

static int on_event(const WeftEvent *ev, void *user) {
  FuzzState *st = user;
  st->count++;
  CHECK(ev->nwords >= 1 && ev->nwords <= WEFT_RECORD_MAX_WORDS);
  CHECK(weft_event_name(ev->type) != NULL);
  CHECK(ev->nwords >= weft_event_min_words(ev->type));
  CHECK(ev->w[0] != 0);
  /* Every payload word, read through the record pointer. */
  volatile uint64_t sink = 0;
  for (unsigned i = 0; i < ev->nwords; i++) sink ^= ev->w[i];
  (void)sink;
  /* Every string starting at every word, and past the end. */
  for (unsigned from = 0; from <= ev->nwords + 1; from++) {
    size_t len = 99;
    const char *s = weft_event_string(ev, from, &len);
    CHECK(s != NULL && strlen(s) == len);
    CHECK(len <= (from < ev->nwords ? (size_t)(ev->nwords - from) * 8 : 0));
  }
  size_t pos = 0, len, n = 0;
  const char *s;
  while ((s = weft_event_next_string(ev, 1, &pos, &len))) {
    CHECK(strlen(s) == len);
    CHECK(++n <= (size_t)ev->nwords * 8);
  }
  /* The clock: never decreasing in the ticks. */
  CHECK(weft_trace_ticks_to_ns(st->t, ev->tsc) == ev->ns);
  if (st->have_prev) {
    if (ev->tsc >= st->prev_tick) CHECK(ev->ns >= st->prev_ns);
    if (ev->tsc <= st->prev_tick) CHECK(ev->ns <= st->prev_ns);
  }
  st->prev_tick = ev->tsc;
  st->prev_ns = ev->ns;
  st->have_prev = 1;
  return 0;
}

/* Scan t twice (the same records both times) and convert extreme ticks. */
static void check_trace(WeftTrace *t, uint64_t section_at) {
  char err[512];
  CHECK(weft_trace_header(t) != NULL);
  CHECK(weft_trace_section_at(t) == section_at);
  FuzzState st = {.t = t};
  err[0] = '\0';
  int rc = weft_trace_scan(t, on_event, &st, err, sizeof err);
  CHECK(rc == 0 || rc == -1);
  if (rc < 0) CHECK(strncmp(err, "fuzz", 4) == 0 && strstr(err, ": ") != NULL);
  /* Extremes of the tick range must convert without trapping, in order. */
  static const uint64_t ticks[] = {0, 1, 1ull << 32, 1ull << 63, UINT64_MAX - 1, UINT64_MAX};
  uint64_t prev = 0;
  for (size_t i = 0; i < sizeof ticks / sizeof ticks[0]; i++) {
    uint64_t ns = weft_trace_ticks_to_ns(t, ticks[i]);
    CHECK(ns >= prev);
    prev = ns;
  }
  /* A second scan must see the same records. */
  uint64_t first = st.count;
  FuzzState st2 = {.t = t};
  int rc2 = weft_trace_scan(t, on_event, &st2, err, sizeof err);
  CHECK(rc2 == rc && st2.count == first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  WeftTrace *t = NULL;
  char err[512];
  if (weft_trace_open_mem(data, size, "fuzz", &t, err, sizeof err) < 0) {
    CHECK(strncmp(err, "fuzz: ", 6) == 0);
    return 0;
  }
  WeftTrace *const *sec;
  const size_t nsec = weft_trace_sections(t, &sec);
  for (size_t k = 0; k <= nsec; k++) /* the file's trace, then its sections (version 7) */
    check_trace(k ? sec[k - 1] : t, k ? weft_trace_section_at(sec[k - 1]) : 0);
  weft_trace_close(t);
  return 0;
}

#ifdef WEFT_FUZZ_STANDALONE

#include "mutate.h"

static int run_mutations(uint64_t seed, uint64_t iters, const char *path) {
  size_t len;
  unsigned char *orig = read_file(path, &len);
  if (!orig) return 1;
  size_t no;
  uint64_t *o = record_offsets(orig, len, path, &no);
  char err[512];

  rng_state = seed;
  Mutant m = {0};
  uint64_t opened = 0;
  for (uint64_t i = 0; i < iters; i++) {
    size_t mlen;
    unsigned char *exact = make_mutant(&m, orig, len, o, no, &mlen);
    LLVMFuzzerTestOneInput(exact, mlen);
    /* Also unaligned: the reader must copy or cope. */
    if (i % 16 == 0 && m.len < (1u << 20)) {
      unsigned char *odd = malloc(m.len + 1);
      if (!odd) abort();
      memcpy(odd + 1, m.buf, m.len);
      LLVMFuzzerTestOneInput(odd + 1, m.len);
      free(odd);
    }
    WeftTrace *tt;
    if (weft_trace_open_mem(exact, m.len, "x", &tt, err, sizeof err) == 0) {
      opened++;
      weft_trace_close(tt);
    }
    free(exact);
  }
  printf("fuzz-reader: %" PRIu64 " mutants of %s (seed %" PRIu64 "), %" PRIu64 " opened, %zu seed records\n", iters,
         path, seed, opened, no);
  free(m.buf);
  free(o);
  free(orig);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 5 && strcmp(argv[1], "--mutate") == 0) {
    char *end1, *end2;
    uint64_t seed = strtoull(argv[2], &end1, 0), iters = strtoull(argv[3], &end2, 0);
    if (*end1 || *end2 || !*argv[2] || !*argv[3]) {
      fprintf(stderr, "fuzz-reader: bad number\n");
      return 2;
    }
    return run_mutations(seed, iters, argv[4]);
  }
  if (argc < 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: fuzz-reader-standalone FILE...\n"
                    "       fuzz-reader-standalone --mutate SEED ITER FILE\n");
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    size_t len;
    unsigned char *buf = read_file(argv[i], &len);
    if (!buf) return 1;
    unsigned char *exact = malloc(len ? len : 1);
    if (!exact) abort();
    memcpy(exact, buf, len);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    free(buf);
  }
  return 0;
}

#endif /* WEFT_FUZZ_STANDALONE */
