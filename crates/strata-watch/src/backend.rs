//! The notify watcher behind the loop: native when it starts, polling when it cannot.
//!
//! The native watcher fails to start mostly on Linux, when the per-user inotify limits are
//! reached (one watch per folder, and a dataset can have tens of thousands). Failing the whole
//! watch would leave the folder unversioned; polling is slower and costs a walk of the tree every
//! interval, but it works everywhere, so the watcher falls back and says once how to fix it.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notify::{PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};
use strata_core::{Error, Result};

use crate::inbox::{Inbox, Sieve, Sink};
use crate::state::WatchState;

/// The polling interval when polling is a fallback rather than asked for.
pub(crate) const FALLBACK_POLL: Duration = Duration::from_secs(2);

/// Owns the notify watcher; dropping it stops watching.
pub(crate) enum Backend {
    // Held only to keep the watch alive.
    Native(#[allow(dead_code)] RecommendedWatcher),
    Poll(#[allow(dead_code)] PollWatcher),
}

impl Backend {
    pub fn is_native(&self) -> bool {
        matches!(self, Backend::Native(_))
    }
}

/// Starts a native watcher on `root`, recursively (new subfolders are watched as they appear).
pub(crate) fn native(root: &Path, sink: Sink) -> notify::Result<RecommendedWatcher> {
    let mut watcher = RecommendedWatcher::new(sink, notify::Config::default())?;
    watcher.watch(root, RecursiveMode::Recursive)?;
    Ok(watcher)
}

fn poll(root: &Path, sink: Sink, interval: Duration) -> Result<PollWatcher> {
    let config = notify::Config::default().with_poll_interval(interval);
    let mut watcher = PollWatcher::new(sink, config)
        .map_err(|e| Error::Unavailable(format!("cannot poll '{}': {e}", root.display())))?;
    watcher
        .watch(root, RecursiveMode::Recursive)
        .map_err(|e| Error::Unavailable(format!("cannot poll '{}': {e}", root.display())))?;
    Ok(watcher)
}

/// Opens the backend for `root`: polling when `asked` holds an interval, else the watcher `open`
/// starts (the native one; tests pass one that fails), else polling every [`FALLBACK_POLL`].
/// Returns the notice to report when polling.
pub(crate) fn open(
    root: &Path,
    asked: Option<Duration>,
    inbox: &Arc<Inbox>,
    sieve: &Sieve,
    open: impl FnOnce(&Path, Sink) -> notify::Result<RecommendedWatcher>,
) -> Result<(Backend, Option<WatchState>)> {
    let sink = |polling| Sink {
        inbox: Arc::clone(inbox),
        sieve: sieve.clone(),
        polling,
    };
    if let Some(interval) = asked {
        let watcher = poll(root, sink(true), interval)?;
        let notice = WatchState::Polling {
            reason: "polling was asked for".into(),
            interval,
        };
        return Ok((Backend::Poll(watcher), Some(notice)));
    }
    match open(root, sink(false)) {
        Ok(watcher) => Ok((Backend::Native(watcher), None)),
        Err(e) => {
            let reason = fallback_reason(&e);
            tracing::warn!(folder = %root.display(), "{reason}; polling every {FALLBACK_POLL:?}");
            // The failed watcher may have recorded errors on its way down; they are not changes.
            inbox.clear();
            let watcher = poll(root, sink(true), FALLBACK_POLL)?;
            let notice = WatchState::Polling {
                reason,
                interval: FALLBACK_POLL,
            };
            Ok((Backend::Poll(watcher), Some(notice)))
        }
    }
}

/// Why the native watcher is not used, with the fix when there is one.
pub(crate) fn fallback_reason(error: &notify::Error) -> String {
    if is_watch_limit(error) {
        return limit_reason();
    }
    #[cfg(target_os = "linux")]
    if let notify::ErrorKind::Io(io) = &error.kind {
        if io.raw_os_error() == Some(libc::EMFILE) {
            return "the system's limit on inotify instances was reached; raise it with \
                    `sudo sysctl fs.inotify.max_user_instances=1024` (and add that setting to \
                    /etc/sysctl.conf to keep it)"
                .into();
        }
    }
    format!("the native file watcher could not start ({error})")
}

fn is_watch_limit(error: &notify::Error) -> bool {
    match &error.kind {
        notify::ErrorKind::MaxFilesWatch => true,
        #[cfg(target_os = "linux")]
        notify::ErrorKind::Io(io) => io.raw_os_error() == Some(libc::ENOSPC),
        _ => false,
    }
}

/// The watch limit, and how to raise it.
pub(crate) fn limit_reason() -> String {
    if cfg!(target_os = "linux") {
        "the system's limit on watched folders was reached; raise it with \
         `sudo sysctl fs.inotify.max_user_watches=524288` (and add that setting to \
         /etc/sysctl.conf to keep it)"
            .into()
    } else {
        "the system's limit on watched folders was reached".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inotify_limit_falls_back_to_polling_with_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let inbox = Arc::new(Inbox::default());
        let sieve = Sieve::new(tmp.path(), None);
        let (backend, notice) = open(tmp.path(), None, &inbox, &sieve, |_, _| {
            Err(notify::Error::new(notify::ErrorKind::MaxFilesWatch))
        })
        .unwrap();
        assert!(!backend.is_native());
        let Some(WatchState::Polling { reason, interval }) = notice else {
            panic!("polling is reported, got {notice:?}");
        };
        assert_eq!(interval, FALLBACK_POLL);
        if cfg!(target_os = "linux") {
            assert!(
                reason.contains("sysctl fs.inotify.max_user_watches="),
                "{reason}"
            );
        }
    }

    #[test]
    fn any_native_failure_falls_back() {
        let tmp = tempfile::tempdir().unwrap();
        let inbox = Arc::new(Inbox::default());
        let sieve = Sieve::new(tmp.path(), None);
        let (backend, notice) = open(tmp.path(), None, &inbox, &sieve, |_, _| {
            Err(notify::Error::generic("unsupported filesystem"))
        })
        .unwrap();
        assert!(!backend.is_native());
        assert!(
            matches!(notice, Some(WatchState::Polling { reason, .. }) if reason.contains("unsupported filesystem"))
        );
    }

    #[test]
    fn the_native_watcher_is_used_when_it_starts() {
        let tmp = tempfile::tempdir().unwrap();
        let inbox = Arc::new(Inbox::default());
        let sieve = Sieve::new(tmp.path(), None);
        let (backend, notice) = open(tmp.path(), None, &inbox, &sieve, native).unwrap();
        assert!(backend.is_native());
        assert_eq!(notice, None);
    }
}
