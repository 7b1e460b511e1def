//! `status`: what a snapshot of a folder would record against the dataset's newest version,
//! without making one. The folder is read the way a snapshot reads it (the stat cache answers for
//! unchanged files, the others are hashed) but nothing is stored, so a folder without changes
//! costs what a no-change snapshot costs, and a watcher can ask it often.

use std::path::{Path, PathBuf};

use serde::Serialize;
use strata_core::manifest::Change;
use strata_core::{Cancel, DatasetName, Diff, Manifest, Progress, Resolution, Result};
use strata_store::ingest::{self, Hashed};
use strata_store::scan::{scan_folder, ScanOptions};
use strata_store::{Scan, StatCache};

use crate::Engine;

/// At most this many paths per list: a folder of a million new files must not make a document
/// of a million lines. The counts are always complete.
pub const STATUS_PATHS: usize = 1000;

/// A folder against a dataset's newest version.
#[derive(Clone, Debug, Serialize)]
pub struct FolderStatus {
    pub dataset: String,
    /// The folder, absolute.
    pub folder: PathBuf,
    /// The version compared against (`project/name@semver`); none when the dataset has no final
    /// or published version, and then every file is added.
    pub against: Option<String>,
    pub added: u64,
    pub modified: u64,
    pub removed: u64,
    pub unchanged: u64,
    /// Sorted; each list holds at most [`STATUS_PATHS`] paths.
    pub added_paths: Vec<String>,
    pub modified_paths: Vec<String>,
    pub removed_paths: Vec<String>,
    /// True when a list was cut short.
    pub truncated: bool,
    /// Files whose stat had changed since they were last read, and were hashed now.
    pub hashed_files: u64,
    pub hashed_bytes: u64,
}

impl FolderStatus {
    /// Files a snapshot would add, change or remove: the watcher's "pending changes".
    pub fn pending(&self) -> u64 {
        self.added + self.modified + self.removed
    }
}

/// A folder read without storing anything: its scan, its entries, and its stat cache updated
/// with every hash read (not saved yet).
pub(crate) struct FolderRead {
    pub scan: Scan,
    pub hashed: Hashed,
    pub cache: StatCache,
}

impl FolderRead {
    /// Keeps the hashes read for the next scan of the folder. Best effort: a cache that could not
    /// be written only costs reading those files again.
    pub fn save_cache(self) {
        if let Err(e) = self.cache.save(self.scan.complete) {
            tracing::debug!(error = %e, "stat cache not saved");
        }
        self.scan.drop_aside();
    }
}

impl Engine {
    /// What a snapshot of `folder` would record against the dataset's newest final or published
    /// version: added, modified and removed paths. Makes no version and stores no content.
    ///
    /// The hashes read are kept in the folder's stat cache: they are true of the files as read,
    /// and a snapshot trusts a cached hash only when the store holds that content, so the next
    /// `status` (and a snapshot, for files touched but unchanged) need not read them again.
    #[tracing::instrument(skip_all, fields(dataset = %dataset))]
    pub fn status(
        &self,
        dataset: &str,
        folder: &Path,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<FolderStatus> {
        let d = DatasetName::parse(dataset)?;
        // What a snapshot would be a child of: never a draft, whatever `project/name` is set to
        // reach for reading.
        let against = self.catalog.newest(&d, Resolution::Settled)?;
        let (scan, _, mut cache) = self.scan_with_cache(folder, None, progress)?;
        let base = match &against {
            Some(v) => {
                let bytes = self.store.manifest_bytes(&v.manifest)?;
                if ingest::matches_encoded(&scan, &mut cache, &bytes)? {
                    // Every file is the version's, as the stat cache vouches: nothing to read,
                    // and no list of entries to build or compare.
                    let status = FolderStatus {
                        dataset: d.to_string(),
                        folder: scan.root.clone(),
                        against: Some(v.label()),
                        added: 0,
                        modified: 0,
                        removed: 0,
                        unchanged: scan.files.len() as u64,
                        added_paths: Vec::new(),
                        modified_paths: Vec::new(),
                        removed_paths: Vec::new(),
                        truncated: false,
                        hashed_files: 0,
                        hashed_bytes: 0,
                    };
                    FolderRead {
                        scan,
                        hashed: Hashed::default(),
                        cache,
                    }
                    .save_cache();
                    return Ok(status);
                }
                Manifest::decode(&bytes)?
            }
            None => Manifest::default(),
        };
        let hashed = ingest::hash_only(&scan, &mut cache, progress, cancel)?;
        let mut read = FolderRead {
            scan,
            hashed,
            cache,
        };
        let now = Manifest::from_entries(std::mem::take(&mut read.hashed.entries));
        let totals = Diff::totals_between(&base, &now);
        // Only the paths shown are copied: a first status of a million files lists 1000.
        let (mut added_paths, mut modified_paths, mut removed_paths) = (vec![], vec![], vec![]);
        let mut cut = false;
        Diff::visit(&base, &now, |c| {
            let (list, e) = match c {
                Change::Added(e) => (&mut added_paths, e),
                Change::Modified(_, e) => (&mut modified_paths, e),
                Change::Removed(e) => (&mut removed_paths, e),
            };
            if list.len() < STATUS_PATHS {
                list.push(e.path.clone());
            } else {
                cut = true;
            }
        });
        let status = FolderStatus {
            dataset: d.to_string(),
            folder: read.scan.root.clone(),
            against: against.map(|v| v.label()),
            added: totals.added,
            modified: totals.modified,
            removed: totals.removed,
            unchanged: totals.unchanged,
            added_paths,
            modified_paths,
            removed_paths,
            truncated: cut,
            hashed_files: read.hashed.hashed_files,
            hashed_bytes: read.hashed.hashed_bytes,
        };
        read.save_cache();
        Ok(status)
    }

    /// Reads `folder` as a snapshot would (every file, the stat cache answering for unchanged
    /// ones) but stores nothing.
    pub(crate) fn read_folder(
        &self,
        folder: &Path,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<FolderRead> {
        let scan = scan_folder(folder, &ScanOptions::default(), progress)?;
        let mut cache = StatCache::load(self.store.root(), &scan.root);
        let hashed = ingest::hash_only(&scan, &mut cache, progress, cancel)?;
        Ok(FolderRead {
            scan,
            hashed,
            cache,
        })
    }
}
