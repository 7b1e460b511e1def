//! A version's full list of entries, its binary encoding, merging of parents, diffs and sampling.
//!
//! The encoding is compact (paths front-coded, sizes as varints) and deterministic, so equal
//! content gives an equal manifest hash: a snapshot of an unchanged folder is detected by comparing
//! two hashes.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::hash::Hash;

const MAGIC: &[u8; 8] = b"STRATAM1";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Dataset path, `/`-separated, relative, UTF-8.
    pub path: String,
    pub size: u64,
    pub hash: Hash,
    /// For external files: where they live (the content is not in the store).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    entries: Vec<Entry>,
}

impl Manifest {
    /// Builds from entries in any order; a later entry for the same path wins.
    pub fn from_entries(mut entries: Vec<Entry>) -> Self {
        // A stable sort keeps equal paths in input order; keeping the last of each run makes the
        // later entry win without cloning any path.
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
        for e in entries {
            match out.last_mut() {
                Some(last) if last.path == e.path => *last = e,
                _ => out.push(e),
            }
        }
        Manifest { entries: out }
    }

    /// Builds from entries already sorted by path with no duplicates.
    pub fn from_sorted(entries: Vec<Entry>) -> Result<Self> {
        if entries.windows(2).any(|w| w[0].path >= w[1].path) {
            return Err(Error::Internal("manifest entries not sorted".into()));
        }
        Ok(Manifest { entries })
    }

    /// Refuses entries whose path could leave a target folder (`..`, absolute, empty parts).
    /// Manifests from elsewhere (a remote) are checked with this before they are kept.
    pub fn check_paths(&self) -> Result<()> {
        for e in &self.entries {
            let safe = !e.path.is_empty()
                && !e.path.starts_with('/')
                && e.path
                    .split('/')
                    .all(|part| !part.is_empty() && part != "." && part != "..");
            if !safe {
                return Err(Error::Corrupt {
                    what: "manifest".into(),
                    detail: format!("unsafe path '{}' refused", e.path),
                });
            }
        }
        Ok(())
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
        self.entries.iter().map(|e| e.size).sum()
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
        let mut out = Vec::with_capacity(16 + self.entries.len() * 56);
        out.extend_from_slice(MAGIC);
        put_varint(&mut out, self.entries.len() as u64);
        let mut prev: &[u8] = &[];
        for e in &self.entries {
            let p = e.path.as_bytes();
            let shared = prev.iter().zip(p).take_while(|(a, b)| a == b).count();
            put_varint(&mut out, shared as u64);
            put_varint(&mut out, (p.len() - shared) as u64);
            out.extend_from_slice(&p[shared..]);
            put_varint(&mut out, e.size);
            out.extend_from_slice(&e.hash.0);
            match &e.link {
                None => out.push(0),
                Some(url) => {
                    out.push(1);
                    put_varint(&mut out, url.len() as u64);
                    out.extend_from_slice(url.as_bytes());
                }
            }
            prev = p;
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let corrupt = |d: &str| Error::Corrupt {
            what: "manifest".into(),
            detail: d.into(),
        };
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(corrupt("bad header"));
        }
        let mut r = Reader {
            buf: bytes,
            pos: MAGIC.len(),
        };
        let n = r.varint().ok_or_else(|| corrupt("truncated"))? as usize;
        let mut entries = Vec::with_capacity(n.min(bytes.len() / 34));
        let mut prev: Vec<u8> = Vec::new();
        for _ in 0..n {
            let shared = r.varint().ok_or_else(|| corrupt("truncated"))? as usize;
            let len = r.varint().ok_or_else(|| corrupt("truncated"))? as usize;
            if shared > prev.len() {
                return Err(corrupt("bad path prefix"));
            }
            let suffix = r.take(len).ok_or_else(|| corrupt("truncated"))?;
            let mut p = prev[..shared].to_vec();
            p.extend_from_slice(suffix);
            let size = r.varint().ok_or_else(|| corrupt("truncated"))?;
            let hash = r.take(32).ok_or_else(|| corrupt("truncated"))?;
            let flag = r.take(1).ok_or_else(|| corrupt("truncated"))?[0];
            let link = match flag {
                0 => None,
                1 => {
                    let l = r.varint().ok_or_else(|| corrupt("truncated"))? as usize;
                    let u = r.take(l).ok_or_else(|| corrupt("truncated"))?;
                    Some(String::from_utf8(u.to_vec()).map_err(|_| corrupt("bad link"))?)
                }
                _ => return Err(corrupt("bad entry flag")),
            };
            let path = String::from_utf8(p.clone()).map_err(|_| corrupt("bad path"))?;
            let mut h = [0u8; 32];
            h.copy_from_slice(hash);
            entries.push(Entry {
                path,
                size,
                hash: Hash(h),
                link,
            });
            prev = p;
        }
        if r.pos != bytes.len() {
            return Err(corrupt("trailing bytes"));
        }
        Manifest::from_sorted(entries).map_err(|_| corrupt("entries out of order"))
    }

    /// The content hash of the encoding: equal content, equal hash.
    pub fn hash(&self) -> Hash {
        Hash::of(&self.encode())
    }
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

impl Diff {
    pub fn between(old: &Manifest, new: &Manifest) -> Diff {
        let mut d = Diff::default();
        let (a, b) = (&old.entries, &new.entries);
        let (mut i, mut j) = (0, 0);
        while i < a.len() || j < b.len() {
            match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) if x.path == y.path => {
                    if x.hash != y.hash || x.size != y.size || x.link != y.link {
                        d.modified.push((x.clone(), y.clone()));
                    }
                    i += 1;
                    j += 1;
                }
                (Some(x), Some(y)) if x.path < y.path => {
                    d.removed.push(x.clone());
                    i += 1;
                }
                (Some(_), Some(y)) => {
                    d.added.push(y.clone());
                    j += 1;
                }
                (Some(x), None) => {
                    d.removed.push(x.clone());
                    i += 1;
                }
                (None, Some(y)) => {
                    d.added.push(y.clone());
                    j += 1;
                }
                (None, None) => break,
            }
        }
        d
    }

    pub fn totals(&self, new_len: usize) -> DiffTotals {
        let changed = self.added.len() + self.modified.len();
        DiffTotals {
            added: self.added.len() as u64,
            removed: self.removed.len() as u64,
            modified: self.modified.len() as u64,
            unchanged: new_len.saturating_sub(changed) as u64,
            added_bytes: self.added.iter().map(|e| e.size).sum(),
            removed_bytes: self.removed.iter().map(|e| e.size).sum(),
            modified_bytes: self.modified.iter().map(|(_, n)| n.size).sum(),
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
            "--fraction must be in (0, 1], got {fraction}"
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
        Entry {
            path: path.into(),
            size: b as u64,
            hash: Hash([b; 32]),
            link: None,
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
}
