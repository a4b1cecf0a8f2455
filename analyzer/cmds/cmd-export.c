/* cmd-export.c - weft export: a recording as Chrome Trace Event Format JSON or
 * as Perfetto's native protobuf trace.
 * SPDX-License-Identifier: MIT
 *
 *   weft export run.db [--format chrome|perfetto] [-o FILE|-] [--no-running]
 *                      [--no-holds] [--no-flows]
 *
 * Both formats say the same things, from the same queries and the same
 * descriptions of each row (describe_state, the hold and flow names); only
 * the writing differs. --format perfetto (weft-perfetto.h) writes a track
 * descriptor per process image (the pid below) and per thread, slices (a
 * begin and an end event) where the JSON has X and b/e events, holds and
 * phases on tracks of their own under the process (one per lock, per shared
 * reader, per thread's phases: a hold may span waits, so it cannot nest in the
 * thread's slices), marks as instants, and each flow as two instants at the
 * JSON's s and f times: flow_ids on the first, terminating_flow_ids on the
 * second. Perfetto binds a flow id to the slice of the event that carries it
 * and joins them in time order; a wait's slice starts before the slice of the
 * thread that ended it, so ids on the slices would draw the arrow backwards.
 * Times are ns from the recording's start on Perfetto's default clock; the
 * meta table is not written.
 *
 * The JSON opens in Perfetto UI (ui.perfetto.dev) and chrome://tracing. It is
 * the JSON object form of the Trace Event Format:
 *
 *   {"traceEvents": [ ... ], "displayTimeUnit": "ns", "metadata": { meta table }}
 *
 * Events, in this order (viewers sort by time themselves):
 *   M  process_name, process_sort_index: pid = process.pid; when a pid has
 *      several images (exec, pid reuse) each image is a process of its own,
 *      pid = upid (moved above any real pid if it would collide), named
 *      "PID exe (image N)"; in a recording of several hosts every name ends
 *      in " (host NAME)" (pids repeat across hosts: the same rule keeps
 *      them apart). thread_name, thread_sort_index: tid = thread.tid.
 *      Metadata events carry the start time as ts, so a viewer that keys
 *      thread names by tid (Perfetto) names a reused tid right.
 *   X  every thread_state interval: waits named "STATE OBJECT" (category =
 *      the state name; args: object, blocker and waker tids, result, where:
 *      the innermost frame of the wait's stack), and "running" intervals
 *      unless --no-running. They tile each thread, so they nest trivially.
 *   b/e  lock holds of the objects that were contended, "hold OBJECT", as
 *      async slices (category "hold", id "o<object_id>", one track per lock;
 *      shared rwlock holds "o<object_id>r<utid>", one per reader): a hold
 *      starts and ends inside running intervals and may span waits, so as X
 *      events on the thread it would break the nesting of the thread track.
 *   i, b/e  marks and phases from weft.h: instants on the thread, phases as
 *      async slices (category "mark", id "m<utid>").
 *   s/f  flows, category and name = the flow kind, id = flow_id. The start is
 *      put 1 ns before from_ns (inside the slice that was running) and the
 *      finish (binding point "e", the enclosing slice) 1 ns before to_ns for
 *      a wait's end (inside the wait it ended) or 1 ns after it for a thread's
 *      start (inside its first interval), so each arrow binds to the slice it
 *      is about whatever order a viewer gives equal timestamps. An end that
 *      would fall outside its thread's life is moved just inside it.
 *
 * Times: "ts" and "dur" are microseconds, written exactly as NNN.NNN5: the
 * nanoseconds plus half a nanosecond. Readers convert with a truncating
 * (int64)(x * 1000.0) (Perfetto); 1% of plain 3-decimal values would come
 * back 1 ns short and make adjacent intervals overlap, which Perfetto answers
 * by dropping slices. The half nanosecond keeps every value exact.
 *
 * Strings are JSON-escaped by weft_json_write (weft-json.h: bytes that are not
 * UTF-8 become U+FFFD, as in every JSON weft writes). The output is opened
 * with weft_output_open (weft-output.h): a file is streamed (nothing is built
 * in memory but the names of processes, threads and objects) to
 * FILE.tmpXXXXXX and renamed at the end, so a failed export leaves no partial
 * file; a FIFO or a device is written as a stream; the recording itself is
 * never the output.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft-cli.h"
#include "naming.h"
#include "query.h"
#include "weft-db.h"
#include "weft-json.h"
#include "weft-hmap.h"
#include "weft-output.h"
#include "weft-perfetto.h"

/* ------------------------------------------------------------ JSON output */

/* Nanoseconds as exact microseconds: NNN.NNN5 (see the file comment). */
static void json_us(FILE *f, int64_t ns) {
  uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
  fprintf(f, "%s%" PRIu64 ".%03" PRIu64 "5", ns < 0 ? "-" : "", a / 1000, a % 1000);
}

/* ------------------------------------------------------------ names */

/* Sorted id -> value tables, filled in id order by the queries below. */
typedef struct {
  int64_t id;
  int64_t jpid;      /* the pid the output uses */
  int64_t tid, upid; /* threads */
  int64_t start_ns, end_ns;
  char *name; /* g_malloc'ed */
} Ent;

typedef struct {
  Ent *v;
  size_t n, cap;
} Table;

static Ent *table_add(Table *t, int64_t id) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 256;
    Ent *v = realloc(t->v, cap * sizeof *v);
    if (!v) return NULL;
    t->v = v;
    t->cap = cap;
  }
  Ent *e = &t->v[t->n++];
  memset(e, 0, sizeof *e);
  e->id = id;
  return e;
}

static const Ent *table_find(const Table *t, int64_t id) {
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->v[mid].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < t->n && t->v[lo].id == id ? &t->v[lo] : NULL;
}

typedef struct {
  int64_t id;
  char *name;
} ObjName;

typedef struct {
  const char *db_path, *out_path;
  sqlite3 *db;
  WeftQuery q; /* its first error: "weft export: DB: <what SQLite said>" */
  FILE *f;
  int first;            /* no event written yet: no comma before the next */
  Table procs, threads; /* by upid, by utid */
  ObjName *objs;        /* by object_id, sorted */
  size_t nobjs;
  uint64_t events;
  WeftPerfetto *pf; /* --format perfetto; NULL for chrome */
  WeftHMap tracks;  /* Perfetto tracks of holds and phases (pf_track) */
} Export;

/* Perfetto track uuids: small numbers, as they are in every event. */
static uint64_t uuid_thread(int64_t utid) { return 4 * (uint64_t)utid + 1; }
static uint64_t uuid_process(int64_t upid) { return 4 * (uint64_t)upid + 2; }
static uint64_t uuid_other(size_t n) { return 4 * (uint64_t)n + 3; }

static const char *obj_name(const Export *x, int64_t id) {
  size_t lo = 0, hi = x->nobjs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (x->objs[mid].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < x->nobjs && x->objs[lo].id == id ? x->objs[lo].name : NULL;
}

static void begin_event(Export *x) {
  fputs(x->first ? "\n" : ",\n", x->f);
  x->first = 0;
  x->events++;
}

static int out_of_memory(WeftCursor *c) {
  weft_cursor_close(c);
  fprintf(stderr, "weft export: out of memory\n");
  return -1;
}

/* Object display names: weft_object_display_name (naming.h), the names
 * `weft report` and `weft record` use. */
static int load_objects(Export *x) {
  WeftCursor c;
  weft_query_object_ids(&x->q, &c);
  if (c.failed) return weft_cursor_close(&c);
  WeftObjectNamer *namer = weft_object_namer_new(x->db);
  if (!namer) {
    weft_sql_error(&x->q.sql);
    weft_cursor_close(&c);
    return -1;
  }
  size_t cap = 0;
  int64_t id;
  while (weft_next_id(&c, &id)) {
    if (x->nobjs == cap) {
      cap = cap ? 2 * cap : 256;
      ObjName *v = realloc(x->objs, cap * sizeof *v);
      if (!v) goto oom;
      x->objs = v;
    }
    char buf[1024];
    char *s = strdup(weft_object_namer_name(namer, id, buf, sizeof buf));
    if (!s) goto oom;
    x->objs[x->nobjs].id = id;
    x->objs[x->nobjs].name = s;
    x->nobjs++;
  }
  weft_object_namer_free(namer);
  return weft_cursor_close(&c);
oom:
  weft_object_namer_free(namer);
  return out_of_memory(&c);
}

/* The pid the JSON uses for process image e: the real pid when it is
 * unambiguous; for a pid with several images its upid, moved above every
 * real pid when the upid is also a pid of the recording. */
static int json_pid(Export *x, Ent *e, const WeftProcessRow *p) {
  e->jpid = p->pid;
  if (p->n_images <= 1) return 0;
  e->jpid = e->id;
  if (p->upid_is_pid) {
    int64_t maxpid;
    if (weft_query_max_pid(&x->q, &maxpid) < 0) return -1;
    e->jpid = e->id + (maxpid > 4194304 ? maxpid : 4194304);
  }
  return 0;
}

/* Every process image into x->procs: its pid in the output and its name. */
/* The hosts' names by host (NULL with one host: process names need none). */
static GPtrArray *host_names(Export *x) {
  WeftCursor c;
  WeftHostRow h;
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  weft_query_hosts(&x->q, &c);
  while (weft_next_host(&c, &h)) {
    while (names->len < (guint)h.host) g_ptr_array_add(names, g_strdup(""));
    if ((guint)h.host == names->len) g_ptr_array_add(names, g_strdup(h.name ? h.name : ""));
  }
  if (weft_cursor_close(&c) < 0 || names->len < 2) {
    g_ptr_array_free(names, TRUE);
    return NULL;
  }
  return names;
}

static int load_processes(Export *x) {
  WeftCursor c;
  WeftProcessRow p;
  g_autoptr(GPtrArray) hosts = host_names(x); /* a recording of several hosts: each process names its own */
  weft_query_processes(&x->q, &c);
  while (weft_next_process(&c, &p)) {
    Ent *e = table_add(&x->procs, p.upid);
    if (!e) return out_of_memory(&c);
    const char *exe = p.exe;
    char cmd0[256] = "";
    if (!exe || !*exe) { /* the first word of the command line */
      snprintf(cmd0, sizeof cmd0, "%s", p.cmdline ? p.cmdline : "?");
      cmd0[strcspn(cmd0, " ")] = 0;
      exe = cmd0;
    }
    e->start_ns = p.start_ns;
    if (json_pid(x, e, &p) < 0) {
      weft_cursor_close(&c);
      return -1;
    }
    const char *host = hosts && p.host >= 0 && (guint)p.host < hosts->len ? hosts->pdata[p.host] : NULL;
    g_autofree char *on = host ? g_strdup_printf(" (host %s)", host) : g_strdup("");
    if (p.n_images > 1)
      e->name = g_strdup_printf("%" PRId64 " %s (image %" PRId64 ")%s", p.pid, weft_base_name(exe), p.image, on);
    else
      e->name = g_strdup_printf("%s%s", weft_base_name(exe), on);
  }
  return weft_cursor_close(&c);
}

/* Every thread into x->threads: its process, tid, life and name. */
static int load_threads(Export *x) {
  WeftCursor c;
  WeftThreadRow t;
  weft_query_threads(&x->q, &c, -1);
  while (weft_next_thread(&c, &t)) {
    Ent *e = table_add(&x->threads, t.utid);
    if (!e) return out_of_memory(&c);
    const Ent *p = table_find(&x->procs, t.upid);
    e->upid = t.upid;
    e->jpid = p ? p->jpid : t.upid;
    e->tid = t.tid;
    e->start_ns = t.start_ns;
    e->end_ns = t.end_ns;
    e->name = t.name && *t.name ? g_strdup(t.name) : g_strdup_printf("thread %" PRId64, e->tid);
  }
  return weft_cursor_close(&c);
}

/* KIND_name and KIND_sort_index of a process (tid 0) or a thread. */
static void chrome_meta(Export *x, const char *kind, const Ent *e, int64_t tid) {
  begin_event(x);
  fprintf(x->f, "{\"ph\":\"M\",\"name\":\"%s_name\",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":", kind, e->jpid,
          tid);
  json_us(x->f, e->start_ns);
  fputs(",\"args\":{\"name\":", x->f);
  weft_json_write(x->f, e->name);
  fputs("}}", x->f);
  begin_event(x);
  fprintf(x->f,
          "{\"ph\":\"M\",\"name\":\"%s_sort_index\",\"pid\":%" PRId64 ",\"tid\":%" PRId64
          ",\"args\":{\"sort_index\":%" PRId64 "}}",
          kind, e->jpid, tid, e->id);
}

static void chrome_names(Export *x) {
  for (size_t i = 0; i < x->procs.n; i++) chrome_meta(x, "process", &x->procs.v[i], 0);
  for (size_t i = 0; i < x->threads.n; i++) chrome_meta(x, "thread", &x->threads.v[i], x->threads.v[i].tid);
}

/* TrackDescriptors of every process and thread. */
static int pf_names(Export *x) {
  for (size_t i = 0; i < x->procs.n; i++) {
    const Ent *e = &x->procs.v[i];
    if (weft_perfetto_process(x->pf, uuid_process(e->id), e->jpid, e->name) < 0) return -1;
  }
  for (size_t i = 0; i < x->threads.n; i++) {
    const Ent *e = &x->threads.v[i];
    if (weft_perfetto_thread(x->pf, uuid_thread(e->id), e->jpid, e->tid, e->name) < 0) return -1;
  }
  return 0;
}

/* The errno name of a wait's result, or NULL for a number without one. */
static const char *result_name(int r) { return r > 0 ? strerrorname_np(r) : NULL; }

/* What both formats say about a thread_state interval. */
typedef struct {
  const char *cat;    /* the state name */
  const char *name;   /* "running", "STATE OBJECT" or the state name */
  const char *object; /* NULL when none */
  int64_t who[2];     /* blocker and waker tids, -1 when none */
  const char *result; /* the errno name, NULL for a number */
  int result_n;
  const char *where; /* the innermost frame, NULL when unknown */
  char sbuf[32], nbuf[600], wbuf[700];
} StateDesc;

static const char *const who_key[] = {"blocker", "waker"};

static void describe_state(const Export *x, const WeftStateRow *r, const WeftFrameRow *top, StateDesc *d) {
  d->cat = weft_state_name(r->state);
  if (!d->cat) {
    snprintf(d->sbuf, sizeof d->sbuf, "state_%d", r->state);
    d->cat = d->sbuf;
  }
  d->object = r->object_id >= 0 ? obj_name(x, r->object_id) : NULL;
  d->name = d->cat;
  if (r->state == WEFT_ST_RUNNING)
    d->name = "running";
  else if (d->object) {
    snprintf(d->nbuf, sizeof d->nbuf, "%s %s", d->cat, d->object);
    d->name = d->nbuf;
  }
  const int64_t whom[] = {r->blocker_utid, r->waker_utid};
  for (int i = 0; i < 2; i++) {
    const Ent *o = whom[i] >= 0 ? table_find(&x->threads, whom[i]) : NULL;
    d->who[i] = o ? o->tid : -1;
  }
  d->result = result_name(r->result);
  d->result_n = r->result;
  d->where = NULL;
  if (top->file) {
    snprintf(d->wbuf, sizeof d->wbuf, "%s (%s:%d)", top->symbol ? top->symbol : "??", weft_base_name(top->file),
             (int)top->line);
    d->where = d->wbuf;
  } else if (top->symbol)
    d->where = top->symbol;
}

static void chrome_state(Export *x, const Ent *t, const WeftStateRow *r, const StateDesc *d) {
  begin_event(x);
  fprintf(x->f, "{\"ph\":\"X\",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":", t->jpid, t->tid);
  json_us(x->f, r->start_ns);
  fputs(",\"dur\":", x->f);
  json_us(x->f, r->dur_ns);
  fputs(",\"cat\":", x->f);
  weft_json_write(x->f, d->cat);
  fputs(",\"name\":", x->f);
  weft_json_write(x->f, d->name);
  if (r->state == WEFT_ST_RUNNING) {
    fputs("}", x->f);
    return;
  }
  fputs(",\"args\":{", x->f);
  const char *sep = "";
  if (d->object) {
    fputs("\"object\":", x->f);
    weft_json_write(x->f, d->object);
    sep = ",";
  }
  for (int i = 0; i < 2; i++) {
    if (d->who[i] < 0) continue;
    fprintf(x->f, "%s\"%s\":%" PRId64, sep, who_key[i], d->who[i]);
    sep = ",";
  }
  if (d->result) {
    fprintf(x->f, "%s\"result\":", sep);
    weft_json_write(x->f, d->result);
  } else
    fprintf(x->f, "%s\"result\":%d", sep, d->result_n);
  if (d->where) {
    fputs(",\"where\":", x->f);
    weft_json_write(x->f, d->where);
  }
  fputs("}}", x->f);
}

/* A slice from start to start + dur on a track: a begin and an end event. */
static int pf_slice(Export *x, uint64_t track, int64_t start, int64_t dur, const char *cat, const char *name,
                    const WeftPfArg *args, size_t nargs) {
  WeftPfEvent e = {
      .ts = start, .type = WEFT_PF_SLICE_BEGIN, .track = track, .cat = cat, .name = name, .args = args, .nargs = nargs};
  x->events += 2;
  if (weft_perfetto_event(x->pf, &e) < 0) return -1;
  WeftPfEvent end = {.ts = start + dur, .type = WEFT_PF_SLICE_END, .track = track};
  return weft_perfetto_event(x->pf, &end);
}

static int pf_state(Export *x, const Ent *t, const WeftStateRow *r, const StateDesc *d) {
  WeftPfArg a[5];
  size_t n = 0;
  if (r->state != WEFT_ST_RUNNING) {
    if (d->object) a[n++] = (WeftPfArg){.name = "object", .str = d->object};
    for (int i = 0; i < 2; i++)
      if (d->who[i] >= 0) a[n++] = (WeftPfArg){.name = who_key[i], .i = d->who[i]};
    a[n++] = (WeftPfArg){.name = "result", .str = d->result, .i = d->result_n};
    if (d->where) a[n++] = (WeftPfArg){.name = "where", .str = d->where};
  }
  return pf_slice(x, uuid_thread(t->id), r->start_ns, r->dur_ns, d->cat, d->name, a, n);
}

/* Every thread_state interval (waits only with --no-running): an X event, or
 * a slice on the thread's track. */
static int write_states(Export *x, int running) {
  WeftCursor c;
  WeftStateRow r;
  WeftFrameRow top;
  StateDesc d;
  weft_query_all_states(&x->q, &c, running);
  const Ent *t = NULL;
  while (weft_next_state_where(&c, &r, &top)) {
    if (!t || t->id != r.utid) t = table_find(&x->threads, r.utid);
    if (!t) continue; /* weft check reports it; nothing to draw it on */
    describe_state(x, &r, &top, &d);
    if (!x->pf)
      chrome_state(x, t, &r, &d);
    else if (pf_state(x, t, &r, &d) < 0)
      return out_of_memory(&c);
  }
  return weft_cursor_close(&c);
}

/* An async b/e pair. */
static void write_async(Export *x, const Ent *t, const char *cat, const char *name, const char *id, int64_t start,
                        int64_t dur, const char *args) {
  for (int end = 0; end < 2; end++) {
    begin_event(x);
    fprintf(x->f, "{\"ph\":\"%s\",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":", end ? "e" : "b", t->jpid, t->tid);
    json_us(x->f, end ? start + dur : start);
    fprintf(x->f, ",\"cat\":\"%s\",\"id\":\"%s\",\"name\":", cat, id);
    weft_json_write(x->f, name);
    if (!end && args) fprintf(x->f, ",\"args\":%s", args);
    fputs("}", x->f);
  }
}

/* The track of a lock's holds (key2 -1) or of one reader's shared holds of
 * it (key2 its utid), or of a thread's phases (key1 -1, key2 its utid), named
 * by name(): its uuid, its TrackDescriptor written the first time, under the
 * process of thread t. 0 out of memory. */
static uint64_t pf_track(Export *x, int64_t key1, int64_t key2, const Ent *t, const char *name) {
  size_t v;
  if (weft_hmap_get(&x->tracks, key1, key2, &v)) return uuid_other(v);
  v = x->tracks.n;
  if (weft_hmap_put(&x->tracks, key1, key2, v) < 0) return 0;
  if (weft_perfetto_track(x->pf, uuid_other(v), uuid_process(t->upid), name) < 0) return 0;
  return uuid_other(v);
}

/* Holds of every object that was contended at least once. */
static int write_hold(Export *x, const WeftHold *h) {
  const Ent *t = table_find(&x->threads, h->utid);
  if (!t) return 0;
  const char *oname = obj_name(x, h->object_id);
  char name[300];
  snprintf(name, sizeof name, "hold %s", oname ? oname : "?");
  if (x->pf) {
    char tname[400];
    snprintf(tname, sizeof tname, h->shared ? "%s (shared, tid %" PRId64 ")" : "%s", name, t->tid);
    uint64_t track = pf_track(x, h->object_id, h->shared ? h->utid : -1, t, tname);
    const WeftPfArg a[] = {{.name = "tid", .i = t->tid},
                           {.name = "contended", .i = h->contended, .is_bool = 1},
                           {.name = "shared", .i = h->shared, .is_bool = 1}};
    if (!track) return -1;
    return pf_slice(x, track, h->start_ns, h->dur_ns, "hold", name, a, 3);
  }
  char id[64], args[160];
  if (h->shared)
    snprintf(id, sizeof id, "o%" PRId64 "r%" PRId64, h->object_id, h->utid);
  else
    snprintf(id, sizeof id, "o%" PRId64, h->object_id);
  snprintf(args, sizeof args, "{\"tid\":%" PRId64 ",\"contended\":%d,\"shared\":%d}", t->tid, h->contended, h->shared);
  write_async(x, t, "hold", name, id, h->start_ns, h->dur_ns, args);
  return 0;
}

static int write_holds(Export *x) {
  WeftCursor c;
  WeftHold h;
  weft_query_contended_holds(&x->q, &c);
  while (weft_next_hold(&c, &h))
    if (write_hold(x, &h) < 0) return out_of_memory(&c);
  return weft_cursor_close(&c);
}

/* A mark: an instant on its thread. A phase: a slice, on a track of the
 * thread's phases in Perfetto (a phase may span waits, so it would break the
 * nesting of the thread's slices), an async b/e pair in Chrome JSON. */
static int write_mark(Export *x, const Ent *t, const WeftMarkRow *m, const char *label) {
  if (x->pf) {
    if (m->dur_ns <= 0) {
      WeftPfEvent e = {
          .ts = m->start_ns, .type = WEFT_PF_INSTANT, .track = uuid_thread(t->id), .cat = "mark", .name = label};
      x->events++;
      return weft_perfetto_event(x->pf, &e);
    }
    char tname[400];
    snprintf(tname, sizeof tname, "phases %s %" PRId64, t->name, t->tid);
    uint64_t track = pf_track(x, -1, t->id, t, tname);
    return track ? pf_slice(x, track, m->start_ns, m->dur_ns, "mark", label, NULL, 0) : -1;
  }
  if (m->dur_ns <= 0) {
    begin_event(x);
    fprintf(x->f, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":", t->jpid, t->tid);
    json_us(x->f, m->start_ns);
    fputs(",\"cat\":\"mark\",\"name\":", x->f);
    weft_json_write(x->f, label);
    fputs("}", x->f);
  } else {
    char id[48];
    snprintf(id, sizeof id, "m%" PRId64, t->id);
    write_async(x, t, "mark", label, id, m->start_ns, m->dur_ns, NULL);
  }
  return 0;
}

static int write_marks(Export *x) {
  WeftCursor c;
  WeftMarkRow m;
  weft_query_marks(&x->q, &c);
  while (weft_next_mark(&c, &m)) {
    const Ent *t = table_find(&x->threads, m.utid);
    if (!t) continue;
    const char *label = m.label;
    char buf[64];
    if (!label) {
      snprintf(buf, sizeof buf, "mark %lld", (long long)m.id);
      label = buf;
    }
    if (write_mark(x, t, &m, label) < 0) return out_of_memory(&c);
  }
  return weft_cursor_close(&c);
}

/* t moved strictly inside the life of thread th, where it has room: a flow
 * end outside its thread binds to nothing. */
static int64_t inside(int64_t t, const Ent *th) {
  if (th->end_ns - th->start_ns < 2) return t;
  if (t <= th->start_ns) return th->start_ns + 1;
  if (t >= th->end_ns) return th->end_ns - 1;
  return t;
}

/* A flow's two ends (see the file comment for the 1 ns shifts): s and f
 * events in Chrome JSON; in Perfetto instants on the two threads, the first
 * with flow_ids, the second with terminating_flow_ids. */
static int write_flow(Export *x, const WeftFlow *fl, const Ent *from, const Ent *to, const char *kname) {
  int to_start = fl->kind == WEFT_FLOW_CREATE || fl->kind == WEFT_FLOW_FORK || fl->kind == WEFT_FLOW_EXEC;
  int64_t s = inside(fl->from_ns - 1, from);
  int64_t f = inside(fl->to_ns + (to_start ? 1 : -1), to);
  for (int fin = 0; fin < 2; fin++) {
    const Ent *t = fin ? to : from;
    if (x->pf) {
      WeftPfEvent e = {.ts = fin ? f : s,
                       .type = WEFT_PF_INSTANT,
                       .track = uuid_thread(t->id),
                       .cat = kname,
                       .name = kname,
                       .flow = fin ? WEFT_PF_FLOW_END : WEFT_PF_FLOW_OUT,
                       .flow_id = (uint64_t)fl->flow_id};
      x->events++;
      if (weft_perfetto_event(x->pf, &e) < 0) return -1;
      continue;
    }
    begin_event(x);
    fprintf(x->f,
            "{\"ph\":\"%s\",%s\"id\":%" PRId64 ",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":", fin ? "f" : "s",
            fin ? "\"bp\":\"e\"," : "", fl->flow_id, t->jpid, t->tid);
    json_us(x->f, fin ? f : s);
    fprintf(x->f, ",\"cat\":\"%s\",\"name\":\"%s\"}", kname, kname);
  }
  return 0;
}

static int write_flows(Export *x) {
  WeftCursor c;
  WeftFlow fl;
  weft_query_all_flows(&x->q, &c);
  while (weft_next_flow(&c, &fl)) {
    const Ent *from = table_find(&x->threads, fl.from_utid);
    const Ent *to = table_find(&x->threads, fl.to_utid);
    if (!from || !to) continue;
    const char *kname = weft_flow_name(fl.kind);
    char kbuf[32];
    if (!kname) {
      snprintf(kbuf, sizeof kbuf, "flow_%d", fl.kind);
      kname = kbuf;
    }
    if (write_flow(x, &fl, from, to, kname) < 0) return out_of_memory(&c);
  }
  return weft_cursor_close(&c);
}

static int write_metadata(Export *x) {
  WeftCursor c;
  const char *key, *value;
  fputs("\n],\n\"displayTimeUnit\":\"ns\",\n\"metadata\":{\"exported_by\":", x->f);
  weft_json_write(x->f, "weft " WEFT_VERSION);
  fputs(",\"database\":", x->f);
  weft_json_write(x->f, x->db_path);
  weft_query_meta(&x->q, &c);
  while (weft_next_meta(&c, &key, &value)) {
    fputs(",\n  ", x->f);
    weft_json_write(x->f, key);
    putc(':', x->f);
    weft_json_write(x->f, value);
  }
  if (weft_cursor_close(&c) < 0) return -1;
  fputs("}}\n", x->f);
  return 0;
}

/* ------------------------------------------------------------ the command */

static void usage(FILE *f) {
  fprintf(f, "usage: weft export RUN.db [--format chrome|perfetto] [-o FILE|-] [--no-running] [--no-holds]\n"
             "                          [--no-flows]\n"
             "\n"
             "Write a recording as Chrome Trace Event Format JSON (for chrome://tracing and Perfetto UI,\n"
             "ui.perfetto.dev) or as Perfetto's native protobuf trace (for Perfetto UI and trace_processor;\n"
             "several times smaller, for big recordings).\n"
             "\n"
             "  -o, --output FILE  where to write (- for standard output; the default when it is not a terminal)\n"
             "      --format F     chrome (the default; also: json) or perfetto (also: protobuf)\n"
             "      --no-running   leave out the running intervals (waits only; smaller, but flows lose\n"
             "                     their start in viewers that bind them to slices)\n"
             "      --no-holds     leave out the lock holds\n"
             "      --no-flows     leave out the flows (hand-offs, wake-ups, ...)\n");
}

/* Everything after the output is open: the events in either format. */
static int export_all(Export *x, int running, int holds, int flows) {
  int rc = load_objects(x);
  if (!rc) rc = load_processes(x);
  if (!rc) rc = load_threads(x);
  if (rc) return rc;
  if (x->pf) {
    if (pf_names(x) < 0) {
      fprintf(stderr, "weft export: out of memory\n");
      return -1;
    }
  } else {
    fputs("{\"traceEvents\":[", x->f);
    chrome_names(x);
  }
  rc = write_states(x, running);
  if (!rc && holds) rc = write_holds(x);
  if (!rc) rc = write_marks(x);
  if (!rc && flows) rc = write_flows(x);
  if (!rc && !x->pf) rc = write_metadata(x);
  return rc;
}

static void export_free(Export *x) {
  for (size_t i = 0; i < x->nobjs; i++) free(x->objs[i].name);
  free(x->objs);
  for (size_t i = 0; i < x->procs.n; i++) g_free(x->procs.v[i].name);
  for (size_t i = 0; i < x->threads.n; i++) g_free(x->threads.v[i].name);
  free(x->procs.v);
  free(x->threads.v);
  weft_hmap_free(&x->tracks);
  weft_perfetto_free(x->pf);
  weft_query_clear(&x->q);
  sqlite3_close(x->db);
}

int weft_cmd_export(int argc, char **argv) {
  enum { OPT_FORMAT = 256, OPT_RUNNING, OPT_NO_RUNNING, OPT_NO_HOLDS, OPT_NO_FLOWS };
  static const struct option longopts[] = {{"output", required_argument, NULL, 'o'},
                                           {"format", required_argument, NULL, OPT_FORMAT},
                                           {"running", no_argument, NULL, OPT_RUNNING},
                                           {"no-running", no_argument, NULL, OPT_NO_RUNNING},
                                           {"no-holds", no_argument, NULL, OPT_NO_HOLDS},
                                           {"no-flows", no_argument, NULL, OPT_NO_FLOWS},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  const char *out = NULL;
  int running = 1, holds = 1, flows = 1, perfetto = 0, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
    switch (c) {
      case 'o': out = optarg; break;
      case OPT_FORMAT:
        if (!strcmp(optarg, "perfetto") || !strcmp(optarg, "protobuf"))
          perfetto = 1;
        else if (!strcmp(optarg, "chrome") || !strcmp(optarg, "json"))
          perfetto = 0;
        else {
          fprintf(stderr, "weft export: --format %s: the formats are chrome and perfetto\n", optarg);
          return 2;
        }
        break;
      case OPT_RUNNING: running = 1; break;
      case OPT_NO_RUNNING: running = 0; break;
      case OPT_NO_HOLDS: holds = 0; break;
      case OPT_NO_FLOWS: flows = 0; break;
      case 'h': usage(stdout); return 0;
      default: usage(stderr); return 2;
    }
  }
  if (optind != argc - 1) {
    fprintf(stderr, optind >= argc ? "weft export: no database given\n" : "weft export: one database at a time\n");
    usage(stderr);
    return 2;
  }
  if (!out) {
    if (isatty(STDOUT_FILENO)) {
      fprintf(stderr, perfetto ? "weft export: give -o FILE (or -o - to really write the protobuf to the terminal)\n"
                               : "weft export: give -o FILE (or -o - to really write the JSON to the terminal)\n");
      return 2;
    }
    out = "-";
  }

  Export x;
  memset(&x, 0, sizeof x);
  x.db_path = argv[optind];
  x.out_path = out;
  x.first = 1;
  char err[512];
  x.db = weft_db_open(x.db_path, 0, err, sizeof err);
  if (!x.db) {
    fprintf(stderr, "weft export: %s\n", err);
    return 1;
  }
  /* the path opened, so it is shorter than PATH_MAX: the messages name it in full */
  char prefix[PATH_MAX + 16], qerr[PATH_MAX + 1024];
  snprintf(prefix, sizeof prefix, "weft export: %s", x.db_path);
  weft_query_init(&x.q, x.db, qerr, sizeof qerr, prefix);

  WeftOutput out_file;
  if (weft_output_open(&out_file, out, x.db_path, err, sizeof err) != 0) {
    fprintf(stderr, "weft export: %s\n", err);
    sqlite3_close(x.db);
    return 1;
  }
  x.f = out_file.f;
  static char buf[1 << 20];
  setvbuf(x.f, buf, _IOFBF, sizeof buf);
  if (perfetto && !(x.pf = weft_perfetto_new(x.f))) fprintf(stderr, "weft export: out of memory\n");

  int rc = perfetto && !x.pf ? -1 : export_all(&x, running, holds, flows);
  if (rc && x.q.sql.failed) fprintf(stderr, "%s\n", qerr);
  if (rc)
    weft_output_abort(&out_file);
  else if (weft_output_commit(&out_file, err, sizeof err) != 0) {
    fprintf(stderr, "weft export: %s\n", err);
    rc = -1;
  }
  export_free(&x);
  return rc ? 1 : 0;
}
