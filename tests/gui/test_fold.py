#!/usr/bin/env python3
# tests/gui/test_fold.py - collapsed processes in weft-gui (issue 14, defect 6).
# SPDX-License-Identifier: MIT
#
# usage: test_fold.py --weft WEFT --gui WEFT_GUI
# Records a small process tree (sh starting 5 children that run sleep, as make runs compilers):
# - open, it takes a header and a thread row per process (--dump's "rows");
# - collapse-all folds the tree into its root's header: one row, counting every process and thread
#   of the recording ("+15 processes, 16 threads");
# - that row summarises them (the screenshot): its timeline part has the colours of the states (on
#   a CPU, runnable, off a CPU, the waits) where they were alive, not the blank header of before;
# - a click on the folded root opens it: its own thread row, and each child's tree folded under it,
#   the folded threads adding up to the recording's.
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
from test_gui import ok, read_png, gui_env, PALETTE, PROCESS_HEADER, ROWS_TOP  # noqa: E402

TIMEOUT = 120
W, H = 1000, 400
PROC_H = 22


def gui(args, tmp, db, extra):
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1200x24", args.gui, "--size", "%dx%d" % (W, H)] + extra + [db]
    return subprocess.run(cmd, env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def rows(args, tmp, db, extra):
    p = gui(args, tmp, db, ["--dump", "-"] + extra)
    if p.returncode != 0:
        return None, p.stderr.decode("utf-8", "replace")
    return json.loads(p.stdout).get("rows"), ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77
    with tempfile.TemporaryDirectory(prefix="weft-gui-fold-") as tmp:
        db = os.path.join(tmp, "tree.db")
        p = subprocess.run([args.weft, "record", "-q", "-o", db, "--", "/bin/sh", "-c",
                            'for i in 1 2 3 4 5; do /bin/sh -c "sleep 0.05; true" & done; wait'],
                           env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if not ok(p.returncode == 0, "weft record sh with 5 children", p.stderr):
            return 1
        con = sqlite3.connect(db)
        nproc = con.execute("SELECT count(*) FROM process").fetchone()[0]
        nthr = con.execute("SELECT count(*) FROM thread").fetchone()[0]
        con.close()
        r, err = rows(args, tmp, db, [])
        if ok(r is not None, "--dump of the tree", err):
            procs = [x for x in r if "process" in x]
            ok(len(procs) == nproc and len(r) == nproc + nthr and nproc >= 6,
               "open: a header and a thread row per process (%d processes)" % nproc, (len(procs), len(r), nthr))
        r, err = rows(args, tmp, db, ["--actions", "collapse-all"])
        ok(r is not None and len(r) == 1 and r[0].get("folded_processes") == nproc
           and r[0].get("folded_threads") == nthr,
           "collapse-all folds the tree into one row of %d processes and %d threads" % (nproc, nthr), (r, err))
        # the summary row's pixels
        out = os.path.join(tmp, "fold.png")
        p = gui(args, tmp, db, ["--screenshot", out, "--actions", "collapse-all"])
        if ok(p.returncode == 0, "--screenshot --actions collapse-all", p.stderr):
            w, h, px = read_png(out)
            mid = ROWS_TOP + PROC_H // 2
            line = px[mid][200:w - 16]
            states = sum(1 for c in line if c in PALETTE)
            ok(states >= 0.8 * len(line), "the folded row shows its threads' states across the run",
               "%d of %d columns" % (states, len(line)))
            below = [c for y in range(ROWS_TOP + PROC_H + 2, h - 40) for c in px[y][200:w - 16:5]]
            ok(not any(c in PALETTE or c == PROCESS_HEADER for c in below), "and nothing under it")
        # a click on the folded root's header opens it, its children stay folded
        r, err = rows(args, tmp, db, ["--actions", "collapse-all", "--click", "50,%d" % (ROWS_TOP + 5)])
        if ok(r is not None, "collapse-all, then a click on the root's header", err):
            kids = [x for x in r[1:] if "process" in x]
            ok(r[0].get("folded_threads") == 0 and "thread" in r[1] and kids
               and all(x["folded_processes"] >= 1 for x in kids)
               and 1 + sum(x["folded_threads"] for x in kids) == nthr,
               "the root opens: its thread, then its children's trees folded", r)
    print("1..%d" % len(test_gui.results))
    return 0 if all(test_gui.results) else 1


if __name__ == "__main__":
    sys.exit(main())
