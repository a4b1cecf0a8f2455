/* mpi.c - MPI (trace v6): ranks, messages and collectives across processes.
 * SPDX-License-Identifier: MIT
 *
 * Pass 2 hands this file the MPI records of each file: a process's rank
 * (MPI_RANK), each message sent or received (MPI_MSG) and each collective
 * entered (MPI_COLL) with the wait it is part of; pass 1 has read each
 * process's rank, so a message's row carries its key whatever order the
 * threads' chunks are read in. Once every file is read,
 * link_mpi matches them across processes, by numbers the agent gave, not
 * by time: the n-th message of rank A to rank B on one communicator with
 * one tag is the n-th B received from A there (MPI's non-overtaking
 * order), a flow from the send's start to the end of the wait that
 * received it; the members of one collective share its (communicator,
 * number), and the rank the others waited for (the last to enter, or a
 * broadcast's root; a gather's root waits for the last) has a flow from its
 * entry to each exit that came after it. Each flow also names its
 * source as the waker of the wait it ended. Messages and collectives go
 * into external sorts (util/weft-spill.c) as they are read, by those
 * numbers, and are matched as they stream out: memory does not grow with
 * them.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>

#include "import-private.h"

/* An MPI wait's object is named by its call (and communicator, but the world's). */
void mpi_name_objects(Imp *im) {
  for (guint i = 0; i < im->objlist->len; i++) {
    Obj *o = im->objlist->pdata[i];
    gpointer key = GSIZE_TO_POINTER((gsize)o->addr);
    if (o->kind != WEFT_KIND_MPI || g_hash_table_contains(im->names, key)) continue;
    const char *call = weft_mpi_call_name(WEFT_MPI_OBJ_CALL(o->addr));
    uint64_t comm = WEFT_MPI_OBJ_COMM(o->addr);
    if (!call) call = "MPI";
    g_hash_table_insert(im->names, key,
                        comm ? g_strdup_printf("%s (communicator %012" PRIx64 ")", call, comm) : g_strdup(call));
  }
}

/* The message's key: communicator, sender, receiver, tag, number. */
typedef struct {
  uint64_t comm, seq;
  int64_t from, to, tag;
} MsgKey;

static MsgKey msg_key(const MpiMsg *m) {
  return (MsgKey){m->comm, m->seq, m->recv ? m->peer : m->self, m->recv ? m->self : m->peer, m->tag};
}

static int key_cmp(const MsgKey *a, const MsgKey *b) {
  if (a->comm != b->comm) return a->comm < b->comm ? -1 : 1;
  if (a->from != b->from) return a->from < b->from ? -1 : 1;
  if (a->to != b->to) return a->to < b->to ? -1 : 1;
  if (a->tag != b->tag) return a->tag < b->tag ? -1 : 1;
  return (a->seq > b->seq) - (a->seq < b->seq);
}

static int cmp_msg(const void *x, const void *y) {
  const MpiMsg *a = x, *b = y;
  MsgKey ka = msg_key(a), kb = msg_key(b);
  int c = key_cmp(&ka, &kb);
  return c ? c : (a->recv > b->recv) - (a->recv < b->recv); /* the send first */
}

static int cmp_coll(const void *x, const void *y) {
  const MpiColl *a = x, *b = y;
  if (a->comm != b->comm) return a->comm < b->comm ? -1 : 1;
  if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
  return (a->begin > b->begin) - (a->begin < b->begin);
}

static void msg_add(Imp *im, const MpiMsg *m) {
  MpiMsg *r = imp_sort_row(im, &im->mpi_msgs, sizeof *r, cmp_msg, "the MPI messages");
  if (r) *r = *m;
}

static void coll_add(Imp *im, const MpiColl *c) {
  MpiColl *r = imp_sort_row(im, &im->mpi_colls, sizeof *r, cmp_coll, "the MPI collectives");
  if (r) *r = *c;
}

void mpi_sorts_free(Imp *im) {
  weft_spill_free(im->mpi_msgs);
  weft_spill_free(im->mpi_colls);
  im->mpi_msgs = im->mpi_colls = NULL;
}

/* Pass 2: an MPI record of thread t (of process im->p) at ns. */
void mpi_read(Imp *im, Thr *t, const WeftEvent *ev, int64_t ns) {
  const uint64_t *w = ev->w;
  switch (ev->type) {
    case WEFT_EV_MPI_RANK: break; /* (pass 1 took it: a message's key needs it, whatever the order read) */
    case WEFT_EV_MPI_MSG: {
      int recv = WEFT_MPI_MSG_DIR(ev->aux) == WEFT_MPI_MSG_RECV;
      /* a receive belongs to the wait that just ended (its record follows the WAIT_END) */
      MpiMsg m = {w[1],
                  w[4],
                  recv ? t->mpi_end : ns,
                  recv ? t->mpi_begin : -1,
                  t->utid,
                  recv ? t->mpi_obj : 0,
                  im->p->upid,
                  (int32_t)(uint32_t)w[2],
                  (int32_t)(w[2] >> 32),
                  recv,
                  (int32_t)im->p->mpi_rank};
      if (!recv || t->mpi_end >= 0) msg_add(im, &m);
      break;
    }
    case WEFT_EV_MPI_COLL: {
      /* written with its WAIT_BEGIN: the collective is the thread's current wait */
      MpiColl c = {w[1],       w[2],      ev->aux, (uint32_t)w[4] == WEFT_MPI_NO_RANK ? -1 : (int64_t)(uint32_t)w[4],
                   t->utid,    t->wbegin, -1,      t->wobj ? t->wobj->id : 0,
                   im->p->upid};
      if (t->st != WEFT_ST_MPI_WAIT) c.begin = ns;
      if (t->coll_open) coll_add(im, &t->coll); /* one whose wait's end was not seen */
      t->coll = c;
      t->coll_open = 1;
      break;
    }
    default: break;
  }
}

/* Pass 2: t's MPI wait that began at begin ended at ns. */
void mpi_wait_end(Imp *im, Thr *t, int64_t begin, int64_t ns) {
  t->mpi_begin = begin;
  t->mpi_end = ns;
  t->mpi_obj = t->wobj ? t->wobj->id : 0;
  if (t->coll_open) {
    t->coll.end = ns;
    coll_add(im, &t->coll);
    t->coll_open = 0;
  }
}

void mpi_thread_end(Imp *im, Thr *t) {
  if (t->coll_open) coll_add(im, &t->coll); /* (its end -1: not seen) */
  t->coll_open = 0;
}

static void set_waker(Imp *im, sqlite3_stmt *up, int64_t waker, int64_t utid, int64_t begin) {
  sqlite3_bind_int64(up, 1, waker);
  sqlite3_bind_int64(up, 2, utid);
  sqlite3_bind_int64(up, 3, begin);
  imp_step(im, up);
}

/* Every send with the receive of the same key (they come out of the sort
 * one after the other): a flow and the receiving wait's waker. Returns the
 * messages matched; *unmatched the others. */
static int64_t link_messages(Imp *im, sqlite3_stmt *up, int64_t *unmatched) {
  int64_t matched = 0;
  *unmatched = 0;
  if (!im->mpi_msgs) return 0;
  MpiMsg s, r;
  const MpiMsg *x = weft_spill_next(im->mpi_msgs);
  while (x && !im->sql.failed) {
    s = *x;
    x = weft_spill_next(im->mpi_msgs);
    MsgKey ks = msg_key(&s), kr = x ? msg_key(x) : ks;
    if (s.recv || !x || !x->recv || key_cmp(&ks, &kr) != 0 || s.seq == UINT64_MAX) {
      ++*unmatched;
      continue;
    }
    r = *x;
    x = weft_spill_next(im->mpi_msgs);
    matched++;
    if (imp_flow(im, WEFT_FLOW_MPI_MESSAGE, s.utid, s.ns, r.utid, r.ns, r.obj) == 0 && s.ns <= r.ns)
      set_waker(im, up, s.utid, r.utid, r.begin);
  }
  if (weft_spill_error(im->mpi_msgs)) imp_fail(im, "the MPI messages: %s", weft_spill_error(im->mpi_msgs));
  return matched;
}

/* Who a collective's ranks waited for: a broadcast or scatter's ranks for
 * its root to enter; a gather or reduce's root for the last rank to enter
 * (the others leave once their part is sent); the other collectives' ranks
 * for the last to enter. NULL: none of them is known to wait. */
static const MpiColl *coll_releaser(const Imp *im, const MpiColl *c, guint n, int *only_root) {
  unsigned call = c[0].call;
  int bcast = call == WEFT_MPI_BCAST || call == WEFT_MPI_SCATTER || call == WEFT_MPI_SCATTERV;
  int gather = call == WEFT_MPI_GATHER || call == WEFT_MPI_GATHERV || call == WEFT_MPI_REDUCE;
  *only_root = gather;
  if (!bcast) return &c[n - 1]; /* sorted by entry: the last to arrive */
  for (guint i = 0; i < n; i++)
    if (((const Proc *)im->procs->pdata[c[i].upid - 1])->mpi_rank == c[i].root) return &c[i];
  return NULL;
}

/* One collective's members c[0, n) (sorted by entry): flows from the rank
 * they waited for to each that waited. */
static void link_collective(Imp *im, sqlite3_stmt *up, const MpiColl *c, guint n) {
  int only_root;
  const MpiColl *by = n > 1 && c[0].seq != UINT64_MAX ? coll_releaser(im, c, n, &only_root) : NULL;
  for (guint i = 0; by && i < n; i++) {
    int64_t rank = ((const Proc *)im->procs->pdata[c[i].upid - 1])->mpi_rank;
    if (&c[i] == by || c[i].end < by->begin || (only_root && rank != c[i].root)) continue;
    if (imp_flow(im, WEFT_FLOW_MPI_COLLECTIVE, by->utid, by->begin, c[i].utid, c[i].end, c[i].obj) == 0)
      set_waker(im, up, by->utid, c[i].utid, c[i].begin);
  }
}

/* Each collective's members (those of one communicator and number, one
 * after the other out of the sort). Returns the collectives with two
 * members or more. */
static int64_t link_collectives(Imp *im, sqlite3_stmt *up) {
  if (!im->mpi_colls) return 0;
  GArray *g = g_array_new(FALSE, FALSE, sizeof(MpiColl)); /* one collective's members */
  int64_t n = 0;
  const MpiColl *x;
  do {
    x = weft_spill_next(im->mpi_colls);
    const MpiColl *c0 = g->len ? &g_array_index(g, MpiColl, 0) : NULL;
    if (c0 && (!x || x->comm != c0->comm || x->seq != c0->seq)) {
      n += g->len > 1 && c0->seq != UINT64_MAX;
      link_collective(im, up, c0, g->len);
      g_array_set_size(g, 0);
    }
    if (x) g_array_append_val(g, *x);
  } while (x && !im->sql.failed);
  g_array_free(g, TRUE);
  if (weft_spill_error(im->mpi_colls)) imp_fail(im, "the MPI collectives: %s", weft_spill_error(im->mpi_colls));
  return n;
}

int link_mpi(Imp *im) {
  if ((!im->mpi_msgs || !weft_spill_count(im->mpi_msgs)) && (!im->mpi_colls || !weft_spill_count(im->mpi_colls)))
    return 0;
  sqlite3_stmt *up =
      weft_sql_prepare(&im->sql, "UPDATE thread_state SET waker_utid = ?1 WHERE utid = ?2 AND start_ns = ?3");
  if (!up) return -1;
  int64_t unmatched, matched = link_messages(im, up, &unmatched);
  int64_t colls = link_collectives(im, up);
  sqlite3_finalize(up);
  weft_db_meta_set_int(im->db, "mpi_messages", matched);
  weft_db_meta_set_int(im->db, "mpi_messages_unmatched", unmatched);
  weft_db_meta_set_int(im->db, "mpi_collectives", colls);
  if (unmatched) imp_warn(im, "%" PRId64 " MPI messages without their other end in the recording", unmatched);
  return im->sql.failed ? -1 : 0;
}
