#!/usr/bin/env python3
# bench-import.py - time `weft import`, `weft report` and `weft check` on a synthetic recording.
# SPDX-License-Identifier: MIT
#
# Generates (or reuses from the work dir) a recording with gen-recording,
# imports it with `weft import DIR -o DB --quiet` (wall time, and the CPU time
# of the child from resource.getrusage(RUSAGE_CHILDREN)), reports events/s and
# database bytes per event (file size / records), times `weft report DB
# --format text` and `--format json` (output discarded), and runs `weft check
# DB`, which must pass. Prints the numbers next to the targets of DESIGN.md
# section 6. Exit status 0 unless a step fails (a target missed is reported,
# not a failure: the benchmarks do not gate).
#
#   python3 tests/bench/bench-import.py --weft build/analyzer/weft \
#       --gen build/tests/bench/gen-recording --workdir /tmp/bi --events 10000000
import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import time

TARGET_EVENTS_PER_S = 2_000_000
TARGET_DB_BYTES_PER_EVENT = 64
TARGET_REPORT_S = 3.0          # on 10 M events


def log(msg):
    print(msg, flush=True)


def file_digest(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for b in iter(lambda: f.read(1 << 20), b''):
            h.update(b)
    return h.hexdigest()[:12]


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime, r.ru_stime, r.ru_maxrss


def run_timed(cmd, timeout, stdout=subprocess.DEVNULL, check=True):
    """Run cmd; return (wall s, user s, sys s, completed process)."""
    u0, s0, _ = children_cpu()
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, timeout=timeout)
    wall = time.perf_counter() - t0
    u1, s1, _ = children_cpu()
    if check and p.returncode != 0:
        sys.stderr.write(p.stderr.decode(errors='replace'))
        raise SystemExit(f'bench-import: {" ".join(map(str, cmd))} exited with {p.returncode}')
    return wall, u1 - u0, s1 - s0, p


def recording(args):
    """The recording directory for these arguments: cached, or generated now."""
    key = f'{args.events}-{args.threads}-{args.processes}-{args.seed}-{file_digest(args.gen)}'
    d = os.path.join(args.workdir, f'bench-rec-{key}')
    meta = os.path.join(d, 'gen-recording.json')
    if os.path.exists(meta) and not args.regenerate:
        with open(meta) as f:
            info = json.load(f)
        log(f'recording: {d} (cached)')
        return d, info, None
    # drop older recordings of other keys with the same size (they are big)
    for n in os.listdir(args.workdir):
        if n.startswith(f'bench-rec-{args.events}-') and n != os.path.basename(d):
            shutil.rmtree(os.path.join(args.workdir, n), ignore_errors=True)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    cmd = [args.gen, '--events', str(args.events), '--threads', str(args.threads),
           '--processes', str(args.processes), '--seed', str(args.seed), '--json', d]
    wall, u, s, p = run_timed(cmd, args.timeout, stdout=subprocess.PIPE)
    info = json.loads(p.stdout)
    with open(meta, 'w') as f:
        json.dump(info, f)
    log(f'recording: {d} (generated in {wall:.1f} s)')
    return d, info, wall


def db_breakdown(db):
    """Bytes per table/index (dbstat), largest first; [] if dbstat is not compiled in."""
    try:
        con = sqlite3.connect(f'file:{db}?mode=ro', uri=True)
        rows = con.execute('SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC').fetchall()
        counts = {}
        for (name,) in con.execute("SELECT name FROM sqlite_schema WHERE type = 'table'"):
            try:
                counts[name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            except sqlite3.Error:
                pass
        con.close()
        return [(n, b, counts.get(n)) for n, b in rows]
    except sqlite3.Error:
        return []


def db_meta(db, key):
    con = sqlite3.connect(f'file:{db}?mode=ro', uri=True)
    r = con.execute('SELECT value FROM meta WHERE key = ?', (key,)).fetchone()
    con.close()
    return r[0] if r else None


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'{cpu}, {os.cpu_count()} CPUs, Linux {platform.release()}'


def loadavg():
    try:
        return ' '.join(open('/proc/loadavg').read().split()[:3])
    except OSError:
        return '?'


def main():
    ap = argparse.ArgumentParser(description='Time weft import, report and check on a synthetic recording.')
    ap.add_argument('--weft', required=True, help='the weft executable')
    ap.add_argument('--gen', required=True, help='the gen-recording executable')
    ap.add_argument('--workdir', required=True, help='where recordings and the database go')
    ap.add_argument('--events', type=int, default=10_000_000)
    ap.add_argument('--threads', type=int, default=64)
    ap.add_argument('--processes', type=int, default=1)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--regenerate', action='store_true', help='do not reuse a cached recording')
    ap.add_argument('--no-symbols', action='store_true', help='pass --no-symbols to weft import')
    ap.add_argument('--keep-db', action='store_true', help='keep the database (else it is removed at the end)')
    ap.add_argument('--report-reps', type=int, default=3, help='runs of each report format (the median counts)')
    ap.add_argument('--timeout', type=float, default=540, help='seconds allowed for each step')
    ap.add_argument('--json', help='also write the results to this file')
    args = ap.parse_args()
    args.weft = os.path.abspath(args.weft)
    args.gen = os.path.abspath(args.gen)
    os.makedirs(args.workdir, exist_ok=True)

    log(f'bench-import: {args.events} events, {args.threads} threads, {args.processes} process(es), '
        f'seed {args.seed}; {machine()}; load average {loadavg()}')
    rec, info, gen_s = recording(args)
    records = info['records']
    log(f'  {records} records, {info["file_bytes"]} trace bytes, {info["acquisitions"]} lock acquisitions '
        f'({100.0 * info["contended"] / max(1, info["acquisitions"]):.1f} % contended), '
        f'{info["cond_waits"]} cond waits, {info["barrier_rounds"]} barrier rounds')

    db = os.path.join(args.workdir, f'bench-import-{args.events}.db')
    for suffix in ('', '-wal', '-journal', '-shm'):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    cmd = [args.weft, 'import', rec, '-o', db, '--quiet'] + (['--no-symbols'] if args.no_symbols else [])
    imp_wall, imp_u, imp_s, _ = run_timed(cmd, args.timeout)
    imp_cpu = imp_u + imp_s
    db_bytes = sum(os.path.getsize(db + s) for s in ('', '-wal') if os.path.exists(db + s))
    db_records = db_meta(db, 'records')
    if db_records is not None and int(db_records) != records:
        log(f'  note: the database counts {db_records} records, the generator {records}')
    log(f'import: {imp_wall:.2f} s wall, {imp_cpu:.2f} s CPU ({imp_u:.2f} user + {imp_s:.2f} sys)')

    rep = {}
    for fmt in ('text', 'json'):
        runs = []
        for _ in range(args.report_reps):
            wall, u, s, _ = run_timed([args.weft, 'report', db, '--format', fmt], args.timeout)
            runs.append((wall, u + s))
        runs.sort()
        rep[fmt] = runs[len(runs) // 2]   # the median by wall time
        log(f'report --format {fmt}: median {rep[fmt][0]:.2f} s wall, {rep[fmt][1]:.2f} s CPU '
            f'(walls: {", ".join(f"{w:.2f}" for w, _ in runs)})')
    chk_wall, chk_u, chk_s, chk = run_timed([args.weft, 'check', db], args.timeout, stdout=subprocess.PIPE,
                                             check=False)
    check_ok = chk.returncode == 0
    log(f'check: {"passed" if check_ok else "FAILED"} in {chk_wall:.2f} s')
    if not check_ok:
        sys.stdout.write(chk.stdout.decode(errors='replace'))
        sys.stderr.write(chk.stderr.decode(errors='replace'))

    breakdown = db_breakdown(db)
    if breakdown:
        log('database by table and index (dbstat):')
        log(f'  {"name":<28} {"bytes":>14} {"B/event":>9} {"rows":>12}')
        for name, b, n in breakdown:
            log(f'  {name:<28} {b:>14,} {b / records:>9.2f} {"" if n is None else f"{n:,}":>12}')

    ev_s_wall = records / imp_wall
    ev_s_cpu = records / imp_cpu if imp_cpu > 0 else float('inf')
    bpe = db_bytes / records
    scale = '' if args.events == 10_000_000 else f' (target is for 10 M events; this run has {records / 1e6:.1f} M)'

    def verdict(ok):
        return 'met' if ok else 'NOT met'

    rows = [
        ('import, events/s (wall)', f'{ev_s_wall / 1e6:.2f} M/s', '>= 2 M/s on one core',
         verdict(ev_s_wall >= TARGET_EVENTS_PER_S)),
        ('import, events/s per CPU second', f'{ev_s_cpu / 1e6:.2f} M/s', '>= 2 M/s on one core',
         verdict(ev_s_cpu >= TARGET_EVENTS_PER_S)),
        ('database bytes per event', f'{bpe:.1f} B', '<= 64 B', verdict(bpe <= TARGET_DB_BYTES_PER_EVENT)),
        ('weft report --format text', f'{rep["text"][0]:.2f} s', f'<= 3 s{scale}',
         verdict(rep['text'][0] <= TARGET_REPORT_S)),
        ('weft report --format json', f'{rep["json"][0]:.2f} s', f'<= 3 s{scale}',
         verdict(rep['json'][0] <= TARGET_REPORT_S)),
        ('weft check', 'passed' if check_ok else 'FAILED', 'passes', verdict(check_ok)),
    ]
    log('')
    log(f'| measure ({records:,} events, {args.threads} threads) | measured | target (DESIGN.md 6) | verdict |')
    log('|---|---:|---|---|')
    for r in rows:
        log(f'| {r[0]} | {r[1]} | {r[2]} | {r[3]} |')
    log(f'\nimport {imp_wall:.2f} s wall / {imp_cpu:.2f} s CPU; database {db_bytes:,} bytes; '
        f'check {chk_wall:.2f} s' + (f'; generation {gen_s:.1f} s' if gen_s else '') +
        f'; load average at the end {loadavg()}')

    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'records': records, 'generator': info, 'import_wall_s': imp_wall, 'import_cpu_s': imp_cpu,
                       'import_user_s': imp_u, 'import_sys_s': imp_s, 'db_bytes': db_bytes,
                       'report_text_s': rep['text'][0], 'report_json_s': rep['json'][0],
                       'check_ok': check_ok, 'check_s': chk_wall,
                       'breakdown': [{'name': n, 'bytes': b, 'rows': c} for n, b, c in breakdown],
                       'machine': machine(), 'loadavg_end': loadavg()}, f, indent=1)
    if not args.keep_db:
        os.unlink(db)
    return 0 if check_ok else 1


if __name__ == '__main__':
    sys.exit(main())
