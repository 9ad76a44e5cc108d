#!/usr/bin/python3
"""Effects of measures on the Berlin demo (issue 7): kiez run
geodata/berlin/berlin.yml with its ILLUSTRATIVE register (the 7 planning
areas of Bezirksregion Wedding Zentrum from 2022-12-31, u6_share, comparison
nearest:10 on u6_share and foreigners_share at baseline).

Recomputes everything independently from the GeoPackage with numpy:
- the comparison group: z-scores (population sd) of the two indicators at
  the last period before the start over all planning areas, Euclidean
  distance to the nearest treated area, the 10 smallest;
- the DiD as OLS with one dummy per area and per period (not the demeaned
  form kiez uses), its CR1 cluster-robust SE (sandwich with the full dummy
  design, c = G/(G-1)(N-1)/(N-K), K without the area dummies), and the
  2x2-style difference of mean changes (balanced panel: equal);
- the pre-trend difference (treated x decimal year on the pre periods) and
  the event study (treated x period dummies, reference 2022-06-30);
and checks the statistics rows, the `measures` layer (union of the 7
polygons), the demo_wedding_treated column, `kiez effect --json`, and that
every output says "illustrative".
"""
import datetime
import json
import os
import sqlite3
import subprocess
import sys
import tempfile

import numpy as np

KIEZ = sys.argv[1]
GEODATA = os.environ.get("KIEZ_GEODATA", "../shared/geodata")
TREATED = ["01401043", "01401044", "01401045", "01401046", "01401047", "01401048", "01401049"]
START = "2022-12-31"
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def close(a, b, tol=1e-9):
    return a is not None and b is not None and abs(a - b) <= tol * max(1.0, abs(b))


def years(iso):
    d = datetime.date.fromisoformat(iso)
    n = 366 if (d.year % 4 == 0 and d.year % 100 != 0) or d.year % 400 == 0 else 365
    return d.year + (d.timetuple().tm_yday - 1) / n


def ols_cr1(X, y, groups, k_absorbed):
    """OLS with the CR1 sandwich; K = columns minus the absorbed area dummies."""
    XtX_inv = np.linalg.pinv(X.T @ X)
    b = XtX_inv @ X.T @ y
    e = y - X @ b
    meat = np.zeros((X.shape[1], X.shape[1]))
    for g in np.unique(groups):
        s = X[groups == g].T @ e[groups == g]
        meat += np.outer(s, s)
    G, N = len(np.unique(groups)), len(y)
    K = X.shape[1] - k_absorbed + 1
    V = G / (G - 1) * (N - 1) / (N - K) * XtX_inv @ meat @ XtX_inv
    return b, np.sqrt(np.diag(V))


def design(areas, periods, rows, extra):
    """Dummies for every area, every period but the first, then extra columns."""
    X, y, g = [], [], []
    for a, p, v in rows:
        r = [1.0 if a == x else 0.0 for x in areas]
        r += [1.0 if p == x else 0.0 for x in periods[1:]]
        r += extra(a, p)
        X.append(r)
        y.append(v)
        g.append(areas.index(a))
    return np.array(X), np.array(y), np.array(g)


def main():
    if not os.path.exists(os.path.join(GEODATA, "berlin/geometry/lor_planungsraeume_2021.shp")):
        print("skipped: no Berlin data")
        return 77
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([KIEZ, "run", "geodata/berlin/berlin.yml", "--out", out],
                              capture_output=True, text=True)
        print(proc.stderr[-2000:])
        if proc.returncode != 0:
            return 1
        db = sqlite3.connect(os.path.join(out, "berlin.gpkg"))
        stats = {}
        notes = set()
        for period, measure, value, note in db.execute(
                "SELECT period, measure, value, note FROM statistics"
                " WHERE analysis = 'effect:demo_wedding' AND subject = 'u6_share'"):
            stats[(measure, period)] = value
            notes.add(note)
        check(len(stats) > 0, "statistics rows of effect:demo_wedding")
        check(all(n and n.startswith("ILLUSTRATIVE") for n in notes),
              f"every statistics row says illustrative: {notes}")

        def stat(m):
            return stats.get((m, START))

        series = {}
        for key, period, ind, value in db.execute(
                "SELECT key, period, indicator, value FROM plr_series"
                " WHERE indicator IN ('u6_share', 'foreigners_share')"):
            series[(key, period, ind)] = value
        periods = sorted({p for (_, p, i) in series if i == "u6_share"})
        check(len(periods) == 8 and periods[0] == "2021-06-30", f"8 periods: {periods}")
        pre = [p for p in periods if p < START]
        base = pre[-1]
        keys = sorted({k for (k, _, _) in series})

        # Comparison group: 10 nearest untreated areas on z-scores at baseline.
        complete = [k for k in keys
                    if series.get((k, base, "u6_share")) is not None
                    and series.get((k, base, "foreigners_share")) is not None]
        z = {}
        for ind in ("u6_share", "foreigners_share"):
            v = np.array([series[(k, base, ind)] for k in complete])
            zz = (v - v.mean()) / v.std()
            for k, x in zip(complete, zz):
                z.setdefault(k, []).append(x)
        dist = {k: min(np.linalg.norm(np.array(z[k]) - np.array(z[t])) for t in TREATED)
                for k in complete if k not in TREATED}
        comparison = sorted(dist, key=lambda k: (dist[k], keys.index(k)))[:10]

        areas = TREATED + sorted(comparison)
        rows = [(a, p, series[(a, p, "u6_share")]) for a in areas for p in periods
                if series.get((a, p, "u6_share")) is not None]
        check(len(rows) == 17 * 8, f"balanced panel of 17 x 8 values, got {len(rows)}")
        X, y, g = design(areas, periods, rows,
                         lambda a, p: [1.0 if a in TREATED and p >= START else 0.0])
        b, se = ols_cr1(X, y, g, len(areas))
        check(close(stat("did"), b[-1]), f"did {stat('did')} vs numpy {b[-1]}")
        check(close(stat("se"), se[-1]), f"se {stat('se')} vs numpy {se[-1]}")
        check(close(stat("t"), b[-1] / se[-1]), "t = did / se")
        check(stat("n_treated") == 7 and stat("n_comparison") == 10,
              f"7 treated, 10 comparison: {stat('n_treated')}, {stat('n_comparison')}")
        check(stat("df") == 16, "df = 17 areas - 1")
        check(stat("status") == 0, "status ok")

        def mean(group, after):
            v = [val for a, p, val in rows if (a in TREATED) == group and (p >= START) == after]
            return sum(v) / len(v)

        did_2x2 = (mean(True, True) - mean(True, False)) - (mean(False, True) - mean(False, False))
        check(close(stat("did"), did_2x2) and close(stat("means_did"), did_2x2),
              f"balanced: did = difference of mean changes {did_2x2}")
        check(stat("ci_low") < stat("did") < stat("ci_high"), "CI around the estimate")

        # Pre-trend difference per year (t shifted by 2022 for numpy's
        # conditioning; the area dummies absorb the shift).
        prows = [r for r in rows if r[1] < START]
        X, y, g = design(areas, pre, prows,
                         lambda a, p: [years(p) - 2022 if a in TREATED else 0.0])
        b, se = ols_cr1(X, y, g, len(areas))
        check(close(stat("pretrend_diff"), b[-1], 1e-7),
              f"pretrend_diff {stat('pretrend_diff')} vs numpy {b[-1]}")
        check(close(stat("pretrend_se"), se[-1], 1e-7),
              f"pretrend_se {stat('pretrend_se')} vs numpy {se[-1]}")
        check(stat("pretrend_violated") == (stat("pretrend_p") < 0.05), "violated iff p < 0.05")

        # Event study, reference = the last period before the start.
        others = [p for p in periods if p != base]
        X, y, g = design(areas, periods, rows,
                         lambda a, p: [1.0 if a in TREATED and p == q else 0.0 for q in others])
        b, se = ols_cr1(X, y, g, len(areas))
        s = periods.index(START)
        for i, q in enumerate(others):
            k = periods.index(q) - s
            check(close(stats.get((f"event_{k}", q)), b[len(b) - len(others) + i]),
                  f"event_{k} {stats.get((f'event_{k}', q))} vs numpy")
            check(close(stats.get((f"event_{k}_se", q)), se[len(b) - len(others) + i]),
                  f"event_{k}_se")
        check(stats.get(("event_-1", base)) == 0, "reference period effect 0")

        # The layer and the column.
        feats = db.execute("SELECT id, n_areas, illustrative, note, areas FROM measures").fetchall()
        check(len(feats) == 1 and feats[0][0] == "demo_wedding" and feats[0][1] == 7
              and feats[0][2] == 1 and "ILLUSTRATIVE" in feats[0][3]
              and feats[0][4] == ",".join(TREATED), f"measures layer: {feats}")
        flag = db.execute("SELECT key FROM plr WHERE demo_wedding_treated = 1 ORDER BY key")
        check([r[0] for r in flag] == TREATED, "demo_wedding_treated = 1 on the 7 areas")
        db.close()
        try:
            import geopandas as gpd
            m = gpd.read_file(os.path.join(out, "berlin.gpkg"), layer="measures")
            plr = gpd.read_file(os.path.join(out, "berlin.gpkg"), layer="plr")
            a = plr[plr.key.isin(TREATED)].geometry.area.sum()
            check(abs(m.geometry.area.iloc[0] - a) < 1e-6 * a,
                  f"measure polygon = union of the 7 areas: {m.geometry.area.iloc[0]} vs {a}")
        except ImportError:
            print("no geopandas: polygon area not checked")

        proc = subprocess.run([KIEZ, "effect", os.path.join(out, "berlin.sqlite"), "--measure",
                               "demo_wedding", "--json"], capture_output=True, text=True)
        if check(proc.returncode == 0, f"kiez effect --json: {proc.stderr}"):
            doc = json.loads(proc.stdout)
            check(doc["illustrative"] is True and "ILLUSTRATIVE" in doc["note"],
                  "JSON says illustrative")
            check(close(doc["estimate"]["did"], stat("did")), "JSON did = statistics row")
            check(sorted(doc["comparison_areas"]) == sorted(comparison),
                  f"JSON comparison areas {doc['comparison_areas']} vs {comparison}")
        proc = subprocess.run([KIEZ, "effect", os.path.join(out, "berlin.sqlite"), "--measure",
                               "demo_wedding"], capture_output=True, text=True)
        check(proc.returncode == 0 and proc.stdout.count("ILLUSTRATIVE") >= 2,
              "text output says illustrative")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
