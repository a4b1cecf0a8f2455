"""Decode weft's lock hold blocks (hold_block, docs/schema.md) in tests.

materialize(con) fills a TEMP table lock_hold(object_id, utid, start_ns,
dur_ns, contended, shared, estimated) with every hold, so a test can query
holds in SQL.
"""


def _uleb(data, i):
    x = shift = 0
    while True:
        c = data[i]
        i += 1
        x |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return x, i


def decode(object_id, start_ns, data):
    """The holds of one block, as (object_id, utid, start_ns, dur_ns, contended, shared, estimated)."""
    i, start, utid = 0, start_ns, 0
    while i < len(data):
        ds, i = _uleb(data, i)
        df, i = _uleb(data, i)
        zz, i = _uleb(data, i)
        start += ds
        utid += -(zz >> 1) - 1 if zz & 1 else zz >> 1
        yield (object_id, utid, start, df >> 3, df & 1, (df >> 1) & 1, (df >> 2) & 1)


def holds(con):
    for obj, start, data in con.execute("SELECT object_id, start_ns, data FROM hold_block ORDER BY object_id, start_ns"):
        yield from decode(obj, start, data)


def materialize(con):
    con.execute("DROP TABLE IF EXISTS temp.lock_hold")
    con.execute("CREATE TEMP TABLE lock_hold (object_id INTEGER, utid INTEGER, start_ns INTEGER, dur_ns INTEGER, "
                "contended INTEGER, shared INTEGER, estimated INTEGER)")
    con.executemany("INSERT INTO temp.lock_hold VALUES (?,?,?,?,?,?,?)", list(holds(con)))
    return con
