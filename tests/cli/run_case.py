#!/usr/bin/python3
"""Run one golden command-line case.

A case file is data, not code (after PROJ's test/cli/*.yaml and jq's tests):

    # comment
    args: classify tests/data/x.geojson --field v --classes 3
    exit: 0
    stdout: text that must appear on stdout        (repeatable)
    stderr: text that must appear on stderr        (repeatable)
    json: $.path == value                          (repeatable; stdout is JSON)
    needs: geodata                                 (skip with 77 if missing)
    write: NAME = TEXT                             (repeatable; a file in the temp
                                                    dir, TEXT with Python escapes;
                                                    {{c*N}} = N copies of c)
    copy: PATH                                     (repeatable; copied into the temp dir)
    setup: ARGS                                    (repeatable; kiez ARGS run first,
                                                    must exit 0)
    unchanged: FILE                                (repeatable; same SHA-256 before
                                                    and after the command)
    absent: GLOB                                   (repeatable; nothing may match
                                                    afterwards, e.g. out/*)

Arguments are split like a POSIX shell (shlex); $KIEZ_GEODATA and
$SRC (the repository root) are expanded. The command runs in a fresh
temporary directory, so relative output paths never touch the tree.
"""
import glob
import hashlib
import json
import os
import re
import shutil
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def lookup(doc, path):
    cur = doc
    for part in path.lstrip("$.").split("."):
        if part == "":
            continue
        cur = cur[int(part)] if isinstance(cur, list) else cur[part]
    return cur


def main():
    kiez, case_path = sys.argv[1], sys.argv[2]
    case = {"stdout": [], "stderr": [], "json": [], "needs": [], "write": [], "copy": [],
            "setup": [], "unchanged": [], "absent": []}
    with open(case_path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, _, value = line.partition(":")
            key, value = key.strip(), value.strip()
            if key in case and isinstance(case[key], list):
                case[key].append(value)
            else:
                case[key] = value
    geodata = os.environ.get("KIEZ_GEODATA", os.path.join(ROOT, "..", "shared", "geodata"))
    if "geodata" in case["needs"] and not os.path.isdir(geodata):
        print("skipped: no geodata at", geodata)
        return 77
    env = dict(os.environ, KIEZ_GEODATA=geodata, SRC=ROOT)
    args = [os.path.expandvars(a) for a in shlex.split(case.get("args", ""))]
    args = [a.replace("$SRC", ROOT) for a in args]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in case["write"]:
            name, _, text = spec.partition("=")
            text = text[1:] if text.startswith(" ") else text
            text = text.replace("$SRC", ROOT)
            # {{c*N}}: N copies of character c (big inputs without big case files).
            text = re.sub(r"\{\{(.)\*(\d+)\}\}", lambda m: m.group(1) * int(m.group(2)), text)
            data = text.encode("utf-8").decode("unicode_escape").encode("latin-1")
            with open(os.path.join(tmp, name.strip()), "wb") as f:
                f.write(data)
        for src in case["copy"]:
            src = os.path.expandvars(src.replace("$SRC", ROOT))
            shutil.copy(src, tmp)
        for setup in case["setup"]:
            sargs = [os.path.expandvars(a).replace("$SRC", ROOT) for a in shlex.split(setup)]
            sp = subprocess.run([kiez] + sargs, capture_output=True, cwd=tmp, env=env,
                                timeout=600)
            if sp.returncode != 0:
                print("setup failed:", setup, sp.stderr.decode("utf-8", "replace"))
                return 1

        def digest(name):
            with open(os.path.join(tmp, name), "rb") as f:
                return hashlib.sha256(f.read()).hexdigest()

        before = {name: digest(name) for name in case["unchanged"]}
        proc = subprocess.run([kiez] + args, capture_output=True, cwd=tmp, env=env,
                              timeout=600)
        for name, d in before.items():
            if digest(name) != d:
                failures.append(f"{name} changed")
        for pattern in case["absent"]:
            found = glob.glob(os.path.join(tmp, pattern))
            if found:
                failures.append(f"left behind: {[os.path.relpath(f, tmp) for f in found]}")
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    want_exit = int(case.get("exit", "0"))
    if proc.returncode != want_exit:
        failures.append(f"exit code {proc.returncode}, expected {want_exit}")
    for s in case["stdout"]:
        if s not in out:
            failures.append(f"stdout lacks {s!r}")
    for s in case["stderr"]:
        if s not in err:
            failures.append(f"stderr lacks {s!r}")
    if case["json"]:
        try:
            doc = json.loads(out)
        except ValueError as e:
            failures.append(f"stdout is not JSON: {e}")
            doc = None
        for expr in case["json"] if doc is not None else []:
            path, op, want = expr.partition(" == ")
            if not op:
                path, op, want = expr.partition(" ~= ")
            try:
                got = lookup(doc, path.strip())
            except (KeyError, IndexError, ValueError, TypeError):
                failures.append(f"JSON has no {path.strip()}")
                continue
            want_v = json.loads(want)
            ok = (abs(got - want_v) <= 1e-6 * max(1.0, abs(want_v))) if op == " ~= " else got == want_v
            if not ok:
                failures.append(f"{path.strip()} is {got!r}, expected {want_v!r}")
    if failures:
        print("command:", " ".join(shlex.quote(a) for a in [kiez] + args))
        print("--- stdout\n" + out[:4000] + "\n--- stderr\n" + err[:4000])
        for f in failures:
            print("FAIL:", f)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
