//! The watch loop: wait for signals, decide, call the handler, report.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_core::{Cancel, Error, IoContext, Result};

use crate::backend::{self, Backend};
use crate::config::WatchConfig;
use crate::folder::{self, Health, Identity};
use crate::inbox::{Inbox, Sieve, Signals};
use crate::schedule::{backoff, Schedule};
use crate::state::{Outcome, Wake, WatchState};

/// How often the loop wakes at most, to see `cancel`: it returns within this of a cancel (plus
/// whatever the handler takes, which gets the same token from the engine).
const TICK: Duration = Duration::from_millis(100);
/// How often the folder is checked when nothing says it changed: an unmount sends no event.
const CHECK_EVERY: Duration = Duration::from_secs(2);
/// While changes are pending, their count is reported at most this often.
const PENDING_REPORT_EVERY: Duration = Duration::from_secs(1);

/// Watches `folder` recursively and calls `handler` whenever the folder should be scanned for a
/// new version, until `cancel` is set; then returns `Ok(())`.
///
/// `handler` is called:
/// - once at start ([`Wake::Start`]);
/// - after changes, once the folder has been quiet for `quiet_for` ([`Wake::Quiet`]), or once
///   `max_wait` has passed since the first change not yet handled ([`Wake::MaxWait`]);
/// - after events may have been lost (a queue overflow, a rescan flag, a watcher error, the
///   folder coming back, a switch to polling), also once the folder is quiet ([`Wake::Rescan`]):
///   losses come with bursts, and a scan in the middle of one would be stale at once;
/// - every `rescan_every` without calls ([`Wake::Periodic`]);
/// - again after [`Outcome::Unstable`]'s delay, or after a failure with backoff (2 s, doubling up
///   to 60 s) until a call succeeds ([`Wake::Retry`]); events arriving meanwhile replace the
///   retry with the usual quiet wait. A handler error never ends the watch: it is reported as
///   [`WatchState::Failed`] and logged.
///
/// Events under paths `config.ignore` accepts are dropped, and so are reads (opening and closing
/// without writing): the handler's own scan reads the folder, and counting that would wake the
/// watcher after every version. Every write counts, whoever made it; the engine writes nothing
/// inside a watched folder, so its calls cause no further wakes.
///
/// The handler is never called while the folder is missing (deleted, moved, its drive
/// unmounted): the watcher reports [`WatchState::Missing`], re-checks with backoff and, when the
/// folder returns, watches it anew and rescans once it is quiet.
///
/// `on_state` hears every change of [`WatchState`], on the caller's thread.
///
/// Errors: only at start, when `folder` is not a readable folder or `config` is invalid.
pub fn run(
    folder: &Path,
    config: &WatchConfig,
    cancel: &Cancel,
    on_state: &mut dyn FnMut(WatchState),
    handler: &mut dyn FnMut(Wake) -> Result<Outcome>,
) -> Result<()> {
    config.validate()?;
    let root = std::path::absolute(folder).ctx("find the folder", folder)?;
    let meta = std::fs::metadata(&root).ctx("watch", &root)?;
    if !meta.is_dir() {
        return Err(Error::invalid(format!(
            "'{}' is not a folder",
            root.display()
        )));
    }
    // The parent's real path, to tell a mount point: `absolute` keeps `..` and symlinks.
    let parent = std::fs::canonicalize(&root)
        .ok()
        .and_then(|real| real.parent().map(Path::to_path_buf));
    let identity = match folder::check(&root, parent.as_deref(), false) {
        Health::Present(identity) => identity,
        Health::Missing(reason) => {
            return Err(Error::invalid(format!(
                "cannot watch '{}': {reason}",
                root.display()
            )))
        }
    };

    let inbox = Arc::new(Inbox::default());
    let sieve = Sieve::new(&root, config.ignore.clone());
    let now = Instant::now();
    let mut watch = Watch {
        config,
        cancel,
        handler,
        reporter: Reporter::new(on_state),
        schedule: Schedule::new(config, now),
        backend: None,
        root,
        parent,
        identity,
        was_mount_point: identity.mount_point,
        inbox,
        sieve,
        next_check: now + CHECK_EVERY,
        polling: None,
    };
    watch.open_backend()?;
    tracing::info!(folder = %watch.root.display(), "watching");
    watch.run();
    tracing::info!(folder = %watch.root.display(), "stopped watching");
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flow {
    Go,
    Stop,
}

struct Watch<'a> {
    config: &'a WatchConfig,
    cancel: &'a Cancel,
    handler: &'a mut dyn FnMut(Wake) -> Result<Outcome>,
    reporter: Reporter<'a>,
    schedule: Schedule,
    backend: Option<Backend>,
    root: PathBuf,
    parent: Option<PathBuf>,
    identity: Identity,
    was_mount_point: bool,
    inbox: Arc<Inbox>,
    sieve: Sieve,
    next_check: Instant,
    /// Why polling, as last reported.
    polling: Option<String>,
}

impl Watch<'_> {
    fn run(&mut self) {
        if self.call(Wake::Start) == Flow::Stop {
            return;
        }
        while !self.cancel.is_cancelled() {
            let now = Instant::now();
            let until = self
                .schedule
                .next_deadline()
                .map_or(self.next_check, |d| d.min(self.next_check));
            let signals = self
                .inbox
                .wait(until.saturating_duration_since(now).min(TICK));
            if self.take(signals) == Flow::Stop {
                return;
            }
            let now = Instant::now();
            if now >= self.next_check && self.check_folder() == Flow::Stop {
                return;
            }
            match self.schedule.due(now) {
                Some(wake) => {
                    if self.call(wake) == Flow::Stop {
                        return;
                    }
                }
                None => self.report_quiet_state(),
            }
        }
    }

    /// Folds what notify saw into the schedule.
    fn take(&mut self, signals: Signals) -> Flow {
        if let Some(error) = &signals.error {
            tracing::debug!(folder = %self.root.display(), errors = signals.errors, "watch error: {error}");
        }
        if let (Some(first), Some(last)) = (signals.first, signals.last) {
            self.schedule
                .add(signals.changes, first, last, signals.lost);
        }
        if signals.limit && self.backend.as_ref().is_some_and(Backend::is_native) {
            // Some new subfolders could not be watched: poll the whole tree instead.
            self.backend = None;
            self.inbox.clear();
            let limit = || notify::Error::new(notify::ErrorKind::MaxFilesWatch);
            match self.open_with(|_, _| Err(limit())) {
                Ok(()) => self.schedule.lost(Instant::now()),
                Err(e) => return self.wait_for_folder(e.to_string()),
            }
        }
        if signals.root_gone {
            // Removed or renamed: the old watches died with it. A folder already back under the
            // same name (possibly with the same inode number) is watched anew.
            self.next_check = Instant::now() + CHECK_EVERY;
            return match folder::check(&self.root, self.parent.as_deref(), self.was_mount_point) {
                Health::Present(identity) => {
                    self.identity = identity;
                    self.rewatch("the folder was replaced".into())
                }
                Health::Missing(reason) => self.wait_for_folder(reason),
            };
        }
        if signals.root {
            return self.check_folder();
        }
        Flow::Go
    }

    fn open_backend(&mut self) -> Result<()> {
        self.open_with(backend::native)
    }

    fn open_with(
        &mut self,
        open: impl FnOnce(&Path, crate::inbox::Sink) -> notify::Result<notify::RecommendedWatcher>,
    ) -> Result<()> {
        let (backend, notice) =
            backend::open(&self.root, self.config.poll, &self.inbox, &self.sieve, open)?;
        self.backend = Some(backend);
        // Once per reason: re-watching a replaced folder must not repeat the same notice.
        if let Some(WatchState::Polling { reason, .. }) = &notice {
            if self.polling.as_ref() != Some(reason) {
                self.polling = Some(reason.clone());
                if let Some(notice) = notice {
                    self.reporter.report(notice);
                }
            }
        }
        Ok(())
    }

    /// Checks the folder is still there and the same; waits for it when it is not.
    fn check_folder(&mut self) -> Flow {
        self.next_check = Instant::now() + CHECK_EVERY;
        match folder::check(&self.root, self.parent.as_deref(), self.was_mount_point) {
            Health::Present(identity) if identity == self.identity => Flow::Go,
            Health::Present(identity) => {
                // Replaced between two checks: the old watches died with the old folder.
                tracing::info!(folder = %self.root.display(), "the folder was replaced; watching the new one");
                self.identity = identity;
                self.rewatch(String::from("the folder was replaced"))
            }
            Health::Missing(reason) => self.wait_for_folder(reason),
        }
    }

    fn rewatch(&mut self, why: String) -> Flow {
        self.backend = None;
        self.inbox.clear();
        match self.open_backend() {
            Ok(()) => {
                self.schedule.lost(Instant::now());
                Flow::Go
            }
            Err(e) => self.wait_for_folder(format!("{why}, and cannot be watched: {e}")),
        }
    }

    /// The folder is gone: stop watching, re-check with backoff, watch it again when it is back.
    fn wait_for_folder(&mut self, mut reason: String) -> Flow {
        tracing::warn!(folder = %self.root.display(), "{reason}; waiting for it to return");
        self.backend = None;
        self.schedule.forget();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let delay = backoff(attempts);
            self.reporter.report(WatchState::Missing {
                reason: reason.clone(),
                retry_in: delay,
            });
            if self.sleep(delay) == Flow::Stop {
                return Flow::Stop;
            }
            match folder::check(&self.root, self.parent.as_deref(), self.was_mount_point) {
                Health::Missing(still) => reason = still,
                Health::Present(identity) => {
                    self.inbox.clear();
                    match self.open_backend() {
                        Ok(()) => {
                            tracing::info!(folder = %self.root.display(), "the folder is back");
                            self.identity = identity;
                            self.next_check = Instant::now() + CHECK_EVERY;
                            // What happened while it was away is unknown: rescan once quiet.
                            self.schedule.lost(Instant::now());
                            return Flow::Go;
                        }
                        Err(e) => reason = format!("the folder cannot be watched: {e}"),
                    }
                }
            }
        }
    }

    /// Sleeps `delay` in ticks, returning early on cancel.
    fn sleep(&self, delay: Duration) -> Flow {
        let end = Instant::now() + delay;
        loop {
            if self.cancel.is_cancelled() {
                return Flow::Stop;
            }
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Flow::Go;
            }
            std::thread::sleep(left.min(TICK));
        }
    }

    fn call(&mut self, wake: Wake) -> Flow {
        // Never hand a missing folder to the handler: it would scan as empty.
        if self.check_folder() == Flow::Stop {
            return Flow::Stop;
        }
        if wake != Wake::Start && self.schedule.due(Instant::now()).is_none() {
            // The folder came back or was replaced while checking: its rescan waits for quiet.
            return Flow::Go;
        }
        let batch = self.schedule.take();
        tracing::info!(folder = %self.root.display(), wake = wake.as_str(), events = batch.events, "scanning");
        self.reporter.report(WatchState::Versioning { wake });
        let result = (self.handler)(wake);
        let now = Instant::now();
        match result {
            Ok(Outcome::Done) => self.schedule.done(now),
            Ok(Outcome::Unstable { retry_after }) => {
                self.schedule.unstable(now, retry_after);
                self.reporter.report(WatchState::Waiting {
                    reason: "some files were still changing".into(),
                    retry_in: retry_after,
                });
            }
            Err(_) if self.cancel.is_cancelled() => return Flow::Stop,
            Err(e) => {
                // A scan that failed because the folder vanished under it is a missing folder,
                // not a failed version.
                let health =
                    folder::check(&self.root, self.parent.as_deref(), self.was_mount_point);
                if let Health::Missing(reason) = health {
                    return self.wait_for_folder(reason);
                }
                let retry_in = self.schedule.failed(now);
                tracing::warn!(folder = %self.root.display(), code = e.code(), "the scan failed: {e}; retrying in {retry_in:?}");
                self.reporter.report(WatchState::Failed {
                    reason: e.to_string(),
                    kind: e.kind(),
                    retry_in,
                });
            }
        }
        if self.cancel.is_cancelled() {
            Flow::Stop
        } else {
            Flow::Go
        }
    }

    /// Between calls: pending changes, or idle. A scheduled retry keeps its own state shown.
    fn report_quiet_state(&mut self) {
        if let Some((since, events)) = self.schedule.pending() {
            self.reporter.report(WatchState::Pending { since, events });
        } else if !self.schedule.retrying() {
            self.reporter.report(WatchState::Idle);
        }
    }
}

/// Calls `on_state` when the state changes; a pending count at most once a second.
struct Reporter<'a> {
    on_state: &'a mut dyn FnMut(WatchState),
    last: Option<WatchState>,
    last_at: Instant,
}

impl<'a> Reporter<'a> {
    fn new(on_state: &'a mut dyn FnMut(WatchState)) -> Self {
        Reporter {
            on_state,
            last: None,
            last_at: Instant::now(),
        }
    }

    fn report(&mut self, state: WatchState) {
        let now = Instant::now();
        let repeat = match (&self.last, &state) {
            (Some(WatchState::Idle), WatchState::Idle) => true,
            (
                Some(WatchState::Pending {
                    since: was,
                    events: had,
                }),
                WatchState::Pending { since, events },
            ) => {
                was == since
                    && (had == events || now.duration_since(self.last_at) < PENDING_REPORT_EVERY)
            }
            // Every call, failure and re-check is news, even if it reads like the last one.
            _ => false,
        };
        if repeat {
            return;
        }
        self.last = Some(state.clone());
        self.last_at = now;
        (self.on_state)(state);
    }
}
