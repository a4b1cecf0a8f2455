/* weft-host.c - which host wrote a trace, and that host's clock.
 * SPDX-License-Identifier: MIT
 *
 * A recording may hold processes of several machines (`weft exec` under
 * mpirun or srun, one directory per host or one shared), and each machine's
 * CLOCK_MONOTONIC starts at its own boot: the importer keeps one clock fit
 * per host and maps each host onto one time base (docs/trace-format.md,
 * "Hosts"). The file header names the host: host_id, a hash of the
 * machine id and the boot id (one boot of one machine: one clock), and the
 * host name. The first process of a tree reads the ids (3 system calls a
 * file, at start) and passes them down as WEFT_HOST=NODENAME/HEXID; a
 * process whose node name differs (the variable came along to another
 * machine, as srun forwards the environment) reads them itself.
 *
 * For tests on one machine: WEFT_TEST_HOST=NAME gives a process tree its own
 * host (id from the name, a monotonic clock that started 1000 to 2000 s
 * earlier, as another machine's boot), and WEFT_TEST_CLOCK_SKEW_NS /
 * WEFT_TEST_CLOCK_DRIFT_PPM distort that host's clock: every time the agent
 * writes as a sync point or a wall-clock anchor is host time, not the
 * machine's, so the importer has to find the skew and drift from messages.
 * The drift counts from the start of the host's first process
 * (WEFT_TEST_CLOCK_BASE, hex CLOCK_MONOTONIC ns, set by it for the others):
 * host time = real + boot offset + skew + drift x (real - base).
 */
#include "weft-agent-private.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

/* The first line of a small file into h (raw system calls: no wrapper, no stdio). */
WEFT_START_CODE static uint64_t hash_file(uint64_t h, const char *path) {
  char buf[128];
  long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return h;
  long n = syscall(SYS_read, (int)fd, buf, sizeof buf);
  syscall(SYS_close, (int)fd);
  size_t k = 0;
  while (n > 0 && k < (size_t)n && buf[k] != '\n') k++;
  return _weft_fnv1a(h, buf, k);
}

WEFT_START_CODE static int64_t parse_int(const char *s, int *ok) {
  int neg = s && *s == '-';
  const char *p = s ? s + neg : NULL;
  int64_t v = 0;
  *ok = p && *p;
  for (; p && *p; p++) {
    if (*p < '0' || *p > '9' || v > INT64_MAX / 10 - 10) {
      *ok = 0;
      return 0;
    }
    v = v * 10 + (*p - '0');
  }
  return neg ? -v : v;
}

WEFT_START_CODE static void set_name(const char *s, size_t n) {
  if (n >= sizeof _weft_proc.host_name) n = sizeof _weft_proc.host_name - 1;
  memcpy(_weft_proc.host_name, s, n);
  _weft_proc.host_name[n] = 0;
}

/* The test clock: WEFT_TEST_CLOCK_SKEW_NS and WEFT_TEST_CLOCK_DRIFT_PPM (a
 * bad value is said once and ignored). */
WEFT_START_CODE static void test_clock(const char *name) {
  int ok;
  const char *s = getenv("WEFT_TEST_CLOCK_SKEW_NS");
  if (s && *s) {
    int64_t v = parse_int(s, &ok);
    if (ok && v > -3600000000000ll && v < 3600000000000ll)
      _weft_proc.clk_skew = v, _weft_proc.test_clock = 1;
    else
      _weft_say("WEFT_TEST_CLOCK_SKEW_NS=", s, " is not a number of ns within an hour; ignored");
  }
  s = getenv("WEFT_TEST_CLOCK_DRIFT_PPM");
  if (s && *s) {
    int64_t v = parse_int(s, &ok);
    if (ok && v >= -10000 && v <= 10000)
      _weft_proc.clk_ppb = v * 1000, _weft_proc.test_clock = 1;
    else
      _weft_say("WEFT_TEST_CLOCK_DRIFT_PPM=", s, " is not a whole number from -10000 to 10000; ignored");
  }
  if (name) { /* another machine's boot: 1000 to 2000 s earlier */
    _weft_proc.clk_boot = (int64_t)(1000 + _weft_fnv1a(WEFT_FNV_START, name, strlen(name)) % 1000) * 1000000000ll;
    _weft_proc.test_clock = 1;
  }
  /* the drift counts from the start of the host's first process, the same in all of its tree:
   * WEFT_TEST_CLOCK_BASE, set by the first */
  if (!_weft_proc.test_clock) return;
  const char *b = getenv("WEFT_TEST_CLOCK_BASE"), *end = "";
  uint64_t base = b && *b ? _weft_parse_hex(b, &end) : 0;
  if (!base || *end) {
    base = weft_mono_ns();
    char v[17];
    _weft_hex16(v, base);
    setenv("WEFT_TEST_CLOCK_BASE", v, 1);
  }
  _weft_proc.clk_base = base;
}

WEFT_START_CODE void _weft_host_init(void) {
  const char *test = getenv("WEFT_TEST_HOST");
  if (test && *test) {
    set_name(test, strlen(test));
    _weft_proc.host_id = _weft_fnv1a(_weft_fnv1a(WEFT_FNV_START, "test-host:", 10), test, strlen(test)) | 1;
    test_clock(test);
    return;
  }
  struct utsname u; /* (raw system calls: libc's wrappers would be more of its pages to fault in) */
  if (syscall(SYS_uname, &u) == 0) set_name(u.nodename, strlen(u.nodename));
  test_clock(NULL);
  /* WEFT_HOST=NODENAME/HEXID from the first process of the tree, when it is this node's */
  const char *h = getenv("WEFT_HOST"), *slash = NULL;
  for (const char *p = h; p && *p; p++)
    if (*p == '/') slash = p;
  size_t same = 0;
  while (slash && h + same < slash && h[same] == _weft_proc.host_name[same]) same++;
  if (slash && h + same == slash && !_weft_proc.host_name[same]) {
    const char *end;
    uint64_t id = _weft_parse_hex(slash + 1, &end);
    if (id && !*end) {
      _weft_proc.host_id = id;
      return;
    }
  }
  uint64_t id = hash_file(WEFT_FNV_START, "/etc/machine-id");
  id = _weft_fnv1a(id, "/", 1);
  _weft_proc.host_id = hash_file(id, "/proc/sys/kernel/random/boot_id") | 1;
  /* for the children: they need not read the files again */
  char v[sizeof _weft_proc.host_name + 20];
  size_t n = strlen(_weft_proc.host_name);
  memcpy(v, _weft_proc.host_name, n);
  v[n++] = '/';
  _weft_hex16(v + n, _weft_proc.host_id);
  setenv("WEFT_HOST", v, 1);
}

/* skew + drift at real monotonic time mono */
static int64_t distortion(uint64_t mono) {
  int64_t d = _weft_proc.clk_skew;
  if (_weft_proc.clk_ppb)
    d += (int64_t)((__int128)(int64_t)(mono - _weft_proc.clk_base) * _weft_proc.clk_ppb / 1000000000);
  return d;
}

uint64_t _weft_test_host_ns(uint64_t mono) { return mono + (uint64_t)(_weft_proc.clk_boot + distortion(mono)); }

WEFT_START_CODE uint64_t _weft_realtime_ns(uint64_t mono, int raw) {
  uint64_t v = weft_clock_ns(CLOCK_REALTIME, raw);
  return _weft_proc.test_clock ? v + (uint64_t)distortion(mono) : v;
}
