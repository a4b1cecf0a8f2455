# unbalanced_pool.py - a multiprocessing.Pool(2) given unequal tasks in big
# chunks: pool.map with chunksize=4 hands each worker 4 tasks at once, and
# the last chunk holds the long tasks, so one worker finishes long after
# the other.
# SPDX-License-Identifier: MIT
#
# Usage: unbalanced_pool.py [METHOD [N]]  (start method, default fork; N
# iterations of a short task, default 40000: the 4 long tasks do 16N each, so
# the straggler is clear even when a busy machine slows the workers' start)
# Prints one deterministic line.
import multiprocessing as mp
import sys


def crunch(n):
    total = 0
    for k in range(n):
        total += (k * k) % 7
    return total


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else "fork"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 40000
    sizes = [n] * 4 + [16 * n] * 4  # chunk 1: short tasks; chunk 2: long ones
    ctx = mp.get_context(method)
    with ctx.Pool(2) as pool:
        out = pool.map(crunch, sizes, chunksize=4)
    print("unbalanced_pool %s sum=%d" % (method, sum(out)))


if __name__ == "__main__":
    main()
