/* fx-vfork.c - vfork + exec, and vfork + failed exec + _exit.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-vfork
 * Child 1 (vfork) execs this program as "fx-vfork exec-child", which does 2
 * lock pairs and calls exit(4). Child 2 (vfork) execs a path that does not
 * exist and calls _exit(9). The parent waitpids both.
 * Expected: files P.0 and C1.0 (the exec'd image; ppid P); no file for C2
 * (it never ran an image of its own). The parent's file has no EXEC,
 * EXEC_FAILED or _exit record (the vfork children must not write into it)
 * and WAIT_END kind=child for both (status 4<<8 and 9<<8).
 * stderr: fx: parent=P child1=C1 child2=C2 exe=PATH
 */
#include "fx-common.h"

#include <limits.h>
#include <sys/wait.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "exec-child") == 0) {
    for (int i = 0; i < 2; i++) {
      fx_ok(pthread_mutex_lock(&mutex), "lock");
      fx_ok(pthread_mutex_unlock(&mutex), "unlock");
    }
    exit(4);
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) fx_die("readlink /proc/self/exe", errno);
  exe[n] = 0;
  fflush(NULL);
  pid_t c1 = vfork();
  if (c1 < 0) fx_die("vfork", errno);
  if (c1 == 0) {
    execl(exe, "fx-vfork", "exec-child", (char *)NULL);
    _exit(127);
  }
  pid_t c2 = vfork();
  if (c2 < 0) fx_die("vfork", errno);
  if (c2 == 0) {
    execl("/nonexistent/weft-fx-no-such-program", "nothing", (char *)NULL);
    _exit(9);
  }
  int s1 = 0, s2 = 0;
  if (waitpid(c1, &s1, 0) != c1) fx_die("waitpid c1", errno);
  if (waitpid(c2, &s2, 0) != c2) fx_die("waitpid c2", errno);
  fx_info("parent=%d child1=%d child2=%d exe=%s", (int)getpid(), (int)c1, (int)c2, exe);
  printf("vfork child1=%d child2=%d\n", WIFEXITED(s1) ? WEXITSTATUS(s1) : -1, WIFEXITED(s2) ? WEXITSTATUS(s2) : -1);
  return 0;
}
