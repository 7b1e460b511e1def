//! Reading the catalog: datasets, versions, one version with its parents and children, a
//! version's files, a dataset's lineage.

use serde::Serialize;
use strata_core::{DatasetName, DatasetSummary, Entry, PathFilter, Result, Version};

use crate::Engine;

/// One version as a page or `show` presents it: with its parents (those still in the catalog;
/// `missing_parents` names the others) and its children.
#[derive(Clone, Debug, Serialize)]
pub struct VersionDetail {
    #[serde(flatten)]
    pub version: Version,
    pub parent_versions: Vec<Version>,
    /// Parents no longer in the catalog (deleted, or not pulled).
    pub missing_parents: Vec<String>,
    pub children: Vec<Version>,
}

impl Engine {
    /// A version with its parents and children.
    pub fn show(&self, reference: &str) -> Result<VersionDetail> {
        let version = self.resolve(reference)?;
        let mut parent_versions = Vec::new();
        let mut missing_parents = Vec::new();
        for p in &version.parents {
            match self.catalog.version(p) {
                Ok(v) => parent_versions.push(v),
                Err(strata_core::Error::NotFound { .. }) => missing_parents.push(p.clone()),
                Err(e) => return Err(e),
            }
        }
        let children = self.catalog.children_of(&version.id)?;
        Ok(VersionDetail {
            version,
            parent_versions,
            missing_parents,
            children,
        })
    }

    /// Datasets under a project (or one dataset), each with its latest version.
    pub fn list(&self, filter: Option<&str>, tags: &[String]) -> Result<Vec<DatasetSummary>> {
        let filter = filter.map(|f| f.trim_matches('/'));
        let mut out = self.catalog.datasets(filter)?;
        if !tags.is_empty() {
            out.retain(|d| {
                d.latest
                    .as_ref()
                    .is_some_and(|v| tags.iter().all(|t| v.tags.contains(t)))
            });
        }
        Ok(out)
    }

    /// Every version under a project (or of one dataset), optionally with all the given tags.
    pub fn list_versions(&self, filter: Option<&str>, tags: &[String]) -> Result<Vec<Version>> {
        let filter = filter.map(|f| f.trim_matches('/'));
        let mut out = Vec::new();
        for d in self.catalog.datasets(filter)? {
            let name = DatasetName {
                project: d.project,
                name: d.name,
            };
            for v in self.catalog.versions_of(&name)? {
                if tags.iter().all(|t| v.tags.contains(t)) {
                    out.push(v);
                }
            }
        }
        Ok(out)
    }

    pub fn files(&self, reference: &str, glob: &[String]) -> Result<Vec<Entry>> {
        let v = self.resolve(reference)?;
        let filter = PathFilter::new(glob)?;
        let m = self.manifest_of(&v)?;
        Ok(m.into_entries()
            .into_iter()
            .filter(|e| filter.is_empty() || filter.matches(&e.path))
            .collect())
    }

    /// A dataset's versions, newest first, for drawing the lineage.
    pub fn log(&self, dataset: &str) -> Result<Vec<Version>> {
        let d = DatasetName::parse(dataset)?;
        self.catalog.require_dataset(&d)?;
        let mut vs = self.catalog.versions_of(&d)?;
        vs.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.semver().cmp(&a.semver()))
        });
        Ok(vs)
    }
}
