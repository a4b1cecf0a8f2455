/* test-scale-verdict.c - the scaling verdict and the noise check of weft scale
 * (analyzer/scale/scale-verdict.c) on sweeps made up here.
 * SPDX-License-Identifier: MIT
 *
 * Each case sets the speedup and efficiency estimates of a 1- and an
 * N-thread point (as weft_scale_analyze would have), the machine and, where
 * it matters, the traced budget and the noise measured around the runs; the
 * expected verdict follows from the default thresholds (SCALES at an
 * efficiency of 0.75 whose interval stays above 0.25; SCALES_POORLY above
 * 0.25 and significantly faster than one thread; SLOWS_DOWN significantly
 * slower) and the noise limits in scale-verdict.c, worked out by hand below.
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "scale.h"
#include "tap.h"

static double ones[4] = {1, 1, 1, 1};
static double zeros[4] = {0, 0, 0, 0};

typedef struct {
  WeftScale s;
  WeftScalePoint p[2];
  double other[2][4], steal[2][4];
} Sweep;

/* N threads with speedup S [lo, hi] against 1 thread; 4 runs of 1 s each. */
static void sweep(Sweep *w, int n, double S, double lo, double hi) {
  memset(w, 0, sizeof *w);
  w->s.points = w->p;
  w->s.npoints = 2;
  w->s.machine.usable_cpus = 4;
  for (int i = 0; i < 2; i++) {
    WeftScalePoint *p = &w->p[i];
    p->threads = i ? n : 1;
    p->nsamples = 4;
    p->samples_s = ones;
    p->other_s = w->other[i];
    p->steal_s = w->steal[i];
    p->cv = 0.01;
    double s = i ? S : 1, l = i ? lo : 1, h = i ? hi : 1;
    p->speedup = (WeftEstimate){s, l, h};
    p->efficiency = (WeftEstimate){s / p->threads, l / p->threads, h / p->threads};
  }
}

static void judge(Sweep *w) {
  w->s.scaling_why = NULL;
  w->s.noise_why = NULL;
  weft_scale_judge(&w->s);
}

static void done(Sweep *w) {
  g_free(w->s.scaling_why);
  g_free(w->s.noise_why);
}

static int is(const char *a, const char *b) { return a && b && !strcmp(a, b); }

static void test_thresholds(void) {
  Sweep w;
  sweep(&w, 4, 3.6, 3.2, 3.9); /* efficiency 0.9 [0.8, 0.975] */
  judge(&w);
  ok(is(w.s.scaling, "SCALES") && strstr(w.s.scaling_why, "4 threads are 3.60x as fast as 1 (efficiency 90 %"),
     "speedup 3.6 at 4 threads: SCALES (%s: %s)", w.s.scaling, w.s.scaling_why);
  done(&w);
  sweep(&w, 4, 3.0, 0.8, 4.0); /* efficiency 0.75 but its interval reaches 0.2: not SCALES; not faster for sure */
  judge(&w);
  ok(is(w.s.scaling, "DOES_NOT_SCALE"), "efficiency 0.75 [0.2, 1.0], speedup not above 1 for sure: DOES_NOT_SCALE (%s)",
     w.s.scaling);
  done(&w);
  sweep(&w, 4, 2.0, 1.8, 2.2); /* efficiency 0.5 */
  judge(&w);
  ok(is(w.s.scaling, "SCALES_POORLY"), "speedup 2.0 [1.8, 2.2] at 4 threads: SCALES_POORLY (%s)", w.s.scaling);
  done(&w);
  sweep(&w, 8, 1.6, 1.4, 1.8); /* efficiency 0.2 < 0.25 */
  judge(&w);
  ok(is(w.s.scaling, "DOES_NOT_SCALE"), "speedup 1.6 at 8 threads (efficiency 0.2): DOES_NOT_SCALE (%s)", w.s.scaling);
  done(&w);
  sweep(&w, 2, 0.47, 0.44, 0.5);
  judge(&w);
  ok(is(w.s.scaling, "SLOWS_DOWN") && strstr(w.s.scaling_why, "2 threads are 2.13x slower than 1"),
     "speedup 0.47 [0.44, 0.50] at 2 threads: SLOWS_DOWN, 2.13x slower (%s)", w.s.scaling_why);
  done(&w);
  sweep(&w, 2, 0.98, 0.97, 0.99); /* slower for sure, but by 2 %: below --min-effect */
  judge(&w);
  ok(is(w.s.scaling, "DOES_NOT_SCALE"), "speedup 0.98 [0.97, 0.99]: DOES_NOT_SCALE, not SLOWS_DOWN (%s)", w.s.scaling);
  done(&w);
  sweep(&w, 2, 0.9, 0.7, 1.1); /* slower, but not for sure */
  judge(&w);
  ok(is(w.s.scaling, "DOES_NOT_SCALE"), "speedup 0.9 [0.7, 1.1]: DOES_NOT_SCALE, not SLOWS_DOWN (%s)", w.s.scaling);
  done(&w);
  /* settable: with --scales-efficiency 0.95 the first case scales only poorly */
  sweep(&w, 4, 3.6, 3.2, 3.9);
  w.s.scales_eff = 0.95;
  judge(&w);
  ok(is(w.s.scaling, "SCALES_POORLY"), "--scales-efficiency 0.95: efficiency 0.9 is SCALES_POORLY (%s)", w.s.scaling);
  done(&w);
  /* one point: nothing to judge */
  sweep(&w, 4, 3.6, 3.2, 3.9);
  w.s.npoints = 1;
  judge(&w);
  ok(is(w.s.scaling, "INCONCLUSIVE") && strstr(w.s.scaling_why, "one thread count"),
     "one thread count: INCONCLUSIVE (%s)", w.s.scaling_why);
  done(&w);
}

/* A 2-thread sweep that does not scale whose traced run at 2 threads was 42 % runnable. */
static WeftScaleTrace *runnable_trace(Sweep *w) {
  sweep(w, 2, 0.49, 0.47, 0.51);
  WeftScaleTrace *t = &w->p[1].trace;
  t->ok = 1;
  t->capacity_ts = 2.0;
  t->useful_ts = 1.0;
  t->runq_ts = 0.84;
  return t;
}

/* The cause named from the traced run at the largest N. */
static void test_cause(void) {
  Sweep w;
  sweep(&w, 2, 0.47, 0.44, 0.5);
  WeftScaleLock g = {"g (noscale.c:9)", "mutex", 0.9};
  WeftScaleTrace *t = &w.p[1].trace;
  t->ok = 1;
  t->capacity_ts = 2.0;
  t->useful_ts = 0.9;
  t->lock_wait_ts = 0.9; /* 45 % of the thread time */
  t->idle_ts = 0.2;
  t->locks = &g;
  t->nlocks = 1;
  judge(&w);
  ok(strstr(w.s.scaling_why, "2 threads are 2.13x slower than 1 (speedup 0.47 [0.44, 0.50]): its threads wait on "
                             "`g (noscale.c:9)` 45 % of the time") != NULL,
     "the reason names the lock and its share: %s", w.s.scaling_why);
  done(&w);
  sweep(&w, 2, 1.2, 1.1, 1.3);
  t = &w.p[1].trace;
  t->ok = 1;
  t->capacity_ts = 2.0;
  t->useful_ts = 1.0;
  t->other_wait_ts = 0.7;
  t->gil_wait_ts = 0.6; /* the GIL: 30 %, more than any other loss */
  judge(&w);
  ok(is(w.s.scaling, "SCALES_POORLY") && strstr(w.s.scaling_why, "wait for the GIL 30 %"),
     "speedup 1.2 [1.1, 1.3] at 2 threads: SCALES_POORLY, and the GIL named: %s", w.s.scaling_why);
  done(&w);
  /* a Python pool: moving its data is the largest loss; its queues' lock waits and the workers'
   * waits while its parent's threads move it are its, not lock waits (0.5 - 0.5) or "other waits"
   * (0.7 - 0.3 left: 10 %, named second) */
  sweep(&w, 2, 0.9, 0.8, 1.0);
  t = &w.p[1].trace;
  t->ok = 1;
  t->capacity_ts = 4.0;
  t->useful_ts = 1.5;
  t->lock_wait_ts = 0.5;
  t->other_wait_ts = 0.7;
  t->ipc_ts = 0.8; /* 20 %: 0.3 running, 0.5 of lock waits */
  t->ipc_lock_ts = 0.5;
  t->ipc_bytes = 134e6;
  t->idle_ts = 0.3;
  judge(&w);
  ok(strstr(w.s.scaling_why, ": moving data to and from its worker processes takes 20 % of the thread time (134 "
                             "MB): pickling and piping task arguments and results; its threads wait 10 % of the "
                             "time on condition variables") != NULL,
     "a pool that moves much data: the reason names it first, then the other waits it leaves: %s", w.s.scaling_why);
  done(&w);
  /* its workers' start-up, the largest loss */
  sweep(&w, 2, 0.9, 0.8, 1.0);
  t = &w.p[1].trace;
  t->ok = 1;
  t->capacity_ts = 4.0;
  t->useful_ts = 3.0;
  t->startup_ts = 1.2; /* 30 %, of the useful time */
  t->idle_ts = 0.1;
  judge(&w);
  ok(strstr(w.s.scaling_why, ": its worker processes spend 30 % of the thread time starting up") != NULL &&
         !strstr(w.s.scaling_why, "; "),
     "a pool whose workers start slowly: the reason names the start-up alone: %s", w.s.scaling_why);
  done(&w);
  /* fx-scale-lock's traced run with its two threads kept on one of the CPUs: 42 % runnable, 2 % waiting
   * on its lock; CPUs enough (4 for 2) and no other load: not a shortage of CPUs, and the lock named */
  t = runnable_trace(&w);
  t->lock_wait_ts = 0.04;
  WeftScaleLock gl = {"global_lock (fx-scale-lock.c:21)", "mutex", 0.04};
  t->locks = &gl;
  t->nlocks = 1;
  judge(&w);
  ok(strstr(w.s.scaling_why, ": its threads wait for a CPU 42 % of the time though there were 4 CPUs for 2 threads: "
                             "the scheduler ran them on fewer or was slow to wake them, as happens to threads that "
                             "take turns (here on `global_lock (fx-scale-lock.c:21)`)") != NULL,
     "runnable with CPUs enough, no other load: the scheduler's doing, and the lock named: %s", w.s.scaling_why);
  done(&w);
  /* the same with no wait on any lock in the traced run: the lock held longest named, with its share */
  t = runnable_trace(&w);
  t->held_lock = "global_lock (fx-scale-lock.c:21)";
  t->held_share = 0.97;
  judge(&w);
  ok(strstr(w.s.scaling_why, "as happens to threads that take turns (here on `global_lock (fx-scale-lock.c:21)`, "
                             "held 97 % of the time)") != NULL,
     "runnable with CPUs enough, no lock waited on: the lock held longest named: %s", w.s.scaling_why);
  done(&w);
  /* the same with other work beside the traced run: a wait for a CPU as such */
  t = runnable_trace(&w);
  t->other_cpus = 1.5;
  judge(&w);
  ok(strstr(w.s.scaling_why, ": its threads wait for a CPU 42 % of the time (2 threads, 4 usable CPUs)") != NULL,
     "runnable while other work kept 1.5 CPUs busy: a wait for a CPU (%s)", w.s.scaling_why);
  done(&w);
}

/* Noise: 4 CPUs; other work measured around the runs. */
static void test_noise(void) {
  Sweep w;
  /* 2 threads with 1.5 other CPUs busy: 2 CPUs are free, nothing competes */
  sweep(&w, 2, 1.2, 1.1, 1.3);
  for (int i = 0; i < 4; i++) w.other[1][i] = 1.5;
  judge(&w);
  ok(!w.s.noisy && is(w.s.scaling, "SCALES_POORLY"),
     "2 threads on 4 CPUs with 1.5 CPUs of other work: not noisy (competing %.2f), SCALES_POORLY stands",
     w.s.noise_competing);
  done(&w);
  /* 2 threads with 2.5 other CPUs busy: 0.5 CPU competes, 25 % of the 2 the threads wanted */
  sweep(&w, 2, 1.2, 1.1, 1.3);
  for (int i = 0; i < 4; i++) w.other[1][i] = 2.5;
  judge(&w);
  ok(w.s.noisy && fabs(w.s.noise_competing - 0.25) < 1e-9 && is(w.s.scaling, "INCONCLUSIVE") &&
         is(w.s.scaling_raw, "SCALES_POORLY") && strstr(w.s.noise_why, "other work kept 2.5 of the 4 CPUs busy"),
     "2.5 CPUs of other work: competing 0.25, INCONCLUSIVE over SCALES_POORLY (%s)", w.s.noise_why);
  done(&w);
  /* the same noise does not overturn a good result */
  sweep(&w, 2, 1.9, 1.8, 2.0);
  for (int i = 0; i < 4; i++) w.other[1][i] = 2.5;
  judge(&w);
  ok(w.s.noisy && is(w.s.scaling, "SCALES"), "noise does not overturn SCALES (%s)", w.s.scaling);
  done(&w);
  /* steal: 0.3 s of 4 x 1 s per run is 7.5 % >= 5 % */
  sweep(&w, 2, 1.2, 1.1, 1.3);
  for (int i = 0; i < 4; i++) w.steal[0][i] = 0.3;
  judge(&w);
  ok(w.s.noisy && fabs(w.s.noise_steal - 0.075) < 1e-9 && strstr(w.s.noise_why, "steal"), "steal 7.5 %%: noisy (%s)",
     w.s.noise_why);
  done(&w);
  /* spread of the repeats */
  sweep(&w, 2, 1.2, 1.1, 1.3);
  w.p[1].cv = 0.3;
  judge(&w);
  ok(w.s.noisy && strstr(w.s.noise_why, "vary by 30 %"), "repeats varying by 30 %%: noisy (%s)", w.s.noise_why);
  done(&w);
  /* runnable time in a traced run with CPUs enough, while other work took 0.5 CPU (not competing: 2 free) */
  sweep(&w, 2, 1.2, 1.1, 1.3);
  w.p[1].trace = (WeftScaleTrace){.ok = 1, .capacity_ts = 2.0, .useful_ts = 1.0, .runq_ts = 0.4};
  for (int i = 0; i < 4; i++) w.other[1][i] = 0.5;
  judge(&w);
  ok(w.s.noisy && strstr(w.s.noise_why, "waited for a CPU 20 %"),
     "20 %% runnable with 4 CPUs for 2 threads, 0.5 CPU of other work: noisy (%s)", w.s.noise_why);
  done(&w);
  /* the same runnable time on an otherwise idle machine: the program's own wake-ups, not noise */
  sweep(&w, 2, 1.2, 1.1, 1.3);
  w.p[1].trace = (WeftScaleTrace){.ok = 1, .capacity_ts = 2.0, .useful_ts = 1.0, .runq_ts = 0.4};
  judge(&w);
  ok(!w.s.noisy, "20 %% runnable with no other work: not noise (the program's own wake-ups)");
  done(&w);
  /* the same with the other work during the traced run only (it came after the timing runs) */
  sweep(&w, 2, 1.2, 1.1, 1.3);
  w.p[1].trace = (WeftScaleTrace){.ok = 1, .capacity_ts = 2.0, .useful_ts = 1.0, .runq_ts = 0.4, .other_cpus = 0.6};
  judge(&w);
  ok(w.s.noisy && strstr(w.s.noise_why, "waited for a CPU 20 %") && fabs(w.s.noise_other_cpus - 0.6) < 1e-9,
     "20 %% runnable while 0.6 CPU of other work ran beside the traced run alone: noisy (%s)", w.s.noise_why);
  done(&w);
  /* an old baseline without the measurements: quiet */
  sweep(&w, 2, 1.2, 1.1, 1.3);
  w.p[0].other_s = w.p[1].other_s = w.p[0].steal_s = w.p[1].steal_s = NULL;
  judge(&w);
  ok(!w.s.noisy && !w.s.noise_why, "no noise measurements: not noisy");
  done(&w);
  (void)zeros;
}

/* The exit status of the gates (weft_scale_finish). */
static void test_exit(void) {
  Sweep w;
  sweep(&w, 4, 2.0, 1.8, 2.2); /* SCALES_POORLY */
  judge(&w);
  w.s.require_scaling = "SCALES";
  weft_scale_finish(&w.s);
  ok(w.s.exit_code == WEFT_SCALE_EXIT_SCALING && is(w.s.verdict, "NO_BASELINE"),
     "--require-scaling SCALES, SCALES_POORLY: exit 4 (%d)", w.s.exit_code);
  w.s.require_scaling = "SCALES_POORLY";
  weft_scale_finish(&w.s);
  ok(w.s.exit_code == 0, "--require-scaling SCALES_POORLY, SCALES_POORLY: exit 0 (%d)", w.s.exit_code);
  w.s.require_scaling = NULL;
  done(&w);
  sweep(&w, 2, 1.2, 1.1, 1.3);
  for (int i = 0; i < 4; i++) w.other[1][i] = 2.5;
  judge(&w);
  w.s.require_scaling = "SCALES_POORLY";
  weft_scale_finish(&w.s);
  ok(w.s.exit_code == WEFT_SCALE_EXIT_INCONCLUSIVE, "a gate the noise left open: exit 3 (%d)", w.s.exit_code);
  w.s.require_scaling = NULL;
  weft_scale_finish(&w.s);
  ok(w.s.exit_code == 0, "no gate: exit 0 however noisy (%d)", w.s.exit_code);
  done(&w);
  (void)ones;
}

int main(void) {
  test_thresholds();
  test_cause();
  test_noise();
  test_exit();
  printf("1..%d\n", ntest);
  return nfail ? 1 : 0;
}
