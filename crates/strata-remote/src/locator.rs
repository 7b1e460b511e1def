//! A locator says, for every object of one version, where it is in the bucket: a range of a pack
//! or a loose object. A reader needs the version's manifest and its locator, nothing else, to
//! fetch exactly the bytes it wants.
//!
//! Binary, deterministic: `STRATAL1`, the pack names (u32 count, then u16 length + UTF-8 each),
//! the records sorted by hash (u32 count, then 32-byte hash, u32 pack index or `LOOSE`, u64
//! offset, u64 length).

use std::collections::BTreeMap;

use strata_core::{Error, Hash, Result};

const MAGIC: &[u8; 8] = b"STRATAL1";
const LOOSE: u32 = u32::MAX;

/// Where one object is in the bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Packed { pack: String, offset: u64, len: u64 },
    Loose { len: u64 },
}

impl Place {
    pub fn len(&self) -> u64 {
        match self {
            Place::Packed { len, .. } | Place::Loose { len } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Locator {
    pub places: BTreeMap<Hash, Place>,
}

impl Locator {
    pub fn encode(&self) -> Vec<u8> {
        let mut packs: Vec<&str> = self
            .places
            .values()
            .filter_map(|p| match p {
                Place::Packed { pack, .. } => Some(pack.as_str()),
                Place::Loose { .. } => None,
            })
            .collect();
        packs.sort_unstable();
        packs.dedup();
        let mut out = Vec::with_capacity(16 + packs.len() * 40 + self.places.len() * 52);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(packs.len() as u32).to_le_bytes());
        for p in &packs {
            out.extend_from_slice(&(p.len() as u16).to_le_bytes());
            out.extend_from_slice(p.as_bytes());
        }
        out.extend_from_slice(&(self.places.len() as u32).to_le_bytes());
        for (h, place) in &self.places {
            out.extend_from_slice(&h.0);
            let (idx, off, len) = match place {
                Place::Packed { pack, offset, len } => {
                    let i = packs.binary_search(&pack.as_str()).unwrap_or(0) as u32;
                    (i, *offset, *len)
                }
                Place::Loose { len } => (LOOSE, 0, *len),
            };
            out.extend_from_slice(&idx.to_le_bytes());
            out.extend_from_slice(&off.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader { b: bytes, at: 0 };
        if r.take(8)? != MAGIC {
            return Err(bad("not a locator"));
        }
        let n_packs = r.u32()? as usize;
        let mut packs = Vec::with_capacity(n_packs.min(1 << 16));
        for _ in 0..n_packs {
            let len = u16::from_le_bytes(r.take(2)?.try_into().map_err(|_| bad("short"))?);
            let name = std::str::from_utf8(r.take(len as usize)?)
                .map_err(|_| bad("pack name is not UTF-8"))?;
            if name.is_empty() || name.contains('/') || name.starts_with('.') {
                return Err(bad("bad pack name"));
            }
            packs.push(name.to_string());
        }
        let n = r.u32()? as usize;
        let mut places = BTreeMap::new();
        for _ in 0..n {
            let h = Hash(r.take(32)?.try_into().map_err(|_| bad("short"))?);
            let idx = r.u32()?;
            let offset = r.u64()?;
            let len = r.u64()?;
            let place = if idx == LOOSE {
                Place::Loose { len }
            } else {
                let pack = packs
                    .get(idx as usize)
                    .ok_or_else(|| bad("pack index out of range"))?;
                Place::Packed {
                    pack: pack.clone(),
                    offset,
                    len,
                }
            };
            places.insert(h, place);
        }
        if r.at != bytes.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(Locator { places })
    }

    pub fn hash(&self) -> Hash {
        Hash::of(&self.encode())
    }
}

fn bad(detail: &str) -> Error {
    Error::Corrupt {
        what: "remote locator".into(),
        detail: detail.into(),
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.at.checked_add(n).ok_or_else(|| bad("short"))?;
        let s = self.b.get(self.at..end).ok_or_else(|| bad("short"))?;
        self.at = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().map_err(|_| bad("short"))?,
        ))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().map_err(|_| bad("short"))?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_garbage() {
        let mut l = Locator::default();
        l.places.insert(
            Hash::of(b"a"),
            Place::Packed {
                pack: "p1".into(),
                offset: 0,
                len: 1,
            },
        );
        l.places
            .insert(Hash::of(b"b"), Place::Loose { len: 5 << 20 });
        l.places.insert(
            Hash::of(b"c"),
            Place::Packed {
                pack: "p0".into(),
                offset: 7,
                len: 1,
            },
        );
        let bytes = l.encode();
        assert_eq!(Locator::decode(&bytes).unwrap(), l);
        assert!(Locator::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(Locator::decode(b"STRATAL1\xff\xff\xff\xff").is_err());
    }
}
