# proc_pool.py - the CPU-bound work of gil_threads.py on a multiprocessing.Pool:
# no GIL between workers, so none of them waits for one.
# SPDX-License-Identifier: MIT
#
# Usage: proc_pool.py [METHOD [N]]  (start method fork|spawn|forkserver,
# default fork; N loop iterations per task, default 300000). 4 tasks on a
# pool of 2 workers. Prints one deterministic line.
import multiprocessing as mp
import sys


def crunch(n):
    total = 0
    for k in range(n):
        total += (k * k) % 7
    return total


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else "fork"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300000
    ctx = mp.get_context(method)
    with ctx.Pool(2) as pool:
        out = pool.map(crunch, [n] * 4, chunksize=1)
    print("proc_pool %s sum=%d" % (method, sum(out)))


if __name__ == "__main__":
    main()
