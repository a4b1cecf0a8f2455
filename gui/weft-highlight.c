/* weft-highlight.c - the waits and holds of one sync object, read once, folded for any window.
 * SPDX-License-Identifier: MIT
 *
 * The read runs in a GTask thread with a connection of its own (query.h's
 * waits and holds of the object over the whole recording, cancellable every
 * few thousand rows) and keeps two sorted lists of intervals per thread.
 * A fold is a binary search to the window and one pass over the intervals
 * in it.
 */
#include "config.h"

#include "weft-highlight.h"

#include <limits.h>
#include <math.h>
#include <string.h>

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
};

typedef struct {
  char *path;
  int64_t object_id;
  guint n_threads;
  GHashTable *index; /* utid -> thread index + 1 (weft_session_copy_index) */
} ReadJob;

static void read_job_free(ReadJob *j) {
  g_free(j->path);
  g_hash_table_unref(j->index);
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
  g_free(hl);
}

int64_t weft_highlight_get_object(const WeftHighlight *hl) { return hl->object_id; }

gboolean weft_highlight_get_worst_wait(const WeftHighlight *hl, WeftSpan *out) {
  if (hl->has_worst && out) *out = hl->worst;
  return hl->has_worst;
}

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

static void add_iv(GArray **arrays, const ReadJob *job, int64_t utid, int64_t s, int64_t e) {
  guint idx = GPOINTER_TO_UINT(g_hash_table_lookup(job->index, GSIZE_TO_POINTER((gsize)utid)));
  if (idx == 0 || idx > job->n_threads || e <= s) return;
  if (!arrays[idx - 1]) arrays[idx - 1] = g_array_new(FALSE, FALSE, sizeof(Iv));
  Iv iv = {s, e};
  g_array_append_val(arrays[idx - 1], iv);
}

#define CANCEL_EVERY 4096 /* rows read between two looks at the cancellable */

/* Read the waits, then the holds, into hl. FALSE with error set. */
static gboolean read_all(WeftQuery *q, const ReadJob *job, WeftHighlight *hl, GCancellable *cancel, GError **error) {
  GArray **waits = g_new0(GArray *, MAX(1, job->n_threads)), **holds = g_new0(GArray *, MAX(1, job->n_threads));
  gboolean ok = TRUE;
  guint64 n = 0;
  WeftCursor c;
  WeftStateRow w;
  weft_query_waits(q, &c, job->object_id, INT64_MIN, INT64_MAX);
  while (ok && weft_next_state(&c, &w)) {
    if (++n % CANCEL_EVERY == 0 && g_cancellable_set_error_if_cancelled(cancel, error)) ok = FALSE;
    add_iv(waits, job, w.utid, w.start_ns, w.start_ns + w.dur_ns);
    if (!hl->has_worst || w.dur_ns > hl->worst.dur_ns) { /* in start order: the first of equals stays */
      hl->worst = w;
      hl->has_worst = TRUE;
    }
  }
  if (weft_cursor_close(&c) < 0 && ok) ok = FALSE;
  WeftHold h;
  weft_query_holds(q, &c, job->object_id, INT64_MIN, INT64_MAX);
  while (ok && weft_next_hold(&c, &h)) {
    if (++n % CANCEL_EVERY == 0 && g_cancellable_set_error_if_cancelled(cancel, error)) ok = FALSE;
    add_iv(holds, job, h.utid, h.start_ns, h.start_ns + h.dur_ns);
  }
  if (weft_cursor_close(&c) < 0 && ok) ok = FALSE;
  if (!ok && error && !*error) g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, q->sql.err);
  take_lists(waits, hl->waits, job->n_threads);
  take_lists(holds, hl->holds, job->n_threads);
  for (guint i = 0; i < job->n_threads; i++) { /* those left when the read stopped early */
    if (waits[i]) g_array_unref(waits[i]);
    if (holds[i]) g_array_unref(holds[i]);
  }
  g_free(waits);
  g_free(holds);
  return ok;
}

typedef struct {
  const ReadJob *job;
  WeftHighlight *hl;
} ReadCtx;

static gboolean read_ctx(WeftQuery *q, gpointer data, GCancellable *cancel, GError **error) {
  ReadCtx *c = data;
  return read_all(q, c->job, c->hl, cancel, error);
}

static void read_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  ReadJob *job = data;
  WeftHighlight *hl = g_new0(WeftHighlight, 1);
  hl->ref = 1;
  hl->object_id = job->object_id;
  hl->n_threads = job->n_threads;
  hl->waits = g_new0(IvList, MAX(1, job->n_threads));
  hl->holds = g_new0(IvList, MAX(1, job->n_threads));
  ReadCtx c = {job, hl};
  GError *error = NULL;
  if (weft_session_read_file(job->path, read_ctx, &c, cancel, &error)) {
    g_task_return_pointer(task, hl, (GDestroyNotify)weft_highlight_unref);
  } else {
    weft_highlight_unref(hl);
    g_task_return_error(task, error);
  }
}

void weft_highlight_read_async(WeftSession *session, int64_t object_id, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer data) {
  ReadJob *job = g_new0(ReadJob, 1);
  job->path = g_strdup(weft_session_get_path(session));
  job->object_id = object_id;
  job->n_threads = weft_session_get_n_threads(session);
  job->index = weft_session_copy_index(session);
  GTask *task = g_task_new(NULL, cancellable, callback, data);
  g_task_set_task_data(task, job, (GDestroyNotify)read_job_free);
  g_task_run_in_thread(task, read_thread);
  g_object_unref(task);
}

WeftHighlight *weft_highlight_read_finish(GAsyncResult *result, GError **error) {
  return g_task_propagate_pointer(G_TASK(result), error);
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
