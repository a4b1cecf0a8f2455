/* weft-perfetto.c - Perfetto's native trace format, streamed (weft-perfetto.h).
 * SPDX-License-Identifier: MIT
 *
 * Protobuf wire format: a field is a tag, varint(field << 3 | wire type), then
 * a varint (type 0), 8 little-endian bytes (type 1), or a varint length and
 * that many bytes (type 2: strings, bytes, nested messages).
 */
#include "weft-perfetto.h"

#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Field numbers, from github.com/google/perfetto protos/perfetto/trace/. */
enum {
  TRACE_PACKET = 1,           /* trace.proto: Trace.packet */
  PKT_TIMESTAMP = 8,          /* trace_packet.proto: TracePacket.timestamp */
  PKT_SEQUENCE_ID = 10,       /* .trusted_packet_sequence_id */
  PKT_TRACK_EVENT = 11,       /* .track_event */
  PKT_INTERNED_DATA = 12,     /* .interned_data */
  PKT_SEQUENCE_FLAGS = 13,    /* .sequence_flags */
  PKT_TRACK_DESCRIPTOR = 60,  /* .track_descriptor */
  PKT_FIRST_ON_SEQUENCE = 87, /* .first_packet_on_sequence */
  SEQ_INCREMENTAL_STATE_CLEARED = 1,
  SEQ_NEEDS_INCREMENTAL_STATE = 2,
  TD_UUID = 1, /* track_event/track_descriptor.proto: TrackDescriptor */
  TD_NAME = 2,
  TD_PROCESS = 3,
  TD_THREAD = 4,
  TD_PARENT_UUID = 5,
  PD_PID = 1, /* track_event/process_descriptor.proto: ProcessDescriptor */
  PD_PROCESS_NAME = 6,
  THD_PID = 1, /* track_event/thread_descriptor.proto: ThreadDescriptor */
  THD_TID = 2,
  THD_THREAD_NAME = 5,
  TE_CATEGORY_IIDS = 3, /* track_event/track_event.proto: TrackEvent */
  TE_DEBUG_ANNOTATIONS = 4,
  TE_TYPE = 9,
  TE_NAME_IID = 10,
  TE_TRACK_UUID = 11,
  TE_FLOW_IDS = 47,             /* fixed64 */
  TE_TERMINATING_FLOW_IDS = 48, /* fixed64 */
  DA_NAME_IID = 1,              /* track_event/debug_annotation.proto: DebugAnnotation */
  DA_BOOL_VALUE = 2,
  DA_INT_VALUE = 4,
  DA_STRING_VALUE_IID = 17,
  /* interned_data/interned_data.proto: InternedData. EventCategory, EventName,
   * DebugAnnotationName and InternedString all are {iid = 1, name/str = 2}. */
  ID_EVENT_CATEGORIES = 1,
  ID_EVENT_NAMES = 2,
  ID_DEBUG_ANNOTATION_NAMES = 3,
  ID_DEBUG_ANNOTATION_STRING_VALUES = 29,
  INTERNED_IID = 1,
  INTERNED_NAME = 2,
};

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2 };

/* ------------------------------------------------------------ the encoder */

typedef struct {
  uint8_t *p;
  size_t n, cap;
  bool failed; /* out of memory: everything after is dropped */
} Buf;

static bool room(Buf *b, size_t k) {
  if (b->failed) return false;
  if (b->n + k <= b->cap) return true;
  size_t cap = b->cap ? b->cap : 4096;
  while (cap < b->n + k) cap *= 2;
  uint8_t *p = realloc(b->p, cap);
  if (!p) {
    b->failed = true;
    return false;
  }
  b->p = p;
  b->cap = cap;
  return true;
}

static size_t varint_size(uint64_t v) {
  size_t k = 1;
  while (v >= 0x80) {
    v >>= 7;
    k++;
  }
  return k;
}

static size_t varint_at(uint8_t *p, uint64_t v) {
  size_t k = 0;
  while (v >= 0x80) {
    p[k++] = (uint8_t)(v | 0x80);
    v >>= 7;
  }
  p[k++] = (uint8_t)v;
  return k;
}

static void put_varint(Buf *b, uint64_t v) {
  if (room(b, 10)) b->n += varint_at(b->p + b->n, v);
}

static void put_tag(Buf *b, uint32_t field, int wire) { put_varint(b, (uint64_t)field << 3 | (uint64_t)wire); }

/* int64 and enum fields are varints of the two's complement. */
static void f_varint(Buf *b, uint32_t field, uint64_t v) {
  put_tag(b, field, WIRE_VARINT);
  put_varint(b, v);
}

static void f_fixed64(Buf *b, uint32_t field, uint64_t v) {
  put_tag(b, field, WIRE_FIXED64);
  if (!room(b, 8)) return;
  for (int i = 0; i < 8; i++) b->p[b->n++] = (uint8_t)(v >> (8 * i));
}

static void f_bytes(Buf *b, uint32_t field, const void *s, size_t n) {
  put_tag(b, field, WIRE_LEN);
  put_varint(b, n);
  if (n && room(b, n)) {
    memcpy(b->p + b->n, s, n);
    b->n += n;
  }
}

/* A string field: not UTF-8 is made so (U+FFFD for the bad bytes). */
static void f_string(Buf *b, uint32_t field, const char *s) {
  if (!s) s = "";
  if (g_utf8_validate(s, -1, NULL)) {
    f_bytes(b, field, s, strlen(s));
    return;
  }
  char *v = g_utf8_make_valid(s, -1);
  f_bytes(b, field, v, strlen(v));
  g_free(v);
}

/* A nested message: its tag and one byte for its length, which msg_end
 * fills in, moving the content when the length takes more bytes. */
static size_t msg_begin(Buf *b, uint32_t field) {
  put_tag(b, field, WIRE_LEN);
  if (!room(b, 1)) return 0;
  b->p[b->n] = 0;
  return b->n++;
}

static void msg_end(Buf *b, size_t at) {
  if (b->failed) return;
  size_t len = b->n - at - 1, k = varint_size(len);
  if (k > 1) {
    if (!room(b, k - 1)) return;
    memmove(b->p + at + k, b->p + at + 1, len);
    b->n += k - 1;
  }
  varint_at(b->p + at, len);
}

/* ------------------------------------------------------------ the writer */

enum { K_CATEGORY, K_NAME, K_ARG_NAME, K_ARG_STRING, N_KINDS };
static const uint32_t intern_field[N_KINDS] = {ID_EVENT_CATEGORIES, ID_EVENT_NAMES, ID_DEBUG_ANNOTATION_NAMES,
                                               ID_DEBUG_ANNOTATION_STRING_VALUES};

struct WeftPerfetto {
  FILE *f;
  Buf pkt;    /* the TracePacket being encoded */
  Buf intern; /* the content of its InternedData: the strings it is first to use */
  GHashTable *iids[N_KINDS];
  uint64_t next_iid[N_KINDS];
  uint64_t packets;
};

WeftPerfetto *weft_perfetto_new(FILE *f) {
  WeftPerfetto *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  p->f = f;
  for (int k = 0; k < N_KINDS; k++) p->iids[k] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return p;
}

void weft_perfetto_free(WeftPerfetto *p) {
  if (!p) return;
  for (int k = 0; k < N_KINDS; k++) g_hash_table_destroy(p->iids[k]);
  free(p->pkt.p);
  free(p->intern.p);
  free(p);
}

uint64_t weft_perfetto_packets(const WeftPerfetto *p) { return p->packets; }

/* The iid of s, interned in this packet's InternedData if it is new. */
static uint64_t intern(WeftPerfetto *p, int kind, const char *s) {
  gpointer v;
  if (g_hash_table_lookup_extended(p->iids[kind], s, NULL, &v)) return GPOINTER_TO_SIZE(v);
  uint64_t iid = ++p->next_iid[kind];
  g_hash_table_insert(p->iids[kind], g_strdup(s), GSIZE_TO_POINTER((gsize)iid));
  size_t m = msg_begin(&p->intern, intern_field[kind]);
  f_varint(&p->intern, INTERNED_IID, iid);
  f_string(&p->intern, INTERNED_NAME, s);
  msg_end(&p->intern, m);
  return iid;
}

/* A packet on the one sequence; the first one clears the incremental state. */
static void packet_begin(WeftPerfetto *p, bool needs_state) {
  p->pkt.n = 0;
  p->intern.n = 0;
  f_varint(&p->pkt, PKT_SEQUENCE_ID, 1);
  if (p->packets == 0) {
    f_varint(&p->pkt, PKT_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED);
    f_varint(&p->pkt, PKT_FIRST_ON_SEQUENCE, 1);
  } else if (needs_state)
    f_varint(&p->pkt, PKT_SEQUENCE_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);
}

/* Adds the interned strings, then writes Trace.packet: tag, length, bytes. */
static int packet_end(WeftPerfetto *p) {
  if (p->intern.n) f_bytes(&p->pkt, PKT_INTERNED_DATA, p->intern.p, p->intern.n);
  if (p->pkt.failed || p->intern.failed) return -1;
  uint8_t head[11];
  size_t k = varint_at(head, (uint64_t)TRACE_PACKET << 3 | WIRE_LEN);
  k += varint_at(head + k, p->pkt.n);
  fwrite(head, 1, k, p->f);
  fwrite(p->pkt.p, 1, p->pkt.n, p->f);
  p->packets++;
  return 0;
}

static int descriptor(WeftPerfetto *p, uint64_t uuid, uint64_t parent, const char *name, int64_t pid, int64_t tid,
                      int kind) {
  packet_begin(p, false);
  size_t td = msg_begin(&p->pkt, PKT_TRACK_DESCRIPTOR);
  f_varint(&p->pkt, TD_UUID, uuid);
  if (parent) f_varint(&p->pkt, TD_PARENT_UUID, parent);
  if (kind == TD_PROCESS) {
    size_t m = msg_begin(&p->pkt, TD_PROCESS);
    f_varint(&p->pkt, PD_PID, (uint64_t)pid);
    f_string(&p->pkt, PD_PROCESS_NAME, name);
    msg_end(&p->pkt, m);
  } else if (kind == TD_THREAD) {
    size_t m = msg_begin(&p->pkt, TD_THREAD);
    f_varint(&p->pkt, THD_PID, (uint64_t)pid);
    f_varint(&p->pkt, THD_TID, (uint64_t)tid);
    f_string(&p->pkt, THD_THREAD_NAME, name);
    msg_end(&p->pkt, m);
  } else
    f_string(&p->pkt, TD_NAME, name);
  msg_end(&p->pkt, td);
  return packet_end(p);
}

int weft_perfetto_process(WeftPerfetto *p, uint64_t uuid, int64_t pid, const char *name) {
  return descriptor(p, uuid, 0, name, pid, 0, TD_PROCESS);
}

int weft_perfetto_thread(WeftPerfetto *p, uint64_t uuid, int64_t pid, int64_t tid, const char *name) {
  return descriptor(p, uuid, 0, name, pid, tid, TD_THREAD);
}

int weft_perfetto_track(WeftPerfetto *p, uint64_t uuid, uint64_t parent, const char *name) {
  return descriptor(p, uuid, parent, name, 0, 0, TD_NAME);
}

int weft_perfetto_event(WeftPerfetto *p, const WeftPfEvent *e) {
  packet_begin(p, true);
  f_varint(&p->pkt, PKT_TIMESTAMP, (uint64_t)e->ts);
  size_t te = msg_begin(&p->pkt, PKT_TRACK_EVENT);
  f_varint(&p->pkt, TE_TYPE, (uint64_t)e->type);
  f_varint(&p->pkt, TE_TRACK_UUID, e->track);
  if (e->cat) f_varint(&p->pkt, TE_CATEGORY_IIDS, intern(p, K_CATEGORY, e->cat));
  if (e->name) f_varint(&p->pkt, TE_NAME_IID, intern(p, K_NAME, e->name));
  for (size_t i = 0; i < e->nargs; i++) {
    const WeftPfArg *a = &e->args[i];
    size_t m = msg_begin(&p->pkt, TE_DEBUG_ANNOTATIONS);
    f_varint(&p->pkt, DA_NAME_IID, intern(p, K_ARG_NAME, a->name));
    if (a->str)
      f_varint(&p->pkt, DA_STRING_VALUE_IID, intern(p, K_ARG_STRING, a->str));
    else
      f_varint(&p->pkt, a->is_bool ? DA_BOOL_VALUE : DA_INT_VALUE, (uint64_t)a->i);
    msg_end(&p->pkt, m);
  }
  if (e->flow != WEFT_PF_FLOW_NONE)
    f_fixed64(&p->pkt, e->flow == WEFT_PF_FLOW_END ? TE_TERMINATING_FLOW_IDS : TE_FLOW_IDS, e->flow_id);
  msg_end(&p->pkt, te);
  return packet_end(p);
}
