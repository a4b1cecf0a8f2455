#!/usr/bin/env python3
# test_mpi.py - MPI end to end (issue 15): `weft record -- mpirun -np 3 ...` on
# programs with a known imbalance and a known number of messages, the
# database and the JSON report checked against what they did.
# SPDX-License-Identifier: MIT
#
# usage: test_mpi.py --weft WEFT --python-dir DIR -- FIXTURE-EXES...
# Prints TAP; --keep keeps the directory. Exits 77 (skipped) without mpirun,
# or without both fx-mpi (built only where meson found MPI: libopenmpi-dev)
# and mpi4py for /usr/bin/python3 (python3-mpi4py).
#
# fx-mpi 4 60 (C) and python/mpi_ring.py 4 60 (mpi4py), 3 ranks: rank r works
# (r + 1) units per round, so rank 2 is the slowest; per round one message
# around the ring (Irecv, Isend, Waitall) and one Allreduce; then rank 0
# sends each other rank one message, and a Barrier. Checked: the program's
# output is the same traced and not; each rank process has its mpi_rank;
# exactly 3 * 4 + 2 = 14 messages matched (flows mpi_message, none
# unmatched) and 5 collectives (flows mpi_collective: 2 per collective);
# the MPI waits of each rank per call (MPI_Init 1, MPI_Waitall 4,
# MPI_Allreduce 4, MPI_Barrier 1, MPI_Finalize 1; rank 0 MPI_Send 2, the
# others MPI_Recv 1, or with mpi4py's comm.recv MPI_Mprobe 1 and MPI_Mrecv
# 1); the receive of rank 0's last message is woken by rank 0; the report
# names rank 2 the slowest in an mpi_imbalance finding, with the ranks'
# load balance below 0.9.
#
# fx-mpi again under `mpirun -np 3 weft exec -o DIR`, then `weft import DIR`:
# each rank left its own trace file in DIR, all with the run id mpirun's
# environment gives (the database's session), and the database passes the
# same checks.
#
# Two hosts on one machine (WEFT_TEST_HOST=beta, WEFT_TEST_CLOCK_SKEW_NS=5000000,
# WEFT_TEST_CLOCK_DRIFT_PPM=50 for beta): fx-mpi 20 rounds, rank 0 on this host
# (alpha here), ranks 1 and 2 on beta, weft exec -o DIR/%h, weft import of both:
# a host per directory, each rank on its host, the other boot taken out by
# the wall-clock anchors, all 62 messages in order, and the estimated offset
# within its uncertainty of the truth (known from the distortion), the
# uncertainty under half the skew; the JSON and text reports give them.
import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

from weftlib import attempt, clean_env, cleanup, eq, ok, plan, skip

TIMEOUT = 240
NP = 3
ROUNDS = 4


def env(tmp):
    e = clean_env(tmp)
    # quiet, local, and fine as root and with more ranks than CPUs
    e.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
              "OMPI_MCA_btl": "self,vader", "OMPI_MCA_rmaps_base_oversubscribe": "1",
              "OMPI_MCA_mpi_yield_when_idle": "1", "OMPI_MCA_btl_vader_single_copy_mechanism": "none"})
    return e


def mpirun(argv):
    return ["mpirun", "-np", str(NP)] + argv


def lines(out):
    """The ranks' result lines, sorted: mpirun forwards each rank's output as it comes, and two ranks'
    writes can interleave at any byte (traced or not)."""
    return sorted(re.findall(r"rank \d+ of \d+: received \d+, sums \d+, token \d+", out.decode("utf-8", "replace")))


def record(weft, tmp, name, argv):
    """The program alone, then under weft record: (db, True if the output is the same)."""
    plain = subprocess.run(mpirun(argv), env=env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    if not ok(plain.returncode == 0 and len(lines(plain.stdout)) == NP, "%s: runs under mpirun" % name,
              plain.stderr.decode("utf-8", "replace")):
        return None
    db = os.path.join(tmp, name + ".db")
    p = subprocess.run([weft, "record", "-q", "-o", db, "--"] + mpirun(argv), env=env(tmp), timeout=TIMEOUT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p.returncode == 0 and os.path.exists(db), "%s: weft record -- mpirun exits 0" % name,
              p.stderr.decode("utf-8", "replace")):
        return None
    eq(lines(p.stdout), lines(plain.stdout), "%s: the program's output is unchanged under weft" % name)
    return db


def check_db(name, db, recv_calls):
    con = sqlite3.connect(db)
    ranks = con.execute("SELECT mpi_rank, cmdline FROM process WHERE mpi_rank IS NOT NULL ORDER BY mpi_rank").fetchall()
    eq([r[0] for r in ranks], list(range(NP)), "%s: one process per rank, each with its mpi_rank" % name)
    meta = dict(con.execute("SELECT key, value FROM meta WHERE key LIKE 'mpi_%'").fetchall())
    eq((meta.get("mpi_messages"), meta.get("mpi_messages_unmatched"), meta.get("mpi_collectives")),
       (str(NP * ROUNDS + NP - 1), "0", str(ROUNDS + 1)),
       "%s: %d messages matched, none unmatched, %d collectives" % (name, NP * ROUNDS + NP - 1, ROUNDS + 1))
    flows = dict(con.execute("SELECT kind, count(*) FROM flow WHERE kind IN (11, 12) GROUP BY kind").fetchall())
    eq((flows.get(11), flows.get(12)), (NP * ROUNDS + NP - 1, (ROUNDS + 1) * (NP - 1)),
       "%s: a flow per message and per rank released from each collective" % name)
    got = {}
    for rank, call, n in con.execute(
            "SELECT p.mpi_rank, o.name, count(*) FROM thread_state s JOIN sync_object o USING (object_id) "
            "JOIN thread t USING (utid) JOIN process p ON p.upid = t.upid "
            "WHERE s.state = 12 AND p.mpi_rank IS NOT NULL GROUP BY p.mpi_rank, o.name"):
        got.setdefault(rank, {})[call] = n
    for r in range(NP):
        want = {"MPI_Waitall": ROUNDS, "MPI_Allreduce": ROUNDS, "MPI_Barrier": 1, "MPI_Finalize": 1}
        want[recv_calls[0]] = 1  # MPI_Init or MPI_Init_thread
        if r == 0:
            want["MPI_Send"] = NP - 1
        else:
            for c in recv_calls[1:]:
                want[c] = 1
        eq(got.get(r), want, "%s: rank %d's MPI waits per call" % (name, r))
    # the receive of rank 0's message (tag 9) on rank 2 was woken by rank 0's main thread
    woke = con.execute(
        "SELECT s.waker_utid = (SELECT t0.utid FROM thread t0 JOIN process p0 ON p0.upid = t0.upid "
        "WHERE p0.mpi_rank = 0 AND t0.is_main) FROM thread_state s JOIN sync_object o USING (object_id) "
        "JOIN thread t USING (utid) JOIN process p ON p.upid = t.upid "
        "WHERE p.mpi_rank = 2 AND o.name = ?", (recv_calls[-1],)).fetchone()
    ok(woke is not None and woke[0] == 1, "%s: rank 2's %s was woken by rank 0" % (name, recv_calls[-1]), woke)
    con.close()


def check_report(weft, tmp, name, db):
    p = subprocess.run([weft, "report", "--format", "json", db], env=env(tmp), timeout=TIMEOUT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p.returncode == 0, "%s: weft report --format json exits 0" % name, p.stderr.decode()):
        return
    r = json.loads(p.stdout)
    mpi = r.get("mpi") or {}
    eq((mpi.get("ranks_recorded"), mpi.get("world_size"), mpi.get("slowest_rank"), mpi.get("messages"),
        mpi.get("collectives")), (NP, NP, NP - 1, NP * ROUNDS + NP - 1, ROUNDS + 1),
       "%s: the report's mpi: 3 ranks, rank 2 the slowest, 14 messages, 5 collectives" % name)
    useful = [x["useful_ns"] for x in mpi.get("ranks", [])]
    ok(len(useful) == NP and useful[0] < useful[1] < useful[2] and mpi.get("load_balance", 1) < 0.9,
       "%s: useful time grows with the rank, load balance below 0.9" % name, mpi)
    ranks = sorted(x["mpi_rank"] for x in r["processes"] if x.get("mpi_rank") is not None)
    eq(ranks, list(range(NP)), "%s: processes[].mpi_rank" % name)
    rg = r.get("range") or {}
    ok(rg.get("mpi_launchers") is True and rg.get("launchers", 0) >= 1 and
       [p["mpi_rank"] for p in r["processes"] if p["upid"] == rg.get("program_upid")] == [0] and
       all(p.get("mpi_rank") is not None for p in r["processes"] if p.get("parent_upid") is None or
           p["upid"] == rg.get("program_upid")),
       "%s: the scope is the ranks, mpirun and the ranks' images before their exec left out as launchers" % name, rg)
    selected = {t["utid"] for t in r["threads"]}
    path = [t["utid"] for t in (r.get("critical_path") or {}).get("threads", [])]
    ok(path and set(path) <= selected, "%s: the critical path stays in the ranks" % name, (path, sorted(selected)))
    f = [x for x in r["findings"] if x["kind"] == "mpi_imbalance"]
    ok(len(f) == 1 and "the slowest rank, rank 2 " in f[0]["title"], "%s: a finding names rank 2 the slowest" % name,
       [x["title"] for x in r["findings"]])
    text = subprocess.run([weft, "report", db], env=env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE).stdout.decode()
    ok("MPI ranks\n  3 ranks of 3: parallel efficiency" in text and "(the slowest)" in text,
       "%s: the text report has the MPI ranks section" % name, text[:1500])


def t_c(weft, fx, tmp):
    if "mpi" not in fx:
        skip("C MPI fixture", "fx-mpi not built (no MPI found by meson: libopenmpi-dev)")
        return
    # units of 60 ms, as mpi_ring's: a rank's useful time also holds some of the MPI library's own CPU
    # (rank 0's 100 ms more than its 80 ms of work once, under ASan on a loaded machine), which units
    # of 20 ms did not outweigh
    db = record(weft, tmp, "fx-mpi", [fx["mpi"], str(ROUNDS), "60"])
    if db:
        check_db("fx-mpi", db, ["MPI_Init", "MPI_Recv"])
        check_report(weft, tmp, "fx-mpi", db)
        # weft record -- mpirun records I/O waits: Open MPI's threads (started inside MPI_Init) idle in
        # polls, no longer counted as running, and no I/O finding made of them
        con = sqlite3.connect(db)
        polls = con.execute("SELECT count(*) FROM thread_state WHERE state = 9").fetchone()[0]
        con.close()
        p = subprocess.run([weft, "report", "--format", "json", db], env=env(tmp), timeout=TIMEOUT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        r = json.loads(p.stdout) if p.returncode == 0 else {}
        kinds = [x["kind"] for x in r.get("findings", [])]
        par = (r.get("parallelism") or {}).get("average", 99)
        ok(polls > 0 and "io" not in kinds and "sleep" not in kinds and par <= 3.5,
           "fx-mpi: I/O recorded by default under mpirun; the MPI library's threads make no I/O finding and do "
           "not count as running (average parallelism %.2f with 3 ranks)" % par, (polls, kinds))
        # fx-mpi starts no thread: every other thread of a rank is the MPI library's, and the Summary's
        # team (its load balance) is the 3 ranks' main threads
        s = r.get("summary", {})
        mains = [t["useful_ns"] for t in r.get("threads", []) if t["is_main"]]
        lb = sum(mains) / len(mains) / max(mains) if mains and max(mains) > 0 else -1
        ok(len(mains) == NP and s.get("team_threads") == NP and
           s.get("team_left_out") == len(r.get("threads", [])) - NP and abs(s.get("load_balance", 0) - lb) < 1e-3,
           "fx-mpi: the Summary's team is the %d ranks, the MPI library's threads left out (load balance %.3f)"
           % (NP, lb), {k: s.get(k) for k in ("team_threads", "team_left_out", "load_balance")})
        ranks = (r.get("mpi") or {}).get("ranks", [])
        ok(len(ranks) == NP and all(0 <= x["mpi_cpu_ns"] <= x["mpi_wait_ns"] for x in ranks) and
           r["mpi"]["mpi_cpu_ns"] == sum(x["mpi_cpu_ns"] for x in ranks),
           "fx-mpi: each rank's CPU time in MPI is part of its time in MPI, and the total their sum",
           [(x["mpi_cpu_ns"], x["mpi_wait_ns"]) for x in ranks])


def t_exec(weft, fx, tmp):
    if "mpi" not in fx:
        skip("C MPI fixture under weft exec", "fx-mpi not built (no MPI found by meson: libopenmpi-dev)")
        return
    d = os.path.join(tmp, "exec")
    p = subprocess.run(mpirun([weft, "exec", "-v", "-o", d, "--", fx["mpi"], str(ROUNDS)]), env=env(tmp),
                       timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = p.stderr.decode("utf-8", "replace")
    ids = set(re.findall(r"weft exec: run id ([0-9a-f]{16}) \(OMPI_MCA_orte_hnp_uri\)", err))
    ok(p.returncode == 0 and len(lines(p.stdout)) == NP and len(ids) == 1,
       "fx-mpi: mpirun -np 3 weft exec exits 0, every rank with one run id from mpirun's environment", err)
    traces = sorted(f for f in os.listdir(d) if f.endswith(".wtrace")) if os.path.isdir(d) else []
    eq(len(traces), NP, "fx-mpi: weft exec: one trace file per rank in the directory")
    db = d + ".db"
    r = subprocess.run([weft, "import", "-q", d, "-o", db], env=env(tmp), timeout=TIMEOUT, stderr=subprocess.PIPE)
    if not ok(r.returncode == 0, "fx-mpi: weft import of weft exec's directory exits 0", r.stderr.decode()):
        return
    con = sqlite3.connect(db)
    eq(con.execute("SELECT value FROM meta WHERE key = 'session'").fetchone(), (ids.pop() if ids else None,),
       "fx-mpi: weft exec: the recording's session is the run id")
    dump = list(con.iterdump())
    con.close()
    check_db("fx-mpi (weft exec)", db, ["MPI_Init", "MPI_Recv"])
    # the messages and collectives go through external sorts (analyzer/import/mpi.c): with runs of
    # one row and of seven the database is the same, row for row
    for spill in ("1", "7"):
        db2 = d + ".spill%s.db" % spill
        e = dict(env(tmp), WEFT_IMPORT_WAIT_SPILL=spill)
        r = subprocess.run([weft, "import", "-q", d, "-o", db2], env=e, timeout=TIMEOUT, stderr=subprocess.PIPE)
        ok(r.returncode == 0, "fx-mpi: weft import, sorts spilled every %s rows" % spill, r.stderr.decode())
        if r.returncode == 0:
            con = sqlite3.connect(db2)
            ok(list(con.iterdump()) == dump, "fx-mpi: sorts spilled every %s rows: the same database" % spill)
            con.close()


SKEW_NS, DRIFT_PPM = 5000000, 50


def t_hosts(weft, fx, tmp):
    """two hosts on one machine: rank 0 on this one (alpha: its node name), ranks 1 and 2 on host beta,
    whose clock runs 5 ms ahead and 50 ppm fast (and started 1000-2000 s earlier, as another machine's
    boot); weft exec -o DIR/%h writes a directory per host, weft import takes both"""
    alpha = os.uname().nodename
    if "mpi" not in fx:
        skip("two hosts", "fx-mpi not built (no MPI found by meson: libopenmpi-dev)")
        return
    d, rounds = os.path.join(tmp, "hosts"), 20
    ex = [weft, "exec", "-o", os.path.join(d, "%h"), "--", fx["mpi"], str(rounds), "2"]
    argv = ["mpirun", "-np", "1"] + ex + [
        ":", "-np", "2", "env", "WEFT_TEST_HOST=beta", "WEFT_TEST_CLOCK_SKEW_NS=%d" % SKEW_NS,
        "WEFT_TEST_CLOCK_DRIFT_PPM=%d" % DRIFT_PPM] + ex
    p = subprocess.run(argv, env=env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ok(p.returncode == 0 and len(lines(p.stdout)) == NP, "two hosts: mpirun (alpha: rank 0, beta: ranks 1, 2) exits 0",
       p.stderr.decode("utf-8", "replace"))
    per = {h: len([f for f in os.listdir(os.path.join(d, h)) if f.endswith(".wtrace")])
           for h in (alpha, "beta") if os.path.isdir(os.path.join(d, h))}
    eq(per, {alpha: 1, "beta": 2}, "two hosts: weft exec -o DIR/%h: a directory per host")
    db = d + ".db"
    r = subprocess.run([weft, "import", "-q", os.path.join(d, alpha), os.path.join(d, "beta"), "-o", db],
                       env=env(tmp), timeout=TIMEOUT, stderr=subprocess.PIPE)
    if not ok(r.returncode == 0, "two hosts: weft import alpha beta exits 0", r.stderr.decode()):
        return
    con = sqlite3.connect(db)
    hosts = {row[1]: row for row in con.execute(
        "SELECT host, name, anchor_shift_ns, clock_offset_ns, offset_uncertainty_ns, messages, offset_at_ns FROM host")}
    hosts["alpha"] = hosts.pop(alpha, None)
    if not eq(sorted(k for k in hosts if hosts[k]), ["alpha", "beta"], "two hosts: the host table names both"):
        return
    ranks = dict(con.execute("SELECT p.mpi_rank, h.name FROM process p JOIN host h USING (host) "
                             "WHERE p.mpi_rank IS NOT NULL").fetchall())
    eq(ranks, {0: alpha, 1: "beta", 2: "beta"}, "two hosts: each rank on its host")
    ref, other = ("alpha", "beta") if hosts["alpha"][0] == 0 else ("beta", "alpha")
    shift = hosts[other][2]
    ok(1000e9 <= abs(shift) <= 2000e9, "two hosts: the wall-clock anchors take out the other boot (%.0f s)" % (shift / 1e9))
    span = con.execute("SELECT max(end_ns) - min(start_ns) FROM process").fetchone()[0]
    ok(0 < span < 120e9, "two hosts: one time base (the processes span %.2f s)" % (span / 1e9))
    flows = con.execute("SELECT count(*), sum(to_ns < from_ns) FROM flow WHERE kind = 11").fetchone()
    eq(flows, (NP * rounds + NP - 1, 0), "two hosts: all %d messages matched, none received before it was sent"
       % (NP * rounds + NP - 1))
    eq(con.execute("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'host_messages_out_of_order'").fetchone(),
       (0,), "two hosts: the import found no message out of order after the correction")
    # the truth: beta's clock = real + 5 ms + 50 ppm x (real - its first process's start)
    _, _, _, est, unc, msgs, at = hosts[other]
    base = con.execute("SELECT min(p.start_ns) FROM process p JOIN host h USING (host) WHERE h.name = 'beta'").fetchone()[0]
    # (the anchors' shift undoes the boot offset, whole seconds, up to its own error of a few us, which
    # the offset corrects: the two together must undo the boot and the distortion)
    boot = round(abs(shift) / 1e9) * 1e9
    truth = (boot + SKEW_NS + DRIFT_PPM * 1e-6 * (at - base)) * (1 if other == "alpha" else -1) - shift
    ok(msgs > 0 and unc is not None and abs(est - truth) <= unc + 1000,
       "two hosts: %s's offset %.1f us +/- %s us (truth %.1f us) from %d messages" %
       (other, est / 1e3, unc / 1e3 if unc is not None else None, truth / 1e3, msgs))
    ok(unc is not None and unc < SKEW_NS / 2, "two hosts: the uncertainty is well under the skew (%s us)" %
       (unc / 1e3 if unc is not None else None))
    con.close()
    rep = subprocess.run([weft, "report", "--format", "json", db], env=env(tmp), timeout=TIMEOUT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    js = json.loads(rep.stdout) if rep.returncode == 0 else {}
    h = {("alpha" if x["name"] == alpha else x["name"]): x for x in js.get("hosts", [])}
    ok(sorted(h) == ["alpha", "beta"] and h[other]["clock_offset_ns"] == est and
       h[other]["offset_uncertainty_ns"] == unc and h[ref]["clock_offset_ns"] == 0,
       "two hosts: the JSON report's hosts[] give each host's offset and uncertainty", js.get("hosts"))
    txt = subprocess.run([weft, "report", db], env=env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE).stdout.decode()
    ok("Hosts (2, each clock mapped onto %s's)" % (alpha if ref == "alpha" else ref) in txt and
       ("  %s: 1 process image" % alpha) in txt,
       "two hosts: the text report lists the hosts", txt[-800:])


def t_py(weft, pydir, tmp):
    py = "/usr/bin/python3"
    if subprocess.run([py, "-c", "import mpi4py, numpy"], capture_output=True).returncode != 0:
        skip("mpi4py fixture", "mpi4py or numpy missing for %s (python3-mpi4py)" % py)
        return
    # a bigger unit: each rank's interpreter starts for as long as a few units
    db = record(weft, tmp, "mpi_ring", [py, os.path.join(pydir, "mpi_ring.py"), str(ROUNDS), "60"])
    if db:
        check_db("mpi_ring", db, ["MPI_Init_thread", "MPI_Mprobe", "MPI_Mrecv"])
        check_report(weft, tmp, "mpi_ring", db)
        p = subprocess.run([weft, "report", "--format", "json", db], env=env(tmp), timeout=TIMEOUT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        r = json.loads(p.stdout) if p.returncode == 0 else {}
        v = r.get("verdict") or {}
        ok(v.get("reason") == "mpi_ranks" and v.get("choice") == "processes" and "3 ranks (mpi4py)" in v.get("text", ""),
           "mpi_ring: the verdict is about the MPI ranks", v)
        libs = [x["name"] for x in (r.get("python") or {}).get("libraries", [])]
        eq(libs, ["mpi4py"], "mpi_ring: the library is mpi4py (Open MPI's own threads are no threading)")
        kinds = [x["kind"] for x in r.get("findings", [])]
        ok("io_overlap" not in kinds, "mpi_ring: Open MPI's progress threads make no io_overlap finding", kinds)
        con = sqlite3.connect(db)
        polls = con.execute("SELECT count(*) FROM thread_state WHERE state = 9").fetchone()[0]
        con.close()
        ok(polls > 0, "mpi_ring: weft record -- mpirun ... python3 records I/O waits by default (%d)" % polls)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--python-dir", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("fixtures", nargs="*")
    args = ap.parse_args()
    fx = {os.path.basename(e)[3:]: os.path.abspath(e) for e in args.fixtures if os.path.basename(e).startswith("fx-")}
    if not shutil.which("mpirun"):
        print("1..0 # SKIP mpirun not found (Debian: openmpi-bin)")
        return 77
    has_py = subprocess.run(["/usr/bin/python3", "-c", "import mpi4py"], capture_output=True).returncode == 0
    if "mpi" not in fx and not has_py:
        print("1..0 # SKIP neither fx-mpi (libopenmpi-dev) nor mpi4py (python3-mpi4py)")
        return 77
    weft = os.path.abspath(args.weft)
    tmp = tempfile.mkdtemp(prefix="weft-mpi-test-")
    try:
        attempt(t_c, weft, fx, tmp)
        attempt(t_exec, weft, fx, tmp)
        attempt(t_hosts, weft, fx, tmp)
        attempt(t_py, weft, os.path.abspath(args.python_dir), tmp)
    finally:
        cleanup(tmp, args.keep)
    return plan()


if __name__ == "__main__":
    sys.exit(main())
