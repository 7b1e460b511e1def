//! The read-only cache: copies under `cache/views/`, each described by a small JSON file whose
//! modification time says when it was last used, and a pool of extracted objects they link to.
//!
//! A copy is removed by renaming it into `cache/tmp/trash-*` first and deleting it after: a kill
//! in between leaves only trash, which the next cache operation finishes. Nothing is ever taken
//! for a whole copy while half removed, and a leftover never blocks a later removal.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use serde::Serialize;
use strata_core::{Hash, IoContext, Result, Version};

use crate::free::Holdings;
use crate::get::{GetRequest, ViewMeta};
use crate::Engine;

/// Names of copies being removed, under `cache/tmp/`.
const TRASH_PREFIX: &str = "trash-";

/// One copy in the read-only cache.
#[derive(Clone, Debug, Serialize)]
pub struct CachedCopy {
    #[serde(flatten)]
    pub meta: ViewMeta,
    pub path: PathBuf,
    pub last_used: i64,
    pub pinned: bool,
}

/// What one version holds here: its stored content in the local store, and its read-only
/// copies.
#[derive(Clone, Debug, Serialize)]
pub struct VersionHoldings {
    pub version: String,
    pub id: String,
    /// The remote that holds it, when it is uploaded or pulled.
    pub remote: Option<String>,
    #[serde(flatten)]
    pub holdings: Holdings,
    /// Keys of its read-only copies (in `copies`).
    pub copies: Vec<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct CacheReport {
    pub copies: Vec<CachedCopy>,
    /// Every version, with how much of its content is here (`cache list` only).
    pub versions: Vec<VersionHoldings>,
    /// Bytes the cache takes on disk (extracted objects; links to the store cost nothing).
    pub disk_bytes: u64,
    pub evicted: Vec<String>,
}

impl Engine {
    #[tracing::instrument(skip_all)]
    pub fn cache_list(&self) -> Result<CacheReport> {
        self.finish_trash();
        let pinned = self.catalog.pinned()?;
        let mut copies = Vec::new();
        let views = self.views_dir();
        if let Ok(items) = fs::read_dir(&views) {
            for item in items.flatten() {
                let p = item.path();
                if p.extension().and_then(|e| e.to_str()) != Some("json")
                    || item.file_name().to_string_lossy().starts_with('.')
                {
                    continue;
                }
                let Some(meta) = fs::read(&p)
                    .ok()
                    .and_then(|b| serde_json::from_slice::<ViewMeta>(&b).ok())
                else {
                    continue;
                };
                let last_used = item
                    .metadata()
                    .map(|m| m.mtime() * 1000 + m.mtime_nsec() / 1_000_000)
                    .unwrap_or(0);
                copies.push(CachedCopy {
                    path: views.join(&meta.key),
                    pinned: pinned.contains(&meta.version_id),
                    meta,
                    last_used,
                });
            }
        }
        copies.sort_by_key(|c| std::cmp::Reverse(c.last_used));
        Ok(CacheReport {
            copies,
            versions: Vec::new(),
            disk_bytes: self.pool_bytes(),
            evicted: Vec::new(),
        })
    }

    /// The cached copies and, for every version, what it holds here.
    #[tracing::instrument(skip_all)]
    pub fn cache_list_versions(&self) -> Result<CacheReport> {
        let mut report = self.cache_list()?;
        let versions = self.catalog.all_versions()?;
        // Versions share most of their content: every distinct object is looked up once. The
        // manifests are read one entry at a time, twice, rather than all held decoded (a
        // million-file version is ~100 MB decoded).
        let mut objects: Vec<(Hash, u64)> = Vec::new();
        for v in &versions {
            let bytes = self.store.manifest_bytes(&v.manifest)?;
            let mut entries = strata_core::manifest::EncodedEntries::new(&bytes)?;
            while let Some(e) = entries.next_entry()? {
                objects.extend(e.objects());
            }
            crate::free::once_each(&mut objects);
        }
        let held = self.store.holds_each(&objects)?;
        let is_here = crate::free::held_among(&objects, &held);
        for v in versions {
            let bytes = self.store.manifest_bytes(&v.manifest)?;
            let holdings = Holdings::count_encoded(&bytes, &is_here)?;
            let remote = if crate::free::may_be_elsewhere(&v) {
                v.remote.clone()
            } else {
                None
            };
            report.versions.push(VersionHoldings {
                version: v.label(),
                copies: report
                    .copies
                    .iter()
                    .filter(|c| c.meta.version_id == v.id)
                    .map(|c| c.meta.key.clone())
                    .collect(),
                id: v.id,
                remote,
                holdings,
            });
        }
        Ok(report)
    }

    pub(crate) fn pool_bytes(&self) -> u64 {
        strata_store::gc::hashed_files(&self.pool_dir())
            .unwrap_or_default()
            .iter()
            .filter_map(|(p, _)| fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Removes least recently used, unpinned copies until the cache takes at most `max_bytes`.
    #[tracing::instrument(skip_all)]
    pub fn cache_evict(&mut self, max_bytes: u64) -> Result<CacheReport> {
        let _guard = self.store.gc_guard()?;
        let mut report = self.cache_list()?;
        let mut evicted = Vec::new();
        let mut order: Vec<CachedCopy> = report.copies.clone();
        order.sort_by_key(|c| c.last_used);
        for c in order {
            if report.disk_bytes <= max_bytes {
                break;
            }
            if c.pinned {
                continue;
            }
            self.remove_view(&c.meta.key)?;
            self.release_unlinked_pool()?;
            report.disk_bytes = self.pool_bytes();
            evicted.push(c.meta.key);
        }
        let mut after = self.cache_list()?;
        after.evicted = evicted;
        Ok(after)
    }

    /// Pins (or unpins) a version so eviction keeps its copies; pinning also makes the full copy.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn cache_pin(&mut self, reference: &str, on: bool) -> Result<Version> {
        let v = self.resolve(reference)?;
        self.catalog.write(|w| w.pin(&v.id, on))?;
        if on {
            self.get(
                &v.id,
                &GetRequest::default(),
                &strata_core::NoProgress,
                &strata_core::Cancel::new(),
            )?;
        }
        self.catalog.version(&v.id)
    }

    /// Removes a copy: renamed into the trash (a unique name, so an earlier leftover never
    /// collides), its description removed, then the trash emptied. Only the rename can fail the
    /// removal; what cannot be deleted now stays in the trash for the next cache operation.
    pub(crate) fn remove_view(&self, key: &str) -> Result<()> {
        strata_core::names::validate_file_key(key)?;
        let views = self.views_dir();
        let dir = views.join(key);
        if fs::symlink_metadata(&dir).is_ok() {
            let trash = self.trash_dir();
            fs::create_dir_all(&trash).ctx("create", &trash)?;
            let doomed = trash.join(strata_store::unique_name(TRASH_PREFIX));
            fs::rename(&dir, &doomed).ctx("remove", &dir)?;
            let _ = fs::remove_file(views.join(format!("{key}.json")));
            let _ = strata_store::remove_tree(&doomed);
        } else {
            let _ = fs::remove_file(views.join(format!("{key}.json")));
        }
        Ok(())
    }

    pub(crate) fn trash_dir(&self) -> PathBuf {
        self.cache_dir().join("tmp")
    }

    /// Empties the trash left by removals that were killed or could not delete everything
    /// (`evict-*` is the name earlier versions used). Best effort: what still resists stays.
    pub(crate) fn finish_trash(&self) {
        let Ok(items) = fs::read_dir(self.trash_dir()) else {
            return;
        };
        for item in items.flatten() {
            let name = item.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(TRASH_PREFIX) || name.starts_with("evict-") {
                let _ = strata_store::remove_tree(&item.path());
            }
        }
    }

    /// Pool files no copy links to any more.
    pub(crate) fn release_unlinked_pool(&self) -> Result<()> {
        for (p, _) in strata_store::gc::hashed_files(&self.pool_dir())? {
            if fs::metadata(&p).map(|m| m.nlink() <= 1).unwrap_or(false) {
                let _ = fs::remove_file(&p);
            }
        }
        Ok(())
    }

    /// Drops every cached copy of a version, after the catalog has deleted it. The delete is
    /// done by then and must be reported and shared as done, so nothing here fails it: a copy
    /// that cannot be moved into the trash loses its description (no longer listed or served),
    /// and what is left is removed by `gc` or a later cache operation.
    pub(crate) fn drop_cached_copies(&self, version_id: &str) -> Result<()> {
        let Ok(list) = self.cache_list() else {
            return Ok(());
        };
        for c in list.copies {
            if c.meta.version_id == version_id && self.remove_view(&c.meta.key).is_err() {
                let _ = fs::remove_file(self.views_dir().join(format!("{}.json", c.meta.key)));
            }
        }
        Ok(())
    }
}
