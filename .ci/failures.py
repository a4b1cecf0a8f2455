#!/usr/bin/env python3
""".ci/failures.py SUITE TESTLOG.json - one block per failed test: its name,
result and the last lines of its output, for the end of the CI log."""
import json
import sys

suite, path = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8", errors="replace") as f:
    for line in f:
        try:
            t = json.loads(line)
        except ValueError:
            continue
        if t.get("result") not in ("FAIL", "ERROR", "TIMEOUT", "UNEXPECTEDPASS"):
            continue
        print("--- %s: %s %s (%.0f s)" % (suite, t.get("name"), t.get("result"), t.get("duration", 0)))
        out = (t.get("stdout") or "") + (t.get("stderr") or "")
        lines = out.splitlines()
        keep = [l for l in lines if l.startswith("not ok") or "Traceback" in l or "Error" in l]
        for l in keep[:20]:
            print("  " + l[:300])
        print("  ... last lines:")
        for l in lines[-25:]:
            print("  " + l[:300])
