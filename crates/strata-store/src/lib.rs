//! The content store: every distinct content once, addressed by its BLAKE3 hash.
//!
//! Layout under the store root:
//! - `packs/<name>.pack`: many small objects back to back, with a footer listing them;
//! - `objects/ab/<hash>`: large objects, one file each (never linked out: read-only copies link
//!   to a clone or copy in the cache's pool, see [`pool`]);
//! - `manifests/ab/<hash>`: encoded manifests;
//! - `index.db`: where each packed object lives (pack, offset, length), and what each remote is
//!   known to hold;
//! - `stat/<root-hash>.bin`: the stat cache of each scanned folder;
//! - `tmp/`: files being written; never referenced, removed by `gc`.

pub mod chunker;
pub mod free;
mod fsutil;
pub mod gc;
mod imports;
mod index;
pub mod ingest;
pub mod materialize;
mod pack;
pub mod pool;
mod remote_index;
pub mod scan;
mod statcache;
pub mod verify;

use std::collections::HashMap;
use std::fs::{self, File};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;

use strata_core::{Chunks, Entry, Error, Hash, IoContext, Manifest, Result};

pub use imports::SmallImport;
pub use ingest::{Ingested, Source};
pub use pack::MAX_PACK_OBJECTS;
pub use remote_index::{ListedPlace, PlaceList, RemotePlace};
pub use scan::{scan_folder, Ignores, Scan};
pub use statcache::StatCache;

/// Objects at least this large are stored as loose files; smaller ones go into packs.
pub const LOOSE_MIN: u64 = 1 << 20;

/// Where one object's bytes are; for a file stored in pieces, where each piece is, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// `pack` is shared by every object of the pack a lookup of many returns: a copy of a
    /// million files plans a million locations, and a name each was 60-odd bytes apiece.
    Packed {
        pack: Arc<str>,
        offset: u64,
        len: u64,
    },
    Loose(PathBuf),
    Chunked(Vec<Location>),
}

pub struct Store {
    root: PathBuf,
    index: index::Index,
    packs: Mutex<HashMap<String, Arc<File>>>,
    /// Objects per pack an ingest writes (see [`pack::MAX_PACK_OBJECTS`]).
    pack_objects: usize,
}

impl Store {
    pub fn open(root: &Path) -> Result<Self> {
        for d in ["packs", "objects", "manifests", "stat", "tmp"] {
            let p = root.join(d);
            fs::create_dir_all(&p).ctx("create", &p)?;
        }
        let index = index::Index::open(&root.join("index.db"))?;
        Ok(Store {
            root: root.to_path_buf(),
            index,
            packs: Mutex::new(HashMap::new()),
            pack_objects: pack::MAX_PACK_OBJECTS,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Makes ingests close packs at `n` objects: for tests, which cannot write a quarter of a
    /// million files to see a pack close.
    #[doc(hidden)]
    pub fn set_pack_objects(&mut self, n: usize) {
        self.pack_objects = n;
    }

    pub(crate) fn pack_objects(&self) -> usize {
        self.pack_objects
    }

    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    pub(crate) fn packs_dir(&self) -> PathBuf {
        self.root.join("packs")
    }

    pub fn loose_path(&self, h: &Hash) -> PathBuf {
        let hex = h.to_hex();
        self.root.join("objects").join(&hex[..2]).join(hex)
    }

    fn manifest_path(&self, h: &Hash) -> PathBuf {
        let hex = h.to_hex();
        self.root.join("manifests").join(&hex[..2]).join(hex)
    }

    pub fn pack_path(&self, name: &str) -> PathBuf {
        self.packs_dir().join(format!("{name}.pack"))
    }

    /// Where an object is, if the store has it: a large one may be stored whole or, when its
    /// pieces are recorded ([`Store::known_pieces`]), in pieces.
    pub fn locate(&self, h: &Hash, size: u64) -> Result<Option<Location>> {
        if size >= LOOSE_MIN {
            let p = self.loose_path(h);
            if p.exists() {
                return Ok(Some(Location::Loose(p)));
            }
            return match self.known_pieces(h, size)? {
                Some(chunks) => self.locate_pieces(&chunks),
                None => Ok(None),
            };
        }
        Ok(self
            .index
            .get(h)?
            .map(|(pack, offset, len)| Location::Packed {
                pack: pack.into(),
                offset,
                len,
            }))
    }

    /// Whether the store holds each of `objects` (hash, size), in order, as [`Store::locate`]
    /// would say; the packed ones asked of the index in one transaction, and nothing built for
    /// those found: a `get` of a million files asks this of every object before it fetches.
    pub fn holds_each(&self, objects: &[(Hash, u64)]) -> Result<Vec<bool>> {
        let packed = self.index.contains_each(
            objects
                .iter()
                .filter(|(_, size)| *size < LOOSE_MIN)
                .map(|(h, _)| h),
        )?;
        let mut packed = packed.into_iter();
        objects
            .iter()
            .map(|(h, size)| {
                if *size >= LOOSE_MIN {
                    Ok(self.locate(h, *size)?.is_some())
                } else {
                    Ok(packed.next().unwrap_or(false))
                }
            })
            .collect()
    }

    /// Where each object of `objects` (hash, size) is, for those the store has; the packed ones
    /// looked up in one index transaction, for callers about to read thousands.
    pub fn locate_all<'h>(
        &self,
        objects: impl IntoIterator<Item = (&'h Hash, u64)>,
    ) -> Result<HashMap<Hash, Location>> {
        let mut out = HashMap::new();
        let mut packed = Vec::new();
        for (h, size) in objects {
            if size >= LOOSE_MIN {
                let p = self.loose_path(h);
                if p.exists() {
                    out.insert(*h, Location::Loose(p));
                }
            } else {
                packed.push(h);
            }
        }
        for (h, pack, offset, len) in self.index.get_many(packed)? {
            out.insert(h, Location::Packed { pack, offset, len });
        }
        Ok(out)
    }

    /// Where an entry's content is, if the store has all of it: its object, or each of its
    /// pieces (looked up in one index transaction).
    pub fn locate_entry(&self, e: &Entry) -> Result<Option<Location>> {
        match &e.chunks {
            Some(chunks) => self.locate_pieces(chunks),
            None => self.locate(&e.hash, e.size),
        }
    }

    fn locate_pieces(&self, chunks: &Chunks) -> Result<Option<Location>> {
        let found = self.locate_all(chunks.iter().map(|c| (&c.hash, u64::from(c.len))))?;
        Ok(chunks
            .iter()
            .map(|c| found.get(&c.hash).cloned())
            .collect::<Option<Vec<_>>>()
            .map(Location::Chunked))
    }

    /// The pieces this store has seen make up the content `h` of `size` bytes (cut by an ingest
    /// here, or assembled and checked), whether or not the pieces are all here now.
    pub fn known_pieces(&self, h: &Hash, size: u64) -> Result<Option<Chunks>> {
        if size < LOOSE_MIN {
            return Ok(None);
        }
        self.index.pieces_of(h, size)
    }

    /// How the store holds the content `h` of `size` bytes: `Some(None)` whole, `Some(pieces)`
    /// in pieces (all of them here), `None` not at all.
    pub fn stored_as(&self, h: &Hash, size: u64) -> Result<Option<Option<Chunks>>> {
        if size >= LOOSE_MIN && !self.loose_path(h).exists() {
            if let Some(chunks) = self.known_pieces(h, size)? {
                return Ok(self.locate_pieces(&chunks)?.map(|_| Some(chunks)));
            }
            return Ok(None);
        }
        Ok(self.locate(h, size)?.map(|_| None))
    }

    /// Where the content of each stored entry of `entries` is, for those the store holds whole
    /// (links are left out), keyed by the entries' hashes.
    pub fn locate_entries<'e>(
        &self,
        entries: impl IntoIterator<Item = &'e Entry>,
    ) -> Result<HashMap<Hash, Location>> {
        let mut chunked = Vec::new();
        let whole = entries
            .into_iter()
            .filter(|e| e.link.is_none())
            .filter_map(|e| {
                if e.chunks.is_some() {
                    chunked.push(e);
                    None
                } else {
                    Some((&e.hash, e.size))
                }
            });
        let mut out = self.locate_all(whole)?;
        for e in chunked {
            if let Some(loc) = self.locate_entry(e)? {
                out.insert(e.hash, loc);
            }
        }
        Ok(out)
    }

    /// The first `limit` bytes of the content at `loc`, read without the rest.
    pub fn read_head(&self, loc: &Location, limit: u64) -> Result<Vec<u8>> {
        use std::io::Read;
        match loc {
            Location::Loose(p) => {
                let f = File::open(p).ctx("read", p)?;
                let mut out = Vec::new();
                f.take(limit).read_to_end(&mut out).ctx("read", p)?;
                Ok(out)
            }
            Location::Packed { pack, offset, len } => self.read(&Location::Packed {
                pack: pack.clone(),
                offset: *offset,
                len: (*len).min(limit),
            }),
            Location::Chunked(parts) => {
                let mut out = Vec::new();
                for part in parts {
                    if out.len() as u64 >= limit {
                        break;
                    }
                    self.read_into(part, &mut out)?;
                }
                out.truncate(limit.min(out.len() as u64) as usize);
                Ok(out)
            }
        }
    }

    /// Reads a whole object (meant for small ones; large ones are streamed by the caller).
    pub fn read(&self, loc: &Location) -> Result<Vec<u8>> {
        match loc {
            Location::Loose(p) => fs::read(p).ctx("read", p),
            Location::Packed { .. } => {
                let mut buf = Vec::new();
                self.read_into(loc, &mut buf)?;
                Ok(buf)
            }
            Location::Chunked(parts) => {
                let mut buf = Vec::new();
                for part in parts {
                    self.read_into(part, &mut buf)?;
                }
                Ok(buf)
            }
        }
    }

    /// Appends a packed object's bytes to `buf`.
    fn read_into(&self, loc: &Location, buf: &mut Vec<u8>) -> Result<()> {
        match loc {
            Location::Packed { pack, offset, len } => {
                let f = self.pack_file(pack)?;
                let start = buf.len();
                buf.resize(start + *len as usize, 0);
                f.read_exact_at(&mut buf[start..], *offset)
                    .ctx("read", &self.pack_path(pack))
            }
            other => {
                buf.extend_from_slice(&self.read(other)?);
                Ok(())
            }
        }
    }

    /// Creates `dest` (mode `mode`) holding the entry `e` stored in pieces at `loc`, checking on
    /// the way that the pieces make up the content the entry records: a piece list from another
    /// home that describes other bytes is refused here, naming the file, and nothing is left.
    pub fn assemble(&self, e: &Entry, loc: &Location, dest: &Path, mode: u32) -> Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(dest)
            .ctx("create", dest)?;
        let written = self.assemble_into(e, loc, &mut f, dest);
        if written.is_err() {
            drop(f);
            let _ = fs::remove_file(dest);
        }
        written
    }

    /// [`Store::assemble`] into the open, empty file `out` (named `path` in errors); on an error
    /// the caller disposes of what was written.
    pub fn assemble_into(
        &self,
        e: &Entry,
        loc: &Location,
        out: &mut File,
        path: &Path,
    ) -> Result<()> {
        let problem = match self.write_out(loc, out, path) {
            Ok(h) if h == e.hash => {
                // Checked: from now on this content is known by its hash alone.
                if let Some(chunks) = &e.chunks {
                    self.index
                        .record_pieces(&[(e.hash, e.size, chunks.clone())])?;
                }
                return Ok(());
            }
            Ok(h) => Error::Corrupt {
                what: "store".into(),
                detail: format!(
                    "the pieces of '{}' make up content {} where its version records {}",
                    e.path,
                    &h.to_hex()[..12],
                    &e.hash.to_hex()[..12]
                ),
            }
            .with_remedy(strata_core::error::Remedy::Verify),
            Err(err) => err,
        };
        Err(problem)
    }

    /// Writes the content at `loc` to `out` (the file at `path`) and returns the hash of what
    /// was written. A file stored in pieces is assembled piece by piece, never held whole.
    pub fn write_out(&self, loc: &Location, out: &mut File, path: &Path) -> Result<Hash> {
        use std::io::Write;
        let mut hasher = blake3::Hasher::new();
        let parts = match loc {
            Location::Chunked(parts) => parts.as_slice(),
            one => std::slice::from_ref(one),
        };
        // One buffer for every piece, zeroed once: growing a buffer for each piece would fill
        // a gigabyte of zeros to assemble a gigabyte.
        let mut buf = vec![0u8; chunker::MAX_PIECE];
        for part in parts {
            let bytes = match part {
                Location::Packed { pack, offset, len } if *len as usize <= buf.len() => {
                    let piece = &mut buf[..*len as usize];
                    self.pack_file(pack)?
                        .read_exact_at(piece, *offset)
                        .ctx("read", &self.pack_path(pack))?;
                    &piece[..]
                }
                other => {
                    buf = self.read(other)?;
                    &buf[..]
                }
            };
            hasher.update(bytes);
            out.write_all(bytes).ctx("write", path)?;
        }
        Ok(hasher.finalize().into())
    }

    pub(crate) fn pack_file(&self, name: &str) -> Result<Arc<File>> {
        let mut packs = self
            .packs
            .lock()
            .map_err(|_| Error::Internal("pack table poisoned".into()))?;
        if let Some(f) = packs.get(name) {
            return Ok(f.clone());
        }
        let p = self.pack_path(name);
        let f = Arc::new(File::open(&p).ctx("open pack", &p)?);
        packs.insert(name.to_string(), f.clone());
        Ok(f)
    }

    /// Keeps a manifest as it arrived: `bytes` must hash to `h` and have passed
    /// [`strata_core::manifest::check_encoded`]. Stored as received, never re-encoded, so what is
    /// read back under `h` is exactly what was checked.
    pub fn put_manifest_bytes(&self, h: &Hash, bytes: &[u8]) -> Result<()> {
        if Hash::of(bytes) != *h {
            return Err(Error::Internal(format!(
                "manifest {h} does not match its hash"
            )));
        }
        let p = self.manifest_path(h);
        if !p.exists() {
            fsutil::write_atomic_with(&self.tmp_dir(), &p, |w| w.write_all(bytes))?;
        }
        Ok(())
    }

    /// Stores an encoded manifest; returns its hash.
    pub fn put_manifest(&self, m: &Manifest) -> Result<Hash> {
        // Hashed first and written only if new, in parts both times: a manifest of a million
        // entries is never held encoded as well as decoded.
        let h = m.hash();
        let p = self.manifest_path(&h);
        if !p.exists() {
            fsutil::write_atomic_with(&self.tmp_dir(), &p, |w| {
                let mut res = Ok(());
                m.encode_in_parts(|part| {
                    if res.is_ok() {
                        res = w.write_all(part);
                    }
                });
                res
            })?;
        }
        Ok(h)
    }

    pub fn manifest(&self, h: &Hash) -> Result<Manifest> {
        Manifest::decode(&self.manifest_bytes(h)?)
    }

    /// A manifest as stored, its hash checked: for reading its entries one at a time
    /// ([`strata_core::manifest::EncodedEntries`]) without decoding it whole.
    pub fn manifest_bytes(&self, h: &Hash) -> Result<Vec<u8>> {
        let p = self.manifest_path(h);
        let bytes = fs::read(&p).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::Corrupt {
                    what: "store".into(),
                    detail: format!("manifest {h} is missing"),
                }
            } else {
                Error::Io {
                    action: "read",
                    path: p.clone(),
                    source: e,
                }
            }
        })?;
        if Hash::of(&bytes) != *h {
            return Err(Error::Corrupt {
                what: "manifest".into(),
                detail: format!("{} does not match its hash", p.display()),
            });
        }
        Ok(bytes)
    }

    /// Records packed objects written by an ingest. Call after the packs are in place and before
    /// any catalog entry refers to them.
    pub fn commit(&self, ingested: &Ingested) -> Result<()> {
        self.index.insert(&ingested.packs)?;
        // After the packs: a pieces list is only of use once its pieces are found.
        let cut: Vec<(Hash, u64, Chunks)> = ingested
            .entries
            .iter()
            .enumerate()
            .filter(|(i, _)| ingested.cut.contains(i))
            .filter_map(|(_, e)| Some((e.hash, e.size, e.chunks.clone()?)))
            .collect();
        self.index.record_pieces(&cut)
    }

    /// Held by every writer; `gc` takes it exclusively so it never removes what a writer relies on.
    pub fn writer_guard(&self) -> Result<fsutil::FileLock> {
        fsutil::FileLock::shared(&self.root.join("lock"))
    }

    pub fn gc_guard(&self) -> Result<fsutil::FileLock> {
        fsutil::FileLock::exclusive(&self.root.join("lock")).map_err(|e| match e {
            Error::Locked(_) => Error::Locked(
                "another strata process is writing to the store; run gc when it is done".into(),
            ),
            e => e,
        })
    }
}

pub use fsutil::{remove_tree, unique_name, FileLock};
