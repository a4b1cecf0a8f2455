/* findings-python.c - the findings about parallel Python (see python.h and
 * docs/python.md).
 * SPDX-License-Identifier: MIT
 *
 * Groups of Python locks: one finding per group of objects made at one
 * site (findings.c leaves their members out).
 */
#include "analysis-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "python.h"

/* CPython makes a lock per Future, Event, Condition or Queue: many objects
 * of one creation site, told apart only by an ordinal ("... #17"), each with
 * a wait or two. They are one finding, not one per object. */
typedef struct {
  size_t      idx;    /* in m->objects */
  int64_t     upid;
  const char *base;   /* the name without " #k" */
  size_t      blen;
} PyGroupKey;

static int cmp_pygroup(const void *x, const void *y) {
  const PyGroupKey *a = x, *b = y;
  if (a->upid != b->upid) return (a->upid > b->upid) - (a->upid < b->upid);
  size_t n = a->blen < b->blen ? a->blen : b->blen;
  int r = strncmp(a->base, b->base, n);
  if (r) return r;
  if (a->blen != b->blen) return a->blen < b->blen ? -1 : 1;
  return (a->idx > b->idx) - (a->idx < b->idx);
}

static size_t ordinal_stripped(const char *name) {
  size_t n = strlen(name), k = n;
  while (k > 0 && name[k - 1] >= '0' && name[k - 1] <= '9') k--;
  return k < n && k >= 2 && name[k - 1] == '#' && name[k - 2] == ' ' ? k - 2 : n;
}

static bool is_pylock(const WeftMetrics *m, const WeftObjectMetrics *o) {
  return o->kind == WEFT_KIND_SEM && weft_python_process(m->python, o->upid) &&
         !weft_python_pool_of(m->python, o->upid) && !weft_python_is_gil_object(m->python, o->object_id);
}

/* Groups of 2+ Python locks with waits: one finding each; their members are
 * marked in grouped[]. */
bool find_pylock_groups(Ctx *c, FindVec *fv, int64_t min_cost, bool *grouped) {
  WeftMetrics *m = c->m;
  Pool *pl = c->pool;
  PyGroupKey *k = malloc((m->nobjects ? m->nobjects : 1) * sizeof *k);
  if (!k) return oom(c);
  size_t n = 0;
  for (size_t i = 0; i < m->nobjects; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    if (o->wait_ns <= 0 || !is_pylock(m, o) || !o->name) continue;
    size_t bl = ordinal_stripped(o->name);
    if (bl == strlen(o->name)) continue; /* no ordinal: a lock of its own site */
    k[n++] = (PyGroupKey){i, o->upid, o->name, bl};
  }
  qsort(k, n, sizeof *k, cmp_pygroup);
  for (size_t a = 0, b; a < n && !c->sql.failed; a = b) {
    int64_t wait = 0, crit = 0, waits = 0;
    size_t top = k[a].idx;
    for (b = a; b < n && k[b].upid == k[a].upid && k[b].blen == k[a].blen &&
                !strncmp(k[b].base, k[a].base, k[a].blen); b++) {
      const WeftObjectMetrics *o = &m->objects[k[b].idx];
      wait += o->wait_ns;
      crit += o->critical_share_ns;
      waits += o->waits;
      if (o->wait_ns > m->objects[top].wait_ns) top = k[b].idx;
    }
    if (b - a < 2) continue;
    for (size_t q = a; q < b; q++) grouped[k[q].idx] = true;
    int64_t cost = sat_add(wait, crit);
    if (wait < min_cost) continue;
    const WeftObjectMetrics *t = &m->objects[top];
    char b1[32], b2[32], b3[32];
    char *base = pool_printf(pl, "%.*s", (int)k[a].blen, k[a].base);
    char *title = pool_printf(pl, "%zu Python locks or semaphores made at %s: threads waited %s on them", b - a,
                              base ? base : "", weft_format_ns(b1, sizeof b1, wait));
    char *evidence = pool_printf(pl, "%lld waits in all; the longest %s on %s (waited %s in all); CPython makes "
                                     "one per Future, Event, Condition or Queue",
                                 (long long)waits, weft_format_ns(b2, sizeof b2, t->wait_max_ns), t->label,
                                 weft_format_ns(b3, sizeof b3, t->wait_ns));
    add_finding(c, fv, WEFT_FIND_CONTENTION, cost, title, evidence,
                pool_strdup(pl, "waits for results (Future.result(), Event.wait(), Queue.get()) are idle by design "
                                "when the waiting thread has nothing else to do; if they hold up the run, the work "
                                "they wait for is the thing to speed up (see the critical path); if threads "
                                "contend for one lock, hold it for less time"),
                t->object_id, -1, -1);
  }
  free(k);
  return !c->sql.failed;
}
