# gil_threads.py - CPU-bound pure-Python work on 4 threading.Thread: the GIL
# serialises them, so each thread spends most of its life waiting for it. The
# threads start their work together (a barrier): on a busy machine one could
# otherwise finish before the next began, and none would wait.
# SPDX-License-Identifier: MIT
#
# Usage: gil_threads.py [N]  (N loop iterations per thread; default 300000)
# Prints one deterministic line.
import sys
import threading


def crunch(n, out, i, start):
    start.wait()
    total = 0
    for k in range(n):
        total += (k * k) % 7
    out[i] = total


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300000
    out = [0] * 4
    start = threading.Barrier(4)
    threads = [threading.Thread(target=crunch, args=(n, out, i, start), name="cruncher-%d" % i) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("gil_threads sum=%d" % sum(out))


if __name__ == "__main__":
    main()
