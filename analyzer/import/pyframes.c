/* pyframes.c - Python frames (trace version 4) into the frame table.
 * SPDX-License-Identifier: MIT
 *
 * A PY_FRAME record defines a Python frame of its process (function, file,
 * line) under an id that STACK records name with a word whose bit 63 is set.
 * Pass 1 keeps the file's definitions; when the file's stacks are written,
 * each stack puts its Python frames first, innermost first, then its C frames
 * (whatever order the trace has), so that every reader of the database that
 * takes depth 0 as the call site (the report's call sites and object names,
 * the GUI, the export) names the Python line, and the C frames stay below.
 * A Python frame is one row of the frame table per process and (function,
 * file, line): symbol = the function, file and line, module_id and rel_pc
 * NULL, ip the trace's word (negative: bit 63). Two ids of the same frame (two
 * threads defined it at once) are one row; a word whose PY_FRAME is missing
 * (the record was lost) is left out of its stack.
 */
#include "config.h"

#include "import-private.h"

typedef struct {
  char *function, *file;
  int64_t line;
  int64_t row; /* its frame_id, 0 until a stack names it */
} PyDef;

struct PyFrames {
  GHashTable *defs; /* trace frame id -> PyDef */
  GHashTable *rows; /* GBytes "function\0file\0line" -> frame_id (as a pointer) */
};

static void def_free(gpointer p) {
  PyDef *d = p;
  g_free(d->function);
  g_free(d->file);
  g_free(d);
}

void pyframe_read(Imp *im, const WeftEvent *ev) {
  if (!im->py) {
    im->py = g_new0(PyFrames, 1);
    im->py->defs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, def_free);
    im->py->rows = g_hash_table_new_full(g_bytes_hash, g_bytes_equal, (GDestroyNotify)g_bytes_unref, NULL);
  }
  size_t pos = 0, l1 = 0, l2 = 0;
  const char *fn = weft_event_next_string(ev, 3, &pos, &l1);
  const char *file = weft_event_next_string(ev, 3, &pos, &l2);
  PyDef *d = g_new0(PyDef, 1);
  d->function = g_strndup(fn ? fn : "", l1);
  d->file = g_strndup(file ? file : "", l2);
  d->line = (int64_t)(ev->w[1] >> 32);
  g_hash_table_replace(im->py->defs, GUINT_TO_POINTER(weft_stack_word_py_id(ev->w[1])), d);
}

static PyDef *def_of(Imp *im, uint64_t word) {
  return im->py ? g_hash_table_lookup(im->py->defs, GUINT_TO_POINTER(weft_stack_word_py_id(word))) : NULL;
}

void pyframe_order(Imp *im, GArray *ips) {
  const uint64_t *w = (const uint64_t *)(void *)ips->data;
  guint n = ips->len, py = 0;
  for (guint i = 0; i < n; i++) py += weft_stack_word_is_py(w[i]);
  if (!py) return;
  GArray *out = g_array_sized_new(FALSE, FALSE, sizeof(uint64_t), n);
  for (guint i = 0; i < n; i++) /* the Python frames we know, in order */
    if (weft_stack_word_is_py(w[i]) && def_of(im, w[i])) g_array_append_val(out, w[i]);
  for (guint i = 0; i < n; i++) /* then the C frames, in order */
    if (!weft_stack_word_is_py(w[i])) g_array_append_val(out, w[i]);
  g_array_set_size(ips, 0);
  g_array_append_vals(ips, out->data, out->len);
  g_array_free(out, TRUE);
}

/* The key of a frame's row: function, file and line, each ended by a NUL. */
static GBytes *row_key(const PyDef *d) {
  GString *k = g_string_new(NULL);
  g_string_append_len(k, d->function, (gssize)strlen(d->function) + 1);
  g_string_append_len(k, d->file, (gssize)strlen(d->file) + 1);
  g_string_append_printf(k, "%" G_GINT64_FORMAT, d->line);
  return g_string_free_to_bytes(k);
}

int pyframe_id(Imp *im, uint64_t word) {
  PyDef *d = def_of(im, word);
  if (!d) return 0;
  if (d->row) return (int)d->row;
  GBytes *key = row_key(d);
  gpointer v = g_hash_table_lookup(im->py->rows, key);
  if (v) {
    g_bytes_unref(key);
    return (int)(d->row = (int64_t)GPOINTER_TO_SIZE(v));
  }
  d->row = ++im->next_frame;
  g_hash_table_insert(im->py->rows, key, GSIZE_TO_POINTER((gsize)d->row));
  sqlite3_stmt *q = im->ins_pyframe;
  sqlite3_bind_int64(q, 1, d->row);
  sqlite3_bind_int64(q, 2, im->p->upid);
  sqlite3_bind_int64(q, 3, (int64_t)word);
  sqlite3_bind_text(q, 4, d->function, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(q, 5, d->file, -1, SQLITE_TRANSIENT);
  imp_bind_opt(q, 6, d->line);
  imp_step(im, q);
  return (int)d->row;
}

void pyframes_free(Imp *im) {
  if (!im->py) return;
  g_hash_table_destroy(im->py->defs);
  g_hash_table_destroy(im->py->rows);
  g_free(im->py);
  im->py = NULL;
}
