//! `snapshot`: a folder becomes the next final version of a dataset in one step.

use strata_core::names::validate_tag;
use strata_core::{Cancel, DatasetName, Diff, Manifest, Progress, Result};

use crate::draft::Change;
use crate::naming::next_semver;
use crate::Engine;

impl Engine {
    /// One step: the folder becomes a final child of the dataset's latest version (or its first
    /// version). Nothing is created when the folder equals the latest version.
    #[tracing::instrument(skip_all, fields(dataset = %dataset))]
    pub fn snapshot(
        &mut self,
        dataset: &str,
        folder: &std::path::Path,
        tags: &[String],
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Change> {
        let d = DatasetName::parse(dataset)?;
        for t in tags {
            validate_tag(t)?;
        }
        let key = format!(
            "ds-{}",
            &blake3::hash(d.to_string().as_bytes()).to_hex()[..16]
        );
        let _lock = self.lock(&key, "snapshot", progress)?;
        let _guard = self.store.writer_guard()?;
        let latest = self.catalog.versions_of(&d)?.pop();
        let base = match &latest {
            Some(v) => self.manifest_of(v)?,
            None => Manifest::default(),
        };
        let (new, got, cache, complete) = self.scan_and_ingest(folder, &base, progress, cancel)?;
        if let Some(l) = &latest {
            if new.hash() == l.manifest {
                got.abort();
                cache.save(complete)?;
                return Ok(Change {
                    version: l.clone(),
                    created: false,
                    changes: Diff::default().totals(new.len()),
                    hashed_files: 0,
                    hashed_bytes: 0,
                    stored_bytes: 0,
                });
            }
        }
        let semver = match next_semver(latest.as_ref()) {
            Ok(s) => s,
            Err(e) => {
                got.abort();
                return Err(e);
            }
        };
        let parents: Vec<String> = latest.iter().map(|v| v.id.clone()).collect();
        let stats = (got.hashed_files, got.hashed_bytes, got.stored_bytes);
        let id = self.insert_final(
            &d,
            &semver,
            &parents,
            tags,
            "",
            &new,
            Some(got),
            Default::default(),
        )?;
        cache.save(complete)?;
        Ok(Change {
            version: self.catalog.version(&id)?,
            created: true,
            changes: Diff::between(&base, &new).totals(new.len()),
            hashed_files: stats.0,
            hashed_bytes: stats.1,
            stored_bytes: stats.2,
        })
    }
}
