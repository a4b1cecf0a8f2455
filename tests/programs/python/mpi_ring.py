# mpi_ring.py - the mpi4py twin of fx-mpi.c: a known imbalance and a known
# number of messages, under `mpirun -np N python3 mpi_ring.py [ROUNDS [UNIT_MS]]`.
# SPDX-License-Identifier: MIT
#
# Each round rank r works (r + 1) units of UNIT_MS (default 20) of its own
# CPU time, passes one 8-byte message around the ring (Irecv from the left,
# Isend to the right, tag 7, one Request.Waitall), then joins one Allreduce.
# After the rounds rank 0 sends every other rank one pickled object
# (comm.send: MPI_Send, tag 9), which each receives with comm.recv (mpi4py:
# MPI_Mprobe then MPI_Mrecv), and all meet in one Barrier.
#
# So each rank calls MPI_Init_thread 1 (at import), MPI_Waitall ROUNDS,
# MPI_Allreduce ROUNDS, MPI_Barrier 1, MPI_Finalize 1 (at exit); rank 0
# MPI_Send N - 1, the others MPI_Mprobe 1 and MPI_Mrecv 1; N * ROUNDS + N - 1
# messages. Each rank prints one deterministic line.
import sys
import time

import numpy as np
from mpi4py import MPI


def work(ms):
    end = time.thread_time() + ms / 1000.0
    x = 1
    while time.thread_time() < end:
        for _ in range(2000):
            x = (x * 6364136223846793005 + 1442695040888963407) % (1 << 64)
    return x


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    unit = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    left, right = (rank + size - 1) % size, (rank + 1) % size
    got = total = 0
    for i in range(rounds):
        work(unit * (rank + 1))
        out = np.array([rank * 100 + i], dtype=np.int64)
        inb = np.zeros(1, dtype=np.int64)
        reqs = [comm.Irecv(inb, source=left, tag=7), comm.Isend(out, dest=right, tag=7)]
        MPI.Request.Waitall(reqs)
        got += int(inb[0])
        s = np.zeros(1, dtype=np.int64)
        comm.Allreduce(inb, s, op=MPI.SUM)
        total += int(s[0])
    if rank == 0:
        for r in range(1, size):
            comm.send({"token": 1000 + r}, dest=r, tag=9)
        token = 1000 + size - 1
    else:
        token = comm.recv(source=0, tag=9)["token"]
    comm.Barrier()
    print("rank %d of %d: received %d, sums %d, token %d" % (rank, size, got, total, token))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
