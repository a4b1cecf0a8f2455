/* weft-sqlite.c - the first SQLite error (see weft-sqlite.h).
 * SPDX-License-Identifier: MIT
 */
#include "weft-sqlite.h"

#include <stdarg.h>
#include <stdio.h>

void weft_sql_init(WeftSql *s, sqlite3 *db, char *err, size_t errlen, const char *prefix) {
  *s = (WeftSql){.db = db, .err = err, .errlen = errlen, .prefix = prefix ? prefix : "database"};
  if (err && errlen) err[0] = '\0';
}

bool weft_sql_fail(WeftSql *s, const char *fmt, ...) {
  if (!s->failed && s->err && s->errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
  }
  s->failed = true;
  return false;
}

bool weft_sql_error(WeftSql *s) {
  const char *msg = s->db ? sqlite3_errmsg(s->db) : NULL;
  return weft_sql_fail(s, "%s: %s", s->prefix, msg ? msg : "unknown error");
}

sqlite3_stmt *weft_sql_prepare(WeftSql *s, const char *sql) {
  sqlite3_stmt *q = NULL;
  if (s->failed) return NULL;
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
    weft_sql_error(s);
    sqlite3_finalize(q);
    return NULL;
  }
  return q;
}

bool weft_sql_step(WeftSql *s, sqlite3_stmt *q) {
  if (!q) return false;
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) weft_sql_error(s);
  return false;
}

int64_t weft_sql_i64(sqlite3_stmt *q, int i, int64_t dflt) {
  return sqlite3_column_type(q, i) == SQLITE_NULL ? dflt : sqlite3_column_int64(q, i);
}
