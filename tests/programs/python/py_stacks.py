# py_stacks.py - waits at known lines, for the Python stacks of waits: two
# threads contend on one threading.Lock (made at the line marked LOCK-MADE)
# held in hold(), the waiter blocking in take() (LOCK-WAIT); a thread sleeps
# in nap() (SLEEP); the main thread joins (JOIN); two threads run pure Python
# on the GIL in spin() (GIL: the loop's lines). Each wait's stack must name
# the function and the file:line marked. Recursion in dive() puts 20 frames
# above the lock wait of the deep case (DEEP, then DIVE).
# SPDX-License-Identifier: MIT
#
# Usage: py_stacks.py lock|sleep|gil|deep
# Prints one deterministic line.
import sys
import threading
import time

lock = threading.Lock()  # LOCK-MADE
held = threading.Event()


def hold():
    with lock:
        held.set()
        time.sleep(0.2)


def take():
    held.wait()
    with lock:  # LOCK-WAIT
        pass


def nap():
    time.sleep(0.05)  # SLEEP


def spin(n, start):
    start.wait()  # both at once: each waits for the GIL while the other runs
    total = 0
    for k in range(n):  # GIL
        total += k % 7  # GIL
    return total


def dive(depth):
    if depth == 0:
        return take()  # DEEP
    return dive(depth - 1)  # DIVE


def run(targets):
    threads = [threading.Thread(target=f, args=a, name="t%d" % i) for i, (f, a) in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()  # JOIN


def main():
    case = sys.argv[1] if len(sys.argv) > 1 else "lock"
    if case == "lock":
        run([(hold, ()), (take, ())])
    elif case == "sleep":
        run([(nap, ())])
    elif case == "gil":
        start = threading.Barrier(2)
        run([(spin, (1000000, start)), (spin, (1000000, start))])
    elif case == "deep":
        run([(hold, ()), (dive, (20,))])
    print("py_stacks %s done" % case)


if __name__ == "__main__":
    main()
