//! Where things live in a bucket. Everything Strata writes is under `<prefix>/strata/`:
//!
//! - `packs/<name>`: many small objects back to back; read back by range;
//! - `objects/<hash>`: one large object (uploaded in parts);
//! - `manifests/<hash>`: a version's encoded manifest;
//! - `locators/<hash>`: for one version, where each of its objects is (pack and range, or loose);
//! - `log/<seq>`: the remote catalog, one event per object, numbered, written create-if-absent.
//!
//! Every object but the log is named by its content, so writing one twice is harmless and nothing
//! is ever overwritten: the layout needs no conditional write except create-if-absent on `log/`.

use object_store::path::Path as StorePath;
use strata_core::manifest::MAX_MANIFEST_BYTES;
use strata_core::Hash;

use crate::locator::MAX_LOCATOR_BYTES;
// A log event's bound is the log's own, so every reader agrees on one number.
use crate::log::MAX_EVENT_BYTES;

/// Anything else read whole (a probe, a small object of a pack-less bucket).
pub const MAX_OTHER_BYTES: u64 = 64 << 20;

/// The most bytes an object read whole may have, by the folder of the layout it is in: a bucket
/// is written by others, and what it holds is read with a limit.
pub fn max_size_of(key: &StorePath) -> u64 {
    let mut parts = key.parts().collect::<Vec<_>>();
    parts.pop();
    match parts.last().map(|p| p.as_ref()) {
        Some("manifests") => MAX_MANIFEST_BYTES,
        Some("locators") => MAX_LOCATOR_BYTES,
        Some("log") => MAX_EVENT_BYTES,
        _ => MAX_OTHER_BYTES,
    }
}

pub struct Layout {
    root: StorePath,
}

/// Log sequence numbers are zero-padded so that listing order is numeric order.
const SEQ_WIDTH: usize = 12;

impl Layout {
    pub fn new(prefix: &StorePath) -> Self {
        Layout {
            root: prefix.clone().join("strata"),
        }
    }

    pub fn dir(&self, name: &str) -> StorePath {
        self.root.clone().join(name)
    }

    pub fn pack(&self, name: &str) -> StorePath {
        self.dir("packs").join(name)
    }

    pub fn object(&self, h: &Hash) -> StorePath {
        self.dir("objects").join(h.to_hex().as_str())
    }

    pub fn manifest(&self, h: &Hash) -> StorePath {
        self.dir("manifests").join(h.to_hex().as_str())
    }

    pub fn locator(&self, h: &Hash) -> StorePath {
        self.dir("locators").join(h.to_hex().as_str())
    }

    pub fn event(&self, seq: u64) -> StorePath {
        self.dir("log")
            .join(format!("{seq:0width$}.json", width = SEQ_WIDTH).as_str())
    }

    /// The sequence number of a log object's path, if it is one.
    pub fn seq_of(&self, p: &StorePath) -> Option<u64> {
        let name = p.filename()?;
        let digits = name.strip_suffix(".json")?;
        (digits.len() == SEQ_WIDTH)
            .then(|| digits.parse().ok())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_names_sort_numerically_and_parse_back() {
        let l = Layout::new(&StorePath::from("team/data"));
        let a = l.event(9);
        let b = l.event(10);
        assert!(a.as_ref() < b.as_ref());
        assert_eq!(a.as_ref(), "team/data/strata/log/000000000009.json");
        assert_eq!(l.seq_of(&b), Some(10));
        assert_eq!(l.seq_of(&l.pack("x")), None);
    }

    #[test]
    fn each_kind_of_object_has_its_own_size_limit() {
        let l = Layout::new(&StorePath::from("team"));
        let h = Hash::of(b"x");
        assert_eq!(max_size_of(&l.manifest(&h)), MAX_MANIFEST_BYTES);
        assert_eq!(max_size_of(&l.locator(&h)), MAX_LOCATOR_BYTES);
        assert_eq!(max_size_of(&l.event(3)), MAX_EVENT_BYTES);
        assert_eq!(max_size_of(&l.pack("p")), MAX_OTHER_BYTES);
    }
}
