//! The outbox: `outbox`, events made offline, waiting for `push` to send them, oldest first.

use rusqlite::params;

use super::migrations::Migration;
use super::{Catalog, Writer};
use crate::error::Result;

// The SQL inside each CREATE is kept byte for byte as first shipped: SQLite stores that text in
// `sqlite_master`, and catalogs made before and after the split must read the same.
pub(super) const MIGRATIONS: &[Migration] = &[
    // Made in step 4, sharing through remotes, after `remote_logs`.
    Migration {
        number: 4,
        sql: r#"
    CREATE TABLE outbox (
        id     INTEGER PRIMARY KEY,
        remote TEXT NOT NULL,
        event  TEXT NOT NULL
    );
    "#,
    },
];

impl Catalog {
    /// Events waiting for `push`, oldest first: (id, remote, event JSON).
    pub fn outbox(&self) -> Result<Vec<(i64, String, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, remote, event FROM outbox ORDER BY id")?;
        let v = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }
}

impl Writer<'_> {
    pub fn queue_event(&self, remote: &str, event: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO outbox(remote, event) VALUES (?1, ?2)",
            params![remote, event],
        )?;
        Ok(())
    }

    pub fn unqueue_event(&self, id: i64) -> Result<()> {
        self.tx
            .execute("DELETE FROM outbox WHERE id = ?1", params![id])?;
        Ok(())
    }

    /// Drops every event still waiting for `remote` (it was removed: there is nowhere to send them).
    pub(super) fn drop_queued_events(&self, remote: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM outbox WHERE remote = ?1", [remote])?;
        Ok(())
    }
}
