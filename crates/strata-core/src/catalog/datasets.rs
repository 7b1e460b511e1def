//! Projects and datasets: `projects` (a slash-separated name) and `datasets` (a name within a
//! project, with an optional remote that overrides the default). A project exists only while
//! it holds a dataset.

use rusqlite::{params, Connection, OptionalExtension};

use super::migrations::Migration;
use super::{Catalog, Writer};
use crate::error::{Error, Result};
use crate::names::DatasetName;
use crate::version::DatasetSummary;

// The SQL inside each CREATE is kept byte for byte as first shipped: SQLite stores that text in
// `sqlite_master`, and catalogs made before and after the split must read the same.
pub(super) const MIGRATIONS: &[Migration] = &[
    Migration {
        number: 1,
        sql: r#"
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
    "#,
    },
    // A per-dataset override of the default remote (sharing through remotes).
    Migration {
        number: 4,
        sql: r#"
    ALTER TABLE datasets ADD COLUMN remote TEXT;
    "#,
    },
];

/// The row id of a dataset, if it exists; shared by reads and writes.
pub(super) fn dataset_id(conn: &Connection, d: &DatasetName) -> Result<Option<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id FROM datasets d JOIN projects p ON p.id = d.project_id
         WHERE p.name = ?1 AND d.name = ?2",
    )?;
    Ok(stmt
        .query_row(params![d.project, d.name], |r| r.get(0))
        .optional()?)
}

impl Catalog {
    pub fn dataset_id(&self, d: &DatasetName) -> Result<Option<i64>> {
        dataset_id(&self.conn, d)
    }

    pub fn require_dataset(&self, d: &DatasetName) -> Result<i64> {
        self.dataset_id(d)?
            .ok_or_else(|| Error::not_found("dataset", d.to_string()))
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
}

impl Writer<'_> {
    pub fn dataset_id(&self, d: &DatasetName) -> Result<Option<i64>> {
        dataset_id(self.tx, d)
    }

    pub fn ensure_dataset(&self, d: &DatasetName, now: i64) -> Result<i64> {
        if let Some(id) = self.dataset_id(d)? {
            return Ok(id);
        }
        let pid = self.ensure_project(&d.project)?;
        self.tx.execute(
            "INSERT INTO datasets(project_id, name, created_at) VALUES (?1, ?2, ?3)",
            params![pid, d.name, now],
        )?;
        Ok(self.tx.last_insert_rowid())
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

    /// Gives dataset `ds` the remote override of version `id`'s dataset, unless it has its own:
    /// a version moved between datasets stays shared where it was.
    pub(super) fn inherit_dataset_remote(&self, ds: i64, id: &str) -> Result<()> {
        self.tx.execute(
            "UPDATE datasets SET remote = coalesce(remote,
                 (SELECT d.remote FROM versions v JOIN datasets d ON d.id = v.dataset_id
                  WHERE v.id = ?2))
             WHERE id = ?1",
            params![ds, id],
        )?;
        Ok(())
    }

    pub fn delete_dataset(&self, d: &DatasetName) -> Result<()> {
        let Some(ds) = self.dataset_id(d)? else {
            return Err(Error::not_found("dataset", d.to_string()));
        };
        for id in &self.version_ids_in(ds)? {
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
        let pid = self.ensure_project(&to.project)?;
        self.tx.execute(
            "UPDATE datasets SET project_id = ?2, name = ?3 WHERE id = ?1",
            params![ds, pid, to.name],
        )?;
        self.drop_empty_projects()?;
        Ok(())
    }

    /// The row id of project `name`, made if missing.
    fn ensure_project(&self, name: &str) -> Result<i64> {
        self.tx
            .execute("INSERT OR IGNORE INTO projects(name) VALUES (?1)", [name])?;
        Ok(self
            .tx
            .query_row("SELECT id FROM projects WHERE name = ?1", [name], |r| {
                r.get(0)
            })?)
    }

    /// A project lives only as long as one of its datasets does.
    fn drop_empty_projects(&self) -> Result<()> {
        self.tx.execute(
            "DELETE FROM projects WHERE id NOT IN (SELECT project_id FROM datasets)",
            [],
        )?;
        Ok(())
    }
}
