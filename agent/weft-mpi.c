/* weft-mpi.c - MPI calls as waits (kind mpi), their messages and collectives.
 * SPDX-License-Identifier: MIT
 *
 * The agent defines the MPI_* functions a program (or mpi4py) calls and
 * calls the PMPI_* ones behind them, resolved once, at the first call, with
 * dlsym (RTLD_NEXT, else from whichever loaded object defines PMPI_Init:
 * mpi4py loads libmpi without RTLD_GLOBAL). The agent neither links libmpi
 * nor needs mpi.h: the few parts of Open MPI's ABI it reads are declared
 * here (handles are pointers; MPI_Status is {MPI_SOURCE, MPI_TAG,
 * MPI_ERROR, _cancelled, _ucount} with _ucount the bytes received). It
 * records only under Open MPI (its `ompi_mpi_comm_world` resolves) and
 * after MPI_Init; any other MPI, or a call before MPI_Init, passes through.
 *
 * Every blocking or completing call is a wait of kind mpi on the object
 * WEFT_MPI_OBJ(call, communicator): WAIT_BEGIN before the real call,
 * WAIT_END after it (MPI_Test*: both after, and only a Test that completed
 * something). The agent is busy during the real call, so
 * what libmpi does inside (its locks, polls, sleeps) is not recorded: the
 * thread waits in MPI, whatever MPI does meanwhile. Return values, statuses
 * (MPI_STATUS_IGNORE stays ignored: the wrapper passes its own) and errno
 * are the program's.
 *
 * Messages (MPI_MSG) name both ends in MPI_COMM_WORLD ranks (a communicator's
 * ranks translated once per communicator with PMPI_Group_translate_ranks),
 * the communicator's id (0 for the world, else a hash of its members' world
 * ranks, the same in every member), the tag, the size and the message's
 * number on (communicator, peer, tag, direction): MPI delivers the messages
 * of one sender to one receiver with one tag and communicator in order, so
 * the n-th send matches the n-th receive without any clock. A send is
 * written when it starts (MPI_Isend included); a receive when the call that
 * completed it returns (an MPI_Irecv's request is remembered, in a fixed
 * table, until a Wait or Test completes it). Collectives (MPI_COLL) carry
 * their number on the communicator, the same in every member, which is how
 * the importer finds the last to arrive.
 */
#include "weft-agent-private.h"

#include <dlfcn.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>

/* ---- Open MPI's ABI, as much as this file uses ---- */
typedef void *WComm, *WType, *WReq, *WOp, *WGroup, *WMsg;
typedef struct {
  int source, tag, error, cancelled;
  size_t ucount; /* bytes received */
} WStatus;
#define W_PROC_NULL (-2)
#define W_UNDEFINED (-32766)
#define W_IN_PLACE  ((const void *)1)

/* clang-format off */
#define PMPI_FUNCS(X) \
  X(Init, (int *, char ***)) X(Init_thread, (int *, char ***, int, int *)) X(Finalize, (void)) \
  X(Comm_rank, (WComm, int *)) X(Comm_size, (WComm, int *)) X(Comm_test_inter, (WComm, int *)) X(Comm_remote_size, (WComm, int *)) \
  X(Comm_group, (WComm, WGroup *)) X(Comm_remote_group, (WComm, WGroup *)) \
  X(Group_translate_ranks, (WGroup, int, const int *, WGroup, int *)) X(Group_free, (WGroup *)) \
  X(Type_size, (WType, int *)) X(Comm_free, (WComm *)) X(Request_free, (WReq *)) \
  X(Send, (const void *, int, WType, int, int, WComm)) X(Ssend, (const void *, int, WType, int, int, WComm)) \
  X(Bsend, (const void *, int, WType, int, int, WComm)) X(Rsend, (const void *, int, WType, int, int, WComm)) \
  X(Isend, (const void *, int, WType, int, int, WComm, WReq *)) \
  X(Issend, (const void *, int, WType, int, int, WComm, WReq *)) \
  X(Ibsend, (const void *, int, WType, int, int, WComm, WReq *)) \
  X(Irsend, (const void *, int, WType, int, int, WComm, WReq *)) \
  X(Recv, (void *, int, WType, int, int, WComm, WStatus *)) \
  X(Irecv, (void *, int, WType, int, int, WComm, WReq *)) \
  X(Sendrecv, (const void *, int, WType, int, int, void *, int, WType, int, int, WComm, WStatus *)) \
  X(Sendrecv_replace, (void *, int, WType, int, int, int, int, WComm, WStatus *)) \
  X(Probe, (int, int, WComm, WStatus *)) X(Mprobe, (int, int, WComm, WMsg *, WStatus *)) \
  X(Mrecv, (void *, int, WType, WMsg *, WStatus *)) \
  X(Wait, (WReq *, WStatus *)) X(Waitall, (int, WReq *, WStatus *)) X(Waitany, (int, WReq *, int *, WStatus *)) \
  X(Waitsome, (int, WReq *, int *, int *, WStatus *)) X(Test, (WReq *, int *, WStatus *)) \
  X(Testall, (int, WReq *, int *, WStatus *)) X(Testany, (int, WReq *, int *, int *, WStatus *)) \
  X(Testsome, (int, WReq *, int *, int *, WStatus *)) \
  X(Barrier, (WComm)) X(Bcast, (void *, int, WType, int, WComm)) \
  X(Reduce, (const void *, void *, int, WType, WOp, int, WComm)) \
  X(Allreduce, (const void *, void *, int, WType, WOp, WComm)) \
  X(Gather, (const void *, int, WType, void *, int, WType, int, WComm)) \
  X(Gatherv, (const void *, int, WType, void *, const int *, const int *, WType, int, WComm)) \
  X(Scatter, (const void *, int, WType, void *, int, WType, int, WComm)) \
  X(Scatterv, (const void *, const int *, const int *, WType, void *, int, WType, int, WComm)) \
  X(Allgather, (const void *, int, WType, void *, int, WType, WComm)) \
  X(Allgatherv, (const void *, int, WType, void *, const int *, const int *, WType, WComm)) \
  X(Alltoall, (const void *, int, WType, void *, int, WType, WComm)) \
  X(Alltoallv, (const void *, const int *, const int *, WType, void *, const int *, const int *, WType, WComm)) \
  X(Reduce_scatter, (const void *, void *, const int *, WType, WOp, WComm)) \
  X(Scan, (const void *, void *, int, WType, WOp, WComm))
/* clang-format on */

static struct {
#define PMPI_FIELD(name, args) int(*name) args;
  PMPI_FUNCS(PMPI_FIELD)
#undef PMPI_FIELD
} pm;

/* The wrappers' prototypes (those of the helpers the agent does not wrap are declared, unused). */
#define MPI_PROTO(name, args) WEFT_PUBLIC int MPI_##name args;
PMPI_FUNCS(MPI_PROTO)
#undef MPI_PROTO

static _Atomic int resolved; /* pm is filled (every entry that exists) */
static int ompi;             /* Open MPI: the calls are recorded (after MPI_Init) */
static _Atomic int inited;   /* MPI_Init returned: world_comm and the rank are known */
static WComm world_comm;     /* &ompi_mpi_comm_world */
static int world_rank = -1, world_size;

/* Resolve every PMPI function once (a racing thread stores the same
 * pointers). A wrapper is only called when some loaded object calls MPI, so
 * an MPI library is there. */
static void mpi_resolve(void) {
  int saved = errno;
  weft_busy_enter();
  void *lib = _weft_lib_defining("PMPI_Init", NULL);
#define PMPI_RESOLVE(name, args) pm.name = (int(*) args)_weft_lib_sym(lib, "PMPI_" #name);
  PMPI_FUNCS(PMPI_RESOLVE)
#undef PMPI_RESOLVE
  /* MPI_COMM_WORLD is &ompi_mpi_comm_world as libmpi itself sees it: a
   * program linked with libmpi has its own copy (a copy relocation), which
   * libmpi uses; ompi_mpi_comm_world_addr holds the one in use */
  WComm *addr = _weft_lib_sym(lib, "ompi_mpi_comm_world_addr");
  world_comm = addr ? *addr : NULL;
  ompi = world_comm != NULL && pm.Comm_rank && pm.Comm_size && pm.Comm_test_inter && pm.Comm_group &&
         pm.Group_translate_ranks && pm.Group_free && pm.Type_size;
  weft_busy_leave();
  errno = saved;
  atomic_store_explicit(&resolved, 1, memory_order_release);
}

/* Resolved, and whether this call is recorded. */
static inline int mpi_on(void) {
  if (WEFT_UNLIKELY(!atomic_load_explicit(&resolved, memory_order_acquire))) mpi_resolve();
  return atomic_load_explicit(&inited, memory_order_relaxed) && weft_on();
}

/* The PMPI function, resolved (NULL only when the MPI library lacks it). */
#define PM(name) (mpi_on_resolved(), pm.name)
static inline void mpi_on_resolved(void) {
  if (WEFT_UNLIKELY(!atomic_load_explicit(&resolved, memory_order_acquire))) mpi_resolve();
}

/* ---- communicators ---- */
typedef struct {
  _Atomic uintptr_t comm; /* 0 free, else the handle */
  uint64_t id;            /* WEFT_MPI_COMM_MASK: unknown */
  int size;               /* ranks a peer is given in (an intercommunicator's: its remote group) */
  int *world;             /* their world ranks (NULL: the identity, MPI_COMM_WORLD) */
  _Atomic uint64_t coll;  /* collectives called on it */
} CommEnt;

#define COMM_SLOTS 64
static CommEnt comms[COMM_SLOTS];
static CommEnt world_ent; /* id 0 */
static atomic_flag comm_lock = ATOMIC_FLAG_INIT;

static uint64_t fnv(uint64_t h, uint64_t v) {
  for (int i = 0; i < 8; i++, v >>= 8) h = (h ^ (v & 0xff)) * 0x100000001b3ull;
  return h;
}

/* The world ranks of group g's n members, into w. */
static int group_world(WGroup g, int n, int *w) {
  WGroup wg;
  if (pm.Comm_group(world_comm, &wg) != 0) return -1;
  int *r = malloc((size_t)n * sizeof *r);
  int rc = r ? 0 : -1;
  for (int i = 0; r && i < n; i++) r[i] = i;
  if (r) rc = pm.Group_translate_ranks(g, n, r, wg, w);
  free(r);
  pm.Group_free(&wg);
  return rc;
}

static int cmp_int(const void *a, const void *b) {
  return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* The world ranks of comm c's group (its remote group: remote), malloc'd, *n of them. */
static int *comm_world(WComm c, int remote, int *n) {
  WGroup g;
  if ((remote ? pm.Comm_remote_size(c, n) : pm.Comm_size(c, n)) != 0 || *n <= 0) return NULL;
  if ((remote ? pm.Comm_remote_group(c, &g) : pm.Comm_group(c, &g)) != 0) return NULL;
  int *w = malloc((size_t)*n * sizeof *w);
  if (w && group_world(g, *n, w) != 0) {
    free(w);
    w = NULL;
  }
  pm.Group_free(&g);
  return w;
}

/* The members of comm c: the world ranks of the ranks a peer is named by
 * (an intercommunicator's remote group), and the id every member computes
 * alike (of an intercommunicator: of both groups' members, sorted, as the
 * two sides see them swapped). Busy. */
static int comm_build(WComm c, CommEnt *e) {
  int inter = 0, n = 0, nl = 0;
  if (pm.Comm_test_inter(c, &inter) != 0) return -1;
  if (inter && (!pm.Comm_remote_group || !pm.Comm_remote_size)) return -1;
  e->world = comm_world(c, inter, &n);
  if (!e->world) return -1;
  e->size = n;
  uint64_t h = fnv(0xcbf29ce484222325ull, (uint64_t)n | (uint64_t)inter << 32);
  if (!inter) {
    for (int i = 0; i < n; i++) h = fnv(h, (uint64_t)(uint32_t)e->world[i]);
  } else {
    int *l = comm_world(c, 0, &nl), *all = l ? malloc((size_t)(n + nl) * sizeof *all) : NULL;
    if (all) {
      memcpy(all, e->world, (size_t)n * sizeof *all);
      memcpy(all + n, l, (size_t)nl * sizeof *all);
      qsort(all, (size_t)(n + nl), sizeof *all, cmp_int);
      for (int i = 0; i < n + nl; i++) h = fnv(h, (uint64_t)(uint32_t)all[i]);
    }
    free(l);
    free(all);
  }
  e->id = (h & WEFT_MPI_COMM_MASK) ? h & WEFT_MPI_COMM_MASK : 1;
  return 0;
}

/* Comm c's entry (NULL: no room, or MPI would not say who its members are).
 * A new communicator is looked at once, under a spin lock of our own (no
 * wrapped lock on this path). Busy while it calls MPI. */
static CommEnt *comm_of(WComm c) {
  if (c == world_comm) return &world_ent;
  for (int i = 0; i < COMM_SLOTS; i++)
    if (atomic_load_explicit(&comms[i].comm, memory_order_acquire) == (uintptr_t)c) return &comms[i];
  CommEnt *e = NULL;
  weft_busy_enter();
  while (atomic_flag_test_and_set_explicit(&comm_lock, memory_order_acquire)) {}
  for (int i = 0; i < COMM_SLOTS && !e; i++) /* another thread may have added it meanwhile */
    if (atomic_load_explicit(&comms[i].comm, memory_order_relaxed) == (uintptr_t)c) e = &comms[i];
  for (int i = 0; i < COMM_SLOTS && !e; i++)
    if (atomic_load_explicit(&comms[i].comm, memory_order_relaxed) == 0) {
      if (comm_build(c, &comms[i]) == 0) {
        atomic_store_explicit(&comms[i].coll, 0, memory_order_relaxed);
        atomic_store_explicit(&comms[i].comm, (uintptr_t)c, memory_order_release);
        e = &comms[i];
      }
      break;
    }
  atomic_flag_clear_explicit(&comm_lock, memory_order_release);
  weft_busy_leave();
  return e;
}

static uint64_t comm_id(const CommEnt *e) { return e ? e->id : WEFT_MPI_COMM_MASK; }

/* A rank of comm e as a world rank (-1: none, or unknown). */
static int32_t world_of(const CommEnt *e, int r) {
  if (!e || r < 0) return -1;
  if (!e->world) return r < world_size ? r : -1;
  return r < e->size ? e->world[r] : -1;
}

/* A freed communicator's handle may come back for another: forget it. */
static void comm_forget(WComm c) {
  while (atomic_flag_test_and_set_explicit(&comm_lock, memory_order_acquire)) {}
  for (int i = 0; i < COMM_SLOTS; i++)
    if (atomic_load_explicit(&comms[i].comm, memory_order_relaxed) == (uintptr_t)c) {
      atomic_store_explicit(&comms[i].comm, 0, memory_order_release);
      free(comms[i].world);
      comms[i].world = NULL;
    }
  atomic_flag_clear_explicit(&comm_lock, memory_order_release);
}

/* ---- message numbers: (communicator, direction, peer, tag) -> messages so far ---- */
typedef struct {
  _Atomic uint64_t a; /* comm id | direction << 56 | 1 << 63 (0: free) */
  _Atomic uint64_t b; /* WEFT_MPI_PAIR(peer, tag) */
  _Atomic uint64_t n;
  _Atomic int ready; /* a and b written */
} SeqEnt;

#define SEQ_SLOTS 8192u
static void *_Atomic seq_table;

/* The number of this message (the n-th from 0; ~0 when the table is full). */
static uint64_t seq_next(uint64_t comm, unsigned dir, int32_t peer, int32_t tag) {
  SeqEnt *tab = _weft_map_once(&seq_table, SEQ_SLOTS * sizeof(SeqEnt));
  if (!tab) return ~0ull;
  uint64_t a = comm | (uint64_t)dir << 56 | 1ull << 63, b = WEFT_MPI_PAIR(peer, tag);
  uint32_t h = (uint32_t)((a ^ b * 0x9e3779b97f4a7c15ull) * 0x9e3779b97f4a7c15ull >> 40);
  for (uint32_t k = 0; k < SEQ_SLOTS; k++) {
    SeqEnt *e = &tab[(h + k) & (SEQ_SLOTS - 1)];
    uint64_t cur = atomic_load_explicit(&e->a, memory_order_acquire);
    if (cur == 0 && atomic_compare_exchange_strong(&e->a, &cur, a)) {
      atomic_store_explicit(&e->b, b, memory_order_relaxed);
      atomic_store_explicit(&e->ready, 1, memory_order_release);
      return atomic_fetch_add_explicit(&e->n, 1, memory_order_relaxed);
    }
    if (cur != a) continue;
    while (!atomic_load_explicit(&e->ready, memory_order_acquire)) {}
    if (atomic_load_explicit(&e->b, memory_order_relaxed) == b)
      return atomic_fetch_add_explicit(&e->n, 1, memory_order_relaxed);
  }
  return ~0ull;
}

/* ---- receives in flight: an MPI_Irecv's request (or an MPI_Mprobe's
 * message) -> its communicator, until the call that completes it ---- */
typedef struct {
  _Atomic uintptr_t req; /* 0 free, 1 freed (a tombstone), else the handle */
  CommEnt *comm;
} ReqEnt;

#define REQ_SLOTS 4096u
#define REQ_FREED 1u
static ReqEnt reqs[REQ_SLOTS];

static uint32_t req_hash(uintptr_t r) { return (uint32_t)((r >> 3) * 0x9e3779b97f4a7c15ull >> 40); }

static void req_put(WReq r, CommEnt *c) {
  if (!r) return;
  uint32_t h = req_hash((uintptr_t)r);
  for (uint32_t k = 0; k < REQ_SLOTS; k++) {
    ReqEnt *e = &reqs[(h + k) & (REQ_SLOTS - 1)];
    uintptr_t cur = atomic_load_explicit(&e->req, memory_order_relaxed);
    if ((cur == 0 || cur == REQ_FREED) && atomic_compare_exchange_strong(&e->req, &cur, (uintptr_t)REQ_FREED + 1)) {
      e->comm = c;
      atomic_store_explicit(&e->req, (uintptr_t)r, memory_order_release);
      return;
    }
  }
}

/* Take r's entry out: 1 and its communicator if it was a receive. */
static int req_take(WReq r, CommEnt **c) {
  if (!r) return 0;
  uint32_t h = req_hash((uintptr_t)r);
  for (uint32_t k = 0; k < REQ_SLOTS; k++) {
    ReqEnt *e = &reqs[(h + k) & (REQ_SLOTS - 1)];
    uintptr_t cur = atomic_load_explicit(&e->req, memory_order_acquire);
    if (cur == 0) return 0;
    if (cur == (uintptr_t)r && atomic_compare_exchange_strong(&e->req, &cur, REQ_FREED)) {
      *c = e->comm;
      return 1;
    }
  }
  return 0;
}

/* ---- records ---- */
static unsigned mpi_result(int rc) { return rc < 0 || rc > 255 ? 255u : (unsigned)rc; }

static uint64_t type_bytes(WType t, int count) {
  int sz = 0;
  if (!t || count <= 0 || pm.Type_size(t, &sz) != 0 || sz < 0) return 0;
  return (uint64_t)count * (uint64_t)sz;
}

/* A message sent (at the send's start) or received (just after the call
 * that completed it). peer: a world rank. */
static void msg_record(unsigned dir, unsigned call, const CommEnt *c, int32_t peer, int32_t tag, uint64_t bytes) {
  if (peer < 0) return; /* MPI_PROC_NULL, or a rank not known */
  uint64_t seq = seq_next(comm_id(c), dir, peer, tag);
  WeftThread *t = &_weft_tls;
  uint64_t now = weft_ticks();
  uint64_t *p = weft_reserve(t, 5, &now);
  if (!p) return;
  weft_enc_mpi_msg(p, comm_id(c), peer, tag, bytes, seq);
  weft_publish(t, p, WEFT_EV_MPI_MSG, 5, WEFT_MPI_MSG_AUX(dir, call), now);
}

static void send_record(unsigned call, WComm comm, int dest, int tag, WType type, int count) {
  CommEnt *c = comm_of(comm);
  msg_record(WEFT_MPI_MSG_SEND, call, c, world_of(c, dest), tag, type_bytes(type, count));
}

/* A receive completed with status s (on comm c). */
static void recv_record(unsigned call, const CommEnt *c, const WStatus *s) {
  if (s->source < 0 || s->cancelled) return;
  msg_record(WEFT_MPI_MSG_RECV, call, c, world_of(c, s->source), s->tag, (uint64_t)s->ucount);
}

/* The request r (copied before the call that completed it) was a receive:
 * its message. */
static void req_done(unsigned call, WReq r, const WStatus *s) {
  CommEnt *c;
  if (req_take(r, &c)) recv_record(call, c, s);
}

/* A blocking call: WAIT_BEGIN now; the caller is busy until mpi_wait_end. */
static uint64_t mpi_wait_begin(unsigned call, uint64_t comm) {
  uint64_t t0 = weft_wait_begin(WEFT_AUX(WEFT_KIND_MPI, 0, 0), WEFT_MPI_OBJ(call, comm), 0, 0);
  weft_busy_enter();
  return t0;
}

static uint64_t mpi_wait_end(unsigned call, uint64_t comm, int rc) {
  weft_busy_leave();
  return weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_MPI, 0, mpi_result(rc)), WEFT_MPI_OBJ(call, comm));
}

/* A Test that completed, written after it returned: its WAIT_BEGIN at t0
 * (not before the thread's last record), its WAIT_END now. */
static uint64_t mpi_wait_after(unsigned call, uint64_t comm, uint64_t t0, int rc) {
  WeftThread *t = &_weft_tls;
  uint64_t obj = WEFT_MPI_OBJ(call, comm);
  if (t0 < t->last) t0 = t->last;
  uint64_t *p = weft_reserve(t, 4, &t0);
  if (p) {
    weft_enc_wait_begin(p, obj, 0, 0, 0);
    weft_publish(t, p, WEFT_EV_WAIT_BEGIN, 4, WEFT_AUX(WEFT_KIND_MPI, 0, 0), t0);
  }
  t->wait_t0 = t0;
  return weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_MPI, 0, mpi_result(rc)), obj);
}

/* A collective's record, at its WAIT_BEGIN's tick t0. */
static void coll_record(unsigned call, CommEnt *c, uint64_t t0, uint64_t bytes, int root) {
  WeftThread *t = &_weft_tls;
  uint64_t seq = c ? atomic_fetch_add_explicit(&c->coll, 1, memory_order_relaxed) : ~0ull;
  int32_t r = root >= 0 ? world_of(c, root) : -1;
  int size = c ? (c->world ? c->size : world_size) : 0;
  weft_busy_leave(); /* the reservation refuses a busy thread */
  uint64_t *p = weft_reserve(t, 5, &t0);
  if (p) {
    weft_enc_mpi_coll(p, comm_id(c), seq, bytes, r >= 0 ? (uint32_t)r : WEFT_MPI_NO_RANK, (uint32_t)size);
    weft_publish(t, p, WEFT_EV_MPI_COLL, 5, call, t0);
  }
  weft_busy_enter();
}

static void rank_record(unsigned from, uint64_t rank, uint64_t size) {
  if (rank < size) weft_emit2(WEFT_EV_MPI_RANK, from, rank, size);
}

/* At the agent's start: the rank Open MPI's launcher gave the process. */
WEFT_START_CODE void _weft_mpi_env_rank(void) {
  const char *r = getenv("OMPI_COMM_WORLD_RANK"), *n = getenv("OMPI_COMM_WORLD_SIZE");
  if (!r || !n || !*r || !*n) return;
  char *e1, *e2;
  unsigned long rank = strtoul(r, &e1, 10), size = strtoul(n, &e2, 10);
  if (!*e1 && !*e2 && size <= UINT32_MAX) rank_record(WEFT_MPI_RANK_ENV, rank, size);
}

/* ---- MPI_Init, MPI_Finalize ---- */
/* After MPI_Init returned rc: the rank and world size, and recording on. */
static void init_done(int rc) {
  if (rc != 0 || !ompi || pm.Comm_rank(world_comm, &world_rank) != 0 || pm.Comm_size(world_comm, &world_size) != 0)
    return;
  world_ent.id = 0;
  world_ent.size = world_size;
  atomic_store_explicit(&inited, 1, memory_order_release);
}

/* MPI_Init is a wait like any MPI call (its time is MPI's, not the
 * program's work): the threads Open MPI starts inside it start while the
 * agent is busy, unannounced, and are traced from their first record. */
static int init_wrap(unsigned call, int *argc, char ***argv, int required, int *provided) {
  mpi_on_resolved();
  int on = ompi && weft_on();
  if (on) mpi_wait_begin(call, 0);
  int rc = call == WEFT_MPI_INIT ? pm.Init(argc, argv) : pm.Init_thread(argc, argv, required, provided), e = errno;
  if (on) weft_busy_leave();
  init_done(rc);
  if (on) {
    uint64_t t1 = weft_emit1(WEFT_EV_WAIT_END, WEFT_AUX(WEFT_KIND_MPI, 0, mpi_result(rc)), WEFT_MPI_OBJ(call, 0));
    if (rc == 0) rank_record(WEFT_MPI_RANK_INIT, (uint64_t)world_rank, (uint64_t)world_size);
    weft_wait_ended(t1);
  }
  errno = e;
  return rc;
}

WEFT_PUBLIC int MPI_Init(int *argc, char ***argv) { return init_wrap(WEFT_MPI_INIT, argc, argv, 0, NULL); }

WEFT_PUBLIC int MPI_Init_thread(int *argc, char ***argv, int required, int *provided) {
  return init_wrap(WEFT_MPI_INIT_THREAD, argc, argv, required, provided);
}

WEFT_PUBLIC int MPI_Finalize(void) {
  if (!mpi_on()) return PM(Finalize)();
  mpi_wait_begin(WEFT_MPI_FINALIZE, 0);
  int rc = pm.Finalize(), e = errno;
  atomic_store_explicit(&inited, 0, memory_order_relaxed); /* no MPI call may follow */
  weft_wait_ended(mpi_wait_end(WEFT_MPI_FINALIZE, 0, rc));
  errno = e;
  return rc;
}

/* ---- point to point ---- */
typedef int (*SendFn)(const void *, int, WType, int, int, WComm);
typedef int (*ISendFn)(const void *, int, WType, int, int, WComm, WReq *);

static int send_wait(unsigned call, SendFn fn, const void *b, int n, WType ty, int dest, int tag, WComm comm) {
  CommEnt *c = comm_of(comm);
  msg_record(WEFT_MPI_MSG_SEND, call, c, world_of(c, dest), tag, type_bytes(ty, n));
  mpi_wait_begin(call, comm_id(c));
  int rc = fn(b, n, ty, dest, tag, comm), e = errno;
  weft_wait_ended(mpi_wait_end(call, comm_id(c), rc));
  errno = e;
  return rc;
}

/* A nonblocking send: its message now, no wait (its Wait is one). */
static int send_post(unsigned call, ISendFn fn, const void *b, int n, WType ty, int dest, int tag, WComm comm,
                     WReq *req) {
  send_record(call, comm, dest, tag, ty, n);
  weft_busy_enter();
  int rc = fn(b, n, ty, dest, tag, comm, req), e = errno;
  weft_busy_leave();
  CommEnt *stale;
  if (rc == 0 && req) req_take(*req, &stale); /* a receive's handle, freed unseen and given out again */
  errno = e;
  return rc;
}

/* clang-format off */
#define SEND_WRAPPERS(X) X(Send, SEND) X(Ssend, SSEND) X(Bsend, BSEND) X(Rsend, RSEND)
#define ISEND_WRAPPERS(X) X(Isend, ISEND) X(Issend, ISSEND) X(Ibsend, IBSEND) X(Irsend, IRSEND)
/* clang-format on */
#define SEND_WRAPPER(name, CALL)                                                           \
  WEFT_PUBLIC int MPI_##name(const void *b, int n, WType ty, int dest, int tag, WComm c) { \
    if (!mpi_on()) return PM(name)(b, n, ty, dest, tag, c);                                \
    return send_wait(WEFT_MPI_##CALL, pm.name, b, n, ty, dest, tag, c);                    \
  }
#define ISEND_WRAPPER(name, CALL)                                                                   \
  WEFT_PUBLIC int MPI_##name(const void *b, int n, WType ty, int dest, int tag, WComm c, WReq *r) { \
    if (!mpi_on()) return PM(name)(b, n, ty, dest, tag, c, r);                                      \
    return send_post(WEFT_MPI_##CALL, pm.name, b, n, ty, dest, tag, c, r);                          \
  }
SEND_WRAPPERS(SEND_WRAPPER)
ISEND_WRAPPERS(ISEND_WRAPPER)

WEFT_PUBLIC int MPI_Recv(void *b, int n, WType ty, int src, int tag, WComm comm, WStatus *st) {
  if (!mpi_on()) return PM(Recv)(b, n, ty, src, tag, comm, st);
  CommEnt *c = comm_of(comm);
  WStatus own, *s = st ? st : &own;
  mpi_wait_begin(WEFT_MPI_RECV, comm_id(c));
  int rc = pm.Recv(b, n, ty, src, tag, comm, s), e = errno;
  uint64_t t1 = mpi_wait_end(WEFT_MPI_RECV, comm_id(c), rc);
  if (rc == 0) recv_record(WEFT_MPI_RECV, c, s);
  weft_wait_ended(t1);
  errno = e;
  return rc;
}

WEFT_PUBLIC int MPI_Irecv(void *b, int n, WType ty, int src, int tag, WComm comm, WReq *req) {
  if (!mpi_on()) return PM(Irecv)(b, n, ty, src, tag, comm, req);
  CommEnt *c = comm_of(comm);
  weft_busy_enter();
  int rc = pm.Irecv(b, n, ty, src, tag, comm, req), e = errno;
  weft_busy_leave();
  if (rc == 0 && req) req_put(*req, c);
  errno = e;
  return rc;
}

WEFT_PUBLIC int MPI_Sendrecv(const void *sb, int sn, WType sty, int dest, int stag, void *rb, int rn, WType rty,
                             int src, int rtag, WComm comm, WStatus *st) {
  if (!mpi_on()) return PM(Sendrecv)(sb, sn, sty, dest, stag, rb, rn, rty, src, rtag, comm, st);
  CommEnt *c = comm_of(comm);
  WStatus own, *s = st ? st : &own;
  msg_record(WEFT_MPI_MSG_SEND, WEFT_MPI_SENDRECV, c, world_of(c, dest), stag, type_bytes(sty, sn));
  mpi_wait_begin(WEFT_MPI_SENDRECV, comm_id(c));
  int rc = pm.Sendrecv(sb, sn, sty, dest, stag, rb, rn, rty, src, rtag, comm, s), e = errno;
  uint64_t t1 = mpi_wait_end(WEFT_MPI_SENDRECV, comm_id(c), rc);
  if (rc == 0) recv_record(WEFT_MPI_SENDRECV, c, s);
  weft_wait_ended(t1);
  errno = e;
  return rc;
}

WEFT_PUBLIC int MPI_Sendrecv_replace(void *b, int n, WType ty, int dest, int stag, int src, int rtag, WComm comm,
                                     WStatus *st) {
  if (!mpi_on()) return PM(Sendrecv_replace)(b, n, ty, dest, stag, src, rtag, comm, st);
  CommEnt *c = comm_of(comm);
  WStatus own, *s = st ? st : &own;
  msg_record(WEFT_MPI_MSG_SEND, WEFT_MPI_SENDRECV_REPLACE, c, world_of(c, dest), stag, type_bytes(ty, n));
  mpi_wait_begin(WEFT_MPI_SENDRECV_REPLACE, comm_id(c));
  int rc = pm.Sendrecv_replace(b, n, ty, dest, stag, src, rtag, comm, s), e = errno;
  uint64_t t1 = mpi_wait_end(WEFT_MPI_SENDRECV_REPLACE, comm_id(c), rc);
  if (rc == 0) recv_record(WEFT_MPI_SENDRECV_REPLACE, c, s);
  weft_wait_ended(t1);
  errno = e;
  return rc;
}

WEFT_PUBLIC int MPI_Probe(int src, int tag, WComm comm, WStatus *st) {
  if (!mpi_on()) return PM(Probe)(src, tag, comm, st);
  CommEnt *c = comm_of(comm);
  mpi_wait_begin(WEFT_MPI_PROBE, comm_id(c));
  int rc = pm.Probe(src, tag, comm, st), e = errno;
  weft_wait_ended(mpi_wait_end(WEFT_MPI_PROBE, comm_id(c), rc));
  errno = e;
  return rc;
}

/* mpi4py's comm.recv: MPI_Mprobe waits, MPI_Mrecv receives the message it matched. */
WEFT_PUBLIC int MPI_Mprobe(int src, int tag, WComm comm, WMsg *msg, WStatus *st) {
  if (!mpi_on()) return PM(Mprobe)(src, tag, comm, msg, st);
  CommEnt *c = comm_of(comm);
  mpi_wait_begin(WEFT_MPI_MPROBE, comm_id(c));
  int rc = pm.Mprobe(src, tag, comm, msg, st), e = errno;
  uint64_t t1 = mpi_wait_end(WEFT_MPI_MPROBE, comm_id(c), rc);
  if (rc == 0 && msg) req_put(*msg, c);
  weft_wait_ended(t1);
  errno = e;
  return rc;
}

WEFT_PUBLIC int MPI_Mrecv(void *b, int n, WType ty, WMsg *msg, WStatus *st) {
  if (!mpi_on()) return PM(Mrecv)(b, n, ty, msg, st);
  CommEnt *c = NULL;
  int known = msg && req_take(*msg, &c);
  WStatus own, *s = st ? st : &own;
  mpi_wait_begin(WEFT_MPI_MRECV, comm_id(c));
  int rc = pm.Mrecv(b, n, ty, msg, s), e = errno;
  uint64_t t1 = mpi_wait_end(WEFT_MPI_MRECV, comm_id(c), rc);
  if (rc == 0 && known) recv_record(WEFT_MPI_MRECV, c, s);
  weft_wait_ended(t1);
  errno = e;
  return rc;
}

/* ---- completion: Wait*, Test* ---- */
#define REQ_MAX 256 /* requests of one call whose receives are recorded */
typedef struct {
  WReq r[REQ_MAX];
  WStatus s[REQ_MAX];
  int n;
} ReqCopy;

/* The requests before the call completes (and frees) them; the statuses to
 * pass (the caller's, or ours for MPI_STATUSES_IGNORE; NULL past REQ_MAX). */
static WStatus *reqs_copy(ReqCopy *rc, int n, const WReq *r, WStatus *sts) {
  rc->n = r && n > 0 && n <= REQ_MAX ? n : 0;
  if (rc->n) memcpy(rc->r, r, (size_t)n * sizeof *r);
  return sts ? sts : rc->n ? rc->s : NULL;
}

/* The receives among the requests a call completed (rc == 0): all cp->n of
 * them (idx NULL), or the n at idx[0..n); s[i] is the i-th one's status. */
static void reqs_done(unsigned call, int rc, const ReqCopy *cp, const WStatus *s, const int *idx, int n) {
  for (int i = 0; rc == 0 && s && i < n && n != W_UNDEFINED; i++) {
    int k = idx ? idx[i] : i;
    if (k >= 0 && k < cp->n) req_done(call, cp->r[k], &s[i]);
  }
}

/* After a Wait*: its WAIT_END, then the messages it received. */
static int wait_done(unsigned call, int rc, const ReqCopy *cp, const WStatus *s, const int *idx, int n) {
  int e = errno;
  uint64_t t1 = mpi_wait_end(call, 0, rc);
  reqs_done(call, rc, cp, s, idx, n);
  weft_wait_ended(t1);
  errno = e;
  return rc;
}

/* After a Test* (begun at t0, busy since): a wait only when it completed
 * something (done), written now. */
static int test_done(unsigned call, int rc, int done, uint64_t t0, const ReqCopy *cp, const WStatus *s, const int *idx,
                     int n) {
  int e = errno;
  weft_busy_leave();
  if (rc == 0 && done) {
    uint64_t t1 = mpi_wait_after(call, 0, t0, rc);
    reqs_done(call, rc, cp, s, idx, n);
    weft_wait_ended(t1);
  }
  errno = e;
  return rc;
}

WEFT_PUBLIC int MPI_Wait(WReq *req, WStatus *st) {
  if (!mpi_on()) return PM(Wait)(req, st);
  ReqCopy cp;
  WStatus own, *s = st ? st : &own;
  reqs_copy(&cp, 1, req, s);
  mpi_wait_begin(WEFT_MPI_WAIT, 0);
  return wait_done(WEFT_MPI_WAIT, pm.Wait(req, s), &cp, s, NULL, 1);
}

WEFT_PUBLIC int MPI_Waitall(int n, WReq *reqv, WStatus *sts) {
  if (!mpi_on()) return PM(Waitall)(n, reqv, sts);
  ReqCopy cp;
  WStatus *s = reqs_copy(&cp, n, reqv, sts);
  mpi_wait_begin(WEFT_MPI_WAITALL, 0);
  return wait_done(WEFT_MPI_WAITALL, pm.Waitall(n, reqv, s), &cp, s, NULL, cp.n);
}

WEFT_PUBLIC int MPI_Waitany(int n, WReq *reqv, int *idx, WStatus *st) {
  if (!mpi_on()) return PM(Waitany)(n, reqv, idx, st);
  ReqCopy cp;
  WStatus own, *s = st ? st : &own;
  reqs_copy(&cp, n, reqv, s);
  mpi_wait_begin(WEFT_MPI_WAITANY, 0);
  return wait_done(WEFT_MPI_WAITANY, pm.Waitany(n, reqv, idx, s), &cp, s, idx, idx ? 1 : 0);
}

WEFT_PUBLIC int MPI_Waitsome(int n, WReq *reqv, int *outcount, int *idxs, WStatus *sts) {
  if (!mpi_on()) return PM(Waitsome)(n, reqv, outcount, idxs, sts);
  ReqCopy cp;
  WStatus *s = reqs_copy(&cp, n, reqv, sts);
  mpi_wait_begin(WEFT_MPI_WAITSOME, 0);
  int rc = pm.Waitsome(n, reqv, outcount, idxs, s);
  return wait_done(WEFT_MPI_WAITSOME, rc, &cp, s, idxs, outcount && idxs ? *outcount : 0);
}

/* A Test is a wait only when it completed something: written after it returned. */
WEFT_PUBLIC int MPI_Test(WReq *req, int *flag, WStatus *st) {
  if (!mpi_on()) return PM(Test)(req, flag, st);
  ReqCopy cp;
  WStatus own, *s = st ? st : &own;
  reqs_copy(&cp, 1, req, s);
  uint64_t t0 = weft_ticks();
  weft_busy_enter();
  int rc = pm.Test(req, flag, s);
  return test_done(WEFT_MPI_TEST, rc, flag && *flag, t0, &cp, s, NULL, 1);
}

WEFT_PUBLIC int MPI_Testall(int n, WReq *reqv, int *flag, WStatus *sts) {
  if (!mpi_on()) return PM(Testall)(n, reqv, flag, sts);
  ReqCopy cp;
  WStatus *s = reqs_copy(&cp, n, reqv, sts);
  uint64_t t0 = weft_ticks();
  weft_busy_enter();
  int rc = pm.Testall(n, reqv, flag, s);
  return test_done(WEFT_MPI_TESTALL, rc, flag && *flag, t0, &cp, s, NULL, cp.n);
}

WEFT_PUBLIC int MPI_Testany(int n, WReq *reqv, int *idx, int *flag, WStatus *st) {
  if (!mpi_on()) return PM(Testany)(n, reqv, idx, flag, st);
  ReqCopy cp;
  WStatus own, *s = st ? st : &own;
  reqs_copy(&cp, n, reqv, s);
  uint64_t t0 = weft_ticks();
  weft_busy_enter();
  int rc = pm.Testany(n, reqv, idx, flag, s);
  return test_done(WEFT_MPI_TESTANY, rc, flag && *flag, t0, &cp, s, idx, idx ? 1 : 0);
}

WEFT_PUBLIC int MPI_Testsome(int n, WReq *reqv, int *outcount, int *idxs, WStatus *sts) {
  if (!mpi_on()) return PM(Testsome)(n, reqv, outcount, idxs, sts);
  ReqCopy cp;
  WStatus *s = reqs_copy(&cp, n, reqv, sts);
  uint64_t t0 = weft_ticks();
  weft_busy_enter();
  int rc = pm.Testsome(n, reqv, outcount, idxs, s);
  int done = outcount && *outcount > 0 && *outcount != W_UNDEFINED;
  return test_done(WEFT_MPI_TESTSOME, rc, done, t0, &cp, s, idxs, done && idxs ? *outcount : 0);
}

WEFT_PUBLIC int MPI_Request_free(WReq *req) {
  CommEnt *c;
  if (mpi_on() && req) req_take(*req, &c);
  return PM(Request_free)(req);
}

WEFT_PUBLIC int MPI_Comm_free(WComm *comm) {
  if (mpi_on() && comm) comm_forget(*comm);
  return PM(Comm_free)(comm);
}

/* ---- collectives ---- */
/* A collective on comm: a wait, and its MPI_COLL (its number on comm) at the
 * same tick. bytes: what this rank contributes. */
#define COLLECTIVE(CALL, comm, bytes, root, invoke)                   \
  do {                                                                \
    CommEnt *c_ = comm_of(comm);                                      \
    uint64_t b_ = (bytes);                                            \
    uint64_t t0_ = mpi_wait_begin(WEFT_MPI_##CALL, comm_id(c_));      \
    coll_record(WEFT_MPI_##CALL, c_, t0_, b_, (root));                \
    int rc_ = (invoke), e_ = errno;                                   \
    weft_wait_ended(mpi_wait_end(WEFT_MPI_##CALL, comm_id(c_), rc_)); \
    errno = e_;                                                       \
    return rc_;                                                       \
  } while (0)

static uint64_t sum_bytes(const int *counts, int n, WType ty) {
  uint64_t s = 0;
  for (int i = 0; counts && i < n; i++) s += type_bytes(ty, counts[i]);
  return s;
}

static int comm_size_of(WComm comm) {
  CommEnt *c = comm_of(comm);
  return c ? (c->world ? c->size : world_size) : 0;
}

WEFT_PUBLIC int MPI_Barrier(WComm comm) {
  if (!mpi_on()) return PM(Barrier)(comm);
  COLLECTIVE(BARRIER, comm, 0, -1, pm.Barrier(comm));
}

WEFT_PUBLIC int MPI_Bcast(void *b, int n, WType ty, int root, WComm comm) {
  if (!mpi_on()) return PM(Bcast)(b, n, ty, root, comm);
  COLLECTIVE(BCAST, comm, type_bytes(ty, n), root, pm.Bcast(b, n, ty, root, comm));
}

WEFT_PUBLIC int MPI_Reduce(const void *sb, void *rb, int n, WType ty, WOp op, int root, WComm comm) {
  if (!mpi_on()) return PM(Reduce)(sb, rb, n, ty, op, root, comm);
  COLLECTIVE(REDUCE, comm, type_bytes(ty, n), root, pm.Reduce(sb, rb, n, ty, op, root, comm));
}

WEFT_PUBLIC int MPI_Allreduce(const void *sb, void *rb, int n, WType ty, WOp op, WComm comm) {
  if (!mpi_on()) return PM(Allreduce)(sb, rb, n, ty, op, comm);
  COLLECTIVE(ALLREDUCE, comm, type_bytes(ty, n), -1, pm.Allreduce(sb, rb, n, ty, op, comm));
}

WEFT_PUBLIC int MPI_Scan(const void *sb, void *rb, int n, WType ty, WOp op, WComm comm) {
  if (!mpi_on()) return PM(Scan)(sb, rb, n, ty, op, comm);
  COLLECTIVE(SCAN, comm, type_bytes(ty, n), -1, pm.Scan(sb, rb, n, ty, op, comm));
}

WEFT_PUBLIC int MPI_Reduce_scatter(const void *sb, void *rb, const int *rn, WType ty, WOp op, WComm comm) {
  if (!mpi_on()) return PM(Reduce_scatter)(sb, rb, rn, ty, op, comm);
  COLLECTIVE(REDUCE_SCATTER, comm, sum_bytes(rn, comm_size_of(comm), ty), -1,
             pm.Reduce_scatter(sb, rb, rn, ty, op, comm));
}

/* The send side's arguments are ignored where the buffer is MPI_IN_PLACE
 * (or, for a root-only argument, at the other ranks): only those the
 * standard says are significant are read. */
WEFT_PUBLIC int MPI_Gather(const void *sb, int sn, WType sty, void *rb, int rn, WType rty, int root, WComm comm) {
  if (!mpi_on()) return PM(Gather)(sb, sn, sty, rb, rn, rty, root, comm);
  COLLECTIVE(GATHER, comm, sb == W_IN_PLACE ? type_bytes(rty, rn) : type_bytes(sty, sn), root,
             pm.Gather(sb, sn, sty, rb, rn, rty, root, comm));
}

WEFT_PUBLIC int MPI_Gatherv(const void *sb, int sn, WType sty, void *rb, const int *rn, const int *displs, WType rty,
                            int root, WComm comm) {
  if (!mpi_on()) return PM(Gatherv)(sb, sn, sty, rb, rn, displs, rty, root, comm);
  COLLECTIVE(GATHERV, comm, sb == W_IN_PLACE ? 0 : type_bytes(sty, sn), root,
             pm.Gatherv(sb, sn, sty, rb, rn, displs, rty, root, comm));
}

WEFT_PUBLIC int MPI_Scatter(const void *sb, int sn, WType sty, void *rb, int rn, WType rty, int root, WComm comm) {
  if (!mpi_on()) return PM(Scatter)(sb, sn, sty, rb, rn, rty, root, comm);
  COLLECTIVE(SCATTER, comm, rb == W_IN_PLACE ? type_bytes(sty, sn) : type_bytes(rty, rn), root,
             pm.Scatter(sb, sn, sty, rb, rn, rty, root, comm));
}

WEFT_PUBLIC int MPI_Scatterv(const void *sb, const int *sn, const int *displs, WType sty, void *rb, int rn, WType rty,
                             int root, WComm comm) {
  if (!mpi_on()) return PM(Scatterv)(sb, sn, displs, sty, rb, rn, rty, root, comm);
  COLLECTIVE(SCATTERV, comm, rb == W_IN_PLACE ? 0 : type_bytes(rty, rn), root,
             pm.Scatterv(sb, sn, displs, sty, rb, rn, rty, root, comm));
}

WEFT_PUBLIC int MPI_Allgather(const void *sb, int sn, WType sty, void *rb, int rn, WType rty, WComm comm) {
  if (!mpi_on()) return PM(Allgather)(sb, sn, sty, rb, rn, rty, comm);
  COLLECTIVE(ALLGATHER, comm, sb == W_IN_PLACE ? type_bytes(rty, rn) : type_bytes(sty, sn), -1,
             pm.Allgather(sb, sn, sty, rb, rn, rty, comm));
}

WEFT_PUBLIC int MPI_Allgatherv(const void *sb, int sn, WType sty, void *rb, const int *rn, const int *displs, WType rty,
                               WComm comm) {
  if (!mpi_on()) return PM(Allgatherv)(sb, sn, sty, rb, rn, displs, rty, comm);
  COLLECTIVE(ALLGATHERV, comm, sb == W_IN_PLACE ? 0 : type_bytes(sty, sn), -1,
             pm.Allgatherv(sb, sn, sty, rb, rn, displs, rty, comm));
}

WEFT_PUBLIC int MPI_Alltoall(const void *sb, int sn, WType sty, void *rb, int rn, WType rty, WComm comm) {
  if (!mpi_on()) return PM(Alltoall)(sb, sn, sty, rb, rn, rty, comm);
  COLLECTIVE(ALLTOALL, comm,
             (sb == W_IN_PLACE ? type_bytes(rty, rn) : type_bytes(sty, sn)) * (uint64_t)comm_size_of(comm), -1,
             pm.Alltoall(sb, sn, sty, rb, rn, rty, comm));
}

WEFT_PUBLIC int MPI_Alltoallv(const void *sb, const int *sn, const int *sd, WType sty, void *rb, const int *rn,
                              const int *rd, WType rty, WComm comm) {
  if (!mpi_on()) return PM(Alltoallv)(sb, sn, sd, sty, rb, rn, rd, rty, comm);
  COLLECTIVE(ALLTOALLV, comm, sb == W_IN_PLACE ? 0 : sum_bytes(sn, comm_size_of(comm), sty), -1,
             pm.Alltoallv(sb, sn, sd, sty, rb, rn, rd, rty, comm));
}
