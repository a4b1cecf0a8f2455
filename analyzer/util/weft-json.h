/* weft-json.h - the one JSON string escaper of weft, and a streaming writer
 * built on it.
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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Receives the quoted string in pieces. */
typedef void (*WeftJsonSink)(void *sink, const char *s, size_t n);

/* s as a JSON string literal, quotes included, given to put in pieces. */
void weft_json_quote(const char *s, WeftJsonSink put, void *sink);

/* The same written to a stream, and appended to a GString. */
void weft_json_write(FILE *f, const char *s);
void weft_json_append(GString *out, const char *s);

/* A streaming writer: a document written value by value, the commas and
 * the layout done here. Pretty: each member or element on its own line,
 * indented two spaces a level, "key": value (weft report). Compact: no
 * whitespace, "key":value, but where weft_json_break() asks for a line
 * break (weft scale). A document ends with a newline once its outermost
 * object or array is closed. Strings go through weft_json_quote.
 *
 *   WeftJsonWriter w;
 *   weft_json_writer_file(&w, stdout, true);
 *   weft_json_begin_object(&w);
 *   weft_json_key(&w, "threads");
 *   weft_json_int(&w, 4);
 *   weft_json_end_object(&w);          // {\n  "threads": 4\n}\n
 */
typedef struct {
  WeftJsonSink put;
  void *sink;
  bool pretty;
  int depth;  /* objects and arrays open */
  bool first; /* nothing written yet in the innermost one */
  bool keyed; /* a key was written: its value comes next */
  int brk;    /* a line break and this many spaces before the next member or end; -1 none */
} WeftJsonWriter;

void weft_json_writer_init(WeftJsonWriter *w, WeftJsonSink put, void *sink, bool pretty);
void weft_json_writer_file(WeftJsonWriter *w, FILE *f, bool pretty);
void weft_json_writer_gstring(WeftJsonWriter *w, GString *out, bool pretty);

void weft_json_begin_object(WeftJsonWriter *w);
void weft_json_end_object(WeftJsonWriter *w);
void weft_json_begin_array(WeftJsonWriter *w);
void weft_json_end_array(WeftJsonWriter *w);
/* The key of the next value, inside an object. */
void weft_json_key(WeftJsonWriter *w, const char *key);

/* Values: a string (NULL is "", as weft_json_quote writes it), integers, a
 * double printed with fmt (a printf format for one double, "%.6g"; JSON has
 * no NaN or infinity: those are null), true/false, null. */
void weft_json_string(WeftJsonWriter *w, const char *s);
void weft_json_int(WeftJsonWriter *w, int64_t v);
void weft_json_uint(WeftJsonWriter *w, uint64_t v);
void weft_json_double(WeftJsonWriter *w, const char *fmt, double v);
void weft_json_bool(WeftJsonWriter *w, bool b);
void weft_json_null(WeftJsonWriter *w);

/* A line break and indent spaces before the next member, element or end
 * (after the comma that separates it), for a compact layout that keeps the
 * lines a reader looks for. */
void weft_json_break(WeftJsonWriter *w, int indent);

#endif /* WEFT_JSON_H */
