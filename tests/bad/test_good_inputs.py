#!/usr/bin/python3
"""Inputs that look bad but must work (the passing side of the bad-input
corpus, issue 8). Each runs `kiez run` on the tiny project's four 1-km
squares (tests/data/tiny) with one twist and checks the results with sqlite3:

1. lost_zeros: CSV keys that lost their leading zeros ("101") and a
   GeoJSON key stored as a number (101) match the areas "0101"... through
   the level's key_width: 4 (without it, see bad/csv_lost_zeros_no_width).
2. sql_names_as_data: names made of quotes, semicolons, comment markers,
   spaces and umlauts where they are data, not identifiers: the key field
   "Schlüssel; --'\\"x" and label field "Name mit Lücke" of the GeoJSON, the
   CSV key column "Gebiet; --'", variables 'Einwohner "alle"',
   "DROP TABLE value;", "--" and "Kinder unter 6", an indicator label and the
   project name. They are bound or quoted: every table is still there, the
   variables are stored under their exact names, and the indicator values
   are right (Kinder unter 6 / Einwohner "alle" * 100).
   (The same characters in level/indicator/object names, which become SQL
   identifiers, are rejected: bad/project_sql_*.case, project_name_*.case.)
3. multipoint_objects: an object layer of MultiPoints is accepted (one
   single-point MultiPoint, one of two points: first point, one warning).
4. invalid_repaired: a bow-tie and a self-touching ring with the default
   invalid: repair are repaired with GEOS MakeValid and counted in one
   warning ("repaired 2 invalid polygon(s)"); all four areas are there.
   (invalid: reject: bad/geom_bowtie_reject.case.)
5. mixed_crs: areas in EPSG:4326, objects in EPSG:25833, project in
   EPSG:25833: both reprojected; the area bounding boxes come back to the
   original metres (to 0.01 m) and each object lands in its square.
"""
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import kiezdb  # noqa: E402

KIEZ = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AREAS = os.path.join(ROOT, "tests/data/tiny/areas.geojson")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def areas():
    with open(AREAS, encoding="utf-8") as f:
        return json.load(f)


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def run(tmp, project, name):
    write(os.path.join(tmp, "p.yml"), project)
    p = subprocess.run([KIEZ, "run", "p.yml", "--out", "out"], cwd=tmp, capture_output=True,
                       text=True)
    if not check(p.returncode == 0, f"{name}: exit {p.returncode}: {p.stderr[-2000:]}"):
        return None, p.stderr
    return sqlite3.connect(os.path.join(tmp, "out", "t.sqlite")), p.stderr


def values(db, variable):
    return {c[1]: c[4] for c in kiezdb.cells(db, variable)}


def lost_zeros(tmp):
    fc = areas()
    for f in fc["features"]:
        f["properties"]["id"] = int(f["properties"]["id"])  # 101: a number, zeros gone
    write(os.path.join(tmp, "g.geojson"), json.dumps(fc))
    write(os.path.join(tmp, "t.csv"), "Gebiet;Einwohner\n101;1000\n102;2000\n 201 ;600\n0202;1600\n")
    db, _ = run(tmp, "name: t\ncrs: EPSG:25833\nlevels:\n"
                     "  - {name: area, source: g.geojson, key: id, key_width: 4}\n"
                     "tables:\n  - {source: t.csv, level: area, key: Gebiet, period: 2023-12-31}\n"
                     "outputs: {gpkg: t.gpkg}\n", "lost_zeros")
    if db is None:
        return
    keys = [r[0] for r in db.execute("SELECT key FROM area WHERE level = 'area' ORDER BY key")]
    check(keys == ["0101", "0102", "0201", "0202"], f"lost_zeros: area keys {keys}")
    check(values(db, "Einwohner") == {"0101": 1000, "0102": 2000, "0201": 600, "0202": 1600},
          f"lost_zeros: values {values(db, 'Einwohner')}")


def sql_names(tmp):
    key, label = "Schlüssel; --'\"x", "Name mit Lücke"
    fc = areas()
    for f in fc["features"]:
        p = f["properties"]
        f["properties"] = {key: p["id"], label: p["name"], "it's": 1}
    write(os.path.join(tmp, "g.geojson"), json.dumps(fc, ensure_ascii=False))
    write(os.path.join(tmp, "t.csv"),
          '"Gebiet; --\'";"Einwohner ""alle""";Kinder unter 6;"DROP TABLE value;";--\n'
          "0101;1000;10;1;2\n0102;2000;30;1;2\n0201;600;60;1;2\n0202;1600;160;1;2\n")
    db, _ = run(tmp, "name: \"t'; DROP TABLE area; --\"\ncrs: EPSG:25833\nlevels:\n"
                     "  - {name: area, source: g.geojson, key: \"Schlüssel; --'\\\"x\", "
                     "label: \"Name mit Lücke\"}\n"
                     "tables:\n  - {source: t.csv, level: area, key: \"Gebiet; --'\", "
                     "period: 2023-12-31}\n"
                     "indicators:\n"
                     "  - {name: kids, label: \"Kinder'; --\", numerator: \"Kinder unter 6\", "
                     "denominator: \"Einwohner \\\"alle\\\"\", scale: 100, unit: \"%\"}\n"
                     "  - {name: dropper, label: \"/* x */\", numerator: \"DROP TABLE value;\", "
                     "denominator: \"--\"}\n"
                     "outputs: {gpkg: t.gpkg, geojson: true}\n", "sql_names")
    if db is None:
        return
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    check({"area", "value_block", "indicator", "indicator_block", "level"} <= tables,
          f"sql_names: tables lost: {tables}")
    variables = kiezdb.variables(db)
    check(variables == {'Einwohner "alle"', "Kinder unter 6", "DROP TABLE value;", "--"},
          f"sql_names: variables {variables}")
    names = dict(db.execute("SELECT key, name FROM area WHERE level = 'area'").fetchall())
    check(names.get("0201") == "Süd-West", f"sql_names: labels {names}")
    kids = {r[1]: r[4] for r in kiezdb.indicators(db, "kids", "area")}
    want = {"0101": 1.0, "0102": 1.5, "0201": 10.0, "0202": 10.0}
    check(kids.keys() == want.keys() and all(abs(kids[k] - want[k]) < 1e-9 for k in want),
          f"sql_names: kids {kids}")
    label = db.execute("SELECT label FROM indicator WHERE name = 'kids'").fetchone()
    check(label == ("Kinder'; --",), f"sql_names: indicator label {label}")
    g = sqlite3.connect(os.path.join(tmp, "out", "t.gpkg"))
    rows = dict(g.execute('SELECT key, kids FROM "area"').fetchall())
    check(rows.keys() == want.keys() and all(abs(rows[k] - want[k]) < 1e-9 for k in want),
          f"sql_names: GeoPackage kids {rows}")


def multipoint(tmp):
    write(os.path.join(tmp, "k.geojson"), json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}},
        "features": [
            {"type": "Feature", "properties": {"nr": "a"},
             "geometry": {"type": "MultiPoint", "coordinates": [[390500, 5820500]]}},
            {"type": "Feature", "properties": {"nr": "b"},
             "geometry": {"type": "MultiPoint", "coordinates": [[391500, 5819500], [1, 1]]}},
            {"type": "Feature", "properties": {"nr": "c"},
             "geometry": {"type": "Point", "coordinates": [391500, 5820500]}}]}))
    db, err = run(tmp, "name: t\ncrs: EPSG:25833\nlevels:\n"
                       f"  - {{name: area, source: {AREAS}, key: id}}\n"
                       "objects:\n  - {name: kitas, source: k.geojson, id: nr}\n"
                       "outputs: {gpkg: t.gpkg}\n", "multipoint")
    if db is None:
        return
    n = db.execute("SELECT COUNT(*) FROM object").fetchone()[0]
    check(n == 3, f"multipoint: {n} objects, expected 3")
    check(err.count("MultiPoint of 2 points") == 1, f"multipoint: one warning: {err}")
    db.enable_load_extension(True)
    db.load_extension("mod_spatialite")
    xy = db.execute("SELECT ST_X(geom), ST_Y(geom) FROM object WHERE object_id = 'b'").fetchone()
    check(xy == (391500, 5819500), f"multipoint: first point of b: {xy}")


def invalid_repaired(tmp):
    fc = areas()
    bowtie = [[390000, 5820000], [391000, 5821000], [391000, 5820000], [390000, 5821000],
              [390000, 5820000]]
    touching = [[391000, 5820000], [392000, 5820000], [391500, 5820500], [392000, 5821000],
                [391000, 5821000], [391500, 5820500], [391000, 5820000]]
    fc["features"][0]["geometry"]["coordinates"] = [bowtie]
    fc["features"][1]["geometry"]["coordinates"] = [touching]
    write(os.path.join(tmp, "g.geojson"), json.dumps(fc))
    db, err = run(tmp, "name: t\ncrs: EPSG:25833\nlevels:\n"
                       "  - {name: area, source: g.geojson, key: id}\n"
                       "outputs: {gpkg: t.gpkg}\n", "invalid_repaired")
    if db is None:
        return
    check("repaired 2 invalid polygon(s) with GEOS MakeValid" in err,
          f"invalid_repaired: warning with the count: {err}")
    n = db.execute("SELECT COUNT(*) FROM area WHERE level = 'area'").fetchone()[0]
    check(n == 4, f"invalid_repaired: {n} areas, expected 4 (nothing dropped)")


def mixed_crs(tmp):
    src = os.path.join(tmp, "a4326.geojson")
    p = subprocess.run(["ogr2ogr", "-f", "GeoJSON", "-t_srs", "EPSG:4326", "-lco",
                        "COORDINATE_PRECISION=10", src, AREAS], capture_output=True, text=True)
    if not check(p.returncode == 0, f"mixed_crs: ogr2ogr: {p.stderr}"):
        return
    write(os.path.join(tmp, "k.geojson"), json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25833"}},
        "features": [{"type": "Feature", "properties": {"nr": k},
                      "geometry": {"type": "Point", "coordinates": xy}}
                     for k, xy in (("nw", [390500, 5820500]), ("se", [391500, 5819500]))]}))
    db, _ = run(tmp, "name: t\ncrs: EPSG:25833\nlevels:\n"
                     "  - {name: area, source: a4326.geojson, key: id}\n"
                     "objects:\n  - {name: kitas, source: k.geojson, id: nr}\n"
                     "outputs: {gpkg: t.gpkg}\n", "mixed_crs")
    if db is None:
        return
    db.enable_load_extension(True)
    db.load_extension("mod_spatialite")
    boxes = {k: (x0, y0, x1, y1) for k, x0, y0, x1, y1 in db.execute(
        "SELECT key, ST_MinX(geom), ST_MinY(geom), ST_MaxX(geom), ST_MaxY(geom) FROM area "
        "WHERE level = 'area'")}
    want = {"0101": (390000, 5820000, 391000, 5821000), "0102": (391000, 5820000, 392000, 5821000),
            "0201": (390000, 5819000, 391000, 5820000), "0202": (391000, 5819000, 392000, 5820000)}
    ok = boxes.keys() == want.keys() and all(
        abs(a - b) < 0.01 for k in want for a, b in zip(boxes[k], want[k]))
    check(ok, f"mixed_crs: area boxes {boxes}")
    pts = {k: (x, y) for k, x, y in db.execute("SELECT object_id, ST_X(geom), ST_Y(geom) FROM object")}
    check(pts == {"nw": (390500, 5820500), "se": (391500, 5819500)},
          f"mixed_crs: objects moved: {pts}")
    inside = {k: a for k, a in db.execute(
        "SELECT o.object_id, a.key FROM object o JOIN area a ON a.level = 'area' "
        "AND ST_Covers(a.geom, o.geom)")}
    check(inside == {"nw": "0101", "se": "0202"}, f"mixed_crs: objects in areas {inside}")


def main():
    for test in (lost_zeros, sql_names, multipoint, invalid_repaired, mixed_crs):
        with tempfile.TemporaryDirectory() as tmp:
            test(tmp)
    if failures:
        print(len(failures), "failure(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
