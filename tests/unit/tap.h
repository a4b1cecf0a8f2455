/* tap.h - the few lines of TAP the unit tests print (meson runs them with protocol: 'tap').
 * SPDX-License-Identifier: MIT
 *
 * ok(cond, fmt, ...) prints "ok N - ..." or "not ok N - ..." and returns cond;
 * a test ends with tap_done(), which prints the plan "1..N" and returns the
 * exit status (1 if anything failed).
 */
#ifndef WEFT_TAP_H
#define WEFT_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int ntest, nfail;

static int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static int ok(int cond, const char *fmt, ...) {
  char msg[8192];
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  printf("%sok %d - ", cond ? "" : "not ", ++ntest);
  for (const char *p = msg; *p; p++) /* (a message's further lines as TAP comments) */
    fputs(*p == '\n' ? "\n# " : (char[]){*p, 0}, stdout);
  if (len >= (int)sizeof msg) printf("\n# (the message went on past %zu bytes)", sizeof msg - 1);
  printf("\n");
  if (!cond) nfail++;
  fflush(stdout);
  return cond;
}

#endif /* WEFT_TAP_H */
