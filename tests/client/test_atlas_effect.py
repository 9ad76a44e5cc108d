#!/usr/bin/python3
"""Real-client test: the measure charts on the atlas pages (issue 7).

Runs the Berlin demo project (geodata/berlin/berlin.yml, its ILLUSTRATIVE
register: the 7 planning areas of Wedding Zentrum, u6_share, nearest:10)
with one more measure added for this test: a measure on a single planning
area (01100101), which kiez must refuse to estimate (fewer than 2 treated
areas). Then checks the atlas the run writes against the `statistics`
table of the GeoPackage:

- each of the 7 treated pages has exactly one measure section for
  (demo_wedding, u6_share), marked illustrative, with two inline SVG charts
  (role=img, <title>, <desc>): the group means (8 treated and 8 comparison
  points whose data-value equal the mean_treated / mean_comparison rows,
  periods equal, start line at 2022-12-31) and the event study (one point
  per event_<k> row, data-err = 1.96 * event_<k>_se); the drawn positions
  follow one linear value scale (cy, bar ends), x grows with the period and
  the start line sits on the start period; the sentence states the DiD, SE
  and 95 % CI (each equal to the statistic within its printed rounding),
  7 vs 10 areas, the comparison group and the pre-trend result; the
  text-alternative table has one row per period;
- the refused measure's page says "Keine Schätzung" with the reason, shows
  the means chart but no event-study chart and no illustrative label;
- the page of an untreated area, of every comparison area (`kiez effect
  --json`) and index.html have no measure section;
- headless Chromium renders a treated page without console errors and the
  screenshot (tests/artifacts/atlas_effect.png) is not blank.

Usage: test_atlas_effect.py KIEZ. Exit 77 (skip) without the data or Chromium.
"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_atlas_chromium as base  # noqa: E402  (chromium(), screenshot(), check())

KIEZ = sys.argv[1]
GEODATA = os.environ.get("KIEZ_GEODATA", "../shared/geodata")
TREATED = ["01401043", "01401044", "01401045", "01401046", "01401047", "01401048", "01401049"]
ONE_AREA = "01100101"
UNTREATED = "01100103"
check = base.check

EXTRA_MEASURE = """\
  - id: test_one_area
    name: "Testmaßnahme in einem Gebiet"
    level: plr
    areas: ["%s"]
    start: 2022-12-31
    indicators: [u6_share]
    comparison: {method: all}
""" % ONE_AREA


def german(text):
    """A number as the atlas writes it ("−0,16", "3 878 100") as float."""
    t = text.replace("\u2212", "-").replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    return float(t.replace(",", "."))


def within_rounding(text, value):
    """`text` is `value` rounded to the decimals it shows."""
    decimals = len(text.split(",")[1]) if "," in text else 0
    return abs(german(text) - value) <= 0.5 * 10 ** -decimals + 1e-12


def sections(html):
    return re.findall(r'<section class="measure"[^>]*>.*?</section>', html, re.S)


def points(svg, series):
    """(period, value, err or None, x, y) of the markers of one series."""
    out = []
    for m in re.finditer(r'<(circle|rect) ([^>]*data-series="%s"[^>]*)>' % series, svg):
        a = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(2)))
        if m.group(1) == "circle":
            x, y = float(a["cx"]), float(a["cy"])
        else:
            x, y = float(a["x"]) + 4.5, float(a["y"]) + 4.5
        err = float(a["data-err"]) if "data-err" in a else None
        out.append((a["data-period"], float(a["data-value"]), err, x, y))
    return out


def linear(pairs, tol=0.16):
    """All (value, position) pairs on one line (positions printed to 0.1)."""
    pairs = sorted(pairs)
    (v0, p0), (v1, p1) = pairs[0], pairs[-1]
    if v1 == v0:
        return False
    s = (p1 - p0) / (v1 - v0)
    return s < 0 and all(abs(p0 + (v - v0) * s - p) <= tol for v, p in pairs)


def stats(gpkg, measure):
    con = sqlite3.connect(gpkg)
    rows = con.execute("SELECT period, measure, value FROM statistics WHERE analysis = ?"
                       " AND subject = 'u6_share'", ("effect:" + measure,)).fetchall()
    con.close()
    summary = {m: v for p, m, v in rows if not m.startswith(("mean_", "event_"))}
    series = {}
    for p, m, v in rows:
        if m.startswith(("mean_", "event_")):
            series.setdefault(m if m.startswith("mean_") else
                              ("event_se" if m.endswith("_se") else "event"), {})[p] = v
    return summary, series


def check_treated(html, key, summary, series, start):
    secs = sections(html)
    if not check(len(secs) == 1, f"{key}: one measure section ({len(secs)})"):
        return
    sec = secs[0]
    check('data-measure="demo_wedding"' in sec and 'data-indicator="u6_share"' in sec,
          f"{key}: section of demo_wedding / u6_share")
    check("<h2>Maßnahme: ILLUSTRATIV" in sec, f"{key}: heading names the measure")
    check('class="illus"' in sec and "keine reale Maßnahme" in sec, f"{key}: illustrative label")
    check('href="#massnahme-' in html.split("</header>")[0], f"{key}: header links to the section")
    svgs = re.findall(r'<svg class="chart".*?</svg>', sec, re.S)
    if not check(len(svgs) == 2, f"{key}: two charts ({len(svgs)})"):
        return
    for svg in svgs:
        check('role="img"' in svg and "<title id=" in svg and "<desc id=" in svg,
              f"{key}: chart has role, title and desc")
        check(re.search(r'data-mark="%s"' % start, svg), f"{key}: start line at {start}")
        check(">Beginn %s<" % ".".join(reversed(start.split("-"))) in svg,
              f"{key}: start line labelled")
        check(all(f">{y}</text>" in svg for y in (2021, 2022, 2023, 2024)),
              f"{key}: years on the time axis")
    means, event = svgs
    check("Anteil unter 6-Jährige (%)" in means, f"{key}: value axis with label and unit")
    check("Effekt (Prozentpunkte)" in event, f"{key}: event axis in percentage points")
    drawn = {}
    for name in ("treated", "comparison"):
        pts = points(means, name)
        want = series["mean_" + name]
        check(len(pts) == len(want) == 8, f"{key}: {name}: {len(pts)} points, {len(want)} rows")
        check([p[0] for p in pts] == sorted(want), f"{key}: {name}: periods equal the rows")
        check(all(v == want.get(p) for p, v, _, _, _ in pts),
              f"{key}: {name}: plotted values equal the statistics rows exactly")
        drawn[name] = pts
    allpts = drawn["treated"] + drawn["comparison"]
    check(linear([(v, y) for _, v, _, _, y in allpts]), f"{key}: means on one linear scale")
    xs = [x for _, _, _, x, _ in drawn["treated"]]
    check(xs == sorted(xs) and len(set(xs)) == len(xs), f"{key}: x grows with the period")
    mark_x = float(re.search(r'<line x1="([\d.]+)"[^>]*data-mark=', means).group(1))
    at_start = [x for p, _, _, x, _ in drawn["treated"] if p == start]
    check(at_start and abs(at_start[0] - mark_x) < 0.11, f"{key}: start line on the start period")

    pts = points(event, "event")
    check(len(pts) == len(series["event"]) == 8, f"{key}: event points {len(pts)}")
    check(all(v == series["event"][p] for p, v, _, _, _ in pts),
          f"{key}: event values equal the event_<k> rows exactly")
    check(all(abs(e - 1.96 * series["event_se"][p]) <= 1e-12 for p, _, e, _, _ in pts),
          f"{key}: bars are 1.96 * event_<k>_se")
    ends = []
    for m in re.finditer(r'<path fill="none" stroke="#1f4e79" stroke-width="1.6" d="M([\d.]+) '
                         r'([\d.]+)V([\d.]+)', event):
        x, y_lo, y_hi = map(float, m.groups())
        p = next(q for q in pts if abs(q[3] - x) < 0.11)
        ends += [(p[1] - p[2], y_lo), (p[1] + p[2], y_hi)]
    check(len(ends) == 2 * 7, f"{key}: 7 bars (none at the reference period): {len(ends) // 2}")
    check(linear([(v, y) for _, v, _, _, y in pts] + ends), f"{key}: bars on the value scale")
    zero = re.search(r'<line x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)" y2="\1" stroke="#52606d"', event)
    ref = [y for p, v, _, _, y in pts if v == 0.0]
    check(zero and ref and abs(float(zero.group(1)) - ref[0]) < 0.11, f"{key}: zero line at 0")

    text = re.sub(r"<[^>]+>", "", re.search(r'<p class="estimate">.*?</p>', sec, re.S).group(0))
    num = r"(\u2212?\d+(?:,\d+)?)"
    m = re.search(r"Geschätzte Wirkung: %s Prozentpunkte.*Standardfehler %s.*"
                  r"Konfidenzintervall %s bis %s" % (num, num, num, num), text)
    if check(m, f"{key}: sentence with DiD, SE and CI: {text[:200]}"):
        for got, name in zip(m.groups(), ("did", "se", "ci_low", "ci_high")):
            check(within_rounding(got, summary[name]), f"{key}: {name} {got} vs {summary[name]}")
    check("%d Maßnahmengebiete, %d Vergleichsgebiete" % (summary["n_treated"],
                                                         summary["n_comparison"]) in text,
          f"{key}: numbers of areas")
    check("die 10 Gebiete ohne Maßnahme" in sec and "am 30.06.2022" in sec,
          f"{key}: comparison group and baseline named")
    check(summary["pretrend_violated"] == 0 and "kein deutlicher Unterschied" in sec,
          f"{key}: pre-trend check result")
    rows = re.findall(r"<tr><th scope=\"row\">", re.search(r"<table class=\"effect-values\">.*?"
                                                         r"</table>", sec, re.S).group(0))
    check(len(rows) == 8, f"{key}: text alternative table, one row per period ({len(rows)})")


def check_atlas(out):
    atlas = os.path.join(out, "atlas")
    gpkg = os.path.join(out, "berlin.gpkg")
    summary, series = stats(gpkg, "demo_wedding")
    start = "2022-12-31"
    check(summary.get("status") == 0, "demo_wedding has an estimate")
    for key in TREATED:
        with open(os.path.join(atlas, f"gebiet-{key}.html"), encoding="utf-8") as f:
            check_treated(f.read(), key, summary, series, start)

    one, one_series = stats(gpkg, "test_one_area")
    check(one.get("status") == 1, f"test_one_area refused as too few treated: {one.get('status')}")
    with open(os.path.join(atlas, f"gebiet-{ONE_AREA}.html"), encoding="utf-8") as f:
        secs = sections(f.read())
    if check(len(secs) == 1, f"{ONE_AREA}: one measure section"):
        sec = secs[0]
        check("Keine Schätzung" in sec and "weniger als 2 Maßnahmengebiete" in sec,
              f"{ONE_AREA}: says plainly why there is no estimate")
        check(sec.count('<svg class="chart"') == 1 and 'data-series="event"' not in sec,
              f"{ONE_AREA}: means chart only, no chart of estimates")
        check("Geschätzte Wirkung" not in sec, f"{ONE_AREA}: no estimate printed")
        check(len(points(sec, "treated")) == len(one_series["mean_treated"]),
              f"{ONE_AREA}: means of the one area drawn")
        check('class="illus"' not in sec, f"{ONE_AREA}: not labelled illustrative")

    proc = subprocess.run([KIEZ, "effect", os.path.join(out, "berlin.sqlite"), "--measure",
                           "demo_wedding", "--json"], capture_output=True, text=True)
    compared = json.loads(proc.stdout)["comparison_areas"] if proc.returncode == 0 else []
    check(len(compared) == 10, f"kiez effect lists 10 comparison areas: {compared}")
    for key in [UNTREATED] + compared:
        with open(os.path.join(atlas, f"gebiet-{key}.html"), encoding="utf-8") as f:
            html = f.read()
        check(not sections(html) and "Maßnahme:" not in html,
              f"{key}: untreated area has no measure section")
    with open(os.path.join(atlas, "index.html"), encoding="utf-8") as f:
        check('class="measure"' not in f.read(), "index.html has no measure section")

    os.makedirs(base.ARTIFACTS, exist_ok=True)
    base.screenshot(base.chromium(), os.path.join(atlas, f"gebiet-{TREATED[0]}.html"),
                    os.path.join(base.ARTIFACTS, "atlas_effect.png"), 5200)


def main():
    if not os.path.isdir(os.path.join(GEODATA, "berlin")):
        print("skipped: no Berlin data in", GEODATA)
        return 77
    if base.chromium() is None:
        print("skipped: no chromium")
        return 77
    with open("geodata/berlin/berlin.yml", encoding="utf-8") as f:
        project = f.read()
    if not check("\nmeasures:\n" in project, "berlin.yml has a measures section"):
        return 1
    project = project.replace("\nmeasures:\n", "\nmeasures:\n" + EXTRA_MEASURE, 1)
    with tempfile.TemporaryDirectory() as out:
        # Sources resolve against $KIEZ_GEODATA when not next to the project.
        path = os.path.join(out, "berlin.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(project)
        proc = subprocess.run([KIEZ, "run", path, "--out", out, "-q"], capture_output=True,
                              text=True)
        print(proc.stderr[-3000:])
        if not check(proc.returncode == 0, f"kiez run exit {proc.returncode}"):
            return 1
        check_atlas(out)
    print("FAILED:" if base.failures else "ok", *base.failures, sep="\n  ")
    return 1 if base.failures else 0


if __name__ == "__main__":
    sys.exit(main())
