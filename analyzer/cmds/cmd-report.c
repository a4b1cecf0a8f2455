/* cmd-report.c - `weft report`: explain where the time of a recording went.
 * SPDX-License-Identifier: MIT
 *
 *   weft report run.db [--format text|json|markdown] [--top N] [--range A..B] [--process PID]
 *                      [--what-if SPEC]... [--compare BEFORE.db] [-o FILE|-]
 *
 * The analyses are analysis/ (weft_metrics_compute), the rendering
 * render/report.c; this file parses the command line and maps failures to exit statuses (weft-cli.h): 1 with a
 * one-line message naming the file when the database cannot be used, 2 for
 * usage errors. -o opens its file with weft_output_open (weft-output.h), as
 * weft export does: never the recording, a FIFO or device as a stream, a file
 * replaced only once the report is complete. docs/man/weft-report.md is the
 * manual. --compare computes the metrics of a second recording with the same
 * query (without the what-ifs) and puts analysis/compare.c's comparison
 * before the report: `weft report --compare BEFORE.db AFTER.db`.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "report.h"
#include "weft-cli.h"
#include "weft-db.h"
#include "weft-output.h"

static void usage(FILE *f) {
  fprintf(f, "usage: weft report RUN.db [--format text|json|markdown] [--top N] [--range A..B] [--process PID]\n"
             "                   [--all-processes] [--what-if SPEC]... [-o FILE|-]\n"
             "\n"
             "Explain where the time of a recording went: per process and thread time, load balance and\n"
             "parallel efficiency, contention per lock, regions, parallelism, and ranked findings.\n"
             "\n"
             "  --format F     text (default), json (docs/report-json.md) or markdown (for a PR comment)\n"
             "  --top N        at most N rows per list (default: text 10, markdown 5, json all; 0: all)\n"
             "  --range A..B   only [A, B); times since the recording started, with a unit s, ms, us or ns\n"
             "                 (none: ns); either end may be left out: 1.5s..  ..200ms\n"
             "  --process PID  only the process images with this pid\n"
             "  --all-processes  also the launchers: when the root process exec'd (env, a shell\n"
             "                 wrapper, pyenv's shims), its earlier images and their children,\n"
             "                 which are left out by default\n"
             "  --what-if SPEC replay the recording with a change (repeatable): lock:NAME (it keeps no\n"
             "                 one waiting), lock:NAME=-40%% (its critical sections 40 %% shorter),\n"
             "                 thread:NAME=-30%% (its work 30 %% faster; a name or tid), region:NAME=-30%%,\n"
             "                 balance (the most imbalanced region evened out), cpus=N, gil=off\n"
             "  --compare BEFORE.db  first, the recording before a change against RUN.db (after):\n"
             "                 summary figures, sync objects and findings with before, after,\n"
             "                 difference and ratio (weft report --compare BEFORE.db AFTER.db)\n");
}

static int usage_error(const char *fmt, const char *arg) {
  fputs("weft report: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs("\n(`weft report --help` for usage)\n", stderr);
  return 2;
}

/* A non-negative decimal integer; 0 or -1. */
static int parse_count(const char *s, long long *out) {
  if (!*s) return -1;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9') return -1;
  errno = 0;
  *out = strtoll(s, NULL, 10);
  return errno ? -1 : 0;
}

/* The value of option name at argv[*i] ("--name V" or "--name=V"), or NULL
 * if argv[*i] is not that option; *missing is set when the value is absent. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, int *missing) {
  size_t n = strlen(name);
  if (strncmp(argv[*i], name, n) != 0) return NULL;
  if (argv[*i][n] == '=') return argv[*i] + n + 1;
  if (argv[*i][n] != '\0') return NULL;
  if (*i + 1 >= argc) {
    *missing = 1;
    return NULL;
  }
  return argv[++*i];
}

/* The metrics of the --compare recording, with q's range and process but
 * none of its what-ifs; NULL after a one-line message naming the file. */
static WeftMetrics *compute_before(const char *path, const WeftMetricsQuery *q) {
  char err[512];
  WeftMetricsQuery bq = *q;
  bq.whatifs = NULL;
  bq.nwhatifs = 0;
  sqlite3 *db = weft_db_open(path, 0, err, sizeof err);
  if (!db) {
    fprintf(stderr, "weft report: %s\n", err);
    return NULL;
  }
  WeftMetrics *m = weft_metrics_compute(db, &bq, err, sizeof err);
  sqlite3_close(db);
  if (!m) fprintf(stderr, "weft report: %s: %s\n", path, err);
  return m;
}

int weft_cmd_report(int argc, char **argv) {
  const char *path = NULL, *out = "-", *before_path = NULL, *v;
  WeftReportOptions opt = {.format = WEFT_REPORT_TEXT, .top = 0};
  WeftMetricsQuery q;
  weft_metrics_query_init(&q);
  int only_args = 0;
  const char **whatifs = NULL;
  size_t nwhatifs = 0;

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    int missing = 0;
    if (only_args || arg[0] != '-' || !strcmp(arg, "-")) {
      if (path) return usage_error("more than one database given ('%s')", arg);
      path = arg;
    } else if (!strcmp(arg, "--")) {
      only_args = 1;
    } else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      usage(stdout);
      return 0;
    } else if ((v = opt_value(argc, argv, &i, "--format", &missing))) {
      if (weft_report_format_parse(v, &opt.format) < 0)
        return usage_error("unknown format '%s' (text, json or markdown)", v);
    } else if ((v = opt_value(argc, argv, &i, "--top", &missing))) {
      long long n;
      if (parse_count(v, &n) < 0 || n > 1000000000) return usage_error("--top wants a count, not '%s'", v);
      opt.top = n == 0 ? -1 : (long)n;
    } else if ((v = opt_value(argc, argv, &i, "--range", &missing))) {
      if (weft_parse_range(v, 1, &q.start_ns, &q.end_ns) < 0)
        return usage_error("--range wants A..B with times like 1.5s, 200ms, 30us or 1000 (ns), not '%s'", v);
      if (q.start_ns != WEFT_TIME_OPEN_START && q.end_ns != WEFT_TIME_OPEN_END && q.start_ns >= q.end_ns)
        return usage_error("--range %s is empty", v);
    } else if ((v = opt_value(argc, argv, &i, "--output", &missing)) ||
               (v = opt_value(argc, argv, &i, "-o", &missing))) {
      out = v;
    } else if (!strcmp(arg, "--all-processes")) {
      q.all_processes = 1;
    } else if ((v = opt_value(argc, argv, &i, "--process", &missing))) {
      long long pid;
      if (parse_count(v, &pid) < 0 || pid > 0x7fffffff) return usage_error("--process wants a pid, not '%s'", v);
      q.pid = pid;
    } else if ((v = opt_value(argc, argv, &i, "--what-if", &missing))) {
      const char **w = realloc(whatifs, (nwhatifs + 1) * sizeof *w);
      if (!w) return free(whatifs), usage_error("%s", "out of memory");
      whatifs = w;
      whatifs[nwhatifs++] = v;
    } else if ((v = opt_value(argc, argv, &i, "--compare", &missing))) {
      before_path = v;
    } else if (missing) {
      free(whatifs);
      return usage_error("%s needs a value", arg);
    } else {
      free(whatifs);
      return usage_error("unknown option '%s'", arg);
    }
  }
  if (!path) return free(whatifs), usage_error("%s", "no database given");
  if (nwhatifs && (q.start_ns != WEFT_TIME_OPEN_START || q.end_ns != WEFT_TIME_OPEN_END))
    return free(whatifs), usage_error("%s", "--what-if replays the whole recording: leave out --range");
  q.whatifs = whatifs;
  q.nwhatifs = nwhatifs;

  char err[512];
  sqlite3 *db = weft_db_open(path, 0, err, sizeof err);
  if (!db) {
    free(whatifs);
    fprintf(stderr, "weft report: %s\n", err);
    return 1;
  }
  /* the output before the analyses, so that a refused one is told at once */
  WeftOutput o;
  if (weft_output_open(&o, out, path, err, sizeof err) != 0) {
    free(whatifs);
    sqlite3_close(db);
    fprintf(stderr, "weft report: %s\n", err);
    return 1;
  }
  WeftMetrics *m = weft_metrics_compute(db, &q, err, sizeof err);
  sqlite3_close(db);
  WeftMetrics *before = m && before_path ? compute_before(before_path, &q) : NULL;
  free(whatifs);
  if (!m || (before_path && !before)) {
    weft_output_abort(&o);
    if (!m) fprintf(stderr, "weft report: %s: %s\n", path, err);
    weft_metrics_free(m);
    return 1;
  }
  opt.database = path;
  WeftCompare *cmp = before ? weft_compare(before, m) : NULL;
  opt.compare = cmp;
  opt.compare_database = before_path;
  weft_report_write(o.f, m, &opt); /* its write errors are the output's, told by the commit */
  weft_compare_free(cmp);
  weft_metrics_free(before);
  weft_metrics_free(m);
  if (weft_output_commit(&o, err, sizeof err) != 0) {
    fprintf(stderr, "weft report: %s\n", err);
    return 1;
  }
  return 0;
}
