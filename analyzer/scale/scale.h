/* scale.h - `weft scale`: the measurements of a thread sweep, their analysis,
 * the comparison with a baseline and the outputs.
 * SPDX-License-Identifier: MIT
 *
 * cmd-scale.c measures and fills a WeftScale; scale-analyze.c computes the
 * statistics, fits, explanations and the comparison (scale-stats.h does the
 * arithmetic); scale-report.c writes JSON (docs/scale-json.md), Markdown,
 * JUnit XML, SVG and the terminal summary; scale-baseline.c reads a JSON
 * report back as a baseline. Single-threaded; nothing here is shared.
 */
#ifndef WEFT_SCALE_H
#define WEFT_SCALE_H

#include <stdint.h>
#include <stdio.h>

#include "scale-stats.h"

#define WEFT_SCALE_JSON_VERSION 1

/* Exit statuses of weft scale (docs/man/weft-scale.md). */
enum {
  WEFT_SCALE_EXIT_OK = 0,
  WEFT_SCALE_EXIT_REGRESSION = 1,
  WEFT_SCALE_EXIT_USAGE = 2,
  WEFT_SCALE_EXIT_INCONCLUSIVE = 3, /* a gate could not be judged: the machine was too noisy; retry */
  WEFT_SCALE_EXIT_SCALING = 4,      /* --require-scaling: the program scales worse than required */
  WEFT_SCALE_EXIT_PROGRAM = 5,
  WEFT_SCALE_EXIT_INTERNAL = 6,
};

typedef struct {
  char *label;    /* "name (file.c:88)", without a report's " in pid N": the locks of
                   * one label in any process of the run are one */
  char *kind;     /* "mutex", "rwlock", ... */
  double wait_ts; /* thread-seconds the team waited on it in the traced run */
} WeftScaleLock;

/* The traced run of one point and its explanation. Thread-seconds; the
 * budget is exact: capacity = useful + lock_wait + other_wait + idle. */
typedef struct {
  int ok;                        /* 0: not traced (or the trace could not be read) */
  double wall_s;                 /* the traced run's wall time */
  double other_cpus;             /* CPUs other processes kept busy during it, on average (0: not read) */
  double overhead;               /* wall_s / median timing - 1: the agent's cost at this point */
  double lb, sync_e, comp_s, pe; /* POP: weft_pop() of the N busiest threads; comp_s = U(ref) / U(N) */
  double capacity_ts;            /* N x the recording's span */
  double useful_ts;              /* the team's (the N busiest threads') useful time */
  double lock_wait_ts;           /* waits on mutexes, rwlocks, spinlocks, semaphores */
  double other_wait_ts;          /* condvar, barrier, I/O, sleep, GIL waits */
  double gil_wait_ts;            /* the part of other_wait_ts in CPython's GIL */
  double runq_ts;       /* the team's runnable-but-not-on-a-CPU time (schedstat; other load, oversubscription) */
  double idle_ts;       /* the rest: slots with no thread (serial parts, imbalance, start-up) */
  double extra_work_ts; /* useful_ts - the reference point's useful_ts (work inflation) */
  /* a Python program's process pools (the report's analysis, python.h: the ipc and startup findings'
   * numbers, summed over its pools); not in the budget above, which they explain: the workers wait
   * (other_wait) while the parent moves their data, and run (useful) while they start */
  double ipc_ts;      /* moving data: the parent's threads that pickle and pipe it, running, and the waits
                       * on the queues' locks */
  double ipc_lock_ts; /* of it, the waits on the queues' locks (also in lock_wait_ts) */
  double ipc_bytes;   /* the bytes the pools' processes wrote to pipes */
  double startup_ts;  /* the workers' start-up in state running (spawn, forkserver, loky) */
  WeftScaleLock *locks;
  size_t nlocks;     /* by wait_ts desc */
  char *held_lock;   /* the lock held longest, when held half the run or more (NULL: none): threads that
                      * take turns on it may not wait on it at all when the scheduler runs them on one CPU */
  double held_share; /* its held time (estimated where counted) over the run's span */
} WeftScaleTrace;

typedef struct {
  int threads;
  int oversubscribed; /* more threads than usable CPUs */
  int smt;            /* more threads than physical cores */
  double *samples_s;
  size_t nsamples;        /* wall times of the timing runs, in run order */
  double *user_s, *sys_s; /* rusage of the same runs (NULL in an old baseline) */
  double *other_s;        /* CPU time of everything else on the machine during each run (/proc/stat busy
                           * time less the program's; NULL in an old baseline) */
  double *steal_s;        /* time the hypervisor gave our CPUs to others during each run */
  /* statistics */
  double median_s, mean_s, min_s, mad_s, iqr_s, cv;
  WeftEstimate median_ci;
  WeftEstimate speedup, efficiency, karp_flatt; /* relative to the reference point (N = 1, else the
                                                 * smallest N, scaled by it); karp_flatt NAN at N = 1 */
  WeftScaleTrace trace;
} WeftScalePoint;

typedef struct {
  char *cpu_model;
  int logical_cpus, physical_cores, usable_cpus, smt;
  char *usable_source; /* "online", "affinity", "cgroup cpu.max" */
  char *kernel;
} WeftScaleMachine;

/* One compared item: a point's time or a shape gate. */
typedef struct {
  char *name;           /* "threads=4 time", "efficiency@threads=8", "usl.n_star" */
  int threads;          /* 0 for model gates */
  const char *metric;   /* "time", "efficiency", "n_star" */
  double base, cur;     /* medians (s), efficiencies, N* */
  double ratio, lo, hi; /* cur / base and its 95 % interval */
  double p, p_adj;      /* NAN when no test applies */
  WeftVerdict verdict;
  char *detail; /* one line: the numbers */
  char **why;
  size_t nwhy; /* explanation lines (time items that got worse) */
} WeftScaleItem;

/* --history: one metric at one thread count over the earlier reports and
 * this run (scale-history.c). */
typedef struct {
  const char *metric; /* "time", "speedup", "efficiency" */
  int threads;
  double *values;
  size_t *run; /* values[i] is of run run[i] (WeftScaleHistory.names) */
  size_t n;
  size_t steps[16]; /* indexes into values where a new level begins */
  size_t nsteps;
} WeftScaleSeries;

typedef struct WeftScale WeftScale;
typedef struct {
  char *dir;
  char **names;     /* the reports' file names, by name, then "(this run)" */
  WeftScale **runs; /* the reports, analysed (this run's slot NULL: not ours) */
  size_t nruns;
  WeftScaleSeries *series;
  size_t nseries;
} WeftScaleHistory;

struct WeftScale {
  /* configuration */
  char **argv;
  int argc; /* the command template */
  int *threads;
  size_t nthreads;
  int repeat, warmup, explain;
  uint64_t seed;
  double timeout_s; /* 0: none */
  double alpha, min_effect, efficiency_drop;
  int weak;                    /* --weak: the work grows with N (efficiency T(1)/T(N)) */
  double scales_eff, poor_eff; /* the scaling verdict's thresholds (--scales-efficiency, --poor-efficiency) */
  const char *require_scaling; /* --require-scaling: "SCALES" or "SCALES_POORLY", or NULL */
  int bootstrap;               /* resamples */
  WeftScaleMachine machine;
  int *order;
  size_t norder; /* thread counts of the timing runs, in the order they ran */

  WeftScalePoint *points;
  size_t npoints; /* by threads ascending */

  /* analysis */
  WeftScaleFit amdahl, usl;
  const char *preferred; /* "amdahl", "usl", or NULL */
  char *preferred_why;
  int retrograde; /* a larger N is significantly slower than the best one */
  char **findings;
  size_t nfindings; /* sentences */

  /* a program failure (then nothing is compared) */
  int failed;
  int fail_threads, fail_run; /* run: 1-based within the point; 0 the traced run */
  const char *fail_phase;     /* "warmup", "timing", "traced" */
  char *fail_what;            /* "exited with status 3", "killed by SIGSEGV", "timed out after 2 s" */
  char *fail_stderr;          /* the last lines of its stderr */

  /* comparison */
  int has_baseline;
  char *baseline_path;
  int comparable;
  char **differences;
  size_t ndifferences; /* why not comparable, or notes */
  WeftScaleItem *items;
  size_t nitems;
  WeftScaleFit base_usl, base_amdahl;

  /* the scaling verdict (always; scale-verdict.c) */
  const char *scaling;     /* "SCALES", "SCALES_POORLY", "DOES_NOT_SCALE", "SLOWS_DOWN", "INCONCLUSIVE" */
  const char *scaling_raw; /* what the numbers alone say (before the noise check) */
  char *scaling_why;       /* one sentence with the numbers and the cause */
  int scaling_threads;     /* the N it judges (the largest measured) */
  /* the machine's noise during the sweep */
  double noise_other_cpus; /* the most CPUs other work kept busy during a point's runs (average over its runs) */
  double noise_competing;  /* the part of it that competed with the program's threads, as a share of N */
  double noise_steal;      /* steal time, share of the CPUs' time */
  double noise_cv;         /* the largest coefficient of variation of a point's repeats */
  double noise_runq;       /* runnable share of the team's time in a traced run with N <= the CPUs */
  int noisy;               /* the noise could explain a poor result */
  char *noise_why;         /* what was noisy and what to do (NULL: quiet) */

  WeftScaleHistory *history; /* --history, or NULL */

  /* the verdict */
  const char *verdict; /* "OK", "REGRESSED", "WARN", "IMPROVED", "NO_BASELINE", "INCOMPARABLE", "ERROR",
                        * "INCONCLUSIVE" (a regression the noise could explain) */
  int exit_code;
  char **notes;
  size_t nnotes; /* warnings about the measurement (too few repeats, ...) */
};

void weft_scale_free(WeftScale *s);
void weft_scale_note(WeftScale *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* scale-analyze.c: statistics per point, fits, findings. */
void weft_scale_analyze(WeftScale *s);
/* Compare s with base (analysed too); sets items, verdict and exit code. */
void weft_scale_compare(WeftScale *s, const WeftScale *base);

/* scale-verdict.c: the scaling verdict and the noise check (after
 * weft_scale_analyze; weft_scale_finish applies them to the exit status). */
void weft_scale_judge(WeftScale *s);
/* The baseline verdict from the compared items (or none, or a failure) and
 * the exit code of all the gates. */
void weft_scale_finish(WeftScale *s);

/* scale-history.c: the reports in dir, read and analysed (before the sweep:
 * a bad one stops weft scale); NULL with a one-line message in err. Then
 * the series with this run (analysed) last, and their steps. */
WeftScaleHistory *weft_scale_history_load(const char *dir, int weak, char *err, size_t errlen);
void weft_scale_history_series(WeftScaleHistory *h, WeftScale *cur);
void weft_scale_history_free(WeftScaleHistory *h);
/* "efficiency at 4 threads: from 0.91 to 0.62 (-32 %) at nightly-11-30.json" */
char *weft_scale_step_text(const WeftScaleHistory *h, const WeftScaleSeries *sr, size_t k);

/* scale-baseline.c: read a JSON report written by weft_scale_write_json.
 * Returns NULL with a one-line message naming the file in err. */
WeftScale *weft_scale_load(const char *path, char *err, size_t errlen);

/* scale-report.c: the outputs. Each returns 0, or -1 with errno set. */
int weft_scale_write_json(FILE *f, const WeftScale *s);
int weft_scale_write_markdown(FILE *f, const WeftScale *s, size_t budget);
int weft_scale_write_junit(FILE *f, const WeftScale *s);
int weft_scale_write_svg(FILE *f, const WeftScale *s);
int weft_scale_write_text(FILE *f, const WeftScale *s);
/* Bencher Metric Format: per thread count, latency (ns), speedup and efficiency with their intervals. */
int weft_scale_write_bmf(FILE *f, const WeftScale *s);

#endif /* WEFT_SCALE_H */
