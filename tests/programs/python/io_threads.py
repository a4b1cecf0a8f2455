# io_threads.py - an I/O-bound concurrent.futures.ThreadPoolExecutor(4): each
# task sends a request over a local socket pair to an echo thread that
# answers after a short sleep, so the workers spend their time blocked in
# recv, with the GIL released, and overlap.
# SPDX-License-Identifier: MIT
#
# Usage: io_threads.py [TASKS]  (default 16; each waits about 20 ms)
# Prints one deterministic line.
import concurrent.futures
import socket
import sys
import threading
import time


def echo(sock):
    while True:
        data = sock.recv(64)
        if not data:
            break
        time.sleep(0.02)  # the "server" takes 20 ms to answer
        sock.sendall(data)
    sock.close()


def fetch(i):
    a, b = socket.socketpair()
    server = threading.Thread(target=echo, args=(b,), name="echo-%d" % i)
    server.start()
    a.sendall(b"%d" % i)
    reply = int(a.recv(64))
    a.close()
    server.join()
    return reply


def main():
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 16
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        total = sum(ex.map(fetch, range(tasks)))
    print("io_threads tasks=%d sum=%d" % (tasks, total))


if __name__ == "__main__":
    main()
