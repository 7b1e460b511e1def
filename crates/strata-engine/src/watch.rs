//! Watched folders: each time writing in a folder goes quiet, it becomes the next version of a
//! dataset (and, when asked, is uploaded). `strata-watch` decides when; this module does the
//! versioning: a snapshot of what has settled (a file still being written waits for the next
//! version), the watch's state in the catalog for `watch list` and the app, and one process per
//! watch (a writer lock keyed by the folder).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use strata_core::catalog::{NewWatch, WatchRow};
use strata_core::lock::WriterLock;
use strata_core::time::now_ms;
use strata_core::{Cancel, Catalog, DatasetName, Error, IoContext, NoProgress, Result, State};
use strata_core::{UploadState, Version};
use strata_store::scan::{Ignores, IGNORE_FILE};
use strata_watch::{Outcome, Wake, WatchConfig, WatchState};

use crate::snapshot::Watched;
use crate::Engine;

/// The longest a change waits under constant writing when the user does not say: ten minutes,
/// or the quiet window when that is longer (CLI and app alike).
pub fn default_max_wait(quiet_for: Duration) -> Duration {
    Duration::from_secs(600).max(quiet_for)
}

/// How a folder is watched: the CLI maps its flags to this, the app will send it as it is.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WatchRequest {
    pub folder: PathBuf,
    /// `project/name` of the dataset the folder's versions belong to.
    pub dataset: String,
    /// How long writes must have stopped before a version is made.
    pub quiet_for: Duration,
    /// The longest a change waits under constant writing; then what has settled is versioned.
    pub max_wait: Duration,
    /// Poll every this often instead of waiting for filesystem events (network mounts).
    pub poll: Option<Duration>,
    /// Upload each new version (it waits in the queue while the remote is unreachable).
    pub upload: bool,
}

impl Default for WatchRequest {
    fn default() -> Self {
        WatchRequest {
            folder: PathBuf::new(),
            dataset: String::new(),
            quiet_for: Duration::from_secs(60),
            max_wait: Duration::from_secs(600),
            poll: None,
            upload: false,
        }
    }
}

impl WatchRequest {
    fn of(row: &WatchRow) -> Self {
        WatchRequest {
            folder: PathBuf::from(&row.folder),
            dataset: row.dataset.clone(),
            quiet_for: Duration::from_millis(row.quiet_ms),
            max_wait: Duration::from_millis(row.max_wait_ms),
            poll: row.poll_ms.map(Duration::from_millis),
            upload: row.upload,
        }
    }

    fn check(&self) -> Result<()> {
        DatasetName::parse(&self.dataset)?;
        if self.quiet_for < Duration::from_millis(100) {
            return Err(Error::invalid("the quiet window must be at least 100ms"));
        }
        if self.max_wait < self.quiet_for {
            return Err(Error::invalid(
                "the longest wait must not be shorter than the quiet window",
            ));
        }
        if self.poll.is_some_and(|p| p < Duration::from_millis(100)) {
            return Err(Error::invalid("polling must be at least 100ms apart"));
        }
        Ok(())
    }
}

/// A watch as `watch list` and the app show it.
#[derive(Clone, Debug, Serialize)]
pub struct WatchInfo {
    #[serde(flatten)]
    pub watch: WatchRow,
    /// The process running it now, if any.
    pub running: Option<String>,
    /// Its pending changes, when asked for ([`Engine::watch_changes`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<PendingChanges>,
}

/// The changes a watch's next version would record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PendingChanges {
    pub added: u64,
    pub modified: u64,
    pub removed: u64,
}

/// A version a watch made: one JSON line of `strata watch --json`.
#[derive(Clone, Debug, Serialize)]
pub struct WatchVersion {
    pub id: String,
    pub dataset: String,
    pub semver: String,
    pub added: u64,
    pub modified: u64,
    pub removed: u64,
    /// Files left for the next version because they were still being written.
    pub held_back: u64,
    pub wake: &'static str,
}

/// What a running watch tells its front end.
pub trait WatchEvents {
    fn state(&self, folder: &Path, state: &WatchState);
    fn version(&self, folder: &Path, version: &WatchVersion);
    /// Whether the front end works offline now (the app's switch): versions are still made,
    /// their uploads wait for the next wake once it is online again.
    fn offline(&self) -> bool {
        false
    }
}

/// The lock that lets one process at a time run the watch of `folder`.
fn lock_key(folder: &Path) -> String {
    let h = blake3::hash(folder.as_os_str().as_encoded_bytes()).to_hex();
    format!("watch-{}", &h[..16])
}

/// Where the content a `get --to` last placed in a folder is noted, by the folder's key: a watch
/// of that folder does not version what a switch wrote (the folder then holds a version that
/// exists already).
fn placed_note(home: &Path, folder: &Path) -> PathBuf {
    home.join("placed").join(lock_key(folder))
}

/// A settled file is one not written for this long: long enough for a writer between two
/// writes, short enough not to hold back what a quiet window already proved stable.
fn settle_for(quiet_for: Duration) -> Duration {
    quiet_for.min(Duration::from_secs(2))
}

impl Engine {
    /// Notes that a `get --to` just made `folder` hold exactly `entries`. Best effort: without
    /// the note a watch of the folder makes one version too many, nothing worse.
    pub(crate) fn note_placed(&self, folder: &Path, entries: &[strata_core::Entry]) {
        let Ok(folder) = std::fs::canonicalize(folder) else {
            return;
        };
        let hash = strata_core::Manifest::hash_of(entries);
        let note = placed_note(&self.home, &folder);
        if let Some(dir) = note.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let tmp = note.with_extension("tmp");
        if std::fs::write(&tmp, hash.to_hex()).is_ok() {
            let _ = std::fs::rename(&tmp, &note);
        }
    }

    /// The content a `get --to` last placed in `folder`, if noted.
    fn placed(&self, folder: &Path) -> Option<strata_core::Hash> {
        let text = std::fs::read_to_string(placed_note(&self.home, folder)).ok()?;
        strata_core::Hash::from_hex(text.trim()).ok()
    }

    /// Records a watch; `watch run` (or the app) runs it.
    #[tracing::instrument(skip_all)]
    pub fn watch_add(&mut self, request: &WatchRequest) -> Result<WatchInfo> {
        request.check()?;
        let folder = std::fs::canonicalize(&request.folder).ctx("read", &request.folder)?;
        if !folder.is_dir() {
            return Err(Error::invalid(format!(
                "'{}' is not a folder",
                folder.display()
            )));
        }
        let folder_text = folder
            .to_str()
            .ok_or_else(|| Error::invalid(format!("'{}' is not UTF-8", folder.display())))?;
        let dataset = DatasetName::parse(&request.dataset)?.to_string();
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let id = self.catalog.write(|w| {
            w.add_watch(&NewWatch {
                folder: folder_text,
                dataset: &dataset,
                quiet_ms: ms(request.quiet_for),
                max_wait_ms: ms(request.max_wait),
                poll_ms: request.poll.map(ms),
                upload: request.upload,
                created_at: now_ms(),
            })
        })?;
        self.watch_info(self.catalog.watch(&id.to_string())?)
    }

    /// Every recorded watch, with who runs it.
    pub fn watches(&self) -> Result<Vec<WatchInfo>> {
        self.catalog
            .watches()?
            .into_iter()
            .map(|w| self.watch_info(w))
            .collect()
    }

    /// A watch by id or folder (a relative folder is taken from the current one).
    pub fn watch(&self, watch: &str) -> Result<WatchInfo> {
        let row = match self.catalog.watch(watch) {
            Ok(r) => r,
            Err(Error::NotFound { .. }) => match std::fs::canonicalize(watch) {
                Ok(p) => self.catalog.watch(&p.to_string_lossy())?,
                Err(_) => return Err(Error::not_found("watch", watch)),
            },
            Err(e) => return Err(e),
        };
        self.watch_info(row)
    }

    /// What a watch's next version would record now, counted as `strata status` counts it (the
    /// watch page's "pending changes"); `None` when the folder cannot be read in full right now
    /// (a file being written as it is read, the folder gone): the caller shows what the watcher
    /// saw instead. Costs what a no-change snapshot costs; callers ask only for pending watches.
    pub fn watch_changes(&self, watch: &WatchRow, cancel: &Cancel) -> Option<PendingChanges> {
        match self.status(
            &watch.dataset,
            Path::new(&watch.folder),
            &NoProgress,
            cancel,
        ) {
            Ok(s) => Some(PendingChanges {
                added: s.added,
                modified: s.modified,
                removed: s.removed,
            }),
            Err(e) => {
                tracing::debug!(folder = %watch.folder, %e, "no pending count");
                None
            }
        }
    }

    fn watch_info(&self, watch: WatchRow) -> Result<WatchInfo> {
        let running = WriterLock::holder(&self.locks_dir(), &lock_key(Path::new(&watch.folder)))?;
        Ok(WatchInfo {
            watch,
            running,
            changes: None,
        })
    }

    /// Pauses (no versions until resumed) or resumes a watch.
    #[tracing::instrument(skip_all, fields(watch = %watch, paused))]
    pub fn watch_pause(&mut self, watch: &str, paused: bool) -> Result<WatchInfo> {
        let w = self.watch(watch)?;
        self.catalog
            .write(|c| c.set_watch_paused(w.watch.id, paused))?;
        self.watch(&w.watch.id.to_string())
    }

    /// Forgets a watch; the folder and the versions it made stay.
    #[tracing::instrument(skip_all, fields(watch = %watch))]
    pub fn watch_remove(&mut self, watch: &str) -> Result<WatchRow> {
        let w = self.watch(watch)?;
        self.catalog.write(|c| c.remove_watch(w.watch.id))?;
        Ok(w.watch)
    }

    /// Watches one folder in the foreground until `cancel`: at start the folder is versioned if
    /// it differs from the dataset's newest version, then again each time writing goes quiet.
    /// `id` is the recorded watch whose state this keeps up to date, if it is one. Fails at once
    /// when another process watches the same folder.
    #[tracing::instrument(skip_all, fields(dataset = %request.dataset))]
    pub fn watch_folder(
        &mut self,
        request: &WatchRequest,
        id: Option<i64>,
        cancel: &Cancel,
        events: &dyn WatchEvents,
    ) -> Result<()> {
        request.check()?;
        let folder = std::fs::canonicalize(&request.folder).ctx("read", &request.folder)?;
        let key = lock_key(&folder);
        let (_lock, warning) =
            WriterLock::acquire(&self.locks_dir(), &key, "watch").map_err(|e| match e {
                Error::Locked(_) => {
                    let who = WriterLock::holder(&self.locks_dir(), &key)
                        .ok()
                        .flatten()
                        .unwrap_or_else(|| "another process".into());
                    Error::Locked(format!(
                        "'{}' is watched by another process: {who}",
                        folder.display()
                    ))
                }
                e => e,
            })?;
        if let Some(w) = warning {
            self.warn(None, w);
        }
        let store_root = self.store.root().to_path_buf();
        // What `.strataignore` and the built-in noise list leave out never wakes the watch. The
        // rules are read again when that file changes, so a pattern removed from it lets its
        // files' events through at once (the scan itself always reads the rules afresh).
        let ignores = std::sync::RwLock::new(Ignores::load(&folder)?);
        let root = folder.clone();
        let config = WatchConfig {
            quiet_for: request.quiet_for,
            max_wait: request.max_wait,
            poll: request.poll,
            ..Default::default()
        }
        .with_ignore(move |rel| {
            if rel == Path::new(IGNORE_FILE) {
                if let (Ok(fresh), Ok(mut held)) = (Ignores::load(&root), ignores.write()) {
                    *held = fresh;
                }
                return false;
            }
            // The store is never inside a watched folder in practice, but if it were, its own
            // writes must not wake the watch.
            rel.starts_with(&store_root) || ignores.read().is_ok_and(|i| i.is_ignored(rel, false))
        });
        // States are written through a second connection: the handler holds the engine.
        let mut states = match id {
            Some(_) => Some(Catalog::open(&self.home.join("catalog.db"))?),
            None => None,
        };
        let mut on_state = |s: WatchState| {
            events.state(&folder, &s);
            if let (Some(c), Some(id)) = (states.as_mut(), id) {
                let (name, reason, pending) = describe(&s);
                let r =
                    c.write(|w| w.set_watch_state(id, name, reason.as_deref(), pending, now_ms()));
                if let Err(e) = r {
                    tracing::warn!(%e, "could not record a watch's state");
                }
            }
        };
        let mut handler = |wake: Wake| -> Result<Outcome> {
            self.version_watched(request, &folder, id, wake, cancel, events)
        };
        strata_watch::run(&folder, &config, cancel, &mut on_state, &mut handler)
    }

    /// One wake of a watch: upload what waits (with `upload`), version what has settled.
    fn version_watched(
        &mut self,
        request: &WatchRequest,
        folder: &Path,
        id: Option<i64>,
        wake: Wake,
        cancel: &Cancel,
        events: &dyn WatchEvents,
    ) -> Result<Outcome> {
        let settle = settle_for(request.quiet_for);
        let cutoff =
            strata_store::scan::now_ns() - i64::try_from(settle.as_nanos()).unwrap_or(i64::MAX);
        let (change, held) = self.snapshot_settled(
            &request.dataset,
            folder,
            &[],
            Some(Watched {
                settled_before: cutoff,
                placed: self.placed(folder),
            }),
            &NoProgress,
            cancel,
        )?;
        if let Some(change) = change.filter(|c| c.created) {
            let v = &change.version;
            if let Some(id) = id {
                self.catalog
                    .write(|w| w.set_watch_last_version(id, &v.label()))?;
            }
            events.version(
                folder,
                &WatchVersion {
                    id: v.id.clone(),
                    dataset: v.full_name(),
                    semver: v.semver.clone(),
                    added: change.changes.added,
                    modified: change.changes.modified,
                    removed: change.changes.removed,
                    held_back: held,
                    wake: wake.as_str(),
                },
            );
        }
        if request.upload && !events.offline() {
            // Every version of this dataset still waiting, oldest first: a failure here is
            // retried by the watcher with backoff, and nothing is uploaded twice.
            self.upload_waiting(&request.dataset, cancel)?;
        }
        give_back_memory();
        Ok(if held > 0 {
            Outcome::Unstable {
                retry_after: settle,
            }
        } else {
            Outcome::Done
        })
    }

    /// Uploads the dataset's final versions not yet on its remote.
    fn upload_waiting(&mut self, dataset: &str, cancel: &Cancel) -> Result<()> {
        let d = DatasetName::parse(dataset)?;
        let waiting: Vec<Version> = self
            .catalog
            .versions_of(&d)?
            .into_iter()
            .filter(|v| {
                v.state != State::Draft
                    && matches!(
                        v.upload_state,
                        UploadState::Local | UploadState::Pending | UploadState::Uploading
                    )
            })
            .collect();
        for v in waiting {
            let (_, _) = self.upload_or_queue(&v, None, &NoProgress, cancel)?;
        }
        Ok(())
    }

    /// Runs every recorded watch that is not paused, each on its own thread with its own engine,
    /// until `cancel`: what `strata watch run` (and a service) does. Watches added, paused,
    /// resumed or removed meanwhile are picked up within a few seconds; one that stopped on an
    /// error (another process runs it, its dataset name is taken...) is started again then.
    pub fn run_watches(
        home: &Path,
        cancel: &Cancel,
        events: &(dyn WatchEvents + Sync),
    ) -> Result<()> {
        let mut running: HashMap<i64, Cancel> = HashMap::new();
        let ended = std::sync::Mutex::new(Vec::<i64>::new());
        // One connection for the whole run: opening and closing the catalog every few seconds
        // would checkpoint its journal (an fsync) each time, which on a disk busy with a large
        // copy stalls every other writer of the catalog.
        let catalog = Catalog::open(&home.join("catalog.db"))?;
        std::thread::scope(|scope| loop {
            let active: HashMap<i64, WatchRow> = match catalog.watches() {
                Ok(all) => all
                    .into_iter()
                    .filter(|w| !w.paused)
                    .map(|w| (w.id, w))
                    .collect(),
                Err(e) => {
                    running.values().for_each(Cancel::cancel);
                    return Err(e);
                }
            };
            if let Ok(mut gone) = ended.lock() {
                for id in gone.drain(..) {
                    running.remove(&id);
                }
            }
            // Stop what was paused or removed.
            running.retain(|id, stop| {
                let keep = active.contains_key(id);
                if !keep {
                    stop.cancel();
                }
                keep
            });
            for (id, row) in active {
                if running.contains_key(&id) {
                    continue;
                }
                let stop = Cancel::new();
                running.insert(id, stop.clone());
                let (home, ended) = (home.to_path_buf(), &ended);
                scope.spawn(move || {
                    let request = WatchRequest::of(&row);
                    let result = Engine::open(&home)
                        .and_then(|mut e| e.watch_folder(&request, Some(id), &stop, events));
                    if let Err(err) = result {
                        events.state(
                            &request.folder,
                            &WatchState::Failed {
                                reason: err.to_string(),
                                kind: err.kind(),
                                retry_in: Duration::from_secs(3),
                            },
                        );
                    }
                    if let Ok(mut gone) = ended.lock() {
                        gone.push(id);
                    }
                });
            }
            for _ in 0..30 {
                if cancel.is_cancelled() {
                    running.values().for_each(Cancel::cancel);
                    return Ok(());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    }
}

/// A watch idles for hours between versions: the scan's and the manifests' memory (tens of MB
/// on a large folder) goes back to the system instead of staying in the allocator's arenas.
fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory at the top of the heaps and arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A watch's state in the catalog: its name, why (for waits and errors), pending events.
fn describe(s: &WatchState) -> (&'static str, Option<String>, u64) {
    match s {
        WatchState::Idle => ("idle", None, 0),
        WatchState::Pending { events, .. } => ("pending", None, *events),
        WatchState::Versioning { .. } => ("versioning", None, 0),
        WatchState::Waiting { reason, .. } => ("waiting", Some(reason.clone()), 0),
        WatchState::Failed { reason, .. } => ("error", Some(reason.clone()), 0),
        WatchState::Missing { reason, .. } => ("error", Some(reason.clone()), 0),
        WatchState::Polling { reason, .. } => ("polling", Some(reason.clone()), 0),
    }
}

/// What `watch service install|uninstall` did.
#[derive(Clone, Debug, Serialize)]
pub struct ServiceReport {
    /// The unit file written (or removed).
    pub unit: PathBuf,
    /// Whether systemd took it (enabled and started, or stopped and disabled).
    pub applied: bool,
    /// What systemd said when it could not, and the command to run then.
    pub note: Option<String>,
}

const SERVICE_NAME: &str = "strata-watch.service";

/// `~/.config/systemd/user/strata-watch.service` (or under `$XDG_CONFIG_HOME`).
fn unit_path() -> Result<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|c| !c.is_empty())
        .map(PathBuf::from)
        .or_else(dirs::config_dir)
        .ok_or_else(|| Error::invalid("no configuration folder (set HOME or XDG_CONFIG_HOME)"))?;
    Ok(config.join("systemd/user").join(SERVICE_NAME))
}

/// Runs `systemctl --user ARGS`; `None` when it worked, else what it said.
fn systemctl(args: &[&str]) -> Option<String> {
    match std::process::Command::new("systemctl")
        .arg("--user")
        .args(args)
        .output()
    {
        Ok(o) if o.status.success() => None,
        Ok(o) => Some(String::from_utf8_lossy(&o.stderr).trim().to_string()),
        Err(e) => Some(format!("systemctl: {e}")),
    }
}

/// A path as systemd reads it in `ExecStart`: quoted, with `\` and `"` escaped and `%`
/// doubled, so a home with spaces or percent signs is passed as one argument, unchanged.
fn unit_quote(p: &Path) -> Result<String> {
    let s = p
        .to_str()
        .ok_or_else(|| Error::invalid(format!("'{}' is not UTF-8", p.display())))?;
    if s.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "'{}' has a control character",
            p.display()
        )));
    }
    Ok(format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('%', "%%")
    ))
}

impl Engine {
    /// Writes a `systemd --user` unit running `strata watch run` on this home with `exe`, and
    /// enables and starts it: watches keep running without a terminal or the app, across
    /// logins (with lingering) and restarts.
    pub fn watch_service_install(&self, exe: &Path) -> Result<ServiceReport> {
        let unit = unit_path()?;
        let body = format!(
            "# Written by `strata watch service install`; `strata watch service uninstall` \
             removes it.\n\
             [Unit]\n\
             Description=Strata: watched folders become versions\n\n\
             [Service]\n\
             ExecStart={} --home {} watch run\n\
             Restart=on-failure\n\
             RestartSec=5\n\n\
             [Install]\n\
             WantedBy=default.target\n",
            unit_quote(exe)?,
            unit_quote(&self.home)?
        );
        let dir = unit.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).ctx("create", dir)?;
        let tmp = unit.with_extension("service.tmp");
        std::fs::write(&tmp, body).ctx("write", &tmp)?;
        std::fs::rename(&tmp, &unit).ctx("rename into place", &unit)?;
        let failed =
            systemctl(&["daemon-reload"]).or_else(|| systemctl(&["enable", "--now", SERVICE_NAME]));
        Ok(ServiceReport {
            unit,
            applied: failed.is_none(),
            note: failed.map(|why| {
                format!(
                    "systemd did not take it ({why}); in a desktop session run \
                     `systemctl --user daemon-reload && systemctl --user enable --now \
                     {SERVICE_NAME}`"
                )
            }),
        })
    }

    /// Stops and disables the unit and removes its file.
    pub fn watch_service_uninstall(&self) -> Result<ServiceReport> {
        let unit = unit_path()?;
        let failed = systemctl(&["disable", "--now", SERVICE_NAME]);
        match std::fs::remove_file(&unit) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::not_found("service unit", unit.display().to_string()))
            }
            Err(e) => return Err(e).ctx("remove", &unit),
        }
        let failed = failed.or_else(|| systemctl(&["daemon-reload"]));
        Ok(ServiceReport {
            unit,
            applied: failed.is_none(),
            note: failed
                .map(|why| format!("systemd did not answer ({why}); the unit file is gone")),
        })
    }
}
