#!/usr/bin/env python3
# tests/gui/test_whatif.py - what-if by replay from weft-gui (issue 17, item 2).
# SPDX-License-Identifier: MIT
#
# usage: test_whatif.py --weft WEFT --gui WEFT_GUI --fx FX_WHATIF
# fx-whatif lock (two threads taking turns on `hot`) recorded; weft-gui --what-if SPEC replays it
# as `weft report --what-if SPEC` does, on the Sync objects page:
# - the prediction, the recording's length and the replay's error bar are the report's, to the
#   nanosecond, and the bar's text says them;
# - a spec that names nothing shows the report's one-line reason;
# - choosing the lock's row (--lock ID) offers its two changes (the bar and its buttons are in the
#   screenshot under the table: not the panel's background there);
# - the replayed rows (issue 17 item 4, --actions replay-rows as Shift+R): a row per thread for the
#   change and for the recording replayed unchanged, under the recorded rows; each group ends where
#   the report's replay does (to the ns), the prediction is the change's rows' length times the error
#   the change keeps; the unchanged replay ends as far off the recording as the report's error bar; and
#   in the screenshot each replayed row's bar ends at the x of its end on the shared time axis.
# Exit 0 on success, 1 on a failure, 77 (skip) without xvfb-run.
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
from test_gui import ok, read_png, gui_env  # noqa: E402

TIMEOUT = 180
W, H = 1400, 700


def gui(args, tmp, db, extra):
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1200x24", args.gui, "--size", "%dx%d" % (W, H), "--window"] + \
        extra + [db]
    return subprocess.run(cmd, env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def rightmost_bar(px, y, right, grid_y):
    """The last x left of right where row line y differs from its background, the ruler's grid lines
    (the columns that differ at grid_y, a line under every row) left out."""
    def differs(a, b, by):
        return sum(abs(p - q) for p, q in zip(a[:3], b[:3])) > by
    for x in range(right - 1, 0, -1):
        if differs(px[y][x], px[y][right], 30) and not differs(px[grid_y][x], px[grid_y][right], 10):
            return x
    return -1


def replayed_rows(args, tmp, db):
    spec = "lock:hot"
    rep = json.loads(subprocess.run([args.weft, "report", "--format", "json", "--what-if", spec, db],
                                    stdout=subprocess.PIPE, timeout=TIMEOUT).stdout)["replay"]
    utids = sorted(u for (u,) in sqlite3.connect(db).execute("SELECT utid FROM thread"))
    png = os.path.join(tmp, "replay.png")
    # the window: the recording or its unchanged replay, the longer (how far off the replay ends depends on
    # the machine's load while recording: either way every replayed row's end is in the window)
    span = int(1.02 * max(rep["recorded_ns"], rep["replayed_ns"], rep["what_if"][0]["replayed_ns"])) + 1
    p = gui(args, tmp, db, ["--dump", "-", "--what-if", spec, "--actions", "replay-rows", "--screenshot", png,
                            "--range", "0ns..%dns" % span])
    d = json.loads(p.stdout) if p.returncode == 0 else {}
    sets = (d.get("what_if") or {}).get("rows") or []
    if not ok(p.returncode == 0 and len(sets) == 2, "%s: the replayed rows, with the change and unchanged" % spec,
              (sets, p.stderr)):
        return
    chg, base = sets
    ok([r["thread"] for r in chg["rows"]] == utids and [r["thread"] for r in base["rows"]] == utids and
       all(r["intervals"] >= 1 for r in chg["rows"] + base["rows"]),
       "%s: a replayed row for each of the %d threads, in both groups" % (spec, len(utids)), sets)
    start = base["start_ns"]
    ok(chg["start_ns"] == start and abs(chg["end_ns"] - start - rep["what_if"][0]["replayed_ns"]) <= 2 and
       abs(base["end_ns"] - start - rep["replayed_ns"]) <= 2,
       "%s: the groups end where the report's replays do (%d, %d ns from the start)" %
       (spec, rep["what_if"][0]["replayed_ns"], rep["replayed_ns"]), sets)
    # the prediction is the change's rows' length times the unchanged replay's error as far as the change
    # keeps it (error_kept), unless raised to the floor of the work it keeps
    x = rep["what_if"][0]
    want = round((chg["end_ns"] - start) * x["error_kept"])
    # (error_kept has 6 significant digits in the JSON; the rows end within 2 ns of the replay)
    ok(x["floor_cpus"] > 0 or abs(x["predicted_ns"] - want) <= 2 + 1e-5 * x["predicted_ns"],
       "%s: the prediction, %.3f ms, is the change's rows' %.3f ms x the error kept, %.4f"
       % (spec, x["predicted_ns"] / 1e6, (chg["end_ns"] - start) / 1e6, x["error_kept"]), x)
    err = (base["end_ns"] - start - rep["recorded_ns"]) / rep["recorded_ns"]
    # (how far off the model is depends on the machine's load while recording: the rows must say
    # what the report says, whatever it is)
    ok(abs(err - rep["error"]) < 1e-6 * max(10, abs(err)),  # (the JSON's error has 6 significant digits)
       "the unchanged replay ends %.1f %% off the recording: the report's error bar" % (100 * err))
    rows = [r for r in d.get("rows", []) if "replayed" in r]
    recorded_y = max(r["y"] for r in d.get("rows", []) if "replayed" not in r)
    ok(len(rows) == 2 + 2 * len(utids) and min(r["y"] for r in rows) > recorded_y and
       [(r["thread"], r["intervals"], r["end_ns"]) for r in rows if "thread" in r] ==
       [(r["thread"], r["intervals"], r["end_ns"]) for s in sets for r in s["rows"]],
       "replay-rows: the timeline shows both groups under the recorded rows", rows)
    # in the screenshot: the time axis is shared, the window all of it: each replayed row's bar ends
    # at x0 + npx * end / window (within 2.5 px), x0 and npx where the timeline says it draws the window
    width, height, px = read_png(png)
    right = d["layout"]["timeline_width"] - 3
    grid_y = max(r["y"] for r in rows) + 22 + 8
    w = d["window"]
    win, x0, npx = w["end_ns"] - w["start_ns"], w["x0"], w["npx"]
    # (a replay longer than the recording runs past the window, fitted to the recording: left out)
    ends = [(r["end_ns"] - w["start_ns"], rightmost_bar(px, r["y"] + 11, right, grid_y))
            for r in rows if "thread" in r and r["end_ns"] < w["end_ns"] - win / 100]
    off = [abs(x0 + npx * e / win - x) for e, x in ends]
    ok(len(ends) >= 3 and npx > 300 and 200 <= x0 <= 360 and max(off) <= 2.5,
       "the replayed bars end on the shared time axis (%d px wide from x %d): %s" %
       (npx, x0, ["%.1f" % o for o in off]), ends)
    p = gui(args, tmp, db, ["--dump", "-", "--what-if", spec])
    d = json.loads(p.stdout) if p.returncode == 0 else {}
    ok(p.returncode == 0 and not [r for r in d.get("rows", []) if "replayed" in r] and
       len(((d.get("what_if") or {}).get("rows")) or []) == 2,
       "without replay-rows: the replay's rows kept, not drawn")


def balanced_rounds(args, tmp):
    """balance:#ID from the GUI (which replays with the critical path's metrics: the barrier's rounds must be
    made for it too): the report's prediction, to the ns."""
    db = os.path.join(tmp, "barrier.db")
    p = subprocess.run([args.weft, "record", "-q", "-o", db, "--", args.barrier, "3", "20"], env=gui_env(tmp),
                       timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p.returncode == 0, "weft record fx-barrier", p.stderr):
        return
    bid = sqlite3.connect(db).execute("SELECT object_id FROM sync_object WHERE kind = 7").fetchone()[0]
    spec = "balance:#%d" % bid
    rep = json.loads(subprocess.run([args.weft, "report", "--format", "json", "--what-if", spec, db],
                                    stdout=subprocess.PIPE, timeout=TIMEOUT).stdout)["replay"]
    p = gui(args, tmp, db, ["--dump", "-", "--what-if", spec])
    w = (json.loads(p.stdout) if p.returncode == 0 else {}).get("what_if") or {}
    want = (rep["recorded_ns"], rep["what_if"][0]["predicted_ns"])
    ok(w.get("message") is None and (w.get("recorded_ns"), w.get("predicted_ns")) == want and
       "each of the 20 rounds" in (w.get("description") or ""),
       "--what-if %s: every round of the barrier balanced, the report's prediction %s" % (spec, want), w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    ap.add_argument("--fx", required=True)
    ap.add_argument("--barrier", help="fx-barrier: balance:#ID, every round of a barrier balanced")
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77
    with tempfile.TemporaryDirectory(prefix="weft-gui-whatif-") as tmp:
        db = os.path.join(tmp, "lock.db")
        p = subprocess.run([args.weft, "record", "-q", "-o", db, "--", args.fx, "lock", "2", "400", "20", "20"],
                           env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if not ok(p.returncode == 0, "weft record fx-whatif lock", p.stderr):
            print("1..%d" % len(test_gui.results))
            return 1
        for spec in ("lock:hot", "lock:hot=-50%"):
            rep = json.loads(subprocess.run([args.weft, "report", "--format", "json", "--what-if", spec, db],
                                            stdout=subprocess.PIPE, timeout=TIMEOUT).stdout)["replay"]
            p = gui(args, tmp, db, ["--dump", "-", "--what-if", spec])
            d = json.loads(p.stdout) if p.returncode == 0 else {}
            w = d.get("what_if") or {}
            want = (rep["recorded_ns"], rep["what_if"][0]["predicted_ns"], rep["what_if"][0]["replayed_ns"])
            ok(p.returncode == 0 and (w.get("recorded_ns"), w.get("predicted_ns"), w.get("replayed_ns")) == want and
               abs(w.get("error", 9) - rep["error"]) < 1e-5 and w.get("message") is None and d.get("page") == "locks",
               "--what-if %s: the report's prediction %s, to the ns" % (spec, want), (w, p.stderr))
            # (the lock's label has its site only when a wait of it was recorded with a stack: the
            # report's own description, whatever this run gave)
            ok(w.get("shown", "").startswith("If " + rep["what_if"][0]["description"] + ": ") and
               w.get("description") == rep["what_if"][0]["description"] and " instead of " in w.get("shown", "") and
               "replayed" in w.get("shown", ""), "--what-if %s: the bar says it" % spec, w.get("shown"))
        p = gui(args, tmp, db, ["--dump", "-", "--what-if", "lock:nope"])
        w = (json.loads(p.stdout) if p.returncode == 0 else {}).get("what_if") or {}
        ok(p.returncode == 0 and "no lock named nope (locks:" in (w.get("message") or "") and
           "hot" in (w.get("message") or ""), "--what-if lock:nope: the reason, naming the locks there are", w)
        hot = sqlite3.connect(db).execute("SELECT object_id FROM sync_object WHERE name = 'hot'").fetchone()[0]
        png = os.path.join(tmp, "bar.png")
        p = gui(args, tmp, db, ["--screenshot", png, "--lock", str(hot), "--page", "locks"])
        if ok(p.returncode == 0 and os.path.exists(png), "--lock %d: screenshot" % hot, p.stderr):
            width, height, px = read_png(png)
            # the side panel's lower part (under the three-row table): the bar's title and buttons
            # put dark text and button borders there; without the bar it is the panel's background
            xs = range(width - 400, width - 10)
            dark = sum(1 for y in range(height - 120, height - 10) for x in xs
                       if sum(px[y][x][:3]) < 3 * 110)
            ok(dark > 200, "choosing the lock offers its changes under the table (%d dark pixels)" % dark)
        replayed_rows(args, tmp, db)
        if args.barrier:
            balanced_rounds(args, tmp)
    print("1..%d" % len(test_gui.results))
    return 0 if all(test_gui.results) else 1


if __name__ == "__main__":
    sys.exit(main())
