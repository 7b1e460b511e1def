//! Watched folders: `watches`, one row a folder that becomes the next version of a dataset each
//! time writing in it goes quiet. The row also holds the watch's last known state, written by the
//! process running it, so `watch list` and the app can show it from another process.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use super::migrations::Migration;
use super::{Catalog, Writer};
use crate::error::{Error, Result};

pub(super) const MIGRATIONS: &[Migration] = &[Migration {
    number: 7,
    sql: r#"
    CREATE TABLE watches (
        id           INTEGER PRIMARY KEY,
        folder       TEXT NOT NULL UNIQUE,
        dataset      TEXT NOT NULL,
        quiet_ms     INTEGER NOT NULL,
        max_wait_ms  INTEGER NOT NULL,
        poll_ms      INTEGER,
        upload       INTEGER NOT NULL DEFAULT 0,
        paused       INTEGER NOT NULL DEFAULT 0,
        created_at   INTEGER NOT NULL,
        state        TEXT NOT NULL DEFAULT 'idle',
        reason       TEXT,
        last_version TEXT,
        pending      INTEGER NOT NULL DEFAULT 0,
        updated_at   INTEGER
    );
    "#,
}];

/// A watch as recorded.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WatchRow {
    pub id: i64,
    /// Absolute path of the watched folder.
    pub folder: String,
    /// `project/name` of the dataset it versions.
    pub dataset: String,
    pub quiet_ms: u64,
    pub max_wait_ms: u64,
    /// Poll every this many ms instead of waiting for filesystem events (network mounts).
    pub poll_ms: Option<u64>,
    pub upload: bool,
    pub paused: bool,
    pub created_at: i64,
    /// What the running watcher last said: idle, pending, versioning, uploading, waiting, error.
    pub state: String,
    pub reason: Option<String>,
    /// `project/name@semver` of the last version it made.
    pub last_version: Option<String>,
    /// Changes seen since the last version (0 when idle).
    pub pending: u64,
    pub updated_at: Option<i64>,
}

/// A new watch.
pub struct NewWatch<'a> {
    pub folder: &'a str,
    pub dataset: &'a str,
    pub quiet_ms: u64,
    pub max_wait_ms: u64,
    pub poll_ms: Option<u64>,
    pub upload: bool,
    pub created_at: i64,
}

const COLUMNS: &str = "id, folder, dataset, quiet_ms, max_wait_ms, poll_ms, upload, paused, \
                       created_at, state, reason, last_version, pending, updated_at";

fn row(r: &Row<'_>) -> rusqlite::Result<WatchRow> {
    Ok(WatchRow {
        id: r.get(0)?,
        folder: r.get(1)?,
        dataset: r.get(2)?,
        quiet_ms: r.get::<_, i64>(3)?.max(0) as u64,
        max_wait_ms: r.get::<_, i64>(4)?.max(0) as u64,
        poll_ms: r.get::<_, Option<i64>>(5)?.map(|p| p.max(0) as u64),
        upload: r.get(6)?,
        paused: r.get(7)?,
        created_at: r.get(8)?,
        state: r.get(9)?,
        reason: r.get(10)?,
        last_version: r.get(11)?,
        pending: r.get::<_, i64>(12)?.max(0) as u64,
        updated_at: r.get(13)?,
    })
}

fn ms(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Catalog {
    pub fn watches(&self) -> Result<Vec<WatchRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM watches ORDER BY id"))?;
        let rows = stmt.query_map([], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A watch by id or by its folder (absolute).
    pub fn watch(&self, id_or_folder: &str) -> Result<WatchRow> {
        let found = match id_or_folder.parse::<i64>() {
            Ok(id) => self
                .conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM watches WHERE id = ?1"))?
                .query_row([id], row)
                .optional()?,
            Err(_) => self
                .conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM watches WHERE folder = ?1"))?
                .query_row([id_or_folder], row)
                .optional()?,
        };
        found.ok_or_else(|| Error::not_found("watch", id_or_folder))
    }
}

impl Writer<'_> {
    pub fn add_watch(&self, w: &NewWatch<'_>) -> Result<i64> {
        self.tx
            .execute(
                "INSERT INTO watches (folder, dataset, quiet_ms, max_wait_ms, poll_ms, upload, \
                 created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    w.folder,
                    w.dataset,
                    ms(w.quiet_ms),
                    ms(w.max_wait_ms),
                    w.poll_ms.map(ms),
                    w.upload,
                    w.created_at
                ],
            )
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::ConstraintViolation) => {
                    Error::Conflict(format!("'{}' is watched already", w.folder))
                }
                _ => e.into(),
            })?;
        Ok(self.tx.last_insert_rowid())
    }

    pub fn set_watch_paused(&self, id: i64, paused: bool) -> Result<()> {
        self.tx.execute(
            "UPDATE watches SET paused = ?2 WHERE id = ?1",
            params![id, paused],
        )?;
        Ok(())
    }

    /// What the running watcher says about itself.
    pub fn set_watch_state(
        &self,
        id: i64,
        state: &str,
        reason: Option<&str>,
        pending: u64,
        now: i64,
    ) -> Result<()> {
        self.tx.execute(
            "UPDATE watches SET state = ?2, reason = ?3, pending = ?4, updated_at = ?5 \
             WHERE id = ?1",
            params![id, state, reason, ms(pending), now],
        )?;
        Ok(())
    }

    pub fn set_watch_last_version(&self, id: i64, label: &str) -> Result<()> {
        self.tx.execute(
            "UPDATE watches SET last_version = ?2 WHERE id = ?1",
            params![id, label],
        )?;
        Ok(())
    }

    pub fn remove_watch(&self, id: i64) -> Result<()> {
        self.tx
            .execute("DELETE FROM watches WHERE id = ?1", params![id])?;
        Ok(())
    }
}
