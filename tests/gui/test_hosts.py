#!/usr/bin/env python3
# tests/gui/test_hosts.py - weft-gui groups the rows by host (issue 15, item 2).
# SPDX-License-Identifier: MIT
#
# usage: test_hosts.py --gui WEFT_GUI --mkdb REPORT_MKDB
# The synthetic recording of tests/report/mkdb.c (pool 4242 with 4 threads and 2 lock lanes, gzip 4243
# with 1 thread), given a host table as weft import writes it (no MPI needed):
# - one host: no host row, the rows exactly those of the recording without a host table; the dump's
#   "hosts" lists the one host with every row and no header;
# - two hosts (gzip moved to "beta", clock -5.04 ms ± 19.9 µs from 42 messages): a header per host,
#   alpha's first, each followed by exactly its processes' rows; the headers' text carries the clock
#   ("the reference clock", "clock -5.04 ms ± 19.9 µs, from 42 messages", "wall clock only" when
#   beta had no message); the header rows are drawn in the host colour across the window;
# - a click on a host's header folds its processes into it (folded_processes, folded_threads; their
#   rows gone; the row summarises their threads' states in the screenshot);
# - collapse-all (C) folds the processes, the host headers stay;
# - a span of beta's thread chosen: the Details page names its host (and does not with one host).
# Exit 0 on success, 1 on a failure, 77 (skip) without xvfb-run.
import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gui  # noqa: E402
from test_gui import ok, read_png, gui_env, gui_dump, PALETTE, ROWS_TOP  # noqa: E402

SIZE = "1280x560"
HOST_BG = (0xC3, 0xCB, 0xD6)  # the light palette's host header
BETA_CLOCK = "clock -5.04 ms \u00b1 19.9 \u00b5s, from 42 messages"
ALPHA = "INSERT INTO host VALUES (0, '1111222233334444', 'alpha', 1, 0, 0, 0, 0.0, 0, 0)"
BETA = ("INSERT INTO host VALUES (1, 'abcd0123abcd0123', 'beta', 1, -1000000000000, -5040000, 19900, 0.0, %d, "
        "700000000)")


def make(args, path, sql):
    subprocess.run([args.mkdb, path], check=True)
    con = sqlite3.connect(path)
    for s in sql:
        con.execute(s)
    con.commit()
    con.close()


def dump(args, tmp, db, extra=()):
    return gui_dump(args, tmp, db, ["--size", SIZE] + list(extra))


def members(d, h):
    """The rows of host h by kind: (process pids, thread utids, lock ids, host headers)."""
    rows = [d["rows"][k] for k in d["hosts"][h]["rows"]]
    return ([r["process"] for r in rows if "process" in r], [r["thread"] for r in rows if "thread" in r],
            [r["lock"] for r in rows if "lock" in r], [r["host"] for r in rows if "host" in r])


def check_one_host(args, tmp):
    plain, one = os.path.join(tmp, "plain.db"), os.path.join(tmp, "one.db")
    make(args, plain, [])
    make(args, one, [ALPHA])
    d0, err0 = dump(args, tmp, plain)
    d1, err1 = dump(args, tmp, one)
    if not ok(d0 and d1, "--dump of the recording, without and with its one host's row", err0 + err1):
        return
    ok(d1["rows"] == d0["rows"] and not any("host" in r for r in d1["rows"]) and len(d1["rows"]) == 9,
       "one host: no host row, the 9 rows of the recording as before (2 processes, 5 threads, 2 lanes)",
       d1["rows"])
    h = d1["hosts"]
    ok(len(h) == 1 and h[0]["name"] == "alpha" and h[0]["header"] is None and h[0]["processes"] == [4242, 4243]
       and h[0]["rows"] == list(range(9)), "and the dump's hosts: alpha with every row, no header", h)
    y = [r["y"] for r in d1["rows"] if r.get("thread") == 5][0]
    d, err = dump(args, tmp, one, ["--range", "900ms..950ms", "--click", "800,%d" % (y + 11)])
    ok(d and d["details"] and "gzip" in d["details"]["text"] and "host" not in d["details"]["text"],
       "one host: the Details page of gzip's span names no host", d and d["details"] or err)


def check_two_hosts(args, tmp):
    db = os.path.join(tmp, "two.db")
    make(args, db, [ALPHA, BETA % 42, "UPDATE process SET host = 1, parent_upid = NULL WHERE upid = 2"])
    d, err = dump(args, tmp, db)
    if not ok(d, "--dump of the recording of two hosts", err):
        return
    rows, hosts = d["rows"], d["hosts"]
    heads = [r for r in rows if "host" in r]
    ok([r["host"] for r in heads] == [0, 1] and rows[0] == heads[0] and rows[0]["y"] == ROWS_TOP
       and len(rows) == 11, "a header per host, alpha's the first row: 2 headers + the 9 rows", rows)
    ok([h["name"] for h in hosts] == ["alpha", "beta"] and hosts[0]["processes"] == [4242]
       and hosts[1]["processes"] == [4243], "hosts alpha (pool 4242) and beta (gzip 4243)", hosts)
    ok(members(d, 0) == ([4242], [1, 2, 3, 4], [1, 4], [0]) and members(d, 1) == ([4243], [5], [], [1]),
       "alpha's rows: its header, pool, its 4 threads and 2 lanes; beta's: its header, gzip and its thread",
       (members(d, 0), members(d, 1)))
    ok(hosts[0]["clock"] == "the reference clock" and hosts[1]["clock"] == BETA_CLOCK
       and hosts[1]["header"] == "\u25be host beta \u00b7 1 process \u00b7 " + BETA_CLOCK
       and hosts[0]["header"] == "\u25be host alpha \u00b7 1 process \u00b7 the reference clock",
       "the headers carry the clock: the reference, and beta's offset ± uncertainty from 42 messages",
       [(h["header"], h["clock"]) for h in hosts])
    out = os.path.join(tmp, "hosts.png")
    p = test_gui.gui_run(args, tmp, db, ["--size", SIZE, "--screenshot", out])
    if ok(p.returncode == 0, "--screenshot of the two hosts", p.stderr):
        w, h, px = read_png(out)
        for r in heads:
            line = px[r["y"] + 2]  # over the text: the line drawn above each header is at y
            ok(sum(1 for c in line if c == HOST_BG) >= 0.8 * w,
               "host %d's header row is drawn in the host colour across the window" % r["host"])
        thread_y = [r["y"] for r in rows if r.get("thread") == 1][0]
        ok(HOST_BG not in px[thread_y + 11], "and a thread row is not")
    beta_y = heads[1]["y"]
    y5 = [r["y"] for r in rows if r.get("thread") == 5][0]
    dd, err = dump(args, tmp, db, ["--range", "900ms..950ms", "--click", "800,%d" % (y5 + 11)])
    ok(dd and dd["details"] and dd["details"]["utid"] == 5 and "host beta" in dd["details"]["text"],
       "a span of gzip's thread: the Details page names its host, beta", dd and dd["details"] or err)
    check_fold(args, tmp, db, beta_y)
    # beta without messages keeps its wall-clock alignment
    wall = os.path.join(tmp, "wall.db")
    make(args, wall, [ALPHA, BETA % 0, "UPDATE process SET host = 1, parent_upid = NULL WHERE upid = 2"])
    d, err = dump(args, tmp, wall)
    ok(d and d["hosts"][1]["clock"] == "wall clock only"
       and d["hosts"][1]["header"] == "\u25be host beta \u00b7 1 process \u00b7 wall clock only",
       "beta without messages: \"wall clock only\"", d and d["hosts"] or err)


def check_fold(args, tmp, db, beta_y):
    d, err = dump(args, tmp, db, ["--click", "50,%d" % (beta_y + 5)])
    if ok(d, "a click on beta's header", err):
        ok(d["rows"][-1] == {"host": 1, "folded_processes": 1, "folded_threads": 1, "y": beta_y}
           and len(d["rows"]) == 9 and d["hosts"][1]["folded"] and d["hosts"][1]["header"] == "\u25b8 beta (1 process)"
           and members(d, 1) == ([], [], [], [1]),
           "folds gzip and its thread into beta's header, the last row; alpha's rows stay", d["rows"])
    d, err = dump(args, tmp, db, ["--click", "50,%d" % (ROWS_TOP + 5)])
    if ok(d, "a click on alpha's header", err):
        ok(d["rows"][0] == {"host": 0, "folded_processes": 1, "folded_threads": 4, "y": ROWS_TOP}
           and [r.get("host") for r in d["rows"]] == [0, 1, None, None] and members(d, 0) == ([], [], [], [0]),
           "folds pool's 4 threads and its lanes into alpha's header; beta's header, gzip and its thread under it",
           d["rows"])
    d, err = dump(args, tmp, db, ["--actions", "collapse-all"])
    ok(d and [(r.get("host"), r.get("process"), r.get("folded_threads")) for r in d["rows"]]
       == [(0, None, 0), (None, 4242, 4), (1, None, 0), (None, 4243, 1)],
       "collapse-all folds each process; the host headers stay open", d and d["rows"] or err)
    out = os.path.join(tmp, "folded.png")
    p = test_gui.gui_run(args, tmp, db, ["--size", SIZE, "--screenshot", out, "--click", "50,%d" % (ROWS_TOP + 5)])
    if ok(p.returncode == 0, "--screenshot with alpha folded", p.stderr):
        w, h, px = read_png(out)
        line = px[ROWS_TOP + 12][400:w - 16]
        states = sum(1 for c in line if c in PALETTE)
        ok(states >= 0.9 * len(line), "alpha's folded header summarises its threads' states across the run",
           "%d of %d columns" % (states, len(line)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gui", required=True)
    ap.add_argument("--mkdb", required=True)
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77
    with tempfile.TemporaryDirectory(prefix="weft-gui-hosts-") as tmp:
        check_one_host(args, tmp)
        check_two_hosts(args, tmp)
    print("1..%d" % len(test_gui.results))
    return 0 if all(test_gui.results) else 1


if __name__ == "__main__":
    sys.exit(main())
