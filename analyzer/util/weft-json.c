/* weft-json.c - the one JSON string escaper (weft-json.h).
 * SPDX-License-Identifier: MIT
 */
#include "weft-json.h"

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
    if (n == 0) esc = "\xef\xbf\xbd"; /* U+FFFD for the one byte */
    else if (c == '"') esc = "\\\"";
    else if (c == '\\') esc = "\\\\";
    else if (c == '\n') esc = "\\n";
    else if (c == '\t') esc = "\\t";
    else if (c == '\r') esc = "\\r";
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
