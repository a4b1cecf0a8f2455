/* fx-rwlock.c - readers and writers with known numbers of lock calls.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-rwlock [READERS=3] [RD_EACH=200] [WRITERS=2] [WR_EACH=100] [K=5]
 * Phase 1: READERS threads each rdlock/unlock `lock` RD_EACH times while
 * WRITERS threads each wrlock/unlock it WR_EACH times (the counts of each
 * kind are exact; which calls wait is not).
 * Phase 2: K rounds in which the main thread write-holds the lock while the
 * reader thread is known to be blocked in pthread_rwlock_rdlock (glibc counts
 * a reader in __readers >> 3 before it sleeps): K contended read locks with
 * holder = main_tid, in the thread contender_tid.
 * Phase 3 (main): rdlock; trywrlock -> EBUSY; tryrdlock -> 0; unlock twice;
 * wrlock; wrlock again -> EDEADLK; rdlock -> EDEADLK; unlock (a thread
 * relocking what it holds fails at once: that is no wait).
 * Totals on `lock`: read acquisitions READERS*RD_EACH + K + 2 (the tryrdlock
 * included); write acquisitions WRITERS*WR_EACH + K + 1; with WEFT_HOLDS=all
 * REL rwlock_rd READERS*RD_EACH + K + 1 (the unlock of the tryrdlock taken
 * inside main's rdlock releases nothing) and REL rwlock_wr WRITERS*WR_EACH +
 * K + 1; two results EDEADLK.
 * stderr: fx: lock=ADDR main_tid=T contender_tid=T
 */
#include "fx-common.h"

#include <semaphore.h>
#include <stdatomic.h>

static pthread_rwlock_t lock;
static long rd_each, wr_each, k_rounds;
static long value, reads_seen;
static _Atomic long reads_done;
static sem_t go, done;
static _Atomic pid_t contender_tid;

static void *reader(void *arg) {
  (void)arg;
  for (long i = 0; i < rd_each; i++) {
    fx_ok(pthread_rwlock_rdlock(&lock), "rdlock");
    atomic_fetch_add(&reads_done, value >= 0);
    fx_ok(pthread_rwlock_unlock(&lock), "rd unlock");
  }
  return NULL;
}

static void *writer(void *arg) {
  (void)arg;
  for (long i = 0; i < wr_each; i++) {
    fx_ok(pthread_rwlock_wrlock(&lock), "wrlock");
    value++;
    fx_ok(pthread_rwlock_unlock(&lock), "wr unlock");
  }
  return NULL;
}

static void *contender(void *arg) {
  (void)arg;
  atomic_store(&contender_tid, fx_tid());
  for (long i = 0; i < k_rounds; i++) {
    while (sem_wait(&go) != 0) {}
    fx_ok(pthread_rwlock_rdlock(&lock), "contended rdlock");
    reads_seen++;
    fx_ok(pthread_rwlock_unlock(&lock), "contended unlock");
    sem_post(&done);
  }
  return NULL;
}

int main(int argc, char **argv) {
  long nr = fx_arg(argc, argv, 1, 3);
  rd_each = fx_arg(argc, argv, 2, 200);
  long nw = fx_arg(argc, argv, 3, 2);
  wr_each = fx_arg(argc, argv, 4, 100);
  k_rounds = fx_arg(argc, argv, 5, 5);
  if (nr + nw > 64) fx_die("at most 64 threads", EINVAL);
  pthread_t th[64];
  fx_ok(pthread_rwlock_init(&lock, NULL), "rwlock_init");

  /* phase 1 */
  long n = 0;
  for (long i = 0; i < nr; i++) fx_ok(pthread_create(&th[n++], NULL, reader, NULL), "create");
  for (long i = 0; i < nw; i++) fx_ok(pthread_create(&th[n++], NULL, writer, NULL), "create");
  for (long i = 0; i < n; i++) fx_ok(pthread_join(th[i], NULL), "join");

  /* phase 2 */
  if (sem_init(&go, 0, 0) != 0 || sem_init(&done, 0, 0) != 0) fx_die("sem_init", errno);
  pthread_t ct;
  fx_ok(pthread_create(&ct, NULL, contender, NULL), "create");
  for (long i = 0; i < k_rounds; i++) {
    fx_ok(pthread_rwlock_wrlock(&lock), "main wrlock");
    sem_post(&go);
    FX_WAIT_UNTIL((__atomic_load_n(&lock.__data.__readers, __ATOMIC_ACQUIRE) >> 3) != 0,
                  "reader never queued on the rwlock");
    fx_ok(pthread_rwlock_unlock(&lock), "main wr unlock");
    while (sem_wait(&done) != 0) {}
  }
  fx_ok(pthread_join(ct, NULL), "join");

  /* phase 3 */
  fx_ok(pthread_rwlock_rdlock(&lock), "main rdlock");
  int try_wr = pthread_rwlock_trywrlock(&lock);
  int try_rd = pthread_rwlock_tryrdlock(&lock);
  if (try_rd == 0) fx_ok(pthread_rwlock_unlock(&lock), "unlock");
  fx_ok(pthread_rwlock_unlock(&lock), "unlock");
  fx_ok(pthread_rwlock_wrlock(&lock), "main wrlock");
  int wr_relock = pthread_rwlock_wrlock(&lock);
  int rd_in_wr = pthread_rwlock_rdlock(&lock);
  fx_ok(pthread_rwlock_unlock(&lock), "unlock");
  fx_ok(pthread_rwlock_destroy(&lock), "rwlock_destroy");

  fx_info("lock=%p main_tid=%d contender_tid=%d", (void *)&lock, (int)fx_tid(), (int)atomic_load(&contender_tid));
  printf("rwlock reads=%ld writes=%ld contended_reads=%ld trywrlock=%s tryrdlock=%s\n", atomic_load(&reads_done), value,
         reads_seen, fx_errname(try_wr), fx_errname(try_rd));
  printf("rwlock relock=%s rdlock_in_wrlock=%s\n", fx_errname(wr_relock), fx_errname(rd_in_wr));
  return 0;
}
