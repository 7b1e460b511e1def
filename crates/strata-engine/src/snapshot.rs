//! `snapshot`: a folder becomes the next final version of a dataset in one step.

use strata_core::names::validate_tag;
use strata_core::{
    Cancel, DatasetName, Diff, DiffTotals, Error, Manifest, Progress, Resolution, Result,
};
use strata_store::ingest;

use crate::draft::Change;
use crate::naming::next_semver;
use crate::Engine;

/// What a watch's snapshot leaves out: files written after `settled_before` (ns since the
/// epoch), and the whole version when the folder holds exactly `placed`.
pub(crate) struct Watched {
    pub settled_before: i64,
    pub placed: Option<strata_core::Hash>,
}

impl Engine {
    /// One step: the folder becomes a final child of the dataset's newest final or published
    /// version (or its first version). Nothing is created when the folder equals that version.
    #[tracing::instrument(skip_all, fields(dataset = %dataset))]
    pub fn snapshot(
        &mut self,
        dataset: &str,
        folder: &std::path::Path,
        tags: &[String],
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<Change> {
        match self.snapshot_settled(dataset, folder, tags, None, progress, cancel)? {
            (Some(change), _) => Ok(change),
            // Only files still being written are held back, and nothing is without a cutoff.
            (None, _) => Err(Error::Internal("a snapshot held every change back".into())),
        }
    }

    /// [`Engine::snapshot`] of what has settled: a file written or changed after
    /// `settled_before` (ns since the epoch) is held back, its previous content (if any) kept,
    /// and counted in the second value, for the next version to take. What a watch versions.
    /// `None` when every change is still being written: no version is made of what has not
    /// changed yet (not even a dataset's empty first version); `None` too when the folder holds
    /// exactly `placed` (what a `get --to` switched it to: a version that exists already).
    pub(crate) fn snapshot_settled(
        &mut self,
        dataset: &str,
        folder: &std::path::Path,
        tags: &[String],
        watched: Option<Watched>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(Option<Change>, u64)> {
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
        // The base is what `project/name` stands for by default (never a draft someone is
        // editing); the number follows the highest taken, drafts included, so none collides.
        let versions = self.catalog.versions_of(&d)?;
        let highest = versions.last().cloned();
        let latest = versions
            .into_iter()
            .rfind(|v| Resolution::Settled.admits(v.state));
        let (scan, held, mut cache) =
            self.scan_with_cache(folder, watched.as_ref().map(|w| w.settled_before), progress)?;
        let placed = watched.as_ref().and_then(|w| w.placed);
        let base = match &latest {
            Some(l) => {
                let bytes = self.store.manifest_bytes(&l.manifest)?;
                if held.is_empty() && ingest::matches_encoded(&scan, &mut cache, &bytes)? {
                    // The folder is the newest version, file for file: nothing to read, store,
                    // build or encode (the long way below holds the version decoded, the new
                    // entries and their encoding at once).
                    cache.save(scan.complete)?;
                    if placed == Some(l.manifest) {
                        return Ok((None, 0));
                    }
                    let changes = DiffTotals {
                        unchanged: scan.files.len() as u64,
                        ..DiffTotals::default()
                    };
                    return Ok((Some(unchanged(l, changes)), 0));
                }
                Manifest::decode(&bytes)?
            }
            None => Manifest::default(),
        };
        let (new, got, cache, complete, held) =
            self.ingest_settled(scan, held, cache, &base, progress, cancel)?;
        // Encoding a manifest to hash it costs as much as the manifest is long: once each. The
        // base's hash is its version's manifest id (the empty manifest's when there is none).
        let new_hash = new.hash();
        let base_hash = latest.as_ref().map_or_else(|| base.hash(), |l| l.manifest);
        if (held > 0 && new_hash == base_hash) || placed == Some(new_hash) {
            got.abort();
            cache.save(complete)?;
            return Ok((None, held));
        }
        if let Some(l) = &latest {
            if new_hash == l.manifest {
                got.abort();
                cache.save(complete)?;
                let changes = Diff::default().totals(new.len());
                return Ok((Some(unchanged(l, changes)), held));
            }
        }
        let semver = match next_semver(highest.as_ref()) {
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
        Ok((
            Some(Change {
                version: self.catalog.version(&id)?,
                created: true,
                changes: Diff::totals_between(&base, &new),
                hashed_files: stats.0,
                hashed_bytes: stats.1,
                stored_bytes: stats.2,
            }),
            held,
        ))
    }
}

/// The answer of a snapshot that made no version: the folder is `v`.
fn unchanged(v: &strata_core::Version, changes: DiffTotals) -> Change {
    Change {
        version: v.clone(),
        created: false,
        changes,
        hashed_files: 0,
        hashed_bytes: 0,
        stored_bytes: 0,
    }
}
