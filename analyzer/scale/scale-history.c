/* scale-history.c - weft scale --history: steps in a series of earlier reports.
 * SPDX-License-Identifier: MIT
 *
 * A folder of earlier JSON reports (nightly runs, say), read in the order of
 * their file names (so name them by date), and this run last, make one series
 * per thread count of the median time, the speedup and the efficiency. Each
 * series is split into steps by a penalised piecewise-constant fit in L1
 * (optimal partitioning by dynamic programming: the cost of a segment is the
 * sum of absolute deviations from its median, each segment costs a penalty
 * that grows with the noise of the series and the log of its length, as asv's
 * step detection does with its Potts model), so that a single outlier is no
 * step and a lasting shift is one. A step smaller than --min-effect is not
 * reported. The fit is weft_scale_steps() in scale-stats.c (unit-tested).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#include "scale.h"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The *.json files of dir, by name. NULL with err set when dir cannot be read. */
static char **list_reports(const char *dir, size_t *n, char *err, size_t errlen) {
  DIR *d = opendir(dir);
  if (!d) {
    snprintf(err, errlen, "%s: %s", dir, g_strerror(errno));
    return NULL;
  }
  GPtrArray *a = g_ptr_array_new();
  for (struct dirent *e; (e = readdir(d));)
    if (g_str_has_suffix(e->d_name, ".json") && e->d_name[0] != '.') g_ptr_array_add(a, g_strdup(e->d_name));
  closedir(d);
  qsort(a->pdata, a->len, sizeof(char *), cmp_str);
  *n = a->len;
  g_ptr_array_add(a, NULL);
  return (char **)g_ptr_array_free(a, FALSE);
}

static const WeftScalePoint *point_of(const WeftScale *s, int threads) {
  for (size_t i = 0; i < s->npoints; i++)
    if (s->points[i].threads == threads && s->points[i].nsamples) return &s->points[i];
  return NULL;
}

static void add_series(WeftScaleHistory *h, const char *metric, int threads, WeftScale **runs, size_t nruns,
                       double min_rel) {
  WeftScaleSeries *sr = &h->series[h->nseries];
  sr->metric = metric;
  sr->threads = threads;
  sr->values = g_new(double, nruns);
  sr->run = g_new(size_t, nruns);
  for (size_t r = 0; r < nruns; r++) {
    const WeftScalePoint *p = point_of(runs[r], threads);
    if (!p) continue;
    double v = !strcmp(metric, "time")      ? p->median_s
               : !strcmp(metric, "speedup") ? p->speedup.value
                                            : p->efficiency.value;
    if (!isfinite(v)) continue;
    sr->values[sr->n] = v;
    sr->run[sr->n++] = r;
  }
  sr->nsteps = weft_scale_steps(sr->values, sr->n, min_rel, sr->steps, G_N_ELEMENTS(sr->steps));
  h->nseries++;
}

WeftScaleHistory *weft_scale_history_load(const char *dir, int weak, char *err, size_t errlen) {
  size_t nfiles = 0;
  char **files = list_reports(dir, &nfiles, err, errlen);
  if (!files) return NULL;
  WeftScaleHistory *h = g_new0(WeftScaleHistory, 1);
  h->dir = g_strdup(dir);
  h->names = g_new0(char *, nfiles + 2);
  h->runs = g_new0(WeftScale *, nfiles + 1);
  for (size_t i = 0; i < nfiles; i++) {
    char *path = g_build_filename(dir, files[i], NULL);
    WeftScale *s = weft_scale_load(path, err, errlen); /* its message names the file and what is wrong */
    g_free(path);
    if (!s) {
      g_strfreev(files);
      weft_scale_history_free(h);
      return NULL;
    }
    s->weak = weak;
    weft_scale_analyze(s);
    h->names[h->nruns] = g_strdup(files[i]);
    h->runs[h->nruns++] = s;
  }
  g_strfreev(files);
  if (!h->nruns) {
    snprintf(err, errlen, "%s: no weft scale reports (*.json) in this directory", dir);
    weft_scale_history_free(h);
    return NULL;
  }
  return h;
}

void weft_scale_history_series(WeftScaleHistory *h, WeftScale *cur) {
  h->names[h->nruns] = g_strdup("(this run)");
  h->runs[h->nruns++] = cur;
  static const char *const metrics[] = {"time", "speedup", "efficiency"};
  h->series = g_new0(WeftScaleSeries, cur->npoints * 3 + 1);
  for (size_t i = 0; i < cur->npoints; i++)
    for (size_t m = 0; m < 3; m++)
      if (cur->points[i].nsamples && (m == 0 || cur->points[i].threads > 1))
        add_series(h, metrics[m], cur->points[i].threads, h->runs, h->nruns,
                   cur->min_effect > 0 ? cur->min_effect : 0.05);
  h->nruns--; /* this run is not ours to free */
  h->runs[h->nruns] = NULL;
  h->nruns++;
}

void weft_scale_history_free(WeftScaleHistory *h) {
  if (!h) return;
  for (size_t i = 0; i < h->nseries; i++) {
    g_free(h->series[i].values);
    g_free(h->series[i].run);
  }
  g_free(h->series);
  for (size_t i = 0; i < h->nruns; i++) {
    if (h->runs && h->runs[i]) weft_scale_free(h->runs[i]);
    g_free(h->names[i]);
  }
  g_free(h->runs);
  g_free(h->names);
  g_free(h->dir);
  g_free(h);
}

char *weft_scale_step_text(const WeftScaleHistory *h, const WeftScaleSeries *sr, size_t k) {
  size_t s = sr->steps[k], ps = k ? sr->steps[k - 1] : 0, e = k + 1 < sr->nsteps ? sr->steps[k + 1] : sr->n;
  double before = weft_stats_median(sr->values + ps, s - ps), after = weft_stats_median(sr->values + s, e - s);
  const char *unit = !strcmp(sr->metric, "time") ? " s" : "";
  return g_strdup_printf("%s at %d %s: from %.3g%s to %.3g%s (%+.0f %%) at %s", sr->metric, sr->threads,
                         sr->threads == 1 ? "thread" : "threads", before, unit, after, unit, 100 * (after / before - 1),
                         h->names[sr->run[s]]);
}
