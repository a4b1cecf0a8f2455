/* report-compare.h - the JSON of `weft report --compare` (report-compare.c), for report.c;
 * text and Markdown are in report.h.
 * SPDX-License-Identifier: MIT
 */
#ifndef WEFT_REPORT_COMPARE_H
#define WEFT_REPORT_COMPARE_H

#include "compare.h"
#include "report-table.h"
#include "weft-json.h"

/* The comparison as an object, the value of the report's "compare" (docs/report-json.md, "Comparing two
 * recordings"); weft-gui's dump writes the same. */
void report_compare_json(WeftJsonWriter *j, const WeftCompare *c, const char *before_db, const char *after_db,
                         long top);

/* The three tables of the text and Markdown (header row first), for weft-gui's Compare page to show
 * the same cells: the summary figures; the sync objects and the findings, at most top rows (< 0: all). */
void report_compare_figures_table(Table *t, const WeftCompare *c);
void report_compare_objects_table(Table *t, const WeftCompare *c, long top);
void report_compare_findings_table(Table *t, const WeftCompare *c, long top);

#endif /* WEFT_REPORT_COMPARE_H */
