/* compare.c - two recordings side by side (compare.h).
 * SPDX-License-Identifier: MIT
 *
 * Only pairs numbers weft_metrics_compute() made: the figures of the
 * summary, the objects matched by kind, name and process, the findings by
 * kind and object name or title without numbers.
 */
#include "compare.h"

#include <ctype.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *weft_compare_change_name(WeftCompareChange c) {
  return c == WEFT_COMPARE_APPEARED ? "appeared" : c == WEFT_COMPARE_GONE ? "gone" : "both";
}

static WeftCompareValue value(double before, double after) {
  return (WeftCompareValue){before, after, after - before, before != 0 ? after / before : -1};
}

/* ---- the summary ---- */

typedef struct {
  const char *key, *label;
  WeftCompareUnit unit;
  double (*get)(const WeftMetrics *m);
} FigureDef;

static double f_span(const WeftMetrics *m) { return (double)m->summary.span_ns; }
static double f_thread(const WeftMetrics *m) { return (double)m->summary.thread_ns; }
static double f_oncpu(const WeftMetrics *m) { return (double)m->summary.time.oncpu_ns; }
static double f_runnable(const WeftMetrics *m) { return (double)m->summary.time.runnable_ns; }
static double f_waiting(const WeftMetrics *m) { return (double)m->summary.time.waiting_ns; }
static double f_offcpu(const WeftMetrics *m) { return (double)m->summary.time.offcpu_ns; }
static double f_pe(const WeftMetrics *m) { return m->summary.pop.pe; }
static double f_lb(const WeftMetrics *m) { return m->summary.pop.lb; }
static double f_synce(const WeftMetrics *m) { return m->summary.pop.synce; }
static double f_par(const WeftMetrics *m) { return m->parallelism.average; }

static const FigureDef figure_defs[] = {
    {"span_ns", "run length", WEFT_COMPARE_NS, f_span},
    {"thread_ns", "thread time", WEFT_COMPARE_NS, f_thread},
    {"oncpu_ns", "on a CPU", WEFT_COMPARE_NS, f_oncpu},
    {"runnable_ns", "runnable", WEFT_COMPARE_NS, f_runnable},
    {"waiting_ns", "waiting", WEFT_COMPARE_NS, f_waiting},
    {"offcpu_ns", "off a CPU", WEFT_COMPARE_NS, f_offcpu},
    {"parallel_efficiency", "parallel efficiency", WEFT_COMPARE_FRACTION, f_pe},
    {"load_balance", "load balance", WEFT_COMPARE_FRACTION, f_lb},
    {"sync_efficiency", "sync efficiency", WEFT_COMPARE_FRACTION, f_synce},
    {"average_parallelism", "average parallelism", WEFT_COMPARE_NUMBER, f_par},
};
#define NFIGURE_DEFS (sizeof figure_defs / sizeof figure_defs[0])

static void compare_figures(WeftCompare *c) {
  const WeftMetrics *b = c->before, *a = c->after;
  size_t n = 0;
  for (size_t i = 0; i < NFIGURE_DEFS; i++) {
    const FigureDef *d = &figure_defs[i];
    WeftCompareFigure *f = &c->figures[n++];
    g_strlcpy(f->key, d->key, sizeof f->key);
    f->label = d->label;
    f->unit = d->unit;
    f->v = value(d->get(b), d->get(a));
  }
  for (int s = 1; s < WEFT_ST_COUNT; s++) {
    int64_t x = b->summary.state_ns[s], y = a->summary.state_ns[s];
    if (!x && !y) continue;
    WeftCompareFigure *f = &c->figures[n++];
    snprintf(f->key, sizeof f->key, "%s_ns", weft_state_name(s));
    f->label = weft_state_name(s);
    f->unit = WEFT_COMPARE_NS;
    f->is_state = 1;
    f->v = value((double)x, (double)y);
  }
  c->nfigures = n;
}

/* ---- processes: by command line, else by executable, in order of start ---- */

typedef struct {
  int64_t start_ns, upid;
  size_t i;
} ProcOrder;

static int cmp_start(const void *x, const void *y) {
  const ProcOrder *a = x, *b = y;
  if (a->start_ns != b->start_ns) return a->start_ns < b->start_ns ? -1 : 1;
  return (a->upid > b->upid) - (a->upid < b->upid);
}

/* the indexes of m's processes in order of start */
static size_t *by_start(const WeftMetrics *m) {
  ProcOrder *o = g_new(ProcOrder, m->nprocesses + 1);
  for (size_t i = 0; i < m->nprocesses; i++) o[i] = (ProcOrder){m->processes[i].start_ns, m->processes[i].upid, i};
  qsort(o, m->nprocesses, sizeof *o, cmp_start);
  size_t *v = g_new(size_t, m->nprocesses + 1);
  for (size_t i = 0; i < m->nprocesses; i++) v[i] = o[i].i;
  g_free(o);
  return v;
}

/* pair[i] of after's process i: the index of before's process paired with it, or -1 */
static ptrdiff_t *pair_processes(WeftCompare *c) {
  const WeftMetrics *b = c->before, *a = c->after;
  ptrdiff_t *pair = g_new(ptrdiff_t, a->nprocesses + 1);
  gboolean *taken = g_new0(gboolean, b->nprocesses + 1);
  size_t *oa = by_start(a), *ob = by_start(b);
  for (size_t i = 0; i < a->nprocesses; i++) pair[i] = -1;
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < a->nprocesses; i++) {
      const WeftProcessMetrics *pa = &a->processes[oa[i]];
      if (pair[oa[i]] >= 0) continue;
      for (size_t k = 0; k < b->nprocesses; k++) {
        const WeftProcessMetrics *pb = &b->processes[ob[k]];
        if (taken[ob[k]] || strcmp(pass ? pa->exe : pa->cmdline, pass ? pb->exe : pb->cmdline)) continue;
        if (pass && !*pa->exe) continue; /* an unknown executable pairs nothing */
        pair[oa[i]] = (ptrdiff_t)ob[k];
        taken[ob[k]] = TRUE;
        c->processes_matched++;
        c->processes_by_exe += pass;
        break;
      }
    }
  g_free(oa);
  g_free(ob);
  g_free(taken);
  return pair;
}

/* ---- objects ---- */

static ptrdiff_t proc_index(const WeftMetrics *m, int64_t upid) {
  const WeftProcessMetrics *p = weft_metrics_process(m, upid);
  return p ? p - m->processes : -1;
}

/* The row of (kind, name, process group) in rows, added when new. Process
 * group: after's process index, or for a before process without a pair
 * nprocesses(after) + its index, so it matches nothing of after. */
static WeftCompareObject *object_row(GHashTable *index, GArray *rows, const WeftObjectMetrics *o, ptrdiff_t group,
                                     const char *cmdline) {
  char *key = g_strdup_printf("%s\x1f%s\x1f%td", o->kind_name, o->name, group);
  gpointer v;
  if (g_hash_table_lookup_extended(index, key, NULL, &v)) {
    g_free(key);
    return &g_array_index(rows, WeftCompareObject, GPOINTER_TO_SIZE(v));
  }
  WeftCompareObject r = {.kind_name = o->kind_name, .name = o->name, .cmdline = cmdline};
  g_array_append_val(rows, r);
  g_hash_table_insert(index, key, GSIZE_TO_POINTER(rows->len - 1));
  return &g_array_index(rows, WeftCompareObject, rows->len - 1);
}

static int cmp_object(const void *x, const void *y) {
  const WeftCompareObject *a = x, *b = y;
  double ma = a->wait_ns.before > a->wait_ns.after ? a->wait_ns.before : a->wait_ns.after;
  double mb = b->wait_ns.before > b->wait_ns.after ? b->wait_ns.before : b->wait_ns.after;
  if (ma != mb) return ma > mb ? -1 : 1;
  int k = strcmp(a->kind_name, b->kind_name);
  if (k) return k;
  k = strcmp(a->name, b->name);
  return k ? k : strcmp(a->cmdline, b->cmdline);
}

static void compare_objects(WeftCompare *c, const ptrdiff_t *pair) {
  const WeftMetrics *b = c->before, *a = c->after;
  /* before's process index -> group (after's index of its pair) */
  ptrdiff_t *group_b = g_new(ptrdiff_t, b->nprocesses + 1);
  for (size_t i = 0; i < b->nprocesses; i++) group_b[i] = (ptrdiff_t)(a->nprocesses + i);
  for (size_t i = 0; i < a->nprocesses; i++)
    if (pair[i] >= 0) group_b[pair[i]] = (ptrdiff_t)i;
  GHashTable *index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  GArray *rows = g_array_new(FALSE, TRUE, sizeof(WeftCompareObject));
  for (int side = 0; side < 2; side++) {
    const WeftMetrics *m = side ? a : b;
    for (size_t i = 0; i < m->nobjects; i++) {
      const WeftObjectMetrics *o = &m->objects[i];
      ptrdiff_t pi = proc_index(m, o->upid);
      ptrdiff_t group = pi < 0 ? -1 : side ? pi : group_b[pi];
      const char *cmd = pi < 0 ? "" : m->processes[pi].cmdline;
      WeftCompareObject *r = object_row(index, rows, o, group, cmd);
      if (side) r->cmdline = cmd; /* after's command line when on both */
      WeftCompareValue *w[3] = {&r->wait_ns, &r->waits, &r->contended};
      double x[3] = {(double)o->wait_ns, (double)o->waits, (double)o->contended};
      for (int k = 0; k < 3; k++) *(side ? &w[k]->after : &w[k]->before) += x[k];
      *(side ? &r->nafter : &r->nbefore) += 1;
    }
  }
  for (guint i = 0; i < rows->len; i++) {
    WeftCompareObject *r = &g_array_index(rows, WeftCompareObject, i);
    r->change = !r->nbefore ? WEFT_COMPARE_APPEARED : !r->nafter ? WEFT_COMPARE_GONE : WEFT_COMPARE_BOTH;
    r->wait_ns = value(r->wait_ns.before, r->wait_ns.after);
    r->waits = value(r->waits.before, r->waits.after);
    r->contended = value(r->contended.before, r->contended.after);
  }
  c->nobjects = rows->len;
  c->objects = (WeftCompareObject *)(void *)g_array_free(rows, FALSE);
  qsort(c->objects, c->nobjects, sizeof *c->objects, cmp_object);
  g_hash_table_destroy(index);
  g_free(group_b);
}

/* ---- findings ---- */

/* s with every number (and the unit right after it) replaced by '#': the
 * same finding of two recordings has other numbers in its title. A digit
 * inside a word ("worker-1", "fx.c") is part of a name and stays. */
static char *title_shape(const char *s) {
  static const char *const units[] = {"ns", "µs", "us", "ms", "s", "min", "h", "%", "x"};
  GString *out = g_string_new(NULL);
  for (const char *p = s; *p;) {
    char prev = p > s ? p[-1] : ' ';
    if (!isdigit((unsigned char)*p) || isalnum((unsigned char)prev) || strchr("-_.:#", prev)) {
      g_string_append_c(out, *p++);
      continue;
    }
    while (isdigit((unsigned char)*p) || ((*p == '.' || *p == ',') && isdigit((unsigned char)p[1]))) p++;
    const char *q = *p == ' ' ? p + 1 : p;
    for (size_t u = 0; u < G_N_ELEMENTS(units); u++) {
      size_t n = strlen(units[u]);
      if (!strncmp(q, units[u], n) && !isalpha((unsigned char)q[n])) {
        p = q + n;
        break;
      }
    }
    g_string_append_c(out, '#');
  }
  return g_string_free(out, FALSE);
}

static const WeftObjectMetrics *object_by_id(const WeftMetrics *m, int64_t id) {
  for (size_t i = 0; i < m->nobjects; i++)
    if (m->objects[i].object_id == id) return &m->objects[i];
  return NULL;
}

static char *finding_key(const WeftMetrics *m, const WeftFinding *f) {
  const WeftObjectMetrics *o = f->object_id >= 0 ? object_by_id(m, f->object_id) : NULL;
  if (o) return g_strdup_printf("%s\x1fobject\x1f%s\x1f%s", f->kind_name, o->kind_name, o->name);
  char *shape = title_shape(f->title);
  char *key = g_strdup_printf("%s\x1ftitle\x1f%s", f->kind_name, shape);
  g_free(shape);
  return key;
}

static void compare_findings(WeftCompare *c) {
  const WeftMetrics *b = c->before, *a = c->after;
  /* before's findings by key: a list of indexes each, matched in rank order */
  GHashTable *open = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  char **kb = g_new0(char *, b->nfindings + 1);
  gboolean *used = g_new0(gboolean, b->nfindings + 1);
  for (size_t i = b->nfindings; i-- > 0;) {
    kb[i] = finding_key(b, &b->findings[i]);
    GSList *l = g_hash_table_lookup(open, kb[i]);
    g_hash_table_replace(open, g_strdup(kb[i]), g_slist_prepend(l, GSIZE_TO_POINTER(i)));
  }
  GArray *both = g_array_new(FALSE, TRUE, sizeof(WeftCompareFinding));
  GArray *out = g_array_new(FALSE, TRUE, sizeof(WeftCompareFinding));
  for (size_t i = 0; i < a->nfindings; i++) {
    const WeftFinding *f = &a->findings[i];
    char *k = finding_key(a, f);
    GSList *l = g_hash_table_lookup(open, k);
    WeftCompareFinding r = {f->kind_name, f->title, WEFT_COMPARE_APPEARED, value(0, (double)f->cost_ns),
                            weft_finding_is_warning(f)};
    if (l) {
      size_t j = GPOINTER_TO_SIZE(l->data);
      used[j] = TRUE;
      g_hash_table_replace(open, g_strdup(k), l->next);
      l->next = NULL;
      g_slist_free(l);
      r.change = WEFT_COMPARE_BOTH;
      r.cost_ns = value((double)b->findings[j].cost_ns, (double)f->cost_ns);
    }
    g_array_append_val(r.change == WEFT_COMPARE_BOTH ? both : out, r);
    g_free(k);
  }
  for (size_t j = 0; j < b->nfindings; j++) {
    if (used[j]) continue;
    const WeftFinding *f = &b->findings[j];
    WeftCompareFinding r = {f->kind_name, f->title, WEFT_COMPARE_GONE, value((double)f->cost_ns, 0),
                            weft_finding_is_warning(f)};
    g_array_append_val(out, r);
  }
  g_array_append_vals(out, both->data, both->len);
  g_array_free(both, TRUE);
  c->nfindings = out->len;
  c->findings = (WeftCompareFinding *)(void *)g_array_free(out, FALSE);
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, open);
  while (g_hash_table_iter_next(&it, NULL, &v)) g_slist_free(v);
  g_hash_table_destroy(open);
  for (size_t i = 0; i < b->nfindings; i++) g_free(kb[i]);
  g_free(kb);
  g_free(used);
}

WeftCompare *weft_compare(const WeftMetrics *before, const WeftMetrics *after) {
  WeftCompare *c = g_new0(WeftCompare, 1);
  c->before = before;
  c->after = after;
  c->figures = g_new0(WeftCompareFigure, NFIGURE_DEFS + WEFT_ST_COUNT);
  compare_figures(c);
  ptrdiff_t *pair = pair_processes(c);
  compare_objects(c, pair);
  g_free(pair);
  compare_findings(c);
  return c;
}

void weft_compare_free(WeftCompare *c) {
  if (!c) return;
  g_free(c->figures);
  g_free(c->objects);
  g_free(c->findings);
  g_free(c);
}
