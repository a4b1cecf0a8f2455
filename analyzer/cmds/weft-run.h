/* weft-run.h - running a program under the agent, for weft record and weft
 * scale (run.c): the agent, the trace directory, the program's environment,
 * the machine's load, and the run itself (fork, exec, wait).
 * SPDX-License-Identifier: MIT
 *
 * Signals while a program runs, one of two ways:
 *   foreground (weft record): the program is in weft's process group, as a
 *     shell's foreground job, so the terminal's Ctrl-C (SIGINT) and Ctrl-\
 *     (SIGQUIT) reach it directly: weft ignores those two, and forwards
 *     SIGTERM and SIGHUP, which are usually sent to weft alone;
 *   interrupt (weft scale): each run is its own process group; SIGINT,
 *     SIGTERM and SIGHUP kill the running group and are remembered
 *     (weft_run_interrupted()); a second one kills weft at once.
 * The program starts with the dispositions and the signal mask weft had
 * before (interrupt: SIGINT, SIGTERM and SIGHUP at their defaults).
 *
 * Not thread-safe: environ, the signal dispositions, one program at a time.
 */
#ifndef WEFT_RUN_H
#define WEFT_RUN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ the agent */

#define WEFT_AGENT_NAME "libweft-agent.so"

/* Where libweft-agent.so is: WEFT_AGENT (as set, even if it names nothing:
 * the caller reports it), else next to the weft binary (build tree:
 * ../agent/; installed: the meson libdir, ../lib/<multiarch>/, ../lib64/,
 * ../lib/). Returns a static string (overwritten by the next call) or NULL. */
const char *weft_agent_path(void);

/* The agent (weft_agent_path()) as an absolute path LD_PRELOAD can carry,
 * in abs (PATH_MAX bytes); what is wrong is said on stderr after "CMD: ".
 * Returns 0, or the exit status (1). */
int weft_run_find_agent(const char *cmd, char *abs);

/* A regular file this process may read. */
int weft_run_readable_file(const char *path);

/* ------------------------------------------------------------ traces */

/* Make a private trace directory $TMPDIR/NAME-XXXXXX (TMPDIR unset or empty:
 * /tmp) and put its absolute path in dir. Returns 0, or -1 (errno) with
 * *tmp the directory it could not be made in. */
int weft_run_trace_dir(const char *name, char *dir, size_t len, const char **tmp);
/* The number of PID.N.wtrace files in dir, or -1 if it cannot be read. */
long weft_run_count_traces(const char *dir);
/* Remove a trace directory and its files. Returns 0 or -1 (errno). */
int weft_run_remove_trace_dir(const char *dir);

/* ------------------------------------------------------------ environment */

/* Is prog a Python interpreter ("python3", "/usr/bin/python3.11") or a
 * script whose "#!" line names one? For Python, record and scale record the
 * I/O waits by default: pool workers and helper threads idle in pipe reads
 * and sleeps, which would otherwise count as running. */
int weft_run_is_python(const char *prog);
/* Whether to record I/O waits by default for a command line: its program,
 * or the one a launcher (env, taskset, nice, ...) runs, is Python, or it
 * starts MPI ranks (mpirun, mpiexec, srun), whose library's progress threads
 * idle in polls (which would otherwise count as running). */
int weft_run_io_default(char *const *argv);

/* environ with WEFT_OUTPUT, WEFT_STACKS, WEFT_IO, WEFT_SESSION replaced,
 * the agent first in LD_PRELOAD and, with pyhook, the Python hook next to the
 * agent (AGENT_DIR/weft-python) first in PYTHONPATH; the strings from *nours
 * on are the new ones. NULL (ENOMEM) if out of memory. Free with
 * weft_run_free_env(). */
char **weft_run_env(const char *agent, const char *dir, const char *stacks, int io, int pyhook, uint64_t session,
                    size_t *nours);
void weft_run_free_env(char **env, size_t nours);
/* The options weft record and weft exec share, how the program is
 * recorded: --stacks, --io, --no-io, --no-python-names, --holds and
 * --hold-sample. A command puts WEFT_RUN_LONGOPTS among its getopt_long
 * options (its own codes below WEFT_RUN_OPT_STACKS) and passes each code to
 * weft_run_option(). */
typedef struct {
  const char *stacks; /* none, contended (default), all */
  int io;             /* -1 (default): by the program, weft_run_is_python() */
  int pynames;        /* the Python hook in PYTHONPATH (default 1) */
} WeftRunOptions;
#define WEFT_RUN_OPTIONS_DEFAULT \
  { .stacks = "contended", .io = -1, .pynames = 1 }
enum {
  WEFT_RUN_OPT_STACKS = 0x1000,
  WEFT_RUN_OPT_IO,
  WEFT_RUN_OPT_NO_IO,
  WEFT_RUN_OPT_NO_PYNAMES,
  WEFT_RUN_OPT_HOLDS,
  WEFT_RUN_OPT_HOLD_SAMPLE
};
/* clang-format off */
#define WEFT_RUN_LONGOPTS                                              \
  {"stacks", required_argument, NULL, WEFT_RUN_OPT_STACKS},            \
  {"io", no_argument, NULL, WEFT_RUN_OPT_IO},                          \
  {"no-io", no_argument, NULL, WEFT_RUN_OPT_NO_IO},                    \
  {"no-python-names", no_argument, NULL, WEFT_RUN_OPT_NO_PYNAMES},     \
  {"holds", required_argument, NULL, WEFT_RUN_OPT_HOLDS},              \
  {"hold-sample", required_argument, NULL, WEFT_RUN_OPT_HOLD_SAMPLE}
/* clang-format on */
/* Option c with argument arg into o; --holds and --hold-sample are checked
 * and set in weft's environment (WEFT_HOLDS, WEFT_HOLD_SAMPLE), which the
 * program inherits. Returns 1 (c was one of them), 0 (it was not), or -1
 * (a bad value, said after "CMD: ": exit status 2). */
int weft_run_option(const char *cmd, int c, const char *arg, WeftRunOptions *o);
/* A random recording session id (never 0). */
uint64_t weft_run_new_session(void);

/* ------------------------------------------------------------ the machine */

/* The machine's CPU time so far, over all CPUs (/proc/stat), in ns: busy
 * (user, nice, system, irq, softirq, steal), of it stolen by the
 * hypervisor, and all (idle and iowait too). Returns 0, or -1 (unknown). */
typedef struct {
  int64_t busy_ns, steal_ns, total_ns;
} WeftMachineCpu;
int weft_run_machine_cpu(WeftMachineCpu *out);
/* The CPUs this process's cgroup may use (cgroup v2 cpu.max, quota/period)
 * in thousandths, or -1 when unlimited or unknown. */
int64_t weft_run_cgroup_cpu_milli(void);

/* ------------------------------------------------------------ signals */

#define WEFT_RUN_NSIGNALS 4 /* SIGINT, SIGQUIT, SIGTERM, SIGHUP */

typedef struct {
  sigset_t mask;                             /* weft's signal mask before */
  struct sigaction old[WEFT_RUN_NSIGNALS];   /* weft's dispositions before */
  struct sigaction child[WEFT_RUN_NSIGNALS]; /* the program's */
} WeftRunSignals;

/* Foreground: the four signals stay blocked until weft_run() has started
 * the program (or weft_run_signals_restore()), so none is lost before it. */
void weft_run_signals_foreground(WeftRunSignals *s);
/* Interrupt, for a sweep of runs. */
void weft_run_signals_interrupt(WeftRunSignals *s);
/* fn for each of the four that weft was not started ignoring. */
void weft_run_signals_catch(const WeftRunSignals *s, void (*fn)(int));
/* The dispositions and mask from before. */
void weft_run_signals_restore(const WeftRunSignals *s);
/* The signal that interrupted a sweep, or 0. */
int weft_run_interrupted(void);

/* ------------------------------------------------------------ the run */

typedef struct {
  char *const *argv; /* argv[0] is searched on PATH */
  char *const *envp;
  int own_group;    /* its own process group, killed at the end (children left behind) */
  int capture;      /* stdin and stdout /dev/null, stderr kept for its tail */
  double timeout_s; /* > 0: kill its group after this long (own_group) */
} WeftRunSpec;

typedef struct {
  int wstatus;    /* as wait gives it */
  int exec_errno; /* it could not be started: execvpe's errno; else 0 */
  int wait_errno; /* waiting for it failed: the errno (wstatus 0); else 0 */
  int timed_out;
  double wall_s, user_s, sys_s;
  char *stderr_tail; /* capture: its stderr's last 2048 bytes, from a line start (g_free) */
} WeftRunResult;

enum { WEFT_RUN_NOT_STARTED = -1, WEFT_RUN_FORK_FAILED = -2 };

/* Run spec's program to its end (or its timeout), with s's signals.
 * Returns 0 (r filled), or WEFT_RUN_NOT_STARTED (the pipes) or
 * WEFT_RUN_FORK_FAILED with errno set. */
int weft_run(const WeftRunSpec *spec, const WeftRunSignals *s, WeftRunResult *r);

#endif /* WEFT_RUN_H */
