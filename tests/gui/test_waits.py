#!/usr/bin/env python3
# tests/gui/test_waits.py - weft-gui's Waits page: the waits' call stacks as an icicle graph (issue 14,
# feature 10).
# SPDX-License-Identifier: MIT
#
# usage: test_waits.py --weft WEFT --gui WEFT_GUI --example WEFT_EXAMPLE [--pydir DIR]
# Records the bundled example (main joins 4 workers; the workers wait in worker and in record for
# the mutexes queue_lock and hist_lock) and reads its Waits page with `weft-gui --dump - --page
# waits` under xvfb-run; the expected numbers come from the database itself, in SQL:
# - every box's wait time, wait count and the time it is the innermost frame of are those of the
#   waits whose stacks, read from the outermost frame, start with the box's path (frames named as
#   the page names them), to the nanosecond; the root is every wait with a stack;
# - the boxes are in preorder, the heaviest child first, each starting where its left sibling
#   ends; the frames main (a join wait) and worker of example-pool.c are boxes, and record (under
#   worker) exactly when SQL has waits in it (hist_lock is not contended in every run);
# - with --select A..B only the waits' time inside A..B counts;
# - --frame N (a click on record's box, else worker's): the waits of the stacks through it are highlighted on the
#   timeline (their count over the recording, in SQL); --frame beyond the boxes: exit 1, said;
#   a click on empty space of the timeline clears it; --zoom-frame N (a double click) zooms to the box;
# - the screenshot with --window: the page's boxes drawn (the root's grey, the boxes' colours);
# - a Python program (py_stacks.py lock): the Python function take is a box, its wait time as SQL
#   says.
# Exit 0 on success, 1 on a failure, 77 (skip) without xvfb-run.
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gui  # noqa: E402
from test_gui import ok, read_png  # noqa: E402

TIMEOUT = 180
ROOT_GREY = (191, 191, 191)  # the root box (weft-waits.c: 0.75 grey)


def gui(args, tmp, db, extra, size="1200x500"):
    return test_gui.gui_run(args, tmp, db, extra, size, TIMEOUT)


def dump(args, tmp, db, extra):
    return test_gui.gui_dump(args, tmp, db, extra, TIMEOUT)


def frame_name(symbol, module, rel_pc, ip):
    """As weft-waits.c names a frame."""
    if symbol:
        return symbol
    if module:
        return "%s+0x%x" % (os.path.basename(module), rel_pc or 0)
    return "0x%x" % (ip or 0)


def read_db(db):
    """The stacks (stack_id -> path of (function, file) from the outermost frame) and the waits
    (start, end, stack_id or None)."""
    con = sqlite3.connect(db)
    stacks = {}
    for sid, sym, f, mod, rel, ip in con.execute(
            "SELECT sf.stack_id, f.symbol, f.file, m.path, f.rel_pc, f.ip FROM stack_frame sf "
            "JOIN frame f ON f.frame_id = sf.frame_id LEFT JOIN module m ON m.module_id = f.module_id "
            "ORDER BY sf.stack_id, sf.depth DESC"):
        stacks.setdefault(sid, []).append((frame_name(sym, mod, rel, ip), f))
    waits = [(s, s + d, sid) for s, d, sid in
             con.execute("SELECT start_ns, dur_ns, stack_id FROM thread_state WHERE state <> 0")]
    con.close()
    return stacks, waits


def expected(stacks, waits, path, rng=None):
    """(wait_ns, waits, self_ns) of the waits whose stacks start with path, clipped to rng."""
    ns = n = own = 0
    for s, e, sid in waits:
        if sid is None:
            continue
        if rng:
            s, e = max(s, rng[0]), min(e, rng[1])
        if e <= s:
            continue
        p = stacks.get(sid, [])
        if tuple(p[:len(path)]) == path:
            ns += e - s
            n += 1
            if len(p) == len(path):
                own += e - s
    return ns, n, own


def paths(nodes):
    out = []
    for nd in nodes:
        out.append(() if nd["parent"] < 0 else out[nd["parent"]] + ((nd["function"], nd["file"]),))
    return out


def check_graph(w, stacks, waits, rng, what):
    """Every box against SQL, the layout (preorder, heaviest first, contiguous)."""
    nodes = w["nodes"]
    ok(w["n_nodes"] == len(nodes) > 1, "%s: %d boxes, all in the dump" % (what, len(nodes)), w["n_nodes"])
    bad = []
    for nd, p in zip(nodes, paths(nodes)):
        want = expected(stacks, waits, p, rng)
        if (nd["wait_ns"], nd["waits"], nd["self_ns"]) != want:
            bad.append((nd["function"], (nd["wait_ns"], nd["waits"], nd["self_ns"]), want))
    ok(not bad and nodes[0]["wait_ns"] == w["total_ns"] > 0,
       "%s: each box's wait time, waits and own time are SQL's, to the ns (root %d ns)" % (what, w["total_ns"]), bad)
    layout = []
    for i, nd in enumerate(nodes):
        kids = [k for k in nodes if k["parent"] == i]
        if [k["wait_ns"] for k in kids] != sorted((k["wait_ns"] for k in kids), reverse=True):
            layout.append(("order", nd["function"]))
        x = nd["start_ns"]
        for k in kids:
            if k["start_ns"] != x or k["depth"] != nd["depth"] + 1 or nodes.index(k) <= i:
                layout.append(("place", k["function"]))
            x += k["wait_ns"]
        if x > nd["start_ns"] + nd["wait_ns"] or nd["wait_ns"] - (x - nd["start_ns"]) != nd["self_ns"]:
            layout.append(("sum", nd["function"]))
    ok(not layout, "%s: preorder, the heaviest child first, each child where its left sibling ends, "
       "a box's own time what its children leave" % what, layout)
    return nodes


def check_example(args, tmp, db):
    stacks, waits = read_db(db)
    d, err = dump(args, tmp, db, ["--page", "waits"])
    if not ok(d is not None and d["waits"] is not None, "--page waits", err):
        return
    w = d["waits"]
    unstacked = [(s, e) for s, e, sid in waits if sid is None]
    ok(d["page"] == "waits" and w["range"] is None and w["unstacked_waits"] == len(unstacked)
       and w["unstacked_ns"] == sum(e - s for s, e in unstacked),
       "the whole recording; the waits without a stack counted", (w["range"], w["unstacked_waits"]))
    nodes = check_graph(w, stacks, waits, None, "whole recording")
    by = {(nd["function"], os.path.basename(nd["file"] or "")): nd for nd in nodes}
    main, worker, record = (by.get((f, "example-pool.c")) for f in ("main", "worker", "record"))
    # record's lock (hist_lock) is contended in almost every run, but not in all: on a machine busy
    # with other work the workers may take turns on the CPUs and never meet there. So record is a
    # box exactly when hist_lock has waits (each called in record), and the box clicked is record's,
    # else worker's.
    con = sqlite3.connect(db)
    in_record = con.execute("SELECT count(*) FROM thread_state s JOIN sync_object o USING (object_id) "
                            "WHERE o.name = 'hist_lock' AND s.state = 1").fetchone()[0]
    con.close()
    ok(main and worker and (record is not None) == (in_record > 0)
       and (not record or (record["parent"] == nodes.index(worker) and record["line"] > 0)),
       "main and worker of example-pool.c are boxes, and record under worker with its line as its %d waits say"
       % in_record, [(nd["function"], nd["file"]) for nd in nodes])
    # a click on the box: its waits highlighted over the whole recording
    chosen, name = (record, "record") if record else (worker, "worker")
    i = nodes.index(chosen) + 1 if chosen else 1
    d, err = dump(args, tmp, db, ["--frame", str(i)])
    if ok(d is not None, "--frame %d" % i, err):
        sids = {sid for sid, p in stacks.items() if chosen and tuple(p[:len(paths(nodes)[i - 1])]) == paths(nodes)[i - 1]}
        want = sum(1 for s, e, sid in waits if sid in sids)
        ok(d["waits"]["selected"] == i - 1 and d["highlight_label"] == "frame " + name and d["highlight_waits"] == want
           and want > 0, "--frame %d: %s's %d waits highlighted on the timeline" % (i, name, want),
           (d["waits"]["selected"], d["highlight_label"], d["highlight_waits"]))
        # a click on empty space under the rows clears the highlight: the box is no longer chosen
        d, err = dump(args, tmp, db, ["--frame", str(i), "--click", "600,450"])
        ok(d is not None and d["waits"]["selected"] is None and d["highlight_label"] is None,
           "a click on empty space: the highlight cleared, no box chosen", err or d["waits"]["selected"])
    if worker:
        k = nodes.index(worker) + 1
        d, err = dump(args, tmp, db, ["--zoom-frame", str(k)])
        ok(d is not None and d["waits"]["zoom"] == k - 1 and d["waits"]["selected"] is None,
           "--zoom-frame %d: zoomed to worker, nothing chosen" % k, err or d["waits"]["zoom"])
    p = gui(args, tmp, db, ["--dump", "-", "--zoom-frame", str(len(nodes) + 1)])
    ok(p.returncode == 1 and b"--zoom-frame %d: the Waits page has %d boxes" % (len(nodes) + 1, len(nodes))
       in p.stderr, "--zoom-frame beyond the boxes: exit 1, said", p.stderr)
    p = gui(args, tmp, db, ["--dump", "-", "--frame", str(len(nodes) + 1)])
    ok(p.returncode == 1 and b"--frame %d: the Waits page has %d boxes" % (len(nodes) + 1, len(nodes)) in p.stderr,
       "--frame beyond the boxes: exit 1, said", p.stderr)
    p = gui(args, tmp, db, ["--dump", "-", "--frame", "0"])
    ok(p.returncode == 2 and len(p.stderr.splitlines()) == 1, "--frame 0: exit 2, one line", p.stderr)
    # a selection: the middle half of the recording, the waits clipped to it
    con = sqlite3.connect(db)
    t0, t1 = con.execute("SELECT min(start_ns), max(start_ns + dur_ns) FROM thread_state").fetchone()
    con.close()
    a, b = t0 + (t1 - t0) // 4, t0 + 3 * (t1 - t0) // 4
    d, err = dump(args, tmp, db, ["--select", "%dns..%dns" % (a, b), "--page", "waits"])
    if ok(d is not None and d["waits"], "--select --page waits", err):
        ok(d["waits"]["range"] == [a, b], "the graph is of the selection", d["waits"]["range"])
        check_graph(d["waits"], stacks, waits, (a, b), "selection")
    # the picture: the page with its boxes
    out = os.path.join(tmp, "waits.png")
    p = gui(args, tmp, db, ["--screenshot", out, "--window", "--page", "waits"], size="1400x700")
    if ok(p.returncode == 0, "--screenshot --window --page waits", p.stderr):
        wd, h, rows = read_png(out)
        grey = sum(1 for y in range(h) for x in range(wd - 400, wd) if rows[y][x] == ROOT_GREY)
        ok(grey > 1000, "the root box drawn on the page (%d px of its grey)" % grey)


def check_python(args, tmp, pydir):
    db = os.path.join(tmp, "pys.db")
    if not test_gui.record_ok(args, tmp, db, ["/usr/bin/python3", os.path.join(pydir, "py_stacks.py"), "lock"],
                              "python3 py_stacks.py lock", TIMEOUT):
        return
    stacks, waits = read_db(db)
    d, err = dump(args, tmp, db, ["--page", "waits"])
    if not ok(d is not None and d["waits"], "--page waits (Python)", err):
        return
    nodes = check_graph(d["waits"], stacks, waits, None, "Python")
    take = [nd for nd in nodes if nd["function"] == "take" and (nd["file"] or "").endswith("py_stacks.py")]
    ok(take and all(nd["wait_ns"] > 0 for nd in take), "the Python function take of py_stacks.py is a box",
       [(nd["function"], nd["file"]) for nd in nodes])


def main():
    return test_gui.run_example_checks("weft-gui-waits-", check_example, check_python, TIMEOUT)


if __name__ == "__main__":
    sys.exit(main())
