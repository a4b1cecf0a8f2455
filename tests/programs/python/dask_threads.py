# dask_threads.py - a Dask computation on the local threaded scheduler (the
# default of dask.delayed): pure-Python tasks on Dask's worker threads, which
# the GIL serialises.
# SPDX-License-Identifier: MIT
#
# Usage: dask_threads.py [N]  (loop iterations per task, default 1500000)
# Prints one deterministic line; exits 77 (skip) when dask is missing.
import sys

try:
    import dask
except ImportError:
    sys.stderr.write("dask_threads: no dask\n")
    sys.exit(77)


def crunch(n):
    total = 0
    for k in range(n):
        total += (k * k) % 7
    return total


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1500000
    tasks = [dask.delayed(crunch)(n) for _ in range(4)]
    out = dask.compute(*tasks, scheduler="threads", num_workers=2)
    print("dask_threads sum=%d" % sum(out))


if __name__ == "__main__":
    main()
