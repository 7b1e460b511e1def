//! Where notify's thread leaves what it saw, in constant memory.
//!
//! Events are not queued: notify's thread classifies each one ([`Sieve`]) and folds it into a few
//! counters and timestamps ([`Signals`]) that the watch loop takes whenever it wakes. A queue of
//! events would grow without bound while the handler runs (a scan can take minutes, a copy can
//! write 100,000 files meanwhile); counters cannot, and they are all the timing needs.

use std::mem;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode, ModifyKind};
use notify::{ErrorKind, Event, EventKind};

use crate::config::Ignore;

/// What one event or error means for the timing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Note {
    /// Something in the folder changed.
    pub change: bool,
    /// Events may have been lost: the next wake must be a full rescan.
    pub lost: bool,
    /// The event names the watched folder itself (changed, unreadable): check it now.
    pub root: bool,
    /// The watched folder itself was removed or renamed: its watches are gone even if a folder
    /// of the same name (and maybe the same inode number) is already back.
    pub root_gone: bool,
    /// The native watcher hit the system's watch limit: some folders are not watched.
    pub limit: bool,
    /// An error's text, for the log.
    pub error: Option<String>,
}

impl Note {
    fn is_nothing(&self) -> bool {
        !self.change
            && !self.lost
            && !self.root
            && !self.root_gone
            && !self.limit
            && self.error.is_none()
    }
}

/// Sorts notify's events: which matter, which name the folder itself, which are ignored.
#[derive(Clone)]
pub(crate) struct Sieve {
    root: PathBuf,
    /// The folder's real path: FSEvents reports `/private/var/...` for `/var/...`.
    canonical: Option<PathBuf>,
    ignore: Option<Ignore>,
}

impl Sieve {
    pub fn new(root: &Path, ignore: Option<Ignore>) -> Self {
        let canonical = std::fs::canonicalize(root).ok().filter(|c| c != root);
        Sieve {
            root: root.to_path_buf(),
            canonical,
            ignore,
        }
    }

    fn relative<'p>(&self, path: &'p Path) -> Option<&'p Path> {
        path.strip_prefix(&self.root).ok().or_else(|| {
            self.canonical
                .as_deref()
                .and_then(|c| path.strip_prefix(c).ok())
        })
    }

    fn is_root(&self, path: &Path) -> bool {
        self.relative(path)
            .is_some_and(|r| r.as_os_str().is_empty())
    }

    fn is_ignored(&self, ignore: &Ignore, path: &Path) -> bool {
        // A path outside the folder (a stale name after a move) is never ignored: better a
        // needless scan than a missed one.
        self.relative(path)
            .is_some_and(|r| !r.as_os_str().is_empty() && ignore(r))
    }

    /// What `event` means. `polling`: the event comes from the poll watcher, whose errors are
    /// about single paths it could not stat and lose nothing (it walks the whole tree again at
    /// the next interval), whereas a native watcher's error may have dropped events.
    pub fn classify(&self, event: &notify::Result<Event>, polling: bool) -> Note {
        match event {
            Err(error) => {
                let limit = matches!(error.kind, ErrorKind::MaxFilesWatch);
                let root = error.paths.iter().any(|p| self.is_root(p))
                    || (error.paths.is_empty() && matches!(error.kind, ErrorKind::PathNotFound));
                Note {
                    change: false,
                    lost: limit || !polling,
                    root,
                    root_gone: false,
                    limit,
                    error: Some(error.to_string()),
                }
            }
            Ok(event) => {
                if event.need_rescan() {
                    return Note {
                        change: true,
                        lost: true,
                        ..Note::default()
                    };
                }
                // Opening and reading change nothing, and the handler's own scan reads every
                // changed file: counting reads would wake the watcher after each version, for
                // ever. A close after writing is kept (the writer just finished).
                if let EventKind::Access(kind) = event.kind {
                    if kind != AccessKind::Close(AccessMode::Write) {
                        return Note::default();
                    }
                }
                let root = event.paths.iter().any(|p| self.is_root(p));
                if !root && !event.paths.is_empty() {
                    if let Some(ignore) = &self.ignore {
                        if event.paths.iter().all(|p| self.is_ignored(ignore, p)) {
                            return Note::default();
                        }
                    }
                }
                let root_gone = root
                    && matches!(
                        event.kind,
                        EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
                    );
                Note {
                    change: true,
                    root,
                    root_gone,
                    ..Note::default()
                }
            }
        }
    }
}

/// What arrived since the watch loop last looked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Signals {
    /// Relevant events (after filtering).
    pub changes: u64,
    /// When the first and the latest of them (or of the losses) arrived.
    pub first: Option<Instant>,
    pub last: Option<Instant>,
    pub lost: bool,
    pub root: bool,
    pub root_gone: bool,
    pub limit: bool,
    /// How many errors, and the latest one's text.
    pub errors: u64,
    pub error: Option<String>,
}

impl Signals {
    fn is_empty(&self) -> bool {
        self.first.is_none() && !self.root && !self.root_gone && !self.limit && self.errors == 0
    }

    fn add(&mut self, note: Note, now: Instant) {
        if note.change || note.lost {
            self.first.get_or_insert(now);
            self.last = Some(now);
        }
        if note.change {
            self.changes += 1;
        }
        self.lost |= note.lost;
        self.root |= note.root;
        self.root_gone |= note.root_gone;
        self.limit |= note.limit;
        if let Some(error) = note.error {
            self.errors += 1;
            self.error = Some(error);
        }
    }
}

/// Shared between notify's thread (which records) and the watch loop (which takes).
#[derive(Default)]
pub(crate) struct Inbox {
    signals: Mutex<Signals>,
    arrived: Condvar,
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, Signals> {
        // Nothing panics while holding the lock; if something did, the counters are still valid.
        self.signals.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn record(&self, note: Note) {
        if note.is_nothing() {
            return;
        }
        let now = Instant::now();
        let mut signals = self.lock();
        let was_empty = signals.is_empty();
        signals.add(note, now);
        drop(signals);
        // Wake the loop once per batch, not once per event of a burst.
        if was_empty {
            self.arrived.notify_one();
        }
    }

    /// What arrived, waiting up to `timeout` for something if nothing has yet.
    pub fn wait(&self, timeout: Duration) -> Signals {
        let mut signals = self.lock();
        if signals.is_empty() && !timeout.is_zero() {
            signals = self
                .arrived
                .wait_timeout(signals, timeout)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        mem::take(&mut *signals)
    }

    /// Forgets what arrived (from a watcher that is being replaced).
    pub fn clear(&self) {
        *self.lock() = Signals::default();
    }
}

/// notify's event handler: classify, then record.
pub(crate) struct Sink {
    pub inbox: Arc<Inbox>,
    pub sieve: Sieve,
    pub polling: bool,
}

impl notify::EventHandler for Sink {
    fn handle_event(&mut self, event: notify::Result<Event>) {
        self.inbox.record(self.sieve.classify(&event, self.polling));
    }
}

#[cfg(test)]
mod tests {
    use notify::event::{CreateKind, DataChange, Flag, RemoveKind};

    use super::*;

    fn sieve() -> Sieve {
        Sieve::new(
            Path::new("/watched"),
            Some(Arc::new(|p: &Path| {
                p.starts_with("cache") || p.extension().is_some_and(|e| e == "tmp")
            })),
        )
    }

    fn event(kind: EventKind, paths: &[&str]) -> notify::Result<Event> {
        let mut event = Event::new(kind);
        for p in paths {
            event = event.add_path(PathBuf::from(p));
        }
        Ok(event)
    }

    const WRITE: EventKind = EventKind::Modify(ModifyKind::Data(DataChange::Any));

    #[test]
    fn reads_are_not_changes_but_a_finished_write_is() {
        let s = sieve();
        let open = event(
            EventKind::Access(AccessKind::Open(AccessMode::Any)),
            &["/watched/a"],
        );
        assert_eq!(s.classify(&open, false), Note::default());
        let read = event(
            EventKind::Access(AccessKind::Close(AccessMode::Read)),
            &["/watched/a"],
        );
        assert_eq!(s.classify(&read, false), Note::default());
        let closed = event(
            EventKind::Access(AccessKind::Close(AccessMode::Write)),
            &["/watched/a"],
        );
        assert!(s.classify(&closed, false).change);
    }

    #[test]
    fn an_event_is_dropped_only_when_every_path_is_ignored() {
        let s = sieve();
        assert!(!s.classify(&event(WRITE, &["/watched/x.tmp"]), false).change);
        assert!(
            !s.classify(&event(WRITE, &["/watched/cache/deep/f"]), false)
                .change
        );
        assert!(
            !s.classify(
                &event(EventKind::Create(CreateKind::Folder), &["/watched/cache"]),
                false
            )
            .change
        );
        // An editor's save: a temporary renamed over the real name.
        let rename = event(
            EventKind::Modify(ModifyKind::Name(notify::event::RenameMode::Both)),
            &["/watched/labels.csv.tmp", "/watched/labels.csv"],
        );
        assert!(s.classify(&rename, false).change);
        // Outside the folder (a stale name): never ignored.
        assert!(
            s.classify(&event(WRITE, &["/elsewhere/x.tmp"]), false)
                .change
        );
        // No path at all: cannot be ignored.
        assert!(s.classify(&event(WRITE, &[]), false).change);
    }

    #[test]
    fn the_folder_itself_is_flagged() {
        let s = sieve();
        let gone = s.classify(
            &event(EventKind::Remove(RemoveKind::Folder), &["/watched"]),
            false,
        );
        assert!(gone.root && gone.root_gone && gone.change);
        let chmod = EventKind::Modify(ModifyKind::Metadata(notify::event::MetadataKind::Any));
        let touched = s.classify(&event(chmod, &["/watched"]), false);
        assert!(touched.root && !touched.root_gone);
        assert!(!s.classify(&event(WRITE, &["/watched/a"]), false).root);
    }

    #[test]
    fn overflow_and_errors_mean_lost_events() {
        let s = sieve();
        let overflow = Ok(Event::new(EventKind::Other).set_flag(Flag::Rescan));
        let note = s.classify(&overflow, false);
        assert!(note.lost && note.change);

        let limit = Err(notify::Error::new(ErrorKind::MaxFilesWatch));
        let note = s.classify(&limit, false);
        assert!(note.limit && note.lost);

        let io = Err(notify::Error::io(std::io::Error::other("read failed")));
        assert!(s.classify(&io, false).lost);
        // The poller walks everything again next time: a file it could not stat loses nothing.
        let stat = Err(notify::Error::path_not_found().add_path("/watched/a".into()));
        let note = s.classify(&stat, true);
        assert!(!note.lost && !note.root && note.error.is_some());
        // ... but the folder itself missing is worth a look at once.
        let root = Err(notify::Error::path_not_found().add_path("/watched".into()));
        assert!(s.classify(&root, true).root);
    }

    #[test]
    fn a_burst_is_three_numbers_not_a_queue() {
        let inbox = Inbox::default();
        let s = sieve();
        for i in 0..100_000 {
            let path = format!("/watched/f{i}");
            inbox.record(s.classify(&event(WRITE, &[&path]), false));
        }
        let signals = inbox.wait(Duration::ZERO);
        assert_eq!(signals.changes, 100_000);
        assert!(signals.first <= signals.last && signals.first.is_some());
        assert!(!signals.lost);
        assert_eq!(inbox.wait(Duration::ZERO), Signals::default());
    }
}
