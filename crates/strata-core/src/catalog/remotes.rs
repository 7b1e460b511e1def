//! Remotes: `remotes`, the buckets versions are shared through (no credentials: they live in
//! the environment or the OS keychain), exactly one of them the default while any exists.

use rusqlite::{params, OptionalExtension};

use super::migrations::Migration;
use super::{Catalog, Writer};
use crate::error::{Error, Result};
use crate::remote::RemoteSpec;

// The SQL inside each CREATE is kept byte for byte as first shipped: SQLite stores that text in
// `sqlite_master`, and catalogs made before and after the split must read the same.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration {
        number: 3,
        sql: r#"
    CREATE TABLE remotes (
        name       TEXT PRIMARY KEY,
        url        TEXT NOT NULL,
        endpoint   TEXT,
        region     TEXT,
        allow_http INTEGER NOT NULL DEFAULT 0,
        is_default INTEGER NOT NULL DEFAULT 0
    );
    "#,
    },
    // Whether links that arrive from a remote's bucket may reach loopback, link-local and
    // private addresses (`remote add --allow-private-links`); off unless the user says so.
    Migration {
        number: 5,
        sql: r#"
    ALTER TABLE remotes ADD COLUMN allow_private_links INTEGER NOT NULL DEFAULT 0;
    "#,
    },
];

impl Catalog {
    /// Remotes, the default first.
    pub fn remotes(&self) -> Result<Vec<RemoteSpec>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, url, endpoint, region, allow_http, is_default FROM remotes
             ORDER BY is_default DESC, name",
        )?;
        let v = stmt
            .query_map([], |r| {
                Ok(RemoteSpec {
                    name: r.get(0)?,
                    url: r.get(1)?,
                    endpoint: r.get(2)?,
                    region: r.get(3)?,
                    allow_http: r.get::<_, i64>(4)? != 0,
                    is_default: r.get::<_, i64>(5)? != 0,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(v)
    }

    /// Whether links from remote `name`'s bucket may reach loopback, link-local and private
    /// addresses (false for an unknown remote).
    pub fn remote_allows_private_links(&self, name: &str) -> Result<bool> {
        let allowed: Option<i64> = self
            .conn
            .prepare_cached("SELECT allow_private_links FROM remotes WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?;
        Ok(allowed.is_some_and(|a| a != 0))
    }
}

impl Writer<'_> {
    pub fn add_remote(&self, r: &RemoteSpec) -> Result<()> {
        let taken: bool = self.tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM remotes WHERE name = ?1)",
            [&r.name],
            |row| row.get(0),
        )?;
        if taken {
            return Err(Error::Conflict(format!(
                "remote '{}' exists; remove it first to change it",
                r.name
            )));
        }
        let first: bool =
            self.tx
                .query_row("SELECT NOT EXISTS(SELECT 1 FROM remotes)", [], |row| {
                    row.get(0)
                })?;
        if r.is_default {
            self.tx.execute("UPDATE remotes SET is_default = 0", [])?;
        }
        self.tx.execute(
            "INSERT INTO remotes(name, url, endpoint, region, allow_http, is_default)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                r.name,
                r.url,
                r.endpoint,
                r.region,
                r.allow_http as i64,
                (r.is_default || first) as i64
            ],
        )?;
        Ok(())
    }

    /// Lets links from a remote's bucket reach private addresses, or stops them.
    pub fn set_remote_private_links(&self, name: &str, allow: bool) -> Result<()> {
        let n = self.tx.execute(
            "UPDATE remotes SET allow_private_links = ?2 WHERE name = ?1",
            params![name, allow as i64],
        )?;
        if n == 0 {
            return Err(Error::not_found("remote", name));
        }
        Ok(())
    }

    pub fn set_default_remote(&self, name: &str) -> Result<()> {
        self.tx
            .execute("UPDATE remotes SET is_default = (name = ?1)", [name])?;
        Ok(())
    }

    pub fn remove_remote(&self, name: &str) -> Result<()> {
        let n = self
            .tx
            .execute("DELETE FROM remotes WHERE name = ?1", [name])?;
        if n == 0 {
            return Err(Error::not_found("remote", name));
        }
        // Added again later, its log is read from the start.
        self.forget_log_position(name)?;
        self.drop_queued_events(name)?;
        // Keep exactly one default while any remote is left.
        self.tx.execute(
            "UPDATE remotes SET is_default = 1 WHERE name = (SELECT name FROM remotes ORDER BY name LIMIT 1)
               AND NOT EXISTS (SELECT 1 FROM remotes WHERE is_default = 1)",
            [],
        )?;
        Ok(())
    }
}
