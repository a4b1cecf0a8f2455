/* cmd-exec.c - weft exec: run one process tree under the agent and leave its
 * trace files in a directory, for a launcher weft record cannot wrap.
 * SPDX-License-Identifier: MIT
 *
 *   weft exec [-o DIR] [--run-id ID] [--stacks none|contended|all] [--io|--no-io]
 *             [--holds contended|all] [--hold-sample N] [--no-python-names]
 *             [--verbose] -- PROG ARGS...
 *
 * For `mpirun -np N weft exec -o DIR -- ./app` and `srun weft exec ...`: each
 * rank is one weft exec, and the N of them write into DIR at once (the agent
 * makes each file with O_EXCL, PID.N.wtrace, so they cannot clash). What
 * keeps them one recording is the session id of the trace files' headers,
 * the one weft record sets (WEFT_SESSION) and weft import groups files by:
 * here it is the run id, the same in every rank without their talking to
 * each other: --run-id, else one made from the launcher's environment (the
 * first of OMPI_MCA_orte_hnp_uri, PMIX_NAMESPACE, SLURM_JOB_ID with
 * SLURM_STEP_ID), else a fresh one.
 *
 * The checks come first (options, DIR, the agent), then weft exec becomes
 * PROG (execvpe) with the environment weft record gives a program: the
 * launcher's signals, its kill and its wait reach the program itself, with
 * no weft process between them that a SIGKILL would leave the program
 * orphaned by, and the exit status is the program's own. Nothing is imported:
 * `weft import DIR -o run.db` does that once every rank has ended.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft-cli.h"
#include "weft-run.h"

static void usage(FILE *f) {
  fprintf(f, "usage: weft exec [-o DIR] [--run-id ID] [--stacks none|contended|all] [--io|--no-io]\n"
             "                 [--holds contended|all] [--hold-sample N] [--no-python-names]\n"
             "                 [--verbose] -- PROG [ARGS...]\n"
             "\n"
             "Run PROG under the weft agent and leave its trace files in DIR, without\n"
             "importing them: for `mpirun -np N weft exec -o DIR -- PROG` and `srun weft\n"
             "exec ...`. The processes of one run share a run id; `weft import DIR -o\n"
             "run.db` imports them as one recording. Exits with PROG's exit status.\n"
             "\n"
             "  -o, --output DIR      the trace directory (default weft-trace; made if missing;\n"
             "                        %%h in it is the host name)\n"
             "      --run-id ID       the run id: 1 to 16 hex digits, or any other text (hashed);\n"
             "                        default: from the launcher's environment\n"
             "                        (OMPI_MCA_orte_hnp_uri, PMIX_NAMESPACE, SLURM_JOB_ID and\n"
             "                        SLURM_STEP_ID), else a new one\n"
             "      --stacks WHEN     call stacks: none, contended (default), all\n"
             "      --io              also record blocking poll/select/read and sleeps\n"
             "                        (the default when PROG is a python interpreter or script,\n"
             "                        also behind env, taskset and the like, and for MPI ranks)\n"
             "      --no-io           do not, even for python\n"
             "      --holds WHICH     lock holds to record: contended (default) or all\n"
             "      --hold-sample N   time one uncontended hold in N (default 64; 0: none)\n"
             "      --no-python-names leave PYTHONPATH alone (no naming hook)\n"
             "  -v, --verbose         say the run id, where it came from and DIR\n");
}

typedef struct {
  const char *out, *run_id;
  int verbose;
  WeftRunOptions run; /* how the program is recorded */
  char **prog;
  char dir[PATH_MAX];
} Exec;

/* The options into e. Returns -1 to go on, or the exit status. */
static int parse_options(int argc, char **argv, Exec *e) {
  enum { OPT_RUN_ID = 256 };
  static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                           {"run-id", required_argument, NULL, OPT_RUN_ID},
                                           {"verbose", no_argument, NULL, 'v'},
                                           {"help", no_argument, NULL, 'h'},
                                           WEFT_RUN_LONGOPTS,
                                           {NULL, 0, NULL, 0}};
  int c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "+o:vh", longopts, NULL)) != -1) {
    switch (c) {
      case 'o': e->out = optarg; break;
      case 'v': e->verbose = 1; break;
      case OPT_RUN_ID: e->run_id = optarg; break;
      case 'h': usage(stdout); return 0;
      default: {
        int known = weft_run_option("weft exec", c, optarg, &e->run);
        if (known < 0) return 2;
        if (!known) {
          usage(stderr);
          return 2;
        }
      }
    }
  }
  /* A launcher's command line is long and its options look like ours: the
   * program starts only after "--", never at a guess. */
  if (optind < 2 || strcmp(argv[optind - 1], "--") != 0) {
    fprintf(stderr, "weft exec: expected -- before the program (weft exec [-o DIR] -- PROG [ARGS...])\n");
    return 2;
  }
  if (optind >= argc) {
    fprintf(stderr, "weft exec: no program after --\n");
    return 2;
  }
  if (!*e->out) {
    fprintf(stderr, "weft exec: -o: empty directory name\n");
    return 2;
  }
  e->prog = argv + optind;
  if (e->run.io < 0) /* (inside an MPI job: a rank, whose library's threads idle in polls) */
    e->run.io = weft_run_io_default(e->prog) || getenv("OMPI_COMM_WORLD_RANK") || getenv("PMIX_RANK") ||
                getenv("PMI_RANK");
  return -1;
}

/* FNV-1a, 64 bits: the same text gives the same id in every rank. */
static uint64_t hash_text(uint64_t h, const char *s) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return h;
}

/* The run id from --run-id: 1 to 16 hex digits are the id itself (as weft
 * import --session takes it back), other text is hashed. 0 if it is "0"
 * (the agent's "none"). */
static uint64_t run_id_of_option(const char *s) {
  size_t n = strlen(s), hex = 0;
  while (hex < n && isxdigit((unsigned char)s[hex])) hex++;
  if (n >= 1 && n <= 16 && hex == n) return strtoull(s, NULL, 16);
  uint64_t h = hash_text(0xcbf29ce484222325ull, "run-id=");
  h = hash_text(h, s);
  return h ? h : 1;
}

/* The run id from the launcher's environment, and the variable it came
 * from in *from; 0 when no launcher is known. The first that is set wins:
 * mpirun's own (one per mpirun, even inside a Slurm job), PMIx's namespace
 * (Open MPI 5's prterun, srun --mpi=pmix), Slurm's job and step. */
static uint64_t run_id_of_launcher(const char **from) {
  static const char *const vars[] = {"OMPI_MCA_orte_hnp_uri", "PMIX_NAMESPACE", "SLURM_JOB_ID"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    if (!v || !*v) continue;
    uint64_t h = hash_text(hash_text(0xcbf29ce484222325ull, vars[i]), "=");
    h = hash_text(h, v);
    *from = vars[i];
    if (i == 2) {
      const char *step = getenv("SLURM_STEP_ID");
      if (step && *step) {
        h = hash_text(hash_text(h, " SLURM_STEP_ID="), step);
        *from = "SLURM_JOB_ID and SLURM_STEP_ID";
      }
    }
    return h ? h : 1;
  }
  return 0;
}

/* The run id (never 0) and where it came from. Returns 0, or 2 (said). */
static int run_id(const Exec *e, uint64_t *id, const char **from) {
  if (e->run_id) {
    *id = run_id_of_option(e->run_id);
    *from = "--run-id";
    if (!*e->run_id || !*id) {
      fprintf(stderr, "weft exec: --run-id '%s': expected a non-zero hex number or a name\n", e->run_id);
      return 2;
    }
    return 0;
  }
  if ((*id = run_id_of_launcher(from))) return 0;
  *id = weft_run_new_session();
  *from = "new";
  return 0;
}

/* DIR with each %h replaced by the host name (WEFT_TEST_HOST when set, as
 * the agent names its host then; and %% by %), in out: on
 * several hosts sharing a file system each gets a directory of its own
 * (`srun weft exec -o rec/%h`), as a pid is unique on one host only.
 * Returns 0, or 2 (said). */
static int expand_dir(const char *dir, char *out, size_t len) {
  char host[256] = "";
  const char *test = getenv("WEFT_TEST_HOST"); /* the agent's host for tests (docs/distributed.md) */
  if (test && *test)
    snprintf(host, sizeof host, "%s", test);
  else if (gethostname(host, sizeof host - 1) != 0 || !*host)
    snprintf(host, sizeof host, "localhost");
  size_t n = 0;
  for (const char *p = dir; *p && n < len; p++) {
    const char *add = NULL;
    char one[2] = {*p, 0};
    if (*p == '%' && (p[1] == 'h' || p[1] == '%')) add = *++p == 'h' ? host : "%";
    n += (size_t)snprintf(out + n, len - n, "%s", add ? add : one);
  }
  if (n >= len) {
    fprintf(stderr, "weft exec: -o %s: the path is too long\n", dir);
    return 2;
  }
  return 0;
}

/* DIR (its %h expanded), made with its missing parents (mode 0700) if it
 * does not exist, as an absolute path in e->dir. Every rank may make it at
 * once: one of them does, the others find it. Returns 0, or 1 (said). */
static int trace_dir(Exec *e) {
  char want[PATH_MAX];
  struct stat st;
  if (expand_dir(e->out, want, sizeof want - 128) != 0) return 2; /* 128: room for the agent's file names */
  for (char *sl = strchr(want + 1, '/');; sl = strchr(sl + 1, '/')) {
    if (sl) *sl = 0;
    int rc = mkdir(want, 0700);
    if (sl) *sl = '/';
    if (rc != 0 && errno != EEXIST) {
      fprintf(stderr, "weft exec: -o %s: %s\n", want, strerror(errno));
      return 1;
    }
    if (!sl || !sl[1]) break;
  }
  if (stat(want, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "weft exec: -o %s: not a directory\n", want);
    return 1;
  }
  if (access(want, W_OK | X_OK) != 0) {
    fprintf(stderr, "weft exec: -o %s: cannot write trace files there: %s\n", want, strerror(errno));
    return 1;
  }
  if (!realpath(want, e->dir) || strlen(e->dir) > PATH_MAX - 128) {
    fprintf(stderr, "weft exec: -o %s: %s\n", want, errno ? strerror(errno) : "the path is too long");
    return 1;
  }
  return 0;
}

int weft_cmd_exec(int argc, char **argv) {
  Exec e = {.out = "weft-trace", .run = WEFT_RUN_OPTIONS_DEFAULT};
  char agent[PATH_MAX];
  uint64_t id;
  const char *from;
  int rc = parse_options(argc, argv, &e);
  if (rc >= 0) return rc;
  if ((rc = run_id(&e, &id, &from)) || (rc = trace_dir(&e)) || (rc = weft_run_find_agent("weft exec", agent)))
    return rc;
  size_t nours = 0;
  char **env = weft_run_env(agent, e.dir, e.run.stacks, e.run.io, e.run.pynames, id, &nours);
  if (!env) {
    fprintf(stderr, "weft exec: %s\n", strerror(errno));
    return 1;
  }
  if (e.verbose) fprintf(stderr, "weft exec: run id %016" PRIx64 " (%s), trace files in %s\n", id, from, e.dir);
  fflush(NULL);
  execvpe(e.prog[0], e.prog, env);
  int err = errno;
  weft_run_free_env(env, nours);
  if (err == ENOENT) {
    fprintf(stderr, "weft exec: %s: command not found\n", e.prog[0]);
    return 127;
  }
  fprintf(stderr, "weft exec: %s: %s\n", e.prog[0], strerror(err));
  return 126;
}
