/* scale-baseline.c - read a weft scale JSON report back as a baseline.
 * SPDX-License-Identifier: MIT
 *
 * Only what the comparison needs is read: the command, the configuration,
 * the machine, each point's samples and its traced budget. Everything else
 * is recomputed from the samples by weft_scale_analyze(), so a baseline
 * written by an older weft gets today's statistics. Every field read is
 * checked; the first problem is reported in one line naming the file and
 * the field.
 */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "scale.h"

typedef struct {
  const char *path;
  char *err;
  size_t errlen;
  int failed;
} Ctx;

static void fail(Ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(Ctx *c, const char *fmt, ...) {
  if (c->failed) return;
  c->failed = 1;
  va_list ap;
  va_start(ap, fmt);
  char *m = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  snprintf(c->err, c->errlen, "baseline %s: %s", c->path, m);
  g_free(m);
}

static JsonNode *member(JsonObject *o, const char *k) {
  return o && json_object_has_member(o, k) ? json_object_get_member(o, k) : NULL;
}

static JsonObject *get_obj(Ctx *c, JsonObject *o, const char *k, const char *where, int optional) {
  JsonNode *n = member(o, k);
  if (n && JSON_NODE_HOLDS_OBJECT(n)) return json_node_get_object(n);
  if (optional && (!n || JSON_NODE_HOLDS_NULL(n))) return NULL;
  fail(c, "%s%s: expected an object", where, k);
  return NULL;
}

static JsonArray *get_arr(Ctx *c, JsonObject *o, const char *k, const char *where, int optional) {
  JsonNode *n = member(o, k);
  if (n && JSON_NODE_HOLDS_ARRAY(n)) return json_node_get_array(n);
  if (optional && (!n || JSON_NODE_HOLDS_NULL(n))) return NULL;
  fail(c, "%s%s: expected an array", where, k);
  return NULL;
}

static int is_number(JsonNode *n) {
  if (!n || !JSON_NODE_HOLDS_VALUE(n)) return 0;
  GType t = json_node_get_value_type(n);
  return t == G_TYPE_INT64 || t == G_TYPE_DOUBLE;
}

/* A number; NAN (without failing) if optional and absent or null. */
static double get_num(Ctx *c, JsonObject *o, const char *k, const char *where, int optional) {
  JsonNode *n = member(o, k);
  if (is_number(n)) return json_node_get_double(n);
  if (optional && (!n || JSON_NODE_HOLDS_NULL(n))) return NAN;
  fail(c, "%s%s: expected a number", where, k);
  return NAN;
}

static int get_int(Ctx *c, JsonObject *o, const char *k, const char *where, int lo, int hi) {
  JsonNode *n = member(o, k);
  if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64) {
    gint64 v = json_node_get_int(n);
    if (v >= lo && v <= hi) return (int)v;
  }
  fail(c, "%s%s: expected a whole number from %d to %d", where, k, lo, hi);
  return lo;
}

static char *get_str(Ctx *c, JsonObject *o, const char *k, const char *where) {
  JsonNode *n = member(o, k);
  if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
    return g_strdup(json_node_get_string(n));
  fail(c, "%s%s: expected a string", where, k);
  return g_strdup("");
}

static int get_bool(Ctx *c, JsonObject *o, const char *k, const char *where) {
  JsonNode *n = member(o, k);
  if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN) return json_node_get_boolean(n);
  fail(c, "%s%s: expected true or false", where, k);
  return 0;
}

/* An array of n numbers (all > 0 if positive) into a new array; NULL if
 * optional and absent. */
static double *get_samples(Ctx *c, JsonObject *o, const char *k, const char *where, int optional, size_t *n,
                           int positive) {
  JsonArray *a = get_arr(c, o, k, where, optional);
  if (!a) return NULL;
  guint len = json_array_get_length(a);
  double *v = g_new(double, len ? len : 1);
  for (guint i = 0; i < len; i++) {
    JsonNode *e = json_array_get_element(a, i);
    v[i] = is_number(e) ? json_node_get_double(e) : NAN;
    if (!isfinite(v[i]) || (positive ? v[i] <= 0 : v[i] < 0)) {
      fail(c, "%s%s[%u]: expected a %s number", where, k, i, positive ? "positive" : "non-negative");
      break;
    }
  }
  *n = len;
  return v;
}

static void read_trace(Ctx *c, JsonObject *t, WeftScalePoint *p, const char *where) {
  WeftScaleTrace *tr = &p->trace;
  char *w = g_strdup_printf("%strace.", where);
  tr->wall_s = get_num(c, t, "wall_s", w, 0);
  tr->other_cpus = json_object_has_member(t, "other_cpus") ? get_num(c, t, "other_cpus", w, 0) : 0;
  tr->lb = get_num(c, t, "lb", w, 1);
  tr->sync_e = get_num(c, t, "sync_e", w, 1);
  tr->pe = get_num(c, t, "pe", w, 1);
  char *wb = g_strdup_printf("%sbudget_thread_s.", w);
  JsonObject *b = get_obj(c, t, "budget_thread_s", w, 0);
  if (b) {
    tr->capacity_ts = get_num(c, b, "capacity", wb, 0);
    tr->useful_ts = get_num(c, b, "useful", wb, 0);
    tr->lock_wait_ts = get_num(c, b, "lock_wait", wb, 0);
    tr->other_wait_ts = get_num(c, b, "other_wait", wb, 0);
    tr->gil_wait_ts = json_object_has_member(b, "gil_wait") ? get_num(c, b, "gil_wait", wb, 0) : 0;
    tr->runq_ts = json_object_has_member(b, "runq") ? get_num(c, b, "runq", wb, 0) : 0;
    tr->idle_ts = get_num(c, b, "idle", wb, 0);
    tr->ipc_ts = json_object_has_member(b, "ipc") ? get_num(c, b, "ipc", wb, 0) : 0;
    tr->ipc_lock_ts = json_object_has_member(b, "ipc_lock") ? get_num(c, b, "ipc_lock", wb, 0) : 0;
    tr->startup_ts = json_object_has_member(b, "startup") ? get_num(c, b, "startup", wb, 0) : 0;
  }
  tr->ipc_bytes = json_object_has_member(t, "ipc_bytes") ? get_num(c, t, "ipc_bytes", w, 0) : 0;
  JsonArray *locks = get_arr(c, t, "locks", w, 0);
  for (guint i = 0; locks && i < json_array_get_length(locks) && !c->failed; i++) {
    JsonNode *e = json_array_get_element(locks, i);
    char *wl = g_strdup_printf("%slocks[%u].", w, i);
    if (!JSON_NODE_HOLDS_OBJECT(e)) {
      fail(c, "%slocks[%u]: expected an object", w, i);
    } else {
      JsonObject *lo = json_node_get_object(e);
      tr->locks = g_renew(WeftScaleLock, tr->locks, tr->nlocks + 1);
      WeftScaleLock *l = &tr->locks[tr->nlocks++];
      l->label = get_str(c, lo, "label", wl);
      l->kind = get_str(c, lo, "kind", wl);
      l->wait_ts = get_num(c, lo, "wait_thread_s", wl, 0);
    }
    g_free(wl);
  }
  JsonObject *hl = json_object_has_member(t, "held_lock") && !json_object_get_null_member(t, "held_lock")
                       ? get_obj(c, t, "held_lock", w, 0)
                       : NULL;
  if (hl) {
    char *wh = g_strdup_printf("%sheld_lock.", w);
    tr->held_lock = get_str(c, hl, "label", wh);
    tr->held_share = get_num(c, hl, "share", wh, 0);
    g_free(wh);
  }
  tr->ok = !c->failed;
  g_free(wb);
  g_free(w);
}

WeftScale *weft_scale_load(const char *path, char *err, size_t errlen) {
  Ctx c = {path, err, errlen, 0};
  JsonParser *parser = json_parser_new();
  GError *gerr = NULL;
  if (!json_parser_load_from_file(parser, path, &gerr)) {
    /* GLib's error message, not errno: errno is stale by now (a directory
     * gave "No such file or directory") */
    if (gerr->domain == G_FILE_ERROR)
      snprintf(err, errlen, "baseline %s: %s", path,
               gerr->code == G_FILE_ERROR_NOENT   ? "no such file (use --baseline-optional on a first run)"
               : gerr->code == G_FILE_ERROR_ISDIR ? "a directory, not a JSON report"
                                                  : gerr->message);
    else
      snprintf(err, errlen, "baseline %s: not JSON: %s", path, gerr->message);
    g_error_free(gerr);
    g_object_unref(parser);
    return NULL;
  }
  JsonNode *root = json_parser_get_root(parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    snprintf(err, errlen, "baseline %s: not a weft scale report (the JSON is not an object)", path);
    g_object_unref(parser);
    return NULL;
  }
  JsonObject *o = json_node_get_object(root);
  JsonNode *ver = member(o, "weft_scale_version");
  if (!ver) {
    snprintf(err, errlen, "baseline %s: not a weft scale report (no weft_scale_version%s)", path,
             member(o, "weft_report_version") ? "; it is a `weft report` JSON" : "");
    g_object_unref(parser);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_VALUE(ver) || json_node_get_value_type(ver) != G_TYPE_INT64 ||
      json_node_get_int(ver) != WEFT_SCALE_JSON_VERSION) {
    snprintf(err, errlen, "baseline %s: weft_scale_version is not %d: written by another version of weft", path,
             WEFT_SCALE_JSON_VERSION);
    g_object_unref(parser);
    return NULL;
  }
  WeftScale *s = g_new0(WeftScale, 1);
  JsonNode *failure = member(o, "failure");
  if (failure && !JSON_NODE_HOLDS_NULL(failure)) fail(&c, "the run it records failed; it cannot be a baseline");

  JsonArray *cmd = get_arr(&c, o, "command", "", 0);
  if (cmd) {
    s->argc = (int)json_array_get_length(cmd);
    s->argv = g_new0(char *, (size_t)s->argc + 1);
    for (int i = 0; i < s->argc; i++) {
      JsonNode *e = json_array_get_element(cmd, (guint)i);
      if (e && JSON_NODE_HOLDS_VALUE(e) && json_node_get_value_type(e) == G_TYPE_STRING)
        s->argv[i] = g_strdup(json_node_get_string(e));
      else {
        s->argv[i] = g_strdup("");
        fail(&c, "command[%d]: expected a string", i);
      }
    }
  }
  JsonObject *cfg = get_obj(&c, o, "config", "", 0);
  if (cfg) {
    s->repeat = get_int(&c, cfg, "repeat", "config.", 1, 100000);
    s->warmup = get_int(&c, cfg, "warmup", "config.", 0, 100000);
    double seed = get_num(&c, cfg, "seed", "config.", 0);
    s->seed = isfinite(seed) && seed >= 0 ? (uint64_t)seed : 1;
    s->bootstrap = get_int(&c, cfg, "bootstrap", "config.", 0, 1000000);
    s->explain = get_bool(&c, cfg, "explain", "config.");
  }
  JsonObject *m = get_obj(&c, o, "machine", "", 0);
  if (m) {
    s->machine.cpu_model = get_str(&c, m, "cpu_model", "machine.");
    s->machine.logical_cpus = get_int(&c, m, "logical_cpus", "machine.", 1, 1 << 20);
    s->machine.physical_cores = get_int(&c, m, "physical_cores", "machine.", 1, 1 << 20);
    s->machine.usable_cpus = get_int(&c, m, "usable_cpus", "machine.", 1, 1 << 20);
    s->machine.smt = get_bool(&c, m, "smt", "machine.");
    s->machine.usable_source = get_str(&c, m, "usable_source", "machine.");
    s->machine.kernel = get_str(&c, m, "kernel", "machine.");
  }
  JsonArray *pts = get_arr(&c, o, "points", "", 0);
  if (pts && !json_array_get_length(pts)) fail(&c, "points: empty");
  if (pts && !c.failed) {
    s->npoints = json_array_get_length(pts);
    s->points = g_new0(WeftScalePoint, s->npoints);
    for (size_t i = 0; i < s->npoints && !c.failed; i++) {
      char *w = g_strdup_printf("points[%zu].", i);
      JsonNode *e = json_array_get_element(pts, (guint)i);
      if (!JSON_NODE_HOLDS_OBJECT(e)) {
        fail(&c, "points[%zu]: expected an object", i);
        g_free(w);
        break;
      }
      JsonObject *po = json_node_get_object(e);
      WeftScalePoint *p = &s->points[i];
      p->threads = get_int(&c, po, "threads", w, 1, 4096);
      if (i && p->threads <= s->points[i - 1].threads)
        fail(&c, "%sthreads: the points are not in ascending order of threads", w);
      p->oversubscribed = get_bool(&c, po, "oversubscribed", w);
      p->smt = get_bool(&c, po, "smt", w);
      p->samples_s = get_samples(&c, po, "samples_s", w, 0, &p->nsamples, 1);
      if (!c.failed && !p->nsamples) fail(&c, "%ssamples_s: empty", w);
      size_t nu = 0, ns = 0;
      p->user_s = get_samples(&c, po, "user_s", w, 1, &nu, 0);
      p->sys_s = get_samples(&c, po, "sys_s", w, 1, &ns, 0);
      if (!c.failed && ((p->user_s && nu != p->nsamples) || (p->sys_s && ns != p->nsamples)))
        fail(&c, "%suser_s/sys_s: not as long as samples_s", w);
      size_t no = 0, nt = 0; /* absent before the noise check */
      p->other_s = get_samples(&c, po, "other_cpu_s", w, 1, &no, 0);
      p->steal_s = get_samples(&c, po, "steal_s", w, 1, &nt, 0);
      if (!c.failed && ((p->other_s && no != p->nsamples) || (p->steal_s && nt != p->nsamples)))
        fail(&c, "%sother_cpu_s/steal_s: not as long as samples_s", w);
      JsonObject *t = get_obj(&c, po, "trace", w, 1);
      if (t && !c.failed) read_trace(&c, t, p, w);
      g_free(w);
    }
  }
  g_object_unref(parser);
  if (c.failed) {
    weft_scale_free(s);
    return NULL;
  }
  s->threads = g_new(int, s->npoints);
  s->nthreads = s->npoints;
  for (size_t i = 0; i < s->npoints; i++) s->threads[i] = s->points[i].threads;
  s->alpha = 0.01;
  s->min_effect = 0.05;
  s->efficiency_drop = 0.05;
  return s;
}
