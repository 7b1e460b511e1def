//! How long operations report progress and learn they were cancelled. The engine calls these; only
//! front ends implement them (a terminal bar, an IPC channel, a recorder in tests).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};

pub trait Progress: Send + Sync {
    /// A new phase starts ("hashing", "copying", ...) with known totals (0 when unknown).
    fn begin(&self, _phase: &str, _files: u64, _bytes: u64) {}
    /// Work done since the last call.
    fn advance(&self, _files: u64, _bytes: u64) {}
    /// The current phase is over.
    fn end(&self) {}
    /// Something the user should know that does not stop the operation.
    fn warn(&self, _message: &str) {}
}

/// Reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// A cancellation flag shared between the front end and the running operation.
#[derive(Clone, Default, Debug)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once cancelled; sprinkle in loops.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
}
