# py_names.py - Python objects made at known lines, each waited on once:
# a threading.Lock (LOCK-MADE) the main thread holds while a thread waits for
# it; a threading.Condition (COND-MADE) whose lock the main thread holds while
# a thread waits to enter it, which then waits in cond.wait() (COND-WAIT); a
# queue.Queue (QUEUE-MADE) whose mutex the main thread holds while a consumer
# waits for it, which then waits in q.get() (QUEUE-GET) for the item. The main
# thread lets go only once the waiter is blocked in a futex wait (read from
# /proc), so every wait happens however the machine schedules the threads.
# SPDX-License-Identifier: MIT
#
# Usage: py_names.py
# Prints one deterministic line.
import queue
import threading
import time

lock = threading.Lock()  # LOCK-MADE
cond = threading.Condition()  # COND-MADE
q = queue.Queue()  # QUEUE-MADE


def blocked(t):
    """thread t is blocked in a futex wait (syscall 202 on x86-64)"""
    try:
        with open("/proc/self/task/%d/syscall" % t.native_id) as f:
            return f.read().split(" ", 1)[0] == "202"
    except OSError:
        with open("/proc/self/task/%d/stat" % t.native_id) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "S"


def until_blocked(t, waiters=None):
    """t blocked in a futex wait three checks in a row, 10 ms apart (a thread that only waits for the GIL
    gets it meanwhile: the main thread sleeps), and, for a Condition, registered as its waiter"""
    n = 0
    while n < 3:
        time.sleep(0.01)
        n = n + 1 if blocked(t) and (waiters is None or len(waiters) > 0) else 0


def take_lock():
    with lock:  # LOCK-WAIT
        pass


def wait_cond(out):
    with cond:  # COND-ENTER
        out.append(1)
        cond.wait()  # COND-WAIT


def consume(out):
    out.append(q.get())  # QUEUE-GET


def run(target, args, hold, go, waiters=None):
    """hold the object, start a thread that waits for it, let go once it is blocked, then go()"""
    with hold:
        t = threading.Thread(target=target, args=args)
        t.start()
        until_blocked(t)
    if go:
        until_blocked(t, waiters)
        go()
    t.join()


def main():
    out = []
    run(take_lock, (), lock, None)

    def notify():
        with cond:
            cond.notify()
    # (Condition._waiters, Queue.not_empty._waiters: the waiter registered before it blocks)
    run(wait_cond, (out,), cond, notify, cond._waiters)
    run(consume, (out,), q.mutex, lambda: q.put(7), q.not_empty._waiters)
    print("py_names done", out)


if __name__ == "__main__":
    main()
