//! What the handler is told, what it answers, and what a front end is shown.

use std::time::{Duration, Instant};

use strata_core::error::Kind;

/// Why the handler is called. Every wake means the same thing, "scan the folder again", since
/// raw events are never trusted as the list of changes; the variant is for logs and the UI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Wake {
    /// The watcher just started: catch up with what changed while it was not running.
    Start,
    /// Changes arrived and the folder has been quiet for `quiet_for`.
    Quiet,
    /// Changes keep arriving; `max_wait` has passed since the first one not yet handled.
    MaxWait,
    /// Events may have been lost (a queue overflow, a rescan flag, a watch error, the folder
    /// coming back, a switch to polling); fired once the folder is quiet, like `Quiet`.
    Rescan,
    /// Nothing happened for `rescan_every`: a safety net for changes no event reported.
    Periodic,
    /// The previous call asked to be called again ([`Outcome::Unstable`]) or failed.
    Retry,
}

impl Wake {
    pub fn as_str(self) -> &'static str {
        match self {
            Wake::Start => "start",
            Wake::Quiet => "quiet",
            Wake::MaxWait => "max_wait",
            Wake::Rescan => "rescan",
            Wake::Periodic => "periodic",
            Wake::Retry => "retry",
        }
    }
}

/// What the handler answers when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The folder was scanned (and a version made if anything changed).
    Done,
    /// Some files were still being written and were left for next time: call again after
    /// `retry_after` even if no event arrives. New events replace this with the usual quiet wait.
    Unstable { retry_after: Duration },
}

/// What the watcher is doing, reported whenever it changes (and, while changes are pending, at
/// most once a second with the updated count).
#[derive(Clone, Debug, PartialEq)]
pub enum WatchState {
    /// Watching; nothing to do.
    Idle,
    /// Changes were seen since `since`; waiting for the folder to go quiet.
    Pending { since: Instant, events: u64 },
    /// The handler is running.
    Versioning { wake: Wake },
    /// Some files were still changing; the handler runs again in `retry_in` (or after the next
    /// quiet window if events arrive first).
    Waiting { reason: String, retry_in: Duration },
    /// The handler failed; it runs again in `retry_in` (2 s, doubling up to 60 s), or after the
    /// next quiet window if events arrive first. `kind` is the error's class, for the UI to
    /// branch on (log in again, free disk space, ...).
    Failed {
        reason: String,
        kind: Kind,
        retry_in: Duration,
    },
    /// The folder is gone (deleted, moved away, its drive unmounted) or unreadable; it is
    /// checked again in `retry_in` and watched again when it returns. The handler is not called
    /// meanwhile.
    Missing { reason: String, retry_in: Duration },
    /// A notice, sent once when polling starts: why, and every how often. `reason` carries the
    /// fix when there is one (raising the inotify limit). The usual states follow.
    Polling { reason: String, interval: Duration },
}

impl WatchState {
    /// Whether a front end should show this as an error.
    pub fn is_error(&self) -> bool {
        matches!(self, WatchState::Failed { .. } | WatchState::Missing { .. })
    }
}
