/* weft.h - tell weft what your program's locks and phases are called.
 * SPDX-License-Identifier: MIT
 *
 * Header only, nothing to link: the functions are weak references that
 * libweft-agent.so defines. Without the agent every call is a test of a null
 * pointer and nothing else, so the calls can stay in production builds.
 *
 *   #include <weft.h>
 *   static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
 *   weft_name(&queue_lock, "work queue");        // reports say "work queue"
 *   weft_phase_begin(1, "parse");                 // a region of the run
 *   ...
 *   weft_phase_end(1);
 *   weft_mark("checkpoint written");              // an instant
 *   weft_thread_name("decoder 3");                // this thread, in the recording
 *
 * From Python (ctypes), the same names are found in the process when the
 * agent is loaded:
 *   import ctypes
 *   lib = ctypes.CDLL(None)
 *   name = getattr(lib, "weft_name_object", None)   # None without the agent
 *   if name: name(ctypes.c_void_p(addr), b"work queue")
 */
#ifndef WEFT_H
#define WEFT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Implemented by libweft-agent.so (weak: NULL when the agent is not loaded). */
extern void weft_name_object(const void *object, const char *name) __attribute__((weak));
extern void weft_mark_begin(uint64_t id, const char *label) __attribute__((weak));
extern void weft_mark_end(uint64_t id) __attribute__((weak));
extern void weft_mark_instant(const char *label) __attribute__((weak));
extern void weft_name_thread(const char *name) __attribute__((weak));

/* Name a mutex, rwlock, spinlock, condition variable, barrier or semaphore. */
static inline void weft_name(const void *object, const char *name) {
  if (weft_name_object) weft_name_object(object, name);
}

/* Begin and end a phase (a region the reports analyse on its own: load
 * balance, contention). id pairs a begin with its end on the same thread. */
static inline void weft_phase_begin(uint64_t id, const char *label) {
  if (weft_mark_begin) weft_mark_begin(id, label);
}
static inline void weft_phase_end(uint64_t id) {
  if (weft_mark_end) weft_mark_end(id);
}

/* Name the calling thread in the recording (any length; the OS name, which
 * pthread_setname_np sets and weft also records, is unchanged). */
static inline void weft_thread_name(const char *name) {
  if (weft_name_thread) weft_name_thread(name);
}

/* An instant worth seeing on the timeline. */
static inline void weft_mark(const char *label) {
  if (weft_mark_instant) weft_mark_instant(label);
}

#ifdef __cplusplus
}
#endif

#endif /* WEFT_H */
