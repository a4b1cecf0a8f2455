/* weft-cli.h - the subcommands of the weft command, one file each (cmd-*.c).
 * SPDX-License-Identifier: MIT
 *
 * Each returns the process exit status: 0 success, 1 failure (a one-line
 * message on stderr naming the file and the problem), 2 usage error; `weft
 * record` returns the recorded program's status.
 */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

int weft_cmd_record(int argc, char **argv);
int weft_cmd_import(int argc, char **argv);
int weft_cmd_report(int argc, char **argv);
int weft_cmd_check(int argc, char **argv);
int weft_cmd_export(int argc, char **argv);
int weft_cmd_scale(int argc, char **argv);

/* Where libweft-agent.so is: next to the weft binary (build tree: ../agent/;
 * installed: ../lib/<multiarch>/ or ../lib/), or WEFT_AGENT. Returns a static
 * string or NULL. */
const char *weft_agent_path(void);

/* cli-run.c: shared by the commands that run a program under the agent. */
#include <stddef.h>
#include <stdint.h>
/* The number of PID.N.wtrace files in dir, or -1 if it cannot be read. */
long _weft_count_traces(const char *dir);
/* Remove a private trace directory and its files. Returns 0 or -1 (errno). */
int _weft_remove_trace_dir(const char *dir);
/* environ with WEFT_OUTPUT, WEFT_STACKS, WEFT_IO, WEFT_SESSION replaced,
 * the agent first in LD_PRELOAD and, with pyhook, the Python hook next to the
 * agent (AGENT_DIR/weft-python) first in PYTHONPATH; the strings from *nours
 * on are the new ones. NULL (ENOMEM) if out of memory. Free with
 * _weft_free_env(). */
char **_weft_child_env(const char *agent, const char *dir, const char *stacks, int io, int pyhook, uint64_t session,
                       size_t *nours);
void _weft_free_env(char **env, size_t nours);
/* A random recording session id (never 0). */
uint64_t _weft_new_session(void);

/* The machine's CPU time so far, over all CPUs (/proc/stat), in ns: busy
 * (user, nice, system, irq, softirq, steal), of it stolen by the
 * hypervisor, and all (idle and iowait too). Returns 0, or -1 (unknown). */
typedef struct {
  int64_t busy_ns, steal_ns, total_ns;
} WeftMachineCpu;
int _weft_machine_cpu(WeftMachineCpu *out);
/* The CPUs this process's cgroup may use (cgroup v2 cpu.max, quota/period)
 * in thousandths, or -1 when unlimited or unknown. */
int64_t _weft_cgroup_cpu_milli(void);
/* Store in the recording database db_path what the machine did during the
 * run (meta machine_busy_ns, machine_steal_ns, machine_total_ns: the
 * differences between before and after) and the cgroup's CPU limit
 * (cpu_limit_milli). Returns 0 or -1 (nothing stored, err set). */
int _weft_store_machine(const char *db_path, const WeftMachineCpu *before, const WeftMachineCpu *after,
                        char *err, size_t errlen);

#endif /* WEFT_CLI_H */
