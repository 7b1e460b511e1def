//! The operations every front end calls: the CLI, the desktop app and tests run the same code.
//! An [`Engine`] is one home folder: the catalog, the content store and the read-only cache.

mod cache;
mod copy;
mod edit;
mod fetch;
mod links;
mod maintenance;
mod outbox;
mod pull;
mod query;
mod remote_maintenance;
mod remotes;
mod upload;
mod versions;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use strata_core::lock::WriterLock;
use strata_core::semver;
use strata_core::{
    Catalog, Error, Hash, IoContext, Manifest, Progress, Reference, Result, Version,
};
use strata_store::Store;

pub use cache::CachedCopy;
pub use copy::{GetOptions, GetOutcome};
pub use edit::MetaOp;
pub use maintenance::VerifyReport;
pub use outbox::PushOutcome;
pub use pull::{PullOutcome, Renumbered};
pub use remote_maintenance::RemoteGcReport;
pub use strata_core;
pub use strata_remote::Probe;
pub use strata_store::gc::GcReport;
pub use strata_store::verify::Mismatch;
pub use upload::UploadOutcome;
pub use versions::{AddOptions, Change, CreateOptions};

pub struct Engine {
    home: PathBuf,
    catalog: Catalog,
    store: Store,
    /// Set by `--offline`: anything that needs the network fails (or queues) instead.
    offline: bool,
}

impl Engine {
    /// Opens (creating if needed) the home folder: `catalog.db`, `store/`, `cache/`, `locks/`.
    pub fn open(home: &Path) -> Result<Self> {
        std::fs::create_dir_all(home).ctx("create", home)?;
        let catalog = Catalog::open(&home.join("catalog.db"))?;
        let store = Store::open(&home.join("store"))?;
        Ok(Engine {
            home: home.to_path_buf(),
            catalog,
            store,
            offline: false,
        })
    }

    /// Forbids network use (`--offline`, `STRATA_OFFLINE=1`).
    pub fn set_offline(&mut self, offline: bool) {
        self.offline = offline;
    }

    pub fn is_offline(&self) -> bool {
        self.offline
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

    pub fn resolve(&self, reference: &str) -> Result<Version> {
        self.catalog.resolve(&Reference::parse(reference)?)
    }

    pub fn manifest_of(&self, v: &Version) -> Result<Manifest> {
        self.store.manifest(&v.manifest)
    }

    fn locks_dir(&self) -> PathBuf {
        self.home.join("locks")
    }

    fn cache_dir(&self) -> PathBuf {
        self.home.join("cache")
    }

    fn pool_dir(&self) -> PathBuf {
        self.cache_dir().join("objects")
    }

    /// Takes the writer lock of a version (or dataset), passing a stale-lock warning on.
    fn lock(&self, key: &str, operation: &str, progress: &dyn Progress) -> Result<WriterLock> {
        let (lock, warning) = WriterLock::acquire(&self.locks_dir(), key, operation)?;
        if let Some(w) = warning {
            progress.warn(&w);
        }
        Ok(lock)
    }

    /// Releases a version's writer lock whatever holds it.
    pub fn unlock(&self, reference: &str) -> Result<Option<String>> {
        let v = self.resolve(reference)?;
        WriterLock::force_release(&self.locks_dir(), &v.id)
    }
}

fn hashes_of(m: &Manifest) -> HashSet<Hash> {
    m.entries().iter().map(|e| e.hash).collect()
}

fn new_version_id(dataset: &str, semver: &semver::Version) -> String {
    let mut h = blake3::Hasher::new();
    h.update(dataset.as_bytes());
    h.update(semver.to_string().as_bytes());
    h.update(&strata_store::scan::now_ns().to_le_bytes());
    h.update(&std::process::id().to_le_bytes());
    h.update(strata_core::time::hostname().as_bytes());
    hex::encode(&h.finalize().as_bytes()[..16])
}

fn who() -> String {
    format!(
        "{}@{}",
        strata_core::time::username(),
        strata_core::time::hostname()
    )
}

fn not_draft_error(v: &Version) -> Error {
    Error::Immutable {
        version: v.label(),
        state: v.state.as_str().into(),
    }
}
