//! Remote logs: `remote_logs`, how far each remote's event log has been read and applied here.

use rusqlite::{params, OptionalExtension};

use super::migrations::Migration;
use super::{Catalog, Writer};
use crate::error::Result;

// The SQL inside each CREATE is kept byte for byte as first shipped: SQLite stores that text in
// `sqlite_master`, and catalogs made before and after the split must read the same.
pub(super) const MIGRATIONS: &[Migration] = &[
    // Made in step 4, sharing through remotes, with `outbox` and the `remote` columns.
    Migration {
        number: 4,
        sql: r#"
    CREATE TABLE remote_logs (
        remote    TEXT PRIMARY KEY,
        last_seq  INTEGER NOT NULL DEFAULT 0,
        pulled_at INTEGER
    );
    "#,
    },
];

impl Catalog {
    /// How far a remote's log has been applied here, and when it was last read.
    pub fn log_position(&self, remote: &str) -> Result<(u64, Option<i64>)> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT last_seq, pulled_at FROM remote_logs WHERE remote = ?1")?;
        Ok(stmt
            .query_row([remote], |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?)))
            .optional()?
            .unwrap_or((0, None)))
    }
}

impl Writer<'_> {
    /// How far a remote's log has been applied here.
    pub fn set_log_position(&self, remote: &str, seq: u64, now: i64) -> Result<()> {
        self.tx.execute(
            "INSERT INTO remote_logs(remote, last_seq, pulled_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(remote) DO UPDATE SET last_seq = max(last_seq, ?2), pulled_at = ?3",
            params![remote, seq as i64, now],
        )?;
        Ok(())
    }

    /// Forgets how far `remote`'s log was read, so it is read from the start next time.
    pub(super) fn forget_log_position(&self, remote: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM remote_logs WHERE remote = ?1", [remote])?;
        Ok(())
    }
}
