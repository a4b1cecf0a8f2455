/* weft-reader.h - reading weft trace files and recording directories.
 * SPDX-License-Identifier: MIT
 *
 * C11 + POSIX only. Every length and field in the input is checked (see
 * weft_record_check, weft_header_check); foreign, truncated or corrupt input
 * yields -1 and a one-line message that names the file and what is wrong;
 * corruption says where ("run/12.0.wtrace: offset 8200: record of 0 words
 * (in the chunk at offset 8192)"). A trace cut off by a crash (records never
 * published read as zero) is not an error: it reads up to its last complete
 * record; one cut short by the end of its file is (weft_trace_cut_at), but
 * not corruption (weft_trace_bad_at).
 *
 * Not thread-safe per object; distinct objects may be used from distinct threads.
 */
#ifndef WEFT_READER_H
#define WEFT_READER_H

#include <stddef.h>
#include <stdint.h>
#include "weft-trace.h"

typedef struct {
  uint64_t ns;       /* CLOCK_MONOTONIC ns (converted from ticks) */
  uint64_t tsc;      /* raw tick count */
  uint32_t pid;      /* from the file header */
  uint32_t tid;      /* from the chunk header */
  unsigned type;     /* WEFT_EV_* */
  unsigned aux;      /* WEFT_W0_AUX */
  unsigned nwords;   /* record length in words, word 0 included */
  const uint64_t *w; /* w[0] is word 0, w[1 .. nwords-1] the payload; for a file trace these
                        point into the reader's buffer: valid until the callback returns */
  uint64_t offset;   /* byte offset of the record in its file */
} WeftEvent;

/* Return a NUL-terminated string stored in words w[from .. nwords-1] of ev, or
 * "" if there is none; the string is clipped to the record (never overruns). */
const char *weft_event_string(const WeftEvent *ev, unsigned from, size_t *len_out);

/* Walk NUL-terminated strings packed back to back in words w[from .. nwords-1]
 * (PROCESS_INFO: argv, then the executable). *pos is a byte offset into that
 * area, 0 for the first string; each call returns the string at *pos, sets
 * *len_out (if not NULL) and moves *pos past the string's NUL. Returns NULL
 * once *pos reaches the end of the record; the zero padding after the last
 * string reads as empty strings.
 * Clipping (both functions): a string with no NUL before the end of the record
 * is copied into a thread-local buffer and NUL-terminated there; that pointer
 * is valid until the next clipped string on the same thread. */
const char *weft_event_next_string(const WeftEvent *ev, unsigned from, size_t *pos, size_t *len_out);

typedef struct WeftTrace WeftTrace;

/* Open one trace file or a memory buffer (borrowed, must outlive the trace;
 * name is used in messages). Validates the file header. A file is read with
 * pread, never mapped, so a file that shrinks or has holes is an error or
 * zeros, never a SIGBUS; it is opened again by name for each scan (no
 * descriptor is held), and one that was replaced meanwhile is an error. A
 * FIFO, device or directory is refused ("not a regular file") without being
 * read. Returns 0, or -1 with a message in err. */
int weft_trace_open(const char *path, WeftTrace **out, char *err, size_t errlen);
int weft_trace_open_mem(const void *buf, size_t len, const char *name, WeftTrace **out, char *err, size_t errlen);
/* Does nothing for a trace that belongs to a recording (the recording owns
 * it) or for a section (its file's trace owns it). */
void weft_trace_close(WeftTrace *t);
/* Sections (version 7, a file with WEFT_FEAT_SHARED_FILE): the fork children
 * that wrote into the file, each a trace of its own whose header is a copy of
 * its PROCESS chunk (magic and all: it reads as a file's header; image 0
 * outside a recording), named "PATH [pid P]" in messages, with its own sync
 * points and fit. A file's trace (weft_trace_open) holds only its own
 * process's records; *out gets its sections in file order, owned by it (and
 * closed with it). 0 for a file without sections and for a section. */
size_t weft_trace_sections(const WeftTrace *t, WeftTrace *const **out);
/* A section's PROCESS chunk offset in its file; 0 for a file's own trace. */
uint64_t weft_trace_section_at(const WeftTrace *t);
const WeftFileHeader *weft_trace_header(const WeftTrace *t);
const char *weft_trace_name(const WeftTrace *t);
/* The offset of the chunk (or chunk header) that runs past the end of the
 * file, 0 if none: a copy cut short, or a file that shrank while it was read.
 * Known once the trace is open (the open reads it through); a scan delivers
 * the records before the cut and then fails with a "truncated" message that
 * names the file and the offset. */
uint64_t weft_trace_cut_at(const WeftTrace *t);
/* Its size in bytes when it was opened (scans read no further). */
uint64_t weft_trace_size(const WeftTrace *t);

/* The byte offset of the first corrupt chunk header or record found so far
 * (by the open, or a scan), 0 if none: a scan that failed with this set
 * failed on corruption, not on a cut or an I/O error, and delivered every
 * record before that offset. */
uint64_t weft_trace_bad_at(const WeftTrace *t);

/* Callback for scans: return 0 to go on, non-zero to stop the scan early
 * (the scan then returns that value). */
typedef int (*WeftEventFn)(const WeftEvent *ev, void *user);

/* Visit every record of the file in file order (chunk by chunk; within one
 * thread this is time order). ev->ns uses the file's own clock fit unless the
 * trace belongs to a recording (then the recording-wide fit).
 * Returns 0 at the end, the callback's non-zero value if it stopped, or -1 on
 * corrupt input with a message in err (records before the fault were delivered). */
int weft_trace_scan(WeftTrace *t, WeftEventFn fn, void *user, char *err, size_t errlen);
/* The same, delivering only the records whose type bit is set in types
 * (bit type & 63 of types[type >> 6]); the others are checked, not converted. */
int weft_trace_scan_types(WeftTrace *t, const uint64_t types[4], WeftEventFn fn, void *user, char *err, size_t errlen);
/* Did the open meet a record of one of these types (bits as for
 * weft_trace_scan_types)? It reads every record up to the first fault, as a
 * scan does: a scan for types it did not meet would deliver nothing (unless
 * the file changed since), and may be skipped. */
int weft_trace_has_types(const WeftTrace *t, const uint64_t types[4]);

/* A recording directory: the *.wtrace files of one session in it and the
 * sections in them (each a trace of the recording), sorted by (pid, image),
 * one clock for all of them (piecewise-linear tick -> ns fit over every sync
 * point of every trace: file headers, PROCESS chunks, chunk headers and SYNC
 * records). The images of a pid with a section are its traces numbered 0,
 * 1, ... by start_ns (then file image), written into their headers: a fork
 * child's section 0, the file of its exec 1; other files keep theirs. */
typedef struct WeftRecording WeftRecording;

/* A session: the files of one run (the session id of their headers). */
typedef struct {
  uint64_t session;     /* the id */
  uint64_t start_ns;    /* its earliest process start (CLOCK_MONOTONIC ns) */
  uint64_t realtime_ns; /* CLOCK_REALTIME at that start, for display */
  size_t files;         /* its process images: trace files, and, once read (the session opened, or
                           all_sessions), the sections in them */
  size_t processes;     /* distinct pids among them */
} WeftSession;

typedef void (*WeftWarnFn)(const char *msg, void *user);

/* Which files of the directory make the recording; all zero (or NULL): the
 * latest session (by start time), no warnings. */
typedef struct {
  int all_sessions; /* every file, whatever its session (weft-dump) */
  int pick_session; /* the files of session `session` (an error if there are none) */
  uint64_t session;
  WeftWarnFn warn; /* called with a one-line message per file skipped (NULL: silent) */
  void *warn_user;
} WeftRecordingOptions;

/* Files of processes killed before they wrote their header (empty, or a zero
 * header) are skipped; so are names that are not regular files (a FIFO: with
 * a warning); any other bad file fails the open with its message. */
int weft_recording_open(const char *dir, WeftRecording **out, char *err, size_t errlen);
int weft_recording_open_with(const char *dir, const WeftRecordingOptions *opt, WeftRecording **out, char *err,
                             size_t errlen);
void weft_recording_close(WeftRecording *r);
size_t weft_recording_count(const WeftRecording *r);
WeftTrace *weft_recording_trace(const WeftRecording *r, size_t i);
/* Several directories as one recording (one per host, or any split): their
 * files together, as if in one directory; messages about the recording as
 * a whole name the first. */
int weft_recording_open_dirs(const char *const *dirs, size_t ndirs, const WeftRecordingOptions *opt,
                             WeftRecording **out, char *err, size_t errlen);

/* Hosts. Each machine (one boot of it: its CLOCK_MONOTONIC) has its own clock
 * fit; a recording of two or more hosts maps each host's ns onto the first
 * host's (the one whose process started first by the wall clock):
 *   m = ns + anchor_shift_ns;  recording ns = m + offset_ns + drift * (m - pivot_ns)
 * anchor_shift_ns comes from the file headers' wall-clock anchors (as good as
 * the hosts' NTP); the correction from what the caller learns from messages
 * between the hosts (weft_recording_set_host_clock; 0 until then). Every
 * event's ns, weft_trace_ticks_to_ns and weft_trace_start_ns use it. With
 * one host nothing is mapped. */
typedef struct {
  uint64_t host_id; /* the headers' (0: files that name no host) */
  char name[64];    /* NUL-terminated */
  size_t files;     /* its traces (process images: files and sections) */
  int64_t anchor_shift_ns;
  double offset_ns, drift;
  uint64_t pivot_ns;
} WeftHost;
size_t weft_recording_hosts(const WeftRecording *r, const WeftHost **out);
void weft_recording_set_host_clock(WeftRecording *r, size_t host, double offset_ns, double drift, uint64_t pivot_ns);
/* A recording's trace: its host's index (0 for a trace on its own). */
size_t weft_trace_host(const WeftTrace *t);
/* The header's start_ns on the recording's time base. */
uint64_t weft_trace_start_ns(const WeftTrace *t);

/* Earliest start_ns of its files (the recording's time origin). */
uint64_t weft_recording_start_ns(const WeftRecording *r);
/* Every session with files in the directory, the ones not opened too, oldest
 * first; and the one opened (NULL with all_sessions). */
size_t weft_recording_sessions(const WeftRecording *r, const WeftSession **out);
const WeftSession *weft_recording_session(const WeftRecording *r);
/* Scan every file in order; stops at the first error (-1, message in err). */
int weft_recording_scan(WeftRecording *r, WeftEventFn fn, void *user, char *err, size_t errlen);

/* Tick -> ns with the fit in use for this trace. The fit is exact at every
 * sync point, linear between neighbouring points, and extrapolates with the
 * least-squares slope of all points (one point only: 1e9 / tsc_hz, or 1 ns per
 * tick if tsc_hz is 0). Points whose ns run backwards are dropped (longest
 * non-decreasing subsequence), so the conversion never decreases. A recording
 * fits TSC and MONOTONIC files separately. Saturates at 0 and UINT64_MAX. */
uint64_t weft_trace_ticks_to_ns(const WeftTrace *t, uint64_t ticks);
/* The same for a run of ticks near one another (a scan's): *hint caches the
 * fit's segment between calls (start it at 0; any value gives the same
 * result, a good one without a search). */
uint64_t weft_trace_ticks_to_ns_near(const WeftTrace *t, uint64_t ticks, size_t *hint);

#endif /* WEFT_READER_H */
