#!/usr/bin/env python3
# tests/gui/test_findings.py - weft-gui's Findings page against `weft report`.
# SPDX-License-Identifier: MIT
#
# usage: test_findings.py --weft WEFT --gui WEFT_GUI --example WEFT_EXAMPLE --gen GEN_RECORDING --pydir DIR
# Records the bundled example, generates a small synthetic recording (gen-recording: the same
# findings on every run, a barrier's imbalance with its region, object and straggler among them)
# and, with /usr/bin/python3, records three programs of tests/programs/python
# (gil_threads: a gil finding; unbalanced_pool: a pool straggler's imbalance; io_threads:
# io_overlap), runs `weft-gui --dump` under xvfb-run and checks that the Findings page holds the
# findings of `weft report --format json`: the same kinds, titles, costs, evidence, fixes, object,
# thread and region, in the same order, under the same verdict (Python programs only); with --select A..B, the selection's findings as `weft
# report --range A..B`, and the page says it shows the selection; --finding N (as a click on the
# N-th finding): a region finding zooms to its region, an object finding highlights the object and
# outlines its longest wait, a thread finding highlights the thread's row. Without python3 the
# Python part is skipped. Exit 0 on success, 1 on a failure, 77 (skip) without xvfb-run.
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gui  # noqa: E402
from test_gui import ok, gui_env  # noqa: E402

TIMEOUT = 180
KEYS = ("kind", "cost_ns", "title", "evidence", "fix", "object_id", "utid", "region")


def record(args, tmp, name, argv):
    db = os.path.join(tmp, name + ".db")
    env = {k: v for k, v in gui_env(tmp).items() if not k.startswith("PYTHON")}
    p = subprocess.run([args.weft, "record", "-q", "-o", db, "--"] + argv, env=env, timeout=TIMEOUT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p.returncode == 0 and os.path.exists(db), "weft record %s" % name, p.stderr.decode("utf-8", "replace")):
        return None
    return db


def dump(args, tmp, db, extra):
    out = os.path.join(tmp, "dump.json")
    if os.path.exists(out):
        os.unlink(out)
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", args.gui, "--size", "1200x700", "--dump", out] + extra + [db]
    p = subprocess.run(cmd, env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0 or not os.path.exists(out):
        return None, p.stderr.decode("utf-8", "replace")
    with open(out) as f:
        return json.load(f), ""


def report(args, tmp, db, extra=()):
    p = subprocess.run([args.weft, "report", db, "--format", "json"] + list(extra), env=gui_env(tmp),
                       timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p.returncode == 0, "weft report %s %s" % (os.path.basename(db), " ".join(extra)), p.stderr):
        return None
    return json.loads(p.stdout)


def compare(name, page, rep, scope):
    """The page's findings against the report's, in order."""
    if not ok(page is not None and page.get("scope") == scope, "%s: the Findings page shows the %s" % (name, scope),
              page and {k: page[k] for k in page if k != "items"}):
        return False
    ok(page["start_ns"] == rep["range"]["start_ns"] and page["end_ns"] == rep["range"]["end_ns"],
       "%s: the page's range is the report's" % name, (page["start_ns"], page["end_ns"], rep["range"]))
    mine = [{k: f[k] for k in KEYS} for f in page["items"]]
    theirs = [{k: f.get(k) for k in KEYS} for f in rep["findings"]]
    bad = [(i + 1, a, b) for i, (a, b) in enumerate(zip(mine, theirs)) if a != b]
    ok(len(mine) == len(theirs) and not bad and [f["rank"] for f in page["items"]] == list(range(1, len(mine) + 1)),
       "%s: %d findings, the same kinds, titles, costs, evidence, fixes and ids in the same order as the report"
       % (name, len(theirs)), (len(mine), len(theirs), bad[:3]))
    # a Python program's verdict above the list, as the report's (none for other programs)
    v = rep.get("verdict")
    ok(page.get("verdict") == ("Verdict: %s\n%s" % (v["choice"], v["text"]) if v else None),
       "%s: the page's verdict is the report's (%s)" % (name, v and v["choice"]), page.get("verdict"))
    return True


def check_recording(args, tmp, name, db, kinds):
    d, err = dump(args, tmp, db, [])
    if not ok(d is not None, "%s: --dump" % name, err):
        return None, None
    rep = report(args, tmp, db)
    if rep is None:
        return None, None
    compare(name, d.get("findings"), rep, "recording")
    got = [f["kind"] for f in d["findings"]["items"]]
    for k in kinds:
        if k in got or any(f["kind"] == k for f in rep["findings"]):
            ok(k in got, "%s: the page has a %s finding" % (name, k), got)
        else:  # the analyzer's verdict on this run (tests/integration/test_python.py checks it)
            print("# note: %s: weft report has no %s finding on this run" % (name, k))
    return d, rep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    ap.add_argument("--example", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--pydir", required=True)
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77
    results = test_gui.results

    with tempfile.TemporaryDirectory(prefix="weft-gui-findings-") as tmp:
        db = record(args, tmp, "example", [args.example])
        if not db:
            return 1
        d, rep = check_recording(args, tmp, "example", db, ["contention"])
        if d is None:
            return 1
        findings = rep["findings"]

        # a region finding zooms to its region (and highlights its thread and object): on the
        # synthetic recording, whose findings do not depend on the machine
        gen = os.path.join(tmp, "gen")
        p = subprocess.run([args.gen, "--force", "--events", "200000", "--threads", "8", gen], env=gui_env(tmp),
                           timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        gdb = gen + ".db"
        p2 = p.returncode == 0 and subprocess.run([args.weft, "import", gen, "-o", gdb, "--force"], env=gui_env(tmp),
                                                  timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if ok(p2 and p2.returncode == 0, "gen-recording and weft import", p.stderr):
            gd, grep = check_recording(args, tmp, "gen-recording", gdb, ["imbalance"])
            reg = [(i, f) for i, f in enumerate(grep["findings"] if grep else []) if f.get("region") is not None]
            if ok(reg, "gen-recording: a finding with a region", grep and [f["kind"] for f in grep["findings"]]):
                i, f = reg[0]
                r = [x for x in grep["regions"] if x["index"] == f["region"]][0]  # listed by idle time
                d2, err = dump(args, tmp, gdb, ["--finding", str(i + 1)])
                if ok(d2 is not None, "--finding %d (a region)" % (i + 1), err):
                    w = d2["window"]
                    ok(w["start_ns"] <= r["start_ns"] and w["end_ns"] >= r["end_ns"]
                       and w["end_ns"] - w["start_ns"] <= 1.2 * (r["end_ns"] - r["start_ns"]) + 100,
                       "the window shows the region and little more", (w, r["start_ns"], r["end_ns"]))
                    ok(d2["highlight_thread"] == (f["utid"] if f["utid"] is not None else -1),
                       "the region's straggler thread is highlighted", (d2["highlight_thread"], f["utid"]))
                    ok(d2["highlight"] == (f["object_id"] if f["object_id"] is not None else -1),
                       "the region's object is highlighted", (d2["highlight"], f["object_id"]))

        con = sqlite3.connect(db)
        end = int(con.execute("SELECT value FROM meta WHERE key = 'end_ns'").fetchone()[0])
        # an object finding highlights the object and outlines its longest wait
        obj = [(i, f) for i, f in enumerate(findings) if f.get("object_id") is not None and f.get("region") is None]
        if not obj:  # hist_lock's contention is the example's point, but its cost depends on the machine
            print("# note: the example has no finding of an object without a region on this run: %s"
                  % [f["kind"] for f in findings])
        else:
            i, f = obj[0]
            worst = con.execute("SELECT utid, start_ns, dur_ns FROM thread_state WHERE object_id = ? "
                                "ORDER BY dur_ns DESC LIMIT 1", (f["object_id"],)).fetchone()
            d2, err = dump(args, tmp, db, ["--finding", str(i + 1)])
            if ok(d2 is not None, "--finding %d (an object)" % (i + 1), err):
                ok(d2["highlight"] == f["object_id"], "the object is highlighted", (d2["highlight"], f["object_id"]))
                det = d2["details"]
                ok(det is not None and (det["utid"], det["start_ns"], det["dur_ns"]) == tuple(worst),
                   "its longest wait is outlined and described", (det, worst))

        # a selection: the page shows the selection's findings, as weft report --range
        a, b = end // 4, end * 3 // 4
        d2, err = dump(args, tmp, db, ["--select", "%dns..%dns" % (a, b)])
        rep2 = report(args, tmp, db, ["--range", "%d..%d" % (a, b)])
        if ok(d2 is not None and rep2 is not None, "--select %d..%d" % (a, b), err):
            compare("example selection", d2.get("findings"), rep2, "selection")
        # clearing it shows the whole recording's again
        d2, err = dump(args, tmp, db, ["--select", "%dns..%dns" % (a, b), "--actions", "clear-selection"])
        if ok(d2 is not None, "--select then clear-selection", err):
            compare("example after clear-selection", d2.get("findings"), rep, "recording")

        d2, err = dump(args, tmp, db, ["--finding", "999"])
        ok(d2 is None and "--finding 999" in err, "--finding past the last one fails with a message", err)

        # Python
        py = "/usr/bin/python3"
        if not os.path.exists(py):
            print("# SKIP the Python recordings: %s is not installed" % py)
        else:
            progs = [("gil_threads", ["gil_threads.py", "600000"], ["gil"]),
                     ("unbalanced_pool", ["unbalanced_pool.py", "fork", "30000"], ["imbalance"]),
                     ("io_threads", ["io_threads.py", "12"], ["io_overlap"])]
            for name, argv, kinds in progs:
                pdb = record(args, tmp, name, [py, os.path.join(args.pydir, argv[0])] + argv[1:])
                if not pdb:
                    continue
                d, rep = check_recording(args, tmp, name, pdb, kinds)
                if d is None or name != "gil_threads":
                    continue
                # the gil finding names the thread the others waited on: clicking it highlights that row
                gil = [(i, f) for i, f in enumerate(rep["findings"]) if f["kind"] == "gil"]
                if gil and gil[0][1]["utid"] is not None:
                    i, f = gil[0]
                    d2, err = dump(args, tmp, pdb, ["--finding", str(i + 1)])
                    ok(d2 is not None and d2["highlight_thread"] == f["utid"],
                       "gil_threads: --finding %d highlights thread %d" % (i + 1, f["utid"]),
                       err or (d2 and d2["highlight_thread"]))

    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
