/* make-seed.c - write the seed trace (tests/fuzz/trace-build.h) to a file.
 * SPDX-License-Identifier: MIT
 *
 * Usage: make-seed OUT.wtrace
 * The seed is a small valid trace: a file header, a chunk of the main thread,
 * a reserved zero page, a chunk of a worker thread, most record types with
 * strings, a TIME and a SYNC. The fuzzer mutates it; weft-dump tests read it.
 */
#include <stdio.h>

#include "trace-build.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make-seed OUT\n");
    return 2;
  }
  TraceBuild b;
  tb_build_seed(&b);
  FILE *f = fopen(argv[1], "wb");
  if (!f || fwrite(b.buf, 1, b.len, f) != b.len || fclose(f) != 0) {
    perror(argv[1]);
    return 1;
  }
  free(b.buf);
  return 0;
}
