//! Sharing a change to versions a remote already has (publish, delete, rename, move, tags,
//! descriptions, metadata): the remote's log writer, and the offline queue a change waits in
//! when the remote is out of reach.

use strata_core::error::Kind;
use strata_core::{Error, Progress, Result, UploadState, Version};
use strata_remote::log::Event;
use strata_remote::{log, Connected};

use crate::runtime::block_on;
use crate::Engine;

/// Tries at appending to the log before giving up (each lost race means someone else wrote).
const APPEND_TRIES: usize = 50;

impl Engine {
    /// The remote a version is shared on, if it is shared anywhere.
    pub(crate) fn shared_on(v: &Version) -> Option<String> {
        match v.upload_state {
            UploadState::Uploaded | UploadState::Remote => v.remote.clone(),
            _ => None,
        }
    }

    /// Sends `event` to `remote` now, or queues it for `push` (offline, or the remote is down)
    /// and warns (the warning reaches the front end through [`Engine::take_warnings`]).
    pub(crate) fn share(&mut self, remote: &str, event: Event) -> Result<()> {
        let sent = if self.offline {
            Err(Error::invalid("offline"))
        } else {
            self.connect_to(Some(remote), None)
                .and_then(|c| block_on(self.append(&c, &event))?)
        };
        match sent {
            Ok(()) => Ok(()),
            Err(e) => {
                let json = serde_json::to_string(&event)
                    .map_err(|e| Error::Internal(format!("event encoding: {e}")))?;
                self.catalog.write(|w| w.queue_event(remote, &json))?;
                let why = if self.offline {
                    "offline".to_string()
                } else {
                    e.to_string()
                };
                self.warn(
                    None,
                    format!("not yet shared on remote '{remote}' ({why}); it waits to be pushed"),
                );
                Ok(())
            }
        }
    }

    /// Appends an event after applying whatever others appended first.
    pub(crate) async fn append(&mut self, c: &Connected, event: &Event) -> Result<()> {
        self.append_with(c, &strata_core::NoProgress, |_| Ok(Some(event.clone())))
            .await?;
        // The pull before the append may have applied a teammate's older change to the same
        // tag or key over ours; ours comes later in the log, so it is what every home ends with,
        // this one included.
        if matches!(
            event,
            Event::Tag { .. } | Event::Describe { .. } | Event::Meta { .. }
        ) {
            self.catalog
                .write(|w| crate::pull::annotate(w, &c.name, event))?;
        }
        Ok(())
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
            if log::try_append(c, seq, at, &crate::naming::who(), &event).await? {
                self.catalog
                    .write(|w| w.set_log_position(&c.name, seq, at))?;
                return Ok(Some(seq));
            }
        }
        Err(Error::remote_failure(
            &c.name,
            Kind::Unavailable,
            "too many writers at once",
        ))
    }
}

/// The remotes any of `versions` is shared on.
pub(crate) fn shared_remotes(versions: &[Version]) -> std::collections::BTreeSet<String> {
    versions.iter().filter_map(Engine::shared_on).collect()
}
