/* weft-json.h - the one JSON string escaper of weft.
 * SPDX-License-Identifier: MIT
 *
 * Every JSON weft writes (weft report --format json, weft export, weft scale,
 * weft-gui --dump) quotes its strings here, so that they follow one rule.
 * Names come from the traced programs (thread names, executables, file
 * names) and need not be UTF-8, while JSON text must be: each byte that does
 * not start a well-formed UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) is written as U+FFFD, and parsing goes
 * on at the next byte. Quotes, backslashes and the control characters
 * (U+0000..U+001F and DEL) are escaped; NULL is written as "".
 */
#ifndef WEFT_JSON_H
#define WEFT_JSON_H

#include <glib.h>
#include <stddef.h>
#include <stdio.h>

/* Receives the quoted string in pieces. */
typedef void (*WeftJsonSink)(void *sink, const char *s, size_t n);

/* s as a JSON string literal, quotes included, given to put in pieces. */
void weft_json_quote(const char *s, WeftJsonSink put, void *sink);

/* The same written to a stream, and appended to a GString. */
void weft_json_write(FILE *f, const char *s);
void weft_json_append(GString *out, const char *s);

#endif /* WEFT_JSON_H */
