//! `strata watch` as a process over real folders: real filesystem events from real writers,
//! versions read from its `--json` lines.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::Env;

/// A running `strata watch FOLDER --dataset d/w --json` and the versions it printed.
struct Watcher {
    child: Child,
    lines: Receiver<Value>,
}

impl Watcher {
    fn start(env: &Env, extra: &[&str]) -> Watcher {
        let folder = env.path("data");
        let mut args = vec![
            "watch",
            folder.to_str().unwrap(),
            "--dataset",
            "d/w",
            "--json",
        ];
        args.extend_from_slice(extra);
        let mut child = env
            .cmd(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn strata watch");
        let out = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        Watcher { child, lines }
    }

    /// The next version, within `patience`.
    fn next(&self, patience: Duration) -> Option<Value> {
        self.lines.recv_timeout(patience).ok()
    }

    /// Every version printed within `d`.
    fn during(&self, d: Duration) -> Vec<Value> {
        let end = Instant::now() + d;
        let mut out = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(v) => out.push(v),
                Err(_) => break,
            }
        }
        out
    }

    /// Stops it as Ctrl-C would; it must exit cleanly.
    fn stop(self) -> String {
        // SAFETY: sending a signal to our own child.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let out = self.child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "watch exits cleanly: {err}");
        err
    }
}

const QUICK: [&str; 4] = ["--quiet-for", "400ms", "--max-wait", "20s"];

fn count(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap()
}

#[test]
fn a_slow_writer_a_burst_and_an_atomic_save_each_make_one_version() {
    let env = Env::new();
    env.write("data/first.txt", b"first");
    std::thread::sleep(Duration::from_millis(2100)); // settled before the watch starts
    let w = Watcher::start(&env, &QUICK);
    let start = w
        .next(Duration::from_secs(20))
        .expect("the first version at start");
    assert_eq!(
        (start["semver"].as_str(), count(&start, "added")),
        (Some("1.0.0"), 1)
    );

    // A slow writer: a file every 100 ms for 1.5 s, then quiet.
    for i in 0..15 {
        env.write(
            &format!("data/slow/{i}.txt"),
            format!("slow {i}").as_bytes(),
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let v = w
        .next(Duration::from_secs(20))
        .expect("a version after the writer stops");
    assert_eq!(count(&v, "added"), 15, "{v}");
    assert!(
        w.during(Duration::from_millis(1500)).is_empty(),
        "one version, not one per file"
    );

    // A burst from another process: mkdir -p and 500 files.
    let data = env.path("data");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("mkdir -p burst/a/b/c && for i in $(seq 1 500); do echo $i > burst/a/b/c/f$i; done")
        .current_dir(&data)
        .status()
        .unwrap();
    assert!(status.success());
    let v = w
        .next(Duration::from_secs(30))
        .expect("a version after the burst");
    assert_eq!(count(&v, "added"), 500, "{v}");
    assert!(
        w.during(Duration::from_millis(1500)).is_empty(),
        "the burst is one version"
    );

    // An editor's atomic save: a temp file renamed over the original.
    env.write("data/.first.txt.swx", b"first, edited");
    std::fs::rename(env.path("data/.first.txt.swx"), env.path("data/first.txt")).unwrap();
    let v = w
        .next(Duration::from_secs(20))
        .expect("a version after the save");
    assert_eq!((count(&v, "added"), count(&v, "modified")), (0, 1), "{v}");
    assert!(w.during(Duration::from_millis(1500)).is_empty());

    // No change, no version; the versions are in the catalog.
    w.stop();
    let log = env.json(&["log", "d/w"]);
    assert_eq!(log.as_array().unwrap().len(), 4, "{log}");
}

#[test]
fn a_file_still_being_written_is_never_versioned_half_written() {
    let env = Env::new();
    env.write("data/done.txt", b"done");
    std::thread::sleep(Duration::from_millis(2100));
    // Writing never goes quiet for 400 ms, so versions come from the 1 s cap.
    let w = Watcher::start(&env, &["--quiet-for", "400ms", "--max-wait", "1s"]);
    w.next(Duration::from_secs(20)).expect("the first version");
    let big = env.path("data/growing.bin");
    let chunk = vec![7u8; 4096];
    let started = Instant::now();
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&big).unwrap();
        while started.elapsed() < Duration::from_millis(3500) {
            f.write_all(&chunk).unwrap();
            f.flush().unwrap();
            env.write(
                &format!("data/other/{}.txt", started.elapsed().as_millis()),
                b"meanwhile",
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }
    let final_len = std::fs::metadata(&big).unwrap().len();
    let seen = w.during(Duration::from_secs(8));
    assert!(
        seen.len() >= 2,
        "the cap makes versions while writing never stops: {seen:?}"
    );
    w.stop();
    // In every version, the growing file is absent or whole.
    for v in env.json(&["log", "d/w"]).as_array().unwrap() {
        let id = v["id"].as_str().unwrap();
        for f in env.json(&["files", id]).as_array().unwrap() {
            if f["path"] == "growing.bin" {
                assert_eq!(f["size"].as_u64(), Some(final_len), "half-written in {id}");
            }
        }
    }
    let last = env.json(&["files", "d/w"]);
    assert!(
        last.as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == "growing.bin"),
        "taken once it settled"
    );
}

#[test]
fn changes_made_while_stopped_are_caught_up_at_start() {
    let env = Env::new();
    env.images("data", 2, 20);
    env.ok(&["snapshot", "d/w", "data"]);
    std::fs::remove_file(env.path("data/class0/img00000.jpg")).unwrap();
    env.write("data/new.txt", b"new");
    std::thread::sleep(Duration::from_millis(2100));
    let w = Watcher::start(&env, &QUICK);
    let v = w.next(Duration::from_secs(20)).expect("caught up at start");
    assert_eq!(
        (count(&v, "added"), count(&v, "removed"), v["wake"].as_str()),
        (1, 1, Some("start"))
    );
    w.stop();
    // Nothing changed since: a second start makes no version.
    let w = Watcher::start(&env, &QUICK);
    assert!(w.during(Duration::from_secs(2)).is_empty());
    w.stop();
}

#[test]
fn one_process_at_a_time_watches_a_folder() {
    let env = Env::new();
    env.write("data/a.txt", b"a");
    let w = Watcher::start(&env, &QUICK);
    w.next(Duration::from_secs(20)).expect("running");
    let folder = env.path("data");
    let second = env
        .run(&["watch", folder.to_str().unwrap(), "--dataset", "d/w"])
        .fails();
    assert!(
        second.error().contains("is watched by another process"),
        "{}",
        second.error()
    );
    w.stop();
}

#[test]
fn recorded_watches_are_listed_paused_run_and_removed() {
    let env = Env::new();
    env.write("data/a.txt", b"a");
    let folder = env.path("data");
    let f = folder.to_str().unwrap();
    let added = env.json(&[
        "watch",
        "add",
        f,
        "--dataset",
        "d/w",
        "--quiet-for",
        "300ms",
    ]);
    assert_eq!(added["dataset"], "d/w");
    assert_eq!(added["running"], Value::Null);
    let dup = env.run(&["watch", "add", f, "--dataset", "d/x"]).fails();
    assert!(
        dup.error().contains("is watched already"),
        "{}",
        dup.error()
    );

    // `watch run` runs it: a version at start, and its state is visible from another process.
    let mut run = env
        .cmd(&["watch", "run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let list = env.json(&["watch", "list"]);
        let w = &list[0];
        if w["last_version"] == "d/w@1.0.0" && !w["running"].is_null() {
            break;
        }
        assert!(Instant::now() < deadline, "never versioned: {list}");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Paused: no versions; resumed: the change made meanwhile is versioned.
    env.ok(&["watch", "pause", f]);
    std::thread::sleep(Duration::from_secs(4));
    env.write("data/b.txt", b"b");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(env.json(&["log", "d/w"]).as_array().unwrap().len(), 1);
    env.ok(&["watch", "resume", "1"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while env.json(&["log", "d/w"]).as_array().unwrap().len() < 2 {
        assert!(Instant::now() < deadline, "resumed watch never versioned");
        std::thread::sleep(Duration::from_millis(200));
    }
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(run.id() as i32, libc::SIGTERM);
    }
    assert!(run.wait().unwrap().success());
    env.ok(&["watch", "remove", f]);
    assert_eq!(env.json(&["watch", "list"]), serde_json::json!([]));
}

#[test]
fn a_user_service_runs_the_watches_of_this_home() {
    let env = Env::new();
    let config = env.path("config");
    let mut c = env.cmd(&["watch", "service", "install", "--json"]);
    let out = c.env("XDG_CONFIG_HOME", &config).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let unit = config.join("systemd/user/strata-watch.service");
    assert_eq!(r["unit"].as_str(), unit.to_str());
    let body = std::fs::read_to_string(&unit).unwrap();
    let exec = format!(
        "ExecStart=\"{}\" --home \"{}\" watch run",
        env!("CARGO_BIN_EXE_strata"),
        env.home().display()
    );
    assert!(body.contains(&exec), "{body}");
    assert!(body.contains("WantedBy=default.target"));
    // Without a user session bus systemd cannot take it: said, with the command to run.
    if r["applied"] == false {
        assert!(
            r["note"].as_str().unwrap().contains("systemctl --user"),
            "{r}"
        );
    }
    let mut c = env.cmd(&["watch", "service", "uninstall", "--json"]);
    let out = c.env("XDG_CONFIG_HOME", &config).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!unit.exists());
}

#[test]
fn a_watcher_killed_at_any_moment_catches_up_and_never_versions_twice() {
    let env = Env::new();
    env.images("data", 4, 1500);
    std::thread::sleep(Duration::from_millis(2100));
    let folder = env.path("data");
    for round in 0..4u64 {
        // A change, then a watcher killed somewhere in its start-up version.
        env.write(&format!("data/round{round}.txt"), b"changed while stopped");
        std::thread::sleep(Duration::from_millis(2100));
        let mut child = env
            .cmd(&["watch", folder.to_str().unwrap(), "--dataset", "d/w"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(60 + round * 90));
        // SAFETY: killing our own child.
        unsafe {
            libc::kill(child.id() as i32, libc::SIGKILL);
        }
        let _ = child.wait();
    }
    // Restarted, it catches up with whatever the killed ones did not finish.
    let w = Watcher::start(&env, &QUICK);
    let _ = w.during(Duration::from_secs(5));
    w.stop();
    let log = env.json(&["log", "d/w"]);
    let versions = log.as_array().unwrap();
    let files = env.json(&["files", "d/w"]);
    assert_eq!(
        files.as_array().unwrap().len(),
        1504,
        "every change is in the newest version"
    );
    // No two versions of the same content, and everything verifies.
    let mut manifests: Vec<&str> = versions
        .iter()
        .map(|v| v["manifest"].as_str().unwrap())
        .collect();
    let n = manifests.len();
    manifests.sort_unstable();
    manifests.dedup();
    assert_eq!(manifests.len(), n, "a version made twice: {log}");
    for v in versions {
        let r = env.json(&["verify", v["id"].as_str().unwrap()]);
        assert_eq!(r["mismatches"], serde_json::json!([]), "{r}");
    }
}

#[test]
fn ignored_files_never_make_a_version() {
    let env = Env::new();
    env.write("data/.strataignore", b"scratch/\n*.log\n");
    env.write("data/keep.txt", b"keep");
    std::thread::sleep(Duration::from_millis(2100));
    let w = Watcher::start(&env, &QUICK);
    let first = w.next(Duration::from_secs(20)).expect("the first version");
    assert_eq!(count(&first, "added"), 1, "{first}");
    // Noise and ignored names: nothing to version.
    env.write("data/.DS_Store", b"finder");
    env.write("data/notes.txt.swp", b"vim");
    env.write("data/run.log", b"log line");
    env.write("data/scratch/tmp.bin", b"scratch");
    assert!(
        w.during(Duration::from_secs(3)).is_empty(),
        "no version of ignored files"
    );
    // A pattern taken out of .strataignore: its files count again.
    env.write("data/.strataignore", b"scratch/\n");
    let v = w
        .next(Duration::from_secs(20))
        .expect("run.log is no longer ignored");
    assert_eq!(count(&v, "added"), 1, "{v}");
    env.write("data/real.txt", b"real");
    let v = w.next(Duration::from_secs(20)).expect("a real change");
    assert_eq!(count(&v, "added"), 1, "{v}");
    w.stop();
    let files: Vec<String> = env
        .json(&["files", "d/w"])
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(files, ["keep.txt", "real.txt", "run.log"]);
}

#[test]
fn polling_sees_changes_without_filesystem_events() {
    let env = Env::new();
    env.write("data/a.txt", b"a");
    std::thread::sleep(Duration::from_millis(2100));
    let w = Watcher::start(&env, &["--quiet-for", "400ms", "--poll", "300ms"]);
    w.next(Duration::from_secs(20)).expect("the first version");
    // Polling compares whole-second mtimes: a new file is seen by its appearance.
    env.write("data/b.txt", b"b");
    let v = w.next(Duration::from_secs(20)).expect("seen by polling");
    assert_eq!(count(&v, "added"), 1, "{v}");
    let err = w.stop();
    assert!(!err.contains("error"), "{err}");
}

#[test]
fn switching_a_watched_folder_to_a_version_makes_no_version() {
    let env = Env::new();
    env.write("data/a.txt", b"one");
    std::thread::sleep(Duration::from_millis(2100));
    let w = Watcher::start(&env, &QUICK);
    w.next(Duration::from_secs(20)).expect("1.0.0");
    env.write("data/a.txt", b"two");
    let v = w.next(Duration::from_secs(20)).expect("1.0.1");
    assert_eq!(v["semver"], "1.0.1");
    // Back to 1.0.0 in place: the folder holds a version that exists; nothing to record.
    let folder = env.path("data");
    env.ok(&[
        "get",
        "d/w@1.0.0",
        "--to",
        folder.to_str().unwrap(),
        "--mutable",
        "--overwrite",
    ]);
    assert_eq!(std::fs::read(env.path("data/a.txt")).unwrap(), b"one");
    assert!(
        w.during(Duration::from_secs(3)).is_empty(),
        "no version for the switch"
    );
    // An edit after the switch is a change like any other.
    env.write("data/b.txt", b"new");
    let v = w
        .next(Duration::from_secs(20))
        .expect("a version of the edit");
    assert_eq!((count(&v, "added"), count(&v, "modified")), (1, 1), "{v}");
    w.stop();
}

#[test]
fn a_pending_watch_counts_its_changes_as_status_does() {
    let env = Env::new();
    env.write("data/a.txt", b"a");
    env.write("data/b.txt", b"b");
    let folder = env.path("data");
    let f = folder.to_str().unwrap();
    // A quiet window long enough to look at the pending changes before they become a version.
    env.ok(&["watch", "add", f, "--dataset", "d/w", "--quiet-for", "1h"]);
    let mut run = env
        .cmd(&["watch", "run"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while env.json(&["watch", "list"])[0]["last_version"] != "d/w@1.0.0" {
        assert!(Instant::now() < deadline, "never caught up");
        std::thread::sleep(Duration::from_millis(200));
    }
    env.write("data/c.txt", b"c");
    env.write("data/a.txt", b"a, edited");
    std::fs::remove_file(folder.join("b.txt")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let w = loop {
        let list = env.json(&["watch", "list"]);
        if list[0]["state"] == "pending" && !list[0]["changes"].is_null() {
            break list[0].clone();
        }
        assert!(Instant::now() < deadline, "never pending: {list}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        w["changes"],
        serde_json::json!({"added": 1, "modified": 1, "removed": 1})
    );
    let status = env.json(&["status", f, "--dataset", "d/w"]);
    assert_eq!(
        (&status["added"], &status["modified"], &status["removed"]),
        (
            &w["changes"]["added"],
            &w["changes"]["modified"],
            &w["changes"]["removed"]
        )
    );
    let human = env.ok(&["watch", "list"]).stdout();
    assert!(
        human.contains("[pending (1 added, 1 modified, 1 removed)]"),
        "{human}"
    );
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(run.id() as i32, libc::SIGTERM);
    }
    assert!(run.wait().unwrap().success());
}

/// Sets the kernel's inotify queue size for watchers started meanwhile, and puts it back.
struct QueueSize {
    was: String,
}

const QUEUE_KNOB: &str = "/proc/sys/fs/inotify/max_queued_events";

impl QueueSize {
    fn set(n: u32) -> QueueSize {
        let was = std::fs::read_to_string(QUEUE_KNOB).expect("inotify's queue size");
        std::fs::write(QUEUE_KNOB, n.to_string())
            .expect("shrinking the kernel's event queue needs root, as the test machines run");
        QueueSize { was }
    }
}

impl Drop for QueueSize {
    fn drop(&mut self) {
        let _ = std::fs::write(QUEUE_KNOB, self.was.trim());
    }
}

/// Whether `pid` holds an inotify instance yet.
fn has_inotify(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|fds| {
            fds.flatten().any(|fd| {
                std::fs::read_link(fd.path()).is_ok_and(|l| l.to_string_lossy().contains("inotify"))
            })
        })
        .unwrap_or(false)
}

#[test]
fn a_kernel_queue_overflow_rescans_the_folder() {
    let env = Env::new();
    env.write("data/a.txt", b"a");
    // A queue of 16 events for this watcher alone: the size is read when its inotify instance is
    // made, and put back at once.
    let queue = QueueSize::set(16);
    let w = Watcher::start(&env, &QUICK);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !has_inotify(w.child.id()) {
        assert!(Instant::now() < deadline, "the watcher never watched");
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(queue);
    let first = w.next(Duration::from_secs(30)).expect("the first version");
    assert_eq!(first["semver"], "1.0.0");

    // Stopped, the watcher reads no events: ignored noise fills its queue, and the events of the
    // one real change are lost. Only the kernel's overflow notice says something happened.
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(w.child.id() as i32, libc::SIGSTOP);
    }
    for i in 0..200 {
        env.write(&format!("data/noise-{i}.tmp"), b"scratch");
    }
    env.write("data/b.txt", b"the change");
    // SAFETY: as above.
    unsafe {
        libc::kill(w.child.id() as i32, libc::SIGCONT);
    }
    let v = w
        .next(Duration::from_secs(30))
        .expect("a version after the overflow");
    assert_eq!((count(&v, "added"), count(&v, "modified")), (1, 0));
    assert_eq!(v["wake"], "rescan", "{v}");
    assert!(w.during(Duration::from_secs(2)).is_empty());
    w.stop();
}

/// Inotify watches held now by every process of this machine's users.
fn watches_in_use() -> u64 {
    let mut n = 0;
    for p in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        for fd in std::fs::read_dir(p.path().join("fdinfo"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(info) = std::fs::read_to_string(fd.path()) {
                n += info
                    .lines()
                    .filter(|l| l.starts_with("inotify wd:"))
                    .count() as u64;
            }
        }
    }
    n
}

#[test]
fn at_the_inotify_watch_limit_the_watch_polls_and_says_how_to_raise_it() {
    const KNOB: &str = "/proc/sys/fs/inotify/max_user_watches";
    let env = Env::new();
    for i in 0..40 {
        env.write(&format!("data/shelf-{i}/a.txt"), b"a");
    }
    let was = std::fs::read_to_string(KNOB).expect("inotify's watch limit");
    struct Restore(String);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = std::fs::write(KNOB, self.0.trim());
        }
    }
    let restore = Restore(was);
    // Room for a few more watches than are in use: not for this folder's 41.
    std::fs::write(KNOB, (watches_in_use() + 5).to_string())
        .expect("lowering the watch limit needs root, as the test machines run");
    let folder = env.path("data");
    let mut child = env
        .cmd(&[
            "watch",
            folder.to_str().unwrap(),
            "--dataset",
            "d/w",
            "--json",
            "--quiet-for",
            "400ms",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, said) = channel::<String>();
    let err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (vtx, versions) = channel::<Value>();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                let _ = vtx.send(v);
            }
        }
    });
    let polling = said
        .recv_timeout(Duration::from_secs(30))
        .expect("the watch says it polls");
    drop(restore);
    assert!(polling.contains("polling"), "{polling}");
    assert!(
        polling.contains("sysctl fs.inotify.max_user_watches="),
        "{polling}"
    );
    let first = versions
        .recv_timeout(Duration::from_secs(30))
        .expect("the first version");
    assert_eq!(count(&first, "added"), 40);
    // Polling still sees a change, in a folder it could not watch natively.
    env.write("data/shelf-7/b.txt", b"b");
    let next = versions
        .recv_timeout(Duration::from_secs(30))
        .expect("a version by polling");
    assert_eq!(count(&next, "added"), 1);
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    assert!(child.wait().unwrap().success());
}
