/* cmd-export.c - weft export: a recording as Chrome Trace Event Format JSON.
 * SPDX-License-Identifier: MIT
 *
 *   weft export run.db [--format chrome] [-o trace.json|-] [--no-running]
 *                      [--no-holds] [--no-flows]
 *
 * The output opens in Perfetto UI (ui.perfetto.dev) and chrome://tracing. It is
 * the JSON object form of the Trace Event Format:
 *
 *   {"traceEvents": [ ... ], "displayTimeUnit": "ns", "metadata": { meta table }}
 *
 * Events, in this order (viewers sort by time themselves):
 *   M  process_name, process_sort_index: pid = process.pid; when a pid has
 *      several images (exec, pid reuse) each image is a process of its own,
 *      pid = upid (moved above any real pid if it would collide), named
 *      "PID exe (image N)". thread_name, thread_sort_index: tid = thread.tid.
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

#include "holds.h"
#include "weft-cli.h"
#include "naming.h"
#include "weft-db.h"
#include "weft-json.h"
#include "weft-output.h"

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
  int64_t jpid;     /* the pid the JSON uses */
  int64_t tid;      /* threads */
  int64_t start_ns, end_ns;
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
    if (t->v[mid].id < id) lo = mid + 1;
    else hi = mid;
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
  FILE *f;
  int first;            /* no event written yet: no comma before the next */
  Table procs, threads; /* by upid, by utid */
  ObjName *objs;        /* by object_id, sorted */
  size_t nobjs;
  uint64_t events;
} Export;

static const char *obj_name(const Export *x, int64_t id) {
  size_t lo = 0, hi = x->nobjs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (x->objs[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < x->nobjs && x->objs[lo].id == id ? x->objs[lo].name : NULL;
}

static void begin_event(Export *x) {
  fputs(x->first ? "\n" : ",\n", x->f);
  x->first = 0;
  x->events++;
}

static int db_fail(Export *x, sqlite3_stmt *q) {
  fprintf(stderr, "weft export: %s: %s\n", x->db_path, sqlite3_errmsg(x->db));
  sqlite3_finalize(q);
  return -1;
}

static int prepare(Export *x, const char *sql, sqlite3_stmt **q) {
  if (sqlite3_prepare_v2(x->db, sql, -1, q, NULL) != SQLITE_OK) return db_fail(x, *q);
  return 0;
}

static const char *col_text(sqlite3_stmt *q, int i) { return (const char *)sqlite3_column_text(q, i); }

static const char *base_name(const char *path) {
  const char *s = path ? strrchr(path, '/') : NULL;
  return s ? s + 1 : path;
}

/* Object display names: weft_object_display_name (naming.h), the names
 * `weft report` and `weft record` use. */
static int load_objects(Export *x) {
  sqlite3_stmt *q = NULL;
  if (prepare(x, "SELECT object_id FROM sync_object ORDER BY object_id", &q)) return -1;
  WeftObjectNamer *namer = weft_object_namer_new(x->db);
  if (!namer) return db_fail(x, q);
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (x->nobjs == cap) {
      cap = cap ? 2 * cap : 256;
      ObjName *v = realloc(x->objs, cap * sizeof *v);
      if (!v) goto oom;
      x->objs = v;
    }
    char buf[1024];
    int64_t id = sqlite3_column_int64(q, 0);
    char *s = strdup(weft_object_namer_name(namer, id, buf, sizeof buf));
    if (!s) goto oom;
    x->objs[x->nobjs].id = id;
    x->objs[x->nobjs].name = s;
    x->nobjs++;
  }
  weft_object_namer_free(namer);
  if (rc != SQLITE_DONE) return db_fail(x, q);
  sqlite3_finalize(q);
  return 0;
oom:
  weft_object_namer_free(namer);
  sqlite3_finalize(q);
  fprintf(stderr, "weft export: out of memory\n");
  return -1;
}

/* process_name and thread_name events; fills x->procs and x->threads. */
static int write_names(Export *x) {
  sqlite3_stmt *q = NULL;
  int rc;
  /* A pid with several upids, or a upid equal to some pid of the recording,
   * decides the JSON pid: the real pid when it is unambiguous. */
  if (prepare(x, "SELECT p.upid, p.pid, p.image, p.exe, p.cmdline, p.start_ns,"
                 " (SELECT count(*) FROM process p2 WHERE p2.pid = p.pid),"
                 " (SELECT count(*) FROM process p3 WHERE p3.pid = p.upid),"
                 " (SELECT max(pid) FROM process)"
                 " FROM process p ORDER BY p.upid", &q))
    return -1;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    Ent *e = table_add(&x->procs, sqlite3_column_int64(q, 0));
    if (!e) {
      sqlite3_finalize(q);
      fprintf(stderr, "weft export: out of memory\n");
      return -1;
    }
    int64_t pid = sqlite3_column_int64(q, 1), image = sqlite3_column_int64(q, 2);
    int shared = sqlite3_column_int64(q, 6) > 1;
    const char *exe = col_text(q, 3);
    char cmd0[256] = "";
    if (!exe || !*exe) { /* the first word of the command line */
      const char *c = col_text(q, 4);
      snprintf(cmd0, sizeof cmd0, "%s", c ? c : "?");
      cmd0[strcspn(cmd0, " ")] = 0;
      exe = cmd0;
    }
    e->start_ns = sqlite3_column_int64(q, 5);
    if (!shared) e->jpid = pid;
    else {
      e->jpid = e->id;
      int64_t maxpid = sqlite3_column_int64(q, 8);
      if (sqlite3_column_int64(q, 7) > 0) /* the upid is also a real pid */
        e->jpid = e->id + (maxpid > 4194304 ? maxpid : 4194304);
    }
    begin_event(x);
    fprintf(x->f, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%" PRId64 ",\"tid\":0,\"ts\":", e->jpid);
    json_us(x->f, e->start_ns);
    fputs(",\"args\":{\"name\":", x->f);
    if (shared) {
      char buf[600];
      snprintf(buf, sizeof buf, "%" PRId64 " %s (image %" PRId64 ")", pid, base_name(exe), image);
      weft_json_write(x->f, buf);
    } else
      weft_json_write(x->f, base_name(exe));
    fputs("}}", x->f);
    begin_event(x);
    fprintf(x->f, "{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":%" PRId64 ",\"tid\":0,"
                  "\"args\":{\"sort_index\":%" PRId64 "}}", e->jpid, e->id);
  }
  if (rc != SQLITE_DONE) return db_fail(x, q);
  sqlite3_finalize(q);

  if (prepare(x, "SELECT utid, upid, tid, name, start_ns, end_ns FROM thread ORDER BY utid", &q)) return -1;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    Ent *e = table_add(&x->threads, sqlite3_column_int64(q, 0));
    if (!e) {
      sqlite3_finalize(q);
      fprintf(stderr, "weft export: out of memory\n");
      return -1;
    }
    const Ent *p = table_find(&x->procs, sqlite3_column_int64(q, 1));
    e->jpid = p ? p->jpid : sqlite3_column_int64(q, 1);
    e->tid = sqlite3_column_int64(q, 2);
    e->start_ns = sqlite3_column_int64(q, 4);
    e->end_ns = sqlite3_column_int64(q, 5);
    const char *name = col_text(q, 3);
    char buf[64];
    if (!name || !*name) {
      snprintf(buf, sizeof buf, "thread %" PRId64, e->tid);
      name = buf;
    }
    begin_event(x);
    fprintf(x->f, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":",
            e->jpid, e->tid);
    json_us(x->f, e->start_ns);
    fputs(",\"args\":{\"name\":", x->f);
    weft_json_write(x->f, name);
    fputs("}}", x->f);
    begin_event(x);
    fprintf(x->f, "{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":%" PRId64 ",\"tid\":%" PRId64
                  ",\"args\":{\"sort_index\":%" PRId64 "}}", e->jpid, e->tid, e->id);
  }
  if (rc != SQLITE_DONE) return db_fail(x, q);
  sqlite3_finalize(q);
  return 0;
}

/* The errno name of a wait's result, or NULL for a number without one. */
static const char *result_name(int r) {
  return r > 0 ? strerrorname_np(r) : NULL;
}

/* One X event per thread_state interval (waits only with --no-running). */
static int write_states(Export *x, int running) {
  sqlite3_stmt *q = NULL;
  char sql[640];
  snprintf(sql, sizeof sql,
           "SELECT ts.utid, ts.start_ns, ts.dur_ns, ts.state, ts.object_id, ts.blocker_utid, ts.waker_utid,"
           " ts.result, f.symbol, f.file, f.line"
           " FROM thread_state ts LEFT JOIN stack_frame sf ON sf.stack_id = ts.stack_id AND sf.depth = 0"
           " LEFT JOIN frame f ON f.frame_id = sf.frame_id%s ORDER BY ts.utid, ts.start_ns",
           running ? "" : " WHERE ts.state <> 0");
  if (prepare(x, sql, &q)) return -1;
  int rc;
  const Ent *t = NULL;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t utid = sqlite3_column_int64(q, 0);
    if (!t || t->id != utid) t = table_find(&x->threads, utid);
    if (!t) continue; /* weft check reports it; nothing to draw it on */
    int state = sqlite3_column_int(q, 3);
    const char *sname = weft_state_name(state);
    char sbuf[32];
    if (!sname) {
      snprintf(sbuf, sizeof sbuf, "state_%d", state);
      sname = sbuf;
    }
    begin_event(x);
    fprintf(x->f, "{\"ph\":\"X\",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":", t->jpid, t->tid);
    json_us(x->f, sqlite3_column_int64(q, 1));
    fputs(",\"dur\":", x->f);
    json_us(x->f, sqlite3_column_int64(q, 2));
    fputs(",\"cat\":", x->f);
    weft_json_write(x->f, sname);
    if (state == WEFT_ST_RUNNING) {
      fputs(",\"name\":\"running\"}", x->f);
      continue;
    }
    const char *obj = sqlite3_column_type(q, 4) != SQLITE_NULL ? obj_name(x, sqlite3_column_int64(q, 4)) : NULL;
    fputs(",\"name\":", x->f);
    if (obj) {
      char *name = NULL;
      if (asprintf(&name, "%s %s", sname, obj) < 0) name = NULL;
      weft_json_write(x->f, name ? name : sname);
      free(name);
    } else
      weft_json_write(x->f, sname);
    fputs(",\"args\":{", x->f);
    const char *sep = "";
    if (obj) {
      fputs("\"object\":", x->f);
      weft_json_write(x->f, obj);
      sep = ",";
    }
    static const char *const who[] = {"blocker", "waker"};
    for (int i = 0; i < 2; i++) {
      if (sqlite3_column_type(q, 5 + i) == SQLITE_NULL) continue;
      const Ent *o = table_find(&x->threads, sqlite3_column_int64(q, 5 + i));
      if (!o) continue;
      fprintf(x->f, "%s\"%s\":%" PRId64, sep, who[i], o->tid);
      sep = ",";
    }
    int result = sqlite3_column_int(q, 7);
    const char *rname = result_name(result);
    if (rname) {
      fprintf(x->f, "%s\"result\":", sep);
      weft_json_write(x->f, rname);
    } else
      fprintf(x->f, "%s\"result\":%d", sep, result);
    const char *sym = col_text(q, 8), *file = col_text(q, 9);
    if (sym || file) {
      char where[700];
      if (file)
        snprintf(where, sizeof where, "%s (%s:%d)", sym ? sym : "??", base_name(file), sqlite3_column_int(q, 10));
      else
        snprintf(where, sizeof where, "%s", sym);
      fputs(",\"where\":", x->f);
      weft_json_write(x->f, where);
    }
    fputs("}}", x->f);
  }
  if (rc != SQLITE_DONE) return db_fail(x, q);
  sqlite3_finalize(q);
  return 0;
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

/* Holds of every object that was contended at least once. */
static int write_hold(const WeftHold *h, void *user) {
  Export *x = user;
  const Ent *t = table_find(&x->threads, h->utid);
  if (!t) return 0;
  const char *oname = obj_name(x, h->object_id);
  char name[300], id[64], args[160];
  snprintf(name, sizeof name, "hold %s", oname ? oname : "?");
  if (h->shared) snprintf(id, sizeof id, "o%" PRId64 "r%" PRId64, h->object_id, h->utid);
  else snprintf(id, sizeof id, "o%" PRId64, h->object_id);
  snprintf(args, sizeof args, "{\"tid\":%" PRId64 ",\"contended\":%d,\"shared\":%d}", t->tid, h->contended,
           h->shared);
  write_async(x, t, "hold", name, id, h->start_ns, h->dur_ns, args);
  return 0;
}

static int write_holds(Export *x) {
  sqlite3_stmt *q = NULL;
  if (prepare(x, "SELECT h.object_id, h.start_ns, h.data FROM hold_block h JOIN sync_object o ON o.object_id = h.object_id"
                 " WHERE o.contended > 0 ORDER BY h.object_id, h.start_ns", &q))
    return -1;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW)
    if (weft_holds_from_row(q, 0, INT64_MIN, INT64_MAX, write_hold, x) < 0) {
      fprintf(stderr, "weft export: %s: the lock holds of object %lld are corrupt\n", x->db_path,
              (long long)sqlite3_column_int64(q, 0));
      sqlite3_finalize(q);
      return -1;
    }
  if (rc != SQLITE_DONE) return db_fail(x, q);
  sqlite3_finalize(q);
  return 0;
}

/* Marks (instants) and phases from weft.h. */
static int write_marks(Export *x) {
  sqlite3_stmt *q = NULL;
  if (prepare(x, "SELECT utid, start_ns, dur_ns, id, label FROM mark ORDER BY utid, start_ns", &q)) return -1;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    const Ent *t = table_find(&x->threads, sqlite3_column_int64(q, 0));
    if (!t) continue;
    const char *label = col_text(q, 4);
    char buf[64];
    if (!label) {
      snprintf(buf, sizeof buf, "mark %lld", (long long)sqlite3_column_int64(q, 3));
      label = buf;
    }
    int64_t dur = sqlite3_column_int64(q, 2);
    if (dur <= 0) {
      begin_event(x);
      fprintf(x->f, "{\"ph\":\"i\",\"s\":\"t\",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":", t->jpid, t->tid);
      json_us(x->f, sqlite3_column_int64(q, 1));
      fputs(",\"cat\":\"mark\",\"name\":", x->f);
      weft_json_write(x->f, label);
      fputs("}", x->f);
    } else {
      char id[48];
      snprintf(id, sizeof id, "m%" PRId64, t->id);
      write_async(x, t, "mark", label, id, sqlite3_column_int64(q, 1), dur, NULL);
    }
  }
  if (rc != SQLITE_DONE) return db_fail(x, q);
  sqlite3_finalize(q);
  return 0;
}

/* t moved strictly inside the life of thread th, where it has room: a flow
 * end outside its thread binds to nothing. */
static int64_t inside(int64_t t, const Ent *th) {
  if (th->end_ns - th->start_ns < 2) return t;
  if (t <= th->start_ns) return th->start_ns + 1;
  if (t >= th->end_ns) return th->end_ns - 1;
  return t;
}

/* Flow start and finish events (see the file comment for the 1 ns shifts). */
static int write_flows(Export *x) {
  sqlite3_stmt *q = NULL;
  if (prepare(x, "SELECT flow_id, kind, from_utid, from_ns, to_utid, to_ns FROM flow ORDER BY flow_id", &q))
    return -1;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(q, 0);
    int kind = sqlite3_column_int(q, 1);
    const Ent *from = table_find(&x->threads, sqlite3_column_int64(q, 2));
    const Ent *to = table_find(&x->threads, sqlite3_column_int64(q, 4));
    if (!from || !to) continue;
    const char *kname = weft_flow_name(kind);
    char kbuf[32];
    if (!kname) {
      snprintf(kbuf, sizeof kbuf, "flow_%d", kind);
      kname = kbuf;
    }
    int to_start = kind == WEFT_FLOW_CREATE || kind == WEFT_FLOW_FORK || kind == WEFT_FLOW_EXEC;
    int64_t s = inside(sqlite3_column_int64(q, 3) - 1, from);
    int64_t f = inside(sqlite3_column_int64(q, 5) + (to_start ? 1 : -1), to);
    for (int fin = 0; fin < 2; fin++) {
      const Ent *t = fin ? to : from;
      begin_event(x);
      fprintf(x->f, "{\"ph\":\"%s\",%s\"id\":%" PRId64 ",\"pid\":%" PRId64 ",\"tid\":%" PRId64 ",\"ts\":",
              fin ? "f" : "s", fin ? "\"bp\":\"e\"," : "", id, t->jpid, t->tid);
      json_us(x->f, fin ? f : s);
      fprintf(x->f, ",\"cat\":\"%s\",\"name\":\"%s\"}", kname, kname);
    }
  }
  if (rc != SQLITE_DONE) return db_fail(x, q);
  sqlite3_finalize(q);
  return 0;
}

static int write_metadata(Export *x) {
  sqlite3_stmt *q = NULL;
  fputs("\n],\n\"displayTimeUnit\":\"ns\",\n\"metadata\":{\"exported_by\":", x->f);
  weft_json_write(x->f, "weft " WEFT_VERSION);
  fputs(",\"database\":", x->f);
  weft_json_write(x->f, x->db_path);
  if (prepare(x, "SELECT key, value FROM meta ORDER BY key", &q)) return -1;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    fputs(",\n  ", x->f);
    weft_json_write(x->f, col_text(q, 0));
    putc(':', x->f);
    weft_json_write(x->f, col_text(q, 1));
  }
  if (rc != SQLITE_DONE) return db_fail(x, q);
  sqlite3_finalize(q);
  fputs("}}\n", x->f);
  return 0;
}

/* ------------------------------------------------------------ the command */

static void usage(FILE *f) {
  fprintf(f,
          "usage: weft export RUN.db [--format chrome] [-o FILE|-] [--no-running] [--no-holds] [--no-flows]\n"
          "\n"
          "Write a recording as Chrome Trace Event Format JSON, for Perfetto UI\n"
          "(ui.perfetto.dev) and chrome://tracing.\n"
          "\n"
          "  -o, --output FILE  where to write (- for standard output; the default when it is not a terminal)\n"
          "      --format F     chrome (the only format so far)\n"
          "      --no-running   leave out the running intervals (waits only; smaller, but flows lose\n"
          "                     their start in viewers that bind them to slices)\n"
          "      --no-holds     leave out the lock holds\n"
          "      --no-flows     leave out the flows (hand-offs, wake-ups, ...)\n");
}

int weft_cmd_export(int argc, char **argv) {
  enum { OPT_FORMAT = 256, OPT_RUNNING, OPT_NO_RUNNING, OPT_NO_HOLDS, OPT_NO_FLOWS };
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},    {"format", required_argument, NULL, OPT_FORMAT},
    {"running", no_argument, NULL, OPT_RUNNING}, {"no-running", no_argument, NULL, OPT_NO_RUNNING},
    {"no-holds", no_argument, NULL, OPT_NO_HOLDS}, {"no-flows", no_argument, NULL, OPT_NO_FLOWS},
    {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0}};
  const char *out = NULL;
  int running = 1, holds = 1, flows = 1, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out = optarg; break;
    case OPT_FORMAT:
      if (strcmp(optarg, "chrome") && strcmp(optarg, "json")) {
        fprintf(stderr, "weft export: --format %s: the only format is chrome\n", optarg);
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
      fprintf(stderr, "weft export: give -o FILE (or -o - to really write the JSON to the terminal)\n");
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

  WeftOutput out_file;
  if (weft_output_open(&out_file, out, x.db_path, err, sizeof err) != 0) {
    fprintf(stderr, "weft export: %s\n", err);
    sqlite3_close(x.db);
    return 1;
  }
  x.f = out_file.f;
  static char buf[1 << 20];
  setvbuf(x.f, buf, _IOFBF, sizeof buf);

  fputs("{\"traceEvents\":[", x.f);
  int rc = load_objects(&x);
  if (!rc) rc = write_names(&x);
  if (!rc) rc = write_states(&x, running);
  if (!rc && holds) rc = write_holds(&x);
  if (!rc) rc = write_marks(&x);
  if (!rc && flows) rc = write_flows(&x);
  if (!rc) rc = write_metadata(&x);

  if (rc) weft_output_abort(&out_file);
  else if (weft_output_commit(&out_file, err, sizeof err) != 0) {
    fprintf(stderr, "weft export: %s\n", err);
    rc = -1;
  }
  for (size_t i = 0; i < x.nobjs; i++) free(x.objs[i].name);
  free(x.objs);
  free(x.procs.v);
  free(x.threads.v);
  sqlite3_close(x.db);
  return rc ? 1 : 0;
}
