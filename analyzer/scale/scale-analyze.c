/* scale-analyze.c - weft scale: statistics per point, model fits, findings,
 * the comparison with a baseline and the verdict (see scale.h).
 * SPDX-License-Identifier: MIT
 *
 * Every random draw comes from a WeftRng seeded from the run's seed and the
 * point, so the same samples give the same report.
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "scale.h"

/* Append str to the NULL-terminated vector *v of *n strings. */
static void strv_push(char ***v, size_t *n, char *str) {
  *v = g_renew(char *, *v, *n + 2);
  (*v)[(*n)++] = str;
  (*v)[*n] = NULL;
}

void weft_scale_note(WeftScale *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  strv_push(&s->notes, &s->nnotes, g_strdup_vprintf(fmt, ap));
  va_end(ap);
}

static void finding(WeftScale *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void finding(WeftScale *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  strv_push(&s->findings, &s->nfindings, g_strdup_vprintf(fmt, ap));
  va_end(ap);
}

static void free_strv(char **v, size_t n) {
  for (size_t i = 0; i < n; i++) g_free(v[i]);
  g_free(v);
}

void weft_scale_free(WeftScale *s) {
  if (!s) return;
  if (s->argv) {
    for (int i = 0; i < s->argc; i++) g_free(s->argv[i]);
    g_free(s->argv);
  }
  g_free(s->threads);
  g_free(s->order);
  g_free(s->machine.cpu_model);
  g_free(s->machine.usable_source);
  g_free(s->machine.kernel);
  for (size_t i = 0; i < s->npoints; i++) {
    WeftScalePoint *p = &s->points[i];
    g_free(p->samples_s);
    g_free(p->user_s);
    g_free(p->sys_s);
    g_free(p->other_s);
    g_free(p->steal_s);
    for (size_t k = 0; k < p->trace.nlocks; k++) {
      g_free(p->trace.locks[k].label);
      g_free(p->trace.locks[k].kind);
    }
    g_free(p->trace.locks);
    g_free(p->trace.held_lock);
  }
  g_free(s->points);
  g_free(s->preferred_why);
  g_free(s->scaling_why);
  g_free(s->noise_why);
  free_strv(s->findings, s->nfindings);
  g_free(s->fail_what);
  g_free(s->fail_stderr);
  g_free(s->baseline_path);
  free_strv(s->differences, s->ndifferences);
  for (size_t i = 0; i < s->nitems; i++) {
    g_free(s->items[i].name);
    g_free(s->items[i].detail);
    free_strv(s->items[i].why, s->items[i].nwhy);
  }
  g_free(s->items);
  free_strv(s->notes, s->nnotes);
  weft_scale_history_free(s->history);
  g_free(s);
}

/* The reference point: N = 1, else the smallest N. */
static const WeftScalePoint *reference(const WeftScale *s) {
  const WeftScalePoint *ref = NULL;
  for (size_t i = 0; i < s->npoints; i++)
    if (s->points[i].nsamples && (!ref || s->points[i].threads < ref->threads)) ref = &s->points[i];
  return ref;
}

static uint64_t point_seed(const WeftScale *s, int threads, uint64_t salt) {
  return s->seed * 0x9e3779b97f4a7c15u ^ ((uint64_t)threads << 20) ^ salt;
}

static double lock_wait(const WeftScaleTrace *t, const char *label) {
  for (size_t i = 0; i < t->nlocks; i++)
    if (!strcmp(t->locks[i].label, label)) return t->locks[i].wait_ts;
  return 0;
}

/* Where the time goes at the largest traced N (hi): the budget's shares,
 * and a Python program's pools' data moving and start-up. */
static void budget_finding(WeftScale *s, const WeftScalePoint *hi) {
  const WeftScaleTrace *t = &hi->trace;
  double cap = t->capacity_ts;
  char *top = t->nlocks ? g_strdup_printf(" (most: %s, %.3g)", t->locks[0].label, t->locks[0].wait_ts) : g_strdup("");
  char *gil = t->gil_wait_ts >= 0.005 * cap
                  ? g_strdup_printf(" (the GIL %.0f %%: threads waiting to run Python)", 100 * t->gil_wait_ts / cap)
                  : g_strdup("");
  finding(s,
          "at %d threads (traced): load balance %.2f x synchronisation %.2f x computation scalability %.2f; "
          "of %.3g thread-s, lock waits %.0f %%%s, other waits %.0f %%%s, waiting for a CPU %.0f %%, idle %.0f %% "
          "(serial parts, imbalance), extra work %.3g thread-s",
          hi->threads, t->lb, t->sync_e, t->comp_s, cap, 100 * t->lock_wait_ts / cap, top, 100 * t->other_wait_ts / cap,
          gil, 100 * t->runq_ts / cap, 100 * t->idle_ts / cap, t->extra_work_ts);
  g_free(top);
  g_free(gil);
  if (t->ipc_ts >= 0.005 * cap || t->startup_ts >= 0.005 * cap)
    finding(s,
            "at %d threads (traced), the Python process pools: moving data between processes %.0f %% of the "
            "thread time (%.3g MB written to pipes), workers starting up %.0f %%",
            hi->threads, 100 * t->ipc_ts / cap, t->ipc_bytes / 1e6, 100 * t->startup_ts / cap);
}

void weft_scale_analyze(WeftScale *s) {
  const WeftScalePoint *ref = reference(s);
  for (size_t i = 0; i < s->npoints; i++) {
    WeftScalePoint *p = &s->points[i];
    size_t n = p->nsamples;
    WeftEstimate none = {NAN, NAN, NAN};
    p->speedup = p->efficiency = p->karp_flatt = p->median_ci = none;
    p->median_s = p->mean_s = p->min_s = p->mad_s = p->iqr_s = p->cv = NAN;
    if (!n) continue;
    WeftRng rng;
    weft_rng_seed(&rng, point_seed(s, p->threads, 1));
    p->median_s = weft_stats_median(p->samples_s, n);
    p->mean_s = weft_stats_mean(p->samples_s, n);
    p->min_s = weft_stats_min(p->samples_s, n);
    p->mad_s = weft_stats_mad(p->samples_s, n);
    p->iqr_s = weft_stats_iqr(p->samples_s, n);
    p->cv = p->mean_s > 0 ? weft_stats_sd(p->samples_s, n) / p->mean_s : NAN;
    p->median_ci = weft_stats_median_ci(p->samples_s, n, s->bootstrap, &rng);
    if (ref && s->weak) {
      /* the work grows with N: efficiency is T(ref) / T(N), the speedup the scaled one (N x efficiency) */
      p->efficiency = weft_stats_ratio_ci(ref->samples_s, ref->nsamples, p->samples_s, n, s->bootstrap, &rng);
      p->speedup = (WeftEstimate){p->efficiency.value * p->threads, p->efficiency.lo * p->threads,
                                  p->efficiency.hi * p->threads};
    } else if (ref) {
      WeftEstimate r = weft_stats_ratio_ci(ref->samples_s, ref->nsamples, p->samples_s, n, s->bootstrap, &rng);
      double k = ref->threads; /* speedup relative to N = 1: assume linear scaling up to the reference */
      p->speedup = (WeftEstimate){r.value * k, r.lo * k, r.hi * k};
      p->efficiency =
          (WeftEstimate){p->speedup.value / p->threads, p->speedup.lo / p->threads, p->speedup.hi / p->threads};
      if (p->threads >= 2)
        p->karp_flatt =
            (WeftEstimate){weft_karp_flatt(p->speedup.value, p->threads), weft_karp_flatt(p->speedup.hi, p->threads),
                           weft_karp_flatt(p->speedup.lo, p->threads)};
    }
  }
  /* the traced runs: overhead, work inflation against the reference */
  const WeftScalePoint *tref = NULL;
  for (size_t i = 0; i < s->npoints; i++)
    if (s->points[i].trace.ok && (!tref || s->points[i].threads < tref->threads)) tref = &s->points[i];
  for (size_t i = 0; i < s->npoints; i++) {
    WeftScaleTrace *t = &s->points[i].trace;
    if (!t->ok) continue;
    t->overhead = s->points[i].median_s > 0 ? t->wall_s / s->points[i].median_s - 1.0 : NAN;
    t->comp_s = tref && t->useful_ts > 0 ? tref->trace.useful_ts / t->useful_ts : NAN;
    t->extra_work_ts = tref ? t->useful_ts - tref->trace.useful_ts : NAN;
  }
  if (ref && ref->threads != 1)
    weft_scale_note(s, "no 1-thread point: speedups are relative to %d threads, assumed to scale linearly up to it",
                    ref->threads);

  /* models, on the medians */
  double *nn = g_new(double, s->npoints ? s->npoints : 1), *tt = g_new(double, s->npoints ? s->npoints : 1);
  size_t m = 0;
  for (size_t i = 0; i < s->npoints; i++)
    if (s->points[i].nsamples) {
      nn[m] = s->points[i].threads;
      /* weak scaling: the models fit the time per unit of work (N units at N threads) */
      tt[m++] = s->weak ? s->points[i].median_s / s->points[i].threads : s->points[i].median_s;
    }
  weft_scale_fit(nn, tt, m, 0, &s->amdahl);
  weft_scale_fit(nn, tt, m, 1, &s->usl);
  g_free(nn);
  g_free(tt);
  g_free(s->preferred_why);
  s->preferred = NULL;
  if (s->amdahl.ok && s->usl.ok && !isnan(s->amdahl.aicc) && !isnan(s->usl.aicc)) {
    int usl = s->usl.kappa > 0 && s->usl.aicc < s->amdahl.aicc - 2;
    s->preferred = usl ? "usl" : "amdahl";
    s->preferred_why = g_strdup_printf("AICc %.1f (USL) vs %.1f (Amdahl)%s", s->usl.aicc, s->amdahl.aicc,
                                       usl ? "" : ": the coherency term does not earn its parameter");
  } else if (s->amdahl.ok) {
    s->preferred = "amdahl";
    s->preferred_why = g_strdup_printf("%d thread counts are too few to choose between the models (5 are needed); "
                                       "Amdahl has fewer parameters",
                                       s->amdahl.npoints);
  } else {
    s->preferred_why = g_strdup("fewer than 2 thread counts: no model fitted");
  }

  /* scaling backwards: a larger N significantly slower than the best */
  s->retrograde = 0;
  const WeftScalePoint *best = NULL;
  for (size_t i = 0; i < s->npoints; i++)
    if (s->points[i].nsamples && (!best || s->points[i].speedup.value > best->speedup.value)) best = &s->points[i];
  for (size_t i = 0; best && i < s->npoints; i++) {
    const WeftScalePoint *p = &s->points[i];
    if (p->threads > best->threads && p->nsamples && p->speedup.hi < best->speedup.lo) {
      if (!s->retrograde)
        finding(s,
                "the program scales backwards: %d threads are slower than %d (speedup %.2f [%.2f, %.2f] against "
                "%.2f [%.2f, %.2f]); more threads cost time",
                p->threads, best->threads, p->speedup.value, p->speedup.lo, p->speedup.hi, best->speedup.value,
                best->speedup.lo, best->speedup.hi);
      s->retrograde = 1;
    }
  }
  int nmax = s->npoints ? s->points[s->npoints - 1].threads : 0;
  if (s->preferred && !strcmp(s->preferred, "usl") && isfinite(s->usl.n_star) && s->usl.n_star < nmax)
    finding(s, "the USL fit peaks at N* = %.1f threads, inside the sweep (up to %d): beyond it throughput falls",
            s->usl.n_star, nmax);

  /* the lock whose waits grow most with the thread count */
  const WeftScalePoint *lo = NULL, *hi = NULL;
  for (size_t i = 0; i < s->npoints; i++)
    if (s->points[i].trace.ok) {
      if (!lo) lo = &s->points[i];
      hi = &s->points[i];
    }
  if (lo && hi && hi != lo) {
    const WeftScaleLock *grow = NULL;
    double growth = 0;
    for (size_t k = 0; k < hi->trace.nlocks; k++) {
      double g = hi->trace.locks[k].wait_ts - lock_wait(&lo->trace, hi->trace.locks[k].label);
      if (g > growth) {
        growth = g;
        grow = &hi->trace.locks[k];
      }
    }
    if (grow && growth >= 0.01 * hi->trace.capacity_ts)
      finding(s,
              "lock %s: its waits grow with the thread count, %.3g thread-s at %d %s to %.3g thread-s at %d "
              "threads (%.0f %% of the thread time there)",
              grow->label, lock_wait(&lo->trace, grow->label), lo->threads, lo->threads == 1 ? "thread" : "threads",
              grow->wait_ts, hi->threads, 100 * grow->wait_ts / hi->trace.capacity_ts);
  }
  if (hi && hi->threads > 1 && hi->trace.capacity_ts > 0) budget_finding(s, hi);
  for (size_t i = 0; i < s->npoints; i++)
    if (s->points[i].oversubscribed) {
      weft_scale_note(s, "points above %d threads are oversubscribed (more threads than usable CPUs, from %s)",
                      s->machine.usable_cpus, s->machine.usable_source);
      break;
    }
  weft_scale_judge(s);
}

/* ------------------------------------------------------------ comparison */

static const WeftScalePoint *find_point(const WeftScale *s, int threads) {
  for (size_t i = 0; i < s->npoints; i++)
    if (s->points[i].threads == threads && s->points[i].nsamples) return &s->points[i];
  return NULL;
}

static WeftScaleItem *new_item(WeftScale *s) {
  s->items = g_renew(WeftScaleItem, s->items, s->nitems + 1);
  WeftScaleItem *it = &s->items[s->nitems++];
  memset(it, 0, sizeof *it);
  it->p = it->p_adj = NAN;
  return it;
}

typedef struct {
  char *what;
  double delta;
} Term;

static int cmp_term(const void *a, const void *b) {
  double x = ((const Term *)a)->delta, y = ((const Term *)b)->delta;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* Why point cur got slower than base: the changes of the traced budget's
 * terms, largest first, as shares of the change of the capacity. */
static void explain_change(WeftScaleItem *it, const WeftScalePoint *cur, const WeftScalePoint *base) {
  const WeftScaleTrace *c = &cur->trace, *b = &base->trace;
  if (!c->ok || !b->ok) {
    strv_push(&it->why, &it->nwhy, g_strdup("no explanation: a traced run is missing on one side (--no-explain?)"));
    return;
  }
  double loss = c->capacity_ts - b->capacity_ts;
  if (loss <= 0) {
    strv_push(
        &it->why, &it->nwhy,
        g_strdup_printf("the traced runs do not show the loss (thread time %+.3g thread-s): no explanation", loss));
    return;
  }
  GArray *terms = g_array_new(FALSE, FALSE, sizeof(Term));
  for (size_t k = 0; k < c->nlocks; k++) {
    Term t = {g_strdup_printf("lock %s waits", c->locks[k].label),
              c->locks[k].wait_ts - lock_wait(b, c->locks[k].label)};
    g_array_append_val(terms, t);
  }
  for (size_t k = 0; k < b->nlocks; k++)
    if (lock_wait(c, b->locks[k].label) == 0 && b->locks[k].wait_ts > 0) {
      Term t = {g_strdup_printf("lock %s waits", b->locks[k].label), -b->locks[k].wait_ts};
      g_array_append_val(terms, t);
    }
  Term rest[] = {
      {g_strdup("waits for the GIL (Python threads taking turns to run Python)"), c->gil_wait_ts - b->gil_wait_ts},
      {g_strdup("other waits (condition variables, barriers, I/O, sleeps)"),
       (c->other_wait_ts - c->gil_wait_ts) - (b->other_wait_ts - b->gil_wait_ts)},
      {g_strdup("waiting for a CPU (runnable, not running: other load or more threads than CPUs)"),
       c->runq_ts - b->runq_ts},
      {g_strdup("idle thread time (serial parts, imbalance, start-up)"), c->idle_ts - b->idle_ts},
      {g_strdup("useful work"), c->useful_ts - b->useful_ts},
  };
  g_array_append_vals(terms, rest, 5);
  g_array_sort(terms, cmp_term);
  for (guint k = 0; k < terms->len; k++) {
    Term *t = &g_array_index(terms, Term, k);
    if (k < 3 && t->delta > 0.05 * loss)
      strv_push(&it->why, &it->nwhy,
                g_strdup_printf("%s grew by %.3g thread-s, %.0f %% of the loss at %d %s", t->what, t->delta,
                                100 * t->delta / loss, cur->threads, cur->threads == 1 ? "thread" : "threads"));
    g_free(t->what);
  }
  g_array_free(terms, TRUE);
}

static int same_str(const char *a, const char *b) { return a && b && !strcmp(a, b); }

void weft_scale_compare(WeftScale *s, const WeftScale *base) {
  s->has_baseline = 1;
  s->comparable = 1;
  const WeftScaleMachine *a = &s->machine, *b = &base->machine;
#define DIFF_INT(field, what)                  \
  if (a->field != b->field)                    \
  strv_push(&s->differences, &s->ndifferences, \
            g_strdup_printf("%s: %d here, %d in the baseline", what, a->field, b->field))
  if (!same_str(a->cpu_model, b->cpu_model))
    strv_push(&s->differences, &s->ndifferences,
              g_strdup_printf("CPU model: %s here, %s in the baseline", a->cpu_model, b->cpu_model));
  DIFF_INT(logical_cpus, "logical CPUs");
  DIFF_INT(physical_cores, "physical cores");
  DIFF_INT(usable_cpus, "usable CPUs");
  DIFF_INT(smt, "SMT");
#undef DIFF_INT
  if (s->ndifferences) {
    s->comparable = 0;
    s->verdict = "INCOMPARABLE";
    weft_scale_finish(s);
    return;
  }
  int same_cmd = s->argc == base->argc;
  for (int i = 0; same_cmd && i < s->argc; i++) same_cmd = !strcmp(s->argv[i], base->argv[i]);
  if (!same_cmd) weft_scale_note(s, "the baseline ran another command line; compared anyway");

  /* time per common point: U test, ratio of medians, Holm across them */
  size_t first = s->nitems, ncommon = 0;
  size_t rmin = SIZE_MAX;
  for (size_t i = 0; i < s->npoints; i++) {
    const WeftScalePoint *c = &s->points[i], *bp = find_point(base, c->threads);
    if (!c->nsamples || !bp) continue;
    ncommon++;
    WeftRng rng;
    weft_rng_seed(&rng, point_seed(s, c->threads, 2));
    WeftScaleItem *it = new_item(s);
    it->name = g_strdup_printf("threads=%d time", c->threads);
    it->threads = c->threads;
    it->metric = "time";
    it->base = bp->median_s;
    it->cur = c->median_s;
    WeftEstimate r = weft_stats_ratio_ci(c->samples_s, c->nsamples, bp->samples_s, bp->nsamples, s->bootstrap, &rng);
    it->ratio = r.value;
    it->lo = r.lo;
    it->hi = r.hi;
    it->p = weft_mann_whitney(c->samples_s, c->nsamples, bp->samples_s, bp->nsamples, NULL);
    size_t rr = c->nsamples < bp->nsamples ? c->nsamples : bp->nsamples;
    if (rr < rmin) rmin = rr;
  }
  for (size_t i = 0; i < s->npoints; i++)
    if (s->points[i].nsamples && !find_point(base, s->points[i].threads))
      weft_scale_note(s, "threads=%d: not in the baseline, not compared", s->points[i].threads);
  if (!ncommon) {
    weft_scale_note(s, "no thread count in common with the baseline: nothing compared");
    s->verdict = "NO_BASELINE";
    weft_scale_finish(s);
    return;
  }
  double *p = g_new(double, ncommon), *adj = g_new(double, ncommon);
  for (size_t k = 0; k < ncommon; k++) p[k] = s->items[first + k].p;
  weft_holm(p, ncommon, adj);
  for (size_t k = 0; k < ncommon; k++) {
    WeftScaleItem *it = &s->items[first + k];
    it->p_adj = adj[k];
    it->verdict = weft_scale_classify(it->ratio, it->p_adj, s->alpha, s->min_effect);
    it->detail = g_strdup_printf("median %.4g s, baseline %.4g s: %+.1f %% [%+.1f, %+.1f], p = %.2g, Holm-adjusted "
                                 "%.2g",
                                 it->cur, it->base, 100 * (it->ratio - 1), 100 * (it->lo - 1), 100 * (it->hi - 1),
                                 it->p, it->p_adj);
    if (it->ratio > 1 && (it->verdict == WEFT_VERDICT_REGRESSED || it->verdict == WEFT_VERDICT_WARN))
      explain_change(it, find_point(s, it->threads), find_point(base, it->threads));
  }
  g_free(p);
  g_free(adj);
  /* can the test see anything at these repeats? */
  if (weft_mann_whitney_min_p(rmin, rmin) * (double)ncommon >= s->alpha) {
    size_t need = rmin;
    while (need < 1000 && weft_mann_whitney_min_p(need, need) * (double)ncommon >= s->alpha) need++;
    weft_scale_note(s,
                    "with %zu runs per point no difference can be significant at alpha %g over %zu points: "
                    "use --repeat %zu or more",
                    rmin, s->alpha, ncommon, need);
  }

  /* shape: efficiency at the largest common N, from the speedup change */
  const WeftScalePoint *cref = reference(s), *bref = reference(base);
  const WeftScalePoint *cmax = NULL, *bmax = NULL;
  for (size_t i = s->npoints; i-- > 0;)
    if (s->points[i].nsamples && (bmax = find_point(base, s->points[i].threads))) {
      cmax = &s->points[i];
      break;
    }
  if (cref && bref && cmax && cref->threads == bref->threads && cmax->threads > cref->threads) {
    WeftRng rng;
    weft_rng_seed(&rng, point_seed(s, cmax->threads, 3));
    WeftEstimate r =
        weft_stats_ratio2_ci(cref->samples_s, cref->nsamples, cmax->samples_s, cmax->nsamples, bref->samples_s,
                             bref->nsamples, bmax->samples_s, bmax->nsamples, s->bootstrap, &rng);
    WeftScaleItem *it = new_item(s);
    it->name = g_strdup_printf("efficiency@threads=%d", cmax->threads);
    it->threads = cmax->threads;
    it->metric = "efficiency";
    it->cur = cmax->efficiency.value;
    it->base = bmax->efficiency.value;
    it->ratio = r.value;
    it->lo = r.lo;
    it->hi = r.hi;
    double drop = it->base - it->cur;
    if (drop > s->efficiency_drop && r.hi < 1)
      it->verdict = WEFT_VERDICT_REGRESSED;
    else if (-drop > s->efficiency_drop && r.lo > 1)
      it->verdict = WEFT_VERDICT_IMPROVED;
    else if (drop > s->efficiency_drop || (drop > 0 && r.hi < 1))
      it->verdict = WEFT_VERDICT_WARN;
    else
      it->verdict = WEFT_VERDICT_NO_CHANGE;
    it->detail = g_strdup_printf("efficiency %.3f, baseline %.3f (drop %.3f, gate %.3f); speedup change %+.1f %% "
                                 "[%+.1f, %+.1f]",
                                 it->cur, it->base, drop, s->efficiency_drop, 100 * (r.value - 1), 100 * (r.lo - 1),
                                 100 * (r.hi - 1));
    if (it->verdict == WEFT_VERDICT_REGRESSED || it->verdict == WEFT_VERDICT_WARN) explain_change(it, cmax, bmax);
  }
  /* shape: the USL peak, a warning only (N* from few points is noisy) */
  s->base_usl = base->usl;
  s->base_amdahl = base->amdahl;
  if (s->usl.ok && base->usl.ok && isfinite(s->usl.n_star) && isfinite(base->usl.n_star)) {
    WeftScaleItem *it = new_item(s);
    it->name = g_strdup("usl.n_star");
    it->metric = "n_star";
    it->cur = s->usl.n_star;
    it->base = base->usl.n_star;
    it->ratio = it->lo = it->hi = it->cur / it->base;
    it->verdict = it->ratio < 0.8 ? WEFT_VERDICT_WARN : WEFT_VERDICT_NO_CHANGE;
    it->detail = g_strdup_printf("USL peak N* %.1f, baseline %.1f (a warning below 80 %%)", it->cur, it->base);
  }
  weft_scale_finish(s);
}
