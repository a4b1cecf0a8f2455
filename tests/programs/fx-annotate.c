/* fx-annotate.c - a program that names its lock and marks its phases through weft.h.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-annotate [N=10]
 * Names `lock` "work queue", runs phase 1 ("setup") and phase 2 ("work", N
 * lock pairs) and one instant mark "halfway". Runs the same without the agent.
 * stderr: fx: lock=ADDR
 */
#include "fx-common.h"

#include <weft.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10;
  fx_info("lock=%p", (void *)&lock);
  weft_name(&lock, "work queue");
  weft_phase_begin(1, "setup");
  pthread_mutex_lock(&lock);
  pthread_mutex_unlock(&lock);
  weft_phase_end(1);
  weft_phase_begin(2, "work");
  for (int i = 0; i < n; i++) {
    if (i == n / 2) weft_mark("halfway");
    pthread_mutex_lock(&lock);
    pthread_mutex_unlock(&lock);
  }
  weft_phase_end(2);
  printf("annotate pairs=%d\n", n + 1);
  return 0;
}
