/* mpibench.c - MPI ping-pong latency and MPI_Allreduce, for bench-mpi.py.
 * SPDX-License-Identifier: MIT
 *
 * mpibench N under mpirun -np 2 (or more): ranks 0 and 1 bounce an 8-byte
 * message N times (MPI_Send, MPI_Recv), then every rank calls MPI_Allreduce
 * on one double N times, after an MPI_Barrier each. With one rank it sends
 * to itself and receives it: the calls' own cost, with no other rank to
 * wait for (what the agent adds to a call, without a partner's scheduling). Rank 0 prints one JSON
 * line: ns per round trip and per allreduce (CLOCK_MONOTONIC around the
 * loops, after 100 warm-up iterations of each).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void pingpong(int rank, int size, long n) {
  double x = 0;
  for (long i = 0; i < n; i++) {
    if (size == 1) {
      MPI_Send(&x, 1, MPI_DOUBLE, 0, 1, MPI_COMM_WORLD);
      MPI_Recv(&x, 1, MPI_DOUBLE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 0) {
      MPI_Send(&x, 1, MPI_DOUBLE, 1, 1, MPI_COMM_WORLD);
      MPI_Recv(&x, 1, MPI_DOUBLE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(&x, 1, MPI_DOUBLE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(&x, 1, MPI_DOUBLE, 0, 1, MPI_COMM_WORLD);
    }
  }
}

static void allreduce(long n) {
  double x = 1, y;
  for (long i = 0; i < n; i++) MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  pingpong(rank, size, 100);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = now_ns();
  pingpong(rank, size, n);
  double t1 = now_ns();
  allreduce(100);
  MPI_Barrier(MPI_COMM_WORLD);
  double t2 = now_ns();
  allreduce(n);
  double t3 = now_ns();
  if (rank == 0)
    printf("{\"n\": %ld, \"pingpong_ns\": %.1f, \"allreduce_ns\": %.1f}\n", n, (t1 - t0) / n, (t3 - t2) / n);
  MPI_Finalize();
  return 0;
}
