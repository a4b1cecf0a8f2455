# joblib_pool.py - joblib.Parallel(n_jobs=2) (the loky backend: worker
# processes started by fork+exec) over CPU-bound tasks.
# SPDX-License-Identifier: MIT
#
# Usage: joblib_pool.py [N [BACKEND]]  (loop iterations per task, default
# 150000; joblib's backend, default loky: "threading" runs the tasks on
# threads, which the GIL serialises)
# Prints one deterministic line; exits 77 (skip) when joblib is missing.
import sys

try:
    from joblib import Parallel, delayed
except ImportError:
    sys.stderr.write("joblib_pool: no joblib\n")
    sys.exit(77)


def crunch(n):
    total = 0
    for k in range(n):
        total += (k * k) % 7
    return total


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 150000
    backend = sys.argv[2] if len(sys.argv) > 2 else "loky"
    out = Parallel(n_jobs=2, backend=backend)(delayed(crunch)(n) for _ in range(6))
    print("joblib_pool sum=%d" % sum(out))


if __name__ == "__main__":
    main()
