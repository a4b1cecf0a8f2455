#!/usr/bin/env python3
# run-outputs.py - where `weft export -o` and `weft report -o` write, TAP output.
# SPDX-License-Identifier: MIT
#
# usage: run-outputs.py --weft WEFT --mkdb REPORT-MKDB
#
# Both commands open their output with weft_output_open (analyzer/store/weft-output.c),
# so both get the same checks (issue 11, item 6):
#   - the recording being read is never the output: not by its name, a hard
#     link, a symbolic link, nor standard output appended to it (st_dev and
#     st_ino are compared, not names); another weft recording is not replaced;
#   - a FIFO and a character device are written as streams and stay what they
#     are (null, a FIFO read by a thread of this script); a write error (full:
#     ENOSPC) is exit 1 with one line naming the file. As root the devices are
#     nodes made in the scratch directory, so that a weft that replaces them
#     cannot replace the machine's /dev/null;
#   - a symbolic link to a regular file is followed (the link stays, the file
#     gets the output and keeps its mode); a dangling one is refused;
#   - a new output is created 0600, whatever the umask (item 11);
#   - no temporary file is left behind.
# And item 9: thread, process, object and file names that are not UTF-8 come
# out of `weft report --format json` and `weft export` as strict UTF-8 JSON,
# the invalid bytes replaced by U+FFFD the same way in both.
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from weftlib import ok, plan, path_args, strict_json, char_device, write_to_fifo  # noqa: E402


class Runner:
    def __init__(self, weft, tmp):
        self.weft, self.tmp = weft, tmp

    def args(self, cmd, db, out=None):
        extra = ['--format', 'json'] if cmd == 'report' else []
        return [self.weft, cmd, db] + extra + (['-o', out] if out else [])

    def run(self, cmd, db, out, stdout=subprocess.PIPE, umask=None):
        pre = (lambda: os.umask(umask)) if umask is not None else None
        r = subprocess.run(self.args(cmd, db, out), cwd=self.tmp, stdout=stdout, stderr=subprocess.PIPE,
                           timeout=60, preexec_fn=pre)
        return r.returncode, r.stderr.decode('utf-8', 'replace')


def one_line(rc, err, name):
    lines = err.splitlines()
    return rc == 1 and len(lines) == 1 and name in lines[0]


def read(p):
    with open(p, 'rb') as f:
        return f.read()


def parses(data):
    """strict_json(data), or None."""
    try:
        return strict_json(data) if data is not None else None
    except ValueError:
        return None


def check_command(r, cmd, good, tmp):
    original = read(good)
    gname = os.path.basename(good)

    def restore():  # after a failure, so that the next checks still have a recording
        if not os.path.isfile(good) or read(good) != original:
            os.unlink(good)
            with open(good, 'wb') as f:
                f.write(original)

    def refused(out, what, name=None):
        rc, err = r.run(cmd, good, out)
        ok(one_line(rc, err, name or out) and read(good) == original,
           '%s -o %s: exit 1, one line naming it, the recording unchanged' % (cmd, what),
           'exit %d, stderr: %r' % (rc, err))
        restore()

    # the input, by every name it can have
    refused(gname, 'the database being read')
    hard = os.path.join(tmp, '%s-hard.db' % cmd)
    os.link(good, hard)
    refused(hard, 'a hard link to the database being read')
    os.unlink(hard)
    sym = os.path.join(tmp, '%s-sym.db' % cmd)
    os.symlink(gname, sym)
    refused(sym, 'a symbolic link to the database being read')
    ok(os.path.islink(sym), '%s: the symbolic link to the database is left as it was' % cmd)
    os.unlink(sym)
    with open(good, 'ab') as f:
        rc, err = r.run(cmd, good, '-', stdout=f)
    ok(one_line(rc, err, 'standard output') and read(good) == original,
       '%s -o - appended to the database being read: exit 1, one line, the recording unchanged' % cmd,
       'exit %d, stderr: %r' % (rc, err))
    restore()
    other = os.path.join(tmp, '%s-other.db' % cmd)
    shutil.copy(good, other)
    refused(other, 'another weft recording')
    ok(read(other) == original, '%s: the other recording is unchanged' % cmd)
    os.unlink(other)

    # devices and FIFOs are streams
    full, null = char_device(tmp, 'full', 7), char_device(tmp, 'null', 3)
    if full:
        rc, err = r.run(cmd, good, full)
        ok(one_line(rc, err, full) and 'No space left on device' in err and stat.S_ISCHR(os.lstat(full).st_mode),
           '%s -o full: exit 1, one line naming it and ENOSPC; still a character device' % cmd,
           'exit %d, stderr: %r' % (rc, err))
        with open(full, 'wb') as f:
            rc, err = r.run(cmd, good, '-', stdout=f)
        ok(one_line(rc, err, 'standard output') and 'No space left on device' in err,
           '%s -o - into full: exit 1, one line naming standard output' % cmd, 'exit %d, stderr: %r' % (rc, err))
    if null:
        rc, err = r.run(cmd, good, null)
        ok(rc == 0 and not err and stat.S_ISCHR(os.lstat(null).st_mode),
           '%s -o null: exit 0, still a character device' % cmd, 'exit %d, stderr: %r' % (rc, err))
    fifo = os.path.join(tmp, '%s.fifo' % cmd)
    (rc, err), data, still = write_to_fifo(fifo, lambda: r.run(cmd, good, fifo))
    ok(rc == 0 and parses(data) is not None and still,
       '%s -o FIFO: exit 0, the JSON read from the FIFO, which stays a FIFO' % cmd,
       'exit %d, %d bytes read, stderr: %r' % (rc, len(data) if data else -1, err))

    # symbolic links to regular files are followed
    real = os.path.join(tmp, '%s-real.json' % cmd)
    with open(real, 'w') as f:
        f.write('old\n')
    os.chmod(real, 0o640)
    link = os.path.join(tmp, '%s-link.json' % cmd)
    os.symlink(os.path.basename(real), link)
    rc, err = r.run(cmd, good, link)
    ok(rc == 0 and os.path.islink(link) and parses(read(real)) is not None and stat.S_IMODE(os.stat(real).st_mode) == 0o640,
       '%s -o a symbolic link: the link stays, its file gets the JSON and keeps its mode 0640' % cmd,
       'exit %d, stderr: %r, link %s, mode %o' % (rc, err, os.path.islink(link), os.stat(real).st_mode))
    dangling = os.path.join(tmp, '%s-dangling.json' % cmd)
    os.symlink('nowhere/x.json', dangling)
    rc, err = r.run(cmd, good, dangling)
    ok(one_line(rc, err, dangling) and os.path.islink(dangling) and not os.path.exists(dangling),
       '%s -o a dangling symbolic link: exit 1, one line naming it, the link left as it was' % cmd,
       'exit %d, stderr: %r' % (rc, err))
    adir = os.path.join(tmp, '%s-dir' % cmd)
    os.mkdir(adir)
    rc, err = r.run(cmd, good, adir)
    ok(one_line(rc, err, adir) and os.path.isdir(adir), '%s -o a directory: exit 1, one line naming it' % cmd,
       'exit %d, stderr: %r' % (rc, err))

    # a new file: 0600 even under umask 000; an existing one is replaced
    new = os.path.join(tmp, '%s-new.json' % cmd)
    rc, err = r.run(cmd, good, new, umask=0)
    mode = stat.S_IMODE(os.stat(new).st_mode) if os.path.exists(new) else None
    ok(rc == 0 and mode == 0o600, '%s -o a new file under umask 000: mode 0600' % cmd,
       'exit %d, mode %s, stderr: %r' % (rc, oct(mode) if mode is not None else None, err))
    rc, err = r.run(cmd, good, new)
    ok(rc == 0 and parses(read(new)) is not None, '%s -o an existing JSON file: replaced' % cmd,
       'exit %d, stderr: %r' % (rc, err))

    left = [f for f in os.listdir(tmp) if '.tmp' in f]
    ok(not left, '%s: no temporary file left behind' % cmd, left)


def bad_names(good, path):
    """A copy of good whose names are not UTF-8: a thread named w\\xff\\xfex, a
    Latin-1 executable, command line and source file, a lock named with a
    lone continuation byte."""
    shutil.copy(good, path)
    c = sqlite3.connect(path)
    c.execute('UPDATE thread SET name = CAST(? AS TEXT) WHERE utid = 2', (b'w\xff\xfex',))
    c.execute('UPDATE process SET exe = CAST(? AS TEXT), cmdline = CAST(? AS TEXT) WHERE upid = 1',
              (b'/src/caf\xe9', b'./caf\xe9 --threads 3'))
    c.execute('UPDATE frame SET file = CAST(? AS TEXT) WHERE file IS NOT NULL', (b'/src/d\xe9j\xe0.c',))
    c.execute('UPDATE sync_object SET name = CAST(? AS TEXT) WHERE object_id = 1', (b'q\x80lock',))
    c.execute("UPDATE meta SET value = CAST(? AS TEXT) WHERE key = 'command'", (b'./caf\xe9 --threads 3',))
    c.commit()
    c.close()


def thread_names(doc):
    return {e['args']['name'] for e in doc['traceEvents'] if e['ph'] == 'M' and e['name'] == 'thread_name'}


def check_utf8(a, tmp, good):
    db = os.path.join(tmp, 'names.db')
    bad_names(good, db)
    want = 'w\ufffd\ufffdx'
    docs = {}
    for cmd in ('report', 'export'):
        r = subprocess.run(Runner(a.weft, tmp).args(cmd, db), cwd=tmp, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        docs[cmd] = parses(r.stdout) if r.returncode == 0 else None
        ok(docs[cmd] is not None, '%s of names that are not UTF-8: strict UTF-8 JSON' % cmd,
           'exit %d, stderr %r, output %r' % (r.returncode, r.stderr, r.stdout[:200]))
    names = [t.get('name') for t in docs['report'].get('threads', [])] if docs['report'] else []
    ok(want in names, 'report --format json: the thread w\\xff\\xfex is "%s"' % want, names)
    ok(docs['export'] is not None and want in thread_names(docs['export']),
       'export: the same thread name, the same replacement')


def main():
    a = path_args('weft', 'mkdb')
    with tempfile.TemporaryDirectory(prefix='weft-outputs-') as tmp:
        good = os.path.join(tmp, 'good.db')
        subprocess.run([a.mkdb, good], check=True)
        r = Runner(a.weft, tmp)
        for cmd in ('export', 'report'):
            check_command(r, cmd, good, tmp)
        check_utf8(a, tmp, good)
    return plan()


if __name__ == '__main__':
    sys.exit(main())
