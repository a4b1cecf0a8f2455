/* test-json.c - the one JSON string escaper (analyzer/util/weft-json.c): every
 * byte string comes out as a JSON string that is valid UTF-8, and the same
 * through the stream and the GString front ends; and the streaming writer's
 * two layouts (weft report's pretty one, weft scale's compact one).
 * SPDX-License-Identifier: MIT
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "weft-json.h"

/* s quoted through the GString front end; the stream one must agree. */
static char *quote(const char *s) {
  GString *g = g_string_new(NULL);
  weft_json_append(g, s);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  weft_json_write(f, s);
  fclose(f);
  int same = len == g->len && memcmp(buf, g->str, len) == 0;
  free(buf);
  if (!same) printf("# the stream and the GString differ for %s\n", g->str);
  return same ? g_string_free(g, FALSE) : (g_string_free(g, TRUE), g_strdup("(differ)"));
}

static void check(const char *in, const char *want, const char *what) {
  char *got = quote(in);
  ok(!strcmp(got, want) && g_utf8_validate(got, -1, NULL), "%s: %s", what, got);
  g_free(got);
}

/* One document through the writer, in the layout asked for. */
static void doc(WeftJsonWriter *w, bool breaks) {
  weft_json_begin_object(w);
  if (breaks) weft_json_break(w, 0);
  weft_json_key(w, "n");
  weft_json_int(w, -3);
  weft_json_key(w, "u");
  weft_json_uint(w, 18446744073709551615ull);
  if (breaks) weft_json_break(w, 2);
  weft_json_key(w, "list");
  weft_json_begin_array(w);
  weft_json_double(w, "%.6g", 0.5);
  weft_json_double(w, "%.6g", NAN);
  weft_json_string(w, "bad\xff");
  weft_json_string(w, NULL);
  weft_json_bool(w, true);
  weft_json_null(w);
  weft_json_begin_object(w);
  weft_json_end_object(w);
  weft_json_begin_array(w);
  weft_json_end_array(w);
  weft_json_end_array(w);
  weft_json_key(w, "k\"q");
  weft_json_bool(w, false);
  if (breaks) weft_json_break(w, 0);
  weft_json_end_object(w);
}

static void check_writer(bool pretty, const char *want, const char *what) {
  GString *g = g_string_new(NULL);
  WeftJsonWriter w;
  weft_json_writer_gstring(&w, g, pretty);
  doc(&w, !pretty);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  weft_json_writer_file(&w, f, pretty);
  doc(&w, !pretty);
  fclose(f);
  ok(!strcmp(g->str, want) && len == g->len && !memcmp(buf, g->str, len), "%s:\n%s", what, g->str);
  free(buf);
  g_string_free(g, TRUE);
}

int main(void) {
  check(NULL, "\"\"", "NULL is the empty string");
  check("plain ascii", "\"plain ascii\"", "printable ASCII as it is");
  check("q\"b\\s/", "\"q\\\"b\\\\s/\"", "quote and backslash escaped");
  check("\n\t\r\x01\x1f\x7f", "\"\\n\\t\\r\\u0001\\u001f\\u007f\"", "control characters and DEL escaped");
  check("caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80\"",
        "well-formed UTF-8 of 2, 3 and 4 bytes kept");
  check("w\xff\xfex", "\"w\xef\xbf\xbd\xef\xbf\xbdx\"", "each invalid byte is one U+FFFD (w\\xff\\xfex)");
  check("caf\xe9", "\"caf\xef\xbf\xbd\"", "a Latin-1 byte at the end");
  check("\xe9t\xe9", "\"\xef\xbf\xbdt\xef\xbf\xbd\"", "Latin-1 bytes before ASCII");
  check("\x80q", "\"\xef\xbf\xbdq\"", "a lone continuation byte");
  check("\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"", "an overlong '/' (C0 AF)");
  check("\xe0\x80\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "an overlong 3-byte form");
  check("\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "a UTF-16 surrogate (ED A0 80)");
  check("\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "above U+10FFFF");
  check("\xe2\x9c", "\"\xef\xbf\xbd\xef\xbf\xbd\"", "a sequence cut short by the end of the string");
  check("\xe2\x9c\"", "\"\xef\xbf\xbd\xef\xbf\xbd\\\"\"", "a sequence cut short by a quote, which is escaped");
  check_writer(true,
               "{\n  \"n\": -3,\n  \"u\": 18446744073709551615,\n  \"list\": [\n    0.5,\n    null,\n"
               "    \"bad\xef\xbf\xbd\",\n    \"\",\n    true,\n    null,\n    {},\n    []\n  ],\n"
               "  \"k\\\"q\": false\n}\n",
               "pretty: two spaces a level, a comma before each later member, empty ones closed at once");
  check_writer(
      false,
      "{\n\"n\":-3,\"u\":18446744073709551615,\n  \"list\":[0.5,null,\"bad\xef\xbf\xbd\",\"\",true,null,{},[]],"
      "\"k\\\"q\":false\n}\n",
      "compact: no whitespace but the line breaks asked for");
  printf("1..%d\n", ntest);
  return nfail ? 1 : 0;
}
