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
 *   3. run PROG (weft-run.h: PATH search, LD_PRELOAD and the WEFT_* variables
 *      set in its environment only; an exec failure comes back over a
 *      close-on-exec pipe, so "command not found" is told apart from a
 *      program that ran and exited 127);
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

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "weft-cli.h"
#include "naming.h"
#include "weft-db.h"
#include "weft-import.h"
#include "weft-run.h"
#include "weft-trace.h"

/* ------------------------------------------------------------ helpers */

static void usage(FILE *f) {
  fprintf(f, "usage: weft record [-o FILE.db] [--force] [--stacks none|contended|all] [--io|--no-io]\n"
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
             "                        (the default when PROG is a python interpreter or script,\n"
             "                        also behind env, taskset and the like, and for MPI ranks)\n"
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

static const int fault_signals[] = {SIGBUS, SIGSEGV, SIGFPE, SIGILL, SIGABRT};
#define NFAULT (sizeof fault_signals / sizeof fault_signals[0])

/* ------------------------------------------------------------ summary */

/* How the program ended, for the summary and the exit status. */
static int exit_code(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 1;
}

/* The summary on stderr: what ran, how much was recorded, the top 3 waits on
 * synchronisation objects. Returns -1 if the database cannot be read. */
static int print_summary(const char *db_path, const WeftImportStats *st) {
  char err[512], a[32], b[32];
  sqlite3 *db = weft_db_open(db_path, 0, err, sizeof err);
  if (!db) {
    fprintf(stderr, "weft record: the recording was written but cannot be read back: %s\n", err);
    return -1;
  }
  WeftDbTotals t;
  weft_db_totals(db, &t);
  int64_t nproc = t.processes >= 0 ? t.processes : (int64_t)st->processes;
  int64_t nthr = t.threads >= 0 ? t.threads : (int64_t)st->threads;
  int64_t end = t.end_ns >= 0 ? t.end_ns : 0;
  int64_t lost = t.lost_events >= 0 ? t.lost_events : (int64_t)st->lost;
  fprintf(stderr, "weft: %" PRId64 " %s, %" PRId64 " %s, %" PRIu64 " %s, %" PRId64 " lost, %s\n", nproc,
          plural((uint64_t)nproc, "process", "processes"), nthr, plural((uint64_t)nthr, "thread", "threads"),
          st->records, plural(st->records, "record", "records"), lost, fmt_dur(end, a, sizeof a));
  if (lost > 0)
    fprintf(stderr,
            "weft: %" PRId64 " events were lost (the trace directory's disk was full): the numbers "
            "are incomplete\n",
            lost);
  if (st->truncated > 0)
    fprintf(stderr,
            "weft: %" PRIu64 " trace %s cut short (the warnings above say where): the numbers are "
            "incomplete\n",
            st->truncated, plural(st->truncated, "file was", "files were"));

  /* Waits on synchronisation objects only: joins, child waits, I/O and
   * sleeps are waits too, but a main thread joining its workers would top
   * every list. */
  WeftDbObjectWait top[3];
  size_t rows = weft_db_top_waits(db, top, 3);
  for (size_t i = 0; i < rows; i++) {
    char name[256], what[300];
    const WeftDbObjectWait *w = &top[i];
    weft_object_display_name(db, w->object_id, name, sizeof name);
    size_t kl = strlen(w->kind);
    if (w->has_kind && !(strncmp(name, w->kind, kl) == 0 && name[kl] == '@')) /* kind@0xaddr names its kind */
      snprintf(what, sizeof what, "%s (%s)", name, w->kind);
    else
      snprintf(what, sizeof what, "%s", name);
    if (!i) fprintf(stderr, "weft: top waits on locks, condition variables, barriers, semaphores:\n");
    fprintf(stderr, "weft:   %9s  %-32s %3.0f%% of the waiting, %" PRId64 " %s\n", fmt_dur(w->wait_ns, b, sizeof b),
            what, w->all_wait_ns > 0 ? 100.0 * (double)w->wait_ns / (double)w->all_wait_ns : 0.0, w->waits,
            plural((uint64_t)w->waits, "wait", "waits"));
  }
  if (!rows) fprintf(stderr, "weft: no thread waited on a lock, condition variable, barrier or semaphore\n");
  sqlite3_close(db);
  return 0;
}

/* ------------------------------------------------------------ the command */

typedef struct {
  const char *out, *keep;
  int force, quiet;
  WeftRunOptions run; /* how the program is recorded */
  char **prog;
  int private_dir;    /* no --keep-trace: a private directory, removed */
  char dir[PATH_MAX]; /* the trace directory */
} Record;

/* The options into r. Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, Record *r) {
  enum { OPT_KEEP = 256 };
  static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                           {"force", no_argument, NULL, 'f'},
                                           {"keep-trace", required_argument, NULL, OPT_KEEP},
                                           {"quiet", no_argument, NULL, 'q'},
                                           {"help", no_argument, NULL, 'h'},
                                           WEFT_RUN_LONGOPTS,
                                           {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  /* '+': stop at PROG, so its own options are left alone */
  while ((c = getopt_long(argc, argv, "+o:fqh", longopts, NULL)) != -1) {
    switch (c) {
      case 'o': r->out = optarg; break;
      case 'f': r->force = 1; break;
      case 'q': r->quiet = 1; break;
      case OPT_KEEP: r->keep = optarg; break;
      case 'h': usage(stdout); return 0;
      default: {
        int known = weft_run_option("weft record", c, optarg, &r->run);
        if (known < 0) return 2;
        if (!known) {
          usage(stderr);
          return 2;
        }
      }
    }
  }
  if (optind >= argc) {
    fprintf(stderr, "weft record: no program to run\n");
    usage(stderr);
    return 2;
  }
  r->prog = argv + optind;
  if (r->run.io < 0) r->run.io = weft_run_io_default(r->prog);
  return -1;
}

/* Step 1: the output can be made. Returns 0, or the exit status. */
static int check_output(const char *out, int force) {
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
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", out);
  char *sl = strrchr(parent, '/');
  if (sl == parent)
    sl[1] = 0;
  else if (sl)
    *sl = 0;
  else
    snprintf(parent, sizeof parent, ".");
  if (access(parent, W_OK | X_OK) != 0) {
    fprintf(stderr, "weft record: %s: cannot create the database there: %s\n", out, strerror(errno));
    return 1;
  }
  return 0;
}

/* Step 2: r->dir, the --keep-trace directory (empty) or a private one.
 * Returns 0, or the exit status. */
static int make_trace_dir(Record *r) {
  const char *keep = r->keep;
  struct stat st;
  r->private_dir = !keep;
  if (!keep) {
    const char *tmp;
    if (weft_run_trace_dir("weft", r->dir, sizeof r->dir, &tmp) != 0) {
      fprintf(stderr, "weft record: cannot make a trace directory in %s: %s\n", tmp, strerror(errno));
      return 1;
    }
    return 0;
  }
  if (mkdir(keep, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "weft record: --keep-trace %s: %s\n", keep, strerror(errno));
    return 1;
  }
  if (stat(keep, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "weft record: --keep-trace %s: not a directory\n", keep);
    return 1;
  }
  long n = weft_run_count_traces(keep);
  if (n != 0) {
    if (n < 0)
      fprintf(stderr, "weft record: --keep-trace %s: %s\n", keep, strerror(errno));
    else
      fprintf(stderr,
              "weft record: --keep-trace %s holds a recording already (%ld trace %s); use an empty "
              "directory\n",
              keep, n, plural((uint64_t)n, "file", "files"));
    return n < 0 ? 1 : 2;
  }
  if (!realpath(keep, r->dir)) {
    fprintf(stderr, "weft record: --keep-trace %s: %s\n", keep, strerror(errno));
    return 1;
  }
  return 0;
}

/* Remove the private trace directory (nothing worth keeping in it). */
static void drop_trace_dir(const Record *r) {
  if (r->private_dir) weft_run_remove_trace_dir(r->dir);
}

/* Steps 3 and 4: run the program to its end, its wait status in *wstatus
 * and what the machine did meanwhile in *load. The signals are left as
 * weft_run_signals_foreground() set them. Returns -1 to go on, or the exit
 * status (the program could not be started: the directory is removed). */
static int run_program(const Record *r, const char *agent, WeftRunSignals *sig, int *wstatus, WeftDbMachine *load) {
  size_t nours = 0;
  char **env = weft_run_env(agent, r->dir, r->run.stacks, r->run.io, r->run.pynames, weft_run_new_session(), &nours);
  if (!env) {
    fprintf(stderr, "weft record: %s\n", strerror(errno));
    drop_trace_dir(r);
    return 1;
  }
  weft_run_signals_foreground(sig);
  /* the machine's CPU time before and after: other load during the run */
  WeftMachineCpu mc0, mc1;
  int have_mc = weft_run_machine_cpu(&mc0) == 0;
  WeftRunSpec spec = {.argv = r->prog, .envp = env};
  WeftRunResult res;
  int rc = weft_run(&spec, sig, &res), e = errno;
  weft_run_free_env(env, nours);
  if (rc != 0) {
    weft_run_signals_restore(sig);
    fprintf(stderr, rc == WEFT_RUN_FORK_FAILED ? "weft record: fork: %s\n" : "weft record: %s\n", strerror(e));
    drop_trace_dir(r);
    return 1;
  }
  if (res.wait_errno) {
    fprintf(stderr, "weft record: waitpid: %s\n", strerror(res.wait_errno));
    res.wstatus = 1 << 8;
  }
  *wstatus = res.wstatus;
  *load = (WeftDbMachine){.total_ns = -1, .cpu_limit_milli = weft_run_cgroup_cpu_milli()};
  if (have_mc && weft_run_machine_cpu(&mc1) == 0 && mc1.total_ns >= mc0.total_ns)
    *load = (WeftDbMachine){.busy_ns = mc1.busy_ns - mc0.busy_ns,
                            .steal_ns = mc1.steal_ns - mc0.steal_ns,
                            .total_ns = mc1.total_ns - mc0.total_ns,
                            .cpu_limit_milli = load->cpu_limit_milli};
  if (res.exec_errno) {
    weft_run_signals_restore(sig);
    if (res.exec_errno == ENOENT)
      fprintf(stderr, "weft record: %s: command not found\n", r->prog[0]);
    else
      fprintf(stderr, "weft record: %s: %s\n", r->prog[0], strerror(res.exec_errno));
    drop_trace_dir(r);
    return res.exec_errno == ENOENT ? 127 : 126;
  }
  return -1;
}

/* Step 5 begins: from here a signal would leave an unfinished database, so
 * the signals that stop weft say where the trace is (oldfault: the fault
 * signals' dispositions before). */
static void catch_import_signals(const Record *r, const WeftRunSignals *sig, struct sigaction *oldfault) {
  if (r->private_dir)
    snprintf(trace_dir_msg, sizeof trace_dir_msg, "the trace is kept in %s (`weft import %s -o %s`)\n", r->dir, r->dir,
             r->out);
  else
    snprintf(trace_dir_msg, sizeof trace_dir_msg, "the trace is in %s\n", r->dir);
  snprintf(import_db, sizeof import_db, "%s", r->out);
  weft_run_signals_catch(sig, import_interrupted);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = import_crashed;
  sa.sa_flags = SA_RESETHAND;
  for (size_t i = 0; i < NFAULT; i++) sigaction(fault_signals[i], &sa, &oldfault[i]);
}

/* Step 5: import the trace into r->out, then put the signals back. Returns
 * 0, or -1 (said, the trace kept). */
static int import_trace(const Record *r, const WeftRunSignals *sig, const struct sigaction *oldfault,
                        WeftImportStats *stats) {
  WeftImportOptions opt = {.force = r->force, .progress = !r->quiet, .no_symbols = 0};
  memset(stats, 0, sizeof *stats);
  char err[1024] = "";
  importing = 1;
  int irc = weft_import(r->dir, r->out, &opt, stats, r->quiet ? NULL : stderr, err, sizeof err);
  importing = 0; /* finished, or removed by the importer */
  for (size_t i = 0; i < NFAULT; i++) sigaction(fault_signals[i], &oldfault[i], NULL);
  if (irc != 0) fprintf(stderr, "weft record: import failed: %s; %s", err[0] ? err : "unknown error", trace_dir_msg);
  weft_run_signals_restore(sig);
  return irc != 0 ? -1 : 0;
}

/* How the program ended, unless --quiet. */
static void say_how_it_ended(const Record *r, int wstatus) {
  if (r->quiet) return;
  if (WIFSIGNALED(wstatus)) {
    const char *abbrev = sigabbrev_np(WTERMSIG(wstatus));
    fprintf(stderr, "weft: %s was killed by SIG%s (%s)%s\n", r->prog[0], abbrev ? abbrev : "?",
            strsignal(WTERMSIG(wstatus)), WCOREDUMP(wstatus) ? ", core dumped" : "");
  } else
    fprintf(stderr, "weft: %s exited with status %d\n", r->prog[0], exit_code(wstatus));
}

int weft_cmd_record(int argc, char **argv) {
  Record r = {.out = "weft-run.db", .run = WEFT_RUN_OPTIONS_DEFAULT};
  char agent[PATH_MAX];
  int rc = parse_options(argc, argv, &r);
  if (rc >= 0) return rc;
  /* 1, 2. Everything that can be checked before the program runs. */
  if ((rc = check_output(r.out, r.force)) || (rc = weft_run_find_agent("weft record", agent)) ||
      (rc = make_trace_dir(&r)))
    return rc;

  /* 3, 4. Run the program, wait for it. */
  WeftRunSignals sig;
  WeftDbMachine load;
  int wstatus = 0;
  if ((rc = run_program(&r, agent, &sig, &wstatus, &load)) >= 0) return rc;
  int status = exit_code(wstatus);

  /* 5. Import. A signal now would leave an unfinished database: say where
   * the trace is. */
  struct sigaction oldfault[NFAULT];
  catch_import_signals(&r, &sig, oldfault);
  say_how_it_ended(&r, wstatus);
  long ntraces = weft_run_count_traces(r.dir);
  if (ntraces <= 0) {
    fprintf(stderr,
            "weft record: %s wrote no trace: it may be statically linked, setuid, or have dropped "
            "LD_PRELOAD; nothing to store\n",
            r.prog[0]);
    drop_trace_dir(&r);
    return status ? status : 1;
  }
  WeftImportStats stats;
  if (import_trace(&r, &sig, oldfault, &stats) != 0) return status ? status : 1;
  char err[1024];
  if (weft_db_store_machine(r.out, &load, err, sizeof err) != 0 && !r.quiet) fprintf(stderr, "weft record: %s\n", err);

  if (r.private_dir && weft_run_remove_trace_dir(r.dir) != 0)
    fprintf(stderr, "weft record: could not remove the trace directory %s: %s\n", r.dir, strerror(errno));
  if (!r.quiet) {
    /* (a database written but not readable back is not a recording to point the user at) */
    if (print_summary(r.out, &stats) != 0) return status ? status : 1;
    struct stat st;
    char sz[32];
    off_t bytes = stat(r.out, &st) == 0 ? st.st_size : 0;
    fprintf(stderr, "weft: wrote %s (%s); see `weft report %s`\n", r.out, fmt_size(bytes, sz, sizeof sz), r.out);
    if (!r.private_dir) fprintf(stderr, "weft: the trace files are kept in %s\n", r.dir);
  }
  return status;
}
