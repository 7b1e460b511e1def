#!/usr/bin/env python3
"""Large-file transfer benchmark: the large set (8 files of 128 MiB, bench/gen.py) moved through
a SeaweedFS remote and a folder remote, next to the physical baselines of the same run.

Usage: bench/large.py [--reps N] [--data DIR] [--work DIR]   (bench/large.sh builds and runs it)

Each repetition, with a fresh SeaweedFS and a fresh folder remote:
  SeaweedFS  strata upload of the first version   vs  rclone copy --transfers 16 up
             strata get (read-only) and get --mutable into a fresh home
                                                   vs  rclone copy --transfers 16 down
             a 4 KiB edit inside one shard: snapshot, upload of that version and get of it
             by a home holding the first one, with the bytes each moved (files above 4 MiB
             are stored in content-defined pieces, so only the pieces around the edit move)
  folder     strata get --mutable and get (read-only) from a file:// remote into a fresh home
                                                   vs  cp -r of the same folder, then sync
                                                   and two cp -r of it, then sync: a get
             into a fresh home writes each byte twice, to the store and to the copy (one
             write where the filesystem has reflinks; ext4 has none), so this is its floor
Every step starts after `sync` and a pause, so no step pays for the previous one's dirty pages;
`+sync` columns add the `sync` right after a get (the store's objects are already fsynced,
the copy is not, as cp's is not). Peak RSS is the measured process's (GNU time).

Disk: the set is 1 GiB; a repetition holds at most about 5 GiB at once (source, server, one
home with its store and copy) and deletes everything it made before the next one.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import local  # noqa: E402  (run, settle, STRATA, OUT)
import remote  # noqa: E402  (start_seaweed, strata_env, rclone_env, KEY, BUCKET)

TARGETS = {  # row: (baseline row, largest ratio allowed), from the issue
    "s3 upload": ("rclone up", 1.1),
    "s3 get": ("rclone down", 1.3),
    "s3 get --mutable": ("rclone down", 1.3),
    "folder get --mutable +sync": ("cp -r + sync", 1.5),
    "folder get +sync": ("cp -r + sync", 1.5),
}
# The folder gets next to the bytes they must write on a filesystem without reflinks: twice.
FLOOR = {"folder get --mutable +sync": "2× cp -r + sync", "folder get +sync": "2× cp -r + sync"}
# Rows shown against a baseline without a target of their own.
COMPARED = {"s3 get +sync": "rclone down", "s3 get --mutable +sync": "rclone down",
            "folder get": "cp -r + sync", "folder get --mutable": "cp -r + sync"}
MEMORY_TARGET_MB = 150


def timed_sync():
    t0 = time.perf_counter()
    subprocess.run(["sync"])
    return time.perf_counter() - t0


def bench(reps, src, work_root):
    rclone = shutil.which("rclone")
    results = {}
    moved = {}

    def rec(name, t):
        results.setdefault(name, []).append(t)

    def strata(home, *args):
        return local.run([local.STRATA, "-q", *args], env=remote.strata_env(home))

    def get(name, home, *args):
        t, rss = strata(home, "get", "b/large", *args)
        rec(name, (t, rss))
        rec(name + " +sync", (t + timed_sync(), rss))

    for rep in range(reps):
        work = os.path.join(work_root, f"large-{rep}")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        # SeaweedFS: a fresh server each repetition (it frees deleted space only on vacuum).
        server, endpoint = remote.start_seaweed(os.path.join(work, "seaweed"))
        try:
            prefix = f"large-{rep}"
            a = os.path.join(work, "a")
            remote.add_remote(a, endpoint, prefix)
            subprocess.run([local.STRATA, "-q", "snapshot", "b/large", src], env=remote.strata_env(a),
                           check=True, stdout=subprocess.DEVNULL)
            local.settle()
            rec("s3 upload", strata(a, "upload", "b/large"))
            edit_case(work, src, a, endpoint, prefix, rec, moved)
            shutil.rmtree(a)
            if rclone:
                env = remote.rclone_env(endpoint)
                up = f"sw:{remote.BUCKET}/rclone-{prefix}"
                local.settle()
                rec("rclone up", local.run([rclone, "copy", "--transfers", "16", "--s3-no-check-bucket",
                                            src, up], env=env))
                local.settle()
                down = os.path.join(work, "rclone-down")
                rec("rclone down", local.run([rclone, "copy", "--transfers", "16", up, down], env=env))
                shutil.rmtree(down)
            for name, args in (("s3 get", ()), ("s3 get --mutable", ("--mutable",))):
                home = os.path.join(work, "b")
                remote.add_remote(home, endpoint, prefix)
                subprocess.run([local.STRATA, "-q", "pull"], env=remote.strata_env(home), check=True,
                               stdout=subprocess.DEVNULL)
                local.settle()
                get(name, home, *(("--to", os.path.join(work, "copy"), *args) if args else ()))
                shutil.rmtree(home)
                shutil.rmtree(os.path.join(work, "copy"), ignore_errors=True)
        finally:
            server.kill()
            server.wait()
            shutil.rmtree(os.path.join(work, "seaweed"), ignore_errors=True)

        # A folder remote.
        folder = os.path.join(work, "folder")
        a = os.path.join(work, "a")
        subprocess.run([local.STRATA, "-q", "remote", "add", "f", f"file://{folder}"],
                       env=remote.strata_env(a), check=True, stdout=subprocess.DEVNULL)
        subprocess.run([local.STRATA, "-q", "snapshot", "b/large", src], env=remote.strata_env(a),
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run([local.STRATA, "-q", "upload", "b/large"], env=remote.strata_env(a), check=True,
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(a)
        for name, args in (("folder get --mutable", ("--mutable",)), ("folder get", ())):
            home = os.path.join(work, "b")
            subprocess.run([local.STRATA, "-q", "remote", "add", "f", f"file://{folder}"],
                           env=remote.strata_env(home), check=True, stdout=subprocess.DEVNULL)
            subprocess.run([local.STRATA, "-q", "pull"], env=remote.strata_env(home), check=True,
                           stdout=subprocess.DEVNULL)
            local.settle()
            get(name, home, "--to", os.path.join(work, "copy"), *args)
            shutil.rmtree(home)
            shutil.rmtree(os.path.join(work, "copy"), ignore_errors=True)
        local.settle()
        cp = os.path.join(work, "cpr")
        t, rss = local.run(["cp", "-r", src, cp])
        rec("cp -r", (t, rss))
        rec("cp -r + sync", (t + timed_sync(), rss))
        shutil.rmtree(cp)
        local.settle()
        t1, _ = local.run(["cp", "-r", src, cp])
        t2, _ = local.run(["cp", "-r", src, cp + "2"])
        rec("2× cp -r + sync", (t1 + t2 + timed_sync(), rss))
        shutil.rmtree(work, ignore_errors=True)
    return results, moved


EDIT_AT = 64 << 20
EDIT_BYTES = 4096


def edit_case(work, src, a, endpoint, prefix, rec, moved):
    """A 4 KiB edit in the middle of the first shard, in a folder of hard links to the set (the
    edited shard a copy): snapshot it in home `a` (which uploaded the set), upload that version,
    then a home holding the first version gets the second. Records times and bytes moved."""
    edit = os.path.join(work, "edit")
    names = sorted(os.listdir(src))
    os.makedirs(edit)
    for n in names:
        if n == names[0]:
            shutil.copyfile(os.path.join(src, n), os.path.join(edit, n))
        else:
            os.link(os.path.join(src, n), os.path.join(edit, n))
    env = remote.strata_env(a)
    subprocess.run([local.STRATA, "-q", "snapshot", "b/large", edit], env=env, check=True,
                   stdout=subprocess.DEVNULL)  # same content: reads the copy, makes nothing
    with open(os.path.join(edit, names[0]), "r+b") as f:
        f.seek(EDIT_AT)
        f.write(os.urandom(EDIT_BYTES))
    local.settle()
    report = os.path.join(work, "report.json")
    t, rss = local.run([local.STRATA, "snapshot", "b/large", edit, "--json"], env=env, stdout_to=report)
    rec("edit: snapshot v2", (t, rss))
    with open(report) as f:
        moved.setdefault("edit: snapshot v2", []).append(json.load(f)["stored_bytes"])
    local.settle()
    t, rss = local.run([local.STRATA, "upload", "b/large", "--json"], env=env, stdout_to=report)
    rec("edit: s3 upload v2", (t, rss))
    with open(report) as f:
        moved.setdefault("edit: s3 upload v2", []).append(json.load(f)["sent_bytes"])
    home = os.path.join(work, "b")
    remote.add_remote(home, endpoint, prefix)
    henv = remote.strata_env(home)
    subprocess.run([local.STRATA, "-q", "pull"], env=henv, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([local.STRATA, "-q", "get", "b/large@1.0.0"], env=henv, check=True,
                   stdout=subprocess.DEVNULL)
    local.settle()
    t, rss = local.run([local.STRATA, "get", "b/large@1.0.1", "--json"], env=henv, stdout_to=report)
    rec("edit: s3 get v2 holding v1", (t, rss))
    with open(report) as f:
        moved.setdefault("edit: s3 get v2 holding v1", []).append(json.load(f)["fetched_bytes"])
    shutil.rmtree(home)
    shutil.rmtree(edit)


def report(results, moved, reps):
    med = {k: statistics.median(t for t, _ in v) for k, v in results.items()}
    mem = {k: max(m for _, m in v) for k, v in results.items()}
    lines = ["## Large files (8 × 128 MiB) through remotes", "",
             f"{os.cpu_count()} cores shared by server and client; medians of {reps} runs.", "",
             "| operation | median s | peak MB | vs baseline (target) |", "|---|---:|---:|---|"]
    edits = ["", f"A {EDIT_BYTES // 1024} KiB edit inside one 128 MiB shard (target: ≤ 2 MB moved):", "",
             "| operation | median s | peak MB | bytes moved (median) |", "|---|---:|---:|---:|"]
    for k in results:
        cmp = ""
        base, limit = TARGETS.get(k, (COMPARED.get(k), None))
        if base in med:
            r = med[k] / med[base]
            cmp = f"{r:.2f}× {base}"
            if limit:
                cmp += f" (target ≤ {limit}×{', missed' if r > limit else ''})"
        if FLOOR.get(k) in med:
            cmp += f"; {med[k] / med[FLOOR[k]]:.2f}× {FLOOR[k]}"
        over = " (over)" if mem[k] > MEMORY_TARGET_MB and not k.startswith(("cp", "rclone")) else ""
        if k in moved:
            b = statistics.median(moved[k])
            edits.append(f"| {k[6:]} | {med[k]:.2f} | {mem[k]:.0f}{over} | {b / 1e6:.2f} MB |")
            continue
        lines.append(f"| {k} | {med[k]:.2f} | {mem[k]:.0f}{over} | {cmp} |")
    return "\n".join(lines + edits)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--data", default=os.path.join(local.DATA, "large"),
                    help="the large set (generated there when missing)")
    ap.add_argument("--work", default=local.OUT, help="where homes, servers and copies go")
    args = ap.parse_args()
    if not os.path.exists(local.STRATA):
        sys.exit(f"{local.STRATA} not found: run bench/large.sh (it builds the release binary)")
    if not os.path.isdir(args.data):
        print("generating the large set ...", flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), "large", args.data], check=True)
    os.makedirs(local.OUT, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)
    results, moved = bench(args.reps, args.data, args.work)
    out = report(results, moved, args.reps)
    print(out)
    with open(os.path.join(local.OUT, "large.md"), "w") as f:
        f.write(out + "\n")


if __name__ == "__main__":
    main()
