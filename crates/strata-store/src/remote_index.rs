//! What this machine knows each remote holds, and where: hash → pack and range, or a loose
//! object. Filled from the locators of versions uploaded or pulled, and from packs as they finish
//! uploading, so an interrupted upload resumes without re-sending what arrived.

use std::collections::HashMap;

use rusqlite::params;
use strata_core::{Hash, Result};

use crate::Store;

/// Where a remote keeps an object: `pack` is `None` for a loose object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemotePlace {
    pub pack: Option<String>,
    pub offset: u64,
    pub len: u64,
}

/// Places on a remote in a list, pack names once ([`Store::remote_places_listed`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlaceList {
    pub packs: Vec<String>,
    pub places: Vec<ListedPlace>,
}

/// One object's place: `pack` indexes [`PlaceList::packs`]; `None` for a loose object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListedPlace {
    pub hash: Hash,
    pub pack: Option<u32>,
    pub offset: u64,
    pub len: u64,
}

impl PlaceList {
    /// The pack's name of a place, `None` for a loose object.
    pub fn pack_of(&self, p: &ListedPlace) -> Option<&str> {
        p.pack
            .and_then(|i| self.packs.get(i as usize))
            .map(String::as_str)
    }
}

pub(crate) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS remote_objects (
    remote TEXT NOT NULL,
    hash   BLOB NOT NULL,
    pack   TEXT,
    offset INTEGER NOT NULL,
    len    INTEGER NOT NULL,
    PRIMARY KEY (remote, hash)
) WITHOUT ROWID;
-- Whether any remote holds a hash (`get` telling freed content from a local edit).
CREATE INDEX IF NOT EXISTS remote_objects_hash ON remote_objects(hash);
"#;

impl Store {
    /// The places of those of `hashes` the remote is known to hold.
    pub fn remote_places(
        &self,
        remote: &str,
        hashes: impl IntoIterator<Item = Hash>,
    ) -> Result<HashMap<Hash, RemotePlace>> {
        let list = self.remote_places_listed(remote, hashes)?;
        Ok(list
            .places
            .iter()
            .map(|p| {
                let place = RemotePlace {
                    pack: list.pack_of(p).map(str::to_string),
                    offset: p.offset,
                    len: p.len,
                };
                (p.hash, place)
            })
            .collect())
    }

    /// [`Store::remote_places`] as a list in the order asked, every pack's name held once:
    /// what an upload of a million small objects records and encodes (as a map, with each
    /// object's pack name a string of its own, it was most of the upload's memory). Objects the
    /// remote is not known to hold are left out.
    pub fn remote_places_listed(
        &self,
        remote: &str,
        hashes: impl IntoIterator<Item = Hash>,
    ) -> Result<PlaceList> {
        let conn = self.index.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT pack, offset, len FROM remote_objects WHERE remote = ?1 AND hash = ?2",
        )?;
        let hashes = hashes.into_iter();
        let mut out = PlaceList::default();
        // Every object asked is usually there: room for all at once, not doubling up to it.
        out.places.reserve_exact(hashes.size_hint().0);
        let mut names: HashMap<String, u32> = HashMap::new();
        for h in hashes {
            let mut rows = stmt.query(params![remote, &h.0[..]])?;
            if let Some(r) = rows.next()? {
                let name = r
                    .get_ref(0)?
                    .as_str_or_null()
                    .map_err(|e| strata_core::Error::Internal(format!("remote index: {e}")))?;
                let pack = match name {
                    Some(name) => Some(match names.get(name) {
                        Some(&i) => i,
                        None => {
                            let i = out.packs.len() as u32;
                            names.insert(name.to_string(), i);
                            out.packs.push(name.to_string());
                            i
                        }
                    }),
                    None => None,
                };
                out.places.push(ListedPlace {
                    hash: h,
                    pack,
                    offset: r.get::<_, i64>(1)? as u64,
                    len: r.get::<_, i64>(2)? as u64,
                });
            }
        }
        Ok(out)
    }

    /// Whether any remote is known to hold `h` (content freed here is not lost).
    pub fn on_some_remote(&self, h: &Hash) -> Result<bool> {
        let conn = self.index.conn()?;
        let mut stmt = conn.prepare_cached("SELECT 1 FROM remote_objects WHERE hash = ?1")?;
        Ok(stmt.exists([&h.0[..]])?)
    }

    /// Records places on a remote (a later record for the same hash replaces the earlier).
    pub fn record_remote(&self, remote: &str, places: &[(Hash, RemotePlace)]) -> Result<()> {
        self.record_remote_rows(
            remote,
            places
                .iter()
                .map(|(h, p)| (h, p.pack.as_deref(), p.offset, p.len)),
        )
    }

    /// [`Store::record_remote`] of a [`PlaceList`] (a pulled locator's places).
    pub fn record_remote_list(&self, remote: &str, list: &PlaceList) -> Result<()> {
        self.record_remote_rows(
            remote,
            list.places
                .iter()
                .map(|p| (&p.hash, list.pack_of(p), p.offset, p.len)),
        )
    }

    fn record_remote_rows<'a>(
        &self,
        remote: &str,
        rows: impl ExactSizeIterator<Item = (&'a Hash, Option<&'a str>, u64, u64)>,
    ) -> Result<()> {
        if rows.len() == 0 {
            return Ok(());
        }
        let conn = self.index.conn()?;
        let tx =
            rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO remote_objects(remote, hash, pack, offset, len)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (h, pack, offset, len) in rows {
                stmt.execute(params![remote, &h.0[..], pack, offset as i64, len as i64])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Forgets a pack that turned out to be gone (a remote gc, a deleted bucket).
    pub fn forget_remote_pack(&self, remote: &str, pack: &str) -> Result<()> {
        let conn = self.index.conn()?;
        conn.execute(
            "DELETE FROM remote_objects WHERE remote = ?1 AND pack = ?2",
            params![remote, pack],
        )?;
        Ok(())
    }

    pub fn forget_remote_object(&self, remote: &str, h: &Hash) -> Result<()> {
        let conn = self.index.conn()?;
        conn.execute(
            "DELETE FROM remote_objects WHERE remote = ?1 AND hash = ?2",
            params![remote, &h.0[..]],
        )?;
        Ok(())
    }
}
