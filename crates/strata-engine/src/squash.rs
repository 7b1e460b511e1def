//! `squash`: a new independent version merging the content of several.

use strata_core::{DatasetName, Error, Manifest, Result, Version};

use crate::naming::next_semver;
use crate::Engine;

impl Engine {
    /// A new, independent, final version of `dataset` holding the given versions' content merged
    /// in order (later ones win on the same path).
    #[tracing::instrument(skip_all, fields(dataset = %dataset))]
    pub fn squash(&mut self, dataset: &str, references: &[String]) -> Result<Version> {
        if references.len() < 2 {
            return Err(Error::invalid("squash needs at least two versions"));
        }
        let d = DatasetName::parse(dataset)?;
        let mut manifests = Vec::new();
        let mut labels = Vec::new();
        for r in references {
            let v = self.resolve(r)?;
            manifests.push(self.manifest_of(&v)?);
            labels.push(serde_json::Value::String(v.id.clone()));
        }
        let merged = Manifest::merge(manifests.iter());
        let _guard = self.store.writer_guard()?;
        let semver = next_semver(self.catalog.versions_of(&d)?.last())?;
        let mut meta = serde_json::Map::new();
        meta.insert("squashed_from".into(), serde_json::Value::Array(labels));
        let id = self.insert_final(&d, &semver, &[], &[], "squash", &merged, None, meta)?;
        self.catalog.version(&id)
    }
}
