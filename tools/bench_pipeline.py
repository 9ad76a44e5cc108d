#!/usr/bin/python3
"""Pipeline benchmark (issue 9): kiez against PostGIS, GeoPandas and SpatiaLite.

    tools/bench_pipeline.py [--quick] [--tools kiez,postgis,geopandas,spatialite]
                            [--kiez build-bench/kiez] [--work /tmp/kiez-bench-pipeline]
                            [--stream] [--periods N] [--vars N] [--gems N] [--seed S]

Workload (seeded, deterministic): the municipalities (Gemeinden, AGS 8
digits) of Germany from $KIEZ_GEODATA/germany/VG5000_GEM.shp (EPSG:31467),
with the Kreise (AGS 5) and Länder (AGS 2) as parent levels by key prefix;
per period one wide CSV as a statistics office exports it
(`gemeinden_2024.csv`: `AGS;v01;...;v50`, semicolon, decimal comma, keys
with leading zeros). v01 is the population; v02.. are counts within it; the
last fifth of the variables are amounts with two decimals (decimal comma).

Every tool does the same steps on the same files: import the geometries and
the CSVs, aggregate all variables to Kreise and Länder (sums), compute the
indicators (ratios, every level and period), z-scores of three indicators
over the Kreise and a composite index (z-score of the sum of the z-scores,
Berlin MSS style), trends (last - first and OLS slope per year on decimal
years) on every level, and write a GeoPackage (one layer per level with
the latest indicators, index and trends, plus the indicators of every
period) and one GeoJSON (RFC 7946) per level. kiez writes more (the long
series with numerators and denominators, time layers, QGIS styles,
catalogue, provenance).

The results are compared for every area of every level (latest ratios, the
Kreis index and z-score, trends): any difference above 1e-9 (relative) fails
the run with exit code 1.

Wall time, CPU time (user + system of the tool's processes, for PostGIS of
the client tools and the server) and peak memory (largest resident set of
any one process, from GNU time; for PostGIS client peak + server peak) are
printed as one table, with the machine.
"""
import argparse
import csv
import glob
import json
import math
import os
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
GEODATA = os.environ.get("KIEZ_GEODATA", os.path.join(ROOT, "..", "shared", "geodata"))
SRID = 31467
TOL = 1e-9

# ---------------------------------------------------------------- workload


def layout(n_vars):
    """Variable names, which are decimal amounts, and the indicators."""
    names = ["v%02d" % i for i in range(1, n_vars + 1)]
    n_dec = max(1, n_vars // 5)
    decimal = set(names[n_vars - n_dec:])
    first_dec = names[n_vars - n_dec]
    n_share = min(7, n_vars - n_dec - 1)
    indicators = [("ew", "v01", None, 1.0, "Einwohner", "", "neutral")]
    for i in range(2, 2 + n_share):
        indicators.append(("q%02d" % i, "v%02d" % i, "v01", 100.0,
                           "Anteil Merkmal %d" % i, "%",
                           "positive" if i == 4 else "negative"))
    indicators.append(("ek", first_dec, "v01", 1000.0, "Betrag je 1000 Einwohner",
                       "EUR", "positive"))
    return names, decimal, indicators


def years(periods):
    return list(range(2024 - periods + 1, 2025))


def decimal_year(y, m, d):
    """kiez's time axis for trends (src/methods/trend.c): y + (doy-1)/days."""
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    mdays = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    doy = sum(mdays[:m - 1]) + d
    return y + (doy - 1) / (366.0 if leap else 365.0)


def read_keys(path, field="AGS"):
    from osgeo import ogr
    ds = ogr.Open(path)
    lyr = ds.GetLayer(0)
    keys = sorted({f.GetField(field) for f in lyr})
    return keys


def geometry(work, n_gems):
    """Paths of the three level sources; for a subset, whole Kreise cut out
    of VG5000 into GeoPackages in the work folder."""
    src = os.path.join(GEODATA, "germany")
    full = {lvl: os.path.join(src, "VG5000_%s.shp" % up)
            for lvl, up in (("gem", "GEM"), ("krs", "KRS"), ("lan", "LAN"))}
    gems = read_keys(full["gem"])
    if n_gems >= len(gems):
        return full, gems
    take = []
    for k in gems:
        if len(take) >= n_gems and k[:5] != take[-1][:5]:
            break
        take.append(k)
    krs = sorted({k[:5] for k in take})
    lan = sorted({k[:2] for k in take})
    out = {}
    for lvl, keys in (("gem", take), ("krs", krs), ("lan", lan)):
        path = os.path.join(work, "geo_%s.gpkg" % lvl)
        if not os.path.exists(path):
            where = "AGS IN (%s)" % ",".join("'%s'" % k for k in keys)
            subprocess.run(["ogr2ogr", "-f", "GPKG", path + ".tmp.gpkg", full[lvl],
                            "-nln", lvl, "-nlt", "PROMOTE_TO_MULTI", "-where", where],
                           check=True, stderr=subprocess.DEVNULL)
            os.rename(path + ".tmp.gpkg", path)
        out[lvl] = path
    return out, take


def generate(work, n_gems, periods, n_vars, seed):
    """Write the CSVs (one per period) and the kiez project; return a dict
    describing the workload. Skips files that exist with the same spec."""
    import numpy as np
    os.makedirs(work, exist_ok=True)
    spec = {"gems": n_gems, "periods": periods, "vars": n_vars, "seed": seed, "v": 2}
    spec_path = os.path.join(work, "spec.json")
    geo, gems = geometry(work, n_gems)
    names, decimal, indicators = layout(n_vars)
    data = os.path.join(work, "data")
    fresh = os.path.exists(spec_path) and json.load(open(spec_path)) == spec
    if not fresh:
        shutil.rmtree(data, ignore_errors=True)
        os.makedirs(data)
        rng = np.random.default_rng(seed)
        n = len(gems)
        n_dec = len(decimal)
        n_int = n_vars - 1 - n_dec
        pop0 = np.maximum(20.0, np.exp(rng.normal(7.6, 1.3, n)))
        growth = rng.normal(0.0, 0.01, n)
        share0 = rng.uniform(0.02, 0.45, (n, n_int))
        drift = rng.normal(0.0, 0.003, (n, n_int))
        per_head = rng.uniform(8.0, 35.0, (n, n_dec))
        fmt = "%s;%d" + ";%d" * n_int + ";%.2f" * n_dec + "\n"
        header = "AGS;" + ";".join(names) + "\n"
        for ti, y in enumerate(years(periods)):
            t = ti - periods / 2.0
            pop = np.rint(pop0 * (1.0 + growth) ** t * (1.0 + rng.normal(0, 0.002, n)))
            pop = np.maximum(pop, 10.0)
            sh = np.clip(share0 + drift * t + rng.normal(0, 0.004, (n, n_int)), 0.0, 0.95)
            cnt = np.rint(sh * pop[:, None])
            amt = np.round(per_head * pop[:, None] * (1.0 + 0.015 * t)
                           * (1.0 + rng.normal(0, 0.01, (n, n_dec))), 2)
            path = os.path.join(data, "gemeinden_%d.csv" % y)
            with open(path + ".tmp", "w", encoding="utf-8", newline="") as f:
                f.write(header)
                for i in range(n):
                    row = (gems[i], pop[i], *cnt[i], *amt[i])
                    f.write((fmt % row).replace(".", ","))
            os.rename(path + ".tmp", path)
        json.dump(spec, open(spec_path, "w"))
    files = sorted(glob.glob(os.path.join(data, "gemeinden_*.csv")))
    csv_bytes = sum(os.path.getsize(p) for p in files)
    geo_bytes = 0
    for p in geo.values():
        stem = os.path.splitext(p)[0]
        for ext in (".shp", ".dbf", ".shx", ".prj", ".gpkg"):
            if os.path.exists(stem + ext):
                geo_bytes += os.path.getsize(stem + ext)
    wl = {"work": work, "geo": geo, "gems": gems, "names": names, "decimal": sorted(decimal),
          "indicators": indicators, "files": files, "years": years(periods),
          "csv_bytes": csv_bytes, "geo_bytes": geo_bytes, "periods": periods,
          "n_vars": n_vars, "values": len(gems) * periods * n_vars}
    wl["project"] = write_project(wl)
    return wl


def write_project(wl):
    ys = wl["years"]
    lines = [
        "# Synthetic national workload of tools/bench_pipeline.py (issue 9).",
        "name: Deutschland, Gemeinden (Benchmark)",
        "crs: EPSG:%d" % SRID,
        "levels:",
        "  - {name: gem, title: Gemeinden, source: \"%s\", key: AGS, label: GEN,"
        " key_width: 8, parent: krs}" % wl["geo"]["gem"],
        "  - {name: krs, title: Kreise, source: \"%s\", key: AGS, label: GEN,"
        " key_width: 5, parent: lan}" % wl["geo"]["krs"],
        "  # VG5000_LAN has one feature per Land and kind of area (GF 2 water, 4 land)",
        "  - {name: lan, title: Länder, source: \"%s\", key: AGS, label: GEN,"
        " key_width: 2, duplicates: merge}" % wl["geo"]["lan"],
        "tables:",
        "  - source: \"%s/data/gemeinden_*.csv\"" % wl["work"],
        "    level: gem",
        "    key: AGS",
        "    period_path: \"gemeinden_([0-9]{4})\\\\.csv$\"",
        "    period_as: year",
        "    delimiter: \";\"",
        "    decimal: \",\"",
        "    thousands: none",
        "    encoding: utf-8",
        "indicators:",
    ]
    for name, num, den, scale, label, unit, pol in wl["indicators"]:
        item = "  - {name: %s, label: \"%s\", numerator: %s" % (name, label, num)
        if den:
            item += ", denominator: %s, scale: %g" % (den, scale)
        if unit:
            item += ", unit: \"%s\"" % unit
        item += ", polarity: %s}" % pol
        lines.append(item)
    lines += [
        "indices:",
        "  - {name: status, label: Statusindex, level: krs, inputs: [q02, q03, q04],"
        " cuts: [-1, 1, 1.5]}",
        "trends:",
        "  - {indicators: [q02, q03, ek], from: %d-12-31, to: %d-12-31}" % (ys[0], ys[-1]),
        "outputs: {dir: out, gpkg: germany.gpkg, geojson: true}",
        "",
    ]
    path = os.path.join(wl["work"], "germany.yml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    return path


# ---------------------------------------------------------------- measuring


def timed(cmd, out):
    """cmd under GNU time, which writes the peak RSS (KB) of cmd and its
    waited-for descendants into `out`. Measuring through time(1) matters:
    ru_maxrss of a child forked from this Python process counts the
    parent's pages it started with (100+ MB once numpy is loaded)."""
    return ["/usr/bin/time", "-f", "%M", "-o", out] + cmd


def peak_of(path):
    with open(path) as f:
        return int(f.read().split()[-1]) * 1024


def measure(cmd, **kw):
    """Run cmd; return (returncode, wall s, cpu s, peak RSS bytes)."""
    rss_file = "/tmp/kiez-bench-rss-%d" % os.getpid()
    t0 = time.monotonic()
    proc = subprocess.Popen(timed(cmd, rss_file), **kw)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss = peak_of(rss_file)
    os.unlink(rss_file)
    return proc.returncode, wall, ru.ru_utime + ru.ru_stime, rss


def machine():
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cores": os.cpu_count(), "mem": mem, "model": model,
            "load": os.getloadavg()}


# ---------------------------------------------------------------- tools


def run_kiez(wl, kiez, out):
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    err = open(os.path.join(out, "..", "kiez.log"), "w")
    rc, wall, cpu, rss = measure([kiez, "run", wl["project"], "--out", out, "-q"],
                                 stderr=err)
    if rc != 0:
        sys.exit("kiez run failed (%d), see %s" % (rc, err.name))
    return wall, cpu, rss, os.path.join(out, "germany.gpkg")


def ind_sql(wl, col):
    """SQL expressions of the indicators over a wide values row."""
    out = []
    for name, num, den, scale, *_ in wl["indicators"]:
        if den:
            out.append("CASE WHEN %s <> 0 THEN %s / %s * %r END AS %s"
                       % (col + den, col + num, col + den, scale, name))
        else:
            out.append("%s * %r AS %s" % (col + num, scale, name))
    return out


TREND = ("q02", "q03", "ek")
ZIN = (("q02", 1), ("q03", 1), ("q04", -1))  # q04 is "positive": enters with minus


def pg_script(wl, sql_dir):
    """The PostGIS workload as SQL for psql, plus the ogr2ogr exports."""
    names, dec = wl["names"], set(wl["decimal"])
    raw_cols = ", ".join("%s %s" % (v, "text" if v in dec else "double precision")
                         for v in names)
    conv = ", ".join("replace(%s, ',', '.')::double precision AS %s" % (v, v) if v in dec
                     else v for v in names)
    sums = ", ".join("sum(%s) AS %s" % (v, v) for v in names)
    s = ["\\set ON_ERROR_STOP on",
         "CREATE UNLOGGED TABLE raw(period date, ags text, %s);" % raw_cols]
    for path, y in zip(wl["files"], wl["years"]):
        s.append("ALTER TABLE raw ALTER COLUMN period SET DEFAULT '%d-12-31';" % y)
        s.append("\\copy raw(ags, %s) FROM '%s' WITH (FORMAT csv, DELIMITER ';', HEADER true)"
                 % (", ".join(names), path))
    s += [
        "CREATE TABLE val AS SELECT 'gem'::text AS level, ags AS key, period, %s FROM raw;" % conv,
        "DROP TABLE raw;",
        "INSERT INTO val SELECT 'krs', left(key, 5), period, %s FROM val WHERE level = 'gem'"
        " GROUP BY left(key, 5), period;" % sums,
        "INSERT INTO val SELECT 'lan', left(key, 2), period, %s FROM val WHERE level = 'krs'"
        " GROUP BY left(key, 2), period;" % sums,
        "CREATE TABLE ind AS SELECT level, key, period,"
        " extract(year FROM period) + (extract(doy FROM period) - 1)"
        " / (CASE WHEN extract(doy FROM make_date(extract(year FROM period)::int, 12, 31))"
        " = 366 THEN 366.0 ELSE 365.0 END) AS t, %s FROM val;" % ", ".join(ind_sql(wl, "")),
        "CREATE INDEX ON ind(level, key);",
        "CREATE TABLE tr AS SELECT level, key, %s FROM ind GROUP BY level, key;" % ", ".join(
            "(array_agg(%s ORDER BY period DESC))[1] - (array_agg(%s ORDER BY period))[1]"
            " AS %s_chg, regr_slope(%s, t::double precision) AS %s_slope"
            % (i, i, i, i, i) for i in TREND),
        "CREATE TABLE latest AS SELECT * FROM ind WHERE period = (SELECT max(period) FROM ind);",
        "CREATE TABLE zs AS WITH z AS (SELECT key, %s FROM latest WHERE level = 'krs'),"
        " s AS (SELECT *, %s AS status_sum FROM z)"
        " SELECT *, (status_sum - avg(status_sum) OVER ()) / stddev_pop(status_sum) OVER ()"
        " AS status_index FROM s;" % (
            ", ".join("(%s - avg(%s) OVER ()) / stddev_pop(%s) OVER () AS z_%s"
                      % (i, i, i, i) for i, _ in ZIN),
            " + ".join("%s z_%s" % ("" if sgn > 0 else "-", i) for i, sgn in ZIN)),
        "ALTER TABLE zs ADD COLUMN status_class integer;",
        "UPDATE zs SET status_class = CASE WHEN status_index < -1 THEN 1"
        " WHEN status_index <= 1 THEN 2 WHEN status_index <= 1.5 THEN 3 ELSE 4 END;",
        "CREATE TABLE geo AS SELECT 'gem'::text AS level, ags AS key, gen AS name,"
        " left(ags, 5) AS parent_key, geom FROM geo_gem"
        " UNION ALL SELECT 'krs', ags, gen, left(ags, 2), geom FROM geo_krs"
        " UNION ALL SELECT 'lan', ags, min(gen), NULL, ST_Multi(ST_Union(geom))"
        " FROM geo_lan GROUP BY ags;",
        "CREATE SCHEMA out;",
    ]
    ind_names = [i[0] for i in wl["indicators"]]
    for lvl in ("gem", "krs", "lan"):
        zcols = ("z.z_q02, z.z_q03, z.z_q04, z.status_sum, z.status_index, z.status_class"
                 if lvl == "krs" else "")
        s.append(
            "CREATE TABLE out.%s AS SELECT g.key, g.name, g.parent_key, %s, %s%s, g.geom"
            " FROM geo g LEFT JOIN latest l ON l.level = g.level AND l.key = g.key"
            " LEFT JOIN tr ON tr.level = g.level AND tr.key = g.key%s WHERE g.level = '%s';"
            % (lvl, ", ".join("l." + i for i in ind_names),
               ", ".join("tr.%s_chg, tr.%s_slope" % (i, i) for i in TREND),
               ", " + zcols if zcols else "",
               " LEFT JOIN zs z ON z.key = g.key" if lvl == "krs" else "", lvl))
        s.append("CREATE TABLE out.%s_series AS SELECT key, period, %s FROM ind"
                 " WHERE level = '%s';" % (lvl, ", ".join(ind_names), lvl))
    path = os.path.join(sql_dir, "pipeline.sql")
    with open(path, "w") as f:
        f.write("\n".join(s) + "\n")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_postgis(wl, out):
    """PostgreSQL 15 + PostGIS 3 on loopback in a throwaway data directory."""
    bindir = "/usr/lib/postgresql/15/bin"
    if not os.path.exists(os.path.join(bindir, "postgres")) or not glob.glob(
            "/usr/share/postgresql/15/extension/postgis.control"):
        print("postgis: not installed (tools/install-deps --bench); skipped")
        return None
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    pgroot = os.path.join(wl["work"], "pg")
    shutil.rmtree(pgroot, ignore_errors=True)
    os.makedirs(pgroot)
    shutil.chown(pgroot, "postgres", "postgres")
    data = os.path.join(pgroot, "data")
    subprocess.run(["runuser", "-u", "postgres", "--", os.path.join(bindir, "initdb"),
                    "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"],
                   check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    log = open(os.path.join(out, "server.log"), "w")
    # fsync off and the rest: the throwaway server is tuned like kiez's
    # temporary database (no durability during a fresh build).
    server_rss = os.path.join(out, "server.rss")
    server = subprocess.Popen(timed(
        ["runuser", "-u", "postgres", "--", os.path.join(bindir, "postgres"), "-D", data,
         "-p", str(port), "-k", pgroot, "-c", "listen_addresses=127.0.0.1",
         "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
         "-c", "work_mem=64MB", "-c", "maintenance_work_mem=256MB"], server_rss),
        stdout=log, stderr=log)
    env = dict(os.environ, PGHOST=pgroot, PGPORT=str(port), PGUSER="postgres")
    for _ in range(100):
        if subprocess.run(["psql", "-d", "postgres", "-Atc", "SELECT 1"], env=env,
                          capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    subprocess.run(["psql", "-d", "postgres", "-qc", "CREATE DATABASE bench"], env=env,
                   check=True)
    script = pg_script(wl, out)
    gpkg = os.path.join(out, "postgis.gpkg")
    driver = os.path.join(out, "run.sh")
    pg = "PG:host=%s port=%d user=postgres dbname=bench" % (pgroot, port)
    sh = ["set -e", "psql -q -d bench -c 'CREATE EXTENSION postgis'"]
    for lvl in ("gem", "krs", "lan"):
        sh.append("ogr2ogr -f PostgreSQL '%s' '%s' -nln geo_%s -lco GEOMETRY_NAME=geom"
                  " -nlt PROMOTE_TO_MULTI -lco SPATIAL_INDEX=NONE -lco LAUNDER=YES"
                  % (pg, wl["geo"][lvl], lvl))
    sh.append("psql -q -d bench -f '%s'" % script)
    sh.append("ogr2ogr -f GPKG '%s' '%s schemas=out' gem krs lan gem_series krs_series"
              " lan_series" % (gpkg, pg))
    for lvl in ("gem", "krs", "lan"):
        sh.append("ogr2ogr -f GeoJSON '%s/%s.geojson' '%s schemas=out' %s -lco RFC7946=YES"
                  " -lco COORDINATE_PRECISION=7" % (out, lvl, pg, lvl))
    with open(driver, "w") as f:
        f.write("\n".join(sh) + "\n")
    try:
        rc, wall, cpu, rss = measure(["sh", driver], env=env, stdout=subprocess.DEVNULL)
    finally:
        # fast shutdown, to the postmaster itself (runuser forwards no SIGINT)
        with open(os.path.join(data, "postmaster.pid")) as f:
            os.kill(int(f.readline()), signal.SIGINT)
        _, _, sru = os.wait4(server.pid, 0)
        server.returncode = 0
    if rc != 0:
        sys.exit("postgis workload failed (%d)" % rc)
    shutil.rmtree(pgroot, ignore_errors=True)
    return wall, cpu + sru.ru_utime + sru.ru_stime, rss + peak_of(server_rss), gpkg


def geopandas_job(wl_path, out):
    """Run inside a child process (its own rusage)."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from shapely.geometry import MultiPolygon
    wl = json.load(open(wl_path))
    names, dec = wl["names"], set(wl["decimal"])
    frames = []
    for path, y in zip(wl["files"], wl["years"]):
        df = pd.read_csv(path, sep=";", decimal=",", dtype={"AGS": str})
        df.insert(1, "period", "%d-12-31" % y)
        frames.append(df)
    gem = pd.concat(frames, ignore_index=True).rename(columns={"AGS": "key"})
    gem[names] = gem[names].astype("float64")
    krs = gem.assign(key=gem["key"].str[:5]).groupby(["key", "period"], as_index=False)[
        names].sum()
    lan = krs.assign(key=krs["key"].str[:2]).groupby(["key", "period"], as_index=False)[
        names].sum()
    ind_names = [i[0] for i in wl["indicators"]]
    levels = {}
    t_of = {"%d-12-31" % y: decimal_year(y, 12, 31) for y in wl["years"]}
    last = "%d-12-31" % wl["years"][-1]
    first = "%d-12-31" % wl["years"][0]
    for lvl, val in (("gem", gem), ("krs", krs), ("lan", lan)):
        ind = val[["key", "period"]].copy()
        for name, num, den, scale, *_ in wl["indicators"]:
            if den:
                d = val[den].where(val[den] != 0)
                ind[name] = val[num] / d * scale
            else:
                ind[name] = val[num] * scale
        ind["t"] = ind["period"].map(t_of)
        g = ind.groupby("key")
        tr = pd.DataFrame(index=g.size().index)
        tc = ind["t"] - g["t"].transform("mean")
        for i in TREND:
            xc = ind[i] - g[i].transform("mean")
            tr[i + "_chg"] = (ind.loc[ind.period == last].set_index("key")[i]
                              - ind.loc[ind.period == first].set_index("key")[i])
            tr[i + "_slope"] = (tc * xc).groupby(ind["key"]).sum() / (tc * tc).groupby(
                ind["key"]).sum()
        lat = ind.loc[ind.period == last].set_index("key")[ind_names].join(tr)
        levels[lvl] = (ind, lat)
    ind, lat = levels["krs"]
    zsum = 0.0
    for i, sgn in ZIN:
        x = lat[i]
        lat["z_" + i] = (x - x.mean()) / x.std(ddof=0)
        zsum = zsum + sgn * lat["z_" + i]
    lat["status_sum"] = zsum
    lat["status_index"] = (zsum - zsum.mean()) / zsum.std(ddof=0)
    lat["status_class"] = np.select(
        [lat.status_index < -1, lat.status_index <= 1, lat.status_index <= 1.5], [1, 2, 3], 4)
    gpkg = os.path.join(out, "geopandas.gpkg")
    for lvl in ("gem", "krs", "lan"):
        geo = gpd.read_file(wl["geo"][lvl])[["AGS", "GEN", "geometry"]]
        if lvl == "lan":
            geo = geo.dissolve(by="AGS", aggfunc="first").reset_index()
        geo = geo.rename(columns={"AGS": "key", "GEN": "name"})
        geo["parent_key"] = (geo["key"].str[:{"gem": 5, "krs": 2}[lvl]] if lvl != "lan"
                             else None)
        geo["geometry"] = [g if g.geom_type == "MultiPolygon" else MultiPolygon([g])
                           for g in geo.geometry]
        layer = geo.merge(levels[lvl][1], left_on="key", right_index=True, how="left")
        layer.to_file(gpkg, layer=lvl, driver="GPKG")
        layer.to_file(os.path.join(out, lvl + ".geojson"), driver="GeoJSON", RFC7946="YES",
                      COORDINATE_PRECISION=7)
        series = levels[lvl][0].drop(columns="t")
        gpd.GeoDataFrame(series, geometry=gpd.GeoSeries([None] * len(series))).to_file(
            gpkg, layer=lvl + "_series", driver="GPKG")


def run_python_job(job, wl, out):
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    wl_path = os.path.join(out, "workload.json")
    json.dump({k: v for k, v in wl.items() if k != "gems"}, open(wl_path, "w"))
    env = dict(os.environ, SPATIALITE_SECURITY="relaxed")
    rc, wall, cpu, rss = measure([sys.executable, os.path.abspath(__file__), "--job", job,
                                  wl_path, out], env=env, stdout=subprocess.DEVNULL)
    if rc != 0:
        sys.exit("%s workload failed (%d)" % (job, rc))
    return wall, cpu, rss, os.path.join(out, job + ".gpkg")


def spatialite_job(wl_path, out):
    """SpatiaLite SQL through Python's sqlite3 (mod_spatialite)."""
    wl = json.load(open(wl_path))
    names, dec = wl["names"], set(wl["decimal"])
    db_path = os.path.join(out, "bench.sqlite")
    db = sqlite3.connect(db_path)
    db.enable_load_extension(True)
    db.load_extension("mod_spatialite")
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("SELECT InitSpatialMetadata(1)")
    for lvl in ("gem", "krs", "lan"):
        src = wl["geo"][lvl]
        if src.endswith(".shp"):
            # geometry column "geometry"; VG5000 has Polygons and MultiPolygons
            n = db.execute("SELECT ImportSHP(?, ?, 'UTF-8', ?)",
                           (src[:-4], "geo_" + lvl, SRID)).fetchone()[0]
        else:
            subprocess.run(["ogr2ogr", "-f", "SQLite", "-update", db_path, src, "-nln",
                            "geo_" + lvl, "-lco", "GEOMETRY_NAME=geometry", "-nlt",
                            "PROMOTE_TO_MULTI", "-lco", "LAUNDER=NO"], check=True)
            n = 1
        if not n:
            raise SystemExit("ImportSHP failed for " + src)
    cols = ", ".join("%s REAL" % v for v in names)
    db.execute("CREATE TABLE val(level TEXT, key TEXT, period TEXT, %s)" % cols)
    ins = "INSERT INTO val VALUES ('gem', ?, ?, %s)" % ", ".join("?" * len(names))
    decidx = [i for i, v in enumerate(names) if v in dec]
    with db:
        for path, y in zip(wl["files"], wl["years"]):
            period = "%d-12-31" % y
            with open(path, encoding="utf-8", newline="") as f:
                r = csv.reader(f, delimiter=";")
                next(r)

                def rows():
                    for row in r:
                        for i in decidx:
                            row[i + 1] = row[i + 1].replace(",", ".")
                        yield (row[0], period, *map(float, row[1:]))
                db.executemany(ins, rows())
    sums = ", ".join("sum(%s)" % v for v in names)
    ind_names = [i[0] for i in wl["indicators"]]
    tsql = ("CAST(strftime('%Y', period) AS INTEGER) + (CAST(strftime('%j', period) AS INTEGER)"
            " - 1) / (julianday(strftime('%Y', period) || '-12-31')"
            " - julianday(strftime('%Y', period) || '-01-01') + 1)")
    first = "%d-12-31" % wl["years"][0]
    last = "%d-12-31" % wl["years"][-1]
    script = [
        "INSERT INTO val SELECT 'krs', substr(key, 1, 5), period, %s FROM val"
        " WHERE level = 'gem' GROUP BY substr(key, 1, 5), period;" % sums,
        "INSERT INTO val SELECT 'lan', substr(key, 1, 2), period, %s FROM val"
        " WHERE level = 'krs' GROUP BY substr(key, 1, 2), period;" % sums,
        "CREATE TABLE ind AS SELECT level, key, period, %s AS t, %s FROM val;"
        % (tsql, ", ".join(ind_sql(wl, ""))),
        "CREATE INDEX ind_lk ON ind(level, key, period);",
        "CREATE TABLE tr AS WITH c AS (SELECT level, key, t - avg(t) OVER w AS tc, %s"
        " FROM ind WINDOW w AS (PARTITION BY level, key))"
        " SELECT level, key, %s FROM c GROUP BY level, key;" % (
            ", ".join("%s - avg(%s) OVER w AS %s_c" % (i, i, i) for i in TREND),
            ", ".join("sum(tc * %s_c) / sum(tc * tc) AS %s_slope" % (i, i) for i in TREND)),
    ]
    for i in TREND:
        script.append("ALTER TABLE tr ADD COLUMN %s_chg REAL;" % i)
        script.append(
            "UPDATE tr SET %s_chg = (SELECT b.%s - a.%s FROM ind a JOIN ind b"
            " ON b.level = a.level AND b.key = a.key AND b.period = '%s'"
            " WHERE a.level = tr.level AND a.key = tr.key AND a.period = '%s');"
            % (i, i, i, last, first))
    script += [
        "CREATE TABLE latest AS SELECT * FROM ind WHERE period = '%s';" % last,
        "CREATE TABLE zs AS WITH m AS (SELECT key, %s FROM latest WHERE level = 'krs'),"
        " s AS (SELECT %s FROM m), z AS (SELECT key, %s FROM m, s),"
        " y AS (SELECT *, %s AS status_sum FROM z),"
        " ym AS (SELECT avg(status_sum) AS mu FROM y),"
        " ys AS (SELECT sqrt(avg((status_sum - mu) * (status_sum - mu))) AS sd FROM y, ym)"
        " SELECT y.*, (status_sum - mu) / sd AS status_index FROM y, ym, ys;" % (
            ", ".join("%s, %s - avg(%s) OVER () AS %s_c" % (i, i, i, i) for i, _ in ZIN),
            ", ".join("sqrt(avg(%s_c * %s_c)) AS %s_sd" % (i, i, i) for i, _ in ZIN),
            ", ".join("m.%s_c / s.%s_sd AS z_%s" % (i, i, i) for i, _ in ZIN),
            " + ".join("%sz_%s" % ("" if sgn > 0 else "-", i) for i, sgn in ZIN)),
        "ALTER TABLE zs ADD COLUMN status_class INTEGER;",
        "UPDATE zs SET status_class = CASE WHEN status_index < -1 THEN 1"
        " WHEN status_index <= 1 THEN 2 WHEN status_index <= 1.5 THEN 3 ELSE 4 END;",
        "CREATE TABLE geo AS SELECT 'gem' AS level, AGS AS key, GEN AS name,"
        " substr(AGS, 1, 5) AS parent_key, CastToMultiPolygon(geometry) AS geom FROM geo_gem"
        " UNION ALL SELECT 'krs', AGS, GEN, substr(AGS, 1, 2), CastToMultiPolygon(geometry)"
        " FROM geo_krs UNION ALL SELECT 'lan', AGS, min(GEN), NULL,"
        " CastToMultiPolygon(ST_Union(geometry)) FROM geo_lan GROUP BY AGS;",
    ]
    for lvl in ("gem", "krs", "lan"):
        zcols = ("z.z_q02, z.z_q03, z.z_q04, z.status_sum, z.status_index, z.status_class"
                 if lvl == "krs" else "")
        script.append(
            "CREATE TABLE out_%s AS SELECT g.key, g.name, g.parent_key, %s, %s%s, g.geom"
            " FROM geo g LEFT JOIN latest l ON l.level = g.level AND l.key = g.key"
            " LEFT JOIN tr ON tr.level = g.level AND tr.key = g.key%s WHERE g.level = '%s';"
            % (lvl, ", ".join("l." + i for i in ind_names),
               ", ".join("tr.%s_chg, tr.%s_slope" % (i, i) for i in TREND),
               ", " + zcols if zcols else "",
               " LEFT JOIN zs z ON z.key = g.key" if lvl == "krs" else "", lvl))
        script.append("SELECT RecoverGeometryColumn('out_%s', 'geom', %d, 'MULTIPOLYGON',"
                      " 'XY');" % (lvl, SRID))
        script.append("CREATE TABLE out_%s_series AS SELECT key, period, %s FROM ind"
                      " WHERE level = '%s';" % (lvl, ", ".join(ind_names), lvl))
    with db:
        db.executescript("\n".join(script))
    db.close()
    gpkg = os.path.join(out, "spatialite.gpkg")
    for lvl in ("gem", "krs", "lan"):
        for name in (lvl, lvl + "_series"):
            update = ["-update"] if os.path.exists(gpkg) else []
            subprocess.run(["ogr2ogr", "-f", "GPKG"] + update + [gpkg, db_path, "out_" + name,
                                                                  "-nln", name], check=True)
        subprocess.run(["ogr2ogr", "-f", "GeoJSON", os.path.join(out, lvl + ".geojson"),
                        db_path, "out_" + lvl, "-lco", "RFC7946=YES",
                        "-lco", "COORDINATE_PRECISION=7"], check=True)


# ---------------------------------------------------------------- agreement


def read_layer(gpkg, layer, cols):
    db = sqlite3.connect(gpkg)
    have = {r[1] for r in db.execute('PRAGMA table_info("%s")' % layer)}
    use = [c for c in cols if c in have]
    rows = db.execute('SELECT key, %s FROM "%s"' % (", ".join('"%s"' % c for c in use),
                                                   layer)).fetchall()
    db.close()
    return {r[0]: dict(zip(use, r[1:])) for r in rows}, use


def compare(ref_gpkg, other_gpkg, tool):
    """Every area of every level: latest indicators, trends, the Kreis index."""
    cols = ["ew", "q02", "q03", "q04", "ek", "q02_chg", "q02_slope", "q03_slope", "ek_chg",
            "ek_slope"]
    bad, checked = [], 0
    for lvl in ("gem", "krs", "lan"):
        want = cols + (["z_q04", "status_index"] if lvl == "krs" else [])
        ref, use_r = read_layer(ref_gpkg, lvl, want)
        oth, use_o = read_layer(other_gpkg, lvl, want)
        missing = set(want) - set(use_r) | set(want) - set(use_o)
        if missing:
            bad.append("%s %s: columns missing: %s" % (tool, lvl, sorted(missing)))
        if set(ref) != set(oth):
            bad.append("%s %s: %d areas in kiez, %d in %s" % (tool, lvl, len(ref), len(oth),
                                                             tool))
        for c in set(use_r) & set(use_o):
            vals = [v[c] for v in ref.values() if v[c] is not None]
            scale = max((abs(v) for v in vals), default=1.0) or 1.0
            for k in ref:
                a, b = ref[k][c], oth.get(k, {}).get(c)
                checked += 1
                if a is None or b is None:
                    if a is not b:
                        bad.append("%s %s %s %s: kiez %r, %s %r" % (tool, lvl, k, c, a, tool, b))
                    continue
                # relative to the larger value; values near zero (z-scores,
                # changes) relative to the column's largest value
                if abs(a - b) > TOL * max(abs(a), abs(b), 1e-6 * scale):
                    bad.append("%s %s %s %s: kiez %.17g, %s %.17g" % (tool, lvl, k, c, a, tool,
                                                                     b))
    return checked, bad


# ---------------------------------------------------------------- main


def mb(b):
    return b / 1048576.0


def stream_test(args, kiez):
    """Peak RSS of `kiez import` (CSV into the store) at 1x and 10x the rows."""
    rows = []
    for periods in (args.periods, args.periods * 10):
        work = os.path.join(args.work, "stream-%d" % periods)
        wl = generate(work, args.gems, periods, args.vars, args.seed)
        db = os.path.join(work, "import.sqlite")
        for p in glob.glob(db + "*"):
            os.unlink(p)
        subprocess.run([kiez, "init", db, "--crs", "EPSG:%d" % SRID, "-q"], check=True)
        rc, wall, cpu, rss = measure([kiez, "import", db, wl["project"], "-q"])
        if rc != 0:
            sys.exit("kiez import failed")
        rows.append((periods, len(wl["gems"]) * periods, wl["values"], wl["csv_bytes"], wall,
                     cpu, rss))
        os.unlink(db)
    print("\nStreaming import (kiez init + kiez import, CSV into the store):")
    print("%8s %10s %12s %10s %8s %8s %9s" % ("periods", "rows", "values", "CSV MB", "wall s",
                                              "CPU s", "peak MB"))
    for r in rows:
        print("%8d %10d %12d %10.1f %8.1f %8.1f %9.1f" % (r[0], r[1], r[2], mb(r[3]), r[4],
                                                           r[5], mb(r[6])))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="1,000 municipalities x 5 periods x 10 variables")
    ap.add_argument("--gems", type=int, default=None)
    ap.add_argument("--periods", type=int, default=None)
    ap.add_argument("--vars", type=int, default=None)
    ap.add_argument("--seed", type=int, default=20240531)
    ap.add_argument("--tools", default="kiez,postgis,geopandas,spatialite")
    ap.add_argument("--kiez", default=os.path.join(ROOT, "build-bench", "kiez"))
    ap.add_argument("--work", default=None)
    ap.add_argument("--stream", action="store_true",
                    help="also measure kiez import at 10x the periods (memory must stay flat)")
    ap.add_argument("--job", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.job:
        {"geopandas": geopandas_job, "spatialite": spatialite_job}[args.job[0]](*args.job[1:])
        return 0
    if args.gems is None:
        args.gems = 1000 if args.quick else 10997
    if args.periods is None:
        args.periods = 5 if args.quick else 20
    if args.vars is None:
        args.vars = 10 if args.quick else 50
    if args.vars < 10:
        ap.error("--vars must be at least 10")
    if args.work is None:
        args.work = "/tmp/kiez-bench-pipeline" + ("-quick" if args.quick else "")
    kiez = os.path.abspath(args.kiez)
    if not os.access(kiez, os.X_OK):
        ap.error("%s: no kiez binary (cmake -B build-bench -DCMAKE_BUILD_TYPE=Release)" % kiez)
    os.makedirs(args.work, exist_ok=True)
    os.chmod(args.work, 0o755)
    mach = machine()
    t0 = time.monotonic()
    wl = generate(os.path.join(args.work, "w"), args.gems, args.periods, args.vars, args.seed)
    name = "%d gem x %d periods x %d vars" % (len(wl["gems"]), args.periods, args.vars)
    print("workload: %s = %.1f M values; CSV %.1f MB in %d files, geometry %.1f MB"
          " (generated in %.1f s)" % (name, wl["values"] / 1e6, mb(wl["csv_bytes"]),
                                      len(wl["files"]), mb(wl["geo_bytes"]),
                                      time.monotonic() - t0))
    print("machine: %d cores (%s), %.1f GB memory, load average at start %.2f %.2f %.2f"
          % (mach["cores"], mach["model"], mach["mem"] / 1e9, *mach["load"]))
    results = []
    tools = args.tools.split(",")
    kiez_gpkg = None
    if "kiez" in tools:
        wall, cpu, rss, kiez_gpkg = run_kiez(wl, kiez, os.path.join(args.work, "kiez", "out"))
        results.append(("kiez", wall, cpu, rss))
        print("kiez: %.1f s wall, %.1f s CPU, %.0f MB" % (wall, cpu, mb(rss)), flush=True)
    failures = []
    for tool in tools:
        if tool == "kiez":
            continue
        out = os.path.join(args.work, tool)
        if tool == "postgis":
            r = run_postgis(wl, out)
            if r is None:
                continue
        elif tool in ("geopandas", "spatialite"):
            r = run_python_job(tool, wl, out)
        else:
            ap.error("unknown tool " + tool)
        results.append((tool,) + r[:3])
        print("%s: %.1f s wall, %.1f s CPU, %.0f MB" % (tool, r[0], r[1], mb(r[2])), flush=True)
        if kiez_gpkg:
            checked, bad = compare(kiez_gpkg, r[3], tool)
            print("  agreement with kiez: %d values compared, %d differ" % (checked, len(bad)))
            for b in bad[:10]:
                print("  DIFFERS:", b)
            failures += bad
    base = next((r for r in results if r[0] == "kiez"), None)
    in_bytes = wl["csv_bytes"] + wl["geo_bytes"]
    print("\n| workload | tool | wall s | CPU s | peak MB | peak / input | wall / kiez |"
          " CPU / kiez |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for tool, wall, cpu, rss in results:
        print("| %s | %s | %.1f | %.1f | %.0f | %.2f | %s | %s |" % (
            name, tool, wall, cpu, mb(rss), rss / in_bytes,
            "%.2f" % (wall / base[1]) if base else "-", "%.2f" % (cpu / base[2]) if base else "-"))
    print("\ninput: %.1f MB (CSV + geometry); machine: %d cores, %.1f GB, load %.2f at start"
          % (mb(in_bytes), mach["cores"], mach["mem"] / 1e9, mach["load"][0]))
    if args.stream:
        stream_test(args, kiez)
    if failures:
        print("\nFAILED: %d values differ between kiez and the alternatives" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
