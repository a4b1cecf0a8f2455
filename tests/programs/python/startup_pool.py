# startup_pool.py - a pool whose spawned workers spend most of their time starting up:
# the main module does 0.3 s of CPU work at import (as a heavy import would), which
# every spawned worker repeats, before 4 tasks of a few ms each.
# SPDX-License-Identifier: MIT
#
# Usage: startup_pool.py [METHOD [SETUP_MS]]  (start method spawn|forkserver|fork, default spawn;
# SETUP_MS the module-level work, default 300). With fork the workers inherit the parent's
# imports and start at once. Prints one deterministic line.
import multiprocessing as mp
import sys
import time


def spin(ms):
    end = time.process_time() + ms / 1000.0
    n = 0
    while time.process_time() < end:
        n += 1
    return n


# module-level setup, as "import heavy_library" would do: run again by every spawned worker,
# which imports the main module as __mp_main__
SETUP_MS = int(sys.argv[2]) if len(sys.argv) > 2 and __name__ == "__main__" else 300
if __name__ == "__mp_main__":
    spin(SETUP_MS)


def task(k):
    spin(5)
    return k * k


def main():
    method = sys.argv[1] if len(sys.argv) > 1 else "spawn"
    ctx = mp.get_context(method)
    with ctx.Pool(2) as pool:
        out = pool.map(task, range(4), chunksize=1)
    print("startup_pool %s sum=%d" % (method, sum(out)))


if __name__ == "__main__":
    main()
