//! A watcher running on its own thread over a temporary folder, with a handler that scans the
//! folder like the engine would (reading every file) and records each call.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use strata_core::{Cancel, Result};
use strata_watch::{Outcome, Wake, WatchConfig, WatchState};

pub const MS: Duration = Duration::from_millis(1);

/// The short windows every test uses: quiet 300 ms, max wait 2 s, no periodic rescan.
pub fn short() -> WatchConfig {
    WatchConfig {
        quiet_for: 300 * MS,
        max_wait: 2000 * MS,
        rescan_every: Duration::from_secs(3600),
        ..WatchConfig::default()
    }
}

/// One handler call.
#[derive(Clone, Copy, Debug)]
pub struct Call {
    pub wake: Wake,
    pub at: Instant,
    /// Whether the folder existed when the handler was called.
    pub folder_existed: bool,
}

pub struct Watching {
    pub dir: PathBuf,
    tmp: tempfile::TempDir,
    cancel: Cancel,
    calls: Receiver<Call>,
    states: Arc<Mutex<Vec<(Instant, WatchState)>>>,
    ended: Receiver<Result<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Reads every file under `dir`, as the engine's scan does: the reads must not wake the watcher.
fn scan(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            scan(&path);
        } else {
            let _ = std::fs::read(&path);
        }
    }
}

impl Watching {
    /// Watches a new folder holding a few files; the handler scans and answers `Done`.
    pub fn start(config: WatchConfig) -> Self {
        Self::start_with(config, |_, _| Ok(Outcome::Done))
    }

    /// Watches a new folder holding a few files; the handler scans, then answers what
    /// `respond(wake, index of the call)` says.
    pub fn start_with(
        config: WatchConfig,
        mut respond: impl FnMut(Wake, usize) -> Result<Outcome> + Send + 'static,
    ) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("watched");
        std::fs::create_dir_all(dir.join("train")).expect("create the folder");
        for name in ["labels.csv", "train/cat1.jpg", "train/cat2.jpg"] {
            std::fs::write(dir.join(name), name).expect("write a file");
        }
        let cancel = Cancel::new();
        let (call_tx, calls) = mpsc::channel();
        let (end_tx, ended) = mpsc::channel();
        let states = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let dir = dir.clone();
            let cancel = cancel.clone();
            let states = Arc::clone(&states);
            std::thread::spawn(move || {
                let mut n = 0;
                let mut handler = |wake: Wake| {
                    let call = Call {
                        wake,
                        at: Instant::now(),
                        folder_existed: dir.is_dir(),
                    };
                    let _ = call_tx.send(call);
                    scan(&dir);
                    n += 1;
                    respond(wake, n - 1)
                };
                let mut on_state = |state: WatchState| {
                    if let Ok(mut states) = states.lock() {
                        states.push((Instant::now(), state));
                    }
                };
                let result = strata_watch::run(&dir, &config, &cancel, &mut on_state, &mut handler);
                let _ = end_tx.send(result);
            })
        };
        Watching {
            dir,
            tmp,
            cancel,
            calls,
            states,
            ended,
            thread: Some(thread),
        }
    }

    /// The folder holding the watched one.
    pub fn parent(&self) -> &Path {
        self.tmp.path()
    }

    pub fn next_call(&self, within: Duration) -> Option<Call> {
        match self.calls.recv_timeout(within) {
            Ok(call) => Some(call),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("the watcher stopped: {:?}", self.end()),
        }
    }

    pub fn expect_call(&self, within: Duration, what: &str) -> Call {
        self.next_call(within)
            .unwrap_or_else(|| panic!("no handler call within {within:?}: {what}"))
    }

    /// The start call, which every test waits for before touching the folder.
    pub fn started(&self) -> Call {
        let call = self.expect_call(Duration::from_secs(10), "the start call");
        assert_eq!(call.wake, Wake::Start);
        call
    }

    /// Every call until none comes for `silence`.
    pub fn calls_until_silent(&self, silence: Duration) -> Vec<Call> {
        let mut calls = Vec::new();
        while let Some(call) = self.next_call(silence) {
            calls.push(call);
        }
        calls
    }

    pub fn assert_no_call(&self, within: Duration, why: &str) {
        if let Some(call) = self.next_call(within) {
            panic!("unexpected call {:?}: {why}", call.wake);
        }
    }

    pub fn states(&self) -> Vec<WatchState> {
        self.states
            .lock()
            .map(|s| s.iter().map(|(_, state)| state.clone()).collect())
            .unwrap_or_default()
    }

    /// Waits until a state `matches` was reported.
    pub fn wait_for_state(
        &self,
        within: Duration,
        matches: impl Fn(&WatchState) -> bool,
    ) -> Option<WatchState> {
        let end = Instant::now() + within;
        loop {
            if let Some(state) = self.states().into_iter().find(&matches) {
                return Some(state);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(20 * MS);
        }
    }

    fn end(&self) -> Option<Result<()>> {
        self.ended.try_recv().ok()
    }

    /// Cancels and returns how long the watcher took to return.
    pub fn stop(mut self) -> Duration {
        let asked = Instant::now();
        self.cancel.cancel();
        let result = self
            .ended
            .recv_timeout(Duration::from_secs(10))
            .expect("the watcher returns after cancel");
        let took = asked.elapsed();
        result.expect("the watcher ends without error");
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the watcher thread does not panic");
        }
        took
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Writes `count` files named `prefix{i}` in `dir`, one every `every`; returns the longest pause
/// between two writes (a loaded machine can stretch it) and when the last write finished.
pub fn write_slowly(
    dir: &Path,
    prefix: &str,
    count: usize,
    every: Duration,
) -> (Duration, Instant) {
    let mut longest = Duration::ZERO;
    let mut last = Instant::now();
    for i in 0..count {
        if i > 0 {
            std::thread::sleep(every);
        }
        std::fs::write(dir.join(format!("{prefix}{i}")), i.to_string()).expect("write");
        let now = Instant::now();
        if i > 0 {
            longest = longest.max(now - last);
        }
        last = now;
    }
    (longest, last)
}

/// Runs `script` with `sh -c` in `dir`, as another program writing there would.
pub fn sh(dir: &Path, script: &str) {
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .status()
        .expect("run sh");
    assert!(status.success(), "`{script}` failed: {status}");
}
