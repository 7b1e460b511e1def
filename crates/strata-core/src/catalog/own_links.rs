//! Own links: `own_links`, the links added on this machine (`add-link`). Only these may read
//! local files and reach internal addresses; every other link is treated as a bucket's,
//! whatever its version's lineage says now (a parent can be deleted or squashed away).

use super::migrations::Migration;
use super::{Catalog, Writer};
use crate::error::Result;

// The SQL inside each CREATE is kept byte for byte as first shipped: SQLite stores that text in
// `sqlite_master`, and catalogs made before and after the split must read the same.
pub(super) const MIGRATIONS: &[Migration] = &[
    // Made in step 6, before `settings`.
    Migration {
        number: 6,
        sql: r#"
    CREATE TABLE own_links (url TEXT PRIMARY KEY);
    "#,
    },
];

impl Catalog {
    /// Links added on this machine (`add-link`).
    pub fn own_links(&self) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT url FROM own_links")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }
}

impl Writer<'_> {
    /// Records links as added on this machine.
    pub fn add_own_links(&self, urls: &[String]) -> Result<()> {
        let mut stmt = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO own_links (url) VALUES (?1)")?;
        for u in urls {
            stmt.execute([u])?;
        }
        Ok(())
    }
}
