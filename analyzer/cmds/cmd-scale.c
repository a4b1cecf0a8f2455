/* cmd-scale.c - weft scale: run a program at several thread counts, measure,
 * explain, compare with a baseline, exit with a status CI can act on.
 * SPDX-License-Identifier: MIT
 *
 *   weft scale [--threads 1,2,4] [--repeat N] [--warmup N] [--seed S]
 *              [--timeout T] [--no-explain] [--baseline F [--baseline-optional]]
 *              [--save-baseline F] [--json F] [--markdown F] [--junit F]
 *              [--svg F] [--keep-traces DIR] [--] PROG ARGS...
 *
 * The steps, each of which can stop the command before the next:
 *   1. parse the options; read the baseline (a bad one stops here, before
 *      anything runs); fingerprint the machine and choose the sweep;
 *   2. the timing runs, without the agent: the warm-up rounds, then the
 *      measured rounds; each round runs every thread count once in an order
 *      drawn from the seeded PRNG, so drift spreads over all points;
 *   3. one traced run per point (the agent preloaded, the trace imported into
 *      a temporary database and read with metrics.h), in a shuffled order;
 *   4. the analysis, the comparison, the outputs, the exit status.
 * A run that fails (non-zero exit, signal, timeout) stops the sweep: it is
 * reported with its point, run and stderr tail, and the exit status is 5.
 *
 * Every run is its own process group, so --timeout and an interrupt of weft
 * scale kill the program and its children. The thread count reaches the
 * program through {threads} in its arguments and WEFT_THREADS and
 * OMP_NUM_THREADS in its environment.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "python.h"
#include "scale.h"
#include "weft-cli.h"
#include "weft-db.h"
#include "weft-import.h"
#include "weft-output.h"
#include "weft-run.h"
#include "weft-trace.h"

/* ------------------------------------------------------------ the machine */

static char *read_line_file(const char *path) {
  char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL)) return NULL;
  g_strstrip(text);
  return text;
}

/* The cgroup v2 CPU quota of this process as a CPU count (rounded up), or 0
 * when there is none: cpu.max of our cgroup and of its ancestors. */
static int cgroup_cpus(void) {
  char *cg = NULL;
  int best = 0;
  if (!g_file_get_contents("/proc/self/cgroup", &cg, NULL, NULL)) return 0;
  char *path = NULL;
  for (char *l = strtok(cg, "\n"); l; l = strtok(NULL, "\n"))
    if (!strncmp(l, "0::", 3)) path = g_strdup(l + 3);
  g_free(cg);
  if (!path) path = g_strdup("/");
  for (;;) {
    char *f = g_strdup_printf("/sys/fs/cgroup%s%scpu.max", path, g_str_has_suffix(path, "/") ? "" : "/");
    char *v = read_line_file(f);
    g_free(f);
    long long quota, period;
    if (v && sscanf(v, "%lld %lld", &quota, &period) == 2 && quota > 0 && period > 0) {
      int n = (int)((quota + period - 1) / period);
      if (!best || n < best) best = n;
    }
    g_free(v);
    char *sl = strrchr(path, '/');
    if (!sl || sl == path) {
      if (strcmp(path, "/")) {
        path[1] = 0;
        continue;
      }
      break;
    }
    *sl = 0;
  }
  g_free(path);
  return best;
}

/* Fill m: CPU model, online CPUs, physical cores, SMT, usable CPUs (the
 * affinity mask and the cgroup quota), kernel release. */
static void fingerprint(WeftScaleMachine *m) {
  char *info = NULL;
  m->cpu_model = NULL;
  if (g_file_get_contents("/proc/cpuinfo", &info, NULL, NULL)) {
    for (char *l = strtok(info, "\n"); l && !m->cpu_model; l = strtok(NULL, "\n"))
      if (!strncmp(l, "model name", 10) || !strncmp(l, "Model", 5) || !strncmp(l, "cpu model", 9)) {
        char *c = strchr(l, ':');
        if (c) m->cpu_model = g_strstrip(g_strdup(c + 1));
      }
    g_free(info);
  }
  if (!m->cpu_model) m->cpu_model = g_strdup("unknown");
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  m->logical_cpus = online > 0 ? (int)online : 1;

  /* physical cores: distinct (package, core) pairs of the online CPUs */
  GHashTable *cores = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (int cpu = 0; cpu < 4096; cpu++) {
    char p1[96], p2[96];
    snprintf(p1, sizeof p1, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
    snprintf(p2, sizeof p2, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
    char *pk = read_line_file(p1), *co = read_line_file(p2);
    int found = pk != NULL;
    if (pk && co) g_hash_table_add(cores, g_strdup_printf("%s/%s", pk, co));
    g_free(pk);
    g_free(co);
    if (!found && cpu > m->logical_cpus * 4 + 64) break; /* past the last CPU, allowing for gaps */
  }
  m->physical_cores = g_hash_table_size(cores) ? (int)g_hash_table_size(cores) : m->logical_cpus;
  g_hash_table_destroy(cores);
  char *smt = read_line_file("/sys/devices/system/cpu/smt/active");
  m->smt = smt ? !strcmp(smt, "1") : m->logical_cpus > m->physical_cores;
  g_free(smt);

  m->usable_cpus = m->logical_cpus;
  m->usable_source = g_strdup("online");
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0 && CPU_COUNT(&set) < m->usable_cpus) {
    m->usable_cpus = CPU_COUNT(&set);
    g_free(m->usable_source);
    m->usable_source = g_strdup("affinity");
  }
  int q = cgroup_cpus();
  if (q > 0 && q < m->usable_cpus) {
    m->usable_cpus = q;
    g_free(m->usable_source);
    m->usable_source = g_strdup("cgroup cpu.max");
  }
  struct utsname u;
  m->kernel = g_strdup(uname(&u) == 0 ? u.release : "unknown");
}

/* ------------------------------------------------------------ running */

/* What went wrong with a run, or NULL if it succeeded. */
static char *run_failure(const WeftRunResult *r, double timeout_s) {
  if (r->exec_errno)
    return r->exec_errno == ENOENT ? g_strdup("could not be started: command not found")
                                   : g_strdup_printf("could not be started: %s", strerror(r->exec_errno));
  if (r->timed_out) return g_strdup_printf("timed out after %g s (--timeout) and was killed", timeout_s);
  if (WIFSIGNALED(r->wstatus)) {
    const char *ab = sigabbrev_np(WTERMSIG(r->wstatus));
    return g_strdup_printf("was killed by SIG%s (%s)", ab ? ab : "?", strsignal(WTERMSIG(r->wstatus)));
  }
  if (WIFEXITED(r->wstatus) && WEXITSTATUS(r->wstatus) != 0)
    return g_strdup_printf("exited with status %d", WEXITSTATUS(r->wstatus));
  return NULL;
}

/* ------------------------------------------------------------ the sweep */

typedef struct {
  WeftScale *s;
  const WeftRunSignals *sig;
  const char *agent;    /* absolute path, or NULL without --explain */
  const char *keep_dir; /* --keep-traces */
  int quiet;
  int tty;
  size_t done, total;
} Sweep;

/* argv for n threads: {threads} replaced in every argument. */
static char **argv_for(const WeftScale *s, int n) {
  char **v = g_new0(char *, (size_t)s->argc + 1);
  char num[16];
  snprintf(num, sizeof num, "%d", n);
  for (int i = 0; i < s->argc; i++) {
    GString *g = g_string_new(s->argv[i]);
    g_string_replace(g, "{threads}", num, 0);
    v[i] = g_string_free(g, FALSE);
  }
  return v;
}

static void set_thread_env(int n) {
  char num[16];
  snprintf(num, sizeof num, "%d", n);
  setenv("WEFT_THREADS", num, 1);
  setenv("OMP_NUM_THREADS", num, 1);
}

static void progress(Sweep *w, const char *what, int n) {
  w->done++;
  if (w->quiet || !w->tty) return;
  fprintf(stderr, "\rweft scale: %zu/%zu runs (%s, %d threads)   ", w->done, w->total, what, n);
  if (w->done == w->total) fprintf(stderr, "\r%*s\r", 60, "");
  fflush(stderr);
}

/* Run argv (for n threads) with envp: stdin and stdout /dev/null, stderr
 * kept for its tail, its own process group, --timeout. Returns 0 if it ran
 * (*failure: what went wrong, or NULL), or -1 if weft could not run it
 * (errno; envp NULL: ENOMEM); the progress is counted either way. */
static int run_point(Sweep *w, char **argv, char **envp, const char *phase, int n, WeftRunResult *r, char **failure) {
  WeftRunSpec spec = {.argv = argv, .envp = envp, .own_group = 1, .capture = 1, .timeout_s = w->s->timeout_s};
  memset(r, 0, sizeof *r);
  int rc = envp ? weft_run(&spec, w->sig, r) : -1;
  int e = envp ? errno : ENOMEM;
  progress(w, phase, n);
  errno = e;
  *failure = rc == 0 ? run_failure(r, w->s->timeout_s) : NULL;
  return rc == 0 ? 0 : -1;
}

static void record_failure(WeftScale *s, const char *phase, int threads, int run, char *what, const WeftRunResult *r) {
  s->failed = 1;
  s->fail_phase = phase;
  s->fail_threads = threads;
  s->fail_run = run;
  s->fail_what = what;
  s->fail_stderr = g_strdup(r->stderr_tail ? r->stderr_tail : "");
}

/* One timing run of point idx. Returns 0, -1 on a program failure (recorded
 * in s), -2 if weft could not run it (message printed). */
static int timing_run(Sweep *w, size_t idx, const char *phase, int run) {
  WeftScale *s = w->s;
  WeftScalePoint *p = &s->points[idx];
  char **argv = argv_for(s, p->threads), *failure;
  set_thread_env(p->threads);
  extern char **environ;
  WeftRunResult r;
  WeftMachineCpu m0 = {0}, m1 = {0}; /* the machine's CPU time around the run: the others' load */
  int have_m = weft_run_machine_cpu(&m0) == 0;
  int rc = run_point(w, argv, environ, phase, p->threads, &r, &failure);
  have_m = have_m && weft_run_machine_cpu(&m1) == 0 && m1.busy_ns >= m0.busy_ns;
  g_strfreev(argv);
  if (rc != 0) {
    fprintf(stderr, "weft scale: cannot run %s: %s\n", s->argv[0], strerror(errno));
    return -2;
  }
  if (failure) record_failure(s, phase, p->threads, run, failure, &r);
  g_free(r.stderr_tail);
  if (failure) return -1;
  if (!strcmp(phase, "timing")) {
    p->samples_s = g_renew(double, p->samples_s, p->nsamples + 1);
    p->user_s = g_renew(double, p->user_s, p->nsamples + 1);
    p->sys_s = g_renew(double, p->sys_s, p->nsamples + 1);
    p->other_s = g_renew(double, p->other_s, p->nsamples + 1);
    p->steal_s = g_renew(double, p->steal_s, p->nsamples + 1);
    p->samples_s[p->nsamples] = r.wall_s;
    p->user_s[p->nsamples] = r.user_s;
    p->sys_s[p->nsamples] = r.sys_s;
    /* /proc/stat counts in ticks (10 ms): summed over a point's runs */
    double other = have_m ? (double)(m1.busy_ns - m0.busy_ns) * 1e-9 - r.user_s - r.sys_s : 0;
    p->other_s[p->nsamples] = other > 0 ? other : 0;
    p->steal_s[p->nsamples] = have_m ? (double)(m1.steal_ns - m0.steal_ns) * 1e-9 : 0;
    p->nsamples++;
    s->order = g_renew(int, s->order, s->norder + 1);
    s->order[s->norder++] = p->threads;
  }
  return 0;
}

/* A lock's label without the " in pid N" that tells processes apart in a
 * report: pids differ from run to run, and the same lock of several
 * workers is one lock for the sweep (their waits add up). */
static char *scale_lock_label(const WeftObjectMetrics *o) {
  return o->named && o->site ? g_strdup_printf("%s (%s)", o->name, o->site) : g_strdup(o->name);
}

static int lock_kind(int kind) {
  return kind == WEFT_KIND_MUTEX || kind == WEFT_KIND_RWLOCK || kind == WEFT_KIND_SPIN || kind == WEFT_KIND_SEM;
}

/* Fill p->trace from the metrics of its traced run (comp_s, extra work and
 * overhead are set by the analysis, which knows every point). */
static int cmp_lock_wait(const void *x, const void *y) {
  const WeftScaleLock *a = x, *b = y;
  return (a->wait_ts < b->wait_ts) - (a->wait_ts > b->wait_ts);
}

/* Each lock's waits by the team: object_id -> thread-ns (a double). */
typedef struct {
  GHashTable *by_object;
  double share; /* of the thread's wall-time lock waits spent neither runnable nor on a CPU */
} TeamWait;

static void add_team_wait(int64_t object_id, int64_t wait_ns, void *arg) {
  TeamWait *tw = arg;
  double *w = g_hash_table_lookup(tw->by_object, &object_id);
  if (!w) {
    int64_t *key = g_new(int64_t, 1);
    *key = object_id;
    w = g_new0(double, 1);
    g_hash_table_insert(tw->by_object, key, w);
  }
  *w += (double)wait_ns * tw->share;
}

static void explain_point(WeftScalePoint *p, sqlite3 *db, const WeftMetrics *m, double wall_s) {
  WeftScaleTrace *t = &p->trace;
  double span = (double)m->summary.span_ns * 1e-9;
  t->ok = 1;
  t->wall_s = wall_s;
  t->other_cpus = m->other_cpu_ns > 0 && span > 0 ? (double)m->other_cpu_ns * 1e-9 / span : 0;
  t->capacity_ts = p->threads * span;
  /* The team the thread count asks for: the N busiest threads (a program
   * may have more, e.g. a reader and a writer besides N workers). The budget
   * is theirs: N x span = useful (on a CPU) + lock waits + other waits +
   * runnable + idle, where idle is the rest (not alive, off a CPU outside
   * waits, join waits, serial parts). */
  size_t *order = g_new(size_t, m->nthreads ? m->nthreads : 1);
  for (size_t i = 0; i < m->nthreads; i++) order[i] = i;
  for (size_t i = 1; i < m->nthreads; i++) /* by useful time, descending (insertion: few threads) */
    for (size_t j = i; j > 0 && m->threads[order[j]].useful_ns > m->threads[order[j - 1]].useful_ns; j--) {
      size_t x = order[j];
      order[j] = order[j - 1];
      order[j - 1] = x;
    }
  size_t team = m->nthreads < (size_t)p->threads ? m->nthreads : (size_t)p->threads;
  int64_t *useful = g_new(int64_t, team ? team : 1);
  /* each lock's waits by the team (as the budget's lock waits), not by every
   * thread: a pool's parent waiting for results is not in the team */
  GHashTable *team_wait = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
  for (size_t k = 0; k < team; k++) {
    /* a lock wait counts while the thread is neither runnable nor on a CPU
     * (as in the budget below): each wall-time wait scaled by the thread's share */
    const WeftThreadMetrics *th = &m->threads[order[k]];
    const int64_t *ws = th->time.waiting_state_ns, *st = th->state_ns;
    int64_t wall = st[WEFT_ST_LOCK_WAIT] + st[WEFT_ST_RWLOCK_WAIT] + st[WEFT_ST_SPIN_WAIT] + st[WEFT_ST_SEM_WAIT];
    TeamWait tw = {team_wait, wall > 0 ? (double)(ws[WEFT_ST_LOCK_WAIT] + ws[WEFT_ST_RWLOCK_WAIT] +
                                                  ws[WEFT_ST_SPIN_WAIT] + ws[WEFT_ST_SEM_WAIT]) /
                                             (double)wall
                                       : 0};
    weft_db_thread_lock_waits(db, th->utid, m->range_start_ns, m->range_end_ns, add_team_wait,
                              &tw); /* none if unread */
  }
  int64_t usum = 0, lockw = 0, otherw = 0, gilw = 0, runq = 0;
  for (size_t k = 0; k < team; k++) {
    const WeftThreadMetrics *th = &m->threads[order[k]];
    /* the four-way split of metrics.h: waits count only while neither
     * runnable nor on a CPU, so a wait's runnable tail is not counted twice */
    const int64_t *w = th->time.waiting_state_ns;
    useful[k] = th->useful_ns;
    usum += th->useful_ns;
    runq += th->time.runnable_ns;
    lockw += w[WEFT_ST_LOCK_WAIT] + w[WEFT_ST_RWLOCK_WAIT] + w[WEFT_ST_SPIN_WAIT] + w[WEFT_ST_SEM_WAIT];
    otherw += w[WEFT_ST_COND_WAIT] + w[WEFT_ST_BARRIER_WAIT] + w[WEFT_ST_IO_WAIT] + w[WEFT_ST_SLEEP] +
              w[WEFT_ST_GIL_WAIT] + w[WEFT_ST_FUTEX_WAIT]; /* (a futex: a barrier's, a latch's as often as a lock's) */
    gilw += w[WEFT_ST_GIL_WAIT];
  }
  g_free(order);
  t->useful_ts = (double)usum * 1e-9;
  t->lock_wait_ts = (double)lockw * 1e-9;
  t->other_wait_ts = (double)otherw * 1e-9;
  t->gil_wait_ts = (double)gilw * 1e-9;
  t->runq_ts = (double)runq * 1e-9;
  t->idle_ts = t->capacity_ts - t->useful_ts - t->lock_wait_ts - t->other_wait_ts - t->runq_ts;
  if (t->idle_ts < 0) t->idle_ts = 0; /* rounding */
  WeftPop pop;
  weft_pop(useful, team, m->summary.span_ns, &pop);
  g_free(useful);
  t->lb = pop.lb;
  t->sync_e = pop.synce;
  t->pe = pop.pe;
  const WeftObjectMetrics *held = NULL;
  for (size_t i = 0; i < m->nobjects; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    if (lock_kind(o->kind) && o->hold_est_ns > 0 && (!held || o->hold_est_ns > held->hold_est_ns)) held = o;
    const double *w = g_hash_table_lookup(team_wait, &o->object_id);
    if (!lock_kind(o->kind) || !w || *w <= 0) continue;
    char *label = scale_lock_label(o);
    WeftScaleLock *l = NULL;
    for (size_t k = 0; k < t->nlocks && !l; k++)
      if (!strcmp(t->locks[k].label, label)) l = &t->locks[k];
    if (l) {
      g_free(label);
    } else {
      t->locks = g_renew(WeftScaleLock, t->locks, t->nlocks + 1);
      l = &t->locks[t->nlocks++];
      *l = (WeftScaleLock){.label = label, .kind = g_strdup(o->kind_name ? o->kind_name : "lock")};
    }
    l->wait_ts += *w * 1e-9;
  }
  if (t->nlocks > 1) qsort(t->locks, t->nlocks, sizeof *t->locks, cmp_lock_wait);
  if (held && m->summary.span_ns > 0 && (double)held->hold_est_ns >= 0.5 * (double)m->summary.span_ns) {
    t->held_lock = scale_lock_label(held);
    t->held_share = (double)held->hold_est_ns / (double)m->summary.span_ns;
  }
  g_hash_table_destroy(team_wait);
  for (size_t k = 0; m->python && k < m->python->npools; k++) { /* as the report's ipc and startup findings */
    const WeftPyPool *pl = &m->python->pools[k];
    t->ipc_ts += (double)(pl->ipc_helper_ns + pl->ipc_lock_ns) * 1e-9;
    t->ipc_lock_ts += (double)pl->ipc_lock_ns * 1e-9;
    t->ipc_bytes += (double)pl->ipc_bytes;
    t->startup_ts += (double)pl->startup_run_ns * 1e-9;
  }
}

/* Run point p under the agent into a new trace directory dir. Returns 0
 * when it succeeded (its wall time in *wall_s), else the directory is gone
 * and: -1 a program failure (recorded in s), -2 weft failed (message
 * printed), -3 interrupted. */
static int traced_program(Sweep *w, WeftScalePoint *p, char *dir, size_t len, double *wall_s) {
  WeftScale *s = w->s;
  const char *tmp;
  if (weft_run_trace_dir("weft-scale", dir, len, &tmp) != 0) {
    fprintf(stderr, "weft scale: cannot make a trace directory in %s: %s\n", tmp, strerror(errno));
    return -2;
  }
  set_thread_env(p->threads);
  size_t nours = 0;
  char **env =
      weft_run_env(w->agent, dir, "contended", weft_run_is_python(s->argv[0]), 1, weft_run_new_session(), &nours);
  char **argv = argv_for(s, p->threads), *failure;
  WeftRunResult r;
  int rc = run_point(w, argv, env, "traced", p->threads, &r, &failure), e = errno;
  weft_run_free_env(env, nours);
  g_strfreev(argv);
  if (weft_run_interrupted()) {
    rc = -3;
  } else if (rc != 0) {
    fprintf(stderr, "weft scale: cannot run %s: %s\n", s->argv[0], strerror(e));
    rc = -2;
  } else if (failure) {
    record_failure(s, "traced", p->threads, 0, failure, &r);
    failure = NULL;
    rc = -1;
  }
  g_free(failure);
  g_free(r.stderr_tail);
  *wall_s = r.wall_s;
  if (rc != 0) weft_run_remove_trace_dir(dir);
  return rc;
}

/* Import the trace in dir and explain point p from it; a trace that cannot
 * be imported or read leaves the point unexplained, with a note. */
static void explain_trace(Sweep *w, WeftScalePoint *p, const char *dir, double wall_s) {
  WeftScale *s = w->s;
  char *db = w->keep_dir ? g_strdup_printf("%s/threads-%d.db", w->keep_dir, p->threads) : g_strdup_printf("%s.db", dir);
  WeftImportOptions opt = {.force = 1, .progress = 0, .no_symbols = 0};
  WeftImportStats st;
  memset(&st, 0, sizeof st);
  char err[1024] = "";
  if (weft_import(dir, db, &opt, &st, NULL, err, sizeof err) != 0) {
    weft_scale_note(s, "threads=%d: the trace could not be imported (%s); no explanation", p->threads, err);
    g_free(db);
    return;
  }
  sqlite3 *h = weft_db_open(db, 0, err, sizeof err);
  WeftMetricsQuery q;
  weft_metrics_query_init(&q);
  q.what = WEFT_METRICS_OBJECTS;
  /* a Python program: the report's Python analysis too, for its pools' start-up and data moved */
  if (weft_run_is_python(s->argv[0])) q.what |= WEFT_METRICS_FINDINGS;
  q.jobs = 1;
  WeftMetrics *m = h ? weft_metrics_compute(h, &q, err, sizeof err) : NULL;
  if (m) {
    explain_point(p, h, m, wall_s);
    if (m->lost_events > 0)
      weft_scale_note(s, "threads=%d: the traced run lost %" PRId64 " events; its explanation is incomplete",
                      p->threads, m->lost_events);
    weft_metrics_free(m);
  } else {
    weft_scale_note(s, "threads=%d: the trace could not be read (%s); no explanation", p->threads, err);
  }
  if (h) sqlite3_close(h);
  if (!w->keep_dir) unlink(db);
  g_free(db);
}

/* The traced run of point idx. Returns 0, -1 on a program failure, -2 if
 * weft failed (message printed), -3 if interrupted. */
static int traced_run(Sweep *w, size_t idx) {
  WeftScalePoint *p = &w->s->points[idx];
  char dir[PATH_MAX];
  double wall_s;
  int rc = traced_program(w, p, dir, sizeof dir, &wall_s);
  if (rc != 0) return rc;
  if (weft_run_count_traces(dir) <= 0)
    weft_scale_note(w->s, "threads=%d: the traced run wrote no trace (a static or setuid program?); no explanation",
                    p->threads);
  else
    explain_trace(w, p, dir, wall_s);
  weft_run_remove_trace_dir(dir);
  return 0;
}

/* Steps 2 and 3. Returns 0 (also after a program failure, recorded in s)
 * or -1 if weft itself failed. */
static int sweep(Sweep *w) {
  WeftScale *s = w->s;
  WeftRng rng;
  weft_rng_seed(&rng, s->seed);
  size_t np = s->npoints;
  int *perm = g_new(int, np);
  w->total = np * (size_t)(s->warmup + s->repeat + (w->agent ? 1 : 0));
  int rc = 0;
  for (int round = 0; round < s->warmup + s->repeat && !rc; round++) {
    for (size_t i = 0; i < np; i++) perm[i] = (int)i;
    weft_rng_shuffle(&rng, perm, np);
    int warm = round < s->warmup;
    for (size_t i = 0; i < np && !rc && !weft_run_interrupted(); i++)
      rc = timing_run(w, (size_t)perm[i], warm ? "warmup" : "timing", warm ? round + 1 : round - s->warmup + 1);
    if (weft_run_interrupted()) rc = -3;
  }
  if (!rc && w->agent) {
    for (size_t i = 0; i < np; i++) perm[i] = (int)i;
    weft_rng_shuffle(&rng, perm, np);
    for (size_t i = 0; i < np && !rc && !weft_run_interrupted(); i++) rc = traced_run(w, (size_t)perm[i]);
  }
  g_free(perm);
  if (w->tty && !w->quiet && w->done != w->total) fprintf(stderr, "\n");
  return rc == -2 ? -1 : 0;
}

/* ------------------------------------------------------------ options */

static void usage(FILE *f) {
  fprintf(f, "usage: weft scale [--threads LIST] [--repeat N] [--warmup N] [--seed S] [--timeout T]\n"
             "                  [--no-explain] [--keep-traces DIR] [--baseline FILE] [--baseline-optional]\n"
             "                  [--save-baseline FILE] [--min-effect PCT] [--alpha A] [--efficiency-drop D]\n"
             "                  [--json FILE] [--markdown FILE] [--junit FILE] [--svg FILE] [--quiet]\n"
             "                  [--] PROG [ARGS...]\n"
             "\n"
             "Run PROG at several thread counts ({threads} in ARGS, WEFT_THREADS and OMP_NUM_THREADS in\n"
             "its environment), measure speedup and efficiency with confidence intervals, fit Amdahl and\n"
             "USL models, explain the losses from one traced run per point, and compare with a baseline.\n"
             "\n"
             "  -t, --threads LIST      thread counts, e.g. 1,2,4,8 (default: powers of two up to the\n"
             "                          usable CPUs, and that count)\n"
             "  -r, --repeat N          timing runs per thread count (default 10)\n"
             "  -w, --warmup N          discarded runs per thread count first (default 1)\n"
             "      --seed S            seed of the run order and the bootstrap (default 1)\n"
             "      --timeout T         kill a run after T (e.g. 30s, 500ms); it counts as a failure\n"
             "      --no-explain        no traced runs (timing only)\n"
             "      --keep-traces DIR   keep the traced runs' databases as DIR/threads-N.db\n"
             "      --baseline FILE     compare with a JSON report of an earlier run\n"
             "      --baseline-optional a missing baseline file is not an error (first run)\n"
             "      --save-baseline F   write this run's JSON report to F (not after a program failure)\n"
             "      --min-effect PCT    smallest slowdown that is a regression (default 5%%)\n"
             "      --alpha A           significance level after Holm's correction (default 0.01)\n"
             "      --efficiency-drop D smallest drop of efficiency at the largest N that is a\n"
             "                          regression (default 0.05)\n"
             "      --weak              weak scaling: the work grows with the thread count\n"
             "                          (efficiency T(1)/T(N)); default: strong, the same work\n"
             "      --scales-efficiency E  efficiency at the largest N for SCALES (default 0.75)\n"
             "      --poor-efficiency E    below it, DOES_NOT_SCALE (default 0.25)\n"
             "      --require-scaling V    fail (exit 4) unless the verdict is V or better:\n"
             "                          SCALES or SCALES_POORLY\n"
             "      --history DIR       earlier JSON reports (read in file-name order): the steps\n"
             "                          of time, speedup and efficiency per thread count\n"
             "      --bmf FILE          the results in Bencher Metric Format JSON\n"
             "      --json FILE         the full report (docs/scale-json.md); - for stdout\n"
             "      --markdown FILE     a summary for $GITHUB_STEP_SUMMARY or a PR comment\n"
             "      --junit FILE        JUnit XML, one test case per thread count and gate\n"
             "      --svg FILE          speedup and efficiency plot\n"
             "  -q, --quiet             no progress and no summary on stdout\n"
             "\n"
             "Exit status: 0 no regression, 1 regression, 2 usage error or bad baseline,\n"
             "3 inconclusive (a gate the machine's noise left open: retry), 4 scales worse than\n"
             "--require-scaling, 5 the program failed, 6 weft failed.\n");
}

static int parse_threads(const char *arg, int **out, size_t *n) {
  gchar **parts = g_strsplit(arg, ",", -1);
  GArray *a = g_array_new(FALSE, FALSE, sizeof(int));
  int bad = 0;
  for (gchar **p = parts; *p && !bad; p++) {
    char *end;
    errno = 0;
    long v = strtol(*p, &end, 10);
    if (!**p || *end || errno || v < 1 || v > 4096) {
      bad = 1;
      break;
    }
    int iv = (int)v, dup = 0;
    for (guint i = 0; i < a->len; i++) dup |= g_array_index(a, int, i) == iv;
    if (!dup) g_array_append_val(a, iv);
  }
  g_strfreev(parts);
  if (bad || !a->len) {
    g_array_free(a, TRUE);
    return -1;
  }
  for (guint i = 1; i < a->len; i++) /* sort ascending */
    for (guint j = i; j > 0 && g_array_index(a, int, j) < g_array_index(a, int, j - 1); j--) {
      int t = g_array_index(a, int, j);
      g_array_index(a, int, j) = g_array_index(a, int, j - 1);
      g_array_index(a, int, j - 1) = t;
    }
  *n = a->len;
  *out = (int *)(void *)g_array_free(a, FALSE);
  return 0;
}

static int parse_count(const char *opt, const char *arg, int min, int max, int *out) {
  char *end;
  errno = 0;
  long v = strtol(arg, &end, 10);
  if (!*arg || *end || errno || v < min || v > max) {
    fprintf(stderr, "weft scale: %s %s: expected a whole number from %d to %d\n", opt, arg, min, max);
    return -1;
  }
  *out = (int)v;
  return 0;
}

/* "5", "5%", "0.05"? No: a percentage is always PCT (5 means 5 %). */
static int parse_double(const char *opt, const char *arg, double min, double max, int pct, double *out) {
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  if (pct && *end == '%') end++;
  if (!*arg || *end || errno || !(v >= min && v <= max)) {
    fprintf(stderr, "weft scale: %s %s: expected a number from %g to %g%s\n", opt, arg, min, max, pct ? " (%)" : "");
    return -1;
  }
  *out = pct ? v / 100.0 : v;
  return 0;
}

/* The outputs, opened before the sweep (weft-output.h: a FIFO or device as
 * a stream, a file replaced only once complete), so that a place that
 * cannot be written stops weft scale before the first run; written and
 * committed at the end. */
typedef struct {
  const char *opt, *path;
  int (*fn)(FILE *, const WeftScale *);
  WeftOutput o;
  int open;
} Output;

static int write_md(FILE *f, const WeftScale *s) { return weft_scale_write_markdown(f, s, 1000000); }

static int open_outputs(Output *outs, size_t n) {
  char err[1024];
  for (size_t i = 0; i < n; i++) {
    if (!outs[i].path) continue;
    if (weft_output_open(&outs[i].o, outs[i].path, NULL, err, sizeof err) != 0) {
      fprintf(stderr, "weft scale: %s %s\n", outs[i].opt, err);
      return -1;
    }
    outs[i].open = 1;
  }
  return 0;
}

static int write_output(Output *out, const WeftScale *s) {
  char err[1024];
  out->open = 0;
  out->fn(out->o.f, s); /* its write errors are the output's, told by the commit */
  if (weft_output_commit(&out->o, err, sizeof err) != 0) {
    fprintf(stderr, "weft scale: %s\n", err);
    return -1;
  }
  return 0;
}
enum { O_JSON, O_MD, O_JUNIT, O_SVG, O_BMF, O_SAVE, NOUT };

/* The command line. */
typedef struct {
  WeftScale *s;
  const char *baseline, *keep, *history;
  int baseline_optional, quiet;
  Output outs[NOUT]; /* their paths are the options' */
} Scale;

/* A duration: a plain number is seconds; else one with its unit. */
static int parse_timeout(const char *arg, double *out) {
  char *end;
  errno = 0;
  double v = strtod(arg, &end);
  int64_t ns = 0;
  if (*arg && !*end && !errno && v > 0 && v < 1e9)
    *out = v;
  else if (weft_parse_time(arg, &ns) == 0 && ns > 0)
    *out = (double)ns * 1e-9;
  else {
    fprintf(stderr, "weft scale: --timeout %s: expected a duration such as 30, 30s or 500ms\n", arg);
    return -1;
  }
  return 0;
}

enum {
  OPT_SEED = 256,
  OPT_TIMEOUT,
  OPT_NOEXPLAIN,
  OPT_KEEP,
  OPT_BASE,
  OPT_BASEOPT,
  OPT_SAVE,
  OPT_MINEFF,
  OPT_ALPHA,
  OPT_EFFDROP,
  OPT_JSON,
  OPT_MD,
  OPT_JUNIT,
  OPT_SVG,
  OPT_WEAK,
  OPT_SCALESEFF,
  OPT_POOREFF,
  OPT_REQUIRE,
  OPT_HISTORY,
  OPT_BMF
};

/* One option (getopt_long's opt and optarg) into c. Returns -1 to go on,
 * or the exit status. */
static int parse_option(Scale *c, int opt, const char *arg) {
  WeftScale *s = c->s;
  int bad = 0;
  switch (opt) {
    case 't':
      g_free(s->threads);
      s->threads = NULL;
      if (parse_threads(arg, &s->threads, &s->nthreads) != 0) {
        fprintf(stderr, "weft scale: --threads %s: expected thread counts from 1 to 4096 separated by commas\n", arg);
        bad = 1;
      }
      break;
    case 'r': bad = parse_count("--repeat", arg, 1, 100000, &s->repeat); break;
    case 'w': bad = parse_count("--warmup", arg, 0, 100000, &s->warmup); break;
    case OPT_SEED: {
      char *end;
      errno = 0;
      unsigned long long v = strtoull(arg, &end, 10);
      if (!*arg || *end || errno || arg[0] == '-') {
        fprintf(stderr, "weft scale: --seed %s: expected a non-negative whole number\n", arg);
        bad = 1;
      } else {
        s->seed = v;
      }
      break;
    }
    case OPT_TIMEOUT: bad = parse_timeout(arg, &s->timeout_s); break;
    case OPT_NOEXPLAIN: s->explain = 0; break;
    case OPT_KEEP: c->keep = arg; break;
    case OPT_BASE: c->baseline = arg; break;
    case OPT_BASEOPT: c->baseline_optional = 1; break;
    case OPT_SAVE: c->outs[O_SAVE].path = arg; break;
    case OPT_MINEFF: bad = parse_double("--min-effect", arg, 0, 1000, 1, &s->min_effect); break;
    case OPT_ALPHA: bad = parse_double("--alpha", arg, 1e-9, 0.5, 0, &s->alpha); break;
    case OPT_EFFDROP: bad = parse_double("--efficiency-drop", arg, 0, 1, 0, &s->efficiency_drop); break;
    case OPT_JSON: c->outs[O_JSON].path = arg; break;
    case OPT_MD: c->outs[O_MD].path = arg; break;
    case OPT_JUNIT: c->outs[O_JUNIT].path = arg; break;
    case OPT_SVG: c->outs[O_SVG].path = arg; break;
    case OPT_WEAK: s->weak = 1; break;
    case OPT_HISTORY: c->history = arg; break;
    case OPT_BMF: c->outs[O_BMF].path = arg; break;
    case OPT_SCALESEFF: bad = parse_double("--scales-efficiency", arg, 0.01, 1, 0, &s->scales_eff); break;
    case OPT_POOREFF: bad = parse_double("--poor-efficiency", arg, 0.01, 1, 0, &s->poor_eff); break;
    case OPT_REQUIRE:
      s->require_scaling = !strcmp(arg, "SCALES") ? "SCALES" : !strcmp(arg, "SCALES_POORLY") ? "SCALES_POORLY" : NULL;
      if (!s->require_scaling) {
        fprintf(stderr, "weft scale: --require-scaling %s: expected SCALES or SCALES_POORLY\n", arg);
        bad = 1;
      }
      break;
    case 'q': c->quiet = 1; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return WEFT_SCALE_EXIT_USAGE;
  }
  return bad ? WEFT_SCALE_EXIT_USAGE : -1;
}

/* The options into c. Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, Scale *c) {
  static const struct option longopts[] = {{"threads", required_argument, NULL, 't'},
                                           {"repeat", required_argument, NULL, 'r'},
                                           {"warmup", required_argument, NULL, 'w'},
                                           {"seed", required_argument, NULL, OPT_SEED},
                                           {"timeout", required_argument, NULL, OPT_TIMEOUT},
                                           {"no-explain", no_argument, NULL, OPT_NOEXPLAIN},
                                           {"keep-traces", required_argument, NULL, OPT_KEEP},
                                           {"baseline", required_argument, NULL, OPT_BASE},
                                           {"baseline-optional", no_argument, NULL, OPT_BASEOPT},
                                           {"save-baseline", required_argument, NULL, OPT_SAVE},
                                           {"min-effect", required_argument, NULL, OPT_MINEFF},
                                           {"alpha", required_argument, NULL, OPT_ALPHA},
                                           {"efficiency-drop", required_argument, NULL, OPT_EFFDROP},
                                           {"json", required_argument, NULL, OPT_JSON},
                                           {"markdown", required_argument, NULL, OPT_MD},
                                           {"junit", required_argument, NULL, OPT_JUNIT},
                                           {"svg", required_argument, NULL, OPT_SVG},
                                           {"weak", no_argument, NULL, OPT_WEAK},
                                           {"history", required_argument, NULL, OPT_HISTORY},
                                           {"bmf", required_argument, NULL, OPT_BMF},
                                           {"scales-efficiency", required_argument, NULL, OPT_SCALESEFF},
                                           {"poor-efficiency", required_argument, NULL, OPT_POOREFF},
                                           {"require-scaling", required_argument, NULL, OPT_REQUIRE},
                                           {"quiet", no_argument, NULL, 'q'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  int opt, rc;
  optind = 1;
  while ((opt = getopt_long(argc, argv, "+t:r:w:qh", longopts, NULL)) != -1)
    if ((rc = parse_option(c, opt, optarg)) >= 0) return rc;
  if (optind >= argc) {
    fprintf(stderr, "weft scale: no program to run\n");
    usage(stderr);
    return WEFT_SCALE_EXIT_USAGE;
  }
  c->s->argv = argv + optind;
  c->s->argc = argc - optind;
  bool placeholder = false, braces = false;
  for (int i = 0; i < c->s->argc; i++) {
    const char *a = c->s->argv[i], *o = strchr(a, '{');
    placeholder |= strstr(a, "{threads}") != NULL;
    braces |= o && strchr(o, '}');
  }
  if (braces && !placeholder) /* ({}, {n}, {thread}: a placeholder weft does not replace) */
    fprintf(stderr, "weft scale: note: no {threads} in the program's arguments (weft replaces only that): the thread "
                    "count reaches it through WEFT_THREADS and OMP_NUM_THREADS alone\n");
  if (c->s->poor_eff >= c->s->scales_eff) {
    fprintf(stderr, "weft scale: --poor-efficiency %g is not below --scales-efficiency %g\n", c->s->poor_eff,
            c->s->scales_eff);
    return WEFT_SCALE_EXIT_USAGE;
  }
  return -1;
}

/* Step 1, before anything runs: the baseline (*base, or a note that there
 * is none yet), the --keep-traces directory, the outputs and the agent
 * (agent_abs, with --explain). Returns 0, or -1 (said). */
static int prepare(Scale *c, WeftScale **base, char *agent_abs) {
  WeftScale *s = c->s;
  struct stat st;
  if (c->baseline) {
    char err[1024];
    if (c->baseline_optional && stat(c->baseline, &st) != 0 && errno == ENOENT) {
      weft_scale_note(s, "no baseline yet (%s does not exist): nothing compared", c->baseline);
      s->baseline_path = g_strdup(c->baseline);
    } else if (!(*base = weft_scale_load(c->baseline, err, sizeof err))) {
      fprintf(stderr, "weft scale: %s\n", err);
      return -1;
    }
  }
  if (c->history) {
    char err[1024];
    if (!(s->history = weft_scale_history_load(c->history, s->weak, err, sizeof err))) {
      fprintf(stderr, "weft scale: --history %s\n", err);
      return -1;
    }
  }
  if (c->keep) {
    if (mkdir(c->keep, 0755) != 0 && errno != EEXIST) {
      fprintf(stderr, "weft scale: --keep-traces %s: %s\n", c->keep, strerror(errno));
      return -1;
    }
    if (stat(c->keep, &st) != 0 || !S_ISDIR(st.st_mode) || access(c->keep, W_OK | X_OK) != 0) {
      fprintf(stderr, "weft scale: --keep-traces %s: %s\n", c->keep,
              stat(c->keep, &st) == 0 && !S_ISDIR(st.st_mode) ? "not a directory" : "cannot write there");
      return -1;
    }
  }
  if (open_outputs(c->outs, NOUT) != 0) return -1;
  if (!s->explain) return 0;
  const char *agent = weft_agent_path();
  if (!agent || !realpath(agent, agent_abs)) {
    fprintf(stderr, "weft scale: cannot find " WEFT_AGENT_NAME " next to the weft binary; set WEFT_AGENT to its "
                    "path, or use --no-explain\n");
    return -1;
  }
  if (strpbrk(agent_abs, " :")) {
    fprintf(stderr, "weft scale: agent %s: LD_PRELOAD cannot carry a path with a space or a colon\n", agent_abs);
    return -1;
  }
  return 0;
}

/* The sweep's points: --threads, or powers of two below the usable CPUs
 * and that count. */
static void choose_points(WeftScale *s) {
  fingerprint(&s->machine);
  if (!s->threads) {
    GArray *a = g_array_new(FALSE, FALSE, sizeof(int));
    for (int n = 1; n < s->machine.usable_cpus; n *= 2) g_array_append_val(a, n);
    g_array_append_val(a, s->machine.usable_cpus);
    s->nthreads = a->len;
    s->threads = (int *)(void *)g_array_free(a, FALSE);
  }
  s->npoints = s->nthreads;
  s->points = g_new0(WeftScalePoint, s->npoints);
  for (size_t i = 0; i < s->npoints; i++) {
    s->points[i].threads = s->threads[i];
    s->points[i].oversubscribed = s->threads[i] > s->machine.usable_cpus;
    s->points[i].smt = s->threads[i] > s->machine.physical_cores;
  }
}

/* Steps 2 and 3 with an interrupt killing the running program's group too,
 * and the thread-count variables put back. Returns sweep()'s result; an
 * interrupt ends weft scale here. */
static int measure(Sweep *w) {
  WeftRunSignals sig;
  weft_run_signals_interrupt(&sig);
  w->sig = &sig;
  char *old_wt = g_strdup(getenv("WEFT_THREADS")), *old_omp = g_strdup(getenv("OMP_NUM_THREADS"));
  int swept = sweep(w);
  weft_run_signals_restore(&sig);
  int sig_no = weft_run_interrupted();
  if (sig_no) { /* its traces are removed: die of the signal, as the shell expects */
    fprintf(stderr, "weft scale: interrupted (%s); nothing written\n", strsignal(sig_no));
    signal(sig_no, SIG_DFL);
    raise(sig_no);
  }
  if (old_wt)
    setenv("WEFT_THREADS", old_wt, 1);
  else
    unsetenv("WEFT_THREADS");
  if (old_omp)
    setenv("OMP_NUM_THREADS", old_omp, 1);
  else
    unsetenv("OMP_NUM_THREADS");
  g_free(old_wt);
  g_free(old_omp);
  return swept;
}

/* Step 4 after the analysis: the outputs, the summary. Returns the exit
 * status. */
static int write_outputs(Scale *c) {
  WeftScale *s = c->s;
  int rc = s->exit_code, to_stdout = 0;
  for (int i = O_JSON; i <= O_BMF; i++)
    if (c->outs[i].open && write_output(&c->outs[i], s)) rc = WEFT_SCALE_EXIT_INTERNAL;
  if (c->outs[O_SAVE].open) {
    if (s->failed)
      fprintf(stderr, "weft scale: not saving the baseline %s: the program failed\n", c->outs[O_SAVE].path);
    else if (write_output(&c->outs[O_SAVE], s))
      rc = WEFT_SCALE_EXIT_INTERNAL;
  }
  for (int i = O_JSON; i <= O_BMF; i++) to_stdout |= c->outs[i].path && !strcmp(c->outs[i].path, "-");
  if (!c->quiet && !to_stdout)
    weft_scale_write_text(stdout, s); /* not mixed into a report on stdout */
  else if (s->failed)
    fprintf(stderr, "weft scale: %s %s at %d threads (%s run %d)\n", s->argv[0], s->fail_what, s->fail_threads,
            s->fail_phase, s->fail_run);
  return rc;
}

int weft_cmd_scale(int argc, char **argv) {
  WeftScale *s = g_new0(WeftScale, 1);
  s->repeat = 10;
  s->warmup = 1;
  s->seed = 1;
  s->explain = 1;
  s->alpha = 0.01;
  s->min_effect = 0.05;
  s->efficiency_drop = 0.05;
  s->scales_eff = 0.75;
  s->poor_eff = 0.25;
  s->bootstrap = 2000;
  Scale c = {.s = s,
             .outs = {{.opt = "--json", .fn = weft_scale_write_json},
                      {.opt = "--markdown", .fn = write_md},
                      {.opt = "--junit", .fn = weft_scale_write_junit},
                      {.opt = "--svg", .fn = weft_scale_write_svg},
                      {.opt = "--bmf", .fn = weft_scale_write_bmf},
                      {.opt = "--save-baseline", .fn = weft_scale_write_json}}};
  WeftScale *base = NULL;
  char agent_abs[PATH_MAX];
  int rc = parse_options(argc, argv, &c);
  if (rc < 0) rc = prepare(&c, &base, agent_abs) == 0 ? -1 : WEFT_SCALE_EXIT_USAGE;
  if (rc < 0) {
    Sweep w = {.s = s, .quiet = c.quiet, .tty = isatty(2), .keep_dir = c.keep, .agent = s->explain ? agent_abs : NULL};
    choose_points(s);
    /* 2, 3. Measure. 4. Analyse, compare, write. */
    if (measure(&w) != 0) {
      rc = WEFT_SCALE_EXIT_INTERNAL;
    } else {
      weft_scale_analyze(s);
      if (base) s->baseline_path = g_strdup(c.baseline);
      if (s->history && !s->failed) weft_scale_history_series(s->history, s);
      if (base && !s->failed) {
        base->weak = s->weak; /* the baseline's numbers read the way this run's are */
        base->scales_eff = s->scales_eff;
        base->poor_eff = s->poor_eff;
        weft_scale_analyze(base);
        weft_scale_compare(s, base);
      } else {
        weft_scale_finish(s);
      }
      rc = write_outputs(&c);
    }
  }
  for (int i = 0; i < NOUT; i++)
    if (c.outs[i].open) weft_output_abort(&c.outs[i].o); /* not written: the old file stays */
  if (base) weft_scale_free(base);
  s->argv = NULL; /* argv's, not ours */
  weft_scale_free(s);
  return rc;
}
