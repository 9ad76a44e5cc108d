#!/usr/bin/python3
"""Spatial statistics of the MSS 2021 project (issue 4), checked independently.

Runs `kiez run geodata/berlin/mss2021.yml` and checks the GeoPackage:

Moran's I (statistics table, analysis "moran"), queen weights, style W:
  - R spdep on the same shapefile (lor_planungsraeume_2021.shp) and the same
    values (S1, S3, S4 read by this script from the published CSV, -9999 =
    missing; status_index as kiez computed it): the areas without a value
    are dropped, poly2nb(queen = TRUE, snap = kiez's tolerance, read from
    the statistics table), nb2listw(style = "W"), moran.test under
    randomisation and normality (two-sided): I, E[I], variances, z, p to
    1e-9 (relative); localmoran Ii = lisa_<ind>_i to 1e-9;
  - the neighbour lists: `kiez moran --save-weights` on the areas with
    values equals spdep's lists exactly;
  - a plain numpy I = n/S0 * z'Wz / z'z with spdep's neighbours, to 1e-9;
  - n = 536 (6 invalid areas left out), no islands, E[I] = -1/(n-1),
    every p in [0, 1], p_perm in [1/1000, 1].
LISA columns: null exactly for the 6 areas without values; class != 0
  exactly when p < alpha (0.05); classes follow the quadrant of (z_i,
  lag_i) with spdep's neighbours (HH 1: z > 0, lag > 0; LH 2: z <= 0,
  lag > 0; LL 3: z <= 0, lag <= 0; HL 4: z > 0, lag <= 0); p in
  [1/1000, 1].
Correlations (analysis correlation:pearson / correlation:spearman): every
  pair's r equals numpy on the pairwise complete values of the plr layer to
  1e-12 (Spearman: Pearson of average ranks), n the number of pairs, p the
  two-sided t-test p (scipy) to 1e-9 relative, p in [0, 1].
QGIS (when importable): the lisa_S1_class style from layer_styles is a
  categorized renderer and each area's symbol has its class colour (HH red,
  LL blue, LH light blue, HL light red, not significant grey, none white).

Run: test_mss_spatial.py path/to/kiez (from the repository root).
Exit 77 (skipped) without the MSS data, Rscript, spdep, sf or jsonlite.
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

import numpy as np

GEODATA = os.environ.get("KIEZ_GEODATA", "../shared/geodata")
SHP = os.path.join(GEODATA, "berlin/geometry/lor_planungsraeume_2021.shp")
CSV = os.path.join(GEODATA, "berlin/mss2021/mss_2021_index_indikatoren.csv")
FIELDS = ["S1", "S3", "S4", "status_index"]
TOL = 1e-9
ALPHA = 0.05
PERMUTATIONS = 999

R_SCRIPT = r"""
suppressMessages({library(spdep); library(sf); library(jsonlite)})
sf_use_s2(FALSE)
a <- commandArgs(trailingOnly = TRUE)   # shapefile, values csv, tolerances json, out
shp <- st_read(a[1], quiet = TRUE)
vals <- read.csv(a[2], colClasses = "character")
tols <- fromJSON(a[3])
key8 <- function(k) formatC(as.integer(k), width = 8, flag = "0")
shp$key <- key8(shp$PLR_ID)
shp <- shp[order(shp$key), ]
out <- list()
for (f in names(tols)) {
  x <- as.numeric(vals[[f]][match(shp$key, vals$key)])
  keep <- !is.na(x)
  sub <- shp[keep, ]
  nb <- poly2nb(sub, queen = TRUE, snap = tols[[f]])
  lw <- nb2listw(nb, style = "W", zero.policy = TRUE)
  r <- moran.test(x[keep], lw, randomisation = TRUE, alternative = "two.sided",
                  zero.policy = TRUE)
  q <- moran.test(x[keep], lw, randomisation = FALSE, alternative = "two.sided",
                  zero.policy = TRUE)
  m <- localmoran(x[keep], lw, zero.policy = TRUE)
  out[[f]] <- list(
    keys = sub$key, x = x[keep],
    nb = lapply(seq_along(nb), function(i) { v <- nb[[i]]; as.list(sub$key[v[v != 0L]]) }),
    I = unname(r$estimate[1]), E_I = unname(r$estimate[2]),
    var_rand = unname(r$estimate[3]), z_rand = unname(r$statistic), p_rand = r$p.value,
    var_norm = unname(q$estimate[3]), z_norm = unname(q$statistic), p_norm = q$p.value,
    Ii = unname(m[, 1]))
}
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), a[4])
"""

QGIS_SCRIPT = r"""
import json, sys
from qgis.core import QgsApplication, QgsVectorLayer, QgsRenderContext
from qgis.PyQt.QtXml import QDomDocument
QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([], False)
app.initQgis()
lyr = QgsVectorLayer(sys.argv[1] + "|layername=plr", "plr", "ogr")
n, ids, names, desc, err = lyr.listStylesInDatabase()
res = {"styles": list(names)}
if "lisa_S1_class" in names:
    qml, err = lyr.getStyleFromDatabase(ids[names.index("lisa_S1_class")])
    doc = QDomDocument()
    doc.setContent(qml)
    ok, msg = lyr.importNamedStyle(doc)
    r = lyr.renderer()
    res["renderer"] = r.type()
    res["field_type"] = lyr.fields().field("lisa_S1_class").typeName()
    ctx = QgsRenderContext()
    r.startRender(ctx, lyr.fields())
    res["features"] = []
    for f in lyr.getFeatures():
        s = r.symbolForFeature(f, ctx)
        v = f["lisa_S1_class"]
        res["features"].append([f["key"], None if v is None or str(v) == "NULL" else int(v),
                                s.color().name() if s else None])
    r.stopRender(ctx)
del lyr
app.exitQgis()
print(json.dumps(res))
"""

COLOURS = {1: "#ff0000", 2: "#a7adf9", 3: "#0000ff", 4: "#f4ada8", 0: "#eeeeee", None: "#ffffff"}

failures = []
stats = {"compared": 0, "max_rel": 0.0}


def check(cond, what):
    if not cond:
        failures.append(what)


def close(got, want, what, tol=TOL):
    stats["compared"] += 1
    if got is None or want is None:
        check(got is None and want is None, f"{what}: got {got!r}, want {want!r}")
        return
    d = abs(got - want) / max(1.0, abs(want)) if tol == TOL else abs(got - want)
    stats["max_rel"] = max(stats["max_rel"], d if tol == TOL else 0.0)
    check(d <= tol, f"{what}: got {got!r}, want {want!r} (difference {d:.3g})")


def in_unit(p):
    return p is not None and 0.0 <= p <= 1.0


def read_gal(path):
    with open(path, encoding="utf-8") as f:
        lines = [line.split() for line in f if line.strip()]
    nb, k = {}, 1
    while k < len(lines):
        key, cnt = lines[k][0], int(lines[k][1])
        k += 1
        nb[key] = sorted(lines[k]) if cnt else []
        k += cnt > 0
    return nb


def ranks(v):
    """Average ranks (ties share the mean of their positions), 1-based."""
    order = np.argsort(v, kind="mergesort")
    r = np.empty(len(v))
    i = 0
    while i < len(v):
        j = i
        while j + 1 < len(v) and v[order[j + 1]] == v[order[i]]:
            j += 1
        r[order[i:j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return r


def main():
    kiez = os.path.abspath(sys.argv[1])
    if not (os.path.exists(SHP) and os.path.exists(CSV)):
        print("skipped: no MSS 2021 data")
        return 77
    if shutil.which("Rscript") is None or subprocess.run(
            ["Rscript", "-e", "library(spdep); library(sf); library(jsonlite)"],
            capture_output=True).returncode != 0:
        print("skipped: Rscript with spdep, sf and jsonlite is missing")
        return 77
    from scipy import stats as sst

    with open(CSV, encoding="utf-8") as f:
        published = {r["PLR_ID"]: r for r in csv.DictReader(f)}

    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        proc = subprocess.run([kiez, "run", "geodata/berlin/mss2021.yml", "--out", out],
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            print("FAIL: kiez run")
            return 1
        gpkg = os.path.join(out, "mss2021.gpkg")
        db = sqlite3.connect(gpkg)
        stat = {}
        for a, level, period, subject, measure, value in db.execute(
                "SELECT analysis, level, period, subject, measure, value FROM statistics"):
            stat[(a, subject, measure)] = value
            check(level == "plr" and period == "2020-12-31",
                  f"statistic {a} {subject} {measure}: level {level}, period {period}")
        lisa_cols = ", ".join(f"lisa_{f}_i, lisa_{f}_p, lisa_{f}_class" for f in FIELDS)
        layer = {r[0]: r for r in db.execute(f"SELECT key, {', '.join(FIELDS)}, {lisa_cols} "
                                              "FROM plr ORDER BY key")}
        check(len(layer) == 542, f"542 planning areas, got {len(layer)}")

        # The values R sees: S1, S3, S4 from the published file, status_index
        # as kiez computed it (it is kiez's own result).
        values = {}
        for key, row in layer.items():
            pub = published[key]
            v = {}
            for j, f in enumerate(FIELDS):
                if f in pub:
                    v[f] = None if pub[f] in ("", "-9999") else float(pub[f])
                    got = row[1 + j]
                    check((got is None and v[f] is None) or
                          (got is not None and v[f] is not None and abs(got - v[f]) < 1e-12),
                          f"{key} {f}: layer {got}, published {pub[f]}")
                else:
                    v[f] = row[1 + j]
            values[key] = v
        vcsv = os.path.join(tmp, "values.csv")
        with open(vcsv, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["key"] + FIELDS)
            for key in sorted(values):
                w.writerow([key] + ["" if values[key][fl] is None else repr(values[key][fl])
                                    for fl in FIELDS])
        tols = {f: stat.get(("moran", f, "tolerance")) for f in FIELDS}
        if any(t is None for t in tols.values()):
            print("FAIL: no tolerance in the statistics table")
            return 1
        tjson = os.path.join(tmp, "tol.json")
        with open(tjson, "w", encoding="utf-8") as f:
            f.write(json.dumps({k: float(repr(t)) for k, t in tols.items()}))
        script = os.path.join(tmp, "mss.R")
        with open(script, "w", encoding="utf-8") as f:
            f.write(R_SCRIPT)
        rjson = os.path.join(tmp, "r.json")
        rp = subprocess.run(["Rscript", script, SHP, vcsv, tjson, rjson], capture_output=True,
                            text=True, timeout=600)
        if rp.returncode != 0:
            print(rp.stderr[-3000:])
            print("FAIL: the R script failed")
            return 1
        with open(rjson, encoding="utf-8") as f:
            ref = json.load(f)

        # Subset layer for the command line: the areas with values of S1.
        sub = os.path.join(tmp, "valid.gpkg")
        og = subprocess.run(["ogr2ogr", "-f", "GPKG", sub, gpkg, "plr", "-where",
                             "S1 IS NOT NULL"], capture_output=True, text=True)
        check(og.returncode == 0, f"ogr2ogr: {og.stderr.strip()}")

        for j, f in enumerate(FIELDS):
            r = ref[f]
            keys = r["keys"]
            n = len(keys)
            check(n == 536, f"{f}: spdep got {n} areas with values, want 536")
            g = lambda m: stat.get(("moran", f, m))
            close(g("I"), r["I"], f"{f}: I")
            close(g("E_I"), r["E_I"], f"{f}: E[I]")
            close(g("var_rand"), r["var_rand"], f"{f}: Var[I] randomisation")
            close(g("z_rand"), r["z_rand"], f"{f}: z randomisation")
            close(g("p_rand"), r["p_rand"], f"{f}: p randomisation")
            close(g("var_norm"), r["var_norm"], f"{f}: Var[I] normality")
            close(g("z_norm"), r["z_norm"], f"{f}: z normality")
            close(g("p_norm"), r["p_norm"], f"{f}: p normality")
            check(g("n") == 536 and g("islands") == 0, f"{f}: n {g('n')}, islands {g('islands')}")
            check(g("E_I") == -1.0 / 535, f"{f}: E[I] {g('E_I')} != -1/535")
            for m in ("p_norm", "p_rand", "p_perm"):
                check(in_unit(g(m)), f"{f}: {m} = {g(m)} not in [0, 1]")
            check(g("p_perm") is not None and g("p_perm") >= 1.0 / (PERMUTATIONS + 1),
                  f"{f}: p_perm {g('p_perm')} below 1/(R+1)")

            # numpy Moran's I with spdep's neighbours (row-standardised).
            idx = {k: i for i, k in enumerate(keys)}
            x = np.array(r["x"], dtype=float)
            z = x - x.mean()
            nbs = [[idx[k] for k in (v if isinstance(v, list) else [v])] for v in r["nb"]]
            lag = np.array([z[nb].mean() if nb else 0.0 for nb in nbs])
            s0 = sum(1 for nb in nbs if nb)
            close(g("I"), n / s0 * float(z @ lag) / float(z @ z), f"{f}: I (numpy)")

            if f == "S1" and og.returncode == 0:
                gal = os.path.join(tmp, "w.gal")
                cp = subprocess.run([kiez, "moran", sub, "--field", "S1", "--key", "key",
                                     "--snap", repr(tols[f]), "--permutations", "0",
                                     "--save-weights", gal, "--json"],
                                    capture_output=True, text=True)
                check(cp.returncode == 0, f"kiez moran: {cp.stderr.strip()}")
                if cp.returncode == 0:
                    mine = read_gal(gal)
                    theirs = {k: sorted(v if isinstance(v, list) else [v])
                              for k, v in zip(keys, r["nb"])}
                    bad = [k for k in keys if mine.get(k) != theirs[k]]
                    check(not bad, f"S1: neighbour lists differ from spdep for {len(bad)} "
                                   f"areas, e.g. {bad[:3]}")
                    close(json.loads(cp.stdout)["I"], r["I"], "S1: I (kiez moran on the subset)")

            # LISA columns.
            c_i, c_p, c_c = 1 + len(FIELDS) + 3 * j, 2 + len(FIELDS) + 3 * j, 3 + len(FIELDS) + 3 * j
            have = set(keys)
            for key, row in layer.items():
                li, lp, lc = row[c_i], row[c_p], row[c_c]
                if key not in have:
                    check(li is None and lp is None and lc is None,
                          f"{f}: area {key} without value has LISA values")
                    continue
                i = idx[key]
                close(li, r["Ii"][i], f"{f}: local I of {key}")
                check(lp is not None and 1.0 / (PERMUTATIONS + 1) <= lp <= 1.0,
                      f"{f}: LISA p of {key} = {lp}")
                check(lc in (0, 1, 2, 3, 4), f"{f}: class of {key} = {lc}")
                if lp is None or lc is None:
                    continue
                check((lc != 0) == (lp < ALPHA), f"{f}: {key} class {lc} with p {lp}")
                if lc != 0:
                    hi, lag_hi = z[i] > 0, lag[i] > 0
                    want = (1 if lag_hi else 4) if hi else (2 if lag_hi else 3)
                    check(lc == want, f"{f}: {key} class {lc}, quadrant says {want} "
                                      f"(z {z[i]:.4g}, lag {lag[i]:.4g})")
            counts = [sum(1 for row in layer.values() if row[c_c] == c) for c in range(5)]
            print(f"{f}: I = {g('I'):.6f} (spdep {r['I']:.6f}), p_perm {g('p_perm')}, "
                  f"LISA ns/HH/LH/LL/HL = {counts}")

        # Correlations on the values of the plr layer.
        cor = db.execute("SELECT analysis, subject, measure, value FROM statistics "
                         "WHERE analysis LIKE 'correlation:%'").fetchall()
        pairs = {}
        for a, subject, measure, value in cor:
            pairs.setdefault((a, subject), {})[measure] = value
        names = sorted({s for _, subj in pairs for s in subj.split("|")})
        cols = {r[1] for r in db.execute("PRAGMA table_info(plr)")}
        check(set(names) <= cols, f"correlated columns missing in plr: {set(names) - cols}")
        data = {nm: [r[0] for r in db.execute(f'SELECT "{nm}" FROM plr ORDER BY key')]
                for nm in names}
        check(len(pairs) == 2 * 231, f"{len(pairs)} correlation pairs, want 2 x 231")
        worst_p = 0.0
        for (a, subject), m in pairs.items():
            A, B = subject.split("|")
            both = [(u, v) for u, v in zip(data[A], data[B]) if u is not None and v is not None]
            u = np.array([p[0] for p in both])
            v = np.array([p[1] for p in both])
            if a == "correlation:spearman":
                u, v = ranks(u), ranks(v)
            want_r = float(np.corrcoef(u, v)[0, 1])
            close(m.get("r"), want_r, f"{a} {subject}: r", tol=1e-12)
            check(m.get("n") == len(both), f"{a} {subject}: n {m.get('n')} != {len(both)}")
            k = len(both)
            t = want_r * math.sqrt((k - 2) / (1 - want_r * want_r))
            want_p = float(2 * sst.t.sf(abs(t), k - 2))
            got_p = m.get("p")
            check(in_unit(got_p), f"{a} {subject}: p {got_p} not in [0, 1]")
            if got_p is not None and want_p > 1e-290:
                rel = abs(got_p - want_p) / want_p
                worst_p = max(worst_p, rel)
                check(rel <= 1e-9, f"{a} {subject}: p {got_p} vs scipy {want_p} (rel {rel:.3g})")
        sp = pairs.get(("correlation:pearson", "S1|S3"), {})
        print(f"correlations: {len(pairs)} pairs; Pearson S1|S3 r = {sp.get('r')}, "
              f"n = {sp.get('n')}; largest relative p difference to scipy {worst_p:.3g}")

        # QGIS renders the LISA cluster style categorically.
        if subprocess.run(["/usr/bin/python3", "-c", "import qgis.core"],
                          capture_output=True).returncode == 0:
            qs = os.path.join(tmp, "q.py")
            with open(qs, "w", encoding="utf-8") as f:
                f.write(QGIS_SCRIPT)
            env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
            qp = subprocess.run(["/usr/bin/python3", qs, gpkg], capture_output=True, text=True,
                                env=env, timeout=300)
            if qp.returncode != 0 or not qp.stdout.strip():
                check(False, f"QGIS script failed: {qp.stderr[-1000:]}")
            else:
                q = json.loads(qp.stdout.strip().splitlines()[-1])
                check(q.get("renderer") == "categorizedSymbol",
                      f"QGIS renderer of lisa_S1_class: {q.get('renderer')}")
                feats = q.get("features", [])
                check(len(feats) == 542, f"QGIS saw {len(feats)} features")
                wrong = [(k, c, col) for k, c, col in feats if COLOURS.get(c) != col]
                check(not wrong, f"QGIS colours differ from the classes: {wrong[:5]}")
                print(f"QGIS: {q.get('renderer')} on a {q.get('field_type')} field, "
                      f"{len(feats) - len(wrong)} of {len(feats)} areas in their class colour")
        else:
            print("QGIS not importable: style check skipped")
        db.close()

    print(f"compared {stats['compared']} values; largest relative difference to spdep/numpy "
          f"{stats['max_rel']:.3g}")
    for f in failures[:40]:
        print("FAIL:", f)
    if len(failures) > 40:
        print(f"... and {len(failures) - 40} more")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
