#!/usr/bin/env python3
# tests/gui/test_tooltip.py - the timeline's tooltips and clicks read nothing on the GTK thread (issue 14).
# SPDX-License-Identifier: MIT
#
# usage: test_tooltip.py --weft WEFT --gui WEFT_GUI --example WEFT_EXAMPLE
# Records the bundled example and hovers its timeline with `weft-gui --dump - --hover X,Y` under
# xvfb-run (the tooltip asked for until its data is read, as GTK asks again when it arrives):
# - over the longest wait with a call stack: the tooltip is not there at the first ask (its span is
#   read on a worker), then says the state, its thread, its object, the threads that held and woke,
#   and the stack's frames (SQL's, innermost first, with file:line); the GTK thread read nothing;
# - a click on that wait (--click): the Details page shows it, its object and its call stack, and
#   the GTK thread read nothing from the click to the dump (the span, object and stack are read on a
#   worker, as the tooltip's);
# - over the longest running span of a thread with scheduler readings: the state, its thread and the
#   split of the interval between readings around the hovered time (its ends around it, on a CPU +
#   runnable + off a CPU = 100 %); nothing read on the GTK thread;
# - a lock lane, a thread's label (its lifetime) and the running track: at once, nothing read;
#   below the rows: no tooltip;
# - --hover without --dump and a --hover that is not X,Y: exit 2, one line.
# Exit 0 on success, 1 on a failure, 77 (skip) without xvfb-run.
import math
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gui  # noqa: E402
from test_gui import ok  # noqa: E402

TIMEOUT = 180
SIZE = (1200, 500)
X0, RIGHT_M = 200, 16  # the label column (the example's labels fit its narrowest) and the right margin
ROW_H = 22
FRAMES = 8  # a tooltip's frames at most (weft-hover.h)
UNITS = {"ns": 1, "µs": 1e3, "ms": 1e6, "s": 1e9}


def base_name(path):
    return path.rsplit("/", 1)[-1]


def frame_label(symbol, file, line, module, rel_pc, ip):
    """weft_frame_label (naming.c)."""
    site = ("%s:%d" % (base_name(file), line) if line and line > 0 else base_name(file)) if file else ""
    if symbol and site:
        return "%s (%s)" % (symbol, site)
    if symbol or site:
        return symbol or site
    return "%s+0x%x" % (base_name(module), rel_pc or 0) if module else "0x%x" % (ip or 0)


def parse_ns(text):
    v, unit = text.split()
    return float(v) * UNITS[unit]


def hover(args, tmp, db, x, y):
    d, err = test_gui.gui_dump(args, tmp, db, ["--size", "%dx%d" % SIZE, "--hover", "%d,%d" % (x, y)], TIMEOUT)
    return (d or {}).get("hover"), err


def point(window, row_y, t):
    """The x, y of time t on a row whose top is row_y; t's pixel-centre time back."""
    a, b = window["start_ns"], window["end_ns"]
    npp = (b - a) / (SIZE[0] - X0 - RIGHT_M)
    p = int((t - a) // npp)
    return X0 + p, row_y + ROW_H // 2, int(math.floor(a + (p + 0.5) * npp)), npp


def check_quiet(h, what):
    ok(h and h["gtk_thread_reads"] == 0, "%s: nothing read on the GTK thread" % what, h)


def check_wait(args, tmp, db, con, base):
    ts = {u: (n, tid) for u, n, tid in con.execute("SELECT utid, name, tid FROM thread")}
    rows = {r["thread"]: r["y"] for r in base["rows"] if "thread" in r}
    npp = (base["window"]["end_ns"] - base["window"]["start_ns"]) / (SIZE[0] - X0 - RIGHT_M)
    w = con.execute("SELECT ts.utid, ts.start_ns, ts.dur_ns, sn.name, ts.object_id, ts.blocker_utid, "
                    "ts.waker_utid, ts.stack_id FROM thread_state ts JOIN state_name sn ON sn.state = ts.state "
                    "WHERE ts.state != 0 AND ts.stack_id IS NOT NULL AND ts.dur_ns >= ? "
                    "ORDER BY ts.dur_ns DESC LIMIT 1", (8 * npp,)).fetchone()
    if not ok(w and w[0] in rows, "the example has a wait with a call stack, on a row", w):
        return
    utid, start, dur, state, obj, blocker, waker, stack = w
    x, y, t, _ = point(base["window"], rows[utid], start + dur // 2)
    h, err = hover(args, tmp, db, x, y)
    tip = (h or {}).get("tooltip") or ""
    name, tid = ts[utid]
    ok(tip.startswith("<b>%s</b>  " % state) and ("\n%s [%d] at " % (name, tid)) in tip,
       "a wait: its state, its thread", (tip, err))
    ok(("\nobject: " in tip) == (obj is not None), "a wait: its object", tip)
    for what, u in (("held by", blocker), ("woken by", waker)):
        ok((u is None and what not in tip) or (u is not None and "\n%s: %s [%d]" % ((what,) + ts[u]) in tip),
           "a wait: %s" % what, (u, tip))
    frames = [frame_label(*f) for f in con.execute(
        "SELECT f.symbol, f.file, f.line, m.path, f.rel_pc, f.ip FROM stack_frame sf JOIN frame f "
        "ON f.frame_id = sf.frame_id LEFT JOIN module m ON m.module_id = f.module_id WHERE sf.stack_id = ? "
        "ORDER BY sf.depth", (stack,))]
    shown = tip.split("\n<b>call stack</b>\n", 1)[1].split("\n") if "<b>call stack</b>" in tip else []
    shown = [f[2:] for f in shown if f.startswith("  ")]
    more = ["… %d more" % (len(frames) - FRAMES)] if len(frames) > FRAMES else []
    ok(frames and shown == frames[:FRAMES] + more and any(re.search(r"\.c:\d+\)$", f) for f in shown),
       "a wait: its call stack, innermost first, with file:line", (shown, frames))
    ok(h and h["asks"] >= 2, "a wait: not there at the first ask (read on a worker)", h)
    check_quiet(h, "a wait")
    # the same wait clicked: the Details page, the span, its object and stack read on a worker
    d, err = test_gui.gui_dump(args, tmp, db, ["--size", "%dx%d" % SIZE, "--click", "%d,%d" % (x, y)], TIMEOUT)
    det, click = (d or {}).get("details") or {}, (d or {}).get("click") or {}
    text = det.get("text", "")
    inner = con.execute("SELECT f.symbol FROM stack_frame sf JOIN frame f ON f.frame_id = sf.frame_id "
                        "WHERE sf.stack_id = ? ORDER BY sf.depth LIMIT 1", (stack,)).fetchone()
    ok((det.get("utid"), det.get("start_ns"), det.get("dur_ns")) == (utid, start, dur) and
       (d or {}).get("page") == "details" and "Call stack (innermost first)" in text and
       (not inner or not inner[0] or inner[0] in text) and ("object " in text) == (obj is not None),
       "a click on the wait: the Details page has it, its object and its call stack", (det, err))
    ok(click.get("gtk_thread_reads") == 0, "a click on the wait: nothing read on the GTK thread", click)


def check_running(args, tmp, db, con, base):
    rows = {r["thread"]: r["y"] for r in base["rows"] if "thread" in r}
    npp = (base["window"]["end_ns"] - base["window"]["start_ns"]) / (SIZE[0] - X0 - RIGHT_M)
    r = con.execute("SELECT ts.utid, ts.start_ns, ts.dur_ns, t.name, t.tid FROM thread_state ts "
                    "JOIN thread t ON t.utid = ts.utid WHERE ts.state = 0 AND ts.dur_ns >= ? AND ts.utid IN "
                    "(SELECT utid FROM sched_sample) ORDER BY ts.dur_ns DESC LIMIT 1", (8 * npp,)).fetchone()
    if not ok(r and r[0] in rows, "the example has a running span with scheduler readings, on a row", r):
        return
    utid, start, dur, name, tid = r
    x, y, t, npp = point(base["window"], rows[utid], start + dur // 2)
    h, err = hover(args, tmp, db, x, y)
    tip = (h or {}).get("tooltip") or ""
    ok(tip.startswith("<b>running</b>  ") and ("\n%s [%d] at " % (name, tid)) in tip,
       "running: its state, its thread", (tip, err))
    m = re.search(r"\nbetween the scheduler readings at (.+?) and (.+?), of its running time: (\d+)% on a CPU, "
                  r"(\d+)% runnable, (\d+)% off a CPU <i>\(only these totals are known, not when\)</i>", tip)
    # (the ends as weft_format_ns writes them: three digits)
    ok(m and parse_ns(m.group(1)) * 0.995 <= t < parse_ns(m.group(2)) * 1.005 and
       98 <= sum(int(m.group(k)) for k in (3, 4, 5)) <= 102,
       "running: the split of the interval between readings around it", (t, tip))
    ok(h and h["asks"] >= 2, "running: not there at the first ask (read on a worker)", h)
    check_quiet(h, "running")


def check_example(args, tmp, db):
    base, err = test_gui.gui_dump(args, tmp, db, ["--size", "%dx%d" % SIZE], TIMEOUT)
    if not ok(base is not None and base.get("hover") is None, "a dump without --hover: \"hover\" null", err):
        return
    con = sqlite3.connect(db)
    check_wait(args, tmp, db, con, base)
    check_running(args, tmp, db, con, base)
    con.close()
    lane = next((r for r in base["rows"] if "lock" in r), None)
    thread = next(r for r in base["rows"] if "thread" in r)
    bottom = max(r["y"] for r in base["rows"]) + 3 * ROW_H
    cases = [("a lock lane", 600, lane["y"] + 5 if lane else None, lambda s: s and s.startswith("<b>lock ")),
             ("a thread's label", 10, thread["y"] + 5, lambda s: s and "\nlived " in s),
             ("the running track", 600, 80, lambda s: s and "threads on a CPU" in s),
             ("below the rows", 600, bottom, lambda s: s is None)]
    for what, x, y, want in cases:
        if y is None or y >= SIZE[1] - 28:
            ok(False, "%s: in the window" % what, (x, y))
            continue
        h, err = hover(args, tmp, db, x, y)
        ok(h and want(h["tooltip"]) and h["asks"] == 1, "%s: its tooltip at once" % what, (h, err))
        check_quiet(h, what)
    for extra, what in ((["--hover", "10,10"], "without --dump"), (["--dump", "-", "--hover", "10;10"], "not X,Y")):
        p = test_gui.gui_run(args, tmp, db, extra, timeout=TIMEOUT)
        ok(p.returncode == 2 and len(p.stderr.splitlines()) == 1 and b"--hover" in p.stderr,
           "--hover %s: exit 2, one line" % what, (p.returncode, p.stderr))


def main():
    return test_gui.run_example_checks("weft-gui-tooltip-", check_example, None, TIMEOUT)


if __name__ == "__main__":
    sys.exit(main())
