//! Where a version's bytes come from.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;

use crate::Entry;

/// Reads the bytes of a version's entries. Implementations: the engine's content store (local or
/// fetched content), a folder on disk ([`FolderContent`]).
pub trait Content: Sync {
    /// At most the first `limit` bytes of `entry` (a caller that needs the whole file passes a
    /// limit it can afford and treats a result of exactly `limit` bytes as "too large").
    fn read(&self, entry: &Entry, limit: u64) -> io::Result<Vec<u8>>;
}

/// The files of a folder, named by their dataset paths (tests, and stats of a working folder).
pub struct FolderContent {
    root: PathBuf,
}

impl FolderContent {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }
}

impl Content for FolderContent {
    fn read(&self, entry: &Entry, limit: u64) -> io::Result<Vec<u8>> {
        // Dataset paths are validated relative `/`-separated paths (no `..`), so joining them
        // stays inside the folder.
        let f = File::open(self.root.join(&entry.path))?;
        let mut out = Vec::with_capacity(entry.size.min(limit) as usize);
        f.take(limit).read_to_end(&mut out)?;
        Ok(out)
    }
}
