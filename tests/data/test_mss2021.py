#!/usr/bin/python3
"""MSS 2021 reproduction (issue 3): kiez run geodata/berlin/mss2021.yml.

Checks against the published file itself:
- the 6 planning areas marked invalid (KOM != "gültig") get no z-values,
  indices or classes; the other 536 all do;
- the per-indicator classes the Senate published (S1/S3/S4_SD_GR: z cut at
  -1, 1, 1.5) equal kiez's z-scores cut the same way in all 536 areas;
- z-scores have mean 0 and population sd 1 over the 536 areas, the index
  is the z-score of the sums, classes follow the cut rule with bounds in
  the middle class;
- the class counts are pinned (regression): status 75/366/46/49,
  dynamics 48/436/52.
"""
import csv
import math
import os
import sqlite3
import subprocess
import sys
import tempfile

KIEZ = sys.argv[1]
GEODATA = os.environ.get("KIEZ_GEODATA", "../shared/geodata")
SRC = os.path.join(GEODATA, "berlin/mss2021/mss_2021_index_indikatoren.csv")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def cut(x, cuts):
    if x < cuts[0]:
        return 1
    for j in range(1, len(cuts)):
        if x <= cuts[j]:
            return j + 1
    return len(cuts) + 1


def main():
    if not os.path.exists(SRC):
        print("skipped: no MSS data")
        return 77
    with open(SRC, encoding="utf-8") as f:
        published = {r["PLR_ID"]: r for r in csv.DictReader(f)}
    invalid = {k for k, r in published.items() if r["KOM"] != "gültig"}
    check(len(invalid) == 6, f"6 invalid areas in the source, got {len(invalid)}")
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([KIEZ, "run", "geodata/berlin/mss2021.yml", "--out", out],
                              capture_output=True, text=True)
        print(proc.stderr[-2000:])
        if proc.returncode != 0:
            return 1
        db = sqlite3.connect(os.path.join(out, "mss2021.gpkg"))
        cols = ("key, z_S1, z_S3, z_S4, status_sum, status_index, status_class, "
                "z_D1, z_D3, z_D4, dynamik_sum, dynamik_index, dynamik_class")
        rows = {r[0]: r for r in db.execute(f"SELECT {cols} FROM plr")}
        check(len(rows) == 542, f"542 planning areas, got {len(rows)}")
        for k in invalid:
            check(all(v is None for v in rows[k][1:]), f"invalid area {k} has no values")
        valid = [r for k, r in rows.items() if k not in invalid]
        check(len(valid) == 536 and all(all(v is not None for v in r[1:]) for r in valid),
              "536 valid areas with every value")
        for i, name in ((1, "S1"), (2, "S3"), (3, "S4")):
            z = [r[i] for r in valid]
            mean = sum(z) / len(z)
            sd = math.sqrt(sum((v - mean) ** 2 for v in z) / len(z))
            check(abs(mean) < 1e-12 and abs(sd - 1) < 1e-12, f"z_{name} mean {mean} sd {sd}")
            agree = sum(1 for r in valid
                        if cut(r[i], (-1, 1, 1.5)) == int(published[r[0]][name + "_SD_GR"]))
            check(agree == 536, f"{name}: published class agrees in {agree} of 536 areas")
        sums = [r[4] for r in valid]
        sd = math.sqrt(sum(v * v for v in sums) / len(sums) - (sum(sums) / len(sums)) ** 2)
        for r in valid:
            check(abs(r[4] - (r[1] + r[2] + r[3])) < 1e-12, f"{r[0]} status sum")
            check(abs(r[5] - r[4] / sd) < 1e-9, f"{r[0]} status index = sum / sd")
            check(r[6] == cut(r[5], (-1, 1, 1.5)), f"{r[0]} status class")
            check(r[12] == cut(r[11], (-1, 1)), f"{r[0]} dynamics class")
        counts = [sum(1 for r in valid if r[6] == c) for c in (1, 2, 3, 4)]
        check(counts == [75, 366, 46, 49], f"status classes {counts}")
        counts = [sum(1 for r in valid if r[12] == c) for c in (1, 2, 3)]
        check(counts == [48, 436, 52], f"dynamics classes {counts}")
        # The class columns carry their labels and a categorical QGIS style.
        cats = dict(db.execute("SELECT name, categories FROM indicator_catalogue"
                               " WHERE kind = 'class'").fetchall())
        check(cats.get("status_class") == "1=hoch;2=mittel;3=niedrig;4=sehr niedrig",
              f"status class labels {cats.get('status_class')}")
        qml = db.execute("SELECT styleQML FROM layer_styles WHERE f_table_name = 'plr'"
                         " AND styleName = 'status_class'").fetchone()
        check(qml is not None and 'type="categorizedSymbol"' in qml[0]
              and 'label="4 sehr niedrig"' in qml[0], "status_class has a categorical style")
        db.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
