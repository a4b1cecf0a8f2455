/* pystack-layout-probe.c - checks agent/weft-pystack-layout.h against one
 * CPython's headers (internal ones included): every offset of the row for
 * this version, the constants shared by all versions, the str state bits and,
 * for 3.13, the mirror of _Py_DebugOffsets. Compiled and run once per Python
 * found by test_pystack_layout.py; prints TAP lines without a plan.
 * SPDX-License-Identifier: MIT
 */
#define Py_BUILD_CORE 1
#include <Python.h>
#include <frameobject.h>
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_frame.h"
#endif
#if PY_VERSION_HEX >= 0x030D0000
#include "internal/pycore_runtime.h"
#endif
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "weft-pystack-layout.h"

static int n;

static void eq(const char *what, size_t got, size_t want) {
  printf("%s %d - %s %s: %zu (headers: %zu)\n", got == want ? "ok" : "not ok", ++n, PY_VERSION, what, got, want);
}

/* The state bits set by one field of the bit field, as the agent reads them. */
#define STATE_BITS(field, value)                               \
  ({                                                           \
    PyASCIIObject a_;                                          \
    uint32_t st_ = 0;                                          \
    memset(&a_, 0, sizeof a_);                                 \
    a_.state.field = value;                                    \
    memcpy(&st_, (char *)&a_ + WEFT_PY_STR_STATE, sizeof st_); \
    st_;                                                       \
  })

int main(void) {
  const WeftPyLayout *L = NULL;
  for (size_t i = 0; i < sizeof weft_py_layouts / sizeof weft_py_layouts[0]; i++)
    if (weft_py_layouts[i].minor == PY_MINOR_VERSION) L = &weft_py_layouts[i];
  printf("%s %d - %s has a row\n", L ? "ok" : "not ok", ++n, PY_VERSION);
  if (!L) return 0;
#if PY_VERSION_HEX < 0x030B0000
  eq("walk", L->walk, WEFT_PYW_FRAMEOBJ);
  eq("tstate frame", L->ts_frame, offsetof(PyThreadState, frame));
  eq("f_back", L->fr_back, offsetof(PyFrameObject, f_back));
  eq("f_code", L->fr_code, offsetof(PyFrameObject, f_code));
  eq("f_lasti", L->fr_instr, offsetof(PyFrameObject, f_lasti));
  eq("lasti unit", L->lasti_unit, PY_VERSION_HEX >= 0x030A0000 ? 2 : 1);
  eq("line table format", L->lines, PY_VERSION_HEX >= 0x030A0000 ? WEFT_PYL_PAIRS310 : WEFT_PYL_LNOTAB);
#if PY_VERSION_HEX >= 0x030A0000
  eq("co_linetable", L->co_lines, offsetof(PyCodeObject, co_linetable));
#else
  eq("co_lnotab", L->co_lines, offsetof(PyCodeObject, co_lnotab));
#endif
  eq("no qualname", L->co_qualname, WEFT_PY_NONE);
#else
#if PY_VERSION_HEX < 0x030D0000
  eq("walk", L->walk, WEFT_PYW_CFRAME);
  eq("tstate cframe", L->ts_frame, offsetof(PyThreadState, cframe));
  eq("cframe current_frame", L->cf_current, offsetof(_PyCFrame, current_frame));
  eq("f_code", L->fr_code, offsetof(_PyInterpreterFrame, f_code));
  eq("prev_instr", L->fr_instr, offsetof(_PyInterpreterFrame, prev_instr));
#else
  eq("walk", L->walk, WEFT_PYW_TSTATE);
  eq("tstate current_frame", L->ts_frame, offsetof(PyThreadState, current_frame));
  eq("f_executable", L->fr_code, offsetof(_PyInterpreterFrame, f_executable));
  eq("instr_ptr", L->fr_instr, offsetof(_PyInterpreterFrame, instr_ptr));
#endif
  eq("previous", L->fr_back, offsetof(_PyInterpreterFrame, previous));
  eq("owner", L->fr_owner, offsetof(_PyInterpreterFrame, owner));
  eq("owner size", sizeof(((_PyInterpreterFrame *)0)->owner), 1);
  eq("generator owner", WEFT_PY_OWNER_GENERATOR, FRAME_OWNED_BY_GENERATOR);
#if PY_VERSION_HEX >= 0x030C0000
  eq("C stack owner", L->owner_cstack, FRAME_OWNED_BY_CSTACK);
#else
  eq("no C stack owner", L->owner_cstack, 0xff);
#endif
  eq("line table format", L->lines, WEFT_PYL_LOCATIONS);
  eq("co_linetable", L->co_lines, offsetof(PyCodeObject, co_linetable));
  eq("co_qualname", L->co_qualname, offsetof(PyCodeObject, co_qualname));
  eq("co_code_adaptive", L->co_code, offsetof(PyCodeObject, co_code_adaptive));
  eq("_co_firsttraceable", L->co_firsttraceable, offsetof(PyCodeObject, _co_firsttraceable));
  eq("code unit", sizeof(_Py_CODEUNIT), 2);
#endif
  eq("co_filename", L->co_filename, offsetof(PyCodeObject, co_filename));
  eq("co_name", L->co_name, offsetof(PyCodeObject, co_name));
  eq("co_firstlineno", L->co_firstlineno, offsetof(PyCodeObject, co_firstlineno));
  eq("ob_type", WEFT_PY_OB_TYPE, offsetof(PyObject, ob_type));
  eq("ob_size", WEFT_PY_VAR_SIZE, offsetof(PyVarObject, ob_size));
  eq("ob_sval", WEFT_PY_BYTES_DATA, offsetof(PyBytesObject, ob_sval));
  eq("str length", WEFT_PY_STR_LENGTH, offsetof(PyASCIIObject, length));
  eq("str state", WEFT_PY_STR_STATE, offsetof(PyASCIIObject, state));
  eq("sizeof(PyASCIIObject)", L->str_ascii_size, sizeof(PyASCIIObject));
  eq("sizeof(PyCompactUnicodeObject)", L->str_compact_size, sizeof(PyCompactUnicodeObject));
  eq("str kind bits", WEFT_PY_STR_KIND(STATE_BITS(kind, 4)), 4);
  eq("str compact bit", STATE_BITS(compact, 1), WEFT_PY_STR_COMPACT);
  eq("str ascii bit", STATE_BITS(ascii, 1), WEFT_PY_STR_ASCII);
#if PY_VERSION_HEX < 0x030C0000
  eq("str ready bit", STATE_BITS(ready, 1), WEFT_PY_STR_READY);
#endif
#if PY_VERSION_HEX >= 0x030D0000
  eq("debug offsets: thread_state.current_frame", offsetof(WeftPyDebugOffsets313, thread_state.current_frame),
     offsetof(_Py_DebugOffsets, thread_state.current_frame));
  eq("debug offsets: interpreter_frame.previous", offsetof(WeftPyDebugOffsets313, interpreter_frame.previous),
     offsetof(_Py_DebugOffsets, interpreter_frame.previous));
  eq("debug offsets: interpreter_frame.owner", offsetof(WeftPyDebugOffsets313, interpreter_frame.owner),
     offsetof(_Py_DebugOffsets, interpreter_frame.owner));
  eq("debug offsets: code_object.co_code_adaptive", offsetof(WeftPyDebugOffsets313, code_object.co_code_adaptive),
     offsetof(_Py_DebugOffsets, code_object.co_code_adaptive));
  eq("debug offsets: bytes_object.ob_sval", offsetof(WeftPyDebugOffsets313, bytes_object.ob_sval),
     offsetof(_Py_DebugOffsets, bytes_object.ob_sval));
  eq("debug offsets: unicode_object.asciiobject_size", offsetof(WeftPyDebugOffsets313, unicode_object.asciiobject_size),
     offsetof(_Py_DebugOffsets, unicode_object.asciiobject_size));
  eq("debug offsets: at the start of _PyRuntime", offsetof(_PyRuntimeState, debug_offsets), 0);
#endif
  return 0;
}
