//! The one place Strata opens an SQLite database: the catalog, the store's index and the pool's
//! records all come through [`open`], so they share one set of pragmas.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::error::Result;

/// What differs between Strata's databases.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How long a statement waits for another process's write lock before failing as busy.
    pub busy_timeout: Duration,
    /// Whether SQLite enforces `REFERENCES` clauses. Always set, one way or the other: SQLite's
    /// default depends on how it was built (the bundled one enforces them, a stock one does not).
    pub foreign_keys: bool,
}

/// Opens (creating if missing) the database at `path` in WAL mode, so readers never wait for
/// a writer and several processes can share it.
pub fn open(path: &Path, options: Options) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(options.busy_timeout)?;
    // Turning a new database to WAL takes its write lock from under a read lock. Processes
    // creating the same database at once (several `get`s filling an emptied cache) can each
    // hold the read lock and want the write lock: SQLite then answers one "database is locked"
    // at once, the busy timeout unused (waiting would deadlock). That one lets go and asks
    // again; by then the database is WAL and the pragma only reads it.
    let started = Instant::now();
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && started.elapsed() < options.busy_timeout =>
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            r => break r?,
        }
    }
    // NORMAL is durable across a killed process in WAL mode; FULL only adds power-loss safety
    // for the last transaction, at an fsync per commit.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let foreign_keys = if options.foreign_keys { "ON" } else { "OFF" };
    conn.pragma_update(None, "foreign_keys", foreign_keys)?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pragma(conn: &Connection, name: &str) -> String {
        conn.pragma_query_value(None, name, |r| r.get::<_, rusqlite::types::Value>(0))
            .map(|v| match v {
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Text(s) => s,
                other => format!("{other:?}"),
            })
            .unwrap()
    }

    /// Several openers of one new database at once, as `get`s filling an emptied cache are:
    /// each gets a WAL database, none is told it is locked.
    #[test]
    fn openers_of_one_new_database_at_once_all_get_it() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..60 {
            let path = dir.path().join(format!("r{round}.db"));
            let start = std::sync::Barrier::new(4);
            std::thread::scope(|s| {
                let opened: Vec<_> = (0..4)
                    .map(|_| {
                        s.spawn(|| {
                            start.wait();
                            open(
                                &path,
                                Options {
                                    busy_timeout: Duration::from_secs(30),
                                    foreign_keys: false,
                                },
                            )
                            .map(|c| pragma(&c, "journal_mode"))
                        })
                    })
                    .collect();
                for o in opened {
                    let mode = o.join().unwrap();
                    assert_eq!(mode.as_deref().ok(), Some("wal"), "round {round}: {mode:?}");
                }
            });
        }
    }

    #[test]
    fn sets_the_pragmas_asked_for() {
        let dir = tempfile::tempdir().unwrap();
        let with = open(
            &dir.path().join("a.db"),
            Options {
                busy_timeout: Duration::from_secs(7),
                foreign_keys: true,
            },
        )
        .unwrap();
        assert_eq!(pragma(&with, "journal_mode"), "wal");
        // 1 = NORMAL.
        assert_eq!(pragma(&with, "synchronous"), "1");
        assert_eq!(pragma(&with, "foreign_keys"), "1");
        assert_eq!(pragma(&with, "busy_timeout"), "7000");

        let without = open(
            &dir.path().join("b.db"),
            Options {
                busy_timeout: Duration::from_secs(30),
                foreign_keys: false,
            },
        )
        .unwrap();
        assert_eq!(pragma(&without, "journal_mode"), "wal");
        assert_eq!(pragma(&without, "foreign_keys"), "0");
        assert_eq!(pragma(&without, "busy_timeout"), "30000");
    }
}
