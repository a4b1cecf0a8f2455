/* weft-api.c - the functions of the public header weft.h.
 * SPDX-License-Identifier: MIT
 *
 * Async-signal-safe like every record: no locks, no allocation. Strings are
 * clipped at 1500 bytes.
 */
#include "weft-agent-private.h"

WEFT_PUBLIC void weft_name_object(const void *object, const char *name);
WEFT_PUBLIC void weft_mark_begin(uint64_t id, const char *label);
WEFT_PUBLIC void weft_mark_end(uint64_t id);
WEFT_PUBLIC void weft_mark_instant(const char *label);
WEFT_PUBLIC void weft_name_thread(const char *name);

WEFT_PUBLIC void weft_name_object(const void *object, const char *name) {
  if (!object || !name || !weft_on()) return;
  int e = errno;
  uint64_t w = (uint64_t)(uintptr_t)object;
  _weft_emit_str(WEFT_EV_NAME_OBJECT, 0, &w, 1, name, NULL);
  errno = e;
}

static void mark(unsigned how, uint64_t id, const char *label) {
  if (!weft_on()) return;
  int e = errno;
  _weft_emit_str(WEFT_EV_MARK, how, &id, 1, label ? label : "", NULL);
  errno = e;
}

WEFT_PUBLIC void weft_mark_begin(uint64_t id, const char *label) { mark(WEFT_MARK_BEGIN, id, label); }
WEFT_PUBLIC void weft_mark_end(uint64_t id) { mark(WEFT_MARK_END, id, NULL); }
WEFT_PUBLIC void weft_mark_instant(const char *label) { mark(WEFT_MARK_INSTANT, 0, label); }

/* The calling thread's name in the recording only (THREAD_NAME with pthread
 * 0: the caller), not the OS's: `weft record` names Python threads this way. */
WEFT_PUBLIC void weft_name_thread(const char *name) {
  if (!name || !weft_on()) return;
  int e = errno;
  uint64_t w = 0;
  _weft_emit_str(WEFT_EV_THREAD_NAME, 0, &w, 1, name, NULL);
  errno = e;
}
