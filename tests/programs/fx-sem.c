/* fx-sem.c - unnamed and named POSIX semaphores with known call counts.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-sem [N=200]
 * Unnamed: `items` starts at 0; a producer thread posts it N times and the
 * main thread waits on it N times (each wait is an ACQ if the try succeeded,
 * else WAIT_BEGIN/WAIT_END). Then on the empty semaphore: sem_trywait ->
 * EAGAIN and sem_timedwait (20 ms) -> ETIMEDOUT. `three` starts at 3 and is
 * waited on 3 times (never blocking: 3 ACQ) and posted 3 times.
 * Named: sem_open(NAME, O_CREAT|O_EXCL, 0600, 2); 2 waits (2 ACQ), 1 post;
 * sem_close; sem_unlink; then sem_open(NAME) without O_CREAT fails (ENOENT).
 * stderr: fx: items=ADDR three=ADDR named=ADDR name=NAME producer_tid=T
 */
#include "fx-common.h"

#include <fcntl.h>
#include <semaphore.h>
#include <stdatomic.h>

static sem_t items, three;
static long n_items;
static _Atomic pid_t producer_tid;

static void *producer(void *arg) {
  (void)arg;
  atomic_store(&producer_tid, fx_tid());
  for (long i = 0; i < n_items; i++) {
    if (sem_post(&items) != 0) fx_die("sem_post", errno);
    if (i % 16 == 0) fx_sleep_us(50); /* let the consumer block now and then */
  }
  return NULL;
}

int main(int argc, char **argv) {
  n_items = fx_arg(argc, argv, 1, 200);
  pthread_t th;
  if (sem_init(&items, 0, 0) != 0 || sem_init(&three, 0, 3) != 0) fx_die("sem_init", errno);
  fx_ok(pthread_create(&th, NULL, producer, NULL), "pthread_create");
  long got = 0;
  for (long i = 0; i < n_items; i++) {
    while (sem_wait(&items) != 0)
      if (errno != EINTR) fx_die("sem_wait", errno);
    got++;
  }
  fx_ok(pthread_join(th, NULL), "pthread_join");
  int try_r = sem_trywait(&items) == 0 ? 0 : errno;
  struct timespec dl = fx_deadline(CLOCK_REALTIME, 20);
  int timed_r;
  while ((timed_r = sem_timedwait(&items, &dl) == 0 ? 0 : errno) == EINTR) {}
  for (int i = 0; i < 3; i++)
    if (sem_wait(&three) != 0) fx_die("sem_wait three", errno);
  for (int i = 0; i < 3; i++) sem_post(&three);
  sem_destroy(&three);
  sem_destroy(&items);

  char name[64];
  snprintf(name, sizeof name, "/weft-fx-sem-%d", (int)getpid());
  sem_t *named = sem_open(name, O_CREAT | O_EXCL, 0600, 2);
  if (named == SEM_FAILED) fx_die("sem_open", errno);
  for (int i = 0; i < 2; i++)
    if (sem_wait(named) != 0) fx_die("sem_wait named", errno);
  sem_post(named);
  int value = -1;
  sem_getvalue(named, &value);
  fx_info("items=%p three=%p named=%p name=%s producer_tid=%d", (void *)&items, (void *)&three, (void *)named, name,
          (int)atomic_load(&producer_tid));
  if (sem_close(named) != 0) fx_die("sem_close", errno);
  if (sem_unlink(name) != 0) fx_die("sem_unlink", errno);
  sem_t *again = sem_open(name, 0);
  int again_r = again == SEM_FAILED ? errno : 0;
  printf("sem waits=%ld trywait=%s timedwait=%s named_value=%d reopen=%s\n", got, fx_errname(try_r),
         fx_errname(timed_r), value, fx_errname(again_r));
  return 0;
}
