# tcp_pingpong.py - a TCP client and server in lockstep: N requests of 8
# bytes, each answered with 8 bytes before the next, so every receive gets
# exactly one message: 2 x N transfers, N each way.
# SPDX-License-Identifier: MIT
#
# Usage: tcp_pingpong.py server ADDR PORT N | client ADDR PORT N
# The server accepts one connection (waiting up to 60 s); the client retries
# its connect for up to 60 s (the server may start after it). Prints one line.
import socket
import sys
import time


def main():
    role, addr, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if role == "server":
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(1)
        s.settimeout(60)
        c, _ = s.accept()
        c.settimeout(60)
        for i in range(n):
            got = b""
            while len(got) < 8:
                got += c.recv(8 - len(got))
            c.sendall(b"pong%04d" % (i % 10000))
        c.close()
        print("server answered", n)
        return
    deadline = time.monotonic() + 60
    while True:
        try:
            c = socket.create_connection((addr, port), timeout=60)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    for i in range(n):
        c.sendall(b"ping%04d" % (i % 10000))
        got = b""
        while len(got) < 8:
            got += c.recv(8 - len(got))
    c.close()
    print("client got", n)


if __name__ == "__main__":
    main()
