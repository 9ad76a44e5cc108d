#!/usr/bin/python3
"""Coverage in the Berlin demo (issue 5): runs geodata/berlin/berlin.yml and
checks the coverage columns of the GeoPackage against independent
computations on the source files.

- kita_count / kita_supply per planning area (all 542) equal a SpatiaLite
  SQL count (ST_Covers through the R*Tree index; a Kita on a boundary
  shared by several areas goes to the first area, kiez's documented rule);
- bzr, pgr, bezirk and city counts and places are the sums of their PLR
  (by the parent chain), and their ratios are recomputed from the sums:
  city kita_per_100 = all places / all children under 6 (source CSV) x 100;
- the 2SFCA identity sum_i P_i A_i = sum_j S_j holds in the statistics
  table and on the exported demand points;
- kita_within is in [0, 100] everywhere; for a few planning areas the grid
  points are the 100 m cell centres inside the polygon (OGR), their weights
  add up to the area's children under 6, and kita_within / kita_dist /
  kita_access equal a brute-force Python computation over all Kitas.

argv[1]: the kiez binary. Runs from the repository root. Exit 77 = skipped.
"""
import csv
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PERIOD_DIR = "berlin/population/berlin-lor-population-2024-02"
# A few planning areas for the brute-force checks: dense centre, outskirts,
# a large forest area, and two picked by key order.
PROBE = ["01100101", "01100102", "04300622", "09501838", "12601235", "06400841"]


def close(a, b, rel=1e-9, abs_=1e-9):
    return a is not None and b is not None and abs(a - b) <= max(abs_, rel * max(abs(a), abs(b)))


def spatialite_counts(tmp, areas, kitas):
    db = os.path.join(tmp, "check.sqlite")
    for src, name in ((areas, "plr"), (kitas, "kitas")):
        subprocess.run(["ogr2ogr", "-f", "SQLite",
                        *(["-update"] if name == "kitas" else ["-dsco", "SPATIALITE=YES"]),
                        "-nln", name, "-lco", "GEOMETRY_NAME=geom",
                        "-lco", "SPATIAL_INDEX=YES", db, src], check=True)
    con = sqlite3.connect(db)
    con.enable_load_extension(True)
    con.load_extension("mod_spatialite")
    pairs = con.execute("""
        SELECT k.ogc_fid, a.ogc_fid, a.plr_id
        FROM plr AS a JOIN kitas AS k
          ON k.ROWID IN (SELECT ROWID FROM SpatialIndex
                         WHERE f_table_name = 'kitas' AND search_frame = a.geom)
         AND ST_Covers(a.geom, k.geom) = 1""").fetchall()
    keys = [r[0] for r in con.execute("SELECT plr_id FROM plr")]
    cap = dict(con.execute("SELECT ogc_fid, CAST(e_platz AS REAL) FROM kitas"))
    con.close()
    per_point = {}
    for kfid, afid, key in pairs:
        per_point.setdefault(kfid, []).append((afid, key))
    count = {k: 0 for k in keys}
    places = {k: 0.0 for k in keys}
    for kfid, covering in per_point.items():
        covering.sort()
        count[covering[0][1]] += 1
        places[covering[0][1]] += cap[kfid] or 0.0
    return count, places, len(cap) - len(per_point)


def main():
    kiez = sys.argv[1]
    geodata = os.environ.get("KIEZ_GEODATA", os.path.join(ROOT, "..", "shared", "geodata"))
    areas = os.path.join(geodata, "berlin/geometry/lor_planungsraeume_2021.shp")
    kitas = os.path.join(geodata, "berlin/points/kindertagesstaetten.geojson")
    t2 = os.path.join(geodata, PERIOD_DIR, "berlin-lor-population-2024-02-t2-planning-areas.csv")
    if not all(os.path.exists(p) for p in (areas, kitas, t2)):
        print("skipped: no Berlin data under", geodata)
        return 77
    if shutil.which("ogr2ogr") is None:
        print("skipped: no ogr2ogr")
        return 77
    try:
        from osgeo import ogr
    except ImportError:
        print("skipped: no python3-gdal")
        return 77
    ok = True

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        env = dict(os.environ, KIEZ_GEODATA=geodata)
        proc = subprocess.run([kiez, "run", "geodata/berlin/berlin.yml", "--out", out], env=env,
                              capture_output=True, timeout=900)
        if proc.returncode != 0:
            print(proc.stderr.decode())
            return 1
        gpkg = os.path.join(out, "berlin.gpkg")
        con = sqlite3.connect(gpkg)

        def table(level, cols):
            return {r[0]: r[1:] for r in con.execute(
                f"SELECT key, {', '.join(cols)} FROM {level}")}

        plr = table("plr", ["parent_key", "kita_count", "kita_supply", "kita_per_100",
                            "kita_within", "kita_dist", "kita_access"])
        assert len(plr) == 542, len(plr)

        # 1. Counts and places per PLR vs SpatiaLite SQL.
        try:
            count, places, outside = spatialite_counts(tmp, areas, kitas)
        except sqlite3.OperationalError as e:
            print("skipped: SpatiaLite unavailable:", e)
            return 77
        bad = [k for k in plr if plr[k][1] != count[k] or not close(plr[k][2], places[k])]
        for k in bad[:10]:
            print(f"PLR {k}: kiez {plr[k][1]} Kitas / {plr[k][2]} places, "
                  f"SpatiaLite {count[k]} / {places[k]}")
        ok &= not bad
        print(f"1. {542 - len(bad)} of 542 PLR: Kita counts and places equal SpatiaLite "
              f"({sum(count.values())} Kitas inside, {outside} outside)")

        # 2. Sums up the chain, ratios from sums.
        children = {}
        with open(t2, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                children[row["id"]] = float(row["inhabitants_age_below_6"])
        chain = {"bzr": "plr", "pgr": "bzr", "bezirk": "pgr", "city": "bezirk"}
        sums = {"plr": {k: (v[1], v[2], children[k]) for k, v in plr.items()}}
        parent = {"plr": {k: v[0] for k, v in plr.items()}}
        for level, child in chain.items():
            rows = table(level, ["parent_key", "kita_count", "kita_supply", "kita_per_100"])
            parent[level] = {k: v[0] for k, v in rows.items()}
            agg = {}
            for ck, (c, s, d) in sums[child].items():
                a = agg.setdefault(parent[child][ck], [0, 0.0, 0.0])
                a[0] += c
                a[1] += s
                a[2] += d
            sums[level] = {k: tuple(v) for k, v in agg.items()}
            bad = [k for k in rows if k not in agg or rows[k][1] != agg[k][0]
                   or not close(rows[k][2], agg[k][1])
                   or not close(rows[k][3], agg[k][1] / agg[k][2] * 100)]
            for k in bad[:5]:
                print(f"{level} {k}: kiez {rows[k][1:]}, sum of {child} {agg.get(k)}")
            ok &= not bad and len(rows) == len(agg)
            print(f"2. {level}: {len(rows) - len(bad)} of {len(rows)} areas = sums of {child}, "
                  "ratio from the sums")
        # Bezirk by key prefix too (independent of parent_key).
        bez = table("bezirk", ["kita_count"])
        by_prefix = {}
        for k, v in plr.items():
            by_prefix[k[:2]] = by_prefix.get(k[:2], 0) + v[1]
        ok &= all(bez[k][0] == by_prefix[k] for k in bez)
        city = table("city", ["kita_per_100", "kita_count"])["11"]
        with open(kitas, encoding="utf-8") as f:
            fc = json.load(f)
        all_places = sum(float(ft["properties"]["e_platz"] or 0) for ft in fc["features"])
        expect = all_places / sum(children.values()) * 100
        print(f"2. city: kiez {city[0]:.6f} Kita places per 100 children under 6, "
              f"independent {expect:.6f} ({all_places:.0f} places / "
              f"{sum(children.values()):.0f} children)")
        ok &= outside == 0 and close(city[0], expect, rel=1e-12)

        # 3. The 2SFCA identity.
        stats = dict(con.execute("SELECT measure, value FROM statistics WHERE analysis ="
                                 " 'coverage' AND subject = 'kita'"))
        print(f"3. 2SFCA: sum P*A = {stats['sum_demand_times_access']:.9f}, supply reached "
              f"{stats['supply_reached']:.9f}, total {stats['supply_total']:.0f}")
        ok &= close(stats["sum_demand_times_access"], stats["supply_reached"])
        # The method of the demand points is stated in the output.
        note = con.execute("SELECT note FROM statistics WHERE analysis = 'coverage' AND"
                           " subject = 'kita' AND measure = 'demand_points'").fetchone()[0]
        desc = con.execute("SELECT description FROM indicator_catalogue"
                           " WHERE name = 'kita_within'").fetchone()[0]
        print(f"3. demand points: {note}")
        ok &= note.startswith("grid 100:") and "grid 100:" in desc
        con.close()

        ds = ogr.Open(gpkg)
        lyr = ds.GetLayerByName("kita_demand")
        pts = {}
        spa = 0.0
        for ft in lyr:
            g = ft.GetGeometryRef()
            w, a = ft.GetField("weight"), ft.GetField("access")
            spa += w * a
            pts.setdefault(ft.GetField("area_key"), []).append(
                (g.GetX(), g.GetY(), w, ft.GetField("distance"), a))
        ds = None
        print(f"3. on the {sum(map(len, pts.values()))} exported demand points: "
              f"sum weight*access = {spa:.9f}")
        ok &= close(spa, stats["supply_reached"])

        # 4. Within 500 m: range, and brute force for a few areas.
        within = [v[4] for v in plr.values() if v[4] is not None]
        ok &= all(0 <= w <= 100 for w in within) and len(within) > 500
        print(f"4. kita_within in [0, 100] for all {len(within)} PLR with children")
        kx = [ft["geometry"]["coordinates"][0] for ft in fc["features"]]
        ky = [ft["geometry"]["coordinates"][1] for ft in fc["features"]]
        shp = ogr.Open(areas)
        al = shp.GetLayer(0)
        polys = {ft.GetField("PLR_ID"): ft.GetGeometryRef().Clone() for ft in al}
        for key in PROBE:
            mine = pts.get(key, [])
            poly = polys[key]
            minx, maxx, miny, maxy = poly.GetEnvelope()
            centres = set()
            for c in range(math.floor(minx / 100), math.floor(maxx / 100) + 1):
                for r in range(math.floor(miny / 100), math.floor(maxy / 100) + 1):
                    x, y = c * 100 + 50, r * 100 + 50
                    pt = ogr.Geometry(ogr.wkbPoint)
                    pt.AddPoint_2D(x, y)
                    if poly.Intersects(pt):
                        centres.add((x, y))
            got = {(p[0], p[1]) for p in mine}
            wsum = sum(p[2] for p in mine)
            pw = pin = pd = pa = 0.0
            for x, y, w, d_kiez, a in mine:
                d = min(math.hypot(x - X, y - Y) for X, Y in zip(kx, ky))
                ok &= abs(d - d_kiez) <= 1e-6
                pw += w
                pd += w * d
                pin += w if d <= 500 else 0
                pa += w * a
            v = plr[key]
            good = (got == centres and close(wsum, children[key]) and
                    close(v[4], pin / pw * 100) and close(v[5], pd / pw) and
                    close(v[6], pa / pw * 100))
            print(f"4. PLR {key}: {len(got)} grid points (OGR {len(centres)}), weights "
                  f"{wsum:.6f} = {children[key]:.0f} children; within 500 m kiez {v[4]:.6f} "
                  f"brute force {pin / pw * 100:.6f}; mean distance {v[5]:.3f} / {pd / pw:.3f} m"
                  f"{'' if good else '  <-- MISMATCH'}")
            ok &= good
    print("ok" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
