//! `diff`: what changed between two versions.

use serde::Serialize;
use strata_core::{Diff, DiffTotals, Entry, Result, Version};

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
    #[tracing::instrument(skip_all)]
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
}
