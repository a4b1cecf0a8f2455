#!/usr/bin/env python3
# tests/gui/test_gui.py - weft-gui's headless render path, checked pixel by pixel.
# SPDX-License-Identifier: MIT
#
# usage: test_gui.py --weft WEFT --gui WEFT_GUI --fixture FX_CONTENDED
# Records fx-contended with `weft record`, renders the timeline with
# `xvfb-run -a weft-gui --screenshot` (GSK_RENDERER=cairo) and reads the PNG
# back (zlib, stdlib only): one bar band per thread and one header band per
# process; every lock wait of the waiter drawn in the lock_wait colour at the
# x its time maps to; --range; a file that is not a recording exits 1 with a
# one-line message; the running-threads track on top (its height where only
# the main thread runs is 1/max of the plot); the one lock lane of
# fx-contended showing the main thread's hue (from its row's swatch) where
# main held the lock; "PID exe (image N)" headers for a pid that exec'd (a
# recording of sh exec'ing sh; the launchers' headers folded, summarising their threads); 1400 px wide under a plain `xvfb-run -a` (a 1280x1024 screen),
# with and without --window; --range outside the recording an error naming it and the
# recording's extent; --help and the man page agree. Exit 0 on success, 1 on a failure, 77 (skip) without
# xvfb-run. ASAN_OPTIONS gets detect_leaks=0: GTK and GLib keep caches alive
# until exit, which LeakSanitizer reports in ASan builds.
import argparse
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import weftholds  # noqa: E402

# the colours weft-timeline.c draws (Okabe-Ito): the running state's parts (on a CPU in the
# running colour, runnable, off a CPU), and each half way to white where the hatch crosses it
# (the split is known only in total), then the waits
RUNNING = (0x00, 0x9E, 0x73)
RUNNABLE = (0xA0, 0xDC, 0xC8)
OFFCPU = (0x9E, 0x7B, 0x4F)


def hatched(c):
    return tuple((v + 255) >> 1 for v in c)


ONCPU_ALL = {RUNNING, hatched(RUNNING)}
RUNNABLE_ALL = {RUNNABLE, hatched(RUNNABLE)}
OFFCPU_ALL = {OFFCPU, hatched(OFFCPU)}
RUNNING_PARTS = ONCPU_ALL | RUNNABLE_ALL | OFFCPU_ALL
LOCK_WAIT = (0xD5, 0x5E, 0x00)
WAITS = {LOCK_WAIT, (0xE6, 0x9F, 0x00), (0xCC, 0x79, 0xA7), (0x00, 0x72, 0xB2),
         (0x56, 0xB4, 0xE9), (0xF0, 0xE4, 0x42), (0x99, 0x99, 0x99), (0x66, 0x66, 0x66),
         (0xA6, 0xD8, 0xF5), (0xD4, 0xD4, 0xD4), (0x00, 0x00, 0x00)}
PALETTE = RUNNING_PARTS | WAITS
PROCESS_HEADER = (0xDD, 0xE1, 0xE6)
TRACK_BG = (0xE6, 0xF2, 0xEE)
CPU_LINE = (0x1E, 0x22, 0x26)  # the dashed line at the CPU count in the running track
TRACK = {TRACK_BG, CPU_LINE, RUNNING, hatched(RUNNING), RUNNABLE, hatched(RUNNABLE)}
SWATCH_X = 9  # inside each thread's hue swatch, left of its label
W, H = 1000, 400
TIMEOUT = 120

results = []


def ok(cond, what, detail=""):
    results.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(results), what))
    if not cond and detail:
        for line in str(detail).splitlines()[:20]:
            print("# " + line)
    sys.stdout.flush()
    return bool(cond)


def read_png(path, alpha=False):
    """Return (width, height, rows) with rows[y][x] = (r, g, b), or (r, g, b, a) with alpha (255 for an RGB
    PNG); 8-bit RGB or RGBA only."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, ctype, _, _, interlace = hdr
    assert depth == 8 and ctype in (2, 6) and interlace == 0, "unsupported PNG %r" % (hdr,)
    bpp = 3 if ctype == 2 else 4
    raw, stride, prev, rows, i = zlib.decompress(idat), w * bpp, bytearray(w * bpp), [], 0
    for _ in range(h):
        ftype, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b = prev[x]
            c = prev[x - bpp] if x >= bpp else 0
            if ftype == 1:
                line[x] = (line[x] + a) & 255
            elif ftype == 2:
                line[x] = (line[x] + b) & 255
            elif ftype == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if alpha:
            rows.append([tuple(line[x * bpp:x * bpp + 4]) if bpp == 4 else tuple(line[x * 3:x * 3 + 3]) + (255,)
                         for x in range(w)])
        else:
            rows.append([tuple(line[x * bpp:x * bpp + 3]) for x in range(w)])
        prev = line
    return w, h, rows


def bands(rows, pred, min_count):
    """Runs of consecutive image rows with at least min_count pixels satisfying pred."""
    out, start = [], None
    for y, row in enumerate(rows):
        hit = sum(1 for p in row if pred(p)) >= min_count
        if hit and start is None:
            start = y
        if not hit and start is not None:
            out.append((start, y))
            start = None
    if start is not None:
        out.append((start, len(rows)))
    return out


ROWS_TOP = 96  # the rows start under the overview, the ruler and the running track


def rows_only(rows):
    """The image's rows with the track and everything above it left out (its fill has the colours
    of the running state's parts): index y is still line y."""
    return [[] for _ in rows[:ROWS_TOP]] + rows[ROWS_TOP:]


def gui_env(tmp):
    e = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
    e.pop("LD_PRELOAD", None)
    e.update(TMPDIR=tmp, LC_ALL="C", GSK_RENDERER="cairo", GDK_SCALE="1", GDK_DPI_SCALE="1",
             GTK_A11Y="none", NO_AT_BRIDGE="1", GDK_BACKEND="x11")
    e["ASAN_OPTIONS"] = ":".join(filter(None, [e.get("ASAN_OPTIONS"), "detect_leaks=0",
                                               "verify_asan_link_order=0"]))
    return e


def shoot(args, tmp, db, out, extra=()):
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", args.gui, "--screenshot", out,
           "--size", "%dx%d" % (W, H)] + list(extra) + [db]
    return subprocess.run(cmd, env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)


MAN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "man", "weft-gui.md")


def gui_run(args, tmp, db, extra, size="1200x500", timeout=180):
    """weft-gui --size SIZE EXTRA db under xvfb-run, on a screen larger than the window."""
    cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1200x24", args.gui, "--size", size] + extra + [db]
    return subprocess.run(cmd, env=gui_env(tmp), timeout=timeout, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def gui_dump(args, tmp, db, extra, timeout=180):
    """(the --dump of weft-gui EXTRA db, "") or (None, its error)."""
    p = gui_run(args, tmp, db, ["--dump", "-"] + extra, timeout=timeout)
    if p.returncode != 0:
        return None, p.stderr.decode("utf-8", "replace")
    return json.loads(p.stdout), ""


def record_ok(args, tmp, db, argv, what, timeout=180):
    """weft record -o db -- argv; ok() says whether it worked."""
    p = subprocess.run([args.weft, "record", "-q", "-o", db, "--"] + argv, env=gui_env(tmp), timeout=timeout,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return ok(p.returncode == 0, "weft record " + what, p.stderr)


def record_example(args, tmp, db, timeout, ready):
    """Record the example into db, again (up to 3 times) while ready(db) does not hold."""
    for attempt in range(3):
        if os.path.exists(db):
            os.unlink(db)
        p = subprocess.run([args.weft, "record", "-q", "-o", db, "--", args.example], env=gui_env(tmp),
                           timeout=timeout, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 0:
            return ok(False, "weft record the example", p.stderr)
        good, detail = ready(db) if ready else (True, "")
        if good:
            return ok(True, "weft record the example" + (" (recording %d)" % (attempt + 1) if attempt else ""))
    return ok(False, "weft record the example: 3 recordings, none as the checks need", detail)


def run_example_checks(prefix, check_example, check_python, timeout=180, ready=None):
    """The main of a test of the bundled example and a Python program: --weft, --gui, --example,
    --pydir; check_example(args, tmp, db) on a new recording of the example, check_python(args, tmp,
    pydir) when /usr/bin/python3 exists; the TAP plan; the exit status (77 without xvfb-run).
    ready(db) -> (bool, detail): what check_example needs of the recording that depends on how the
    threads happened to run (a lock that was contended); the example is recorded again, up to 3
    times, until it holds, and the test fails if it never does."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    ap.add_argument("--example", required=True)
    ap.add_argument("--pydir")
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        db = os.path.join(tmp, "ex.db")
        if record_example(args, tmp, db, timeout, ready):
            check_example(args, tmp, db)
        if args.pydir and os.path.exists("/usr/bin/python3"):
            check_python(args, tmp, args.pydir)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


def check_cli(args, tmp, db, end_ns):
    """Sizes wider than Xvfb's default screen, --size with --window, --range outside the recording,
    and --help against the man page."""
    def run(cmd):
        return subprocess.run(cmd, env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for extra in ([], ["--window"]):
        out = os.path.join(tmp, "wide.png")
        # a plain xvfb-run: its screen is 1280x1024
        p = run(["xvfb-run", "-a", args.gui, "--screenshot", out, "--size", "1400x700"] + extra + [db])
        size = read_png(out)[:2] if p.returncode == 0 and os.path.exists(out) else None
        ok(size == (1400, 700), "--screenshot --size 1400x700 %sunder a plain xvfb-run -a: a 1400x700 PNG"
           % " ".join(extra + [""]), (p.returncode, size, p.stderr.decode("utf-8", "replace")))
    out = os.path.join(tmp, "outside.png")
    p = shoot(args, tmp, db, out, ["--range", "5s..6s"])
    err = p.stderr.decode("utf-8", "replace")
    end_ms = "%.0f ms" % (end_ns / 1e6) if end_ns >= 100e6 else None
    ok(p.returncode == 1 and err.count("\n") == 1 and "--range 5.00 s..6.00 s" in err and "0 ns.." in err
       and (end_ms is None or end_ms in err) and not os.path.exists(out),
       "--range beyond the recording: exit 1, one line naming the range and the recording's extent, no PNG",
       (p.returncode, err))
    # --help and the man page: the same options, and --window renders the same thing
    p = run([args.gui, "--help"])
    helptext = p.stdout.decode()
    with open(MAN, encoding="utf-8") as f:
        man = f.read()
    opts = man[man.index("# OPTIONS"):man.index("# EXIT STATUS")]
    man_opts = set(re.findall(r"^\*\*\\-\\-([a-z-]+)\*\*", opts, re.M))
    help_opts = set(re.findall(r"^  --([a-z-]+)", helptext, re.M))
    ok(p.returncode == 0 and man_opts and man_opts == help_opts, "--help and the man page list the same options",
       (sorted(man_opts ^ help_opts), p.returncode))
    win_help = re.search(r"--window(.*\n(?: {20,}.*\n)*)", helptext).group(1)
    win_man = opts[opts.index("\n**\\-\\-window**\n"):].strip().split("\n\n")[0]
    ok("not the header bar" in " ".join(win_help.split()) and "without the header bar" in " ".join(win_man.split()),
       "--help and the man page say --window renders the side panel without the header bar", (win_help, win_man))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    ap.add_argument("--fixture", required=True, help="fx-contended")
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("1..0 # SKIP xvfb-run is not installed")
        return 77

    with tempfile.TemporaryDirectory(prefix="weft-gui-test-") as tmp:
        # a file that is not a recording: no display needed, exit 1, one line
        bad = os.path.join(tmp, "bad.db")
        with open(bad, "w") as f:
            f.write("this is not a weft database\n")
        badpng = os.path.join(tmp, "bad.png")
        p = subprocess.run([args.gui, "--screenshot", badpng, bad], env=gui_env(tmp),
                           timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        err = p.stderr.decode("utf-8", "replace")
        ok(p.returncode == 1 and err.count("\n") == 1 and "bad.db" in err and not os.path.exists(badpng),
           "not a recording: exit 1, one line naming the file, no PNG", "rc=%d\n%s" % (p.returncode, err))
        p = subprocess.run([args.gui, "--screenshot", badpng, "--size", "12", bad], env=gui_env(tmp),
                           timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ok(p.returncode == 2, "bad --size: exit 2", p.stderr)

        db = os.path.join(tmp, "contended.db")
        p = subprocess.run([args.weft, "record", "-q", "-o", db, "--", args.fixture, "20"],
                           env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if not ok(p.returncode == 0, "weft record fx-contended", p.stderr):
            return 1
        con = sqlite3.connect(db)
        end_ns = int(con.execute("SELECT value FROM meta WHERE key = 'end_ns'").fetchone()[0])
        ncpus = int(con.execute("SELECT value FROM meta WHERE key = 'ncpus'").fetchone()[0])
        threads = con.execute("SELECT utid, start_ns, end_ns FROM thread ORDER BY is_main DESC, start_ns").fetchall()
        nproc = con.execute("SELECT count(*) FROM process").fetchone()[0]
        main_utid, waiter_utid = threads[0][0], threads[1][0]
        waits = con.execute("SELECT start_ns, dur_ns FROM thread_state WHERE utid = ? AND state = 1 "
                            "ORDER BY start_ns", (waiter_utid,)).fetchall()
        weftholds.materialize(con)
        holds_main = con.execute("SELECT h.start_ns, h.dur_ns FROM lock_hold h JOIN sync_object o USING (object_id) "
                                 "WHERE h.utid = ? AND o.contended > 0", (main_utid,)).fetchall()
        main_running = con.execute("SELECT start_ns, dur_ns FROM thread_state WHERE utid = ? AND state = 0",
                                   (main_utid,)).fetchall()
        con.close()
        ok(len(threads) == 2 and len(waits) == 20, "the recording has 2 threads and 20 lock waits")

        out = os.path.join(tmp, "all.png")
        p = shoot(args, tmp, db, out)
        if not ok(p.returncode == 0 and os.path.exists(out), "--screenshot exits 0 and writes the PNG",
                  p.stderr.decode("utf-8", "replace")):
            return 1
        if os.environ.get("WEFT_GUI_KEEP"):
            shutil.copy(out, os.environ["WEFT_GUI_KEEP"])
        w, h, rows = read_png(out)
        ok((w, h) == (W, H), "the PNG is %dx%d" % (W, H), (w, h))

        # one bar band per thread (the legend's swatches are too few pixels to count); a thread that
        # lived a short part of the run (a busy machine delays the waiter's start) draws fewer pixels
        shortest = min((e - s) / end_ns for _, s, e in threads) if end_ns > 0 else 1
        tb = bands(rows_only(rows[:H - 40]), lambda px: px in PALETTE, max(20, min(100, int(0.4 * shortest * (W - 200)))))
        ok(len(tb) == len(threads), "one bar band per thread", tb)
        pb = bands(rows, lambda px: px == PROCESS_HEADER, W // 2)
        ok(len(pb) == nproc and (not tb or pb[0][1] <= tb[0][0]), "one header band per process, above its threads",
           (pb, tb))
        if len(tb) != 2:
            return 1

        # the main thread lives from 0 to the end: its bar gives the time axis
        mid = (tb[0][0] + tb[0][1]) // 2
        xs = [x for x in range(w) if rows[mid][x] in PALETTE]
        x0, x1 = xs[0], xs[-1] + 1
        ok(x1 - x0 > w // 2, "the main thread's bar spans the time axis", (x0, x1))
        npp = end_ns / (x1 - x0)

        def column(band, x):
            return {rows[y][x] for y in range(band[0], band[1])}

        # every lock wait of the waiter is drawn in the lock_wait colour where it happened
        # (a wait shorter than a pixel may land in the neighbour column: pixel edges round either way)
        def near_cols(band, x):
            return column(band, x) | (column(band, x - 1) if x > 0 else set()) | (column(band, x + 1) if x + 1 < w else set())
        # (one shorter than two pixels may share each of its pixels with a longer wait of
        # another kind, which then gets the pixel's mark: it must show some wait there)
        missing = [(s, d) for s, d in waits
                   if not near_cols(tb[1], x0 + int((s + d / 2) / npp)) & ({LOCK_WAIT} if d >= 2 * npp else WAITS)]
        ok(not missing, "every lock wait is in the waiter's row at its time", missing)
        # and none is drawn where the waiter was not alive yet
        xstart = x0 + int(threads[1][1] / npp)
        early = [x for x in range(x0, xstart - 1) if column(tb[1], x) & PALETTE]
        ok(not early, "nothing drawn before the waiter started", early[:10])
        # while the waiter waits, the main thread (holding the lock) runs: take the longest
        # overlap of a wait with one of main's running intervals (from the database) and
        # check main's row shows running in the middle of it
        best = (0, 0)
        for ws, wd in waits:
            for rs, rd in main_running:
                a, b = max(ws, rs), min(ws + wd, rs + rd)
                if b - a > best[1] - best[0]:
                    best = (a, b)
        xl = x0 + int((best[0] + best[1]) / 2 / npp)
        ok(best[1] - best[0] < 3 * npp or column(tb[0], xl) & RUNNING_PARTS,
           "the holder runs while the waiter waits", (best, column(tb[0], xl)))

        # the running track: above the first process header; where only main runs
        # (before the waiter starts) its height (on a CPU and runnable) is 1/max of the plot
        # area, max the peak or the CPU count, whichever is higher
        trb = bands(rows[:ROWS_TOP], lambda px: px in TRACK, W // 2)
        fill = ONCPU_ALL | RUNNABLE_ALL
        if ok(len(trb) == 1 and pb and trb[0][1] <= pb[0][0], "the running track is above the first process header",
              (trb, pb)):
            plot_h = trb[0][1] - trb[0][0]
            tallest = max(sum(1 for y in range(*trb[0]) if rows[y][x] in fill) for x in range(x0, x1))

            def off_share(x):  # main's share off a CPU there, which the track leaves out: its bar says how much
                bar = [rows[y][x] for y in range(tb[0][0], tb[0][1])]
                running = sum(1 for px in bar if px in RUNNING_PARTS)
                return sum(1 for px in bar if px in OFFCPU_ALL) / running if running else 2.0  # (not running: last)
            # the column of main's time alone where it was most on a CPU (a loaded machine can take it
            # off a CPU for much of that time: its middle alone may show nothing on the track)
            solo = range(x0 + 1, max(x0 + 2, x0 + int(threads[1][1] / npp) - 1))
            xm = min(solo, key=lambda x: (round(off_share(x), 2), abs(x - (solo.start + solo.stop) // 2)))
            off = off_share(xm)
            h_main = sum(1 for y in range(*trb[0]) if rows[y][xm] in fill)
            m = round(plot_h * (1 - off) / h_main) if h_main else 0
            ok((off > 0.95 and h_main == 0) or
               (1 <= m <= max(len(threads), ncpus) and abs(h_main - plot_h * (1 - off) / m) <= 2
                and (m == ncpus or tallest > plot_h * (m - 1) / m)),
               "main alone fills 1/max of the running track (less its share off a CPU)",
               (plot_h, h_main, m, tallest, ncpus, off, xm))

        # the lock lane: exactly one (fx-contended has one contended mutex), under the
        # threads, showing main's hue (its row's swatch) where main held the lock
        hue_main = rows[(tb[0][0] + tb[0][1]) // 2][SWATCH_X]
        hue_waiter = rows[(tb[1][0] + tb[1][1]) // 2][SWATCH_X]
        ok(hue_main != hue_waiter and not {hue_main, hue_waiter} & (PALETTE | {(0xFC, 0xFC, 0xFC)}),
           "each thread row has a swatch of its own hue", (hue_main, hue_waiter))
        lb = bands(rows, lambda px: px in (hue_main, hue_waiter), 20)
        if ok(len(lb) == 1 and lb[0][0] >= tb[1][1], "exactly one lock lane, under the threads", (lb, tb)):
            # (a hold under two pixels may be drawn in a neighbour column or under the waiter's hue:
            # a loaded machine once recorded main's only waited-for hold as 2.3 us long)
            missing = [(s, d) for s, d in holds_main
                       if d >= 2 * npp and hue_main not in column(lb[0], x0 + int((s + d / 2) / npp))]
            ok(holds_main and not missing, "the lane shows main's hue where main held the lock",
               (len(holds_main), missing[:10]))

        # --range: the longest wait in the middle third of the window
        # (one that starts at least its length after 0: a wait stretched by a busy
        # machine can be longer than the time before it, and --range takes no negative times)
        s, d = max([sd for sd in waits if sd[0] >= sd[1]] or waits, key=lambda sd: sd[1])
        rng = "%dns..%dns" % (s - d, s + 2 * d)
        out2 = os.path.join(tmp, "range.png")
        p = shoot(args, tmp, db, out2, ["--range", rng])
        if ok(p.returncode == 0, "--range %s exits 0" % rng, p.stderr):
            w, h, rows = read_png(out2)
            tb2 = bands(rows_only(rows), lambda px: px in PALETTE, 100)
            if ok(len(tb2) == 2, "two bar bands with --range", tb2):
                npx = x1 - x0  # the same width: the same size and label column
                ymid = (tb2[1][0] + tb2[1][1]) // 2
                # the run of lock_wait columns through the middle of the window
                xm = x0 + npx // 2
                a, b = xm, xm
                while a > x0 and rows[ymid][a - 1] == LOCK_WAIT:
                    a -= 1
                while b < x1 and rows[ymid][b] == LOCK_WAIT:
                    b += 1
                # where the database says the run is: the longest wait fills the middle
                # third; waits of the waiter less than 2 pixels from it (a busy machine
                # makes them back to back) may continue the run on the screen, or the gap
                # between them may take a pixel of its own (a column is never blank if
                # something happened in it): the run's ends are at one of those edges
                t0, npp2 = s - d, 3 * d / npx
                los, his = [s], [s + d]
                for ws, wd in sorted(waits):
                    if ws <= his[-1] + 2 * npp2 and ws + wd > his[-1]:
                        his.append(ws + wd)
                for ws, wd in sorted(waits, reverse=True):  # chains before the run
                    if ws + wd >= los[-1] - 2 * npp2 and ws < los[-1]:
                        los.append(ws)
                xas = [x0 + (max(lo, t0) - t0) / npp2 for lo in los]
                xbs = [x0 + (min(hi, t0 + 3 * d) - t0) / npp2 for hi in his]
                ok(rows[ymid][xm] == LOCK_WAIT and min(abs(a - xa) for xa in xas) <= 3
                   and min(abs(b - xb) for xb in xbs) <= 3,
                   "with --range the longest wait fills the middle third (with the waits next to it)",
                   (a, b, xas, xbs, x0 + npx / 3, x0 + 2 * npx / 3))
        # a pid with several images (sh exec'ing sh): one header per image. The root's
        # images before the last, and the child the second one started, are launchers
        # (as `weft report` leaves them out): their headers start collapsed, one under
        # the other; the program (the last image) shows its thread's row
        edb = os.path.join(tmp, "exec.db")
        p = subprocess.run([args.weft, "record", "-q", "-o", edb, "--", "/bin/sh", "-c",
                            'exec /bin/sh -c "/bin/sh -c : ; exec /bin/sh -c :"'],
                           env=gui_env(tmp), timeout=TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if ok(p.returncode == 0, "weft record sh exec'ing sh", p.stderr):
            con = sqlite3.connect(edb)
            procs = con.execute("SELECT pid, image FROM process ORDER BY start_ns").fetchall()
            con.close()
            out3 = os.path.join(tmp, "exec.png")
            p = shoot(args, tmp, edb, out3)
            if ok(p.returncode == 0 and len(procs) == 4 and [i for _, i in procs].count(0) == 2,
                  "--screenshot of the exec recording (3 images of one pid, 1 child)", (p.stderr, procs)):
                w, h, rows = read_png(out3)
                # (in the label column: a collapsed header's timeline part summarises its threads)
                hb = bands([r[:200] for r in rows], lambda px: px == PROCESS_HEADER, 60)
                # (a header's label text can leave a pixel row of it with fewer header pixels: one band
                # across a gap of a row or two)
                for k in range(len(hb) - 1, 0, -1):
                    if hb[k][0] - hb[k - 1][1] <= 2:
                        hb[k - 1:k + 1] = [(hb[k - 1][0], hb[k][1])]
                PROC_H = 22
                heights = [round((b - a) / PROC_H) for a, b in hb]
                # under the headers (the program's is the last: it started last), one thread
                # row with its label (dark text pixels in the label column), then nothing
                def label_text(y0, y1):
                    return sum(1 for y in range(y0, min(y1, h)) for x in range(0, 150) if sum(rows[y][x]) < 3 * 0x90)
                y1 = hb[-1][1] if hb else 0
                ok(heights == [4] and label_text(y1, y1 + PROC_H) > 20 and label_text(y1 + PROC_H, y1 + 3 * PROC_H) == 0,
                   "one header per image; the 3 launchers collapsed, the program's thread row under its header",
                   (hb, heights, label_text(y1, y1 + PROC_H), label_text(y1 + PROC_H, y1 + 3 * PROC_H), procs))
        check_cli(args, tmp, db, end_ns)
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
