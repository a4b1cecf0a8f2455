/* fx-scale-par.c - embarrassingly parallel: fixed total work split evenly.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-scale-par THREADS [UNITS=40000]
 * THREADS threads each do UNITS / THREADS units of fx_scale_work (about 1 ms
 * per 1000 units), with no shared data, then main joins them. With
 * FX_SERIAL_MS=M in the environment, main first spins M ms alone: the
 * serial section of the "regressed" version in tests/integration/test_scale.py.
 * With FX_WEAK=1 each thread does UNITS units (the work grows with the
 * thread count: weak scaling).
 * stdout: "par threads=N units=U" and a checksum.
 */
#include "fx-scale-common.h"

static long share;

static void *worker(void *arg) {
  uint64_t *out = arg;
  *out = fx_scale_work(share);
  return NULL;
}

int main(int argc, char **argv) {
  long n = fx_arg(argc, argv, 1, 2), units = fx_arg(argc, argv, 2, 40000);
  if (n < 1 || n > 1024) {
    fprintf(stderr, "fx: error: THREADS must be 1..1024\n");
    return 2;
  }
  fx_scale_serial();
  const char *weak = getenv("FX_WEAK");
  share = weak && !strcmp(weak, "1") ? units : units / n;
  pthread_t th[1024];
  uint64_t res[1024], sum = 0;
  for (long i = 0; i < n; i++) fx_ok(pthread_create(&th[i], NULL, worker, &res[i]), "pthread_create");
  for (long i = 0; i < n; i++) {
    fx_ok(pthread_join(th[i], NULL), "pthread_join");
    sum ^= res[i];
  }
  printf("par threads=%ld units=%ld sum=%llx\n", n, share * n, (unsigned long long)sum);
  return 0;
}
