/* fuzz-import.c - weft import and weft report on mutated recordings.
 * SPDX-License-Identifier: MIT
 *
 *   fuzz-import SEED ITER TRACE
 *
 * Makes ITER deterministic mutants of TRACE (mutate.h, the reader fuzzer's
 * mutator), and for each one writes a recording directory holding it, runs
 * weft_import into a database there, and on success weft_metrics_compute
 * and weft_report_write (text and JSON) into /dev/null. The reader fuzzer
 * checks the reader alone; this checks that what the reader lets through
 * cannot crash the importer or the analyses (run under ASan/UBSan in CI),
 * and that a failed import says why and leaves no database. Exits 1 at the
 * first broken invariant.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "mutate.h"
#include "report.h"
#include "weft-db.h"
#include "weft-import.h"

static char dir[4096], trace[4200], db[4200];

static int fail_at(uint64_t i, const char *what, const char *err) {
  fprintf(stderr, "fuzz-import: mutant %" PRIu64 ": %s%s%s\n", i, what, err ? ": " : "", err ? err : "");
  return -1;
}

static int write_all(const char *path, const unsigned char *buf, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  int rc = fwrite(buf, 1, len, f) == len ? 0 : -1;
  return fclose(f) == 0 ? rc : -1;
}

/* The analyses and every report format on an imported database. */
static int analyse(uint64_t i, FILE *null) {
  char err[1024] = "";
  sqlite3 *h = weft_db_open(db, 0, err, sizeof err);
  if (!h) return fail_at(i, "imported database does not open", err);
  WeftMetricsQuery q;
  weft_metrics_query_init(&q);
  q.jobs = 1;
  WeftMetrics *m = weft_metrics_compute(h, &q, err, sizeof err);
  int rc = 0;
  if (!m && !err[0]) rc = fail_at(i, "metrics failed without a message", NULL);
  if (m) {
    static const WeftReportFormat formats[] = {WEFT_REPORT_TEXT, WEFT_REPORT_JSON, WEFT_REPORT_MARKDOWN};
    for (size_t k = 0; k < sizeof formats / sizeof formats[0]; k++) {
      WeftReportOptions ro = {.format = formats[k], .top = -1, .database = db};
      weft_report_write(null, m, &ro);
    }
    weft_metrics_free(m);
  }
  sqlite3_close(h);
  return rc;
}

/* Import mutant i (buf) and report on it. */
static int one(uint64_t i, const unsigned char *buf, size_t len, FILE *null, uint64_t *imported) {
  if (write_all(trace, buf, len) < 0) return fail_at(i, "cannot write the trace", trace);
  unlink(db);
  char err[1024] = "";
  WeftImportOptions opt = {.no_symbols = 1, .salvage = (int)(i & 1)};
  WeftImportStats st;
  int rc = weft_import(dir, db, &opt, &st, null, err, sizeof err);
  if (rc != 0) {
    if (!err[0]) return fail_at(i, "import failed without a message", NULL);
    if (access(db, F_OK) == 0) return fail_at(i, "a failed import left its database behind", err);
    return 0;
  }
  (*imported)++;
  return analyse(i, null);
}

int main(int argc, char **argv) {
  char *e1, *e2;
  if (argc != 4) {
    fprintf(stderr, "usage: fuzz-import SEED ITER TRACE\n");
    return 2;
  }
  uint64_t seed = strtoull(argv[1], &e1, 0), iters = strtoull(argv[2], &e2, 0);
  if (*e1 || *e2) {
    fprintf(stderr, "fuzz-import: bad number\n");
    return 2;
  }
  size_t len;
  unsigned char *orig = read_file(argv[3], &len);
  if (!orig) return 1;
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/fuzz-import-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    perror(dir);
    return 1;
  }
  snprintf(trace, sizeof trace, "%s/1234.0.wtrace", dir);
  snprintf(db, sizeof db, "%s/run.db", dir);
  FILE *null = fopen("/dev/null", "w");
  if (!null) return 1;

  size_t no;
  uint64_t *offs = record_offsets(orig, len, argv[3], &no);
  rng_state = seed;
  Mutant m = {0};
  uint64_t imported = 0;
  int rc = one(UINT64_MAX, orig, len, null, &imported) == 0 && imported == 1 ? 0 : 1; /* the seed itself */
  if (rc) fprintf(stderr, "fuzz-import: the unmutated seed does not import and report\n");
  for (uint64_t i = 0; i < iters && rc == 0; i++) {
    size_t mlen;
    unsigned char *mut = make_mutant(&m, orig, len, offs, no, &mlen);
    if (one(i, mut, mlen, null, &imported) < 0) rc = 1;
    free(mut);
  }
  printf("fuzz-import: %" PRIu64 " mutants of %s (seed %" PRIu64 "), %" PRIu64 " imported\n", iters, argv[3], seed,
         imported);
  unlink(db);
  unlink(trace);
  rmdir(dir);
  fclose(null);
  free(m.buf);
  free(offs);
  free(orig);
  return rc;
}
