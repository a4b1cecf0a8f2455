/* test-import-mpi.c - the MPI messages' matching in weft import (analyzer/import/mpi.c),
 * on traces built by hand (tests/fuzz/trace-build.h), TAP output.
 * SPDX-License-Identifier: MIT
 *
 * Two ranks of one run, a file each, read in pid order:
 *   100.0.wtrace, rank 0: its MPI_RANK, two receives from rank 1 (each after
 *     the WAIT_END of its MPI_Recv), then two sends to rank 1;
 *   200.0.wtrace, rank 1: a helper thread's chunk first, in file order: two
 *     sends to rank 0 and two receives from rank 0; then the main thread's
 *     chunk with the process's MPI_RANK.
 * So the import reads rank 1's messages before it reads rank 1's rank (a
 * thread of an MPI_THREAD_MULTIPLE program whose chunk comes before the one
 * its process's MPI_Init wrote in). A message's key (sender, receiver) holds
 * the rank of its own process; sorted in runs of three rows
 * (WEFT_IMPORT_WAIT_SPILL), a run that held rank 1's sends and rank 0's
 * was sorted with rank 1 unknown and merged with it known: before the ranks
 * were read in pass 1, 2 of the 4 matched with runs of 3 rows, 1 with runs of
 * 5. Checked: all 4 matched, none unmatched, in memory and in runs of 1, 2, 3
 * and 5 rows; a flow per message, each receive woken by its sender.
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "trace-build.h"
#include "weft-db.h"
#include "weft-import.h"

#define S       1000000000ull /* the clock: 1 tick a ns, from 50 s */
#define START   (50 * S)
#define SESSION 0x3e55000000000042ull
#define TAG     7ull

static char dir[256];

static void write_file(const char *name, const TraceBuild *b) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(b->buf, 1, b->len, f) != b->len || fclose(f) != 0) {
    printf("Bail out! cannot write %s\n", path);
    exit(1);
  }
}

static void header(TraceBuild *b, uint32_t pid) {
  tb_header(b, pid, 0, WEFT_CLOCK_MONOTONIC, START, START, S);
  tb_hdr(b)->session = SESSION;
  tb_hdr(b)->realtime_ns = 1700000000ull * S;
}

static void msg(TraceBuild *b, uint64_t *t, int recv, unsigned call, uint64_t peer, uint64_t seq) {
  tb_rec(b, WEFT_EV_MPI_MSG, WEFT_MPI_MSG_AUX(recv ? WEFT_MPI_MSG_RECV : WEFT_MPI_MSG_SEND, call), *t += 1000, 5, 0ull,
         WEFT_MPI_PAIR(peer, TAG), 64ull, seq);
}

/* A blocking receive from peer: its wait (len ns), then the message it received. */
static void recv_from(TraceBuild *b, uint64_t *t, uint64_t peer, uint64_t seq, uint64_t len) {
  uint64_t obj = WEFT_MPI_OBJ(WEFT_MPI_RECV, 0);
  tb_rec(b, WEFT_EV_WAIT_BEGIN, WEFT_AUX(WEFT_KIND_MPI, 0, 0), *t += 1000, 4, obj, 0ull, 0ull);
  tb_rec(b, WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_MPI, 0, 0), *t += len, 2, obj);
  msg(b, t, 1, WEFT_MPI_RECV, peer, seq);
}

static void rank0(void) {
  TraceBuild b;
  header(&b, 100);
  uint64_t t = START + 1000;
  tb_chunk(&b, 100, 0, t, t, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_THREAD_START, 1, t += 100, 4, 0x7f0000001000ull, 0ull, 0ull);
  tb_rec(&b, WEFT_EV_MPI_RANK, WEFT_MPI_RANK_INIT, t += 100, 3, 0ull, 2ull);
  recv_from(&b, &t, 1, 0, 20000); /* rank 1 sent both at 3 and 4 us */
  recv_from(&b, &t, 1, 1, 20000);
  msg(&b, &t, 0, WEFT_MPI_SEND, 1, 0);
  msg(&b, &t, 0, WEFT_MPI_SEND, 1, 1);
  tb_rec(&b, WEFT_EV_THREAD_EXIT, WEFT_EXIT_AT_PROCESS_EXIT, t += 1000, 2, 0x7f0000001000ull);
  tb_rec(&b, WEFT_EV_EXIT, WEFT_PEXIT_EXIT, t += 100, 2, 0ull);
  write_file("100.0.wtrace", &b);
  free(b.buf);
}

static void rank1(void) {
  TraceBuild b;
  header(&b, 200);
  uint64_t t = START + 2000; /* the helper's chunk first */
  tb_chunk(&b, 201, 0, t, t, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_THREAD_START, 0, t += 100, 4, 0x7f0000002000ull, 0x401000ull, 200ull);
  msg(&b, &t, 0, WEFT_MPI_SEND, 0, 0);
  msg(&b, &t, 0, WEFT_MPI_SEND, 0, 1);
  recv_from(&b, &t, 0, 0, 200000); /* rank 0 sends at about 46 and 47 us */
  recv_from(&b, &t, 0, 1, 200000);
  tb_rec(&b, WEFT_EV_THREAD_EXIT, WEFT_EXIT_RETURN, t += 1000, 2, 0x7f0000002000ull);
  uint64_t m = START + 1500; /* then the main thread's, with the rank */
  tb_chunk(&b, 200, 0, m, m, WEFT_CHUNK_ALIGN);
  tb_rec(&b, WEFT_EV_THREAD_START, 1, m += 100, 4, 0x7f0000003000ull, 0ull, 0ull);
  tb_rec(&b, WEFT_EV_MPI_RANK, WEFT_MPI_RANK_INIT, m += 100, 3, 1ull, 2ull);
  tb_rec(&b, WEFT_EV_THREAD_EXIT, WEFT_EXIT_AT_PROCESS_EXIT, t + 2000, 2, 0x7f0000003000ull);
  tb_rec(&b, WEFT_EV_EXIT, WEFT_PEXIT_EXIT, t + 2100, 2, 0ull);
  write_file("200.0.wtrace", &b);
  free(b.buf);
}

static int64_t one(sqlite3 *h, const char *sql) {
  sqlite3_stmt *q = NULL;
  int64_t v = -1;
  if (sqlite3_prepare_v2(h, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
    v = sqlite3_column_type(q, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return v;
}

/* Import the two files with the sorts' buffers of rows rows (NULL: the
 * default) and check the messages. */
static void check(const char *rows) {
  char db[320], err[1024] = "";
  snprintf(db, sizeof db, "%s/run-%s.db", dir, rows ? rows : "memory");
  if (rows)
    setenv("WEFT_IMPORT_WAIT_SPILL", rows, 1);
  else
    unsetenv("WEFT_IMPORT_WAIT_SPILL");
  WeftImportOptions opt = {.no_symbols = 1};
  WeftImportStats st;
  FILE *null = fopen("/dev/null", "w");
  int rc = weft_import(dir, db, &opt, &st, null, err, sizeof err);
  if (null) fclose(null);
  const char *how = rows ? rows : "in memory";
  if (!ok(rc == 0, "import (%s rows a run)", how)) {
    printf("# %s\n", err);
    return;
  }
  sqlite3 *h = weft_db_open(db, 0, err, sizeof err);
  if (!ok(h != NULL, "the database opens (%s)", how)) return;
  int64_t ranks = one(h, "SELECT count(*) FROM process WHERE mpi_rank IS NOT NULL");
  int64_t matched = one(h, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'mpi_messages'");
  int64_t unmatched = one(h, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'mpi_messages_unmatched'");
  ok(ranks == 2 && matched == 4 && unmatched == 0,
     "%s rows a run: 4 messages matched, none unmatched (%lld ranks, %lld matched, %lld unmatched)", how,
     (long long)ranks, (long long)matched, (long long)unmatched);
  /* each flow from a send to the receive of the other rank, which it woke */
  int64_t flows = one(h, "SELECT count(*) FROM flow f JOIN thread a ON a.utid = f.from_utid JOIN thread b ON "
                         "b.utid = f.to_utid JOIN process pa ON pa.upid = a.upid JOIN process pb ON pb.upid = b.upid "
                         "WHERE f.kind = 11 AND pa.mpi_rank <> pb.mpi_rank AND f.from_ns <= f.to_ns");
  int64_t woken = one(h, "SELECT count(*) FROM thread_state s JOIN flow f ON f.kind = 11 AND f.to_utid = s.utid AND "
                         "f.to_ns = s.start_ns + s.dur_ns WHERE s.state = 12 AND s.waker_utid = f.from_utid");
  ok(flows == 4 && woken == 4,
     "%s rows a run: a flow per message between the ranks, each receive woken by its "
     "sender (%lld flows, %lld woken)",
     how, (long long)flows, (long long)woken);
  sqlite3_close(h);
}

static void cleanup(void) {
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[600];
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.') {
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      unlink(path);
    }
  if (d) closedir(d);
  rmdir(dir);
}

int main(void) {
  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/test-import-mpi-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) {
    printf("Bail out! cannot make a directory under %s\n", tmp && *tmp ? tmp : "/tmp");
    return 1;
  }
  rank0();
  rank1();
  check(NULL);
  check("1");
  check("2");
  check("3");
  check("5");
  cleanup();
  printf("1..%d\n", ntest);
  return nfail != 0;
}
