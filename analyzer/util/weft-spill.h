/* weft-spill.h - the one external sort of the analyzer: rows in bounded memory.
 * SPDX-License-Identifier: MIT
 *
 * Fixed-size rows go in, in any order; they come out sorted. Up to a bound
 * (mem_rows) they stay in memory; past it each full buffer is sorted and
 * written to a scratch file (weft-scratch.h) as a run, on a thread of its
 * own while a second buffer fills, and the runs are merged when the rows
 * are read back, so memory stays bounded however many rows there are (two
 * buffers and the sort's room). The buffers are reserved once, untouched
 * until used, backed by huge pages where the kernel allows (a first touch
 * of a page is the costly part of a big import on a virtual machine), and
 * reused after weft_spill_reset. One thread at a time may use a spill; the
 * sort and the comparison may run on the spill's worker thread, so they
 * must not touch the caller's state (else weft_spill_in_line).
 */
#ifndef WEFT_SPILL_H
#define WEFT_SPILL_H

#include <stddef.h>

typedef struct WeftSpill WeftSpill;

/* <0, 0, >0 like qsort's: the order the rows come out in. */
typedef int (*WeftSpillCmp)(const void *a, const void *b);
/* Sort n rows of v, with tmp (room for n rows) to use; return the buffer
 * the sorted rows are in (v or tmp). NULL: qsort with the cmp. The merge of
 * the runs is stable (of rows equal by cmp, those added first come out
 * first), so with a stable sort the whole sort is. */
typedef void *(*WeftSpillSort)(void *v, void *tmp, size_t n);

/* NULL when out of memory. */
WeftSpill *weft_spill_new(size_t row_size, size_t mem_rows, WeftSpillCmp cmp, WeftSpillSort sort);
/* Room for one more row, to be filled by the caller; NULL on an error (a run
 * could not be written: weft_spill_error says why). */
void *weft_spill_add(WeftSpill *s);
/* Runs sorted and written on the calling thread, not on the spill's own:
 * for a comparison that reads the caller's state (call before the first
 * run). */
void weft_spill_in_line(WeftSpill *s);
/* Rows added since the last reset. */
size_t weft_spill_count(const WeftSpill *s);
/* The rows in order, one per call; NULL past the last or on an error. The
 * first call sorts; no row may be added until weft_spill_reset. */
const void *weft_spill_next(WeftSpill *s);
/* Empty again (the temporary file closed, the buffers kept). */
void weft_spill_reset(WeftSpill *s);
/* The first error ("cannot write ... to a temporary file: ..."), or NULL. */
const char *weft_spill_error(const WeftSpill *s);
void weft_spill_free(WeftSpill *s);

#endif /* WEFT_SPILL_H */
