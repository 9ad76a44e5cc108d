#!/usr/bin/python3
"""A full disk and an unwritable output folder (issue 8), on real file
systems: small tmpfs mounts (needs root or CAP_SYS_ADMIN; otherwise the test
exits 77, skipped, and says so: a plain user cannot make a disk full without
filling a real one, and root ignores permission bits, so chmod cannot make a
folder unwritable for root).

1. Full disk: `kiez run tests/data/tiny/tiny.yml --out MNT/out` once on a
   24 MiB tmpfs (succeeds), then the disk is filled to the last 256 KiB and
   the run repeated: exit 3, one message that says the disk is full and
   names the file, the previous outputs byte-for-byte unchanged, no
   temporary file or staging folder left behind.
2. Read-only output folder: the same outputs on a tmpfs remounted
   read-only: exit 3, the message names the folder and says it is not
   writable, outputs unchanged.
3. A fresh run into a full disk (no earlier outputs): exit 3, nothing left.
"""
import hashlib
import os
import subprocess
import sys
import tempfile

KIEZ = os.path.abspath(sys.argv[1])
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROJECT = os.path.join(ROOT, "tests/data/tiny/tiny.yml")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)
    return cond


def mount(path, size, ro=False):
    opts = f"size={size}" + (",ro" if ro else "")
    return subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "kz-test", path],
                          capture_output=True).returncode == 0


def umount(path):
    subprocess.run(["umount", path], capture_output=True)


def snapshot(folder):
    out = {}
    for dirpath, _, files in os.walk(folder):
        for f in files:
            p = os.path.join(dirpath, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, folder)] = hashlib.sha256(fh.read()).hexdigest()
    return out


def run(out):
    return subprocess.run([KIEZ, "run", PROJECT, "--out", out], capture_output=True, text=True)


def fill(mnt):
    """Fill the file system to its last 256 KiB."""
    st = os.statvfs(mnt)
    free = st.f_bavail * st.f_frsize - 256 * 1024
    with open(os.path.join(mnt, "filler"), "wb") as f:
        chunk = b"\0" * (1 << 20)
        while free > 0:
            n = min(free, len(chunk))
            f.write(chunk[:n])
            free -= n


def leftovers(folder):
    return [n for n in os.listdir(folder) if "tmp" in n or "staging" in n or ".old-" in n]


def main():
    with tempfile.TemporaryDirectory() as tmp:
        mnt = os.path.join(tmp, "mnt")
        os.mkdir(mnt)
        if not mount(mnt, "24m"):
            print("skipped: cannot mount a tmpfs (needs root or CAP_SYS_ADMIN); a full disk "
                  "cannot be made without filling a real one")
            return 77
        try:
            out = os.path.join(mnt, "out")
            p = run(out)
            if not check(p.returncode == 0, f"first run on the tmpfs: {p.stderr[-2000:]}"):
                return 1
            before = snapshot(out)

            # 1. the disk fills up during a re-run
            fill(mnt)
            p = run(out)
            print("full disk:", p.stderr.strip())
            check(p.returncode == 3, f"full disk: exit {p.returncode}, expected 3")
            check("full" in p.stderr or "No space left" in p.stderr,
                  "full disk: the message says the disk is full")
            check(out in p.stderr or "out/" in p.stderr, "full disk: the message names the file")
            # SpatiaLite prints the SQLite error itself as well (third-party
            # noise on stderr); kiez's own message is one line.
            mine = [l for l in p.stderr.splitlines() if l.startswith("kiez run:")]
            check(len(mine) == 1 and "free disk space" in mine[0],
                  "full disk: one kiez message that says what to do")
            check(snapshot(out) == before, "full disk: the previous outputs changed")
            check(not leftovers(out), f"full disk: left behind {leftovers(out)}")

            # 3. a fresh run into the full disk
            fresh = os.path.join(mnt, "fresh")
            p = run(fresh)
            print("full disk, fresh folder:", p.stderr.strip())
            check(p.returncode == 3, f"fresh run on a full disk: exit {p.returncode}")
            check(not os.path.isdir(fresh) or not os.listdir(fresh),
                  f"fresh run on a full disk left {os.listdir(fresh) if os.path.isdir(fresh) else []}")
            os.unlink(os.path.join(mnt, "filler"))

            # 2. the output folder becomes read-only
            subprocess.run(["mount", "-o", "remount,ro", mnt], check=True)
            p = run(out)
            print("read-only:", p.stderr.strip())
            check(p.returncode == 3, f"read-only folder: exit {p.returncode}, expected 3")
            check(out in p.stderr and "not writable" in p.stderr,
                  "read-only folder: the message names the folder and says it is not writable")
            check(snapshot(out) == before, "read-only folder: the outputs changed")
        finally:
            umount(mnt)
    if failures:
        print(len(failures), "failure(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
