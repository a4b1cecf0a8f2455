/* trace-build.h - build weft trace files in memory, for the seed generator and the unit tests.
 * SPDX-License-Identifier: MIT
 *
 * Header-only (static functions): include it in one test program. Not a writer
 * for production use: it grows one malloc'd buffer and aborts when out of
 * memory. Records go into the current chunk, encoded by the agent's own
 * encoder (agent/format/weft-encode.h); tb_rec() computes dt from the
 * previous record's tick like the agent does. Anything can be written raw
 * (tb_word) to build broken files.
 */
#ifndef WEFT_TRACE_BUILD_H
#define WEFT_TRACE_BUILD_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft-encode.h"
#include "weft-trace.h"

typedef struct {
  unsigned char *buf;
  size_t len, cap;
  size_t chunk;     /* offset of the current chunk header */
  size_t chunk_end; /* end of the current chunk */
  size_t pos;       /* next record offset in the current chunk */
  uint64_t last;    /* tick of the previous record of the chunk */
} TraceBuild;

static inline void tb_reserve(TraceBuild *b, size_t len) {
  if (len <= b->cap) {
    if (len > b->len) {
      memset(b->buf + b->len, 0, len - b->len);
      b->len = len;
    }
    return;
  }
  size_t cap = b->cap ? b->cap : 4 * WEFT_CHUNK_ALIGN;
  while (cap < len) cap *= 2;
  unsigned char *p = realloc(b->buf, cap);
  if (!p) abort();
  b->buf = p;
  b->cap = cap;
  tb_reserve(b, len);
}

/* Start a file: the header page, with the fields that matter in tests. */
static inline WeftFileHeader *tb_header(TraceBuild *b, uint32_t pid, uint32_t image, uint32_t clock, uint64_t start_tsc,
                                        uint64_t start_ns, uint64_t tsc_hz) {
  memset(b, 0, sizeof *b);
  tb_reserve(b, WEFT_FILE_HEADER_SIZE);
  WeftFileHeader h;
  memset(&h, 0, sizeof h);
  weft_enc_header_begin(&h, clock);
  h.pid = pid;
  h.ppid = 1;
  h.image = image;
  h.ncpus = 4;
  h.session = 0x5eed0000cafe0001ull;
  h.start_tsc = start_tsc;
  h.start_ns = start_ns;
  h.tsc_hz = tsc_hz;
  weft_enc_header_seal(&h);
  memcpy(b->buf, &h, sizeof h);
  return (WeftFileHeader *)(void *)b->buf;
}

static inline WeftFileHeader *tb_hdr(TraceBuild *b) { return (WeftFileHeader *)(void *)b->buf; }

/* Leave n never-written (zero) pages at the end of the file. */
static inline void tb_zero_pages(TraceBuild *b, unsigned n) { tb_reserve(b, b->len + (size_t)n * WEFT_CHUNK_ALIGN); }

/* Start a chunk of size bytes at the end of the file. */
static inline void tb_chunk(TraceBuild *b, uint32_t tid, uint32_t seq, uint64_t tsc, uint64_t ns, uint32_t size) {
  size_t off = (b->len + WEFT_CHUNK_ALIGN - 1) / WEFT_CHUNK_ALIGN * WEFT_CHUNK_ALIGN;
  tb_reserve(b, off + size);
  WeftChunkHeader ch;
  weft_enc_chunk(&ch, size, tid, seq, tsc, ns);
  memcpy(b->buf + off, &ch, sizeof ch);
  b->chunk = off;
  b->chunk_end = off + size;
  b->pos = off + sizeof ch;
  b->last = tsc;
}

/* Version 7: start a fork child's section at the end of the file (the file
 * header needs WEFT_FEAT_SHARED_FILE): its PROCESS page, a copy of the file
 * header with the child's pid, parent and start. Returns the page's header
 * fields (the magic and size are bytes 0..7). */
static inline WeftFileHeader *tb_process(TraceBuild *b, uint32_t pid, uint32_t ppid, uint64_t start_tsc,
                                         uint64_t start_ns) {
  size_t off = (b->len + WEFT_CHUNK_ALIGN - 1) / WEFT_CHUNK_ALIGN * WEFT_CHUNK_ALIGN;
  tb_reserve(b, off + WEFT_PROC_CHUNK_SIZE);
  WeftFileHeader h;
  memcpy(&h, b->buf, sizeof h);
  h.pid = pid;
  h.ppid = ppid;
  h.image = 0;
  h.start_tsc = start_tsc;
  h.start_ns = start_ns;
  h.lost = 0;
  h.features &= ~WEFT_FEAT_SHARED_FILE;
  h.alloc_end = 0;
  h.grow_lock = 0;
  memset(h.magic, 0, sizeof h.magic);
  memcpy(b->buf + off, &h, sizeof h);
  weft_enc_proc_seal(b->buf + off);
  b->chunk = b->chunk_end = b->pos = off + WEFT_PROC_CHUNK_SIZE; /* no current chunk */
  return (WeftFileHeader *)(void *)(b->buf + off);
}

/* Start a CHILD chunk of process pid (a section's) at the end of the file. */
static inline void tb_child_chunk(TraceBuild *b, uint32_t pid, uint32_t tid, uint32_t seq, uint64_t tsc, uint64_t ns,
                                  uint32_t size) {
  size_t off = (b->len + WEFT_CHUNK_ALIGN - 1) / WEFT_CHUNK_ALIGN * WEFT_CHUNK_ALIGN;
  tb_reserve(b, off + size);
  WeftChildChunkHeader ch;
  weft_enc_child_chunk(&ch, size, tid, seq, tsc, ns, pid);
  memcpy(b->buf + off, &ch, sizeof ch);
  b->chunk = off;
  b->chunk_end = off + size;
  b->pos = off + sizeof ch;
  b->last = tsc;
}

/* Append one raw word to the current chunk. */
static inline void tb_word(TraceBuild *b, uint64_t w) {
  if (b->pos + 8 > b->chunk_end) {
    fprintf(stderr, "trace-build: chunk full\n");
    abort();
  }
  memcpy(b->buf + b->pos, &w, 8);
  b->pos += 8;
}

/* n words for a record in the current chunk (aligned: the buffer is
 * malloc'd and chunks and records are whole words). */
static inline uint64_t *tb_put(TraceBuild *b, unsigned n) {
  if (b->pos + (size_t)n * 8 > b->chunk_end) {
    fprintf(stderr, "trace-build: chunk full\n");
    abort();
  }
  uint64_t *rec = (uint64_t *)(void *)(b->buf + b->pos);
  b->pos += (size_t)n * 8;
  return rec;
}

/* The dt of a record at tick, which becomes the chunk's last. */
static inline uint64_t tb_dt(TraceBuild *b, uint64_t tick) {
  uint64_t dt = tick - b->last;
  if (tick < b->last || dt > UINT32_MAX) {
    fprintf(stderr, "trace-build: dt out of range, use tb_time\n");
    abort();
  }
  b->last = tick;
  return dt;
}

/* Append a record at tick: the payload words w1..w(n-1) given as uint64_t
 * varargs. */
static inline void tb_rec(TraceBuild *b, unsigned type, unsigned aux, uint64_t tick, unsigned n, ...) {
  uint64_t dt = tb_dt(b, tick);
  uint64_t *rec = tb_put(b, n);
  va_list ap;
  va_start(ap, n);
  for (unsigned i = 1; i < n; i++) rec[i] = va_arg(ap, uint64_t);
  va_end(ap);
  weft_enc_publish(rec, type, n, aux, dt);
}

/* A TIME record: the running tick becomes tick. */
static inline void tb_time(TraceBuild *b, uint64_t tick) {
  weft_enc_time(tb_put(b, 2), tick);
  b->last = tick;
}

/* A record with nfixed payload words, then the strings (each NUL-terminated,
 * back to back), zero-padded to whole words. */
static inline void tb_rec_str(TraceBuild *b, unsigned type, unsigned aux, uint64_t tick, unsigned nfixed,
                              const uint64_t *fixed, unsigned nstr, const char *const *strs) {
  size_t bytes = 0;
  for (unsigned i = 0; i < nstr; i++) bytes += strlen(strs[i]) + 1;
  unsigned nw = weft_enc_str_nwords(nfixed, bytes);
  if (nw > WEFT_RECORD_MAX_WORDS) abort();
  uint64_t dt = tb_dt(b, tick);
  uint64_t *rec = tb_put(b, nw);
  weft_enc_words(rec, 1 + nfixed, fixed);
  char *d = weft_enc_str_area(rec, nfixed, nw);
  for (unsigned i = 0; i < nstr; i++) d = weft_enc_str_put(d, strs[i], strlen(strs[i]));
  weft_enc_publish(rec, type, nw, aux, dt);
}

/* A record with one fixed word and one string (THREAD_NAME, NAME_OBJECT, ...). */
static inline void tb_rec_s(TraceBuild *b, unsigned type, unsigned aux, uint64_t tick, uint64_t w1, const char *s) {
  tb_rec_str(b, type, aux, tick, 1, &w1, 1, &s);
}

/* ---- the seed trace: pid 1234, two threads, most record types; its fork child
 * 1240's section ---- */

#define SEED_PID       1234u
#define SEED_TID2      1235u
#define SEED_CHILD     1240u
#define SEED_START_TSC 1000000ull
#define SEED_START_NS  5000000000ull
#define SEED_HZ        2000000000ull /* 2 GHz: 1 tick = 0.5 ns */
/* The ns the seed's sync points give tick t (exact for even t >= start). */
#define SEED_NS(t)     (SEED_START_NS + ((t)-SEED_START_TSC) / 2)
#define SEED_MUTEX     0x5555555580a0ull
#define SEED_COND      0x5555555580e0ull
#define SEED_SEM       0x555555558120ull
#define SEED_SELF1     0x7f0000001000ull
#define SEED_SELF2     0x7f0000002000ull
#define SEED_ROUTINE   0x555555555200ull

static inline void tb_build_seed(TraceBuild *b) {
  WeftFileHeader *h = tb_header(b, SEED_PID, 0, WEFT_CLOCK_TSC, SEED_START_TSC, SEED_START_NS, SEED_HZ);
  h->features = WEFT_FEAT_STACKS_CONTENDED | WEFT_FEAT_COUNTERS | WEFT_FEAT_SHARED_FILE;
  h->realtime_ns = 1700000000000000000ull;
  h->hold_sample = 64;
  h->flush_ms = 50;

  /* Main thread. */
  uint64_t t = SEED_START_TSC + 200;
  tb_chunk(b, SEED_PID, 0, t, SEED_NS(t), WEFT_CHUNK_ALIGN);
  tb_rec(b, WEFT_EV_THREAD_START, 1, t += 20, 4, SEED_SELF1, 0ull, 0ull);
  {
    const char *argv[] = {"./prog", "-j4", "/usr/bin/prog"};
    uint64_t w1 = weft_enc_process_w1(2, 0);
    tb_rec_str(b, WEFT_EV_PROCESS_INFO, 0, t += 20, 1, &w1, 3, argv);
  }
  {
    const char *path = "/usr/bin/prog";
    uint8_t id[20];
    for (unsigned i = 0; i < sizeof id; i++) id[i] = (uint8_t)i; /* build-id 00 01 02 ... 13 */
    uint64_t w[1 + WEFT_ENC_MODULE_FIXED];
    weft_enc_module(w, 0x555555554000ull, 0x555555555000ull, 0x555555556000ull, id, sizeof id);
    tb_rec_str(b, WEFT_EV_MODULE, 0, t += 20, WEFT_ENC_MODULE_FIXED, w + 1, 1, &path);
  }
  tb_rec_s(b, WEFT_EV_THREAD_NAME, 0, t += 20, 0, "main");
  tb_rec(b, WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), t += 20, 4, SEED_MUTEX, 0ull, 1ull);
  tb_rec_s(b, WEFT_EV_NAME_OBJECT, 0, t += 20, SEED_MUTEX, "queue\tlock \"q\"");
  tb_rec(b, WEFT_EV_STACK, 0, t += 20, 5, weft_enc_stack_w1(1, 3), 0x555555555210ull, 0x555555555320ull,
         0x7f0000400000ull);
  tb_rec(b, WEFT_EV_THREAD_CREATE, 0, t += 100, 4, SEED_SELF2, SEED_ROUTINE, 1ull);
  tb_rec(b, WEFT_EV_ACQ, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), t += 40, 2, SEED_MUTEX);
  tb_rec(b, WEFT_EV_REL, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), t += 60, 2, SEED_MUTEX);
  tb_rec(b, WEFT_EV_WAIT_BEGIN, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), t += 40, 4, SEED_MUTEX,
         weft_enc_holder(SEED_TID2, 1), 0ull);
  tb_rec(b, WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), t += 1000, 2, SEED_MUTEX);
  tb_rec(b, WEFT_EV_SIGNAL, WEFT_AUX(WEFT_KIND_COND, WEFT_OP_BROADCAST, 0), t += 20, 2, SEED_COND);
  tb_rec(b, WEFT_EV_REL, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), t += 20, 3, SEED_MUTEX,
         weft_enc_rel_w2(1021, 0)); /* version 3: a hold of 1020 ticks */
  tb_rec(b, WEFT_EV_REL, WEFT_AUX(WEFT_KIND_SEM, 0, 0), t += 20, 3, SEED_SEM, weft_enc_rel_w2(0, 1));
  tb_rec(b, WEFT_EV_COUNTS, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), t += 20, 10, SEED_MUTEX, (uint64_t)SEED_PID, 40ull, 2ull,
         0ull, 1ull, 60ull, 60ull, SEED_START_TSC + 300);
  t += 6000000000ull; /* 3 s later: dt does not fit, TIME */
  tb_time(b, t);
  t += 20;
  tb_rec(b, WEFT_EV_SYNC, 0, t, 3, t, SEED_NS(t));
  tb_rec_s(b, WEFT_EV_MARK, WEFT_MARK_BEGIN, t += 20, 7, "phase 1");
  tb_rec(b, WEFT_EV_FORK, WEFT_FORK_FORK, t += 2000, 2, (uint64_t)SEED_CHILD);
  const uint64_t fork_tick = t;
  tb_rec(b, WEFT_EV_WAIT_BEGIN, WEFT_AUX(WEFT_KIND_CHILD, WEFT_OP_LOCK, 0), t += 20, 4, 1240ull, 0ull, 1240ull);
  tb_rec(b, WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_CHILD, WEFT_OP_LOCK, 0), t += 5000, 4, 1240ull, 1240ull, 0ull);
  tb_rec_s(b, WEFT_EV_MARK, WEFT_MARK_END, t += 20, 7, "phase 1");
  tb_rec_s(b, WEFT_EV_SEM_OPEN, WEFT_AUX(WEFT_KIND_SEM, 0, 0), t += 20, SEED_SEM, "/weft.sem");
  tb_rec(b, WEFT_EV_SCHED, 0, t += 20, 5, (uint64_t)SEED_PID, 2500000ull, 40000ull, 12ull);
  tb_rec(b, WEFT_EV_LOST, 0, t += 20, 2, 3ull);
  tb_rec(b, WEFT_EV_THREAD_EXIT, WEFT_EXIT_AT_PROCESS_EXIT, t += 20, 2, SEED_SELF1);
  tb_rec(b, WEFT_EV_EXIT, WEFT_PEXIT_EXIT, t += 20, 2, 0ull);

  /* A page reserved but never written. */
  tb_zero_pages(b, 1);

  /* The worker thread. */
  t = SEED_START_TSC + 400;
  tb_chunk(b, SEED_TID2, 0, t, SEED_NS(t), WEFT_CHUNK_ALIGN);
  tb_rec(b, WEFT_EV_THREAD_START, 0, t += 20, 4, SEED_SELF2, SEED_ROUTINE, (uint64_t)SEED_PID);
  tb_rec_s(b, WEFT_EV_THREAD_NAME, 0, t += 20, 0, "worker-1");
  tb_rec(b, WEFT_EV_ACQ, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_TRY, 16), t += 20, 2, SEED_MUTEX);
  tb_rec(b, WEFT_EV_ACQ, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), t += 200, 2, SEED_MUTEX);
  tb_rec(b, WEFT_EV_WAIT_BEGIN, WEFT_AUX(WEFT_KIND_COND, WEFT_OP_TIMED, 0), t += 20, 4, SEED_COND, 0ull, SEED_MUTEX);
  tb_rec(b, WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_COND, WEFT_OP_TIMED, 110), t += 800, 2, SEED_COND);
  tb_rec(b, WEFT_EV_REL, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), t += 20, 2, SEED_MUTEX);
  tb_rec(b, WEFT_EV_WAIT_BEGIN, WEFT_AUX(WEFT_KIND_READ, WEFT_OP_LOCK, 0), t += 20, 4, 5ull, 0ull, 0ull);
  tb_rec(b, WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_READ, WEFT_OP_LOCK, 0), t += 400, 3, 5ull, 512ull);
  tb_rec(b, WEFT_EV_INIT, WEFT_AUX(WEFT_KIND_SEM, 0, 0), t += 20, 3, SEED_SEM + 0x40, 2ull);
  tb_rec(b, WEFT_EV_DESTROY, WEFT_AUX(WEFT_KIND_MUTEX, 0, 0), t += 20, 2, SEED_MUTEX);
  tb_rec(b, WEFT_EV_THREAD_DETACH, 0, t += 20, 2, SEED_SELF2);
  {
    const char *path = "/bin/true";
    tb_rec_str(b, WEFT_EV_EXEC, 0, t += 20, 0, NULL, 1, &path);
  }
  tb_rec(b, WEFT_EV_EXEC_FAILED, 2, t += 20, 1);
  tb_rec(b, WEFT_EV_THREAD_EXIT, WEFT_EXIT_RETURN, t += 20, 2, SEED_SELF2);

  /* The fork child's section (version 7): its PROCESS page, a CHILD chunk. */
  t = fork_tick + 100;
  tb_process(b, SEED_CHILD, SEED_PID, t, SEED_NS(t));
  tb_child_chunk(b, SEED_CHILD, SEED_CHILD, 0, t + 100, SEED_NS(t + 100), WEFT_CHUNK_ALIGN);
  t += 100;
  tb_rec(b, WEFT_EV_THREAD_START, 1, t += 20, 4, SEED_SELF1, 0ull, 0ull);
  tb_rec_s(b, WEFT_EV_MARK, WEFT_MARK_INSTANT, t += 20, 8, "child");
  tb_rec(b, WEFT_EV_ACQ, WEFT_AUX(WEFT_KIND_MUTEX, WEFT_OP_LOCK, 0), t += 20, 2, SEED_MUTEX);
  tb_rec(b, WEFT_EV_THREAD_EXIT, WEFT_EXIT_AT_PROCESS_EXIT, t += 20, 2, SEED_SELF1);
  tb_rec(b, WEFT_EV_EXIT, WEFT_PEXIT__EXIT, t += 20, 2, 0ull);
}

#endif /* WEFT_TRACE_BUILD_H */
