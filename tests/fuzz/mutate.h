/* mutate.h - the deterministic trace mutator of the standalone fuzzers.
 * SPDX-License-Identifier: MIT
 *
 * Shared by fuzz-reader.c (the reader on each mutant) and fuzz-import.c (the
 * importer and the report on each): bit flips, byte and word sets,
 * truncation, growth, word-0 and chunk-header rewrites, aimed at the places
 * the format's lengths live. splitmix64, so a seed gives the same mutants
 * everywhere. Static functions: include it once per program.
 */
#ifndef WEFT_FUZZ_MUTATE_H
#define WEFT_FUZZ_MUTATE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft-reader.h"

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  unsigned char *buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) {
      unsigned char *nb = realloc(buf, cap *= 2);
      if (!nb) free(buf);
      buf = nb;
    }
  }
  fclose(f);
  if (!buf) fprintf(stderr, "%s: out of memory\n", path);
  *len = n;
  return buf;
}

/* splitmix64: a deterministic generator, the same sequence everywhere. */
static uint64_t rng_state;
static uint64_t rng(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static size_t rnd(size_t n) { return n ? (size_t)(rng() % n) : 0; }

static const uint64_t interesting64[] = {
    0,
    1,
    2,
    7,
    8,
    0xff,
    0x100,
    0xfff,
    0x1000,
    0x1001,
    0x7fffffff,
    0x80000000,
    0xffffffff,
    0x100000000ull,
    0x7fffffffffffffffull,
    0x8000000000000000ull,
    0xfffffffffffffffeull,
    0xffffffffffffffffull,
    WEFT_CHUNK_MAGIC,
    WEFT_CHUNK_MAX,
    WEFT_CHUNK_MAX + 4096ull,
};
static const uint8_t interesting8[] = {
    0, 1, 2, 3, 4, 5, 7, 8, 0x10, 0x1f, 0x20, 0x7f, 0x80, 0xfe, 0xff,
};
#define NINTERESTING64 (sizeof interesting64 / sizeof interesting64[0])
static const unsigned known_types[] = {
#define WEFT_EVENT(name, id, minw, doc) id,
#include "weft-events.def"
};

typedef struct {
  unsigned char *buf;
  size_t len, cap;
} Mutant;

static void m_grow(Mutant *m, size_t len) {
  if (len > m->cap) {
    size_t cap = m->cap ? m->cap : 4096;
    while (cap < len) cap *= 2;
    unsigned char *p = realloc(m->buf, cap);
    if (!p) abort();
    m->buf = p;
    m->cap = cap;
  }
  if (len > m->len) memset(m->buf + m->len, 0, len - m->len);
  m->len = len;
}

static void put64(Mutant *m, size_t off, uint64_t v) {
  if (m->len >= 8 && off <= m->len - 8) memcpy(m->buf + off, &v, 8);
}
static void put32(Mutant *m, size_t off, uint32_t v) {
  if (m->len >= 4 && off <= m->len - 4) memcpy(m->buf + off, &v, 4);
}

/* A place worth hitting: a header field, a chunk header field, a record word
 * 0 of the seed (offs), or anywhere. */
static size_t pick_offset(const Mutant *m, const uint64_t *offs, size_t noffs) {
  if (m->len == 0) return 0;
  switch (rnd(4)) {
    case 0: return rnd(sizeof(WeftFileHeader) < m->len ? sizeof(WeftFileHeader) : m->len);
    case 1: {
      size_t pages = m->len / 4096;
      size_t off = (1 + rnd(pages ? pages : 1)) * 4096 + rnd(32);
      return off < m->len ? off : rnd(m->len);
    }
    case 2:
      if (noffs) {
        size_t off = (size_t)offs[rnd(noffs)] + rnd(16);
        return off < m->len ? off : rnd(m->len);
      }
      return rnd(m->len);
    default: return rnd(m->len);
  }
}

static void mutate(Mutant *m, const uint64_t *offs, size_t noffs) {
  unsigned n = 1 + (unsigned)rnd(4);
  for (unsigned k = 0; k < n; k++) {
    size_t off = pick_offset(m, offs, noffs);
    switch (rnd(10)) {
      case 0: /* bit flip */
        if (off < m->len) m->buf[off] ^= (unsigned char)(1u << rnd(8));
        break;
      case 1: /* byte set */
        if (off < m->len) m->buf[off] = interesting8[rnd(sizeof interesting8)];
        break;
      case 2: /* 64-bit word set, aligned */ put64(m, off & ~(size_t)7, interesting64[rnd(NINTERESTING64)]); break;
      case 3: /* random 64-bit word (ticks, ns) */ put64(m, off & ~(size_t)7, rng()); break;
      case 4: { /* word 0 rewrite: a real record's */
        if (!noffs) break;
        size_t at = (size_t)offs[rnd(noffs)];
        unsigned type = rnd(8) ? known_types[rnd(sizeof known_types / sizeof known_types[0])] : (unsigned)rnd(256);
        unsigned nw = rnd(4) ? (unsigned)rnd(10) : (unsigned)rnd(256);
        uint64_t dt = rnd(2) ? rnd(100) : rng();
        put64(m, at, WEFT_W0(type, nw, rng(), dt));
        break;
      }
      case 5: /* word 0 := 0 */
        if (noffs) put64(m, (size_t)offs[rnd(noffs)], 0);
        break;
      case 6: { /* chunk header field */
        size_t pages = m->len / 4096;
        size_t at = (1 + rnd(pages ? pages : 1)) * 4096;
        uint32_t v = (uint32_t)interesting64[rnd(NINTERESTING64)];
        if (rnd(2)) v = (uint32_t)(rnd(64) * 4096);
        put32(m, at + 4 * rnd(10), v); /* up to a CHILD chunk's pid, a PROCESS page's ppid */
        break;
      }
      case 7: /* truncate */
        if (rnd(2)) {
          m->len = rnd(m->len + 1);
        } else {
          size_t cut = 1 + rnd(rnd(2) ? 8 : 64);
          m->len = cut < m->len ? m->len - cut : 0;
        }
        break;
      case 8: { /* grow: zero pages, or a copy of a page */
        size_t old = m->len, add = 4096 * (1 + rnd(2));
        if (old > (1u << 20)) break;
        m_grow(m, old + add);
        if (rnd(2) && old >= 8192) {
          size_t src = (1 + rnd(old / 4096 - 1)) * 4096;
          if (src + 4096 <= old) memcpy(m->buf + old, m->buf + src, 4096);
        }
        break;
      }
      default: /* header field: version, endian, clock, ... */
        put32(m, 8 + 4 * rnd(4), rnd(2) ? (uint32_t)rnd(4) : (uint32_t)rng());
        break;
    }
  }
}

static int collect_offset(const WeftEvent *ev, void *user) {
  Mutant *o = user; /* reused as an array of offsets */
  if (o->len + sizeof(uint64_t) > o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 1024;
    unsigned char *p = realloc(o->buf, cap);
    if (!p) abort();
    o->buf = p;
    o->cap = cap;
  }
  memcpy(o->buf + o->len, &ev->offset, sizeof(uint64_t));
  o->len += sizeof(uint64_t);
  return 0;
}

/* The record offsets of the trace in buf (to aim word-0 rewrites at), *n of
 * them; malloc'd, NULL when there are none. */
static uint64_t *record_offsets(const unsigned char *buf, size_t len, const char *name, size_t *n) {
  Mutant offs = {0};
  WeftTrace *t;
  char err[512];
  if (weft_trace_open_mem(buf, len, name, &t, err, sizeof err) == 0) {
    WeftTrace *const *sec;
    const size_t nsec = weft_trace_sections(t, &sec);
    for (size_t i = 0; i <= nsec; i++) /* the file's records, then its sections' */
      if (weft_trace_scan(i ? sec[i - 1] : t, collect_offset, &offs, err, sizeof err) < 0)
        fprintf(stderr, "fuzz: note: seed does not scan cleanly: %s\n", err);
    weft_trace_close(t);
  } else {
    fprintf(stderr, "fuzz: note: seed does not open: %s\n", err);
  }
  *n = offs.len / sizeof(uint64_t);
  return (uint64_t *)(void *)offs.buf;
}

/* A malloc'd copy of mutant i of orig: exactly its length, so ASan sees a
 * read past the end. *len gets the length. */
static unsigned char *make_mutant(Mutant *m, const unsigned char *orig, size_t len, const uint64_t *offs, size_t noffs,
                                  size_t *out_len) {
  m->len = 0;
  m_grow(m, len);
  memcpy(m->buf, orig, len);
  mutate(m, offs, noffs);
  unsigned char *exact = malloc(m->len ? m->len : 1);
  if (!exact) abort();
  memcpy(exact, m->buf, m->len);
  *out_len = m->len;
  return exact;
}

#endif /* WEFT_FUZZ_MUTATE_H */
