//! Runs the catalog's schema migrations. Each table's module owns its steps; this module gathers
//! them into one numbered sequence, and `PRAGMA user_version` records the last step that ran.
//!
//! A step's number is global: step 1 made several tables at once, so several modules give part
//! of it. Parts of one step run in the order of [`BY_TABLE`], which puts a table after the
//! tables it references.

use rusqlite::{Connection, TransactionBehavior};

use super::{datasets, outbox, own_links, pins, remote_logs, remotes, settings, versions, watches};
use crate::error::{Error, Result};

/// One table's part of one migration step.
pub(super) struct Migration {
    /// The step it belongs to, counted from 1 across the whole catalog.
    pub(super) number: usize,
    pub(super) sql: &'static str,
}

/// Every table's steps, referenced tables first: the order parts of one step run in.
const BY_TABLE: &[&[Migration]] = &[
    datasets::MIGRATIONS,
    versions::MIGRATIONS,
    pins::MIGRATIONS,
    remotes::MIGRATIONS,
    remote_logs::MIGRATIONS,
    outbox::MIGRATIONS,
    own_links::MIGRATIONS,
    settings::MIGRATIONS,
    watches::MIGRATIONS,
];

/// Every part of every step, by step number; parts of one step keep [`BY_TABLE`]'s order.
fn ordered() -> Vec<&'static Migration> {
    let mut all: Vec<&'static Migration> = BY_TABLE.iter().flat_map(|m| m.iter()).collect();
    // A stable sort, so the table order within a step holds.
    all.sort_by_key(|m| m.number);
    all
}

/// The schema this build writes: the highest step number.
fn latest() -> usize {
    ordered().last().map_or(0, |m| m.number)
}

fn user_version(conn: &Connection) -> Result<usize> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize)
}

/// Brings the catalog to the latest schema, refusing one written by a newer Strata.
pub(super) fn migrate(conn: &mut Connection) -> Result<()> {
    let latest = latest();
    let current = user_version(conn)?;
    if current > latest {
        return Err(Error::invalid(format!(
            "the catalog was written by a newer strata (schema {current}); upgrade strata"
        )));
    }
    if current == latest {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Re-read inside the write lock: another process may have migrated meanwhile.
    let current = user_version(&tx)?;
    let pending: Vec<&Migration> = ordered()
        .into_iter()
        .filter(|m| m.number > current)
        .collect();
    for step in pending.chunk_by(|a, b| a.number == b.number) {
        for part in step {
            tx.execute_batch(part.sql)?;
        }
        tx.pragma_update(None, "user_version", step[0].number as i64)?;
    }
    tx.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn steps_are_numbered_one_to_latest_without_gaps() {
        let mut numbers: Vec<usize> = ordered().iter().map(|m| m.number).collect();
        numbers.dedup();
        assert_eq!(numbers, (1..=latest()).collect::<Vec<_>>());
        assert_eq!(latest(), HISTORICAL.len());
    }

    /// The migrations as one list, exactly as Strata ran them before each table got its own
    /// module: catalogs in the field were made by this SQL, stopped at any step.
    const HISTORICAL: &[&str] = &[
        // 1: projects, datasets, versions and their parents and tags.
        r#"
    CREATE TABLE projects (
        id   INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE
    );
    CREATE TABLE datasets (
        id         INTEGER PRIMARY KEY,
        project_id INTEGER NOT NULL REFERENCES projects(id),
        name       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        UNIQUE (project_id, name)
    );
    CREATE TABLE versions (
        id           TEXT PRIMARY KEY,
        dataset_id   INTEGER NOT NULL REFERENCES datasets(id),
        semver       TEXT NOT NULL,
        state        TEXT NOT NULL,
        upload_state TEXT NOT NULL DEFAULT 'local',
        description  TEXT NOT NULL DEFAULT '',
        metadata     TEXT NOT NULL DEFAULT '{}',
        manifest     BLOB NOT NULL,
        file_count   INTEGER NOT NULL,
        total_bytes  INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        created_by   TEXT NOT NULL,
        finalized_at INTEGER,
        UNIQUE (dataset_id, semver)
    );
    CREATE TABLE version_parents (
        version_id TEXT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
        position   INTEGER NOT NULL,
        parent_id  TEXT NOT NULL,
        PRIMARY KEY (version_id, position)
    );
    CREATE INDEX version_parents_parent ON version_parents(parent_id);
    CREATE TABLE version_tags (
        version_id TEXT NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
        tag        TEXT NOT NULL,
        PRIMARY KEY (version_id, tag)
    );
    CREATE INDEX version_tags_tag ON version_tags(tag);
    "#,
        // 2: versions kept in the read-only cache no matter what `cache evict` wants.
        r#"
    CREATE TABLE cache_pins (
        version_id TEXT PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE
    );
    "#,
        // 3: remotes (no credentials: they live in the environment or the OS keychain).
        r#"
    CREATE TABLE remotes (
        name       TEXT PRIMARY KEY,
        url        TEXT NOT NULL,
        endpoint   TEXT,
        region     TEXT,
        allow_http INTEGER NOT NULL DEFAULT 0,
        is_default INTEGER NOT NULL DEFAULT 0
    );
    "#,
        // 4: sharing through remotes. `versions.remote`: where a version is shared (or came from);
        // `datasets.remote`: a per-dataset override of the default remote; `remote_logs`: how far
        // each remote's event log has been read; `outbox`: events made offline, sent by `push`.
        r#"
    ALTER TABLE versions ADD COLUMN remote TEXT;
    ALTER TABLE datasets ADD COLUMN remote TEXT;
    CREATE TABLE remote_logs (
        remote    TEXT PRIMARY KEY,
        last_seq  INTEGER NOT NULL DEFAULT 0,
        pulled_at INTEGER
    );
    CREATE TABLE outbox (
        id     INTEGER PRIMARY KEY,
        remote TEXT NOT NULL,
        event  TEXT NOT NULL
    );
    "#,
        // 5: whether links that arrive from a remote's bucket may reach loopback, link-local and
        // private addresses (`remote add --allow-private-links`); off unless the user says so.
        r#"
    ALTER TABLE remotes ADD COLUMN allow_private_links INTEGER NOT NULL DEFAULT 0;
    "#,
        // 6: links added on this machine (`add-link`): only these may read local files and reach
        // internal addresses; every other link is treated as a bucket's, whatever its version's
        // lineage says now (a parent can be deleted or squashed away). `settings`: one-time facts,
        // such as whether links made before this migration were recorded.
        r#"
    CREATE TABLE own_links (url TEXT PRIMARY KEY);
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    "#,
        // 7: watched folders, with the last state their watcher reported.
        r#"
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
    ];

    /// Makes a catalog the way Strata did before the split, stopped after `steps` migrations,
    /// with one version in it once the tables exist.
    fn historical_catalog(path: &Path, steps: usize) {
        let mut conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        for (i, sql) in HISTORICAL.iter().enumerate().take(steps) {
            tx.execute_batch(sql).unwrap();
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .unwrap();
        }
        if steps >= 1 {
            tx.execute_batch(
                "INSERT INTO projects(id, name) VALUES (1, 'team');
                 INSERT INTO datasets(id, project_id, name, created_at) VALUES (1, 1, 'images', 5);
                 INSERT INTO versions(id, dataset_id, semver, state, manifest, file_count,
                     total_bytes, created_at, created_by)
                 VALUES ('abc123', 1, '1.0.0', 'final', zeroblob(32), 2, 10, 5, 'me');
                 INSERT INTO version_tags(version_id, tag) VALUES ('abc123', 'gold');",
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }

    /// Every table and index with the SQL that made it: what "the same schema" means.
    fn schema(path: &Path) -> Vec<(String, String, Option<String>)> {
        let conn = Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare("SELECT type, name, sql FROM sqlite_master ORDER BY name")
            .unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap();
        rows.collect::<rusqlite::Result<_>>().unwrap()
    }

    fn user_version_of(path: &Path) -> usize {
        user_version(&Connection::open(path).unwrap()).unwrap()
    }

    #[test]
    fn catalogs_at_every_old_step_upgrade_to_a_fresh_catalogs_schema() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("fresh.db");
        drop(Catalog::open(&fresh).unwrap());
        let want = schema(&fresh);
        assert_eq!(user_version_of(&fresh), latest());

        // The historical SQL run in full gives the schema the split modules give.
        let old_full = dir.path().join("old-full.db");
        historical_catalog(&old_full, HISTORICAL.len());
        assert_eq!(schema(&old_full), want);

        for steps in 0..=HISTORICAL.len() {
            let path = dir.path().join(format!("at-{steps}.db"));
            historical_catalog(&path, steps);
            assert_eq!(user_version_of(&path), steps);
            let cat = Catalog::open(&path).unwrap();
            let versions = cat.all_versions().unwrap();
            if steps >= 1 {
                assert_eq!(versions.len(), 1, "from step {steps}");
                assert_eq!(versions[0].id, "abc123");
                assert_eq!(versions[0].tags, ["gold"]);
                assert_eq!(versions[0].remote, None);
            } else {
                assert!(versions.is_empty());
            }
            drop(cat);
            assert_eq!(schema(&path), want, "upgraded from step {steps}");
            assert_eq!(user_version_of(&path), latest(), "from step {steps}");
        }
    }

    #[test]
    fn a_newer_catalog_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("newer.db");
        drop(Catalog::open(&path).unwrap());
        let newer = latest() + 1;
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", newer as i64)
            .unwrap();
        let err = Catalog::open(&path).err().unwrap();
        assert!(matches!(err, Error::Invalid(_)));
        assert_eq!(
            err.to_string(),
            format!("the catalog was written by a newer strata (schema {newer}); upgrade strata")
        );
    }

    #[test]
    fn opening_twice_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("twice.db");
        drop(Catalog::open(&path).unwrap());
        let once = schema(&path);
        drop(Catalog::open(&path).unwrap());
        assert_eq!(schema(&path), once);
    }
}
