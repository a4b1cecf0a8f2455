/* fx-io.c - blocking reads, polls and sleeps (the WEFT_IO=1 category).
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-io [sleep]
 * main: poll on the empty pipe with a 15 ms timeout (returns 0); nanosleep
 * 10 ms; read from the pipe, which blocks until the writer thread, after a
 * 20 ms nanosleep and a 5 ms usleep, writes 5 bytes.
 * Expected with WEFT_IO=1: one wait kind=poll obj=RFD (>= 14 ms), one kind=read
 * obj=RFD bytes=5 (main), three kind=sleep (10 ms in main, 20 ms and 5 ms in
 * the writer). Without WEFT_IO: the three sleeps only (sleeps are always
 * recorded).
 * With "sleep": main calls sleep(1) and exits (one kind=sleep, >= 1 s).
 * stderr: fx: rfd=N main_tid=T writer_tid=T
 */
#include "fx-common.h"

#include <poll.h>
#include <semaphore.h>
#include <stdatomic.h>

static int fds[2];
static sem_t start;
static _Atomic pid_t writer_tid;

static void *writer(void *arg) {
  (void)arg;
  atomic_store(&writer_tid, fx_tid());
  while (sem_wait(&start) != 0) {}
  struct timespec ts = {0, 20 * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {}
  if (usleep(5000) != 0) fx_die("usleep", errno);
  if (write(fds[1], "hello", 5) != 5) fx_die("write", errno);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "sleep") == 0) {
    unsigned left = sleep(1);
    fx_info("main_tid=%d", (int)fx_tid());
    printf("io slept left=%u\n", left);
    return 0;
  }
  pthread_t th;
  if (pipe(fds) != 0) fx_die("pipe", errno);
  if (sem_init(&start, 0, 0) != 0) fx_die("sem_init", errno);
  fx_ok(pthread_create(&th, NULL, writer, NULL), "pthread_create");
  struct pollfd p = {fds[0], POLLIN, 0};
  int pr = poll(&p, 1, 15);
  struct timespec ts = {0, 10 * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {}
  sem_post(&start);
  char buf[16];
  ssize_t n = read(fds[0], buf, sizeof buf);
  fx_ok(pthread_join(th, NULL), "pthread_join");
  fx_info("rfd=%d main_tid=%d writer_tid=%d", fds[0], (int)fx_tid(), (int)atomic_load(&writer_tid));
  printf("io poll=%d read=%zd data=%.*s\n", pr, n, n > 0 ? (int)n : 0, buf);
  return 0;
}
