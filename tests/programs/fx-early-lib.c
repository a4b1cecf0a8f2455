/* fx-early-lib.c - a library whose constructor uses pthreads before the agent's may have run.
 * SPDX-License-Identifier: MIT
 *
 * Linked into fx-early (DT_NEEDED), so its constructor runs at load time,
 * in an order relative to the preloaded agent's that the loader decides.
 * It creates a thread, locks and unlocks a mutex, waits on a condvar and
 * joins: all of it must work whether or not the agent is set up yet.
 */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t early_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t early_cond = PTHREAD_COND_INITIALIZER;
static int early_flag;
int fx_early_sum;

static void *early_thread(void *arg) {
  pthread_mutex_lock(&early_lock);
  early_flag = 1;
  fx_early_sum += 40;
  pthread_cond_signal(&early_cond);
  pthread_mutex_unlock(&early_lock);
  return arg;
}

__attribute__((constructor(101))) static void early_init(void) {
  pthread_t th;
  pthread_mutex_lock(&early_lock);
  if (pthread_create(&th, NULL, early_thread, NULL) != 0) return;
  while (!early_flag) pthread_cond_wait(&early_cond, &early_lock);
  fx_early_sum += 2;
  pthread_mutex_unlock(&early_lock);
  pthread_join(th, NULL);
}
