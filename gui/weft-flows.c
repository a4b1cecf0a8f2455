/* weft-flows.c - the flow arrows of the timeline: every flow read once, bundled per window.
 * SPDX-License-Identifier: MIT
 *
 * The read runs on a worker (weft_session_read_async: query.h's every
 * flow, cancellable every few thousand rows) and keeps the flows
 * sorted by their start, with an index by their end: the flows with an end
 * in a window are two binary searches away. A selection sorts the window's
 * flows that pass the filter by (rows, kind, x of their end in the window):
 * a bundle of any width is then a run of that order, so making the bundles
 * wider until they fit the budget costs one pass each.
 */
#include "config.h"

#include "weft-flows.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"

typedef struct {
  int64_t from_ns, to_ns, object_id;
  guint32 from, to; /* thread indices */
  guint8 kind;      /* 0 if unknown */
} Flow;

struct _WeftFlows {
  gint ref;
  guint n;
  Flow *v;         /* by from_ns */
  guint32 *by_to;  /* indices into v, by to_ns */
  int64_t *to_key; /* v[by_to[k]].to_ns, for the search */
  guint kinds;
};

WeftFlows *weft_flows_ref(WeftFlows *flows) {
  g_atomic_int_inc(&flows->ref);
  return flows;
}

void weft_flows_unref(WeftFlows *flows) {
  if (!flows || !g_atomic_int_dec_and_test(&flows->ref)) return;
  g_free(flows->v);
  g_free(flows->by_to);
  g_free(flows->to_key);
  g_free(flows);
}

guint weft_flows_get_n(const WeftFlows *flows) { return flows->n; }
guint weft_flows_get_kinds(const WeftFlows *flows) { return flows->kinds; }

WeftFlowFilter *weft_flow_filter_copy(const WeftFlowFilter *f) {
  WeftFlowFilter *c = g_memdup2(f, sizeof *f);
  c->row = g_memdup2(f->row, sizeof *f->row * MAX(f->n_threads, 1));
  return c;
}

void weft_flow_filter_free(WeftFlowFilter *f) {
  if (!f) return;
  g_free(f->row);
  g_free(f);
}

/* ---- the read ---- */

static int flow_by_from(const void *a, const void *b) {
  const Flow *x = a, *y = b;
  return x->from_ns < y->from_ns ? -1 : x->from_ns > y->from_ns;
}

typedef struct {
  int64_t t;
  guint32 i;
} TimeIndex;

static int time_index_cmp(const void *a, const void *b) {
  const TimeIndex *x = a, *y = b;
  if (x->t != y->t) return x->t < y->t ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i;
}

#define CANCEL_EVERY 4096 /* rows read between two looks at the cancellable */

/* Read every flow into fl (sorted, indexed). FALSE with error set. */
static gboolean read_all(WeftQuery *q, const WeftReadEnv *env, WeftFlows *fl, GCancellable *cancel, GError **error) {
  g_autoptr(GArray) v = g_array_new(FALSE, FALSE, sizeof(Flow));
  gboolean ok = TRUE;
  WeftCursor c;
  WeftFlow f;
  weft_query_all_flows(q, &c);
  while (ok && weft_next_flow(&c, &f)) {
    if (v->len % CANCEL_EVERY == 0 && g_cancellable_set_error_if_cancelled(cancel, error)) ok = FALSE;
    guint a = GPOINTER_TO_UINT(g_hash_table_lookup(env->index, GSIZE_TO_POINTER((gsize)f.from_utid)));
    guint b = GPOINTER_TO_UINT(g_hash_table_lookup(env->index, GSIZE_TO_POINTER((gsize)f.to_utid)));
    if (!a || !b) continue;
    Flow x = {f.from_ns, f.to_ns, f.object_id, a - 1, b - 1, f.kind > 0 && f.kind < WEFT_FLOW_COUNT ? f.kind : 0};
    g_array_append_val(v, x);
  }
  if (weft_cursor_close(&c) < 0 && ok) ok = FALSE;
  if (!ok) return FALSE;
  qsort(v->data, v->len, sizeof(Flow), flow_by_from);
  fl->n = v->len;
  fl->v = (Flow *)(void *)g_array_free(g_steal_pointer(&v), FALSE);
  TimeIndex *ti = g_new(TimeIndex, MAX(fl->n, 1));
  for (guint i = 0; i < fl->n; i++) {
    ti[i] = (TimeIndex){fl->v[i].to_ns, i};
    fl->kinds |= 1u << fl->v[i].kind;
  }
  qsort(ti, fl->n, sizeof *ti, time_index_cmp);
  fl->by_to = g_new(guint32, MAX(fl->n, 1));
  fl->to_key = g_new(int64_t, MAX(fl->n, 1));
  for (guint i = 0; i < fl->n; i++) {
    fl->by_to[i] = ti[i].i;
    fl->to_key[i] = ti[i].t;
  }
  g_free(ti);
  return TRUE;
}

static gpointer read_work(WeftQuery *q, const WeftReadEnv *env, gpointer data, GCancellable *cancel, GError **error) {
  WeftFlows *fl = g_new0(WeftFlows, 1);
  fl->ref = 1;
  if (read_all(q, env, fl, cancel, error)) return fl;
  weft_flows_unref(fl);
  return NULL;
}

void weft_flows_read_async(WeftSession *session, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer data) {
  weft_session_read_async(session, read_work, NULL, NULL, (GDestroyNotify)weft_flows_unref, cancellable, callback,
                          data);
}

WeftFlows *weft_flows_read_finish(GAsyncResult *result, GError **error) {
  return weft_session_read_finish(result, error);
}

/* ---- a window's arrows ---- */

/* A flow of the window that is shown: its rows and kind, and the x (px) of
 * its end in the window (its start if both are). */
typedef struct {
  guint64 key;
  double x;
  guint32 i;
} Cand;

static int cand_cmp(const void *a, const void *b) {
  const Cand *p = a, *q = b;
  if (p->key != q->key) return p->key < q->key ? -1 : 1;
  return p->x < q->x ? -1 : p->x > q->x;
}

/* A cand's rows and kind in 32 bits, ordered as its key, the rows below r. */
static inline guint32 key32(guint64 key, guint32 r) {
  return ((guint32)(key >> 36) * r + (guint32)((key >> 8) & 0xfffffff)) << 4 | (guint32)(key & 0xf);
}

/* Sort the window's cands by (key, x). [0, n1) and [n1, n) are each by x
 * already (the flows starting in the window by start, then those ending
 * in it by end): merged by x, then a stable radix sort by rows and kind
 * (two passes of 16 bits) when those fit in 32 bits. A qsort of the 461 k
 * flows of a zoomed-out window took most of the fold worker's time. */
static void sort_cands(Cand *c, guint n, guint n1) {
  guint32 rows = 0;
  gboolean small_kinds = TRUE;
  for (guint k = 0; k < n; k++) {
    rows = MAX(rows, (guint32)MAX(c[k].key >> 36, (c[k].key >> 8) & 0xfffffff) + 1);
    small_kinds &= (c[k].key & 0xff) < 16;
  }
  if (n < 16384 || !small_kinds || (guint64)rows * rows * 16 > G_MAXUINT32) {
    qsort(c, n, sizeof *c, cand_cmp);
    return;
  }
  Cand *tmp = g_new(Cand, n);
  guint i = 0, j = n1, o = 0;
  while (i < n1 && j < n) tmp[o++] = c[j].x < c[i].x ? c[j++] : c[i++];
  while (i < n1) tmp[o++] = c[i++];
  while (j < n) tmp[o++] = c[j++];
  guint *at = g_new(guint, 65536);
  for (int shift = 0; shift < 32; shift += 16) {
    Cand *from = shift ? c : tmp, *to = shift ? tmp : c;
    memset(at, 0, sizeof *at * 65536);
    for (guint k = 0; k < n; k++) at[key32(from[k].key, rows) >> shift & 0xffff]++;
    for (guint d = 0, sum = 0; d < 65536; d++) {
      guint m = at[d];
      at[d] = sum;
      sum += m;
    }
    for (guint k = 0; k < n; k++) to[at[key32(from[k].key, rows) >> shift & 0xffff]++] = from[k];
  }
  memcpy(c, tmp, sizeof *c * n);
  g_free(at);
  g_free(tmp);
}

/* The first index of keys[0..n) (ascending) with keys[k] >= t. */
static guint lower_bound(const int64_t *keys, gsize stride, guint n, double t) {
  guint lo = 0, hi = n;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if ((double)*(const int64_t *)(const void *)((const char *)keys + mid * stride) < t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Count flow i (of the window) and add it to cands if it is shown. */
static void consider(const WeftFlows *fl, const WeftFlowFilter *f, WeftFlowSet *set, GArray *cands, guint32 i,
                     double x) {
  const Flow *v = &fl->v[i];
  set->total[v->kind]++;
  if (!(f->kinds & 1u << v->kind)) return;
  if (f->object_id >= 0 && v->object_id != f->object_id) return;
  if (f->thread >= 0 && (int)v->from != f->thread && (int)v->to != f->thread) return;
  int a = v->from < f->n_threads ? f->row[v->from] : -1, b = v->to < f->n_threads ? f->row[v->to] : -1;
  if (a < 0 || b < 0 || a == b) return;
  set->shown[v->kind]++;
  Cand c = {(guint64)a << 36 | (guint64)b << 8 | v->kind, x, i};
  g_array_append_val(cands, c);
}

/* The arrows of cands (sorted) bundled at width w px: how many, and the
 * most in one bucket of w px (into *densest). */
static guint count_runs(const Cand *c, guint n, double w, int npx, guint *densest) {
  guint runs = 0, nb = (guint)(npx / w) + 2;
  g_autofree guint *per = g_new0(guint, nb);
  *densest = 0;
  for (guint k = 0; k < n; k++) {
    if (k > 0 && c[k].key == c[k - 1].key && floor(c[k].x / w) == floor(c[k - 1].x / w)) continue;
    runs++;
    guint b = (guint)CLAMP(floor(c[k].x / w), 0, nb - 1);
    *densest = MAX(*densest, ++per[b]);
  }
  return runs;
}

/* A bundle: cands [k, e) (sorted), in bucket b of the bundle width; of its
 * bucket's bundles of its kind, the rank-th biggest (thin_runs). */
typedef struct {
  guint k, e, b, rank;
  guint8 kind;
} Run;

static int run_by_size(const void *a, const void *b) {
  const Run *p = a, *q = b;
  if (p->b != q->b) return p->b < q->b ? -1 : 1;
  if (p->kind != q->kind) return p->kind < q->kind ? -1 : 1;
  guint np = p->e - p->k, nq = q->e - q->k;
  if (np != nq) return np > nq ? -1 : 1;
  return p->k < q->k ? -1 : p->k > q->k;
}

static int run_by_rank(const void *a, const void *b) {
  const Run *p = a, *q = b;
  if (p->b != q->b) return p->b < q->b ? -1 : 1;
  if (p->rank != q->rank) return p->rank < q->rank ? -1 : 1;
  return run_by_size(a, b);
}

/* Keep quota runs of each bucket (in rv): the biggest of each kind, then
 * the second biggest of each, ...; the flows of the others are counted as
 * not shown in set. */
static void thin_runs(GArray *rv, WeftFlowSet *set, guint quota) {
  Run *r = (Run *)(void *)rv->data;
  qsort(r, rv->len, sizeof *r, run_by_size);
  for (guint j = 0; j < rv->len; j++)
    r[j].rank = j > 0 && r[j - 1].b == r[j].b && r[j - 1].kind == r[j].kind ? r[j - 1].rank + 1 : 0;
  qsort(r, rv->len, sizeof *r, run_by_rank);
  guint kept = 0;
  for (guint j = 0, in_bucket = 0; j < rv->len; j++) {
    in_bucket = j > 0 && r[j - 1].b == r[j].b ? in_bucket + 1 : 0;
    if (in_bucket < quota)
      r[kept++] = r[j];
    else
      set->shown[r[j].kind] -= r[j].e - r[j].k;
  }
  g_array_set_size(rv, kept);
}

WeftFlowSet *weft_flows_select(const WeftFlows *fl, const WeftFlowFilter *filter, double t0, double npp, int npx) {
  WeftFlowSet head = {0};
  g_autoptr(GArray) cands = g_array_new(FALSE, FALSE, sizeof(Cand));
  double t1 = t0 + npp * npx;
  guint n1 = 0;
  if (fl && fl->n && npp > 0 && npx > 0) {
    /* the flows starting in the window, then those ending in it that started before it */
    guint a = lower_bound(&fl->v[0].from_ns, sizeof(Flow), fl->n, t0);
    for (guint k = a; k < fl->n && (double)fl->v[k].from_ns <= t1; k++)
      consider(fl, filter, &head, cands, k, ((double)fl->v[k].from_ns - t0) / npp);
    n1 = cands->len;
    guint b = lower_bound(fl->to_key, sizeof(int64_t), fl->n, t0);
    for (guint k = b; k < fl->n && (double)fl->to_key[k] <= t1; k++) {
      guint32 i = fl->by_to[k];
      if ((double)fl->v[i].from_ns < t0) consider(fl, filter, &head, cands, i, ((double)fl->to_key[k] - t0) / npp);
    }
  }
  Cand *c = (Cand *)(void *)cands->data;
  guint n = cands->len;
  sort_cands(c, n, n1);
  /* one bundle per pair of rows and kind is too many (dozens of threads waking each other): bundles
   * of WEFT_FLOW_THIN_PX, the biggest of each drawn, as many per bucket as the budget allows */
  guint pairs = n > 0;
  for (guint k = 1; k < n; k++) pairs += c[k].key != c[k - 1].key;
  guint densest, budget = MAX(WEFT_FLOW_MIN_ARROWS, (guint)npx / WEFT_FLOW_PX_PER_ARROW);
  gboolean thin = pairs > budget;
  double w = thin ? WEFT_FLOW_THIN_PX : WEFT_FLOW_BUNDLE_PX;
  /* else wider bundles while there are more arrows than the budget, or more than one per 2 px in
   * some bucket (between several pairs of rows) */
  if (!thin) {
    guint runs = count_runs(c, n, w, npx, &densest);
    while ((runs > budget || densest > MAX(1, w / 2)) && w < 4.0 * npx) runs = count_runs(c, n, w *= 2, npx, &densest);
  }
  g_autoptr(GArray) rv = g_array_new(FALSE, FALSE, sizeof(Run));
  for (guint k = 0; k < n;) {
    guint e = k + 1;
    while (e < n && c[e].key == c[k].key && floor(c[e].x / w) == floor(c[k].x / w)) e++;
    Run r = {k, e, (guint)CLAMP(floor(c[k].x / w), 0, G_MAXINT), 0, (guint8)(c[k].key & 0xff)};
    g_array_append_val(rv, r);
    k = e;
  }
  if (thin) thin_runs(rv, &head, MAX(1, budget / ((guint)ceil(npx / w) + 1)));
  WeftFlowSet *set = g_malloc(sizeof *set + sizeof(WeftFlowArrow) * MAX(rv->len, 1));
  *set = head;
  set->kinds = filter->kinds;
  set->scoped = filter->object_id >= 0 || filter->thread >= 0;
  set->bundle_px = rv->len < n ? w : 0;
  for (guint r = 0; r < rv->len; r++) {
    guint k = g_array_index(rv, Run, r).k, e = g_array_index(rv, Run, r).e;
    double sf = 0, st = 0;
    for (guint j = k; j < e; j++) {
      sf += (double)fl->v[c[j].i].from_ns;
      st += (double)fl->v[c[j].i].to_ns;
    }
    const Flow *first = &fl->v[c[k].i];
    set->arrows[set->n_arrows++] =
        (WeftFlowArrow){sf / (e - k), st / (e - k), (int)first->from, (int)first->to, e - k, first->kind};
  }
  return set;
}

/* ---- what is shown, in words ---- */

const char *weft_flow_kind_label(int kind, gboolean plural) {
  static const char *const names[WEFT_FLOW_COUNT][2] = {
      [0] = {"flow", "flows"},
      [WEFT_FLOW_LOCK_HANDOFF] = {"hand-off", "hand-offs"},
      [WEFT_FLOW_WAKEUP] = {"wake-up", "wake-ups"},
      [WEFT_FLOW_BARRIER] = {"barrier release", "barrier releases"},
      [WEFT_FLOW_SEM_POST] = {"semaphore post", "semaphore posts"},
      [WEFT_FLOW_CREATE] = {"thread create", "thread creates"},
      [WEFT_FLOW_JOIN] = {"join", "joins"},
      [WEFT_FLOW_FORK] = {"fork", "forks"},
      [WEFT_FLOW_EXEC] = {"exec", "execs"},
      [WEFT_FLOW_WAIT] = {"process wait", "process waits"},
      [WEFT_FLOW_PIPE] = {"pipe", "pipes"},
      [WEFT_FLOW_MPI_MESSAGE] = {"MPI message", "MPI messages"},
      [WEFT_FLOW_MPI_COLLECTIVE] = {"MPI collective release", "MPI collective releases"},
      [WEFT_FLOW_SOCKET] = {"TCP send", "TCP sends"},
  };
  return names[kind >= 0 && kind < WEFT_FLOW_COUNT ? kind : 0][plural ? 1 : 0];
}

/* n with a comma every three digits: "74,606". */
static const char *count_text(char *buf, size_t len, guint n) {
  char digits[16];
  int nd = g_snprintf(digits, sizeof digits, "%u", n);
  size_t o = 0;
  for (int i = 0; i < nd && o + 2 < len; i++) {
    if (i > 0 && (nd - i) % 3 == 0) buf[o++] = ',';
    buf[o++] = digits[i];
  }
  buf[o] = '\0';
  return buf;
}

char *weft_flow_set_caption(const WeftFlowSet *set) {
  GString *s = g_string_new(NULL);
  char a[32], b[32];
  for (int k = 0; k < WEFT_FLOW_COUNT; k++) {
    if (!set->total[k] || !(set->kinds & 1u << k) || (set->scoped && !set->shown[k])) continue;
    if (s->len) g_string_append(s, " · ");
    if (set->shown[k] == set->total[k])
      g_string_append_printf(s, "%s %s", count_text(a, sizeof a, set->total[k]),
                             weft_flow_kind_label(k, set->total[k] != 1));
    else
      g_string_append_printf(s, "%s of %s %s shown", count_text(a, sizeof a, set->shown[k]),
                             count_text(b, sizeof b, set->total[k]), weft_flow_kind_label(k, set->total[k] != 1));
  }
  if (!s->len) g_string_append(s, "no flows in the window");
  if (set->bundle_px > 0)
    g_string_append_printf(s, " · bundled: %s arrows (flows within %.0f px)", count_text(a, sizeof a, set->n_arrows),
                           set->bundle_px);
  return g_string_free(s, FALSE);
}

/* ---- drawing ---- */

#define N_WIDTHS 5

/* The width class of a bundle of count flows: 1, 2-3, 4-15, 16-63, 64 or more. */
static int width_class(guint count) { return count <= 1 ? 0 : count < 4 ? 1 : count < 16 ? 2 : count < 64 ? 3 : 4; }

/* Pixels the arrows are drawn into, over [ox, ox + w) x [oy, oy + h) of
 * the timeline: premultiplied ARGB32, then painted in one go. Cairo's
 * stroker cost 86 % of a frame with flows shown (p95 68 ms at 10 M
 * events); a line is the pixels along it here, without antialiasing, as
 * cairo drew them. */
typedef struct {
  uint32_t *px;
  int stride, w, h; /* stride in pixels */
  double ox, oy;
  uint32_t colour; /* premultiplied */
  double width;    /* the line's, in px */
} Raster;

/* The line from (x0, y0) to (x1, y1) (timeline px) into r: along its major
 * axis, a span across it of the line's width (divided by the cosine of its
 * angle to that axis, so a diagonal line is as thick as a level one). */
static void raster_line(Raster *r, double x0, double y0, double x1, double y1) {
  x0 -= r->ox, x1 -= r->ox, y0 -= r->oy, y1 -= r->oy;
  double dx = x1 - x0, dy = y1 - y0, adx = fabs(dx), ady = fabs(dy), len = sqrt(dx * dx + dy * dy);
  if (len < 0.5) return;
  bool xmajor = adx >= ady;
  int steps = (int)ceil(xmajor ? adx : ady);
  double span = r->width * len / (xmajor ? adx : ady);
  int lo = (int)lround(-span / 2), n = MAX(1, (int)lround(span)); /* the span's pixels: [c + lo, c + lo + n) */
  /* 16.16 fixed point along the line: the minor coordinate moves by a constant each step */
  int64_t major = (int64_t)lround((xmajor ? x0 : y0) * 65536), minor = (int64_t)lround((xmajor ? y0 : x0) * 65536);
  int64_t dmaj = (xmajor ? (dx < 0 ? -1 : 1) : (dy < 0 ? -1 : 1)) * 65536;
  int64_t dmin = steps ? (int64_t)lround((xmajor ? dy : dx) / steps * 65536) : 0;
  int lim_maj = xmajor ? r->w : r->h, lim_min = xmajor ? r->h : r->w;
  for (int i = 0; i <= steps; i++, major += dmaj, minor += dmin) {
    int m = (int)(major >> 16), c = (int)((minor + 32768) >> 16);
    if (m < 0 || m >= lim_maj) continue;
    int a = MAX(c + lo, 0), b = MIN(c + lo + n, lim_min);
    if (xmajor)
      for (int py = a; py < b; py++) r->px[(size_t)py * r->stride + m] = r->colour;
    else
      for (uint32_t *row = r->px + (size_t)m * r->stride, px = (uint32_t)a; (int)px < b; px++) row[px] = r->colour;
  }
}

/* The arrow from a to b, the part of its line inside the box [lo, hi] x
 * [top, bottom] only (zoomed in, a flow from long before the window starts
 * millions of pixels to its left; a row scrolled away is far above or
 * below), and its head if b is in, into r. */
static void arrow_raster(Raster *r, double ax, double ay, double bx, double by, double head, const double box[4]) {
  double dx = bx - ax, dy = by - ay, len = sqrt(dx * dx + dy * dy);
  if (len < 1) return;
  /* Liang-Barsky: the parameters u0 < u1 of the segment inside the box */
  double u0 = 0, u1 = 1, p[4] = {-dx, dx, -dy, dy}, q[4] = {ax - box[0], box[1] - ax, ay - box[2], box[3] - ay};
  for (int k = 0; k < 4; k++) {
    if (p[k] == 0) {
      if (q[k] < 0) return;
      continue;
    }
    double u = q[k] / p[k];
    if (p[k] < 0)
      u0 = MAX(u0, u);
    else
      u1 = MIN(u1, u);
  }
  if (u0 >= u1) return;
  raster_line(r, ax + u0 * dx, ay + u0 * dy, ax + u1 * dx, ay + u1 * dy);
  if (u1 < 1) return;
  double h = MIN(head, len * 0.6), a = atan2(dy, dx);
  for (int side = -1; side <= 1; side += 2) {
    double t = a + G_PI - side * 28 * G_PI / 180;
    raster_line(r, bx, by, bx + h * cos(t), by + h * sin(t));
  }
}

static uint32_t premultiplied(const GdkRGBA *c) {
  double a = CLAMP(c->alpha, 0, 1);
  uint32_t A = (uint32_t)lround(255 * a), R = (uint32_t)lround(255 * CLAMP(c->red, 0, 1) * a),
           G = (uint32_t)lround(255 * CLAMP(c->green, 0, 1) * a), B = (uint32_t)lround(255 * CLAMP(c->blue, 0, 1) * a);
  return A << 24 | R << 16 | G << 8 | B;
}

/* The arrows of set into img (its pixel (0, 0) at timeline (ox, oy)), the
 * lines clipped to box. */
static void draw_arrows(cairo_surface_t *img, const WeftFlowSet *set, const WeftPalette *pal, const double *y_of,
                        guint n_threads, double x0, double t0, double npp, int ox, int oy, const double box[4]) {
  cairo_surface_flush(img);
  int h = cairo_image_surface_get_height(img);
  Raster r = {(uint32_t *)(void *)cairo_image_surface_get_data(img),
              cairo_image_surface_get_stride(img) / 4,
              cairo_image_surface_get_width(img),
              h,
              ox,
              oy,
              0,
              0};
  memset(r.px, 0, (size_t)cairo_image_surface_get_stride(img) * (size_t)h);
  /* the casings, then the colours, by kind and width: the kinds that say who made whom wait last,
   * on top (a semaphore post and a hand-off between the same two threads at once are drawn over
   * each other) */
  static const int order[] = {0,
                              WEFT_FLOW_CREATE,
                              WEFT_FLOW_JOIN,
                              WEFT_FLOW_FORK,
                              WEFT_FLOW_EXEC,
                              WEFT_FLOW_WAIT,
                              WEFT_FLOW_PIPE,
                              WEFT_FLOW_SOCKET,
                              WEFT_FLOW_MPI_COLLECTIVE,
                              WEFT_FLOW_MPI_MESSAGE,
                              WEFT_FLOW_SEM_POST,
                              WEFT_FLOW_BARRIER,
                              WEFT_FLOW_WAKEUP,
                              WEFT_FLOW_LOCK_HANDOFF};
  G_STATIC_ASSERT(G_N_ELEMENTS(order) == WEFT_FLOW_COUNT);
  for (int pass = 0; pass < 2; pass++) {
    for (guint o = 0; o < G_N_ELEMENTS(order); o++) {
      int kind = order[o];
      r.colour = premultiplied(pass == 0 ? &pal->flow_casing : &pal->flow[kind]);
      for (int wc = 0; wc < N_WIDTHS; wc++) {
        double lw = 1.5 + 0.6 * wc;
        r.width = pass == 0 ? lw + 2 : lw;
        for (guint k = 0; k < set->n_arrows; k++) {
          const WeftFlowArrow *a = &set->arrows[k];
          if (a->kind != kind || width_class(a->count) != wc) continue;
          if ((guint)a->from_thread >= n_threads || (guint)a->to_thread >= n_threads) continue;
          double ya = y_of[a->from_thread], yb = y_of[a->to_thread];
          if (ya < 0 || yb < 0) continue;
          arrow_raster(&r, x0 + (a->from_ns - t0) / npp, ya, x0 + (a->to_ns - t0) / npp, yb, 6 + wc, box);
        }
      }
    }
  }
  cairo_surface_mark_dirty(img);
}

struct _WeftFlowImage {
  cairo_surface_t *img;
  /* what img has: the arrows drawn for this place and geometry */
  double geom[6]; /* x0, npx, t0, npp, ox, oy */
  const WeftPalette *pal;
  double *y_of;
  guint n_threads, n_arrows;
  WeftFlowArrow *arrows;
};

WeftFlowImage *weft_flow_image_new(void) { return g_new0(WeftFlowImage, 1); }

static void image_forget(WeftFlowImage *im) {
  g_clear_pointer(&im->y_of, g_free);
  g_clear_pointer(&im->arrows, g_free);
  im->n_arrows = im->n_threads = 0;
  im->pal = NULL;
}

void weft_flow_image_free(WeftFlowImage *im) {
  if (!im) return;
  g_clear_pointer(&im->img, cairo_surface_destroy);
  image_forget(im);
  g_free(im);
}

/* TRUE if im has set drawn as asked (then nothing is drawn again); else
 * im is keyed to it. */
static gboolean image_has(WeftFlowImage *im, const WeftFlowSet *set, const WeftPalette *pal, const double *y_of,
                          guint n_threads, const double geom[6]) {
  if (im->pal == pal && im->n_threads == n_threads && im->n_arrows == set->n_arrows &&
      !memcmp(im->geom, geom, sizeof im->geom) && !memcmp(im->y_of, y_of, sizeof *y_of * n_threads) &&
      !memcmp(im->arrows, set->arrows, sizeof *set->arrows * set->n_arrows))
    return TRUE;
  image_forget(im);
  memcpy(im->geom, geom, sizeof im->geom);
  im->pal = pal;
  im->n_threads = n_threads;
  im->y_of = g_memdup2(y_of, sizeof *y_of * MAX(n_threads, 1));
  im->n_arrows = set->n_arrows;
  im->arrows = g_memdup2(set->arrows, sizeof *set->arrows * MAX(set->n_arrows, 1));
  return FALSE;
}

void weft_flows_draw(cairo_t *cr, WeftFlowImage *im, const WeftFlowSet *set, const WeftPalette *pal, const double *y_of,
                     guint n_threads, double x0, int npx, double t0, double npp) {
  if (!set || !set->n_arrows || npp <= 0) return;
  double x1, y1, x2, y2;
  cairo_clip_extents(cr, &x1, &y1, &x2, &y2);
  double box[4] = {MAX(x0, x1) - 16, MIN(x0 + npx, x2) + 16, y1 - 16, y2 + 16};
  int ox = (int)floor(x1), oy = (int)floor(y1), w = (int)ceil(x2) - ox, h = (int)ceil(y2) - oy;
  if (w <= 0 || h <= 0) return;
  if (!im->img || cairo_image_surface_get_width(im->img) != w || cairo_image_surface_get_height(im->img) != h) {
    g_clear_pointer(&im->img, cairo_surface_destroy);
    image_forget(im);
    im->img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  }
  if (cairo_surface_status(im->img) != CAIRO_STATUS_SUCCESS) {
    g_clear_pointer(&im->img, cairo_surface_destroy);
    image_forget(im);
    return;
  }
  double geom[6] = {x0, npx, t0, npp, ox, oy};
  if (!image_has(im, set, pal, y_of, n_threads, geom))
    draw_arrows(im->img, set, pal, y_of, n_threads, x0, t0, npp, ox, oy, box);
  cairo_set_source_surface(cr, im->img, ox, oy);
  cairo_paint(cr);
}
