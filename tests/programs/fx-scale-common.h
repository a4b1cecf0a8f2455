/* fx-scale-common.h - the work of the weft scale fixtures (fx-scale-*.c).
 * SPDX-License-Identifier: MIT
 *
 * fx_scale_work(units): CPU work, about 1 ms per 1000 units on a 2020s core,
 * with no memory traffic and no system calls. fx_scale_serial() spins on the
 * main thread for FX_SERIAL_MS milliseconds (environment; default 0): the
 * "serial section" a change may add.
 */
#ifndef FX_SCALE_COMMON_H
#define FX_SCALE_COMMON_H

#include <stdint.h>

#include "fx-common.h"

static inline uint64_t fx_scale_work(long units) {
  uint64_t x = 88172645463325252u ^ (uint64_t)units;
  for (long i = 0; i < units * 300; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
  }
  return x;
}

static inline void fx_scale_serial(void) {
  const char *e = getenv("FX_SERIAL_MS");
  long ms = e ? atol(e) : 0;
  if (ms <= 0) return;
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do clock_gettime(CLOCK_MONOTONIC, &t);
  while ((t.tv_sec - t0.tv_sec) * 1000L + (t.tv_nsec - t0.tv_nsec) / 1000000L < ms);
}

#endif /* FX_SCALE_COMMON_H */
