/* cmd-record.c - weft record: run a program under the agent, store its recording.
 * SPDX-License-Identifier: MIT
 *
 *   weft record [-o run.db] [--force] [--stacks none|contended|all] [--io]
 *               [--holds contended|all] [--hold-sample N]
 *               [--keep-trace DIR] [--quiet] [--] PROG ARGS...
 *
 * The steps, in order, each of which can stop the command before the next:
 *   1. refuse an existing output database (unless --force) and find the agent,
 *      so nothing is run that could not be stored;
 *   2. make the trace directory: a private mkdtemp() directory, or --keep-trace;
 *   3. fork, and exec PROG (PATH search) with LD_PRELOAD and the WEFT_*
 *      variables set in its environment only; an exec failure comes back over
 *      a close-on-exec pipe, so "command not found" is told apart from a
 *      program that ran and exited 127;
 *   4. wait for PROG. It is in weft's process group, so the terminal's Ctrl-C
 *      (SIGINT) and Ctrl-\ (SIGQUIT) reach it directly: weft ignores those two
 *      while it waits (as a shell does for a foreground job) and forwards
 *      SIGTERM and SIGHUP, which are usually sent to weft alone;
 *   5. import the trace directory (weft_import), print a summary, remove the
 *      private directory; on a failed import, an interruption or a crash of
 *      the import the directory is kept and named.
 * The exit status is PROG's: its exit code, or 128 + the signal that killed it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft-cli.h"
#include "naming.h"
#include "weft-db.h"
#include "weft-import.h"
#include "weft-trace.h"

#define AGENT_NAME "libweft-agent.so"

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

/* ------------------------------------------------------------ the agent */

static int readable_file(const char *p) {
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
      snprintf(cand, sizeof cand, "%s/" AGENT_NAME, rel[i]);
    else if (!strncmp(rel[i], "..", 2))
      snprintf(cand, sizeof cand, "%s/%s/" AGENT_NAME, exe, rel[i]);
    else /* a libdir relative to the prefix, BIN/.. */
      snprintf(cand, sizeof cand, "%s/../%s/" AGENT_NAME, exe, rel[i]);
    if (readable_file(cand) && realpath(cand, found)) return found;
  }
  return NULL;
}

/* ------------------------------------------------------------ helpers */

static void usage(FILE *f) {
  fprintf(f,
          "usage: weft record [-o FILE.db] [--force] [--stacks none|contended|all] [--io|--no-io]\n"
          "                   [--holds contended|all] [--hold-sample N]\n"
          "                   [--no-python-names] [--keep-trace DIR] [--quiet] [--] PROG [ARGS...]\n"
          "\n"
          "Run PROG under the weft agent, store the recording in a database and\n"
          "print a summary. Exits with PROG's exit status.\n"
          "\n"
          "  -o, --output FILE     the database to write (default weft-run.db)\n"
          "  -f, --force           replace FILE if it exists\n"
          "      --stacks WHEN     call stacks: none, contended (default), all\n"
          "      --io              also record blocking poll/select/read and sleeps\n"
          "                        (the default when PROG is a python interpreter or script)\n"
          "      --no-io           do not, even for python\n"
          "      --holds WHICH     lock holds to record: contended (default: those a thread\n"
          "                        waited for; the others are counted), or all\n"
          "      --hold-sample N   time one uncontended hold in N, a power of two (default 64;\n"
          "                        0: none)\n"
          "      --no-python-names do not name Python threads and worker processes in the\n"
          "                        recording (by default a hook first in PYTHONPATH does)\n"
          "      --keep-trace DIR  write the trace files to DIR and keep them\n"
          "  -q, --quiet           no summary, no progress (errors only)\n");
}

/* Is PROG a Python interpreter ("python3", "/usr/bin/python3.11") or a
 * script whose "#!" line names one ("#!/usr/bin/env python3")? Python
 * workers and pool threads idle in pipe reads and sleeps, so for Python
 * the I/O waits are recorded by default. */
static int is_python_command(const char *prog) {
  const char *b = strrchr(prog, '/');
  b = b ? b + 1 : prog;
  if (!strncmp(b, "python", 6)) return 1;
  char path[PATH_MAX];
  const char *file = prog;
  if (!strchr(prog, '/')) { /* found on PATH, as execvpe will */
    const char *env = getenv("PATH");
    char *dirs = strdup(env && *env ? env : "/usr/local/bin:/usr/bin:/bin"), *save = NULL;
    file = NULL;
    for (char *d = dirs ? strtok_r(dirs, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save)) {
      snprintf(path, sizeof path, "%s/%s", *d ? d : ".", prog);
      if (access(path, X_OK) == 0) {
        file = path;
        break;
      }
    }
    free(dirs);
    if (!file) return 0;
  }
  FILE *f = fopen(file, "re");
  if (!f) return 0;
  char line[256] = "";
  int py = fgets(line, sizeof line, f) && !strncmp(line, "#!", 2) && strstr(line, "python");
  fclose(f);
  return py;
}

/* "12.3 ms", "4.56 s": a duration for people. */
static const char *fmt_dur(int64_t ns, char *buf, size_t len) {
  if (ns < 0) ns = 0;
  double v = (double)ns;
  if (ns < 1000)
    snprintf(buf, len, "%" PRId64 " ns", ns);
  else if (ns < 1000000)
    snprintf(buf, len, "%.1f us", v / 1e3);
  else if (ns < 1000000000)
    snprintf(buf, len, "%.1f ms", v / 1e6);
  else
    snprintf(buf, len, "%.2f s", v / 1e9);
  return buf;
}

static const char *fmt_size(off_t bytes, char *buf, size_t len) {
  if (bytes < 1000 * 1000)
    snprintf(buf, len, "%.0f kB", (double)bytes / 1e3);
  else
    snprintf(buf, len, "%.1f MB", (double)bytes / 1e6);
  return buf;
}

static const char *plural(uint64_t n, const char *one, const char *many) { return n == 1 ? one : many; }

/* ------------------------------------------------------------ signals */

/* The child, for the forwarding handler; 0 while there is none. pid_t fits. */
static volatile sig_atomic_t child_pid;
/* For an import cut short by a signal: where the trace is (the end of the
 * message) and the unfinished database to remove. */
static char trace_dir_msg[3 * PATH_MAX + 256];
static char import_db[PATH_MAX];
static volatile sig_atomic_t importing;

/* Write "\nweft record: WHAT; " and trace_dir_msg. Async-signal-safe. */
static void say_trace_kept(const char *what) {
  static const char head[] = "\nweft record: ";
  ssize_t r = write(STDERR_FILENO, head, sizeof head - 1);
  r = write(STDERR_FILENO, what, strlen(what));
  r = write(STDERR_FILENO, "; ", 2);
  r = write(STDERR_FILENO, trace_dir_msg, strlen(trace_dir_msg));
  (void)r;
}

/* SIGTERM and SIGHUP while the program runs: pass them on. Async-signal-safe. */
static void forward_signal(int sig) {
  int e = errno;
  if (child_pid > 0) kill((pid_t)child_pid, sig);
  errno = e;
}

/* A signal during the import: remove the unfinished database (readers would
 * refuse it; the importer has already removed the one --force replaces) and
 * say where the trace is, so it can be imported again. Async-signal-safe. */
static void import_interrupted(int sig) {
  if (importing) unlink(import_db);
  say_trace_kept("interrupted during the import");
  _exit(128 + sig);
}

/* A fault in the import itself: the same, then the signal's own action (so
 * the exit status and a core dump still tell what happened), never a silent
 * death that leaves the trace in a directory nobody knows of. SA_RESETHAND
 * has put the default action back. Async-signal-safe. */
static void import_crashed(int sig) {
  if (importing) unlink(import_db);
  say_trace_kept("the import crashed");
  raise(sig);
}

static const int waited_signals[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};
#define NWAITED (sizeof waited_signals / sizeof waited_signals[0])
static const int fault_signals[] = {SIGBUS, SIGSEGV, SIGFPE, SIGILL, SIGABRT};
#define NFAULT (sizeof fault_signals / sizeof fault_signals[0])

/* ------------------------------------------------------------ summary */

/* How the program ended, for the summary and the exit status. */
static int exit_code(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 1;
}

static int64_t query_int(sqlite3 *db, const char *sql, int64_t dflt) {
  sqlite3_stmt *q = NULL;
  int64_t v = dflt;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW &&
      sqlite3_column_type(q, 0) != SQLITE_NULL)
    v = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return v;
}

/* The summary on stderr: what ran, how much was recorded, the top 3 waits on
 * synchronisation objects. Returns -1 if the database cannot be read. */
static int print_summary(const char *db_path, const WeftImportStats *st) {
  char err[512], a[32], b[32];
  sqlite3 *db = weft_db_open(db_path, 0, err, sizeof err);
  if (!db) {
    fprintf(stderr, "weft record: %s\n", err);
    return -1;
  }
  int64_t nproc = query_int(db, "SELECT count(*) FROM process", (int64_t)st->processes);
  int64_t nthr = query_int(db, "SELECT count(*) FROM thread", (int64_t)st->threads);
  int64_t end = weft_db_meta_get_int(db, "end_ns", -1);
  if (end < 0) end = query_int(db, "SELECT max(end_ns) FROM process", 0);
  int64_t lost = weft_db_meta_get_int(db, "lost_events", (int64_t)st->lost);
  fprintf(stderr, "weft: %" PRId64 " %s, %" PRId64 " %s, %" PRIu64 " %s, %" PRId64 " lost, %s\n", nproc,
          plural((uint64_t)nproc, "process", "processes"), nthr, plural((uint64_t)nthr, "thread", "threads"),
          st->records, plural(st->records, "record", "records"), lost, fmt_dur(end, a, sizeof a));
  if (lost > 0)
    fprintf(stderr, "weft: %" PRId64 " events were lost (the trace directory's disk was full): the numbers "
                    "are incomplete\n", lost);
  if (st->truncated > 0)
    fprintf(stderr, "weft: %" PRIu64 " trace %s cut short (the warnings above say where): the numbers are "
                    "incomplete\n", st->truncated, plural(st->truncated, "file was", "files were"));

  /* Waits on synchronisation objects only: joins, child waits, I/O and
   * sleeps are waits too, but a main thread joining its workers would top
   * every list. */
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT o.object_id, o.wait_ns,"
           " (SELECT count(*) FROM thread_state s WHERE s.object_id = o.object_id), k.name,"
           " (SELECT sum(wait_ns) FROM sync_object WHERE kind BETWEEN %d AND %d)"
           " FROM sync_object o LEFT JOIN kind_name k ON k.kind = o.kind"
           " WHERE o.kind BETWEEN %d AND %d AND o.wait_ns > 0 ORDER BY o.wait_ns DESC LIMIT 3",
           WEFT_KIND_MUTEX, WEFT_KIND_SEM, WEFT_KIND_MUTEX, WEFT_KIND_SEM);
  sqlite3_stmt *q = NULL;
  int rows = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK) {
    while (sqlite3_step(q) == SQLITE_ROW) {
      char name[256], what[300];
      int64_t wait = sqlite3_column_int64(q, 1), total = sqlite3_column_int64(q, 4);
      int64_t nwaits = sqlite3_column_int64(q, 2);
      const char *kind = (const char *)sqlite3_column_text(q, 3);
      weft_object_display_name(db, sqlite3_column_int64(q, 0), name, sizeof name);
      size_t kl = kind ? strlen(kind) : 0;
      if (kind && !(strncmp(name, kind, kl) == 0 && name[kl] == '@')) /* kind@0xaddr names its kind */
        snprintf(what, sizeof what, "%s (%s)", name, kind);
      else
        snprintf(what, sizeof what, "%s", name);
      if (!rows++) fprintf(stderr, "weft: top waits on locks, condition variables, barriers, semaphores:\n");
      fprintf(stderr, "weft:   %9s  %-32s %3.0f%% of the waiting, %" PRId64 " %s\n", fmt_dur(wait, b, sizeof b),
              what, total > 0 ? 100.0 * (double)wait / (double)total : 0.0, nwaits,
              plural((uint64_t)nwaits, "wait", "waits"));
    }
  }
  sqlite3_finalize(q);
  if (!rows) fprintf(stderr, "weft: no thread waited on a lock, condition variable, barrier or semaphore\n");
  sqlite3_close(db);
  return 0;
}

/* ------------------------------------------------------------ the command */

int weft_cmd_record(int argc, char **argv) {
  enum { OPT_STACKS = 256, OPT_IO, OPT_NO_IO, OPT_KEEP, OPT_NO_PYNAMES, OPT_HOLDS, OPT_HOLD_SAMPLE };
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'}, {"force", no_argument, NULL, 'f'},
    {"stacks", required_argument, NULL, OPT_STACKS}, {"io", no_argument, NULL, OPT_IO},
    {"no-io", no_argument, NULL, OPT_NO_IO}, {"no-python-names", no_argument, NULL, OPT_NO_PYNAMES},
    {"keep-trace", required_argument, NULL, OPT_KEEP}, {"quiet", no_argument, NULL, 'q'},
    {"holds", required_argument, NULL, OPT_HOLDS}, {"hold-sample", required_argument, NULL, OPT_HOLD_SAMPLE},
    {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
  const char *out = "weft-run.db", *stacks = "contended", *keep = NULL;
  int force = 0, io = -1, quiet = 0, pynames = 1, c; /* io -1: by the program (is_python_command) */
  optind = 1;
  /* '+': stop at PROG, so its own options are left alone */
  while ((c = getopt_long(argc, argv, "+o:fqh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case 'f': force = 1; break;
    case 'q': quiet = 1; break;
    case OPT_IO: io = 1; break;
    case OPT_NO_IO: io = 0; break;
    case OPT_NO_PYNAMES: pynames = 0; break;
    case OPT_KEEP: keep = optarg; break;
    case OPT_STACKS:
      if (strcmp(optarg, "none") && strcmp(optarg, "contended") && strcmp(optarg, "all")) {
        fprintf(stderr, "weft record: --stacks %s: expected none, contended or all\n", optarg);
        return 2;
      }
      stacks = optarg;
      break;
    case OPT_HOLDS:
      if (strcmp(optarg, "contended") && strcmp(optarg, "all")) {
        fprintf(stderr, "weft record: --holds %s: expected contended or all\n", optarg);
        return 2;
      }
      setenv("WEFT_HOLDS", optarg, 1); /* the program inherits it */
      break;
    case OPT_HOLD_SAMPLE: {
      char *end;
      errno = 0;
      unsigned long n = strtoul(optarg, &end, 10);
      if (!*optarg || *end || errno || n > (1ul << 30) || (n & (n - 1)) || optarg[0] == '-') {
        fprintf(stderr, "weft record: --hold-sample %s: expected 0 or a power of two up to 1073741824\n", optarg);
        return 2;
      }
      setenv("WEFT_HOLD_SAMPLE", optarg, 1);
      break;
    }
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "weft record: no program to run\n");
    usage(stderr);
    return 2;
  }
  char **prog = argv + optind;
  if (io < 0) io = is_python_command(prog[0]);

  /* 1. Everything that can be checked before the program runs. */
  struct stat st;
  if (!*out) {
    fprintf(stderr, "weft record: -o: empty file name\n");
    return 2;
  }
  if (stat(out, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      fprintf(stderr, "weft record: %s: is a directory\n", out);
      return 2;
    }
    if (!force) {
      fprintf(stderr, "weft record: %s exists already (use --force to replace it, or -o another name)\n", out);
      return 2;
    }
  }
  {
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", out);
    char *sl = strrchr(parent, '/');
    if (sl == parent) sl[1] = 0;
    else if (sl) *sl = 0;
    else snprintf(parent, sizeof parent, ".");
    if (access(parent, W_OK | X_OK) != 0) {
      fprintf(stderr, "weft record: %s: cannot create the database there: %s\n", out, strerror(errno));
      return 1;
    }
  }
  const char *agent = weft_agent_path();
  if (!agent) {
    fprintf(stderr, "weft record: cannot find " AGENT_NAME " next to the weft binary; set WEFT_AGENT to its path\n");
    return 1;
  }
  errno = 0;
  if (!readable_file(agent)) {
    fprintf(stderr, "weft record: agent %s (WEFT_AGENT): %s\n", agent, errno ? strerror(errno) : "not a file");
    return 1;
  }
  char agent_abs[PATH_MAX];
  if (!realpath(agent, agent_abs)) {
    fprintf(stderr, "weft record: agent %s: %s\n", agent, strerror(errno));
    return 1;
  }
  if (strpbrk(agent_abs, " :")) {
    fprintf(stderr, "weft record: agent %s: LD_PRELOAD cannot carry a path with a space or a colon; "
                    "set WEFT_AGENT to another path (a symbolic link will do)\n", agent_abs);
    return 1;
  }

  /* 2. The trace directory. */
  char dir[PATH_MAX];
  int private_dir = !keep;
  if (keep) {
    if (mkdir(keep, 0700) != 0 && errno != EEXIST) {
      fprintf(stderr, "weft record: --keep-trace %s: %s\n", keep, strerror(errno));
      return 1;
    }
    if (stat(keep, &st) != 0 || !S_ISDIR(st.st_mode)) {
      fprintf(stderr, "weft record: --keep-trace %s: not a directory\n", keep);
      return 1;
    }
    long n = _weft_count_traces(keep);
    if (n != 0) {
      if (n < 0)
        fprintf(stderr, "weft record: --keep-trace %s: %s\n", keep, strerror(errno));
      else
        fprintf(stderr, "weft record: --keep-trace %s holds a recording already (%ld trace %s); use an empty "
                        "directory\n", keep, n, plural((uint64_t)n, "file", "files"));
      return n < 0 ? 1 : 2;
    }
    if (!realpath(keep, dir)) {
      fprintf(stderr, "weft record: --keep-trace %s: %s\n", keep, strerror(errno));
      return 1;
    }
  } else {
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp) tmp = "/tmp";
    if (snprintf(dir, sizeof dir, "%s/weft-XXXXXX", tmp) >= (int)sizeof dir || !mkdtemp(dir)) {
      fprintf(stderr, "weft record: cannot make a trace directory in %s: %s\n", tmp, strerror(errno));
      return 1;
    }
    if (dir[0] != '/') { /* a relative TMPDIR: the program may chdir */
      char abs[PATH_MAX];
      if (realpath(dir, abs)) snprintf(dir, sizeof dir, "%s", abs);
    }
  }

  /* 3. Run the program. */
  size_t nours = 0;
  char **env = _weft_child_env(agent_abs, dir, stacks, io, pynames, _weft_new_session(), &nours);
  int errpipe[2];
  if (!env || pipe2(errpipe, O_CLOEXEC) != 0) {
    fprintf(stderr, "weft record: %s\n", strerror(errno));
    _weft_free_env(env, nours);
    if (private_dir) _weft_remove_trace_dir(dir);
    return 1;
  }
  sigset_t block, oldmask;
  sigemptyset(&block);
  for (size_t i = 0; i < NWAITED; i++) sigaddset(&block, waited_signals[i]);
  struct sigaction oldact[NWAITED], sa;
  sigprocmask(SIG_BLOCK, &block, &oldmask);
  for (size_t i = 0; i < NWAITED; i++) {
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = waited_signals[i] == SIGINT || waited_signals[i] == SIGQUIT ? SIG_IGN : forward_signal;
    sigaction(waited_signals[i], &sa, &oldact[i]);
  }
  fflush(NULL);
  /* the machine's CPU time before and after: other load during the run */
  WeftMachineCpu mc0, mc1;
  int have_mc = _weft_machine_cpu(&mc0) == 0;
  pid_t pid = fork();
  if (pid == 0) {
    /* The child: the dispositions and mask weft was started with. */
    for (size_t i = 0; i < NWAITED; i++) sigaction(waited_signals[i], &oldact[i], NULL);
    sigprocmask(SIG_SETMASK, &oldmask, NULL);
    close(errpipe[0]);
    execvpe(prog[0], prog, env);
    int e = errno;
    ssize_t w = write(errpipe[1], &e, sizeof e);
    (void)w;
    _exit(127);
  }
  int fork_errno = errno;
  if (pid > 0) child_pid = pid;
  sigprocmask(SIG_SETMASK, &oldmask, NULL);
  close(errpipe[1]);
  _weft_free_env(env, nours);
  if (pid < 0) {
    fprintf(stderr, "weft record: fork: %s\n", strerror(fork_errno));
    close(errpipe[0]);
    if (private_dir) _weft_remove_trace_dir(dir);
    return 1;
  }
  int exec_errno = 0;
  ssize_t r;
  while ((r = read(errpipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {}
  close(errpipe[0]);
  if (r != (ssize_t)sizeof exec_errno) exec_errno = 0;

  /* 4. Wait for it. */
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "weft record: waitpid: %s\n", strerror(errno));
      wstatus = 1 << 8;
      break;
    }
  }
  child_pid = 0;
  have_mc = have_mc && _weft_machine_cpu(&mc1) == 0;

  if (exec_errno) {
    for (size_t i = 0; i < NWAITED; i++) sigaction(waited_signals[i], &oldact[i], NULL);
    if (exec_errno == ENOENT)
      fprintf(stderr, "weft record: %s: command not found\n", prog[0]);
    else
      fprintf(stderr, "weft record: %s: %s\n", prog[0], strerror(exec_errno));
    if (private_dir) _weft_remove_trace_dir(dir);
    return exec_errno == ENOENT ? 127 : 126;
  }
  int status = exit_code(wstatus);

  /* 5. Import. A signal now would leave an unfinished database: say where
   * the trace is. */
  if (private_dir)
    snprintf(trace_dir_msg, sizeof trace_dir_msg, "the trace is kept in %s (`weft import %s -o %s`)\n", dir, dir,
             out);
  else
    snprintf(trace_dir_msg, sizeof trace_dir_msg, "the trace is in %s\n", dir);
  snprintf(import_db, sizeof import_db, "%s", out);
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = import_interrupted;
  for (size_t i = 0; i < NWAITED; i++)
    if (oldact[i].sa_handler != SIG_IGN) sigaction(waited_signals[i], &sa, NULL);
  struct sigaction oldfault[NFAULT];
  sa.sa_handler = import_crashed;
  sa.sa_flags = SA_RESETHAND;
  for (size_t i = 0; i < NFAULT; i++) sigaction(fault_signals[i], &sa, &oldfault[i]);

  if (!quiet) {
    if (WIFSIGNALED(wstatus)) {
      const char *abbrev = sigabbrev_np(WTERMSIG(wstatus));
      fprintf(stderr, "weft: %s was killed by SIG%s (%s)%s\n", prog[0], abbrev ? abbrev : "?",
              strsignal(WTERMSIG(wstatus)), WCOREDUMP(wstatus) ? ", core dumped" : "");
    } else
      fprintf(stderr, "weft: %s exited with status %d\n", prog[0], status);
  }

  long ntraces = _weft_count_traces(dir);
  if (ntraces <= 0) {
    fprintf(stderr, "weft record: %s wrote no trace: it may be statically linked, setuid, or have dropped "
                    "LD_PRELOAD; nothing to store\n", prog[0]);
    if (private_dir) _weft_remove_trace_dir(dir);
    return status ? status : 1;
  }

  WeftImportOptions opt = {.force = force, .progress = !quiet, .no_symbols = 0};
  WeftImportStats stats;
  memset(&stats, 0, sizeof stats);
  char err[1024] = "";
  importing = 1;
  int irc = weft_import(dir, out, &opt, &stats, quiet ? NULL : stderr, err, sizeof err);
  importing = 0; /* finished, or removed by the importer */
  for (size_t i = 0; i < NFAULT; i++) sigaction(fault_signals[i], &oldfault[i], NULL);
  if (irc != 0) {
    fprintf(stderr, "weft record: import failed: %s; %s", err[0] ? err : "unknown error", trace_dir_msg);
    for (size_t i = 0; i < NWAITED; i++) sigaction(waited_signals[i], &oldact[i], NULL);
    return status ? status : 1;
  }
  for (size_t i = 0; i < NWAITED; i++) sigaction(waited_signals[i], &oldact[i], NULL);
  if (_weft_store_machine(out, have_mc ? &mc0 : NULL, have_mc ? &mc1 : NULL, err, sizeof err) != 0 && !quiet)
    fprintf(stderr, "weft record: %s\n", err);

  if (private_dir && _weft_remove_trace_dir(dir) != 0)
    fprintf(stderr, "weft record: could not remove the trace directory %s: %s\n", dir, strerror(errno));

  if (!quiet) {
    print_summary(out, &stats);
    char sz[32];
    off_t bytes = stat(out, &st) == 0 ? st.st_size : 0;
    fprintf(stderr, "weft: wrote %s (%s); see `weft report %s`\n", out, fmt_size(bytes, sz, sizeof sz), out);
    if (!private_dir) fprintf(stderr, "weft: the trace files are kept in %s\n", dir);
  }
  return status;
}
