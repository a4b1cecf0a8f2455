/* weft-hmap.c - the one hash map of the analyzer (weft-hmap.h).
 * SPDX-License-Identifier: MIT
 */
#include "weft-hmap.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hmix(int64_t k1, int64_t k2) {
  uint64_t x = (uint64_t)k1 * 0x9e3779b97f4a7c15ull ^ ((uint64_t)k2 + 0x632be59bd9b4e019ull) * 0xbf58476d1ce4e5b9ull;
  x ^= x >> 31;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 29;
  return x;
}

static WeftHEnt *slot(const WeftHMap *h, int64_t k1, int64_t k2) {
  size_t mask = h->cap - 1, i = (size_t)hmix(k1, k2) & mask;
  while (h->e[i].used && (h->e[i].k1 != k1 || h->e[i].k2 != k2)) i = (i + 1) & mask;
  return &h->e[i];
}

bool weft_hmap_get(const WeftHMap *h, int64_t k1, int64_t k2, size_t *v) {
  if (!h->cap) return false;
  WeftHEnt *e = slot(h, k1, k2);
  if (!e->used) return false;
  *v = e->v;
  return true;
}

int weft_hmap_put(WeftHMap *h, int64_t k1, int64_t k2, size_t v) {
  if ((h->n + 1) * 2 > h->cap) {
    size_t nc = h->cap ? h->cap * 2 : 64;
    WeftHEnt *ne = calloc(nc, sizeof *ne);
    if (!ne) return -1;
    WeftHMap nh = {ne, nc, 0};
    for (size_t i = 0; i < h->cap; i++)
      if (h->e[i].used) {
        *slot(&nh, h->e[i].k1, h->e[i].k2) = h->e[i];
        nh.n++;
      }
    free(h->e);
    *h = nh;
  }
  WeftHEnt *e = slot(h, k1, k2);
  if (!e->used) h->n++;
  e->k1 = k1;
  e->k2 = k2;
  e->v = v;
  e->used = true;
  return 0;
}

void weft_hmap_free(WeftHMap *h) {
  free(h->e);
  memset(h, 0, sizeof *h);
}
