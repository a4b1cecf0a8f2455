/* report-compare.c - `weft report --compare`: two recordings side by side
 * (compare.h) as text, JSON and Markdown.
 * SPDX-License-Identifier: MIT
 *
 * Only formats: every before, after, difference and ratio is
 * analysis/compare.c's. Text and Markdown cut the objects and findings to
 * top rows (objects by the larger wait time, findings appeared and gone
 * first); JSON has them all unless --top says otherwise.
 */
#include "report-compare.h"
#include "report-table.h"
#include "report.h"

#include <math.h>
#include <string.h>

#include "weft-units.h"

typedef struct {
  char b[16][48];
  int i;
} Cells;

static char *cell(Cells *c) { return c->b[c->i++ % 16]; }

/* a figure for people: a duration, an efficiency, a number; signed for a difference */
static const char *num(Cells *c, WeftCompareUnit unit, double v, bool sign) {
  char *b = cell(c);
  const char *plus = sign && v > 0 ? "+" : "";
  if (unit == WEFT_COMPARE_NS) {
    char d[40];
    snprintf(b, sizeof c->b[0], "%s%s", plus, weft_format_ns(d, sizeof d, (int64_t)llround(v)));
  } else { /* an efficiency or average parallelism: two decimals, as the report prints them */
    snprintf(b, sizeof c->b[0], "%s%.2f", plus, v);
  }
  return b;
}

static const char *ratio(Cells *c, double r) {
  if (r < 0) return "-";
  char *b = cell(c);
  snprintf(b, sizeof c->b[0], "%.2fx", r);
  return b;
}

static size_t cut(long top, size_t n) { return top < 0 || (size_t)top >= n ? n : (size_t)top; }

void report_compare_figures_table(Table *t, const WeftCompare *c) {
  Cells cs = {.i = 0};
  table_init(t, "lrrrr");
  table_row(t, "", "before", "after", "difference", "ratio");
  for (size_t i = 0; i < c->nfigures; i++) {
    const WeftCompareFigure *f = &c->figures[i];
    char label[64];
    snprintf(label, sizeof label, "%s%s", f->is_state ? "waits: " : "", f->label);
    table_row(t, label, num(&cs, f->unit, f->v.before, false), num(&cs, f->unit, f->v.after, false),
              num(&cs, f->unit, f->v.diff, true), ratio(&cs, f->v.ratio));
  }
}

void report_compare_objects_table(Table *t, const WeftCompare *c, long top) {
  Cells cs = {.i = 0};
  table_init(t, "llrrrrl");
  table_row(t, "object", "kind", "wait before", "wait after", "difference", "ratio", "change");
  for (size_t i = 0; i < cut(top, c->nobjects); i++) {
    const WeftCompareObject *o = &c->objects[i];
    char name[160];
    if (o->nbefore > 1 || o->nafter > 1)
      snprintf(name, sizeof name, "%s (x%zu)", o->name, o->nafter > o->nbefore ? o->nafter : o->nbefore);
    else
      snprintf(name, sizeof name, "%s", o->name);
    table_row(t, name, o->kind_name, num(&cs, WEFT_COMPARE_NS, o->wait_ns.before, false),
              num(&cs, WEFT_COMPARE_NS, o->wait_ns.after, false), num(&cs, WEFT_COMPARE_NS, o->wait_ns.diff, true),
              ratio(&cs, o->wait_ns.ratio), o->change == WEFT_COMPARE_BOTH ? "" : weft_compare_change_name(o->change));
  }
}

void report_compare_findings_table(Table *t, const WeftCompare *c, long top) {
  Cells cs = {.i = 0};
  table_init(t, "lllrr");
  table_row(t, "change", "kind", "finding", "cost before", "cost after");
  for (size_t i = 0; i < cut(top, c->nfindings); i++) {
    const WeftCompareFinding *f = &c->findings[i];
    /* a side it is not on: "-"; a warning about the measurement has no cost (its 0 ns said otherwise) */
    const char *before = f->change == WEFT_COMPARE_APPEARED ? "-"
                         : f->warning                       ? "warning"
                                                            : num(&cs, WEFT_COMPARE_NS, f->cost_ns.before, false);
    const char *after = f->change == WEFT_COMPARE_GONE ? "-"
                        : f->warning                   ? "warning"
                                                       : num(&cs, WEFT_COMPARE_NS, f->cost_ns.after, false);
    table_row(t, f->change == WEFT_COMPARE_BOTH ? "still" : weft_compare_change_name(f->change), f->kind_name, f->title,
              before, after);
  }
}

static void side_line(char *buf, size_t len, const WeftMetrics *m, const char *db) {
  char a[40], b[40];
  snprintf(buf, len, "%s  (%s%s .. %s)", db ? db : "-", m->whole ? "whole recording, " : "",
           weft_format_ns(a, sizeof a, m->range_start_ns), weft_format_ns(b, sizeof b, m->range_end_ns));
}

void weft_report_compare_text(FILE *f, const WeftCompare *c, const char *before_db, const char *after_db, long top) {
  char buf[600];
  fprintf(f, "Compared with the recording before a change\n");
  Table t;
  table_init(&t, "ll");
  side_line(buf, sizeof buf, c->before, before_db);
  table_row(&t, "before", buf);
  side_line(buf, sizeof buf, c->after, after_db);
  table_row(&t, "after", buf);
  snprintf(buf, sizeof buf, "%zu matched (%zu by executable: other arguments)", c->processes_matched,
           c->processes_by_exe);
  table_row(&t, "processes", buf);
  table_text(f, &t, 2);
  table_free(&t);
  fputc('\n', f);
  report_compare_figures_table(&t, c);
  table_text(f, &t, 2);
  table_free(&t);
  if (c->nobjects) {
    fprintf(f, "\n  Sync objects by wait time\n");
    report_compare_objects_table(&t, c, top);
    table_text(f, &t, 2);
    table_free(&t);
  }
  if (c->nfindings) {
    fprintf(f, "\n  Findings\n");
    report_compare_findings_table(&t, c, top);
    table_text(f, &t, 2);
    table_free(&t);
  }
  fputc('\n', f);
}

void weft_report_compare_markdown(FILE *f, const WeftCompare *c, const char *before_db, const char *after_db,
                                  long top) {
  fputs("### weft report --compare: ", f);
  md_text(f, before_db ? before_db : "before");
  fputs(" → ", f);
  md_text(f, after_db ? after_db : "after");
  fputs("\n\n", f);
  Table t;
  report_compare_figures_table(&t, c);
  table_md(f, &t);
  table_free(&t);
  if (c->nobjects) {
    fputs("\n#### Sync objects by wait time\n\n", f);
    report_compare_objects_table(&t, c, top);
    table_md(f, &t);
    table_free(&t);
  }
  if (c->nfindings) {
    fputs("\n#### Findings\n\n", f);
    report_compare_findings_table(&t, c, top);
    table_md(f, &t);
    table_free(&t);
  }
  fputc('\n', f);
}

/* ---- JSON ---- */

/* {"before", "after", "difference", "ratio"}: ns as integers, the rest with 6 digits; ratio null without one */
static void j_value(WeftJsonWriter *j, const char *key, WeftCompareUnit unit, const WeftCompareValue *v) {
  weft_json_key(j, key);
  weft_json_begin_object(j);
  const char *k[3] = {"before", "after", "difference"};
  double x[3] = {v->before, v->after, v->diff};
  for (int i = 0; i < 3; i++) {
    weft_json_key(j, k[i]);
    if (unit == WEFT_COMPARE_FRACTION || unit == WEFT_COMPARE_NUMBER)
      weft_json_double(j, "%.6g", x[i] == 0 ? 0.0 : x[i]);
    else
      weft_json_int(j, (int64_t)llround(x[i]));
  }
  weft_json_key(j, "ratio");
  if (v->ratio < 0)
    weft_json_null(j);
  else
    weft_json_double(j, "%.6g", v->ratio);
  weft_json_end_object(j);
}

static void j_str(WeftJsonWriter *j, const char *key, const char *s) {
  weft_json_key(j, key);
  if (s)
    weft_json_string(j, s);
  else
    weft_json_null(j);
}

static void j_side(WeftJsonWriter *j, const char *key, const WeftMetrics *m, const char *db) {
  weft_json_key(j, key);
  weft_json_begin_object(j);
  j_str(j, "database", db);
  weft_json_key(j, "range_start_ns");
  weft_json_int(j, m->range_start_ns);
  weft_json_key(j, "range_end_ns");
  weft_json_int(j, m->range_end_ns);
  weft_json_key(j, "whole");
  weft_json_bool(j, m->whole);
  weft_json_end_object(j);
}

void report_compare_json(WeftJsonWriter *j, const WeftCompare *c, const char *before_db, const char *after_db,
                         long top) {
  weft_json_begin_object(j);
  j_side(j, "before", c->before, before_db);
  j_side(j, "after", c->after, after_db);
  weft_json_key(j, "processes_matched");
  weft_json_int(j, (int64_t)c->processes_matched);
  weft_json_key(j, "processes_matched_by_executable");
  weft_json_int(j, (int64_t)c->processes_by_exe);
  weft_json_key(j, "summary");
  weft_json_begin_object(j);
  for (size_t i = 0; i < c->nfigures; i++)
    if (!c->figures[i].is_state) j_value(j, c->figures[i].key, c->figures[i].unit, &c->figures[i].v);
  weft_json_key(j, "states");
  weft_json_begin_object(j);
  for (size_t i = 0; i < c->nfigures; i++)
    if (c->figures[i].is_state) j_value(j, c->figures[i].key, c->figures[i].unit, &c->figures[i].v);
  weft_json_end_object(j);
  weft_json_end_object(j);
  weft_json_key(j, "sync_objects");
  weft_json_begin_array(j);
  for (size_t i = 0; i < cut(top, c->nobjects); i++) {
    const WeftCompareObject *o = &c->objects[i];
    weft_json_begin_object(j);
    j_str(j, "kind", o->kind_name);
    j_str(j, "name", o->name);
    j_str(j, "cmdline", o->cmdline);
    j_str(j, "change", weft_compare_change_name(o->change));
    weft_json_key(j, "objects_before");
    weft_json_int(j, (int64_t)o->nbefore);
    weft_json_key(j, "objects_after");
    weft_json_int(j, (int64_t)o->nafter);
    j_value(j, "wait_ns", WEFT_COMPARE_NS, &o->wait_ns);
    j_value(j, "waits", WEFT_COMPARE_NS, &o->waits);
    j_value(j, "contended", WEFT_COMPARE_NS, &o->contended);
    weft_json_end_object(j);
  }
  weft_json_end_array(j);
  weft_json_key(j, "findings");
  weft_json_begin_array(j);
  for (size_t i = 0; i < cut(top, c->nfindings); i++) {
    const WeftCompareFinding *fd = &c->findings[i];
    weft_json_begin_object(j);
    j_str(j, "kind", fd->kind_name);
    j_str(j, "title", fd->title);
    j_str(j, "change", weft_compare_change_name(fd->change));
    j_value(j, "cost_ns", WEFT_COMPARE_NS, &fd->cost_ns);
    weft_json_end_object(j);
  }
  weft_json_end_array(j);
  weft_json_end_object(j);
}
