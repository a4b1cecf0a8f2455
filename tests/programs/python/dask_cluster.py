# dask_cluster.py - the client of a Dask distributed cluster started as
# separate commands (a scheduler and workers, as on a cluster): 8 CPU-bound
# pure-Python tasks, then one task that sums their results, which gathers
# the inputs it lacks from the other worker (a transfer between workers).
# SPDX-License-Identifier: MIT
#
# Usage: dask_cluster.py SCHEDULER_FILE [N]  (loop iterations per task, default 300000)
# Waits up to 60 s for the scheduler and 2 workers, prints one line, shuts
# the cluster down. Exits 77 (skip) without distributed.
import sys

try:
    from dask.distributed import Client
except ImportError:
    sys.stderr.write("dask_cluster: no dask.distributed\n")
    sys.exit(77)


def crunch(n):
    total = 0
    for k in range(n):
        total += (k * k) % 7
    return total


def join(parts):
    return sum(parts)


def main():
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300000
    client = Client(scheduler_file=sys.argv[1], timeout=60)
    client.wait_for_workers(2, timeout=60)
    parts = [client.submit(crunch, n + i, pure=False) for i in range(8)]
    total = client.submit(join, parts).result()
    print("dask_cluster total=%d" % total)
    client.shutdown()


if __name__ == "__main__":
    main()
