/* symbolize.c - offline symbolisation of recorded addresses (elfutils libdwfl).
 * SPDX-License-Identifier: MIT
 *
 * One Dwfl per module file, holding just that module reported at bias 0, so
 * a recorded rel_pc (ip - load bias) is a Dwfl address as it is. Files are
 * keyed by the recorded path and opened once; the on-disk build-id is read
 * once and compared with the recorded one on every use (a path may appear in
 * a recording with several build-ids, if it was rebuilt between two runs).
 * Results are memoised per (file, looked-up address) in the analyzer's hash
 * map (weft-hmap.h), so a frame shared by a thousand processes costs one
 * DWARF lookup.
 *
 * Strings returned point into the Dwfl's own ELF and DWARF data (string
 * tables, line-table file names), which live until dwfl_end(), or into
 * copies the symbolizer keeps in GLib hash tables (demangled names, absolute
 * source paths, names without their symbol version); all stay valid until
 * weft_sym_free().
 */
#include "symbolize.h"
#include "weft-hmap.h"

#include <ctype.h>
#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <gelf.h>
#include <glib.h>
#include <stddef.h>
#include <stdlib.h>
#include <inttypes.h>
#include <libiberty/demangle.h>
#include <string.h>
#include <sys/stat.h>

/* The kept copy of str in set (a GHashTable of strings as a set): one copy
 * of each, alive until the symbolizer is freed. */
static const char *intern(GHashTable *set, const char *str) {
  char *kept = g_hash_table_lookup(set, str);
  if (!kept) {
    kept = g_strdup(str);
    g_hash_table_add(set, kept);
  }
  return kept;
}

/* ---- modules ---- */

enum { MOD_OK = 0, MOD_UNREADABLE = -1, MOD_MISMATCH = -2, MOD_PSEUDO = -3 };

/* A function symbol: [lo, hi) in Dwfl (= rel_pc) addresses. */
typedef struct {
  uint64_t lo, hi;
  const char *name;
  int rank;  /* binding: 2 global, 1 weak, 0 local; -1 an internal alias */
  int order; /* index in the symbol table (a stable sort) */
  int sized; /* st_size > 0; else hi is where it is taken to end */
} FuncSym;

typedef struct {
  uint32_t index; /* 1-based, the key of its cached results */
  int syms_state; /* 0 not loaded, 1 loaded, -1 load failed: ask libdwfl */
  FuncSym *syms;  /* sorted by lo, one per address */
  size_t nsyms;
  int status;  /* MOD_OK or MOD_UNREADABLE */
  char *error; /* why it is unreadable */
  Dwfl *dwfl;
  Dwfl_Module *mod;
  int bid_len; /* on-disk build-id, 0 if none */
  unsigned char bid[64];
  /* the compile units' address ranges, read on first need (cu_at): clang writes no .debug_aranges, and
   * libdw then finds no unit for an address */
  struct CuRange *cus;
  size_t ncus;
  int cus_state; /* 0 not read, 1 read, -1 no DWARF */
} SymFile;

typedef struct CuRange {
  Dwarf_Addr lo, hi; /* [lo, hi), DWARF addresses */
  Dwarf_Off die;     /* its unit's DIE */
} CuRange;

/* ---- memoised results, keyed by (file index, address) ---- */

typedef struct {
  int line;
  const char *symbol;
  const char *src;
} AddrResult;

struct WeftSymbolizer {
  GHashTable *files; /* recorded path -> SymFile */
  uint32_t nfiles;
  WeftHMap cache; /* (file index, address) -> index into results */
  AddrResult *results;
  size_t nresults, capresults;
  GHashTable *demangled; /* mangled name -> malloc'd demangled name */
  GHashTable *strings;   /* made-up strings handed out: absolute source paths,
                            names without their symbol version (a set, intern()) */
  void *cxxabi;          /* dlopen'ed libstdc++, or NULL */
  char *(*cxa_demangle)(const char *, char *, size_t *, int *);
  int cxxabi_tried;
  const char *last_error; /* static text or a SymFile's error */
};

static char *debuginfo_path; /* NULL: the elfutils default ":.debug:/usr/lib/debug" */

/* Offline callbacks: the file is reported by name (find_elf is not used);
 * separate debug info is found by build-id under the debug directories,
 * then by .gnu_debuglink, as eu-addr2line does, and last from the debuginfod
 * servers in $DEBUGINFOD_URLS if the user set it. */
static const Dwfl_Callbacks offline_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

static void free_file(void *p);

WeftSymbolizer *weft_sym_new(void) {
  WeftSymbolizer *sym = calloc(1, sizeof *sym);
  if (!sym) return NULL;
  sym->last_error = "";
  sym->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free_file);
  sym->demangled = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free);
  sym->strings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return sym;
}

static void free_file(void *p) {
  SymFile *f = p;
  if (!f) return;
  if (f->dwfl) dwfl_end(f->dwfl);
  free(f->syms);
  free(f->cus);
  free(f->error);
  free(f);
}

void weft_sym_free(WeftSymbolizer *sym) {
  if (!sym) return;
  g_hash_table_destroy(sym->files);
  g_hash_table_destroy(sym->demangled);
  g_hash_table_destroy(sym->strings);
  weft_hmap_free(&sym->cache);
  free(sym->results);
  if (sym->cxxabi) dlclose(sym->cxxabi);
  free(sym);
}

const char *weft_sym_last_error(const WeftSymbolizer *sym) { return sym->last_error; }

/* Modules the loader made up, with no file behind them. */
static int is_pseudo(const char *path) {
  return !path || !*path || path[0] == '[' || strncmp(path, "linux-vdso", 10) == 0 ||
         strncmp(path, "linux-gate", 10) == 0;
}

/* Parse hex into out (at most cap bytes). Returns the byte count, 0 for
 * NULL/"", -1 if not an even number of hex digits or too long. */
static int parse_hex(const char *hex, unsigned char *out, size_t cap) {
  if (!hex) return 0;
  size_t n = 0;
  for (const char *p = hex; *p; p += 2) {
    int v[2];
    for (int k = 0; k < 2; k++) {
      char c = p[k];
      if (c >= '0' && c <= '9')
        v[k] = c - '0';
      else if (c >= 'a' && c <= 'f')
        v[k] = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v[k] = c - 'A' + 10;
      else
        return -1; /* includes an odd length (c == 0) */
    }
    if (n == cap) return -1;
    out[n++] = (unsigned char)(v[0] << 4 | v[1]);
  }
  return (int)n;
}

/* Open path as a new SymFile (status MOD_UNREADABLE with a reason when it
 * cannot be read). NULL only when out of memory. */
static SymFile *open_file(WeftSymbolizer *sym, const char *path) {
  SymFile *f = calloc(1, sizeof *f);
  if (!f) return NULL;
  f->index = ++sym->nfiles;
  f->status = MOD_UNREADABLE;
  struct stat st;
  char *alt = NULL;
  const char *open_path = path;
  int rc = stat(path, &st);
  /* /proc/self/exe of a binary replaced while it ran; the build-id check
   * decides whether the file now there is the one that ran */
  size_t len = strlen(path), dl = strlen(" (deleted)");
  if (rc != 0 && len > dl && strcmp(path + len - dl, " (deleted)") == 0) {
    alt = strndup(path, len - dl);
    if (alt && stat(alt, &st) == 0) {
      open_path = alt;
      rc = 0;
    } else {
      errno = ENOENT;
    }
  }
  if (rc != 0) {
    f->error = strdup(strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    f->error = strdup("not a regular file");
  } else if (!(f->dwfl = dwfl_begin(&offline_callbacks))) {
    f->error = strdup(dwfl_errmsg(-1));
  } else {
    dwfl_report_begin(f->dwfl);
    /* base 0 with add_p_vaddr: Dwfl addresses are the file's own p_vaddr
     * addresses (bias 0) for ET_DYN and ET_EXEC alike */
    f->mod = dwfl_report_elf(f->dwfl, path, open_path, -1, 0, true);
    if (!f->mod) f->error = strdup(dwfl_errmsg(-1));
    dwfl_report_end(f->dwfl, NULL, NULL);
  }
  free(alt);
  if (f->mod) {
    const unsigned char *bits = NULL;
    GElf_Addr vaddr;
    int n = dwfl_module_build_id(f->mod, &bits, &vaddr);
    if (n > 0 && bits) {
      f->bid_len = n < (int)sizeof f->bid ? n : (int)sizeof f->bid;
      memcpy(f->bid, bits, (size_t)f->bid_len);
    }
    f->status = MOD_OK;
  } else if (!f->error) {
    f->error = strdup("out of memory");
  }
  return f;
}

/* Does the recorded hex id name the on-disk file f? No recorded id: yes
 * (nothing to check against). A 20-byte recorded id also matches a longer
 * on-disk id with that prefix (the agent keeps 20 bytes). */
static int build_id_matches(const SymFile *f, const char *hex) {
  unsigned char rec[64];
  int n = parse_hex(hex, rec, sizeof rec);
  if (n == 0) return 1;
  if (n < 0 || f->bid_len == 0) return 0;
  if (n != f->bid_len && !(n == 20 && f->bid_len > 20)) return 0;
  return memcmp(rec, f->bid, (size_t)n) == 0;
}

/* Find (opening once) the module file of path and check the recorded id.
 * Returns MOD_OK with *out set, or MOD_UNREADABLE / MOD_MISMATCH /
 * MOD_PSEUDO with sym->last_error set. */
static int resolve(WeftSymbolizer *sym, const char *path, const char *build_id, SymFile **out) {
  *out = NULL;
  if (is_pseudo(path)) {
    sym->last_error = "pseudo module";
    return MOD_PSEUDO;
  }
  SymFile *f = g_hash_table_lookup(sym->files, path);
  if (!f) {
    f = open_file(sym, path);
    if (!f) {
      sym->last_error = "out of memory";
      return MOD_UNREADABLE;
    }
    g_hash_table_insert(sym->files, g_strdup(path), f);
  }
  if (f->status != MOD_OK) {
    sym->last_error = f->error ? f->error : "cannot be read";
    return MOD_UNREADABLE;
  }
  if (!build_id_matches(f, build_id)) {
    sym->last_error = "build-id differs from the recording";
    return MOD_MISMATCH;
  }
  *out = f;
  return MOD_OK;
}

/* Rust's legacy mangling, demangled as C++ (its crate hash dropped): its
 * escapes decoded in place ("call_once$u7b$$u7b$vtable.shim$u7d$$u7d$" is
 * "call_once{{vtable.shim}}", "_$LT$T$GT$" "<T>", ".." "::"), as
 * rustc-demangle's legacy rules read them. None is longer than its text. */
static void rust_unescape(char *d) {
  static const struct {
    const char *esc, *to;
  } named[] = {{"$SP$", "@"}, {"$BP$", "*"}, {"$RF$", "&"}, {"$LT$", "<"},
               {"$GT$", ">"}, {"$LP$", "("}, {"$RP$", ")"}, {"$C$", ","}};
  char *out = d;
  for (const char *in = d; *in;) {
    if (in[0] == '_' && in[1] == '$' && (in == d || in[-1] == ':')) { /* a component that begins with '$' */
      in++;
      continue;
    }
    if (in[0] == '.' && in[1] == '.') {
      *out++ = ':', *out++ = ':', in += 2;
      continue;
    }
    if (*in == '$') {
      size_t k = 0, nn = sizeof named / sizeof named[0];
      while (k < nn && strncmp(in, named[k].esc, strlen(named[k].esc))) k++;
      if (k < nn) {
        *out++ = named[k].to[0];
        in += strlen(named[k].esc);
        continue;
      }
      unsigned v = 0;
      int nd = 0;
      if (in[1] == 'u')
        while (nd < 6 && isxdigit((unsigned char)in[2 + nd])) {
          int c = in[2 + nd];
          v = v * 16 + (unsigned)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
          nd++;
        }
      if (nd > 0 && in[2 + nd] == '$' && v >= 0x20 && v < 0x7f) { /* (ASCII only: one byte for 5 or more) */
        *out++ = (char)v;
        in += 3 + nd;
        continue;
      }
    }
    *out++ = *in++;
  }
  *out = '\0';
}

/* The callable a std::thread runs, from the thread's entry function into
 * which libstdc++ inlined it ("std::thread::_State_impl<std::thread::_Invoker<
 * std::tuple<main::{lambda()#1}> > >::_M_run()": "main::{lambda()#1}"; a
 * function object's type likewise), into d in place. Only a tuple of one
 * element, a lambda or a type without a parameter list: a function pointer
 * ("void (*)(int)"), a member function's, a bound call or arguments passed
 * ("std::tuple<void (*)(int), int>") leave d as it is. */
static void thread_callable(char *d) {
  static const char head[] = "std::thread::_State_impl<std::thread::_Invoker<std::tuple<";
  static const char tail[] = "> > >::_M_run()";
  size_t n = strlen(d), h = sizeof head - 1, t = sizeof tail - 1;
  if (n <= h + t || strncmp(d, head, h) || strcmp(d + n - t, tail)) return;
  size_t len = n - t - h;
  const char *x = d + h;
  if (memmem(x, len, ", ", 2) || (!memmem(x, len, "{lambda", 7) && memchr(x, '(', len))) return;
  memmove(d, x, len);
  d[len] = '\0';
}

/* name demangled if it is a mangled C++ name and libstdc++ can be loaded,
 * or a Rust symbol of the v0 mangling (_R..., std's own since Rust 1.7x:
 * "<std::sys::sync::mutex::futex::Mutex>::lock_contended"; libiberty reads
 * it), else name itself. */
static const char *demangle(WeftSymbolizer *sym, const char *name) {
  bool v0 = !strncmp(name, "_R", 2);
  if (strncmp(name, "_Z", 2) != 0 && !v0) return name;
  const char *done = g_hash_table_lookup(sym->demangled, name);
  if (done) return done;
  if (v0) {
    char *bare = g_strndup(name, strcspn(name, ".")); /* (".llvm.N": not the mangling's) */
    char *d = rust_demangle(bare, DMGL_PARAMS);
    g_free(bare);
    if (!d) return name;
    g_hash_table_insert(sym->demangled, g_strdup(name), d); /* (malloc'd: the table frees values with free) */
    return d;
  }
  if (!sym->cxxabi_tried) {
    sym->cxxabi_tried = 1;
    sym->cxxabi = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
    if (sym->cxxabi) {
      void *fn = dlsym(sym->cxxabi, "__cxa_demangle");
      memcpy(&sym->cxa_demangle, &fn, sizeof fn); /* object -> function pointer */
    }
  }
  if (!sym->cxa_demangle) return name;
  int status = -1;
  /* (LLVM's ".llvm.N" after a function it made local: not C++'s, demangled without it) */
  const char *llvm = strstr(name, ".llvm.");
  char *bare = llvm ? g_strndup(name, (gsize)(llvm - name)) : NULL;
  char *d = sym->cxa_demangle(bare ? bare : name, NULL, NULL, &status);
  g_free(bare);
  if (status != 0 || !d) {
    free(d);
    return name;
  }
  /* Rust's legacy mangling ends a path with the hash of its crate's contents, "::h" and 16 hex digits
   * (std::sys::backtrace::__rust_begin_short_backtrace::h5b1b3861380dfdb1): said nothing, dropped, and its
   * escapes decoded */
  size_t n = strlen(d);
  if (n > 19 && !strncmp(d + n - 19, "::h", 3) && strspn(d + n - 16, "0123456789abcdef") == 16) {
    d[n - 19] = '\0';
    rust_unescape(d);
  }
  g_hash_table_insert(sym->demangled, g_strdup(name), d);
  return d;
}

/* Collapse "//", "/./" and "dir/.." in an absolute path, in place. */
static void normalize_path(char *p) {
  char *out = p + 1; /* keeps the leading '/' */
  const char *in = p + 1;
  while (*in) {
    const char *end = strchr(in, '/');
    size_t n = end ? (size_t)(end - in) : strlen(in);
    if (n == 0 || (n == 1 && in[0] == '.')) {
      /* skip */
    } else if (n == 2 && in[0] == '.' && in[1] == '.') {
      while (out > p + 1 && out[-1] != '/') out--; /* drop the last kept component */
      if (out > p + 1) out--;                      /* and the '/' before it */
    } else {
      /* out <= in - 1 here, so neither write reaches unread input (writing
       * the '/' after a component could overwrite the final '\0') */
      if (out > p + 1) *out++ = '/';
      memmove(out, in, n);
      out += n;
    }
    in += n + (end ? 1 : 0);
  }
  *out = '\0';
}

/* The source file of a line-table row as an absolute path where the CU's
 * compilation directory allows (libdw joins only the line table's own
 * directory entry, which is relative when the compiler was given a
 * relative path, as meson does). */
static const char *joined_path(WeftSymbolizer *sym, const char *dir, const char *src) {
  if (src[0] == '/') return src;
  if (!dir || dir[0] != '/') return src;
  size_t ld = strlen(dir), ls = strlen(src);
  char *joined = malloc(ld + ls + 2);
  if (!joined) return src;
  memcpy(joined, dir, ld);
  joined[ld] = '/';
  memcpy(joined + ld + 1, src, ls + 1);
  normalize_path(joined);
  const char *kept = intern(sym->strings, joined);
  free(joined);
  return kept;
}

static const char *source_path(WeftSymbolizer *sym, Dwfl_Line *ln, const char *src) {
  return joined_path(sym, src[0] == '/' ? NULL : dwfl_line_comp_dir(ln), src);
}

/* Does path begin with one of the n prefixes in dirs? */
static bool under_any(const char *path, const char *const *dirs, size_t n) {
  for (size_t i = 0; path && i < n; i++)
    if (!strncmp(path, dirs[i], strlen(dirs[i]))) return true;
  return false;
}

/* A header of the compiler's or the system's: C++'s standard library
 * (/usr/include/c++/12/bits/std_mutex.h, its gthr-default.h; libc++'s
 * .../include/c++/v1/...), libc's, GCC's and LLVM's own (/usr/lib/gcc/...,
 * /usr/lib/llvm-15/...), Rust's standard library (/rustc/HASH/...). A path
 * with "." or ".." in it is looked at as it resolves (clang++ names
 * libstdc++'s headers /usr/bin/../lib/gcc/x86_64-linux-gnu/12/../../../../include/c++/12/...). */
static bool system_source(const char *path) {
  static const char *const dirs[] = {"/usr/include/", "/usr/lib/gcc/", "/usr/lib/llvm-", "/usr/local/include/",
                                     "/rustc/"};
  if (!path || path[0] != '/') return false;
  char buf[1024];
  if ((strstr(path, "/./") || strstr(path, "/../")) && strlen(path) < sizeof buf) {
    strcpy(buf, path);
    normalize_path(buf);
    path = buf;
  }
  if (under_any(path, dirs, sizeof dirs / sizeof dirs[0])) return true;
  /* a C++ library's headers anywhere: include/c++/ and its version (12, v1), not a project's own include/c++ */
  const char *cxx = strstr(path, "/include/c++/");
  return cxx && (isdigit((unsigned char)cxx[13]) || (cxx[13] == 'v' && isdigit((unsigned char)cxx[14])));
}

/* In v (n elements of stride bytes, sorted by the uint64_t at offset off), the first whose key is above
 * key (n: none). */
static size_t upper_bound_u64(const void *v, size_t n, size_t stride, size_t off, uint64_t key) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    uint64_t k;
    memcpy(&k, (const char *)v + mid * stride + off, sizeof k);
    if (k <= key)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static int cmp_cu_range(const void *x, const void *y) {
  const CuRange *a = x, *b = y;
  return (a->lo > b->lo) - (a->lo < b->lo);
}

/* f's units' ranges, sorted (every unit's, from its DW_AT_ranges or low and high pc). */
static void load_cu_ranges(SymFile *f) {
  Dwarf_Addr bias;
  Dwarf *dw = dwfl_module_getdwarf(f->mod, &bias);
  f->cus_state = -1;
  if (!dw) return;
  size_t cap = 0;
  Dwarf_Off off = 0, next;
  size_t hsize;
  while (dwarf_next_unit(dw, off, &next, &hsize, NULL, NULL, NULL, NULL, NULL, NULL) == 0) {
    Dwarf_Die cu;
    if (dwarf_offdie(dw, off + hsize, &cu)) {
      Dwarf_Addr base, lo, hi;
      for (ptrdiff_t o = 0; (o = dwarf_ranges(&cu, o, &base, &lo, &hi)) > 0;) {
        if (hi <= lo) continue;
        if (f->ncus == cap) {
          size_t nc = cap ? 2 * cap : 64;
          CuRange *nv = realloc(f->cus, nc * sizeof *nv);
          if (!nv) return;
          f->cus = nv;
          cap = nc;
        }
        f->cus[f->ncus++] = (CuRange){lo, hi, off + hsize};
      }
    }
    off = next;
  }
  if (f->ncus) qsort(f->cus, f->ncus, sizeof *f->cus, cmp_cu_range);
  f->cus_state = 1;
}

/* The unit of f whose code holds addr (a Dwfl address) into *cu, and the bias of its DWARF addresses;
 * libdw's own lookup first, then the units' ranges. */
static bool cu_at(SymFile *f, uint64_t addr, Dwarf_Die *cu, Dwarf_Addr *bias) {
  Dwarf_Die *d = dwfl_module_addrdie(f->mod, (Dwarf_Addr)addr, bias);
  if (d) {
    *cu = *d;
    return true;
  }
  if (!f->cus_state) load_cu_ranges(f);
  Dwarf *dw = f->cus_state > 0 ? dwfl_module_getdwarf(f->mod, bias) : NULL;
  if (!dw || !f->ncus) return false;
  Dwarf_Addr a = (Dwarf_Addr)addr - *bias;
  size_t lo = upper_bound_u64(f->cus, f->ncus, sizeof *f->cus, offsetof(CuRange, lo), a);
  for (size_t i = lo; i-- > 0 && lo - i <= 8;) /* the last ranges starting at or before a (they may nest) */
    if (a < f->cus[i].hi) return dwarf_offdie(dw, f->cus[i].die, cu) != NULL;
  return false;
}

/* A function of C++'s or Rust's standard library (std::thread's _M_run, into
 * which a thread's lambda is inlined; core::ops::function::FnOnce::call_once). */
static bool library_function(const char *symbol) {
  static const char *const ns[] = {"std::", "__gnu_cxx::", "core::", "alloc::"};
  for (size_t i = 0; symbol && i < sizeof ns / sizeof ns[0]; i++)
    if (!strncmp(symbol, ns[i], strlen(ns[i]))) return true;
  return false;
}

/* The function a DIE of an inlined call's code belongs to: its linkage name
 * demangled ("main::{lambda()#1}::operator()() const"), else its DWARF name. */
static const char *inlined_function(WeftSymbolizer *sym, Dwarf_Die *die) {
  Dwarf_Attribute at;
  const char *ln = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_linkage_name, &at));
  if (!ln) ln = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &at));
  return ln ? demangle(sym, ln) : dwarf_diename(die);
}

/* The location of addr in the program's own source and the function it is
 * in, where inlining says more than the line table's row and the ELF symbol
 * (*file and *line: that row, *symbol: the function the code lies in):
 * - a row in a system header (std::mutex::lock and the lock_guard that
 *   called it, inlined: a C++ program's every lock call site read
 *   gthr-default.h:749) is replaced by the innermost call site of the chain
 *   of inlined calls that lies in the program's own source, if there is one;
 * - the function is the one that location is in: an inlined one's own name
 *   where it was inlined (a lambda inlined into std::thread's _M_run is
 *   "operator()", a helper inlined into its caller is the helper). */
static void inline_site(WeftSymbolizer *sym, SymFile *f, uint64_t addr, const char **file, int *line,
                        const char **symbol) {
  Dwarf_Addr bias = 0;
  Dwarf_Die cudie, *cu = &cudie;
  Dwarf_Files *files = NULL;
  size_t nfiles = 0;
  if (!cu_at(f, addr, cu, &bias) || dwarf_getsrcfiles(cu, &files, &nfiles) != 0) return;
  /* the innermost scope at addr, then every DIE it lies in (dwarf_getscopes would go on from an inlined
   * subroutine to its abstract definition's scopes, not to the code it was inlined into) */
  Dwarf_Die *scopes = NULL, inner;
  int n = dwarf_getscopes(cu, (Dwarf_Addr)addr - bias, &scopes);
  if (n > 0) {
    inner = scopes[0];
    free(scopes);
    scopes = NULL;
    n = dwarf_getscopes_die(&inner, &scopes);
  }
  Dwarf_Attribute at;
  const char *dir = dwarf_formstring(dwarf_attr(cu, DW_AT_comp_dir, &at));
  int from = 0; /* the scopes the location lies in begin here */
  if (*file && system_source(*file)) {
    from = -1;
    for (int i = 0; i < n && from < 0; i++) { /* innermost first: each one's call site is in the next */
      Dwarf_Word fi, ln;
      if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine ||
          dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &at), &fi) != 0 ||
          dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &at), &ln) != 0 || ln == 0 || ln > INT32_MAX)
        continue;
      const char *src = fi < nfiles ? dwarf_filesrc(files, fi, NULL, NULL) : NULL;
      if (!src || system_source(src = joined_path(sym, dir, src))) continue;
      *file = src;
      *line = (int)ln;
      from = i + 1;
    }
  }
  for (int k = from; from >= 0 && k < n; k++) { /* the function out from there: inlined, or the ELF symbol's */
    int tag = dwarf_tag(&scopes[k]);
    if (tag == DW_TAG_subprogram) break;
    if (tag != DW_TAG_inlined_subroutine) continue;
    /* (only the program's own: in a library function with debug info, code inlined from another of the
     * library's, std::condition_variable::wait's __gthread_cond_wait, keeps the function's name) */
    const char *fn = inlined_function(sym, &scopes[k]);
    if (fn && *fn && !library_function(fn) && strncmp(fn, "__", 2)) *symbol = fn;
    break;
  }
  free(scopes);
}

/* ---- function symbols ----
 * dwfl_module_addrinfo() scans the whole symbol table on every call (some
 * 100 us in libc); instead the function symbols of the table libdwfl chose
 * (.symtab of the separate debug file, else of the file, else .dynsym, plus
 * .gnu_debugdata) are sorted once and searched by bisection. */

static int leading_underscores(const char *s) {
  int n = 0;
  while (s[n] == '_') n++;
  return n;
}

/* Order: address; then the name to keep for it: sized, global before weak
 * before local before glibc's __GI_ aliases, fewer leading underscores
 * (malloc over __libc_malloc), the first in the table. */
static int cmp_funcsym(const void *pa, const void *pb) {
  const FuncSym *a = pa, *b = pb;
  if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
  if (a->sized != b->sized) return b->sized - a->sized;
  if (a->rank != b->rank) return b->rank - a->rank;
  int ua = leading_underscores(a->name), ub = leading_underscores(b->name);
  if (ua != ub) return ua - ub;
  return a->order - b->order;
}

/* The end of section shndx of elf in module addresses, or 0 if unknown. */
static uint64_t section_end(Elf *elf, GElf_Word shndx, Dwarf_Addr bias) {
  if (!elf || shndx == SHN_UNDEF || shndx >= SHN_LORESERVE) return 0;
  Elf_Scn *scn = elf_getscn(elf, shndx);
  GElf_Shdr mem, *sh = scn ? gelf_getshdr(scn, &mem) : NULL;
  return sh ? sh->sh_addr + sh->sh_size + bias : 0;
}

/* Build f->syms: one symbol per address, sizeless ones (hand-written
 * assembly, crt files) ending at the next symbol or their section's end,
 * symbol versions ("name@@VER", from .symver) cut off the names kept
 * (copies in sym->strings).
 * Sets syms_state 1, or -1 when out of memory (then libdwfl is asked). */
static void load_syms(WeftSymbolizer *sym, SymFile *f) {
  f->syms_state = 1;
  int n = dwfl_module_getsymtab(f->mod);
  if (n <= 1) return;
  FuncSym *v = malloc((size_t)n * sizeof *v);
  if (!v) {
    f->syms_state = -1;
    return;
  }
  size_t k = 0;
  for (int i = 1; i < n; i++) { /* 0 is the null symbol */
    GElf_Sym es;
    GElf_Addr addr;
    GElf_Word shndx = SHN_UNDEF;
    Elf *elf = NULL;
    Dwarf_Addr bias = 0;
    const char *name = dwfl_module_getsym_info(f->mod, i, &es, &addr, &shndx, &elf, &bias);
    if (!name || !*name || shndx == SHN_UNDEF || shndx == (GElf_Word)-1) continue; /* -1: not allocated */
    int type = GELF_ST_TYPE(es.st_info), bind = GELF_ST_BIND(es.st_info);
    if (type != STT_FUNC && type != STT_GNU_IFUNC && !(type == STT_NOTYPE && es.st_size > 0)) continue;
    FuncSym *fs = &v[k++];
    fs->lo = addr;
    fs->sized = es.st_size > 0;
    fs->hi = fs->sized ? addr + es.st_size : section_end(elf, shndx, bias);
    fs->name = name;
    fs->rank = bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0;
    if (strncmp(name, "__GI_", 5) == 0) fs->rank = -1; /* glibc's internal aliases */
    fs->order = i;
  }
  qsort(v, k, sizeof *v, cmp_funcsym);
  size_t m = 0;
  for (size_t i = 0; i < k; i++) {
    if (m && v[m - 1].lo == v[i].lo) continue; /* an alias: the first is the one to keep */
    v[m++] = v[i];
  }
  size_t out = 0;
  for (size_t i = 0; i < m; i++) {
    if (!v[i].sized && i + 1 < m && v[i + 1].lo < v[i].hi) v[i].hi = v[i + 1].lo;
    if (v[i].hi <= v[i].lo) continue;
    const char *at = strchr(v[i].name, '@');
    if (at && at > v[i].name) {
      char *bare = g_strndup(v[i].name, (gsize)(at - v[i].name));
      v[i].name = intern(sym->strings, bare);
      g_free(bare);
    }
    v[out++] = v[i];
  }
  f->syms = v;
  f->nsyms = out;
}

/* The function symbol containing addr, or NULL. Nested symbols: the
 * innermost (the closest start) that contains it. */
static const char *find_func(const SymFile *f, uint64_t addr) {
  size_t lo = upper_bound_u64(f->syms, f->nsyms, sizeof *f->syms, offsetof(FuncSym, lo), addr);
  for (size_t i = lo, tries = 0; i > 0 && tries < 16; i--, tries++)
    if (addr < f->syms[i - 1].hi) return f->syms[i - 1].name;
  return NULL;
}

/* Remember the result for (file, addr); out of memory: carry on without. */
static void memo_put(WeftSymbolizer *sym, uint32_t file, uint64_t addr, const WeftSymInfo *r) {
  if (sym->nresults == sym->capresults) {
    size_t nc = sym->capresults ? sym->capresults * 2 : 1024;
    AddrResult *nr = realloc(sym->results, nc * sizeof *nr);
    if (!nr) return;
    sym->results = nr;
    sym->capresults = nc;
  }
  if (weft_hmap_put(&sym->cache, file, (int64_t)addr, sym->nresults) != 0) return;
  sym->results[sym->nresults++] = (AddrResult){r->line, r->symbol, r->file};
}

/* Resolve addr (already adjusted for return addresses) in f, memoised. */
static void lookup_in(WeftSymbolizer *sym, SymFile *f, uint64_t addr, WeftSymInfo *out) {
  size_t k;
  if (weft_hmap_get(&sym->cache, f->index, (int64_t)addr, &k)) {
    out->symbol = sym->results[k].symbol;
    out->file = sym->results[k].src;
    out->line = sym->results[k].line;
    return;
  }
  if (!f->syms_state) load_syms(sym, f);
  const char *name;
  if (f->syms_state > 0) {
    name = find_func(f, addr);
  } else {
    GElf_Off off = 0;
    GElf_Sym es;
    name = dwfl_module_addrinfo(f->mod, (GElf_Addr)addr, &off, &es, NULL, NULL, NULL);
  }
  out->symbol = name && *name ? demangle(sym, name) : NULL;
  out->file = NULL;
  out->line = 0;
  Dwfl_Line *ln = dwfl_module_getsrc(f->mod, (Dwarf_Addr)addr);
  Dwarf_Die cu;
  Dwarf_Addr bias;
  if (ln) {
    int lineno = 0;
    const char *src = dwfl_lineinfo(ln, NULL, &lineno, NULL, NULL, NULL);
    if (src && lineno > 0) {
      out->file = source_path(sym, ln, src);
      out->line = lineno;
    }
  } else if (cu_at(f, addr, &cu, &bias)) { /* (a unit libdw did not find: clang's, without .debug_aranges) */
    Dwarf_Line *dl = dwarf_getsrc_die(&cu, (Dwarf_Addr)addr - bias);
    int lineno = 0;
    const char *src = dl ? dwarf_linesrc(dl, NULL, NULL) : NULL;
    Dwarf_Attribute at;
    if (src && dwarf_lineno(dl, &lineno) == 0 && lineno > 0) {
      out->file = joined_path(sym, dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &at)), src);
      out->line = lineno;
    }
  }
  /* (the DIE walk costs tens of microseconds: only where it changes something, a row in a system
   * header, or the program's code in a function of the standard library's, where it was inlined) */
  if (out->file && (system_source(out->file) || library_function(out->symbol)))
    inline_site(sym, f, addr, &out->file, &out->line, &out->symbol);
  if (out->symbol && !strncmp(out->symbol, "std::thread::_State_impl<", 25)) { /* (not inlined code's: by lambda) */
    char *key = g_strconcat("\1", out->symbol, NULL);
    const char *done = g_hash_table_lookup(sym->demangled, key);
    char *d = done ? NULL : strdup(out->symbol); /* (freed with free: the table's values are) */
    if (d) {
      thread_callable(d);
      g_hash_table_insert(sym->demangled, key, d); /* (the table frees its keys with g_free) */
      key = NULL;
      done = d;
    }
    g_free(key);
    if (done) out->symbol = done;
  }
  memo_put(sym, f->index, addr, out);
}

int weft_sym_lookup(WeftSymbolizer *sym, const char *module_path, const char *build_id, uint64_t rel_pc,
                    int is_return_address, WeftSymInfo *out) {
  memset(out, 0, sizeof *out);
  SymFile *f;
  if (resolve(sym, module_path, build_id, &f) != MOD_OK) return -1;
  sym->last_error = "";
  lookup_in(sym, f, is_return_address && rel_pc > 0 ? rel_pc - 1 : rel_pc, out);
  return 0;
}

/* ---- filling a recording's frame table ---- */

typedef struct {
  int64_t frame_id;
  const char *symbol, *file;
  int line;
} FrameFill;

static void set_err(char *err, size_t errlen, const char *what, sqlite3 *db) {
  if (err && errlen)
    snprintf(err, errlen, "symbolising frames: %s%s%s", what, db ? ": " : "", db ? sqlite3_errmsg(db) : "");
}

/* Say once per (path, build-id) why a module's frames stay unsymbolised. */
static void warn_module(GHashTable *warned, FILE *warn, const char *path, const char *bid, int status,
                        const char *why) {
  if (!warn || status == MOD_PSEUDO) return;
  char *key = g_strconcat(path, "\n", bid ? bid : "", NULL); /* '\n' is in neither as the agent records them */
  if (g_hash_table_contains(warned, key)) {
    g_free(key);
    return;
  }
  g_hash_table_add(warned, key);
  if (status == MOD_MISMATCH)
    fprintf(warn, "weft: %s: build-id differs from the recording; its frames are left unsymbolised\n", path);
  else
    fprintf(warn, "weft: %s: cannot be read (%s); its frames are left unsymbolised\n", path, why);
}

long weft_sym_fill_frames(sqlite3 *db, FILE *warn, char *err, size_t errlen) {
  static const char select_sql[] =
      "SELECT f.frame_id, f.rel_pc, f.module_id, m.path, m.build_id,"
      "       f.frame_id IN (SELECT start_frame_id FROM thread WHERE start_frame_id IS NOT NULL)"
      "  FROM frame f JOIN module m ON m.module_id = f.module_id"
      " WHERE f.rel_pc IS NOT NULL"
      " ORDER BY f.module_id";
  static const char update_sql[] = "UPDATE frame SET symbol = ?1, file = ?2, line = ?3 WHERE frame_id = ?4";

  if (err && errlen) err[0] = '\0';
  WeftSymbolizer *sym = weft_sym_new();
  if (!sym) {
    set_err(err, errlen, "out of memory", NULL);
    return -1;
  }
  GHashTable *warned = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  FrameFill *fills = NULL;
  size_t nfills = 0, capfills = 0;
  sqlite3_stmt *q = NULL, *u = NULL;
  long result = -1;
  int in_savepoint = 0;

  if (sqlite3_exec(db, "SAVEPOINT weft_symbolize", NULL, NULL, NULL) != SQLITE_OK) {
    set_err(err, errlen, "begin", db);
    goto out;
  }
  in_savepoint = 1;
  if (sqlite3_prepare_v2(db, select_sql, -1, &q, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, update_sql, -1, &u, NULL) != SQLITE_OK) {
    set_err(err, errlen, "prepare", db);
    goto out;
  }

  /* Read everything first (the table is not updated under a running
   * SELECT); strings returned by the symbolizer outlive the statement. */
  int64_t cur_module = 0;
  int cur_status = MOD_UNREADABLE, have_cur = 0;
  SymFile *cur_file = NULL;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t frame_id = sqlite3_column_int64(q, 0);
    uint64_t rel_pc = (uint64_t)sqlite3_column_int64(q, 1);
    int64_t module_id = sqlite3_column_int64(q, 2);
    int is_entry = sqlite3_column_int(q, 5);
    if (!have_cur || module_id != cur_module) {
      const char *path = (const char *)sqlite3_column_text(q, 3);
      const char *bid = (const char *)sqlite3_column_text(q, 4);
      have_cur = 1;
      cur_module = module_id;
      cur_status = resolve(sym, path ? path : "", bid, &cur_file);
      if (cur_status != MOD_OK) warn_module(warned, warn, path ? path : "", bid, cur_status, sym->last_error);
    }
    if (cur_status != MOD_OK) continue;
    WeftSymInfo info;
    lookup_in(sym, cur_file, !is_entry && rel_pc > 0 ? rel_pc - 1 : rel_pc, &info);
    if (!info.symbol && !info.file) continue;
    if (nfills == capfills) {
      size_t ncap = capfills ? capfills * 2 : 1024;
      FrameFill *nf = realloc(fills, ncap * sizeof *nf);
      if (!nf) {
        set_err(err, errlen, "out of memory", NULL);
        goto out;
      }
      fills = nf;
      capfills = ncap;
    }
    fills[nfills++] = (FrameFill){frame_id, info.symbol, info.file, info.line};
  }
  if (rc != SQLITE_DONE) {
    set_err(err, errlen, "reading frames", db);
    goto out;
  }
  sqlite3_finalize(q);
  q = NULL;

  for (size_t i = 0; i < nfills; i++) {
    const FrameFill *ff = &fills[i];
    if (ff->symbol)
      sqlite3_bind_text(u, 1, ff->symbol, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(u, 1);
    if (ff->file) {
      sqlite3_bind_text(u, 2, ff->file, -1, SQLITE_STATIC);
      sqlite3_bind_int(u, 3, ff->line);
    } else {
      sqlite3_bind_null(u, 2);
      sqlite3_bind_null(u, 3);
    }
    sqlite3_bind_int64(u, 4, ff->frame_id);
    if (sqlite3_step(u) != SQLITE_DONE) {
      set_err(err, errlen, "updating frames", db);
      goto out;
    }
    sqlite3_reset(u);
  }
  sqlite3_finalize(u);
  u = NULL;
  if (sqlite3_exec(db, "RELEASE weft_symbolize", NULL, NULL, NULL) != SQLITE_OK) {
    set_err(err, errlen, "commit", db);
    goto out;
  }
  in_savepoint = 0;
  result = (long)nfills;

out:
  sqlite3_finalize(q);
  sqlite3_finalize(u);
  if (in_savepoint) {
    sqlite3_exec(db, "ROLLBACK TO weft_symbolize", NULL, NULL, NULL);
    sqlite3_exec(db, "RELEASE weft_symbolize", NULL, NULL, NULL);
  }
  free(fills);
  g_hash_table_destroy(warned);
  weft_sym_free(sym);
  return result;
}

/* ---- data symbols: naming locks that are global or static variables ---- */

/* A function of the C++ library's own, named as reserved for it
 * ("std::__detail::__platform_wait<int>(...)", "void
 * std::__atomic_wait_address<...>(...)" after its return type,
 * "__gnu_cxx::__..."): the machinery a wait in a program built without
 * debug information went through (std::barrier, std::latch, std::atomic's
 * wait, inlined into the program), no part of where the program waited.
 * The function's name is what follows the last space outside brackets
 * before its parameter list: a return type, which a function template's
 * demangled name begins with ("std::__cxx11::basic_string<...> fmt<int>(int)"),
 * is not its name. */
static bool cxx_internal(const char *symbol) {
  if (!symbol) return false;
  size_t name = 0;
  int depth = 0;
  for (size_t i = 0; symbol[i]; i++) {
    char ch = symbol[i];
    if (ch == '(' && depth == 0 && !(i >= 8 && !strncmp(symbol + i - 8, "operator", 8))) break; /* its parameters */
    if (ch == '<' || ch == '(' || ch == '[' || ch == '{') depth++;
    if ((ch == '>' || ch == ')' || ch == ']' || ch == '}') && depth > 0) depth--;
    if (ch == ' ' && depth == 0) name = i + 1;
  }
  return !strncmp(symbol + name, "std::__", 7) || !strncmp(symbol + name, "__gnu_cxx::__", 13);
}

/* weft_system_frame(file, symbol): a frame in a system header (system_source), or without one in a
 * function of the C++ library's own (cxx_internal); for SQL (NULL: not) */
static void sql_system_frame(sqlite3_context *cx, int argc, sqlite3_value **argv) {
  (void)argc;
  const char *file = (const char *)sqlite3_value_text(argv[0]);
  sqlite3_result_int(cx, file ? system_source(file) : cxx_internal((const char *)sqlite3_value_text(argv[1])));
}

/* A shared library of the system's (libc, libstdc++): /lib/..., /lib64/..., /usr/lib/... */
static bool system_library(const char *path) {
  static const char *const dirs[] = {"/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/"};
  return under_any(path, dirs, sizeof dirs / sizeof dirs[0]);
}

/* weft_system_library(path): system_library for SQL (NULL: not) */
static void sql_system_library(sqlite3_context *cx, int argc, sqlite3_value **argv) {
  (void)argc;
  sqlite3_result_int(cx, system_library((const char *)sqlite3_value_text(argv[0])));
}

long weft_sym_trim_stacks(sqlite3 *db, char *err, size_t errlen) {
  /* each stack whose innermost frame is a system header's, with the depth of its first frame that is not (a
   * frame without a file, unsymbolised, is not), unless that frame is a system library's: a stack whose
   * every frame of the program lies in its language's library (a Rust program built with -g, whose
   * closures are inlined into std's thread start, libdw finding no inlined scopes in its units) would be
   * trimmed down to libc's start_thread, which says less than the frames it took away */
  static const char select_sql[] =
      "SELECT t.stack_id, t.d FROM (SELECT sf.stack_id, (SELECT min(s2.depth) FROM stack_frame s2 JOIN frame f2 ON "
      "f2.frame_id = s2.frame_id WHERE s2.stack_id = sf.stack_id AND NOT weft_system_frame(f2.file, f2.symbol)) d "
      "FROM stack_frame sf JOIN frame f ON f.frame_id = sf.frame_id WHERE sf.depth = 0 AND "
      "weft_system_frame(f.file, f.symbol)) t WHERE NOT EXISTS (SELECT 1 FROM stack_frame s3 JOIN frame f3 ON "
      "f3.frame_id = s3.frame_id JOIN module m ON m.module_id = f3.module_id WHERE s3.stack_id = t.stack_id AND "
      "s3.depth = t.d AND weft_system_library(m.path))";
  /* the frames above depth d out, the rest moved up by d (through negative depths: the key stays unique) */
  static const char *const trim_sql[] = {"DELETE FROM stack_frame WHERE stack_id = ?1 AND depth < ?2",
                                         "UPDATE stack_frame SET depth = -1 - (depth - ?2) WHERE stack_id = ?1",
                                         "UPDATE stack_frame SET depth = -1 - depth WHERE stack_id = ?1",
                                         "UPDATE stack SET depth = depth - ?2 WHERE stack_id = ?1"};
  enum { NTRIM = sizeof trim_sql / sizeof trim_sql[0] };
  if (err && errlen) err[0] = '\0';
  sqlite3_stmt *q = NULL, *u[NTRIM] = {0};
  int64_t(*v)[2] = NULL;
  size_t n = 0, cap = 0;
  long result = -1;
  bool ok = sqlite3_create_function(db, "weft_system_frame", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                    sql_system_frame, NULL, NULL) == SQLITE_OK &&
            sqlite3_create_function(db, "weft_system_library", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
                                    sql_system_library, NULL, NULL) == SQLITE_OK &&
            sqlite3_exec(db, "SAVEPOINT weft_trim", NULL, NULL, NULL) == SQLITE_OK &&
            sqlite3_prepare_v2(db, select_sql, -1, &q, NULL) == SQLITE_OK;
  for (int k = 0; ok && k < NTRIM; k++) ok = sqlite3_prepare_v2(db, trim_sql[k], -1, &u[k], NULL) == SQLITE_OK;
  int rc = SQLITE_DONE;
  while (ok && (rc = sqlite3_step(q)) == SQLITE_ROW) { /* (read first: not updated under a running SELECT) */
    if (sqlite3_column_type(q, 1) == SQLITE_NULL || sqlite3_column_int64(q, 1) <= 0) continue;
    if (n == cap) {
      size_t nc = cap ? 2 * cap : 256;
      int64_t(*nv)[2] = realloc(v, nc * sizeof *nv);
      if (!nv) {
        set_err(err, errlen, "out of memory", NULL);
        goto out;
      }
      v = nv;
      cap = nc;
    }
    v[n][0] = sqlite3_column_int64(q, 0);
    v[n++][1] = sqlite3_column_int64(q, 1);
  }
  ok = ok && rc == SQLITE_DONE;
  for (size_t i = 0; ok && i < n; i++)
    for (int k = 0; ok && k < NTRIM; k++) {
      sqlite3_bind_int64(u[k], 1, v[i][0]);
      sqlite3_bind_int64(u[k], 2, v[i][1]);
      ok = sqlite3_step(u[k]) == SQLITE_DONE;
      sqlite3_reset(u[k]);
    }
  if (!ok) {
    set_err(err, errlen, "trimming the stacks' system frames", db);
    goto out;
  }
  result = (long)n;
out:
  sqlite3_finalize(q);
  for (int k = 0; k < NTRIM; k++) sqlite3_finalize(u[k]);
  free(v);
  sqlite3_exec(db, result >= 0 ? "RELEASE weft_trim" : "ROLLBACK TO weft_trim; RELEASE weft_trim", NULL, NULL, NULL);
  return result;
}

const char *weft_sym_object(WeftSymbolizer *sym, const char *module_path, const char *build_id, uint64_t rel_addr,
                            uint64_t *offset) {
  SymFile *f;
  if (resolve(sym, module_path, build_id, &f) != MOD_OK || !f->mod) return NULL;
  GElf_Sym s;
  GElf_Off off = 0;
  GElf_Word shndx = 0;
  Elf *elf = NULL;
  Dwarf_Addr bias = 0;
  const char *name = dwfl_module_addrinfo(f->mod, rel_addr, &off, &s, &shndx, &elf, &bias);
  if (!name || !*name) return NULL;
  int type = GELF_ST_TYPE(s.st_info);
  if ((type != STT_OBJECT && type != STT_TLS) || s.st_size == 0 || off >= s.st_size) return NULL;
  if (offset) *offset = off;
  return demangle(sym, name);
}

long weft_sym_name_objects(sqlite3 *db, char *err, size_t errlen) {
  sqlite3_stmt *objs = NULL, *mods = NULL, *upd = NULL;
  WeftSymbolizer *sym = weft_sym_new();
  long named = 0;
  if (!sym) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  if (sqlite3_prepare_v2(db, "SELECT object_id, upid, addr FROM sync_object WHERE name IS NULL", -1, &objs, NULL) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT path, build_id, bias FROM module WHERE upid = ? AND ? >= bias", -1, &mods, NULL) !=
          SQLITE_OK ||
      sqlite3_prepare_v2(db, "UPDATE sync_object SET name = ? WHERE object_id = ?", -1, &upd, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    named = -1;
    goto out;
  }
  while (sqlite3_step(objs) == SQLITE_ROW) {
    int64_t id = sqlite3_column_int64(objs, 0), upid = sqlite3_column_int64(objs, 1);
    uint64_t addr = (uint64_t)sqlite3_column_int64(objs, 2);
    sqlite3_bind_int64(mods, 1, upid);
    sqlite3_bind_int64(mods, 2, (int64_t)addr);
    while (sqlite3_step(mods) == SQLITE_ROW) {
      const char *path = (const char *)sqlite3_column_text(mods, 0);
      const char *bid = (const char *)sqlite3_column_text(mods, 1);
      uint64_t bias = (uint64_t)sqlite3_column_int64(mods, 2);
      uint64_t off = 0;
      const char *name = path ? weft_sym_object(sym, path, bid, addr - bias, &off) : NULL;
      /* (a name the C++ library reserves for itself says nothing: libstdc++'s pool of words that
       * std::atomic<T>::wait and std::barrier sleep on, std::__detail::__waiter_pool_base::_S_for::__w) */
      if (!name || !strncmp(name, "std::__", 7) || !strncmp(name, "__gnu_cxx::__", 13)) continue;
      char buf[512];
      if (!strncmp(name, ".gomp_critical_user_", 20) && !off) /* `#pragma omp critical (NAME)`'s lock */
        snprintf(buf, sizeof buf, "omp critical (%s)", name + 20);
      else if (off)
        snprintf(buf, sizeof buf, "%s+%#" PRIx64, name, off);
      else
        snprintf(buf, sizeof buf, "%s", name);
      sqlite3_bind_text(upd, 1, buf, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64(upd, 2, id);
      sqlite3_step(upd);
      sqlite3_reset(upd);
      named++;
      break;
    }
    sqlite3_reset(mods);
  }
out:
  sqlite3_finalize(objs);
  sqlite3_finalize(mods);
  sqlite3_finalize(upd);
  weft_sym_free(sym);
  return named;
}
