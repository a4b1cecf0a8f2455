/* weft-encode.h - writing the trace format: the words of every record, once.
 * SPDX-License-Identifier: MIT
 *
 * Header-only (static inline) for every writer of traces: the agent, and the
 * tools that build traces without it (tests/fuzz/trace-build.h, the bench
 * generator tests/bench/gen-recording.c). A writer reserves a record's words
 * its own way (a chunk of a shared mapping, a growing buffer), fills words
 * 1.. with these functions and publishes word 0 last with weft_enc_publish,
 * so a reader of a live file (or of one cut short by a crash) sees a record
 * whole or not at all. The layout is weft-trace.h; the fields of each record
 * are declared in weft-events.def.
 *
 * The agent calls these on its hot path, from wrappers that may run in
 * signal handlers: they take no lock, call nothing but memcpy and memset
 * (async-signal-safe, and inlined for the small fixed sizes), and keep no
 * state.
 */
#ifndef WEFT_ENCODE_H
#define WEFT_ENCODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "weft-trace.h"

/* ---- the file header and chunk headers ---- */

/* The fields every file header has; the caller fills the rest (pid, clock
 * readings, features, ...) and then seals it. */
static inline void weft_enc_header_begin(WeftFileHeader *h, uint32_t clock) {
  h->version = WEFT_TRACE_VERSION;
  h->endian = WEFT_ENDIAN_MARK;
  h->header_size = WEFT_FILE_HEADER_SIZE;
  h->clock = clock;
}

/* The magic, last: a header without it is a file that never started. */
static inline void weft_enc_header_seal(WeftFileHeader *h) {
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  memcpy(h->magic, WEFT_TRACE_MAGIC, 8);
}

/* A chunk header, its magic last (a chunk without it is a reserved page that
 * readers skip). tsc is the base of the first record's dt. */
static inline void weft_enc_chunk(WeftChunkHeader *c, uint32_t size, uint32_t tid, uint32_t seq, uint64_t tsc,
                                  uint64_t ns) {
  c->size = size;
  c->tid = tid;
  c->seq = seq;
  c->ns = ns;
  c->tsc = tsc;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  __atomic_store_n(&c->magic, WEFT_CHUNK_MAGIC, __ATOMIC_RELEASE);
}

/* Version 7: a CHILD chunk's header (a chunk of a thread of fork child pid,
 * in its parent's file), its magic last like a chunk's. Records follow at
 * byte 40. */
static inline void weft_enc_child_chunk(WeftChildChunkHeader *c, uint32_t size, uint32_t tid, uint32_t seq,
                                        uint64_t tsc, uint64_t ns, uint32_t pid) {
  c->size = size;
  c->tid = tid;
  c->seq = seq;
  c->ns = ns;
  c->tsc = tsc;
  c->pid = pid;
  c->reserved = 0;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  __atomic_store_n(&c->magic, WEFT_CHILD_CHUNK_MAGIC, __ATOMIC_RELEASE);
}

/* Version 7: seal a PROCESS chunk whose page (WEFT_PROC_CHUNK_SIZE bytes,
 * zero when taken) has the file header's fields from byte 8 on, filled
 * (weft_enc_header_begin, then pid, ppid, session, clock readings, ...):
 * the size, then the magic, last (release), so a reader sees the page whole
 * or as a page never written. */
static inline void weft_enc_proc_seal(void *page) {
  uint32_t *w = page;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  __atomic_store_n(&w[1], WEFT_PROC_CHUNK_SIZE, __ATOMIC_RELAXED);
  __atomic_store_n(&w[0], WEFT_PROC_MAGIC, __ATOMIC_RELEASE);
}

/* ---- records ---- */

/* Word 0, once words 1..nwords-1 are written: dt is the ticks since the
 * previous record of the chunk (the chunk header's tsc for the first). */
static inline void weft_enc_publish(uint64_t *rec, unsigned type, unsigned nwords, unsigned aux, uint64_t dt) {
  __atomic_store_n(rec, WEFT_W0(type, nwords, aux, dt), __ATOMIC_RELEASE);
}

/* A TIME record (2 words, dt 0): the next record's dt counts from tick. */
static inline void weft_enc_time(uint64_t *rec, uint64_t tick) {
  rec[1] = tick;
  weft_enc_publish(rec, WEFT_EV_TIME, 2, 0, 0);
}

/* Words 1.. of a record of nwords from w[0..nwords-2]. */
static inline void weft_enc_words(uint64_t *rec, unsigned nwords, const uint64_t *w) {
  for (unsigned i = 1; i < nwords; i++) rec[i] = w[i - 1];
}

/* SYNC: a tick count and the CLOCK_MONOTONIC ns read with it (3 words). */
static inline void weft_enc_sync(uint64_t *rec, uint64_t tick, uint64_t ns) {
  rec[1] = tick;
  rec[2] = ns;
}

/* SCHED: thread tid's schedstat reading (5 words). */
static inline void weft_enc_sched(uint64_t *rec, uint32_t tid, uint64_t cpu_ns, uint64_t runq_ns, uint64_t slices) {
  rec[1] = tid;
  rec[2] = cpu_ns;
  rec[3] = runq_ns;
  rec[4] = slices;
}

/* SHARED (version 5): the object at obj is at offset off of the file (dev,
 * ino) that a shared mapping maps there (5 words; aux = the kind). */
static inline void weft_enc_shared(uint64_t *rec, uint64_t obj, uint64_t dev, uint64_t ino, uint64_t off) {
  rec[1] = obj;
  rec[2] = dev;
  rec[3] = ino;
  rec[4] = off;
}

/* COUNTS: what thread tid did to obj without waiting since its previous
 * COUNTS of it (10 words; aux = the kind). */
static inline void weft_enc_counts(uint64_t *rec, uint64_t obj, uint32_t tid, uint64_t acq, uint64_t failed,
                                   uint64_t releases, uint64_t samples, uint64_t sample_sum, uint64_t sample_max,
                                   uint64_t first) {
  rec[1] = obj;
  rec[2] = tid;
  rec[3] = acq;
  rec[4] = failed;
  rec[5] = releases;
  rec[6] = samples;
  rec[7] = sample_sum;
  rec[8] = sample_max;
  rec[9] = first;
}

/* WAIT_BEGIN w2: the holder's tid (0: unknown) and the waiter's stack id. */
static inline uint64_t weft_enc_holder(uint32_t holder_tid, uint32_t stack_id) {
  return (uint64_t)holder_tid | (uint64_t)stack_id << 32;
}

/* WAIT_BEGIN (4 words): obj2 is the mutex of a condvar wait, the pid of a
 * waitpid, else 0. */
static inline void weft_enc_wait_begin(uint64_t *rec, uint64_t obj, uint32_t holder_tid, uint32_t stack_id,
                                       uint64_t obj2) {
  rec[1] = obj;
  rec[2] = weft_enc_holder(holder_tid, stack_id);
  rec[3] = obj2;
}

/* A hold's length in ticks + 1 (0: its start was not timed). */
static inline uint64_t weft_enc_hold_len1(uint64_t start, uint64_t now) {
  return start && now >= start ? now - start + 1 : 0;
}

/* REL w2 (3-word form): the hold's length + 1 and whether the REL is late. */
static inline uint64_t weft_enc_rel_w2(uint64_t len1, int late) { return len1 << 1 | (late ? WEFT_REL_LATE : 0); }

/* Can a REL take the 2-word form (op WEFT_OP_HELD)? A timed hold shorter
 * than 65534 ticks of an address below 2^48. */
static inline int weft_enc_rel_fits_held(uint64_t obj, uint64_t len1) {
  return len1 && len1 < 0xffff && obj < (1ull << 48);
}

/* REL w1 of the 2-word form. */
static inline uint64_t weft_enc_rel_held_w1(uint64_t obj, uint64_t len1) { return obj | len1 << 48; }

/* STACK w1; the return addresses follow, innermost first (and, version 4,
 * the Python frames: weft_stack_py_word). */
static inline uint64_t weft_enc_stack_w1(uint32_t id, uint32_t depth) { return (uint64_t)id | (uint64_t)depth << 32; }

/* PY_FRAME words 1..2 (version 4): its id, the line it runs (0 unknown) and
 * the function's first line; the function and the file follow as strings
 * (WEFT_ENC_PY_FRAME_FIXED words of payload before them). */
#define WEFT_ENC_PY_FRAME_FIXED 2u
static inline void weft_enc_py_frame(uint64_t *rec, uint32_t id, uint32_t line, uint32_t first) {
  rec[1] = (uint64_t)id | (uint64_t)line << 32;
  rec[2] = first;
}

/* PROCESS_INFO w1; argv and the executable follow as strings. */
static inline uint64_t weft_enc_process_w1(uint32_t argc, uint32_t image) {
  return (uint64_t)argc | (uint64_t)image << 32;
}

/* FORK aux: how, and the errno of a failed fork. */
static inline unsigned weft_enc_fork_aux(unsigned how, unsigned err) { return how | err << 8; }

/* MPI_MSG (version 6): comm id, peer's world rank and tag, bytes, sequence number. */
static inline void weft_enc_mpi_msg(uint64_t *rec, uint64_t comm, int32_t peer, int32_t tag, uint64_t bytes,
                                    uint64_t seq) {
  rec[1] = comm;
  rec[2] = WEFT_MPI_PAIR(peer, tag);
  rec[3] = bytes;
  rec[4] = seq;
}

/* MPI_COLL (version 6): comm id, its collective's number, bytes, root (WEFT_MPI_NO_RANK: none) and comm size. */
static inline void weft_enc_mpi_coll(uint64_t *rec, uint64_t comm, uint64_t seq, uint64_t bytes, uint32_t root,
                                     uint32_t size) {
  rec[1] = comm;
  rec[2] = seq;
  rec[3] = bytes;
  rec[4] = WEFT_MPI_PAIR(root, size);
}

/* A pipe's identity (PIPE_WRITE w2, WAIT_END w3 of a read or poll). */
static inline uint64_t weft_enc_pipe_id(uint64_t dev, uint64_t ino) { return (dev << 32 ^ ino) | 1ull << 63; }

/* MODULE words 1..7: load bias, text range, build-id (up to 20 bytes); the
 * path follows as a string (MODULE_FIXED words of payload before it). */
#define WEFT_ENC_MODULE_FIXED 7u
static inline void weft_enc_module(uint64_t *rec, uint64_t bias, uint64_t start, uint64_t end, const uint8_t *build_id,
                                   unsigned idlen) {
  rec[1] = bias;
  rec[2] = start;
  rec[3] = end;
  rec[4] = idlen;
  rec[5] = rec[6] = rec[7] = 0;
  if (idlen > 20) idlen = 20;
  memcpy(&rec[5], build_id, idlen);
}

/* ---- strings: NUL-terminated, back to back, zero-padded to the record's end ---- */

/* The length of a record with nfixed payload words and bytes of strings
 * (each one's NUL included); more than WEFT_RECORD_MAX_WORDS does not fit. */
static inline unsigned weft_enc_str_nwords(unsigned nfixed, size_t bytes) {
  size_t n = 1 + nfixed + (bytes + 7) / 8;
  return n > WEFT_RECORD_MAX_WORDS ? WEFT_RECORD_MAX_WORDS + 1 : (unsigned)n;
}

/* The string area of a record of nwords after nfixed payload words, zeroed:
 * every terminator and the padding. */
static inline char *weft_enc_str_area(uint64_t *rec, unsigned nfixed, unsigned nwords) {
  char *d = (char *)(rec + 1 + nfixed);
  memset(d, 0, (size_t)(nwords - 1 - nfixed) * 8);
  return d;
}

/* Copy len bytes of s to d (its NUL is already there); returns where the
 * next string starts. */
static inline char *weft_enc_str_put(char *d, const char *s, size_t len) {
  if (len) memcpy(d, s, len);
  return d + len + 1;
}

#endif /* WEFT_ENCODE_H */
