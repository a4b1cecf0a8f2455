/* report.c - `weft report` renderers: text, JSON, Markdown (see report.h).
 * SPDX-License-Identifier: MIT
 *
 * Lists are cut to opt->top rows: findings by cost, sync objects by wait
 * time, regions by idle thread time, threads and processes in id order.
 * Durations are scaled for people in text and Markdown (weft_format_ns) and
 * raw ns in JSON; fractions are printed with 6 significant digits in JSON.
 * JSON is written with weft-json.h's streaming writer: names that are not
 * UTF-8 come out as valid JSON, the same as in `weft export`.
 */
#include "report.h"
#include "report-compare.h"
#include "report-mpi.h"
#include "report-table.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "python.h"
#include "weft-json.h"

int weft_report_format_parse(const char *s, WeftReportFormat *out) {
  if (!strcmp(s, "text"))
    *out = WEFT_REPORT_TEXT;
  else if (!strcmp(s, "json"))
    *out = WEFT_REPORT_JSON;
  else if (!strcmp(s, "markdown") || !strcmp(s, "md"))
    *out = WEFT_REPORT_MARKDOWN;
  else
    return -1;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* shared helpers                                                            */

/* Rotating buffers for formatted numbers, so that several can appear in one
 * call: one table row takes at most 16. */
#define NBUFS 32
typedef struct {
  char b[NBUFS][48];
  int i;
} Bufs;

static char *next_buf(Bufs *bf) { return bf->b[bf->i++ % NBUFS]; }

/* A duration for people. */
static const char *D(Bufs *bf, int64_t ns) {
  char *b = next_buf(bf);
  return weft_format_ns(b, sizeof bf->b[0], ns);
}

static const char *P(Bufs *bf, double f) {
  char *b = next_buf(bf);
  snprintf(b, sizeof bf->b[0], "%.1f%%", f * 100);
  return b;
}

static const char *I(Bufs *bf, int64_t v) {
  char *b = next_buf(bf);
  snprintf(b, sizeof bf->b[0], "%lld", (long long)v);
  return b;
}

/* v with a mark before it: "≈" for an estimate, "≥" for a lower bound. */
static const char *MARK(Bufs *bf, const char *mark, const char *v) {
  char tmp[sizeof bf->b[0]];
  snprintf(tmp, sizeof tmp, "%s%s", mark, v); /* v is one of bf's buffers */
  char *b = next_buf(bf);
  memcpy(b, tmp, sizeof tmp);
  return b;
}

/* The hold figures of an object: exact when every hold was recorded; with
 * contention first, the total and mean are estimates from the sample of timed
 * holds ("≈", "-" without one) and the longest is a lower bound ("≥"). */
static void hold_cells(Bufs *bf, const WeftMetrics *m, const WeftObjectMetrics *o, const char **total,
                       const char **mean, const char **mx) {
  bool h = o->holds > 0;
  if (m->holds_all || o->hold_est_ns < 0) {
    *total = h ? (m->holds_all ? D(bf, o->hold_ns) : MARK(bf, "≥", D(bf, o->hold_ns))) : "-";
    *mean = h && m->holds_all ? D(bf, o->hold_mean_ns) : "-";
    *mx = h ? (m->holds_all ? D(bf, o->hold_max_ns) : MARK(bf, "≥", D(bf, o->hold_max_ns))) : "-";
    return;
  }
  *total = MARK(bf, "≈", D(bf, o->hold_est_ns));
  *mean = o->acquisitions > 0 ? MARK(bf, "≈", D(bf, o->hold_est_ns / o->acquisitions)) : "-";
  *mx = MARK(bf, "≥", D(bf, o->hold_max_ns > o->hold_sample_max_ns ? o->hold_max_ns : o->hold_sample_max_ns));
}

static const char *acq_cell(Bufs *bf, const WeftObjectMetrics *o) {
  if (o->acquisitions < 0) return "-";
  return o->acquisitions_estimated ? MARK(bf, "≈", I(bf, o->acquisitions)) : I(bf, o->acquisitions);
}

static const char *F2(Bufs *bf, double v) {
  char *b = next_buf(bf);
  snprintf(b, sizeof bf->b[0], "%.2f", v);
  return b;
}

static size_t limit(long top, size_t n) { return top < 0 || (size_t)top >= n ? n : (size_t)top; }

/* Sync objects by wait time are already in order; regions by idle time: */
static int cmp_region_idle(const void *x, const void *y) {
  const WeftRegion *a = *(const WeftRegion *const *)x, *b = *(const WeftRegion *const *)y;
  if (a->pop.idle_ns != b->pop.idle_ns) return a->pop.idle_ns > b->pop.idle_ns ? -1 : 1;
  if (a->start_ns != b->start_ns) return (a->start_ns > b->start_ns) - (a->start_ns < b->start_ns);
  return (a > b) - (a < b); /* regions[] is in a fixed order */
}

static const WeftRegion **regions_by_idle(const WeftMetrics *m) {
  const WeftRegion **v = malloc((m->nregions ? m->nregions : 1) * sizeof *v);
  if (!v) return NULL;
  for (size_t i = 0; i < m->nregions; i++) v[i] = &m->regions[i];
  qsort(v, m->nregions, sizeof *v, cmp_region_idle);
  return v;
}

/* The wait state a thread (or process) spent the most time in, or -1. */
static int top_wait_state(const int64_t *state_ns) {
  int best = -1;
  for (int s = 1; s < WEFT_ST_COUNT; s++)
    if (state_ns[s] > 0 && (best < 0 || state_ns[s] > state_ns[best])) best = s;
  return best;
}

static const char *thread_label(const WeftMetrics *m, int64_t utid, char *buf, size_t len) {
  if (utid < 0) {
    snprintf(buf, len, "-");
    return buf;
  }
  return weft_metrics_thread_label(m, utid, buf, len);
}

static const char *range_desc(const WeftMetrics *m, Bufs *bf, char *buf, size_t len) {
  snprintf(buf, len, "%s%s .. %s (%s)", m->whole ? "whole recording, " : "", D(bf, m->range_start_ns),
           D(bf, m->range_end_ns), D(bf, m->range_end_ns - m->range_start_ns));
  return buf;
}

/* ------------------------------------------------------------------------ */
/* text                                                                      */

static void text_header(FILE *f, const WeftMetrics *m, const WeftReportOptions *opt, Bufs *bf) {
  char buf[256];
  fprintf(f, "weft report%s%s\n", opt->database ? ": " : "", opt->database ? opt->database : "");
  Table t;
  table_init(&t, "ll");
  if (*m->command) table_row(&t, "command", m->command);
  const WeftProcessMetrics *prog = m->launchers ? weft_metrics_process(m, m->program_upid) : NULL;
  if (prog && *prog->cmdline) {
    char pl[512];
    if (m->mpi_launchers)
      snprintf(pl, sizeof pl, "%s  (%zu MPI ranks; rank %lld: pid %lld, image %lld)", prog->cmdline,
               m->mpi ? m->mpi->nranks : 0, (long long)prog->mpi_rank, (long long)prog->pid, (long long)prog->image);
    else
      snprintf(pl, sizeof pl, "%s  (pid %lld, image %lld)", prog->cmdline, (long long)prog->pid,
               (long long)prog->image);
    table_row(&t, "program", pl);
  }
  table_row(&t, "range", range_desc(m, bf, buf, sizeof buf));
  char scope[256], pid[48] = "";
  if (m->pid >= 0) snprintf(pid, sizeof pid, "pid %lld: ", (long long)m->pid);
  int n = snprintf(scope, sizeof scope, "%s%zu process%s, %zu thread%s", pid, m->summary.nprocesses,
                   m->summary.nprocesses == 1 ? "" : "es", m->summary.nthreads, m->summary.nthreads == 1 ? "" : "s");
  if (m->launchers && n > 0 && (size_t)n < sizeof scope)
    snprintf(scope + n, sizeof scope - (size_t)n, ": the %s; %zu launcher process%s %sleft out (--all-processes)",
             m->mpi_launchers ? "MPI ranks" : "program", m->launchers, m->launchers == 1 ? "" : "es",
             m->mpi_launchers ? "(mpirun's) " : "before it ");
  table_row(&t, "scope", scope);
  char rec[512];
  int rn = snprintf(rec, sizeof rec, "%s CPU%s, %lld lost events; holds: %s", m->ncpus >= 0 ? I(bf, m->ncpus) : "?",
                    m->ncpus == 1 ? "" : "s", (long long)m->lost_events,
                    m->holds_all ? "every one recorded"
                                 : "contended ones recorded, the "
                                   "rest counted");
  if (m->counts_incomplete > 0 && rn > 0 && (size_t)rn < sizeof rec)
    snprintf(rec + rn, sizeof rec - (size_t)rn,
             "; %lld process%s killed before exit: its lock counts miss up to "
             "%lld ms of each thread's work (what it did after it last wrote its counts)",
             (long long)m->counts_incomplete, m->counts_incomplete == 1 ? " was" : "es were",
             (long long)(m->counts_flush_ms > 0 ? m->counts_flush_ms : 50));
  table_row(&t, "recording", rec);
  if (m->salvaged_files > 0) {
    char salv[1400];
    snprintf(salv, sizeof salv,
             "%lld corrupt trace file%s imported only up to the fault (weft import --salvage): "
             "the numbers are incomplete; first: %s",
             (long long)m->salvaged_files, m->salvaged_files == 1 ? "" : "s", m->salvaged);
    table_row(&t, "SALVAGED", salv);
  }
  if (m->other_cpu_ns >= 0 || m->cpu_limit_milli > 0) {
    char mach[256];
    int mn = 0;
    mach[0] = '\0';
    if (m->other_cpu_ns >= 0)
      mn = snprintf(mach, sizeof mach, "other processes used %s of CPU time during the run", D(bf, m->other_cpu_ns));
    if (m->machine_steal_ns > 0 && mn >= 0 && (size_t)mn < sizeof mach)
      mn += snprintf(mach + mn, sizeof mach - (size_t)mn, ", the hypervisor took %s", D(bf, m->machine_steal_ns));
    if (m->cpu_limit_milli > 0 && mn >= 0 && (size_t)mn < sizeof mach)
      snprintf(mach + mn, sizeof mach - (size_t)mn, "%scgroup CPU limit %.2f CPUs", mn ? "; " : "",
               (double)m->cpu_limit_milli / 1000);
    table_row(&t, "machine", mach);
  }
  for (size_t i = 0; i < m->nfindings; i++)
    if (m->findings[i].kind == WEFT_FIND_MACHINE_LOAD) table_row(&t, "warning", m->findings[i].title);
  table_text(f, &t, 2);
  table_free(&t);
}

static void text_summary(FILE *f, const WeftMetrics *m, Bufs *bf) {
  const WeftSummary *s = &m->summary;
  char buf[512];
  fprintf(f, "\nSummary\n");
  Table t;
  table_init(&t, "ll");
  snprintf(buf, sizeof buf, "%.2f  (load balance %.2f x synchronisation efficiency %.2f)", s->pop.pe, s->pop.lb,
           s->pop.synce);
  table_row(&t, "parallel efficiency", buf);
  if (s->pop_left_out) {
    snprintf(buf, sizeof buf, "over %zu threads: the MPI library's %zu left out", s->pop.n, s->pop_left_out);
    table_row(&t, "", buf);
  }
  if (m->what & WEFT_METRICS_PARALLELISM) {
    const WeftParallelism *p = &m->parallelism;
    if (p->oversubscribed) /* more threads ran than CPUs: what the CPUs did, then what the threads asked */
      snprintf(buf, sizeof buf, "%.2f  on a CPU, of %g CPU%s (%.2f threads running or runnable, at most %zu at once)",
               p->cpus_used, p->cpus, p->cpus == 1 ? "" : "s", p->average, p->kmax);
    else
      snprintf(buf, sizeof buf, "%.2f  (at most %zu thread%s running at once)", p->average, p->kmax,
               p->kmax == 1 ? "" : "s");
    table_row(&t, "average parallelism", buf);
  }
  double tt = s->thread_ns > 0 ? (double)s->thread_ns : 1;
  const WeftTimeSplit *ts = &s->time;
  /* two rows: what ran and what waited */
  snprintf(buf, sizeof buf, "%s: on a CPU %s (%s), runnable %s (%s),", D(bf, s->thread_ns), D(bf, ts->oncpu_ns),
           P(bf, (double)ts->oncpu_ns / tt), D(bf, ts->runnable_ns), P(bf, (double)ts->runnable_ns / tt));
  table_row(&t, "thread time", buf);
  snprintf(buf, sizeof buf, "waiting %s (%s), off a CPU elsewhere %s (%s)", D(bf, ts->waiting_ns),
           P(bf, (double)ts->waiting_ns / tt), D(bf, ts->offcpu_ns), P(bf, (double)ts->offcpu_ns / tt));
  table_row(&t, "", buf);
  if (ts->interpolated_ns > 0) {
    snprintf(buf, sizeof buf, "%s of it between scheduler readings the range cuts: those parts interpolated",
             D(bf, ts->interpolated_ns));
    table_row(&t, "", buf);
  }
  if (ts->assumed_ns > 0) {
    snprintf(buf, sizeof buf, "%s of the time on a CPU is running time without scheduler readings, assumed on a CPU",
             D(bf, ts->assumed_ns));
    table_row(&t, "", buf);
  }
  /* the wait states, largest first */
  int order[WEFT_ST_COUNT], n = 0;
  for (int k = 1; k < WEFT_ST_COUNT; k++)
    if (s->state_ns[k] > 0) order[n++] = k;
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && s->state_ns[order[j]] > s->state_ns[order[j - 1]]; j--) {
      int x = order[j];
      order[j] = order[j - 1];
      order[j - 1] = x;
    }
  if (n) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < sizeof buf; i++)
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s %s", i ? ", " : "", weft_state_name(order[i]),
                              D(bf, s->state_ns[order[i]]));
    table_row(&t, "recorded waits", buf);
  }
  table_text(f, &t, 2);
  table_free(&t);
}

/* Print text word-wrapped at TEXT_WIDTH columns: the first line starts with
 * first (indent columns wide, or indent blanks when first is ""), the next
 * ones with indent blanks. */
#define TEXT_WIDTH 100
static void wrap(FILE *f, const char *first, size_t indent, const char *text) {
  if (*first)
    fputs(first, f);
  else
    text_pad(f, indent);
  size_t col = indent;
  const char *p = text;
  while (*p) {
    while (*p == ' ') p++;
    if (!*p) break;
    size_t len = strcspn(p, " "), wlen = 0;
    for (size_t k = 0; k < len; k++) wlen += ((unsigned char)p[k] & 0xc0) != 0x80;
    if (col > indent && col + 1 + wlen > TEXT_WIDTH) {
      fputc('\n', f);
      text_pad(f, indent);
      col = indent;
    } else if (col > indent) {
      fputc(' ', f);
      col++;
    }
    fwrite(p, 1, len, f);
    col += wlen;
    p += len;
  }
  fputc('\n', f);
}

static void text_findings(FILE *f, const WeftMetrics *m, long top, Bufs *bf) {
  size_t n = limit(top, m->nfindings);
  fprintf(f, "\nFindings");
  if (!m->nfindings) {
    fprintf(f, "\n  none: no wait, imbalance or serial phase costs 1%% or more of the thread time\n");
    return;
  }
  if (n < m->nfindings)
    fprintf(f, " (top %zu of %zu, ranked by the time they cost)\n", n, m->nfindings);
  else
    fprintf(f, " (ranked by the time they cost)\n");
  for (size_t i = 0; i < n; i++) {
    const WeftFinding *fd = &m->findings[i];
    char num[16], line[1024];
    int w = snprintf(num, sizeof num, "  %zu. ", i + 1);
    wrap(f, num, (size_t)w, fd->title);
    /* a warning about the measurement (machine_load's or unrecorded's, listed last) is no cost */
    if (weft_finding_is_warning(fd))
      snprintf(line, sizeof line, "not a cost (a warning about the measurement); %s", fd->evidence);
    else
      snprintf(line, sizeof line, "cost %s%s; %s", D(bf, fd->cost_ns), fd->by_design ? " (idle by design)" : "",
               fd->evidence);
    wrap(f, "", (size_t)w, line);
    snprintf(line, sizeof line, "fix: %s", fd->fix);
    wrap(f, "", (size_t)w, line);
  }
}

static void text_processes(FILE *f, const WeftMetrics *m, long top, Bufs *bf) {
  size_t n = limit(top, m->nprocesses);
  if (!m->nprocesses) return;
  fprintf(f, "\nProcesses");
  if (n < m->nprocesses) fprintf(f, " (first %zu of %zu)", n, m->nprocesses);
  fprintf(f, "\n");
  Table t;
  table_init(&t, "rllrrrrrrrrl");
  table_row(&t, "PID", "COMMAND", "", "LIFETIME", "THREADS", "ON CPU", "RUNNABLE", "WAITING", "LB", "SYNCE", "PE",
            "END");
  for (size_t i = 0; i < n; i++) {
    const WeftProcessMetrics *p = &m->processes[i];
    char pid[48], cmd[64], end[64], img[24] = "";
    snprintf(pid, sizeof pid, "%lld", (long long)p->pid);
    if (p->image) snprintf(img, sizeof img, "(image %lld)", (long long)p->image);
    const char *c = *p->cmdline ? p->cmdline : p->exe;
    if (text_width(c) > 40)
      snprintf(cmd, sizeof cmd, "%.37s...", c);
    else
      snprintf(cmd, sizeof cmd, "%s", c);
    if (p->has_exit_status)
      snprintf(end, sizeof end, "%s %lld", p->end_how, (long long)p->exit_status);
    else
      snprintf(end, sizeof end, "%s", p->end_how);
    table_row(&t, pid, cmd, img, D(bf, p->lifetime_ns), I(bf, (int64_t)p->nthreads), D(bf, p->time.oncpu_ns),
              D(bf, p->time.runnable_ns), D(bf, p->time.waiting_ns), F2(bf, p->pop.lb), F2(bf, p->pop.synce),
              F2(bf, p->pop.pe), end);
  }
  table_text(f, &t, 2);
  table_free(&t);
}

static void text_threads(FILE *f, const WeftMetrics *m, long top, Bufs *bf) {
  size_t n = limit(top, m->nthreads);
  if (!m->nthreads) return;
  fprintf(f, "\nThreads");
  if (n < m->nthreads) fprintf(f, " (first %zu of %zu)", n, m->nthreads);
  fprintf(f, "\n");
  Table t;
  bool assumed = false;
  table_init(&t, "lrrrrrrrl");
  table_row(&t, "THREAD", "PID", "LIFETIME", "ON CPU", "ON CPU%", "RUNNABLE", "WAITING", "OFF CPU",
            "MOSTLY WAITING IN");
  for (size_t i = 0; i < n; i++) {
    const WeftThreadMetrics *th = &m->threads[i];
    char who[160], mw[96] = "-";
    weft_metrics_thread_label(m, th->utid, who, sizeof who);
    int ws = top_wait_state(th->state_ns);
    if (ws > 0) snprintf(mw, sizeof mw, "%s %s", weft_state_name(ws), D(bf, th->state_ns[ws]));
    const WeftTimeSplit *tm = &th->time;
    char oc[48];
    snprintf(oc, sizeof oc, "%s%s", D(bf, tm->oncpu_ns), tm->assumed_ns > tm->oncpu_ns / 2 ? "*" : "");
    table_row(&t, who, I(bf, th->pid), D(bf, th->lifetime_ns), oc,
              P(bf, th->lifetime_ns > 0 ? (double)tm->oncpu_ns / (double)th->lifetime_ns : 0), D(bf, tm->runnable_ns),
              D(bf, tm->waiting_ns), D(bf, tm->offcpu_ns), mw);
    if (tm->assumed_ns > tm->oncpu_ns / 2) assumed = true;
  }
  table_text(f, &t, 2);
  table_free(&t);
  if (assumed) fprintf(f, "  * mostly running time without scheduler readings, assumed on a CPU\n");
}

/* The contention table's CONTENDED cell: the waits that acquired (of the
 * acquisitions, where they are known), and the timed waits that timed out:
 * a condition variable waited on 40 times, 39 of them timing out, reads
 * "1, 39 timed out", not a bare 1 beside its 40 waits. */
static void contended_cell(char *buf, size_t size, Bufs *bf, const WeftObjectMetrics *o) {
  int n = o->contended_frac >= 0 ? snprintf(buf, size, "%lld (%s)", (long long)o->contended, P(bf, o->contended_frac))
                                 : snprintf(buf, size, "%lld", (long long)o->contended);
  if (o->timeouts > 0 && n > 0 && (size_t)n < size)
    snprintf(buf + n, size - (size_t)n, ", %lld timed out", (long long)o->timeouts);
}

static void text_objects(FILE *f, const WeftMetrics *m, long top, Bufs *bf) {
  if (!(m->what & WEFT_METRICS_OBJECTS)) return;
  size_t n = limit(top, m->nobjects);
  fprintf(f, "\nContention");
  if (!m->nobjects) {
    fprintf(f, "\n  no thread waited on or held a synchronisation object in the range\n");
    return;
  }
  if (n < m->nobjects)
    fprintf(f, " (top %zu of %zu objects, by wait time)\n", n, m->nobjects);
  else
    fprintf(f, " (by wait time)\n");
  Table t;
  table_init(&t, "llrrrrrrrrrrrr");
  table_row(&t, "OBJECT", "KIND", "ACQUIRED", "CONTENDED", "WAITED", "SHARE", "P50", "P99", "MAX", "HELD", "HOLD AVG",
            "HOLD MAX", "HAND-OFFS", "WAITERS");
  for (size_t i = 0; i < n; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    char cont[80];
    contended_cell(cont, sizeof cont, bf, o);
    bool w = o->waits > 0;
    const char *ht, *hm, *hx;
    hold_cells(bf, m, o, &ht, &hm, &hx);
    table_row(&t, o->label, o->kind_name, acq_cell(bf, o), cont, D(bf, o->wait_ns), P(bf, o->wait_share),
              w ? D(bf, o->wait_p50_ns) : "-", w ? D(bf, o->wait_p99_ns) : "-", w ? D(bf, o->wait_max_ns) : "-", ht, hm,
              hx, I(bf, o->handoffs), I(bf, o->waiters));
  }
  table_text(f, &t, 2);
  table_free(&t);
  if (!m->holds_all) {
    char note[512];
    snprintf(note, sizeof note,
             "Holds someone waited for are recorded exactly; the others are counted, and one in "
             "%lld is timed: ≈ marks a figure estimated from those timed holds, ≥ a lower bound (weft record "
             "--holds all records every hold).",
             (long long)m->hold_sample);
    wrap(f, "  ", 2, note);
  }

  bool any = false;
  for (size_t i = 0; i < n; i++) any |= m->objects[i].nsites > 0;
  if (!any) return;
  fprintf(f, "\n  Call sites (where the waits were called)\n");
  for (size_t i = 0; i < n; i++) {
    const WeftObjectMetrics *o = &m->objects[i];
    if (!o->nsites) continue;
    fprintf(f, "    %s", o->label);
    if (o->nsites_total > o->nsites) fprintf(f, " (top %zu of %zu sites)", o->nsites, o->nsites_total);
    fprintf(f, "\n");
    Table s;
    table_init(&s, "rrl");
    for (size_t k = 0; k < o->nsites; k++) {
      char waits[48];
      snprintf(waits, sizeof waits, "%lld wait%s", (long long)o->sites[k].waits, o->sites[k].waits == 1 ? "" : "s");
      table_row(&s, D(bf, o->sites[k].wait_ns), waits, o->sites[k].label);
    }
    table_text(f, &s, 6);
    table_free(&s);
  }
}

static void text_regions(FILE *f, const WeftMetrics *m, long top, Bufs *bf) {
  if (!(m->what & WEFT_METRICS_REGIONS)) return;
  size_t n = limit(top, m->nregions);
  fprintf(f, "\nRegions");
  if (!m->nregions) {
    fprintf(f, "\n  none: no barrier rounds, fork-join groups or marked phases in the range\n");
    return;
  }
  if (n < m->nregions)
    fprintf(f, " (top %zu of %zu, by idle thread time)\n", n, m->nregions);
  else
    fprintf(f, " (by idle thread time)\n");
  const WeftRegion **v = regions_by_idle(m);
  if (!v) return;
  Table t;
  table_init(&t, "lrrrrrrlr");
  table_row(&t, "REGION", "START", "LENGTH", "TEAM", "LB", "SYNCE", "PE", "STRAGGLER", "IDLE");
  for (size_t i = 0; i < n; i++) {
    const WeftRegion *r = v[i];
    char who[160], label[320];
    thread_label(m, r->straggler_utid, who, sizeof who);
    snprintf(label, sizeof label, "%s%s", r->label, r->clipped ? " (clipped)" : "");
    table_row(&t, label, D(bf, r->start_ns), D(bf, r->end_ns - r->start_ns), I(bf, (int64_t)r->nteam),
              F2(bf, r->pop.lb), F2(bf, r->pop.synce), F2(bf, r->pop.pe), who, D(bf, r->pop.idle_ns));
  }
  table_text(f, &t, 2);
  table_free(&t);
  free(v);
}

static void text_parallelism(FILE *f, const WeftMetrics *m, Bufs *bf) {
  if (!(m->what & WEFT_METRICS_PARALLELISM)) return;
  const WeftParallelism *p = &m->parallelism;
  if (p->oversubscribed)
    fprintf(f, "\nParallelism (average %.2f threads running or runnable on %g CPU%s; %.2f on a CPU)\n", p->average,
            p->cpus, p->cpus == 1 ? "" : "s", p->cpus_used);
  else
    fprintf(f, "\nParallelism (average %.2f threads running)\n", p->average);
  Table t;
  table_init(&t, "rrrl");
  table_row(&t, p->oversubscribed ? "RUNNING OR RUNNABLE" : "RUNNING", "TIME", "SHARE", "");
  for (size_t k = 0; k <= p->kmax; k++) {
    if (!p->ns[k]) continue;
    char bar[48];
    size_t len = (size_t)(p->fraction[k] * 40 + 0.5);
    if (len > 40) len = 40;
    memset(bar, '#', len);
    bar[len] = '\0';
    table_row(&t, I(bf, (int64_t)k), D(bf, p->ns[k]), P(bf, p->fraction[k]), bar);
  }
  table_text(f, &t, 2);
  table_free(&t);
}

/* "without the waits on X: 24.0 ms instead of 100 ms (-76%)" into buf. */
static const char *whatif_line(const WeftMetrics *m, const WeftWhatIf *w, Bufs *bf, char *buf, size_t len) {
  const WeftCriticalPath *cp = m->critical_path;
  char what[400];
  if (w->kind == WEFT_WHATIF_OBJECT) {
    snprintf(what, sizeof what, "without the waits on %s", w->label);
  } else {
    char who[160];
    thread_label(m, w->utid, who, sizeof who);
    snprintf(what, sizeof what, "with the work of %s in %s spread evenly over its team", who, w->label);
  }
  char floor[240];
  weft_work_floor_note(m, &w->floor, floor, sizeof floor);
  if (w->saving_ns <= 0) /* say so, not "-0.0%" */
    snprintf(buf, len, "%s: no shorter (%s; %s)", what, D(bf, cp->length_ns),
             w->floor.cpus > 0               ? floor + 2
             : w->kind == WEFT_WHATIF_OBJECT ? "its waits were off the critical path"
                                             : "the excess work was off the critical path");
  else if (w->saving_ns * 1000 < cp->length_ns)
    snprintf(buf, len, "%s: %s instead of %s (under 0.1%%%s)", what, D(bf, w->predicted_ns), D(bf, cp->length_ns),
             floor);
  else
    snprintf(buf, len, "%s: %s instead of %s (-%s%s)", what, D(bf, w->predicted_ns), D(bf, cp->length_ns),
             P(bf, cp->length_ns > 0 ? (double)w->saving_ns / (double)cp->length_ns : 0), floor);
  return buf;
}

/* What-ifs of the critical path that were not replayed (the replay's are shown instead). */
static size_t estimates_left(const WeftCriticalPath *cp) {
  size_t n = 0;
  for (size_t i = 0; i < cp->nwhatifs; i++) n += !cp->whatifs[i].replayed;
  return n;
}

static void text_critical_path(FILE *f, const WeftMetrics *m, long top, Bufs *bf) {
  const WeftCriticalPath *cp = m->critical_path;
  if (!cp) return;
  fprintf(f, "\nCritical path (%s; %lld flow%s followed)\n", D(bf, cp->length_ns), (long long)cp->jumps,
          cp->jumps == 1 ? "" : "s");
  if (!cp->nthreads) {
    fprintf(f, "  no thread on the path in the range\n");
    return;
  }
  size_t n = limit(top, cp->nthreads);
  Table t;
  table_init(&t, "lrrr");
  table_row(&t, "THREAD", "ON PATH", "SHARE", "RUNNING");
  for (size_t i = 0; i < n; i++) {
    const WeftPathThread *pt = &cp->threads[i];
    table_row(&t, pt->label, D(bf, pt->path_ns), P(bf, pt->share), D(bf, pt->running_ns));
  }
  if (cp->before_ns > 0) table_row(&t, "(before the first thread)", D(bf, cp->before_ns), "", "");
  if (cp->after_ns > 0) table_row(&t, "(after the last thread)", D(bf, cp->after_ns), "", "");
  table_text(f, &t, 2);
  table_free(&t);
  if (cp->nobjects) {
    n = limit(top, cp->nobjects);
    fprintf(f, "\n");
    table_init(&t, "llrrr");
    table_row(&t, "OBJECT", "KIND", "CAUSED", "SHARE", "HELD ON PATH");
    for (size_t i = 0; i < n; i++) {
      const WeftPathObject *po = &cp->objects[i];
      table_row(&t, po->label, po->kind_name, po->cause_ns ? D(bf, po->cause_ns) : "-", P(bf, po->share),
                po->hold_ns ? D(bf, po->hold_ns) : "-");
    }
    table_text(f, &t, 2);
    table_free(&t);
  }
  if (cp->nsites) {
    n = limit(top < 0 || top > 3 ? 3 : top, cp->nsites);
    fprintf(f, "\n  Call sites of the waits on the path\n");
    table_init(&t, "rll");
    for (size_t i = 0; i < n; i++) {
      char on[400];
      snprintf(on, sizeof on, "on %s", cp->sites[i].object_label);
      table_row(&t, D(bf, cp->sites[i].cause_ns), cp->sites[i].label, on);
    }
    table_text(f, &t, 6);
    table_free(&t);
  }
  if (estimates_left(cp)) {
    fprintf(f, "\nWhat if (an estimate from the critical path, not a simulation)\n");
    for (size_t i = 0; i < cp->nwhatifs; i++) {
      char line[800];
      if (!cp->whatifs[i].replayed) fprintf(f, "  %s\n", whatif_line(m, &cp->whatifs[i], bf, line, sizeof line));
    }
  }
}

/* "uses: dask (threads), threading": the parallel libraries of a Python
 * program into buf; false when none. */
static bool uses_line(const WeftPython *py, char *buf, size_t len) {
  size_t n = (size_t)snprintf(buf, len, "uses: ");
  for (size_t i = 0; i < py->nlibraries && n < len; i++)
    n += (size_t)snprintf(buf + n, len - n, "%s%s%s%s%s", i ? ", " : "", py->libraries[i].name,
                          *py->libraries[i].variant ? " (" : "", py->libraries[i].variant,
                          *py->libraries[i].variant ? ")" : "");
  return py->nlibraries > 0;
}

/* The verdict in text: a short section under the header. */
static void text_verdict(FILE *f, const WeftMetrics *m) {
  const WeftPython *py = m->python;
  if (!py || !py->verdict.choice) return;
  fprintf(f, "\nVerdict: %s\n", py->verdict.choice);
  wrap(f, "", 2, py->verdict.text);
  char line[600];
  if (uses_line(py, line, sizeof line)) wrap(f, "", 2, line);
}

/* "hot keeps no one waiting: 41.0 ms instead of 80.2 ms (-49 %)" into buf;
 * a change no larger than the unchanged replay's own error says so: the
 * model cannot tell it from no change. */
static const char *replay_line(const WeftMetrics *m, const WeftReplayResult *x, Bufs *bf, char *buf, size_t len) {
  const WeftReplay *rp = m->replay;
  double frac = rp->recorded_ns > 0 ? (double)x->saving_ns / (double)rp->recorded_ns : 0;
  bool within = rp->error != 0 && fabs(frac) <= fabs(rp->error);
  char floor[240];
  weft_work_floor_note(m, &x->floor, floor, sizeof floor);
  if (x->saving_ns == 0 && rp->error == 0) { /* (no error bar to be within: not "-0.0%") */
    snprintf(buf, len, "%s: no shorter (%s%s)%s", x->description, D(bf, rp->recorded_ns), floor,
             x->forced ? " (some waits no one ended were skipped)" : "");
    return buf;
  }
  snprintf(buf, len, "%s: %s instead of %s (%s%s%s%s)%s", x->description, D(bf, x->predicted_ns),
           D(bf, rp->recorded_ns), frac >= 0 ? "-" : "+", P(bf, frac >= 0 ? frac : -frac),
           within ? ", within the error bar" : "", floor, x->forced ? " (some waits no one ended were skipped)" : "");
  return buf;
}

/* "the replay of the recording unchanged: 79.1 ms, -1.4 % off" into buf. */
static const char *replay_error_line(const WeftReplay *rp, Bufs *bf, char *buf, size_t len) {
  char cpus[400] = "no CPU limit";
  if (rp->cpus > 0 && rp->background >= 0.05)
    snprintf(cpus, sizeof cpus, "%lld CPU%s shared with other work (as %.1f threads always ready)", (long long)rp->cpus,
             rp->cpus == 1 ? "" : "s", rp->background);
  else if (rp->cpus > 0)
    snprintf(cpus, sizeof cpus, "%lld CPU%s", (long long)rp->cpus, rp->cpus == 1 ? "" : "s");
  snprintf(buf, len, "replayed unchanged on %s: %s for %s recorded, %s%s off (the predictions' error bar)", cpus,
           D(bf, rp->replayed_ns), D(bf, rp->recorded_ns), rp->error >= 0 ? "+" : "-",
           P(bf, rp->error >= 0 ? rp->error : -rp->error));
  return buf;
}

/* An unchanged replay further off than this from the recording: its
 * predictions are said to be rough (a prediction is the changed replay
 * with as much of that miss as the change keeps; on a VM whose wake-ups
 * took 20 us, convoys replayed 12-33 % short and predictions that kept it
 * were off by as much). */
#define REPLAY_ROUGH 0.15

static const char *replay_rough_line(const WeftReplay *rp, char *buf, size_t len) {
  if (fabs(rp->error) <= REPLAY_ROUGH) return NULL;
  snprintf(buf, len,
           "the replay misses this recording by more than %.0f%%: take these predictions as rough, and measure "
           "a change before relying on its figure",
           100 * REPLAY_ROUGH);
  return buf;
}

/* How the replay filled in the holds that were counted, not recorded, when
 * it placed them (the model that came closer to the recording): into buf,
 * or NULL when it did not. */
static const char *replay_model_line(const WeftReplay *rp, char *buf, size_t len) {
  if (rp->placed_holds <= 0) return NULL;
  snprintf(buf, len,
           "(%lld lock hold%s the recording counted but did not time %s placed between the recorded ones; "
           "weft record --holds all times every hold)",
           (long long)rp->placed_holds, rp->placed_holds == 1 ? "" : "s", rp->placed_holds == 1 ? "was" : "were");
  return buf;
}

static void text_replay(FILE *f, const WeftMetrics *m, Bufs *bf) {
  const WeftReplay *rp = m->replay;
  if (!rp) return;
  fprintf(f, rp->defaults ? "\nWhat if (replayed: the critical path's changes re-run)\n" : "\nWhat if (replayed)\n");
  if (rp->unavailable) {
    fprintf(f, "  no replay: %s\n", rp->unavailable);
    return;
  }
  char line[900];
  for (size_t i = 0; i < rp->nresults; i++) {
    if (!rp->defaults && !rp->results[i].asked && (!i || rp->results[i - 1].asked))
      fprintf(f, "  and the critical path's changes:\n");
    fprintf(f, "  %s%s\n", rp->defaults || rp->results[i].asked ? "" : "  ",
            replay_line(m, &rp->results[i], bf, line, sizeof line));
  }
  fprintf(f, "  %s\n", replay_error_line(rp, bf, line, sizeof line));
  if (replay_rough_line(rp, line, sizeof line)) wrap(f, "", 2, line);
  if (replay_model_line(rp, line, sizeof line)) fprintf(f, "  %s\n", line);
}

static void write_text(FILE *f, const WeftMetrics *m, const WeftReportOptions *opt) {
  Bufs bf = {.i = 0};
  long top = opt->top ? opt->top : 10;
  if (opt->compare) weft_report_compare_text(f, opt->compare, opt->compare_database, opt->database, top);
  text_header(f, m, opt, &bf);
  text_verdict(f, m);
  text_summary(f, m, &bf);
  report_mpi_text(f, m);
  report_hosts_text(f, m);
  report_dask_text(f, m);
  if (m->what & WEFT_METRICS_FINDINGS) text_findings(f, m, top, &bf);
  text_critical_path(f, m, top, &bf);
  text_replay(f, m, &bf);
  text_processes(f, m, top, &bf);
  text_threads(f, m, top, &bf);
  text_objects(f, m, top, &bf);
  text_regions(f, m, top, &bf);
  text_parallelism(f, m, &bf);
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                      */

/* The report's members, each a key and its value (weft-json.h's writer). */
typedef WeftJsonWriter Json;

static void j_open(Json *j, const char *key, char c) {
  if (key) weft_json_key(j, key);
  if (c == '{')
    weft_json_begin_object(j);
  else
    weft_json_begin_array(j);
}

static void j_close(Json *j, char c) {
  if (c == '}')
    weft_json_end_object(j);
  else
    weft_json_end_array(j);
}

static void j_int(Json *j, const char *key, int64_t v) {
  weft_json_key(j, key);
  weft_json_int(j, v);
}

/* v, or null when v < 0 (unknown / none) */
static void j_opt(Json *j, const char *key, int64_t v) {
  weft_json_key(j, key);
  if (v < 0)
    weft_json_null(j);
  else
    weft_json_int(j, v);
}

/* 6 significant digits; -0 is 0, and NaN or infinity null */
static void j_num(Json *j, const char *key, double v) {
  weft_json_key(j, key);
  weft_json_double(j, "%.6g", v == 0 ? 0.0 : v);
}

/* The floor's JSON fields (WeftWorkFloor): cpus 0 when not raised. */
static void j_floor(Json *j, const WeftWorkFloor *f) {
  j_num(j, "floor_cpus", f->cpus);
  j_int(j, "floor_work_ns", f->work_ns);
  j_opt(j, "floor_utid", f->cpus > 0 ? f->utid : -1);
}

/* s, or null when there is none */
static void j_str(Json *j, const char *key, const char *s) {
  weft_json_key(j, key);
  if (s)
    weft_json_string(j, s);
  else
    weft_json_null(j);
}

static void j_bool(Json *j, const char *key, bool b) {
  weft_json_key(j, key);
  weft_json_bool(j, b);
}

static void j_states(Json *j, const int64_t *state_ns) {
  j_open(j, "states", '{');
  for (int s = 0; s < WEFT_ST_COUNT; s++) j_int(j, weft_state_name(s), state_ns[s]);
  j_close(j, '}');
}

/* "time": the four-way split (WeftTimeSplit) */
static void j_time(Json *j, const WeftTimeSplit *t) {
  j_open(j, "time", '{');
  j_int(j, "oncpu_ns", t->oncpu_ns);
  j_int(j, "runnable_ns", t->runnable_ns);
  j_int(j, "waiting_ns", t->waiting_ns);
  j_int(j, "offcpu_ns", t->offcpu_ns);
  j_int(j, "assumed_ns", t->assumed_ns);
  j_int(j, "interpolated_ns", t->interpolated_ns);
  j_open(j, "waiting_by_state", '{');
  for (int s = 1; s < WEFT_ST_COUNT; s++)
    if (t->waiting_state_ns[s]) j_int(j, weft_state_name(s), t->waiting_state_ns[s]);
  if (t->waiting_state_ns[0]) j_int(j, "other", t->waiting_state_ns[0]);
  j_close(j, '}');
  j_close(j, '}');
}

static void j_pop(Json *j, const WeftPop *p) {
  j_num(j, "load_balance", p->lb);
  j_num(j, "sync_efficiency", p->synce);
  j_num(j, "parallel_efficiency", p->pe);
  j_int(j, "max_useful_ns", p->max_useful_ns);
  j_int(j, "idle_ns", p->idle_ns);
  j_int(j, "imbalance_ns", p->imbalance_ns);
}

/* "recording" and "range": what was recorded and which part is reported */
static void json_recording(Json *j, const WeftMetrics *m) {
  j_open(j, "recording", '{');
  j_str(j, "command", m->command);
  j_str(j, "weft_version", m->weft_version);
  j_str(j, "clock", m->clock);
  j_opt(j, "ncpus", m->ncpus);
  j_int(j, "lost_events", m->lost_events);
  j_int(j, "end_ns", m->recording_end_ns);
  j_str(j, "holds", m->holds_all ? "all" : "contended");
  j_int(j, "hold_sample", m->hold_sample);
  j_int(j, "counts_incomplete", m->counts_incomplete);
  j_opt(j, "cpu_limit_milli", m->cpu_limit_milli);
  j_opt(j, "machine_busy_ns", m->machine_busy_ns);
  j_opt(j, "machine_steal_ns", m->machine_steal_ns);
  j_opt(j, "other_cpu_ns", m->other_cpu_ns);
  j_close(j, '}');

  j_open(j, "range", '{');
  j_int(j, "start_ns", m->range_start_ns);
  j_int(j, "end_ns", m->range_end_ns);
  j_int(j, "duration_ns", m->range_end_ns - m->range_start_ns);
  j_bool(j, "whole", m->whole);
  j_opt(j, "pid", m->pid);
  j_opt(j, "program_upid", m->program_upid);
  j_int(j, "launchers", (int64_t)m->launchers);
  weft_json_key(j, "mpi_launchers");
  weft_json_bool(j, m->mpi_launchers);
  j_close(j, '}');
}

/* "summary" and "counts" */
static void json_summary(Json *j, const WeftMetrics *m) {
  const WeftSummary *s = &m->summary;
  j_open(j, "summary", '{');
  j_int(j, "processes", (int64_t)s->nprocesses);
  j_int(j, "threads", (int64_t)s->nthreads);
  j_int(j, "thread_ns", s->thread_ns);
  j_int(j, "useful_ns", s->useful_ns);
  j_int(j, "wait_ns", s->wait_ns);
  j_opt(j, "cpu_ns", s->cpu_ns);
  j_opt(j, "runq_ns", s->runq_ns);
  j_time(j, &s->time);
  j_pop(j, &s->pop);
  j_int(j, "team_threads", (int64_t)s->pop.n);
  j_int(j, "team_left_out", (int64_t)s->pop_left_out);
  if (m->what & WEFT_METRICS_PARALLELISM) {
    j_num(j, "average_parallelism", m->parallelism.average);
    j_int(j, "max_parallelism", (int64_t)m->parallelism.kmax);
    j_num(j, "cpus_used", m->parallelism.cpus_used);
  }
  j_states(j, s->state_ns);
  j_close(j, '}');

  j_open(j, "counts", '{');
  j_int(j, "findings", (int64_t)m->nfindings);
  j_int(j, "processes", (int64_t)m->nprocesses);
  j_int(j, "threads", (int64_t)m->nthreads);
  j_int(j, "sync_objects", (int64_t)m->nobjects);
  j_int(j, "regions", (int64_t)m->nregions);
  j_close(j, '}');
}

static void json_findings(Json *j, const WeftMetrics *m, long top) {
  j_open(j, "findings", '[');
  for (size_t i = 0; i < limit(top, m->nfindings); i++) {
    const WeftFinding *fd = &m->findings[i];
    j_open(j, NULL, '{');
    j_int(j, "rank", (int64_t)i + 1);
    j_str(j, "kind", fd->kind_name);
    j_int(j, "cost_ns", fd->cost_ns);
    j_str(j, "title", fd->title);
    j_str(j, "evidence", fd->evidence);
    j_str(j, "fix", fd->fix);
    j_opt(j, "object_id", fd->object_id);
    j_opt(j, "utid", fd->utid);
    j_opt(j, "region", fd->region);
    j_bool(j, "by_design", fd->by_design);
    j_bool(j, "warning", weft_finding_is_warning(fd));
    j_close(j, '}');
  }
  j_close(j, ']');
}

/* A share, or null when negative (not measured). */
static void j_share(Json *j, const char *key, double v) {
  if (v >= 0)
    j_num(j, key, v);
  else
    j_opt(j, key, -1);
}

/* The process pools of a Python program: their start-up and the data they
 * moved, the numbers behind the startup and ipc findings. */
static void json_py_pools(Json *j, const WeftPython *py) {
  j_open(j, "pools", '[');
  for (size_t i = 0; i < py->npools; i++) {
    const WeftPyPool *pl = &py->pools[i];
    j_open(j, NULL, '{');
    j_int(j, "parent_upid", pl->parent_upid);
    j_str(j, "label", pl->label);
    j_str(j, "start_method", pl->start_method);
    j_int(j, "workers", (int64_t)pl->nworkers);
    j_int(j, "start_ns", pl->start_ns);
    j_int(j, "end_ns", pl->end_ns);
    j_int(j, "straggler_lag_ns", pl->straggler_lag_ns);
    j_int(j, "startup_run_ns", pl->startup_run_ns);
    j_num(j, "startup_share", pl->startup_share);
    j_int(j, "ipc_ns", pl->ipc_helper_ns + pl->ipc_lock_ns);
    j_int(j, "ipc_work_ns", pl->ipc_work_ns);
    j_num(j, "ipc_share", pl->ipc_share);
    j_int(j, "ipc_bytes", pl->ipc_bytes);
    j_int(j, "ipc_sent_bytes", pl->ipc_sent_bytes);
    j_int(j, "ipc_messages", pl->ipc_messages);
    j_close(j, '}');
  }
  j_close(j, ']');
}

/* A Python program's verdict (threads, processes or neither) and the
 * parallel libraries it uses; absent for other programs. */
static void json_python(Json *j, const WeftMetrics *m) {
  const WeftPython *py = m->python;
  if (!py || !py->verdict.choice) return;
  const WeftPyVerdict *v = &py->verdict;
  j_open(j, "verdict", '{');
  j_str(j, "choice", v->choice);
  j_str(j, "reason", v->reason);
  j_str(j, "text", v->text);
  j_num(j, "gil_wait_share", v->gil_wait_share);
  j_num(j, "io_share", v->io_share);
  j_share(j, "parallel_share", v->parallel_share);
  j_opt(j, "straggler_lag_ns", v->straggler_lag_ns);
  j_share(j, "startup_share", v->startup_share);
  j_share(j, "ipc_share", v->ipc_share);
  j_close(j, '}');
  j_open(j, "python", '{');
  j_open(j, "libraries", '[');
  for (size_t i = 0; i < py->nlibraries; i++) {
    j_open(j, NULL, '{');
    j_str(j, "name", py->libraries[i].name);
    j_str(j, "variant", py->libraries[i].variant);
    j_str(j, "evidence", py->libraries[i].evidence);
    j_close(j, '}');
  }
  j_close(j, ']');
  json_py_pools(j, py);
  report_dask_json(j, m);
  j_close(j, '}');
}


static void json_processes(Json *j, const WeftMetrics *m, long top) {
  j_open(j, "processes", '[');
  for (size_t i = 0; i < limit(top, m->nprocesses); i++) {
    const WeftProcessMetrics *p = &m->processes[i];
    j_open(j, NULL, '{');
    j_int(j, "upid", p->upid);
    j_int(j, "pid", p->pid);
    j_int(j, "image", p->image);
    j_opt(j, "parent_upid", p->parent_upid);
    j_str(j, "cmdline", p->cmdline);
    j_str(j, "exe", p->exe);
    j_int(j, "start_ns", p->start_ns);
    j_int(j, "end_ns", p->end_ns);
    j_str(j, "end_how", p->end_how);
    weft_json_key(j, "exit_status");
    if (p->has_exit_status)
      weft_json_int(j, p->exit_status);
    else
      weft_json_null(j);
    j_int(j, "lifetime_ns", p->lifetime_ns);
    j_opt(j, "mpi_rank", p->mpi_rank);
    j_int(j, "host", p->host);
    j_int(j, "threads", (int64_t)p->nthreads);
    j_int(j, "thread_ns", p->thread_ns);
    j_int(j, "useful_ns", p->useful_ns);
    j_int(j, "wait_ns", p->wait_ns);
    j_opt(j, "cpu_ns", p->cpu_ns);
    j_opt(j, "runq_ns", p->runq_ns);
    j_time(j, &p->time);
    j_pop(j, &p->pop);
    j_states(j, p->state_ns);
    j_close(j, '}');
  }
  j_close(j, ']');
}

static void json_threads(Json *j, const WeftMetrics *m, long top) {
  j_open(j, "threads", '[');
  for (size_t i = 0; i < limit(top, m->nthreads); i++) {
    const WeftThreadMetrics *t = &m->threads[i];
    j_open(j, NULL, '{');
    j_int(j, "utid", t->utid);
    j_int(j, "tid", t->tid);
    j_int(j, "upid", t->upid);
    j_int(j, "pid", t->pid);
    j_str(j, "name", t->name);
    j_bool(j, "is_main", t->is_main);
    j_opt(j, "creator_utid", t->creator_utid);
    j_int(j, "start_ns", t->start_ns);
    j_int(j, "end_ns", t->end_ns);
    j_str(j, "end_how", t->end_how);
    j_int(j, "lifetime_ns", t->lifetime_ns);
    j_int(j, "useful_ns", t->useful_ns);
    j_int(j, "wait_ns", t->wait_ns);
    j_opt(j, "cpu_ns", t->cpu_ns);
    j_opt(j, "runq_ns", t->runq_ns);
    j_time(j, &t->time);
    j_states(j, t->state_ns);
    j_close(j, '}');
  }
  j_close(j, ']');
}

/* One sync object with its call sites. */
static void json_object(Json *j, const WeftMetrics *m, const WeftObjectMetrics *o) {
  j_open(j, NULL, '{');
  j_int(j, "object_id", o->object_id);
  j_opt(j, "upid", o->upid);
  j_int(j, "addr", o->addr);
  j_str(j, "kind", o->kind_name);
  j_str(j, "name", o->name);
  j_bool(j, "named", o->named);
  j_str(j, "site", o->site);
  j_str(j, "label", o->label);
  j_opt(j, "acquisitions", o->acquisitions);
  j_bool(j, "acquisitions_estimated", o->acquisitions_estimated);
  j_opt(j, "failed_tries", o->failed_tries);
  j_int(j, "contended", o->contended);
  j_int(j, "timeouts", o->timeouts);
  j_num(j, "contended_fraction", o->contended_frac >= 0 ? o->contended_frac : NAN);
  j_int(j, "waits", o->waits);
  j_int(j, "wait_ns", o->wait_ns);
  j_int(j, "wait_p50_ns", o->wait_p50_ns);
  j_int(j, "wait_p99_ns", o->wait_p99_ns);
  j_int(j, "wait_max_ns", o->wait_max_ns);
  j_opt(j, "wait_max_utid", o->wait_max_utid);
  j_int(j, "wait_max_retaken", o->wait_max_retaken);
  j_opt(j, "wait_max_retaken_utid", o->wait_max_retaken_utid);
  j_int(j, "wait_max_retaken_reads", o->wait_max_retaken_reads);
  j_num(j, "wait_share", o->wait_share);
  j_int(j, "holds", o->holds);
  j_int(j, "hold_ns", o->hold_ns);
  j_int(j, "hold_mean_ns", o->hold_mean_ns);
  j_int(j, "hold_max_ns", o->hold_max_ns);
  j_bool(j, "holds_exact", m->holds_all);
  j_int(j, "hold_samples", o->hold_samples);
  j_opt(j, "hold_sample_mean_ns", o->hold_sample_mean_ns);
  j_opt(j, "hold_sample_max_ns", o->hold_sample_max_ns);
  j_opt(j, "hold_total_est_ns", o->hold_est_ns);
  j_int(j, "handoffs", o->handoffs);
  j_int(j, "waiters", o->waiters);
  if (m->critical_path) {
    j_int(j, "critical_share_ns", o->critical_share_ns);
    j_int(j, "critical_hold_ns", o->critical_hold_ns);
  }
  j_int(j, "call_sites_total", (int64_t)o->nsites_total);
  j_open(j, "call_sites", '[');
  for (size_t k = 0; k < o->nsites; k++) {
    const WeftCallSite *cs = &o->sites[k];
    j_open(j, NULL, '{');
    j_str(j, "label", cs->label);
    j_str(j, "symbol", cs->symbol);
    j_str(j, "file", cs->file);
    j_opt(j, "line", cs->line > 0 ? cs->line : -1);
    j_int(j, "waits", cs->waits);
    j_int(j, "wait_ns", cs->wait_ns);
    j_close(j, '}');
  }
  j_close(j, ']');
  j_close(j, '}');
}

/* The critical path's threads, objects and call sites (its top lists). */
static void json_path_lists(Json *j, const WeftCriticalPath *cp, long top) {
  j_open(j, "threads", '[');
  for (size_t i = 0; i < limit(top, cp->nthreads); i++) {
    const WeftPathThread *pt = &cp->threads[i];
    j_open(j, NULL, '{');
    j_int(j, "utid", pt->utid);
    j_str(j, "label", pt->label);
    j_int(j, "path_ns", pt->path_ns);
    j_int(j, "running_ns", pt->running_ns);
    j_num(j, "share", pt->share);
    j_close(j, '}');
  }
  j_close(j, ']');
  j_open(j, "objects", '[');
  for (size_t i = 0; i < limit(top, cp->nobjects); i++) {
    const WeftPathObject *po = &cp->objects[i];
    j_open(j, NULL, '{');
    j_int(j, "object_id", po->object_id);
    j_str(j, "label", po->label);
    j_str(j, "kind", po->kind_name);
    j_int(j, "cause_ns", po->cause_ns);
    j_int(j, "hold_ns", po->hold_ns);
    j_num(j, "share", po->share);
    j_close(j, '}');
  }
  j_close(j, ']');
  j_open(j, "call_sites", '[');
  for (size_t i = 0; i < limit(top, cp->nsites); i++) {
    const WeftPathSite *ps = &cp->sites[i];
    j_open(j, NULL, '{');
    j_str(j, "label", ps->label);
    j_int(j, "object_id", ps->object_id);
    j_str(j, "object_label", ps->object_label);
    j_int(j, "cause_ns", ps->cause_ns);
    j_close(j, '}');
  }
  j_close(j, ']');
}

static void json_critical_path(Json *j, const WeftCriticalPath *cp, long top) {
  j_open(j, "critical_path", '{');
  j_int(j, "start_ns", cp->start_ns);
  j_int(j, "end_ns", cp->end_ns);
  j_int(j, "length_ns", cp->length_ns);
  j_opt(j, "end_utid", cp->end_utid);
  j_int(j, "path_ns", cp->path_ns);
  j_int(j, "before_ns", cp->before_ns);
  j_int(j, "after_ns", cp->after_ns);
  j_int(j, "jumps", cp->jumps);
  json_path_lists(j, cp, top);
  j_int(j, "segments_total", (int64_t)cp->nsegments);
  j_open(j, "segments", '[');
  for (size_t i = 0; cp->nsegments <= WEFT_REPORT_MAX_SEGMENTS && i < cp->nsegments; i++) {
    const WeftPathSegment *sg = &cp->segments[i];
    j_open(j, NULL, '{');
    j_int(j, "utid", sg->utid);
    j_int(j, "start_ns", sg->start_ns);
    j_int(j, "end_ns", sg->end_ns);
    j_int(j, "running_ns", sg->running_ns);
    j_str(j, "flow", sg->flow_kind ? weft_flow_name(sg->flow_kind) : NULL);
    j_opt(j, "object_id", sg->object_id);
    j_close(j, '}');
  }
  j_close(j, ']');
  j_open(j, "what_if", '[');
  for (size_t i = 0; i < cp->nwhatifs; i++) {
    const WeftWhatIf *w = &cp->whatifs[i];
    j_open(j, NULL, '{');
    j_str(j, "kind", w->kind_name);
    j_str(j, "label", w->label);
    j_opt(j, "object_id", w->object_id);
    j_opt(j, "region", w->region);
    j_opt(j, "utid", w->utid);
    j_int(j, "saving_ns", w->saving_ns);
    j_int(j, "predicted_ns", w->predicted_ns);
    j_num(j, "predicted_fraction", cp->length_ns > 0 ? (double)w->predicted_ns / (double)cp->length_ns : 1.0);
    j_bool(j, "replayed", w->replayed);
    j_floor(j, &w->floor);
    j_close(j, '}');
  }
  j_close(j, ']');
  j_close(j, '}');
}

static void json_replay(Json *j, const WeftReplay *rp) {
  j_open(j, "replay", '{');
  j_str(j, "unavailable", rp->unavailable);
  j_bool(j, "defaults", rp->defaults);
  j_int(j, "recorded_ns", rp->recorded_ns);
  j_int(j, "replayed_ns", rp->replayed_ns);
  j_num(j, "error", rp->error);
  j_opt(j, "cpus", rp->cpus);
  j_num(j, "background_threads", rp->background);
  j_int(j, "placed_holds", rp->placed_holds);
  j_int(j, "operations", rp->ops);
  j_int(j, "forced", rp->forced);
  j_open(j, "what_if", '[');
  for (size_t i = 0; i < rp->nresults; i++) {
    const WeftReplayResult *x = &rp->results[i];
    j_open(j, NULL, '{');
    j_str(j, "spec", x->spec);
    j_bool(j, "asked", x->asked);
    j_str(j, "description", x->description);
    j_int(j, "predicted_ns", x->predicted_ns);
    j_int(j, "saving_ns", x->saving_ns);
    j_num(j, "predicted_fraction", rp->recorded_ns > 0 ? (double)x->predicted_ns / (double)rp->recorded_ns : 1.0);
    j_int(j, "replayed_ns", x->replayed_ns);
    j_num(j, "error", rp->error);
    j_int(j, "forced", x->forced);
    j_num(j, "error_kept", x->kept);
    j_floor(j, &x->floor);
    j_close(j, '}');
  }
  j_close(j, ']');
  j_close(j, '}');
}

static void json_regions(Json *j, const WeftMetrics *m, long top) {
  const WeftRegion **v = regions_by_idle(m);
  j_open(j, "regions", '[');
  for (size_t i = 0; v && i < limit(top, m->nregions); i++) {
    const WeftRegion *r = v[i];
    j_open(j, NULL, '{');
    j_int(j, "index", (int64_t)(r - m->regions));
    j_str(j, "kind", r->kind_name);
    j_str(j, "label", r->label);
    j_int(j, "start_ns", r->start_ns);
    j_int(j, "end_ns", r->end_ns);
    j_int(j, "duration_ns", r->end_ns - r->start_ns);
    j_bool(j, "clipped", r->clipped);
    j_opt(j, "object_id", r->object_id);
    j_opt(j, "round", r->round);
    j_opt(j, "owner_utid", r->owner_utid);
    j_opt(j, "mark_id", r->mark_id);
    j_pop(j, &r->pop);
    j_opt(j, "straggler_utid", r->straggler_utid);
    j_opt(j, "last_utid", r->last_utid);
    j_open(j, "team", '[');
    for (size_t k = 0; k < r->nteam; k++) {
      j_open(j, NULL, '{');
      j_int(j, "utid", r->team_utid[k]);
      j_int(j, "useful_ns", r->team_useful_ns[k]);
      j_close(j, '}');
    }
    j_close(j, ']');
    j_close(j, '}');
  }
  j_close(j, ']');
  free(v);
}

static void json_parallelism(Json *j, const WeftParallelism *p) {
  j_open(j, "parallelism", '{');
  j_int(j, "duration_ns", p->span_ns);
  j_num(j, "average", p->average);
  j_int(j, "max", (int64_t)p->kmax);
  j_int(j, "io_overlap_ns", p->io_overlap_ns);
  j_num(j, "cpus", p->cpus);
  j_num(j, "cpus_used", p->cpus_used);
  j_bool(j, "oversubscribed", p->oversubscribed);
  j_open(j, "histogram", '[');
  for (size_t k = 0; k <= p->kmax; k++) {
    j_open(j, NULL, '{');
    j_int(j, "running", (int64_t)k);
    j_int(j, "ns", p->ns[k]);
    j_num(j, "fraction", p->fraction[k]);
    j_close(j, '}');
  }
  j_close(j, ']');
  j_close(j, '}');
}

/* The sections in the order of docs/report-json.md; those of analyses not
 * computed are left out. */
static void write_json(FILE *f, const WeftMetrics *m, const WeftReportOptions *opt) {
  Json jj, *j = &jj;
  long top = opt->top ? opt->top : -1;
  weft_json_writer_file(j, f, true);
  j_open(j, NULL, '{');
  j_int(j, "weft_report_version", WEFT_REPORT_JSON_VERSION);
  j_str(j, "database", opt->database);
  if (opt->compare) {
    weft_json_key(j, "compare");
    report_compare_json(j, opt->compare, opt->compare_database, opt->database, top);
  }
  json_recording(j, m);
  json_summary(j, m);
  json_python(j, m);
  report_mpi_json(j, m);
  report_hosts_json(j, m);
  json_findings(j, m, top);
  json_processes(j, m, top);
  json_threads(j, m, top);
  if (m->what & WEFT_METRICS_OBJECTS) {
    j_open(j, "sync_objects", '[');
    for (size_t i = 0; i < limit(top, m->nobjects); i++) json_object(j, m, &m->objects[i]);
    j_close(j, ']');
  }
  if (m->critical_path) json_critical_path(j, m->critical_path, top);
  if (m->replay) json_replay(j, m->replay);
  if (m->what & WEFT_METRICS_REGIONS) json_regions(j, m, top);
  if (m->what & WEFT_METRICS_PARALLELISM) json_parallelism(j, &m->parallelism);
  j_close(j, '}');
}

/* ------------------------------------------------------------------------ */
/* Markdown                                                                  */

/* A Python program's verdict, then the findings. */
static void md_findings(FILE *f, const WeftMetrics *m, long top) {
  if (m->python && m->python->verdict.choice) {
    fprintf(f, "\n#### Verdict: %s\n\n", m->python->verdict.choice);
    md_text(f, m->python->verdict.text);
    char line[600];
    if (uses_line(m->python, line, sizeof line)) {
      fputs("  \n*", f);
      md_text(f, line);
      fputc('*', f);
    }
    fputc('\n', f);
  }

  if (m->what & WEFT_METRICS_FINDINGS) {
    size_t n = limit(top, m->nfindings);
    fputs("\n#### Findings\n\n", f);
    if (!m->nfindings) fputs("None: no wait, imbalance or serial phase costs 1% or more of the thread time.\n", f);
    for (size_t i = 0; i < n; i++) {
      const WeftFinding *fd = &m->findings[i];
      fprintf(f, "%zu. **", i + 1);
      md_text(f, fd->title);
      fputs(fd->by_design ? "** (idle by design)  \n   " : "**  \n   ", f);
      md_text(f, fd->evidence);
      fputs("  \n   *Fix:* ", f);
      md_text(f, fd->fix);
      fputc('\n', f);
    }
    if (n < m->nfindings) fprintf(f, "\n…and %zu more (`weft report` shows them all).\n", m->nfindings - n);
  }
}

static void write_markdown(FILE *f, const WeftMetrics *m, const WeftReportOptions *opt) {
  Bufs bf = {.i = 0};
  long top = opt->top ? opt->top : 5;
  const WeftSummary *s = &m->summary;
  char buf[512];

  if (opt->compare) weft_report_compare_markdown(f, opt->compare, opt->compare_database, opt->database, top);
  fputs("### weft report", f);
  if (*m->command) {
    fputs(": `", f);
    for (const char *c = m->command; *c; c++) fputc(*c == '`' ? '\'' : *c, f);
    fputs("`", f);
  }
  fputs("\n\n", f);
  fprintf(f, "**Parallel efficiency %.2f** (load balance %.2f × synchronisation efficiency %.2f%s)", s->pop.pe,
          s->pop.lb, s->pop.synce, s->pop_left_out ? "; the MPI library's threads left out" : "");
  if ((m->what & WEFT_METRICS_PARALLELISM) && m->parallelism.oversubscribed)
    fprintf(f, " · average parallelism %.2f on a CPU, of %g CPU%s (%.2f threads running or runnable, max %zu)",
            m->parallelism.cpus_used, m->parallelism.cpus, m->parallelism.cpus == 1 ? "" : "s", m->parallelism.average,
            m->parallelism.kmax);
  else if (m->what & WEFT_METRICS_PARALLELISM)
    fprintf(f, " · average parallelism %.2f (max %zu)", m->parallelism.average, m->parallelism.kmax);
  fprintf(f, " · %zu process%s, %zu thread%s", s->nprocesses, s->nprocesses == 1 ? "" : "es", s->nthreads,
          s->nthreads == 1 ? "" : "s");
  if (m->launchers)
    fprintf(f, " (the %s; %zu launcher process%s %sleft out)", m->mpi_launchers ? "MPI ranks" : "program", m->launchers,
            m->launchers == 1 ? "" : "es", m->mpi_launchers ? "" : "before it ");
  fprintf(f, " · %s\n", range_desc(m, &bf, buf, sizeof buf));
  double tt = s->thread_ns > 0 ? (double)s->thread_ns : 1;
  fprintf(f, "\nThread time %s: on a CPU %s (%s), runnable %s (%s), waiting %s (%s), off a CPU elsewhere %s (%s).\n",
          D(&bf, s->thread_ns), D(&bf, s->time.oncpu_ns), P(&bf, (double)s->time.oncpu_ns / tt),
          D(&bf, s->time.runnable_ns), P(&bf, (double)s->time.runnable_ns / tt), D(&bf, s->time.waiting_ns),
          P(&bf, (double)s->time.waiting_ns / tt), D(&bf, s->time.offcpu_ns), P(&bf, (double)s->time.offcpu_ns / tt));

  md_findings(f, m, top);
  report_mpi_markdown(f, m);
  report_hosts_markdown(f, m);
  report_dask_markdown(f, m);

  if (m->critical_path && m->critical_path->nthreads) {
    const WeftCriticalPath *cp = m->critical_path;
    fputs("\n#### Critical path\n\n", f);
    size_t n = limit(top < 0 || top > 3 ? 3 : top, cp->nthreads);
    fputs("On the path: ", f);
    for (size_t i = 0; i < n; i++) {
      fputs(i ? ", " : "", f);
      md_text(f, cp->threads[i].label);
      fprintf(f, " %s (%s)", D(&bf, cp->threads[i].path_ns), P(&bf, cp->threads[i].share));
    }
    fputs(".", f);
    size_t no = 0;
    for (size_t i = 0; i < cp->nobjects; i++) no += cp->objects[i].cause_ns > 0;
    n = limit(top < 0 || top > 3 ? 3 : top, no);
    if (n) {
      fputs(" Caused by waits on: ", f);
      for (size_t i = 0; i < n; i++) {
        fputs(i ? ", " : "", f);
        md_text(f, cp->objects[i].label);
        fprintf(f, " %s (%s)", D(&bf, cp->objects[i].cause_ns), P(&bf, cp->objects[i].share));
      }
      fputs(".", f);
    }
    fputc('\n', f);
    if (estimates_left(cp)) {
      fputs("\n*What if* (an estimate from the critical path, not a simulation):\n", f);
      for (size_t i = 0; i < cp->nwhatifs; i++) {
        char line[800];
        if (cp->whatifs[i].replayed) continue;
        fputs("- ", f);
        md_text(f, whatif_line(m, &cp->whatifs[i], &bf, line, sizeof line));
        fputc('\n', f);
      }
    }
  }
  if (m->replay) {
    const WeftReplay *rp = m->replay;
    char line[900];
    fputs("\n*What if* (replayed):\n", f);
    if (rp->unavailable) fprintf(f, "- no replay: %s\n", rp->unavailable);
    for (size_t i = 0; !rp->unavailable && i < rp->nresults; i++) {
      fputs("- ", f);
      if (!rp->defaults && !rp->results[i].asked) fputs("(the critical path's) ", f);
      md_text(f, replay_line(m, &rp->results[i], &bf, line, sizeof line));
      fputc('\n', f);
    }
    if (!rp->unavailable) {
      fputs("- ", f);
      md_text(f, replay_error_line(rp, &bf, line, sizeof line));
      if (replay_rough_line(rp, line, sizeof line)) {
        fputs("; ", f);
        md_text(f, line);
      }
      if (replay_model_line(rp, line, sizeof line)) {
        fputc(' ', f);
        md_text(f, line);
      }
      fputc('\n', f);
    }
  }

  if ((m->what & WEFT_METRICS_OBJECTS) && m->nobjects) {
    size_t n = limit(top, m->nobjects);
    fputs("\n#### Contention", f);
    if (n < m->nobjects) fprintf(f, " (top %zu of %zu)", n, m->nobjects);
    fputs("\n\n", f);
    Table t;
    table_init(&t, "llrrrrrrl");
    table_row(&t, "object", "kind", "waited", "share", "contended", "p99", "max", "held", "top call site");
    for (size_t i = 0; i < n; i++) {
      const WeftObjectMetrics *o = &m->objects[i];
      char cont[80];
      contended_cell(cont, sizeof cont, &bf, o);
      const char *ht, *hm, *hx;
      hold_cells(&bf, m, o, &ht, &hm, &hx);
      table_row(&t, o->label, o->kind_name, D(&bf, o->wait_ns), P(&bf, o->wait_share), cont,
                o->waits ? D(&bf, o->wait_p99_ns) : "-", o->waits ? D(&bf, o->wait_max_ns) : "-", ht,
                o->nsites ? o->sites[0].label : "-");
    }
    table_md(f, &t);
    table_free(&t);
  }

  if ((m->what & WEFT_METRICS_REGIONS) && m->nregions) {
    size_t n = limit(top, m->nregions);
    const WeftRegion **v = regions_by_idle(m);
    if (v) {
      fputs("\n#### Regions (", f);
      if (n < m->nregions) fprintf(f, "top %zu of %zu, ", n, m->nregions);
      fputs("by idle thread time)\n\n", f);
      Table t;
      table_init(&t, "lrrrrlr");
      table_row(&t, "region", "length", "team", "LB", "PE", "straggler", "idle");
      for (size_t i = 0; i < n; i++) {
        char who[160];
        thread_label(m, v[i]->straggler_utid, who, sizeof who);
        table_row(&t, v[i]->label, D(&bf, v[i]->end_ns - v[i]->start_ns), I(&bf, (int64_t)v[i]->nteam),
                  F2(&bf, v[i]->pop.lb), F2(&bf, v[i]->pop.pe), who, D(&bf, v[i]->pop.idle_ns));
      }
      table_md(f, &t);
      table_free(&t);
      free(v);
    }
  }

  if (m->what & WEFT_METRICS_PARALLELISM) {
    const WeftParallelism *p = &m->parallelism;
    fputs("\n#### Parallelism\n\n", f);
    fputs(p->oversubscribed ? "| threads running or runnable |" : "| threads running |", f);
    for (size_t k = 0; k <= p->kmax; k++)
      if (p->ns[k]) fprintf(f, " %zu |", k);
    fputs("\n| ---: |", f);
    for (size_t k = 0; k <= p->kmax; k++)
      if (p->ns[k]) fputs(" ---: |", f);
    fputs("\n| share of time |", f);
    for (size_t k = 0; k <= p->kmax; k++)
      if (p->ns[k]) fprintf(f, " %s |", P(&bf, p->fraction[k]));
    fputc('\n', f);
  }
  fputs("\n<sub>weft report", f);
  if (opt->database) {
    fputs(" · ", f);
    md_text(f, opt->database);
  }
  fputs("</sub>\n", f);
}

int weft_report_write(FILE *out, const WeftMetrics *m, const WeftReportOptions *opt) {
  WeftReportOptions dflt = {.format = WEFT_REPORT_TEXT};
  if (!opt) opt = &dflt;
  switch (opt->format) {
    case WEFT_REPORT_JSON: write_json(out, m, opt); break;
    case WEFT_REPORT_MARKDOWN: write_markdown(out, m, opt); break;
    default: write_text(out, m, opt); break;
  }
  if (fflush(out) != 0 || ferror(out)) {
    if (!errno) errno = EIO;
    return -1;
  }
  return 0;
}
