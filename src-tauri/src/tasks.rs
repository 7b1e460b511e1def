//! How every command runs the engine: never on the main thread (it would freeze the window) and
//! never on an async worker (the engine blocks on disks and networks), but on a blocking thread,
//! with the app's offline switch applied and the engine's warnings passed to the window. Long work
//! also reports progress through a channel and can be cancelled by task id.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use strata_core::{Cancel, Progress};
use strata_engine::Engine;
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Runtime};

use crate::dto::{ApiError, CatalogChanged, NoticeDto, NoticeTone, ProgressDto};
use crate::manifests::Manifests;
use crate::progress::ChannelProgress;
use crate::watches::WatchBoard;

pub type Res<T> = Result<T, ApiError>;

/// The app's state: where the catalog lives, the offline switch, and the cancel flags of running
/// tasks. Each command opens the engine itself (a few milliseconds): readers never wait for a
/// long writer.
pub struct AppState {
    pub home: PathBuf,
    offline: AtomicBool,
    tasks: Mutex<HashMap<u32, Cancel>>,
    /// The manifests the window looks at, decoded once for its file browser, local content and
    /// diffs, and its last file listing (so scrolling a million entries decodes once).
    pub(crate) manifests: Arc<Manifests>,
    /// What the app's watch runner last said of each watched folder.
    pub(crate) watches: Arc<WatchBoard>,
}

impl AppState {
    /// Starts offline when `STRATA_OFFLINE` says so, as the CLI does.
    pub fn new(home: PathBuf) -> Self {
        let offline = std::env::var("STRATA_OFFLINE")
            .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"));
        AppState {
            home,
            offline: AtomicBool::new(offline),
            tasks: Mutex::new(HashMap::new()),
            manifests: Arc::new(Manifests::default()),
            watches: Arc::new(WatchBoard::default()),
        }
    }

    /// What the watch runner tells the window also feeds the Watched folders page.
    pub fn watch_board(&self) -> Arc<WatchBoard> {
        self.watches.clone()
    }

    pub fn is_offline(&self) -> bool {
        self.offline.load(Ordering::Relaxed)
    }

    pub fn set_offline(&self, offline: bool) {
        self.offline.store(offline, Ordering::Relaxed);
    }

    /// Cancels a running task; false when there is none by that id.
    pub fn cancel(&self, task: u32) -> bool {
        match self.tasks.lock() {
            Ok(t) => t.get(&task).map(|c| c.cancel()).is_some(),
            Err(_) => false,
        }
    }

    fn start(&self, task: u32) -> Cancel {
        let c = Cancel::new();
        if let Ok(mut t) = self.tasks.lock() {
            t.insert(task, c.clone());
        }
        c
    }

    fn finish(&self, task: u32) {
        if let Ok(mut t) = self.tasks.lock() {
            t.remove(&task);
        }
    }

    fn open(home: &std::path::Path, offline: bool) -> strata_core::Result<Engine> {
        let mut engine = Engine::open(home)?;
        engine.set_offline(offline);
        Ok(engine)
    }
}

/// Runs `work` on a blocking thread; a panic there becomes an internal error, not a crash.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Res<T> + Send + 'static) -> Res<T> {
    match tauri::async_runtime::spawn_blocking(work).await {
        Ok(r) => r,
        Err(e) => Err(ApiError::internal(format!(
            "the task stopped unexpectedly: {e}"
        ))),
    }
}

/// Reads: the engine off the main thread, nothing to report.
pub(crate) async fn read<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&mut Engine) -> strata_core::Result<T> + Send + 'static,
) -> Res<T> {
    let (home, offline) = (state.home.clone(), state.is_offline());
    blocking(move || {
        let mut engine = AppState::open(&home, offline)?;
        Ok(work(&mut engine)?)
    })
    .await
}

/// Short writes: like [`read`], and every warning the engine gave (a stale lock taken over, a
/// change queued while the remote is out of reach) reaches the window as a notice.
pub(crate) async fn write<R: Runtime, T: Send + 'static>(
    app: &AppHandle<R>,
    state: &AppState,
    work: impl FnOnce(&mut Engine) -> strata_core::Result<T> + Send + 'static,
) -> Res<T> {
    let (home, offline, app) = (state.home.clone(), state.is_offline(), app.clone());
    blocking(move || {
        let mut engine = AppState::open(&home, offline)?;
        let out = work(&mut engine);
        for message in engine.take_warnings() {
            notice(&app, message);
        }
        Ok(out?)
    })
    .await
}

/// Long work: progress (and warnings, as they happen) through `channel`, cancel by `task`.
pub(crate) async fn long<T: Send + 'static>(
    state: &AppState,
    task: u32,
    channel: Channel<ProgressDto>,
    work: impl FnOnce(&mut Engine, &dyn Progress, &Cancel) -> strata_core::Result<T> + Send + 'static,
) -> Res<T> {
    let (home, offline) = (state.home.clone(), state.is_offline());
    let cancel = state.start(task);
    let out = blocking(move || {
        let mut engine = AppState::open(&home, offline)?;
        let progress = ChannelProgress::new(channel);
        Ok(work(&mut engine, &progress, &cancel)?)
    })
    .await;
    state.finish(task);
    out
}

/// Tells the window the catalog changed (`catalog://changed`).
pub(crate) fn changed<R: Runtime>(
    app: &AppHandle<R>,
    dataset: Option<String>,
    version: Option<String>,
) {
    let _ = app.emit("catalog://changed", CatalogChanged { dataset, version });
}

/// Shows a warning in the window (`strata://notice`).
pub(crate) fn notice<R: Runtime>(app: &AppHandle<R>, message: String) {
    tracing::info!(%message, "notice to the window");
    let _ = app.emit(
        "strata://notice",
        NoticeDto {
            message,
            tone: NoticeTone::Warning,
        },
    );
}

/// Shows news of work in the background in the window (`strata://notice`, tone `info`).
pub(crate) fn news<R: Runtime>(app: &AppHandle<R>, message: String) {
    tracing::info!(%message, "news to the window");
    let _ = app.emit(
        "strata://notice",
        NoticeDto {
            message,
            tone: NoticeTone::Info,
        },
    );
}
