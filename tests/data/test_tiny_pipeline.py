#!/usr/bin/python3
"""The whole pipeline on a hand-checkable project (tests/data/tiny):
four 1-km squares, two districts by key prefix, one town by dissolve;
German number formats; a suppressed cell (".").

Expected by hand:
  2023: district 01 = 1100 + 2100 = 3200 people, children 440 -> 13.75 %
        district 02 =  600 + 1600 = 2200 people, children 220 -> 10.0 %
        town = 5400 people, 660 children -> 12.2222... %
  2022: area 0202 children suppressed -> its share suppressed (flag 2);
        district 02 children missing (not a partial sum); district 02
        people = 2000; town children missing.
"""
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

KIEZ = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def main():
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([KIEZ, "run", "tests/data/tiny/tiny.yml", "--out", out],
                              capture_output=True, text=True)
        print(proc.stderr)
        if proc.returncode != 0:
            return 1
        db = sqlite3.connect(os.path.join(out, "tiny.gpkg"))

        def val(level, key, ind, period):
            r = db.execute(f'SELECT value, flag FROM "{level}_series" WHERE key=? AND indicator=? '
                           'AND period=?', (key, ind, period)).fetchone()
            return r

        check(val("district", "01", "people", "2023-12-31") == (3200, 4), "district 01 people")
        check(val("district", "02", "people", "2022-12-31") == (2000, 4), "district 02 people 2022")
        check(abs(val("district", "01", "child_share", "2023-12-31")[0] - 13.75) < 1e-12,
              "district 01 child share")
        check(abs(val("town", "0", "child_share", "2023-12-31")[0] - 1100 * 0 - 660 / 5400 * 100)
              < 1e-12, "town child share")
        check(val("area", "0202", "child_share", "2022-12-31") == (None, 2),
              "suppressed cell gives a suppressed indicator")
        r = val("district", "02", "child_share", "2022-12-31")
        check(r is not None and r[0] is None and r[1] == 2,
              f"district with a suppressed child has no partial sum: {r}")
        # The layer carries the latest period's values.
        row = db.execute("SELECT people, child_share, parent_key, name FROM area WHERE key='0102'"
                         ).fetchone()
        check(row[0] == 2100 and abs(row[1] - 330 / 2100 * 100) < 1e-12 and row[2] == "01"
              and row[3] == "Nord-Ost", f"layer row {row}")
        town = db.execute("SELECT key, name, people FROM town").fetchall()
        check(town == [("0", "Tiny Town", 5400)], f"town {town}")
        # Provenance: version, project and every input with its size and SHA-256.
        version, project, inputs = db.execute(
            "SELECT kiez_version, project, inputs FROM provenance").fetchone()
        paths = sorted(os.path.basename(i["path"]) for i in json.loads(inputs))
        check(project.endswith("tiny.yml") and version,
              f"provenance names the project and version: {project} {version}")
        check(paths == ["areas.geojson", "pop-2022.csv", "pop-2023.csv"], f"inputs {paths}")
        # Each input's size and SHA-256 equal Python's (hashlib) of the file.
        for i in json.loads(inputs):
            with open(i["path"], "rb") as f:
                data = f.read()
            check(i.get("bytes") == len(data)
                  and i.get("sha256") == hashlib.sha256(data).hexdigest(),
                  f"checksum of {i['path']}: {i.get('bytes')} {i.get('sha256')}")
        db.close()
        # An output folder whose name has URI characters ('?', '#', '%'):
        # the GeoPackage export attaches the store by that path.
        odd = os.path.join(out, "a?b#c%20d")
        p = subprocess.run([KIEZ, "run", "tests/data/tiny/tiny.yml", "--out", odd],
                           capture_output=True, text=True)
        n = None
        if p.returncode == 0:
            g = sqlite3.connect(os.path.join(odd, "tiny.gpkg"))
            n = g.execute("SELECT COUNT(*) FROM area_series").fetchone()[0]
            g.close()
        check(p.returncode == 0 and n == 16,
              f"output folder with ?, #, %: exit {p.returncode}, {n} series rows, "
              f"{p.stderr.strip()[-300:]!r}")
        # A relative output folder named like a URI ("file:x"), run from out.
        p = subprocess.run([os.path.abspath(KIEZ), "run", os.path.abspath("tests/data/tiny/tiny.yml"), "--out",
                            "file:zz"], capture_output=True, text=True, cwd=out)
        check(p.returncode == 0 and os.path.exists(os.path.join(out, "file:zz", "tiny.gpkg")),
              f"output folder file:zz: exit {p.returncode}, {p.stderr.strip()[-300:]!r}")
        # kiez export to relative names like URIs: the GeoPackage with its
        # styles, the GeoJSON with its sidecars.
        os.mkdir(os.path.join(out, "file:gj"))
        p = subprocess.run([os.path.abspath(KIEZ), "export", os.path.join(out, "tiny.sqlite"),
                            "--gpkg", "file:x.gpkg", "--geojson", "file:gj"],
                           capture_output=True, text=True, cwd=out)
        styles = None
        if p.returncode == 0:
            g = sqlite3.connect(os.path.join(out, "file:x.gpkg"))
            styles = g.execute("SELECT COUNT(*) FROM layer_styles").fetchone()[0]
            g.close()
        check(p.returncode == 0 and styles and
              os.path.exists(os.path.join(out, "file:gj", "area.qml")),
              f"export to file:x.gpkg: exit {p.returncode}, {styles} styles, "
              f"{p.stderr.strip()[-300:]!r}")
        # A table read from a pipe (/dev/stdin): the checksum must not drain it.
        pipe_db = os.path.join(out, "pipe.sqlite")
        pipe_yml = os.path.join(out, "pipe.yml")
        with open(pipe_yml, "w", encoding="utf-8") as f:
            f.write("name: p\ncrs: EPSG:25833\nlevels:\n  - {name: area, source: %s, key: id,"
                    " key_width: 4}\ntables:\n  - {source: /dev/stdin, level: area, key: Gebiet,"
                    " period: 2022-12-31}\n" % os.path.abspath("tests/data/tiny/areas.geojson"))
        subprocess.run([KIEZ, "init", pipe_db, "--crs", "EPSG:25833", "-q"], check=True)
        with open("tests/data/tiny/pop-2022.csv", encoding="utf-8") as f:
            p = subprocess.run([KIEZ, "import", pipe_db, pipe_yml, "-q"], input=f.read(),
                               capture_output=True, text=True)
        n = None
        if p.returncode == 0:
            d = sqlite3.connect(pipe_db)
            n = d.execute("SELECT COUNT(*) FROM value_block").fetchone()[0]
            d.close()
        check(p.returncode == 0 and n, f"table from a pipe: exit {p.returncode}, {n} blocks, "
              f"{p.stderr.strip()[-300:]!r}")
        # A damaged value block (its n no longer matches the level's areas):
        # compute refuses with a message naming the block, exit 3.
        store = os.path.join(out, "tiny.sqlite")
        d = sqlite3.connect(store)
        d.execute("UPDATE value_block SET n = n + 1 WHERE level = 'area'"
                  " AND variable = 'Einwohner' AND period = '2023-12-31'")
        d.commit()
        d.close()
        p = subprocess.run([KIEZ, "compute", store, "tests/data/tiny/tiny.yml"],
                           capture_output=True, text=True)
        check(p.returncode == 3 and "value block area, 2023-12-31, Einwohner: 5 values" in p.stderr
              and "re-import the tables" in p.stderr,
              f"damaged block: exit {p.returncode}, {p.stderr.strip()[-300:]!r}")
        # A damaged indicator block: the export refuses the same way and
        # leaves no GeoPackage.
        d = sqlite3.connect(store)
        d.execute("UPDATE indicator_block SET n = n + 1 WHERE level = 'area'"
                  " AND indicator = 'child_share' AND period = '2023-12-31'")
        d.commit()
        d.close()
        broken = os.path.join(out, "broken.gpkg")
        p = subprocess.run([KIEZ, "export", store, "--gpkg", broken],
                           capture_output=True, text=True)
        check(p.returncode == 3 and "indicator block area, 2023-12-31, child_share: 5 values for 4"
              " areas" in p.stderr and not os.path.exists(broken),
              f"damaged indicator block: exit {p.returncode}, {p.stderr.strip()[-300:]!r}")
        # A database of an older schema (version 2 kept one row per
        # indicator value) is refused with what to do, not misread.
        d = sqlite3.connect(store)
        d.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
        d.commit()
        d.close()
        old = os.path.join(out, "old.gpkg")
        p = subprocess.run([KIEZ, "export", store, "--gpkg", old], capture_output=True, text=True)
        check(p.returncode == 3 and "database schema version 2, this kiez reads version 3; "
              "rebuild it with kiez run" in p.stderr and not os.path.exists(old),
              f"old schema: exit {p.returncode}, {p.stderr.strip()[-300:]!r}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
