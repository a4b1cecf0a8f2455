#!/usr/bin/env python3
# embed-sql.py - turn schema.sql into a C string (weft_schema_sql) at build time.
# SPDX-License-Identifier: MIT
import sys

src, dst = sys.argv[1], sys.argv[2]
text = open(src, encoding="utf-8").read()
with open(dst, "w", encoding="utf-8") as out:
    out.write("/* generated from schema.sql by embed-sql.py: do not edit */\n")
    out.write("const char weft_schema_sql[] =\n")
    for line in text.splitlines():
        out.write('  "%s\\n"\n' % line.replace("\\", "\\\\").replace('"', '\\"'))
    out.write(";\n")
