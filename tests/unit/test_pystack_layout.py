#!/usr/bin/env python3
# test_pystack_layout.py - agent/weft-pystack-layout.h against the headers of
# every CPython 3.8 to 3.13 with internal headers found under pyenv
# ($PYENV_ROOT or ~/.pyenv): pystack-layout-probe.c compiled with each one's
# include directory and run. A minor version with no headers here is skipped
# with a message; none at all is a skip, not a failure.
# SPDX-License-Identifier: MIT
#
# usage: test_pystack_layout.py --probe FILE --include DIR -- CC [ARGS...]
# Prints TAP.
import argparse
import glob
import os
import subprocess
import sys
import tempfile


def headers():
    """{minor: include dir} of the newest patch release of each 3.8-3.13 found"""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = {}
    for d in sorted(glob.glob(os.path.join(root, "versions", "3.*"))):
        parts = os.path.basename(d).split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            continue
        minor = int(parts[1])
        inc = os.path.join(d, "include", "python3.%d" % minor)
        if 8 <= minor <= 13 and os.path.isdir(os.path.join(inc, "internal")):
            found[minor] = inc
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    ap.add_argument("--include", required=True)
    ap.add_argument("cc", nargs="+")
    a = ap.parse_args()
    found = headers()
    lines = []  # TAP lines without their numbers
    tmp = tempfile.mkdtemp(prefix="weft-pystack-layout-")
    for minor in range(8, 14):
        if minor not in found:
            lines.append(("ok", "3.%d # SKIP no headers of CPython 3.%d found under pyenv" % (minor, minor)))
            continue
        exe = os.path.join(tmp, "probe-3.%d" % minor)
        inc = found[minor]
        c = subprocess.run(a.cc + ["-std=gnu11", "-w", "-I", inc, "-I", os.path.join(inc, "internal"), "-I",
                                   a.include, a.probe, "-o", exe], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if c.returncode != 0:
            lines.append(("not ok", "3.%d: the probe compiles" % minor))
            lines += [("#", l) for l in c.stdout.decode("utf-8", "replace").splitlines()[:20]]
            continue
        r = subprocess.run([exe], stdout=subprocess.PIPE)
        out = r.stdout.decode().splitlines()
        if r.returncode != 0 or not out:
            lines.append(("not ok", "3.%d: the probe runs" % minor))
            continue
        for l in out:  # "ok N - what": renumbered below
            status, _, what = l.partition(" - ")
            lines.append((status.rsplit(" ", 1)[0], what))
    for f in glob.glob(os.path.join(tmp, "*")):
        os.unlink(f)
    os.rmdir(tmp)
    print("1..%d" % sum(1 for status, _ in lines if status != "#"))
    n = 0
    for status, what in lines:
        if status == "#":
            print("# " + what)
        else:
            n += 1
            print("%s %d - %s" % (status, n, what))
    return 0


if __name__ == "__main__":
    sys.exit(main())
