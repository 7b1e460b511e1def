//! Watched folders while the app is open: one background thread runs every active watch
//! (`Engine::run_watches`, which picks up adds, pauses and removes within a few seconds), and what
//! the watches say reaches the window as app-wide events: `watch://state` when a watch's state
//! changes, and for each version made `catalog://changed` plus a notice. The engine knows nothing
//! of Tauri; [`WindowEvents`] maps its `WatchEvents` to events, and [`WatchBoard`] remembers
//! what was said so that a watch retried every few seconds (one a `strata watch run` service
//! runs) is announced once, not every time.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use strata_core::error::Kind;
use strata_core::Cancel;
use strata_engine::{Engine, WatchEvents, WatchInfo, WatchState, WatchVersion};
use tauri::{AppHandle, Emitter, Manager, Runtime};

use crate::dto::{PendingDto, WatchDto, WatchPhase, WatchStateDto};
use crate::tasks::{changed, news, notice};
use crate::{alerts, tray};

/// How long the runner waits before starting again when it stopped on an error (the catalog
/// could not be read).
const RESTART_AFTER: Duration = Duration::from_secs(10);

/// What the app's runner last said of each watched folder, by folder.
#[derive(Default)]
pub struct WatchBoard {
    seen: Mutex<HashMap<String, Seen>>,
}

#[derive(Default)]
struct Seen {
    /// The state last sent: the same again is not sent.
    sent: Option<WatchStateDto>,
    /// What a notice last said of a failure (or of polling): said again only when it changes,
    /// or once a version has been made since.
    noticed: Option<String>,
    /// The pending changes last counted, and when: the page redraws on every state change, a
    /// count reads the whole folder.
    counted: Option<(Instant, Option<PendingDto>)>,
}

/// How long a count of pending changes is shown before the folder is read again.
const COUNT_EVERY: Duration = Duration::from_secs(5);

/// What the window hears of one state a watch reported.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Tell {
    pub state: WatchStateDto,
    pub notice: Option<String>,
    /// The phase differs from the last one told (not just the count of pending changes).
    pub new_phase: bool,
}

/// Whether a failure says another process runs the watch. The engine refuses to run one folder's
/// watch twice ("'…' is watched by another process: …", a conflict) and `run_watches` tries
/// again every few seconds: the usual life of a watch that a `strata watch run` service runs,
/// not an error.
fn runs_elsewhere(kind: Kind, reason: &str) -> bool {
    kind == Kind::Conflict && reason.contains("is watched by another process")
}

fn phase(folder: &Path, state: &WatchState) -> WatchStateDto {
    let (state, reason, pending, kind) = match state {
        WatchState::Idle => (WatchPhase::Idle, None, 0, None),
        WatchState::Pending { events, .. } => (WatchPhase::Pending, None, *events, None),
        WatchState::Versioning { .. } => (WatchPhase::Versioning, None, 0, None),
        WatchState::Waiting { reason, .. } => (WatchPhase::Waiting, Some(reason.clone()), 0, None),
        WatchState::Polling { reason, interval } => (
            WatchPhase::Polling,
            Some(format!(
                "{reason} (looking every {} s)",
                interval.as_secs_f64()
            )),
            0,
            None,
        ),
        WatchState::Missing { reason, .. } => (WatchPhase::Missing, Some(reason.clone()), 0, None),
        WatchState::Failed { reason, kind, .. } if runs_elsewhere(*kind, reason) => {
            (WatchPhase::Elsewhere, Some(reason.clone()), 0, None)
        }
        WatchState::Failed { reason, kind, .. } => (
            WatchPhase::Error,
            Some(reason.clone()),
            0,
            Some((*kind).into()),
        ),
    };
    WatchStateDto {
        folder: folder.display().to_string(),
        state,
        reason,
        pending,
        kind,
    }
}

/// "vision/cats@1.0.3: 12 added, 3 modified (watched folder)".
fn version_words(v: &WatchVersion) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (v.added, "added"),
        (v.modified, "modified"),
        (v.removed, "removed"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if parts.is_empty() {
        parts.push("no changes".into());
    }
    let held = match v.held_back {
        0 => String::new(),
        n => format!("; {n} still being written, left for the next version"),
    };
    format!(
        "{}@{}: {}{held} (watched folder)",
        v.dataset,
        v.semver,
        parts.join(", ")
    )
}

impl WatchBoard {
    fn with<T>(&self, folder: &str, f: impl FnOnce(&mut Seen) -> T) -> Option<T> {
        match self.seen.lock() {
            Ok(mut seen) => Some(f(seen.entry(folder.to_string()).or_default())),
            Err(_) => None,
        }
    }

    /// What to tell the window of `state`, or nothing when it says nothing new.
    pub(crate) fn on_state(&self, folder: &Path, state: &WatchState) -> Option<Tell> {
        let dto = phase(folder, state);
        self.with(&dto.folder.clone(), |seen| {
            if seen.sent.as_ref() == Some(&dto) {
                return None;
            }
            let said = match (dto.state, &dto.reason) {
                (WatchPhase::Error | WatchPhase::Missing, Some(reason)) => {
                    Some(format!("Watched folder {}: {reason}", dto.folder))
                }
                (WatchPhase::Polling, Some(reason)) => {
                    Some(format!("Watching {} by polling: {reason}", dto.folder))
                }
                _ => None,
            };
            let notice = match said {
                Some(s) if seen.noticed.as_ref() != Some(&s) => {
                    seen.noticed = Some(s.clone());
                    Some(s)
                }
                _ => None,
            };
            let new_phase = seen.sent.as_ref().map(|s| s.state) != Some(dto.state);
            seen.sent = Some(dto.clone());
            Some(Tell {
                state: dto,
                notice,
                new_phase,
            })
        })
        .flatten()
    }

    /// The notice for a version a watch made; a failure after it is told again.
    pub(crate) fn on_version(&self, folder: &Path, v: &WatchVersion) -> String {
        self.with(&folder.display().to_string(), |seen| {
            seen.noticed = None;
            seen.counted = None;
        });
        version_words(v)
    }

    /// The pending changes of `folder`, counted by `count` unless a count younger than
    /// [`COUNT_EVERY`] is at hand.
    pub(crate) fn changes(
        &self,
        folder: &str,
        count: impl FnOnce() -> Option<PendingDto>,
    ) -> Option<PendingDto> {
        let fresh = self
            .with(folder, |seen| {
                seen.counted
                    .filter(|(at, _)| at.elapsed() < COUNT_EVERY)
                    .map(|(_, c)| c)
            })
            .flatten();
        if let Some(c) = fresh {
            return c;
        }
        let c = count();
        self.with(folder, |seen| seen.counted = Some((Instant::now(), c)));
        c
    }

    /// Forgets a folder (its watch was removed or added again).
    pub(crate) fn forget(&self, folder: &str) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.remove(folder);
        }
    }

    fn last(&self, folder: &str) -> Option<WatchStateDto> {
        self.seen
            .lock()
            .ok()
            .and_then(|seen| seen.get(folder).and_then(|s| s.sent.clone()))
    }

    /// A watch for the page: the catalog's record, with the live state this app's runner heard
    /// (which also knows failures the catalog never records, a folder that cannot be opened) and
    /// who runs it when another process does. `newest` is its dataset's newest version.
    pub(crate) fn dto(&self, info: WatchInfo, newest: Option<String>) -> WatchDto {
        let w = info.watch;
        let last = self.last(&w.folder);
        let elsewhere = match (&last, &info.running) {
            (Some(s), Some(who)) if s.state == WatchPhase::Elsewhere => Some(who.clone()),
            _ => None,
        };
        // Another process keeps the catalog's state up to date; so does this app's runner, but
        // only the runner hears a watch that failed to start.
        let (state, reason, pending, kind) = match last {
            Some(s) if elsewhere.is_none() && !w.paused && s.state != WatchPhase::Elsewhere => {
                (s.state, s.reason, s.pending, s.kind)
            }
            _ => (WatchPhase::of_catalog(&w.state), w.reason, w.pending, None),
        };
        WatchDto {
            id: w.id,
            folder: w.folder,
            dataset: w.dataset,
            quiet_ms: w.quiet_ms,
            max_wait_ms: w.max_wait_ms,
            poll_ms: w.poll_ms,
            upload: w.upload,
            paused: w.paused,
            state,
            reason,
            pending,
            changes: None,
            kind,
            running: info.running.is_some(),
            elsewhere,
            last_version: w.last_version,
            newest_version: newest,
            updated_at: w.updated_at,
        }
    }
}

/// The watches' news as window events.
struct WindowEvents<R: Runtime> {
    app: AppHandle<R>,
    board: Arc<WatchBoard>,
}

impl<R: Runtime> WatchEvents for WindowEvents<R> {
    fn state(&self, folder: &Path, state: &WatchState) {
        if let Some(tell) = self.board.on_state(folder, state) {
            tracing::debug!(folder = %tell.state.folder, state = ?tell.state.state, "watch state");
            let _ = self.app.emit("watch://state", &tell.state);
            if let Some(message) = tell.notice {
                alerts::desktop(&self.app, "Watched folder needs attention", &message);
                notice(&self.app, message);
            }
            // A new count of pending changes is not worth a catalog read; a new phase is.
            if tell.new_phase {
                tray::refresh(&self.app);
            }
        }
    }

    fn offline(&self) -> bool {
        self.app
            .try_state::<crate::tasks::AppState>()
            .is_some_and(|s| s.is_offline())
    }

    fn version(&self, folder: &Path, v: &WatchVersion) {
        changed(&self.app, Some(v.dataset.clone()), Some(v.id.clone()));
        let words = self.board.on_version(folder, v);
        alerts::desktop(&self.app, "New version from a watched folder", &words);
        news(&self.app, words);
    }
}

/// The thread running the watches while the app is open.
pub struct WatchRunner {
    cancel: Cancel,
    done: Mutex<Option<Receiver<()>>>,
}

impl WatchRunner {
    /// Starts running every active watch of `home` on a thread of its own.
    pub fn start<R: Runtime>(app: AppHandle<R>, home: PathBuf, board: Arc<WatchBoard>) -> Self {
        let cancel = Cancel::new();
        let (tx, rx) = mpsc::channel();
        let stop = cancel.clone();
        let spawned = std::thread::Builder::new()
            .name("watches".into())
            .spawn(move || {
                run(&app, &home, board, &stop);
                let _ = tx.send(());
            });
        let done = match spawned {
            Ok(_) => Some(rx),
            Err(e) => {
                tracing::error!(%e, "could not start the watched folders' thread");
                None
            }
        };
        WatchRunner {
            cancel,
            done: Mutex::new(done),
        }
    }

    /// Stops every watch, waiting at most `patience` for them to finish what they are doing.
    pub fn stop(&self, patience: Duration) {
        self.cancel.cancel();
        let done = self.done.lock().ok().and_then(|mut d| d.take());
        if let Some(done) = done {
            if done.recv_timeout(patience).is_err() {
                tracing::warn!("the watched folders did not stop in time");
            }
        }
    }
}

fn run<R: Runtime>(app: &AppHandle<R>, home: &Path, board: Arc<WatchBoard>, cancel: &Cancel) {
    let events = WindowEvents {
        app: app.clone(),
        board,
    };
    let mut told: Option<String> = None;
    while !cancel.is_cancelled() {
        match Engine::run_watches(home, cancel, &events) {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(%e, "watched folders stopped; starting them again");
                let message = format!("Watched folders stopped: {e}. Trying again shortly.");
                if told.as_ref() != Some(&message) {
                    notice(app, message.clone());
                    told = Some(message);
                }
            }
        }
        let mut waited = Duration::ZERO;
        while waited < RESTART_AFTER && !cancel.is_cancelled() {
            std::thread::sleep(Duration::from_millis(100));
            waited += Duration::from_millis(100);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use strata_core::catalog::WatchRow;

    use super::*;

    fn failed(reason: &str, kind: Kind) -> WatchState {
        WatchState::Failed {
            reason: reason.into(),
            kind,
            retry_in: Duration::from_secs(3),
        }
    }

    const ELSEWHERE: &str = "'/data/cats' is watched by another process: 'watch' (pid 4242 of ann \
                             on ws1, since 2025-01-01 10:00)";

    #[test]
    fn a_watch_another_process_runs_is_told_once_and_never_as_an_error() {
        let board = WatchBoard::default();
        let folder = Path::new("/data/cats");
        let first = board
            .on_state(folder, &failed(ELSEWHERE, Kind::Conflict))
            .expect("the first refusal is told");
        assert_eq!(first.state.state, WatchPhase::Elsewhere);
        assert_eq!(first.notice, None, "running elsewhere is no failure");
        // The runner tries again every few seconds: nothing more reaches the window.
        for _ in 0..20 {
            assert_eq!(
                board.on_state(folder, &failed(ELSEWHERE, Kind::Conflict)),
                None
            );
        }
    }

    #[test]
    fn a_failure_is_noticed_once_per_reason_until_a_version_is_made() {
        let board = WatchBoard::default();
        let folder = Path::new("/data/cats");
        let down = failed("remote 'team' is unreachable", Kind::Unavailable);
        // Between two tries the watch saw more writing.
        let versioning = WatchState::Pending {
            since: Instant::now(),
            events: 1,
        };
        let t = board.on_state(folder, &down).unwrap();
        assert_eq!(t.state.kind, Some(crate::dto::ErrorKind::Unavailable));
        assert_eq!(
            t.notice.as_deref(),
            Some("Watched folder /data/cats: remote 'team' is unreachable")
        );
        // Retried with backoff: each try is a state change, but the same failure is not noticed
        // again.
        for _ in 0..5 {
            assert!(board.on_state(folder, &versioning).is_some());
            let again = board.on_state(folder, &down).unwrap();
            assert_eq!(again.notice, None);
        }
        // A different failure is.
        let full = failed("no space left on device", Kind::Unavailable);
        assert!(board.on_state(folder, &full).unwrap().notice.is_some());
        // After a version, the same failure is news again.
        let v = WatchVersion {
            id: "x".into(),
            dataset: "vision/cats".into(),
            semver: "1.0.3".into(),
            added: 12,
            modified: 3,
            removed: 0,
            held_back: 0,
            wake: "quiet",
        };
        assert_eq!(
            board.on_version(folder, &v),
            "vision/cats@1.0.3: 12 added, 3 modified (watched folder)"
        );
        assert!(board.on_state(folder, &versioning).is_some());
        assert!(board.on_state(folder, &full).unwrap().notice.is_some());
    }

    #[test]
    fn pending_counts_and_waits_are_states_not_notices() {
        let board = WatchBoard::default();
        let folder = Path::new("/data/cats");
        for events in 1..4 {
            let t = board
                .on_state(
                    folder,
                    &WatchState::Pending {
                        since: Instant::now(),
                        events,
                    },
                )
                .unwrap();
            assert_eq!((t.state.pending, t.notice), (events, None));
        }
        let waiting = WatchState::Waiting {
            reason: "2 files are still being written".into(),
            retry_in: Duration::from_secs(1),
        };
        assert_eq!(board.on_state(folder, &waiting).unwrap().notice, None);
    }

    fn row(folder: &str, state: &str, paused: bool) -> WatchRow {
        WatchRow {
            id: 7,
            folder: folder.into(),
            dataset: "vision/cats".into(),
            quiet_ms: 60_000,
            max_wait_ms: 600_000,
            poll_ms: None,
            upload: false,
            paused,
            created_at: 0,
            state: state.into(),
            reason: None,
            last_version: Some("vision/cats@1.0.2".into()),
            pending: 0,
            updated_at: None,
        }
    }

    #[test]
    fn the_page_shows_who_runs_a_watch_and_failures_the_catalog_never_saw() {
        let board = WatchBoard::default();
        let folder = "/data/cats";
        // Run by a service: its own state from the catalog, and who it is.
        board.on_state(Path::new(folder), &failed(ELSEWHERE, Kind::Conflict));
        let holder = "'watch' (pid 4242 of ann on ws1, since 2025-01-01 10:00)";
        let d = board.dto(
            WatchInfo {
                watch: row(folder, "pending", false),
                running: Some(holder.into()),
                changes: None,
            },
            Some("vision/cats@1.0.3".into()),
        );
        assert_eq!(d.elsewhere.as_deref(), Some(holder));
        assert_eq!(d.state, WatchPhase::Pending);
        assert_eq!(d.newest_version.as_deref(), Some("vision/cats@1.0.3"));

        // A folder that cannot be opened: only the runner heard it.
        board.forget(folder);
        board.on_state(
            Path::new(folder),
            &failed(
                "cannot read '/data/cats': permission denied",
                Kind::Internal,
            ),
        );
        let d = board.dto(
            WatchInfo {
                watch: row(folder, "idle", false),
                running: None,
                changes: None,
            },
            None,
        );
        assert_eq!(
            (d.state, d.elsewhere, d.running),
            (WatchPhase::Error, None, false)
        );
        assert!(d.reason.unwrap().contains("permission denied"));
    }
}
