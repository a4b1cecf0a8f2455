/* fx-early.c - pthread calls made by a library constructor before main (see fx-early-lib.c).
 * SPDX-License-Identifier: MIT
 *
 * Prints "early sum=42" if the constructor's thread, lock, condvar and join
 * all worked; then does N lock pairs of its own so a recording has content.
 *   usage: fx-early [N]
 */
#include "fx-common.h"

extern int fx_early_sum;

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10;
  static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  for (int i = 0; i < n; i++) {
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
  }
  printf("early sum=%d pairs=%d\n", fx_early_sum, n);
  return 0;
}
