/* fx-forktree.c - fork two children: one execs, one _exits; waitpid both.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-forktree
 * The parent does 1 lock pair on `mutex`, then forks:
 *   child 1 execs this program as "fx-forktree exec-child 5"; the new image
 *     does 3 lock pairs and calls exit(5) (64 + errno instead if errno was not 0 when
 *     main started: the agent's start in the new image, which finds PID.0.wtrace
 *     taken, must not leave its EEXIST behind);
 *   child 2 does 2 lock pairs, tries to exec a path that does not exist
 *     (ENOENT) and calls _exit(7).
 * The parent waitpids child 1, then child 2, and returns from main.
 * Expected files: P.0 (ppid = our parent), C1.0 (ppid P, ends with EXEC),
 * C1.1 (image 1, PROCESS_INFO argv exec-child 5, EXIT how=exit status=5),
 * C2.0 (ppid P, EXEC then EXEC_FAILED errno=ENOENT, EXIT how=_exit status=7).
 * The parent has FORK child=C1 and
 * child=C2, and WAIT_END kind=child for both (status 5<<8 and 7<<8).
 * stderr: fx: parent=P child1=C1 child2=C2 exe=PATH
 */
#include "fx-common.h"

#include <limits.h>
#include <sys/wait.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

static void lock_pairs(int n) {
  for (int i = 0; i < n; i++) {
    fx_ok(pthread_mutex_lock(&mutex), "lock");
    fx_ok(pthread_mutex_unlock(&mutex), "unlock");
  }
}

int main(int argc, char **argv) {
  int errno_at_start = errno; /* 0: a preloaded agent must not leave its own there */
  if (argc >= 3 && strcmp(argv[1], "exec-child") == 0) {
    lock_pairs(3);
    exit(errno_at_start ? 64 + errno_at_start % 64 : atoi(argv[2]));
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) fx_die("readlink /proc/self/exe", errno);
  exe[n] = 0;
  lock_pairs(1);
  fflush(NULL);
  pid_t c1 = fork();
  if (c1 < 0) fx_die("fork", errno);
  if (c1 == 0) {
    execl(exe, "fx-forktree", "exec-child", "5", (char *)NULL);
    _exit(127);
  }
  errno = ENOTTY; /* a successful fork leaves errno alone, in the child too (agent included) */
  pid_t c2 = fork();
  if (c2 < 0) fx_die("fork", errno);
  if (c2 > 0 && errno != ENOTTY) fx_die("errno changed by a successful fork, in the parent", errno);
  if (c2 == 0) {
    if (errno != ENOTTY) _exit(9);
    lock_pairs(2);
    execl("/nonexistent/weft-fx-no-such-program", "nothing", (char *)NULL);
    _exit(7);
  }
  int s1 = 0, s2 = 0;
  if (waitpid(c1, &s1, 0) != c1) fx_die("waitpid c1", errno);
  if (waitpid(c2, &s2, 0) != c2) fx_die("waitpid c2", errno);
  fx_info("parent=%d child1=%d child2=%d exe=%s", (int)getpid(), (int)c1, (int)c2, exe);
  printf("forktree child1=%d child2=%d\n", WIFEXITED(s1) ? WEXITSTATUS(s1) : -1, WIFEXITED(s2) ? WEXITSTATUS(s2) : -1);
  return 0;
}
