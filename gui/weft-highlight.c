/* weft-highlight.c - the waits and holds of one sync object, read once, folded for any window.
 * SPDX-License-Identifier: MIT
 *
 * The read runs on a worker (weft_session_read_async: query.h's waits and
 * holds of the object over the whole recording, or every wait with a stack
 * kept when its stack has the frame or is in the set; cancellable every
 * few thousand rows) and keeps two sorted lists of intervals per thread.
 * A fold is a binary search to the window and one pass over the intervals
 * in it.
 */
#include "config.h"

#include "weft-highlight.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "naming.h"
#include "query.h"

typedef struct {
  int64_t s, e;
} Iv;

/* One thread's intervals, by start; max_len bounds the search for the
 * first one that reaches a window (a thread's holds may overlap: a
 * recursive lock, read locks). */
typedef struct {
  Iv *v;
  guint n;
  int64_t max_len;
} IvList;

struct _WeftHighlight {
  gint ref;
  int64_t object_id;
  guint n_threads;
  IvList *waits, *holds; /* [n_threads] */
  gboolean has_worst;
  WeftSpan worst;
  guint n_waits;
  char *label;       /* what the waits are of (a function, a file), or NULL for an object */
  char *object_name; /* the object's (weft_object_display_name), or NULL */
};

/* What a read highlights: an object's waits and holds, or the waits whose
 * stacks have a frame of a function or of a file, or are in a set. */
typedef struct {
  int64_t object_id;  /* >= 0: the object */
  char *function;     /* the symbol of a frame, or NULL */
  char *file;         /* the file of a frame, or NULL */
  GHashTable *stacks; /* stack ids (GINT64 keys), or NULL */
  char *label;
} ReadJob;

static void read_job_free(ReadJob *j) {
  g_free(j->function);
  g_free(j->file);
  g_free(j->label);
  if (j->stacks) g_hash_table_unref(j->stacks);
  g_free(j);
}

WeftHighlight *weft_highlight_ref(WeftHighlight *hl) {
  g_atomic_int_inc(&hl->ref);
  return hl;
}

void weft_highlight_unref(WeftHighlight *hl) {
  if (!hl || !g_atomic_int_dec_and_test(&hl->ref)) return;
  for (guint i = 0; i < hl->n_threads; i++) {
    g_free(hl->waits[i].v);
    g_free(hl->holds[i].v);
  }
  g_free(hl->waits);
  g_free(hl->holds);
  g_free(hl->label);
  g_free(hl->object_name);
  g_free(hl);
}

int64_t weft_highlight_get_object(const WeftHighlight *hl) { return hl->object_id; }

gboolean weft_highlight_get_worst_wait(const WeftHighlight *hl, WeftSpan *out) {
  if (hl->has_worst && out) *out = hl->worst;
  return hl->has_worst;
}

const char *weft_highlight_get_label(const WeftHighlight *hl) { return hl->label; }
const char *weft_highlight_get_object_name(const WeftHighlight *hl) { return hl->object_name; }
guint weft_highlight_get_n_waits(const WeftHighlight *hl) { return hl->n_waits; }

static gint iv_by_start(gconstpointer a, gconstpointer b) {
  const Iv *x = a, *y = b;
  return x->s < y->s ? -1 : x->s > y->s;
}

/* The per-thread arrays of intervals (GArray of Iv) into lists, sorted. */
static void take_lists(GArray **arrays, IvList *lists, guint n) {
  for (guint i = 0; i < n; i++) {
    GArray *a = arrays[i];
    if (!a) continue;
    g_array_sort(a, iv_by_start);
    for (guint k = 0; k < a->len; k++) {
      const Iv *iv = &g_array_index(a, Iv, k);
      lists[i].max_len = MAX(lists[i].max_len, iv->e - iv->s);
    }
    lists[i].n = a->len;
    lists[i].v = (Iv *)(void *)g_array_free(a, FALSE);
    arrays[i] = NULL;
  }
}

static void add_iv(GArray **arrays, const WeftReadEnv *env, int64_t utid, int64_t s, int64_t e) {
  guint idx = GPOINTER_TO_UINT(g_hash_table_lookup(env->index, GSIZE_TO_POINTER((gsize)utid)));
  if (idx == 0 || idx > env->n_threads || e <= s) return;
  if (!arrays[idx - 1]) arrays[idx - 1] = g_array_new(FALSE, FALSE, sizeof(Iv));
  Iv iv = {s, e};
  g_array_append_val(arrays[idx - 1], iv);
}

#define CANCEL_EVERY 4096 /* rows read between two looks at the cancellable */

/* A wait of the highlight: its interval, the longest kept. */
static void add_wait(GArray **waits, const WeftReadEnv *env, WeftHighlight *hl, const WeftStateRow *w) {
  add_iv(waits, env, w->utid, w->start_ns, w->start_ns + w->dur_ns);
  hl->n_waits++;
  if (!hl->has_worst || w->dur_ns > hl->worst.dur_ns) { /* in start order: the first of equals stays */
    hl->worst = *w;
    hl->has_worst = TRUE;
  }
}

/* The stacks with a frame of job's function or file, into job's set. FALSE on an error. */
static gboolean read_stacks(WeftQuery *q, ReadJob *job, GCancellable *cancel, GError **error) {
  if (!job->function && !job->file) return TRUE;
  if (!job->stacks) job->stacks = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  WeftCursor c;
  WeftStackFrameRow r;
  guint64 n = 0;
  gboolean ok = TRUE;
  weft_query_all_stack_frames(q, &c);
  while (ok && weft_next_stack_frame(&c, &r)) {
    if (++n % CANCEL_EVERY == 0 && g_cancellable_set_error_if_cancelled(cancel, error)) ok = FALSE;
    if (job->function && g_strcmp0(r.f.symbol, job->function) != 0) continue;
    if (job->file && g_strcmp0(r.f.file, job->file) != 0) continue;
    g_hash_table_add(job->stacks, g_memdup2(&r.stack_id, sizeof r.stack_id));
  }
  return weft_cursor_close(&c) == 0 && ok;
}

/* Read the waits (of the object, or of the stacks), then the object's holds, into hl. FALSE with error set. */
static gboolean read_all(WeftQuery *q, const WeftReadEnv *env, ReadJob *job, WeftHighlight *hl, GCancellable *cancel,
                         GError **error) {
  guint nt = MAX(1, env->n_threads);
  GArray **waits = g_new0(GArray *, nt), **holds = g_new0(GArray *, nt);
  gboolean ok = job->object_id >= 0 || read_stacks(q, job, cancel, error);
  guint64 n = 0;
  WeftCursor c;
  WeftStateRow w;
  if (job->object_id >= 0)
    weft_query_waits(q, &c, job->object_id, INT64_MIN, INT64_MAX);
  else
    weft_query_stacked_waits(q, &c);
  while (ok && weft_next_state(&c, &w)) {
    if (++n % CANCEL_EVERY == 0 && g_cancellable_set_error_if_cancelled(cancel, error)) ok = FALSE;
    if (job->object_id >= 0 || g_hash_table_contains(job->stacks, &w.stack_id)) add_wait(waits, env, hl, &w);
  }
  if (weft_cursor_close(&c) < 0 && ok) ok = FALSE;
  WeftHold h;
  if (job->object_id >= 0) {
    weft_query_holds(q, &c, job->object_id, INT64_MIN, INT64_MAX);
    while (ok && weft_next_hold(&c, &h)) {
      if (++n % CANCEL_EVERY == 0 && g_cancellable_set_error_if_cancelled(cancel, error)) ok = FALSE;
      add_iv(holds, env, h.utid, h.start_ns, h.start_ns + h.dur_ns);
    }
    if (weft_cursor_close(&c) < 0 && ok) ok = FALSE;
  }
  take_lists(waits, hl->waits, env->n_threads);
  take_lists(holds, hl->holds, env->n_threads);
  for (guint i = 0; i < env->n_threads; i++) { /* those left when the read stopped early */
    if (waits[i]) g_array_unref(waits[i]);
    if (holds[i]) g_array_unref(holds[i]);
  }
  g_free(waits);
  g_free(holds);
  return ok;
}

static gpointer read_work(WeftQuery *q, const WeftReadEnv *env, gpointer data, GCancellable *cancel, GError **error) {
  ReadJob *job = data;
  WeftHighlight *hl = g_new0(WeftHighlight, 1);
  hl->ref = 1;
  hl->object_id = job->object_id;
  hl->label = g_strdup(job->label);
  if (job->object_id >= 0) {
    char buf[512];
    hl->object_name = g_strdup(weft_object_display_name(q->sql.db, job->object_id, buf, sizeof buf));
  }
  hl->n_threads = env->n_threads;
  hl->waits = g_new0(IvList, MAX(1, env->n_threads));
  hl->holds = g_new0(IvList, MAX(1, env->n_threads));
  if (read_all(q, env, job, hl, cancel, error)) return hl;
  weft_highlight_unref(hl);
  return NULL;
}

static void start_read(WeftSession *session, ReadJob *job, GCancellable *cancellable, GAsyncReadyCallback callback,
                       gpointer data) {
  weft_session_read_async(session, read_work, job, (GDestroyNotify)read_job_free, (GDestroyNotify)weft_highlight_unref,
                          cancellable, callback, data);
}

void weft_highlight_read_async(WeftSession *session, int64_t object_id, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer data) {
  ReadJob *job = g_new0(ReadJob, 1);
  job->object_id = object_id;
  start_read(session, job, cancellable, callback, data);
}

void weft_highlight_read_frames_async(WeftSession *session, const char *label, const char *function, const char *file,
                                      const int64_t *stacks, guint n_stacks, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer data) {
  ReadJob *job = g_new0(ReadJob, 1);
  job->object_id = -1;
  job->label = g_strdup(label);
  job->function = g_strdup(function);
  job->file = g_strdup(file);
  job->stacks = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint k = 0; k < n_stacks; k++) g_hash_table_add(job->stacks, g_memdup2(&stacks[k], sizeof *stacks));
  start_read(session, job, cancellable, callback, data);
}

WeftHighlight *weft_highlight_read_finish(GAsyncResult *result, GError **error) {
  return weft_session_read_finish(result, error);
}

/* Mark bit in the pixels of l's intervals that overlap the window; an
 * interval narrower than a pixel marks the one it is in. */
static void fold_list(const IvList *l, double t0, double npp, int npx, guint8 bit, guint8 *out) {
  if (!l->n) return;
  double t1 = t0 + npp * npx;
  /* the first interval that may reach t0: none starts before t0 - max_len and ends after it */
  double from = t0 - (double)l->max_len;
  guint lo = 0, hi = l->n;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if ((double)l->v[mid].s < from)
      lo = mid + 1;
    else
      hi = mid;
  }
  int last = -1; /* the last pixel marked: many short intervals in one pixel cost a compare each */
  for (guint k = lo; k < l->n && (double)l->v[k].s < t1; k++) {
    double a = ((double)l->v[k].s - t0) / npp, b = ((double)l->v[k].e - t0) / npp;
    if (b <= 0) continue;
    int pa = a < 0 ? 0 : (int)a, pb = b >= npx ? npx - 1 : MAX(pa, (int)ceil(b) - 1);
    if (pb <= last) continue;
    for (int p = MAX(pa, last + 1); p <= pb; p++) out[p] |= bit;
    last = pb;
  }
}

void weft_highlight_fold(const WeftHighlight *hl, guint i, double t0, double npp, int npx, guint8 *out) {
  memset(out, 0, (size_t)MAX(npx, 0));
  if (!hl || i >= hl->n_threads || npx <= 0 || npp <= 0) return;
  fold_list(&hl->waits[i], t0, npp, npx, WEFT_HL_WAIT, out);
  fold_list(&hl->holds[i], t0, npp, npx, WEFT_HL_HOLD, out);
}
