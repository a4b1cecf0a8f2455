# slow_consumer.py - a producer/consumer pipeline on a bounded queue.Queue
# whose consumer is the bottleneck: the producer makes items at once, the
# consumer spends pure-Python work on each, so the queue stays full and the
# producer spends its life blocked in put() (PUT) waiting for the consumer
# (WORK) to take the next item. The main thread joins both (JOIN).
# SPDX-License-Identifier: MIT
#
# Usage: slow_consumer.py [ITEMS [N]]  (default 150 items of N=20000 loop
# iterations each). Prints one deterministic line.
import queue
import sys
import threading


def work(item, n):
    total = 0
    for k in range(n):
        total += (k * item) % 7
    return total


def produce(q, items):
    for i in range(items):
        q.put(i)  # PUT
    q.put(None)  # PUT


def consume(q, n, out):
    total = 0
    while True:
        item = q.get()
        if item is None:
            break
        total += work(item, n)  # WORK
    out.append(total)


def main():
    items = int(sys.argv[1]) if len(sys.argv) > 1 else 150
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    q = queue.Queue(maxsize=4)
    out = []
    threads = [threading.Thread(target=produce, args=(q, items), name="producer"),
               threading.Thread(target=consume, args=(q, n, out), name="consumer")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()  # JOIN
    print("slow_consumer items=%d sum=%d" % (items, out[0]))


if __name__ == "__main__":
    main()
