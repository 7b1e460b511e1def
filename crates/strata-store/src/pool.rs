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
use std::ffi::{CStr, CString};
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
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
    /// The 256 hash-prefix folders, opened as first needed (see [`Pool::bucket`]).
    buckets: Vec<OnceLock<File>>,
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
            buckets: (0..256).map(|_| OnceLock::new()).collect(),
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
        // In key order: each insert then lands on or beside the page the last one touched,
        // where random order dirtied pages all over the tree.
        let mut sorted: Vec<&(Hash, Stat)> = fresh.iter().collect();
        sorted.sort_unstable_by_key(|a| a.0 .0);
        let conn = self.conn()?;
        let tx = rusqlite::Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
        {
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO files(hash, ino, size, mtime, ctime) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (h, s) in sorted {
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

    /// The open hash-prefix folder of `h`'s pool file, created if missing. Each is opened once:
    /// pool files are then created, linked and stat'ed relative to it, and the pool root is
    /// never locked again (creating the folder on every extraction took the root's lock every
    /// time, from every writer).
    fn bucket(&self, h: &Hash) -> Result<&File> {
        let slot = &self.buckets[usize::from(h.0[0])];
        if let Some(dir) = slot.get() {
            return Ok(dir);
        }
        let path = self.dir.join(&h.to_hex()[..2]);
        match fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).ctx("create", &path),
        }
        let dir = File::open(&path).ctx("read", &path)?;
        // Two threads may open it at once: either handle will do.
        Ok(slot.get_or_init(|| dir))
    }

    /// The stat and mode of `h`'s pool file, if there is one.
    fn stat_pooled(&self, h: &Hash) -> Result<Option<(Stat, u32)>> {
        Ok(fsutil::stat_at(self.bucket(h)?, &c_name(&h.to_hex())?))
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
        if records.has(&e.hash) {
            if let Some((st, mode)) = self.stat_pooled(&e.hash)? {
                if records.intact_stat(&e.hash, &st, mode) {
                    return Ok(st);
                }
            }
        }
        let f = self.extract(store, e, loc)?;
        Ok(stat_of(&f.metadata().ctx("stat", &self.path_of(&e.hash))?))
    }

    /// Makes `name` in the open folder `dir` (the copy's file `target`) a link to an intact pool
    /// file of `e`, extracting it first unless the recorded one is untouched. Returns the pool
    /// file's stat after the link, to record (none when the copy could not be a link).
    ///
    /// For a content only this file of the copy has: it is linked from the open file just
    /// extracted, whose stat then comes from that descriptor, so a fresh pool file costs one
    /// create, one write, two links and no lookup of its name at all.
    #[allow(clippy::too_many_arguments)]
    pub fn link_once(
        &self,
        store: &Store,
        records: &Records,
        e: &Entry,
        loc: &Location,
        dir: &File,
        name: &CStr,
        target: &Path,
        replace: bool,
    ) -> Result<Option<Stat>> {
        let h = &e.hash;
        if records.has(h) {
            let bucket = self.bucket(h)?;
            let pooled = c_name(&h.to_hex())?;
            if let Some((was, mode)) = fsutil::stat_at(bucket, &pooled) {
                if records.intact_stat(h, &was, mode) {
                    if !self.link_pooled(h, dir, name, target, replace)? {
                        return Ok(None);
                    }
                    // The link moved the ctime: the stat to record is the one after it, of the
                    // same inode (anything else was replaced meanwhile and is not ours to vouch
                    // for).
                    return Ok(fsutil::stat_at(bucket, &pooled).and_then(|(now, _)| {
                        let same = now.ino == was.ino
                            && now.size == was.size
                            && now.mtime_ns == was.mtime_ns;
                        same.then_some(now)
                    }));
                }
            }
        }
        let f = self.extract(store, e, loc)?;
        let linked = place(dir, name, target, replace, |dir, name| {
            fsutil::link_fd(&f, dir, name)
        });
        if let Err(err) = &linked {
            if err.raw_os_error() == Some(libc::ENOENT) {
                // Another process replaced the pool file between its naming and this link,
                // and an inode that lost its last name can never be named again: the copy
                // takes the whole file now at the name, which that process records.
                self.link_pooled(h, dir, name, target, replace)?;
                return Ok(None);
            }
        }
        if !self.linked_or_copied(linked, h, target)? {
            return Ok(None);
        }
        // The stat of the inode just written and linked, not of whatever holds the name now:
        // should another process have replaced it meanwhile, the record simply does not match
        // the pool file (re-extracted when next needed) and vouches only for this inode, which
        // this process wrote whole.
        Ok(Some(stat_of(&f.metadata().ctx("stat", target)?)))
    }

    /// Makes `name` in the open folder `dir` (the copy's file `target`) a link to the file at
    /// `h`'s pool name, which the caller has checked or just extracted. False when the copy got
    /// a file of its own instead (see [`Pool::linked_or_copied`]).
    pub fn link_pooled(
        &self,
        h: &Hash,
        dir: &File,
        name: &CStr,
        target: &Path,
        replace: bool,
    ) -> Result<bool> {
        let bucket = self.bucket(h)?;
        let pooled = c_name(&h.to_hex())?;
        let link = || {
            place(dir, name, target, replace, |dir, name| {
                fsutil::link_at(bucket, &pooled, dir, name)
            })
        };
        let mut linked = link();
        // The name found the inode another process was just then replacing (its extraction
        // renamed over the name): that inode lost its last name before the link, and the kernel
        // refuses to link it (ENOENT) though the name is there. Asked again, the name gives
        // the file now at it.
        for _ in 0..RELINKS {
            match &linked {
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => linked = link(),
                _ => break,
            }
        }
        self.linked_or_copied(linked, h, target)
    }

    /// Where a link into a copy is impossible (too many links to one inode, or the copy on
    /// another filesystem), the copy gets a read-only file of its own: it can never poison the
    /// pool, and is merely re-linked the next time the copy is checked. False when it was copied.
    fn linked_or_copied(
        &self,
        linked: std::io::Result<()>,
        h: &Hash,
        target: &Path,
    ) -> Result<bool> {
        match linked {
            Ok(()) => Ok(true),
            Err(e) if matches!(e.raw_os_error(), Some(libc::EMLINK) | Some(libc::EXDEV)) => {
                copy_read_only(&self.path_of(h), target)?;
                Ok(false)
            }
            Err(e) => Err(e).ctx("link", target),
        }
    }

    /// Writes `e`'s content into a new pool file and puts it at its name, replacing whatever
    /// was there; returns it open.
    ///
    /// The file is written anonymously (`O_TMPFILE`) and linked to its name only once whole, so
    /// the name only ever shows a complete file, and a process killed while writing leaves
    /// nothing at all. The name still carries no trust by itself: the records do (a file there
    /// that is not recorded, say one whose process was killed before recording it, is replaced,
    /// never linked). Where the filesystem has no anonymous files, it is written beside its
    /// final name as `.x-…` and renamed into place (gc removes what a kill leaves of those).
    fn extract(&self, store: &Store, e: &Entry, loc: &Location) -> Result<File> {
        let h = &e.hash;
        let bucket = self.bucket(h)?;
        let name = c_name(&h.to_hex())?;
        let path = self.path_of(h);
        if ANONYMOUS.load(Ordering::Relaxed) {
            match fsutil::open_anonymous(bucket, 0o444) {
                Ok(mut f) => {
                    write_content(store, e, loc, &mut f, &path)?;
                    match fsutil::link_fd(&f, bucket, &name) {
                        Ok(()) => return Ok(f),
                        // A file is there already: an unrecorded or edited one, or another
                        // process's fresh extraction. Replaced in one step, so a process linking
                        // the name meanwhile always finds a whole file.
                        Err(err) if err.raw_os_error() == Some(libc::EEXIST) => {
                            let tmp = c_name(&fsutil::unique_name(TMP_PREFIX))?;
                            fsutil::link_fd(&f, bucket, &tmp).ctx("link", &path)?;
                            if let Err(err) = fsutil::rename_at(bucket, &tmp, &name) {
                                let _ = fsutil::unlink_at(bucket, &tmp);
                                return Err(err).ctx("rename into place", &path);
                            }
                            return Ok(f);
                        }
                        // No way to name an open file here (no /proc, an old kernel).
                        Err(err) if err.raw_os_error() == Some(libc::ENOENT) => {
                            ANONYMOUS.store(false, Ordering::Relaxed);
                        }
                        Err(err) => return Err(err).ctx("link", &path),
                    }
                }
                Err(err)
                    if matches!(
                        err.raw_os_error(),
                        Some(libc::EOPNOTSUPP) | Some(libc::EISDIR) | Some(libc::EINVAL)
                    ) =>
                {
                    ANONYMOUS.store(false, Ordering::Relaxed);
                }
                Err(err) => return Err(err).ctx("create", &path),
            }
        }
        let tmp = c_name(&fsutil::unique_name(TMP_PREFIX))?;
        let written = fsutil::create_at(bucket, &tmp, 0o444)
            .ctx("create", &path)
            .and_then(|mut f| {
                write_content(store, e, loc, &mut f, &path)?;
                fsutil::rename_at(bucket, &tmp, &name).ctx("rename into place", &path)?;
                Ok(f)
            });
        if written.is_err() {
            let _ = fsutil::unlink_at(bucket, &tmp);
        }
        written
    }

    /// After linking, the pool files' ctime moved (a link changes it): records the new stat of
    /// each file that is still the inode `ensure` returned, with the same size and mtime.
    pub fn refresh(&self, ensured: &HashMap<Hash, Stat>) -> Result<()> {
        let fresh: Vec<(Hash, Stat)> = ensured
            .iter()
            .filter_map(|(h, was)| {
                let (now, _) = self.stat_pooled(h).ok()??;
                let same =
                    now.ino == was.ino && now.size == was.size && now.mtime_ns == was.mtime_ns;
                same.then_some((*h, now))
            })
            .collect();
        self.record(&fresh)
    }
}

/// Times a link from a pool name is tried again after finding an inode that lost that name to
/// a concurrent replacement (see [`Pool::link_pooled`]); each replacement takes a whole
/// extraction, so more than one in a row is already rare.
const RELINKS: usize = 8;

/// Whether pool files are written as anonymous files: cleared for the rest of the process the
/// first time the filesystem (or kernel) turns out not to have them.
static ANONYMOUS: AtomicBool = AtomicBool::new(true);

fn c_name(name: &str) -> Result<CString> {
    CString::new(name).map_err(|_| Error::invalid(format!("file name '{name}' holds a NUL")))
}

/// Links `name` in `dir` with `link`; with `replace`, through a temporary name beside it and a
/// rename over the existing file, so the file is at every instant the old or the new one.
fn place(
    dir: &File,
    name: &CStr,
    target: &Path,
    replace: bool,
    link: impl Fn(&File, &CStr) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if !replace {
        return link(dir, name);
    }
    let base = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let tmp = CString::new(format!(".{base}.strata-heal-{}", fsutil::unique_name("")))
        .map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    link(dir, &tmp)?;
    fsutil::rename_at(dir, &tmp, name).inspect_err(|_| {
        let _ = fsutil::unlink_at(dir, &tmp);
    })
}

/// A read-only copy of `src` at `target` (an inode of its own).
pub(crate) fn copy_read_only(src: &Path, target: &Path) -> Result<()> {
    clone_or_copy(src, target)?;
    fsutil::make_read_only(target)
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
    /// Whether `h` has a record at all (a pool file without one is never trusted).
    pub fn has(&self, h: &Hash) -> bool {
        self.0.contains_key(h)
    }

    /// True when `stat` and `mode` (of a pool file or of a link to it) are the pool file of `h`
    /// exactly as Strata left it: same inode, size, mtime and ctime, and no write permission.
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

/// Writes an object's bytes into the new, empty file `f` (`path` names it in errors).
fn write_content(
    store: &Store,
    e: &Entry,
    loc: &Location,
    f: &mut File,
    path: &Path,
) -> Result<()> {
    match loc {
        Location::Chunked(_) => store.assemble_into(e, loc, f, path),
        Location::Packed { .. } => f.write_all(&store.read(loc)?).ctx("write", path),
        Location::Loose(src) => clone_or_copy_into(src, f, path),
    }
}

/// A reflink where the filesystem has them (no bytes copied, no inode shared), a copy elsewhere;
/// created `rw-r--r--` (less the umask).
pub fn clone_or_copy(src: &Path, dest: &Path) -> Result<()> {
    let to = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(dest)
        .ctx("create", dest)?;
    clone_or_copy_into(src, &to, dest)
}

/// [`clone_or_copy`] into the open, empty file `to` (named `dest` in errors).
fn clone_or_copy_into(src: &Path, to: &File, dest: &Path) -> Result<()> {
    let from = File::open(src).ctx("read", src)?;
    // SAFETY: an ioctl on two descriptors we own; FICLONE takes the source descriptor.
    let cloned = unsafe { libc::ioctl(to.as_raw_fd(), libc::FICLONE, from.as_raw_fd()) } == 0;
    if cloned {
        return Ok(());
    }
    // No reflinks here (ext4, tmpfs, another filesystem): std's copy between two files uses
    // copy_file_range, so the kernel copies and the bytes never pass through this process. The
    // copy keeps the mode it was created with (a writable copy stays writable).
    std::io::copy(&mut &from, &mut &*to).ctx("copy to", dest)?;
    Ok(())
}
