#!/usr/bin/python3
"""Peer implementations of the coverage benchmark workloads (tools/bench).

Each job runs in its own process (so tools/bench measures its wall time,
CPU time and peak memory with wait4), reads the same input files kiez
reads, and writes its results as JSON {"<id>": value}:

    bench_peers.py JOB PARAMS.json RESULT.json

Jobs: spatialite_count, spatialite_nearest, spatialite_access,
      geopandas_count, geopandas_nearest, geopandas_access.

Point ids are the GeoPackage feature ids (1-based; GeoPandas' 0-based row
index + 1), as kiez reports them.
"""
import json
import os
import sqlite3
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore")


def spatialite_db(p, layers):
    """Load the inputs into a new SpatiaLite database with ogr2ogr (part of
    the timed work: this is how an analyst gets files into SpatiaLite)."""
    db = p["db"]
    if os.path.exists(db):
        os.unlink(db)
    first = True
    for src, name in layers:
        subprocess.run(["ogr2ogr", "-f", "SQLite", *(["-dsco", "SPATIALITE=YES"] if first
                                                      else ["-update"]),
                        "-nln", name, "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=YES",
                        *(["-nlt", "PROMOTE_TO_MULTI"] if name == "areas" else []),
                        "-preserve_fid", db, src], check=True)
        first = False
    con = sqlite3.connect(db)
    con.enable_load_extension(True)
    con.load_extension("mod_spatialite")
    return con


def spatialite_count(p):
    con = spatialite_db(p, [(p["areas"], "areas"), (p["points"], "pts")])
    key = p["key"].lower()
    rows = con.execute(f"""
        SELECT a.{key}, COUNT(pt.ROWID) FROM areas AS a JOIN pts AS pt
          ON pt.ROWID IN (SELECT ROWID FROM SpatialIndex
                          WHERE f_table_name = 'pts' AND search_frame = a.geom)
         AND ST_Covers(a.geom, pt.geom) = 1
        GROUP BY a.{key}""").fetchall()
    return {k: n for k, n in rows}


def spatialite_nearest(p):
    con = spatialite_db(p, [(p["demand"], "dem"), (p["facilities"], "fac")])
    # SpatiaLite's KNN virtual table (R*Tree driven): nearest facility per
    # demand point.
    out = {}
    cur = con.cursor()
    for fid, x, y in con.execute("SELECT ROWID, ST_X(geom), ST_Y(geom) FROM dem").fetchall():
        r = cur.execute("SELECT distance FROM KNN WHERE f_table_name = 'fac'"
                        " AND ref_geometry = MakePoint(?, ?, ?) AND max_items = 1",
                        (x, y, p["srid"])).fetchone()
        out[str(fid)] = r[0] if r else None
    return out


def spatialite_access(p):
    con = spatialite_db(p, [(p["demand"], "dem"), (p["facilities"], "fac")])
    d0 = p["radius"]
    con.execute(f"""
        CREATE TEMP TABLE r AS
        SELECT f.ROWID AS fid, COALESCE(f.places, 0) / SUM(d.w) AS r
        FROM fac AS f JOIN dem AS d
          ON d.ROWID IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = 'dem'
                         AND search_frame = BuildCircleMbr(ST_X(f.geom), ST_Y(f.geom), {d0}))
         AND ST_Distance(f.geom, d.geom) <= {d0}
        GROUP BY f.ROWID""")
    rows = con.execute(f"""
        SELECT d.ROWID, SUM(r.r)
        FROM dem AS d JOIN fac AS f
          ON f.ROWID IN (SELECT ROWID FROM SpatialIndex WHERE f_table_name = 'fac'
                         AND search_frame = BuildCircleMbr(ST_X(d.geom), ST_Y(d.geom), {d0}))
         AND ST_Distance(f.geom, d.geom) <= {d0}
        JOIN r ON r.fid = f.ROWID
        GROUP BY d.ROWID""").fetchall()
    return {str(k): a for k, a in rows}


def geopandas_count(p):
    import geopandas as gpd
    areas = gpd.read_file(p["areas"])
    pts = gpd.read_file(p["points"])
    pts = pts.set_crs(areas.crs, allow_override=True)  # same CRS, spelled differently
    j = gpd.sjoin(pts, areas[[p["key"], "geometry"]], how="inner", predicate="intersects")
    counts = j.groupby(p["key"]).size()
    return {str(k): int(v) for k, v in counts.items()}


def geopandas_nearest(p):
    import geopandas as gpd
    import math
    dem = gpd.read_file(p["demand"])
    fac = gpd.read_file(p["facilities"])
    # sjoin_nearest needs Shapely 2 or PyGEOS, which Debian 12 lacks: the
    # R-tree spatial index's nearest query instead (exact for points: the
    # distance between point boxes is the distance between the points).
    idx = fac.sindex
    fx, fy = fac.geometry.x.values, fac.geometry.y.values
    out = {}
    for i, (x, y) in enumerate(zip(dem.geometry.x.values, dem.geometry.y.values)):
        j = next(iter(idx.nearest((x, y), 1)))
        out[str(i + 1)] = math.hypot(x - fx[j], y - fy[j])
    return out


def geopandas_access(p):
    import geopandas as gpd
    import numpy as np
    d0 = p["radius"]
    dem = gpd.read_file(p["demand"])
    fac = gpd.read_file(p["facilities"])
    fac["places"] = fac["places"].fillna(0.0)
    # Candidate pairs from a slightly larger buffer (the polygon of a buffer
    # lies inside the circle), then the exact distance.
    circles = fac[["places", "geometry"]].copy()
    circles["fx"] = fac.geometry.x
    circles["fy"] = fac.geometry.y
    circles["geometry"] = fac.geometry.buffer(d0 * 1.01)
    pairs = gpd.sjoin(dem[["w", "geometry"]], circles, how="inner", predicate="intersects")
    dx = pairs.geometry.x.values - pairs["fx"].values
    dy = pairs.geometry.y.values - pairs["fy"].values
    pairs = pairs[np.hypot(dx, dy) <= d0]
    demand = pairs.groupby("index_right")["w"].sum()
    ratio = fac["places"].loc[demand.index] / demand
    pairs = pairs.assign(r=pairs["index_right"].map(ratio))
    access = pairs.groupby(level=0)["r"].sum()
    return {str(i + 1): float(a) for i, a in access.items()}


def main():
    job, params, result = sys.argv[1:4]
    with open(params) as f:
        p = json.load(f)
    out = globals()[job](p)
    with open(result, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
