//! Turning scanned files into stored content: hash what the stat cache cannot vouch for, pack
//! small files, copy large ones, and return the entries. Nothing becomes visible until the caller
//! commits: packs are in place but unindexed, so a failure or a kill leaves only garbage for `gc`.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Read;
use std::path::Path;
use std::thread;

use rayon::prelude::*;
use strata_core::{Cancel, Entry, Error, Hash, IoContext, Progress, Result};

use crate::pack::{FinishedPack, PackWriter};
pub use crate::scan::Source;
use crate::scan::{stat_of, Scan};
use crate::statcache::StatCache;
use crate::{fsutil, Store, LOOSE_MIN};

/// What an ingest produced. Commit with [`Store::commit`] or throw away with [`Ingested::abort`].
#[derive(Debug, Default)]
pub struct Ingested {
    /// One entry per source, in the order of the scan.
    pub entries: Vec<Entry>,
    pub packs: Vec<FinishedPack>,
    pub hashed_files: u64,
    pub hashed_bytes: u64,
    pub stored_objects: u64,
    pub stored_bytes: u64,
}

impl Ingested {
    /// Removes the packs this ingest wrote. Loose objects stay: another writer may share them,
    /// and `gc` removes them if nothing refers to them.
    pub fn abort(self) {
        for p in self.packs {
            let _ = fs::remove_file(&p.path);
        }
    }
}

enum Outcome {
    Known(Hash),
    Hashed { hash: Hash, size: u64, stored: u64 },
}

/// Brings every file of `scan` into the store. `known` holds hashes the store is known to have
/// (the base version's content), which spares a lookup for each unchanged file.
pub fn ingest(
    store: &Store,
    scan: &Scan,
    cache: &mut StatCache,
    known: &HashSet<Hash>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Ingested> {
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(scan.files.len());
    let mut to_hash = Vec::new();
    for (i, f) in scan.files.iter().enumerate() {
        let cached = cache
            .lookup(&f.rel, &f.stat)
            .filter(|h| known.contains(h) || matches!(store.locate(h, f.stat.size), Ok(Some(_))));
        match cached {
            Some(h) => outcomes.push(Some(Outcome::Known(h))),
            None => {
                outcomes.push(None);
                to_hash.push(i);
            }
        }
    }
    if to_hash.is_empty() {
        // Nothing to read: the common re-scan of an unchanged folder.
        return finish(scan, cache, outcomes, Vec::new(), Ingested::default());
    }
    let total: u64 = to_hash.iter().map(|&i| scan.files[i].stat.size).sum();
    progress.begin("hashing", to_hash.len() as u64, total);

    let (tx, rx) = crossbeam_channel::bounded::<(Hash, Vec<u8>)>(32);
    let index_path = store.root().join("index.db");
    let writer_tmp = store.tmp_dir();
    let packs_dir = store.packs_dir();
    let writer = thread::spawn(move || -> Result<(Vec<FinishedPack>, u64, u64)> {
        let index = crate::index::Index::open(&index_path)?;
        let mut packs = PackWriter::new(writer_tmp, packs_dir, true);
        let mut seen = HashSet::new();
        let (mut n, mut bytes) = (0u64, 0u64);
        let result = (|| {
            for (h, data) in rx {
                if !seen.insert(h) || index.contains(&h)? {
                    continue;
                }
                packs.append(h, &data)?;
                n += 1;
                bytes += data.len() as u64;
            }
            Ok(())
        })();
        match result {
            Ok(()) => Ok((packs.finish()?, n, bytes)),
            Err(e) => {
                packs.abort();
                Err(e)
            }
        }
    });

    let hashed: Result<Vec<(usize, Outcome)>> = to_hash
        .par_iter()
        .map_with(tx, |tx, &i| {
            cancel.check()?;
            let f = &scan.files[i];
            let out = if f.stat.size < LOOSE_MIN {
                hash_small(f, tx)?
            } else {
                hash_large(store, f, known)?
            };
            if let Outcome::Hashed { size, .. } = out {
                progress.advance(1, size);
            }
            Ok((i, out))
        })
        .collect();
    // All senders are gone once the parallel map returns; the writer then drains and finishes.
    let written = writer
        .join()
        .map_err(|_| Error::Internal("pack writer panicked".into()))?;
    progress.end();

    let (hashed, (packs, packed_n, packed_bytes)) = match (hashed, written) {
        (Ok(h), Ok(w)) => (h, w),
        (Err(e), Ok((packs, _, _))) => {
            Ingested {
                packs,
                ..Default::default()
            }
            .abort();
            return Err(e);
        }
        // The writer failed (disk full...); a worker's error is then only "writer stopped".
        (_, Err(e)) => return Err(e),
    };

    let out = Ingested {
        packs,
        stored_objects: packed_n,
        stored_bytes: packed_bytes,
        ..Default::default()
    };
    finish(scan, cache, outcomes, hashed, out)
}

/// Fills in the entries, in scan order, and records every hash in the stat cache.
fn finish(
    scan: &Scan,
    cache: &mut StatCache,
    mut outcomes: Vec<Option<Outcome>>,
    hashed: Vec<(usize, Outcome)>,
    mut out: Ingested,
) -> Result<Ingested> {
    for (i, o) in hashed {
        outcomes[i] = Some(o);
    }
    out.entries.reserve(scan.files.len());
    for (f, o) in scan.files.iter().zip(outcomes) {
        let (hash, size) = match o {
            Some(Outcome::Known(h)) => {
                cache.record(&f.rel, f.stat, h, scan.started_ns);
                (h, f.stat.size)
            }
            Some(Outcome::Hashed { hash, size, stored }) => {
                out.hashed_files += 1;
                out.hashed_bytes += size;
                if stored > 0 {
                    out.stored_objects += 1;
                    out.stored_bytes += stored;
                }
                if size == f.stat.size {
                    cache.record(&f.rel, f.stat, hash, scan.started_ns);
                }
                (hash, size)
            }
            None => return Err(Error::Internal("ingest lost a file".into())),
        };
        out.entries.push(Entry {
            path: f.dataset_path.clone(),
            size,
            hash,
            link: None,
        });
    }
    Ok(out)
}

fn open_source(f: &Source) -> Result<File> {
    File::open(&f.abs).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Conflict(format!(
                "'{}' disappeared while it was being added; nothing was changed",
                f.abs.display()
            ))
        } else {
            Error::Io {
                action: "read",
                path: f.abs.clone(),
                source: e,
            }
        }
    })
}

fn hash_small(f: &Source, tx: &crossbeam_channel::Sender<(Hash, Vec<u8>)>) -> Result<Outcome> {
    let mut file = open_source(f)?;
    let mut data = Vec::with_capacity(f.stat.size as usize + 1);
    file.read_to_end(&mut data).ctx("read", &f.abs)?;
    let hash = Hash::of(&data);
    let size = data.len() as u64;
    tx.send((hash, data))
        .map_err(|_| Error::Internal("pack writer stopped".into()))?;
    Ok(Outcome::Hashed {
        hash,
        size,
        stored: 0,
    })
}

/// Hashes a large file by streaming it, then copies it into the store unless it is there. The
/// copy is checked against the file's stat so a file rewritten meanwhile is not stored wrongly.
fn hash_large(store: &Store, f: &Source, known: &HashSet<Hash>) -> Result<Outcome> {
    let file = open_source(f)?;
    let (hash, size) = hash_mapped(&file, &f.abs)?;
    if size < LOOSE_MIN {
        // Shrank since the scan: store it like any small file would be.
        return Err(Error::Conflict(format!(
            "'{}' changed while it was being added; try again",
            f.abs.display()
        )));
    }
    let dest = store.loose_path(&hash);
    if known.contains(&hash) || dest.exists() {
        return Ok(Outcome::Hashed {
            hash,
            size,
            stored: 0,
        });
    }
    store_large(store, &f.abs, &dest, size, Some(&file))?;
    Ok(Outcome::Hashed {
        hash,
        size,
        stored: size,
    })
}

/// Hashes a file through memory-mapped windows: no copy into a buffer, and never more than one
/// window resident, so peak memory stays small whatever the file size.
pub fn hash_mapped(file: &File, path: &Path) -> Result<(Hash, u64)> {
    const WINDOW: u64 = 16 << 20;
    let size = file.metadata().ctx("stat", path)?.len();
    let mut hasher = blake3::Hasher::new();
    let mut offset = 0;
    while offset < size {
        let len = WINDOW.min(size - offset) as usize;
        // SAFETY: the map is read-only and dropped before the next one. A file truncated while
        // mapped would fault; the stat check after the copy rejects files changed meanwhile.
        let map = unsafe {
            memmap2::MmapOptions::new()
                .offset(offset)
                .len(len)
                .map(file)
                .ctx("map", path)?
        };
        let _ = map.advise(memmap2::Advice::Sequential);
        hasher.update(&map);
        offset += len as u64;
    }
    Ok((hasher.finalize().into(), size))
}

fn store_large(
    store: &Store,
    src: &Path,
    dest: &Path,
    size: u64,
    opened: Option<&File>,
) -> Result<()> {
    let before = opened.and_then(|f| f.metadata().ok()).map(|m| stat_of(&m));
    let tmp = store.tmp_dir().join(fsutil::unique_name("l-"));
    // std::fs::copy uses copy_file_range (a reflink where the filesystem can) on Linux.
    let copied = fs::copy(src, &tmp).ctx("copy", src)?;
    let after = fs::metadata(src).ok().map(|m| stat_of(&m));
    if copied != size || (before.is_some() && before != after) {
        let _ = fs::remove_file(&tmp);
        return Err(Error::Conflict(format!(
            "'{}' changed while it was being added; try again",
            src.display()
        )));
    }
    File::open(&tmp)
        .and_then(|f| f.sync_data())
        .ctx("sync", &tmp)?;
    fsutil::make_read_only(&tmp)?;
    fsutil::ensure_parent(dest)?;
    fs::rename(&tmp, dest).ctx("rename into place", dest)?;
    Ok(())
}
