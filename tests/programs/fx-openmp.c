/* fx-openmp.c - OpenMP parallel regions (gcc -fopenmp, libgomp) with known
 * structure: an unbalanced team, a serial phase between regions, a
 * worksharing loop and an explicit barrier.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-openmp [REGIONS=4] [UNITS=20000] [CRITICAL=0]
 * Each of REGIONS rounds: main runs UNITS of serial work (fx_scale_work,
 * about 20 ms by default), then the unbalanced region (`#pragma omp
 * parallel num_threads(2)`, the line marked UNBALANCED): thread 0 (main)
 * does UNITS of work, thread 1 does 3 * UNITS, so main waits at the end of
 * the region for about two thirds of it. Then once, the loop region (marked
 * LOOP): 2 threads, 8 iterations of UNITS / 4 work with schedule(dynamic),
 * the loop's implicit barrier (GOMP_loop_end), an explicit `#pragma omp
 * barrier`, then the region's end. With CRITICAL = K > 0, last, a region
 * of 2 threads that each enter an unnamed `#pragma omp critical` K times
 * and `#pragma omp critical (hot)` K times and take the OpenMP lock `lk` K
 * times, with UNITS / 100 of work inside each (so they wait for each
 * other: how often depends on the machine), and the nested lock `nl`
 * twice (a second time while they hold it) K times; one of them makes one task.
 * Expected, under the agent: the unbalanced region's barrier (its outlined
 * function's address) has 2 * REGIONS waits, a round of 2 each, thread 1
 * the last to arrive; the loop region's barrier 6 waits (3 rounds of 2); the
 * dock of main's team: REGIONS + 1 broadcasts, and thread 1 waits there
 * between the regions (REGIONS waits, the last one until the exit); with
 * CRITICAL = K, each critical section and `lk` acquired exactly 2 * K times, `nl` 4 * K times.
 * stdout: "fx-openmp regions=R threads=2 loop=8 critical=2K,2K lock=2K nest=2K"
 * stderr: "fx: main_tid=T unbalanced_line=N loop_line=N"
 */
#include <omp.h>

#include "fx-scale-common.h"

static volatile uint64_t sink;
static int unbalanced_line, loop_line;
static omp_lock_t lk;
static omp_nest_lock_t nl;

int main(int argc, char **argv) {
  long regions = fx_arg(argc, argv, 1, 4);
  long units = fx_arg(argc, argv, 2, 20000);
  long crit = fx_arg(argc, argv, 3, 0);
  int threads = 0;
  for (long r = 0; r < regions; r++) {
    sink += fx_scale_work(units); /* the serial phase */
    unbalanced_line = __LINE__ + 1;
#pragma omp parallel num_threads(2) /* UNBALANCED */
    {
      int me = omp_get_thread_num();
      sink += fx_scale_work(me == 0 ? units : 3 * units);
      if (me == 0) threads = omp_get_num_threads();
    }
  }
  int done = 0;
  loop_line = __LINE__ + 1;
#pragma omp parallel num_threads(2) /* LOOP */
  {
#pragma omp for schedule(dynamic) reduction(+ : done)
    for (int i = 0; i < 8; i++) {
      sink += fx_scale_work(units / 4);
      done++;
    }
#pragma omp barrier
  }
  long in_default = 0, in_hot = 0, in_lk = 0, in_nl = 0;
  if (crit > 0) {
    omp_init_lock(&lk);
    omp_init_nest_lock(&nl);
    long tasks = 0;
#pragma omp parallel num_threads(2)
    {
      /* one task (made by one thread, no barrier after it): the report says tasks were made */
#pragma omp single nowait
#pragma omp task shared(tasks)
      tasks++;
      for (long k = 0; k < crit; k++) {
#pragma omp critical
        {
          sink += fx_scale_work(units / 100);
          in_default++;
        }
#pragma omp critical(hot)
        {
          sink += fx_scale_work(units / 100);
          in_hot++;
        }
        omp_set_lock(&lk);
        sink += fx_scale_work(units / 100);
        in_lk++;
        omp_unset_lock(&lk);
        omp_set_nest_lock(&nl); /* twice: its owner takes it again */
        omp_set_nest_lock(&nl);
        in_nl++;
        omp_unset_nest_lock(&nl);
        omp_unset_nest_lock(&nl);
      }
    }
    omp_destroy_lock(&lk);
    omp_destroy_nest_lock(&nl);
  }
  fx_info("main_tid=%d unbalanced_line=%d loop_line=%d", (int)fx_tid(), unbalanced_line, loop_line);
  printf("fx-openmp regions=%ld threads=%d loop=%d critical=%ld,%ld lock=%ld nest=%ld\n", regions, threads, done,
         in_default, in_hot, in_lk, in_nl);
  return 0;
}
