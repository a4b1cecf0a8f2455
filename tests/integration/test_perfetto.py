#!/usr/bin/env python3
# test_perfetto.py - weft export --format perfetto: the protobuf trace decoded
# and compared with the database and with the Chrome JSON export.
# SPDX-License-Identifier: MIT
#
# usage: test_perfetto.py --weft WEFT -- FIXTURE-EXES...
# Prints TAP; --only NAME runs the tests whose function name contains NAME;
# --keep keeps the directory.
#
# No protobuf library: a protobuf wire-format reader of a few lines, and the
# field numbers of github.com/google/perfetto's protos/perfetto/trace/*.proto
# written out below (trace_processor is not in Debian, so the decoder is the
# reader here). Checked, on fixtures recorded with weft record:
#   - framing: the file is exactly a sequence of Trace.packet fields; one
#     sequence id; the first packet clears the incremental state and every
#     TrackEvent packet says it needs it;
#   - interning: every iid is defined before its first use, in the same
#     sequence, and each distinct string is interned once;
#   - tracks: one ProcessDescriptor per process image (unique pids, named as
#     the Chrome export names them), one ThreadDescriptor per thread;
#   - slices: on each thread's track as many as its thread_state rows (its
#     waits with --no-running), begin and end balanced; every slice, hold,
#     mark and flow is the same as the Chrome export's event (names,
#     categories, exact ns times, the annotations object, blocker, waker,
#     result, where), so the two formats cannot drift apart;
#   - flows: each flow id starts once (flow_ids) on its source thread and ends
#     once (terminating_flow_ids) on its target, not before it starts, inside
#     a slice of the thread; --no-holds and --no-flows leave them out;
#   - strings that are not UTF-8 come out with U+FFFD, as in the JSON.
import argparse
import bisect
import collections
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

from weftholds import _uleb as varint  # the one LEB128 reader of the tests
from weftlib import results, ok, eq, one, clean_env, attempt, cleanup, plan

TIMEOUT = 120

# ---------------------------------------------------------------- the wire format


def fields(buf):
    """(field number, wire type, value) of each field of a message: an int
    for varints and fixed64, bytes for length-delimited fields."""
    out = []
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(buf, i)
        elif wire == 1:
            v, i = int.from_bytes(buf[i:i + 8], "little"), i + 8
        elif wire == 2:
            n, i = varint(buf, i)
            v, i = bytes(buf[i:i + n]), i + n
            if i > len(buf):
                raise ValueError("a length-delimited field runs past its message")
        elif wire == 5:
            v, i = int.from_bytes(buf[i:i + 4], "little"), i + 4
        else:
            raise ValueError("wire type %d" % wire)
        out.append((num, wire, v))
    if i != len(buf):
        raise ValueError("a field runs past its message")
    return out


def msg(buf):
    """field number -> list of values."""
    d = collections.defaultdict(list)
    for num, _, v in fields(buf):
        d[num].append(v)
    return d


def first(m, num, default=None):
    return m[num][0] if m.get(num) else default


def s64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def text(b):
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else (b or "")


# Field numbers (protos/perfetto/trace/...): Trace.packet 1; TracePacket timestamp 8,
# trusted_packet_sequence_id 10, track_event 11, interned_data 12, sequence_flags 13,
# track_descriptor 60; TrackDescriptor uuid 1, name 2, process 3, thread 4, parent_uuid 5;
# ProcessDescriptor pid 1, process_name 6; ThreadDescriptor pid 1, tid 2, thread_name 5;
# TrackEvent category_iids 3, debug_annotations 4, type 9, name_iid 10, track_uuid 11,
# flow_ids 47, terminating_flow_ids 48; DebugAnnotation name_iid 1, bool_value 2,
# int_value 4, string_value_iid 17; InternedData event_categories 1, event_names 2,
# debug_annotation_names 3, debug_annotation_string_values 29 (each {iid 1, name 2}).
SLICE_BEGIN, SLICE_END, INSTANT = 1, 2, 3
INTERNED_KINDS = {1: "cat", 2: "name", 3: "arg", 29: "str"}


class Trace:
    """A decoded trace: tracks, events with their strings resolved, and what
    went wrong with framing or interning (self.errors)."""

    def __init__(self, data):
        self.errors = []
        self.procs = {}    # uuid -> (pid, name)
        self.threads = {}  # uuid -> (pid, tid, name)
        self.tracks = {}   # uuid -> (parent uuid, name)
        self.events = []   # dicts in file order
        self.interned = collections.Counter()  # (kind, string) -> times interned
        self.flags = []
        iids = {k: {} for k in INTERNED_KINDS.values()}
        top = fields(data)
        if any(num != 1 or wire != 2 for num, wire, _ in top):
            self.errors.append("a top-level field is not Trace.packet")
        seqs = set()
        for n, (_, _, body) in enumerate(top):
            p = msg(body)
            seqs.add(first(p, 10))
            self.flags.append(first(p, 13, 0))
            for idata in p.get(12, []):
                for num, _, entry in fields(idata):
                    e = msg(entry)
                    kind = INTERNED_KINDS[num]
                    iid, s = first(e, 1), first(e, 2).decode("utf-8")  # strict: must be UTF-8
                    if iid in iids[kind]:
                        self.errors.append("%s iid %d defined twice" % (kind, iid))
                    iids[kind][iid] = s
                    self.interned[(kind, s)] += 1
            if 60 in p:
                self.descriptor(msg(p[60][0]))
            if 11 in p:
                self.event(msg(p[11][0]), s64(first(p, 8)), iids, n)
        if seqs != {1}:
            self.errors.append("sequence ids %r" % seqs)

    def descriptor(self, d):
        uuid = first(d, 1)
        if 3 in d:
            pd = msg(d[3][0])
            self.procs[uuid] = (s64(first(pd, 1)), first(pd, 6).decode("utf-8"))
        elif 4 in d:
            td = msg(d[4][0])
            self.threads[uuid] = (s64(first(td, 1)), s64(first(td, 2)), first(td, 5).decode("utf-8"))
        else:
            self.tracks[uuid] = (first(d, 5), first(d, 2).decode("utf-8"))

    def lookup(self, iids, kind, iid):
        if iid not in iids[kind]:
            self.errors.append("%s iid %r used before it is defined" % (kind, iid))
            return None
        return iids[kind][iid]

    def event(self, te, ts, iids, n):
        args = {}
        for a in te.get(4, []):
            da = msg(a)
            name = self.lookup(iids, "arg", first(da, 1))
            if 17 in da:
                args[name] = self.lookup(iids, "str", first(da, 17))
            elif 2 in da:
                args[name] = first(da, 2)
            else:
                args[name] = s64(first(da, 4))
        cats = [self.lookup(iids, "cat", c) for c in te.get(3, [])]
        self.events.append({
            "ts": ts, "type": first(te, 9), "track": first(te, 11), "packet": n,
            "cat": cats[0] if cats else None,
            "name": self.lookup(iids, "name", first(te, 10)) if 10 in te else None,
            "args": args, "flow": te.get(47, []), "flow_end": te.get(48, []),
        })

    def slices(self):
        """(track uuid, begin event, end ts) of every slice, ends matched to
        begins per track in file order; unmatched ends go to self.errors."""
        open_, out = collections.defaultdict(list), []
        for e in self.events:
            if e["type"] == SLICE_BEGIN:
                open_[e["track"]].append(e)
            elif e["type"] == SLICE_END:
                if not open_[e["track"]]:
                    self.errors.append("an end without a begin on track %d" % e["track"])
                    continue
                b = open_[e["track"]].pop()
                if e["ts"] < b["ts"]:
                    self.errors.append("a slice ends before it begins: %r" % b)
                out.append((e["track"], b, e["ts"]))
        left = sum(len(v) for v in open_.values())
        if left:
            self.errors.append("%d slices never end" % left)
        return out


# ---------------------------------------------------------------- the test context


class Ctx:
    def __init__(self, args):
        self.weft_bin = os.path.abspath(args.weft)
        self.fx = {os.path.basename(e)[3:]: os.path.abspath(e) for e in args.fixtures
                   if os.path.basename(e).startswith("fx-")}
        self.tmp = tempfile.mkdtemp(prefix="weft-perfetto-test-")

    def path(self, name):
        return os.path.join(self.tmp, name)

    def weft(self, *args):
        return subprocess.run([self.weft_bin] + [str(a) for a in args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=TIMEOUT, env=clean_env(self.tmp), cwd=self.tmp)

    def record(self, name, fixture, *args):
        db = self.path(name + ".db")
        r = self.weft("record", "-o", db, "--quiet", "--", self.fx[fixture], *args)
        eq(r.returncode, 0, "record %s: exit 0" % fixture)
        return db

    def export(self, db, fmt, *opts):
        out = db[:-3] + "".join("-" + o.strip("-") for o in opts) + (".json" if fmt == "chrome" else ".pftrace")
        r = self.weft("export", db, "--format", fmt, "-o", out, *opts)
        ok(r.returncode == 0, "export %s --format %s %s: exit 0" % (os.path.basename(db), fmt, " ".join(opts)),
           text(r.stderr))
        with open(out, "rb") as f:
            data = f.read()
        return json.loads(data.decode("utf-8"))["traceEvents"] if fmt == "chrome" else data


def us_to_ns(v):
    return int(v * 1000.0)  # exact: weft writes NNN.NNN5 (cmd-export.c)


# ---------------------------------------------------------------- the checks


def chrome_view(evs):
    """The Chrome export reduced to what both formats say: slices per (pid, tid),
    holds, marks and flows, with times in ns."""
    v = {"slices": collections.Counter(), "holds": collections.Counter(), "marks": collections.Counter(),
         "flows": set()}
    opened = {}
    flows = {}
    for e in evs:
        ph = e["ph"]
        if ph == "X":
            t = us_to_ns(e["ts"])
            v["slices"][(e["pid"], e["tid"], t, t + us_to_ns(e["dur"]), e["cat"], e["name"],
                         json.dumps(e.get("args", {}), sort_keys=True))] += 1
        elif ph == "b":
            opened[(e["cat"], e["id"], e["tid"])] = e
        elif ph == "e":
            b = opened.pop((e["cat"], e["id"], e["tid"]))
            key = "holds" if e["cat"] == "hold" else "marks"
            args = b.get("args", {})
            v[key][(b["pid"], b["tid"], us_to_ns(b["ts"]), us_to_ns(e["ts"]), b["name"],
                    args.get("contended"), args.get("shared"))] += 1
        elif ph == "i":
            v["marks"][(e["pid"], e["tid"], us_to_ns(e["ts"]), None, e["name"], None, None)] += 1
        elif ph in "sf":
            flows.setdefault(e["id"], {})[ph] = e
    for fid, se in flows.items():
        s, f = se["s"], se["f"]
        v["flows"].add((fid, s["cat"], s["tid"], us_to_ns(s["ts"]), f["tid"], us_to_ns(f["ts"])))
    return v


def perfetto_view(tr):
    """The same from the decoded protobuf."""
    v = {"slices": collections.Counter(), "holds": collections.Counter(), "marks": collections.Counter(),
         "flows": set()}
    pid_of = {u: pid for u, (pid, _) in tr.procs.items()}
    for track, b, end in tr.slices():
        if track in tr.threads:
            pid, tid, _ = tr.threads[track]
            v["slices"][(pid, tid, b["ts"], end, b["cat"], b["name"], json.dumps(b["args"], sort_keys=True))] += 1
            continue
        parent, _ = tr.tracks[track]
        a = b["args"]
        if b["cat"] == "hold":
            v["holds"][(pid_of[parent], a["tid"], b["ts"], end, b["name"], a["contended"], a["shared"])] += 1
        else:  # a phase: its track is named "phases THREAD TID"
            tid = int(tr.tracks[track][1].rsplit(" ", 1)[1])
            v["marks"][(pid_of[parent], tid, b["ts"], end, b["name"], None, None)] += 1
    starts, ends = {}, {}
    for e in tr.events:
        if e["type"] != INSTANT:
            continue
        pid, tid, _ = tr.threads[e["track"]]
        for fid in e["flow"]:
            if fid in starts:
                tr.errors.append("flow %d starts twice" % fid)
            starts[fid] = (e, tid)
        for fid in e["flow_end"]:
            if fid in ends:
                tr.errors.append("flow %d ends twice" % fid)
            ends[fid] = (e, tid)
        if not e["flow"] and not e["flow_end"]:
            v["marks"][(pid, tid, e["ts"], None, e["name"], None, None)] += 1
    for fid, (s, stid) in starts.items():
        if fid in ends:
            f, ftid = ends[fid]
            v["flows"].add((fid, s["cat"], stid, s["ts"], ftid, f["ts"]))
    v["unpaired"] = set(starts) ^ set(ends)
    v["errors"] = tr.errors[:3]
    v["backwards"] = [fid for fid in set(starts) & set(ends)
                      if (ends[fid][0]["ts"], ends[fid][0]["packet"]) < (starts[fid][0]["ts"], starts[fid][0]["packet"])]
    return v


def check_trace(ctx, db, what, *opts):
    data = ctx.export(db, "perfetto", *opts)
    tr = Trace(data)
    slices = tr.slices()
    eq(tr.errors[:3], [], "%s: framing, interning and nesting are sound" % what)
    ev_flags = [tr.flags[e["packet"]] for e in tr.events]
    ok(tr.flags[0] == 1 and ev_flags and all(f == 2 for f in ev_flags),
       "%s: the first packet clears the incremental state, every event packet needs it" % what, tr.flags[:4])
    dup = [k for k, n in tr.interned.items() if n > 1]
    eq(dup, [], "%s: each string is interned once" % what)
    con = sqlite3.connect(db)
    eq(len(tr.procs), one(con, "SELECT count(*) FROM process"), "%s: one process track per process image" % what)
    eq(len({pid for pid, _ in tr.procs.values()}), len(tr.procs), "%s: every process image has its own pid" % what)
    eq(len(tr.threads), one(con, "SELECT count(*) FROM thread"), "%s: one thread track per thread" % what)
    eq(collections.Counter(n for _, _, n in tr.threads.values()),
       collections.Counter(n for n, in con.execute("SELECT name FROM thread")), "%s: thread names as stored" % what)
    # slices on each thread track: its thread_state rows (the waits with --no-running)
    where = " WHERE s.state != 0" if "--no-running" in opts else ""
    want = collections.Counter(tid for tid, in con.execute(
        "SELECT t.tid FROM thread_state s JOIN thread t USING (utid)%s" % where))
    got = collections.Counter(tr.threads[track][1] for track, _, _ in slices if track in tr.threads)
    eq(got, want, "%s: slices per thread = its thread_state rows" % what)
    # everything as the Chrome export says it
    cv, pv = chrome_view(ctx.export(db, "chrome", *opts)), perfetto_view(tr)
    for key in ("slices", "holds", "marks", "flows"):
        eq(sorted(pv[key].items()) if key != "flows" else sorted(pv[key]),
           sorted(cv[key].items()) if key != "flows" else sorted(cv[key]),
           "%s: %s as in the Chrome export (%d)" % (what, key, len(cv[key])))
    eq(sorted(pv["unpaired"]), [], "%s: every flow that starts ends" % what)
    eq(pv["errors"], [], "%s: each flow starts once and ends once" % what)
    eq(pv["backwards"], [], "%s: no flow ends before it starts" % what)
    # every flow instant lies inside a slice of its thread, so it binds to what it is about
    spans = collections.defaultdict(list)
    for track, b, end in slices:
        if track in tr.threads:
            spans[track].append((b["ts"], end))
    for v in spans.values():
        v.sort()
    loose = []
    for e in tr.events:
        if e["type"] == INSTANT and (e["flow"] or e["flow_end"]):
            v = spans[e["track"]]
            i = bisect.bisect_right(v, (e["ts"], float("inf"))) - 1
            if not (i >= 0 and v[i][0] < e["ts"] < v[i][1]):
                loose.append(e)
    if "--no-running" not in opts:
        eq(loose[:3], [], "%s: every flow end lies inside a slice of its thread" % what)
    return tr, cv, con, data


def t_contended(ctx):
    db = ctx.record("cont", "contended", "25")
    tr, cv, con, data = check_trace(ctx, db, "contended")
    waits = [b for track, b, _ in tr.slices() if b["cat"] == "lock_wait"]
    main_tid = one(con, "SELECT tid FROM thread WHERE is_main = 1")
    eq(len(waits), 25, "contended: 25 lock waits")
    eq({(b["name"], b["args"].get("object"), b["args"].get("blocker"), b["args"].get("waker"), b["args"].get("result"))
        for b in waits}, {("lock_wait mutex", "mutex", main_tid, main_tid, 0)},
       "contended: each wait is 'lock_wait mutex', object mutex, blocker and waker the main thread, result 0")
    eq({b["args"].get("where") for b in waits}, {"waiter (fx-contended.c:35)"},
       "contended: each wait says where it waited")
    handoffs = [e for e in tr.events if e["cat"] == "lock_handoff" and e["flow"]]
    eq(len(handoffs), 25, "contended: 25 lock hand-off flows")
    holds = [b for track, b, _ in tr.slices() if b["cat"] == "hold"]
    hold_tracks = {track for track, b, _ in tr.slices() if b["cat"] == "hold"}
    eq((len(holds), [tr.tracks[t][1] for t in hold_tracks]), (50, ["hold mutex"]),
       "contended: 50 holds of the mutex on one track of their own")
    jsize = os.path.getsize(db[:-3] + ".json")
    ok(len(data) * 2 < jsize, "contended: the protobuf is less than half the JSON (%d vs %d bytes)" % (len(data), jsize))
    # the options
    tr, _, _, _ = check_trace(ctx, db, "contended --no-running", "--no-running")
    eq(collections.Counter(b["cat"] for _, b, _ in tr.slices())["running"], 0,
       "contended --no-running: no running slices")
    tr = Trace(ctx.export(db, "perfetto", "--no-holds", "--no-flows"))
    eq((len(tr.tracks), sum(1 for e in tr.events if e["flow"] or e["flow_end"])), (0, 0),
       "contended --no-holds --no-flows: no hold tracks, no flows")
    eq(sum(1 for e in tr.events if e["type"] == SLICE_BEGIN), one(con, "SELECT count(*) FROM thread_state"),
       "contended --no-holds --no-flows: the thread states only")


def t_condvar(ctx):
    db = ctx.record("cond", "condvar", "40")
    tr, cv, con, _ = check_trace(ctx, db, "condvar")
    wakers = [(b["args"].get("waker"), tr.threads[t][1]) for t, b, _ in tr.slices() if b["cat"] == "cond_wait"]
    want = [(wt, t) for wt, t in con.execute(
        "SELECT w.tid, t.tid FROM thread_state s JOIN thread t USING (utid) LEFT JOIN thread w "
        "ON w.utid = s.waker_utid WHERE s.state = 4")]  # 4: cond_wait (docs/schema.md)
    eq(sorted(wakers), sorted(want), "condvar: each condvar wait names its waker's tid (%d waits)" % len(want))
    tids = {tid for _, tid, _ in tr.threads.values()}
    ok(len(wakers) >= 40 and all(w in tids and w != t for w, t in wakers),
       "condvar: at least 40 waits (40 round trips), each woken by the other thread", wakers[:3])


def t_rwlock_forktree_annotate(ctx):
    check_trace(ctx, ctx.record("rw", "rwlock"), "rwlock")
    tr, _, con, _ = check_trace(ctx, ctx.record("fork", "forktree"), "forktree")
    eq(len(tr.procs), 4, "forktree: 4 process images")
    tr, cv, con, _ = check_trace(ctx, ctx.record("ann", "annotate"), "annotate")
    eq(len(cv["marks"]), one(con, "SELECT count(*) FROM mark"), "annotate: every mark and phase is there")


def t_not_utf8(ctx):
    db = ctx.record("names", "names")
    con = sqlite3.connect(db)
    con.execute("UPDATE thread SET name = CAST(? AS TEXT) WHERE is_main = 0", (b"bad\xff\xc3(utf8",))
    con.commit()
    con.close()
    tr = Trace(ctx.export(db, "perfetto"))  # Trace decodes every string strictly
    ok("bad\ufffd\ufffd(utf8" in {n for _, _, n in tr.threads.values()},
       "names: bytes that are not UTF-8 become U+FFFD", tr.threads)


def t_errors(ctx):
    r = ctx.weft("export", ctx.path("nonexistent.db"), "--format", "perfetto", "-o", ctx.path("x.pftrace"))
    lines = text(r.stderr).strip().splitlines()
    ok(r.returncode == 1 and len(lines) == 1 and "nonexistent.db" in lines[0],
       "perfetto: a missing database: one line naming it, exit 1", r.stderr)
    ok(not os.path.exists(ctx.path("x.pftrace")), "perfetto: no output file after a failure")
    r = ctx.weft("export", ctx.path("nonexistent.db"), "--format", "protobufx", "-o", ctx.path("x.pftrace"))
    eq((r.returncode, text(r.stderr).strip()),
       (2, "weft export: --format protobufx: the formats are chrome and perfetto"), "an unknown format: exit 2, one line")


TESTS = [t_contended, t_condvar, t_rwlock_forktree_annotate, t_not_utf8, t_errors]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("fixtures", nargs="*")
    args = ap.parse_args()
    ctx = Ctx(args)
    for t in TESTS:
        if args.only in t.__name__:
            attempt(t, ctx)
    cleanup(ctx.tmp, args.keep or not all(results))
    return plan()

if __name__ == "__main__":
    sys.exit(main())
