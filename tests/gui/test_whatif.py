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
#   screenshot under the table: not the panel's background there).
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    ap.add_argument("--fx", required=True)
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
    print("1..%d" % len(test_gui.results))
    return 0 if all(test_gui.results) else 1


if __name__ == "__main__":
    sys.exit(main())
