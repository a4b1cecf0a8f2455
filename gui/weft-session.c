/* weft-session.c - an open recording, as weft-gui reads it.
 * SPDX-License-Identifier: MIT
 *
 * Every read goes through store/query.h (no SQL here): the session keeps
 * what the viewer needs in memory, folds rows into pixels and caches the
 * level-of-detail tiles.
 */
#include "config.h"

#include "weft-session.h"

#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#include <string.h>

#include "metrics.h"
#include "naming.h"
#include "query.h"
#include "weft-sqlite.h"

/* The reads of one connection: the session's own, or a worker's
 * (weft_session_reader_new: a connection of its own). */
struct _WeftSessionReader {
  WeftSession *session;
  sqlite3 *db; /* owned unless it is the session's */
  gboolean own_db;
  WeftQuery q;              /* its statements, prepared once */
  char err[PATH_MAX + 512]; /* q's first error: "PATH: cannot read the recording: ..." */
  GHashTable *tiles;        /* TileKey* -> GArray of WeftSummaryRow: state_summary read in tiles */
  gsize tile_rows;          /* rows in tiles */
};

/* state_summary is read in tiles of TILE_BUCKETS buckets of one thread and
 * level, kept by each reader: a pan or a zoom within a level reads only the
 * tiles it did not read before. At most TILE_ROWS rows are kept (then the
 * cache starts again). */
#define TILE_BUCKETS 512
#define TILE_ROWS    (2u << 20)

typedef struct {
  int64_t utid, tile;
  int level;
} TileKey;

static guint tile_hash(gconstpointer p) {
  const TileKey *k = p;
  guint64 h = (guint64)k->utid * 0x9E3779B97F4A7C15ull ^ (guint64)k->tile * 0xC2B2AE3D27D4EB4Full ^ (guint64)k->level;
  return (guint)(h ^ h >> 32);
}

static gboolean tile_equal(gconstpointer a, gconstpointer b) {
  const TileKey *x = a, *y = b;
  return x->utid == y->utid && x->tile == y->tile && x->level == y->level;
}

struct _WeftSession {
  char *path;
  char *read_error; /* "PATH: cannot read the recording", the readers' message prefix */
  sqlite3 *db;
  WeftSessionReader reader;
  char *command;
  int64_t end_ns;
  int64_t lod_base_ns;
  guint32 states_present;
  GArray *hosts;          /* WeftSessionHost */
  GArray *processes;      /* WeftSessionProcess */
  GArray *threads;        /* WeftSessionThread */
  GArray *locks;          /* WeftSessionLock */
  GHashTable *utid_index; /* utid -> index + 1 */
  int ncpus;
  gboolean has_readings;
  /* per thread, its running time's split (read by the first reader that
   * folds it, kept until the session goes): under cpu_lock */
  GMutex cpu_lock;
  WeftCpuModel **cpu_models;
  guint n_reads; /* reads through db after the open (the GTK thread's): weft_session_get_n_reads */
};

typedef struct {
  int64_t upid;
  int64_t parent_upid;
  int pid;
  char *exe;
  int64_t start_ns;
  int image;
  int n_images;
  int64_t exec_from_upid, end_ns;
  int role;         /* WEFT_PROCESS_* */
  guint host;       /* index into the session's hosts */
  int64_t mpi_rank; /* -1: not a rank */
} ProcRow;

/* Append upid's subtree (children ordered by start, as rows are) to
 * self->processes, depth first. rows is the whole process table. */
static void add_process_tree(WeftSession *self, GArray *rows, guint idx, int depth, GHashTable *seen) {
  ProcRow *r = &g_array_index(rows, ProcRow, idx);
  if (g_hash_table_contains(seen, &r->upid)) return;
  g_hash_table_add(seen, &r->upid);
  WeftSessionProcess p = {.upid = r->upid,
                          .pid = r->pid,
                          .image = r->image,
                          .n_images = r->n_images,
                          .depth = depth,
                          .exe = g_strdup(r->exe),
                          .role = r->role,
                          .host = r->host};
  g_array_append_val(self->processes, p);
  for (guint i = 0; i < rows->len; i++) {
    ProcRow *c = &g_array_index(rows, ProcRow, i);
    /* (a host's processes stay a range even if a damaged file has a parent on another host) */
    if (c->parent_upid == r->upid && c->host == r->host) add_process_tree(self, rows, i, depth + 1, seen);
  }
}

static void reader_init(WeftSessionReader *r, WeftSession *session, sqlite3 *db, gboolean own_db) {
  r->session = session;
  r->db = db;
  r->own_db = own_db;
  weft_query_init(&r->q, db, r->err, sizeof r->err, session->read_error);
  r->tiles = g_hash_table_new_full(tile_hash, tile_equal, g_free, (GDestroyNotify)g_array_unref);
}

static void reader_clear(WeftSessionReader *r) {
  weft_query_clear(&r->q);
  g_clear_pointer(&r->tiles, g_hash_table_unref);
  r->tile_rows = 0;
  if (r->own_db) sqlite3_close(r->db);
  r->db = NULL;
}

WeftSessionReader *weft_session_reader_new(WeftSession *self, GError **error) {
  char err[512] = "";
  sqlite3 *db = weft_db_open(self->path, 0, err, sizeof err);
  if (!db) {
    g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, err[0] ? err : "cannot open the recording");
    return NULL;
  }
  WeftSessionReader *r = g_new0(WeftSessionReader, 1);
  reader_init(r, self, db, TRUE);
  if (!weft_query_prepare_all(&r->q)) {
    g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, r->err);
    weft_session_reader_free(r);
    return NULL;
  }
  return r;
}

void weft_session_reader_free(WeftSessionReader *r) {
  if (!r) return;
  reader_clear(r);
  g_free(r);
}

static void proc_row_clear(ProcRow *r) { g_free(r->exe); }

/* By start, then upid: children in the tree come in this order. */
static gint proc_row_by_start(gconstpointer a, gconstpointer b) {
  const ProcRow *x = a, *y = b;
  if (x->start_ns != y->start_ns) return x->start_ns < y->start_ns ? -1 : 1;
  return x->upid < y->upid ? -1 : x->upid > y->upid;
}

/* The launchers before the program (env, shells, pyenv's shims), as `weft report`. */
static void mark_launchers(GArray *rows) {
  g_autofree WeftProcLink *l = g_new(WeftProcLink, MAX(1, rows->len));
  g_autofree bool *lf = g_new(bool, MAX(1, rows->len));
  for (guint i = 0; i < rows->len; i++) {
    const ProcRow *r = &g_array_index(rows, ProcRow, i);
    l[i] = (WeftProcLink){r->upid, r->pid, r->image, r->parent_upid, r->exec_from_upid, r->end_ns, r->mpi_rank};
  }
  size_t nl = 0;
  bool mpi = false;
  ptrdiff_t prog = weft_find_launchers(l, rows->len, lf, &nl, &mpi);
  for (guint i = 0; prog >= 0 && i < rows->len; i++)
    g_array_index(rows, ProcRow, i).role = (ptrdiff_t)i == prog ? WEFT_PROCESS_PROGRAM_START
                                           : lf[i]              ? WEFT_PROCESS_LAUNCHER
                                                                : WEFT_PROCESS_PROGRAM;
}

/* The hosts (schema 5's host table), in host order. */
static gboolean load_hosts(WeftSession *self) {
  WeftCursor c;
  WeftHostRow h;
  weft_query_hosts(&self->reader.q, &c);
  while (weft_next_host(&c, &h)) {
    WeftSessionHost x = {.host = h.host,
                         .name = g_strdup(h.name ? h.name : ""),
                         .host_id = g_strdup(h.host_id ? h.host_id : ""),
                         .files = h.files,
                         .anchor_shift_ns = h.anchor_shift_ns,
                         .clock_offset_ns = h.clock_offset_ns,
                         .offset_uncertainty_ns = h.offset_uncertainty_ns,
                         .drift_ppm = h.drift_ppm,
                         .messages = h.messages,
                         .offset_at_ns = h.offset_at_ns};
    g_array_append_val(self->hosts, x);
  }
  return weft_cursor_close(&c) == 0;
}

/* The index of host h in self->hosts; a host the host table lacks (a
 * damaged file) gets a row of its own, its clock unknown. */
static guint host_index(WeftSession *self, int64_t h) {
  for (guint i = 0; i < self->hosts->len; i++)
    if (g_array_index(self->hosts, WeftSessionHost, i).host == h) return i;
  WeftSessionHost x = {.host = h,
                       .name = g_strdup_printf("host %" G_GINT64_FORMAT, h),
                       .host_id = g_strdup(""),
                       .offset_uncertainty_ns = -1};
  g_array_append_val(self->hosts, x);
  return self->hosts->len - 1;
}

/* The processes, by host, each host's in process-tree order. */
static gboolean load_processes(WeftSession *self) {
  g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(ProcRow));
  g_array_set_clear_func(rows, (GDestroyNotify)proc_row_clear);
  g_autoptr(GHashTable) upids = g_hash_table_new(g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_int64_hash, g_int64_equal);
  WeftCursor c;
  WeftProcessRow p;
  if (!load_hosts(self)) return FALSE;
  weft_query_processes(&self->reader.q, &c);
  while (weft_next_process(&c, &p)) {
    ProcRow r = {p.upid,
                 p.parent_upid,
                 (int)p.pid,
                 g_strdup(p.exe       ? p.exe
                          : p.cmdline ? p.cmdline
                                      : ""),
                 p.start_ns,
                 (int)p.image,
                 (int)p.n_images,
                 p.exec_from_upid,
                 p.end_ns,
                 WEFT_PROCESS_PROGRAM,
                 host_index(self, p.host),
                 p.mpi_rank};
    g_array_append_val(rows, r);
  }
  if (weft_cursor_close(&c) < 0) return FALSE;
  g_array_sort(rows, proc_row_by_start);
  mark_launchers(rows);
  for (guint i = 0; i < rows->len; i++) {
    ProcRow *r = &g_array_index(rows, ProcRow, i);
    g_hash_table_insert(upids, &r->upid, r);
  }
  for (guint h = 0; h < self->hosts->len; h++) {
    WeftSessionHost *host = &g_array_index(self->hosts, WeftSessionHost, h);
    host->first_process = self->processes->len;
    for (guint i = 0; i < rows->len; i++) {
      ProcRow *r = &g_array_index(rows, ProcRow, i), *parent = g_hash_table_lookup(upids, &r->parent_upid);
      if (r->host == h && (!parent || parent->host != h)) add_process_tree(self, rows, i, 0, seen);
    }
    for (guint i = 0; i < rows->len; i++) /* cycles, if a damaged file has them */
      if (g_array_index(rows, ProcRow, i).host == h) add_process_tree(self, rows, i, 0, seen);
    host->n_processes = self->processes->len - host->first_process;
  }
  return TRUE;
}

/* The threads of each process, main first, then by start, with their summary levels. */
static gboolean load_threads(WeftSession *self) {
  WeftQuery *q = &self->reader.q;
  for (guint i = 0; i < self->processes->len; i++) {
    WeftSessionProcess *p = &g_array_index(self->processes, WeftSessionProcess, i);
    p->first_thread = self->threads->len;
    WeftCursor c;
    WeftThreadRow r;
    gboolean ok = TRUE;
    weft_query_threads(q, &c, p->upid);
    while (ok && weft_next_thread(&c, &r)) {
      WeftSessionThread t = {.utid = r.utid,
                             .upid = p->upid,
                             .tid = (int)r.tid,
                             .name = g_strdup(r.name ? r.name : ""),
                             .start_ns = r.start_ns,
                             .end_ns = r.end_ns,
                             .host = p->host};
      ok = weft_query_summary_levels(q, t.utid, &t.min_level, &t.max_level) == 0;
      g_array_append_val(self->threads, t);
      g_hash_table_insert(self->utid_index, GSIZE_TO_POINTER((gsize)t.utid), GUINT_TO_POINTER(self->threads->len));
    }
    if (weft_cursor_close(&c) < 0 || !ok) return FALSE;
    p->n_threads = self->threads->len - p->first_thread;
  }
  return TRUE;
}

/* The contended locks of each process, the most waited-for first. */
static gboolean load_locks(WeftSession *self) {
  for (guint i = 0; i < self->processes->len; i++) {
    WeftSessionProcess *p = &g_array_index(self->processes, WeftSessionProcess, i);
    p->first_lock = self->locks->len;
    WeftCursor c;
    int64_t id;
    weft_query_lock_lanes(&self->reader.q, &c, p->upid);
    while (weft_next_id(&c, &id)) {
      char nbuf[512];
      WeftSessionLock l = {.object_id = id, .upid = p->upid};
      l.name = g_strdup(weft_object_display_name(self->db, l.object_id, nbuf, sizeof nbuf));
      g_array_append_val(self->locks, l);
    }
    if (weft_cursor_close(&c) < 0) return FALSE;
    p->n_locks = self->locks->len - p->first_lock;
  }
  return TRUE;
}

/* The states that occur: a thread's coarsest summary level has every state it
 * was ever in (a few rows); thread_state only for a thread without one (not a
 * scan of the whole table). */
static gboolean load_states_present(WeftSession *self) {
  for (guint i = 0; i < self->threads->len; i++) {
    const WeftSessionThread *t = &g_array_index(self->threads, WeftSessionThread, i);
    int64_t sums[WEFT_ST_COUNT];
    if (weft_query_state_sums(&self->reader.q, t->utid, t->max_level, sums, &self->states_present) < 0) return FALSE;
  }
  return TRUE;
}

/* Whether any thread has a scheduler reading (one row is enough). */
static gboolean load_has_readings(WeftSession *self) {
  for (guint i = 0; i < self->threads->len && !self->has_readings; i++) {
    WeftCursor c;
    WeftSchedRow r;
    weft_query_sched(&self->reader.q, &c, g_array_index(self->threads, WeftSessionThread, i).utid);
    self->has_readings = weft_next_sched(&c, &r);
    if (weft_cursor_close(&c) < 0) return FALSE;
  }
  return TRUE;
}

static gboolean load(WeftSession *self, GError **error) {
  self->command = weft_db_meta_get(self->db, "command");
  self->end_ns = weft_db_meta_get_int(self->db, "end_ns", 0);
  self->lod_base_ns = weft_db_meta_get_int(self->db, "lod_base_ns", 0);
  self->ncpus = (int)CLAMP(weft_db_meta_get_int(self->db, "ncpus", 0), 0, 1 << 20);
  reader_init(&self->reader, self, self->db, FALSE);
  if (load_processes(self) && load_threads(self) && load_locks(self) && load_states_present(self) &&
      load_has_readings(self) && weft_query_prepare_all(&self->reader.q)) {
    self->cpu_models = g_new0(WeftCpuModel *, MAX(1, self->threads->len));
    return TRUE;
  }
  g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, self->reader.err);
  return FALSE;
}

WeftSession *weft_session_open(const char *path, GError **error) {
  char err[512] = "";
  sqlite3 *db = weft_db_open(path, 0, err, sizeof err);
  if (!db) {
    g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, err[0] ? err : "cannot open the recording");
    return NULL;
  }
  WeftSession *self = g_new0(WeftSession, 1);
  self->path = g_strdup(path);
  self->read_error = g_strdup_printf("%s: cannot read the recording", path);
  self->db = db;
  self->hosts = g_array_new(FALSE, TRUE, sizeof(WeftSessionHost));
  self->processes = g_array_new(FALSE, TRUE, sizeof(WeftSessionProcess));
  self->threads = g_array_new(FALSE, TRUE, sizeof(WeftSessionThread));
  self->locks = g_array_new(FALSE, TRUE, sizeof(WeftSessionLock));
  self->utid_index = g_hash_table_new(NULL, NULL);
  g_mutex_init(&self->cpu_lock);
  if (!load(self, error)) {
    weft_session_free(self);
    return NULL;
  }
  return self;
}

void weft_session_free(WeftSession *self) {
  if (!self) return;
  reader_clear(&self->reader);
  sqlite3_close(self->db);
  for (guint i = 0; i < self->processes->len; i++) g_free(g_array_index(self->processes, WeftSessionProcess, i).exe);
  for (guint i = 0; i < self->threads->len; i++) g_free(g_array_index(self->threads, WeftSessionThread, i).name);
  g_array_unref(self->processes);
  for (guint i = 0; i < self->hosts->len; i++) {
    g_free(g_array_index(self->hosts, WeftSessionHost, i).name);
    g_free(g_array_index(self->hosts, WeftSessionHost, i).host_id);
  }
  g_array_unref(self->hosts);
  g_array_unref(self->threads);
  for (guint i = 0; i < self->locks->len; i++) g_free(g_array_index(self->locks, WeftSessionLock, i).name);
  g_array_unref(self->locks);
  g_hash_table_unref(self->utid_index);
  for (guint i = 0; self->cpu_models && i < self->threads->len; i++) weft_cpu_model_free(self->cpu_models[i]);
  g_free(self->cpu_models);
  g_mutex_clear(&self->cpu_lock);
  free(self->command);
  g_free(self->read_error);
  g_free(self->path);
  g_free(self);
}

const char *weft_session_get_path(WeftSession *self) { return self->path; }
const char *weft_session_get_command(WeftSession *self) { return self->command ? self->command : ""; }
int64_t weft_session_get_end_ns(WeftSession *self) { return self->end_ns; }
guint weft_session_get_n_processes(WeftSession *self) { return self->processes->len; }
const WeftSessionProcess *weft_session_get_process(WeftSession *self, guint i) {
  return i < self->processes->len ? &g_array_index(self->processes, WeftSessionProcess, i) : NULL;
}
guint weft_session_get_n_threads(WeftSession *self) { return self->threads->len; }
const WeftSessionThread *weft_session_get_thread(WeftSession *self, guint i) {
  return i < self->threads->len ? &g_array_index(self->threads, WeftSessionThread, i) : NULL;
}
guint weft_session_get_n_hosts(WeftSession *self) { return self->hosts->len; }
const WeftSessionHost *weft_session_get_host(WeftSession *self, guint i) {
  return i < self->hosts->len ? &g_array_index(self->hosts, WeftSessionHost, i) : NULL;
}

const char *weft_session_host_clock(WeftSession *self, guint i, char *buf, size_t len) {
  const WeftSessionHost *h = weft_session_get_host(self, i);
  char off[32], unc[32];
  if (!h || i == 0) {
    g_snprintf(buf, len, "the reference clock");
  } else if (h->messages <= 0) {
    g_snprintf(buf, len, "wall clock only");
  } else {
    weft_format_ns(off, sizeof off, h->clock_offset_ns);
    if (h->offset_uncertainty_ns >= 0)
      g_snprintf(buf, len, "clock %s%s ± %s, from %" G_GINT64_FORMAT " messages", h->clock_offset_ns > 0 ? "+" : "",
                 off, weft_format_ns(unc, sizeof unc, h->offset_uncertainty_ns), h->messages);
    else /* messages one way only bound the offset without estimating it (docs/schema.md) */
      g_snprintf(buf, len, "clock %s%s, a bound from %" G_GINT64_FORMAT " messages one way",
                 h->clock_offset_ns > 0 ? "+" : "", off, h->messages);
  }
  return buf;
}

const char *weft_session_thread_host_name(WeftSession *self, int64_t utid) {
  int i = weft_session_thread_index(self, utid);
  if (self->hosts->len < 2 || i < 0) return NULL;
  return g_array_index(self->hosts, WeftSessionHost, weft_session_get_thread(self, (guint)i)->host).name;
}

guint weft_session_get_n_locks(WeftSession *self) { return self->locks->len; }
const WeftSessionLock *weft_session_get_lock(WeftSession *self, guint i) {
  return i < self->locks->len ? &g_array_index(self->locks, WeftSessionLock, i) : NULL;
}
guint32 weft_session_get_states_present(WeftSession *self) { return self->states_present; }
guint weft_session_get_n_reads(WeftSession *self) { return self->n_reads; }
int weft_session_get_ncpus(WeftSession *self) { return self->ncpus; }
gboolean weft_session_has_readings(WeftSession *self) { return self->has_readings; }

/* Thread i's split of its running time, read through r's connection the
 * first time a reader needs it (two readers may both read it: the first
 * to finish is kept). NULL if it cannot be read. */
static const WeftCpuModel *cpu_model(WeftSessionReader *r, guint i) {
  WeftSession *self = r->session;
  g_mutex_lock(&self->cpu_lock);
  const WeftCpuModel *m = self->cpu_models[i];
  g_mutex_unlock(&self->cpu_lock);
  if (m) return m;
  const WeftSessionThread *t = weft_session_get_thread(self, i);
  WeftCpuLod lod = {t->utid, self->lod_base_ns, t->min_level, t->max_level};
  WeftCpuModel *read = weft_cpu_model_read(&r->q, &lod, t->start_ns, t->end_ns);
  if (!read) return NULL;
  g_mutex_lock(&self->cpu_lock);
  if (!self->cpu_models[i])
    self->cpu_models[i] = read;
  else
    weft_cpu_model_free(read);
  m = self->cpu_models[i];
  g_mutex_unlock(&self->cpu_lock);
  return m;
}

int weft_session_cpu_totals(WeftSession *self, guint i, int64_t out[4]) {
  memset(out, 0, 4 * sizeof *out);
  if (i >= self->threads->len) return -1;
  self->n_reads++;
  const WeftCpuModel *m = cpu_model(&self->reader, i);
  for (guint k = 0; m && k < m->n; k++) {
    out[0] += m->v[k].oncpu_ns;
    out[1] += m->v[k].runnable_ns;
    out[2] += m->v[k].offcpu_ns;
    if (!m->v[k].measured) out[3] += m->v[k].run_ns;
  }
  return m ? 0 : -1;
}

int weft_session_cpu_cached_at(WeftSession *self, guint i, int64_t t, WeftCpuInterval *out, WeftCpuLod *lod) {
  const WeftSessionThread *th = weft_session_get_thread(self, i);
  if (!th) return 0;
  g_mutex_lock(&self->cpu_lock);
  const WeftCpuModel *m = self->cpu_models[i];
  const WeftCpuInterval *x = m ? weft_cpu_model_at(m, t) : NULL;
  if (x) *out = *x;
  g_mutex_unlock(&self->cpu_lock);
  *lod = (WeftCpuLod){th->utid, self->lod_base_ns, th->min_level, th->max_level};
  return m ? x != NULL : -1;
}

/* Spread `amount` ns of state over [s, e) (uniformly) into the pixel
 * accumulators acc[px * WEFT_ST_COUNT + state]. */
static void spread(double *acc, int npx, double t0, double npp, double s, double e, int state, double amount) {
  if (e <= s || state < 0 || state >= WEFT_ST_COUNT) return;
  double x0 = (s - t0) / npp, x1 = (e - t0) / npp;
  if (x1 <= 0 || x0 >= npx) return;
  double per_px = amount / (x1 - x0); /* ns of this state per pixel of [s, e) */
  int p0 = x0 < 0 ? 0 : (int)x0;
  int p1 = x1 > npx ? npx - 1 : (int)ceil(x1) - 1;
  for (int p = p0; p <= p1; p++) {
    double a = fmax(x0, p), b = fmin(x1, p + 1);
    if (b > a) acc[(size_t)p * WEFT_ST_COUNT + state] += (b - a) * per_px;
  }
}

/* The state_summary rows of (utid, level) in buckets [tile * TILE_BUCKETS,
 * (tile + 1) * TILE_BUCKETS), from the cache or read now; NULL if they
 * cannot be read. */
static const GArray *reader_tile(WeftSessionReader *r, int64_t utid, int level, int64_t tile) {
  TileKey key = {utid, tile, level};
  GArray *rows = g_hash_table_lookup(r->tiles, &key);
  if (rows) return rows;
  WeftCursor c;
  WeftSummaryRow sr;
  weft_query_summary(&r->q, &c, utid, level, tile * TILE_BUCKETS, tile * TILE_BUCKETS + TILE_BUCKETS - 1);
  rows = g_array_new(FALSE, FALSE, sizeof(WeftSummaryRow));
  while (weft_next_summary(&c, &sr)) g_array_append_val(rows, sr);
  if (weft_cursor_close(&c) < 0) {
    g_array_unref(rows);
    return NULL;
  }
  if (r->tile_rows + rows->len > TILE_ROWS) {
    g_hash_table_remove_all(r->tiles);
    r->tile_rows = 0;
  }
  r->tile_rows += rows->len;
  g_hash_table_insert(r->tiles, g_memdup2(&key, sizeof key), rows);
  return rows;
}

gboolean weft_pixel_pick(const double *state_ns, double npp, WeftPixel *out) {
  int best = -1, best_wait = -1, n = 0;
  double alive = 0;
  for (int s = 0; s < WEFT_ST_COUNT; s++) {
    if (state_ns[s] <= 0) continue;
    n++;
    alive += state_ns[s];
    if (best < 0 || state_ns[s] > state_ns[best]) best = s;
    if (s != WEFT_ST_RUNNING && (best_wait < 0 || state_ns[s] > state_ns[best_wait])) best_wait = s;
  }
  if (best < 0) return FALSE;
  out->running = (float)CLAMP(state_ns[WEFT_ST_RUNNING] / npp, 0, 1);
  out->alive = (float)CLAMP(alive / npp, 0, 1);
  out->state = (guint8)best;
  out->nstates = (guint8)n;
  if (best == WEFT_ST_RUNNING && best_wait >= 0) out->mark = (guint8)best_wait;
  return TRUE;
}

int weft_session_fold(WeftSession *self, guint i, double t0, double npp, int npx, WeftPixel *out) {
  self->n_reads++;
  return weft_session_reader_fold(&self->reader, i, t0, npp, npx, out);
}

int weft_session_reader_fold(WeftSessionReader *reader, guint i, double t0, double npp, int npx, WeftPixel *out) {
  WeftSession *self = reader->session;
  for (int p = 0; p < npx; p++) out[p] = (WeftPixel){WEFT_PIXEL_NONE, WEFT_PIXEL_NONE, 0, 0, 0, 0, 0, 0, 0};
  const WeftSessionThread *t = weft_session_get_thread(self, i);
  if (!t || npx <= 0 || npp <= 0) return t ? 0 : -1;
  double t1 = t0 + npp * npx;
  if (t->end_ns <= t0 || t->start_ns >= t1) return 0;
  /* the split of the running time (read before the states: it reads them too) */
  const WeftCpuModel *cpu = cpu_model(reader, i);
  if (!cpu) return -1;
  double *acc = g_new0(double, (size_t)npx *WEFT_ST_COUNT);
  double *cacc = g_new0(double, (size_t)npx *WEFT_CPU_N);
  int rc = 0;

  /* the coarsest summary level whose buckets are no wider than a pixel */
  int level = -1;
  if (t->min_level >= 0 && self->lod_base_ns > 0) {
    for (int l = t->max_level; l >= t->min_level; l--) {
      if ((double)self->lod_base_ns * pow(4, l) <= npp) {
        level = l;
        break;
      }
    }
  }
  if (level >= 0) {
    double w = (double)self->lod_base_ns * pow(4, level);
    int64_t b0 = (int64_t)floor(fmax(t0, 0) / w), b1 = (int64_t)floor(t1 / w);
    for (int64_t tile = b0 / TILE_BUCKETS; tile <= b1 / TILE_BUCKETS && rc == 0; tile++) {
      const GArray *rows = reader_tile(reader, t->utid, level, tile);
      if (!rows) {
        rc = -1;
        break;
      }
      for (guint k = 0; k < rows->len; k++) {
        const WeftSummaryRow *sr = &g_array_index(rows, WeftSummaryRow, k);
        if (sr->bucket < b0 || sr->bucket > b1) continue;
        double b = (double)sr->bucket;
        /* the thread's part of the bucket: its totals add up to that */
        double s = fmax(b * w, (double)t->start_ns), e = fmin((b + 1) * w, (double)t->end_ns);
        spread(acc, npx, t0, npp, s, e, sr->state, (double)sr->total_ns);
        if (sr->state == WEFT_ST_RUNNING) weft_cpu_spread(cpu, cacc, npx, t0, npp, s, e, (double)sr->total_ns);
      }
    }
  } else {
    WeftCursor c;
    WeftStateTimes row;
    weft_query_state_times(&reader->q, &c, t->utid, (int64_t)floor(t0), (int64_t)ceil(t1));
    while (weft_next_state_times(&c, &row)) {
      double s = (double)row.start_ns, d = (double)row.dur_ns;
      spread(acc, npx, t0, npp, s, s + d, row.state, d);
      if (row.state == WEFT_ST_RUNNING) weft_cpu_spread(cpu, cacc, npx, t0, npp, s, s + d, d);
    }
    if (weft_cursor_close(&c) < 0) rc = -1;
  }

  for (int p = 0; p < npx && rc == 0; p++) {
    const double *a = acc + (size_t)p * WEFT_ST_COUNT;
    if (!weft_pixel_pick(a, npp, &out[p])) continue;
    const double *ca = cacc + (size_t)p * WEFT_CPU_N;
    out[p].oncpu = (float)CLAMP(ca[WEFT_CPU_ON] / npp, 0, 1);
    out[p].runnable = (float)CLAMP(ca[WEFT_CPU_RUNNABLE] / npp, 0, 1);
    out[p].offcpu = (float)CLAMP(ca[WEFT_CPU_OFF] / npp, 0, 1);
    out[p].estimated = a[WEFT_ST_RUNNING] > 0 ? (float)CLAMP(ca[WEFT_CPU_ESTIMATED] / a[WEFT_ST_RUNNING], 0, 1) : 0;
  }
  g_free(acc);
  g_free(cacc);
  return rc;
}

static int reader_holds(WeftSessionReader *r, int64_t object_id, int64_t t0, int64_t t1, GArray *out);

int weft_session_fold_lock(WeftSession *self, guint i, double t0, double npp, int npx, WeftHoldPixel *out) {
  self->n_reads++;
  return weft_session_reader_fold_lock(&self->reader, i, t0, npp, npx, out);
}

int weft_session_reader_fold_lock(WeftSessionReader *reader, guint i, double t0, double npp, int npx,
                                  WeftHoldPixel *out) {
  WeftSession *self = reader->session;
  for (int p = 0; p < npx; p++) out[p] = (WeftHoldPixel){-1, 0};
  const WeftSessionLock *l = weft_session_get_lock(self, i);
  if (!l || npx <= 0 || npp <= 0) return l ? 0 : -1;
  double t1 = t0 + npp * npx;
  /* the holds overlapping the window, by thread index */
  typedef struct {
    int thread;
    double s, e;
  } Hold;
  g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(WeftSessionHold));
  if (reader_holds(reader, l->object_id, (int64_t)floor(t0), (int64_t)ceil(t1), rows) < 0) return -1;
  g_autoptr(GArray) holds = g_array_new(FALSE, FALSE, sizeof(Hold));
  g_autoptr(GArray) holders = g_array_new(FALSE, FALSE, sizeof(int)); /* distinct thread indices */
  for (guint j = 0; j < rows->len; j++) {
    const WeftSessionHold *r = &g_array_index(rows, WeftSessionHold, j);
    int idx = weft_session_thread_index(self, r->utid);
    if (idx < 0) continue;
    Hold h = {idx, (double)r->start_ns, (double)(r->start_ns + r->dur_ns)};
    g_array_append_val(holds, h);
    guint k;
    for (k = 0; k < holders->len && g_array_index(holders, int, k) != h.thread; k++) {}
    if (k == holders->len) g_array_append_val(holders, h.thread);
  }
  guint nh = holders->len;
  if (nh == 0) return 0;
  /* acc[px * nh + k]: ns held by holder k in the pixel (spread reused with nh "states") */
  double *acc = g_new0(double, (size_t)npx *nh);
  for (guint j = 0; j < holds->len; j++) {
    Hold *h = &g_array_index(holds, Hold, j);
    guint k;
    for (k = 0; g_array_index(holders, int, k) != h->thread; k++) {}
    double x0 = (h->s - t0) / npp, x1 = (h->e - t0) / npp;
    if (x1 <= 0 || x0 >= npx || x1 <= x0) continue;
    int p0 = x0 < 0 ? 0 : (int)x0;
    int p1 = x1 > npx ? npx - 1 : (int)ceil(x1) - 1;
    for (int p = p0; p <= p1; p++) {
      double a = fmax(x0, p), b = fmin(x1, p + 1);
      if (b > a) acc[(size_t)p * nh + k] += (b - a) * npp;
    }
  }
  for (int p = 0; p < npx; p++) {
    const double *a = acc + (size_t)p * nh;
    int best = -1, n = 0;
    for (guint k = 0; k < nh; k++) {
      if (a[k] <= 0) continue;
      n++;
      if (best < 0 || a[k] > a[best]) best = (int)k;
    }
    if (best < 0) continue;
    out[p].holder = g_array_index(holders, int, best);
    out[p].nholders = (guint8)MIN(n, 255);
  }
  g_free(acc);
  return 0;
}

const char *weft_session_thread_label(WeftSession *self, int64_t utid, char *buf, size_t len) {
  guint idx = GPOINTER_TO_UINT(g_hash_table_lookup(self->utid_index, GSIZE_TO_POINTER((gsize)utid)));
  if (idx == 0) {
    g_snprintf(buf, len, "thread %" G_GINT64_FORMAT, utid);
  } else {
    const WeftSessionThread *t = weft_session_get_thread(self, idx - 1);
    g_snprintf(buf, len, "%s [%d]", t->name, t->tid);
  }
  return buf;
}

static int reader_holds(WeftSessionReader *reader, int64_t object_id, int64_t t0, int64_t t1, GArray *out) {
  WeftCursor c;
  WeftHold h;
  weft_query_holds(&reader->q, &c, object_id, t0, t1);
  while (weft_next_hold(&c, &h)) {
    WeftSessionHold sh = {h.utid, h.start_ns, h.dur_ns};
    g_array_append_val(out, sh);
  }
  return weft_cursor_close(&c);
}

int weft_session_flows(WeftSession *self, int64_t utid, int64_t t0, int64_t t1, guint limit, GArray *out) {
  WeftCursor c;
  WeftFlow f;
  self->n_reads++;
  weft_query_flows(&self->reader.q, &c, utid, t0, t1, limit);
  while (weft_next_flow(&c, &f)) g_array_append_val(out, f);
  return weft_cursor_close(&c);
}

void weft_frame_clear(WeftFrame *f) {
  g_clear_pointer(&f->function, g_free);
  g_clear_pointer(&f->file, g_free);
  g_clear_pointer(&f->label, g_free);
}

guint weft_read_stack(WeftQuery *q, int64_t stack_id, GArray *out) {
  if (stack_id < 0) return 0;
  WeftCursor c;
  WeftFrameRow fr;
  weft_query_stack(q, &c, stack_id);
  guint n = 0;
  while (weft_next_frame(&c, &fr)) {
    const char *sym = fr.symbol, *file = fr.file, *module = fr.module;
    int64_t line = fr.line, rel_pc = fr.rel_pc, ip = fr.ip;
    char buf[1024];
    WeftFrame f = {0};
    f.label = g_strdup(weft_frame_label(sym, file, line, module, rel_pc, ip, buf, sizeof buf));
    if (sym && *sym) {
      f.function = g_strdup(sym);
    } else if (module && *module) {
      char *base = g_path_get_basename(module);
      f.function = g_strdup_printf("%s+0x%" G_GINT64_MODIFIER "x", base, rel_pc);
      g_free(base);
    } else {
      f.function = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", ip);
    }
    f.file = file && *file ? g_path_get_basename(file) : NULL;
    f.line = line;
    g_array_append_val(out, f);
    n++;
  }
  weft_cursor_close(&c);
  return n;
}

const char *weft_format_instant(char *buf, size_t len, int64_t t, int64_t dur) {
  static const struct {
    const char *unit;
    double scale;
  } u[] = {{"s", 1e9}, {"ms", 1e6}, {"µs", 1e3}};
  double v = fabs((double)t);
  guint i = 0;
  while (i < G_N_ELEMENTS(u) && v / u[i].scale < 0.9995) i++;
  if (i == G_N_ELEMENTS(u) || dur <= 0) return weft_format_ns(buf, len, t);
  double x = v / u[i].scale;
  /* weft_format_ns's three digits, or a tenth of dur's resolution (a ns at most) */
  int shown = x < 9.995 ? 2 : x < 99.95 ? 1 : 0;
  int needed = (int)ceil(log10(u[i].scale * 10 / (double)dur) - 1e-9);
  int decimals = CLAMP(MAX(shown, needed), 0, (int)lround(log10(u[i].scale)));
  g_snprintf(buf, len, "%s%.*f %s", t < 0 ? "-" : "", decimals, x, u[i].unit);
  return buf;
}

/* ---- reads on a worker ---- */

typedef struct {
  WeftReadEnv env;
  WeftReadWork work;
  gpointer data;
  GDestroyNotify data_free, result_free;
} ReadJob;

static void read_job_free(ReadJob *j) {
  g_free(j->env.path);
  g_hash_table_unref(j->env.index);
  if (j->data_free) j->data_free(j->data);
  g_free(j);
}

void weft_read_set_error(WeftQuery *q, GError **error) {
  if (error && !*error)
    g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                        q->sql.err && q->sql.err[0] ? q->sql.err : "cannot read the recording");
}

void weft_release_free_memory(void) {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

static void read_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  ReadJob *job = data;
  if (g_task_return_error_if_cancelled(task)) return; /* (a hover's, moved on before it started) */
  char err[PATH_MAX + 512] = "";
  sqlite3 *db = weft_db_open(job->env.path, 0, err, sizeof err);
  if (!db) {
    g_task_return_new_error(task, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s", err[0] ? err : "cannot open the recording");
    return;
  }
  char *prefix = g_strdup_printf("%s: cannot read the recording", job->env.path);
  WeftQuery q;
  weft_query_init(&q, db, err, sizeof err, prefix);
  GError *error = NULL;
  gpointer result = job->work(&q, &job->env, job->data, cancel, &error);
  if (!result) weft_read_set_error(&q, &error);
  weft_query_clear(&q);
  sqlite3_close(db);
  g_free(prefix);
  weft_release_free_memory();
  if (result)
    g_task_return_pointer(task, result, job->result_free);
  else
    g_task_return_error(task, error);
}

void weft_session_read_async(WeftSession *self, WeftReadWork work, gpointer data, GDestroyNotify data_free,
                             GDestroyNotify result_free, GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data) {
  ReadJob *job = g_new0(ReadJob, 1);
  job->env.path = g_strdup(weft_session_get_path(self));
  job->env.index = weft_session_copy_index(self);
  job->env.n_threads = weft_session_get_n_threads(self);
  job->work = work;
  job->data = data;
  job->data_free = data_free;
  job->result_free = result_free;
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_task_data(task, job, (GDestroyNotify)read_job_free);
  g_task_run_in_thread(task, read_thread);
  g_object_unref(task);
}

gpointer weft_session_read_finish(GAsyncResult *result, GError **error) {
  return g_task_propagate_pointer(G_TASK(result), error);
}

gpointer weft_session_read_get_data(GAsyncResult *result) {
  ReadJob *job = g_task_get_task_data(G_TASK(result));
  return job ? job->data : NULL;
}

GHashTable *weft_session_copy_index(WeftSession *self) {
  GHashTable *copy = g_hash_table_new(NULL, NULL);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, self->utid_index);
  while (g_hash_table_iter_next(&it, &k, &v)) g_hash_table_insert(copy, k, v);
  return copy;
}

int weft_session_thread_index(WeftSession *self, int64_t utid) {
  guint idx = GPOINTER_TO_UINT(g_hash_table_lookup(self->utid_index, GSIZE_TO_POINTER((gsize)utid)));
  return (int)idx - 1;
}

int weft_session_lock_index(WeftSession *self, int64_t object_id) {
  for (guint i = 0; i < self->locks->len; i++)
    if (g_array_index(self->locks, WeftSessionLock, i).object_id == object_id) return (int)i;
  return -1;
}

void weft_session_object_clear(WeftSessionObject *o) { g_clear_pointer(&o->name, g_free); }

int weft_session_objects(WeftSession *self, GArray *out) {
  self->n_reads++;
  return weft_session_read_objects(self->db, out);
}

int weft_session_read_objects(sqlite3 *db, GArray *out) {
  WeftQuery q;
  WeftCursor c;
  WeftObjectRow r;
  weft_query_init(&q, db, NULL, 0, NULL);
  weft_query_objects(&q, &c);
  WeftObjectNamer *namer = weft_object_namer_new(db);
  while (weft_next_object(&c, &r)) {
    char buf[512];
    WeftSessionObject o = {r, NULL};
    o.row.kind = g_intern_string(r.kind); /* a handful of kinds, kept for good */
    o.name = g_strdup(namer ? weft_object_namer_name(namer, r.object_id, buf, sizeof buf)
                            : weft_object_display_name(db, r.object_id, buf, sizeof buf));
    g_array_append_val(out, o);
  }
  if (namer) weft_object_namer_free(namer);
  int rc = weft_cursor_close(&c);
  weft_query_clear(&q);
  return rc;
}
