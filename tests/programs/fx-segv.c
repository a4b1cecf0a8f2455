/* fx-segv.c - N lock pairs, then a store to a PROT_NONE page (dies of SIGSEGV).
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-segv [N=500]
 * Core dumps are turned off (RLIMIT_CORE 0) so no core file is left behind.
 * Expected: killed by SIGSEGV with and without the agent; the recording reads
 * cleanly and holds the N ACQ and N REL on `mutex`.
 * stderr: fx: mutex=ADDR
 */
#include "fx-common.h"

#include <sys/mman.h>
#include <sys/resource.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv) {
  long n = fx_arg(argc, argv, 1, 500);
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  for (long i = 0; i < n; i++) {
    fx_ok(pthread_mutex_lock(&mutex), "lock");
    fx_ok(pthread_mutex_unlock(&mutex), "unlock");
  }
  fx_info("mutex=%p", (void *)&mutex);
  printf("crashing after %ld\n", n);
  fflush(NULL);
  /* not NULL: the compiler may drop a store it can prove undefined */
  volatile int *nowhere = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (nowhere == (volatile int *)MAP_FAILED) fx_die("mmap", errno);
  *nowhere = 1;
  fx_die("the store to a PROT_NONE page did not fault", 0);
}
