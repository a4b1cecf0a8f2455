#!/usr/bin/env python3
# bench-mpi.py - what the agent adds to MPI calls: mpibench native vs traced, interleaved.
# SPDX-License-Identifier: MIT
"""Run mpibench (ping-pong round trips and MPI_Allreduce) on 1 rank (a send to
itself: the calls' own cost) and on --np ranks (2: a real round trip) native and
under the agent (LD_PRELOAD and WEFT_OUTPUT on mpirun, which its ranks
inherit), alternating, R repetitions each; print the medians and the traced /
native ratios as JSON. Times are mpibench's own, inside rank 0. Exit 0 (a
benchmark reports, it does not gate), 77 without mpirun, 1 if a run fails.

usage: bench-mpi.py --agent LIBWEFT --mpibench EXE [--n N] [--reps R] [--np P]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile


def run(args, traced, tmp):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
    env.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                "OMPI_MCA_btl": "self,vader", "OMPI_MCA_rmaps_base_oversubscribe": "1"})
    env.pop("LD_PRELOAD", None)
    if traced:
        out = tempfile.mkdtemp(prefix="trace-", dir=tmp)
        env["LD_PRELOAD"] = args.agent
        env["WEFT_OUTPUT"] = out
    p = subprocess.run(["mpirun", "-np", str(args.np), args.mpibench, str(args.n)], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    if traced:
        shutil.rmtree(out, ignore_errors=True)
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode("utf-8", "replace"))
        sys.exit(1)
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--mpibench", required=True)
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--np", type=int, default=2)
    args = ap.parse_args()
    if not shutil.which("mpirun"):
        print("bench-mpi: mpirun not found (Debian: openmpi-bin); skipped")
        return 77
    args.agent = os.path.abspath(args.agent)
    tmp = tempfile.mkdtemp(prefix="weft-bench-mpi-")
    out = {"n": args.n, "reps": args.reps}
    nps = sorted({1, args.np})
    res = {(np, t): [] for np in nps for t in (False, True)}
    try:
        for i in range(args.reps):
            for np in nps:
                args_np = argparse.Namespace(**{**vars(args), "np": np})
                for traced in ((False, True) if i % 2 == 0 else (True, False)):
                    res[(np, traced)].append(run(args_np, traced, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for np in nps:
        o = out["np%d" % np] = {}
        for key in ("pingpong_ns", "allreduce_ns"):
            nat = statistics.median(r[key] for r in res[(np, False)])
            trc = statistics.median(r[key] for r in res[(np, True)])
            o[key] = {"native": round(nat, 1), "traced": round(trc, 1), "ratio": round(trc / nat, 3),
                      "added_ns": round(trc - nat, 1)}
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
