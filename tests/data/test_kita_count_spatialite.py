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
    return 1 if bad or bad_cap else 0


if __name__ == "__main__":
    sys.exit(main())
