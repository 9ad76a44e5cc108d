#!/usr/bin/python3
"""Real-client test: headless Chromium renders the HTML atlas.

Runs `kiez run geodata/berlin/berlin.yml` into a temporary folder, then
`kiez report out/berlin.sqlite --out out/atlas`, and checks:

- index.html and one page per planning area (542) exist, are German
  (lang="de"), UTF-8, and reference no http(s) URL and no script;
- every link between the pages resolves to a file of the atlas;
- each area page shows exactly the traffic lights of the GeoPackage's
  <indicator>_light columns of the plr layer (the project's action
  section), and no light where that column is NULL;
- headless Chromium screenshots index.html and one area page into
  tests/artifacts/ with no console error or uncaught exception in its log,
  and the screenshots are not blank.

Usage: test_atlas_chromium.py KIEZ [ATLAS_DIR]  (ATLAS_DIR: check an
existing atlas instead of running kiez). Exit 77 (skip) without the data
or Chromium.
"""
import glob
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import zlib
import struct

KIEZ = sys.argv[1]
GEODATA = os.environ.get("KIEZ_GEODATA", "../shared/geodata")
ARTIFACTS = os.path.join(os.getcwd(), "tests", "artifacts")
AREA = "01100103"  # a planning area in Mitte with facilities of every kind
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def png_colours(path):
    """Distinct colours of a PNG on a sample grid (8-bit RGB/RGBA, no palette)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return 0
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or ctype not in (2, 6):
        return 0
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    prev = bytearray(stride)
    seen = set()
    step = max(1, height // 60)
    for y in range(height):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if y % step == 0:
            for x in range(0, width, max(1, width // 60)):
                seen.add(bytes(line[x * bpp:x * bpp + 3]))
        prev = line
    return len(seen)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(browser, page, png, height):
    profile = tempfile.mkdtemp(prefix="kiez-chromium-")
    try:
        cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-extensions", "--hide-scrollbars",
               "--enable-logging=stderr", "--v=0", f"--user-data-dir={profile}",
               f"--screenshot={png}", f"--window-size=1280,{height}",
               "file://" + os.path.abspath(page)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    log = proc.stdout + proc.stderr
    console = [ln for ln in log.splitlines()
               if "Uncaught" in ln or ("CONSOLE" in ln and ("error" in ln.lower() or "warn" in ln.lower()))
               or "Failed to load resource" in ln or "net::ERR" in ln]
    check(proc.returncode == 0, f"chromium exit {proc.returncode} on {page}: {log[-800:]}")
    check(not console, f"no console errors on {os.path.basename(page)}: {console}")
    if check(os.path.exists(png), f"screenshot {png} written"):
        n = png_colours(png)
        print(f"{png}: {os.path.getsize(png)} bytes, {n} sampled colours")
        check(n >= 8, f"screenshot {os.path.basename(png)} is not blank ({n} colours)")


def check_html(atlas):
    pages = sorted(glob.glob(os.path.join(atlas, "*.html")))
    names = {os.path.basename(p) for p in pages}
    check("index.html" in names, "index.html written")
    areas = [n for n in names if n.startswith("gebiet-")]
    check(len(areas) == 542, f"one page per planning area: {len(areas)}")
    check(not [f for f in os.listdir(atlas) if ".tmp" in f], "no temporary files left")
    for p in pages:
        with open(p, encoding="utf-8") as f:
            html = f.read()
        base = os.path.basename(p)
        if not check(re.search(r'<html lang="de">', html), f"{base}: lang=de"):
            break
        if not check(not re.search(r"https?://", html), f"{base}: no http(s) URL"):
            break
        if not check("<script" not in html.lower(), f"{base}: no script"):
            break
        missing = {h for h in re.findall(r'href="([^"#]+)', html) if h not in names}
        missing |= {u for u in re.findall(r'url\(([^)]+)\)', html)
                    if not os.path.exists(os.path.join(atlas, u))}
        if not check(not missing, f"{base}: links resolve: {sorted(missing)[:5]}"):
            break
    with open(os.path.join(atlas, "index.html"), encoding="utf-8") as f:
        index = f.read()
    db = os.path.join(os.path.dirname(os.path.abspath(atlas)), "berlin.sqlite")
    if os.path.exists(db):
        n = sqlite3.connect(db).execute("SELECT COUNT(*) FROM indicator").fetchone()[0]
        check(index.count('<svg class="map"') == n, f"index: one map per indicator ({n})")
    check("Anteil unter 6-Jährige" in index, "index: German labels from the catalogue")
    gpkg = os.path.join(os.path.dirname(os.path.abspath(atlas)), "berlin.gpkg")
    if os.path.exists(gpkg):
        check_lights(atlas, gpkg)
    for svg in glob.glob(os.path.join(atlas, "*.svg")):
        with open(svg, encoding="utf-8") as f:
            text = f.read()
        check(not re.search(r'(href|src)="https?://|url\(https?:', text),
              f"{os.path.basename(svg)}: references nothing remote")


def check_lights(atlas, gpkg):
    """The atlas's light of every area and indicator with an action section
    is the GeoPackage's <indicator>_light value (none where it is NULL)."""
    g = sqlite3.connect(gpkg)
    lights = [r[1][:-6] for r in g.execute('PRAGMA table_info("plr")') if r[1].endswith("_light")]
    rows = g.execute(f'SELECT key, {", ".join(c + "_light" for c in lights)} FROM plr').fetchall()
    g.close()
    check(len(lights) == 3 and len(rows) == 542, f"plr: {len(lights)} light columns, {len(rows)} areas")
    counts, bad = {}, []
    for key, *vals in rows:
        with open(os.path.join(atlas, f"gebiet-{key}.html"), encoding="utf-8") as f:
            html = f.read()
        for ind, v in zip(lights, vals):
            m = re.search(r'<span class="([a-z ]+)" data-indicator="' + ind + r'"( data-light="(\d)")?',
                          html)
            shown = int(m.group(3)) if m and m.group(3) else None
            if m is None or shown != v or (v is not None and m.group(1) != "light official"):
                bad.append((key, ind, v, shown))
            counts[shown] = counts.get(shown, 0) + 1
    print("atlas lights (plr):", {k: counts[k] for k in sorted(counts, key=str)})
    check(not bad, f"atlas lights equal the GeoPackage's: {len(bad)} differ, e.g. {bad[:3]}")


def check_atlas(atlas):
    browser = chromium()
    if browser is None:
        print("skipped: no chromium")
        return 77
    check_html(atlas)
    os.makedirs(ARTIFACTS, exist_ok=True)
    screenshot(browser, os.path.join(atlas, "index.html"),
               os.path.join(ARTIFACTS, "atlas_index.png"), 1500)
    screenshot(browser, os.path.join(atlas, f"gebiet-{AREA}.html"),
               os.path.join(ARTIFACTS, "atlas_area.png"), 1700)
    print("FAILED:" if failures else "ok", *failures, sep="\n  ")
    return 1 if failures else 0


def main():
    if len(sys.argv) > 2:
        return check_atlas(sys.argv[2])
    if not os.path.isdir(os.path.join(GEODATA, "berlin")):
        print("skipped: no Berlin data in", GEODATA)
        return 77
    if chromium() is None:
        print("skipped: no chromium")
        return 77
    with tempfile.TemporaryDirectory() as out:
        proc = subprocess.run([KIEZ, "run", "geodata/berlin/berlin.yml", "--out", out, "-q"],
                              capture_output=True, text=True)
        print(proc.stderr[-3000:])
        if proc.returncode != 0:
            print("kiez run failed with", proc.returncode)
            return 1
        atlas = os.path.join(out, "atlas")
        proc = subprocess.run([KIEZ, "report", os.path.join(out, "berlin.sqlite"), "--out", atlas],
                              capture_output=True, text=True)
        print(proc.stderr[-3000:])
        if not check(proc.returncode == 0, f"kiez report exit {proc.returncode}"):
            return 1
        return check_atlas(atlas)


if __name__ == "__main__":
    sys.exit(main())
