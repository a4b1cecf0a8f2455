/* naming.c - names of sync objects and stack frames (see naming.h).
 * SPDX-License-Identifier: MIT
 */
#include "naming.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft-sqlite.h"
#include "weft-trace.h"

const char *weft_base_name(const char *path) {
  const char *s = path ? strrchr(path, '/') : NULL;
  return s ? s + 1 : path;
}

const char *weft_frame_site(const char *file, int64_t line, char *buf, size_t len) {
  if (file && *file && line > 0)
    snprintf(buf, len, "%s:%lld", weft_base_name(file), (long long)line);
  else if (file && *file)
    snprintf(buf, len, "%s", weft_base_name(file));
  else if (len)
    buf[0] = '\0';
  return buf;
}

const char *weft_frame_label(const char *symbol, const char *file, int64_t line, const char *module, int64_t rel_pc,
                             int64_t ip, char *buf, size_t len) {
  if (symbol && !*symbol) symbol = NULL;
  char site[512];
  weft_frame_site(file, line, site, sizeof site);
  if (symbol && *site)
    snprintf(buf, len, "%s (%s)", symbol, site);
  else if (symbol)
    snprintf(buf, len, "%s", symbol);
  else if (*site)
    snprintf(buf, len, "%s", site);
  else if (module && *module)
    snprintf(buf, len, "%s+0x%llx", weft_base_name(module), (unsigned long long)rel_pc);
  else
    snprintf(buf, len, "0x%llx", (unsigned long long)ip);
  return buf;
}

struct WeftObjectNamer {
  sqlite3_stmt *qo, *qf, *qg, *qc, *qid;
};

WeftObjectNamer *weft_object_namer_new(sqlite3 *db) {
  WeftObjectNamer *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT name, kind, addr, init_stack_id, first_stack_id FROM sync_object "
                         "WHERE object_id = ?1",
                         -1, &n->qo, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT f.symbol, f.file, f.line, f.ip, f.rel_pc, m.path FROM stack_frame sf "
                         "JOIN frame f ON f.frame_id = sf.frame_id "
                         "LEFT JOIN module m ON m.module_id = f.module_id "
                         "WHERE sf.stack_id = ?1 AND sf.depth = 0",
                         -1, &n->qf, NULL) != SQLITE_OK ||
      /* the frames that name an object by site: its naming stack's innermost frame and its caller */
      sqlite3_prepare_v2(db,
                         "SELECT o.upid, sf0.frame_id, sf1.frame_id FROM sync_object o "
                         "JOIN stack_frame sf0 ON sf0.stack_id = coalesce(o.init_stack_id, o.first_stack_id) "
                         "AND sf0.depth = 0 LEFT JOIN stack_frame sf1 ON sf1.stack_id = sf0.stack_id "
                         "AND sf1.depth = 1 WHERE o.object_id = ?1",
                         -1, &n->qg, NULL) != SQLITE_OK ||
      /* the objects of the process named by the same frame: how many, how many before it, and the
       * same for those with the same caller too */
      sqlite3_prepare_v2(db,
                         "SELECT count(*), coalesce(sum(o.object_id < ?4), 0), coalesce(sum(sf1.frame_id IS ?3), 0), "
                         "coalesce(sum(sf1.frame_id IS ?3 AND o.object_id < ?4), 0) FROM sync_object o "
                         "JOIN stack_frame sf0 ON sf0.stack_id = coalesce(o.init_stack_id, o.first_stack_id) "
                         "AND sf0.depth = 0 LEFT JOIN stack_frame sf1 ON sf1.stack_id = sf0.stack_id "
                         "AND sf1.depth = 1 WHERE o.upid = ?1 AND sf0.frame_id = ?2 "
                         "AND (o.name IS NULL OR o.name = '')",
                         -1, &n->qc, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT f.symbol, f.file, f.line, f.ip, f.rel_pc, m.path FROM frame f "
                         "LEFT JOIN module m ON m.module_id = f.module_id WHERE f.frame_id = ?1",
                         -1, &n->qid, NULL) != SQLITE_OK) {
    weft_object_namer_free(n);
    return NULL;
  }
  return n;
}

void weft_object_namer_free(WeftObjectNamer *n) {
  if (!n) return;
  sqlite3_finalize(n->qo);
  sqlite3_finalize(n->qf);
  sqlite3_finalize(n->qg);
  sqlite3_finalize(n->qc);
  sqlite3_finalize(n->qid);
  free(n);
}

/* The label of stack_id's innermost frame into buf; false if it has none. */
static bool namer_frame(WeftObjectNamer *n, sqlite3_stmt *qo, int col, char *buf, size_t len) {
  if (sqlite3_column_type(qo, col) == SQLITE_NULL) return false;
  sqlite3_bind_int64(n->qf, 1, sqlite3_column_int64(qo, col));
  bool found = sqlite3_step(n->qf) == SQLITE_ROW;
  if (found)
    weft_frame_label((const char *)sqlite3_column_text(n->qf, 0), (const char *)sqlite3_column_text(n->qf, 1),
                     weft_sql_i64(n->qf, 2, 0), (const char *)sqlite3_column_text(n->qf, 5), weft_sql_i64(n->qf, 4, 0),
                     weft_sql_i64(n->qf, 3, 0), buf, len);
  sqlite3_reset(n->qf);
  return found;
}

/* The caller's frame, then an ordinal, when the site is shared (naming.h). */
void weft_object_namer_disambiguate(WeftObjectNamer *n, int64_t object_id, char *buf, size_t len) {
  if (!n) return;
  sqlite3_bind_int64(n->qg, 1, object_id);
  if (sqlite3_step(n->qg) != SQLITE_ROW) {
    sqlite3_reset(n->qg);
    return;
  }
  int64_t upid = sqlite3_column_int64(n->qg, 0), f0 = sqlite3_column_int64(n->qg, 1);
  bool has_caller = sqlite3_column_type(n->qg, 2) != SQLITE_NULL;
  int64_t f1 = has_caller ? sqlite3_column_int64(n->qg, 2) : -1;
  sqlite3_reset(n->qg);
  sqlite3_bind_int64(n->qc, 1, upid);
  sqlite3_bind_int64(n->qc, 2, f0);
  if (has_caller)
    sqlite3_bind_int64(n->qc, 3, f1);
  else
    sqlite3_bind_null(n->qc, 3);
  sqlite3_bind_int64(n->qc, 4, object_id);
  int64_t same = 0, same_caller = 0, rank_caller = 0;
  if (sqlite3_step(n->qc) == SQLITE_ROW) {
    same = sqlite3_column_int64(n->qc, 0);
    same_caller = sqlite3_column_int64(n->qc, 2);
    rank_caller = sqlite3_column_int64(n->qc, 3);
  }
  sqlite3_reset(n->qc);
  if (same < 2) return;
  size_t used = strlen(buf);
  if (has_caller && same_caller < same) { /* the caller tells some of them apart */
    sqlite3_bind_int64(n->qid, 1, f1);
    if (sqlite3_step(n->qid) == SQLITE_ROW) {
      char caller[512];
      weft_frame_label((const char *)sqlite3_column_text(n->qid, 0), (const char *)sqlite3_column_text(n->qid, 1),
                       weft_sql_i64(n->qid, 2, 0), (const char *)sqlite3_column_text(n->qid, 5),
                       weft_sql_i64(n->qid, 4, 0), weft_sql_i64(n->qid, 3, 0), caller, sizeof caller);
      if (used < len) snprintf(buf + used, len - used, " from %s", caller);
      used = strlen(buf);
    }
    sqlite3_reset(n->qid);
  }
  if (same_caller >= 2 || !has_caller) {
    int64_t rank = has_caller ? rank_caller : 0;
    if (!has_caller) { /* rank among all that share the frame */
      sqlite3_bind_int64(n->qc, 1, upid);
      sqlite3_bind_int64(n->qc, 2, f0);
      sqlite3_bind_null(n->qc, 3);
      sqlite3_bind_int64(n->qc, 4, object_id);
      if (sqlite3_step(n->qc) == SQLITE_ROW) rank = sqlite3_column_int64(n->qc, 1);
      sqlite3_reset(n->qc);
    }
    if (used < len) snprintf(buf + used, len - used, " #%lld", (long long)rank + 1);
  }
}

const char *weft_object_namer_name(WeftObjectNamer *n, int64_t object_id, char *buf, size_t len) {
  snprintf(buf, len, "object %lld", (long long)object_id);
  if (!n) return buf;
  sqlite3_bind_int64(n->qo, 1, object_id);
  if (sqlite3_step(n->qo) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(n->qo, 0);
    if (name && *name) {
      snprintf(buf, len, "%s", name);
      sqlite3_reset(n->qo);
    } else if (!namer_frame(n, n->qo, 3, buf, len) && !namer_frame(n, n->qo, 4, buf, len)) {
      const char *kn = weft_kind_name((unsigned)sqlite3_column_int(n->qo, 1));
      snprintf(buf, len, "%s@0x%llx", kn ? kn : "object", (unsigned long long)sqlite3_column_int64(n->qo, 2));
      sqlite3_reset(n->qo);
    } else {
      sqlite3_reset(n->qo);
      weft_object_namer_disambiguate(n, object_id, buf, len);
    }
  }
  sqlite3_reset(n->qo);
  return buf;
}

const char *weft_object_display_name(sqlite3 *db, int64_t object_id, char *buf, size_t len) {
  WeftObjectNamer *n = weft_object_namer_new(db);
  weft_object_namer_name(n, object_id, buf, len);
  weft_object_namer_free(n);
  return buf;
}
