#!/usr/bin/env python3
"""Watched-folder benchmark: what a watch costs and how soon its version lands, next to the same
work done by `strata snapshot` in the same run.

Usage: bench/watch.py [--files N ...] [--reps N] [--idle SECONDS]
       (defaults: 20000 and 200000 files in 100-file folders, 3 repetitions, 30 s idle)

For each folder size it measures, with a warm page cache:
  latency    last write of a 1 % change -> version committed, quiet window 2 s (the figure minus
             the quiet window is the watch's own cost), beside `strata snapshot` of the same change
  catch-up   a watch started after 1 % changed while stopped -> its version, beside a snapshot
  idle CPU   CPU seconds of `strata watch` over --idle seconds with nothing changing
  memory     resident memory (VmHWM) of the watching process
Prints medians. Build first: cargo build --release -p strata-cli (or set STRATA_BIN).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STRATA = os.environ.get("STRATA_BIN", os.path.join(ROOT, "target", "release", "strata"))
QUIET = 2.0
TICK = os.sysconf("SC_CLK_TCK")


def make_folder(root, n):
    for i in range(n):
        d = os.path.join(root, f"d{i // 100:05d}")
        if i % 100 == 0:
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:07d}.txt"), "w") as f:
            f.write(f"file {i} " + "x" * (i % 300))


def change(root, n, rep):
    """Rewrites 1 % of the files with new content; returns when the last write is done."""
    step = 100
    for i in range(0, n, step):
        p = os.path.join(root, f"d{i // 100:05d}", f"f{i:07d}.txt")
        with open(p, "w") as f:
            f.write(f"changed {rep} {i}")
    return time.time()


def snapshot(env, folder, dataset):
    t0 = time.perf_counter()
    subprocess.run([STRATA, "snapshot", dataset, folder, "-q"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


class Watch:
    def __init__(self, env, folder, dataset):
        self.p = subprocess.Popen(
            [STRATA, "watch", folder, "--dataset", dataset, "--quiet-for", f"{QUIET}s",
             "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def next_version(self):
        line = self.p.stdout.readline()
        if not line:
            sys.exit("the watch stopped")
        return json.loads(line), time.time()

    def cpu_seconds(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def rss_mb(self, field):
        """VmRSS (now) or VmHWM (peak) of the watching process, in MB."""
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def stop(self):
        self.p.send_signal(2)
        self.p.wait(timeout=30)


def bench(n, reps, idle):
    work = tempfile.mkdtemp(prefix="strata-watch-bench-")
    try:
        folder = os.path.join(work, "data")
        env = dict(os.environ, STRATA_HOME=os.path.join(work, "home"))
        print(f"\n== {n} files in {n // 100} folders")
        make_folder(folder, n)
        t = snapshot(env, folder, "b/snap")
        print(f"first snapshot: {t:.2f} s")
        lat, snap_change, catch, snap_catch = [], [], [], []
        w = Watch(env, folder, "b/watch")
        w.next_version()  # the first version, at start
        for rep in range(reps):
            last = change(folder, n, rep)
            v, at = w.next_version()
            lat.append(at - last)
            snap_change.append(snapshot(env, folder, "b/snap"))
        t0 = w.cpu_seconds()
        time.sleep(idle)
        idle_cpu = w.cpu_seconds() - t0
        rss, peak = w.rss_mb("VmRSS"), w.rss_mb("VmHWM")
        w.stop()
        for rep in range(reps):
            change(folder, n, 100 + rep)
            time.sleep(QUIET)  # settled before the watch starts
            t0 = time.time()
            w = Watch(env, folder, "b/watch")
            _, at = w.next_version()
            catch.append(at - t0)
            w.stop()
            snap_catch.append(snapshot(env, folder, "b/snap"))
        med = statistics.median
        print(f"{'figure':<46}{'watch':>10}{'snapshot':>10}")
        print(f"{'last write -> version (1 %, quiet 2 s)':<46}{med(lat):>9.2f}s"
              f"{med(snap_change):>9.2f}s   (watch minus quiet: {med(lat) - QUIET:.2f} s)")
        print(f"{'catch-up at start (1 % changed while stopped)':<46}{med(catch):>9.2f}s"
              f"{med(snap_catch):>9.2f}s")
        print(f"{'CPU while idle':<46}{idle_cpu:>8.2f} s over {idle} s"
              f" ({100 * idle_cpu / idle:.2f} % of a core)")
        print(f"{'resident memory of the watch, idle / peak':<46}{rss:>8.1f} MB / {peak:.1f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    a = argparse.ArgumentParser()
    a.add_argument("--files", type=int, nargs="*", default=[20000, 200000])
    a.add_argument("--reps", type=int, default=3)
    a.add_argument("--idle", type=int, default=30)
    args = a.parse_args()
    if not os.path.exists(STRATA):
        sys.exit(f"{STRATA} is missing: cargo build --release -p strata-cli")
    for n in args.files:
        bench(n, args.reps, args.idle)


if __name__ == "__main__":
    main()
