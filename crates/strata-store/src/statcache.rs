//! The stat cache: for each scanned folder, path → (size, mtime, ctime, inode, hash), so a
//! re-scan hashes only files whose stat changed. One binary file per folder, rewritten atomically.
//!
//! The ctime is part of the key because the mtime alone can be put back (`touch -d`, any tool
//! that preserves times) after an edit of the same size; the ctime cannot be set by a user.

use std::cell::Cell;
use std::fs;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use strata_core::{Hash, Result};

use crate::fsutil::write_atomic_with;

/// Version 2 added the ctime. A cache in an older format does not decode and is simply empty:
/// every file is hashed once more, and no entry can ever match on a key it never recorded.
const MAGIC: &[u8; 8] = b"STRATAS2";

/// A file changed within this window of a scan may change again within the same timestamp tick;
/// such entries are not trusted later (git calls this "racy").
const RACY_NS: i64 = 100_000_000;

/// The mtime recorded for a racy entry: no real file has it, and `lookup` refuses it anyway.
const UNTRUSTED: i64 = i64::MIN;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub size: u64,
    pub mtime_ns: i64,
    /// Moves on every write, chmod or link; users cannot set it back.
    pub ctime_ns: i64,
    pub ino: u64,
}

impl Stat {
    /// The latest of the two times: a file is "racy" until both are safely in the past.
    fn changed_ns(&self) -> i64 {
        self.mtime_ns.max(self.ctime_ns)
    }
}

/// One file's entry. Its path lives in the cache's one string of names: a million `String`s
/// would cost a heap block and 24 bytes each on top of the bytes of the paths.
#[derive(Clone, Copy, Debug)]
struct Row {
    name_at: u32,
    name_len: u16,
    flags: u16,
    stat: Stat,
    hash: Hash,
}

/// Seen in this scan: kept by a complete save.
const SEEN: u16 = 1;
/// Forgotten: dropped by the next save.
const GONE: u16 = 2;

pub struct StatCache {
    path: PathBuf,
    tmp_dir: PathBuf,
    /// Every row's path, one after the other.
    names: String,
    /// `rows[..sorted]` are sorted by path, one per path; rows for paths new to the cache are
    /// appended after them, sorted too (scans record in path order), and merged in when needed
    /// (an append out of order, a forget, the save). Every path is found by a binary search
    /// in one of the two runs.
    rows: Vec<Row>,
    sorted: usize,
    /// Where the next lookup in path order will find its row.
    next: Cell<usize>,
    changed: bool,
}

impl StatCache {
    /// Loads the cache for `folder` (absolute); a missing or unreadable cache is simply empty.
    pub fn load(store_root: &Path, folder: &Path) -> Self {
        let key = Hash::of(folder.as_os_str().as_encoded_bytes()).to_hex();
        let path = store_root.join("stat").join(format!("{}.bin", &key[..32]));
        let mut cache = StatCache {
            path,
            tmp_dir: store_root.join("tmp"),
            names: String::new(),
            rows: Vec::new(),
            sorted: 0,
            next: Cell::new(0),
            changed: false,
        };
        // Read as a stream: the file of a million paths is about 100 MB, which need not sit in
        // memory beside the table made of it.
        if let Ok(f) = fs::File::open(&cache.path) {
            if decode(&mut BufReader::with_capacity(1 << 16, f), &mut cache).is_none() {
                cache.names = String::new();
                cache.rows = Vec::new();
            }
        }
        cache.settle();
        cache.sorted = cache.rows.len();
        cache
    }

    /// Room for `files` paths in all, so recording a first scan of a million files grows the
    /// table once instead of doubling it (with both copies alive at each step).
    pub fn reserve(&mut self, files: usize) {
        self.rows.reserve(files.saturating_sub(self.rows.len()));
    }

    fn name(&self, r: &Row) -> &str {
        let at = r.name_at as usize;
        self.names.get(at..at + r.name_len as usize).unwrap_or("")
    }

    fn find(&self, rel: &str) -> Option<usize> {
        // Scans ask in path order, the rows' order: the row after the last one found is
        // nearly always the one, or that one again (a lookup followed by the record of the same
        // file); checking those first spares a binary search per file.
        let next = self.next.get();
        for i in [next, next.wrapping_sub(1)] {
            if self.rows.get(i).is_some_and(|r| self.name(r) == rel) {
                self.next.set(i + 1);
                return Some(i);
            }
        }
        let found = self.search(rel);
        if let Some(i) = found {
            self.next.set(i + 1);
        }
        found
    }

    fn search(&self, rel: &str) -> Option<usize> {
        let (old, new) = self.rows.split_at(self.sorted);
        old.binary_search_by(|r| self.name(r).cmp(rel))
            .ok()
            .or_else(|| {
                new.binary_search_by(|r| self.name(r).cmp(rel))
                    .ok()
                    .map(|i| self.sorted + i)
            })
    }

    pub fn lookup(&self, rel: &str, stat: &Stat) -> Option<Hash> {
        let r = &self.rows[self.find(rel)?];
        (r.flags & GONE == 0 && r.stat.mtime_ns != UNTRUSTED && r.stat == *stat).then_some(r.hash)
    }

    /// [`lookup`](Self::lookup) answering `hash` followed by its [`record`](Self::record), in
    /// one search: whether the cache vouches that the file with this stat holds `hash`, and if
    /// so the file is marked seen. What a scan compared with a version asks of every file.
    pub fn vouch(&mut self, rel: &str, stat: Stat, hash: Hash, scan_start_ns: i64) -> bool {
        let Some(i) = self.find(rel) else {
            return false;
        };
        let r = &self.rows[i];
        if r.flags & GONE != 0 || r.stat.mtime_ns == UNTRUSTED || r.stat != stat || r.hash != hash {
            return false;
        }
        self.update(i, stat, hash, scan_start_ns);
        true
    }

    /// Records a hash for the next scan; racy files are remembered but never trusted.
    pub fn record(&mut self, rel: &str, stat: Stat, hash: Hash, scan_start_ns: i64) {
        // Unchanged files (the common case) cost one lookup and no allocation.
        if let Some(i) = self.find(rel) {
            self.update(i, stat, hash, scan_start_ns);
            return;
        }
        let stat = trusted_as(stat, scan_start_ns);
        // A path too long for a row, or names past 4 GiB: not remembered, so read next time.
        let (Ok(name_at), Ok(name_len)) =
            (u32::try_from(self.names.len()), u16::try_from(rel.len()))
        else {
            return;
        };
        if u32::try_from(self.names.len() + rel.len()).is_err() {
            return;
        }
        if self.rows.len() > self.sorted && self.rows.last().is_some_and(|r| self.name(r) >= rel) {
            self.settle();
        }
        self.names.push_str(rel);
        self.rows.push(Row {
            name_at,
            name_len,
            flags: SEEN,
            stat,
            hash,
        });
        self.changed = true;
    }

    fn update(&mut self, i: usize, stat: Stat, hash: Hash, scan_start_ns: i64) {
        let stat = trusted_as(stat, scan_start_ns);
        let r = &mut self.rows[i];
        if r.stat != stat || r.hash != hash || r.flags & GONE != 0 {
            r.stat = stat;
            r.hash = hash;
            self.changed = true;
        }
        r.flags = SEEN;
    }

    /// Drops a path's entry: the file was deleted (by an in-place switch, say), so a complete
    /// save does not keep it until the next scan.
    pub fn forget(&mut self, rel: &str) {
        self.settle();
        if let Some(i) = self.find(rel) {
            if self.rows[i].flags & GONE == 0 {
                self.rows[i].flags = GONE;
                self.changed = true;
            }
        }
    }

    /// Sorts the appended rows in: afterwards every row is found by [`find`](Self::find). Of
    /// two rows for one path the later recorded wins.
    fn settle(&mut self) {
        if self.sorted == self.rows.len() {
            return;
        }
        let names = &self.names;
        let name = |r: &Row| {
            let at = r.name_at as usize;
            names.get(at..at + r.name_len as usize).unwrap_or("")
        };
        // Stable, and one merge for two sorted runs.
        self.rows.sort_by(|a, b| name(a).cmp(name(b)));
        self.rows.dedup_by(|later, earlier| {
            let same = name(later) == name(earlier);
            if same {
                std::mem::swap(later, earlier);
            }
            same
        });
        self.sorted = self.rows.len();
    }

    /// Writes the cache. With `complete`, only files seen in this scan are kept (the scan covered
    /// the whole folder); otherwise seen files are merged into what was there.
    pub fn save(mut self, complete: bool) -> Result<()> {
        self.settle();
        let keep = |r: &Row| r.flags & GONE == 0 && (!complete || r.flags & SEEN != 0);
        let kept = self.rows.iter().filter(|r| keep(r)).count();
        if kept != self.rows.len() {
            self.changed = true;
        }
        if !self.changed {
            return Ok(());
        }
        write_atomic_with(&self.tmp_dir, &self.path, |w| {
            w.write_all(MAGIC)?;
            w.write_all(&(kept as u64).to_le_bytes())?;
            for r in self.rows.iter().filter(|r| keep(r)) {
                let k = self.name(r);
                w.write_all(&(k.len() as u32).to_le_bytes())?;
                w.write_all(k.as_bytes())?;
                w.write_all(&r.stat.size.to_le_bytes())?;
                w.write_all(&r.stat.mtime_ns.to_le_bytes())?;
                w.write_all(&r.stat.ctime_ns.to_le_bytes())?;
                w.write_all(&r.stat.ino.to_le_bytes())?;
                w.write_all(&r.hash.0)?;
            }
            Ok(())
        })
    }
}

/// The stat to remember: a file changed within [`RACY_NS`] of the scan's start may change
/// again within the same timestamp, so it is remembered but never trusted.
fn trusted_as(stat: Stat, scan_start_ns: i64) -> Stat {
    if stat.changed_ns() < scan_start_ns.saturating_sub(RACY_NS) {
        stat
    } else {
        Stat {
            mtime_ns: UNTRUSTED,
            ..stat
        }
    }
}

/// Reads a cache file into `into`'s rows (in file order); `None` if it is not one.
fn decode(b: &mut impl Read, into: &mut StatCache) -> Option<()> {
    let mut magic = [0u8; 8];
    b.read_exact(&mut magic).ok()?;
    if &magic != MAGIC {
        return None;
    }
    let u64_of = |b: &mut dyn Read| -> Option<u64> {
        let mut x = [0u8; 8];
        b.read_exact(&mut x).ok()?;
        Some(u64::from_le_bytes(x))
    };
    let n = u64_of(b)? as usize;
    into.rows.reserve(n.min(1 << 24));
    let mut name = Vec::new();
    for _ in 0..n {
        let mut kl = [0u8; 4];
        b.read_exact(&mut kl).ok()?;
        let kl = u32::from_le_bytes(kl) as usize;
        let name_len = u16::try_from(kl).ok()?;
        name.resize(kl, 0);
        b.read_exact(&mut name).ok()?;
        let k = std::str::from_utf8(&name).ok()?;
        let name_at = u32::try_from(into.names.len()).ok()?;
        u32::try_from(into.names.len() + kl).ok()?;
        into.names.push_str(k);
        let size = u64_of(b)?;
        let mtime_ns = u64_of(b)? as i64;
        let ctime_ns = u64_of(b)? as i64;
        let ino = u64_of(b)?;
        let mut h = [0u8; 32];
        b.read_exact(&mut h).ok()?;
        into.rows.push(Row {
            name_at,
            name_len,
            flags: 0,
            stat: Stat {
                size,
                mtime_ns,
                ctime_ns,
                ino,
            },
            hash: Hash(h),
        });
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_distrusts_racy_entries() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("stat")).unwrap();
        fs::create_dir_all(dir.path().join("tmp")).unwrap();
        let folder = Path::new("/data/cats");
        let mut c = StatCache::load(dir.path(), folder);
        let old = Stat {
            size: 3,
            mtime_ns: 1_000,
            ctime_ns: 2_000,
            ino: 7,
        };
        let fresh = Stat {
            size: 4,
            mtime_ns: 10_000_000_000,
            ctime_ns: 10_000_000_000,
            ino: 8,
        };
        c.record("a", old, Hash([1; 32]), 10_000_000_000);
        c.record("b", fresh, Hash([2; 32]), 10_000_000_000);
        c.save(true).unwrap();
        let c = StatCache::load(dir.path(), folder);
        assert_eq!(c.lookup("a", &old), Some(Hash([1; 32])));
        assert_eq!(c.lookup("b", &fresh), None);
    }

    #[test]
    fn an_edit_that_puts_the_mtime_back_misses() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("stat")).unwrap();
        fs::create_dir_all(dir.path().join("tmp")).unwrap();
        let folder = Path::new("/data/cats");
        let mut c = StatCache::load(dir.path(), folder);
        let before = Stat {
            size: 3,
            mtime_ns: 1_000,
            ctime_ns: 1_000,
            ino: 7,
        };
        c.record("a", before, Hash([1; 32]), 10_000_000_000);
        c.save(true).unwrap();
        let c = StatCache::load(dir.path(), folder);
        let edited = Stat {
            ctime_ns: 5_000_000_000,
            ..before
        };
        assert_eq!(c.lookup("a", &edited), None);
    }

    #[test]
    fn paths_recorded_in_any_order_are_found_forgotten_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("stat")).unwrap();
        fs::create_dir_all(dir.path().join("tmp")).unwrap();
        let folder = Path::new("/data/cats");
        let stat = |i: u64| Stat {
            size: i,
            mtime_ns: 1_000,
            ctime_ns: 1_000,
            ino: i,
        };
        let mut c = StatCache::load(dir.path(), folder);
        for (i, p) in ["b", "d", "a/x", "c", "a"].iter().enumerate() {
            c.record(p, stat(i as u64), Hash([i as u8; 32]), 10_000_000_000);
        }
        // Found in the same run, whatever the order they came in.
        for (i, p) in ["b", "d", "a/x", "c", "a"].iter().enumerate() {
            assert_eq!(
                c.lookup(p, &stat(i as u64)),
                Some(Hash([i as u8; 32])),
                "{p}"
            );
        }
        c.forget("c");
        c.record("b", stat(9), Hash([9; 32]), 10_000_000_000);
        c.save(true).unwrap();
        let mut c = StatCache::load(dir.path(), folder);
        assert_eq!(c.lookup("c", &stat(3)), None, "a forgotten path came back");
        assert_eq!(c.lookup("b", &stat(9)), Some(Hash([9; 32])));
        assert_eq!(c.lookup("a/x", &stat(2)), Some(Hash([2; 32])));
        // A complete save keeps only what was seen.
        c.record("d", stat(1), Hash([1; 32]), 10_000_000_000);
        c.save(true).unwrap();
        let c = StatCache::load(dir.path(), folder);
        assert_eq!(c.rows.len(), 1);
        assert_eq!(c.lookup("d", &stat(1)), Some(Hash([1; 32])));
    }

    #[test]
    fn a_cache_in_the_old_format_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("stat")).unwrap();
        let folder = Path::new("/data/cats");
        let c = StatCache::load(dir.path(), folder);
        // Version 1: magic, count, then path, size, mtime, inode, hash (no ctime).
        let mut old = b"STRATAS1".to_vec();
        old.extend_from_slice(&1u64.to_le_bytes());
        old.extend_from_slice(&1u32.to_le_bytes());
        old.extend_from_slice(b"a");
        for v in [3u64, 1_000, 7] {
            old.extend_from_slice(&v.to_le_bytes());
        }
        old.extend_from_slice(&[1; 32]);
        fs::write(&c.path, old).unwrap();
        let c = StatCache::load(dir.path(), folder);
        assert!(c.rows.is_empty());
    }
}
