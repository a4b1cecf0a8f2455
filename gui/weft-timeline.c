/* weft-timeline.c - the timeline widget.
 * SPDX-License-Identifier: MIT
 *
 * One custom widget draws, top to bottom: a time ruler, a track with the
 * number of threads running over time, the rows (a header per process, one
 * row per thread, then one lane per contended lock of the process, grouped
 * under a header per host when the recording has two hosts or more, scrolled
 * vertically by the widget itself so that the ruler, the track and the legend
 * stay in view) and a legend of the states.
 *
 * Level of detail: each thread row is folded into pixel columns by
 * weft_session_fold() (from state_summary when a pixel is at least a summary
 * bucket wide, else from thread_state over the visible window only). A column
 * gets the colour of the state with the most time in it; a running column
 * that also holds a wait shows that wait as a mark on the lower part of the
 * bar, so a column is never blank if something happened in it. A running
 * column stacks its parts (weft-cpu.h): on a CPU, runnable, off a CPU, in
 * their shares, hatched where the split is known only as the total of an
 * interval between scheduler readings wider than the pixel. The bars and
 * lanes in view are drawn as one image of the rows' area (one texture per
 * frame, not a rectangle per run of columns).
 *
 * The running track sums, per pixel column, the on-CPU and runnable
 * fractions of every thread's folded pixels (the same fold as the rows):
 * the average number of threads on a CPU (at most the CPU count) and,
 * stacked above, runnable, scaled to 0..max (max: the peak of the window or
 * the CPU count, rounded up), the CPU count a dashed line. A lock lane folds the
 * lock's holds (hold_block, the visible window only) the same way: a column
 * gets the hue of the thread that held the lock longest in it (the hue shown
 * as a swatch next to that thread's label); a dark mark on top when several
 * threads held it in the column.
 *
 * With a what-if replayed (weft-replay-rows.h) and shown (Shift+R), two
 * groups of rows follow the recorded ones: the replay with the change and
 * the replay of the recording unchanged, a row per thread drawn as the
 * recorded rows are (folded from the replay's intervals in memory), on the
 * same time axis, so that a shorter run ends earlier.
 */
#include "config.h"

#include "weft-timeline.h"

#include <math.h>
#include <string.h>

#include "metrics.h"
#include "weft-json.h"
#include "weft-critpath.h"
#include "weft-flows.h"
#include "weft-fold.h"
#include "weft-highlight.h"
#include "weft-hover.h"
#include "weft-palette.h"
#include "weft-replay-rows.h"
#include "weft-units.h"

#define LABEL_W_MIN   200 /* the label column: at least, */
#define LABEL_W_MAX   360 /* at most (longer thread names are cut) */
#define LABEL_W       (self->label_w)
#define RIGHT_M       16
#define OVERVIEW_H    26 /* the whole recording, with the visible window */
#define OVERVIEW_PAD  4
#define RULER_TOP     OVERVIEW_H
#define RULER_H       26
#define TRACK_H       44 /* the running-threads track under the ruler */
#define TRACK_PAD_T   6  /* its plot area inside it */
#define TRACK_PAD_B   4
#define TRACK_TOP     (OVERVIEW_H + RULER_H)
#define ROWS_TOP      (TRACK_TOP + TRACK_H)
#define SWATCH        8 /* a thread's hue, left of its label */
#define MERGED_H      2 /* several holders in a lock lane column */
#define LEGEND_H      28
#define ROW_H         22 /* a thread row */
#define PROC_H        22 /* a process header */
#define HOST_H        24 /* a host header (two hosts or more) */
#define BAR_INSET     3  /* bar inside a thread row, top and bottom */
#define MARK_H        5  /* a wait folded into a running column */
#define ZOOM_STEP     1.25
#define MIN_WINDOW_NS 50.0
#define HL_H          3 /* the strip over a highlighted wait or hold */
#define CLICK_SLOP    3 /* a drag shorter than this (px) is a click */

/* ENTRY_REPLAY_HEAD: a replayed group's header (index: its set); ENTRY_REPLAY: a replayed thread's row
 * (index: the set, t_first: the row in it) */
typedef enum { ENTRY_PROCESS, ENTRY_THREAD, ENTRY_LOCK, ENTRY_HOST, ENTRY_REPLAY_HEAD, ENTRY_REPLAY } EntryKind;

/* An earlier window's fold of one item. */
typedef struct {
  gpointer px;
  double t0, npp;
  int npx;
} Prev;

typedef struct _FoldWorker FoldWorker;

typedef struct {
  EntryKind kind;
  guint index; /* process, thread, lock or host index in the session */
  int y;       /* top, in content coordinates (0 = first row) */
  int h;
  /* a collapsed process or host: the threads folded into its row, of n_procs processes (weft-fold.h) */
  guint t_first, t_count, n_procs;
} Entry;

struct _WeftTimeline {
  GtkWidget parent_instance;
  WeftSession *session;
  const WeftPalette *pal; /* the theme's colours (weft-palette.h) */
  GArray *entries;        /* Entry */
  int content_h;
  double scroll_y;

  double t0, t1; /* visible window, ns */

  /* folded pixels per thread, per lock and per highlight strip for
   * (cache_t0, cache_t1, cache_npx): rows[i] NULL until folded; prev[i] the
   * last folds of earlier windows, drawn (stretched to the window) until the
   * new ones arrive */
  guint n_items;  /* threads, then locks, then a highlight strip per thread (ItemKind) */
  gpointer *rows; /* WeftPixel[npx], WeftHoldPixel[npx] or guint8[npx] (WEFT_HL_*) per item */
  gboolean *requested;
  Prev *prev;
  double cache_t0, cache_t1;
  int cache_npx;
  guint gen;                    /* of the cache's window; results of other generations are dropped */
  guint pending;                /* items requested for gen and not back yet */
  FoldWorker *worker;           /* NULL: fold on the GTK thread */
  gboolean async;               /* fold on a worker (default) */
  cairo_surface_t *canvas;      /* the bars of the rows in view (Canvas) */
  cairo_surface_t *track_image; /* the running track's plot */
  GHashTable *layouts;          /* "bold|width|text" -> PangoLayout (label_layout) */
  GHashTable *fitted;           /* "fit|bold|width|text" -> the text cut to fit (fit_label) */

  double pointer_x, pointer_y;
  gboolean pointer_inside;
  double drag_t0, drag_t1, drag_scroll_y;
  double drag_x, drag_y;
  int drag_mode; /* DragMode */

  guint8 *fold;      /* per process: WeftFold */
  guint8 *host_fold; /* per host: WEFT_FOLD_OPEN or WEFT_FOLD_TREE (its processes in its header) */
  int label_w;       /* the label column's width: the longest thread label, within LABEL_W_MIN..MAX */
  double scroll_to;  /* at the first frame with a height: scroll to this y (the program), or < 0 */

  /* the selected time range */
  gboolean has_sel;
  double sel_t0, sel_t1;

  /* the clicked span: read on a worker (weft-hover.h), outlined once it is there */
  gboolean has_span;
  WeftSpan span;
  WeftHoverSpan *clicked;     /* the last click's read (its object and stack too), or NULL */
  GCancellable *click_cancel; /* of a click's read in progress, or NULL */
  int64_t click_t;            /* the time it reads */

  /* the highlighted thread (a finding's): its row tinted, its label bold */
  int64_t hl_utid;

  /* a finding's time marked (WeftMark) inside [mark_t0, mark_t1) */
  int mark;
  double mark_t0, mark_t1;

  /* the highlighted object: its waits and holds, read on a worker (hl NULL
   * until they arrive), folded into strips by the fold worker */
  int64_t hl_object;
  char *hl_label; /* or the waits of frames (a function, a file): what they are */
  WeftHighlight *hl;
  GCancellable *hl_cancel; /* of the read in progress */
  gboolean hl_loading;
  guint hl_gen; /* of hl: strips folded from another are dropped */

  /* flow arrows: every flow read once on a worker (flows NULL until then),
   * bundled for the window by the fold worker (its item, ITEM_FLOWS) */
  gboolean show_flows;
  WeftFlows *flows;
  GCancellable *flows_cancel;
  gboolean flows_loading;
  guint flow_kinds; /* bit k: WeftFlowKind k shown */
  WeftFlowScope flow_scope;
  guint flow_gen;            /* of the filter and rows: arrows of another are dropped */
  char *flow_caption;        /* what the drawn set shows (weft_flow_set_caption), or NULL */
  WeftFlowImage *flow_image; /* the arrows drawn (kept while they do not change) */

  /* the critical path (weft-critpath.h), given by the window once computed, and its bands in the last frame */
  gboolean show_critpath;
  WeftCritPath *critpath;
  GArray *crit_bands; /* WeftCritBand */
  guint crit_in_window;

  /* a what-if's replayed rows (weft-replay-rows.h), shown under the recorded ones */
  WeftReplayRows *replay;
  gboolean show_replay;

  /* a thread row's tooltip: the span under the pointer, read on a worker
   * (weft-hover.h), asked again once it is there */
  WeftHoverSpan *tip;       /* the last read, or NULL */
  GCancellable *tip_cancel; /* of the read in progress, or NULL */
  guint tip_thread;         /* what it reads */
  int64_t tip_t;
  gboolean tip_wait_fold; /* a tooltip waits for a row's or a lane's fold */

  /* the overview: running sum over the whole recording, per pixel */
  double *overview;
  int overview_npx;
  GCancellable *overview_cancel; /* the overview of a width being folded on a worker (NULL: none) */
  int overview_want;             /* its width */
};

typedef enum { DRAG_NONE, DRAG_SELECT, DRAG_PAN, DRAG_OVERVIEW } DragMode;

enum {
  SIG_SELECTION_CHANGED,
  SIG_SPAN_SELECTED,
  SIG_SPAN_PENDING,
  SIG_LOCK_SELECTED,
  SIG_HIGHLIGHT_READY,
  SIG_HIGHLIGHT_CLEARED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

enum {
  PROP_0,
  PROP_START_NS,
  PROP_END_NS,
  PROP_SHOW_FLOWS,
  PROP_FLOW_KINDS,
  PROP_FLOW_SCOPE,
  PROP_SHOW_CRITPATH,
  PROP_SHOW_REPLAY,
  N_PROPS
};
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE(WeftTimeline, weft_timeline, GTK_TYPE_WIDGET)

/* A distinct hue per thread (golden-ratio steps around the wheel), medium
 * saturation and value so that it reads on the light background and differs
 * from the state colours. */
static GdkRGBA thread_color(guint i) {
  double h = fmod(0.11 + i * 0.618033988749895, 1.0) * 6, s = 0.55, v = 0.80;
  int k = (int)h;
  double f = h - k, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r, g, b;
  switch (k % 6) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
  }
  /* whole 8-bit values, so that the screenshot shows exactly this colour */
  return (GdkRGBA){(float)(round(r * 255) / 255), (float)(round(g * 255) / 255), (float)(round(b * 255) / 255), 1};
}

static int timeline_x0(WeftTimeline *self) { return LABEL_W; }
static int timeline_npx(WeftTimeline *self) {
  return MAX(1, gtk_widget_get_width(GTK_WIDGET(self)) - LABEL_W - RIGHT_M);
}
void weft_timeline_get_plot(WeftTimeline *self, int *x0, int *npx) {
  *x0 = timeline_x0(self);
  *npx = timeline_npx(self);
}
static double ns_per_px(WeftTimeline *self) { return (self->t1 - self->t0) / timeline_npx(self); }
static int rows_h(WeftTimeline *self) { return MAX(0, gtk_widget_get_height(GTK_WIDGET(self)) - ROWS_TOP - LEGEND_H); }

/* The window or the width changed: the folds are requested again at the
 * next frame (ensure_cache). */
static void invalidate(WeftTimeline *self) { gtk_widget_queue_draw(GTK_WIDGET(self)); }

static void clamp_scroll(WeftTimeline *self) {
  double max = MAX(0, self->content_h - rows_h(self));
  self->scroll_y = CLAMP(self->scroll_y, 0, max);
}

/* The replayed groups shown, or NULL. */
static const WeftReplayRows *shown_replay(WeftTimeline *self) { return self->show_replay ? self->replay : NULL; }

static double end_ns(WeftTimeline *self) {
  const WeftReplayRows *r = shown_replay(self);
  double replay = r ? (double)MAX(r->sets[0].end_ns, r->sets[1].end_ns) : 0; /* (a slower change ends later) */
  return self->session ? MAX(replay, MAX(1.0, (double)weft_session_get_end_ns(self->session))) : 1e6;
}

/* Set the window to [t0, t1) as asked (at least MIN_WINDOW_NS wide). */
static void set_window_exactly(WeftTimeline *self, double t0, double t1) {
  double w = MAX(t1 - t0, MIN_WINDOW_NS);
  if (t0 == self->t0 && t0 + w == self->t1) return;
  self->t0 = t0;
  self->t1 = t0 + w;
  invalidate(self);
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_START_NS]);
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_END_NS]);
}

/* Set the window as zooms and pans do: at least MIN_WINDOW_NS and at most
 * four recordings wide, overlapping the recording by half its width. */
static void set_window(WeftTimeline *self, double t0, double t1) {
  double w = CLAMP(t1 - t0, MIN_WINDOW_NS, end_ns(self) * 4);
  t0 = CLAMP(t0, -w / 2, end_ns(self) - w / 2);
  set_window_exactly(self, t0, t0 + w);
}

/* Zoom by factor (> 1 zooms in) keeping the time under x fixed. */
static void zoom_at(WeftTimeline *self, double factor, double x) {
  double npp = ns_per_px(self);
  double t = self->t0 + (x - timeline_x0(self)) * npp;
  double w = (self->t1 - self->t0) / factor;
  double frac = (t - self->t0) / (self->t1 - self->t0);
  set_window(self, t - frac * w, t - frac * w + w);
}

static double zoom_anchor(WeftTimeline *self) {
  int x0 = timeline_x0(self);
  if (self->pointer_inside && self->pointer_x >= x0 && self->pointer_x < x0 + timeline_npx(self))
    return self->pointer_x;
  return x0 + timeline_npx(self) / 2.0;
}

static void pan_by(WeftTimeline *self, double frac) {
  double d = (self->t1 - self->t0) * frac;
  set_window(self, self->t0 + d, self->t1 + d);
}

static void forget_flows(WeftTimeline *self);

static guint n_threads(WeftTimeline *self);

/* Host headers are shown when the recording has two hosts or more. */
static gboolean grouped(WeftTimeline *self) { return self->session && weft_session_get_n_hosts(self->session) >= 2; }

/* The rows of processes p0 .. p1 - 1 from y: each process's header, then
 * (open) its threads and lock lanes; a collapsed process's header
 * summarises its threads, and a folded tree's those of its subtree too,
 * whose processes get no row. Returns the y under them. */
static int add_process_entries(WeftTimeline *self, guint p0, guint p1, int y) {
  for (guint p = p0, next; p < p1; p = next) {
    const WeftSessionProcess *pr = weft_session_get_process(self->session, p);
    WeftFold f = self->fold ? self->fold[p] : WEFT_FOLD_OPEN;
    guint end = f == WEFT_FOLD_TREE ? weft_fold_subtree_end(self->session, p) : p + 1;
    guint t_end = weft_fold_first_thread(self->session, end);
    next = f == WEFT_FOLD_TREE ? end : p + 1;
    Entry e = {ENTRY_PROCESS, p, y, PROC_H, pr->first_thread, 0, end - p};
    if (f != WEFT_FOLD_OPEN) e.t_count = f == WEFT_FOLD_TREE ? t_end - pr->first_thread : pr->n_threads;
    g_array_append_val(self->entries, e);
    y += PROC_H;
    if (f != WEFT_FOLD_OPEN) continue;
    for (guint t = 0; t < pr->n_threads; t++) {
      Entry te = {ENTRY_THREAD, pr->first_thread + t, y, ROW_H, 0, 0, 0};
      g_array_append_val(self->entries, te);
      y += ROW_H;
    }
    for (guint l = 0; l < pr->n_locks; l++) {
      Entry le = {ENTRY_LOCK, pr->first_lock + l, y, ROW_H, 0, 0, 0};
      g_array_append_val(self->entries, le);
      y += ROW_H;
    }
  }
  return y;
}

/* The rows: the processes', under a header per host when there are two
 * hosts or more; a folded host's header summarises the threads of its
 * processes, which get no row (as a folded process tree's). */
static void rebuild_entries(WeftTimeline *self) {
  g_array_set_size(self->entries, 0);
  int y = 0;
  guint np = self->session ? weft_session_get_n_processes(self->session) : 0;
  if (!grouped(self)) y = add_process_entries(self, 0, np, 0);
  for (guint h = 0; grouped(self) && h < weft_session_get_n_hosts(self->session); h++) {
    const WeftSessionHost *host = weft_session_get_host(self->session, h);
    guint p0 = host->first_process, p1 = p0 + host->n_processes;
    guint t0 = weft_fold_first_thread(self->session, p0), t1 = weft_fold_first_thread(self->session, p1);
    gboolean folded = self->host_fold && self->host_fold[h] != WEFT_FOLD_OPEN;
    Entry e = {ENTRY_HOST, h, y, HOST_H, t0, folded ? t1 - t0 : 0, host->n_processes};
    g_array_append_val(self->entries, e);
    y += HOST_H;
    if (!folded) y = add_process_entries(self, p0, p1, y);
  }
  for (guint k = 0; shown_replay(self) && k < 2; k++) { /* the replayed groups */
    Entry h = {ENTRY_REPLAY_HEAD, k, y, PROC_H, 0, 0, 0};
    g_array_append_val(self->entries, h);
    y += PROC_H;
    for (guint i = 0; i < self->replay->sets[k].n; i++) {
      Entry e = {ENTRY_REPLAY, k, y, ROW_H, i, 0, 0};
      g_array_append_val(self->entries, e);
      y += ROW_H;
    }
  }
  self->content_h = y;
  clamp_scroll(self);
  forget_flows(self); /* their ends are on other rows */
}

/* ---- folding on a worker thread ----
 *
 * The rows are folded (weft_session_fold: SQLite reads of state_summary or
 * thread_state, and of hold_block for the lanes) by one worker thread per
 * session, through a connection of its own (WeftSessionReader), so that the
 * GTK thread never waits for a long query. A frame whose window changed
 * bumps the generation and asks for the rows in view first, then the other
 * threads (the running track sums them all), then the lanes in view, then
 * the highlighted object's strips of the rows in view (from its waits and
 * holds in memory: weft-highlight.h); the
 * worker drops a job as soon as a newer generation is asked for. Results
 * come back through an async queue drained on the GTK thread; until a row's
 * fold arrives, its last fold of an earlier window is drawn stretched to
 * the new one. A tooltip waits for the fold of its row (asked for first if
 * it was not): it is asked again when the fold arrives. */

typedef struct {
  guint gen;
  double t0, npp;
  int npx;
  guint n;
  guint *items;      /* item index (ItemKind) */
  WeftHighlight *hl; /* for highlight strips: a reference, or NULL */
  guint hl_gen;
  WeftFlows *flows;       /* for the arrows: a reference, or NULL */
  WeftFlowFilter *filter; /* with flows */
  guint flow_gen;
} FoldJob;

typedef struct {
  guint gen;
  guint item;
  guint hl_gen, flow_gen;
  gpointer px;
} FoldResult;

/* What item i of the cache is: a thread's row (i < n_threads), a lock's
 * lane, the highlight strips of thread i - n_threads - n_locks, or (the
 * last) the flow arrows of the window (a WeftFlowSet). */
typedef enum { ITEM_THREAD, ITEM_LOCK, ITEM_HIGHLIGHT, ITEM_FLOWS } ItemKind;

static ItemKind item_kind(guint i, guint n_threads, guint n_locks) {
  return i < n_threads                 ? ITEM_THREAD
         : i < n_threads + n_locks     ? ITEM_LOCK
         : i < 2 * n_threads + n_locks ? ITEM_HIGHLIGHT
                                       : ITEM_FLOWS;
}

/* What a fold needs besides the session: the highlight, the flows and their filter. */
typedef struct {
  const WeftHighlight *hl;
  const WeftFlows *flows;
  const WeftFlowFilter *filter;
} FoldCtx;

/* Fold item i with reader (the worker's or the session's own), or from ctx. */
static gpointer fold_item(WeftSessionReader *reader, WeftSession *session, const FoldCtx *ctx, guint i, double t0,
                          double npp, int npx) {
  guint nt = weft_session_get_n_threads(session), nl = weft_session_get_n_locks(session);
  switch (item_kind(i, nt, nl)) {
    case ITEM_THREAD: {
      WeftPixel *px = g_new(WeftPixel, npx);
      if (reader)
        weft_session_reader_fold(reader, i, t0, npp, npx, px);
      else
        weft_session_fold(session, i, t0, npp, npx, px);
      return px;
    }
    case ITEM_LOCK: {
      WeftHoldPixel *px = g_new(WeftHoldPixel, npx);
      if (reader)
        weft_session_reader_fold_lock(reader, i - nt, t0, npp, npx, px);
      else
        weft_session_fold_lock(session, i - nt, t0, npp, npx, px);
      return px;
    }
    case ITEM_HIGHLIGHT: {
      guint8 *px = g_new(guint8, npx);
      weft_highlight_fold(ctx->hl, i - nt - nl, t0, npp, npx, px);
      return px;
    }
    default: return weft_flows_select(ctx->flows, ctx->filter, t0, npp, npx);
  }
}

struct _FoldWorker {
  gint ref;
  GThread *thread;
  WeftSessionReader *reader;
  WeftSession *session; /* its immutable tables only (the thread and lock counts) */
  GMutex lock;
  GCond cond;
  GQueue jobs;          /* FoldJob*, under lock */
  gboolean quit;        /* under lock */
  gint latest_gen;      /* atomic: the newest job's generation */
  GAsyncQueue *results; /* FoldResult* */
  WeftTimeline *owner;  /* GTK thread only; NULL once detached */
  guint idle_id;        /* GTK thread only */
  gint idle_pending;    /* atomic: a drain is scheduled */
};

static void fold_job_free(FoldJob *j) {
  g_free(j->items);
  if (j->hl) weft_highlight_unref(j->hl);
  if (j->flows) weft_flows_unref(j->flows);
  weft_flow_filter_free(j->filter);
  g_free(j);
}

static void fold_result_free(FoldResult *r) {
  g_free(r->px);
  g_free(r);
}

static void worker_unref(FoldWorker *w) {
  if (!g_atomic_int_dec_and_test(&w->ref)) return;
  g_queue_clear_full(&w->jobs, (GDestroyNotify)fold_job_free);
  g_async_queue_unref(w->results);
  weft_session_reader_free(w->reader);
  g_mutex_clear(&w->lock);
  g_cond_clear(&w->cond);
  g_free(w);
}

static gboolean drain_idle(gpointer data);

static gpointer worker_main(gpointer data) {
  FoldWorker *w = data;
  for (;;) {
    g_mutex_lock(&w->lock);
    while (!w->quit && g_queue_is_empty(&w->jobs)) g_cond_wait(&w->cond, &w->lock);
    if (w->quit) {
      g_mutex_unlock(&w->lock);
      break;
    }
    FoldJob *job = g_queue_pop_head(&w->jobs);
    g_mutex_unlock(&w->lock);
    for (guint k = 0; k < job->n && (guint)g_atomic_int_get(&w->latest_gen) == job->gen; k++) {
      guint item = job->items[k];
      FoldResult *r = g_new0(FoldResult, 1);
      r->gen = job->gen;
      r->item = item;
      r->hl_gen = job->hl_gen;
      r->flow_gen = job->flow_gen;
      FoldCtx ctx = {job->hl, job->flows, job->filter};
      r->px = fold_item(w->reader, w->session, &ctx, item, job->t0, job->npp, job->npx);
      g_async_queue_push(w->results, r);
      if (g_atomic_int_compare_and_exchange(&w->idle_pending, 0, 1)) {
        g_atomic_int_inc(&w->ref);
        g_idle_add_full(G_PRIORITY_DEFAULT, drain_idle, w, (GDestroyNotify)worker_unref);
      }
    }
    fold_job_free(job);
  }
  return NULL;
}

static FoldWorker *worker_new(WeftSession *session) {
  GError *error = NULL;
  WeftSessionReader *reader = weft_session_reader_new(session, &error);
  if (!reader) {
    g_warning("weft-gui: folding on the GTK thread: %s", error->message);
    g_error_free(error);
    return NULL;
  }
  FoldWorker *w = g_new0(FoldWorker, 1);
  w->ref = 1;
  w->reader = reader;
  w->session = session;
  g_mutex_init(&w->lock);
  g_cond_init(&w->cond);
  g_queue_init(&w->jobs);
  w->results = g_async_queue_new_full((GDestroyNotify)fold_result_free);
  g_atomic_int_set(&w->latest_gen, -1);
  w->ref++; /* the thread's */
  w->thread = g_thread_new("weft-fold", worker_main, w);
  return w;
}

/* Stop the worker (after the row it is folding) and forget its results. */
static void worker_detach(FoldWorker *w) {
  if (!w) return;
  w->owner = NULL;
  g_mutex_lock(&w->lock);
  w->quit = TRUE;
  g_cond_signal(&w->cond);
  g_mutex_unlock(&w->lock);
  g_thread_join(w->thread);
  w->thread = NULL;
  worker_unref(w); /* the thread's */
  worker_unref(w); /* the timeline's */
}

static void item_free_prev(Prev *p) { g_clear_pointer(&p->px, g_free); }

static guint n_threads(WeftTimeline *self) { return weft_session_get_n_threads(self->session); }
static guint n_locks(WeftTimeline *self) { return weft_session_get_n_locks(self->session); }
static ItemKind kind_of(WeftTimeline *self, guint i) { return item_kind(i, n_threads(self), n_locks(self)); }
/* The item of thread i's highlight strips. */
static guint hl_item(WeftTimeline *self, guint i) { return n_threads(self) + n_locks(self) + i; }
/* The item of the flow arrows. */
static guint flow_item(WeftTimeline *self) { return 2 * n_threads(self) + n_locks(self); }

static gboolean requery_idle(gpointer data) {
  gtk_widget_trigger_tooltip_query(GTK_WIDGET(data));
  return G_SOURCE_REMOVE;
}

/* Ask for the tooltip again (its data arrived), from the main loop: not
 * inside a frame or a tooltip query. */
static void requery_tooltip(WeftTimeline *self) {
  g_idle_add_full(G_PRIORITY_DEFAULT, requery_idle, g_object_ref(self), g_object_unref);
}

/* Apply the results that are there; TRUE if any was of the current window.
 * Every result of the current window was counted in pending once; a strip
 * of another highlight than the current one is dropped. */
static gboolean apply_results(WeftTimeline *self) {
  FoldWorker *w = self->worker;
  FoldResult *r;
  gboolean any = FALSE;
  while (w && (r = g_async_queue_try_pop(w->results))) {
    if (r->gen == self->gen && self->rows && r->item < self->n_items) {
      if (self->pending > 0) self->pending--;
      ItemKind kind = kind_of(self, r->item);
      gboolean stale = (kind == ITEM_HIGHLIGHT && r->hl_gen != self->hl_gen) ||
                       (kind == ITEM_FLOWS && r->flow_gen != self->flow_gen);
      if (!stale && self->requested[r->item] && !self->rows[r->item]) {
        self->rows[r->item] = r->px;
        r->px = NULL;
        any = TRUE;
      }
    }
    fold_result_free(r);
  }
  if (any && self->tip_wait_fold) {
    self->tip_wait_fold = FALSE;
    requery_tooltip(self);
  }
  return any;
}

static gboolean drain_idle(gpointer data) {
  FoldWorker *w = data;
  g_atomic_int_set(&w->idle_pending, 0);
  if (w->owner && apply_results(w->owner)) gtk_widget_queue_draw(GTK_WIDGET(w->owner));
  return G_SOURCE_REMOVE;
}

static void free_cache(WeftTimeline *self) {
  for (guint i = 0; i < self->n_items && self->rows; i++) {
    g_free(self->rows[i]);
    item_free_prev(&self->prev[i]);
  }
  g_clear_pointer(&self->rows, g_free);
  g_clear_pointer(&self->requested, g_free);
  g_clear_pointer(&self->prev, g_free);
  self->n_items = 0;
  self->pending = 0;
}

/* The cache for the current window and width: a new generation when they
 * changed (the folds of the old window become the prev of their items). */
static void ensure_cache(WeftTimeline *self) {
  int npx = timeline_npx(self);
  guint n = 2 * n_threads(self) + n_locks(self) + 1;
  if (!self->rows || self->n_items != n) {
    free_cache(self);
    self->n_items = n;
    self->rows = g_new0(gpointer, MAX(n, 1));
    self->requested = g_new0(gboolean, MAX(n, 1));
    self->prev = g_new0(Prev, MAX(n, 1));
  } else if (self->cache_npx == npx && self->cache_t0 == self->t0 && self->cache_t1 == self->t1) {
    return;
  }
  double npp = (self->cache_t1 - self->cache_t0) / MAX(self->cache_npx, 1);
  for (guint i = 0; i < n; i++) {
    if (self->rows[i]) {
      item_free_prev(&self->prev[i]);
      self->prev[i] = (Prev){self->rows[i], self->cache_t0, npp, self->cache_npx};
      self->rows[i] = NULL;
    }
    self->requested[i] = FALSE;
  }
  self->cache_npx = npx;
  self->cache_t0 = self->t0;
  self->cache_t1 = self->t1;
  self->gen++;
  self->pending = 0;
  if (self->worker) g_atomic_int_set(&self->worker->latest_gen, (gint)self->gen);
}

static WeftFlowFilter *flow_filter(WeftTimeline *self);
static void read_flows(WeftTimeline *self);

/* Fold item i now, on the GTK thread. */
static void fold_now(WeftTimeline *self, guint i) {
  int npx = self->cache_npx;
  double npp = (self->cache_t1 - self->cache_t0) / npx;
  WeftFlowFilter *filter = kind_of(self, i) == ITEM_FLOWS ? flow_filter(self) : NULL;
  FoldCtx ctx = {self->hl, self->flows, filter};
  self->rows[i] = fold_item(NULL, self->session, &ctx, i, self->cache_t0, npp, npx);
  weft_flow_filter_free(filter);
}

/* Forget the highlight strips (another object, or none): folded, asked for
 * and earlier windows' alike. */
static void forget_strips(WeftTimeline *self) {
  self->hl_gen++;
  for (guint i = 0; self->rows && i < n_threads(self); i++) {
    guint k = hl_item(self, i);
    g_clear_pointer(&self->rows[k], g_free);
    item_free_prev(&self->prev[k]);
    self->requested[k] = FALSE;
  }
}

/* Ask for the folds of these items (those not asked for yet in this window). */
static void request(WeftTimeline *self, const guint *items, guint n) {
  FoldJob *job = NULL;
  for (guint k = 0; k < n; k++) {
    guint i = items[k];
    if (self->requested[i] || self->rows[i]) continue;
    self->requested[i] = TRUE;
    if (!self->worker) {
      fold_now(self, i);
      continue;
    }
    if (!job) {
      job = g_new0(FoldJob, 1);
      job->gen = self->gen;
      job->hl = self->hl ? weft_highlight_ref(self->hl) : NULL;
      job->hl_gen = self->hl_gen;
      job->flow_gen = self->flow_gen;
      job->t0 = self->cache_t0;
      job->npx = self->cache_npx;
      job->npp = (self->cache_t1 - self->cache_t0) / job->npx;
      job->items = g_new(guint, n);
    }
    job->items[job->n++] = i;
    if (kind_of(self, i) == ITEM_FLOWS && !job->filter) {
      job->flows = weft_flows_ref(self->flows);
      job->filter = flow_filter(self);
    }
    self->pending++;
  }
  if (!job) return;
  g_mutex_lock(&self->worker->lock);
  g_queue_push_tail(&self->worker->jobs, job);
  g_cond_signal(&self->worker->cond);
  g_mutex_unlock(&self->worker->lock);
}

/* The folds the frame needs: the rows and lanes in view first, then the
 * highlight strips of the rows in view, then every other thread (for the
 * running track). */
static void request_frame(WeftTimeline *self) {
  ensure_cache(self);
  guint nt = n_threads(self);
  g_autofree guint *items = g_new(guint, 3 * (size_t)self->n_items + 1);
  guint n = 0;
  int top = 0, rh = rows_h(self);
  for (int pass = 0; pass < 2; pass++) {
    for (guint k = 0; k < self->entries->len; k++) {
      Entry *e = &g_array_index(self->entries, Entry, k);
      int y = e->y - (int)self->scroll_y;
      if (y + e->h < top || y >= top + rh) continue;
      if (pass == 0 && e->kind == ENTRY_THREAD)
        items[n++] = e->index;
      else if (pass == 0 && e->kind == ENTRY_LOCK)
        items[n++] = nt + e->index;
      else if (pass == 1 && e->kind == ENTRY_THREAD && self->hl)
        items[n++] = hl_item(self, e->index);
    }
  }
  if (self->show_flows && self->flows) items[n++] = flow_item(self);
  for (guint i = 0; i < nt; i++) items[n++] = i;
  request(self, items, n);
}

/* Item i's pixels for the window: its fold, else its last fold stretched
 * into tmp (WEFT_PIXEL_NONE / no holder / no strip where it has none), else
 * NULL. */
static gconstpointer item_pixels(WeftTimeline *self, guint i, gpointer tmp) {
  if (self->rows[i]) return self->rows[i];
  const Prev *pv = &self->prev[i];
  if (!pv->px) return NULL;
  ItemKind kind = kind_of(self, i);
  int npx = self->cache_npx;
  double npp = (self->cache_t1 - self->cache_t0) / npx;
  for (int p = 0; p < npx; p++) {
    double q = floor((self->cache_t0 + (p + 0.5) * npp - pv->t0) / pv->npp);
    gboolean in = q >= 0 && q < pv->npx;
    if (kind == ITEM_LOCK)
      ((WeftHoldPixel *)tmp)[p] = in ? ((const WeftHoldPixel *)pv->px)[(int)q] : (WeftHoldPixel){-1, 0};
    else if (kind == ITEM_HIGHLIGHT)
      ((guint8 *)tmp)[p] = in ? ((const guint8 *)pv->px)[(int)q] : 0;
    else
      ((WeftPixel *)tmp)[p] =
          in ? ((const WeftPixel *)pv->px)[(int)q] : (WeftPixel){.state = WEFT_PIXEL_NONE, .mark = WEFT_PIXEL_NONE};
  }
  return tmp;
}

/* Item k's fold for the current window and width (a tooltip's row or
 * lane), or NULL while the worker folds it (asked for first if it was not;
 * the tooltip is asked again when it arrives). Without a worker, folded
 * now. */
static gconstpointer tooltip_pixels(WeftTimeline *self, guint k) {
  ensure_cache(self);
  if (!self->rows[k] && !self->worker) fold_now(self, k);
  if (self->rows[k]) return self->rows[k];
  request(self, &k, 1);
  self->tip_wait_fold = TRUE;
  return NULL;
}

static void snapshot_text(WeftTimeline *self, GtkSnapshot *snapshot, const char *text, gboolean bold, double x,
                          double y, int width, int height, const GdkRGBA *color);

/* The bars of the rows in view are drawn into one image of the rows' area
 * (a cairo image surface kept between frames, painted once into a cairo
 * node) instead of as rectangles: the software renderer draws a rectangle
 * in about a microsecond, and zoomed out a row has a different colour in
 * almost every column. Pixels are native-endian 0xAARRGGBB (CAIRO_FORMAT_ARGB32),
 * opaque, or 0 where nothing is drawn. */
typedef struct {
  guint32 *px;
  int w, h;        /* npx x rows_h */
  int stride;      /* in pixels */
  guint8 *written; /* per line: drawn this frame (the others are cleared after) */
} Canvas;

static guint32 argb(const GdkRGBA *c) {
  return 0xff000000u | (guint32)lround(c->red * 255) << 16 | (guint32)lround(c->green * 255) << 8 |
         (guint32)lround(c->blue * 255);
}

/* Lines [y, y + h) of the canvas (clipped) get line[0..w). */
static void canvas_rows(Canvas *cv, int y, int h, const guint32 *line) {
  for (int r = MAX(0, y); r < MIN(cv->h, y + h); r++) {
    memcpy(cv->px + (size_t)r * cv->stride, line, sizeof(guint32) * cv->w);
    cv->written[r] = 1;
  }
}

/* One lock lane at canvas line y: a column gets its holder's hue, a dark mark on top when merged. */
static void fill_lane(WeftTimeline *self, Canvas *cv, guint i, int y) {
  g_autofree WeftHoldPixel *tmp = g_new(WeftHoldPixel, cv->w);
  const WeftHoldPixel *px = item_pixels(self, weft_session_get_n_threads(self->session) + i, tmp);
  if (!px) return;
  int bh = ROW_H - 2 * BAR_INSET;
  guint32 *top = g_new(guint32, cv->w), *body = g_new(guint32, cv->w);
  guint32 merged = argb(&self->pal->merged), last_c = 0;
  int last_h = -2;
  for (int p = 0; p < cv->w; p++) {
    if (px[p].holder != last_h) {
      last_h = px[p].holder;
      GdkRGBA c = thread_color((guint)MAX(last_h, 0));
      last_c = last_h >= 0 ? argb(&c) : 0;
    }
    body[p] = last_c;
    top[p] = last_h >= 0 && px[p].nholders > 1 ? merged : last_c;
  }
  canvas_rows(cv, y + BAR_INSET, MERGED_H, top);
  canvas_rows(cv, y + BAR_INSET + MERGED_H, bh - MERGED_H, body);
  g_free(top);
  g_free(body);
}

/* The highlighted object's strips on thread i's row at canvas line y: over
 * the bar where it waited for the object, under it where it held it (in
 * the row's margins), a pixel marked if a wait or hold overlaps it. */
static void fill_strips(WeftTimeline *self, Canvas *cv, guint i, int y) {
  if (!self->hl) return;
  g_autofree guint8 *tmp = g_new(guint8, cv->w);
  const guint8 *px = item_pixels(self, hl_item(self, i), tmp);
  if (!px) return;
  guint8 any = 0;
  for (int p = 0; p < cv->w; p++) any |= px[p];
  if (!any) return;
  g_autofree guint32 *line = g_new(guint32, cv->w);
  const struct {
    guint8 bit;
    const GdkRGBA *color;
    int at; /* line in the row */
  } strips[] = {{WEFT_HL_WAIT, &self->pal->hl_wait, 0}, {WEFT_HL_HOLD, &self->pal->hl_hold, ROW_H - HL_H}};
  for (guint k = 0; k < G_N_ELEMENTS(strips); k++) {
    if (!(any & strips[k].bit)) continue;
    guint32 c = argb(strips[k].color);
    for (int p = 0; p < cv->w; p++) line[p] = px[p] & strips[k].bit ? c : 0;
    canvas_rows(cv, y + strips[k].at, HL_H, line);
  }
}

/* Half way to white: the lines of the hatch over a split known only in total. */
static guint32 hatch_of(guint32 c) {
  return 0xff000000u | (((c >> 16 & 0xff) + 255) >> 1) << 16 | (((c >> 8 & 0xff) + 255) >> 1) << 8 |
         (((c & 0xff) + 255) >> 1);
}

/* Whether canvas pixel (x, y) is on a line of the hatch (diagonal, every 4th). */
static gboolean hatched_at(int x, int y) { return ((x + y) & 3) == 0; }

/* The heights of a running column's parts in a stack of h px, from the
 * bottom: on a CPU, then runnable, then off a CPU; a part of at least 5 %
 * gets a pixel. */
static void stack_heights(const WeftPixel *px, int h, int *on, int *runnable) {
  double run = px->oncpu + px->runnable + px->offcpu;
  double f_on = run > 0 ? px->oncpu / run : 1, f_r = run > 0 ? px->runnable / run : 0;
  int a = (int)lround(f_on * h), b = (int)lround((f_on + f_r) * h);
  if (f_on >= 0.05 && a == 0) a = 1;
  if (f_r >= 0.05 && b == a) b = a + 1;
  if (1 - f_on - f_r >= 0.05 && b >= h) b = h - 1, a = MIN(a, b);
  *on = CLAMP(a, 0, h);
  *runnable = CLAMP(b, *on, h) - *on;
}

/* One thread's bar at canvas line y: the state of each column (a running
 * column split into its parts, stacked, hatched where the split is known
 * only in total), a wait mark on its lower part, the highlight's strips in
 * its margins. Written a column at a time, straight into the canvas (the
 * lines of the bar inside it: ka..kb). */
static void fill_bar_pixels(WeftTimeline *self, Canvas *cv, const WeftPixel *px, int y) {
  int bh = ROW_H - 2 * BAR_INSET, y0 = y + BAR_INSET, ka = MAX(0, -y0), kb = MIN(bh, cv->h - y0);
  guint32 colors[WEFT_ST_COUNT],
      parts[3] = {argb(&self->pal->state[WEFT_ST_RUNNING]), argb(&self->pal->runnable), argb(&self->pal->offcpu)};
  guint32 hatched[3] = {hatch_of(parts[0]), hatch_of(parts[1]), hatch_of(parts[2])};
  for (int s = 0; s < WEFT_ST_COUNT; s++) colors[s] = argb(&self->pal->state[s]);
  for (int p = 0; p < cv->w && ka < kb; p++) {
    guint32 *dst = cv->px + (ptrdiff_t)y0 * cv->stride + p;
    guint8 st = px[p].state, mk = px[p].mark;
    int h = st < WEFT_ST_COUNT && mk < WEFT_ST_COUNT ? bh - MARK_H : bh; /* the body, above the mark */
    int h_on = 0, h_r = 0;
    gboolean est = st == WEFT_ST_RUNNING && px[p].estimated > 0.5f;
    if (st == WEFT_ST_RUNNING) stack_heights(&px[p], h, &h_on, &h_r);
    for (int k = ka; k < kb; k++) {
      guint32 c;
      if (st >= WEFT_ST_COUNT)
        c = 0;
      else if (k >= h)
        c = colors[mk];
      else if (st != WEFT_ST_RUNNING)
        c = colors[st];
      else {
        int d = h - 1 - k, part = d < h_on ? 0 : d < h_on + h_r ? 1 : 2;
        c = est && hatched_at(p, y0 + k) ? hatched[part] : parts[part];
      }
      dst[(ptrdiff_t)k * cv->stride] = c;
    }
  }
  if (ka < kb) memset(cv->written + y0 + ka, 1, (size_t)(kb - ka));
}

static void fill_bar(WeftTimeline *self, Canvas *cv, guint i, int y) {
  g_autofree WeftPixel *tmp = g_new(WeftPixel, cv->w);
  const WeftPixel *px = item_pixels(self, i, tmp);
  if (!px) return;
  fill_bar_pixels(self, cv, px, y);
  fill_strips(self, cv, i, y);
}

/* A replayed thread's bar (entry e) at canvas line y: its intervals in memory, folded for the window. */
static void fill_replay(WeftTimeline *self, Canvas *cv, const Entry *e, int y) {
  g_autofree WeftPixel *px = g_new(WeftPixel, cv->w);
  weft_replay_row_fold(&self->replay->sets[e->index].rows[e->t_first], self->t0, ns_per_px(self), cv->w, px);
  fill_bar_pixels(self, cv, px, y);
}

/* A collapsed process's (or host's) summary in its header row at canvas line y: per
 * column the shares of its threads' alive time on a CPU, runnable, off a
 * CPU and waiting (the colour of the wait with the most time), stacked from
 * the bottom (weft-fold.h); nothing where none of them was alive. */
static void fill_summary(WeftTimeline *self, Canvas *cv, const Entry *e, int y) {
  g_autofree WeftFoldPixel *acc = g_new(WeftFoldPixel, cv->w);
  g_autofree WeftPixel *tmp = g_new(WeftPixel, cv->w);
  weft_fold_clear(acc, cv->w);
  for (guint t = e->t_first; t < e->t_first + e->t_count; t++) weft_fold_add(acc, item_pixels(self, t, tmp), cv->w);
  int bh = e->h - 2 * BAR_INSET, y0 = y + BAR_INSET, ka = MAX(0, -y0), kb = MIN(bh, cv->h - y0);
  guint32 parts[4] = {argb(&self->pal->state[WEFT_ST_RUNNING]), argb(&self->pal->runnable), argb(&self->pal->offcpu),
                      0};
  for (int p = 0; p < cv->w && ka < kb; p++) {
    guint32 *dst = cv->px + (ptrdiff_t)y0 * cv->stride + p;
    int h[4];
    weft_fold_heights(&acc[p], bh, h);
    guint8 ws = acc[p].wait_state;
    parts[3] = ws < WEFT_ST_COUNT ? argb(&self->pal->state[ws]) : argb(&self->pal->state[WEFT_ST_SLEEP]);
    for (int k = ka; k < kb; k++) {
      int d = bh - 1 - k, part = 0; /* from the bottom */
      while (part < 4 && d >= h[part]) d -= h[part++];
      dst[(ptrdiff_t)k * cv->stride] = part < 4 ? parts[part] : 0;
    }
  }
  if (ka < kb) memset(cv->written + y0 + ka, 1, (size_t)(kb - ka));
}

static int text_width(WeftTimeline *self, const char *text, gboolean bold);

/* The running track's column sums: threads on a CPU (at most the CPU
 * count: an estimate spread over an interval between readings can exceed
 * it, and the excess could only have been runnable), runnable, and the
 * share of their time whose split is known only in total. */
typedef struct {
  double on, runnable, estimated;
  double running; /* threads in the running state (outside any recorded wait) */
} TrackColumn;

static void track_columns(WeftTimeline *self, int npx, TrackColumn *out) {
  guint n = n_threads(self);
  int ncpus = weft_session_get_ncpus(self->session);
  g_autofree WeftPixel *tmp = g_new(WeftPixel, npx);
  g_autofree double *run = g_new0(double, npx);
  memset(out, 0, sizeof *out * (size_t)npx);
  for (guint i = 0; i < n; i++) {
    const WeftPixel *px = item_pixels(self, i, tmp);
    for (int p = 0; px && p < npx; p++) {
      out[p].on += px[p].oncpu;
      out[p].runnable += px[p].runnable;
      out[p].estimated += px[p].running * px[p].estimated;
      run[p] += px[p].running;
      out[p].running += px[p].running;
    }
  }
  for (int p = 0; p < npx; p++) {
    if (ncpus > 0 && out[p].on > ncpus) {
      out[p].runnable += out[p].on - ncpus;
      out[p].on = ncpus;
    }
    out[p].estimated = run[p] > 0 ? out[p].estimated / run[p] : 0;
  }
}

/* The running track: per column, the threads on a CPU (the running colour)
 * and above them the runnable ones (pale), hatched where the split is
 * known only in total, scaled to the peak or the CPU count, whichever is
 * higher, with the CPU count as a dashed line. Drawn as an image. */
static void snapshot_track(WeftTimeline *self, GtkSnapshot *snapshot, int width) {
  int npx = timeline_npx(self), x0 = timeline_x0(self), ncpus = weft_session_get_ncpus(self->session);
  g_autofree TrackColumn *col = g_new(TrackColumn, npx);
  track_columns(self, npx, col);
  double peak = ncpus;
  for (int p = 0; p < npx; p++) peak = MAX(peak, col[p].on + col[p].runnable);
  int max = MAX(1, (int)ceil(peak - 1e-6));
  int top = TRACK_TOP + TRACK_PAD_T, ph = TRACK_H - TRACK_PAD_T - TRACK_PAD_B, base = top + ph;
  int cpu_y = ncpus > 0 ? ph - (int)lround((double)ncpus / max * ph) : -1; /* in the plot */
  gtk_snapshot_append_color(snapshot, &self->pal->chrome, &GRAPHENE_RECT_INIT(0, TRACK_TOP, width, TRACK_H));
  if (!self->track_image || cairo_image_surface_get_width(self->track_image) != npx ||
      cairo_image_surface_get_height(self->track_image) != ph) {
    g_clear_pointer(&self->track_image, cairo_surface_destroy);
    self->track_image = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, npx, ph);
  }
  if (cairo_surface_status(self->track_image) == CAIRO_STATUS_SUCCESS) {
    cairo_surface_flush(self->track_image);
    guint32 *img = (guint32 *)(void *)cairo_image_surface_get_data(self->track_image);
    int stride = cairo_image_surface_get_stride(self->track_image) / 4;
    guint32 bg = argb(&self->pal->track_bg), on = argb(&self->pal->state[WEFT_ST_RUNNING]),
            rn = argb(&self->pal->runnable);
    guint32 cpu_line = argb(&self->pal->text);
    for (int p = 0; p < npx; p++) {
      int h_on = (int)lround(col[p].on / max * ph), h_all = (int)lround((col[p].on + col[p].runnable) / max * ph);
      if (col[p].on > 0 && h_on == 0) h_on = 1; /* never blank if a thread ran */
      if (col[p].runnable > 0.05 && h_all <= h_on) h_all = h_on + 1;
      gboolean est = col[p].estimated > 0.5;
      for (int k = 0; k < ph; k++) {
        int d = ph - 1 - k; /* from the base */
        guint32 c = d < h_on ? on : d < h_all ? rn : bg;
        if (c != bg && est && hatched_at(p, k)) c = hatch_of(c);
        if (k == cpu_y && p % 6 < 4) c = cpu_line;
        img[(size_t)k * stride + p] = c;
      }
    }
    cairo_surface_mark_dirty(self->track_image);
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(x0, top, npx, ph));
    cairo_set_source_surface(cr, self->track_image, x0, top);
    cairo_paint(cr);
    cairo_destroy(cr);
  }
  /* the label and the y scale, in the label column: the CPU count at its line */
  char buf[32];
  snapshot_text(self, snapshot, "on a CPU", TRUE, 8, top - 6, LABEL_W - 70, 20, &self->pal->text);
  snapshot_text(self, snapshot, "+ runnable", FALSE, 8, top + 12, LABEL_W - 70, 20, &self->pal->dim_text);
  if (cpu_y >= 0) {
    g_snprintf(buf, sizeof buf, "%d CPU%s", ncpus, ncpus == 1 ? "" : "s");
    int tw = text_width(self, buf, FALSE);
    snapshot_text(self, snapshot, buf, FALSE, LABEL_W - 8 - tw, top + cpu_y - 8, tw + 1, 16, &self->pal->dim_text);
  }
  if (cpu_y < 0 || cpu_y >= 12) {
    g_snprintf(buf, sizeof buf, "%d", max);
    snapshot_text(self, snapshot, buf, FALSE, LABEL_W - 30, top - 8, 24, 16, &self->pal->dim_text);
  }
  if (cpu_y < ph - 12) snapshot_text(self, snapshot, "0", FALSE, LABEL_W - 30, base - 8, 24, 16, &self->pal->dim_text);
  gtk_snapshot_append_color(snapshot, &self->pal->line, &GRAPHENE_RECT_INIT(LABEL_W - 6, top, 4, 1));
  gtk_snapshot_append_color(snapshot, &self->pal->line, &GRAPHENE_RECT_INIT(LABEL_W - 6, base - 1, 4, 1));
  gtk_snapshot_append_color(snapshot, &self->pal->line, &GRAPHENE_RECT_INIT(LABEL_W - 3, top, 1, ph));
  gtk_snapshot_append_color(snapshot, &self->pal->line, &GRAPHENE_RECT_INIT(0, ROWS_TOP - 1, width, 1));
}

/* The laid-out text of a label (cached: the labels of the rows are the same
 * from frame to frame; the cache is emptied when it grows past a bound). */
static PangoLayout *label_layout(WeftTimeline *self, const char *text, gboolean bold, int width, gboolean end) {
  char *key = g_strdup_printf("%d|%d|%d|%s", bold ? 1 : 0, width, end ? 1 : 0, text);
  PangoLayout *layout = g_hash_table_lookup(self->layouts, key);
  if (layout) {
    g_free(key);
    return layout;
  }
  if (g_hash_table_size(self->layouts) > 4096) g_hash_table_remove_all(self->layouts);
  layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
  if (bold) {
    char *m = g_markup_printf_escaped("<b>%s</b>", text);
    pango_layout_set_markup(layout, m, -1);
    g_free(m);
  } else {
    pango_layout_set_text(layout, text, -1);
  }
  if (width >= 0) {
    pango_layout_set_width(layout, width * PANGO_SCALE);
    pango_layout_set_ellipsize(layout, end ? PANGO_ELLIPSIZE_END : PANGO_ELLIPSIZE_MIDDLE);
  }
  g_hash_table_insert(self->layouts, key, layout);
  return layout;
}

static void snapshot_text_mode(WeftTimeline *self, GtkSnapshot *snapshot, const char *text, gboolean bold, double x,
                               double y, int width, int height, const GdkRGBA *color, gboolean end) {
  PangoLayout *layout = label_layout(self, text, bold, width, end);
  int lw, lh;
  pango_layout_get_pixel_size(layout, &lw, &lh);
  gtk_snapshot_save(snapshot);
  gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT((float)x, (float)(y + (height - lh) / 2.0)));
  gtk_snapshot_append_layout(snapshot, layout, color);
  gtk_snapshot_restore(snapshot);
}

static void snapshot_text(WeftTimeline *self, GtkSnapshot *snapshot, const char *text, gboolean bold, double x,
                          double y, int width, int height, const GdkRGBA *color) {
  snapshot_text_mode(self, snapshot, text, bold, x, y, width, height, color, FALSE);
}

/* A step of 1, 2 or 5 × 10^k ns giving ticks at least min_px apart. */
static double tick_step(double npp, double min_px) {
  double raw = npp * min_px, step = pow(10, floor(log10(MAX(raw, 1e-3))));
  while (step < raw) {
    if (step * 2 >= raw) return step * 2;
    if (step * 5 >= raw) return step * 5;
    step *= 10;
  }
  return step;
}

/* A ruler label for t: the unit of the larger end of the window (so that
 * the labels read 1.05 ms, 1.10 ms, not 1050 µs), decimals for step. */
static void format_tick(char *buf, size_t len, double t, double step, double tmax) {
  static const struct {
    double scale;
    const char *unit;
  } units[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "µs"}, {1, "ns"}};
  guint u = 0;
  while (u + 1 < G_N_ELEMENTS(units) && MAX(tmax, step) < units[u].scale) u++;
  double v = t / units[u].scale, s = step / units[u].scale;
  int decimals = s >= 1 ? 0 : (int)ceil(-log10(s) - 1e-9);
  if (fabs(v) < s / 2) v = 0;
  g_snprintf(buf, len, "%.*f %s", decimals, v, units[u].unit);
}

static gboolean span_px(WeftTimeline *self, double a, double b, double *xa, double *xb);

/* Width in px of text as snapshot_text draws it (bold or not). */
static PangoLayout *label_layout(WeftTimeline *self, const char *text, gboolean bold, int width, gboolean end);

static int text_width(WeftTimeline *self, const char *text, gboolean bold) {
  int w, h;
  pango_layout_get_pixel_size(label_layout(self, text, bold, -1, FALSE), &w, &h);
  return w;
}

/* The ruler's "selection 12.3 ms" label: its text, x and width; FALSE when
 * no selection is in view. */
static gboolean selection_label(WeftTimeline *self, char *buf, size_t len, double *lx, double *lw) {
  double xa, xb;
  if (!self->has_sel || !span_px(self, self->sel_t0, self->sel_t1, &xa, &xb)) return FALSE;
  char d[32];
  g_snprintf(buf, len, "selection %s", weft_format_ns(d, sizeof d, (int64_t)(self->sel_t1 - self->sel_t0)));
  *lw = text_width(self, buf, TRUE);
  *lx = MAX(timeline_x0(self) + 2.0, MIN(xa + 4, timeline_x0(self) + timeline_npx(self) - *lw - 4));
  return TRUE;
}

static void snapshot_ruler(WeftTimeline *self, GtkSnapshot *snapshot, int width, int height) {
  int x0 = timeline_x0(self), npx = timeline_npx(self);
  double npp = ns_per_px(self), step = tick_step(npp, 110);
  gtk_snapshot_append_color(snapshot, &self->pal->chrome, &GRAPHENE_RECT_INIT(0, RULER_TOP, width, RULER_H));
  gtk_snapshot_append_color(snapshot, &self->pal->line, &GRAPHENE_RECT_INIT(0, RULER_TOP + RULER_H - 1, width, 1));
  char buf[64], w[32];
  /* tick labels do not go under the selection's label */
  double sx = 0, sw = -1;
  if (!selection_label(self, buf, sizeof buf, &sx, &sw)) sw = -1;
  /* rows still drawn from an earlier window's folds (stretched) say so */
  g_snprintf(buf, sizeof buf, "window %s%s", weft_format_ns(w, sizeof w, (int64_t)(self->t1 - self->t0)),
             self->worker && self->pending > 0 ? " · updating…" : "");
  snapshot_text(self, snapshot, buf, FALSE, 8, RULER_TOP, LABEL_W - 16, RULER_H, &self->pal->dim_text);
  for (double t = ceil(self->t0 / step) * step; t < self->t1; t += step) {
    int x = x0 + (int)floor((t - self->t0) / npp);
    if (x < x0 || x >= x0 + npx) continue;
    gtk_snapshot_append_color(snapshot, &self->pal->line, &GRAPHENE_RECT_INIT(x, RULER_TOP + RULER_H - 8, 1, 7));
    /* the grid line through the rows */
    gtk_snapshot_append_color(snapshot, &self->pal->grid,
                              &GRAPHENE_RECT_INIT(x, TRACK_TOP, 1, height - TRACK_TOP - LEGEND_H));
    format_tick(buf, sizeof buf, t, step, MAX(fabs(self->t0), fabs(self->t1)));
    if (sw >= 0 && x + 4 < sx + sw + 4 && x + 4 + text_width(self, buf, FALSE) > sx - 4) continue;
    if (x + 4 < x0 + npx - 20)
      snapshot_text(self, snapshot, buf, FALSE, x + 4, RULER_TOP, 100, RULER_H - 6, &self->pal->dim_text);
  }
}

/* The running sum over the whole recording, one value per pixel of npx.
 * While the window is the whole recording (the first frames) it is the sum
 * of the rows' folds, which the worker delivers (NULL until they are all
 * there); otherwise every thread is folded here, once per width. */
/* The overview of npx pixels, folded on a worker: each thread's running
 * time over the whole recording, summed (OverviewJob). */
typedef struct {
  WeftSessionReader *reader;
  guint nthreads;
  int npx;
  double npp;
} OverviewJob;

static void overview_job_free(OverviewJob *j) {
  weft_session_reader_free(j->reader);
  g_free(j);
}

static void overview_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  OverviewJob *job = data;
  double *v = g_new0(double, job->npx);
  WeftPixel *px = g_new(WeftPixel, job->npx);
  for (guint i = 0; i < job->nthreads && !g_cancellable_is_cancelled(cancellable); i++) {
    weft_session_reader_fold(job->reader, i, 0, job->npp, job->npx, px);
    for (int p = 0; p < job->npx; p++) v[p] += px[p].running;
  }
  g_free(px);
  g_task_return_pointer(task, v, g_free);
}

/* data: a reference to the timeline */
static void on_overview_folded(GObject *source, GAsyncResult *res, gpointer data) {
  WeftTimeline *self = data;
  GError *error = NULL;
  double *v = g_task_propagate_pointer(G_TASK(res), &error);
  if (v && !g_cancellable_is_cancelled(g_task_get_cancellable(G_TASK(res)))) {
    g_free(self->overview);
    self->overview = v;
    self->overview_npx = self->overview_want;
    v = NULL;
    gtk_widget_queue_draw(GTK_WIDGET(self));
  }
  if (g_task_get_cancellable(G_TASK(res)) == self->overview_cancel) g_clear_object(&self->overview_cancel);
  g_free(v);
  g_clear_error(&error);
  g_object_unref(self);
}

static void overview_start(WeftTimeline *self, int npx) {
  if (self->overview_cancel && self->overview_want == npx) return; /* on its way */
  if (self->overview_cancel) g_cancellable_cancel(self->overview_cancel);
  g_clear_object(&self->overview_cancel);
  GError *error = NULL;
  WeftSessionReader *reader = weft_session_reader_new(self->session, &error);
  if (!reader) {
    g_warning("weft-gui: no overview: %s", error->message);
    g_error_free(error);
    return;
  }
  OverviewJob *job = g_new0(OverviewJob, 1);
  job->reader = reader;
  job->nthreads = weft_session_get_n_threads(self->session);
  job->npx = npx;
  job->npp = end_ns(self) / npx;
  self->overview_cancel = g_cancellable_new();
  self->overview_want = npx;
  GTask *task = g_task_new(NULL, self->overview_cancel, on_overview_folded, g_object_ref(self));
  g_task_set_task_data(task, job, (GDestroyNotify)overview_job_free);
  g_task_run_in_thread(task, overview_thread);
  g_object_unref(task);
}

/* The running sum over the whole recording, one value per pixel of npx.
 * While the window is the whole recording (the first frames) it is the sum
 * of the rows' folds, which the worker delivers (NULL until they are all
 * there); otherwise a worker folds every thread, once per width (NULL until
 * it is done). */
static const double *overview_values(WeftTimeline *self, int npx) {
  if (self->overview && self->overview_npx == npx) return self->overview;
  guint n = weft_session_get_n_threads(self->session);
  if (self->rows && self->cache_npx == npx && self->cache_t0 == 0 && self->cache_t1 == end_ns(self)) {
    for (guint i = 0; i < n; i++)
      if (!self->rows[i]) return NULL;
    g_free(self->overview);
    self->overview = g_new0(double, npx);
    self->overview_npx = npx;
    for (guint i = 0; i < n; i++) {
      const WeftPixel *px = self->rows[i];
      for (int p = 0; p < npx; p++) self->overview[p] += px[p].running;
    }
    return self->overview;
  }
  overview_start(self, npx);
  return NULL;
}

/* The overview strip: the number of running threads over the whole
 * recording (scaled to its peak), and the visible window as a box. */
static void snapshot_overview(WeftTimeline *self, GtkSnapshot *snapshot, int width) {
  int npx = timeline_npx(self), x0 = timeline_x0(self);
  int top = OVERVIEW_PAD, ph = OVERVIEW_H - 2 * OVERVIEW_PAD, base = top + ph;
  gtk_snapshot_append_color(snapshot, &self->pal->chrome, &GRAPHENE_RECT_INIT(0, 0, width, OVERVIEW_H));
  gtk_snapshot_append_color(snapshot, &self->pal->overview_bg, &GRAPHENE_RECT_INIT(x0, top, npx, ph));
  const double *v = overview_values(self, npx);
  double peak = 0;
  for (int p = 0; v && p < npx; p++) peak = MAX(peak, v[p]);
  for (int p = 0; p < npx && peak > 0;) {
    int h = (int)round(v[p] / peak * ph), q = p + 1;
    if (v[p] > 0 && h == 0) h = 1;
    while (q < npx) {
      int hq = (int)round(v[q] / peak * ph);
      if (v[q] > 0 && hq == 0) hq = 1;
      if (hq != h) break;
      q++;
    }
    if (h > 0)
      gtk_snapshot_append_color(snapshot, &self->pal->overview_fill, &GRAPHENE_RECT_INIT(x0 + p, base - h, q - p, h));
    p = q;
  }
  /* the visible window, at least 3 px wide */
  double e = end_ns(self);
  double a = x0 + CLAMP(self->t0 / e, 0, 1) * npx, b = x0 + CLAMP(self->t1 / e, 0, 1) * npx;
  if (b - a < 3) {
    double c = (a + b) / 2;
    a = c - 1.5, b = c + 1.5;
  }
  gtk_snapshot_append_color(snapshot, &self->pal->window_fill, &GRAPHENE_RECT_INIT(a, 1, b - a, OVERVIEW_H - 2));
  gtk_snapshot_append_color(snapshot, &self->pal->window, &GRAPHENE_RECT_INIT(a, 1, b - a, 1));
  gtk_snapshot_append_color(snapshot, &self->pal->window, &GRAPHENE_RECT_INIT(a, OVERVIEW_H - 2, b - a, 1));
  gtk_snapshot_append_color(snapshot, &self->pal->window, &GRAPHENE_RECT_INIT(a, 1, 1, OVERVIEW_H - 2));
  gtk_snapshot_append_color(snapshot, &self->pal->window, &GRAPHENE_RECT_INIT(b - 1, 1, 1, OVERVIEW_H - 2));
  snapshot_text(self, snapshot, "overview", TRUE, 8, 0, LABEL_W - 16, OVERVIEW_H, &self->pal->text);
  gtk_snapshot_append_color(snapshot, &self->pal->line, &GRAPHENE_RECT_INIT(0, OVERVIEW_H - 1, width, 1));
}

/* x of time t in widget coordinates (not clamped). */
static double time_x(WeftTimeline *self, double t) { return timeline_x0(self) + (t - self->t0) / ns_per_px(self); }

/* [a, b) in time as a pixel span clipped to the timeline, at least 1 px wide;
 * FALSE when outside it. */
static gboolean span_px(WeftTimeline *self, double a, double b, double *xa, double *xb) {
  int x0 = timeline_x0(self), x1 = x0 + timeline_npx(self);
  double pa = time_x(self, a), pb = time_x(self, b);
  if (pb < x0 || pa >= x1) return FALSE;
  pa = MAX(pa, x0);
  pb = MIN(pb, x1);
  if (pb - pa < 1) pb = pa + 1;
  *xa = floor(pa);
  *xb = ceil(pb);
  return TRUE;
}

/* A legend swatch at x, y: color, hatched or not. */
static void legend_swatch(GtkSnapshot *snapshot, const GdkRGBA *color, gboolean hatched, double x, int y) {
  gtk_snapshot_append_color(snapshot, color, &GRAPHENE_RECT_INIT((float)x, y, 12, 12));
  if (!hatched) return;
  guint32 c = hatch_of(argb(color));
  GdkRGBA h = {(c >> 16 & 0xff) / 255.f, (c >> 8 & 0xff) / 255.f, (c & 0xff) / 255.f, 1};
  for (int dy = 0; dy < 12; dy++)
    for (int dx = 0; dx < 12; dx++)
      if (hatched_at(dx, dy)) gtk_snapshot_append_color(snapshot, &h, &GRAPHENE_RECT_INIT((float)x + dx, y + dy, 1, 1));
}

/* The legend: the states that occur, the running state as its three parts
 * when the recording has scheduler readings, the hatch, the wait mark. */
static void snapshot_legend(WeftTimeline *self, GtkSnapshot *snapshot, int width, int height) {
  int y = height - LEGEND_H;
  gtk_snapshot_append_color(snapshot, &self->pal->chrome, &GRAPHENE_RECT_INIT(0, y, width, LEGEND_H));
  gtk_snapshot_append_color(snapshot, &self->pal->line, &GRAPHENE_RECT_INIT(0, y, width, 1));
  guint32 present = self->session ? weft_session_get_states_present(self->session) : 1;
  gboolean split = self->session && weft_session_has_readings(self->session);
  typedef struct {
    const char *name;
    const GdkRGBA *color;
    gboolean hatched;
  } Item;
  Item items[WEFT_ST_COUNT + 4];
  guint n = 0;
  for (int s = 0; s < WEFT_ST_COUNT; s++) {
    if (!(present & (1u << s))) continue;
    if (s != WEFT_ST_RUNNING || !split) {
      items[n++] = (Item){weft_state_name(s), &self->pal->state[s], FALSE};
      continue;
    }
    items[n++] = (Item){"on a CPU", &self->pal->state[s], FALSE};
    items[n++] = (Item){"runnable", &self->pal->runnable, FALSE};
    items[n++] = (Item){"off a CPU", &self->pal->offcpu, FALSE};
  }
  if (present & 1u << WEFT_ST_RUNNING)
    items[n++] = (Item){"known only in total", &self->pal->state[WEFT_ST_RUNNING], TRUE};
  double x = 8;
  for (guint k = 0; k < n; k++) {
    legend_swatch(snapshot, items[k].color, items[k].hatched, x, y + 8);
    snapshot_text(self, snapshot, items[k].name, FALSE, x + 16, y + 1, -1, LEGEND_H, &self->pal->text);
    x += 16 + text_width(self, items[k].name, FALSE) + 14;
  }
  /* the finding's time marked, or the wait mark: when there is room for it */
  const char *note = self->mark == WEFT_MARK_SERIAL     ? "marked: at most one thread running (Esc clears)"
                     : self->mark == WEFT_MARK_RUNNABLE ? "marked: threads waiting for a CPU (Esc clears)"
                                                        : "lower mark: a wait in the pixel";
  if (x + 4 + text_width(self, note, FALSE) < width - 8)
    snapshot_text(self, snapshot, note, FALSE, x + 4, y + 1, -1, LEGEND_H, &self->pal->dim_text);
}

/* y (widget coordinates) of the middle of thread i's row, or -1 if the row
 * is not shown (collapsed). */
static double thread_row_y(WeftTimeline *self, guint i) {
  for (guint k = 0; k < self->entries->len; k++) {
    Entry *e = &g_array_index(self->entries, Entry, k);
    if (e->kind == ENTRY_THREAD && e->index == i) return ROWS_TOP + e->y - self->scroll_y + e->h / 2.0;
  }
  return -1;
}

/* The row each thread is drawn on (into row: its entry, a collapsed
 * process's header for its folded threads, -1 for none) and the middle of
 * that row (into y, widget coordinates; -1 for none); either may be NULL. */
static void thread_rows(WeftTimeline *self, int *row, double *y) {
  guint nt = n_threads(self);
  for (guint i = 0; i < nt; i++) {
    if (row) row[i] = -1;
    if (y) y[i] = -1;
  }
  for (guint k = 0; k < self->entries->len; k++) {
    const Entry *e = &g_array_index(self->entries, Entry, k);
    guint a = e->kind == ENTRY_THREAD ? e->index : e->t_first, n = e->kind == ENTRY_THREAD ? 1 : e->t_count;
    if (e->kind == ENTRY_LOCK) n = 0;
    for (guint i = a; i < a + n && i < nt; i++) {
      if (row) row[i] = (int)k;
      if (y) y[i] = ROWS_TOP + e->y - self->scroll_y + e->h / 2.0;
    }
  }
}

/* The flow arrows' filter for the window: the kinds shown, the highlighted
 * object or thread when the scope asks for it, and each thread's row. */
static WeftFlowFilter *flow_filter(WeftTimeline *self) {
  guint nt = n_threads(self);
  WeftFlowFilter f = {self->flow_kinds, -1, -1, nt, g_new(int, MAX(nt, 1))};
  if (self->flow_scope == WEFT_FLOWS_OBJECT) f.object_id = self->hl_object;
  if (self->flow_scope == WEFT_FLOWS_THREAD && self->hl_utid >= 0)
    f.thread = weft_session_thread_index(self->session, self->hl_utid);
  thread_rows(self, f.row, NULL);
  WeftFlowFilter *copy = weft_flow_filter_copy(&f);
  g_free(f.row);
  return copy;
}

/* Forget the arrows (the filter or the rows changed): folded, asked for and
 * earlier windows' alike. */
static void forget_flows(WeftTimeline *self) {
  self->flow_gen++;
  if (!self->rows || !self->session) return;
  guint k = flow_item(self);
  if (k >= self->n_items) return;
  g_clear_pointer(&self->rows[k], g_free);
  item_free_prev(&self->prev[k]);
  self->requested[k] = FALSE;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

/* The flows were read (GTK thread); data: a reference to the timeline. */
static void on_flows_read(GObject *source, GAsyncResult *res, gpointer data) {
  WeftTimeline *self = data;
  GError *error = NULL;
  WeftFlows *flows = weft_flows_read_finish(res, &error);
  if (self->flows_loading && g_task_get_cancellable(G_TASK(res)) == self->flows_cancel) {
    self->flows_loading = FALSE;
    g_clear_object(&self->flows_cancel);
    if (flows)
      self->flows = weft_flows_ref(flows);
    else
      g_warning("weft-gui: cannot read the flows: %s", error->message);
    forget_flows(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
  }
  if (flows) weft_flows_unref(flows);
  g_clear_error(&error);
  g_object_unref(self);
}

/* The arrows drawn: the window's, else an earlier window's (at their times) until they come. */
static const WeftFlowSet *drawn_flows(WeftTimeline *self) {
  if (!self->show_flows || !self->rows || !self->session) return NULL;
  guint k = flow_item(self);
  return self->rows[k] ? self->rows[k] : self->prev[k].px;
}

/* The highlighted object's name as read with its waits (on a worker), or
 * its lock lane's, or "#ID" while it is read. */
static void object_label(WeftTimeline *self, int64_t object_id, char *buf, size_t len) {
  const char *name =
      self->hl && weft_highlight_get_object(self->hl) == object_id ? weft_highlight_get_object_name(self->hl) : NULL;
  int lane = name ? -1 : weft_session_lock_index(self->session, object_id);
  if (lane >= 0) name = weft_session_get_lock(self->session, (guint)lane)->name;
  if (name)
    g_strlcpy(buf, name, len);
  else
    g_snprintf(buf, len, "#%" G_GINT64_FORMAT, object_id);
}

/* The arrows over the rows (one cairo node), and what they show in words
 * at the top right of the rows. */
static void snapshot_flows(WeftTimeline *self, GtkSnapshot *snapshot, int width) {
  if (!self->show_flows) return;
  const WeftFlowSet *set = drawn_flows(self);
  int x0 = timeline_x0(self), npx = timeline_npx(self), rh = rows_h(self);
  if (set && set->n_arrows && rh > 0) {
    guint nt = n_threads(self);
    g_autofree double *y_of = g_new(double, MAX(nt, 1));
    thread_rows(self, NULL, y_of);
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(x0, ROWS_TOP, npx, rh));
    if (!self->flow_image) self->flow_image = weft_flow_image_new();
    weft_flows_draw(cr, self->flow_image, set, self->pal, y_of, nt, x0, npx, self->t0, ns_per_px(self));
    cairo_destroy(cr);
  }
  g_clear_pointer(&self->flow_caption, g_free);
  if (self->flows_loading) self->flow_caption = g_strdup("flows: reading…");
  if (!set || self->flows_loading) goto draw;
  self->flow_caption = weft_flow_set_caption(set);
  if (self->flow_scope != WEFT_FLOWS_ALL) {
    char name[512] = "";
    if (self->flow_scope == WEFT_FLOWS_OBJECT && self->hl_object >= 0)
      object_label(self, self->hl_object, name, sizeof name);
    else if (self->flow_scope == WEFT_FLOWS_THREAD && self->hl_utid >= 0)
      weft_session_thread_label(self->session, self->hl_utid, name, sizeof name);
    char *scoped =
        g_strdup_printf("%s · %s%s", self->flow_caption, name[0] ? "only " : "nothing highlighted: all shown", name);
    g_free(self->flow_caption);
    self->flow_caption = scoped;
  }
draw:;
  const char *text = self->flow_caption;
  if (!text) return;
  int tw = MIN(text_width(self, text, FALSE), npx - 8);
  float bx = (float)(x0 + npx - tw - 10), by = ROWS_TOP + 4;
  gtk_snapshot_append_color(snapshot, &self->pal->chrome, &GRAPHENE_RECT_INIT(bx - 4, by, tw + 8, 20));
  gtk_snapshot_append_color(snapshot, &self->pal->line, &GRAPHENE_RECT_INIT(bx - 4, by + 19, tw + 8, 1));
  snapshot_text_mode(self, snapshot, text, FALSE, bx, by, tw, 20, &self->pal->text, TRUE);
}

/* The critical path's bands of the window over the rows (under the arrows). */
static void snapshot_critpath(WeftTimeline *self, GtkSnapshot *snapshot) {
  g_array_set_size(self->crit_bands, 0);
  self->crit_in_window = 0;
  if (!self->show_critpath || !self->critpath) return;
  guint nt = n_threads(self);
  self->crit_in_window =
      weft_critpath_bands(self->critpath, self->t0, ns_per_px(self), timeline_npx(self), self->crit_bands);
  g_autofree double *y_of = g_new(double, MAX(nt, 1));
  thread_rows(self, NULL, y_of);
  weft_critpath_draw(snapshot, self->crit_bands, self->pal, y_of, nt, timeline_x0(self), ROW_H);
}

/* Whether column p (of the track's sums col) is in the marked time. */
static gboolean marked(WeftTimeline *self, const TrackColumn *col, int p) {
  double t = self->t0 + (p + 0.5) * ns_per_px(self);
  if (self->mark == WEFT_MARK_NONE || t < self->mark_t0 || t >= self->mark_t1) return FALSE;
  /* at most one thread running on average in the pixel; at least half a thread runnable */
  return self->mark == WEFT_MARK_SERIAL ? col[p].running <= 1.0 + 1e-6 : col[p].runnable >= 0.5;
}

/* A finding's time (serial phases, threads waiting for a CPU): the marked
 * columns tinted over the rows, a bar under the ruler. */
static void snapshot_mark(WeftTimeline *self, GtkSnapshot *snapshot, int height) {
  if (self->mark == WEFT_MARK_NONE) return;
  int npx = timeline_npx(self), x0 = timeline_x0(self);
  g_autofree TrackColumn *col = g_new(TrackColumn, npx);
  track_columns(self, npx, col);
  float top = TRACK_TOP, h = (float)(height - LEGEND_H - TRACK_TOP);
  for (int p = 0; p < npx;) {
    if (!marked(self, col, p)) {
      p++;
      continue;
    }
    int q = p + 1;
    while (q < npx && marked(self, col, q)) q++;
    gtk_snapshot_append_color(snapshot, &self->pal->mark_fill, &GRAPHENE_RECT_INIT(x0 + p, top, q - p, h));
    gtk_snapshot_append_color(snapshot, &self->pal->mark,
                              &GRAPHENE_RECT_INIT(x0 + p, RULER_TOP + RULER_H - 5, q - p, 4));
    p = q;
  }
}

int64_t weft_timeline_get_marked_ns(WeftTimeline *self) {
  if (!self->session || self->mark == WEFT_MARK_NONE) return 0;
  ensure_cache(self);
  int npx = timeline_npx(self), n = 0;
  g_autofree TrackColumn *col = g_new(TrackColumn, npx);
  track_columns(self, npx, col);
  for (int p = 0; p < npx; p++) n += marked(self, col, p);
  return (int64_t)llround(n * ns_per_px(self));
}

void weft_timeline_set_mark(WeftTimeline *self, WeftMark mark, int64_t start_ns, int64_t end_ns) {
  self->mark = mark;
  self->mark_t0 = (double)start_ns;
  self->mark_t1 = (double)end_ns;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

WeftMark weft_timeline_get_mark(WeftTimeline *self) { return self->mark; }

static void snapshot_selection(WeftTimeline *self, GtkSnapshot *snapshot, int height) {
  double xa, xb;
  if (self->has_span) {
    int i = weft_session_thread_index(self->session, self->span.utid);
    double y = i >= 0 ? thread_row_y(self, (guint)i) : -1;
    if (y >= 0 && span_px(self, self->span.start_ns, self->span.start_ns + self->span.dur_ns, &xa, &xb)) {
      float top = (float)(y - ROW_H / 2.0 + 1), bh = ROW_H - 2;
      gtk_snapshot_append_color(snapshot, &self->pal->span_outline, &GRAPHENE_RECT_INIT(xa - 1, top, xb - xa + 2, 1));
      gtk_snapshot_append_color(snapshot, &self->pal->span_outline,
                                &GRAPHENE_RECT_INIT(xa - 1, top + bh - 1, xb - xa + 2, 1));
      gtk_snapshot_append_color(snapshot, &self->pal->span_outline, &GRAPHENE_RECT_INIT(xa - 1, top, 1, bh));
      gtk_snapshot_append_color(snapshot, &self->pal->span_outline, &GRAPHENE_RECT_INIT(xb, top, 1, bh));
      /* and a white line just inside it, on the bar: the outline stays visible on a black (gil_wait) bar */
      float by = (float)(y - ROW_H / 2.0 + BAR_INSET), ih = ROW_H - 2 * BAR_INSET;
      gtk_snapshot_append_color(snapshot, &self->pal->span_inner, &GRAPHENE_RECT_INIT(xa, by, xb - xa, 1));
      gtk_snapshot_append_color(snapshot, &self->pal->span_inner, &GRAPHENE_RECT_INIT(xa, by + ih - 1, xb - xa, 1));
      if (xb - xa > 4) {
        gtk_snapshot_append_color(snapshot, &self->pal->span_inner, &GRAPHENE_RECT_INIT(xa, by, 1, ih));
        gtk_snapshot_append_color(snapshot, &self->pal->span_inner, &GRAPHENE_RECT_INIT(xb - 1, by, 1, ih));
      }
    }
  }
  if (!self->has_sel || !span_px(self, self->sel_t0, self->sel_t1, &xa, &xb)) return;
  float top = TRACK_TOP, h = (float)(height - LEGEND_H - TRACK_TOP);
  gtk_snapshot_append_color(snapshot, &self->pal->sel_fill, &GRAPHENE_RECT_INIT(xa, top, xb - xa, h));
  if (time_x(self, self->sel_t0) >= timeline_x0(self))
    gtk_snapshot_append_color(snapshot, &self->pal->sel_edge, &GRAPHENE_RECT_INIT(xa, RULER_TOP, 1, h + RULER_H));
  if (time_x(self, self->sel_t1) <= timeline_x0(self) + timeline_npx(self))
    gtk_snapshot_append_color(snapshot, &self->pal->sel_edge, &GRAPHENE_RECT_INIT(xb - 1, RULER_TOP, 1, h + RULER_H));
  char buf[64];
  double lx, lw;
  if (!selection_label(self, buf, sizeof buf, &lx, &lw)) return;
  gtk_snapshot_append_color(snapshot, &self->pal->chrome,
                            &GRAPHENE_RECT_INIT((float)lx - 2, RULER_TOP + 2, (float)lw + 4, RULER_H - 10));
  snapshot_text(self, snapshot, buf, TRUE, lx, RULER_TOP, (int)ceil(lw) + 2, RULER_H - 6, &self->pal->sel_edge);
}

/* A host header's text: open, across the rows, "▾ host beta · 3 processes ·
 * clock -5.04 ms ± 19.9 µs, from 42 messages"; folded, in the label column
 * (its summary right of it), "▸ beta (3 processes)": the threads are in its
 * tooltip, the column has no room for them. */
static const char *host_label(WeftTimeline *self, const Entry *e, char *buf, size_t len) {
  const WeftSessionHost *h = weft_session_get_host(self->session, e->index);
  const char *name = *h->name ? h->name : "(unnamed)";
  if (e->t_count || (self->host_fold && self->host_fold[e->index] != WEFT_FOLD_OPEN)) {
    g_snprintf(buf, len, "\u25b8 %s (%u process%s)", name, e->n_procs, e->n_procs == 1 ? "" : "es");
  } else {
    char clock[128];
    g_snprintf(buf, len, "\u25be host %s \u00b7 %u process%s \u00b7 %s", name, e->n_procs, e->n_procs == 1 ? "" : "es",
               weft_session_host_clock(self->session, e->index, clock, sizeof clock));
  }
  return buf;
}

static const char *fit_label(WeftTimeline *self, const char *text, gboolean bold, int width);

/* A replayed group's header (its title, where it ends against the recording) or a replayed thread's label
 * (dim: the header says it is replayed). */
static void snapshot_replay_entry(WeftTimeline *self, GtkSnapshot *snapshot, const Entry *e, int y, int width) {
  const WeftReplayRowSet *set = &self->replay->sets[e->index];
  char buf[512], a[32], b[32];
  if (e->kind == ENTRY_REPLAY_HEAD) {
    int64_t rec = self->replay->recorded_end_ns;
    g_snprintf(buf, sizeof buf, "%s \u2014 ends at %s (the recording at %s)", set->title,
               weft_format_ns(a, sizeof a, set->end_ns), weft_format_ns(b, sizeof b, rec));
    snapshot_text(self, snapshot, buf, TRUE, 6, y, width - 12, e->h, &self->pal->text);
    return;
  }
  const WeftReplayRow *r = &set->rows[e->t_first];
  int ti = weft_session_thread_index(self->session, r->utid);
  const WeftSessionThread *t = ti >= 0 ? weft_session_get_thread(self->session, (guint)ti) : NULL;
  GdkRGBA hue = thread_color(ti >= 0 ? (guint)ti : 0);
  if (t) gtk_snapshot_append_color(snapshot, &hue, &GRAPHENE_RECT_INIT(6, y + (e->h - SWATCH) / 2, SWATCH, SWATCH));
  if (t)
    g_snprintf(buf, sizeof buf, "%s [%d]", t->name, t->tid);
  else
    g_snprintf(buf, sizeof buf, "thread %" G_GINT64_FORMAT, r->utid);
  snapshot_text(self, snapshot, fit_label(self, buf, FALSE, LABEL_W - 26), FALSE, 18, y, LABEL_W - 26, e->h,
                &self->pal->dim_text);
}

static void weft_timeline_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  WeftTimeline *self = WEFT_TIMELINE(widget);
  int width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
  gtk_snapshot_append_color(snapshot, &self->pal->bg, &GRAPHENE_RECT_INIT(0, 0, width, height));
  if (!self->session) {
    snapshot_text(self, snapshot, "No recording. Open one with Ctrl+O, or drop a .db file here.", FALSE, 24, 0,
                  MAX(0, width - 48), height, &self->pal->dim_text);
    return;
  }
  if (self->scroll_to >= 0 && rows_h(self) > 0) {
    self->scroll_y = self->scroll_to;
    self->scroll_to = -1;
  }
  clamp_scroll(self);
  apply_results(self);
  request_frame(self);
  int top = ROWS_TOP, rh = rows_h(self);
  gtk_snapshot_push_clip(snapshot, &GRAPHENE_RECT_INIT(0, top, width, rh));
  guint row = 0;
  /* backgrounds first, then the ruler's grid lines over them, then bars */
  for (guint k = 0; k < self->entries->len; k++) {
    Entry *e = &g_array_index(self->entries, Entry, k);
    int y = top + e->y - (int)self->scroll_y;
    if (e->kind == ENTRY_PROCESS || e->kind == ENTRY_HOST || e->kind == ENTRY_REPLAY_HEAD) row = 0;
    if (y + e->h < top || y >= top + rh) {
      row++;
      continue;
    }
    if (e->kind == ENTRY_HOST || e->kind == ENTRY_REPLAY_HEAD) {
      gtk_snapshot_append_color(snapshot, &self->pal->host, &GRAPHENE_RECT_INIT(0, y, width, e->h));
      gtk_snapshot_append_color(snapshot, &self->pal->line, &GRAPHENE_RECT_INIT(0, y, width, 1));
    } else if (e->kind == ENTRY_REPLAY) {
      if (row % 2 == 0)
        gtk_snapshot_append_color(snapshot, &self->pal->row_alt, &GRAPHENE_RECT_INIT(0, y, width, e->h));
    } else if (e->kind == ENTRY_PROCESS)
      gtk_snapshot_append_color(snapshot, &self->pal->proc, &GRAPHENE_RECT_INIT(0, y, width, e->h));
    else if (e->kind == ENTRY_LOCK)
      gtk_snapshot_append_color(snapshot, &self->pal->lane_bg, &GRAPHENE_RECT_INIT(0, y, width, e->h));
    else if (self->hl_utid >= 0 && weft_session_get_thread(self->session, e->index)->utid == self->hl_utid)
      gtk_snapshot_append_color(snapshot, &self->pal->hl_row, &GRAPHENE_RECT_INIT(0, y, width, e->h));
    else if (row % 2 == 0)
      gtk_snapshot_append_color(snapshot, &self->pal->row_alt, &GRAPHENE_RECT_INIT(0, y, width, e->h));
    row++;
  }
  gtk_snapshot_pop(snapshot);
  snapshot_overview(self, snapshot, width);
  snapshot_ruler(self, snapshot, width, height);
  snapshot_track(self, snapshot, width);
  gtk_snapshot_push_clip(snapshot, &GRAPHENE_RECT_INIT(0, top, width, rh));
  Canvas cv = {NULL, timeline_npx(self), rh, 0, NULL};
  if (rh > 0) {
    if (!self->canvas || cairo_image_surface_get_width(self->canvas) != cv.w ||
        cairo_image_surface_get_height(self->canvas) != cv.h) {
      g_clear_pointer(&self->canvas, cairo_surface_destroy);
      self->canvas = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, cv.w, cv.h);
    }
    if (cairo_surface_status(self->canvas) == CAIRO_STATUS_SUCCESS) {
      cairo_surface_flush(self->canvas);
      cv.px = (guint32 *)(void *)cairo_image_surface_get_data(self->canvas);
      cv.stride = cairo_image_surface_get_stride(self->canvas) / 4;
      cv.written = g_malloc0(cv.h);
    }
  }
  for (guint k = 0; k < self->entries->len; k++) {
    Entry *e = &g_array_index(self->entries, Entry, k);
    int y = top + e->y - (int)self->scroll_y;
    if (y + e->h < top || y >= top + rh) continue;
    char buf[512];
    if (e->kind == ENTRY_REPLAY_HEAD || e->kind == ENTRY_REPLAY) {
      snapshot_replay_entry(self, snapshot, e, y, width);
      if (e->kind == ENTRY_REPLAY && cv.px) fill_replay(self, &cv, e, y - top);
    } else if (e->kind == ENTRY_HOST) {
      gboolean folded = e->t_count > 0 || self->host_fold[e->index] != WEFT_FOLD_OPEN;
      snapshot_text(self, snapshot, host_label(self, e, buf, sizeof buf), TRUE, 6, y,
                    folded ? LABEL_W - 10 : width - 12, e->h, &self->pal->text);
      if (folded && cv.px) fill_summary(self, &cv, e, y - top);
    } else if (e->kind == ENTRY_PROCESS) {
      const WeftSessionProcess *p = weft_session_get_process(self->session, e->index);
      gboolean folded = e->t_count > 0 || self->fold[e->index] != WEFT_FOLD_OPEN;
      const char *arrow = folded ? "\u25b8" : "\u25be";
      /* (a folded header, in the label column, names the program without its directory) */
      const char *exe = folded && strrchr(p->exe, '/') ? strrchr(p->exe, '/') + 1 : p->exe;
      if (p->n_images > 1)
        g_snprintf(buf, sizeof buf, "%s %d %s (image %d)", arrow, p->pid, exe, p->image);
      else
        g_snprintf(buf, sizeof buf, "%s %d %s", arrow, p->pid, exe);
      if (folded) {
        size_t n = strlen(buf);
        if (e->n_procs > 1)
          g_snprintf(buf + n, sizeof buf - n, " (+%u processes, %u threads)", e->n_procs - 1, e->t_count);
        else
          g_snprintf(buf + n, sizeof buf - n, " (%u thread%s)", e->t_count, e->t_count == 1 ? "" : "s");
      }
      /* a folded header's summary fills the timeline: its label stays in the label column */
      int lw = folded ? LABEL_W - 10 - 12 * p->depth : width - 12 - 12 * p->depth;
      snapshot_text(self, snapshot, buf, TRUE, 6 + 12 * p->depth, y, lw, e->h, &self->pal->text);
      if (folded && cv.px) fill_summary(self, &cv, e, y - top);
    } else if (e->kind == ENTRY_LOCK) {
      const WeftSessionLock *l = weft_session_get_lock(self->session, e->index);
      if (l->object_id == self->hl_object)
        gtk_snapshot_append_color(snapshot, &self->pal->hl_hold, &GRAPHENE_RECT_INIT(0, y, 4, e->h));
      snapshot_text(self, snapshot, weft_timeline_get_lane_label(self, e->index), l->object_id == self->hl_object, 18,
                    y, -1, e->h, &self->pal->dim_text);
      if (cv.px) fill_lane(self, &cv, e->index, y - top);
    } else {
      const WeftSessionThread *t = weft_session_get_thread(self->session, e->index);
      GdkRGBA hue = thread_color(e->index);
      gtk_snapshot_append_color(snapshot, &hue, &GRAPHENE_RECT_INIT(6, y + (e->h - SWATCH) / 2, SWATCH, SWATCH));
      gboolean hl = t->utid == self->hl_utid;
      if (hl) gtk_snapshot_append_color(snapshot, &self->pal->sel_edge, &GRAPHENE_RECT_INIT(0, y, 3, e->h));
      /* the name cut at its end (its start says most: "ThreadPoolExecutor-0_1 (_wo…"), the tid
       * always whole, at the right */
      g_snprintf(buf, sizeof buf, "[%d]", t->tid);
      int tw = 0, th = 0;
      pango_layout_get_pixel_size(label_layout(self, buf, hl, -1, FALSE), &tw, &th);
      int nw = LABEL_W - 26 - tw - 4;
      int fw = 0;
      pango_layout_get_pixel_size(label_layout(self, t->name, hl, -1, FALSE), &fw, &th);
      if (fw <= nw) { /* fits: "name [tid]" as before */
        char full[600];
        g_snprintf(full, sizeof full, "%s [%d]", t->name, t->tid);
        snapshot_text(self, snapshot, full, hl, 18, y, LABEL_W - 26, e->h, &self->pal->text);
      } else {
        snapshot_text_mode(self, snapshot, t->name, hl, 18, y, nw, e->h, &self->pal->text, TRUE);
        snapshot_text(self, snapshot, buf, hl, 18 + nw + 4, y, tw + 1, e->h, &self->pal->text);
      }
      if (cv.px) fill_bar(self, &cv, e->index, y - top);
    }
  }
  if (cv.px) {
    for (int r = 0; r < cv.h; r++)
      if (!cv.written[r]) memset(cv.px + (size_t)r * cv.stride, 0, sizeof(guint32) * cv.w);
    g_free(cv.written);
    cairo_surface_mark_dirty(self->canvas);
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(timeline_x0(self), top, cv.w, cv.h));
    cairo_set_source_surface(cr, self->canvas, timeline_x0(self), top);
    cairo_paint(cr);
    cairo_destroy(cr);
  }
  gtk_snapshot_append_color(snapshot, &self->pal->line, &GRAPHENE_RECT_INIT(LABEL_W - 1, top, 1, rh));
  gtk_snapshot_push_clip(snapshot, &GRAPHENE_RECT_INIT(timeline_x0(self), top, timeline_npx(self), rh));
  snapshot_critpath(self, snapshot);
  snapshot_flows(self, snapshot, width);
  gtk_snapshot_pop(snapshot);
  gtk_snapshot_pop(snapshot);
  snapshot_mark(self, snapshot, height);
  snapshot_selection(self, snapshot, height);
  snapshot_legend(self, snapshot, width, height);
}

static void weft_timeline_measure(GtkWidget *widget, GtkOrientation orientation, int for_size, int *minimum,
                                  int *natural, int *minimum_baseline, int *natural_baseline) {
  WeftTimeline *self = WEFT_TIMELINE(widget);
  if (orientation == GTK_ORIENTATION_HORIZONTAL) {
    *minimum = LABEL_W + RIGHT_M + 100;
    *natural = 1000;
  } else {
    *minimum = ROWS_TOP + LEGEND_H + ROW_H * 2;
    *natural = ROWS_TOP + LEGEND_H + MAX(self->content_h, ROW_H * 4);
  }
}

static void weft_timeline_size_allocate(GtkWidget *widget, int width, int height, int baseline) {
  WeftTimeline *self = WEFT_TIMELINE(widget);
  clamp_scroll(self);
  invalidate(self);
}

/* The entry under y (widget coordinates), or NULL. */
static Entry *entry_at(WeftTimeline *self, double y) {
  if (y < ROWS_TOP || y >= ROWS_TOP + rows_h(self)) return NULL;
  double cy = y - ROWS_TOP + self->scroll_y;
  for (guint k = 0; k < self->entries->len; k++) {
    Entry *e = &g_array_index(self->entries, Entry, k);
    if (cy >= e->y && cy < e->y + e->h) return e;
  }
  return NULL;
}

/* A running span's tooltip: how its interval between scheduler readings
 * split its running time (the only thing known about it). */
static void append_cpu_split(GString *s, const WeftHoverSpan *h) {
  const WeftCpuInterval *x = &h->cpu;
  char a[32], b[32];
  if (!h->has_cpu) return;
  if (!x->measured) {
    g_string_append(s, "\nno scheduler reading covers it: counted as on a CPU, as the report does");
    return;
  }
  double run = (double)MAX(x->run_ns, 1);
  g_string_append_printf(s,
                         "\nbetween the scheduler readings at %s and %s, of its running time: %.0f%% on a CPU, "
                         "%.0f%% runnable, %.0f%% off a CPU <i>(only these totals are known, not when)</i>",
                         weft_format_ns(a, sizeof a, x->start_ns), weft_format_ns(b, sizeof b, x->end_ns),
                         100 * (double)x->oncpu_ns / run, 100 * (double)x->runnable_ns / run,
                         100 * (double)x->offcpu_ns / run);
}

/* The running track's tooltip: the column's threads on a CPU and runnable. */
static char *track_tooltip(WeftTimeline *self, int x) {
  int p = x - timeline_x0(self), npx = timeline_npx(self), ncpus = weft_session_get_ncpus(self->session);
  if (p < 0 || p >= npx) return NULL;
  g_autofree TrackColumn *col = g_new(TrackColumn, npx);
  track_columns(self, npx, col);
  char cpus[32] = "";
  if (ncpus > 0) g_snprintf(cpus, sizeof cpus, " (of %d CPU%s)", ncpus, ncpus == 1 ? "" : "s");
  return g_strdup_printf("<b>%.2f</b> threads on a CPU%s, <b>%.2f</b> runnable, on average in this pixel%s", col[p].on,
                         cpus, col[p].runnable,
                         col[p].estimated > 0.5 ? "\n<i>spread from totals between scheduler readings</i>" : "");
}

/* A host header's tooltip: its name and id, what it holds, how its clock was
 * put on the reference's (docs/schema.md "host"). */
static char *host_tooltip(WeftTimeline *self, const Entry *e) {
  const WeftSessionHost *h = weft_session_get_host(self->session, e->index);
  guint t0 = weft_fold_first_thread(self->session, h->first_process);
  guint nt = weft_fold_first_thread(self->session, h->first_process + h->n_processes) - t0;
  char clock[128], a[32], b[32];
  GString *s = g_string_new(NULL);
  char *esc = g_markup_printf_escaped("<b>host %s</b> (%s)\n%u process%s, %u thread%s\n%s", h->name, h->host_id,
                                      h->n_processes, h->n_processes == 1 ? "" : "es", nt, nt == 1 ? "" : "s",
                                      weft_session_host_clock(self->session, e->index, clock, sizeof clock));
  g_string_append(s, esc);
  g_free(esc);
  if (e->index == 0)
    g_string_append(s, ": every time of the recording is on it");
  else if (h->messages > 0)
    g_string_append_printf(s, "\nat %s, drift %.1f ppm, beyond its wall clock",
                           weft_format_ns(a, sizeof a, h->offset_at_ns), h->drift_ppm);
  else
    g_string_append(s, "\n<i>no message with the other hosts: its uncertainty is their NTP's</i>");
  if (e->index > 0)
    g_string_append_printf(s, "\nwall-clock anchors: %s", weft_format_ns(b, sizeof b, h->anchor_shift_ns));
  return g_string_free(s, FALSE);
}

/* A process header's tooltip, with two hosts or more (the label does not
 * name its host): the process and its host. */
static char *process_tooltip(WeftTimeline *self, const Entry *e) {
  if (!grouped(self)) return NULL;
  const WeftSessionProcess *p = weft_session_get_process(self->session, e->index);
  return g_markup_printf_escaped("<b>%d %s</b>\non host %s", p->pid, p->exe,
                                 weft_session_get_host(self->session, p->host)->name);
}

/* "\non host beta" after a thread's tooltip, with two hosts or more. */
static void append_host(WeftTimeline *self, GString *s, const WeftSessionThread *th) {
  const char *host = weft_session_thread_host_name(self->session, th->utid);
  if (!host) return;
  char *esc = g_markup_escape_text(host, -1);
  g_string_append_printf(s, "\non host %s", esc);
  g_free(esc);
}

/* A lock lane's tooltip: the lock and its holder in the pixel under x;
 * NULL and *loading while the lane is folded. */
static char *lock_tooltip(WeftTimeline *self, const Entry *e, int x, gboolean *loading) {
  const WeftSessionLock *l = weft_session_get_lock(self->session, e->index);
  int p = x - timeline_x0(self);
  const WeftHoldPixel *px = NULL;
  if (p >= 0 && p < timeline_npx(self) && !(px = tooltip_pixels(self, n_threads(self) + e->index))) {
    *loading = TRUE;
    return NULL;
  }
  char *esc = g_markup_escape_text(l->name, -1);
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "<b>lock %s</b>", esc);
  g_free(esc);
  if (px && px[p].holder >= 0) {
    char lbl[512];
    const WeftSessionThread *h = weft_session_get_thread(self->session, (guint)px[p].holder);
    esc = g_markup_escape_text(weft_session_thread_label(self->session, h->utid, lbl, sizeof lbl), -1);
    g_string_append_printf(s, "\nheld by: %s", esc);
    g_free(esc);
    if (px[p].nholders > 1) g_string_append_printf(s, "\n<i>this pixel merges holds of %d threads</i>", px[p].nholders);
  } else if (px) {
    g_string_append(s, "\nnot held");
  }
  return g_string_free(s, FALSE);
}

static void on_tip_read(GObject *source, GAsyncResult *result, gpointer data) {
  WeftTimeline *self = data;
  GError *error = NULL;
  WeftHoverSpan *h = weft_hover_read_finish(result, &error);
  if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    /* the read asked last (an older one was cancelled): a failed read shows nothing, as no span */
    if (!h) {
      h = g_new0(WeftHoverSpan, 1);
      h->thread = self->tip_thread;
      h->t = self->tip_t;
    }
    g_clear_object(&self->tip_cancel);
    g_clear_pointer(&self->tip, weft_hover_span_free);
    self->tip = g_steal_pointer(&h);
    gtk_widget_trigger_tooltip_query(GTK_WIDGET(self));
  }
  weft_hover_span_free(h);
  g_clear_error(&error);
  g_object_unref(self);
}

/* Forget the hovered span and its read (another session). */
static void forget_tip(WeftTimeline *self) {
  if (self->tip_cancel) g_cancellable_cancel(self->tip_cancel);
  g_clear_object(&self->tip_cancel);
  g_clear_pointer(&self->tip, weft_hover_span_free);
  self->tip_wait_fold = FALSE;
}

/* Thread i's span at t as its tooltip shows it: the last read if it has
 * them, else NULL and a read started (the tooltip is asked again when it
 * arrives). A read of another thread in progress is cancelled; one of the
 * same thread is let finish (it may have t too). */
static const WeftHoverSpan *hovered_span(WeftTimeline *self, guint i, int64_t t) {
  if (weft_hover_span_covers(self->tip, i, t)) return self->tip;
  if (self->tip_cancel && self->tip_thread == i) return NULL;
  if (self->tip_cancel) g_cancellable_cancel(self->tip_cancel);
  g_clear_object(&self->tip_cancel);
  self->tip_thread = i;
  self->tip_t = t;
  self->tip_cancel = g_cancellable_new();
  weft_hover_read_async(self->session, i, t, TRUE, self->tip_cancel, on_tip_read, g_object_ref(self));
  return NULL;
}

/* A thread row's tooltip over the timeline: the span under x, with its
 * object, threads, call stack, CPU split and the pixel's merge; NULL and
 * *loading while the span or the row's fold is read. */
static char *span_tooltip(WeftTimeline *self, const Entry *e, int x, gboolean *loading) {
  const WeftSessionThread *th = weft_session_get_thread(self->session, e->index);
  int p = x - timeline_x0(self);
  if (p >= timeline_npx(self)) return NULL;
  double npp = ns_per_px(self);
  int64_t t = (int64_t)floor(self->t0 + (p + 0.5) * npp);
  if (t < th->start_ns || t >= th->end_ns) return NULL; /* (not alive: no span, nothing to read) */
  const WeftHoverSpan *h = hovered_span(self, e->index, t);
  const WeftPixel *px = tooltip_pixels(self, e->index);
  if (!h || !px) {
    *loading = TRUE;
    return NULL;
  }
  if (!h->found) return NULL;
  const WeftSpan *span = &h->span;
  char a[64], b[64], name[512];
  GString *s = g_string_new(NULL);
  char *esc = g_markup_escape_text(th->name, -1);
  g_string_append_printf(s, "<b>%s</b>  %s\n%s [%d] at %s", weft_state_name(span->state),
                         weft_format_ns(a, sizeof a, span->dur_ns), esc, th->tid,
                         weft_format_instant(b, sizeof b, span->start_ns, span->dur_ns));
  g_free(esc);
  append_host(self, s, th);
  if (h->object) {
    esc = g_markup_escape_text(h->object, -1);
    g_string_append_printf(s, "\nobject: %s", esc);
    g_free(esc);
  }
  if (span->blocker_utid >= 0) {
    esc = g_markup_escape_text(weft_session_thread_label(self->session, span->blocker_utid, name, sizeof name), -1);
    g_string_append_printf(s, "\nheld by: %s", esc);
    g_free(esc);
  }
  if (span->waker_utid >= 0) {
    esc = g_markup_escape_text(weft_session_thread_label(self->session, span->waker_utid, name, sizeof name), -1);
    g_string_append_printf(s, "\nwoken by: %s", esc);
    g_free(esc);
  }
  for (guint k = 0; k < h->stack->len && k < WEFT_HOVER_FRAMES; k++) {
    esc = g_markup_escape_text(g_array_index(h->stack, WeftFrame, k).label, -1);
    g_string_append_printf(s, "%s%s", k == 0 ? "\n<b>call stack</b>\n  " : "\n  ", esc);
    g_free(esc);
  }
  if (h->stack->len > WEFT_HOVER_FRAMES) g_string_append_printf(s, "\n  … %u more", h->stack->len - WEFT_HOVER_FRAMES);
  if (span->state == WEFT_ST_RUNNING) append_cpu_split(s, h);
  if (px[p].nstates > 1)
    g_string_append_printf(s, "\n<i>this pixel (%s) merges %d states; it shows %s%s%s</i>",
                           weft_format_ns(a, sizeof a, (int64_t)npp), px[p].nstates, weft_state_name(px[p].state),
                           px[p].mark != WEFT_PIXEL_NONE ? " with a mark for " : "",
                           px[p].mark != WEFT_PIXEL_NONE ? weft_state_name(px[p].mark) : "");
  return g_string_free(s, FALSE);
}

/* The tooltip at (x, y) (markup), or NULL: none there, or (*loading) not
 * yet, its data being read on a worker. Nothing is read here. */
static char *tooltip_markup(WeftTimeline *self, int x, int y, gboolean *loading) {
  *loading = FALSE;
  if (!self->session) return NULL;
  Entry *e = entry_at(self, y);
  if (e && e->kind == ENTRY_LOCK) return lock_tooltip(self, e, x, loading);
  if (!e && y >= TRACK_TOP && y < ROWS_TOP) return track_tooltip(self, x);
  if (e && e->kind == ENTRY_HOST) return host_tooltip(self, e);
  if (e && e->kind == ENTRY_PROCESS) return process_tooltip(self, e);
  if (!e || e->kind != ENTRY_THREAD) return NULL;
  if (x >= timeline_x0(self)) return span_tooltip(self, e, x, loading);
  const WeftSessionThread *th = weft_session_get_thread(self->session, e->index);
  char a[64], b[64], c[64];
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "<b>%s [%d]</b>\nlived %s … %s (%s)", th->name, th->tid,
                         weft_format_ns(a, sizeof a, th->start_ns), weft_format_ns(b, sizeof b, th->end_ns),
                         weft_format_ns(c, sizeof c, th->end_ns - th->start_ns));
  append_host(self, s, th);
  return g_string_free(s, FALSE);
}

static gboolean weft_timeline_query_tooltip(GtkWidget *widget, int x, int y, gboolean keyboard_mode,
                                            GtkTooltip *tooltip) {
  gboolean loading;
  g_autofree char *markup = tooltip_markup(WEFT_TIMELINE(widget), x, y, &loading);
  if (markup) gtk_tooltip_set_markup(tooltip, markup);
  return markup != NULL;
}

char *weft_timeline_get_tooltip(WeftTimeline *self, double x, double y, gboolean *loading) {
  return tooltip_markup(self, (int)x, (int)y, loading);
}

static gboolean on_scroll(GtkEventControllerScroll *ctl, double dx, double dy, WeftTimeline *self) {
  GdkModifierType mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(ctl));
  if (mods & GDK_CONTROL_MASK) {
    zoom_at(self, pow(ZOOM_STEP, -dy), zoom_anchor(self));
  } else if (mods & GDK_SHIFT_MASK) {
    pan_by(self, (dy + dx) * 0.1);
  } else {
    if (dx != 0) pan_by(self, dx * 0.1);
    if (dy != 0) {
      self->scroll_y += dy * ROW_H * 2;
      clamp_scroll(self);
      gtk_widget_queue_draw(GTK_WIDGET(self));
    }
  }
  return TRUE;
}

static void on_motion(GtkEventControllerMotion *ctl, double x, double y, WeftTimeline *self) {
  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_inside = TRUE;
}

static void on_leave(GtkEventControllerMotion *ctl, WeftTimeline *self) { self->pointer_inside = FALSE; }

static void on_drag_begin(GtkGestureDrag *g, double x, double y, WeftTimeline *self) {
  self->drag_t0 = self->t0;
  self->drag_t1 = self->t1;
  self->drag_scroll_y = self->scroll_y;
  self->drag_x = x;
  self->drag_y = y;
  gtk_widget_grab_focus(GTK_WIDGET(self));
  guint button = gtk_gesture_single_get_current_button(GTK_GESTURE_SINGLE(g));
  GdkModifierType mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(g));
  if (!self->session) {
    self->drag_mode = DRAG_NONE;
  } else if (y < OVERVIEW_H && button == GDK_BUTTON_PRIMARY) {
    self->drag_mode = DRAG_OVERVIEW;
  } else if (button != GDK_BUTTON_PRIMARY || (mods & (GDK_CONTROL_MASK | GDK_SHIFT_MASK)) ||
             (y >= RULER_TOP && y < TRACK_TOP) || x < timeline_x0(self)) {
    self->drag_mode = DRAG_PAN; /* middle or right button, Ctrl/Shift, the ruler, the labels */
  } else {
    self->drag_mode = DRAG_SELECT;
  }
}

/* Centre the window on the recording time under overview x. */
static void overview_jump(WeftTimeline *self, double x) {
  double t = (x - timeline_x0(self)) / timeline_npx(self) * end_ns(self), w = self->t1 - self->t0;
  set_window(self, t - w / 2, t + w / 2);
}

static void on_drag_update(GtkGestureDrag *g, double ox, double oy, WeftTimeline *self) {
  switch (self->drag_mode) {
    case DRAG_PAN: {
      double npp = (self->drag_t1 - self->drag_t0) / timeline_npx(self), t0 = self->drag_t0 - ox * npp;
      set_window(self, t0, t0 + (self->drag_t1 - self->drag_t0));
      self->scroll_y = self->drag_scroll_y - oy;
      clamp_scroll(self);
      gtk_widget_queue_draw(GTK_WIDGET(self));
      break;
    }
    case DRAG_OVERVIEW: overview_jump(self, self->drag_x + ox); break;
    case DRAG_SELECT:
      if (fabs(ox) >= CLICK_SLOP) {
        double npp = ns_per_px(self);
        double a = self->t0 + (self->drag_x - timeline_x0(self)) * npp, b = a + ox * npp;
        weft_timeline_set_selection(self, (int64_t)floor(MIN(a, b)), (int64_t)ceil(MAX(a, b)));
      }
      break;
    default: break;
  }
}

static void clear_highlights(WeftTimeline *self);

/* Forget the clicked span and its read (a new click, a span shown, Esc,
 * another session). */
static void forget_click(WeftTimeline *self) {
  if (self->click_cancel) g_cancellable_cancel(self->click_cancel);
  g_clear_object(&self->click_cancel);
  g_clear_pointer(&self->clicked, weft_hover_span_free);
  if (self->has_span) gtk_widget_queue_draw(GTK_WIDGET(self));
  self->has_span = FALSE;
}

static void on_click_read(GObject *source, GAsyncResult *result, gpointer data) {
  WeftTimeline *self = data;
  GError *error = NULL;
  WeftHoverSpan *h = weft_hover_read_finish(result, &error);
  if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) { /* (else a newer click's, or none, is wanted) */
    g_clear_object(&self->click_cancel);
    if (error) g_printerr("weft-gui: %s\n", error->message);
    int64_t t = self->click_t, utid = -1;
    if (h && h->found) {
      utid = h->span.utid;
      self->has_span = TRUE;
      self->span = h->span;
      self->clicked = g_steal_pointer(&h);
      gtk_widget_queue_draw(GTK_WIDGET(self));
    } else {
      clear_highlights(self);
    }
    g_signal_emit(self, signals[SIG_SPAN_SELECTED], 0, (gint64)utid, (gint64)t);
  }
  weft_hover_span_free(h);
  g_clear_error(&error);
  g_object_unref(self);
}

/* A click on thread i's row at t: the span there is read on a worker (a
 * click before it arrives supersedes it), then outlined and told. */
static void click_thread(WeftTimeline *self, guint i, int64_t t) {
  const WeftSessionThread *th = weft_session_get_thread(self->session, i);
  forget_click(self);
  if (t < th->start_ns || t >= th->end_ns) { /* (not alive: nothing to read) */
    clear_highlights(self);
    return;
  }
  self->click_t = t;
  self->click_cancel = g_cancellable_new();
  weft_hover_read_async(self->session, i, t, FALSE, self->click_cancel, on_click_read, g_object_ref(self));
  g_signal_emit(self, signals[SIG_SPAN_PENDING], 0, (gint64)th->utid, (gint64)t);
}

/* A click (no drag) at x, y. On nothing (under the last row, or where a
 * thread was not alive) it clears the highlights; on a lock lane's label it
 * clears that lock's highlight, or highlights it. */
static void click_at(WeftTimeline *self, double x, double y) {
  if (!self->session || y < ROWS_TOP) return;
  Entry *e = entry_at(self, y);
  if (!e) {
    clear_highlights(self);
    return;
  }
  if (e->kind == ENTRY_PROCESS) {
    weft_timeline_toggle_process(self, e->index);
    return;
  }
  if (e->kind == ENTRY_HOST) {
    weft_timeline_toggle_host(self, e->index);
    return;
  }
  if (e->kind == ENTRY_REPLAY_HEAD || e->kind == ENTRY_REPLAY) return; /* (no spans of the recording there) */
  int p = (int)floor(x) - timeline_x0(self);
  if (p >= timeline_npx(self) || (p < 0 && e->kind != ENTRY_LOCK)) return;
  int64_t t = (int64_t)floor(self->t0 + (MAX(p, 0) + 0.5) * ns_per_px(self));
  if (e->kind == ENTRY_LOCK) {
    const WeftSessionLock *l = weft_session_get_lock(self->session, e->index);
    if (p < 0 && l->object_id == self->hl_object)
      clear_highlights(self);
    else
      g_signal_emit(self, signals[SIG_LOCK_SELECTED], 0, (gint64)l->object_id, (gint64)t);
    return;
  }
  click_thread(self, e->index, t);
}

void weft_timeline_click(WeftTimeline *self, double x, double y) { click_at(self, x, y); }

static void on_drag_end(GtkGestureDrag *g, double ox, double oy, WeftTimeline *self) {
  gboolean click = fabs(ox) < CLICK_SLOP && fabs(oy) < CLICK_SLOP;
  if (click && self->drag_mode == DRAG_SELECT)
    click_at(self, self->drag_x, self->drag_y);
  else if (click && self->drag_mode == DRAG_OVERVIEW)
    overview_jump(self, self->drag_x);
  self->drag_mode = DRAG_NONE;
}

static void action_zoom(GtkWidget *w, const char *name, GVariant *param) {
  WeftTimeline *self = WEFT_TIMELINE(w);
  zoom_at(self, g_str_equal(name, "timeline.zoom-in") ? ZOOM_STEP : 1 / ZOOM_STEP, zoom_anchor(self));
}

static void action_pan(GtkWidget *w, const char *name, GVariant *param) {
  pan_by(WEFT_TIMELINE(w), g_str_equal(name, "timeline.pan-left") ? -0.1 : 0.1);
}

static void action_fit(GtkWidget *w, const char *name, GVariant *param) { weft_timeline_fit(WEFT_TIMELINE(w)); }

static void action_zoom_selection(GtkWidget *w, const char *name, GVariant *param) {
  weft_timeline_zoom_to_selection(WEFT_TIMELINE(w));
}

/* Esc: the selection, the outlined span and the highlights go. */
static void action_clear_selection(GtkWidget *w, const char *name, GVariant *param) {
  WeftTimeline *self = WEFT_TIMELINE(w);
  weft_timeline_set_selection(self, 0, 0);
  gboolean reading = self->click_cancel != NULL;
  forget_click(self);
  if (reading) g_signal_emit(self, signals[SIG_SPAN_SELECTED], 0, (gint64)-1, (gint64)self->click_t);
  clear_highlights(self);
}

static void action_critical_path(GtkWidget *w, const char *name, GVariant *param) {
  WeftTimeline *self = WEFT_TIMELINE(w);
  weft_timeline_set_show_critical_path(self, !self->show_critpath);
}

static void action_replay_rows(GtkWidget *w, const char *name, GVariant *param) {
  WeftTimeline *self = WEFT_TIMELINE(w);
  weft_timeline_set_show_replay(self, !self->show_replay);
}

static void action_flows(GtkWidget *w, const char *name, GVariant *param) {
  WeftTimeline *self = WEFT_TIMELINE(w);
  weft_timeline_set_show_flows(self, !self->show_flows);
}

/* The flows' kinds (the names of --actions) by WeftFlowKind. */
static const char *const flow_action_names[WEFT_FLOW_COUNT] = {
    [WEFT_FLOW_LOCK_HANDOFF] = "timeline.flows-handoff",
    [WEFT_FLOW_WAKEUP] = "timeline.flows-wakeup",
    [WEFT_FLOW_BARRIER] = "timeline.flows-barrier",
    [WEFT_FLOW_SEM_POST] = "timeline.flows-sem-post",
    [WEFT_FLOW_CREATE] = "timeline.flows-create",
    [WEFT_FLOW_JOIN] = "timeline.flows-join",
    [WEFT_FLOW_FORK] = "timeline.flows-fork",
    [WEFT_FLOW_EXEC] = "timeline.flows-exec",
    [WEFT_FLOW_WAIT] = "timeline.flows-wait",
    [WEFT_FLOW_PIPE] = "timeline.flows-pipe",
    [WEFT_FLOW_MPI_MESSAGE] = "timeline.flows-mpi-message",
    [WEFT_FLOW_MPI_COLLECTIVE] = "timeline.flows-mpi-collective",
    [WEFT_FLOW_SOCKET] = "timeline.flows-socket",
};

/* timeline.flows-KIND shows or hides that kind; flows-all, flows-object and
 * flows-thread set the scope. Each shows the flows. */
static void action_flow_filter(GtkWidget *w, const char *name, GVariant *param) {
  WeftTimeline *self = WEFT_TIMELINE(w);
  for (int k = 1; k < WEFT_FLOW_COUNT; k++)
    if (g_str_equal(name, flow_action_names[k])) weft_timeline_set_flow_kinds(self, self->flow_kinds ^ 1u << k);
  if (g_str_equal(name, "timeline.flows-all")) weft_timeline_set_flow_scope(self, WEFT_FLOWS_ALL);
  if (g_str_equal(name, "timeline.flows-object")) weft_timeline_set_flow_scope(self, WEFT_FLOWS_OBJECT);
  if (g_str_equal(name, "timeline.flows-thread")) weft_timeline_set_flow_scope(self, WEFT_FLOWS_THREAD);
  weft_timeline_set_show_flows(self, TRUE);
}

static void action_scroll(GtkWidget *w, const char *name, GVariant *param) {
  WeftTimeline *self = WEFT_TIMELINE(w);
  double page = MAX(ROW_H, rows_h(self) - ROW_H);
  double d = g_str_equal(name, "timeline.row-up")     ? -ROW_H
             : g_str_equal(name, "timeline.row-down") ? ROW_H
             : g_str_equal(name, "timeline.page-up")  ? -page
                                                      : page;
  self->scroll_y += d;
  clamp_scroll(self);
  gtk_widget_queue_draw(w);
}

/* C: every process folds its tree into its header, unless every header
 * shown is folded already: then every process opens. */
static void action_collapse_all(GtkWidget *w, const char *name, GVariant *param) {
  WeftTimeline *self = WEFT_TIMELINE(w);
  if (!self->session) return;
  guint n = weft_session_get_n_processes(self->session);
  gboolean all = TRUE;
  for (guint k = 0; k < self->entries->len; k++) {
    const Entry *e = &g_array_index(self->entries, Entry, k);
    if (e->kind == ENTRY_PROCESS && self->fold[e->index] != WEFT_FOLD_TREE) all = FALSE;
  }
  for (guint i = 0; i < n; i++) self->fold[i] = all ? WEFT_FOLD_OPEN : WEFT_FOLD_TREE;
  rebuild_entries(self);
  gtk_widget_queue_draw(w);
}

static void weft_timeline_get_property(GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
  WeftTimeline *self = WEFT_TIMELINE(object);
  switch (prop_id) {
    case PROP_START_NS: g_value_set_int64(value, (gint64)floor(self->t0)); break;
    case PROP_END_NS: g_value_set_int64(value, (gint64)ceil(self->t1)); break;
    case PROP_SHOW_FLOWS: g_value_set_boolean(value, self->show_flows); break;
    case PROP_FLOW_KINDS: g_value_set_uint(value, self->flow_kinds); break;
    case PROP_FLOW_SCOPE: g_value_set_int(value, self->flow_scope); break;
    case PROP_SHOW_CRITPATH: g_value_set_boolean(value, self->show_critpath); break;
    case PROP_SHOW_REPLAY: g_value_set_boolean(value, self->show_replay); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void weft_timeline_set_property(GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec) {
  WeftTimeline *self = WEFT_TIMELINE(object);
  switch (prop_id) {
    case PROP_START_NS: set_window(self, (double)g_value_get_int64(value), self->t1); break;
    case PROP_END_NS: set_window(self, self->t0, (double)g_value_get_int64(value)); break;
    case PROP_SHOW_FLOWS: weft_timeline_set_show_flows(self, g_value_get_boolean(value)); break;
    case PROP_FLOW_KINDS: weft_timeline_set_flow_kinds(self, g_value_get_uint(value)); break;
    case PROP_FLOW_SCOPE: weft_timeline_set_flow_scope(self, (WeftFlowScope)g_value_get_int(value)); break;
    case PROP_SHOW_CRITPATH: weft_timeline_set_show_critical_path(self, g_value_get_boolean(value)); break;
    case PROP_SHOW_REPLAY: weft_timeline_set_show_replay(self, g_value_get_boolean(value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void weft_timeline_finalize(GObject *object) {
  WeftTimeline *self = WEFT_TIMELINE(object);
  worker_detach(self->worker);
  self->worker = NULL;
  free_cache(self);
  g_clear_pointer(&self->canvas, cairo_surface_destroy);
  g_clear_pointer(&self->track_image, cairo_surface_destroy);
  g_clear_pointer(&self->flow_image, weft_flow_image_free);
  g_hash_table_unref(self->layouts);
  g_hash_table_unref(self->fitted);
  g_free(self->fold);
  g_free(self->host_fold);
  g_free(self->overview);
  if (self->overview_cancel) g_cancellable_cancel(self->overview_cancel);
  g_clear_object(&self->overview_cancel);
  if (self->hl_cancel) g_cancellable_cancel(self->hl_cancel);
  g_clear_object(&self->hl_cancel);
  g_clear_pointer(&self->hl, weft_highlight_unref);
  g_free(self->hl_label);
  if (self->flows_cancel) g_cancellable_cancel(self->flows_cancel);
  g_clear_object(&self->flows_cancel);
  g_clear_pointer(&self->flows, weft_flows_unref);
  g_free(self->flow_caption);
  g_clear_pointer(&self->critpath, weft_critpath_unref);
  g_clear_pointer(&self->replay, weft_replay_rows_unref);
  forget_tip(self);
  forget_click(self);
  g_array_unref(self->crit_bands);
  g_array_unref(self->entries);
  G_OBJECT_CLASS(weft_timeline_parent_class)->finalize(object);
}

/* The theme changed (or the widget got its style): the colours follow it. */
static void weft_timeline_css_changed(GtkWidget *widget, GtkCssStyleChange *change) {
  WeftTimeline *self = WEFT_TIMELINE(widget);
  GTK_WIDGET_CLASS(weft_timeline_parent_class)->css_changed(widget, change);
  const WeftPalette *pal = weft_palette_for(widget);
  if (pal == self->pal) return;
  self->pal = pal;
  gtk_widget_queue_draw(widget);
}

static void weft_timeline_class_init(WeftTimelineClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->finalize = weft_timeline_finalize;
  object_class->get_property = weft_timeline_get_property;
  object_class->set_property = weft_timeline_set_property;
  widget_class->snapshot = weft_timeline_snapshot;
  widget_class->measure = weft_timeline_measure;
  widget_class->size_allocate = weft_timeline_size_allocate;
  widget_class->query_tooltip = weft_timeline_query_tooltip;
  widget_class->css_changed = weft_timeline_css_changed;

  properties[PROP_START_NS] = g_param_spec_int64("start-ns", NULL, "Start of the visible window (ns)", G_MININT64,
                                                 G_MAXINT64, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_END_NS] = g_param_spec_int64("end-ns", NULL, "End of the visible window (ns)", G_MININT64, G_MAXINT64,
                                               0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SHOW_FLOWS] =
      g_param_spec_boolean("show-flows", NULL, "Draw the flow arrows", FALSE,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_FLOW_KINDS] =
      g_param_spec_uint("flow-kinds", NULL, "The kinds of flows drawn (bit k: WeftFlowKind k)", 0, G_MAXUINT, 0,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_FLOW_SCOPE] = g_param_spec_int(
      "flow-scope", NULL, "The flows drawn: all, of the highlighted object, of the highlighted thread", WEFT_FLOWS_ALL,
      WEFT_FLOWS_THREAD, WEFT_FLOWS_ALL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SHOW_CRITPATH] =
      g_param_spec_boolean("show-critical-path", NULL, "Draw the critical path over the rows", FALSE,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SHOW_REPLAY] =
      g_param_spec_boolean("show-replay", NULL, "Draw a what-if's replayed rows under the recorded ones", FALSE,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties(object_class, N_PROPS, properties);

  /* the selected time range changed (weft_timeline_get_selection) */
  signals[SIG_SELECTION_CHANGED] = g_signal_new("selection-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* a thread row was clicked: its utid and the time under the pointer; the span there is read */
  signals[SIG_SPAN_PENDING] = g_signal_new("span-pending", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_INT64);
  /* the clicked span was read (weft_timeline_get_clicked): the thread's utid and the time clicked;
   * utid -1 if nothing was there (or the read failed) */
  signals[SIG_SPAN_SELECTED] = g_signal_new("span-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                            NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_INT64);
  /* a lock lane was clicked: the object and the time under the pointer */
  signals[SIG_LOCK_SELECTED] = g_signal_new("lock-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                            NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_INT64);
  /* the highlighted object's waits and holds were read (or could not be): the object */
  signals[SIG_HIGHLIGHT_READY] = g_signal_new("highlight-ready", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                              NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
  /* the user cleared the highlights (Esc, a click on nothing or on the highlighted lane's label) */
  signals[SIG_HIGHLIGHT_CLEARED] = g_signal_new("highlight-cleared", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                                NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_install_action(widget_class, "timeline.zoom-in", NULL, action_zoom);
  gtk_widget_class_install_action(widget_class, "timeline.zoom-out", NULL, action_zoom);
  gtk_widget_class_install_action(widget_class, "timeline.pan-left", NULL, action_pan);
  gtk_widget_class_install_action(widget_class, "timeline.pan-right", NULL, action_pan);
  gtk_widget_class_install_action(widget_class, "timeline.fit", NULL, action_fit);
  gtk_widget_class_install_action(widget_class, "timeline.zoom-selection", NULL, action_zoom_selection);
  gtk_widget_class_install_action(widget_class, "timeline.clear-selection", NULL, action_clear_selection);
  gtk_widget_class_install_action(widget_class, "timeline.flows", NULL, action_flows);
  gtk_widget_class_install_action(widget_class, "timeline.critical-path", NULL, action_critical_path);
  gtk_widget_class_install_action(widget_class, "timeline.replay-rows", NULL, action_replay_rows);
  for (int k = 1; k < WEFT_FLOW_COUNT; k++)
    gtk_widget_class_install_action(widget_class, flow_action_names[k], NULL, action_flow_filter);
  gtk_widget_class_install_action(widget_class, "timeline.flows-all", NULL, action_flow_filter);
  gtk_widget_class_install_action(widget_class, "timeline.flows-object", NULL, action_flow_filter);
  gtk_widget_class_install_action(widget_class, "timeline.flows-thread", NULL, action_flow_filter);
  gtk_widget_class_install_action(widget_class, "timeline.row-up", NULL, action_scroll);
  gtk_widget_class_install_action(widget_class, "timeline.row-down", NULL, action_scroll);
  gtk_widget_class_install_action(widget_class, "timeline.page-up", NULL, action_scroll);
  gtk_widget_class_install_action(widget_class, "timeline.page-down", NULL, action_scroll);
  gtk_widget_class_install_action(widget_class, "timeline.collapse-all", NULL, action_collapse_all);
  static const struct {
    guint key;
    const char *action;
  } keys[] = {
      {GDK_KEY_w, "timeline.zoom-in"},
      {GDK_KEY_plus, "timeline.zoom-in"},
      {GDK_KEY_equal, "timeline.zoom-in"},
      {GDK_KEY_s, "timeline.zoom-out"},
      {GDK_KEY_minus, "timeline.zoom-out"},
      {GDK_KEY_a, "timeline.pan-left"},
      {GDK_KEY_Left, "timeline.pan-left"},
      {GDK_KEY_d, "timeline.pan-right"},
      {GDK_KEY_Right, "timeline.pan-right"},
      {GDK_KEY_0, "timeline.fit"},
      {GDK_KEY_Home, "timeline.fit"},
      {GDK_KEY_z, "timeline.zoom-selection"},
      {GDK_KEY_Escape, "timeline.clear-selection"},
      {GDK_KEY_f, "timeline.flows"},
      {GDK_KEY_p, "timeline.critical-path"},
      {GDK_KEY_Up, "timeline.row-up"},
      {GDK_KEY_Down, "timeline.row-down"},
      {GDK_KEY_Page_Up, "timeline.page-up"},
      {GDK_KEY_Page_Down, "timeline.page-down"},
      {GDK_KEY_c, "timeline.collapse-all"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    gtk_widget_class_add_binding_action(widget_class, keys[i].key, 0, keys[i].action, NULL);
  /* (Shift+R: the keyval is R with the shift unconsumed, r where the layout says so) */
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_R, GDK_SHIFT_MASK, "timeline.replay-rows", NULL);
  gtk_widget_class_add_binding_action(widget_class, GDK_KEY_r, GDK_SHIFT_MASK, "timeline.replay-rows", NULL);
  gtk_widget_class_set_css_name(widget_class, "weft-timeline");
  gtk_widget_class_set_accessible_role(widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void on_pinch_begin(GtkGesture *g, GdkEventSequence *seq, WeftTimeline *self) {
  self->drag_t0 = self->t0;
  self->drag_t1 = self->t1;
}

/* Pinch: zoom about the gesture's centre, relative to the window at its start. */
static void on_pinch(GtkGestureZoom *g, double scale, WeftTimeline *self) {
  double cx, cy;
  if (scale <= 0 || !gtk_gesture_get_bounding_box_center(GTK_GESTURE(g), &cx, &cy)) return;
  double w0 = self->drag_t1 - self->drag_t0, frac = CLAMP((cx - timeline_x0(self)) / timeline_npx(self), 0, 1);
  double t = self->drag_t0 + frac * w0, w = w0 / scale;
  set_window(self, t - frac * w, t - frac * w + w);
}

static void weft_timeline_init(WeftTimeline *self) {
  self->entries = g_array_new(FALSE, TRUE, sizeof(Entry));
  self->crit_bands = g_array_new(FALSE, FALSE, sizeof(WeftCritBand));
  self->pal = weft_palette_light();
  self->flow_kinds = (1u << WEFT_FLOW_COUNT) - 1; /* every kind */
  self->hl_object = -1;
  self->hl_utid = -1;
  self->scroll_to = -1;
  self->label_w = LABEL_W_MIN;
  self->async = TRUE;
  self->layouts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
  self->fitted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  self->t0 = 0;
  self->t1 = 1e6;
  gtk_widget_set_focusable(GTK_WIDGET(self), TRUE);
  gtk_widget_set_has_tooltip(GTK_WIDGET(self), TRUE);
  gtk_widget_set_hexpand(GTK_WIDGET(self), TRUE);
  gtk_widget_set_vexpand(GTK_WIDGET(self), TRUE);

  GtkEventController *scroll = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
  gtk_widget_add_controller(GTK_WIDGET(self), scroll);

  GtkEventController *motion = gtk_event_controller_motion_new();
  g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
  g_signal_connect(motion, "enter", G_CALLBACK(on_motion), self);
  g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
  gtk_widget_add_controller(GTK_WIDGET(self), motion);

  GtkGesture *drag = gtk_gesture_drag_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), 0);
  g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
  g_signal_connect(drag, "drag-end", G_CALLBACK(on_drag_end), self);

  GtkGesture *zoom = gtk_gesture_zoom_new();
  g_signal_connect(zoom, "scale-changed", G_CALLBACK(on_pinch), self);
  g_signal_connect(zoom, "begin", G_CALLBACK(on_pinch_begin), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(zoom));
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drag));
}

GtkWidget *weft_timeline_new(void) { return g_object_new(WEFT_TYPE_TIMELINE, NULL); }

/* The label column's width: it fits the longest "name [tid]" (Python
 * threads are named "ThreadPoolExecutor-0_1 (_worker)") and "lock NAME" (an
 * unnamed lock is named after its call site: "pigz+0x10b20 from
 * pigz+0x10bd1 #2"), in bold, within LABEL_W_MIN..MAX; a label of 20 bytes
 * or fewer fits the narrowest column anyway. */
static int label_column(WeftTimeline *self, WeftSession *session) {
  int width = LABEL_W_MIN;
  gsize longest = 20; /* only a label longer (in bytes) than any measured so far is measured */
  guint nt = session ? weft_session_get_n_threads(session) : 0, nl = session ? weft_session_get_n_locks(session) : 0;
  for (guint i = 0; i < nt + nl && width < LABEL_W_MAX; i++) {
    char lb[600];
    if (i < nt)
      g_snprintf(lb, sizeof lb, "%s [%d]", weft_session_get_thread(session, i)->name,
                 weft_session_get_thread(session, i)->tid);
    else
      g_snprintf(lb, sizeof lb, "lock %s", weft_session_get_lock(session, i - nt)->name);
    if (strlen(lb) <= longest) continue;
    longest = strlen(lb);
    int w = 0, h = 0;
    PangoLayout *l = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
    char *m = g_markup_printf_escaped("<b>%s</b>", lb);
    pango_layout_set_markup(l, m, -1);
    g_free(m);
    pango_layout_get_pixel_size(l, &w, &h);
    g_object_unref(l);
    width = CLAMP(w + 26 + 4, width, LABEL_W_MAX);
  }
  return width;
}

/* text cut at its end to fit width px ("lock pigz+0x10b20 from pi…"), the
 * start kept: a lock's name starts with what it is. Cached by width, weight
 * and text, with the layouts. */
static const char *fit_label(WeftTimeline *self, const char *text, gboolean bold, int width) {
  char *key = g_strdup_printf("fit|%d|%d|%s", bold ? 1 : 0, width, text);
  const char *fitted = g_hash_table_lookup(self->fitted, key);
  if (fitted) {
    g_free(key);
    return fitted;
  }
  if (g_hash_table_size(self->fitted) > 4096) g_hash_table_remove_all(self->fitted);
  char *best = NULL;
  if (text_width(self, text, bold) <= width) {
    best = g_strdup(text);
  } else { /* the most characters that fit with the ellipsis */
    glong lo = 0, hi = g_utf8_strlen(text, -1);
    while (lo < hi) {
      glong mid = (lo + hi + 1) / 2;
      char *cand = g_strdup_printf("%.*s…", (int)(g_utf8_offset_to_pointer(text, mid) - text), text);
      PangoLayout *l = gtk_widget_create_pango_layout(GTK_WIDGET(self), NULL);
      char *m = g_markup_printf_escaped(bold ? "<b>%s</b>" : "%s", cand);
      pango_layout_set_markup(l, m, -1);
      int w = 0, h = 0;
      pango_layout_get_pixel_size(l, &w, &h);
      g_object_unref(l);
      g_free(m);
      if (w <= width) {
        g_free(best);
        best = cand;
        lo = mid;
      } else {
        g_free(cand);
        hi = mid - 1;
      }
    }
    if (!best) best = g_strdup("…");
  }
  g_hash_table_insert(self->fitted, key, best);
  return best;
}

const char *weft_timeline_get_lane_label(WeftTimeline *self, guint i) {
  const WeftSessionLock *l = self->session ? weft_session_get_lock(self->session, i) : NULL;
  if (!l) return NULL;
  char buf[600];
  g_snprintf(buf, sizeof buf, "lock %s", l->name);
  return fit_label(self, buf, l->object_id == self->hl_object, LABEL_W - 26);
}

void weft_timeline_set_session(WeftTimeline *self, WeftSession *session) {
  g_return_if_fail(WEFT_IS_TIMELINE(self));
  g_hash_table_remove_all(self->layouts);
  g_hash_table_remove_all(self->fitted);
  /* the old session's worker stops before its session may go */
  worker_detach(self->worker);
  self->worker = NULL;
  free_cache(self);
  self->session = session;
  if (session && self->async) {
    self->worker = worker_new(session);
    if (self->worker) self->worker->owner = self;
  }
  g_free(self->fold);
  self->fold = g_new0(guint8, session ? MAX(1, weft_session_get_n_processes(session)) : 1);
  g_free(self->host_fold); /* every host open (WEFT_FOLD_OPEN) */
  self->host_fold = g_new0(guint8, session ? MAX(1, weft_session_get_n_hosts(session)) : 1);
  self->label_w = label_column(self, session);
  /* the launchers (env, shells, pyenv's shims before the program) start
   * collapsed (their own threads: the program under them stays open), and
   * the rows start at the program, as `weft report` does */
  guint prog = G_MAXUINT;
  for (guint p = 0; session && p < weft_session_get_n_processes(session); p++) {
    int role = weft_session_get_process(session, p)->role;
    self->fold[p] = role == WEFT_PROCESS_LAUNCHER ? WEFT_FOLD_OWN : WEFT_FOLD_OPEN;
    if (role == WEFT_PROCESS_PROGRAM_START) prog = p;
  }
  g_clear_pointer(&self->overview, g_free);
  if (self->overview_cancel) g_cancellable_cancel(self->overview_cancel);
  g_clear_object(&self->overview_cancel);
  if (self->flows_cancel) g_cancellable_cancel(self->flows_cancel);
  g_clear_object(&self->flows_cancel);
  g_clear_pointer(&self->flows, weft_flows_unref);
  self->flows_loading = FALSE;
  if (self->show_flows) read_flows(self);
  self->has_sel = FALSE;
  forget_tip(self);
  forget_click(self);
  g_clear_pointer(&self->critpath, weft_critpath_unref);
  if (self->hl_cancel) g_cancellable_cancel(self->hl_cancel);
  g_clear_object(&self->hl_cancel);
  g_clear_pointer(&self->hl, weft_highlight_unref);
  g_clear_pointer(&self->hl_label, g_free);
  self->hl_loading = FALSE;
  self->hl_object = -1;
  self->hl_utid = -1;
  self->scroll_y = 0;
  rebuild_entries(self);
  self->scroll_to = -1;
  for (guint k = 0; prog != G_MAXUINT && k < self->entries->len; k++) {
    const Entry *e = &g_array_index(self->entries, Entry, k);
    if (e->kind == ENTRY_PROCESS && e->index == prog) self->scroll_to = e->y;
  }
  self->t0 = self->t1 = 0; /* so that fit notifies */
  weft_timeline_fit(self);
  gtk_widget_queue_resize(GTK_WIDGET(self));
}

WeftSession *weft_timeline_get_session(WeftTimeline *self) { return self->session; }

void weft_timeline_set_range(WeftTimeline *self, int64_t start_ns, int64_t end_ns) {
  set_window_exactly(self, (double)start_ns, (double)end_ns);
}

void weft_timeline_get_range(WeftTimeline *self, int64_t *start_ns, int64_t *end_ns) {
  if (start_ns) *start_ns = (int64_t)floor(self->t0);
  if (end_ns) *end_ns = (int64_t)ceil(self->t1);
}

void weft_timeline_fit(WeftTimeline *self) { set_window(self, 0, end_ns(self)); }

gboolean weft_timeline_get_selection(WeftTimeline *self, int64_t *start_ns, int64_t *end_ns) {
  if (start_ns) *start_ns = self->has_sel ? (int64_t)floor(self->sel_t0) : 0;
  if (end_ns) *end_ns = self->has_sel ? (int64_t)ceil(self->sel_t1) : 0;
  return self->has_sel;
}

void weft_timeline_set_selection(WeftTimeline *self, int64_t start_ns, int64_t end_ns) {
  gboolean has = end_ns > start_ns;
  if (has == self->has_sel && (!has || (self->sel_t0 == (double)start_ns && self->sel_t1 == (double)end_ns))) return;
  self->has_sel = has;
  self->sel_t0 = has ? (double)start_ns : 0;
  self->sel_t1 = has ? (double)end_ns : 0;
  gtk_widget_queue_draw(GTK_WIDGET(self));
  g_signal_emit(self, signals[SIG_SELECTION_CHANGED], 0);
}

void weft_timeline_zoom_to_selection(WeftTimeline *self) {
  if (self->has_sel) set_window(self, self->sel_t0, self->sel_t1);
}

/* The highlight's waits and holds arrived (GTK thread); data: a reference to the timeline. */
static void on_highlight_read(GObject *source, GAsyncResult *res, gpointer data) {
  WeftTimeline *self = data;
  GError *error = NULL;
  WeftHighlight *hl = weft_highlight_read_finish(res, &error);
  /* only the read of the current highlight (a later pick cancelled the others) */
  if (self->hl_loading && g_task_get_cancellable(G_TASK(res)) == self->hl_cancel) {
    self->hl_loading = FALSE;
    g_clear_object(&self->hl_cancel);
    if (hl) {
      self->hl = weft_highlight_ref(hl);
      forget_strips(self);
      gtk_widget_queue_draw(GTK_WIDGET(self));
    } else {
      g_warning("weft-gui: cannot highlight object %" G_GINT64_FORMAT ": %s", self->hl_object, error->message);
    }
    g_signal_emit(self, signals[SIG_HIGHLIGHT_READY], 0, (gint64)self->hl_object);
  }
  if (hl) weft_highlight_unref(hl);
  g_clear_error(&error);
  g_object_unref(self);
}

/* Forget the highlight (and its read); a new one is read next. */
static void drop_highlight(WeftTimeline *self, int64_t object_id, const char *label) {
  self->hl_object = object_id;
  g_free(self->hl_label);
  self->hl_label = g_strdup(label);
  if (self->hl_cancel) g_cancellable_cancel(self->hl_cancel);
  g_clear_object(&self->hl_cancel);
  g_clear_pointer(&self->hl, weft_highlight_unref);
  self->hl_loading = FALSE;
  if (self->session) forget_strips(self);
  if (self->flow_scope == WEFT_FLOWS_OBJECT) forget_flows(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void weft_timeline_set_highlight(WeftTimeline *self, int64_t object_id) {
  if (self->hl_object == object_id && !self->hl_label) return;
  drop_highlight(self, object_id, NULL);
  if (self->session && object_id >= 0) {
    self->hl_loading = TRUE;
    self->hl_cancel = g_cancellable_new();
    weft_highlight_read_async(self->session, object_id, self->hl_cancel, on_highlight_read, g_object_ref(self));
  }
}

void weft_timeline_set_highlight_frames(WeftTimeline *self, const char *label, const char *function, const char *file,
                                        const int64_t *stacks, guint n_stacks) {
  drop_highlight(self, -1, label);
  if (!self->session || !label) return;
  self->hl_loading = TRUE;
  self->hl_cancel = g_cancellable_new();
  weft_highlight_read_frames_async(self->session, label, function, file, stacks, n_stacks, self->hl_cancel,
                                   on_highlight_read, g_object_ref(self));
}

const char *weft_timeline_get_highlight_label(WeftTimeline *self) { return self->hl_label; }

guint weft_timeline_get_highlight_n_waits(WeftTimeline *self) {
  return self->hl && !self->hl_loading ? weft_highlight_get_n_waits(self->hl) : 0;
}

gboolean weft_timeline_get_highlight_worst(WeftTimeline *self, WeftSpan *span) {
  return self->hl && weft_highlight_get_worst_wait(self->hl, span);
}

gboolean weft_timeline_highlight_is_ready(WeftTimeline *self) {
  return (self->hl_object >= 0 || self->hl_label) && !self->hl_loading;
}

/* Clear the highlighted object and thread and the marked time (Esc, a click
 * on nothing, on the lane label of the highlighted lock): "highlight-cleared"
 * tells the window. */
static void clear_highlights(WeftTimeline *self) {
  if (self->hl_object < 0 && !self->hl_label && self->hl_utid < 0 && self->mark == WEFT_MARK_NONE) return;
  if (self->hl_label)
    weft_timeline_set_highlight_frames(self, NULL, NULL, NULL, NULL, 0);
  else
    weft_timeline_set_highlight(self, -1);
  weft_timeline_set_highlight_thread(self, -1);
  weft_timeline_set_mark(self, WEFT_MARK_NONE, 0, 0);
  g_signal_emit(self, signals[SIG_HIGHLIGHT_CLEARED], 0);
}

int64_t weft_timeline_get_highlight(WeftTimeline *self) { return self->hl_object; }

void weft_timeline_set_highlight_thread(WeftTimeline *self, int64_t utid) {
  if (self->hl_utid == utid) return;
  self->hl_utid = utid;
  if (self->flow_scope == WEFT_FLOWS_THREAD) forget_flows(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

int64_t weft_timeline_get_highlight_thread(WeftTimeline *self) { return self->hl_utid; }

/* Scroll so that the entry of kind/index is in view. */
static void scroll_to_entry(WeftTimeline *self, EntryKind kind, guint index) {
  for (guint k = 0; k < self->entries->len; k++) {
    Entry *e = &g_array_index(self->entries, Entry, k);
    if (e->kind != kind || e->index != index) continue;
    if (e->y < self->scroll_y || e->y + e->h > self->scroll_y + rows_h(self))
      self->scroll_y = e->y - MAX(0, rows_h(self) / 2 - e->h / 2);
    clamp_scroll(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
    return;
  }
}

/* Open process p's host if it is folded; TRUE if it was. */
static gboolean open_host(WeftTimeline *self, guint p) {
  const WeftSessionProcess *pr = weft_session_get_process(self->session, p);
  if (!pr || !grouped(self) || self->host_fold[pr->host] == WEFT_FOLD_OPEN) return FALSE;
  self->host_fold[pr->host] = WEFT_FOLD_OPEN;
  return TRUE;
}

/* Open thread i's process, every process whose folded tree hides it, and its host. */
static void reveal_thread(WeftTimeline *self, guint i) {
  const WeftSessionThread *t = weft_session_get_thread(self->session, i);
  gboolean changed = FALSE;
  for (guint p = 0; p < weft_session_get_n_processes(self->session); p++) {
    if (weft_session_get_process(self->session, p)->upid != t->upid) continue;
    changed |= open_host(self, p);
    for (int q = (int)p; q >= 0; q = weft_fold_parent(self->session, (guint)q)) {
      if ((guint)q != p && self->fold[q] != WEFT_FOLD_TREE) continue;
      changed |= self->fold[q] != WEFT_FOLD_OPEN;
      self->fold[q] = WEFT_FOLD_OPEN;
    }
  }
  if (changed) rebuild_entries(self);
}

void weft_timeline_show_span(WeftTimeline *self, const WeftSpan *span) {
  if (!self->session) return;
  int i = weft_session_thread_index(self->session, span->utid);
  if (i < 0) return;
  /* expand its process, then show the span in the middle third */
  reveal_thread(self, (guint)i);
  double d = MAX((double)span->dur_ns, MIN_WINDOW_NS / 3);
  set_window(self, (double)span->start_ns - d, (double)span->start_ns + 2 * d);
  forget_click(self);
  self->has_span = TRUE;
  self->span = *span;
  scroll_to_entry(self, ENTRY_THREAD, (guint)i);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

const WeftHoverSpan *weft_timeline_get_clicked(WeftTimeline *self) { return self->has_span ? self->clicked : NULL; }

gboolean weft_timeline_get_span(WeftTimeline *self, WeftSpan *span) {
  if (self->has_span && span) *span = self->span;
  return self->has_span;
}

/* Read the flows on a worker, the first time they are shown. */
static void read_flows(WeftTimeline *self) {
  if (!self->session || self->flows || self->flows_loading) return;
  self->flows_loading = TRUE;
  self->flows_cancel = g_cancellable_new();
  weft_flows_read_async(self->session, self->flows_cancel, on_flows_read, g_object_ref(self));
}

void weft_timeline_set_show_flows(WeftTimeline *self, gboolean show) {
  if (self->show_flows == !!show) return;
  self->show_flows = !!show;
  if (show) read_flows(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SHOW_FLOWS]);
}

gboolean weft_timeline_get_show_flows(WeftTimeline *self) { return self->show_flows; }

guint weft_timeline_get_n_flows(WeftTimeline *self) {
  const WeftFlowSet *set = self->session && self->rows && self->rows[flow_item(self)] ? drawn_flows(self) : NULL;
  guint n = 0;
  for (int k = 0; set && k < WEFT_FLOW_COUNT; k++) n += set->shown[k];
  return n;
}

const WeftFlowSet *weft_timeline_get_flow_set(WeftTimeline *self) {
  return self->session && self->rows && self->rows[flow_item(self)] ? drawn_flows(self) : NULL;
}

const char *weft_timeline_get_flow_caption(WeftTimeline *self) { return self->show_flows ? self->flow_caption : NULL; }

guint weft_timeline_get_flow_kinds_present(WeftTimeline *self) {
  return self->flows ? weft_flows_get_kinds(self->flows) : 0;
}

void weft_timeline_set_flow_kinds(WeftTimeline *self, guint kinds) {
  if (self->flow_kinds == kinds) return;
  self->flow_kinds = kinds;
  forget_flows(self);
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_FLOW_KINDS]);
}

guint weft_timeline_get_flow_kinds(WeftTimeline *self) { return self->flow_kinds; }

void weft_timeline_set_flow_scope(WeftTimeline *self, WeftFlowScope scope) {
  if (self->flow_scope == scope) return;
  self->flow_scope = scope;
  forget_flows(self);
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_FLOW_SCOPE]);
}

WeftFlowScope weft_timeline_get_flow_scope(WeftTimeline *self) { return self->flow_scope; }

void weft_timeline_toggle_process(WeftTimeline *self, guint process) {
  if (!self->session || process >= weft_session_get_n_processes(self->session)) return;
  self->fold[process] = self->fold[process] == WEFT_FOLD_OPEN ? WEFT_FOLD_TREE : WEFT_FOLD_OPEN;
  rebuild_entries(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void weft_timeline_toggle_host(WeftTimeline *self, guint host) {
  if (!grouped(self) || host >= weft_session_get_n_hosts(self->session)) return;
  self->host_fold[host] = self->host_fold[host] == WEFT_FOLD_OPEN ? WEFT_FOLD_TREE : WEFT_FOLD_OPEN;
  rebuild_entries(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void weft_timeline_scroll_to_process(WeftTimeline *self, int64_t upid) {
  for (guint p = 0; self->session && p < weft_session_get_n_processes(self->session); p++) {
    const WeftSessionProcess *pr = weft_session_get_process(self->session, p);
    if (pr->upid != upid) continue;
    if (pr->n_threads) reveal_thread(self, pr->first_thread); /* its header shown, open */
    if (open_host(self, p)) rebuild_entries(self);
    scroll_to_entry(self, ENTRY_PROCESS, p);
    return;
  }
}

void weft_timeline_scroll_to_thread(WeftTimeline *self, int64_t utid) {
  int i = self->session ? weft_session_thread_index(self->session, utid) : -1;
  if (i < 0) return;
  reveal_thread(self, (guint)i);
  scroll_to_entry(self, ENTRY_THREAD, (guint)i);
}

gboolean weft_timeline_is_busy(WeftTimeline *self) {
  if (!self->session) return FALSE;
  if (self->hl_loading || (self->show_flows && self->flows_loading) || self->tip_cancel || self->click_cancel ||
      self->overview_cancel)
    return TRUE;
  /* the arrows, once the flows are read, are asked for at the next frame */
  if (self->show_flows && self->flows && (!self->rows || !self->rows[flow_item(self)])) return TRUE;
  if (!self->worker) return FALSE;
  apply_results(self);
  /* a window not requested yet (no frame since it changed) is busy too */
  return self->pending > 0 || !self->rows || self->cache_npx != timeline_npx(self) || self->cache_t0 != self->t0 ||
         self->cache_t1 != self->t1;
}

gboolean weft_timeline_wait(WeftTimeline *self, guint timeout_ms) {
  if (!self->worker) return FALSE;
  FoldResult *r = g_async_queue_timeout_pop(self->worker->results, (guint64)timeout_ms * 1000);
  if (r) g_async_queue_push_front(self->worker->results, r);
  return apply_results(self);
}

void weft_timeline_request(WeftTimeline *self) {
  if (self->session) request_frame(self);
}

void weft_timeline_scroll_to_lock(WeftTimeline *self, int64_t object_id) {
  int i = self->session ? weft_session_lock_index(self->session, object_id) : -1;
  if (i >= 0) scroll_to_entry(self, ENTRY_LOCK, (guint)i);
}

/* {"replayed": title, "y"} of a group's header; with "thread", "intervals", "end_ns" of a row. */
static void write_replay_entry_json(WeftTimeline *self, const Entry *e, GString *out) {
  const WeftReplayRowSet *set = &self->replay->sets[e->index];
  g_string_append(out, "{\"replayed\": ");
  weft_json_append(out, set->title);
  if (e->kind == ENTRY_REPLAY) {
    const WeftReplayRow *r = &set->rows[e->t_first];
    g_string_append_printf(out, ", \"thread\": %" G_GINT64_FORMAT ", \"intervals\": %u, \"end_ns\": %" G_GINT64_FORMAT,
                           r->utid, r->n, r->end_ns);
  }
  g_string_append_printf(out, ", \"y\": %d}", ROWS_TOP + e->y);
}

void weft_timeline_write_rows_json(WeftTimeline *self, GString *out) {
  g_string_append_c(out, '[');
  for (guint k = 0; self->session && k < self->entries->len; k++) {
    const Entry *e = &g_array_index(self->entries, Entry, k);
    if (k) g_string_append(out, ", ");
    if (e->kind == ENTRY_HOST)
      g_string_append_printf(out,
                             "{\"host\": %" G_GINT64_FORMAT ", \"folded_processes\": %u, \"folded_threads\": %u, "
                             "\"y\": %d}",
                             weft_session_get_host(self->session, e->index)->host, e->t_count ? e->n_procs : 0,
                             e->t_count, ROWS_TOP + e->y);
    else if (e->kind == ENTRY_PROCESS)
      g_string_append_printf(out, "{\"process\": %d, \"folded_processes\": %u, \"folded_threads\": %u, \"y\": %d}",
                             weft_session_get_process(self->session, e->index)->pid, e->t_count ? e->n_procs : 0,
                             e->t_count, ROWS_TOP + e->y);
    else if (e->kind == ENTRY_THREAD)
      g_string_append_printf(out, "{\"thread\": %" G_GINT64_FORMAT ", \"y\": %d}",
                             weft_session_get_thread(self->session, e->index)->utid, ROWS_TOP + e->y);
    else if (e->kind == ENTRY_REPLAY_HEAD || e->kind == ENTRY_REPLAY)
      write_replay_entry_json(self, e, out);
    else
      g_string_append_printf(out, "{\"lock\": %" G_GINT64_FORMAT ", \"y\": %d}",
                             weft_session_get_lock(self->session, e->index)->object_id, ROWS_TOP + e->y);
  }
  g_string_append_c(out, ']');
}

void weft_timeline_write_hosts_json(WeftTimeline *self, GString *out) {
  guint nh = self->session ? weft_session_get_n_hosts(self->session) : 0;
  g_string_append_c(out, '[');
  for (guint h = 0; h < nh; h++) {
    const WeftSessionHost *host = weft_session_get_host(self->session, h);
    char buf[512];
    g_string_append_printf(out, "%s{\"host\": %" G_GINT64_FORMAT ", \"name\": ", h ? ",\n  " : "\n  ", host->host);
    weft_json_append(out, host->name);
    g_string_append(out, ", \"host_id\": ");
    weft_json_append(out, host->host_id);
    g_string_append(out, ", \"clock\": ");
    weft_json_append(out, weft_session_host_clock(self->session, h, buf, sizeof buf));
    g_string_append(out, ", \"processes\": [");
    for (guint p = 0; p < host->n_processes; p++)
      g_string_append_printf(out, "%s%d", p ? ", " : "",
                             weft_session_get_process(self->session, host->first_process + p)->pid);
    /* its rows: from its header to the next host's (every row with one host, which has no header) */
    g_string_append(out, "], \"rows\": [");
    gboolean any = FALSE, in = !grouped(self);
    const Entry *header = NULL;
    for (guint k = 0; k < self->entries->len; k++) {
      const Entry *e = &g_array_index(self->entries, Entry, k);
      if (e->kind == ENTRY_HOST) in = e->index == h;
      if (e->kind == ENTRY_HOST && in) header = e;
      if (!in) continue;
      g_string_append_printf(out, "%s%u", any ? ", " : "", k);
      any = TRUE;
    }
    g_string_append(out, "], \"header\": ");
    if (header) {
      weft_json_append(out, host_label(self, header, buf, sizeof buf));
      g_string_append_printf(out, ", \"folded\": %s, \"y\": %d}",
                             self->host_fold[h] != WEFT_FOLD_OPEN ? "true" : "false", ROWS_TOP + header->y);
    } else {
      g_string_append(out, "null, \"folded\": false, \"y\": null}");
    }
  }
  g_string_append(out, nh ? "\n]" : "]");
}

void weft_timeline_set_show_critical_path(WeftTimeline *self, gboolean show) {
  if (self->show_critpath == !!show) return;
  self->show_critpath = !!show;
  gtk_widget_queue_draw(GTK_WIDGET(self));
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SHOW_CRITPATH]);
}

gboolean weft_timeline_get_show_critical_path(WeftTimeline *self) { return self->show_critpath; }

void weft_timeline_set_show_replay(WeftTimeline *self, gboolean show) {
  if (self->show_replay == !!show) return;
  self->show_replay = !!show;
  rebuild_entries(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_SHOW_REPLAY]);
}

gboolean weft_timeline_get_show_replay(WeftTimeline *self) { return self->show_replay; }

void weft_timeline_set_replay(WeftTimeline *self, WeftReplayRows *rows) {
  weft_replay_rows_ref(rows);
  g_clear_pointer(&self->replay, weft_replay_rows_unref);
  self->replay = rows;
  rebuild_entries(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void weft_timeline_set_critical_path(WeftTimeline *self, WeftCritPath *cp) {
  if (cp) weft_critpath_ref(cp);
  g_clear_pointer(&self->critpath, weft_critpath_unref);
  self->critpath = cp;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

WeftCritPath *weft_timeline_get_critical_path(WeftTimeline *self) { return self->critpath; }

const GArray *weft_timeline_get_critical_path_bands(WeftTimeline *self, guint *in_window) {
  if (in_window) *in_window = self->crit_in_window;
  return self->crit_bands;
}
