#!/usr/bin/env python3
# tests/gui/test_theme.py - weft-gui under a dark GTK theme (issue 14, defect 7).
# SPDX-License-Identifier: MIT
#
# usage: test_theme.py --weft WEFT --gui WEFT_GUI --fixture FX_CONTENDED
# Records fx-contended and renders it under GTK_THEME=Adwaita:dark and the default (light) theme:
# - the timeline's background (under the last row, and the label column) is dark under the dark
#   theme (luminance < 0.2) and light under the light one (> 0.9), its labels the other way round;
# - the states keep their colours (the lock waits are still vermillion);
# - --window: the window's content is opaque (the side panel draws the theme's background), and the
#   Findings title is light text on a dark background under the dark theme (dark on light under the
#   light one).
# Exit 0 on success, 1 on a failure, 77 (skip) without xvfb-run.
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gui  # noqa: E402
from test_gui import ok, read_png, gui_env, LOCK_WAIT, ROWS_TOP  # noqa: E402

TIMEOUT = 120


def lum(px):
    return (0.2126 * px[0] + 0.7152 * px[1] + 0.0722 * px[2]) / 255


def render(args, tmp, db, out, theme, extra):
    env = gui_env(tmp)
    env.pop("GTK_THEME", None)
    if theme:
        env["GTK_THEME"] = theme
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1200x24", args.gui, "--screenshot", out] + extra + [db]
    return subprocess.run(cmd, env=env, timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def check_timeline(args, tmp, db, theme, dark):
    out = os.path.join(tmp, "tl.png")
    p = render(args, tmp, db, out, theme, ["--size", "1000x400"])
    name = "dark" if dark else "light"
    if not ok(p.returncode == 0, "--screenshot under the %s theme" % name, p.stderr):
        return
    w, h, rows = read_png(out)
    # fx-contended: a process header, two thread rows and one lock lane (22 px each) from ROWS_TOP;
    # under them the timeline's background down to the legend (28 px)
    below = [rows[y][x] for y in range(ROWS_TOP + 4 * 22 + 10, h - 40) for x in range(0, w, 7)]
    labels = [rows[y][x] for y in range(ROWS_TOP + 22, ROWS_TOP + 3 * 22) for x in range(18, 150)]
    bg = sum(lum(px) for px in below) / max(1, len(below))
    ok(below and (bg < 0.2 if dark else bg > 0.9), "%s theme: the timeline's background luminance %.2f" % (name, bg))
    # the thread labels' text: the pixels farthest from the background
    text = max(labels, key=lambda px: abs(lum(px) - bg)) if labels else (0, 0, 0)
    ok(abs(lum(text) - bg) > 0.6, "%s theme: the thread labels contrast with the background (%.2f on %.2f)"
       % (name, lum(text), bg))
    ok(any(LOCK_WAIT in r for r in rows[ROWS_TOP:]), "%s theme: lock waits keep their vermillion" % name)


def check_window(args, tmp, db, theme, dark):
    out = os.path.join(tmp, "win.png")
    p = render(args, tmp, db, out, theme, ["--window", "--size", "1400x500", "--page", "findings"])
    name = "dark" if dark else "light"
    if not ok(p.returncode == 0, "--screenshot --window under the %s theme" % name, p.stderr):
        return
    w, h, rows = read_png(out, alpha=True)
    clear = sum(1 for r in rows for px in r if px[3] < 255)
    ok(clear == 0, "%s theme: the window's content is opaque" % name, "%d transparent pixels" % clear)
    # the side panel: its right third; the Findings title is the first line of text under the page buttons
    side = [r[w * 2 // 3:] for r in rows]
    panel_bg = sum(lum(px) for r in side[h // 2:] for px in r[::5]) / max(1, sum(len(r[::5]) for r in side[h // 2:]))
    title = [px for r in side[40:75] for px in r if abs(lum(px) - lum(side[45][-3])) > 0.5]
    ok((panel_bg < 0.3) if dark else (panel_bg > 0.7), "%s theme: the side panel's background (%.2f)" % (name, panel_bg))
    right = sum(1 for px in title if ((lum(px) > 0.6) if dark else (lum(px) < 0.4)))
    ok(len(title) > 100 and right >= 0.9 * len(title),
       "%s theme: the Findings title is %s text on the panel's background" % (name, "light" if dark else "dark"),
       (len(title), right, lum(side[45][-3])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    ap.add_argument("--fixture", required=True)
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77
    with tempfile.TemporaryDirectory(prefix="weft-gui-theme-") as tmp:
        db = os.path.join(tmp, "contended.db")
        p = subprocess.run([args.weft, "record", "-q", "-o", db, "--", args.fixture, "20"], env=gui_env(tmp),
                           timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if not ok(p.returncode == 0, "weft record fx-contended", p.stderr):
            return 1
        for theme, dark in ((None, False), ("Adwaita:dark", True)):
            check_timeline(args, tmp, db, theme, dark)
            check_window(args, tmp, db, theme, dark)
    print("1..%d" % len(test_gui.results))
    return 0 if all(test_gui.results) else 1


if __name__ == "__main__":
    sys.exit(main())
