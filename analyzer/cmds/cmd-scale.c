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
#include <fcntl.h>
#include <getopt.h>
#include <glib.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"
#include "scale.h"
#include "weft-cli.h"
#include "weft-db.h"
#include "weft-import.h"
#include "weft-output.h"
#include "weft-trace.h"

#define STDERR_TAIL 2048

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

typedef enum { RUN_OK, RUN_EXIT, RUN_SIGNAL, RUN_TIMEOUT, RUN_EXEC } RunHow;

typedef struct {
  RunHow how;
  int    code;            /* exit status, signal, or errno of exec */
  double wall_s, user_s, sys_s;
  char  *stderr_tail;     /* the last STDERR_TAIL bytes, from a line start */
} RunResult;

/* The running program's process group, for the interrupt handler. */
static volatile sig_atomic_t current_pgrp;
/* The signal that interrupted the sweep (0 none): the sweep stops after the
 * run it killed, removes its trace directory, and weft scale then dies of
 * that signal. A second one does not wait. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig) {
  if (current_pgrp > 0) kill(-(pid_t)current_pgrp, SIGKILL);
  if (interrupted) {
    signal(sig, SIG_DFL);
    raise(sig);
  }
  interrupted = sig;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static char *read_tail(int fd) {
  off_t end = lseek(fd, 0, SEEK_END);
  if (end <= 0) return g_strdup("");
  off_t from = end > STDERR_TAIL ? end - STDERR_TAIL : 0;
  char *buf = g_malloc0((size_t)(end - from) + 1);
  ssize_t n = pread(fd, buf, (size_t)(end - from), from);
  if (n < 0) n = 0;
  buf[n] = 0;
  char *start = buf;
  if (from > 0) {
    char *nl = strchr(buf, '\n');
    if (nl) start = nl + 1;
  }
  char *tail = g_strdup(start);
  g_free(buf);
  return tail;
}

/* Run argv with envp to completion (or --timeout): stdin and stdout
 * /dev/null, stderr kept in a memfd for its tail. Its own process group.
 * Returns 0, or -1 if weft could not start it (errno). */
static int run_once(char **argv, char **envp, double timeout_s, RunResult *r) {
  memset(r, 0, sizeof *r);
  int errfd = memfd_create("weft-scale-stderr", MFD_CLOEXEC);
  int errpipe[2];
  if (errfd < 0 || pipe2(errpipe, O_CLOEXEC) != 0) {
    int e = errno;
    if (errfd >= 0) close(errfd);
    errno = e;
    return -1;
  }
  fflush(NULL);
  double t0 = now_s();
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    close(errpipe[0]);
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
      dup2(nul, 0);
      dup2(nul, 1);
    }
    dup2(errfd, 2);
    execvpe(argv[0], argv, envp);
    int e = errno;
    ssize_t w = write(errpipe[1], &e, sizeof e);
    (void)w;
    _exit(127);
  }
  if (pid < 0) {
    int e = errno;
    close(errfd);
    close(errpipe[0]);
    close(errpipe[1]);
    errno = e;
    return -1;
  }
  setpgid(pid, pid); /* also here: whichever runs first */
  current_pgrp = pid;
  close(errpipe[1]);

  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  int timed_out = 0;
  if (timeout_s > 0) {
    double deadline = t0 + timeout_s;
    for (;;) {
      double left = deadline - now_s();
      if (left <= 0) {
        timed_out = 1;
        break;
      }
      if (pidfd >= 0) {
        struct pollfd pf = {pidfd, POLLIN, 0};
        int rc = poll(&pf, 1, (int)ceil(left * 1000));
        if (rc > 0) break;
        if (rc < 0 && errno != EINTR) break;
      } else {
        /* no pidfd (kernel < 5.3): poll the child every millisecond */
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid) break;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
      }
    }
    if (timed_out) kill(-pid, SIGKILL);
  }
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {}
  r->wall_s = now_s() - t0;
  current_pgrp = 0;
  if (pidfd >= 0) close(pidfd);
  /* children left behind in the group would skew the next run */
  kill(-pid, SIGKILL);

  int exec_errno = 0;
  ssize_t n;
  while ((n = read(errpipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {}
  close(errpipe[0]);
  r->user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
  r->sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
  r->stderr_tail = read_tail(errfd);
  close(errfd);
  if (n == (ssize_t)sizeof exec_errno && exec_errno) {
    r->how = RUN_EXEC;
    r->code = exec_errno;
  } else if (timed_out) {
    r->how = RUN_TIMEOUT;
  } else if (WIFSIGNALED(status)) {
    r->how = RUN_SIGNAL;
    r->code = WTERMSIG(status);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    r->how = RUN_EXIT;
    r->code = WEXITSTATUS(status);
  } else {
    r->how = RUN_OK;
  }
  return 0;
}

static char *describe_failure(const RunResult *r, double timeout_s) {
  switch (r->how) {
  case RUN_EXIT: return g_strdup_printf("exited with status %d", r->code);
  case RUN_SIGNAL: {
    const char *ab = sigabbrev_np(r->code);
    return g_strdup_printf("was killed by SIG%s (%s)", ab ? ab : "?", strsignal(r->code));
  }
  case RUN_TIMEOUT: return g_strdup_printf("timed out after %g s (--timeout) and was killed", timeout_s);
  case RUN_EXEC:
    return r->code == ENOENT ? g_strdup("could not be started: command not found")
                             : g_strdup_printf("could not be started: %s", strerror(r->code));
  default: return g_strdup("succeeded");
  }
}

/* ------------------------------------------------------------ the sweep */

typedef struct {
  WeftScale *s;
  const char *agent;       /* absolute path, or NULL without --explain */
  const char *keep_dir;    /* --keep-traces */
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

static void record_failure(WeftScale *s, const char *phase, int threads, int run, const RunResult *r) {
  s->failed = 1;
  s->fail_phase = phase;
  s->fail_threads = threads;
  s->fail_run = run;
  s->fail_what = describe_failure(r, s->timeout_s);
  s->fail_stderr = g_strdup(r->stderr_tail ? r->stderr_tail : "");
}

/* One timing run of point idx. Returns 0, -1 on a program failure (recorded
 * in s), -2 if weft could not run it (message printed). */
static int timing_run(Sweep *w, size_t idx, const char *phase, int run) {
  WeftScale *s = w->s;
  WeftScalePoint *p = &s->points[idx];
  char **argv = argv_for(s, p->threads);
  set_thread_env(p->threads);
  extern char **environ;
  RunResult r;
  int rc = run_once(argv, environ, s->timeout_s, &r);
  g_strfreev(argv);
  progress(w, phase, p->threads);
  if (rc != 0) {
    fprintf(stderr, "weft scale: cannot run %s: %s\n", s->argv[0], strerror(errno));
    return -2;
  }
  if (r.how != RUN_OK) {
    record_failure(s, phase, p->threads, run, &r);
    g_free(r.stderr_tail);
    return -1;
  }
  g_free(r.stderr_tail);
  if (!strcmp(phase, "timing")) {
    p->samples_s = g_renew(double, p->samples_s, p->nsamples + 1);
    p->user_s = g_renew(double, p->user_s, p->nsamples + 1);
    p->sys_s = g_renew(double, p->sys_s, p->nsamples + 1);
    p->samples_s[p->nsamples] = r.wall_s;
    p->user_s[p->nsamples] = r.user_s;
    p->sys_s[p->nsamples] = r.sys_s;
    p->nsamples++;
    s->order = g_renew(int, s->order, s->norder + 1);
    s->order[s->norder++] = p->threads;
  }
  return 0;
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
  double      share;     /* of the thread's wall-time lock waits spent neither runnable nor on a CPU */
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
                                                  ws[WEFT_ST_SPIN_WAIT] + ws[WEFT_ST_SEM_WAIT]) / (double)wall
                                       : 0};
    weft_db_thread_lock_waits(db, th->utid, m->range_start_ns, m->range_end_ns, add_team_wait, &tw); /* none if unread */
  }
  int64_t usum = 0, lockw = 0, otherw = 0, runq = 0;
  for (size_t k = 0; k < team; k++) {
    const WeftThreadMetrics *th = &m->threads[order[k]];
    /* the four-way split of metrics.h: waits count only while neither
     * runnable nor on a CPU, so a wait's runnable tail is not counted twice */
    const int64_t *w = th->time.waiting_state_ns;
    useful[k] = th->useful_ns;
    usum += th->useful_ns;
    runq += th->time.runnable_ns;
    lockw += w[WEFT_ST_LOCK_WAIT] + w[WEFT_ST_RWLOCK_WAIT] + w[WEFT_ST_SPIN_WAIT] + w[WEFT_ST_SEM_WAIT];
    otherw += w[WEFT_ST_COND_WAIT] + w[WEFT_ST_BARRIER_WAIT] + w[WEFT_ST_IO_WAIT] + w[WEFT_ST_SLEEP] + w[WEFT_ST_GIL_WAIT];
  }
  g_free(order);
  t->useful_ts = (double)usum * 1e-9;
  t->lock_wait_ts = (double)lockw * 1e-9;
  t->other_wait_ts = (double)otherw * 1e-9;
  t->runq_ts = (double)runq * 1e-9;
  t->idle_ts = t->capacity_ts - t->useful_ts - t->lock_wait_ts - t->other_wait_ts - t->runq_ts;
  if (t->idle_ts < 0) t->idle_ts = 0; /* rounding */
  WeftPop pop;
  weft_pop(useful, team, m->summary.span_ns, &pop);
  g_free(useful);
  t->lb = pop.lb;
  t->sync_e = pop.synce;
  t->pe = pop.pe;
  for (size_t i = 0; i < m->nobjects; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    const double *w = g_hash_table_lookup(team_wait, &o->object_id);
    if (!lock_kind(o->kind) || !w || *w <= 0) continue;
    /* the label without the " in pid N" that tells processes apart in a
     * report: pids differ from run to run, and the same lock of several
     * workers is one lock for the sweep (their waits add up) */
    char *label = o->named && o->site ? g_strdup_printf("%s (%s)", o->name, o->site) : g_strdup(o->name);
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
  g_hash_table_destroy(team_wait);
}

/* The traced run of point idx. Returns 0, -1 on a program failure, -2 if
 * weft failed (message printed). A trace that cannot be imported or read
 * leaves the point unexplained, with a note. */
static int traced_run(Sweep *w, size_t idx) {
  WeftScale *s = w->s;
  WeftScalePoint *p = &s->points[idx];
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = "/tmp";
  char dir[PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s/weft-scale-XXXXXX", tmp) >= (int)sizeof dir || !mkdtemp(dir)) {
    fprintf(stderr, "weft scale: cannot make a trace directory in %s: %s\n", tmp, strerror(errno));
    return -2;
  }
  if (dir[0] != '/') {
    char abs[PATH_MAX];
    if (realpath(dir, abs)) snprintf(dir, sizeof dir, "%s", abs);
  }
  set_thread_env(p->threads);
  size_t nours = 0;
  char **env = _weft_child_env(w->agent, dir, "contended", 0, 1, _weft_new_session(), &nours);
  char **argv = argv_for(s, p->threads);
  RunResult r;
  int rc = env ? run_once(argv, env, s->timeout_s, &r) : -1;
  _weft_free_env(env, nours);
  g_strfreev(argv);
  progress(w, "traced", p->threads);
  if (interrupted) {
    if (rc == 0) g_free(r.stderr_tail);
    _weft_remove_trace_dir(dir);
    return -3;
  }
  if (rc != 0) {
    fprintf(stderr, "weft scale: cannot run %s: %s\n", s->argv[0], strerror(errno));
    _weft_remove_trace_dir(dir);
    return -2;
  }
  if (r.how != RUN_OK) {
    record_failure(s, "traced", p->threads, 0, &r);
    g_free(r.stderr_tail);
    _weft_remove_trace_dir(dir);
    return -1;
  }
  g_free(r.stderr_tail);
  if (_weft_count_traces(dir) <= 0) {
    weft_scale_note(s, "threads=%d: the traced run wrote no trace (a static or setuid program?); no explanation",
                    p->threads);
    _weft_remove_trace_dir(dir);
    return 0;
  }
  char *db = w->keep_dir ? g_strdup_printf("%s/threads-%d.db", w->keep_dir, p->threads)
                         : g_strdup_printf("%s.db", dir);
  WeftImportOptions opt = {.force = 1, .progress = 0, .no_symbols = 0};
  WeftImportStats st;
  memset(&st, 0, sizeof st);
  char err[1024] = "";
  if (weft_import(dir, db, &opt, &st, NULL, err, sizeof err) != 0) {
    weft_scale_note(s, "threads=%d: the trace could not be imported (%s); no explanation", p->threads, err);
  } else {
    sqlite3 *h = weft_db_open(db, 0, err, sizeof err);
    WeftMetricsQuery q;
    weft_metrics_query_init(&q);
    q.what = WEFT_METRICS_OBJECTS;
    q.jobs = 1;
    WeftMetrics *m = h ? weft_metrics_compute(h, &q, err, sizeof err) : NULL;
    if (m) {
      explain_point(p, h, m, r.wall_s);
      if (m->lost_events > 0)
        weft_scale_note(s, "threads=%d: the traced run lost %" PRId64 " events; its explanation is incomplete",
                        p->threads, m->lost_events);
      weft_metrics_free(m);
    } else {
      weft_scale_note(s, "threads=%d: the trace could not be read (%s); no explanation", p->threads, err);
    }
    if (h) sqlite3_close(h);
    if (!w->keep_dir) unlink(db);
  }
  g_free(db);
  _weft_remove_trace_dir(dir);
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
    for (size_t i = 0; i < np && !rc && !interrupted; i++)
      rc = timing_run(w, (size_t)perm[i], warm ? "warmup" : "timing", warm ? round + 1 : round - s->warmup + 1);
    if (interrupted) rc = -3;
  }
  if (!rc && w->agent) {
    for (size_t i = 0; i < np; i++) perm[i] = (int)i;
    weft_rng_shuffle(&rng, perm, np);
    for (size_t i = 0; i < np && !rc && !interrupted; i++) rc = traced_run(w, (size_t)perm[i]);
  }
  g_free(perm);
  if (w->tty && !w->quiet && w->done != w->total) fprintf(stderr, "\n");
  return rc == -2 ? -1 : 0;
}

/* ------------------------------------------------------------ options */

static void usage(FILE *f) {
  fprintf(f,
          "usage: weft scale [--threads LIST] [--repeat N] [--warmup N] [--seed S] [--timeout T]\n"
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
          "      --json FILE         the full report (docs/scale-json.md); - for stdout\n"
          "      --markdown FILE     a summary for $GITHUB_STEP_SUMMARY or a PR comment\n"
          "      --junit FILE        JUnit XML, one test case per thread count and gate\n"
          "      --svg FILE          speedup and efficiency plot\n"
          "  -q, --quiet             no progress and no summary on stdout\n"
          "\n"
          "Exit status: 0 no regression, 1 regression, 2 usage error or bad baseline,\n"
          "5 the program failed, 6 weft failed.\n");
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
int weft_cmd_scale(int argc, char **argv) {
  enum {
    OPT_SEED = 256, OPT_TIMEOUT, OPT_NOEXPLAIN, OPT_KEEP, OPT_BASE, OPT_BASEOPT, OPT_SAVE, OPT_MINEFF, OPT_ALPHA,
    OPT_EFFDROP, OPT_JSON, OPT_MD, OPT_JUNIT, OPT_SVG
  };
  static const struct option longopts[] = {
    {"threads", required_argument, NULL, 't'}, {"repeat", required_argument, NULL, 'r'},
    {"warmup", required_argument, NULL, 'w'}, {"seed", required_argument, NULL, OPT_SEED},
    {"timeout", required_argument, NULL, OPT_TIMEOUT}, {"no-explain", no_argument, NULL, OPT_NOEXPLAIN},
    {"keep-traces", required_argument, NULL, OPT_KEEP}, {"baseline", required_argument, NULL, OPT_BASE},
    {"baseline-optional", no_argument, NULL, OPT_BASEOPT}, {"save-baseline", required_argument, NULL, OPT_SAVE},
    {"min-effect", required_argument, NULL, OPT_MINEFF}, {"alpha", required_argument, NULL, OPT_ALPHA},
    {"efficiency-drop", required_argument, NULL, OPT_EFFDROP}, {"json", required_argument, NULL, OPT_JSON},
    {"markdown", required_argument, NULL, OPT_MD}, {"junit", required_argument, NULL, OPT_JUNIT},
    {"svg", required_argument, NULL, OPT_SVG}, {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  WeftScale *s = g_new0(WeftScale, 1);
  s->repeat = 10;
  s->warmup = 1;
  s->seed = 1;
  s->explain = 1;
  s->alpha = 0.01;
  s->min_effect = 0.05;
  s->efficiency_drop = 0.05;
  s->bootstrap = 2000;
  const char *baseline = NULL, *save = NULL, *json = NULL, *md = NULL, *junit = NULL, *svg = NULL, *keep = NULL;
  int baseline_optional = 0, quiet = 0, c, rc = WEFT_SCALE_EXIT_USAGE;
  WeftScale *base = NULL;
  enum { O_JSON, O_MD, O_JUNIT, O_SVG, O_SAVE, NOUT };
  Output outs[NOUT] = {{.opt = "--json", .fn = weft_scale_write_json}, {.opt = "--markdown", .fn = write_md},
                       {.opt = "--junit", .fn = weft_scale_write_junit}, {.opt = "--svg", .fn = weft_scale_write_svg},
                       {.opt = "--save-baseline", .fn = weft_scale_write_json}};
  optind = 1;
  while ((c = getopt_long(argc, argv, "+t:r:w:qh", longopts, NULL)) != -1) {
    switch (c) {
    case 't':
      g_free(s->threads);
      s->threads = NULL;
      if (parse_threads(optarg, &s->threads, &s->nthreads) != 0) {
        fprintf(stderr, "weft scale: --threads %s: expected thread counts from 1 to 4096 separated by commas\n",
                optarg);
        goto out;
      }
      break;
    case 'r':
      if (parse_count("--repeat", optarg, 1, 100000, &s->repeat)) goto out;
      break;
    case 'w':
      if (parse_count("--warmup", optarg, 0, 100000, &s->warmup)) goto out;
      break;
    case OPT_SEED: {
      char *end;
      errno = 0;
      unsigned long long v = strtoull(optarg, &end, 10);
      if (!*optarg || *end || errno || optarg[0] == '-') {
        fprintf(stderr, "weft scale: --seed %s: expected a non-negative whole number\n", optarg);
        goto out;
      }
      s->seed = v;
      break;
    }
    case OPT_TIMEOUT: {
      /* a plain number is seconds; else a duration with its unit */
      char *end;
      errno = 0;
      double v = strtod(optarg, &end);
      int64_t ns = 0;
      if (*optarg && !*end && !errno && v > 0 && v < 1e9)
        s->timeout_s = v;
      else if (weft_parse_time(optarg, &ns) == 0 && ns > 0)
        s->timeout_s = (double)ns * 1e-9;
      else {
        fprintf(stderr, "weft scale: --timeout %s: expected a duration such as 30, 30s or 500ms\n", optarg);
        goto out;
      }
      break;
    }
    case OPT_NOEXPLAIN: s->explain = 0; break;
    case OPT_KEEP: keep = optarg; break;
    case OPT_BASE: baseline = optarg; break;
    case OPT_BASEOPT: baseline_optional = 1; break;
    case OPT_SAVE: save = optarg; break;
    case OPT_MINEFF:
      if (parse_double("--min-effect", optarg, 0, 1000, 1, &s->min_effect)) goto out;
      break;
    case OPT_ALPHA:
      if (parse_double("--alpha", optarg, 1e-9, 0.5, 0, &s->alpha)) goto out;
      break;
    case OPT_EFFDROP:
      if (parse_double("--efficiency-drop", optarg, 0, 1, 0, &s->efficiency_drop)) goto out;
      break;
    case OPT_JSON: json = optarg; break;
    case OPT_MD: md = optarg; break;
    case OPT_JUNIT: junit = optarg; break;
    case OPT_SVG: svg = optarg; break;
    case 'q': quiet = 1; break;
    case 'h':
      usage(stdout);
      rc = 0;
      goto out;
    default: usage(stderr); goto out;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "weft scale: no program to run\n");
    usage(stderr);
    goto out;
  }
  s->argv = argv + optind;
  s->argc = argc - optind;

  /* 1. The baseline first: a bad one stops everything before any run. */
  if (baseline) {
    char err[1024];
    struct stat st;
    if (baseline_optional && stat(baseline, &st) != 0 && errno == ENOENT) {
      weft_scale_note(s, "no baseline yet (%s does not exist): nothing compared", baseline);
      s->baseline_path = g_strdup(baseline);
    } else if (!(base = weft_scale_load(baseline, err, sizeof err))) {
      fprintf(stderr, "weft scale: %s\n", err);
      goto out;
    }
  }
  if (keep) {
    struct stat st;
    if (mkdir(keep, 0755) != 0 && errno != EEXIST) {
      fprintf(stderr, "weft scale: --keep-traces %s: %s\n", keep, strerror(errno));
      goto out;
    }
    if (stat(keep, &st) != 0 || !S_ISDIR(st.st_mode) || access(keep, W_OK | X_OK) != 0) {
      fprintf(stderr, "weft scale: --keep-traces %s: %s\n", keep,
              stat(keep, &st) == 0 && !S_ISDIR(st.st_mode) ? "not a directory" : "cannot write there");
      goto out;
    }
  }
  outs[O_JSON].path = json;
  outs[O_MD].path = md;
  outs[O_JUNIT].path = junit;
  outs[O_SVG].path = svg;
  outs[O_SAVE].path = save;
  if (open_outputs(outs, NOUT) != 0) goto out;
  Sweep w = {.s = s, .quiet = quiet, .tty = isatty(2), .keep_dir = keep};
  char agent_abs[PATH_MAX];
  if (s->explain) {
    const char *agent = weft_agent_path();
    if (!agent || !realpath(agent, agent_abs)) {
      fprintf(stderr, "weft scale: cannot find libweft-agent.so next to the weft binary; set WEFT_AGENT to its "
                      "path, or use --no-explain\n");
      goto out;
    }
    if (strpbrk(agent_abs, " :")) {
      fprintf(stderr, "weft scale: agent %s: LD_PRELOAD cannot carry a path with a space or a colon\n", agent_abs);
      goto out;
    }
    w.agent = agent_abs;
  }
  fingerprint(&s->machine);
  if (!s->threads) { /* powers of two below the usable CPUs, and that count */
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

  /* 2, 3. Measure. An interrupt kills the running program's group too. */
  struct sigaction sa, old_int, old_term, old_hup;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_interrupt;
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  sigaction(SIGHUP, &sa, &old_hup);
  char *old_wt = g_strdup(getenv("WEFT_THREADS")), *old_omp = g_strdup(getenv("OMP_NUM_THREADS"));
  int swept = sweep(&w);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  sigaction(SIGHUP, &old_hup, NULL);
  if (interrupted) { /* its traces are removed: die of the signal, as the shell expects */
    fprintf(stderr, "weft scale: interrupted (%s); nothing written\n", strsignal(interrupted));
    signal(interrupted, SIG_DFL);
    raise(interrupted);
  }
  if (old_wt) setenv("WEFT_THREADS", old_wt, 1); else unsetenv("WEFT_THREADS");
  if (old_omp) setenv("OMP_NUM_THREADS", old_omp, 1); else unsetenv("OMP_NUM_THREADS");
  g_free(old_wt);
  g_free(old_omp);
  if (swept != 0) {
    rc = WEFT_SCALE_EXIT_INTERNAL;
    goto out;
  }

  /* 4. Analyse, compare, write. */
  weft_scale_analyze(s);
  if (base) s->baseline_path = g_strdup(baseline);
  if (base && !s->failed) {
    weft_scale_analyze(base);
    weft_scale_compare(s, base);
  } else {
    weft_scale_finish(s);
  }
  rc = s->exit_code;
  for (int i = O_JSON; i <= O_SVG; i++)
    if (outs[i].open && write_output(&outs[i], s)) rc = WEFT_SCALE_EXIT_INTERNAL;
  if (outs[O_SAVE].open) {
    if (s->failed)
      fprintf(stderr, "weft scale: not saving the baseline %s: the program failed\n", save);
    else if (write_output(&outs[O_SAVE], s))
      rc = WEFT_SCALE_EXIT_INTERNAL;
  }
  int to_stdout = (json && !strcmp(json, "-")) || (md && !strcmp(md, "-")) || (junit && !strcmp(junit, "-")) ||
                  (svg && !strcmp(svg, "-"));
  if (!quiet && !to_stdout) weft_scale_write_text(stdout, s); /* not mixed into a report on stdout */
  else if (s->failed)
    fprintf(stderr, "weft scale: %s %s at %d threads (%s run %d)\n", s->argv[0], s->fail_what, s->fail_threads,
            s->fail_phase, s->fail_run);
out:
  for (int i = 0; i < NOUT; i++)
    if (outs[i].open) weft_output_abort(&outs[i].o); /* not written: the old file stays */
  if (base) weft_scale_free(base);
  s->argv = NULL; /* argv's, not ours */
  weft_scale_free(s);
  return rc;
}
