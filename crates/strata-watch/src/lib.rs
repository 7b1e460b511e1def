//! When a watched folder should become a version.
//!
//! This crate is the timing half of folder-watch sync: it decides *when* the engine should look at
//! a folder again, never *what* changed. The engine hands [`run`] a handler that re-scans the
//! folder through its stat cache and makes a version if anything differs; this crate calls it at
//! the right moments and reports what it is doing through a [`WatchState`] callback, so the CLI
//! and the app can show "idle / changes pending / versioning / error" live. It knows nothing of
//! Tauri, the catalog or the store.
//!
//! Why raw events are only a wake-up call:
//! - the kernel's queue overflows under bursts, and events for a folder created a moment before
//!   its watch was added are never seen; a scan is the only truth, so a wake always means "scan
//!   everything again" and the [`Wake`] variant only says why (for logs and the UI);
//! - keeping per-path state would grow with the folder; here the watcher keeps a few counters and
//!   timestamps, so a burst of 100,000 events costs no memory (see `inbox.rs`);
//! - a labelling tool writes in bursts and a copy can run for minutes: versions are taken once the
//!   folder has been quiet for [`WatchConfig::quiet_for`], or after [`WatchConfig::max_wait`] if
//!   writing never stops, so a folder never goes unversioned forever.
//!
//! The native backend (inotify, FSEvents, ReadDirectoryChangesW) is used when it starts; when it
//! cannot (the inotify limit, an unsupported filesystem), the watcher polls instead and says so
//! once with the fix. A folder that disappears (deleted, moved, its drive unmounted) is never
//! handed to the handler as if it were empty: the watcher reports it, re-checks with backoff and
//! watches it again when it returns.

mod backend;
mod config;
mod folder;
mod inbox;
mod schedule;
mod state;
mod watch;

pub use config::{Ignore, WatchConfig};
pub use state::{Outcome, Wake, WatchState};
pub use watch::run;
