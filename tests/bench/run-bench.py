#!/usr/bin/env python3
# run-bench.py - the agent's overhead: lockbench modes and pigz, native vs traced.
# SPDX-License-Identifier: MIT
"""Measure what the weft agent adds, native against traced, interleaved.

For every lockbench mode the native and the traced run (LD_PRELOAD=agent,
WEFT_OUTPUT=a fresh directory, every other WEFT_* variable unset, so default
settings) alternate, R repetitions each, and the order within a repetition
rotates. Times are lockbench's own (CLOCK_MONOTONIC inside the process).
condvar, barrier, create, fork, spawn and forkexec run pinned to CPU 0 (taskset -c 0):
on this kind of 2-vCPU VM a blocking hand-off costs ~3 us on one vCPU and
20-60 us to an idle one, which swamps any tracer cost.

After each traced run the recording is measured: records and lost events from
`weft-dump --stats`, the bytes the records use from `trace-size` (the sum of
record lengths; the files are bigger, chunks are preallocated).

The program mode runs `pigz -p 2 -c` on generated text (cached in --workdir),
native and traced interleaved, wall time from outside and CPU time (user+sys
from wait4, less sensitive to other load on the machine), and checks that the
compressed output is byte-identical.

Exit status 0 (benchmarks report, they do not gate), 1 if a run fails or an
output differs, 2 on a usage error.
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

# mode -> (lockbench args, full N, quick N, pinned)
MODES = {
    "uncontended": (["uncontended", "{n}"], 2_000_000, 500_000, False),
    "contended": (["contended", "{n}", "2"], 2_000_000, 500_000, False),
    "condvar": (["condvar", "{n}"], 100_000, 20_000, True),
    "futex": (["futex", "{n}"], 100_000, 20_000, True),
    "barrier": (["barrier", "{n}", "2"], 200_000, 50_000, True),
    "create": (["create", "{n}"], 20_000, 5_000, True),
    "fork": (["fork", "{n}"], 2_000, 500, True),
    "spawn": (["spawn", "{n}"], 500, 200, True),
    "forkexec": (["forkexec", "{n}"], 500, 200, True),
    "stacks5": (["stacks", "{n}", "5"], 200_000, 50_000, False),
    "stacks60": (["stacks", "{n}", "60"], 200_000, 50_000, False),
}
OP_NAME = {
    "uncontended": "lock+unlock pair, 1 thread working, 2 alive",
    "contended": "lock+unlock pair, 2 threads on one mutex",
    "condvar": "ping-pong round trip (2 hand-offs)",
    "futex": "ping-pong round trip on a futex through syscall() (2 wakes)",
    "barrier": "barrier round, 2 threads",
    "create": "pthread_create + pthread_join",
    "fork": "fork + child _exit(0) + waitpid",
    "spawn": "posix_spawn(lockbench noop) + waitpid",
    "forkexec": "fork, the child execs lockbench noop, + waitpid",
    "stacks5": "sem_init + sem_destroy 5 calls deep (a stack at each init)",
    "stacks60": "sem_init + sem_destroy 60 calls deep (a stack at each init)",
}


def machine_info():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    clocksource = "?"
    try:
        with open("/sys/devices/system/clocksource/clocksource0/current_clocksource") as f:
            clocksource = f.read().strip()
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "online": len(os.sched_getaffinity(0)),
        "model": model,
        "kernel": platform.release(),
        "clocksource": clocksource,
        "libc": " ".join(platform.libc_ver()),
    }


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def fs_type(path):
    """The file system type of path, from /proc/self/mounts (longest mount prefix)."""
    best, kind = "", "?"
    path = os.path.realpath(path)
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    mnt = parts[1].replace("\\040", " ")
                    if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best):
                        best, kind = mnt, parts[2]
    except OSError:
        pass
    return kind


def clean_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_") and k != "LD_PRELOAD"}
    return env


class Failure(Exception):
    pass


def run_checked(argv, env, stdout=subprocess.PIPE, timeout=600):
    p = subprocess.run(argv, env=env, stdout=stdout, stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        err = p.stderr.decode(errors="replace").strip()
        raise Failure(f"{' '.join(map(shlex.quote, argv))}: exit status {p.returncode}: {err[-500:]}")
    return p


def parse_kv(line):
    out = {}
    for tok in line.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            out[k] = v
    return out


def trace_stats(args, outdir):
    """records/lost from weft-dump --stats, bytes from trace-size."""
    st = {}
    env = clean_env()
    if args.dump:
        p = run_checked([args.dump, "--stats", outdir], env)
        for line in p.stdout.decode().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                st["dump." + parts[0]] = int(parts[1])
    if args.trace_size:
        p = run_checked([args.trace_size, outdir], env)
        for k, v in parse_kv(p.stdout.decode()).items():
            st[k] = int(v)
    # records: weft-dump's count when there is one (trace-size must agree);
    # lost: trace-size adds the file headers' lost fields to the LOST records
    if "records" in st and "dump.records" in st and st["records"] != st["dump.records"]:
        raise Failure(f"{outdir}: weft-dump counts {st['dump.records']} records, "
                      f"trace-size {st['records']}")
    st["records"] = st.get("dump.records", st.get("records", 0))
    st["lost"] = max(st.get("dump.lost", 0), st.get("lost", 0))
    return st


def run_lockbench(args, mode, n, traced, tmproot):
    argv0, _, _, pinned = MODES[mode]
    argv = [args.lockbench] + [a.format(n=n) for a in argv0]
    if pinned:
        argv = ["taskset", "-c", "0"] + argv
    env = clean_env()
    outdir = None
    if traced:
        outdir = tempfile.mkdtemp(prefix=f"weft-bench-{mode}-", dir=tmproot)
        env["LD_PRELOAD"] = args.agent
        env["WEFT_OUTPUT"] = outdir
        env.update(args.env)
    try:
        p = run_checked(argv, env)
        line = p.stdout.decode().strip().splitlines()
        kv = parse_kv(line[-1]) if line else {}
        if "ns_per_op" not in kv:
            raise Failure(f"{mode}: no result line in {p.stdout!r}")
        res = {"ns_per_op": float(kv["ns_per_op"]), "n": int(kv["n"]), "argv": argv}
        if traced:
            res["trace"] = trace_stats(args, outdir)
        return res
    finally:
        if outdir and not args.keep:
            shutil.rmtree(outdir, ignore_errors=True)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(x, digits=1):
    if x != x:  # nan
        return "-"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def micro(args, tmproot, failures):
    modes = args.modes
    results = {m: {"native": [], "traced": []} for m in modes}
    for rep in range(args.reps):
        for i, mode in enumerate(modes):
            n = args.n.get(mode) or (MODES[mode][2] if args.quick else MODES[mode][1])
            order = ["native", "traced"] if (rep + i) % 2 == 0 else ["traced", "native"]
            for cfg in order:
                try:
                    r = run_lockbench(args, mode, n, cfg == "traced", tmproot)
                except (Failure, subprocess.TimeoutExpired) as e:
                    failures.append(str(e))
                    print(f"FAILED: {e}", file=sys.stderr)
                    continue
                results[mode][cfg].append(r)
                if args.verbose:
                    extra = ""
                    if "trace" in r:
                        t = r["trace"]
                        extra = f" records={t.get('records')} lost={t.get('lost')}"
                    print(f"  rep {rep + 1} {mode:12s} {cfg:6s} {r['ns_per_op']:10.1f} ns/op{extra}",
                          file=sys.stderr, flush=True)
    rows = []
    for mode in modes:
        nat = [r["ns_per_op"] for r in results[mode]["native"]]
        trc = [r["ns_per_op"] for r in results[mode]["traced"]]
        traces = [r["trace"] for r in results[mode]["traced"]]
        n = (results[mode]["native"] or results[mode]["traced"] or [{"n": 0}])[0]["n"]
        mn, mt = median(nat), median(trc)
        recs = [t["records"] / n for t in traces if n]
        bpr = [t["record_bytes"] / t["records"] for t in traces if t.get("records") and "record_bytes" in t]
        fpr = [t["file_bytes"] / t["records"] for t in traces if t.get("records") and "file_bytes" in t]
        lost = sum(t.get("lost", 0) for t in traces)
        rec_op = median(recs)
        added = mt - mn
        rows.append({
            "mode": mode, "op": OP_NAME[mode], "n": n, "pinned": MODES[mode][3],
            "reps": [len(nat), len(trc)],
            "native_ns": mn, "traced_ns": mt, "added_ns": added,
            "ratio": mt / mn if mn else float("nan"),
            "native_range": [min(nat), max(nat)] if nat else None,
            "traced_range": [min(trc), max(trc)] if trc else None,
            "records_per_op": rec_op,
            "added_ns_per_record": added / rec_op if rec_op else float("nan"),
            "bytes_per_record": median(bpr),
            "file_bytes_per_record": median(fpr),
            "lost": lost,
            "native_all": nat, "traced_all": trc,
        })
    return rows


def print_micro(rows, reps):
    print()
    print(f"## lockbench, median of {reps} interleaved repetitions (ns per operation)")
    print()
    print("| mode | N | pinned | native | traced | added | ratio | records/op | added ns/record | "
          "B/record (used) | B/record (files) | lost |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['mode']} | {r['n']:,} | {'cpu 0' if r['pinned'] else 'no'} | {fmt(r['native_ns'])} | "
              f"{fmt(r['traced_ns'])} | {fmt(r['added_ns'])} | {fmt(r['ratio'], 2)}x | "
              f"{fmt(r['records_per_op'], 2)} | {fmt(r['added_ns_per_record'])} | "
              f"{fmt(r['bytes_per_record'])} | {fmt(r['file_bytes_per_record'])} | {r['lost']} |")
    print()
    print("Ranges (min-max over the repetitions):")
    for r in rows:
        nr, tr = r["native_range"], r["traced_range"]
        if nr and tr:
            print(f"  {r['mode']:12s} native {fmt(nr[0])}-{fmt(nr[1])}  traced {fmt(tr[0])}-{fmt(tr[1])}"
                  f"   ({r['op']})")
    print()
    for r in rows:
        if r["lost"]:
            print(f"WARNING: {r['mode']}: {r['lost']} events lost at default settings (the target is 0)")
    print("records/op: all records of the traced run / N (start-up records included).")
    print("B/record (used): sum of record lengths / records. B/record (files): sum of the")
    print(".wtrace file sizes / records (includes chunk headers and preallocated, unused chunk tails).")
    sys.stdout.flush()


# ---- program mode ----

WORDS_SEED = 20240501
TEXT_VERSION = 2   # bump when gen_text changes: the cached file name carries it


def gen_text(path, mb):
    """Deterministic English-like text that pigz compresses about 2.2x (like the
    peers' input): a pool of ~4 MiB of seeded pseudo-words (50,000 words,
    Zipf-like frequencies), then mb MiB of pool segments (4-64 KiB) at seeded
    offsets. Takes a few seconds for 200 MiB."""
    rng = random.Random(WORDS_SEED)
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    lw = [12, 9, 8, 8, 7, 7, 6, 6, 6, 4, 4, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]
    vocab = []
    seen = set()
    while len(vocab) < 50_000:
        w = "".join(rng.choices(letters, lw, k=rng.randint(2, 11)))
        if w not in seen:
            seen.add(w)
            vocab.append(w)
    weights = [1.0 / (i + 1) ** 0.9 for i in range(len(vocab))]
    pool_words = rng.choices(vocab, weights, k=700_000)
    lines, cur = [], []
    for i, w in enumerate(pool_words):
        cur.append(w)
        if len(cur) >= 8 and rng.random() < 0.12:
            lines.append(" ".join(cur) + (".\n" if i % 3 else ",\n"))
            cur = []
    pool = "".join(lines).encode()
    total = mb << 20
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        written = 0
        while written < total:
            ln = min(rng.randint(4096, 65536), total - written)
            off = rng.randrange(0, len(pool) - ln)
            f.write(pool[off:off + ln])
            written += ln
    os.replace(tmp, path)


def program(args, tmproot, failures):
    pigz = shutil.which("pigz")
    if not pigz:
        print("\n## pigz: skipped (pigz is not installed; apt-get install pigz)")
        return None
    os.makedirs(args.workdir, exist_ok=True)
    text = os.path.join(args.workdir, f"bench-text-v{TEXT_VERSION}-{args.size}M.txt")
    if not os.path.exists(text) or os.path.getsize(text) != args.size << 20:
        t0 = time.monotonic()
        gen_text(text, args.size)
        print(f"(generated {text} in {time.monotonic() - t0:.1f} s)", file=sys.stderr)
    argv = [pigz, "-p", "2", "-c", text]
    res = {"native": [], "traced": []}
    cpu = {"native": [], "traced": []}
    traces = []
    digests = set()
    for rep in range(args.prog_reps):
        order = ["native", "traced"] if rep % 2 == 0 else ["traced", "native"]
        for cfg in order:
            env = clean_env()
            outdir = None
            if cfg == "traced":
                outdir = tempfile.mkdtemp(prefix="weft-bench-pigz-", dir=tmproot)
                env["LD_PRELOAD"] = args.agent
                env["WEFT_OUTPUT"] = outdir
                env.update(args.env)
            out = os.path.join(tmproot, "pigz.out")
            err = os.path.join(tmproot, "pigz.err")
            try:
                with open(out, "wb") as fo, open(err, "wb") as fe:
                    t0 = time.monotonic()
                    p = subprocess.Popen(argv, env=env, stdout=fo, stderr=fe)
                    killer = threading.Timer(600, p.kill)
                    killer.start()
                    _, status, ru = os.wait4(p.pid, 0)
                    dt = time.monotonic() - t0
                    killer.cancel()
                    p.returncode = os.waitstatus_to_exitcode(status)
                if p.returncode != 0:
                    with open(err, "rb") as fe:
                        msg = fe.read().decode(errors="replace")[-300:]
                    raise Failure(f"pigz ({cfg}): exit status {p.returncode}: {msg}")
                h = hashlib.sha256()
                with open(out, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
                digests.add(h.hexdigest())
                res[cfg].append(dt)
                cpu[cfg].append(ru.ru_utime + ru.ru_stime)
                if outdir:
                    traces.append(trace_stats(args, outdir))
                if args.verbose:
                    print(f"  rep {rep + 1} pigz {cfg:6s} {dt:.3f} s wall, {cpu[cfg][-1]:.3f} s cpu",
                          file=sys.stderr, flush=True)
            except Failure as e:
                failures.append(str(e))
                print(f"FAILED: {e}", file=sys.stderr)
            finally:
                if outdir and not args.keep:
                    shutil.rmtree(outdir, ignore_errors=True)
    if len(digests) > 1:
        failures.append(f"pigz output differs between native and traced runs: {sorted(digests)}")
    mn, mt = median(res["native"]), median(res["traced"])
    bn, bt = min(res["native"], default=float("nan")), min(res["traced"], default=float("nan"))
    cn, ct = median(cpu["native"]), median(cpu["traced"])
    pairs = [t / n for n, t in zip(res["native"], res["traced"])]
    recs = median([t["records"] for t in traces])
    bpr = median([t["record_bytes"] / t["records"] for t in traces if t.get("records") and "record_bytes" in t])
    row = {
        "argv": argv, "size_mb": args.size, "reps": args.prog_reps,
        "native_s": mn, "traced_s": mt, "ratio": mt / mn if mn else float("nan"),
        "paired_ratio_median": median(pairs),
        "native_best_s": bn, "traced_best_s": bt, "best_ratio": bt / bn if bn else float("nan"),
        "native_cpu_s": cn, "traced_cpu_s": ct, "cpu_ratio": ct / cn if cn else float("nan"),
        "native_all": res["native"], "traced_all": res["traced"],
        "native_cpu_all": cpu["native"], "traced_cpu_all": cpu["traced"],
        "records": recs, "bytes_per_record": bpr,
        "lost": sum(t.get("lost", 0) for t in traces),
        "output_identical": len(digests) == 1,
    }
    print()
    print(f"## program: {' '.join(shlex.quote(a) for a in argv)} > file, "
          f"{args.prog_reps} interleaved repetitions")
    print()
    print("| program | input | wall native (median) | wall traced (median) | ratio | paired ratio (median) "
          "| best native | best traced | ratio of bests | CPU native (median) | CPU traced (median) | CPU ratio "
          "| records | B/record (used) | lost | output identical |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print(f"| pigz -p 2 -c | {args.size} MiB | {mn:.3f} s | {mt:.3f} s | {row['ratio']:.3f}x | "
          f"{row['paired_ratio_median']:.3f}x | {bn:.3f} s | {bt:.3f} s | {row['best_ratio']:.3f}x | "
          f"{cn:.3f} s | {ct:.3f} s | {row['cpu_ratio']:.3f}x | {fmt(recs, 0)} | {fmt(bpr)} | {row['lost']} | "
          f"{'yes' if row['output_identical'] else 'NO'} |")
    if row["lost"]:
        print(f"\nWARNING: pigz: {row['lost']} events lost at default settings (the target is 0)")
    print(f"\nwall, native: {', '.join(f'{x:.3f}' for x in res['native'])} s")
    print(f"wall, traced: {', '.join(f'{x:.3f}' for x in res['traced'])} s")
    print(f"CPU (user+sys), native: {', '.join(f'{x:.3f}' for x in cpu['native'])} s")
    print(f"CPU (user+sys), traced: {', '.join(f'{x:.3f}' for x in cpu['traced'])} s")
    sys.stdout.flush()
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--agent", required=True, help="libweft-agent.so")
    ap.add_argument("--dump", help="weft-dump (records and lost via --stats)")
    ap.add_argument("--lockbench", required=True, help="the lockbench executable")
    ap.add_argument("--trace-size", help="the trace-size executable (bytes used by records)")
    ap.add_argument("--workdir", default=".", help="where the generated pigz input is cached")
    ap.add_argument("--tmpdir", default=None, help="where recordings are written (default: $TMPDIR)")
    ap.add_argument("--quick", action="store_true", help="3 repetitions, smaller N, 20 MiB pigz input")
    ap.add_argument("--reps", type=int, help="repetitions per mode (default 7, quick 3)")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated lockbench modes")
    ap.add_argument("--n", action="append", default=[], metavar="MODE=N", help="override N of a mode")
    ap.add_argument("--no-program", action="store_true", help="skip pigz")
    ap.add_argument("--program-only", action="store_true", help="only pigz")
    ap.add_argument("--size", type=int, help="pigz input in MiB (default 200, quick 20)")
    ap.add_argument("--prog-reps", type=int, help="pigz repetitions (default 5, quick 3)")
    ap.add_argument("--env", action="append", default=[], metavar="WEFT_X=V",
                    help="extra agent setting for the traced runs (default: none, WEFT_OUTPUT only)")
    ap.add_argument("--json", help="also write every measurement to this file")
    ap.add_argument("--keep", action="store_true", help="keep the recordings")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each run on stderr")
    args = ap.parse_args()

    args.reps = args.reps or (3 if args.quick else 7)
    args.size = args.size or (20 if args.quick else 200)
    args.prog_reps = args.prog_reps or (3 if args.quick else 5)
    args.modes = [m for m in args.modes.split(",") if m]
    for m in args.modes:
        if m not in MODES:
            ap.error(f"unknown mode {m}; modes: {', '.join(MODES)}")
    nmap = {}
    for s in args.n:
        m, _, v = s.partition("=")
        if m not in MODES or not v.isdigit():
            ap.error(f"--n {s}: want MODE=N")
        nmap[m] = int(v)
    args.n = nmap
    envmap = {}
    for s in args.env:
        k, eq, v = s.partition("=")
        if not eq or not k.startswith("WEFT_") or k == "WEFT_OUTPUT":
            ap.error(f"--env {s}: want WEFT_NAME=VALUE (not WEFT_OUTPUT)")
        envmap[k] = v
    args.env = envmap
    for p in (args.agent, args.lockbench):
        if not os.path.exists(p):
            ap.error(f"{p}: no such file")
    args.agent = os.path.abspath(args.agent)
    if args.dump and not os.path.exists(args.dump):
        print(f"note: {args.dump} not found; records come from trace-size", file=sys.stderr)
        args.dump = None
    if not args.dump and not args.trace_size:
        ap.error("need --dump or --trace-size to count records")

    settings = " ".join(f"{k}={v}" for k, v in sorted(args.env.items())) or "default settings, WEFT_OUTPUT only"
    mi = print_header("weft agent overhead (tests/bench/run-bench.py)", args.agent, settings)
    print(f"load:    {loadavg()} (1/5/15 min load average at start; the runs share the machine)")
    sys.stdout.flush()

    failures = []
    out = {"machine": mi, "argv": sys.argv, "date": time.time()}
    with tempfile.TemporaryDirectory(prefix="weft-bench-", dir=args.tmpdir) as tmproot:
        print(f"traces:  {tmproot} on {fs_type(tmproot)}")
        sys.stdout.flush()
        t0 = time.monotonic()
        if not args.program_only:
            rows = micro(args, tmproot, failures)
            print_micro(rows, args.reps)
            out["micro"] = rows
        if not args.no_program:
            out["program"] = program(args, tmproot, failures)
        print(f"\n(total {time.monotonic() - t0:.0f} s; load average at the end {loadavg()})")
    return finish(args.json, out, failures)


def print_header(title, agent, settings):
    """The header every benchmark prints: command, date, machine, agent; the machine info."""
    mi = machine_info()
    print(f"# {title}")
    print()
    print(f"command: {' '.join(shlex.quote(a) for a in [sys.executable] + sys.argv)}")
    print(f"date:    {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    print(f"machine: {mi['nproc']} CPUs ({mi['online']} usable), {mi['model']}, kernel {mi['kernel']}, "
          f"clocksource {mi['clocksource']}, {mi['libc']}")
    with open(agent, "rb") as f:
        agent_sha = hashlib.sha256(f.read()).hexdigest()[:16]
    print(f"agent:   {agent} (sha256 {agent_sha}...; {settings})")
    return mi


def finish(json_path, out, failures):
    """Write the JSON (if asked) and list the failed runs; the exit status."""
    if json_path:
        with open(json_path, "w") as f:
            json.dump(out, f, indent=1)
    if failures:
        print(f"\n{len(failures)} FAILED run(s):", file=sys.stderr)
        for f in failures:
            print("  " + f, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
