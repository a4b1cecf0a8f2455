/* gil.c - CPython's GIL among a file's objects.
 * SPDX-License-Identifier: MIT
 *
 * CPython 3.8 to 3.13 (with the GIL) keep it in a struct
 * _gil_runtime_state: a pthread mutex and condition variable (plus, with
 * FORCE_SWITCHING, a second pair, switch_cond/switch_mutex), inside the
 * exported data symbol _PyRuntime of libpython or of the python executable
 * (3.8-3.11: _PyRuntime.ceval.gil; 3.12+: _PyRuntime._main_interpreter._gil).
 * take_gil() locks gil->mutex and waits on gil->cond with timed waits (the
 * 5 ms switch interval) until the holder's drop_gil() signals gil->cond;
 * drop_gil() signals gil->cond every time, and with FORCE_SWITCHING then
 * waits, untimed, on switch_cond until another thread took the GIL.
 *
 * So no offsets per version: a mutex or condvar is the GIL's when it lies
 * inside _PyRuntime of a module whose name contains "python" (found through
 * the symbol table, .dynsym of a stripped binary included), or when the
 * caller of its first contended wait is take_gil or drop_gil (a build with
 * symbols). Its waits become gil_wait. Which of them is gil->cond is told
 * by use: the one waited on with timeouts; its mutex is the one those waits
 * release. The holder when a wait on gil->cond began is the thread that
 * signalled gil->cond next (only the holder drops it).
 */
#include "config.h"

#include "import-private.h"

enum { GIL_OBJ = 1, GIL_COND = 2, GIL_MUTEX = 4, GIL_SWITCH = 8 };

static int is_python_module(const char *path) {
  const char *b = path ? strrchr(path, '/') : NULL;
  b = b ? b + 1 : path;
  return b && strstr(b, "python") != NULL;
}

static int is_gil_function(const char *sym) {
  return sym && (!strncmp(sym, "take_gil", 8) || !strncmp(sym, "drop_gil", 8));
}

/* Mark the GIL objects of the current file (after pass 1, before pass 2).
 * Reads the module table; touches nothing when no module looks like python. */
void gil_detect(Imp *im) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(im->db, "SELECT path, build_id FROM module WHERE module_id = ?", -1, &q, NULL) != SQLITE_OK)
    return;
  GArray *py = g_array_new(FALSE, FALSE, sizeof(ModRec)); /* the python modules */
  GPtrArray *paths = g_ptr_array_new_with_free_func(g_free), *bids = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < im->modules->len; i++) {
    ModRec *m = &g_array_index(im->modules, ModRec, i);
    sqlite3_bind_int64(q, 1, m->id);
    if (sqlite3_step(q) == SQLITE_ROW && is_python_module((const char *)sqlite3_column_text(q, 0))) {
      g_array_append_val(py, *m);
      g_ptr_array_add(paths, g_strdup((const char *)sqlite3_column_text(q, 0)));
      g_ptr_array_add(bids, g_strdup((const char *)sqlite3_column_text(q, 1)));
    }
    sqlite3_reset(q);
  }
  if (py->len && !im->gil_sym) im->gil_sym = weft_sym_new();
  GHashTable *stacks = NULL; /* global stack id -> PendingStack, for the callers */
  for (guint j = 0; py->len && im->gil_sym && j < im->objlist->len; j++) {
    Obj *o = im->objlist->pdata[j];
    if (o->kind != WEFT_KIND_MUTEX && o->kind != WEFT_KIND_COND) continue;
    for (guint i = 0; i < py->len && !o->gil; i++) {
      ModRec *m = &g_array_index(py, ModRec, i);
      uint64_t off = 0;
      const char *name = o->addr >= m->bias
                             ? weft_sym_object(im->gil_sym, paths->pdata[i], bids->pdata[i], o->addr - m->bias, &off)
                             : NULL;
      if (name && !strcmp(name, "_PyRuntime")) o->gil = GIL_OBJ;
    }
    if (o->gil || !o->first_stack) continue;
    if (!stacks) {
      stacks = g_hash_table_new(g_direct_hash, g_direct_equal);
      for (guint k = 0; k < im->pending_stacks->len; k++) {
        PendingStack *ps = &g_array_index(im->pending_stacks, PendingStack, k);
        g_hash_table_insert(stacks, GSIZE_TO_POINTER((gsize)ps->global), ps);
      }
    }
    PendingStack *ps = g_hash_table_lookup(stacks, GSIZE_TO_POINTER((gsize)o->first_stack));
    if (!ps || !ps->ips->len) continue;
    uint64_t ip = 0; /* the innermost C frame: a Python thread's stack begins with its Python frames */
    for (guint k = 0; k < ps->ips->len && !ip; k++)
      if (!weft_stack_word_is_py(g_array_index(ps->ips, uint64_t, k))) ip = g_array_index(ps->ips, uint64_t, k);
    for (guint i = 0; i < py->len; i++) {
      ModRec *m = &g_array_index(py, ModRec, i);
      WeftSymInfo si;
      if (ip >= m->start && ip < m->end &&
          weft_sym_lookup(im->gil_sym, paths->pdata[i], bids->pdata[i], ip - m->bias, 1, &si) == 0 &&
          is_gil_function(si.symbol))
        o->gil = GIL_OBJ;
    }
  }
  if (stacks) g_hash_table_destroy(stacks);
  g_ptr_array_free(paths, TRUE);
  g_ptr_array_free(bids, TRUE);
  g_array_free(py, TRUE);
  sqlite3_finalize(q);
}

/* A wait of t on the GIL object o begins at ns (pass 2): learn the roles
 * from it, and return the thread holding the GIL (0 unknown). */
int64_t gil_wait_begin(Imp *im, Thr *t, Obj *o, unsigned op, uint64_t mutex, int64_t ns) {
  if (o->kind != WEFT_KIND_COND) return 0; /* a mutex: glibc's owner is the blocker */
  int timed = op == WEFT_OP_TIMED || op == WEFT_OP_CLOCK;
  o->gil |= timed ? GIL_COND : GIL_SWITCH;
  Obj *m = obj_find(im, mutex, WEFT_KIND_MUTEX, ns);
  if (m && m->gil) m->gil |= timed ? GIL_MUTEX : GIL_SWITCH;
  if (!timed || !o->sig.len) return 0;
  /* the first signal at or after ns by another thread: the next drop_gil */
  for (guint a = stamps_lower(im, &o->sig, ns); a < o->sig.len; a++) {
    Stamp s = stamp_get(im, &o->sig, a);
    if (s.utid != t->utid) return s.utid;
  }
  return 0;
}

/* The names of the GIL's objects (after pass 2), unless weft.h named them.
 * Named by their role, they have no first_stack: where some thread first
 * waited for the GIL (a line of its Python code, trace v4) is no site of it. */
void gil_name(Imp *im) {
  for (guint j = 0; j < im->objlist->len; j++) {
    Obj *o = im->objlist->pdata[j];
    const char *nm = !o->gil               ? NULL
                     : o->gil & GIL_COND   ? "GIL"
                     : o->gil & GIL_MUTEX  ? "GIL mutex"
                     : o->gil & GIL_SWITCH ? (o->kind == WEFT_KIND_COND ? "GIL switch_cond" : "GIL switch_mutex")
                                           : NULL;
    gpointer key = GSIZE_TO_POINTER((gsize)o->addr);
    if (nm && !g_hash_table_contains(im->names, key)) {
      g_hash_table_insert(im->names, key, g_strdup(nm));
      o->first_stack = 0;
    }
  }
}
