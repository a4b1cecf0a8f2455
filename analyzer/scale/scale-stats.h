/* scale-stats.h - the statistics of `weft scale`: robust summaries, seeded
 * bootstrap intervals, the Mann-Whitney U test, Holm's correction, and the
 * Amdahl and Universal Scalability Law fits.
 * SPDX-License-Identifier: MIT
 *
 * Pure functions on arrays of doubles: no I/O, no global state, no
 * allocation visible to the caller (temporary buffers are malloc'd and
 * freed inside). Every random choice comes from a WeftRng the caller seeds,
 * so the same inputs and seed give the same bits. Safe from any thread.
 * Definitions are in docs/scale-json.md.
 */
#ifndef WEFT_SCALE_STATS_H
#define WEFT_SCALE_STATS_H

#include <stddef.h>
#include <stdint.h>

/* ---- a small PRNG (xoshiro256**, seeded through splitmix64) ---- */
typedef struct {
  uint64_t s[4];
} WeftRng;

void weft_rng_seed(WeftRng *r, uint64_t seed);
uint64_t weft_rng_next(WeftRng *r);
double weft_rng_uniform(WeftRng *r);         /* [0, 1) */
size_t weft_rng_below(WeftRng *r, size_t n); /* [0, n), n > 0; unbiased */
double weft_rng_normal(WeftRng *r);          /* standard normal (Box-Muller) */
void weft_rng_shuffle(WeftRng *r, int *a, size_t n);

/* ---- summaries ---- */
double weft_stats_median(const double *x, size_t n);             /* NAN for n == 0 */
double weft_stats_quantile(const double *x, size_t n, double q); /* linear interpolation (type 7) */
double weft_stats_mean(const double *x, size_t n);
double weft_stats_sd(const double *x, size_t n);  /* sample standard deviation; 0 for n < 2 */
double weft_stats_mad(const double *x, size_t n); /* median absolute deviation, unscaled */
double weft_stats_iqr(const double *x, size_t n);
double weft_stats_min(const double *x, size_t n);

/* A value and its 95 % interval; lo = hi = value when there is no interval. */
typedef struct {
  double value, lo, hi;
} WeftEstimate;

/* The median of x with a percentile bootstrap 95 % interval (reps resamples). */
WeftEstimate weft_stats_median_ci(const double *x, size_t n, int reps, WeftRng *rng);

/* median(a) / median(b) with a percentile bootstrap 95 % interval, a and b
 * resampled independently. Speedup is ratio(T(1), T(N)). */
WeftEstimate weft_stats_ratio_ci(const double *a, size_t na, const double *b, size_t nb, int reps, WeftRng *rng);

/* (median(a1) / median(b1)) / (median(a2) / median(b2)) with a percentile
 * bootstrap 95 % interval, the four samples resampled independently: the
 * change of a speedup T(1)/T(N) between two runs. */
WeftEstimate weft_stats_ratio2_ci(const double *a1, size_t na1, const double *b1, size_t nb1, const double *a2,
                                  size_t na2, const double *b2, size_t nb2, int reps, WeftRng *rng);

/* Karp-Flatt experimentally determined serial fraction at n threads from a
 * speedup s: (1/s - 1/n) / (1 - 1/n). NAN for n < 2 or s <= 0. */
double weft_karp_flatt(double s, double n);

/* ---- tests ---- */

/* Two-sided Mann-Whitney U test of x against y. Exact (by counting) when
 * there are no ties and na + nb <= 40, otherwise the normal approximation
 * with tie and continuity corrections. *u_out (may be NULL) gets U of x.
 * Returns the p-value in [0, 1]; 1 when either sample is empty. */
double weft_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, double *u_out);

/* The smallest two-sided p-value an exact Mann-Whitney test of nx against ny
 * samples can give: 2 / C(nx+ny, nx) (capped at 1). */
double weft_mann_whitney_min_p(size_t nx, size_t ny);

/* Holm-Bonferroni: adjusted p-values (monotone, capped at 1) of p[0..n) into
 * adj[0..n) (may be the same array). NAN entries are skipped (left NAN and
 * not counted). */
void weft_holm(const double *p, size_t n, double *adj);

/* The verdict of one comparison: a ratio new/old of median times (> 1 is
 * slower) and its adjusted p-value, against alpha and the smallest effect
 * that matters (0.05 = 5 %):
 *   REGRESSED  p_adj < alpha and ratio > 1 + min_effect
 *   IMPROVED   p_adj < alpha and ratio < 1 / (1 + min_effect)
 *   WARN       slower, and either significant but smaller than min_effect,
 *              or larger than min_effect but not significant
 *   NO_CHANGE  otherwise */
typedef enum {
  WEFT_VERDICT_NO_CHANGE = 0,
  WEFT_VERDICT_IMPROVED = 1,
  WEFT_VERDICT_WARN = 2,
  WEFT_VERDICT_REGRESSED = 3,
} WeftVerdict;

WeftVerdict weft_scale_classify(double ratio, double p_adj, double alpha, double min_effect);
const char *weft_verdict_name(WeftVerdict v); /* "NO_CHANGE", ... */

/* ---- models ----
 *
 * Fitted to the throughput X(N) = 1 / T(N) of each point (the median time),
 * with relative residuals (X_model - X) / X, so every point weighs the same
 * under multiplicative noise:
 *   Amdahl: X(N) = g N / (1 + s (N - 1))                  (kappa = 0)
 *   USL:    X(N) = g N / (1 + s (N - 1) + k N (N - 1))
 * g is the single-thread throughput, s = sigma (serial fraction, contention),
 * k = kappa (coherency). Bounds: 0 <= s <= 1, k >= 0. Levenberg-Marquardt
 * from Gunther's linearisation. The peak N* = sqrt((1 - s) / k) (INFINITY
 * when k is 0). */
typedef struct {
  int ok;      /* 0: not enough distinct thread counts, or no convergence */
  int npoints; /* distinct thread counts used */
  int nparams; /* 2 (Amdahl) or 3 (USL) */
  double gamma, sigma, kappa;
  double n_star;       /* USL: peak; Amdahl: INFINITY */
  double peak_speedup; /* C(N*) relative to C(1); Amdahl: 1 / sigma (INFINITY if 0) */
  double rss;          /* sum of squared relative residuals */
  double r2;           /* 1 - rss / total sum of squares of the relative values */
  double aicc;         /* NAN when npoints <= nparams + 1 */
} WeftScaleFit;

/* Fit the model (usl != 0: USL; else Amdahl) to n points (threads[i],
 * time[i]); duplicate thread counts are allowed. Needs >= 2 distinct N for
 * Amdahl, >= 3 for USL; otherwise ok = 0. */
void weft_scale_fit(const double *threads, const double *time, size_t n, int usl, WeftScaleFit *out);

/* The USL/Amdahl speedup C(N)/C(1) for fitted sigma and kappa. */
double weft_usl_speedup(double sigma, double kappa, double n);

/* The starts of lasting level changes of v[0..n) (at most max_steps), each
 * at least min_rel of the level before: a penalised L1 piecewise-constant fit. */
size_t weft_scale_steps(const double *v, size_t n, double min_rel, size_t *at, size_t max_steps);

#endif /* WEFT_SCALE_STATS_H */
