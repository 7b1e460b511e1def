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

use strata_core::{Error, Hash, IoContext, Manifest, Result};

pub use imports::SmallImport;
pub use ingest::{Ingested, Source};
pub use remote_index::RemotePlace;
pub use scan::{scan_folder, Ignores, Scan};
pub use statcache::StatCache;

/// Objects at least this large are stored as loose files; smaller ones go into packs.
pub const LOOSE_MIN: u64 = 1 << 20;

/// Where one object's bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    Packed { pack: String, offset: u64, len: u64 },
    Loose(PathBuf),
}

pub struct Store {
    root: PathBuf,
    index: index::Index,
    packs: Mutex<HashMap<String, Arc<File>>>,
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
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
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

    /// Where an object is, if the store has it.
    pub fn locate(&self, h: &Hash, size: u64) -> Result<Option<Location>> {
        if size >= LOOSE_MIN {
            let p = self.loose_path(h);
            return Ok(p.exists().then_some(Location::Loose(p)));
        }
        Ok(self
            .index
            .get(h)?
            .map(|(pack, offset, len)| Location::Packed { pack, offset, len }))
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

    /// Reads a whole object (meant for small ones; large ones are streamed by the caller).
    pub fn read(&self, loc: &Location) -> Result<Vec<u8>> {
        match loc {
            Location::Loose(p) => fs::read(p).ctx("read", p),
            Location::Packed { pack, offset, len } => {
                let f = self.pack_file(pack)?;
                let mut buf = vec![0u8; *len as usize];
                f.read_exact_at(&mut buf, *offset)
                    .ctx("read", &self.pack_path(pack))?;
                Ok(buf)
            }
        }
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
        self.index.insert(&ingested.packs)
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
