/* fx-contended.c - exactly K contended mutex acquisitions, by handshake.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-contended [K=20] [fork]
 * Each round: the main thread locks `mutex`, posts `go`; the waiter thread
 * takes `go` and calls pthread_mutex_lock, which blocks. The main thread sees
 * the waiter blocked (glibc's lock word turns 2 once a waiter sleeps on it),
 * unlocks, and waits on `done`, which the waiter posts after its unlock. So
 * every lock of the waiter is contended (holder = main_tid) and no lock of the
 * main thread is.
 * Expected on `mutex`: K ACQ (main), K WAIT_BEGIN holder=main_tid + K WAIT_END
 * res=0 (waiter), 2K REL.
 * stderr: fx: mutex=ADDR go=ADDR done=ADDR main_tid=T waiter_tid=T
 * With "fork" it all happens in a forked child (main_tid is the child's pid),
 * which the parent waits for: a fork child's stacks and lock names must
 * symbolize from the objects it inherited.
 */
#include "fx-common.h"

#include <semaphore.h>
#include <stdatomic.h>
#include <sys/wait.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static sem_t go, done;
static long k_rounds;
static _Atomic pid_t waiter_tid;
static long in_lock;

static void *waiter(void *arg) {
  (void)arg;
  atomic_store(&waiter_tid, fx_tid());
  for (long i = 0; i < k_rounds; i++) {
    while (sem_wait(&go) != 0) {}
    fx_ok(pthread_mutex_lock(&mutex), "waiter lock");
    in_lock++;
    fx_ok(pthread_mutex_unlock(&mutex), "waiter unlock");
    sem_post(&done);
  }
  return NULL;
}

static int contend(void);

int main(int argc, char **argv) {
  k_rounds = fx_arg(argc, argv, 1, 20);
  if (argc < 3 || strcmp(argv[2], "fork") != 0) return contend();
  fflush(NULL);
  pid_t c = fork();
  if (c < 0) fx_die("fork", errno);
  if (c == 0) {
    int rc = contend();
    fflush(NULL);
    _exit(rc);
  }
  int st;
  if (waitpid(c, &st, 0) != c) fx_die("waitpid", errno);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 98;
}

static int contend(void) {
  pthread_t th;
  if (sem_init(&go, 0, 0) != 0 || sem_init(&done, 0, 0) != 0) fx_die("sem_init", errno);
  fx_ok(pthread_create(&th, NULL, waiter, NULL), "pthread_create");
  FX_WAIT_UNTIL(atomic_load(&waiter_tid) != 0, "thread start");
  for (long i = 0; i < k_rounds; i++) fx_contend_once(&mutex, &go, &done);
  fx_ok(pthread_join(th, NULL), "pthread_join");
  fx_info("mutex=%p go=%p done=%p main_tid=%d waiter_tid=%d", (void *)&mutex, (void *)&go, (void *)&done, (int)fx_tid(),
          (int)atomic_load(&waiter_tid));
  printf("contended rounds=%ld waiter_locks=%ld\n", k_rounds, in_lock);
  return 0;
}
