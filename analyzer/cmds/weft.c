/* weft.c - the weft command: dispatch to the subcommands.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "weft-cli.h"

static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *what;
} commands[] = {
    {"record", weft_cmd_record, "run a program under the agent and store its recording"},
    {"exec", weft_cmd_exec, "run a program under the agent, leave its trace (mpirun, srun)"},
    {"import", weft_cmd_import, "store a recording made with plain LD_PRELOAD"},
    {"report", weft_cmd_report, "explain where the time went: imbalance, contention, waits"},
    {"check", weft_cmd_check, "verify the invariants of a recording database"},
    {"export", weft_cmd_export, "export a recording for Perfetto UI / chrome://tracing"},
    {"scale", weft_cmd_scale, "run a program at several thread counts; CI regression report"},
};

/* weft's commands are batch jobs that build and drop big arrays phase after
 * phase (the import's spills and sorts, SQLite's index sorts): keep the memory
 * they free for the next phase instead of returning it to the kernel and
 * faulting it in again, zeroed, a page at a time (a page fault costs 10-20 us
 * on a VM). Up to 32 MiB an allocation comes from the heap; its top is
 * never trimmed, and grows 64 MiB at a time (untouched, not resident). The
 * import of a lock-heavy recording: 27 % fewer page faults, about 7 % less
 * time; its peak memory is unchanged (docs/performance.md). */
static void tune_malloc(void) {
#ifdef __GLIBC__
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 64 << 20);
#endif
}

static void usage(FILE *f) {
  fprintf(f, "usage: weft COMMAND [ARGS...]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].what);
  fprintf(f, "\n`weft COMMAND --help` for a command's options; `man weft` for more.\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("weft %s\n", WEFT_VERSION);
    return 0;
  }
  tune_malloc();
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "weft: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
