/* weft-scratch.c - the analyzer's temporary file space (weft-scratch.h).
 * SPDX-License-Identifier: MIT
 *
 * One temporary file, cut into blocks of SCRATCH_BLOCK bytes. A scratch file
 * is the list of the blocks it was given, in order; a block given back goes
 * onto a stack and is the next one given out (the most recently written
 * pages first). The blocks past the end of the file are never written
 * before they are given out, so the file never has more pages than the
 * scratch files had at once.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "weft-scratch.h"

#define SCRATCH_BLOCK ((uint64_t)1 << 20)

struct WeftScratchFile {
  uint32_t *blk; /* its blocks, in order */
  size_t nblk, cap;
  uint64_t len;
  int fd; /* the shared file's, noted with its first block */
};

static struct {
  pthread_mutex_t lock;
  FILE *file;     /* the shared file (NULL: not made yet) */
  int fd;         /* its descriptor */
  uint32_t *free; /* blocks given back, the last given back on top */
  size_t nfree, cap;
  uint32_t next; /* the first block never given out */
  size_t open;   /* scratch files not closed */
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

WeftScratchFile *weft_scratch_open(void) {
  WeftScratchFile *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  pthread_mutex_lock(&pool.lock);
  pool.open++;
  pthread_mutex_unlock(&pool.lock);
  return f;
}

uint64_t weft_scratch_size(const WeftScratchFile *f) { return f->len; }

/* A block for f, at its end; -1 with errno. */
static int take_block(WeftScratchFile *f) {
  if (f->nblk == f->cap) {
    size_t cap = f->cap ? 2 * f->cap : 16;
    uint32_t *b = realloc(f->blk, cap * sizeof *b);
    if (!b) return -1;
    f->blk = b;
    f->cap = cap;
  }
  int rc = 0;
  pthread_mutex_lock(&pool.lock);
  if (!pool.file && (pool.file = tmpfile())) pool.fd = fileno(pool.file);
  if (!pool.file) {
    rc = -1;
  } else {
    f->fd = pool.fd;
    if (pool.nfree) {
      f->blk[f->nblk++] = pool.free[--pool.nfree];
    } else if (pool.next == UINT32_MAX) {
      errno = EFBIG;
      rc = -1;
    } else {
      f->blk[f->nblk++] = pool.next++;
    }
  }
  int e = errno;
  pthread_mutex_unlock(&pool.lock);
  errno = e;
  return rc;
}

int weft_scratch_append(WeftScratchFile *f, const void *buf, size_t n) {
  const char *p = buf;
  while (n) {
    uint64_t pos = f->len % SCRATCH_BLOCK;
    if (f->len / SCRATCH_BLOCK == f->nblk && take_block(f) != 0) return -1;
    size_t piece = n < SCRATCH_BLOCK - pos ? n : (size_t)(SCRATCH_BLOCK - pos);
    off_t at = (off_t)(f->blk[f->len / SCRATCH_BLOCK] * SCRATCH_BLOCK + pos);
    ssize_t w = pwrite(f->fd, p, piece, at);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return -1;
    if (w == 0) {
      errno = ENOSPC;
      return -1;
    }
    p += w;
    n -= (size_t)w;
    f->len += (uint64_t)w;
  }
  return 0;
}

int weft_scratch_read(WeftScratchFile *f, void *buf, size_t n, uint64_t off) {
  if (off > f->len || n > f->len - off) {
    errno = EINVAL;
    return -1;
  }
  char *p = buf;
  while (n) {
    uint64_t pos = off % SCRATCH_BLOCK;
    size_t piece = n < SCRATCH_BLOCK - pos ? n : (size_t)(SCRATCH_BLOCK - pos);
    ssize_t r = pread(f->fd, p, piece, (off_t)(f->blk[off / SCRATCH_BLOCK] * SCRATCH_BLOCK + pos));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) {
      errno = EIO; /* the file is shorter than what was written to it */
      return -1;
    }
    p += r;
    n -= (size_t)r;
    off += (uint64_t)r;
  }
  return 0;
}

void weft_scratch_close(WeftScratchFile *f) {
  if (!f) return;
  pthread_mutex_lock(&pool.lock);
  if (pool.nfree + f->nblk > pool.cap) {
    size_t cap = pool.cap ? pool.cap : 64;
    while (cap < pool.nfree + f->nblk) cap *= 2;
    uint32_t *b = realloc(pool.free, cap * sizeof *b);
    if (b) pool.free = b, pool.cap = cap;
  }
  /* given back in reverse, so the next file gets them in its order (out of memory: they are left unused) */
  for (size_t i = f->nblk; i-- > 0 && pool.nfree < pool.cap;) pool.free[pool.nfree++] = f->blk[i];
  if (--pool.open == 0 && pool.file) { /* the last one: the pages and the disk space back */
    fclose(pool.file);
    pool.file = NULL;
    pool.fd = -1;
    pool.nfree = 0;
    pool.next = 0;
  }
  pthread_mutex_unlock(&pool.lock);
  free(f->blk);
  free(f);
}

uint64_t weft_scratch_shared_size(void) {
  pthread_mutex_lock(&pool.lock);
  uint64_t n = pool.next * SCRATCH_BLOCK;
  pthread_mutex_unlock(&pool.lock);
  return n;
}
