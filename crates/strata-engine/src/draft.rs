//! Changing a draft's content: `add`, `remove`, `sync`; and the commit every content change
//! ends with (store first, then the catalog, so the catalog never names content the store lacks).

use std::collections::HashSet;
use std::path::PathBuf;

use serde::Serialize;
use strata_core::{
    Cancel, Diff, DiffTotals, Error, Manifest, PathFilter, Progress, Result, State, Version,
};
use strata_store::scan::{dataset_dir, scan_folder, ScanOptions};
use strata_store::{ingest, Scan, Source, StatCache};

use crate::engine::not_draft_error;
use crate::writers::Wait;
use crate::Engine;

/// How `add` takes files: under which dataset folder, which ones, how deep.
#[derive(Clone, Debug)]
pub struct AddRequest {
    /// Dataset folder to put files under (`--to`).
    pub to: Option<String>,
    /// Only files matching one of these (relative to each added folder).
    pub globs: Vec<String>,
    pub recursive: bool,
}

impl Default for AddRequest {
    fn default() -> Self {
        AddRequest {
            to: None,
            globs: Vec::new(),
            recursive: true,
        }
    }
}

/// The outcome of an operation that changed (or could have changed) a version's content.
#[derive(Clone, Debug, Serialize)]
pub struct Change {
    pub version: Version,
    /// False when nothing changed (a snapshot of an unchanged folder makes no version).
    pub created: bool,
    /// Against the version's previous content (or its parent, for new versions).
    pub changes: DiffTotals,
    pub hashed_files: u64,
    pub hashed_bytes: u64,
    pub stored_bytes: u64,
}

impl Engine {
    /// Adds files and folders (folder contents go under `to`); a changed file replaces its entry.
    ///
    /// Fails at once, naming the holder, when another writer has the draft: adding can take
    /// minutes, and so can the holder.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn add(
        &mut self,
        reference: &str,
        paths: &[PathBuf],
        opts: &AddRequest,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Change> {
        if paths.is_empty() {
            return Err(Error::invalid("nothing to add: give at least one path"));
        }
        let prefix = dataset_dir(opts.to.as_deref().unwrap_or(""))?;
        let filter = PathFilter::new(&opts.globs)?;
        let (_lock, v) = self.lock_draft(reference, "add", Wait::No, Some(progress))?;
        let _guard = self.store.writer_guard()?;
        let old = self.manifest_of(&v)?;
        // Scan everything first so a bad path fails before any content is written.
        let mut scans = Vec::new();
        for p in paths {
            let scan_opts = ScanOptions {
                filter: (!filter.is_empty()).then_some(&filter),
                recursive: opts.recursive,
                prefix: &prefix,
                allow_file: true,
                ignores: true,
            };
            scans.push(scan_folder(p, &scan_opts, progress)?);
        }
        let mut new = old.clone();
        let mut all = Vec::new();
        let mut caches = Vec::new();
        let mut stats = (0, 0, 0);
        for scan in &mut scans {
            cancel.check()?;
            let mut cache = StatCache::load(self.store.root(), &scan.root);
            let got = ingest::ingest(&self.store, scan, &mut cache, &old, progress, cancel);
            let mut got = match got {
                Ok(g) => g,
                Err(e) => {
                    all.into_iter().for_each(strata_store::Ingested::abort);
                    return Err(e);
                }
            };
            stats.0 += got.hashed_files;
            stats.1 += got.hashed_bytes;
            stats.2 += got.stored_bytes;
            new.upsert(std::mem::take(&mut got.entries));
            caches.push((cache, scan.complete));
            all.push(got);
        }
        self.commit_content(&v, &old, new, all, caches, stats)
    }

    /// Removes entries matching any of the patterns (dataset paths or globs). Waits up to
    /// [`SHORT_WAIT`](crate::SHORT_WAIT) for another writer of the draft: it hashes nothing.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn remove(&mut self, reference: &str, patterns: &[String]) -> Result<Change> {
        if patterns.is_empty() {
            return Err(Error::invalid("nothing to remove: give paths or globs"));
        }
        let filter = PathFilter::new(patterns)?;
        let (_lock, v) = self.lock_draft(reference, "remove", Wait::Short, None)?;
        let _guard = self.store.writer_guard()?;
        let old = self.manifest_of(&v)?;
        let mut new = old.clone();
        let exact: HashSet<&str> = patterns.iter().map(|p| p.trim_matches('/')).collect();
        let gone = new.remove_where(|e| {
            exact.contains(e.path.as_str())
                || filter.matches(&e.path)
                || exact
                    .iter()
                    .any(|p| e.path.starts_with(p) && e.path[p.len()..].starts_with('/'))
        });
        if gone.is_empty() {
            return Err(Error::not_found("entries matching", patterns.join(" ")));
        }
        self.commit_content(&v, &old, new, Vec::new(), Vec::new(), (0, 0, 0))
    }

    /// Makes the draft equal to a folder: adds new files, replaces changed ones, removes the rest.
    /// Like `add`, fails at once when another writer has the draft.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn sync(
        &mut self,
        reference: &str,
        folder: &std::path::Path,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Change> {
        let (_lock, v) = self.lock_draft(reference, "sync", Wait::No, Some(progress))?;
        let _guard = self.store.writer_guard()?;
        let old = self.manifest_of(&v)?;
        let (new, got, cache, complete, _) =
            self.scan_and_ingest(folder, &old, None, progress, cancel)?;
        let stats = (got.hashed_files, got.hashed_bytes, got.stored_bytes);
        self.commit_content(&v, &old, new, vec![got], vec![(cache, complete)], stats)
    }

    /// Scans a folder and stores what is new. With `settled_before` (ns since the epoch), a file
    /// written or changed after it is still being written: it is held back (its entry in `base`,
    /// if any, stays) and counted in the last value returned, for a later version to take.
    pub(crate) fn scan_and_ingest(
        &self,
        folder: &std::path::Path,
        base: &Manifest,
        settled_before: Option<i64>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(Manifest, strata_store::Ingested, StatCache, bool, u64)> {
        let (scan, held, cache) = self.scan_with_cache(folder, settled_before, progress)?;
        self.ingest_settled(scan, held, cache, base, progress, cancel)
    }

    /// [`scan_settled`], with the folder's stat cache loaded meanwhile on another thread: the
    /// walk waits on the filesystem, and the cache of a million files is a 100 MB read.
    pub(crate) fn scan_with_cache(
        &self,
        folder: &std::path::Path,
        settled_before: Option<i64>,
        progress: &dyn Progress,
    ) -> Result<(Scan, Vec<Source>, StatCache)> {
        // The scan's root, as the cache is keyed by it (the scan of a folder takes this path);
        // a path it cannot resolve is the scan's to refuse.
        let root = std::path::absolute(folder).ok();
        let store_root = self.store.root();
        let (scanned, cache) = std::thread::scope(|s| {
            let cache = s.spawn(|| root.as_ref().map(|r| StatCache::load(store_root, r)));
            let scanned = scan_settled(folder, settled_before, progress);
            (scanned, cache.join())
        });
        let (scan, held) = scanned?;
        let cache = match cache {
            Ok(Some(c)) if root.as_ref() == Some(&scan.root) => c,
            _ => StatCache::load(self.store.root(), &scan.root),
        };
        Ok((scan, held, cache))
    }

    /// The second half of [`scan_and_ingest`](Engine::scan_and_ingest): stores what is new
    /// in a scan made by [`scan_settled`].
    pub(crate) fn ingest_settled(
        &self,
        mut scan: Scan,
        held: Vec<Source>,
        mut cache: StatCache,
        base: &Manifest,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(Manifest, strata_store::Ingested, StatCache, bool, u64)> {
        let mut got = ingest::ingest(&self.store, &mut scan, &mut cache, base, progress, cancel)?;
        let mut new = Manifest::from_entries(std::mem::take(&mut got.entries));
        let kept: Vec<_> = held
            .iter()
            .filter_map(|f| base.get(&scan.dataset_path(f)).cloned())
            .collect();
        new.upsert(kept);
        Ok((new, got, cache, scan.complete, held.len() as u64))
    }

    /// Index the new content, store the manifest, then point the catalog at it: in that order, so
    /// the catalog never names content the store lacks.
    ///
    /// `v` is the version as read under its writer lock and `new` was computed from its manifest.
    /// The catalog is checked again inside the write: if the draft was finalized, or its content
    /// changed (a forced unlock let another writer in), nothing is written, so no one's change
    /// is silently replaced.
    pub(crate) fn commit_content(
        &mut self,
        v: &Version,
        old: &Manifest,
        new: Manifest,
        ingested: Vec<strata_store::Ingested>,
        caches: Vec<(StatCache, bool)>,
        stats: (u64, u64, u64),
    ) -> Result<Change> {
        let result = (|| {
            for g in &ingested {
                self.store.commit(g)?;
            }
            let hash = self.store.put_manifest(&new)?;
            self.catalog.write(|w| {
                let cur = w.version(&v.id)?;
                if cur.state != State::Draft {
                    return Err(not_draft_error(&cur));
                }
                if cur.manifest != v.manifest {
                    return Err(Error::Conflict(format!(
                        "{} was changed by another writer meanwhile; nothing was changed, run \
                         the command again",
                        cur.label()
                    )));
                }
                w.set_manifest(&v.id, hash, new.len() as u64, new.total_bytes())
            })
        })();
        if let Err(e) = result {
            ingested.into_iter().for_each(strata_store::Ingested::abort);
            return Err(e);
        }
        for (c, complete) in caches {
            c.save(complete)?;
        }
        let changes = Diff::between(old, &new).totals(new.len());
        Ok(Change {
            version: self.catalog.version(&v.id)?,
            created: false,
            changes,
            hashed_files: stats.0,
            hashed_bytes: stats.1,
            stored_bytes: stats.2,
        })
    }
}

/// Scans a folder for a snapshot or a sync. With `settled_before` (ns since the epoch), a file
/// written or changed after it is still being written: it is left out of the scan and returned
/// apart, held back for a later version.
pub(crate) fn scan_settled(
    folder: &std::path::Path,
    settled_before: Option<i64>,
    progress: &dyn Progress,
) -> Result<(Scan, Vec<Source>)> {
    let mut scan = scan_folder(folder, &ScanOptions::default(), progress)?;
    let mut held = Vec::new();
    if let Some(cutoff) = settled_before {
        // Sorted out in place, the order kept: a second list of every settled file would hold
        // the scan twice for a moment. Held-back files are few; their paths move, not copied.
        scan.files.retain_mut(|f| {
            let settled = f.stat.mtime_ns.max(f.stat.ctime_ns) < cutoff;
            if !settled {
                held.push(Source {
                    rel: std::mem::take(&mut f.rel),
                    stat: f.stat,
                });
            }
            settled
        });
        // The stat cache must not forget files it did not see this time.
        scan.complete &= held.is_empty();
    }
    Ok((scan, held))
}
