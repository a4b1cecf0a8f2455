/* cli-run.c - helpers of the commands that run a program under the agent
 * (weft record, weft scale): its environment and the trace directory.
 * SPDX-License-Identifier: MIT
 *
 * Declared in weft-cli.h. Not thread-safe (they read environ).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "weft-cli.h"
#include "weft-db.h"

/* The number of PID.N.wtrace files in dir, or -1 if it cannot be read. */
long _weft_count_traces(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  long n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t l = strlen(e->d_name);
    if (l > 7 && !strcmp(e->d_name + l - 7, ".wtrace")) n++;
  }
  closedir(d);
  return n;
}

/* Remove the private trace directory: its files (the agent writes only
 * regular files into it), then the directory. Returns 0 or -1 (errno). */
int _weft_remove_trace_dir(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int dfd = dirfd(d), rc = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (unlinkat(dfd, e->d_name, 0) != 0) rc = -1;
  }
  closedir(d);
  if (rmdir(dir) != 0) rc = -1;
  return rc;
}

/* Free an environment made by _weft_child_env(): the array and its own strings,
 * env[nours] up to the NULL (those before are environ's). */
void _weft_free_env(char **env, size_t nours) {
  if (!env) return;
  for (size_t i = nours; env[i]; i++) free(env[i]);
  free(env);
}

/* The directory of the Python hook next to the agent (AGENT_DIR/weft-python,
 * holding sitecustomize.py) in buf, or NULL if there is none. */
static const char *python_hook(const char *agent, char *buf, size_t len) {
  const char *sl = strrchr(agent, '/');
  if (!sl || snprintf(buf, len, "%.*s/weft-python/sitecustomize.py", (int)(sl - agent), agent) >= (int)len ||
      access(buf, R_OK) != 0)
    return NULL;
  buf[strlen(buf) - strlen("/sitecustomize.py")] = '\0';
  return strpbrk(buf, ":") ? NULL : buf;
}

/* A new environment: environ with WEFT_OUTPUT, WEFT_STACKS, WEFT_IO and
 * WEFT_SESSION replaced, the agent put first in LD_PRELOAD and, with pyhook,
 * the Python hook first in PYTHONPATH. The strings of environ are shared; the
 * new ones, from *nours on, are malloc'd: free with _weft_free_env(). Returns
 * NULL (errno ENOMEM) if out of memory. */
char **_weft_child_env(const char *agent, const char *dir, const char *stacks, int io, int pyhook, uint64_t session,
                        size_t *nours) {
  extern char **environ;
  static const char *const ours[] = {"WEFT_OUTPUT=", "WEFT_STACKS=", "WEFT_IO=", "WEFT_SESSION=", "LD_PRELOAD=",
                                     "PYTHONPATH="};
  char hookbuf[4096];
  const char *hook = pyhook ? python_hook(agent, hookbuf, sizeof hookbuf) : NULL;
  size_t n = 0;
  while (environ[n]) n++;
  char **env = calloc(n + 7, sizeof *env);
  if (!env) return NULL;
  const char *old_preload = NULL, *old_pypath = NULL;
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    int skip = 0;
    for (size_t k = 0; k < sizeof ours / sizeof ours[0]; k++)
      if (!strncmp(environ[i], ours[k], strlen(ours[k]))) {
        if (k == 5 && !hook) continue; /* PYTHONPATH stays as it is */
        skip = 1;
        if (k == 4) old_preload = environ[i] + strlen(ours[k]);
        if (k == 5) old_pypath = environ[i] + strlen(ours[k]);
      }
    if (!skip) env[m++] = environ[i];
  }
  *nours = m;
  /* LD_PRELOAD is a list separated by colons or spaces: the agent goes first
   * so its wrappers are the ones other preloaded libraries call into. */
  if (asprintf(&env[m++], "WEFT_OUTPUT=%s", dir) < 0 || asprintf(&env[m++], "WEFT_STACKS=%s", stacks) < 0 ||
      asprintf(&env[m++], "WEFT_IO=%d", io) < 0 || asprintf(&env[m++], "WEFT_SESSION=%016" PRIx64, session) < 0 ||
      asprintf(&env[m++], "LD_PRELOAD=%s%s%s", agent, old_preload && *old_preload ? ":" : "",
               old_preload ? old_preload : "") < 0) {
    env[m - 1] = NULL; /* asprintf left it undefined */
    _weft_free_env(env, *nours);
    errno = ENOMEM;
    return NULL;
  }
  if (hook && asprintf(&env[m++], "PYTHONPATH=%s%s%s", hook, old_pypath && *old_pypath ? ":" : "",
                       old_pypath ? old_pypath : "") < 0) {
    env[m - 1] = NULL;
    _weft_free_env(env, *nours);
    errno = ENOMEM;
    return NULL;
  }
  env[m] = NULL;
  return env;
}

uint64_t _weft_new_session(void) {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, GRND_NONBLOCK) != (ssize_t)sizeof v) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    v = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 32);
  }
  return v ? v : 1;
}

int _weft_machine_cpu(WeftMachineCpu *out) {
  FILE *f = fopen("/proc/stat", "re");
  if (!f) return -1;
  unsigned long long v[8] = {0};
  int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                 &v[7]);
  fclose(f);
  long hz = sysconf(_SC_CLK_TCK);
  if (n < 8 || hz <= 0) return -1;
  /* user nice system idle iowait irq softirq steal (guest is inside user) */
  int64_t tick = 1000000000 / hz;
  unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
  out->busy_ns = (int64_t)busy * tick;
  out->steal_ns = (int64_t)v[7] * tick;
  out->total_ns = (int64_t)(busy + v[3] + v[4]) * tick;
  return 0;
}

int64_t _weft_cgroup_cpu_milli(void) {
  /* cgroup v2: "0::/path" in /proc/self/cgroup, the limit in cpu.max */
  char line[4096], path[4096 + 64];
  FILE *f = fopen("/proc/self/cgroup", "re");
  if (!f) return -1;
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) found = !strncmp(line, "0::", 3);
  fclose(f);
  if (!found) return -1;
  line[strcspn(line, "\n")] = '\0';
  snprintf(path, sizeof path, "/sys/fs/cgroup%s/cpu.max", line + 3);
  f = fopen(path, "re");
  if (!f) return -1;
  char quota[32] = "";
  unsigned long long period = 0;
  int n = fscanf(f, "%31s %llu", quota, &period);
  fclose(f);
  if (n != 2 || !strcmp(quota, "max") || !period) return -1;
  char *end;
  unsigned long long q = strtoull(quota, &end, 10);
  if (*end || !q) return -1;
  return (int64_t)(q * 1000 / period);
}

int _weft_store_machine(const char *db_path, const WeftMachineCpu *before, const WeftMachineCpu *after,
                        char *err, size_t errlen) {
  WeftDbMachine m = {.total_ns = -1, .cpu_limit_milli = _weft_cgroup_cpu_milli()};
  if (before && after && after->total_ns >= before->total_ns) {
    m.busy_ns = after->busy_ns - before->busy_ns;
    m.steal_ns = after->steal_ns - before->steal_ns;
    m.total_ns = after->total_ns - before->total_ns;
  }
  return weft_db_store_machine(db_path, &m, err, errlen);
}
