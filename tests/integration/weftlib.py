"""What weft's Python test scripts share: TAP output and small database helpers.

ok()/eq()/skip() print one TAP line each and remember the outcome in `results`;
plan() prints the plan "1..N" and returns the exit status (1 if anything failed);
attempt() runs one test function, counting an exception as a failed test;
cleanup() removes a script's scratch directory unless asked to keep it.
"""
import shutil
import sys
import traceback

results = []


def ok(cond, what, detail=""):
    results.append(bool(cond))
    print("%s %d - %s" % ("ok" if cond else "not ok", len(results), what))
    if not cond and detail:
        for line in str(detail).splitlines()[:25]:
            print("# " + line)
    sys.stdout.flush()
    return bool(cond)


def eq(got, want, what):
    return ok(got == want, what, "got %r, want %r" % (got, want))


def skip(what, why):
    results.append(True)
    print("ok %d - %s # SKIP %s" % (len(results), what, why))
    sys.stdout.flush()


def plan():
    print("1..%d" % len(results))
    return 0 if all(results) else 1


def attempt(test, *args):
    """test(*args); an exception is a failed test, not a crashed script."""
    try:
        test(*args)
    except Exception:
        ok(False, "%s raised" % getattr(test, "__name__", "test"), traceback.format_exc())


def cleanup(tmp, keep):
    if keep:
        print("# kept %s" % tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)


def one(con, sql, *params):
    """The first column of the first row of a query, or None."""
    row = con.execute(sql, params).fetchone()
    return row[0] if row else None
