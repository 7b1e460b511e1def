#!/usr/bin/env python3
"""The desktop app on a version of a million files, timed in its window as a user sees it.

Usage: bench/app_million.py [--reps R] [--parts P] [--keep] [--home DIR] [--shot FILE]
       (bench/app_million.sh builds the CLI, the UI and the app, and runs this under Xvfb)

Builds a home with one dataset of two versions: 1.0.0 holds P x 10,000 entries (default
P = 100: a million; the same 10,000 small files added under P folders, as bench/listing.sh
does), and 1.0.1, its child, with 1,000 files of part00 modified, 1,000 added under a new
folder and 100 removed. Then starts the real app (release build, UI embedded) against that home
through tauri-driver, started anew for each repetition, and times, wall-clock from the
WebDriver action to the moment the DOM shows the result (polled in the page every 5 ms):
  lineage     the dataset page, from the sidebar, until both versions are listed
  open        1.0.0's page until the file browser's first rows show
  filter      typing a glob into the browser's filter until the count and the matching rows
              show; and clearing it until the million rows are back
  diff        Compare of the two versions until the first changed rows show
  open again  1.0.1's page (it also counts the changes against its parent), then 1.0.0's again
next to the longest gap between two animation frames of the window meanwhile (how long the
page could not repaint or react), and the same work done by the CLI in the same run:
`strata files REF | head -n 500`, `strata files REF --glob G`, `strata log`, `strata diff`.
Prints medians and the peak resident memory (VmHWM) of the app process and of its web view.
The home (a few hundred MB) is deleted at the end unless --keep; --home DIR reuses one kept.
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ left in bench/
import local  # noqa: E402  (run: seconds and peak RSS, measured as every bench measures them)

ROOT = os.path.dirname(HERE)
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
STRATA = os.environ.get("STRATA_BIN", os.path.join(TARGET, "release", "strata"))
APP = os.environ.get("STRATA_APP", os.path.join(TARGET, "release", "strata-app"))
DATASET = "big/million"
GLOB = "part42/**"
PER_PART = 10_000
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
TARGET_S = 1.0  # what the issue calls responsive, for a first page or a filter


# --- the home -----------------------------------------------------------------------------------

def cli(home, *args):
    env = dict(os.environ, STRATA_HOME=home)
    p = subprocess.run([STRATA, "-q", *args], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: strata {' '.join(args)}\n{p.stderr}")
    return p.stdout.strip()


def small_files(root, n, body):
    for i in range(n):
        d = os.path.join(root, f"c{i % 100:02d}")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"f{i:05d}.txt"), "w") as f:
            f.write(body(i))


def build_home(work, parts):
    """1.0.0 with parts x 10,000 entries; 1.0.1 with part00's first 1,000 files modified, 1,000
    added under `new/` and `part{last}/c00/` (100 files) removed. Returns the two version ids."""
    home = os.path.join(work, "home")
    src, changed, extra = (os.path.join(work, n) for n in ("src", "changed", "extra"))
    small_files(src, PER_PART, lambda i: f"file {i}")
    small_files(changed, 1000, lambda i: f"file {i}, relabelled")
    small_files(extra, 1000, lambda i: f"new file {i}")
    t0 = time.perf_counter()
    v1 = cli(home, "create", DATASET)
    for p in range(parts):
        cli(home, "add", v1, src, "--to", f"part{p:02d}")
        if p % 10 == 9:
            print(f"  {(p + 1) * PER_PART:,} entries, {time.perf_counter() - t0:.0f} s", flush=True)
    cli(home, "finalize", v1)
    v2 = cli(home, "create", DATASET, "--parent", v1)
    cli(home, "add", v2, changed, "--to", "part00")
    cli(home, "add", v2, extra, "--to", "new")
    cli(home, "remove", v2, f"part{parts - 1:02d}/c00/**")
    cli(home, "finalize", v2)
    cli(home, "gc")  # the drafts' hundred intermediate manifests: 2 GB
    print(f"  home built in {time.perf_counter() - t0:.0f} s", flush=True)
    return home, v1, v2


# --- WebDriver, spoken directly ----------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tauri_driver():
    p = os.environ.get("TAURI_DRIVER") or os.path.expanduser("~/.cargo/bin/tauri-driver")
    return p if os.path.exists(p) else "tauri-driver"


class WebDriver:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.sid = None

    def call(self, method, path, body=None, timeout=300):
        data = json.dumps(body if body is not None else {}).encode() if method == "POST" else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        for attempt in range(3):
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    return json.loads(r.read() or b"{}").get("value")
            except urllib.error.HTTPError as e:
                raise RuntimeError(f"{method} {path}: {e.code} {e.read()[:500]!r}") from None
            except (http.client.RemoteDisconnected, ConnectionResetError):
                # tauri-driver's proxy now and then drops a connection before answering
                if attempt == 2:
                    raise
                time.sleep(0.2)

    def start(self, app):
        caps = {"browserName": "wry", "tauri:options": {"application": app}}
        deadline = time.time() + 60
        while True:  # tauri-driver listens before the WebKit driver behind it does
            try:
                v = self.call("POST", "/session",
                              {"capabilities": {"alwaysMatch": caps}, "desiredCapabilities": caps})
                self.sid = v["sessionId"]
                break
            except (RuntimeError, OSError):
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        self.s("POST", "/timeouts", {"script": 300_000})

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.sid}{path}", body)

    def find(self, css, patience=120):
        deadline = time.time() + patience
        while True:
            try:
                return self.s("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]
            except RuntimeError:
                if time.time() > deadline:
                    raise RuntimeError(f"'{css}' never appeared; the page shows: {self.text()[:400]}")
                time.sleep(0.05)

    def click(self, css):
        self.s("POST", f"/element/{self.find(css)}/click")

    def keys(self, css, text):
        self.s("POST", f"/element/{self.find(css)}/value", {"text": text})

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def text(self):
        try:
            return self.js("return document.body.innerText")
        except RuntimeError:
            return ""

    def until(self, conditions, patience_ms=300_000):
        """Waits, in the page, until every (css, text) holds: some element matching css whose
        text contains text. Polled every 5 ms by the page itself: one round trip, so the time
        measured around it is the page's, not the polling's."""
        script = """
const [conds, patience] = [arguments[0], arguments[1]];
const done = arguments[arguments.length - 1];
const t0 = performance.now();
const holds = ([css, text]) =>
  Array.from(document.querySelectorAll(css)).some((e) => (e.textContent || "").includes(text));
(function check() {
  if (conds.every(holds)) return done(true);
  if (performance.now() - t0 > patience) return done(false);
  setTimeout(check, 5);
})();"""
        ok = self.s("POST", "/execute/async", {"script": script, "args": [conditions, patience_ms]})
        if not ok:
            raise RuntimeError(f"never held: {conditions}; the page shows: {self.text()[:400]}")

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.s("GET", "/screenshot")))

    def close(self):
        if self.sid:
            try:
                self.call("DELETE", f"/session/{self.sid}", timeout=30)
            except (RuntimeError, OSError):
                pass


# The longest time between two animation frames since the last reset: how long the window could
# not repaint (or react to a key) while the work ran.
FRAMES = """
if (!window.__frames) {
  window.__frames = { last: performance.now(), gap: 0 };
  const tick = (t) => {
    const f = window.__frames;
    f.gap = Math.max(f.gap, t - f.last);
    f.last = t;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}
window.__frames.gap = 0;
window.__frames.last = performance.now();
"""


def timed(wd, action, conditions):
    """(seconds from the action to the conditions holding, the longest frame gap in seconds)."""
    wd.js(FRAMES)
    t0 = time.perf_counter()
    action()
    wd.until(conditions)
    dt = time.perf_counter() - t0
    gap = wd.js("return Math.max(window.__frames.gap, performance.now() - window.__frames.last)")
    return dt, gap / 1000.0


# --- the app's processes -----------------------------------------------------------------------

def children(pid):
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
            out.append(int(p))
    return out


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        for c in children(todo.pop()):
            out.append(c)
            todo.append(c)
    return out


def exe(pid):
    try:
        return os.path.realpath(f"/proc/{pid}/exe")
    except OSError:
        return ""


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def app_processes(driver_pid):
    """The app process (tauri-driver > WebKitWebDriver > strata-app) and its web view's processes."""
    app_exe = os.path.realpath(APP)
    apps = [p for p in descendants(driver_pid) if exe(p) == app_exe]
    if not apps:
        return None, []
    web = [p for p in descendants(apps[0]) if "WebKitWebProcess" in exe(p)]
    return apps[0], web


# --- the benchmark -----------------------------------------------------------------------------

def cli_baselines(home, v1, v2, reps, results):
    env = dict(os.environ, STRATA_HOME=home)
    q = lambda *a: " ".join([STRATA, "-q", *a])  # noqa: E731
    steps = [
        ("cli files 1.0.0 (first 500 lines)", f"{q('files', v1)} | head -n 500 > /dev/null"),
        ("cli files 1.0.0 (all)", f"{q('files', v1)} > /dev/null"),
        (f"cli files 1.0.0 --glob '{GLOB}'", f"{q('files', v1, '--glob', repr(GLOB))} > /dev/null"),
        ("cli log", f"{q('log', DATASET)} > /dev/null"),
        ("cli show 1.0.1", f"{q('show', v2)} > /dev/null"),
        ("cli diff 1.0.0 1.0.1", f"{q('diff', v1, v2)} > /dev/null"),
    ]
    for rep in range(reps):
        for name, cmd in steps:
            t, rss = local.run(cmd, env=env, shell=True)
            results.setdefault(name, []).append((t, None, rss))
            print(f"  rep {rep}: {name} {t:.3f} s, {rss:.0f} MB", flush=True)


def app_steps(wd, rep, parts, results):
    """One repetition, in a window just started: nothing decoded yet when 1.0.0 opens; the diff
    is the first to read 1.0.1; opening 1.0.1 then, and 1.0.0 again, finds both decoded."""
    n1 = parts * PER_PART
    n2 = n1 + 1000 - 100
    rows = ".file-list .file-row.clickable .file-path"

    def rec(name, t):
        results.setdefault(name, []).append((t[0], t[1], None))
        print(f"  rep {rep}: {name} {t[0]:.3f} s (longest frame {t[1]:.3f} s)", flush=True)

    dataset = f"[data-test='dataset-{DATASET}']"

    def to_dataset():
        wd.click(dataset)
        wd.until([("[data-test='version-1.0.1']", "1.0.1")])

    rec("app lineage (dataset page)", timed(
        wd, lambda: wd.click(dataset),
        [("[data-test='version-1.0.0']", "1.0.0"), ("[data-test='version-1.0.1']", "1.0.1")]))
    rec("app open 1.0.0: first rows", timed(
        wd, lambda: wd.click("[data-test='version-1.0.0']"),
        [(rows, "part00/"), ("[data-test=file-count]", f"{n1:,} files")]))
    rec(f"app filter '{GLOB}': rows", timed(
        wd, lambda: wd.keys("[data-test=file-filter]", GLOB),
        [(rows, "part42/"), ("[data-test=file-count]", f"{PER_PART:,} files")]))
    if rep == 0:
        wd.js("document.querySelector('.file-browser').scrollIntoView({block: 'start'})")
        time.sleep(0.5)
        wd.screenshot(SHOT)
        wd.js("document.querySelector('main').scrollTo(0, 0); window.scrollTo(0, 0)")
    rec("app clear the filter: rows", timed(
        wd, lambda: wd.keys("[data-test=file-filter]", "\ue003" * len(GLOB)),
        [(rows, "part00/"), ("[data-test=file-count]", f"{n1:,} files")]))
    to_dataset()
    wd.click("input[aria-label='select 1.0.0']")
    wd.click("input[aria-label='select 1.0.1']")
    rec("app diff 1.0.0 → 1.0.1: first rows", timed(
        wd, lambda: wd.click("[data-test=compare]"),
        [(".diff-list .file-row", "new/"), ("[data-test=diff-added]", "1,000")]))
    to_dataset()
    rec("app open 1.0.1: first rows", timed(
        wd, lambda: wd.click("[data-test='version-1.0.1']"),
        [(rows, "new/"), ("[data-test=file-count]", f"{n2:,} files")]))
    to_dataset()
    rec("app open 1.0.0 again: first rows", timed(
        wd, lambda: wd.click("[data-test='version-1.0.0']"),
        [(rows, "part00/"), ("[data-test=file-count]", f"{n1:,} files")]))


def one_window(home, rep, parts, results, mem):
    """Starts the app through tauri-driver, runs one repetition, keeps the peak memory of its
    processes in `mem`, and stops it."""
    port, native = free_port(), free_port()
    driver = subprocess.Popen(
        [tauri_driver(), "--port", str(port), "--native-port", str(native)],
        env=dict(os.environ, STRATA_HOME=home), stdout=subprocess.DEVNULL)
    wd = WebDriver(port)
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    sys.exit("tauri-driver did not start")
                time.sleep(0.1)
        t0 = time.perf_counter()
        wd.start(os.path.abspath(APP))
        wd.until([(f"[data-test='dataset-{DATASET}']", DATASET.split("/")[1])])
        results.setdefault("app start: catalog shown", []).append(
            (time.perf_counter() - t0, None, None))
        app_steps(wd, rep, parts, results)
        app_pid, web = app_processes(driver.pid)
        seen = [("app process", app_pid)] if app_pid else []
        seen += [(f"web view process {i + 1}" if len(web) > 1 else "web view process", p)
                 for i, p in enumerate(web)]
        for name, p in seen:
            hwm, rss = status_kb(p, "VmHWM"), status_kb(p, "VmRSS")
            old = mem.get(name, (0, 0))
            mem[name] = (max(old[0], hwm), max(old[1], rss))
    finally:
        wd.close()
        if driver.poll() is None:
            driver.send_signal(signal.SIGTERM)  # SIGTERM lets it stop WebKitWebDriver too
            try:
                driver.wait(timeout=30)
            except subprocess.TimeoutExpired:
                driver.kill()


SHOT = "/tmp/app-million.png"


def main():
    global SHOT
    os.makedirs(local.OUT, exist_ok=True)  # where run() keeps its RSS file
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--parts", type=int, default=100, help="folders of 10,000 entries in 1.0.0")
    ap.add_argument("--keep", action="store_true", help="keep the home (prints where)")
    ap.add_argument("--home", help="a home kept by an earlier run (--keep): not built again")
    ap.add_argument("--shot", default=SHOT, help="where the screenshot of the filtered browser goes")
    a = ap.parse_args()
    SHOT = a.shot
    for p, what in ((STRATA, "the CLI"), (APP, "the app")):
        if not os.path.exists(p):
            sys.exit(f"{p} not found ({what}): run bench/app_million.sh (it builds them)")
    if not os.environ.get("DISPLAY"):
        sys.exit("no DISPLAY: run under xvfb-run (bench/app_million.sh does)")
    work = tempfile.mkdtemp(prefix="strata-app-million-")
    results = {}
    mem = {}
    try:
        if a.home:
            home = a.home
            v1, v2 = (json.loads(cli(home, "--json", "show", f"{DATASET}@{s}"))["id"]
                      for s in ("1.0.0", "1.0.1"))
        else:
            print(f"building a home of {a.parts * PER_PART:,} entries ...", flush=True)
            home, v1, v2 = build_home(work, a.parts)
        print("the CLI on the same versions ...", flush=True)
        cli_baselines(home, v1, v2, a.reps, results)

        print("the app, started anew for each repetition ...", flush=True)
        for rep in range(a.reps):
            one_window(home, rep, a.parts, results, mem)
    finally:
        if a.keep:
            print(f"kept {work} (--home {work}/home)")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print_table(a, results, mem)


def print_table(a, results, mem):
    n = a.parts * PER_PART
    lines = [f"strata app, a dataset of two versions of {n:,} and {n + 900:,} entries; "
             f"{a.reps} repetitions; {os.cpu_count()} cores, Xvfb", "",
             "| step | first s | median s | longest frame s | CLI doing the same | CLI median s |",
             "|---|---:|---:|---:|---|---:|"]
    pairs = {
        "app open 1.0.0: first rows": "cli files 1.0.0 (first 500 lines)",
        f"app filter '{GLOB}': rows": f"cli files 1.0.0 --glob '{GLOB}'",
        "app clear the filter: rows": "cli files 1.0.0 (first 500 lines)",
        "app lineage (dataset page)": "cli log",
        "app diff 1.0.0 → 1.0.1: first rows": "cli diff 1.0.0 1.0.1",
        "app open 1.0.1: first rows": "cli show 1.0.1",
        "app open 1.0.0 again: first rows": "cli files 1.0.0 (first 500 lines)",
    }
    med = {k: statistics.median(t for t, _, _ in v) for k, v in results.items()}
    for k, v in results.items():
        if k.startswith("cli"):
            continue
        gaps = [g for _, g, _ in v if g is not None]
        gap = f"{max(gaps):.3f}" if gaps else ""
        base = pairs.get(k)
        cli_cols = f"{base[4:]} | {med[base]:.3f}" if base in med else " | "
        lines.append(f"| {k[4:]} | {v[0][0]:.3f} | {med[k]:.3f} | {gap} | {cli_cols} |")
    lines += ["", "| the CLI alone | first s | median s | peak MB |", "|---|---:|---:|---:|"]
    for k, v in results.items():
        if k.startswith("cli"):
            peak = max(m for _, _, m in v)
            lines.append(f"| {k[4:]} | {v[0][0]:.3f} | {med[k]:.3f} | {peak:.0f} |")
    lines += ["", "| the app's memory | peak MB (VmHWM) | at the end MB (VmRSS) |", "|---|---:|---:|"]
    for k, (hwm, rss) in mem.items():
        lines.append(f"| {k} | {hwm / 1024:.0f} | {rss / 1024:.0f} |")
    slow = [k for k in med if k.startswith("app") and "rows" in k
            and max(t for t, _, _ in results[k]) > TARGET_S]
    lines += ["", "Each repetition starts the app anew: opening 1.0.0 decodes its manifest, the "
              "diff decodes 1.0.1's; opening 1.0.1 and 1.0.0 again find them decoded (the app "
              "keeps the two it read last). first: the first repetition. longest frame: the "
              "longest the window went without painting while the step ran. Responsive: first "
              f"rows within {TARGET_S:.0f} s"
              + (f"; over it at least once: {', '.join(s[4:] for s in slow)}" if slow
                 else "; every repetition within it")
              + f". Screenshot of the filtered browser: {SHOT}"]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
