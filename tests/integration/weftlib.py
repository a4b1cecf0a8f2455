"""What weft's Python test scripts share: TAP output and small database helpers.

ok()/eq()/skip() print one TAP line each and remember the outcome in `results`;
plan() prints the plan "1..N" and returns the exit status (1 if anything failed);
attempt() runs one test function, counting an exception as a failed test;
cleanup() removes a script's scratch directory unless asked to keep it;
clean_env() is the environment a test runs weft in.
strict_json(), char_device() and write_to_fifo() serve the tests of where
weft's outputs go (tests/report/run-outputs.py, tests/gui/test_output.py);
pyenv_pythons() and marked_lines() the tests of Python stacks (test_agent.py,
test_python.py).
"""
import argparse
import json
import os
import re
import shutil
import stat
import sys
import threading
import traceback

results = []


def ok(cond, what, detail=""):
    results.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(results), what))
    if not cond and detail:
        for line in str(detail).splitlines()[:25]:
            print("# " + line)
    sys.stdout.flush()
    return bool(cond)


def eq(got, want, what):
    return ok(got == want, what, "got %r, want %r" % (got, want))


def skip(what, why):
    results.append(True)
    print("ok %d - %s # SKIP %s" % (len(results), what, why))
    sys.stdout.flush()


def plan():
    print("1..%d" % len(results))
    return 0 if all(results) else 1


def attempt(test, *args):
    """test(*args); an exception is a failed test, not a crashed script."""
    try:
        test(*args)
    except Exception:
        ok(False, "%s raised" % getattr(test, "__name__", "test"), traceback.format_exc())


def cleanup(tmp, keep):
    if keep:
        print("# kept %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def clean_env(tmp):
    """The environment a test runs weft in: no WEFT_* variable nor LD_PRELOAD of
    the caller's, TMPDIR=tmp, the C locale, and ASan not fussing about the
    agent coming first in the link order."""
    e = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
    e.pop("LD_PRELOAD", None)
    e["TMPDIR"] = tmp
    e["LC_ALL"] = "C"
    e["ASAN_OPTIONS"] = ":".join(filter(None, [e.get("ASAN_OPTIONS"), "verify_asan_link_order=0"]))
    return e


def one(con, sql, *params):
    """The first column of the first row of a query, or None."""
    row = con.execute(sql, params).fetchone()
    return row[0] if row else None


def linked_waits(con, obj, state, flow_kind):
    """The waits on object obj (thread state `state`) that acquired it, and of them those its waker
    ended from another process: a flow of flow_kind from the waker to the wait's end."""
    waits = con.execute("SELECT ts.utid, t.upid, ts.start_ns + ts.dur_ns, ts.waker_utid FROM thread_state ts "
                        "JOIN thread t USING (utid) WHERE ts.object_id = ? AND ts.state = ? AND ts.result = 0",
                        (obj, state)).fetchall()
    flows = {(f[0], f[1]): f[2] for f in con.execute(
        "SELECT to_utid, to_ns, from_utid FROM flow WHERE kind = ? AND object_id = ?", (flow_kind, obj))}
    upid = dict(con.execute("SELECT utid, upid FROM thread"))
    return waits, [w for w in waits if w[3] is not None and flows.get((w[0], w[2])) == w[3] and upid.get(w[3]) != w[1]]


def path_args(*names):
    """Parse the required options --NAME PATH, made absolute (meson passes
    paths relative to the build directory; the tests run elsewhere)."""
    ap = argparse.ArgumentParser()
    for name in names:
        ap.add_argument("--" + name, required=True)
    a = ap.parse_args()
    for name in names:
        setattr(a, name, os.path.abspath(getattr(a, name)))
    return a


def strict_json(data):
    """data (bytes) parsed as JSON after a strict UTF-8 decode; raises ValueError on either."""
    return json.loads(data.decode("utf-8", "strict"))


def char_device(tmp, name, minor):
    """A character device like /dev/NAME (major 1: null 3, full 7): as root a
    node of its own in tmp, so that a weft that replaced its output could not
    replace the machine's /dev/NAME; else /dev/NAME itself (which an
    unprivileged process cannot replace). None if there is none."""
    if os.geteuid() == 0:
        path = os.path.join(tmp, name)
        try:
            if not os.path.exists(path):
                os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
            return path
        except OSError:
            return None
    path = "/dev/" + name
    return path if os.path.exists(path) else None


def write_to_fifo(path, run):
    """Make the FIFO path, read it on a thread while run() writes to it, and
    return (run()'s result, the bytes read or None, whether path is still a
    FIFO). The reader's open waits for the writer's, so nothing depends on
    timing; the 30 s join only bounds a run() that never opened the FIFO."""
    os.mkfifo(path)
    box = []

    def reader():
        with open(path, "rb") as f:
            box.append(f.read())

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    result = run()
    t.join(30)
    still = stat.S_ISFIFO(os.lstat(path).st_mode)
    if t.is_alive() and still:
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # let the reader go
        except OSError:
            pass
    return result, (box[0] if box else None), still


def pyenv_pythons(lo=8, hi=13):
    """[(version, python3)] of the newest patch release of each CPython 3.lo to 3.hi under pyenv
    ($PYENV_ROOT, else ~/.pyenv), oldest first; and the minor versions not there"""
    root = os.path.join(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv"), "versions")
    found = {}
    for d in os.listdir(root) if os.path.isdir(root) else []:
        v = d.split(".")
        exe = os.path.join(root, d, "bin", "python3")
        if len(v) == 3 and all(x.isdigit() for x in v) and v[0] == "3" and lo <= int(v[1]) <= hi and \
                os.access(exe, os.X_OK):
            key = tuple(int(x) for x in v)
            if int(v[1]) not in found or key > found[int(v[1])][0]:
                found[int(v[1])] = (key, d, exe)
    return [found[m][1:] for m in sorted(found)], [m for m in range(lo, hi + 1) if m not in found]


def marked_lines(path):
    """{MARKER: [line numbers]} of the lines of a fixture that end with a '# MARKER' comment"""
    out = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            m = re.search(r"#\s*([A-Z][A-Z-]+)\s*$", line)
            if m:
                out.setdefault(m.group(1), []).append(n)
    return out
