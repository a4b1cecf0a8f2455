/* fx-scale-lock.c - fixed total work, every piece of it under one global mutex.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-scale-lock THREADS [UNITS=40000] [CHUNK=200]
 * THREADS threads each do UNITS / THREADS units of fx_scale_work in chunks
 * of CHUNK units, each chunk while holding `global_lock`: the work is
 * serialised, so more threads only add waiting on global_lock (which weft
 * scale must name as the loss). FX_SERIAL_MS as in fx-scale-par.
 * stdout: "lock threads=N units=U" and a checksum.
 */
#include "fx-scale-common.h"

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static long share, chunk;
static uint64_t total;

static void *worker(void *arg) {
  (void)arg;
  for (long done = 0; done < share; done += chunk) {
    long c = share - done < chunk ? share - done : chunk;
    fx_ok(pthread_mutex_lock(&global_lock), "lock");
    total ^= fx_scale_work(c);
    fx_ok(pthread_mutex_unlock(&global_lock), "unlock");
  }
  return NULL;
}

int main(int argc, char **argv) {
  long n = fx_arg(argc, argv, 1, 2), units = fx_arg(argc, argv, 2, 40000);
  chunk = fx_arg(argc, argv, 3, 200);
  if (n < 1 || n > 1024 || chunk < 1) {
    fprintf(stderr, "fx: error: THREADS must be 1..1024, CHUNK >= 1\n");
    return 2;
  }
  fx_scale_serial();
  share = units / n;
  pthread_t th[1024];
  for (long i = 0; i < n; i++) fx_ok(pthread_create(&th[i], NULL, worker, NULL), "pthread_create");
  for (long i = 0; i < n; i++) fx_ok(pthread_join(th[i], NULL), "pthread_join");
  printf("lock threads=%ld units=%ld sum=%llx\n", n, share * n, (unsigned long long)total);
  return 0;
}
