#!/usr/bin/env python3
# test_python.py - parallel Python end to end: the example programs of
# tests/programs/python recorded with `weft record` (no options: I/O waits
# are on by default for python), the database and the JSON report checked
# for the verdict each program must get.
# SPDX-License-Identifier: MIT
#
# usage: test_python.py --weft WEFT --python-dir DIR [--keep]
# Prints TAP. Runs with /usr/bin/python3 and, when there is one, with a
# different CPython 3.x found on PATH (python3, then python3.N); py_stacks
# with every pyenv CPython 3.8-3.13 too.
#
# gil_threads  4 CPU-bound threads: the GIL is found (objects named GIL),
#              the workers spend >= 25% of their life in gil_wait, the waits
#              name the holder, the report's "gil" finding is there.
# proc_pool    the same work on a Pool(2), start methods fork, spawn and
#              forkserver: both workers recorded and linked to the script's
#              process, their GIL waits under 5% of their life, no "gil" finding.
# io_threads   a ThreadPoolExecutor blocked in recv: io_wait recorded without
#              --io, the "io_overlap" verdict, no "gil" finding.
# unbalanced   a Pool(2) with one chunk of long tasks: the "imbalance" finding
#              names the worker that ran the longest.
# mp_lock      one multiprocessing.Lock held around the work of 4 processes (fork with
#              Process(target=work), spawn with a Process subclass: the children named
#              "ForkProcess-N (work)", "Worker-N (Worker.run)"): one
#              object, waited on from all 4, acquired exactly 4 x ROUNDS + 1 times, a contention
#              finding naming the with line, after no other cause; the lock named
#              "mp.Lock() at mp_lock.py:N", the line that made it.
# mp_untouched a mp.Lock() the parent makes and never takes, taken by 2 children (fork, spawn): one
#              object, acquired 2 x ROUNDS times, named "mp.Lock() at mp_untouched.py:N".
# manager_lock a Manager().Lock() held around the work of 4 processes: the lock of the SyncManager-1
#              process, acquired 4 x ROUNDS + 1 times, waited on by its 4 server threads, a "Manager
#              lock" contention finding; the lock named "mp.Manager().Lock() at manager_lock.py:N",
#              the client's line that made it.
# big_args     a ProcessPoolExecutor(2) sent 8 tasks of 8 MB in and out: the "ipc" finding first, no
#              lock finding for the result queue's lock; the bytes moved within 10% of the payload, in
#              16 to 40 messages; the verdict rests on it (its share named), no serial finding before it.
# startup      a spawn Pool(2) whose workers each spend 300 ms importing the main module again before
#              4 tasks of 5 ms: the "startup" finding with the spawn advice, before any serial finding,
#              the verdict resting on it (its share named); with fork none.
# joblib       Parallel(n_jobs=2): both loky workers recorded, linked to the
#              script's process (skipped without joblib); the library is
#              joblib (loky). With backend="threading": joblib (threading),
#              and the verdict's fix is joblib's backend="loky".
# slow_consumer a producer/consumer on a bounded queue.Queue: finding 1 is the
#              consumer as the bottleneck, naming the producer's put() line;
#              no serial finding before it; the verdict is processes.
# dask_threads Dask's threaded scheduler on CPU-bound tasks: the library is
#              dask (threads), the verdict processes with
#              dask.config.set(scheduler="processes") (skipped without dask).
# dask_processes Dask's process scheduler on 4 tasks, 2 workers allowed: its batches (chunksize 6)
#              put all 4 on one spawned worker: a pool of one worker, the one_worker finding naming
#              it with chunksize=1 as the fix; with chunksize=1, two workers and no such finding.
# dask_local   a distributed LocalCluster of 2 worker processes for 8 small tasks: the scheduler
#              is the process that started them, the verdict says their start outweighs the tasks,
#              and Dask's watcher threads make no io_overlap finding (skipped without distributed).
# numpy_threads 2 threads multiplying NumPy matrices (the GIL released): finding 1
#              is gil_released, the verdict threads (skipped without numpy).
# Every report of a Python program has a verdict (threads, processes or
# neither) and lists the libraries; waits for results never lead.
# py_stacks    with Debian's python3 and every CPython 3.8-3.13 under pyenv
#              (each absent one skipped): the waits of a lock, a join, a
#              sleep, the GIL and a wait 20 calls deep name the fixture's
#              functions and exact lines, innermost first, in the database,
#              the JSON report's call sites and findings, and the export.
# py_names     with the same Pythons: a threading.Lock, a Condition and its waiter, a queue.Queue and
#              its waiter named "threading.Lock() at py_names.py:N" etc. (before 3.11, which names
#              functions without their class, only the Lock and the Condition's RLock)
import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from weftlib import attempt, cleanup, linked_waits, marked_lines, ok, plan, pyenv_pythons, skip

TIMEOUT = 120


def env(tmp):
    e = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_") and not k.startswith("PYTHON")}
    e.pop("LD_PRELOAD", None)
    e["TMPDIR"] = tmp
    e["LC_ALL"] = "C"
    e["ASAN_OPTIONS"] = ":".join(filter(None, [e.get("ASAN_OPTIONS"), "verify_asan_link_order=0"]))
    return e


class Ctx:
    pass


def record(c, name, argv):
    db = os.path.join(c.tmp, "%s-%s.db" % (c.tag, name))
    p = subprocess.run([c.weft, "record", "-q", "-o", db, "--", c.py] + argv, env=env(c.tmp), timeout=TIMEOUT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode == 77:
        return None, p
    if not ok(p.returncode == 0 and os.path.exists(db), "%s %s: weft record exits 0" % (c.tag, name),
              p.stderr.decode("utf-8", "replace")):
        return None, p
    return db, p


def report(c, db):
    p = subprocess.run([c.weft, "report", "--format", "json", db], env=env(c.tmp), timeout=TIMEOUT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p.returncode == 0, "weft report --format json exits 0", p.stderr.decode("utf-8", "replace")):
        return None
    return json.loads(p.stdout)


def busy(r):
    """the machine was busy while the program ran: the report says so (machine_load), or other processes
    used a quarter of a CPU or more over the recording (another test's, in a parallel test run: its load
    can change how a pool hands out its tasks without making the program's threads wait for a CPU)"""
    rec = r.get("recording") or {}
    other, span = rec.get("other_cpu_ns") or 0, rec.get("end_ns") or 0
    return "machine_load" in kinds(r) or (span > 0 and other >= 0.25 * span)


def recorded_until(c, name, argv, good):
    """record NAME and report it; while the machine was busy (busy) and good(db, r) does not hold,
    record again (at most three recordings in all): a busy machine moves waits and shares, and what a
    test checks is the program's behaviour. Returns (db, report)."""
    db = r = None
    for attempt in range(3):
        db, _ = record(c, name + ("-again%d" % attempt if attempt else ""), argv)
        r = report(c, db) if db else None
        if not r or good(db, r) or not busy(r):
            break
    return db, r


GOOD_SIGNS = ("io_overlap", "gil_released")  # listed first by design: no cost, no cause


def percent_in(share, fmt, text):
    """Does text give share as a whole percentage in fmt? The JSON's share has six significant digits
    and the text was rounded from the unrounded figure: either neighbour of a half counts."""
    return any(fmt % ("%.0f%%" % (100 * share + d)) in text for d in (-0.005, 0, 0.005))


def kinds(r):
    return [f["kind"] for f in r["findings"]]


def root_of(con, upid):
    """the parent of the first image of upid's exec chain"""
    while True:
        ef, par = con.execute("SELECT exec_from_upid, parent_upid FROM process WHERE upid = ?", (upid,)).fetchone()
        if ef is None:
            return par
        upid = ef


def state_share(con, upids, state):
    q = ",".join("?" * len(upids))
    life = con.execute("SELECT sum(end_ns - start_ns) FROM thread WHERE upid IN (%s)" % q, upids).fetchone()[0]
    st = con.execute("SELECT coalesce(sum(dur_ns), 0) FROM thread_state JOIN thread USING (utid) "
                     "WHERE upid IN (%s) AND state = ?" % q, upids + [state]).fetchone()[0]
    return st / life if life else 0.0


def libs(r):
    return [(l["name"], l["variant"]) for l in r.get("python", {}).get("libraries", [])]


def check_verdict(c, name, r, choice, lib):
    """the verdict's choice, the library detected, and no idle-by-design finding before another"""
    v = r.get("verdict") or {}
    ok(v.get("choice") == choice and v.get("text"), "%s %s: the verdict is %s" % (c.tag, name, choice), v)
    ok(lib in libs(r), "%s %s: the library is %s" % (c.tag, name, lib), libs(r))
    design = [f["by_design"] for f in r["findings"] if f["kind"] not in ("machine_load", "io_overlap", "gil_released")]
    ok(design == sorted(design), "%s %s: waits for results rank after the other findings" % (c.tag, name),
       [(f["kind"], f["by_design"]) for f in r["findings"]])
    return v


def check_processes_fix(c, name, r, lib, phrase):
    """CPU-bound threads of library lib: the verdict is processes, and it and the gil finding (when the
    machine is quiet enough for one) give the fix as phrase, not the generic ProcessPoolExecutor"""
    v = check_verdict(c, name, r, "processes", lib)
    fixes = [f["fix"] for f in r["findings"] if f["kind"] == "gil"] + [v.get("text", "")]
    ok(all(phrase in x and "ProcessPoolExecutor" not in x for x in fixes),
       "%s %s: the fix is %s, not ProcessPoolExecutor" % (c.tag, name, phrase), fixes)


def t_gil(c):
    db, _ = record(c, "gil_threads", [os.path.join(c.pydir, "gil_threads.py"), "600000"])
    if not db:
        return
    con = sqlite3.connect(db)
    names = {r[0]: r[1] for r in con.execute("SELECT name, kind FROM sync_object WHERE name LIKE 'GIL%'")}
    ok(names.get("GIL") == 6 and names.get("GIL mutex") == 1,
       "%s gil_threads: the GIL's condvar and mutex are found and named" % c.tag, names)
    workers = [r[0] for r in con.execute("SELECT utid FROM thread WHERE NOT is_main")]
    ok(len(workers) == 4, "%s gil_threads: 4 threads besides main" % c.tag, workers)
    names = sorted(r[0] for r in con.execute("SELECT name FROM thread WHERE NOT is_main"))
    ok(names == ["cruncher-%d (crunch)" % i for i in range(4)],
       "%s gil_threads: the threads are named as threading names them, with their target" % c.tag, names)
    q = ",".join("?" * len(workers))
    life = con.execute("SELECT sum(end_ns - start_ns) FROM thread WHERE utid IN (%s)" % q, workers).fetchone()[0]
    gil = con.execute("SELECT coalesce(sum(dur_ns), 0) FROM thread_state WHERE state = 11 AND utid IN (%s)" % q,
                      workers).fetchone()[0]
    share = gil / life if life else 0
    ok(share >= 0.25, "%s gil_threads: the workers wait for the GIL %.0f%% of their life (>= 25%%)"
       % (c.tag, 100 * share))
    n, named = con.execute("SELECT count(*), count(blocker_utid) FROM thread_state ts JOIN sync_object o "
                           "USING (object_id) WHERE ts.state = 11 AND o.kind = 6 AND o.name = 'GIL'").fetchone()
    ok(n > 0 and named >= n / 2, "%s gil_threads: GIL waits name the holder (%d of %d)" % (c.tag, named, n))
    bad = con.execute("SELECT count(*) FROM thread_state WHERE state = 11 AND blocker_utid = utid").fetchone()[0]
    ok(bad == 0, "%s gil_threads: no thread waits on itself for the GIL" % c.tag, bad)
    others = con.execute("SELECT count(*) FROM thread_state WHERE state IN (1, 4) AND object_id IN "
                         "(SELECT object_id FROM sync_object WHERE name LIKE 'GIL%')").fetchone()[0]
    ok(others == 0, "%s gil_threads: no GIL wait is left as lock_wait or cond_wait" % c.tag, others)
    r = report(c, db)
    if r:
        f = [f for f in r["findings"] if f["kind"] == "gil"]
        # The verdict weighs the GIL waits by the share of the process's
        # running time on a CPU (findings-python.c): on a machine busy with
        # other work most of it is runnable, the waits are the load's, and the
        # finding rightly stays out; then the report must say the machine was
        # busy instead. On a quiet machine the share is near 1.
        pr = [p for p in r["processes"] if p["cpu_ns"]]
        cpu = sum(p["cpu_ns"] for p in pr)
        runq = sum(p["runq_ns"] or 0 for p in pr)
        on_cpu = cpu / (cpu + runq) if cpu + runq else 1
        if on_cpu >= 0.5 or f:
            ok(len(f) == 1 and "CPU-bound Python" in f[0]["title"] and "ProcessPoolExecutor" in f[0]["fix"],
               "%s gil_threads: the report's gil finding says CPU-bound Python, use processes (on a CPU %.0f%% "
               "of running time)" % (c.tag, 100 * on_cpu), kinds(r))
        else:
            ok(any(g["kind"] in ("machine_load", "oversubscribed") for g in r["findings"]),
               "%s gil_threads: on a busy machine (on a CPU %.0f%% of running time) no gil verdict, and the "
               "report says the CPUs were short" % (c.tag, 100 * on_cpu), kinds(r))
        ok(not [g for g in r["findings"] if g["kind"] == "condvar"],
           "%s gil_threads: no generic condvar finding for the GIL" % c.tag, kinds(r))
        # the critical path's what-if on the GIL is replayed by default as gil=off (free-threaded
        # Python): 4 CPU-bound threads on the machine's CPUs, each once the GIL is gone
        # (shorter: on a quiet machine; on a busy one, where the other load's share of the CPUs is replayed
        # too, it may come out within the error bar)
        # (a machine busy with other work, which the replay models as background threads always ready,
        # is no quiet one: under a 2-process CI run, background 0.48-0.6, the replay twice predicted
        # gil=off 1.5-1.6x LONGER, a defect of the model under such load (issue 17's notes), not of the
        # GIL's recording; there only its presence is checked)
        rp = r.get("replay") or {}
        wi = [w for w in rp.get("what_if", []) if w["spec"] == "gil=off"]
        quiet = on_cpu >= 0.5 and (rp.get("background_threads") or 0) < 0.3
        ok(len(wi) == 1 and not wi[0]["asked"] and 0 < wi[0]["predicted_fraction"] < (1 if quiet else float("inf")),
           "%s gil_threads: the default what-ifs replay no GIL once, a shorter run on a quiet machine (%s)"
           % (c.tag, "quiet" if quiet else "busy: background %.2f threads" % (rp.get("background_threads") or 0)),
           r.get("replay"))
        v = check_verdict(c, "gil_threads", r, "processes", ("threading", ""))
        ok("ProcessPoolExecutor" in v.get("text", ""), "%s gil_threads: the verdict names ProcessPoolExecutor"
           % c.tag, v.get("text"))
        if f:
            # (on a busy machine, said by a machine_load finding, the interpreter's start-up waiting
            # for a CPU is a serial phase of its own that may come first: only such symptoms)
            k = kinds(r)
            ahead = k[:k.index("gil")]
            ok(not ahead or ("machine_load" in k and
                             all(x in ("serial", "startup", "machine_load", "oversubscribed") for x in ahead)),
               "%s gil_threads: the gil finding is finding 1 (the serial time is its)" % c.tag, k)


def t_gil_launched(c):
    """gil_threads started by a shell that first runs a child of its own (a launcher, as pyenv's shims
    are): the report leaves the shell out, and its default what-ifs are still replayed, over the
    program's life alone (the launchers' 300 ms are not in the recorded length)"""
    db = os.path.join(c.tmp, "%s-gil-launched.db" % c.tag)
    p = subprocess.run([c.weft, "record", "-q", "-o", db, "--", "/bin/sh", "-c", 'sleep 0.3; exec "$0" "$@"', c.py,
                        os.path.join(c.pydir, "gil_threads.py"), "300000"], env=env(c.tmp), timeout=TIMEOUT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p.returncode == 0, "%s gil launched: weft record exits 0" % c.tag, p.stderr.decode("utf-8", "replace")):
        return
    r = report(c, db)
    if not r:
        return
    rg, rp = r["range"], r.get("replay") or {}
    ok(rg["launchers"] >= 2 and not rg["whole"], "%s gil launched: the shell and its sleep are left out" % c.tag, rg)
    wi = [w for w in rp.get("what_if", []) if w["spec"] == "gil=off"]
    ok(rp.get("defaults") and len(wi) == 1 and not wi[0]["asked"] and wi[0]["predicted_fraction"] > 0,
       "%s gil launched: the default what-ifs are replayed (gil=off)" % c.tag, rp)
    rec = rp.get("recorded_ns") or 0
    ok(0.8 * rg["duration_ns"] <= rec <= rg["duration_ns"] and rg["start_ns"] >= 300000000,
       "%s gil launched: the replay is of the program's %d ns, not the recording's %d ns"
       % (c.tag, rg["duration_ns"], r["recording"]["end_ns"]), rp)


def t_pool(c, method):
    db, _ = record(c, "proc_pool-" + method, [os.path.join(c.pydir, "proc_pool.py"), method, "150000"])
    if not db:
        return
    con = sqlite3.connect(db)
    procs = con.execute("SELECT upid, cmdline, end_how FROM process").fetchall()
    script = [u for u, cmd, _ in procs if cmd.endswith("proc_pool.py %s 150000" % method)
              and root_of(con, u) is None]
    fs = [u for u, cmd, _ in procs if "forkserver import main" in cmd and root_of(con, u) in script]
    workers = [u for u, cmd, how in procs if how != "exec" and "resource_tracker" not in cmd
               and u not in script and u not in fs]
    ok(len(script) == 1 and len(workers) == 2, "%s proc_pool %s: the script and its 2 workers are recorded"
       % (c.tag, method), procs)
    if len(script) != 1:
        return
    parents = {u: root_of(con, u) for u in workers}
    want = fs[0] if method == "forkserver" and fs else script[0]
    ok(all(p == want for p in parents.values()), "%s proc_pool %s: each worker is linked to %s"
       % (c.tag, method, "the forkserver" if method == "forkserver" else "the script"), (parents, want))
    if method == "forkserver":
        ok(fs and root_of(con, fs[0]) == script[0], "%s proc_pool forkserver: the forkserver is the script's child"
           % c.tag, fs)
    share = state_share(con, workers, 11) if workers else 1
    ok(share < 0.05, "%s proc_pool %s: workers wait for the GIL %.1f%% of their life (< 5%%)"
       % (c.tag, method, 100 * share))
    prefix = {"fork": "ForkPoolWorker-", "spawn": "SpawnPoolWorker-", "forkserver": "ForkServerPoolWorker-"}[method]
    wn = sorted(con.execute("SELECT name FROM thread WHERE is_main AND upid IN (%s)" % ",".join("?" * len(workers)),
                            workers).fetchall()) if workers else []
    # (a worker the pool terminates before it got through its start-up never ran BaseProcess._bootstrap
    # and keeps the interpreter's name: a loaded machine can make the other worker do every task)
    ok(len(wn) == 2 and any(n.startswith(prefix) for (n,) in wn) and
       all(n.startswith(prefix) or n.startswith("python") for (n,) in wn),
       "%s proc_pool %s: the workers' main threads are named after their process (%s*)" % (c.tag, method, prefix),
       wn)
    r = report(c, db)
    if r:
        ok("gil" not in kinds(r), "%s proc_pool %s: no gil finding" % (c.tag, method), kinds(r))
        # (the moves' waits include waits for a CPU: on a machine busy with the other tests a run can
        # make them look as dear as the small tasks; recorded again, up to twice, before it counts)
        for again in range(2):
            if "ipc" not in kinds(r):
                break
            db2, _ = record(c, "proc_pool-%s-again%d" % (method, again),
                            [os.path.join(c.pydir, "proc_pool.py"), method, "150000"])
            r = (report(c, db2) if db2 else None) or r
        ok("ipc" not in kinds(r), "%s proc_pool %s: small arguments: no finding about moving data" % (c.tag, method),
           kinds(r))


def t_io(c):
    db, _ = record(c, "io_threads", [os.path.join(c.pydir, "io_threads.py"), "12"])
    if not db:
        return
    con = sqlite3.connect(db)
    io = con.execute("SELECT count(*) FROM thread_state WHERE state IN (9, 10)").fetchone()[0]
    ok(io > 0, "%s io_threads: I/O waits and sleeps recorded without --io (the default for python)" % c.tag, io)
    r = report(c, db)
    if r:
        k = kinds(r)
        ok("io_overlap" in k and "gil" not in k, "%s io_threads: the io_overlap verdict, no gil finding" % c.tag, k)
        ok("io" not in k and "sleep" not in k, "%s io_threads: no generic I/O or sleep finding" % c.tag, k)
        ok(k and k[0] == "io_overlap", "%s io_threads: threading is the right choice, said first" % c.tag, k)
        check_verdict(c, "io_threads", r, "threads", ("concurrent.futures.ThreadPoolExecutor", ""))
        res = [f for f in r["findings"] if "Future.result" in f["title"]]
        ok(res and all(f["by_design"] for f in res), "%s io_threads: the waits for Future.result() are idle by "
           "design" % c.tag, [(f["title"][:60], f["by_design"]) for f in res])
        # the Futures' locks (one per request): one finding for the lot, not one per lock
        pl = [f for f in r["findings"] if f["kind"] == "contention" and "Python lock" in f["title"]]
        grouped = [f for f in pl if re.match(r"\d+ Python locks or semaphores made at ", f["title"])]
        single = [f for f in pl if f not in grouped and re.search(r" #\d+", f["title"])]
        # (one group per creation site: a Future's condition and its waiters' locks are made at two)
        # (12 requests; a Future whose result was ready before main asked makes no wait: how many did
        # depends on the machine's load, 5 of 12 on a busy one; two are enough to be a group)
        ok(grouped and not single and sum(int(f["title"].split()[0]) for f in grouped) >= 2,
           "%s io_threads: the per-request Python locks make one finding per creation site" % c.tag,
           [f["title"] for f in pl])


def t_startup(c):
    """startup_pool.py: each spawned worker imports the main module again, which spins 300 ms at
    module level, before 4 tasks of 5 ms: the start-up finding, with the spawn advice. With fork the
    workers inherit the parent's imports: no start-up finding."""
    db, _ = record(c, "startup_pool-spawn", [os.path.join(c.pydir, "startup_pool.py"), "spawn"])
    if not db:
        return
    r = report(c, db)
    if not r:
        return
    f = [f for f in r["findings"] if f["kind"] == "startup"]
    ok(len(f) == 1 and "2 workers" in f[0]["title"] and "starting up" in f[0]["title"] and
       "start method spawn" in f[0]["evidence"], "%s startup_pool spawn: one start-up finding" % c.tag, kinds(r))
    if f:
        ok("fork" in f[0]["fix"] and "reuse" in f[0]["fix"] and "__main__" in f[0]["fix"],
           "%s startup_pool spawn: the fix names fork, reusing the pool and a light main module" % c.tag, f[0]["fix"])
        # (a worker that took longer to start finishes later: on a busy machine the straggler it makes
        # may outrank it)
        ranked = [g["kind"] for g in r["findings"]
                  if g["kind"] not in ("machine_load", "serial", "oversubscribed") + GOOD_SIGNS]
        ok(ranked and (ranked[0] == "startup" or ranked[:2] == ["imbalance", "startup"]),
           "%s startup_pool spawn: the start-up leads the program's own findings (or follows the straggler "
           "it made)" % c.tag, kinds(r))
        # causes before symptoms: the serial time while the workers start is the start-up's
        k = kinds(r)
        ok("serial" not in k or k.index("serial") > k.index("startup"),
           "%s startup_pool spawn: no serial finding before the start-up" % c.tag, k)
        v = r.get("verdict") or {}
        pl = (r.get("python", {}).get("pools") or [{}])[0]
        want = "%.0f%% of their running time" % (100 * pl.get("startup_share", -1))
        ok((v.get("reason") == "startup" and v.get("choice") == "processes" and "starting up" in v.get("text", "")
            and percent_in(pl.get("startup_share", -1), "%s of their running time", v.get("text", "")) and abs(v.get("startup_share", -1) - pl.get("startup_share", 0)) < 1e-6)
           or (ranked[0] == "imbalance" and v.get("reason") == "straggler"),
           "%s startup_pool spawn: the verdict rests on the start-up, naming its share (%s)" % (c.tag, want), v)
    db, _ = record(c, "startup_pool-fork", [os.path.join(c.pydir, "startup_pool.py"), "fork"])
    r = report(c, db) if db else None
    if r:
        ok("startup" not in kinds(r), "%s startup_pool fork: forked workers get no start-up finding" % c.tag,
           kinds(r))
    # forkserver: the server forks each worker, which imports the main module again (no interpreter start)
    # (recorded up to three times: a CI run once had no start-up finding at all here, its kinds
    # ['serial', 'unrecorded'], with the other tests of a 2-process run on the machine; not seen again in
    # 14 recordings, 8 of them beside two busy loops)
    r = None
    for attempt in range(3):
        db, _ = record(c, "startup_pool-forkserver%s" % (attempt or ""),
                       [os.path.join(c.pydir, "startup_pool.py"), "forkserver"])
        r = report(c, db) if db else None
        if not r or [f for f in r["findings"] if f["kind"] == "startup"]:
            break
    if r:
        f = [f for f in r["findings"] if f["kind"] == "startup"]
        ok(len(f) == 1 and "each forked from one server, then the main module imported again" in f[0]["title"]
           and "start method forkserver" in f[0]["evidence"],
           "%s startup_pool forkserver: the start-up finding says what a forkserver worker's start is" % c.tag,
           [g["title"] for g in f] or kinds(r))


def t_big_args(c):
    """big_args.py: 8 tasks of 8 MB in and out on a ProcessPoolExecutor(2), a few ms of work each: moving
    the data is the first finding (the parent's feeder and result threads named), with the fix to send
    less; the result queue's lock the workers share is the pool's own, no lock finding"""
    db, _ = record(c, "big_args", [os.path.join(c.pydir, "big_args.py")])
    r = report(c, db) if db else None
    if not r:
        return
    own = [f for f in r["findings"] if f["kind"] not in ("machine_load", "serial", "oversubscribed") + GOOD_SIGNS]
    f = own[0] if own else {}
    ok(f.get("kind") == "ipc" and "2 workers" in f.get("title", "") and "QueueFeederThread" in f.get("evidence", ""),
       "%s big_args: moving data is the program's first finding, its feeder thread named" % c.tag, kinds(r))
    ok("shared memory" in f.get("fix", "") and "chunksize" in f.get("fix", ""),
       "%s big_args: the fix sends less (shared memory, chunksize)" % c.tag, f.get("fix"))
    ok(not [g for g in r["findings"] if g["kind"] == "contention"],
       "%s big_args: the queues' locks the workers share are no lock finding" % c.tag, kinds(r))
    # the bytes moved: 8 tasks of 8 MiB out and 8 results of 8 MiB back, and a few small messages
    # (the pickles' headers, the executor's wake-ups and sentinels): at least the payload, at most 1.1x
    payload = 8 * (8 << 20)
    pools = r.get("python", {}).get("pools", [])
    pl = pools[0] if len(pools) == 1 else {}
    ok(payload <= pl.get("ipc_sent_bytes", 0) <= 1.1 * payload and
       2 * payload <= pl.get("ipc_bytes", 0) <= 1.1 * 2 * payload,
       "%s big_args: the pool moved the 64 MiB of arguments and 64 MiB of results, within 10%%" % c.tag, pools)
    # causes before symptoms: the verdict names the cost of moving data and its share of the work; a
    # serial finding (the parent builds the data alone first) comes after it
    v = r.get("verdict") or {}
    want = "%.0f%% of the" % (100 * pl.get("ipc_share", -1))
    ok(v.get("reason") == "ipc" and v.get("choice") == "processes" and "Moving the data" in v.get("text", "") and
       percent_in(pl.get("ipc_share", -1), "%s of the", v.get("text", "")) and "134 MB" in v.get("text", ""),
       "%s big_args: the verdict rests on moving the data, naming its share (%s) and the bytes" % (c.tag, want), v)
    k = kinds(r)
    ok("serial" not in k or k.index("serial") > k.index("ipc"),
       "%s big_args: no serial finding before the ipc one" % c.tag, k)
    # 16 data messages (a 4-byte length and its payload are one), and the few small ones: under 40
    ok(16 <= pl.get("ipc_messages", 0) <= 40, "%s big_args: ... in 16 to 40 messages" % c.tag,
       pl.get("ipc_messages"))
    ok(re.search(r": 134 MB in %d messages \(\d+(\.\d+)? [kMG]B/s\)" % pl.get("ipc_messages", -1),
                 f.get("title", "")) and "the parent sent 67.1 MB of task arguments, the workers returned 67.1 MB"
       in f.get("evidence", ""), "%s big_args: the finding gives the bytes, messages and rate" % c.tag,
       (f.get("title"), f.get("evidence")))


def t_unbalanced(c):
    # A busy machine can start one worker so late that the other takes both chunks, or slow the
    # workers unevenly: then there is no straggler to find. The run is tried up to 3 times; a missing
    # finding in all of them is a failure (a pool whose straggler weft never names).
    for attempt in range(3):
        db = os.path.join(c.tmp, "%s-unbalanced_pool.db" % c.tag)
        if os.path.exists(db):
            os.unlink(db)
        db, _ = record(c, "unbalanced_pool", [os.path.join(c.pydir, "unbalanced_pool.py"), "fork", "60000"])
        if not db:
            return
        r = report(c, db)
        if not r:
            return
        f = [f for f in r["findings"] if f["kind"] == "imbalance" and "finished" in f["title"]]
        if f:
            break
        print("# unbalanced_pool: no straggler (%s), attempt %d of 3" % (kinds(r), attempt + 1))
    con = sqlite3.connect(db)
    if not ok(len(f) == 1, "%s unbalanced_pool: the straggler finding" % c.tag, kinds(r)):
        return
    ok("chunksize" in f[0]["fix"] and "imap_unordered" in f[0]["fix"],
       "%s unbalanced_pool: the fix names chunksize and imap_unordered" % c.tag, f[0]["fix"])
    v = check_verdict(c, "unbalanced_pool", r, "processes", ("multiprocessing.Pool", ""))
    ok(v.get("reason") == "straggler" and "chunksize=1" in v.get("text", ""),
       "%s unbalanced_pool: the verdict keeps processes and hands out smaller tasks" % c.tag, v)
    serial = [g for g in r["findings"] if g["kind"] == "serial"]
    ok(not serial or "of the run's serial time" in f[0]["evidence"],
       "%s unbalanced_pool: the straggler's lag is its own, not the serial finding's" % c.tag, f[0]["evidence"])
    # the worker that ran the long chunk: the most running time
    busiest = con.execute("SELECT t.utid FROM thread t JOIN process p USING (upid) JOIN thread_state ts "
                          "USING (utid) WHERE p.parent_upid IS NOT NULL AND ts.state = 0 AND t.is_main "
                          "GROUP BY t.utid ORDER BY sum(ts.dur_ns) DESC LIMIT 1").fetchone()
    ok(busiest and f[0]["utid"] == busiest[0], "%s unbalanced_pool: the straggler is the busiest worker" % c.tag,
       (f[0]["utid"], busiest))
    # the pipes: the results the workers write end the parent's reads (pipe flows), so the critical path
    # goes through the straggler, the thread with the most time on it
    npipe = con.execute("SELECT count(*) FROM flow WHERE kind = 10").fetchone()[0]
    ok(npipe >= 2, "%s unbalanced_pool: results cross from the workers to the parent as pipe flows (%d)"
       % (c.tag, npipe))
    cp = r.get("critical_path") or {}
    on = {}
    for sg in cp.get("segments", []):
        on[sg["utid"]] = on.get(sg["utid"], 0) + sg["end_ns"] - sg["start_ns"]
    # (which worker: the straggler when the machine is quiet; on a loaded one the other may finish last)
    workers = [u for (u,) in con.execute("SELECT t.utid FROM thread t JOIN process p USING (upid) "
                                          "WHERE p.parent_upid IS NOT NULL AND t.is_main")]
    total = sum(on.values())
    best = max((on.get(u, 0) for u in workers), default=0)
    ok(total > 0 and best >= 0.2 * total, "%s unbalanced_pool: the critical path goes into a worker process "
       "(%.0f%% of it in one)" % (c.tag, 100 * best / total if total else 0), (workers, busiest, on))


def t_mp_lock(c, method, subclass=False):
    """mp_lock.py: one multiprocessing.Lock held around the work of 4 processes is one object, waited on
    from all 4, acquired ROUNDS times by each (and once by the parent), and a finding naming the line.
    subclass: the 4 are instances of a Process subclass with its own run (Worker-1..4)."""
    rounds = 10
    script = os.path.join(c.pydir, "mp_lock.py")
    lines = marked_lines(script)
    tag = "%s mp_lock %s%s" % (c.tag, method, " subclass" if subclass else "")
    # On a busy machine (the report says so: machine_load) the 4 children may start so far apart that
    # they hardly meet at the lock, and its finding goes: record again (at most three times); the counts
    # below are exact in any recording, the finding is checked only in an undisturbed one.
    for attempt in range(3):
        db, _ = record(c, "mp_lock-" + method + ("-again%d" % attempt if attempt else ""),
                       [script, method, str(rounds), "20000"] + (["subclass"] if subclass else []))
        r = report(c, db) if db else None
        if not r:
            return
        if "contention" in kinds(r) or "machine_load" not in kinds(r):
            break
    con = sqlite3.connect(db)
    # the children are named after their process and the program's code they run (the hook)
    names = sorted(n for (n,) in con.execute("SELECT t.name FROM thread t JOIN process p USING (upid) WHERE t.is_main "
                                             "AND p.parent_upid IN (SELECT upid FROM thread WHERE name LIKE "
                                             "'python%' AND is_main) AND t.name NOT LIKE 'python%'"))
    want = ["Worker-%d (Worker.run)" % i if subclass else "%sProcess-%d (work)" % (method.capitalize(), i)
            for i in range(1, 5)]
    ok(names == want, "%s: the children are named %s .. %s" % (tag, want[0], want[-1]), names)
    # the objects waited on from more than one process: exactly one, from the 4 children
    shared = con.execute("SELECT ts.object_id, count(DISTINCT t.upid) FROM thread_state ts JOIN thread t "
                         "USING (utid) WHERE ts.state = 6 GROUP BY ts.object_id HAVING count(DISTINCT t.upid) > 1"
                         ).fetchall()
    if not ok(len(shared) == 1 and shared[0][1] == 4, "%s: one lock, waited on from all 4 children" % tag, shared):
        return
    obj = shared[0][0]
    acq = con.execute("SELECT acquisitions FROM sync_object WHERE object_id = ?", (obj,)).fetchone()[0]
    ok(acq == 4 * rounds + 1, "%s: acquired 4 x %d + 1 times in all (%d)" % (tag, rounds, acq))
    per = con.execute("SELECT p.parent_upid IS NULL, sum(lc.acquisitions) FROM lock_count lc JOIN thread t "
                      "USING (utid) JOIN process p ON p.upid = t.upid WHERE lc.object_id = ? GROUP BY t.upid "
                      "ORDER BY 1 DESC", (obj,)).fetchall()
    ok(per == [(1, 1)] + [(0, rounds)] * 4, "%s: the parent acquired it once, each child %d times" % (tag, rounds),
       per)
    # a wait on it is ended by a post in another process (the poster sees the waiters in the semaphore's
    # own value word, not in its process's): a sem_post flow from there, and the wait's waker (but for a
    # waiter whose post came between its failed try and its sleep, a race of microseconds)
    waits, linked = linked_waits(con, obj, 6, 4)  # sem_wait, sem_post
    ok(waits and len(linked) >= len(waits) - len(waits) // 10,
       "%s: %d of the %d waits on it have a post from another process, their waker" % (tag, len(linked), len(waits)),
       [w for w in waits if w not in linked])
    f = [(i, x) for i, x in enumerate(r["findings"], 1) if x.get("object_id") == obj]
    if not f and "machine_load" in kinds(r):
        skip("%s: a contention finding on the lock" % tag, "the machine was busy in 3 recordings (%s)" % kinds(r))
        return
    if not ok(len(f) == 1 and f[0][1]["kind"] == "contention", "%s: a contention finding on the lock" % tag,
              kinds(r)):
        return
    rank, f = f[0]
    ok("multiprocessing lock" in f["title"] and "shared by 4 processes" in f["title"],
       "%s: ... a multiprocessing lock shared by 4 processes" % tag, f["title"])
    name = "mp.Lock() at mp_lock.py:%d" % lines["LOCK-MADE"][0]
    named = [o["name"] for o in r["sync_objects"] if o["object_id"] == obj]
    ok(len(named) == 1 and named[0].startswith(name) and name in f["title"],
       "%s: ... named %s, where it was made" % (tag, name),
       (named, f["title"]))
    ok("top site work (mp_lock.py:%d)" % lines["LOCK-WAIT"][0] in f["evidence"],
       "%s: ... its waits at the with of work()" % tag, f["evidence"])
    ok("hold it around less" in f["fix"] and "partition the data" in f["fix"],
       "%s: ... the fix: hold it around less, or partition the data" % tag, f["fix"])
    # (only its symptoms may come first: the serial phase it makes, the CPUs the 4 processes wait for
    # while they start, a child that finished last because it got the lock last (the straggler finding
    # names the lock: when a release lets the releaser take it again, the turns are long and the last
    # one's lag can cost more than the waits); issue 13 item 6 puts causes first. With spawn, the 4
    # interpreters' start-up, which this little work cannot hide, is a cause of its own)
    ahead = [(x["kind"], x["title"]) for x in r["findings"][:rank - 1] if x["kind"] not in GOOD_SIGNS]
    ok(all(k in ("serial", "oversubscribed", "machine_load") or (k == "startup" and "spawn" in tag)
           or (k == "imbalance" and ("took turns on " + name) in t) for k, t in ahead),
       "%s: ... ranked %d, after no other cause" % (tag, rank), ahead)
    # the verdict is the lock's (unless the spawned interpreters' start-up came first), and a straggler
    # among the 4 is the order they got the lock in, not longer tasks
    v = r.get("verdict") or {}
    if "startup" not in [k for k, _ in ahead]:
        ok(v.get("reason") == "shared_lock" and name in v.get("text", "") and "one at a time" in v.get("text", ""),
           "%s: the verdict: the 4 processes took turns on the lock" % tag, v)
    strag = [x["title"] for x in r["findings"] if x["kind"] == "imbalance" and " finished " in x["title"]]
    ok(all(("took turns on " + name) in t and "tasks were longer" not in t and t.startswith("process ")
           and " of the child processes of pid " in t for t in strag),
       "%s: a straggler (%d) is a child process that finished last for the lock, not for longer tasks"
       % (tag, len(strag)), strag)
    # its 4 multiprocessing.Process children are no pool: no finding, fix or verdict calls them one
    pool_words = ("of the pool", "the pool's", "in the pool", "workers of")
    pooled = [t for t in [x[k] for x in r["findings"] for k in ("title", "evidence", "fix")] + [v.get("text", "")]
              if any(w in t for w in pool_words)]
    ok(not pooled, "%s: nothing calls the 4 processes a pool's workers" % tag, pooled)


def t_mp_untouched(c, method):
    """mp_untouched.py: a mp.Lock() the parent made and never took, taken only by its 2 children (forked, or
    spawned: they open it by name), is one object, acquired 2 x ROUNDS times, named where it was made."""
    rounds = 5
    script = os.path.join(c.pydir, "mp_untouched.py")
    db, _ = record(c, "mp_untouched-" + method, [script, method, str(rounds)])
    if not db:
        return
    tag = "%s mp_untouched %s" % (c.tag, method)
    r = report(c, db)
    if not r:
        return
    name = "mp.Lock() at mp_untouched.py:%d" % marked_lines(script)["LOCK-MADE"][0]
    objs = [(o["name"], o["acquisitions"]) for o in r["sync_objects"] if o["name"].startswith(name)]
    ok(objs == [(name, 2 * rounds)], "%s: one object, named %s, acquired 2 x %d times" % (tag, name, rounds),
       objs)


def t_manager_lock(c):
    """manager_lock.py: a Manager().Lock() taken by 4 processes is a threading.Lock in the manager's
    process, acquired 4 x ROUNDS times by its server threads for the clients: a finding."""
    rounds = 10
    db, _ = record(c, "manager_lock", [os.path.join(c.pydir, "manager_lock.py"), str(rounds), "20000"])
    if not db:
        return
    con = sqlite3.connect(db)
    tag = "%s manager_lock" % c.tag
    r = report(c, db)
    if not r:
        return
    f = [(i, x) for i, x in enumerate(r["findings"], 1) if "Manager lock" in x["title"]]
    if not ok(len(f) == 1 and f[0][1]["kind"] == "contention", "%s: a Manager lock finding" % tag, kinds(r)):
        return
    rank, f = f[0]
    row = con.execute("SELECT so.acquisitions, (SELECT name FROM thread WHERE upid = so.upid AND is_main) "
                      "FROM sync_object so WHERE so.object_id = ?", (f["object_id"],)).fetchone()
    ok(row == (4 * rounds + 1, "SyncManager-1"),
       "%s: ... the lock of the SyncManager-1 process, acquired 4 x %d + 1 times" % (tag, rounds), row)
    waits = con.execute("SELECT count(*), count(DISTINCT utid) FROM thread_state WHERE object_id = ? AND state = 6",
                        (f["object_id"],)).fetchone()
    # (each of the 4 clients has a server thread; which of them find the lock taken is the scheduler's: on
    # one CI run 3 of the 4 waited, 18 times)
    ok(waits[0] >= 4 and waits[1] >= 2, "%s: ... waited on by several server threads" % tag, waits)
    ok("in the manager's process" in f["title"] and "multiprocessing.Lock" in f["fix"],
       "%s: ... named as the Manager's, the fix a multiprocessing.Lock or less under it" % tag, (f["title"], f["fix"]))
    # named by the client's line that asked for it, not by Server.create in the manager
    made = marked_lines(os.path.join(c.pydir, "manager_lock.py")).get("LOCK-MADE", [0])[0]
    name = "mp.Manager().Lock() at manager_lock.py:%d" % made
    ok(f["title"].startswith("Manager lock %s (in the manager's process)" % name),
       "%s: ... named %s, the client's line" % (tag, name), f["title"])
    # (only its symptoms may come first, as for mp_lock: the serial phases it makes, the CPUs the
    # processes wait for, the clients' work made uneven by their turns at it (seen ahead on a CI run);
    # and what is not the program's: the machine's load, the manager process's start-up)
    ahead = [x["kind"] for x in r["findings"][:rank - 1] if x["kind"] not in GOOD_SIGNS]
    ok(all(k in ("serial", "oversubscribed", "imbalance", "machine_load", "startup") for k in ahead),
       "%s: ... ranked %d, after no other cause" % (tag, rank), ahead)


def t_joblib(c):
    db, p = record(c, "joblib_pool", [os.path.join(c.pydir, "joblib_pool.py"), "60000"])
    if p.returncode == 77:
        skip("%s joblib_pool" % c.tag, "no joblib for this python")
        return
    if not db:
        return
    con = sqlite3.connect(db)
    procs = con.execute("SELECT upid, cmdline FROM process WHERE end_how != 'exec'").fetchall()
    script = [u for u, cmd in procs if cmd.endswith("joblib_pool.py 60000")]
    loky = [u for u, cmd in procs if "LokyProcess" in cmd]
    ok(len(script) == 1 and len(loky) == 2, "%s joblib_pool: both loky workers are recorded" % c.tag, procs)
    ok(script and all(root_of(con, u) == script[0] for u in loky),
       "%s joblib_pool: each worker is linked to the script's process" % c.tag)
    share = state_share(con, loky, 11) if loky else 1
    ok(share < 0.05, "%s joblib_pool: workers wait for the GIL %.1f%% of their life" % (c.tag, 100 * share))
    ln = sorted(n for (n,) in con.execute("SELECT name FROM thread WHERE is_main AND upid IN (%s)"
                                         % ",".join("?" * len(loky)), loky)) if loky else []
    ok(len(ln) == 2 and any(n.startswith("LokyProcess-") for n in ln) and
       all(n.startswith("LokyProcess-") or n.startswith("python") for n in ln),
       "%s joblib_pool: the loky workers are named LokyProcess-N" % c.tag, ln)
    r = report(c, db)
    if r:
        ok(("joblib", "loky") in libs(r), "%s joblib_pool: the library is joblib (loky)" % c.tag, libs(r))
        ok((r.get("verdict") or {}).get("choice") == "processes", "%s joblib_pool: the verdict is processes"
           % c.tag, r.get("verdict"))
    # the threading backend: CPU-bound tasks on threads, the fix in joblib's words (tasks long enough that the
    # GIL-bound part outweighs importing joblib: at 300000 iterations one recording in ten read as serial)
    db, r = recorded_until(c, "joblib_threads", [os.path.join(c.pydir, "joblib_pool.py"), "1200000", "threading"],
                           lambda db, r: (r.get("verdict") or {}).get("choice") == "processes")
    if r:
        check_processes_fix(c, "joblib threading", r, ("joblib", "threading"), 'backend="loky"')


def t_slow_consumer(c):
    """a pipeline whose consumer is the bottleneck: named first, the producer's put() as the wait"""
    script = os.path.join(c.pydir, "slow_consumer.py")
    lines = marked_lines(script)
    # On a busy machine (the report warns: machine_load) the interpreter's start-up waits for a CPU
    # as a serial phase that can outrank the pipeline, and the waits move: record again (at most
    # three times); if every recording was disturbed, the ranking is not checked (said so).
    for attempt in range(3):
        db, _ = record(c, "slow_consumer" + ("-again%d" % attempt if attempt else ""), [script, "100", "20000"])
        r = report(c, db) if db else None
        if not r:
            return
        f = r["findings"][0] if r["findings"] else {}
        if f.get("kind") == "bottleneck" or "machine_load" not in kinds(r):
            break
    else:
        skip("%s slow_consumer: the bottleneck first" % c.tag,
             "the machine was busy in 3 recordings (machine_load: %s)" % kinds(r))
        return
    con = sqlite3.connect(db)
    consumer = con.execute("SELECT utid FROM thread WHERE name = 'consumer (consume)'").fetchone()
    ok(f.get("kind") == "bottleneck" and consumer and f.get("utid") == consumer[0] and
       f["title"].startswith("consumer (consume) [") and "producer (produce) [" in f["title"],
       "%s slow_consumer: finding 1 names the consumer as the bottleneck" % c.tag, (kinds(r), f.get("title")))
    # (the producer's waits are at its two puts; which one waited longest, the loop's or the last one's
    # when the queue is full at the end, is the scheduler's)
    puts = ["produce (slow_consumer.py:%d)" % n for n in lines["PUT"]]
    ok(any(p in f.get("evidence", "") for p in puts),
       "%s slow_consumer: the evidence names the producer's wait at one of %s" % (c.tag, puts), f.get("evidence"))
    ok("processes" in f.get("fix", ""), "%s slow_consumer: the fix runs the consumer's work in processes" % c.tag,
       f.get("fix"))
    ok("gil" not in kinds(r), "%s slow_consumer: the producer's GIL waits are the bottleneck's, no gil finding"
       % c.tag, kinds(r))
    v = check_verdict(c, "slow_consumer", r, "processes", ("threading", ""))
    ok(v.get("reason") == "bottleneck" and "consumer (consume)" in v.get("text", ""),
       "%s slow_consumer: the verdict is about the consumer" % c.tag, v)


def optional_report(c, name, args, module, tag=""):
    """the JSON report of fixture NAME.py (which exits 77 without MODULE: a skip), or None"""
    db, p = record(c, name + tag, [os.path.join(c.pydir, name + ".py")] + args)
    if p.returncode == 77:
        skip("%s %s" % (c.tag, name), "no %s for this python" % module)
        return None
    return report(c, db) if db else None


def t_numpy(c):
    """NumPy releases the GIL: threads are the right choice, said first"""
    r = optional_report(c, "numpy_threads", ["25"], "numpy")
    if not r:
        return
    ok(kinds(r)[:1] == ["gil_released"], "%s numpy_threads: finding 1 says threads run outside the GIL" % c.tag,
       kinds(r))
    v = check_verdict(c, "numpy_threads", r, "threads", ("threading", ""))
    ok(v.get("reason") == "gil_released" and v.get("parallel_share", 0) >= 0.25,
       "%s numpy_threads: the verdict rests on threads running at once" % c.tag, v)


def t_dask(c):
    """Dask's threaded scheduler on CPU-bound tasks: advice in Dask's words"""
    r = optional_report(c, "dask_threads", ["600000"], "dask")
    if not r:
        return
    check_processes_fix(c, "dask_threads", r, ("dask", "threads"), 'scheduler="processes"')


def t_dask_local(c):
    """A LocalCluster for 8 small tasks: the scheduler is the process that started the workers, the
    verdict says their start-up outweighs the tasks, and the workers' own watcher threads (profiler,
    nanny queue) are no "threading is the right choice" finding."""
    r = optional_report(c, "dask_local", ["20000"], "distributed")
    if not r:
        return
    dk = (r.get("python") or {}).get("dask") or {}
    procs = r.get("processes", [])
    main = [p["upid"] for p in procs if "dask_local.py" in (p.get("cmdline") or "")]
    ok(len(dk.get("workers", [])) == 2 and dk.get("scheduler_local") is True and
       main[:1] == [dk.get("scheduler_upid")],
       "%s dask_local: two workers; the scheduler is the LocalCluster's process" % c.tag, (dk, main))
    v = r.get("verdict") or {}
    ok(v.get("reason") == "dask_workers" and "Starting the LocalCluster's workers took" in v.get("text", ""),
       "%s dask_local: the verdict says the workers' start outweighs their tasks" % c.tag, v)
    ok("io_overlap" not in kinds(r), "%s dask_local: no io_overlap finding for Dask's own threads" % c.tag,
       kinds(r))
    libs = [(x["name"], x["variant"]) for x in (r.get("python") or {}).get("libraries", [])]
    ok(libs == [("dask", "distributed")], "%s dask_local: the library is Dask's distributed; its own threads (IO "
       "loop, AsyncProcess watchers, profiler) are no threading" % c.tag, libs)


def t_dask_processes(c):
    """Dask's process scheduler sends its 4 tasks in one batch (chunksize 6): one worker runs them all.
    A pool of one worker, a one_worker finding naming it with Dask's fix; with chunksize=1 two workers."""
    r = optional_report(c, "dask_processes", ["1500000"], "dask")
    if not r:
        return
    check_verdict(c, "dask_processes", r, "processes", ("dask", "processes"))
    pools = r.get("python", {}).get("pools", [])
    ok(len(pools) == 1 and pools[0].get("workers") == 1,
       "%s dask_processes: one pool of one worker (spawn)" % c.tag, pools)
    f = [x for x in r["findings"] if x["kind"] == "one_worker"]
    ok(len(f) == 1 and "SpawnProcess-1 [" in f[0]["title"] and "1 of the 2 CPUs" in f[0]["title"]
       and "chunksize=1" in f[0]["fix"] and "ProcessPoolExecutor" not in f[0]["fix"],
       "%s dask_processes: the one_worker finding names the worker and Dask's chunksize" % c.tag,
       [(x["kind"], x["title"], x["fix"]) for x in r["findings"]])
    # (the serial time while the worker ran the tasks is this finding's; the parent's own imports
    # before the pool stay serial, so a serial finding may rank either side of it)
    ok(len(f) == 1 and "of the run's serial time (at most one thread running) is this, counted here" in f[0]["evidence"],
       "%s dask_processes: the serial time while the worker ran the tasks is counted there" % c.tag,
       f and f[0]["evidence"])
    r1 = optional_report(c, "dask_processes", ["1500000", "1"], "dask", "-chunk1")
    if not r1:
        return
    pools = r1.get("python", {}).get("pools", [])
    ok(len(pools) == 1 and pools[0].get("workers") == 2 and "one_worker" not in kinds(r1),
       "%s dask_processes chunksize=1: two workers, no one_worker finding" % c.tag, (pools, kinds(r1)))


def t_names(c):
    # weft's Python hook (first in PYTHONPATH) names threads in the recording only: the OS name,
    # sys.path and the user's own sitecustomize are as without weft; --no-python-names turns it off
    site = os.path.join(c.tmp, "usersite")
    os.makedirs(site, exist_ok=True)
    with open(os.path.join(site, "sitecustomize.py"), "w") as f:
        f.write("import builtins\nbuiltins.USER_SITECUSTOMIZE = 1\n")
    code = ("import threading, sys, os\n"
            "def job():\n"
            "    with open('/proc/thread-self/comm') as f: print('comm=' + f.read().strip())\n"
            "t = threading.Thread(target=job, name='loader'); t.start(); t.join()\n"
            "print('user=%d' % USER_SITECUSTOMIZE)\n"
            "print('path=%d' % any(p.rstrip('/').endswith('/weft-python') for p in sys.path))\n")
    # nothing imported at start-up that the program would not have imported (threading is
    # patched when the program imports it): the same modules as without weft
    early = "import sys; print(','.join(m for m in ('threading', 'ctypes', 'multiprocessing') if m in sys.modules))"
    plain = subprocess.run([c.py, "-c", early], env=env(c.tmp), timeout=TIMEOUT, stdout=subprocess.PIPE)
    p = subprocess.run([c.weft, "record", "-q", "-o", os.path.join(c.tmp, "%s-early.db" % c.tag), "--", c.py, "-c",
                        early], env=env(c.tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ok(p.returncode == 0 and p.stdout == plain.stdout,
       "%s names: the hook imports nothing at start-up (%r, without weft %r)" % (c.tag, p.stdout, plain.stdout))
    for flag, want in (([], "loader (job)"), (["--no-python-names"], None)):
        db = os.path.join(c.tmp, "%s-names%s.db" % (c.tag, flag and "-off" or ""))
        e = env(c.tmp)
        e["PYTHONPATH"] = site
        p = subprocess.run([c.weft, "record", "-q", "-o", db] + flag + ["--", c.py, "-c", code], env=e,
                           timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out = p.stdout.decode()
        ok(p.returncode == 0 and "user=1" in out and "path=0" in out and "comm=python" in out,
           "%s names%s: the user's sitecustomize ran; sys.path and the OS thread name as without weft"
           % (c.tag, " " + flag[0] if flag else ""), (out, p.stderr.decode()))
        if p.returncode != 0:
            continue
        con = sqlite3.connect(db)
        names = [n for (n,) in con.execute("SELECT name FROM thread WHERE NOT is_main")]
        con.close()
        if want:
            ok(names == [want], "%s names: the thread is named '%s' in the recording" % (c.tag, want), names)
        else:
            ok(len(names) == 1 and "job" not in names[0] and "loader" not in names[0],
               "%s names --no-python-names: the thread keeps its OS name" % c.tag, names)


def stack_frames(con, stack_id):
    """(symbol, file's base name, line) of a stack's frames, depth 0 first"""
    return [(sym, os.path.basename(f) if f else None, line) for sym, f, line in con.execute(
        "SELECT f.symbol, f.file, f.line FROM stack_frame sf JOIN frame f USING (frame_id) "
        "WHERE sf.stack_id = ? ORDER BY sf.depth", (stack_id,))]


def waits_of(con, states, main=None):
    """(thread name, stack frames) of the waits in those states (main: of the main thread only, or not)"""
    q = ",".join("?" * len(states))
    rows = con.execute("SELECT t.name, t.is_main, ts.stack_id FROM thread_state ts JOIN thread t USING (utid) "
                       "WHERE ts.state IN (%s) AND ts.stack_id IS NOT NULL" % q, states).fetchall()
    return [(n, stack_frames(con, st)) for n, m, st in rows if main is None or bool(m) == main]


PY_STACKS = "py_stacks.py"


def innermost(con, states, main=None):
    """the innermost frames of the waits in those states whose innermost frame is in py_stacks.py"""
    return [fr[0] for n, fr in waits_of(con, states, main) if fr and fr[0][1] == PY_STACKS]


def stacks_lock(c, script, lines):
    """a lock wait, its lock, a join: the database, the JSON report and the export"""
    take = "take (%s:%d)" % (PY_STACKS, lines["LOCK-WAIT"][0])
    db, _ = record(c, "py_stacks-lock", [script, "lock"])
    if not db:
        return
    con = sqlite3.connect(db)
    lock = innermost(con, [1, 6], main=False)
    ok(lock and all(f == ("take", PY_STACKS, lines["LOCK-WAIT"][0]) for f in lock),
       "%s py_stacks lock: the lock wait's innermost frame is take() at its with" % c.tag, lock)
    hook = con.execute("SELECT count(*) FROM frame WHERE file LIKE '%/weft-python/sitecustomize.py'").fetchone()[0]
    ok(hook == 0, "%s py_stacks lock: no frame of weft's own Python hook" % c.tag, hook)
    join = [[f for f in fr if f[1] == PY_STACKS][:1] for n, fr in waits_of(con, [1, 4, 6, 7], main=True)]
    ok([("run", PY_STACKS, lines["JOIN"][0])] in join, "%s py_stacks lock: the main thread's join names run() "
       "at the join" % c.tag, join)
    r = report(c, db)
    if r:
        # (the GIL's mutex has the same call site: the waiter takes the GIL again when its wait ends)
        sites = [(o["label"], s) for o in r["sync_objects"] if not o["name"].startswith("GIL")
                 for s in o.get("call_sites", []) if s["label"] == take]
        ok(len(sites) == 1 and sites[0][1]["symbol"] == "take" and sites[0][1]["line"] == lines["LOCK-WAIT"][0]
           and sites[0][1]["file"].endswith("/" + PY_STACKS) and sites[0][1]["waits"] >= 1,
           "%s py_stacks lock: the report's call site is %s (symbol, file, line)" % (c.tag, take),
           [[s["label"] for s in o.get("call_sites", [])] for o in r["sync_objects"]])
        f = [f for f in r["findings"] if take in json.dumps(f)]
        ok(f, "%s py_stacks lock: a finding names %s" % (c.tag, take), [g["title"] for g in r["findings"]])
        # a wait inside the standard library (Thread.join -> threading.py) is called from the user's line
        join_site = "run (%s:%d)" % (PY_STACKS, lines["JOIN"][0])
        # (a GIL wait can come anywhere, in threading.py's own code too: a started thread setting its
        # Event in _bootstrap_inner, with no user frame on its stack; the GIL's sites are not waits of
        # the program's own calls)
        labels = [s["label"] for o in r["sync_objects"] if not o["name"].startswith("GIL")
                  for s in o.get("call_sites", [])]
        ok(join_site in labels and not [x for x in labels if "threading.py" in x],
           "%s py_stacks lock: the join's call site is %s, no call site in threading.py" % (c.tag, join_site), labels)
        # ... and a join waits by design: neither a finding nor a what-if (issue 13 item 6)
        joins = {o["object_id"] for o in r["sync_objects"] for s in o.get("call_sites", []) if s["label"] == join_site}
        wi = [w for w in (r.get("critical_path") or {}).get("what_if", []) if w.get("object_id") in joins]
        fj = [f["title"] for f in r["findings"] if f.get("object_id") in joins]
        ok(joins and not wi and not fj, "%s py_stacks lock: the main thread's Thread.join() is no finding and no "
           "what-if" % c.tag, (joins, fj, wi))
        if sites:
            ok(sites[0][0].startswith("threading.Lock() at %s:%d" % (PY_STACKS, lines["LOCK-MADE"][0])),
               "%s py_stacks lock: the lock is named where threading.Lock() made it" % c.tag, sites[0][0])
    p = subprocess.run([c.weft, "export", "-o", "-", db], env=env(c.tmp), timeout=TIMEOUT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ok(p.returncode == 0 and ('"where":"%s"' % take).encode() in p.stdout,
       "%s py_stacks lock: the export's waits say where: %s" % (c.tag, take), p.stderr[-300:])


def stacks_gil(c, script, lines):
    """GIL waits in a loop: the database and the JSON report's call sites"""
    db, _ = record(c, "py_stacks-gil", [script, "gil"])
    if not db:
        return
    gil = innermost(sqlite3.connect(db), [11], main=False)
    ok(gil and all(f[0] == "spin" for f in gil) and 2 * len([f for f in gil if f[2] in lines["GIL"]]) > len(gil),
       "%s py_stacks gil: the GIL waits name spin(), most at its loop's lines" % c.tag, sorted(set(gil)))
    r = report(c, db)
    if r:
        # (the other call sites: where threads take the GIL back after their own waits)
        sites = [s for o in r["sync_objects"] if o["name"] == "GIL" for s in o.get("call_sites", [])]
        ok([s for s in sites if s["symbol"] == "spin" and s["line"] in lines["GIL"] and
            s["file"].endswith("/" + PY_STACKS)],
           "%s py_stacks gil: a top call site of the GIL is a line of spin()'s loop" % c.tag,
           [s["label"] for s in sites])


def t_stacks(c):
    """every wait of a Python thread names its Python line (issue 13 item 1), in the database, the JSON
    report's call sites and findings, and the export"""
    script = os.path.join(c.pydir, PY_STACKS)
    lines = marked_lines(script)
    stacks_lock(c, script, lines)
    want = ("nap", PY_STACKS, lines["SLEEP"][0])

    def naps(db):
        return innermost(sqlite3.connect(db), [9, 10], main=False)
    db, _ = recorded_until(c, "py_stacks-sleep", [script, "sleep"],
                           lambda db, r: naps(db) and all(f == want for f in naps(db)))
    if db:
        nap = naps(db)
        ok(nap and all(f == ("nap", PY_STACKS, lines["SLEEP"][0]) for f in nap),
           "%s py_stacks sleep: the sleep names nap() at time.sleep" % c.tag, nap)
    stacks_gil(c, script, lines)
    db, _ = record(c, "py_stacks-deep", [script, "deep"])
    if db:
        con = sqlite3.connect(db)
        deep = [fr for n, fr in waits_of(con, [1, 6], main=False) if fr and fr[0][0] == "take"]
        want = [("take", PY_STACKS, lines["LOCK-WAIT"][0]), ("dive", PY_STACKS, lines["DEEP"][0])] + \
            [("dive", PY_STACKS, lines["DIVE"][0])] * 20
        ok(deep and all(fr[:22] == want for fr in deep),
           "%s py_stacks deep: the 22 innermost frames of a wait 20 calls deep" % c.tag, deep[:1])
        # under Python frames a stack's C part is the native code the Python code called and the first
        # levels of the interpreter (at most 16 frames: walking the interpreter's every level, 5-8 C frames
        # a Python call, cost a Python program's start-up a quarter of its time)
        cparts = con.execute("SELECT s.stack_id, sum(f.ip >= 0), sum(f.ip < 0) FROM stack s "
                             "JOIN stack_frame sf USING (stack_id) JOIN frame f USING (frame_id) "
                             "GROUP BY s.stack_id HAVING sum(f.ip < 0) > 0").fetchall()
        ok(cparts and all(1 <= nc <= 16 for _, nc, _ in cparts) and max(np for _, _, np in cparts) >= 22,
           "%s py_stacks deep: 1 to 16 C frames under a stack's Python frames" % c.tag,
           sorted(set((nc, np) for _, nc, np in cparts))[-5:])
        # and the first of them is the interpreter's call that waited (PyThread_acquire_lock_timed; 3.13's
        # PyMutex: _PySemaphore_Wait), not a frame of libunwind's or the agent's
        first = con.execute("SELECT f.symbol FROM thread_state ts JOIN stack_frame sf ON sf.stack_id = ts.stack_id "
                            "JOIN frame f USING (frame_id) WHERE ts.state IN (1, 6) AND f.ip >= 0 AND sf.depth = "
                            "(SELECT min(s2.depth) FROM stack_frame s2 JOIN frame f2 USING (frame_id) "
                            "WHERE s2.stack_id = ts.stack_id AND f2.ip >= 0)").fetchall()
        ok(first and all(sym and re.match(r"_?Py", sym) for sym, in first),
           "%s py_stacks deep: a lock wait's innermost C frame is the interpreter's" % c.tag, sorted(set(first)))


def py_minor(exe):
    """the minor version of CPython 3 exe"""
    return int(subprocess.run([exe, "-c", "import sys; print(sys.version_info[1])"], stdout=subprocess.PIPE,
                              timeout=30).stdout)


def t_py_names(c):
    """objects made in Python are named by the call and the line that made them (issue 13 item 2): the
    report's objects with waits, for a threading.Lock, a Condition and its waiter, a Queue and its waiter"""
    script = os.path.join(c.pydir, "py_names.py")
    lines = marked_lines(script)
    db, _ = record(c, "py_names", [script])
    r = report(c, db) if db else None
    if not r:
        return
    names = {o["name"] for o in r["sync_objects"] if o.get("waits", 0) >= 1}
    at = lambda what, mark: "%s at py_names.py:%d" % (what, lines[mark][0])
    want = [at("threading.Lock()", "LOCK-MADE")]
    if py_minor(c.py) >= 11:
        want += [at("threading.Condition()", "COND-MADE"), at("Condition.wait()", "COND-WAIT"),
                 at("queue.Queue()", "QUEUE-MADE"), at("Queue.get()", "QUEUE-GET")]
    else:  # functions have no class before 3.11: Condition() is known by the RLock() it makes
        want += [at("threading.RLock()", "COND-MADE")]
    ok(all(w in names for w in want), "%s py_names: the objects are named %s" % (c.tag, want), sorted(names))
    made = [n for n in names if " at py_names.py:" in n and n not in want and not n.startswith("Thread.")]
    ok(not made, "%s py_names: no other object named by a line of py_names.py but Thread's" % c.tag, made)


def other_python():
    """a CPython 3 on PATH that is not /usr/bin/python3's binary, or None"""
    mine = os.path.realpath("/usr/bin/python3")
    names = ["python3"] + ["python3.%d" % n for n in range(20, 5, -1)]
    for n in names:
        w = shutil.which(n)
        if not w:
            continue
        try:
            real = subprocess.run([w, "-c", "import sys, platform; print(platform.python_implementation(), "
                                   "sys.version_info[0], sys.executable)"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, timeout=30).stdout.decode().split()
        except (OSError, subprocess.SubprocessError):
            continue
        if len(real) == 3 and real[0] == "CPython" and real[1] == "3" and os.path.realpath(real[2]) != mine:
            return os.path.realpath(real[2])
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--python-dir", required=True)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="weft-python-test-")
    pys = [("debian", "/usr/bin/python3")] if os.path.exists("/usr/bin/python3") else []
    other = other_python()
    try:
        if not pys and not other:
            skip("python", "no CPython 3")
        if not other:
            skip("another CPython 3 on PATH", "none found")
        for tag, exe in pys + ([("other", other)] if other else []):
            print("# %s: %s" % (tag, exe))
            c = Ctx()
            c.weft, c.pydir, c.tmp, c.py, c.tag = os.path.abspath(args.weft), args.python_dir, tmp, exe, tag
            tests = [t_gil, lambda c: t_pool(c, "fork"), lambda c: t_pool(c, "spawn"),
                     lambda c: t_pool(c, "forkserver"), t_io, t_unbalanced, t_joblib, t_names, t_slow_consumer,
                     t_numpy, t_dask, t_dask_local, t_dask_processes, lambda c: t_mp_lock(c, "fork"), lambda c: t_mp_lock(c, "spawn", True),
                     lambda c: t_mp_untouched(c, "fork"), lambda c: t_mp_untouched(c, "spawn"), t_manager_lock, t_startup, t_big_args]
            if tag == "other":  # keep the suite short: the GIL and one pool
                tests = tests[:2]
            else:
                tests.insert(1, t_gil_launched)
            for t in tests:
                attempt(t, c)
        # the Python stacks of waits, with every CPython 3.8-3.13 there is
        pyenv, absent = pyenv_pythons()
        for m in absent:
            skip("py_stacks with CPython 3.%d" % m, "no CPython 3.%d under pyenv" % m)
        for tag, exe in pys[:1] + pyenv:
            c = Ctx()
            c.weft, c.pydir, c.tmp, c.py, c.tag = os.path.abspath(args.weft), args.python_dir, tmp, exe, tag
            attempt(t_stacks, c)
            attempt(t_py_names, c)
    finally:
        cleanup(tmp, args.keep)
    return plan()


if __name__ == "__main__":
    sys.exit(main())
