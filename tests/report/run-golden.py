#!/usr/bin/env python3
# run-golden.py - golden tests of `weft report` on a fixed recording, TAP output.
# SPDX-License-Identifier: MIT
#
# usage: run-golden.py --weft WEFT --mkdb REPORT-MKDB --golden DIR [--update]
#
# Builds the recording of mkdb.c in a temporary directory, runs `weft report`
# on it with each case's arguments and compares the output byte for byte with
# DIR/<case> (a diff is printed as TAP diagnostics on a mismatch). Every JSON
# output must also parse (python3 -m json.tool) and carry weft_report_version
# 1. --update rewrites the golden files instead (review them with git diff).
import argparse
import json
import os
import subprocess
import sys
import tempfile
import difflib

CASES = [
    ('golden.txt', []),
    ('golden.json', ['--format', 'json']),
    ('golden.md', ['--format', 'markdown']),
    ('golden-range.txt', ['--range', '150ms..400ms', '--top', '3']),
    ('golden-range.json', ['--format=json', '--range=150ms..400ms', '--top=3']),
    ('golden-process.md', ['--process', '4243', '--format', 'md']),
    ('golden-top1.txt', ['--top', '1', '--range', '..0.5s']),
    # contention first (mkdb --contended): counts and estimates from timed holds
    ('golden-contended.txt', ['--db', 'contended.db']),
    ('golden-contended.json', ['--db', 'contended.db', '--format', 'json']),
    ('golden-contended-range.json', ['--db', 'contended.db', '--format', 'json', '--range', '150ms..400ms']),
]


def by_name(doc, name):
    for o in doc.get('sync_objects', []):
        if o.get('name') == name:
            return o
    return {}


def check_contended(doc, ranged):
    """The figures of mkdb --contended, computed by hand (see mkdb.c)."""
    q = by_name(doc, 'queue_lock')
    if not ranged:
        want = {'acquisitions': 9, 'acquisitions_estimated': False, 'failed_tries': 2, 'holds': 5,
                'hold_ns': 70000000, 'holds_exact': False, 'hold_samples': 2, 'hold_sample_mean_ns': 4000000,
                'hold_sample_max_ns': 5000000, 'hold_total_est_ns': 86000000, 'hold_max_ns': 40000000}
    else:
        # 150..400 ms cuts every flush interval: worker-1 3 * 250/500, worker-2 4 * 250/658,
        # worker-3 2 * 250/696 = 3.74 acquisitions, and 1 * 250/500 + 1 * 250/658 = 0.88 timed holds
        want = {'acquisitions': 4, 'acquisitions_estimated': True, 'hold_samples': 1, 'holds_exact': False}
    got = {k: q.get(k) for k in want}
    ok(got == want, '%s: queue_lock by hand: %r' % ('range' if ranged else 'whole', want), repr(got))
    rw = [o for o in doc.get('sync_objects', []) if o.get('kind') == 'rwlock']
    if not ranged:
        ok(rw and rw[0].get('acquisitions') == 2 and rw[0].get('hold_total_est_ns') is None,
           'whole: the rwlock: 2 acquisitions, no timed hold: no estimate', repr(rw))
    ok(doc.get('recording', {}).get('holds') == 'contended', 'the recording says its holds are contended ones')

n = 0
failed = 0


def ok(cond, what, diag=None):
    global n, failed
    n += 1
    print(('ok' if cond else 'not ok') + ' %d - %s' % (n, what))
    if not cond:
        failed += 1
        for line in (diag or '').splitlines()[:80]:
            print('# ' + line)
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--weft', required=True)
    ap.add_argument('--mkdb', required=True)
    ap.add_argument('--golden', required=True)
    ap.add_argument('--update', action='store_true')
    a = ap.parse_args()
    # meson passes paths relative to the build directory; the runs below
    # happen in a temporary one
    a.weft, a.mkdb = os.path.abspath(a.weft), os.path.abspath(a.mkdb)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([a.mkdb, os.path.join(tmp, 'golden.db')], check=True)
        subprocess.run([a.mkdb, os.path.join(tmp, 'contended.db'), '--contended'], check=True)
        for name, args in CASES:
            db = 'golden.db'
            if args[:1] == ['--db']:
                db, args = args[1], args[2:]
            r = subprocess.run([a.weft, 'report', db] + args, cwd=tmp,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out = r.stdout.decode('utf-8')
            path = os.path.join(a.golden, name)
            if a.update:
                with open(path, 'w', encoding='utf-8') as f:
                    f.write(out)
            ok(r.returncode == 0 and not r.stderr,
               '%s: weft report %s exits 0, quietly' % (name, ' '.join(args)),
               r.stderr.decode('utf-8', 'replace'))
            try:
                with open(path, encoding='utf-8') as f:
                    want = f.read()
            except OSError as e:
                want = None
                ok(False, '%s: golden file' % name, str(e))
                continue
            diff = ''.join(difflib.unified_diff(want.splitlines(True), out.splitlines(True),
                                                'expected/' + name, 'actual/' + name))
            ok(out == want, '%s: output equals the golden file' % name, diff)
            if name.endswith('.json'):
                p = subprocess.run([sys.executable, '-m', 'json.tool'], input=r.stdout,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                ok(p.returncode == 0, '%s: python3 -m json.tool parses it' % name,
                   p.stderr.decode('utf-8', 'replace'))
                try:
                    doc = json.loads(out)
                except ValueError:
                    doc = {}
                ok(doc.get('weft_report_version') == 1, '%s: weft_report_version 1' % name)
                if 'contended' in name:
                    check_contended(doc, 'range' in name)
    print('1..%d' % n)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
