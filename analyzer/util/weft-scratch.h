/* weft-scratch.h - the analyzer's temporary file space: one file whose pages are reused.
 * SPDX-License-Identifier: MIT
 *
 * Data written once and read back (the external sorts' runs, the import's
 * sorted releases) goes into scratch files: each a growing sequence of
 * blocks of one unlinked temporary file shared by all of them. A scratch
 * file closed gives its blocks back and the next one written reuses them,
 * so the shared file's pages, already in the page cache, are overwritten
 * instead of new ones taken: on a virtual machine that hands the guest's
 * free memory back to its host, a page never used or freed seconds ago
 * costs ten times as much to write as one overwritten
 * (docs/performance.md, "Temporary files"). When the last scratch file is
 * closed the shared file is emptied. Thread-safe (a lock around the blocks
 * handed out); one scratch file is for one thread at a time.
 */
#ifndef WEFT_SCRATCH_H
#define WEFT_SCRATCH_H

#include <stddef.h>
#include <stdint.h>

typedef struct WeftScratchFile WeftScratchFile;

/* An empty scratch file; NULL (errno set) when out of memory. The shared
 * file is created at the first write. */
WeftScratchFile *weft_scratch_open(void);
/* n bytes of buf at its end. 0, or -1 with errno (ENOSPC, EIO, ...). */
int weft_scratch_append(WeftScratchFile *f, const void *buf, size_t n);
/* n bytes at off into buf; all of them or -1 with errno (EINVAL past the end). */
int weft_scratch_read(WeftScratchFile *f, void *buf, size_t n, uint64_t off);
/* Its length: the bytes appended. */
uint64_t weft_scratch_size(const WeftScratchFile *f);
/* Its blocks back for reuse; NULL is a no-op. */
void weft_scratch_close(WeftScratchFile *f);
/* The shared file's length: the most the scratch files open had at once,
 * in whole blocks (0 once the last was closed). */
uint64_t weft_scratch_shared_size(void);

#endif /* WEFT_SCRATCH_H */
