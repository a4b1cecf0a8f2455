/* threads.c - the threads of one process image.
 * SPDX-License-Identifier: MIT
 *
 * A tid reused (a new THREAD_START for it) is a new thread: each tid has a
 * chain of threads, and a record belongs to the one alive at its time.
 * Threads are also found by their pthread_t (joins, names given from
 * another thread, create -> start). Once the file is read: how each thread
 * ended, its CPU and run-queue time from its schedstat readings, and its
 * rows (thread, sched_sample, mark, and the create -> start flows).
 */
#include "config.h"

#include "import-private.h"

Thr *thr_new(Imp *im, uint32_t tid, int64_t ns) {
  Thr *t = g_new0(Thr, 1);
  t->utid = ++im->next_utid;
  t->tid = tid;
  t->first_ns = t->last_ns = ns;
  t->start_ns = ns;
  t->exit_ns = -1;
  t->named_ns = -1;
  t->mpi_end = -1;
  t->holds = g_array_new(FALSE, FALSE, sizeof(Hold));
  g_ptr_array_add(im->threads, t);
  Thr *prev = g_hash_table_lookup(im->thr_by_tid, GUINT_TO_POINTER(tid));
  if (prev)
    prev->next_same_tid = t;
  else
    g_hash_table_insert(im->thr_first, GUINT_TO_POINTER(tid), t);
  g_hash_table_insert(im->thr_by_tid, GUINT_TO_POINTER(tid), t);
  im->tc_thr = NULL;
  return t;
}

void thr_free(gpointer p) {
  Thr *t = p;
  g_array_free(t->holds, TRUE);
  if (t->rounds.own) g_free(t->rounds.buf);
  if (t->starts.own) g_free(t->starts.buf);
  g_free(t->name);
  g_free(t);
}

/* (pass 2 and cross-references) */
Thr *thr_at(Imp *im, uint32_t tid, int64_t ns) {
  Thr *t = g_hash_table_lookup(im->thr_first, GUINT_TO_POINTER(tid));
  Thr *best = t;
  for (; t; t = t->next_same_tid)
    if (t->start_ns <= ns) best = t;
  return best;
}

int64_t utid_at(Imp *im, uint32_t tid, int64_t ns) {
  if (!tid) return 0;
  Thr *t = thr_at(im, tid, ns);
  return t ? t->utid : 0;
}

/* pthread_t -> the threads of the file that had it (GPtrArray of Thr*): a
 * program creating tens of thousands of threads joins each by its pthread_t. */
void thr_set_self(Imp *im, Thr *t, uint64_t self) {
  t->self = self;
  GPtrArray *v = g_hash_table_lookup(im->thr_by_self, &t->self);
  if (!v) {
    v = g_ptr_array_new();
    g_hash_table_insert(im->thr_by_self, g_memdup2(&t->self, sizeof t->self), v);
  }
  g_ptr_array_add(v, t);
}

/* the first thread with pthread_t self that started at or after after_ns */
static Thr *thr_by_self(Imp *im, uint64_t self, int64_t after_ns) {
  Thr *best = NULL;
  GPtrArray *v = self ? g_hash_table_lookup(im->thr_by_self, &self) : im->threads; /* 0: threads without a START */
  for (guint i = 0; v && i < v->len; i++) {
    Thr *t = v->pdata[i];
    if (t->self == self && t->start_ns >= after_ns && (!best || t->start_ns < best->start_ns)) best = t;
  }
  return best;
}

Thr *thr_by_self_at(Imp *im, uint64_t self, int64_t ns) {
  Thr *best = NULL;
  GPtrArray *v = self ? g_hash_table_lookup(im->thr_by_self, &self) : im->threads; /* 0: threads without a START */
  for (guint i = 0; v && i < v->len; i++) {
    Thr *t = v->pdata[i];
    if (t->self == self && t->start_ns <= ns && (!best || t->start_ns > best->start_ns)) best = t;
  }
  return best;
}

/* ---- once the file is read ---- */
/* The reading a thread's schedstat counts from, or NULL (from 0 at its
 * start): a main thread's reading at its image's start (its counters run
 * from its process's fork). Flagged by the agent; a fork child's main thread
 * has none. Files from before the flag: a main thread's first reading. */
/* Readings of t's tid up to this instant are t's: a thread reads its own
 * last one while it exits, after its THREAD_EXIT (on a busy machine, many
 * ms later), so up to the next thread with that tid, or a second on. */
static int64_t sched_until(const Thr *t) {
  return t->next_same_tid ? t->next_same_tid->start_ns : t->end_ns + 1000000000;
}

static const SchedRec *sched_baseline(Imp *im, Thr *t) {
  if (!t->sched_base) { /* once per thread (readings are all in by now) */
    t->sched_base = -1;
    for (guint k = 0; k < im->scheds->len && (t->is_main || !im->sched_base); k++) {
      const SchedRec *b = &g_array_index(im->scheds, SchedRec, k);
      if (b->tid != t->tid || b->ns < t->start_ns || b->ns > sched_until(t)) continue;
      if (im->sched_base ? b->base : t->is_main) t->sched_base = (int64_t)k + 1;
      if (!im->sched_base || b->base) break;
    }
  }
  return t->sched_base > 0 ? &g_array_index(im->scheds, SchedRec, t->sched_base - 1) : NULL;
}

/* when did it end, and how */
static void thread_finish(Imp *im, Proc *p, Thr *t) {
  if (t->is_main || (!t->has_start && t == g_hash_table_lookup(im->thr_first, GUINT_TO_POINTER(p->pid))))
    t->start_ns = p->start_ns;
  if (t->has_exit && t->exit_how != WEFT_EXIT_AT_PROCESS_EXIT) {
    t->end_ns = t->exit_ns;
    t->end_how = t->exit_how == WEFT_EXIT_PTHREAD_EXIT ? "pthread_exit" : "return";
  } else if (t->has_exit) {
    t->end_ns = t->exit_ns;
    t->end_how = "process_exit";
  } else {
    t->end_ns = p->end_ns;
    t->end_how = !strcmp(p->end_how, "exec") ? "exec" : !strcmp(p->end_how, "killed") ? "killed" : "process_exit";
  }
  if (t->end_ns < t->start_ns) t->end_ns = t->start_ns;
}

void threads_prepare_pass2(Imp *im, Proc *p) {
  for (guint i = 0; i < im->threads->len; i++) thread_finish(im, p, im->threads->pdata[i]);
  for (guint i = 0; i < im->threads->len; i++) {
    Thr *t = im->threads->pdata[i];
    t->st = WEFT_ST_RUNNING;
    t->st_start = t->start_ns;
    if (t->is_main) p->main_utid = t->utid;
  }
  if (!p->main_utid) {
    Thr *m = g_hash_table_lookup(im->thr_first, GUINT_TO_POINTER(p->pid));
    if (m) p->main_utid = m->utid;
  }
  /* pass 2 starts every tid at the first thread of its chain */
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, im->thr_first);
  while (g_hash_table_iter_next(&it, &k, &v)) g_hash_table_insert(im->thr_by_tid, k, v);
  im->tc_thr = NULL;
}

/* schedstat: the last reading of the thread, less its baseline */
static void thread_sched_times(Imp *im, Thr *t) {
  const SchedRec *b = sched_baseline(im, t);
  int64_t base_ns = b ? b->ns : t->start_ns;
  for (guint j = 0; j < im->scheds->len; j++) {
    SchedRec *s = &g_array_index(im->scheds, SchedRec, j);
    if (s->tid == t->tid && s->ns >= t->start_ns && s->ns <= sched_until(t)) {
      t->cpu_ns = s->cpu - (b ? b->cpu : 0);
      t->runq_ns = s->runq - (b ? b->runq : 0);
      /* a thread is on a CPU or in its run queue at most the wall time
       * between the readings: a vfork child's first reading after exec
       * can be a stale 0, its next one counting the time since the vfork */
      int64_t wall = ((int64_t)s->ns < t->end_ns ? (int64_t)s->ns : t->end_ns) - base_ns; /* a late one: to the end */
      if (wall < 0) wall = 0;
      if (t->cpu_ns > wall) t->cpu_ns = wall;
      if (t->runq_ns > wall - t->cpu_ns) t->runq_ns = wall - t->cpu_ns;
    }
  }
}

void thread_write(Imp *im, Proc *p, Thr *t) {
  thread_sched_times(im, t);
  sqlite3_stmt *q = im->ins_thread;
  Thr *creator = t->creator_tid ? thr_at(im, t->creator_tid, t->start_ns) : NULL;
  const char *name = t->name;
  char *base = NULL;
  if (!name || !*name) {
    const char *exe = p->exe && *p->exe ? p->exe : p->cmdline ? p->cmdline : "";
    const char *sl = strrchr(exe, '/');
    base = g_strdup(sl ? sl + 1 : exe);
    name = base;
  }
  sqlite3_bind_int64(q, 1, t->utid);
  sqlite3_bind_int64(q, 2, p->upid);
  sqlite3_bind_int64(q, 3, t->tid);
  sqlite3_bind_text(q, 4, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(q, 5, t->is_main || t->tid == p->pid);
  imp_bind_opt(q, 6, creator ? creator->utid : 0);
  imp_bind_opt(q, 7, (int64_t)t->routine);
  imp_bind_opt(q, 8, t->routine ? frame_id(im, t->routine) : 0);
  sqlite3_bind_int64(q, 9, t->start_ns);
  sqlite3_bind_int64(q, 10, t->end_ns);
  sqlite3_bind_text(q, 11, t->end_how, -1, SQLITE_STATIC);
  if (t->cpu_ns || t->runq_ns) {
    sqlite3_bind_int64(q, 12, t->cpu_ns);
    sqlite3_bind_int64(q, 13, t->runq_ns);
  } else {
    sqlite3_bind_null(q, 12);
    sqlite3_bind_null(q, 13);
  }
  sqlite3_bind_int64(q, 14, t->lost);
  sqlite3_bind_int64(q, 15, t->pipe_bytes);
  sqlite3_bind_int64(q, 16, t->pipe_writes);
  sqlite3_bind_int64(q, 17, t->pipe_msgs);
  if (t->named_ns >= 0)
    sqlite3_bind_int64(q, 18, t->named_ns);
  else
    sqlite3_bind_null(q, 18);
  imp_step(im, q);
  g_free(base);
  im->stats->threads++;
}

/* schedstat samples, counted from the thread's start in this image (less
 * a main thread's baseline, taken at the image's start) */
void scheds_write(Imp *im) {
  for (guint j = 0; j < im->scheds->len; j++) {
    SchedRec *s = &g_array_index(im->scheds, SchedRec, j);
    Thr *st = thr_at(im, s->tid, s->ns);
    if (!st || !st->utid) continue;
    const SchedRec *b = sched_baseline(im, st);
    int64_t base_cpu = b ? b->cpu : 0, base_runq = b ? b->runq : 0;
    sqlite3_bind_int64(im->ins_sched, 1, st->utid);
    /* the reading a thread takes as it exits, after its recorded end: at its end */
    sqlite3_bind_int64(im->ins_sched, 2, s->ns > st->end_ns ? st->end_ns : s->ns);
    sqlite3_bind_int64(im->ins_sched, 3, s->cpu - base_cpu);
    sqlite3_bind_int64(im->ins_sched, 4, s->runq - base_runq);
    sqlite3_bind_int64(im->ins_sched, 5, s->slices);
    imp_step(im, im->ins_sched);
  }
}

/* marks: begin/end pairs per thread and id */
void marks_write(Imp *im, Proc *p) {
  for (guint j = 0; j < im->marks->len; j++) {
    MarkRec *m = &g_array_index(im->marks, MarkRec, j);
    if (m->how == WEFT_MARK_END) continue;
    int64_t end = m->ns;
    if (m->how == WEFT_MARK_BEGIN) {
      end = -1;
      for (guint k = j + 1; k < im->marks->len; k++) {
        MarkRec *e = &g_array_index(im->marks, MarkRec, k);
        if (e->how == WEFT_MARK_END && e->id == m->id && e->tid == m->tid) {
          end = e->ns;
          break;
        }
      }
      if (end < 0) end = p->end_ns;
    }
    sqlite3_bind_int64(im->ins_mark, 1, utid_at(im, m->tid, m->ns));
    sqlite3_bind_int64(im->ins_mark, 2, m->ns);
    sqlite3_bind_int64(im->ins_mark, 3, end - m->ns);
    sqlite3_bind_int64(im->ins_mark, 4, m->id);
    sqlite3_bind_text(im->ins_mark, 5, m->label, -1, SQLITE_TRANSIENT);
    imp_step(im, im->ins_mark);
  }
}

/* create -> start flows. A CREATE is written once pthread_create returned,
 * and the new thread may have started (even ended) before: so the k-th
 * create of pthread_t S by thread C made the k-th thread (in start order)
 * with pthread_t S and creator C (a pthread_t is reused only once joined).
 * The flow leaves the creator when the create returned, or at the thread's
 * start if that was earlier. */
static int cmp_thr_start(const void *x, const void *y) {
  const Thr *a = *(Thr *const *)x, *b = *(Thr *const *)y;
  return (a->start_ns > b->start_ns) - (a->start_ns < b->start_ns);
}

void creates_link(Imp *im) {
  GHashTable *made = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
  GHashTable *used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  GHashTable *by_utid = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (guint i = 0; i < im->threads->len; i++) {
    Thr *t = im->threads->pdata[i];
    g_hash_table_insert(by_utid, &t->utid, t);
    if (!t->has_start || !t->creator_tid) continue;
    char *k = g_strdup_printf("%" G_GUINT64_FORMAT ":%u", t->self, t->creator_tid);
    GPtrArray *v = g_hash_table_lookup(made, k);
    if (!v) g_hash_table_insert(made, g_strdup(k), v = g_ptr_array_new());
    g_ptr_array_add(v, t);
    g_free(k);
  }
  GHashTableIter it;
  gpointer key, val;
  g_hash_table_iter_init(&it, made);
  while (g_hash_table_iter_next(&it, &key, &val)) g_ptr_array_sort(val, cmp_thr_start);
  for (guint j = 0; j < im->creates->len; j++) {
    CreateEv *c = &g_array_index(im->creates, CreateEv, j);
    Thr *n = NULL, *creator = g_hash_table_lookup(by_utid, &c->utid);
    char *k = creator ? g_strdup_printf("%" G_GUINT64_FORMAT ":%u", c->self, creator->tid) : NULL;
    GPtrArray *v = k ? g_hash_table_lookup(made, k) : NULL;
    if (v) {
      guint nth = GPOINTER_TO_UINT(g_hash_table_lookup(used, k));
      if (nth < v->len) n = v->pdata[nth];
      g_hash_table_insert(used, g_strdup(k), GUINT_TO_POINTER(nth + 1));
    } else {
      n = thr_by_self(im, c->self, c->ns); /* no creator in its START (older traces) */
    }
    g_free(k);
    if (n) imp_flow(im, WEFT_FLOW_CREATE, c->utid, c->ns < n->start_ns ? c->ns : n->start_ns, n->utid, n->start_ns, 0);
  }
  g_hash_table_destroy(made);
  g_hash_table_destroy(used);
  g_hash_table_destroy(by_utid);
}
