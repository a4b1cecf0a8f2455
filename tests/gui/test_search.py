#!/usr/bin/env python3
# tests/gui/test_search.py - weft-gui's search (issue 14, feature 9).
# SPDX-License-Identifier: MIT
#
# usage: test_search.py --weft WEFT --gui WEFT_GUI --example WEFT_EXAMPLE [--pydir DIR]
# Records the bundled example (threads worker-0..3, mutexes queue_lock and hist_lock, the
# functions worker and record of example-pool.c) and searches it with `weft-gui --dump --search
# TEXT [--pick N]` under xvfb-run; the expected answers come from the database itself:
# - "worker" finds exactly the threads named worker-N and the function worker, each saying
#   what it is, the function first (its name is the text);
# - "hist_lock" finds the mutex, and choosing it highlights that object (the Sync objects
#   table's highlight) and shows its longest wait;
# - choosing a thread highlights its row; choosing the process scrolls to it;
# - the function record: choosing it highlights exactly the waits whose call stacks have a
#   frame of record (counted in SQL), the longest one outlined, drawn as strips on the rows
#   (the screenshot has the highlight's colour over the bars);
# - the file example-pool.c: the waits of every stack with a frame in that file;
# - a text nothing has: nothing found, said so; --pick beyond the results: exit 1;
# - a Python program (py_stacks.py lock): its function take (a Python frame) and the 2 waits
#   whose stacks pass through it.
# Exit 0 on success, 1 on a failure, 77 (skip) without xvfb-run.
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gui  # noqa: E402
from test_gui import ok, read_png, ROWS_TOP  # noqa: E402

TIMEOUT = 180
HL_WAIT = (0x2E, 0x34, 0x36)  # the highlight's strip over a wait (weft-palette.c, light)


def gui(args, tmp, db, extra):
    return test_gui.gui_run(args, tmp, db, extra, timeout=TIMEOUT)


def dump(args, tmp, db, extra):
    return test_gui.gui_dump(args, tmp, db, extra, TIMEOUT)


def frame_waits(db, where):
    """The waits whose stacks have a frame matching where (SQL on frame f)."""
    con = sqlite3.connect(db)
    n = con.execute("SELECT count(*) FROM thread_state WHERE state <> 0 AND stack_id IN (SELECT sf.stack_id FROM "
                    "stack_frame sf JOIN frame f ON f.frame_id = sf.frame_id WHERE %s)" % where).fetchone()[0]
    con.close()
    return n


def check_example(args, tmp, db):
    con = sqlite3.connect(db)
    workers = {u for (u,) in con.execute("SELECT utid FROM thread WHERE name LIKE '%worker%'")}
    hist = con.execute("SELECT object_id FROM sync_object WHERE name = 'hist_lock'").fetchone()[0]
    upid, pid = con.execute("SELECT upid, pid FROM process ORDER BY upid LIMIT 1").fetchone()
    con.close()
    d, err = dump(args, tmp, db, ["--search", "worker"])
    if ok(d is not None, "--search worker", err):
        s = d["search"]
        threads = {r["id"] for r in s["results"] if r["kind"] == "thread"}
        fns = [r for r in s["results"] if r["kind"] == "function"]
        ok(threads == workers and len(workers) == 4, "the threads named worker-N, and only they", (threads, workers))
        ok(len(fns) == 1 and fns[0]["name"] == "worker" and fns[0]["what"] == "function"
           and "example-pool.c" in fns[0]["detail"] and s["results"][0] == fns[0],
           "the function worker (of example-pool.c), first: its name is the text", s["results"][:3])
        ok(s["matched"] == len(s["results"]) == 5 and d["page"] == "search", "5 found, on the Search page", s)
    d, err = dump(args, tmp, db, ["--search", "HIST_LOCK", "--pick", "1"])
    if ok(d is not None, "--search HIST_LOCK --pick 1", err):
        r = d["search"]["results"]
        ok(len(r) == 1 and r[0]["kind"] == "object" and r[0]["what"] == "mutex" and r[0]["id"] == hist,
           "the mutex hist_lock, whatever the case of the text", r)
        ok(d["highlight"] == hist and d["details"] and d["details"]["object_id"] == hist,
           "choosing it highlights the object and shows its longest wait", (d["highlight"], d["details"]))
    d, err = dump(args, tmp, db, ["--search", "worker-2", "--pick", "1"])
    if ok(d is not None, "--search worker-2 --pick 1", err):
        r = d["search"]["results"]
        ok(len(r) == 1 and r[0]["kind"] == "thread" and d["highlight_thread"] == r[0]["id"],
           "choosing the thread highlights its row", (r, d["highlight_thread"]))
    d, err = dump(args, tmp, db, ["--search", "weft-example", "--pick", "1"])
    if ok(d is not None, "--search weft-example --pick 1", err):
        r = d["search"]["results"]
        ok(r and r[0]["kind"] == "process" and r[0]["id"] == upid and r[0]["name"] == "weft-example [%d]" % pid,
           "the process first, named by its executable and pid", r[:2])
    want = frame_waits(db, "f.symbol = 'record'")
    out = os.path.join(tmp, "record.png")
    d, err = dump(args, tmp, db, ["--search", "record", "--pick", "1"])
    if ok(d is not None, "--search record --pick 1", err):
        ok(d["highlight_label"] == "function record" and d["highlight_waits"] == want and want > 0,
           "the function record: its %d waits highlighted" % want, (d["highlight_label"], d["highlight_waits"]))
        ok(d["details"] and "record" in d["details"]["text"] and d["search"]["note"]
           and ("the %d wait%s " % (want, "" if want == 1 else "s")) in d["search"]["note"],
           "the longest of them shown, the page says how many", (d["details"], d["search"]["note"]))
    p = gui(args, tmp, db, ["--screenshot", out, "--search", "record", "--pick", "1"])
    if ok(p.returncode == 0, "--screenshot --search record --pick 1", p.stderr):
        w, h, rows = read_png(out)
        n = sum(1 for y in range(ROWS_TOP, h - 30) for x in range(200, w - 16) if rows[y][x] == HL_WAIT)
        ok(n > 0, "the waits' strips drawn over the rows (%d px)" % n)
    want = frame_waits(db, "f.file LIKE '%/example-pool.c'")
    d, err = dump(args, tmp, db, ["--search", "example-pool", "--pick", "1"])
    if ok(d is not None, "--search example-pool --pick 1", err):
        r = d["search"]["results"]
        ok(r and r[0]["kind"] == "file" and r[0]["name"] == "example-pool.c" and r[0]["key"].endswith("/example-pool.c"),
           "the file example-pool.c, its directory in the detail", r[:2])
        ok(d["highlight_label"] == "file example-pool.c" and d["highlight_waits"] == want,
           "choosing it highlights the %d waits with a frame in it" % want, d["highlight_waits"])
    d, err = dump(args, tmp, db, ["--search", "no-such-name-here"])
    ok(d is not None and d["search"]["matched"] == 0 and d["search"]["results"] == [],
       "a text nothing has: nothing found", (d or {}).get("search", err))
    p = gui(args, tmp, db, ["--dump", "-", "--search", "hist_lock", "--pick", "2"])
    ok(p.returncode == 1 and b"--pick 2" in p.stderr and b"found 1" in p.stderr,
       "--pick beyond the results: exit 1, said", p.stderr)
    p = gui(args, tmp, db, ["--dump", "-", "--pick", "1"])
    ok(p.returncode == 2 and b"--pick goes with --search" in p.stderr, "--pick without --search: exit 2", p.stderr)


def check_python(args, tmp, pydir):
    db = os.path.join(tmp, "pys.db")
    if not test_gui.record_ok(args, tmp, db, ["/usr/bin/python3", os.path.join(pydir, "py_stacks.py"), "lock"],
                              "python3 py_stacks.py lock", TIMEOUT):
        return
    want = frame_waits(db, "f.symbol = 'take' AND f.file LIKE '%py_stacks.py'")
    d, err = dump(args, tmp, db, ["--search", "take", "--pick", "1"])
    if ok(d is not None, "--search take --pick 1 (Python)", err):
        r = d["search"]["results"]
        ok(r and r[0]["kind"] == "function" and r[0]["name"] == "take" and "py_stacks.py" in r[0]["detail"],
           "the Python function take of py_stacks.py, first", r[:2])
        ok(d["highlight_label"] == "function take" and d["highlight_waits"] == want and want >= 1,
           "choosing it highlights the %d wait(s) of take" % want, d["highlight_waits"])


def contended(db):
    """The checks need waits on hist_lock (their stacks have a frame of record): how many threads
    collided on it depends on the scheduler; which objects the waits were on, when there were none."""
    con = sqlite3.connect(db)
    n = frame_waits(db, "f.symbol = 'record'")
    per = con.execute("SELECT coalesce(o.name, '?'), count(*) FROM thread_state ts LEFT JOIN sync_object o "
                      "ON o.object_id = ts.object_id WHERE ts.state <> 0 GROUP BY 1").fetchall()
    con.close()
    return n > 0, "waits with a frame of record: %d; waits by object: %s" % (n, per)


def main():
    return test_gui.run_example_checks("weft-gui-search-", check_example, check_python, TIMEOUT, ready=contended)


if __name__ == "__main__":
    sys.exit(main())
