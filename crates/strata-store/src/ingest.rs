//! Turning scanned files into stored content: hash what the stat cache cannot vouch for, pack
//! small files, copy large ones (hashing the bytes as they are copied), and return the entries. Nothing becomes visible until the caller
//! commits: packs are in place but unindexed, so a failure or a kill leaves only garbage for `gc`.
//! [`hash_only`] is the same hashing without storing: what a folder holds, for `status` and for
//! switching a folder to another version in place.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::thread;

use rayon::prelude::*;
use strata_core::{Cancel, Entry, Error, Hash, IoContext, Progress, Result};

use crate::pack::{FinishedPack, PackWriter};
pub use crate::scan::Source;
use crate::scan::{stat_of, Scan};
use crate::statcache::{Stat, StatCache};
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
    /// `stat` is the file's stat while it was read (unchanged from start to end).
    Hashed {
        hash: Hash,
        size: u64,
        stored: u64,
        stat: Stat,
    },
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
            let out = hash_source(store, &scan.files[i], known, tx)?;
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
            Some(Outcome::Hashed {
                hash,
                size,
                stored,
                stat,
            }) => {
                out.hashed_files += 1;
                out.hashed_bytes += size;
                if stored > 0 {
                    out.stored_objects += 1;
                    out.stored_bytes += stored;
                }
                // The stat the bytes were read under, not the scan's: the file may have changed
                // in between, and the hash belongs to what was read.
                cache.record(&f.rel, stat, hash, scan.started_ns);
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

/// What [`hash_only`] found: the entries a version of the scanned folder would hold.
#[derive(Debug, Default)]
pub struct Hashed {
    /// One entry per source, in the order of the scan.
    pub entries: Vec<Entry>,
    /// Files the stat cache could not vouch for, read and hashed now.
    pub hashed_files: u64,
    pub hashed_bytes: u64,
}

/// The entries [`ingest`] would produce for `scan`, without storing anything: the stat cache
/// answers for files whose stat did not change, the others are read and hashed exactly as ingest
/// hashes them (BLAKE3 of the content, read again if it changed while read, refused if it keeps
/// changing). Every hash is recorded in `cache`; saving it is the caller's choice, and safe:
/// ingest trusts a cached hash only when the store holds that content, so a hash recorded here
/// for content never stored is simply read again, and stored, by the next ingest.
pub fn hash_only(
    scan: &Scan,
    cache: &mut StatCache,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Hashed> {
    let cached: Vec<Option<Hash>> = scan
        .files
        .iter()
        .map(|f| cache.lookup(&f.rel, &f.stat))
        .collect();
    let to_hash: Vec<usize> = (0..scan.files.len())
        .filter(|&i| cached[i].is_none())
        .collect();
    let mut read = Vec::new();
    if !to_hash.is_empty() {
        let total: u64 = to_hash.iter().map(|&i| scan.files[i].stat.size).sum();
        progress.begin("hashing", to_hash.len() as u64, total);
        let hashed: Result<Vec<(usize, Hash, u64, Stat)>> = to_hash
            .par_iter()
            .map(|&i| {
                cancel.check()?;
                let (hash, size, stat) = hash_stable(&scan.files[i])?;
                progress.advance(1, size);
                Ok((i, hash, size, stat))
            })
            .collect();
        progress.end();
        read = hashed?;
    }
    let mut out = Hashed {
        entries: Vec::with_capacity(scan.files.len()),
        ..Default::default()
    };
    let mut fresh: Vec<Option<(Hash, u64)>> = vec![None; scan.files.len()];
    for (i, hash, size, stat) in read {
        out.hashed_files += 1;
        out.hashed_bytes += size;
        // The stat the bytes were read under, as ingest records it.
        cache.record(&scan.files[i].rel, stat, hash, scan.started_ns);
        fresh[i] = Some((hash, size));
    }
    for ((f, c), r) in scan.files.iter().zip(cached).zip(fresh) {
        let (hash, size) = match (c, r) {
            (Some(h), _) => {
                // Marks the entry as seen, so saving a complete scan keeps it.
                cache.record(&f.rel, f.stat, h, scan.started_ns);
                (h, f.stat.size)
            }
            (None, Some(r)) => r,
            (None, None) => return Err(Error::Internal("hashing lost a file".into())),
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

/// Reads and hashes one file under the same guard as [`hash_source`]: the stat before and after
/// the read must agree, else the file is read again, and one that keeps changing is refused.
/// Returns the hash, the size read and the stat the bytes were read under.
fn hash_stable(f: &Source) -> Result<(Hash, u64, Stat)> {
    for _ in 0..ATTEMPTS {
        let mut file = open_source(f, "read")?;
        let before = stat_of(&file.metadata().ctx("stat", &f.abs)?);
        let mut hasher = blake3::Hasher::new();
        // One byte more than expected is enough to notice a file that grew.
        let mut buf = vec![0u8; (before.size as usize).saturating_add(1).min(COPY_BUF)];
        let mut total = 0u64;
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).ctx("read", &f.abs),
            };
            hasher.update(&buf[..n]);
            total += n as u64;
            if total > before.size {
                break; // grew: the stat check below rejects it
            }
        }
        if unchanged(&file, &f.abs, before, total)? {
            return Ok((hasher.finalize().into(), total, before));
        }
        pause_before_retry();
    }
    Err(Error::Conflict(format!(
        "'{}' kept changing while it was being read; nothing was changed, try again once it is written",
        f.abs.display()
    )))
}

/// `doing` completes "while it was being ...": what the caller was doing with the file.
fn open_source(f: &Source, doing: &str) -> Result<File> {
    File::open(&f.abs).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Conflict(format!(
                "'{}' disappeared while it was being {doing}; nothing was changed",
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

/// How often a file is read again when it changed while being read, before giving up on it.
const ATTEMPTS: usize = 3;

/// Hashes one file and stores exactly the bytes hashed: small ones go to the pack writer, large
/// ones are copied into the store while they are hashed. The file's stat is taken before and
/// after the read; if anything moved (size, mtime, ctime, inode) the bytes are thrown away and
/// the file is read again, and a file that keeps changing is refused, naming it.
///
/// Plain reads, never a memory map: a file truncated by another program while mapped would kill
/// the process with SIGBUS, and the user owns these files.
fn hash_source(
    store: &Store,
    f: &Source,
    known: &HashSet<Hash>,
    tx: &crossbeam_channel::Sender<(Hash, Vec<u8>)>,
) -> Result<Outcome> {
    for _ in 0..ATTEMPTS {
        let mut file = open_source(f, "added")?;
        let before = stat_of(&file.metadata().ctx("stat", &f.abs)?);
        let got = if before.size < LOOSE_MIN {
            read_small(&mut file, f, before)?
        } else {
            copy_large(store, &mut file, f, before, known)?
        };
        match got {
            Read::Stable(outcome, data) => {
                if let Some((hash, data)) = data {
                    tx.send((hash, data))
                        .map_err(|_| Error::Internal("pack writer stopped".into()))?;
                }
                return Ok(outcome);
            }
            Read::Changed => pause_before_retry(),
        }
    }
    Err(Error::Conflict(format!(
        "'{}' kept changing while it was being read; nothing was stored, add it again once it is written",
        f.abs.display()
    )))
}

/// Writers usually finish quickly: a short pause gives them the time before the next read.
fn pause_before_retry() {
    thread::sleep(std::time::Duration::from_millis(50));
}

enum Read {
    /// The file did not change while read: its outcome, and for a small file the bytes to pack.
    Stable(Outcome, Option<(Hash, Vec<u8>)>),
    Changed,
}

fn unchanged(file: &File, path: &Path, before: Stat, read: u64) -> Result<bool> {
    let after = stat_of(&file.metadata().ctx("stat", path)?);
    Ok(after == before && read == before.size)
}

fn read_small(file: &mut File, f: &Source, before: Stat) -> Result<Read> {
    let mut data = Vec::with_capacity(before.size as usize + 1);
    // One byte more than expected is enough to notice a file that grew.
    file.take(LOOSE_MIN)
        .read_to_end(&mut data)
        .ctx("read", &f.abs)?;
    if !unchanged(file, &f.abs, before, data.len() as u64)? {
        return Ok(Read::Changed);
    }
    let hash = Hash::of(&data);
    let outcome = Outcome::Hashed {
        hash,
        size: before.size,
        stored: 0,
        stat: before,
    };
    Ok(Read::Stable(outcome, Some((hash, data))))
}

/// Copies a large file into a temporary file of the store, hashing the very bytes written: what
/// the store keeps under a hash is, by construction, what was hashed.
fn copy_large(
    store: &Store,
    file: &mut File,
    f: &Source,
    before: Stat,
    known: &HashSet<Hash>,
) -> Result<Read> {
    let tmp = store.tmp_dir().join(fsutil::unique_name("l-"));
    let mut out = File::create(&tmp).ctx("create", &tmp)?;
    let copied = (|| -> Result<(Hash, u64)> {
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; COPY_BUF];
        let mut total = 0u64;
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).ctx("read", &f.abs),
            };
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).ctx("write", &tmp)?;
            total += n as u64;
            if total > before.size {
                break; // grew: the stat check below rejects it
            }
        }
        Ok((hasher.finalize().into(), total))
    })();
    let discard = |tmp: &Path| {
        let _ = fs::remove_file(tmp);
    };
    let (hash, total) = match copied {
        Ok(c) => c,
        Err(e) => {
            discard(&tmp);
            return Err(e);
        }
    };
    if !unchanged(file, &f.abs, before, total)? {
        discard(&tmp);
        return Ok(Read::Changed);
    }
    let dest = store.loose_path(&hash);
    if known.contains(&hash) || dest.exists() {
        discard(&tmp);
        let outcome = Outcome::Hashed {
            hash,
            size: total,
            stored: 0,
            stat: before,
        };
        return Ok(Read::Stable(outcome, None));
    }
    let placed = (|| -> Result<()> {
        out.sync_data().ctx("sync", &tmp)?;
        // The bytes on disk are the bytes hashed; a short write would have failed above, and a
        // length check catches a filesystem that lost some anyway.
        let written = out.metadata().ctx("stat", &tmp)?.len();
        if written != total {
            return Err(Error::Corrupt {
                what: "store".into(),
                detail: format!(
                    "{} holds {written} bytes after writing {total}",
                    tmp.display()
                ),
            });
        }
        drop(out);
        fsutil::make_read_only(&tmp)?;
        fsutil::ensure_parent(&dest)?;
        fs::rename(&tmp, &dest).ctx("rename into place", &dest)
    })();
    if let Err(e) = placed {
        discard(&tmp);
        return Err(e);
    }
    let outcome = Outcome::Hashed {
        hash,
        size: total,
        stored: total,
        stat: before,
    };
    Ok(Read::Stable(outcome, None))
}

/// Large enough that per-call costs vanish, small enough to stay in the CPU caches while hashed.
const COPY_BUF: usize = 1 << 20;
