#!/usr/bin/python3
"""Kill test (issue 8): `kiez run geodata/berlin/berlin.yml --out DIR` is
killed with SIGKILL at random moments, many times, into the same folder.

1. A clean run into a reference folder; its wall time T is measured.
2. At least KZ_KILLS (default 100; KZ_KILL_QUICK=1: 20) runs into DIR, each
   killed after a random delay uniform in [0, 1.1 T) (seed KZ_KILL_SEED,
   default 8), so that kills land in start-up, import, compute and export.
   The project is a copy of geodata/berlin/berlin.yml taken at the start,
   without the HTML atlas unless KZ_KILL_ATLAS=1 (see ATLAS below).
   A run that finishes before its kill is a complete run (counted, not a
   kill). After every kill:
   - the database DIR/berlin.sqlite is absent (no run has completed yet) or
     opens read-only, passes PRAGMA integrity_check, and has the content of
     a complete run (the reference digest: every table but the run log);
     the GeoPackage, if present, passes integrity_check too;
   - DIR holds only the outputs of a complete run plus what the killed run
     may leave: ".kiez-staging-<pid>/", "berlin.sqlite.tmp-<pid>" (with
     "-journal") and "atlas.old-<pid>/", all of the one pid of the last run
     that got that far (the next run removes them: kz_run cleans up after
     runs whose pid is gone, so they never pile up);
   - no output file is partial: every visible GeoJSON parses.
3. A final run completes (exit 0), leaves no temporary files, and its
   GeoPackage has the same attribute values in every layer and table as
   the reference (values compared, not bytes; fids and times excluded).

Exit 77 (skip) without the Berlin data.
"""
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

KIEZ = os.path.abspath(sys.argv[1])
GEODATA = os.path.abspath(os.environ.get("KIEZ_GEODATA", "../shared/geodata"))
PROJECT = None  # a copy of geodata/berlin/berlin.yml taken at the start (see main)
QUICK = os.environ.get("KZ_KILL_QUICK", "") not in ("", "0")
KILLS = int(os.environ.get("KZ_KILLS", "20" if QUICK else "100"))
SEED = int(os.environ.get("KZ_KILL_SEED", "8"))
# The HTML atlas takes most of a run (about 6 of 10 s CPU in Release with
# the demo of November 2025) and is staged and published like every other
# output; without it 100 kills fit in a few minutes. KZ_KILL_ATLAS=1 keeps it.
ATLAS = os.environ.get("KZ_KILL_ATLAS", "") not in ("", "0")
LEFTOVER = re.compile(r"^(\.kiez-staging-(\d+)|berlin\.sqlite\.tmp-(\d+)(-journal)?|atlas\.old-(\d+))$")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def run(out):
    return subprocess.run([KIEZ, "run", PROJECT, "--out", out, "-q"],
                          capture_output=True, text=True, env=dict(os.environ, KIEZ_GEODATA=GEODATA))


def ro(path):
    return sqlite3.connect("file:" + path + "?mode=ro", uri=True)


def db_digest(path):
    """SHA-256 over every row of every table of the monitoring database but
    the run log (which holds times), ordered, so that two complete runs
    compare equal."""
    h = hashlib.sha256()
    con = ro(path)
    tables = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name IN "
        "('level','area','value_block','indicator','indicator_block','object','object_layer',"
        "'finding','statistic') ORDER BY name")]
    for t in tables:
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{t}")') if r[1] not in ("imported",)]
        sel = ",".join(f'"{c}"' for c in cols)
        for row in con.execute(f'SELECT {sel} FROM "{t}" ORDER BY {sel}'):
            h.update(repr(row).encode())
    con.close()
    return h.hexdigest()


def integrity(path):
    con = ro(path)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


TIMES = ("imported", "started", "finished", "update_time")


def untimed(v):
    """A value without times: JSON text (provenance inputs) loses its
    "imported" members."""
    if isinstance(v, str) and v[:1] in "[{":
        try:
            doc = json.loads(v)
        except ValueError:
            return v

        def strip(x):
            if isinstance(x, dict):
                return {k: strip(y) for k, y in x.items() if k not in TIMES}
            if isinstance(x, list):
                return [strip(y) for y in x]
            return x
        return json.dumps(strip(doc), sort_keys=True)
    return v


def gpkg_values(path):
    """Every attribute value of every layer and table of a GeoPackage,
    geometry columns and times excluded, in a stable order."""
    con = ro(path)
    out = {}
    tables = [r[0] for r in con.execute("SELECT table_name FROM gpkg_contents ORDER BY table_name")]
    geoms = {r[0]: r[1] for r in con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")}
    for t in tables:
        cols = [r[1] for r in con.execute(f'PRAGMA table_info("{t}")')
                if r[1] != geoms.get(t)
                and r[1] not in ("fid", "id") + TIMES]
        sel = ",".join(f'"{c}"' for c in cols)
        rows = [tuple(untimed(v) for v in r) for r in con.execute(f'SELECT {sel} FROM "{t}"')]
        out[t] = (cols, sorted(rows, key=repr))
    con.close()
    return out


def check_state(out, ref_names, ref_digest, note):
    names = os.listdir(out)
    pids = set()
    for n in names:
        m = LEFTOVER.match(n)
        if m:
            pids.add(int(next(g for g in (m.group(2), m.group(3), m.group(5)) if g)))
        else:
            check(n in ref_names, f"{note}: unexpected file {n}")
    check(len(pids) <= 1, f"{note}: leftovers of several runs pile up: {sorted(pids)}")
    db = os.path.join(out, "berlin.sqlite")
    if os.path.exists(db):
        if check(integrity(db) == "ok", f"{note}: berlin.sqlite fails integrity_check"):
            check(db_digest(db) == ref_digest, f"{note}: berlin.sqlite is not a complete run")
    gpkg = os.path.join(out, "berlin.gpkg")
    if os.path.exists(gpkg):
        check(integrity(gpkg) == "ok", f"{note}: berlin.gpkg fails integrity_check")
    for n in names:
        if n.endswith(".geojson"):
            try:
                with open(os.path.join(out, n), encoding="utf-8") as f:
                    json.load(f)
            except ValueError as e:
                check(False, f"{note}: {n} is partial: {e}")
    return pids


def main():
    if not os.path.isdir(os.path.join(GEODATA, "berlin")):
        print("skipped: no Berlin data in", GEODATA)
        return 77
    global PROJECT
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        # The project as it is now: the reference and the re-runs must read
        # the same file (its sources resolve through $KIEZ_GEODATA).
        PROJECT = os.path.join(tmp, "berlin.yml")
        with open("geodata/berlin/berlin.yml", encoding="utf-8") as f:
            text = f.read()
        if not ATLAS:
            text = re.sub(r"report:\s*true", "report: false", text)
        with open(PROJECT, "w", encoding="utf-8") as f:
            f.write(text)
        ref, out = os.path.join(tmp, "ref"), os.path.join(tmp, "out")
        t0, c0 = time.monotonic(), os.times()
        p = run(ref)
        wall = time.monotonic() - t0
        c1 = os.times()
        cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
        if p.returncode != 0:
            print(p.stderr[-3000:])
            return 1
        print(f"reference run: {wall:.2f} s wall, {cpu:.2f} s CPU", flush=True)
        ref_names = set(os.listdir(ref))
        ref_digest = db_digest(os.path.join(ref, "berlin.sqlite"))
        ref_values = gpkg_values(os.path.join(ref, "berlin.gpkg"))

        kills = completed = 0
        states = {"nothing yet": 0, "database being built": 0, "outputs being written": 0,
                  "being published": 0}
        attempt = 0
        while kills < KILLS:
            attempt += 1
            delay = rng.uniform(0.0, 1.1 * wall)
            proc = subprocess.Popen([KIEZ, "run", PROJECT, "--out", out, "-q"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                    env=dict(os.environ, KIEZ_GEODATA=GEODATA))
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                pass
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                # What the run was doing when it died, from what it left.
                staging = os.path.join(out, f".kiez-staging-{proc.pid}")
                tmp_db = os.path.join(out, f"berlin.sqlite.tmp-{proc.pid}")
                if os.path.exists(tmp_db):
                    state = ("outputs being written" if os.path.isdir(staging) and os.listdir(staging)
                             else "database being built")
                elif os.path.isdir(staging):
                    state = "being published"
                else:
                    state = "nothing yet"
                states[state] += 1
                kills += 1
                note = f"kill {kills} after {delay:.2f} s ({state})"
            else:
                check(proc.returncode == 0, f"run {attempt} exited {proc.returncode} unkilled")
                completed += 1
                note = f"complete run {attempt}"
            if os.path.isdir(out):
                check_state(out, ref_names, ref_digest, note)
            if failures and len(failures) > 20:
                break
        print(f"{kills} kills, {completed} runs completed before their kill; states at the kill: "
              + ", ".join(f"{k} {v}" for k, v in states.items()), flush=True)

        p = run(out)
        check(p.returncode == 0, f"final run exited {p.returncode}: {p.stderr[-2000:]}")
        names = set(os.listdir(out))
        check(names == ref_names, f"final run: files differ from a clean run: "
                                  f"{sorted(names ^ ref_names)}")
        check(integrity(os.path.join(out, "berlin.sqlite")) == "ok", "final database integrity")
        check(db_digest(os.path.join(out, "berlin.sqlite")) == ref_digest,
              "final database content differs from a clean run")
        values = gpkg_values(os.path.join(out, "berlin.gpkg"))
        check(sorted(values) == sorted(ref_values), "final GeoPackage: other layers/tables")
        for t in ref_values:
            check(values.get(t) == ref_values[t], f"final GeoPackage: {t} differs from a clean run")
        print(f"final run: {len(values)} GeoPackage layers/tables equal to the clean run", flush=True)
    if failures:
        print(len(failures), "failure(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
