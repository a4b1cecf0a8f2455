# dask_processes.py - a Dask computation on the local process scheduler: four
# pure-Python tasks and two workers allowed, yet one worker runs them all.
# Dask's process scheduler hands ready tasks out in batches of chunksize (6 by
# default), and a ProcessPoolExecutor with spawn starts a worker only when a
# task finds none idle: the one batch goes to the one worker. (With
# chunksize=1 both workers get two tasks each.)
# SPDX-License-Identifier: MIT
#
# Usage: dask_processes.py [N [CHUNKSIZE]]  (loop iterations per task, default 1500000)
# Prints one deterministic line; exits 77 (skip) when dask is missing.
import sys

try:
    import dask
except ImportError:
    sys.stderr.write("dask_processes: no dask\n")
    sys.exit(77)


def crunch(n):
    total = 0
    for k in range(n):
        total += (k * k) % 7
    return total


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1500000
    chunk = int(sys.argv[2]) if len(sys.argv) > 2 else None
    tasks = [dask.delayed(crunch)(n) for _ in range(4)]
    out = dask.compute(*tasks, scheduler="processes", num_workers=2, chunksize=chunk)
    print("dask_processes sum=%d" % sum(out))


if __name__ == "__main__":
    main()
