/* weft-import.h - turning a recording directory into a recording database.
 * SPDX-License-Identifier: MIT
 */
#ifndef WEFT_IMPORT_H
#define WEFT_IMPORT_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
  int force;        /* replace an existing database */
  int progress;     /* show progress on stderr when the import takes over a second */
  int no_symbols;   /* skip symbolisation (faster; frames keep raw addresses) */
  int pick_session; /* import session `session`, not the latest */
  int salvage;      /* a corrupt trace file: import its records before the fault (a warning), not fail */
  uint64_t session;
} WeftImportOptions;

typedef struct {
  uint64_t records;
  uint64_t processes;
  uint64_t threads;
  uint64_t lost;
  uint64_t truncated; /* trace files cut short (a chunk runs past the end of the file) */
  uint64_t salvaged;  /* corrupt trace files read up to the fault (opt->salvage) */
  uint64_t warnings;  /* problems tolerated (a trace cut off by a crash, an unclosed wait) */
  uint64_t hosts;     /* machines (one clock each), mapped onto the first's */
  double seconds;
} WeftImportStats;

/* Import the trace files of one session of dir (the latest, or opt->session)
 * into a new database at db_path. Returns 0, or -1 with a one-line message
 * (naming the file at fault) in err; on failure no database is left behind.
 * A corrupt trace file ("FILE: offset N: what") fails the import unless
 * opt->salvage; a file cut short at its end does not (a warning).
 * Warnings go to warn (may be NULL), one per line, and so does the list of
 * the other sessions in dir when there are any. */
int weft_import(const char *dir, const char *db_path, const WeftImportOptions *opt, WeftImportStats *stats, FILE *warn,
                char *err, size_t errlen);
/* The same with the files of several directories as one recording (one per
 * host, as weft exec -o DIR/%h writes them, or any split): a recording of
 * two or more hosts has each host's clock mapped onto the first's (the host
 * table, docs/schema.md). Messages about the recording name dirs[0]. */
int weft_import_dirs(const char *const *dirs, size_t ndirs, const char *db_path, const WeftImportOptions *opt,
                     WeftImportStats *stats, FILE *warn, char *err, size_t errlen);

#endif /* WEFT_IMPORT_H */
