#!/usr/bin/python3
"""kiez moran / lisa against R spdep on public data, to 1e-9.

Data: Columbus (spData shapes/columbus.shp, 49 areas, planar coordinates)
and North Carolina SIDS (sf shape/nc.shp, 100 counties, NAD27 lon/lat).

Weights compared (neighbour lists exactly, statistics to 1e-9 relative):
  - queen and rook contiguity: spdep poly2nb(queen = TRUE / FALSE) with its
    default snap vs kiez's automatic snapping tolerance (1e-6 of the extent)
  - k = 4 nearest neighbours of the GEOS centroids (Columbus):
    knearneigh(st_centroid(...), k = 4)
  - distance band 0.5 on the Columbus centroids: dnearneigh(coords, 0, 0.5),
    which leaves 4 islands (zero.policy = TRUE, adjust.n = TRUE)
  with styles W and B.
Statistics compared:
  - moran.test(randomisation = TRUE and FALSE, alternative = "two.sided"):
    I, E[I], variances, z, p
  - localmoran (conditional = TRUE, mlvar = TRUE): Ii, E.Ii, Var.Ii, Z.Ii, p
  - EBImoran.mc statistic (NC: SID74 per BIR74) vs kiez moran --base
  - moran_bv / localmoran_bv observed values (Columbus CRIME with INC)
    vs kiez moran --with / lisa --with

Run: test_spdep_columbus.py path/to/kiez (from the repository root).
Exit 77 (skipped) when Rscript, spdep, spData or sf is missing.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

TOL = 1e-9

R_SCRIPT = r"""
suppressMessages({library(spdep); library(spData); library(sf); library(jsonlite)})
sf_use_s2(FALSE)
args <- commandArgs(trailingOnly = TRUE)
out <- list()
col <- st_read(system.file("shapes/columbus.shp", package = "spData"), quiet = TRUE)
nc <- st_read(system.file("shape/nc.shp", package = "sf"), quiet = TRUE)
nblist <- function(nb) lapply(seq_along(nb), function(i) { v <- nb[[i]]; v[v != 0L] })
mt <- function(x, lw) {
  r <- moran.test(x, lw, randomisation = TRUE, alternative = "two.sided", zero.policy = TRUE)
  q <- moran.test(x, lw, randomisation = FALSE, alternative = "two.sided", zero.policy = TRUE)
  list(I = unname(r$estimate[1]), E = unname(r$estimate[2]),
       var_rand = unname(r$estimate[3]), z_rand = unname(r$statistic), p_rand = r$p.value,
       var_norm = unname(q$estimate[3]), z_norm = unname(q$statistic), p_norm = q$p.value)
}
lm <- function(x, lw) {
  m <- localmoran(x, lw, zero.policy = TRUE)
  list(Ii = unname(m[, 1]), E = unname(m[, 2]), Var = unname(m[, 3]), Z = unname(m[, 4]),
       P = unname(m[, 5]))
}
case <- function(name, x, nb, field, style) {
  lw <- nb2listw(nb, style = style, zero.policy = TRUE)
  list(name = name, field = field, style = style, nb = nblist(nb),
       global = mt(x, lw), local = lm(x, lw))
}
cc <- st_coordinates(st_centroid(st_geometry(col)))
qcol <- poly2nb(col, queen = TRUE)
rcol <- poly2nb(col, queen = FALSE)
kcol <- knn2nb(knearneigh(cc, k = 4))
dcol <- dnearneigh(cc, 0, 0.5)
qnc <- poly2nb(nc, queen = TRUE)
rnc <- poly2nb(nc, queen = FALSE)
out$cases <- list(
  case("columbus queen W", col$CRIME, qcol, "CRIME", "W"),
  case("columbus queen B", col$HOVAL, qcol, "HOVAL", "B"),
  case("columbus rook W", col$CRIME, rcol, "CRIME", "W"),
  case("columbus knn:4 W", col$CRIME, kcol, "CRIME", "W"),
  case("columbus dist:0.5 W", col$INC, dcol, "INC", "W"),
  case("columbus dist:0.5 B", col$CRIME, dcol, "CRIME", "B"),
  case("nc queen W", nc$SID74, qnc, "SID74", "W"),
  case("nc rook B", nc$NWBIR74, rnc, "NWBIR74", "B"))
lwq <- nb2listw(qnc, style = "W")
set.seed(1)
eb <- suppressMessages(EBImoran.mc(nc$SID74, nc$BIR74, lwq, nsim = 9))
out$eb <- list(I = unname(eb$statistic), z = unname(eb$z))
lwc <- nb2listw(qcol, style = "W")
set.seed(1)
bv <- moran_bv(col$CRIME, col$INC, lwc, nsim = 9)
lbv <- localmoran_bv(col$CRIME, col$INC, lwc, nsim = 9)
out$bv <- list(I = unname(bv$t0), Ibvi = unname(lbv[, 1]))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, null = "null", na = "null"), args[1])
"""

SOURCES = {
    "columbus": "/usr/lib/R/site-library/spData/shapes/columbus.shp",
    "nc": "/usr/lib/R/site-library/sf/shape/nc.shp",
}

failures = []
checked = {"values": 0, "neighbour lists": 0, "max_rel_diff": 0.0}


def close(got, want, what):
    checked["values"] += 1
    if want is None or (isinstance(want, float) and math.isnan(want)):
        if got is not None and not (isinstance(got, float) and math.isnan(got)):
            failures.append(f"{what}: got {got!r}, R has NA")
        return
    if got is None:
        failures.append(f"{what}: got null, R has {want!r}")
        return
    diff = abs(got - want) / max(1.0, abs(want))
    checked["max_rel_diff"] = max(checked["max_rel_diff"], diff)
    if diff > TOL:
        failures.append(f"{what}: got {got!r}, R {want!r} (rel. diff {diff:.3g})")


def run_kiez(kiez, args):
    proc = subprocess.run([kiez] + args, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        failures.append(f"kiez {' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
        return None
    return proc


def read_gal(path):
    with open(path, encoding="utf-8") as f:
        lines = [l.split() for l in f if l.strip()]
    n = int(lines[0][1])
    nb = [[] for _ in range(n)]
    k = 1
    while k < len(lines):
        i, cnt = int(lines[k][0]), int(lines[k][1])
        k += 1
        if cnt:
            nb[i - 1] = sorted(int(v) for v in lines[k])
            k += 1
    return nb


def main():
    kiez = os.path.abspath(sys.argv[1])
    if shutil.which("Rscript") is None or not all(os.path.exists(p) for p in SOURCES.values()):
        print("skipped: Rscript or the spData/sf shapefiles are missing")
        return 77
    probe = subprocess.run(["Rscript", "-e", "library(spdep); library(spData); library(sf); "
                            "library(jsonlite)"], capture_output=True)
    if probe.returncode != 0:
        print("skipped: R packages spdep, spData, sf or jsonlite are missing")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        rjson = os.path.join(tmp, "r.json")
        script = os.path.join(tmp, "spdep.R")
        with open(script, "w", encoding="utf-8") as f:
            f.write(R_SCRIPT)
        proc = subprocess.run(["Rscript", script, rjson], capture_output=True, text=True,
                              timeout=600)
        if proc.returncode != 0:
            print(proc.stderr)
            print("FAIL: the R script failed")
            return 1
        with open(rjson, encoding="utf-8") as f:
            ref = json.load(f)

        for case in ref["cases"]:
            name = case["name"]
            data, kind, style = name.split()
            src = SOURCES[data]
            gal = os.path.join(tmp, "w.gal")
            common = [src, "--field", case["field"], "--weights", kind, "--style", style,
                      "--permutations", "0", "--json"]
            p = run_kiez(kiez, ["moran"] + common + ["--save-weights", gal])
            if p is None:
                continue
            got = json.loads(p.stdout)
            # neighbours, exactly
            nb = read_gal(gal)
            want_nb = [sorted(v if isinstance(v, list) else [v]) for v in case["nb"]]
            checked["neighbour lists"] += len(want_nb)
            if nb != want_nb:
                bad = [i + 1 for i in range(len(nb)) if nb[i] != want_nb[i]]
                failures.append(f"{name}: neighbours differ for areas {bad[:10]} "
                                f"(kiez {nb[bad[0] - 1]}, spdep {want_nb[bad[0] - 1]})")
            g = case["global"]
            close(got["I"], g["I"], f"{name}: I")
            close(got["expected"], g["E"], f"{name}: E[I]")
            close(got["normality"]["variance"], g["var_norm"], f"{name}: Var[I] normality")
            close(got["normality"]["z"], g["z_norm"], f"{name}: z normality")
            close(got["normality"]["p"], g["p_norm"], f"{name}: p normality")
            close(got["randomisation"]["variance"], g["var_rand"], f"{name}: Var[I] rand.")
            close(got["randomisation"]["z"], g["z_rand"], f"{name}: z rand.")
            close(got["randomisation"]["p"], g["p_rand"], f"{name}: p rand.")
            p = run_kiez(kiez, ["lisa"] + common)
            if p is None:
                continue
            areas = json.loads(p.stdout)["areas"]
            loc = case["local"]
            for i, a in enumerate(areas):
                close(a["I"], loc["Ii"][i], f"{name}: local I[{i + 1}]")
                close(a["expected"], loc["E"][i], f"{name}: E.Ii[{i + 1}]")
                close(a["variance"], loc["Var"][i], f"{name}: Var.Ii[{i + 1}]")
                close(a["z"], loc["Z"][i], f"{name}: Z.Ii[{i + 1}]")
                close(a["p_norm"], loc["P"][i], f"{name}: p[{i + 1}]")

        # empirical Bayes Moran (NC SIDS 1974)
        p = run_kiez(kiez, ["moran", SOURCES["nc"], "--field", "SID74", "--base", "BIR74",
                            "--permutations", "0", "--json"])
        if p is not None:
            close(json.loads(p.stdout)["I"], ref["eb"]["I"], "EB Moran's I (NC SID74/BIR74)")
        # bivariate (Columbus CRIME with the lag of INC)
        p = run_kiez(kiez, ["moran", SOURCES["columbus"], "--field", "CRIME", "--with", "INC",
                            "--permutations", "0", "--json"])
        if p is not None:
            close(json.loads(p.stdout)["I"], ref["bv"]["I"], "bivariate Moran's I")
        p = run_kiez(kiez, ["lisa", SOURCES["columbus"], "--field", "CRIME", "--with", "INC",
                            "--permutations", "0", "--json"])
        if p is not None:
            for i, a in enumerate(json.loads(p.stdout)["areas"]):
                close(a["I"], ref["bv"]["Ibvi"][i], f"local bivariate I[{i + 1}]")

    print(f"compared {checked['values']} values and {checked['neighbour lists']} neighbour "
          f"lists with spdep; largest relative difference {checked['max_rel_diff']:.3g}")
    for f in failures[:40]:
        print("FAIL:", f)
    if len(failures) > 40:
        print(f"... and {len(failures) - 40} more")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
