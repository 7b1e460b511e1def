//! The operations every front end calls: the CLI, the desktop app and tests run the same code.
//! An [`Engine`] is one home folder: the catalog, the content store and the read-only cache.

mod cache;
mod copy;
mod edit;
mod fetch;
mod links;
pub mod logging;
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
use std::sync::Arc;

use strata_core::lock::WriterLock;
use strata_core::semver;
use strata_core::{
    Catalog, Error, Hash, IoContext, Manifest, NoProgress, Progress, Reference, Result, Version,
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
    /// Where operations that take no progress reporter of their own (meta, tag, describe,
    /// remove, finalize, delete) send their warnings.
    notices: Arc<dyn Progress>,
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
            notices: Arc::new(NoProgress),
        };
        // Once per catalog, after the upgrade that started recording them (a settings lookup
        // afterwards).
        engine.record_links_made_before_own_links()?;
        Ok(engine)
    }

    /// Lets the front end show warnings of operations that take no progress reporter, such as
    /// a dead writer's lock being taken over by `meta`.
    pub fn set_notices(&mut self, notices: Arc<dyn Progress>) {
        self.notices = notices;
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

    /// Takes the writer lock of a version (or dataset) or fails at once naming its holder, passing
    /// a stale-lock warning on. For long operations (add, sync, add-link, snapshot): they hold the
    /// lock for as long as hashing takes, so waiting behind one would look like a hang.
    fn lock(&self, key: &str, operation: &str, progress: &dyn Progress) -> Result<WriterLock> {
        let (lock, warning) = WriterLock::acquire(&self.locks_dir(), key, operation)?;
        if let Some(w) = warning {
            progress.warn(&w);
        }
        Ok(lock)
    }

    /// Takes a version's writer lock, then reads the version again: whatever was resolved before
    /// the lock may have been changed (or finalized, or deleted) by the writer we waited for.
    /// `wait` says whether to wait up to [`SHORT_WAIT`] for another writer (short operations)
    /// or fail at once (long ones, see [`Engine::lock`]).
    /// Warnings go to `progress`, or to the front end's notices when it is `None`.
    fn lock_version(
        &self,
        id: &str,
        operation: &str,
        wait: Wait,
        progress: Option<&dyn Progress>,
    ) -> Result<(WriterLock, Version)> {
        let (lock, warning) = match wait {
            Wait::No => WriterLock::acquire(&self.locks_dir(), id, operation)?,
            Wait::Short => {
                WriterLock::acquire_within(&self.locks_dir(), id, operation, SHORT_WAIT)?
            }
        };
        if let Some(w) = warning {
            progress.unwrap_or(&*self.notices).warn(&w);
        }
        let v = self.catalog.version(id)?;
        Ok((lock, v))
    }

    /// [`Engine::lock_version`] for changes only a draft accepts: resolves, refuses a non-draft
    /// before waiting, locks, re-reads and checks again.
    fn lock_draft(
        &self,
        reference: &str,
        operation: &str,
        wait: Wait,
        progress: Option<&dyn Progress>,
    ) -> Result<(WriterLock, Version)> {
        let v = self.resolve(reference)?;
        v.ensure_draft()?;
        let (lock, v) = self.lock_version(&v.id, operation, wait, progress)?;
        v.ensure_draft()?;
        Ok((lock, v))
    }

    /// Releases a version's writer lock whatever holds it.
    pub fn unlock(&self, reference: &str) -> Result<Option<String>> {
        let v = self.resolve(reference)?;
        WriterLock::force_release(&self.locks_dir(), &v.id)
    }
}

/// How long a short operation (meta, tag, describe, remove, finalize, delete) waits for another
/// writer of the same version before failing with the holder's name. Those writers hold the lock
/// for milliseconds, so many of them meeting on one version all get through well within it.
pub const SHORT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether taking a writer lock waits for the current holder.
#[derive(Clone, Copy, Debug)]
enum Wait {
    /// Fail at once, naming the holder.
    No,
    /// Wait up to [`SHORT_WAIT`].
    Short,
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
