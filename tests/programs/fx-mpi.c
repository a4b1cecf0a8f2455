/* fx-mpi.c - an MPI program with a known imbalance and a known number of messages.
 * SPDX-License-Identifier: MIT
 *
 * fx-mpi [ROUNDS [UNIT_MS]] under `mpirun -np N`: each round, rank r works
 * (r + 1) units of UNIT_MS of its own CPU time (so rank N - 1 is the slow one
 * and the others wait for it), then passes one message around the ring
 * (MPI_Irecv from the left, MPI_Isend to the right, tag 7, 8 bytes, one
 * MPI_Waitall), then joins one MPI_Allreduce. After the rounds rank 0 sends
 * one MPI_Send (tag 9, 4 bytes) to every other rank, which MPI_Recv it, and
 * all meet in one MPI_Barrier.
 *
 * So each rank calls MPI_Init 1, MPI_Waitall ROUNDS, MPI_Allreduce ROUNDS,
 * MPI_Barrier 1, MPI_Finalize 1; rank 0 MPI_Send N - 1, the others MPI_Recv
 * 1; and the run has N * ROUNDS + N - 1 messages. Each rank prints one line
 * on stdout: its rank, the world size and the values it received (the same
 * with and without the agent).
 */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ms of this thread's CPU time: on a busy machine it takes longer, but it is
 * the same work. */
static volatile uint64_t sink;
static void work(double ms) {
  double end = cpu_ms() + ms;
  uint64_t x = 1;
  while (cpu_ms() < end)
    for (int i = 0; i < 10000; i++) x = x * 6364136223846793005ull + 1442695040888963407ull;
  sink = x;
}

static void check(int rc, const char *what) {
  if (rc != MPI_SUCCESS) {
    fprintf(stderr, "fx: error: %s failed (%d)\n", what, rc);
    exit(99);
  }
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 4;
  double unit = argc > 2 ? strtod(argv[2], NULL) : 20.0;
  check(MPI_Init(&argc, &argv), "MPI_Init");
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int left = (rank + size - 1) % size, right = (rank + 1) % size;
  long got = 0, total = 0;
  for (long i = 0; i < rounds; i++) {
    work(unit * (rank + 1));
    long out = rank * 100 + i, in = -1;
    MPI_Request rq[2];
    check(MPI_Irecv(&in, 1, MPI_LONG, left, 7, MPI_COMM_WORLD, &rq[0]), "MPI_Irecv");
    check(MPI_Isend(&out, 1, MPI_LONG, right, 7, MPI_COMM_WORLD, &rq[1]), "MPI_Isend");
    check(MPI_Waitall(2, rq, MPI_STATUSES_IGNORE), "MPI_Waitall");
    got += in;
    long sum = 0;
    check(MPI_Allreduce(&in, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD), "MPI_Allreduce");
    total += sum;
  }
  int token = 0;
  if (rank == 0) {
    for (int r = 1; r < size; r++) {
      token = 1000 + r;
      check(MPI_Send(&token, 1, MPI_INT, r, 9, MPI_COMM_WORLD), "MPI_Send");
    }
  } else {
    MPI_Status st;
    check(MPI_Recv(&token, 1, MPI_INT, 0, 9, MPI_COMM_WORLD, &st), "MPI_Recv");
    if (st.MPI_SOURCE != 0 || st.MPI_TAG != 9) {
      fprintf(stderr, "fx: error: status source %d tag %d\n", st.MPI_SOURCE, st.MPI_TAG);
      return 99;
    }
  }
  check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
  printf("rank %d of %d: received %ld, sums %ld, token %d\n", rank, size, got, total, token);
  fflush(stdout);
  check(MPI_Finalize(), "MPI_Finalize");
  return 0;
}
