/* weft-hmap.h - the one hash map of the analyzer: a pair of int64 to an index.
 * SPDX-License-Identifier: MIT
 *
 * Open addressing with linear probing, at most half full. Keys are any pair
 * of int64 (an object id and a stack id; a file index and an address); the
 * value is an index into the caller's own array. A zeroed WeftHMap is empty.
 * Not thread-safe; a map built before worker threads start may be read by
 * all of them.
 */
#ifndef WEFT_HMAP_H
#define WEFT_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  int64_t k1, k2;
  size_t v;
  bool used;
} WeftHEnt;

typedef struct {
  WeftHEnt *e;
  size_t cap, n; /* cap: a power of two */
} WeftHMap;

/* The value of (k1, k2) into *v: true, or false if it is not there. */
bool weft_hmap_get(const WeftHMap *h, int64_t k1, int64_t k2, size_t *v);
/* Set (k1, k2) to v. 0, or -1 out of memory (the map is unchanged). */
int weft_hmap_put(WeftHMap *h, int64_t k1, int64_t k2, size_t v);
void weft_hmap_free(WeftHMap *h);

#endif /* WEFT_HMAP_H */
