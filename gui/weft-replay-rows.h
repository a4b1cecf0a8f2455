/* weft-replay-rows.h - a what-if's replayed timeline, as rows beside the recorded ones.
 * SPDX-License-Identifier: MIT
 *
 * The threads' timelines of a replay (WeftReplayTimeline, replay.c) copied
 * out of the metrics on the what-if bar's worker: the replay with the change
 * and the replay of the recording unchanged (the model's own error, to
 * compare like with like). Immutable once made; reference-counted, so that
 * the bar and the timeline can both hold it.
 */
#ifndef WEFT_REPLAY_ROWS_H
#define WEFT_REPLAY_ROWS_H

#include <glib.h>
#include <stdint.h>

#include "metrics.h"
#include "weft-session.h"

G_BEGIN_DECLS

typedef struct {
  int64_t utid;
  WeftReplayInterval *v; /* by time, contiguous */
  guint n;
  int64_t start_ns, end_ns; /* its first interval's start, its last one's end */
} WeftReplayRow;

typedef struct {
  char *title; /* "replayed: lock:hot", "replayed as recorded" */
  WeftReplayRow *rows;
  guint n;
  int64_t start_ns, end_ns; /* the first row's start (the replay's time 0), the last row's end */
} WeftReplayRowSet;

typedef struct {
  char *spec;
  WeftReplayRowSet sets[2]; /* [0] with the change, [1] the recording unchanged */
  int64_t recorded_end_ns;  /* the end of the recording's range replayed */
} WeftReplayRows;

/* A copy of rp's timelines (its first result's, with spec); NULL without them. */
WeftReplayRows *weft_replay_rows_new(const WeftReplay *rp, const char *spec);
WeftReplayRows *weft_replay_rows_ref(WeftReplayRows *r);
void weft_replay_rows_unref(WeftReplayRows *r);
/* Row r folded into npx pixel columns from t0, npp ns each (as weft_session_fold: the state with the most
 * time, a wait's mark under a running column, the running time's split on a CPU / runnable / off a CPU). */
void weft_replay_row_fold(const WeftReplayRow *r, double t0, double npp, int npx, WeftPixel *out);
/* [{"title", "start_ns", "end_ns", "rows": [{"thread", "tid", "intervals", "start_ns", "end_ns"}]}, ...] */
void weft_replay_rows_write_json(const WeftReplayRows *r, WeftSession *session, GString *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(WeftReplayRows, weft_replay_rows_unref)

G_END_DECLS

#endif /* WEFT_REPLAY_ROWS_H */
