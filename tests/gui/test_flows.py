#!/usr/bin/env python3
# tests/gui/test_flows.py - weft-gui's flow arrows (issue 14, defect 3).
# SPDX-License-Identifier: MIT
#
# usage: test_flows.py --weft WEFT --gui WEFT_GUI --hot FX_CONTENDED --example WEFT_EXAMPLE --gen GEN_RECORDING
# A hot mutex (fx-contended 5000: exactly 5,000 hand-offs from main to the waiter, back to back)
# and the bundled example (hand-offs on two locks, a barrier, creates and joins), shown with flows:
# - never dropped silently: fitted, every flow of the recording is counted in the window, every one
#   is in some arrow, and the caption drawn on the timeline says so ("17,882 hand-offs"), in --dump;
# - denser than the pixels they are bundled into at most an arrow per 8 px, and the arrows cover the
#   whole run: the hand-off colour is drawn in each tenth of the window that has hand-offs (the old
#   4,000-arrow budget was spent in the first part of the run);
# - 64 threads waking each other (gen-recording), fitted: more pairs of rows than the budget, so
#   bundles of 64 px, the biggest of each kind kept, some of every kind shown, and the caption says
#   "N of M" for each kind thinned (before, 1 arrow per pair of rows, bundled over 4 widths, a wall);
# - filtered by kind (flows-handoff hides the hand-offs: "0 of N" is not said, the others stay) and by
#   object (--lock ID with flows-object: only that object's hand-offs, counted as the database has
#   them in the window; the caption names it);
# - dark theme: the arrows are drawn in the dark palette's colours.
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
from test_gui import ok, read_png, gui_env, ROWS_TOP  # noqa: E402

TIMEOUT = 180
HANDOFF = (0xB0, 0x00, 0x6A)       # light palette (weft-palette.c)
HANDOFF_DARK = (0xFF, 0x6E, 0xC7)  # dark palette
W, H = 1200, 400
HOT = 5000  # fx-contended's rounds: as many hand-offs


def is_handoff(px):
    """The hand-off colour, or its edge blended with the casing or a bar (antialiased): magenta, no state's."""
    r, g, b = px
    return px == HANDOFF or (r > 120 and b > 60 and g < 90 and r - g > 90)


def gui(args, tmp, db, extra, theme=None):
    env = gui_env(tmp)
    env.pop("GTK_THEME", None)
    if theme:
        env["GTK_THEME"] = theme
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1200x24", args.gui, "--size", "%dx%d" % (W, H)] + extra + [db]
    return subprocess.run(cmd, env=env, timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def dump(args, tmp, db, extra):
    p = gui(args, tmp, db, ["--dump", "-"] + extra)
    if p.returncode != 0:
        return None, p.stderr.decode("utf-8", "replace")
    return json.loads(p.stdout), ""


def counts(db, a, b, where="1"):
    """Flows by kind name with an end in [a, b]."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT k.name, count(*) FROM flow f JOIN flow_kind_name k ON k.kind = f.kind WHERE (%s) AND "
                       "((f.from_ns BETWEEN ?1 AND ?2) OR (f.to_ns BETWEEN ?1 AND ?2)) GROUP BY k.name" % where,
                       (a, b)).fetchall()
    con.close()
    return dict(rows)


def check_hot(args, tmp, db):
    d, err = dump(args, tmp, db, ["--actions", "flows"])
    if not ok(d is not None, "--dump --actions flows of the hot mutex", err):
        return
    a, b = d["window"]["start_ns"], d["window"]["end_ns"]
    want = counts(db, a, b)
    got = {k: v["in_window"] for k, v in d.get("flow_kinds", {}).items()}
    shown = {k: v["shown"] for k, v in d.get("flow_kinds", {}).items()}
    ok(got == want and shown == want and want.get("lock_handoff", 0) == HOT,
       "fitted: every flow counted and in an arrow (%d hand-offs)" % want.get("lock_handoff", 0), (got, shown, want))
    n = want.get("lock_handoff", 0)
    ok(("%s hand-offs" % format(n, ",")) in (d.get("flow_caption") or "") and d["flows"] == sum(want.values()),
       "the caption says how many hand-offs the window has", d.get("flow_caption"))
    npx = W - 200 - 16
    ok(0 < d.get("flow_arrows", 0) <= max(64, npx // 8) and d.get("flow_bundle_px", 0) >= 12,
       "bundled: at most an arrow per 8 px", (d.get("flow_arrows"), d.get("flow_bundle_px")))
    # the hand-off colour in every tenth of the window that has hand-offs
    out = os.path.join(tmp, "hot.png")
    p = gui(args, tmp, db, ["--screenshot", out, "--actions", "flows"])
    if not ok(p.returncode == 0, "--screenshot --actions flows", p.stderr):
        return
    w, h, rows = read_png(out)
    x0, x1 = 200, w - 16
    con = sqlite3.connect(db)
    times = [t for (t,) in con.execute("SELECT from_ns FROM flow WHERE kind = 1")]
    con.close()
    missing = []
    for k in range(10):
        ta, tb = a + (b - a) * k / 10, a + (b - a) * (k + 1) / 10
        if sum(1 for t in times if ta <= t < tb) < 5:
            continue
        xa, xb = x0 + (x1 - x0) * k // 10, x0 + (x1 - x0) * (k + 1) // 10
        if not any(is_handoff(rows[y][x]) for y in range(ROWS_TOP + 22, h - 30) for x in range(xa, xb)):
            missing.append(k)
    ok(not missing, "hand-off arrows in every tenth of the window with hand-offs", missing)
    # the dark palette's colour under a dark theme
    p = gui(args, tmp, db, ["--screenshot", out, "--actions", "flows"], theme="Adwaita:dark")
    if ok(p.returncode == 0, "--screenshot --actions flows, dark theme", p.stderr):
        w, h, rows = read_png(out)
        ok(sum(1 for r in rows[ROWS_TOP:] for px in r if px == HANDOFF_DARK) > 100,
           "dark theme: the hand-offs in the dark palette's pink")


def check_filters(args, tmp, db):
    d, err = dump(args, tmp, db, ["--actions", "flows-handoff"])
    if ok(d is not None, "--actions flows-handoff", err):
        a, b = d["window"]["start_ns"], d["window"]["end_ns"]
        want = counts(db, a, b)
        k = d.get("flow_kinds", {})
        ok(k.get("lock_handoff", {}).get("shown") == 0 and k["lock_handoff"]["in_window"] == want["lock_handoff"]
           and all(v["shown"] == want[n] for n, v in k.items() if n != "lock_handoff")
           and "hand-off" not in (d.get("flow_caption") or "-hand-off") and "join" in (d.get("flow_caption") or ""),
           "flows-handoff hides the hand-offs, the other kinds stay", (k, want, d.get("flow_caption")))
    con = sqlite3.connect(db)
    oid, name = con.execute("SELECT f.object_id, o.name FROM flow f JOIN sync_object o USING (object_id) "
                            "WHERE f.kind = 1 GROUP BY f.object_id ORDER BY count(*) DESC LIMIT 1").fetchone()
    con.close()
    d, err = dump(args, tmp, db, ["--lock", str(oid), "--actions", "flows-object"])
    if ok(d is not None, "--lock %d --actions flows-object" % oid, err):
        a, b = d["window"]["start_ns"], d["window"]["end_ns"]
        mine, every = counts(db, a, b, "f.object_id = %d" % oid), counts(db, a, b)
        shown = {k: v["shown"] for k, v in d.get("flow_kinds", {}).items() if v["shown"]}
        ok(shown == mine and mine and (d.get("flow_caption") or "").endswith("only " + name)
           and sum(every.values()) >= sum(mine.values()),
           "flows-object: only the highlighted object's flows, named", (shown, mine, every, d.get("flow_caption")))


def check_thinned(args, tmp):
    """64 threads waking each other (gen-recording): even one bundle per pair of rows is too many."""
    rec, db = os.path.join(tmp, "gen"), os.path.join(tmp, "gen.db")
    p = subprocess.run([args.gen, "--force", "--events", "300000", "--threads", "64", rec], env=gui_env(tmp),
                       timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p = p.returncode == 0 and subprocess.run([args.weft, "import", rec, "-o", db, "--force"], env=gui_env(tmp),
                                             timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p and p.returncode == 0, "gen-recording --threads 64 and weft import", p and p.stderr):
        return
    d, err = dump(args, tmp, db, ["--actions", "flows"])
    if not ok(d is not None, "--dump --actions flows (64 threads)", err):
        return
    a, b = d["window"]["start_ns"], d["window"]["end_ns"]
    want = counts(db, a, b)
    k = d.get("flow_kinds", {})
    npx = d["window"]["npx"]
    caption = d.get("flow_caption") or ""
    ok({n: v["in_window"] for n, v in k.items()} == want and d["flows"] == sum(v["shown"] for v in k.values()),
       "thinned: every flow of the window counted, the arrows' flows counted as shown", (k, want, d["flows"]))
    ok(0 < d.get("flow_arrows", 0) <= max(64, npx // 8) and d.get("flow_bundle_px") == 64,
       "thinned: bundles of 64 px, at most an arrow per 8 px", (d.get("flow_arrows"), d.get("flow_bundle_px")))
    ok(all(0 < v["shown"] for v in k.values()) and any(v["shown"] < v["in_window"] for v in k.values()),
       "thinned: some of every kind shown (the biggest bundles of each kind first), not all", k)
    ok(all(("%s of %s " % (format(v["shown"], ","), format(v["in_window"], ","))) in caption
           for v in k.values() if v["shown"] < v["in_window"]),
       "thinned: the caption says how many of each kind are shown", caption)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    ap.add_argument("--hot", required=True, help="fx-contended")
    ap.add_argument("--example", required=True)
    ap.add_argument("--gen", required=True, help="gen-recording (tests/bench)")
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77
    with tempfile.TemporaryDirectory(prefix="weft-gui-flows-") as tmp:
        hot, ex = os.path.join(tmp, "hot.db"), os.path.join(tmp, "example.db")
        for db, cmd in ((hot, [args.hot, str(HOT)]), (ex, [args.example])):
            p = subprocess.run([args.weft, "record", "-q", "-o", db, "--"] + cmd, env=gui_env(tmp), timeout=TIMEOUT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if not ok(p.returncode == 0, "weft record %s" % os.path.basename(cmd[0]), p.stderr):
                return 1
        check_hot(args, tmp, hot)
        check_filters(args, tmp, ex)
        check_thinned(args, tmp)
    print("1..%d" % len(test_gui.results))
    return 0 if all(test_gui.results) else 1


if __name__ == "__main__":
    sys.exit(main())
