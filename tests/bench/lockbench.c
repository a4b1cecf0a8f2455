/* lockbench.c - pthread and process microbenchmark for the agent's overhead.
 * SPDX-License-Identifier: MIT
 *
 *   lockbench MODE [N] [T]
 *
 *   mode          what one operation is                        threads
 *   uncontended   one mutex lock+unlock pair                   1 working, 1 more alive (blocked)
 *   contended     one lock+unlock pair of one shared mutex     T share the N pairs
 *   condvar       one ping-pong round trip (2 hand-offs)       2
 *   futex         the same on a futex word of its own, through 2
 *                 syscall(SYS_futex) (C++20's std::barrier and
 *                 std::atomic::wait, Rust's locks wait so)
 *   barrier       one pthread_barrier_wait round               T
 *   create        one pthread_create + pthread_join            1 (+ the short-lived thread)
 *   fork          one fork + child _exit(0) + waitpid          1 (+ the child process)
 *   spawn         one posix_spawn of this program (mode noop) + waitpid: process start-up
 *   forkexec      one fork whose child execs this program (mode noop) + waitpid: a
 *                 shell's command (bash forks; dash and make use vfork or posix_spawn)
 *   noop          nothing (the program spawn starts)
 *   stacks        one sem_init + sem_destroy made T calls deep     1
 *                 (the agent takes a stack at every init: a
 *                 repeated call site's, cached)
 *
 * Prints one line:
 *   mode=M threads=T n=N total_ms=X ns_per_op=Y
 * The time is CLOCK_MONOTONIC read inside the process around the measured
 * work only: helper threads are started before the clock starts and the
 * workers wait at a start gate, so thread creation is not counted (except in
 * the create mode, where it is the operation). Exit status 0; 1 if a system
 * call fails or a result is wrong (the shared counter must equal the number of
 * operations); 2 on a usage error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t bar;
static long per_thread;       /* iterations of each worker */
static volatile long counter; /* protected by mtx */
static int turn;              /* condvar: whose turn, 0 or 1 (protected by mtx) */

/* Start gate: workers wait until main has read the clock. */
static pthread_mutex_t gate_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open;
static int gate_waiting;

static void die(const char *what, int err) {
  fprintf(stderr, "lockbench: %s: %s\n", what, strerror(err));
  exit(1);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void gate_wait(void) {
  pthread_mutex_lock(&gate_mtx);
  gate_waiting++;
  pthread_cond_broadcast(&gate_cv);
  while (!gate_open) pthread_cond_wait(&gate_cv, &gate_mtx);
  pthread_mutex_unlock(&gate_mtx);
}

/* Wait until t workers are at the gate, read the clock, open the gate. */
static uint64_t gate_release(int t) {
  pthread_mutex_lock(&gate_mtx);
  while (gate_waiting < t) pthread_cond_wait(&gate_cv, &gate_mtx);
  uint64_t t0 = now_ns();
  gate_open = 1;
  pthread_cond_broadcast(&gate_cv);
  pthread_mutex_unlock(&gate_mtx);
  return t0;
}

static void *lock_loop(void *arg) {
  (void)arg;
  gate_wait();
  for (long i = 0; i < per_thread; i++) {
    pthread_mutex_lock(&mtx);
    counter++;
    pthread_mutex_unlock(&mtx);
  }
  return NULL;
}

static void *pingpong(void *arg) {
  int me = (int)(long)arg;
  gate_wait();
  for (long i = 0; i < per_thread; i++) {
    pthread_mutex_lock(&mtx);
    while (turn != me) pthread_cond_wait(&cv, &mtx);
    turn = !me;
    if (me == 0) counter++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mtx);
  }
  return NULL;
}

/* futex: whose turn, 0 or 1; each thread sleeps on the word until it is its turn, hands the turn over and wakes */
static uint32_t fturn;

static void *futex_pingpong(void *arg) {
  uint32_t me = (uint32_t)(long)arg;
  gate_wait();
  for (long i = 0; i < per_thread; i++) {
    uint32_t v;
    while ((v = __atomic_load_n(&fturn, __ATOMIC_ACQUIRE)) != me)
      if (syscall(SYS_futex, &fturn, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0) != 0 && errno != EAGAIN && errno != EINTR)
        die("FUTEX_WAIT", errno);
    if (me == 0) counter++;
    __atomic_store_n(&fturn, !me, __ATOMIC_RELEASE);
    if (syscall(SYS_futex, &fturn, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) < 0) die("FUTEX_WAKE", errno);
  }
  return NULL;
}

static void *barrier_loop(void *arg) {
  long me = (long)arg;
  gate_wait();
  for (long i = 0; i < per_thread; i++) {
    int r = pthread_barrier_wait(&bar);
    if (r != 0 && r != PTHREAD_BARRIER_SERIAL_THREAD) die("pthread_barrier_wait", r);
    if (me == 0) counter++;
  }
  return NULL;
}

/* The second thread of the uncontended mode: alive and blocked until released. */
static int idle_pipe[2];

static void *idle_thread(void *arg) {
  (void)arg;
  char c;
  while (read(idle_pipe[0], &c, 1) < 0 && errno == EINTR)
    ;
  return NULL;
}

static void *nothing(void *arg) { return arg; }

static void start_threads(pthread_t *tid, int t, void *(*fn)(void *)) {
  for (long i = 0; i < t; i++) {
    int r = pthread_create(&tid[i], NULL, fn, (void *)i);
    if (r) die("pthread_create", r);
  }
}

static void join_threads(pthread_t *tid, int t) {
  for (int i = 0; i < t; i++) {
    int r = pthread_join(tid[i], NULL);
    if (r) die("pthread_join", r);
  }
}

/* stacks: n semaphores made and destroyed depth calls deep (not tail calls). */
static long __attribute__((noinline)) deep_inits(int depth, long n) {
  if (depth > 1) {
    long r = deep_inits(depth - 1, n);
    __asm__ volatile("" ::: "memory");
    return r;
  }
  long done = 0;
  for (long i = 0; i < n; i++) {
    sem_t s;
    if (sem_init(&s, 0, 1) != 0) die("sem_init", errno);
    if (sem_destroy(&s) != 0) die("sem_destroy", errno);
    done++;
  }
  return done;
}

static void usage(const char *me) {
  fprintf(stderr,
          "usage: %s uncontended|contended|condvar|futex|barrier|create|fork|spawn|forkexec|stacks [N] [T]\n"
          "  N operations (default 1000000), T threads for contended and barrier, calls deep for stacks\n"
          "  (default 2)\n",
          me);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 2) usage(argv[0]);
  const char *mode = argv[1];
  if (!strcmp(mode, "noop")) return 0;
  char *end;
  long n = 1000000;
  int t = 2;
  if (argc > 2) {
    n = strtol(argv[2], &end, 10);
    if (*end || n < 1) usage(argv[0]);
  }
  if (argc > 3) {
    long v = strtol(argv[3], &end, 10);
    if (*end || v < 1 || v > 1024) usage(argv[0]);
    t = (int)v;
  }

  uint64_t t0, t1;
  long expect = n;
  if (!strcmp(mode, "uncontended")) {
    pthread_t idle;
    if (pipe(idle_pipe)) die("pipe", errno);
    int r = pthread_create(&idle, NULL, idle_thread, NULL);
    if (r) die("pthread_create", r);
    t = 1;
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      pthread_mutex_lock(&mtx);
      counter++;
      pthread_mutex_unlock(&mtx);
    }
    t1 = now_ns();
    if (write(idle_pipe[1], "x", 1) != 1) die("write", errno);
    pthread_join(idle, NULL);
  } else if (!strcmp(mode, "contended") || !strcmp(mode, "condvar") || !strcmp(mode, "futex") ||
             !strcmp(mode, "barrier")) {
    void *(*fn)(void *);
    if (!strcmp(mode, "contended")) {
      per_thread = n / t;
      n = expect = per_thread * t;
      fn = lock_loop;
    } else if (!strcmp(mode, "condvar") || !strcmp(mode, "futex")) {
      t = 2;
      per_thread = n;
      fn = !strcmp(mode, "futex") ? futex_pingpong : pingpong;
    } else {
      per_thread = n;
      int r = pthread_barrier_init(&bar, NULL, (unsigned)t);
      if (r) die("pthread_barrier_init", r);
      fn = barrier_loop;
    }
    if (n < 1) usage(argv[0]);
    pthread_t tid[t];
    start_threads(tid, t, fn);
    t0 = gate_release(t);
    join_threads(tid, t);
    t1 = now_ns();
    if (fn == barrier_loop) pthread_barrier_destroy(&bar);
  } else if (!strcmp(mode, "create")) {
    t = 1;
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      pthread_t th;
      void *ret;
      int r = pthread_create(&th, NULL, nothing, (void *)i);
      if (r) die("pthread_create", r);
      r = pthread_join(th, &ret);
      if (r) die("pthread_join", r);
      if ((long)ret == i) counter++;
    }
    t1 = now_ns();
  } else if (!strcmp(mode, "fork") || !strcmp(mode, "spawn") || !strcmp(mode, "forkexec")) {
    int is_fork = !strcmp(mode, "fork"), is_exec = !strcmp(mode, "forkexec");
    char *child_argv[] = {argv[0], "noop", NULL};
    t = 1;
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      pid_t pid;
      if (is_fork || is_exec) {
        pid = fork();
        if (pid < 0) die("fork", errno);
        if (pid == 0) {
          if (is_exec) execv("/proc/self/exe", child_argv);
          _exit(is_exec ? 127 : 0);
        }
      } else {
        int r = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, child_argv, environ);
        if (r) die("posix_spawn", r);
      }
      int status;
      if (waitpid(pid, &status, 0) != pid) die("waitpid", errno);
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) counter++;
    }
    t1 = now_ns();
  } else if (!strcmp(mode, "stacks")) {
    int depth = t;
    t = 1;
    t0 = now_ns();
    counter = deep_inits(depth, n);
    t1 = now_ns();
    printf("depth=%d ", depth);
  } else {
    usage(argv[0]);
  }

  if (counter != expect) {
    fprintf(stderr, "lockbench: %s: counted %ld operations, expected %ld\n", mode, (long)counter, expect);
    return 1;
  }
  double dt = (double)(t1 - t0);
  printf("mode=%s threads=%d n=%ld total_ms=%.3f ns_per_op=%.1f\n", mode, t, n, dt / 1e6, dt / (double)n);
  return 0;
}
