/* sys-inline-probe.h - test-symbolize's stand-in for a system header: an
 * inline function that the compiler says comes from /usr/include (as
 * std::mutex::lock comes from /usr/include/c++/12/bits/std_mutex.h), so that
 * the symbolizer must name the call site it was inlined into.
 * SPDX-License-Identifier: MIT
 */
#line 1 "/usr/include/weft-test/sys-inline.h"
static inline __attribute__((always_inline)) void *sys_inline_probe(void) {
  void *ra = probe_return_address();
  __asm__ volatile("" ::: "memory");
  return ra;
}
