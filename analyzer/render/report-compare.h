/* report-compare.h - the JSON of `weft report --compare` (report-compare.c), for report.c;
 * text and Markdown are in report.h.
 * SPDX-License-Identifier: MIT
 */
#ifndef WEFT_REPORT_COMPARE_H
#define WEFT_REPORT_COMPARE_H

#include "compare.h"
#include "weft-json.h"

/* "compare": the comparison as an object (docs/report-json.md, "Comparing two recordings"). */
void report_compare_json(WeftJsonWriter *j, const WeftCompare *c, const char *before_db, const char *after_db,
                         long top);

#endif /* WEFT_REPORT_COMPARE_H */
