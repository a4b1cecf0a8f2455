/* reader.c - reading weft trace files and recording directories.
 * SPDX-License-Identifier: MIT
 *
 * C11 + POSIX only (no GLib, no SQLite): the agent's tools and the analyzer
 * both link it, and the fuzzer runs it. The input is untrusted: every offset
 * is a uint64_t checked against the end of the chunk and of the file before
 * it is used, and every tick computation saturates instead of wrapping.
 *
 * A file is read with pread, a piece at a time (see Src: it is never mapped),
 * a memory trace from its borrowed buffer.
 * weft_trace_open() makes one pass over the file to collect its clock sync
 * points (file header, chunk headers, SYNC records) and builds the tick -> ns
 * fit from them; weft_trace_scan() then walks the records again and hands
 * them out with their time. A recording builds one fit over the sync points of
 * all its files and every file of the recording uses it.
 *
 * The fit (see fit_build): the points are sorted by tick and deduplicated
 * (first ns wins for equal ticks); points whose ns would run backwards are
 * dropped by keeping the longest subsequence with non-decreasing ns, so one
 * corrupt or jittery point cannot bend the rest. Between two neighbouring
 * points the conversion is linear and exact at the points; before the first
 * and after the last it extrapolates with the slope of the least-squares line
 * over all kept points. With a single point (or no usable slope) the slope is
 * 1e9 / tsc_hz when the header gives tsc_hz, else 1 ns per tick (the right
 * answer for WEFT_CLOCK_MONOTONIC, whose ticks are ns).
 *
 * Mixing clocks: a recording keeps one fit per clock kind (TSC, MONOTONIC),
 * since the ticks of the two are not comparable; a normal recording uses one.
 *
 * Sessions: every file header carries the id of the run that wrote it, and a
 * directory may hold several runs. A recording is one session (the latest,
 * unless the caller names one): the headers of all files are read first, and
 * only the chosen session's files are walked.
 *
 * Sections (version 7, WEFT_FEAT_SHARED_FILE): a fork child writes into its
 * parent's file, a PROCESS chunk (its header) and then CHILD chunks naming its
 * pid. The open's one pass (shared_load) gives each owner, the file's own
 * process and every PROCESS chunk, the list of its chunks and its sync
 * points; each section is a WeftTrace of its own, owned by the file's trace,
 * and a walk of any of them reads only its listed chunks. A fault in a chunk
 * header ends the pass: every trace of the file then ends there with that
 * fault (its chunks after it cannot be found); a fault in a record ends only
 * its owner's list.
 */
#include "weft-reader.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  uint64_t tick;
  uint64_t ns;
} SyncPoint;

typedef struct {
  SyncPoint *p;
  size_t n, cap;
  int oom; /* an append failed */
} PointVec;

/* tick -> ns conversion: p[] has strictly increasing ticks and non-decreasing
 * ns, n >= 1; slope (ns per tick) is finite and > 0. */
typedef struct {
  SyncPoint *p;
  size_t n;
  double slope;
} Fit;

/* A chunk of a trace's list (a file with sections). */
typedef struct {
  uint64_t off;  /* where its header is */
  uint32_t size; /* its size field (the last may run past the end of the file) */
} ChunkRef;

typedef struct {
  ChunkRef *v;
  size_t n, cap;
} ChunkVec;

/* Why a file's pass over its chunks stopped short (a trace's stop_at). */
enum { STOP_BAD = 1, STOP_CUT = 2, STOP_IO = 3 };

struct WeftTrace {
  char *name;
  const unsigned char *base; /* a memory trace's bytes, 8-byte aligned; NULL for a file */
  uint64_t len;              /* their length; a file's size when it was opened */
  void *copy;                /* malloc'd copy of an unaligned buffer or NULL */
  dev_t dev;                 /* a file, opened again by name for each walk: */
  ino_t ino;                 /* these say it is still the same file */
  WeftFileHeader hdr;        /* a copy of the file header */
  uint64_t cut_at;           /* the chunk (or chunk header) the end of the file cuts short; 0: none */
  uint64_t bad_at;           /* the first corrupt chunk header or record; 0: none found */
  PointVec pts;              /* this file's sync points */
  uint64_t seen[4];          /* the record types the open met (bit type & 63 of seen[type >> 6]) */
  Fit own;                   /* fit over pts alone */
  const Fit *fit;            /* own, or the recording's */
  WeftRecording *rec;        /* owner, or NULL */
  size_t host;               /* in a recording: its host's index */
  const WeftHost *map;       /* in a recording: its host's clock onto the recording's (NULL: as read) */
  /* Version 7, a file with WEFT_FEAT_SHARED_FILE (see shared_load): */
  int listed;           /* walked by its chunk list, not the whole file */
  ChunkVec chunks;      /* its chunks, in file order: WCHK (the file's own) or CHILD (a section's) */
  uint64_t stop_at;     /* after its chunks: the fault that ended the file's pass (0: none) */
  char *stop_msg;       /* the file's trace: that fault's message, the name left out (": offset N: ...") */
  WeftTrace *file;      /* a section: its file's trace, which owns it (NULL: a file) */
  uint64_t section_at;  /* a section: the offset of its PROCESS chunk */
  WeftTrace **sections; /* the file's trace: its sections, in file order */
  size_t nsections;
  int load_done; /* during the pass: a bad record ended its list */
};

typedef struct {
  WeftHost pub;
  Fit fits[3]; /* by WEFT_CLOCK_* (index 0 unused) */
} HostFit;

struct WeftRecording {
  WeftTrace **traces;
  size_t n;
  HostFit *hosts; /* one clock each: by first appearance in trace order */
  WeftHost *pub;  /* hosts[].pub, for weft_recording_hosts */
  size_t nhosts;
  uint64_t start_ns;
  WeftSession *sessions; /* every session of the directory, oldest first */
  size_t nsessions;
  size_t chosen; /* the one opened; SIZE_MAX: all of them */
};

/* ---- helpers ---- */

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Format a one-line message into err (if given) and return -1. */
static int fail(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static int all_zero(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

static uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static uint32_t bswap32(uint32_t v) { return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24); }

static uint64_t load64(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static uint32_t load32(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* a * b / c for a < c: the result is < b, so it fits. */
static uint64_t muldiv_lt(uint64_t a, uint64_t b, uint64_t c) {
  if (a <= UINT32_MAX && b <= UINT32_MAX) /* the usual case (sync points ms apart): exact in 64 bits */
    return a * b / c;
#ifdef __SIZEOF_INT128__
  __extension__ typedef unsigned __int128 u128;
  return (uint64_t)((u128)a * b / c);
#else
  long double r = (long double)a * (long double)b / (long double)c;
  return r >= (long double)b ? b : (uint64_t)r;
#endif
}

static void points_add(PointVec *v, uint64_t tick, uint64_t ns) {
  if (v->oom) return;
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 64;
    SyncPoint *p = cap > SIZE_MAX / sizeof *p ? NULL : realloc(v->p, cap * sizeof *p);
    if (!p) {
      v->oom = 1;
      return;
    }
    v->p = p;
    v->cap = cap;
  }
  v->p[v->n++] = (SyncPoint){tick, ns};
}

/* ---- the clock fit ---- */

static int cmp_u64(uint64_t a, uint64_t b) { return a < b ? -1 : a > b; }

static int point_cmp(const void *a, const void *b) {
  const SyncPoint *x = a, *y = b;
  int c = cmp_u64(x->tick, y->tick);
  return c ? c : cmp_u64(x->ns, y->ns);
}

static void fit_free(Fit *f) {
  free(f->p);
  f->p = NULL;
  f->n = 0;
}

/* Build f from n points (copied; n may be 0, then the fit maps tick t to t).
 * fallback_hz is the header's tsc_hz (0 = unknown). Returns 0, or -1 when out
 * of memory. */
static int fit_build(Fit *f, const SyncPoint *in, size_t n, uint64_t fallback_hz) {
  f->p = NULL;
  f->n = 0;
  f->slope = fallback_hz ? 1e9 / (double)fallback_hz : 1.0;
  if (!(isfinite(f->slope) && f->slope > 0)) f->slope = 1.0;
  if (n == 0) {
    f->p = malloc(sizeof *f->p);
    if (!f->p) return -1;
    f->p[0] = (SyncPoint){0, 0};
    f->n = 1;
    return 0;
  }
  if (n > SIZE_MAX / sizeof(SyncPoint) || n > SIZE_MAX / (2 * sizeof(size_t))) return -1;
  SyncPoint *p = malloc(n * sizeof *p);
  size_t *tails = malloc(n * sizeof *tails);
  size_t *prev = malloc(n * sizeof *prev);
  if (!p || !tails || !prev) {
    free(p);
    free(tails);
    free(prev);
    return -1;
  }
  memcpy(p, in, n * sizeof *p);
  qsort(p, n, sizeof *p, point_cmp);

  /* Equal ticks: keep the first (smallest ns). */
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (m == 0 || p[i].tick != p[m - 1].tick) p[m++] = p[i];

  /* Longest subsequence with non-decreasing ns (patience sorting). tails[k]
   * is the index ending the best subsequence of length k + 1 found so far. */
  size_t len = 0;
  for (size_t i = 0; i < m; i++) {
    size_t lo = 0, hi = len; /* first k with ns(tails[k]) > ns(i) */
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (p[tails[mid]].ns <= p[i].ns)
        lo = mid + 1;
      else
        hi = mid;
    }
    prev[i] = lo ? tails[lo - 1] : SIZE_MAX;
    tails[lo] = i;
    if (lo == len) len++;
  }
  /* Walk back from the end; write the kept points into tails[] in order. */
  size_t k = len, i = tails[len - 1];
  while (k > 0) {
    tails[--k] = i;
    i = prev[i];
  }
  for (k = 0; k < len; k++) p[k] = p[tails[k]];
  free(tails);
  free(prev);
  f->p = p;
  f->n = len;

  /* Least-squares slope, in coordinates relative to the first point (exact
   * in 64 bits since both coordinates are sorted). */
  if (len >= 2) {
    long double mx = 0, my = 0;
    for (k = 0; k < len; k++) {
      mx += (long double)(p[k].tick - p[0].tick);
      my += (long double)(p[k].ns - p[0].ns);
    }
    mx /= (long double)len;
    my /= (long double)len;
    long double sxx = 0, sxy = 0;
    for (k = 0; k < len; k++) {
      long double dx = (long double)(p[k].tick - p[0].tick) - mx;
      long double dy = (long double)(p[k].ns - p[0].ns) - my;
      sxx += dx * dx;
      sxy += dx * dy;
    }
    if (sxx > 0) {
      double s = (double)(sxy / sxx);
      if (isfinite(s) && s > 0) f->slope = s;
    }
  }
  return 0;
}

/* base_ns -/+ d ticks * slope (rounded to the nearest ns), saturating at 0 and UINT64_MAX. */
static uint64_t extrapolate(uint64_t base_ns, uint64_t d, double slope, int backwards) {
  long double x = (long double)d * (long double)slope + 0.5L; /* rounded */
  if (!(x < 18446744073709551616.0L)) return backwards ? 0 : UINT64_MAX;
  uint64_t dx = (uint64_t)x;
  if (backwards) return dx >= base_ns ? 0 : base_ns - dx;
  return sat_add(base_ns, dx);
}

/* Convert tick x; *hint is the segment used last (a cache, any value is safe). */
static uint64_t fit_convert(const Fit *f, uint64_t x, size_t *hint) {
  const SyncPoint *p = f->p;
  size_t n = f->n, i = *hint;
  if (x < p[0].tick) return extrapolate(p[0].ns, p[0].tick - x, f->slope, 1);
  if (x >= p[n - 1].tick) return extrapolate(p[n - 1].ns, x - p[n - 1].tick, f->slope, 0);
  /* Now n >= 2 and p[0].tick <= x < p[n-1].tick: find i with p[i] <= x < p[i+1]
   * (i < n - 1: the hint may be anything, SIZE_MAX too). */
  if (!(i < n - 1 && p[i].tick <= x && x < p[i + 1].tick)) {
    /* a chunk's records go forward in time: the next few segments before a search */
    if (i < n - 1 && p[i].tick <= x)
      for (int k = 0; k < 4 && i < n - 2 && p[i + 1].tick <= x; k++) i++;
    if (!(i < n - 1 && p[i].tick <= x && x < p[i + 1].tick)) {
      size_t lo = 0, hi = n - 1;
      while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].tick <= x)
          lo = mid;
        else
          hi = mid;
      }
      i = lo;
    }
    *hint = i;
  }
  return p[i].ns + muldiv_lt(x - p[i].tick, p[i + 1].ns - p[i].ns, p[i + 1].tick - p[i].tick);
}

/* Host time ns onto the recording's time base (see WeftHost). */
static uint64_t host_map(const WeftHost *h, uint64_t ns) {
  if (!h) return ns;
  long double m = (long double)ns + (long double)h->anchor_shift_ns;
  m += (long double)h->offset_ns + (long double)h->drift * (m - (long double)h->pivot_ns);
  if (!(m > 0)) return 0;
  if (!(m < 18446744073709551616.0L)) return UINT64_MAX;
  return (uint64_t)(m + 0.5L);
}

/* ---- strings ---- */

/* Bytes of a string that has no NUL inside its record, NUL-terminated. */
static _Thread_local char clip_buf[WEFT_RECORD_MAX_WORDS * 8 + 1];

const char *weft_event_next_string(const WeftEvent *ev, unsigned from, size_t *pos, size_t *len_out) {
  size_t area = ev && ev->w && from < ev->nwords ? (size_t)(ev->nwords - from) * 8 : 0;
  size_t at = pos ? *pos : 0;
  if (len_out) *len_out = 0;
  if (at >= area) return NULL;
  const char *s = (const char *)(ev->w + from) + at;
  size_t room = area - at;
  const char *nul = memchr(s, 0, room);
  if (nul) {
    if (pos) *pos = at + (size_t)(nul - s) + 1;
    if (len_out) *len_out = (size_t)(nul - s);
    return s;
  }
  if (room > sizeof clip_buf - 1) room = sizeof clip_buf - 1;
  memcpy(clip_buf, s, room);
  clip_buf[room] = '\0';
  if (pos) *pos = area;
  if (len_out) *len_out = room;
  return clip_buf;
}

const char *weft_event_string(const WeftEvent *ev, unsigned from, size_t *len_out) {
  size_t pos = 0;
  const char *s = weft_event_next_string(ev, from, &pos, len_out);
  return s ? s : "";
}

/* ---- opening ---- */

static const WeftFileHeader *hdr_of(const WeftTrace *t) { return &t->hdr; }

static void trace_free(WeftTrace *t) {
  if (!t) return;
  for (size_t i = 0; i < t->nsections; i++) trace_free(t->sections[i]);
  free(t->sections);
  free(t->chunks.v);
  free(t->stop_msg);
  free(t->copy);
  free(t->pts.p);
  fit_free(&t->own);
  free(t->name);
  free(t);
}

#define UNSTARTED_MSG "%s: empty trace: the process never finished writing its header"

/* Check the file header of a trace of len bytes; bytes holds its first
 * min(len, WEFT_FILE_HEADER_SIZE) bytes. */
static int check_header(const char *name, const unsigned char *bytes, uint64_t len, char *err, size_t errlen) {
  if (len < WEFT_FILE_HEADER_SIZE)
    return fail(err, errlen,
                "%s: not a weft trace: %" PRIu64 " bytes, shorter than the %u-byte "
                "file header",
                name, len, WEFT_FILE_HEADER_SIZE);
  WeftFileHeader h;
  memcpy(&h, bytes, sizeof h);
  if (memcmp(h.magic, WEFT_TRACE_MAGIC, sizeof h.magic) != 0) {
    if (all_zero(bytes, sizeof h.magic)) return fail(err, errlen, UNSTARTED_MSG, name);
    return fail(err, errlen, "%s: not a weft trace (bad magic)", name);
  }
  /* magic, version and endian mark stay where they are in every version. */
  if (h.endian == bswap32(WEFT_ENDIAN_MARK))
    return fail(err, errlen,
                "%s: trace written with the other byte order; this reader reads "
                "native byte order only",
                name);
  if (h.version < WEFT_TRACE_MIN_VERSION || h.version > WEFT_TRACE_VERSION)
    return fail(err, errlen, "%s: unsupported trace version %" PRIu32 " (this reader knows %u to %u)", name, h.version,
                WEFT_TRACE_MIN_VERSION, WEFT_TRACE_VERSION);
  if (h.endian != WEFT_ENDIAN_MARK) return fail(err, errlen, "%s: bad endian mark 0x%08" PRIx32, name, h.endian);
  if (h.header_size != WEFT_FILE_HEADER_SIZE)
    return fail(err, errlen, "%s: bad header size %" PRIu32 " (expected %u)", name, h.header_size,
                WEFT_FILE_HEADER_SIZE);
  if (h.clock != WEFT_CLOCK_TSC && h.clock != WEFT_CLOCK_MONOTONIC)
    return fail(err, errlen, "%s: unknown clock %" PRIu32, name, h.clock);
  char why[200];
  if (weft_header_check(&h, why, sizeof why) < 0)
    return fail(err, errlen, "%s: offset 0: bad file header: %s", name, why);
  return 0;
}

static int trace_walk(WeftTrace *t, WeftEventFn fn, const uint64_t *types, void *user, PointVec *pts, char *err,
                      size_t errlen);
static int shared_load(WeftTrace *t);

/* Does the file hold sections of other processes (version 7)? */
static int is_shared(const WeftTrace *t) {
  return !t->file && hdr_of(t)->version >= 7 && (hdr_of(t)->features & WEFT_FEAT_SHARED_FILE);
}

/* Its own fit, over its sync points. */
static int trace_fit_own(WeftTrace *t) {
  if (t->pts.oom || fit_build(&t->own, t->pts.p, t->pts.n, hdr_of(t)->tsc_hz) < 0) return -1;
  t->fit = &t->own;
  return 0;
}

/* Collect the sync points of a trace whose header is checked and build its
 * own fit; a file with sections gets them too, each with its own. Returns 0,
 * or -1 (out of memory) with a message. */
static int trace_load(WeftTrace *t, char *err, size_t errlen) {
  const WeftFileHeader *h = hdr_of(t);
  points_add(&t->pts, h->start_tsc, h->start_ns);
  int rc = 0;
  if (is_shared(t))
    rc = shared_load(t);
  else
    (void)trace_walk(t, NULL, NULL, NULL, &t->pts, NULL, 0); /* faults are reported by scans */
  if (rc == 0) rc = trace_fit_own(t);
  for (size_t i = 0; rc == 0 && i < t->nsections; i++) rc = trace_fit_own(t->sections[i]);
  return rc < 0 ? fail(err, errlen, "%s: out of memory", t->name) : 0;
}

/* n bytes at off, or fewer at the end of the file; EINTR is retried.
 * Returns the count read, or -1 (errno). */
static ssize_t pread_full(int fd, void *buf, size_t n, uint64_t off) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

static const char *file_kind(mode_t mode) {
  return S_ISFIFO(mode)   ? "a FIFO"
         : S_ISDIR(mode)  ? "a directory"
         : S_ISSOCK(mode) ? "a socket"
         : S_ISCHR(mode)  ? "a character device"
         : S_ISBLK(mode)  ? "a block device"
                          : "not a file";
}

#define NOT_REGULAR_MSG "%s: not a regular file (%s)"

/* Open path for reading if it is a regular file; *st gets its status.
 * Anything else is refused before it is read: opening a FIFO waits for a
 * writer, and reading one waits for data. The stat comes first so that a
 * device is not even opened; O_NONBLOCK covers a FIFO put there since.
 * Returns the descriptor, or -1 with a message (*not_regular set when the
 * file is there but is no regular file). */
static int open_regular(const char *path, struct stat *st, int *not_regular, char *err, size_t errlen) {
  *not_regular = 0;
  if (stat(path, st) != 0) return fail(err, errlen, "%s: %s", path, strerror(errno));
  if (S_ISREG(st->st_mode)) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) return fail(err, errlen, "%s: %s", path, strerror(errno));
    if (fstat(fd, st) < 0) {
      int e = errno;
      close(fd);
      return fail(err, errlen, "%s: %s", path, strerror(e));
    }
    if (S_ISREG(st->st_mode)) return fd;
    close(fd);
  }
  *not_regular = 1;
  return fail(err, errlen, NOT_REGULAR_MSG, path, file_kind(st->st_mode));
}

/* Why a file cannot be opened, when it is not simply bad. */
enum { OPEN_BAD = 0, OPEN_UNSTARTED = 1, OPEN_NOT_REGULAR = 2 };

/* Open a trace file and check its header; its records are not read yet
 * (trace_load). *why says what kind of failure it was. */
static int trace_open_file(const char *path, WeftTrace **out, int *why, char *err, size_t errlen) {
  *out = NULL;
  *why = OPEN_BAD;
  struct stat st;
  int not_regular;
  int fd = open_regular(path, &st, &not_regular, err, errlen);
  if (fd < 0) {
    if (not_regular) *why = OPEN_NOT_REGULAR;
    return -1;
  }
  unsigned char head[WEFT_FILE_HEADER_SIZE];
  size_t want = (uint64_t)st.st_size < sizeof head ? (size_t)st.st_size : sizeof head;
  ssize_t got = pread_full(fd, head, want, 0);
  int e = errno;
  close(fd);
  if (got < 0) return fail(err, errlen, "%s: %s", path, strerror(e));
  if ((size_t)got < want) /* it shrank since the fstat */
    st.st_size = got;
  /* Killed between creating the file and writing its header: shorter than
   * the header and all zero, or a header without its magic (written last). */
  if (((uint64_t)st.st_size < WEFT_FILE_HEADER_SIZE && all_zero(head, (size_t)got)) ||
      ((uint64_t)st.st_size >= WEFT_FILE_HEADER_SIZE && all_zero(head, 8))) {
    *why = OPEN_UNSTARTED;
    return fail(err, errlen, UNSTARTED_MSG, path);
  }
  if (check_header(path, head, (uint64_t)st.st_size, err, errlen) < 0) return -1;
  WeftTrace *t = calloc(1, sizeof *t);
  if (!t || !(t->name = strdup(path))) {
    free(t);
    return fail(err, errlen, "%s: out of memory", path);
  }
  memcpy(&t->hdr, head, sizeof t->hdr);
  t->len = (uint64_t)st.st_size;
  t->dev = st.st_dev;
  t->ino = st.st_ino;
  *out = t;
  return 0;
}

int weft_trace_open(const char *path, WeftTrace **out, char *err, size_t errlen) {
  int why;
  if (trace_open_file(path, out, &why, err, errlen) < 0) return -1;
  if (trace_load(*out, err, errlen) < 0) {
    trace_free(*out);
    *out = NULL;
    return -1;
  }
  return 0;
}

int weft_trace_open_mem(const void *buf, size_t len, const char *name, WeftTrace **out, char *err, size_t errlen) {
  *out = NULL;
  if (!name) name = "<memory>";
  if (check_header(name, buf, len, err, errlen) < 0) return -1;
  WeftTrace *t = calloc(1, sizeof *t);
  if (!t || !(t->name = strdup(name))) {
    free(t);
    return fail(err, errlen, "%s: out of memory", name);
  }
  t->base = buf;
  t->len = len;
  if (((uintptr_t)buf % _Alignof(uint64_t)) != 0) {
    if (!(t->copy = malloc(len))) {
      trace_free(t);
      return fail(err, errlen, "%s: out of memory", name);
    }
    memcpy(t->copy, buf, len);
    t->base = t->copy;
  }
  memcpy(&t->hdr, t->base, sizeof t->hdr);
  if (trace_load(t, err, errlen) < 0) {
    trace_free(t);
    return -1;
  }
  *out = t;
  return 0;
}

void weft_trace_close(WeftTrace *t) {
  if (t && !t->rec && !t->file) trace_free(t);
}

size_t weft_trace_sections(const WeftTrace *t, WeftTrace *const **out) {
  *out = t->sections;
  return t->nsections;
}

uint64_t weft_trace_section_at(const WeftTrace *t) { return t->section_at; }

const WeftFileHeader *weft_trace_header(const WeftTrace *t) { return hdr_of(t); }

const char *weft_trace_name(const WeftTrace *t) { return t->name; }

uint64_t weft_trace_cut_at(const WeftTrace *t) { return t->cut_at; }

uint64_t weft_trace_size(const WeftTrace *t) { return t->len; }

uint64_t weft_trace_bad_at(const WeftTrace *t) { return t->bad_at; }

uint64_t weft_trace_ticks_to_ns(const WeftTrace *t, uint64_t ticks) {
  size_t hint = 0;
  return weft_trace_ticks_to_ns_near(t, ticks, &hint);
}

uint64_t weft_trace_ticks_to_ns_near(const WeftTrace *t, uint64_t ticks, size_t *hint) {
  return host_map(t->map, fit_convert(t->fit, ticks, hint));
}

uint64_t weft_trace_start_ns(const WeftTrace *t) { return host_map(t->map, hdr_of(t)->start_ns); }

size_t weft_trace_host(const WeftTrace *t) { return t->host; }

/* ---- scanning ---- */

/* Where a walk gets a trace's bytes: a memory trace's buffer, or pieces of
 * the file read with pread. A file is never mapped: a mapping faults with
 * SIGBUS where the file no longer reaches (it shrank since it was opened),
 * or on a page the kernel cannot supply (a hole in a file on a full tmpfs,
 * left there by an agent that could not reserve the space), where pread
 * returns short, or zeros for the hole. Zeros are what a hole is: space
 * nobody wrote, skipped like any reserved page never written (the two cannot
 * be told apart: tmpfs and ext4 report space reserved with fallocate and
 * never written as a hole too). */
typedef struct {
  const WeftTrace *t;
  int fd; /* -1: a memory trace */
  unsigned char *buf;
  size_t cap;
  uint64_t at, n; /* buf holds the file's bytes [at, at + n) */
  int err;        /* errno of the read that failed; 0: the file ended early */
  uint64_t limit; /* read no further ahead than this (0: the end of the file) */
} Src;

/* Bytes read at once when fewer are asked for: the pages of the chunks that
 * follow, the zero pages skipped one by one. */
#define READ_AHEAD (1u << 20)

static int src_open(Src *s, const WeftTrace *t, char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  s->t = t;
  s->fd = -1;
  if (t->base) return 0;
  struct stat st;
  int not_regular;
  int fd = open_regular(t->file ? t->file->name : t->name, &st, &not_regular, err, errlen);
  if (fd < 0) return -1;
  if (st.st_dev != t->dev || st.st_ino != t->ino) {
    close(fd);
    return fail(err, errlen, "%s: replaced by another file since it was opened", t->name);
  }
  s->fd = fd;
  return 0;
}

static void src_close(Src *s) {
  if (s->fd >= 0) close(s->fd);
  free(s->buf);
}

/* The n bytes at off (off + n <= the trace's length), 8-byte aligned when
 * off is, valid until the next call; NULL when they cannot be read (s->err). */
static const unsigned char *src_get(Src *s, uint64_t off, uint64_t n) {
  if (s->fd < 0) return s->t->base + off;
  if (off >= s->at && off - s->at <= s->n && n <= s->n - (off - s->at)) return s->buf + (off - s->at);
  const uint64_t start = off & ~(uint64_t)7; /* records are handed out in place */
  const uint64_t need = off - start + n;
  uint64_t want = need < READ_AHEAD ? READ_AHEAD : need;
  const uint64_t end = s->limit && s->limit < s->t->len ? s->limit : s->t->len;
  const uint64_t room = end > start ? end - start : 0;
  if (want > room) want = room;
  if (want < need) want = need; /* <= len - start: off + n <= len */
  s->n = 0;
  if (want > s->cap) {
    free(s->buf);
    s->cap = 0;
    if (want > SIZE_MAX || !(s->buf = malloc((size_t)want))) {
      s->err = ENOMEM;
      return NULL;
    }
    s->cap = (size_t)want;
  }
  ssize_t got = pread_full(s->fd, s->buf, (size_t)want, start);
  if (got < 0) {
    s->err = errno;
    return NULL;
  }
  s->at = start;
  s->n = (uint64_t)got;
  if (s->n < need) {
    s->err = 0;
    return NULL;
  }
  return s->buf + (off - start);
}

/* A read in the walk of t failed at the chunk at off: an I/O error, or the
 * file ends before the size it had when it was opened (it is cut there). */
static int read_fail(WeftTrace *t, const Src *s, uint64_t off, char *err, size_t errlen) {
  if (s->err) return fail(err, errlen, "%s: chunk at offset %" PRIu64 ": %s", t->name, off, strerror(s->err));
  t->cut_at = off;
  return fail(err, errlen,
              "%s: truncated: chunk at offset %" PRIu64 ": the file is shorter now than the %" PRIu64
              " bytes it had when it was opened",
              t->name, off, t->len);
}

/* The smallest legal length of each record type, 0 for unknown types. */
static const unsigned char min_words[256] = {
#define WEFT_EVENT(name, id, minw, doc) [id] = minw,
#include "weft-events.def"
};

static int corrupt(WeftTrace *t, uint64_t at, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Corruption at byte offset at of t: remember the first, and say
 * "FILE: offset N: what" (the form every corrupt-input message has). */
static int corrupt(WeftTrace *t, uint64_t at, char *err, size_t errlen, const char *fmt, ...) {
  if (!t->bad_at || at < t->bad_at) t->bad_at = at;
  if (err && errlen) {
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: offset %" PRIu64 ": %s", t->name, at, what);
  }
  return -1;
}

/* Is ns more than WEFT_SPAN_MAX_NS away from the file's start? Then it is
 * no time of this run: a corrupt clock field, not a long recording. */
static int ns_far(const WeftFileHeader *h, uint64_t ns) {
  return (ns > h->start_ns ? ns - h->start_ns : h->start_ns - ns) > WEFT_SPAN_MAX_NS;
}

/* The largest distance in ticks from the file's start that is no more than
 * WEFT_SPAN_MAX_NS at the header's tick rate (UINT64_MAX: any, or no rate).
 * An integer d is above the real bound exactly when it is above its floor. */
static uint64_t tick_span_max(const WeftFileHeader *h) {
  if (!h->tsc_hz) return UINT64_MAX;
  const long double lim = (long double)WEFT_SPAN_MAX_NS / 1e9L * (long double)h->tsc_hz;
  return lim >= 0x1p64L ? UINT64_MAX : (uint64_t)lim;
}

/* The same for a tick count (span: tick_span_max of the header): no
 * floating point where every record is checked. */
static int tick_far_span(const WeftFileHeader *h, uint64_t span, uint64_t tick) {
  const uint64_t d = tick > h->start_tsc ? tick - h->start_tsc : h->start_tsc - tick;
  return d > span;
}

static int tick_far(const WeftFileHeader *h, uint64_t tick) { return tick_far_span(h, tick_span_max(h), tick); }

#define SPAN_WHY  "more than %llu days from the process start"
#define SPAN_DAYS ((unsigned long long)(WEFT_SPAN_MAX_NS / 86400000000000ull))

/* Check the fields of a chunk header after its magic: size, tid, time. */
static int check_chunk_fields(WeftTrace *t, const WeftChunkHeader *ch, uint64_t off, char *err, size_t errlen) {
  const WeftFileHeader *h = hdr_of(t);
  if (ch->size == 0 || ch->size % WEFT_CHUNK_ALIGN != 0 || ch->size > WEFT_CHUNK_MAX)
    return corrupt(t, off, err, errlen, "bad chunk size %" PRIu32 " (a multiple of %u up to %u)", ch->size,
                   WEFT_CHUNK_ALIGN, WEFT_CHUNK_MAX);
  if (ch->tid == 0 || ch->tid > WEFT_PID_MAX)
    return corrupt(t, off, err, errlen, "chunk of thread id %" PRIu32, ch->tid);
  if (ns_far(h, ch->ns) || tick_far(h, ch->tsc))
    return corrupt(t, off, err, errlen, "chunk start time " SPAN_WHY, SPAN_DAYS);
  return 0;
}

/* Check a chunk header with a non-zero magic at off (a file without sections). */
static int check_chunk(WeftTrace *t, const WeftChunkHeader *ch, uint64_t off, char *err, size_t errlen) {
  if (ch->magic != WEFT_CHUNK_MAGIC) return corrupt(t, off, err, errlen, "bad chunk magic 0x%08" PRIx32, ch->magic);
  return check_chunk_fields(t, ch, off, err, errlen);
}

/* Check the record at p (word 0 w0, nw words, w[] valid) whose tick is tick. */
static int check_record(WeftTrace *t, uint64_t p, unsigned nw, const uint64_t *w, uint64_t tick, uint64_t span,
                        char *err, size_t errlen) {
  const WeftFileHeader *h = hdr_of(t);
  const unsigned type = WEFT_W0_TYPE(w[0]);
  char why[300];
  if (weft_record_check(type, WEFT_W0_AUX(w[0]), nw, w, why, sizeof why) < 0)
    return corrupt(t, p, err, errlen, "%s", why);
  if (tick_far_span(h, span, tick) || (type == WEFT_EV_SYNC && ns_far(h, w[2])))
    return corrupt(t, p, err, errlen, "%s record time " SPAN_WHY, weft_event_name(type), SPAN_DAYS);
  return 0;
}

/* Walk the records of the chunk at off of t (header ch checked, hsize bytes,
 * records after it). With fn, deliver them (t->fit must be set; *hint is the
 * fit's cache); with pts, collect the chunk's SYNC points. A chunk cut short
 * by the end of the file sets t->cut_at. Returns 0, fn's non-zero value, or
 * -1 with a message (and *io set, if io, when a read failed). */
static int chunk_records(WeftTrace *t, Src *s, uint64_t off, uint32_t hsize, const WeftChunkHeader *ch, WeftEventFn fn,
                         const uint64_t *types, void *user, PointVec *pts, size_t *hint, char *err, size_t errlen,
                         int *io) {
  const uint64_t len = t->len, rem = len - off;
  const uint32_t pid = hdr_of(t)->pid;
  const uint64_t chunk_end = off + ch->size; /* off < len, ch->size <= 64 MiB: no overflow */
  const int truncated = ch->size > rem;
  const uint64_t end = truncated ? len : chunk_end;
  const unsigned char *chunk = src_get(s, off, end - off); /* chunk[i]: the byte at off + i */
  if (!chunk) {
    if (io) *io = 1;
    return read_fail(t, s, off, err, errlen);
  }
  uint64_t p = off + hsize;
  uint64_t tick = ch->tsc;
  const uint64_t span = tick_span_max(hdr_of(t));
  while (end - p >= 8) {
    const unsigned char *at = chunk + (p - off);
    const uint64_t w0 = load64(at);
    if (w0 == 0) break; /* end of the written part */
    const unsigned type = WEFT_W0_TYPE(w0), nw = WEFT_W0_NWORDS(w0);
    const unsigned minw = min_words[type];
    if (nw == 0) return corrupt(t, p, err, errlen, "record of 0 words (in the chunk at offset %" PRIu64 ")", off);
    if (!minw)
      return corrupt(t, p, err, errlen, "unknown record type %u (in the chunk at offset %" PRIu64 ")", type, off);
    if (nw < minw)
      return corrupt(t, p, err, errlen, "%s record of %u words, needs at least %u", weft_event_name(type), nw, minw);
    const uint64_t bytes = (uint64_t)nw * 8;
    if (bytes > chunk_end - p)
      return corrupt(t, p, err, errlen, "%s record of %u words overruns the end of its chunk at offset %" PRIu64,
                     weft_event_name(type), nw, chunk_end);
    if (bytes > end - p) break; /* cut off by the end of the file */
    const uint64_t *w = (const uint64_t *)(const void *)at;
    if (type == WEFT_EV_TIME)
      tick = w[1];
    else
      tick = sat_add(tick, WEFT_W0_DT(w0));
    if (check_record(t, p, nw, w, tick, span, err, errlen) < 0) return -1;
    if (pts) { /* the open's walk */
      t->seen[type >> 6] |= 1ull << (type & 63);
      if (type == WEFT_EV_SYNC) points_add(pts, w[1], w[2]);
    }
    if (fn && (!types || (types[type >> 6] >> (type & 63) & 1))) {
      const uint64_t ns = fit_convert(t->fit, tick, hint);
      if (ns_far(hdr_of(t), ns)) /* a sane tick but a bent fit (another file's clock points) */
        return corrupt(t, p, err, errlen, "%s record time " SPAN_WHY, weft_event_name(type), SPAN_DAYS);
      WeftEvent ev = {
          .ns = host_map(t->map, ns),
          .tsc = tick,
          .pid = pid,
          .tid = ch->tid,
          .type = type,
          .aux = WEFT_W0_AUX(w0),
          .nwords = nw,
          .w = w,
          .offset = p,
      };
      int r = fn(&ev, user);
      if (r) return r;
    }
    p += bytes;
  }
  if (truncated) {
    t->cut_at = off;
    return fail(err, errlen, "%s: truncated: chunk at offset %" PRIu64 " claims %" PRIu32 " bytes, file has %" PRIu64,
                t->name, off, ch->size, len);
  }
  return 0;
}

#define HEADER_CUT_MSG "%s: truncated: chunk header at offset %" PRIu64 ", file has %" PRIu64 " bytes"

/* Walk the chunks and records of a file without sections from s, every
 * chunk in file order. With fn, deliver every record (t->fit must be set).
 * With pts, collect chunk header and SYNC sync points. A chunk cut short by
 * the end of the file sets t->cut_at. Returns 0, fn's non-zero value, or -1
 * with a message. */
static int walk_chunks(WeftTrace *t, Src *s, WeftEventFn fn, const uint64_t *types, void *user, PointVec *pts,
                       char *err, size_t errlen) {
  const uint64_t len = t->len;
  size_t hint = 0;
  uint64_t off = WEFT_FILE_HEADER_SIZE;

  while (off < len) {
    const uint64_t rem = len - off;
    if (rem < sizeof(WeftChunkHeader)) {
      const unsigned char *tail = src_get(s, off, rem);
      if (!tail) return read_fail(t, s, off, err, errlen);
      if (all_zero(tail, (size_t)rem)) break; /* a partial page never written */
      t->cut_at = off;
      return fail(err, errlen, HEADER_CUT_MSG, t->name, off, len);
    }
    const unsigned char *head = src_get(s, off, sizeof(WeftChunkHeader));
    if (!head) return read_fail(t, s, off, err, errlen);
    WeftChunkHeader ch;
    memcpy(&ch, head, sizeof ch);
    if (ch.magic == 0) {
      /* Reserved but never written: all zero, or a chunk taken just before a
       * kill (the writer stores the magic last, after the other fields, and
       * writes records only after that). Its pages are zero: skip one. */
      off = sat_add(off, WEFT_CHUNK_ALIGN);
      continue;
    }
    if (check_chunk(t, &ch, off, err, errlen) < 0) return -1;
    if (pts) points_add(pts, ch.tsc, ch.ns);
    int rc = chunk_records(t, s, off, sizeof ch, &ch, fn, types, user, pts, &hint, err, errlen, NULL);
    if (rc) return rc;
    off += ch.size;
  }
  return 0;
}

/* ---- files with sections (version 7) ---- */

/* Chunks of a list read at once, when they lie this close to each other in
 * the file (the pages of other owners between them are read and skipped). */
#define LIST_GAP (16u << 10)

/* The end of the bytes to read for the chunks of list v from index i: the
 * following ones as long as they are close and within READ_AHEAD of the
 * first. *last gets the index of the last one. */
static uint64_t list_run(const ChunkVec *v, size_t i, size_t *last) {
  const uint64_t first = v->v[i].off;
  uint64_t end = first + v->v[i].size;
  size_t j = i;
  while (j + 1 < v->n && v->v[j + 1].off >= end && v->v[j + 1].off - end <= LIST_GAP &&
         v->v[j + 1].off + v->v[j + 1].size - first <= READ_AHEAD) {
    j++;
    end = v->v[j].off + v->v[j].size;
  }
  *last = j;
  return end;
}

/* The fault that ended the file's pass after t's chunks, as a message with t's name. */
static int stop_fail(const WeftTrace *t, char *err, size_t errlen) {
  const WeftTrace *f = t->file ? t->file : t;
  return fail(err, errlen, "%s%s", t->name, f->stop_msg ? f->stop_msg : ": stopped");
}

/* Walk the listed chunks of t (a file with sections, or a section) from s,
 * then its stop. As walk_chunks, without pts (shared_load collects them). */
static int walk_list(WeftTrace *t, Src *s, WeftEventFn fn, const uint64_t *types, void *user, char *err,
                     size_t errlen) {
  const uint32_t magic = t->file ? WEFT_CHILD_CHUNK_MAGIC : WEFT_CHUNK_MAGIC;
  const uint32_t hsize = t->file ? sizeof(WeftChildChunkHeader) : sizeof(WeftChunkHeader);
  size_t hint = 0, last = 0;
  for (size_t i = 0; i < t->chunks.n; i++) {
    const ChunkRef c = t->chunks.v[i];
    if (i == 0 || i > last) s->limit = list_run(&t->chunks, i, &last);
    const unsigned char *head = src_get(s, c.off, hsize); /* the pass saw hsize bytes there */
    if (!head) return read_fail(t, s, c.off, err, errlen);
    WeftChunkHeader ch;
    memcpy(&ch, head, sizeof ch);
    if (ch.magic != magic || ch.size != c.size || (t->file && load32(head + 32) != hdr_of(t)->pid))
      return corrupt(t, c.off, err, errlen, "not the chunk found there when the file was opened");
    if (check_chunk_fields(t, &ch, c.off, err, errlen) < 0) return -1;
    int rc = chunk_records(t, s, c.off, hsize, &ch, fn, types, user, NULL, &hint, err, errlen, NULL);
    if (rc) return rc;
  }
  return t->stop_at ? stop_fail(t, err, errlen) : 0;
}

/* Sections by pid during the pass: the latest PROCESS chunk of each pid
 * (open addressing, pid 0 free). */
typedef struct {
  uint32_t *pid;
  WeftTrace **sec;
  size_t cap, n; /* cap: 0 or a power of two */
} PidMap;

static size_t pid_slot(const PidMap *m, uint32_t pid) {
  size_t i = (size_t)(pid * 2654435761u) & (m->cap - 1);
  while (m->pid[i] && m->pid[i] != pid) i = (i + 1) & (m->cap - 1);
  return i;
}

static WeftTrace *pid_get(const PidMap *m, uint32_t pid) {
  if (!m->cap) return NULL;
  size_t i = pid_slot(m, pid);
  return m->pid[i] ? m->sec[i] : NULL;
}

/* Set pid's section (pid != 0). Returns 0, or -1 when out of memory. */
static int pid_put(PidMap *m, uint32_t pid, WeftTrace *sec) {
  if (2 * (m->n + 1) > m->cap) {
    PidMap g = {.cap = m->cap ? 2 * m->cap : 64};
    g.pid = calloc(g.cap, sizeof *g.pid);
    g.sec = calloc(g.cap, sizeof *g.sec);
    if (!g.pid || !g.sec) {
      free(g.pid);
      free(g.sec);
      return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
      if (m->pid[i]) {
        size_t k = pid_slot(&g, m->pid[i]);
        g.pid[k] = m->pid[i];
        g.sec[k] = m->sec[i];
      }
    g.n = m->n;
    free(m->pid);
    free(m->sec);
    *m = g;
  }
  size_t i = pid_slot(m, pid);
  if (!m->pid[i]) m->n++;
  m->pid[i] = pid;
  m->sec[i] = sec;
  return 0;
}

static int chunk_add(ChunkVec *v, uint64_t off, uint32_t size) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 16;
    ChunkRef *p = cap > SIZE_MAX / sizeof *p ? NULL : realloc(v->v, cap * sizeof *p);
    if (!p) return -1;
    v->v = p;
    v->cap = cap;
  }
  v->v[v->n++] = (ChunkRef){off, size};
  return 0;
}

/* The pass over file f stopped at off with msg (formatted with the name
 * `named`): f's trace ends there, and with all, every section of it too. */
static void stop_pass(WeftTrace *f, uint64_t off, int kind, const char *msg, const char *named, int all) {
  const size_t skip = strlen(named);
  free(f->stop_msg);
  f->stop_msg = strdup(strncmp(msg, named, skip) == 0 ? msg + skip : msg);
  for (size_t i = 0; i <= (all ? f->nsections : 0); i++) {
    WeftTrace *t = i ? f->sections[i - 1] : f;
    t->stop_at = off;
    if (kind == STOP_BAD && (!t->bad_at || off < t->bad_at)) t->bad_at = off;
    if (kind == STOP_CUT) t->cut_at = off;
  }
}

/* Is the PROCESS page h (at off of file f) a section's header? 0, or -1 with
 * the reason in why. */
static int check_process(const WeftFileHeader *f, const WeftFileHeader *h, char *why, size_t whylen) {
  if (h->version != f->version)
    return fail(why, whylen, "version %" PRIu32 " in a version-%" PRIu32 " file", h->version, f->version);
  if (h->endian != f->endian) return fail(why, whylen, "bad endian mark 0x%08" PRIx32, h->endian);
  if (h->header_size != WEFT_FILE_HEADER_SIZE)
    return fail(why, whylen, "header size %" PRIu32 " (expected %u)", h->header_size, WEFT_FILE_HEADER_SIZE);
  if (h->clock != f->clock) return fail(why, whylen, "clock %" PRIu32 ", the file's is %" PRIu32, h->clock, f->clock);
  if (h->session != f->session)
    return fail(why, whylen, "session %016" PRIx64 ", the file's is %016" PRIx64, h->session, f->session);
  if (h->host_id != f->host_id)
    return fail(why, whylen, "host %016" PRIx64 ", the file's is %016" PRIx64, h->host_id, f->host_id);
  if (weft_header_check(h, why, whylen) < 0) return -1;
  if (ns_far(f, h->start_ns) || tick_far(f, h->start_tsc))
    return fail(why, whylen, "start time more than %llu days from the file's start", SPAN_DAYS);
  return 0;
}

/* A section for the PROCESS page h at off of file f. NULL when out of memory. */
static WeftTrace *section_new(WeftTrace *f, const WeftFileHeader *h, uint64_t off) {
  const size_t n = f->nsections;
  if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) { /* room for 4, then double */
    WeftTrace **v = n > SIZE_MAX / 2 / sizeof *v ? NULL : realloc(f->sections, (n ? 2 * n : 4) * sizeof *v);
    if (!v) return NULL;
    f->sections = v;
  }
  WeftTrace *t = calloc(1, sizeof *t);
  const size_t nlen = strlen(f->name) + 32;
  if (!t || !(t->name = malloc(nlen))) {
    free(t);
    return NULL;
  }
  snprintf(t->name, nlen, "%s [pid %" PRIu32 "]", f->name, h->pid);
  t->hdr = *h;
  memcpy(t->hdr.magic, WEFT_TRACE_MAGIC, sizeof t->hdr.magic); /* it reads as a file's header */
  t->base = f->base;
  t->len = f->len;
  t->dev = f->dev;
  t->ino = f->ino;
  t->file = f;
  t->section_at = off;
  t->listed = 1;
  points_add(&t->pts, h->start_tsc, h->start_ns);
  f->sections[f->nsections++] = t;
  return t;
}

/* The PROCESS chunk ch at off of f (rem bytes to the end of the file): a new
 * section, or the end of the pass. Returns 0 (go on), 1 (the pass ends: a
 * fault, noted by stop_pass) or -1 (out of memory). */
static int load_process(WeftTrace *f, Src *s, PidMap *pm, const WeftChunkHeader *ch, uint64_t off, uint64_t rem) {
  char msg[600], why[300];
  if (ch->size != WEFT_PROC_CHUNK_SIZE) {
    corrupt(f, off, msg, sizeof msg, "bad process chunk: size %" PRIu32 " (expected %u)", ch->size,
            WEFT_PROC_CHUNK_SIZE);
    stop_pass(f, off, STOP_BAD, msg, f->name, 1);
    return 1;
  }
  if (rem < WEFT_PROC_CHUNK_SIZE) { /* cut by the end of the file: nothing of any section lies after it */
    fail(msg, sizeof msg, "%s: truncated: chunk at offset %" PRIu64 " claims %" PRIu32 " bytes, file has %" PRIu64,
         f->name, off, ch->size, f->len);
    stop_pass(f, off, STOP_CUT, msg, f->name, 0);
    return 1;
  }
  const unsigned char *page = src_get(s, off, sizeof(WeftFileHeader));
  if (!page) {
    read_fail(f, s, off, msg, sizeof msg);
    stop_pass(f, off, s->err ? STOP_IO : STOP_CUT, msg, f->name, 1);
    return 1;
  }
  WeftFileHeader h;
  memcpy(&h, page, sizeof h);
  if (check_process(hdr_of(f), &h, why, sizeof why) < 0) {
    corrupt(f, off, msg, sizeof msg, "bad process chunk: %s", why);
    stop_pass(f, off, STOP_BAD, msg, f->name, 1);
    return 1;
  }
  WeftTrace *t = section_new(f, &h, off);
  return t && pid_put(pm, h.pid, t) == 0 ? 0 : -1;
}

/* The chunk at off of file f (ch, hsize bytes of header; owner its owner):
 * listed, its sync points collected, its records checked. Returns 0 (go
 * on), 1 (the pass ends) or -1 (out of memory). */
static int load_chunk(WeftTrace *f, Src *s, WeftTrace *owner, const WeftChunkHeader *ch, uint32_t hsize, uint64_t off) {
  char msg[600];
  if (check_chunk_fields(owner, ch, off, msg, sizeof msg) < 0) {
    stop_pass(f, off, STOP_BAD, msg, owner->name, 1);
    return 1;
  }
  if (owner->load_done) return 0;
  if (chunk_add(&owner->chunks, off, ch->size) < 0) return -1;
  points_add(&owner->pts, ch->tsc, ch->ns);
  int io = 0;
  if (chunk_records(owner, s, off, hsize, ch, NULL, NULL, NULL, &owner->pts, NULL, msg, sizeof msg, &io) == 0) return 0;
  if (io) { /* the list of every trace of the file ends here */
    owner->cut_at = 0;
    stop_pass(f, off, s->err ? STOP_IO : STOP_CUT, msg, owner->name, 1);
    return 1;
  }
  if (owner->cut_at) return 1; /* cut by the end of the file: its owner's, walked again by its scans */
  owner->load_done = 1;        /* a bad record: its owner's scans stop there */
  return 0;
}

/* The open's pass over a file with sections (shared_load's loop): returns 0,
 * or -1 when out of memory; faults end the lists (stop_pass, load_done). */
static int shared_pass(WeftTrace *f, Src *s, PidMap *pm) {
  char msg[600];
  const uint64_t len = f->len;
  uint64_t off = WEFT_FILE_HEADER_SIZE;
  int rc = 0;
  while (rc == 0 && off < len) {
    const uint64_t rem = len - off;
    const unsigned char *head = src_get(s, off, rem < sizeof(WeftChunkHeader) ? rem : sizeof(WeftChunkHeader));
    if (!head) {
      read_fail(f, s, off, msg, sizeof msg);
      f->cut_at = 0;
      stop_pass(f, off, s->err ? STOP_IO : STOP_CUT, msg, f->name, 1);
      return 0;
    }
    WeftChunkHeader ch;
    if (rem < sizeof ch) {
      if (all_zero(head, (size_t)rem)) return 0; /* a partial page never written */
    } else
      memcpy(&ch, head, sizeof ch);
    if (rem >= sizeof ch && ch.magic == 0) { /* reserved, never written (walk_chunks) */
      off = sat_add(off, WEFT_CHUNK_ALIGN);
      continue;
    }
    if (rem < sizeof ch || (ch.magic == WEFT_CHILD_CHUNK_MAGIC && rem < sizeof(WeftChildChunkHeader))) {
      fail(msg, sizeof msg, HEADER_CUT_MSG, f->name, off, len); /* the owner is not known: the file's */
      stop_pass(f, off, STOP_CUT, msg, f->name, 0);
      return 0;
    }
    if (ch.magic == WEFT_PROC_MAGIC) {
      rc = load_process(f, s, pm, &ch, off, rem);
      off += WEFT_PROC_CHUNK_SIZE;
      continue;
    }
    WeftTrace *owner = f;
    uint32_t hsize = sizeof ch;
    if (ch.magic == WEFT_CHILD_CHUNK_MAGIC) {
      const unsigned char *child = src_get(s, off, sizeof(WeftChildChunkHeader));
      const uint32_t pid = child ? load32(child + 32) : 0;
      owner = child ? pid_get(pm, pid) : NULL;
      hsize = sizeof(WeftChildChunkHeader);
      if (!owner) {
        if (child)
          corrupt(f, off, msg, sizeof msg, "chunk of pid %" PRIu32 " before its process header", pid);
        else
          read_fail(f, s, off, msg, sizeof msg);
        stop_pass(f, off, child ? STOP_BAD : s->err ? STOP_IO : STOP_CUT, msg, f->name, 1);
        return 0;
      }
    } else if (ch.magic != WEFT_CHUNK_MAGIC) {
      corrupt(f, off, msg, sizeof msg, "bad chunk magic 0x%08" PRIx32, ch.magic);
      stop_pass(f, off, STOP_BAD, msg, f->name, 1);
      return 0;
    }
    rc = load_chunk(f, s, owner, &ch, hsize, off);
    off += ch.size;
  }
  return rc < 0 ? -1 : 0;
}

/* Read a file with sections once (t is the file's trace; its header point
 * is in t->pts): every chunk header, in file order; each PROCESS chunk a new
 * section (t->sections), each chunk listed for its owner with its sync
 * points, records checked. Returns 0, or -1 when out of memory. An open
 * that fails is reported by the scans (src_open again). */
static int shared_load(WeftTrace *t) {
  Src s;
  PidMap pm = {0};
  char msg[600];
  t->listed = 1;
  if (src_open(&s, t, msg, sizeof msg) < 0) { /* its scans say why, if it happens again */
    stop_pass(t, WEFT_FILE_HEADER_SIZE, STOP_IO, msg, t->name, 0);
    return 0;
  }
  int rc = shared_pass(t, &s, &pm);
  src_close(&s);
  free(pm.pid);
  free(pm.sec);
  for (size_t i = 0; i < t->nsections; i++) t->sections[i]->load_done = 0;
  t->load_done = 0;
  return rc;
}

static int trace_walk(WeftTrace *t, WeftEventFn fn, const uint64_t *types, void *user, PointVec *pts, char *err,
                      size_t errlen) {
  Src s;
  if (src_open(&s, t, err, errlen) < 0) return -1;
  int rc = t->listed ? walk_list(t, &s, fn, types, user, err, errlen)
                     : walk_chunks(t, &s, fn, types, user, pts, err, errlen);
  src_close(&s);
  return rc;
}

int weft_trace_scan(WeftTrace *t, WeftEventFn fn, void *user, char *err, size_t errlen) {
  return trace_walk(t, fn, NULL, user, NULL, err, errlen);
}

int weft_trace_scan_types(WeftTrace *t, const uint64_t types[4], WeftEventFn fn, void *user, char *err, size_t errlen) {
  return trace_walk(t, fn, types, user, NULL, err, errlen);
}

int weft_trace_has_types(const WeftTrace *t, const uint64_t types[4]) {
  return ((t->seen[0] & types[0]) | (t->seen[1] & types[1]) | (t->seen[2] & types[2]) | (t->seen[3] & types[3])) != 0;
}

/* ---- recordings ---- */

static int trace_order(const void *a, const void *b) {
  const WeftTrace *x = *(WeftTrace *const *)a, *y = *(WeftTrace *const *)b;
  const WeftFileHeader *hx = hdr_of(x), *hy = hdr_of(y);
  if (hx->pid != hy->pid) return hx->pid < hy->pid ? -1 : 1;
  if (hx->image != hy->image) return hx->image < hy->image ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* By session, then as trace_order (so a session's pids are together). */
static int session_order(const void *a, const void *b) {
  const WeftTrace *x = *(WeftTrace *const *)a, *y = *(WeftTrace *const *)b;
  int c = cmp_u64(hdr_of(x)->session, hdr_of(y)->session);
  return c ? c : trace_order(a, b);
}

/* Oldest first: by wall-clock start (it survives a reboot between two runs,
 * CLOCK_MONOTONIC does not), then monotonic start, then id. */
static int session_age(const void *a, const void *b) {
  const WeftSession *x = a, *y = b;
  int c = cmp_u64(x->realtime_ns, y->realtime_ns);
  if (!c) c = cmp_u64(x->start_ns, y->start_ns);
  return c ? c : cmp_u64(x->session, y->session);
}

static int is_trace_name(const char *s) {
  size_t n = strlen(s);
  return n > 7 && strcmp(s + n - 7, ".wtrace") == 0;
}

/* Build the fits, one per host and clock, and hand them to the traces. */
static int recording_fit(WeftRecording *r) {
  for (size_t hi = 0; hi < r->nhosts; hi++)
    for (unsigned clock = WEFT_CLOCK_TSC; clock <= WEFT_CLOCK_MONOTONIC; clock++) {
      size_t n = 0;
      uint64_t hz = 0;
      for (size_t i = 0; i < r->n; i++) {
        const WeftFileHeader *h = hdr_of(r->traces[i]);
        if (h->clock != clock || r->traces[i]->host != hi) continue;
        if (r->traces[i]->pts.n > SIZE_MAX - n) return -1;
        n += r->traces[i]->pts.n;
        if (!hz) hz = h->tsc_hz;
      }
      if (n == 0) continue;
      SyncPoint *all = n <= SIZE_MAX / sizeof *all ? malloc(n * sizeof *all) : NULL;
      if (!all) return -1;
      size_t k = 0;
      for (size_t i = 0; i < r->n; i++)
        if (hdr_of(r->traces[i])->clock == clock && r->traces[i]->host == hi) {
          memcpy(all + k, r->traces[i]->pts.p, r->traces[i]->pts.n * sizeof *all);
          k += r->traces[i]->pts.n;
        }
      int rc = fit_build(&r->hosts[hi].fits[clock], all, n, hz);
      free(all);
      if (rc < 0) return -1;
    }
  for (size_t i = 0; i < r->n; i++) {
    WeftTrace *t = r->traces[i];
    t->fit = &r->hosts[t->host].fits[hdr_of(t)->clock];
    t->rec = r;
    free(t->pts.p); /* no longer needed */
    t->pts = (PointVec){0};
  }
  return 0;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Group the traces by host (header host_id; 0, a trace that names none, is
 * a host of its own), first appearance in trace order, and give each host
 * the shift of its wall-clock anchor (the median over its files of
 * realtime_ns - start_ns) against the first host's: each machine's
 * monotonic clock starts at its own boot, the wall clocks roughly agree. */
static int cmp_realtime(const void *a, const void *b) {
  return cmp_u64(hdr_of(*(WeftTrace *const *)a)->realtime_ns, hdr_of(*(WeftTrace *const *)b)->realtime_ns);
}

static int recording_hosts(WeftRecording *r) {
  qsort(r->traces, r->n, sizeof *r->traces, cmp_realtime); /* the first host: the earliest start */
  r->hosts = calloc(r->n ? r->n : 1, sizeof *r->hosts);
  int64_t *d = malloc((r->n ? r->n : 1) * sizeof *d);
  if (!r->hosts || !d) {
    free(d);
    return -1;
  }
  int64_t first = 0;
  for (size_t i = 0; i < r->n; i++) {
    const WeftFileHeader *h = hdr_of(r->traces[i]);
    size_t k = 0;
    while (k < r->nhosts && r->hosts[k].pub.host_id != h->host_id) k++;
    if (k == r->nhosts) {
      WeftHost *p = &r->hosts[r->nhosts++].pub;
      p->host_id = h->host_id;
      memcpy(p->name, h->host_name, sizeof p->name);
      p->name[sizeof p->name - 1] = 0;
    }
    r->traces[i]->host = k;
    r->hosts[k].pub.files++;
  }
  for (size_t k = 0; k < r->nhosts; k++) {
    size_t m = 0;
    for (size_t i = 0; i < r->n; i++)
      if (r->traces[i]->host == k)
        d[m++] = (int64_t)(hdr_of(r->traces[i])->realtime_ns - hdr_of(r->traces[i])->start_ns);
    qsort(d, m, sizeof *d, cmp_i64);
    int64_t anchor = d[m / 2];
    if (k == 0) first = anchor;
    r->hosts[k].pub.anchor_shift_ns = anchor - first;
  }
  free(d);
  if (!(r->pub = calloc(r->nhosts, sizeof *r->pub))) return -1;
  for (size_t i = 0; i < r->n; i++) r->traces[i]->map = r->nhosts > 1 ? &r->hosts[r->traces[i]->host].pub : NULL;
  for (size_t k = 0; k < r->nhosts; k++) r->pub[k] = r->hosts[k].pub;
  return 0;
}

/* Open the header of every *.wtrace file of dir into r->traces. Files of
 * processes killed before they wrote their header are counted in *nempty,
 * files that are not regular files skipped with a warning. */
static int recording_list(WeftRecording *r, const char *dir, const WeftRecordingOptions *opt, size_t *nempty, char *err,
                          size_t errlen) {
  DIR *d = opendir(dir);
  if (!d) return fail(err, errlen, "%s: %s", dir, strerror(errno));
  size_t cap = 0;
  int rc = 0;
  struct dirent *de;
  errno = 0;
  while ((de = readdir(d))) {
    if (!is_trace_name(de->d_name)) continue;
    if (r->n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      WeftTrace **nt = ncap > SIZE_MAX / sizeof *nt ? NULL : realloc(r->traces, ncap * sizeof *nt);
      if (!nt) {
        rc = fail(err, errlen, "%s: out of memory", dir);
        break;
      }
      r->traces = nt;
      cap = ncap;
    }
    size_t plen = strlen(dir) + 1 + strlen(de->d_name) + 1;
    char *path = malloc(plen);
    if (!path) {
      rc = fail(err, errlen, "%s: out of memory", dir);
      break;
    }
    snprintf(path, plen, "%s/%s", dir, de->d_name);
    int why;
    rc = trace_open_file(path, &r->traces[r->n], &why, err, errlen);
    free(path);
    if (rc < 0 && why == OPEN_NOT_REGULAR && opt->warn) {
      char msg[1200];
      snprintf(msg, sizeof msg, "%s: skipped", err);
      opt->warn(msg, opt->warn_user);
    }
    if (rc < 0 && why == OPEN_UNSTARTED && opt->warn) { /* a process missing from the recording: say so */
      char msg[1200];
      snprintf(msg, sizeof msg,
               "%s/%s: empty: its process ended or was killed before the agent wrote anything; "
               "skipped",
               dir, de->d_name);
      opt->warn(msg, opt->warn_user);
    }
    if (rc < 0 && why != OPEN_BAD) {
      rc = 0; /* nothing to read in it */
      if (why == OPEN_UNSTARTED) (*nempty)++;
      errno = 0;
      continue;
    }
    if (rc < 0) break;
    r->n++;
    errno = 0;
  }
  if (rc == 0 && errno != 0) rc = fail(err, errlen, "%s: %s", dir, strerror(errno));
  closedir(d);
  return rc;
}

/* Count the traces (process images) and pids of each session among
 * r->traces into r->sessions (again once the sections are known). */
static void recording_tally(WeftRecording *r) {
  qsort(r->traces, r->n, sizeof *r->traces, session_order);
  WeftSession *s = NULL;
  for (size_t i = 0; i < r->n; i++) {
    const WeftFileHeader *h = hdr_of(r->traces[i]);
    const int first = i == 0 || h->session != hdr_of(r->traces[i - 1])->session;
    if (first) {
      s = r->sessions;
      while (s->session != h->session) s++; /* there is one */
      s->files = s->processes = 0;
    }
    if (++s->files == 1 || h->pid != hdr_of(r->traces[i - 1])->pid) s->processes++;
  }
}

/* Group r->traces (not empty) by session into r->sessions, oldest first. */
static int recording_sessions(WeftRecording *r) {
  qsort(r->traces, r->n, sizeof *r->traces, session_order);
  r->sessions = calloc(r->n, sizeof *r->sessions); /* at most one per file */
  if (!r->sessions) return -1;
  for (size_t i = 0; i < r->n; i++) {
    const WeftFileHeader *h = hdr_of(r->traces[i]);
    if (i == 0 || h->session != hdr_of(r->traces[i - 1])->session)
      r->sessions[r->nsessions++] =
          (WeftSession){.session = h->session, .start_ns = h->start_ns, .realtime_ns = h->realtime_ns};
    WeftSession *s = &r->sessions[r->nsessions - 1];
    if (h->start_ns < s->start_ns) {
      s->start_ns = h->start_ns;
      s->realtime_ns = h->realtime_ns;
    }
  }
  recording_tally(r);
  qsort(r->sessions, r->nsessions, sizeof *r->sessions, session_age);
  return 0;
}

/* Keep the files of the session opt asks for (every file with all_sessions). */
static int recording_choose(WeftRecording *r, const char *dir, const WeftRecordingOptions *opt, char *err,
                            size_t errlen) {
  if (opt->all_sessions) {
    r->chosen = SIZE_MAX;
    return 0;
  }
  r->chosen = r->nsessions - 1; /* the latest */
  if (opt->pick_session) {
    size_t i = 0;
    while (i < r->nsessions && r->sessions[i].session != opt->session) i++;
    if (i == r->nsessions) {
      char list[256] = "";
      size_t used = 0;
      for (size_t k = 0; k < r->nsessions && used < sizeof list - 40; k++)
        used +=
            (size_t)snprintf(list + used, sizeof list - used, "%s%016" PRIx64, k ? ", " : "", r->sessions[k].session);
      return fail(err, errlen,
                  "%s: no trace file of session %016" PRIx64 " in this directory "
                  "(its sessions: %s%s)",
                  dir, opt->session, list, used >= sizeof list - 40 ? ", ..." : "");
    }
    r->chosen = i;
  }
  const uint64_t keep = r->sessions[r->chosen].session;
  size_t m = 0;
  for (size_t i = 0; i < r->n; i++) {
    if (hdr_of(r->traces[i])->session == keep)
      r->traces[m++] = r->traces[i];
    else
      trace_free(r->traces[i]);
  }
  r->n = m;
  return 0;
}

/* By session, host and pid; then by start, file image, name. */
static int image_order(const void *a, const void *b) {
  const WeftTrace *x = *(WeftTrace *const *)a, *y = *(WeftTrace *const *)b;
  const WeftFileHeader *hx = hdr_of(x), *hy = hdr_of(y);
  int c = cmp_u64(hx->session, hy->session);
  if (!c) c = cmp_u64(hx->host_id, hy->host_id);
  if (!c) c = cmp_u64(hx->pid, hy->pid);
  if (!c) c = cmp_u64(hx->start_ns, hy->start_ns);
  if (!c) c = cmp_u64(hx->image, hy->image);
  if (!c) c = cmp_u64(x->section_at, y->section_at);
  return c ? c : strcmp(x->name, y->name);
}

/* A section's header says image 0: the images of a pid (of one session and
 * host) that has a section are its traces numbered 0, 1, ... by start (a
 * fork child's section, then the file of its exec). Other pids keep their
 * files' numbers. */
static void recording_images(WeftRecording *r) {
  size_t i = 0;
  while (i < r->n && !r->traces[i]->file) i++;
  if (i == r->n) return; /* no section */
  qsort(r->traces, r->n, sizeof *r->traces, image_order);
  for (i = 0; i < r->n;) {
    const WeftFileHeader *h = hdr_of(r->traces[i]);
    size_t j = i;
    int section = 0;
    for (; j < r->n; j++) {
      const WeftFileHeader *g = hdr_of(r->traces[j]);
      if (g->session != h->session || g->host_id != h->host_id || g->pid != h->pid) break;
      section |= r->traces[j]->file != NULL;
    }
    for (size_t k = i; section && k < j; k++) r->traces[k]->hdr.image = (uint32_t)(k - i);
    i = j;
  }
}

/* Read the chosen files (trace_load) and add their sections to the
 * recording, counted in their sessions, their images numbered. */
static int recording_load(WeftRecording *r, char *err, size_t errlen) {
  const size_t nfiles = r->n;
  size_t n = nfiles;
  for (size_t i = 0; i < nfiles; i++) {
    if (trace_load(r->traces[i], err, errlen) < 0) return -1;
    if (r->traces[i]->nsections > SIZE_MAX / sizeof *r->traces - n)
      return fail(err, errlen, "%s: out of memory", r->traces[i]->name);
    n += r->traces[i]->nsections;
  }
  if (n == nfiles) return 0;
  WeftTrace **v = realloc(r->traces, n * sizeof *v);
  if (!v) return fail(err, errlen, "%s: out of memory", r->traces[0]->name);
  r->traces = v;
  for (size_t i = 0; i < nfiles; i++)
    for (size_t k = 0; k < v[i]->nsections; k++) v[r->n++] = v[i]->sections[k];
  recording_tally(r);
  recording_images(r);
  return 0;
}

static int cmp_start(const void *a, const void *b) {
  return cmp_u64(weft_trace_start_ns(*(WeftTrace *const *)a), weft_trace_start_ns(*(WeftTrace *const *)b));
}

/* The files of one run start within its span: a start time far from the
 * others' (their median) is a corrupt header, which would stretch the
 * recording's time range to days. Sorts r->traces by start. */
static int recording_check_starts(WeftRecording *r, char *err, size_t errlen) {
  qsort(r->traces, r->n, sizeof *r->traces, cmp_start);
  const uint64_t mid = weft_trace_start_ns(r->traces[r->n / 2]);
  for (size_t i = 0; i < r->n; i++) {
    const uint64_t s = weft_trace_start_ns(r->traces[i]);
    if ((s > mid ? s - mid : mid - s) > WEFT_SPAN_MAX_NS)
      return fail(err, errlen,
                  "%s: offset %" PRIu64 ": bad %s: start time %.0f s from the other files' "
                  "(more than %llu days)",
                  r->traces[i]->name, r->traces[i]->section_at, r->traces[i]->file ? "process chunk" : "file header",
                  ((double)s - (double)mid) / 1e9, SPAN_DAYS);
  }
  return 0;
}

int weft_recording_open(const char *dir, WeftRecording **out, char *err, size_t errlen) {
  return weft_recording_open_with(dir, NULL, out, err, errlen);
}

int weft_recording_open_with(const char *dir, const WeftRecordingOptions *opt, WeftRecording **out, char *err,
                             size_t errlen) {
  return weft_recording_open_dirs(&dir, 1, opt, out, err, errlen);
}

static void recording_set_start(WeftRecording *r) {
  r->start_ns = UINT64_MAX;
  for (size_t i = 0; i < r->n; i++)
    if (weft_trace_start_ns(r->traces[i]) < r->start_ns) r->start_ns = weft_trace_start_ns(r->traces[i]);
}

int weft_recording_open_dirs(const char *const *dirs, size_t ndirs, const WeftRecordingOptions *opt,
                             WeftRecording **out, char *err, size_t errlen) {
  static const WeftRecordingOptions defaults;
  if (!opt) opt = &defaults;
  *out = NULL;
  const char *dir = ndirs ? dirs[0] : ""; /* messages about the whole recording name the first */
  WeftRecording *r = calloc(1, sizeof *r);
  if (!r) return fail(err, errlen, "%s: out of memory", dir);
  size_t nempty = 0;
  int rc = 0;
  for (size_t k = 0; rc == 0 && k < ndirs; k++) rc = recording_list(r, dirs[k], opt, &nempty, err, errlen);
  if (rc == 0 && r->n == 0 && nempty)
    rc = fail(err, errlen,
              "%s: no weft trace with data in this directory (%zu empty *.wtrace "
              "files)",
              dir, nempty);
  else if (rc == 0 && r->n == 0)
    rc = fail(err, errlen, "%s: no weft trace files (*.wtrace) in this directory", dir);
  if (rc == 0 && recording_sessions(r) < 0) rc = fail(err, errlen, "%s: out of memory", dir);
  if (rc == 0) rc = recording_choose(r, dir, opt, err, errlen);
  if (rc == 0) rc = recording_load(r, err, errlen);
  if (rc == 0 && recording_hosts(r) < 0) rc = fail(err, errlen, "%s: out of memory", dir);
  if (rc == 0) rc = recording_check_starts(r, err, errlen);
  if (rc == 0) qsort(r->traces, r->n, sizeof *r->traces, trace_order);
  if (rc == 0 && recording_fit(r) < 0) rc = fail(err, errlen, "%s: out of memory", dir);
  if (rc < 0) {
    weft_recording_close(r);
    return -1;
  }
  recording_set_start(r);
  *out = r;
  return 0;
}

void weft_recording_close(WeftRecording *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n; i++)
    if (r->traces[i]->file) r->traces[i] = NULL; /* a section: its file's trace frees it */
  for (size_t i = 0; i < r->n; i++) trace_free(r->traces[i]);
  for (size_t k = 0; k < r->nhosts; k++)
    for (unsigned c = 0; c < 3; c++) fit_free(&r->hosts[k].fits[c]);
  free(r->hosts);
  free(r->pub);
  free(r->traces);
  free(r->sessions);
  free(r);
}

size_t weft_recording_hosts(const WeftRecording *r, const WeftHost **out) {
  *out = r->pub;
  return r->nhosts;
}

void weft_recording_set_host_clock(WeftRecording *r, size_t host, double offset_ns, double drift, uint64_t pivot_ns) {
  if (host >= r->nhosts || r->nhosts < 2) return;
  WeftHost *h = &r->hosts[host].pub;
  h->offset_ns = offset_ns;
  h->drift = drift;
  h->pivot_ns = pivot_ns;
  r->pub[host] = *h;
  recording_set_start(r);
}

size_t weft_recording_count(const WeftRecording *r) { return r->n; }

WeftTrace *weft_recording_trace(const WeftRecording *r, size_t i) { return i < r->n ? r->traces[i] : NULL; }

uint64_t weft_recording_start_ns(const WeftRecording *r) { return r->start_ns; }

size_t weft_recording_sessions(const WeftRecording *r, const WeftSession **out) {
  *out = r->sessions;
  return r->nsessions;
}

const WeftSession *weft_recording_session(const WeftRecording *r) {
  return r->chosen < r->nsessions ? &r->sessions[r->chosen] : NULL;
}

int weft_recording_scan(WeftRecording *r, WeftEventFn fn, void *user, char *err, size_t errlen) {
  for (size_t i = 0; i < r->n; i++) {
    int rc = weft_trace_scan(r->traces[i], fn, user, err, errlen);
    if (rc) return rc;
  }
  return 0;
}
