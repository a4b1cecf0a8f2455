/* hosts.c - several hosts on one time base (trace v6).
 * SPDX-License-Identifier: MIT
 *
 * Each machine's monotonic clock starts at its own boot. The reader keeps one
 * clock fit per host and shifts each host by its wall-clock anchors (the
 * file headers' CLOCK_REALTIME against CLOCK_MONOTONIC), which is as good as
 * the hosts' NTP: milliseconds, and drifting. Here, before the import reads
 * any event, the messages between hosts correct that: a message is never
 * received before it was sent. The MPI messages (matched as mpi.c matches
 * them: the n-th of one rank to another on one communicator and tag) are
 * read first; for each host in turn, starting from the first (the reference)
 * and going to hosts that exchanged messages with those already placed,
 * every message received from a placed host bounds the correction from
 * below and every message sent to one bounds it from above, as in NTP (a
 * round trip bounds the offset by half its length). The correction is a
 * line, offset + drift x (t - pivot), the pivot the middle of the host's
 * messages: for each drift the offsets that keep every message in order form
 * an interval (its width a concave function of the drift); the estimate is
 * the drift in the middle of the range of drifts that leave one (within 200
 * ppm), and the middle of the interval there. Every message stays in order
 * with it. The uncertainty at a time is how far the truth can be from the
 * estimate over every line the messages allow, drift included: at the pivot
 * it is about half the tightest round trip. A host with messages in one
 * direction only is moved as far as they need and no further (uncertainty
 * unknown); one with none keeps its wall-clock alignment.
 * The result goes back to the reader (weft_recording_set_host_clock) and to
 * the host table.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "import-private.h"

typedef struct {
  uint64_t comm, seq;
  int64_t from, to, tag; /* world ranks */
  double ns;             /* on the anchors' time base */
  size_t host;
  int recv;
} Msg;

/* What crossed from one host to another: sent at s_ns, received at r_ns (each on its host's time). */
typedef struct {
  double s_ns, r_ns;
  size_t s_host, r_host;
} Pair;

typedef struct {
  GArray *msgs;     /* Msg of the trace being read */
  WeftSpill *xfers; /* SockXfer of every trace (who: the host), sorted for sock_match */
  int64_t rank;
  size_t host;
  WeftTrace *tr;
  GHashTable *mpi_end; /* tid -> the end of its last MPI wait (ns, a double) */
} Scan;

static int on_record(const WeftEvent *ev, void *user) {
  Scan *s = user;
  const uint64_t *w = ev->w;
  if (ev->type == WEFT_EV_MPI_RANK) {
    s->rank = (int64_t)w[1];
    return 0;
  }
  if (ev->type == WEFT_EV_WAIT_END) {
    if (WEFT_AUX_KIND(ev->aux) == WEFT_KIND_MPI) {
      double *end = g_new(double, 1);
      *end = (double)ev->ns;
      g_hash_table_insert(s->mpi_end, GUINT_TO_POINTER(ev->tid), end);
    }
    return 0;
  }
  if (ev->type == WEFT_EV_SOCK) {
    /* (w4: the transfer came that many ticks before the record's time) */
    double ns = ev->nwords > 4 && w[4] ? (double)weft_trace_ticks_to_ns(s->tr, ev->tsc - w[4]) : (double)ev->ns;
    SockXfer x = {w[1], w[2], w[3], ns, (int64_t)s->host, ev->aux != 0};
    SockXfer *r = x.bytes && s->xfers ? weft_spill_add(s->xfers) : NULL;
    if (r) *r = x; /* (a sort that failed: sock_match says so) */
    return 0;
  }
  int recv = WEFT_MPI_MSG_DIR(ev->aux) == WEFT_MPI_MSG_RECV;
  /* a receive at the end of the wait that received it, as the import's flow (mpi.c): its record
   * comes a little later, and a bound from that would let the flow run backwards */
  const double *end = recv ? g_hash_table_lookup(s->mpi_end, GUINT_TO_POINTER(ev->tid)) : NULL;
  if (recv && !end) return 0; /* (mpi.c leaves it out too) */
  Msg m = {.comm = w[1],
           .seq = w[4],
           .from = (int32_t)(uint32_t)w[2], /* the peer, for now */
           .tag = (int32_t)(w[2] >> 32),
           .ns = recv ? *end : (double)ev->ns,
           .recv = recv};
  g_array_append_val(s->msgs, m);
  return 0;
}

static int cmp_msg(const void *x, const void *y) {
  const Msg *a = x, *b = y;
  if (a->comm != b->comm) return a->comm < b->comm ? -1 : 1;
  if (a->from != b->from) return a->from < b->from ? -1 : 1;
  if (a->to != b->to) return a->to < b->to ? -1 : 1;
  if (a->tag != b->tag) return a->tag < b->tag ? -1 : 1;
  if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
  return a->recv - b->recv; /* the send first */
}

static int same_key(const Msg *a, const Msg *b) {
  return a->comm == b->comm && a->from == b->from && a->to == b->to && a->tag == b->tag && a->seq == b->seq;
}

/* MPI: the n-th message of one rank to another on one communicator and tag is the n-th received. */
static void mpi_pairs(GArray *msgs, GArray *pairs) {
  if (msgs->len) qsort(msgs->data, msgs->len, sizeof(Msg), cmp_msg);
  for (guint i = 0; i + 1 < msgs->len; i++) {
    const Msg *s = &g_array_index(msgs, Msg, i), *r = s + 1;
    if (s->recv || !r->recv || !same_key(s, r) || s->host == r->host) continue;
    Pair p = {s->ns, r->ns, s->host, r->host};
    g_array_append_val(pairs, p);
  }
}

/* TCP: a receive on another host than the send that held its last byte (sockets.c). */
static void tcp_pair(void *user, const SockXfer *s, const SockXfer *r) {
  if (s->who == r->who) return;
  Pair p = {s->ns, r->ns, (size_t)s->who, (size_t)r->who};
  g_array_append_val((GArray *)user, p);
}

/* Every file's MPI messages and TCP bytes between hosts, as pairs. */
static GArray *read_pairs(Imp *im) {
  GArray *all = g_array_new(FALSE, FALSE, sizeof(Msg));
  WeftSpill *xs = weft_spill_new(sizeof(SockXfer), im->sort_rows, sock_xfer_cmp, NULL);
  uint64_t types[4] = {0};
  types[WEFT_EV_MPI_RANK >> 6] |= 1ull << (WEFT_EV_MPI_RANK & 63);
  types[WEFT_EV_MPI_MSG >> 6] |= 1ull << (WEFT_EV_MPI_MSG & 63);
  types[WEFT_EV_SOCK >> 6] |= 1ull << (WEFT_EV_SOCK & 63);
  types[WEFT_EV_WAIT_END >> 6] |= 1ull << (WEFT_EV_WAIT_END & 63);
  for (size_t i = 0; i < weft_recording_count(im->rec); i++) {
    WeftTrace *tr = weft_recording_trace(im->rec, i);
    Scan s = {g_array_new(FALSE, FALSE, sizeof(Msg)),
              xs,
              -1,
              weft_trace_host(tr),
              tr,
              g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free)};
    char e2[512];
    (void)weft_trace_scan_types(tr, types, on_record, &s, e2, sizeof e2); /* faults: the import says */
    for (guint k = 0; k < s.msgs->len && s.rank >= 0; k++) {
      Msg m = g_array_index(s.msgs, Msg, k);
      int64_t peer = m.from;
      m.from = m.recv ? peer : s.rank;
      m.to = m.recv ? s.rank : peer;
      m.host = s.host;
      g_array_append_val(all, m);
    }
    g_array_free(s.msgs, TRUE);
    g_hash_table_destroy(s.mpi_end);
  }
  GArray *pairs = g_array_new(FALSE, FALSE, sizeof(Pair));
  mpi_pairs(all, pairs);
  if (xs && sock_match(xs, im->sort_rows, tcp_pair, pairs) != 0)
    imp_warn(im, "the TCP transfers between hosts: %s",
             weft_spill_error(xs) ? weft_spill_error(xs) : "cannot use a temporary file");
  g_array_free(all, TRUE);
  weft_spill_free(xs);
  return pairs;
}

/* A bound on a host's correction c at time t (its own, after the anchors):
 * lower: c(t) >= v; else c(t) <= v. */
typedef struct Bound {
  double dt, v;
  int lower;
} Bound;

/* The widest interval of offsets over drifts: width at drift b. */
static double width(const Bound *bs, size_t n, double b, double *lo_out, double *hi_out) {
  double lo = -INFINITY, hi = INFINITY;
  for (size_t i = 0; i < n; i++) {
    double x = bs[i].v - b * bs[i].dt;
    if (bs[i].lower)
      lo = x > lo ? x : lo;
    else
      hi = x < hi ? x : hi;
  }
  *lo_out = lo;
  *hi_out = hi;
  return hi - lo;
}

#define DRIFT_MAX 200e-6 /* 200 ppm: two crystals' worst, without NTP */

/* What a drift b gives, maximised by argmax: the width of the interval of
 * feasible offsets (what 0), the most the correction can be at dt from the
 * pivot (1: hi(b) + b dt), or minus the least (2: -(lo(b) + b dt)). Each is
 * concave in b (hi is a minimum of lines, lo a maximum). */
static double objective(const Bound *bs, size_t n, double b, int what, double dt) {
  double lo, hi, w = width(bs, n, b, &lo, &hi);
  return what == 0 ? w : what == 1 ? hi + b * dt : -(lo + b * dt);
}

/* The drift in [a, b] where objective() is largest: golden-section search. */
static double argmax(const Bound *bs, size_t n, double a, double b, int what, double dt) {
  const double g = (sqrt(5.0) - 1) / 2;
  double x1 = b - g * (b - a), x2 = a + g * (b - a);
  double f1 = objective(bs, n, x1, what, dt), f2 = objective(bs, n, x2, what, dt);
  for (int it = 0; it < 200 && b - a > 1e-13; it++) {
    if (f1 < f2) {
      a = x1, x1 = x2, f1 = f2;
      x2 = a + g * (b - a);
      f2 = objective(bs, n, x2, what, dt);
    } else {
      b = x2, x2 = x1, f2 = f1;
      x1 = b - g * (b - a);
      f1 = objective(bs, n, x1, what, dt);
    }
  }
  return (a + b) / 2;
}

/* Over every feasible line (drifts bmin..bmax, offsets lo(b)..hi(b)), the
 * least and the most the correction can be at dt from the pivot. */
static void range_at(const Bound *bs, size_t n, double bmin, double bmax, double dt, double *cmin, double *cmax) {
  *cmax = objective(bs, n, argmax(bs, n, bmin, bmax, 1, dt), 1, dt);
  *cmin = -objective(bs, n, argmax(bs, n, bmin, bmax, 2, dt), 2, dt);
}

/* The drift where width() crosses 0 between bad (< 0) and good (>= 0): the good side. */
static double crossing(const Bound *bs, size_t n, double bad, double good) {
  double lo, hi;
  for (int it = 0; it < 100; it++) {
    double m = (bad + good) / 2;
    if (width(bs, n, m, &lo, &hi) >= 0)
      good = m;
    else
      bad = m;
  }
  return good;
}

/* The correction of one host from its bounds: the drift in the middle of
 * the range of drifts that keep every message in order (within DRIFT_MAX),
 * the offset in the middle of the interval at that drift. */
static void solve(HostClock *h, Bound *bs, size_t n) {
  size_t nlo = 0, nhi = 0;
  for (size_t i = 0; i < n; i++) *(bs[i].lower ? &nlo : &nhi) += 1;
  double lo, hi;
  if (!nlo || !nhi) { /* one direction only: move it as far as its messages need, no further */
    width(bs, n, 0, &lo, &hi);
    h->offset = nlo ? (lo > 0 ? lo : 0) : (hi < 0 ? hi : 0);
    h->drift = 0;
    return;
  }
  /* the widest interval of offsets */
  double top = argmax(bs, n, -DRIFT_MAX, DRIFT_MAX, 0, 0), drift = top;
  h->bmin = h->bmax = top;
  if (width(bs, n, top, &lo, &hi) >= 0) { /* the middle of the feasible drifts */
    h->bmin = width(bs, n, -DRIFT_MAX, &lo, &hi) >= 0 ? -DRIFT_MAX : crossing(bs, n, -DRIFT_MAX, top);
    h->bmax = width(bs, n, DRIFT_MAX, &lo, &hi) >= 0 ? DRIFT_MAX : crossing(bs, n, DRIFT_MAX, top);
    drift = (h->bmin + h->bmax) / 2;
  }
  double w = width(bs, n, drift, &lo, &hi);
  h->drift = drift;
  h->offset = (lo + hi) / 2;
  h->infeasible = w < 0;
  h->bounds = g_memdup2(bs, n * sizeof *bs);
  h->nbounds = n;
}

/* The correction at t (recording ns) and how far the truth can be from it:
 * the farther end of the range every feasible line allows there (-1:
 * unknown, or no line keeps every message in order). */
static double uncertainty_at(const HostClock *h, double t) {
  if (!h->nbounds || h->infeasible) return -1;
  double cmin = 0, cmax = 0, c = h->offset + h->drift * (t - h->pivot);
  range_at(h->bounds, h->nbounds, h->bmin, h->bmax, t - h->pivot, &cmin, &cmax);
  return fmax(c - cmin, cmax - c);
}

/* A time of host h on the time base, with its correction. */
static double corrected(const HostClock *h, double ns) { return ns + h->offset + h->drift * (ns - h->pivot); }

/* The bounds between host k and the placed hosts, from the pairs. */
static size_t bounds_of(Imp *im, const GArray *v, size_t k, const char *placed, double pivot, Bound *out) {
  size_t n = 0;
  for (guint i = 0; i < v->len; i++) {
    const Pair *p = &g_array_index(v, Pair, i);
    if (p->r_host == k && placed[p->s_host]) /* received here: c(t_r) >= sent - t_r */
      out[n++] = (Bound){p->r_ns - pivot, corrected(&im->hosts[p->s_host], p->s_ns) - p->r_ns, 1};
    else if (p->s_host == k && placed[p->r_host]) /* sent from here: c(t_s) <= received - t_s */
      out[n++] = (Bound){p->s_ns - pivot, corrected(&im->hosts[p->r_host], p->r_ns) - p->s_ns, 0};
  }
  return n;
}

/* The mean time of host k's pairs with placed hosts (the pivot), and their count. */
static size_t pivot_of(const GArray *v, size_t k, const char *placed, double *pivot) {
  double sum = 0;
  size_t n = 0;
  for (guint i = 0; i < v->len; i++) {
    const Pair *p = &g_array_index(v, Pair, i);
    if (p->r_host == k && placed[p->s_host])
      sum += p->r_ns, n++;
    else if (p->s_host == k && placed[p->r_host])
      sum += p->s_ns, n++;
  }
  *pivot = n ? sum / (double)n : 0;
  return n;
}

/* Pairs received before they were sent, with the corrections. */
static int64_t out_of_order(Imp *im, const GArray *v) {
  int64_t bad = 0;
  for (guint i = 0; i < v->len; i++) {
    const Pair *p = &g_array_index(v, Pair, i);
    bad += corrected(&im->hosts[p->r_host], p->r_ns) < corrected(&im->hosts[p->s_host], p->s_ns);
  }
  return bad;
}

int hosts_align(Imp *im) {
  const WeftHost *hs;
  size_t nh = weft_recording_hosts(im->rec, &hs);
  im->nhosts = nh;
  im->stats->hosts = nh;
  im->hosts = g_new0(HostClock, nh ? nh : 1);
  if (nh < 2) return 0;
  GArray *v = read_pairs(im);
  char *placed = g_new0(char, nh);
  placed[0] = 1;
  Bound *bs = g_new(Bound, v->len ? v->len : 1);
  for (size_t round = 1; round < nh; round++) {
    /* the unplaced host with the most messages with the placed ones */
    size_t best = SIZE_MAX, most = 0;
    double pivot = 0;
    for (size_t k = 1; k < nh; k++) {
      double pv;
      size_t c = placed[k] ? 0 : pivot_of(v, k, placed, &pv);
      if (!placed[k] && (best == SIZE_MAX || c > most)) best = k, most = c, pivot = pv;
    }
    HostClock *h = &im->hosts[best];
    h->pivot = pivot;
    h->messages = (int64_t)most;
    if (most) solve(h, bs, bounds_of(im, v, best, placed, pivot, bs));
    placed[best] = 1;
    weft_recording_set_host_clock(im->rec, best, h->offset, h->drift, (uint64_t)(pivot > 0 ? pivot : 0));
  }
  im->hosts_out_of_order = out_of_order(im, v);
  for (size_t k = 1; k < nh; k++) /* a host nothing ties to the others: say so, it is as good as its NTP */
    if (!im->hosts[k].messages)
      imp_warn(im,
               "host %s: no MPI message or TCP transfer (WEFT_IO=1) with the other hosts: its clock is placed "
               "by the wall clocks alone",
               *hs[k].name ? hs[k].name : "(unnamed)");
  if (im->hosts_out_of_order)
    imp_warn(im, "%lld messages between hosts arrive before they were sent whatever the clocks: no line fits them all",
             (long long)im->hosts_out_of_order);
  g_free(bs);
  g_free(placed);
  g_array_free(v, TRUE);
  im->origin = weft_recording_start_ns(im->rec);
  return 0;
}

/* The host table (after the import: im->origin is the time base). */
void hosts_write(Imp *im) {
  const WeftHost *hs;
  size_t nh = weft_recording_hosts(im->rec, &hs);
  sqlite3_stmt *q = weft_sql_prepare(&im->sql, "INSERT INTO host VALUES (?,?,?,?,?,?,?,?,?,?)");
  for (size_t k = 0; q && k < nh; k++) {
    const HostClock *h = &im->hosts[k];
    char id[17];
    snprintf(id, sizeof id, "%016" PRIx64, hs[k].host_id);
    /* the correction at the recording's start */
    /* at the middle of its messages (the recording's start when it has none) */
    double at = h->messages ? h->pivot : (double)im->origin;
    double corr = k ? h->offset + h->drift * (at - h->pivot) : 0;
    sqlite3_bind_int64(q, 1, (int64_t)k);
    sqlite3_bind_text(q, 2, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 3, hs[k].name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 4, (int64_t)hs[k].files);
    sqlite3_bind_int64(q, 5, hs[k].anchor_shift_ns);
    sqlite3_bind_int64(q, 6, (int64_t)llround(corr));
    double unc = k ? uncertainty_at(h, at) : 0;
    if (unc >= 0)
      sqlite3_bind_int64(q, 7, (int64_t)llround(unc));
    else
      sqlite3_bind_null(q, 7);
    sqlite3_bind_double(q, 8, h->drift * 1e6);
    sqlite3_bind_int64(q, 9, h->messages);
    sqlite3_bind_int64(q, 10, (int64_t)llround(at) - (int64_t)im->origin);
    imp_step(im, q);
  }
  sqlite3_finalize(q);
  weft_db_meta_set_int(im->db, "hosts", (int64_t)nh);
  weft_db_meta_set_int(im->db, "host_messages_out_of_order", im->hosts_out_of_order);
}

void hosts_free(Imp *im) {
  for (size_t k = 0; im->hosts && k < im->nhosts; k++) g_free(im->hosts[k].bounds);
  g_free(im->hosts);
  im->hosts = NULL;
}
