//! `create`: a new draft, empty or holding its parents' content merged.

use strata_core::names::{parse_semver, validate_tag};
use strata_core::time::now_ms;
use strata_core::{DatasetName, Manifest, NewVersion, Result, State, Version};

use crate::naming::{new_version_id, next_semver, who};
use crate::Engine;

#[derive(Clone, Debug, Default)]
pub struct CreateRequest {
    pub version: Option<String>,
    pub parents: Vec<String>,
    pub tags: Vec<String>,
    pub description: String,
    /// The remote the dataset is shared through from now on (`create --output`), instead of
    /// the default one.
    pub remote: Option<String>,
}

impl Engine {
    #[tracing::instrument(skip_all, fields(dataset = %dataset))]
    pub fn create(&mut self, dataset: &str, opts: &CreateRequest) -> Result<Version> {
        let d = DatasetName::parse(dataset)?;
        for t in &opts.tags {
            validate_tag(t)?;
        }
        if let Some(r) = &opts.remote {
            // An unknown remote stops the create before anything is stored.
            self.remote(Some(r))?;
        }
        let given = opts.version.as_deref().map(parse_semver).transpose()?;
        if given.is_none() {
            // Fails before anything is stored; the number is chosen again inside the transaction.
            next_semver(self.catalog.versions_of(&d)?.last())?;
        }
        let mut parents = Vec::new();
        let mut manifests = Vec::new();
        for r in &opts.parents {
            let p = self.resolve(r)?;
            if parents.contains(&p.id) {
                continue;
            }
            manifests.push(self.manifest_of(&p)?);
            parents.push(p.id);
        }
        let manifest = Manifest::merge(manifests.iter());
        // Held until the catalog names the manifest, so a concurrent gc cannot remove it first.
        let _guard = self.store.writer_guard()?;
        let hash = self.store.put_manifest(&manifest)?;
        let by = who();
        let id = self.catalog.write(|w| {
            // Numbered inside the write transaction: two concurrent creates get 1.0.1 and 1.0.2,
            // not one 1.0.1 and a conflict.
            let semver = match &given {
                Some(s) => s.clone(),
                None => next_semver(w.versions_of(&d)?.last())?,
            };
            let id = new_version_id(&d.to_string(), &semver);
            w.insert_version(&NewVersion {
                id: &id,
                dataset: &d,
                semver: &semver,
                parents: &parents,
                state: State::Draft,
                tags: &opts.tags,
                description: &opts.description,
                metadata: &Default::default(),
                manifest: hash,
                file_count: manifest.len() as u64,
                total_bytes: manifest.total_bytes(),
                created_at: now_ms(),
                created_by: &by,
            })?;
            if let Some(r) = &opts.remote {
                w.set_dataset_remote(&d, Some(r))?;
            }
            Ok(id)
        })?;
        self.catalog.version(&id)
    }
}
