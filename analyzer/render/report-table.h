/* report-table.h - the aligned tables of `weft report`'s text and Markdown
 * (report-table.c), shared by report.c and report-compare.c.
 * SPDX-License-Identifier: MIT
 */
#ifndef WEFT_REPORT_TABLE_H
#define WEFT_REPORT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
  size_t ncols;
  const char *align; /* 'l' or 'r' per column */
  char **cell;       /* (nrows + 1) * ncols; row 0 is the header */
  size_t nrows, cap;
  bool oom;
} Table;

/* Display width: UTF-8 code points (µ is one column). */
size_t text_width(const char *s);
/* n blanks */
void text_pad(FILE *f, size_t n);

void table_init(Table *t, const char *align);
/* Append a row of t->ncols strings (copied). */
void table_row(Table *t, ...);
void table_free(Table *t);
/* Columns padded to their widest cell, two spaces apart, no trailing blanks. */
void table_text(FILE *f, const Table *t, int indent);
/* Markdown: escape what would end a cell or start markup. */
void md_text(FILE *f, const char *s);
void table_md(FILE *f, const Table *t);

#endif /* WEFT_REPORT_TABLE_H */
