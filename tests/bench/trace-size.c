/* trace-size.c - how many bytes of a recording are records, for the benchmarks.
 * SPDX-License-Identifier: MIT
 *
 *   trace-size DIR
 *
 * Reads every *.wtrace of the recording DIR with the format library and
 * prints one line of key=value pairs:
 *   files=F records=R record_bytes=B chunks=C chunk_bytes=K file_bytes=S disk_bytes=D lost=L
 * record_bytes  sum of the record lengths (8 x words, word 0 included): the
 *               bytes the records really use
 * chunks        chunks with a header (their 32- or 40-byte headers are not
 *               records), and (version 7) the PROCESS pages of fork children
 * chunk_bytes   sum of the sizes of those chunks (records + headers + the unused
 *               tail the agent preallocated)
 * file_bytes    sum of the files' apparent sizes (file headers included)
 * disk_bytes    sum of the blocks allocated on disk (st_blocks x 512)
 * lost          sum of the LOST records' counts plus every file header's lost field
 * Exit status 0, or 1 if a file is unreadable or corrupt.
 */
#include "config.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "weft-reader.h"

typedef struct {
  uint64_t records, record_bytes, lost;
  uint64_t chunks;
} Count;

static int on_event(const WeftEvent *ev, void *user) {
  Count *c = user;
  c->records++;
  c->record_bytes += 8u * ev->nwords;
  if (ev->type == WEFT_EV_LOST) c->lost += ev->w[1];
  return 0;
}

/* Walk the chunk headers of one file (the same layout the reader checks). */
static void count_chunks(const char *path, uint64_t *chunks, uint64_t *chunk_bytes) {
  FILE *f = fopen(path, "rb");
  if (!f) return;
  uint64_t off = WEFT_FILE_HEADER_SIZE;
  WeftChunkHeader h;
  for (;;) {
    if (fseeko(f, (off_t)off, SEEK_SET) != 0 || fread(&h, sizeof h, 1, f) != 1) break;
    if ((h.magic == WEFT_CHUNK_MAGIC || h.magic == WEFT_CHILD_CHUNK_MAGIC || h.magic == WEFT_PROC_MAGIC) &&
        h.size >= WEFT_CHUNK_ALIGN && h.size % WEFT_CHUNK_ALIGN == 0) {
      (*chunks)++;
      *chunk_bytes += h.size;
      off += h.size;
    } else {
      off += WEFT_CHUNK_ALIGN; /* reserved, never written */
    }
  }
  fclose(f);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: trace-size DIR\n");
    return 2;
  }
  const char *dir = argv[1];
  DIR *d = opendir(dir);
  if (!d) {
    perror(dir);
    return 1;
  }
  Count c = {0};
  uint64_t files = 0, file_bytes = 0, disk_bytes = 0, chunk_bytes = 0;
  int status = 0;
  struct dirent *de;
  char path[8192], err[512];
  while ((de = readdir(d))) {
    size_t len = strlen(de->d_name);
    if (len < 8 || strcmp(de->d_name + len - 7, ".wtrace") != 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
    struct stat st;
    if (stat(path, &st) != 0) continue;
    files++;
    file_bytes += (uint64_t)st.st_size;
    disk_bytes += (uint64_t)st.st_blocks * 512u;
    WeftTrace *t;
    if (weft_trace_open(path, &t, err, sizeof err) != 0) {
      fprintf(stderr, "trace-size: %s\n", err);
      status = 1;
      continue;
    }
    WeftTrace *const *sec;
    const size_t nsec = weft_trace_sections(t, &sec);
    for (size_t i = 0; i <= nsec; i++) { /* the file's process, then its fork children's sections */
      WeftTrace *one = i ? sec[i - 1] : t;
      c.lost += weft_trace_header(one)->lost;
      if (weft_trace_scan(one, on_event, &c, err, sizeof err) < 0) {
        fprintf(stderr, "trace-size: %s\n", err);
        status = 1;
      }
    }
    weft_trace_close(t);
    count_chunks(path, &c.chunks, &chunk_bytes);
  }
  closedir(d);
  printf("files=%" PRIu64 " records=%" PRIu64 " record_bytes=%" PRIu64 " chunks=%" PRIu64 " chunk_bytes=%" PRIu64
         " file_bytes=%" PRIu64 " disk_bytes=%" PRIu64 " lost=%" PRIu64 "\n",
         files, c.records, c.record_bytes, c.chunks, chunk_bytes, file_bytes, disk_bytes, c.lost);
  return status;
}
