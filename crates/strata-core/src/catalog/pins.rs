//! Cache pins: `cache_pins`, the versions kept in the read-only cache no matter what
//! `cache evict` wants.

use super::migrations::Migration;
use super::{Catalog, Writer};
use crate::error::Result;

// The SQL inside each CREATE is kept byte for byte as first shipped: SQLite stores that text in
// `sqlite_master`, and catalogs made before and after the split must read the same.
pub(super) const MIGRATIONS: &[Migration] = &[Migration {
    number: 2,
    sql: r#"
    CREATE TABLE cache_pins (
        version_id TEXT PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE
    );
    "#,
}];

impl Catalog {
    pub fn pinned(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT version_id FROM cache_pins")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }
}

impl Writer<'_> {
    pub fn pin(&self, id: &str, on: bool) -> Result<()> {
        if on {
            self.tx.execute(
                "INSERT OR IGNORE INTO cache_pins(version_id) VALUES (?1)",
                [id],
            )?;
        } else {
            self.tx
                .execute("DELETE FROM cache_pins WHERE version_id = ?1", [id])?;
        }
        Ok(())
    }
}
