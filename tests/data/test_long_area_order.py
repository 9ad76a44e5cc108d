#!/usr/bin/python3
"""A long table sorted by area: every row touches another value block.

Berlin's 542 planning areas, 20 periods x 50 variables = 1,000 blocks and
542,000 values, one row each, ordered by area, then period, then variable
(as many statistics exports are). That is more values than the import
keeps waiting at once (src/store_values.c, PENDING_MAX = 524,288), so the
blocks are written in two batches and the second batch changes blocks the
first one wrote. Checks:

  1. every one of the 542,000 values lands in its block, exactly
     (decoded with tests/kiezdb.py and compared with the generator);
  2. a row that repeats an area, period and variable near the end of the
     file (its first value went out with the first batch) fails the
     import with exit 2 and names the file and the repeating line, and
     leaves the database as it was.

Needs $KIEZ_GEODATA (skips with 77 otherwise)."""
import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import kiezdb  # noqa: E402

KIEZ = sys.argv[1]
GEODATA = os.path.abspath(os.environ.get("KIEZ_GEODATA", "../shared/geodata"))
PLR = os.path.join(GEODATA, "berlin/geometry/lor_planungsraeume_2021.shp")
PERIODS = ["%d-12-31" % y for y in range(2005, 2025)]
VARIABLES = ["v%02d" % i for i in range(1, 51)]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def value(key, period, variable):
    """A deterministic count with two decimals, different for every cell."""
    h = hashlib.sha256(f"{key}|{period}|{variable}".encode()).digest()
    return int.from_bytes(h[:4], "little") % 1000000 / 100


def german(x):
    return ("%.2f" % x).replace(".", ",")


def main():
    if not os.path.exists(PLR):
        print("no Berlin geometry under", GEODATA)
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        db_path = os.path.join(tmp, "long.sqlite")
        csv_path = os.path.join(tmp, "long.csv")
        project = os.path.join(tmp, "long.yml")
        levels = ("name: long table sorted by area\ncrs: EPSG:25833\nlevels:\n"
                  f"  - {{name: plr, source: \"{PLR}\", key: PLR_ID, key_width: 8}}\n")
        subprocess.run([KIEZ, "init", db_path, "--crs", "EPSG:25833", "-q"], check=True)
        # The keys, from the level itself (a first import without the table).
        with open(project, "w", encoding="utf-8") as f:
            f.write(levels)
        p = subprocess.run([KIEZ, "import", db_path, project, "-q"], capture_output=True,
                           text=True)
        check(p.returncode == 0, f"levels: exit {p.returncode} {p.stderr[-500:]}")
        with open(project, "w", encoding="utf-8") as f:
            f.write(levels + "tables:\n"
                    "  - {source: long.csv, level: plr, key: Gebiet, period_column: Stichtag,"
                    " format: long, variable_column: Merkmal, value_column: Wert,"
                    " delimiter: \";\", decimal: \",\", thousands: none}\n")
        db = sqlite3.connect(db_path)
        keys = [r[0] for r in db.execute("SELECT key FROM area WHERE level = 'plr' ORDER BY key")]
        db.close()
        check(len(keys) == 542, f"542 planning areas, got {len(keys)}")

        lines = ["Gebiet;Stichtag;Merkmal;Wert\n"]
        for k in keys:
            for per in PERIODS:
                for v in VARIABLES:
                    lines.append(f"{k};{per};{v};{german(value(k, per, v))}\n")
        with open(csv_path, "w", encoding="utf-8") as f:
            f.writelines(lines)
        p = subprocess.run([KIEZ, "import", db_path, project, "-q"], capture_output=True,
                           text=True)
        check(p.returncode == 0, f"import: exit {p.returncode} {p.stderr[-500:]}")
        db = sqlite3.connect(db_path)
        got = {(c[1], c[2], c[3]): c[4] for c in kiezdb.cells(db, level="plr")}
        blocks = db.execute("SELECT COUNT(*) FROM value_block").fetchone()[0]
        db.close()
        check(blocks == len(PERIODS) * len(VARIABLES), f"{blocks} blocks")
        check(len(got) == len(keys) * len(PERIODS) * len(VARIABLES), f"{len(got)} values")
        wrong = [(k, per, v) for k in keys for per in PERIODS for v in VARIABLES
                 if got.get((k, per, v)) is None
                 or abs(got[(k, per, v)] - value(k, per, v)) > 1e-9]
        check(not wrong, f"{len(wrong)} values differ, e.g. {wrong[:3]}")

        # A repeat of the first data row, near the end (line numbers count
        # the header as line 1). The import replaces the level and its
        # values, fails, and must leave the file as it was.
        repeat_at = len(lines) - 10
        lines.insert(repeat_at, lines[1])
        with open(csv_path, "w", encoding="utf-8") as f:
            f.writelines(lines)
        before = open(db_path, "rb").read()
        p = subprocess.run([KIEZ, "import", db_path, project, "-q"], capture_output=True,
                           text=True)
        want = (f"long.csv:{repeat_at + 1}: key \"{keys[0]}\" has a value for \"v01\" in period "
                f"{PERIODS[0]} already")
        check(p.returncode == 2 and want in p.stderr,
              f"repeat: exit {p.returncode}, want {want!r}, got {p.stderr.strip()[-400:]!r}")
        check(open(db_path, "rb").read() == before, "a failed import leaves the database as it was")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
