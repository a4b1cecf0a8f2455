#!/usr/bin/env python3
# run-programs.py - the agent's overhead on lock-heavy real programs, native vs traced.
# SPDX-License-Identifier: MIT
"""Measure lock-heavy real programs native and traced by the weft agent.

Each program reports its own throughput, as a user would read it:
  mutexbench        mutexbench T 8 SECONDS (T = 32 and 4): ops_per_s
  sysbench-threads  sysbench threads --threads=8 --thread-locks=4: events / total time
  sysbench-mutex    sysbench mutex --threads=8 (fixed work): 1 / total time
  stress-ng-mutex   stress-ng --mutex 4 --metrics-brief: bogo ops/s (real time)
  memcached         memcached -t 2 on 127.0.0.1 (the traced program), loaded by
                    memcload (4 connections, 10% sets; not traced): ops_per_s
The ratio is traced / native throughput (1.0 = no cost); the targets are the
weft issue's.

The native and the traced run (LD_PRELOAD=agent, WEFT_OUTPUT=a fresh directory,
every other WEFT_* variable unset, so default settings) alternate, R
repetitions each; the order within a repetition rotates. After each traced run
every .wtrace file of the recording goes through `weft-dump --stats` (records,
lost events, processes, EXIT records) and the files' sizes are added up.

A program that is not installed is skipped with a message (install them with
tests/bench/setup-programs.sh). Exit status 0 (benchmarks report, they do not
gate; lost events are a warning), 1 if a run fails, 2 on a usage error.
"""

import argparse
import glob
import importlib.util
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


def _load_run_bench():
    """run-bench.py (next to this file) as a module, for its shared helpers."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run-bench.py")
    spec = importlib.util.spec_from_file_location("weft_run_bench", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


rb = _load_run_bench()
Failure, clean_env, median, parse_kv = rb.Failure, rb.clean_env, rb.median, rb.parse_kv

SETUP_HINT = "run tests/bench/setup-programs.sh as root to install it"

# The weft issue's numbers, quoted for comparison (not measured here).
PEERS = [
    ("LTTng-UST", "~270 ns per uncontended lock+unlock pair"),
    ("uftrace", "~470 ns per uncontended lock+unlock pair"),
    ("mutrace", "> 1 us per uncontended lock+unlock pair"),
    ("Valgrind DRD", "~700x slowdown"),
    ("weft before this work", "4-thread 8-mutex loop 0.43x, 32 threads 0.38x, "
                              "memcached -t 2 0.73x, sysbench threads 0.93x"),
]


# ---- the programs ----

class Case:
    """One measured configuration. needs: executables on PATH or the options
    (--mutexbench, --memcload) it requires. run(env, outdir, workdir) -> result
    dict with "value" (throughput, higher is better) and "argv"."""

    def __init__(self, name, program, label, unit, target, needs, run):
        self.name, self.program, self.label, self.unit = name, program, label, unit
        self.target, self.needs, self.run = target, needs, run


def run_output(argv, env, cwd, timeout):
    """Run argv; its stdout and stderr as one text (some programs print results on stderr)."""
    p = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout)
    out = p.stdout.decode(errors="replace")
    if p.returncode != 0:
        raise Failure(f"{' '.join(map(shlex.quote, argv))}: exit status {p.returncode}: {out.strip()[-500:]}")
    return out


def kv_value(out, key, what):
    for line in reversed(out.strip().splitlines()):
        kv = parse_kv(line)
        if key in kv:
            try:
                return float(kv[key]), kv
            except ValueError:
                break
    raise Failure(f"{what}: no {key}= in its output: {out.strip()[-300:]!r}")


def sysbench_stats(out, what):
    m_t = re.search(r"total time:\s*([0-9.]+)s", out)
    m_e = re.search(r"total number of events:\s*([0-9]+)", out)
    if not m_t or not m_e or float(m_t.group(1)) <= 0:
        raise Failure(f"{what}: no 'total time' / 'total number of events' in {out.strip()[-300:]!r}")
    return float(m_t.group(1)), int(m_e.group(1))


def make_cases(args):
    secs = args.seconds
    tmo = secs * 10 + 120
    cases = []

    def mutexbench(threads):
        def run(env, outdir, workdir):
            argv = [args.mutexbench, str(threads), "8", f"{secs:g}"]
            out = run_output(argv, env, workdir, tmo)
            v, kv = kv_value(out, "ops_per_s", "mutexbench")
            return {"value": v, "argv": argv, "ops": int(kv.get("ops", 0))}
        return Case(f"mutexbench-{threads}x8", "mutexbench", f"mutexbench {threads} 8 {secs:g}", "ops/s",
                    0.8, ["--mutexbench"], run)

    cases.append(mutexbench(32))
    cases.append(mutexbench(4))

    def sysbench_threads(env, outdir, workdir):
        argv = ["sysbench", "threads", "--threads=8", "--thread-locks=4", f"--time={max(1, round(secs))}", "run"]
        out = run_output(argv, env, workdir, tmo)
        t, n = sysbench_stats(out, "sysbench threads")
        return {"value": n / t, "argv": argv, "events": n, "total_s": t}

    cases.append(Case("sysbench-threads", "sysbench",
                      f"sysbench threads --threads=8 --thread-locks=4 --time={max(1, round(secs))}",
                      "events/s", 0.9, ["sysbench"], sysbench_threads))

    def sysbench_mutex(env, outdir, workdir):
        argv = ["sysbench", "mutex", "--threads=8", "run"]
        out = run_output(argv, env, workdir, tmo)
        t, n = sysbench_stats(out, "sysbench mutex")
        return {"value": 1.0 / t, "argv": argv, "events": n, "total_s": t}

    cases.append(Case("sysbench-mutex", "sysbench", "sysbench mutex --threads=8 (fixed work)",
                      "runs/s", 0.9, ["sysbench"], sysbench_mutex))

    def stress_ng(env, outdir, workdir):
        argv = ["stress-ng", "--mutex", "4", "-t", f"{max(1, round(secs))}", "--metrics-brief"]
        out = run_output(argv, env, workdir, tmo)
        # stress-ng: metrc: [PID] mutex  BOGO_OPS REAL USR SYS OPS/S_REAL OPS/S_USR+SYS
        for line in out.splitlines():
            m = re.search(r"\]\s+mutex\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)", line)
            if m:
                return {"value": float(m.group(5)), "argv": argv, "bogo_ops": float(m.group(1)),
                        "real_s": float(m.group(2))}
        raise Failure(f"stress-ng: no mutex metrics line in {out.strip()[-300:]!r}")

    cases.append(Case("stress-ng-mutex", "stress-ng", f"stress-ng --mutex 4 -t {max(1, round(secs))} --metrics-brief",
                      "bogo ops/s", 0.9, ["stress-ng"], stress_ng))

    def memcached(env, outdir, workdir):
        return run_memcached(args, env, workdir)

    cases.append(Case("memcached", "memcached",
                      f"memcached -t 2 + memcload {args.connections} conn. {args.set_ratio:g} sets {secs:g} s",
                      "ops/s", 0.9, ["memcached", "--memcload"], memcached))
    return cases


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memcached_ready(port, proc, timeout=30.0):
    """Wait until the memcached on 127.0.0.1:port answers `version`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.sendall(b"version\r\n")
                if s.recv(64).startswith(b"VERSION "):
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def run_memcached(args, env, workdir):
    """memcached (with env: traced or not) on a free loopback port; memcload (never
    traced) measures; then SIGTERM and wait: memcached must exit with status 0."""
    for attempt in range(3):
        port = free_port()
        argv = ["memcached", "-t", "2", "-p", str(port), "-l", "127.0.0.1", "-U", "0"]
        if os.geteuid() == 0:
            argv += ["-u", "root"]
        log = os.path.join(workdir, "memcached.log")
        with open(log, "wb") as lf:
            proc = subprocess.Popen(argv, env=env, cwd=workdir, stdout=lf, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        try:
            if memcached_ready(port, proc):
                break
            if proc.poll() is None:
                raise Failure(f"memcached on port {port} did not answer within 30 s")
            with open(log, "rb") as lf:
                msg = lf.read().decode(errors="replace").strip()[-300:]
            if attempt == 2 or "in use" not in msg:   # retry only a port taken meanwhile
                raise Failure(f"{' '.join(argv)}: exit status {proc.returncode} before accepting: {msg}")
        except BaseException:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
    try:
        load = [args.memcload, str(port), str(args.connections), f"{args.seconds:g}", f"{args.set_ratio:g}"]
        out = run_output(load, clean_env(), workdir, args.seconds * 10 + 60)
        v, kv = kv_value(out, "ops_per_s", "memcload")
    finally:
        t0 = time.monotonic()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise Failure("memcached did not end within 30 s of SIGTERM (killed; the recording is incomplete)")
        stop_s = time.monotonic() - t0
    if rc != 0:
        with open(log, "rb") as lf:
            msg = lf.read().decode(errors="replace").strip()[-300:]
        raise Failure(f"memcached exit status {rc} after SIGTERM: {msg}")
    return {"value": v, "argv": argv, "load_argv": load, "ops": int(kv.get("ops", 0)),
            "misses": int(kv.get("misses", 0)), "stop_s": stop_s}


# ---- measuring ----

def recording_stats(args, outdir):
    """Sum of weft-dump --stats over every .wtrace file of the recording, and its size."""
    files = sorted(glob.glob(os.path.join(outdir, "**", "*.wtrace"), recursive=True))
    if not files:
        raise Failure(f"{outdir}: the traced run wrote no .wtrace file")
    st = {"files": len(files), "bytes": 0, "records": 0, "lost": 0, "processes": 0, "EXIT": 0}
    for f in files:
        st["bytes"] += os.path.getsize(f)
        p = rb.run_checked([args.dump, "--stats", f], clean_env())
        for line in p.stdout.decode().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit() and parts[0] in ("records", "lost", "processes", "EXIT"):
                st[parts[0]] += int(parts[1])
    return st


def run_one(args, case, traced, tmproot):
    env = clean_env()
    outdir = None
    if traced:
        outdir = tempfile.mkdtemp(prefix=f"weft-prog-{case.name}-", dir=tmproot)
        env["LD_PRELOAD"] = args.agent
        env["WEFT_OUTPUT"] = outdir
    workdir = tempfile.mkdtemp(prefix="run-", dir=tmproot)
    try:
        r = case.run(env, outdir, workdir)
        if traced:
            r["trace"] = recording_stats(args, outdir)
        return r
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if outdir and not args.keep:
            shutil.rmtree(outdir, ignore_errors=True)


def missing(case, args):
    """Why case cannot run (a one-line message), or None."""
    for need in case.needs:
        if need in ("--mutexbench", "--memcload"):
            if getattr(args, need[2:]) is None:
                return (f"no {need} given; build it with ninja -C BUILD tests/bench/{need[2:]} "
                        f"and pass {need} BUILD/tests/bench/{need[2:]}")
        elif shutil.which(need) is None:
            return f"{need} is not installed; {SETUP_HINT}"
    return None


def measure(args, cases, tmproot, failures):
    results = {c.name: {"native": [], "traced": []} for c in cases}
    for rep in range(args.reps):
        for i, case in enumerate(cases):
            order = ["native", "traced"] if (rep + i) % 2 == 0 else ["traced", "native"]
            for cfg in order:
                try:
                    r = run_one(args, case, cfg == "traced", tmproot)
                except (Failure, subprocess.TimeoutExpired, OSError) as e:
                    failures.append(f"{case.name} ({cfg}): {e}")
                    print(f"FAILED: {case.name} ({cfg}): {e}", file=sys.stderr, flush=True)
                    continue
                results[case.name][cfg].append(r)
                if args.verbose:
                    extra = ""
                    if "trace" in r:
                        t = r["trace"]
                        extra = (f"  files={t['files']} records={t['records']} lost={t['lost']} "
                                 f"{t['bytes'] / 1e6:.1f} MB")
                    print(f"  rep {rep + 1} {case.name:16s} {cfg:6s} {r['value']:14,.1f} {case.unit}{extra}",
                          file=sys.stderr, flush=True)
    rows = []
    for case in cases:
        nat = [r["value"] for r in results[case.name]["native"]]
        trc = [r["value"] for r in results[case.name]["traced"]]
        traces = [r["trace"] for r in results[case.name]["traced"]]
        mn, mt = median(nat), median(trc)
        rows.append({
            "name": case.name, "program": case.program, "label": case.label, "unit": case.unit,
            "target": case.target, "reps": [len(nat), len(trc)],
            "native": mn, "traced": mt, "ratio": mt / mn if mn else float("nan"),
            "native_all": nat, "traced_all": trc,
            "lost": sum(t["lost"] for t in traces),
            "trace_mb": median([t["bytes"] / 1e6 for t in traces]),
            "records": median([t["records"] for t in traces]),
            "processes": median([t["processes"] for t in traces]),
            "unended": sum(max(0, t["processes"] - t["EXIT"]) for t in traces),
            "runs": results[case.name],
        })
    return rows


def fmtv(x):
    if x != x:  # nan
        return "-"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def print_tables(rows, reps):
    programs = []
    for r in rows:
        if r["program"] not in programs:
            programs.append(r["program"])
    for prog in programs:
        print()
        print(f"## {prog}: throughput, median of {reps} interleaved repetitions (traced / native)")
        print()
        print("| case | unit | native | traced | ratio | target | lost | trace MB | records | met |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in (r for r in rows if r["program"] == prog):
            ok = r["ratio"] == r["ratio"] and r["ratio"] >= r["target"]
            print(f"| {r['label']} | {r['unit']} | {fmtv(r['native'])} | {fmtv(r['traced'])} | "
                  f"{rb.fmt(r['ratio'], 2)}x | >= {r['target']:g}x | {r['lost']} | "
                  f"{rb.fmt(r['trace_mb'], 1)} | {rb.fmt(r['records'], 0)} | {'yes' if ok else 'no'} |")
        for r in (r for r in rows if r["program"] == prog):
            print(f"  {r['name']}: native {', '.join(fmtv(x) for x in r['native_all']) or '-'}; "
                  f"traced {', '.join(fmtv(x) for x in r['traced_all']) or '-'} ({r['unit']}, each run)")
        for r in (r for r in rows if r["program"] == prog):
            if r["lost"]:
                print(f"WARNING: {r['name']}: {r['lost']} events lost at default settings (the target is 0)")
            if r["unended"]:
                print(f"WARNING: {r['name']}: {r['unended']} traced process(es) without an EXIT record "
                      f"(did not end cleanly; the recording may be incomplete)")
    sys.stdout.flush()


def print_peers():
    print()
    print("## peers (quoted from the weft issue, not measured here)")
    print()
    print("| tool | cost |")
    print("|---|---|")
    for name, cost in PEERS:
        print(f"| {name} | {cost} |")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agent", required=True, help="libweft-agent.so")
    ap.add_argument("--dump", required=True, help="weft-dump (records and lost events via --stats)")
    ap.add_argument("--mutexbench", help="the mutexbench executable (without it: mutexbench is skipped)")
    ap.add_argument("--memcload", help="the memcload executable (without it: memcached is skipped)")
    ap.add_argument("--quick", action="store_true", help="3 repetitions, 2 s runs")
    ap.add_argument("--reps", type=int, help="repetitions per program (default 5, quick 3)")
    ap.add_argument("--seconds", type=float, help="length of each timed run (default 5, quick 2)")
    ap.add_argument("--only", default="", metavar="NAME[,NAME]",
                    help="programs or cases to run: mutexbench, sysbench, stress-ng, memcached, or a case "
                         "name (mutexbench-32x8, mutexbench-4x8, sysbench-threads, sysbench-mutex, "
                         "stress-ng-mutex)")
    ap.add_argument("--connections", type=int, default=4, help="memcload connections (default 4)")
    ap.add_argument("--set-ratio", type=float, default=0.1, help="memcload share of sets (default 0.1)")
    ap.add_argument("--tmpdir", default=None, help="where recordings are written (default: $TMPDIR)")
    ap.add_argument("--json", help="also write every measurement to this file")
    ap.add_argument("--keep", action="store_true", help="keep the recordings")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each run on stderr")
    args = ap.parse_args()

    args.reps = args.reps if args.reps is not None else (3 if args.quick else 5)
    args.seconds = args.seconds if args.seconds is not None else (2.0 if args.quick else 5.0)
    if args.reps < 1:
        ap.error("--reps must be at least 1")
    if not 0 < args.seconds <= 600:
        ap.error("--seconds must be in (0, 600]")
    if not 1 <= args.connections <= 256:
        ap.error("--connections must be 1-256")
    if not 0 <= args.set_ratio <= 1:
        ap.error("--set-ratio must be 0-1")
    for opt in ("agent", "dump", "mutexbench", "memcload"):
        p = getattr(args, opt)
        if p is not None:
            if not os.path.exists(p):
                ap.error(f"--{opt} {p}: no such file")
            setattr(args, opt, os.path.abspath(p))

    cases = make_cases(args)
    if args.only:
        want = [w for w in args.only.split(",") if w]
        known = {c.name for c in cases} | {c.program for c in cases}
        for w in want:
            if w not in known:
                ap.error(f"--only {w}: unknown; names: {', '.join(sorted(known))}")
        cases = [c for c in cases if c.name in want or c.program in want]

    mi = rb.print_header("weft agent overhead on lock-heavy programs (tests/bench/run-programs.py)", args.agent,
                         "default settings, WEFT_OUTPUT only")
    print(f"runs:    {args.reps} repetitions of {args.seconds:g} s, native and traced interleaved")
    print(f"load:    {rb.loadavg()} (1/5/15 min load average at start; the runs share the machine)")

    runnable = []
    for c in cases:
        why = missing(c, args)
        if why:
            print(f"skipped: {c.name} ({why})")
        else:
            runnable.append(c)
    sys.stdout.flush()

    failures = []
    out = {"machine": mi, "argv": sys.argv, "date": time.time(), "reps": args.reps,
           "seconds": args.seconds, "skipped": [c.name for c in cases if c not in runnable]}
    with tempfile.TemporaryDirectory(prefix="weft-programs-", dir=args.tmpdir) as tmproot:
        print(f"traces:  {tmproot} on {rb.fs_type(tmproot)}")
        sys.stdout.flush()
        t0 = time.monotonic()
        rows = measure(args, runnable, tmproot, failures) if runnable else []
        if not runnable:
            print("\nnothing to measure: every selected program was skipped")
        print_tables(rows, args.reps)
        print_peers()
        out["programs"] = rows
        print(f"\n(total {time.monotonic() - t0:.0f} s; load average at the end {rb.loadavg()})")
    return rb.finish(args.json, out, failures)


if __name__ == "__main__":
    sys.exit(main())
