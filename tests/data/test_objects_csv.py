#!/usr/bin/python3
"""Objects from a CSV with coordinate columns and a CRS (issue 2): a
semicolon CSV with lon/lat in EPSG:4326 is imported as points in the
project CRS (EPSG:25833); ids keep their leading zeros, capacities stored
as text are parsed, and the coordinates equal an independent
transformation with GDAL's osr (python3-gdal).
"""
import os
import sqlite3
import subprocess
import sys
import tempfile

from osgeo import ogr, osr

KIEZ = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROWS = [("001", "Kita A", 13.40, 52.52, "40"), ("002", "Kita B", 13.41, 52.53, "55"),
        ("010", "Kita C", 13.3777, 52.5163, "")]


def main():
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "kitas.csv"), "w", encoding="utf-8") as f:
            f.write("id;name;lon;lat;plaetze\n")
            for r in ROWS:
                f.write(f"{r[0]};{r[1]};{r[2]};{r[3]};{r[4]}\n")
        with open(os.path.join(tmp, "p.yml"), "w", encoding="utf-8") as f:
            f.write("name: t\ncrs: EPSG:25833\nlevels:\n"
                    f"  - {{name: area, source: {ROOT}/tests/data/tiny/areas.geojson, key: id}}\n"
                    "objects:\n  - {name: kitas, source: kitas.csv, id: id, label: name,"
                    " capacity: plaetze, x: lon, y: lat, crs: \"EPSG:4326\"}\n"
                    "outputs: {dir: out, gpkg: t.gpkg}\n")
        proc = subprocess.run([KIEZ, "run", "p.yml", "-q"], cwd=tmp, capture_output=True,
                              text=True)
        if proc.returncode != 0:
            print(proc.stderr)
            return 1
        src = osr.SpatialReference()
        src.ImportFromEPSG(4326)
        src.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        dst = osr.SpatialReference()
        dst.ImportFromEPSG(25833)
        dst.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        ct = osr.CoordinateTransformation(src, dst)
        ds = ogr.Open(os.path.join(tmp, "out", "t.gpkg"))
        got = {f["id"]: (f["name"], f["capacity"], f.GetGeometryRef().GetX(),
                         f.GetGeometryRef().GetY()) for f in ds.GetLayerByName("kitas")}
        for oid, name, lon, lat, cap in ROWS:
            x, y, _ = ct.TransformPoint(lon, lat)
            g = got.get(oid)
            if g is None:
                failures.append(f"object {oid} missing (ids: {sorted(got)})")
                continue
            want_cap = float(cap) if cap else None
            if g[0] != name or g[1] != want_cap:
                failures.append(f"{oid}: {g[:2]} != {(name, want_cap)}")
            if abs(g[2] - x) > 1e-6 or abs(g[3] - y) > 1e-6:
                failures.append(f"{oid}: ({g[2]}, {g[3]}) != ({x}, {y})")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
