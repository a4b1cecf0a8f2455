/* weft-units.c - times for people (weft-units.h).
 * SPDX-License-Identifier: MIT
 */
#include "weft-units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *weft_format_ns(char *buf, size_t len, int64_t ns) {
  static const struct {
    const char *unit;
    double scale;
  } u[] = {{"s", 1e9}, {"ms", 1e6}, {"µs", 1e3}};
  const char *sign = ns < 0 ? "-" : "";
  double v = ns < 0 ? -(double)ns : (double)ns;
  if (v < 999.5) {
    snprintf(buf, len, "%s%.0f ns", sign, v);
    return buf;
  }
  for (size_t i = 0; i < sizeof u / sizeof u[0]; i++) {
    double x = v / u[i].scale;
    /* round first so that 999.96 ms prints as 1.00 s, not 1000 ms */
    if (x >= 0.9995 || i == 2) {
      if (x < 9.995)
        snprintf(buf, len, "%s%.2f %s", sign, x, u[i].unit);
      else if (x < 99.95)
        snprintf(buf, len, "%s%.1f %s", sign, x, u[i].unit);
      else
        snprintf(buf, len, "%s%.0f %s", sign, x, u[i].unit);
      return buf;
    }
  }
  return buf; /* not reached */
}

const char *weft_format_bytes(char *buf, size_t len, int64_t bytes) {
  static const char *unit[] = {"B", "kB", "MB", "GB", "TB", "PB"};
  double v = bytes < 0 ? 0 : (double)bytes;
  size_t i = 0;
  /* round first so that 999.96 kB prints as 1.00 MB */
  while (v >= 999.5 && i + 1 < sizeof unit / sizeof unit[0]) {
    v /= 1000.0;
    i++;
  }
  if (i == 0 || v >= 99.95)
    snprintf(buf, len, "%.0f %s", v, unit[i]);
  else if (v >= 9.995)
    snprintf(buf, len, "%.1f %s", v, unit[i]);
  else
    snprintf(buf, len, "%.2f %s", v, unit[i]);
  return buf;
}

int weft_parse_time(const char *s, int64_t *out_ns) {
  if (!s || !*s) return -1;
  errno = 0;
  char *end;
  /* digits and one optional dot only: no sign, exponent, hex, inf or nan */
  size_t i = 0, digits = 0, dots = 0;
  for (; s[i] && (s[i] == '.' || (s[i] >= '0' && s[i] <= '9')); i++) {
    if (s[i] == '.')
      dots++;
    else
      digits++;
  }
  if (!digits || dots > 1) return -1;
  double v = strtod(s, &end);
  if (errno || end != s + i) return -1;
  double scale;
  if (!strcmp(end, "") || !strcmp(end, "ns"))
    scale = 1;
  else if (!strcmp(end, "us") || !strcmp(end, "µs"))
    scale = 1e3;
  else if (!strcmp(end, "ms"))
    scale = 1e6;
  else if (!strcmp(end, "s"))
    scale = 1e9;
  else
    return -1;
  double ns = v * scale;
  if (!(ns >= 0) || ns >= 9.2e18) return -1;
  *out_ns = (int64_t)(ns + 0.5);
  return 0;
}

int weft_parse_range(const char *s, int open_ends, int64_t *a, int64_t *b) {
  const char *dots = s ? strstr(s, "..") : NULL;
  if (!dots) return -1;
  char lhs[64];
  size_t n = (size_t)(dots - s);
  if (n >= sizeof lhs) return -1;
  memcpy(lhs, s, n);
  lhs[n] = '\0';
  const char *rhs = dots + 2;
  int64_t x = INT64_MIN, y = INT64_MAX;
  if ((*lhs || !open_ends) && weft_parse_time(lhs, &x) < 0) return -1;
  if ((*rhs || !open_ends) && weft_parse_time(rhs, &y) < 0) return -1;
  if (*lhs && *rhs && y <= x) return -1;
  *a = x;
  *b = y;
  return 0;
}
