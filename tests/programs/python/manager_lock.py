# manager_lock.py - 4 processes share one Manager().Lock() and hold it around
# all of their work: the lock lives in the manager's process, where a server
# thread per client takes a threading.Lock for it, and the clients wait in
# socket reads for the answer.
# SPDX-License-Identifier: MIT
#
# Usage: manager_lock.py [ROUNDS [N]]  (each process takes the lock ROUNDS
# times, default 20, and runs N iterations of a loop inside it, default 20000)
# The parent takes the lock first and lets go only once the manager's main
# thread and the server threads of all 4 children are blocked in a futex
# wait (read from /proc), so each child's first acquisition waits in the
# manager, however the machine schedules them.
# Prints one deterministic line.
import multiprocessing as mp
import os
import sys
import time

from mp_lock import work  # the same work under the lock (mp_lock.py's LOCK-WAIT line)


def futex_waiters(pid):
    """The threads of pid blocked in a futex wait (syscall 202 on x86-64)."""
    n = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/syscall" % (pid, tid)) as f:
                n += f.read().split(" ", 1)[0] == "202"
        except OSError:
            pass
    return n


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    with mp.Manager() as manager:
        lock = manager.Lock()  # LOCK-MADE
        lock.acquire()
        procs = [mp.Process(target=work, args=(lock, rounds, n)) for _ in range(4)]
        for p in procs:
            p.start()
        while futex_waiters(manager._process.pid) < 5:  # its main thread and 4 server threads
            time.sleep(0.005)
        lock.release()
        for p in procs:
            p.join()
    print("manager_lock procs=4 rounds=%d codes=%s" % (rounds, [p.exitcode for p in procs]))


if __name__ == "__main__":
    main()
