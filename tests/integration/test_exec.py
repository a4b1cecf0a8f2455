#!/usr/bin/env python3
# test_exec.py - weft exec end to end (issue 15): a program run under the
# agent with its trace left in a directory, imported later with weft import.
# SPDX-License-Identifier: MIT
#
# usage: test_exec.py --agent SO --weft WEFT -- FIXTURE-EXES...
# Prints TAP; --keep keeps the directory. (mpirun -np 3 weft exec is in
# test_mpi.py, which is skipped without mpirun.)
#
# Checked: fx-contended 20 fork under weft exec, then weft import, gives the
# same counts as under weft record (processes, threads, waits on and holds of
# `mutex`: 20 contended, flows but the semaphores' racy ones, objects); the
# exit status is the program's (7; a SIGSEGV kills the process weft exec
# became); the program's environment (the agent first in LD_PRELOAD,
# WEFT_OUTPUT the directory, %h the host name, made with its parents,
# absolute, WEFT_SESSION the run id); the run id from
# --run-id (hex as it is, other text hashed) or the launcher's variables
# (OMPI_MCA_orte_hnp_uri before PMIX_NAMESPACE before SLURM_JOB_ID with
# SLURM_STEP_ID); two weft exec at once with one --run-id into one directory
# import as one recording of 2 processes, a third run there stays apart (it
# is named, and imported alone with --session); bad input: one line on
# stderr, exit 2 (usage), 1 (directory, agent), 127 (no such program), 126
# (not executable), and nothing written.
import argparse
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile

from weftlib import attempt, clean_env, cleanup, eq, ok, one, plan

TIMEOUT = 120


class Ctx:
    def __init__(self, args, tmp):
        self.weft = os.path.abspath(args.weft)
        self.agent = os.path.realpath(args.agent)
        self.fx = {os.path.basename(e)[3:]: os.path.abspath(e) for e in args.fixtures
                   if os.path.basename(e).startswith("fx-")}
        self.tmp = tmp
        self.n = 0

    def path(self, name):
        return os.path.join(self.tmp, name)

    def run(self, *argv, env=None):
        e = clean_env(self.tmp)
        e.update(env or {})
        return subprocess.run([self.weft] + list(argv), env=e, timeout=TIMEOUT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)

    def exec_popen(self, d, *argv, opts=(), env=None):
        e = clean_env(self.tmp)
        e.update(env or {})
        return subprocess.Popen([self.weft, "exec", "-o", d] + list(opts) + ["--"] + list(argv), env=e,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def import_(self, d, *opts):
        db = d + ".db"
        r = self.run("import", d, "-o", db, "--force", *opts)
        ok(r.returncode == 0, "weft import %s exits 0" % os.path.basename(d), r.stderr.decode())
        return db, r.stderr.decode()


def counts(db):
    """What must not depend on how the program was launched (the semaphores' waits do: whether the
    waiter is already asleep on `go` when main posts it is a race, traced or not)."""
    con = sqlite3.connect(db)
    c = {
        "processes": one(con, "SELECT count(*) FROM process"),
        "threads": one(con, "SELECT count(*) FROM thread"),
        "mutex waits": one(con, "SELECT count(*) FROM thread_state JOIN sync_object USING (object_id) "
                                "WHERE name = 'mutex'"),
        "holds": con.execute("SELECT sum(holds), sum(contended) FROM hold_block").fetchone(),
        "flows": sorted(con.execute("SELECT n.name, count(*) FROM flow f JOIN flow_kind_name n ON n.kind = f.kind "
                                    "WHERE n.name NOT IN ('sem_post', 'wakeup') GROUP BY n.name").fetchall()),
        "objects": sorted(con.execute("SELECT name, kind, acquisitions FROM sync_object WHERE name IS NOT NULL "
                                      "AND acquisitions > 0").fetchall()),
    }
    con.close()
    return c


def t_same_as_record(ctx):
    rec = ctx.path("rec.db")
    r = ctx.run("record", "-q", "-o", rec, "--", ctx.fx["contended"], "20", "fork")
    eq(r.returncode, 0, "weft record fx-contended 20 fork exits 0")
    d = ctx.path("same")
    p = ctx.exec_popen(d, ctx.fx["contended"], "20", "fork")
    out, err = p.communicate(timeout=TIMEOUT)
    eq(p.returncode, 0, "weft exec fx-contended 20 fork exits 0")
    eq(sorted(os.listdir(d))[0].endswith(".wtrace") and len(os.listdir(d)), 1,
       "weft exec leaves one trace file (the parent's, the fork child a section in it), nothing imported")
    db, _ = ctx.import_(d)
    a, b = counts(rec), counts(db)
    eq(b, a, "weft exec then weft import: the same counts as weft record")
    eq((b["processes"], b["mutex waits"], b["holds"], dict(b["flows"]).get("lock_handoff")), (2, 20, (40, 20), 20),
       "fx-contended 20 fork: 2 processes, 20 waits on `mutex`, 40 holds of which 20 contended, 20 hand-offs")


def t_exit_status(ctx):
    d = ctx.path("status")
    p = ctx.exec_popen(d, "/bin/sh", "-c", "exit 7")
    p.communicate(timeout=TIMEOUT)
    eq(p.returncode, 7, "exit status 7 is passed on")
    p = ctx.exec_popen(d, ctx.fx["segv"], "50")
    p.communicate(timeout=TIMEOUT)
    eq(p.returncode, -signal.SIGSEGV, "a program killed by SIGSEGV: weft exec's process dies of it (it became the "
                                      "program)")


def t_environment(ctx):
    d = os.path.join(ctx.path("envdir"), "sub", socket.gethostname())
    p = subprocess.run([ctx.weft, "exec", "-o", "envdir/sub/%h", "--run-id", "abc123", "--", "/bin/sh", "-c",
                        'echo "$LD_PRELOAD|$WEFT_OUTPUT|$WEFT_SESSION|$WEFT_IO"'], cwd=ctx.tmp,
                       env=dict(clean_env(ctx.tmp), LD_PRELOAD="libm.so.6"), stdout=subprocess.PIPE, timeout=TIMEOUT)
    eq(p.stdout.decode().strip(), "%s:libm.so.6|%s|0000000000abc123|0" % (ctx.agent, os.path.realpath(d)),
       "the program's environment: the agent before LD_PRELOAD, the directory (%h the host name, its parents "
       "made) absolute, the run id as session")


def run_id(ctx, env, opts=()):
    p = ctx.exec_popen(ctx.path("ids"), "/bin/true", opts=("-v",) + tuple(opts), env=env)
    _, err = p.communicate(timeout=TIMEOUT)
    words = err.decode().split()
    # weft exec: run id ID (FROM), trace files in DIR
    return (words[4], err.decode().split("(")[1].split(")")[0]) if len(words) > 5 else (None, err.decode())


def t_run_ids(ctx):
    eq(run_id(ctx, {}, ("--run-id", "5EED")), ("0000000000005eed", "--run-id"),
       "--run-id 5EED is the session id 0000000000005eed")
    named = run_id(ctx, {}, ("--run-id", "exp-1"))
    eq((named[1], named == run_id(ctx, {}, ("--run-id", "exp-1")), named == run_id(ctx, {}, ("--run-id", "exp-2"))),
       ("--run-id", True, False), "--run-id exp-1: a name is hashed, the same in every process, not exp-2's")
    fresh = [run_id(ctx, {}) for _ in range(2)]
    ok(fresh[0][1] == "new" and fresh[0][0] != fresh[1][0], "no launcher, no --run-id: a new id each time", fresh)
    pmix = run_id(ctx, {"PMIX_NAMESPACE": "prterun-x-1@1"})
    eq((pmix[1], pmix == run_id(ctx, {"PMIX_NAMESPACE": "prterun-x-1@1"})), ("PMIX_NAMESPACE", True),
       "PMIX_NAMESPACE: the same id in every rank")
    both = run_id(ctx, {"PMIX_NAMESPACE": "prterun-x-1@1", "OMPI_MCA_orte_hnp_uri": "161480704.0;tcp://10.0.0.1:4"})
    eq(both[1], "OMPI_MCA_orte_hnp_uri", "mpirun's OMPI_MCA_orte_hnp_uri comes before PMIX_NAMESPACE")
    s0 = run_id(ctx, {"SLURM_JOB_ID": "42", "SLURM_STEP_ID": "0"})
    s1 = run_id(ctx, {"SLURM_JOB_ID": "42", "SLURM_STEP_ID": "1"})
    eq((s0[1], s0[0] != s1[0], run_id(ctx, {"SLURM_JOB_ID": "42"})[1]),
       ("SLURM_JOB_ID and SLURM_STEP_ID", True, "SLURM_JOB_ID"), "Slurm: one id per job step")
    eq(run_id(ctx, {"SLURM_JOB_ID": "42"}, ("--run-id", "77"))[0], "0000000000000077", "--run-id wins over a launcher")


def t_concurrent(ctx):
    d = ctx.path("shared")
    first = ctx.exec_popen(d, ctx.fx["contended"], "5", opts=("--run-id", "0ther"))
    first.communicate(timeout=TIMEOUT)
    eq(first.returncode, 0, "an earlier run into the directory, run id 0ther")
    ps = [ctx.exec_popen(d, ctx.fx["contended"], "20", opts=("--run-id", "feed")) for _ in range(2)]
    eq([p.communicate(timeout=TIMEOUT) and p.returncode for p in ps], [0, 0], "two weft exec at once, --run-id feed")
    eq(len(os.listdir(d)), 3, "three trace files in the directory, none clashing")
    db, err = ctx.import_(d)
    con = sqlite3.connect(db)
    eq((one(con, "SELECT value FROM meta WHERE key = 'session'"), one(con, "SELECT count(*) FROM process"),
        con.execute("SELECT name, contended FROM sync_object WHERE name = 'mutex'").fetchall()),
       ("000000000000feed", 2, [("mutex", 20), ("mutex", 20)]),
       "the two import as one recording: 2 processes, each its mutex contended 20 times")
    con.close()
    other = run_id_hex(ctx, "0ther")
    ok("importing session 000000000000feed" in err and ("session %s (started" % other) in err,
       "weft import imports run feed and names the other one, %s" % other, err)


def t_concurrent_other(ctx):
    """The earlier run of t_concurrent stays apart: imported alone with --session."""
    d = ctx.path("shared")
    db, _ = ctx.import_(d, "--session", run_id_hex(ctx, "0ther"))
    con = sqlite3.connect(db)
    eq(one(con, "SELECT count(*) FROM process"), 1, "weft import --session of the other run: its 1 process only")
    con.close()


def run_id_hex(ctx, name):
    return run_id(ctx, {}, ("--run-id", name))[0]


def t_errors(ctx):
    d = ctx.path("errs")
    afile = ctx.path("afile")
    open(afile, "w").close()
    noexec = ctx.path("noexec")
    with open(noexec, "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(noexec, stat.S_IRUSR | stat.S_IWUSR)
    true = "/bin/true"
    cases = [
        (["exec", "-o", d, true], 2, "weft exec: expected -- before the program"),
        (["exec", "-o", d, "--"], 2, "weft exec: no program after --"),
        (["exec", "-o", "", "--", true], 2, "weft exec: -o: empty directory name"),
        (["exec", "-o", d, "--run-id", "0", "--", true], 2, "weft exec: --run-id '0': expected"),
        (["exec", "-o", d, "--stacks", "some", "--", true], 2, "weft exec: --stacks some: expected"),
        (["exec", "-o", d, "--hold-sample", "3", "--", true], 2, "weft exec: --hold-sample 3: expected"),
        (["exec", "-o", afile, "--", true], 1, "weft exec: -o %s: not a directory" % afile),
        (["exec", "-o", afile + "/sub", "--", true], 1, "weft exec: -o %s/sub: Not a directory" % afile),
        (["exec", "-o", d, "--", "no-such-program-here"], 127, "weft exec: no-such-program-here: command not found"),
        (["exec", "-o", d, "--", noexec], 126, "weft exec: %s: Permission denied" % noexec),
    ]
    for argv, status, msg in cases:
        r = ctx.run(*argv)
        err = r.stderr.decode()
        ok(r.returncode == status and err.startswith(msg) and err.count("\n") == 1,
           "%s: exit %d, one line: %s" % (" ".join(argv[1:]), status, msg), "exit %d: %s" % (r.returncode, err))
    r = ctx.run("exec", "-o", d, "--", true, env={"WEFT_AGENT": "/nonexistent/libweft-agent.so"})
    ok(r.returncode == 1 and r.stderr.decode().startswith("weft exec: agent /nonexistent/libweft-agent.so"),
       "no agent: exit 1, said", r.stderr.decode())
    eq([f for f in os.listdir(d) if f.endswith(".wtrace")] if os.path.isdir(d) else [], [],
       "nothing was run into the directory")
    if os.geteuid() != 0:  # root may write anywhere
        ro = ctx.path("readonly")
        os.mkdir(ro, 0o500)
        r = ctx.run("exec", "-o", ro, "--", true)
        ok(r.returncode == 1 and "cannot write trace files there" in r.stderr.decode(), "unwritable directory: exit 1",
           r.stderr.decode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--agent", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("fixtures", nargs="*")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="weft-exec-test-")
    ctx = Ctx(args, tmp)
    try:
        for t in (t_same_as_record, t_exit_status, t_environment, t_run_ids, t_concurrent, t_concurrent_other,
                  t_errors):
            attempt(t, ctx)
    finally:
        cleanup(tmp, args.keep)
    return plan()


if __name__ == "__main__":
    sys.exit(main())
