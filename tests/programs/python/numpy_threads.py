# numpy_threads.py - NumPy matrix products on 2 threading.Thread: NumPy
# releases the GIL inside the product, so the threads run at once and
# threading is the right choice. BLAS runs on the calling thread only
# (its own threads would hide the program's).
# SPDX-License-Identifier: MIT
#
# Usage: numpy_threads.py [ROUNDS]  (products per thread, default 40)
# Prints one deterministic line; exits 77 (skip) when numpy is missing.
import os
import sys
import threading

for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "1"
try:
    import numpy as np
except ImportError:
    sys.stderr.write("numpy_threads: no numpy\n")
    sys.exit(77)


def work(rounds, out, i):
    a = np.ones((300, 300))
    for _ in range(rounds):
        a = (a @ a) / 300.0
    out[i] = float(a[0, 0])


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    out = [0.0, 0.0]
    threads = [threading.Thread(target=work, args=(rounds, out, i), name="matmul-%d" % i) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("numpy_threads sum=%.1f" % sum(out))


if __name__ == "__main__":
    main()
