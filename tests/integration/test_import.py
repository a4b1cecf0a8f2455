#!/usr/bin/env python3
# test_import.py - weft import and weft check on fixture recordings: exact database contents.
# SPDX-License-Identifier: MIT
#
# usage: test_import.py --agent SO --weft WEFT -- FIXTURE-EXES...
# Records each fixture under the agent, imports it, runs `weft check`, and
# compares what the database says with what the fixture is known to do.
# Prints TAP.
import argparse
import errno
import os
import re
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time

import weftholds
from weftlib import results, ok, eq, one, skip, linked_waits


class Ctx:
    def __init__(self, args):
        self.agent = os.path.abspath(args.agent)
        self.weft_bin = os.path.abspath(args.weft)
        self.dump_bin = os.path.abspath(args.dump)
        self.fx = {}
        for exe in args.fixtures:
            name = os.path.basename(exe)
            if name.startswith("fx-"):
                self.fx[name[3:]] = os.path.abspath(exe)
        self.tmp = tempfile.mkdtemp(prefix="weft-import-test-")

    def record(self, name, args=(), env=None, kill_after_ready=False):
        """Run fixture `name` under the agent; return (dir, info dict, returncode)."""
        out = tempfile.mkdtemp(dir=self.tmp, prefix=name + "-")
        e = dict(os.environ)
        e.update({"WEFT_OUTPUT": out, "LD_PRELOAD": self.agent})
        e.update(env or {})
        argv = [self.fx[name]] + [str(a) for a in args]
        if kill_after_ready:
            p = subprocess.Popen(argv, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            line = p.stdout.readline()
            ok(b"ready" in line, "%s printed ready" % name, line)
            p.send_signal(signal.SIGKILL)
            _, err = p.communicate()
            rc = p.returncode
        else:
            r = subprocess.run(argv, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
            err, rc = r.stderr, r.returncode
        info = {}
        for line in err.decode(errors="replace").splitlines():
            if line.startswith("fx: ") and not line.startswith("fx: error"):
                for m in re.finditer(r"(\w+)=(\S+)", line):
                    info[m.group(1)] = m.group(2)
        return out, info, rc

    def weft(self, *args):
        return subprocess.run([self.weft_bin] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=120)

    def dump(self, *args):
        return subprocess.run([self.dump_bin] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=120)

    def imported(self, name, args=(), env=None, kill_after_ready=False):
        d, info, rc = self.record(name, args, env, kill_after_ready)
        db = d + ".db"
        r = self.weft("import", d, "-o", db, "--quiet")
        ok(r.returncode == 0, "%s: weft import" % name, r.stderr.decode())
        c = self.weft("check", db)
        ok(c.returncode == 0, "%s: weft check" % name, c.stdout.decode() + c.stderr.decode())
        con = sqlite3.connect(db)
        return con, info, rc


def addr(info, key):
    return int(info[key], 16)


def utid_of(con, tid):
    return one(con, "SELECT utid FROM thread WHERE tid = ?", int(tid))


def t_contended(ctx, k=20):
    con, info, _ = ctx.imported("contended", [k])
    m = one(con, "SELECT object_id FROM sync_object WHERE addr = ? AND kind = 1", addr(info, "mutex"))
    main, waiter = utid_of(con, info["main_tid"]), utid_of(con, info["waiter_tid"])
    eq(one(con, "SELECT contended FROM sync_object WHERE object_id = ?", m), k, "contended: contended count")
    eq(one(con, "SELECT name FROM sync_object WHERE object_id = ?", m), "mutex",
       "contended: the static lock is named by its variable")
    eq(one(con, "SELECT acquisitions FROM sync_object WHERE object_id = ?", m), 2 * k, "contended: acquisitions")
    rows = con.execute("SELECT utid, blocker_utid, waker_utid, result FROM thread_state WHERE object_id = ? "
                       "AND state = 1", (m,)).fetchall()
    eq(rows, [(waiter, main, main, 0)] * k, "contended: every wait by the waiter, blocked and woken by main")
    eq(one(con, "SELECT count(*) FROM flow WHERE kind = 1 AND object_id = ? AND from_utid = ? AND to_utid = ?",
           m, main, waiter), k, "contended: lock hand-offs main -> waiter")
    weftholds.materialize(con)
    eq(one(con, "SELECT count(*) FROM lock_hold WHERE object_id = ?", m), 2 * k, "contended: holds")
    eq(one(con, "SELECT count(*) FROM lock_hold WHERE object_id = ? AND contended = 1 AND utid = ?", m, waiter), k,
       "contended: the waiter's holds are the contended ones")
    eq(one(con, "SELECT wait_ns FROM sync_object WHERE object_id = ?", m),
       one(con, "SELECT sum(dur_ns) FROM thread_state WHERE object_id = ?", m), "contended: wait total")
    # each wait ends at the hand-off's target time, after main's release
    bad = one(con, "SELECT count(*) FROM flow f JOIN thread_state s ON s.utid = f.to_utid AND "
                   "s.start_ns + s.dur_ns = f.to_ns WHERE f.kind = 1 AND s.object_id = ? AND f.from_ns < s.start_ns - 0",
              m)
    eq(bad, 0, "contended: releases fall inside the waits they end")
    # what main's releases took (UNLOCK_COST, trace v6): one row per hand-off, at its release
    eq(one(con, "SELECT count(*) FROM unlock_cost u JOIN flow f ON f.kind = 1 AND f.from_utid = u.utid AND "
                "f.from_ns = u.ns AND f.object_id = u.object_id WHERE u.object_id = ? AND u.utid = ? AND u.cost_ns >= 0",
           m, main), k, "contended: what each of main's %d hand-offs took, at its release" % k)
    sym = con.execute("SELECT f.symbol FROM sync_object o JOIN stack_frame sf ON sf.stack_id = o.first_stack_id "
                      "AND sf.depth = 0 JOIN frame f USING (frame_id) WHERE o.object_id = ?", (m,)).fetchone()
    ok(sym is not None and sym[0] == "waiter", "contended: first wait's stack is in waiter()", sym)


def t_fork_child_symbols(ctx, k=5):
    """A fork child inherits its parent's modules (trace feature bit 8): it writes none of its own,
    and its lock names and stacks symbolize from the parent's."""
    d, info, rc = ctx.record("contended", [k, "fork"])
    eq(rc, 0, "fork child symbols: exit status")
    child = int(info["main_tid"])
    dump = ctx.dump(d).stdout.decode()
    heads = [l for l in dump.splitlines() if l.startswith("# file ") or l.startswith("#   holds")]
    child_at = [i for i, l in enumerate(heads) if l.startswith("# file ") and " pid=%d " % child in l]
    ok(len(child_at) == 1 and "modules=parent's" in heads[child_at[0] + 1],
       "fork child symbols: the child's header says its modules are its parent's", heads)
    own = [re.search(r'path="([^"]*)"', l).group(1) for l in dump.splitlines()
           if " MODULE " in l and l.split()[1] == str(child)]
    ok(not [m for m in own if not re.search(r"lib(unwind|lzma)", m)],
       "fork child symbols: the child writes MODULEs only for what it loads itself (libunwind)", own)
    db = d + ".db"
    r = ctx.weft("import", d, "-o", db, "--quiet")
    ok(r.returncode == 0 and not r.stderr, "fork child symbols: weft import, no warning", r.stderr.decode())
    con = sqlite3.connect(db)
    cu = one(con, "SELECT upid FROM process WHERE pid = ?", child)
    pu = one(con, "SELECT parent_upid FROM process WHERE upid = ?", cu)
    mods = "SELECT path, build_id, bias FROM module WHERE upid = ? AND path NOT LIKE '%libunwind%' " \
           "AND path NOT LIKE '%liblzma%' ORDER BY start"
    theirs = con.execute(mods, (pu,)).fetchall()
    ok(any(m[0].endswith("fx-contended") for m in theirs), "fork child symbols: the parent's modules", theirs)
    eq(con.execute(mods, (cu,)).fetchall(), theirs, "fork child symbols: the child's modules are the parent's")
    m = one(con, "SELECT object_id FROM sync_object WHERE addr = ? AND kind = 1 AND upid = ?", addr(info, "mutex"), cu)
    eq(one(con, "SELECT name FROM sync_object WHERE object_id = ?", m), "mutex",
       "fork child symbols: the child's lock is named by its variable")
    eq(one(con, "SELECT contended FROM sync_object WHERE object_id = ?", m), k, "fork child symbols: contended")
    sym = con.execute("SELECT f.symbol FROM sync_object o JOIN stack_frame sf ON sf.stack_id = o.first_stack_id "
                      "AND sf.depth = 0 JOIN frame f USING (frame_id) WHERE o.object_id = ?", (m,)).fetchone()
    ok(sym is not None and sym[0] == "waiter", "fork child symbols: the child's wait stack is in waiter()", sym)
    # the child is a section of its parent's file (trace version 7): the two cannot be parted (a
    # recording of older agents, a file per process, could lose the parent's: the import warns then)
    parent = one(con, "SELECT pid FROM process WHERE upid = ?", pu)
    eq(one(con, "SELECT file FROM process WHERE upid = ?", cu),
       "%s [pid %d]" % (os.path.join(d, "%d.0.wtrace" % parent), child),
       "fork child symbols: the child is a section in its parent's file")


def t_report_site(ctx, k=5):
    """The report names the contended lock by its variable and its call site by function and line."""
    import json
    d, info, rc = ctx.record("contended", [k])
    db = d + ".db"
    ok(ctx.weft("import", d, "-o", db, "--quiet").returncode == 0, "report site: import")
    r = ctx.weft("report", db, "--format", "json")
    ok(r.returncode == 0, "report site: weft report --format json", r.stderr)
    rep = json.loads(r.stdout.decode())
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "fx-contended.c")).read()
    line = 1 + src[: src.index('pthread_mutex_lock(&mutex), "waiter lock"')].count("\n")
    objs = [o for o in rep["sync_objects"] if o["addr"] == addr(info, "mutex")]
    ok(len(objs) == 1 and objs[0]["name"] == "mutex", "report site: the lock is named 'mutex'", objs)
    sites = objs[0]["call_sites"] if objs else []
    eq([(c["symbol"], os.path.basename(c["file"] or ""), c["line"], c["waits"]) for c in sites],
       [("waiter", "fx-contended.c", line, k)], "report site: every wait at waiter() in fx-contended.c:%d" % line)


def t_report_timeouts(ctx):
    """A timed wait that timed out acquired nothing: the report counts it apart from the contended
    ones (fx-mutextypes: tm's timedlock and clocklock, cv's timedwait and clockwait each time out
    once), and the contention table says so beside the contended count."""
    import json
    d, info, rc = ctx.record("mutextypes", [])
    db = d + ".db"
    ok(ctx.weft("import", d, "-o", db, "--quiet").returncode == 0, "timeouts: import")
    r = ctx.weft("report", db, "--format", "json")
    ok(r.returncode == 0, "timeouts: weft report --format json", r.stderr)
    objs = {o["name"]: o for o in json.loads(r.stdout.decode())["sync_objects"]}
    eq([(objs[n]["waits"], objs[n]["contended"], objs[n]["timeouts"]) if n in objs else None for n in ("tm", "cv")],
       [(2, 0, 2), (2, 0, 2)], "timeouts: tm and cv waited twice, both timed out (waits, contended, timeouts)")
    eq(objs["go"]["timeouts"] if "go" in objs else None, 0, "timeouts: a semaphore posted to is not timed out")
    text = ctx.weft("report", db).stdout.decode()
    rows = {ln.split()[0]: ln for ln in text.splitlines() if ln.startswith("  tm ") or ln.startswith("  cv ")}
    ok("0 (0.0%), 2 timed out" in rows.get("tm", "") and "0, 2 timed out" in rows.get("cv", ""),
       "timeouts: the contention table shows them beside the contended count", rows)


def t_barrier(ctx, t=4, r=25):
    con, info, _ = ctx.imported("barrier", [t, r])
    b = one(con, "SELECT object_id FROM sync_object WHERE addr = ? AND kind = 7", addr(info, "barrier"))
    eq(one(con, "SELECT count(*) FROM thread_state WHERE object_id = ? AND state = 5", b), t * r,
       "barrier: waits")
    nflows = one(con, "SELECT count(*) FROM flow WHERE kind = 3 AND object_id = ?", b)
    eq(nflows, (t - 1) * r, "barrier: each round releases T-1 waiters")
    eq(one(con, "SELECT count(*) FROM thread_state WHERE object_id = ? AND state = 5 AND waker_utid IS NULL", b), r,
       "barrier: the last arrival of each round has no waker")
    bad = one(con, "SELECT count(*) FROM flow f JOIN thread_state s ON s.utid = f.to_utid AND "
                   "s.start_ns + s.dur_ns = f.to_ns AND s.object_id = f.object_id "
                   "WHERE f.kind = 3 AND f.object_id = ? AND f.from_ns < s.start_ns", b)
    eq(bad, 0, "barrier: the releasing arrival is inside each released wait")
    joins = con.execute("SELECT blocker_utid, waker_utid FROM thread_state WHERE state = 7").fetchall()
    eq(len(joins), t, "barrier: main joins every worker")
    ok(all(b is not None and b == w for b, w in joins), "barrier: each join is blocked and ended by its thread", joins)
    eq(one(con, "SELECT count(*) FROM flow WHERE kind = 6"), t, "barrier: join flows")


def t_condvar(ctx, n=50):
    con, info, _ = ctx.imported("condvar", [n])
    waits = int(info.get("main_waits", 0)) + int(info.get("peer_waits", 0))
    got = one(con, "SELECT count(*) FROM thread_state WHERE state = 4")
    eq(got, waits, "condvar: cond waits as the fixture counted them")
    eq(one(con, "SELECT count(*) FROM flow WHERE kind = 2"), waits, "condvar: one wake-up flow per wait")
    eq(one(con, "SELECT count(*) FROM thread_state WHERE state = 4 AND waker_utid IS NULL"), 0,
       "condvar: every wait has its waker")


def t_futex(ctx, k=8):
    """fx-futex: K futex waits woken by main and one EAGAIN: futex_wait states, wake-up flows, the report."""
    import json
    d, info, rc = ctx.record("futex", [k])
    db = d + ".db"
    ok(ctx.weft("import", d, "-o", db, "--quiet").returncode == 0, "futex: import")
    con = sqlite3.connect(db)
    w = one(con, "SELECT object_id FROM sync_object WHERE addr = ? AND kind = 15", addr(info, "word"))
    main, waiter = utid_of(con, info["main_tid"]), utid_of(con, info["waiter_tid"])
    eq(con.execute("SELECT utid, result, waker_utid FROM thread_state WHERE state = 13 AND object_id = ? "
                   "ORDER BY start_ns", (w,)).fetchall(),
       [(waiter, 0, main)] * k + [(waiter, errno.EAGAIN, None)],
       "futex: the waiter's K futex waits woken by main, then one EAGAIN")
    eq(con.execute("SELECT from_utid, to_utid, count(*) FROM flow WHERE kind = 2 AND object_id = ? GROUP BY 1, 2",
                   (w,)).fetchall(), [(main, waiter, k)], "futex: K wake-up flows from main to the waiter")
    eq(one(con, "SELECT value FROM meta WHERE key = 'futex_waits'"), "1", "futex: meta futex_waits = 1")
    eq(one(con, "SELECT name FROM kind_name WHERE kind = 15"), "futex", "futex: kind 15 is futex")
    con.close()
    r = ctx.weft("report", db, "--format", "json")
    rep = json.loads(r.stdout.decode()) if r.returncode == 0 else {}
    objs = [o for o in rep.get("sync_objects", []) if o["addr"] == addr(info, "word")]
    site = "fx-futex.c:%s" % info["wait_line"]
    ok(len(objs) == 1 and objs[0]["kind"] == "futex" and objs[0]["label"] == "word (%s)" % site
       and objs[0]["waits"] == k + 1 and objs[0]["timeouts"] == 0
       and [(c["symbol"], c["waits"]) for c in objs[0]["call_sites"]] == [("waiter", k), ("waiter", 1)]
       and objs[0]["call_sites"][0]["line"] == int(info["wait_line"]),
       "futex: the report names the word and its waits' site, %s" % site, objs or rep.get("sync_objects"))


def t_forktree(ctx):
    con, info, _ = ctx.imported("forktree")
    p, c1, c2 = int(info["parent"]), int(info["child1"]), int(info["child2"])
    procs = con.execute("SELECT upid, pid, image, parent_upid, exec_from_upid, end_how, exit_status FROM process "
                        "ORDER BY pid, image").fetchall()
    by = {(r[1], r[2]): r for r in procs}
    eq(sorted(by), sorted([(p, 0), (c1, 0), (c1, 1), (c2, 0)]), "forktree: process images")
    up = by[(p, 0)][0]
    eq(by[(c1, 0)][3], up, "forktree: child1's parent")
    eq(by[(c2, 0)][3], up, "forktree: child2's parent")
    eq(by[(c1, 1)][4], by[(c1, 0)][0], "forktree: child1's exec'd image links to the one before")
    eq(by[(c1, 1)][3], up, "forktree: the exec'd image keeps the parent")
    eq(by[(c1, 0)][5], "exec", "forktree: child1's first image ends by exec")
    eq((by[(c2, 0)][5], by[(c2, 0)][6]), ("_exit", 7), "forktree: child2 _exit(7)")
    eq(one(con, "SELECT count(*) FROM flow WHERE kind = 7"), 2, "forktree: fork flows")
    eq(one(con, "SELECT count(*) FROM flow WHERE kind = 8"), 1, "forktree: exec flow")
    eq(one(con, "SELECT count(*) FROM flow WHERE kind = 9"), 2, "forktree: wait flows")
    eq(one(con, "SELECT count(*) FROM thread_state WHERE state = 8 AND waker_utid IS NOT NULL"), 2,
       "forktree: the parent's child waits know who ended them")


def t_pshared(ctx, n=20):
    """fx-pshared: a process-shared mutex in a shared anonymous mapping, locked n times by each of 4
    forked children (each waits at least once) and once by the parent: one object for all 5 processes."""
    con, info, _ = ctx.imported("pshared", [n])
    rows = con.execute("SELECT object_id, acquisitions FROM sync_object WHERE kind = 1 AND acquisitions > 0 "
                       "AND object_id IN (SELECT object_id FROM thread_state WHERE state = 1)").fetchall()
    if not ok(len(rows) == 1, "pshared: one mutex waited on", rows):
        return
    obj, acq = rows[0]
    eq(acq, 4 * n + 1, "pshared: acquired 4n + 1 times, in all processes")
    eq(one(con, "SELECT count(*) FROM sync_object WHERE kind = 1 AND addr = ?", addr(info, "mutex")), 1,
       "pshared: one row at its address")
    waiters = con.execute("SELECT count(DISTINCT t.upid) FROM thread_state ts JOIN thread t USING (utid) "
                          "WHERE ts.object_id = ? AND ts.state = 1", (obj,)).fetchone()[0]
    eq(waiters, 4, "pshared: the waits of all 4 children name it")
    per = con.execute("SELECT p.parent_upid IS NULL, sum(lc.acquisitions) FROM lock_count lc JOIN thread t "
                      "USING (utid) JOIN process p ON p.upid = t.upid WHERE lc.object_id = ? GROUP BY t.upid "
                      "ORDER BY 1 DESC", (obj,)).fetchall()
    eq(per, [(1, 1)] + [(0, n)] * 4, "pshared: the counts of each process on it")
    # every wait was ended by a release in another process (the holder sees the other processes'
    # waiters in glibc's lock word): a hand-off from a thread of another process, and its waker
    waits, linked = linked_waits(con, obj, 1, 1)  # lock_wait, lock_handoff
    # the parent holds the mutex from before the forks until all 4 children wait: its hold (its start
    # not timed: taken without a wait) starts no later than the first child's wait, which only the
    # children's processes saw (it used to start at its release: zero long)
    parent = one(con, "SELECT t.utid FROM thread t JOIN process p USING (upid) WHERE p.parent_upid IS NULL "
                 "AND t.is_main")
    first = one(con, "SELECT min(start_ns) FROM thread_state WHERE object_id = ? AND state = 1", obj)
    ph = [h for h in weftholds.holds(con) if h[0] == obj and h[1] == parent]
    ok(len(ph) == 1 and ph[0][2] <= first < ph[0][2] + ph[0][3],
       "pshared: the parent's hold starts by the first child's wait (%s), not at its release" % first, ph)
    # (a waiter whose lock was released between its failed try and its sleep on the lock word waited
    # with no release to see: a race of microseconds against the holders' 200 us holds, allowed)
    ok(waits and len(linked) >= len(waits) - len(waits) // 10,
       "pshared: %d of the %d waits have a hand-off from another process, their waker" % (len(linked), len(waits)),
       [w for w in waits if w not in linked])


def t_pshared_rwlock(ctx, n=20):
    """fx-pshared N 1 rwlock: the 4 children write-lock a process-shared rwlock the parent write-locked
    before forking them: the parent's release (its hold taken without a wait, with waiters only in
    other processes) is recorded from glibc's own word and hands the rwlock to one of them, and every
    wait is linked to a release of another process."""
    con, info, _ = ctx.imported("pshared", [n, 1, "rwlock"])
    obj = one(con, "SELECT object_id FROM sync_object WHERE kind = 4 AND addr = ?", addr(info, "rwlock"))
    eq(one(con, "SELECT acquisitions FROM sync_object WHERE object_id = ?", obj), 4 * n + 1,
       "pshared rwlock: acquired 4n + 1 times, in all processes")
    parent = one(con, "SELECT t.utid FROM thread t JOIN process p USING (upid) WHERE p.parent_upid IS NULL "
                 "AND t.is_main")
    eq(one(con, "SELECT count(*) FROM flow WHERE kind = 1 AND object_id = ? AND from_utid = ?", obj, parent), 1,
       "pshared rwlock: the parent's release hands it to a child")
    waits, linked = linked_waits(con, obj, 2, 1)  # rwlock_wait, lock_handoff
    ok(waits and len(linked) >= len(waits) - len(waits) // 10,
       "pshared rwlock: %d of the %d waits have a hand-off from another process, their waker"
       % (len(linked), len(waits)), [w for w in waits if w not in linked])


def t_pshared_untouched(ctx, n=10):
    """fx-pshared N 1 untouched: the parent makes the process-shared mutex and never takes it; its 4
    forked children take it n times each. The agent writes the mutex's identity when it is made, so
    the parent's row, with its init stack, is the one object of all 5 processes (the parent's used to
    stay a row of its own, the children's named by their first wait)."""
    import json
    con, info, _ = ctx.imported("pshared", [n, 1, "untouched"])
    rows = con.execute("SELECT object_id, upid, acquisitions, init_stack_id IS NOT NULL FROM sync_object "
                       "WHERE kind = 1 AND addr = ?", (addr(info, "mutex"),)).fetchall()
    root = one(con, "SELECT upid FROM process WHERE parent_upid IS NULL")
    ok(len(rows) == 1 and rows[0][1:] == (root, 4 * n, 1),
       "pshared untouched: one row at its address, the parent's, with its init stack, acquired 4n times", rows)
    src = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "programs", "fx-pshared.c")).read()
    line = 1 + src[: src.index('pthread_mutex_init(&s->m, &a), "mutex init"')].count("\n")
    r = ctx.weft("report", con.execute("PRAGMA database_list").fetchone()[2], "--format", "json")
    objs = [o for o in json.loads(r.stdout.decode())["sync_objects"] if o["addr"] == addr(info, "mutex")]
    eq([o["name"] for o in objs], ["main (fx-pshared.c:%d)" % line], "pshared untouched: named where it was made")


def t_pshared_remade(ctx, n=10):
    """fx-pshared N 1 remade: the parent makes the process-shared mutex, destroys it and makes it again
    at the same place, then it and 4 forked children take it: two objects, the first destroyed and
    never taken, the second the one object of all 5 processes (the agent identifies the new one anew
    after the destroy, and the importer does not merge it into the destroyed one)."""
    con, info, _ = ctx.imported("pshared", [n, 1, "remade"])
    rows = con.execute("SELECT acquisitions, destroyed_ns IS NOT NULL FROM sync_object WHERE kind = 1 AND addr = ? "
                       "ORDER BY first_ns", (addr(info, "mutex"),)).fetchall()
    eq(rows, [(0, 1), (4 * n + 1, 0)],
       "pshared remade: the destroyed mutex untaken, the one made again acquired 4n + 1 times by all")


def t_pshared_generations(ctx, n=5):
    """fx-pshared N 1 generations: a first forked child takes the process-shared mutex n times, the
    parent destroys it and makes it again, a second child takes the new one 2n times: two objects at
    the address, each with its own child's acquisitions (the first child's, imported after the parent
    made the second, used to join the second)."""
    con, info, _ = ctx.imported("pshared", [n, 1, "generations"])
    rows = con.execute("SELECT acquisitions, destroyed_ns IS NOT NULL FROM sync_object WHERE kind = 1 AND addr = ? "
                       "ORDER BY first_ns", (addr(info, "mutex"),)).fetchall()
    eq(rows, [(n, 1), (2 * n, 0)], "pshared generations: the destroyed mutex n times, the one made again 2n")


def t_shared_slots(ctx):
    """fx-shared-slots: process-shared semaphores x, y, z of one slot window of the agent's table; y is
    identified twice (made, then waited on after x's slot was freed), destroyed and made again: the new
    y is one object of the parent and its child, acquired 3 + 5 times (a copy of y's old entry left in
    the table used to keep the new one from being identified: two rows)."""
    con, info, _ = ctx.imported("shared-slots", [])
    rows = con.execute("SELECT acquisitions FROM sync_object WHERE kind = 8 AND addr = ? ORDER BY first_ns",
                       (addr(info, "y"),)).fetchall()
    eq([r[0] for r in rows], [0, 8], "shared slots: y made again is one object of both processes, 8 acquisitions")


def t_pshared_cond(ctx, r=20):
    """fx-pshared-cond: a parent and its forked child take turns through a process-shared condition
    variable: one object for both, and each wait on it (2r - 1 at least) ended by the other process's
    signal (the signaller sees the other process's waiters in glibc's own count)."""
    con, info, _ = ctx.imported("pshared-cond", [r])
    obj = one(con, "SELECT object_id FROM sync_object WHERE kind = 6 AND addr = ?", addr(info, "cond"))
    eq(one(con, "SELECT count(*) FROM sync_object WHERE kind = 6 AND addr = ?", addr(info, "cond")), 1,
       "pshared-cond: one row for the condition variable of both processes")
    waits, linked = linked_waits(con, obj, 4, 2)  # cond_wait, wakeup
    ok(len(waits) >= 2 * r - 1 and len({w[1] for w in waits}) == 2,
       "pshared-cond: %d waits on it (at least %d), from both processes" % (len(waits), 2 * r - 1))
    # (glibc may wake a waiter with no signal: such a wait has none to link, allowed for a tenth)
    ok(waits and len(linked) >= len(waits) - len(waits) // 10,
       "pshared-cond: %d of the %d waits have a wakeup flow from the other process's signal, their waker"
       % (len(linked), len(waits)), [w for w in waits if w not in linked][:5])


def t_pshared_threads(ctx, n=20):
    """fx-pshared N 2: the 4 children's 2 threads each take turns on the process-shared mutex with the
    threads of their own process and of the others: a wait is linked to the last release before its end,
    whichever process made it (not the last of its own process's: a hand-off goes to one waiter)."""
    con, info, _ = ctx.imported("pshared", [n, 2])
    obj = one(con, "SELECT object_id FROM sync_object WHERE kind = 1 AND addr = ?", addr(info, "mutex"))
    eq(one(con, "SELECT acquisitions FROM sync_object WHERE object_id = ?", obj), 8 * n + 1,
       "pshared 2 threads: acquired 8n + 1 times")
    waits = con.execute("SELECT utid, start_ns + dur_ns FROM thread_state WHERE object_id = ? AND state = 1 "
                        "AND result = 0", (obj,)).fetchall()
    flows = con.execute("SELECT from_utid, from_ns, to_utid, to_ns FROM flow WHERE kind = 1 AND object_id = ?",
                        (obj,)).fetchall()
    by_wait = {(f[2], f[3]): f for f in flows}
    rels = sorted({(f[1], f[0]) for f in flows})
    stale = [w for w in waits if (w[0], w[1]) in by_wait and
             any(by_wait[(w[0], w[1])][1] < ns < w[1] and u not in (w[0], by_wait[(w[0], w[1])][0]) for ns, u in rels)]
    linked = [w for w in waits if (w[0], w[1]) in by_wait]
    ok(waits and len(linked) >= len(waits) - len(waits) // 10 and not stale,
       "pshared 2 threads: %d of %d waits linked, none to a release another one's came after (%d)"
       % (len(linked), len(waits), len(stale)), stale[:5])
    # (which waiter the kernel wakes is the scheduler's: on a loaded machine the futex queue can settle
    # into an order where every hand-off crosses processes, so only the crossing ones are certain)
    cross = sum(1 for f in flows if ctx_upid(con, f[0]) != ctx_upid(con, f[2]))
    ok(0 < cross <= len(flows), "pshared 2 threads: hand-offs across processes (%d of %d across)"
       % (cross, len(flows)))


def ctx_upid(con, utid):
    return one(con, "SELECT upid FROM thread WHERE utid = ?", utid)


def t_vfork(ctx):
    # vfork is not wrapped: the exec'd child's image has no FORK record of the
    # parent's; the import still links it with a fork flow from the parent's
    # main thread at the child's start (so the critical path reaches it)
    con, info, _ = ctx.imported("vfork")
    p, c1 = int(info["parent"]), int(info["child1"])
    up = one(con, "SELECT upid FROM process WHERE pid = ?", p)
    cu = one(con, "SELECT upid FROM process WHERE pid = ? AND image = 0", c1)
    eq(one(con, "SELECT parent_upid FROM process WHERE upid = ?", cu), up, "vfork: the exec'd child's parent")
    pm = one(con, "SELECT utid FROM thread WHERE upid = ? AND is_main", up)
    cm, cstart = con.execute("SELECT utid, start_ns FROM thread WHERE upid = ? AND is_main", (cu,)).fetchone()
    eq(con.execute("SELECT from_utid, from_ns, to_utid, to_ns FROM flow WHERE kind = 7").fetchall(),
       [(pm, cstart, cm, cstart)], "vfork: one fork flow, from the parent's main thread at the child's start")
    eq(one(con, "SELECT count(*) FROM flow WHERE kind = 9"), 1, "vfork: one wait flow (child 2 never ran)")


def t_killed(ctx):
    con, info, rc = ctx.imported("killme", [300, "wait"], kill_after_ready=True)
    eq(rc, -9, "killme: killed")
    eq(one(con, "SELECT end_how FROM process"), "killed", "killme: process end_how")
    m = one(con, "SELECT object_id FROM sync_object WHERE addr = ?", addr(info, "mutex"))
    eq(one(con, "SELECT acquisitions FROM sync_object WHERE object_id = ?", m), 300,
       "killme: the lock pairs before the kill are there (written when the thread blocked in a wait)")


def t_io_pipe(ctx):
    """fx-io with WEFT_IO=1: main's read on the pipe is ended by the writer thread's write: one pipe flow
    from the writer (at the write, before the read ended) to main (at the read's end), and the writer is
    the read's waker. The writer's sums: 5 bytes in one write."""
    con, info, _ = ctx.imported("io", env={"WEFT_IO": "1"})
    main, wr = utid_of(con, info["main_tid"]), utid_of(con, info["writer_tid"])
    flows = con.execute("SELECT from_utid, from_ns, to_utid, to_ns FROM flow WHERE kind = 10").fetchall()
    eq([(f[0], f[2]) for f in flows], [(wr, main)], "io: one pipe flow, writer -> main")
    if len(flows) == 1:
        fs, fe = flows[0][1], flows[0][3]
        w = con.execute("SELECT start_ns, waker_utid FROM thread_state WHERE utid = ? AND state = 9 "
                        "AND start_ns + dur_ns = ?", (main, fe)).fetchall()
        ok(len(w) == 1 and w[0][0] <= fs <= fe, "io: the flow leaves at the write, inside main's wait on the pipe, "
           "and arrives at its end", (w, flows))
        ok(len(w) == 1 and w[0][1] == wr, "io: the writer is that wait's waker", w)
    sums = con.execute("SELECT utid, pipe_bytes, pipe_writes, pipe_messages FROM thread "
                       "WHERE pipe_writes > 0").fetchall()
    eq(sums, [(wr, 5, 1, 1)], "io: the writer's one write of 5 bytes to the pipe, one message; nobody else's")
    con.close()


def t_annotate(ctx, n=10):
    con, info, rc = ctx.imported("annotate", [n])
    eq(rc, 0, "annotate: exit status")
    eq(con.execute("SELECT name, acquisitions FROM sync_object WHERE addr = ?", (addr(info, "lock"),)).fetchall(),
       [("work queue", n + 1)], "annotate: the lock has the name the program gave it")
    marks = con.execute("SELECT id, label, dur_ns > 0 FROM mark ORDER BY start_ns").fetchall()
    eq(marks, [(1, "setup", 1), (2, "work", 1), (0, "halfway", 0)], "annotate: phases and the instant mark")
    inside = one(con, "SELECT count(*) FROM mark a JOIN mark b ON b.label = 'halfway' WHERE a.label = 'work' "
                      "AND b.start_ns BETWEEN a.start_ns AND a.start_ns + a.dur_ns")
    eq(inside, 1, "annotate: the mark lies inside the work phase")
    # without the agent the program runs the same
    r = subprocess.run([ctx.fx["annotate"], str(n)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    eq((r.returncode, r.stdout), (0, b"annotate pairs=%d\n" % (n + 1)), "annotate: runs without the agent")


def t_reuse(ctx, n=20):
    """A mutex destroyed and initialised again at the same address is a second object."""
    con, info, rc = ctx.imported("reuse", [n])
    rows = con.execute("SELECT acquisitions, contended, wait_ns > 0 FROM sync_object WHERE addr = ? AND kind = 1 "
                       "ORDER BY first_ns", (addr(info, "m"),)).fetchall()
    eq(rows, [(2, 1, 1), (n, 0, 0)], "reuse: two lives of one address, the first contended once, the second never")


def t_execfail(ctx, n=100):
    """The snapshot of the other threads' counts written before an exec that failed is dropped:
    exactly 2n acquisitions, all the worker's."""
    con, info, rc = ctx.imported("execfail", [n])
    m = one(con, "SELECT object_id FROM sync_object WHERE addr = ?", addr(info, "mutex"))
    eq(one(con, "SELECT acquisitions FROM sync_object WHERE object_id = ?", m), 2 * n,
       "execfail: the acquisitions, without the snapshot at the failed exec")
    eq(con.execute("SELECT t.tid, sum(c.acquisitions) FROM lock_count c JOIN thread t USING (utid) "
                   "WHERE c.object_id = ? GROUP BY t.tid", (m,)).fetchall(), [(int(info["worker_tid"]), 2 * n)],
       "execfail: counted for the worker")


def t_lost(ctx, n=200000):
    """A file size limit (RLIMIT_FSIZE) stands in for a full disk: the program runs on
    unharmed (no SIGXFSZ), and what could not be written is counted, not hidden. By
    default the pairs are counted, a few records: nothing is lost. With every hold
    recorded (WEFT_HOLDS=all) most of the RELs do not fit."""
    import resource
    lim = 100 * 1024
    for holds in ("contended", "all"):
        out = tempfile.mkdtemp(dir=ctx.tmp, prefix="lost-%s-" % holds)
        e = dict(os.environ, WEFT_OUTPUT=out, LD_PRELOAD=ctx.agent, WEFT_HOLDS=holds)
        r = subprocess.run([ctx.fx["uncontended"], str(n)], env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (lim, lim)), timeout=60)
        eq((r.returncode, r.stdout), (0, b"uncontended n=%d counter=%d\n" % (n, n)),
           "lost (%s): the program is unharmed" % holds)
        sizes = [os.path.getsize(os.path.join(out, f)) for f in os.listdir(out)]
        ok(sizes and max(sizes) <= lim, "lost (%s): the trace stays within the limit" % holds, sizes)
        db = out + ".db"
        r = ctx.weft("import", out, "-o", db, "--quiet")
        ok(r.returncode == 0, "lost (%s): the recording imports" % holds, r.stderr)
        con = sqlite3.connect(db)
        lost = int(one(con, "SELECT value FROM meta WHERE key = 'lost_events'"))
        obj, pairs = con.execute("SELECT object_id, acquisitions FROM sync_object WHERE kind = 1 "
                                 "ORDER BY acquisitions DESC LIMIT 1").fetchone()
        holds_rec = one(con, "SELECT coalesce(sum(holds), 0) FROM hold_block WHERE object_id = ?", obj)
        if holds == "contended":
            eq((lost, pairs, holds_rec), (0, n, 0), "lost (contended): nothing lost, the %d pairs counted" % n)
        else:
            ok(lost > 0 and holds_rec + lost >= n and pairs <= n,
               "lost (all): %d holds recorded + %d records counted as lost cover the %d pairs (%d counted)"
               % (holds_rec, lost, n, pairs))


def t_create_flows(ctx, n=8, runs=4):
    """Every thread made by pthread_create has one create flow from its creator, never
    backwards, even when it started (or ended) before pthread_create returned and the CREATE
    record was written: the k-th create of a pthread_t by a thread is the k-th thread started
    with that pthread_t and creator."""
    for i in range(runs):
        con, info, rc = ctx.imported("whatif", ["sharded", n, 1, 0, 0])
        made = con.execute("SELECT count(*) FROM thread WHERE creator_utid IS NOT NULL").fetchone()[0]
        flows = con.execute("SELECT count(DISTINCT to_utid), count(*), coalesce(sum(from_ns > to_ns), 0), "
                            "coalesce(sum(f.from_utid != t.creator_utid), 0) FROM flow f JOIN thread t "
                            "ON t.utid = f.to_utid WHERE f.kind = 5").fetchone()
        eq((made, flows), (n, (n, n, 0, 0)),
           "create flows (run %d): %d threads made, each with one create flow from its creator, forwards" % (i, n))


def t_hold_spill(ctx):
    """Past a number of rows a file's holds and thread states are sorted in runs in a temporary
    file and merged from there (util/weft-spill.c: bounded memory): the blocks, the thread
    states and their summaries are the same as when they all fit in memory.
    WEFT_IMPORT_HOLD_SPILL and WEFT_IMPORT_STATE_SPILL make the runs small here (97 and 61 rows,
    so they split objects and threads)."""
    for name, args in (("uncontended", [3000]), ("rwlock", []), ("contended", [2000])):
        d, info, rc = ctx.record(name, args, env={"WEFT_HOLDS": "all"})
        got, states, sums = {}, {}, {}
        for spill in (None, "97"):
            db = d + ".%s.db" % (spill or "mem")
            env = dict(os.environ)
            if spill:
                env["WEFT_IMPORT_HOLD_SPILL"] = spill
                env["WEFT_IMPORT_STATE_SPILL"] = "61"
            r = subprocess.run([ctx.weft_bin, "import", d, "-o", db, "--quiet"], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=120)
            ok(r.returncode == 0, "hold spill (%s, %s): weft import" % (name, spill or "in memory"), r.stderr)
            c = ctx.weft("check", db)
            ok(c.returncode == 0, "hold spill (%s, %s): weft check" % (name, spill or "in memory"), c.stdout)
            con = sqlite3.connect(db)
            got[spill] = list(weftholds.holds(con))
            states[spill] = con.execute("SELECT * FROM thread_state ORDER BY utid, start_ns").fetchall()
            sums[spill] = con.execute("SELECT * FROM state_summary ORDER BY utid, level, bucket, state").fetchall()
        ok(len(got[None]) > 3 * 97, "hold spill (%s): enough holds for several runs (%d)" % (name, len(got[None])))
        eq(got["97"], got[None], "hold spill (%s): the same holds, in the same blocks order" % name)
        if name == "contended":  # the others wait too little to fill a run of states
            ok(len(states[None]) > 3 * 61 and len(sums[None]) > 0,
               "state spill (%s): enough states for several runs (%d), summaries (%d)"
               % (name, len(states[None]), len(sums[None])))
        eq(states["97"], states[None], "state spill (%s): the same thread states" % name)
        eq(sums["97"], sums[None], "state spill (%s): the same summaries (%d rows)" % (name, len(sums[None])))


def import_spilled(ctx, d, what, var, bounds):
    """d imported in memory, then with the environment variable var set to each of bounds (rows
    kept in memory before they go to a temporary file): the connections by bound (None: in
    memory), and a check that every database is the same, row for row, as the one made in memory."""
    cons, dumps = {}, {}
    for spill in (None,) + tuple(bounds):
        db = d + ".%s.db" % (spill or "mem")
        env = dict(os.environ)
        if spill:
            env[var] = spill
        r = subprocess.run([ctx.weft_bin, "import", d, "-o", db, "--quiet"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        ok(r.returncode == 0, "%s, %s: weft import" % (what, spill or "in memory"), r.stderr)
        cons[spill] = sqlite3.connect(db)
        dumps[spill] = list(cons[spill].iterdump())
    for spill in bounds:
        ok(dumps[spill] == dumps[None], "%s, %s: the same database as in memory (%d lines)"
           % (what, spill, len(dumps[None])))
    return cons


def t_stamp_spill(ctx):
    """Past a number of stamps a file's releases and signals (what pass 2 searches for the thread
    that ended each wait) go through the external sort and are read back from a temporary file
    (analyzer/import/stamps.c: bounded memory): the database is the same, row for row, as when
    they stay in memory. WEFT_IMPORT_STAMP_SPILL=5 spills every file at its first stamps, 61
    makes runs of 61 rows after some stamps were kept in memory."""
    cases = (("contended", [2000], {}), ("contended", [500], {"WEFT_HOLDS": "all"}), ("condvar", [40], {}),
             ("sem", [], {}), ("rwlock", [], {"WEFT_HOLDS": "all"}))
    for name, args, renv in cases:
        what = "stamp spill (%s%s" % (name, " (holds all)" if renv else "")
        d, info, rc = ctx.record(name, args, env=renv)
        cons = import_spilled(ctx, d, what + ")", "WEFT_IMPORT_STAMP_SPILL", ("61", "5"))
        flows = one(cons[None], "SELECT count(*) FROM flow WHERE kind IN (1, 2, 4)")
        ok(flows > 0, "%s): waits ended by a release or signal (%d flows)" % (what, flows))


def t_wait_spill(ctx):
    """A file's barrier waits go through an external sort into rounds (analyzer/import/barriers.c),
    and the starts of its lock waits through another, met with the releases
    (analyzer/import/waitstarts.c); their answers, sorted by thread, are read back in each thread's
    order (by-thread.c), from a temporary file past a bound: memory that does not grow with the
    waits. A pipe's writes and the reads that waited on it are matched through sorts too (link.c). Each round of T threads gives T - 1 flows from its last arrival; in fx-contended with no
    hold sampled, each of the K holds the waiter waited for is untimed and begins where the wait
    did, so the lock's hold time is at least the sum of (release - wait start)."""
    for threads, rounds in ((4, 50), (3, 200)):
        d, info, rc = ctx.record("barrier", [threads, rounds])
        what = "barrier %d x %d" % (threads, rounds)
        for spill, con in import_spilled(ctx, d, "wait spill (%s)" % what, "WEFT_IMPORT_WAIT_SPILL", ("1", "7")).items():
            eq(one(con, "SELECT count(*) FROM flow WHERE kind = 3"), (threads - 1) * rounds,
               "wait spill (%s, %s): barrier flows" % (what, spill or "in memory"))
    d, info, rc = ctx.record("io", env={"WEFT_IO": "1"})
    for spill, con in import_spilled(ctx, d, "wait spill (io)", "WEFT_IMPORT_WAIT_SPILL", ("1", "7")).items():
        eq(one(con, "SELECT count(*) FROM flow WHERE kind = 10"), 1,
           "wait spill (io, %s): the read's pipe flow from the writer" % (spill or "in memory"))
    k = 300
    d, info, rc = ctx.record("contended", [k], env={"WEFT_HOLD_SAMPLE": "0"})
    for spill, con in import_spilled(ctx, d, "wait spill (contended %d)" % k, "WEFT_IMPORT_WAIT_SPILL",
                                     ("1", "7")).items():
        how = "wait spill (contended %d, %s)" % (k, spill or "in memory")
        eq(one(con, "SELECT value FROM meta WHERE key = 'holds_estimated'"), str(k), how + ": untimed holds")
        spans = one(con, "SELECT (SELECT sum(from_ns) FROM flow WHERE kind = 1) - "
                         "(SELECT sum(start_ns) FROM thread_state WHERE state = 1)")
        held = one(con, "SELECT hold_ns FROM sync_object WHERE name = 'mutex'")
        ok(spans and held >= spans > 0, how + ": each untimed hold begins at the wait for it (%s ns held, "
           "%s ns from the waits' starts to the releases)" % (held, spans))


def t_all_fixtures_check(ctx):
    for name in ("uncontended", "rwlock", "sem", "names", "threadexit", "detach", "exitthreads", "vfork", "spawn",
                 "mutextypes", "early"):
        if name in ctx.fx:
            con, info, rc = ctx.imported(name)
            ok(one(con, "SELECT count(*) FROM thread") >= 1, "%s: threads imported" % name)
            over = con.execute("SELECT tid, cpu_ns, end_ns - start_ns FROM thread WHERE cpu_ns > end_ns - start_ns "
                               "+ 1000000").fetchall()
            eq(over, [], "%s: no thread is on a CPU for longer than it lived" % name)


def t_file_modes(ctx):
    """The database holds every process's command line and names: it is made
    0600 like the trace files, whatever the umask (issue 11, item 11), by
    weft import and by weft record, and so is a database replaced with --force."""
    d, _, _ = ctx.record("uncontended", [10])
    db = d + ".db"
    umask0 = lambda: os.umask(0)  # noqa: E731
    r = subprocess.run([ctx.weft_bin, "import", d, "-o", db, "--quiet"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120, preexec_fn=umask0)
    mode = os.stat(db).st_mode & 0o7777 if os.path.exists(db) else None
    ok(r.returncode == 0 and mode == 0o600, "import under umask 000: the database is 0600",
       "exit %d, mode %s, %s" % (r.returncode, oct(mode) if mode is not None else None, r.stderr))
    os.chmod(db, 0o644)
    r = subprocess.run([ctx.weft_bin, "import", d, "-o", db, "--quiet", "--force"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120, preexec_fn=umask0)
    mode = os.stat(db).st_mode & 0o7777
    ok(r.returncode == 0 and mode == 0o600, "import --force under umask 000: the new database is 0600",
       "exit %d, mode %s, %s" % (r.returncode, oct(mode), r.stderr))
    rec = os.path.join(ctx.tmp, "modes-record.db")
    r = subprocess.run([ctx.weft_bin, "record", "-q", "-o", rec, "--", ctx.fx["uncontended"], "10"],
                       env=dict(os.environ, WEFT_AGENT=ctx.agent), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, preexec_fn=umask0)
    mode = os.stat(rec).st_mode & 0o7777 if os.path.exists(rec) else None
    ok(r.returncode == 0 and mode == 0o600, "record under umask 000: the database is 0600",
       "exit %d, mode %s, %s" % (r.returncode, oct(mode) if mode is not None else None, r.stderr))


def t_bad_input(ctx):
    empty = tempfile.mkdtemp(dir=ctx.tmp)
    r = ctx.weft("import", empty, "-o", empty + ".db")
    ok(r.returncode == 1 and empty.encode() in r.stderr and len(r.stderr.strip().splitlines()) == 1,
       "import of an empty directory: one line naming it, exit 1", r.stderr)
    ok(not os.path.exists(empty + ".db"), "no database is left behind")
    r = ctx.weft("import", ctx.tmp + "/missing", "-o", ctx.tmp + "/m.db")
    ok(r.returncode == 1 and b"missing" in r.stderr, "import of a missing directory", r.stderr)
    # a database that exists is not replaced without --force
    d, _, _ = ctx.record("uncontended", [10])
    db = d + ".db"
    open(db, "w").write("precious")
    r = ctx.weft("import", d, "-o", db)
    ok(r.returncode == 1 and open(db).read() == "precious", "an existing file is not overwritten", r.stderr)
    # files that are not weft databases
    for what, content in (("empty", b""), ("text", b"hello\n" * 100), ("foreign sqlite", None)):
        f = os.path.join(ctx.tmp, "bad-%s.db" % what.replace(" ", "-"))
        if content is None:
            c = sqlite3.connect(f)
            c.execute("CREATE TABLE t(x)")
            c.commit()
            c.close()
        else:
            open(f, "wb").write(content)
        r = ctx.weft("check", f)
        ok(r.returncode == 1 and f.encode() in r.stderr and b"not a weft database" in r.stderr or
           (what == "empty" and b"empty" in r.stderr), "check rejects a %s file" % what, r.stderr)
    # a truncated database
    good_dir, _, _ = ctx.record("uncontended", [100])
    good = good_dir + ".db"
    ctx.weft("import", good_dir, "-o", good, "--quiet")
    data = open(good, "rb").read()
    cut = os.path.join(ctx.tmp, "cut.db")
    open(cut, "wb").write(data[: len(data) // 3])
    r = ctx.weft("check", cut)
    ok(r.returncode == 1 and b"cut.db: truncated weft database" in r.stderr and len(r.stderr.splitlines()) == 1,
       "check on a truncated db says it is truncated, in one line", r.stderr)
    # a trace file cut short still imports (with a warning)
    tdir = tempfile.mkdtemp(dir=ctx.tmp)
    src = [f for f in os.listdir(good_dir) if f.endswith(".wtrace")][0]
    raw = open(os.path.join(good_dir, src), "rb").read()
    open(os.path.join(tdir, src), "wb").write(raw[: 4096 + 2000])
    r = ctx.weft("import", tdir, "-o", tdir + ".db")
    ok(r.returncode == 0 and b"truncated" in r.stderr, "a truncated trace imports with a warning", r.stderr)
    # a foreign file named .wtrace
    fdir = tempfile.mkdtemp(dir=ctx.tmp)
    open(os.path.join(fdir, "1.0.wtrace"), "wb").write(b"\x7fELF" + b"\0" * 5000)
    r = ctx.weft("import", fdir, "-o", fdir + ".db")
    ok(r.returncode == 1 and b"1.0.wtrace" in r.stderr, "a foreign .wtrace file is rejected by name", r.stderr)


def first_sync_record(path):
    """The offset and word 0 of the first ACQ/WAIT_BEGIN/WAIT_END/REL record of a trace, and the offset of
    its second chunk (None if it has one chunk)."""
    data = open(path, "rb").read()
    off, found, second = 4096, None, None
    while off + 32 <= len(data):
        magic, size = struct.unpack_from("<II", data, off)
        if magic == 0:
            off += 4096
            continue
        if off > 4096 and second is None:
            second = off
        p = off + 32
        while found is None and p + 8 <= min(off + size, len(data)):
            w0 = struct.unpack_from("<Q", data, p)[0]
            if w0 == 0:
                break
            if (w0 & 0xff) in (20, 21, 22, 23):
                found = (p, w0)
            p += ((w0 >> 8) & 0xff) * 8
        off += size
    return found, second


def t_corrupt(ctx):
    """A corrupt trace file fails the import with one line naming the file and the offset, and leaves no
    database; --salvage imports what precedes the fault, with a warning, and the report says so."""
    import struct
    d, _, _ = ctx.record("contended", [20])
    main = [f for f in trace_files(d) if f.endswith(".0.wtrace")][0]
    path = os.path.join(d, main)
    found, second = first_sync_record(path)
    if not ok(found is not None, "the recording has a sync record to break"):
        return
    at, w0 = found
    data = bytearray(open(path, "rb").read())
    struct.pack_into("<Q", data, at, w0 & ~(0x1f << 16))   # kind none
    open(path, "wb").write(data)
    db = d + ".db"
    r = ctx.weft("import", d, "-o", db)
    err = r.stderr.decode(errors="replace")
    want = "weft import: %s: offset %d: " % (path, at)
    ok(r.returncode == 1 and len(err.splitlines()) == 1 and err.startswith(want) and "of kind none" in err,
       "a sync record of kind none: exit 1, one line naming the file and offset %d" % at, err)
    ok(not os.path.exists(db), "no database is left behind")
    r = ctx.dump(path)
    ok(r.returncode == 1 and ("%s: offset %d: " % (path, at)).encode() in r.stderr,
       "weft-dump prints the error and exits 1", r.stderr)
    r = ctx.weft("import", d, "-o", db, "--salvage")
    err = r.stderr.decode(errors="replace")
    ok(r.returncode == 0 and os.path.exists(db) and ("%s: offset %d: " % (path, at)) in err and "salvaged" in err,
       "--salvage imports with a warning naming the offset", err)
    if os.path.exists(db):
        con = sqlite3.connect(db)
        meta = dict(con.execute("SELECT key, value FROM meta"))
        con.close()
        ok(str(meta.get("salvaged_files")) == "1" and ("offset %d" % at) in str(meta.get("salvaged")),
           "meta says the recording was salvaged", meta.get("salvaged"))
        r = ctx.weft("report", db)
        ok(r.returncode == 0 and b"SALVAGED" in r.stdout and b"corrupt trace file" in r.stdout,
           "weft report says the recording was salvaged", r.stdout[-2000:])
    # a bad chunk magic in the middle of the file
    if second is not None:
        data = bytearray(open(path, "rb").read())
        struct.pack_into("<Q", data, at, w0)
        struct.pack_into("<I", data, second, 0x4b484358)
        open(path, "wb").write(data)
        r = ctx.weft("import", d, "-o", db, "--force")
        err = r.stderr.decode(errors="replace")
        ok(r.returncode == 1 and len(err.splitlines()) == 1 and
           err.startswith("weft import: %s: offset %d: bad chunk magic" % (path, second)),
           "a bad chunk magic mid-file: exit 1, one line naming the offset", err)


def trace_files(d):
    return sorted(f for f in os.listdir(d) if f.endswith(".wtrace"))


def died(r):
    """'' for a command that exited, else which signal killed it."""
    return "" if r.returncode >= 0 else " (killed by signal %d)" % -r.returncode


def t_fifo(ctx):
    """Issue 11 item 10: a FIFO named *.wtrace is skipped with a warning, not opened (which would wait for a
    writer forever); weft-dump given the FIFO itself says what it is and fails. A hang is a timeout, a failure."""
    d, _, _ = ctx.record("uncontended", [10])
    fifo = os.path.join(d, "4242.0.wtrace")
    os.mkfifo(fifo)
    try:
        r = ctx.weft("import", d, "-o", d + ".db")
        warn = [l for l in r.stderr.decode().splitlines() if "4242.0.wtrace" in l]
        ok(r.returncode == 0 and warn == ["weft: %s: not a regular file (a FIFO): skipped" % fifo],
           "fifo: weft import skips it with one warning naming it", r.stderr)
        con = sqlite3.connect(d + ".db")
        eq(one(con, "SELECT count(*) FROM process"), 1, "fifo: the recording's own file is imported")
        con.close()
        r = ctx.dump("--stats", d)
        ok(r.returncode == 0 and b"files 1\n" in r.stdout and
           r.stderr.decode().splitlines() == ["weft-dump: %s: not a regular file (a FIFO): skipped" % fifo],
           "fifo: weft-dump of the directory skips it with a warning", r.stderr)
        r = ctx.dump(fifo)
        ok(r.returncode == 1 and r.stderr.decode().splitlines() == ["weft-dump: %s: not a regular file (a FIFO)" % fifo],
           "fifo: weft-dump of the FIFO itself: a one-line error, exit 1", r.stderr)
    except subprocess.TimeoutExpired as e:
        ok(False, "fifo: a FIFO in the recording hangs the readers", e)


def t_unwritable_output(ctx):
    """Issue 11 item 14: an -o in a directory the user may not write says so (not SQLite's "unable to open
    database file"). As root, run as nobody (root writes anywhere)."""
    d, _, _ = ctx.record("uncontended", [10])
    ro = tempfile.mkdtemp(dir=ctx.tmp, prefix="read-only-")
    os.chmod(ro, 0o555)
    for p in (ctx.tmp, d):
        os.chmod(p, os.stat(p).st_mode | 0o055)  # nobody may read the trace and enter the directories
    for f in os.listdir(d):
        os.chmod(os.path.join(d, f), 0o644)
    as_user = (lambda: (os.setgid(65534), os.setuid(65534))) if os.geteuid() == 0 else None
    weft = ctx.weft_bin
    if as_user:  # a copy nobody may run: the build directory may be in one nobody cannot enter (/root)
        weft = os.path.join(ctx.tmp, "weft-copy")
        shutil.copy(ctx.weft_bin, weft)
        os.chmod(weft, 0o755)
    out = os.path.join(ro, "x.db")
    r = subprocess.run([weft, "import", d, "-o", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120, preexec_fn=as_user)
    lines = r.stderr.decode().splitlines()
    ok(r.returncode != 0 and len(lines) == 1 and out in lines[0] and "Permission denied" in lines[0] and
       not os.path.exists(out), "unwritable -o: one line naming it with the reason, no database", r.stderr)


def t_empty_trace(ctx):
    """Issue 11 item 13: a 0-byte trace (a process killed before the agent wrote its header) is skipped
    with a warning naming it, not without a word."""
    d, _, _ = ctx.record("uncontended", [10])
    empty = os.path.join(d, "4243.0.wtrace")
    open(empty, "wb").close()
    r = ctx.weft("import", d, "-o", d + ".db")
    warn = [l for l in r.stderr.decode().splitlines() if "4243.0.wtrace" in l]
    ok(r.returncode == 0 and len(warn) == 1 and "empty" in warn[0] and "skipped" in warn[0],
       "empty trace: weft import skips it with one warning naming it", r.stderr)


def t_sessions(ctx):
    """Issue 11 item 5: two runs without weft record into one directory are two recordings. Each run (and
    the processes it starts) gets a session id of its own; weft import takes the latest and names the other,
    --session takes that one."""
    d = tempfile.mkdtemp(dir=ctx.tmp, prefix="two-runs-")
    e = dict(os.environ, WEFT_OUTPUT=d, LD_PRELOAD=ctx.agent)
    e.pop("WEFT_SESSION", None)
    runs = []
    for name, args in (("contended", ["5"]), ("forktree", [])):
        before = set(trace_files(d))
        r = subprocess.run([ctx.fx[name]] + args, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        ok(r.returncode == 0, "sessions: %s runs" % name, r.stderr)
        runs.append(set(trace_files(d)) - before)
    r = ctx.dump(d)
    sess = {}
    for line in r.stdout.decode().splitlines():
        m = re.match(r"# file (\S+) .* session=([0-9a-f]+) ", line)
        if m:
            sess[m.group(1)] = m.group(2)
    first, second = ({sess.get(f) for f in run} for run in runs)
    ok(r.returncode == 0 and len(first) == 1 and len(second) == 1 and first != second and None not in first | second,
       "sessions: each run has a session of its own, shared by the processes it started", (runs, sess))
    if not (len(first) == 1 and len(second) == 1):
        return
    (old,), (new,) = first, second
    r = ctx.weft("import", d, "-o", d + ".db")
    err = r.stderr.decode()
    ok(r.returncode == 0 and "holds 2 recordings; importing session %s" % new in err and
       "session %s (started " % old in err and "1 process)" in err and "--session ID" in err,
       "sessions: weft import takes the latest run and names the other one", err)
    con = sqlite3.connect(d + ".db")
    images = sum(1 for v in sess.values() if v == new)  # its process images: files and sections in them
    eq((one(con, "SELECT value FROM meta WHERE key = 'session'"), one(con, "SELECT count(*) FROM process")),
       (new, images), "sessions: only the latest run's processes are in the database")
    con.close()
    r = ctx.weft("import", d, "--session", old, "-o", d + "-old.db")
    con = sqlite3.connect(d + "-old.db")
    ok(r.returncode == 0 and one(con, "SELECT count(*) FROM process") == 1 and
       one(con, "SELECT value FROM meta WHERE key = 'session'") == old and
       "contended" in one(con, "SELECT exe FROM process"), "sessions: --session imports the other run", r.stderr)
    con.close()
    r = ctx.weft("import", d, "--session", "123", "-o", d + "-none.db")
    ok(r.returncode == 1 and len(r.stderr.splitlines()) == 1 and b"no trace file of session 0000000000000123" in
       r.stderr and not os.path.exists(d + "-none.db"), "sessions: a session that is not there: one line, exit 1",
       r.stderr)


def mount_tmpfs(ctx, size):
    """A new tmpfs of `size` on a directory of ctx.tmp; (None, why) when this machine cannot mount one."""
    mnt = tempfile.mkdtemp(dir=ctx.tmp, prefix="tmpfs-")
    try:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", mnt], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    if r.returncode != 0:
        return None, r.stderr.decode().strip() or "mount exit status %d" % r.returncode
    return mnt, None


def umount(mnt):
    subprocess.run(["umount", mnt], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)


# Run by the recorded python: its trace file goes into the recording with a hole
# (a sparse end, never written) and the session of the recording, then the disk is
# filled up. Reading that hole through a mapping needs a page the full tmpfs cannot
# give: the SIGBUS of issue 11 item 7, every time.
HOLE_SCRIPT = r"""
import os, struct, sys
src, filler = sys.argv[1], sys.argv[2]
data = bytearray(open(src, "rb").read())
data[48:56] = struct.pack("=Q", int(os.environ["WEFT_SESSION"], 16))
dst = os.path.join(os.environ["WEFT_OUTPUT"], "0.0.wtrace")
with open(dst, "wb") as f:
    f.write(data)
    f.truncate(len(data) + 256 * 1024)
with open(filler, "wb", buffering=0) as f:
    try:
        while True:
            f.write(bytes(4096))
    except OSError as e:
        if e.errno != 28:
            raise
"""


def fill_up(path):
    """Write to path until the disk has no page left."""
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(bytes(4096))
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise


# Reads every page of the trace files through a mapping, as the readers did: a hole
# on the full disk kills it with SIGBUS.
MAP_SCRIPT = r"""
import mmap, os, sys
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size:
            m = mmap.mmap(f.fileno(), size, prot=mmap.PROT_READ)
            for off in range(0, size, 4096):
                m[off]
"""


def t_full_disk(ctx):
    """Issue 11 item 7: a recording on a disk that fills up (a 2 MB tmpfs; skipped where none can be
    mounted). The readers never fault on what the disk left out, weft record keeps its recording, and the
    agent leaves no hole and counts what it loses."""
    mnt, why = mount_tmpfs(ctx, "2m")
    if not mnt:
        skip("full disk: readers, weft record and the agent on a 2 MB tmpfs", "cannot mount a tmpfs: %s" % why)
        return
    try:
        full_disk_readers(ctx, mnt)
        full_disk_agent(ctx, mnt)
    finally:
        umount(mnt)


def full_disk_readers(ctx, mnt):
    src_dir, _, _ = ctx.record("contended", [5])
    src = os.path.join(src_dir, trace_files(src_dir)[0])
    keep = os.path.join(mnt, "keep")
    db = os.path.join(ctx.tmp, "hole.db")
    r = subprocess.run([ctx.weft_bin, "record", "--keep-trace", keep, "-o", db, "--", sys.executable, "-c",
                        HOLE_SCRIPT, src, os.path.join(mnt, "filler")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    ok(r.returncode == 0 and os.path.exists(db), "full disk: weft record reads a hole in a trace on the full disk"
       + died(r), r.stderr)
    r = ctx.dump("--stats", keep)
    ok(r.returncode == 0 and b"records " in r.stdout, "full disk: so does weft-dump" + died(r), r.stderr)
    r = ctx.weft("import", keep, "-o", os.path.join(ctx.tmp, "hole2.db"))
    ok(r.returncode == 0, "full disk: and weft import" + died(r), r.stderr)
    shutil.rmtree(keep, ignore_errors=True)
    rm_f(os.path.join(mnt, "filler"))


def rm_f(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def full_disk_agent(ctx, mnt, threads=32, rounds=50000):
    # Threads that all need trace space at once on a disk that fills: the agent once gave offsets out
    # before it had the space, and when a reservation failed while a later one did not, the file kept a
    # hole (in about one run of three of these). Three runs, every one must be clean.
    problems = []
    for attempt in range(3):
        keep = os.path.join(mnt, "keep")
        db = os.path.join(ctx.tmp, "full-%d.db" % attempt)
        r = subprocess.run([ctx.weft_bin, "record", "--keep-trace", keep, "-o", db, "--holds", "all", "--",
                            ctx.fx["fill"], str(threads), str(rounds)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=120)
        err = r.stderr.decode()
        if r.returncode != 0 or "events were lost (the trace directory's disk was full)" not in err:
            problems.append("run %d: weft record exit %d%s: %s" % (attempt, r.returncode, died(r), err[-800:]))
        d = ctx.dump("--stats", keep)
        st = dict((l.split()[0], int(l.split()[1])) for l in d.stdout.decode().splitlines() if len(l.split()) == 2)
        counted = st.get("REL", 0) + st.get("lost", 0)
        if d.returncode != 0 or counted < threads * rounds:
            problems.append("run %d: weft-dump exit %d: REL + lost = %d, below the %d lock pairs"
                            % (attempt, d.returncode, counted, threads * rounds))
        fill_up(os.path.join(mnt, "filler"))
        m = subprocess.run([sys.executable, "-c", MAP_SCRIPT] + [os.path.join(keep, f) for f in trace_files(keep)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if m.returncode != 0:
            problems.append("run %d: a trace file has a hole: reading it through a mapping%s" % (attempt, died(m)))
        shutil.rmtree(keep, ignore_errors=True)
        rm_f(os.path.join(mnt, "filler"))
    ok(not problems, "full disk: the agent leaves no hole, counts every record it loses, weft record stores "
       "the rest (3 runs)", "\n".join(problems))


def py_trace(path, pid=4321):
    """A version 4 trace written by hand: the main thread's Python frames (ids 1 and 2 the same function,
    file and line: two threads defined it at once; 3 another), a stack naming them in mixed order with an
    undefined one (9) and a C frame, another naming id 2, and a sleep whose WAIT_END names the first.
    The clock is CLOCK_MONOTONIC: ticks are ns from 10 s."""
    t0 = 10 ** 10
    words = []

    def rec(typ, aux, dt, *w):
        words.append(typ | (len(w) + 1) << 8 | aux << 16 | dt << 32)
        words.extend(w)

    def strings(*ss):
        b = b"".join(x.encode() + b"\0" for x in ss)
        b += b"\0" * (-len(b) % 8)
        return struct.unpack("<%dQ" % (len(b) // 8), b)

    rec(10, 1, 0, 0x7f0000001000, 0, 0)                                    # THREAD_START, main
    rec(43, 0, 10, 1 | 28 << 32, 26, *strings("take", "/app/worker.py"))  # PY_FRAME 1: take, line 28
    rec(43, 0, 10, 2 | 28 << 32, 26, *strings("take", "/app/worker.py"))  # PY_FRAME 2: the same
    rec(43, 0, 10, 3 | 55 << 32, 49, *strings("Pool.run", "/app/pool.py"))
    c_ip = 0x400123
    rec(41, 0, 10, 1 | 5 << 32, c_ip, 1 << 63 | 1, 1 << 63 | 9, 1 << 63 | 3, c_ip + 8)  # STACK 1
    rec(41, 0, 10, 2 | 2 << 32, 1 << 63 | 2, c_ip)                                        # STACK 2
    rec(21, 13, 1000, 0, 0, 0)                   # WAIT_BEGIN sleep, no stack
    rec(22, 13, 5000000, 0, 0, 0, 1)             # WAIT_END sleep, w4 = stack 1
    rec(21, 13, 1000, 0, 2 << 32, 0)             # WAIT_BEGIN sleep, stack 2
    rec(22, 13, 5000000, 0, 0)                   # WAIT_END
    rec(11, 0, 1000, 0x7f0000001000)             # THREAD_EXIT
    rec(33, 0, 10, 0)                            # EXIT 0
    hdr = bytearray(4096)
    struct.pack_into("<8sIIII", hdr, 0, b"WEFTTRC\0", 4, 0x01020304, 4096, 2)
    struct.pack_into("<QIIII", hdr, 24, 1 << 7, pid, 1, 0, 1)          # features: Python frames
    struct.pack_into("<QQQQQQII", hdr, 48, 0x5e55, t0, t0, 10 ** 9, 0, 0, 0, 50)
    chunk = bytearray(4096)
    struct.pack_into("<IIIIQQ", chunk, 0, 0x4b484357, 4096, pid, 0, t0, t0)
    struct.pack_into("<%dQ" % len(words), chunk, 32, *words)
    with open(path, "wb") as f:
        f.write(hdr + chunk)


def t_python_frames(ctx):
    """trace v4: Python frames become frame rows, each stack's Python frames first"""
    d = tempfile.mkdtemp(dir=ctx.tmp, prefix="pyframes-")
    py_trace(os.path.join(d, "4321.0.wtrace"))
    db = d + ".db"
    r = ctx.weft("import", d, "-o", db, "--quiet")
    if not ok(r.returncode == 0, "python frames: weft import", r.stderr.decode()):
        return
    c = ctx.weft("check", db)
    ok(c.returncode == 0, "python frames: weft check", c.stdout.decode() + c.stderr.decode())
    con = sqlite3.connect(db)
    frames = con.execute("SELECT symbol, file, line, module_id, rel_pc, ip < 0 FROM frame WHERE symbol IS NOT NULL "
                         "ORDER BY symbol").fetchall()
    eq(frames, [("Pool.run", "/app/pool.py", 55, None, None, 1), ("take", "/app/worker.py", 28, None, None, 1)],
       "python frames: one row per function, file and line; no module, a negative ip")
    stacks = {}
    for sid, depth, sym, ip in con.execute("SELECT sf.stack_id, sf.depth, f.symbol, f.ip FROM stack_frame sf "
                                           "JOIN frame f USING (frame_id) ORDER BY sf.stack_id, sf.depth"):
        stacks.setdefault(sid, []).append(sym or hex(ip))
    eq(sorted(stacks.values()), [["take", "0x400123"], ["take", "Pool.run", "0x400123", "0x40012b"]],
       "python frames: Python frames first, in order, then the C frames; an undefined one left out")
    eq(sorted(r[0] for r in con.execute("SELECT depth FROM stack")), [2, 4], "python frames: stack depths")
    sleeps = con.execute("SELECT ts.dur_ns, f.symbol, s.depth FROM thread_state ts JOIN stack s USING (stack_id) "
                         "JOIN stack_frame sf ON sf.stack_id = ts.stack_id AND sf.depth = 0 "
                         "JOIN frame f USING (frame_id) WHERE ts.state = 10 ORDER BY ts.start_ns").fetchall()
    eq(sleeps, [(5000000, "take", 4), (5000000, "take", 2)],
       "python frames: the sleeps' stacks, from WAIT_END w4 and from WAIT_BEGIN")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--weft", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("fixtures", nargs="*")
    args = ap.parse_args()
    ctx = Ctx(args)
    tests = [t_contended, t_create_flows, t_fork_child_symbols, t_report_site, t_report_timeouts, t_barrier, t_condvar, t_futex, t_forktree, t_pshared, t_pshared_threads, t_pshared_rwlock, t_pshared_untouched, t_pshared_remade, t_pshared_generations, t_shared_slots, t_pshared_cond, t_vfork,
             t_killed, t_io_pipe, t_annotate, t_reuse, t_execfail, t_lost, t_hold_spill, t_stamp_spill, t_wait_spill,
             t_all_fixtures_check,
             t_file_modes, t_bad_input, t_fifo, t_empty_trace,
             t_unwritable_output, t_sessions, t_full_disk, t_corrupt, t_python_frames]
    try:
        for t in tests:
            try:
                t(ctx)
            except Exception as e:  # a crash in a test is a failure, not a pass
                import traceback
                ok(False, "%s raised %s" % (t.__name__, e), traceback.format_exc())
    finally:
        if all(results):
            shutil.rmtree(ctx.tmp, ignore_errors=True)
        else:
            print("# kept %s" % ctx.tmp)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
