#!/usr/bin/env python3
# test_agent.py - the agent end to end: fixtures and real programs run natively
# and under LD_PRELOAD, their recordings read back through weft-dump.
# SPDX-License-Identifier: MIT
"""Usage: test_agent.py --group G --agent LIB --dump WEFT_DUMP [--python-dir D] -- FIXTURES...

Python 3 standard library only. Prints TAP: one test point per scenario. A
scenario runs a program natively and under the agent (WEFT_OUTPUT = a fresh
directory), requires the same stdout and exit status, reads the recording
with `weft-dump` and `weft-dump --stats`, checks the invariants every
recording must keep (validate()) and then the exact numbers the fixture
(tests/programs/fx-*.c) is built to produce. A scenario collects every failed
check before it reports, so one run shows all that is wrong.

A check marked as a known agent bug (Check.known_bug) reports "not ok # TODO"
instead of failing the run; WEFT_TEST_STRICT=1 makes it fail. When the agent
is fixed the check passes and the point turns into a plain "ok".

Options: --list prints the scenarios of every group; --only NAME runs one;
--keep keeps the temporary directories (they are kept anyway on failure).
"""

import argparse
import errno
import gzip
import hashlib
import lzma
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

from weftlib import marked_lines, pyenv_pythons

BOOKKEEPING = {"TIME", "SYNC", "SCHED", "LOST", "STACK", "PY_FRAME", "MODULE"}
TIMEOUT = 60  # seconds for any one program run


# ---------------------------------------------------------------- checks

class Check:
    """Soft assertions: every failure is collected, the scenario fails at the end."""

    def __init__(self):
        self.fails = []
        self.todo = []
        self.notes = []

    @staticmethod
    def _short(v):
        s = repr(v)
        return s if len(s) <= 300 else s[:300] + "..."

    def true(self, what, cond, detail=""):
        if not cond:
            self.fails.append(what + (": " + detail if detail else ""))
        return bool(cond)

    def eq(self, what, got, want):
        if got != want:
            self.fails.append("%s: got %s, want %s" % (what, self._short(got), self._short(want)))
            return False
        return True

    def ge(self, what, got, low):
        if not got >= low:
            self.fails.append("%s: got %s, want >= %s" % (what, self._short(got), self._short(low)))
            return False
        return True

    def known_bug(self, what, cond, detail=""):
        """A check the agent is known to fail today: a TODO unless WEFT_TEST_STRICT=1."""
        if cond:
            return True
        msg = what + (": " + detail if detail else "")
        if os.environ.get("WEFT_TEST_STRICT") == "1":
            self.fails.append(msg)
        else:
            self.todo.append((what, msg))
        return False

    def note(self, msg):
        self.notes.append(msg)


class Skip(Exception):
    pass


# ---------------------------------------------------------------- running programs

class Result:
    def __init__(self, argv, rc, out, err, outdir=None):
        self.argv, self.rc, self.out, self.err, self.outdir = argv, rc, out, err, outdir

    def weft_lines(self):
        return [l for l in self.err.splitlines() if l.startswith("weft:")]

    def info(self):
        """The fixture's "fx: key=value ..." lines on stderr, as one dict."""
        d = {}
        for line in self.err.splitlines():
            if line.startswith("fx: ") and not line.startswith("fx: error"):
                for m in re.finditer(r"(\w+)=(\S+)", line):
                    d[m.group(1)] = m.group(2)
        return d

    def describe(self):
        return "%s: exit %s, stderr %s" % (" ".join(self.argv), self.rc, self.err.strip()[-600:])


def to_int(v):
    if isinstance(v, int):
        return v
    return int(v, 16) if v.startswith(("0x", "-0x")) else int(v, 10)


class Ctx:
    def __init__(self, args):
        self.agent = os.path.abspath(args.agent)
        self.dump = os.path.abspath(args.dump)
        self.pydir = args.python_dir
        self.fx = {}
        for p in args.fixtures:
            b = os.path.basename(p)
            if b.startswith("fx-"):
                self.fx[b[3:]] = os.path.abspath(p)
        self.keep = args.keep
        self.tmp = None  # per scenario

    def fixture(self, name):
        if name not in self.fx:
            raise RuntimeError("fixture fx-%s was not passed on the command line" % name)
        return self.fx[name]

    def base_env(self):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("WEFT_") or k == "WEFT_TEST_STRICT"}
        env.pop("LD_PRELOAD", None)
        env.pop("WEFT_TEST_STRICT", None)
        env["LC_ALL"] = "C"
        return env

    def run(self, argv, env, cwd=None, stdin=None, timeout=TIMEOUT, preexec=None):
        p = subprocess.run(argv, env=env, cwd=cwd or self.tmp, input=stdin,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout, preexec_fn=preexec)
        return Result(argv, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))

    def native(self, argv, env=None, **kw):
        e = self.base_env()
        e.update(env or {})
        return self.run(argv, e, **kw)

    def new_dir(self, name):
        d = os.path.join(self.tmp, name)
        os.mkdir(d)
        return d

    def traced_env(self, outdir, env=None):
        e = self.base_env()
        e["LD_PRELOAD"] = self.agent
        if outdir is not None:
            e["WEFT_OUTPUT"] = outdir
        e.update(env or {})
        return e

    def traced(self, argv, env=None, outdir=None, **kw):
        outdir = outdir or self.new_dir("rec-%d" % len(os.listdir(self.tmp)))
        r = self.run(argv, self.traced_env(outdir, env), **kw)
        r.outdir = outdir
        return r

    def compare(self, chk, argv, env=None, rc=0, **kw):
        """Run natively and traced; same stdout and exit status, agent silent."""
        nat = self.native(argv, env, **kw)
        tr = self.traced(argv, env, **kw)
        chk.eq("native exit status (%s)" % nat.describe(), nat.rc, rc)
        chk.eq("traced exit status (%s)" % tr.describe(), tr.rc, rc)
        chk.eq("stdout traced vs native", tr.out, nat.out)
        chk.eq("weft: lines on stderr of a traced run", tr.weft_lines(), [])
        return nat, tr

    def weft_dump(self, *args):
        p = subprocess.run([self.dump] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# ---------------------------------------------------------------- reading a recording

_FIELD = re.compile(r' (\w+)=((?:"(?:[^"\\]|\\.)*"(?: "(?:[^"\\]|\\.)*")*)|\S*)')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESC = re.compile(r"\\(\d{3}|.)")


def _unescape(s):
    def one(m):
        e = m.group(1)
        if len(e) == 3 and e.isdigit():
            return chr(int(e, 8))
        return {"n": "\n", "t": "\t", "r": "\r"}.get(e, e)
    return _ESC.sub(one, s)


class Rec:
    """One record line of weft-dump; fields are parsed on first use."""
    __slots__ = ("ns", "pid", "tid", "name", "_rest", "_f", "file", "line")

    def __init__(self, ns, pid, tid, name, rest, file, line):
        self.ns, self.pid, self.tid, self.name, self._rest, self.file, self.line = \
            ns, pid, tid, name, rest, file, line
        self._f = None

    @property
    def f(self):
        if self._f is None:
            f = {}
            if '"' not in self._rest:
                for kv in self._rest.split():
                    k, _, v = kv.partition("=")
                    f[k] = v
            else:
                for fm in _FIELD.finditer(self._rest):
                    v = fm.group(2)
                    if v.startswith('"'):
                        qs = [_unescape(q) for q in _QUOTED.findall(v)]
                        v = qs[0] if len(qs) == 1 else qs
                    f[fm.group(1)] = v
            self._f = f
        return self._f

    def i(self, key):
        return to_int(self.f[key])

    def get(self, key, default=None):
        return self.f.get(key, default)

    def __repr__(self):
        return "<%s:%d %s%s>" % (self.file, self.line, self.name, self._rest)


class Recording:
    def __init__(self, ctx, outdir):
        self.dir = outdir
        self.rc, out, self.err = ctx.weft_dump(outdir)
        self.stats_rc, sout, self.stats_err = ctx.weft_dump("--stats", outdir)
        self.stats = {}
        for line in sout.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                self.stats[parts[0]] = int(parts[1])
        self.files = []      # header dicts, in dump order
        self.records = []
        self.bad_lines = []
        cur = None
        for n, line in enumerate(out.splitlines()):
            if line.startswith("#   ") and cur is not None:  # version 3: holds= sample= flush_ms=
                for kv in line[4:].split():
                    k, _, v = kv.partition("=")
                    cur[k] = v
                continue
            if line.startswith("# section "):  # version 7: a fork child's section; its "# file" line follows
                continue
            if line.startswith("# file "):
                parts = line[7:].split()
                cur = {"name": parts[0]}
                for kv in parts[1:]:
                    k, _, v = kv.partition("=")
                    cur[k] = v
                self.files.append(cur)
                continue
            parts = line.split(" ", 4)
            try:
                if cur is None or len(parts) < 4 or not parts[3].isupper():
                    raise ValueError
                r = Rec(int(parts[0]), int(parts[1]), int(parts[2]), parts[3],
                        " " + parts[4] if len(parts) == 5 else "", cur["name"], n + 1)
            except ValueError:
                self.bad_lines.append(line)
                continue
            self.records.append(r)
        self._threads = None

    def file(self, pid, image):
        for h in self.files:
            if int(h["pid"]) == pid and int(h["image"]) == image:
                return h
        return None

    def name(self, pid, image):
        """the dumped name of a process image: its file, PID.N.wtrace, or its section, FILE@OFFSET"""
        h = self.file(pid, image)
        return h["name"] if h else "(no image %d of pid %d)" % (image, pid)

    def disk_files(self):
        """the files the dumped images are in (a section's is its tree's file)"""
        return sorted({h["name"].split("@")[0] for h in self.files})

    def sections(self):
        return [h for h in self.files if "@" in h["name"]]

    def sel(self, type_=None, at_pid=None, at_tid=None, in_file=None, **fields):
        out = []
        for r in self.records:
            if type_ is not None and r.name != type_:
                continue
            if at_pid is not None and r.pid != at_pid:
                continue
            if at_tid is not None and r.tid != at_tid:
                continue
            if in_file is not None and r.file != in_file:
                continue
            ok = True
            for k, want in fields.items():
                v = r.f.get(k)
                if v is None:
                    ok = False
                elif isinstance(want, int):
                    try:
                        ok = to_int(v) == want
                    except ValueError:
                        ok = False
                else:
                    ok = v == want
                if not ok:
                    break
            if ok:
                out.append(r)
        return out

    def count(self, *a, **kw):
        return len(self.sel(*a, **kw))

    def threads(self):
        """(file, tid) -> that thread's records other than bookkeeping, in order."""
        if self._threads is None:
            t = {}
            for r in self.records:
                if r.name not in BOOKKEEPING:
                    t.setdefault((r.file, r.tid), []).append(r)
            self._threads = t
        return self._threads

    def thread_records(self, tid, file=None):
        out = []
        for (f, t), recs in self.threads().items():
            if t == tid and (file is None or f == file):
                out.extend(recs)
        return out


def trace_images(ctx, d):
    """how many process images the recording in d has (files and sections)"""
    rc, out, err = ctx.weft_dump("--stats", d)
    st = dict(l.split() for l in out.splitlines() if len(l.split()) == 2)
    return int(st.get("files", 0)) + int(st.get("sections", 0)) if rc == 0 else -1


def validate(chk, rec, allow_open=(), exits=None):
    """Invariants of every recording. allow_open: tids that may end inside a
    wait (blocked at exit or kill), or True for any thread (a real program
    may exit with its workers still blocked). exits: expected EXIT records
    per file (None: do not check)."""
    chk.eq("weft-dump exit status (stderr %r)" % rec.err[-300:], rec.rc, 0)
    chk.eq("weft-dump stderr", rec.err, "")
    chk.eq("weft-dump --stats exit status", rec.stats_rc, 0)
    chk.eq("unparsed weft-dump lines", rec.bad_lines[:5], [])
    chk.eq("stats lost", rec.stats.get("lost"), 0)
    chk.true("at least one trace file", len(rec.files) > 0)

    # the directory: only PID.N.wtrace files, mode 0600, matching their headers
    names = sorted(os.listdir(rec.dir))
    chk.eq("files in the output directory vs files dumped", names, rec.disk_files())
    sectioned = {int(h["pid"]) for h in rec.sections()}  # their images are numbered by start, not by name
    for h in rec.files:
        m = re.match(r"^(\d+)\.(\d+)\.wtrace(@\d+)?$", h["name"])
        if not chk.true("trace file name %s is PID.N.wtrace or a section in one" % h["name"], m):
            continue
        if m.group(3):  # a section: a process of the tree that made the file
            chk.true("%s: a section in a file of another pid" % h["name"], int(h["pid"]) != int(m.group(1)), repr(h))
            continue
        chk.eq("%s header pid" % h["name"], int(h["pid"]), int(m.group(1)))
        if int(h["pid"]) not in sectioned:
            chk.eq("%s header image" % h["name"], int(h["image"]), int(m.group(2)))
        chk.eq("%s header version" % h["name"], h.get("version"), "8")
        chk.true("%s header holds" % h["name"], h.get("holds") in ("contended", "all"), repr(h))
        chk.eq("%s header lost" % h["name"], h.get("lost"), "0")
        chk.true("%s header clock" % h["name"], h.get("clock") in ("tsc", "monotonic"))
        st = os.lstat(os.path.join(rec.dir, h["name"].split("@")[0]))
        chk.eq("%s mode" % h["name"], oct(st.st_mode & 0o7777), oct(0o600))
        chk.true("%s is a regular file" % h["name"], (st.st_mode & 0o170000) == 0o100000)

    # --stats agrees with the full dump
    by_name = {}
    for r in rec.records:
        by_name[r.name] = by_name.get(r.name, 0) + 1
    chk.eq("stats records vs dumped records", rec.stats.get("records"), len(rec.records))
    chk.eq("stats files", rec.stats.get("files"), len(rec.disk_files()))
    chk.eq("stats sections", rec.stats.get("sections", 0), len(rec.sections()))
    chk.eq("stats processes", rec.stats.get("processes"), len({int(h["pid"]) for h in rec.files}))
    chk.eq("stats threads", rec.stats.get("threads"),
           len({(r.pid, r.tid) for r in rec.records if r.name == "THREAD_START"}))
    for name, n in by_name.items():
        chk.eq("stats %s" % name, rec.stats.get(name), n)

    # per file: one main THREAD_START (tid == pid), one PROCESS_INFO of this image
    for h in rec.files:
        fn, pid = h["name"], int(h["pid"])
        mains = rec.sel("THREAD_START", in_file=fn, main=1)
        chk.eq("%s: main THREAD_START count" % fn, len(mains), 1)
        if mains:
            chk.eq("%s: main thread tid" % fn, mains[0].tid, pid)
        infos = rec.sel("PROCESS_INFO", in_file=fn)
        chk.eq("%s: PROCESS_INFO count" % fn, len(infos), 1)
        if infos and "@" not in fn:  # a section's image is numbered by the reader (the agent writes 0)
            chk.eq("%s: PROCESS_INFO image" % fn, infos[0].get("image"), h["image"])
        if exits is not None and fn in exits:
            chk.eq("%s: EXIT records" % fn, len(rec.sel("EXIT", in_file=fn)), exits[fn])
        for r in rec.sel(in_file=fn):
            if r.pid != pid:
                chk.true("%s: record of pid %d in the file of pid %d" % (fn, r.pid, pid), False)
                break

    # per thread: time order, starts with THREAD_START, waits open and close in pairs
    last_ns = {}
    for r in rec.records:
        key = (r.file, r.tid)
        if key in last_ns and r.ns < last_ns[key]:
            chk.true("time runs backwards in thread %s: %s" % (key, r), False)
        last_ns[key] = r.ns
    stacks = {}
    for r in rec.sel("STACK"):
        stacks.setdefault(r.file, set()).add(r.i("id"))
    # version 4: every Python frame a stack names is defined in its file
    py_defined = {}
    for r in rec.sel("PY_FRAME"):
        py_defined.setdefault(r.file, set()).add(r.i("id"))
    for r in rec.sel("STACK"):
        missing = [w for w in r.get("ips", "").split(",") if w.startswith("py:")
                   and int(w[3:]) not in py_defined.get(r.file, set())]
        chk.eq("Python frames of %s not defined in its file" % r, missing, [])
    for (fn, tid), recs in rec.threads().items():
        chk.eq("first record of thread %d in %s" % (tid, fn), recs[0].name, "THREAD_START")
        for i, r in enumerate(recs):
            if r.name == "WAIT_BEGIN":
                st = r.i("stack")
                if st:
                    chk.true("stack id %d of %s is defined in %s" % (st, r, fn),
                             st in stacks.get(fn, set()))
                if i + 1 == len(recs):
                    chk.true("wait never ends in thread %d: %s" % (tid, r), allow_open is True or tid in allow_open)
                    continue
                n = recs[i + 1]
                ok = (n.name == "WAIT_END" and n.get("obj") == r.get("obj")
                      and n.get("kind") == r.get("kind")
                      and (n.get("op") == r.get("op")
                           or (r.get("kind") == "barrier" and n.get("op") == "serial")))
                chk.true("WAIT_BEGIN closed by its WAIT_END", ok, "%s then %s" % (r, n))
            elif r.name == "WAIT_END":
                chk.true("WAIT_END after its WAIT_BEGIN", i > 0 and recs[i - 1].name == "WAIT_BEGIN",
                         repr(r))
                st = r.i("stack") if r.get("stack") else 0
                if st:
                    chk.true("stack id %d of %s is defined in %s" % (st, r, fn), st in stacks.get(fn, set()))
            elif r.name == "THREAD_EXIT" and r.get("how") != "at_process_exit":
                # after its own exit a thread may still end the process: its samples of the
                # threads still alive, their THREAD_EXIT at_process_exit, modules, EXIT
                later = [x for x in recs[i + 1:] if x.name not in ("EXIT", "SYNC", "SCHED", "MODULE")
                         and not (x.name == "THREAD_EXIT" and x.get("how") == "at_process_exit")]
                chk.eq("records after THREAD_EXIT in thread %d" % tid, later[:3], [])
    # condvar waits: [REL(mutex)] WAIT_BEGIN(cond, obj2=mutex) WAIT_END(cond) ACQ(mutex);
    # the REL is there with WEFT_HOLDS=all, and otherwise when the hold was recorded
    # (it began with a wait or an ACQ) or someone waited for the mutex
    holds_all = {h["name"]: h.get("holds") == "all" for h in rec.files}
    for (fn, tid), recs in rec.threads().items():
        recorded = set()  # mutexes whose hold by this thread began with a record
        for i, r in enumerate(recs):
            if r.name in ("ACQ", "WAIT_END") and r.get("kind") == "mutex" and r.get("res") in ("0", "130"):
                recorded.add(r.get("obj"))
            elif r.name == "REL" and r.get("kind") == "mutex":
                recorded.discard(r.get("obj"))
            if r.name != "WAIT_BEGIN" or r.get("kind") != "cond":
                continue
            m = r.get("obj2")
            if i + 1 == len(recs):
                continue  # an open wait: reported above unless allowed
            rel_before = i > 0 and recs[i - 1].name == "REL" and recs[i - 1].get("obj") == m \
                and recs[i - 1].get("kind") == "mutex"
            if holds_all.get(fn) or m in recorded:
                chk.true("REL of the mutex before a cond wait (its hold was recorded)", rel_before,
                         repr(recs[max(0, i - 1):i + 1]))
            recorded.discard(m)
            chk.true("ACQ of the mutex after a cond wait", i + 2 < len(recs)
                     and recs[i + 2].name == "ACQ" and recs[i + 2].get("obj") == m
                     and recs[i + 2].get("kind") == "mutex", repr(recs[i:i + 3]))


def kinds(recs):
    return sorted({(r.get("kind"), r.get("op"), r.get("res")) for r in recs})


def counted(rec, obj=None, what="acq", kind=None, tid=None, in_file=None):
    """The sum of what the COUNTS records counted (trace version 3: the operations
    that did not wait are counted, not recorded): what is acq, fail, rel or samples."""
    n = 0
    for r in rec.sel("COUNTS", in_file=in_file):
        if obj is not None and r.i("obj") != obj:
            continue
        if kind is not None and r.get("kind") != kind:
            continue
        if tid is not None and r.i("tid") != tid:
            continue
        n += r.i(what)
    return n


def counted_by_tid(rec, obj, what="acq"):
    out = {}
    for r in rec.sel("COUNTS", obj=obj):
        out[r.i("tid")] = out.get(r.i("tid"), 0) + r.i(what)
    return {t: n for t, n in out.items() if n}


HOLDS_ALL = {"WEFT_HOLDS": "all"}


# ---------------------------------------------------------------- scenarios

def traced_fixture(ctx, chk, name, args=(), env=None, rc=0, allow_open=(), exits=None):
    argv = [ctx.fixture(name)] + [str(a) for a in args]
    nat, tr = ctx.compare(chk, argv, env, rc)
    info = tr.info()
    rec = Recording(ctx, tr.outdir)
    validate(chk, rec, allow_open=allow_open if allow_open is True else [int(t) for t in allow_open],
             exits=exits)
    return rec, info, tr


def only_file(rec):
    return rec.files[0]["name"] if rec.files else ""


def t_uncontended(ctx, chk, n=1000, env=None):
    rec, info, tr = traced_fixture(ctx, chk, "uncontended", [n], env=env)
    chk.eq("stdout", tr.out, b"uncontended n=%d counter=%d\n" % (n, n))
    m, main, idle = to_int(info["mutex"]), int(info["main_tid"]), int(info["idle_tid"])
    idle_self = to_int(info["idle_self"])
    all_mode = (env or {}).get("WEFT_HOLDS") == "all"
    chk.eq("files", len(rec.files), 1)
    chk.eq("header holds", [h.get("holds") for h in rec.files], ["all" if all_mode else "contended"])
    chk.eq("stats threads", rec.stats.get("threads"), 2)
    chk.eq("ACQ on the mutex (acquisitions are counted, not recorded)", rec.count("ACQ", obj=m), 0)
    chk.eq("counted acquisitions of the mutex, by thread", counted_by_tid(rec, m), {main: n})
    chk.eq("COUNTS kinds of the mutex", {r.get("kind") for r in rec.sel("COUNTS", obj=m)}, {"mutex"})
    chk.eq("counted failed tries", counted(rec, m, "fail"), 0)
    rel = rec.sel("REL", obj=m)
    if all_mode:
        # every hold timed: one REL per release, with its length
        chk.eq("REL on the mutex (WEFT_HOLDS=all)", len(rel), n)
        chk.eq("REL kinds", {(r.get("kind"), r.get("res"), r.get("late")) for r in rel}, {("mutex", "0", "0")})
        chk.eq("REL with an unknown length", [r for r in rel if r.i("len") < 0][:3], [])
        chk.eq("stats REL.mutex", rec.stats.get("REL.mutex"), n)
    else:
        # nobody ever waits for it: no REL at all
        chk.eq("REL on the mutex (nobody waits for it)", rel, [])
        chk.eq("stats REL.mutex", rec.stats.get("REL.mutex", 0), 0)
    sample = (env or {}).get("WEFT_HOLD_SAMPLE")
    if sample == "1":
        chk.eq("timed holds (WEFT_HOLD_SAMPLE=1: all of them)", counted(rec, m, "samples"), n)
        chk.eq("header sample", [h.get("sample") for h in rec.files], ["1"])
    elif sample == "0":
        chk.eq("timed holds (WEFT_HOLD_SAMPLE=0: none)", counted(rec, m, "samples"), 0)
    chk.eq("WAIT_BEGIN on the mutex", rec.count("WAIT_BEGIN", obj=m), 0)
    chk.eq("stats ACQ.mutex", rec.stats.get("ACQ.mutex", 0), 0)
    chk.ge("stats counted.acq.mutex", rec.stats.get("counted.acq.mutex", 0), n)
    chk.eq("stats WAIT_BEGIN.mutex", rec.stats.get("WAIT_BEGIN.mutex", 0), 0)
    b = to_int(info["barrier"])
    chk.eq("barrier WAIT_BEGIN", rec.count("WAIT_BEGIN", kind="barrier", obj=b), 2)
    ends = rec.sel("WAIT_END", kind="barrier", obj=b)
    chk.eq("barrier WAIT_END", len(ends), 2)
    chk.eq("barrier serial ends", sum(r.get("op") == "serial" for r in ends), 1)
    jb = rec.sel("WAIT_BEGIN", kind="join")
    chk.eq("join waits", len(jb), 1)
    if jb:
        chk.eq("join obj", jb[0].i("obj"), idle_self)
        chk.eq("join holder (the joined thread, alive)", jb[0].i("holder"), idle)
        chk.eq("join thread", jb[0].tid, main)
    chk.eq("join WAIT_END res", [r.get("res") for r in rec.sel("WAIT_END", kind="join")], ["0"])
    cr = rec.sel("THREAD_CREATE")
    chk.eq("THREAD_CREATE", [(r.i("new"), r.get("res"), r.tid) for r in cr], [(idle_self, "0", main)])
    st = rec.sel("THREAD_START", main=0)
    chk.eq("THREAD_START of the idle thread", [(r.tid, r.i("self"), r.i("creator")) for r in st],
           [(idle, idle_self, main)])
    if cr and st:
        chk.eq("THREAD_START routine == THREAD_CREATE routine", st[0].get("routine"), cr[0].get("routine"))
    chk.eq("THREAD_EXIT of the idle thread", [(r.tid, r.get("how"), r.i("self"))
                                             for r in rec.sel("THREAD_EXIT")], [(idle, "return", idle_self)])
    chk.eq("EXIT", [(r.get("how"), r.get("status"), r.tid) for r in rec.sel("EXIT")],
           [("return", "0", main)])
    pi = rec.sel("PROCESS_INFO")
    if pi:
        chk.eq("PROCESS_INFO argv", pi[0].get("argv"), [ctx.fixture("uncontended"), str(n)])
        chk.eq("PROCESS_INFO exe", pi[0].get("exe"), os.path.realpath(ctx.fixture("uncontended")))
    mods = [r for r in rec.sel("MODULE") if r.get("path", "").endswith("/fx-uncontended")]
    chk.eq("MODULE record of the fixture", len(mods), 1)


def t_uncontended_big(ctx, chk):
    """Many chunks: 100000 lock pairs with WEFT_HOLDS=all (2.4 MB of REL records;
    chunks grow to 1 MB); and the same counted, with nothing recorded."""
    n = 100000
    rec, info, tr = traced_fixture(ctx, chk, "uncontended", [n], env=HOLDS_ALL)
    m = to_int(info["mutex"])
    chk.eq("counted acquisitions (WEFT_HOLDS=all)", counted(rec, m), n)
    chk.eq("REL on the mutex (WEFT_HOLDS=all)", rec.count("REL", obj=m), n)
    chk.eq("stats REL.mutex", rec.stats.get("REL.mutex"), n)
    rec, info, tr = traced_fixture(ctx, chk, "uncontended", [n])
    m = to_int(info["mutex"])
    chk.eq("counted acquisitions", counted(rec, m), n)
    chk.eq("REL on the mutex", rec.count("REL", obj=m), 0)
    chk.true("a few records for 100000 pairs (%d)" % rec.stats.get("records", 0),
             rec.stats.get("records", 0) < 200)


def contended_checks(ctx, chk, rec, info, k, stacks_all=False):
    m, main, waiter = to_int(info["mutex"]), int(info["main_tid"]), int(info["waiter_tid"])
    wb = rec.sel("WAIT_BEGIN", kind="mutex", obj=m)
    chk.eq("contended WAIT_BEGIN on the mutex", len(wb), k)
    chk.eq("WAIT_BEGIN threads", {r.tid for r in wb}, {waiter})
    chk.eq("WAIT_BEGIN holders", [r.i("holder") for r in wb], [main] * k)
    chk.eq("WAIT_BEGIN ops", {r.get("op") for r in wb}, {"lock"})
    we = rec.sel("WAIT_END", kind="mutex", obj=m)
    chk.eq("WAIT_END on the mutex", [(r.tid, r.get("res")) for r in we], [(waiter, "0")] * k)
    # WEFT_STACKS=all: every acquisition that did not wait is an ACQ with its stack
    chk.eq("ACQ records on the mutex", [(r.tid, r.get("res")) for r in rec.sel("ACQ", obj=m)],
           [(main, "0")] * k if stacks_all else [])
    chk.eq("counted acquisitions of the mutex (main's did not wait, the waiter's did)",
           counted_by_tid(rec, m), {main: k, waiter: k})
    rel = rec.sel("REL", obj=m)
    # main's holds were waited for (the waiter announced itself), the waiter's began with a wait
    chk.eq("REL on the mutex", sorted(r.tid for r in rel), sorted([main] * k + [waiter] * k))
    chk.eq("REL of main's holds: length timed or not, never late",
           sorted({r.get("late") for r in rel if r.tid == main}), ["0"])
    chk.eq("REL of the waiter's holds: timed from its WAIT_END", [r for r in rel if r.tid == waiter
                                                                  and r.i("len") < 0][:3], [])
    go = to_int(info["go"])
    chk.eq("sem_wait on go that returned (counted, waits included)", counted(rec, go, kind="sem"), k)
    chk.eq("sem_post on go (counted, by main)", counted_by_tid(rec, go, "rel"), {main: k})
    posts = rec.sel("REL", kind="sem", obj=go)
    chk.true("REL of a post on go only when the waiter waited: at most k, by main (%d)" % len(posts),
             len(posts) <= k and {r.tid for r in posts} <= {main})
    for e in rec.sel("WAIT_END", kind="sem", obj=go, res=0):
        b = [x for x in rec.sel("WAIT_BEGIN", kind="sem", obj=go, at_tid=e.tid) if x.ns <= e.ns][-1:]
        chk.true("a wait on go that ended has main's post between its begin and end",
                 any(b and b[0].ns - 1000000 <= p.ns <= e.ns + 1000000 for p in posts), repr((b, e)))
    # causality across threads: the waiter asked before main released, got it after
    main_rel = [r for r in rel if r.tid == main]
    if len(main_rel) == k and len(wb) == k and len(we) == k:
        for i in range(k):
            chk.true("round %d: WAIT_BEGIN (%d) <= holder's REL (%d)" % (i, wb[i].ns, main_rel[i].ns),
                     wb[i].ns <= main_rel[i].ns)
            chk.true("round %d: holder's REL (%d) <= WAIT_END (%d)" % (i, main_rel[i].ns, we[i].ns),
                     main_rel[i].ns <= we[i].ns)
    return wb


def stack_in_module(rec, wb, module_suffix):
    """Does the STACK of wb hold a return address inside the module's text?"""
    mods = [r for r in rec.sel("MODULE", in_file=wb.file) if r.get("path", "").endswith(module_suffix)]
    sts = rec.sel("STACK", in_file=wb.file, id=wb.i("stack"))
    if not mods or not sts:
        return False
    lo, hi = mods[0].i("start"), mods[0].i("end")
    ips = [to_int(x) for x in sts[0].get("ips", "").split(",") if x]
    return any(lo <= ip < hi for ip in ips)


def t_contended(ctx, chk, k=20, env=None):
    rec, info, tr = traced_fixture(ctx, chk, "contended", [k], env=env)
    chk.eq("stdout", tr.out, b"contended rounds=%d waiter_locks=%d\n" % (k, k))
    wb = contended_checks(ctx, chk, rec, info, k)
    chk.eq("stats WAIT_BEGIN.mutex", rec.stats.get("WAIT_BEGIN.mutex"), k)
    # default WEFT_STACKS=contended: each contended wait has a stack through the fixture
    for r in wb[:3]:
        chk.true("contended wait has a stack id", r.i("stack") != 0, repr(r))
        if r.i("stack"):
            chk.true("its STACK has a frame in fx-contended", stack_in_module(rec, r, "/fx-contended"))
    chk.eq("file header clock (invariant TSC expected on x86-64, else monotonic)",
           rec.files[0].get("clock") in ("tsc", "monotonic"), True)
    # trace v6: what each release someone waited for took (waking them), right after its REL
    last, after_rel = {}, 0
    costs = rec.sel("UNLOCK_COST")
    for r in rec.records:
        if r.name == "UNLOCK_COST":
            p = last.get(r.tid)
            after_rel += p is not None and p.name == "REL" and p.get("res") == "0" and p.get("late") == "0"
        last[r.tid] = r
    # (one for each of main's k hand-offs at least; a release during which a thread only announced
    # itself, then got the lock without waiting, is timed too)
    main_costs = sum(r.tid == int(info["main_tid"]) for r in costs)
    chk.true("an UNLOCK_COST right after each REL someone waited for, in its thread: %d of %d after a REL, "
             "%d of main's for its %d hand-offs" % (after_rel, len(costs), main_costs, k),
             after_rel == len(costs) and main_costs >= k)


def t_mutextypes(ctx, chk, env=None):
    rec, info, tr = traced_fixture(ctx, chk, "mutextypes", env=env)
    all_mode = (env or {}).get("WEFT_HOLDS") == "all"
    chk.eq("stdout", tr.out,
           b"mutextypes errorcheck=EDEADLK,EDEADLK,EPERM,EPERM robust=EOWNERDEAD\n"
           b"mutextypes timed=ETIMEDOUT,ETIMEDOUT,EBUSY after=0,0 spin_try=EBUSY cond=ETIMEDOUT,ETIMEDOUT\n")
    o = {k: to_int(info[k]) for k in ("rec", "ec", "rob", "tm", "spin", "cm", "cv")}
    main, unl, hold = int(info["main_tid"]), int(info["unlocker_tid"]), int(info["holder_tid"])
    ED, EP, ET, EB, EO = errno.EDEADLK, errno.EPERM, errno.ETIMEDOUT, errno.EBUSY, errno.EOWNERDEAD

    def attrs(obj):
        return [r.i("attr") for r in rec.sel("INIT", kind="mutex", obj=obj)]
    chk.eq("INIT rec attr (RECURSIVE)", attrs(o["rec"]), [1])
    chk.eq("INIT ec attr (ERRORCHECK)", attrs(o["ec"]), [2])
    chk.eq("INIT rob attr (ROBUST)", attrs(o["rob"]), [0x100])
    chk.eq("INIT tm attr (NULL attr)", attrs(o["tm"]), [0])

    # recursive
    chk.eq("recursive ACQ records", rec.count("ACQ", obj=o["rec"]), 0)
    chk.eq("recursive acquisitions (counted)", counted(rec, o["rec"]), 3)
    chk.eq("recursive REL count (nobody waits; all: the outermost release only)",
           rec.count("REL", obj=o["rec"], res=0), 1 if all_mode else 0)
    chk.eq("recursive waits", rec.count("WAIT_BEGIN", obj=o["rec"]), 0)

    # error-checking: EDEADLK on relock, EPERM on unlock when unlocked and by a non-owner
    ec_all = rec.sel(None, obj=o["ec"])
    chk.eq("EDEADLK recorded twice on ec (lock, timedlock)", sum(r.get("res") == str(ED) for r in ec_all), 2)
    chk.eq("successful ec acquisitions (counted)", counted(rec, o["ec"]), 2)
    chk.eq("relock of an owned error-checking mutex is ACQ res=EDEADLK, not a wait",
           sorted((r.name, r.get("op")) for r in ec_all if r.get("res") == str(ED) or r.name == "WAIT_BEGIN"),
           [("ACQ", "lock"), ("ACQ", "timed")])
    for r in rec.sel("WAIT_BEGIN", kind="mutex"):
        chk.true("no thread waits on a mutex it holds itself", r.i("holder") != r.tid, repr(r))
    # a failed unlock (EPERM) releases nothing: no REL for it
    chk.eq("REL res=EPERM on ec", rec.sel("REL", obj=o["ec"], res=EP), [])
    chk.eq("ec REL total (all: one per hold; contended: nobody waits)", rec.count("REL", obj=o["ec"]),
           2 if all_mode else 0)

    # robust
    chk.eq("robust ACQ res=EOWNERDEAD by main", [r.tid for r in rec.sel("ACQ", obj=o["rob"], res=EO)], [main])
    owners = counted_by_tid(rec, o["rob"])
    chk.true("robust acquisitions: main's (EOWNERDEAD) and one in another thread",
             owners.get(main) == 1 and sum(owners.values()) == 2 and len(owners) == 2, str(owners))
    chk.eq("robust ACQ records (the EOWNERDEAD one: its hold is recorded)", rec.count("ACQ", obj=o["rob"]), 1)
    rob_rel = [r.tid for r in rec.sel("REL", obj=o["rob"])]
    chk.eq("robust REL (main, after consistent; all: the dead owner's hold is never released)",
           rob_rel, [main])

    # timed and clock variants
    tm = o["tm"]
    for op in ("timed", "clock"):
        wb = rec.sel("WAIT_BEGIN", obj=tm, op=op)
        chk.eq("%slock WAIT_BEGIN (holder, thread)" % op, [(r.i("holder"), r.tid) for r in wb], [(hold, main)])
        we = rec.sel("WAIT_END", obj=tm, op=op)
        chk.eq("%slock WAIT_END res" % op, [r.get("res") for r in we], [str(ET)])
        if wb and we:
            chk.true("%slock waited >= 15 ms (%d ns)" % (op, we[0].ns - wb[0].ns),
                     we[0].ns - wb[0].ns >= 15000000)
    chk.eq("tm acquisitions: main's timedlock and clocklock, the holder's lock",
           counted_by_tid(rec, tm), {main: 2, hold: 1})
    chk.eq("trylock EBUSY (counted as a failed try)", counted_by_tid(rec, tm, "fail"), {main: 1})
    chk.eq("ACQ records on tm", rec.count("ACQ", obj=tm), 0)

    # spinlock
    sp = o["spin"]
    chk.eq("spin INIT", rec.count("INIT", kind="spin", obj=sp), 1)
    chk.eq("spin acquisitions (counted)", counted(rec, sp, kind="spin"), 6)
    chk.eq("spin try EBUSY (counted)", counted(rec, sp, "fail", kind="spin"), 1)
    chk.eq("spin REL", rec.count("REL", kind="spin", obj=sp), 6 if all_mode else 0)
    chk.eq("spin DESTROY", rec.count("DESTROY", kind="spin", obj=sp), 1)

    # condvar timeouts
    for op in ("timed", "clock"):
        ends = rec.sel("WAIT_END", kind="cond", obj=o["cv"], op=op)
        chk.eq("cond %swait timeouts" % op, [r.get("res") for r in ends if r.get("res") != "0"], [str(ET)])
        for r in rec.sel("WAIT_BEGIN", kind="cond", obj=o["cv"], op=op):
            chk.eq("cond wait obj2", r.i("obj2"), o["cm"])
    chk.eq("DESTROY mutexes", sorted(r.i("obj") for r in rec.sel("DESTROY", kind="mutex")),
           sorted(o[k] for k in ("rec", "ec", "rob", "tm", "cm")))
    chk.eq("DESTROY cond", [r.i("obj") for r in rec.sel("DESTROY", kind="cond")], [o["cv"]])
    chk.eq("INIT cond", [r.i("obj") for r in rec.sel("INIT", kind="cond")], [o["cv"]])


def t_rwlock(ctx, chk, env=None):
    nr, rr, nw, ww, k = 3, 200, 2, 100, 5
    rec, info, tr = traced_fixture(ctx, chk, "rwlock", [nr, rr, nw, ww, k], env=env)
    all_mode = (env or {}).get("WEFT_HOLDS") == "all"
    chk.eq("stdout", tr.out, b"rwlock reads=%d writes=%d contended_reads=%d trywrlock=EBUSY tryrdlock=0\n"
           b"rwlock relock=EDEADLK rdlock_in_wrlock=EDEADLK\n" % (nr * rr, nw * ww, k))
    lk, main, cont = to_int(info["lock"]), int(info["main_tid"]), int(info["contender_tid"])
    chk.eq("read acquisitions (counted; tryrdlock's too)", counted(rec, lk, kind="rwlock_rd"), nr * rr + k + 2)
    chk.eq("write acquisitions (counted)", counted(rec, lk, kind="rwlock_wr"), nw * ww + k + 1)
    # phase 1's readers may wait too (a writer holds it): which of their calls wait is not known
    chk.eq("contended reads of the contender that got it",
           sum(1 for r in rec.sel("WAIT_END", kind="rwlock_rd", op="lock", res=0, obj=lk) if r.tid == cont), k)
    rel_rd = rec.count("REL", kind="rwlock_rd", obj=lk, res=0)
    rel_wr = rec.count("REL", kind="rwlock_wr", obj=lk, res=0)
    if all_mode:
        # main's tryrdlock inside its rdlock: the inner unlock releases nothing
        chk.eq("REL rwlock_rd (all)", rel_rd, nr * rr + k + 1)
        chk.eq("REL rwlock_wr (all)", rel_wr, nw * ww + k + 1)
    else:
        chk.true("REL rwlock_rd: at least the k contended reads' holds, at most every read (%d)" % rel_rd,
                 k <= rel_rd <= nr * rr + k + 2)
        chk.true("REL rwlock_wr: main's k holds the reads waited for, at most every write (%d)" % rel_wr,
                 k <= rel_wr <= nw * ww + k + 1)
    dead = [r for r in rec.sel(None, obj=lk) if r.get("res") == str(errno.EDEADLK)]
    chk.eq("EDEADLK results (wrlock, rdlock while write-holding)", sorted((r.get("kind"), r.tid) for r in dead),
           [("rwlock_rd", main), ("rwlock_wr", main)])
    for r in rec.sel("WAIT_BEGIN", obj=lk):
        chk.true("no thread waits on an rwlock it write-holds itself", r.i("holder") != r.tid, repr(r))
    chk.true("relocking a held rwlock is ACQ res=EDEADLK, not a wait",
                  all(r.name == "ACQ" for r in dead), repr(dead))
    wb = rec.sel("WAIT_BEGIN", kind="rwlock_rd", obj=lk, at_tid=cont)
    chk.eq("contended reads (holder = the writer, main)", [r.i("holder") for r in wb], [main] * k)
    chk.eq("failed waits", [r for r in rec.sel("WAIT_END", obj=lk) if r.get("res") not in ("0", "35")], [])
    chk.eq("trywrlock EBUSY (counted)", [(r.tid, r.i("fail")) for r in rec.sel("COUNTS", obj=lk, kind="rwlock_wr")
                                          if r.i("fail")], [(main, 1)])
    chk.eq("ACQ try records", rec.count("ACQ", obj=lk, op="try"), 0)
    chk.eq("INIT rwlock", rec.count("INIT", kind="rwlock", obj=lk), 1)
    chk.eq("DESTROY rwlock", rec.count("DESTROY", kind="rwlock", obj=lk), 1)
    chk.eq("threads", rec.stats.get("threads"), 1 + nr + nw + 1)


def t_condvar(ctx, chk, n=100, env=None):
    rec, info, tr = traced_fixture(ctx, chk, "condvar", [n], env=env)
    all_mode = (env or {}).get("WEFT_HOLDS") == "all"
    chk.eq("stdout", tr.out, b"condvar rounds=%d main_waited_each_round=yes\n" % n)
    m, ping, pong = to_int(info["mutex"]), to_int(info["ping"]), to_int(info["pong"])
    main, peer = int(info["main_tid"]), int(info["peer_tid"])
    mw, pw = int(info["main_waits"]), int(info["peer_waits"])
    chk.ge("main waits", mw, n)
    chk.eq("cond waits of main (on pong)", [(r.i("obj"), r.i("obj2")) for r in
                                           rec.sel("WAIT_BEGIN", kind="cond", at_tid=main)], [(pong, m)] * mw)
    chk.eq("cond waits of peer (on ping)", [(r.i("obj"), r.i("obj2")) for r in
                                           rec.sel("WAIT_BEGIN", kind="cond", at_tid=peer)], [(ping, m)] * pw)
    chk.eq("cond WAIT_END results", kinds(rec.sel("WAIT_END", kind="cond")), [("cond", "lock", "0")])
    chk.eq("stats WAIT_END.cond", rec.stats.get("WAIT_END.cond"), mw + pw)
    # a signal is recorded when someone waits on the condvar: each wait that ended
    # has its signal, by the other thread, between its begin and (shortly after) its end
    for cv, by, waiter in ((ping, main, peer), (pong, peer, main)):
        sigs = rec.sel("SIGNAL", obj=cv, op="signal")
        chk.true("signals on 0x%x: at most %d, by thread %d only (%d)" % (cv, n, by, len(sigs)),
                 len(sigs) <= n and {r.tid for r in sigs} <= {by})
        recs = rec.thread_records(waiter)
        for i, b in enumerate(recs[:-1]):
            e = recs[i + 1]
            if b.name != "WAIT_BEGIN" or b.i("obj") != cv or e.get("res") != "0":
                continue
            chk.true("the wait of %d on 0x%x at %d has its signal" % (waiter, cv, b.ns),
                     any(b.ns <= x.ns <= e.ns or (x.get("late") == "1" and e.ns < x.ns <= e.ns + 1000000)
                         for x in sigs))
    chk.eq("mutex acquisitions (locks + cond re-acquisitions, counted)", counted(rec, m), 2 * n + mw + pw)
    chk.eq("ACQ records on the mutex: its re-acquisitions in the cond waits",
           rec.count("ACQ", kind="mutex", obj=m, res=0), mw + pw)
    rels = rec.count("REL", kind="mutex", obj=m)
    if all_mode:
        chk.eq("mutex releases (unlocks + cond releases, all)", rels, 2 * n + mw + pw)
    else:
        chk.true("mutex releases: every hold that began in a cond wait, at most every one (%d)" % rels,
                 mw + pw <= rels <= 2 * n + mw + pw)


def t_barrier(ctx, chk, t=4, r=50):
    rec, info, tr = traced_fixture(ctx, chk, "barrier", [t, r])
    chk.eq("stdout", tr.out, b"barrier threads=%d rounds=%d serial=%d\n" % (t, r, r))
    b = to_int(info["barrier"])
    chk.eq("INIT barrier attr=T", [x.i("attr") for x in rec.sel("INIT", kind="barrier", obj=b)], [t])
    chk.eq("DESTROY barrier", rec.count("DESTROY", kind="barrier", obj=b), 1)
    chk.eq("barrier WAIT_BEGIN", rec.count("WAIT_BEGIN", kind="barrier", obj=b), t * r)
    chk.eq("barrier WAIT_END", rec.count("WAIT_END", kind="barrier", obj=b), t * r)
    begins, ends = {}, {}
    for x in rec.sel("WAIT_BEGIN", kind="barrier", obj=b):
        begins.setdefault(x.tid, []).append(x)
    for x in rec.sel("WAIT_END", kind="barrier", obj=b):
        ends.setdefault(x.tid, []).append(x)
    chk.eq("threads waiting", len(ends), t)
    chk.eq("waits per thread", sorted(len(v) for v in ends.values()), [r] * t)
    if len(ends) == t and all(len(v) == r for v in ends.values()) and \
            all(len(v) == r for v in begins.values()):
        for i in range(r):
            serial = sum(v[i].get("op") == "serial" for v in ends.values())
            chk.eq("round %d: serial ends" % i, serial, 1)
            last_in = max(v[i].ns for v in begins.values())
            first_out = min(v[i].ns for v in ends.values())
            chk.true("round %d: nobody leaves (%d) before the last arrives (%d)" % (i, first_out, last_in),
                     first_out >= last_in)
    chk.eq("failed barrier waits", [x for x in rec.sel("WAIT_END", kind="barrier") if x.get("res") != "0"], [])


def t_sem(ctx, chk, n=200):
    rec, info, tr = traced_fixture(ctx, chk, "sem", [n])
    chk.eq("stdout", tr.out,
           b"sem waits=%d trywait=EAGAIN timedwait=ETIMEDOUT named_value=1 reopen=ENOENT\n" % n)
    items, three, named = to_int(info["items"]), to_int(info["three"]), to_int(info["named"])
    prod = int(info["producer_tid"])
    main = int(rec.files[0]["pid"]) if rec.files else 0
    chk.eq("INIT items (value 0)", [x.i("attr") for x in rec.sel("INIT", kind="sem", obj=items)], [0])
    chk.eq("INIT three (value 3)", [x.i("attr") for x in rec.sel("INIT", kind="sem", obj=three)], [3])
    chk.eq("posts on items (counted, producer)", counted_by_tid(rec, items, "rel"), {prod: n})
    posts = rec.sel("REL", kind="sem", obj=items)
    chk.true("REL of posts on items: by the producer, at most n (%d)" % len(posts),
             len(posts) <= n and {x.tid for x in posts} <= {prod})
    chk.eq("waits on items that returned (counted)", counted(rec, items, kind="sem"), n)
    chk.ge("waits on items that waited: each has a post", len(posts),
           rec.count("WAIT_END", kind="sem", obj=items, op="lock", res=0))
    chk.eq("trywait EAGAIN (counted)", counted_by_tid(rec, items, "fail"), {main: 1})
    chk.eq("timedwait WAIT_BEGIN", rec.count("WAIT_BEGIN", kind="sem", obj=items, op="timed"), 1)
    chk.eq("timedwait WAIT_END ETIMEDOUT", [x.get("res") for x in
                                           rec.sel("WAIT_END", kind="sem", obj=items, op="timed")],
           [str(errno.ETIMEDOUT)])
    chk.eq("three: never waits", rec.count("WAIT_BEGIN", obj=three), 0)
    chk.eq("three: 3 acquisitions (counted)", counted(rec, three, kind="sem"), 3)
    chk.eq("three: 3 posts (counted)", counted(rec, three, "rel", kind="sem"), 3)
    chk.eq("three: no REL (nobody waits)", rec.count("REL", kind="sem", obj=three), 0)
    chk.eq("sem_destroy", sorted(x.i("obj") for x in rec.sel("DESTROY", kind="sem") if x.i("obj") != named),
           sorted([items, three]))
    name = info["name"]
    opens = rec.sel("SEM_OPEN")
    chk.eq("SEM_OPEN records (create, failed reopen)", [(x.i("obj"), x.get("name")) for x in opens],
           [(named, name), (0, name)])
    chk.eq("named: 2 acquisitions (counted)", counted(rec, named, kind="sem"), 2)
    chk.eq("named: 1 post (counted)", counted(rec, named, "rel", kind="sem"), 1)
    chk.eq("named: sem_close", rec.count("DESTROY", kind="sem", obj=named), 1)
    chk.eq("the named semaphore is gone", os.path.exists("/dev/shm/sem." + name.lstrip("/")), False)


def t_futex(ctx, chk, k=10):
    """fx-futex: K futex waits woken by main, one that returns EAGAIN, one wake of nobody."""
    rec, info, tr = traced_fixture(ctx, chk, "futex", [k])
    chk.eq("stdout", tr.out, b"fx-futex rounds=%d eagain=yes unwoken=0\n" % k)
    word, main, waiter = to_int(info["word"]), int(info["main_tid"]), int(info["waiter_tid"])
    chk.eq("futex WAIT_BEGIN of the waiter on the word", [(r.tid, r.i("obj")) for r in
                                                          rec.sel("WAIT_BEGIN", kind="futex")], [(waiter, word)] * (k + 1))
    chk.eq("futex WAIT_END results: K woken, then EAGAIN", [r.get("res") for r in rec.sel("WAIT_END", kind="futex")],
           ["0"] * k + [str(errno.EAGAIN)])
    sigs = rec.sel("SIGNAL", kind="futex")
    chk.eq("futex SIGNALs: K wakes of one waiter by main (the wake of nobody writes none)",
           [(r.tid, r.i("obj"), r.get("op")) for r in sigs], [(main, word, "signal")] * k)
    # each wait that ended with 0 has its wake between its begin and its end
    recs = rec.thread_records(waiter)
    for i, b in enumerate(recs[:-1]):
        e = recs[i + 1]
        if b.name == "WAIT_BEGIN" and b.get("kind") == "futex" and e.get("res") == "0":
            chk.true("the futex wait at %d has its wake" % b.ns, any(b.ns - 1000000 <= x.ns <= e.ns for x in sigs))
    chk.eq("header: futex waits recorded", [h.get("futex") for h in rec.files], ["recorded"] * len(rec.files))


def t_io(ctx, chk):
    rec, info, tr = traced_fixture(ctx, chk, "io", env={"WEFT_IO": "1"})
    chk.eq("stdout", tr.out, b"io poll=0 read=5 data=hello\n")
    rfd, main, wr = int(info["rfd"]), int(info["main_tid"]), int(info["writer_tid"])

    def waits(kind):
        out = []
        for (fn, tid), recs in rec.threads().items():
            for i, r in enumerate(recs[:-1]):
                if r.name == "WAIT_BEGIN" and r.get("kind") == kind:
                    out.append((tid, r, recs[i + 1]))
        return out
    p = waits("poll")
    chk.eq("poll waits", [(t, b.i("obj")) for t, b, e in p], [(main, rfd)])
    for t, b, e in p:
        chk.true("poll waited >= 14 ms (%d ns)" % (e.ns - b.ns), e.ns - b.ns >= 14000000)
    rd = waits("read")
    chk.eq("read waits", [(t, b.i("obj"), e.get("bytes"), e.get("res")) for t, b, e in rd],
           [(main, rfd, "5", "0")])
    pw = [(tid, r.i("w1"), r.i("w3")) for (fn, tid), recs in rec.threads().items() for r in recs
          if r.name == "PIPE_WRITE"]
    chk.eq("one PIPE_WRITE, by the writer, on the pipe's write end, of the 5 bytes written", pw, [(wr, rfd + 1, 5)])
    sl = sorted(waits("sleep"), key=lambda x: (x[0] != main, x[1].ns))
    chk.eq("sleep waits (main 10 ms, writer 20 ms + 5 ms)", [t for t, b, e in sl], [main, wr, wr])
    if len(sl) == 3:
        chk.true("main slept >= 9 ms", sl[0][2].ns - sl[0][1].ns >= 9000000)
        chk.true("writer slept >= 19 ms (nanosleep)", sl[1][2].ns - sl[1][1].ns >= 19000000)
        chk.true("writer slept >= 4 ms (usleep)", sl[2][2].ns - sl[2][1].ns >= 4000000)
        chk.true("sleeps shorter than 2 s", all(e.ns - b.ns < 2000000000 for t, b, e in sl))
    # a wait of 1 ms or more ends with a scheduler reading of the thread (SCHED right after WAIT_END)
    after, recs = [], rec.records  # every record (threads() leaves SYNC and SCHED out)
    for i, r in enumerate(recs):
        if r.name == "WAIT_END" and r.get("kind") == "sleep":
            nxt = [x for x in recs[i + 1:] if x.tid == r.tid and x.file == r.file and x.name != "SYNC"][:1]
            after.append((r.tid, bool(nxt) and nxt[0].name == "SCHED" and nxt[0].i("tid") == r.tid))
    chk.eq("every sleep of 5 ms or more is followed by a SCHED reading of its thread",
           sorted(after), sorted([(main, True), (wr, True), (wr, True)]))
    # and without WEFT_IO: the sleeps only
    tr2 = ctx.traced([ctx.fixture("io")])
    chk.eq("stdout without WEFT_IO", tr2.out, tr.out)
    rec2 = Recording(ctx, tr2.outdir)
    validate(chk, rec2)
    chk.eq("poll/read waits without WEFT_IO", [r for r in rec2.records if r.get("kind") in ("poll", "read")][:3], [])
    chk.eq("sleeps without WEFT_IO: all three",
           sorted(r.tid for r in rec2.records if r.name == "WAIT_BEGIN" and r.get("kind") == "sleep"),
           sorted([int(tr2.info()["main_tid"])] + [int(tr2.info()["writer_tid"])] * 2))
    # sleep(3): not seen by a nanosleep wrapper in glibc; recorded by its own
    tr3 = ctx.traced([ctx.fixture("io"), "sleep"])
    chk.eq("stdout of sleep(1)", tr3.out, b"io slept left=0\n")
    rec3 = Recording(ctx, tr3.outdir)
    validate(chk, rec3)
    s3 = [(b, e) for (fn, tid), recs in rec3.threads().items() for i, b in enumerate(recs[:-1])
          for e in [recs[i + 1]] if b.name == "WAIT_BEGIN" and b.get("kind") == "sleep"]
    chk.eq("sleep(1): one sleep wait", len(s3), 1)
    for b, e in s3:
        chk.true("sleep(1) waited >= 0.99 s (%d ns)" % (e.ns - b.ns), e.ns - b.ns >= 990000000)


def t_names(ctx, chk):
    rec, info, tr = traced_fixture(ctx, chk, "names")
    chk.eq("stdout", tr.out, b"names worker_before=fx-prctl\nnames main=fx-main worker=fx-worker toolong=ERANGE\n")
    main, wt, ws = int(info["main_tid"]), int(info["worker_tid"]), to_int(info["worker_self"])
    got = [(r.tid, r.i("thread"), r.get("name"), r.get("res")) for r in rec.sel("THREAD_NAME")]
    want = [(main, 0, "fx-main", "0"), (wt, 0, "fx-prctl", "0"), (main, ws, "fx-worker", "0"),
            (main, 0, "this-name-is-far-too-long", str(errno.ERANGE))]
    chk.eq("THREAD_NAME records", sorted(got), sorted(want))
    mine = [g for g in got if g[0] == main]
    chk.eq("main's THREAD_NAME order", mine, [w for w in want if w[0] == main])


def t_threadexit(ctx, chk):
    rec, info, tr = traced_fixture(ctx, chk, "threadexit")
    chk.eq("stdout", tr.out, b"threadexit values=1,2,3\nthreadexit t4 outlived main\n")
    main = int(info["main_tid"])
    starts = sorted(rec.sel("THREAD_START", main=0), key=lambda r: r.ns)
    chk.eq("threads started", len(starts), 4)
    exits = {r.tid: r.get("how") for r in rec.sel("THREAD_EXIT")}
    if len(starts) == 4:
        names = ["t1", "t2", "t3", "t4"]
        by_self = {}
        for s in starts:
            by_self.setdefault(s.i("self"), []).append(s.tid)
        tid_of = {}
        for nm in names:
            tids = by_self.get(to_int(info[nm]), [])
            tid_of[nm] = tids.pop(0) if tids else None
        chk.true("THREAD_START self values match t1..t4", None not in tid_of.values(), str(tid_of))
        want = {"t1": "return", "t2": "pthread_exit", "t3": "pthread_exit", "t4": "return"}
        for nm, how in want.items():
            chk.eq("THREAD_EXIT how of %s" % nm, exits.get(tid_of[nm]), how)
    chk.eq("THREAD_EXIT how of the main thread", exits.get(main), "pthread_exit")
    chk.eq("EXIT (the last thread ends the process)", [(r.get("how"), r.get("status"))
                                                       for r in rec.sel("EXIT")], [("return", "0")])
    joins = rec.sel("WAIT_BEGIN", kind="join")
    chk.eq("joins", sorted(r.i("obj") for r in joins), sorted(to_int(info[t]) for t in ("t1", "t2", "t3")))
    for r in joins:
        h = r.i("holder")
        chk.true("join holder is 0 or the joined thread", h == 0 or
                 any(s.tid == h and s.get("self") == r.get("obj") for s in starts), repr(r))


def t_detach(ctx, chk, n=6):
    rec, info, tr = traced_fixture(ctx, chk, "detach", [n])
    chk.eq("stdout", tr.out, b"detach threads=%d ran=%d\n" % (n, n))
    det = sorted(to_int(x) for x in info["detached"].split(","))
    chk.eq("THREAD_DETACH", sorted((r.i("thread"), r.get("res")) for r in rec.sel("THREAD_DETACH")),
           [(d, "0") for d in det])
    chk.eq("THREAD_CREATE", rec.count("THREAD_CREATE", res=0), n)
    chk.eq("THREAD_START (not main)", rec.count("THREAD_START", main=0), n)
    chk.eq("THREAD_EXIT how=return", rec.count("THREAD_EXIT", how="return"), n)
    m = to_int(info["mutex"])
    chk.eq("acquisitions of the mutex (counted)", counted(rec, m), n)
    chk.eq("counted by the detached threads", len(counted_by_tid(rec, m)), n)
    return tr


def t_detach_many(ctx, chk, n=40):
    """Threads that write a few records each take a 4 KiB first chunk from a slab of 32
    (reserved and mapped together), not 16 KiB each: the file is the header and the main
    thread's first chunk (20 KiB), two slabs (128 KiB each) and perhaps a later chunk of
    the main thread's, well below n * 16 KiB."""
    tr = t_detach(ctx, chk, n)
    files = [os.path.join(tr.outdir, f) for f in os.listdir(tr.outdir) if f.endswith(".wtrace")]
    size = sum(os.path.getsize(f) for f in files)
    chk.true("trace size %d <= 20 KiB + 2 slabs + 64 KiB for the main thread, < %d threads * 16 KiB"
             % (size, n), len(files) == 1 and size <= (20 + 2 * 128 + 64) * 1024 < n * 16 * 1024, str(files))


def t_detach_more(ctx, chk, n=300):
    """A process that makes many threads gets bigger slabs (one unmapping, a TLB flush, per
    slab): 32 and 32 chunks, then 64, 128 and 256. 300 threads take 512 chunks of 4 KiB; the
    file is those, the header and the main thread's first chunk (20 KiB) and perhaps a later
    chunk of the main thread's."""
    rec, info, tr = traced_fixture(ctx, chk, "detach", [n])
    chk.eq("stdout", tr.out, b"detach threads=%d ran=%d\n" % (n, n))
    chk.eq("THREAD_START (not main)", rec.count("THREAD_START", main=0), n)
    chk.eq("THREAD_EXIT how=return", rec.count("THREAD_EXIT", how="return"), n)
    files = [os.path.join(tr.outdir, f) for f in os.listdir(tr.outdir) if f.endswith(".wtrace")]
    size = sum(os.path.getsize(f) for f in files)
    slabs = (32 + 32 + 64 + 128 + 256) * 4
    chk.true("trace size %d: 20 KiB + slabs of 32, 32, 64, 128, 256 chunks (%d KiB) + up to 64 KiB" % (size, slabs),
             len(files) == 1 and (20 + slabs) * 1024 <= size <= (20 + slabs + 64) * 1024, str(files))


def t_longjmp(ctx, chk):
    """A signal handler that siglongjmps out of an unlock the agent records: the REL it had
    reserved before the real unlock is written as a skipped one (result EINTR, readers
    ignore it) when the handler writes its own record, and nothing after it is lost (the
    handler's INIT, the real unlock's REL, the join, the exit)."""
    rec, info, tr = traced_fixture(ctx, chk, "longjmp")
    chk.eq("stdout", tr.out, b"longjmp jumped=1 w_ran=1\n")
    m, scratch = to_int(info["m"]), to_int(info["scratch"])
    main, w = int(info["main_tid"]), int(info["w_tid"])
    chk.eq("main's RELs of m: the abandoned one, then the real one",
           [r.get("res") for r in rec.sel("REL", obj=m) if r.tid == main], ["4", "0"])
    chk.eq("the handler's INIT, after the abandoned REL", rec.count("INIT", obj=scratch), 1)
    chk.eq("w's wait on m ends with m", [r.get("res") for r in rec.sel("WAIT_END", obj=m) if r.tid == w], ["0"])
    chk.eq("main's join, after it", rec.count("WAIT_END", kind="join"), 1)
    chk.eq("EXIT", rec.count("EXIT"), 1)


def t_early(ctx, chk, n=5):
    """A library constructor that runs before the agent's uses threads, a mutex, a condvar
    and join: the agent starts at that first call, and the program works as without it."""
    rec, info, tr = traced_fixture(ctx, chk, "early", [n])
    chk.eq("stdout", tr.out, b"early sum=42 pairs=%d\n" % n)
    chk.eq("THREAD_START", rec.count("THREAD_START"), 2)
    chk.eq("THREAD_START main=1 first", [r.get("main") for r in rec.sel("THREAD_START")][:1], ["1"])
    chk.eq("WAIT_BEGIN.cond", rec.count("WAIT_BEGIN", kind="cond"), 1)
    chk.eq("joins", rec.count("WAIT_END", kind="join", res=0), 1)
    # constructor: lock + reacquire after the wait; its thread: lock; main: n pairs
    chk.eq("mutex acquisitions (counted, waits included)", rec.stats.get("counted.acq.mutex", 0), n + 3)
    chk.eq("PROCESS_INFO", rec.count("PROCESS_INFO"), 1)


def t_dlopen(ctx, chk):
    """A thread holding a lock of the program calls into the agent while another thread is inside
    dlopen, whose plugin's constructor waits for that lock (fx-dlopen.c): its first condition call, two
    condition waits whose stacks are taken after the plugin was loaded, a thread made by C11's
    thrd_create; traced and untraced (the agent loaded, WEFT_OUTPUT unset). The agent makes no lookup
    and loads nothing there (either would wait for the loader, and the loader for the lock), and the
    program ends as natively. A hang fails at the timeout."""
    for mode in ("broadcast", "wait", "c11"):
        nat, tr = ctx.compare(chk, [ctx.fixture("dlopen"), mode], timeout=30)
        chk.eq("%s: stdout" % mode, tr.out, b"dlopen %s ok registered=1\n" % mode.encode())
    e = ctx.base_env()
    e["LD_PRELOAD"] = ctx.agent
    un = ctx.run([ctx.fixture("dlopen"), "broadcast"], e, timeout=30)
    chk.eq("untraced: exit status and stdout", (un.rc, un.out), (0, b"dlopen broadcast ok registered=1\n"))


def t_exitthreads(ctx, chk):
    argv = [ctx.fixture("exitthreads")]
    nat, tr = ctx.compare(chk, argv, rc=3)
    info = tr.info()
    blocked = [int(t) for t in info.get("blocked_tids", "0,0").split(",")]
    rec = Recording(ctx, tr.outdir)
    validate(chk, rec, allow_open=blocked)
    chk.eq("stdout", tr.out, b"exitthreads exiting with 3\n")
    pid = int(rec.files[0]["pid"]) if rec.files else 0
    chk.eq("EXIT", [(r.get("how"), r.get("status"), r.tid) for r in rec.sel("EXIT")], [("exit", "3", pid)])
    never = to_int(info["never"])
    for t in blocked:
        recs = rec.thread_records(t)
        last = recs[-1] if recs else None
        chk.true("thread %d ends inside its sem wait" % t, last is not None and last.name == "WAIT_BEGIN"
                 and last.get("kind") == "sem" and last.i("obj") == never, repr(last))
        chk.eq("THREAD_EXIT return/pthread_exit of blocked thread %d" % t,
               [r.get("how") for r in rec.sel("THREAD_EXIT", at_tid=t) if r.get("how") != "at_process_exit"], [])
        chk.ge("SCHED sample of blocked thread %d taken at exit (by main)" % t,
               len([r for r in rec.sel("SCHED", at_tid=pid) if r.i("tid") == t]), 1)
    selfs = sorted(r.get("self") for t in blocked for r in rec.sel("THREAD_START", at_tid=t))
    chk.eq("THREAD_EXIT at_process_exit written by main for each blocked thread",
           sorted(r.get("self") for r in rec.sel("THREAD_EXIT", at_tid=pid) if r.get("how") == "at_process_exit"),
           selfs)


def reserve_checks(chk, path, starts):
    """A parent allocates its children's space in the file ahead of them (reserve_end, in pages): the
    file ends where that space or the space handed out ends, with no hole"""
    with open(path, "rb") as fh:
        head = fh.read(192)
    alloc_end, = struct.unpack_from("<Q", head, 176)
    reserve_end = struct.unpack_from("<I", head, 188)[0] * 4096
    st = os.stat(path)
    chk.true("%s: space allocated ahead for the %d processes started (reserve_end %d, alloc_end %d)"
             % (os.path.basename(path), starts, reserve_end, alloc_end), reserve_end > 0)
    chk.eq("%s: the file ends where its space ends" % os.path.basename(path), st.st_size,
           max(alloc_end, reserve_end))
    chk.true("%s: no hole (%d blocks of 512 for %d bytes)" % (os.path.basename(path), st.st_blocks, st.st_size),
             st.st_blocks * 512 >= st.st_size)


def t_forktree(ctx, chk):
    env = {"WEFT_SESSION": "5eed0123abcd"}
    argv = [ctx.fixture("forktree")]
    nat, tr = ctx.compare(chk, argv, env)
    chk.eq("stdout", tr.out, b"forktree child1=5 child2=7\n")
    info = tr.info()
    p, c1, c2 = int(info["parent"]), int(info["child1"]), int(info["child2"])
    rec = Recording(ctx, tr.outdir)
    f = rec.name
    validate(chk, rec, exits={f(p, 0): 1, f(c1, 0): 0, f(c1, 1): 1, f(c2, 0): 1})
    # one file, the parent's: the children (forked, and the image child 1 exec'd) are sections in it
    chk.eq("trace files", rec.disk_files(), ["%d.0.wtrace" % p])
    chk.eq("sections (pid, image)", sorted((int(h["pid"]), int(h["image"])) for h in rec.sections()),
           sorted([(c1, 0), (c1, 1), (c2, 0)]))
    reserve_checks(chk, os.path.join(tr.outdir, "%d.0.wtrace" % p), 3)
    me = os.getpid()
    for (pid, img), ppid in {(p, 0): me, (c1, 0): p, (c1, 1): p, (c2, 0): p}.items():
        h = rec.file(pid, img)
        if chk.true("file %s" % f(pid, img), h is not None):
            chk.eq("%s ppid" % f(pid, img), int(h["ppid"]), ppid)
            chk.eq("%s session" % f(pid, img), h["session"], "00005eed0123abcd")
    chk.eq("parent FORK records", [(r.get("how"), r.i("child"), r.get("res"))
                                   for r in rec.sel("FORK", in_file=f(p, 0))],
           [("fork", c1, "0"), ("fork", c2, "0")])
    ends = rec.sel("WAIT_END", kind="child", in_file=f(p, 0))
    chk.eq("parent waitpid ends", [(r.i("pid"), r.i("status"), r.get("res")) for r in ends],
           [(c1, 5 << 8, "0"), (c2, 7 << 8, "0")])
    chk.eq("parent waitpid begins", [(r.i("obj"), r.i("obj2")) for r in
                                     rec.sel("WAIT_BEGIN", kind="child", in_file=f(p, 0))], [(c1, c1), (c2, c2)])
    # child 1: EXEC as its last record, then the new image
    c10 = [r for r in rec.sel(in_file=f(c1, 0)) if r.name not in BOOKKEEPING]
    exe = os.path.realpath(ctx.fixture("forktree"))
    chk.true("EXEC is the last record of %s" % f(c1, 0), c10 and c10[-1].name == "EXEC"
             and c10[-1].get("path") == info["exe"], repr(c10[-1:]))
    chk.eq("EXEC path", info.get("exe"), exe)
    pi = rec.sel("PROCESS_INFO", in_file=f(c1, 1))
    chk.eq("new image PROCESS_INFO", [(r.get("argv"), r.get("exe")) for r in pi],
           [(["fx-forktree", "exec-child", "5"], exe)])
    chk.true("the exec'd image is child 1's image 1 (a section numbered by its start)", rec.file(c1, 1) is not None)
    chk.eq("new image EXIT", [(r.get("how"), r.get("status")) for r in rec.sel("EXIT", in_file=f(c1, 1))],
           [("exit", "5")])
    c20 = [r for r in rec.sel(in_file=f(c2, 0)) if r.name in ("EXEC", "EXEC_FAILED", "EXIT")]
    chk.eq("child 2: failed exec, then _exit(7)", [(r.name, r.get("path"), r.get("errno"), r.get("how"),
                                                    r.get("status")) for r in c20],
           [("EXEC", "/nonexistent/weft-fx-no-such-program", None, None, None),
            ("EXEC_FAILED", None, str(errno.ENOENT), None, None), ("EXIT", None, None, "_exit", "7")])
    chk.eq("parent EXIT", [(r.get("how"), r.get("status")) for r in rec.sel("EXIT", in_file=f(p, 0))],
           [("return", "0")])
    chk.eq("lock pairs per file (counted)", {fn: counted(rec, kind="mutex", in_file=fn)
                                   for fn in (f(p, 0), f(c1, 0), f(c1, 1), f(c2, 0))},
           {f(p, 0): 1, f(c1, 0): 0, f(c1, 1): 3, f(c2, 0): 2})
    # one clock for the recording: causes come before their effects across processes
    if c10 and c10[-1].name == "EXEC":
        first_new = rec.sel(in_file=f(c1, 1))
        chk.true("new image starts (%d) after EXEC (%d)" % (first_new[0].ns, c10[-1].ns),
                 first_new and first_new[0].ns >= c10[-1].ns)
    ex = rec.sel("EXIT", in_file=f(c1, 1))
    if ex and ends:
        chk.true("parent reaps child 1 (%d) after its EXIT (%d)" % (ends[0].ns, ex[0].ns), ends[0].ns >= ex[0].ns)


def t_vfork(ctx, chk):
    argv = [ctx.fixture("vfork")]
    nat, tr = ctx.compare(chk, argv)
    chk.eq("stdout", tr.out, b"vfork child1=4 child2=9\n")
    info = tr.info()
    p, c1, c2 = int(info["parent"]), int(info["child1"]), int(info["child2"])
    rec = Recording(ctx, tr.outdir)
    pf, cf = rec.name(p, 0), rec.name(c1, 0)
    validate(chk, rec, exits={pf: 1, cf: 1})
    chk.eq("trace images: the parent's file, the exec'd child's section in it (none for the child whose "
           "exec failed)", sorted((int(h["pid"]), "@" in h["name"]) for h in rec.files), sorted([(p, False), (c1, True)]))
    h = rec.file(c1, 0)
    if h:
        chk.eq("exec'd vfork child ppid", int(h["ppid"]), p)
    chk.eq("parent: no EXEC/EXEC_FAILED from the vfork children",
           [r for r in rec.sel(in_file=pf) if r.name in ("EXEC", "EXEC_FAILED")], [])
    chk.eq("parent EXIT (no _exit of a vfork child)", [(r.get("how"), r.get("status"))
                                                       for r in rec.sel("EXIT", in_file=pf)], [("return", "0")])
    chk.eq("child image PROCESS_INFO argv", [r.get("argv") for r in rec.sel("PROCESS_INFO", in_file=cf)],
           [["fx-vfork", "exec-child"]])
    chk.eq("child image EXIT", [(r.get("how"), r.get("status")) for r in rec.sel("EXIT", in_file=cf)],
           [("exit", "4")])
    chk.eq("child image lock pairs (counted)", counted(rec, kind="mutex", in_file=cf), 2)
    chk.eq("parent waitpid ends", [(r.i("pid"), r.i("status")) for r in rec.sel("WAIT_END", kind="child")],
           [(c1, 4 << 8), (c2, 9 << 8)])
    # no fork or spawn loaded libunwind, and no handler can run: the blocking waits load it for their stacks
    wb = rec.sel("WAIT_BEGIN", kind="child", in_file=pf)
    chk.true("parent waitpid begins have stacks through fx-vfork",
             len(wb) == 2 and all(r.i("stack") and stack_in_module(rec, r, "/fx-vfork") for r in wb), repr(wb))


def t_sigchld(ctx, chk):
    """A blocking wait() inside a SIGCHLD handler has its stack, and libunwind was loaded before
    (at the fork), never inside the handler: a dlopen there (malloc) corrupted the heap of a
    program whose malloc the signal interrupted."""
    argv = [ctx.fixture("sigchld")]
    nat, tr = ctx.compare(chk, argv)
    chk.eq("stdout", tr.out, b"sigchld status=3\n")
    chk.eq("native: no libunwind", nat.info().get("unwind_after_fork"), "no")
    info = tr.info()
    chk.eq("traced: libunwind loaded by the fork, before the child ended", info.get("unwind_after_fork"), "yes")
    rec = Recording(ctx, tr.outdir)
    c = int(info["child"])
    chk.eq("the handler's wait", [(r.i("pid"), r.i("status")) for r in rec.sel("WAIT_END", kind="child")],
           [(c, 3 << 8)])
    wb = rec.sel("WAIT_BEGIN", kind="child")
    chk.true("its stack goes through fx-sigchld (on_sigchld)",
             len(wb) == 1 and wb[0].i("stack") != 0 and stack_in_module(rec, wb[0], "/fx-sigchld"), repr(wb))
    none = ctx.traced(argv, {"WEFT_STACKS": "none"})
    chk.eq("WEFT_STACKS=none: the same run", (none.rc, none.out), (0, b"sigchld status=3\n"))
    chk.eq("WEFT_STACKS=none: libunwind is not loaded", none.info().get("unwind_after_fork"), "no")
    # a child the agent did not see made (vfork): libunwind was not loaded, and a wait inside the
    # handler (its signal blocked there) must not load it: no stack, nothing mapped
    nat, tr = ctx.compare(chk, argv + ["vfork"])
    chk.eq("vfork: stdout", tr.out, b"sigchld status=3\n")
    chk.eq("vfork: libunwind not loaded inside the handler", tr.info().get("unwind_after_handler"), "no")
    rec = Recording(ctx, tr.outdir)
    wb = rec.sel("WAIT_BEGIN", kind="child")
    chk.eq("vfork: the handler's wait, recorded without a stack", [r.i("stack") for r in wb], [0])


def t_execfail(ctx, chk, n=100):
    """A failed exec writes a snapshot of the other threads' counts (in case it
    succeeds and ends them); the failure makes it void in the import."""
    rec, info, tr = traced_fixture(ctx, chk, "execfail", [n])
    chk.eq("stdout", tr.out, b"execfail exec=ENOENT pairs=%d\n" % (2 * n))
    m, worker = to_int(info["mutex"]), int(info["worker_tid"])
    chk.eq("EXEC then EXEC_FAILED", [r.name for r in rec.records if r.name in ("EXEC", "EXEC_FAILED")],
           ["EXEC", "EXEC_FAILED"])
    chk.eq("the worker's counts (its own, and the snapshot written for it at the exec)",
           counted(rec, m, tid=worker), n + n + n)
    snap = [r for r in rec.sel("COUNTS", obj=m, tid=worker) if r.tid != worker]
    chk.eq("one snapshot of the worker's counts, written by main after EXEC", [(r.tid, r.i("acq")) for r in snap],
           [(rec.files[0] and int(rec.files[0]["pid"]), n)])


def t_spawn(ctx, chk):
    argv = [ctx.fixture("spawn")]
    nat, tr = ctx.compare(chk, argv)
    chk.eq("stdout", tr.out, b"spawn child=6 missing=ENOENT\n")
    info = tr.info()
    p, c = int(info["parent"]), int(info["child"])
    rec = Recording(ctx, tr.outdir)
    pf, cf = rec.name(p, 0), rec.name(c, 0)
    validate(chk, rec, exits={pf: 1, cf: 1})
    chk.eq("trace images: the parent's file, the spawned child's section in it",
           sorted((int(h["pid"]), "@" in h["name"]) for h in rec.files), sorted([(p, False), (c, True)]))
    reserve_checks(chk, os.path.join(tr.outdir, "%d.0.wtrace" % p), 1)
    forks = rec.sel("FORK", in_file=pf)
    chk.eq("FORK records", [(r.get("how"), r.i("child"), r.get("res")) for r in forks],
           [("spawn", c, "0"), ("spawn", -1, str(errno.ENOENT))])
    h = rec.file(c, 0)
    if h:
        chk.eq("spawned child ppid", int(h["ppid"]), p)
    chk.eq("child PROCESS_INFO argv", [r.get("argv") for r in rec.sel("PROCESS_INFO", in_file=cf)],
           [["fx-spawn", "child"]])
    chk.eq("child EXIT", [(r.get("how"), r.get("status")) for r in rec.sel("EXIT", in_file=cf)], [("exit", "6")])
    chk.eq("child lock pair (counted)", counted(rec, kind="mutex", in_file=cf), 1)
    chk.eq("parent waitpid", [(r.i("pid"), r.i("status")) for r in rec.sel("WAIT_END", kind="child")],
           [(c, 6 << 8)])


def run_until_ready(ctx, argv, env, line, sig):
    """Start argv, wait for `line` on stdout, send sig; return (rc, stdout, stderr)."""
    p = subprocess.Popen(argv, env=env, cwd=ctx.tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        got = p.stdout.readline()
        if got.strip() == line:
            p.send_signal(sig)
        out, err = p.communicate(timeout=TIMEOUT)
    except Exception:
        p.kill()
        p.communicate()
        raise
    return p.returncode, got + out, err.decode("utf-8", "replace")


def killed_run(ctx, chk, args):
    argv = [ctx.fixture("killme")] + [str(a) for a in args]
    rc_n, out_n, _ = run_until_ready(ctx, argv, ctx.base_env(), b"ready", signal.SIGKILL)
    outdir = ctx.new_dir("rec-kill-%s" % args[-1])
    rc_t, out_t, err_t = run_until_ready(ctx, argv, ctx.traced_env(outdir), b"ready", signal.SIGKILL)
    chk.eq("native exit (killed)", rc_n, -signal.SIGKILL)
    chk.eq("traced exit (killed)", rc_t, -signal.SIGKILL)
    chk.eq("stdout", out_t, out_n)
    chk.eq("stdout", out_t, b"ready\n")
    info = Result(argv, rc_t, out_t, err_t).info()
    rec = Recording(ctx, outdir)
    tids = {r.tid for r in rec.sel("THREAD_START", main=0)}
    validate(chk, rec, allow_open=tids, exits={only_file(rec): 0})
    return rec, to_int(info["mutex"]), int(info["pairs"])


def t_killme(ctx, chk, n=500):
    """SIGKILL: what was written stays; counts not yet written are lost, no more
    than the last flush interval's, and none when the thread blocked in a
    recorded wait before the kill."""
    rec, m, done = killed_run(ctx, chk, [n, "wait"])
    chk.eq("pairs done", done, n)
    chk.eq("counted before a recorded wait, then killed: all of them", counted(rec, m), n)
    rec, m, done = killed_run(ctx, chk, [n, "pause"])
    chk.true("counted, killed in pause(): at most the pairs done (%d of %d)" % (counted(rec, m), done),
             counted(rec, m) <= done)
    # 300 ms of pairs: the counts are written every 50 ms of the thread's work
    rec, m, done = killed_run(ctx, chk, [300, "ms"])
    got = counted(rec, m)
    chk.true("counted, killed after 300 ms of pairs: some, at most the pairs done (%d of %d)" % (got, done),
             0 < got <= done)
    flushes = [r for r in rec.sel("COUNTS", obj=m) if r.i("acq")]
    chk.ge("COUNTS records of the mutex during 300 ms of pairs (every 50 ms)", len(flushes), 2)
    chk.eq("REL and ACQ records of the mutex (nobody waits)",
           rec.count("REL", obj=m) + rec.count("ACQ", obj=m), 0)


def t_segv(ctx, chk, n=500):
    argv = [ctx.fixture("segv"), str(n)]
    nat, tr = ctx.compare(chk, argv, rc=-signal.SIGSEGV)
    chk.eq("stdout", tr.out, b"crashing after %d\n" % n)
    info = tr.info()
    rec = Recording(ctx, tr.outdir)
    validate(chk, rec, exits={only_file(rec): 0})
    m = to_int(info["mutex"])
    chk.true("counted before the crash: at most the pairs done (%d of %d)" % (counted(rec, m), n),
             counted(rec, m) <= n)
    chk.eq("REL and ACQ records of the mutex (nobody waits)",
           rec.count("REL", obj=m) + rec.count("ACQ", obj=m), 0)
    chk.eq("no core file left in the cwd", [x for x in os.listdir(ctx.tmp) if x.startswith("core")], [])


# ---- environment

def untraced_case(ctx, chk, label, env_out, argv=None, images=1, cwd_check=True):
    """Run with LD_PRELOAD and a WEFT_OUTPUT that cannot be used (env_out: a
    path, or None for unset): same stdout and status as native, one "weft:"
    line for the whole run (not one per process image: images counts them),
    no file created in the cwd."""
    argv = argv or [ctx.fixture("uncontended"), "300"]
    cwd = ctx.new_dir("cwd-" + re.sub(r"[^A-Za-z0-9_.-]", "_", label))
    nat = ctx.native(argv, cwd=cwd)
    env = ctx.traced_env(None)
    if env_out is not None:
        env["WEFT_OUTPUT"] = env_out
    tr = ctx.run(argv, env, cwd=cwd)
    chk.eq("%s: exit status" % label, tr.rc, nat.rc)
    chk.eq("%s: stdout" % label, tr.out, nat.out)
    wl = tr.weft_lines()
    chk.eq("%s: one weft: line on stderr for %d image%s (%r)" % (label, images, "s" if images > 1 else "", wl),
           len(wl), 1)
    others = [l for l in tr.err.splitlines() if not l.startswith(("weft:", "fx:"))]
    chk.eq("%s: other stderr lines" % label, others, [])
    if cwd_check:
        chk.eq("%s: files created in the cwd" % label, os.listdir(cwd), [])
    return tr


def t_env_output(ctx, chk):
    missing = os.path.join(ctx.tmp, "does-not-exist")
    tr = untraced_case(ctx, chk, "missing dir", missing)
    chk.eq("missing dir is not created", os.path.exists(missing), False)
    chk.true("message names the directory", any(missing in l for l in tr.weft_lines()), str(tr.weft_lines()))
    afile = os.path.join(ctx.tmp, "a-file")
    open(afile, "w").close()
    untraced_case(ctx, chk, "WEFT_OUTPUT is a file", afile)
    chk.eq("the file is untouched", os.path.getsize(afile), 0)
    untraced_case(ctx, chk, "WEFT_OUTPUT=/proc/self", "/proc/self")
    if os.geteuid() != 0:
        ro = ctx.new_dir("read-only")
        os.chmod(ro, 0o500)
        untraced_case(ctx, chk, "read-only dir", ro)
        chk.eq("nothing written in the read-only dir", os.listdir(ro), [])
    else:
        chk.note("running as root: the read-only directory case is not testable")
    untraced_case(ctx, chk, "WEFT_OUTPUT unset", None)
    untraced_case(ctx, chk, "WEFT_OUTPUT empty", "")
    chk.eq("nothing left in the scenario's temp dir but ours",
           sorted(x for x in os.listdir(ctx.tmp) if not x.startswith(("cwd-", "a-file", "read-only"))), [])


def t_env_untraced_identical(ctx, chk):
    """With the agent loaded but not recording, every fixture behaves as natively."""
    cases = [("contended", ["10"], 1), ("condvar", ["50"], 1), ("barrier", ["3", "20"], 1),
             ("rwlock", ["2", "50", "2", "50", "3"], 1), ("sem", ["100"], 1), ("mutextypes", [], 1),
             ("names", [], 1), ("threadexit", [], 1), ("detach", ["4"], 1), ("exitthreads", [], 1),
             ("forktree", [], 2), ("vfork", [], 2), ("spawn", [], 2), ("segv", ["100"], 1), ("futex", ["5"], 1)]
    for name, args, images in cases:
        untraced_case(ctx, chk, name, None, argv=[ctx.fixture(name)] + args, images=images)
    untraced_case(ctx, chk, "io with WEFT_IO=1", None, argv=[ctx.fixture("io")])


def t_env_stacks(ctx, chk):
    k = 8
    for mode in ("none", "contended", "all", "bogus"):
        argv = [ctx.fixture("contended"), str(k)]
        nat = ctx.native(argv)
        tr = ctx.traced(argv, {"WEFT_STACKS": mode})
        chk.eq("WEFT_STACKS=%s: exit" % mode, tr.rc, 0)
        chk.eq("WEFT_STACKS=%s: stdout" % mode, tr.out, nat.out)
        chk.eq("WEFT_STACKS=%s: weft: lines" % mode, len(tr.weft_lines()), 1 if mode == "bogus" else 0)
        rec = Recording(ctx, tr.outdir)
        validate(chk, rec)
        wb = contended_checks(ctx, chk, rec, tr.info(), k, stacks_all=mode == "all")
        ids = [r.i("stack") for r in wb]
        if mode == "none":
            chk.eq("WEFT_STACKS=none: stack ids", set(ids), {0})
            chk.eq("WEFT_STACKS=none: STACK records", rec.stats.get("STACK", 0), 0)
        else:
            chk.true("WEFT_STACKS=%s: every contended wait has a stack" % mode, ids and 0 not in ids, str(ids))
            chk.true("WEFT_STACKS=%s: a stack goes through fx-contended" % mode,
                     wb and stack_in_module(rec, wb[0], "/fx-contended"))
            chk.eq("WEFT_STACKS=%s: one stack for one call site" % mode, len(set(ids)), 1)
        creates = [r.i("stack") for r in rec.sel("THREAD_CREATE")]
        if mode == "all":
            chk.true("WEFT_STACKS=all: THREAD_CREATE carries a stack", creates and 0 not in creates, str(creates))
        else:
            chk.eq("WEFT_STACKS=%s: THREAD_CREATE carries no stack" % mode, creates, [0])


def t_stack_cache(ctx, chk, k=20):
    """One call site, two callers with the same frame layout, alternating: the
    per-thread stack cache must never give a wait the other caller's stack."""
    rec, info, tr = traced_fixture(ctx, chk, "stacks", [k])
    chk.eq("stdout", tr.out, b"stacks rounds=%d taken=%d\n" % (k, k))
    m, waiter = to_int(info["mutex"]), int(info["waiter_tid"])
    via = {"a": to_int(info["via_a"]), "b": to_int(info["via_b"])}
    wb = rec.sel("WAIT_BEGIN", kind="mutex", obj=m, at_tid=waiter)
    chk.eq("a wait in every round", len(wb), k)
    stacks = {r.i("id"): [to_int(x) for x in r.get("ips", "").split(",") if x] for r in rec.sel("STACK")}

    def into(ips, fn):
        """a return address inside fn: fn is the nearest of the two at or below it"""
        for ip in ips:
            below = [(ip - a, name) for name, a in via.items() if 0 < ip - a < 64]
            if below and min(below)[1] == fn:
                return True
        return False
    got = []
    for r in wb:
        ips = stacks.get(r.i("stack"), [])
        got.append("a" if into(ips, "a") and not into(ips, "b") else
                   "b" if into(ips, "b") and not into(ips, "a") else "?")
    chk.eq("the caller in each wait's stack (via_a, via_b in turn)", got, ["a", "b"] * (k // 2))
    chk.eq("two stacks: one per caller", len({r.i("stack") for r in wb}), 2)


def t_stack_cache_rbp(ctx, chk, ks=(20, 200)):
    """Waits from one call site whose stack holds a word that changes every time (the round number in
    rbp, saved by the agent's own frames, as code built without frame pointers leaves it) are walked
    once, not at every wait: the stack cache keys only the saved rbp values a frame's CFA may come
    from. Walks are counted by libunwind's signal-mask calls (two a frame it steps; strace -c): in
    rbp mode they do not grow with the waits; in depth mode (12 call paths in turn, more than the
    cache holds) they do, which shows the count sees walks."""
    if not shutil.which("strace"):
        chk.true("strace is installed (.ci/deps)", False)
        return
    calls = {}
    for mode in ("rbp", "depth"):
        for k in ks:
            d = ctx.new_dir("sc-%s-%d" % (mode, k))
            out = os.path.join(ctx.tmp, "strace-%s-%d.txt" % (mode, k))
            env = ctx.base_env()
            agent_env = ["-E", "LD_PRELOAD=" + ctx.agent, "-E", "WEFT_OUTPUT=" + d]
            r = ctx.run(["strace", "-f", "-c", "-e", "trace=rt_sigprocmask", "-o", out] + agent_env +
                        [ctx.fixture("stacks"), str(k), mode], env)
            chk.eq("%s %d: stdout" % (mode, k), r.out, b"stacks rounds=%d taken=%d\n" % (k, k))
            with open(out) as f:
                m = re.search(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)(?:\s+\d+)?\s+rt_sigprocmask", f.read(), re.M)
            calls[(mode, k)] = int(m.group(1)) if m else 0
            rec = Recording(ctx, d)
            wb = [r for r in rec.sel("WAIT_BEGIN", kind="mutex") if r.i("stack")]
            chk.eq("%s %d: a wait with a stack in every round" % (mode, k), len(wb), k)
            if mode == "rbp":
                chk.eq("%s %d: one stack for the one call path" % (mode, k), len({r.i("stack") for r in wb}), 1)
    more = {mode: calls[(mode, ks[1])] - calls[(mode, ks[0])] for mode in ("rbp", "depth")}
    chk.true("depth: the %d more waits walked (%d more signal-mask calls; the count sees walks)"
             % (ks[1] - ks[0], more["depth"]), more["depth"] >= 2 * (ks[1] - ks[0]), str(calls))
    chk.true("rbp: the %d more waits from one call site not walked (%d more signal-mask calls)"
             % (ks[1] - ks[0], more["rbp"]), more["rbp"] < 20, str(calls))


def t_stack_cache_fallback(ctx, chk, k=12):
    """A frame libunwind unwinds by rbp (no unwind information: its fallback reads the return address at
    rbp + 8) whose rbp alone tells two stacks apart: fx-stacks fallback points rbp at one of two frames it
    lays out (B in even rounds, A in odd), both written every round. The cache must key that rbp: each
    wait's stack goes through fx_fake_ret_b or fx_fake_ret_a as its round says (a key without it gave
    every wait the first round's stack)."""
    rec, info, tr = traced_fixture(ctx, chk, "stacks", [k, "fallback"])
    chk.eq("stdout", tr.out, b"stacks rounds=%d taken=%d\n" % (k, k))
    m, waiter = to_int(info["mutex"]), int(info["waiter_tid"])
    fake = {"a": to_int(info["fake_a"]), "b": to_int(info["fake_b"])}
    stacks = {r.i("id"): [to_int(x) for x in r.get("ips", "").split(",") if x] for r in rec.sel("STACK")}
    got = []
    for r in rec.sel("WAIT_BEGIN", kind="mutex", obj=m, at_tid=waiter):
        ips = stacks.get(r.i("stack"), [])
        got.append("".join(name for name, a in sorted(fake.items()) if a in ips) or "?")
    chk.eq("the fake frame in each wait's stack (B, A in turn)", got, ["b", "a"] * (k // 2))


def t_env_grow_lock_dead(ctx, chk):
    """The lock that extends a tree's file (the header's grow_lock, a thread id) held by a thread that
    died holding it (killed while extending the file) is taken over: the next process of the tree
    writes its section all the same, and does not wait forever."""
    import struct
    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid: a thread id no thread has now
    d = ctx.new_dir("grow-lock")
    sh = 'read x; exec "$0" 30'
    p = subprocess.Popen(["/bin/sh", "-c", sh, ctx.fixture("uncontended")], env=ctx.traced_env(d),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ctx.tmp)
    # sh has made the file: mark its lock held by the dead thread, then let sh exec the fixture
    deadline = time.time() + 30
    while not os.listdir(d) and time.time() < deadline:
        time.sleep(0.01)
    (name,) = os.listdir(d) or ["?"]
    path = os.path.join(d, name)
    while os.path.exists(path) and os.path.getsize(path) < 4096 and time.time() < deadline:
        time.sleep(0.01)
    with open(path, "r+b") as f:
        f.seek(184)
        f.write(struct.pack("<I", dead.pid))
    try:
        out, err = p.communicate(b"go\n", timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        chk.true("the fixture finished (not stuck on the dead thread's lock)", False)
        return
    rec = Recording(ctx, d)
    chk.eq("exit status", p.returncode, 0)
    chk.eq("sh's file, the fixture a section in it (its lock taken over)",
           (rec.disk_files(), sorted(int(h["image"]) for h in rec.files)), ([name], [0, 1]))
    with open(path, "rb") as f:
        f.seek(184)
        chk.eq("the lock free again", struct.unpack("<I", f.read(4))[0], 0)


def t_env_no_room(ctx, chk):
    """A fork child the tree's file has no room for (here the file size limit, 20 KiB: the parent's
    header and first chunk) runs untraced, as it would natively, and is counted: one lost record in
    its parent's header for each such child."""
    import resource
    import struct
    d = ctx.new_dir("no-room")
    limit = 20 * 1024

    def lim():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    argv = [ctx.fixture("forktree")]
    p = subprocess.run(argv, env=ctx.traced_env(d, {"WEFT_SESSION": "5eed0123abce"}), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, cwd=ctx.tmp, preexec_fn=lim, timeout=120)
    chk.eq("exit status and stdout as natively", (p.returncode, p.stdout), (0, b"forktree child1=5 child2=7\n"))
    files = sorted(os.listdir(d))
    parent = [f for f in files if os.path.getsize(os.path.join(d, f)) == limit]
    chk.true("the parent's file is at the limit (%s)" % files, len(parent) >= 1)
    lost = []
    for f in files:
        with open(os.path.join(d, f), "rb") as fh:
            head = fh.read(96)
        lost.append(struct.unpack_from("<Q", head, 80)[0] if len(head) == 96 else -1)
    # the two forked children (child 1's exec'd image makes a file of its own: a new file fits)
    chk.true("two children counted as lost in the parent's header (%s: %s)" % (files, lost), 2 in lost)


def t_env_file_join(ctx, chk):
    """WEFT_FILE names the file a process tree writes into (trace version 7): a process started with it
    writes a section there, but only into a file of its own session and host; a stale value (no such
    file, another run's file) makes it write a file of its own, and leaves the other file as it was."""
    argv = [ctx.fixture("uncontended"), "30"]
    # the tree's first process sets it for its children: sh execs the fixture, which joins sh's file
    r = ctx.traced(["/bin/sh", "-c", 'exec "$0" 30', argv[0]])
    rec = Recording(ctx, r.outdir)
    chk.eq("sh and the fixture it execs: one file, the fixture a section in it",
           (rec.disk_files(), sorted(int(h["image"]) for h in rec.files)), ([only_file(rec)], [0, 1]))
    # a stale WEFT_FILE: no such file in the directory
    r = ctx.traced(argv, {"WEFT_FILE": "99999.0"})
    chk.eq("WEFT_FILE naming no file: a file of its own (one image, no section)",
           (len(os.listdir(r.outdir)), trace_images(ctx, r.outdir)), (1, 1))
    # another session's file: not joined, not touched
    d = ctx.new_dir("other-session")
    r1 = ctx.traced(argv, {"WEFT_SESSION": "1111"}, outdir=d)
    (first,) = os.listdir(d)
    size = os.path.getsize(os.path.join(d, first))
    r2 = ctx.traced(argv, {"WEFT_SESSION": "2222", "WEFT_FILE": first[:-len(".wtrace")]}, outdir=d)
    chk.eq("another session's file: not joined (two files), the first one left as it was",
           (len(os.listdir(d)), os.path.getsize(os.path.join(d, first))), (2, size))
    chk.eq("both runs silent", (r1.weft_lines(), r2.weft_lines()), ([], []))


def t_env_settings(ctx, chk):
    """Bad settings are named and replaced by the defaults; a relative
    WEFT_OUTPUT is made absolute, so a child that changes directory before it
    execs writes to the same place; an exec with an environment of its own
    gets the agent's variables back (the one exception to respecting it: the
    process tree stays traced) and nothing else."""
    argv = [ctx.fixture("uncontended"), "30"]
    nat = ctx.native(argv)
    tr = ctx.traced(argv, {"WEFT_BUFFER_KB": "abc", "WEFT_CLOCK": "bogus"})
    chk.eq("bad settings: stdout", tr.out, nat.out)
    wl = tr.weft_lines()
    chk.true("WEFT_BUFFER_KB=abc is named with the default used",
             any("WEFT_BUFFER_KB=abc is not a number of KiB from 64 to 65536; using 1024" in l for l in wl), wl)
    chk.true("WEFT_CLOCK=bogus is named", any("WEFT_CLOCK=bogus is not one of tsc, monotonic" in l for l in wl), wl)
    chk.eq("bad settings: the run is still traced", len(Recording(ctx, tr.outdir).files), 1)
    for bad in ("0", "-1", "63", "65537", "99999999999999999999"):
        t2 = ctx.traced(argv, {"WEFT_BUFFER_KB": bad})
        chk.true("WEFT_BUFFER_KB=%s is named" % bad, any("WEFT_BUFFER_KB=%s is not" % bad in l
                                                         for l in t2.weft_lines()), t2.weft_lines())
    # relative WEFT_OUTPUT: sh cds to / before it execs the fixture
    cwd = ctx.new_dir("relative-cwd")
    os.mkdir(os.path.join(cwd, "out"))
    env = ctx.traced_env("out")
    r = ctx.run(["/bin/sh", "-c", 'cd / && exec "$0" 30', ctx.fixture("uncontended")], env, cwd=cwd)
    chk.eq("relative WEFT_OUTPUT: stdout", r.out, nat.out)
    chk.eq("relative WEFT_OUTPUT: both images in the same directory (sh and the fixture)",
           trace_images(ctx, os.path.join(cwd, "out")), 2)
    chk.eq("relative WEFT_OUTPUT: nothing in / ", os.path.exists("/out"), False)
    # an explicit environment: env -i execs printenv with ONLY=1
    r = ctx.traced(["/usr/bin/env", "-i", "ONLY=1", "/usr/bin/printenv"])
    got = sorted(l.split("=", 1)[0] for l in r.out.decode().splitlines())
    chk.eq("env -i ONLY=1: the program's own variable and the agent's, nothing else",
           [k for k in got if not k.startswith("WEFT_")], ["LD_PRELOAD", "ONLY"])
    chk.true("env -i ONLY=1: WEFT_OUTPUT put back", "WEFT_OUTPUT" in got, str(got))
    chk.eq("env -i ONLY=1: env and printenv are both traced", trace_images(ctx, r.outdir), 2)
    # paths longer than what the agent keeps on the pages it writes at start anyway (a WEFT_OUTPUT
    # past 640 bytes of captured variables, an executable's past 255): kept whole all the same
    deep = ctx.new_dir("long")
    for part in "abcde":
        deep = os.path.join(deep, part * 120)
        os.mkdir(deep)
    prog = os.path.join(deep, "fx-uncontended")
    shutil.copy(ctx.fixture("uncontended"), prog)
    out = os.path.join(deep, "out")
    os.mkdir(out)
    r = ctx.traced(["/usr/bin/env", "-i", "ONLY=1", "/usr/bin/printenv", "WEFT_OUTPUT"], outdir=out)
    chk.eq("env -i, a %d-byte WEFT_OUTPUT: put back whole" % len(out), r.out.decode().strip(), out)
    chk.eq("env -i, a %d-byte WEFT_OUTPUT: env and printenv both traced" % len(out), trace_images(ctx, out), 2)
    progs = [prog]
    for want in (255, 256):  # (the first read's room is 255 bytes and its end)
        base = ctx.new_dir("exact%d" % want)
        pad = os.path.join(base, "p" * (want - len(base) - len("/p/fx-uncontended")))
        os.mkdir(pad)
        progs.append(os.path.join(pad, "fx-uncontended"))
        shutil.copy(ctx.fixture("uncontended"), progs[-1])
    for p in progs:
        r = ctx.traced([p, "30"])
        mods = [m.get("path") for m in Recording(ctx, r.outdir).sel("MODULE")
                if m.get("path", "").endswith("/fx-uncontended")]
        chk.eq("a %d-byte executable path: its MODULE has it whole" % len(p), mods, [p])


def t_env_clock_umask(ctx, chk):
    argv = [ctx.fixture("contended"), "6"]
    nat = ctx.native(argv)
    tr = ctx.traced(argv, {"WEFT_CLOCK": "monotonic"}, preexec=lambda: os.umask(0))
    chk.eq("stdout", tr.out, nat.out)
    rec = Recording(ctx, tr.outdir)
    validate(chk, rec)  # includes: mode 0600 even with umask 0
    chk.eq("clock", [h.get("clock") for h in rec.files], ["monotonic"])
    contended_checks(ctx, chk, rec, tr.info(), 6)


# ---- real programs

def need(prog):
    path = shutil.which(prog)
    if not path:
        raise Skip("%s is not installed" % prog)
    return os.path.realpath(path)


def make_input(ctx, size=20 << 20):
    """~20 MB, deterministic, half random and half text: compresses, but not to nothing."""
    path = os.path.join(ctx.tmp, "input.bin")
    rnd = random.Random(20261124)
    words = [b"weft", b"thread", b"mutex", b"wait", b"barrier", b"trace", b"record", b"lock"]
    text = b" ".join(rnd.choice(words) for _ in range(8192))  # ~45 KB
    with open(path, "wb") as f:
        done = 0
        while done < size:
            cut = rnd.randrange(len(text))
            block = rnd.randbytes(32768) + text[cut:] + text[:cut]
            f.write(block)
            done += len(block)
    return path


def t_real_compressor(ctx, chk, prog, args, decompress):
    exe = need(prog)
    data = make_input(ctx)
    with open(data, "rb") as f:
        raw = f.read()
    argv = [exe] + args
    nat, tr = ctx.compare(chk, argv, stdin=raw)
    chk.eq("%s output sha256 traced vs native" % prog, hashlib.sha256(tr.out).hexdigest(),
           hashlib.sha256(nat.out).hexdigest())
    try:
        back = decompress(tr.out)
    except Exception as e:  # a corrupt stream
        back = repr(e).encode()
    chk.eq("%s output decompresses to the input" % prog, hashlib.sha256(back).hexdigest(),
           hashlib.sha256(raw).hexdigest())
    rec = Recording(ctx, tr.outdir)
    validate(chk, rec, allow_open=True)
    chk.eq("processes", rec.stats.get("processes"), 1)
    chk.ge("threads (main + 2 workers)", rec.stats.get("threads", 0), 3)
    chk.ge("mutex acquisitions", rec.stats.get("counted.acq.mutex", 0), 1)
    pi = rec.sel("PROCESS_INFO")
    chk.eq("PROCESS_INFO exe", [r.get("exe") for r in pi], [exe])


def t_pigz(ctx, chk):
    t_real_compressor(ctx, chk, "pigz", ["-p", "2", "-n", "-c"], gzip.decompress)


def t_xz(ctx, chk):
    t_real_compressor(ctx, chk, "xz", ["-T2", "-0", "-c"], lzma.decompress)


def python_exe():
    for p in ("/usr/bin/python3", os.path.realpath(sys.executable)):
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return os.path.realpath(p)
    raise Skip("no python3 interpreter")


def t_python_pool(ctx, chk):
    py = python_exe()
    script = os.path.join(ctx.pydir, "mp_pool.py")
    nat, tr = ctx.compare(chk, [py, script])
    chk.true("stdout", tr.out.startswith(b"pool sum="), repr(tr.out))
    info = tr.info()
    parent = int(info.get("parent", "0"))
    workers = [int(w) for w in info.get("workers", "").split(",") if w]
    rec = Recording(ctx, tr.outdir)
    validate(chk, rec)
    chk.ge("processes (parent + 2 workers)", rec.stats.get("processes", 0), 3)
    chk.eq("worker processes", len(workers), 2)
    pf = "%d.0.wtrace" % parent
    forked = {r.i("child") for r in rec.sel("FORK", in_file=pf, how="fork", res=0)}
    for w in workers:
        h = rec.file(w, 0)
        if chk.true("worker %d has a trace file" % w, h is not None):
            chk.eq("worker %d ppid" % w, int(h["ppid"]), parent)
            chk.eq("worker %d EXIT" % w, [(r.get("how"), r.get("status")) for r in
                                         rec.sel("EXIT", in_file=h["name"])], [("_exit", "0")])
        chk.true("parent's FORK of worker %d" % w, w in forked, str(sorted(forked)))
    chk.ge("SEM_OPEN of multiprocessing locks (/mp-*)",
           len([r for r in rec.sel("SEM_OPEN") if str(r.get("name")).startswith("/mp-")]), 1)


def t_python_threads(ctx, chk):
    py = python_exe()
    script = os.path.join(ctx.pydir, "thread_pool.py")
    nat, tr = ctx.compare(chk, [py, script])
    chk.eq("stdout", tr.out, b"threadpool met=[0, 1, 2, 3] doubled=39800 counter=19900\n")
    rec = Recording(ctx, tr.outdir)
    validate(chk, rec)
    chk.eq("processes", rec.stats.get("processes"), 1)
    chk.ge("threads (main + 4 workers)", rec.stats.get("threads", 0), 5)
    chk.ge("thread exits of the workers", rec.count("THREAD_EXIT", how="return"), 4)


def pythons():
    """[(tag, exe)]: Debian's python3 and every CPython 3.8-3.13 under pyenv; and the minors not found"""
    pyenv, absent = pyenv_pythons()
    return ([("debian", "/usr/bin/python3")] if os.access("/usr/bin/python3", os.X_OK) else []) + pyenv, absent


def py_frames(rec, r):
    """the Python frames (function, file's base name, line) of the stack of a wait's record, innermost first"""
    sts = rec.sel("STACK", in_file=r.file, id=r.i("stack"))
    if not sts:
        return []
    defs = {f.i("id"): f for f in rec.sel("PY_FRAME", in_file=r.file)}
    out = []
    for w in sts[0].get("ips", "").split(","):
        if w.startswith("py:") and int(w[3:]) in defs:
            f = defs[int(w[3:])]
            out.append((f.get("function"), os.path.basename(f.get("file")), f.i("line")))
    return out


def t_python_stacks(ctx, chk):
    """Every CPython here: a wait's stack starts with the waiting thread's Python
    frames, innermost first, each naming its function, file and line."""
    pys, absent = pythons()
    if not pys:
        raise Skip("no CPython 3")
    for m in absent:
        chk.notes.append("no CPython 3.%d under pyenv: not tested" % m)
    script = os.path.join(ctx.pydir, "py_stacks.py")
    lines = marked_lines(script)
    base = "py_stacks.py"
    for tag, py in pys:
        waits = {}
        for case in ("lock", "sleep", "gil", "deep"):
            nat, tr = ctx.compare(chk, [py, script, case], env={"WEFT_IO": "1"})
            rec = Recording(ctx, tr.outdir)
            validate(chk, rec)
            # (a sleep, poll or read names its stack in its WAIT_END: written after it ended)
            waits[case] = [(r, py_frames(rec, r)) for r in rec.sel("WAIT_BEGIN") + rec.sel("WAIT_END")
                           if r.get("stack", "0") != "0"]
            chk.eq("%s %s: the header says Python frames" % (tag, case), rec.files[-1].get("python"), "frames")

        def ours(case, kinds, tid_main=None):
            """the innermost frame of the fixture's own code of each wait of those kinds"""
            got = []
            for r, fr in waits[case]:
                if r.get("kind") in kinds and (tid_main is None or (r.tid == r.pid) == tid_main):
                    mine = [f for f in fr if f[1] == base]
                    if mine:
                        got.append(mine[0])
            return got
        # (threading.Lock is a semaphore; a "mutex" wait is the GIL's, e.g. taking it back after hold()'s sleep)
        lock = ours("lock", ("sem",), tid_main=False)
        chk.true("%s: the lock waits of take() name it first, at the line of its with" % tag,
                 lock and all(f == ("take", base, lines["LOCK-WAIT"][0]) for f in lock), repr(lock))
        first = [fr[0] for r, fr in waits["lock"] if r.tid != r.pid and r.get("kind") == "sem" and fr
                 and fr[0][1] == base]
        chk.true("%s: ... and take() is the innermost frame of those waits" % tag,
                 first and all(f[0] == "take" for f in first), repr(first))
        join = ours("lock", ("sem", "join", "cond", "mutex"), tid_main=True)
        chk.true("%s: the main thread's join names run() at the join" % tag,
                 ("run", base, lines["JOIN"][0]) in join, repr(join))
        nap = ours("sleep", ("sleep", "poll"))
        chk.true("%s: the sleep names nap() at time.sleep" % tag,
                 nap and all(f == ("nap", base, lines["SLEEP"][0]) for f in nap), repr(nap))
        gil = ours("gil", ("cond", "mutex"), tid_main=False)
        # (how many wait at the loop and how many leaving the barrier depends on scheduling: some at each)
        chk.true("%s: GIL waits in spin() name it, some at its loop's lines" % tag,
                 gil and all(f[0] == "spin" for f in gil) and any(f[2] in lines["GIL"] for f in gil),
                 repr(sorted(set(gil))))
        deep = [fr for r, fr in waits["deep"] if r.get("kind") == "sem" and fr and fr[0][0] == "take"]
        want = [("take", base, lines["LOCK-WAIT"][0]), ("dive", base, lines["DEEP"][0])] + \
            [("dive", base, lines["DIVE"][0])] * 20
        chk.true("%s: 20 calls deep, all 22 frames of the fixture, innermost first" % tag,
                 deep and all(fr[:22] == want for fr in deep), repr(deep[:1]))


GROUPS = {
    "locks": [("uncontended", t_uncontended),
              ("uncontended-holds-all", lambda c, k: t_uncontended(c, k, env=HOLDS_ALL)),
              ("uncontended-sample-1", lambda c, k: t_uncontended(c, k, env={"WEFT_HOLD_SAMPLE": "1"})),
              ("uncontended-sample-0", lambda c, k: t_uncontended(c, k, env={"WEFT_HOLD_SAMPLE": "0"})),
              ("uncontended-100k", t_uncontended_big),
              ("contended", t_contended), ("contended-holds-all", lambda c, k: t_contended(c, k, env=HOLDS_ALL)),
              ("mutextypes", t_mutextypes),
              ("mutextypes-holds-all", lambda c, k: t_mutextypes(c, k, env=HOLDS_ALL)),
              ("rwlock", t_rwlock), ("rwlock-holds-all", lambda c, k: t_rwlock(c, k, env=HOLDS_ALL))],
    "sync": [("condvar", t_condvar), ("condvar-holds-all", lambda c, k: t_condvar(c, k, env=HOLDS_ALL)),
             ("barrier", t_barrier), ("sem", t_sem), ("futex", t_futex), ("io", t_io)],
    "threads": [("names", t_names), ("threadexit", t_threadexit), ("detach", t_detach), ("detach-many", t_detach_many),
                ("detach-more", t_detach_more),
                ("longjmp", t_longjmp),
                ("exitthreads", t_exitthreads), ("early", t_early), ("dlopen", t_dlopen)],
    "process": [("forktree", t_forktree), ("vfork", t_vfork), ("spawn", t_spawn), ("execfail", t_execfail),
                ("sigchld", t_sigchld)],
    "crash": [("killme", t_killme), ("segv", t_segv)],
    "env": [("output-unusable", t_env_output), ("untraced-identical", t_env_untraced_identical),
            ("stacks", t_env_stacks), ("stack-cache", t_stack_cache), ("stack-cache-rbp", t_stack_cache_rbp), ("stack-cache-fallback", t_stack_cache_fallback),
            ("clock-monotonic-umask0", t_env_clock_umask), ("settings", t_env_settings),
            ("file-join", t_env_file_join), ("grow-lock-dead", t_env_grow_lock_dead),
            ("no-room", t_env_no_room)],
    "real": [("pigz", t_pigz), ("xz", t_xz), ("python-pool", t_python_pool),
             ("python-threadpool", t_python_threads), ("python-stacks", t_python_stacks)],
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--group", choices=sorted(GROUPS))
    ap.add_argument("--only")
    ap.add_argument("--agent")
    ap.add_argument("--dump")
    ap.add_argument("--python-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                         "..", "programs", "python"))
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("fixtures", nargs="*")
    args = ap.parse_args()
    if args.list:
        for g in sorted(GROUPS):
            print("%s: %s" % (g, " ".join(n for n, _ in GROUPS[g])))
        return 0
    if not args.group or not args.agent or not args.dump:
        ap.error("--group, --agent and --dump are required")
    ctx = Ctx(args)
    tests = [(n, f) for n, f in GROUPS[args.group] if not args.only or n == args.only]
    print("1..%d" % len(tests))
    sys.stdout.flush()
    failed = 0
    for i, (name, fn) in enumerate(tests, 1):
        ctx.tmp = tempfile.mkdtemp(prefix="weft-%s-" % name)
        chk = Check()
        t0 = time.monotonic()
        status = None
        try:
            fn(ctx, chk)
        except Skip as e:
            status = "ok %d - %s # SKIP %s" % (i, name, e)
        except Exception:
            chk.fails.append("exception:\n" + traceback.format_exc())
        dt = time.monotonic() - t0
        if status is None:
            if chk.fails:
                status = "not ok %d - %s" % (i, name)
                failed += 1
            elif chk.todo:
                status = "not ok %d - %s # TODO known agent bug: %s" % (i, name, chk.todo[0][0])
            else:
                status = "ok %d - %s" % (i, name)
        for msg in chk.fails + ["known agent bug: " + t[1] for t in chk.todo] + chk.notes:
            for line in msg.splitlines():
                print("# " + line)
        if chk.fails or args.keep:
            print("# kept %s" % ctx.tmp)
        else:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
        print("%s (%.2f s)" % (status, dt) if "#" not in status else status)
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
