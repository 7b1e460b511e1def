//! Where packed objects live: hash → (pack, offset, length), in SQLite.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use strata_core::catalog::sqlite;
use strata_core::{Chunk, Chunks, Error, Hash, Result};

use crate::pack::FinishedPack;

/// An object's place in a local pack: hash, the pack's name (shared), offset, length.
pub type PackedAt = (Hash, Arc<str>, u64, u64);

/// One pack and the objects the index places in it.
pub struct IndexedPack {
    pub id: i64,
    pub name: String,
    pub records: Vec<(Hash, u64, u64)>,
}

/// Behind a mutex so the store can be shared by worker threads; each query is short.
pub struct Index {
    conn: Mutex<Connection>,
}

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS packs (
    id   INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS objects (
    hash   BLOB PRIMARY KEY,
    pack   INTEGER NOT NULL REFERENCES packs(id),
    offset INTEGER NOT NULL,
    len    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS objects_pack ON objects(pack);
-- Files stored in pieces whose pieces this home has seen make up their hash (cut here, or
-- assembled and checked): the whole content by its hash, for a file renamed or a folder
-- compared with the store. Pieces lists read from elsewhere are never recorded unchecked.
CREATE TABLE IF NOT EXISTS pieces (
    hash BLOB PRIMARY KEY,
    size INTEGER NOT NULL,
    list BLOB NOT NULL
) WITHOUT ROWID;
"#;

impl Index {
    pub fn open(path: &Path) -> Result<Self> {
        let conn = sqlite::open(
            path,
            sqlite::Options {
                busy_timeout: Duration::from_secs(10),
                // An object references its pack. Enforced all along (the bundled SQLite turns
                // foreign keys on by default); said here so it does not hang on how it was built.
                foreign_keys: true,
            },
        )?;
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(crate::remote_index::SCHEMA)?;
        Ok(Index {
            conn: Mutex::new(conn),
        })
    }

    pub(crate) fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::Internal("store index poisoned".into()))
    }

    pub fn get(&self, h: &Hash) -> Result<Option<(String, u64, u64)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT p.name, o.offset, o.len FROM objects o JOIN packs p ON p.id = o.pack
             WHERE o.hash = ?1",
        )?;
        Ok(stmt
            .query_row([&h.0[..]], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, i64>(1)? as u64,
                    r.get::<_, i64>(2)? as u64,
                ))
            })
            .optional()?)
    }

    /// Where each of `hashes` is packed (absent ones are left out), in one read transaction.
    pub fn get_many<'h>(
        &self,
        hashes: impl IntoIterator<Item = &'h Hash>,
    ) -> Result<Vec<PackedAt>> {
        self.read_each(
            "SELECT p.name, o.offset, o.len FROM objects o JOIN packs p ON p.id = o.pack
             WHERE o.hash = ?1",
            |stmt| {
                let mut out = Vec::new();
                // Each pack's name once, shared by its objects.
                let mut names: std::collections::HashMap<String, Arc<str>> =
                    std::collections::HashMap::new();
                for h in hashes {
                    let found = stmt
                        .query_row([&h.0[..]], |r| {
                            Ok((
                                r.get::<_, String>(0)?,
                                r.get::<_, i64>(1)? as u64,
                                r.get::<_, i64>(2)? as u64,
                            ))
                        })
                        .optional()?;
                    if let Some((pack, offset, len)) = found {
                        let pack = match names.get(&pack) {
                            Some(shared) => shared.clone(),
                            None => {
                                let shared: Arc<str> = pack.as_str().into();
                                names.insert(pack, shared.clone());
                                shared
                            }
                        };
                        out.push((*h, pack, offset, len));
                    }
                }
                Ok(out)
            },
        )
    }

    /// Runs `lookups` with the statement `sql` in one read transaction: one shared lock and one
    /// mutex hold for the lot, where a lookup each would take both per hash.
    fn read_each<T>(
        &self,
        sql: &str,
        lookups: impl FnOnce(&mut rusqlite::CachedStatement<'_>) -> Result<T>,
    ) -> Result<T> {
        let conn = self.conn()?;
        let tx = rusqlite::Transaction::new_unchecked(&conn, TransactionBehavior::Deferred)?;
        let out = {
            let mut stmt = tx.prepare_cached(sql)?;
            lookups(&mut stmt)?
        };
        tx.commit()?;
        Ok(out)
    }

    /// Reads from here on see the index as it is now, in one read transaction, until
    /// [`end_reads`](Index::end_reads): a lookup each for a million objects would otherwise take
    /// and drop SQLite's shared lock (system calls) a million times. An object another writer
    /// indexes meanwhile is not seen, so it is at worst packed twice (gc drops the other copy).
    pub fn begin_reads(&self) -> Result<()> {
        Ok(self.conn()?.execute_batch("BEGIN DEFERRED")?)
    }

    pub fn end_reads(&self) -> Result<()> {
        Ok(self.conn()?.execute_batch("COMMIT")?)
    }

    /// Records checked pieces lists (see the `pieces` table).
    pub fn record_pieces(&self, files: &[(Hash, u64, Chunks)]) -> Result<()> {
        if files.is_empty() {
            return Ok(());
        }
        let conn = self.conn()?;
        let tx = rusqlite::Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
        {
            let mut add = tx.prepare_cached(
                "INSERT OR REPLACE INTO pieces(hash, size, list) VALUES (?1, ?2, ?3)",
            )?;
            for (h, size, chunks) in files {
                let mut list = Vec::with_capacity(chunks.len() * 36);
                for c in chunks.iter() {
                    list.extend_from_slice(&c.hash.0);
                    list.extend_from_slice(&c.len.to_le_bytes());
                }
                add.execute(params![&h.0[..], *size as i64, list])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The recorded pieces of the content `h` of `size` bytes.
    pub fn pieces_of(&self, h: &Hash, size: u64) -> Result<Option<Chunks>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached("SELECT size, list FROM pieces WHERE hash = ?1")?;
        let row: Option<(i64, Vec<u8>)> = stmt
            .query_row([&h.0[..]], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let Some((recorded, list)) = row else {
            return Ok(None);
        };
        let chunks: Vec<Chunk> = list
            .chunks_exact(36)
            .map(|c| {
                let mut hash = Hash([0; 32]);
                hash.0.copy_from_slice(&c[..32]);
                let len = u32::from_le_bytes([c[32], c[33], c[34], c[35]]);
                Chunk { hash, len }
            })
            .collect();
        let total: u64 = chunks.iter().map(|c| u64::from(c.len)).sum();
        if recorded as u64 != size || total != size || list.len() % 36 != 0 {
            return Ok(None);
        }
        Ok(Chunks::new(chunks).ok())
    }

    /// Forgets the pieces lists of content no version holds any more; returns how many.
    pub fn prune_pieces(&self, live: &std::collections::HashSet<Hash>) -> Result<u64> {
        let conn = self.conn()?;
        let tx = rusqlite::Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
        let dead: Vec<Vec<u8>> = {
            let mut stmt = tx.prepare("SELECT hash FROM pieces")?;
            let all: Vec<Vec<u8>> = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            all.into_iter()
                .filter(|h| {
                    <[u8; 32]>::try_from(h.as_slice()).map_or(true, |h| !live.contains(&Hash(h)))
                })
                .collect()
        };
        for h in &dead {
            tx.execute("DELETE FROM pieces WHERE hash = ?1", [h])?;
        }
        tx.commit()?;
        Ok(dead.len() as u64)
    }

    pub fn contains(&self, h: &Hash) -> Result<bool> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached("SELECT 1 FROM objects WHERE hash = ?1")?;
        Ok(stmt.exists([&h.0[..]])?)
    }

    /// [`Index::contains`] of each of `hashes`, in order, in one read transaction.
    pub fn contains_each<'h>(
        &self,
        hashes: impl IntoIterator<Item = &'h Hash>,
    ) -> Result<Vec<bool>> {
        self.read_each("SELECT 1 FROM objects WHERE hash = ?1", |stmt| {
            hashes
                .into_iter()
                .map(|h| Ok(stmt.exists([&h.0[..]])?))
                .collect()
        })
    }

    /// Records new packs. An object two writers stored at once ends up pointing at either copy;
    /// both are whole, and gc drops the other.
    pub fn insert(&self, packs: &[FinishedPack]) -> Result<()> {
        if packs.is_empty() {
            return Ok(());
        }
        self.replace_packs(&[], packs)
    }

    /// Every pack with its objects.
    pub fn packs(&self) -> Result<Vec<IndexedPack>> {
        let mut out = Vec::new();
        let conn = self.conn()?;
        let mut stmt = conn.prepare("SELECT id, name FROM packs ORDER BY id")?;
        let packs: Vec<(i64, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut objs =
            conn.prepare("SELECT hash, offset, len FROM objects WHERE pack = ?1 ORDER BY offset")?;
        for (id, name) in packs {
            let rows: Vec<(Vec<u8>, i64, i64)> = objs
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut recs = Vec::with_capacity(rows.len());
            for (h, off, len) in rows {
                let h: [u8; 32] = h.try_into().map_err(|_| Error::Corrupt {
                    what: "store index".into(),
                    detail: "bad hash".into(),
                })?;
                recs.push((Hash(h), off as u64, len as u64));
            }
            out.push(IndexedPack {
                id,
                name,
                records: recs,
            });
        }
        Ok(out)
    }

    /// Replaces packs `old` by `new` (live objects moved there) and drops dead objects, atomically.
    pub fn replace_packs(&self, old: &[i64], new: &[FinishedPack]) -> Result<()> {
        let conn = self.conn()?;
        let tx = rusqlite::Transaction::new_unchecked(&conn, TransactionBehavior::Immediate)?;
        for id in old {
            tx.execute("DELETE FROM objects WHERE pack = ?1", [id])?;
            tx.execute("DELETE FROM packs WHERE id = ?1", [id])?;
        }
        {
            let mut add_pack = tx.prepare_cached("INSERT INTO packs(name) VALUES (?1)")?;
            let mut add_obj = tx.prepare_cached(
                "INSERT OR REPLACE INTO objects(hash, pack, offset, len) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for p in new.iter().filter(|p| !p.indexed) {
                add_pack.execute([&p.name])?;
                let id = tx.last_insert_rowid();
                // In hash order, the table's order: each page of the table is then written once,
                // where packing order (random hashes) makes SQLite's small page cache spill and
                // re-read pages for every few objects (most of a first snapshot of a million
                // files went there).
                let mut records: Vec<&(Hash, u64, u64)> = p.records.iter().collect();
                records.sort_unstable_by_key(|r| r.0 .0);
                for (h, off, len) in records {
                    add_obj.execute(params![&h.0[..], id, *off as i64, *len as i64])?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }
}
