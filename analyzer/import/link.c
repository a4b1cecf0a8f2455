/* link.c - what links the files of a recording, once every one is read.
 * SPDX-License-Identifier: MIT
 *
 * Processes: an image after exec to the one before it (same pid), a child
 * to its parent, fork and spawn to the child's first image, wait to its
 * last (and its exit status), a vfork child to its parent's main thread;
 * then the process rows. Pipes: a read or poll that waited on a pipe to
 * the write, by a thread of any process, that ended it (through sorts:
 * memory that does not grow with them).
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "import-private.h"

static Proc *proc_of_pid_at(Imp *im, int64_t host, int64_t pid, int64_t ns) {
  Proc *best = NULL;
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *p = im->procs->pdata[i];
    if (p->pid == pid && p->host == host && p->start_ns <= ns + 1 && (!best || p->start_ns > best->start_ns)) best = p;
  }
  return best;
}

static Proc *proc_first_after(Imp *im, int64_t host, int64_t pid, int64_t ns) {
  Proc *best = NULL;
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *p = im->procs->pdata[i];
    if (p->pid == pid && p->host == host && p->start_ns >= ns && (!best || p->start_ns < best->start_ns)) best = p;
  }
  return best;
}

/* exec: the image before, of the same pid, that ended by exec */
static void link_execs(Imp *im) {
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *p = im->procs->pdata[i];
    if (p->image == 0) continue;
    for (guint j = 0; j < im->procs->len; j++) {
      Proc *q = im->procs->pdata[j];
      if (q->pid == p->pid && q->image + 1 == p->image && q->exec_ns >= 0) {
        p->exec_from_upid = q->upid;
        p->parent_upid = q->parent_upid; /* set below for q too; fixed in a second round */
        imp_flow(im, WEFT_FLOW_EXEC, q->main_utid, q->exec_ns, p->main_utid, p->start_ns, 0);
      }
    }
  }
}

static void link_parents(Imp *im) {
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *p = im->procs->pdata[i];
    if (p->exec_from_upid) continue;
    Proc *parent = proc_of_pid_at(im, p->host, p->ppid, p->start_ns);
    if (parent && parent != p) p->parent_upid = parent->upid;
  }
  /* images after exec inherit the parent of the first image */
  for (int round = 0; round < 64; round++) {
    int changed = 0;
    for (guint i = 0; i < im->procs->len; i++) {
      Proc *p = im->procs->pdata[i];
      if (!p->exec_from_upid) continue;
      Proc *q = im->procs->pdata[p->exec_from_upid - 1];
      if (p->parent_upid != q->parent_upid) {
        p->parent_upid = q->parent_upid;
        changed = 1;
      }
    }
    if (!changed) break;
  }
}

/* fork/spawn -> the child's first image */
static void link_forks(Imp *im, Proc *p) {
  for (guint j = 0; j < p->forks->len; j++) {
    ForkEv *f = &g_array_index(p->forks, ForkEv, j);
    /* the first image of that pid, child of p, that started nearest the fork
     * (the parent may have been descheduled right after fork returned) */
    Proc *c = NULL;
    for (guint k = 0; k < im->procs->len; k++) {
      Proc *q = im->procs->pdata[k];
      if (q->pid != f->child_pid || q->image != 0 || q->ppid != p->pid || q->host != p->host) continue;
      int64_t dq = q->start_ns > f->ns ? q->start_ns - f->ns : f->ns - q->start_ns;
      int64_t dc = c ? (c->start_ns > f->ns ? c->start_ns - f->ns : f->ns - c->start_ns) : INT64_MAX;
      if (dq < dc) c = q;
    }
    /* the parent writes FORK when fork() returns, maybe after the child ran:
     * the flow goes from no later than the child's start to its start */
    if (c && c->image == 0) {
      imp_flow(im, WEFT_FLOW_FORK, f->utid, f->ns < c->start_ns ? f->ns : c->start_ns, c->main_utid, c->start_ns, 0);
      c->has_fork_flow = 1;
      c->started_by = f->how;
    }
  }
}

/* wait -> the child's last image */
static void link_waits(Imp *im, Proc *p) {
  for (guint j = 0; j < p->waits->len; j++) {
    WaitEv *w = &g_array_index(p->waits, WaitEv, j);
    if (w->pid <= 0 || w->end < 0) continue;
    Proc *c = proc_of_pid_at(im, p->host, w->pid, w->end);
    if (!c) continue;
    /* the last image of that pid */
    for (Proc *n = proc_first_after(im, c->host, c->pid, c->start_ns + 1); n && n->exec_from_upid == c->upid;
         n = proc_first_after(im, c->host, c->pid, c->start_ns + 1))
      c = n;
    if (!c->has_status) {
      c->has_status = 1;
      c->exit_status = WIFEXITED(w->status)     ? WEXITSTATUS(w->status)
                       : WIFSIGNALED(w->status) ? 128 + WTERMSIG(w->status)
                                                : w->status;
    }
    imp_flow(im, WEFT_FLOW_WAIT, c->main_utid, c->end_ns < w->end ? c->end_ns : w->end, w->utid, w->end, 0);
    /* the parent's wait state gets its waker */
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(im->db, "UPDATE thread_state SET waker_utid = ? WHERE utid = ? AND start_ns = ?", -1, &q,
                           NULL) == SQLITE_OK) {
      sqlite3_bind_int64(q, 1, c->main_utid);
      sqlite3_bind_int64(q, 2, w->utid);
      sqlite3_bind_int64(q, 3, w->begin);
      sqlite3_step(q);
      sqlite3_finalize(q);
    }
  }
}

/* a child with a known parent but no FORK record of it: made by vfork
 * (the agent cannot wrap it) or a raw clone, as gcc's driver, collect2 and
 * CPython's subprocess (posix_spawn) do. The parent's calling thread is
 * suspended until the child execs: a fork flow from the parent's main
 * thread (which thread called is not recorded) at the child's start. */
static void link_vforks(Imp *im) {
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *c = im->procs->pdata[i];
    if (c->image != 0 || c->has_fork_flow || c->parent_upid <= 0 || !c->main_utid) continue;
    Proc *p = im->procs->pdata[c->parent_upid - 1];
    if (p == c || !p->main_utid || c->start_ns < p->start_ns || c->start_ns > p->end_ns) continue;
    imp_flow(im, WEFT_FLOW_FORK, p->main_utid, c->start_ns, c->main_utid, c->start_ns, 0);
  }
}

static int procs_write(Imp *im) {
  for (guint i = 0; i < im->procs->len; i++) {
    Proc *p = im->procs->pdata[i];
    sqlite3_stmt *q = im->ins_proc;
    char sess[24];
    snprintf(sess, sizeof sess, "%016" PRIx64, p->session);
    sqlite3_bind_int64(q, 1, p->upid);
    sqlite3_bind_int64(q, 2, p->pid);
    sqlite3_bind_int64(q, 3, p->image);
    imp_bind_opt(q, 4, p->parent_upid);
    imp_bind_opt(q, 5, p->exec_from_upid);
    sqlite3_bind_text(q, 6, sess, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 7, p->cmdline ? p->cmdline : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 8, p->exe ? p->exe : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 9, p->start_ns);
    sqlite3_bind_int64(q, 10, p->end_ns);
    sqlite3_bind_text(q, 11, p->end_how, -1, SQLITE_STATIC);
    if (p->has_status)
      sqlite3_bind_int64(q, 12, p->exit_status);
    else
      sqlite3_bind_null(q, 12);
    sqlite3_bind_int64(q, 13, p->lost);
    sqlite3_bind_text(q, 14, p->file, -1, SQLITE_STATIC);
    if (p->mpi_rank >= 0)
      sqlite3_bind_int64(q, 15, p->mpi_rank);
    else
      sqlite3_bind_null(q, 15);
    sqlite3_bind_int64(q, 16, p->host);
    const char *by = p->started_by >= 0 ? weft_fork_how_name((unsigned)p->started_by) : NULL;
    if (by)
      sqlite3_bind_text(q, 17, by, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(q, 17);
    if (imp_step(im, q)) return -1;
  }
  return 0;
}

int link_processes(Imp *im) {
  link_execs(im);
  link_parents(im);
  for (guint i = 0; i < im->procs->len; i++) {
    link_forks(im, im->procs->pdata[i]);
    link_waits(im, im->procs->pdata[i]);
  }
  link_vforks(im);
  return procs_write(im);
}

/* ---- pipes between processes ----
 * Every write and every wait of the recording goes into an external sort
 * (util/weft-spill.c) as it is read, by (pipe, time): the link is a merge of
 * the two, and its answers go through a third sort back into the order the
 * waits were read in (that of the flows' ids). Memory does not grow with
 * them (Imp.sort_rows rows of each sort's buffer). */

typedef struct { /* a wait's link, in the waits' order */
  int64_t seq, kind, from_utid, from_ns, utid, begin, end, obj;
} PipeLink;

static int cmp_chanstamp(const void *x, const void *y) {
  const ChanStamp *a = x, *b = y;
  if (a->chan != b->chan) return a->chan < b->chan ? -1 : 1;
  return (a->ns > b->ns) - (a->ns < b->ns);
}

static int cmp_chanwait(const void *x, const void *y) {
  const ChanWait *a = x, *b = y;
  if (a->chan != b->chan) return a->chan < b->chan ? -1 : 1;
  if (a->begin != b->begin) return a->begin < b->begin ? -1 : 1;
  return (a->seq > b->seq) - (a->seq < b->seq);
}

static int cmp_link(const void *x, const void *y) {
  const PipeLink *a = x, *b = y;
  return (a->seq > b->seq) - (a->seq < b->seq);
}

void pipe_write_add(Imp *im, uint64_t chan, int64_t ns, int64_t utid) {
  ChanStamp *r = imp_sort_row(im, &im->pipe_writes, sizeof *r, cmp_chanstamp, "the pipes' writes");
  if (r) *r = (ChanStamp){chan, ns, utid};
}

void pipe_wait_add(Imp *im, const ChanWait *w) {
  ChanWait *r = imp_sort_row(im, &im->pipe_waits, sizeof *r, cmp_chanwait, "the waits on pipes");
  if (!r) return;
  *r = *w;
  r->seq = (int64_t)weft_spill_count(im->pipe_waits);
}

void pipes_free(Imp *im) {
  weft_spill_free(im->pipe_writes);
  weft_spill_free(im->pipe_waits);
  im->pipe_writes = im->pipe_waits = NULL;
}

/* A read returns the data of the first write into the empty pipe; a poll
 * returns on the data there at its end, and an earlier write may have been
 * taken by another reader meanwhile (a pool's worker handler polls the
 * results pipe its result handler reads): the last write then. From the
 * writes to c's pipe at or after its begin (win from head), by another
 * thread, at or before its end; NULL none. */
static const ChanStamp *pipe_writer(const GArray *win, guint head, const ChanWait *c) {
  const ChanStamp *by = NULL;
  for (guint a = head; a < win->len; a++) {
    const ChanStamp *s = &g_array_index(win, ChanStamp, a);
    if (s->ns > c->end) break;
    if (s->utid == c->utid) continue;
    by = s;
    if (!c->poll) break;
  }
  return by;
}

/* The merge: each wait's writer (if any) into the links' sort. */
static int pipes_match(Imp *im, WeftSpill *links) {
  GArray *win = g_array_new(FALSE, FALSE, sizeof(ChanStamp)); /* writes to the wait's pipe from its begin */
  guint head = 0;
  const ChanStamp *w = weft_spill_next(im->pipe_writes);
  const ChanWait *c;
  uint64_t chan = 0;
  int first = 1, rc = 0;
  while (rc == 0 && (c = weft_spill_next(im->pipe_waits))) {
    if (first || c->chan != chan) {
      g_array_set_size(win, 0);
      head = 0;
      chan = c->chan;
      first = 0;
    }
    for (; w && w->chan < c->chan; w = weft_spill_next(im->pipe_writes)) {}
    for (; w && w->chan == c->chan && w->ns <= c->end; w = weft_spill_next(im->pipe_writes))
      g_array_append_val(win, *w);
    while (head < win->len && g_array_index(win, ChanStamp, head).ns < c->begin) head++;
    if (head > 1024 && head * 2 > win->len) {
      g_array_remove_range(win, 0, head);
      head = 0;
    }
    const ChanStamp *by = pipe_writer(win, head, c);
    if (!by) continue;
    PipeLink *l = weft_spill_add(links);
    if (!l) {
      rc = imp_fail(im, "the pipes' links: %s", weft_spill_error(links));
      break;
    }
    /* (a TCP stream's identity has bit 62 set and 63 clear, a pipe's bit 63) */
    *l = (PipeLink){
        c->seq, (c->chan >> 62) == 1 ? WEFT_FLOW_SOCKET : WEFT_FLOW_PIPE, by->utid, by->ns, c->utid, c->begin, c->end,
        c->obj};
  }
  g_array_free(win, TRUE);
  const char *e =
      weft_spill_error(im->pipe_writes) ? weft_spill_error(im->pipe_writes) : weft_spill_error(im->pipe_waits);
  if (rc == 0 && e) rc = imp_fail(im, "the pipes' writes and waits: %s", e);
  return rc;
}

/* A read or poll that waited on a pipe was ended by the first write to that
 * pipe, by another thread of any process, after the wait began: a flow from
 * the writer, and the wait's waker. A read that waited on a TCP stream
 * likewise, by the first send on that stream (of any host: by then every
 * host is on one clock). */
int link_pipes(Imp *im) {
  if (!im->pipe_writes || !im->pipe_waits || !weft_spill_count(im->pipe_writes) || !weft_spill_count(im->pipe_waits))
    return 0;
  WeftSpill *links = weft_spill_new(sizeof(PipeLink), im->sort_rows, cmp_link, NULL);
  if (!links) return imp_fail(im, "out of memory");
  sqlite3_stmt *up =
      weft_sql_prepare(&im->sql, "UPDATE thread_state SET waker_utid = ?1 WHERE utid = ?2 AND start_ns = ?3");
  if (up && pipes_match(im, links) == 0) {
    const PipeLink *l;
    while (!im->sql.failed && (l = weft_spill_next(links))) {
      imp_flow(im, (int)l->kind, l->from_utid, l->from_ns, l->utid, l->end, l->obj);
      sqlite3_bind_int64(up, 1, l->from_utid);
      sqlite3_bind_int64(up, 2, l->utid);
      sqlite3_bind_int64(up, 3, l->begin);
      imp_step(im, up);
    }
    if (weft_spill_error(links)) imp_fail(im, "the pipes' links: %s", weft_spill_error(links));
  }
  if (up) sqlite3_finalize(up);
  weft_spill_free(links);
  return im->sql.failed ? -1 : 0;
}

/* ---- process-shared objects ---- */
/* The first of n elements (size bytes each, sorted by cmp) that comes after
 * key: the one binary search of these sorted arrays. */
static guint upper_bound(const void *base, guint n, size_t size, const void *key, GCompareFunc cmp) {
  guint a = 0, b = n;
  while (a < b) {
    guint m = a + (b - a) / 2;
    if (cmp((const char *)base + (size_t)m * size, key) <= 0)
      a = m + 1;
    else
      b = m;
  }
  return a;
}

/* Releases by (obj, ns), and by (host, obj, ns). */
static gint cmp_rel_obj(gconstpointer x, gconstpointer y) {
  const SharedRel *a = x, *b = y;
  if (a->obj != b->obj) return a->obj < b->obj ? -1 : 1;
  return (a->ns > b->ns) - (a->ns < b->ns);
}

static gint cmp_shared_rel(gconstpointer x, gconstpointer y) {
  const SharedRel *a = x, *b = y;
  return a->host != b->host ? (a->host < b->host ? -1 : 1) : cmp_rel_obj(x, y);
}

/* A wait that acquired a process-shared mutex or semaphore was ended by the
 * last release (post) of it by another thread of any process of its host
 * before the wait's end, no longer than SHARED_LATE_NS before the wait began
 * (a release is recorded only when someone waits), else by one written late
 * (a waiter came during the call) within SHARED_LATE_NS after it, as pass 2
 * has it for the objects of one process: a flow from it, and the wait's
 * waker. A wait on a process-shared condition variable, by the last signal
 * since it began. A wait with neither counts as a release missing. */
#define SHARED_LATE_NS 1000000
static const SharedRel *shared_release(const SharedRel *r, guint n, const SharedWait *w) {
  SharedRel key = {w->host, w->obj, w->end, 0, 0};
  guint a = upper_bound(r, n, sizeof *r, &key, cmp_shared_rel); /* the first release after (host, obj, end) */
  /* (a signal's and a wait's times come from two files' conversions of one clock: a microsecond apart) */
  int64_t lo = w->kind == WEFT_FLOW_WAKEUP ? w->begin - 1000 : w->begin - SHARED_LATE_NS;
  for (guint k = a; k-- > 0 && r[k].host == w->host && r[k].obj == w->obj && r[k].ns >= lo;)
    if (r[k].utid != w->utid) return &r[k];
  for (guint k = a; k < n && r[k].host == w->host && r[k].obj == w->obj && r[k].ns <= w->end + SHARED_LATE_NS; k++)
    if (r[k].late && r[k].utid != w->utid) return &r[k];
  return NULL;
}

static gint cmp_shared_wait(gconstpointer x, gconstpointer y) {
  const SharedWait *a = x, *b = y;
  if (a->obj != b->obj) return a->obj < b->obj ? -1 : 1;
  return (a->begin > b->begin) - (a->begin < b->begin);
}

/* A hold of a process-shared mutex whose start was not timed starts at the
 * first wait for it (pass 2: hold_untimed), but pass 2 sees only its own
 * process's waits: one that only other processes waited for came out as
 * starting at its release. Here it starts at the first wait by another
 * thread, of any process, that began after the object's previous release
 * (waits in *wv sorted by (obj, begin); releases in r by (host, obj, ns)),
 * and its object's total grows by as much. */
static void shared_hold_starts(Imp *im, const SharedRel *rel, guint nr, const GArray *wv) {
  const SharedWait *w = (const SharedWait *)wv->data;
  SharedRel *r = g_memdup2(rel, (gsize)nr * sizeof *r); /* by (obj, ns), the hosts together (holds name none) */
  if (nr) qsort(r, nr, sizeof *r, cmp_rel_obj);
  sqlite3_stmt *up = NULL;
  for (guint i = 0; i < im->shared_holds->len && !im->sql.failed; i++) {
    HoldRow *h = &g_array_index(im->shared_holds, HoldRow, i);
    int64_t obj = h->obj, end = h->start + h->dur, utid = h->utid_flags >> 3, prev = INT64_MIN;
    if (!(h->utid_flags & 4)) continue; /* (its start was timed, or a wait's end) */
    SharedRel rk = {0, obj, end, 0, 0}; /* the object's last release before this one */
    guint a = upper_bound(r, nr, sizeof *r, &rk, cmp_rel_obj);
    while (a > 0 && r[a - 1].obj == obj && r[a - 1].ns == end && r[a - 1].utid == utid) a--;
    if (a > 0 && r[a - 1].obj == obj) prev = r[a - 1].ns;
    SharedWait wk = {0, obj, 0, prev, 0, 0}; /* the first wait on it that began after prev */
    a = upper_bound(w, wv->len, sizeof *w, &wk, cmp_shared_wait);
    for (; a < wv->len && w[a].obj == obj && w[a].begin < h->start; a++) {
      if (w[a].utid == utid) continue;
      int64_t grow = h->start - w[a].begin;
      h->start = w[a].begin;
      h->dur += grow;
      if (h->dur > im->max_hold_ns) im->max_hold_ns = h->dur;
      if (!up) up = weft_sql_prepare(&im->sql, "UPDATE sync_object SET hold_ns = hold_ns + ?1 WHERE object_id = ?2");
      if (!up) break;
      sqlite3_bind_int64(up, 1, grow);
      sqlite3_bind_int64(up, 2, obj);
      imp_step(im, up);
      break;
    }
  }
  if (up) sqlite3_finalize(up);
  g_free(r);
}

int link_shared(Imp *im) {
  GArray *rv = im->shared_rels, *wv = im->shared_waits;
  if (!wv || !wv->len) return 0;
  g_array_sort(rv, cmp_shared_rel);
  g_array_sort(wv, cmp_shared_wait);
  shared_hold_starts(im, (const SharedRel *)rv->data, rv->len, wv);
  sqlite3_stmt *up =
      weft_sql_prepare(&im->sql, "UPDATE thread_state SET waker_utid = ?1 WHERE utid = ?2 AND start_ns = ?3");
  for (guint i = 0; up && i < wv->len && !im->sql.failed; i++) {
    const SharedWait *w = &g_array_index(wv, SharedWait, i);
    const SharedRel *from = shared_release((const SharedRel *)rv->data, rv->len, w);
    if (!from) {
      im->releases_missing += w->kind != WEFT_FLOW_WAKEUP; /* (a condition variable's may wake spuriously) */
      continue;
    }
    imp_flow(im, w->kind, from->utid, from->ns < w->end ? from->ns : w->end, w->utid, w->end, w->obj);
    sqlite3_bind_int64(up, 1, from->utid);
    sqlite3_bind_int64(up, 2, w->utid);
    sqlite3_bind_int64(up, 3, w->begin);
    imp_step(im, up);
  }
  if (up) sqlite3_finalize(up);
  return im->sql.failed ? -1 : 0;
}
