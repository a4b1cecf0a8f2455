/* weft-dump.c - print weft trace files as text, for debugging and tests.
 * SPDX-License-Identifier: MIT
 *
 * Usage: weft-dump [--stats] [--raw-ts] DIR|FILE...
 *
 * For each file a line
 *   # file NAME pid=P ppid=Q image=N version=V clock=tsc|monotonic session=HEX lost=L
 *     [holds=contended|all sample=N flush_ms=N [python=frames]] (version 3; python: 4)
 *     [host=NAME host_id=HEX] (version 6, when the header names its host)
 * then one line per record; then (version 7) each section of the file, a fork
 * child that wrote into it, as a file of its own after the line
 *   # section of pid P (PROCESS chunk at offset X) in NAME
 * its header line naming it NAME@X (image=N: 0 for a FILE argument, the
 * recording's number of its image for a DIR)
 *   NS PID TID NAME key=value ...
 * NS is ns since the recording's start (the earliest file header start_ns; for
 * a FILE argument its own start_ns), or the absolute CLOCK_MONOTONIC ns with
 * --raw-ts. Strings are quoted with C escapes. --stats prints counts instead
 * (see print_stats). A DIR is read as one recording (one clock fit), with the
 * files of every session in it (weft import takes one session); each FILE
 * argument is read on its own. A name in DIR that is no regular file (a FIFO)
 * is skipped with a warning; given as a FILE it is an error.
 *
 * Exit status: 0; 1 on unreadable or corrupt input (after printing what was
 * read, with "weft-dump: MESSAGE" on stderr); 2 on a usage error.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "weft-reader.h"

typedef struct {
  uint64_t *v;
  size_t n, cap;
} U64Vec;

typedef struct {
  int stats;
  int raw_ts;
  uint64_t origin; /* ns subtracted from record times */
  /* --stats */
  uint64_t files, sections, records, lost;
  U64Vec pids, threads; /* threads: pid << 32 | tid with a THREAD_START */
  U64Vec sessions;
  uint64_t by_type[256];
  uint64_t by_kind[256][32];
  uint64_t counted[4][32]; /* COUNTS: acquisitions, failed tries, releases, samples by kind */
} Dump;

static void oom(void) {
  fflush(stdout);
  fprintf(stderr, "weft-dump: out of memory\n");
  exit(1);
}

static void vec_add(U64Vec *v, uint64_t x) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 64;
    uint64_t *p = cap > SIZE_MAX / sizeof *p ? NULL : realloc(v->v, cap * sizeof *p);
    if (!p) oom();
    v->v = p;
    v->cap = cap;
  }
  v->v[v->n++] = x;
}

static int u64_cmp(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static size_t vec_distinct(U64Vec *v) {
  if (v->n == 0) return 0;
  qsort(v->v, v->n, sizeof *v->v, u64_cmp);
  size_t d = 1;
  for (size_t i = 1; i < v->n; i++) d += v->v[i] != v->v[i - 1];
  return d;
}

/* ---- text output ---- */

/* s (len bytes) in double quotes, with C escapes for quotes, backslashes and
 * every byte outside printable ASCII (three-digit octal). */
static void put_quoted(const char *s, size_t len) {
  putchar('"');
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
      case '"': fputs("\\\"", stdout); break;
      case '\\': fputs("\\\\", stdout); break;
      case '\n': fputs("\\n", stdout); break;
      case '\t': fputs("\\t", stdout); break;
      case '\r': fputs("\\r", stdout); break;
      default:
        if (c >= 0x20 && c < 0x7f)
          putchar(c);
        else
          printf("\\%03o", c);
    }
  }
  putchar('"');
}

static void put_string(const char *key, const WeftEvent *ev, unsigned from) {
  size_t len;
  const char *s = weft_event_string(ev, from, &len);
  printf(" %s=", key);
  put_quoted(s, len);
}

static void put_kind(unsigned kind) {
  const char *k = weft_kind_name(kind);
  if (k)
    printf(" kind=%s", k);
  else
    printf(" kind=%u", kind);
}

/* An MPI wait's object: its call and communicator. */
static void put_mpi_obj(uint64_t obj) {
  const char *call = weft_mpi_call_name(WEFT_MPI_OBJ_CALL(obj));
  printf(" call=%s comm=0x%" PRIx64, call ? call : "?", WEFT_MPI_OBJ_COMM(obj));
}

static void put_op(unsigned op) {
  const char *o = weft_op_name(op);
  if (o)
    printf(" op=%s", o);
  else
    printf(" op=%u", op);
}

static void put_enum(const char *key, unsigned v, const char *const *names, unsigned n) {
  if (v < n)
    printf(" %s=%s", key, names[v]);
  else
    printf(" %s=%u", key, v);
}

static void put_record(const Dump *d, const WeftEvent *ev) {
  static const char *const thread_exit[] = {"return", "pthread_exit", "at_process_exit"};
  static const char *const pexit[] = {"exit", "_exit", "return"};
  static const char *const mark_how[] = {"instant", "begin", "end"};
  const uint64_t *w = ev->w;
  const unsigned n = ev->nwords, aux = ev->aux;
  const unsigned kind = WEFT_AUX_KIND(aux), op = WEFT_AUX_OP(aux), res = WEFT_AUX_RESULT(aux);

  if (d->raw_ts)
    printf("%" PRIu64, ev->ns);
  else if (ev->ns >= d->origin)
    printf("%" PRIu64, ev->ns - d->origin);
  else
    printf("-%" PRIu64, d->origin - ev->ns);
  printf(" %" PRIu32 " %" PRIu32 " %s", ev->pid, ev->tid, weft_event_name(ev->type));

  /* The reader guarantees n >= weft_event_min_words(type); optional words are tested. */
  switch (ev->type) {
    case WEFT_EV_TIME: printf(" tick=%" PRIu64, w[1]); break;
    case WEFT_EV_SYNC:
      printf(" tick=%" PRIu64 " ns=%" PRIu64, w[1], w[2]);
      if (ev->nwords > 3) printf(" realtime=%" PRIu64, w[3]);
      break;
    case WEFT_EV_LOST: printf(" count=%" PRIu64, w[1]); break;
    case WEFT_EV_THREAD_START:
      printf(" self=0x%" PRIx64 " routine=0x%" PRIx64 " creator=%" PRIu64 " main=%u", w[1], w[2], w[3], aux);
      break;
    case WEFT_EV_THREAD_EXIT:
      printf(" self=0x%" PRIx64, w[1]);
      put_enum("how", aux, thread_exit, 3);
      break;
    case WEFT_EV_THREAD_CREATE:
      printf(" new=0x%" PRIx64 " routine=0x%" PRIx64 " stack=%" PRIu64 " res=%u", w[1], w[2], w[3], aux);
      break;
    case WEFT_EV_THREAD_DETACH: printf(" thread=0x%" PRIx64 " res=%u", w[1], aux); break;
    case WEFT_EV_THREAD_NAME:
      printf(" thread=0x%" PRIx64, w[1]);
      put_string("name", ev, 2);
      printf(" res=%u", aux);
      break;
    case WEFT_EV_ACQ:
    case WEFT_EV_REL:
    case WEFT_EV_SIGNAL:
    case WEFT_EV_DESTROY:
      put_kind(kind);
      if (ev->type == WEFT_EV_DESTROY && op == WEFT_OP_CLOSE)
        printf(" op=close");
      else
        put_op(op);
      printf(" res=%u obj=0x%" PRIx64, res, ev->type == WEFT_EV_REL ? weft_rel_addr(aux, w[1]) : w[1]);
      if (ev->type == WEFT_EV_REL && (n > 2 || op == WEFT_OP_HELD)) { /* version 3 */
        int late;
        uint64_t len1 = weft_rel_len1(aux, n, w, &late);
        printf(" len=%" PRId64 " late=%u", len1 ? (int64_t)(len1 - 1) : -1, (unsigned)late);
      } else if (n > 2 && ev->type == WEFT_EV_SIGNAL)
        printf(" late=%u", (unsigned)(w[2] & WEFT_REL_LATE));
      break;
    case WEFT_EV_COUNTS:
      put_kind(kind);
      printf(" obj=0x%" PRIx64 " tid=%" PRIu64 " acq=%" PRIu64 " fail=%" PRIu64 " rel=%" PRIu64 " samples=%" PRIu64
             " sample_ticks=%" PRIu64 " sample_max=%" PRIu64 " first=%" PRIu64,
             w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8], w[9]);
      break;
    case WEFT_EV_WAIT_BEGIN:
      put_kind(kind);
      put_op(op);
      printf(" obj=0x%" PRIx64 " holder=%" PRIu64 " stack=%" PRIu64 " obj2=0x%" PRIx64, w[1], w[2] & 0xffffffffu,
             w[2] >> 32, w[3]);
      if (kind == WEFT_KIND_MPI) put_mpi_obj(w[1]);
      break;
    case WEFT_EV_WAIT_END:
      put_kind(kind);
      put_op(op);
      printf(" res=%u obj=0x%" PRIx64, res, w[1]);
      if (kind == WEFT_KIND_CHILD) {
        if (n > 2) printf(" pid=%" PRId64, (int64_t)w[2]);
        if (n > 3) printf(" status=%" PRId64, (int64_t)w[3]);
      } else if (kind == WEFT_KIND_READ && n > 2) {
        printf(" bytes=%" PRId64, (int64_t)w[2]);
      }
      if (kind != WEFT_KIND_CHILD && n > 4) /* version 4: the stack of a wait written after it ended */
        printf(" stack=%" PRIu64, w[4] & 0xffffffffu);
      if (kind == WEFT_KIND_MPI) put_mpi_obj(w[1]);
      break;
    case WEFT_EV_SOCK:
      printf(" %s stream=%016" PRIx64 " offset=%" PRIu64 " bytes=%" PRIu64, ev->aux ? "received" : "sent", w[1], w[2],
             w[3]);
      break;
    case WEFT_EV_MPI_MSG: {
      const char *call = weft_mpi_call_name(WEFT_MPI_MSG_CALL(aux));
      printf(" %s call=%s comm=0x%" PRIx64 " peer=%" PRId32 " tag=%" PRId32 " bytes=%" PRIu64 " seq=%" PRIu64,
             WEFT_MPI_MSG_DIR(aux) == WEFT_MPI_MSG_RECV ? "recv" : "send", call ? call : "?", w[1], (int32_t)w[2],
             (int32_t)(w[2] >> 32), w[3], w[4]);
      break;
    }
    case WEFT_EV_MPI_COLL: {
      const char *call = weft_mpi_call_name(aux);
      printf(" call=%s comm=0x%" PRIx64 " seq=%" PRIu64 " bytes=%" PRIu64 " root=%" PRId32 " size=%" PRIu64,
             call ? call : "?", w[1], w[2], w[3], (int32_t)w[4], w[4] >> 32);
      break;
    }
    case WEFT_EV_UNLOCK_COST: printf(" ticks=%" PRIu64, w[1]); break;
    case WEFT_EV_MPI_RANK:
      printf(" rank=%" PRIu64 " size=%" PRIu64 " from=%s", w[1], w[2], aux == WEFT_MPI_RANK_INIT ? "init" : "env");
      break;
    case WEFT_EV_INIT:
      put_kind(kind);
      if (WEFT_AUX_OP(aux) == WEFT_OP_OMP) printf(" runtime=openmp");
      printf(" obj=0x%" PRIx64 " attr=0x%" PRIx64, w[1], w[2]);
      if (n > 3) printf(" stack=%" PRIu64, w[3]);
      break;
    case WEFT_EV_SEM_OPEN:
      printf(" obj=0x%" PRIx64, w[1]);
      put_string("name", ev, 2);
      break;
    case WEFT_EV_SHARED:
      put_kind(kind);
      printf(" obj=0x%" PRIx64 " dev=%" PRIu64 ":%" PRIu64 " ino=%" PRIu64 " off=%" PRIu64, w[1], w[2] >> 32,
             w[2] & 0xffffffffu, w[3], w[4]);
      break;
    case WEFT_EV_FORK: {
      const char *how = weft_fork_how_name(aux & 0xff);
      if (how)
        printf(" how=%s", how);
      else
        printf(" how=%u", aux & 0xff);
      printf(" child=%" PRId64 " res=%u", (int64_t)w[1], aux >> 8);
      break;
    }
    case WEFT_EV_EXEC: put_string("path", ev, 1); break;
    case WEFT_EV_EXEC_FAILED: printf(" errno=%u", aux); break;
    case WEFT_EV_EXIT:
      put_enum("how", aux, pexit, 3);
      printf(" status=%" PRId64, (int64_t)w[1]);
      break;
    case WEFT_EV_PROCESS_INFO: {
      uint64_t argc = w[1] & 0xffffffffu;
      size_t pos = 0, len;
      const char *s;
      printf(" image=%" PRIu64 " argv=", w[1] >> 32);
      for (uint64_t i = 0; i < argc && (s = weft_event_next_string(ev, 2, &pos, &len)); i++) {
        if (i) putchar(' ');
        put_quoted(s, len);
      }
      s = weft_event_next_string(ev, 2, &pos, &len);
      fputs(" exe=", stdout);
      put_quoted(s ? s : "", s ? len : 0);
      break;
    }
    case WEFT_EV_MODULE: {
      printf(" bias=0x%" PRIx64 " start=0x%" PRIx64 " end=0x%" PRIx64 " buildid=", w[1], w[2], w[3]);
      size_t idlen = (size_t)(w[4] & 0xff), room = n > 5 ? (size_t)(n - 5) * 8 : 0;
      if (idlen > 20) idlen = 20;
      if (idlen > room) idlen = room;
      const unsigned char *id = (const unsigned char *)(w + 5);
      for (size_t i = 0; i < idlen; i++) printf("%02x", id[i]);
      put_string("path", ev, 8);
      break;
    }
    case WEFT_EV_STACK: {
      uint64_t depth = w[1] >> 32, have = n - 2;
      printf(" id=%" PRIu64 " depth=%" PRIu64 " ips=", w[1] & 0xffffffffu, depth);
      for (uint64_t i = 0; i < depth && i < have; i++) {
        if (weft_stack_word_is_py(w[2 + i]))
          printf("%spy:%" PRIu32, i ? "," : "", weft_stack_word_py_id(w[2 + i]));
        else
          printf("%s0x%" PRIx64, i ? "," : "", w[2 + i]);
      }
      break;
    }
    case WEFT_EV_PY_FRAME: {
      size_t pos = 0, len = 0;
      printf(" id=%" PRIu64 " line=%" PRIu64 " first=%" PRIu64 " function=", w[1] & 0xffffffffu, w[1] >> 32,
             w[2] & 0xffffffffu);
      const char *s = weft_event_next_string(ev, 3, &pos, &len);
      put_quoted(s ? s : "", s ? len : 0);
      s = weft_event_next_string(ev, 3, &pos, &len);
      fputs(" file=", stdout);
      put_quoted(s ? s : "", s ? len : 0);
      break;
    }
    case WEFT_EV_SCHED:
      printf(" tid=%" PRIu64 " cpu_ns=%" PRIu64 " runq_ns=%" PRIu64 " slices=%" PRIu64, w[1], w[2], w[3], w[4]);
      break;
    case WEFT_EV_NAME_OBJECT:
      printf(" obj=0x%" PRIx64, w[1]);
      put_string("name", ev, 2);
      break;
    case WEFT_EV_MARK:
      printf(" id=%" PRIu64, w[1]);
      put_enum("how", aux, mark_how, 3);
      put_string("label", ev, 2);
      break;
    default: /* a type this dump does not know yet: raw words */
      printf(" aux=%u", aux);
      for (unsigned i = 1; i < n; i++) printf(" w%u=0x%" PRIx64, i, w[i]);
      break;
  }
  putchar('\n');
}

/* ---- stats ---- */

static int is_sync_type(unsigned type) {
  switch (type) {
    case WEFT_EV_ACQ:
    case WEFT_EV_REL:
    case WEFT_EV_WAIT_BEGIN:
    case WEFT_EV_WAIT_END:
    case WEFT_EV_INIT:
    case WEFT_EV_DESTROY:
    case WEFT_EV_SIGNAL:
    case WEFT_EV_COUNTS: return 1;
    default: return 0;
  }
}

static void count_record(Dump *d, const WeftEvent *ev) {
  d->records++;
  d->by_type[ev->type & 0xff]++;
  if (is_sync_type(ev->type)) d->by_kind[ev->type & 0xff][WEFT_AUX_KIND(ev->aux)]++;
  if (ev->type == WEFT_EV_LOST) d->lost += ev->w[1]; /* wraps only on absurd input; a debug tool */
  if (ev->type == WEFT_EV_COUNTS)
    for (int i = 0; i < 4; i++) /* acq, fail, rel, samples: w3 .. w6 */
      d->counted[i][WEFT_AUX_KIND(ev->aux)] += ev->w[3 + i];
  if (ev->type == WEFT_EV_THREAD_START) vec_add(&d->threads, (uint64_t)ev->pid << 32 | ev->tid);
}

typedef struct {
  char name[64];
  uint64_t count;
} StatLine;

static int stat_cmp(const void *a, const void *b) {
  return strcmp(((const StatLine *)a)->name, ((const StatLine *)b)->name);
}

/* files, sections, sessions, processes, threads, records, lost; then NAME COUNT and
 * NAME.KIND COUNT lines sorted by name. */
static void print_stats(Dump *d) {
  printf("files %" PRIu64 "\n", d->files);
  printf("sections %" PRIu64 "\n", d->sections);
  printf("sessions %zu\n", vec_distinct(&d->sessions));
  printf("processes %zu\n", vec_distinct(&d->pids));
  printf("threads %zu\n", vec_distinct(&d->threads));
  printf("records %" PRIu64 "\n", d->records);
  printf("lost %" PRIu64 "\n", d->lost);
  static StatLine lines[256 * 33 + 4 * 32];
  size_t nl = 0;
  for (unsigned t = 0; t < 256; t++) {
    if (!d->by_type[t]) continue;
    const char *name = weft_event_name(t);
    snprintf(lines[nl].name, sizeof lines[nl].name, "%s", name ? name : "?");
    lines[nl++].count = d->by_type[t];
    for (unsigned k = 0; k < 32; k++) {
      if (!d->by_kind[t][k]) continue;
      const char *kn = weft_kind_name(k);
      if (kn)
        snprintf(lines[nl].name, sizeof lines[nl].name, "%s.%s", name, kn);
      else
        snprintf(lines[nl].name, sizeof lines[nl].name, "%s.%u", name, k);
      lines[nl++].count = d->by_kind[t][k];
    }
  }
  /* the operations counted instead of recorded (version 3): counted.WHAT.KIND */
  static const char *const what[4] = {"acq", "fail", "rel", "samples"};
  for (int i = 0; i < 4; i++)
    for (unsigned k = 0; k < 32; k++) {
      if (!d->counted[i][k]) continue;
      const char *kn = weft_kind_name(k);
      snprintf(lines[nl].name, sizeof lines[nl].name, "counted.%s.%s", what[i], kn ? kn : "?");
      lines[nl++].count = d->counted[i][k];
    }
  qsort(lines, nl, sizeof lines[0], stat_cmp);
  for (size_t i = 0; i < nl; i++) printf("%s %" PRIu64 "\n", lines[i].name, lines[i].count);
}

/* ---- driving ---- */

static int on_event(const WeftEvent *ev, void *user) {
  Dump *d = user;
  if (d->stats)
    count_record(d, ev);
  else
    put_record(d, ev);
  return 0;
}

static const char *base_name(const char *path) {
  const char *s = strrchr(path, '/');
  return s ? s + 1 : path;
}

/* One trace: its header lines (named name) and its records. */
static int dump_one(Dump *d, WeftTrace *t, const char *name, char *err, size_t errlen) {
  const WeftFileHeader *h = weft_trace_header(t);
  vec_add(&d->pids, h->pid);
  vec_add(&d->sessions, h->session);
  d->lost += h->lost;
  if (!d->stats)
    printf("# file %s pid=%" PRIu32 " ppid=%" PRIu32 " image=%" PRIu32 " version=%" PRIu32
           " clock=%s session=%016" PRIx64 " lost=%" PRIu64 "\n",
           name, h->pid, h->ppid, h->image, h->version, h->clock == WEFT_CLOCK_TSC ? "tsc" : "monotonic", h->session,
           h->lost);
  if (!d->stats && (h->features & WEFT_FEAT_COUNTERS))
    printf("#   holds=%s sample=%" PRIu32 " flush_ms=%" PRIu32 "%s%s%s\n",
           (h->features & WEFT_FEAT_HOLDS_ALL) ? "all" : "contended", h->hold_sample, h->flush_ms,
           (h->features & WEFT_FEAT_PY_FRAMES) ? " python=frames" : "",
           (h->features & WEFT_FEAT_MODULES_INHERITED) ? " modules=parent's" : "",
           (h->features & WEFT_FEAT_FUTEX) ? " futex=recorded" : "");
  if (!d->stats && h->host_id)
    printf("#   host=%.*s host_id=%016" PRIx64 "\n", (int)strnlen(h->host_name, sizeof h->host_name), h->host_name,
           h->host_id);
  return weft_trace_scan(t, on_event, d, err, errlen);
}

/* A file's trace, then its sections. */
static int dump_trace(Dump *d, WeftTrace *t, char *err, size_t errlen) {
  const char *name = base_name(weft_trace_name(t));
  d->files++;
  int rc = dump_one(d, t, name, err, errlen);
  WeftTrace *const *sec;
  size_t n = weft_trace_sections(t, &sec);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const uint64_t at = weft_trace_section_at(sec[i]);
    char label[4200];
    d->sections++;
    if (!d->stats)
      printf("# section of pid %" PRIu32 " (PROCESS chunk at offset %" PRIu64 ") in %s\n",
             weft_trace_header(sec[i])->pid, at, name);
    snprintf(label, sizeof label, "%s@%" PRIu64, name, at);
    rc = dump_one(d, sec[i], label, err, errlen);
  }
  return rc;
}

static void warn_skipped(const char *msg, void *user) {
  (void)user;
  fflush(stdout);
  fprintf(stderr, "weft-dump: %s\n", msg);
}

static int dump_path(Dump *d, const char *path, char *err, size_t errlen) {
  struct stat st;
  int rc;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    WeftRecording *r;
    const WeftRecordingOptions opt = {.all_sessions = 1, .warn = warn_skipped};
    if (weft_recording_open_with(path, &opt, &r, err, errlen) < 0) return -1;
    d->origin = weft_recording_start_ns(r);
    rc = 0;
    for (size_t i = 0; rc == 0 && i < weft_recording_count(r); i++)
      if (!weft_trace_section_at(weft_recording_trace(r, i))) /* sections come with their file */
        rc = dump_trace(d, weft_recording_trace(r, i), err, errlen);
    weft_recording_close(r);
  } else {
    WeftTrace *t;
    if (weft_trace_open(path, &t, err, errlen) < 0) return -1;
    d->origin = weft_trace_header(t)->start_ns;
    rc = dump_trace(d, t, err, errlen);
    weft_trace_close(t);
  }
  return rc < 0 ? -1 : 0;
}

static void usage(FILE *f) {
  fprintf(f, "usage: weft-dump [--stats] [--raw-ts] DIR|FILE...\n"
             "Print weft trace files (a recording directory or single .wtrace files) as text.\n"
             "  --stats   print counts of files, processes, threads and records by type\n"
             "  --raw-ts  print absolute CLOCK_MONOTONIC ns instead of ns since the start\n");
}

int main(int argc, char **argv) {
  static Dump d;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--stats") == 0)
      d.stats = 1;
    else if (strcmp(argv[i], "--raw-ts") == 0)
      d.raw_ts = 1;
    else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    } else {
      fprintf(stderr, "weft-dump: unknown option %s\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (i >= argc) {
    usage(stderr);
    return 2;
  }
  static char outbuf[1 << 16];
  setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);

  char err[1024] = "";
  int rc = 0;
  for (; i < argc && rc == 0; i++) rc = dump_path(&d, argv[i], err, sizeof err);
  if (d.stats) print_stats(&d);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "weft-dump: error writing the output\n");
    return 1;
  }
  if (rc < 0) {
    fprintf(stderr, "weft-dump: %s\n", err);
    return 1;
  }
  free(d.pids.v);
  free(d.threads.v);
  free(d.sessions.v);
  return 0;
}
