/* stamps.c - the timelines of releases and signals that pass 2 searches.
 * SPDX-License-Identifier: MIT
 *
 * Pass 1 appends a stamp (time, thread) to an object's timeline at each
 * release or signal, in the file's order; pass 2 asks, at each wait's end,
 * for the last one of another thread before it. A timeline is kept in memory
 * (a plain array, then blocks of a huge-page pool, sorted by time once, on
 * its first search) until the file's timelines hold STAMP_MEM_MAX stamps.
 * Past that the file's timelines are spilled: every stamp, those in memory
 * and those to come, goes into an external sort (util/weft-spill.c) by
 * (timeline, time, order of arrival); after pass 1 the sorted stamps are
 * written to a temporary file, each timeline a range of it, with the time of
 * every STAMP_FILE_BLOCK-th stamp kept in memory, and pass 2 reads them back a
 * block at a time through a small cache. So memory stays bounded however
 * many stamps a file has, and a search finds the same stamp either way: the
 * order is the same stable order by time.
 */
#include "config.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "import-private.h"

#define HUGE_PAGE ((size_t)2 << 20)

static inline uintptr_t huge_up(uintptr_t x) { return (x + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1); }

/* ---- in memory ---- */
/* The file's pool is reserved, not committed (only the blocks written are
 * memory), at the first block: twice the file's size bounds it, as a record
 * makes at most one stamp and is at least as large (REL and SIGNAL have 2
 * words), and a timeline in blocks fills all of them but its last. Huge
 * pages where the kernel allows: one fault per 2 MiB, each a trap to the
 * hypervisor on this VM (the heap's 4 KiB pages, and its copies as a
 * timeline doubled, were a sixth of the import). */
static int pool_map(Imp *im, StampPool *pool) {
  uint64_t len = 2 * huge_up((uintptr_t)weft_trace_size(im->tr)) + 2 * HUGE_PAGE;
  if (len > SIZE_MAX / 2) return -1;
  char *m = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return -1;
  pool->map = m;
  pool->map_len = (size_t)len;
  pool->p = (char *)huge_up((uintptr_t)m);
  pool->len = (size_t)len - HUGE_PAGE;
  pool->used = 0;
#ifdef MADV_HUGEPAGE
  (void)madvise(pool->p, pool->len, MADV_HUGEPAGE); /* a hint */
#endif
  return 0;
}

/* A block of STAMP_BLOCK stamps: from the pool, else (no room, no mapping)
 * the heap (*heap set). Once the pool has no room it has none for the file. */
static Stamp *pool_block(Imp *im, int *heap) {
  StampPool *pool = &im->stamp_pool;
  const size_t bytes = STAMP_BLOCK * sizeof(Stamp);
  if (!pool->map) (void)pool_map(im, pool);
  *heap = !pool->map || pool->len - pool->used < bytes;
  if (*heap) return g_new(Stamp, STAMP_BLOCK);
  Stamp *b = (Stamp *)(void *)(pool->p + pool->used);
  pool->used += bytes;
  return b;
}

static void stamp_pool_free(StampPool *pool) {
  if (pool->map) munmap(pool->map, pool->map_len);
  memset(pool, 0, sizeof *pool);
}

static int stamps_spill_begin(Imp *im);

int stamps_grow(Imp *im, Stamps *v) {
  guint more = v->cap < STAMP_BLOCK ? (v->cap ? v->cap : 16) : STAMP_BLOCK;
  if (im->stamps.mem + more > im->stamps.budget && stamps_spill_begin(im) == 0) return 1;
  im->stamps.mem += more;
  if (v->cap < STAMP_BLOCK) { /* the first array doubles up to a block */
    v->cap += more;
    v->first = g_renew(Stamp, v->first, v->cap);
    return 0;
  }
  if (!v->blk) {
    v->blk = g_new(Stamp *, 1);
    v->blk[0] = v->first;
    v->nblk = 1;
  }
  v->blk = g_renew(Stamp *, v->blk, v->nblk + 1);
  int heap;
  v->blk[v->nblk++] = pool_block(im, &heap);
  if (!heap) v->pooled = v->nblk - 1; /* blocks 1 to pooled: the pool's; later ones the heap's */
  v->cap += STAMP_BLOCK;
  return 0;
}

/* The memory of v's stamps given back (not its count, nor its place in a spill). */
static void stamps_drop(Stamps *v) {
  for (guint b = v->pooled + 1; b < v->nblk; b++) g_free(v->blk[b]);
  g_free(v->blk);
  g_free(v->first);
  v->first = NULL;
  v->blk = NULL;
  v->cap = v->nblk = v->pooled = 0;
}

void stamps_free(Stamps *v) {
  stamps_drop(v);
  g_free(v->key);
  memset(v, 0, sizeof *v);
}

#define RADIX_BITS 11
#define RADIX      (1u << RADIX_BITS)

typedef struct { /* stamps in blocks (blk), or in one array */
  Stamp *const *blk;
  Stamp *flat;
} View;

static inline Stamp *view_at(View w, guint i) {
  return w.blk ? &w.blk[i >> STAMP_BLOCK_SHIFT][i & (STAMP_BLOCK - 1)] : &w.flat[i];
}

/* v's n stamps stably by time: a least-significant-digit radix sort of the
 * times past the first (3 passes for a recording under 8 s, 4 under 9 hours)
 * between v and tmp (n stamps), or an insertion sort of a few. Stable like
 * the merge of runs it replaces: stamps at the same time stay in the file's
 * order. */
static void sort_by_ns(View v, guint n, Stamp *tmp) {
  View t = {NULL, tmp}, src = v, dst = t;
  int64_t lo = 0, hi = 0;
  for (guint i = 0; i < n; i++) {
    const int64_t x = view_at(v, i)->ns;
    if (!i || x < lo) lo = x;
    if (!i || x > hi) hi = x;
  }
  const uint64_t range = (uint64_t)hi - (uint64_t)lo;
  guint *count = g_new(guint, RADIX);
  for (unsigned shift = 0; shift < 64 && (range >> shift); shift += RADIX_BITS) {
    memset(count, 0, RADIX * sizeof *count);
    for (guint i = 0; i < n; i++) count[((uint64_t)view_at(src, i)->ns - (uint64_t)lo) >> shift & (RADIX - 1)]++;
    guint sum = 0;
    for (guint d = 0; d < RADIX; d++) {
      guint c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (guint i = 0; i < n; i++) {
      const Stamp *s = view_at(src, i);
      *view_at(dst, count[((uint64_t)s->ns - (uint64_t)lo) >> shift & (RADIX - 1)]++) = *s;
    }
    View x = src;
    src = dst;
    dst = x;
  }
  if (src.flat == tmp)
    for (guint i = 0; i < n; i++) *view_at(v, i) = tmp[i];
  g_free(count);
}

static int stamps_in_order(const Stamps *v) {
  for (guint i = 1; i < v->len; i++)
    if (stamp_at(v, i)->ns < stamp_at(v, i - 1)->ns) return 0;
  return 1;
}

/* Sort a timeline in memory by time, stably (once: v->sorted says it is). */
static void stamps_sort(Imp *im, Stamps *v) {
  if (v->sorted) return;
  v->sorted = 1;
  if (stamps_in_order(v)) return;
  guint n = v->len;
  if (n <= 32) {
    Stamp *a = v->first; /* a few: one array */
    for (guint i = 1; i < n; i++) {
      Stamp x = a[i];
      guint j = i;
      for (; j > 0 && a[j - 1].ns > x.ns; j--) a[j] = a[j - 1];
      a[j] = x;
    }
    return;
  }
  /* a long one sorts through the pool's room past its blocks (huge pages), given back after */
  StampPool *pool = &im->stamp_pool;
  size_t bytes = (size_t)n * sizeof(Stamp);
  Stamp *scratch = NULL;
  if (bytes >= 2 * HUGE_PAGE && pool->map && pool->len - pool->used >= bytes + HUGE_PAGE)
    scratch = (Stamp *)(void *)huge_up((uintptr_t)(pool->p + pool->used));
  Stamp *tmp = scratch ? scratch : g_new(Stamp, n);
  sort_by_ns((View){v->blk, v->first}, n, tmp);
  if (scratch)
    (void)madvise(scratch, bytes, MADV_DONTNEED);
  else
    g_free(tmp);
}

/* ---- spilled ---- */
typedef struct { /* a stamp in the external sort (16 bytes); rows come in order of arrival */
  Stamp s;
  uint32_t tl; /* its timeline (StampSpill.tls index + 1) */
} StampRow;
_Static_assert(sizeof(StampRow) == 16, "a StampRow is 16 bytes");

/* By timeline and time; the sort and the merge are stable (stamps at the
 * same time stay in their order of arrival, as in memory). */
static int cmp_row(const void *x, const void *y) {
  const StampRow *a = x, *b = y;
  if (a->tl != b->tl) return a->tl < b->tl ? -1 : 1;
  return (a->s.ns > b->s.ns) - (a->s.ns < b->s.ns);
}

static inline uint64_t row_digit(const StampRow *r, unsigned pass, int64_t lo, unsigned ns_passes) {
  return pass < ns_passes ? ((uint64_t)r->s.ns - (uint64_t)lo) >> (pass * RADIX_BITS) & (RADIX - 1)
                          : (uint64_t)r->tl >> ((pass - ns_passes) * RADIX_BITS) & (RADIX - 1);
}

/* A buffer of rows by (timeline, time), stably: rows of one timeline at the
 * same time stay in their order of arrival. LSD radix: the time's digits,
 * then the timeline's. */
static void *sort_rows(void *v, void *tmp, size_t n) {
  StampRow *src = v, *dst = tmp;
  int64_t lo = 0, hi = 0;
  uint32_t tmax = 0;
  for (size_t i = 0; i < n; i++) {
    if (!i || src[i].s.ns < lo) lo = src[i].s.ns;
    if (!i || src[i].s.ns > hi) hi = src[i].s.ns;
    if (src[i].tl > tmax) tmax = src[i].tl;
  }
  unsigned ns_passes = 0, passes;
  for (uint64_t r = (uint64_t)hi - (uint64_t)lo; r; r >>= RADIX_BITS) ns_passes++;
  passes = ns_passes;
  for (uint32_t t = tmax; t; t >>= RADIX_BITS) passes++;
  size_t *count = g_new(size_t, RADIX);
  for (unsigned pass = 0; pass < passes; pass++) {
    memset(count, 0, RADIX * sizeof *count);
    for (size_t i = 0; i < n; i++) count[row_digit(&src[i], pass, lo, ns_passes)]++;
    size_t sum = 0;
    for (unsigned d = 0; d < RADIX; d++) {
      size_t c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) dst[count[row_digit(&src[i], pass, lo, ns_passes)]++] = src[i];
    StampRow *x = src;
    src = dst;
    dst = x;
  }
  g_free(count);
  return src;
}

static void spill_row(Imp *im, Stamps *v, Stamp s) {
  StampSpill *sp = &im->stamps;
  if (!v->tl) {
    g_ptr_array_add(sp->tls, v);
    v->tl = sp->tls->len;
  }
  StampRow *r = weft_spill_add(sp->spill);
  if (!r) {
    imp_fail(im, "the releases: %s", weft_spill_error(sp->spill));
    return;
  }
  *r = (StampRow){s, v->tl};
}

/* One timeline into the spill: its stamps in their order of arrival (it is
 * not sorted yet: only pass 2 sorts), but the last, held back. */
static void spill_timeline(Imp *im, Stamps *v) {
  if (!v->len) return;
  for (guint i = 0; i + 1 < v->len; i++) spill_row(im, v, *stamp_at(v, i));
  v->last = *stamp_at(v, v->len - 1);
  v->held = 1;
  stamps_drop(v);
}

/* The file's timelines past their budget: every stamp into the external sort. */
static int stamps_spill_begin(Imp *im) {
  StampSpill *sp = &im->stamps;
  if (sp->spill) return 0;
  sp->spill = weft_spill_new(sizeof(StampRow), sp->spill_rows, cmp_row, sort_rows);
  if (!sp->spill) return -1; /* no memory for it: on in memory */
  sp->tls = g_ptr_array_new();
  for (guint i = 0; i < im->objlist->len; i++) {
    Obj *o = im->objlist->pdata[i];
    spill_timeline(im, &o->rel);
    spill_timeline(im, &o->sig);
  }
  stamp_pool_free(&im->stamp_pool);
  sp->mem = 0;
  return 0;
}

/* A stamp of a spilled timeline. Its last is held back until the next: a
 * failed unlock of trace versions 1 and 2 may cancel it (stamps_cancel). */
void stamps_spill_push(Imp *im, Stamps *v, Stamp s) {
  if (v->held) spill_row(im, v, v->last);
  v->last = s;
  v->held = 1;
  v->len++;
}

int stamps_cancel(Imp *im, Stamps *v, int64_t utid) {
  if (im->stamps.spill) {
    /* spilled: only the last is at hand (an agent of versions 1 and 2
     * cancels the REL it wrote just before, never two in a row) */
    if (!v->held || v->last.utid != (uint32_t)utid) return 0;
    v->held = 0;
    v->len--;
    return 1;
  }
  if (!v->len || stamp_at(v, v->len - 1)->utid != (uint32_t)utid) return 0;
  v->len--;
  return 1;
}

/* A block of the sorted stamps in the cache (b: its number in the file). */
static const Stamp *cache_block(Imp *im, uint64_t b) {
  StampSpill *sp = &im->stamps;
  guint slot = (guint)(b & (STAMP_CACHE - 1));
  Stamp *p = sp->cache + (size_t)slot * STAMP_FILE_BLOCK;
  if (sp->cache_blk[slot] == b + 1) return p;
  const size_t bytes = STAMP_FILE_BLOCK * sizeof(Stamp);
  uint64_t left = (sp->total - b * STAMP_FILE_BLOCK) * sizeof(Stamp);
  size_t want = left < bytes ? (size_t)left : bytes;
  if (weft_scratch_read(sp->f, p, want, b * bytes) != 0) {
    imp_fail(im, "cannot read the releases back from a temporary file: %s", g_strerror(errno));
    memset(p, 0, bytes);
  }
  sp->cache_blk[slot] = b + 1;
  return p;
}

Stamp stamp_spilled(Imp *im, const Stamps *v, guint i) {
  uint64_t g = v->off + i;
  return cache_block(im, g >> STAMP_FILE_SHIFT)[g & (STAMP_FILE_BLOCK - 1)];
}

/* After pass 1: the spilled stamps, sorted, into the file pass 2 reads
 * (through the cache's memory, not used yet). */
static int settle_write(Imp *im, WeftScratchFile *f) {
  StampSpill *sp = &im->stamps;
  Stamps *v = NULL;
  const StampRow *r;
  uint64_t k = 0;
  size_t n = 0, room = (size_t)STAMP_CACHE * STAMP_FILE_BLOCK;
  while ((r = weft_spill_next(sp->spill))) {
    if (!v || r->tl != v->tl) {
      v = sp->tls->pdata[r->tl - 1];
      v->off = sp->total;
      v->key = g_new(int64_t, (v->len + STAMP_FILE_BLOCK - 1) / STAMP_FILE_BLOCK);
      k = 0;
    }
    if (k % STAMP_FILE_BLOCK == 0 && k < v->len) v->key[k / STAMP_FILE_BLOCK] = r->s.ns;
    k++;
    sp->cache[n++] = r->s;
    sp->total++;
    if (n == room) {
      if (weft_scratch_append(f, sp->cache, n * sizeof(Stamp)) != 0)
        return imp_fail(im, "cannot write the releases to a temporary file: %s", g_strerror(errno));
      n = 0;
    }
  }
  if (weft_spill_error(sp->spill)) return imp_fail(im, "the releases: %s", weft_spill_error(sp->spill));
  for (guint i = 0; i < sp->tls->len; i++) {
    const Stamps *w = sp->tls->pdata[i];
    if (w->len && !w->key) return imp_fail(im, "the releases: a timeline of %u lost in the sort", w->len);
  }
  if (weft_scratch_append(f, sp->cache, n * sizeof(Stamp)) != 0)
    return imp_fail(im, "cannot write the releases to a temporary file: %s", g_strerror(errno));
  return 0;
}

int stamps_settle(Imp *im) {
  StampSpill *sp = &im->stamps;
  if (!sp->spill) return 0;
  for (guint i = 0; i < im->objlist->len; i++) { /* the stamps held back */
    Obj *o = im->objlist->pdata[i];
    Stamps *vs[2] = {&o->rel, &o->sig};
    for (int j = 0; j < 2; j++)
      if (vs[j]->held) {
        spill_row(im, vs[j], vs[j]->last);
        vs[j]->held = 0;
      }
  }
  if (im->sql.failed) return -1;
  sp->f = weft_scratch_open();
  if (!sp->f) return imp_fail(im, "cannot create a temporary file for the releases: %s", g_strerror(errno));
  sp->total = 0;
  sp->cache = g_new(Stamp, (size_t)STAMP_CACHE * STAMP_FILE_BLOCK);
  sp->cache_blk = g_new0(uint64_t, STAMP_CACHE);
  int r = settle_write(im, sp->f);
  weft_spill_free(sp->spill); /* its buffers are the other spills' now */
  sp->spill = NULL;
  for (guint i = 0; i < sp->tls->len; i++) ((Stamps *)sp->tls->pdata[i])->sorted = 1;
  return r;
}

void stamps_file_end(Imp *im) {
  StampSpill *sp = &im->stamps;
  stamp_pool_free(&im->stamp_pool);
  if (sp->spill) weft_spill_free(sp->spill);
  if (sp->tls) g_ptr_array_free(sp->tls, TRUE);
  weft_scratch_close(sp->f);
  g_free(sp->cache);
  g_free(sp->cache_blk);
  sp->spill = NULL;
  sp->tls = NULL;
  sp->f = NULL;
  sp->cache = NULL;
  sp->cache_blk = NULL;
  sp->mem = sp->total = 0;
}

/* ---- searches ---- */
void stamps_order(Imp *im, Stamps *v) {
  if (!v->tl) stamps_sort(im, v);
}

guint stamps_upper(Imp *im, Stamps *v, int64_t ns) {
  if (!v->len) return 0;
  guint a = 0, b = v->len;
  if (v->tl) { /* the block it is in, from the times kept in memory */
    guint ka = 0, kb = (v->len + STAMP_FILE_BLOCK - 1) / STAMP_FILE_BLOCK;
    while (ka < kb) {
      guint m = (ka + kb) / 2;
      if (v->key[m] <= ns)
        ka = m + 1;
      else
        kb = m;
    }
    a = ka ? (ka - 1) * STAMP_FILE_BLOCK + 1 : 0;
    b = MIN(ka * STAMP_FILE_BLOCK, v->len);
  } else {
    stamps_sort(im, v);
  }
  while (a < b) {
    guint m = (a + b) / 2;
    if (stamp_get(im, v, m).ns <= ns)
      a = m + 1;
    else
      b = m;
  }
  return a;
}

guint stamps_lower(Imp *im, Stamps *v, int64_t ns) { return ns == INT64_MIN ? 0 : stamps_upper(im, v, ns - 1); }

int last_before(Imp *im, Stamps *v, int64_t lo, int64_t ns, int64_t utid, Stamp *out) {
  for (guint i = stamps_upper(im, v, ns); i-- > 0;) {
    Stamp s = stamp_get(im, v, i);
    if (s.ns < lo) break;
    if (s.utid != utid) {
      *out = s;
      return 1;
    }
  }
  return 0;
}
