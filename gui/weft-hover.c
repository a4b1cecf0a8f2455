/* weft-hover.c - a span of a thread row with its object and call stack, read on a worker.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "weft-hover.h"

#include "naming.h"

/* What the worker knows of the thread, copied on the GTK thread. */
typedef struct {
  guint thread;
  gboolean want_cpu;  /* the CPU split of a running span is wanted */
  gboolean have_span; /* span is known: only its object and stack are read */
  WeftSpan span;
  int64_t t, start_ns, end_ns;
  int cpu_cached; /* weft_session_cpu_cached_at: 1 cpu set, 0 none has t, -1 to read (lod) */
  WeftCpuInterval cpu;
  WeftCpuLod lod;
} HoverJob;

static void read_cpu(WeftQuery *q, const HoverJob *j, WeftHoverSpan *h) {
  if (j->cpu_cached >= 0) {
    h->has_cpu = j->cpu_cached == 1;
    h->cpu = j->cpu;
    return;
  }
  WeftCpuModel *m = weft_cpu_model_read(q, &j->lod, j->start_ns, j->end_ns);
  const WeftCpuInterval *x = m ? weft_cpu_model_at(m, j->t) : NULL;
  h->has_cpu = x != NULL;
  if (x) h->cpu = *x;
  weft_cpu_model_free(m);
}

static gpointer read_work(WeftQuery *q, const WeftReadEnv *env, gpointer data, GCancellable *cancel, GError **error) {
  const HoverJob *j = data;
  WeftHoverSpan *h = g_new0(WeftHoverSpan, 1);
  h->thread = j->thread;
  h->t = j->t;
  h->stack = g_array_new(FALSE, FALSE, sizeof(WeftFrame));
  g_array_set_clear_func(h->stack, (GDestroyNotify)weft_frame_clear);
  if (j->have_span) {
    h->found = TRUE;
    h->span = j->span;
  } else {
    h->found = weft_query_state_at(q, j->lod.utid, j->t, &h->span) && j->t < h->span.start_ns + h->span.dur_ns;
  }
  if (!h->found) {
    if (!q->sql.failed) return h;
    weft_hover_span_free(h);
    return NULL;
  }
  if (h->span.object_id >= 0) {
    char buf[512];
    h->object = g_strdup(weft_object_display_name(q->sql.db, h->span.object_id, buf, sizeof buf));
  }
  weft_read_stack(q, h->span.stack_id, h->stack);
  if (j->want_cpu && h->span.state == WEFT_ST_RUNNING) read_cpu(q, j, h);
  return h;
}

static HoverJob *job_new(WeftSession *session, guint i, int64_t t) {
  const WeftSessionThread *th = weft_session_get_thread(session, i);
  HoverJob *j = g_new0(HoverJob, 1);
  j->thread = i;
  j->t = t;
  j->start_ns = th->start_ns;
  j->end_ns = th->end_ns;
  j->cpu_cached = weft_session_cpu_cached_at(session, i, t, &j->cpu, &j->lod);
  return j;
}

void weft_hover_read_async(WeftSession *session, guint i, int64_t t, gboolean cpu, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer data) {
  HoverJob *j = job_new(session, i, t);
  j->want_cpu = cpu;
  weft_session_read_async(session, read_work, j, g_free, (GDestroyNotify)weft_hover_span_free, cancellable, callback,
                          data);
}

void weft_hover_read_span_async(WeftSession *session, const WeftSpan *span, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer data) {
  int i = weft_session_thread_index(session, span->utid);
  HoverJob *j = job_new(session, (guint)MAX(i, 0), span->start_ns);
  j->have_span = TRUE;
  j->span = *span;
  weft_session_read_async(session, read_work, j, g_free, (GDestroyNotify)weft_hover_span_free, cancellable, callback,
                          data);
}

WeftHoverSpan *weft_hover_read_finish(GAsyncResult *result, GError **error) {
  return weft_session_read_finish(result, error);
}

void weft_hover_span_free(WeftHoverSpan *h) {
  if (!h) return;
  g_free(h->object);
  if (h->stack) g_array_unref(h->stack);
  g_free(h);
}

gboolean weft_hover_span_covers(const WeftHoverSpan *h, guint i, int64_t t) {
  if (!h || h->thread != i) return FALSE;
  if (!h->found) return t == h->t;
  if (t < h->span.start_ns || t >= h->span.start_ns + h->span.dur_ns) return FALSE;
  if (h->span.state != WEFT_ST_RUNNING) return TRUE;
  return h->has_cpu ? t >= h->cpu.start_ns && t < h->cpu.end_ns : t == h->t;
}
