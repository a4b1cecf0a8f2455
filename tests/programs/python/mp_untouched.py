# mp_untouched.py - a multiprocessing.Lock() the parent makes at module level
# and never takes; only its 2 children do (each ROUNDS times). With fork the
# children's lock is the parent's memory; with spawn and forkserver they open
# it by its name. Either way it is one object, made at the marked line.
# SPDX-License-Identifier: MIT
#
# Usage: mp_untouched.py [METHOD [ROUNDS]]  (start method, default fork;
# ROUNDS default 5). Prints one deterministic line.
import multiprocessing as mp
import sys


def work(lock, rounds):
    for _ in range(rounds):
        with lock:
            pass


if __name__ == "__main__":
    method = sys.argv[1] if len(sys.argv) > 1 else "fork"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    ctx = mp.get_context(method)
    lock = ctx.Lock()  # LOCK-MADE
    procs = [ctx.Process(target=work, args=(lock, rounds)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print("mp_untouched %s procs=2 rounds=%d codes=%s" % (method, rounds, [p.exitcode for p in procs]))
