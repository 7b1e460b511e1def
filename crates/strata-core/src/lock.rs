//! One writer per draft version: a lock file naming its holder. A lock whose process is gone
//! (same host, dead pid) is stale and is taken over with a warning; readers never look at locks.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

#[derive(Debug, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub user: String,
    pub since: i64,
    pub operation: String,
}

impl Holder {
    fn describe(&self) -> String {
        format!(
            "'{}' (pid {} of {} on {}, since {})",
            self.operation,
            self.pid,
            self.user,
            self.host,
            crate::time::format_ms(self.since)
        )
    }
}

/// Held until dropped.
#[derive(Debug)]
pub struct WriterLock {
    path: PathBuf,
}

impl WriterLock {
    /// Takes the lock on `key` in `dir`. Returns the lock and, when a stale lock was broken, a
    /// warning for the user.
    pub fn acquire(dir: &Path, key: &str, operation: &str) -> Result<(Self, Option<String>)> {
        fs::create_dir_all(dir).ctx("create", dir)?;
        let path = dir.join(format!("{key}.lock"));
        let me = Holder {
            pid: std::process::id(),
            host: crate::time::hostname(),
            user: crate::time::username(),
            since: crate::time::now_ms(),
            operation: operation.to_string(),
        };
        let body = serde_json::to_vec(&me).map_err(|e| Error::Internal(e.to_string()))?;
        let mut warning = None;
        for _ in 0..3 {
            match OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    f.write_all(&body).ctx("write", &path)?;
                    return Ok((WriterLock { path }, warning));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = read_holder(&path);
                    match holder {
                        Some(h) if !is_stale(&h) => {
                            return Err(Error::Locked(format!(
                                "version {key} is being written by {}; wait for it or run \
                                 `strata unlock {key}` if that process is gone",
                                h.describe()
                            )))
                        }
                        Some(h) => {
                            warning = Some(format!(
                                "released a stale lock on {key} left by {} (process no longer runs)",
                                h.describe()
                            ));
                        }
                        None => {
                            // Unreadable or half-written: its writer died between create and write.
                            warning = Some(format!("released an unreadable lock on {key}"));
                        }
                    }
                    let _ = fs::remove_file(&path);
                }
                Err(e) => return Err(e).ctx("create lock", &path),
            }
        }
        Err(Error::Locked(format!(
            "could not take the lock on version {key}: another writer keeps taking it"
        )))
    }

    /// Removes a lock whatever its state; returns who held it.
    pub fn force_release(dir: &Path, key: &str) -> Result<Option<String>> {
        let path = dir.join(format!("{key}.lock"));
        if !path.exists() {
            return Ok(None);
        }
        let who = read_holder(&path).map(|h| h.describe());
        fs::remove_file(&path).ctx("remove", &path)?;
        Ok(Some(who.unwrap_or_else(|| "an unknown writer".into())))
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn read_holder(path: &Path) -> Option<Holder> {
    let bytes = fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn is_stale(h: &Holder) -> bool {
    if h.host != crate::time::hostname() {
        return false; // Another machine's process: we cannot tell, so respect it.
    }
    !pid_alive(h.pid)
}

pub fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_writer_is_refused_and_stale_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let (lock, warn) = WriterLock::acquire(dir.path(), "abc", "add").unwrap();
        assert!(warn.is_none());
        let err = WriterLock::acquire(dir.path(), "abc", "sync").unwrap_err();
        assert_eq!(err.code(), "locked");
        assert!(err.to_string().contains("'add'"), "{err}");
        drop(lock);
        // A lock left by a process that no longer exists.
        let dead = Holder {
            pid: 999_999_999,
            host: crate::time::hostname(),
            user: "x".into(),
            since: 0,
            operation: "add".into(),
        };
        fs::write(
            dir.path().join("abc.lock"),
            serde_json::to_vec(&dead).unwrap(),
        )
        .unwrap();
        let (_lock, warn) = WriterLock::acquire(dir.path(), "abc", "add").unwrap();
        assert!(warn.unwrap().contains("stale"));
    }
}
