//! `push`: everything waiting (versions to upload, queued changes) sent in one action.

use serde::Serialize;
use strata_core::{Cancel, Error, Progress, Result, State, UploadState, Version};
use strata_remote::log::Event;

use crate::pull::Renumbered;
use crate::runtime::block_on;
use crate::Engine;

#[derive(Clone, Debug, Default, Serialize)]
pub struct PushOutcome {
    /// `project/name@semver` of versions uploaded.
    pub uploaded: Vec<String>,
    /// Catalog events (publish, delete, rename, move, tags, descriptions, metadata) sent.
    pub events: u64,
    pub renumbered: Vec<Renumbered>,
    pub sent_bytes: u64,
}

impl Engine {
    /// Uploads every version waiting (queued offline, or interrupted) and sends queued events.
    #[tracing::instrument(skip_all, fields(remote = ?remote))]
    pub fn push(
        &mut self,
        remote: Option<&str>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<PushOutcome> {
        self.online("push")?;
        let only = remote.map(|r| self.remote(Some(r))).transpose()?;
        let default = self.remote(None).ok().map(|r| r.name);
        let mut out = PushOutcome::default();
        let waiting: Vec<Version> = self
            .catalog
            .all_versions()?
            .into_iter()
            .filter(|v| {
                v.state != State::Draft
                    && matches!(
                        v.upload_state,
                        UploadState::Pending | UploadState::Uploading
                    )
            })
            .collect();
        for v in waiting {
            let target = v.remote.clone().or_else(|| default.clone());
            if let (Some(o), Some(t)) = (&only, &target) {
                if &o.name != t {
                    continue;
                }
            }
            let Ok(v) = self.catalog.version(&v.id) else {
                continue;
            };
            if matches!(v.upload_state, UploadState::Uploaded | UploadState::Remote) {
                continue; // uploaded as an ancestor of an earlier one
            }
            let o = self.upload(&v.id, target.as_deref(), progress, cancel)?;
            out.sent_bytes += o.sent_bytes;
            out.uploaded.extend(o.uploaded);
            if let Some(from) = o.renumbered_from {
                out.renumbered.push(Renumbered {
                    id: o.id.clone(),
                    dataset: v.full_name(),
                    from,
                    to: o.version.rsplit('@').next().unwrap_or_default().to_string(),
                });
            }
        }
        for (id, remote_name, json) in self.catalog.outbox()? {
            if only.as_ref().is_some_and(|o| o.name != remote_name) {
                continue;
            }
            let event: Event = serde_json::from_str(&json).map_err(|e| Error::Corrupt {
                what: "catalog outbox".into(),
                detail: e.to_string(),
            })?;
            let c = self.connect_writable(Some(&remote_name), None)?;
            block_on(self.append(&c, &event))??;
            self.catalog.write(|w| w.unqueue_event(id))?;
            out.events += 1;
        }
        Ok(out)
    }

    /// Versions waiting to be uploaded and events waiting to be sent.
    /// Finalizes the drafts named (each queued for its remote), then pushes everything waiting:
    /// "Upload & finalize waiting" in one action. A draft finalized before a failed push stays
    /// final and queued, as a version finalized offline does.
    #[tracing::instrument(skip_all, fields(drafts = drafts.len()))]
    pub fn finalize_and_push(
        &mut self,
        drafts: &[String],
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<PushOutcome> {
        self.online("push")?;
        for d in drafts {
            cancel.check()?;
            let v = self.finalize(d)?;
            if v.upload_state == UploadState::Local {
                let dataset = strata_core::DatasetName::parse(&v.full_name())?;
                let spec = self.remote_for(None, Some(&dataset))?;
                self.catalog
                    .write(|w| w.set_remote(&v.id, Some(&spec.name), UploadState::Pending))?;
            }
        }
        self.push(None, progress, cancel)
    }

    /// Drafts: what "Upload & finalize waiting" offers to finalize besides what waits.
    pub fn drafts(&self) -> Result<Vec<Version>> {
        Ok(self
            .catalog
            .all_versions()?
            .into_iter()
            .filter(|v| v.state == State::Draft)
            .collect())
    }

    pub fn pending(&self) -> Result<(Vec<Version>, usize)> {
        let vs = self
            .catalog
            .all_versions()?
            .into_iter()
            .filter(|v| {
                matches!(
                    v.upload_state,
                    UploadState::Pending | UploadState::Uploading
                )
            })
            .collect();
        Ok((vs, self.catalog.outbox()?.len()))
    }
}
