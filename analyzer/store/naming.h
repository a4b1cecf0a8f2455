/* naming.h - the one way weft names sync objects and stack frames.
 * SPDX-License-Identifier: MIT
 *
 * The report, the record summary, export and the GUI all show an object or
 * a frame under these names, read from the recording database
 * (docs/schema.md): nothing here depends on an analysis.
 */
#ifndef WEFT_NAMING_H
#define WEFT_NAMING_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The part of path after its last '/' (path itself without one; NULL for
 * NULL): how a file or an executable is shown. */
const char *weft_base_name(const char *path);

/* The site of a frame: "file.c:88", "file.c" (line 0: unknown), or "" when
 * file is NULL or "". file may be a full path: its base name is used.
 * Writes into buf, returns it. */
const char *weft_frame_site(const char *file, int64_t line, char *buf, size_t len);

/* The label of one frame: "symbol (file.c:88)", "symbol", "file.c:88",
 * "module+0x1a2b", "0x7f..". symbol and file may be NULL or "", line 0
 * unknown, module a path or NULL. Writes into buf, returns it. */
const char *weft_frame_label(const char *symbol, const char *file, int64_t line, const char *module, int64_t rel_pc,
                             int64_t ip, char *buf, size_t len);

/* The one display name of a sync object (report, record summary, export,
 * GUI): sync_object.name (a symbol or a name given through weft.h), else its
 * Python name (weft_object_namer_python), else the
 * label of the innermost frame of its init stack, else of its first
 * contended wait's stack, else "kind@0xaddr". Writes into buf, returns it
 * ("object N" if the object is unknown or the database cannot be read).
 * weft_object_namer_* do the same with prepared statements, for naming
 * many objects. */
const char *weft_object_display_name(sqlite3 *db, int64_t object_id, char *buf, size_t len);
typedef struct WeftObjectNamer WeftObjectNamer;
WeftObjectNamer *weft_object_namer_new(sqlite3 *db); /* NULL on failure */
const char *weft_object_namer_name(WeftObjectNamer *n, int64_t object_id, char *buf, size_t len);
void weft_object_namer_free(WeftObjectNamer *n);

/* The object a fork child's object is, when it has no name and no init
 * stack of its own: the same address and kind in the nearest forking
 * ancestor (a first image running its parent's executable, not exec'd),
 * made there before the fork, that has either (a multiprocessing.Lock()
 * made by the parent, taken only by its children); -1 if none.
 * weft_object_namer_name names such an object by it. */
int64_t weft_object_namer_inherited(WeftObjectNamer *n, int64_t object_id);

/* The name of an object made by Python code, from its creation (init)
 * stack: "X() at file.py:N", the user's line (the innermost Python frame
 * outside the standard library) and what the standard library call it made
 * makes ("threading.Condition()", "queue.Queue()", "mp.Lock()", a waiter
 * lock's "Queue.get()"), or "threading.Lock()" when the line called the
 * builtin itself; " #k" (by object id) when several of the process share the
 * frames that decide it. An object a multiprocessing Manager's server made
 * for a client (Server.create) is "mp.Manager().X() at file.py:N", the
 * client's line from its last wait in BaseManager._create before the object
 * was made. false (buf untouched) for an object with a name, no init stack,
 * or one made by C code or by a call weft does not know. */
bool weft_object_namer_python(WeftObjectNamer *n, int64_t object_id, char *buf, size_t len);

/* A file of Python's standard library: under .../lib/python3.N/ but not in
 * site-packages or dist-packages, or a frozen module ("<frozen ...>"). */
bool weft_py_stdlib_file(const char *file);

/* What the standard library function func (as a Python frame names it) of
 * file makes, as it is shown ("threading.Condition()"), or NULL. */
const char *weft_py_maker(const char *file, const char *func);

/* Objects named by the site that made them are told apart when the site is
 * shared (a lock constructor such as new_lock() called for every lock): the
 * caller's frame is appended to the name in buf ("new_lock (pool.c:40) from
 * queue_new (queue.c:12)") and, if that is shared too, an ordinal by object
 * id ("#2"). The same for a whole recording whatever the range: the groups
 * come from the database. weft_object_namer_name does it already; this is
 * for a caller that found the frame's label itself. n may be NULL (nothing
 * is added). */
void weft_object_namer_disambiguate(WeftObjectNamer *n, int64_t object_id, char *buf, size_t len);

/* An OpenMP parallel region's barrier (sync_object.runtime 'openmp', kind
 * barrier) is named by the region's call, its site name after this prefix. */
#define WEFT_OMP_REGION_PREFIX "omp parallel "
/* buf (a site name) made a region's name in place. */
void weft_omp_region_name(char *buf, size_t len);

#endif /* WEFT_NAMING_H */
