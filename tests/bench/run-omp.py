#!/usr/bin/env python3
"""run-omp.py - what the agent adds to an OpenMP program, native against traced, interleaved.

Runs ompbench (tests/bench/ompbench.c, gcc -fopenmp) in each mode natively and under the agent
(LD_PRELOAD, WEFT_OUTPUT a fresh directory, default settings), alternating, --reps times, and
prints the median ns per operation of each and their ratio. Exit status 0 (a benchmark reports,
it does not gate), 1 if a run fails, 2 on a usage error.

  python3 tests/bench/run-omp.py --agent build/agent/libweft-agent.so --ompbench build/tests/bench/ompbench
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

MODES = {"regions": 20000, "critical": 2000000, "critical2": 2000000}


def run(argv, env):
    p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    if p.returncode != 0:
        sys.exit("run-omp: %s failed: %s" % (" ".join(argv), p.stderr.decode(errors="replace")))
    kv = dict(x.split("=", 1) for x in p.stdout.decode().split() if "=" in x)
    return float(kv["ns_per_op"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agent", required=True)
    ap.add_argument("--ompbench", required=True)
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_") and k != "LD_PRELOAD"}
    print("| mode | N | native ns/op | traced ns/op | ratio |")
    print("|---|---:|---:|---:|---:|")
    for mode, n in MODES.items():
        nat, tr = [], []
        for _ in range(a.reps):
            nat.append(run([a.ompbench, mode, str(n)], base))
            out = tempfile.mkdtemp(prefix="weft-omp-")
            try:
                tr.append(run([a.ompbench, mode, str(n)],
                              dict(base, LD_PRELOAD=os.path.abspath(a.agent), WEFT_OUTPUT=out)))
            finally:
                shutil.rmtree(out, ignore_errors=True)
        mn, mt = statistics.median(nat), statistics.median(tr)
        print("| %s | %d | %.1f | %.1f | %.2fx |" % (mode, n, mn, mt, mt / mn))
    return 0


if __name__ == "__main__":
    sys.exit(main())
