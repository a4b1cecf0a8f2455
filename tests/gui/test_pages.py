#!/usr/bin/env python3
# tests/gui/test_pages.py - weft-gui --page all: every side page in turn, each until its data is read,
# with the peak RSS after each (issue 14's memory target: "a session that highlights a lock and opens
# every page").
# SPDX-License-Identifier: MIT
#
# usage: test_pages.py --weft WEFT --gui WEFT_GUI --example WEFT_EXAMPLE
# Records the bundled example and runs `weft-gui --window --dump - --page all` on it under xvfb-run,
# with the most waited-for lock highlighted, a selection, a search and a Compare page (the recording
# against itself):
# - the dump's "pages" are the nine side pages in the order of their keys (Alt+1 ... Alt+9), each
#   shown when noted, with a peak RSS that never falls and is at least the RSS; the page shown last
#   is compare; the GTK thread read nothing during the pages;
# - nor since the recording was opened (the threads' totals, the sync objects and the overview strip
#   are read on workers), also on the Threads page of the whole recording;
# - each page's data is there: the findings, the selection's numbers, the details of the lock's
#   longest wait, the critical path (computed on its page, as P does), the search's results, the
#   waits' graph, the comparison;
# - without --compare the tour ends on waits (eight pages);
# - --page all without --window is a usage error (exit 2, one line);
# - --bench --window --page all prints the pages and the session's peak RSS after the frames.
# Exit 0 on success, 1 on a failure, 77 (skip) without xvfb-run.
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gui  # noqa: E402
from test_gui import ok  # noqa: E402

TIMEOUT = 180
PAGES = ["findings", "selection", "details", "threads", "locks", "critpath", "search", "waits", "compare"]


def dump(args, tmp, db, extra):
    return test_gui.gui_dump(args, tmp, db, ["--window"] + extra, TIMEOUT)


def check_tour(d, pages, what):
    visits = d.get("pages") or []
    ok([v["page"] for v in visits] == pages and all(v["shown"] == v["page"] for v in visits),
       "%s: the pages visited in turn, each shown" % what, [(v["page"], v["shown"]) for v in visits])
    ok(d.get("page") == pages[-1], "%s: the last page stays shown" % what, d.get("page"))
    peaks = [d["pages_start"]["peak_rss_mb"]] + [v["peak_rss_mb"] for v in visits]
    # (VmHWM is updated lazily by the kernel: it may lag the RSS by a few pages)
    ok(all(p > 0 for p in peaks) and all(b >= a - 1 for a, b in zip(peaks, peaks[1:])) and
       all(v["peak_rss_mb"] >= v["rss_mb"] - 1 for v in visits) and d["peak_rss_mb"] >= peaks[-1] - 1,
       "%s: a peak RSS after each page, never falling, at least the RSS" % what, visits)
    ok(d.get("pages_gtk_thread_reads") == 0 and all(v["gtk_thread_reads"] == 0 for v in visits),
       "%s: no read on the GTK thread during the pages" % what,
       (d.get("pages_gtk_thread_reads"), [v["gtk_thread_reads"] for v in visits]))
    # (nor since the recording was opened: the tables and the overview strip come from workers)
    ok(d.get("gtk_thread_reads") == 0, "%s: no read on the GTK thread since the open" % what,
       d.get("gtk_thread_reads"))



def check_example(args, tmp, db):
    con = sqlite3.connect(db)
    # the most waited-for lock (a run of the example on a slow build may have had no lock wait at all:
    # then the most waited-for object of any kind)
    lock = con.execute("SELECT object_id FROM thread_state WHERE object_id IS NOT NULL AND state > 0 "
                       "GROUP BY object_id ORDER BY max(state = 1) DESC, count(*) DESC, object_id "
                       "LIMIT 1").fetchone()[0]
    t0, t1 = con.execute("SELECT min(start_ns), max(start_ns + dur_ns) FROM thread_state").fetchone()
    con.close()
    a, b = t0 + (t1 - t0) // 4, t0 + 3 * (t1 - t0) // 4
    session = ["--lock", str(lock), "--select", "%dns..%dns" % (a, b), "--search", "worker"]
    d, err = dump(args, tmp, db, session + ["--page", "all", "--compare", db])
    if ok(d is not None, "--window --page all --compare: the dump", err):
        check_tour(d, PAGES, "--page all")
        cp, waits, cmp = d.get("critical_path") or {}, d.get("waits") or {}, (d.get("compare") or {})
        ok(d["findings"]["scope"] == "selection" and d["panel"] and d["panel"]["summary"] and
           d["highlight"] == lock and d["details"] and d["details"]["object_id"] == lock,
           "the findings, the selection's numbers, the lock highlighted and its longest wait described",
           (d["findings"]["scope"], d["highlight"], d["details"]))
        ok(cp.get("segments") and d["critical_path_shown"], "the critical path computed on its page",
           (cp.get("length_ns"), d["critical_path_shown"]))
        ok(d["search"]["query"] == "worker" and d["search"]["matched"] > 0 and waits.get("n_nodes", 0) > 1 and
           cmp.get("compare") and cmp.get("error") is None, "the search's results, the waits' graph, the comparison",
           (d["search"]["matched"], waits.get("n_nodes"), cmp.get("error")))
    d, err = dump(args, tmp, db, ["--page", "threads"])
    if ok(d is not None, "--window --page threads: the dump", err):
        ok(d.get("page") == "threads" and d.get("gtk_thread_reads") == 0,
           "the Threads page, and no read on the GTK thread since the open", (d.get("page"), d.get("gtk_thread_reads")))
    d, err = dump(args, tmp, db, session + ["--page", "all"])
    if ok(d is not None, "--window --page all without --compare: the dump", err):
        check_tour(d, PAGES[:-1], "without --compare")
    p = test_gui.gui_run(args, tmp, db, ["--dump", "-", "--page", "all"], timeout=TIMEOUT)
    ok(p.returncode == 2 and len(p.stderr.splitlines()) == 1 and b"--window" in p.stderr,
       "--page all without --window: exit 2, one line", p.stderr)
    p = test_gui.gui_run(args, tmp, db, ["--bench", "--window", "--page", "all"] + session, timeout=TIMEOUT)
    lines = [line for line in p.stdout.decode().splitlines() if line.startswith("{")]
    r = json.loads(lines[-1]) if p.returncode == 0 and lines else {}
    ok(r.get("frames", 0) > 0 and r.get("peak_rss_mb", 0) >= r["pages_start"]["peak_rss_mb"] - 1 and
       [v["page"] for v in r.get("pages", [])] == PAGES[:-1],
       "--bench --window --page all: the frames, then the pages, the session's peak RSS",
       (p.returncode, p.stderr, lines[-1:]))


def main():
    return test_gui.run_example_checks("weft-gui-pages-", check_example, None, TIMEOUT)


if __name__ == "__main__":
    sys.exit(main())
