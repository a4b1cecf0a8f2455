#!/usr/bin/env python3
# test_hosts.py - several hosts on one clock by their TCP streams (issue 15):
# a client and a server of tests/programs/python/tcp_pingpong.py (N requests
# in lockstep, 8 bytes each way) under `weft exec`, the server acting as host
# "beta" (WEFT_TEST_HOST) whose clock runs 3 ms ahead and 40 ppm slow, each
# host's trace in its own directory (-o DIR/%h), both imported together.
# SPDX-License-Identifier: MIT
#
# usage: test_hosts.py --weft WEFT --python-dir DIR [--keep]
# Prints TAP.
#
# loopback  both on 127.0.0.1: two hosts in the database, the other boot
#           taken out by the wall-clock anchors, every one of the 2 x N
#           transfers matched between the hosts (messages), every socket flow
#           in order, no transfer received before it was sent, the estimated
#           offset within its uncertainty of the truth (known from the
#           distortion) and the uncertainty under a third of the skew.
# netns     the same between two network namespaces joined by a veth pair
#           (127.1.0.1 and 127.1.0.2, with route_localnet: loopback-range
#           addresses only), so the traffic crosses an interface; skipped
#           where namespaces cannot be made (not root, no iproute2).
# unlinked  two hosts that never talk (a sleep each): the import says the second
#           is placed by the wall clocks alone; its row has no messages and
#           no uncertainty.
# dask      a Dask cluster started as separate commands under weft exec
#           (python3-distributed; skipped without it): the scheduler and a
#           worker on this host, a worker on host beta, the client
#           (tests/programs/python/dask_cluster.py: 8 tasks and a sum that
#           gathers from the other worker); the report names both workers
#           with their hosts, their 2 task threads, the transfer between
#           them, the scheduler, the verdict about the workers.
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

from weftlib import attempt, clean_env, cleanup, eq, ok, plan, skip

TIMEOUT = 120
N = 200
SKEW_NS, DRIFT_PPM = 3000000, -40
PY = "/usr/bin/python3"


def run_pair(c, name, server_ns, client_ns, addr, port):
    """the server (host beta) and the client (this host) under weft exec; the database, or None"""
    d = os.path.join(c.tmp, name)
    e = clean_env(c.tmp)
    e["WEFT_IO"] = "1"
    beta = dict(e, WEFT_TEST_HOST="beta", WEFT_TEST_CLOCK_SKEW_NS=str(SKEW_NS), WEFT_TEST_CLOCK_DRIFT_PPM=str(DRIFT_PPM))
    prog = os.path.join(c.pydir, "tcp_pingpong.py")
    ex = [c.weft, "exec", "--run-id", "hosts-" + name, "-o", os.path.join(d, "%h"), "--", PY, prog]
    srv = subprocess.Popen(server_ns + ex + ["server", addr, str(port), str(N)], env=beta, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    cli = subprocess.run(client_ns + ex + ["client", addr, str(port), str(N)], env=e, timeout=TIMEOUT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sout, serr = srv.communicate(timeout=TIMEOUT)
    if not ok(cli.returncode == 0 and srv.returncode == 0 and b"client got %d" % N in cli.stdout,
              "%s: the client and the server (host beta) run to the end under weft exec" % name,
              (cli.stderr + serr).decode("utf-8", "replace")):
        return None
    dirs = sorted(os.path.join(d, x) for x in os.listdir(d))
    eq(len(dirs), 2, "%s: weft exec -o DIR/%%h: a directory per host" % name)
    db = d + ".db"
    r = subprocess.run([c.weft, "import", "-q"] + dirs + ["-o", db], env=e, timeout=TIMEOUT, stderr=subprocess.PIPE)
    return db if ok(r.returncode == 0, "%s: weft import of both directories exits 0" % name, r.stderr.decode()) else None


def check(c, name, db):
    con = sqlite3.connect(db)
    hosts = {r[1]: r for r in con.execute("SELECT host, name, anchor_shift_ns, clock_offset_ns, offset_uncertainty_ns, "
                                          "messages, offset_at_ns FROM host")}
    me = os.uname().nodename
    if not eq(sorted(hosts), sorted(["beta", me]), "%s: the host table names both hosts" % name):
        return
    other = me if hosts["beta"][0] == 0 else "beta"
    ok(1000e9 <= abs(hosts[other][2]) <= 2000e9,
       "%s: the wall-clock anchors take out beta's other boot (%.0f s)" % (name, hosts[other][2] / 1e9))
    _, _, _, est, unc, msgs, at = hosts[other]
    eq(msgs, 2 * N, "%s: all %d transfers matched by stream and offset between the hosts" % (name, 2 * N))
    flows = con.execute("SELECT count(*), coalesce(sum(to_ns < from_ns), 0) FROM flow WHERE kind = 13").fetchone()
    ok(flows[0] >= 1 and flows[1] == 0, "%s: socket flows (%d), none backwards in time" % (name, flows[0]))
    eq(con.execute("SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'host_messages_out_of_order'").fetchone(),
       (0,), "%s: no transfer received before it was sent after the correction" % name)
    # beta's clock = real + skew + drift x (real - its process's start)
    base = con.execute("SELECT min(p.start_ns) FROM process p JOIN host h USING (host) WHERE h.name = 'beta'").fetchone()[0]
    # The database maps the other host by its wall-clock anchors (shift), then by the offset: together
    # they must undo the boot offset (whole seconds, 1000 to 2000) and the distortion; the anchors'
    # own error (a few us) is the offset's to correct.
    shift = hosts[other][2]
    boot = round(abs(shift) / 1e9) * 1e9
    truth = (boot + SKEW_NS + DRIFT_PPM * 1e-6 * (at - base)) * (1 if other == me else -1) - shift
    ok(unc is not None and abs(est - truth) <= unc + 1000,
       "%s: %s's offset %.1f us +/- %s us (truth %.1f us, after the anchors' %.1f us)" %
       (name, other, est / 1e3, unc / 1e3 if unc is not None else None, truth / 1e3,
        (shift - (boot if other == me else -boot)) / 1e3))
    ok(unc is not None and unc < SKEW_NS / 3, "%s: the uncertainty is well under the skew" % name)
    con.close()
    ex = subprocess.run([c.weft, "export", "-o", "-", db], timeout=TIMEOUT, stdout=subprocess.PIPE)
    names = sorted(e["args"]["name"] for e in json.loads(ex.stdout or b"{}").get("traceEvents", [])
                   if e.get("name") == "process_name")
    ok(ex.returncode == 0 and len(names) == 2 and sorted(n[n.rfind(" (host "):] for n in names) ==
       sorted([" (host beta)", " (host %s)" % me]),
       "%s: the export names each process's host" % name, names)


def t_loopback(c):
    db = run_pair(c, "loopback", [], [], "127.0.0.1", 20000 + os.getpid() % 20000)
    if db:
        check(c, "loopback", db)
        spilled(c, "loopback", db)


def spilled(c, name, db):
    """the TCP transfers go through an external sort, a stream's rows past a bound to a temporary
    file (analyzer/import/sockets.c; hosts.c's alignment of the two hosts matches them the same
    way): imported with runs of one row and of seven, the database is the same, row for row"""
    d = os.path.join(c.tmp, name)
    dirs = sorted(os.path.join(d, x) for x in os.listdir(d))
    con = sqlite3.connect(db)
    dump, rows = list(con.iterdump()), con.execute("SELECT count(*) FROM socket_transfer").fetchone()[0]
    con.close()
    ok(rows > 0, "%s: socket_transfer has rows (%d)" % (name, rows))
    for spill in ("1", "7"):
        db2 = "%s.spill%s.db" % (d, spill)
        e = dict(clean_env(c.tmp), WEFT_IMPORT_WAIT_SPILL=spill)
        r = subprocess.run([c.weft, "import", "-q"] + dirs + ["-o", db2], env=e, timeout=TIMEOUT,
                           stderr=subprocess.PIPE)
        if ok(r.returncode == 0, "%s: weft import, sorts spilled every %s rows" % (name, spill), r.stderr.decode()):
            con = sqlite3.connect(db2)
            ok(list(con.iterdump()) == dump, "%s: sorts spilled every %s rows: the same database" % (name, spill))
            con.close()


def t_netns(c):
    if os.geteuid() != 0 or not shutil.which("ip"):
        skip("netns", "needs root and iproute2 (ip netns)")
        return
    a, b = "weft%da" % os.getpid(), "weft%db" % os.getpid()
    va, vb = "wv%da" % (os.getpid() % 100000), "wv%db" % (os.getpid() % 100000)
    setup = [["ip", "netns", "add", a], ["ip", "netns", "add", b],
             ["ip", "link", "add", va, "type", "veth", "peer", "name", vb],
             ["ip", "link", "set", va, "netns", a], ["ip", "link", "set", vb, "netns", b]]
    for ns, dev, ip in ((a, va, "127.1.0.1"), (b, vb, "127.1.0.2")):
        setup += [["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1"],
                  ["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.%s.route_localnet=1" % dev],
                  ["ip", "-n", ns, "addr", "add", ip + "/24", "dev", dev],
                  ["ip", "-n", ns, "link", "set", dev, "up"], ["ip", "-n", ns, "link", "set", "lo", "up"]]
    try:
        for cmd in setup:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            if p.returncode != 0:
                skip("netns", "cannot make network namespaces here: %s: %s" % (" ".join(cmd), p.stderr.decode().strip()))
                return
        db = run_pair(c, "netns", ["ip", "netns", "exec", b], ["ip", "netns", "exec", a], "127.1.0.2", 5080)
        if db:
            check(c, "netns", db)
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def t_dask(c):
    """a Dask cluster started as on a cluster, each part its own command under weft exec: the
    scheduler and worker A here, worker B as host beta (its clock skewed), the client here; one
    recording of both hosts names the workers, their task threads, GIL waits and transfers"""
    if subprocess.run([PY, "-c", "import distributed"], capture_output=True).returncode != 0:
        skip("dask cluster", "no dask.distributed for %s (python3-distributed)" % PY)
        return
    d = os.path.join(c.tmp, "dask")
    sched = os.path.join(c.tmp, "sched.json")
    e = clean_env(c.tmp)
    e["WEFT_IO"] = "1"
    beta = dict(e, WEFT_TEST_HOST="beta", WEFT_TEST_CLOCK_SKEW_NS=str(SKEW_NS),
                WEFT_TEST_CLOCK_DRIFT_PPM=str(DRIFT_PPM))
    ex = [c.weft, "exec", "--run-id", "dask-test", "-o", os.path.join(d, "%h"), "--", PY, "-m"]
    worker = ["distributed.cli.dask_worker", "--scheduler-file", sched, "--nthreads", "2", "--nworkers", "1",
              "--no-dashboard"]
    procs = [subprocess.Popen(ex + ["distributed.cli.dask_scheduler", "--scheduler-file", sched, "--port", "0",
                                    "--no-dashboard"], env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)]
    procs += [subprocess.Popen(ex + worker, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
              for env in (e, beta)]
    try:
        cl = subprocess.run(ex[:-1] + [os.path.join(c.pydir, "dask_cluster.py"), sched], env=e, timeout=TIMEOUT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for p in procs:
            p.wait(timeout=60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    if not ok(cl.returncode == 0 and b"dask_cluster total=" in cl.stdout,
              "dask cluster: the client's tasks ran on the scheduler and two workers, each under weft exec",
              cl.stderr.decode("utf-8", "replace")[-2000:]):
        return
    dirs = sorted(os.path.join(d, x) for x in os.listdir(d))
    db = d + ".db"
    r = subprocess.run([c.weft, "import", "-q"] + dirs + ["-o", db], env=e, timeout=TIMEOUT, stderr=subprocess.PIPE)
    if not ok(r.returncode == 0 and len(dirs) == 2, "dask cluster: weft import of both hosts' directories exits 0",
              r.stderr.decode()):
        return
    rep = subprocess.run([c.weft, "report", "--format", "json", db], env=e, timeout=TIMEOUT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    js = json.loads(rep.stdout) if rep.returncode == 0 else {}
    dk = (js.get("python") or {}).get("dask") or {}
    ws = dk.get("workers", [])
    hosts = {h["host"]: h["name"] for h in js.get("hosts", [])}
    ok(len(ws) == 2 and all(w["task_threads"] == 2 and w["task_ns"] > 0 for w in ws),
       "dask cluster: two workers, each with its 2 task threads that ran tasks", ws)
    ok(sorted(hosts.get(w["host"]) for w in ws) == sorted(["beta", os.uname().nodename]) and
       any("(host beta)" in w["label"] for w in ws), "dask cluster: the workers are named with their hosts",
       [w.get("label") for w in ws])
    ok(dk.get("scheduler_upid") is not None, "dask cluster: the scheduler is recorded", dk.get("scheduler_upid"))
    ok(dk.get("peer_bytes", 0) > 0 and any(w["recv_transfers"] >= 1 and w["transit_ns"] > 0 for w in ws),
       "dask cluster: the join task's inputs went from one worker to the other, with their time on the way", ws)
    ok(0 < dk.get("load_balance", 0) <= 1, "dask cluster: the workers' load balance", dk.get("load_balance"))
    v = js.get("verdict") or {}
    ok(v.get("reason") == "dask_workers" and v.get("choice") == "processes",
       "dask cluster: the verdict is about the workers", v)
    eq(js.get("host_messages_out_of_order"), 0, "dask cluster: no transfer received before it was sent")
    txt = subprocess.run([c.weft, "report", db], env=e, timeout=TIMEOUT, stdout=subprocess.PIPE).stdout.decode()
    ok("Dask cluster\n  2 workers: load balance" in txt, "dask cluster: the text report has the cluster's section",
       txt[-1500:])


def t_unlinked(c):
    """two hosts that never talk: imported together, the second placed by the wall clocks alone, and said"""
    d = os.path.join(c.tmp, "unlinked")
    e = clean_env(c.tmp)
    for h in ("h1", "h2"):
        p = subprocess.run([c.weft, "exec", "--run-id", "unlinked", "-o", os.path.join(d, "%h"), "--", "/bin/sleep",
                            "0.05"], env=dict(e, WEFT_TEST_HOST=h), timeout=TIMEOUT, stderr=subprocess.PIPE)
        ok(p.returncode == 0, "unlinked: weft exec on host %s exits 0" % h, p.stderr.decode())
    db = d + ".db"
    r = subprocess.run([c.weft, "import", os.path.join(d, "h1"), os.path.join(d, "h2"), "-o", db], env=e,
                       timeout=TIMEOUT, stderr=subprocess.PIPE)
    err = r.stderr.decode()
    ok(r.returncode == 0 and "on 2 hosts" in err and
       "host h2: no MPI message or TCP transfer (WEFT_IO=1) with the other hosts" in err,
       "unlinked: the import says the second host is placed by the wall clocks alone", err)
    con = sqlite3.connect(db) if r.returncode == 0 else None
    row = con.execute("SELECT messages, offset_uncertainty_ns, clock_offset_ns FROM host WHERE name = 'h2'").fetchone() \
        if con else None
    eq(row, (0, None, 0), "unlinked: h2 has no messages, no uncertainty, no correction beyond its anchors")


class Ctx:
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--python-dir", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    c = Ctx()
    c.weft, c.pydir = os.path.abspath(args.weft), os.path.abspath(args.python_dir)
    c.tmp = tempfile.mkdtemp(prefix="weft-hosts-test-")
    try:
        attempt(t_loopback, c)
        attempt(t_netns, c)
        attempt(t_unlinked, c)
        attempt(t_dask, c)
    finally:
        cleanup(c.tmp, args.keep)
    return plan()


if __name__ == "__main__":
    sys.exit(main())
