//! Strata's domain: names and references, versions, manifests, the catalog, errors, progress.

pub mod catalog;
pub mod error;
pub mod hash;
pub mod lock;
pub mod manifest;
pub mod names;
pub mod pattern;
pub mod progress;
pub mod remote;
pub mod time;
pub mod version;

pub use catalog::{Catalog, NewVersion};
pub use error::{Error, IoContext, Result};
pub use hash::Hash;
pub use manifest::{Chunk, Chunks, Diff, DiffTotals, Entry, Manifest};
pub use names::{DatasetName, Reference, Resolution};
pub use pattern::{PathFilter, Selection};
pub use progress::{Cancel, NoProgress, Progress};
pub use remote::RemoteSpec;
pub use semver;
pub use version::{DatasetSummary, State, UploadState, Version};
