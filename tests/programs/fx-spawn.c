/* fx-spawn.c - posix_spawn of a traced child, and a posix_spawnp that fails.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-spawn
 * posix_spawn runs this program as "fx-spawn child", which does 1 lock pair
 * and calls exit(6); posix_spawnp of a name that is on no PATH fails with
 * ENOENT. The parent waitpids the child.
 * Expected: FORK how=spawn child=C res=0 and FORK how=spawn res=ENOENT; files
 * P.0 and C.0 (ppid P, EXIT how=exit status=6); WAIT_END kind=child pid=C
 * status=6<<8.
 * stderr: fx: parent=P child=C exe=PATH
 */
#include "fx-common.h"

#include <limits.h>
#include <spawn.h>
#include <sys/wait.h>

extern char **environ;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "child") == 0) {
    fx_ok(pthread_mutex_lock(&mutex), "lock");
    fx_ok(pthread_mutex_unlock(&mutex), "unlock");
    exit(6);
  }
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) fx_die("readlink /proc/self/exe", errno);
  exe[n] = 0;
  fflush(NULL);
  pid_t c = -1, c2 = -1;
  char *args[] = {"fx-spawn", "child", NULL};
  fx_ok(posix_spawn(&c, exe, NULL, NULL, args, environ), "posix_spawn");
  char *args2[] = {"weft-fx-no-such-program", NULL};
  int missing = posix_spawnp(&c2, "weft-fx-no-such-program", NULL, NULL, args2, environ);
  int s = 0;
  if (waitpid(c, &s, 0) != c) fx_die("waitpid", errno);
  fx_info("parent=%d child=%d exe=%s", (int)getpid(), (int)c, exe);
  printf("spawn child=%d missing=%s\n", WIFEXITED(s) ? WEXITSTATUS(s) : -1, fx_errname(missing));
  return 0;
}
