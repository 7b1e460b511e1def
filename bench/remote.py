#!/usr/bin/env python3
"""Remote speed benchmark: strata against SeaweedFS (S3) on loopback, with rclone as the
raw-transfer baseline on the same bytes, same server, same run.

Usage: bench/remote.py [--reps N] [--only small|large]   (bench/remote.sh builds and runs it)

For each dataset (bench/gen.py) and repetition, in a fresh prefix of one bucket:
  strata   upload of the first version, upload after 1 % of files changed, get into a fresh
           home (pull + fetch + read-only copy), get --fraction 0.1 into a fresh home
  rclone   copy --transfers 16 up (the same folder), and down into an empty folder
Prints medians, peak client memory (max RSS) and ratios to rclone; writes bench/out/remote.md.
Server and client share the machine's cores.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import local  # noqa: E402  (shared helpers: run, strata, change_small, change_large, settle)

OUT = local.OUT
KEY, SECRET, BUCKET = "bench-key", "bench-secret", "strata"
TARGETS = {  # seconds, from the issue
    "small": {"upload-first": 3.0, "upload-1pct": 0.5, "get-fresh": 4.0, "get-fraction-0.1": 0.8},
    "large": {"upload-first": 6.0, "upload-1pct": 2.0, "get-fresh": 3.0},
}


def free_port():
    for _ in range(200):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p < 55000:
            try:
                t = socket.socket()
                t.bind(("127.0.0.1", p + 10000))
                t.close()
                return p
            except OSError:
                continue
    sys.exit("no free ports")


def weed_binary():
    for c in (os.environ.get("STRATA_TEST_WEED"),
              os.path.expanduser("~/.cache/strata-test-servers/venv/bin/weed"),
              shutil.which("weed")):
        if c and os.path.exists(c):
            return c
    sys.exit("SeaweedFS is not installed: run scripts/test.sh once (it installs it)")


def start_seaweed(d):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "s3.json"), "w") as f:
        json.dump({"identities": [{"name": "admin", "credentials": [{"accessKey": KEY, "secretKey": SECRET}],
                                   "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}, f)
    s3, master, volume, filer, admin = (free_port() for _ in range(5))
    log = open(os.path.join(d, "weed.log"), "w")
    p = subprocess.Popen([weed_binary(), "mini", f"-dir={d}/data", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                          f"-s3.port={s3}", f"-master.port={master}", f"-volume.port={volume}",
                          f"-filer.port={filer}", f"-admin.port={admin}", f"-s3.config={d}/s3.json",
                          "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false",
                          "-master.telemetry=false", f"-bucket={BUCKET}"], stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{s3}"
    deadline = time.time() + 60
    probe_home = os.path.join(d, "probe-home")
    env = strata_env(probe_home)
    subprocess.run([local.STRATA, "remote", "add", "bench", f"s3://{BUCKET}/probe", "--endpoint", endpoint,
                    "--allow-http"], env=env, stdout=subprocess.DEVNULL, check=True)
    while time.time() < deadline:
        if subprocess.run([local.STRATA, "remote", "test"], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0:
            return p, endpoint
        time.sleep(0.5)
    p.kill()
    sys.exit("SeaweedFS did not start; see " + os.path.join(d, "weed.log"))


def strata_env(home):
    env = dict(os.environ, STRATA_HOME=home, STRATA_REMOTE_BENCH_ACCESS_KEY_ID=KEY,
               STRATA_REMOTE_BENCH_SECRET_ACCESS_KEY=SECRET)
    env.pop("AWS_CA_BUNDLE", None)
    return env


def strata(home, *args):
    return local.run([local.STRATA, "-q", *args], env=strata_env(home))


def add_remote(home, endpoint, prefix):
    subprocess.run([local.STRATA, "remote", "add", "bench", f"s3://{BUCKET}/{prefix}", "--endpoint", endpoint,
                    "--allow-http"], env=strata_env(home), stdout=subprocess.DEVNULL, check=True)


def rclone_env(endpoint):
    env = dict(os.environ, RCLONE_CONFIG_SW_TYPE="s3", RCLONE_CONFIG_SW_PROVIDER="SeaweedFS",
               RCLONE_CONFIG_SW_ACCESS_KEY_ID=KEY, RCLONE_CONFIG_SW_SECRET_ACCESS_KEY=SECRET,
               RCLONE_CONFIG_SW_ENDPOINT=endpoint, RCLONE_CONFIG_SW_REGION="us-east-1")
    env.pop("AWS_CA_BUNDLE", None)
    return env


def bench(kind, reps, endpoint):
    src = os.path.join(local.DATA, kind)
    if not os.path.isdir(src):
        print(f"generating {kind} dataset ...", flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), kind, src], check=True)
    change = local.change_small if kind == "small" else local.change_large
    rclone = shutil.which("rclone")
    results = {}

    def rec(name, t):
        results.setdefault(name, []).append(t)

    for rep in range(reps):
        work = os.path.join(OUT, f"remote-{kind}-{rep}")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        prefix = f"bench-{kind}-{rep}-{int(time.time())}"
        a = os.path.join(work, "a")
        add_remote(a, endpoint, prefix)
        subprocess.run([local.STRATA, "-q", "snapshot", f"b/{kind}", src], env=strata_env(a), check=True,
                       stdout=subprocess.DEVNULL)
        local.settle()
        rec("upload-first", strata(a, "upload", f"b/{kind}"))
        change(src, 100 + rep, "modify")
        subprocess.run([local.STRATA, "-q", "snapshot", f"b/{kind}", src], env=strata_env(a), check=True,
                       stdout=subprocess.DEVNULL)
        rec("upload-1pct", strata(a, "upload", f"b/{kind}"))
        local.settle()
        b = os.path.join(work, "b")
        add_remote(b, endpoint, prefix)
        rec("get-fresh", strata(b, "get", f"b/{kind}"))
        if kind == "small":
            c = os.path.join(work, "c")
            add_remote(c, endpoint, prefix)
            rec("get-fraction-0.1", strata(c, "get", f"b/{kind}", "--fraction", "0.1", "--seed", "1"))
        if rclone:
            local.settle()
            env = rclone_env(endpoint)
            dest = f"sw:{BUCKET}/rclone-{prefix}"
            rec("rclone up", local.run([rclone, "copy", "--transfers", "16", "--s3-no-check-bucket", src, dest],
                                       env=env))
            local.settle()
            rec("rclone down", local.run([rclone, "copy", "--transfers", "16", dest,
                                          os.path.join(work, "rclone-down")], env=env))
        if kind == "large":
            # 3 GB a repetition; small ones stay until the end (mass deletion slows ext4's next
            # mass creation, which would blur the next repetition).
            shutil.rmtree(work, ignore_errors=True)
    return results


def report(kind, results):
    med = {k: statistics.median(t for t, _ in v) for k, v in results.items()}
    mem = {k: max(m for _, m in v) for k, v in results.items()}
    base = {"upload-first": "rclone up", "get-fresh": "rclone down"}
    lines = [f"### {kind}", "", "| operation | median s | target s | peak MB | vs rclone |", "|---|---:|---:|---:|---|"]
    for k in results:
        t = TARGETS[kind].get(k)
        flag = "" if t is None or med[k] <= t else " (missed)"
        cmp = f"{med[k] / med[base[k]]:.2f}× {base[k]}" if k in base and base[k] in med else ""
        lines.append(f"| {k} | {med[k]:.3f}{flag} | {f'{t:.2f}' if t else '—'} | {mem[k]:.0f} | {cmp} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--only", choices=["small", "large"])
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    server_dir = os.path.join(OUT, "seaweed")
    shutil.rmtree(server_dir, ignore_errors=True)
    server, endpoint = start_seaweed(server_dir)
    try:
        out = ["## Remote benchmark (SeaweedFS on loopback)", "",
               f"{os.cpu_count()} cores shared by server and client; medians of {args.reps} runs.", ""]
        for kind in ([args.only] if args.only else ["small", "large"]):
            r = bench(kind, args.reps, endpoint)
            out.append(report(kind, r))
            out.append("")
            print(out[-2], flush=True)
        with open(os.path.join(OUT, "remote.md"), "w") as f:
            f.write("\n".join(out))
    finally:
        server.kill()
        shutil.rmtree(server_dir, ignore_errors=True)
        for d in os.listdir(OUT):
            if d.startswith("remote-"):
                shutil.rmtree(os.path.join(OUT, d), ignore_errors=True)


if __name__ == "__main__":
    main()
