/* weft-json.c - the one JSON string escaper and the streaming writer
 * (weft-json.h).
 * SPDX-License-Identifier: MIT
 */
#include "weft-json.h"

#include <math.h>
#include <string.h>

/* The length of the well-formed UTF-8 sequence at p (2 to 4), or 0 if the
 * byte at p (>= 0x80) does not start one: a continuation byte, an overlong
 * form, a surrogate, a code point above U+10FFFF, or a sequence cut short. */
static size_t utf8_len(const unsigned char *p) {
  unsigned c = p[0];
  size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
  for (size_t i = 1; i < n; i++) /* a NUL ends the string: never read past it */
    if ((p[i] & 0xc0) != 0x80) return 0;
  if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))) return 0;
  if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))) return 0;
  return n;
}

void weft_json_quote(const char *s, WeftJsonSink put, void *sink) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  const unsigned char *run = p; /* bytes that go out as they are, from here to p */
  put(sink, "\"", 1);
  while (*p) {
    unsigned c = *p;
    size_t n = c < 0x80 ? 1 : utf8_len(p);
    const char *esc = NULL;
    char u[7];
    if (n == 0)
      esc = "\xef\xbf\xbd"; /* U+FFFD for the one byte */
    else if (c == '"')
      esc = "\\\"";
    else if (c == '\\')
      esc = "\\\\";
    else if (c == '\n')
      esc = "\\n";
    else if (c == '\t')
      esc = "\\t";
    else if (c == '\r')
      esc = "\\r";
    else if (c < 0x20 || c == 0x7f) {
      u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = 0;
      esc = u;
    }
    if (!esc) {
      p += n;
      continue;
    }
    if (p > run) put(sink, (const char *)run, (size_t)(p - run));
    put(sink, esc, strlen(esc));
    p += n ? n : 1;
    run = p;
  }
  if (p > run) put(sink, (const char *)run, (size_t)(p - run));
  put(sink, "\"", 1);
}

static void put_file(void *sink, const char *s, size_t n) { fwrite(s, 1, n, sink); }

static void put_gstring(void *sink, const char *s, size_t n) { g_string_append_len(sink, s, (gssize)n); }

void weft_json_write(FILE *f, const char *s) { weft_json_quote(s, put_file, f); }

void weft_json_append(GString *out, const char *s) { weft_json_quote(s, put_gstring, out); }

/* ------------------------------------------------------------ the writer */

void weft_json_writer_init(WeftJsonWriter *w, WeftJsonSink put, void *sink, bool pretty) {
  *w = (WeftJsonWriter){.put = put, .sink = sink, .pretty = pretty, .first = true, .brk = -1};
}

void weft_json_writer_file(WeftJsonWriter *w, FILE *f, bool pretty) { weft_json_writer_init(w, put_file, f, pretty); }

void weft_json_writer_gstring(WeftJsonWriter *w, GString *out, bool pretty) {
  weft_json_writer_init(w, put_gstring, out, pretty);
}

static void put_str(WeftJsonWriter *w, const char *s) { w->put(w->sink, s, strlen(s)); }

/* A newline and n spaces. */
static void newline(WeftJsonWriter *w, int n) {
  static const char spaces[] = "                                ";
  w->put(w->sink, "\n", 1);
  for (; n > 0; n -= (int)sizeof spaces - 1)
    w->put(w->sink, spaces, n < (int)sizeof spaces - 1 ? (size_t)n : sizeof spaces - 1);
}

static void pending_break(WeftJsonWriter *w) {
  if (w->brk < 0) return;
  newline(w, w->brk);
  w->brk = -1;
}

/* What goes before a key, or a value that has none: the comma and the
 * layout. Nothing between a key and its value. */
static void member(WeftJsonWriter *w) {
  if (w->keyed) {
    w->keyed = false;
    return;
  }
  if (w->depth > 0) {
    if (!w->first) w->put(w->sink, ",", 1);
    if (w->pretty) newline(w, w->depth * 2);
  }
  pending_break(w);
  w->first = false;
}

static void begin(WeftJsonWriter *w, const char *c) {
  member(w);
  put_str(w, c);
  w->depth++;
  w->first = true;
}

static void end(WeftJsonWriter *w, const char *c) {
  w->depth--;
  if (w->pretty && !w->first) newline(w, w->depth * 2);
  pending_break(w);
  put_str(w, c);
  w->first = false;
  if (w->depth == 0) w->put(w->sink, "\n", 1);
}

void weft_json_begin_object(WeftJsonWriter *w) { begin(w, "{"); }
void weft_json_end_object(WeftJsonWriter *w) { end(w, "}"); }
void weft_json_begin_array(WeftJsonWriter *w) { begin(w, "["); }
void weft_json_end_array(WeftJsonWriter *w) { end(w, "]"); }

void weft_json_key(WeftJsonWriter *w, const char *key) {
  member(w);
  weft_json_quote(key, w->put, w->sink);
  put_str(w, w->pretty ? ": " : ":");
  w->keyed = true;
}

void weft_json_string(WeftJsonWriter *w, const char *s) {
  member(w);
  weft_json_quote(s, w->put, w->sink);
}

void weft_json_int(WeftJsonWriter *w, int64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "%lld", (long long)v);
  member(w);
  put_str(w, buf);
}

void weft_json_uint(WeftJsonWriter *w, uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
  member(w);
  put_str(w, buf);
}

void weft_json_double(WeftJsonWriter *w, const char *fmt, double v) {
  char buf[64];
  if (isfinite(v)) snprintf(buf, sizeof buf, fmt, v);
  member(w);
  put_str(w, isfinite(v) ? buf : "null");
}

void weft_json_bool(WeftJsonWriter *w, bool b) {
  member(w);
  put_str(w, b ? "true" : "false");
}

void weft_json_null(WeftJsonWriter *w) {
  member(w);
  put_str(w, "null");
}

void weft_json_break(WeftJsonWriter *w, int indent) { w->brk = indent; }
