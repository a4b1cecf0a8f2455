/* fx-longjmp.c - a signal handler that siglongjmps out of an unlock.
 * SPDX-License-Identifier: MIT
 *
 * usage: fx-longjmp
 * main holds mutex m while thread w blocks on it (glibc's lock word 2), so
 * the unlock is one the agent records. fx-longjmp-lib's unlock raises
 * SIGUSR1 before glibc's unlock; the handler initialises a mutex (a record
 * of its own) and siglongjmps back into main: the agent's unlock wrapper
 * never returns and m is still held. main then unlocks m for real, w gets
 * it, and main joins w. Under the agent, the REL that the first unlock had
 * reserved must be in the trace as a skipped one (result EINTR) and every
 * record after it readable.
 * stdout: longjmp jumped=1 w_ran=1
 * stderr: fx: m=ADDR scratch=ADDR main_tid=T w_tid=T
 */
#include "fx-common.h"

#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>

extern pthread_mutex_t *volatile fx_unlock_trap;

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t scratch;
static sigjmp_buf env;
static _Atomic pid_t w_tid;
static volatile int w_ran;

static void on_usr1(int sig) {
  (void)sig;
  pthread_mutex_init(&scratch, NULL);
  siglongjmp(env, 1);
}

static void *w_fn(void *arg) {
  (void)arg;
  atomic_store(&w_tid, (pid_t)syscall(SYS_gettid));
  fx_ok(pthread_mutex_lock(&m), "w lock");
  w_ran = 1;
  fx_ok(pthread_mutex_unlock(&m), "w unlock");
  return NULL;
}

int main(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGUSR1, &sa, NULL) != 0) fx_die("sigaction", errno);
  fx_ok(pthread_mutex_lock(&m), "main lock");
  pthread_t w;
  fx_ok(pthread_create(&w, NULL, w_fn, NULL), "create");
  FX_WAIT_UNTIL(__atomic_load_n(&m.__data.__lock, __ATOMIC_ACQUIRE) == 2, "w never blocked on m");
  volatile int jumped = 0;
  if (sigsetjmp(env, 1) == 0) {
    fx_unlock_trap = &m;
    pthread_mutex_unlock(&m); /* does not return: the handler jumps */
    fx_die("the unlock returned", EINVAL);
  }
  jumped = 1;
  fx_ok(pthread_mutex_unlock(&m), "main unlock"); /* m was still held */
  fx_ok(pthread_join(w, NULL), "join");
  fx_ok(pthread_mutex_destroy(&scratch), "destroy scratch");
  fx_info("m=%p scratch=%p main_tid=%d w_tid=%d", (void *)&m, (void *)&scratch, (int)syscall(SYS_gettid),
          (int)atomic_load(&w_tid));
  printf("longjmp jumped=%d w_ran=%d\n", jumped, w_ran);
  return 0;
}
