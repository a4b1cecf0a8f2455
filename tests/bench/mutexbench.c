/* mutexbench.c - a lock-heavy program: T threads take M mutexes in a loop.
 * SPDX-License-Identifier: MIT
 *
 *   mutexbench T M SECONDS [WORK]
 *
 * Each thread runs for SECONDS (CLOCK_MONOTONIC, read every 1024 rounds):
 * it takes mutex (round * 7 + thread) % M, adds to that mutex's counter,
 * spins WORK iterations inside (default 20) and as many outside, and counts
 * its rounds. Prints one line:
 *   threads=T mutexes=M seconds=S ops=N ops_per_s=R
 * and exits 1 if the counters do not add up to the rounds counted.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  pthread_mutex_t m;
  long count;
  char pad[64 - sizeof(pthread_mutex_t) % 64 - sizeof(long)];
} Slot;

static Slot *slots;
static int nthreads, nmutex, work;
static double seconds;
static long *rounds;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void spin(int n) {
  for (volatile int i = 0; i < n; i++) {}
}

static void *run(void *arg) {
  long id = (long)(intptr_t)arg, r = 0;
  double end = now_s() + seconds;
  for (;;) {
    for (int k = 0; k < 1024; k++, r++) {
      Slot *s = &slots[(r * 7 + id) % nmutex];
      pthread_mutex_lock(&s->m);
      s->count++;
      spin(work);
      pthread_mutex_unlock(&s->m);
      spin(work);
    }
    if (now_s() >= end) break;
  }
  rounds[id] = r;
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: mutexbench THREADS MUTEXES SECONDS [WORK]\n");
    return 2;
  }
  nthreads = atoi(argv[1]);
  nmutex = atoi(argv[2]);
  seconds = atof(argv[3]);
  work = argc > 4 ? atoi(argv[4]) : 20;
  if (nthreads < 1 || nmutex < 1 || seconds <= 0 || work < 0) {
    fprintf(stderr, "mutexbench: bad arguments\n");
    return 2;
  }
  /* one cache line a slot, aligned: calloc's 16-byte alignment let a slot's counter share a line with
   * the next slot's mutex, and where the heap began (a preloaded library's allocations move it, an
   * environment variable more or less moves those) decided the run's speed by up to 40 % */
  slots = aligned_alloc(64, (size_t)nmutex * sizeof *slots);
  if (slots) memset(slots, 0, (size_t)nmutex * sizeof *slots);
  rounds = calloc((size_t)nthreads, sizeof *rounds);
  pthread_t *th = calloc((size_t)nthreads, sizeof *th);
  if (!slots || !rounds || !th) return 1;
  for (int i = 0; i < nmutex; i++) pthread_mutex_init(&slots[i].m, NULL);
  double t0 = now_s();
  for (long i = 0; i < nthreads; i++)
    if (pthread_create(&th[i], NULL, run, (void *)(intptr_t)i) != 0) return 1;
  long total = 0, counted = 0;
  for (int i = 0; i < nthreads; i++) {
    pthread_join(th[i], NULL);
    total += rounds[i];
  }
  double dt = now_s() - t0;
  for (int i = 0; i < nmutex; i++) counted += slots[i].count;
  printf("threads=%d mutexes=%d seconds=%.3f ops=%ld ops_per_s=%.0f\n", nthreads, nmutex, dt, total, total / dt);
  return counted == total ? 0 : 1;
}
