/* fx-threadexit.c - threads that return, call pthread_exit, and a main thread that exits first.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-threadexit
 * t1 returns 1; t2 calls pthread_exit(2); t3 calls pthread_exit(3) two calls
 * deep. main joins them, prints their values, then starts t4 and calls
 * pthread_exit itself; t4 waits until the main thread is a zombie, prints a
 * line and returns, ending the process (exit status 0).
 * Expected THREAD_EXIT: t1 how=return, t2 and t3 how=pthread_exit, main
 * how=pthread_exit, t4 how=return.
 * stderr: fx: t1=PTHREAD t2=PTHREAD t3=PTHREAD t4=PTHREAD main_tid=T
 */
#include "fx-common.h"

static pid_t main_tid;

static void *t1_fn(void *arg) {
  (void)arg;
  return (void *)1;
}

static void *t2_fn(void *arg) {
  (void)arg;
  pthread_exit((void *)2);
}

static volatile int exit_now = 1;

__attribute__((noinline)) static void leave(void) {
  if (exit_now) pthread_exit((void *)3);
}

__attribute__((noinline)) static void leave_deep(int depth) {
  if (depth == 0)
    leave();
  else
    leave_deep(depth - 1);
  __asm__ volatile("" ::: "memory"); /* no tail call */
}

static void *t3_fn(void *arg) {
  (void)arg;
  leave_deep(2);
  return NULL;
}

static void *t4_fn(void *arg) {
  (void)arg;
  FX_WAIT_UNTIL(fx_task_state(main_tid) == 'Z', "main thread never exited");
  printf("threadexit t4 outlived main\n");
  return NULL;
}

int main(void) {
  pthread_t t1, t2, t3, t4;
  void *v1, *v2, *v3;
  main_tid = fx_tid();
  fx_ok(pthread_create(&t1, NULL, t1_fn, NULL), "create t1");
  fx_ok(pthread_create(&t2, NULL, t2_fn, NULL), "create t2");
  fx_ok(pthread_create(&t3, NULL, t3_fn, NULL), "create t3");
  fx_ok(pthread_join(t1, &v1), "join t1");
  fx_ok(pthread_join(t2, &v2), "join t2");
  fx_ok(pthread_join(t3, &v3), "join t3");
  printf("threadexit values=%ld,%ld,%ld\n", (long)v1, (long)v2, (long)v3);
  fflush(stdout);
  fx_ok(pthread_create(&t4, NULL, t4_fn, NULL), "create t4");
  fx_info("t1=0x%lx t2=0x%lx t3=0x%lx t4=0x%lx main_tid=%d", (unsigned long)t1, (unsigned long)t2, (unsigned long)t3,
          (unsigned long)t4, (int)main_tid);
  fflush(stderr);
  pthread_exit(NULL);
}
