/* weft-trace.h - the on-disk trace format shared by the agent and the analyzer.
 * SPDX-License-Identifier: MIT
 *
 * C11 + POSIX only: no GLib, no SQLite. See docs/trace-format.md for the
 * OFFSET/SIZE tables; this header is the normative definition.
 *
 * A recording is a directory. Every process image (a process, and again after
 * each successful exec) writes one file  PID.N.wtrace  where N = 0, 1, ... is
 * the first number not yet taken for that pid; a fork child that does not
 * exec (version 7) writes a section into the file it inherited instead. The
 * file is:
 *
 *   [ file header, WEFT_FILE_HEADER_SIZE bytes (one page) ]
 *   [ chunk ][ chunk ] ...        each chunk page-aligned, owned by one thread
 *
 * With WEFT_FEAT_SHARED_FILE a chunk is also a PROCESS chunk (one page: the
 * header of a fork child's section) or a CHILD chunk (a chunk of a thread of
 * such a child: a 40-byte header naming its process).
 *
 * A chunk is a 32-byte chunk header followed by records. A record is 1..255
 * 8-byte words; word 0 carries type, length, aux and the tick delta. A word 0
 * equal to zero ends the chunk (the writer publishes word 0 last, so a record
 * cut off by a crash reads as zero). Chunk headers with magic 0 are pages that
 * were reserved but never written and are skipped page by page.
 */
#ifndef WEFT_TRACE_H
#define WEFT_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define WEFT_TRACE_MAGIC       "WEFTTRC" /* 8 bytes with the NUL */
/* WEFT_TRACE_VERSION is the one written: 2 added PIPE_WRITE; 3 contention-first (COUNTS, REL with the
 * hold's length, hold_sample); 4 Python frames (PY_FRAME, and STACK words that name them); 5 SHARED (the
 * identity of a process-shared object); 6 MPI (kind mpi, MPI_MSG, MPI_COLL, MPI_RANK) and the bytes of a
 * PIPE_WRITE; 7 fork children's sections in their parent's file (WEFT_FEAT_SHARED_FILE, PROCESS and CHILD
 * chunks, the header's alloc_end and grow_lock); 8 futex waits (kind futex: WAIT_BEGIN/WAIT_END and SIGNAL of a
 * word a program waits on through syscall(SYS_futex), WEFT_FEAT_FUTEX). */
#define WEFT_TRACE_VERSION     8u
#define WEFT_TRACE_MIN_VERSION 1u /* the oldest one readers still read */
#define WEFT_ENDIAN_MARK       0x01020304u
#define WEFT_FILE_HEADER_SIZE  4096u
#define WEFT_CHUNK_ALIGN       4096u
#define WEFT_CHUNK_MAGIC       0x4b484357u /* "WCHK" little-endian */
#define WEFT_PROC_MAGIC        0x43525057u /* "WPRC" little-endian: a PROCESS chunk (version 7) */
#define WEFT_CHILD_CHUNK_MAGIC 0x50484357u /* "WCHP" little-endian: a CHILD chunk (version 7) */
#define WEFT_PROC_CHUNK_SIZE   4096u       /* a PROCESS chunk: exactly one page */
#define WEFT_CHUNK_MAX         (64u << 20) /* reader sanity bound */
#define WEFT_RECORD_MAX_WORDS  255u
#define WEFT_STACK_MAX_DEPTH   128u /* reader bound: the agent writes 64 C frames, and 64 Python ones before them */
/* Bounds readers check (see docs/trace-format.md, "What readers validate"):
 * a value past one of them is corruption, not data. */
#define WEFT_LOST_MAX          (1ull << 48) /* records lost: years at 10^6 records/s */
#define WEFT_SPAN_MAX_NS                                       \
  (7ull * 86400 * 1000000000ull) /* a record, chunk or process \
                   start this far from its file's start */
#define WEFT_PID_MAX    4194304u /* Linux PID_MAX_LIMIT: pids and tids */
#define WEFT_ERRNO_MAX  4095u    /* the kernel's MAX_ERRNO: result fields */
#define WEFT_NCPUS_MAX  65536u
#define WEFT_TSC_HZ_MIN 1000000ull      /* a tick rate hint below 1 MHz ... */
#define WEFT_TSC_HZ_MAX 100000000000ull /* ... or above 100 GHz is no clock */
#define WEFT_FEAT_KNOWN ((1ull << 11) - 1)

/* File header clock field */
enum { WEFT_CLOCK_TSC = 1, WEFT_CLOCK_MONOTONIC = 2 };

/* File header feature bits */
#define WEFT_FEAT_STACKS_CONTENDED  (1ull << 0)
#define WEFT_FEAT_STACKS_ALL        (1ull << 1)
#define WEFT_FEAT_IO_WAITS          (1ull << 2)
#define WEFT_FEAT_SCHEDSTAT         (1ull << 3)
/* Version 3: an acquisition that did not wait writes no record; COUNTS records
 * carry the exact counts, and a REL is written only for a hold that someone
 * waited for (or that began with a recorded wait), or for every hold with: */
#define WEFT_FEAT_COUNTERS          (1ull << 4)
#define WEFT_FEAT_HOLDS_ALL         (1ull << 5) /* every hold timestamped: one REL per release */
/* A main thread's baseline SCHED reading (taken where an image starts: its
 * counters run from its process's fork, before the exec) has aux
 * WEFT_SCHED_BASELINE; a thread without one counts from its own start (a
 * fork child's). Without this bit (older writers) a main thread's first
 * reading is its baseline. */
#define WEFT_FEAT_SCHED_BASE        (1ull << 6)
#define WEFT_SCHED_BASELINE         1u
/* Version 4: the process ran CPython and its stacks have Python frames (set
 * when the first PY_FRAME is written). */
#define WEFT_FEAT_PY_FRAMES         (1ull << 7)
/* A fork child's file without the MODULE records of the objects it had at
 * the fork: they are its parent's (the file of pid ppid whose image started
 * last before this one), those written there before this file's start. Its
 * own MODULE records are the objects it loads later. */
#define WEFT_FEAT_MODULES_INHERITED (1ull << 8)
/* Version 7: the file may hold sections of other processes (fork children
 * that did not exec, and theirs): PROCESS and CHILD chunks. A file of an
 * older version with this bit is corrupt (the bit was unknown then). */
#define WEFT_FEAT_SHARED_FILE       (1ull << 9)
/* Version 8: the agent recorded the futex waits and wakes made through
 * syscall(SYS_futex, ...) (kind futex); without it they were not looked at. */
#define WEFT_FEAT_FUTEX             (1ull << 10)

/* A STACK word with bit 63 set is no return address (user space has none up
 * there) but a Python frame: the low 32 bits are a PY_FRAME record's id. */
#define WEFT_STACK_PY_BIT (1ull << 63)
static inline int weft_stack_word_is_py(uint64_t w) { return (w & WEFT_STACK_PY_BIT) != 0; }
static inline uint32_t weft_stack_word_py_id(uint64_t w) { return (uint32_t)w; }
static inline uint64_t weft_stack_py_word(uint32_t frame_id) { return WEFT_STACK_PY_BIT | frame_id; }

typedef struct {
  char magic[8];        /*  0 "WEFTTRC\0" */
  uint32_t version;     /*  8 WEFT_TRACE_VERSION */
  uint32_t endian;      /* 12 WEFT_ENDIAN_MARK as written by the host */
  uint32_t header_size; /* 16 WEFT_FILE_HEADER_SIZE */
  uint32_t clock;       /* 20 WEFT_CLOCK_* : what the tick counts are */
  uint64_t features;    /* 24 WEFT_FEAT_* */
  uint32_t pid;         /* 32 */
  uint32_t ppid;        /* 36 getppid() at start */
  uint32_t image;       /* 40 N of PID.N.wtrace: 0 first image, N after N execs (or pid reuse) */
  uint32_t ncpus;       /* 44 online CPUs at start */
  uint64_t session;     /* 48 recording id, shared by all processes of one recording */
  uint64_t start_tsc;   /* 56 ticks at agent start */
  uint64_t start_ns;    /* 64 CLOCK_MONOTONIC ns read with start_tsc */
  uint64_t tsc_hz;      /* 72 tick rate hint (0 = unknown; 1e9 for WEFT_CLOCK_MONOTONIC) */
  uint64_t lost;        /* 80 records lost with no chunk to count them in (updated live) */
  uint64_t realtime_ns; /* 88 CLOCK_REALTIME at start, for display only */
  uint32_t hold_sample; /* 96 v3: one hold in N of those that did not wait is timed (0: none) */
  uint32_t flush_ms;    /*100 v3: a thread's counts are written at least this often while it works */
  uint64_t host_id;     /*104 v6: the host (a hash of its machine id and boot id: one clock); 0 unknown */
  char host_name[64];   /*112 v6: its node name, NUL-padded */
  uint64_t alloc_end;   /*176 v7: end of the space handed out so far (writers; readers ignore it) */
  uint32_t grow_lock;   /*184 v7: 0, or the tid of the thread extending the file (writers only) */
  uint32_t reserve_end; /*188 v7: writers only: the file's space allocated ahead, its end in 4 KiB pages (0: none) */
} WeftFileHeader;       /* 192 bytes used; zero to WEFT_FILE_HEADER_SIZE */

typedef struct {
  uint32_t magic;  /*  0 WEFT_CHUNK_MAGIC */
  uint32_t size;   /*  4 bytes, header included, multiple of WEFT_CHUNK_ALIGN */
  uint32_t tid;    /*  8 the thread that owns the chunk */
  uint32_t seq;    /* 12 per-thread chunk number, 0, 1, 2, ... */
  uint64_t tsc;    /* 16 ticks at chunk start; base of the first record's dt */
  uint64_t ns;     /* 24 CLOCK_MONOTONIC ns read with tsc (a sync point) */
} WeftChunkHeader; /* 32 bytes */

/* Version 7, in a file with WEFT_FEAT_SHARED_FILE:
 * A PROCESS chunk (magic WEFT_PROC_MAGIC, size WEFT_PROC_CHUNK_SIZE) starts
 * the section of a fork child in the file: from byte 8 on its page has the
 * file header's layout (version .. host_name; image 0, alloc_end and
 * grow_lock 0), bytes 0..3 are the magic (stored last) and 4..7 the size.
 * A CHILD chunk is a chunk of a thread of such a process: the chunk header,
 * then the pid of its process (a PROCESS chunk of that pid earlier in the
 * file: the latest one is its section); records start at byte 40. */
typedef struct {
  uint32_t magic;       /*  0 WEFT_CHILD_CHUNK_MAGIC */
  uint32_t size;        /*  4 .. 31 as in WeftChunkHeader */
  uint32_t tid;         /*  8 */
  uint32_t seq;         /* 12 */
  uint64_t tsc;         /* 16 */
  uint64_t ns;          /* 24 */
  uint32_t pid;         /* 32 the process that owns the chunk */
  uint32_t reserved;    /* 36 0 */
} WeftChildChunkHeader; /* 40 bytes */

_Static_assert(sizeof(WeftFileHeader) == 192, "file header layout");
_Static_assert(sizeof(WeftChunkHeader) == 32, "chunk header layout");
_Static_assert(sizeof(WeftChildChunkHeader) == 40 && offsetof(WeftChildChunkHeader, ns) == 24 &&
                   offsetof(WeftChildChunkHeader, pid) == 32,
               "child chunk header layout");
_Static_assert(offsetof(WeftFileHeader, alloc_end) == 176 && offsetof(WeftFileHeader, grow_lock) == 184,
               "file header layout (version 7)");

/* Record types */
enum {
#define WEFT_EVENT(name, id, minw, doc) WEFT_EV_##name = id,
#include "weft-events.def"
  WEFT_EV_MAX_ID = 255
};

/* Word 0 encoding */
#define WEFT_W0(type, nwords, aux, dt)                                                                  \
  ((uint64_t)(uint8_t)(type) | ((uint64_t)(uint8_t)(nwords) << 8) | ((uint64_t)(uint16_t)(aux) << 16) | \
   ((uint64_t)(uint32_t)(dt) << 32))
#define WEFT_W0_TYPE(w)   ((unsigned)((w)&0xff))
#define WEFT_W0_NWORDS(w) ((unsigned)(((w) >> 8) & 0xff))
#define WEFT_W0_AUX(w)    ((unsigned)(((w) >> 16) & 0xffff))
#define WEFT_W0_DT(w)     ((uint32_t)((w) >> 32))

/* aux of synchronisation records: kind | op << 5 | result << 8 */
enum WeftKind {
  WEFT_KIND_NONE = 0,
  WEFT_KIND_MUTEX = 1,
  WEFT_KIND_RWLOCK_RD = 2,
  WEFT_KIND_RWLOCK_WR = 3,
  WEFT_KIND_RWLOCK = 4, /* unlock: mode not known at the call */
  WEFT_KIND_SPIN = 5,
  WEFT_KIND_COND = 6,
  WEFT_KIND_BARRIER = 7,
  WEFT_KIND_SEM = 8,
  WEFT_KIND_JOIN = 9,   /* object = pthread_t joined */
  WEFT_KIND_CHILD = 10, /* wait/waitpid; object = pid argument */
  WEFT_KIND_POLL = 11,  /* poll/select/epoll_wait; object = fd or 0 */
  WEFT_KIND_READ = 12,  /* read/recv on a pipe or socket; object = fd */
  WEFT_KIND_SLEEP = 13, /* nanosleep and friends */
  WEFT_KIND_MPI = 14,   /* version 6: a blocking or completing MPI call; object = WEFT_MPI_OBJ(call, comm) */
  WEFT_KIND_FUTEX =
      15, /* version 8: a futex word waited on or woken through syscall(SYS_futex); object = its address */
  WEFT_KIND_COUNT
};
enum WeftOp {
  WEFT_OP_LOCK = 0,      /* blocking call */
  WEFT_OP_TRY = 1,       /* try variant */
  WEFT_OP_TIMED = 2,     /* timed variant (CLOCK_REALTIME deadline) */
  WEFT_OP_CLOCK = 3,     /* clock variant (explicit clock) */
  WEFT_OP_SIGNAL = 4,    /* cond signal; a futex wake of one waiter */
  WEFT_OP_BROADCAST = 5, /* cond broadcast; a futex wake of more */
  WEFT_OP_SERIAL = 6     /* barrier: this thread got PTHREAD_BARRIER_SERIAL_THREAD */
};
/* REL w2 (version 3): the hold's length in ticks plus one (0: its start was not
 * timed) << 1 | WEFT_REL_LATE; SIGNAL w2 (version 3): WEFT_REL_LATE or 0. */
#define WEFT_REL_LATE                                                                            \
  1ull                               /* written after the call returned: the release (or signal) \
                                        happened at or before the record's time */
#define WEFT_REL_LEN(w2) ((w2) >> 1) /* 0: start not timed; else length in ticks + 1 */
/* REL (version 3) with op = WEFT_OP_HELD is two words: w1 = object address
 * (bits 0..47) | (hold length in ticks + 1) << 48, for a timed hold shorter
 * than 65534 ticks released on time (the 3-word form says the rest). */
#define WEFT_OP_HELD     7
/* DESTROY with op = WEFT_OP_CLOSE: sem_close, one process's handle of a named
 * semaphore closed (the semaphore lives on in the processes that have it open). */
#define WEFT_OP_CLOSE    1
/* INIT with op = WEFT_OP_OMP: an object of the OpenMP runtime (libgomp): a
 * parallel region's team barrier (kind barrier, w2 the team's size) or a
 * team master's dock, where its pool's threads wait between regions (kind
 * cond); readers that do not know it see a barrier and a condition variable. */
#define WEFT_OP_OMP      1
static inline uint64_t weft_rel_addr(unsigned aux, uint64_t w1) {
  return ((aux >> 5) & 7) == WEFT_OP_HELD ? w1 & ((1ull << 48) - 1) : w1;
}
/* The hold's length in ticks + 1 (0: not timed), and whether the REL is late. */
static inline uint64_t weft_rel_len1(unsigned aux, unsigned nwords, const uint64_t *w, int *late) {
  *late = 0;
  if (((aux >> 5) & 7) == WEFT_OP_HELD) return w[1] >> 48;
  if (nwords < 3) return 0;
  *late = (int)(w[2] & WEFT_REL_LATE);
  return WEFT_REL_LEN(w[2]);
}
#define WEFT_AUX(kind, op, result) \
  ((uint16_t)(((unsigned)(kind)&0x1f) | (((unsigned)(op)&7) << 5) | (((unsigned)(result)&0xff) << 8)))
#define WEFT_AUX_KIND(a)   ((a)&0x1f)
#define WEFT_AUX_OP(a)     (((a) >> 5) & 7)
#define WEFT_AUX_RESULT(a) (((a) >> 8) & 0xff)

/* INIT w2 attributes */
#define WEFT_ATTR_TYPE_MASK 0xffull /* PTHREAD_MUTEX_* type */
#define WEFT_ATTR_ROBUST    (1ull << 8)
#define WEFT_ATTR_PSHARED   (1ull << 9)
#define WEFT_ATTR_PI        (1ull << 10)

/* THREAD_EXIT aux */
enum { WEFT_EXIT_RETURN = 0, WEFT_EXIT_PTHREAD_EXIT = 1, WEFT_EXIT_AT_PROCESS_EXIT = 2 };
/* EXIT aux */
enum {
  WEFT_PEXIT_EXIT = 0,  /* exit(status) */
  WEFT_PEXIT__EXIT = 1, /* _exit / _Exit */
  WEFT_PEXIT_RETURN = 2
}; /* return from main or exit not seen: status unknown (w1 = 0) */
/* FORK aux low byte */
enum { WEFT_FORK_FORK = 0, WEFT_FORK_VFORK = 1, WEFT_FORK_SPAWN = 2 };
/* MARK aux */
enum { WEFT_MARK_INSTANT = 0, WEFT_MARK_BEGIN = 1, WEFT_MARK_END = 2 };

/* ---- MPI (version 6) ----
 * The MPI calls the agent records, by number: the object of an MPI wait
 * (WEFT_MPI_OBJ), MPI_MSG's aux and MPI_COLL's aux name them. Never renumber. */
/* clang-format off */
#define WEFT_MPI_CALLS(X) \
  X(INIT, 1, "MPI_Init") X(INIT_THREAD, 2, "MPI_Init_thread") X(FINALIZE, 3, "MPI_Finalize") \
  X(SEND, 4, "MPI_Send") X(SSEND, 5, "MPI_Ssend") X(BSEND, 6, "MPI_Bsend") X(RSEND, 7, "MPI_Rsend") \
  X(RECV, 8, "MPI_Recv") X(SENDRECV, 9, "MPI_Sendrecv") X(PROBE, 10, "MPI_Probe") \
  X(MPROBE, 11, "MPI_Mprobe") X(MRECV, 12, "MPI_Mrecv") \
  X(ISEND, 13, "MPI_Isend") X(ISSEND, 14, "MPI_Issend") X(IBSEND, 15, "MPI_Ibsend") X(IRSEND, 16, "MPI_Irsend") \
  X(IRECV, 17, "MPI_Irecv") \
  X(WAIT, 18, "MPI_Wait") X(WAITALL, 19, "MPI_Waitall") X(WAITANY, 20, "MPI_Waitany") X(WAITSOME, 21, "MPI_Waitsome") \
  X(TEST, 22, "MPI_Test") X(TESTALL, 23, "MPI_Testall") X(TESTANY, 24, "MPI_Testany") X(TESTSOME, 25, "MPI_Testsome") \
  X(BARRIER, 26, "MPI_Barrier") X(BCAST, 27, "MPI_Bcast") X(REDUCE, 28, "MPI_Reduce") \
  X(ALLREDUCE, 29, "MPI_Allreduce") X(GATHER, 30, "MPI_Gather") X(GATHERV, 31, "MPI_Gatherv") \
  X(SCATTER, 32, "MPI_Scatter") X(SCATTERV, 33, "MPI_Scatterv") X(ALLGATHER, 34, "MPI_Allgather") \
  X(ALLGATHERV, 35, "MPI_Allgatherv") X(ALLTOALL, 36, "MPI_Alltoall") X(ALLTOALLV, 37, "MPI_Alltoallv") \
  X(REDUCE_SCATTER, 38, "MPI_Reduce_scatter") X(SCAN, 39, "MPI_Scan") X(SENDRECV_REPLACE, 40, "MPI_Sendrecv_replace")
/* clang-format on */
enum WeftMpiCall {
#define WEFT_MPI_ENUM(name, id, str) WEFT_MPI_##name = id,
  WEFT_MPI_CALLS(WEFT_MPI_ENUM)
#undef WEFT_MPI_ENUM
      WEFT_MPI_CALL_COUNT
};
/* A communicator's id: 0 MPI_COMM_WORLD, else a hash of the world ranks of
 * its members (the same in every member process), 48 bits, never 0 (the object of a
 * wait keeps its address below 2^59, as the importer's keys need). */
#define WEFT_MPI_COMM_MASK       ((1ull << 48) - 1)
/* The object of an MPI wait: the call and the communicator (0 where the call
 * names none: MPI_Wait*, MPI_Test*, MPI_Init, MPI_Finalize). */
#define WEFT_MPI_OBJ(call, comm) ((uint64_t)(call) << 48 | ((uint64_t)(comm)&WEFT_MPI_COMM_MASK))
#define WEFT_MPI_OBJ_CALL(obj)   ((unsigned)((obj) >> 48 & 0xffu))
#define WEFT_MPI_OBJ_COMM(obj)   ((uint64_t)((obj)&WEFT_MPI_COMM_MASK))
/* MPI_MSG aux: bit 0 the direction, bits 8..15 the call that sent or received it */
enum { WEFT_MPI_MSG_SEND = 0, WEFT_MPI_MSG_RECV = 1 };
#define WEFT_MPI_MSG_AUX(dir, call) ((uint16_t)((dir) | (unsigned)(call) << 8))
#define WEFT_MPI_MSG_DIR(aux)       ((aux)&1u)
#define WEFT_MPI_MSG_CALL(aux)      ((aux) >> 8 & 0xffu)
/* MPI_MSG w2 and MPI_COLL w4: a rank (low 32) and a tag or size (high 32) */
#define WEFT_MPI_PAIR(lo, hi)       ((uint64_t)(uint32_t)(lo) | (uint64_t)(uint32_t)(hi) << 32)
#define WEFT_MPI_NO_RANK            0xffffffffu /* MPI_COLL: no root */
/* MPI_RANK aux: where the rank came from */
enum { WEFT_MPI_RANK_ENV = 0, WEFT_MPI_RANK_INIT = 1 };
/* "MPI_Send", or NULL for an unknown call. */
const char *weft_mpi_call_name(unsigned call);
/* Is it a collective (one MPI_COLL record per call)? */
int weft_mpi_call_is_collective(unsigned call);

/* Names for dumps and errors; NULL for an unknown id. */
const char *weft_event_name(unsigned type);
unsigned weft_event_min_words(unsigned type);
/* Check the fields of one record (word 0 w[0], nwords >= its type's minimum)
 * against their ranges: a sync record's kind (not none) and op, result
 * errnos, a stack's depth against the maximum and the record's length,
 * strings NUL-terminated inside the record, the enum-valued aux of THREAD_*,
 * FORK, EXIT and MARK, pids and counts. Returns 0, or -1 with a phrase saying
 * what is wrong in why ("WAIT_BEGIN of kind none"). Not async-signal-safe. */
int weft_record_check(unsigned type, unsigned aux, unsigned nwords, const uint64_t *w, char *why, size_t whylen);
/* Check the file header fields past the magic, version, endian mark, size
 * and clock (which the reader checks first): the tick rate, lost count,
 * pids, CPU count, feature bits, hold_sample, flush_ms. Same contract. */
int weft_header_check(const WeftFileHeader *h, char *why, size_t whylen);
const char *weft_kind_name(unsigned kind);
const char *weft_op_name(unsigned op);
const char *weft_fork_how_name(unsigned how);

#endif /* WEFT_TRACE_H */
