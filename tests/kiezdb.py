"""Reading a kiez monitoring database from the tests.

The values of the variables are stored as column blocks (src/store_values.c):
one row of value_block per level, period and variable, with the numbers of
every area of the level in key order as little-endian doubles (NaN: no
number) and one flag byte per area (255: no value; bit 64: summed from the
child level). The indicators likewise (src/store_indicators.c): one row of
indicator_block per level, period and indicator with value, numerator and
denominator as doubles (a NULL column: no area has a number) and the flags
(255: no value)."""
import math
import struct

ABSENT = 0xFF
COMPUTED = 0x40


def cells(db, variable=None, level=None):
    """Yield (level, key, period, variable, value or None, flag) of every cell."""
    keys = {}
    rows = db.execute("SELECT level, period, variable, n, value, flag FROM value_block"
                      " WHERE (?1 IS NULL OR variable = ?1) AND (?2 IS NULL OR level = ?2)"
                      " ORDER BY level, period, variable", (variable, level))
    for lv, period, var, n, blob, flags in rows:
        if lv not in keys:
            keys[lv] = [r[0] for r in db.execute(
                "SELECT key FROM area WHERE level = ? ORDER BY key", (lv,))]
        assert len(keys[lv]) == n, (lv, period, var)
        numbers = struct.unpack("<%dd" % n, blob)
        for key, v, f in zip(keys[lv], numbers, flags):
            if f != ABSENT:
                yield lv, key, period, var, None if math.isnan(v) else v, f & ~COMPUTED


def _numbers(blob, n):
    if blob is None:
        return [None] * n
    return [None if math.isnan(v) else v for v in struct.unpack("<%dd" % n, blob)]


def indicators(db, indicator=None, level=None):
    """Yield (level, key, period, indicator, value, numerator, denominator,
    flag) of every indicator value, None for no number."""
    keys = {}
    rows = db.execute("SELECT level, period, indicator, n, value, numerator, denominator, flag"
                      " FROM indicator_block WHERE (?1 IS NULL OR indicator = ?1)"
                      " AND (?2 IS NULL OR level = ?2) ORDER BY level, period, indicator",
                      (indicator, level))
    for lv, period, ind, n, value, num, den, flags in rows:
        if lv not in keys:
            keys[lv] = [r[0] for r in db.execute(
                "SELECT key FROM area WHERE level = ? ORDER BY key", (lv,))]
        assert len(keys[lv]) == n, (lv, period, ind)
        for key, v, nu, de, f in zip(keys[lv], _numbers(value, n), _numbers(num, n),
                                     _numbers(den, n), flags):
            if f != ABSENT:
                yield lv, key, period, ind, v, nu, de, f


def variables(db):
    return {r[0] for r in db.execute("SELECT DISTINCT variable FROM value_block")}
