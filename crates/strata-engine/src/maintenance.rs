//! Checking and cleaning the store: verify and gc.

use std::collections::HashSet;

use serde::Serialize;
use strata_core::{Cancel, Progress, Result};
use strata_store::gc::{self, GcReport};
use strata_store::verify::{verify, Mismatch};

use crate::Engine;

#[derive(Clone, Debug, Serialize)]
pub struct VerifyReport {
    pub version: String,
    pub id: String,
    pub files: u64,
    pub bytes: u64,
    pub mismatches: Vec<Mismatch>,
    /// Files of this version's read-only cached copies that differ from their content (edited
    /// through the copy) or are missing. The store is fine; `strata get` restores them.
    pub edited_copies: Vec<Mismatch>,
}

impl VerifyReport {
    pub(crate) fn new(
        v: &strata_core::Version,
        m: &strata_core::Manifest,
        mismatches: Vec<Mismatch>,
    ) -> Self {
        VerifyReport {
            version: v.label(),
            id: v.id.clone(),
            files: m.len() as u64,
            bytes: m.total_bytes(),
            mismatches,
            edited_copies: Vec::new(),
        }
    }
}

impl Engine {
    /// Re-hashes every stored file of a version; lists every mismatch.
    pub fn verify(
        &self,
        reference: &str,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<VerifyReport> {
        let v = self.resolve(reference)?;
        if v.upload_state == strata_core::UploadState::Remote {
            return Err(strata_core::Error::invalid(format!(
                "{} is remote-only: nothing here to check; use --remote {}, or `strata get` it first",
                v.label(),
                v.remote.as_deref().unwrap_or("NAME")
            )));
        }
        let m = self.manifest_of(&v)?;
        let (linked, stored): (Vec<&strata_core::Entry>, Vec<&strata_core::Entry>) =
            m.entries().iter().partition(|e| e.link.is_some());
        let stored: Vec<strata_core::Entry> = stored.into_iter().cloned().collect();
        let mut mismatches = verify(&self.store, &stored, progress, cancel)?;
        mismatches.extend(self.verify_links(&v, &linked, cancel)?);
        let mut report = VerifyReport::new(&v, &m, mismatches);
        report.edited_copies = self.verify_cached_copies(&v, progress, cancel)?;
        Ok(report)
    }

    /// Re-hashes every file of the version's read-only cached copies (those `get` would hand
    /// out: a draft's copies of an earlier content are never served again).
    fn verify_cached_copies(
        &self,
        v: &strata_core::Version,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Vec<Mismatch>> {
        let mut out = Vec::new();
        for c in self.cache_list()?.copies {
            if c.meta.version_id != v.id || !c.path.is_dir() {
                continue;
            }
            let opts = crate::GetOptions {
                include: c.meta.include.clone(),
                exclude: c.meta.exclude.clone(),
                fraction: c.meta.fraction,
                seed: c.meta.seed.unwrap_or_default(),
                ..Default::default()
            };
            if crate::copy::view_key(v, &opts) != c.meta.key {
                continue;
            }
            let (_, entries) = self.select(&v.id, &opts)?;
            out.extend(strata_store::verify::verify_copy(
                &c.path, &entries, progress, cancel,
            )?);
        }
        Ok(out)
    }

    /// Removes content no version refers to, and cached copies of deleted versions.
    pub fn gc(&mut self, dry_run: bool, progress: &dyn Progress) -> Result<GcReport> {
        let _guard = self.store.gc_guard()?;
        let versions = self.catalog.all_versions()?;
        let mut live = HashSet::new();
        let mut manifests = HashSet::new();
        for v in &versions {
            manifests.insert(v.manifest);
            for e in self.manifest_of(v)?.entries() {
                live.insert(e.hash);
            }
        }
        self.finish_trash();
        let ids: HashSet<&str> = versions.iter().map(|v| v.id.as_str()).collect();
        let mut report = GcReport::default();
        for c in self.cache_list()?.copies {
            if !ids.contains(c.meta.version_id.as_str()) {
                if !dry_run {
                    self.drop_cached_copies(&c.meta.version_id)?;
                }
                report.cache_files_removed += c.meta.files;
            }
        }
        let r = gc::collect(
            &self.store,
            &live,
            &manifests,
            &self.pool_dir(),
            dry_run,
            progress,
        )?;
        Ok(GcReport {
            cache_files_removed: report.cache_files_removed + r.cache_files_removed,
            ..r
        })
    }
}
