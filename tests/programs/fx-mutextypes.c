/* fx-mutextypes.c - mutex types, error results, timed and clock variants, spinlocks.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-mutextypes
 * rec (RECURSIVE): lock x3, unlock x3 (3 ACQ res=0, 3 REL).
 * ec (ERRORCHECK): lock; lock again -> EDEADLK; timedlock -> EDEADLK (neither
 *   is a wait: ACQ res=EDEADLK); unlock; unlock again -> EPERM;
 *   main locks, thread B unlocks -> EPERM; main unlocks.
 * rob (ROBUST): thread C locks it and returns; main's lock -> EOWNERDEAD;
 *   pthread_mutex_consistent; unlock.
 * tm (default): thread D holds it; main: timedlock (20 ms) -> ETIMEDOUT,
 *   clocklock(CLOCK_MONOTONIC, 20 ms) -> ETIMEDOUT, trylock -> EBUSY (waits
 *   with holder = D's tid); D unlocks and ends; timedlock -> 0, clocklock -> 0.
 * spin: lock/unlock x5; lock, trylock -> EBUSY, unlock.
 * cm + cv: cond_timedwait (10 ms) -> ETIMEDOUT, cond_clockwait (10 ms) -> ETIMEDOUT.
 * All mutexes are destroyed at the end.
 * stderr: fx: rec=ADDR ec=ADDR rob=ADDR tm=ADDR spin=ADDR cm=ADDR cv=ADDR main_tid=T
 *             unlocker_tid=T holder_tid=T
 */
#include "fx-common.h"

#include <semaphore.h>
#include <stdatomic.h>

static pthread_mutex_t rec, ec, rob, tm, cm;
static pthread_cond_t cv;
static pthread_spinlock_t spin;
static sem_t held, go;
static _Atomic pid_t unlocker_tid, holder_tid;
static int b_unlock_r = -1;

static void *unlocker(void *arg) {
  (void)arg;
  atomic_store(&unlocker_tid, fx_tid());
  b_unlock_r = pthread_mutex_unlock(&ec);
  return NULL;
}

static void *robust_owner(void *arg) {
  (void)arg;
  fx_ok(pthread_mutex_lock(&rob), "robust lock");
  return NULL; /* dies holding it */
}

static void *holder(void *arg) {
  (void)arg;
  atomic_store(&holder_tid, fx_tid());
  fx_ok(pthread_mutex_lock(&tm), "holder lock");
  sem_post(&held);
  while (sem_wait(&go) != 0) {}
  fx_ok(pthread_mutex_unlock(&tm), "holder unlock");
  return NULL;
}

static void init_mutex(pthread_mutex_t *m, int type, int robust) {
  pthread_mutexattr_t a;
  fx_ok(pthread_mutexattr_init(&a), "mutexattr_init");
  fx_ok(pthread_mutexattr_settype(&a, type), "settype");
  if (robust) fx_ok(pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST), "setrobust");
  fx_ok(pthread_mutex_init(m, &a), "mutex_init");
  pthread_mutexattr_destroy(&a);
}

int main(void) {
  pthread_t th;
  init_mutex(&rec, PTHREAD_MUTEX_RECURSIVE, 0);
  init_mutex(&ec, PTHREAD_MUTEX_ERRORCHECK, 0);
  init_mutex(&rob, PTHREAD_MUTEX_NORMAL, 1);
  fx_ok(pthread_mutex_init(&tm, NULL), "mutex_init tm");
  fx_ok(pthread_mutex_init(&cm, NULL), "mutex_init cm");
  fx_ok(pthread_cond_init(&cv, NULL), "cond_init");
  fx_ok(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE), "spin_init");
  if (sem_init(&held, 0, 0) != 0 || sem_init(&go, 0, 0) != 0) fx_die("sem_init", errno);

  /* recursive */
  for (int i = 0; i < 3; i++) fx_ok(pthread_mutex_lock(&rec), "rec lock");
  for (int i = 0; i < 3; i++) fx_ok(pthread_mutex_unlock(&rec), "rec unlock");

  /* error-checking */
  fx_ok(pthread_mutex_lock(&ec), "ec lock");
  int ec_relock = pthread_mutex_lock(&ec);
  struct timespec ec_dl = fx_deadline(CLOCK_REALTIME, 1000);
  int ec_timed_relock = pthread_mutex_timedlock(&ec, &ec_dl);
  fx_ok(pthread_mutex_unlock(&ec), "ec unlock");
  int ec_unlock2 = pthread_mutex_unlock(&ec);
  fx_ok(pthread_mutex_lock(&ec), "ec lock 2");
  fx_ok(pthread_create(&th, NULL, unlocker, NULL), "create unlocker");
  fx_ok(pthread_join(th, NULL), "join unlocker");
  fx_ok(pthread_mutex_unlock(&ec), "ec unlock 2");

  /* robust */
  fx_ok(pthread_create(&th, NULL, robust_owner, NULL), "create robust owner");
  fx_ok(pthread_join(th, NULL), "join robust owner");
  int rob_r = pthread_mutex_lock(&rob);
  if (rob_r == EOWNERDEAD) fx_ok(pthread_mutex_consistent(&rob), "consistent");
  if (rob_r == 0 || rob_r == EOWNERDEAD) fx_ok(pthread_mutex_unlock(&rob), "rob unlock");

  /* timed and clock variants against a holder */
  fx_ok(pthread_create(&th, NULL, holder, NULL), "create holder");
  while (sem_wait(&held) != 0) {}
  struct timespec dl = fx_deadline(CLOCK_REALTIME, 20);
  int timed1 = pthread_mutex_timedlock(&tm, &dl);
  dl = fx_deadline(CLOCK_MONOTONIC, 20);
  int clock1 = pthread_mutex_clocklock(&tm, CLOCK_MONOTONIC, &dl);
  int try1 = pthread_mutex_trylock(&tm);
  sem_post(&go);
  fx_ok(pthread_join(th, NULL), "join holder");
  dl = fx_deadline(CLOCK_REALTIME, 1000);
  int timed2 = pthread_mutex_timedlock(&tm, &dl);
  if (timed2 == 0) fx_ok(pthread_mutex_unlock(&tm), "tm unlock");
  dl = fx_deadline(CLOCK_MONOTONIC, 1000);
  int clock2 = pthread_mutex_clocklock(&tm, CLOCK_MONOTONIC, &dl);
  if (clock2 == 0) fx_ok(pthread_mutex_unlock(&tm), "tm unlock");

  /* spinlock */
  for (int i = 0; i < 5; i++) {
    fx_ok(pthread_spin_lock(&spin), "spin lock");
    fx_ok(pthread_spin_unlock(&spin), "spin unlock");
  }
  fx_ok(pthread_spin_lock(&spin), "spin lock");
  int spin_try = pthread_spin_trylock(&spin);
  fx_ok(pthread_spin_unlock(&spin), "spin unlock");
  fx_ok(pthread_spin_destroy(&spin), "spin destroy");

  /* condvar timeouts */
  fx_ok(pthread_mutex_lock(&cm), "cm lock");
  dl = fx_deadline(CLOCK_REALTIME, 10);
  int cond_timed;
  while ((cond_timed = pthread_cond_timedwait(&cv, &cm, &dl)) == 0) {}
  dl = fx_deadline(CLOCK_MONOTONIC, 10);
  int cond_clock;
  while ((cond_clock = pthread_cond_clockwait(&cv, &cm, CLOCK_MONOTONIC, &dl)) == 0) {}
  fx_ok(pthread_mutex_unlock(&cm), "cm unlock");

  fx_info("rec=%p ec=%p rob=%p tm=%p spin=%p cm=%p cv=%p main_tid=%d unlocker_tid=%d "
          "holder_tid=%d",
          (void *)&rec, (void *)&ec, (void *)&rob, (void *)&tm, (void *)&spin, (void *)&cm, (void *)&cv, (int)fx_tid(),
          (int)atomic_load(&unlocker_tid), (int)atomic_load(&holder_tid));
  pthread_cond_destroy(&cv);
  pthread_mutex_destroy(&rec);
  pthread_mutex_destroy(&ec);
  pthread_mutex_destroy(&rob);
  pthread_mutex_destroy(&tm);
  pthread_mutex_destroy(&cm);
  printf("mutextypes errorcheck=%s,%s,%s,%s robust=%s\n", fx_errname(ec_relock), fx_errname(ec_timed_relock),
         fx_errname(ec_unlock2), fx_errname(b_unlock_r), fx_errname(rob_r));
  printf("mutextypes timed=%s,%s,%s after=%s,%s spin_try=%s cond=%s,%s\n", fx_errname(timed1), fx_errname(clock1),
         fx_errname(try1), fx_errname(timed2), fx_errname(clock2), fx_errname(spin_try), fx_errname(cond_timed),
         fx_errname(cond_clock));
  return 0;
}
