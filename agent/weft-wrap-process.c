/* weft-wrap-process.c - fork, posix_spawn, exec, exit and wait.
 * SPDX-License-Identifier: MIT
 *
 * fork: the child's state is reset by the pthread_atfork child handler (see
 * weft-agent.c), before any other child handler can record into the parent's
 * file. vfork is not wrapped (a wrapper's frame would be clobbered by the
 * child); the vfork child touches nothing of ours: exec and _exit check that
 * the pid is still ours before writing. The exec'd image loads the agent again
 * (LD_PRELOAD is inherited) and writes a section of its own into the file
 * WEFT_FILE names (the tree's first process's), or its own file when it
 * cannot.
 * posix_spawn's child is exec'd inside glibc; its new image is traced the same
 * way. All wrappers keep return values and errno.
 */
#include "weft-agent-private.h"

#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- exec: keep the tree traced ----
 * A program may exec with an environment of its own (Python's subprocess with
 * env=..., execve with a list of its own, `env -i` emptying environ): when it
 * lost the agent from LD_PRELOAD or a WEFT_* variable, those are put back (the
 * agent first in LD_PRELOAD; the values this process started with), and
 * nothing else of it changes, so the whole process tree stays in the
 * recording. The one exception to respecting the program's environment
 * (docs/man/weft-agent.md). Captured once, in the constructor. */
#define WEFT_ENV_KEYS 10
static const char *const env_keys[WEFT_ENV_KEYS] = {
    "LD_PRELOAD=",   "WEFT_OUTPUT=",    "WEFT_STACKS=", "WEFT_IO=",          "WEFT_CLOCK=",
    "WEFT_SESSION=", "WEFT_BUFFER_KB=", "WEFT_HOLDS=",  "WEFT_HOLD_SAMPLE=", "WEFT_FILE="};
#define WEFT_ENV_VAL_MAX    1100
#define WEFT_AGENT_PATH_MAX 1024
/* "KEY=value" strings and the agent's path, packed one after the other: the
 * usual few hundred bytes in .data (start-up writes no page of its own for
 * them), longer ones past it in .bss, touched only then (every first write to
 * a page is a page fault, 10 us on some VMs). */
#define WEFT_ENV_NEAR       640
static struct {
  const char *vals[WEFT_ENV_KEYS]; /* into near or far, or NULL */
  size_t used, far_used;           /* of near, of captured_far */
  char near[WEFT_ENV_NEAR];
} captured WEFT_START_DATA;
static char captured_far[WEFT_ENV_KEYS * WEFT_ENV_VAL_MAX + WEFT_AGENT_PATH_MAX];
static const char *agent_path = "";

/* Room for len bytes of a captured string (their total is bounded: far
 * holds every value at its largest). */
WEFT_START_CODE static char *capture_room(size_t len) {
  if (captured.used + len <= WEFT_ENV_NEAR) return captured.near + (captured.used += len) - len;
  return captured_far + (captured.far_used += len) - len;
}

WEFT_START_CODE void _weft_env_capture(const char *self_path) {
  captured.used = captured.far_used = 0;
  for (int i = 0; i < WEFT_ENV_KEYS; i++) {
    size_t kl = strlen(env_keys[i]);
    char key[32];
    memcpy(key, env_keys[i], kl - 1);
    key[kl - 1] = 0;
    const char *v = getenv(key);
    captured.vals[i] = NULL;
    size_t vl = v ? strlen(v) : 0;
    if (v && vl + kl < WEFT_ENV_VAL_MAX) {
      char *d = capture_room(kl + vl + 1);
      memcpy(d, env_keys[i], kl);
      memcpy(d + kl, v, vl + 1);
      captured.vals[i] = d;
    }
  }
  if (self_path && strlen(self_path) < WEFT_AGENT_PATH_MAX) {
    char *d = capture_room(strlen(self_path) + 1);
    memcpy(d, self_path, strlen(self_path) + 1);
    agent_path = d;
  }
}

static int preload_has_agent(const char *val) {
  /* val is the part after "LD_PRELOAD=": space- or colon-separated paths */
  size_t al = strlen(agent_path);
  const char *base = strrchr(agent_path, '/');
  base = base ? base + 1 : agent_path;
  for (const char *p = val; *p;) {
    while (*p == ':' || *p == ' ') p++;
    const char *e = p;
    while (*e && *e != ':' && *e != ' ') e++;
    size_t n = (size_t)(e - p);
    if ((n == al && !memcmp(p, agent_path, al)) || (n >= strlen(base) && !memcmp(e - strlen(base), base, strlen(base))))
      return 1;
    p = e;
  }
  return 0;
}

/* Count of extra pointer slots and bytes env_fix may need. */
#define ENV_FIX_SLOTS(envp, n) \
  do {                         \
    n = 0;                     \
    if (envp)                  \
      while ((envp)[n]) n++;   \
    n += WEFT_ENV_KEYS + 1;    \
  } while (0)

/* Return envp, or a copy in out[] (cap slots; buf of buflen bytes for a merged
 * LD_PRELOAD) with the agent's variables put back. */
static char *const *env_fix(char *const envp[], char **out, size_t cap, char *buf, size_t buflen) {
  if (!envp || !agent_path[0]) return envp;
  int have[WEFT_ENV_KEYS] = {0};
  size_t n = 0, preload_at = (size_t)-1;
  for (; envp[n]; n++)
    for (int k = 0; k < WEFT_ENV_KEYS; k++)
      if (!strncmp(envp[n], env_keys[k], strlen(env_keys[k]))) {
        have[k] = 1;
        if (k == 0) preload_at = n;
      }
  int need = have[0] ? !preload_has_agent(envp[preload_at] + strlen(env_keys[0])) : 1;
  for (int k = 1; k < WEFT_ENV_KEYS; k++)
    if (!have[k] && captured.vals[k]) need = 1;
  if (!need || n + WEFT_ENV_KEYS + 1 > cap) return envp;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) out[m++] = envp[i];
  if (!have[0] || !preload_has_agent(envp[preload_at] + strlen(env_keys[0]))) {
    const char *old = have[0] ? envp[preload_at] + strlen(env_keys[0]) : "";
    size_t need_len = strlen(env_keys[0]) + strlen(agent_path) + 1 + strlen(old) + 1;
    if (need_len <= buflen) {
      size_t o = 0;
      memcpy(buf + o, env_keys[0], strlen(env_keys[0]));
      o += strlen(env_keys[0]);
      memcpy(buf + o, agent_path, strlen(agent_path));
      o += strlen(agent_path);
      if (*old) {
        buf[o++] = ':';
        memcpy(buf + o, old, strlen(old));
        o += strlen(old);
      }
      buf[o] = 0;
      if (have[0])
        out[preload_at] = buf;
      else
        out[m++] = buf;
    }
  }
  for (int k = 1; k < WEFT_ENV_KEYS; k++)
    if (!have[k] && captured.vals[k]) out[m++] = (char *)captured.vals[k];
  out[m] = NULL;
  return out;
}

#define WITH_ENV(envp, fixed)                                                \
  size_t slots_;                                                             \
  ENV_FIX_SLOTS(envp, slots_);                                               \
  char **out_ = __builtin_alloca(slots_ * sizeof(char *));                   \
  size_t blen_ = 2 * WEFT_AGENT_PATH_MAX + 4096;                             \
  char *buf_ = __builtin_alloca(blen_);                                      \
  /* safe in a vfork child too: reads our statics, writes only this frame */ \
  char *const *fixed = !atomic_load(&_weft_proc.enabled) ? (envp) : env_fix((envp), out_, slots_, buf_, blen_)

WEFT_START_CODE WEFT_PUBLIC pid_t fork(void) {
  _weft_resolve_for_children();
  if (weft_on()) {
    _weft_stacks_prepare(); /* the wait for the child will want it (see wait_begin) */
    _weft_reserve_ahead();
  }
  pid_t pid = REAL(fork)();
  if (pid != 0 && weft_on()) {
    int e = errno;
    weft_emit1(WEFT_EV_FORK, weft_enc_fork_aux(WEFT_FORK_FORK, pid < 0 ? (unsigned)e : 0), (uint64_t)(int64_t)pid);
    errno = e;
  }
  return pid;
}

static int spawn_common(int usepath, pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                        const posix_spawnattr_t *at, char *const argv[], char *const envp[]) {
  pid_t child = -1;
  if (weft_on()) {
    _weft_stacks_prepare();
    _weft_reserve_ahead();
  }
  WITH_ENV(envp, env);
  int r = usepath ? REAL(posix_spawnp)(&child, path, fa, at, argv, env)
                  : REAL(posix_spawn)(&child, path, fa, at, argv, env);
  if (pid) *pid = child;
  if (weft_on()) {
    int e = errno;
    weft_emit1(WEFT_EV_FORK, weft_enc_fork_aux(WEFT_FORK_SPAWN, (unsigned)r),
               r == 0 ? (uint64_t)(int64_t)child : ~0ull);
    errno = e;
  }
  return r;
}

WEFT_PUBLIC int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
                            const posix_spawnattr_t *at, char *const argv[], char *const envp[]) {
  return spawn_common(0, pid, path, fa, at, argv, envp);
}

WEFT_PUBLIC int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
                             const posix_spawnattr_t *at, char *const argv[], char *const envp[]) {
  return spawn_common(1, pid, file, fa, at, argv, envp);
}

/* ---- exec ---- */
static int exec_before(const char *path) {
  if (!weft_on() || _weft_is_vfork_child()) return 0;
  int e = errno;
  /* CPU time and counts so far: the new image starts a new file (and the
   * other threads end here). The others' counts are a snapshot written
   * after EXEC: if the exec fails (EXEC_FAILED), the importer drops them
   * and the threads go on counting. */
  _weft_sched_sample(_weft_tls.tid ? _weft_tls.tid : (uint32_t)_weft_gettid());
  _weft_reserve_ahead(); /* the new image's section */
  _weft_counts_flush(&_weft_tls, WEFT_FLUSH_OWN);
  _weft_emit_str(WEFT_EV_EXEC, 0, NULL, 0, path ? path : "", NULL);
  _weft_counts_flush_all(WEFT_FLUSH_SNAPSHOT);
  errno = e;
  return 1;
}

static int exec_after(int traced, int r) {
  if (traced && weft_on()) {
    int e = errno;
    weft_emit1(WEFT_EV_EXEC_FAILED, (unsigned)e, 0);
    errno = e;
  }
  return r;
}

WEFT_PUBLIC int execve(const char *path, char *const argv[], char *const envp[]) {
  WITH_ENV(envp, env);
  int tr = exec_before(path);
  return exec_after(tr, REAL(execve)(path, argv, env));
}

/* execv and execvp pass environ, which the program may have emptied (`env
 * -i` clears it): the same repair, through execve/execvpe when needed */
WEFT_PUBLIC int execv(const char *path, char *const argv[]) {
  WITH_ENV(environ, env);
  int tr = exec_before(path);
  return exec_after(tr, env == environ ? REAL(execv)(path, argv) : REAL(execve)(path, argv, env));
}

WEFT_PUBLIC int execvp(const char *file, char *const argv[]) {
  WITH_ENV(environ, env);
  int tr = exec_before(file);
  return exec_after(tr, env == environ ? REAL(execvp)(file, argv) : REAL(execvpe)(file, argv, env));
}

WEFT_PUBLIC int execvpe(const char *file, char *const argv[], char *const envp[]) {
  WITH_ENV(envp, env);
  int tr = exec_before(file);
  return exec_after(tr, REAL(execvpe)(file, argv, env));
}

WEFT_PUBLIC int fexecve(int fd, char *const argv[], char *const envp[]) {
  WITH_ENV(envp, env);
  int tr = exec_before("(fexecve)");
  return exec_after(tr, REAL(fexecve)(fd, argv, env));
}

/* execl* collect their arguments into a vector on the stack */
#define COLLECT_ARGS(arg0, ap, argv, with_env, envp)              \
  do {                                                            \
    va_list cnt;                                                  \
    va_copy(cnt, ap);                                             \
    size_t n = 1;                                                 \
    while (va_arg(cnt, char *)) n++;                              \
    va_end(cnt);                                                  \
    argv = __builtin_alloca((n + 1) * sizeof(char *));            \
    argv[0] = (char *)(arg0);                                     \
    for (size_t i = 1; i <= n; i++) argv[i] = va_arg(ap, char *); \
    if (with_env) envp = va_arg(ap, char **);                     \
  } while (0)

WEFT_PUBLIC int execl(const char *path, const char *arg, ...) {
  va_list ap;
  char **argv, **envp = NULL;
  va_start(ap, arg);
  COLLECT_ARGS(arg, ap, argv, 0, envp);
  va_end(ap);
  (void)envp;
  return execv(path, argv);
}

WEFT_PUBLIC int execlp(const char *file, const char *arg, ...) {
  va_list ap;
  char **argv, **envp = NULL;
  va_start(ap, arg);
  COLLECT_ARGS(arg, ap, argv, 0, envp);
  va_end(ap);
  (void)envp;
  return execvp(file, argv);
}

WEFT_PUBLIC int execle(const char *path, const char *arg, ...) {
  va_list ap;
  char **argv, **envp = NULL;
  va_start(ap, arg);
  COLLECT_ARGS(arg, ap, argv, 1, envp);
  va_end(ap);
  return execve(path, argv, envp);
}

/* ---- exit ---- */
WEFT_START_CODE WEFT_PUBLIC void exit(int status) {
  _weft_process_exit(WEFT_PEXIT_EXIT, status);
  REAL(exit)(status);
  __builtin_unreachable();
}

WEFT_START_CODE WEFT_PUBLIC void _exit(int status) {
  _weft_process_exit(WEFT_PEXIT__EXIT, status);
  REAL(_exit)(status);
  __builtin_unreachable();
}

WEFT_PUBLIC void _Exit(int status) {
  _weft_process_exit(WEFT_PEXIT__EXIT, status);
  REAL(_Exit)(status);
  __builtin_unreachable();
}

/* ---- wait ---- */
/* A wait for a child is what a SIGCHLD handler does: a WNOHANG poll that
 * reaped one (op WEFT_OP_TRY, written after the fact, as bash reaps its
 * children) has no stack, and a blocking one (the textbook handler's
 * `wait(NULL)`) loads libunwind for its stack only where no handler can be
 * running (fork and posix_spawn load it first; a child made otherwise, by
 * vfork as Python's subprocess does, is waited for outside any handler).
 * Loading it inside a handler that interrupted the program's own malloc
 * corrupted its heap (bash under `weft record --io`, a pyenv shim: SIGSEGV
 * or a malloc assertion in a run of four). */
static void wait_begin(pid_t which, unsigned op) {
  uint32_t st = op == WEFT_OP_LOCK && _weft_proc.stacks >= WEFT_STACKS_CONTENDED ? _weft_stack_id_signal_safe() : 0;
  weft_wait_begin(WEFT_AUX(WEFT_KIND_CHILD, op, 0), (uint64_t)(int64_t)which, weft_enc_holder(0, st),
                  (uint64_t)(int64_t)which);
}

static void wait_end(pid_t which, unsigned op, pid_t got, int status, int err) {
  weft_wait_ended(weft_emit3(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_CHILD, op, got < 0 ? err : 0),
                             (uint64_t)(int64_t)which, (uint64_t)(int64_t)got, (uint64_t)(uint32_t)status));
}

/* WNOHANG polls are recorded only when they reap something (a zero-length wait) */
#define WAIT_WRAP(which, options, call)                              \
  do {                                                               \
    if (!weft_on()) return call;                                     \
    int st_ = 0;                                                     \
    int *sp_ = status ? status : &st_;                               \
    unsigned op_ = ((options)&WNOHANG) ? WEFT_OP_TRY : WEFT_OP_LOCK; \
    if (op_ == WEFT_OP_LOCK) wait_begin(which, op_);                 \
    status = sp_;                                                    \
    pid_t got_ = call;                                               \
    int e_ = errno;                                                  \
    if (op_ == WEFT_OP_LOCK || got_ > 0) {                           \
      if (op_ != WEFT_OP_LOCK) wait_begin(which, op_);               \
      wait_end(which, op_, got_, *sp_, e_);                          \
    }                                                                \
    errno = e_;                                                      \
    return got_;                                                     \
  } while (0)

WEFT_PUBLIC pid_t waitpid(pid_t pid, int *status, int options) {
  int *user = status;
  (void)user;
  WAIT_WRAP(pid, options, REAL(waitpid)(pid, status, options));
}

WEFT_PUBLIC pid_t wait(int *status) { WAIT_WRAP(-1, 0, REAL(wait)(status)); }

WEFT_PUBLIC pid_t wait3(int *status, int options, struct rusage *ru) {
  WAIT_WRAP(-1, options, REAL(wait3)(status, options, ru));
}

WEFT_PUBLIC pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru) {
  WAIT_WRAP(pid, options, REAL(wait4)(pid, status, options, ru));
}

WEFT_PUBLIC int waitid(idtype_t idt, id_t id, siginfo_t *info, int options) {
  if (!weft_on()) return REAL(waitid)(idt, id, info, options);
  pid_t which = idt == P_PID ? (pid_t)id : -1;
  unsigned op = (options & WNOHANG) ? WEFT_OP_TRY : WEFT_OP_LOCK;
  if (op == WEFT_OP_LOCK) wait_begin(which, op);
  int r = REAL(waitid)(idt, id, info, options);
  int e = errno;
  pid_t got = r == 0 && info ? info->si_pid : -1;
  if (op == WEFT_OP_LOCK || got > 0) {
    if (op != WEFT_OP_LOCK) wait_begin(which, op);
    wait_end(which, op, r == 0 ? got : -1, info ? info->si_status : 0, e);
  }
  errno = e;
  return r;
}
