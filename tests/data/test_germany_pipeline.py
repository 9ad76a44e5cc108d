#!/usr/bin/python3
"""The quick national workload of tools/bench_pipeline.py through kiez (issue 9).

Generates the --quick workload (whole Kreise of the first ~1,000 VG5000
municipalities, 5 periods x 10 variables, one semicolon CSV per period with
decimal commas), runs `kiez run` on it and checks the GeoPackage against a
computation in plain Python from the CSV files themselves:
- every Kreis and Land: each variable summed from its municipalities (through
  the ratios and counts kiez exports: ew = v01 sum, q02..q08 = sum / sum x 100,
  ek = v09 sum / v01 sum x 1000), latest period;
- every area of every level: the trend columns (last - first, OLS slope on
  decimal years);
- the Kreis index: z-scores (population sd) of q02, q03, -q04 summed and
  re-standardised;
- the long series: one row per area, period and indicator.
Agreement to 1e-9 (relative). Exit 77 when VG5000 is not in $KIEZ_GEODATA.
"""
import csv
import importlib.util
import math
import os
import sqlite3
import subprocess
import sys
import tempfile

KIEZ = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GEODATA = os.environ.get("KIEZ_GEODATA", os.path.join(ROOT, "..", "shared", "geodata"))
TOL = 1e-9
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        if len(failures) <= 20:
            print("FAIL:", what)


def close(a, b, scale=1.0):
    return a is not None and b is not None and abs(a - b) <= TOL * max(abs(a), abs(b),
                                                                      1e-6 * scale)


def load_bench():
    spec = importlib.util.spec_from_file_location(
        "bench_pipeline", os.path.join(ROOT, "tools", "bench_pipeline.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main():
    if not os.path.exists(os.path.join(GEODATA, "germany", "VG5000_GEM.shp")):
        print("skipped: no VG5000 in", GEODATA)
        return 77
    os.environ["KIEZ_GEODATA"] = GEODATA
    bench = load_bench()
    with tempfile.TemporaryDirectory() as tmp:
        wl = bench.generate(os.path.join(tmp, "w"), 1000, 5, 10, 20240531)
        out = os.path.join(tmp, "out")
        proc = subprocess.run([KIEZ, "run", wl["project"], "--out", out, "-q"],
                              capture_output=True, text=True)
        print(proc.stderr[-2000:])
        if proc.returncode != 0:
            print("kiez run failed:", proc.returncode)
            return 1
        # Independent computation from the CSV files.
        sums = {}  # (level, key, year) -> [v01..v10]
        for path, y in zip(wl["files"], wl["years"]):
            with open(path, encoding="utf-8", newline="") as f:
                rows = csv.reader(f, delimiter=";")
                header = next(rows)
                check(header[0] == "AGS" and len(header) == 11, "header " + repr(header[:3]))
                for r in rows:
                    vals = [float(c.replace(",", ".")) for c in r[1:]]
                    for lvl, n in (("gem", 8), ("krs", 5), ("lan", 2)):
                        acc = sums.setdefault((lvl, r[0][:n], y), [0.0] * 10)
                        for i, v in enumerate(vals):
                            acc[i] += v
        check(len({k for (lvl, k, y) in sums if lvl == "gem"}) == len(wl["gems"]),
              "every municipality in the CSVs")

        def indicators(v):
            out = {"ew": v[0], "ek": v[8] / v[0] * 1000.0}
            for i in range(2, 9):
                out["q%02d" % i] = v[i - 1] / v[0] * 100.0
            return out

        years = wl["years"]
        t = [bench.decimal_year(y, 12, 31) for y in years]
        tm = sum(t) / len(t)
        db = sqlite3.connect(os.path.join(out, "germany.gpkg"))
        n_checked = 0
        for lvl in ("gem", "krs", "lan"):
            cols = ["ew", "ek"] + ["q%02d" % i for i in range(2, 9)] + [
                "%s_%s" % (i, m) for i in ("q02", "q03", "ek") for m in ("chg", "slope")]
            rows = db.execute('SELECT key, %s FROM "%s"' % (", ".join(cols), lvl)).fetchall()
            keys = sorted({k for (l2, k, y) in sums if l2 == lvl})
            check(sorted(r[0] for r in rows) == keys,
                  "%s: %d areas in the GeoPackage, %d expected" % (lvl, len(rows), len(keys)))
            for r in rows:
                got = dict(zip(cols, r[1:]))
                series = [indicators(sums[(lvl, r[0], y)]) for y in years]
                for name, want in series[-1].items():
                    check(close(got[name], want), "%s %s %s: %r, expected %r"
                          % (lvl, r[0], name, got[name], want))
                    n_checked += 1
                for name in ("q02", "q03", "ek"):
                    xs = [s[name] for s in series]
                    xm = sum(xs) / len(xs)
                    slope = (sum((a - tm) * (b - xm) for a, b in zip(t, xs))
                             / sum((a - tm) ** 2 for a in t))
                    check(close(got[name + "_chg"], xs[-1] - xs[0], abs(xs[0])),
                          "%s %s %s_chg" % (lvl, r[0], name))
                    check(close(got[name + "_slope"], slope, abs(xm)),
                          "%s %s %s_slope: %r, expected %r" % (lvl, r[0], name,
                                                              got[name + "_slope"], slope))
                    n_checked += 2
            n_series = db.execute('SELECT count(*) FROM "%s_series" WHERE indicator IN'
                                  " ('ew', 'ek', 'q02', 'q03', 'q04', 'q05', 'q06', 'q07',"
                                  " 'q08')" % lvl).fetchone()[0]
            check(n_series == len(keys) * len(years) * 9,
                  "%s_series: %d rows, expected %d" % (lvl, n_series, len(keys) * len(years) * 9))
        # The Kreis index: z of q02, q03 and (positive polarity) minus q04.
        krs = sorted({k for (lvl, k, y) in sums if lvl == "krs"})
        last = [indicators(sums[("krs", k, years[-1])]) for k in krs]

        def z(xs):
            m = sum(xs) / len(xs)
            sd = math.sqrt(sum((x - m) ** 2 for x in xs) / len(xs))
            return [(x - m) / sd for x in xs]
        zs = [z([s[i] for s in last]) for i in ("q02", "q03", "q04")]
        total = [a + b - c for a, b, c in zip(*zs)]
        index = z(total)
        got = dict(db.execute("SELECT key, status_index FROM krs").fetchall())
        for k, want in zip(krs, index):
            check(close(got.get(k), want, 1.0), "krs %s status_index: %r, expected %r"
                  % (k, got.get(k), want))
            n_checked += 1
        db.close()
        print("%d values checked against the plain-Python computation" % n_checked)
    if failures:
        print("%d failures" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
