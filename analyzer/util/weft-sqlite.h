/* weft-sqlite.h - the one "keep the first SQLite error" helper of weft.
 * SPDX-License-Identifier: MIT
 *
 * A reader or writer of the database runs many statements in a row and
 * reports one line when any of them fails: the first error, since later ones
 * are its consequences. WeftSql keeps that first message in the caller's
 * buffer ("<prefix>: <what SQLite said>") and a failed flag that makes every
 * later call a no-op, so code can read straight through and check once.
 *
 *   WeftSql s;
 *   weft_sql_init(&s, db, err, errlen, "cannot read the database");
 *   sqlite3_stmt *q = weft_sql_prepare(&s, "SELECT ...");
 *   while (weft_sql_step(&s, q)) ...;
 *   sqlite3_finalize(q);
 *   if (s.failed) return -1;
 */
#ifndef WEFT_SQLITE_H
#define WEFT_SQLITE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  sqlite3 *db;
  char *err; /* the caller's buffer for the first message (may be NULL) */
  size_t errlen;
  const char *prefix; /* put before SQLite's own message */
  bool failed;
} WeftSql;

void weft_sql_init(WeftSql *s, sqlite3 *db, char *err, size_t errlen, const char *prefix);

/* Keep fmt as the error unless one is kept already; always returns false. */
bool weft_sql_fail(WeftSql *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Keep "<prefix>: <sqlite3_errmsg>" the same way; returns false. */
bool weft_sql_error(WeftSql *s);

/* sqlite3_prepare_v2, or NULL with the error kept (and NULL at once after an
 * earlier failure). */
sqlite3_stmt *weft_sql_prepare(WeftSql *s, const char *sql);

/* sqlite3_step: true on a row; false when done, on an error (kept), or when
 * q is NULL (a failed prepare). */
bool weft_sql_step(WeftSql *s, sqlite3_stmt *q);

/* Column i as an integer, dflt when it is NULL. */
int64_t weft_sql_i64(sqlite3_stmt *q, int i, int64_t dflt);

#endif /* WEFT_SQLITE_H */
