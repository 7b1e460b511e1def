//! The local catalog: one SQLite file (WAL) holding projects, datasets and versions. Manifests
//! live in the content store; the catalog keeps their hash and the counts listings need.

mod schema;

use std::path::Path;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::names::{DatasetName, Reference};
use crate::remote::RemoteSpec;
use crate::version::{DatasetSummary, State, UploadState, Version};

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

const VERSION_COLUMNS: &str = "v.id, p.name, d.name, v.semver, v.state, v.upload_state, \
     v.description, v.metadata, v.manifest, v.file_count, v.total_bytes, v.created_at, \
     v.created_by, v.finalized_at, v.remote";
const VERSION_FROM: &str =
    "versions v JOIN datasets d ON d.id = v.dataset_id JOIN projects p ON p.id = d.project_id";

impl Catalog {
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // NORMAL is durable across a killed process in WAL mode; FULL only adds power-loss safety
        // for the last transaction, at an fsync per commit.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let mut cat = Catalog { conn };
        cat.migrate()?;
        Ok(cat)
    }

    fn migrate(&mut self) -> Result<()> {
        let current: usize = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))?
            as usize;
        if current > schema::MIGRATIONS.len() {
            return Err(Error::invalid(format!(
                "the catalog was written by a newer strata (schema {current}); upgrade strata"
            )));
        }
        if current == schema::MIGRATIONS.len() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Re-read inside the write lock: another process may have migrated meanwhile.
        let current: usize =
            tx.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))? as usize;
        for (i, sql) in schema::MIGRATIONS.iter().enumerate().skip(current) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
        Ok(())
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

    // ---- reads ----

    pub fn dataset_id(&self, d: &DatasetName) -> Result<Option<i64>> {
        dataset_id(&self.conn, d)
    }

    pub fn require_dataset(&self, d: &DatasetName) -> Result<i64> {
        self.dataset_id(d)?
            .ok_or_else(|| Error::not_found("dataset", d.to_string()))
    }

    /// Every version of a dataset, oldest semantic version first.
    pub fn versions_of(&self, d: &DatasetName) -> Result<Vec<Version>> {
        let Some(id) = self.dataset_id(d)? else {
            return Ok(Vec::new());
        };
        let mut vs = self.query_versions("WHERE v.dataset_id = ?1", params![id])?;
        vs.sort_by_key(|a| a.semver());
        Ok(vs)
    }

    pub fn version(&self, id: &str) -> Result<Version> {
        self.query_versions("WHERE v.id = ?1", params![id])?
            .pop()
            .ok_or_else(|| Error::not_found("version", id))
    }

    pub fn all_versions(&self) -> Result<Vec<Version>> {
        self.query_versions("", params![])
    }

    /// Versions that name `id` as a parent.
    pub fn children_of(&self, id: &str) -> Result<Vec<Version>> {
        self.query_versions(
            "WHERE v.id IN (SELECT version_id FROM version_parents WHERE parent_id = ?1)",
            params![id],
        )
    }

    pub fn resolve(&self, r: &Reference) -> Result<Version> {
        match r {
            Reference::Id(prefix) => {
                let like = format!("{prefix}%");
                let mut stmt = self
                    .conn
                    .prepare_cached("SELECT id FROM versions WHERE id LIKE ?1 LIMIT 3")?;
                let ids: Vec<String> = stmt
                    .query_map([&like], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                match ids.len() {
                    0 => Err(Error::not_found("version", prefix.clone())),
                    1 => self.version(&ids[0]),
                    _ => Err(Error::Ambiguous {
                        reference: prefix.clone(),
                        candidates: ids.join(", "),
                    }),
                }
            }
            Reference::Latest(d) => {
                self.require_dataset(d)?;
                self.versions_of(d)?
                    .pop()
                    .ok_or_else(|| Error::not_found("version of", d.to_string()))
            }
            Reference::Exact(d, v) => {
                let id = self.require_dataset(d)?;
                self.query_versions(
                    "WHERE v.dataset_id = ?1 AND v.semver = ?2",
                    params![id, v.to_string()],
                )?
                .pop()
                .ok_or_else(|| Error::not_found("version", format!("{d}@{v}")))
            }
        }
    }

    /// Datasets whose project is `project` or below it (all when `None`), or exactly one dataset.
    pub fn datasets(&self, filter: Option<&str>) -> Result<Vec<DatasetSummary>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.name, d.name, d.id, (SELECT count(*) FROM versions v WHERE v.dataset_id = d.id)
             FROM datasets d JOIN projects p ON p.id = d.project_id ORDER BY p.name, d.name",
        )?;
        let rows: Vec<(String, String, i64, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::new();
        for (project, name, _id, count) in rows {
            if let Some(f) = filter {
                let full = format!("{project}/{name}");
                let under = project == f || project.starts_with(&format!("{f}/"));
                if !under && full != f {
                    continue;
                }
            }
            let d = DatasetName {
                project: project.clone(),
                name: name.clone(),
            };
            let latest = self.versions_of(&d)?.pop();
            out.push(DatasetSummary {
                project,
                name,
                version_count: count as u64,
                latest,
            });
        }
        Ok(out)
    }

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
    /// Links added on this machine (`add-link`), see migration 6.
    pub fn own_links(&self) -> Result<std::collections::HashSet<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT url FROM own_links")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    pub fn remote_allows_private_links(&self, name: &str) -> Result<bool> {
        let allowed: Option<i64> = self
            .conn
            .prepare_cached("SELECT allow_private_links FROM remotes WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?;
        Ok(allowed.is_some_and(|a| a != 0))
    }

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

    /// The remote a dataset is shared on, when it overrides the default.
    pub fn dataset_remote(&self, d: &DatasetName) -> Result<Option<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.remote FROM datasets d JOIN projects p ON p.id = d.project_id
             WHERE p.name = ?1 AND d.name = ?2",
        )?;
        Ok(stmt
            .query_row(params![d.project, d.name], |r| {
                r.get::<_, Option<String>>(0)
            })
            .optional()?
            .flatten())
    }

    pub fn pinned(&self) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT version_id FROM cache_pins")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }

    fn query_versions(
        &self,
        filter: &str,
        params: &[&dyn rusqlite::ToSql],
    ) -> Result<Vec<Version>> {
        query_versions(&self.conn, filter, params)
    }
}

/// Write access inside one transaction (see [`Catalog::write`]).
pub struct Writer<'a> {
    tx: &'a rusqlite::Transaction<'a>,
}

impl Writer<'_> {
    pub fn dataset_id(&self, d: &DatasetName) -> Result<Option<i64>> {
        dataset_id(self.tx, d)
    }

    pub fn ensure_dataset(&self, d: &DatasetName, now: i64) -> Result<i64> {
        if let Some(id) = self.dataset_id(d)? {
            return Ok(id);
        }
        self.tx.execute(
            "INSERT OR IGNORE INTO projects(name) VALUES (?1)",
            [&d.project],
        )?;
        let pid: i64 = self.tx.query_row(
            "SELECT id FROM projects WHERE name = ?1",
            [&d.project],
            |r| r.get(0),
        )?;
        self.tx.execute(
            "INSERT INTO datasets(project_id, name, created_at) VALUES (?1, ?2, ?3)",
            params![pid, d.name, now],
        )?;
        Ok(self.tx.last_insert_rowid())
    }

    pub fn versions_of(&self, d: &DatasetName) -> Result<Vec<Version>> {
        let Some(id) = self.dataset_id(d)? else {
            return Ok(Vec::new());
        };
        let mut vs = query_versions(self.tx, "WHERE v.dataset_id = ?1", params![id])?;
        vs.sort_by_key(|a| a.semver());
        Ok(vs)
    }

    pub fn version(&self, id: &str) -> Result<Version> {
        query_versions(self.tx, "WHERE v.id = ?1", params![id])?
            .pop()
            .ok_or_else(|| Error::not_found("version", id))
    }

    pub fn insert_version(&self, v: &NewVersion<'_>) -> Result<()> {
        let ds = self.ensure_dataset(v.dataset, v.created_at)?;
        let semver = v.semver.to_string();
        let taken: bool = self.tx.query_row(
            "SELECT EXISTS(SELECT 1 FROM versions WHERE dataset_id = ?1 AND semver = ?2)",
            params![ds, semver],
            |r| r.get(0),
        )?;
        if taken {
            return Err(Error::Conflict(format!(
                "version {semver} of {} already exists; pick another --version or leave it out",
                v.dataset
            )));
        }
        let metadata = serde_json::to_string(v.metadata)
            .map_err(|e| Error::Internal(format!("metadata: {e}")))?;
        let finalized_at = (v.state != State::Draft).then_some(v.created_at);
        self.tx.execute(
            "INSERT INTO versions(id, dataset_id, semver, state, upload_state, description, metadata,
                manifest, file_count, total_bytes, created_at, created_by, finalized_at)
             VALUES (?1, ?2, ?3, ?4, 'local', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                v.id,
                ds,
                semver,
                v.state.as_str(),
                v.description,
                metadata,
                &v.manifest.0[..],
                v.file_count as i64,
                v.total_bytes as i64,
                v.created_at,
                v.created_by,
                finalized_at
            ],
        )?;
        for (i, p) in v.parents.iter().enumerate() {
            self.tx.execute(
                "INSERT INTO version_parents(version_id, position, parent_id) VALUES (?1, ?2, ?3)",
                params![v.id, i as i64, p],
            )?;
        }
        for t in v.tags {
            self.tx.execute(
                "INSERT OR IGNORE INTO version_tags(version_id, tag) VALUES (?1, ?2)",
                params![v.id, t],
            )?;
        }
        Ok(())
    }

    pub fn set_manifest(&self, id: &str, manifest: Hash, files: u64, bytes: u64) -> Result<()> {
        self.tx.execute(
            "UPDATE versions SET manifest = ?2, file_count = ?3, total_bytes = ?4 WHERE id = ?1",
            params![id, &manifest.0[..], files as i64, bytes as i64],
        )?;
        Ok(())
    }

    pub fn set_state(&self, id: &str, state: State, now: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE versions SET state = ?2,
                 finalized_at = CASE WHEN ?2 = 'draft' THEN NULL ELSE coalesce(finalized_at, ?3) END
             WHERE id = ?1",
            params![id, state.as_str(), now],
        )?;
        Ok(())
    }

    pub fn set_upload_state(&self, id: &str, state: UploadState) -> Result<()> {
        self.tx.execute(
            "UPDATE versions SET upload_state = ?2 WHERE id = ?1",
            params![id, state.as_str()],
        )?;
        Ok(())
    }

    /// Marks where a version is shared and how far its upload got.
    pub fn set_remote(&self, id: &str, remote: Option<&str>, state: UploadState) -> Result<()> {
        self.tx.execute(
            "UPDATE versions SET remote = ?2, upload_state = ?3 WHERE id = ?1",
            params![id, remote, state.as_str()],
        )?;
        Ok(())
    }

    /// Gives a version another semantic version (a team member took its number first).
    pub fn set_semver(&self, id: &str, semver: &semver::Version) -> Result<()> {
        self.tx.execute(
            "UPDATE versions SET semver = ?2 WHERE id = ?1",
            params![id, semver.to_string()],
        )?;
        Ok(())
    }

    /// How far a remote's log has been applied here.
    pub fn set_log_position(&self, remote: &str, seq: u64, now: i64) -> Result<()> {
        self.tx.execute(
            "INSERT INTO remote_logs(remote, last_seq, pulled_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(remote) DO UPDATE SET last_seq = max(last_seq, ?2), pulled_at = ?3",
            params![remote, seq as i64, now],
        )?;
        Ok(())
    }

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

    pub fn set_dataset_remote(&self, d: &DatasetName, remote: Option<&str>) -> Result<()> {
        let n = self.tx.execute(
            "UPDATE datasets SET remote = ?3 WHERE id =
               (SELECT d.id FROM datasets d JOIN projects p ON p.id = d.project_id
                WHERE p.name = ?1 AND d.name = ?2)",
            params![d.project, d.name, remote],
        )?;
        if n == 0 {
            return Err(Error::not_found("dataset", d.to_string()));
        }
        Ok(())
    }

    /// Records links as added on this machine (see migration 6).
    pub fn add_own_links(&self, urls: &[String]) -> Result<()> {
        let mut stmt = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO own_links (url) VALUES (?1)")?;
        for u in urls {
            stmt.execute([u])?;
        }
        Ok(())
    }

    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    pub fn set_description(&self, id: &str, description: &str) -> Result<()> {
        self.tx.execute(
            "UPDATE versions SET description = ?2 WHERE id = ?1",
            params![id, description],
        )?;
        Ok(())
    }

    pub fn set_metadata(
        &self,
        id: &str,
        metadata: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<()> {
        let json = serde_json::to_string(metadata)
            .map_err(|e| Error::Internal(format!("metadata: {e}")))?;
        self.tx.execute(
            "UPDATE versions SET metadata = ?2 WHERE id = ?1",
            params![id, json],
        )?;
        Ok(())
    }

    pub fn add_tag(&self, id: &str, tag: &str) -> Result<()> {
        self.tx.execute(
            "INSERT OR IGNORE INTO version_tags(version_id, tag) VALUES (?1, ?2)",
            params![id, tag],
        )?;
        Ok(())
    }

    pub fn remove_tag(&self, id: &str, tag: &str) -> Result<()> {
        self.tx.execute(
            "DELETE FROM version_tags WHERE version_id = ?1 AND tag = ?2",
            params![id, tag],
        )?;
        Ok(())
    }

    /// Deletes a version; children lose it as a parent (their manifests are complete on their own).
    pub fn delete_version(&self, id: &str) -> Result<()> {
        self.tx
            .execute("DELETE FROM version_parents WHERE parent_id = ?1", [id])?;
        self.tx
            .execute("DELETE FROM versions WHERE id = ?1", [id])?;
        Ok(())
    }

    pub fn delete_dataset(&self, d: &DatasetName) -> Result<()> {
        let Some(ds) = self.dataset_id(d)? else {
            return Err(Error::not_found("dataset", d.to_string()));
        };
        let ids: Vec<String> = {
            let mut stmt = self
                .tx
                .prepare("SELECT id FROM versions WHERE dataset_id = ?1")?;
            let ids = stmt
                .query_map([ds], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            ids
        };
        for id in &ids {
            self.delete_version(id)?;
        }
        self.tx
            .execute("DELETE FROM datasets WHERE id = ?1", [ds])?;
        self.drop_empty_projects()?;
        Ok(())
    }

    /// Renames and/or moves a dataset.
    pub fn relocate_dataset(&self, from: &DatasetName, to: &DatasetName) -> Result<()> {
        let ds = self
            .dataset_id(from)?
            .ok_or_else(|| Error::not_found("dataset", from.to_string()))?;
        if self.dataset_id(to)?.is_some() {
            return Err(Error::Conflict(format!("dataset {to} already exists")));
        }
        self.tx.execute(
            "INSERT OR IGNORE INTO projects(name) VALUES (?1)",
            [&to.project],
        )?;
        let pid: i64 = self.tx.query_row(
            "SELECT id FROM projects WHERE name = ?1",
            [&to.project],
            |r| r.get(0),
        )?;
        self.tx.execute(
            "UPDATE datasets SET project_id = ?2, name = ?3 WHERE id = ?1",
            params![ds, pid, to.name],
        )?;
        self.drop_empty_projects()?;
        Ok(())
    }

    /// Moves one version to another dataset (made if missing, taking the old one's remote
    /// override), under `semver`: a rename that takes some versions of a dataset and not others.
    pub fn move_version(
        &self,
        id: &str,
        to: &DatasetName,
        semver: &semver::Version,
        now: i64,
    ) -> Result<()> {
        let ds = self.ensure_dataset(to, now)?;
        self.tx.execute(
            "UPDATE datasets SET remote = coalesce(remote,
                 (SELECT d.remote FROM versions v JOIN datasets d ON d.id = v.dataset_id
                  WHERE v.id = ?2))
             WHERE id = ?1",
            params![ds, id],
        )?;
        let n = self.tx.execute(
            "UPDATE versions SET dataset_id = ?2, semver = ?3 WHERE id = ?1",
            params![id, ds, semver.to_string()],
        )?;
        if n == 0 {
            return Err(Error::not_found("version", id));
        }
        Ok(())
    }

    fn drop_empty_projects(&self) -> Result<()> {
        self.tx.execute(
            "DELETE FROM projects WHERE id NOT IN (SELECT project_id FROM datasets)",
            [],
        )?;
        Ok(())
    }

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
        self.tx
            .execute("DELETE FROM remote_logs WHERE remote = ?1", [name])?;
        self.tx
            .execute("DELETE FROM outbox WHERE remote = ?1", [name])?;
        // Keep exactly one default while any remote is left.
        self.tx.execute(
            "UPDATE remotes SET is_default = 1 WHERE name = (SELECT name FROM remotes ORDER BY name LIMIT 1)
               AND NOT EXISTS (SELECT 1 FROM remotes WHERE is_default = 1)",
            [],
        )?;
        Ok(())
    }

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

/// Whether a catalog error is a broken constraint (a duplicate or dangling row: the data asked
/// for something impossible) rather than the database failing.
pub fn is_constraint(e: &Error) -> bool {
    matches!(e, Error::Catalog(inner)
        if inner.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation))
}

fn dataset_id(conn: &Connection, d: &DatasetName) -> Result<Option<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id FROM datasets d JOIN projects p ON p.id = d.project_id
         WHERE p.name = ?1 AND d.name = ?2",
    )?;
    Ok(stmt
        .query_row(params![d.project, d.name], |r| r.get(0))
        .optional()?)
}

fn query_versions(
    conn: &Connection,
    filter: &str,
    params: &[&dyn rusqlite::ToSql],
) -> Result<Vec<Version>> {
    let sql = format!("SELECT {VERSION_COLUMNS} FROM {VERSION_FROM} {filter}");
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, Vec<u8>>(8)?,
            r.get::<_, i64>(9)?,
            r.get::<_, i64>(10)?,
            r.get::<_, i64>(11)?,
            r.get::<_, String>(12)?,
            r.get::<_, Option<i64>>(13)?,
            r.get::<_, Option<String>>(14)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (
            id,
            project,
            dataset,
            semver,
            state,
            upload,
            desc,
            meta,
            manifest,
            files,
            bytes,
            at,
            by,
            fin,
            remote,
        ) = row?;
        let metadata = serde_json::from_str(&meta).map_err(|e| Error::Corrupt {
            what: "catalog".into(),
            detail: format!("metadata of {id}: {e}"),
        })?;
        let manifest: [u8; 32] = manifest.try_into().map_err(|_| Error::Corrupt {
            what: "catalog".into(),
            detail: format!("manifest hash of {id}"),
        })?;
        out.push(Version {
            parents: list(
                conn,
                "SELECT parent_id FROM version_parents WHERE version_id = ?1 ORDER BY position",
                &id,
            )?,
            tags: list(
                conn,
                "SELECT tag FROM version_tags WHERE version_id = ?1 ORDER BY tag",
                &id,
            )?,
            id,
            project,
            dataset,
            semver,
            state: State::parse(&state)?,
            upload_state: UploadState::parse(&upload)?,
            description: desc,
            metadata,
            manifest: Hash(manifest),
            file_count: files as u64,
            total_bytes: bytes as u64,
            created_at: at,
            created_by: by,
            finalized_at: fin,
            remote,
        });
    }
    Ok(out)
}

fn list(conn: &Connection, sql: &str, id: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let v = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(v)
}
