#!/usr/bin/env python3
# test_cli.py - weft record and weft export end to end, on the fixture programs.
# SPDX-License-Identifier: MIT
#
# usage: test_cli.py --agent SO --weft WEFT -- FIXTURE-EXES...
# `weft record` finds the agent by itself (the build tree layout); --agent is
# only compared with what it put in LD_PRELOAD. Prints TAP; --only NAME runs
# the tests whose function name contains NAME; --keep keeps the directory.
#
# record: exit status passthrough (3, SIGSEGV -> 139, missing program -> 127),
#   Ctrl-C as a terminal sends it (SIGINT to the whole process group: the
#   program dies, weft still imports, exits 130), SIGTERM to weft alone is
#   forwarded, an existing -o is refused before the program runs, --force,
#   --keep-trace, the environment the program gets, the summary.
# export: the Chrome JSON parsed back and compared with the database: X events
#   per state, exact times, waits named after their objects, holds, flows
#   (every start has its finish), process and thread names, multi-image pids,
#   escaping of odd names, errors.
import argparse
import bisect
import collections
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

import weftholds
from weftlib import results, ok, eq, one

TIMEOUT = 120


def text(b):
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else (b or "")


class Ctx:
    def __init__(self, args):
        self.agent = os.path.realpath(args.agent)
        self.weft_bin = os.path.abspath(args.weft)
        self.fx = {}
        for exe in args.fixtures:
            name = os.path.basename(exe)
            if name.startswith("fx-"):
                self.fx[name[3:]] = os.path.abspath(exe)
        self.tmp = tempfile.mkdtemp(prefix="weft-cli-test-")
        # weft record's private trace directories go here, so the tests can
        # see that they are made and removed
        self.tmpdir = os.path.join(self.tmp, "tmpdir")
        os.mkdir(self.tmpdir)

    def env(self, extra=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
        e.pop("LD_PRELOAD", None)
        e["TMPDIR"] = self.tmpdir
        e["LC_ALL"] = "C"
        # t_record_env runs weft itself with an LD_PRELOAD; an ASan build of
        # weft would refuse to start
        e["ASAN_OPTIONS"] = ":".join(filter(None, [e.get("ASAN_OPTIONS"), "verify_asan_link_order=0"]))
        e.update(extra or {})
        return e

    def path(self, name):
        return os.path.join(self.tmp, name)

    def weft(self, *args, env=None, cwd=None):
        return subprocess.run([self.weft_bin] + [str(a) for a in args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=TIMEOUT, env=self.env(env), cwd=cwd or self.tmp)

    def record(self, db, prog, *args, opts=(), env=None):
        return self.weft("record", "-o", db, *opts, "--", prog, *args, env=env)

    def check(self, db, what):
        r = self.weft("check", db)
        return ok(r.returncode == 0, "%s: weft check passes" % what, text(r.stdout) + text(r.stderr))

    def leftover_trace_dirs(self):
        return [d for d in os.listdir(self.tmpdir) if d.startswith("weft-")]


# ---------------------------------------------------------------- weft record

def t_record_exit_status(ctx):
    db = ctx.path("exit3.db")
    r = ctx.record(db, ctx.fx["exitthreads"])
    eq(r.returncode, 3, "record: the program's exit status 3 is weft's")
    ok(os.path.exists(db), "record: the database exists", text(r.stderr))
    ctx.check(db, "exit 3")
    err = text(r.stderr)
    ok(re.search(r"^weft: 1 process, 3 threads, \d+ records, 0 lost, ", err, re.M), "record: summary line",
       err)
    ok("exited with status 3" in err, "record: says how the program ended", err)
    ok(("wrote %s (" % db) in err and ("weft report %s" % db) in err, "record: names the database and what next",
       err)
    eq(ctx.leftover_trace_dirs(), [], "record: the private trace directory is removed")
    con = sqlite3.connect(db)
    eq(one(con, "SELECT exit_status FROM process"), 3, "record: the database has the exit status")


def t_record_progress_not_a_tty(ctx):
    """The import's progress line (a \\r line) goes only to a terminal: with
    the threshold at 0 ms it would show at once."""
    db = ctx.path("progress.db")
    r = ctx.record(db, ctx.fx["contended"], "50", env={"WEFT_IMPORT_PROGRESS_MS": "0"})
    eq(r.returncode, 0, "progress: weft record exits 0")
    ok(b"\r" not in r.stderr and b"importing:" not in r.stderr,
       "progress: no \\r progress line on a stderr that is not a terminal", text(r.stderr))


def t_record_segv(ctx):
    db = ctx.path("segv.db")
    r = ctx.record(db, ctx.fx["segv"], "200")
    eq(r.returncode, 128 + signal.SIGSEGV, "record: a program killed by SIGSEGV gives 139")
    ok("killed by SIGSEGV" in text(r.stderr), "record: says the program was killed by SIGSEGV", text(r.stderr))
    if ok(os.path.exists(db), "record: SIGSEGV: database exists", text(r.stderr)):
        ctx.check(db, "SIGSEGV")
        con = sqlite3.connect(db)
        # counts not yet written when the program crashes are lost (it never went idle,
        # never exited), and the report says so
        ok((one(con, "SELECT acquisitions FROM sync_object WHERE kind = 1") or 0) <= 200,
           "record: SIGSEGV: at most the 200 acquisitions before the crash are counted")
        eq(one(con, "SELECT value FROM meta WHERE key = 'counts_incomplete'"), "1",
           "record: SIGSEGV: the recording says that one process may miss counts")
        rep = ctx.weft("report", db)
        ok(re.search(r"killed.*counts", text(rep.stdout)), "record: SIGSEGV: the report says so", text(rep.stdout))


def wait_ready(p, what):
    line = p.stdout.readline()
    return ok(b"ready" in line, "%s: the program printed ready" % what, line)


def t_record_ctrl_c(ctx):
    # As a terminal does it: SIGINT to the foreground process group, which
    # holds weft and the program. weft ignores it, the program dies of it.
    db = ctx.path("ctrlc.db")
    p = subprocess.Popen([ctx.weft_bin, "record", "-o", db, "--", ctx.fx["killme"], "300", "wait"], env=ctx.env(),
                         cwd=ctx.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        if wait_ready(p, "Ctrl-C"):
            time.sleep(0.1)
            os.killpg(p.pid, signal.SIGINT)
        _, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    eq(p.returncode, 128 + signal.SIGINT, "record: Ctrl-C: exit status 130")
    ok("killed by SIGINT" in text(err), "record: Ctrl-C: the program died of SIGINT", text(err))
    if ok(os.path.exists(db), "record: Ctrl-C: the recording is imported", text(err)):
        ctx.check(db, "Ctrl-C")
        con = sqlite3.connect(db)
        eq(one(con, "SELECT acquisitions FROM sync_object WHERE kind = 1"), 300,
           "record: Ctrl-C: the 300 acquisitions are stored")
        eq(one(con, "SELECT count(*) FROM thread"), 2, "record: Ctrl-C: both threads are stored")


def t_record_sigterm(ctx):
    # SIGTERM sent to weft alone reaches the program.
    db = ctx.path("term.db")
    p = subprocess.Popen([ctx.weft_bin, "record", "-o", db, "--", ctx.fx["killme"], "10"], env=ctx.env(),
                         cwd=ctx.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        if wait_ready(p, "SIGTERM"):
            os.kill(p.pid, signal.SIGTERM)
        _, err = p.communicate(timeout=TIMEOUT)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    eq(p.returncode, 128 + signal.SIGTERM, "record: SIGTERM to weft is forwarded: exit status 143")
    if ok(os.path.exists(db), "record: SIGTERM: the recording is imported", text(err)):
        ctx.check(db, "SIGTERM")


def t_record_refuses_existing(ctx):
    db = ctx.path("exists.db")
    with open(db, "w") as f:
        f.write("precious")
    marker = ctx.path("ran-marker")
    r = ctx.record(db, "/bin/sh", "-c", "touch " + marker)
    eq(r.returncode, 2, "record: an existing -o: exit 2")
    ok("exists.db" in text(r.stderr) and "--force" in text(r.stderr), "record: an existing -o: says so and how",
       text(r.stderr))
    ok(not os.path.exists(marker), "record: an existing -o: the program did not run")
    eq(open(db).read(), "precious", "record: an existing -o: the file is untouched")
    r = ctx.record(db, "/bin/sh", "-c", "touch " + marker, opts=("--force", "--quiet"))
    eq(r.returncode, 0, "record --force: exit 0")
    ok(os.path.exists(marker), "record --force: the program ran")
    eq(text(r.stderr), "", "record --quiet: nothing on stderr")
    ctx.check(db, "--force")


def t_record_missing_program(ctx):
    db = ctx.path("missing.db")
    r = ctx.record(db, "weft-no-such-program-here")
    eq(r.returncode, 127, "record: a missing program: exit 127")
    eq(text(r.stderr).strip(), "weft record: weft-no-such-program-here: command not found",
       "record: a missing program: the shell's message")
    ok(not os.path.exists(db), "record: a missing program: no database")
    eq(ctx.leftover_trace_dirs(), [], "record: a missing program: no trace directory left")
    r = ctx.record(db, ctx.tmp)  # a directory: found, not executable
    eq(r.returncode, 126, "record: a program that cannot be executed: exit 126")
    r = ctx.weft("record", "--", ctx.fx["uncontended"], env={"WEFT_AGENT": "/nonexistent/libweft-agent.so"})
    ok(r.returncode == 1 and "/nonexistent/libweft-agent.so" in text(r.stderr) and not r.stdout,
       "record: a WEFT_AGENT that does not exist fails before the program runs", text(r.stderr))
    r = ctx.weft("record", "--stacks", "sometimes", "--", "true")
    eq(r.returncode, 2, "record: --stacks with a bad value is a usage error")
    r = ctx.weft("record")
    eq(r.returncode, 2, "record: no program is a usage error")


def t_record_env(ctx):
    # what the program gets: the agent first in LD_PRELOAD, the WEFT_ variables
    db = ctx.path("env.db")
    keep = ctx.path("kept-trace")
    script = ('echo "PRELOAD=$LD_PRELOAD"; echo "OUTPUT=$WEFT_OUTPUT"; echo "STACKS=$WEFT_STACKS"; '
              'echo "IO=$WEFT_IO"; echo "SESSION=$WEFT_SESSION"')
    r = ctx.weft("record", "-o", db, "--stacks", "all", "--io", "--keep-trace", keep, "--", "/bin/sh", "-c", script,
                 env={"LD_PRELOAD": "libc.so.6", "WEFT_STACKS": "none"})
    eq(r.returncode, 0, "record: env: exit 0")
    got = dict(l.split("=", 1) for l in text(r.stdout).splitlines() if "=" in l)
    eq(got.get("PRELOAD"), ctx.agent + ":libc.so.6", "record: the agent goes first in LD_PRELOAD")
    eq(got.get("OUTPUT"), os.path.realpath(keep), "record --keep-trace: WEFT_OUTPUT is that directory")
    eq(got.get("STACKS"), "all", "record --stacks all: WEFT_STACKS")
    eq(got.get("IO"), "1", "record --io: WEFT_IO=1")
    ok(re.fullmatch(r"[0-9a-f]{16}", got.get("SESSION", "")), "record: WEFT_SESSION is 64 random bits in hex",
       got.get("SESSION"))
    traces = [f for f in os.listdir(keep) if f.endswith(".wtrace")] if os.path.isdir(keep) else []
    ok(len(traces) >= 1, "record --keep-trace: the trace files are kept", os.listdir(ctx.tmp))
    ok(keep in text(r.stderr), "record --keep-trace: says where they are", text(r.stderr))
    con = sqlite3.connect(db)
    eq(one(con, "SELECT value FROM meta WHERE key = 'session'"), got.get("SESSION"),
       "record: the database has the session")
    # a second recording into the same --keep-trace directory would mix two runs
    r = ctx.weft("record", "-o", ctx.path("env2.db"), "--keep-trace", keep, "--", "true")
    ok(r.returncode == 2 and "keep-trace" in text(r.stderr), "record: --keep-trace into a used directory is refused",
       text(r.stderr))
    # I/O recorded by default for Python, also behind a launcher (env, taskset, mpirun...), and only for
    # the launcher's program, not for a Python name among that program's own arguments
    py = shutil.which("python3") or "/usr/bin/python3"
    probe = "import os; print('IO=' + os.environ.get('WEFT_IO', ''))"
    cases = [((py, "-c", probe), "1"), (("env", "X=1", "taskset", "-c", "0", py, "-c", probe), "1"),
             (("env", "-C", ctx.tmp, py, "-c", probe), "1"),  # (a directory among the options is no program)
             (("env", "X=1", "/bin/sh", "-c", 'echo "IO=$WEFT_IO"', "python3"), "0")]
    for k, (argv, want) in enumerate(cases):
        r = ctx.weft("record", "-q", "-o", ctx.path("io%d.db" % k), "--", *argv)
        got = dict(l.split("=", 1) for l in text(r.stdout).splitlines() if "=" in l)
        eq((r.returncode, got.get("IO")), (0, want), "record: WEFT_IO for %s" % " ".join(argv[:-2]))
    # the private directory: mode 0700 under TMPDIR, removed afterwards
    r = ctx.record(ctx.path("env3.db"), "/bin/sh", "-c", 'stat -c "%a %n" "$WEFT_OUTPUT"', opts=("--quiet",))
    mode, _, d = text(r.stdout).strip().partition(" ")
    eq(mode, "700", "record: the private trace directory has mode 0700")
    ok(d.startswith(os.path.join(ctx.tmpdir, "weft-")), "record: the private trace directory is in $TMPDIR", d)
    ok(not os.path.exists(d), "record: the private trace directory is removed after the import", d)


def t_record_summary_top_waits(ctx):
    db = ctx.path("top.db")
    r = ctx.record(db, ctx.fx["contended"], "30")
    eq(r.returncode, 0, "record: contended: exit 0")
    err = text(r.stderr)
    lines = [l for l in err.splitlines() if re.match(r"weft:\s+[\d.]+ [mun]?s ", l)]
    ok(1 <= len(lines) <= 3, "record: at most 3 top waits", err)
    con = sqlite3.connect(db)
    top = con.execute("SELECT (SELECT count(*) FROM thread_state s WHERE s.object_id = o.object_id) "
                      "FROM sync_object o WHERE kind BETWEEN 1 AND 8 ORDER BY wait_ns DESC LIMIT 1").fetchone()
    ok(lines and top and (" %d waits" % top[0]) in lines[0], "record: the first is the object waited on longest",
       err)
    ok(any("(mutex)" in l for l in lines), "record: contended: the mutex is among the top waits", err)


def t_record_taskset(ctx):
    # `weft record -- taskset -c 0 PROG`: taskset starts with every CPU and execs PROG on one; the
    # recording's CPUs are the program's (the images that did not exec), not the launcher's
    taskset = shutil.which("taskset")
    if not taskset or len(os.sched_getaffinity(0)) < 2:
        ok(True, "record: taskset: skipped (%s)" % ("no taskset" if not taskset else "one CPU"))
        return
    cpu = min(os.sched_getaffinity(0))
    db = ctx.path("taskset.db")
    r = ctx.record(db, taskset, "-c", str(cpu), ctx.fx["contended"], "20")
    eq(r.returncode, 0, "record: taskset: exit 0")
    ncpus = sqlite3.connect(db).execute("SELECT value FROM meta WHERE key = 'ncpus'").fetchone()
    ok(ncpus and int(ncpus[0]) == 1, "record: taskset -c %d: the recording has 1 CPU" % cpu, ncpus)
    out = text(ctx.weft("report", db).stdout)
    ok("  recording  1 CPU, " in out, "record: taskset: the report says 1 CPU", out[:600])
    # behind a launcher that forks (timeout forks the taskset, which execs the program)
    db = ctx.path("timeout-taskset.db")
    r = ctx.record(db, shutil.which("timeout") or "timeout", "60", taskset, "-c", str(cpu), ctx.fx["contended"], "20")
    ncpus = sqlite3.connect(db).execute("SELECT value FROM meta WHERE key = 'ncpus'").fetchone()
    ok(r.returncode == 0 and ncpus and int(ncpus[0]) == 1,
       "record: timeout 60 taskset -c %d: the recording has 1 CPU, not timeout's" % cpu, ncpus)


def is_static_elf(path):
    """True for an ELF executable without a program interpreter (PT_INTERP)."""
    import struct
    try:
        with open(path, "rb") as f:
            h = f.read(64)
            if h[:4] != b"\x7fELF" or h[4] != 2 or h[5] != 1:  # 64-bit little-endian only
                return False
            phoff, = struct.unpack_from("<Q", h, 32)
            phentsize, phnum = struct.unpack_from("<HH", h, 54)
            f.seek(phoff)
            ph = f.read(phentsize * phnum)
        return all(struct.unpack_from("<I", ph, i * phentsize)[0] != 3 for i in range(phnum))
    except OSError:
        return False


def t_record_untraced(ctx):
    # a statically linked program loads no agent: nothing to store, said so
    prog = next((p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig", "/sbin/ldconfig.real") if is_static_elf(p)),
                None)
    if not prog:
        print("ok %d - record: a statically linked program # SKIP no static program found" % (len(results) + 1))
        results.append(True)
        return
    db = ctx.path("static.db")
    r = ctx.record(db, prog, "-p")
    ok(r.returncode == 1 and "wrote no trace" in text(r.stderr), "record: a statically linked program: says "
       "nothing was recorded, exit 1", text(r.stderr))
    ok(not os.path.exists(db), "record: a statically linked program: no database")
    eq(ctx.leftover_trace_dirs(), [], "record: a statically linked program: no trace directory left")


def t_record_import_fails(ctx):
    # the program leaves a foreign *.wtrace in the recording: the import fails, and says why and where
    # the trace is, which stays (issue 11 item 7: an import that stopped never loses the recording)
    db = ctx.path("fails.db")
    r = ctx.record(db, "sh", "-c", 'printf garbage > "$WEFT_OUTPUT/1.0.wtrace"')
    err = text(r.stderr)
    kept = ctx.leftover_trace_dirs()
    d = os.path.join(ctx.tmpdir, kept[0]) if len(kept) == 1 else "?"
    lines = [l for l in err.splitlines() if l.startswith("weft record:")]
    eq(lines, ["weft record: import failed: %s/1.0.wtrace: not a weft trace: 7 bytes, shorter than the 4096-byte file "
               "header; the trace is kept in %s (`weft import %s -o %s`)" % (d, d, d, db)],
       "record: a failed import: one line that says why and where the trace is kept")
    ok(r.returncode == 1 and not os.path.exists(db) and os.path.exists(os.path.join(d, "1.0.wtrace")),
       "record: a failed import: exit 1, no database, the trace directory kept", err)
    shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------- weft export

def export(ctx, db, out, *opts):
    r = ctx.weft("export", db, "--format", "chrome", "-o", out, *opts)
    ok(r.returncode == 0, "export %s %s: exit 0" % (os.path.basename(db), " ".join(opts)), text(r.stderr))
    with open(out, "rb") as f:
        data = f.read()
    return json.loads(data.decode("utf-8"))  # strict: the file must be UTF-8


def us_to_ns(v):
    # as Perfetto converts: truncating
    return int(v * 1000.0)


def check_export(ctx, db, what):
    out = db[:-3] + ".json"
    doc = export(ctx, db, out)
    con = sqlite3.connect(db)
    evs = doc["traceEvents"]
    ok(isinstance(evs, list) and evs, "%s: traceEvents is a non-empty list" % what)
    eq(doc.get("displayTimeUnit"), "ns", "%s: displayTimeUnit" % what)
    eq(doc.get("metadata", {}).get("session"), one(con, "SELECT value FROM meta WHERE key='session'"),
       "%s: metadata has the meta table" % what)

    # names: a process_name per process image, a thread_name per thread
    pnames = {e["pid"]: e["args"]["name"] for e in evs if e["ph"] == "M" and e["name"] == "process_name"}
    procs = con.execute("SELECT upid, pid, image, exe FROM process").fetchall()
    eq(len(pnames), len(procs), "%s: one process_name per process image" % what)
    multi = {pid for _, pid, _, _ in procs if sum(1 for p in procs if p[1] == pid) > 1}
    for upid, pid, image, exe in procs:
        base = os.path.basename(exe or "")
        if pid in multi:
            jp = [p for p, n in pnames.items() if n == "%d %s (image %d)" % (pid, base, image)]
            ok(len(jp) == 1, "%s: image %d of pid %d has a process of its own" % (what, image, pid), pnames)
        else:
            eq(pnames.get(pid), base, "%s: process %d is named after its executable" % (what, pid))
    tnames = collections.Counter((e["pid"], e["tid"], e["args"]["name"]) for e in evs
                                 if e["ph"] == "M" and e["name"] == "thread_name")
    eq(sum(tnames.values()), one(con, "SELECT count(*) FROM thread"), "%s: one thread_name per thread" % what)
    dbnames = collections.Counter(n for n, in con.execute("SELECT name FROM thread"))
    eq(collections.Counter(n for _, _, n in tnames.elements()), dbnames, "%s: thread names as stored" % what)

    # every thread_state interval as an X event with exact times
    xs = [e for e in evs if e["ph"] == "X"]
    by_cat = collections.Counter(e["cat"] for e in xs)
    want = collections.Counter(dict(con.execute(
        "SELECT n.name, count(*) FROM thread_state s JOIN state_name n ON n.state = s.state GROUP BY n.name")))
    eq(by_cat, want, "%s: X events per state = thread_state rows per state" % what)
    ok(all(e["name"] == e["cat"] or e["name"].startswith(e["cat"] + " ") for e in xs),
       "%s: X events are named after their state" % what)
    bad = [e for e in xs if e["cat"] != "running" and "object" in e.get("args", {})
           and e["name"] != e["cat"] + " " + e["args"]["object"]]
    eq(bad[:3], [], "%s: waits are named 'STATE OBJECT'" % what)
    by_name_db = collections.Counter(dict(con.execute(
        "SELECT n.name, count(*) FROM thread_state s JOIN state_name n ON n.state = s.state "
        "WHERE s.object_id IS NOT NULL GROUP BY n.name")))
    by_name_js = collections.Counter(e["cat"] for e in xs if "object" in e.get("args", {}))
    eq(by_name_js, by_name_db, "%s: every wait on an object names it" % what)
    tid_of = dict(con.execute("SELECT utid, tid FROM thread"))
    want_t = collections.Counter((tid_of[u], s, d) for u, s, d in con.execute(
        "SELECT utid, start_ns, dur_ns FROM thread_state"))
    got_t = collections.Counter((e["tid"], us_to_ns(e["ts"]), us_to_ns(e["dur"])) for e in xs)
    eq(got_t == want_t, True, "%s: X events have the exact start and duration (ns) of the intervals" % what)

    # holds: balanced b/e per id, one pair per hold of a contended object
    hb = [e for e in evs if e["ph"] == "b" and e.get("cat") == "hold"]
    he = [e for e in evs if e["ph"] == "e" and e.get("cat") == "hold"]
    weftholds.materialize(con)
    eq(len(hb), one(con, "SELECT count(*) FROM lock_hold h JOIN sync_object o USING (object_id) "
                         "WHERE o.contended > 0"), "%s: one hold slice per hold of a contended object" % what)
    eq(collections.Counter(e["id"] for e in hb), collections.Counter(e["id"] for e in he),
       "%s: hold begins and ends balance per id" % what)
    ok(all(e["name"].startswith("hold ") for e in hb), "%s: holds are named 'hold OBJECT'" % what)
    spans = collections.defaultdict(list)  # id -> [(start, end)], b and e are written in pairs
    for b, e in zip(hb, he):
        spans[b["id"]].append((us_to_ns(b["ts"]), us_to_ns(e["ts"])))
    crossing = []
    for sid, v in spans.items():
        v.sort()
        stack = []
        for a, z in v:
            while stack and stack[-1] <= a:
                stack.pop()
            if stack and z > stack[-1]:
                crossing.append((sid, a, z))
            stack.append(z)
    eq(crossing[:3], [], "%s: the holds on one track nest (no partial overlap)" % what)

    # flows: each start has its finish, per kind as in the database
    fs = {e["id"]: e for e in evs if e["ph"] == "s"}
    ff = {e["id"]: e for e in evs if e["ph"] == "f"}
    eq(len(fs), one(con, "SELECT count(*) FROM flow"), "%s: one flow start per flow" % what)
    eq(sorted(fs), sorted(ff), "%s: every flow start has a finish with its id" % what)
    ok(all(ff[i]["cat"] == fs[i]["cat"] and ff[i]["name"] == fs[i]["name"] and ff[i].get("bp") == "e"
           for i in fs if i in ff), "%s: flow finishes bind to the enclosing slice, same cat and name" % what)
    want_f = collections.Counter(dict(con.execute(
        "SELECT k.name, count(*) FROM flow f JOIN flow_kind_name k ON k.kind = f.kind GROUP BY k.name")))
    eq(collections.Counter(e["cat"] for e in fs.values()), want_f, "%s: flows per kind" % what)
    rows = con.execute("SELECT flow_id, from_utid, from_ns, to_utid, to_ns FROM flow").fetchall()
    life = {u: (s, e) for u, s, e in con.execute("SELECT utid, start_ns, end_ns FROM thread")}

    def at(t, utid):  # a time outside its thread's life is moved just inside
        s, e = life[utid]
        return min(max(t, s + 1), e - 1) if e - s >= 2 else t

    badf = [r for r in rows if r[0] not in fs or r[0] not in ff
            or fs[r[0]]["tid"] != tid_of[r[1]] or ff[r[0]]["tid"] != tid_of[r[3]]
            or abs(us_to_ns(fs[r[0]]["ts"]) - at(r[2], r[1])) > 1
            or abs(us_to_ns(ff[r[0]]["ts"]) - at(r[4], r[3])) > 1]
    eq(badf[:3], [], "%s: flows go from thread to thread at their times (+-1 ns)" % what)

    # each end of a flow lies strictly inside a slice of its thread, so a
    # viewer binds it whatever order it gives equal times; the finish of a
    # flow that ends a wait lies inside that wait
    slices = collections.defaultdict(list)
    for e in xs:
        slices[(e["pid"], e["tid"])].append((us_to_ns(e["ts"]), us_to_ns(e["ts"]) + us_to_ns(e["dur"]), e["cat"]))
    for v in slices.values():
        v.sort()

    def enclosing(e):
        v = slices.get((e["pid"], e["tid"]), [])
        t = us_to_ns(e["ts"])
        i = bisect.bisect_right(v, (t, float("inf"), "")) - 1
        return v[i][2] if i >= 0 and v[i][0] < t < v[i][1] else None

    unbound = [e for e in list(fs.values()) + list(ff.values()) if enclosing(e) is None]
    eq(unbound[:3], [], "%s: every flow start and finish lies inside a slice of its thread" % what)
    wait_kinds = {"lock_handoff", "wakeup", "barrier", "sem_post", "join", "wait"}
    notwait = [e for e in ff.values() if e["cat"] in wait_kinds and enclosing(e) in (None, "running")]
    eq(notwait[:3], [], "%s: flows that end a wait point into the wait" % what)
    return doc, con


def t_export_contended(ctx):
    db = ctx.path("xcont.db")
    ctx.record(db, ctx.fx["contended"], "25", opts=("--quiet",))
    doc, con = check_export(ctx, db, "export contended")
    evs = doc["traceEvents"]
    handoffs = [e for e in evs if e["ph"] == "s" and e["cat"] == "lock_handoff"]
    eq(len(handoffs), 25, "export contended: 25 lock hand-offs")
    waits = [e for e in evs if e["ph"] == "X" and e["cat"] == "lock_wait"]
    main_tid = one(con, "SELECT tid FROM thread WHERE is_main = 1")
    ok(len(waits) == 25 and all(e["args"].get("blocker") == main_tid for e in waits),
       "export contended: each lock wait names the main thread as blocker", waits[:2])
    # --no-running: the waits only
    doc = export(ctx, db, ctx.path("xcont-nr.json"), "--no-running")
    cats = collections.Counter(e.get("cat") for e in doc["traceEvents"] if e["ph"] == "X")
    ok("running" not in cats and cats["lock_wait"] == 25, "export --no-running: waits only", cats)


def t_export_condvar(ctx):
    db = ctx.path("xcond.db")
    ctx.record(db, ctx.fx["condvar"], "40", opts=("--quiet",))
    check_export(ctx, db, "export condvar")


def t_export_barrier_rwlock(ctx):
    db = ctx.path("xbar.db")
    ctx.record(db, ctx.fx["barrier"], "4", "20", opts=("--quiet",))
    doc, _ = check_export(ctx, db, "export barrier")
    eq(sum(1 for e in doc["traceEvents"] if e["ph"] == "X" and e["cat"] == "barrier_wait"), 80,
       "export barrier: 4 x 20 barrier waits")
    db = ctx.path("xrw.db")
    ctx.record(db, ctx.fx["rwlock"], opts=("--quiet",))
    check_export(ctx, db, "export rwlock")


def t_export_forktree(ctx):
    db = ctx.path("xfork.db")
    r = ctx.record(db, ctx.fx["forktree"], opts=("--quiet",))
    eq(r.returncode, 0, "record forktree: exit 0")
    doc, con = check_export(ctx, db, "export forktree")
    pids = [e["pid"] for e in doc["traceEvents"] if e["ph"] == "M" and e["name"] == "process_name"]
    eq(len(pids), len(set(pids)), "export forktree: every process image has its own pid")
    eq(one(con, "SELECT count(*) FROM process"), 4, "export forktree: 4 process images")


# a name that needs escaping, and bytes that are not UTF-8 ("bad\xff\xc3(")
ODD_NAME = 'q"b\\s/\n\t\x01\x7f é ✓'
NOT_UTF8 = b"bad\xff\xc3(utf8"


def record_odd_names(ctx, db):
    """A recording of the names fixture whose main thread is called ODD_NAME and whose other thread,
    executable and command line are bytes that are not UTF-8."""
    ctx.record(db, ctx.fx["names"], opts=("--quiet",))
    con = sqlite3.connect(db)
    con.execute("UPDATE thread SET name = ? WHERE is_main = 1", (ODD_NAME,))
    con.execute("UPDATE thread SET name = CAST(? AS TEXT) WHERE is_main = 0", (NOT_UTF8,))
    con.execute("UPDATE process SET exe = CAST(? AS TEXT), cmdline = CAST(? AS TEXT)",
                (b"/opt/" + NOT_UTF8, b"/opt/" + NOT_UTF8 + b" --x"))
    con.commit()
    con.close()


def t_export_escaping(ctx):
    db = ctx.path("xesc.db")
    record_odd_names(ctx, db)
    doc = export(ctx, db, ctx.path("xesc.json"))
    names = {e["args"]["name"] for e in doc["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
    ok(ODD_NAME in names, "export: quotes, backslashes, control characters and UTF-8 survive", names)
    ok("bad\ufffd\ufffd(utf8" in names, "export: bytes that are not UTF-8 become U+FFFD", names)


def t_report_json_not_utf8(ctx):
    # the names and paths a recording holds come from the program and need not be UTF-8: `weft report
    # --format json` writes them as `weft export` does (issue 12: one JSON writer, one rule)
    db = ctx.path("resc.db")
    record_odd_names(ctx, db)
    r = ctx.weft("report", db, "--format", "json")
    ok(r.returncode == 0, "report json: exit 0 on names that are not UTF-8", text(r.stderr))
    try:
        doc = json.loads(r.stdout.decode("utf-8"))  # strict: the output must be UTF-8
    except ValueError as e:
        ok(False, "report json: valid UTF-8 JSON on names that are not UTF-8", e)
        return
    names = {t["name"] for t in doc["threads"]}
    ok(ODD_NAME in names, "report json: quotes, backslashes, control characters and UTF-8 survive", names)
    ok("bad\ufffd\ufffd(utf8" in names, "report json: a thread name's bytes that are not UTF-8 become U+FFFD",
       names)
    want = ("/opt/bad\ufffd\ufffd(utf8", "/opt/bad\ufffd\ufffd(utf8 --x")
    procs = [(p["exe"], p["cmdline"]) for p in doc["processes"]]
    ok(procs and all(p == want for p in procs),
       "report json: an executable's path and command line that are not UTF-8 get U+FFFD", procs)


def t_export_errors(ctx):
    r = ctx.weft("export", ctx.path("nonexistent.db"), "-o", ctx.path("x.json"))
    lines = text(r.stderr).strip().splitlines()
    ok(r.returncode == 1 and len(lines) == 1 and "nonexistent.db" in lines[0], "export: a missing database: one line "
       "naming it, exit 1", r.stderr)
    junk = ctx.path("junk.db")
    with open(junk, "wb") as f:
        f.write(b"this is not a database" * 100)
    r = ctx.weft("export", junk, "-o", ctx.path("x.json"))
    lines = text(r.stderr).strip().splitlines()
    ok(r.returncode == 1 and len(lines) == 1 and "junk.db" in lines[0], "export: not a database: one line, exit 1",
       r.stderr)
    ok(not os.path.exists(ctx.path("x.json")), "export: no output file after a failure")
    db = ctx.path("xerr.db")
    ctx.record(db, "/bin/true", opts=("--quiet",))
    r = ctx.weft("export", db, "-o", "/nonexistent-dir/t.json")
    lines = text(r.stderr).strip().splitlines()
    ok(r.returncode == 1 and len(lines) == 1 and "/nonexistent-dir/t.json" in lines[0],
       "export: an unwritable output: one line naming it, exit 1", r.stderr)
    r = ctx.weft("export", db, "--format", "svg", "-o", ctx.path("x.svg"))
    eq(r.returncode, 2, "export: an unknown format is a usage error")
    r = ctx.weft("export", db, "-o", "-")
    try:
        json.loads(r.stdout.decode())
        ok(r.returncode == 0, "export -o -: JSON on standard output")
    except ValueError as e:
        ok(False, "export -o -: JSON on standard output", e)


TESTS = [t_record_exit_status, t_record_progress_not_a_tty, t_record_segv, t_record_ctrl_c, t_record_sigterm, t_record_refuses_existing,
         t_record_missing_program, t_record_env, t_record_summary_top_waits, t_record_taskset, t_record_untraced,
         t_record_import_fails,
         t_export_contended, t_export_condvar, t_export_barrier_rwlock, t_export_forktree, t_export_escaping,
         t_report_json_not_utf8, t_export_errors]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--weft", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("fixtures", nargs="*")
    args = ap.parse_args()
    ctx = Ctx(args)
    try:
        for t in TESTS:
            if args.only not in t.__name__:
                continue
            try:
                t(ctx)
            except Exception as e:  # a crash in a test is a failure, not a pass
                ok(False, "%s raised %s: %s" % (t.__name__, type(e).__name__, e), traceback.format_exc())
    finally:
        if all(results) and not args.keep:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
        else:
            print("# kept %s" % ctx.tmp)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
