//! Turning scanned files into stored content: hash what the stat cache cannot vouch for, pack
//! small files, cut large ones into content-defined pieces that are packed like small files
//! ([`crate::chunker`]; from 4 MiB), copy the ones in between whole (hashing the bytes as they are
//! copied), and return the entries. Nothing a version needs becomes visible until the caller
//! commits; packs closed on the way are indexed as they close (so a million small files need not
//! be held as records to the end), which makes their objects findable early but never leaves an
//! index row without its durable pack: a failure or a kill leaves only garbage for `gc`.
//! [`hash_only`] is the same hashing without storing: what a folder holds, for `status` and for
//! switching a folder to another version in place.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::thread;

use rayon::prelude::*;
use strata_core::manifest::EncodedEntries;
use strata_core::{
    Cancel, Chunk, Chunks, Entry, Error, Hash, IoContext, Manifest, Progress, Result,
};

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
    /// Entries (indices) this ingest cut into pieces: their pieces lists are checked.
    pub cut: HashSet<usize>,
}

impl Ingested {
    /// Removes the packs this ingest wrote. Loose objects stay: another writer may share them,
    /// and `gc` removes them if nothing refers to them.
    pub fn abort(self) {
        // Packs already indexed stay: their objects may be another writer's by now; gc
        // removes them if nothing refers to them.
        for p in self.packs.into_iter().filter(|p| !p.indexed) {
            let _ = fs::remove_file(&p.path);
        }
    }
}

/// A file the stat cache could not vouch for, read now.
struct Read1 {
    hash: Hash,
    /// Bytes read (the file's size while it was read).
    size: u64,
    /// Bytes this read added to the store (0 when the content was there already, or packed).
    stored: u64,
    /// The file's stat while it was read (unchanged from start to end).
    stat: Stat,
    /// For a file stored in pieces, its pieces.
    chunks: Option<Vec<Chunk>>,
}

/// How many files are read between two updates of the entries and the stat cache: enough to
/// keep both cores busy, few enough that the results waiting to be applied stay small (a first
/// snapshot of a million files would otherwise hold a million results at once).
const CHUNK: usize = 4096;

/// Reads the files at `to_hash` (indices into `entries`, whose paths are under `root` once their
/// first `skip` bytes — the dataset folder and its `/` — are left out) in parallel with `read`,
/// a chunk at a time, and hands each result to `apply` with its entry, in order.
#[allow(clippy::too_many_arguments)]
fn read_in_chunks(
    root: &Path,
    skip: usize,
    entries: &mut [Entry],
    to_hash: &[u32],
    progress: &dyn Progress,
    cancel: &Cancel,
    read: impl Fn(usize, &Path) -> Result<Read1> + Sync,
    mut apply: impl FnMut(usize, &mut Entry, Read1),
) -> Result<()> {
    if to_hash.is_empty() {
        return Ok(());
    }
    let total: u64 = to_hash.iter().map(|&i| entries[i as usize].size).sum();
    progress.begin("hashing", to_hash.len() as u64, total);
    for chunk in to_hash.chunks(CHUNK) {
        let paths: Vec<(usize, std::path::PathBuf)> = chunk
            .iter()
            .map(|&i| {
                (
                    i as usize,
                    root.join(rel_of(&entries[i as usize].path, skip)),
                )
            })
            .collect();
        let read: Result<Vec<(usize, Read1)>> = paths
            .par_iter()
            .map(|(i, abs)| {
                cancel.check()?;
                let r = read(*i, abs)?;
                progress.advance(1, r.size);
                Ok((*i, r))
            })
            .collect();
        for (i, r) in read? {
            apply(i, &mut entries[i], r);
        }
    }
    progress.end();
    Ok(())
}

/// The path relative to the scanned root of an entry made from a scan whose dataset folder
/// (with its `/`) is `skip` bytes long.
fn rel_of(path: &str, skip: usize) -> &str {
    path.get(skip..).unwrap_or(path)
}

/// How many bytes a scan's dataset folder puts before each relative path ([`Scan::dataset_path`]).
fn prefix_len(scan: &Scan) -> usize {
    if scan.prefix.is_empty() {
        0
    } else {
        scan.prefix.len() + 1
    }
}

/// Brings every file of `scan` into the store. `base` is the version the files go into (its
/// content is in the store): a cached hash that `base` holds at the same path needs no lookup
/// in the store's index, which is every file of a folder that did not change.
///
/// Takes the scan's files: each path moves into its entry (a first snapshot of a million files
/// would otherwise hold every path twice, and the scan beside the entries while files are read).
pub fn ingest(
    store: &Store,
    scan: &mut Scan,
    cache: &mut StatCache,
    base: &Manifest,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<Ingested> {
    let files = std::mem::take(&mut scan.files);
    let skip = prefix_len(scan);
    let mut out = Ingested::default();
    out.entries.reserve_exact(files.len());
    // Indices as u32 (4 bytes a file to read, not 8): a scan holds far fewer than 4 billion.
    let mut to_hash: Vec<u32> = Vec::new();
    let mut whole_before: std::collections::HashMap<usize, Hash> = Default::default();
    cache.reserve(files.len());
    // `base` is sorted and so is the scan: one forward pass finds each file's base entry.
    let mut in_base = base.entries().iter().peekable();
    for (i, Source { rel, stat }) in files.into_iter().enumerate() {
        let path = if skip == 0 {
            rel
        } else {
            format!("{}/{rel}", scan.prefix)
        };
        let rel = rel_of(&path, skip);
        while in_base
            .next_if(|e| e.path.as_str() < path.as_str())
            .is_some()
        {}
        let at_path = in_base.peek().filter(|e| e.path == path);
        // Unchanged content the base holds at this path keeps the base's entry, pieces and
        // all; content stored whole elsewhere is found by its hash. Anything else is read.
        let mut chunks = None;
        let known = cache.lookup(rel, &stat).filter(|h| {
            if let Some(e) = at_path.filter(|e| e.hash == *h && e.link.is_none()) {
                chunks = e.chunks.clone();
                return true;
            }
            match store.stored_as(h, stat.size) {
                Ok(Some(pieces)) => {
                    chunks = pieces;
                    true
                }
                _ => false,
            }
        });
        let hash = match known {
            Some(h) => {
                cache.record(rel, stat, h, scan.started_ns);
                h
            }
            None => {
                // A large file the base stores whole (a version from before pieces): if it
                // reads the same, it keeps that object instead of being stored again in pieces.
                if let Some(e) = at_path.filter(|e| {
                    e.link.is_none()
                        && e.chunks.is_none()
                        && e.size == stat.size
                        && e.size >= crate::chunker::chunked_min()
                }) {
                    whole_before.insert(i, e.hash);
                }
                to_hash.push(i as u32);
                Hash([0; 32]) // filled in once read
            }
        };
        out.entries.push(Entry {
            chunks,
            ..Entry::new(path, stat.size, hash)
        });
    }
    if to_hash.is_empty() {
        // Nothing to read: the common re-scan of an unchanged folder.
        return Ok(out);
    }

    let (tx, rx) = crossbeam_channel::bounded::<(Hash, Vec<u8>)>(32);
    let index_path = store.root().join("index.db");
    let writer_tmp = store.tmp_dir();
    let packs_dir = store.packs_dir();
    let pack_objects = store.pack_objects();
    let writer = thread::spawn(move || -> Result<(Vec<FinishedPack>, u64, u64)> {
        let index = crate::index::Index::open(&index_path)?;
        let mut packs = PackWriter::new(writer_tmp, packs_dir, true).with_max_objects(pack_objects);
        // Content packed by this ingest (two files, one content: packed once). Half of each
        // hash is kept, half the memory of a set of hashes for a million files; a false match
        // of 128 bits of BLAKE3 is beyond any real count of files.
        let mut seen: HashSet<u128> = HashSet::new();
        let (mut n, mut bytes) = (0u64, 0u64);
        let result = (|| {
            index.begin_reads()?;
            for (h, data) in rx {
                let half = u128::from_le_bytes(h.0[..16].try_into().unwrap_or_default());
                if !seen.insert(half) || index.contains(&h)? {
                    continue;
                }
                packs.append(h, &data)?;
                n += 1;
                bytes += data.len() as u64;
                if packs.finished.last().is_some_and(|p| !p.indexed) {
                    // A pack closed: indexed now, so its records and its objects' entries in
                    // `seen` need not be held to the end (a first snapshot of a million small
                    // files held 48 MB of records and 35 MB of `seen`). A later copy of one of
                    // its objects is found by the index, read afresh.
                    index.end_reads()?;
                    packs.index_finished(&index)?;
                    seen.clear();
                    index.begin_reads()?;
                }
            }
            index.end_reads()
        })();
        match result {
            Ok(()) => Ok((packs.finish()?, n, bytes)),
            Err(e) => {
                packs.abort();
                Err(e)
            }
        }
    });

    let hashed = {
        let tx = tx;
        read_in_chunks(
            &scan.root,
            skip,
            &mut out.entries,
            &to_hash,
            progress,
            cancel,
            |i, abs| hash_source(store, abs, whole_before.get(&i).copied(), &tx),
            |i, e, r| {
                out.hashed_files += 1;
                out.hashed_bytes += r.size;
                if r.stored > 0 {
                    out.stored_objects += 1;
                    out.stored_bytes += r.stored;
                }
                // The stat the bytes were read under, not the scan's: the file may have
                // changed in between, and the hash belongs to what was read.
                cache.record(rel_of(&e.path, skip), r.stat, r.hash, scan.started_ns);
                e.hash = r.hash;
                e.size = r.size;
                // Pieces come from the chunker, within its bounds; an empty list is impossible
                // for a file this large.
                e.chunks = r.chunks.and_then(|c| Chunks::new(c).ok());
                if e.chunks.is_some() {
                    out.cut.insert(i);
                }
            },
        )
        // The last sender goes here; the writer then drains and finishes.
    };
    let written = writer
        .join()
        .map_err(|_| Error::Internal("pack writer panicked".into()))?;

    match (hashed, written) {
        (Ok(()), Ok((packs, packed_n, packed_bytes))) => {
            out.packs = packs;
            out.stored_objects += packed_n;
            out.stored_bytes += packed_bytes;
            Ok(out)
        }
        (Err(e), Ok((packs, _, _))) => {
            Ingested {
                packs,
                ..Default::default()
            }
            .abort();
            Err(e)
        }
        // The writer failed (disk full...); a worker's error is then only "writer stopped".
        (_, Err(e)) => Err(e),
    }
}

/// True when the folder of `scan` holds exactly the entries of `base` (an encoded manifest)
/// and the stat cache vouches for every file: the same paths, each with its stat unchanged since
/// it was read and the content `base` records for it. Then nothing needs reading, hashing or
/// storing, and no manifest needs building: the no-change snapshot and `status` of a folder of
/// a million files. Each file vouched for is marked seen in `cache` (a complete save keeps it);
/// on the first difference the answer is false, and the caller takes the long way.
pub fn matches_encoded(scan: &Scan, cache: &mut StatCache, base: &[u8]) -> Result<bool> {
    let mut entries = EncodedEntries::new(base)?;
    if entries.len() != scan.files.len() {
        return Ok(false);
    }
    for f in &scan.files {
        let Some(e) = entries.next_entry()? else {
            return Ok(false);
        };
        let same = e.link.is_none()
            && e.size == f.stat.size
            && scan.dataset_path(f) == e.path
            && cache.vouch(&f.rel, f.stat, *e.hash, scan.started_ns);
        if !same {
            return Ok(false);
        }
    }
    // Checks what follows the last entry, as decoding does.
    Ok(entries.next_entry()?.is_none())
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
    let mut out = Hashed::default();
    out.entries.reserve_exact(scan.files.len());
    let mut to_hash: Vec<u32> = Vec::new();
    cache.reserve(scan.files.len());
    for (i, f) in scan.files.iter().enumerate() {
        let hash = match cache.lookup(&f.rel, &f.stat) {
            Some(h) => {
                // Marks the entry as seen, so saving a complete scan keeps it.
                cache.record(&f.rel, f.stat, h, scan.started_ns);
                h
            }
            None => {
                to_hash.push(i as u32);
                Hash([0; 32]) // filled in once read
            }
        };
        out.entries.push(Entry::new(
            scan.dataset_path(f).into_owned(),
            f.stat.size,
            hash,
        ));
    }
    let skip = prefix_len(scan);
    read_in_chunks(
        &scan.root,
        skip,
        &mut out.entries,
        &to_hash,
        progress,
        cancel,
        |_, abs| hash_stable(abs),
        |_, e, r| {
            out.hashed_files += 1;
            out.hashed_bytes += r.size;
            // The stat the bytes were read under, as ingest records it.
            cache.record(rel_of(&e.path, skip), r.stat, r.hash, scan.started_ns);
            e.hash = r.hash;
            e.size = r.size;
        },
    )?;
    Ok(out)
}

/// Reads and hashes one file under the same guard as [`hash_source`]: the stat before and after
/// the read must agree, else the file is read again, and one that keeps changing is refused.
fn hash_stable(abs: &Path) -> Result<Read1> {
    for _ in 0..ATTEMPTS {
        let mut file = open_source(abs, "read")?;
        let before = stat_of(&file.metadata().ctx("stat", abs)?);
        let mut hasher = blake3::Hasher::new();
        // One byte more than expected is enough to notice a file that grew.
        let mut buf = vec![0u8; (before.size as usize).saturating_add(1).min(COPY_BUF)];
        let mut total = 0u64;
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e).ctx("read", abs),
            };
            hasher.update(&buf[..n]);
            total += n as u64;
            if total > before.size {
                break; // grew: the stat check below rejects it
            }
        }
        if unchanged(&file, abs, before, total)? {
            return Ok(Read1 {
                hash: hasher.finalize().into(),
                size: total,
                stored: 0,
                stat: before,
                chunks: None,
            });
        }
        pause_before_retry();
    }
    Err(Error::Conflict(format!(
        "'{}' kept changing while it was being read; nothing was changed, try again once it is written",
        abs.display()
    )))
}

/// `doing` completes "while it was being ...": what the caller was doing with the file.
fn open_source(abs: &Path, doing: &str) -> Result<File> {
    File::open(abs).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Conflict(format!(
                "'{}' disappeared while it was being {doing}; nothing was changed",
                abs.display()
            ))
        } else {
            Error::Io {
                action: "read",
                path: abs.to_path_buf(),
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
    abs: &Path,
    whole_before: Option<Hash>,
    tx: &crossbeam_channel::Sender<(Hash, Vec<u8>)>,
) -> Result<Read1> {
    if let Some(before) = whole_before {
        // Read once without storing: unchanged, it keeps its whole object (the common case
        // when a file's stat was only too recent to trust); changed, it is read again below
        // and stored in pieces.
        let r = hash_stable(abs)?;
        if r.hash == before && store.loose_path(&before).exists() {
            return Ok(r);
        }
    }
    for _ in 0..ATTEMPTS {
        let mut file = open_source(abs, "added")?;
        let before = stat_of(&file.metadata().ctx("stat", abs)?);
        let got = if before.size < LOOSE_MIN {
            read_small(&mut file, abs, before)?
        } else if before.size >= crate::chunker::chunked_min() {
            read_pieces(&mut file, abs, before, tx)?
        } else {
            copy_large(store, &mut file, abs, before)?
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
        abs.display()
    )))
}

/// Writers usually finish quickly: a short pause gives them the time before the next read.
fn pause_before_retry() {
    thread::sleep(std::time::Duration::from_millis(50));
}

enum Read {
    /// The file did not change while read: its outcome, and for a small file the bytes to pack.
    Stable(Read1, Option<(Hash, Vec<u8>)>),
    Changed,
}

fn unchanged(file: &File, path: &Path, before: Stat, read: u64) -> Result<bool> {
    let after = stat_of(&file.metadata().ctx("stat", path)?);
    Ok(after == before && read == before.size)
}

fn read_small(file: &mut File, abs: &Path, before: Stat) -> Result<Read> {
    let mut data = Vec::with_capacity(before.size as usize + 1);
    // One byte more than expected is enough to notice a file that grew.
    file.take(LOOSE_MIN)
        .read_to_end(&mut data)
        .ctx("read", abs)?;
    if !unchanged(file, abs, before, data.len() as u64)? {
        return Ok(Read::Changed);
    }
    let hash = Hash::of(&data);
    let outcome = Read1 {
        hash,
        size: before.size,
        stored: 0,
        stat: before,
        chunks: None,
    };
    Ok(Read::Stable(outcome, Some((hash, data))))
}

/// Cuts a large file into pieces ([`crate::chunker`]) and sends each to the pack writer as it is
/// read, hashing the pieces and the whole file from the same bytes. Pieces the store holds
/// already (the rest of an edited shard) are dropped by the writer, so only the changed ones
/// are written. A file that changed while read leaves pieces nothing refers to (gc's to
/// remove) and is read again.
fn read_pieces(
    file: &mut File,
    abs: &Path,
    before: Stat,
    tx: &crossbeam_channel::Sender<(Hash, Vec<u8>)>,
) -> Result<Read> {
    let mut whole = blake3::Hasher::new();
    let mut chunks =
        Vec::with_capacity((before.size / crate::chunker::AVG_PIECE as u64) as usize + 1);
    let total = crate::chunker::split(file, abs, before.size, |piece| {
        whole.update(piece);
        let h = Hash::of(piece);
        chunks.push(Chunk {
            hash: h,
            len: piece.len() as u32,
        });
        tx.send((h, piece.to_vec()))
            .map_err(|_| Error::Internal("pack writer stopped".into()))
    })?;
    if !unchanged(file, abs, before, total)? {
        return Ok(Read::Changed);
    }
    let outcome = Read1 {
        hash: whole.finalize().into(),
        size: total,
        stored: 0,
        stat: before,
        chunks: Some(chunks),
    };
    Ok(Read::Stable(outcome, None))
}

/// Copies a large file into a temporary file of the store, hashing the very bytes written: what
/// the store keeps under a hash is, by construction, what was hashed.
fn copy_large(store: &Store, file: &mut File, abs: &Path, before: Stat) -> Result<Read> {
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
                Err(e) => return Err(e).ctx("read", abs),
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
    if !unchanged(file, abs, before, total)? {
        discard(&tmp);
        return Ok(Read::Changed);
    }
    let dest = store.loose_path(&hash);
    if dest.exists() {
        discard(&tmp);
        let outcome = Read1 {
            hash,
            size: total,
            stored: 0,
            stat: before,
            chunks: None,
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
    let outcome = Read1 {
        hash,
        size: total,
        stored: total,
        stat: before,
        chunks: None,
    };
    Ok(Read::Stable(outcome, None))
}

/// Large enough that per-call costs vanish, small enough to stay in the CPU caches while hashed.
const COPY_BUF: usize = 1 << 20;
