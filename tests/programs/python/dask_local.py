# dask_local.py - a distributed LocalCluster made for a short computation:
# two worker processes (spawned by their nannies inside this process, which
# also runs the scheduler) and 8 small pure-Python tasks. Starting the
# workers (an interpreter and distributed's imports each) takes far longer
# than the tasks.
# SPDX-License-Identifier: MIT
#
# Usage: dask_local.py [N]  (loop iterations per task, default 20000)
# Prints one deterministic line; exits 77 (skip) without distributed.
import sys

try:
    from distributed import Client, LocalCluster
except ImportError:
    sys.stderr.write("dask_local: no distributed\n")
    sys.exit(77)


def crunch(n):
    total = 0
    for k in range(n):
        total += (k * k) % 7
    return total


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            out = client.gather(client.map(crunch, [n + k for k in range(8)]))
    print("dask_local sum=%d" % sum(out))


if __name__ == "__main__":
    main()
