/* scale-verdict.c - the scaling verdict of a sweep and the noise check.
 * SPDX-License-Identifier: MIT
 *
 * Whether the program scales is said always, with or without a baseline:
 * from the speedup and efficiency at the largest thread count and their 95 %
 * intervals (thresholds in docs/man/weft-scale.md), in one sentence with the
 * cause the traced run found. The machine's own noise is measured during the
 * sweep (the CPU time of other processes from /proc/stat against the
 * program's, steal time, the spread of the repeats, and runnable time in a
 * traced run that had CPUs enough): when it could explain a poor result, the
 * verdict is INCONCLUSIVE and says what to do. A good result stands under
 * noise (noise does not make a program scale).
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "scale.h"

#define NOISE_COMPETING 0.10 /* others took this share of the CPUs the program's threads wanted */
#define NOISE_STEAL     0.05 /* of the CPUs' time */
#define NOISE_RUNQ      0.10 /* of a traced team's time, runnable with CPUs enough ... */
#define NOISE_RUNQ_BY                                                                           \
  0.25                  /* ... while other work kept this many CPUs busy: a thread woken from a \
                         * wait is runnable until a CPU takes it, which on a VM's idle vCPU is  \
                         * tens of µs (a lock-heavy program's own), not other load */
#define NOISE_CV   0.25 /* of a point's repeats */
#define CAUSE_MIN  0.05 /* a loss below this share of the thread time names no cause */
#define SCALES_EFF 0.75 /* defaults of --scales-efficiency and --poor-efficiency */
#define POOR_EFF   0.25

static const WeftScalePoint *smallest(const WeftScale *s) {
  for (size_t i = 0; i < s->npoints; i++)
    if (s->points[i].nsamples) return &s->points[i];
  return NULL;
}

static const WeftScalePoint *largest(const WeftScale *s) {
  for (size_t i = s->npoints; i-- > 0;)
    if (s->points[i].nsamples) return &s->points[i];
  return NULL;
}

static double sum(const double *v, size_t n) {
  double t = 0;
  for (size_t i = 0; v && i < n; i++) t += v[i];
  return t;
}

static void append(GString *g, const char *sep, char *part) {
  if (g->len) g_string_append(g, sep);
  g_string_append(g, part);
  g_free(part);
}

/* The noise of the sweep into s->noise_* and s->noisy. */
static void noise_check(WeftScale *s) {
  s->noise_other_cpus = s->noise_competing = s->noise_steal = s->noise_cv = s->noise_runq = 0;
  int cpus = s->machine.usable_cpus > 0 ? s->machine.usable_cpus : 1, at = 0, cv_at = 0, runq_at = 0;
  double other_at = 0;
  for (size_t i = 0; i < s->npoints; i++) {
    const WeftScalePoint *p = &s->points[i];
    double wall = sum(p->samples_s, p->nsamples);
    if (p->nsamples && isfinite(p->cv) && p->nsamples >= 3 && p->cv > s->noise_cv) {
      s->noise_cv = p->cv;
      cv_at = p->threads;
    }
    if (p->trace.ok && p->threads <= cpus && p->trace.capacity_ts > 0 &&
        p->trace.runq_ts / p->trace.capacity_ts > s->noise_runq) {
      s->noise_runq = p->trace.runq_ts / p->trace.capacity_ts;
      runq_at = p->threads;
    }
    /* (the traced run's own: other load may come and go between it and the timing runs) */
    if (p->trace.ok && p->trace.other_cpus > s->noise_other_cpus) s->noise_other_cpus = p->trace.other_cpus;
    if (!p->other_s || wall <= 0) continue;
    double other = sum(p->other_s, p->nsamples) / wall; /* CPUs busy with other work, on average */
    double free_cpus = cpus > p->threads ? cpus - p->threads : 0;
    double competing = (other > free_cpus ? other - free_cpus : 0) / p->threads;
    if (competing > s->noise_competing) {
      s->noise_competing = competing;
      other_at = other;
      at = p->threads;
    }
    if (other > s->noise_other_cpus) s->noise_other_cpus = other;
    double steal = sum(p->steal_s, p->nsamples) / (wall * cpus);
    if (steal > s->noise_steal) s->noise_steal = steal;
  }
  GString *g = g_string_new(NULL);
  if (s->noise_competing >= NOISE_COMPETING)
    append(g, "; ",
           g_strdup_printf("other work kept %.1f of the %d CPUs busy during the %d-thread runs (%.0f %% of the CPU "
                           "time those threads needed)",
                           other_at, cpus, at, 100 * s->noise_competing));
  if (s->noise_steal >= NOISE_STEAL)
    append(g, "; ",
           g_strdup_printf("the hypervisor gave %.0f %% of the CPUs' time to others (steal)", 100 * s->noise_steal));
  if (s->noise_runq >= NOISE_RUNQ && s->noise_other_cpus >= NOISE_RUNQ_BY)
    append(g, "; ",
           g_strdup_printf("in the traced %d-thread run its threads waited for a CPU %.0f %% of the time though there "
                           "were CPUs enough",
                           runq_at, 100 * s->noise_runq));
  if (s->noise_cv >= NOISE_CV)
    append(g, "; ",
           g_strdup_printf("the %d-thread runs vary by %.0f %% (coefficient of variation)", cv_at, 100 * s->noise_cv));
  s->noisy = g->len > 0;
  g_free(s->noise_why);
  s->noise_why = NULL;
  if (s->noisy) {
    g_string_append(g, ": run on a quiet machine or a dedicated runner, pin the program to CPUs of its own (taskset), "
                       "or add repeats (--repeat)");
    s->noise_why = g_string_free(g, FALSE);
  } else {
    g_string_free(g, TRUE);
  }
}

/* One loss of the traced run at hi, k as in cause(), in words. */
static char *loss_text(const WeftScale *s, const WeftScalePoint *hi, int k, double loss) {
  const WeftScaleTrace *t = &hi->trace;
  double share = 100 * loss / t->capacity_ts;
  switch (k) {
    case 0:
      return t->nlocks ? g_strdup_printf("its threads wait on `%s` %.0f %% of the time", t->locks[0].label, share)
                       : g_strdup_printf("its threads wait on locks %.0f %% of the time", share);
    case 1:
      return g_strdup_printf("its threads wait for the GIL %.0f %% of the time (Python runs one at a time)", share);
    case 2:
      return g_strdup_printf("its threads wait %.0f %% of the time on condition variables, barriers, I/O or sleeps",
                             share);
    case 3:
      /* CPUs enough and little other load: the scheduler ran the threads on fewer CPUs (a woken thread is
       * put where its waker runs) or took long to wake them (a VM's idle vCPU), as with threads that take
       * turns: fx-scale-lock's two threads on 2 CPUs, traced, one run in three here, 42 % runnable and
       * 2 % waiting on its one lock (the others: 25 % waiting on it, runnable 0.3 %) */
      if (hi->threads <= s->machine.usable_cpus && t->other_cpus < NOISE_RUNQ_BY) {
        char on[512] = "";
        if (t->nlocks)
          snprintf(on, sizeof on, " (here on `%s`)", t->locks[0].label);
        else if (t->held_lock)
          snprintf(on, sizeof on, " (here on `%s`, held %.0f %% of the time)", t->held_lock, 100 * t->held_share);
        return g_strdup_printf("its threads wait for a CPU %.0f %% of the time though there were %d CPUs for %d "
                               "threads: the scheduler ran them on fewer or was slow to wake them, as happens to "
                               "threads that take turns%s",
                               share, s->machine.usable_cpus, hi->threads, on);
      }
      return g_strdup_printf("its threads wait for a CPU %.0f %% of the time (%d threads, %d usable CPUs)", share,
                             hi->threads, s->machine.usable_cpus);
    case 4: return g_strdup_printf("%.0f %% of the thread time is idle: serial parts or unequal work", share);
    case 6: {
      char b[32] = "";
      if (t->ipc_bytes > 0) snprintf(b, sizeof b, " (%.3g MB)", t->ipc_bytes / 1e6);
      return g_strdup_printf("moving data to and from its worker processes takes %.0f %% of the thread time%s: "
                             "pickling and piping task arguments and results",
                             share, b);
    }
    case 7:
      return g_strdup_printf("its worker processes spend %.0f %% of the thread time starting up (an interpreter "
                             "and the main module's imports each)",
                             share);
    default:
      return g_strdup_printf("%d threads do %.3g thread-s more work than one (contention on shared data, spinning)",
                             hi->threads, loss);
  }
}

/* What the traced run at the largest N says the lost thread time went to:
 * its largest loss, and the next one when that is CAUSE_MIN or more too (a
 * serialising lock often shows as idle time as well as lock waits); NULL
 * when no loss stands out. A Python pool's data moving and its workers'
 * start-up are losses too: the waits on its queues' locks and the workers'
 * waits while the parent pickles and pipes their data are the moving's
 * (taken out of the lock and the other waits), their start-up is running
 * time (not in the budget's losses). */
static char *cause(const WeftScale *s) {
  const WeftScalePoint *hi = NULL;
  for (size_t i = 0; i < s->npoints; i++)
    if (s->points[i].trace.ok && s->points[i].threads > 1) hi = &s->points[i];
  if (!hi || hi->trace.capacity_ts <= 0) return NULL;
  const WeftScaleTrace *t = &hi->trace;
  double cap = t->capacity_ts, extra = isfinite(t->extra_work_ts) && t->extra_work_ts > 0 ? t->extra_work_ts : 0;
  double ipc = t->ipc_ts > 0 ? t->ipc_ts : 0, ipc_lock = t->ipc_lock_ts > 0 ? t->ipc_lock_ts : 0;
  double lock = t->lock_wait_ts - ipc_lock, other = t->other_wait_ts - t->gil_wait_ts - (ipc - ipc_lock);
  double loss[8] = {lock > 0 ? lock : 0,
                    t->gil_wait_ts,
                    other > 0 ? other : 0,
                    t->runq_ts,
                    t->idle_ts,
                    extra,
                    ipc,
                    t->startup_ts > 0 ? t->startup_ts : 0};
  int k = 0, k2 = -1;
  for (int i = 1; i < 8; i++)
    if (loss[i] > loss[k]) k = i;
  for (int i = 0; i < 8; i++)
    if (i != k && (k2 < 0 || loss[i] > loss[k2])) k2 = i;
  if (loss[k] < CAUSE_MIN * cap) return NULL;
  char *first = loss_text(s, hi, k, loss[k]);
  if (loss[k2] < CAUSE_MIN * cap) return first;
  char *second = loss_text(s, hi, k2, loss[k2]), *both = g_strdup_printf("%s; %s", first, second);
  g_free(first);
  g_free(second);
  return both;
}

/* The verdict from the numbers alone, and its sentence's first half. */
static const char *raw_verdict(const WeftScale *s, const WeftScalePoint *p, const WeftScalePoint *r, char **what) {
  WeftEstimate S = p->speedup, E = p->efficiency;
  /* slower beyond doubt, and by more than --min-effect (a 2 % loss is no scaling, not a slowdown) */
  double slower = 1 / (1 + (s->min_effect > 0 ? s->min_effect : 0.05));
  const char *v = S.hi < slower                                     ? "SLOWS_DOWN"
                  : E.value >= s->scales_eff && E.lo >= s->poor_eff ? "SCALES"
                  : S.lo > 1 && E.value >= s->poor_eff              ? "SCALES_POORLY"
                                                                    : "DOES_NOT_SCALE";
  if (s->weak)
    *what = g_strdup_printf("with %d times the work, %d threads take %.2fx the time of %d (efficiency %.0f %% [%.0f, "
                            "%.0f])",
                            p->threads / r->threads, p->threads, 1 / E.value, r->threads, 100 * E.value, 100 * E.lo,
                            100 * E.hi);
  else if (!strcmp(v, "SLOWS_DOWN"))
    *what = g_strdup_printf("%d threads are %.2fx slower than %d (speedup %.2f [%.2f, %.2f])", p->threads, 1 / S.value,
                            r->threads, S.value, S.lo, S.hi);
  else
    *what = g_strdup_printf("%d threads are %.2fx as fast as %d (efficiency %.0f %% [%.0f, %.0f])", p->threads,
                            S.value / r->threads, r->threads, 100 * E.value, 100 * E.lo, 100 * E.hi);
  return v;
}

void weft_scale_judge(WeftScale *s) {
  if (!(s->scales_eff > 0)) s->scales_eff = SCALES_EFF;
  if (!(s->poor_eff > 0)) s->poor_eff = POOR_EFF;
  g_free(s->scaling_why);
  s->scaling_why = NULL;
  noise_check(s);
  const WeftScalePoint *p = largest(s), *r = smallest(s);
  s->scaling_threads = p ? p->threads : 0;
  if (s->failed || !p || p == r || !isfinite(p->speedup.value)) {
    s->scaling = s->scaling_raw = "INCONCLUSIVE";
    s->scaling_why = g_strdup(s->failed ? "the program failed: nothing to judge"
                                        : "one thread count measured: nothing to judge (use --threads 1,2,4,...)");
    return;
  }
  char *what = NULL;
  s->scaling = s->scaling_raw = raw_verdict(s, p, r, &what);
  char *why = strcmp(s->scaling_raw, "SCALES") ? cause(s) : NULL;
  if (why) {
    char *t = g_strdup_printf("%s: %s", what, why);
    g_free(what);
    g_free(why);
    what = t;
  }
  if (s->noisy && strcmp(s->scaling_raw, "SCALES")) {
    s->scaling = "INCONCLUSIVE";
    s->scaling_why = g_strdup_printf("%s; but the machine was busy, which could explain it: %s", what, s->noise_why);
    g_free(what);
  } else {
    s->scaling_why = what;
  }
}

/* --require-scaling: 0 met, 1 not met, -1 not judged (noise). */
static int scaling_unmet(const WeftScale *s) {
  if (!s->require_scaling || !s->scaling) return 0;
  if (!strcmp(s->scaling, "INCONCLUSIVE")) return -1;
  if (!strcmp(s->scaling, "SCALES")) return 0;
  return strcmp(s->require_scaling, "SCALES_POORLY") || strcmp(s->scaling, "SCALES_POORLY") ? 1 : 0;
}

/* The baseline's verdict, then the scaling gate: a clear regression wins,
 * then scaling below --require-scaling, then a gate the noise left open
 * (exit 3: retry on a quieter machine). */
void weft_scale_finish(WeftScale *s) {
  if (s->failed) {
    s->verdict = "ERROR";
    s->exit_code = WEFT_SCALE_EXIT_PROGRAM;
    return;
  }
  s->exit_code = WEFT_SCALE_EXIT_OK;
  if (!s->has_baseline) {
    s->verdict = "NO_BASELINE";
  } else if (s->comparable && s->nitems) {
    int worst = -1;
    static const int rank[] = {[WEFT_VERDICT_NO_CHANGE] = 0,
                               [WEFT_VERDICT_IMPROVED] = 1,
                               [WEFT_VERDICT_WARN] = 2,
                               [WEFT_VERDICT_REGRESSED] = 3};
    for (size_t i = 0; i < s->nitems; i++)
      if (rank[s->items[i].verdict] > worst) worst = rank[s->items[i].verdict];
    s->verdict = worst == 3 ? "REGRESSED" : worst == 2 ? "WARN" : worst == 1 ? "IMPROVED" : "NO_CHANGE";
    if (worst >= 2 && s->noisy)
      s->verdict = "INCONCLUSIVE"; /* the noise could explain it: not a regression to fail on */
    else if (worst == 3)
      s->exit_code = WEFT_SCALE_EXIT_REGRESSION;
  }
  int unmet = scaling_unmet(s);
  if (s->exit_code == WEFT_SCALE_EXIT_OK && unmet > 0) s->exit_code = WEFT_SCALE_EXIT_SCALING;
  if (s->exit_code == WEFT_SCALE_EXIT_OK && (unmet < 0 || !strcmp(s->verdict, "INCONCLUSIVE")))
    s->exit_code = WEFT_SCALE_EXIT_INCONCLUSIVE;
}
