//! `publish`: a final version marked published, here and on the remote that shares it.

use strata_core::time::now_ms;
use strata_core::{Error, Result, State, Version};
use strata_remote::log::Event;

use crate::Engine;

impl Engine {
    #[tracing::instrument(skip_all, fields(reference = %reference))]
    pub fn publish(&mut self, reference: &str) -> Result<Version> {
        let v = self.resolve(reference)?;
        match v.state {
            State::Draft => Err(Error::Conflict(format!(
                "{} is a draft; finalize it before publishing",
                v.label()
            ))),
            State::Published => Ok(v),
            State::Final => {
                self.catalog
                    .write(|w| w.set_state(&v.id, State::Published, now_ms()))?;
                if let Some(r) = Engine::shared_on(&v) {
                    self.share(&r, Event::Publish { id: v.id.clone() })?;
                }
                self.catalog.version(&v.id)
            }
        }
    }
}
