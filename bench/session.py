#!/usr/bin/env python3
"""Offline sessions: `strata export` and `strata import` of the small set (bench/gen.py: 20,000
files of 2-16 KB, ~180 MB), next to `tar cf` / `tar xf` of the same folder in the same run; and
`strata import --upload` into SeaweedFS on loopback next to `strata upload` of the same version
from the home that made it (the remote benchmark's upload figure, measured here again).

Usage: bench/session.py [--reps N]   (bench/session.sh builds and runs it)

Each repetition: a fresh home snapshots the set (untimed); export it (timed) and tar the folder
(timed); import into a fresh home (timed) and untar into an empty folder (timed); then, with a
fresh bucket prefix, upload the first home's version (timed) and import the file with --upload
into another fresh home (timed). Warm page cache; caches are flushed to disk between steps.
Prints medians and peak memory; writes bench/out/session.md.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import local  # noqa: E402
import remote  # noqa: E402

TARGETS = {"export": 1.5, "import": 1.5}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    os.makedirs(local.OUT, exist_ok=True)
    src = os.path.join(local.DATA, "small")
    if not os.path.isdir(src):
        print("generating small dataset ...", flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), "small", src], check=True)
    server_dir = os.path.join(local.OUT, "seaweed-session")
    shutil.rmtree(server_dir, ignore_errors=True)
    server, endpoint = remote.start_seaweed(server_dir)
    results = {}

    def rec(name, r):
        results.setdefault(name, []).append(r)

    try:
        for rep in range(args.reps):
            work = os.path.join(local.OUT, f"session-{rep}")
            shutil.rmtree(work, ignore_errors=True)
            os.makedirs(work)
            prefix = f"session-{rep}-{int(time.time())}"
            a = os.path.join(work, "a")
            remote.add_remote(a, endpoint, prefix)
            subprocess.run([local.STRATA, "-q", "snapshot", "b/small", src], env=remote.strata_env(a),
                           check=True, stdout=subprocess.DEVNULL)
            local.settle()
            file = os.path.join(work, "day.strata")
            rec("export", remote.strata(a, "export", "b/small", "-o", file))
            local.settle()
            rec("tar cf", local.run(["tar", "cf", os.path.join(work, "day.tar"), "-C", src, "."]))
            local.settle()
            rec("import", remote.strata(os.path.join(work, "b"), "import", file))
            local.settle()
            untar = os.path.join(work, "untar")
            os.makedirs(untar)
            rec("tar xf", local.run(["tar", "xf", os.path.join(work, "day.tar"), "-C", untar]))
            local.settle()
            rec("upload", remote.strata(a, "upload", "b/small"))
            local.settle()
            c = os.path.join(work, "c")
            remote.add_remote(c, endpoint, f"{prefix}-import")
            rec("import --upload", remote.strata(c, "import", file, "--upload"))
            size = os.path.getsize(file) / 1e6
            print(f"rep {rep + 1}/{args.reps}: " + ", ".join(
                f"{k} {v[-1][0]:.3f}s" for k, v in results.items()) + f"; file {size:.0f} MB", flush=True)
    finally:
        server.kill()
        shutil.rmtree(server_dir, ignore_errors=True)
        for d in os.listdir(local.OUT):
            if d.startswith("session-"):
                shutil.rmtree(os.path.join(local.OUT, d), ignore_errors=True)

    med = {k: statistics.median(t for t, _ in v) for k, v in results.items()}
    mem = {k: max(m for _, m in v) for k, v in results.items()}
    base = {"export": "tar cf", "import": "tar xf", "import --upload": "upload"}
    lines = ["## Offline sessions (small set: 20,000 files, ~180 MB)", "",
             f"{os.cpu_count()} cores; medians of {args.reps} runs; SeaweedFS on loopback.", "",
             "| operation | median s | target s | peak MB | baseline (same run) |", "|---|---:|---:|---:|---|"]
    for k in results:
        t = TARGETS.get(k)
        if k == "import --upload" and "upload" in med:
            t = med["upload"] + 1.0
        flag = "" if t is None or med[k] <= t else " (missed)"
        cmp = f"{med[base[k]]:.3f} s {base[k]} ({med[k] / med[base[k]]:.2f}×)" if k in base else ""
        lines.append(f"| {k} | {med[k]:.3f}{flag} | {f'{t:.2f}' if t else '—'} | {mem[k]:.0f} | {cmp} |")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(local.OUT, "session.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
