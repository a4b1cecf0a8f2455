/* test-symbolize.c - unit tests of offline symbolisation (analyzer/store/symbolize.c), TAP output.
 * SPDX-License-Identifier: MIT
 *
 * usage: test-symbolize FX-SYMBOLS [STRIPPED NODEBUG DBGLINK [NOARANGES]]
 * FX-SYMBOLS is tests/programs/fx-symbols (-g -O0 -rdynamic), which prints
 * the rel_pc of its functions and lock call and the call's line; the other
 * three are copies of it: objcopy --strip-all (.dynsym only), --strip-debug
 * (.symtab, no DWARF), and --strip-all with a .gnu_debuglink to
 * fx-symbols.debug next to it. Missing copies are skipped.
 * The test also symbolises its own executable: functions below record the
 * line of a call with __LINE__ and the return address of that call.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libelf.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "symbolize.h"
#include "weft-db.h"

/* keep the probe functions whole and under their own names at any -O level */
#if defined(__clang__)
#define TEST_NOIPA __attribute__((noinline))
#else
#define TEST_NOIPA __attribute__((noipa))
#endif

#include "tap.h"

static void skip(int n, const char *why) {
  for (int i = 0; i < n; i++) printf("ok %d # SKIP %s\n", ++ntest, why);
  fflush(stdout);
}

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static int ends_with(const char *s, const char *suffix) {
  size_t a = s ? strlen(s) : 0, b = strlen(suffix);
  return s && a >= b && strcmp(s + a - b, suffix) == 0;
}

static const char *str(const char *s) { return s ? s : "(null)"; }

/* ---- probes in this executable ---- */

TEST_NOIPA void *probe_return_address(void);
TEST_NOIPA int probe_caller(void **ra);
TEST_NOIPA int probe_entry(int x);

TEST_NOIPA void *probe_return_address(void) {
  void *ra = __builtin_return_address(0);
  __asm__ volatile("" ::: "memory");
  return ra;
}

/* Returns the line of its call of probe_return_address; *ra its return address. */
/* (the call and __LINE__ must stay on one line) */
/* clang-format off */
TEST_NOIPA int probe_caller(void **ra) {
  int line = __LINE__; *ra = probe_return_address(); /* one line: the call's line is `line` */
  __asm__ volatile("" ::: "memory");
  return line;
}
/* clang-format on */

/* The same through an inline function of a "system header": the line is this file's, where it was inlined. */
#include "sys-inline-probe.h"
TEST_NOIPA int probe_sys_caller(void **ra);
/* clang-format off */
TEST_NOIPA int probe_sys_caller(void **ra) {
  int line = __LINE__; *ra = sys_inline_probe(); /* one line: the call's line is `line` */
  __asm__ volatile("" ::: "memory");
  return line;
}
/* clang-format on */

/* A function under a name as Rust's legacy mangling makes it: its crate's hash ends the path. */
TEST_NOIPA int rust_probe(int x) __asm__("_ZN4core3ops8function6FnOnce9call_once17h0123456789abcdefE");
TEST_NOIPA int rust_probe(int x) { return x + 3; }

/* Rust's legacy escapes ({{vtable.shim}}, a component that begins with one), LLVM's ".llvm.N" suffix. */
TEST_NOIPA int rust_shim(int x) __asm__("\"_ZN4core3ops8function6FnOnce40call_once$u7b$$u7b$vtable.shim$u7d$$u7d$"
                                        "17h7dd5558d6fccb611E\"");
TEST_NOIPA int rust_shim(int x) { return x + 4; }
TEST_NOIPA int rust_closure(int x) __asm__("\"_ZN3std4sync4once4Once9call_once28_$u7b$$u7b$closure$u7d$$u7d$"
                                           "17hf2395b1f72f83e05E.llvm.11443004749823260333\"");
TEST_NOIPA int rust_closure(int x) { return x + 5; }
/* Rust's v0 mangling (std's own symbols: a std::sync::Mutex's contended wait), one with ".llvm.N". */
TEST_NOIPA int
rust_v0(int x) __asm__("_RNvMNtNtNtNtCsjrHSEGnQ3l9_3std3sys4sync5mutex5futexNtB2_5Mutex14lock_contended");
TEST_NOIPA int rust_v0(int x) { return x + 6; }
TEST_NOIPA int rust_v0_llvm(int x) __asm__("\"_RNvNtCsjrHSEGnQ3l9_3std2rt19lang_start_internal.llvm.42\"");
TEST_NOIPA int rust_v0_llvm(int x) { return x + 7; }
/* std::thread's entry function, into which libstdc++ inlines the callable: a lambda of main's, and a
 * function pointer (which says nothing of the function) */
TEST_NOIPA int
cxx_thread_lambda(int x) __asm__("_ZNSt6thread11_State_implINS_8_InvokerISt5tupleIJZ4mainEUlvE_EEEEE6_M_runEv");
TEST_NOIPA int cxx_thread_lambda(int x) { return x + 6; }
TEST_NOIPA int cxx_thread_fnptr(int x) __asm__("_ZNSt6thread11_State_implINS_8_InvokerISt5tupleIJPFviEiEEEEE6_M_runEv");
TEST_NOIPA int cxx_thread_fnptr(int x) { return x + 8; }
TEST_NOIPA int
cxx_thread_args(int x) __asm__("_ZNSt6thread11_State_implINS_8_InvokerISt5tupleIJZ4mainEUliE_iEEEEE6_M_runEv");
TEST_NOIPA int cxx_thread_args(int x) { return x + 9; }

static const int probe_entry_line = __LINE__ + 1;
TEST_NOIPA int probe_entry(int x) { return x * 7; } /* one line: its entry's line at any -O */

/* ---- this executable as a recorded module ---- */

typedef struct {
  char path[4096];
  uintptr_t bias, text_lo, text_hi; /* text: the executable PT_LOAD, rel */
  char bid[129];                    /* lower-case hex */
} SelfModule;

static void hex(const unsigned char *b, size_t n, char *out) {
  for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
  out[2 * n] = '\0';
}

static int self_cb(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  SelfModule *m = data;
  m->bias = info->dlpi_addr;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      m->text_lo = ph->p_vaddr;
      m->text_hi = ph->p_vaddr + ph->p_memsz;
    }
    if (ph->p_type != PT_NOTE) continue;
    const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr);
    size_t left = ph->p_memsz;
    while (left >= sizeof(ElfW(Nhdr))) {
      const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
      size_t nsz = (nh->n_namesz + 3u) & ~3u, dsz = (nh->n_descsz + 3u) & ~3u;
      if (sizeof *nh + nsz + dsz > left) break;
      if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 && memcmp(p + sizeof *nh, "GNU", 4) == 0 &&
          nh->n_descsz <= 64)
        hex((const unsigned char *)p + sizeof *nh + nsz, nh->n_descsz, m->bid);
      p += sizeof *nh + nsz + dsz;
      left -= sizeof *nh + nsz + dsz;
    }
  }
  return 1; /* the first object is the executable */
}

static void self_module(SelfModule *m) {
  memset(m, 0, sizeof *m);
  ssize_t n = readlink("/proc/self/exe", m->path, sizeof m->path - 1);
  m->path[n > 0 ? n : 0] = '\0';
  dl_iterate_phdr(self_cb, m);
}

/* The build-id of an ELF file as lower-case hex into out ("" if none). */
static void file_build_id(const char *path, char *out) {
  out[0] = '\0';
  elf_version(EV_CURRENT);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  Elf *e = elf_begin(fd, ELF_C_READ, NULL);
  const void *bits = NULL;
  ssize_t n = e ? dwelf_elf_gnu_build_id(e, &bits) : -1;
  if (n > 0 && n <= 64) hex(bits, (size_t)n, out);
  if (e) elf_end(e);
  close(fd);
}

/* ---- the fixture's own report ---- */

typedef struct {
  uint64_t hot_path_lock, cold_helper, lock_site, lock_ret;
  int lock_line;
} FxInfo;

static int run_fixture(const char *path, FxInfo *fx) {
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "'%s' 2 2>&1 >/dev/null", path);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  char line[1024];
  int found = 0;
  while (fgets(line, sizeof line, p)) {
    unsigned long a, b, c, d;
    int l;
    if (sscanf(line, "fx: hot_path_lock=%lx cold_helper=%lx lock_site=%lx lock_ret=%lx lock_line=%d", &a, &b, &c, &d,
               &l) == 5) {
      *fx = (FxInfo){a, b, c, d, l};
      found = 1;
    }
  }
  int st = pclose(p);
  return found && st == 0 ? 0 : -1;
}

/* ---- lookups in this executable ---- */

static void test_self(const SelfModule *self) {
  WeftSymbolizer *sym = weft_sym_new();
  WeftSymInfo si;
  void *ra = NULL;
  int call_line = probe_caller(&ra);
  uint64_t rel = (uint64_t)(uintptr_t)ra - self->bias;

  int rc = weft_sym_lookup(sym, self->path, self->bid, rel, 1, &si);
  ok(rc == 0 && streq(si.symbol, "probe_caller"), "self: return address is in probe_caller (%d, %s)", rc,
     str(si.symbol));
  ok(si.line == call_line && ends_with(si.file, "test-symbolize.c"), "self: call line %d (%s:%d)", call_line,
     str(si.file), si.line);

  /* code inlined from a system header (std::mutex::lock in a C++ program): its call site in the program */
  call_line = probe_sys_caller(&ra);
  rel = (uint64_t)(uintptr_t)ra - self->bias;
  rc = weft_sym_lookup(sym, self->path, self->bid, rel, 1, &si);
  ok(rc == 0 && streq(si.symbol, "probe_sys_caller") && si.line == call_line && ends_with(si.file, "test-symbolize.c"),
     "self: code inlined from a system header is at its call site, line %d (%s, %s:%d)", call_line, str(si.symbol),
     str(si.file), si.line);

  /* a Rust name without its hash */
  rc = weft_sym_lookup(sym, self->path, self->bid, (uint64_t)(uintptr_t)&rust_probe - self->bias, 0, &si);
  ok(rc == 0 && streq(si.symbol, "core::ops::function::FnOnce::call_once"),
     "self: a Rust name is demangled without its hash (%s)", str(si.symbol));

  static const struct {
    int (*fn)(int);
    const char *want, *what;
  } names[] = {
      {rust_shim, "core::ops::function::FnOnce::call_once{{vtable.shim}}", "Rust's escapes decoded"},
      {rust_closure, "std::sync::once::Once::call_once::{{closure}}", "a Rust name with LLVM's .llvm.N suffix"},
      {rust_v0, "<std::sys::sync::mutex::futex::Mutex>::lock_contended", "a Rust name of the v0 mangling"},
      {rust_v0_llvm, "std::rt::lang_start_internal", "a v0 name with LLVM's .llvm.N suffix"},
      {cxx_thread_lambda, "main::{lambda()#1}", "std::thread's entry named by the lambda it runs"},
      {cxx_thread_fnptr, "std::thread::_State_impl<std::thread::_Invoker<std::tuple<void (*)(int), int> > >::_M_run()",
       "std::thread's entry with a function pointer left as it is"},
      {cxx_thread_args,
       "std::thread::_State_impl<std::thread::_Invoker<std::tuple<main::{lambda(int)#1}, int> > >::_M_run()",
       "std::thread's entry with arguments passed left as it is"},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    rc = weft_sym_lookup(sym, self->path, self->bid, (uint64_t)(uintptr_t)names[i].fn - self->bias, 0, &si);
    ok(rc == 0 && streq(si.symbol, names[i].want), "self: %s (%s)", names[i].what, str(si.symbol));
  }

  uint64_t entry = (uint64_t)(uintptr_t)&probe_entry - self->bias;
  rc = weft_sym_lookup(sym, self->path, self->bid, entry, 0, &si);
  ok(rc == 0 && streq(si.symbol, "probe_entry") && si.line == probe_entry_line,
     "self: function entry is probe_entry at line %d (%s:%d)", probe_entry_line, str(si.symbol), si.line);

  /* the same address again comes from the memo: the same strings */
  WeftSymInfo again;
  weft_sym_lookup(sym, self->path, self->bid, entry, 0, &again);
  ok(again.symbol == si.symbol && again.file == si.file && again.line == si.line, "self: repeated lookup memoised");

  char upper[129];
  for (size_t i = 0; i <= strlen(self->bid); i++)
    upper[i] = (char)(self->bid[i] >= 'a' && self->bid[i] <= 'f' ? self->bid[i] - 32 : self->bid[i]);
  rc = weft_sym_lookup(sym, self->path, upper, entry, 0, &si);
  ok(rc == 0 && streq(si.symbol, "probe_entry"), "self: upper-case build-id matches");
  rc = weft_sym_lookup(sym, self->path, NULL, entry, 0, &si);
  ok(rc == 0 && streq(si.symbol, "probe_entry"), "self: no recorded build-id: used unverified");

  char bad[129];
  snprintf(bad, sizeof bad, "%s", self->bid);
  bad[0] = bad[0] == '0' ? '1' : '0';
  si.symbol = "stale";
  rc = weft_sym_lookup(sym, self->path, bad, entry, 0, &si);
  ok(rc == -1 && !si.symbol && !si.file && si.line == 0 && strstr(weft_sym_last_error(sym), "build-id"),
     "self: wrong build-id: -1, no symbol (%s)", weft_sym_last_error(sym));
  rc = weft_sym_lookup(sym, self->path, "abc", entry, 0, &si);
  ok(rc == -1 && !si.symbol, "self: malformed build-id: -1, no symbol");
  snprintf(bad, sizeof bad, "%.38s", self->bid);
  rc = weft_sym_lookup(sym, self->path, bad, entry, 0, &si);
  ok(rc == -1 && !si.symbol, "self: truncated build-id does not match");
  rc = weft_sym_lookup(sym, self->path, self->bid, entry, 0, &si);
  ok(rc == 0 && streq(si.symbol, "probe_entry") && !*weft_sym_last_error(sym),
     "self: the right build-id still works after a wrong one");

  rc = weft_sym_lookup(sym, "/nonexistent/weft/libgone.so.1", NULL, 0x1000, 1, &si);
  ok(rc == -1 && !si.symbol && strstr(weft_sym_last_error(sym), "No such file"), "missing file: -1 (%s)",
     weft_sym_last_error(sym));
  rc = weft_sym_lookup(sym, "linux-vdso.so.1", NULL, 0x1000, 1, &si);
  ok(rc == -1 && !si.symbol, "linux-vdso.so.1: -1 (%s)", weft_sym_last_error(sym));
  rc = weft_sym_lookup(sym, "[vdso]", NULL, 0x1000, 1, &si);
  ok(rc == -1 && !si.symbol, "[vdso]: -1");
  rc = weft_sym_lookup(sym, "/", NULL, 0x1000, 1, &si);
  ok(rc == -1 && strstr(weft_sym_last_error(sym), "regular"), "a directory: -1 (%s)", weft_sym_last_error(sym));

  char notelf[] = "/tmp/weft-sym-notelf-XXXXXX";
  int fd = mkstemp(notelf);
  if (fd >= 0) {
    if (write(fd, "not an ELF file\n", 16) != 16) {}
    close(fd);
    rc = weft_sym_lookup(sym, notelf, NULL, 0x10, 0, &si);
    ok(rc == -1 && !si.symbol, "not an ELF file: -1 (%s)", weft_sym_last_error(sym));
    unlink(notelf);
  } else {
    skip(1, "mkstemp failed");
  }

  /* thousands of distinct addresses per second, with DWARF (this
   * executable) and without it (libc, .dynsym unless debug info is installed) */
  struct timespec t0, t1;
  long n = 0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (uint64_t a = self->text_lo; a < self->text_hi && n < 20000; a += 1, n++)
    weft_sym_lookup(sym, self->path, self->bid, a, 1, &si);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("# %ld distinct lookups with DWARF in %.3f s: %.0f/s\n", n, s, s > 0 ? (double)n / s : 0.0);
  ok(n > 0 && (double)n / (s > 0 ? s : 1e-9) > 2000, "speed: > 2000 distinct lookups/s with DWARF");
  weft_sym_free(sym);
}

/* ---- lookups in the fixture and its stripped copies ---- */

static void test_fixture(int argc, char **argv) {
  if (argc < 2) {
    skip(14, "no fixture given");
    return;
  }
  const char *fxpath = argv[1];
  FxInfo fx;
  if (!ok(run_fixture(fxpath, &fx) == 0, "fixture %s ran and reported its addresses", fxpath)) {
    skip(13, "fixture did not run");
    return;
  }
  char bid[129];
  file_build_id(fxpath, bid);
  WeftSymbolizer *sym = weft_sym_new();
  WeftSymInfo si;
  int rc = weft_sym_lookup(sym, fxpath, bid, fx.hot_path_lock, 0, &si);
  ok(rc == 0 && streq(si.symbol, "hot_path_lock") && ends_with(si.file, "fx-symbols.c"),
     "fixture: hot_path_lock entry (%s %s:%d)", str(si.symbol), str(si.file), si.line);
  rc = weft_sym_lookup(sym, fxpath, bid, fx.lock_ret, 1, &si);
  ok(rc == 0 && streq(si.symbol, "hot_path_lock") && si.line == fx.lock_line,
     "fixture: lock return address as a return address: hot_path_lock line %d (%s:%d)", fx.lock_line, str(si.symbol),
     si.line);
  rc = weft_sym_lookup(sym, fxpath, bid, fx.lock_ret, 0, &si);
  ok(rc == 0 && si.line == fx.lock_line + 1, "fixture: the same address as is: the next line %d (%d)", fx.lock_line + 1,
     si.line);
  rc = weft_sym_lookup(sym, fxpath, bid, fx.lock_site, 0, &si);
  ok(rc == 0 && streq(si.symbol, "hot_path_lock") && si.line == fx.lock_line, "fixture: lock site line (%d)", si.line);
  rc = weft_sym_lookup(sym, fxpath, bid, fx.cold_helper, 0, &si);
  ok(rc == 0 && streq(si.symbol, "cold_helper"), "fixture: static cold_helper (%s)", str(si.symbol));

  if (argc < 5) {
    skip(8, "no stripped copies (objcopy not found)");
    weft_sym_free(sym);
    return;
  }
  const char *stripped = argv[2], *nodebug = argv[3], *dbglink = argv[4];
  /* stripping keeps the build-id note */
  rc = weft_sym_lookup(sym, stripped, bid, fx.lock_ret, 1, &si);
  ok(rc == 0 && streq(si.symbol, "hot_path_lock") && !si.file && si.line == 0,
     "stripped: .dynsym name, no line (%s %s:%d)", str(si.symbol), str(si.file), si.line);
  rc = weft_sym_lookup(sym, stripped, bid, fx.cold_helper, 0, &si);
  ok(rc == 0 && !si.symbol, "stripped: static function not in .dynsym: no name rather than a wrong one (%s)",
     str(si.symbol));
  rc = weft_sym_lookup(sym, nodebug, bid, fx.cold_helper, 0, &si);
  ok(rc == 0 && streq(si.symbol, "cold_helper") && !si.file, "strip-debug: .symtab name, no line (%s %s)",
     str(si.symbol), str(si.file));
  rc = weft_sym_lookup(sym, nodebug, bid, fx.lock_ret, 1, &si);
  ok(rc == 0 && streq(si.symbol, "hot_path_lock"), "strip-debug: hot_path_lock (%s)", str(si.symbol));
  rc = weft_sym_lookup(sym, dbglink, bid, fx.lock_ret, 1, &si);
  ok(rc == 0 && streq(si.symbol, "hot_path_lock") && si.line == fx.lock_line,
     "debuglink: debug info found next to the file: line %d (%s:%d)", fx.lock_line, str(si.file), si.line);
  rc = weft_sym_lookup(sym, dbglink, bid, fx.cold_helper, 0, &si);
  ok(rc == 0 && streq(si.symbol, "cold_helper"), "debuglink: .symtab of the debug file (%s)", str(si.symbol));
  char other[129];
  file_build_id(argv[0], other);
  rc = weft_sym_lookup(sym, dbglink, other, fx.lock_ret, 1, &si);
  ok(rc == -1 && !si.symbol, "debuglink: another build-id: -1");
  /* DWARF without .debug_aranges, as clang writes it: the units' own ranges find the line */
  if (argc > 5) {
    rc = weft_sym_lookup(sym, argv[5], bid, fx.lock_ret, 1, &si);
    ok(rc == 0 && streq(si.symbol, "hot_path_lock") && si.line == fx.lock_line && ends_with(si.file, "fx-symbols.c"),
       "no .debug_aranges: line %d from the units' ranges (%s:%d)", fx.lock_line, str(si.file), si.line);
  } else {
    skip(1, "no copy without .debug_aranges");
  }
  weft_sym_free(sym);
}

/* ---- a C++ name, demangled (libstdc++ symbolised as a recorded module) ---- */

static void test_demangle(void) {
  void *h = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);
  void *fn = h ? dlsym(h, "_ZSt9terminatev") : NULL;
  Dl_info info;
  struct link_map *lm = NULL;
  if (!fn || !dladdr1(fn, &info, (void **)&lm, RTLD_DL_LINKMAP) || !lm) {
    skip(1, "libstdc++.so.6 not loadable");
    if (h) dlclose(h);
    return;
  }
  WeftSymbolizer *sym = weft_sym_new();
  WeftSymInfo si;
  int rc = weft_sym_lookup(sym, info.dli_fname, NULL, (uint64_t)((uintptr_t)fn - lm->l_addr), 0, &si);
  ok(rc == 0 && streq(si.symbol, "std::terminate()"), "C++: %s symbolised as %s", info.dli_fname, str(si.symbol));
  weft_sym_free(sym);
  dlclose(h);
}

/* ---- weft_sym_fill_frames ---- */

static int exec_sql(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
  if (rc != SQLITE_OK) printf("# sql error: %s\n# in: %s\n", msg ? msg : "?", sql);
  sqlite3_free(msg);
  return rc;
}

typedef struct {
  char *symbol, *file;
  int line, has_line;
} FrameRow;

static void frame_row(sqlite3 *db, int64_t frame_id, FrameRow *r) {
  free(r->symbol);
  free(r->file);
  memset(r, 0, sizeof *r);
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(db, "SELECT symbol, file, line FROM frame WHERE frame_id = ?", -1, &q, NULL) != SQLITE_OK)
    return;
  sqlite3_bind_int64(q, 1, frame_id);
  if (sqlite3_step(q) == SQLITE_ROW) {
    if (sqlite3_column_text(q, 0)) r->symbol = strdup((const char *)sqlite3_column_text(q, 0));
    if (sqlite3_column_text(q, 1)) r->file = strdup((const char *)sqlite3_column_text(q, 1));
    r->has_line = sqlite3_column_type(q, 2) != SQLITE_NULL;
    r->line = sqlite3_column_int(q, 2);
  }
  sqlite3_finalize(q);
}

static int count_lines(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = s; p && (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

static void test_fill(const SelfModule *self, int argc, char **argv) {
  char dir[] = "/tmp/weft-sym-test-XXXXXX";
  if (!mkdtemp(dir)) {
    skip(14, "mkdtemp failed");
    return;
  }
  char path[256], err[512] = "";
  snprintf(path, sizeof path, "%s/run.db", dir);
  sqlite3 *db = weft_db_create(path, 0, err, sizeof err);
  if (!ok(db != NULL, "weft_db_create (%s)", err)) {
    skip(13, "no database");
    rmdir(dir);
    return;
  }

  void *ra = NULL;
  int call_line = probe_caller(&ra);
  uint64_t ret_rel = (uint64_t)(uintptr_t)ra - self->bias;
  uint64_t entry_rel = (uint64_t)(uintptr_t)&probe_entry - self->bias;
  const char *fxpath = argc > 1 ? argv[1] : self->path;
  FxInfo fx = {0};
  int have_fx = argc > 1 && run_fixture(fxpath, &fx) == 0;
  char fxbid[129];
  file_build_id(fxpath, fxbid);

  char *sql = sqlite3_mprintf(
      "INSERT INTO module(module_id, upid, path, build_id, bias, start, end) VALUES"
      " (1, 1, '%q', '%q', %lld, 0, 0),"
      " (2, 2, '%q', '%q', %lld, 0, 0),"
      " (3, 1, '%q', '0000000000000000000000000000000000000000', 0, 0, 0),"
      " (4, 2, '%q', '0000000000000000000000000000000000000000', 0, 0, 0),"
      " (5, 1, '/nonexistent/weft/libgone.so.1', 'abcdef', 0, 0, 0),"
      " (6, 1, 'linux-vdso.so.1', NULL, 0, 0, 0),"
      " (7, 1, '%q', '%q', 0, 0, 0);"
      "INSERT INTO frame(frame_id, upid, ip, module_id, rel_pc) VALUES"
      " (1, 1, 1001, 1, %lld),"    /* self: return address */
      " (2, 2, 1002, 2, %lld),"    /* the same in another process */
      " (3, 1, 1003, 1, %lld),"    /* self: a thread start routine */
      " (4, 1, 1004, 3, 4096),"    /* wrong build-id */
      " (5, 2, 1005, 4, 4096),"    /* wrong build-id, another process */
      " (6, 1, 1006, 5, 4096),"    /* missing file */
      " (7, 1, 1007, 6, 2048),"    /* vdso */
      " (8, 1, 1008, NULL, NULL)," /* no module */
      " (9, 1, 1009, 7, %lld),"    /* fixture's lock call */
      " (10, 1, 1010, 1, NULL);"   /* module but no rel_pc */
      "INSERT INTO thread(utid, upid, tid, is_main, start_routine, start_frame_id, start_ns, end_ns, end_how)"
      " VALUES (1, 1, 100, 0, 1003, 3, 0, 10, 'return');",
      self->path, self->bid, (long long)self->bias, self->path, self->bid, (long long)self->bias, fxpath, fxpath,
      fxpath, fxbid, (long long)ret_rel, (long long)ret_rel, (long long)entry_rel,
      (long long)(have_fx ? fx.lock_ret : 1));
  ok(sql && exec_sql(db, sql) == SQLITE_OK, "modules, frames and a thread inserted");
  sqlite3_free(sql);

  /* inside the caller's transaction, rolled back: nothing changes */
  exec_sql(db, "BEGIN");
  long n = weft_sym_fill_frames(db, NULL, err, sizeof err);
  exec_sql(db, "ROLLBACK");
  FrameRow r = {0};
  frame_row(db, 1, &r);
  ok(n >= 3 && !r.symbol, "fill inside an outer transaction, rolled back with it (%ld)", n);

  char *warnings = NULL;
  size_t wlen = 0;
  FILE *warn = open_memstream(&warnings, &wlen);
  n = weft_sym_fill_frames(db, warn, err, sizeof err);
  fclose(warn);
  for (const char *w = warnings ? warnings : ""; *w;) { /* as TAP diagnostics */
    const char *nl = strchr(w, '\n');
    int len = nl ? (int)(nl - w) : (int)strlen(w);
    printf("# warn: %.*s\n", len, w);
    w += len + (nl ? 1 : 0);
  }
  ok(n == (have_fx ? 4 : 3), "fill: %ld frames symbolised (%s)", n, err);

  frame_row(db, 1, &r);
  ok(streq(r.symbol, "probe_caller") && r.line == call_line && ends_with(r.file, "test-symbolize.c"),
     "fill: return address -> probe_caller line %d (%s %s:%d)", call_line, str(r.symbol), str(r.file), r.line);
  frame_row(db, 2, &r);
  ok(streq(r.symbol, "probe_caller") && r.line == call_line, "fill: same frame in another process");
  frame_row(db, 3, &r);
  ok(streq(r.symbol, "probe_entry") && r.line == probe_entry_line,
     "fill: thread start routine looked up as an entry, not a return address (%s:%d)", str(r.symbol), r.line);
  int untouched = 1;
  for (int64_t id = 4; id <= 10; id++) {
    if (id == 9) continue;
    frame_row(db, id, &r);
    if (r.symbol || r.file || r.has_line) untouched = 0;
  }
  ok(untouched, "fill: frames of unusable, pseudo and missing modules stay NULL");
  frame_row(db, 9, &r);
  if (have_fx)
    ok(streq(r.symbol, "hot_path_lock") && r.line == fx.lock_line,
       "fill: fixture lock frame -> hot_path_lock:%d (%s:%d)", fx.lock_line, str(r.symbol), r.line);
  else
    skip(1, "no fixture");
  char expect[4200];
  snprintf(expect, sizeof expect, "weft: %s: build-id differs from the recording; its frames are left unsymbolised\n",
           fxpath);
  ok(count_lines(warnings, expect) == 1, "warn: one build-id line for two module rows");
  ok(count_lines(warnings, "weft: /nonexistent/weft/libgone.so.1: cannot be read (No such file or directory); "
                           "its frames are left unsymbolised\n") == 1,
     "warn: one line for the missing file");
  ok(!strstr(warnings ? warnings : "", "vdso") && count_lines(warnings, "\n") == 2, "warn: nothing else (vdso silent)");
  free(warnings);
  free(r.symbol);
  free(r.file);

  /* again, without a warn stream: the same count, the same content */
  n = weft_sym_fill_frames(db, NULL, err, sizeof err);
  ok(n == (have_fx ? 4 : 3), "fill again: idempotent (%ld)", n);
  sqlite3_close(db);
  unlink(path);
  rmdir(dir);

  /* not a recording: -1 with a message */
  sqlite3 *empty = NULL;
  sqlite3_open(":memory:", &empty);
  err[0] = '\0';
  n = weft_sym_fill_frames(empty, NULL, err, sizeof err);
  ok(n == -1 && err[0], "fill on a database without the tables: -1 (%s)", err);
  sqlite3_close(empty);
}

int main(int argc, char **argv) {
  SelfModule self;
  self_module(&self);
  printf("# self: %s bias %#lx build-id %s\n", self.path, (unsigned long)self.bias, self.bid);
  if (!self.bid[0]) printf("# this executable has no build-id: build-id tests will fail\n");
  test_self(&self);
  test_fixture(argc, argv);
  test_demangle();
  test_fill(&self, argc, argv);
  printf("1..%d\n", ntest);
  return nfail ? 1 : 0;
}
