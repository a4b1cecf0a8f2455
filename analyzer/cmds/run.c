/* run.c - running a program under the agent (weft-run.h), for weft record
 * and weft scale: where the agent is, the trace directory, the program's
 * environment, the machine's load around the run, and one fork, exec and
 * wait with weft's signals handled as each command needs.
 * SPDX-License-Identifier: MIT
 *
 * Not thread-safe (environ, signal dispositions, one program at a time).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft-run.h"

#define STDERR_TAIL 2048

/* ------------------------------------------------------------ the agent */

/* The Debian/Ubuntu multiarch directory of this architecture, for the
 * installed layout BIN/../lib/<triplet>/. */
#if defined(__x86_64__) && defined(__ILP32__)
#define MULTIARCH "x86_64-linux-gnux32"
#elif defined(__x86_64__)
#define MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#elif defined(__i386__)
#define MULTIARCH "i386-linux-gnu"
#elif defined(__arm__)
#define MULTIARCH "arm-linux-gnueabihf"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define MULTIARCH "powerpc64le-linux-gnu"
#elif defined(__riscv) && __riscv_xlen == 64
#define MULTIARCH "riscv64-linux-gnu"
#elif defined(__s390x__)
#define MULTIARCH "s390x-linux-gnu"
#else
#define MULTIARCH NULL
#endif

int weft_run_readable_file(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, R_OK) == 0;
}

/* Where libweft-agent.so is. WEFT_AGENT wins (returned as set, even if it
 * names nothing: the caller reports it). Otherwise, relative to the running
 * weft binary (/proc/self/exe) in BIN: the build tree (BIN/../agent/), the
 * meson libdir (WEFT_LIBDIR, when config.h defines it), BIN/../lib/<multiarch>/,
 * BIN/../lib64/, BIN/../lib/. Returns a static buffer (overwritten by the next
 * call; not thread-safe) holding a canonical path, or NULL if none exists. */
const char *weft_agent_path(void) {
  static char found[PATH_MAX];
  const char *env = getenv("WEFT_AGENT");
  if (env && *env) return env;

  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return NULL;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (!slash) return NULL;
  *slash = 0; /* exe is now BIN */

  const char *rel[] = {
      "../agent",
#ifdef WEFT_LIBDIR
      WEFT_LIBDIR,
#endif
      MULTIARCH ? "../lib/" MULTIARCH : NULL,
      "../lib64",
      "../lib",
  };
  for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
    if (!rel[i]) continue;
    char cand[PATH_MAX + 64];
    if (rel[i][0] == '/') /* an absolute libdir */
      snprintf(cand, sizeof cand, "%s/" WEFT_AGENT_NAME, rel[i]);
    else if (!strncmp(rel[i], "..", 2))
      snprintf(cand, sizeof cand, "%s/%s/" WEFT_AGENT_NAME, exe, rel[i]);
    else /* a libdir relative to the prefix, BIN/.. */
      snprintf(cand, sizeof cand, "%s/../%s/" WEFT_AGENT_NAME, exe, rel[i]);
    if (weft_run_readable_file(cand) && realpath(cand, found)) return found;
  }
  return NULL;
}

/* The agent as an absolute path LD_PRELOAD can carry, in abs; what is wrong
 * said on stderr after "CMD: ". Returns 0, or the exit status (1). */
int weft_run_find_agent(const char *cmd, char *abs) {
  const char *agent = weft_agent_path();
  if (!agent) {
    fprintf(stderr, "%s: cannot find " WEFT_AGENT_NAME " next to the weft binary; set WEFT_AGENT to its path\n", cmd);
    return 1;
  }
  errno = 0;
  if (!weft_run_readable_file(agent)) {
    fprintf(stderr, "%s: agent %s (WEFT_AGENT): %s\n", cmd, agent, errno ? strerror(errno) : "not a file");
    return 1;
  }
  if (!realpath(agent, abs)) {
    fprintf(stderr, "%s: agent %s: %s\n", cmd, agent, strerror(errno));
    return 1;
  }
  if (strpbrk(abs, " :")) {
    fprintf(stderr,
            "%s: agent %s: LD_PRELOAD cannot carry a path with a space or a colon; "
            "set WEFT_AGENT to another path (a symbolic link will do)\n",
            cmd, abs);
    return 1;
  }
  return 0;
}

/* ------------------------------------------------------------ traces */

int weft_run_trace_dir(const char *name, char *dir, size_t len, const char **tmp) {
  *tmp = getenv("TMPDIR");
  if (!*tmp || !**tmp) *tmp = "/tmp";
  if (snprintf(dir, len, "%s/%s-XXXXXX", *tmp, name) >= (int)len) {
    errno = ENAMETOOLONG;
    return -1;
  }
  if (!mkdtemp(dir)) return -1;
  if (dir[0] != '/') { /* a relative TMPDIR: the program may chdir */
    char abs[PATH_MAX];
    if (realpath(dir, abs)) snprintf(dir, len, "%s", abs);
  }
  return 0;
}

/* The number of PID.N.wtrace files in dir, or -1 if it cannot be read. */
long weft_run_count_traces(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  long n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l > 7 && !strcmp(e->d_name + l - 7, ".wtrace")) n++;
  }
  closedir(d);
  return n;
}

/* Remove the private trace directory: its files (the agent writes only
 * regular files into it), then the directory. Returns 0 or -1 (errno). */
int weft_run_remove_trace_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int dfd = dirfd(d), rc = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (unlinkat(dfd, e->d_name, 0) != 0) rc = -1;
  }
  closedir(d);
  if (rmdir(dir) != 0) rc = -1;
  return rc;
}

/* ------------------------------------------------------------ environment */

/* Free an environment made by weft_run_env(): the array and its own strings,
 * env[nours] up to the NULL (those before are environ's). */
void weft_run_free_env(char **env, size_t nours) {
  if (!env) return;
  for (size_t i = nours; env[i]; i++) free(env[i]);
  free(env);
}

/* The directory of the Python hook next to the agent (AGENT_DIR/weft-python,
 * holding sitecustomize.py) in buf, or NULL if there is none. */
static const char *python_hook(const char *agent, char *buf, size_t len) {
  const char *sl = strrchr(agent, '/');
  if (!sl || snprintf(buf, len, "%.*s/weft-python/sitecustomize.py", (int)(sl - agent), agent) >= (int)len ||
      access(buf, R_OK) != 0)
    return NULL;
  buf[strlen(buf) - strlen("/sitecustomize.py")] = '\0';
  return strpbrk(buf, ":") ? NULL : buf;
}

/* An executable regular file (a directory is searchable, not a program). */
static int is_program(const char *file) {
  struct stat st;
  return access(file, X_OK) == 0 && stat(file, &st) == 0 && S_ISREG(st.st_mode);
}

/* The file prog names, as execvpe finds it (on PATH without a '/'), into
 * path; NULL if there is no executable such file. */
static const char *find_program(const char *prog, char *path, size_t len) {
  if (strchr(prog, '/')) return is_program(prog) ? prog : NULL;
  const char *env = getenv("PATH");
  char *dirs = strdup(env && *env ? env : "/usr/local/bin:/usr/bin:/bin"), *save = NULL;
  const char *file = NULL;
  for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d && !file; d = strtok_r(NULL, ":", &save)) {
    snprintf(path, len, "%s/%s", *d ? d : ".", prog);
    if (is_program(path)) file = path;
  }
  free(dirs);
  return file;
}

/* Is PROG a Python interpreter (weft-run.h) ("python3", "/usr/bin/python3.11") or a
 * script whose "#!" line names one ("#!/usr/bin/env python3")? Python
 * workers and pool threads idle in pipe reads and sleeps, so for Python
 * the I/O waits are recorded by default. */
int weft_run_is_python(const char *prog) {
  const char *b = strrchr(prog, '/');
  b = b ? b + 1 : prog;
  if (!strncmp(b, "python", 6)) return 1;
  char path[PATH_MAX];
  const char *file = find_program(prog, path, sizeof path);
  FILE *f = file ? fopen(file, "re") : NULL;
  if (!f) return 0;
  char line[256] = "";
  int py = fgets(line, sizeof line, f) && !strncmp(line, "#!", 2) && strstr(line, "python");
  fclose(f);
  return py;
}

/* Launchers that run a program given among their arguments: 2 one that
 * starts MPI ranks (whose library's progress threads wait in polls), 1 any
 * other, 0 none. */
static int named(const char *b, const char *const *names) {
  for (; *names; names++) {
    size_t n = strlen(*names);
    if (!strncmp(b, *names, n) && (!b[n] || b[n] == '.')) return 1; /* mpiexec.hydra, mpirun.openmpi */
  }
  return 0;
}

static int is_launcher(const char *prog) {
  static const char *const mpi[] = {"mpirun", "mpiexec", "orterun", "prterun", "srun", NULL};
  static const char *const other[] = {"env", "taskset", "nice", "numactl", "chrt", "stdbuf", "timeout", "time", NULL};
  const char *b = strrchr(prog, '/');
  b = b ? b + 1 : prog;
  return named(b, mpi) ? 2 : named(b, other) ? 1 : 0;
}

int weft_run_io_default(char *const *argv) {
  if (!argv[0]) return 0;
  if (weft_run_is_python(argv[0])) return 1;
  int l = is_launcher(argv[0]);
  if (l == 2) return 1;
  if (!l) return 0;
  char path[PATH_MAX];
  for (size_t i = 1; argv[i]; i++) { /* the launcher's program: its first argument that is one */
    if (argv[i][0] == '-' || strchr(argv[i], '=')) continue; /* an option, a variable (env) */
    if (!strncmp(argv[i], "python", 6) || find_program(argv[i], path, sizeof path)) {
      if ((l = is_launcher(argv[i])) == 2) return 1;
      if (!l) return weft_run_is_python(argv[i]); /* (env X=1 taskset -c 0 python3 ...) */
    }
  }
  return 0;
}

/* A new environment: environ with WEFT_OUTPUT, WEFT_STACKS, WEFT_IO and
 * WEFT_SESSION replaced, WEFT_FILE dropped, the agent put first in LD_PRELOAD and, with pyhook,
 * the Python hook first in PYTHONPATH. The strings of environ are shared; the
 * new ones, from *nours on, are malloc'd: free with weft_run_free_env(). Returns
 * NULL (errno ENOMEM) if out of memory. */
char **weft_run_env(const char *agent, const char *dir, const char *stacks, int io, int pyhook, uint64_t session,
                    size_t *nours) {
  extern char **environ;
  static const char *const ours[] = {
      "WEFT_OUTPUT=", "WEFT_STACKS=", "WEFT_IO=", "WEFT_SESSION=", "LD_PRELOAD=", "PYTHONPATH=",
      "WEFT_FILE=" /* a traced shell's: our program's first process makes a file of its own */};
  char hookbuf[4096];
  const char *hook = pyhook ? python_hook(agent, hookbuf, sizeof hookbuf) : NULL;
  size_t n = 0;
  while (environ[n]) n++;
  char **env = calloc(n + 7, sizeof *env);
  if (!env) return NULL;
  const char *old_preload = NULL, *old_pypath = NULL;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    int skip = 0;
    for (size_t k = 0; k < sizeof ours / sizeof ours[0]; k++)
      if (!strncmp(environ[i], ours[k], strlen(ours[k]))) {
        if (k == 5 && !hook) continue; /* PYTHONPATH stays as it is */
        /* (k == 6: dropped, not replaced) */
        skip = 1;
        if (k == 4) old_preload = environ[i] + strlen(ours[k]);
        if (k == 5) old_pypath = environ[i] + strlen(ours[k]);
      }
    if (!skip) env[m++] = environ[i];
  }
  *nours = m;
  /* LD_PRELOAD is a list separated by colons or spaces: the agent goes first
   * so its wrappers are the ones other preloaded libraries call into. */
  if (asprintf(&env[m++], "WEFT_OUTPUT=%s", dir) < 0 || asprintf(&env[m++], "WEFT_STACKS=%s", stacks) < 0 ||
      asprintf(&env[m++], "WEFT_IO=%d", io) < 0 || asprintf(&env[m++], "WEFT_SESSION=%016" PRIx64, session) < 0 ||
      asprintf(&env[m++], "LD_PRELOAD=%s%s%s", agent, old_preload && *old_preload ? ":" : "",
               old_preload ? old_preload : "") < 0) {
    env[m - 1] = NULL; /* asprintf left it undefined */
    weft_run_free_env(env, *nours);
    errno = ENOMEM;
    return NULL;
  }
  if (hook && asprintf(&env[m++], "PYTHONPATH=%s%s%s", hook, old_pypath && *old_pypath ? ":" : "",
                       old_pypath ? old_pypath : "") < 0) {
    env[m - 1] = NULL;
    weft_run_free_env(env, *nours);
    errno = ENOMEM;
    return NULL;
  }
  env[m] = NULL;
  return env;
}

int weft_run_option(const char *cmd, int c, const char *arg, WeftRunOptions *o) {
  switch (c) {
    case WEFT_RUN_OPT_IO: o->io = 1; return 1;
    case WEFT_RUN_OPT_NO_IO: o->io = 0; return 1;
    case WEFT_RUN_OPT_NO_PYNAMES: o->pynames = 0; return 1;
    case WEFT_RUN_OPT_STACKS:
      if (strcmp(arg, "none") && strcmp(arg, "contended") && strcmp(arg, "all")) {
        fprintf(stderr, "%s: --stacks %s: expected none, contended or all\n", cmd, arg);
        return -1;
      }
      o->stacks = arg;
      return 1;
    case WEFT_RUN_OPT_HOLDS:
      if (strcmp(arg, "contended") && strcmp(arg, "all")) {
        fprintf(stderr, "%s: --holds %s: expected contended or all\n", cmd, arg);
        return -1;
      }
      setenv("WEFT_HOLDS", arg, 1);
      return 1;
    case WEFT_RUN_OPT_HOLD_SAMPLE: {
      char *end;
      errno = 0;
      unsigned long n = strtoul(arg, &end, 10);
      if (!*arg || *end || errno || n > (1ul << 30) || (n & (n - 1)) || arg[0] == '-') {
        fprintf(stderr, "%s: --hold-sample %s: expected 0 or a power of two up to 1073741824\n", cmd, arg);
        return -1;
      }
      setenv("WEFT_HOLD_SAMPLE", arg, 1);
      return 1;
    }
    default: return 0;
  }
}

uint64_t weft_run_new_session(void) {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    v = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 32);
  }
  return v ? v : 1;
}

/* ------------------------------------------------------------ the machine */

int weft_run_machine_cpu(WeftMachineCpu *out) {
  FILE *f = fopen("/proc/stat", "re");
  if (!f) return -1;
  unsigned long long v[8] = {0};
  int n =
      fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
  fclose(f);
  long hz = sysconf(_SC_CLK_TCK);
  if (n < 8 || hz <= 0) return -1;
  /* user nice system idle iowait irq softirq steal (guest is inside user) */
  int64_t tick = 1000000000 / hz;
  unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  out->busy_ns = (int64_t)busy * tick;
  out->steal_ns = (int64_t)v[7] * tick;
  out->total_ns = (int64_t)(busy + v[3] + v[4]) * tick;
  return 0;
}

int64_t weft_run_cgroup_cpu_milli(void) {
  /* cgroup v2: "0::/path" in /proc/self/cgroup, the limit in cpu.max */
  char line[4096], path[4096 + 64];
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f) return -1;
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) found = !strncmp(line, "0::", 3);
  fclose(f);
  if (!found) return -1;
  line[strcspn(line, "\n")] = '\0';
  snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max", line + 3);
  f = fopen(path, "re");
  if (!f) return -1;
  char quota[32] = "";
  unsigned long long period = 0;
  int n = fscanf(f, "%31s %llu", quota, &period);
  fclose(f);
  if (n != 2 || !strcmp(quota, "max") || !period) return -1;
  char *end;
  unsigned long long q = strtoull(quota, &end, 10);
  if (*end || !q) return -1;
  return (int64_t)(q * 1000 / period);
}

/* ------------------------------------------------------------ signals */

static const int run_signals[WEFT_RUN_NSIGNALS] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};

/* The running program (its process group too, when it has its own); 0
 * while there is none. pid_t fits. */
static volatile sig_atomic_t running;
/* The signal that interrupted a sweep (interrupt), or 0. */
static volatile sig_atomic_t interrupted;

/* Foreground: SIGTERM and SIGHUP while the program runs are passed on.
 * Async-signal-safe. */
static void forward_signal(int sig) {
  int e = errno;
  if (running > 0) kill((pid_t)running, sig);
  errno = e;
}

/* Interrupt: kill the running group; the sweep stops after it, and weft
 * dies of the signal once it has cleaned up. A second one does not wait. */
static void on_interrupt(int sig) {
  if (running > 0) kill(-(pid_t)running, SIGKILL);
  if (interrupted) {
    signal(sig, SIG_DFL);
    raise(sig);
  }
  interrupted = sig;
}

static void sigset_of_ours(sigset_t *set) {
  sigemptyset(set);
  for (size_t i = 0; i < WEFT_RUN_NSIGNALS; i++) sigaddset(set, run_signals[i]);
}

static struct sigaction action(void (*fn)(int), int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = fn;
  sa.sa_flags = flags;
  return sa;
}

void weft_run_signals_foreground(WeftRunSignals *s) {
  sigset_t block;
  sigset_of_ours(&block);
  sigprocmask(SIG_BLOCK, &block, &s->mask);
  for (size_t i = 0; i < WEFT_RUN_NSIGNALS; i++) {
    int sig = run_signals[i];
    struct sigaction sa = action(sig == SIGINT || sig == SIGQUIT ? SIG_IGN : forward_signal, SA_RESTART);
    sigaction(sig, &sa, &s->old[i]);
    s->child[i] = s->old[i];
  }
}

void weft_run_signals_interrupt(WeftRunSignals *s) {
  sigprocmask(SIG_SETMASK, NULL, &s->mask);
  for (size_t i = 0; i < WEFT_RUN_NSIGNALS; i++) {
    int sig = run_signals[i];
    if (sig == SIGQUIT) { /* left as it is */
      sigaction(sig, NULL, &s->old[i]);
      s->child[i] = s->old[i];
      continue;
    }
    struct sigaction sa = action(on_interrupt, 0);
    sigaction(sig, &sa, &s->old[i]);
    s->child[i] = action(SIG_DFL, 0);
  }
}

void weft_run_signals_catch(const WeftRunSignals *s, void (*fn)(int)) {
  struct sigaction sa = action(fn, 0);
  for (size_t i = 0; i < WEFT_RUN_NSIGNALS; i++)
    if (s->old[i].sa_handler != SIG_IGN) sigaction(run_signals[i], &sa, NULL);
}

void weft_run_signals_restore(const WeftRunSignals *s) {
  for (size_t i = 0; i < WEFT_RUN_NSIGNALS; i++) sigaction(run_signals[i], &s->old[i], NULL);
  sigprocmask(SIG_SETMASK, &s->mask, NULL);
}

int weft_run_interrupted(void) { return interrupted; }

/* ------------------------------------------------------------ the run */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The last STDERR_TAIL bytes of fd, from a line start. */
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

/* The child, between fork and exec: the program's signals, its own group,
 * its standard streams; an exec failure goes back over errpipe. */
__attribute__((noreturn)) static void child(const WeftRunSpec *spec, const WeftRunSignals *s, int errpipe[2],
                                            int errfd) {
  for (size_t i = 0; i < WEFT_RUN_NSIGNALS; i++) sigaction(run_signals[i], &s->child[i], NULL);
  sigprocmask(SIG_SETMASK, &s->mask, NULL);
  if (spec->own_group) setpgid(0, 0);
  close(errpipe[0]);
  if (spec->capture) {
    int nul = open("/dev/null", O_RDWR);
    if (nul >= 0) {
      dup2(nul, 0);
      dup2(nul, 1);
    }
    dup2(errfd, 2);
  }
  execvpe(spec->argv[0], spec->argv, spec->envp);
  int e = errno;
  ssize_t w = write(errpipe[1], &e, sizeof e);
  (void)w;
  _exit(127);
}

/* Until pid exits or timeout_s from t0 has passed. Returns 1 on a timeout. */
static int wait_deadline(pid_t pid, double t0, double timeout_s) {
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), timed_out = 0;
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
  if (pidfd >= 0) close(pidfd);
  return timed_out;
}

/* Wait for pid (killing its group at the deadline), then fill r. */
static void wait_child(const WeftRunSpec *spec, pid_t pid, double t0, int errpipe, WeftRunResult *r) {
  if (spec->timeout_s > 0) {
    r->timed_out = wait_deadline(pid, t0, spec->timeout_s);
    if (r->timed_out) kill(-pid, SIGKILL);
  }
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  while (wait4(pid, &r->wstatus, 0, &ru) < 0) {
    if (errno != EINTR) {
      r->wait_errno = errno;
      break;
    }
  }
  r->wall_s = now_s() - t0;
  running = 0;
  /* children left behind in the group would skew the next run */
  if (spec->own_group) kill(-pid, SIGKILL);
  int exec_errno = 0;
  ssize_t n;
  while ((n = read(errpipe, &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {}
  close(errpipe);
  if (n == (ssize_t)sizeof exec_errno) r->exec_errno = exec_errno;
  r->user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
  r->sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

int weft_run(const WeftRunSpec *spec, const WeftRunSignals *s, WeftRunResult *r) {
  memset(r, 0, sizeof *r);
  int errfd = spec->capture ? memfd_create("weft-scale-stderr", MFD_CLOEXEC) : -1, errpipe[2];
  if ((spec->capture && errfd < 0) || pipe2(errpipe, O_CLOEXEC) != 0) {
    int e = errno;
    if (errfd >= 0) close(errfd);
    sigprocmask(SIG_SETMASK, &s->mask, NULL);
    errno = e;
    return WEFT_RUN_NOT_STARTED;
  }
  /* blocked until the handlers know the program, and in the child until it
   * has the program's dispositions */
  sigset_t block;
  sigset_of_ours(&block);
  sigprocmask(SIG_BLOCK, &block, NULL);
  fflush(NULL);
  double t0 = now_s();
  pid_t pid = fork();
  if (pid == 0) child(spec, s, errpipe, errfd);
  int fork_errno = errno;
  if (pid > 0) {
    if (spec->own_group) setpgid(pid, pid); /* also here: whichever runs first */
    running = pid;
  }
  sigprocmask(SIG_SETMASK, &s->mask, NULL);
  close(errpipe[1]);
  if (pid < 0) {
    if (errfd >= 0) close(errfd);
    close(errpipe[0]);
    errno = fork_errno;
    return WEFT_RUN_FORK_FAILED;
  }
  wait_child(spec, pid, t0, errpipe[0], r);
  if (errfd >= 0) {
    r->stderr_tail = read_tail(errfd);
    close(errfd);
  }
  return 0;
}
