//! Reading the catalog: list, show, files, diff, log.

use serde::Serialize;
use strata_core::{
    DatasetName, DatasetSummary, Diff, DiffTotals, Entry, PathFilter, Result, Version,
};

use crate::Engine;

#[derive(Clone, Debug, Serialize)]
pub struct VersionDiff {
    pub from: Version,
    pub to: Version,
    pub totals: DiffTotals,
    pub added: Vec<Entry>,
    pub removed: Vec<Entry>,
    pub modified: Vec<Modified>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Modified {
    pub path: String,
    pub old_size: u64,
    pub new_size: u64,
    pub old_hash: strata_core::Hash,
    pub new_hash: strata_core::Hash,
}

impl Engine {
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

    pub fn diff(&self, from: &str, to: &str) -> Result<VersionDiff> {
        let a = self.resolve(from)?;
        let b = self.resolve(to)?;
        let (ma, mb) = (self.manifest_of(&a)?, self.manifest_of(&b)?);
        let d = Diff::between(&ma, &mb);
        Ok(VersionDiff {
            totals: d.totals(mb.len()),
            from: a,
            to: b,
            added: d.added,
            removed: d.removed,
            modified: d
                .modified
                .into_iter()
                .map(|(o, n)| Modified {
                    path: n.path,
                    old_size: o.size,
                    new_size: n.size,
                    old_hash: o.hash,
                    new_hash: n.hash,
                })
                .collect(),
        })
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
