//! Writer locks: one writer per draft (or per dataset, for snapshot), waited for by short
//! operations, refused at once by long ones, released by hand with `unlock`.

use strata_core::error::Remedy;
use strata_core::lock::WriterLock;
use strata_core::{Error, Progress, Result, Version};

use crate::Engine;

/// How long a short operation (meta, tag, describe, remove, finalize, delete) waits for another
/// writer of the same version before failing with the holder's name. Those writers hold the lock
/// for milliseconds, so many of them meeting on one version all get through well within it.
pub const SHORT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Whether taking a writer lock waits for the current holder.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wait {
    /// Fail at once, naming the holder.
    No,
    /// Wait up to [`SHORT_WAIT`].
    Short,
}

impl Engine {
    /// Takes the writer lock of a version (or dataset) or fails at once naming its holder, passing
    /// a stale-lock warning on. For long operations (add, sync, add-link, snapshot): they hold the
    /// lock for as long as hashing takes, so waiting behind one would look like a hang.
    pub(crate) fn lock(
        &self,
        key: &str,
        operation: &str,
        progress: &dyn Progress,
    ) -> Result<WriterLock> {
        let (lock, warning) =
            WriterLock::acquire(&self.locks_dir(), key, operation).map_err(held)?;
        if let Some(w) = warning {
            self.warn(Some(progress), w);
        }
        Ok(lock)
    }

    /// Takes a version's writer lock, then reads the version again: whatever was resolved before
    /// the lock may have been changed (or finalized, or deleted) by the writer we waited for.
    /// `wait` says whether to wait up to [`SHORT_WAIT`] for another writer (short operations)
    /// or fail at once (long ones, see [`Engine::lock`]).
    /// Warnings go to `progress`, or to the front end's notices when it is `None`.
    pub(crate) fn lock_version(
        &self,
        id: &str,
        operation: &str,
        wait: Wait,
        progress: Option<&dyn Progress>,
    ) -> Result<(WriterLock, Version)> {
        let (lock, warning) = match wait {
            Wait::No => WriterLock::acquire(&self.locks_dir(), id, operation).map_err(held)?,
            Wait::Short => WriterLock::acquire_within(&self.locks_dir(), id, operation, SHORT_WAIT)
                .map_err(held)?,
        };
        if let Some(w) = warning {
            self.warn(progress, w);
        }
        let v = self.catalog.version(id)?;
        Ok((lock, v))
    }

    /// [`Engine::lock_version`] for changes only a draft accepts: resolves, refuses a non-draft
    /// before waiting, locks, re-reads and checks again.
    pub(crate) fn lock_draft(
        &self,
        reference: &str,
        operation: &str,
        wait: Wait,
        progress: Option<&dyn Progress>,
    ) -> Result<(WriterLock, Version)> {
        let v = self.resolve_for_change(reference)?;
        v.ensure_draft()?;
        let (lock, v) = self.lock_version(&v.id, operation, wait, progress)?;
        v.ensure_draft()?;
        Ok((lock, v))
    }

    /// Releases a version's writer lock whatever holds it.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn unlock(&self, reference: &str) -> Result<Option<String>> {
        let v = self.resolve_for_change(reference)?;
        WriterLock::force_release(&self.locks_dir(), &v.id)
    }
}

/// Another writer holds it: the way out, if that writer is gone, is `unlock`.
fn held(e: Error) -> Error {
    match e {
        Error::Locked(_) => e.with_remedy(Remedy::Unlock),
        e => e,
    }
}
