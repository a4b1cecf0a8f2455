#!/usr/bin/env python3
# run-errors.py - `weft report` on bad input and bad usage, TAP output.
# SPDX-License-Identifier: MIT
#
# usage: run-errors.py --weft WEFT --mkdb REPORT-MKDB
#
# A file that cannot be used (missing, empty, not SQLite, another
# application's SQLite database, a truncated or damaged weft database, an
# interrupted import, a directory) must give exit status 1 and exactly one
# line on stderr that names the file; a usage error exit status 2; never a
# crash (a signal) or a Python-visible hang.
import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

n = 0
failed = 0


def ok(cond, what, diag=None):
    global n, failed
    n += 1
    print(('ok' if cond else 'not ok') + ' %d - %s' % (n, what))
    if not cond:
        failed += 1
        for line in (diag or '').splitlines()[:40]:
            print('# ' + line)
    sys.stdout.flush()


def page_size(data):
    """The page size in an SQLite header (the value 1 means 65536)."""
    v = int.from_bytes(data[16:18], 'big')
    return 65536 if v == 1 else v


def run_cmd(weft, args, cwd):
    r = subprocess.run([weft] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return r.returncode, r.stdout.decode('utf-8', 'replace'), r.stderr.decode('utf-8', 'replace')


def run(weft, args, cwd):
    return run_cmd(weft, ['report'] + args, cwd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--weft', required=True)
    ap.add_argument('--mkdb', required=True)
    a = ap.parse_args()
    # meson passes paths relative to the build directory; the runs below
    # happen in a temporary one
    a.weft, a.mkdb = os.path.abspath(a.weft), os.path.abspath(a.mkdb)
    with tempfile.TemporaryDirectory() as tmp:
        good = os.path.join(tmp, 'good.db')
        subprocess.run([a.mkdb, good], check=True)
        size = os.path.getsize(good)

        def make(name, data=None, fn=None):
            p = os.path.join(tmp, name)
            if data is not None:
                with open(p, 'wb') as f:
                    f.write(data)
            if fn:
                fn(p)
            return name

        def other_app(p):
            c = sqlite3.connect(p)
            c.execute('CREATE TABLE t (x)')
            c.commit()
            c.close()

        def truncated(p):
            with open(good, 'rb') as f:
                data = f.read()
            with open(p, 'wb') as f:
                f.write(data[:size // 2])

        def truncated_header(p):
            with open(good, 'rb') as f:
                data = f.read(60)
            with open(p, 'wb') as f:
                f.write(data)

        def damaged(p):
            # the first page intact, every later page overwritten
            with open(good, 'rb') as f:
                data = bytearray(f.read())
            page = page_size(data)
            for i in range(page, len(data)):
                data[i] = 0x5a
            with open(p, 'wb') as f:
                f.write(data)

        def damaged_tables(p):
            # every page overwritten but the first (the schema) and the meta
            # table's: weft_db_open accepts it, the analyses must not crash
            c = sqlite3.connect(good)
            root = c.execute("SELECT rootpage FROM sqlite_master WHERE name = 'meta'").fetchone()[0]
            c.close()
            with open(good, 'rb') as f:
                data = bytearray(f.read())
            page = page_size(data)
            for i in range(page, len(data)):
                if i // page != root - 1:
                    data[i] = 0x5a
            with open(p, 'wb') as f:
                f.write(data)

        def incomplete(p):
            subprocess.run([a.mkdb, p, '--incomplete'], check=True)

        def newer(p):
            shutil.copy(good, p)
            c = sqlite3.connect(p)
            c.execute('PRAGMA user_version = 99')
            c.commit()
            c.close()

        os.mkdir(os.path.join(tmp, 'adir.db'))
        bad = [
            ('missing.db', 'a missing file'),
            (make('empty.db', b''), 'an empty file'),
            (make('text.db', b'hello, this is not a database\n' * 10), 'a text file'),
            (make('other.db', fn=other_app), "another application's SQLite database"),
            (make('truncated.db', fn=truncated), 'a weft database cut in half'),
            (make('header.db', fn=truncated_header), 'a weft database cut inside its header'),
            (make('damaged.db', fn=damaged), 'a weft database with every page but the first overwritten'),
            (make('tables.db', fn=damaged_tables), 'a weft database whose tables but meta are overwritten'),
            (make('incomplete.db', fn=incomplete), 'an interrupted import'),
            (make('newer.db', fn=newer), 'a database from a newer schema'),
            ('adir.db', 'a directory'),
        ]
        for name, what in bad:
            for fmt in (['--format', 'text'], ['--format', 'json']):
                rc, out, err = run(a.weft, [name] + fmt, tmp)
                lines = err.splitlines()
                ok(rc == 1 and len(lines) == 1 and name in lines[0],
                   '%s (%s): exit 1, one line naming the file' % (what, fmt[1]),
                   'exit %d, stderr: %r' % (rc, err))

        # weft check: the same bad files, and a table dropped: one line, exit 1
        def dropped(p):
            shutil.copy(good, p)
            c = sqlite3.connect(p)
            c.execute('DROP TABLE flow')
            c.commit()
            c.close()
        for name, what in bad + [(make('dropped.db', fn=dropped), 'a weft database without its flow table')]:
            rc, out, err = run_cmd(a.weft, ['check', name], tmp)
            lines = err.splitlines()
            ok(rc == 1 and len(lines) == 1 and name in lines[0],
               'weft check, %s: exit 1, one line naming the file' % what, 'exit %d, stderr: %r' % (rc, err))
            if name == 'dropped.db':
                ok('cannot check: table flow is missing' in err, 'weft check, %s: says which table' % what, err)

        # a database the user may not read: the cause, not "not an SQLite file"
        shutil.copy(good, os.path.join(tmp, 'unreadable.db'))
        os.chmod(os.path.join(tmp, 'unreadable.db'), 0)
        as_user, weft = None, a.weft
        if os.geteuid() == 0:  # root reads anything: run as nobody, who may enter tmp
            os.chmod(tmp, 0o711)
            as_user = lambda: (os.setgid(65534), os.setuid(65534))
            # a copy nobody may run: the build directory may be in one nobody cannot enter (/root)
            weft = os.path.join(tmp, 'weft')
            shutil.copy(a.weft, weft)
            os.chmod(weft, 0o755)
        r = subprocess.run([weft, 'report', os.path.join(tmp, 'unreadable.db')], cwd='/',
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, preexec_fn=as_user)
        err = r.stderr.decode('utf-8', 'replace')
        ok(r.returncode == 1 and len(err.splitlines()) == 1 and 'unreadable.db: Permission denied' in err,
           'an unreadable database: exit 1, one line saying "Permission denied"', 'exit %d, stderr: %r' %
           (r.returncode, err))

        usage = [
            ([], 'no database'),
            (['good.db', '--format', 'xml'], 'an unknown format'),
            (['good.db', '--format'], 'a missing value'),
            (['good.db', '--top', '-1'], 'a negative --top'),
            (['good.db', '--top', 'x'], 'a --top that is no number'),
            (['good.db', '--range', '5s..1s'], 'an empty range'),
            (['good.db', '--range', '1s'], 'a range without ..'),
            (['good.db', '--range', '1parsec..2s'], 'a range with an unknown unit'),
            (['good.db', '--process', 'init'], 'a --process that is no pid'),
            (['good.db', '--frobnicate'], 'an unknown option'),
            (['good.db', 'good.db'], 'two databases'),
        ]
        for args, what in usage:
            rc, out, err = run(a.weft, args, tmp)
            ok(rc == 2 and err.startswith('weft report: ') and not out,
               'usage error, %s: exit 2' % what, 'exit %d, stderr: %r' % (rc, err))

        rc, out, err = run(a.weft, ['--help'], tmp)
        ok(rc == 0 and out.startswith('usage: weft report') and not err, '--help: usage on stdout, exit 0')

        for args, what, needle in [
                (['good.db', '--range', '5s..9s'], 'a range after the recording', 'does not overlap'),
                (['good.db', '--process', '1'], 'a pid not in the recording', 'no process with pid 1'),
        ]:
            rc, out, err = run(a.weft, args, tmp)
            lines = err.splitlines()
            ok(rc == 1 and len(lines) == 1 and 'good.db' in lines[0] and needle in lines[0],
               '%s: exit 1, one line naming the file' % what, 'exit %d, stderr: %r' % (rc, err))

        for args in (['good.db', '--range', '0.2s..'], ['good.db', '--range', '..300ms', '--top', '0'],
                     ['good.db', '--range=100000000..200000000'], ['good.db', '--format=md', '--process=4242']):
            rc, out, err = run(a.weft, args, tmp)
            ok(rc == 0 and out and not err, 'weft report %s: exit 0' % ' '.join(args[1:]),
               'exit %d, stderr: %r' % (rc, err))
    print('1..%d' % n)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
