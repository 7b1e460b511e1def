#!/usr/bin/env python3
"""A million small files: snapshot, no-change snapshot and status against hashing the same files.

Usage: bench/million.py [N] [--reps R] [--data DIR] [--keep]   (bench/million.sh builds first)

Generates N files (default 1,000,000) of about 120 bytes in N/1000 folders under DIR
(deterministic: the same N gives the same bytes), then per repetition, with a warm page cache:
  baseline  b3sum of every file (the physical floor: read and hash), else `cat > /dev/null`
  strata    first snapshot into a fresh home, no-change snapshot, status
and prints medians, peak resident memory (GNU time's max RSS of the measured process) and the
ratio of the first snapshot to the baseline. The files are deleted at the end unless --keep:
a million of them hold about 4 GB of blocks and inodes.
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import local  # noqa: E402  (run: seconds and peak RSS, measured as every bench measures them)

run = local.run
ROOT = os.path.dirname(HERE)
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
STRATA = os.environ.get("STRATA_BIN", os.path.join(TARGET, "release", "strata"))

TARGETS = {"snapshot": "2.5× b3sum", "snapshot-nochange": 1.5, "status": 1.5}
RSS_TARGET_MB = 250


def generate(root, n):
    """N files of 100-140 bytes in N/1000 folders; a marker records N so a rerun reuses them."""
    marker = os.path.join(root, ".generated")
    if os.path.exists(marker) and open(marker).read() == str(n):
        return
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    rng = random.Random(n)
    per = 1000
    for d in range((n + per - 1) // per):
        folder = os.path.join(root, f"d{d:04d}")
        os.mkdir(folder)
        for i in range(min(per, n - d * per)):
            with open(os.path.join(folder, f"f{i:04d}.txt"), "wb") as fh:
                fh.write(b"%d,%d," % (d, i) + rng.randbytes(rng.randint(90, 130)))
    # The marker is data to strata's scan only if it is not hidden from it: keep it out.
    with open(os.path.join(root, ".strataignore"), "w") as fh:
        fh.write(".generated\n")
    with open(marker, "w") as fh:
        fh.write(str(n))


def main():
    os.makedirs(local.OUT, exist_ok=True)  # where run() keeps its RSS file
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int, nargs="?", default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--data", default=os.path.join(HERE, "data", "million"))
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    a = ap.parse_args()
    if not os.path.exists(STRATA):
        sys.exit(f"{STRATA} not found: run bench/million.sh (it builds the release binary)")
    src = os.path.join(a.data, "files")
    work = os.path.join(a.data, "work")
    print(f"generating {a.n} files ...", flush=True)
    generate(src, a.n)
    b3 = shutil.which("b3sum")
    base_name = "baseline b3sum" if b3 else "baseline cat"
    hash_cmd = (f"cd {src} && find . -type f -print0 | xargs -0 "
                + ("b3sum > /dev/null" if b3 else "cat > /dev/null"))
    results = {}
    for rep in range(a.reps):
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        home = os.path.join(work, "home")
        env = dict(os.environ, STRATA_HOME=home)
        subprocess.run(["sync"])
        run(f"cd {src} && find . -type f -print0 | xargs -0 cat > /dev/null", shell=True)  # warm the page cache and the inode/dentry caches
        steps = [
            (base_name, lambda: run(hash_cmd, shell=True)),
            ("snapshot", lambda: run([STRATA, "-q", "snapshot", "b/million", src], env)),
            ("snapshot-nochange",
             lambda: run([STRATA, "-q", "snapshot", "b/million", src], env)),
            ("status",
             lambda: run([STRATA, "-q", "status", src, "--dataset", "b/million"], env)),
        ]
        for name, step in steps:
            t = step()
            results.setdefault(name, []).append(t)
            print(f"  rep {rep}: {name} {t[0]:.2f} s, {t[1]:.0f} MB", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    if not a.keep:
        shutil.rmtree(a.data, ignore_errors=True)

    med = {k: statistics.median(t for t, _ in v) for k, v in results.items()}
    mem = {k: max(m for _, m in v) for k, v in results.items()}
    lines = [f"strata, {a.n} files of ~120 B in {a.n // 1000} folders; {a.reps} repetitions, "
             f"medians; {os.cpu_count()} cores", "",
             "| operation | median s | peak MB | target | vs baseline |", "|---|---:|---:|---|---|"]
    for k in results:
        t = TARGETS.get(k)
        target = "—" if t is None else (f"≤ {t} s" if isinstance(t, float) else f"≤ {t}")
        target += f", ≤ {RSS_TARGET_MB} MB" if t is not None else ""
        cmp = f"{med[k] / med[base_name]:.2f}× {base_name.split()[-1]}" if k != base_name else ""
        lines.append(f"| {k} | {med[k]:.2f} | {mem[k]:.0f} | {target} | {cmp} |")
    if not b3:
        lines += ["", "b3sum is not installed: the baseline only reads the files (cat)."]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
