/* fx-pshared.c - one PTHREAD_PROCESS_SHARED mutex in a MAP_SHARED mapping,
 * taken by 4 forked children.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-pshared [N=50 [T=1 [rwlock]]]
 * The parent locks the mutex, forks 4 children and unlocks it only once all
 * 4 are blocked on it (each one's thread in a futex wait, read from
 * /proc/PID/syscall), so every child's first lock waits. Each child then
 * locks it N times in all, adding to a shared counter inside. The mutex is
 * acquired 4N + 1 times; each child waits at least once. With T > 1 each
 * child's T threads (at most 8) do that each: 4TN + 1 acquisitions, threads
 * of one process and of others taking turns. With "rwlock" the lock is a
 * PTHREAD_PROCESS_SHARED rwlock instead, write-locked the same way. With
 * "untouched" the parent only makes the mutex: the children take it 4N times
 * (the parent never does). With "remade" the parent makes it, destroys it and
 * makes it again at the same place before all that. With "generations" one
 * forked child takes it N times and exits, the parent destroys it, makes it
 * again and a second child takes that one 2N times (nothing else happens):
 * stdout "pshared generations n=N".
 * stdout: pshared children=4 n=N counter=4N (with T > 1: ... threads=T counter=4TN)
 * stderr: fx: mutex=ADDR (rwlock: fx: rwlock=ADDR)
 */
#include "fx-common.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>

typedef struct {
  pthread_mutex_t m;
  pthread_rwlock_t rw;
  long counter;
} Shared;

/* pid's thread is blocked in futex (202 on x86-64). */
static int blocked(pid_t pid) {
  char path[64], buf[64];
  snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t r = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (r <= 0) return 0;
  buf[r] = 0;
  return !strncmp(buf, "202 ", 4);
}

static Shared *s;
static long n;
static int rw;

static void take(void) { fx_ok(rw ? pthread_rwlock_wrlock(&s->rw) : pthread_mutex_lock(&s->m), "lock"); }
static void give(void) { fx_ok(rw ? pthread_rwlock_unlock(&s->rw) : pthread_mutex_unlock(&s->m), "unlock"); }

static void *rounds(void *arg) {
  (void)arg;
  for (long i = 0; i < n; i++) {
    take();
    s->counter++;
    fx_sleep_us(200); /* the work, inside the lock */
    give();
  }
  return NULL;
}

int main(int argc, char **argv) {
  n = fx_arg(argc, argv, 1, 50);
  long nt = fx_arg(argc, argv, 2, 1);
  if (nt < 1 || nt > 8) fx_die("threads (1..8)", EINVAL);
  s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (s == MAP_FAILED) fx_die("mmap", errno);
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  fx_ok(pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED), "setpshared");
  fx_ok(pthread_mutex_init(&s->m, &a), "mutex init");
  if (argc > 3 && !strcmp(argv[3], "remade")) {
    fx_ok(pthread_mutex_destroy(&s->m), "mutex destroy");
    fx_ok(pthread_mutex_init(&s->m, &a), "mutex init again");
  }
  if (argc > 3 && !strcmp(argv[3], "generations")) {
    fx_info("mutex=%p", (void *)&s->m);
    for (int g = 0; g < 2; g++) {
      if (g) {
        fx_ok(pthread_mutex_destroy(&s->m), "mutex destroy");
        fx_ok(pthread_mutex_init(&s->m, &a), "mutex init again");
      }
      pid_t kid = fork();
      if (kid < 0) fx_die("fork", errno);
      if (kid == 0) {
        n *= g + 1;
        rounds(NULL);
        _exit(0);
      }
      int st;
      if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) fx_die("child", ECHILD);
    }
    printf("pshared generations n=%ld\n", n);
    return 0;
  }
  rw = argc > 3 && !strcmp(argv[3], "rwlock");
  int untouched = argc > 3 && !strcmp(argv[3], "untouched");
  if (rw) {
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    fx_ok(pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED), "rwlock setpshared");
    fx_ok(pthread_rwlock_init(&s->rw, &ra), "rwlock init");
    fx_info("rwlock=%p", (void *)&s->rw);
  } else {
    fx_info("mutex=%p", (void *)&s->m);
  }
  if (!untouched) take();
  pid_t kids[4];
  for (int k = 0; k < 4; k++) {
    kids[k] = fork();
    if (kids[k] < 0) fx_die("fork", errno);
    if (kids[k] == 0) {
      pthread_t th[8];
      for (long t = 1; t < nt; t++) fx_ok(pthread_create(&th[t], NULL, rounds, NULL), "pthread_create");
      rounds(NULL);
      for (long t = 1; t < nt; t++) fx_ok(pthread_join(th[t], NULL), "pthread_join");
      _exit(0);
    }
  }
  if (!untouched) {
    for (int k = 0; k < 4; k++)
      while (!blocked(kids[k])) fx_sleep_us(1000);
    give();
  }
  for (int k = 0; k < 4; k++) {
    int st;
    if (waitpid(kids[k], &st, 0) != kids[k] || !WIFEXITED(st) || WEXITSTATUS(st) != 0) fx_die("child", ECHILD);
  }
  if (nt > 1)
    printf("pshared children=4 n=%ld threads=%ld counter=%ld\n", n, nt, s->counter);
  else
    printf("pshared children=4 n=%ld counter=%ld\n", n, s->counter);
  return 0;
}
