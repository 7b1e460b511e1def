//! The local catalog: one SQLite file (WAL) holding projects, datasets and versions. Manifests
//! live in the content store; the catalog keeps their hash and the counts listings need.
//!
//! One module per table (a table with its small satellite tables): each holds its table's
//! SQL, its migration steps and the [`Catalog`] reads and [`Writer`] writes of that table.
//! `migrations` runs the steps in order; [`sqlite`] is the one place a database is opened.

mod datasets;
mod migrations;
mod outbox;
mod own_links;
mod pins;
mod remote_logs;
mod remotes;
mod settings;
pub mod sqlite;
mod versions;
mod watches;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, TransactionBehavior};

pub use watches::{NewWatch, WatchRow};

use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::names::DatasetName;
use crate::version::State;

pub struct Catalog {
    conn: Connection,
}

/// Everything needed to insert a version row.
pub struct NewVersion<'a> {
    pub id: &'a str,
    pub dataset: &'a DatasetName,
    pub semver: &'a semver::Version,
    pub parents: &'a [String],
    pub state: State,
    pub tags: &'a [String],
    pub description: &'a str,
    pub metadata: &'a serde_json::Map<String, serde_json::Value>,
    pub manifest: Hash,
    pub file_count: u64,
    pub total_bytes: u64,
    pub created_at: i64,
    pub created_by: &'a str,
}

impl Catalog {
    pub fn open(path: &Path) -> Result<Self> {
        let mut conn = sqlite::open(
            path,
            sqlite::Options {
                busy_timeout: Duration::from_secs(10),
                // The schema's REFERENCES clauses hold: no version without its dataset, and
                // deleting a version deletes its lineage rows, tags and cache pin.
                foreign_keys: true,
            },
        )?;
        migrations::migrate(&mut conn)?;
        Ok(Catalog { conn })
    }

    /// Runs `f` in one write transaction: all of it or none of it reaches the catalog.
    pub fn write<T>(&mut self, f: impl FnOnce(&Writer<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&Writer { tx: &tx })?;
        tx.commit()?;
        Ok(out)
    }
}

/// Write access inside one transaction (see [`Catalog::write`]).
pub struct Writer<'a> {
    tx: &'a rusqlite::Transaction<'a>,
}

/// Whether a catalog error is a broken constraint (a duplicate or dangling row: the data asked
/// for something impossible) rather than the database failing.
pub fn is_constraint(e: &Error) -> bool {
    matches!(e, Error::Catalog(inner)
        if inner.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation))
}
