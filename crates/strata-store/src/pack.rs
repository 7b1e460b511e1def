//! Packs: many small objects in one file, so a dataset of 20,000 files is a handful of files in
//! the store. Objects are written back to back; a footer lists (hash, offset, length) so a pack
//! can be checked or re-indexed on its own. A pack is written under `tmp/`, synced, then renamed
//! into `packs/`; only then does the index learn about it.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use strata_core::{Hash, IoContext, Result};

use crate::fsutil::unique_name;

const MAGIC: &[u8; 8] = b"STRATAP1";
/// A pack is closed once it holds this much.
pub const PACK_TARGET: u64 = 256 << 20;
/// ... or this many objects: a first snapshot of a million small files then holds the records and
/// the duplicate check of one pack at a time, not of all of them (see `ingest`). Each pack closed
/// costs an fsync and an index transaction while the snapshot waits, so not too few: at 65,536 a
/// first snapshot of 300,000 files was 15 % slower.
pub const MAX_PACK_OBJECTS: usize = 1 << 18;
/// Objects at least this large are written past the pack's buffer.
const DIRECT_WRITE: usize = 64 << 10;
/// A durable pack's bytes are handed to the disk every this many bytes (see `append`).
const WRITEBACK_EVERY: u64 = 8 << 20;

#[derive(Debug, Clone)]
pub struct FinishedPack {
    pub name: String,
    pub path: PathBuf,
    /// The objects in it; emptied once the pack is indexed ([`PackWriter::index_finished`]).
    pub records: Vec<(Hash, u64, u64)>,
    pub bytes: u64,
    /// Already in the store's index: left to gc, never removed, by an abort.
    pub indexed: bool,
}

pub struct PackWriter {
    tmp_dir: PathBuf,
    packs_dir: PathBuf,
    current: Option<Open>,
    pub finished: Vec<FinishedPack>,
    durable: bool,
    max_objects: usize,
}

struct Open {
    name: String,
    tmp: PathBuf,
    out: BufWriter<File>,
    offset: u64,
    records: Vec<(Hash, u64, u64)>,
}

impl PackWriter {
    pub fn new(tmp_dir: PathBuf, packs_dir: PathBuf, durable: bool) -> Self {
        PackWriter {
            tmp_dir,
            packs_dir,
            current: None,
            finished: Vec::new(),
            durable,
            max_objects: MAX_PACK_OBJECTS,
        }
    }

    /// Closes packs at `n` objects instead of [`MAX_PACK_OBJECTS`].
    pub fn with_max_objects(mut self, n: usize) -> Self {
        self.max_objects = n.max(1);
        self
    }

    pub fn append(&mut self, h: Hash, bytes: &[u8]) -> Result<()> {
        if self.current.is_none() {
            let name = unique_name("p");
            let tmp = self.tmp_dir.join(format!("{name}.pack"));
            let f = File::create(&tmp).ctx("create", &tmp)?;
            let mut out = BufWriter::with_capacity(1 << 20, f);
            out.write_all(MAGIC).ctx("write", &tmp)?;
            self.current = Some(Open {
                name,
                tmp,
                out,
                offset: MAGIC.len() as u64,
                records: Vec::new(),
            });
        }
        let Some(cur) = self.current.as_mut() else {
            return Ok(());
        };
        if bytes.len() >= DIRECT_WRITE {
            // A large piece goes to the file as it is: through the buffer it would be copied
            // once more for nothing.
            cur.out.flush().ctx("write", &cur.tmp)?;
            cur.out.get_mut().write_all(bytes).ctx("write", &cur.tmp)?;
        } else {
            cur.out.write_all(bytes).ctx("write", &cur.tmp)?;
        }
        cur.records.push((h, cur.offset, bytes.len() as u64));
        let before = cur.offset;
        cur.offset += bytes.len() as u64;
        if self.durable && before / WRITEBACK_EVERY != cur.offset / WRITEBACK_EVERY {
            // Start writing back what is written so far without waiting for it: the disk then
            // works while the next objects are read and hashed, and the fsync that closes the
            // pack finds little left to do (a fetch of a gigabyte used to wait for it all at
            // the end of each pack).
            let upto = cur.offset / WRITEBACK_EVERY * WRITEBACK_EVERY;
            cur.out.flush().ctx("write", &cur.tmp)?;
            let fd = std::os::unix::io::AsRawFd::as_raw_fd(cur.out.get_ref());
            // SAFETY: a hint on a descriptor we own; failure only means no head start.
            unsafe {
                libc::sync_file_range(
                    fd,
                    (upto - WRITEBACK_EVERY) as libc::off64_t,
                    WRITEBACK_EVERY as libc::off64_t,
                    libc::SYNC_FILE_RANGE_WRITE,
                );
            }
        }
        if cur.offset >= PACK_TARGET || cur.records.len() >= self.max_objects {
            self.close_current()?;
        }
        Ok(())
    }

    fn close_current(&mut self) -> Result<()> {
        let Some(mut cur) = self.current.take() else {
            return Ok(());
        };
        for (h, off, len) in &cur.records {
            cur.out.write_all(&h.0).ctx("write", &cur.tmp)?;
            cur.out
                .write_all(&off.to_le_bytes())
                .ctx("write", &cur.tmp)?;
            cur.out
                .write_all(&len.to_le_bytes())
                .ctx("write", &cur.tmp)?;
        }
        cur.out
            .write_all(&(cur.records.len() as u64).to_le_bytes())
            .ctx("write", &cur.tmp)?;
        cur.out.write_all(MAGIC).ctx("write", &cur.tmp)?;
        let f = cur
            .out
            .into_inner()
            .map_err(|e| e.into_error())
            .ctx("write", &cur.tmp)?;
        if self.durable {
            f.sync_data().ctx("sync", &cur.tmp)?;
        }
        let dest = self.packs_dir.join(format!("{}.pack", cur.name));
        fs::rename(&cur.tmp, &dest).ctx("rename into place", &dest)?;
        self.finished.push(FinishedPack {
            name: cur.name,
            path: dest,
            bytes: cur.offset,
            records: cur.records,
            indexed: false,
        });
        Ok(())
    }

    /// Closes the open pack; returns every pack written.
    pub fn finish(mut self) -> Result<Vec<FinishedPack>> {
        self.close_current()?;
        if self.durable && !self.finished.is_empty() {
            self.sync_renames();
        }
        Ok(std::mem::take(&mut self.finished))
    }

    /// Makes the renames of the closed packs durable.
    fn sync_renames(&self) {
        if let Ok(d) = File::open(&self.packs_dir) {
            let _ = d.sync_all();
        }
    }

    /// Indexes the packs closed since the last call and forgets their records; returns whether
    /// there were any. Their objects are then found by the index like any stored object; if
    /// the operation fails later, they are garbage for gc, never a dangling index row (an abort
    /// leaves indexed packs in place).
    pub(crate) fn index_finished(&mut self, index: &crate::index::Index) -> Result<bool> {
        // Packs are indexed in the order they close: the fresh ones are the tail.
        let first = self
            .finished
            .iter()
            .rposition(|p| p.indexed)
            .map_or(0, |i| i + 1);
        if first == self.finished.len() {
            return Ok(false);
        }
        // Durable before the index names them: a pack lost to a power cut after its index
        // rows landed would make later snapshots skip content that is not there.
        if self.durable {
            self.sync_renames();
        }
        index.insert(&self.finished[first..])?;
        for p in &mut self.finished[first..] {
            p.records = Vec::new();
            p.indexed = true;
        }
        Ok(true)
    }

    /// Removes everything written (used when the operation fails or is cancelled).
    pub fn abort(mut self) {
        if let Some(cur) = self.current.take() {
            drop(cur.out);
            let _ = fs::remove_file(&cur.tmp);
        }
        for p in self.finished.drain(..).filter(|p| !p.indexed) {
            let _ = fs::remove_file(&p.path);
        }
    }
}
