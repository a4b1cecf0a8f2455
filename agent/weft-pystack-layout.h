/* weft-pystack-layout.h - where CPython 3.8 to 3.13 keep a thread's frames.
 * SPDX-License-Identifier: MIT
 *
 * The byte offsets (LP64, x86-64 Linux builds) of the few fields the agent
 * reads to walk a thread's Python frames (weft-pystack.c), one row per minor
 * version. They come from each version's headers, internal ones included;
 * tests/unit/pystack-layout-probe.c compiles against every pyenv version
 * present and checks each row with offsetof, so a row cannot silently be
 * wrong. At run time the first walks of a process read through
 * process_vm_readv and check the types they find (frame, code, str and bytes
 * objects) before the agent trusts the row with plain loads.
 *
 * Shared by the agent and that test only: no other include.
 */
#ifndef WEFT_PYSTACK_LAYOUT_H
#define WEFT_PYSTACK_LAYOUT_H

#include <stdint.h>

/* How to reach the innermost frame and go outwards. */
enum {
  WEFT_PYW_FRAMEOBJ = 1, /* 3.8-3.10: tstate->frame, PyFrameObject f_back / f_code / f_lasti */
  WEFT_PYW_CFRAME = 2,   /* 3.11-3.12: tstate->cframe->current_frame, _PyInterpreterFrame */
  WEFT_PYW_TSTATE = 3,   /* 3.13: tstate->current_frame, _PyInterpreterFrame */
};

/* The line table's format. */
enum {
  WEFT_PYL_LNOTAB = 1,    /* 3.8-3.9 co_lnotab: (bytes, signed lines) pairs */
  WEFT_PYL_PAIRS310 = 2,  /* 3.10 co_linetable: (bytes, signed lines; -128 no line) pairs */
  WEFT_PYL_LOCATIONS = 3, /* 3.11+ co_linetable: the location table (varint entries) */
};

#define WEFT_PY_NONE 0xffffu /* a field this version does not have */

typedef struct {
  uint8_t minor;              /* 3.minor */
  uint8_t walk;               /* WEFT_PYW_* */
  uint8_t lines;              /* WEFT_PYL_* */
  uint8_t lasti_unit;         /* WEFT_PYW_FRAMEOBJ: bytes per unit of f_lasti (1: bytes, 2: code units) */
  uint8_t owner_cstack;       /* _PyInterpreterFrame owner of a C-stack shim frame (0xff: none) */
  uint16_t ts_frame;          /* PyThreadState: frame, cframe or current_frame */
  uint16_t cf_current;        /* _PyCFrame: current_frame */
  uint16_t fr_back;           /* frame: f_back or previous */
  uint16_t fr_code;           /* frame: f_code or f_executable */
  uint16_t fr_instr;          /* frame: f_lasti (int), prev_instr or instr_ptr (pointers) */
  uint16_t fr_owner;          /* _PyInterpreterFrame: owner (char) */
  uint16_t co_filename;       /* PyCodeObject: co_filename */
  uint16_t co_name;           /* co_name */
  uint16_t co_qualname;       /* co_qualname (3.11+) */
  uint16_t co_firstlineno;    /* co_firstlineno (int) */
  uint16_t co_lines;          /* co_lnotab (3.8-3.9) or co_linetable */
  uint16_t co_code;           /* co_code_adaptive: the instructions (3.11+) */
  uint16_t co_firsttraceable; /* _co_firsttraceable: frames before it are still being set up (3.11+) */
  uint16_t str_ascii_size;    /* sizeof(PyASCIIObject): a compact ASCII str's characters follow */
  uint16_t str_compact_size;  /* sizeof(PyCompactUnicodeObject): another compact str's characters follow */
} WeftPyLayout;

/* The same in every version: */
#define WEFT_PY_OB_TYPE         8u                 /* PyObject: ob_type */
#define WEFT_PY_VAR_SIZE        16u                /* PyVarObject: ob_size */
#define WEFT_PY_BYTES_DATA      32u                /* PyBytesObject: ob_sval */
#define WEFT_PY_STR_LENGTH      16u                /* PyASCIIObject: length (code points) */
#define WEFT_PY_STR_STATE       32u                /* PyASCIIObject: state (bit field, below) */
#define WEFT_PY_STR_KIND(st)    (((st) >> 2) & 7u) /* 1, 2 or 4 bytes a character */
#define WEFT_PY_STR_COMPACT     0x20u
#define WEFT_PY_STR_ASCII       0x40u
#define WEFT_PY_STR_READY       0x80u /* 3.8-3.11 only (3.12 has another bit there) */
#define WEFT_PY_OWNER_GENERATOR 1u

/* (a table, one row a version side by side: kept as written) */
/* clang-format off */
static const WeftPyLayout weft_py_layouts[] = {
  /* minor walk lines unit cstack ts  cf  back code instr owner  file name qual first lines code trace asc cmp */
  {8, WEFT_PYW_FRAMEOBJ, WEFT_PYL_LNOTAB, 1, 0xff, 24, WEFT_PY_NONE, 24, 32, 104, WEFT_PY_NONE,
   104, 112, WEFT_PY_NONE, 40, 120, WEFT_PY_NONE, WEFT_PY_NONE, 48, 72},
  {9, WEFT_PYW_FRAMEOBJ, WEFT_PYL_LNOTAB, 1, 0xff, 24, WEFT_PY_NONE, 24, 32, 104, WEFT_PY_NONE,
   104, 112, WEFT_PY_NONE, 40, 120, WEFT_PY_NONE, WEFT_PY_NONE, 48, 72},
  {10, WEFT_PYW_FRAMEOBJ, WEFT_PYL_PAIRS310, 2, 0xff, 24, WEFT_PY_NONE, 24, 32, 96, WEFT_PY_NONE,
   104, 112, WEFT_PY_NONE, 40, 120, WEFT_PY_NONE, WEFT_PY_NONE, 48, 72},
  {11, WEFT_PYW_CFRAME, WEFT_PYL_LOCATIONS, 0, 0xff, 56, 8, 48, 32, 56, 69,
   112, 120, 128, 72, 136, 184, 168, 48, 72},
  {12, WEFT_PYW_CFRAME, WEFT_PYL_LOCATIONS, 0, 3, 56, 0, 8, 0, 56, 70,
   112, 120, 128, 68, 136, 192, 176, 40, 56},
  {13, WEFT_PYW_TSTATE, WEFT_PYL_LOCATIONS, 0, 3, 72, WEFT_PY_NONE, 8, 0, 56, 70,
   112, 120, 128, 68, 136, 200, 184, 40, 56},
};
/* clang-format on */

/* 3.13: the start of _Py_DebugOffsets, the first field of _PyRuntime (every
 * field a uint64_t), to check the row above against the running interpreter. */
typedef struct {
  char cookie[8];   /* "xdebugpy" */
  uint64_t version; /* PY_VERSION_HEX */
  uint64_t free_threaded;
  uint64_t runtime_state[3];
  uint64_t interpreter_state[13];
  struct {
    uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id, datastack_chunk, status;
  } thread_state;
  struct {
    uint64_t size, previous, executable, instr_ptr, localsplus, owner;
  } interpreter_frame;
  struct {
    uint64_t size, filename, name, qualname, linetable, firstlineno, argcount, localsplusnames, localspluskinds,
        co_code_adaptive;
  } code_object;
  uint64_t pyobject[2], type_object[4], tuple_object[3], list_object[3], dict_object[3], float_object[2],
      long_object[3];
  struct {
    uint64_t size, ob_size, ob_sval;
  } bytes_object;
  struct {
    uint64_t size, state, length, asciiobject_size;
  } unicode_object;
} WeftPyDebugOffsets313;

#endif /* WEFT_PYSTACK_LAYOUT_H */
