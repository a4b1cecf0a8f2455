/* weft-whatif.h - what-if by replay from the timeline's tables.
 * SPDX-License-Identifier: MIT
 *
 * A bar under the Sync objects and Threads tables: for the chosen object
 * ("No one waits on it", "Critical sections -50 %") or thread ("Its work
 * -50 %"), the recording replayed with that change (weft_metrics_compute
 * with a what-if, as `weft report --what-if`) on a worker, and the
 * prediction with the replay's error bar.
 */
#ifndef WEFT_WHATIF_H
#define WEFT_WHATIF_H

#include <gtk/gtk.h>
#include <stdint.h>

#include "weft-replay-rows.h"
#include "weft-session.h"

G_BEGIN_DECLS

#define WEFT_TYPE_WHATIF_BAR (weft_whatif_bar_get_type())
G_DECLARE_FINAL_TYPE(WeftWhatIfBar, weft_whatif_bar, WEFT, WHATIF_BAR, GtkBox)

WeftWhatIfBar *weft_whatif_bar_new(void);
/* The recording the changes are replayed on (NULL: none; the bar hides). */
void weft_whatif_bar_set_session(WeftWhatIfBar *self, WeftSession *session);
/* The changes offered: of a sync object (its lock changes), or of a thread (tid). */
/* kind: the object's kind name (barrier: its rounds balanced; a lock: its waits gone, its holds
 * halved; NULL: as a lock) */
void weft_whatif_bar_set_object(WeftWhatIfBar *self, int64_t object_id, const char *label, const char *kind);
void weft_whatif_bar_set_thread(WeftWhatIfBar *self, int tid, const char *label);
/* Replay with spec (as weft report --what-if takes it), on a worker. */
void weft_whatif_bar_run(WeftWhatIfBar *self, const char *spec);
gboolean weft_whatif_bar_is_busy(WeftWhatIfBar *self);
/* The last replay's timelines (the bar's: ref them to keep them), or NULL; "replayed" says when they change. */
WeftReplayRows *weft_whatif_bar_get_rows(WeftWhatIfBar *self);
/* The bar's toggle of the replayed rows (for binding to the timeline's show-replay). */
GtkToggleButton *weft_whatif_bar_get_rows_toggle(WeftWhatIfBar *self);
/* {"spec", "description", "recorded_ns", "predicted_ns", "error", "message", "shown", "rows"} of the
 * last replay, or null (rows: weft_replay_rows_write_json). */
void weft_whatif_bar_write_json(WeftWhatIfBar *self, GString *out);

G_END_DECLS

#endif /* WEFT_WHATIF_H */
