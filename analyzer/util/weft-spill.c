/* weft-spill.c - the one external sort of the analyzer (weft-spill.h).
 * SPDX-License-Identifier: MIT
 *
 * Rows fill a fixed buffer; a full buffer is sorted and appended to one
 * scratch file as a run. Reading back merges the runs (and the sorted
 * rows still in memory) with a binary heap on their head rows, each run read
 * through a small window. A buffer never grows, so no row is copied to make
 * room and no page is touched twice.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

#include "weft-scratch.h"
#include "weft-spill.h"

#define HUGE_PAGE    ((size_t)2 << 20)
#define WINDOW_BYTES ((size_t)256 << 10) /* what a run reads at a time */
#define MERGE_BYTES  ((size_t)32 << 20)  /* all the runs' windows, past 128 runs */
#define WINDOW_MIN   ((size_t)16 << 10)  /* a window at least (past 2048 runs, more than MERGE_BYTES) */

typedef struct { /* a region of huge-page-backed memory */
  void *base;    /* the mapping */
  size_t len;    /* its length */
  char *p;       /* aligned to a huge page inside it */
} Region;

typedef struct { /* a run being merged */
  off_t off;     /* its first row in the file (a run on disk) */
  size_t n, done;
  char *buf; /* the window (on disk) or the rows (in memory) */
  size_t pos, len;
  int in_memory;
} Run;

struct WeftSpill {
  size_t row, cap, n; /* row size, rows a buffer holds, rows in it */
  WeftSpillCmp cmp;
  WeftSpillSort sort;
  Region rows, tmp; /* the buffer being filled; the sort's room (the worker's while it works) */
  Region rows2;     /* the other buffer: a run sorted and written on a thread while rows fill (made
                     * at the first run) */
  pthread_t worker; /* sorting and writing rows2 as a run, when working */
  int working;
  int in_line;        /* weft_spill_in_line: no worker */
  size_t job_n;       /* its rows */
  char job_err[160];  /* its error, read after the join */
  size_t total;       /* rows added since the reset */
  WeftScratchFile *f; /* the runs (NULL: none yet) */
  off_t *run_off;
  size_t *run_n, nruns, run_cap;
  size_t window; /* rows a run reads at a time */
  int reading;
  char *sorted; /* reading, nothing spilled: the sorted rows */
  size_t at;
  Run *runs;
  Run **heap;
  size_t nheap;
  Run *pending; /* out of the heap until its window is read again */
  size_t kid;   /* 1 or 2: the root's lesser child while the heap below the root is unchanged; 0 unknown */
  char err[160];
};

/* len bytes of untouched memory, huge-page-backed where the kernel allows. */
static int region_map(Region *r, size_t len) {
  size_t map = len + HUGE_PAGE;
  void *p = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return -1;
  r->base = p;
  r->len = map;
  r->p = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
#ifdef MADV_HUGEPAGE
  (void)madvise(r->p, len, MADV_HUGEPAGE); /* a hint: without it, 4 KiB pages */
#endif
  return 0;
}

static void region_unmap(Region *r) {
  if (r->base) munmap(r->base, r->len);
  memset(r, 0, sizeof *r);
}

WeftSpill *weft_spill_new(size_t row_size, size_t mem_rows, WeftSpillCmp cmp, WeftSpillSort sort) {
  if (!row_size || !mem_rows || !cmp) return NULL;
  WeftSpill *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->row = row_size;
  s->cap = mem_rows;
  s->cmp = cmp;
  s->sort = sort;
  if (region_map(&s->rows, row_size * mem_rows) != 0 || (sort && region_map(&s->tmp, row_size * mem_rows) != 0)) {
    region_unmap(&s->rows);
    free(s);
    return NULL;
  }
  return s;
}

/* "cannot WHAT a temporary file: why" into err (the spill's, or its worker's); -1. */
static int fail_into(char *err, size_t len, const char *what) {
  if (!err[0]) snprintf(err, len, "cannot %s a temporary file: %s", what, strerror(errno));
  return -1;
}

static int fail(WeftSpill *s, const char *what) { return fail_into(s->err, sizeof s->err, what); }

/* n rows of v sorted, with tmp to use; where they are now. */
static char *sort_rows(const WeftSpill *s, char *v, char *tmp, size_t n) {
  if (n < 2) return v;
  if (!s->sort) {
    qsort(v, n, s->row, s->cmp);
    return v;
  }
  return s->sort(v, tmp, n);
}

/* The buffer's rows sorted; where they are now. */
static char *sort_buffer(WeftSpill *s) { return sort_rows(s, s->rows.p, s->tmp.p, s->n); }

/* n rows of v (with tmp) sorted and appended to the file as a run; 0, or -1
 * with the message in err. On the worker thread or, without one, in line:
 * either way nothing else touches the file or the runs meanwhile. */
static int write_run(WeftSpill *s, char *v, char *tmp, size_t n, char *err, size_t errlen) {
  if (!s->f && !(s->f = weft_scratch_open())) return fail_into(err, errlen, "create");
  char *sorted = sort_rows(s, v, tmp, n);
  off_t off = (off_t)weft_scratch_size(s->f);
  if (weft_scratch_append(s->f, sorted, s->row * n) != 0) return fail_into(err, errlen, "write rows to");
  if (s->nruns == s->run_cap) {
    size_t cap = s->run_cap ? 2 * s->run_cap : 16;
    off_t *o = realloc(s->run_off, cap * sizeof *o);
    if (o) s->run_off = o;
    size_t *m = realloc(s->run_n, cap * sizeof *m);
    if (m) s->run_n = m;
    if (!o || !m) return snprintf(err, errlen, "out of memory"), -1;
    s->run_cap = cap;
  }
  s->run_off[s->nruns] = off;
  s->run_n[s->nruns++] = n;
  return 0;
}

static void *worker_main(void *arg) {
  WeftSpill *s = arg;
  (void)write_run(s, s->rows2.p, s->tmp.p, s->job_n, s->job_err, sizeof s->job_err);
  return NULL;
}

/* The run on the worker written: 0, or -1 with its error in err. */
static int join_worker(WeftSpill *s) {
  if (!s->working) return 0;
  pthread_join(s->worker, NULL);
  s->working = 0;
  if (s->job_err[0] && !s->err[0]) snprintf(s->err, sizeof s->err, "%s", s->job_err);
  return s->job_err[0] ? -1 : 0;
}

/* The full buffer, sorted, as a run at the end of the file: on a thread of
 * its own while the other buffer fills (sorting and writing the runs is a
 * large part of a big import, and the machine has another CPU), once the run
 * before it is written (the runs stay in order). Without the memory for a
 * second buffer or a thread, in line. */
static int spill(WeftSpill *s) {
  if (join_worker(s) != 0) return -1;
  if (!s->rows2.base && !s->in_line && region_map(&s->rows2, s->row * s->cap) != 0) s->in_line = 1;
  /* the worker takes the full buffer and the sort's room; this thread fills the other */
  if (s->rows2.base && !s->in_line) {
    Region r = s->rows;
    s->rows = s->rows2;
    s->rows2 = r;
    s->job_n = s->n;
    s->job_err[0] = 0;
    if (pthread_create(&s->worker, NULL, worker_main, s) == 0) {
      s->working = 1;
      s->n = 0;
      return 0;
    }
    s->rows2 = s->rows; /* no thread: back, and in line */
    s->rows = r;
  }
  if (write_run(s, s->rows.p, s->tmp.p, s->n, s->err, sizeof s->err) != 0) return -1;
  s->n = 0;
  return 0;
}

void *weft_spill_add(WeftSpill *s) {
  if (s->err[0]) return NULL;
  if (s->reading) {
    snprintf(s->err, sizeof s->err, "a row added while the rows are read back");
    return NULL;
  }
  if (s->n == s->cap && spill(s) != 0) return NULL;
  s->total++;
  return s->rows.p + s->row * s->n++;
}

size_t weft_spill_count(const WeftSpill *s) { return s->total; }

void weft_spill_in_line(WeftSpill *s) { s->in_line = 1; }

/* ---- reading back ---- */
static const char *run_head(WeftSpill *s, Run *r) {
  if (r->pos < r->len) return r->buf + r->pos * s->row;
  size_t left = r->n - r->done;
  if (!left || r->in_memory) return NULL;
  size_t n = left < s->window ? left : s->window;
  if (weft_scratch_read(s->f, r->buf, s->row * n, (uint64_t)r->off + r->done * s->row) != 0) {
    fail(s, "read rows back from");
    return NULL;
  }
  r->pos = 0;
  r->len = n;
  return r->buf;
}

/* A run's head row: every run in the heap has one in its window. */
static inline const char *head_of(const WeftSpill *s, const Run *r) { return r->buf + r->pos * s->row; }

/* Rows equal by cmp: the earlier run's first (runs are in the order they
 * were written, the rows in memory last), so that the merge is stable. */
static int heap_less(WeftSpill *s, size_t a, size_t b) {
  int c = s->cmp(head_of(s, s->heap[a]), head_of(s, s->heap[b]));
  return c < 0 || (c == 0 && s->heap[a] < s->heap[b]);
}

static void heap_down(WeftSpill *s, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    if (l < s->nheap && heap_less(s, l, m)) m = l;
    if (l + 1 < s->nheap && heap_less(s, l + 1, m)) m = l + 1;
    if (m == i) return;
    Run *x = s->heap[i];
    s->heap[i] = s->heap[m];
    s->heap[m] = x;
    i = m;
  }
}

/* The runs on disk and the sorted rows in memory, each in the heap. */
static int merge_begin(WeftSpill *s) {
  char *mem = s->n ? sort_buffer(s) : NULL;
  size_t nr = s->nruns + (mem != NULL);
  /* the windows' memory bounded: many runs read less at a time */
  size_t wb = s->nruns && s->nruns * WINDOW_BYTES > MERGE_BYTES ? MERGE_BYTES / s->nruns : WINDOW_BYTES;
  if (wb < WINDOW_MIN) wb = WINDOW_MIN;
  size_t w = s->window = wb / s->row ? wb / s->row : 1;
  s->runs = calloc(nr, sizeof *s->runs);
  s->heap = calloc(nr, sizeof *s->heap);
  if (!s->runs || !s->heap) {
    snprintf(s->err, sizeof s->err, "out of memory");
    return -1;
  }
  for (size_t k = 0; k < s->nruns; k++) {
    Run *r = &s->runs[k];
    r->off = s->run_off[k];
    r->n = s->run_n[k];
    if (!(r->buf = malloc(w * s->row))) {
      snprintf(s->err, sizeof s->err, "out of memory");
      return -1;
    }
  }
  if (mem) {
    Run *r = &s->runs[s->nruns];
    *r = (Run){.n = s->n, .buf = mem, .len = s->n, .in_memory = 1};
  }
  for (size_t k = 0; k < nr; k++)
    if (run_head(s, &s->runs[k])) s->heap[s->nheap++] = &s->runs[k];
  if (s->err[0]) return -1;
  for (size_t i = s->nheap / 2; i-- > 0;) heap_down(s, i);
  return 0;
}

static void heap_up(WeftSpill *s, size_t i) {
  while (i > 0 && heap_less(s, i, (i - 1) / 2)) {
    Run *x = s->heap[i];
    s->heap[i] = s->heap[(i - 1) / 2];
    s->heap[(i - 1) / 2] = x;
    i = (i - 1) / 2;
  }
}

/* Every run in the heap has its head in its window (comparing never reads
 * the file); a run whose window is used up waits out of it (pending) until
 * the next call, so the row returned last stays valid until then. */
const void *weft_spill_next(WeftSpill *s) {
  if (s->err[0]) return NULL;
  if (!s->reading) {
    if (join_worker(s) != 0) return NULL; /* the last run on disk first */
    s->reading = 1;
    if (!s->f) {
      s->sorted = sort_buffer(s);
      s->at = 0;
    } else if (merge_begin(s) != 0) {
      return NULL;
    }
  }
  if (!s->f) return s->at < s->n ? s->sorted + s->row * s->at++ : NULL;
  if (s->pending) {
    Run *p = s->pending;
    s->pending = NULL;
    if (run_head(s, p)) {
      s->heap[s->nheap++] = p;
      heap_up(s, s->nheap - 1);
      s->kid = 0;
    }
    if (s->err[0]) return NULL;
  }
  if (!s->nheap) return NULL;
  Run *r = s->heap[0];
  const char *row = r->buf + r->pos * s->row;
  r->pos++;
  r->done++;
  if (r->pos < r->len) {
    /* sorted runs of nearby rows give long stretches from one run: while the root's next row is
     * not past its lesser child's, the heap stays as it is (one comparison a row) */
    if (s->nheap > 1) {
      if (!s->kid) s->kid = s->nheap > 2 && heap_less(s, 2, 1) ? 2 : 1;
      if (heap_less(s, s->kid, 0)) {
        heap_down(s, 0);
        s->kid = 0;
      }
    }
  } else {
    s->heap[0] = s->heap[--s->nheap];
    if (s->nheap) heap_down(s, 0);
    s->kid = 0;
    if (r->done < r->n) s->pending = r;
  }
  return row;
}

void weft_spill_reset(WeftSpill *s) {
  (void)join_worker(s);
  weft_scratch_close(s->f);
  s->f = NULL;
  if (s->runs)
    for (size_t k = 0; k < s->nruns; k++) free(s->runs[k].buf);
  free(s->runs);
  free(s->heap);
  s->runs = NULL;
  s->heap = NULL;
  s->pending = NULL;
  s->kid = 0;
  s->nheap = s->nruns = s->n = s->total = s->at = 0;
  s->reading = 0;
  s->sorted = NULL;
  s->err[0] = 0;
}

const char *weft_spill_error(const WeftSpill *s) { return s->err[0] ? s->err : NULL; }

void weft_spill_free(WeftSpill *s) {
  if (!s) return;
  weft_spill_reset(s);
  free(s->run_off);
  free(s->run_n);
  region_unmap(&s->rows);
  region_unmap(&s->tmp);
  region_unmap(&s->rows2);
  free(s);
}
