#!/usr/bin/env python3
# test_analysis.py - the analyses of `weft report` end to end: fixtures with
# known behaviour recorded with `weft record`, the JSON report checked
# against what the fixture did.
# SPDX-License-Identifier: MIT
#
# usage: test_analysis.py --weft WEFT -- FIXTURE-EXES...
# Prints TAP; --keep keeps the directory.
#
# chain (fx-chain: main -> A -> B): the critical path attributes most of
#   main's wait on lock_l1 to B's time (B holding lock_l2), names lock_l2 as
#   the object whose waits are on the path, and the what-if without lock_l2's
#   waits predicts a run as long as B's own work, which main joins.
#
# oversub (fx-oversub: 4 workers pinned to one CPU, two mutexes; main in
#   usleep): each thread's time splits into on a CPU + runnable + waiting +
#   off a CPU = its lifetime; a worker's useful time is its CPU time (the
#   time it waited for the CPU after a lock wait is not taken out of its
#   running time); all useful time fits in one CPU; main's sleep is a sleep.
#
# forkcpu (sh forks a subshell that counts in a loop): the fork child's CPU
#   time is its own from the fork (its first reading is not a baseline to
#   subtract: only an exec'd image's is), so its useful time is its work.
#
# whatif (fx-whatif lock: two threads taking turns on `hot`): `--what-if` replays
#   the recording: the unchanged replay is within a bound of the recording
#   (loose: the machine may be loaded), the lock's removal does not make it
#   longer, one CPU does not make it shorter; JSON, text and Markdown show
#   the same predictions; a spec naming nothing, or with --range, is refused
#   with the reason and exit 1 or 2.
#
# compare (fx-whatif lock, then sharded: the same work with one hot lock, then a
#   lock per thread): `weft report --compare LOCK.db SHARDED.db` puts each figure
#   of the two recordings' own reports side by side (before and after equal to
#   theirs, difference = after - before), `hot` has waits before and is gone
#   after, the shards appeared, each finding of either side is listed once as
#   appeared, gone or on both; a recording compared with itself has every
#   difference 0; a missing or foreign second database is one line naming it,
#   exit 1.
#
# stdmutex (fx-stdmutex, C++: std::lock_guard on a std::mutex, 5 contended
#   acquisitions by handshake; built -O2 and -O0): the lock and its waits are
#   named by the program's line, not by libstdc++'s gthr-default.h: inlined,
#   through the inline chain's call site; not inlined, the stack begins at the
#   program's frame (the library's frames trimmed).
#
# stdbarrier (fx-stdbarrier, C++20: two threads meet at a std::barrier 4 times, the early
#   one asleep each time before main arrives): its 4 waits are futex waits (libstdc++ sleeps
#   through syscall(SYS_futex)), each woken by main, the word named by the line of the
#   arrive_and_wait in the lambda (not by libstdc++'s pool of words, nor std::thread's _M_run).
#
# machine_load (fx-scale-par 1 on one CPU shared with a busy loop of another
#   process): the time it waited for the CPU is a warning about the
#   measurement (machine_load, cost 0, other processes' CPU time shown), not
#   advice to use fewer threads.
import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

import weftholds
from weftlib import attempt, clean_env, cleanup, ok, plan

TIMEOUT = 120


def env(tmp):
    return clean_env(tmp)


def record(weft, tmp, name, argv):
    db = os.path.join(tmp, name + ".db")
    p = subprocess.run([weft, "record", "-q", "-o", db, "--"] + argv, env=env(tmp), timeout=TIMEOUT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p.returncode == 0 and os.path.exists(db), "%s: weft record exits 0" % name,
              p.stderr.decode("utf-8", "replace")):
        return None
    return db


def report_json(weft, tmp, db):
    p = subprocess.run([weft, "report", "--format", "json", db], env=env(tmp), timeout=TIMEOUT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        ok(False, "weft report --format json exits 0", p.stderr.decode("utf-8", "replace"))
        return None
    return json.loads(p.stdout)


def overlap(a0, a1, b0, b1):
    return max(0, min(a1, b1) - max(a0, b0))


def t_chain(weft, fx, tmp):
    db = record(weft, tmp, "chain", [fx["chain"], "60"])
    if not db:
        return
    r = report_json(weft, tmp, db)
    if not ok(r is not None and "critical_path" in r, "chain: the JSON report has a critical path"):
        return
    cp = r["critical_path"]
    con = sqlite3.connect(db)
    threads = {row[0]: (row[1], row[2]) for row in con.execute("SELECT utid, tid, is_main FROM thread")}
    main = [u for u, (tid, is_main) in threads.items() if is_main][0]
    objs = {}
    for oid, name in con.execute("SELECT object_id, name FROM sync_object WHERE name IS NOT NULL"):
        objs[name] = oid
    ok("lock_l1" in objs and "lock_l2" in objs, "chain: lock_l1 and lock_l2 named by their symbols", objs)
    l1, l2 = objs.get("lock_l1"), objs.get("lock_l2")
    w = con.execute("SELECT start_ns, start_ns + dur_ns FROM thread_state WHERE utid = ? AND object_id = ? "
                    "AND state = 1", (main, l1)).fetchall()
    if not ok(len(w) == 1, "chain: main waited once on lock_l1", w):
        return
    ws, we = w[0]
    # B: the thread that held lock_l2 longest
    weftholds.materialize(con)
    b = con.execute("SELECT utid FROM lock_hold WHERE object_id = ? ORDER BY dur_ns DESC LIMIT 1", (l2,)).fetchone()[0]
    a_wait = con.execute("SELECT sum(dur_ns) FROM thread_state WHERE object_id = ? AND state = 1", (l2,)).fetchone()[0]
    segs = cp["segments"]
    ok(cp["segments_total"] == len(segs) and len(segs) >= 3, "chain: the path's segments are listed (%d)" % len(segs))
    on_b = sum(overlap(s["start_ns"], s["end_ns"], ws, we) for s in segs if s["utid"] == b)
    frac = on_b / (we - ws) if we > ws else 0
    ok(frac > 0.7, "chain: %.0f%% of main's %.1f ms wait on lock_l1 is B's time on the critical path (> 70%%)"
       % (100 * frac, (we - ws) / 1e6), json.dumps(segs, indent=1))
    objects = cp["objects"]
    ok(objects and objects[0]["object_id"] == l2 and "lock_l2" in objects[0]["label"],
       "chain: lock_l2 is the object whose waits are on the path", json.dumps(objects, indent=1))
    l2_obj = [o for o in r["sync_objects"] if o["object_id"] == l2]
    ok(l2_obj and l2_obj[0]["critical_share_ns"] == objects[0]["cause_ns"] and l2_obj[0]["critical_hold_ns"] > 0,
       "chain: sync_objects[lock_l2].critical_share_ns matches the path")
    wi = [x for x in cp["what_if"] if x["kind"] == "object" and x["object_id"] == l2]
    if ok(wi, "chain: a what-if for lock_l2", json.dumps(cp["what_if"], indent=1)):
        # the path less lock_l2's waits would end the run long before B's busy work does, but main
        # joins B: the run lasts at least B's time on a CPU (WeftWorkFloor) whatever the lock, less the
        # wake-ups of its lock_l2 releases (at most 50 us each), and no longer than it was; on one CPU
        # the threads' work together is the floor, longer still
        x = wi[0]
        b_useful = [t["useful_ns"] for t in r["threads"] if t["utid"] == b]
        want = min(b_useful[0] - 50000, cp["length_ns"]) if b_useful else None
        ok(want is not None and x["floor_cpus"] > 0 and x["predicted_ns"] >= want and
           abs(x["predicted_ns"] - min(x["floor_work_ns"] / x["floor_cpus"], cp["length_ns"])) <= 1 and
           x["saving_ns"] == cp["length_ns"] - x["predicted_ns"],
           "chain: without lock_l2's waits the run still lasts %.1f ms, B's %.1f ms on a CPU at least "
           "(%s's %.1f ms of work over %g CPUs), of %.1f" %
           (x["predicted_ns"] / 1e6, b_useful[0] / 1e6 if b_useful else -1,
            "B" if x["floor_utid"] == b else "the threads", x["floor_work_ns"] / 1e6, x["floor_cpus"],
            cp["length_ns"] / 1e6), json.dumps(x, indent=1))
    p = subprocess.run([weft, "report", db], env=env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    out = p.stdout.decode("utf-8", "replace")
    replayed = out[out.find("What if (replayed: the critical path's changes re-run)"):]
    ok(p.returncode == 0 and "Critical path" in out and "lock_l2" in replayed.split("\n\n")[0] and
       "keeps no one waiting" in replayed and "replayed unchanged on" in replayed,
       "chain: the text report shows the critical path, and its what-if on lock_l2 replayed", out)
    con.close()


def t_oversub(weft, fx, tmp):
    db = record(weft, tmp, "oversub", [fx["oversub"]])
    if not db:
        return
    r = report_json(weft, tmp, db)
    if not r:
        return
    th = r["threads"]
    ok(len(th) == 5, "oversub: 5 threads", len(th))
    bad = [t["tid"] for t in th
           if sum(t["time"][k] for k in ("oncpu_ns", "runnable_ns", "waiting_ns", "offcpu_ns")) != t["lifetime_ns"]]
    ok(not bad, "oversub: on a CPU + runnable + waiting + off a CPU = lifetime, for every thread", bad)
    workers = [t for t in th if not t["is_main"]]
    main = [t for t in th if t["is_main"]]
    ok(len(workers) == 4 and all(w["cpu_ns"] for w in workers), "oversub: 4 workers with schedstat readings",
       [(w["tid"], w["cpu_ns"]) for w in workers])
    # before: useful = running - runnable, and most of the runnable time
    # falls inside the lock waits (after the wake-up): 0-14 ms of 25 ms
    low = [(w["tid"], w["useful_ns"], w["cpu_ns"]) for w in workers
           if not w["cpu_ns"] or w["useful_ns"] < 0.9 * w["cpu_ns"] or w["useful_ns"] != w["time"]["oncpu_ns"]]
    ok(not low, "oversub: every worker's useful time is its time on a CPU (>= 90% of its CPU time)", low)
    span = r["range"]["duration_ns"]
    use = sum(t["useful_ns"] for t in th)
    ok(use <= 1.02 * span + 2000000, "oversub: all useful time (%d ns) fits in one CPU x the run (%d ns)"
       % (use, span))
    run = sum(w["time"]["runnable_ns"] for w in workers)
    ok(run > 0 and run == r["summary"]["time"]["runnable_ns"] - main[0]["time"]["runnable_ns"],
       "oversub: workers runnable %d ns, in the summary" % run)
    if main:
        m = main[0]
        ok(m["states"]["sleep"] >= 95000000 and m["useful_ns"] < 30000000,
           "oversub: main slept 100 ms in usleep (recorded without --io) and is not busy: sleep %d, useful %d"
           % (m["states"]["sleep"], m["useful_ns"]))
        ok(r["summary"]["time"]["assumed_ns"] == 0, "oversub: nothing assumed (every thread has readings)",
           r["summary"]["time"]["assumed_ns"])
    p = subprocess.run([weft, "check", db], env=env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    out = p.stdout.decode()
    ok(p.returncode == 0 and "ok   each thread's time on a CPU, runnable, waiting and off a CPU adds up" in out,
       "oversub: weft check verifies the split", out + p.stderr.decode())


def t_forkcpu(weft, fx, tmp):
    db = record(weft, tmp, "forkcpu", ["/bin/sh", "-c", "(i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done); :"])
    if not db:
        return
    r = report_json(weft, tmp, db)
    if not r:
        return
    con = sqlite3.connect(db)
    kids = con.execute("SELECT t.utid, t.cpu_ns, t.end_ns - t.start_ns FROM thread t JOIN process p USING (upid) "
                       "WHERE p.parent_upid IS NOT NULL AND p.image = 0").fetchall()
    con.close()
    th = {t["utid"]: t for t in r["threads"]}
    ok(len(kids) == 1, "forkcpu: one fork child (the subshell)", kids)
    for utid, cpu, life in kids:
        # The subshell never waits: its life is on a CPU or waiting for one
        # (on a busy machine mostly the latter), and all of its time on a CPU
        # is useful. Before the fix its first schedstat reading was taken as
        # a baseline and its CPU time came out 0.
        t = th.get(utid, {})
        tm = t.get("time", {})
        oncpu, runnable = tm.get("oncpu_ns", 0), tm.get("runnable_ns", 0)
        ok(cpu is not None and cpu > 0 and oncpu > 0 and t.get("useful_ns", 0) == oncpu
           and oncpu + runnable > 0.8 * life,
           "forkcpu: the subshell's CPU time %s ns, on a CPU %s ns (all useful: %s ns) and runnable %s ns "
           "are most of its %d ns" % (cpu, oncpu, t.get("useful_ns"), runnable, life))


def t_machine_load(weft, fx, tmp):
    cpu = min(os.sched_getaffinity(0))
    pin = lambda: os.sched_setaffinity(0, {cpu})
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=pin, env=env(tmp))
    try:
        db = os.path.join(tmp, "machine_load.db")
        p = subprocess.run([weft, "record", "-q", "-o", db, "--", fx["scale-par"], "1", "300000"], env=env(tmp),
                           timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=pin)
    finally:
        hog.kill()
        hog.wait()
    if not ok(p.returncode == 0, "machine_load: weft record exits 0", p.stderr.decode("utf-8", "replace")):
        return
    r = report_json(weft, tmp, db)
    if not r:
        return
    kinds = {f["kind"]: f for f in r["findings"]}
    rec = r["recording"]
    ok(rec["ncpus"] == 1 and rec["machine_busy_ns"] is not None and rec["other_cpu_ns"] is not None and
       rec["other_cpu_ns"] > 0.1 * r["range"]["duration_ns"],
       "machine_load: 1 CPU; other processes' CPU time during the run is measured (%s of %d ns)"
       % (rec["other_cpu_ns"], r["range"]["duration_ns"]))
    f = kinds.get("machine_load")
    ok(f is not None and f["cost_ns"] == 0 and f["warning"] is True and "not advice" in f["fix"]
       and "oversubscribed" not in kinds and not [g for g in r["findings"] if g["warning"] and g is not f],
       "machine_load: waiting for the CPU the busy loop took is a warning (cost 0), not advice",
       [(k, v["title"]) for k, v in kinds.items()])
    out = subprocess.run([weft, "report", db], env=env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE).stdout.decode()
    ok("  warning    measurement: threads waited" in out and "  machine    other processes used" in out,
       "machine_load: the text report's header shows the warning and the other load", out[:800])
    ok("not a cost (a warning about the measurement); up to" in out and "cost 0 ns" not in out,
       "machine_load: the finding says it is a warning, not a cost of 0 ns", out[:3000])


def t_whatif(weft, fx, tmp):
    specs = ["lock:hot", "lock:hot=-50%", "thread:worker-0=-50%", "cpus=1"]
    args = [a for sp in specs for a in ("--what-if", sp)]
    # a recording made while other work came and went (CI's other test beside it) may replay unchanged
    # 10 % off and its predictions with it: record up to three times, keeping the one the model
    # reproduces best (within 5 % ends the search); every check below applies to it as it is
    best = None
    for attempt in range(3):
        name = "whatif" if attempt == 0 else "whatif-%d" % attempt
        db = record(weft, tmp, name, [fx["whatif"], "lock", "2", "300", "20", "20"])
        if not db:
            return
        p = subprocess.run([weft, "report", "--format", "json", db] + args, env=env(tmp), timeout=TIMEOUT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if not ok(p.returncode == 0, "whatif: weft report --what-if exits 0", p.stderr.decode("utf-8", "replace")):
            return
        rp = json.loads(p.stdout)["replay"]
        if best is None or (rp["error"] is not None and abs(rp["error"]) < abs(best[1]["error"])):
            best = (db, rp)
        if rp["error"] is not None and abs(rp["error"]) < 0.05:
            break
    db, rp = best
    got = {w["spec"]: w for w in rp["what_if"] if w["asked"]}
    ok(rp["unavailable"] is None and rp["operations"] >= 6 and abs(rp["error"]) < 1.0,
       "whatif: the unchanged replay (%d operations) is %.1f %% off the recording"
       % (rp["operations"], 100 * rp["error"]))
    ok([w["spec"] for w in rp["what_if"] if w["asked"]] == specs and rp["defaults"] is False,
       "whatif: a prediction for each of the %d specs, in the JSON, in their order" % len(specs), rp["what_if"])
    own = [w["spec"] for w in rp["what_if"] if not w["asked"]]
    ok(all(w["asked"] for w in rp["what_if"][:len(specs)]) and not [s for s in own if s.startswith("lock:")],
       "whatif: weft's own what-ifs after the asked ones, the lock's not twice (asked as lock:hot)", rp["what_if"])
    # asked for one change, the critical path's own what-ifs are replayed besides it, not estimated
    p = subprocess.run([weft, "report", "--format", "json", db, "--what-if", "thread:worker-0=-50%"], env=env(tmp),
                       timeout=TIMEOUT, stdout=subprocess.PIPE)
    one = json.loads(p.stdout) if p.returncode == 0 else {}
    rw = (one.get("replay") or {}).get("what_if", [])
    own = {w["spec"] for w in rw if not w["asked"]}
    cpw = (one.get("critical_path") or {}).get("what_if", [])
    want = {"lock:#%d" % w["object_id"] if w["kind"] == "object" else "balance" for w in cpw}
    ok(cpw and all(w["replayed"] for w in cpw) and own == want and rw and rw[0]["asked"] and
       all(w["predicted_fraction"] <= 1.001 for w in rw if w["spec"].startswith("lock:#")),
       "whatif: with one change asked, the critical path's what-ifs (%s) are replayed beside it, not estimated"
       % ", ".join(sorted(want)), (one.get("replay"), cpw))
    ok(got["lock:hot"]["predicted_fraction"] <= 1.001 and "keeps no one waiting" in got["lock:hot"]["description"],
       "whatif: without the lock's waits it is not longer (%.3f)" % got["lock:hot"]["predicted_fraction"])
    ok(got["cpus=1"]["predicted_fraction"] >= 0.999,
       "whatif: on one CPU it is not shorter (%.3f)" % got["cpus=1"]["predicted_fraction"])
    text = subprocess.run([weft, "report", db] + args, env=env(tmp), timeout=TIMEOUT,
                          stdout=subprocess.PIPE).stdout.decode()
    md = subprocess.run([weft, "report", "--format", "markdown", db] + args, env=env(tmp), timeout=TIMEOUT,
                        stdout=subprocess.PIPE).stdout.decode()
    ok("What if (replayed)" in text and "replayed unchanged on" in text and "worker-0" in text
       and "*What if* (replayed)" in md,
       "whatif: the text and Markdown reports show the replay", text[text.find("What if (replayed)"):][:600])
    placed = "%d lock hold%s the recording counted but did not time" % (rp["placed_holds"],
                                                                         "" if rp["placed_holds"] == 1 else "s")
    ok((placed in text and placed in md) if rp["placed_holds"] > 0 else "did not time" not in text + md,
       "whatif: the text and Markdown say the replay placed %d counted holds" % rp["placed_holds"],
       text[text.find("What if (replayed)"):][:600])
    bad = subprocess.run([weft, "report", db, "--what-if", "lock:nope"], env=env(tmp), timeout=TIMEOUT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = bad.stderr.decode()
    ok(bad.returncode == 1 and db in err and "--what-if lock:nope: no lock named nope (locks: hot" in err
       and err.count("\n") == 1, "whatif: a lock that is not there: one line, exit 1", err)
    bad = subprocess.run([weft, "report", db, "--range", "1ms..", "--what-if", "cpus=4"], env=env(tmp),
                         timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ok(bad.returncode == 2 and b"--what-if replays the whole recording" in bad.stderr,
       "whatif: --what-if with --range is a usage error", bad.stderr)


def run(weft, tmp, args):
    return subprocess.run([weft, "report"] + args, env=env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)


# compare.summary's figures: where each is in a report's own JSON
COMPARE_FIGURES = {
    "span_ns": lambda r: r["range"]["end_ns"] - r["range"]["start_ns"],
    "thread_ns": lambda r: r["summary"]["thread_ns"],
    "oncpu_ns": lambda r: r["summary"]["time"]["oncpu_ns"],
    "runnable_ns": lambda r: r["summary"]["time"]["runnable_ns"],
    "waiting_ns": lambda r: r["summary"]["time"]["waiting_ns"],
    "offcpu_ns": lambda r: r["summary"]["time"]["offcpu_ns"],
    "parallel_efficiency": lambda r: r["summary"]["parallel_efficiency"],
    "load_balance": lambda r: r["summary"]["load_balance"],
    "sync_efficiency": lambda r: r["summary"]["sync_efficiency"],
    "average_parallelism": lambda r: r["summary"]["average_parallelism"],
}


def compare_figures_ok(cmp, before, after, what):
    bad = []
    for key, get in COMPARE_FIGURES.items():
        v = cmp["summary"][key]
        exact = key.endswith("_ns")
        # (the JSON prints 6 significant digits: a difference of two rounded figures is off by up to
        # half a unit in the 6th digit of each)
        scale = max(1, abs(get(before)), abs(get(after)))
        close = (lambda x, y: x == y) if exact else (lambda x, y: abs(x - y) <= 2e-5 * scale)
        if not (close(v["before"], get(before)) and close(v["after"], get(after))
                and close(v["difference"], get(after) - get(before))):
            bad.append((key, v, get(before), get(after)))
    for st, ns in after["summary"]["states"].items():
        b = before["summary"]["states"][st]
        if st == "running" or (not b and not ns):
            continue
        v = cmp["summary"]["states"].get(st + "_ns")
        if not v or (v["before"], v["after"], v["difference"]) != (b, ns, ns - b):
            bad.append((st, v, b, ns))
    ok(not bad, "%s: each figure is the two reports' own, difference = after - before" % what, bad)


def t_compare(weft, fx, tmp):
    # On a loaded machine one thread can run all its rounds before the other gets a CPU, and the hot
    # lock then has no wait to compare: record the lock program again (at most three times)
    for attempt in range(3):
        lock = record(weft, tmp, "cmp-lock%d" % attempt, [fx["whatif"], "lock", "2", "2000", "20", "20"])
        before = report_json(weft, tmp, lock) if lock else None
        if not before or sum(o["wait_ns"] for o in before["sync_objects"] if o["name"] == "hot") > 0:
            break
    sharded = record(weft, tmp, "cmp-sharded", [fx["whatif"], "sharded", "2", "2000", "20", "20"])
    if not lock or not sharded or not before:
        return
    after = report_json(weft, tmp, sharded)
    p = run(weft, tmp, ["--format", "json", "--compare", lock, sharded])
    if not ok(p.returncode == 0, "compare: weft report --compare exits 0", p.stderr.decode("utf-8", "replace")):
        return
    rep = json.loads(p.stdout)
    cmp = rep.get("compare")
    ok(cmp is not None and "compare" not in after and rep["summary"] == after["summary"],
       "compare: the JSON is the after report plus a compare object (only with --compare)")
    if not cmp:
        return
    ok(cmp["before"]["database"] == lock and cmp["after"]["database"] == sharded
       and cmp["processes_matched"] == 1 and cmp["processes_matched_by_executable"] == 1,
       "compare: both databases named, the process paired by its executable (other arguments)",
       (cmp["before"], cmp["processes_matched"], cmp["processes_matched_by_executable"]))
    compare_figures_ok(cmp, before, after, "compare")
    objs = {(o["kind"], o["name"]): o for o in cmp["sync_objects"]}
    hot = objs.get(("mutex", "hot"))
    hot_before = sum(o["wait_ns"] for o in before["sync_objects"] if o["name"] == "hot")
    ok(hot is not None and hot["change"] == "gone" and hot["wait_ns"]["before"] == hot_before > 0
       and hot["wait_ns"]["after"] == 0 and hot["wait_ns"]["difference"] == -hot_before
       and hot["objects_before"] == 1 and hot["objects_after"] == 0,
       "compare: hot waited %d ns before and is gone after" % hot_before, hot)
    shards = [o for o in cmp["sync_objects"] if o["name"].startswith("shards")]
    after_shards = [o for o in after["sync_objects"] if o["name"].startswith("shards")]
    ok(len(shards) == len(after_shards) >= 1 and all(o["change"] == "appeared" and o["wait_ns"]["before"] == 0
                                                     for o in shards),
       "compare: the %d shard lock(s) appeared" % len(after_shards), shards)
    ch = {}
    for f in cmp["findings"]:
        ch.setdefault(f["change"], []).append(f)
    ok(len(ch.get("appeared", [])) + len(ch.get("both", [])) == len(after["findings"])
       and len(ch.get("gone", [])) + len(ch.get("both", [])) == len(before["findings"])
       and all((f["kind"], f["title"]) in {(g["kind"], g["title"]) for g in before["findings"]}
               for f in ch.get("gone", []))
       and all(f["cost_ns"]["after"] == 0 for f in ch.get("gone", []))
       and not [f for f in ch.get("both", []) + ch.get("appeared", []) if f["kind"] == "contention"
                and "hot" in f["title"]],
       "compare: each finding once as appeared (%d), gone (%d) or on both (%d); no contention on hot after"
       % (len(ch.get("appeared", [])), len(ch.get("gone", [])), len(ch.get("both", []))), cmp["findings"])
    same = run(weft, tmp, ["--format", "json", lock, "--compare", lock])
    sc = json.loads(same.stdout)["compare"] if same.returncode == 0 else None
    ok(sc is not None and all(v["difference"] == 0 and v["ratio"] in (1, None) for v in sc["summary"].values()
                              if "difference" in v)
       and all(v["difference"] == 0 for v in sc["summary"]["states"].values())
       and all(o["change"] == "both" and o["wait_ns"]["difference"] == 0 for o in sc["sync_objects"])
       and all(f["change"] == "both" and f["cost_ns"]["difference"] == 0 for f in sc["findings"])
       and sc["processes_matched"] == 1 and sc["processes_matched_by_executable"] == 0,
       "compare: a recording against itself: every difference 0, nothing appeared or gone", sc)
    text = run(weft, tmp, ["--compare", lock, sharded]).stdout.decode()
    md = run(weft, tmp, ["--format", "markdown", "--compare", lock, sharded]).stdout.decode()
    hot_row = [ln for ln in text.splitlines() if ln.lstrip().startswith("hot ")]
    ok(text.startswith("Compared with the recording before a change\n") and "  run length " in text
       and len(hot_row) == 1 and hot_row[0].rstrip().endswith("gone") and "\nweft report: %s\n" % sharded in text
       and md.startswith("### weft report --compare: ") and "| hot | mutex |" in md,
       "compare: text and Markdown show the comparison, then the after report", text[:1500])
    for bad_db, why in ((os.path.join(tmp, "missing.db"), "No such file"), (fx["whatif"], "not a weft database")):
        b = run(weft, tmp, ["--compare", bad_db, sharded])
        err = b.stderr.decode()
        ok(b.returncode == 1 and err.startswith("weft report: %s: " % bad_db) and why in err
           and err.count("\n") == 1 and not b.stdout,
           "compare: a %s second database: one line naming it, exit 1" % why, err)


def t_stdmutex(weft, fx, tmp):
    if "stdmutex" not in fx:
        ok(True, "# SKIP stdmutex: no C++ compiler built fx-stdmutex")
        return
    for name in ("stdmutex", "stdmutex-O0"):
        db = os.path.join(tmp, name + ".db")
        p = subprocess.run([weft, "record", "-q", "-o", db, "--", fx[name], "5"], env=env(tmp), timeout=TIMEOUT,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err = p.stderr.decode("utf-8", "replace")
        line = [int(x.split("=")[1]) for x in err.split() if x.startswith("wait_line=")]
        if not ok(p.returncode == 0 and line, "%s: weft record exits 0, the fixture says its line" % name, err):
            continue
        site = "fx-stdmutex.cc:%d" % line[0]
        rep = report_json(weft, tmp, db)
        hot = [o for o in rep["sync_objects"] if o["name"] == "hot"] if rep else []
        o = hot[0] if hot else {}
        cs = o.get("call_sites", [])
        ok(len(hot) == 1 and o["contended"] == 5 and o["site"] == site and o["label"] == "hot (%s)" % site
           and len(cs) == 1 and cs[0]["line"] == line[0] and cs[0]["file"].endswith("/fx-stdmutex.cc")
           and cs[0]["label"].endswith("(%s)" % site) and cs[0]["waits"] == 5,
           "%s: hot is named and waited for at %s, 5 contended waits (not gthr-default.h)" % (name, site),
           hot or (rep or {}).get("sync_objects"))
        con = sqlite3.connect(db)
        try:
            top = con.execute("SELECT count(*) FROM thread_state ts JOIN stack_frame sf ON sf.stack_id = ts.stack_id "
                              "AND sf.depth = 0 JOIN frame f ON f.frame_id = sf.frame_id "
                              "WHERE f.file GLOB '/usr/include/*'").fetchone()[0]
        finally:
            con.close()
        ok(top == 0, "%s: no wait's stack begins in a system header (%d do)" % (name, top))


def t_stdbarrier(weft, fx, tmp):
    if "stdbarrier" not in fx:
        ok(True, "# SKIP stdbarrier: no C++ compiler built fx-stdbarrier")
        return
    db = os.path.join(tmp, "stdbarrier.db")
    p = subprocess.run([weft, "record", "-q", "-o", db, "--", fx["stdbarrier"], "4"], env=env(tmp), timeout=TIMEOUT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = p.stderr.decode("utf-8", "replace")
    info = dict(x.split("=", 1) for x in err.split() if "=" in x)
    if not ok(p.returncode == 0 and "arrive_line" in info, "stdbarrier: weft record exits 0", err):
        return
    con = sqlite3.connect(db)
    try:
        early = con.execute("SELECT utid FROM thread WHERE tid = ?", (int(info["early_tid"]),)).fetchone()[0]
        main = con.execute("SELECT t.utid FROM thread t JOIN process p USING (upid) WHERE t.tid = p.pid").fetchone()[0]
        waits = con.execute("SELECT utid, result, waker_utid FROM thread_state WHERE state = 13").fetchall()
    finally:
        con.close()
    ok(waits == [(early, 0, main)] * 4, "stdbarrier: 4 futex waits of the early thread, each woken by main", waits)
    rep = report_json(weft, tmp, db)
    site = "fx-stdbarrier.cc:%s" % info["arrive_line"]
    objs = [o for o in (rep or {}).get("sync_objects", []) if o["kind"] == "futex"]
    ok(len(objs) == 1 and objs[0]["waits"] == 4 and objs[0]["label"] == "operator() (%s)" % site
       and [(c["symbol"], c["line"]) for c in objs[0]["call_sites"]] == [("operator()", int(info["arrive_line"]))],
       "stdbarrier: the barrier's word is named by the lambda's line, %s" % site, objs)
    ok(not [f for f in (rep or {}).get("findings", []) if f["kind"] == "unrecorded"],
       "stdbarrier: no unrecorded warning", (rep or {}).get("findings"))
    if "stdbarrier-nodebug" not in fx:
        return
    # built without debug information: named by the lambda that std::thread runs (its entry function,
    # into which the lambda and the barrier's wait were inlined), not by libstdc++'s own functions
    db = os.path.join(tmp, "stdbarrier-nodebug.db")
    p = subprocess.run([weft, "record", "-q", "-o", db, "--", fx["stdbarrier-nodebug"], "4"], env=env(tmp),
                       timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p.returncode == 0, "stdbarrier-nodebug: weft record exits 0", p.stderr.decode("utf-8", "replace")):
        return
    rep = report_json(weft, tmp, db)
    objs = [o for o in (rep or {}).get("sync_objects", []) if o["kind"] == "futex"]
    ok(len(objs) == 1 and objs[0]["waits"] == 4 and re.fullmatch(r"main::\{lambda\(\)#\d+\}", objs[0]["label"]),
       "stdbarrier-nodebug: the barrier's word is named by main's lambda", objs)


def t_openmp(weft, fx, tmp, r=4, k=50):
    """fx-openmp (gcc -fopenmp): R unbalanced regions of a team of 2, a loop region with two barriers inside,
    a region whose threads enter two critical sections K times each: the regions' barriers, the team's idle
    time between regions, the critical sections' exact acquisitions, the imbalance and its straggler."""
    if "openmp" not in fx:
        ok(True, "# SKIP openmp: the compiler built no fx-openmp (no OpenMP)")
        return
    db = os.path.join(tmp, "openmp.db")
    p = subprocess.run([weft, "record", "-q", "-o", db, "--", fx["openmp"], str(r), "20000", str(k)], env=env(tmp),
                       timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    err = p.stderr.decode("utf-8", "replace")
    info = dict(x.split("=", 1) for x in err.split() if "=" in x)
    if not ok(p.returncode == 0 and "unbalanced_line" in info, "openmp: weft record exits 0", err):
        return
    out = p.stdout.decode()
    ok("threads=2 loop=8 critical=%d,%d lock=%d nest=%d" % (2 * k, 2 * k, 2 * k, 2 * k) in out,
       "openmp: the program's own counts under the agent (its critical sections and lock excluded)", out)
    con = sqlite3.connect(db)
    try:
        main = con.execute("SELECT t.utid FROM thread t JOIN process p USING (upid) WHERE t.tid = p.pid").fetchone()[0]
        worker = con.execute("SELECT utid FROM thread WHERE utid != ?", (main,)).fetchone()[0]
        objs = con.execute("SELECT object_id, kind, name, acquisitions FROM sync_object WHERE runtime = 'openmp' "
                           "ORDER BY kind, name, first_ns").fetchall()  # (the regions in program order)
        ok([(kd, n, a) for _, kd, n, a in objs] == [(1, "omp critical", 2 * k), (1, "omp critical (hot)", 2 * k),
                                                  (6, "omp idle", 0), (7, None, 0), (7, None, 0), (7, None, 0)],
           "openmp: the critical sections (each taken 2K times), the team's dock and the three regions' barriers, "
           "of the OpenMP runtime", objs)
        if len(objs) != 6:
            return
        dock, unbalanced, loop, crit = objs[2][0], objs[3][0], objs[4][0], objs[5][0]
        per = con.execute("SELECT object_id, utid, count(*) FROM thread_state WHERE state = 5 GROUP BY 1, 2 "
                          "ORDER BY 1, 2").fetchall()
        ok(per == sorted([(unbalanced, main, r), (unbalanced, worker, r), (loop, main, 3), (loop, worker, 3),
                          (crit, main, 1), (crit, worker, 1)]),
           "openmp: each thread waits once a region at the unbalanced one's end, 3 times in the loop region", per)
        idle = con.execute("SELECT utid, count(*), count(waker_utid) FROM thread_state WHERE state = 4 AND "
                           "object_id = ? GROUP BY 1", (dock,)).fetchall()
        ok(idle == [(worker, r + 2, r + 1)],
           "openmp: the worker idles after each region (R + 2 times), woken by main for the next R + 1", idle)
        wake = con.execute("SELECT from_utid, to_utid, count(*) FROM flow WHERE kind = 2 AND object_id = ? "
                           "GROUP BY 1, 2", (dock,)).fetchall()
        ok(wake == [(main, worker, r + 1)], "openmp: R + 1 wake-up flows from main to the worker", wake)
        bad = con.execute("SELECT count(*) FROM thread_state WHERE state = 1 AND object_id IN (?, ?) AND "
                          "waker_utid IS NULL", (objs[0][0], objs[1][0])).fetchone()[0]
        ok(bad == 0, "openmp: every wait for a critical section knows who left it", bad)
        lk = con.execute("SELECT name, runtime, acquisitions FROM sync_object WHERE kind = 1 AND runtime IS NULL "
                         "AND acquisitions > 0 ORDER BY name").fetchall()
        ok(lk == [("lk", None, 2 * k), ("nl", None, 4 * k)],
           "openmp: the OpenMP locks lk (taken 2K times) and nl (nested: 4K), locks of the program's", lk)
        tasks = con.execute("SELECT value FROM meta WHERE key = 'omp_tasks'").fetchone()
        ok(tasks == ("1",), "openmp: meta omp_tasks says the program made tasks", tasks)
    finally:
        con.close()
    rep = report_json(weft, tmp, db) or {}
    labels = sorted(o["label"] for o in rep.get("sync_objects", []) if o["kind"] in ("barrier", "cond"))
    ok(len(labels) == 4 and labels[0] == "omp idle" and all(x.startswith("omp parallel main (fx-openmp.c:")
                                                              for x in labels[1:]),
       "openmp: the regions named by their calls in main, the dock 'omp idle'", labels)
    finds = rep.get("findings", [])
    ok(not [f for f in finds if f["kind"] == "openmp"], "openmp: no warning that the regions are not recorded",
       [f["kind"] for f in finds])
    # every round of the unbalanced region spread evenly: each round's span becomes its team's mean work, so the
    # run shortens by the sum over its rounds of (the straggler's work - the mean), computed from the regions
    rounds = [g for g in rep.get("regions", []) if g["kind"] == "barrier" and g["object_id"] == unbalanced]
    want = sum(g["max_useful_ns"] - sum(m["useful_ns"] for m in g["team"]) / len(g["team"]) for g in rounds)
    p = subprocess.run([weft, "report", "--format", "json", "--what-if", "balance:#%d" % unbalanced, db], env=env(tmp),
                       timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wi = [w for w in (json.loads(p.stdout.decode()) if p.returncode == 0 else {}).get("replay", {}).get("what_if", [])
          if w["spec"] == "balance:#%d" % unbalanced]
    # (within 20 % where the unchanged replay is within 3 % of the recording: the replay adds the hand-offs' and
    # the machine's costs the sum leaves out, 0-11 % of it in quiet runs; on a machine so busy that the replay is
    # further off, its model of the other load moves the prediction: then only more than nothing, at most that)
    close = len(wi) == 1 and abs(wi[0]["error"]) <= 0.03
    ok(len(rounds) == r and len(wi) == 1 and
       (abs(wi[0]["saving_ns"] - want) <= 0.2 * want if close else 0 < wi[0]["saving_ns"] <= 1.2 * want),
       "openmp: balance:#ID, every round of the region balanced, saves the rounds' straggler work over the mean "
       "(%.1f ms)" % (want / 1e6), (len(rounds), wi, p.stderr.decode()[-300:]))
    imb = [f for f in finds if f["kind"] == "imbalance" and "OpenMP region" in f["title"]]
    ok(len(imb) >= 1 and "schedule(dynamic)" in imb[0]["fix"] and "OpenMP tasks" in imb[0]["evidence"],
       "openmp: the unbalanced region's imbalance, with OpenMP's fix", [f["title"] for f in finds])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("fixtures", nargs="*")
    args = ap.parse_args()
    fx = {}
    for exe in args.fixtures:
        name = os.path.basename(exe)
        if name.startswith("fx-"):
            fx[name[3:]] = os.path.abspath(exe)
    weft = os.path.abspath(args.weft)
    tmp = tempfile.mkdtemp(prefix="weft-analysis-test-")
    try:
        for t in (t_chain, t_oversub, t_forkcpu, t_whatif, t_compare, t_machine_load, t_stdmutex, t_stdbarrier,
                  t_openmp):
            attempt(t, weft, fx, tmp)
    finally:
        cleanup(tmp, args.keep)
    return plan()


if __name__ == "__main__":
    sys.exit(main())
