//! Sharing changes to versions a remote already has (publish, delete, rename, move) and the
//! offline queue. A change is appended to the remote's log at once when the remote is reachable;
//! otherwise it waits in the catalog's outbox, and `push` sends it later together with every
//! version waiting to be uploaded.

use serde::Serialize;
use strata_core::{Cancel, Error, Progress, Result, State, UploadState, Version};
use strata_remote::log::{self, Event};
use strata_remote::Connected;

use crate::pull::Renumbered;
use crate::remotes::block_on;
use crate::Engine;

/// Tries at appending to the log before giving up (each lost race means someone else wrote).
const APPEND_TRIES: usize = 50;

#[derive(Clone, Debug, Default, Serialize)]
pub struct PushOutcome {
    /// `project/name@semver` of versions uploaded.
    pub uploaded: Vec<String>,
    /// Catalog events (publish, delete, rename, move) sent.
    pub events: u64,
    pub renumbered: Vec<Renumbered>,
    pub sent_bytes: u64,
}

impl Engine {
    /// The remote a version is shared on, if it is shared anywhere.
    pub(crate) fn shared_on(v: &Version) -> Option<String> {
        match v.upload_state {
            UploadState::Uploaded | UploadState::Remote => v.remote.clone(),
            _ => None,
        }
    }

    /// Sends `event` to `remote` now, or queues it for `push` (offline, or the remote is down).
    /// Returns a warning to pass on when it was queued.
    pub(crate) fn share(&mut self, remote: &str, event: Event) -> Result<Option<String>> {
        let sent = if self.offline {
            Err(Error::invalid("offline"))
        } else {
            self.connect_to(Some(remote), None)
                .and_then(|c| block_on(self.append(&c, &event))?)
        };
        match sent {
            Ok(()) => Ok(None),
            Err(e) => {
                let json = serde_json::to_string(&event)
                    .map_err(|e| Error::Internal(format!("event encoding: {e}")))?;
                self.catalog.write(|w| w.queue_event(remote, &json))?;
                Ok(Some(format!(
                    "not yet shared on remote '{remote}' ({}); `strata push` will send it",
                    if self.offline {
                        "offline".to_string()
                    } else {
                        e.to_string()
                    }
                )))
            }
        }
    }

    /// Appends an event after applying whatever others appended first.
    pub(crate) async fn append(&mut self, c: &Connected, event: &Event) -> Result<()> {
        self.append_with(c, &strata_core::NoProgress, |_| Ok(Some(event.clone())))
            .await
            .map(|_| ())
    }

    /// Appends the event `make` builds from the catalog as it is after a pull (so it sees what
    /// others appended, and any renumbering); `make` returning `None` means nothing is owed.
    /// Returns the event's number. A lost race (someone took the number) reads and tries again.
    pub(crate) async fn append_with(
        &mut self,
        c: &Connected,
        progress: &dyn Progress,
        make: impl Fn(&Engine) -> Result<Option<Event>>,
    ) -> Result<Option<u64>> {
        for _ in 0..APPEND_TRIES {
            let pulled = self.pull_from(c, progress).await?;
            let Some(event) = make(self)? else {
                return Ok(None);
            };
            let seq = pulled.position + 1;
            let at = strata_core::time::now_ms();
            if log::try_append(c, seq, at, &crate::who(), &event).await? {
                self.catalog
                    .write(|w| w.set_log_position(&c.name, seq, at))?;
                return Ok(Some(seq));
            }
        }
        Err(Error::Remote {
            remote: c.name.clone(),
            message: "too many writers at once; try again".into(),
        })
    }

    /// Finalizes a draft and uploads it; offline, the upload waits for `push`.
    pub fn finalize_and_upload(
        &mut self,
        reference: &str,
        remote: Option<&str>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(Version, Option<crate::UploadOutcome>)> {
        let v = self.finalize(reference)?;
        self.upload_or_queue(&v, remote, progress, cancel)
    }

    /// Uploads a final version, or marks it pending when offline.
    pub fn upload_or_queue(
        &mut self,
        v: &Version,
        remote: Option<&str>,
        progress: &dyn Progress,
        cancel: &Cancel,
    ) -> Result<(Version, Option<crate::UploadOutcome>)> {
        if matches!(v.upload_state, UploadState::Uploaded | UploadState::Remote) {
            return Ok((v.clone(), None));
        }
        let d = strata_core::DatasetName::parse(&v.full_name())?;
        let spec = self.remote_for(remote, Some(&d))?;
        if self.offline {
            self.catalog
                .write(|w| w.set_remote(&v.id, Some(&spec.name), UploadState::Pending))?;
            progress.warn(&format!(
                "offline: {} will be uploaded to '{}' by `strata push`",
                v.label(),
                spec.name
            ));
            return Ok((self.catalog.version(&v.id)?, None));
        }
        let up = self.upload(&v.id, Some(&spec.name), progress, cancel);
        match up {
            Ok(o) => Ok((self.catalog.version(&v.id)?, Some(o))),
            Err(e @ Error::Cancelled) => Err(e),
            Err(e) => {
                // Keep the finalized version and its place in the queue.
                self.catalog
                    .write(|w| w.set_remote(&v.id, Some(&spec.name), UploadState::Pending))?;
                Err(Error::Remote {
                    remote: spec.name.clone(),
                    message: format!(
                        "{} is final but not uploaded ({e}); it waits for `strata push` (the app: Upload & finalize waiting)",
                        v.label()
                    ),
                })
            }
        }
    }

    /// Uploads every version waiting (queued offline, or interrupted) and sends queued events.
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
