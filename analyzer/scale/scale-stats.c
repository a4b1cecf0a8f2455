/* scale-stats.c - the statistics of `weft scale` (see scale-stats.h).
 * SPDX-License-Identifier: MIT
 *
 * Every function is reentrant; none keeps state between calls. Allocation
 * failures abort (g_new): the arrays are the size of a sample.
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scale-stats.h"

/* ------------------------------------------------------------ PRNG */

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

void weft_rng_seed(WeftRng *r, uint64_t seed) {
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t weft_rng_next(WeftRng *r) {
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double weft_rng_uniform(WeftRng *r) { return (double)(weft_rng_next(r) >> 11) * 0x1.0p-53; }

size_t weft_rng_below(WeftRng *r, size_t n) {
  uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;
  do v = weft_rng_next(r);
  while (v >= lim);
  return (size_t)(v % n);
}

double weft_rng_normal(WeftRng *r) {
  double u1 = weft_rng_uniform(r), u2 = weft_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void weft_rng_shuffle(WeftRng *r, int *a, size_t n) {
  for (size_t i = n; i > 1; i--) {
    size_t j = weft_rng_below(r, i);
    int t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
  }
}

/* ------------------------------------------------------------ summaries */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double *sorted_copy(const double *x, size_t n) {
  double *c = g_new(double, n ? n : 1);
  if (n) memcpy(c, x, n * sizeof *c);
  qsort(c, n, sizeof *c, cmp_double);
  return c;
}

/* Type-7 quantile of sorted s. */
static double quantile_sorted(const double *s, size_t n, double q) {
  if (!n) return NAN;
  if (q <= 0) return s[0];
  if (q >= 1) return s[n - 1];
  double h = (double)(n - 1) * q;
  size_t lo = (size_t)floor(h);
  double f = h - (double)lo;
  return lo + 1 < n ? s[lo] + f * (s[lo + 1] - s[lo]) : s[lo];
}

double weft_stats_quantile(const double *x, size_t n, double q) {
  double *s = sorted_copy(x, n);
  double v = quantile_sorted(s, n, q);
  g_free(s);
  return v;
}

double weft_stats_median(const double *x, size_t n) { return weft_stats_quantile(x, n, 0.5); }

double weft_stats_mean(const double *x, size_t n) {
  if (!n) return NAN;
  double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s / (double)n;
}

double weft_stats_sd(const double *x, size_t n) {
  if (n < 2) return 0;
  double m = weft_stats_mean(x, n), s = 0;
  for (size_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
  return sqrt(s / (double)(n - 1));
}

double weft_stats_mad(const double *x, size_t n) {
  if (!n) return NAN;
  double m = weft_stats_median(x, n);
  double *d = g_new(double, n);
  for (size_t i = 0; i < n; i++) d[i] = fabs(x[i] - m);
  double v = weft_stats_median(d, n);
  g_free(d);
  return v;
}

double weft_stats_iqr(const double *x, size_t n) {
  double *s = sorted_copy(x, n);
  double v = quantile_sorted(s, n, 0.75) - quantile_sorted(s, n, 0.25);
  g_free(s);
  return v;
}

double weft_stats_min(const double *x, size_t n) {
  if (!n) return NAN;
  double m = x[0];
  for (size_t i = 1; i < n; i++)
    if (x[i] < m) m = x[i];
  return m;
}

/* The median of a resample of x (n draws with replacement) using buf. */
static double resample_median(const double *x, size_t n, double *buf, WeftRng *rng) {
  for (size_t i = 0; i < n; i++) buf[i] = x[weft_rng_below(rng, n)];
  qsort(buf, n, sizeof *buf, cmp_double);
  return quantile_sorted(buf, n, 0.5);
}

static WeftEstimate interval(double value, double *stats, int reps) {
  qsort(stats, (size_t)reps, sizeof *stats, cmp_double);
  WeftEstimate e = {value, quantile_sorted(stats, (size_t)reps, 0.025), quantile_sorted(stats, (size_t)reps, 0.975)};
  /* a percentile interval of a median need not contain the point estimate
   * when the samples are few; widen it so it does */
  if (e.lo > value) e.lo = value;
  if (e.hi < value) e.hi = value;
  return e;
}

WeftEstimate weft_stats_median_ci(const double *x, size_t n, int reps, WeftRng *rng) {
  double m = weft_stats_median(x, n);
  if (n < 2 || reps < 2) return (WeftEstimate){m, m, m};
  double *buf = g_new(double, n), *st = g_new(double, (size_t)reps);
  for (int r = 0; r < reps; r++) st[r] = resample_median(x, n, buf, rng);
  WeftEstimate e = interval(m, st, reps);
  g_free(buf);
  g_free(st);
  return e;
}

WeftEstimate weft_stats_ratio_ci(const double *a, size_t na, const double *b, size_t nb, int reps, WeftRng *rng) {
  double v = weft_stats_median(a, na) / weft_stats_median(b, nb);
  if (!na || !nb || reps < 2 || (na < 2 && nb < 2)) return (WeftEstimate){v, v, v};
  double *ba = g_new(double, na), *bb = g_new(double, nb), *st = g_new(double, (size_t)reps);
  for (int r = 0; r < reps; r++) st[r] = resample_median(a, na, ba, rng) / resample_median(b, nb, bb, rng);
  WeftEstimate e = interval(v, st, reps);
  g_free(ba);
  g_free(bb);
  g_free(st);
  return e;
}

WeftEstimate weft_stats_ratio2_ci(const double *a1, size_t na1, const double *b1, size_t nb1, const double *a2,
                                  size_t na2, const double *b2, size_t nb2, int reps, WeftRng *rng) {
  double v = (weft_stats_median(a1, na1) / weft_stats_median(b1, nb1)) /
             (weft_stats_median(a2, na2) / weft_stats_median(b2, nb2));
  if (!na1 || !nb1 || !na2 || !nb2 || reps < 2) return (WeftEstimate){v, v, v};
  double *buf = g_new(double, na1 + nb1 + na2 + nb2), *st = g_new(double, (size_t)reps);
  for (int r = 0; r < reps; r++)
    st[r] = (resample_median(a1, na1, buf, rng) / resample_median(b1, nb1, buf, rng)) /
            (resample_median(a2, na2, buf, rng) / resample_median(b2, nb2, buf, rng));
  WeftEstimate e = interval(v, st, reps);
  g_free(buf);
  g_free(st);
  return e;
}

double weft_karp_flatt(double s, double n) {
  if (n < 2 || !(s > 0)) return NAN;
  return (1.0 / s - 1.0 / n) / (1.0 - 1.0 / n);
}

/* ------------------------------------------------------------ Mann-Whitney */

/* P(U <= u) under H0 for sizes m, n without ties, by counting the
 * arrangements: with i x's and j y's, the largest value is either an x
 * (it beats all j y's: U grows by j) or a y. */
static double exact_cdf(size_t m, size_t n, double u) {
  size_t umax = m * n, w = umax + 1;
  double *prev = g_new0(double, (n + 1) * w), *cur = g_new0(double, (n + 1) * w);
  for (size_t j = 0; j <= n; j++) prev[j * w] = 1; /* i = 0: only U = 0 */
  for (size_t i = 1; i <= m; i++) {
    memset(cur, 0, (n + 1) * w * sizeof *cur);
    for (size_t j = 0; j <= n; j++)
      for (size_t v = 0; v <= i * j && v < w; v++) {
        double a = v >= j ? prev[j * w + v - j] : 0; /* the largest is an x: beats j y's */
        double b = j ? cur[(j - 1) * w + v] : 0;     /* the largest is a y */
        cur[j * w + v] = a + b;
      }
    double *t = prev;
    prev = cur;
    cur = t;
  }
  double total = 0, below = 0;
  for (size_t v = 0; v < w; v++) {
    total += prev[n * w + v];
    if ((double)v <= u + 1e-9) below += prev[n * w + v];
  }
  g_free(prev);
  g_free(cur);
  return below / total;
}

double weft_mann_whitney_min_p(size_t nx, size_t ny) {
  if (!nx || !ny) return 1;
  double c = 1;
  for (size_t i = 1; i <= nx; i++) c = c * (double)(ny + i) / (double)i;
  double p = 2.0 / c;
  return p > 1 ? 1 : p;
}

typedef struct {
  double v;
  int from_x;
} Ranked;

static int cmp_ranked(const void *a, const void *b) {
  double x = ((const Ranked *)a)->v, y = ((const Ranked *)b)->v;
  return x < y ? -1 : x > y;
}

double weft_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, double *u_out) {
  if (u_out) *u_out = NAN;
  if (!nx || !ny) return 1;
  size_t n = nx + ny;
  Ranked *r = g_new(Ranked, n);
  for (size_t i = 0; i < nx; i++) r[i] = (Ranked){x[i], 1};
  for (size_t i = 0; i < ny; i++) r[nx + i] = (Ranked){y[i], 0};
  qsort(r, n, sizeof *r, cmp_ranked);
  double rank_x = 0, ties = 0;
  int any_tie = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && r[j + 1].v == r[i].v) j++;
    double t = (double)(j - i + 1), rank = (double)(i + j) / 2.0 + 1.0;
    if (t > 1) {
      any_tie = 1;
      ties += t * t * t - t;
    }
    for (size_t k = i; k <= j; k++)
      if (r[k].from_x) rank_x += rank;
    i = j + 1;
  }
  g_free(r);
  double u = rank_x - (double)nx * (double)(nx + 1) / 2.0;
  if (u_out) *u_out = u;
  double mu = (double)nx * (double)ny / 2.0, p;
  if (!any_tie && n <= 40) {
    double lo = exact_cdf(nx, ny, u), hi = 1.0 - exact_cdf(nx, ny, u - 1.0);
    p = 2.0 * (lo < hi ? lo : hi);
  } else {
    double nn = (double)n;
    double var = (double)nx * (double)ny / 12.0 * ((nn + 1.0) - ties / (nn * (nn - 1.0)));
    if (var <= 0) return 1;
    double z = (fabs(u - mu) - 0.5) / sqrt(var);
    if (z < 0) z = 0;
    p = erfc(z / M_SQRT2);
  }
  return p > 1 ? 1 : p;
}

void weft_holm(const double *p, size_t n, double *adj) {
  size_t *idx = g_new(size_t, n ? n : 1), m = 0;
  double *v = g_new(double, n ? n : 1);
  for (size_t i = 0; i < n; i++) {
    v[i] = p[i];
    if (!isnan(p[i])) idx[m++] = i;
  }
  /* sort the indices of the valid p-values ascending (insertion: n is small) */
  for (size_t i = 1; i < m; i++)
    for (size_t j = i; j > 0 && v[idx[j]] < v[idx[j - 1]]; j--) {
      size_t t = idx[j];
      idx[j] = idx[j - 1];
      idx[j - 1] = t;
    }
  double run = 0;
  for (size_t k = 0; k < m; k++) {
    double a = (double)(m - k) * v[idx[k]];
    if (a > 1) a = 1;
    if (a < run) a = run;
    run = a;
    adj[idx[k]] = a;
  }
  for (size_t i = 0; i < n; i++)
    if (isnan(v[i])) adj[i] = NAN;
  g_free(idx);
  g_free(v);
}

WeftVerdict weft_scale_classify(double ratio, double p_adj, double alpha, double min_effect) {
  if (isnan(ratio) || isnan(p_adj)) return WEFT_VERDICT_NO_CHANGE;
  int sig = p_adj < alpha;
  if (sig && ratio > 1.0 + min_effect) return WEFT_VERDICT_REGRESSED;
  if (sig && ratio < 1.0 / (1.0 + min_effect)) return WEFT_VERDICT_IMPROVED;
  if (ratio > 1.0 && (sig || ratio > 1.0 + min_effect)) return WEFT_VERDICT_WARN;
  return WEFT_VERDICT_NO_CHANGE;
}

const char *weft_verdict_name(WeftVerdict v) {
  switch (v) {
    case WEFT_VERDICT_IMPROVED: return "IMPROVED";
    case WEFT_VERDICT_WARN: return "WARN";
    case WEFT_VERDICT_REGRESSED: return "REGRESSED";
    default: return "NO_CHANGE";
  }
}

/* ------------------------------------------------------------ models */

double weft_usl_speedup(double sigma, double kappa, double n) {
  return n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0));
}

/* Solve the k x k system a x = b (k <= 3) by Gaussian elimination with
 * partial pivoting. Returns -1 if singular. */
static int solve(double a[3][3], double *b, double *x, int k) {
  for (int c = 0; c < k; c++) {
    int piv = c;
    for (int r = c + 1; r < k; r++)
      if (fabs(a[r][c]) > fabs(a[piv][c])) piv = r;
    if (fabs(a[piv][c]) < 1e-300) return -1;
    if (piv != c) {
      for (int j = 0; j < k; j++) {
        double t = a[c][j];
        a[c][j] = a[piv][j];
        a[piv][j] = t;
      }
      double t = b[c];
      b[c] = b[piv];
      b[piv] = t;
    }
    for (int r = c + 1; r < k; r++) {
      double f = a[r][c] / a[c][c];
      for (int j = c; j < k; j++) a[r][j] -= f * a[c][j];
      b[r] -= f * b[c];
    }
  }
  for (int c = k - 1; c >= 0; c--) {
    double s = b[c];
    for (int j = c + 1; j < k; j++) s -= a[c][j] * x[j];
    x[c] = s / a[c][c];
  }
  return 0;
}

/* p = {q, sigma, kappa}, g = q * g0. Residuals and (optionally) Jacobian. */
static double residuals(const double *nn, const double *xx, size_t n, double g0, const double *p, double *res,
                        double (*jac)[3]) {
  double rss = 0;
  for (size_t i = 0; i < n; i++) {
    double N = nn[i], D = 1.0 + p[1] * (N - 1.0) + p[2] * N * (N - 1.0);
    double xm = p[0] * g0 * N / D;
    res[i] = xm / xx[i] - 1.0;
    rss += res[i] * res[i];
    if (jac) {
      jac[i][0] = g0 * N / D / xx[i];
      jac[i][1] = -xm * (N - 1.0) / D / xx[i];
      jac[i][2] = -xm * N * (N - 1.0) / D / xx[i];
    }
  }
  return rss;
}

static void clamp_params(double *p, int usl) {
  if (p[0] < 1e-12) p[0] = 1e-12;
  if (p[1] < 0) p[1] = 0;
  if (p[1] > 1) p[1] = 1;
  if (!usl || p[2] < 0) p[2] = 0;
}

void weft_scale_fit(const double *threads, const double *time, size_t n, int usl, WeftScaleFit *out) {
  memset(out, 0, sizeof *out);
  out->nparams = usl ? 3 : 2;
  out->aicc = out->r2 = out->rss = out->n_star = out->peak_speedup = NAN;
  out->sigma = out->kappa = out->gamma = NAN;
  /* distinct thread counts, and the data as throughput */
  size_t m = 0, distinct = 0;
  double *nn = g_new(double, n ? n : 1), *xx = g_new(double, n ? n : 1), *res = g_new(double, n ? n : 1);
  double(*jac)[3] = g_malloc(sizeof(double[3]) * (n ? n : 1));
  double nmin = INFINITY, xmin_n = NAN;
  for (size_t i = 0; i < n; i++) {
    if (!(threads[i] >= 1) || !(time[i] > 0) || !isfinite(time[i])) continue;
    int seen = 0;
    for (size_t j = 0; j < m; j++) seen |= nn[j] == threads[i];
    if (!seen) distinct++;
    nn[m] = threads[i];
    xx[m] = 1.0 / time[i];
    if (nn[m] < nmin) {
      nmin = nn[m];
      xmin_n = xx[m];
    }
    m++;
  }
  out->npoints = (int)distinct;
  if (distinct < (size_t)(usl ? 3 : 2)) goto done;

  /* Start: g0 from the smallest N assuming linear scaling up to it; then
   * Gunther's linearisation N g0 / X - 1 = s (N - 1) + k N (N - 1) by
   * least squares without an intercept. */
  double g0 = xmin_n / nmin;
  double p[3] = {1, 0, 0};
  {
    double a[3][3] = {{0}}, b[3] = {0}, x[3] = {0};
    for (size_t i = 0; i < m; i++) {
      double y = nn[i] * g0 / xx[i] - 1.0, f1 = nn[i] - 1.0, f2 = nn[i] * (nn[i] - 1.0);
      a[0][0] += f1 * f1;
      a[0][1] += f1 * f2;
      a[1][1] += f2 * f2;
      b[0] += f1 * y;
      b[1] += f2 * y;
    }
    a[1][0] = a[0][1];
    if (usl && solve(a, b, x, 2) == 0) {
      p[1] = x[0];
      p[2] = x[1];
    } else if (a[0][0] > 0) {
      p[1] = b[0] / a[0][0];
    }
    clamp_params(p, usl);
    if (usl && p[2] == 0) p[2] = 1e-9;
  }

  /* Levenberg-Marquardt, parameters at a bound with the gradient pointing
   * out of the feasible set held fixed for that step. */
  double rss = residuals(nn, xx, m, g0, p, res, jac), lambda = 1e-3;
  int k = usl ? 3 : 2;
  for (int it = 0; it < 500; it++) {
    double jtj[3][3] = {{0}}, g[3] = {0};
    for (size_t i = 0; i < m; i++)
      for (int a = 0; a < k; a++) {
        g[a] += jac[i][a] * res[i];
        for (int b = 0; b < k; b++) jtj[a][b] += jac[i][a] * jac[i][b];
      }
    int freeidx[3], nf = 0;
    for (int a = 0; a < k; a++) {
      int fixed = (a == 1 && ((p[1] <= 0 && g[1] > 0) || (p[1] >= 1 && g[1] < 0))) || (a == 2 && p[2] <= 0 && g[2] > 0);
      if (!fixed) freeidx[nf++] = a;
    }
    int improved = 0;
    for (int tries = 0; tries < 30 && !improved; tries++) {
      double a[3][3], b[3], d[3] = {0};
      for (int r = 0; r < nf; r++) {
        for (int c = 0; c < nf; c++) a[r][c] = jtj[freeidx[r]][freeidx[c]];
        a[r][r] += lambda * (jtj[freeidx[r]][freeidx[r]] > 1e-300 ? jtj[freeidx[r]][freeidx[r]] : 1e-300);
        b[r] = -g[freeidx[r]];
      }
      if (solve(a, b, d, nf) != 0) {
        lambda *= 10;
        continue;
      }
      double q[3] = {p[0], p[1], p[2]};
      for (int r = 0; r < nf; r++) q[freeidx[r]] += d[r];
      clamp_params(q, usl);
      double nr = residuals(nn, xx, m, g0, q, res, NULL);
      if (nr < rss) {
        double change = rss - nr;
        memcpy(p, q, sizeof p);
        rss = residuals(nn, xx, m, g0, p, res, jac);
        lambda = lambda / 3 > 1e-12 ? lambda / 3 : 1e-12;
        improved = 1;
        if (change <= 1e-15 * (rss + 1e-30)) it = 1 << 20; /* converged */
      } else {
        lambda *= 4;
      }
    }
    if (!improved) break;
  }
  residuals(nn, xx, m, g0, p, res, NULL);

  out->ok = 1;
  out->gamma = p[0] * g0;
  out->sigma = p[1];
  out->kappa = usl ? p[2] : 0;
  out->rss = rss;
  out->n_star = out->kappa > 0 ? sqrt((1.0 - out->sigma) / out->kappa) : INFINITY;
  if (out->kappa > 0)
    out->peak_speedup = weft_usl_speedup(out->sigma, out->kappa, out->n_star);
  else
    out->peak_speedup = out->sigma > 0 ? 1.0 / out->sigma : INFINITY;
  double mean = 0, tss = 0;
  for (size_t i = 0; i < m; i++) mean += xx[i];
  mean /= (double)m;
  for (size_t i = 0; i < m; i++) tss += (xx[i] / mean - 1.0) * (xx[i] / mean - 1.0);
  out->r2 = tss > 0 ? 1.0 - rss / tss : 1.0;
  double np = (double)m, kp = (double)out->nparams;
  if (np > kp + 1) {
    double r = rss / np > 1e-300 ? rss / np : 1e-300;
    out->aicc = np * log(r) + 2 * kp + 2 * kp * (kp + 1) / (np - kp - 1);
  }
done:
  g_free(nn);
  g_free(xx);
  g_free(res);
  g_free(jac);
}

/* ---- steps in a series (weft scale --history) ----
 * A penalised piecewise-constant fit in L1 (optimal partitioning by dynamic
 * programming): a segment costs the sum of absolute deviations from its
 * median, plus a penalty of 3 sigma log(n + 1), sigma the series' noise from
 * its consecutive differences, robustly (as asv's step detection sizes its
 * Potts penalty), so one outlier is no step and a lasting shift is one. */

/* L1 cost of v[a..b) around its median. */
static double seg_cost(const double *v, size_t a, size_t b) {
  double m = weft_stats_median(v + a, b - a), c = 0;
  for (size_t i = a; i < b; i++) c += fabs(v[i] - m);
  return c;
}

size_t weft_scale_steps(const double *v, size_t n, double min_rel, size_t *at, size_t max_steps) {
  if (n < 3) return 0;
  /* the noise: consecutive differences, robustly (a step is one large difference among many small) */
  double *d = g_new(double, n - 1);
  for (size_t i = 1; i < n; i++) d[i - 1] = fabs(v[i] - v[i - 1]);
  double sigma = 1.4826 * weft_stats_median(d, n - 1) / sqrt(2.0);
  g_free(d);
  double scale = fabs(weft_stats_median(v, n));
  if (sigma < 1e-3 * scale) sigma = 1e-3 * scale; /* a flat series still has a resolution */
  if (sigma <= 0) sigma = 1e-12;
  double beta = 3.0 * sigma * log((double)n + 1);
  /* F[j]: the best cost of v[0..j); prev[j]: where its last segment begins */
  double *F = g_new(double, n + 1);
  size_t *prev = g_new(size_t, n + 1);
  F[0] = -beta;
  /* a level lasts at least 2 runs: one odd run is an outlier, not a step */
  for (size_t j = 1; j <= n; j++) {
    F[j] = INFINITY;
    prev[j] = 0;
    for (size_t i = 0; i < j; i++) {
      if (i > 0 && (i < 2 || j - i < 2)) continue; /* both the segment and the one before it: 2 or more */
      double c = F[i] + seg_cost(v, i, j) + beta;
      if (c < F[j]) {
        F[j] = c;
        prev[j] = i;
      }
    }
  }
  size_t bounds[512], nb = 0;
  for (size_t j = n; j > 0 && nb < G_N_ELEMENTS(bounds); j = prev[j]) bounds[nb++] = prev[j];
  size_t k = 0;
  /* bounds holds segment starts from the last; steps are the starts after 0 whose levels differ enough */
  for (size_t b = nb; b-- > 0;) {
    size_t s = bounds[b];
    if (!s || k >= max_steps) continue;
    size_t ps = b + 1 < nb ? bounds[b + 1] : 0, e = b ? bounds[b - 1] : n;
    double before = weft_stats_median(v + ps, s - ps), after = weft_stats_median(v + s, e - s);
    if (fabs(after - before) >= min_rel * fabs(before)) at[k++] = s;
  }
  g_free(F);
  g_free(prev);
  return k;
}
