/* symbolize.h - offline symbolisation of recorded addresses (elfutils).
 * SPDX-License-Identifier: MIT
 *
 * A recording names each code address by its module (the path and build-id
 * the agent saw at run time) and rel_pc = ip - load bias of the module, that
 * is, the address as the ELF file itself numbers it (p_vaddr space; for a
 * non-PIE executable the bias is 0 and rel_pc = ip). The symbolizer opens
 * each module file once (libdwfl, reported at bias 0), checks its build-id
 * against the recorded one, finds separate debug info the way the default
 * elfutils callbacks do (/usr/lib/debug/.build-id/xx/yyyy.debug, then
 * .gnu_debuglink next to the file, in .debug/ and under /usr/lib/debug; and
 * debuginfod when $DEBUGINFOD_URLS is set: unset it to stay offline) and
 * answers from DWARF line tables and the ELF symbol table (.symtab, else
 * .dynsym). A module whose build-id differs is never used: no name beats a
 * wrong one. Each distinct (module, address) is resolved once and cached.
 *
 * Names: the symbol is the ELF function symbol (STT_FUNC/IFUNC) containing
 * the address, NULL if none does (no nearest-preceding guess). For code
 * inlined into it that is the outer function; file/line are then those of
 * the inlined code (the innermost line-table row). Of aliases at one
 * address, a global name is preferred, then the one with fewer leading
 * underscores. C++ names (_Z...) are demangled with __cxa_demangle when
 * libstdc++.so.6 can be dlopen'ed, else left mangled. Source paths are made
 * absolute with the CU's DW_AT_comp_dir where that is absolute.
 *
 * Not thread-safe: use one WeftSymbolizer per thread.
 */
#ifndef WEFT_SYMBOLIZE_H
#define WEFT_SYMBOLIZE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct WeftSymbolizer WeftSymbolizer;

/* A new, empty symbolizer, or NULL when out of memory. */
WeftSymbolizer *weft_sym_new(void);

/* Closes every module and frees every string handed out. NULL is a no-op. */
void weft_sym_free(WeftSymbolizer *sym);

typedef struct {
  const char *symbol; /* function name, NULL if unknown */
  const char *file;   /* source file (absolute where DWARF says so), NULL if no line info */
  int line;           /* 0 if no line info */
} WeftSymInfo;        /* strings owned by the symbolizer, valid until weft_sym_free() */

/* Symbolise rel_pc in module_path.
 * build_id: the recorded build-id as hex (either case), or NULL/"" if none was
 * recorded (then the file is used unverified). A recorded id of 20 bytes also
 * matches a longer on-disk id with that prefix (the agent keeps 20 bytes).
 * is_return_address: rel_pc is a return address (a stack frame): rel_pc - 1
 * is looked up, so the call's line and function are found, not the next
 * line's (or the next function's, after a call to a noreturn function).
 * Returns 0 and fills out (any field may be unknown: NULL / 0);
 * -1 with out cleared when the module cannot be used: it cannot be read, it
 * is not ELF, its build-id differs from build_id, or it is a pseudo module
 * that has no file ("linux-vdso.so.1", "[vdso]", "" and other "[...]").
 * weft_sym_last_error() then says why. */
int weft_sym_lookup(WeftSymbolizer *sym, const char *module_path, const char *build_id, uint64_t rel_pc,
                    int is_return_address, WeftSymInfo *out);

/* Why the last weft_sym_lookup() returned -1: e.g. "No such file or directory",
 * "build-id differs from the recording", "pseudo module"; "" after a success. */
const char *weft_sym_last_error(const WeftSymbolizer *sym);

/* Fill frame.symbol, frame.file and frame.line for every frame of db that has
 * a module_id and a rel_pc (frame JOIN module ON module_id). Frames are return
 * addresses except those named by thread.start_frame_id (function entries,
 * looked up as they are). Runs in one transaction (a SAVEPOINT, so it may be
 * called inside the caller's own transaction). Frames of modules that cannot
 * be used keep their columns untouched; warn (may be NULL) gets one line per
 * distinct (path, build-id) that cannot be read or whose build-id differs:
 *   weft: PATH: build-id differs from the recording; its frames are left unsymbolised
 *   weft: PATH: cannot be read (REASON); its frames are left unsymbolised
 * Pseudo modules (the vDSO) are skipped silently.
 * Returns the number of frames that got a symbol or a line, or -1 with a
 * message in err (the database is then left as it was). */
long weft_sym_fill_frames(sqlite3 *db, FILE *warn, char *err, size_t errlen);

/* Once frames are filled: every stack whose innermost frames are code of a
 * system header (a C++ program built without optimisation calls
 * pthread_mutex_lock from __gthread_mutex_lock, called from std::mutex::lock
 * and the std::lock_guard constructor, all in /usr/include/c++) begins at its
 * first frame that is not: depth 0 is the program's call site, which the
 * report's call sites and object names take. A stack all of whose frames are
 * such code is left whole. Returns the number of stacks trimmed, or -1 with a
 * message in err. */
long weft_sym_trim_stacks(sqlite3 *db, char *err, size_t errlen);

/* The data symbol (STT_OBJECT or TLS) containing rel_addr of module_path: a
 * global or static variable. *offset gets the address's offset inside it.
 * NULL if none (a heap or stack address, an unreadable module). */
const char *weft_sym_object(WeftSymbolizer *sym, const char *module_path, const char *build_id, uint64_t rel_addr,
                            uint64_t *offset);

/* Name every sync_object that has no name yet and lives in a global or static
 * variable of one of its process's modules: "queue_lock", or "pool+0x28"
 * for a lock inside a variable. Returns the number named, or -1. */
long weft_sym_name_objects(sqlite3 *db, char *err, size_t errlen);

#endif /* WEFT_SYMBOLIZE_H */
