#!/usr/bin/env python3
# tests/gui/test_output.py - where weft-gui --screenshot and --dump write (issue 11, items 6, 9, 11).
# SPDX-License-Identifier: MIT
#
# usage: test_output.py --gui WEFT_GUI --mkdb REPORT_MKDB
# On the synthetic recording of tests/report/mkdb.c, under xvfb-run: the
# recording being read is never the output (by its name or through a
# symbolic link: exit 1, one line, the recording unchanged); a character
# device and a FIFO are written as streams and stay what they are, and a
# write error (a node like /dev/full: ENOSPC) is exit 1 with one line naming
# it; a symbolic link to a regular file is followed (the link stays, the file
# keeps its mode); a new dump is 0600 under umask 000; and a dump of a
# recording whose names are not UTF-8 is strict UTF-8 JSON. Exit 0 on
# success, 1 on a failure, 77 (skip) without xvfb-run.
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile

from test_gui import gui_env  # noqa: E402 (test_gui puts tests/integration on the path)
from weftlib import ok, plan, path_args, strict_json, char_device, write_to_fifo  # noqa: E402

TIMEOUT = 120


def gui(args, tmp, opts, db, umask=None):
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", args.gui, "--size", "800x400"] + opts + [db]
    pre = (lambda: os.umask(umask)) if umask is not None else None
    for _ in range(3):
        p = subprocess.run(cmd, env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           preexec_fn=pre)
        err = p.stderr.decode("utf-8", "replace")
        # xvfb-run's own failure to remove its directory after weft-gui exited (exit 5; seen when
        # weft-gui fails at once, twice in one session on a loaded machine): weft-gui's run is not
        # what failed, so run it again
        if not (p.returncode == 5 and "xvfb-run: error: problem while cleaning up temporary directory" in err):
            break
    return p.returncode, err


def one_line(rc, err, name):
    # GTK may warn about the display; weft-gui's own message is the line that counts
    lines = [ln for ln in err.splitlines() if ln.startswith("weft-gui:")]
    return rc == 1 and len(lines) == 1 and name in lines[0]


def read(p):
    with open(p, "rb") as f:
        return f.read()


def main():
    args = path_args("gui", "mkdb")
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77
    with tempfile.TemporaryDirectory(prefix="weft-gui-output-") as tmp:
        db = os.path.join(tmp, "run.db")
        subprocess.run([args.mkdb, db], check=True)
        original = read(db)

        # the recording being read, by its name and through a link
        rc, err = gui(args, tmp, ["--dump", db], db)
        ok(one_line(rc, err, db) and read(db) == original,
           "--dump RUN.db RUN.db: exit 1, one line naming it, the recording unchanged", "rc=%d\n%s" % (rc, err))
        if read(db) != original:
            os.unlink(db)
            with open(db, "wb") as f:
                f.write(original)
        sym = os.path.join(tmp, "sym.png")
        os.symlink("run.db", sym)
        rc, err = gui(args, tmp, ["--screenshot", sym], db)
        ok(one_line(rc, err, sym) and read(db) == original and os.path.islink(sym),
           "--screenshot LINK-TO-RUN.db: exit 1, one line naming it, the recording and the link unchanged",
           "rc=%d\n%s" % (rc, err))

        # a character device that is full: ENOSPC (a node of our own as root)
        full = char_device(tmp, "full", 7)
        if full:
            rc, err = gui(args, tmp, ["--dump", full], db)
            ok(one_line(rc, err, full) and "No space left on device" in err and stat.S_ISCHR(os.lstat(full).st_mode),
               "--dump FULL-DEVICE: exit 1, one line naming it and ENOSPC, still a character device",
               "rc=%d\n%s" % (rc, err))

        # a FIFO is a stream
        fifo = os.path.join(tmp, "dump.fifo")
        (rc, err), data, still = write_to_fifo(fifo, lambda: gui(args, tmp, ["--dump", fifo], db))
        try:
            doc = strict_json(data) if data is not None else None
        except ValueError:
            doc = None
        ok(rc == 0 and doc is not None and still, "--dump FIFO: exit 0, the JSON read from the FIFO, which stays a FIFO",
           "rc=%d\n%s" % (rc, err))

        # a link to a regular file: followed
        real = os.path.join(tmp, "real.png")
        with open(real, "w") as f:
            f.write("old\n")
        os.chmod(real, 0o640)
        link = os.path.join(tmp, "link.png")
        os.symlink("real.png", link)
        rc, err = gui(args, tmp, ["--screenshot", link], db)
        ok(rc == 0 and os.path.islink(link) and read(real)[:8] == b"\x89PNG\r\n\x1a\n" and
           stat.S_IMODE(os.stat(real).st_mode) == 0o640,
           "--screenshot LINK: the link stays, its file gets the PNG and keeps its mode 0640", "rc=%d\n%s" % (rc, err))

        # names that are not UTF-8, a new dump under umask 000
        names = os.path.join(tmp, "names.db")
        shutil.copy(db, names)
        c = sqlite3.connect(names)
        c.execute("UPDATE thread SET name = CAST(? AS TEXT) WHERE utid = 2", (b"w\xff\xfex",))
        c.execute("UPDATE sync_object SET name = CAST(? AS TEXT) WHERE object_id = 1", (b"q\x80lock",))
        c.commit()
        c.close()
        out = os.path.join(tmp, "names.json")
        rc, err = gui(args, tmp, ["--select", "0s..1s", "--dump", out], names, umask=0)
        mode = stat.S_IMODE(os.stat(out).st_mode) if os.path.exists(out) else None
        ok(rc == 0 and mode == 0o600, "--dump a new file under umask 000: mode 0600",
           "rc=%d mode %s\n%s" % (rc, oct(mode) if mode is not None else None, err))
        try:
            doc, why = strict_json(read(out)), ""
        except (ValueError, OSError) as e:
            doc, why = None, e
        threads = [r.get("label", "") for r in doc["panel"].get("threads", [])] if doc else []
        ok(doc is not None and any(t.startswith("w\ufffd\ufffdx") for t in threads),
           "--dump of names that are not UTF-8: strict UTF-8 JSON, the thread w\\xff\\xfex as w\ufffd\ufffdx",
           "%s %r" % (why, threads))
        left = [f for f in os.listdir(tmp) if ".tmp" in f]
        ok(not left, "no temporary file left behind", left)

    return plan()


if __name__ == "__main__":
    sys.exit(main())
