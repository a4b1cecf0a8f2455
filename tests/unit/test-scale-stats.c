/* test-scale-stats.c - the statistics of `weft scale` on synthetic data with
 * known answers (analyzer/scale/scale-stats.c).
 * SPDX-License-Identifier: MIT
 *
 * Every random number comes from seeded WeftRngs, so a failure reproduces.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scale-stats.h"
#include "tap.h"

#define NEAR(a, b, tol) (fabs((a) - (b)) <= (tol))
#define REL(a, b, tol)  (fabs((a) - (b)) <= (tol)*fabs(b))

static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Amdahl time at n threads of a program with serial fraction f, T(1) = t1. */
static double amdahl_time(double t1, double f, double n) { return t1 * (f + (1 - f) / n); }
static double usl_time(double t1, double s, double k, double n) { return t1 / weft_usl_speedup(s, k, n); }

/* n samples of t with multiplicative log-normal noise of relative sd cv. */
static void noisy(WeftRng *r, double t, double cv, double *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = t * exp(cv * weft_rng_normal(r));
}

static void t_summaries(void) {
  double x[] = {5, 1, 4, 2, 3};
  ok(weft_stats_median(x, 5) == 3, "median of 1..5 is 3");
  double y[] = {4, 1, 3, 2};
  ok(weft_stats_median(y, 4) == 2.5, "median of 1..4 is 2.5");
  ok(weft_stats_iqr(x, 5) == 2, "IQR of 1..5 (type 7) is 2");
  ok(weft_stats_mad(x, 5) == 1, "MAD of 1..5 is 1");
  ok(NEAR(weft_stats_sd(x, 5), sqrt(2.5), 1e-12), "sample sd of 1..5 is sqrt(2.5)");
  ok(weft_stats_min(x, 5) == 1 && weft_stats_mean(x, 5) == 3, "min and mean");
  ok(isnan(weft_stats_median(x, 0)), "median of nothing is NAN");
}

static void t_rng(void) {
  WeftRng a, b;
  weft_rng_seed(&a, 42);
  weft_rng_seed(&b, 42);
  int same = 1;
  for (int i = 0; i < 100; i++) same &= weft_rng_next(&a) == weft_rng_next(&b);
  ok(same, "the PRNG is deterministic for a seed");
  weft_rng_seed(&b, 43);
  ok(weft_rng_next(&a) != weft_rng_next(&b), "another seed, another stream");
  int perm[8] = {0, 1, 2, 3, 4, 5, 6, 7}, seen = 0;
  weft_rng_shuffle(&a, perm, 8);
  for (int i = 0; i < 8; i++) seen |= 1 << perm[i];
  ok(seen == 0xff, "a shuffle is a permutation");
  double s = 0, s2 = 0;
  for (int i = 0; i < 20000; i++) {
    double z = weft_rng_normal(&a);
    s += z;
    s2 += z * z;
  }
  ok(NEAR(s / 20000, 0, 0.03) && NEAR(s2 / 20000, 1, 0.05), "normal deviates have mean 0 and variance 1");
}

static void t_bootstrap(void) {
  WeftRng r;
  double x[10];
  weft_rng_seed(&r, 1);
  noisy(&r, 1.0, 0.05, x, 10);
  WeftRng r1, r2;
  weft_rng_seed(&r1, 7);
  weft_rng_seed(&r2, 7);
  WeftEstimate e1 = weft_stats_median_ci(x, 10, 2000, &r1), e2 = weft_stats_median_ci(x, 10, 2000, &r2);
  ok(e1.lo == e2.lo && e1.hi == e2.hi && e1.value == weft_stats_median(x, 10),
     "bootstrap CI of the median is deterministic for a seed");
  ok(e1.lo <= e1.value && e1.value <= e1.hi && e1.hi - e1.lo > 0, "the CI [%g, %g] contains the median %g", e1.lo,
     e1.hi, e1.value);

  /* coverage of the median's CI on log-normal data, CV 5 %, r = 10 */
  int covered = 0, trials = 400;
  for (int t = 0; t < trials; t++) {
    noisy(&r, 1.0, 0.05, x, 10);
    WeftEstimate e = weft_stats_median_ci(x, 10, 500, &r);
    covered += e.lo <= 1.0 && 1.0 <= e.hi;
  }
  ok(covered >= trials * 88 / 100 && covered <= trials * 99 / 100,
     "the median's 95%% CI covers the true median in %d of %d trials (88-99%%)", covered, trials);

  /* speedup CI: T(1) = 1, T(4) = 0.3 */
  double a[10], b[10];
  noisy(&r, 1.0, 0.02, a, 10);
  noisy(&r, 0.3, 0.02, b, 10);
  WeftEstimate s = weft_stats_ratio_ci(a, 10, b, 10, 2000, &r);
  ok(s.lo < 1 / 0.3 && 1 / 0.3 < s.hi && s.hi - s.lo < 0.3, "speedup CI [%.3f, %.3f] contains 3.333", s.lo, s.hi);
}

static void t_karp_flatt(void) {
  double f = 0.1, worst = 0;
  for (int n = 2; n <= 64; n *= 2) {
    double s = amdahl_time(1, f, 1) / amdahl_time(1, f, n);
    worst = fmax(worst, fabs(weft_karp_flatt(s, n) - f));
  }
  ok(worst < 1e-12, "Karp-Flatt on noise-free Amdahl data (f = 0.1) is f at every N (error %.1e)", worst);
  ok(isnan(weft_karp_flatt(1, 1)), "Karp-Flatt is undefined at N = 1");
  ok(NEAR(weft_karp_flatt(2, 2), 0, 1e-15), "perfect speedup has serial fraction 0");
}

static void t_fits_exact(void) {
  double n[] = {1, 2, 4, 8, 16, 32, 64}, t[7];
  WeftScaleFit fit;
  for (int i = 0; i < 7; i++) t[i] = amdahl_time(2.0, 0.07, n[i]);
  weft_scale_fit(n, t, 7, 0, &fit);
  ok(fit.ok && REL(fit.sigma, 0.07, 1e-6) && REL(fit.gamma, 0.5, 1e-6),
     "Amdahl fit on noise-free data: serial fraction %.9f (0.07), gamma %.9f (0.5)", fit.sigma, fit.gamma);
  weft_scale_fit(n, t, 7, 1, &fit);
  ok(fit.ok && REL(fit.sigma, 0.07, 1e-6) && fit.kappa < 1e-9, "USL fit on Amdahl data: sigma %.9f, kappa %.2e (0)",
     fit.sigma, fit.kappa);

  for (int i = 0; i < 7; i++) t[i] = usl_time(1.0, 0.03, 5e-4, n[i]);
  weft_scale_fit(n, t, 7, 1, &fit);
  double nstar = sqrt((1 - 0.03) / 5e-4);
  ok(fit.ok && REL(fit.sigma, 0.03, 1e-6) && REL(fit.kappa, 5e-4, 1e-6) && REL(fit.n_star, nstar, 1e-6),
     "USL fit on noise-free data: sigma %.9f (0.03), kappa %.9g (5e-4), N* %.4f (%.4f)", fit.sigma, fit.kappa,
     fit.n_star, nstar);
  WeftScaleFit am;
  weft_scale_fit(n, t, 7, 0, &am);
  ok(am.ok && fit.ok && fit.aicc < am.aicc - 2, "on USL data the USL's AICc (%.1f) beats Amdahl's (%.1f)", fit.aicc,
     am.aicc);

  /* too few points */
  weft_scale_fit(n, t, 2, 1, &fit);
  ok(!fit.ok && fit.npoints == 2, "USL needs 3 distinct thread counts");
  weft_scale_fit(n, t, 2, 0, &fit);
  ok(fit.ok && isnan(fit.aicc), "Amdahl fits 2 points exactly, without an AICc");
  double n1[] = {1, 1, 1}, t1[] = {1, 1.1, 0.9};
  weft_scale_fit(n1, t1, 3, 0, &fit);
  ok(!fit.ok, "one thread count is not enough to fit anything");
}

/* USL data with 2 % noise: sigma and kappa back within 5 % (median over
 * seeds). With kappa = 1e-4 and N <= 64 the coherency term is at most 0.4
 * against a contention term of 1.3 to 6.3: kappa is barely identifiable
 * from 7 points, so for it the bounds are the measured ones with a margin
 * (kappa within 30 %, N* within 15 %); the 5 % bound holds from 5e-4. */
static void t_fits_noisy(void) {
  const double sig[] = {0.02, 0.05, 0.1}, kap[] = {1e-4, 5e-4, 1e-3};
  double n[] = {1, 2, 4, 8, 16, 32, 64};
  enum { SEEDS = 60, R = 10 };
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) {
      double es[SEEDS], ek[SEEDS], en[SEEDS];
      WeftRng r;
      weft_rng_seed(&r, (uint64_t)(a * 10 + b + 1));
      for (int s = 0; s < SEEDS; s++) {
        double med[7], x[R];
        for (int i = 0; i < 7; i++) {
          noisy(&r, usl_time(1.0, sig[a], kap[b], n[i]), 0.02, x, R);
          med[i] = weft_stats_median(x, R);
        }
        WeftScaleFit fit;
        weft_scale_fit(n, med, 7, 1, &fit);
        es[s] = fit.ok ? fabs(fit.sigma - sig[a]) / sig[a] : 1e9;
        ek[s] = fit.ok ? fabs(fit.kappa - kap[b]) / kap[b] : 1e9;
        en[s] = fit.ok ? fabs(fit.n_star - sqrt((1 - sig[a]) / kap[b])) / sqrt((1 - sig[a]) / kap[b]) : 1e9;
      }
      qsort(es, SEEDS, sizeof *es, cmp_d);
      qsort(ek, SEEDS, sizeof *ek, cmp_d);
      qsort(en, SEEDS, sizeof *en, cmp_d);
      double kb = kap[b] < 5e-4 ? 0.30 : 0.05, nb = kap[b] < 5e-4 ? 0.15 : 0.05;
      ok(es[SEEDS / 2] <= 0.05 && ek[SEEDS / 2] <= kb && en[SEEDS / 2] <= nb,
         "USL sigma=%g kappa=%g, 2%% noise, r=%d: median relative error sigma %.1f%% (<= 5%%), kappa %.1f%% "
         "(<= %.0f%%), N* %.1f%% (<= %.0f%%)",
         sig[a], kap[b], R, 100 * es[SEEDS / 2], 100 * ek[SEEDS / 2], 100 * kb, 100 * en[SEEDS / 2], 100 * nb);
    }
}

static void t_mann_whitney(void) {
  double x[] = {1, 2, 3}, y[] = {4, 5, 6}, u;
  double p = weft_mann_whitney(x, 3, y, 3, &u);
  ok(u == 0 && NEAR(p, 0.1, 1e-12), "exact U test, 3 vs 3 fully separated: U = %g, p = %g (0.1)", u, p);
  double x5[] = {1, 2, 3, 4, 5}, y5[] = {6, 7, 8, 9, 10};
  p = weft_mann_whitney(y5, 5, x5, 5, &u);
  ok(u == 25 && NEAR(p, 2.0 / 252, 1e-12), "exact U test, 5 vs 5 separated: p = %g (2/252)", p);
  ok(NEAR(weft_mann_whitney_min_p(5, 5), 2.0 / 252, 1e-15) && weft_mann_whitney_min_p(3, 3) == 0.1,
     "smallest possible p-values");
  double a[] = {1, 3, 5, 7}, b[] = {2, 4, 6, 8};
  p = weft_mann_whitney(a, 4, b, 4, &u);
  /* U = 6 of 16; for 4 vs 4 the counts of U = 0..6 are 1 1 2 3 5 5 7 of 70 */
  ok(u == 6 && NEAR(p, 2.0 * 24 / 70, 1e-12), "exact U test, interleaved: U = %g, p = %.6f (%.6f)", u, p,
     2.0 * 24 / 70);
  double tx[] = {1, 2, 3, 4}, ty[] = {3, 4, 5, 6};
  p = weft_mann_whitney(tx, 4, ty, 4, &u);
  ok(u == 2 && NEAR(p, 0.10806337293756862, 1e-12),
     "with ties: normal approximation with tie and continuity corrections, p = %.10f", p);
  double same[] = {1, 1, 1};
  ok(weft_mann_whitney(same, 3, same, 3, NULL) == 1, "identical constant samples: p = 1");
}

static void t_holm(void) {
  double p[] = {0.01, 0.04, 0.03, 0.005, NAN}, adj[5];
  weft_holm(p, 5, adj);
  ok(NEAR(adj[0], 0.03, 1e-15) && NEAR(adj[1], 0.06, 1e-15) && NEAR(adj[2], 0.06, 1e-15) && NEAR(adj[3], 0.02, 1e-15) &&
         isnan(adj[4]),
     "Holm: %g %g %g %g (0.03 0.06 0.06 0.02), NAN skipped", adj[0], adj[1], adj[2], adj[3]);
}

/* The comparison rule of weft scale on a family of 4 thread counts: the U
 * test per point, Holm across them, then weft_scale_classify. Returns the
 * worst verdict. */
static WeftVerdict compare_family(WeftRng *r, double cv, double slowdown, int reps) {
  double p[4], ratio[4], adj[4];
  for (int i = 0; i < 4; i++) {
    double base[16], cur[16], t = 1.0 / (i + 1);
    noisy(r, t, cv, base, (size_t)reps);
    noisy(r, t * slowdown, cv, cur, (size_t)reps);
    p[i] = weft_mann_whitney(cur, (size_t)reps, base, (size_t)reps, NULL);
    ratio[i] = weft_stats_median(cur, (size_t)reps) / weft_stats_median(base, (size_t)reps);
  }
  weft_holm(p, 4, adj);
  WeftVerdict worst = WEFT_VERDICT_NO_CHANGE;
  for (int i = 0; i < 4; i++) {
    WeftVerdict v = weft_scale_classify(ratio[i], adj[i], 0.01, 0.05);
    if (v == WEFT_VERDICT_REGRESSED || (v == WEFT_VERDICT_WARN && worst != WEFT_VERDICT_REGRESSED)) worst = v;
  }
  return worst;
}

static void t_verdicts(void) {
  ok(weft_scale_classify(1.10, 0.001, 0.01, 0.05) == WEFT_VERDICT_REGRESSED, "10%% slower, significant: REGRESSED");
  ok(weft_scale_classify(1.03, 0.001, 0.01, 0.05) == WEFT_VERDICT_WARN, "3%% slower, significant: WARN");
  ok(weft_scale_classify(1.10, 0.2, 0.01, 0.05) == WEFT_VERDICT_WARN, "10%% slower, not significant: WARN");
  ok(weft_scale_classify(0.90, 0.001, 0.01, 0.05) == WEFT_VERDICT_IMPROVED, "10%% faster, significant: IMPROVED");
  ok(weft_scale_classify(1.01, 0.5, 0.01, 0.05) == WEFT_VERDICT_NO_CHANGE, "1%% slower, not significant: NO_CHANGE");

  WeftRng r;
  weft_rng_seed(&r, 2024);
  int trials = 1000, regressed = 0;
  for (int t = 0; t < trials; t++) regressed += compare_family(&r, 0.03, 1.0, 10) == WEFT_VERDICT_REGRESSED;
  ok(regressed <= trials / 100,
     "A/A: identical distributions (CV 3%%, r=10, 4 points) flag a regression in %d of "
     "%d trials (<= 1%%)",
     regressed, trials);
  int noisy_reg = 0;
  for (int t = 0; t < trials; t++) noisy_reg += compare_family(&r, 0.10, 1.0, 6) == WEFT_VERDICT_REGRESSED;
  ok(noisy_reg <= trials / 100,
     "A/A on a noisy machine (CV 10%%, r=6) flags a regression in %d of %d trials "
     "(<= 1%%)",
     noisy_reg, trials);
  int caught = 0;
  for (int t = 0; t < trials; t++) caught += compare_family(&r, 0.03, 1.10, 10) == WEFT_VERDICT_REGRESSED;
  ok(caught >= trials * 95 / 100, "a true 10%% slowdown (CV 3%%, r=10) is REGRESSED in %d of %d trials (>= 95%%)",
     caught, trials);
  int improved_as_reg = 0;
  for (int t = 0; t < 200; t++) improved_as_reg += compare_family(&r, 0.03, 0.90, 10) == WEFT_VERDICT_REGRESSED;
  ok(improved_as_reg == 0, "a true 10%% speed-up is never REGRESSED (%d of 200)", improved_as_reg);
}

/* Steps in a history (weft scale --history): a lasting shift is one step at
 * the right place, a lone outlier and a noisy flat series none, a shift below
 * min_rel is not reported, two shifts are two. */
static void t_steps(void) {
  WeftRng rng;
  weft_rng_seed(&rng, 42);
  double v[40];
  size_t at[8], n;
  for (int i = 0; i < 40; i++) v[i] = (i < 25 ? 0.90 : 0.62) + 0.02 * weft_rng_normal(&rng);
  n = weft_scale_steps(v, 40, 0.05, at, 8);
  ok(n == 1 && at[0] == 25, "steps: efficiency 0.90 -> 0.62 at run 25 (noise 0.02): one step at 25 (%zu, at %zu)", n,
     n ? at[0] : 0);
  for (int i = 0; i < 40; i++) v[i] = 0.90 + 0.02 * weft_rng_normal(&rng);
  v[17] = 0.50; /* one bad night */
  n = weft_scale_steps(v, 40, 0.05, at, 8);
  ok(n == 0, "steps: a flat series with one outlier: no step (%zu)", n);
  for (int i = 0; i < 40; i++) v[i] = (i < 20 ? 1.00 : 1.03) + 0.002 * weft_rng_normal(&rng);
  n = weft_scale_steps(v, 40, 0.05, at, 8);
  ok(n == 0, "steps: a 3 %% shift with min_rel 5 %%: not reported (%zu)", n);
  for (int i = 0; i < 30; i++) v[i] = (i < 10 ? 2.0 : i < 20 ? 3.0 : 2.2) + 0.05 * weft_rng_normal(&rng);
  n = weft_scale_steps(v, 30, 0.05, at, 8);
  ok(n == 2 && at[0] == 10 && at[1] == 20, "steps: 2.0, 3.0, 2.2: steps at 10 and 20 (%zu: %zu, %zu)", n,
     n > 0 ? at[0] : 0, n > 1 ? at[1] : 0);
  n = weft_scale_steps(v, 2, 0.05, at, 8);
  ok(n == 0, "steps: two values are too few (%zu)", n);
}

int main(void) {
  t_steps();
  t_summaries();
  t_rng();
  t_bootstrap();
  t_karp_flatt();
  t_fits_exact();
  t_fits_noisy();
  t_mann_whitney();
  t_holm();
  t_verdicts();
  printf("1..%d\n", ntest);
  return nfail ? 1 : 0;
}
