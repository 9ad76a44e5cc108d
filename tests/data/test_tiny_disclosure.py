#!/usr/bin/python3
"""Disclosure control and needs for action through the whole pipeline, on
tests/data/tiny/tiny_disclosure.yml (four areas 0101 0102 | 0201 0202 in
districts 01 | 02, town 0; one period, 2023-12-31; min_count 3,
min_population 100 on Einwohner, Flaeche not a count).

Worked out by hand (P primary 0 < x < 3, A area below 100 inhabitants,
S secondary = complement):

  Einwohner 1000 2000 80 1500 | 3000 1580 | 4580
            0201 A; district 02 = 0201 + 0202 -> 0202 S (the only sibling)
  Kinder     100  300  1  200 |  400  201 |  601
            0201 P -> 0202 S
  Senioren     2   40 10   20 |   42   30 |   72
            0101 P -> 0102 S;  0201 A -> 0202 S
  Pflege       5    7  1    1 |   12    2 |   14
            0201 P, 0202 P, district 02 = 2 P (two unknowns below: fine);
            town 14 = 01 + 02 with 02 the only unknown -> 01 S (one level
            up); then district 01 = 0101 + 0102 with 01 the only unknown ->
            0101 S (the smaller child, 5 < 7; one level down)

So 7 cells withheld for their own sake and 6 complements; the totals of
the districts and the town stay the true sums (4580, 601, 72, 14).

Needs for action, child_share (neutral polarity, thresholds 1 and 3
percentage points against the town's 601 / 4580 = 13.1223 %):
  area 0101: 10 %  dev_city −3.1223 (red),   dev_parent 10 − 13.3333, −25 %, rank 1
  area 0102: 15 %  dev_city +1.8777 (yellow), dev_parent +1.6667, +12.5 %, rank 2
  areas 0201, 0202: withheld -> no deviation, light or rank
  district 01: 13.3333 % (+0.2111, green, rank 2); 02: 201 / 1580 = 12.7215 %
  (−0.4008, green, rank 1)
area_km2 (positive polarity, 0.5 and 1 sd on the area level): published
values 12.5, 8.25, 4 (0201 withheld): sd = sqrt(36.125 / 3); town 27.25;
every area worse by more than 1 sd: red; rank 1 = smallest (0202).
Comparable to 0101 in child_share within 6 points: 0102 (distance 5).

The atlas (kiez report, levels area and district) shows exactly these
lights of the GeoPackage, with the rule in the tooltip and the legend; no
light where the value is withheld; on the district level area_km2 has no
light (its action is on the area level only) and gets the atlas's
orientation, labelled as such.
"""
import html
import json
import math
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import kiezdb  # noqa: E402

KIEZ = sys.argv[1]
P = "2023-12-31"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def near(a, b, eps=1e-9):
    return a is not None and b is not None and abs(a - b) <= eps


def light_cells(page):
    """The atlas page's "Ampel / Orientierung" cells: indicator -> (class,
    data-light or None, withheld, title)."""
    with open(page, encoding="utf-8") as f:
        text = f.read()
    cells = {}
    for m in re.finditer(r'<span class="(light official|nolight|orient)" data-indicator="([^"]+)"'
                         r'( data-light="(\d)")?( data-withheld="1")?( title="([^"]*)")?', text):
        check(m.group(2) not in cells, f"{page}: one cell for {m.group(2)}")
        cells[m.group(2)] = (m.group(1), m.group(4) and int(m.group(4)), bool(m.group(5)),
                             html.unescape(m.group(7) or ""))
    return cells, text


def check_atlas_lights(out, g):
    """The atlas shows exactly the GeoPackage's <indicator>_light values, on
    every level that has them, and no light where a value is withheld."""
    for level in ("area", "district"):
        atlas = os.path.join(out, "atlas-" + level)
        p = subprocess.run([KIEZ, "report", os.path.join(out, "tiny.sqlite"), "--out", atlas,
                            "--level", level], capture_output=True, text=True)
        check(p.returncode == 0, f"kiez report --level {level}: {p.stderr[-300:]}")
        if p.returncode != 0:
            continue
        cols = [r[1] for r in g.execute(f'PRAGMA table_info("{level}")')]
        lights = [c[:-len("_light")] for c in cols if c.endswith("_light")]
        check(lights == ["child_share", "area_km2"], f"{level}: light columns {lights}")
        seen = {}
        for row in g.execute(f'SELECT key, {", ".join(c + "_light" for c in lights)}'
                             f' FROM "{level}"').fetchall():
            key, vals = row[0], row[1:]
            cells, text = light_cells(os.path.join(atlas, f"gebiet-{key}.html"))
            for ind, v in zip(lights, vals):
                flag = g.execute(f'SELECT flag FROM "{level}_series" WHERE key=? AND indicator=?'
                                 ' AND period=?', (key, ind, P)).fetchone()
                withheld = flag is not None and flag[0] == 2
                on_level = g.execute(
                    "SELECT COUNT(*) FROM statistics WHERE analysis='action' AND level=?"
                    " AND subject=? AND period=?", (level, ind, P)).fetchone()[0] > 0
                cls, light, wh, title = cells.get(ind, (None, None, False, ""))
                seen[(key, ind)] = light if cls == "light official" else cls
                if v is not None:
                    check(cls == "light official" and light == v,
                          f"atlas {level} {key} {ind}: light {light} ({cls}), GeoPackage {v}")
                    check(f"Spalte {ind}_light" in title, f"{key} {ind}: tooltip names the rule")
                elif withheld:
                    check(cls == "nolight" and light is None and wh,
                          f"atlas {level} {key} {ind}: withheld, no light ({cls}, {light}, {wh})")
                elif on_level:
                    check(cls == "nolight" and light is None,
                          f"atlas {level} {key} {ind}: no light in the GeoPackage, none shown")
                else:  # no official light on this level: the orientation, labelled
                    check(cls == "orient" and "Orientierung, keine Ampel" in title,
                          f"atlas {level} {key} {ind}: orientation, labelled ({cls}, {title!r})")
            # The light columns are not rows of their own, and no orientation
            # sits on a withheld value.
            check("child_share_light" not in cells and "area_km2_light" not in cells,
                  f"{level} {key}: light columns shown as the lights of their indicators")
            check(all(c[0] == "nolight" for c in cells.values() if c[2]),
                  f"{level} {key}: withheld values have no light or orientation")
            if key == "0101":
                check("Grün bis 1, gelb über 1 bis 3, rot über 3 Prozentpunkte" in text
                      and "Vergleich mit dem Stadtwert 13,1 %" in text,
                      "0101: the rule of child_share in the legend (thresholds in points)")
                check("Grün bis 0,5, gelb über 0,5 bis 1, rot über 1 sd" in text
                      and "Abweichung nach unten zählt" in text,
                      "0101: the rule of area_km2 in the legend (sd, positive polarity)")
        # Hand-computed (docstring): 0101 red, 0102 yellow, districts green;
        # area_km2 red in every published area; 0201 and 0202 withheld.
        want = {"area": {("0101", "child_share"): 3, ("0102", "child_share"): 2,
                         ("0201", "child_share"): "nolight", ("0202", "child_share"): "nolight",
                         ("0101", "area_km2"): 3, ("0102", "area_km2"): 3,
                         ("0201", "area_km2"): "nolight", ("0202", "area_km2"): 3},
                "district": {("01", "child_share"): 1, ("02", "child_share"): 1,
                             ("01", "area_km2"): "orient", ("02", "area_km2"): "orient"}}[level]
        check(seen == want, f"atlas {level} lights {seen}")


def main():
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([KIEZ, "run", "tests/data/tiny/tiny_disclosure.yml", "--out", out],
                              capture_output=True, text=True)
        print(proc.stderr)
        if proc.returncode != 0:
            return 1
        g = sqlite3.connect(os.path.join(out, "tiny.gpkg"))

        def row(level, key, ind):
            return g.execute(f'SELECT value, numerator, denominator, flag FROM "{level}_series"'
                             ' WHERE key=? AND indicator=? AND period=?', (key, ind, P)).fetchone()

        def val(level, key, ind):
            r = row(level, key, ind)
            return r[0] if r else None

        # --- the withheld cells, as count indicators ---------------------
        withheld = {("area", "0201", "people"), ("area", "0202", "people"),
                    ("area", "0101", "seniors"), ("area", "0102", "seniors"),
                    ("area", "0201", "seniors"), ("area", "0202", "seniors"),
                    ("area", "0101", "care"), ("area", "0201", "care"),
                    ("area", "0202", "care"), ("district", "01", "care"),
                    ("district", "02", "care")}
        for level, keys in (("area", ["0101", "0102", "0201", "0202"]),
                            ("district", ["01", "02"]), ("town", ["0"])):
            for k in keys:
                for ind in ("people", "seniors", "care"):
                    r = row(level, k, ind)
                    if (level, k, ind) in withheld:
                        check(r == (None, None, None, 2), f"{level} {k} {ind} withheld: {r}")
                    else:
                        check(r is not None and r[0] is not None and r[3] != 2,
                              f"{level} {k} {ind} published: {r}")
        # True totals are kept on the coarser levels.
        check(val("town", "0", "people") == 4580, "town people 4580")
        check(val("town", "0", "care") == 14, "town care 14 (published)")
        check(val("district", "01", "seniors") == 42, "district 01 seniors 42")
        check(val("area", "0102", "care") == 7, "area 0102 care 7 (published)")

        # --- ratios built on withheld cells ------------------------------
        check(row("area", "0202", "child_share") == (None, None, None, 2),
              f"0202 child_share: both cells withheld {row('area', '0202', 'child_share')}")
        check(row("area", "0101", "senior_share") == (None, None, 1000, 2),
              f"0101 senior_share: numerator withheld, denominator published "
              f"{row('area', '0101', 'senior_share')}")
        check(row("area", "0101", "child_share") == (10, 100, 1000, 0), "0101 child_share 10 %")
        r = row("district", "02", "child_share")
        check(r is not None and near(r[0], 201 / 1580 * 100) and r[1:] == (201, 1580, 4),
              f"district 02 child_share from the true sums {r}")
        # Below the minimum population: every indicator, derived ones too.
        for ind in ("people", "child_share", "area_km2", "area_km2_dev_city", "area_km2_light",
                    "child_share_rank"):
            check(row("area", "0201", ind) == (None, None, None, 2), f"0201 {ind} withheld")
        # Flaeche is no count: 2.5 is not suppressed as such (only with its area).
        check(val("district", "02", "area_km2") == 6.5, "district 02 area 6.5")
        check(val("area", "0202", "area_km2") == 4, "0202 area 4")

        # --- nothing withheld can be recomputed from a published total ---
        # Every cell a reader sees: count indicators and the numerators and
        # denominators of ratios (the catalogue names their variables).
        cat = {n: (num, den) for n, num, den in g.execute(
            "SELECT name, numerator, denominator FROM indicator_catalogue")}
        seen = {}
        for level in ("area", "district", "town"):
            for key, ind, v, num, den in g.execute(
                    f'SELECT key, indicator, value, numerator, denominator FROM "{level}_series"'
                    ' WHERE period=?', (P,)):
                if ind not in cat or cat[ind][0] is None:
                    continue
                var_n, var_d = cat[ind]
                if num is not None:
                    seen[(level, key, var_n)] = num
                if var_d is not None and den is not None:
                    seen[(level, key, var_d)] = den
        tree = {("district", "01"): [("area", "0101"), ("area", "0102")],
                ("district", "02"): [("area", "0201"), ("area", "0202")],
                ("town", "0"): [("district", "01"), ("district", "02")]}
        for var in ("Einwohner", "Kinder", "Senioren", "Pflege"):
            for parent, kids in tree.items():
                cells = [parent + (var,)] + [k + (var,) for k in kids]
                hidden = [c for c in cells if c not in seen]
                check(len(hidden) != 1,
                      f"{var}: {hidden} is the only hidden cell of {parent} = sum of children")
        # and what is published adds up (the reader's check would succeed)
        check(seen[("district", "01", "Kinder")] == seen[("area", "0101", "Kinder")]
              + seen[("area", "0102", "Kinder")], "published Kinder add up")

        # --- the rule set in the output's metadata -----------------------
        rules = dict(g.execute("SELECT measure, value FROM statistics WHERE analysis='disclosure'"
                               " AND subject='rules' AND value IS NOT NULL"))
        check(rules == {"min_count": 3, "min_population": 100}, f"rules {rules}")
        sup = {(s, m): v for s, m, v in g.execute(
            "SELECT subject, measure, value FROM statistics WHERE analysis='disclosure'")}
        check(sup[("Pflege", "primary")] == 3 and sup[("Pflege", "secondary")] == 2,
              "Pflege: 3 primary, 2 secondary")
        check(sup[("Senioren", "secondary")] == 2 and sup[("Senioren", "small_area")] == 1,
              "Senioren: 2 secondary, 1 small area")

        # --- the layer (latest period) and the GeoJSON --------------------
        # --- coverage ratios divide by Kinder: withheld where Kinder is ----
        # Kitas 0101 50, 0201 10, 0202 30 places; Kinder 100 300 1(P) 200(S).
        # 0202's 30 / 200 x 100 = 15 would give its count away, and with the
        # district's 201 that of 0201; the facility count stays published.
        # 0201 is below 100 inhabitants: all withheld.
        want = {"0101": (1, 50, 50.0, 100.0), "0102": (0, 0, 0.0, 0.0),
                "0201": (None, None, None, None), "0202": (1, 30, None, None),
                "01": (1, 50, 12.5, 25.0), "02": (2, 40, 4000 / 201, 8000 / 201),
                "0": (3, 90, 9000 / 601, 18000 / 601)}
        got = {}
        for layer in ("area", "district", "town"):
            for r in g.execute("SELECT key, kita_count, kita_supply, kita_per_100, kita_coverage"
                               " FROM " + layer):
                got[r[0]] = r[1:]
        for key, w in want.items():
            check(all((a is None and b is None) or (a is not None and b is not None
                                                    and abs(a - b) < 1e-9)
                      for a, b in zip(got.get(key, ()), w)) and key in got,
                  f"coverage {key}: {got.get(key)} (want {w})")
        flags = dict(g.execute("SELECT key, flag FROM area_series WHERE indicator = 'kita_per_100'"))
        check(flags == {"0101": 0, "0102": 0, "0201": 2, "0202": 2}, f"coverage flags {flags}")

        lay = dict(g.execute("SELECT key, people FROM area"))
        check(lay == {"0101": 1000, "0102": 2000, "0201": None, "0202": None}, f"layer {lay}")
        with open(os.path.join(out, "area.geojson"), encoding="utf-8") as f:
            gj = {ft["properties"]["key"]: ft["properties"] for ft in json.load(f)["features"]}
        check(gj["0202"].get("people") is None and gj["0101"].get("care") is None
              and gj["0102"].get("care") == 7, "GeoJSON withholds the same cells")

        # --- the database keeps the true values for the office -------------
        d = sqlite3.connect(os.path.join(out, "tiny.sqlite"))
        check([c[4] for c in kiezdb.cells(d, "Einwohner", "area") if c[1] == "0201"] == [80],
              "database keeps the true count")
        cells = d.execute("SELECT level, key, variable, status FROM disclosure_cell"
                          " ORDER BY 1, 2, 3").fetchall()
        check(cells == [("area", "0101", "Pflege", 2), ("area", "0101", "Senioren", 1),
                        ("area", "0102", "Senioren", 2), ("area", "0201", "Einwohner", 3),
                        ("area", "0201", "Kinder", 1), ("area", "0201", "Pflege", 1),
                        ("area", "0201", "Senioren", 3), ("area", "0202", "Einwohner", 2),
                        ("area", "0202", "Kinder", 2), ("area", "0202", "Pflege", 1),
                        ("area", "0202", "Senioren", 2), ("district", "01", "Pflege", 2),
                        ("district", "02", "Pflege", 1)], f"disclosure_cell {cells}")
        d.close()

        # --- needs for action -------------------------------------------
        city = 601 / 4580 * 100
        check(near(val("area", "0101", "child_share_dev_city"), 10 - city), "0101 dev_city")
        check(near(val("area", "0102", "child_share_dev_city"), 15 - city), "0102 dev_city")
        check(near(val("area", "0101", "child_share_dev_parent"), 10 - 400 / 3000 * 100),
              "0101 dev_parent")
        check(near(val("area", "0101", "child_share_dev_parent_pct"), -25), "0101 dev_parent %")
        check(near(val("area", "0102", "child_share_dev_parent_pct"), 12.5), "0102 dev_parent %")
        lights = {k: val("area", k, "child_share_light") for k in ("0101", "0102", "0201", "0202")}
        check(lights == {"0101": 3, "0102": 2, "0201": None, "0202": None}, f"lights {lights}")
        ranks = {k: val("area", k, "child_share_rank") for k in ("0101", "0102", "0202")}
        check(ranks == {"0101": 1, "0102": 2, "0202": None}, f"ranks {ranks}")
        check(near(val("district", "02", "child_share_dev_city"), 201 / 1580 * 100 - city),
              "district 02 dev_city")
        dl = {k: (val("district", k, "child_share_light"), val("district", k, "child_share_rank"))
              for k in ("01", "02")}
        check(dl == {"01": (1, 2), "02": (1, 1)}, f"district lights and ranks {dl}")
        check(row("town", "0", "child_share_light") is None, "no lights on the top level")
        sd = g.execute("SELECT value FROM statistics WHERE analysis='action' AND level='area'"
                       " AND subject='area_km2' AND measure='sd'").fetchone()[0]
        check(near(sd, math.sqrt(36.125 / 3)), f"area_km2 sd {sd}")
        km = {k: (val("area", k, "area_km2_light"), val("area", k, "area_km2_rank"))
              for k in ("0101", "0102", "0202")}
        check(km == {"0101": (3, 3), "0102": (3, 2), "0202": (3, 1)}, f"area_km2 {km}")
        comp = g.execute("SELECT subject, measure, value FROM statistics"
                         " WHERE analysis='comparable:0101' ORDER BY fid").fetchall()
        check(comp == [("0101", "n_comparable", 1), ("0102", "distance", 5)],
              f"comparable to 0101 {comp}")
        # The traffic light has a green/yellow/red style.
        qml = g.execute("SELECT styleQML FROM layer_styles WHERE f_table_name='area'"
                        " AND styleName = 'child_share_light'").fetchone()
        check(qml is not None and '"26,150,65,255"' in qml[0] and '"253,174,97,255"' in qml[0]
              and '"215,25,28,255"' in qml[0] and 'label="rot (1)"' in qml[0],
              "traffic-light classes green/yellow/red in the QML")
        check_atlas_lights(out, g)
        g.close()

        # --- the project file: sections checked with file:line messages ---
        base = open("tests/data/tiny/tiny_disclosure.yml", encoding="utf-8").read()
        base = base.replace("source: areas.geojson",
                            "source: " + os.path.abspath("tests/data/tiny/areas.geojson"))
        base = base.replace('"sdc-*.csv"', '"' + os.path.abspath("tests/data/tiny") + '/sdc-*.csv"')
        base = base.replace("source: kitas.csv",
                            "source: " + os.path.abspath("tests/data/tiny/kitas.csv"))
        bad = [
            ("thresholds: [1, 3]}", "thresholds: [3, 1]}", 1, "thresholds must be two numbers"),
            ("thresholds: [1, 3]}", "thresholds: [1]}", 1, "thresholds must be two numbers"),
            ("unit: sd}", "unit: percent}", 1, "is not one of abs, sd"),
            ("not_counts: [Flaeche]}", "not_counts: [Flaeche], variables: [Kinder]}", 1,
             "either variables"),
            ("min_count: 3,", "min_count: 0,", 1, "must be a positive number"),
            ("population: Einwohner, ", "", 1, "needs population: the variable"),
            ('references: ["0101"]', 'references: ["0999"]', 2, "\"0999\" is no area of level area"),
            ("indicator: area_km2, level: area", "indicator: nosuch, level: area", 1,
             "neither an indicator"),
        ]
        for old, new, code, msg in bad:
            text = base.replace(old, new, 1)
            check(text != base, f"bad case {new!r} changes the file")
            path = os.path.join(out, "bad.yml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            p = subprocess.run([KIEZ, "run", path, "--out", os.path.join(out, "bad")],
                               capture_output=True, text=True)
            check(p.returncode == code and msg in p.stderr,
                  f"{new!r}: exit {p.returncode} (want {code}), message {p.stderr.strip()[-300:]!r}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
