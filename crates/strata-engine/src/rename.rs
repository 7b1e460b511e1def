//! `rename` and `move`: a dataset's new name or project, here and on the remotes sharing it.

use strata_core::names::{validate_project, validate_segment};
use strata_core::{DatasetName, Result};
use strata_remote::log::Event;

use crate::share::shared_remotes;
use crate::Engine;

impl Engine {
    #[tracing::instrument(skip_all, fields(dataset = %dataset))]
    pub fn rename(&mut self, dataset: &str, new_name: &str) -> Result<DatasetName> {
        let from = DatasetName::parse(dataset)?;
        validate_segment(new_name, "dataset name")?;
        let to = DatasetName {
            project: from.project.clone(),
            name: new_name.to_string(),
        };
        self.relocate(&from, &to)?;
        Ok(to)
    }

    #[tracing::instrument(skip_all, fields(dataset = %dataset))]
    pub fn move_dataset(&mut self, dataset: &str, new_project: &str) -> Result<DatasetName> {
        let from = DatasetName::parse(dataset)?;
        let project = new_project.trim_matches('/');
        validate_project(project)?;
        let to = DatasetName {
            project: project.to_string(),
            name: from.name.clone(),
        };
        self.relocate(&from, &to)?;
        Ok(to)
    }

    /// Renames or moves a dataset here, and on every remote that has versions of it.
    pub(crate) fn relocate(&mut self, from: &DatasetName, to: &DatasetName) -> Result<()> {
        let versions = self.catalog.versions_of(from)?;
        self.catalog.write(|w| w.relocate_dataset(from, to))?;
        for r in shared_remotes(&versions) {
            self.share(
                &r,
                Event::Rename {
                    from: from.to_string(),
                    to: to.to_string(),
                },
            )?;
        }
        Ok(())
    }
}
