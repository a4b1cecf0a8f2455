/* fx-oversub.c - more runnable threads than CPUs, taking two mutexes.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-oversub [THREADS=4] [ROUNDS=10000]
 * The process pins itself to one CPU (the first it may use), so its threads
 * always outnumber the CPUs. THREADS workers each do ROUNDS rounds: take
 * mutex (round % 2), some work, release, a quarter of that work outside.
 * A woken waiter then waits for the CPU inside its lock wait. Meanwhile
 * main sleeps 100 ms with usleep (a sleep: recorded without WEFT_IO), then
 * joins the workers.
 * Expected: every worker's useful (on-CPU) time is its schedstat CPU time,
 * none of it 0; all useful time together fits in one CPU x the run; main's
 * useful time is a few ms, not its 100 ms asleep.
 * stdout: "oversub threads=N rounds=R sum=..." ; stderr: fx: main_tid=T cpu=C
 */
#include "fx-scale-common.h"

#include <sched.h>

static pthread_mutex_t locks[2] = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER};
static long rounds;
static uint64_t sums[2];

static void *worker(void *arg) {
  uint64_t mine = (uint64_t)(uintptr_t)arg;
  for (long r = 0; r < rounds; r++) {
    pthread_mutex_t *m = &locks[r % 2];
    fx_ok(pthread_mutex_lock(m), "lock");
    sums[r % 2] += fx_scale_work(4);
    fx_ok(pthread_mutex_unlock(m), "unlock");
    mine ^= fx_scale_work(1);
  }
  return (void *)(uintptr_t)mine;
}

int main(int argc, char **argv) {
  long n = fx_arg(argc, argv, 1, 4);
  rounds = fx_arg(argc, argv, 2, 10000);
  if (n < 1 || n > 256 || rounds < 1) {
    fprintf(stderr, "fx: error: THREADS must be 1..256, ROUNDS >= 1\n");
    return 2;
  }
  cpu_set_t set;
  int cpu = -1;
  if (sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE && cpu < 0; c++)
      if (CPU_ISSET(c, &set)) cpu = c;
  if (cpu >= 0) {
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) fx_die("sched_setaffinity", errno);
  }
  pthread_t th[256];
  for (long i = 0; i < n; i++) fx_ok(pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)i), "pthread_create");
  if (usleep(100000) != 0) fx_die("usleep", errno);
  uint64_t x = 0;
  for (long i = 0; i < n; i++) {
    void *r;
    fx_ok(pthread_join(th[i], &r), "pthread_join");
    x ^= (uint64_t)(uintptr_t)r;
  }
  fx_info("main_tid=%d cpu=%d", (int)fx_tid(), cpu);
  printf("oversub threads=%ld rounds=%ld sum=%llx\n", n, rounds, (unsigned long long)(x ^ sums[0] ^ sums[1]));
  return 0;
}
