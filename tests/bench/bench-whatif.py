#!/usr/bin/env python3
"""bench-whatif.py - how close what-if by replay comes to the change really made (issue 17).

Each case is a pair of programs (tests/programs/fx-whatif.c): the program, which is recorded under
weft and replayed with a `--what-if` change, and the program with that change really made, run
natively. Both native programs run --reps times, interleaved with the recordings (a VM's speed
drifts over minutes); the real effect is the ratio of their median wall times. The program is
recorded --recordings times (3 by default): a prediction
rests on one recording, and two recordings of one program differ (their hand-offs, the machine's
other work), so each case prints the median of the recordings' predictions and their range. The
error is that median / real - 1; the unchanged replay's error ('replay') is the median's too. Prints one row a case and exits 0 unless a run fails (a benchmark reports, it
does not gate); the target of issue 17 is every error within 10 % on a quiet machine.

A program whose lock is busy most but not all of the time can run in either of two regimes: its
threads meeting at the lock every round (a convoy), or keeping out of each other's way (`lock 2 R 20
24` natively 130-150 ms, and once in a while, natively or under weft, 92 ms, as free as the lock
allows). A prediction is a fraction of the run it was made from; measured against natives in the
other regime it is off by the regimes' difference, not the model's error. A recording more than
REGIME (25 %) shorter or longer than the natives' median ran in the other regime: it is recorded again
(at most --recordings times a case, with a native pair run beside each), and the column 'regime'
counts the recordings set aside.

  python3 tests/bench/bench-whatif.py --weft build/analyzer/weft --fx build/tests/programs/fx-whatif [--runs 5]

With --runs K the suite runs K times and ends with each case's errors over the runs and how many runs
met the target: one run says little on a VM whose speed and hand-off latency move from minute to
minute.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REGIME = 0.25  # a recording this much shorter or longer than the natives' median ran in the other regime


def cases(rounds):
    r = str(rounds)
    return [
        # (name, recorded program, what-if, the program with the change made, taskset CPUs of the changed one)
        ("lock removed (sharded)", ["lock", "2", r, "20", "20"], "lock:hot", ["sharded", "2", r, "20", "20"], None),
        ("critical section halved", ["lock", "2", r, "20", "20"], "lock:hot=-50%", ["lock", "2", r, "10", "20"],
         None),
        # the same with a little more work outside the lock: a third of the acquisitions find it free
        ("halved, less contended", ["lock", "2", r, "20", "24"], "lock:hot=-50%", ["lock", "2", r, "10", "24"],
         None),
        ("one thread's work halved", ["lock", "2", r, "20", "20"], "thread:worker-0=-50%",
         ["t0fast", "2", r, "20", "20"], None),
        ("a straggler's work halved", ["imbalance", "2", r, "10", "10"], "thread:worker-1=-50%",
         ["sharded", "2", r, "10", "10"], None),
        ("one CPU instead of two", ["sharded", "2", r, "10", "10"], "cpus=1", ["sharded", "2", r, "10", "10"], "0"),
        # a rwlock: worker-0 writes, worker-1 reads (they exclude each other)
        ("rwlock removed (sharded)", ["rwlock", "2", r, "20", "20"], "lock:hotrw", ["sharded", "2", r, "20", "20"],
         None),
        ("rwlock's sections halved", ["rwlock", "2", r, "20", "20"], "lock:hotrw=-50%",
         ["rwlock", "2", r, "10", "20"], None),
    ]


def wall(argv, cpus=None):
    if cpus is not None:
        argv = ["taskset", "-c", cpus] + argv
    t0 = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def run_case(a, work, name, prog, spec, changed, cpus):
    """One case: its recordings and natives, interleaved; returns its row and its error."""
    recs, base, chg = [], [], []  # recs: (recorded length in s, prediction, the unchanged replay's error)

    def record(k):
        db = os.path.join(work, "%s-%d.db" % (prog[0], k))
        if os.path.exists(db):
            os.unlink(db)
        subprocess.run([a.weft, "record", "-q", "-o", db, "--", a.fx] + prog, check=True, stdout=subprocess.DEVNULL)
        rep = subprocess.run([a.weft, "report", db, "--format", "json", "--what-if", spec], check=True,
                             stdout=subprocess.PIPE, text=True)
        rp = json.loads(rep.stdout)["replay"]
        return (rp["recorded_ns"] / 1e9, rp["what_if"][0]["predicted_fraction"], rp["error"])

    def natives():
        base.append(wall([a.fx] + prog))
        chg.append(wall([a.fx] + changed, cpus))

    # recordings and native runs alternate: the machine's speed drifts over minutes (a VM's
    # hand-off latency most of all), and a prediction is compared with natives run alongside it
    for k in range(max(a.recordings, a.reps)):
        if k < a.recordings:
            recs.append(record(k))
        if k < a.reps:
            natives()
    aside = 0
    for k in range(len(recs)):  # a recording in the other regime than the natives': again
        while abs(recs[k][0] / statistics.median(base) - 1) > REGIME and aside < a.recordings:
            aside += 1
            recs[k] = record(k)
            natives()
    preds = [x[1] for x in recs]
    pred = statistics.median(preds)
    real = statistics.median(chg) / statistics.median(base)
    err = pred / real - 1
    row = ("%-26s %-22s %8.1fms %8.1fms %7.3f %9.3f %15s %+7.1f%% %+7.1f%% %6d"
           % (name, spec, 1e3 * statistics.median(base), 1e3 * statistics.median(chg), real, pred,
              "%.3f-%.3f" % (min(preds), max(preds)), 100 * err, 100 * statistics.median(x[2] for x in recs), aside))
    return row, err


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weft", required=True)
    ap.add_argument("--fx", required=True, help="the fx-whatif fixture")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=4000)
    ap.add_argument("--recordings", type=int, default=3, help="recordings of each program (default 3)")
    ap.add_argument("--runs", type=int, default=1,
                    help="the whole suite this many times, then each case's errors over the runs (default 1)")
    ap.add_argument("--workdir", default=None)
    a = ap.parse_args()
    if a.runs < 1 or a.reps < 1 or a.recordings < 1:
        ap.error("--runs, --reps and --recordings take 1 or more")
    work = a.workdir or tempfile.mkdtemp(prefix="bench-whatif-")
    os.makedirs(work, exist_ok=True)
    errs = {}  # case -> its error in each run
    worsts = []
    for run in range(a.runs):
        print("%swhat-if by replay against the change made, %d repetitions, %d rounds, %d recordings a case, %d CPUs"
              % ("run %d of %d: " % (run + 1, a.runs) if a.runs > 1 else "", a.reps, a.rounds, a.recordings,
                 os.cpu_count()))
        print("%-26s %-22s %10s %10s %7s %9s %15s %8s %8s %6s" % ("case", "what-if", "native", "changed", "real",
                                                                  "predicted", "recordings", "error", "replay",
                                                                  "regime"))
        worst = 0.0
        for name, prog, spec, changed, cpus in cases(a.rounds):
            row, err = run_case(a, work, name, prog, spec, changed, cpus)
            print(row, flush=True)
            errs.setdefault(name, []).append(err)
            worst = max(worst, abs(err))
        worsts.append(worst)
        print("worst error %.1f %% (target: within 10 %%); 'replay' is the unchanged replay's own error"
              % (100 * worst))
    if a.runs > 1:
        # a run's worst is what the target is about; over runs, how often each case met it
        print("\nover %d runs: each case's errors, their median, and the runs within 10 %%" % a.runs)
        for name, e in errs.items():
            print("%-26s %s  median %+6.1f%%  within 10 %%: %d of %d"
                  % (name, " ".join("%+6.1f%%" % (100 * x) for x in e), 100 * statistics.median(e),
                     sum(abs(x) <= 0.10 for x in e), len(e)))
        print("runs with every case within 10 %%: %d of %d (worst errors %s)"
              % (sum(w <= 0.10 for w in worsts), len(worsts), ", ".join("%.1f %%" % (100 * w) for w in worsts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
