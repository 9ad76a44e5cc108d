#!/usr/bin/python3
"""Per-point results of `kiez nearest` and `kiez access --json` on many
points: the rows are formatted in chunks on two threads
(src/cli/coverage_args.c), so they must still come complete, in point
order, with the right values, and a full disk must still fail the command.

40,000 seeded points in Berlin's box (EPSG:25833, more than two chunks of
16,384) and the 2,880 Kitas reprojected to the same CRS:
- nearest: one row per point, fids 1..40,000 in order; for every 50th
  point the distance equals a brute-force minimum over all Kitas (1e-6 m);
- access (2SFCA, 1 km, weights 1..5): one row per point in order, and
  sum_i w_i A_i equals the document's sum_demand_times_access;
- stdout on /dev/full: exit 3 and "cannot write the output".

argv[1]: the kiez binary. Runs from the repository root. Exit 77 = skipped.
"""
import json
import math
import os
import random
import subprocess
import sys
import tempfile

GEODATA = os.environ.get("KIEZ_GEODATA", "../shared/geodata")
KITAS = os.path.join(GEODATA, "berlin", "points", "kindertagesstaetten.geojson")
N = 40000
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def write_points(path, rng):
    from osgeo import ogr, osr
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(25833)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    layer = ds.CreateLayer("points", srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("w", ogr.OFTInteger))
    defn = layer.GetLayerDefn()
    points = []
    layer.StartTransaction()
    for i in range(N):
        x, y = rng.uniform(370000, 415000), rng.uniform(5800000, 5837000)
        w = rng.randint(1, 5)
        f = ogr.Feature(defn)
        g = ogr.Geometry(ogr.wkbPoint)
        g.AddPoint_2D(x, y)
        f.SetGeometry(g)
        f.SetField("w", w)
        layer.CreateFeature(f)
        points.append((x, y, w))
    layer.CommitTransaction()
    ds = None
    return points


def read_kitas(path):
    from osgeo import ogr
    ds = ogr.Open(path)
    layer = ds.GetLayer(0)
    return [(f.GetGeometryRef().GetX(), f.GetGeometryRef().GetY()) for f in layer]


def run_json(kiez, args):
    p = subprocess.run([kiez, *args, "--json"], capture_output=True, text=True)
    if not check(p.returncode == 0, f"{args[0]}: exit {p.returncode}: {p.stderr[-300:]}"):
        return None
    return json.loads(p.stdout)


def main():
    kiez = sys.argv[1]
    if not os.path.exists(KITAS):
        print("skipped: no Berlin data")
        return 77
    try:
        from osgeo import ogr  # noqa: F401
    except ImportError:
        print("skipped: no python3-gdal")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        pts_path = os.path.join(tmp, "points.gpkg")
        kitas_path = os.path.join(tmp, "kitas.gpkg")
        subprocess.run(["ogr2ogr", "-f", "GPKG", "-t_srs", "EPSG:25833", kitas_path, KITAS],
                       check=True)
        points = write_points(pts_path, random.Random(20261126))
        kitas = read_kitas(kitas_path)

        doc = run_json(kiez, ["nearest", pts_path, kitas_path])
        if doc is not None:
            rows = doc["results"]
            check([r["fid"] for r in rows] == list(range(1, N + 1)),
                  f"nearest: {len(rows)} rows, not fids 1..{N} in order")
            for i in range(0, min(N, len(rows)), 50):
                x, y, _ = points[i]
                want = min(math.hypot(x - kx, y - ky) for kx, ky in kitas)
                if not check(abs(rows[i]["distance"] - want) <= 1e-6,
                             f"nearest: point {i + 1}: {rows[i]['distance']} != {want}"):
                    break

        doc = run_json(kiez, ["access", pts_path, kitas_path, "--radius", "1000",
                              "--demand", "w"])
        if doc is not None:
            rows = doc["results"]
            check([r["fid"] for r in rows] == list(range(1, N + 1)),
                  f"access: {len(rows)} rows, not fids 1..{N} in order")
            total = sum(points[i][2] * (rows[i]["access"] or 0.0) for i in range(len(rows)))
            want = doc["sum_demand_times_access"]
            check(abs(total - want) <= 1e-9 * max(1.0, abs(want)),
                  f"access: sum w*A over the rows {total} != {want}")

        with open("/dev/full", "w") as full:
            p = subprocess.run([kiez, "nearest", pts_path, kitas_path, "--json"], stdout=full,
                               stderr=subprocess.PIPE, text=True)
        check(p.returncode == 3 and "cannot write the output" in p.stderr,
              f"nearest to a full disk: exit {p.returncode}, {p.stderr.strip()[-200:]!r}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
