/* events.c - names and minimum lengths of the weft record types, kinds and ops.
 * SPDX-License-Identifier: MIT
 *
 * Generated from weft-events.def (X-macro) and the enums of weft-trace.h, so a
 * new record type needs no change here. Every function is pure and
 * thread-safe; all but the checks (snprintf) are async-signal-safe.
 */
#include "weft-trace.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

/* Every id must fit the type byte (0 is reserved: word 0 == 0 ends a chunk)
 * and every minimum the length byte. */
#define WEFT_EVENT(name, id, minw, doc)                               \
  _Static_assert((id) > 0 && (id) <= 255, #name ": id out of range"); \
  _Static_assert((minw) >= 1 && (minw) <= WEFT_RECORD_MAX_WORDS, #name ": bad min words");
#include "weft-events.def"

/* The record type's name ("ACQ"), or NULL if type is not a known record id. */
/* (an X-macro switch, kept as written) */
/* clang-format off */
const char *weft_event_name(unsigned type) {
  switch (type) {
#define WEFT_EVENT(name, id, minw, doc) case id: return #name;
#include "weft-events.def"
  default: return NULL;
  }
}
/* clang-format on */

/* The smallest legal length in words (word 0 included) of a record of this
 * type, or 0 if type is not a known record id. */
/* (an X-macro switch, kept as written) */
/* clang-format off */
unsigned weft_event_min_words(unsigned type) {
  switch (type) {
#define WEFT_EVENT(name, id, minw, doc) case id: return minw;
#include "weft-events.def"
  default: return 0;
  }
}
/* clang-format on */

static const char *const kind_names[] = {
    [WEFT_KIND_NONE] = "none",           [WEFT_KIND_MUTEX] = "mutex",     [WEFT_KIND_RWLOCK_RD] = "rwlock_rd",
    [WEFT_KIND_RWLOCK_WR] = "rwlock_wr", [WEFT_KIND_RWLOCK] = "rwlock",   [WEFT_KIND_SPIN] = "spin",
    [WEFT_KIND_COND] = "cond",           [WEFT_KIND_BARRIER] = "barrier", [WEFT_KIND_SEM] = "sem",
    [WEFT_KIND_JOIN] = "join",           [WEFT_KIND_CHILD] = "child",     [WEFT_KIND_POLL] = "poll",
    [WEFT_KIND_READ] = "read",           [WEFT_KIND_SLEEP] = "sleep",     [WEFT_KIND_MPI] = "mpi",
    [WEFT_KIND_FUTEX] = "futex",
};
_Static_assert(sizeof kind_names / sizeof kind_names[0] == WEFT_KIND_COUNT, "every WeftKind needs a name");

static const char *const op_names[] = {
    [WEFT_OP_LOCK] = "lock",     [WEFT_OP_TRY] = "try",       [WEFT_OP_TIMED] = "timed",
    [WEFT_OP_CLOCK] = "clock",   [WEFT_OP_SIGNAL] = "signal", [WEFT_OP_BROADCAST] = "broadcast",
    [WEFT_OP_SERIAL] = "serial", [WEFT_OP_HELD] = "held",
};

/* The name of a WeftKind ("mutex"), or NULL if kind is not known. */
const char *weft_kind_name(unsigned kind) {
  return kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : NULL;
}

/* The name of a WeftOp ("timed"), or NULL if op is not known. */
const char *weft_op_name(unsigned op) { return op < sizeof op_names / sizeof op_names[0] ? op_names[op] : NULL; }

static const char *const fork_how_names[] = {
    [WEFT_FORK_FORK] = "fork", [WEFT_FORK_VFORK] = "vfork", [WEFT_FORK_SPAWN] = "spawn"};

/* The name of a FORK record's call ("spawn"), or NULL if how is not known. */
const char *weft_fork_how_name(unsigned how) {
  return how < sizeof fork_how_names / sizeof fork_how_names[0] ? fork_how_names[how] : NULL;
}

static const char *const mpi_call_names[WEFT_MPI_CALL_COUNT] = {
#define WEFT_MPI_NAME(name, id, str) [id] = str,
    WEFT_MPI_CALLS(WEFT_MPI_NAME)
#undef WEFT_MPI_NAME
};

const char *weft_mpi_call_name(unsigned call) { return call < WEFT_MPI_CALL_COUNT ? mpi_call_names[call] : NULL; }

int weft_mpi_call_is_collective(unsigned call) { return call >= WEFT_MPI_BARRIER && call <= WEFT_MPI_SCAN; }

/* ---- checks ----
 * What a record of each type must hold beyond its minimum length, so that a
 * flipped bit is an error naming the record rather than a strange number in
 * a report. The bounds are loose (what no writer can produce), never tight
 * guesses about a program. */

static int bad(char *why, size_t whylen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *why, size_t whylen, const char *fmt, ...) {
  if (why && whylen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

/* Record types whose aux holds kind | op | result: the kind is required. */
static int is_sync(unsigned type) {
  switch (type) {
    case WEFT_EV_ACQ:
    case WEFT_EV_WAIT_BEGIN:
    case WEFT_EV_WAIT_END:
    case WEFT_EV_REL:
    case WEFT_EV_SIGNAL:
    case WEFT_EV_INIT:
    case WEFT_EV_DESTROY:
    case WEFT_EV_SEM_OPEN:
    case WEFT_EV_SHARED:
    case WEFT_EV_COUNTS: return 1;
    default: return 0;
  }
}

/* The first word of a record's strings, 0 if it has none. */
static unsigned string_from(unsigned type) {
  switch (type) {
    case WEFT_EV_EXEC: return 1;
    case WEFT_EV_THREAD_NAME:
    case WEFT_EV_SEM_OPEN:
    case WEFT_EV_PROCESS_INFO:
    case WEFT_EV_NAME_OBJECT:
    case WEFT_EV_MARK: return 2;
    case WEFT_EV_PY_FRAME: return 3;
    case WEFT_EV_MODULE: return 8;
    default: return 0;
  }
}

/* The largest aux of record types whose aux is an enum or a result. */
static unsigned aux_max(unsigned type) {
  switch (type) {
    case WEFT_EV_THREAD_START: return 1;
    case WEFT_EV_THREAD_EXIT: return WEFT_EXIT_AT_PROCESS_EXIT;
    case WEFT_EV_EXIT: return WEFT_PEXIT_RETURN;
    case WEFT_EV_MARK: return WEFT_MARK_END;
    case WEFT_EV_SCHED: return WEFT_SCHED_BASELINE;
    case WEFT_EV_SOCK: return 1;
    case WEFT_EV_THREAD_CREATE:
    case WEFT_EV_THREAD_DETACH:
    case WEFT_EV_THREAD_NAME:
    case WEFT_EV_EXEC_FAILED: return WEFT_ERRNO_MAX;
    default: return 0xffff;
  }
}

static int check_sync(unsigned type, unsigned aux, char *why, size_t whylen) {
  const unsigned kind = WEFT_AUX_KIND(aux), op = WEFT_AUX_OP(aux);
  if (kind == WEFT_KIND_NONE || kind >= WEFT_KIND_COUNT)
    return bad(why, whylen, "%s record of kind %s", weft_event_name(type), kind == WEFT_KIND_NONE ? "none" : "unknown");
  if ((type == WEFT_EV_COUNTS || type == WEFT_EV_SHARED) && (op || WEFT_AUX_RESULT(aux)))
    return bad(why, whylen, "%s record with aux 0x%x (only a kind)", weft_event_name(type), aux);
  if (op == WEFT_OP_HELD && type != WEFT_EV_REL)
    return bad(why, whylen, "%s record with op held (only a REL has it)", weft_event_name(type));
  if (type == WEFT_EV_SIGNAL && op != WEFT_OP_SIGNAL && op != WEFT_OP_BROADCAST)
    return bad(why, whylen, "SIGNAL record with op %s", weft_op_name(op));
  return 0;
}

/* The checks of single fields, by type. */
static int check_fields(unsigned type, unsigned aux, unsigned nwords, const uint64_t *w, char *why, size_t whylen) {
  switch (type) {
    case WEFT_EV_LOST:
      if (w[1] > WEFT_LOST_MAX)
        return bad(why, whylen, "LOST record of %" PRIu64 " records (more than any run can lose)", w[1]);
      break;
    case WEFT_EV_THREAD_START:
      if (w[3] > WEFT_PID_MAX) return bad(why, whylen, "THREAD_START with creator tid %" PRIu64, w[3]);
      break;
    case WEFT_EV_COUNTS:
      if (w[2] == 0 || w[2] > WEFT_PID_MAX) return bad(why, whylen, "COUNTS record for tid %" PRIu64, w[2]);
      break;
    case WEFT_EV_SCHED:
      if (w[1] == 0 || w[1] > WEFT_PID_MAX) return bad(why, whylen, "SCHED record for tid %" PRIu64, w[1]);
      break;
    case WEFT_EV_FORK:
      if ((aux & 0xff) > WEFT_FORK_SPAWN) return bad(why, whylen, "FORK record of unknown kind %u", aux & 0xff);
      if (w[1] != UINT64_MAX && (w[1] == 0 || w[1] > WEFT_PID_MAX))
        return bad(why, whylen, "FORK record with child pid %" PRIu64, w[1]);
      break;
    case WEFT_EV_EXIT:
      if ((int64_t)w[1] < INT32_MIN || (int64_t)w[1] > INT32_MAX)
        return bad(why, whylen, "EXIT record with status %" PRId64 " (not an int)", (int64_t)w[1]);
      break;
    case WEFT_EV_STACK: {
      const uint64_t depth = w[1] >> 32;
      if (depth > WEFT_STACK_MAX_DEPTH)
        return bad(why, whylen, "STACK record of depth %" PRIu64 " (at most %u)", depth, WEFT_STACK_MAX_DEPTH);
      if (depth != nwords - 2u)
        return bad(why, whylen, "STACK record of depth %" PRIu64 " in %u words (needs %" PRIu64 ")", depth, nwords,
                   depth + 2);
      break;
    }
    case WEFT_EV_PY_FRAME:
      if ((uint32_t)w[1] == 0) return bad(why, whylen, "PY_FRAME record with id 0");
      break;
    case WEFT_EV_MPI_MSG:
      if ((aux & 0xfe) || !weft_mpi_call_name(WEFT_MPI_MSG_CALL(aux)))
        return bad(why, whylen, "MPI_MSG record with aux 0x%x (a direction and a known call)", aux);
      break;
    case WEFT_EV_MPI_COLL:
      if (!weft_mpi_call_is_collective(aux)) return bad(why, whylen, "MPI_COLL record of call %u (no collective)", aux);
      break;
    case WEFT_EV_MPI_RANK:
      if (aux > WEFT_MPI_RANK_INIT || w[1] >= w[2] || w[2] > UINT32_MAX)
        return bad(why, whylen, "MPI_RANK record of rank %" PRIu64 " in a world of %" PRIu64, w[1], w[2]);
      break;
    case WEFT_EV_MODULE:
      if ((w[4] & 0xff) > 20)
        return bad(why, whylen, "MODULE record with a build-id of %u bytes (at most 20)", (unsigned)(w[4] & 0xff));
      if (w[2] > w[3]) return bad(why, whylen, "MODULE record whose text ends before it starts");
      break;
    default: break;
  }
  return 0;
}

/* The smallest legal length of each record type, 0 for unknown types (every
 * known one has at least 1): one load, where the reader checks every record. */
static const unsigned char min_words[256] = {
#define WEFT_EVENT(name, id, minw, doc) [id] = minw,
#include "weft-events.def"
};

/* The names are looked up for the messages only: the checks run on every
 * record of every walk. */
int weft_record_check(unsigned type, unsigned aux, unsigned nwords, const uint64_t *w, char *why, size_t whylen) {
  const unsigned minw = type < 256 ? min_words[type] : 0;
  if (!minw) return bad(why, whylen, "unknown record type %u", type);
  if (nwords < minw)
    return bad(why, whylen, "%s record of %u words, needs at least %u", weft_event_name(type), nwords, minw);
  if (is_sync(type) && check_sync(type, aux, why, whylen) < 0) return -1;
  if (aux > aux_max(type))
    return bad(why, whylen, "%s record with aux %u (at most %u)", weft_event_name(type), aux, aux_max(type));
  /* Writers zero-pad strings to the end of the record: its last byte is a
   * NUL (the terminator or padding) unless the record is damaged. */
  if (string_from(type) && (w[nwords - 1] >> 56) != 0)
    return bad(why, whylen, "%s record whose string is not NUL-terminated inside the record", weft_event_name(type));
  return check_fields(type, aux, nwords, w, why, whylen);
}

static int is_pow2_or_0(uint64_t v) { return (v & (v - 1)) == 0; }

int weft_header_check(const WeftFileHeader *h, char *why, size_t whylen) {
  if (h->pid == 0 || h->pid > WEFT_PID_MAX) return bad(why, whylen, "bad pid %" PRIu32, h->pid);
  if (h->ppid > WEFT_PID_MAX) return bad(why, whylen, "bad parent pid %" PRIu32, h->ppid);
  if (h->ncpus > WEFT_NCPUS_MAX) return bad(why, whylen, "implausible CPU count %" PRIu32, h->ncpus);
  /* bit 9 came with version 7, bit 10 with version 8: in an older file each is as unknown as it was then */
  const uint64_t known = WEFT_FEAT_KNOWN & ~(h->version < 7 ? WEFT_FEAT_SHARED_FILE : 0) &
                         ~(h->version < 8 ? WEFT_FEAT_FUTEX : 0);
  if (h->features & ~known)
    return bad(why, whylen, "unknown feature bits 0x%" PRIx64, (uint64_t)(h->features & ~known));
  if (h->clock == WEFT_CLOCK_MONOTONIC && h->tsc_hz != 0 && h->tsc_hz != 1000000000ull)
    return bad(why, whylen, "tick rate %" PRIu64 " Hz for the monotonic clock (its ticks are ns)", h->tsc_hz);
  if (h->tsc_hz != 0 && (h->tsc_hz < WEFT_TSC_HZ_MIN || h->tsc_hz > WEFT_TSC_HZ_MAX))
    return bad(why, whylen, "implausible tick rate %" PRIu64 " Hz", h->tsc_hz);
  if (h->lost > WEFT_LOST_MAX) return bad(why, whylen, "implausible lost record count %" PRIu64, h->lost);
  if (h->start_ns > UINT64_MAX / 2) return bad(why, whylen, "implausible start time %" PRIu64 " ns", h->start_ns);
  if (h->version >= 3 && (h->hold_sample > (1u << 30) || !is_pow2_or_0(h->hold_sample)))
    return bad(why, whylen, "hold_sample %" PRIu32 " (0 or a power of two up to 2^30)", h->hold_sample);
  if (h->version >= 3 && h->flush_ms > 3600000u)
    return bad(why, whylen, "flush_ms %" PRIu32 " (more than an hour)", h->flush_ms);
  return 0;
}
