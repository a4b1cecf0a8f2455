#!/usr/bin/env python3
# tests/gui/test_critpath.py - the critical path on weft-gui's timeline (issue 14, feature 11).
# SPDX-License-Identifier: MIT
#
# usage: test_critpath.py --weft WEFT --gui WEFT_GUI --hot FX_CONTENDED --example WEFT_EXAMPLE
# The bundled example and a hot mutex (fx-contended 5000) with the path drawn (--actions
# critical-path), against `weft report --format json`'s critical_path:
# - the Critical path page's segments are the report's, to the nanosecond (thread, start, end,
#   running, the flow followed into each and its object), its threads table the report's
#   threads (on path, running, share), its length and flows followed the same;
# - the bands drawn over the rows: every segment of the window on its thread's row, at the
#   pixels its times map to, and the screenshot has the path's red on those rows there;
# - a segment chosen on the page (--segment N) zooms the timeline to it (a segment's length
#   each side) and highlights its thread;
# - a path denser than the pixels (the hot mutex: ~2,000 segments in 584 px) is counted whole
#   in the window and drawn as at most a band per pixel column.
# Exit 0 on success, 1 on a failure, 77 (skip) without xvfb-run.
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gui  # noqa: E402
from test_gui import ok, read_png, gui_env, ROWS_TOP  # noqa: E402

TIMEOUT = 180
W, H = 1200, 400
X0, NPX = 200, 1200 - 200 - 16  # the label column, the timeline's pixels (LABEL_W_MIN, RIGHT_M)
CRIT = (0xE0, 0x1B, 0x24)  # weft-palette.c, light


def gui(args, tmp, db, extra, width=W):
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1200x24", args.gui, "--size", "%dx%d" % (width, H)] + extra + [db]
    return subprocess.run(cmd, env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def dump(args, tmp, db, extra, width=W):
    p = gui(args, tmp, db, ["--dump", "-"] + extra, width)
    if p.returncode != 0:
        return None, p.stderr.decode("utf-8", "replace")
    return json.loads(p.stdout), ""


def record(args, tmp, name, argv):
    db = os.path.join(tmp, name)
    p = subprocess.run([args.weft, "record", "-q", "-o", db, "--"] + argv, env=gui_env(tmp), timeout=TIMEOUT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p.returncode == 0, "weft record %s" % os.path.basename(argv[0]), p.stderr):
        return None, None
    p = subprocess.run([args.weft, "report", "--format", "json", db], stdout=subprocess.PIPE, timeout=TIMEOUT)
    return db, json.loads(p.stdout)["critical_path"]


def check_example(args, tmp):
    db, rep = record(args, tmp, "ex.db", [args.example])
    if not db:
        return
    d, err = dump(args, tmp, db, ["--actions", "critical-path"])
    if not ok(d is not None and d["critical_path"], "--dump --actions critical-path", err):
        return
    cp = d["critical_path"]
    ok(d["page"] == "critpath" and d["critical_path_shown"], "P: the path drawn, its page shown", d["page"])
    want = [{k: s[k] for k in ("utid", "start_ns", "end_ns", "running_ns", "flow", "object_id")}
            for s in rep["segments"]]
    ok(cp["segments"] == want and len(want) == rep["segments_total"] >= 3,
       "the page's %d segments are the report's, to the ns" % len(want), (cp["segments"][:3], want[:3]))
    ok((cp["length_ns"], cp["jumps"], cp["start_ns"], cp["end_ns"], cp["before_ns"], cp["after_ns"])
       == (rep["length_ns"], rep["jumps"], rep["start_ns"], rep["end_ns"], rep["before_ns"], rep["after_ns"]),
       "its length and flows followed are the report's", (cp["length_ns"], rep["length_ns"]))
    # (the report writes a share with 6 significant digits)
    got = [(t["utid"], t["label"], t["path_ns"], t["running_ns"], float("%.6g" % t["share"])) for t in cp["threads"]]
    exp = [(t["utid"], t["label"], t["path_ns"], t["running_ns"], t["share"]) for t in rep["threads"]]
    ok(got == exp, "its threads table is the report's", (got, exp))
    # the bands: every segment on its thread's row, at its pixels
    a, b = d["window"]["start_ns"], d["window"]["end_ns"]
    npp = (b - a) / NPX
    bands = d["critical_path_drawn"]
    missing = []
    for s in want:
        xa, xb = max(0, (s["start_ns"] - a) / npp), min(NPX, (s["end_ns"] - a) / npp)
        if not any(x["utid"] == s["utid"] and x["x0"] <= xa + 1 and x["x1"] >= xb - 1 for x in bands):
            missing.append(s)
    ok(d["critical_path_in_window"] == len(want) and not missing and len(bands) <= len(want),
       "a band on its thread's row for each segment, at its pixels", (missing, bands))
    # the screenshot: red on each long segment's row, over its x range
    out = os.path.join(tmp, "path.png")
    p = gui(args, tmp, db, ["--screenshot", out, "--actions", "critical-path"])
    if ok(p.returncode == 0, "--screenshot --actions critical-path", p.stderr):
        w, h, rows = read_png(out)
        ys = {r["thread"]: r["y"] for r in d["rows"] if "thread" in r}
        bad = []
        for s in want:
            xa, xb = X0 + int((s["start_ns"] - a) / npp), X0 + int((s["end_ns"] - a) / npp)
            if xb - xa < 20:
                continue
            y = ys[s["utid"]]
            if not any(rows[yy][x] == CRIT for yy in range(y, y + 22) for x in range(xa + 4, xb - 4)):
                bad.append(s)
        ok(not bad, "the path's red on the row of each segment wider than 20 px", bad)
        ok(not any(px == CRIT for r in rows[ROWS_TOP:] for px in r[:X0 - 2]), "and none in the label column")
    # a segment chosen on the page: zoomed to it, its thread highlighted
    k = max(range(len(want)), key=lambda i: want[i]["end_ns"] - want[i]["start_ns"])
    s = want[k]
    d, err = dump(args, tmp, db, ["--segment", str(k + 1)])
    if ok(d is not None, "--segment %d" % (k + 1), err):
        ln = max(s["end_ns"] - s["start_ns"], 60)
        ok((d["window"]["start_ns"], d["window"]["end_ns"]) == (s["start_ns"] - ln, s["end_ns"] + ln)
           and d["highlight_thread"] == s["utid"] and d["critical_path_shown"],
           "zoomed to the segment, a length each side, its thread highlighted", (d["window"], s))
    p = gui(args, tmp, db, ["--dump", "-", "--segment", "1000"])
    ok(p.returncode == 1 and b"--segment 1000" in p.stderr, "--segment beyond the path: exit 1, said", p.stderr)


def check_hot(args, tmp):
    npx = 800 - 200 - 16
    # a path with more segments than the timeline has pixels: about 2,000 from 5,000 rounds here, but
    # the hand-offs of a hot mutex are the scheduler's (a few hundred on a loaded machine): more rounds
    # until there are
    for n in (5000, 20000, 80000):
        db, rep = record(args, tmp, "hot-%d.db" % n, [args.hot, str(n)])
        if not db or rep["segments_total"] > npx:
            break
    if not db:
        return
    d, err = dump(args, tmp, db, ["--actions", "critical-path"], 800)
    if not ok(d is not None and d["critical_path"], "--dump --actions critical-path (hot mutex, 800 px wide)", err):
        return
    cp = d["critical_path"]
    ok(len(cp["segments"]) == rep["segments_total"] > npx and cp["jumps"] == rep["jumps"]
       and d["critical_path_in_window"] == rep["segments_total"],
       "all %d segments (the report's count) in the window" % rep["segments_total"],
       (len(cp["segments"]), rep["segments_total"], d["critical_path_in_window"]))
    bands = d["critical_path_drawn"]
    cols = sum(x["x1"] - x["x0"] for x in bands)
    ok(0 < len(bands) <= npx and cols <= npx and {x["utid"] for x in bands} <= {s["utid"] for s in cp["segments"]},
       "denser than the pixels: at most a band per column (%d bands)" % len(bands), (len(bands), cols))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    ap.add_argument("--hot", required=True)
    ap.add_argument("--example", required=True)
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77
    with tempfile.TemporaryDirectory(prefix="weft-gui-critpath-") as tmp:
        check_example(args, tmp)
        check_hot(args, tmp)
    print("1..%d" % len(test_gui.results))
    return 0 if all(test_gui.results) else 1


if __name__ == "__main__":
    sys.exit(main())
