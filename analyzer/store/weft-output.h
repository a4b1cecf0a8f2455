/* weft-output.h - the one way weft opens a file it writes from a recording.
 * SPDX-License-Identifier: MIT
 *
 * weft export -o, weft report -o, weft scale's outputs and weft-gui
 * --screenshot/--dump all open their output here, so that none of them can
 * destroy what is at the path (issue 11):
 *
 *   "-"                     standard output, a stream;
 *   a FIFO, a char device   opened and written as a stream (/dev/null, a pipe
 *                           to another program); never replaced;
 *   a new name              a temporary file next to it (mode 0600: the output
 *                           holds the recording's command lines and names),
 *                           renamed into place when complete;
 *   a regular file          the same, replacing it at the end, with its mode
 *                           (and, as root, its owner) kept; refused when it is
 *                           the recording being read (the same st_dev and
 *                           st_ino, whatever its name) or another weft
 *                           recording (weft import and record make those);
 *   a symbolic link         followed: the file it points to is replaced and
 *                           the link stays; a dangling link is refused;
 *   anything else           refused (a directory, a block device, a socket).
 *
 * So a failed write leaves no partial file and the old one intact. Write
 * errors are caught at the first failing write(2), so that the message names
 * its real cause (ENOSPC on /dev/full), not whatever errno says by the end.
 */
#ifndef WEFT_OUTPUT_H
#define WEFT_OUTPUT_H

#include <stddef.h>
#include <stdio.h>

typedef struct {
  FILE *f;      /* write the output here */
  char *name;   /* for messages: the path as given, or "standard output" */
  char *target; /* the regular file replaced at commit (a link resolved); NULL: a stream */
  char *tmp;    /* the temporary file renamed over target at commit */
  int fd;       /* what f writes to */
  int owns_fd;  /* fd is closed with f (not standard output) */
  int errnum;   /* the first write error */
} WeftOutput;

/* Open path ("-": standard output) as described above. input, if not NULL,
 * is the file the command reads, which must not be the output. Returns 0,
 * or -1 with a one-line message naming path in err. */
int weft_output_open(WeftOutput *o, const char *path, const char *input, char *err, size_t errlen);

/* Flush and close the output and, for a file, rename it into place.
 * Returns 0, or -1 with a one-line message naming the output in err (the
 * temporary file is removed). */
int weft_output_commit(WeftOutput *o, char *err, size_t errlen);

/* Give the output up: close it and remove the temporary file. */
void weft_output_abort(WeftOutput *o);

#endif /* WEFT_OUTPUT_H */
