# big_args.py - a process pool whose tasks carry big arguments and results: 8 tasks of 8 MB in and
# 8 MB out each, a few ms of work: most of the pool's time goes to pickling and moving the data.
# SPDX-License-Identifier: MIT
#
# Usage: big_args.py [MB [TASKS]]  (default 8 MB, 8 tasks). A ProcessPoolExecutor(2) (fork).
# Prints one deterministic line.
import concurrent.futures as cf
import multiprocessing as mp
import sys


def work(buf):
    n = 0
    for k in range(0, len(buf), 65536):  # a few ms: touch one byte in 64 KiB
        n += buf[k]
    return bytes(len(buf)), n


def main():
    mb = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    tasks = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    data = [bytes([i]) * (mb << 20) for i in range(tasks)]
    with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as ex:
        out = list(ex.map(work, data))
    print("big_args tasks=%d mb=%d sum=%d" % (tasks, mb, sum(n for _, n in out)))


if __name__ == "__main__":
    main()
