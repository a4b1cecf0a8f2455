/* ompbench.c - what the agent adds to an OpenMP program (gcc -fopenmp): the
 * cost of a parallel region and of a critical section, natively and traced
 * (run-omp.py runs both, interleaved).
 * SPDX-License-Identifier: MIT
 *
 * usage: ompbench regions|critical|critical2 [N]
 *   regions    N empty parallel regions of 2 threads (the start, the end barrier, the idle team)
 *   critical   N entries of an unnamed critical section by one thread (uncontended)
 *   critical2  N entries shared by 2 threads (contended)
 * stdout: "mode=M n=N ns_per_op=X"
 */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "regions";
  long n = argc > 2 ? atol(argv[2]) : 100000;
  volatile long sink = 0;
  if (n <= 0 || (strcmp(mode, "regions") && strcmp(mode, "critical") && strcmp(mode, "critical2"))) {
    fprintf(stderr, "usage: ompbench regions|critical|critical2 [N]\n");
    return 2;
  }
#pragma omp parallel num_threads(2) /* the team made before the clock starts */
  sink += omp_get_thread_num();
  double t0 = now_ns();
  if (!strcmp(mode, "regions")) {
    for (long i = 0; i < n; i++) {
#pragma omp parallel num_threads(2)
      sink += omp_get_thread_num();
    }
  } else if (!strcmp(mode, "critical")) {
    for (long i = 0; i < n; i++) {
#pragma omp critical
      sink++;
    }
  } else {
#pragma omp parallel for num_threads(2)
    for (long i = 0; i < n; i++) {
#pragma omp critical
      sink++;
    }
  }
  double t1 = now_ns();
  printf("mode=%s n=%ld ns_per_op=%.1f\n", mode, n, (t1 - t0) / n);
  return 0;
}
