//! The stat cache: for each scanned folder, path → (size, mtime, ctime, inode, hash), so a
//! re-scan hashes only files whose stat changed. One binary file per folder, rewritten atomically.
//!
//! The ctime is part of the key because the mtime alone can be put back (`touch -d`, any tool
//! that preserves times) after an edit of the same size; the ctime cannot be set by a user.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use strata_core::{Hash, Result};

use crate::fsutil::write_atomic;

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

pub struct StatCache {
    path: PathBuf,
    tmp_dir: PathBuf,
    /// path → (stat, hash, seen in this scan)
    entries: HashMap<String, (Stat, Hash, bool)>,
    changed: bool,
}

impl StatCache {
    /// Loads the cache for `folder` (absolute); a missing or unreadable cache is simply empty.
    pub fn load(store_root: &Path, folder: &Path) -> Self {
        let key = Hash::of(folder.as_os_str().as_encoded_bytes()).to_hex();
        let path = store_root.join("stat").join(format!("{}.bin", &key[..32]));
        let entries = fs::read(&path)
            .ok()
            .and_then(|b| decode(&b))
            .unwrap_or_default();
        StatCache {
            path,
            tmp_dir: store_root.join("tmp"),
            entries,
            changed: false,
        }
    }

    pub fn lookup(&self, rel: &str, stat: &Stat) -> Option<Hash> {
        match self.entries.get(rel) {
            Some((s, h, _)) if s.mtime_ns != UNTRUSTED && s == stat => Some(*h),
            _ => None,
        }
    }

    /// Records a hash for the next scan; racy files are remembered but never trusted.
    pub fn record(&mut self, rel: &str, stat: Stat, hash: Hash, scan_start_ns: i64) {
        let trusted = stat.changed_ns() < scan_start_ns.saturating_sub(RACY_NS);
        let stat = if trusted {
            stat
        } else {
            Stat {
                mtime_ns: UNTRUSTED,
                ..stat
            }
        };
        // Unchanged files (the common case) cost one lookup and no allocation.
        match self.entries.get_mut(rel) {
            Some(e) => {
                if e.0 != stat || e.1 != hash {
                    e.0 = stat;
                    e.1 = hash;
                    self.changed = true;
                }
                e.2 = true;
            }
            None => {
                self.entries.insert(rel.to_string(), (stat, hash, true));
                self.changed = true;
            }
        }
    }

    /// Drops a path's entry: the file was deleted (by an in-place switch, say), so a complete
    /// save does not keep it until the next scan.
    pub fn forget(&mut self, rel: &str) {
        if self.entries.remove(rel).is_some() {
            self.changed = true;
        }
    }

    /// Writes the cache. With `complete`, only files seen in this scan are kept (the scan covered
    /// the whole folder); otherwise seen files are merged into what was there.
    pub fn save(mut self, complete: bool) -> Result<()> {
        if complete {
            let before = self.entries.len();
            self.entries.retain(|_, e| e.2);
            self.changed |= self.entries.len() != before;
        }
        if !self.changed {
            return Ok(());
        }
        write_atomic(&self.tmp_dir, &self.path, &encode(&self.entries))
    }
}

fn encode(m: &HashMap<String, (Stat, Hash, bool)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + m.len() * 80);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(m.len() as u64).to_le_bytes());
    for (k, (s, h, _)) in m {
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&s.size.to_le_bytes());
        out.extend_from_slice(&s.mtime_ns.to_le_bytes());
        out.extend_from_slice(&s.ctime_ns.to_le_bytes());
        out.extend_from_slice(&s.ino.to_le_bytes());
        out.extend_from_slice(&h.0);
    }
    out
}

fn decode(b: &[u8]) -> Option<HashMap<String, (Stat, Hash, bool)>> {
    if b.get(..8)? != MAGIC {
        return None;
    }
    let mut pos = 8;
    let mut take = |n: usize| -> Option<&[u8]> {
        let s = b.get(pos..pos + n)?;
        pos += n;
        Some(s)
    };
    let u64_of = |s: &[u8]| -> Option<u64> { Some(u64::from_le_bytes(s.try_into().ok()?)) };
    let n = u64_of(take(8)?)? as usize;
    let mut m = HashMap::with_capacity(n.min(1 << 24));
    for _ in 0..n {
        let kl = u32::from_le_bytes(take(4)?.try_into().ok()?) as usize;
        let k = std::str::from_utf8(take(kl)?).ok()?.to_string();
        let size = u64_of(take(8)?)?;
        let mtime_ns = u64_of(take(8)?)? as i64;
        let ctime_ns = u64_of(take(8)?)? as i64;
        let ino = u64_of(take(8)?)?;
        let h: [u8; 32] = take(32)?.try_into().ok()?;
        m.insert(
            k,
            (
                Stat {
                    size,
                    mtime_ns,
                    ctime_ns,
                    ino,
                },
                Hash(h),
                false,
            ),
        );
    }
    Some(m)
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
        assert!(c.entries.is_empty());
    }
}
