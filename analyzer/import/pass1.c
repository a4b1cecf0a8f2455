/* pass1.c - pass 1: what a file's records say before any state machine runs.
 * SPDX-License-Identifier: MIT
 *
 * Every record of the file once, in the reader's order: its threads (tid
 * reuse: a new THREAD_START for a tid starts a new thread), objects, the
 * per-object timelines of releases, signals and barrier arrivals that pass 2
 * searches, counts (trace v3), stacks, modules, forks, execs, exits, pipe
 * writes, schedstat readings and marks. Modules are written as they come;
 * stacks and their frames once the file is read (a frame needs its module).
 */
#include "config.h"

#include "import-private.h"

/* ---- stacks and frames ---- */
static int64_t module_for(Imp *im, uint64_t ip, uint64_t *bias) {
  for (guint i = 0; i < im->modules->len; i++) {
    ModRec *m = &g_array_index(im->modules, ModRec, i);
    if (ip >= m->start && ip < m->end) {
      *bias = m->bias;
      return m->id;
    }
  }
  return 0;
}

int frame_id(Imp *im, uint64_t ip) {
  if (weft_stack_word_is_py(ip)) return pyframe_id(im, ip);
  /* (upid, ip) unique: look up, else insert */
  sqlite3_bind_int64(im->find_frame, 1, im->p->upid);
  sqlite3_bind_int64(im->find_frame, 2, (int64_t)ip);
  int64_t id = 0;
  if (sqlite3_step(im->find_frame) == SQLITE_ROW) id = sqlite3_column_int64(im->find_frame, 0);
  sqlite3_reset(im->find_frame);
  if (id) return (int)id;
  uint64_t bias = 0;
  int64_t mod = module_for(im, ip, &bias);
  id = ++im->next_frame;
  sqlite3_bind_int64(im->ins_frame, 1, id);
  sqlite3_bind_int64(im->ins_frame, 2, im->p->upid);
  sqlite3_bind_int64(im->ins_frame, 3, (int64_t)ip);
  imp_bind_opt(im->ins_frame, 4, mod);
  if (mod)
    sqlite3_bind_int64(im->ins_frame, 5, (int64_t)(ip - bias));
  else
    sqlite3_bind_null(im->ins_frame, 5);
  imp_step(im, im->ins_frame);
  return (int)id;
}

void stacks_write(Imp *im, Proc *p) {
  for (guint i = 0; i < im->pending_stacks->len; i++) {
    PendingStack *ps = &g_array_index(im->pending_stacks, PendingStack, i);
    pyframe_order(im, ps->ips);
    sqlite3_bind_int64(im->ins_stack, 1, ps->global);
    sqlite3_bind_int64(im->ins_stack, 2, p->upid);
    sqlite3_bind_int(im->ins_stack, 3, (int)ps->ips->len);
    imp_step(im, im->ins_stack);
    for (guint d = 0; d < ps->ips->len; d++) {
      int fid = frame_id(im, g_array_index(ps->ips, uint64_t, d));
      sqlite3_bind_int64(im->ins_sf, 1, ps->global);
      sqlite3_bind_int(im->ins_sf, 2, (int)d);
      sqlite3_bind_int(im->ins_sf, 3, fid);
      imp_step(im, im->ins_sf);
    }
  }
}

/* ---- the records ---- */
static void read_thread_start(Imp *im, Thr *t, const WeftEvent *ev, int64_t ns) {
  t->has_start = 1;
  t->start_ns = ns;
  thr_set_self(im, t, ev->w[1]);
  t->routine = ev->w[2];
  t->creator_tid = (uint32_t)ev->w[3];
  t->is_main = ev->aux & 1;
}

static void read_thread_exit(Imp *im, Thr *t, const WeftEvent *ev, int64_t ns) {
  if (ev->aux == WEFT_EXIT_AT_PROCESS_EXIT) {
    /* on behalf of another thread: resolved after pass 1 */
    Thr *o = thr_by_self_at(im, ev->w[1], ns);
    if (o && !o->has_exit && o != t) {
      o->has_exit = 1;
      o->exit_ns = ns;
      o->exit_how = WEFT_EXIT_AT_PROCESS_EXIT;
    }
  } else if (!t->has_exit) {
    t->has_exit = 1;
    t->exit_ns = ns;
    t->exit_how = (int)ev->aux;
  }
}

static void read_thread_name(Imp *im, Thr *t, const WeftEvent *ev, int64_t ns) {
  size_t len;
  const char *s = weft_event_string(ev, 2, &len);
  if (ev->aux == 0) {
    Thr *target = ev->w[1] ? thr_by_self_at(im, ev->w[1], ns) : t;
    if (!target) target = t;
    g_free(target->name);
    target->name = g_strndup(s, len);
    target->named_ns = ns;
  }
}

/* An object of the OpenMP runtime named by the importer (name: owned), unless it has a name. */
static void omp_name(Imp *im, uint64_t addr, char *name) {
  gpointer key = GSIZE_TO_POINTER((gsize)addr);
  if (g_hash_table_contains(im->names, key))
    g_free(name);
  else
    g_hash_table_insert(im->names, key, name);
}

static void read_init(Imp *im, const WeftEvent *ev, unsigned kind, int64_t ns) {
  if (kind == WEFT_KIND_COND && WEFT_AUX_OP(ev->aux) == WEFT_OP_OMP && (ev->w[2] & 1)) {
    im->omp_tasks = 1; /* the process made OpenMP tasks (not an object) */
    return;
  }
  Obj *o = obj_get(im, ev->w[1], (int)kind, ns);
  if (o) {
    /* its first_ns is its init, which another thread's record read before may follow */
    if (ns < o->first_ns) o->first_ns = ns;
    if (ev->nwords > 3 && ev->w[3]) o->init_stack = stack_global(im, ev->w[3]);
    if (o->kind == WEFT_KIND_BARRIER) o->barrier_count = (int64_t)ev->w[2];
    if (WEFT_AUX_OP(ev->aux) == WEFT_OP_OMP &&
        (o->kind == WEFT_KIND_BARRIER || o->kind == WEFT_KIND_COND || o->kind == WEFT_KIND_MUTEX))
      o->omp = 1;
    if (o->omp && o->kind == WEFT_KIND_COND) /* a team's dock: named by its master, "omp idle" the main thread's */
      omp_name(im, o->addr,
               ev->tid == im->p->pid ? g_strdup("omp idle") : g_strdup_printf("omp idle (team of thread %u)", ev->tid));
    if (o->omp && o->kind == WEFT_KIND_MUTEX && (ev->w[2] & 1)) /* the unnamed critical section's (the agent's word) */
      omp_name(im, o->addr, g_strdup("omp critical"));
  }
}

static void read_release(Imp *im, Thr *t, const WeftEvent *ev, unsigned kind, int64_t ns) {
  const uint64_t *w = ev->w;
  Obj *o = obj_get(im, weft_rel_addr(ev->aux, w[1]), (int)kind, ns);
  int late = 0;
  uint64_t len = im->v3 ? weft_rel_len1(ev->aux, ev->nwords, w, &late) : 1;
  if (o && !len && WEFT_AUX_RESULT(ev->aux) == 0) o->untimed++; /* its start: waitstarts.c */
  t->last_rel = o && WEFT_AUX_RESULT(ev->aux) == 0 ? o : NULL;
  t->last_rel_ns = ns;
  if (o && WEFT_AUX_RESULT(ev->aux) == 0) {
    stamps_push(im, &o->rel, (Stamp){ns, (uint32_t)t->utid, (uint32_t)late});
  } else if (o && !im->v3) {
    /* versions 1 and 2: a failed unlock cancels this thread's REL just before
     * (version 3 writes the failed one in its place: nothing to undo) */
    stamps_cancel(im, &o->rel, t->utid);
  }
}

static void read_wait_begin(Imp *im, Proc *p, Thr *t, const WeftEvent *ev, unsigned kind, int64_t ns) {
  const uint64_t *w = ev->w;
  Obj *o = obj_get(im, w[1], (int)kind, ns);
  if (o && !o->first_stack && (w[2] >> 32)) o->first_stack = stack_global(im, w[2] >> 32);
  if (o && o->kind == WEFT_KIND_BARRIER) barrier_arrive(im, t, o, ns);
  if (o && im->v3 && is_lock(o->kind)) wait_start_add(im, t, o, ns, (uint32_t)w[2]);
  if (kind == WEFT_KIND_COND && w[3]) obj_get(im, w[3], WEFT_KIND_MUTEX, ns);
  if (kind == WEFT_KIND_CHILD) {
    WaitEv we = {ns, -1, t->utid, -1, 0};
    g_array_append_val(p->waits, we);
  }
}

static void read_wait_end(Imp *im, Proc *p, Thr *t, const WeftEvent *ev, unsigned kind, int64_t ns) {
  const uint64_t *w = ev->w;
  if (kind == WEFT_KIND_BARRIER) {
    Obj *o = obj_find(im, w[1], (int)kind, ns);
    if (o) barrier_leave(im, t, o, WEFT_AUX_OP(ev->aux) == WEFT_OP_SERIAL);
  }
  if (kind == WEFT_KIND_CHILD && ev->nwords >= 4) {
    for (guint i = p->waits->len; i-- > 0;) {
      WaitEv *we = &g_array_index(p->waits, WaitEv, i);
      if (we->utid == t->utid && we->end < 0) {
        we->end = ns;
        we->pid = (int64_t)w[2];
        we->status = (int)(uint32_t)w[3];
        break;
      }
    }
  }
}

static void read_counts(Imp *im, const WeftEvent *ev, unsigned kind, int64_t ns) {
  const uint64_t *w = ev->w;
  int64_t first = rel_ns(im, weft_trace_ticks_to_ns(im->tr, w[9]));
  if (first > ns) first = ns;
  Obj *o = obj_get(im, w[1], (int)kind, first);
  if (!o) return;
  int64_t sns = (int64_t)(weft_trace_ticks_to_ns(im->tr, w[9] + w[7]) - weft_trace_ticks_to_ns(im->tr, w[9]));
  int64_t smax = (int64_t)(weft_trace_ticks_to_ns(im->tr, w[9] + w[8]) - weft_trace_ticks_to_ns(im->tr, w[9]));
  CountRec c = {o, (uint32_t)w[2], first, ns, (int64_t)w[3], (int64_t)w[4], (int64_t)w[5], (int64_t)w[6], sns, smax, 0};
  g_array_append_val(im->counts, c);
}

static void read_exec_failed(Imp *im, Proc *p, const WeftEvent *ev) {
  p->exec_ns = -1;
  /* the exec failed: the other threads live on and write their counts themselves */
  for (guint i = im->exec_counts; i < im->counts->len; i++) {
    CountRec *c = &g_array_index(im->counts, CountRec, i);
    if (c->tid != ev->tid) c->dropped = 1;
  }
}

static void read_exit(Proc *p, const WeftEvent *ev, int64_t ns) {
  if (!p->has_exit) {
    p->has_exit = 1;
    p->exit_how = (int)ev->aux;
    p->end_ns = ns;
    if (ev->aux != WEFT_PEXIT_RETURN) {
      p->exit_status = (int64_t)(int32_t)ev->w[1];
      p->has_status = 1;
    }
  }
}

static void read_process_info(Proc *p, const WeftEvent *ev) {
  /* argv: NUL-separated strings then the exe */
  unsigned argc = (unsigned)(ev->w[1] & 0xffffffffu);
  const char *s = (const char *)&ev->w[2];
  size_t cap = (size_t)(ev->nwords - 2) * 8, off = 0;
  GString *cmd = g_string_new(NULL);
  for (unsigned i = 0; i < argc && off < cap; i++) {
    size_t l = strnlen(s + off, cap - off);
    if (i) g_string_append_c(cmd, ' ');
    g_string_append_len(cmd, s + off, (gssize)l);
    off += l + 1;
  }
  g_free(p->cmdline);
  p->cmdline = g_string_free(cmd, FALSE);
  g_free(p->exe);
  p->exe = off < cap ? g_strndup(s + off, strnlen(s + off, cap - off)) : g_strdup("");
}

/* One module of the file's process: a row, the file's lookup table, and the
 * process's list for the fork children that inherit it. */
static void module_add(Imp *im, Proc *p, int64_t ns, const char *path, size_t len, const char *bid, uint64_t bias,
                       uint64_t start, uint64_t end) {
  ModRec m = {++im->next_module, bias, start, end};
  g_array_append_val(im->modules, m);
  ProcMod pm = {ns, g_strndup(path, len), bid ? g_strdup(bid) : NULL, bias, start, end};
  g_array_append_val(p->mods, pm);
  sqlite3_bind_int64(im->ins_module, 1, m.id);
  sqlite3_bind_int64(im->ins_module, 2, p->upid);
  sqlite3_bind_text(im->ins_module, 3, path, (int)len, SQLITE_TRANSIENT);
  if (bid)
    sqlite3_bind_text(im->ins_module, 4, bid, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(im->ins_module, 4);
  sqlite3_bind_int64(im->ins_module, 5, (int64_t)bias);
  sqlite3_bind_int64(im->ins_module, 6, (int64_t)start);
  sqlite3_bind_int64(im->ins_module, 7, (int64_t)end);
  imp_step(im, im->ins_module);
}

static void read_module(Imp *im, Proc *p, const WeftEvent *ev, int64_t ns) {
  const uint64_t *w = ev->w;
  size_t len;
  const char *path = weft_event_string(ev, 8, &len);
  char bid[41] = {0};
  unsigned bl = (unsigned)(w[4] & 0xff);
  if (bl > 20) bl = 20;
  const uint8_t *b = (const uint8_t *)&w[5];
  for (unsigned i = 0; i < bl; i++) snprintf(bid + 2 * i, 3, "%02x", b[i]);
  module_add(im, p, ns, path, len, bl ? bid : NULL, w[1], w[2], w[3]);
}

Proc *proc_fork_parent(GPtrArray *procs, const Proc *child) {
  Proc *best = NULL;
  for (guint i = 0; i < procs->len; i++) {
    Proc *q = procs->pdata[i];
    if (q == child || q->pid != child->ppid || q->session != child->session || q->host != child->host ||
        q->start_ns > child->start_ns)
      continue;
    if (!best || q->start_ns > best->start_ns) best = q;
  }
  return best;
}

void modules_inherit(Imp *im, Proc *p) {
  Proc *parent = proc_fork_parent(im->procs, p);
  if (!parent) {
    imp_warn(im,
             "%s: its modules at the fork are its parent's (pid %u), whose trace is not in the recording: "
             "its stacks and object names are not symbolized",
             p->file, (unsigned)p->ppid);
    return;
  }
  for (guint i = 0; i < parent->mods->len; i++) {
    const ProcMod *m = &g_array_index(parent->mods, ProcMod, i);
    if (m->ns <= p->start_ns)
      module_add(im, p, p->start_ns, m->path, strlen(m->path), m->build_id, m->bias, m->start, m->end);
  }
}

void proc_mods_free(Proc *p) {
  for (guint i = 0; p->mods && i < p->mods->len; i++) {
    ProcMod *m = &g_array_index(p->mods, ProcMod, i);
    g_free(m->path);
    g_free(m->build_id);
  }
  if (p->mods) g_array_free(p->mods, TRUE);
  p->mods = NULL;
}

static void read_stack(Imp *im, const WeftEvent *ev) {
  uint32_t id = (uint32_t)ev->w[1];
  uint32_t depth = (uint32_t)(ev->w[1] >> 32);
  if (depth > ev->nwords - 2) depth = ev->nwords - 2;
  PendingStack ps = {id, ++im->next_stack, g_array_sized_new(FALSE, FALSE, sizeof(uint64_t), depth)};
  g_array_append_vals(ps.ips, &ev->w[2], depth);
  g_array_append_val(im->pending_stacks, ps);
  g_hash_table_insert(im->stack_map, GUINT_TO_POINTER(id), GSIZE_TO_POINTER((gsize)ps.global));
}

static void read_mark(Imp *im, const WeftEvent *ev, int64_t ns) {
  size_t len;
  const char *s = weft_event_string(ev, 2, &len);
  MarkRec m = {ns, ev->tid, (int64_t)ev->w[1], (int)ev->aux, g_strndup(s, len)};
  g_array_append_val(im->marks, m);
}

/* The thread of a record, new when its tid is new or reused; the times
 * seen so far of it and its process. */
/* A write of n bytes to pipe chan (trace version 6): the thread's sums. A
 * message is a write, but for a payload over 16 KB right after a 4-byte write
 * to the same pipe: multiprocessing's Connection sends such a payload apart
 * from its length (and a smaller one with it), and a pool's tasks and results
 * are such messages. */
static void pipe_bytes(Thr *t, uint64_t chan, uint64_t n) {
  if (!chan) return;
  t->pipe_bytes += (int64_t)n;
  t->pipe_writes++;
  t->pipe_msgs += !(t->pipe_last_chan == chan && n > 16384);
  t->pipe_last_chan = n == 4 ? chan : 0;
}

static Thr *record_thread(Imp *im, const WeftEvent *ev, int64_t ns) {
  Thr *t = thr_cur(im, ev->tid);
  if (ev->type == WEFT_EV_THREAD_START && t && t->has_start) t = NULL; /* tid reused */
  if (!t) t = thr_new(im, ev->tid, ns);
  if (ns > t->last_ns) t->last_ns = ns;
  if (ns > im->p->last_ns) im->p->last_ns = ns;
  return t;
}

int imp_pass1(const WeftEvent *ev, void *user) {
  Imp *im = user;
  Proc *p = im->p;
  int64_t ns = rel_ns(im, ev->ns);
  Thr *t = record_thread(im, ev, ns);
  im->records_done++;
  if ((im->records_done & 0xfffff) == 0) imp_progress(im, "reading");
  const uint64_t *w = ev->w;
  unsigned kind = WEFT_AUX_KIND(ev->aux);
  switch (ev->type) {
    case WEFT_EV_THREAD_START: read_thread_start(im, t, ev, ns); break;
    case WEFT_EV_MPI_RANK: /* here, not in pass 2: the messages' sort keys need every rank */
      p->mpi_rank = (int64_t)w[1];
      p->mpi_size = (int64_t)w[2];
      break;
    case WEFT_EV_THREAD_EXIT: read_thread_exit(im, t, ev, ns); break;
    case WEFT_EV_THREAD_CREATE:
      if (WEFT_AUX_RESULT(ev->aux) == 0 && ev->aux == 0) {
        CreateEv c = {ns, t->utid, w[1]};
        g_array_append_val(im->creates, c);
      }
      break;
    case WEFT_EV_THREAD_NAME: read_thread_name(im, t, ev, ns); break;
    case WEFT_EV_UNLOCK_COST: /* the REL before it: what its call took */
      if (t->last_rel) {
        int64_t row[4] = {t->utid, t->last_rel_ns, t->last_rel->id,
                          (int64_t)(ev->ns - weft_trace_ticks_to_ns_near(im->tr, ev->tsc - w[1], &im->tick_hint))};
        imp_batch_add(im, &im->unlock_rows, row, 0);
        t->last_rel = NULL;
      }
      break;
    case WEFT_EV_LOST:
      t->lost += (int64_t)w[1];
      p->lost += (int64_t)w[1];
      break;
    case WEFT_EV_INIT: read_init(im, ev, kind, ns); break;
    case WEFT_EV_ACQ:
    case WEFT_EV_DESTROY: obj_get(im, w[1], (int)kind, ns); break;
    case WEFT_EV_REL: read_release(im, t, ev, kind, ns); break;
    case WEFT_EV_SIGNAL: {
      Obj *o = obj_get(im, w[1], (int)kind, ns);
      if (o)
        stamps_push(im, &o->sig, (Stamp){ns, (uint32_t)t->utid, im->v3 && ev->nwords >= 3 && (w[2] & WEFT_REL_LATE)});
      break;
    }
    case WEFT_EV_WAIT_BEGIN: read_wait_begin(im, p, t, ev, kind, ns); break;
    case WEFT_EV_WAIT_END: read_wait_end(im, p, t, ev, kind, ns); break;
    case WEFT_EV_COUNTS: read_counts(im, ev, kind, ns); break;
    case WEFT_EV_SHARED: obj_read_shared(im, ev, ns); break;
    case WEFT_EV_PIPE_WRITE:
      if (ev->nwords >= 3 && w[2]) pipe_write_add(im, w[2], ns, t->utid);
      if (ev->nwords >= 4) pipe_bytes(t, w[2], w[3]);
      break;
    case WEFT_EV_SOCK: { /* bytes of a TCP stream: sent, what a read waiting on it got (link_pipes) */
      int64_t at =
          ev->nwords > 4 && w[4] ? rel_ns(im, weft_trace_ticks_to_ns_near(im->tr, ev->tsc - w[4], &im->tick_hint)) : ns;
      if (ev->aux == 0) pipe_write_add(im, w[1], at, t->utid);
      SockXfer x = {w[1], w[2], w[3], (double)at, t->utid, ev->aux != 0};
      if (x.bytes) sock_xfer_add(im, &x);
      break;
    }
    case WEFT_EV_FORK:
      if ((ev->aux >> 8) == 0 && (int64_t)w[1] > 0) {
        ForkEv f = {ns, t->utid, (int64_t)w[1], (int)(ev->aux & 0xff)};
        g_array_append_val(p->forks, f);
      }
      break;
    case WEFT_EV_EXEC:
      p->exec_ns = ns;
      im->exec_counts = im->counts->len; /* the snapshots of the other threads' counts follow */
      break;
    case WEFT_EV_EXEC_FAILED: read_exec_failed(im, p, ev); break;
    case WEFT_EV_EXIT: read_exit(p, ev, ns); break;
    case WEFT_EV_PROCESS_INFO: read_process_info(p, ev); break;
    case WEFT_EV_MODULE: read_module(im, p, ev, ns); break;
    case WEFT_EV_STACK: read_stack(im, ev); break;
    case WEFT_EV_PY_FRAME: pyframe_read(im, ev); break;
    case WEFT_EV_SCHED: {
      SchedRec s = {
          ns, (uint32_t)w[1], (int64_t)w[2], (int64_t)w[3], (int64_t)w[4], (ev->aux & WEFT_SCHED_BASELINE) != 0};
      g_array_append_val(im->scheds, s);
      break;
    }
    case WEFT_EV_NAME_OBJECT: {
      size_t len;
      const char *s = weft_event_string(ev, 2, &len);
      g_hash_table_insert(im->names, GSIZE_TO_POINTER((gsize)w[1]), g_strndup(s, len));
      break;
    }
    case WEFT_EV_MARK: read_mark(im, ev, ns); break;
    default: break;
  }
  return im->sql.failed ? -1 : 0;
}
