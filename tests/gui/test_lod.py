#!/usr/bin/env python3
# tests/gui/test_lod.py - the level-of-detail rule, checked on random recordings.
# SPDX-License-Identifier: MIT
#
# usage: test_lod.py --weft WEFT --gui WEFT_GUI --gen GEN_RECORDING [--seeds 3,17,101]
# For each seed, gen-recording writes a random recording (6 threads, short lock waits among
# long running spans), `weft import` stores it, and weft-gui --screenshot renders it at the
# whole recording and at random windows from 1/7 down to 1/20000 of it (so both the
# state_summary levels and the raw thread_state rows are drawn). Then, for every thread row
# and every pixel column, against the database:
# - a column where the thread was alive is not blank (it has a state colour);
# - a column where it was not alive at all is blank;
# - a column where it waited, even for a sliver of the pixel, shows a wait colour (the
#   column's state, or the mark under a running column): zoomed out, a wait is never hidden.
# The geometry is weft-timeline.c's: the label column (200 px or more: read from the image),
# right margin 16, rows from y 96
# (overview 26 + ruler 26 + running track 44), a 22 px process header, 22 px thread rows with
# the bar 3 px inside.
import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gui  # noqa: E402
from test_gui import ok, read_png, gui_env, PALETTE, RUNNING_PARTS  # noqa: E402

W, H = 1000, 420
LABEL_W, RIGHT_M, ROWS_TOP, PROC_H, ROW_H, BAR_INSET = 200, 16, 96, 22, 22, 3
NPX = W - LABEL_W - RIGHT_M
TIMEOUT = 180
EPS = 1e-3  # a share of a pixel smaller than this is not checked (rounding at pixel edges)


LINE = (0xC4, 0xC8, 0xCC)  # the line at the right of the label column


def label_width(rows):
    """The label column's width in the image: it fits the longest thread or lock label (200 px at
    least), the line at its right edge down the rows."""
    ys = range(ROWS_TOP, H - 28)
    return 1 + max(range(150, 400), key=lambda x: sum(1 for y in ys if rows[y][x] == LINE))


def column_sets(rows, y0, lw, npx):
    """Per pixel column, the set of colours of the bar of the row starting at y0."""
    ys = range(y0 + BAR_INSET, y0 + ROW_H - BAR_INSET)
    return [{rows[y][lw + p] for y in ys} for p in range(npx)]


def per_column(con, utid, start, end, t0, npp, npx):
    """alive[p], wait[p]: ns of the thread's life and of its waits in column p."""
    alive, wait = [0.0] * npx, [0.0] * npx
    t1 = t0 + npp * npx
    q = ("SELECT start_ns, dur_ns, state FROM thread_state WHERE utid = ? AND start_ns < ? "
         "AND start_ns + dur_ns > ?")
    for s, d, state in con.execute(q, (utid, int(t1) + 1, int(t0) - 1)):
        a, b = max(s, t0), min(s + d, t1)
        if b <= a:
            continue
        pa, pb = (a - t0) / npp, (b - t0) / npp
        for p in range(max(0, int(pa)), min(npx, int(pb) + 1)):
            share = min(pb, p + 1) - max(pa, p)
            if share > 0:
                alive[p] += share
                if state != 0:
                    wait[p] += share
    return alive, wait


def check(args, tmp, db, label, t0, t1):
    out = os.path.join(tmp, "lod.png")
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", args.gui, "--screenshot", out,
           "--size", "%dx%d" % (W, H), "--range", "%dns..%dns" % (t0, t1), db]
    p = subprocess.run(cmd, env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p.returncode == 0, "%s: --screenshot --range %d..%d" % (label, t0, t1), p.stderr):
        return
    _, _, rows = read_png(out)
    con = sqlite3.connect(db)
    threads = con.execute("SELECT utid, start_ns, end_ns FROM thread ORDER BY is_main DESC, start_ns, utid").fetchall()
    # the window as drawn: the timeline keeps [t0, t1) (wider than the minimum)
    lw = label_width(rows)
    npx = W - lw - RIGHT_M
    npp = (t1 - t0) / npx
    blank, shown_dead, hidden_wait, checked = [], [], [], 0
    for i, (utid, start, end) in enumerate(threads):
        y0 = ROWS_TOP + PROC_H + i * ROW_H
        if y0 + ROW_H > H - 28:
            break
        cols = column_sets(rows, y0, lw, npx)
        alive, wait = per_column(con, utid, start, end, t0, npp, npx)
        for px in range(npx):
            colours = cols[px] & PALETTE
            if alive[px] > EPS and not colours:
                blank.append((utid, px))
            if alive[px] == 0 and colours and not (0 < px < npx - 1 and (alive[px - 1] > 0 or alive[px + 1] > 0)):
                shown_dead.append((utid, px))
            if wait[px] > EPS:
                checked += 1
                if not colours - RUNNING_PARTS:
                    hidden_wait.append((utid, px, round(wait[px], 4)))
    con.close()
    ok(not blank, "%s: no blank column where a thread was alive" % label, blank[:10])
    ok(not shown_dead, "%s: nothing drawn where a thread was not alive" % label, shown_dead[:10])
    ok(not hidden_wait and checked > 0,
       "%s: every column with a wait shows a wait colour (%d columns)" % (label, checked), hidden_wait[:10])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--seeds", default="3,17,101")
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77
    with tempfile.TemporaryDirectory(prefix="weft-gui-lod-") as tmp:
        for seed in [int(s) for s in args.seeds.split(",")]:
            rec, db = os.path.join(tmp, "rec%d" % seed), os.path.join(tmp, "rec%d.db" % seed)
            p = subprocess.run([args.gen, "--events", "60000", "--threads", "6", "--seed", str(seed), rec],
                               env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if not ok(p.returncode == 0, "gen-recording --seed %d" % seed, p.stderr):
                continue
            p = subprocess.run([args.weft, "import", rec, "-o", db], env=gui_env(tmp), timeout=TIMEOUT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if not ok(p.returncode == 0, "weft import (seed %d)" % seed, p.stderr):
                continue
            con = sqlite3.connect(db)
            end = int(con.execute("SELECT value FROM meta WHERE key = 'end_ns'").fetchone()[0])
            con.close()
            rng = random.Random(seed)
            check(args, tmp, db, "seed %d, whole" % seed, 0, end)
            for div in (7, 150, 20000):
                w = max(end // div, 2 * NPX)
                a = rng.randrange(0, max(1, end - w))
                check(args, tmp, db, "seed %d, 1/%d" % (seed, div), a, a + w)
    print("1..%d" % len(test_gui.results))
    return 0 if all(test_gui.results) else 1


if __name__ == "__main__":
    sys.exit(main())
