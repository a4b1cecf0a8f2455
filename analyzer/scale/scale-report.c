/* scale-report.c - weft scale's outputs: JSON (docs/scale-json.md), Markdown
 * for $GITHUB_STEP_SUMMARY and PR comments, JUnit XML, an SVG plot and the
 * terminal summary. Only formatting: every number comes from scale-analyze.c.
 * SPDX-License-Identifier: MIT
 *
 * Deterministic: the same WeftScale gives the same bytes. Each writer
 * returns 0, or -1 if writing failed (errno set).
 */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scale.h"
#include "weft-json.h"

/* ------------------------------------------------------------ JSON */

/* Compact, with a line break before each top-level member, point and
 * compared item, and before the parts of a point (weft-json.h's writer). */

/* Text from a program's stderr may not be UTF-8: make it so. */
static char *valid_utf8(const char *s) { return g_utf8_make_valid(s ? s : "", -1); }

static void j_num(WeftJsonWriter *j, const char *k, double v) {
  if (k) weft_json_key(j, k);
  weft_json_double(j, "%.9g", v);
}

static void j_int(WeftJsonWriter *j, const char *k, int64_t v) {
  weft_json_key(j, k);
  weft_json_int(j, v);
}

static void j_str(WeftJsonWriter *j, const char *k, const char *v) {
  weft_json_key(j, k);
  weft_json_string(j, v);
}

static void j_bool(WeftJsonWriter *j, const char *k, int v) {
  weft_json_key(j, k);
  weft_json_bool(j, v);
}

/* [lo,hi] */
static void j_ci(WeftJsonWriter *j, const char *k, double lo, double hi) {
  weft_json_key(j, k);
  weft_json_begin_array(j);
  j_num(j, NULL, lo);
  j_num(j, NULL, hi);
  weft_json_end_array(j);
}

static void j_est(WeftJsonWriter *j, const char *k, WeftEstimate e) {
  weft_json_key(j, k);
  if (!isfinite(e.value)) {
    weft_json_null(j);
    return;
  }
  weft_json_begin_object(j);
  j_num(j, "value", e.value);
  j_ci(j, "ci95", e.lo, e.hi);
  weft_json_end_object(j);
}

static void j_arr(WeftJsonWriter *j, const char *k, const double *v, size_t n) {
  weft_json_key(j, k);
  if (!v) {
    weft_json_null(j);
    return;
  }
  weft_json_begin_array(j);
  for (size_t i = 0; i < n; i++) j_num(j, NULL, v[i]);
  weft_json_end_array(j);
}

/* k: v, or v alone without k */
static void j_strv(WeftJsonWriter *j, const char *k, char **v, size_t n) {
  if (k) weft_json_key(j, k);
  weft_json_begin_array(j);
  for (size_t i = 0; i < n; i++) weft_json_string(j, v[i]);
  weft_json_end_array(j);
}

static void j_fit(WeftJsonWriter *j, const char *k, const WeftScaleFit *f) {
  weft_json_key(j, k);
  if (!f->ok) {
    weft_json_null(j);
    return;
  }
  weft_json_begin_object(j);
  j_num(j, "sigma", f->sigma);
  j_num(j, "kappa", f->kappa);
  j_num(j, "gamma", f->gamma);
  j_num(j, "n_star", f->n_star);
  j_num(j, "peak_speedup", f->peak_speedup);
  j_num(j, "r2", f->r2);
  j_num(j, "aicc", f->aicc);
  j_int(j, "points", f->npoints);
  weft_json_end_object(j);
}

/* Starts a top-level member on its own line. */
static void j_top(WeftJsonWriter *j, const char *k) {
  weft_json_break(j, 0);
  weft_json_key(j, k);
}

/* "tool", "command", "config", "machine", "order": what ran, and where */
static void json_setup(WeftJsonWriter *j, const WeftScale *s) {
  j_top(j, "tool");
  weft_json_begin_object(j);
  j_str(j, "name", "weft");
  j_str(j, "version", WEFT_VERSION);
  weft_json_end_object(j);
  j_top(j, "command");
  j_strv(j, NULL, s->argv, (size_t)s->argc);
  j_top(j, "config");
  weft_json_begin_object(j);
  weft_json_key(j, "threads");
  weft_json_begin_array(j);
  for (size_t i = 0; i < s->npoints; i++) weft_json_int(j, s->points[i].threads);
  weft_json_end_array(j);
  j_int(j, "repeat", s->repeat);
  j_int(j, "warmup", s->warmup);
  weft_json_key(j, "seed");
  weft_json_uint(j, s->seed);
  j_num(j, "timeout_s", s->timeout_s > 0 ? s->timeout_s : NAN);
  j_bool(j, "explain", s->explain);
  j_num(j, "alpha", s->alpha);
  j_num(j, "min_effect", s->min_effect);
  j_num(j, "efficiency_drop", s->efficiency_drop);
  j_str(j, "scaling", s->weak ? "weak" : "strong");
  j_num(j, "scales_efficiency", s->scales_eff);
  j_num(j, "poor_efficiency", s->poor_eff);
  j_str(j, "require_scaling", s->require_scaling);
  j_int(j, "bootstrap", s->bootstrap);
  weft_json_end_object(j);
  j_top(j, "machine");
  weft_json_begin_object(j);
  j_str(j, "cpu_model", s->machine.cpu_model);
  j_int(j, "logical_cpus", s->machine.logical_cpus);
  j_int(j, "physical_cores", s->machine.physical_cores);
  j_int(j, "usable_cpus", s->machine.usable_cpus);
  j_bool(j, "smt", s->machine.smt);
  j_str(j, "usable_source", s->machine.usable_source);
  j_str(j, "kernel", s->machine.kernel);
  weft_json_end_object(j);
  j_top(j, "order");
  weft_json_begin_array(j);
  for (size_t i = 0; i < s->norder; i++) weft_json_int(j, s->order[i]);
  weft_json_end_array(j);
}

/* A point's traced run: its POP metrics, budget and locks; null if none. */
static void json_trace(WeftJsonWriter *j, const WeftScaleTrace *t) {
  weft_json_key(j, "trace");
  if (!t->ok) {
    weft_json_null(j);
    return;
  }
  weft_json_begin_object(j);
  j_num(j, "wall_s", t->wall_s);
  j_num(j, "other_cpus", t->other_cpus);
  j_num(j, "overhead", t->overhead);
  j_num(j, "lb", t->lb);
  j_num(j, "sync_e", t->sync_e);
  j_num(j, "comp_s", t->comp_s);
  j_num(j, "pe", t->pe);
  weft_json_break(j, 3);
  weft_json_key(j, "budget_thread_s");
  weft_json_begin_object(j);
  j_num(j, "capacity", t->capacity_ts);
  j_num(j, "useful", t->useful_ts);
  j_num(j, "lock_wait", t->lock_wait_ts);
  j_num(j, "other_wait", t->other_wait_ts);
  j_num(j, "gil_wait", t->gil_wait_ts);
  j_num(j, "runq", t->runq_ts);
  j_num(j, "idle", t->idle_ts);
  j_num(j, "extra_work", t->extra_work_ts);
  j_num(j, "ipc", t->ipc_ts);
  j_num(j, "ipc_lock", t->ipc_lock_ts);
  j_num(j, "startup", t->startup_ts);
  weft_json_end_object(j);
  j_num(j, "ipc_bytes", t->ipc_bytes);
  weft_json_break(j, 3);
  weft_json_key(j, "locks");
  weft_json_begin_array(j);
  for (size_t k = 0; k < t->nlocks; k++) {
    weft_json_begin_object(j);
    j_str(j, "label", t->locks[k].label);
    j_str(j, "kind", t->locks[k].kind);
    j_num(j, "wait_thread_s", t->locks[k].wait_ts);
    j_num(j, "share", t->capacity_ts > 0 ? t->locks[k].wait_ts / t->capacity_ts : NAN);
    weft_json_end_object(j);
  }
  weft_json_end_array(j);
  weft_json_key(j, "held_lock");
  if (t->held_lock) {
    weft_json_begin_object(j);
    j_str(j, "label", t->held_lock);
    j_num(j, "share", t->held_share);
    weft_json_end_object(j);
  } else {
    weft_json_null(j);
  }
  weft_json_end_object(j);
}

static void json_point(WeftJsonWriter *j, const WeftScalePoint *p) {
  weft_json_break(j, 1);
  weft_json_begin_object(j);
  j_int(j, "threads", p->threads);
  j_bool(j, "oversubscribed", p->oversubscribed);
  j_bool(j, "smt", p->smt);
  j_arr(j, "samples_s", p->samples_s, p->nsamples);
  j_arr(j, "user_s", p->user_s, p->nsamples);
  j_arr(j, "sys_s", p->sys_s, p->nsamples);
  j_arr(j, "other_cpu_s", p->other_s, p->nsamples);
  j_arr(j, "steal_s", p->steal_s, p->nsamples);
  weft_json_break(j, 2);
  j_num(j, "median_s", p->median_s);
  j_ci(j, "ci95_s", p->median_ci.lo, p->median_ci.hi);
  j_num(j, "mean_s", p->mean_s);
  j_num(j, "min_s", p->min_s);
  j_num(j, "mad_s", p->mad_s);
  j_num(j, "iqr_s", p->iqr_s);
  j_num(j, "cv", p->cv);
  weft_json_break(j, 2);
  j_est(j, "speedup", p->speedup);
  j_est(j, "efficiency", p->efficiency);
  j_est(j, "karp_flatt", p->karp_flatt);
  weft_json_break(j, 2);
  json_trace(j, &p->trace);
  weft_json_end_object(j);
}

/* "failure": the run that failed, or null */
static void json_failure(WeftJsonWriter *j, const WeftScale *s) {
  j_top(j, "failure");
  if (!s->failed) {
    weft_json_null(j);
    return;
  }
  weft_json_begin_object(j);
  j_int(j, "threads", s->fail_threads);
  j_str(j, "phase", s->fail_phase);
  j_int(j, "run", s->fail_run);
  j_str(j, "what", s->fail_what);
  char *tail = valid_utf8(s->fail_stderr);
  j_str(j, "stderr_tail", tail);
  g_free(tail);
  weft_json_end_object(j);
}

/* "comparison": with the baseline, one item a line; null without one */
static void json_comparison(WeftJsonWriter *j, const WeftScale *s) {
  j_top(j, "comparison");
  if (!s->has_baseline) {
    weft_json_null(j);
    return;
  }
  weft_json_begin_object(j);
  j_str(j, "baseline", s->baseline_path);
  j_bool(j, "comparable", s->comparable);
  j_strv(j, "differences", s->differences, s->ndifferences);
  weft_json_key(j, "items");
  weft_json_begin_array(j);
  for (size_t i = 0; i < s->nitems; i++) {
    const WeftScaleItem *it = &s->items[i];
    weft_json_break(j, 2);
    weft_json_begin_object(j);
    j_str(j, "name", it->name);
    j_int(j, "threads", it->threads);
    j_str(j, "metric", it->metric);
    j_num(j, "baseline", it->base);
    j_num(j, "current", it->cur);
    j_num(j, "ratio", it->ratio);
    j_ci(j, "ci95", it->lo, it->hi);
    j_num(j, "p", it->p);
    j_num(j, "p_adj", it->p_adj);
    j_str(j, "verdict", weft_verdict_name(it->verdict));
    j_str(j, "detail", it->detail);
    j_strv(j, "explanation", it->why, it->nwhy);
    weft_json_end_object(j);
  }
  weft_json_end_array(j);
  weft_json_end_object(j);
}

static int flush_gstring(FILE *f, GString *g) {
  size_t n = fwrite(g->str, 1, g->len, f);
  int ok = n == g->len;
  g_string_free(g, TRUE);
  if (!ok) {
    if (!errno) errno = EIO;
    return -1;
  }
  return ferror(f) ? -1 : 0;
}

static void json_history(WeftJsonWriter *j, const WeftScale *s);

int weft_scale_write_json(FILE *f, const WeftScale *s) {
  GString *g = g_string_new(NULL);
  WeftJsonWriter jw, *j = &jw;
  weft_json_writer_gstring(j, g, false);
  weft_json_begin_object(j);
  j_top(j, "weft_scale_version");
  weft_json_int(j, WEFT_SCALE_JSON_VERSION);
  json_setup(j, s);
  j_top(j, "points");
  weft_json_begin_array(j);
  for (size_t i = 0; i < s->npoints; i++) json_point(j, &s->points[i]);
  weft_json_end_array(j);
  j_top(j, "fits");
  weft_json_begin_object(j);
  j_fit(j, "amdahl", &s->amdahl);
  j_fit(j, "usl", &s->usl);
  weft_json_key(j, "preferred");
  if (s->preferred)
    weft_json_string(j, s->preferred);
  else
    weft_json_null(j);
  j_str(j, "preferred_why", s->preferred_why);
  j_bool(j, "retrograde", s->retrograde);
  weft_json_end_object(j);
  j_top(j, "findings");
  j_strv(j, NULL, s->findings, s->nfindings);
  j_top(j, "notes");
  j_strv(j, NULL, s->notes, s->nnotes);
  json_failure(j, s);
  json_comparison(j, s);
  json_history(j, s);
  j_top(j, "noise");
  weft_json_begin_object(j);
  j_bool(j, "noisy", s->noisy);
  j_num(j, "other_cpus", s->noise_other_cpus);
  j_num(j, "competing", s->noise_competing);
  j_num(j, "steal", s->noise_steal);
  j_num(j, "runnable", s->noise_runq);
  j_num(j, "cv", s->noise_cv);
  j_str(j, "why", s->noise_why);
  weft_json_end_object(j);
  j_top(j, "summary");
  weft_json_begin_object(j);
  weft_json_key(j, "scaling");
  weft_json_begin_object(j);
  j_str(j, "verdict", s->scaling);
  j_str(j, "raw", s->scaling_raw);
  j_int(j, "threads", s->scaling_threads);
  j_str(j, "reason", s->scaling_why);
  weft_json_end_object(j);
  j_str(j, "verdict", s->verdict);
  j_int(j, "exit_code", s->exit_code);
  weft_json_end_object(j);
  weft_json_break(j, 0);
  weft_json_end_object(j);
  return flush_gstring(f, g);
}

/* "history": null, or the reports and each series with its steps. */
static void json_history(WeftJsonWriter *j, const WeftScale *s) {
  const WeftScaleHistory *h = s->history;
  j_top(j, "history");
  if (!h) {
    weft_json_null(j);
    return;
  }
  weft_json_begin_object(j);
  j_str(j, "dir", h->dir);
  j_strv(j, "reports", h->names, h->nruns);
  weft_json_key(j, "series");
  weft_json_begin_array(j);
  for (size_t i = 0; i < h->nseries; i++) {
    const WeftScaleSeries *sr = &h->series[i];
    weft_json_begin_object(j);
    j_str(j, "metric", sr->metric);
    j_int(j, "threads", sr->threads);
    j_arr(j, "values", sr->values, sr->n);
    weft_json_key(j, "runs");
    weft_json_begin_array(j);
    for (size_t k = 0; k < sr->n; k++) weft_json_int(j, (int64_t)sr->run[k]);
    weft_json_end_array(j);
    weft_json_key(j, "steps");
    weft_json_begin_array(j);
    for (size_t k = 0; k < sr->nsteps; k++) {
      char *t = weft_scale_step_text(h, sr, k);
      weft_json_begin_object(j);
      j_str(j, "report", h->names[sr->run[sr->steps[k]]]);
      j_int(j, "index", (int64_t)sr->steps[k]);
      j_str(j, "text", t);
      weft_json_end_object(j);
      g_free(t);
    }
    weft_json_end_array(j);
    weft_json_end_object(j);
  }
  weft_json_end_array(j);
  weft_json_end_object(j);
}

/* One line per step of the history (text and Markdown), or a line saying there were none. */
static void history_lines(GString *g, const WeftScale *s, const char *bullet) {
  const WeftScaleHistory *h = s->history;
  if (!h) return;
  size_t n = 0;
  for (size_t i = 0; i < h->nseries; i++)
    for (size_t k = 0; k < h->series[i].nsteps; k++) {
      char *t = weft_scale_step_text(h, &h->series[i], k);
      g_string_append_printf(g, "%s%s\n", bullet, t);
      g_free(t);
      n++;
    }
  if (!n)
    g_string_append_printf(g, "%sno step in time, speedup or efficiency over the %zu runs of the history\n", bullet,
                           h->nruns);
}

/* ------------------------------------------------------------ Bencher Metric Format */

static void bmf_measure(WeftJsonWriter *j, const char *k, WeftEstimate e, double mul) {
  weft_json_key(j, k);
  weft_json_begin_object(j);
  j_num(j, "value", e.value * mul);
  if (isfinite(e.lo)) j_num(j, "lower_value", e.lo * mul);
  if (isfinite(e.hi)) j_num(j, "upper_value", e.hi * mul);
  weft_json_end_object(j);
}

int weft_scale_write_bmf(FILE *f, const WeftScale *s) {
  GString *g = g_string_new(NULL);
  WeftJsonWriter jw, *j = &jw;
  weft_json_writer_gstring(j, g, true);
  char *base = g_path_get_basename(s->argc ? s->argv[0] : "program");
  weft_json_begin_object(j);
  for (size_t i = 0; i < s->npoints && !s->failed; i++) {
    const WeftScalePoint *p = &s->points[i];
    if (!p->nsamples) continue;
    char *name = g_strdup_printf("%s/threads=%d", base, p->threads);
    weft_json_key(j, name);
    weft_json_begin_object(j);
    bmf_measure(j, "latency", (WeftEstimate){p->median_s, p->median_ci.lo, p->median_ci.hi}, 1e9); /* ns */
    if (isfinite(p->speedup.value)) bmf_measure(j, "speedup", p->speedup, 1);
    if (isfinite(p->efficiency.value)) bmf_measure(j, "efficiency", p->efficiency, 1);
    weft_json_end_object(j);
    g_free(name);
  }
  weft_json_end_object(j);
  g_string_append_c(g, '\n');
  g_free(base);
  return flush_gstring(f, g);
}

/* ------------------------------------------------------------ Markdown */

/* One mark for both verdicts: a green tick only when the program scales and
 * the baseline comparison passed. */
static const char *verdict_icon(const WeftScale *s) {
  const char *v = s->verdict ? s->verdict : "", *sc = s->scaling ? s->scaling : "INCONCLUSIVE";
  if (!strcmp(v, "REGRESSED") || !strcmp(v, "ERROR") || !strcmp(sc, "DOES_NOT_SCALE") || !strcmp(sc, "SLOWS_DOWN"))
    return "❌";
  if (!strcmp(v, "INCONCLUSIVE") || !strcmp(sc, "INCONCLUSIVE")) return "❔";
  if (!strcmp(sc, "SCALES") && (!strcmp(v, "NO_CHANGE") || !strcmp(v, "IMPROVED"))) return "✅";
  if (!strcmp(sc, "SCALES") && !strcmp(v, "NO_BASELINE")) return "ℹ️";
  return "⚠️";
}

/* Markdown table cells: no pipes or newlines. */
static char *md_cell(const char *s) {
  GString *g = g_string_new(NULL);
  for (const char *p = s ? s : ""; *p; p++) {
    if (*p == '|')
      g_string_append(g, "\\|");
    else if (*p == '\n' || *p == '\r')
      g_string_append_c(g, ' ');
    else
      g_string_append_c(g, *p);
  }
  return g_string_free(g, FALSE);
}

static void md_ci(GString *g, WeftEstimate e, const char *fmt) {
  if (!isfinite(e.value)) {
    g_string_append(g, "–");
    return;
  }
  char a[32], b[32], c[32];
  snprintf(a, sizeof a, fmt, e.value);
  snprintf(b, sizeof b, fmt, e.lo);
  snprintf(c, sizeof c, fmt, e.hi);
  g_string_append_printf(g, "%s [%s, %s]", a, b, c);
}

static const WeftScaleItem *item_for(const WeftScale *s, int threads, const char *metric) {
  for (size_t i = 0; i < s->nitems; i++)
    if (s->items[i].threads == threads && !strcmp(s->items[i].metric, metric)) return &s->items[i];
  return NULL;
}

static size_t count_verdict(const WeftScale *s, WeftVerdict v) {
  size_t n = 0;
  for (size_t i = 0; i < s->nitems; i++) n += s->items[i].verdict == v;
  return n;
}

/* The scaling verdict and its reason, then the baseline's verdict. */
static char *headline(const WeftScale *s) {
  GString *g = g_string_new(NULL);
  if (s->failed) {
    g_string_append_printf(g, "%s **weft scale: %s**", verdict_icon(s), s->verdict);
    g_string_append_printf(g, " — `%s` %s at %d %s (%s run %d)", s->argv[0], s->fail_what, s->fail_threads,
                           s->fail_threads == 1 ? "thread" : "threads", s->fail_phase, s->fail_run);
    return g_string_free(g, FALSE);
  }
  g_string_append_printf(g, "%s **weft scale: %s** — %s%s\n\n", verdict_icon(s), s->scaling ? s->scaling : "",
                         s->weak ? "weak scaling: " : "", s->scaling_why ? s->scaling_why : "");
  g_string_append_printf(g, "Baseline: **%s**", s->verdict);
  if (!strcmp(s->verdict, "INCONCLUSIVE")) {
    g_string_append_printf(g, " — slower than the baseline, but the machine was busy: %s", s->noise_why);
  } else if (s->has_baseline && !s->comparable) {
    g_string_append(g, " — the baseline comes from another machine class; nothing compared");
  } else if (s->has_baseline) {
    g_string_append_printf(g,
                           " — %zu regressed, %zu warnings, %zu improved, %zu unchanged (U test, Holm, α=%g, "
                           "min-effect %g %%)",
                           count_verdict(s, WEFT_VERDICT_REGRESSED), count_verdict(s, WEFT_VERDICT_WARN),
                           count_verdict(s, WEFT_VERDICT_IMPROVED), count_verdict(s, WEFT_VERDICT_NO_CHANGE), s->alpha,
                           100 * s->min_effect);
  } else {
    g_string_append(g, " — measured, no baseline to compare with");
  }
  return g_string_free(g, FALSE);
}

static void md_body(GString *g, const WeftScale *s, int details) {
  if (s->failed) {
    char *tail = valid_utf8(s->fail_stderr);
    /* a fence longer than any run of backticks in the text */
    size_t run = 0, longest = 0;
    for (const char *p = tail; *p; p++) {
      run = *p == '`' ? run + 1 : 0;
      if (run > longest) longest = run;
    }
    char *fence = g_strnfill(longest < 3 ? 3 : longest + 1, '`');
    g_string_append_printf(g,
                           "\nThe program failed, so nothing was compared and no speedup is reported. "
                           "Its stderr ended with:\n\n%s\n%s%s%s\n",
                           fence, tail, *tail && tail[strlen(tail) - 1] != '\n' ? "\n" : "", fence);
    g_free(fence);
    g_free(tail);
  }
  for (size_t i = 0; i < s->nitems; i++) {
    const WeftScaleItem *it = &s->items[i];
    if (it->verdict != WEFT_VERDICT_REGRESSED && it->verdict != WEFT_VERDICT_WARN) continue;
    g_string_append_printf(g, "\n- **%s `%s`**: %s\n", weft_verdict_name(it->verdict), it->name, it->detail);
    for (size_t k = 0; k < it->nwhy; k++) g_string_append_printf(g, "  - %s\n", it->why[k]);
  }
  if (s->has_baseline && !s->comparable) {
    g_string_append(g, "\nDifferences from the baseline's machine:\n");
    for (size_t i = 0; i < s->ndifferences; i++) g_string_append_printf(g, "- %s\n", s->differences[i]);
  }
  if (s->npoints && !s->failed) {
    int cmp = s->has_baseline && s->comparable;
    g_string_append_printf(g, "\n### Scaling of `%s`\n\n", s->argv[0]);
    g_string_append(g, "| threads | median time | speedup [95 % CI] | efficiency | Karp–Flatt |");
    if (cmp) g_string_append(g, " vs baseline [95 % CI] | p (Holm) | verdict |");
    g_string_append(g, "\n|---:|---:|---|---:|---:|");
    if (cmp) g_string_append(g, "---|---:|---|");
    g_string_append_c(g, '\n');
    for (size_t i = 0; i < s->npoints; i++) {
      const WeftScalePoint *p = &s->points[i];
      if (!p->nsamples) continue;
      g_string_append_printf(g, "| %d%s | %.4g s | ", p->threads, p->oversubscribed ? " (over)" : "", p->median_s);
      md_ci(g, p->speedup, "%.2f");
      g_string_append_printf(g, " | %.2f | ", p->efficiency.value);
      if (isfinite(p->karp_flatt.value))
        g_string_append_printf(g, "%.3f |", p->karp_flatt.value);
      else
        g_string_append(g, "– |");
      if (cmp) {
        const WeftScaleItem *it = item_for(s, p->threads, "time");
        if (it)
          g_string_append_printf(g, " %+.1f %% [%+.1f, %+.1f] | %.2g | %s |", 100 * (it->ratio - 1), 100 * (it->lo - 1),
                                 100 * (it->hi - 1), it->p_adj, weft_verdict_name(it->verdict));
        else
          g_string_append(g, " not in the baseline | | |");
      }
      g_string_append_c(g, '\n');
    }
    if (s->amdahl.ok) {
      g_string_append_printf(g, "\nModels: Amdahl serial fraction %.4f", s->amdahl.sigma);
      if (s->usl.ok)
        g_string_append_printf(g, "; USL σ=%.4f κ=%.3g N*%s%.1f", s->usl.sigma, s->usl.kappa,
                               isfinite(s->usl.n_star) ? "≈" : "=", s->usl.n_star);
      if (cmp && s->base_usl.ok)
        g_string_append_printf(g, " (baseline σ=%.4f κ=%.3g N*≈%.1f)", s->base_usl.sigma, s->base_usl.kappa,
                               s->base_usl.n_star);
      g_string_append_printf(g, "; preferred: %s (%s).\n", s->preferred ? s->preferred : "none", s->preferred_why);
    }
    if (s->nfindings) {
      g_string_append(g, "\n");
      for (size_t i = 0; i < s->nfindings; i++) g_string_append_printf(g, "- %s\n", s->findings[i]);
    }
    if (s->history) {
      g_string_append_printf(g, "\n**History** (%zu runs, `%s` by file name, then this one):\n\n", s->history->nruns,
                             s->history->dir);
      history_lines(g, s, "- ");
    }
  }
  if (!details) return;
  int traced = 0;
  for (size_t i = 0; i < s->npoints; i++) traced |= s->points[i].trace.ok;
  if (traced) {
    g_string_append(g, "\n<details><summary>Where the thread time goes (one traced run per point)</summary>\n\n");
    g_string_append(g, "| threads | LB | SyncE | CompS | thread-s | useful | lock waits | other waits | "
                       "waiting for a CPU | idle | top lock | agent overhead |\n"
                       "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|\n");
    for (size_t i = 0; i < s->npoints; i++) {
      const WeftScaleTrace *t = &s->points[i].trace;
      if (!t->ok) continue;
      char *lock = t->nlocks ? md_cell(t->locks[0].label) : g_strdup("–");
      g_string_append_printf(g,
                             "| %d | %.2f | %.2f | %.2f | %.3g | %.3g | %.3g | %.3g | %.3g | %.3g | %s | %+.0f %% |\n",
                             s->points[i].threads, t->lb, t->sync_e, t->comp_s, t->capacity_ts, t->useful_ts,
                             t->lock_wait_ts, t->other_wait_ts, t->runq_ts, t->idle_ts, lock, 100 * t->overhead);
      g_free(lock);
    }
    g_string_append(g, "\n</details>\n");
  }
  g_string_append_printf(g,
                         "\n<details><summary>Measurement</summary>\n\n"
                         "- machine: %s, %d logical CPUs, %d physical cores, %d usable (%s), SMT %s, kernel %s\n"
                         "- %d timing runs per point after %d warm-up, in a random order (seed %" G_GUINT64_FORMAT
                         "); one traced run per point%s\n",
                         s->machine.cpu_model, s->machine.logical_cpus, s->machine.physical_cores,
                         s->machine.usable_cpus, s->machine.usable_source, s->machine.smt ? "on" : "off",
                         s->machine.kernel, s->repeat, s->warmup, s->seed, s->explain ? "" : " (off: --no-explain)");
  for (size_t i = 0; i < s->nnotes; i++) g_string_append_printf(g, "- note: %s\n", s->notes[i]);
  g_string_append(g, "\n</details>\n");
}

int weft_scale_write_markdown(FILE *f, const WeftScale *s, size_t budget) {
  char *head = headline(s);
  GString *g = g_string_new(head);
  g_string_append_c(g, '\n');
  md_body(g, s, 1);
  if (g->len > budget) { /* drop the details, then cut */
    g_string_assign(g, head);
    g_string_append_c(g, '\n');
    md_body(g, s, 0);
    const char *cut = "\n\n*(truncated: see the JSON report)*\n";
    if (g->len > budget && budget > strlen(cut) + 1) {
      size_t keep = budget - strlen(cut);
      while (keep > 0 && ((unsigned char)g->str[keep] & 0xc0) == 0x80) keep--; /* whole UTF-8 characters */
      g_string_truncate(g, keep);
      g_string_append(g, cut);
    }
  }
  g_free(head);
  return flush_gstring(f, g);
}

/* ------------------------------------------------------------ JUnit */

static void x_esc(GString *g, const char *s) {
  char *valid = valid_utf8(s);
  for (const unsigned char *p = (const unsigned char *)valid; *p; p++) {
    switch (*p) {
      case '<': g_string_append(g, "&lt;"); break;
      case '>': g_string_append(g, "&gt;"); break;
      case '&': g_string_append(g, "&amp;"); break;
      case '"': g_string_append(g, "&quot;"); break;
      case '\n': g_string_append(g, "&#10;"); break;
      default:
        if (*p < 0x20 && *p != '\t')
          g_string_append_c(g, ' '); /* not allowed in XML 1.0 */
        else
          g_string_append_c(g, (char)*p);
    }
  }
  g_free(valid);
}

static void junit_case(GString *g, const char *suite, const char *name, double time_s, const char *failure_type,
                       const char *message, const char *body) {
  g_string_append(g, "  <testcase classname=\"");
  x_esc(g, suite);
  g_string_append(g, "\" name=\"");
  x_esc(g, name);
  g_string_append_printf(g, "\" time=\"%.6f\"", isfinite(time_s) ? time_s : 0.0);
  if (!failure_type && !body) {
    g_string_append(g, "/>\n");
    return;
  }
  g_string_append(g, ">\n");
  if (failure_type) {
    g_string_append_printf(g, "    <%s type=\"", !strcmp(failure_type, "skipped") ? "skipped" : "failure");
    x_esc(g, failure_type);
    g_string_append(g, "\" message=\"");
    x_esc(g, message);
    g_string_append(g, "\">");
    x_esc(g, body ? body : message);
    g_string_append_printf(g, "</%s>\n", !strcmp(failure_type, "skipped") ? "skipped" : "failure");
  }
  if (body) {
    g_string_append(g, "    <system-out>");
    x_esc(g, body);
    g_string_append(g, "</system-out>\n");
  }
  g_string_append(g, "  </testcase>\n");
}

int weft_scale_write_junit(FILE *f, const WeftScale *s) {
  GString *cases = g_string_new(NULL);
  char *base = g_path_get_basename(s->argc ? s->argv[0] : "program");
  char *suite = g_strdup_printf("weft-scale.%s", base);
  g_free(base);
  size_t tests = 0, failures = 0, skipped = 0;
  if (s->failed) {
    char *msg = g_strdup_printf("the program %s at %d %s (%s run %d)", s->fail_what, s->fail_threads,
                                s->fail_threads == 1 ? "thread" : "threads", s->fail_phase, s->fail_run);
    junit_case(cases, suite, "program runs", 0, "ProgramFailed", msg, s->fail_stderr);
    g_free(msg);
    tests++;
    failures++;
  }
  for (size_t i = 0; i < s->npoints && !s->failed; i++) {
    const WeftScalePoint *p = &s->points[i];
    char *name = g_strdup_printf("threads=%d time", p->threads);
    const WeftScaleItem *it = item_for(s, p->threads, "time");
    char *body =
        g_strdup_printf("median %.6g s, speedup %.3f [%.3f, %.3f], efficiency %.3f%s%s", p->median_s, p->speedup.value,
                        p->speedup.lo, p->speedup.hi, p->efficiency.value, it ? "; " : "", it ? it->detail : "");
    if (it && it->nwhy) {
      char *why = g_strjoinv("; ", it->why);
      char *b2 = g_strdup_printf("%s; %s", body, why);
      g_free(why);
      g_free(body);
      body = b2;
    }
    int inconclusive = !strcmp(s->verdict, "INCONCLUSIVE");
    if (it && it->verdict == WEFT_VERDICT_REGRESSED && !inconclusive) {
      junit_case(cases, suite, name, p->median_s, "ScalabilityRegression", it->detail, body);
      failures++;
    } else if (it && it->verdict == WEFT_VERDICT_REGRESSED) {
      junit_case(cases, suite, name, p->median_s, "skipped", "inconclusive: the machine was busy", body);
      skipped++;
    } else if (s->has_baseline && !s->comparable) {
      junit_case(cases, suite, name, p->median_s, "skipped", "baseline from another machine class", body);
      skipped++;
    } else {
      junit_case(cases, suite, name, p->median_s, NULL, NULL, body);
    }
    tests++;
    g_free(name);
    g_free(body);
  }
  if (!s->failed && s->scaling) { /* the scaling verdict: a gate only with --require-scaling */
    char *name = g_strdup_printf("scaling %s", s->scaling);
    if (s->exit_code == WEFT_SCALE_EXIT_SCALING) {
      junit_case(cases, suite, name, 0, "NotScaling", s->scaling_why, s->scaling_why);
      failures++;
    } else if (s->require_scaling && !strcmp(s->scaling, "INCONCLUSIVE")) {
      junit_case(cases, suite, name, 0, "skipped", "inconclusive: the machine was busy", s->scaling_why);
      skipped++;
    } else {
      junit_case(cases, suite, name, 0, NULL, NULL, s->scaling_why);
    }
    tests++;
    g_free(name);
  }
  for (size_t i = 0; i < s->nitems; i++) {
    const WeftScaleItem *it = &s->items[i];
    if (!strcmp(it->metric, "time")) continue;
    char *body = it->nwhy ? g_strdup_printf("%s; %s", it->detail, it->why[0]) : g_strdup(it->detail);
    if (it->verdict == WEFT_VERDICT_REGRESSED) {
      junit_case(cases, suite, it->name, 0, "ScalabilityRegression", it->detail, body);
      failures++;
    } else {
      junit_case(cases, suite, it->name, 0, NULL, NULL, body);
    }
    tests++;
    g_free(body);
  }
  GString *g = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  g_string_append_printf(g,
                         "<testsuites name=\"weft scale\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
                         "skipped=\"%zu\">\n<testsuite name=\"",
                         tests, failures, skipped);
  x_esc(g, suite);
  g_string_append_printf(g, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", tests, failures,
                         skipped);
  g_string_append_len(g, cases->str, (gssize)cases->len);
  g_string_append(g, "</testsuite>\n</testsuites>\n");
  g_string_free(cases, TRUE);
  g_free(suite);
  return flush_gstring(f, g);
}

/* ------------------------------------------------------------ SVG */

/* Two panels side by side: speedup and efficiency against N (log2 axis),
 * with the ideal, the CI whiskers, the Amdahl and USL curves. */
/* The plot's x axis: log2 when the thread counts span more than 8x, else
 * linear; padded so that no point sits on the frame. */
typedef struct {
  int log;
  double lo, hi; /* in axis units (log2 N or N) */
  double x0, w;  /* pixels */
} SvgAxis;

static double svg_t(const SvgAxis *a, double n) { return a->log ? log2(n) : n; }
static double svg_x(const SvgAxis *a, double n) { return a->x0 + (svg_t(a, n) - a->lo) / (a->hi - a->lo) * a->w; }

/* A round y step (1, 2 or 5 times a power of ten) for about 4 steps up to top. */
static double svg_step(double top) {
  double raw = top / 4, mag = pow(10, floor(log10(raw))), step = mag;
  if (raw > 5 * mag)
    step = 10 * mag;
  else if (raw > 2 * mag)
    step = 5 * mag;
  else if (raw > mag)
    step = 2 * mag;
  return step;
}

/* One panel: speedup (panel 0) or efficiency (panel 1), with the ideal, each
 * fitted model and the measured points with their 95 % whiskers. */
static void svg_panel(GString *g, const WeftScale *s, int panel, SvgAxis ax, double nmin, double nmax) {
  const double top = 50, ph = 280;
  double vmax = panel ? 1.1 : nmax; /* the top: the ideal, every whisker, with room above */
  for (size_t i = 0; i < s->npoints; i++) {
    WeftEstimate e = panel ? s->points[i].efficiency : s->points[i].speedup;
    if (isfinite(e.hi) && e.hi > vmax) vmax = e.hi;
    if (isfinite(e.value) && e.value > vmax) vmax = e.value;
  }
  vmax *= 1.08;
  double step = svg_step(vmax);
  int nsteps = (int)ceil(vmax / step - 1e-9);
  double ymax = step * nsteps, x0 = ax.x0 - 12, pw = ax.w + 24; /* the frame, wider than the points' span */
#define PY(v) (top + ph - 8 - (v) / ymax * (ph - 8))            /* 0 a little above the frame: no point on it */
  g_string_append_printf(g,
                         "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#888\"/>\n",
                         x0, top, pw, ph);
  g_string_append_printf(g, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#222\">%s%s</text>\n", x0, top - 8,
                         panel     ? "efficiency"
                         : s->weak ? "scaled speedup"
                                   : "speedup",
                         ax.log ? " (threads on a log2 axis)" : "");
  for (int k = 0; k <= nsteps; k++) { /* y grid */
    double v = step * k;
    g_string_append_printf(g,
                           "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%g</text>\n",
                           x0, PY(v), x0 + pw, PY(v), x0 - 4, PY(v) + 4, v);
  }
  for (size_t i = 0; i < s->npoints; i++)
    g_string_append_printf(g, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">%d</text>\n",
                           svg_x(&ax, s->points[i].threads), top + ph + 16, s->points[i].threads);
  g_string_append_printf(g, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">threads</text>\n",
                         x0 + pw / 2, top + ph + 32);
  if (panel) /* the POP "good" line */
    g_string_append_printf(g,
                           "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9c9\" "
                           "stroke-dasharray=\"2,3\"/>\n",
                           x0, PY(0.8), x0 + pw, PY(0.8));
  /* the ideal, and each model, as polylines over the sweep (straight on a linear axis too) */
  const WeftScaleFit *fits[2] = {&s->amdahl, &s->usl};
  const char *colour[2] = {"#e08020", "#8040c0"};
  for (int m = -1; m < 2; m++) {
    if (m >= 0 && !fits[m]->ok) continue;
    g_string_append_printf(g, "<polyline class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s points=\"",
                           m < 0 ? "ideal"
                           : m   ? "usl"
                                 : "amdahl",
                           m < 0 ? "#aaa" : colour[m], m < 0 ? "1" : "2", m < 0 ? " stroke-dasharray=\"6,4\"" : "");
    for (int k = 0; k <= 60; k++) {
      double t = svg_t(&ax, nmin) + (svg_t(&ax, nmax) - svg_t(&ax, nmin)) * k / 60.0, n = ax.log ? exp2(t) : t;
      double sp = m < 0 ? n : weft_usl_speedup(fits[m]->sigma, fits[m]->kappa, n);
      double v = panel ? (m < 0 ? 1 : sp / n) : sp;
      if (v > ymax) v = ymax;
      g_string_append_printf(g, "%s%.1f,%.1f", k ? " " : "", svg_x(&ax, n), PY(v));
    }
    g_string_append(g, "\"/>\n");
  }
  /* measured, with 95 % whiskers */
  for (size_t i = 0; i < s->npoints; i++) {
    const WeftScalePoint *p = &s->points[i];
    WeftEstimate e = panel ? p->efficiency : p->speedup;
    if (!isfinite(e.value)) continue;
    double x = svg_x(&ax, p->threads);
    g_string_append_printf(g,
                           "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#1060c0\"/>"
                           "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
                           x, PY(fmax(e.lo, 0)), x, PY(e.hi), x, PY(e.value),
                           p->oversubscribed ? "#c03030" : "#1060c0");
  }
#undef PY
}

/* --history: the efficiency at each thread count over the runs, one line
 * each, with the steps marked where they begin (below the two panels). */
static void svg_trend(GString *g, const WeftScale *s, double top) {
  static const char *const colour[] = {"#1060c0", "#e08020", "#8040c0", "#20a060", "#c03030", "#606060"};
  const WeftScaleHistory *h = s->history;
  const double x0 = 72, pw = 790, ph = 220;
  double vmax = 1.1;
  for (size_t i = 0; i < h->nseries; i++)
    for (size_t k = 0; k < h->series[i].n; k++)
      if (!strcmp(h->series[i].metric, "efficiency") && h->series[i].values[k] > vmax) vmax = h->series[i].values[k];
  vmax *= 1.08;
  double step = svg_step(vmax), ymax = step * ceil(vmax / step - 1e-9);
  double span = h->nruns > 1 ? (double)(h->nruns - 1) : 1;
#define TX(r) (x0 + 12 + (double)(r) / span * (pw - 24))
#define TY(v) (top + ph - 8 - (v) / ymax * (ph - 8))
  g_string_append_printf(g,
                         "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#888\"/>\n",
                         x0, top, pw, ph);
  g_string_append_printf(
      g, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#222\">efficiency over the last %zu runs (%s, then this one)</text>\n", x0,
      top - 8, h->nruns, h->dir);
  for (double v = 0; v <= ymax + 1e-9; v += step)
    g_string_append_printf(g,
                           "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                           "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%g</text>\n",
                           x0, TY(v), x0 + pw, TY(v), x0 - 4, TY(v) + 4, v);
  int line = 0;
  for (size_t i = 0; i < h->nseries; i++) {
    const WeftScaleSeries *sr = &h->series[i];
    if (strcmp(sr->metric, "efficiency") || !sr->n) continue;
    const char *c = colour[line++ % G_N_ELEMENTS(colour)];
    g_string_append_printf(g, "<polyline class=\"trend\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
                           c);
    for (size_t k = 0; k < sr->n; k++)
      g_string_append_printf(g, "%s%.1f,%.1f", k ? " " : "", TX(sr->run[k]), TY(sr->values[k]));
    g_string_append(g, "\"/>\n");
    for (size_t k = 0; k < sr->nsteps; k++) { /* where a new level begins */
      double x = TX(sr->run[sr->steps[k]]);
      g_string_append_printf(g,
                             "<line class=\"step\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                             "stroke-dasharray=\"4,3\"/><text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">",
                             x, top, x, top + ph, c, x + 3, top + 14 + 14 * k, c);
      x_esc(g, h->names[sr->run[sr->steps[k]]]);
      g_string_append(g, "</text>\n");
    }
  }
  g_string_append_printf(g, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#555\">runs, oldest first · steps dashed · ", x0,
                         top + ph + 18);
  for (size_t k = 0, n = 0; n < (size_t)line && k < h->nseries; k++) {
    if (strcmp(h->series[k].metric, "efficiency") || !h->series[k].n) continue;
    g_string_append_printf(g, "%s<tspan fill=\"%s\">%d threads</tspan>", n ? " · " : "",
                           colour[n % G_N_ELEMENTS(colour)], h->series[k].threads);
    n++;
  }
  g_string_append(g, "</text>\n");
#undef TX
#undef TY
}

int weft_scale_write_svg(FILE *f, const WeftScale *s) {
  const double W = 900, H = s->history ? 720 : 400, pw = 356, left1 = 72, left2 = 522;
  GString *g = g_string_new(NULL);
  g_string_append_printf(g,
                         "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                         "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n",
                         W, H, W, H);
  g_string_append(g, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
  char *title = g_strdup_printf("weft scale: %s — %s%s%s", s->argc ? s->argv[0] : "",
                                s->scaling   ? s->scaling
                                : s->verdict ? s->verdict
                                             : "",
                                s->scaling ? ", baseline " : "", s->scaling && s->verdict ? s->verdict : "");
  g_string_append(g, "<text x=\"20\" y=\"24\" font-size=\"15\" fill=\"#222\">");
  x_esc(g, title);
  g_string_append(g, "</text>\n");
  g_free(title);
  double nmin = 0, nmax = 0;
  for (size_t i = 0; i < s->npoints; i++) {
    double n = s->points[i].threads;
    if (!nmin || n < nmin) nmin = n;
    if (n > nmax) nmax = n;
  }
  if (!nmin) nmin = 1;
  if (nmax <= nmin) nmax = nmin * 2;
  SvgAxis ax = {.log = nmax / nmin > 8, .w = pw};
  ax.lo = svg_t(&ax, nmin);
  ax.hi = svg_t(&ax, nmax);
  for (int panel = 0; panel < 2; panel++) {
    ax.x0 = panel ? left2 : left1;
    svg_panel(g, s, panel, ax, nmin, nmax);
  }
  GString *legend = g_string_new("measured (95 % CI) in blue · ideal dashed");
  if (s->amdahl.ok) g_string_append(legend, " · Amdahl orange");
  if (s->usl.ok) g_string_append(legend, " · USL purple");
  g_string_append(legend, " · efficiency 0.8 dotted");
  g_string_append_printf(g, "<text x=\"20\" y=\"%.0f\" fill=\"#555\">", 400.0 - 8);
  x_esc(g, legend->str);
  g_string_append(g, "</text>\n");
  g_string_free(legend, TRUE);
  if (s->history) svg_trend(g, s, 450);
  g_string_append(g, "</svg>\n");
  return flush_gstring(f, g);
}

/* ------------------------------------------------------------ text */

int weft_scale_write_text(FILE *f, const WeftScale *s) {
  char *head = headline(s);
  GString *g = g_string_new(NULL);
  /* the headline without Markdown */
  for (const char *p = head; *p; p++)
    if (*p != '*' && *p != '`') g_string_append_c(g, *p);
  g_string_append_c(g, '\n');
  g_free(head);
  if (s->failed && s->fail_stderr && *s->fail_stderr) {
    char *tail = valid_utf8(s->fail_stderr);
    g_string_append_printf(g, "stderr of the failed run (last lines):\n%s%s", tail,
                           *tail && tail[strlen(tail) - 1] != '\n' ? "\n" : "");
    g_free(tail);
  }
  if (!s->failed && s->npoints) {
    g_string_append(g, "\n threads     median      speedup [95% CI]      eff.  Karp-Flatt");
    if (s->has_baseline && s->comparable) g_string_append(g, "   vs baseline         p(Holm)  verdict");
    g_string_append_c(g, '\n');
    for (size_t i = 0; i < s->npoints; i++) {
      const WeftScalePoint *p = &s->points[i];
      if (!p->nsamples) continue;
      char kf[16] = "     -";
      if (isfinite(p->karp_flatt.value)) snprintf(kf, sizeof kf, "%6.3f", p->karp_flatt.value);
      g_string_append_printf(g, " %7d%s %9.4g s  %6.2f [%6.2f, %6.2f]  %5.2f      %s", p->threads,
                             p->oversubscribed ? "*" : " ", p->median_s, p->speedup.value, p->speedup.lo, p->speedup.hi,
                             p->efficiency.value, kf);
      const WeftScaleItem *it = s->has_baseline ? item_for(s, p->threads, "time") : NULL;
      if (it)
        g_string_append_printf(g, "   %+6.1f%% [%+.1f,%+.1f]  %7.2g  %s", 100 * (it->ratio - 1), 100 * (it->lo - 1),
                               100 * (it->hi - 1), it->p_adj, weft_verdict_name(it->verdict));
      g_string_append_c(g, '\n');
    }
    if (s->amdahl.ok) {
      g_string_append_printf(g, "\nAmdahl serial fraction %.4f", s->amdahl.sigma);
      if (s->usl.ok)
        g_string_append_printf(g, "; USL sigma %.4f kappa %.3g N* %.1f", s->usl.sigma, s->usl.kappa, s->usl.n_star);
      g_string_append_printf(g, "; preferred: %s (%s)\n", s->preferred ? s->preferred : "none", s->preferred_why);
    }
  }
  for (size_t i = 0; i < s->nitems; i++) {
    const WeftScaleItem *it = &s->items[i];
    if (it->verdict != WEFT_VERDICT_REGRESSED && it->verdict != WEFT_VERDICT_WARN) continue;
    g_string_append_printf(g, "%s %s: %s\n", weft_verdict_name(it->verdict), it->name, it->detail);
    for (size_t k = 0; k < it->nwhy; k++) g_string_append_printf(g, "    %s\n", it->why[k]);
  }
  for (size_t i = 0; i < s->ndifferences; i++) g_string_append_printf(g, "baseline differs: %s\n", s->differences[i]);
  for (size_t i = 0; i < s->nfindings; i++) g_string_append_printf(g, "- %s\n", s->findings[i]);
  if (s->history) {
    g_string_append_printf(g, "history (%zu runs from %s):\n", s->history->nruns, s->history->dir);
    history_lines(g, s, "  ");
  }
  for (size_t i = 0; i < s->nnotes; i++) g_string_append_printf(g, "note: %s\n", s->notes[i]);
  return flush_gstring(f, g);
}
