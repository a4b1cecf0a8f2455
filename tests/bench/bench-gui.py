#!/usr/bin/env python3
# tests/bench/bench-gui.py - weft-gui's speed on a synthetic recording (DESIGN.md section 6).
# SPDX-License-Identifier: MIT
#
# usage: bench-gui.py --weft WEFT --gui WEFT_GUI --gen GEN_RECORDING [--events N] [--threads T]
#                     [--size WxH] [--renderer cairo|gl|...] [--workdir DIR]
# gen-recording writes a recording of N events (cached in WORKDIR, keyed by the arguments),
# `weft import` stores it, and `weft-gui --bench` (under xvfb-run) opens it, times the first
# frame (from the start of its work to the first paint of the window) and the first complete
# frame (every row in view, the running track and the overview folded), then renders a scripted
# sequence offscreen: zooming from the whole recording to a 2 us window by factors of 2 at
# three places, panning a tenth of the window three times at every level, and zooming back
# out; each frame is the timeline's snapshot plus its rasterisation by the window's renderer.
# The rows are folded on a worker thread: a window gets one frame at once (rows not folded yet
# drawn from their last fold, stretched) and one more each time folds arrive (at most one per
# 16 ms); "complete" is the time from moving the window until all of its rows are there.
# Prints weft-gui's JSON and the numbers next to the targets. Exits 0 unless a run fails: the
# numbers are reported, not gated (they depend on the machine).
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

TARGETS = {"first_frame_ms": 1500, "p95_ms": 16, "p95_ms_cairo": 33, "rss_mb": 1024}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--gui", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--events", type=int, default=10000000)
    ap.add_argument("--threads", type=int, default=64)
    ap.add_argument("--size", default="1600x900")
    ap.add_argument("--renderer", default="cairo", help="GSK_RENDERER (cairo: software, as under Xvfb)")
    ap.add_argument("--workdir", default=".")
    args = ap.parse_args()
    if not shutil.which("xvfb-run"):
        print("bench-gui: xvfb-run is not installed; skipped")
        return 0
    os.makedirs(args.workdir, exist_ok=True)
    key = "gui-%d-%d" % (args.events, args.threads)
    rec, db = os.path.join(args.workdir, key), os.path.join(args.workdir, key + ".db")
    if not os.path.exists(db):
        t = time.time()
        subprocess.run([args.gen, "--force", "--events", str(args.events), "--threads", str(args.threads), rec],
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([args.weft, "import", rec, "-o", db, "--force"], check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(rec, ignore_errors=True)
        print("bench-gui: generated and imported %d events in %.1f s" % (args.events, time.time() - t))
    env = dict(os.environ, GSK_RENDERER=args.renderer, NO_AT_BRIDGE="1", GTK_A11Y="none", GDK_BACKEND="x11")
    w, h = (int(v) for v in args.size.split("x"))
    p = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 %dx%dx24" % (w + 200, h + 200), args.gui, "--bench",
                        "--size", args.size, db], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=1800)
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode("utf-8", "replace"))
        return 1
    line = [l for l in p.stdout.decode().splitlines() if l.startswith("{")][-1]
    r = json.loads(line)
    print(line)
    p95_target = TARGETS["p95_ms_cairo"] if args.renderer == "cairo" else TARGETS["p95_ms"]
    print("%-34s %10s %10s" % ("weft-gui, %d events, %s" % (args.events, args.size), "measured", "target"))
    print("%-34s %8.0f ms %7d ms" % ("time to first frame", r["first_frame_ms"], TARGETS["first_frame_ms"]))
    print("%-34s %8.0f ms %7d ms" % ("time to first complete frame", r["first_complete_ms"],
                                     TARGETS["first_frame_ms"]))
    print("%-34s %8.1f ms %7d ms" % ("frame p95 (%d frames, %s)" % (r["frames"], args.renderer),
                                     r["frame_ms"]["p95"], p95_target))
    print("%-34s %8.1f ms" % ("frame p50", r["frame_ms"]["p50"]))
    print("%-34s %8.1f ms" % ("frame max", r["frame_ms"]["max"]))
    print("%-34s %8.1f ms" % ("window complete p50 (%d windows)" % r["windows"], r["complete_ms"]["p50"]))
    print("%-34s %8.1f ms" % ("window complete p95", r["complete_ms"]["p95"]))
    print("%-34s %8.1f ms" % ("window complete max", r["complete_ms"]["max"]))
    print("%-34s %8.0f MB %7d MB" % ("peak RSS", r["peak_rss_mb"], TARGETS["rss_mb"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
