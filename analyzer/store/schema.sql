-- schema.sql - the weft recording database (one SQLite file per recording).
-- SPDX-License-Identifier: MIT
--
-- The contract between `weft import` (the only writer) and everything that
-- reads a recording: `weft report`, `weft scale`, `weft export` and weft-gui.
-- Documented in docs/schema.md; PRAGMA user_version is the schema version
-- (WEFT_SCHEMA_VERSION in analyzer/store/weft-db.h). Times are CLOCK_MONOTONIC
-- nanoseconds relative to meta 'origin_ns' (the start of the earliest
-- process), so 0 is the start of the recording. Durations are ns.
--
-- Identity: a process image is a upid (a pid gets a new upid at each exec
-- and on pid reuse); a thread is a utid ((tid, start) is unique, tids get
-- reused). Every id is an INTEGER PRIMARY KEY (a rowid alias).

PRAGMA application_id = 1464157780;  -- 0x57454654 "WEFT": marks a weft database
PRAGMA user_version = 8;

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT
) WITHOUT ROWID;

-- Names of the integer codes used below, so SQL can be read by a person.
CREATE TABLE state_name (
  state INTEGER PRIMARY KEY,
  name  TEXT NOT NULL UNIQUE,
  is_wait INTEGER NOT NULL            -- 1: time not useful (waiting); 0: running
);
CREATE TABLE kind_name (
  kind INTEGER PRIMARY KEY,           -- WEFT_KIND_* of agent/format/weft-trace.h
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE flow_kind_name (
  kind INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

CREATE TABLE process (
  upid           INTEGER PRIMARY KEY,
  pid            INTEGER NOT NULL,
  image          INTEGER NOT NULL,    -- N of PID.N.wtrace
  parent_upid    INTEGER,             -- the image that forked or spawned it (NULL: the root, or unknown)
  exec_from_upid INTEGER,             -- the image of the same pid that exec'd into this one
  session        TEXT,
  cmdline        TEXT,                -- argv joined by spaces (shell-quoted where needed)
  exe            TEXT,
  start_ns       INTEGER NOT NULL,
  end_ns         INTEGER NOT NULL,    -- exit, exec, or the last record (killed)
  end_how        TEXT NOT NULL,       -- exit | _exit | return | exec | killed
  exit_status    INTEGER,             -- from the process's EXIT or its parent's wait; NULL unknown
  lost           INTEGER NOT NULL DEFAULT 0,
  file           TEXT NOT NULL,       -- the trace file it came from
  mpi_rank       INTEGER,             -- its rank in MPI_COMM_WORLD (schema 4); NULL: not an MPI process
  host           INTEGER NOT NULL DEFAULT 0, -- host.host (schema 5): the machine it ran on
  started_by     TEXT                 -- (schema 6) the parent's recorded call: fork | vfork | spawn; NULL: none (an unwrapped vfork or clone, the root)
);

-- The machines of the recording (schema 5), each mapped onto the first's
-- time base: by its wall-clock anchors, then by the messages between hosts.
CREATE TABLE host (
  host                  INTEGER PRIMARY KEY, -- 0: the reference (its process started first)
  host_id               TEXT NOT NULL,       -- hex: a hash of its machine id and boot id (0...0: unknown)
  name                  TEXT NOT NULL,       -- its node name
  files                 INTEGER NOT NULL,    -- trace files (process images) it wrote
  anchor_shift_ns       INTEGER NOT NULL,    -- added to its clock by the wall-clock anchors
  clock_offset_ns       INTEGER NOT NULL,    -- then added at offset_at_ns, from its messages
  offset_uncertainty_ns INTEGER,             -- how far the truth can be from it there; NULL unknown
  drift_ppm             REAL NOT NULL,       -- the correction's slope, parts per million
  messages              INTEGER NOT NULL,    -- messages with the hosts placed before it that bound it
  offset_at_ns          INTEGER NOT NULL     -- the middle of those messages (the start without any)
);

CREATE TABLE thread (
  utid         INTEGER PRIMARY KEY,
  upid         INTEGER NOT NULL,
  tid          INTEGER NOT NULL,
  name         TEXT,                  -- last name set, else the process's executable name
  is_main      INTEGER NOT NULL,
  creator_utid INTEGER,
  start_routine INTEGER,              -- address (symbolised in frame via start_frame_id)
  start_frame_id INTEGER,
  start_ns     INTEGER NOT NULL,
  end_ns       INTEGER NOT NULL,
  end_how      TEXT NOT NULL,         -- return | pthread_exit | process_exit | killed | exec
  cpu_ns       INTEGER,               -- last schedstat reading: on-CPU time
  runq_ns      INTEGER,               -- last schedstat reading: runnable but waiting for a CPU
  lost         INTEGER NOT NULL DEFAULT 0,
  pipe_bytes   INTEGER NOT NULL DEFAULT 0, -- bytes it wrote to pipes (trace version 6, WEFT_IO)
  pipe_writes  INTEGER NOT NULL DEFAULT 0, -- its writes to pipes
  pipe_messages INTEGER NOT NULL DEFAULT 0, -- of them, messages: a 4-byte length prefix and a payload over 16 KB are one
  named_ns     INTEGER                -- when its last name was set (weft_name_thread, WEFT_NAME_THREAD); NULL never
);

-- Every thread's life as contiguous, non-overlapping intervals from
-- thread.start_ns to thread.end_ns.
CREATE TABLE thread_state (
  utid         INTEGER NOT NULL,
  start_ns     INTEGER NOT NULL,
  dur_ns       INTEGER NOT NULL,
  state        INTEGER NOT NULL,      -- state_name.state
  object_id    INTEGER,               -- what it waited for (sync_object)
  blocker_utid INTEGER,               -- who held it when the wait began
  waker_utid   INTEGER,               -- who ended the wait (released, signalled, exited)
  stack_id     INTEGER,               -- where the wait was called
  result       INTEGER NOT NULL DEFAULT 0, -- errno-style result of the wait
  PRIMARY KEY (utid, start_ns)
) WITHOUT ROWID;

CREATE TABLE sync_object (
  object_id     INTEGER PRIMARY KEY,
  upid          INTEGER NOT NULL,     -- the process it lives in (process-shared objects: the first)
  addr          INTEGER NOT NULL,
  kind          INTEGER NOT NULL,     -- kind_name.kind (mutex, rwlock, spin, cond, barrier, sem, join, child, ...)
  name          TEXT,                 -- symbol (queue_lock), name given through weft.h, or NULL
  init_stack_id INTEGER,
  first_stack_id INTEGER,             -- stack of its first contended wait (names it by site)
  first_ns      INTEGER,
  acquisitions  INTEGER NOT NULL DEFAULT 0, -- every successful one (exact: counted, or recorded)
  contended     INTEGER NOT NULL DEFAULT 0, -- of them, those that waited
  wait_ns       INTEGER NOT NULL DEFAULT 0,
  hold_ns       INTEGER NOT NULL DEFAULT 0, -- total of its recorded holds (hold_block)
  failed_tries  INTEGER NOT NULL DEFAULT 0, -- trylock/trywait that failed (EBUSY, EAGAIN); counted
  releases      INTEGER NOT NULL DEFAULT 0, -- sem_post calls (counted; 0 for locks)
  hold_samples  INTEGER NOT NULL DEFAULT 0, -- meta holds = 'contended': timed uncontended holds (a sample)
  hold_sample_ns INTEGER NOT NULL DEFAULT 0, --   their total
  hold_sample_max_ns INTEGER NOT NULL DEFAULT 0, -- the longest
  destroyed_ns  INTEGER,              -- (schema 6) when it was destroyed; NULL: never (its address may be another object's after)
  runtime       TEXT                  -- (schema 8) 'openmp': a parallel region's team barrier, or a team's idle dock; NULL: the program's own
);

-- The counts of one thread on one object between two of its COUNTS records
-- (meta holds = 'contended': the acquisitions that are not recorded one by
-- one), from the first operation counted to the time they were written.
CREATE TABLE lock_count (
  object_id    INTEGER NOT NULL,
  utid         INTEGER,
  start_ns     INTEGER NOT NULL,
  end_ns       INTEGER NOT NULL,
  acquisitions INTEGER NOT NULL,
  failed_tries INTEGER NOT NULL,
  releases     INTEGER NOT NULL,
  hold_samples INTEGER NOT NULL,
  hold_sample_ns INTEGER NOT NULL,
  hold_sample_max_ns INTEGER NOT NULL
);

-- What a release someone waited for took (trace v6 UNLOCK_COST): the
-- waking of its waiters, CPU time of the releasing thread that goes away
-- when the wait does (what-if by replay).
-- Bytes of a TCP stream (schema 5, WEFT_IO): each receive with the send
-- that held its last byte, matched by the stream's addresses and the byte
-- offsets both ends counted (docs/schema.md).
CREATE TABLE socket_transfer (
  from_utid  INTEGER NOT NULL,        -- the sender
  from_ns    INTEGER NOT NULL,        -- its send's start
  to_utid    INTEGER NOT NULL,        -- the receiver
  to_ns      INTEGER NOT NULL,        -- its receive's end
  bytes      INTEGER NOT NULL         -- what the receive got
);

CREATE TABLE unlock_cost (
  utid       INTEGER NOT NULL,
  ns         INTEGER NOT NULL,        -- the release (its REL, = the hold's end)
  object_id  INTEGER NOT NULL,
  cost_ns    INTEGER NOT NULL
);

-- Lock holds, in blocks: the holds of one object in start order, at most
-- 256 per row, packed in `data` (per hold three unsigned LEB128 varints:
-- start - previous start (the block's start_ns for the first), dur_ns << 3 |
-- estimated << 2 | shared << 1 | contended, zigzag(utid - previous utid) (0
-- before the first)). With meta holds = 'all' every hold is here; with
-- 'contended', the holds someone waited for (estimated: its start was not
-- timed, and start_ns is when the first waiter came).
CREATE TABLE hold_block (
  object_id  INTEGER NOT NULL,
  start_ns   INTEGER NOT NULL,        -- start of its first hold
  end_ns     INTEGER NOT NULL,        -- latest end of its holds
  holds      INTEGER NOT NULL,        -- number of holds
  contended  INTEGER NOT NULL,        -- of them, acquisitions that had to wait
  hold_ns    INTEGER NOT NULL,        -- their total duration
  max_ns     INTEGER NOT NULL,        -- the longest
  data       BLOB NOT NULL
);

-- Causality: A at from_ns made B continue at to_ns.
CREATE TABLE flow (
  flow_id    INTEGER PRIMARY KEY,
  kind       INTEGER NOT NULL,        -- flow_kind_name.kind
  from_utid  INTEGER NOT NULL,
  from_ns    INTEGER NOT NULL,
  to_utid    INTEGER NOT NULL,
  to_ns      INTEGER NOT NULL,
  object_id  INTEGER
);

-- Symbolisation (offline, from the recorded modules and their build-ids).
CREATE TABLE module (
  module_id  INTEGER PRIMARY KEY,
  upid       INTEGER NOT NULL,
  path       TEXT NOT NULL,
  build_id   TEXT,
  bias       INTEGER NOT NULL,
  start      INTEGER NOT NULL,
  end        INTEGER NOT NULL
);
CREATE TABLE frame (
  frame_id   INTEGER PRIMARY KEY,
  upid       INTEGER NOT NULL,
  ip         INTEGER NOT NULL,
  module_id  INTEGER,
  rel_pc     INTEGER,                 -- ip relative to the module's load bias
  symbol     TEXT,                    -- function, demangled where possible
  file       TEXT,
  line       INTEGER
);
CREATE UNIQUE INDEX frame_ip ON frame(upid, ip);
CREATE TABLE stack (
  stack_id   INTEGER PRIMARY KEY,     -- recording-wide (the trace's per-process ids are remapped)
  upid       INTEGER NOT NULL,
  depth      INTEGER NOT NULL
);
CREATE TABLE stack_frame (
  stack_id   INTEGER NOT NULL,
  depth      INTEGER NOT NULL,        -- 0 = innermost (the caller of the lock function)
  frame_id   INTEGER NOT NULL,
  PRIMARY KEY (stack_id, depth)
) WITHOUT ROWID;

-- Scheduling samples (schedstat): cumulative per thread.
CREATE TABLE sched_sample (
  utid     INTEGER NOT NULL,
  ts_ns    INTEGER NOT NULL,
  cpu_ns   INTEGER NOT NULL,
  runq_ns  INTEGER NOT NULL,
  slices   INTEGER NOT NULL
);

-- Marks and phases from weft.h.
CREATE TABLE mark (
  utid     INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  dur_ns   INTEGER NOT NULL,          -- 0 for an instant
  id       INTEGER NOT NULL,
  label    TEXT
);

-- Level of detail for viewers: per thread, per level L (bucket width
-- lod_base_ns * 4^L, see meta), per bucket: time in each state and the
-- longest interval of that state overlapping the bucket.
CREATE TABLE state_summary (
  utid       INTEGER NOT NULL,
  level      INTEGER NOT NULL,
  bucket     INTEGER NOT NULL,        -- bucket * width is its start
  state      INTEGER NOT NULL,
  total_ns   INTEGER NOT NULL,
  longest_ns INTEGER NOT NULL,
  count      INTEGER NOT NULL,        -- intervals of that state overlapping the bucket
  PRIMARY KEY (utid, level, bucket, state)
) WITHOUT ROWID;

-- @indexes: secondary indexes. `weft import` creates them after the bulk
-- insert (much faster than keeping them up to date row by row); everything
-- above this line exists from the start.
CREATE INDEX process_pid ON process(pid);
CREATE INDEX thread_upid ON thread(upid);
CREATE INDEX thread_state_object ON thread_state(object_id) WHERE object_id IS NOT NULL;
CREATE INDEX sync_object_addr ON sync_object(upid, addr);
CREATE INDEX hold_block_object ON hold_block(object_id, start_ns);
CREATE INDEX lock_count_object ON lock_count(object_id, start_ns);
CREATE INDEX flow_to ON flow(to_utid, to_ns);
CREATE INDEX sched_sample_thread ON sched_sample(utid, ts_ns);
