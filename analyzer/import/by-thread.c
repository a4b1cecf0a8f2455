/* by-thread.c - answers pass 2 reads in each thread's order, in bounded memory.
 * SPDX-License-Identifier: MIT
 *
 * What pass 1's rows tell once merged (a barrier wait's round, where an
 * untimed hold began) is asked for by pass 2 one thread at a time, each
 * thread in its own time order, the threads interleaved as the file's
 * chunks come. The answers go through the external sort (util/weft-spill.c)
 * by (thread, key); once sorted they are kept in memory when they are few
 * (up to Imp.sort_rows), else in a temporary file where each thread has a
 * range, read BUF_ROWS at a time through the thread's own window.
 */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "import-private.h"

#define BUF_ROWS 64u /* a thread's window on the file */

/* A row of the sort: the thread, then the answer (its first field the key). */
static int cmp_row(const void *a, const void *b) {
  const Thr *x = *(Thr *const *)a, *y = *(Thr *const *)b;
  if (x != y) return (uintptr_t)x < (uintptr_t)y ? -1 : 1;
  int64_t kx, ky;
  memcpy(&kx, (const char *)a + sizeof(Thr *), sizeof kx);
  memcpy(&ky, (const char *)b + sizeof(Thr *), sizeof ky);
  return (kx > ky) - (kx < ky);
}

static ThrCursor *cursor_of(const ByThread *b, Thr *t) { return (ThrCursor *)(void *)((char *)t + b->cursor); }

void *by_thread_add(Imp *im, ByThread *b, Thr *t) {
  char *r = imp_sort_row(im, &b->spill, sizeof(Thr *) + b->row, cmp_row, b->what);
  if (!r) return NULL;
  memcpy(r, &t, sizeof t);
  return r + sizeof t;
}

/* The sorted answers into memory or (many) the temporary file; each
 * thread's range of them noted in its cursor. */
int by_thread_settle(Imp *im, ByThread *b) {
  if (im->sql.failed) return -1;
  if (!b->spill) return 0;
  size_t total = weft_spill_count(b->spill), n = 0, at = 0, chunk = 4096;
  char *buf;
  if (total <= im->sort_rows) {
    buf = b->mem = g_malloc(b->row * (total ? total : 1));
  } else {
    if (!(b->f = weft_scratch_open()))
      return imp_fail(im, "cannot create a temporary file for %s: %s", b->what, g_strerror(errno));
    buf = g_malloc(b->row * chunk);
  }
  const char *r;
  Thr *t = NULL;
  int rc = 0;
  while ((r = weft_spill_next(b->spill))) {
    Thr *rt;
    memcpy(&rt, r, sizeof rt);
    if (rt != t) {
      t = rt;
      cursor_of(b, t)->off = at;
    }
    cursor_of(b, t)->left++;
    at++;
    memcpy(buf + n++ * b->row, r + sizeof rt, b->row);
    if (b->f && n == chunk) {
      if (weft_scratch_append(b->f, buf, b->row * n) != 0) rc = -1;
      n = 0;
    }
  }
  if (b->f) {
    if (weft_scratch_append(b->f, buf, b->row * n) != 0) rc = -1;
    g_free(buf);
    if (rc) return imp_fail(im, "cannot write %s to a temporary file: %s", b->what, g_strerror(errno));
  }
  if (weft_spill_error(b->spill)) return imp_fail(im, "%s: %s", b->what, weft_spill_error(b->spill));
  return 0;
}

/* t's next answers into its window: 0, -1 none left (or unreadable). */
static int fill(Imp *im, ByThread *b, ThrCursor *c) {
  if (!c->left) return -1;
  if (!b->f) { /* in memory: the window is its whole range */
    c->buf = b->mem + c->off * b->row;
    c->len = (guint)c->left;
  } else {
    if (!c->own) {
      c->buf = g_malloc(b->row * BUF_ROWS);
      c->own = 1;
    }
    size_t k = c->left < BUF_ROWS ? (size_t)c->left : BUF_ROWS, want = k * b->row;
    if (weft_scratch_read(b->f, c->buf, want, c->off * b->row) != 0) {
      imp_fail(im, "cannot read %s back from a temporary file: %s", b->what, g_strerror(errno));
      c->left = 0;
      return -1;
    }
    c->len = (guint)k;
  }
  c->off += c->len;
  c->left -= c->len;
  c->pos = 0;
  return 0;
}

const void *by_thread_find(Imp *im, ByThread *b, Thr *t, int64_t key, const void *o) {
  ThrCursor *c = cursor_of(b, t);
  for (;;) {
    if (c->pos == c->len && fill(im, b, c) < 0) return NULL;
    const char *r = c->buf + (size_t)c->pos * b->row;
    int64_t k;
    const void *ro;
    memcpy(&k, r, sizeof k);
    memcpy(&ro, r + sizeof k, sizeof ro);
    if (k > key) return NULL;
    c->pos++;
    if (k == key && ro == o) return r;
  }
}

void by_thread_file_end(ByThread *b) {
  if (b->spill) weft_spill_reset(b->spill);
  g_free(b->mem);
  b->mem = NULL;
  weft_scratch_close(b->f);
  b->f = NULL;
}

void by_thread_free(ByThread *b) {
  by_thread_file_end(b);
  weft_spill_free(b->spill);
  b->spill = NULL;
}
