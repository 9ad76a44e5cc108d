#!/usr/bin/python3
"""Integration test on the real Berlin data: runs the demo project and
checks the outputs against the official tables.

- every level has the expected number of areas;
- the planning-area populations of 31.12.2023 (and 31.12.2019 on the old
  447-area scheme) aggregate to the official district totals of the
  Amt für Statistik's district tables and to the city total 3,878,100;
- the GeoPackage passes GDAL's validate_gpkg.py;
- every GeoJSON is RFC 7946 (no crs member, lon/lat, at most 7 decimals).
"""
import csv
import glob
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

KIEZ = sys.argv[1]
GEODATA = os.environ.get("KIEZ_GEODATA", "../shared/geodata")
VALIDATOR = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def district_table(period_dir):
    path = glob.glob(os.path.join(GEODATA, "berlin/population", period_dir, "*-t2-districts.csv"))[0]
    with open(path, encoding="utf-8") as f:
        return {row["id"]: int(row["inhabitants"]) for row in csv.DictReader(f)}


def main():
    if not os.path.isdir(os.path.join(GEODATA, "berlin")):
        print("skipped: no Berlin data in", GEODATA)
        return 77
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([KIEZ, "run", "geodata/berlin/berlin.yml", "--out", out],
                              capture_output=True, text=True)
        print(proc.stderr[-3000:])
        if proc.returncode != 0:
            print("kiez run failed with", proc.returncode)
            return 1
        gpkg = os.path.join(out, "berlin.gpkg")
        check(os.path.exists(gpkg), "berlin.gpkg written")
        check(os.path.exists(os.path.join(out, "atlas", "index.html")), "atlas/index.html written")
        leftovers = [f for f in os.listdir(out) if "tmp" in f or "staging" in f]
        check(not leftovers, f"no temporary files left: {leftovers}")

        db = sqlite3.connect(gpkg)
        counts = {lvl: db.execute(f'SELECT COUNT(*) FROM "{lvl}"').fetchone()[0]
                  for lvl in ("plr", "bzr", "pgr", "bezirk", "city", "plr_2006")}
        check(counts == {"plr": 542, "bzr": 143, "pgr": 58, "bezirk": 12, "city": 1,
                         "plr_2006": 448}, f"area counts {counts}")

        # Keys stay text with their leading zeros.
        keys = [r[0] for r in db.execute("SELECT key FROM plr ORDER BY key LIMIT 3")]
        check(keys[0] == "01100101", f"first PLR key {keys[0]!r}")

        def series(level, period):
            return {k: v for k, v in db.execute(
                f'SELECT key, value FROM "{level}_series" WHERE indicator = ? AND period = ?',
                ("inhabitants", period))}

        for period, folder, fine in (("2023-12-31", "berlin-lor-population-2023-02", "plr"),
                                     ("2019-12-31", "berlin-lor-population-2019-02", "plr_2006")):
            official = district_table(folder)
            plr = series(fine, period)
            total = sum(plr.values())
            bez = series("bezirk", period)
            for key, value in official.items():
                if key in ("0",):
                    continue
                check(bez.get(key) == value, f"{period} district {key}: {bez.get(key)} vs {value}")
            city = series("city", period)
            check(len(city) == 1, f"{period}: one city value")
            city_value = next(iter(city.values()), None)
            check(city_value == total, f"{period}: city {city_value} = sum of areas {total}")
            if period == "2023-12-31":
                check(total == 3878100, f"2023 city total {total} == 3,878,100")
            # Every coarser level sums to the same total.
            for level in ("bzr", "pgr", "bezirk"):
                if period == "2019-12-31" and level in ("bzr", "pgr"):
                    continue
                s = sum(series(level, period).values())
                check(s == total, f"{period}: {level} sums to {s}, areas to {total}")

        # Indicators are ratios of sums, not means of ratios.
        row = db.execute("SELECT value, numerator, denominator FROM city_series WHERE "
                         "indicator = 'u6_share' AND period = '2023-12-31'").fetchone()
        check(row is not None and abs(row[0] - 100.0 * row[1] / row[2]) < 1e-9,
              f"city u6_share is 100 * numerator / denominator: {row}")
        check(db.execute("SELECT COUNT(*) FROM kitas").fetchone()[0] == 2880, "2880 Kitas")
        # Trend columns 2021-2024: change = last - first share, from the series.
        key, chg, slope = db.execute("SELECT key, u6_share_chg, u6_share_slope FROM plr "
                                     "ORDER BY key LIMIT 1").fetchone()
        first = db.execute("SELECT value FROM plr_series WHERE key=? AND indicator='u6_share' "
                           "AND period='2021-12-31'", (key,)).fetchone()[0]
        last = db.execute("SELECT value FROM plr_series WHERE key=? AND indicator='u6_share' "
                          "AND period='2024-12-31'", (key,)).fetchone()[0]
        check(abs(chg - (last - first)) < 1e-9, f"u6_share_chg {chg} = {last} - {first}")
        check(slope is not None, "u6_share_slope present")
        check(db.execute("SELECT COUNT(*) FROM indicator_catalogue").fetchone()[0] >= 5,
              "indicator catalogue")
        db.close()

        v = subprocess.run(["/usr/bin/python3", VALIDATOR, "-k", gpkg], capture_output=True,
                           text=True)
        check(v.returncode == 0 and "ERROR" not in v.stdout + v.stderr,
              f"validate_gpkg: {v.stdout[-2000:]} {v.stderr[-2000:]}")

        for level in ("plr", "bezirk", "city"):
            path = os.path.join(out, level + ".geojson")
            check(os.path.exists(path), f"{level}.geojson written")
            if not os.path.exists(path):
                continue
            with open(path, encoding="utf-8") as f:
                text = f.read()
            doc = json.loads(text)
            check("crs" not in doc, f"{level}.geojson has no crs member")
            geoms = [json.dumps(f["geometry"]) for f in doc["features"]]
            decimals = max((len(m) for g in geoms for m in re.findall(r"\.(\d+)", g)), default=0)
            check(decimals <= 7, f"{level}.geojson coordinates at most 7 decimals, saw {decimals}")
            coords = doc["features"][0]["geometry"]["coordinates"]
            while isinstance(coords[0], list):
                coords = coords[0]
            x, y = coords
            check(13.0 < x < 13.8 and 52.3 < y < 52.7, f"{level}.geojson lon/lat {x},{y}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
