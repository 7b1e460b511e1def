//! A locator says, for every object of one version, where it is in the bucket: a range of a pack
//! or a loose object. A reader needs the version's manifest and its locator, nothing else, to
//! fetch exactly the bytes it wants.
//!
//! Binary, deterministic: `STRATAL1`, the pack names (u32 count, then u16 length + UTF-8 each),
//! the records sorted by hash (u32 count, then 32-byte hash, u32 pack index or `LOOSE`, u64
//! offset, u64 length).

use std::collections::BTreeMap;

use strata_core::manifest::MAX_FILE_BYTES;
use strata_core::{Error, Hash, Result};

const MAGIC: &[u8; 8] = b"STRATAL1";
const LOOSE: u32 = u32::MAX;
/// One record: hash, pack index, offset, length.
const RECORD_BYTES: usize = 32 + 4 + 8 + 8;

/// The largest locator read: ten million objects (52 bytes each), ten times a million-file
/// dataset, within the same budget as a manifest.
pub const MAX_LOCATOR_BYTES: u64 = 512 << 20;
/// No range of a pack reaches past this. Strata's packs are a few MiB (local ones 256 MiB); a
/// locator pointing further is lying, and the bound keeps every `offset + len` far from overflow.
pub const MAX_PACK_BYTES: u64 = 1 << 30;
/// Pack names are what Strata writes (32 hex digits); longer ones would be copied into every
/// record that names them.
pub const MAX_PACK_NAME: usize = 128;

/// Where one object is in the bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    Packed { pack: String, offset: u64, len: u64 },
    Loose { len: u64 },
}

impl Place {
    /// The byte range in its object, or an error when it is out of bounds ([`MAX_PACK_BYTES`],
    /// [`MAX_FILE_BYTES`]) or its end overflows. Every place read from a bucket goes through this.
    pub fn range(&self) -> Result<std::ops::Range<u64>> {
        match self {
            Place::Packed { offset, len, .. } => packed_range(*offset, *len),
            Place::Loose { len } if *len <= MAX_FILE_BYTES => Ok(0..*len),
            Place::Loose { len } => Err(bad(&format!(
                "a loose object of {len} bytes, more than 1 PiB"
            ))),
        }
    }

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
        encode_sorted(self.places.iter().map(|(h, p)| match p {
            Place::Packed { pack, offset, len } => (h, Some(pack.as_str()), *offset, *len),
            Place::Loose { len } => (h, None, 0, *len),
        }))
    }

    /// Decodes with every count checked against the bytes left before anything is allocated,
    /// every pack name checked, records strictly sorted by hash (no duplicates) and every range
    /// within bounds ([`Place::range`]).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut places = BTreeMap::new();
        Self::decode_each(bytes, |packs, h, pack, offset, len| {
            let place = match pack.and_then(|i| packs.get(i as usize)) {
                Some(pack) => Place::Packed {
                    pack: pack.clone(),
                    offset,
                    len,
                },
                None => Place::Loose { len },
            };
            places.insert(h, place);
        })?;
        Ok(Locator { places })
    }

    /// [`Locator::decode`] without building the locator: checks the same, returns the pack
    /// names and hands each place over in hash order as (names, hash, index of its pack in the
    /// names — `None` for a loose object —, offset, length). A pull of a million objects then
    /// holds each pack's name once, not once per object.
    pub fn decode_each(
        bytes: &[u8],
        mut place: impl FnMut(&[String], Hash, Option<u32>, u64, u64),
    ) -> Result<Vec<String>> {
        if bytes.len() as u64 > MAX_LOCATOR_BYTES {
            return Err(bad(&format!(
                "{} bytes, more than the {} MiB a locator may have",
                bytes.len(),
                MAX_LOCATOR_BYTES >> 20
            )));
        }
        let mut r = Reader { b: bytes, at: 0 };
        if r.take(8)? != MAGIC {
            return Err(bad("not a locator"));
        }
        let n_packs = r.u32()? as usize;
        // A name takes at least 3 bytes (length and one character).
        if n_packs > r.left() / 3 {
            return Err(bad("more pack names than the locator has room for"));
        }
        let mut packs = Vec::with_capacity(n_packs);
        for _ in 0..n_packs {
            let len = u16::from_le_bytes(r.take(2)?.try_into().map_err(|_| bad("short"))?);
            let name = std::str::from_utf8(r.take(len as usize)?)
                .map_err(|_| bad("pack name is not UTF-8"))?;
            if !valid_pack_name(name) {
                return Err(bad("bad pack name"));
            }
            packs.push(name.to_string());
        }
        let n = r.u32()? as usize;
        if n.checked_mul(RECORD_BYTES) != Some(r.left()) {
            return Err(bad("record count does not match the locator's size"));
        }
        let mut last: Option<Hash> = None;
        for _ in 0..n {
            let h = Hash(r.take(32)?.try_into().map_err(|_| bad("short"))?);
            if last.is_some_and(|l| l >= h) {
                return Err(bad("records not sorted by hash"));
            }
            last = Some(h);
            let idx = r.u32()?;
            let offset = r.u64()?;
            let len = r.u64()?;
            let pack = if idx == LOOSE {
                if offset != 0 {
                    return Err(bad("a loose object with an offset"));
                }
                Place::Loose { len }.range()?;
                None
            } else {
                if packs.get(idx as usize).is_none() {
                    return Err(bad("pack index out of range"));
                }
                packed_range(offset, len)?;
                Some(idx)
            };
            place(&packs, h, pack, offset, len);
        }
        if r.at != bytes.len() {
            return Err(bad("trailing bytes"));
        }
        Ok(packs)
    }

    pub fn hash(&self) -> Hash {
        Hash::of(&self.encode())
    }
}

/// `offset..offset + len` of a pack, refused past [`MAX_PACK_BYTES`] (so it never overflows).
pub fn packed_range(offset: u64, len: u64) -> Result<std::ops::Range<u64>> {
    match offset.checked_add(len) {
        Some(end) if end <= MAX_PACK_BYTES => Ok(offset..end),
        _ => Err(bad(&format!(
            "pack range at {offset} of {len} bytes reaches past {} MiB",
            MAX_PACK_BYTES >> 20
        ))),
    }
}

/// What Strata names packs with: ASCII letters, digits, `-`, `_`, `.` (not first), short.
pub fn valid_pack_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_PACK_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
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
    fn left(&self) -> usize {
        self.b.len() - self.at
    }

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

/// The encoding of a locator whose places come in hash order (`(hash, pack, offset, len)`, no
/// pack for a loose object), without building the [`Locator`]: an upload of a million objects
/// need not hold them twice, as the store lists them and as a map.
pub fn encode_sorted<'a, I>(places: I) -> Vec<u8>
where
    I: Iterator<Item = (&'a Hash, Option<&'a str>, u64, u64)> + Clone,
{
    let mut packs: Vec<&str> = places.clone().filter_map(|(_, p, _, _)| p).collect();
    packs.sort_unstable();
    packs.dedup();
    let n = places.clone().count();
    let mut out = Vec::with_capacity(16 + packs.len() * 40 + n * 52);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(packs.len() as u32).to_le_bytes());
    for p in &packs {
        out.extend_from_slice(&(p.len() as u16).to_le_bytes());
        out.extend_from_slice(p.as_bytes());
    }
    out.extend_from_slice(&(n as u32).to_le_bytes());
    for (h, pack, offset, len) in places {
        out.extend_from_slice(&h.0);
        let (idx, off) = match pack {
            Some(pack) => (packs.binary_search(&pack).unwrap_or(0) as u32, offset),
            None => (LOOSE, 0),
        };
        out.extend_from_slice(&idx.to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
    }
    out
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

    fn record(out: &mut Vec<u8>, h: u8, idx: u32, off: u64, len: u64) {
        out.extend_from_slice(&[h; 32]);
        out.extend_from_slice(&idx.to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
    }

    fn with_records(records: &[(u8, u32, u64, u64)]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(b"p1");
        b.extend_from_slice(&(records.len() as u32).to_le_bytes());
        for &(h, idx, off, len) in records {
            record(&mut b, h, idx, off, len);
        }
        b
    }

    #[test]
    fn ranges_that_overflow_or_run_past_a_pack_are_refused() {
        for (off, len) in [
            (u64::MAX, 1),
            (u64::MAX / 2, u64::MAX / 2 + 2),
            (1 << 30, 1),
        ] {
            let err = Locator::decode(&with_records(&[(1, 0, off, len)]))
                .unwrap_err()
                .to_string();
            assert!(err.contains("reaches past"), "{off}+{len}: {err}");
        }
        assert!(Locator::decode(&with_records(&[(1, 0, (1 << 30) - 1, 1)])).is_ok());
        let err = Locator::decode(&with_records(&[(1, LOOSE, 0, u64::MAX)]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("more than 1 PiB"), "{err}");
        assert!(Locator::decode(&with_records(&[(1, LOOSE, 5, 1)])).is_err());
        // Duplicates and disorder: each hash once, sorted.
        assert!(Locator::decode(&with_records(&[(2, 0, 0, 1), (1, 0, 0, 1)])).is_err());
        assert!(Locator::decode(&with_records(&[(1, 0, 0, 1), (1, 0, 0, 1)])).is_err());
    }

    #[test]
    fn counts_the_bytes_cannot_hold_are_refused_before_allocating() {
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(Locator::decode(&b)
            .unwrap_err()
            .to_string()
            .contains("room"));
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(Locator::decode(&b).is_err());
        let long = "a".repeat(MAX_PACK_NAME + 1);
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&(long.len() as u16).to_le_bytes());
        b.extend_from_slice(long.as_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        assert!(Locator::decode(&b).is_err());
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        fn locator() -> impl Strategy<Value = Locator> {
            proptest::collection::btree_map(
                any::<[u8; 32]>().prop_map(Hash),
                prop_oneof![
                    (0u64..(1 << 29), 0u64..(1 << 20), "[a-f0-9]{1,32}")
                        .prop_map(|(offset, len, pack)| Place::Packed { pack, offset, len }),
                    (0u64..(1 << 40)).prop_map(|len| Place::Loose { len }),
                ],
                0..30,
            )
            .prop_map(|places| Locator { places })
        }

        proptest! {
            #[test]
            fn valid_locators_round_trip(l in locator()) {
                prop_assert_eq!(Locator::decode(&l.encode()).unwrap(), l);
            }

            #[test]
            fn random_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                let _ = Locator::decode(&bytes);
                bytes.splice(0..0, MAGIC.iter().copied());
                let _ = Locator::decode(&bytes);
            }

            #[test]
            fn mutated_locators_never_panic_and_stay_in_bounds(
                l in locator(),
                edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
                cut in any::<prop::sample::Index>(),
            ) {
                let mut bytes = l.encode();
                for (at, b) in edits {
                    let i = at.index(bytes.len());
                    bytes[i] = b;
                }
                for bytes in [&bytes[..], &bytes[..cut.index(bytes.len())]] {
                    if let Ok(l) = Locator::decode(bytes) {
                        for p in l.places.values() {
                            let r = p.range();
                            prop_assert!(r.is_ok());
                            if let Place::Packed { pack, .. } = p {
                                prop_assert!(valid_pack_name(pack));
                            }
                        }
                    }
                }
            }
        }
    }
}
