#!/usr/bin/env python3
"""A million small files: snapshot, no-change snapshot and status against hashing the same files.

Usage: bench/million.py [N] [--reps R] [--data DIR] [--keep] [--transfers]
       (bench/million.sh builds first)

Generates N files (default 1,000,000) of about 120 bytes in N/1000 folders under DIR
(deterministic: the same N gives the same bytes), then per repetition, with a warm page cache:
  baseline  b3sum of every file (the physical floor: read and hash), else `cat > /dev/null`;
            a stat of every file, one `find` per core (the floor of a no-change snapshot)
  strata    first snapshot into a fresh home, no-change snapshot, status
and with --transfers, through a folder remote:
  upload    of that version             vs  rclone copy --transfers 16 of the folder (else cp -r)
  pull      of that version into a fresh home (its record, manifest and locator)
  get       read-only, into a fresh home vs  cp -al of the folder
  get --mutable, into another fresh home vs  8 parallel cp -r, one per slice of the folders
and prints medians, peak resident memory (GNU time's max RSS of the measured process) and the
ratio of the first snapshot to the baseline. The files are deleted at the end unless --keep:
a million of them hold about 4 GB of blocks and inodes.
"""
import argparse
import os
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import local  # noqa: E402  (run: seconds and peak RSS, measured as every bench measures them)

run = local.run
ROOT = os.path.dirname(HERE)
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
STRATA = os.environ.get("STRATA_BIN", os.path.join(TARGET, "release", "strata"))

TARGETS = {"snapshot": "2.5× b3sum", "snapshot-nochange": 1.5, "status": 1.5}
RSS_TARGET_MB = 250
# Transfer rows: (their baseline, the largest ratio allowed); resident memory ≤ 300 MB each.
UPLOAD_BASELINE = "baseline rclone copy" if shutil.which("rclone") else "baseline cp -r"
TRANSFERS = {"upload": UPLOAD_BASELINE, "get": "baseline cp -al",
             "get --mutable": "baseline parallel cp -r"}
TRANSFER_RATIO, TRANSFER_RSS_MB = 2.0, 300


def remove(path):
    """`rm -rf`: several times faster than shutil.rmtree on a million files."""
    subprocess.run(["rm", "-rf", path], check=False)


# Without a journal, ext4 will not reuse an inode freed in the last ~30 s and searches past
# each one (`recently_deleted`): a step that creates files right after a baseline deleted
# hundreds of thousands spends most of its time there. The steps after a deletion wait it out.
DELETION_SETTLE_S = 35


def remove_and_settle(path):
    remove(path)
    time.sleep(DELETION_SETTLE_S)


def generate(root, n):
    """N files of 100-140 bytes in N/1000 folders; a marker records N so a rerun reuses them."""
    marker = os.path.join(root, ".generated")
    if os.path.exists(marker) and open(marker).read() == str(n):
        return
    remove(root)
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


def all_at_once(cmds, cwd=None):
    """A shell line running each command in the background that fails if any of them fails: a
    bare `wait` answers 0 whatever its children did, and `cd dir && a & b` runs only `a` in
    `dir` (`&` binds looser than `&&`) -- which once made the stat walk below time half the
    files while its other `find` failed unseen."""
    parts = [f"cd {shlex.quote(cwd)} || exit 1"] if cwd else []
    parts += [f"{c} & p{i}=$!" for i, c in enumerate(cmds)]
    parts.append(" && ".join(f"wait $p{i}" for i in range(len(cmds))))
    return "; ".join(parts)


def stat_walk_cmd(src):
    """One `find` per core, each printing size, mtime, ctime and inode of its share of files."""
    folders = sorted(f for f in os.listdir(src) if os.path.isdir(os.path.join(src, f)))
    n = os.cpu_count() or 1
    slices = [" ".join(folders[i::n]) for i in range(n)]
    return all_at_once([f"find {sl} -type f -printf '%s %T@ %C@ %i\\n' > /dev/null"
                        for sl in slices if sl], cwd=src)


def transfer_steps(src, work, env):
    """Upload of the version just made to a folder remote, and gets of it into fresh homes, each
    next to its baseline on the same files. Each step is a (name, thunk) like main's."""
    remote_dir = os.path.join(work, "remote")
    quiet = {"stdout": subprocess.DEVNULL, "check": True}
    rclone = shutil.which("rclone")

    def home(name):
        h = os.path.join(work, name)
        e = dict(os.environ, STRATA_HOME=h)
        subprocess.run([STRATA, "-q", "remote", "add", "f", f"file://{remote_dir}", "--default"],
                       env=e, **quiet)
        return e

    def upload():
        subprocess.run([STRATA, "-q", "remote", "add", "f", f"file://{remote_dir}", "--default"],
                       env=env, **quiet)
        return run([STRATA, "-q", "upload", "b/million"], env)

    def upload_baseline():
        dest = os.path.join(work, "baseline-up")
        cmd = ([rclone, "copy", "--transfers", "16", src, dest] if rclone
               else ["cp", "-r", src, dest])
        t = run(cmd)
        remove_and_settle(dest)
        return t

    def pull():
        return run([STRATA, "-q", "pull"], home("pulled"))

    def get(mutable):
        e = home("get-mutable" if mutable else "get")
        subprocess.run([STRATA, "-q", "pull"], env=e, **quiet)
        subprocess.run(["sync"])
        args = ["--to", os.path.join(work, "copy-mutable"), "--mutable"] if mutable else []
        return run([STRATA, "-q", "get", "b/million", *args], e)

    def cp_al():
        dest = os.path.join(work, "baseline-al")
        t = run(["cp", "-al", src, dest])
        remove_and_settle(dest)
        return t

    def parallel_cp():
        dest = os.path.join(work, "baseline-cp")
        os.makedirs(dest)
        folders = sorted(f for f in os.listdir(src) if os.path.isdir(os.path.join(src, f)))
        slices = [" ".join(os.path.join(src, f) for f in folders[i::8]) for i in range(8)]
        t = run(all_at_once([f"cp -r {sl} {dest}" for sl in slices if sl]), shell=True)
        remove_and_settle(dest)
        return t

    return [
        (UPLOAD_BASELINE, upload_baseline),
        ("upload", upload),
        ("pull", pull),
        ("baseline cp -al", cp_al),
        ("get", lambda: get(False)),
        ("baseline parallel cp -r", parallel_cp),
        ("get --mutable", lambda: get(True)),
    ]


def main():
    os.makedirs(local.OUT, exist_ok=True)  # where run() keeps its RSS file
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int, nargs="?", default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--data", default=os.path.join(HERE, "data", "million"))
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    ap.add_argument("--transfers", action="store_true",
                    help="also upload to a folder remote and get into fresh homes")
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
        remove(work)
        os.makedirs(work)
        home = os.path.join(work, "home")
        env = dict(os.environ, STRATA_HOME=home)
        subprocess.run(["sync"])
        run(f"cd {src} && find . -type f -print0 | xargs -0 cat > /dev/null", shell=True)  # warm the page cache and the inode/dentry caches
        steps = [
            (base_name, lambda: run(hash_cmd, shell=True)),
            # The floor of a no-change snapshot or a status: a stat of every file, on every
            # core (one find per core, each over its share of the folders), nothing else.
            ("baseline stat walk", lambda: run(stat_walk_cmd(src), shell=True)),
            ("snapshot", lambda: run([STRATA, "-q", "snapshot", "b/million", src], env)),
            ("snapshot-nochange",
             lambda: run([STRATA, "-q", "snapshot", "b/million", src], env)),
            ("status",
             lambda: run([STRATA, "-q", "status", src, "--dataset", "b/million"], env)),
        ]
        if a.transfers:
            steps += transfer_steps(src, work, env)
        for name, step in steps:
            t = step()
            results.setdefault(name, []).append(t)
            print(f"  rep {rep}: {name} {t[0]:.2f} s, {t[1]:.0f} MB", flush=True)
    remove(work)
    if not a.keep:
        remove(a.data)

    med = {k: statistics.median(t for t, _ in v) for k, v in results.items()}
    mem = {k: max(m for _, m in v) for k, v in results.items()}
    lines = [f"strata, {a.n} files of ~120 B in {a.n // 1000} folders; {a.reps} repetitions, "
             f"medians; {os.cpu_count()} cores", "",
             "| operation | median s | peak MB | target | vs baseline |", "|---|---:|---:|---|---|"]
    for k in results:
        if k in TRANSFERS:
            base = TRANSFERS[k]
            target = f"≤ {TRANSFER_RATIO}× {base[9:]}, ≤ {TRANSFER_RSS_MB} MB"
            cmp = f"{med[k] / med[base]:.2f}× {base[9:]}"
            lines.append(f"| {k} | {med[k]:.2f} | {mem[k]:.0f} | {target} | {cmp} |")
            continue
        t = TARGETS.get(k)
        target = "—" if t is None else (f"≤ {t} s" if isinstance(t, float) else f"≤ {t}")
        target += f", ≤ {RSS_TARGET_MB} MB" if t is not None else ""
        cmp = ""
        if k != base_name and not k.startswith("baseline"):
            cmp = f"{med[k] / med[base_name]:.2f}× {base_name.split()[-1]}"
            if k != "snapshot" and "baseline stat walk" in med:
                cmp += f", {med[k] / med['baseline stat walk']:.2f}× the stat walk"
        lines.append(f"| {k} | {med[k]:.2f} | {mem[k]:.0f} | {target} | {cmp} |")
    if not b3:
        lines += ["", "b3sum is not installed: the baseline only reads the files (cat)."]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
