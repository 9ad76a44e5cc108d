#!/usr/bin/python3
"""Kita counts per Berlin planning area: kiez count vs. an independent
SpatiaLite SQL count on the same files (issue 5, "must show").

The inputs are loaded into a SpatiaLite database with ogr2ogr; the counting
is SQL: ST_Covers through the R*Tree spatial index. kiez counts a point on
a boundary shared by several areas once, for the first area in the layer;
the SQL applies the same rule explicitly (MIN(area fid) over the covering
areas per point), and the plain per-area ST_Covers counts are compared too,
so any boundary case is named. Capacity sums (e_platz, stored as text) are
compared as well.

argv[1]: the kiez binary. Runs from the repository root. Exit 77 = skipped.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    kiez = sys.argv[1]
    geodata = os.environ.get("KIEZ_GEODATA", os.path.join(ROOT, "..", "shared", "geodata"))
    areas = os.path.join(geodata, "berlin/geometry/lor_planungsraeume_2021.shp")
    kitas = os.path.join(geodata, "berlin/points/kindertagesstaetten.geojson")
    if not (os.path.exists(areas) and os.path.exists(kitas)):
        print("skipped: no Berlin data under", geodata)
        return 77
    if shutil.which("ogr2ogr") is None:
        print("skipped: no ogr2ogr")
        return 77

    proc = subprocess.run([kiez, "count", areas, kitas, "--key", "PLR_ID",
                           "--capacity", "e_platz", "--json"], capture_output=True, timeout=600)
    if proc.returncode != 0:
        print(proc.stderr.decode())
        return 1
    doc = json.loads(proc.stdout)
    kz_count = {r["key"]: r["count"] for r in doc["results"]}
    kz_cap = {r["key"]: r["capacity"] for r in doc["results"]}
    assert doc["points"] == 2880, doc["points"]
    assert len(kz_count) == 542, len(kz_count)

    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "check.sqlite")
        for src, name in ((areas, "plr"), (kitas, "kitas")):
            subprocess.run(["ogr2ogr", "-f", "SQLite",
                            *(["-update"] if name == "kitas" else ["-dsco", "SPATIALITE=YES"]),
                            "-nln", name, "-lco", "GEOMETRY_NAME=geom",
                            "-lco", "SPATIAL_INDEX=YES", db, src], check=True)
        con = sqlite3.connect(db)
        con.enable_load_extension(True)
        try:
            con.load_extension("mod_spatialite")
        except sqlite3.OperationalError as e:
            print("skipped: cannot load mod_spatialite:", e)
            return 77
        # kitas.ogc_fid -> covering areas' (ogc_fid, plr_id), via the R*Tree.
        pairs = con.execute("""
            SELECT k.ogc_fid, a.ogc_fid, a.plr_id
            FROM plr AS a JOIN kitas AS k
              ON k.ROWID IN (SELECT ROWID FROM SpatialIndex
                             WHERE f_table_name = 'kitas' AND search_frame = a.geom)
             AND ST_Covers(a.geom, k.geom) = 1""").fetchall()
        keys = [r[0] for r in con.execute("SELECT plr_id FROM plr")]
        cap = dict(con.execute("SELECT ogc_fid, CAST(e_platz AS REAL) FROM kitas"))
        n_kitas = con.execute("SELECT COUNT(*) FROM kitas").fetchone()[0]
        con.close()

    per_point = {}
    naive = {k: 0 for k in keys}
    for kfid, afid, key in pairs:
        naive[key] += 1
        per_point.setdefault(kfid, []).append((afid, key))
    ruled = {k: 0 for k in keys}
    ruled_cap = {k: 0.0 for k in keys}
    shared = 0
    for kfid, covering in per_point.items():
        covering.sort()
        if len(covering) > 1:
            shared += 1
            print("on a shared boundary: kita", kfid, "covered by", [c[1] for c in covering],
                  "-> counted for", covering[0][1])
        ruled[covering[0][1]] += 1
        ruled_cap[covering[0][1]] += cap[kfid] or 0.0
    outside = n_kitas - len(per_point)

    bad = [k for k in keys if kz_count.get(k) != ruled[k]]
    for k in bad[:20]:
        print(f"area {k}: kiez {kz_count.get(k)}, SpatiaLite {ruled[k]} (plain ST_Covers {naive[k]})")
    bad_cap = [k for k in keys if abs(kz_cap.get(k, -1) - ruled_cap[k]) > 1e-9]
    for k in bad_cap[:20]:
        print(f"area {k}: kiez capacity {kz_cap.get(k)}, SpatiaLite {ruled_cap[k]}")
    assert doc["outside"] == outside, (doc["outside"], outside)
    assert doc["on_shared_boundary"] == shared, (doc["on_shared_boundary"], shared)
    print(f"{len(keys)} areas, {n_kitas} Kitas, {outside} outside, {shared} on shared boundaries; "
          f"{len(keys) - len(bad)} counts and {len(keys) - len(bad_cap)} capacity sums equal")
    if bad or bad_cap:
        return 1
    return check_access(kiez, areas, kitas)


def check_access(kiez, areas, kitas):
    """2SFCA on Berlin: demand on a 250 m grid over the city (weight 1 per
    cell centre), Kita places as supply, 1 km: the identity
    sum_i P_i A_i = sum_j S_j (facilities that reach someone) must hold."""
    feats = []
    for i in range(int((415800 - 370000) / 250)):
        for j in range(int((5837300 - 5799500) / 250)):
            x, y = 370000 + 125 + 250 * i, 5799500 + 125 + 250 * j
            feats.append({"type": "Feature", "properties": {"p": 1 + (i * 7 + j * 3) % 5},
                          "geometry": {"type": "Point", "coordinates": [x, y]}})
    grid = {"type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}},
            "features": feats}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "grid.geojson")
        with open(path, "w") as f:
            json.dump(grid, f)
        for zones in ([], ["--zones", "300:1,600:0.68,1000:0.22"]):
            proc = subprocess.run([kiez, "access", path, kitas, "--radius", "1000",
                                   "--supply", "e_platz", "--demand", "p", "--areas", areas,
                                   "--key", "PLR_ID", "--json", *zones],
                                  capture_output=True, timeout=600)
            if proc.returncode != 0:
                print(proc.stderr.decode())
                return 1
            doc = json.loads(proc.stdout)
            lhs, rhs = doc["sum_demand_times_access"], doc["supply_reached"]
            print(f"{doc['method']}: {len(feats)} demand points, sum P*A = {lhs:.6f}, "
                  f"reached supply = {rhs:.6f} of {doc['supply_total']:.0f}, "
                  f"{doc['unreached_facilities']} Kitas reach no demand")
            assert abs(lhs - rhs) <= 1e-9 * rhs, (lhs, rhs)
            assert doc["unreached_facilities"] == 0 or rhs < doc["supply_total"]
            # the area values are population-weighted means of A_i
            pop = sum(r["population"] for r in doc["results"])
            pa = sum(r["population"] * r["access"] for r in doc["results"] if r["access"] is not None)
            inside = sum(f["properties"]["p"] for f in feats)
            assert pop <= inside and pa <= lhs * (1 + 1e-9)
    return 0


if __name__ == "__main__":
    sys.exit(main())
