/* weft-db.c - opening and creating recording databases; code names; the
 * few reads and writes of the commands that run a program (the machine's
 * load, a recording's totals and top waits).
 * SPDX-License-Identifier: MIT
 */
#include "weft-db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "weft-sqlite.h"
#include "weft-trace.h"

extern const char weft_schema_sql[];

static const char *const state_names[WEFT_ST_COUNT] = {
    "running",   "lock_wait",  "rwlock_wait", "spin_wait", "cond_wait", "barrier_wait", "sem_wait",
    "join_wait", "child_wait", "io_wait",     "sleep",     "gil_wait",  "mpi_wait",     "futex_wait"};

static const char *const flow_names[WEFT_FLOW_COUNT] = {
    NULL,   "lock_handoff", "wakeup", "barrier", "sem_post",    "create",         "join",
    "fork", "exec",         "wait",   "pipe",    "mpi_message", "mpi_collective", "socket"};

const char *weft_state_name(int state) { return state >= 0 && state < WEFT_ST_COUNT ? state_names[state] : NULL; }

int weft_state_is_wait(int state) { return state > WEFT_ST_RUNNING && state < WEFT_ST_COUNT; }

const char *weft_flow_name(int kind) { return kind > 0 && kind < WEFT_FLOW_COUNT ? flow_names[kind] : NULL; }

/* Run the schema's table part (everything before "-- @indexes"). */
static int exec_tables(sqlite3 *db, char **msg) {
  const char *m = strstr(weft_schema_sql, "-- @indexes");
  size_t n = m ? (size_t)(m - weft_schema_sql) : strlen(weft_schema_sql);
  char *tables = malloc(n + 1);
  if (!tables) return SQLITE_NOMEM;
  memcpy(tables, weft_schema_sql, n);
  tables[n] = 0;
  int rc = sqlite3_exec(db, tables, NULL, NULL, msg);
  free(tables);
  return rc;
}

static void set_err(char *err, size_t errlen, const char *path, const char *what) {
  if (err && errlen) snprintf(err, errlen, "%s: %s", path, what);
}

sqlite3 *weft_db_open(const char *path, int writable, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) != 0) {
    set_err(err, errlen, path, strerror(errno));
    return NULL;
  }
  if (!S_ISREG(st.st_mode)) {
    set_err(err, errlen, path,
            S_ISDIR(st.st_mode) ? "is a directory, not a weft database (to read a "
                                  "trace directory use `weft import DIR -o run.db`)"
                                : "not a regular file");
    return NULL;
  }
  if (st.st_size == 0) {
    set_err(err, errlen, path, "empty file, not a weft database");
    return NULL;
  }
  /* The SQLite header says how big the file must be: tell a file cut short
   * from one that is not SQLite at all. */
  FILE *hf = fopen(path, "rb");
  if (!hf) { /* unreadable (permissions): say so, not "not SQLite" */
    set_err(err, errlen, path, strerror(errno));
    return NULL;
  }
  unsigned char hdr[100];
  size_t got = fread(hdr, 1, sizeof hdr, hf);
  fclose(hf);
  if (got < sizeof hdr || memcmp(hdr, "SQLite format 3", 16) != 0) {
    set_err(err, errlen, path, "not a weft database (not an SQLite file)");
    return NULL;
  }
  uint32_t psz = ((uint32_t)hdr[16] << 8) | hdr[17];
  uint64_t psize = psz == 1 ? 65536 : psz;
  uint64_t npages = ((uint64_t)hdr[28] << 24) | ((uint64_t)hdr[29] << 16) | ((uint64_t)hdr[30] << 8) | hdr[31];
  if (npages && psize && (uint64_t)st.st_size < npages * psize) {
    char msg[160];
    snprintf(msg, sizeof msg, "truncated weft database (%llu of %llu bytes)", (unsigned long long)st.st_size,
             (unsigned long long)(npages * psize));
    set_err(err, errlen, path, msg);
    return NULL;
  }
  sqlite3 *db = NULL;
  int flags = writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
  if (sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    set_err(err, errlen, path, db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_stmt *q = NULL;
  int app = 0, ver = 0;
  if (sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW) {
    set_err(err, errlen, path,
            sqlite3_errcode(db) == SQLITE_CORRUPT ? "damaged weft database (corrupt pages)"
                                                  : "not a weft database (not an SQLite file)");
    sqlite3_finalize(q);
    sqlite3_close(db);
    return NULL;
  }
  app = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  if (app != WEFT_DB_APPLICATION_ID) {
    set_err(err, errlen, path, "not a weft database (an SQLite file of another application)");
    sqlite3_close(db);
    return NULL;
  }
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
    ver = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  if (ver != WEFT_SCHEMA_VERSION) {
    char msg[160];
    snprintf(msg, sizeof msg, "weft database schema version %d; this weft reads version %d%s", ver, WEFT_SCHEMA_VERSION,
             ver > WEFT_SCHEMA_VERSION ? " (made by a newer weft)" : " (re-import the recording)");
    set_err(err, errlen, path, msg);
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_stmt *mq = NULL;
  int mrc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'import_complete'", -1, &mq, NULL);
  if (mrc == SQLITE_OK) mrc = sqlite3_step(mq);
  sqlite3_finalize(mq);
  if (mrc != SQLITE_ROW && mrc != SQLITE_DONE) {
    set_err(err, errlen, path,
            sqlite3_errcode(db) == SQLITE_CORRUPT || sqlite3_errcode(db) == SQLITE_NOTADB
                ? "damaged weft database (corrupt pages)"
                : "unreadable weft database (no meta table)");
    sqlite3_close(db);
    return NULL;
  }
  char *complete = weft_db_meta_get(db, "import_complete");
  int ok = complete && strcmp(complete, "1") == 0;
  free(complete);
  if (!ok) {
    set_err(err, errlen, path, "incomplete weft database (the import did not finish)");
    sqlite3_close(db);
    return NULL;
  }
  return db;
}

/* The schema up to the "-- @indexes" line (tables), and the rest (indexes). */
static const char *schema_indexes(void) {
  const char *m = strstr(weft_schema_sql, "-- @indexes");
  return m ? m : "";
}

int weft_db_create_indexes(sqlite3 *db, char *err, size_t errlen) {
  char *msg = NULL;
  if (sqlite3_exec(db, schema_indexes(), NULL, NULL, &msg) != SQLITE_OK) {
    if (err && errlen) snprintf(err, errlen, "creating the indexes: %s", msg ? msg : "?");
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

sqlite3 *weft_db_create(const char *path, int overwrite, char *err, size_t errlen) {
  return weft_db_create_bulk(path, overwrite, 0, err, errlen);
}

sqlite3 *weft_db_create_bulk(const char *path, int overwrite, int defer_indexes, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) == 0) {
    if (!overwrite) {
      set_err(err, errlen, path, "exists already (use --force to replace it)");
      return NULL;
    }
    if (!S_ISREG(st.st_mode) || unlink(path) != 0) {
      set_err(err, errlen, path, "cannot replace it");
      return NULL;
    }
  }
  /* The recording holds every process's command line and names: made 0600
   * like the trace files, whatever the umask (SQLite would make it 0644, and
   * its journal takes the database's mode). O_EXCL: nothing that appeared at
   * path since the check above (a link, say) is written through. */
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    set_err(err, errlen, path, strerror(errno));
    return NULL;
  }
  close(fd);
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    set_err(err, errlen, path, db ? sqlite3_errmsg(db) : "cannot create");
    sqlite3_close(db);
    unlink(path);
    return NULL;
  }
  char *msg = NULL;
  if (sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=65536;", NULL, NULL, &msg) !=
          SQLITE_OK ||
      exec_tables(db, &msg) != SQLITE_OK ||
      (!defer_indexes && sqlite3_exec(db, schema_indexes(), NULL, NULL, &msg) != SQLITE_OK)) {
    set_err(err, errlen, path, msg ? msg : "cannot create the schema");
    sqlite3_free(msg);
    sqlite3_close(db);
    unlink(path);
    return NULL;
  }
  /* code tables */
  sqlite3_stmt *q;
  sqlite3_prepare_v2(db, "INSERT INTO state_name VALUES (?,?,?)", -1, &q, NULL);
  for (int i = 0; i < WEFT_ST_COUNT; i++) {
    sqlite3_bind_int(q, 1, i);
    sqlite3_bind_text(q, 2, state_names[i], -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 3, weft_state_is_wait(i));
    sqlite3_step(q);
    sqlite3_reset(q);
  }
  sqlite3_finalize(q);
  sqlite3_prepare_v2(db, "INSERT INTO kind_name VALUES (?,?)", -1, &q, NULL);
  for (int i = 0; i < WEFT_KIND_COUNT; i++) {
    sqlite3_bind_int(q, 1, i);
    sqlite3_bind_text(q, 2, weft_kind_name((unsigned)i), -1, SQLITE_STATIC);
    sqlite3_step(q);
    sqlite3_reset(q);
  }
  sqlite3_finalize(q);
  sqlite3_prepare_v2(db, "INSERT INTO flow_kind_name VALUES (?,?)", -1, &q, NULL);
  for (int i = 1; i < WEFT_FLOW_COUNT; i++) {
    sqlite3_bind_int(q, 1, i);
    sqlite3_bind_text(q, 2, flow_names[i], -1, SQLITE_STATIC);
    sqlite3_step(q);
    sqlite3_reset(q);
  }
  sqlite3_finalize(q);
  return db;
}

int weft_db_meta_set(sqlite3 *db, const char *key, const char *value) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO meta VALUES (?,?)", -1, &q, NULL) != SQLITE_OK) return -1;
  sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(q, 2, value, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(q) == SQLITE_DONE ? 0 : -1;
  sqlite3_finalize(q);
  return rc;
}

int weft_db_meta_set_int(sqlite3 *db, const char *key, int64_t value) {
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", (long long)value);
  return weft_db_meta_set(db, key, buf);
}

char *weft_db_meta_get(sqlite3 *db, const char *key) {
  sqlite3_stmt *q;
  char *out = NULL;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &q, NULL) != SQLITE_OK) return NULL;
  sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0)) out = strdup((const char *)sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
  return out;
}

int64_t weft_db_meta_get_int(sqlite3 *db, const char *key, int64_t dflt) {
  char *s = weft_db_meta_get(db, key);
  if (!s) return dflt;
  char *end;
  long long v = strtoll(s, &end, 10);
  int ok = end != s && *end == 0;
  free(s);
  return ok ? (int64_t)v : dflt;
}

int weft_db_store_machine(const char *path, const WeftDbMachine *m, char *err, size_t errlen) {
  sqlite3 *db = weft_db_open(path, 1, err, errlen);
  if (!db) return -1;
  char prefix[4096 + 64];
  snprintf(prefix, sizeof prefix, "%s: cannot store the machine's load", path);
  WeftSql s;
  weft_sql_init(&s, db, err, errlen, prefix);
  int rc = 0;
  if (m->total_ns >= 0) {
    rc |= weft_db_meta_set_int(db, "machine_busy_ns", m->busy_ns);
    rc |= weft_db_meta_set_int(db, "machine_steal_ns", m->steal_ns);
    rc |= weft_db_meta_set_int(db, "machine_total_ns", m->total_ns);
  }
  if (m->cpu_limit_milli > 0) rc |= weft_db_meta_set_int(db, "cpu_limit_milli", m->cpu_limit_milli);
  if (rc) weft_sql_error(&s);
  sqlite3_close(db);
  return rc ? -1 : 0;
}

/* The one integer sql selects, or -1 (no row, NULL, an error). */
static int64_t select_int(sqlite3 *db, const char *sql) {
  WeftSql s;
  weft_sql_init(&s, db, NULL, 0, NULL);
  sqlite3_stmt *q = weft_sql_prepare(&s, sql);
  int64_t v = weft_sql_step(&s, q) ? weft_sql_i64(q, 0, -1) : -1;
  sqlite3_finalize(q);
  return v;
}

void weft_db_totals(sqlite3 *db, WeftDbTotals *out) {
  out->processes = select_int(db, "SELECT count(*) FROM process");
  out->threads = select_int(db, "SELECT count(*) FROM thread");
  out->end_ns = weft_db_meta_get_int(db, "end_ns", -1);
  if (out->end_ns < 0) out->end_ns = select_int(db, "SELECT max(end_ns) FROM process");
  out->lost_events = weft_db_meta_get_int(db, "lost_events", -1);
}

size_t weft_db_top_waits(sqlite3 *db, WeftDbObjectWait *out, size_t n) {
  char sql[512];
  snprintf(sql, sizeof sql,
           "SELECT o.object_id, o.wait_ns,"
           " (SELECT count(*) FROM thread_state s WHERE s.object_id = o.object_id), k.name,"
           " (SELECT sum(wait_ns) FROM sync_object WHERE kind BETWEEN %d AND %d)"
           " FROM sync_object o LEFT JOIN kind_name k ON k.kind = o.kind"
           " WHERE o.kind BETWEEN %d AND %d AND o.wait_ns > 0 ORDER BY o.wait_ns DESC LIMIT %zu",
           WEFT_KIND_MUTEX, WEFT_KIND_SEM, WEFT_KIND_MUTEX, WEFT_KIND_SEM, n);
  WeftSql s;
  weft_sql_init(&s, db, NULL, 0, NULL);
  sqlite3_stmt *q = weft_sql_prepare(&s, sql);
  size_t rows = 0;
  while (rows < n && weft_sql_step(&s, q)) {
    WeftDbObjectWait *w = &out[rows++];
    const char *kind = (const char *)sqlite3_column_text(q, 3);
    *w = (WeftDbObjectWait){.object_id = sqlite3_column_int64(q, 0),
                            .wait_ns = sqlite3_column_int64(q, 1),
                            .waits = sqlite3_column_int64(q, 2),
                            .all_wait_ns = sqlite3_column_int64(q, 4),
                            .has_kind = kind != NULL};
    snprintf(w->kind, sizeof w->kind, "%s", kind ? kind : "");
  }
  sqlite3_finalize(q);
  return rows;
}

int weft_db_thread_lock_waits(sqlite3 *db, int64_t utid, int64_t start_ns, int64_t end_ns,
                              void (*fn)(int64_t object_id, int64_t wait_ns, void *arg), void *arg) {
  WeftSql s;
  weft_sql_init(&s, db, NULL, 0, NULL);
  sqlite3_stmt *q = weft_sql_prepare(&s, "SELECT object_id, sum(dur_ns) FROM thread_state WHERE utid = ?1 AND "
                                         "state IN (?2, ?3, ?4, ?5) AND object_id IS NOT NULL AND start_ns < ?6 AND "
                                         "start_ns + dur_ns > ?7 GROUP BY object_id");
  if (q) {
    sqlite3_bind_int64(q, 1, utid);
    sqlite3_bind_int(q, 2, WEFT_ST_LOCK_WAIT);
    sqlite3_bind_int(q, 3, WEFT_ST_RWLOCK_WAIT);
    sqlite3_bind_int(q, 4, WEFT_ST_SPIN_WAIT);
    sqlite3_bind_int(q, 5, WEFT_ST_SEM_WAIT);
    sqlite3_bind_int64(q, 6, end_ns);
    sqlite3_bind_int64(q, 7, start_ns);
  }
  while (weft_sql_step(&s, q)) fn(sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), arg);
  sqlite3_finalize(q);
  return s.failed ? -1 : 0;
}
