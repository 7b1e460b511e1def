//! The pool of extracted objects that read-only copies are made of, and what Strata knows about
//! each pool file.
//!
//! A read-only copy is hard links into the pool (20,000 links take a fraction of the time of
//! 20,000 files), so every copy of a content shares one inode. Read-only is a permission, not a
//! guarantee: root ignores it and any owner can `chmod u+w`. An edit made through one copy would
//! then reach every copy that shares the inode. So each pool file's stat (inode, size, mtime,
//! ctime) is recorded when Strata creates or links it; a pool file whose stat moved since, or that
//! became writable, is never linked again: it is re-extracted from the store under a new inode,
//! and copies still pointing at the old one are healed the next time they are asked for.
//!
//! Store objects themselves are never linked out: large objects are cloned (a reflink, where the
//! filesystem has them) or copied into the pool first, so no copy can reach the store for writing.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, TransactionBehavior};
use strata_core::catalog::sqlite;
use strata_core::{Entry, Error, Hash, IoContext, Result};

use crate::scan::stat_of;
use crate::statcache::Stat;
use crate::{fsutil, Location, Store};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS files (
    hash  BLOB PRIMARY KEY,
    ino   INTEGER NOT NULL,
    size  INTEGER NOT NULL,
    mtime INTEGER NOT NULL,
    ctime INTEGER NOT NULL
) WITHOUT ROWID;
"#;

pub struct Pool {
    dir: PathBuf,
    conn: Mutex<Connection>,
}

impl Pool {
    /// Opens the pool at `dir` (created if missing), with its records in `dir/records.db`.
    pub fn open(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir.join("tmp")).ctx("create", dir)?;
        let conn = sqlite::open(
            &dir.join("records.db"),
            sqlite::Options {
                // Several `get`s may extract at once; each write is one short transaction.
                busy_timeout: Duration::from_secs(30),
                // One table: nothing to reference.
                foreign_keys: false,
            },
        )?;
        conn.execute_batch(SCHEMA)?;
        Ok(Pool {
            dir: dir.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::Internal("pool records poisoned".into()))
    }

    /// The pool file of an object.
    pub fn path_of(&self, h: &Hash) -> PathBuf {
        pool_path(&self.dir, h)
    }

    /// The recorded stat of every pool file.
    pub fn records(&self) -> Result<Records> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached("SELECT hash, ino, size, mtime, ctime FROM files")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                Stat {
                    ino: r.get::<_, i64>(1)? as u64,
                    size: r.get::<_, i64>(2)? as u64,
                    mtime_ns: r.get(3)?,
                    ctime_ns: r.get(4)?,
                },
            ))
        })?;
        let mut out = HashMap::with_hasher(BuildHashPrefix);
        for row in rows {
            let (h, s) = row?;
            // A malformed row is simply no record: its file gets re-extracted, never trusted.
            if let Ok(h) = <[u8; 32]>::try_from(h) {
                out.insert(Hash(h), s);
            }
        }
        Ok(Records(out))
    }

    /// Records the stat of pool files as Strata just left them.
    pub fn record(&self, fresh: &[(Hash, Stat)]) -> Result<()> {
        if fresh.is_empty() {
            return Ok(());
        }
        let conn = self.conn()?;
        let tx = rusqlite::Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
        {
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO files(hash, ino, size, mtime, ctime) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (h, s) in fresh {
                put.execute(params![
                    &h.0[..],
                    s.ino as i64,
                    s.size as i64,
                    s.mtime_ns,
                    s.ctime_ns
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Makes sure the pool holds an intact file for `h`: the recorded one if it is untouched,
    /// otherwise a fresh extraction from the store (a new inode replacing the old name). Returns
    /// the file's stat.
    pub fn ensure(
        &self,
        store: &Store,
        records: &Records,
        e: &Entry,
        loc: &Location,
    ) -> Result<Stat> {
        let h = &e.hash;
        let p = self.path_of(h);
        if let Ok(m) = fs::symlink_metadata(&p) {
            if records.intact(h, &m) {
                return Ok(stat_of(&m));
            }
        }
        // Written beside its final name and renamed within its own folder: with one shared
        // `tmp/`, every writer created and renamed out of the same folder, and a read-only get
        // of 200,000 files spent most of its time spinning on that folder's lock in the kernel.
        // A leftover of a killed process (`.x-…`) is removed by gc.
        let parent = fsutil::ensure_parent(&p)?;
        let tmp = parent.join(fsutil::unique_name(TMP_PREFIX));
        let written = extract(store, e, loc, &tmp)
            .and_then(|()| fs::rename(&tmp, &p).ctx("rename into place", &p));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(stat_of(&fs::symlink_metadata(&p).ctx("stat", &p)?))
    }

    /// After linking, the pool files' ctime moved (a link changes it): records the new stat of
    /// each file that is still the inode `ensure` returned, with the same size and mtime.
    pub fn refresh(&self, ensured: &HashMap<Hash, Stat>) -> Result<()> {
        let fresh: Vec<(Hash, Stat)> = ensured
            .iter()
            .filter_map(|(h, was)| {
                let now = stat_of(&fs::symlink_metadata(self.path_of(h)).ok()?);
                let same =
                    now.ino == was.ino && now.size == was.size && now.mtime_ns == was.mtime_ns;
                same.then_some((*h, now))
            })
            .collect();
        self.record(&fresh)
    }
}

/// The recorded stat of the pool's files.
pub struct Records(HashMap<Hash, Stat, BuildHashPrefix>);

/// Keys are BLAKE3 hashes, already uniformly random: their first 8 bytes are a perfect hash, and
/// SipHash over 32 bytes was a visible part of checking a copy of 20,000 files.
#[derive(Clone, Copy, Default)]
pub struct BuildHashPrefix;

#[derive(Default)]
pub struct HashPrefix(u64);

impl std::hash::BuildHasher for BuildHashPrefix {
    type Hasher = HashPrefix;
    fn build_hasher(&self) -> HashPrefix {
        HashPrefix(0)
    }
}

impl std::hash::Hasher for HashPrefix {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // `Hash` hashes as its 32-byte array (after a length prefix for slices): keep the
        // first 8 content bytes seen.
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 ^= u64::from(*b) << (8 * i);
        }
    }
}

impl Records {
    /// True when `meta` (of a pool file or of a link to it) is the pool file of `h` exactly as
    /// Strata left it: same inode, size, mtime and ctime, and no write permission.
    pub fn intact(&self, h: &Hash, meta: &fs::Metadata) -> bool {
        self.intact_stat(h, &stat_of(meta), meta.mode())
    }

    /// [`Records::intact`] from a raw stat and `st_mode`.
    pub fn intact_stat(&self, h: &Hash, stat: &Stat, mode: u32) -> bool {
        mode & libc::S_IFMT == libc::S_IFREG
            && mode & 0o222 == 0
            && self.0.get(h).is_some_and(|rec| rec == stat)
    }
}

/// How the pool's files being written start (see [`Pool::ensure`]).
pub const TMP_PREFIX: &str = ".x-";

/// The pool file of an extracted object.
pub fn pool_path(pool: &Path, h: &Hash) -> PathBuf {
    let hex = h.to_hex();
    pool.join(&hex[..2]).join(hex)
}

/// Writes an object's bytes into a new read-only file at `tmp`.
fn extract(store: &Store, e: &Entry, loc: &Location, tmp: &Path) -> Result<()> {
    match loc {
        Location::Chunked(_) => store.assemble(e, loc, tmp, 0o444),
        Location::Packed { .. } => {
            let data = store.read(loc)?;
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o444)
                .open(tmp)
                .ctx("create", tmp)?;
            f.write_all(&data).ctx("write", tmp)
        }
        Location::Loose(src) => {
            clone_or_copy(src, tmp)?;
            fsutil::make_read_only(tmp)
        }
    }
}

/// A reflink where the filesystem has them (no bytes copied, no inode shared), a copy elsewhere;
/// created `rw-r--r--` (less the umask).
pub fn clone_or_copy(src: &Path, dest: &Path) -> Result<()> {
    let from = File::open(src).ctx("read", src)?;
    let to = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(dest)
        .ctx("create", dest)?;
    // SAFETY: an ioctl on two descriptors we own; FICLONE takes the source descriptor.
    let cloned = unsafe { libc::ioctl(to.as_raw_fd(), libc::FICLONE, from.as_raw_fd()) } == 0;
    if cloned {
        return Ok(());
    }
    // No reflinks here (ext4, tmpfs, another filesystem): std's copy between two files uses
    // copy_file_range, so the kernel copies and the bytes never pass through this process. The
    // copy keeps the mode it was created with (a writable copy stays writable).
    std::io::copy(&mut &from, &mut &to).ctx("copy to", dest)?;
    Ok(())
}
