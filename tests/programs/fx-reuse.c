/* fx-reuse.c - one address, two mutexes: init, use, destroy, init again.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-reuse [N=20]
 * Life 1 of `m`: one contended acquisition (a second thread blocks on it
 * while main holds it, by handshake) plus the main thread's own. Life 2 of
 * `m` (same storage, after pthread_mutex_destroy and a new init): N
 * uncontended lock pairs. A recording must show two objects at one address.
 * stderr: fx: m=ADDR
 */
#include "fx-common.h"

#include <stdatomic.h>

static pthread_mutex_t m;
static atomic_int started;

static void *blocker(void *arg) {
  atomic_store(&started, 1);
  pthread_mutex_lock(&m); /* blocks: main holds m */
  pthread_mutex_unlock(&m);
  return arg;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20;
  fx_info("m=%p", (void *)&m);
  /* life 1 */
  pthread_mutex_init(&m, NULL);
  pthread_mutex_lock(&m);
  pthread_t th;
  if (pthread_create(&th, NULL, blocker, NULL) != 0) fx_die("pthread_create", errno);
  while (!atomic_load(&started)) sched_yield();
  /* wait until the thread sleeps on m: glibc's lock word turns 2 */
  while (__atomic_load_n(&m.__data.__lock, __ATOMIC_RELAXED) != 2) sched_yield();
  pthread_mutex_unlock(&m);
  pthread_join(th, NULL);
  pthread_mutex_destroy(&m);
  /* life 2 */
  pthread_mutex_init(&m, NULL);
  for (int i = 0; i < n; i++) {
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
  }
  pthread_mutex_destroy(&m);
  printf("reuse lives=2 pairs=%d\n", n);
  return 0;
}
