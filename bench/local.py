#!/usr/bin/env python3
"""Local speed benchmark: strata against the physical baselines on the same data, same run.

Usage: bench/local.py [--reps N] [--only small|large]   (run bench/run.sh to build first)

For each dataset (bench/gen.py) and each repetition it times, with a warm page cache:
  baselines  cat > /dev/null, b3sum, cp -al, cp -r, 8 parallel cp -r
  strata     first snapshot, no-change snapshot, show, re-snapshot after modifying / adding /
             deleting 1 %, get (read-only, first time), get again, get of the version 1 % apart,
             get --mutable into an empty folder
and prints medians, peak memory (max RSS of the process) and ratios to the baselines.
Nothing is deleted between timed steps of a repetition: on these ext4 disks mass deletion makes
the next mass creation slow for a while, which would blur the comparison.
"""
import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
OUT = os.path.join(HERE, "out")
STRATA = os.environ.get("STRATA_BIN", os.path.join(ROOT, "target", "release", "strata"))

TARGETS = {  # seconds, from the issue
    "small": {"snapshot": 1.5, "resnap-modify": 0.3, "resnap-add": 0.3, "resnap-delete": 0.3,
              "snapshot-nochange": 0.1, "show": 0.1, "get-ro-first": 2.0, "get-ro-again": 0.4,
              "get-ro-1pct": 0.4, "get-mutable": 2.0},
    "large": {"snapshot": 0.8, "resnap-modify": 0.6, "resnap-add": 0.6, "resnap-delete": 0.6,
              "snapshot-nochange": 0.1, "show": 0.1, "get-ro-first": 0.5, "get-ro-again": 0.3,
              "get-ro-1pct": 0.3, "get-mutable": 1.0},
}


GNU_TIME = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None


def run(cmd, env=None, shell=False, stdout_to=None):
    """Runs a command; returns (seconds, peak RSS in MB of the measured process). With
    `stdout_to`, the command's output is kept in that file (a `--json` report, say).

    Peak memory comes from GNU time: a child forked from this Python process would report
    Python's own size as its maximum."""
    rss_file = os.path.join(OUT, ".rss")
    if GNU_TIME:
        inner = cmd if not shell else ["sh", "-c", cmd]
        cmd, shell = [GNU_TIME, "-f", "%M", "-o", rss_file, *inner], False
    out = open(stdout_to, "wb") if stdout_to else subprocess.DEVNULL
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, shell=shell, stdout=out, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if stdout_to:
        out.close()
    if p.returncode != 0:
        sys.exit(f"failed: {cmd}\n{p.stderr.decode(errors='replace')}")
    rss = 0.0
    if GNU_TIME:
        with open(rss_file) as f:
            rss = float(f.read().split()[-1]) / 1024.0
    return dt, rss


def strata(home, *args):
    env = dict(os.environ, STRATA_HOME=home)
    return run([STRATA, "-q", *args], env=env)


def files_of(root):
    out = []
    for d, _, fs in os.walk(root):
        out.extend(os.path.join(d, f) for f in fs)
    return sorted(out)


def settle():
    subprocess.run(["sync"])
    time.sleep(1)


def change_small(root, rep, kind):
    files = [f for f in files_of(root) if f.endswith(".jpg")]
    n = len(files) // 100
    rng = random.Random(1000 + rep)
    if kind == "modify":
        for f in rng.sample(files, n):
            with open(f, "ab") as fh:
                fh.write(b"relabelled %d" % rep)
    elif kind == "add":
        for i in range(n):
            d = os.path.join(root, "train", f"class{i % 100:03d}")
            with open(os.path.join(d, f"new-r{rep}-{i}.jpg"), "wb") as fh:
                fh.write(rng.randbytes(rng.randint(2048, 16384)))
    else:
        for f in rng.sample(files, n):
            os.remove(f)


def change_large(root, rep, kind):
    total = sum(os.path.getsize(f) for f in files_of(root))
    one = total // 100
    rng = random.Random(2000 + rep)
    if kind == "modify":
        with open(os.path.join(root, "shard0.bin"), "r+b") as fh:
            fh.seek(rng.randrange(0, 64 << 20))
            fh.write(rng.randbytes(one))
    elif kind == "add":
        with open(os.path.join(root, f"extra-r{rep}.bin"), "wb") as fh:
            fh.write(rng.randbytes(one))
    else:
        os.remove(os.path.join(root, f"extra-r{rep}.bin"))


def parallel_copy(src, dst):
    """8 cp -r at once over the top-level folders (the issue's 'parallel copy')."""
    os.makedirs(dst)
    tops = sorted(os.listdir(src))
    subs = []
    for t in tops:
        p = os.path.join(src, t)
        if os.path.isdir(p):
            subs.extend(os.path.join(t, s) for s in sorted(os.listdir(p)))
        else:
            subs.append(t)
    for sub in subs:  # parents first: concurrent `cp --parents` race to create them
        parent = os.path.dirname(sub)
        if parent:
            os.makedirs(os.path.join(dst, parent), exist_ok=True)
    cmd = f"cd {src} && printf '%s\\n' {' '.join(subs)} | xargs -P8 -I{{}} cp -r --parents {{}} {dst}/"
    return run(cmd, shell=True)


def bench(kind, reps):
    src = os.path.join(DATA, kind)
    if not os.path.isdir(src):
        print(f"generating {kind} dataset ...", flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), kind, src], check=True)
    change = change_small if kind == "small" else change_large
    results = {}

    def rec(name, t):
        results.setdefault(name, []).append(t)

    b3 = shutil.which("b3sum")
    for rep in range(reps):
        work = os.path.join(OUT, f"{kind}-{rep}")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        home = os.path.join(work, "home")
        settle()
        run(f"find {src} -type f -print0 | xargs -0 cat > /dev/null", shell=True)  # warm up
        rec("baseline cat", run(f"find {src} -type f -print0 | xargs -0 cat > /dev/null", shell=True))
        if b3:
            rec("baseline b3sum", run(f"find {src} -type f -print0 | xargs -0 b3sum > /dev/null", shell=True))
        rec("snapshot", strata(home, "snapshot", f"b/{kind}", src))
        rec("snapshot-nochange", strata(home, "snapshot", f"b/{kind}", src))
        rec("show", strata(home, "show", f"b/{kind}"))
        for step in ("modify", "add", "delete"):
            change(src, rep, step)
            rec(f"resnap-{step}", strata(home, "snapshot", f"b/{kind}", src))
        settle()
        rec("get-ro-first", strata(home, "get", f"b/{kind}"))
        rec("get-ro-again", strata(home, "get", f"b/{kind}"))
        rec("get-ro-1pct", strata(home, "get", f"b/{kind}@1.0.2"))
        settle()
        rec("get-mutable", strata(home, "get", f"b/{kind}", "--to", os.path.join(work, "mutable"), "--mutable"))
        settle()
        rec("baseline cp -al", run(["cp", "-al", src, os.path.join(work, "cpal")]))
        settle()
        rec("baseline cp -r", run(["cp", "-r", src, os.path.join(work, "cpr")]))
        settle()
        rec("baseline parallel cp", parallel_copy(src, os.path.join(work, "pcp")))
        shutil.rmtree(work, ignore_errors=True)
    return results


def report(kind, results):
    med = {k: statistics.median(t for t, _ in v) for k, v in results.items()}
    mem = {k: max(m for _, m in v) for k, v in results.items()}
    base = {
        "snapshot": "baseline b3sum" if "baseline b3sum" in med else "baseline cat",
        "get-ro-first": "baseline cp -al",
        "get-ro-1pct": "baseline cp -al",
        "get-mutable": "baseline parallel cp",
    }
    lines = [f"### {kind}", "",
             "| operation | median s | target s | peak MB | vs baseline |",
             "|---|---:|---:|---:|---|"]
    for k in results:
        t = TARGETS[kind].get(k)
        target = f"{t:.2f}" if t else "—"
        flag = "" if t is None or med[k] <= t else " (missed)"
        cmp = ""
        if k in base and base[k] in med:
            cmp = f"{med[k] / med[base[k]]:.2f}× {base[k].replace('baseline ', '')}"
        if k == "get-mutable" and "baseline cp -r" in med:
            cmp += f", {med[k] / med['baseline cp -r']:.2f}× cp -r"
        lines.append(f"| {k} | {med[k]:.3f}{flag} | {target} | {mem[k]:.0f} | {cmp} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", choices=["small", "large"])
    a = ap.parse_args()
    if not os.path.exists(STRATA):
        sys.exit(f"{STRATA} not found: run bench/run.sh (it builds the release binary)")
    os.makedirs(OUT, exist_ok=True)
    text = [f"strata local benchmark, {a.reps} repetitions, medians; {os.cpu_count()} cores", ""]
    for kind in ["small", "large"] if not a.only else [a.only]:
        text.append(report(kind, bench(kind, a.reps)))
        text.append("")
    out = "\n".join(text)
    print(out)
    with open(os.path.join(OUT, "local.md"), "w") as f:
        f.write(out)


if __name__ == "__main__":
    main()
