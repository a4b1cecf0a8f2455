/* report.h - `weft report` renderers: text, JSON and Markdown views of a
 * WeftMetrics (metrics.h).
 * SPDX-License-Identifier: MIT
 *
 * The renderers only format: every number comes from the analyses
 * (metrics.h). Output is deterministic (same metrics, same bytes), so it
 * can be compared with golden files. The JSON schema is documented in docs/report-json.md.
 */
#ifndef WEFT_REPORT_H
#define WEFT_REPORT_H

#include <stdio.h>

#include "compare.h"
#include "metrics.h"

#define WEFT_REPORT_JSON_VERSION 1
/* critical_path.segments is written only when there are at most this many */
#define WEFT_REPORT_MAX_SEGMENTS 1000

typedef enum {
  WEFT_REPORT_TEXT = 0,     /* aligned tables for a terminal */
  WEFT_REPORT_JSON = 1,     /* docs/report-json.md; every number raw (ns, fractions) */
  WEFT_REPORT_MARKDOWN = 2, /* short, for a pull-request comment */
} WeftReportFormat;

typedef struct {
  WeftReportFormat format;
  long top;                     /* rows per list; 0: the format's default (text 10, Markdown 5,
                                 * JSON all); < 0: all */
  const char *database;         /* the file name shown in the output; NULL: none */
  const WeftCompare *compare;   /* --compare: before (compare->before) and after (the metrics
                                 * reported): the comparison first, in every format; NULL: none */
  const char *compare_database; /* the before recording's file name */
} WeftReportOptions;

/* "text", "json", "markdown" (or "md") -> *out; 0, or -1 if unknown. */
int weft_report_format_parse(const char *s, WeftReportFormat *out);

/* Render m to out. Returns 0, or -1 if writing failed (errno set). */
int weft_report_write(FILE *out, const WeftMetrics *m, const WeftReportOptions *opt);

/* The comparison alone (report-compare.c), as weft_report_write puts it
 * before the report of the after recording; JSON: the "compare" object's
 * value. top as WeftReportOptions.top. */
void weft_report_compare_text(FILE *out, const WeftCompare *c, const char *before_db, const char *after_db, long top);
void weft_report_compare_markdown(FILE *out, const WeftCompare *c, const char *before_db, const char *after_db,
                                  long top);

#endif /* WEFT_REPORT_H */
