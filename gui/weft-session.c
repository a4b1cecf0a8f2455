/* weft-session.c - an open recording, as weft-gui reads it.
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include "weft-session.h"

#include <math.h>
#include <string.h>

#include "holds.h"
#include "metrics.h"
#include "naming.h"

/* The statements that fold rows: the session's own (on its connection), or
 * a worker's (weft_session_reader_new: a connection of its own). */
struct _WeftSessionReader {
  WeftSession *session;
  sqlite3 *db;       /* owned unless it is the session's */
  gboolean own_db;
  sqlite3_stmt *q_raw;
  sqlite3_stmt *q_summary;
  sqlite3_stmt *q_holds;
  GHashTable *tiles;   /* TileKey* -> GArray of SummaryRow: state_summary read in tiles */
  gsize tile_rows;     /* rows in tiles */
};

/* state_summary is read in tiles of TILE_BUCKETS buckets of one thread and
 * level, kept by each reader: a pan or a zoom within a level reads only the
 * tiles it did not read before. At most TILE_ROWS rows are kept (then the
 * cache starts again). */
#define TILE_BUCKETS 512
#define TILE_ROWS (2u << 20)

typedef struct {
  int64_t utid, tile;
  int level;
} TileKey;

typedef struct {
  int64_t bucket, total_ns;
  int state;
} SummaryRow;

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
  sqlite3 *db;
  WeftSessionReader reader;
  char *command;
  int64_t end_ns;
  int64_t lod_base_ns;
  guint32 states_present;
  GArray *processes; /* WeftSessionProcess */
  GArray *threads;   /* WeftSessionThread */
  GArray *locks;     /* WeftSessionLock */
  GHashTable *utid_index; /* utid -> index + 1 */
  sqlite3_stmt *q_at;
  sqlite3_stmt *q_waits;
  sqlite3_stmt *q_worst;
  sqlite3_stmt *q_flows;
  sqlite3_stmt *q_stack;
};

static char *dup_column(sqlite3_stmt *st, int col) {
  const unsigned char *s = sqlite3_column_text(st, col);
  return g_strdup(s ? (const char *)s : "");
}

static int64_t column_or(sqlite3_stmt *st, int col, int64_t dflt) {
  return sqlite3_column_type(st, col) == SQLITE_NULL ? dflt : sqlite3_column_int64(st, col);
}

typedef struct {
  int64_t upid;
  int64_t parent_upid;
  int pid;
  char *exe;
  int64_t start_ns;
  int image;
  int n_images;
  int64_t exec_from_upid, end_ns;
  int role;        /* WEFT_PROCESS_* */
} ProcRow;

/* Append upid's subtree (children ordered by start, as the query returned
 * them) to self->processes, depth first. rows is the whole process table. */
static void add_process_tree(WeftSession *self, GArray *rows, guint idx, int depth, GHashTable *seen) {
  ProcRow *r = &g_array_index(rows, ProcRow, idx);
  if (g_hash_table_contains(seen, &r->upid)) return;
  g_hash_table_add(seen, &r->upid);
  WeftSessionProcess p = {.upid = r->upid, .pid = r->pid, .image = r->image, .n_images = r->n_images,
                          .depth = depth, .exe = g_strdup(r->exe), .role = r->role};
  g_array_append_val(self->processes, p);
  for (guint i = 0; i < rows->len; i++) {
    ProcRow *c = &g_array_index(rows, ProcRow, i);
    if (c->parent_upid == r->upid) add_process_tree(self, rows, i, depth + 1, seen);
  }
}

static gboolean reader_prepare(WeftSessionReader *r) {
  r->tiles = g_hash_table_new_full(tile_hash, tile_equal, g_free, (GDestroyNotify)g_array_unref);
  /* the interval containing t0 (contiguous rows: the last one starting at or
   * before it), then every one starting before t1 */
  return sqlite3_prepare_v2(r->db,
                            "SELECT start_ns, dur_ns, state FROM thread_state WHERE utid = ?1 AND start_ns >= "
                            "coalesce((SELECT max(start_ns) FROM thread_state WHERE utid = ?1 AND start_ns <= ?2), 0) "
                            "AND start_ns < ?3 ORDER BY start_ns",
                            -1, &r->q_raw, NULL) == SQLITE_OK &&
         sqlite3_prepare_v2(r->db,
                            "SELECT bucket, state, total_ns FROM state_summary "
                            "WHERE utid = ?1 AND level = ?2 AND bucket >= ?3 AND bucket <= ?4",
                            -1, &r->q_summary, NULL) == SQLITE_OK &&
         sqlite3_prepare_v2(r->db,
                            "SELECT object_id, start_ns, data FROM hold_block WHERE object_id = ?1 "
                            "AND start_ns < ?3 AND end_ns >= ?2 ORDER BY start_ns",
                            -1, &r->q_holds, NULL) == SQLITE_OK;
}

static void reader_clear(WeftSessionReader *r) {
  sqlite3_finalize(r->q_raw);
  sqlite3_finalize(r->q_summary);
  sqlite3_finalize(r->q_holds);
  r->q_raw = r->q_summary = r->q_holds = NULL;
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
  r->session = self;
  r->db = db;
  r->own_db = TRUE;
  if (!reader_prepare(r)) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: cannot read the recording: %s", self->path,
                sqlite3_errmsg(db));
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

static gboolean load(WeftSession *self, GError **error) {
  sqlite3_stmt *st = NULL;
  g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(ProcRow));
  g_autoptr(GHashTable) upids = g_hash_table_new(g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) seen = g_hash_table_new(g_int64_hash, g_int64_equal);
  self->command = weft_db_meta_get(self->db, "command");
  self->end_ns = weft_db_meta_get_int(self->db, "end_ns", 0);
  self->lod_base_ns = weft_db_meta_get_int(self->db, "lod_base_ns", 0);

  /* processes, in process-tree order */
  if (sqlite3_prepare_v2(self->db,
                         "SELECT upid, coalesce(parent_upid, -1), pid, coalesce(exe, cmdline, ''), "
                         "start_ns, image, (SELECT count(*) FROM process q WHERE q.pid = p.pid), "
                         "coalesce(exec_from_upid, -1), end_ns "
                         "FROM process p ORDER BY start_ns, upid", -1, &st, NULL) != SQLITE_OK)
    goto fail;
  while (sqlite3_step(st) == SQLITE_ROW) {
    ProcRow r = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2),
                 dup_column(st, 3), sqlite3_column_int64(st, 4), sqlite3_column_int(st, 5),
                 sqlite3_column_int(st, 6), sqlite3_column_int64(st, 7), sqlite3_column_int64(st, 8),
                 WEFT_PROCESS_PROGRAM};
    g_array_append_val(rows, r);
  }
  sqlite3_finalize(st);
  { /* the launchers before the program (env, shells, pyenv's shims), as `weft report` */
    g_autofree WeftProcLink *l = g_new(WeftProcLink, MAX(1, rows->len));
    g_autofree bool *lf = g_new(bool, MAX(1, rows->len));
    for (guint i = 0; i < rows->len; i++) {
      const ProcRow *r = &g_array_index(rows, ProcRow, i);
      l[i] = (WeftProcLink){r->upid, r->pid, r->image, r->parent_upid, r->exec_from_upid, r->end_ns};
    }
    size_t nl = 0;
    ptrdiff_t prog = weft_find_launchers(l, rows->len, lf, &nl);
    for (guint i = 0; prog >= 0 && i < rows->len; i++)
      g_array_index(rows, ProcRow, i).role = (ptrdiff_t)i == prog ? WEFT_PROCESS_PROGRAM_START
                                             : lf[i]              ? WEFT_PROCESS_LAUNCHER
                                                                  : WEFT_PROCESS_PROGRAM;
  }
  for (guint i = 0; i < rows->len; i++)
    g_hash_table_add(upids, &g_array_index(rows, ProcRow, i).upid);
  for (guint i = 0; i < rows->len; i++) {
    ProcRow *r = &g_array_index(rows, ProcRow, i);
    if (!g_hash_table_contains(upids, &r->parent_upid)) add_process_tree(self, rows, i, 0, seen);
  }
  for (guint i = 0; i < rows->len; i++) /* cycles, if a damaged file has them */
    add_process_tree(self, rows, i, 0, seen);
  for (guint i = 0; i < rows->len; i++) g_free(g_array_index(rows, ProcRow, i).exe);

  /* threads of each process, by start */
  if (sqlite3_prepare_v2(self->db,
                         "SELECT t.utid, t.tid, coalesce(t.name, ''), t.start_ns, t.end_ns, "
                         "(SELECT min(level) FROM state_summary s WHERE s.utid = t.utid), "
                         "(SELECT max(level) FROM state_summary s WHERE s.utid = t.utid) "
                         "FROM thread t WHERE t.upid = ?1 ORDER BY t.is_main DESC, t.start_ns, t.utid",
                         -1, &st, NULL) != SQLITE_OK)
    goto fail;
  for (guint i = 0; i < self->processes->len; i++) {
    WeftSessionProcess *p = &g_array_index(self->processes, WeftSessionProcess, i);
    p->first_thread = self->threads->len;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, p->upid);
    while (sqlite3_step(st) == SQLITE_ROW) {
      WeftSessionThread t = {
        .utid = sqlite3_column_int64(st, 0), .upid = p->upid, .tid = sqlite3_column_int(st, 1),
        .name = dup_column(st, 2), .start_ns = sqlite3_column_int64(st, 3),
        .end_ns = sqlite3_column_int64(st, 4), .min_level = (int)column_or(st, 5, -1),
        .max_level = (int)column_or(st, 6, -1)};
      g_array_append_val(self->threads, t);
      g_hash_table_insert(self->utid_index, GSIZE_TO_POINTER((gsize)t.utid), GUINT_TO_POINTER(self->threads->len));
    }
    p->n_threads = self->threads->len - p->first_thread;
  }
  sqlite3_finalize(st);
  st = NULL;

  /* contended locks of each process, the most waited-for first */
  if (sqlite3_prepare_v2(self->db,
                         "SELECT o.object_id FROM sync_object o "
                         "JOIN kind_name k ON k.kind = o.kind WHERE o.upid = ?1 "
                         "AND k.name IN ('mutex', 'rwlock', 'spin') AND (o.contended > 0 OR EXISTS "
                         "(SELECT 1 FROM thread_state s WHERE s.object_id = o.object_id)) "
                         "ORDER BY o.wait_ns DESC, o.object_id",
                         -1, &st, NULL) != SQLITE_OK)
    goto fail;
  for (guint i = 0; i < self->processes->len; i++) {
    WeftSessionProcess *p = &g_array_index(self->processes, WeftSessionProcess, i);
    p->first_lock = self->locks->len;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, p->upid);
    while (sqlite3_step(st) == SQLITE_ROW) {
      char nbuf[512];
      WeftSessionLock l = {.object_id = sqlite3_column_int64(st, 0), .upid = p->upid};
      l.name = g_strdup(weft_object_display_name(self->db, l.object_id, nbuf, sizeof nbuf));
      g_array_append_val(self->locks, l);
    }
    p->n_locks = self->locks->len - p->first_lock;
  }
  sqlite3_finalize(st);

  /* the states that occur: a thread's coarsest summary level has every state
   * it was ever in (a few rows); thread_state only for a thread without one
   * (not a scan of the whole table) */
  if (sqlite3_prepare_v2(self->db,
                         "SELECT DISTINCT state FROM state_summary WHERE utid = ?1 AND level = ?2 AND ?2 >= 0 "
                         "UNION SELECT DISTINCT state FROM thread_state WHERE utid = ?1 AND ?2 < 0",
                         -1, &st, NULL) != SQLITE_OK)
    goto fail;
  for (guint i = 0; i < self->threads->len; i++) {
    const WeftSessionThread *t = &g_array_index(self->threads, WeftSessionThread, i);
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, t->utid);
    sqlite3_bind_int(st, 2, t->max_level);
    while (sqlite3_step(st) == SQLITE_ROW) {
      int s = sqlite3_column_int(st, 0);
      if (s >= 0 && s < WEFT_ST_COUNT) self->states_present |= 1u << s;
    }
  }
  sqlite3_finalize(st);
  st = NULL;

  self->reader.session = self;
  self->reader.db = self->db;
  if (!reader_prepare(&self->reader) ||
      sqlite3_prepare_v2(self->db,
                         "SELECT start_ns, dur_ns, state, object_id, blocker_utid, waker_utid, stack_id "
                         "FROM thread_state WHERE utid = ?1 AND start_ns <= ?2 ORDER BY start_ns DESC LIMIT 1",
                         -1, &self->q_at, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(self->db,
                         "SELECT utid, start_ns, dur_ns, state, object_id, blocker_utid, waker_utid, stack_id "
                         "FROM thread_state WHERE object_id = ?1 AND start_ns < ?3 AND start_ns + dur_ns > ?2 "
                         "ORDER BY start_ns",
                         -1, &self->q_waits, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(self->db,
                         "SELECT utid, start_ns, dur_ns, state, object_id, blocker_utid, waker_utid, stack_id "
                         "FROM thread_state WHERE object_id = ?1 ORDER BY dur_ns DESC, start_ns LIMIT 1",
                         -1, &self->q_worst, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(self->db,
                         "SELECT flow_id, kind, from_utid, from_ns, to_utid, to_ns, object_id FROM flow "
                         "WHERE to_utid = ?1 AND to_ns BETWEEN ?2 AND ?3 UNION "
                         "SELECT flow_id, kind, from_utid, from_ns, to_utid, to_ns, object_id FROM flow "
                         "WHERE from_utid = ?1 AND from_ns BETWEEN ?2 AND ?3 LIMIT ?4",
                         -1, &self->q_flows, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(self->db,
                         "SELECT f.symbol, f.file, f.line, m.path, f.rel_pc, f.ip FROM stack_frame sf "
                         "JOIN frame f ON f.frame_id = sf.frame_id LEFT JOIN module m ON m.module_id = f.module_id "
                         "WHERE sf.stack_id = ?1 ORDER BY sf.depth",
                         -1, &self->q_stack, NULL) != SQLITE_OK)
    goto fail;
  return TRUE;

fail:
  g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: cannot read the recording: %s", self->path,
              sqlite3_errmsg(self->db));
  sqlite3_finalize(st);
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
  self->db = db;
  self->processes = g_array_new(FALSE, TRUE, sizeof(WeftSessionProcess));
  self->threads = g_array_new(FALSE, TRUE, sizeof(WeftSessionThread));
  self->locks = g_array_new(FALSE, TRUE, sizeof(WeftSessionLock));
  self->utid_index = g_hash_table_new(NULL, NULL);
  if (!load(self, error)) {
    weft_session_free(self);
    return NULL;
  }
  return self;
}

void weft_session_free(WeftSession *self) {
  if (!self) return;
  reader_clear(&self->reader);
  sqlite3_finalize(self->q_at);
  sqlite3_finalize(self->q_waits);
  sqlite3_finalize(self->q_worst);
  sqlite3_finalize(self->q_flows);
  sqlite3_finalize(self->q_stack);
  sqlite3_close(self->db);
  for (guint i = 0; i < self->processes->len; i++) g_free(g_array_index(self->processes, WeftSessionProcess, i).exe);
  for (guint i = 0; i < self->threads->len; i++) g_free(g_array_index(self->threads, WeftSessionThread, i).name);
  g_array_unref(self->processes);
  g_array_unref(self->threads);
  for (guint i = 0; i < self->locks->len; i++) g_free(g_array_index(self->locks, WeftSessionLock, i).name);
  g_array_unref(self->locks);
  g_hash_table_unref(self->utid_index);
  free(self->command);
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
guint weft_session_get_n_locks(WeftSession *self) { return self->locks->len; }
const WeftSessionLock *weft_session_get_lock(WeftSession *self, guint i) {
  return i < self->locks->len ? &g_array_index(self->locks, WeftSessionLock, i) : NULL;
}
guint32 weft_session_get_states_present(WeftSession *self) { return self->states_present; }

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
  sqlite3_stmt *q = r->q_summary;
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 1, utid);
  sqlite3_bind_int(q, 2, level);
  sqlite3_bind_int64(q, 3, tile * TILE_BUCKETS);
  sqlite3_bind_int64(q, 4, tile * TILE_BUCKETS + TILE_BUCKETS - 1);
  rows = g_array_new(FALSE, FALSE, sizeof(SummaryRow));
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    SummaryRow sr = {sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 2), sqlite3_column_int(q, 1)};
    g_array_append_val(rows, sr);
  }
  sqlite3_reset(q);
  if (rc != SQLITE_DONE) {
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

int weft_session_fold(WeftSession *self, guint i, double t0, double npp, int npx, WeftPixel *out) {
  return weft_session_reader_fold(&self->reader, i, t0, npp, npx, out);
}

int weft_session_reader_fold(WeftSessionReader *reader, guint i, double t0, double npp, int npx, WeftPixel *out) {
  WeftSession *self = reader->session;
  for (int p = 0; p < npx; p++) out[p] = (WeftPixel){WEFT_PIXEL_NONE, WEFT_PIXEL_NONE, 0, 0};
  const WeftSessionThread *t = weft_session_get_thread(self, i);
  if (!t || npx <= 0 || npp <= 0) return t ? 0 : -1;
  double t1 = t0 + npp * npx;
  if (t->end_ns <= t0 || t->start_ns >= t1) return 0;
  double *acc = g_new0(double, (size_t)npx * WEFT_ST_COUNT);
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
        const SummaryRow *sr = &g_array_index(rows, SummaryRow, k);
        if (sr->bucket < b0 || sr->bucket > b1) continue;
        double b = (double)sr->bucket;
        /* the thread's part of the bucket: its totals add up to that */
        double s = fmax(b * w, (double)t->start_ns), e = fmin((b + 1) * w, (double)t->end_ns);
        spread(acc, npx, t0, npp, s, e, sr->state, (double)sr->total_ns);
      }
    }
  } else {
    sqlite3_stmt *q = reader->q_raw;
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, t->utid);
    sqlite3_bind_int64(q, 2, (int64_t)floor(t0));
    sqlite3_bind_int64(q, 3, (int64_t)ceil(t1));
    int r;
    while ((r = sqlite3_step(q)) == SQLITE_ROW) {
      double s = (double)sqlite3_column_int64(q, 0), d = (double)sqlite3_column_int64(q, 1);
      spread(acc, npx, t0, npp, s, s + d, sqlite3_column_int(q, 2), d);
    }
    if (r != SQLITE_DONE) rc = -1;
  }

  for (int p = 0; p < npx && rc == 0; p++) {
    const double *a = acc + (size_t)p * WEFT_ST_COUNT;
    int best = -1, best_wait = -1, n = 0;
    for (int s = 0; s < WEFT_ST_COUNT; s++) {
      if (a[s] <= 0) continue;
      n++;
      if (best < 0 || a[s] > a[best]) best = s;
      if (s != WEFT_ST_RUNNING && (best_wait < 0 || a[s] > a[best_wait])) best_wait = s;
    }
    if (best < 0) continue;
    out[p].running = (float)CLAMP(a[WEFT_ST_RUNNING] / npp, 0, 1);
    out[p].state = (guint8)best;
    out[p].nstates = (guint8)n;
    if (best == WEFT_ST_RUNNING && best_wait >= 0) out[p].mark = (guint8)best_wait;
  }
  g_free(acc);
  return rc;
}

static int reader_holds(WeftSessionReader *r, int64_t object_id, int64_t t0, int64_t t1, GArray *out);

int weft_session_fold_lock(WeftSession *self, guint i, double t0, double npp, int npx, WeftHoldPixel *out) {
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
  if (reader_holds(reader, l->object_id, (int64_t)floor(t0), (int64_t)ceil(t1), rows) < 0)
    return -1;
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
  double *acc = g_new0(double, (size_t)npx * nh);
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

gboolean weft_session_span_at(WeftSession *self, guint i, int64_t t, WeftSpan *out) {
  const WeftSessionThread *th = weft_session_get_thread(self, i);
  if (!th || t < th->start_ns || t >= th->end_ns) return FALSE;
  sqlite3_stmt *q = self->q_at;
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 1, th->utid);
  sqlite3_bind_int64(q, 2, t);
  if (sqlite3_step(q) != SQLITE_ROW) return FALSE;
  *out = (WeftSpan){sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), sqlite3_column_int(q, 2),
                    column_or(q, 3, -1),         column_or(q, 4, -1),         column_or(q, 5, -1),
                    column_or(q, 6, -1),         th->utid};
  sqlite3_reset(q);
  return t < out->start_ns + out->dur_ns;
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

const char *weft_session_object_name(WeftSession *self, int64_t object_id, char *buf, size_t len) {
  return weft_object_display_name(self->db, object_id, buf, len);
}

typedef struct {
  int64_t t0;
  GArray *out;
} HoldsCtx;

static int add_hold(const WeftHold *h, void *user) {
  HoldsCtx *hc = user;
  if (h->start_ns + h->dur_ns <= hc->t0) return 0;
  WeftSessionHold sh = {h->utid, h->start_ns, h->dur_ns};
  g_array_append_val(hc->out, sh);
  return 0;
}

int weft_session_holds(WeftSession *self, int64_t object_id, int64_t t0, int64_t t1, GArray *out) {
  return reader_holds(&self->reader, object_id, t0, t1, out);
}

static int reader_holds(WeftSessionReader *reader, int64_t object_id, int64_t t0, int64_t t1, GArray *out) {
  /* the blocks of the object that overlap [t0, t1), decoded */
  sqlite3_stmt *q = reader->q_holds;
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 1, object_id);
  sqlite3_bind_int64(q, 2, t0);
  sqlite3_bind_int64(q, 3, t1);
  HoldsCtx hc = {t0, out};
  int r;
  while ((r = sqlite3_step(q)) == SQLITE_ROW)
    if (weft_holds_from_row(q, 0, t0, t1, add_hold, &hc) < 0) {
      r = SQLITE_CORRUPT;
      break;
    }
  sqlite3_reset(q);
  return r == SQLITE_DONE ? 0 : -1;
}

static void read_wait(sqlite3_stmt *q, WeftSpan *w) {
  *w = (WeftSpan){sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2), sqlite3_column_int(q, 3),
                  column_or(q, 4, -1),         column_or(q, 5, -1),         column_or(q, 6, -1),
                  column_or(q, 7, -1),         sqlite3_column_int64(q, 0)};
}

int weft_session_waits(WeftSession *self, int64_t object_id, int64_t t0, int64_t t1, GArray *out) {
  sqlite3_stmt *q = self->q_waits;
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 1, object_id);
  sqlite3_bind_int64(q, 2, t0);
  sqlite3_bind_int64(q, 3, t1);
  int r;
  while ((r = sqlite3_step(q)) == SQLITE_ROW) {
    WeftSpan w;
    read_wait(q, &w);
    g_array_append_val(out, w);
  }
  sqlite3_reset(q);
  return r == SQLITE_DONE ? 0 : -1;
}

gboolean weft_session_worst_wait(WeftSession *self, int64_t object_id, WeftSpan *out) {
  sqlite3_stmt *q = self->q_worst;
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 1, object_id);
  gboolean found = sqlite3_step(q) == SQLITE_ROW;
  if (found) read_wait(q, out);
  sqlite3_reset(q);
  return found;
}

int weft_session_flows(WeftSession *self, int64_t utid, int64_t t0, int64_t t1, guint limit, GArray *out) {
  sqlite3_stmt *q = self->q_flows;
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 1, utid);
  sqlite3_bind_int64(q, 2, t0);
  sqlite3_bind_int64(q, 3, t1);
  sqlite3_bind_int64(q, 4, limit);
  int r;
  while ((r = sqlite3_step(q)) == SQLITE_ROW) {
    WeftFlow f = {sqlite3_column_int64(q, 0), sqlite3_column_int(q, 1), sqlite3_column_int64(q, 2),
                  sqlite3_column_int64(q, 3), sqlite3_column_int64(q, 4), sqlite3_column_int64(q, 5),
                  column_or(q, 6, -1)};
    g_array_append_val(out, f);
  }
  sqlite3_reset(q);
  return r == SQLITE_DONE ? 0 : -1;
}

void weft_frame_clear(WeftFrame *f) {
  g_clear_pointer(&f->function, g_free);
  g_clear_pointer(&f->file, g_free);
  g_clear_pointer(&f->label, g_free);
}

guint weft_session_stack(WeftSession *self, int64_t stack_id, GArray *out) {
  if (stack_id < 0) return 0;
  sqlite3_stmt *q = self->q_stack;
  sqlite3_reset(q);
  sqlite3_bind_int64(q, 1, stack_id);
  guint n = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    const char *sym = (const char *)sqlite3_column_text(q, 0);
    const char *file = (const char *)sqlite3_column_text(q, 1);
    int64_t line = column_or(q, 2, 0);
    const char *module = (const char *)sqlite3_column_text(q, 3);
    int64_t rel_pc = column_or(q, 4, 0), ip = sqlite3_column_int64(q, 5);
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
  sqlite3_reset(q);
  return n;
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

sqlite3 *weft_session_get_db(WeftSession *self) { return self->db; }

int weft_session_thread_totals(WeftSession *self, guint i, int64_t *out) {
  for (int s = 0; s < WEFT_ST_COUNT; s++) out[s] = 0;
  const WeftSessionThread *t = weft_session_get_thread(self, i);
  if (!t) return -1;
  sqlite3_stmt *q = NULL;
  int rc;
  if (t->max_level >= 0)
    rc = sqlite3_prepare_v2(self->db,
                            "SELECT state, sum(total_ns) FROM state_summary WHERE utid = ?1 AND level = ?2 "
                            "GROUP BY state", -1, &q, NULL);
  else
    rc = sqlite3_prepare_v2(self->db, "SELECT state, sum(dur_ns) FROM thread_state WHERE utid = ?1 GROUP BY state",
                            -1, &q, NULL);
  if (rc != SQLITE_OK) return -1;
  sqlite3_bind_int64(q, 1, t->utid);
  if (t->max_level >= 0) sqlite3_bind_int(q, 2, t->max_level);
  int r;
  while ((r = sqlite3_step(q)) == SQLITE_ROW) {
    int s = sqlite3_column_int(q, 0);
    if (s >= 0 && s < WEFT_ST_COUNT) out[s] += sqlite3_column_int64(q, 1);
  }
  sqlite3_finalize(q);
  return r == SQLITE_DONE ? 0 : -1;
}

void weft_session_object_clear(WeftSessionObject *o) {
  g_clear_pointer(&o->kind, g_free);
  g_clear_pointer(&o->name, g_free);
}

int weft_session_objects(WeftSession *self, GArray *out) { return weft_session_read_objects(self->db, out); }

int weft_session_read_objects(sqlite3 *db, GArray *out) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT o.object_id, o.upid, p.pid, k.name, o.acquisitions, o.contended, o.wait_ns, "
                         "o.hold_ns, (SELECT count(*) FROM thread_state s WHERE s.object_id = o.object_id), "
                         "(SELECT max(dur_ns) FROM thread_state s WHERE s.object_id = o.object_id) "
                         "FROM sync_object o JOIN kind_name k ON k.kind = o.kind "
                         "LEFT JOIN process p ON p.upid = o.upid WHERE k.name NOT IN ('join', 'child') "
                         "ORDER BY o.wait_ns DESC, o.object_id",
                         -1, &q, NULL) != SQLITE_OK)
    return -1;
  WeftObjectNamer *namer = weft_object_namer_new(db);
  int r;
  while ((r = sqlite3_step(q)) == SQLITE_ROW) {
    char buf[512];
    WeftSessionObject o = {.object_id = sqlite3_column_int64(q, 0), .upid = sqlite3_column_int64(q, 1),
                           .pid = sqlite3_column_int(q, 2), .kind = dup_column(q, 3),
                           .acquisitions = sqlite3_column_int64(q, 4), .contended = sqlite3_column_int64(q, 5),
                           .wait_ns = sqlite3_column_int64(q, 6), .hold_ns = sqlite3_column_int64(q, 7),
                           .waits = sqlite3_column_int64(q, 8), .max_wait_ns = column_or(q, 9, 0)};
    o.name = g_strdup(namer ? weft_object_namer_name(namer, o.object_id, buf, sizeof buf)
                            : weft_object_display_name(db, o.object_id, buf, sizeof buf));
    g_array_append_val(out, o);
  }
  if (namer) weft_object_namer_free(namer);
  sqlite3_finalize(q);
  return r == SQLITE_DONE ? 0 : -1;
}
