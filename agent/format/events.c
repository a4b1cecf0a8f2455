/* events.c - names and minimum lengths of the weft record types, kinds and ops.
 * SPDX-License-Identifier: MIT
 *
 * Generated from weft-events.def (X-macro) and the enums of weft-trace.h, so a
 * new record type needs no change here. Every function is pure, thread-safe
 * and async-signal-safe.
 */
#include "weft-trace.h"

/* Every id must fit the type byte (0 is reserved: word 0 == 0 ends a chunk)
 * and every minimum the length byte. */
#define WEFT_EVENT(name, id, minw, doc) \
  _Static_assert((id) > 0 && (id) <= 255, #name ": id out of range"); \
  _Static_assert((minw) >= 1 && (minw) <= WEFT_RECORD_MAX_WORDS, #name ": bad min words");
#include "weft-events.def"

/* The record type's name ("ACQ"), or NULL if type is not a known record id. */
const char *weft_event_name(unsigned type) {
  switch (type) {
#define WEFT_EVENT(name, id, minw, doc) case id: return #name;
#include "weft-events.def"
  default: return NULL;
  }
}

/* The smallest legal length in words (word 0 included) of a record of this
 * type, or 0 if type is not a known record id. */
unsigned weft_event_min_words(unsigned type) {
  switch (type) {
#define WEFT_EVENT(name, id, minw, doc) case id: return minw;
#include "weft-events.def"
  default: return 0;
  }
}

static const char *const kind_names[] = {
  [WEFT_KIND_NONE]      = "none",
  [WEFT_KIND_MUTEX]     = "mutex",
  [WEFT_KIND_RWLOCK_RD] = "rwlock_rd",
  [WEFT_KIND_RWLOCK_WR] = "rwlock_wr",
  [WEFT_KIND_RWLOCK]    = "rwlock",
  [WEFT_KIND_SPIN]      = "spin",
  [WEFT_KIND_COND]      = "cond",
  [WEFT_KIND_BARRIER]   = "barrier",
  [WEFT_KIND_SEM]       = "sem",
  [WEFT_KIND_JOIN]      = "join",
  [WEFT_KIND_CHILD]     = "child",
  [WEFT_KIND_POLL]      = "poll",
  [WEFT_KIND_READ]      = "read",
  [WEFT_KIND_SLEEP]     = "sleep",
};
_Static_assert(sizeof kind_names / sizeof kind_names[0] == WEFT_KIND_COUNT,
               "every WeftKind needs a name");

static const char *const op_names[] = {
  [WEFT_OP_LOCK]      = "lock",
  [WEFT_OP_TRY]       = "try",
  [WEFT_OP_TIMED]     = "timed",
  [WEFT_OP_CLOCK]     = "clock",
  [WEFT_OP_SIGNAL]    = "signal",
  [WEFT_OP_BROADCAST] = "broadcast",
  [WEFT_OP_SERIAL]    = "serial",
  [WEFT_OP_HELD]      = "held",
};

/* The name of a WeftKind ("mutex"), or NULL if kind is not known. */
const char *weft_kind_name(unsigned kind) {
  return kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : NULL;
}

/* The name of a WeftOp ("timed"), or NULL if op is not known. */
const char *weft_op_name(unsigned op) {
  return op < sizeof op_names / sizeof op_names[0] ? op_names[op] : NULL;
}
