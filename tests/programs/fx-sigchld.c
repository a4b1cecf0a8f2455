/* fx-sigchld.c - the textbook SIGCHLD handler: a blocking wait() inside it.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-sigchld [vfork]
 * The parent installs a SIGCHLD handler, on_sigchld, that calls wait()
 * (blocking: it knows a child ended), forks a child that reads a pipe until
 * the parent closes it and then _exits(3). Between the fork and closing the
 * pipe the parent notes whether libunwind is mapped into it (a preloaded
 * agent that takes stacks loads it at the fork, so that the wait inside the
 * handler never loads it there: dlopen's malloc inside a handler that
 * interrupted the program's malloc corrupts the heap). Then it waits in
 * sigsuspend until the handler has reaped the child. With "vfork" the child
 * is made by vfork (which the agent does not see) and _exits(3) at once;
 * after the handler has reaped it the parent notes whether libunwind is
 * mapped (the agent must not have loaded it inside the handler).
 * stdout: sigchld status=3
 * stderr: fx: child=C unwind_after_fork=yes|no (fork) or unwind_after_handler=yes|no (vfork)
 */
#include "fx-common.h"

#include <signal.h>
#include <sys/wait.h>

static volatile sig_atomic_t reaped, status_seen = -1;

static void __attribute__((noinline)) on_sigchld(int sig) {
  (void)sig;
  int e = errno, st = 0;
  pid_t p = wait(&st);
  if (p > 0) {
    status_seen = WIFEXITED(st) ? WEXITSTATUS(st) : -2;
    reaped = 1;
  }
  errno = e;
}

static int unwind_mapped(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) fx_die("open /proc/self/maps", errno);
  char line[4096];
  int found = 0;
  while (fgets(line, sizeof line, f))
    if (strstr(line, "libunwind")) found = 1;
  fclose(f);
  return found;
}

int main(int argc, char **argv) {
  int use_vfork = argc >= 2 && !strcmp(argv[1], "vfork");
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigchld;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGCHLD, &sa, NULL) != 0) fx_die("sigaction", errno);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &block, &old) != 0) fx_die("sigprocmask", errno);
  if (use_vfork) {
    fflush(NULL);
    pid_t c = vfork();
    if (c < 0) fx_die("vfork", errno);
    if (c == 0) _exit(3);
    while (!reaped) sigsuspend(&old); /* the handler's wait: the first stack of this process */
    fx_info("child=%d unwind_after_handler=%s", (int)c, unwind_mapped() ? "yes" : "no");
    printf("sigchld status=%d\n", (int)status_seen);
    return 0;
  }
  int fd[2];
  if (pipe(fd) != 0) fx_die("pipe", errno);
  fflush(NULL);
  pid_t c = fork();
  if (c < 0) fx_die("fork", errno);
  if (c == 0) {
    close(fd[1]);
    char b;
    while (read(fd[0], &b, 1) > 0) {}
    _exit(3);
  }
  close(fd[0]);
  int mapped = unwind_mapped();
  close(fd[1]);                     /* the child ends */
  while (!reaped) sigsuspend(&old); /* SIGCHLD is delivered only here */
  fx_info("child=%d unwind_after_fork=%s", (int)c, mapped ? "yes" : "no");
  printf("sigchld status=%d\n", (int)status_seen);
  return 0;
}
