//! Schema migrations, applied in order; `PRAGMA user_version` records how many have run.

pub const MIGRATIONS: &[&str] = &[
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
];
