# mp_pool.py - a multiprocessing.Pool(2) with the fork start method.
# SPDX-License-Identifier: MIT
#
# Prints one deterministic line. Under the agent the recording must hold the
# parent and both workers (each worker is a fork of the parent that ends with
# os._exit(0) once the pool is closed and joined).
import multiprocessing as mp
import os
import sys


def work(x):
    total = 0
    for i in range(2000):
        total += (x * i) % 7
    return x * x + total


def main():
    ctx = mp.get_context("fork")
    pool = ctx.Pool(2)
    result = pool.map(work, range(200), chunksize=10)
    pids = [p.pid for p in pool._pool]  # the worker processes (no maxtasksperchild: never replaced)
    pool.close()
    pool.join()
    print("pool sum=%d n=%d" % (sum(result), len(result)))
    sys.stderr.write("fx: parent=%d workers=%s\n" % (os.getpid(), ",".join(map(str, sorted(pids)))))


if __name__ == "__main__":
    main()
