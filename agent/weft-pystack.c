/* weft-pystack.c - the Python frames of a thread that is about to wait.
 * SPDX-License-Identifier: MIT
 *
 * In a CPython 3.8 to 3.13 process, a stack captured for a wait (weft-unwind.c)
 * begins with the waiting thread's Python frames, innermost first: function,
 * file and line. The thread reads its own frames, in-process: they cannot
 * change while it is in the agent (only their thread pushes and pops them),
 * so no GIL is needed, and nothing that needs it is called: no allocation, no
 * lock, no Python API but PyGILState_GetThisThreadState (thread-specific
 * storage) and Py_IsInitialized. Every loop is bounded, every pointer checked
 * for range and alignment and every object for its type; anything odd ends the
 * walk quietly (a stack without Python frames).
 *
 * Detection is lazy, once per process, at the first capture: CPython's
 * version (Py_Version, else the Py_GetVersion() string) picks a row of
 * weft-pystack-layout.h; 3.13's row is checked against the interpreter's own
 * _Py_DebugOffsets. A process without CPython pays one load per capture
 * afterwards (and a new look after a dlopen). The first walks read through
 * process_vm_readv, which cannot fault, until one has found frames whose
 * types all match: a wrong row turns Python stacks off instead of crashing.
 *
 * A Python frame is defined once per process by a PY_FRAME record (an id, the
 * line, the function's first line, "function\0file") and named in STACK
 * records by the word WEFT_STACK_PY_BIT | id. The line is computed here from
 * the code object's line table (three formats) for the instruction the frame
 * is at: cheap, and only on a wait. Ids come from a lock-free table keyed by
 * the code object and the instruction's offset; a hit is checked against the
 * code object's name, file, line table and first line as read now, so a code
 * object freed and its address reused by another can never take its name.
 * The frames of weft's own Python hook (the sitecustomize.py next to the
 * agent, which wraps threading's bootstrap) are left out, as the agent's own
 * C frames are.
 */
#include "weft-agent-private.h"
#include "weft-pystack-layout.h"

#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- the interpreter, found once per process ---- */
enum { PY_UNKNOWN = 0, PY_ON = 1, PY_ABSENT = -1, PY_OFF = -2, PY_DETECTING = 2 };

static struct {
  _Atomic int state;               /* PY_* */
  _Atomic int verified;            /* 1: the layout proved itself; plain loads from now on */
  _Atomic unsigned long long adds; /* the loader's count of loads when it was found absent */
  const WeftPyLayout *L;
  uintptr_t code_type, str_type, bytes_type, frame_type;
  int (*initialized)(void);
  void *(*this_tstate)(void);
  /* weft's own Python hook (AGENT_DIR/weft-python/sitecustomize.py): its
   * frames are left out, as the agent's own C frames are */
  char hook[512];
  size_t hook_len;
} py;

static void *sym(const char *name) { return dlsym(RTLD_DEFAULT, name); }

/* 3.minor of the running CPython, 0 if none (or not one we know how to read) */
static unsigned py_minor(void) {
  const unsigned long *hex = (const unsigned long *)sym("Py_Version"); /* 3.11+ */
  if (hex) return (*hex >> 24) == 3 ? (unsigned)(*hex >> 16) & 0xffu : 0;
  const char *(*getver)(void) = (const char *(*)(void))sym("Py_GetVersion");
  const char *v = getver ? getver() : NULL;
  unsigned major = 0, minor = 0;
  if (!v || sscanf(v, "%u.%u", &major, &minor) != 2 || major != 3 || strstr(v, "PyPy")) return 0;
  return minor;
}

/* 3.13: the row must agree with the interpreter's own debug offsets. */
static int debug_offsets_agree(const WeftPyLayout *L) {
  const WeftPyDebugOffsets313 *d = (const WeftPyDebugOffsets313 *)sym("_PyRuntime");
  const unsigned long *hex = (const unsigned long *)sym("Py_Version");
  if (!d || !hex || memcmp(d->cookie, "xdebugpy", 8) != 0 || d->version != *hex || d->free_threaded) return 0;
  return d->thread_state.current_frame == L->ts_frame && d->interpreter_frame.previous == L->fr_back &&
         d->interpreter_frame.executable == L->fr_code && d->interpreter_frame.instr_ptr == L->fr_instr &&
         d->interpreter_frame.owner == L->fr_owner && d->code_object.filename == L->co_filename &&
         d->code_object.name == L->co_name && d->code_object.qualname == L->co_qualname &&
         d->code_object.linetable == L->co_lines && d->code_object.firstlineno == L->co_firstlineno &&
         d->code_object.co_code_adaptive == L->co_code && d->bytes_object.ob_size == WEFT_PY_VAR_SIZE &&
         d->bytes_object.ob_sval == WEFT_PY_BYTES_DATA && d->unicode_object.state == WEFT_PY_STR_STATE &&
         d->unicode_object.length == WEFT_PY_STR_LENGTH && d->unicode_object.asciiobject_size == L->str_ascii_size;
}

static int detect(void) {
  if (!sym("_PyRuntime")) return PY_ABSENT; /* CPython 3.7+ has it; no other Python does */
  unsigned minor = py_minor();
  const WeftPyLayout *L = NULL;
  for (size_t i = 0; i < sizeof weft_py_layouts / sizeof weft_py_layouts[0]; i++)
    if (weft_py_layouts[i].minor == minor) L = &weft_py_layouts[i];
  if (!L) return PY_OFF;
  py.code_type = (uintptr_t)sym("PyCode_Type");
  py.str_type = (uintptr_t)sym("PyUnicode_Type");
  py.bytes_type = (uintptr_t)sym("PyBytes_Type");
  py.frame_type = (uintptr_t)sym("PyFrame_Type");
  uintptr_t type_type = (uintptr_t)sym("PyType_Type");
  py.initialized = (int (*)(void))sym("Py_IsInitialized");
  py.this_tstate = (void *(*)(void))sym("PyGILState_GetThisThreadState");
  if (!py.code_type || !py.str_type || !py.bytes_type || !py.frame_type || !type_type || !py.initialized ||
      !py.this_tstate)
    return PY_OFF;
  /* the object header is where the row says (a Py_TRACE_REFS build has two more words) */
  if (*(const uintptr_t *)(py.code_type + WEFT_PY_OB_TYPE) != type_type) return PY_OFF;
  if (L->walk == WEFT_PYW_TSTATE && !debug_offsets_agree(L)) return PY_OFF;
  Dl_info self;
  const char *sl = dladdr((void *)(uintptr_t)&detect, &self) && self.dli_fname ? strrchr(self.dli_fname, '/') : NULL;
  int n = -1;
  if (sl)
    n = snprintf(py.hook, sizeof py.hook, "%.*s/weft-python/sitecustomize.py", (int)(sl - self.dli_fname),
                 self.dli_fname);
  py.hook_len = n > 0 && (size_t)n < sizeof py.hook ? (size_t)n : 0;
  py.L = L;
  return PY_ON;
}

static int libpython_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  return info->dlpi_name && strstr(info->dlpi_name, "libpython") != NULL;
}

/* Is CPython here, its layout known? Detects once; after "absent", again
 * when the loader has loaded more and a libpython is among the objects (a
 * program that loads libpython itself). The look is a dl_iterate_phdr, not a
 * dlsym: it is taken on a stack's path, under the program's lock, and dlsym
 * waits for the loader's lock, which a dlopen in another thread holds while
 * its constructors run (one may want the program's lock). */
static int py_on(void) {
  int st = atomic_load_explicit(&py.state, memory_order_acquire);
  if (WEFT_LIKELY(st == PY_ON)) return 1;
  if (st == PY_OFF || st == PY_DETECTING) return 0; /* another thread is detecting: no Python stack this once */
  if (st == PY_ABSENT) {
    unsigned long long adds = _weft_modules_adds();
    if (atomic_load_explicit(&py.adds, memory_order_relaxed) == adds) return 0;
    if (!dl_iterate_phdr(libpython_cb, NULL)) {
      atomic_store_explicit(&py.adds, adds, memory_order_relaxed);
      return 0;
    }
  }
  if (!atomic_compare_exchange_strong(&py.state, &st, PY_DETECTING)) return 0;
  int now = detect();
  atomic_store_explicit(&py.adds, _weft_modules_adds(), memory_order_relaxed);
  atomic_store_explicit(&py.state, now, memory_order_release);
  return now == PY_ON;
}

/* The calling thread's PyThreadState (NULL: it runs no Python). */
static uintptr_t this_tstate(void) {
  if (!py_on() || !py.initialized()) return 0;
  return (uintptr_t)py.this_tstate();
}

int _weft_py_thread(void) {
  weft_busy_enter(); /* the first call detects: what dlsym calls goes straight through */
  int yes = this_tstate() != 0;
  weft_busy_leave();
  return yes;
}

/* ---- reading ---- */
typedef struct {
  int safe; /* through process_vm_readv: a bad address is an error, not a fault */
  int bad;  /* found something the layout does not explain */
} Rd;

static int ptr_ok(uintptr_t a) { return a >= 4096 && a < (1ull << 47); }

static int rd(Rd *r, uintptr_t a, void *dst, size_t n) {
  if (!ptr_ok(a) || !ptr_ok(a + n)) return -1;
  if (!r->safe) {
    memcpy(dst, (const void *)a, n);
    return 0;
  }
  struct iovec l = {dst, n}, rv = {(void *)a, n};
  return syscall(SYS_process_vm_readv, (long)_weft_proc.pid, &l, 1ul, &rv, 1ul, 0ul) == (long)n ? 0 : -1;
}

/* A pointer field; 0 if it cannot be read, is not 8-aligned or out of range. */
static uintptr_t rdp(Rd *r, uintptr_t a) {
  uint64_t v = 0;
  if (rd(r, a, &v, 8) != 0 || (v & 7) || !ptr_ok(v)) return 0;
  return (uintptr_t)v;
}

static int32_t rd32(Rd *r, uintptr_t a) {
  int32_t v = 0;
  return rd(r, a, &v, 4) == 0 ? v : 0;
}

static int is_a(Rd *r, uintptr_t obj, uintptr_t type) { return obj && rdp(r, obj + WEFT_PY_OB_TYPE) == type; }

/* ---- walking ---- */
typedef struct {
  uintptr_t code;
  int32_t addr; /* byte offset of the frame's instruction in its code (-1: not started) */
} PyRef;

/* The innermost frame of thread state ts. */
static uintptr_t first_frame(Rd *r, uintptr_t ts) {
  const WeftPyLayout *L = py.L;
  uintptr_t f = rdp(r, ts + L->ts_frame);
  if (L->walk == WEFT_PYW_CFRAME) f = f ? rdp(r, f + L->cf_current) : 0;
  return f;
}

/* The code object and instruction offset of frame f; 0 for a frame that is
 * no Python function's (a shim, one still being set up) or when reading fails. */
static int frame_ref(Rd *r, uintptr_t f, PyRef *out) {
  const WeftPyLayout *L = py.L;
  uintptr_t code = rdp(r, f + L->fr_code);
  if (L->walk == WEFT_PYW_FRAMEOBJ) {
    if (!is_a(r, f, py.frame_type)) {
      r->bad = 1;
      return 0;
    }
    int32_t lasti = rd32(r, f + L->fr_instr);
    out->addr = lasti < 0 ? -1 : lasti * (int32_t)L->lasti_unit;
  } else {
    uint8_t owner = 0;
    if (rd(r, f + L->fr_owner, &owner, 1) != 0 || owner == L->owner_cstack) return 0;
    if (!is_a(r, code, py.code_type)) return 0; /* 3.13: f_executable may be None */
    /* a pointer to a code unit: 2-aligned, not read with rdp */
    uint64_t ip = 0;
    if (rd(r, f + L->fr_instr, &ip, 8) != 0) return 0;
    intptr_t off = (intptr_t)((uintptr_t)ip - (code + L->co_code));
    if (owner != WEFT_PY_OWNER_GENERATOR && off < 2 * (intptr_t)rd32(r, code + L->co_firsttraceable))
      return 0; /* incomplete: its first instructions have not run yet */
    out->addr = off > INT32_MAX ? INT32_MAX : (int32_t)off;
  }
  if (!is_a(r, code, py.code_type)) {
    r->bad = 1;
    return 0;
  }
  out->code = code;
  return 1;
}

/* The thread's frames, innermost first, at most max. */
static int walk(Rd *r, uintptr_t ts, PyRef *v, int max) {
  int n = 0;
  uintptr_t f = first_frame(r, ts);
  for (int steps = 0; f && n < max && steps < 4 * (int)WEFT_PY_MAX_FRAMES && !r->bad; steps++) {
    if (frame_ref(r, f, &v[n])) n++;
    f = rdp(r, f + py.L->fr_back);
  }
  return n;
}

/* The first walks, through process_vm_readv: do the frames and code objects
 * found hold what the layout says? 1 yes (from now on plain loads), 0 not
 * known yet (no frame), -1 no (Python stacks off for good). */
static int verify(uintptr_t ts) {
  Rd r = {1, 0};
  uint64_t probe = 0, self = 1;
  /* no process_vm_readv here: trust the type checks */
  if (rd(&r, (uintptr_t)&self, &probe, 8) != 0 || probe != 1) return 1;
  PyRef v[WEFT_PY_MAX_FRAMES];
  int n = walk(&r, ts, v, (int)WEFT_PY_MAX_FRAMES);
  for (int i = 0; i < n && !r.bad; i++) {
    const WeftPyLayout *L = py.L;
    uintptr_t c = v[i].code;
    uintptr_t name = rdp(&r, c + (L->co_qualname != WEFT_PY_NONE ? L->co_qualname : L->co_name));
    if (!is_a(&r, name, py.str_type) || !is_a(&r, rdp(&r, c + L->co_filename), py.str_type) ||
        !is_a(&r, rdp(&r, c + L->co_lines), py.bytes_type))
      r.bad = 1;
  }
  return r.bad ? -1 : n > 0;
}

/* ---- lines ---- */

/* 3.8-3.9: co_lnotab, (address increment, signed line increment) pairs. */
static int line_lnotab(const uint8_t *t, size_t n, int line, int addr) {
  int a = 0;
  for (size_t i = 0; i + 1 < n; i += 2) {
    a += t[i];
    if (a > addr) break;
    line += (int8_t)t[i + 1];
  }
  return line;
}

/* 3.10: co_linetable, (length in bytes, signed line delta) pairs; -128: no line. */
static int line_pairs310(const uint8_t *t, size_t n, int line, int addr) {
  int end = 0;
  for (size_t i = 0; i + 1 < n; i += 2) {
    int start = end, cur;
    end += t[i];
    if ((int8_t)t[i + 1] == -128) {
      cur = -1;
    } else {
      line += (int8_t)t[i + 1];
      cur = line;
    }
    if (start <= addr && addr < end) return cur;
  }
  return -1;
}

/* 3.11+: a varint after the entry's first byte (6 bits a byte, bit 6 more). */
static int varint(const uint8_t *t, size_t n, size_t *i) {
  unsigned v = 0, shift = 0, b;
  do {
    if (*i >= n || shift > 24) return 0;
    b = t[(*i)++];
    v |= (b & 63u) << shift;
    shift += 6;
  } while (b & 64u);
  return (v & 1) ? -(int)(v >> 1) : (int)(v >> 1);
}

/* 3.11+: the location table (Objects/locations.md): an entry's first byte has
 * bit 7 set, a code in bits 3..6 and its length in code units - 1 in bits 0..2. */
static int line_locations(const uint8_t *t, size_t n, int line, int addr) {
  int end = 0;
  size_t i = 0;
  while (i < n) {
    uint8_t b = t[i];
    unsigned code = (b >> 3) & 15u;
    size_t j = i + 1;
    if (code == 13 || code == 14) /* no columns; long form */
      line += varint(t, n, &j);
    else if (code >= 10 && code <= 12) /* one line forms */
      line += (int)code - 10;
    int start = end, cur = (b >> 3) == 0x1f ? -1 : line;
    end += ((b & 7) + 1) * 2;
    if (start <= addr && addr < end) return cur;
    for (i++; i < n && !(t[i] & 128); i++) {}
  }
  return -1;
}

/* The line of the instruction at addr in code c (0: not known). */
static int line_of(Rd *r, uintptr_t lines, int first, int addr) {
  if (addr < 0) return first > 0 ? first : 0;
  uint64_t size = 0;
  if (rd(r, lines + WEFT_PY_VAR_SIZE, &size, 8) != 0 || size > (1u << 24)) return 0;
  const uint8_t *t = (const uint8_t *)(lines + WEFT_PY_BYTES_DATA);
  int line;
  switch (py.L->lines) {
    case WEFT_PYL_LNOTAB: line = line_lnotab(t, (size_t)size, first, addr); break;
    case WEFT_PYL_PAIRS310: line = line_pairs310(t, (size_t)size, first, addr); break;
    default: line = line_locations(t, (size_t)size, first, addr); break;
  }
  return line > 0 ? line : 0;
}

/* ---- names ---- */
static size_t utf8_len(uint32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }

static size_t utf8_put(char *d, uint32_t c) {
  if (c < 0x80) {
    d[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    d[0] = (char)(0xc0 | c >> 6);
    d[1] = (char)(0x80 | (c & 63));
    return 2;
  }
  if (c < 0x10000) {
    d[0] = (char)(0xe0 | c >> 12);
    d[1] = (char)(0x80 | ((c >> 6) & 63));
    d[2] = (char)(0x80 | (c & 63));
    return 3;
  }
  d[0] = (char)(0xf0 | c >> 18);
  d[1] = (char)(0x80 | ((c >> 12) & 63));
  d[2] = (char)(0x80 | ((c >> 6) & 63));
  d[3] = (char)(0x80 | (c & 63));
  return 4;
}

static uint32_t char_at(const uint8_t *d, unsigned kind, size_t i) {
  uint32_t c = kind == 1 ? d[i] : kind == 2 ? ((const uint16_t *)d)[i] : ((const uint32_t *)d)[i];
  return (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff ? 0xfffd : c;
}

/* str object s as UTF-8 into buf (cap bytes, NUL included); a string too long
 * keeps its end ("..." first) when tail is set (a path: its file name), else
 * its start. Returns the length, -1 for no compact str. */
static int str_utf8(uintptr_t s, char *buf, size_t cap, int tail) {
  Rd r = {0, 0};
  if (!is_a(&r, s, py.str_type)) return -1;
  uint32_t st = 0;
  int64_t len = 0;
  rd(&r, s + WEFT_PY_STR_STATE, &st, 4);
  rd(&r, s + WEFT_PY_STR_LENGTH, &len, 8);
  unsigned kind = WEFT_PY_STR_KIND(st);
  if (!(st & WEFT_PY_STR_COMPACT) || (kind != 1 && kind != 2 && kind != 4) || len < 0 || len > (1 << 20) ||
      (py.L->minor <= 11 && !(st & WEFT_PY_STR_READY)))
    return -1;
  const uint8_t *d = (const uint8_t *)(s + (st & WEFT_PY_STR_ASCII ? py.L->str_ascii_size : py.L->str_compact_size));
  size_t from = 0, n = (size_t)len, room = cap - 1, o = 0;
  if (tail) { /* how many characters from the end fit with "..." before them */
    size_t bytes = 0, k = n;
    while (k > 0 && bytes + utf8_len(char_at(d, kind, k - 1)) <= room) bytes += utf8_len(char_at(d, kind, --k));
    if (k > 0) {
      while (k < n && bytes + 3 > room) bytes -= utf8_len(char_at(d, kind, k++));
      memcpy(buf, "...", 3);
      o = 3;
    }
    from = k;
  }
  for (size_t i = from; i < n && o + utf8_len(char_at(d, kind, i)) <= room; i++)
    o += utf8_put(buf + o, char_at(d, kind, i));
  buf[o] = '\0';
  return (int)o;
}

/* ---- frame ids: defined once per process ---- */
#define PY_SLOTS 8192u /* power of two */
#define PY_PROBE 16u

typedef struct {
  _Atomic uint64_t hash;
  _Atomic uint32_t id; /* 0: being defined */
  int32_t addr, first;
  uintptr_t code, name, file, lines; /* written before id is published */
} PySlot;

/* the table (PySlot[PY_SLOTS]), the next id less 1 and whether the header
 * says WEFT_FEAT_PY_FRAMES: in _weft_proc (weft-agent-private.h) */

WEFT_START_CODE void _weft_py_reset(void) {
  /* after fork: ids defined in the parent's file mean nothing in ours (the
   * parent's table is left mapped and untouched, as for stacks) */
  if (atomic_load(&_weft_proc.py_table)) atomic_store(&_weft_proc.py_table, NULL);
  if (atomic_load(&_weft_proc.py_next)) atomic_store(&_weft_proc.py_next, 0);
  if (atomic_load(&_weft_proc.py_feature)) atomic_store(&_weft_proc.py_feature, 0);
}

static PySlot *slots(void) { return _weft_map_once(&_weft_proc.py_table, PY_SLOTS * sizeof(PySlot)); }

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v;
  h *= 0xff51afd7ed558ccdull;
  return h ^ (h >> 33);
}

/* PY_FRAME: id and line, the function's first line, "function\0file\0"; -1
 * if it cannot be written at tick (weft_reserve_def). */
static int emit_frame(uint32_t id, int line, int first, const char *fn, size_t fl, const char *file, size_t il,
                      uint64_t tick) {
  WeftThread *t = &_weft_tls;
  unsigned n = weft_enc_str_nwords(WEFT_ENC_PY_FRAME_FIXED, fl + 1 + il + 1); /* at most 3 + 83: fits */
  uint64_t now;
  uint64_t *p = weft_reserve_def(t, n, &now, tick);
  if (!p) return tick ? -1 : 0;
  weft_enc_py_frame(p, id, (uint32_t)line, (uint32_t)(first > 0 ? first : 0));
  char *s = weft_enc_str_area(p, WEFT_ENC_PY_FRAME_FIXED, n);
  weft_enc_str_put(weft_enc_str_put(s, fn, fl), file, il);
  weft_publish(t, p, WEFT_EV_PY_FRAME, n, 0, now);
  if (!atomic_exchange(&_weft_proc.py_feature, 1) && _weft_proc.hdr)
    __atomic_fetch_or(&_weft_proc.hdr->features, WEFT_FEAT_PY_FRAMES, __ATOMIC_RELAXED);
  return 0;
}

#define PY_NOT_NOW UINT32_MAX       /* define(): its PY_FRAME could not be written at the tick asked for */
#define PY_HIDDEN  (UINT32_MAX - 1) /* define(): a frame of weft's own hook, left out */
#define PY_ABORT   UINT64_MAX       /* frame_word(): the same */

/* A new frame id for (code, addr), its PY_FRAME written; 0 if the code
 * object is not what the layout says, PY_NOT_NOW (no id used up) when the
 * record cannot be written at tick, PY_HIDDEN for weft's own hook. */
static uint32_t define(Rd *r, uintptr_t name, uintptr_t file, uintptr_t lines, int first, int addr, uint64_t tick) {
  char fn[256], path[400];
  int fl = str_utf8(name, fn, sizeof fn, 0), il = str_utf8(file, path, sizeof path, 1);
  if (fl < 0 || il < 0 || !is_a(r, lines, py.bytes_type)) return 0;
  if (py.hook_len && (size_t)il == py.hook_len && !memcmp(path, py.hook, py.hook_len)) return PY_HIDDEN;
  uint32_t id = atomic_fetch_add(&_weft_proc.py_next, 1) + 1;
  if (emit_frame(id, line_of(r, lines, first, addr), first, fn, (size_t)fl, path, (size_t)il, tick) != 0)
    return PY_NOT_NOW;
  return id;
}

static uint64_t word_of(uint32_t id) {
  return id == PY_NOT_NOW ? PY_ABORT : id && id != PY_HIDDEN ? weft_stack_py_word(id) : 0;
}

/* The STACK word of frame ref (0: none; PY_ABORT: see define). */
static uint64_t frame_word(const PyRef *ref, uint64_t tick) {
  const WeftPyLayout *L = py.L;
  Rd r = {0, 0};
  uintptr_t c = ref->code;
  uintptr_t name = rdp(&r, c + (L->co_qualname != WEFT_PY_NONE ? L->co_qualname : L->co_name));
  uintptr_t file = rdp(&r, c + L->co_filename), lines = rdp(&r, c + L->co_lines);
  int first = rd32(&r, c + L->co_firstlineno);
  if (!name || !file || !lines) return 0;
  uint64_t h = mix(mix(mix(mix(mix(0x9e3779b97f4a7c15ull, c), (uint64_t)(uint32_t)ref->addr), name), file),
                   lines ^ (uint64_t)(uint32_t)first << 47);
  h = h ? h : 1;
  PySlot *tb = slots();
  for (uint32_t i = 0; tb && i < PY_PROBE; i++) {
    PySlot *s = &tb[(h + i) & (PY_SLOTS - 1)];
    uint64_t cur = atomic_load_explicit(&s->hash, memory_order_acquire);
    if (cur == 0) {
      uint64_t expect = 0;
      if (!atomic_compare_exchange_strong(&s->hash, &expect, h)) {
        if (expect != h) continue;
        cur = h; /* another thread claimed it for the same key just now */
      } else {
        uint32_t id = define(&r, name, file, lines, first, ref->addr, tick);
        if (id == 0 || id == PY_NOT_NOW) {
          atomic_store_explicit(&s->hash, 0, memory_order_release); /* free again */
          return word_of(id);
        }
        s->addr = ref->addr;
        s->first = first;
        s->code = c;
        s->name = name;
        s->file = file;
        s->lines = lines;
        atomic_store_explicit(&s->id, id, memory_order_release);
        return word_of(id);
      }
    }
    if (cur != h) continue;
    uint32_t id = atomic_load_explicit(&s->id, memory_order_acquire);
    if (id && s->code == c && s->addr == ref->addr && s->name == name && s->file == file && s->lines == lines &&
        s->first == first)
      return word_of(id);
    break; /* being defined by another thread, or a hash collision: a copy of our own */
  }
  return word_of(define(&r, name, file, lines, first, ref->addr, tick));
}

int _weft_py_stack(uint64_t *words, int max, uint64_t tick) {
  uintptr_t ts = this_tstate();
  if (!ts) return 0;
  if (WEFT_UNLIKELY(!atomic_load_explicit(&py.verified, memory_order_acquire))) {
    int v = verify(ts);
    if (v < 0) atomic_store(&py.state, PY_OFF);
    if (v <= 0) return 0;
    atomic_store_explicit(&py.verified, 1, memory_order_release);
  }
  PyRef v[WEFT_PY_MAX_FRAMES];
  Rd r = {0, 0};
  if (max > (int)WEFT_PY_MAX_FRAMES) max = (int)WEFT_PY_MAX_FRAMES;
  int n = walk(&r, ts, v, max), k = 0;
  for (int i = 0; i < n; i++) {
    uint64_t w = frame_word(&v[i], tick);
    if (w == PY_ABORT) return -1;
    if (w) words[k++] = w;
  }
  return k;
}
