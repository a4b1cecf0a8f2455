#!/usr/bin/env python3
# tests/gui/test_compare.py - weft-gui --compare BEFORE.db: the Compare page (issue 14, feature 12).
# SPDX-License-Identifier: MIT
#
# usage: test_compare.py --weft WEFT --gui WEFT_GUI --fx FX_WHATIF
# fx-whatif recorded twice: `lock` (two threads on one hot lock: before) and `sharded` (a lock per
# thread: after). weft-gui --compare LOCK.db SHARDED.db --dump:
# - the page is "compare" and its table is `weft report --compare`'s, number for number (summary,
#   sync objects: hot gone, its waits before > 0; the shards appeared), the findings the same set;
# - a missing second recording is one line naming it, exit 1; --page compare without --compare is a
#   usage error (2);
# - the screenshot shows the page's figures (text in the numbers' columns of the side panel).
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
from test_gui import ok, read_png, gui_env  # noqa: E402

TIMEOUT = 180
W, H = 1400, 800


def gui(args, tmp, db, extra):
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1200x24", args.gui, "--size", "%dx%d" % (W, H), "--window"] + \
        extra + [db]
    return subprocess.run(cmd, env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def record(args, tmp, mode):
    db = os.path.join(tmp, mode + ".db")
    p = subprocess.run([args.weft, "record", "-q", "-o", db, "--", args.fx, mode, "2", "2000", "20", "20"],
                       env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return db if ok(p.returncode == 0, "weft record fx-whatif %s" % mode, p.stderr) else None


def without_paths(c):
    c = json.loads(json.dumps(c))
    for side in ("before", "after"):
        c[side].pop("database")
    c["findings"] = sorted((f["kind"], f["title"], f["change"]) for f in c["findings"])
    return c


def check(args, tmp, lock, sharded):
    rep = json.loads(subprocess.run([args.weft, "report", "--format", "json", "--compare", lock, sharded],
                                    stdout=subprocess.PIPE, timeout=TIMEOUT).stdout)["compare"]
    p = gui(args, tmp, sharded, ["--dump", "-", "--compare", lock, "--page", "compare"])
    d = json.loads(p.stdout) if p.returncode == 0 else {}
    page = d.get("compare") or {}
    c = page.get("compare") or {}
    ok(p.returncode == 0 and d.get("page") == "compare" and page.get("before") == lock and page.get("error") is None,
       "--compare: the Compare page is shown, of %s" % lock, (p.stderr, page.get("error")))
    ok(c and c["summary"] == rep["summary"] and c["sync_objects"] == rep["sync_objects"] and
       without_paths(c) == without_paths(rep) and c["after"]["database"].endswith("sharded.db"),
       "--compare: the page's comparison is weft report --compare's, number for number",
       json.dumps(c)[:1500])
    hot = [o for o in c.get("sync_objects", []) if o["name"] == "hot"]
    ok(len(hot) == 1 and hot[0]["change"] == "gone" and hot[0]["wait_ns"]["before"] > 0 and
       hot[0]["wait_ns"]["after"] == 0 and hot[0]["wait_ns"]["difference"] == -hot[0]["wait_ns"]["before"],
       "--compare: hot waited before and is gone after", hot)
    ok([o["change"] for o in c.get("sync_objects", []) if o["name"].startswith("shards")] == ["appeared"] * 2,
       "--compare: the two shard locks appeared", c.get("sync_objects"))
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    ap.add_argument("--fx", required=True)
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77
    with tempfile.TemporaryDirectory(prefix="weft-gui-compare-") as tmp:
        lock, sharded = record(args, tmp, "lock"), record(args, tmp, "sharded")
        if not lock or not sharded:
            print("1..%d" % len(test_gui.results))
            return 1
        c = check(args, tmp, lock, sharded) or {}
        # a row per figure: the ten of the summary and each wait state (lock_wait, join_wait)
        rows = 10 + len(c.get("summary", {}).get("states", {}))
        missing = os.path.join(tmp, "missing.db")
        p = gui(args, tmp, sharded, ["--dump", "-", "--compare", missing])
        err = p.stderr.decode()
        ok(p.returncode == 1 and err.startswith("weft-gui: %s: " % missing) and err.count("\n") == 1 and not p.stdout,
           "--compare missing.db: one line naming it, exit 1", err)
        p = gui(args, tmp, sharded, ["--dump", "-", "--page", "compare"])
        ok(p.returncode == 2 and b"--page compare goes with --compare" in p.stderr,
           "--page compare without --compare: a usage error", p.stderr)
        png = os.path.join(tmp, "compare.png")
        p = gui(args, tmp, sharded, ["--screenshot", png, "--compare", lock, "--page", "compare"])
        if ok(p.returncode == 0 and os.path.exists(png), "--compare: screenshot", p.stderr):
            width, height, px = read_png(png)
            # the figures' ratios, right-aligned at the panel's right edge: a line of text a row
            # from under the buttons (the Findings page, shown without --compare, has 8 there)
            lines, inside = 0, False
            for y in range(90, 340):
                dark = any(sum(px[y][x][:3]) < 3 * 110 for x in range(width - 60, width - 4))
                lines += dark and not inside
                inside = dark
            ok(lines >= rows >= 12, "--compare: the page's %d figures are drawn (%d lines of numbers at the right edge)"
               % (rows, lines))
            if os.environ.get("WEFT_KEEP_PNG"):
                shutil.copy(png, os.environ["WEFT_KEEP_PNG"])
    print("1..%d" % len(test_gui.results))
    return 0 if all(test_gui.results) else 1


if __name__ == "__main__":
    sys.exit(main())
