/* cmd-import.c - weft import DIR -o run.db: store a recording made with plain LD_PRELOAD.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft-cli.h"
#include "weft-import.h"

static void usage(FILE *f) {
  fprintf(f, "usage: weft import DIR... -o run.db [--session ID] [--salvage] [--force] [--no-symbols] [--quiet]\n"
             "  Reads the trace files (*.wtrace) that libweft-agent.so wrote into DIR\n"
             "  (WEFT_OUTPUT=DIR) and stores the recording in run.db: the latest run's\n"
             "  files, or those of session ID when DIR holds several runs. Several\n"
             "  directories (one per host: weft exec -o DIR/%%h) make one recording, each\n"
             "  host's clock mapped onto the first's. A corrupt trace file is an error;\n"
             "  --salvage imports what precedes the corruption.\n");
}

/* A session id as weft import lists it: 1 to 16 hex digits. */
static int parse_session(const char *s, uint64_t *out) {
  size_t n = strlen(s);
  if (n < 1 || n > 16) return -1;
  for (size_t i = 0; i < n; i++)
    if (!isxdigit((unsigned char)s[i])) return -1;
  *out = strtoull(s, NULL, 16);
  return 0;
}

int weft_cmd_import(int argc, char **argv) {
  static const struct option opts[] = {{"output", required_argument, NULL, 'o'},  {"force", no_argument, NULL, 'f'},
                                       {"no-symbols", no_argument, NULL, 'S'},    {"quiet", no_argument, NULL, 'q'},
                                       {"session", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'},
                                       {"salvage", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0}};
  const char *out = NULL;
  WeftImportOptions opt = {.progress = 1};
  int quiet = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:fqh", opts, NULL)) != -1) {
    switch (c) {
      case 'o': out = optarg; break;
      case 'f': opt.force = 1; break;
      case 'S': opt.no_symbols = 1; break;
      case 'V': opt.salvage = 1; break;
      case 'q':
        quiet = 1;
        opt.progress = 0;
        break;
      case 's':
        if (parse_session(optarg, &opt.session) != 0) {
          fprintf(stderr,
                  "weft import: --session %s: expected a session id (up to 16 hex digits, as weft import "
                  "and weft-dump print them)\n",
                  optarg);
          return 2;
        }
        opt.pick_session = 1;
        break;
      case 'h': usage(stdout); return 0;
      default: usage(stderr); return 2;
    }
  }
  if (optind >= argc || !out) {
    usage(stderr);
    return 2;
  }
  char err[1024];
  WeftImportStats st;
  if (weft_import_dirs((const char *const *)argv + optind, (size_t)(argc - optind), out, &opt, &st,
                       quiet ? NULL : stderr, err, sizeof err) != 0) {
    fprintf(stderr, "weft import: %s\n", err);
    return 1;
  }
  if (!quiet) {
    char cut[64] = "", salv[64] = "";
    if (st.truncated)
      snprintf(cut, sizeof cut, ", %llu trace %s cut short", (unsigned long long)st.truncated,
               st.truncated == 1 ? "file" : "files");
    if (st.salvaged)
      snprintf(salv, sizeof salv, ", %llu corrupt %s salvaged", (unsigned long long)st.salvaged,
               st.salvaged == 1 ? "file" : "files");
    char hosts[48] = "";
    if (st.hosts > 1) snprintf(hosts, sizeof hosts, " on %llu hosts", (unsigned long long)st.hosts);
    fprintf(stderr, "weft: imported %llu records of %llu processes%s, %llu threads (%llu lost%s%s) in %.2f s into %s\n",
            (unsigned long long)st.records, (unsigned long long)st.processes, hosts, (unsigned long long)st.threads,
            (unsigned long long)st.lost, cut, salv, st.seconds, out);
  }
  return 0;
}
