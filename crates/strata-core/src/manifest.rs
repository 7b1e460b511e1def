//! A version's full list of entries, its binary encoding, merging of parents, diffs and sampling.
//!
//! The encoding is compact (paths front-coded, sizes as varints) and deterministic, so equal
//! content gives an equal manifest hash: a snapshot of an unchanged folder is detected by comparing
//! two hashes.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::hash::Hash;

const MAGIC: &[u8; 8] = b"STRATAM1";

/// The largest encoded manifest read from anywhere. A million-entry dataset encodes to about
/// 100 MB (~100 bytes an entry); five times that leaves room for long paths and links while a
/// hostile manifest still costs at most a few GB to refuse or hold.
pub const MAX_MANIFEST_BYTES: u64 = 512 << 20;
/// The longest dataset path: Linux's `PATH_MAX`, so no folder a scan can read makes a longer one.
pub const MAX_PATH_BYTES: usize = 4096;
/// The longest link URL (signed URLs run to a couple of kilobytes).
pub const MAX_LINK_BYTES: usize = 8192;
/// All paths of one decoded manifest together: a million entries of 1 KiB paths. Front coding lets
/// a few bytes of input stand for a 4 KiB path, so this, not the input size, bounds the memory.
pub const MAX_TOTAL_PATH_BYTES: u64 = 1 << 30;
/// The largest file size an entry may claim (1 PiB): sums of sizes cannot overflow, and every
/// size stays exact as a JSON number in the app.
pub const MAX_FILE_BYTES: u64 = 1 << 50;
/// The fewest bytes one encoded entry takes: shared and suffix lengths, a suffix byte (paths are
/// strictly increasing, so every suffix is non-empty), a size, the hash and the link flag.
const MIN_ENTRY_BYTES: usize = 1 + 1 + 1 + 1 + 32 + 1;
/// The most entries a manifest within [`MAX_MANIFEST_BYTES`] can hold.
pub const MAX_ENTRIES: u64 = MAX_MANIFEST_BYTES / MIN_ENTRY_BYTES as u64;
/// The largest piece of a file stored in pieces: below the store's 1 MiB threshold for objects of
/// their own, so pieces are packed, transferred and range-read like small files.
pub const MAX_CHUNK_BYTES: u32 = (1 << 20) - 2;
/// The fewest bytes one encoded piece takes: its hash and a one-byte length.
const MIN_CHUNK_BYTES: usize = 32 + 1;

/// Why a dataset path is unsafe, or `None`. The one check every path from outside goes through:
/// a path must stay inside the folder a copy is written to and print as what it is, so it is
/// relative, `/`-separated, has no empty, `.` or `..` part, no backslash (a separator on
/// Windows), no control character (terminal escapes, NUL) and is at most [`MAX_PATH_BYTES`].
pub fn path_problem(path: &str) -> Option<&'static str> {
    let b = path.as_bytes();
    if b.is_empty() {
        return Some("empty path");
    } else if b.len() > MAX_PATH_BYTES {
        return Some("path longer than 4096 bytes");
    } else if b[0] == b'/' {
        return Some("absolute path");
    }
    // One pass over the bytes (every scanned file and every decoded entry comes here); the
    // answers are those of the checks in the order the doc lists them.
    let (mut control, mut backslash, mut bad_part) = (false, false, false);
    let dot_part = |p: &[u8]| p.is_empty() || p == b"." || p == b"..";
    let mut part_at = 0;
    for (i, &c) in b.iter().enumerate() {
        match c {
            0..=0x1f | 0x7f => control = true,
            // U+0080..=U+009F, the other control characters, are 0xC2 0x80..=0x9F in UTF-8.
            0xc2 if matches!(b.get(i + 1), Some(0x80..=0x9f)) => control = true,
            b'\\' => backslash = true,
            b'/' => {
                bad_part |= dot_part(&b[part_at..i]);
                part_at = i + 1;
            }
            _ => {}
        }
    }
    bad_part |= dot_part(&b[part_at..]);
    if control {
        Some("control character in path")
    } else if backslash {
        Some("backslash in path")
    } else if bad_part {
        Some("empty, '.' or '..' part in path")
    } else {
        None
    }
}

/// Refuses a path that could leave a target folder or mislead when printed ([`path_problem`]).
pub fn validate_path(path: &str) -> Result<()> {
    match path_problem(path) {
        None => Ok(()),
        Some(why) => Err(unsafe_path(path, why)),
    }
}

fn unsafe_path(path: &str, why: &str) -> Error {
    // Shown escaped and cut short: the path may be hostile and long.
    let shown: String = path
        .chars()
        .take(200)
        .flat_map(char::escape_debug)
        .collect();
    Error::Corrupt {
        what: "manifest".into(),
        detail: format!("unsafe path '{shown}' refused ({why})"),
    }
}

/// Refuses a link URL that is too long or carries control characters (they would reach request
/// lines and terminals).
pub fn validate_link(url: &str) -> Result<()> {
    if url.is_empty() || url.len() > MAX_LINK_BYTES || url.chars().any(|c| c.is_control()) {
        let shown: String = url.chars().take(200).flat_map(char::escape_debug).collect();
        return Err(Error::Corrupt {
            what: "manifest".into(),
            detail: format!(
                "bad link '{shown}' refused (empty, over 8 KiB or with control characters)"
            ),
        });
    }
    Ok(())
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Dataset path, `/`-separated, relative, UTF-8.
    pub path: String,
    pub size: u64,
    pub hash: Hash,
    /// For external files: where they live (the content is not in the store).
    // A boxed str, not a String: 8 bytes less in every entry, a million of which a first
    // snapshot holds while it reads the files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<Box<str>>,
    /// For large files stored in pieces (content-defined chunks): the pieces in order, their
    /// lengths adding up to `size`. `hash` stays the hash of the whole content, so diffs,
    /// `status` and equal files compare as they always did; `None` for a file stored whole
    /// (every small file, and large files of versions made before pieces existed).
    #[serde(skip)]
    pub chunks: Option<Chunks>,
}

/// One piece of a file stored in pieces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk {
    pub hash: Hash,
    pub len: u32,
}

/// The pieces of a file, shared between the versions' entries that hold the same content (one
/// pointer in an entry, so a million unchunked entries pay eight bytes each for it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunks(Arc<Vec<Chunk>>);

impl Chunks {
    /// Pieces as a chunker cut them: at least one, none empty or over [`MAX_CHUNK_BYTES`].
    pub fn new(chunks: Vec<Chunk>) -> Result<Self> {
        if chunks.is_empty() || chunks.iter().any(|c| c.len == 0 || c.len > MAX_CHUNK_BYTES) {
            return Err(Error::Internal("bad pieces for a file".into()));
        }
        Ok(Chunks(Arc::new(chunks)))
    }

    pub fn as_slice(&self) -> &[Chunk] {
        &self.0
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Chunk> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The sum of the pieces' lengths.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|c| u64::from(c.len)).sum()
    }
}

impl Entry {
    /// An entry of a file stored whole.
    pub fn new(path: String, size: u64, hash: Hash) -> Self {
        Entry {
            path,
            size,
            hash,
            link: None,
            chunks: None,
        }
    }

    /// The store objects that hold this entry's content, with their sizes: the whole file, or
    /// each of its pieces (a piece two places share is listed twice); none for a link.
    pub fn objects(&self) -> Objects<'_> {
        match (&self.link, &self.chunks) {
            (Some(_), _) => Objects::None,
            (None, Some(c)) => Objects::Pieces(c.iter()),
            (None, None) => Objects::Whole(Some((self.hash, self.size))),
        }
    }
}

/// See [`Entry::objects`].
pub enum Objects<'a> {
    None,
    Whole(Option<(Hash, u64)>),
    Pieces(std::slice::Iter<'a, Chunk>),
}

impl Iterator for Objects<'_> {
    type Item = (Hash, u64);

    fn next(&mut self) -> Option<(Hash, u64)> {
        match self {
            Objects::None => None,
            Objects::Whole(w) => w.take(),
            Objects::Pieces(p) => p.next().map(|c| (c.hash, u64::from(c.len))),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    entries: Vec<Entry>,
}

impl Manifest {
    /// Builds from entries in any order; a later entry for the same path wins.
    pub fn from_entries(mut entries: Vec<Entry>) -> Self {
        // A stable sort keeps equal paths in input order (and costs one pass on sorted input, a
        // scan's); keeping the last of each run, in place, makes the later entry win without
        // cloning any path or a second list of a million entries.
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        entries.dedup_by(|later, earlier| {
            let same = later.path == earlier.path;
            if same {
                std::mem::swap(later, earlier);
            }
            same
        });
        Manifest { entries }
    }

    /// Builds from entries already sorted by path with no duplicates.
    pub fn from_sorted(entries: Vec<Entry>) -> Result<Self> {
        if entries.windows(2).any(|w| w[0].path >= w[1].path) {
            return Err(Error::Internal("manifest entries not sorted".into()));
        }
        Ok(Manifest { entries })
    }

    /// Refuses entries whose path could leave a target folder ([`validate_path`]). [`decode`]
    /// already refuses them; this is for manifests built in memory from elsewhere.
    ///
    /// [`decode`]: Manifest::decode
    pub fn check_paths(&self) -> Result<()> {
        self.entries.iter().try_for_each(|e| validate_path(&e.path))
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn into_entries(self) -> Vec<Entry> {
        self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn total_bytes(&self) -> u64 {
        sum_sizes(self.entries.iter())
    }

    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.entries
            .binary_search_by(|e| e.path.as_str().cmp(path))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// Parents merged in order: later parents override earlier ones on the same path.
    pub fn merge<'a>(parents: impl IntoIterator<Item = &'a Manifest>) -> Manifest {
        let mut map: BTreeMap<&str, &Entry> = BTreeMap::new();
        for m in parents {
            for e in &m.entries {
                map.insert(&e.path, e);
            }
        }
        Manifest {
            entries: map.into_values().cloned().collect(),
        }
    }

    /// Adds or replaces entries: a merge of two sorted lists, so adding a few files to a
    /// million-entry manifest costs one pass and no copies of the untouched entries.
    pub fn upsert(&mut self, new: Vec<Entry>) {
        if new.is_empty() {
            return;
        }
        let new = Manifest::from_entries(new).entries;
        let old = std::mem::take(&mut self.entries);
        let mut out = Vec::with_capacity(old.len() + new.len());
        let mut old = old.into_iter().peekable();
        for e in new {
            while let Some(o) = old.next_if(|o| o.path < e.path) {
                out.push(o);
            }
            old.next_if(|o| o.path == e.path);
            out.push(e);
        }
        out.extend(old);
        self.entries = out;
    }

    /// Removes entries for which `remove` is true; returns them.
    pub fn remove_where(&mut self, mut remove: impl FnMut(&Entry) -> bool) -> Vec<Entry> {
        let (gone, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|e| remove(e));
        self.entries = kept;
        gone
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut all = Vec::with_capacity(16 + self.entries.len() * 56);
        self.encode_in_parts(|part| all.extend_from_slice(part));
        all
    }

    /// The encoding, handed to `sink` in parts of about 64 KiB: hashing a manifest of a million
    /// entries need not hold its 50-100 MB encoding.
    pub fn encode_in_parts(&self, sink: impl FnMut(&[u8])) {
        encode_entries_in_parts(&self.entries, sink)
    }

    /// Decodes in one pass with memory linear in the input: every length is checked against
    /// the bytes left and the limits above before anything is allocated for it, each path is
    /// built once (no copy of the previous one) and checked with [`validate_path`].
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = EncodedEntries::new(bytes)?;
        let mut entries: Vec<Entry> = Vec::with_capacity(r.len());
        while let Some(e) = r.next_entry()? {
            let chunks = match e.chunks {
                Some(c) => Some(Chunks::new(c.to_vec())?),
                None => None,
            };
            entries.push(Entry {
                path: e.path.to_string(),
                size: e.size,
                hash: *e.hash,
                link: e.link.map(Box::from),
                chunks,
            });
        }
        Ok(Manifest { entries })
    }

    /// The content hash of the encoding: equal content, equal hash.
    pub fn hash(&self) -> Hash {
        hash_sorted(&self.entries)
    }

    /// The hash of the manifest `entries` make ([`Manifest::from_entries`]), without building
    /// one when they are already sorted by path with no duplicates (a version's, or a subset of
    /// it): a million entries are not copied to be hashed.
    pub fn hash_of(entries: &[Entry]) -> Hash {
        if entries.windows(2).all(|w| w[0].path < w[1].path) {
            hash_sorted(entries)
        } else {
            Manifest::from_entries(entries.to_vec()).hash()
        }
    }
}

fn hash_sorted(entries: &[Entry]) -> Hash {
    let mut h = blake3::Hasher::new();
    encode_entries_in_parts(entries, |part| {
        h.update(part);
    });
    h.finalize().into()
}

/// [`Manifest::encode_in_parts`] of entries sorted by path with no duplicates.
fn encode_entries_in_parts(entries: &[Entry], mut sink: impl FnMut(&[u8])) {
    const PART: usize = 64 << 10;
    let mut out = Vec::with_capacity(PART + MAX_PATH_BYTES + MAX_LINK_BYTES + 64);
    out.extend_from_slice(MAGIC);
    put_varint(&mut out, entries.len() as u64);
    let mut prev: &[u8] = &[];
    for e in entries {
        let p = e.path.as_bytes();
        let shared = prev.iter().zip(p).take_while(|(a, b)| a == b).count();
        put_varint(&mut out, shared as u64);
        put_varint(&mut out, (p.len() - shared) as u64);
        out.extend_from_slice(&p[shared..]);
        put_varint(&mut out, e.size);
        out.extend_from_slice(&e.hash.0);
        match (&e.link, &e.chunks) {
            (None, None) => out.push(0),
            (Some(url), _) => {
                out.push(1);
                put_varint(&mut out, url.len() as u64);
                out.extend_from_slice(url.as_bytes());
            }
            (None, Some(chunks)) => {
                out.push(2);
                put_varint(&mut out, chunks.len() as u64);
                for c in chunks.iter() {
                    out.extend_from_slice(&c.hash.0);
                    put_varint(&mut out, u64::from(c.len));
                    if out.len() >= PART {
                        sink(&out);
                        out.clear();
                    }
                }
            }
        }
        prev = p;
        if out.len() >= PART {
            sink(&out);
            out.clear();
        }
    }
    sink(&out);
}

/// An entry of an encoded manifest, borrowed while it is read.
#[derive(Clone, Copy, Debug)]
pub struct EntryRef<'a> {
    pub path: &'a str,
    pub size: u64,
    pub hash: &'a Hash,
    pub link: Option<&'a str>,
    /// The pieces of a file stored in pieces, checked: lengths in bounds, adding up to `size`.
    pub chunks: Option<&'a [Chunk]>,
}

/// Checks an encoded manifest from elsewhere as [`Manifest::decode`] and
/// [`Manifest::check_paths`] would, one entry at a time: a manifest of a million entries need
/// not be built to be refused or kept.
pub fn check_encoded(bytes: &[u8]) -> Result<()> {
    let mut entries = EncodedEntries::new(bytes)?;
    while let Some(e) = entries.next_entry()? {
        validate_path(e.path)?;
    }
    Ok(())
}

impl EntryRef<'_> {
    /// What the store and remotes hold of this entry, as [`Entry::objects`].
    pub fn objects(&self) -> Objects<'_> {
        match (self.link, self.chunks) {
            (Some(_), _) => Objects::None,
            (None, Some(c)) => Objects::Pieces(c.iter()),
            (None, None) => Objects::Whole(Some((*self.hash, self.size))),
        }
    }
}

/// The entries of an encoded manifest one at a time, checked as [`Manifest::decode`] checks
/// them, without building them: comparing a folder with a version of a million entries need
/// not hold the version as a million `Entry`s.
pub struct EncodedEntries<'a> {
    r: Reader<'a>,
    left: usize,
    total: usize,
    path_bytes: u64,
    /// The current path and the previous one (paths are front-coded against it).
    path: Vec<u8>,
    prev: Vec<u8>,
    hash: Hash,
    link: Option<&'a str>,
    chunks: Vec<Chunk>,
}

impl<'a> EncodedEntries<'a> {
    pub fn new(bytes: &'a [u8]) -> Result<Self> {
        if bytes.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(corrupt(format!(
                "{} bytes, more than the {} MiB a manifest may have",
                bytes.len(),
                MAX_MANIFEST_BYTES >> 20
            )));
        }
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(corrupt("bad header".into()));
        }
        let mut r = Reader {
            buf: bytes,
            pos: MAGIC.len(),
        };
        let n = r.varint().ok_or_else(truncated)?;
        // Each entry takes at least MIN_ENTRY_BYTES, so a count the bytes cannot hold is a lie.
        let room = (bytes.len() - r.pos) / MIN_ENTRY_BYTES;
        if n > room as u64 {
            return Err(corrupt(format!(
                "claims {n} entries but has room for at most {room}"
            )));
        }
        Ok(EncodedEntries {
            r,
            left: n as usize,
            total: n as usize,
            path_bytes: 0,
            path: Vec::new(),
            prev: Vec::new(),
            hash: Hash([0; 32]),
            link: None,
            chunks: Vec::new(),
        })
    }

    /// How many entries the manifest holds.
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The next entry, `None` after the last; an error for anything `decode` refuses.
    pub fn next_entry(&mut self) -> Result<Option<EntryRef<'_>>> {
        let r = &mut self.r;
        if self.left == 0 {
            if r.pos != r.buf.len() {
                return Err(corrupt("trailing bytes".into()));
            }
            return Ok(None);
        }
        let first = self.left == self.total;
        self.left -= 1;
        std::mem::swap(&mut self.path, &mut self.prev);
        let shared = r.varint().ok_or_else(truncated)?;
        let len = r.varint().ok_or_else(truncated)?;
        if shared > self.prev.len() as u64 {
            return Err(corrupt("bad path prefix".into()));
        }
        let total = shared.saturating_add(len);
        if total > MAX_PATH_BYTES as u64 {
            return Err(corrupt(format!(
                "a path of {total} bytes, more than {MAX_PATH_BYTES}"
            )));
        }
        self.path_bytes += total;
        if self.path_bytes > MAX_TOTAL_PATH_BYTES {
            return Err(corrupt(format!(
                "paths add up to more than {} MiB",
                MAX_TOTAL_PATH_BYTES >> 20
            )));
        }
        let suffix = r.take(len as usize).ok_or_else(truncated)?;
        self.path.clear();
        self.path.extend_from_slice(&self.prev[..shared as usize]);
        self.path.extend_from_slice(suffix);
        let path =
            std::str::from_utf8(&self.path).map_err(|_| corrupt("path is not UTF-8".into()))?;
        if let Some(why) = path_problem(path) {
            return Err(unsafe_path(path, why));
        }
        if !first && self.prev.as_slice() >= path.as_bytes() {
            return Err(corrupt("entries out of order".into()));
        }
        let size = r.varint().ok_or_else(truncated)?;
        if size > MAX_FILE_BYTES {
            return Err(corrupt(format!(
                "'{}' claims {size} bytes, more than 1 PiB",
                path.escape_debug()
            )));
        }
        self.hash
            .0
            .copy_from_slice(r.take(32).ok_or_else(truncated)?);
        let flag = r.take(1).ok_or_else(truncated)?[0];
        self.chunks.clear();
        self.link = match flag {
            0 | 2 => None,
            1 => {
                let l = r.varint().ok_or_else(truncated)?;
                if l > MAX_LINK_BYTES as u64 {
                    return Err(corrupt(format!(
                        "a link of {l} bytes, more than {MAX_LINK_BYTES}"
                    )));
                }
                let u = r.take(l as usize).ok_or_else(truncated)?;
                let url =
                    std::str::from_utf8(u).map_err(|_| corrupt("link is not UTF-8".into()))?;
                validate_link(url)?;
                Some(url)
            }
            _ => return Err(corrupt("bad entry flag".into())),
        };
        if flag == 2 {
            read_chunks(r, path, size, &mut self.chunks)?;
        }
        Ok(Some(EntryRef {
            path,
            size,
            hash: &self.hash,
            link: self.link,
            chunks: (flag == 2).then_some(self.chunks.as_slice()),
        }))
    }
}

/// Reads the pieces of a file stored in pieces into `out`: a count the bytes left can hold, each
/// length within 1..=[`MAX_CHUNK_BYTES`], and lengths adding up to exactly the entry's size (a
/// piece list that describes other bytes than the entry would hand out a different file).
fn read_chunks(r: &mut Reader<'_>, path: &str, size: u64, out: &mut Vec<Chunk>) -> Result<()> {
    let n = r.varint().ok_or_else(truncated)?;
    let room = (r.buf.len() - r.pos) / MIN_CHUNK_BYTES;
    if n == 0 || n > room as u64 {
        return Err(corrupt(format!(
            "'{}' claims {n} pieces where the manifest has room for at most {room}",
            path.escape_debug()
        )));
    }
    out.reserve_exact(n as usize);
    let mut total = 0u64;
    for _ in 0..n {
        let mut hash = Hash([0; 32]);
        hash.0.copy_from_slice(r.take(32).ok_or_else(truncated)?);
        let len = r.varint().ok_or_else(truncated)?;
        if len == 0 || len > u64::from(MAX_CHUNK_BYTES) {
            return Err(corrupt(format!(
                "'{}' has a piece of {len} bytes (pieces are 1 to {MAX_CHUNK_BYTES} bytes)",
                path.escape_debug()
            )));
        }
        total += len;
        out.push(Chunk {
            hash,
            len: len as u32,
        });
    }
    if total != size {
        return Err(corrupt(format!(
            "the pieces of '{}' add up to {total} bytes but it claims {size}",
            path.escape_debug()
        )));
    }
    Ok(())
}

fn corrupt(detail: String) -> Error {
    Error::Corrupt {
        what: "manifest".into(),
        detail,
    }
}

fn truncated() -> Error {
    corrupt("truncated".into())
}

/// Sizes summed without overflow: entries built in memory are not bounded like decoded ones.
fn sum_sizes<'a>(entries: impl Iterator<Item = &'a Entry>) -> u64 {
    entries.fold(0u64, |acc, e| acc.saturating_add(e.size))
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos)?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
}

/// What changed between two manifests.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Diff {
    pub added: Vec<Entry>,
    pub removed: Vec<Entry>,
    /// (old, new)
    pub modified: Vec<(Entry, Entry)>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiffTotals {
    pub added: u64,
    pub removed: u64,
    pub modified: u64,
    pub unchanged: u64,
    pub added_bytes: u64,
    pub removed_bytes: u64,
    pub modified_bytes: u64,
}

/// One difference between two manifests, borrowed from them.
#[derive(Clone, Copy, Debug)]
pub enum Change<'a> {
    Added(&'a Entry),
    Removed(&'a Entry),
    /// (old, new)
    Modified(&'a Entry, &'a Entry),
}

impl Diff {
    pub fn between(old: &Manifest, new: &Manifest) -> Diff {
        let mut d = Diff::default();
        Diff::visit(old, new, |c| match c {
            Change::Added(e) => d.added.push(e.clone()),
            Change::Removed(e) => d.removed.push(e.clone()),
            Change::Modified(o, n) => d.modified.push((o.clone(), n.clone())),
        });
        d
    }

    /// Each difference in path order, without copying an entry: for counting the changes
    /// between versions of a million entries, where [`between`](Diff::between) would clone
    /// every path of a first version.
    pub fn visit<'a>(old: &'a Manifest, new: &'a Manifest, mut f: impl FnMut(Change<'a>)) {
        let (a, b) = (&old.entries, &new.entries);
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if x.path == y.path => {
                    if x.hash != y.hash || x.size != y.size || x.link != y.link {
                        f(Change::Modified(x, y));
                    }
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x.path < y.path => {
                    f(Change::Removed(x));
                    i += 1;
                }
                (Some(_), Some(y)) => {
                    f(Change::Added(y));
                    j += 1;
                }
                (Some(x), None) => {
                    f(Change::Removed(x));
                    i += 1;
                }
                (None, Some(y)) => {
                    f(Change::Added(y));
                    j += 1;
                }
                (None, None) => break,
            }
        }
    }

    /// [`totals`](Diff::totals) of the diff between two manifests, without building it.
    pub fn totals_between(old: &Manifest, new: &Manifest) -> DiffTotals {
        let mut t = DiffTotals::default();
        Diff::visit(old, new, |c| match c {
            Change::Added(e) => {
                t.added += 1;
                t.added_bytes = t.added_bytes.saturating_add(e.size);
            }
            Change::Removed(e) => {
                t.removed += 1;
                t.removed_bytes = t.removed_bytes.saturating_add(e.size);
            }
            Change::Modified(_, n) => {
                t.modified += 1;
                t.modified_bytes = t.modified_bytes.saturating_add(n.size);
            }
        });
        t.unchanged = (new.len() as u64).saturating_sub(t.added + t.modified);
        t
    }

    pub fn totals(&self, new_len: usize) -> DiffTotals {
        let changed = self.added.len() + self.modified.len();
        DiffTotals {
            added: self.added.len() as u64,
            removed: self.removed.len() as u64,
            modified: self.modified.len() as u64,
            unchanged: new_len.saturating_sub(changed) as u64,
            added_bytes: sum_sizes(self.added.iter()),
            removed_bytes: sum_sizes(self.removed.iter()),
            modified_bytes: sum_sizes(self.modified.iter().map(|(_, n)| n)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.modified.is_empty()
    }
}

/// A reproducible random subset: the same `fraction`, `seed` and paths select the same entries on
/// every machine. Entries are ranked by a keyed hash of their path and the first
/// `round(n * fraction)` are kept, so the count is exact and independent of order.
pub fn sample(entries: Vec<Entry>, fraction: f64, seed: u64) -> Result<Vec<Entry>> {
    if !(fraction > 0.0 && fraction <= 1.0) {
        return Err(Error::invalid(format!(
            "the fraction to sample must be in (0, 1], got {fraction}"
        )));
    }
    let keep = ((entries.len() as f64) * fraction).round() as usize;
    let keep = keep.clamp(usize::from(!entries.is_empty()), entries.len());
    let mut ranked: Vec<(u64, usize)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut h = blake3::Hasher::new();
            h.update(&seed.to_le_bytes());
            h.update(e.path.as_bytes());
            let d = h.finalize();
            let mut k = [0u8; 8];
            k.copy_from_slice(&d.as_bytes()[..8]);
            (u64::from_le_bytes(k), i)
        })
        .collect();
    ranked.sort_unstable();
    let mut chosen: Vec<usize> = ranked[..keep].iter().map(|&(_, i)| i).collect();
    chosen.sort_unstable();
    let mut it = chosen.into_iter().peekable();
    Ok(entries
        .into_iter()
        .enumerate()
        .filter_map(|(i, e)| {
            if it.peek() == Some(&i) {
                it.next();
                Some(e)
            } else {
                None
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(path: &str, b: u8) -> Entry {
        Entry::new(path.into(), b as u64, Hash([b; 32]))
    }

    fn chunked(path: &str, lens: &[u32]) -> Entry {
        let chunks: Vec<Chunk> = lens
            .iter()
            .enumerate()
            .map(|(i, &len)| Chunk {
                hash: Hash([i as u8; 32]),
                len,
            })
            .collect();
        Entry {
            chunks: Some(Chunks::new(chunks).unwrap()),
            ..Entry::new(
                path.into(),
                lens.iter().map(|&l| u64::from(l)).sum(),
                Hash([9; 32]),
            )
        }
    }

    #[test]
    fn the_hash_of_entries_is_their_manifests_sorted_or_not() {
        let sorted = vec![e("a", 1), chunked("b.bin", &[70_000, 5]), e("c", 3)];
        let want = Manifest::from_entries(sorted.clone()).hash();
        assert_eq!(Manifest::hash_of(&sorted), want);
        let mut shuffled = sorted.clone();
        shuffled.reverse();
        assert_eq!(Manifest::hash_of(&shuffled), want);
        // A later entry for the same path wins, as in from_entries.
        let mut twice = sorted.clone();
        twice.insert(1, e("c", 7));
        assert_eq!(Manifest::hash_of(&twice), want);
        assert_ne!(Manifest::hash_of(&sorted[..2]), want);
    }

    #[test]
    fn pieces_round_trip_and_an_unchunked_manifest_encodes_as_before() {
        // An entry without pieces encodes byte for byte as before pieces existed (flag 0), so
        // old versions keep their manifests' hashes.
        let plain = Manifest::from_entries(vec![e("a", 1)]);
        let mut want = MAGIC.to_vec();
        want.extend_from_slice(&[1, 0, 1, b'a', 1]);
        want.extend_from_slice(&[1; 32]);
        want.push(0);
        assert_eq!(plain.encode(), want);
        let m = Manifest::from_entries(vec![
            e("a", 1),
            chunked("big.bin", &[MAX_CHUNK_BYTES, 70_000, 5]),
            e("c", 3),
        ]);
        let back = Manifest::decode(&m.encode()).unwrap();
        assert_eq!(back, m);
        let objects: Vec<(Hash, u64)> = back.get("big.bin").unwrap().objects().collect();
        assert_eq!(
            objects,
            vec![
                (Hash([0; 32]), u64::from(MAX_CHUNK_BYTES)),
                (Hash([1; 32]), 70_000),
                (Hash([2; 32]), 5)
            ]
        );
        assert_eq!(
            back.get("a").unwrap().objects().collect::<Vec<_>>(),
            vec![(Hash([1; 32]), 1)]
        );
        // Read one at a time, the same pieces.
        let bytes = m.encode();
        let mut r = EncodedEntries::new(&bytes).unwrap();
        r.next_entry().unwrap();
        let big = r.next_entry().unwrap().unwrap();
        assert_eq!(big.chunks.map(<[Chunk]>::len), Some(3));
        assert!(r.next_entry().unwrap().unwrap().chunks.is_none());
    }

    /// A piece list from elsewhere must describe exactly the entry's bytes, in pieces a store
    /// packs: anything else is refused whole, naming the file.
    #[test]
    fn pieces_that_do_not_add_up_or_break_the_bounds_are_refused() {
        let encode_with = |size: u64, pieces: &[(u8, u64)], claimed: Option<u64>| {
            let mut out = MAGIC.to_vec();
            put_varint(&mut out, 1);
            put_varint(&mut out, 0);
            put_varint(&mut out, 3);
            out.extend_from_slice(b"big");
            put_varint(&mut out, size);
            out.extend_from_slice(&[7; 32]);
            out.push(2);
            put_varint(&mut out, claimed.unwrap_or(pieces.len() as u64));
            for (b, len) in pieces {
                out.extend_from_slice(&[*b; 32]);
                put_varint(&mut out, *len);
            }
            out
        };
        assert!(Manifest::decode(&encode_with(30, &[(1, 10), (2, 20)], None)).is_ok());
        let cases = [
            (
                encode_with(31, &[(1, 10), (2, 20)], None),
                "add up to 30 bytes but it claims 31",
            ),
            (encode_with(0, &[], None), "claims 0 pieces"),
            (
                encode_with(10, &[(1, 0), (2, 10)], None),
                "a piece of 0 bytes",
            ),
            (
                encode_with(1 << 20, &[(1, 1 << 20)], None),
                "a piece of 1048576 bytes",
            ),
            (
                encode_with(30, &[(1, 10), (2, 20)], Some(1 << 40)),
                "room for at most",
            ),
        ];
        for (bytes, want) in cases {
            let err = Manifest::decode(&bytes).unwrap_err().to_string();
            assert!(err.contains(want) && err.contains("big"), "{want}: {err}");
        }
        // Cut anywhere inside the pieces: refused, never a panic.
        let good = encode_with(30, &[(1, 10), (2, 20)], None);
        for cut in 1..good.len() {
            assert!(Manifest::decode(&good[..cut]).is_err());
        }
    }

    #[test]
    fn encoding_round_trips() {
        let mut m = Manifest::from_entries(vec![e("b/x", 1), e("a/y", 2), e("a/yz", 3)]);
        m.upsert(vec![Entry {
            link: Some("s3://b/k".into()),
            ..e("c", 4)
        }]);
        let back = Manifest::decode(&m.encode()).unwrap();
        assert_eq!(back, m);
        assert!(Manifest::decode(&m.encode()[..20]).is_err());
    }

    /// The attack that once cost ~45 GB: each entry repeats the whole previous path and adds one
    /// byte, so a few bytes of input stand for an ever longer path. Refused at the path limit,
    /// quickly and with little memory.
    #[test]
    fn a_manifest_of_ever_longer_paths_is_refused_quickly() {
        let mut bytes = MAGIC.to_vec();
        let n = 330_000u64;
        put_varint(&mut bytes, n);
        for i in 0..n {
            put_varint(&mut bytes, i);
            put_varint(&mut bytes, 1);
            bytes.push(b'a');
            put_varint(&mut bytes, 1);
            bytes.extend_from_slice(&[7; 32]);
            bytes.push(0);
        }
        assert!(bytes.len() > 12_000_000);
        let start = std::time::Instant::now();
        let err = Manifest::decode(&bytes).unwrap_err().to_string();
        assert!(err.contains("more than 4096"), "{err}");
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }

    /// Long legitimate paths decode in time linear in their length.
    #[test]
    fn many_long_paths_decode_in_well_under_a_second() {
        let stem = "d/".repeat(1990);
        let all: Vec<Entry> = (0..2000).map(|i| e(&format!("{stem}{i:05}"), 1)).collect();
        let m = Manifest::from_entries(all);
        let bytes = m.encode();
        let start = std::time::Instant::now();
        assert_eq!(Manifest::decode(&bytes).unwrap(), m);
        assert!(start.elapsed() < std::time::Duration::from_secs(1));
    }

    /// The one-pass [`path_problem`] gives the answers of the checks as the doc states them,
    /// one after another, on paths built from the characters that matter.
    #[test]
    fn path_problem_answers_as_the_checks_read() {
        fn by_the_rules(path: &str) -> Option<&'static str> {
            if path.is_empty() {
                Some("empty path")
            } else if path.len() > MAX_PATH_BYTES {
                Some("path longer than 4096 bytes")
            } else if path.starts_with('/') {
                Some("absolute path")
            } else if path.chars().any(|c| c.is_control()) {
                Some("control character in path")
            } else if path.contains('\\') {
                Some("backslash in path")
            } else if path
                .split('/')
                .any(|part| part.is_empty() || part == "." || part == "..")
            {
                Some("empty, '.' or '..' part in path")
            } else {
                None
            }
        }
        let alphabet = [
            "a", "/", ".", "\\", "\u{1b}", "\0", "\u{7f}", "\u{80}", "\u{9f}", "\u{a0}", "\u{c2}",
            "é", "\u{85}", "..", "€",
        ];
        let mut n = 0u64;
        // Every path of up to four pieces of the alphabet.
        let mut paths = vec![String::new()];
        for _ in 0..4 {
            let mut longer = Vec::new();
            for p in &paths {
                for a in alphabet {
                    longer.push(format!("{p}{a}"));
                }
            }
            for p in paths.iter().chain(&longer) {
                assert_eq!(path_problem(p), by_the_rules(p), "{p:?}");
                n += 1;
            }
            paths = longer;
        }
        assert!(n > 50_000, "{n}");
        for p in ["x".repeat(MAX_PATH_BYTES), "x".repeat(MAX_PATH_BYTES + 1)] {
            assert_eq!(path_problem(&p), by_the_rules(&p));
        }
    }

    #[test]
    fn unsafe_paths_and_lying_counts_are_refused_before_use() {
        for (path, why) in [
            ("../x", "'..'"),
            ("a//b", "empty"),
            ("/etc/passwd", "absolute"),
            ("a/./b", "'.'"),
            ("a\u{1b}[2Jb", "control"),
            ("a\0b", "control"),
            ("a\\..\\b", "backslash"),
        ] {
            let m = Manifest::from_entries(vec![e(path, 1)]);
            let err = Manifest::decode(&m.encode()).unwrap_err().to_string();
            assert!(
                err.contains("unsafe path") && err.contains(why),
                "{path}: {err}"
            );
            assert!(m.check_paths().is_err());
        }
        let long = "x".repeat(MAX_PATH_BYTES + 1);
        assert!(Manifest::decode(&Manifest::from_entries(vec![e(&long, 1)]).encode()).is_err());
        // A count of 2^40 entries in a few bytes is refused before any allocation for it.
        let mut bytes = MAGIC.to_vec();
        put_varint(&mut bytes, 1 << 40);
        let err = Manifest::decode(&bytes).unwrap_err().to_string();
        assert!(err.contains("room for at most 0"), "{err}");
        let huge = Manifest::from_entries(vec![e("a", 1)]);
        let mut big = huge.entries()[0].clone();
        big.size = MAX_FILE_BYTES + 1;
        let err = Manifest::decode(&Manifest::from_entries(vec![big]).encode())
            .unwrap_err()
            .to_string();
        assert!(err.contains("more than 1 PiB"), "{err}");
    }

    #[test]
    fn upsert_replaces_and_keeps_paths_sorted() {
        let mut m = Manifest::from_entries(vec![e("a", 1), e("c", 1), e("e", 1)]);
        m.upsert(vec![e("f", 2), e("a", 2), e("d", 2)]);
        let paths: Vec<&str> = m.entries().iter().map(|x| x.path.as_str()).collect();
        assert_eq!(paths, ["a", "c", "d", "e", "f"]);
        assert_eq!(m.get("a").unwrap().hash, Hash([2; 32]));
        assert_eq!(m.get("c").unwrap().hash, Hash([1; 32]));
    }

    #[test]
    fn later_parents_override_earlier() {
        let p1 = Manifest::from_entries(vec![e("a", 1), e("b", 1)]);
        let p2 = Manifest::from_entries(vec![e("b", 2), e("c", 2)]);
        let m = Manifest::merge([&p1, &p2]);
        assert_eq!(m.get("b").unwrap().hash, Hash([2; 32]));
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn diff_finds_each_kind() {
        let a = Manifest::from_entries(vec![e("a", 1), e("b", 1), e("c", 1)]);
        let b = Manifest::from_entries(vec![e("b", 2), e("c", 1), e("d", 1)]);
        let d = Diff::between(&a, &b);
        assert_eq!(d.added.len(), 1);
        assert_eq!(d.removed.len(), 1);
        assert_eq!(d.modified.len(), 1);
        assert_eq!(d.totals(b.len()).unchanged, 1);
    }

    #[test]
    fn sampling_is_exact_and_reproducible() {
        let all: Vec<Entry> = (0..1000).map(|i| e(&format!("f{i:04}"), 1)).collect();
        let a = sample(all.clone(), 0.1, 42).unwrap();
        let b = sample(all.clone(), 0.1, 42).unwrap();
        let c = sample(all, 0.1, 43).unwrap();
        assert_eq!(a.len(), 100);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn entry() -> impl Strategy<Value = Entry> {
            (
                "[a-z]{1,8}(/[a-z0-9_-][a-z0-9._-]{0,11}){0,4}",
                0u64..(1 << 40),
                any::<[u8; 32]>(),
                proptest::option::of("https://[a-z]{1,10}/[a-z]{1,10}"),
            )
                .prop_map(|(path, size, h, link)| Entry {
                    link: link.map(Box::from),
                    ..Entry::new(path, size, Hash(h))
                })
        }

        proptest! {
            #[test]
            fn valid_manifests_round_trip(entries in proptest::collection::vec(entry(), 0..40)) {
                let m = Manifest::from_entries(entries);
                prop_assert_eq!(Manifest::decode(&m.encode()).unwrap(), m);
            }

            #[test]
            fn random_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                let _ = Manifest::decode(&bytes);
                bytes.splice(0..0, MAGIC.iter().copied());
                let _ = Manifest::decode(&bytes);
            }

            #[test]
            fn mutated_manifests_never_panic_and_stay_safe(
                entries in proptest::collection::vec(entry(), 1..20),
                edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
                cut in any::<prop::sample::Index>(),
            ) {
                let mut bytes = Manifest::from_entries(entries).encode();
                for (at, b) in edits {
                    let i = at.index(bytes.len());
                    bytes[i] = b;
                }
                for bytes in [&bytes[..], &bytes[..cut.index(bytes.len())]] {
                    if let Ok(m) = Manifest::decode(bytes) {
                        // Whatever decodes is safe to use.
                        prop_assert!(m.check_paths().is_ok());
                        prop_assert!(m.entries().windows(2).all(|w| w[0].path < w[1].path));
                        prop_assert!(m.entries().iter().all(|e| e.size <= MAX_FILE_BYTES));
                    }
                }
            }
        }
    }
}
