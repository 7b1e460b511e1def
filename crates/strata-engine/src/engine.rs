//! The engine itself: one home folder (catalog, store, cache, locks), how it is opened, and
//! what every operation shares (resolving a reference, reading a manifest, passing warnings on).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use strata_core::{
    Catalog, Error, IoContext, Manifest, NoProgress, Progress, Reference, Resolution, Result,
    Version,
};
use strata_store::Store;

pub struct Engine {
    pub(crate) home: PathBuf,
    pub(crate) catalog: Catalog,
    pub(crate) store: Store,
    /// Set by `--offline` or the app's offline switch: anything that needs the network fails
    /// (or queues for `push`) instead.
    pub(crate) offline: bool,
    /// Which versions `project/name` stands for (`--include-drafts`, `--published`): one policy
    /// for every command, the CLI's and the app's alike.
    resolution: Resolution,
    /// Every warning of the operations run so far, until the front end takes them
    /// ([`Engine::take_warnings`]) to show them and put them in its JSON.
    warnings: Mutex<Vec<String>>,
    /// Where warnings of operations without a progress reporter of their own also go as they
    /// happen (the CLI's stderr, the app's notices).
    notices: Arc<dyn Progress>,
}

pub(crate) fn not_draft_error(v: &Version) -> Error {
    Error::Immutable {
        version: v.label(),
        state: v.state.as_str().into(),
    }
}

impl Engine {
    /// Opens (creating if needed) the home folder: `catalog.db`, `store/`, `cache/`, `locks/`.
    pub fn open(home: &Path) -> Result<Self> {
        std::fs::create_dir_all(home).ctx("create", home)?;
        let catalog = Catalog::open(&home.join("catalog.db"))?;
        let store = Store::open(&home.join("store"))?;
        let mut engine = Engine {
            home: home.to_path_buf(),
            catalog,
            store,
            offline: false,
            resolution: Resolution::default(),
            warnings: Mutex::new(Vec::new()),
            notices: Arc::new(NoProgress),
        };
        // Once per catalog, after the upgrade that started recording them (a settings lookup
        // afterwards).
        engine.record_links_made_before_own_links()?;
        Ok(engine)
    }

    /// Lets the front end show, as they happen, the warnings of operations that take no
    /// progress reporter (a dead writer's lock taken over by `meta`, a change queued offline).
    pub fn set_notices(&mut self, notices: Arc<dyn Progress>) {
        self.notices = notices;
    }

    /// Passes a warning on as it happens (to `progress`, or the notices) and keeps it for
    /// [`Engine::take_warnings`].
    pub(crate) fn warn(&self, progress: Option<&dyn Progress>, message: impl Into<String>) {
        let message = message.into();
        tracing::warn!(%message, "warning");
        progress.unwrap_or(&*self.notices).warn(&message);
        if let Ok(mut w) = self.warnings.lock() {
            w.push(message);
        }
    }

    /// The warnings of the operations run since the last call, oldest first: a front end shows
    /// them (stderr, a notice) and puts them in its JSON.
    pub fn take_warnings(&self) -> Vec<String> {
        self.warnings
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    /// Forbids network use (`--offline`, `STRATA_OFFLINE=1`).
    pub fn set_offline(&mut self, offline: bool) {
        self.offline = offline;
    }

    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// The home a front end opens: the one given (`--home`), else `STRATA_HOME`, else the
    /// platform data folder. The CLI and the app both resolve it here, so they share a catalog.
    pub fn home_from(given: Option<PathBuf>) -> PathBuf {
        given
            .or_else(|| {
                std::env::var_os("STRATA_HOME")
                    .filter(|h| !h.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(Engine::default_home)
    }

    /// The platform data folder (`~/.local/share/strata` on Linux).
    pub fn default_home() -> PathBuf {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("strata")
    }

    pub fn home(&self) -> &Path {
        &self.home
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Which versions `project/name` stands for from now on (by default the newest final or
    /// published one, never a draft).
    pub fn set_resolution(&mut self, resolution: Resolution) {
        self.resolution = resolution;
    }

    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// The version `reference` names to a command that reads it: `project/name` is the newest
    /// version the engine's [`Resolution`] admits.
    pub fn resolve(&self, reference: &str) -> Result<Version> {
        self.catalog
            .resolve(&Reference::parse(reference)?, self.resolution)
    }

    /// The version `reference` names to a command that changes a version in place (its content,
    /// metadata, description or tags): `project/name` is the dataset's newest version in any
    /// state, the draft being built when there is one, since drafts are what these commands
    /// exist for (`create vision/cats`, then `add vision/cats ...`). With only published
    /// versions admitted, the newest published one.
    pub(crate) fn resolve_for_change(&self, reference: &str) -> Result<Version> {
        let mode = match self.resolution {
            Resolution::Published => Resolution::Published,
            _ => Resolution::IncludeDrafts,
        };
        self.catalog.resolve(&Reference::parse(reference)?, mode)
    }

    /// The newest version of `d` that `project/name` stands for now, if any.
    pub(crate) fn newest(&self, d: &strata_core::DatasetName) -> Result<Option<Version>> {
        self.catalog.newest(d, self.resolution)
    }

    /// [`Engine::newest`] of a dataset named `project/name`.
    pub fn newest_of(&self, dataset: &str) -> Result<Option<Version>> {
        self.newest(&strata_core::DatasetName::parse(dataset)?)
    }

    pub fn manifest_of(&self, v: &Version) -> Result<Manifest> {
        self.store.manifest(&v.manifest)
    }

    pub(crate) fn locks_dir(&self) -> PathBuf {
        self.home.join("locks")
    }

    pub(crate) fn cache_dir(&self) -> PathBuf {
        self.home.join("cache")
    }

    pub(crate) fn pool_dir(&self) -> PathBuf {
        self.cache_dir().join("objects")
    }

    pub(crate) fn views_dir(&self) -> PathBuf {
        self.cache_dir().join("views")
    }
}
