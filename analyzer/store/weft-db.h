/* weft-db.h - the recording database: codes, schema version, opening.
 * SPDX-License-Identifier: MIT
 *
 * analyzer/store/schema.sql is the schema; docs/schema.md documents it. Everything
 * that reads a recording opens it with weft_db_open(), which rejects files
 * that are not weft databases or come from another schema version.
 */
#ifndef WEFT_DB_H
#define WEFT_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEFT_SCHEMA_VERSION    8
#define WEFT_DB_APPLICATION_ID 0x57454654 /* "WEFT" */

/* thread_state.state */
typedef enum {
  WEFT_ST_RUNNING = 0,
  WEFT_ST_LOCK_WAIT = 1, /* mutex */
  WEFT_ST_RWLOCK_WAIT = 2,
  WEFT_ST_SPIN_WAIT = 3,
  WEFT_ST_COND_WAIT = 4,
  WEFT_ST_BARRIER_WAIT = 5,
  WEFT_ST_SEM_WAIT = 6,
  WEFT_ST_JOIN_WAIT = 7,
  WEFT_ST_CHILD_WAIT = 8,
  WEFT_ST_IO_WAIT = 9, /* poll/select/epoll, read/recv on pipes and sockets */
  WEFT_ST_SLEEP = 10,
  WEFT_ST_GIL_WAIT = 11,   /* CPython's GIL (issue 6) */
  WEFT_ST_MPI_WAIT = 12,   /* a blocking or completing MPI call (schema 4) */
  WEFT_ST_FUTEX_WAIT = 13, /* a futex word waited on through syscall() (schema 7) */
  WEFT_ST_COUNT
} WeftState;

/* flow.kind */
typedef enum {
  WEFT_FLOW_LOCK_HANDOFF = 1,    /* release -> the waiter acquires */
  WEFT_FLOW_WAKEUP = 2,          /* cond signal/broadcast, futex wake -> the waiter wakes */
  WEFT_FLOW_BARRIER = 3,         /* the last arrival -> each waiter leaves */
  WEFT_FLOW_SEM_POST = 4,        /* sem_post -> the waiter acquires */
  WEFT_FLOW_CREATE = 5,          /* pthread_create -> the thread starts */
  WEFT_FLOW_JOIN = 6,            /* thread exit -> the joiner returns */
  WEFT_FLOW_FORK = 7,            /* fork/spawn -> the child's first thread starts */
  WEFT_FLOW_EXEC = 8,            /* exec -> the new image starts */
  WEFT_FLOW_WAIT = 9,            /* process exit -> the parent's wait returns */
  WEFT_FLOW_PIPE = 10,           /* a write to a pipe -> a read or poll waiting on it returns (WEFT_IO) */
  WEFT_FLOW_MPI_MESSAGE = 11,    /* an MPI send -> the end of the wait that received it (schema 4) */
  WEFT_FLOW_MPI_COLLECTIVE = 12, /* the last rank to enter an MPI collective -> each other rank leaving it */
  WEFT_FLOW_SOCKET = 13,         /* a send on a TCP stream -> a read waiting on it returns (WEFT_IO, schema 5) */
  WEFT_FLOW_COUNT
} WeftFlowKind;

const char *weft_state_name(int state); /* "running", "lock_wait", ... */
int weft_state_is_wait(int state);
const char *weft_flow_name(int kind); /* "lock_handoff", ... */

/* Open a recording read-only (or read-write for the importer's own use).
 * Checks the application id and the schema version; returns NULL with a
 * one-line message naming the file in err. */
sqlite3 *weft_db_open(const char *path, int writable, char *err, size_t errlen);

/* Create a new, empty recording database at path (replacing none: fails if
 * it exists unless overwrite, and never replaces anything but a regular
 * file), mode 0600 whatever the umask. Returns NULL with a message on
 * failure. */
sqlite3 *weft_db_create(const char *path, int overwrite, char *err, size_t errlen);

/* The same, for a bulk writer: with defer_indexes the secondary indexes are
 * left out until weft_db_create_indexes() (call it once the data is in). */
sqlite3 *weft_db_create_bulk(const char *path, int overwrite, int defer_indexes, char *err, size_t errlen);
int weft_db_create_indexes(sqlite3 *db, char *err, size_t errlen);

/* meta helpers */
int weft_db_meta_set(sqlite3 *db, const char *key, const char *value);
int weft_db_meta_set_int(sqlite3 *db, const char *key, int64_t value);
/* Returns a malloc'd string or NULL. */
char *weft_db_meta_get(sqlite3 *db, const char *key);
int64_t weft_db_meta_get_int(sqlite3 *db, const char *key, int64_t dflt);

/* What the machine did while a recording's program ran (the differences of
 * /proc/stat's CPU times over the run; total_ns < 0: unknown) and the CPUs
 * its cgroup may use in thousandths (<= 0: unlimited or unknown). */
typedef struct {
  int64_t busy_ns, steal_ns, total_ns;
  int64_t cpu_limit_milli;
} WeftDbMachine;

/* Store m in the recording at path (meta machine_busy_ns, machine_steal_ns,
 * machine_total_ns, cpu_limit_milli; what is unknown is left out). Returns
 * 0, or -1 with "<path>: cannot store the machine's load: ..." in err. */
int weft_db_store_machine(const char *path, const WeftDbMachine *m, char *err, size_t errlen);

/* A recording's size, for a summary: processes and threads stored, its end
 * (meta end_ns, else the last process's end) and the events lost (meta
 * lost_events). Each is -1 when it cannot be read. */
typedef struct {
  int64_t processes, threads, end_ns, lost_events;
} WeftDbTotals;
void weft_db_totals(sqlite3 *db, WeftDbTotals *out);

/* A synchronisation object (mutex to semaphore: joins, child waits, I/O and
 * sleeps are waits too, but not on an object) by the time waited on it. */
typedef struct {
  int64_t object_id;
  int64_t wait_ns, waits; /* the time waited on it and the number of waits */
  int64_t all_wait_ns;    /* the time waited on all of them */
  bool has_kind;
  char kind[32]; /* its kind's name ("mutex") when has_kind */
} WeftDbObjectWait;

/* The (at most) n objects waited on longest, longest first, into out.
 * Returns how many; 0 when none was waited on or on a read error. */
size_t weft_db_top_waits(sqlite3 *db, WeftDbObjectWait *out, size_t n);

/* Thread utid's lock waits (mutex, rwlock, spinlock, semaphore) that
 * overlap [start_ns, end_ns), whole, summed per object: fn(object_id,
 * wait_ns, arg) once an object. Returns 0, or -1 if they cannot be read. */
int weft_db_thread_lock_waits(sqlite3 *db, int64_t utid, int64_t start_ns, int64_t end_ns,
                              void (*fn)(int64_t object_id, int64_t wait_ns, void *arg), void *arg);

#endif /* WEFT_DB_H */
