//! Settings: `settings`, one-time facts about this catalog as key and value, such as whether
//! the links of versions made before `own_links` existed have been recorded there.

use rusqlite::{params, OptionalExtension};

use super::migrations::Migration;
use super::{Catalog, Writer};
use crate::error::Result;

// The SQL inside each CREATE is kept byte for byte as first shipped: SQLite stores that text in
// `sqlite_master`, and catalogs made before and after the split must read the same.
pub(super) const MIGRATIONS: &[Migration] = &[
    // Made in step 6, after `own_links`.
    Migration {
        number: 6,
        sql: r#"
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    "#,
    },
];

impl Catalog {
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }
}

impl Writer<'_> {
    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}
