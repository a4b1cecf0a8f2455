#!/usr/bin/env python3
# tests/gui/test_interact.py - weft-gui driven headless: selection numbers, zoom, pan, locks, flows.
# SPDX-License-Identifier: MIT
#
# usage: test_interact.py --weft WEFT --gui WEFT_GUI --example WEFT_EXAMPLE
# Records the bundled example (workers, a contended mutex, a condvar, a barrier) and runs
# `weft-gui --dump` under xvfb-run, which opens the recording in the real window, applies
# --select / --lock / --actions through the same code the mouse and keys use, waits for the
# selection panel's worker, and writes what the window holds as JSON:
# - the selection panel's numbers (summary, per-thread state totals, contention table) equal
#   `weft report --range A..B --format json` for three ranges;
# - zoom-in, zoom-out, pan-left, pan-right, fit and zoom-selection move the visible window by
#   the documented amounts;
# - --lock ID (as selecting the object in its table) highlights it and shows its longest wait
#   (from the database) with its call stack's innermost function on the details page, and the
#   screenshot shows the highlight strip over that wait; Esc, a click on empty space and a click on
#   the lane's label clear the highlight (--click), a click on a lane's label sets it; with the lock
#   highlighted, --bench's zooms and pans read nothing on the GTK thread, and zoomed out to the whole
#   recording every wait for it still has its strip;
# - the running time split as the report splits it: the running track's threads on a CPU never
#   above its dashed line at the CPU count, runnable ones stacked above; --dump's per-thread split
#   equal to the report's; each thread's bar showing on a CPU, runnable and off a CPU in its shares;
# - a wait far shorter than its start shows a different start and end on the details page; a
#   long lock name is cut at its end in its lane label; the serial and oversubscribed findings
#   mark their time when clicked (the serial one about the report's serial time), Esc clears it;
# - flow arrows: as many as the database has flows (all in view when fitted);
# - collapse-all folds every thread row into the process's header (a summary), twice shows them again;
# - with the side panel, the timeline gets most of the window, the panel can narrow to about 300
#   px whatever its page, F9 (side-panel) hides it and shows it again;
# - a database of a newer schema exits 1 with one line; an unknown action exits 2.
import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gui  # noqa: E402  (read_png, bands, gui_env, ok, the palette)
from test_gui import ok, read_png, bands, gui_env, PALETTE, LOCK_WAIT, PROCESS_HEADER  # noqa: E402
from test_gui import ONCPU_ALL, RUNNABLE_ALL, OFFCPU_ALL, CPU_LINE, rows_only  # noqa: E402

TIMEOUT = 180
HL_WAIT = (0x2E, 0x34, 0x36)  # the strip over a highlighted wait (weft-timeline.c)


def run_gui(args, tmp, db, extra, size="1000x500"):
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1920x1200x24", args.gui, "--size", size] + extra + [db]
    p = subprocess.run(cmd, env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p


def dump(args, tmp, db, extra, size="1000x500"):
    out = os.path.join(tmp, "dump.json")
    if os.path.exists(out):
        os.unlink(out)
    p = run_gui(args, tmp, db, ["--dump", out] + extra, size)
    if p.returncode != 0 or not os.path.exists(out):
        return None, p.stderr.decode("utf-8", "replace")
    with open(out) as f:
        return json.load(f), ""


def close(a, b, rel=2e-5, absolute=2e-6):
    return abs(a - b) <= max(absolute, rel * max(abs(a), abs(b)))


def compare_selection(args, tmp, db, a, b):
    """The panel's numbers for [a, b) against weft report's."""
    d, err = dump(args, tmp, db, ["--select", "%dns..%dns" % (a, b)])
    if not ok(d is not None, "--dump --select %d..%d" % (a, b), err):
        return
    p = subprocess.run([args.weft, "report", db, "--range", "%d..%d" % (a, b), "--format", "json"],
                       env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(p.returncode == 0, "weft report --range %d..%d" % (a, b), p.stderr):
        return
    r = json.loads(p.stdout)
    panel = d["panel"]
    sel = panel.get("selection")
    ok(sel == {"start_ns": r["range"]["start_ns"], "end_ns": r["range"]["end_ns"]},
       "the panel's range is the report's", (sel, r["range"]))
    ps, rs = panel["summary"], r["summary"]
    bad = []
    for k in ("threads", "processes", "thread_ns", "useful_ns", "wait_ns", "max_parallelism"):
        if ps[k] != rs[k]:
            bad.append((k, ps[k], rs[k]))
    for k in ("oncpu_ns", "runnable_ns", "waiting_ns", "offcpu_ns", "assumed_ns"):
        if ps["time"][k] != rs["time"][k]:
            bad.append(("time." + k, ps["time"][k], rs["time"][k]))
    for k in ("load_balance", "sync_efficiency", "parallel_efficiency", "average_parallelism"):
        if not close(ps[k], rs[k]):
            bad.append((k, ps[k], rs[k]))
    ok(not bad, "summary: the same threads, times, LB, SyncE, PE and parallelism as the report", bad)

    rt = {t["utid"]: t for t in r["threads"]}
    pt = {t["utid"]: t for t in panel["threads"]}
    bad = []
    if set(rt) != set(pt):
        bad.append(("threads", sorted(pt), sorted(rt)))
    for utid in set(rt) & set(pt):
        x, y = pt[utid], rt[utid]
        for k in ("lifetime_ns", "wait_ns"):
            if x[k] != y[k]:
                bad.append((utid, k, x[k], y[k]))
        for k in ("oncpu_ns", "runnable_ns", "waiting_ns", "offcpu_ns"):
            if x[k] != y["time"][k]:
                bad.append((utid, k, x[k], y["time"][k]))
        for state, ns in y["states"].items():
            if x.get(state + "_ns", 0) != ns:
                bad.append((utid, state, x.get(state + "_ns"), ns))
    ok(not bad and pt, "per-thread lifetime, on a CPU, runnable, waiting, off a CPU and every state total as the report", bad[:10])

    ro = {o["object_id"]: o for o in r["sync_objects"]}
    po = {o["object_id"]: o for o in panel["sync_objects"]}
    bad = []
    if set(ro) != set(po):
        bad.append(("objects", sorted(po), sorted(ro)))
    for oid in set(ro) & set(po):
        x, y = po[oid], ro[oid]
        for k in ("label", "kind", "waits", "wait_ns", "wait_p50_ns", "wait_p99_ns", "wait_max_ns", "contended",
                  "acquisitions", "holds", "handoffs", "waiters"):
            if x[k] != y[k]:
                bad.append((oid, k, x[k], y[k]))
        # hold total and longest: exact when every hold is recorded; with contention first the
        # estimate from the timed holds and the longest recorded or timed one, as the report
        exact = y["holds_exact"] or y["hold_total_est_ns"] is None
        total = y["hold_ns"] if exact else y["hold_total_est_ns"]
        longest = y["hold_max_ns"] if y["holds_exact"] else max(y["hold_max_ns"], y["hold_sample_max_ns"] or 0)
        for k, want in (("hold_total_ns", total), ("hold_longest_ns", longest)):
            if x[k] != want:
                bad.append((oid, k, x[k], want))
        # and the estimates say so: ≈ before an estimated total, ≥ before a lower bound
        mark = "" if y["holds_exact"] else "≥" if exact else "≈"
        if not x["hold_total_ns_text"].startswith(mark) or (not mark and x["hold_total_ns_text"][:1] in "≈≥"):
            bad.append((oid, "hold_total_ns_text", x["hold_total_ns_text"], mark))
        if (not y["holds_exact"]) != x["hold_longest_ns_text"].startswith("≥"):
            bad.append((oid, "hold_longest_ns_text", x["hold_longest_ns_text"], y["holds_exact"]))
        if not close(x["wait_share"], y["wait_share"]):
            bad.append((oid, "wait_share", x["wait_share"], y["wait_share"]))
        site = y["call_sites"][0]["label"] if y["call_sites"] else ""
        if x["top_site"] != site:
            bad.append((oid, "top_site", x["top_site"], site))
    ok(not bad, "contention table: every object's waits, percentiles, holds, hand-offs as the report "
       "(%d objects)" % len(ro), bad[:10])
    # the panel lists the objects by wait time, as the report does
    waits = [o["wait_ns"] for o in panel["sync_objects"]]
    ok(waits == sorted(waits, reverse=True), "the contention table is sorted by wait time", waits)


HL_HOLD = (0x6A, 0x00, 0x8A)  # the strip under a highlighted hold (weft-timeline.c)
ROWS_TOP, PROC_H, ROW_H, LABEL_W, RIGHT_M, LEGEND_H = 96, 22, 22, 200, 16, 28


def check_highlight(args, tmp, db, oid):
    con = sqlite3.connect(db)
    end = int(con.execute("SELECT value FROM meta WHERE key = 'end_ns'").fetchone()[0])
    threads = [u for (u,) in con.execute("SELECT utid FROM thread ORDER BY is_main DESC, start_ns, utid")]
    nprocs = con.execute("SELECT count(*) FROM process").fetchone()[0]
    lanes = [o for (o,) in con.execute(
        "SELECT o.object_id FROM sync_object o JOIN kind_name k ON k.kind = o.kind WHERE k.name IN "
        "('mutex', 'rwlock', 'spin') AND (o.contended > 0 OR EXISTS (SELECT 1 FROM thread_state s "
        "WHERE s.object_id = o.object_id)) ORDER BY o.wait_ns DESC, o.object_id")]
    waits = con.execute("SELECT utid, start_ns, dur_ns FROM thread_state WHERE object_id = ?", (oid,)).fetchall()
    con.close()
    if not ok(nprocs == 1 and oid in lanes, "the example: one process, %d lock lanes" % len(lanes), (nprocs, lanes)):
        return
    w, h = 1000, 500
    content = PROC_H + ROW_H * (len(threads) + len(lanes))
    lane_y = lambda o: ROWS_TOP + PROC_H + ROW_H * (len(threads) + lanes.index(o)) + ROW_H // 2
    d, err = dump(args, tmp, db, ["--lock", str(oid), "--actions", "clear-selection"])
    ok(d is not None and d["highlight"] == -1 and d["details"] is None, "Esc clears the highlighted lock",
       err or (d["highlight"], d["details"]))
    if ok(ROWS_TOP + content + 20 < h - LEGEND_H, "the rows leave empty space under them"):
        d, err = dump(args, tmp, db, ["--lock", str(oid), "--click", "%d,%d" % (w // 2, h - LEGEND_H - 8)])
        ok(d is not None and d["highlight"] == -1, "a click on empty space clears it", err or d["highlight"])
    d, err = dump(args, tmp, db, ["--lock", str(oid), "--click", "40,%d" % lane_y(oid)])
    ok(d is not None and d["highlight"] == -1, "a click on the highlighted lane's label clears it",
       err or d["highlight"])
    d, err = dump(args, tmp, db, ["--click", "40,%d" % lane_y(lanes[-1])])
    ok(d is not None and d["highlight"] == lanes[-1], "a click on a lane's label highlights its lock",
       err or d["highlight"])
    # the scripted zooms and pans of --bench with the lock highlighted: no read on the GTK thread
    p = run_gui(args, tmp, db, ["--bench", "--lock", str(oid)])
    r = None
    if ok(p.returncode == 0, "--bench --lock %d" % oid, p.stderr):
        r = json.loads([l for l in p.stdout.decode().splitlines() if l.startswith("{")][-1])
    ok(r and r["highlight"] == oid and r["gtk_thread_reads"] == 0,
       "with a highlighted lock the GTK thread reads nothing while zooming and panning", r)
    # the whole recording: a strip over every wait (merged where they are narrower than a pixel)
    shot = os.path.join(tmp, "hl-all.png")
    p = run_gui(args, tmp, db, ["--screenshot", shot, "--lock", str(oid), "--actions", "fit"])
    if not ok(p.returncode == 0, "--screenshot --lock --actions fit", p.stderr):
        return
    _, _, rows = read_png(shot)
    npx = w - LABEL_W - RIGHT_M
    missing = []
    for utid, s, dur in waits:
        top = ROWS_TOP + PROC_H + ROW_H * threads.index(utid)
        x = LABEL_W + int((s + dur / 2) * npx / end)
        if not any(rows[y][xx] == HL_WAIT for y in range(top, top + 3) for xx in (x - 1, x, x + 1)):
            missing.append((utid, s, dur))
    ok(waits and not missing, "zoomed out, every wait for the lock has its strip (%d waits)" % len(waits), missing[:5])
    holds = sum(1 for row in rows for px in row if px == HL_HOLD)
    ok(holds > 0, "and the holds theirs", holds)


def check_layout(args, tmp, db, a, b):
    sel = ["--window", "--select", "%dns..%dns" % (a, b)]
    for page in ("selection", "findings", "locks"):
        d, err = dump(args, tmp, db, sel + ["--page", page], "1200x700")
        if not ok(d is not None and "layout" in d, "--dump --window --page %s has the layout" % page, err):
            return
        lay = d["layout"]
        ok(lay["side_visible"] and lay["timeline_width"] >= 0.65 * lay["width"] and lay["side_min_width"] <= 320,
           "the timeline gets most of the window (%d of %d px); the side panel (page %s) can narrow to %d px"
           % (lay["timeline_width"], lay["width"], page, lay["side_min_width"]), lay)
    d, err = dump(args, tmp, db, sel + ["--actions", "side-panel"], "1200x700")
    ok(d is not None and not d["layout"]["side_visible"] and d["layout"]["timeline_width"] == d["layout"]["width"],
       "F9 hides the side panel: the timeline takes the window", err or d["layout"])
    d, err = dump(args, tmp, db, sel + ["--actions", "side-panel,side-panel"], "1200x700")
    ok(d is not None and d["layout"]["side_visible"], "F9 again shows it", err or d["layout"])


def check_details_labels_marks(args, tmp, db):
    con = sqlite3.connect(db)
    threads = [u for (u,) in con.execute("SELECT utid FROM thread ORDER BY is_main DESC, start_ns, utid")]
    short = con.execute("SELECT utid, start_ns, dur_ns FROM thread_state WHERE state != 0 AND dur_ns >= 1000 "
                        "AND dur_ns * 2000 < start_ns ORDER BY dur_ns LIMIT 1").fetchone()
    lock = con.execute("SELECT object_id FROM sync_object o JOIN kind_name k ON k.kind = o.kind "
                       "WHERE k.name = 'mutex' ORDER BY wait_ns DESC LIMIT 1").fetchone()[0]
    con.close()
    # a wait far shorter than its start: the details' start and end differ
    if short:
        utid, s, d = short
        y = ROWS_TOP + PROC_H + ROW_H * threads.index(utid) + ROW_H // 2
        dd, err = dump(args, tmp, db, ["--range", "%dns..%dns" % (s - d, s + 2 * d), "--click", "%d,%d" % (
            LABEL_W + (1000 - LABEL_W - RIGHT_M) // 2, y)])
        text = (dd or {}).get("details") or {}
        m = re.search(r"from (\S+ \S+) to (\S+ \S+)", text.get("text", ""))
        ok(m and text.get("dur_ns") == d and m.group(1) != m.group(2),
           "a %d ns wait at %d ns: its details' start and end differ" % (d, s), err or text)
    # a lock with a long name: its lane label keeps the start and cuts the end
    longdb = os.path.join(tmp, "longname.db")
    shutil.copy(db, longdb)
    name = "deflate_engine_state_lock_from_pigz+0x10b20_called_from_pigz+0x10bd1_and_then_some #2"
    con = sqlite3.connect(longdb)
    con.execute("UPDATE sync_object SET name = ? WHERE object_id = ?", (name, lock))
    con.commit()
    con.close()
    dd, err = dump(args, tmp, longdb, [])
    label = {l["object_id"]: l["label"] for l in (dd or {}).get("lanes", [])}.get(lock, "")
    ok(label.endswith("…") and len(label) > 30 and ("lock " + name).startswith(label[:-1]),
       "a long lock name is cut at its end in its lane label, its start kept", err or label)
    # the serial and oversubscribed findings mark their time; Esc clears it
    dd, err = dump(args, tmp, db, [])
    items = (dd or {}).get("findings", {}).get("items", [])
    for kind, mark in (("serial", "serial"), ("oversubscribed", "runnable")):
        it = [i for i in items if i["kind"] == kind]
        if not it:
            continue
        dd, err = dump(args, tmp, db, ["--finding", str(it[0]["rank"])])
        got = (dd or {}).get("marked_ns", 0)
        if kind == "serial":
            good = abs(got - it[0]["cost_ns"]) <= 0.25 * it[0]["cost_ns"] + 3e6
        else:
            good = got > 0
        ok(dd and dd.get("mark") == mark and good,
           "clicking the %s finding marks its time on the timeline (%d ns; the report: %d)" % (kind, got, it[0]["cost_ns"]),
           err or (dd.get("mark"), got))
        dd, err = dump(args, tmp, db, ["--finding", str(it[0]["rank"]), "--actions", "clear-selection"])
        ok(dd and dd.get("mark") is None, "Esc clears the mark", err or dd.get("mark"))


TRACK_TOP, TRACK_H, TRACK_PAD_T, TRACK_PAD_B = 52, 44, 6, 4


def check_cpu_split(args, tmp, db):
    """The rows and the running track draw the split of weft report: the track never has more threads
    on a CPU than the machine had CPUs (a dashed line), the runnable ones stacked above; the dump's
    per-thread totals are the report's; the rows show each part in its share."""
    con = sqlite3.connect(db)
    ncpus = int(con.execute("SELECT value FROM meta WHERE key = 'ncpus'").fetchone()[0])
    threads = [u for (u,) in con.execute("SELECT utid FROM thread ORDER BY is_main DESC, start_ns, utid")]
    con.close()
    shot = os.path.join(tmp, "cpu.png")
    p = run_gui(args, tmp, db, ["--screenshot", shot])
    if not ok(p.returncode == 0, "--screenshot of the whole recording", p.stderr):
        return
    w, h, rows = read_png(shot)
    x0, x1 = LABEL_W, w - RIGHT_M
    # the track: the CPU line, and no column with its on-CPU fill above it
    plot = range(TRACK_TOP + TRACK_PAD_T, TRACK_TOP + TRACK_H - TRACK_PAD_B)
    line = max(plot, key=lambda y: sum(1 for x in range(x0, x1) if rows[y][x] == CPU_LINE))
    dashes = sum(1 for x in range(x0, x1) if rows[line][x] == CPU_LINE)
    if ok(dashes > (x1 - x0) // 2, "the running track has a dashed line at %d CPUs" % ncpus, dashes):
        above = [x for x in range(x0, x1) if any(rows[y][x] in ONCPU_ALL for y in plot if y < line)]
        ok(not above, "no column of the track has more threads on a CPU than there were CPUs", above[:10])
    runnable_drawn = any(rows[y][x] in RUNNABLE_ALL for y in plot for x in range(x0, x1))

    d, err = dump(args, tmp, db, [])
    p = subprocess.run([args.weft, "report", db, "--format", "json"], env=gui_env(tmp), timeout=TIMEOUT,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if not ok(d is not None and "cpu" in d and p.returncode == 0, "--dump has each thread's CPU split",
              err or p.stderr or sorted(d)):
        return
    ok(runnable_drawn == any(c["runnable_ns"] > 0 for c in d["cpu"]),
       "runnable threads are stacked above them where there were some")
    report = {t["utid"]: t for t in json.loads(p.stdout)["threads"]}
    bad = []
    for c in d["cpu"]:
        r = report.get(c["utid"])
        if not r:
            continue
        running = r["states"].get("running", 0)
        want = (r["time"]["oncpu_ns"], running - r["time"]["oncpu_ns"] - r["time"]["offcpu_ns"], r["time"]["offcpu_ns"])
        if (c["oncpu_ns"], c["runnable_ns"], c["offcpu_ns"]) != want:
            bad.append((c, want))
    ok(report and not bad, "each thread's running time splits as the report's: on a CPU, runnable (the rest of "
       "the running time), off a CPU", bad[:5])
    # the rows: each part's share of a thread's running pixels is its share of the running time
    split = {c["utid"]: c for c in d["cpu"]}
    bad, seen = [], 0
    for i, utid in enumerate(threads):
        top = ROWS_TOP + PROC_H + ROW_H * i
        n = [sum(1 for y in range(top + 3, top + ROW_H - 3) for x in range(x0, x1) if rows[y][x] in part)
             for part in (ONCPU_ALL, RUNNABLE_ALL, OFFCPU_ALL)]
        c = split[utid]
        total = c["oncpu_ns"] + c["runnable_ns"] + c["offcpu_ns"]
        if sum(n) < 300 or total <= 0:
            continue
        seen += 1
        shares = [v / sum(n) for v in n]
        want = [c[k] / total for k in ("oncpu_ns", "runnable_ns", "offcpu_ns")]
        if any(abs(a - b) > 0.12 for a, b in zip(shares, want)):
            bad.append((utid, [round(v, 2) for v in shares], [round(v, 2) for v in want]))
    ok(seen and not bad, "the rows draw on a CPU, runnable and off a CPU in their shares (%d threads)" % seen, bad)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    ap.add_argument("--example", required=True)
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77
    results = test_gui.results

    with tempfile.TemporaryDirectory(prefix="weft-gui-interact-") as tmp:
        db = os.path.join(tmp, "example.db")
        p = subprocess.run([args.weft, "record", "-q", "-o", db, "--", args.example], env=gui_env(tmp),
                           timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if not ok(p.returncode == 0, "weft record the example", p.stderr):
            return 1
        con = sqlite3.connect(db)
        end = int(con.execute("SELECT value FROM meta WHERE key = 'end_ns'").fetchone()[0])
        worst = con.execute(
            "SELECT s.object_id, s.utid, s.start_ns, s.dur_ns, s.stack_id FROM thread_state s "
            "JOIN sync_object o USING (object_id) JOIN kind_name k ON k.kind = o.kind "
            "WHERE k.name = 'mutex' ORDER BY s.dur_ns DESC, s.start_ns LIMIT 1").fetchone()
        nflows = con.execute("SELECT count(*) FROM flow").fetchone()[0]
        oid, w_utid, w_start, w_dur, w_stack = worst
        # the worst wait of that object (what --lock must show): ties by start
        w2 = con.execute("SELECT utid, start_ns, dur_ns, stack_id FROM thread_state WHERE object_id = ? "
                         "ORDER BY dur_ns DESC, start_ns LIMIT 1", (oid,)).fetchone()
        func = con.execute("SELECT f.symbol FROM stack_frame sf JOIN frame f USING (frame_id) "
                           "WHERE sf.stack_id = ? AND sf.depth = 0", (w2[3],)).fetchone() if w2[3] else None
        con.close()

        # -- the selection panel against weft report
        compare_selection(args, tmp, db, 0, end)
        compare_selection(args, tmp, db, end // 5, end * 3 // 5)
        compare_selection(args, tmp, db, max(0, w_start - w_dur), w_start + w_dur // 2)

        # -- zoom and pan: the window after the actions
        def window(extra):
            d, err = dump(args, tmp, db, extra)
            return (d["window"]["start_ns"], d["window"]["end_ns"]) if d else (None, err)

        w0 = window([])
        ok(w0 == (0, end), "at first the whole recording is shown", (w0, end))
        w = window(["--actions", "zoom-in,zoom-in"])
        width = end / 1.25 / 1.25
        ok(w[0] is not None and abs((w[1] - w[0]) - width) <= 2 and abs(w[0] - (end - width) / 2) <= 2,
           "W twice: a window 1/1.25^2 as wide, around the middle", (w, width))
        w = window(["--actions", "zoom-in,pan-right"])
        width = end / 1.25
        ok(w[0] is not None and abs(w[0] - ((end - width) / 2 + width / 10)) <= 2 and abs((w[1] - w[0]) - width) <= 2,
           "D pans by a tenth of the window", (w, width))
        w = window(["--actions", "zoom-in,pan-left,pan-left,zoom-out"])
        ok(w[0] is not None and abs((w[1] - w[0]) - end) <= 2 and abs(w[0] + end / 1.25 / 5) <= 3,
           "A pans left, S zooms out", w)
        w = window(["--actions", "zoom-in,zoom-in,pan-right,fit"])
        ok(w == (0, end), "0 fits the whole recording again", w)
        a, b = end // 3, end // 3 + end // 7
        w = window(["--select", "%dns..%dns" % (a, b), "--actions", "zoom-selection"])
        ok(w[0] is not None and abs(w[0] - a) <= 1 and abs(w[1] - b) <= 1, "Z zooms to the selection", (w, a, b))
        d, err = dump(args, tmp, db, ["--select", "%dns..%dns" % (a, b), "--actions", "clear-selection"])
        ok(d is not None and d["panel"] == {"selection": None}, "Escape clears the selection and the panel", (d, err))

        # -- a lock: highlight, its longest wait, the details page with the call stack
        d, err = dump(args, tmp, db, ["--lock", str(oid)])
        if ok(d is not None, "--dump --lock %d" % oid, err):
            det = d["details"] or {}
            ok(d["highlight"] == oid, "the object is highlighted", d["highlight"])
            ok((det.get("utid"), det.get("start_ns"), det.get("dur_ns")) == tuple(w2[:3]),
               "the details show its longest wait", (det, w2))
            ok(d["window"]["start_ns"] <= w2[1] and d["window"]["end_ns"] >= w2[1] + w2[2],
               "the window shows that wait", (d["window"], w2))
            text = det.get("text", "")
            ok("lock_wait" in text and "Call stack" in text and (func is None or func[0] in text),
               "the details page names the state and the call stack's innermost function", (text, func))
        shot = os.path.join(tmp, "lock.png")
        p = run_gui(args, tmp, db, ["--screenshot", shot, "--lock", str(oid)])
        if ok(p.returncode == 0, "--screenshot --lock", p.stderr):
            wd, ht, rows = read_png(shot)
            # the wait fills the middle third of the window: the middle column has the
            # lock_wait bar and the highlight strip over it
            xm = 200 + (wd - 200 - 16) // 2
            col = [rows[y][xm] for y in range(ht)]
            # (3 px high; the outline of the shown span may cover its top line)
            ok(col.count(HL_WAIT) >= 2 and LOCK_WAIT in col,
               "the highlight strip is drawn over the longest wait", (col.count(HL_WAIT), LOCK_WAIT in col))

        # -- the highlight: cleared by Esc, a click on nothing, a click on its lane's label; read
        # and folded off the GTK thread; drawn at the rows' level of detail
        check_highlight(args, tmp, db, oid)

        # -- the running time split as the report splits it: on a CPU, runnable, off a CPU
        check_cpu_split(args, tmp, db)

        # -- a short span's start and end told apart, lane labels cut at their end, the serial and
        # oversubscribed findings marking their time
        check_details_labels_marks(args, tmp, db)

        # -- flow arrows
        d, err = dump(args, tmp, db, ["--actions", "flows"])
        ok(d is not None and d["flows"] == nflows and nflows > 0
           and sum(k["in_window"] for k in d["flow_kinds"].values()) == nflows,
           "F shows every flow of the recording when fitted (%d)" % nflows, (d and d["flows"], err))
        d, err = dump(args, tmp, db, [])
        ok(d is not None and d["flows"] == 0, "no arrows by default", err)

        # -- collapsing
        shot = os.path.join(tmp, "collapsed.png")
        p = run_gui(args, tmp, db, ["--screenshot", shot, "--actions", "collapse-all"])
        if ok(p.returncode == 0, "--screenshot collapse-all", p.stderr):
            wd, ht, rows = read_png(shot)
            # the example's one process: its header, which summarises its threads (the states' colours
            # in its timeline part), and no thread row under it
            sb = bands(rows_only(rows), lambda px: px in PALETTE, 100)
            ok(len(sb) == 1 and sb[0][0] >= test_gui.ROWS_TOP and sb[0][1] <= test_gui.ROWS_TOP + 22,
               "collapsed: the process header summarising its threads, no thread rows", sb)
        p = run_gui(args, tmp, db, ["--screenshot", shot, "--actions", "collapse-all,collapse-all"])
        if ok(p.returncode == 0, "--screenshot collapse-all twice", p.stderr):
            wd, ht, rows = read_png(shot)
            ok(len(bands(rows_only(rows), lambda px: px in PALETTE, 100)) >= 5, "expanded again: the thread rows are back")

        # -- the whole window renders (side panel with the selection)
        shot = os.path.join(tmp, "window.png")
        p = run_gui(args, tmp, db, ["--screenshot", shot, "--window", "--select", "%dns..%dns" % (a, b)], "1400x700")
        ok(p.returncode == 0 and os.path.getsize(shot) > 10000, "--window renders the window", p.stderr)

        # -- the layout: the timeline gets most of the window, the side panel narrows to 300 px and
        # F9 (the side-panel action) hides it
        check_layout(args, tmp, db, a, b)

        # -- --page shows a side page last; a selection alone shows its page
        d, err = dump(args, tmp, db, ["--window", "--select", "%dns..%dns" % (a, b), "--page", "threads"])
        ok(d is not None and d["page"] == "threads", "--page threads shows the Threads page",
           err or (d or {}).get("page"))
        d, err = dump(args, tmp, db, ["--window", "--select", "%dns..%dns" % (a, b)])
        ok(d is not None and d["page"] in ("selection", "findings"),
           "a selection shows the Selection or the Findings page", err or (d or {}).get("page"))
        p = run_gui(args, tmp, db, ["--dump", "-", "--page", "nowhere"])
        ok(p.returncode == 2 and b"nowhere" in p.stderr, "an unknown page: exit 2", p.stderr)

        # -- errors
        newer = os.path.join(tmp, "newer.db")
        shutil.copy(db, newer)
        con = sqlite3.connect(newer)
        con.execute("PRAGMA user_version = 99")
        con.commit()
        con.close()
        p = subprocess.run([args.gui, "--dump", os.path.join(tmp, "x.json"), newer], env=gui_env(tmp),
                           timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err = p.stderr.decode("utf-8", "replace")
        ok(p.returncode == 1 and err.count("\n") == 1 and "newer.db" in err,
           "a database of a newer schema: exit 1, one line naming it", (p.returncode, err))
        p = subprocess.run([args.gui, "--dump", "-", "--actions", "zoom-in,explode", db], env=gui_env(tmp),
                           timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ok(p.returncode == 2 and b"explode" in p.stderr, "an unknown action: exit 2", p.stderr)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
