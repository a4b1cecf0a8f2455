/* objects.c - the synchronisation objects of one process image.
 * SPDX-License-Identifier: MIT
 *
 * An object is an address and a kind's class (a mutex, a condition
 * variable, ...); one destroyed and created again at the same address is a
 * new object (pass 0 finds the destroys). Each keeps the timelines pass 1
 * collects and pass 2 searches: its releases and signals (its barrier
 * waits: barriers.c; the starts of waits for it: waitstarts.c); and its totals, which
 * become its sync_object row, with the counts of trace v3 (lock_count).
 * A process-shared object (trace v5: a SHARED record gives the file, inode
 * and offset that back its address) is one object of the recording: each
 * process's part takes the id of the first process's, and adds its totals
 * to that row; its waits, holds and counts keep the id.
 */
#include "config.h"

#include "import-private.h"

/* An object destroyed and created again at the same address is a new object:
 * its epoch at ns is the number of DESTROY records on that address before ns
 * (collected by pass 0 from every thread, so the order of the file's chunks
 * does not matter). Each is its time << 1 | 1 for a sem_close (a handle of a
 * named semaphore closed: the semaphore lives on in other processes). */
#define DESTROY_NS(v)    ((v) >> 1)
#define DESTROY_CLOSE(v) ((v)&1)

static guint obj_epoch(GArray *d, int64_t ns) {
  if (!d) return 0;
  const int64_t *v = (const int64_t *)d->data;
  guint a = 0, b = d->len;
  while (a < b) { /* count of destroy times < ns */
    guint m = (a + b) / 2;
    if (DESTROY_NS(v[m]) < ns)
      a = m + 1;
    else
      b = m;
  }
  return a;
}

Obj *obj_lookup(Imp *im, uint64_t addr, int kind, int64_t ns, int create) {
  int k = kind_class(kind);
  if (!has_object(k)) return NULL;
  guint64 key = (addr << 5) ^ (guint64)k;
  guint slot = (guint)((key >> 5) ^ (key >> 13) ^ key) & 255;
  if (!im->ocache[slot].used || im->ocache[slot].key != key) {
    im->ocache[slot].key = key;
    im->ocache[slot].destroys = g_hash_table_lookup(im->destroys, &key);
    im->ocache[slot].epochs = g_hash_table_lookup(im->objs, &key);
    im->ocache[slot].used = 1;
  }
  guint epoch = obj_epoch(im->ocache[slot].destroys, ns);
  GPtrArray *epochs = im->ocache[slot].epochs;
  if (epochs && epoch < epochs->len && epochs->pdata[epoch]) return epochs->pdata[epoch];
  if (!create) return NULL;
  if (!epochs) {
    epochs = g_ptr_array_new();
    guint64 *kp = g_new(guint64, 1);
    *kp = key;
    g_hash_table_insert(im->objs, kp, epochs);
    im->ocache[slot].epochs = epochs;
  }
  if (epochs->len <= epoch) g_ptr_array_set_size(epochs, (gint)epoch + 1);
  Obj *o = g_new0(Obj, 1);
  o->id = ++im->next_obj;
  o->addr = addr;
  o->kind = k;
  o->first_ns = ns;
  GArray *d = im->ocache[slot].destroys; /* its epoch ends at the epoch-th destroy */
  o->destroyed_ns = d && epoch < d->len ? DESTROY_NS(g_array_index(d, int64_t, epoch)) : -1;
  o->closed = d && epoch < d->len && DESTROY_CLOSE(g_array_index(d, int64_t, epoch));
  epochs->pdata[epoch] = o;
  g_ptr_array_add(im->objlist, o);
  return o;
}

static int pass0(const WeftEvent *ev, void *user) {
  Imp *im = user;
  if (ev->type != WEFT_EV_DESTROY || !has_object(kind_class((int)WEFT_AUX_KIND(ev->aux)))) return 0;
  guint64 key = (ev->w[1] << 5) ^ (guint64)kind_class((int)WEFT_AUX_KIND(ev->aux));
  GArray *d = g_hash_table_lookup(im->destroys, &key);
  if (!d) {
    d = g_array_new(FALSE, FALSE, sizeof(int64_t));
    guint64 *kp = g_new(guint64, 1);
    *kp = key;
    g_hash_table_insert(im->destroys, kp, d);
  }
  int64_t ns = rel_ns(im, ev->ns) * 2 + (((ev->aux >> 5) & 7) == WEFT_OP_CLOSE); /* (DESTROY_NS, DESTROY_CLOSE) */
  g_array_append_val(d, ns);
  return 0;
}

static gint cmp_i64(gconstpointer a, gconstpointer b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

void objs_read_destroys(Imp *im, WeftTrace *tr) {
  char e0[256];
  const uint64_t destroys[4] = {[WEFT_EV_DESTROY >> 6] = 1ULL << (WEFT_EV_DESTROY & 63)};
  if (!weft_trace_has_types(tr, destroys)) return;               /* none: no walk of the file for them */
  weft_trace_scan_types(tr, destroys, pass0, im, e0, sizeof e0); /* a fault is reported by pass 1 */
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, im->destroys);
  while (g_hash_table_iter_next(&it, &k, &v)) g_array_sort(v, cmp_i64);
}

void shared_versions_free(gpointer p) { g_array_free(p, TRUE); }

void obj_free(gpointer p) {
  Obj *o = p;
  g_free(o->name);
  stamps_free(&o->rel);
  stamps_free(&o->sig);
  g_free(o);
}

void obj_read_shared(Imp *im, const WeftEvent *ev, int64_t ns) {
  Obj *o = obj_get(im, ev->w[1], (int)WEFT_AUX_KIND(ev->aux), ns);
  if (!o || o->shared) return;
  o->shared = 1;
  o->sh_dev = ev->w[2];
  o->sh_ino = ev->w[3];
  o->sh_off = ev->w[4];
}

/* A version of a shared identity: the object that holds it, from its first
 * record to its destroy (-1: none; a sem_close ends no version: the
 * semaphore lives on in the processes that keep it open). */
typedef struct {
  int64_t id, first_ns, end_ns;
} SharedVersion;

/* o is a part of the process-shared object at its identity that was alive
 * when o was first seen (an earlier process's, or an earlier mapping's in
 * this one): it takes that one's id. Otherwise o begins a version of its
 * own: the identity's object made again after a destroy is a new object,
 * whichever order the objects are met in. */
static void obj_share(Imp *im, Obj *o) {
  char *key = g_strdup_printf("%d:%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT, o->kind, o->sh_dev,
                              o->sh_ino, o->sh_off);
  GArray *vs = g_hash_table_lookup(im->shared, key);
  const SharedVersion *alive = NULL;
  for (guint i = 0; vs && i < vs->len; i++) {
    const SharedVersion *v = &g_array_index(vs, SharedVersion, i);
    if (v->first_ns <= o->first_ns && (v->end_ns < 0 || v->end_ns > o->first_ns) &&
        (!alive || v->first_ns > alive->first_ns))
      alive = v;
  }
  if (alive) {
    o->id = alive->id;
    o->merged = 1;
    g_free(key);
    return;
  }
  if (!vs) {
    vs = g_array_new(FALSE, FALSE, sizeof(SharedVersion));
    g_hash_table_insert(im->shared, key, vs);
  } else {
    g_free(key);
  }
  SharedVersion v = {o->id, o->first_ns, o->closed ? -1 : o->destroyed_ns};
  g_array_append_val(vs, v);
}

void objs_prepare_pass2(Imp *im) {
  for (guint j = 0; j < im->objlist->len; j++) {
    Obj *o = im->objlist->pdata[j];
    if (o->shared) obj_share(im, o);
  }
}

/* ---- totals and rows ---- */
void objs_add_counts(Imp *im) {
  for (guint i = 0; i < im->counts->len; i++) {
    const CountRec *c = &g_array_index(im->counts, CountRec, i);
    if (c->dropped) continue;
    Obj *o = c->o;
    o->acquisitions += c->acq;
    o->failed += c->fail;
    o->releases += c->rel;
    o->samples += c->samples;
    o->sample_ns += c->sample_ns;
    if (c->sample_max > o->sample_max) o->sample_max = c->sample_max;
  }
}

/* A later process's part of a process-shared object: its totals added to the row. */
static void obj_merge_row(Imp *im, const Obj *o, const char *name) {
  sqlite3_stmt *q = im->upd_obj;
  const int64_t v[] = {o->id,       o->acquisitions, o->contended, o->wait_ns,    o->hold_ns, o->failed,
                       o->releases, o->samples,      o->sample_ns, o->sample_max, o->first_ns};
  for (int i = 0; i < (int)G_N_ELEMENTS(v); i++) sqlite3_bind_int64(q, i + 1, v[i]);
  imp_bind_opt(q, 12, o->first_stack);
  imp_bind_opt(q, 13, o->init_stack);
  if (name)
    sqlite3_bind_text(q, 14, name, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(q, 14);
  imp_step(im, q);
}

void objs_write(Imp *im) {
  for (guint j = 0; j < im->objlist->len; j++) {
    Obj *o = im->objlist->pdata[j];
    if (o->merged) {
      obj_merge_row(im, o, g_hash_table_lookup(im->names, GSIZE_TO_POINTER((gsize)o->addr)));
      continue;
    }
    sqlite3_stmt *q = im->ins_obj;
    sqlite3_bind_int64(q, 1, o->id);
    sqlite3_bind_int64(q, 2, im->p->upid);
    sqlite3_bind_int64(q, 3, (int64_t)o->addr);
    sqlite3_bind_int(q, 4, o->kind);
    imp_bind_opt(q, 5, o->init_stack);
    imp_bind_opt(q, 6, o->first_stack);
    sqlite3_bind_int64(q, 7, o->first_ns);
    sqlite3_bind_int64(q, 8, o->acquisitions);
    sqlite3_bind_int64(q, 9, o->contended);
    sqlite3_bind_int64(q, 10, o->wait_ns);
    sqlite3_bind_int64(q, 11, o->hold_ns);
    const char *nm = g_hash_table_lookup(im->names, GSIZE_TO_POINTER((gsize)o->addr));
    if (nm)
      sqlite3_bind_text(q, 12, nm, -1, SQLITE_TRANSIENT);
    else
      sqlite3_bind_null(q, 12);
    sqlite3_bind_int64(q, 13, o->failed);
    sqlite3_bind_int64(q, 14, o->releases);
    sqlite3_bind_int64(q, 15, o->samples);
    sqlite3_bind_int64(q, 16, o->sample_ns);
    sqlite3_bind_int64(q, 17, o->sample_max);
    if (o->destroyed_ns >= 0)
      sqlite3_bind_int64(q, 18, o->destroyed_ns);
    else
      sqlite3_bind_null(q, 18);
    if (o->omp)
      sqlite3_bind_text(q, 19, "openmp", -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(q, 19);
    imp_step(im, q);
  }
}

/* the counts, per thread and flush (v3) */
void counts_write(Imp *im) {
  for (guint j = 0; j < im->counts->len && !im->sql.failed; j++) {
    const CountRec *c = &g_array_index(im->counts, CountRec, j);
    if (c->dropped) continue;
    int64_t row[10] = {c->o->id,     utid_at(im, c->tid, c->first_ns),
                       c->first_ns,  c->ns,
                       c->acq,       c->fail,
                       c->rel,       c->samples,
                       c->sample_ns, c->sample_max};
    imp_batch_add(im, &im->count_rows, row, 1u << 1); /* utid: NULL when unknown */
  }
  imp_batch_flush(im, &im->count_rows);
}
