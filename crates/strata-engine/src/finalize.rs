//! `finalize`: a draft becomes final; with an upload, final and shared in one step.

use strata_core::time::now_ms;
use strata_core::{Cancel, Progress, Result, State, Version};

use crate::writers::Wait;
use crate::Engine;

impl Engine {
    /// Makes a draft final (a final or published version is returned as it is). Waits up to
    /// [`SHORT_WAIT`](crate::SHORT_WAIT) for a writer of the draft, so an `add` either lands
    /// before it or is refused after it.
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn finalize(&mut self, reference: &str) -> Result<Version> {
        let v = self.resolve_for_change(reference)?;
        if v.state != State::Draft {
            return Ok(v);
        }
        let (_lock, v) = self.lock_version(&v.id, "finalize", Wait::Short, None)?;
        if v.state != State::Draft {
            return Ok(v);
        }
        self.catalog.write(|w| {
            if w.version(&v.id)?.state == State::Draft {
                w.set_state(&v.id, State::Final, now_ms())?;
            }
            Ok(())
        })?;
        self.catalog.version(&v.id)
    }

    /// Finalizes a draft and uploads it; offline, the upload waits for `push`.
    #[tracing::instrument(skip_all, fields(reference = %reference, remote = ?remote))]
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
}
