//! Versions: `versions` (one row per version, its manifest's hash and the counts listings
//! need), `version_parents` (its lineage, in order) and `version_tags`. Every read of a
//! [`Version`] goes through [`query_versions`], so rows map to versions in one place.

use rusqlite::{params, Connection};

use super::migrations::Migration;
use super::{Catalog, NewVersion, Writer};
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::names::{DatasetName, Reference, Resolution};
use crate::version::{State, UploadState, Version};

// The SQL inside each CREATE is kept byte for byte as first shipped: SQLite stores that text in
// `sqlite_master`, and catalogs made before and after the split must read the same.
pub(super) const MIGRATIONS: &[Migration] = &[
    // Made in step 1 with projects and datasets, after them: a version references its dataset.
    Migration {
        number: 1,
        sql: r#"
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
    },
    // Where a version is shared (or came from), when it is.
    Migration {
        number: 4,
        sql: r#"
    ALTER TABLE versions ADD COLUMN remote TEXT;
    "#,
    },
];

const VERSION_COLUMNS: &str = "v.id, p.name, d.name, v.semver, v.state, v.upload_state, \
     v.description, v.metadata, v.manifest, v.file_count, v.total_bytes, v.created_at, \
     v.created_by, v.finalized_at, v.remote";
const VERSION_FROM: &str =
    "versions v JOIN datasets d ON d.id = v.dataset_id JOIN projects p ON p.id = d.project_id";

impl Catalog {
    /// Every version of a dataset, oldest semantic version first.
    pub fn versions_of(&self, d: &DatasetName) -> Result<Vec<Version>> {
        let Some(id) = self.dataset_id(d)? else {
            return Ok(Vec::new());
        };
        let mut vs = query_versions(&self.conn, "WHERE v.dataset_id = ?1", params![id])?;
        vs.sort_by_key(|a| a.semver());
        Ok(vs)
    }

    pub fn version(&self, id: &str) -> Result<Version> {
        query_versions(&self.conn, "WHERE v.id = ?1", params![id])?
            .pop()
            .ok_or_else(|| Error::not_found("version", id))
    }

    pub fn all_versions(&self) -> Result<Vec<Version>> {
        query_versions(&self.conn, "", params![])
    }

    /// Versions that name `id` as a parent.
    pub fn children_of(&self, id: &str) -> Result<Vec<Version>> {
        query_versions(
            &self.conn,
            "WHERE v.id IN (SELECT version_id FROM version_parents WHERE parent_id = ?1)",
            params![id],
        )
    }

    /// The newest version (highest semver) of `d` that `mode` admits: what `project/name`
    /// stands for. Every "newest version" of a dataset (references, `status`, `snapshot`,
    /// watches) is this one, so they never disagree.
    pub fn newest(&self, d: &DatasetName, mode: Resolution) -> Result<Option<Version>> {
        Ok(self
            .versions_of(d)?
            .into_iter()
            .rfind(|v| mode.admits(v.state)))
    }

    /// The version a reference names; `mode` says which versions `project/name` and
    /// `project/name:TAG` may stand for (an id or `@SEMVER` names one exactly, drafts included).
    pub fn resolve(&self, r: &Reference, mode: Resolution) -> Result<Version> {
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
                let all = self.versions_of(d)?;
                match all.iter().rfind(|v| mode.admits(v.state)) {
                    Some(v) => Ok(v.clone()),
                    None => Err(none_fits(d, &all, mode)),
                }
            }
            Reference::Exact(d, v) => {
                let id = self.require_dataset(d)?;
                query_versions(
                    &self.conn,
                    "WHERE v.dataset_id = ?1 AND v.semver = ?2",
                    params![id, v.to_string()],
                )?
                .pop()
                .ok_or_else(|| Error::not_found("version", format!("{d}@{v}")))
            }
            Reference::Tagged(d, tag) => {
                let id = self.require_dataset(d)?;
                let mut tagged = query_versions(
                    &self.conn,
                    "WHERE v.dataset_id = ?1 AND v.id IN
                        (SELECT version_id FROM version_tags WHERE tag = ?2)",
                    params![id, tag],
                )?;
                tagged.sort_by_key(|a| a.semver());
                let any = !tagged.is_empty();
                tagged
                    .into_iter()
                    .rfind(|v| mode.admits_tagged(v.state))
                    .ok_or_else(|| {
                        Error::NoMatch(if any {
                            format!("no published version of {d} carries the tag '{tag}'")
                        } else {
                            format!("no version of {d} carries the tag '{tag}'")
                        })
                    })
            }
        }
    }
}

/// Why no version of `d` fits `mode`, naming what there is and how to reach it.
fn none_fits(d: &DatasetName, all: &[Version], mode: Resolution) -> Error {
    let Some(highest) = all.last() else {
        return Error::not_found("version of", d.to_string());
    };
    let drafts: Vec<&str> = all
        .iter()
        .filter(|v| v.state == State::Draft)
        .map(|v| v.semver.as_str())
        .collect();
    match mode {
        Resolution::Published => {
            let newest = all.iter().rfind(|v| v.state != State::Draft);
            Error::NoMatch(match newest {
                Some(v) => format!(
                    "{d} has no published version (the newest final one is {d}@{})",
                    v.semver
                ),
                None => format!(
                    "{d} has no published version (only drafts: {})",
                    drafts.join(", ")
                ),
            })
        }
        // Only drafts (IncludeDrafts admits everything, so it never gets here with versions).
        _ => {
            let shown = if drafts.len() > 5 {
                format!("{}, … {}", drafts[..3].join(", "), highest.semver)
            } else {
                drafts.join(", ")
            };
            Error::NoMatch(format!(
                "{d} has only drafts ({shown}): name one as {d}@{}",
                highest.semver
            ))
            .with_remedy(crate::error::Remedy::IncludeDrafts)
        }
    }
}

impl Writer<'_> {
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
                "version {semver} of {} already exists",
                v.dataset
            ))
            .with_remedy(crate::error::Remedy::GiveVersion));
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
            self.add_tag(v.id, t)?;
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
        self.inherit_dataset_remote(ds, id)?;
        let n = self.tx.execute(
            "UPDATE versions SET dataset_id = ?2, semver = ?3 WHERE id = ?1",
            params![id, ds, semver.to_string()],
        )?;
        if n == 0 {
            return Err(Error::not_found("version", id));
        }
        Ok(())
    }

    /// The ids of every version in dataset row `ds`.
    pub(super) fn version_ids_in(&self, ds: i64) -> Result<Vec<String>> {
        let mut stmt = self
            .tx
            .prepare("SELECT id FROM versions WHERE dataset_id = ?1")?;
        let ids = stmt
            .query_map([ds], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(ids)
    }
}

/// The versions `filter` (a `WHERE` clause over [`VERSION_FROM`], or nothing) selects, with
/// their parents and tags.
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

/// The one-column rows `sql` selects for version `id`.
fn list(conn: &Connection, sql: &str, id: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let v = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(v)
}
