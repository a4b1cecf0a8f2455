# mp_lock.py - 4 processes share one multiprocessing.Lock and hold it around
# all of their work, so they run one at a time: one object in every process,
# hot, whose waits come from all 4.
# SPDX-License-Identifier: MIT
#
# Usage: mp_lock.py [METHOD [ROUNDS [N [subclass]]]]  (start method, default
# fork; each process takes the lock ROUNDS times, default 30, and runs N
# iterations of a loop inside it, default 20000; with "subclass" the children
# are instances of a Process subclass with its own run, Worker-1..4, rather
# than Process(target=work))
# The parent takes the lock first and lets go only once all 4 children are
# blocked on it (their main thread in a futex wait, read from /proc), so each
# child's first acquisition waits, however the machine schedules them: the
# lock is acquired 4 * ROUNDS + 1 times, and each child waits at least once.
# Prints one deterministic line.
import multiprocessing as mp
import os
import sys
import time


def crunch(n):
    total = 0
    for k in range(n):
        total += (k * k) % 7
    return total


def work(lock, rounds, n):
    for _ in range(rounds):
        with lock:  # LOCK-WAIT
            crunch(n)


class Worker(mp.Process):
    def __init__(self, lock, rounds, n):
        super().__init__()
        self.job = (lock, rounds, n)

    def run(self):
        work(*self.job)


def blocked(pid):
    """The process is blocked in a futex wait (syscall 202 on x86-64)."""
    try:
        with open("/proc/%d/syscall" % pid) as f:
            return f.read().split(" ", 1)[0] == "202"
    except OSError:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "S"


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else "fork"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    subclass = len(sys.argv) > 4 and sys.argv[4] == "subclass"
    if subclass:  # (Worker is the default context's Process: its start method is the default's)
        mp.set_start_method(method)
    ctx = mp if subclass else mp.get_context(method)
    lock = ctx.Lock()  # LOCK-MADE
    lock.acquire()
    if subclass:
        procs = [Worker(lock, rounds, n) for _ in range(4)]
    else:
        procs = [ctx.Process(target=work, args=(lock, rounds, n)) for _ in range(4)]
    for p in procs:
        p.start()
    while not all(blocked(p.pid) for p in procs):
        time.sleep(0.005)
    lock.release()
    for p in procs:
        p.join()
    print("mp_lock %s procs=4 rounds=%d codes=%s" % (method, rounds, [p.exitcode for p in procs]))


if __name__ == "__main__":
    main()
