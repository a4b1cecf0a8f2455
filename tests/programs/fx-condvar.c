/* fx-condvar.c - N condition-variable round trips between two threads.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-condvar [N=100]
 * The main thread sets turn = 1 and signals `ping`, then waits on `pong`
 * until the peer has set turn = 0 and signalled `pong`; N times. The main
 * thread always waits at least once per round (it holds the mutex while it
 * sets turn); the peer waits only when it arrives first. Each thread counts
 * the pthread_cond_wait calls it made: the trace must show exactly as many.
 * stderr: fx: mutex=ADDR ping=ADDR pong=ADDR main_tid=T peer_tid=T main_waits=W peer_waits=W
 */
#include "fx-common.h"

#include <stdatomic.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ping = PTHREAD_COND_INITIALIZER, pong = PTHREAD_COND_INITIALIZER;
static int turn;
static long rounds, main_waits, peer_waits;
static _Atomic pid_t peer_tid;

static void *peer(void *arg) {
  (void)arg;
  atomic_store(&peer_tid, fx_tid());
  for (long i = 0; i < rounds; i++) {
    fx_ok(pthread_mutex_lock(&mutex), "peer lock");
    while (turn != 1) {
      fx_ok(pthread_cond_wait(&ping, &mutex), "peer wait");
      peer_waits++;
    }
    turn = 0;
    fx_ok(pthread_cond_signal(&pong), "peer signal");
    fx_ok(pthread_mutex_unlock(&mutex), "peer unlock");
  }
  return NULL;
}

int main(int argc, char **argv) {
  rounds = fx_arg(argc, argv, 1, 100);
  pthread_t th;
  fx_ok(pthread_create(&th, NULL, peer, NULL), "pthread_create");
  for (long i = 0; i < rounds; i++) {
    fx_ok(pthread_mutex_lock(&mutex), "main lock");
    turn = 1;
    fx_ok(pthread_cond_signal(&ping), "main signal");
    while (turn != 0) {
      fx_ok(pthread_cond_wait(&pong, &mutex), "main wait");
      main_waits++;
    }
    fx_ok(pthread_mutex_unlock(&mutex), "main unlock");
  }
  fx_ok(pthread_join(th, NULL), "pthread_join");
  fx_info("mutex=%p ping=%p pong=%p main_tid=%d peer_tid=%d main_waits=%ld peer_waits=%ld", (void *)&mutex,
          (void *)&ping, (void *)&pong, (int)fx_tid(), (int)atomic_load(&peer_tid), main_waits, peer_waits);
  printf("condvar rounds=%ld main_waited_each_round=%s\n", rounds, main_waits >= rounds ? "yes" : "no");
  return 0;
}
