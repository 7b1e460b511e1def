//! How new versions are named: their ids, their next semantic version, who made them, and
//! the one way a finished version enters the catalog (snapshot, squash).

use strata_core::error::Remedy;
use strata_core::time::now_ms;
use strata_core::{semver, DatasetName, Error, Manifest, NewVersion, Result, State, Version};

use crate::Engine;

pub(crate) fn new_version_id(dataset: &str, semver: &semver::Version) -> String {
    let mut h = blake3::Hasher::new();
    h.update(dataset.as_bytes());
    h.update(semver.to_string().as_bytes());
    h.update(&strata_store::scan::now_ns().to_le_bytes());
    h.update(&std::process::id().to_le_bytes());
    h.update(strata_core::time::hostname().as_bytes());
    hex::encode(&h.finalize().as_bytes()[..16])
}

pub(crate) fn who() -> String {
    format!(
        "{}@{}",
        strata_core::time::username(),
        strata_core::time::hostname()
    )
}

/// The patch after `latest` (1.0.0 for a dataset's first version). A patch number at its maximum
/// has no successor: saying so beats wrapping to x.y.0, which would collide with an older version.
pub(crate) fn next_semver(latest: Option<&Version>) -> Result<semver::Version> {
    let Some(v) = latest else {
        return Ok(semver::Version::new(1, 0, 0));
    };
    let s = v.semver();
    // Every number must stay one `parse_semver` accepts, or the new version could not be named.
    let patch = (s.patch < strata_core::names::MAX_SEMVER_PART)
        .then_some(s.patch + 1)
        .ok_or_else(|| {
            Error::Conflict(format!("{} has no next patch version", v.label()))
                .with_remedy(Remedy::GiveVersion)
        })?;
    Ok(semver::Version::new(s.major, s.minor, patch))
}

impl Engine {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn insert_final(
        &mut self,
        d: &DatasetName,
        semver: &semver::Version,
        parents: &[String],
        tags: &[String],
        description: &str,
        manifest: &Manifest,
        ingested: Option<strata_store::Ingested>,
        metadata: serde_json::Map<String, serde_json::Value>,
    ) -> Result<String> {
        let id = new_version_id(&d.to_string(), semver);
        let by = who();
        let result = (|| {
            if let Some(g) = &ingested {
                self.store.commit(g)?;
            }
            let hash = self.store.put_manifest(manifest)?;
            self.catalog.write(|w| {
                w.insert_version(&NewVersion {
                    id: &id,
                    dataset: d,
                    semver,
                    parents,
                    state: State::Final,
                    tags,
                    description,
                    metadata: &metadata,
                    manifest: hash,
                    file_count: manifest.len() as u64,
                    total_bytes: manifest.total_bytes(),
                    created_at: now_ms(),
                    created_by: &by,
                })
            })
        })();
        if let Err(e) = result {
            if let Some(g) = ingested {
                g.abort();
            }
            return Err(e);
        }
        Ok(id)
    }
}
