#!/usr/bin/python3
"""Integration test on Hamburg's messy 2014 Stadtteil profile table.

The table has German number formats (decimal comma, space thousands),
padded cells, '.' for suppressed cells and names instead of keys. kiez must
import it and the shares it computes must reproduce the shares the
Statistikamt published in the same table (rounded to one decimal).
"""
import csv
import os
import sqlite3
import subprocess
import sys
import tempfile

KIEZ = sys.argv[1]
GEODATA = os.environ.get("KIEZ_GEODATA", "../shared/geodata")
TABLE = os.path.join(GEODATA, "hamburg/Daten_fuer_die_Stadtteilprofile_2014.csv")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def german(text):
    text = text.strip().replace(" ", "").replace(".", "").replace(",", ".")
    return float(text) if text not in ("", "-") else None


def main():
    if not os.path.exists(TABLE):
        print("skipped: no Hamburg data")
        return 77
    with open(TABLE, encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header = [h.strip() for h in rows[0]]
    col_share = header.index("Ausländeranteil in %")
    published = {r[0].strip(): german(r[col_share]) for r in rows[1:]}

    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([KIEZ, "run", "geodata/hamburg/hamburg.yml", "--out", out],
                              capture_output=True, text=True)
        print(proc.stderr[-3000:])
        if proc.returncode != 0:
            return 1
        check("4 key(s) match no area" in proc.stderr or "match no area" in proc.stderr,
              "the combined Stadtteile are reported")
        db = sqlite3.connect(os.path.join(out, "hamburg.gpkg"))
        n = db.execute("SELECT COUNT(*) FROM stadtteil").fetchone()[0]
        check(n == 104, f"104 Stadtteile, got {n}")
        compared = 0
        for level in ("stadtteil", "bezirk", "stadt"):
            for name, share, people in db.execute(
                    f'SELECT name, auslaender_anteil, einwohner FROM "{level}"'):
                want = published.get(name if level != "stadt" else "Hamburg")
                if level == "stadtteil" and name in ("Eimsbüttel", "Wandsbek", "Bergedorf",
                                                     "Harburg", "Altona", "Hamburg-Mitte"):
                    want = None  # the name also names a Bezirk row; compared there
                if want is None or share is None:
                    continue
                compared += 1
                check(abs(share - want) <= 0.05 + 1e-9,
                      f"{level} {name}: computed {share:.3f} %, published {want} %")
        check(compared >= 95, f"compared {compared} shares with the published ones")
        city = db.execute("SELECT einwohner FROM stadt").fetchone()[0]
        check(city == 1788994, f"Hamburg population {city} (published 1 788 994)")
        # Findings name the unmatched rows with their line numbers.
        found = db.execute("SELECT COUNT(*) FROM findings WHERE kind = 'unmatched' AND line > 1"
                           ).fetchone()[0]
        check(found == 4, f"4 unmatched rows recorded, got {found}")
        db.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
