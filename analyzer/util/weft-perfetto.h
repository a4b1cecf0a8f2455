/* weft-perfetto.h - the one protobuf encoder of weft: Perfetto's native trace
 * format (weft export --format perfetto), written as a stream.
 * SPDX-License-Identifier: MIT
 *
 * The output is a `Trace` message (protos/perfetto/trace/trace.proto): field 1,
 * `TracePacket`, repeated, each length-delimited. Every packet is encoded
 * into one reusable buffer (a nested message needs its length before its
 * bytes), then written, so memory holds one packet plus the interning tables,
 * whatever the number of events.
 *
 * One packet sequence (trusted_packet_sequence_id 1): its first packet clears
 * the incremental state (SEQ_INCREMENTAL_STATE_CLEARED), every TrackEvent
 * packet after it says it needs it (SEQ_NEEDS_INCREMENTAL_STATE). Event names,
 * categories, debug annotation names and string values are interned
 * (InternedData, in the packet that first uses a string): each distinct
 * string is written once, and the events carry its iid.
 *
 * Timestamps are TracePacket.timestamp in ns without timestamp_clock_id, i.e.
 * the default trace clock (BOOTTIME); the caller chooses the origin.
 * Strings that are not UTF-8 get U+FFFD in place of their bad bytes, as in
 * every JSON weft writes. Field numbers follow the .proto files of
 * github.com/google/perfetto exactly (quoted next to each constant in
 * weft-perfetto.c).
 */
#ifndef WEFT_PERFETTO_H
#define WEFT_PERFETTO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct WeftPerfetto WeftPerfetto;

/* TrackEvent.Type */
enum { WEFT_PF_SLICE_BEGIN = 1, WEFT_PF_SLICE_END = 2, WEFT_PF_INSTANT = 3 };

/* One debug annotation: a string (str != NULL), else an integer, or a bool. */
typedef struct {
  const char *name;
  const char *str;
  int64_t i;
  int is_bool;
} WeftPfArg;

/* One event. name and cat are NULL on a slice end. */
typedef struct {
  int64_t ts;
  int type;
  uint64_t track;
  const char *cat, *name;
  const WeftPfArg *args;
  size_t nargs;
  int flow; /* WEFT_PF_FLOW_*: what flow_id is */
  uint64_t flow_id;
} WeftPfEvent;

/* An event's flow: none, TrackEvent.flow_ids (the flow starts or goes on
 * here), terminating_flow_ids (it ends here). */
enum { WEFT_PF_FLOW_NONE, WEFT_PF_FLOW_OUT, WEFT_PF_FLOW_END };

/* A writer onto f (which stays the caller's). NULL out of memory. */
WeftPerfetto *weft_perfetto_new(FILE *f);
void weft_perfetto_free(WeftPerfetto *p);

/* TrackDescriptors: a process, a thread of process pid, and a named track
 * (parent 0: none) for slices that are not a thread's. 0, or -1 out of memory
 * (then every later call fails too). */
int weft_perfetto_process(WeftPerfetto *p, uint64_t uuid, int64_t pid, const char *name);
int weft_perfetto_thread(WeftPerfetto *p, uint64_t uuid, int64_t pid, int64_t tid, const char *name);
int weft_perfetto_track(WeftPerfetto *p, uint64_t uuid, uint64_t parent, const char *name);

/* A TrackEvent packet. 0, or -1 out of memory. */
int weft_perfetto_event(WeftPerfetto *p, const WeftPfEvent *e);

/* Packets written so far. */
uint64_t weft_perfetto_packets(const WeftPerfetto *p);

#endif /* WEFT_PERFETTO_H */
