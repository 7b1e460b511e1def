//! Bringing fetched objects into the store. The caller has already checked every object against
//! its hash; here they are written the way an ingest writes them (packs for small objects, one
//! file for a large one), durable before the index or any catalog entry names them.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use strata_core::{Hash, IoContext, Result};

use crate::pack::PackWriter;
use crate::{fsutil, Store};

/// Small objects on their way into a new pack. Nothing is visible until [`SmallImport::commit`].
pub struct SmallImport<'a> {
    store: &'a Store,
    writer: Option<PackWriter>,
    pub objects: u64,
}

impl Store {
    pub fn small_import(&self) -> SmallImport<'_> {
        SmallImport {
            store: self,
            writer: Some(PackWriter::new(self.tmp_dir(), self.packs_dir(), true)),
            objects: 0,
        }
    }

    /// A fresh path under the store's `tmp/` for a large object being fetched.
    pub fn tmp_path(&self, prefix: &str) -> PathBuf {
        self.tmp_dir().join(fsutil::unique_name(prefix))
    }

    /// Moves a fetched, checked large object into place.
    pub fn import_loose(&self, h: &Hash, tmp: &Path) -> Result<()> {
        File::open(tmp)
            .and_then(|f| f.sync_data())
            .ctx("sync", tmp)?;
        fsutil::make_read_only(tmp)?;
        let dest = self.loose_path(h);
        fsutil::ensure_parent(&dest)?;
        fs::rename(tmp, &dest).ctx("rename into place", &dest)?;
        Ok(())
    }
}

impl SmallImport<'_> {
    pub fn append(&mut self, h: Hash, bytes: &[u8]) -> Result<()> {
        if let Some(w) = self.writer.as_mut() {
            w.append(h, bytes)?;
            self.objects += 1;
        }
        Ok(())
    }

    /// Makes the packs durable and indexes them.
    pub fn commit(mut self) -> Result<()> {
        if let Some(w) = self.writer.take() {
            let packs = w.finish()?;
            self.store.index.insert(&packs)?;
        }
        Ok(())
    }
}

impl Drop for SmallImport<'_> {
    /// An import dropped without commit (an error, a cancel) removes what it wrote.
    fn drop(&mut self) {
        if let Some(w) = self.writer.take() {
            w.abort();
        }
    }
}
