/* weft-units.h - times and sizes for people: format and parse durations
 * and ranges, format byte counts.
 * SPDX-License-Identifier: MIT
 *
 * The one parser of "1.5ms" and "A..B" for weft report, weft scale and
 * weft-gui, and the one formatter of durations and of sizes in their output.
 */
#ifndef WEFT_UNITS_H
#define WEFT_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* A duration for people, three significant digits, auto-scaled:
 * "850 ns", "12.3 µs", "1.23 ms", "2.00 s". Returns buf. */
const char *weft_format_ns(char *buf, size_t len, int64_t ns);

/* A size for people in decimal units, three significant digits:
 * "512 B", "12.3 kB", "134 MB", "2.15 GB". Returns buf. */
const char *weft_format_bytes(char *buf, size_t len, int64_t bytes);

/* Parse a time: a non-negative decimal number with an optional unit s, ms,
 * us (or µs) or ns; no unit means ns ("1.5s", "200ms", "30us", "1000").
 * Returns 0, or -1 on malformed or out-of-range input. */
int weft_parse_time(const char *s, int64_t *out_ns);

/* Parse a range "A..B" of two weft_parse_time times. With open_ends, either
 * side may be empty ("..3ms", "1s.."): *a is then INT64_MIN, *b INT64_MAX
 * (WEFT_TIME_OPEN_START/END of metrics.h). Both given: A < B. Returns 0, or
 * -1 on malformed input. */
int weft_parse_range(const char *s, int open_ends, int64_t *a, int64_t *b);

#endif /* WEFT_UNITS_H */
