/* example-pool.c - weft's bundled example: a small work pool that does not scale.
 * SPDX-License-Identifier: MIT
 *
 * Four workers take tasks from a queue guarded by a mutex and a condition
 * variable. Every task also updates a shared histogram under one global lock
 * (a hot lock), and the tasks are unequal (the last worker's share is larger:
 * an unbalanced static split for the second phase). Between the phases the
 * workers meet at a barrier. Prints the checksum of the work.
 *
 *   usage: weft-example [THREADS] [TASKS]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cond = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t hist_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t phase_barrier;
static int next_task, ntasks, nthreads;
static uint64_t histogram[64];

static uint64_t work(uint64_t seed, int amount) {
  uint64_t x = seed | 1;
  for (int i = 0; i < amount; i++) x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

static void record(uint64_t v) {
  pthread_mutex_lock(&hist_lock); /* the hot lock: held while doing work */
  histogram[v % 64] += work(v, 20000) & 1;
  pthread_mutex_unlock(&hist_lock);
}

static void *worker(void *arg) {
  int id = (int)(intptr_t)arg;
  char name[16];
  snprintf(name, sizeof name, "worker-%d", id);
  pthread_setname_np(pthread_self(), name);
  /* phase 1: a shared queue */
  for (;;) {
    pthread_mutex_lock(&queue_lock);
    while (next_task < 0) pthread_cond_wait(&queue_cond, &queue_lock);
    int task = next_task < ntasks ? next_task++ : -2;
    pthread_mutex_unlock(&queue_lock);
    if (task == -2) break;
    record(work((uint64_t)task, 200000));
  }
  pthread_barrier_wait(&phase_barrier);
  /* phase 2: a static split where the last worker gets twice the work */
  int share = ntasks / nthreads * (id == nthreads - 1 ? 2 : 1);
  for (int i = 0; i < share; i++) record(work((uint64_t)(id * 100000 + i), 200000));
  return NULL;
}

int main(int argc, char **argv) {
  nthreads = argc > 1 ? atoi(argv[1]) : 4;
  ntasks = argc > 2 ? atoi(argv[2]) : 400;
  if (nthreads < 1 || nthreads > 256 || ntasks < 1) {
    fprintf(stderr, "usage: weft-example [THREADS 1..256] [TASKS >= 1]\n");
    return 2;
  }
  pthread_t th[256];
  next_task = -1;
  pthread_barrier_init(&phase_barrier, NULL, (unsigned)nthreads);
  for (int i = 0; i < nthreads; i++) pthread_create(&th[i], NULL, worker, (void *)(intptr_t)i);
  pthread_mutex_lock(&queue_lock);
  next_task = 0;
  pthread_cond_broadcast(&queue_cond);
  pthread_mutex_unlock(&queue_lock);
  for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
  pthread_barrier_destroy(&phase_barrier);
  uint64_t sum = 0;
  for (int i = 0; i < 64; i++) sum += histogram[i] * (uint64_t)(i + 1);
  printf("weft-example: %d threads, %d tasks, checksum %llu\n", nthreads, ntasks, (unsigned long long)sum);
  return 0;
}
