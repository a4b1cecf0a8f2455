# thread_pool.py - concurrent.futures.ThreadPoolExecutor(4) whose 4 workers all start.
# SPDX-License-Identifier: MIT
#
# The first 4 tasks meet at a 4-party barrier, so the executor must have
# started all 4 worker threads; then 200 small tasks update a shared counter
# under a threading.Lock. Prints one deterministic line.
import concurrent.futures
import threading

barrier = threading.Barrier(4, timeout=20)
lock = threading.Lock()
counter = 0


def meet(i):
    barrier.wait()
    return i


def add(i):
    global counter
    with lock:
        counter += i
    return i * 2


def main():
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        met = sorted(ex.map(meet, range(4)))
        doubled = sum(ex.map(add, range(200)))
    print("threadpool met=%s doubled=%d counter=%d" % (met, doubled, counter))


if __name__ == "__main__":
    main()
