/* fx-pshared-cond.c - a process-shared condition variable: a parent and its
 * forked child take turns through it.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-pshared-cond [R=20]
 * One PTHREAD_PROCESS_SHARED mutex and condition variable, and a turn word,
 * in a MAP_SHARED anonymous mapping. R rounds: the parent sets turn = 1,
 * signals, and waits until turn is 0; the child waits until turn is 1,
 * sleeps 1 ms (so the parent is waiting by then), sets turn = 0 and signals.
 * The parent sets the turn only once it has the mutex, which the child gives
 * up only in its wait, so the parent waits every round and the child every
 * round but its first (the parent held the mutex from before the fork): at
 * least 2R - 1 waits on the condition variable, each ended by a signal from
 * the other process.
 * stdout: pshared-cond rounds=R turns=2R
 * stderr: fx: cond=ADDR mutex=ADDR
 */
#include "fx-common.h"

#include <sys/mman.h>
#include <sys/wait.h>

typedef struct {
  pthread_mutex_t m;
  pthread_cond_t c;
  int turn;
  long turns;
} Shared;

int main(int argc, char **argv) {
  long r = fx_arg(argc, argv, 1, 20);
  Shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) fx_die("mmap", errno);
  pthread_mutexattr_t ma;
  pthread_condattr_t ca;
  pthread_mutexattr_init(&ma);
  pthread_condattr_init(&ca);
  fx_ok(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED), "mutex setpshared");
  fx_ok(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED), "cond setpshared");
  fx_ok(pthread_mutex_init(&s->m, &ma), "mutex init");
  fx_ok(pthread_cond_init(&s->c, &ca), "cond init");
  fx_info("cond=%p mutex=%p", (void *)&s->c, (void *)&s->m);
  fx_ok(pthread_mutex_lock(&s->m), "parent lock");
  pid_t kid = fork();
  if (kid < 0) fx_die("fork", errno);
  if (kid == 0) {
    fx_ok(pthread_mutex_lock(&s->m), "child lock");
    for (long i = 0; i < r; i++) {
      while (s->turn != 1) fx_ok(pthread_cond_wait(&s->c, &s->m), "child wait");
      fx_sleep_us(1000);
      s->turn = 0;
      s->turns++;
      fx_ok(pthread_cond_signal(&s->c), "child signal");
    }
    fx_ok(pthread_mutex_unlock(&s->m), "child unlock");
    _exit(0);
  }
  for (long i = 0; i < r; i++) {
    s->turn = 1;
    s->turns++;
    fx_ok(pthread_cond_signal(&s->c), "parent signal");
    while (s->turn != 0) fx_ok(pthread_cond_wait(&s->c, &s->m), "parent wait");
  }
  fx_ok(pthread_mutex_unlock(&s->m), "parent unlock");
  int st;
  if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) fx_die("child", ECHILD);
  printf("pshared-cond rounds=%ld turns=%ld\n", r, s->turns);
  return 0;
}
