/* naming.c - names of sync objects and stack frames (see naming.h).
 * SPDX-License-Identifier: MIT
 */
#include "naming.h"

#include <glib.h>
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

/* A client's call that made an object in a multiprocessing Manager's
 * process: one of its waits in BaseManager._create (connecting, then the
 * request and the answer). */
typedef struct {
  int64_t start_ns, end_ns, stack_id, upid;
} MgrCall;

/* An object named by its site (no name of its own): its process, the keys
 * of the labels of the innermost frame of its naming stack and of its
 * caller's (frame_key; -1 none). */
typedef struct {
  int64_t upid, f0, f1, object_id;
} SiteRow;

struct WeftObjectNamer {
  sqlite3 *db;
  sqlite3_stmt *qo, *qf, *qg, *qid, *qpf, *qpp, *qanc;
  GHashTable *py_procs; /* upid -> PyProc: read once per process (py_proc) */
  GHashTable *forked;   /* upid -> ForkOf: the fork children, read once (fork_of) */
  MgrCall *calls;       /* read on first use (calls_read), by start_ns */
  size_t ncalls;
  bool calls_read;
  /* every object named by its site, read once (sites_read): by (upid, f0,
   * object) and by (upid, f0, f1, object), so that how many share a site
   * and which of them an object is are two binary searches, not a query
   * over the process's objects per object (32,600 objects of a Dask run
   * took a minute that way) */
  SiteRow *by_site, *by_caller;
  size_t nsites;
  bool sites_read, sites_failed;
  /* a site is its frame's label, not the frame: two return addresses in one function of a program built
   * without -g (or on one line) read the same, and are told apart (frame_key) */
  GHashTable *key_of_frame; /* frame_id -> key */
  GHashTable *key_of_label; /* label -> key */
};

WeftObjectNamer *weft_object_namer_new(sqlite3 *db) {
  WeftObjectNamer *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->db = db;
  if (sqlite3_prepare_v2(
          db,
          "SELECT name, kind, addr, init_stack_id, first_stack_id, upid, first_ns, runtime FROM sync_object "
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
      sqlite3_prepare_v2(db,
                         "SELECT f.symbol, f.file, f.line, f.ip, f.rel_pc, m.path FROM frame f "
                         "LEFT JOIN module m ON m.module_id = f.module_id WHERE f.frame_id = ?1",
                         -1, &n->qid, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT f.symbol, f.file, f.line, f.ip, f.frame_id, m.path FROM stack_frame sf "
                         "JOIN frame f ON f.frame_id = sf.frame_id LEFT JOIN module m ON m.module_id = f.module_id "
                         "WHERE sf.stack_id = ?1 ORDER BY sf.depth",
                         -1, &n->qpf, NULL) != SQLITE_OK ||
      /* the site-named objects of process ?1 with a stack, and every frame of it */
      sqlite3_prepare_v2(db,
                         "SELECT o.init_stack_id, o.object_id, sf.frame_id FROM sync_object o "
                         "JOIN stack_frame sf ON sf.stack_id = o.init_stack_id "
                         "WHERE o.upid = ?1 AND (o.name IS NULL OR o.name = '') ORDER BY o.object_id",
                         -1, &n->qpp, NULL) != SQLITE_OK ||
      /* the object of process ?1 at an address, of a kind, made there before ?4 and not destroyed by then
       * (memory freed and reused for another object is not inherited) */
      sqlite3_prepare_v2(db,
                         "SELECT object_id, init_stack_id IS NOT NULL OR coalesce(name, '') != '' FROM sync_object "
                         "WHERE upid = ?1 AND addr = ?2 AND kind = ?3 AND first_ns <= ?4 AND (destroyed_ns IS NULL "
                         "OR destroyed_ns > ?4) ORDER BY first_ns DESC LIMIT 1",
                         -1, &n->qanc, NULL) != SQLITE_OK) {
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
  sqlite3_finalize(n->qid);
  sqlite3_finalize(n->qpf);
  sqlite3_finalize(n->qpp);
  sqlite3_finalize(n->qanc);
  if (n->py_procs) g_hash_table_destroy(n->py_procs);
  if (n->forked) g_hash_table_destroy(n->forked);
  free(n->calls);
  free(n->by_site);
  free(n->by_caller);
  if (n->key_of_frame) g_hash_table_destroy(n->key_of_frame);
  if (n->key_of_label) g_hash_table_destroy(n->key_of_label);
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

static int cmp_i64s(int64_t a, int64_t b) { return (a > b) - (a < b); }

static int cmp_site(const void *x, const void *y) {
  const SiteRow *a = x, *b = y;
  int c = cmp_i64s(a->upid, b->upid);
  if (!c) c = cmp_i64s(a->f0, b->f0);
  return c ? c : cmp_i64s(a->object_id, b->object_id);
}

static int cmp_caller(const void *x, const void *y) {
  const SiteRow *a = x, *b = y;
  int c = cmp_i64s(a->upid, b->upid);
  if (!c) c = cmp_i64s(a->f0, b->f0);
  if (!c) c = cmp_i64s(a->f1, b->f1);
  return c ? c : cmp_i64s(a->object_id, b->object_id);
}

/* A process image begun by a fork: its parent and start (parent -1: not
 * one, or unknown). A fork child is a first image, not exec'd into, that its
 * parent's FORK record says fork() made (started_by). The executable and its
 * address are no proof: a posix_spawn or vfork child of the same executable
 * is mapped at the parent's address too when the executable is not
 * position-independent (Debian's python3) or ASLR is off. */
typedef struct {
  int64_t upid, parent, start;
} ForkOf;

static ForkOf fork_of(WeftObjectNamer *n, int64_t upid) {
  if (!n->forked) { /* every fork child, its parent and the fork's time (its main thread's fork flow; the child's
                     * start comes milliseconds later, and the parent goes on meanwhile): one statement */
    n->forked = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(n->db,
                           "SELECT c.upid, c.parent_upid, coalesce((SELECT min(f.from_ns) FROM flow f JOIN thread t "
                           "ON t.utid = f.to_utid AND t.is_main WHERE f.kind = 7 AND t.upid = c.upid), c.start_ns) "
                           "FROM process c JOIN process p ON p.upid = c.parent_upid WHERE c.image = 0 AND "
                           "c.exec_from_upid IS NULL AND c.started_by = 'fork' AND c.exe = p.exe",
                           -1, &q, NULL) == SQLITE_OK)
      while (sqlite3_step(q) == SQLITE_ROW) {
        ForkOf *f = g_new(ForkOf, 1);
        *f = (ForkOf){sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), sqlite3_column_int64(q, 2)};
        g_hash_table_insert(n->forked, &f->upid, f);
      }
    sqlite3_finalize(q);
  }
  ForkOf *f = g_hash_table_lookup(n->forked, &upid);
  return f ? *f : (ForkOf){upid, -1, 0};
}

/* frame_id's label into buf (weft_frame_label); false if there is no such frame. */
static bool frame_label(WeftObjectNamer *n, int64_t frame_id, char *buf, size_t len) {
  sqlite3_bind_int64(n->qid, 1, frame_id);
  bool found = sqlite3_step(n->qid) == SQLITE_ROW;
  if (found)
    weft_frame_label((const char *)sqlite3_column_text(n->qid, 0), (const char *)sqlite3_column_text(n->qid, 1),
                     weft_sql_i64(n->qid, 2, 0), (const char *)sqlite3_column_text(n->qid, 5),
                     weft_sql_i64(n->qid, 4, 0), weft_sql_i64(n->qid, 3, 0), buf, len);
  sqlite3_reset(n->qid);
  return found;
}

/* The key of frame_id's label (-1: no frame): one for every frame that
 * reads the same. */
static int64_t frame_key(WeftObjectNamer *n, int64_t frame_id) {
  if (frame_id < 0) return -1;
  if (!n->key_of_frame) {
    n->key_of_frame = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    n->key_of_label = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  }
  int64_t *k = g_hash_table_lookup(n->key_of_frame, &frame_id);
  if (k) return *k;
  char label[512] = "";
  if (!frame_label(n, frame_id, label, sizeof label) || !*label)
    snprintf(label, sizeof label, "#%lld", (long long)frame_id);
  int64_t *lk = g_hash_table_lookup(n->key_of_label, label);
  if (!lk) {
    lk = g_new(int64_t, 1);
    *lk = (int64_t)g_hash_table_size(n->key_of_label);
    g_hash_table_insert(n->key_of_label, g_strdup(label), lk);
  }
  g_hash_table_insert(n->key_of_frame, g_memdup2(&frame_id, sizeof frame_id), g_memdup2(lk, sizeof *lk));
  return *lk;
}

/* n->by_site and n->by_caller: every object without a name of its own,
 * with the frames that name it. */
static bool sites_read(WeftObjectNamer *n) {
  if (n->sites_read) return !n->sites_failed;
  n->sites_read = true;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(n->db,
                         "SELECT o.upid, sf0.frame_id, coalesce(sf1.frame_id, -1), o.object_id, "
                         "o.init_stack_id IS NULL FROM sync_object o "
                         "JOIN stack_frame sf0 ON sf0.stack_id = coalesce(o.init_stack_id, o.first_stack_id) "
                         "AND sf0.depth = 0 LEFT JOIN stack_frame sf1 ON sf1.stack_id = sf0.stack_id "
                         "AND sf1.depth = 1 WHERE o.name IS NULL OR o.name = ''",
                         -1, &q, NULL) != SQLITE_OK) {
    n->sites_failed = true;
    return false;
  }
  size_t cap = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    /* (a fork child's object that is its parent's is named by it, not by a site here) */
    if (sqlite3_column_int(q, 4) && fork_of(n, sqlite3_column_int64(q, 0)).parent >= 0 &&
        weft_object_namer_inherited(n, sqlite3_column_int64(q, 3)) >= 0)
      continue;
    if (n->nsites == cap) {
      size_t nc = cap ? cap * 2 : 256;
      SiteRow *v = realloc(n->by_site, nc * sizeof *v);
      if (!v) {
        n->sites_failed = true;
        break;
      }
      n->by_site = v, cap = nc;
    }
    n->by_site[n->nsites++] = (SiteRow){sqlite3_column_int64(q, 0), frame_key(n, sqlite3_column_int64(q, 1)),
                                        frame_key(n, sqlite3_column_int64(q, 2)), sqlite3_column_int64(q, 3)};
  }
  sqlite3_finalize(q);
  if (!n->sites_failed && n->nsites && !(n->by_caller = malloc(n->nsites * sizeof *n->by_caller)))
    n->sites_failed = true;
  if (n->sites_failed) return false;
  if (n->nsites) memcpy(n->by_caller, n->by_site, n->nsites * sizeof *n->by_caller);
  if (n->nsites) {
    qsort(n->by_site, n->nsites, sizeof *n->by_site, cmp_site);
    qsort(n->by_caller, n->nsites, sizeof *n->by_caller, cmp_caller);
  }
  return true;
}

/* In v (sorted by cmp), the first row not before key. */
static size_t lower_bound(const SiteRow *v, size_t n, const SiteRow *key, int (*cmp)(const void *, const void *)) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t m = lo + (hi - lo) / 2;
    if (cmp(&v[m], key) < 0)
      lo = m + 1;
    else
      hi = m;
  }
  return lo;
}

/* Of the site-named objects of process upid named by frame f0 (and caller
 * f1): how many (*same), how many before object_id (*rank); with the
 * caller too (*same_caller, *rank_caller). */
static void site_counts(WeftObjectNamer *n, int64_t upid, int64_t f0, int64_t f1, int64_t object_id, int64_t *same,
                        int64_t *rank, int64_t *same_caller, int64_t *rank_caller) {
  const SiteRow at = {upid, f0, f1, object_id};
  size_t a = lower_bound(n->by_site, n->nsites, &(SiteRow){upid, f0, 0, INT64_MIN}, cmp_site);
  size_t b = lower_bound(n->by_site, n->nsites, &(SiteRow){upid, f0, 0, INT64_MAX}, cmp_site);
  *same = (int64_t)(b - a);
  *rank = (int64_t)(lower_bound(n->by_site, n->nsites, &at, cmp_site) - a);
  size_t ca = lower_bound(n->by_caller, n->nsites, &(SiteRow){upid, f0, f1, INT64_MIN}, cmp_caller);
  size_t cb = lower_bound(n->by_caller, n->nsites, &(SiteRow){upid, f0, f1, INT64_MAX}, cmp_caller);
  *same_caller = (int64_t)(cb - ca);
  *rank_caller = (int64_t)(lower_bound(n->by_caller, n->nsites, &at, cmp_caller) - ca);
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
  if (!sites_read(n)) return;
  int64_t same = 0, rank = 0, same_caller = 0, rank_caller = 0;
  site_counts(n, upid, frame_key(n, f0), frame_key(n, f1), object_id, &same, &rank, &same_caller, &rank_caller);
  if (same < 2) return;
  size_t used = strlen(buf);
  char caller[512];
  if (has_caller && same_caller < same && frame_label(n, f1, caller, sizeof caller)) { /* the caller tells some apart */
    if (used < len) snprintf(buf + used, len - used, " from %s", caller);
    used = strlen(buf);
  }
  if (same_caller >= 2 || !has_caller)
    if (used < len) snprintf(buf + used, len - used, " #%lld", (long long)(has_caller ? rank_caller : rank) + 1);
}

bool weft_py_stdlib_file(const char *file) {
  if (!file) return false;
  if (!strncmp(file, "<frozen ", 8)) return true;
  const char *lib = strstr(file, "/lib/python3.");
  return lib && strchr(lib + 13, '/') && !strstr(file, "-packages/");
}

/* The import machinery's code: a module being imported (and what it
 * makes) is no part of what the call that imported it makes. */
static bool py_import_file(const char *file) {
  return file && (!strncmp(file, "<frozen importlib._bootstrap", 28) || strstr(file, "/importlib/_bootstrap"));
}

/* What a standard library function makes when user code calls it: the
 * file (a suffix of its path), the function as Python 3.11+ names it
 * (qualified) and the name shown. bare: the function's own name is unique
 * in its file in 3.8 to 3.13, so a frame of 3.8-3.10 (which names functions
 * without their class) matches it too. */
typedef struct {
  const char *file, *func, *name;
  bool bare;
} PyMaker;

/* clang-format off */
static const PyMaker py_makers[] = {
  {"/threading.py", "RLock", "threading.RLock()", true},
  {"/threading.py", "Condition.__init__", "threading.Condition()", false},
  {"/threading.py", "Semaphore.__init__", "threading.Semaphore()", false},
  {"/threading.py", "BoundedSemaphore.__init__", "threading.BoundedSemaphore()", false},
  {"/threading.py", "Event.__init__", "threading.Event()", false},
  {"/threading.py", "Barrier.__init__", "threading.Barrier()", false},
  {"/threading.py", "Timer.__init__", "threading.Timer()", false},
  {"/threading.py", "Thread.__init__", "threading.Thread()", false},
  {"/threading.py", "Thread.start", "Thread.start()", true},
  {"/threading.py", "Thread.join", "Thread.join()", false},
  {"/threading.py", "Condition.wait", "Condition.wait()", false},
  {"/threading.py", "Condition.wait_for", "Condition.wait_for()", true},
  {"/threading.py", "Event.wait", "Event.wait()", false},
  {"/threading.py", "Semaphore.acquire", "Semaphore.acquire()", false},
  {"/threading.py", "Barrier.wait", "Barrier.wait()", false},
  {"/queue.py", "Queue.__init__", "queue.Queue()", false},
  {"/queue.py", "Queue.get", "Queue.get()", false},
  {"/queue.py", "Queue.put", "Queue.put()", false},
  {"/queue.py", "Queue.join", "Queue.join()", true},
  {"/multiprocessing/context.py", "BaseContext.Lock", "mp.Lock()", true},
  {"/multiprocessing/context.py", "BaseContext.RLock", "mp.RLock()", true},
  {"/multiprocessing/context.py", "BaseContext.Condition", "mp.Condition()", true},
  {"/multiprocessing/context.py", "BaseContext.Semaphore", "mp.Semaphore()", true},
  {"/multiprocessing/context.py", "BaseContext.BoundedSemaphore", "mp.BoundedSemaphore()", true},
  {"/multiprocessing/context.py", "BaseContext.Event", "mp.Event()", true},
  {"/multiprocessing/context.py", "BaseContext.Barrier", "mp.Barrier()", true},
  {"/multiprocessing/context.py", "BaseContext.Queue", "mp.Queue()", true},
  {"/multiprocessing/context.py", "BaseContext.JoinableQueue", "mp.JoinableQueue()", true},
  {"/multiprocessing/context.py", "BaseContext.SimpleQueue", "mp.SimpleQueue()", true},
  {"/multiprocessing/context.py", "BaseContext.Pool", "mp.Pool()", true},
  {"/multiprocessing/context.py", "BaseContext.Manager", "mp.Manager()", true},
  {"/multiprocessing/synchronize.py", "Lock.__init__", "mp.Lock()", false},
  {"/multiprocessing/synchronize.py", "RLock.__init__", "mp.RLock()", false},
  {"/multiprocessing/synchronize.py", "Condition.__init__", "mp.Condition()", false},
  {"/multiprocessing/synchronize.py", "Semaphore.__init__", "mp.Semaphore()", false},
  {"/multiprocessing/synchronize.py", "BoundedSemaphore.__init__", "mp.BoundedSemaphore()", false},
  {"/multiprocessing/synchronize.py", "Event.__init__", "mp.Event()", false},
  {"/multiprocessing/synchronize.py", "Barrier.__init__", "mp.Barrier()", false},
  {"/multiprocessing/queues.py", "Queue.__init__", "mp.Queue()", false},
  {"/multiprocessing/queues.py", "JoinableQueue.__init__", "mp.JoinableQueue()", false},
  {"/multiprocessing/queues.py", "SimpleQueue.__init__", "mp.SimpleQueue()", false},
  {"/multiprocessing/pool.py", "Pool.__init__", "mp.Pool()", false},
  {"/multiprocessing/pool.py", "ThreadPool.__init__", "ThreadPool()", false},
  {"/concurrent/futures/_base.py", "Future.__init__", "Future()", false},
  {"/concurrent/futures/_base.py", "Future.result", "Future.result()", true},
  {"/concurrent/futures/_base.py", "wait", "futures.wait()", true},
  {"/concurrent/futures/_base.py", "as_completed", "futures.as_completed()", true},
  {"/concurrent/futures/thread.py", "ThreadPoolExecutor.__init__", "ThreadPoolExecutor()", false},
  {"/concurrent/futures/thread.py", "ThreadPoolExecutor.submit", "ThreadPoolExecutor.submit()", true},
  {"/concurrent/futures/process.py", "ProcessPoolExecutor.__init__", "ProcessPoolExecutor()", false},
  {"/concurrent/futures/process.py", "ProcessPoolExecutor.submit", "ProcessPoolExecutor.submit()", true},
};
/* clang-format on */

const char *weft_py_maker(const char *file, const char *func) {
  if (!file || !func) return NULL;
  size_t fl = strlen(file);
  bool qualified = strchr(func, '.') != NULL;
  for (size_t i = 0; i < sizeof py_makers / sizeof *py_makers; i++) {
    const PyMaker *e = &py_makers[i];
    size_t el = strlen(e->file);
    if (fl < el || strcmp(file + fl - el, e->file)) continue;
    const char *own = strrchr(e->func, '.');
    if (!strcmp(func, e->func) || (e->bare && !qualified && !strcmp(func, own ? own + 1 : e->func))) return e->name;
  }
  return NULL;
}

/* The C functions that make a _thread.lock for threading.Lock() (3.8-3.12,
 * 3.13) under PyThread_allocate_lock; in a stripped interpreter they have no
 * name (NULL), which is taken as one of them. */
static bool py_lock_maker(const char *sym) {
  return !sym || !strcmp(sym, "thread_PyThread_allocate_lock") || !strcmp(sym, "newlockobject") ||
         !strcmp(sym, "lock_new");
}

/* A Manager's server making an object for a client: Server.create (create
 * before 3.11) of multiprocessing/managers.py. */
static bool py_manager_create(const char *file, const char *sym) {
  size_t fl = file ? strlen(file) : 0;
  return fl >= 27 && !strcmp(file + fl - 27, "multiprocessing/managers.py") && sym &&
         (!strcmp(sym, "Server.create") || !strcmp(sym, "create"));
}

/* The interpreter's own module: python3.N or libpython3.N.so. */
static bool py_interpreter(const char *path) {
  const char *b = weft_base_name(path);
  return b && (!strncmp(b, "python3", 7) || !strncmp(b, "libpython3", 10));
}

/* The Python name of the object made with stack_id (its Python frames
 * first, innermost first, then its C frames): "X() at file.py:N", where the
 * user's frame is the innermost outside the standard library and X what the
 * outermost standard library frame inside it makes (py_makers), or
 * threading.Lock() when the user's frame itself called the builtin that made
 * a lock (PyThread_allocate_lock under a _thread.lock's maker; in a stripped
 * interpreter, where these have no names, any function of the interpreter).
 * Not an object a module made while the call imported it (importlib's
 * frames between the two: a module lock, a module's own globals): that is
 * no part of what the call makes. Writes into buf, the user frame's id into
 * *fuser and the innermost frame's into *f0; false if the stack has no such
 * name. manager: a
 * Manager's server making an object for a client, where Server.create
 * (managers.py) stands for the user's frame; *what gets X. */
static bool py_maker_name(WeftObjectNamer *n, int64_t stack_id, bool manager, const char **what, char *buf, size_t len,
                          int64_t *fuser, int64_t *f0) {
  const char *maker = NULL;
  char site[512] = "";
  int depth = 0, user = -1, cdepth = 0;
  bool imported = false; /* made while the call imported a module (importlib's frames inside it) */
  sqlite3_bind_int64(n->qpf, 1, stack_id);
  for (; sqlite3_step(n->qpf) == SQLITE_ROW; depth++) {
    const char *sym = (const char *)sqlite3_column_text(n->qpf, 0);
    const char *file = (const char *)sqlite3_column_text(n->qpf, 1);
    if (depth == 0) *f0 = sqlite3_column_int64(n->qpf, 4);
    if (sqlite3_column_int64(n->qpf, 3) >= 0) { /* a C frame: after every Python frame */
      if (user != 0) break;
      if (cdepth++ == 0) { /* what the user's line called */
        bool alloc = sym && !strcmp(sym, "PyThread_allocate_lock");
        maker =
            alloc || (!sym && py_interpreter((const char *)sqlite3_column_text(n->qpf, 5))) ? "threading.Lock()" : NULL;
        if (!alloc) break;
      } else { /* PyThread_allocate_lock's caller: a _thread.lock, not another builtin's lock */
        if (!py_lock_maker(sym)) maker = NULL;
        break;
      }
    } else if (user < 0 && weft_py_stdlib_file(file) && !(manager && py_manager_create(file, sym))) {
      const char *m = weft_py_maker(file, sym);
      if (m) maker = m; /* the outermost wins */
      imported |= py_import_file(file);
    } else if (user < 0) {
      user = depth;
      *fuser = sqlite3_column_int64(n->qpf, 4);
      weft_frame_site(file, weft_sql_i64(n->qpf, 2, 0), site, sizeof site);
      if (user > 0) break;
    }
  }
  sqlite3_reset(n->qpf);
  if (!maker || user < 0 || !*site || imported) return false;
  if (what) *what = maker;
  snprintf(buf, len, "%s at %s", maker, site);
  return true;
}

/* The user's line of a stack: its innermost Python frame outside the
 * standard library, as "file.py:N" into site; false if it has none. */
static bool py_user_site(WeftObjectNamer *n, int64_t stack_id, char *site, size_t len) {
  bool found = false;
  sqlite3_bind_int64(n->qpf, 1, stack_id);
  while (!found && sqlite3_step(n->qpf) == SQLITE_ROW && sqlite3_column_int64(n->qpf, 3) < 0) {
    const char *file = (const char *)sqlite3_column_text(n->qpf, 1);
    if (file && !weft_py_stdlib_file(file))
      found = *weft_frame_site(file, weft_sql_i64(n->qpf, 2, 0), site, len) != '\0';
  }
  sqlite3_reset(n->qpf);
  return found;
}

/* n->calls: every wait of a thread in BaseManager._create, by start. */
static void read_manager_calls(WeftObjectNamer *n) {
  n->calls_read = true;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(n->db,
                         "SELECT ts.start_ns, ts.start_ns + ts.dur_ns, ts.stack_id, t.upid FROM thread_state ts "
                         "JOIN thread t ON t.utid = ts.utid WHERE ts.stack_id IN (SELECT sf.stack_id FROM "
                         "stack_frame sf JOIN frame f ON f.frame_id = sf.frame_id WHERE f.module_id IS NULL AND "
                         "f.file LIKE '%/multiprocessing/managers.py' AND f.symbol IN ('BaseManager._create', "
                         "'_create')) ORDER BY ts.start_ns",
                         -1, &q, NULL) != SQLITE_OK) {
    sqlite3_finalize(q);
    return;
  }
  size_t cap = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    if (n->ncalls == cap) {
      size_t nc = cap ? 2 * cap : 16;
      MgrCall *g = realloc(n->calls, nc * sizeof *g);
      if (!g) break;
      n->calls = g;
      cap = nc;
    }
    n->calls[n->ncalls++] = (MgrCall){sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1),
                                      sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3)};
  }
  sqlite3_finalize(q);
}

#define MGR_CALL_GAP 1000000000 /* ns: a client's last wait in _create before the object was made */

/* An object a Manager's server made (stack_id: Server.create) at made_ns in
 * process upid, named by the client's call that asked for it: "mp.Manager().
 * Lock() at main.py:9", from the last wait of a thread of another process in
 * BaseManager._create that began before it was made (and ended at most
 * MGR_CALL_GAP before); false without one. */
static bool py_manager_name(WeftObjectNamer *n, int64_t stack_id, int64_t upid, int64_t made_ns, char *buf,
                            size_t len) {
  const char *what = NULL;
  int64_t fu = -1, f0 = -1;
  char nb[1024], site[512];
  if (!py_maker_name(n, stack_id, true, &what, nb, sizeof nb, &fu, &f0)) return false;
  if (!n->calls_read) read_manager_calls(n);
  const MgrCall *c = NULL;
  for (size_t i = 0; i < n->ncalls && n->calls[i].start_ns <= made_ns; i++)
    if (n->calls[i].upid != upid && n->calls[i].end_ns >= made_ns - MGR_CALL_GAP) c = &n->calls[i];
  if (!c || !py_user_site(n, c->stack_id, site, sizeof site)) return false;
  /* "threading.Lock()" made for the client is its Manager().Lock() */
  const char *dot = strchr(what, '(');
  while (dot > what && dot[-1] != '.') dot--;
  snprintf(buf, len, "mp.Manager().%s at %s", dot, site);
  return true;
}

/* A process's site-named objects by how they were made: the stacks that
 * have each frame, and each stack's objects (ascending). One read per
 * process instead of a query over its objects per object. */
typedef struct {
  GHashTable *stacks_of_frame; /* frame id -> GArray of int64 stack ids */
  GHashTable *ids_of_stack;    /* stack id -> GArray of int64 object ids */
} PyProc;

static void py_proc_free(gpointer p) {
  PyProc *pp = p;
  g_hash_table_destroy(pp->stacks_of_frame);
  g_hash_table_destroy(pp->ids_of_stack);
  g_free(pp);
}

static void array_free(gpointer a) { g_array_free(a, TRUE); }

/* Append v to the GArray at key k of h (made on first use). */
static GArray *push(GHashTable *h, int64_t k, int64_t v) {
  GArray *a = g_hash_table_lookup(h, &k);
  if (!a) {
    int64_t *key = g_new(int64_t, 1);
    *key = k;
    a = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_hash_table_insert(h, key, a);
  }
  g_array_append_val(a, v);
  return a;
}

static PyProc *py_proc(WeftObjectNamer *n, int64_t upid) {
  if (!n->py_procs) n->py_procs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, py_proc_free);
  PyProc *pp = g_hash_table_lookup(n->py_procs, &upid);
  if (pp) return pp;
  pp = g_new0(PyProc, 1);
  pp->stacks_of_frame = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, array_free);
  pp->ids_of_stack = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, array_free);
  int64_t *key = g_new(int64_t, 1);
  *key = upid;
  g_hash_table_insert(n->py_procs, key, pp);
  sqlite3_bind_int64(n->qpp, 1, upid);
  int64_t last = INT64_MIN;
  while (sqlite3_step(n->qpp) == SQLITE_ROW) {
    int64_t st = sqlite3_column_int64(n->qpp, 0), id = sqlite3_column_int64(n->qpp, 1);
    int64_t frame = sqlite3_column_int64(n->qpp, 2);
    if (id != last) push(pp->ids_of_stack, st, id); /* by object: ascending */
    last = id;
    /* a stack's frames, once: its first object's rows */
    GArray *ids = g_hash_table_lookup(pp->ids_of_stack, &st);
    if (ids->len > 1) continue;
    /* (a frame twice in one stack, recursion: the stack once) */
    GArray *sts = g_hash_table_lookup(pp->stacks_of_frame, &frame);
    if (!sts || !sts->len || g_array_index(sts, int64_t, sts->len - 1) != st) push(pp->stacks_of_frame, frame, st);
  }
  sqlite3_reset(n->qpp);
  return pp;
}

/* How many of the sorted ids are below x. */
static size_t below(const GArray *ids, int64_t x) {
  size_t lo = 0, hi = ids->len;
  while (lo < hi) {
    size_t m = lo + (hi - lo) / 2;
    if (g_array_index(ids, int64_t, m) < x)
      lo = m + 1;
    else
      hi = m;
  }
  return lo;
}

bool weft_object_namer_python(WeftObjectNamer *n, int64_t object_id, char *buf, size_t len) {
  if (!n) return false;
  sqlite3_bind_int64(n->qo, 1, object_id);
  bool row = sqlite3_step(n->qo) == SQLITE_ROW && sqlite3_column_type(n->qo, 3) != SQLITE_NULL;
  const char *name = row ? (const char *)sqlite3_column_text(n->qo, 0) : NULL;
  if (name && *name) row = false; /* named: by a symbol or weft.h */
  int64_t stack = row ? sqlite3_column_int64(n->qo, 3) : -1, upid = row ? sqlite3_column_int64(n->qo, 5) : -1;
  int64_t made = row ? sqlite3_column_int64(n->qo, 6) : 0;
  sqlite3_reset(n->qo);
  int64_t fuser = -1, f0 = -1;
  char nb[1024], other[1024];
  if (!row) return false;
  if (!py_maker_name(n, stack, false, NULL, nb, sizeof nb, &fuser, &f0))
    return py_manager_name(n, stack, upid, made, buf, len);
  /* several of the name in the process: made by one call at different
   * places inside it (an executor's queue and semaphore) are told apart by
   * the innermost frame ("via Semaphore.__init__ (threading.py:436)"); made
   * at one place (in a loop, one per wait) by an ordinal */
  int64_t same = 0, same_f0 = 0, before = 0;
  PyProc *pp = py_proc(n, upid);
  GArray *stacks = g_hash_table_lookup(pp->stacks_of_frame, &fuser);
  for (guint i = 0; stacks && i < stacks->len; i++) {
    int64_t st = g_array_index(stacks, int64_t, i), fu = -1, of0 = -1;
    if (st != stack && !(py_maker_name(n, st, false, NULL, other, sizeof other, &fu, &of0) && !strcmp(other, nb)))
      continue;
    const GArray *ids = g_hash_table_lookup(pp->ids_of_stack, &st);
    int64_t k = ids ? (int64_t)ids->len : 0;
    same += k;
    if (st == stack || of0 == f0) {
      same_f0 += k;
      before += ids ? (int64_t)below(ids, object_id) : 0;
    }
  }
  size_t used = (size_t)snprintf(buf, len, "%s", nb);
  if (same > same_f0) {
    sqlite3_bind_int64(n->qid, 1, f0);
    if (sqlite3_step(n->qid) == SQLITE_ROW && used < len)
      snprintf(buf + used, len - used, " via %s",
               weft_frame_label((const char *)sqlite3_column_text(n->qid, 0),
                                (const char *)sqlite3_column_text(n->qid, 1), weft_sql_i64(n->qid, 2, 0), NULL, 0,
                                weft_sql_i64(n->qid, 3, 0), other, sizeof other));
    sqlite3_reset(n->qid);
    used = strlen(buf);
  }
  if (same_f0 >= 2 && used < len) snprintf(buf + used, len - used, " #%lld", (long long)before + 1);
  return true;
}

int64_t weft_object_namer_inherited(WeftObjectNamer *n, int64_t object_id) {
  if (!n) return -1;
  sqlite3_bind_int64(n->qo, 1, object_id);
  bool row = sqlite3_step(n->qo) == SQLITE_ROW;
  const char *name = row ? (const char *)sqlite3_column_text(n->qo, 0) : NULL;
  bool own = row && ((name && *name) || sqlite3_column_type(n->qo, 3) != SQLITE_NULL);
  int64_t kind = row ? sqlite3_column_int64(n->qo, 1) : 0, addr = row ? sqlite3_column_int64(n->qo, 2) : 0;
  int64_t upid = row ? sqlite3_column_int64(n->qo, 5) : -1;
  sqlite3_reset(n->qo);
  /* (memory a child inherits: locks, condition variables, barriers, semaphores, futex words; not a file
   * descriptor, a pid, a thread or an MPI call) */
  if (!row || own || ((kind < WEFT_KIND_MUTEX || kind > WEFT_KIND_SEM) && kind != WEFT_KIND_FUTEX)) return -1;
  /* up the forks (a fork child's memory is its parent's at the fork): the first ancestor with an object
   * there made before the fork that led down here, if it has a name or an init stack (one without was
   * inherited too: further up) */
  for (int depth = 0; depth < 32; depth++) {
    ForkOf f = fork_of(n, upid);
    int64_t parent = f.parent, start = f.start;
    if (parent < 0) return -1;
    sqlite3_bind_int64(n->qanc, 1, parent);
    sqlite3_bind_int64(n->qanc, 2, addr);
    sqlite3_bind_int64(n->qanc, 3, kind);
    sqlite3_bind_int64(n->qanc, 4, start);
    int64_t id = -1;
    if (sqlite3_step(n->qanc) == SQLITE_ROW && sqlite3_column_int(n->qanc, 1)) id = sqlite3_column_int64(n->qanc, 0);
    sqlite3_reset(n->qanc);
    if (id >= 0) return id;
    upid = parent;
  }
  return -1;
}

const char *weft_object_namer_name(WeftObjectNamer *n, int64_t object_id, char *buf, size_t len) {
  snprintf(buf, len, "object %lld", (long long)object_id);
  int64_t inherited = weft_object_namer_inherited(n, object_id);
  if (inherited >= 0) object_id = inherited; /* (its parent's object: its name) */
  if (!n || weft_object_namer_python(n, object_id, buf, len)) return buf;
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
      const char *rt = (const char *)sqlite3_column_text(n->qo, 7);
      bool region = rt && !strcmp(rt, "openmp") && sqlite3_column_int(n->qo, 1) == WEFT_KIND_BARRIER;
      sqlite3_reset(n->qo);
      weft_object_namer_disambiguate(n, object_id, buf, len);
      if (region) weft_omp_region_name(buf, len);
    }
  }
  sqlite3_reset(n->qo);
  return buf;
}

void weft_omp_region_name(char *buf, size_t len) {
  char site[512];
  snprintf(site, sizeof site, "%s", buf);
  snprintf(buf, len, "%s%s", WEFT_OMP_REGION_PREFIX, site);
}

const char *weft_object_display_name(sqlite3 *db, int64_t object_id, char *buf, size_t len) {
  WeftObjectNamer *n = weft_object_namer_new(db);
  weft_object_namer_name(n, object_id, buf, len);
  weft_object_namer_free(n);
  return buf;
}
