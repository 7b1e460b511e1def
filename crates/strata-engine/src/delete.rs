//! `delete`: a version, or a whole dataset, out of the catalog (content stays until `gc`),
//! here and on the remotes that share it.

use strata_core::error::Remedy;
use strata_core::{DatasetName, Error, Result, State, Version};
use strata_remote::log::Event;

use crate::share::shared_remotes;
use crate::writers::Wait;
use crate::Engine;

impl Engine {
    /// Deletes a version from the catalog; its content stays in the store until `gc`. Waits up to
    /// [`SHORT_WAIT`](crate::SHORT_WAIT) for a writer of the version, so a draft is never deleted
    /// under an `add` that then reports success.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn delete(&mut self, reference: &str, force: bool) -> Result<Version> {
        let v = self.resolve(reference)?;
        let (_lock, v) = self.lock_version(&v.id, "delete", Wait::Short, None)?;
        let children = self.catalog.children_of(&v.id)?;
        if !children.is_empty() && !force {
            let names: Vec<String> = children.iter().map(Version::label).collect();
            return Err(Error::Conflict(format!(
                "{} is a parent of {}",
                v.label(),
                names.join(", ")
            ))
            .with_remedy(Remedy::Force));
        }
        self.catalog.write(|w| w.delete_version(&v.id))?;
        self.drop_cached_copies(&v.id)?;
        if let Some(r) = Engine::shared_on(&v) {
            self.share(&r, Event::Delete { id: v.id.clone() })?;
        }
        Ok(v)
    }

    /// Deletes a dataset and all its versions. Its drafts' writers are waited for as in
    /// [`Engine::delete`]; final versions have none.
    #[tracing::instrument(skip_all, fields(dataset = %dataset))]
    pub fn delete_dataset(&mut self, dataset: &str) -> Result<Vec<Version>> {
        let d = DatasetName::parse(dataset)?;
        self.catalog.require_dataset(&d)?;
        let mut held = Vec::new();
        for v in self.catalog.versions_of(&d)? {
            if v.state == State::Draft {
                held.push(self.lock_version(&v.id, "delete", Wait::Short, None)?);
            }
        }
        let versions = self.catalog.versions_of(&d)?;
        self.catalog.write(|w| w.delete_dataset(&d))?;
        for v in &versions {
            self.drop_cached_copies(&v.id)?;
        }
        for r in shared_remotes(&versions) {
            self.share(
                &r,
                Event::DeleteDataset {
                    dataset: d.to_string(),
                },
            )?;
        }
        Ok(versions)
    }
}
