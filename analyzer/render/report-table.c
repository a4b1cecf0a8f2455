/* report-table.c - the aligned tables of `weft report` (report-table.h).
 * SPDX-License-Identifier: MIT
 */
#include "report-table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* tables                                                                    */

void table_init(Table *t, const char *align) {
  memset(t, 0, sizeof *t);
  t->ncols = strlen(align);
  t->align = align;
}

/* Append a row of t->ncols strings (copied). */
void table_row(Table *t, ...) {
  if (t->oom) return;
  if (t->nrows == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    char **nc = realloc(t->cell, cap * t->ncols * sizeof *nc);
    if (!nc) {
      t->oom = true;
      return;
    }
    t->cell = nc;
    t->cap = cap;
  }
  va_list ap;
  va_start(ap, t);
  for (size_t i = 0; i < t->ncols; i++) {
    const char *s = va_arg(ap, const char *);
    char *d = strdup(s ? s : "");
    if (!d) t->oom = true;
    t->cell[t->nrows * t->ncols + i] = d;
  }
  va_end(ap);
  t->nrows++;
}

void table_free(Table *t) {
  for (size_t i = 0; i < t->nrows * t->ncols; i++) free(t->cell[i]);
  free(t->cell);
}

/* Display width: UTF-8 code points (µ is one column). */
size_t text_width(const char *s) {
  size_t w = 0;
  for (; *s; s++) w += ((unsigned char)*s & 0xc0) != 0x80;
  return w;
}

void text_pad(FILE *f, size_t n) {
  for (size_t i = 0; i < n; i++) fputc(' ', f);
}

/* Columns padded to their widest cell, two spaces apart, no trailing
 * blanks. */
void table_text(FILE *f, const Table *t, int indent) {
  if (t->oom || !t->nrows) return;
  size_t w[32] = {0};
  for (size_t r = 0; r < t->nrows; r++)
    for (size_t c = 0; c < t->ncols && c < 32; c++) {
      size_t x = text_width(t->cell[r * t->ncols + c]);
      if (x > w[c]) w[c] = x;
    }
  for (size_t r = 0; r < t->nrows; r++) {
    size_t blanks = (size_t)indent; /* owed: written only before something visible */
    for (size_t c = 0; c < t->ncols && c < 32; c++) {
      const char *s = t->cell[r * t->ncols + c];
      size_t x = text_width(s);
      if (t->align[c] == 'r') blanks += w[c] - x;
      if (*s) {
        text_pad(f, blanks);
        fputs(s, f);
        blanks = 0;
      }
      if (t->align[c] != 'r') blanks += w[c] - x;
      blanks += 2;
    }
    fputc('\n', f);
  }
}

/* Markdown: escape what would end a cell or start markup. */
void md_text(FILE *f, const char *s) {
  for (; *s; s++) {
    if (strchr("\\`*_[]<>|#", *s)) fputc('\\', f);
    fputc(*s, f);
  }
}

void table_md(FILE *f, const Table *t) {
  if (t->oom || !t->nrows) return;
  for (size_t r = 0; r < t->nrows; r++) {
    fputc('|', f);
    for (size_t c = 0; c < t->ncols; c++) {
      fputc(' ', f);
      md_text(f, t->cell[r * t->ncols + c]);
      fputs(" |", f);
    }
    fputc('\n', f);
    if (r == 0) {
      fputc('|', f);
      for (size_t c = 0; c < t->ncols; c++) fputs(t->align[c] == 'r' ? " ---: |" : " --- |", f);
      fputc('\n', f);
    }
  }
}
