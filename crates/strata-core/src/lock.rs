//! One writer per draft version.
//!
//! A lock is `flock(LOCK_EX)` on `locks/<key>.lock`. The kernel releases it when its process
//! exits, however it exits, so a crashed writer can never keep others out and two writers can
//! never both hold it: taking it over is the same atomic call as taking it. Inside the file the
//! holder writes a record (operation, pid, user, host, start time) so that a refused writer can
//! be told who is writing, and so that a writer that finds a record left behind knows its
//! predecessor died mid-operation and can say so ("stale").
//!
//! Releasing clears the record but never unlinks the file: whoever owns the name at that moment
//! (after a forced `strata unlock`, another writer may) keeps it. Acquirers check that the file
//! they locked is still the one at the path, so a file removed by `unlock` is never trusted.
//!
//! Across machines sharing one home over NFS, Linux emulates `flock` with NFS byte-range locks,
//! which do exclude each other between clients (NFSv4, or v3 with a lock manager). Where they do
//! not, the holder record still stops a second writer once it is written: a record from another
//! host is always respected, since we cannot tell whether its process still runs.
//! `strata unlock` releases such a record when its machine is gone.

use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

#[derive(Debug, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    pub user: String,
    pub since: i64,
    pub operation: String,
    /// When the process started (clock ticks since boot), to tell a live holder from an unrelated
    /// process that later got the same pid. Absent in records written by older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<u64>,
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

    /// Whether the process that wrote this record certainly no longer runs.
    fn is_gone(&self) -> bool {
        if self.host != crate::time::hostname() {
            return false; // Another machine's process: we cannot tell, so respect it.
        }
        if !pid_alive(self.pid) {
            return true;
        }
        match (self.started, process_start(self.pid)) {
            (Some(then), Some(now)) => then != now,
            _ => false,
        }
    }
}

/// Held until dropped.
#[derive(Debug)]
pub struct WriterLock {
    /// Open for as long as the lock is held: closing it is what releases the `flock`.
    file: File,
}

impl WriterLock {
    /// Takes the lock on `key` in `dir`, or fails at once naming the writer that holds it.
    /// Returns the lock and, when a dead writer's record was found, a warning for the user.
    pub fn acquire(dir: &Path, key: &str, operation: &str) -> Result<(Self, Option<String>)> {
        fs::create_dir_all(dir).ctx("create", dir)?;
        let path = lock_path(dir, key)?;
        // A few rounds, a millisecond apart: `strata unlock` may remove the file between our open
        // and our flock, and a holder that has just taken the lock may not have written its
        // record yet (the refusal should name it).
        for round in 0..20 {
            if round > 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .ctx("open lock", &path)?;
            if !try_flock(&file, &path)? {
                match read_holder(&path) {
                    // A dead process's record still there: the new holder is writing its own.
                    Some(h) if !h.is_gone() => return Err(held_error(key, Some(h))),
                    _ if round < 19 => continue,
                    _ => return Err(held_error(key, None)),
                }
            }
            if !still_at(&file, &path)? {
                continue; // We locked a file that was removed meanwhile; nobody looks at it.
            }
            let warning = match read_record(&file) {
                Record::Empty => None,
                Record::Unreadable => Some(format!(
                    "released an unreadable stale lock on {key} (its writer stopped while \
                     taking it)"
                )),
                Record::Holder(h) if h.is_gone() => Some(format!(
                    "released a stale lock on {key} left by {} (process no longer runs)",
                    h.describe()
                )),
                // Unlocked yet naming a live process of this machine (a strata that locks by
                // file creation only) or of another machine: respect it.
                Record::Holder(h) => return Err(held_error(key, Some(h))),
            };
            let me = Holder {
                pid: std::process::id(),
                host: crate::time::hostname(),
                user: crate::time::username(),
                since: crate::time::now_ms(),
                operation: operation.to_string(),
                started: process_start(std::process::id()),
            };
            let body = serde_json::to_vec(&me).map_err(|e| Error::Internal(e.to_string()))?;
            // Overwrite, then cut what is left of a longer old record: at no moment is the file
            // empty, which a refused writer would read as "no holder yet".
            file.write_all_at(&body, 0).ctx("write", &path)?;
            file.set_len(body.len() as u64).ctx("write", &path)?;
            return Ok((WriterLock { file }, warning));
        }
        Err(Error::Locked(format!(
            "could not take the lock on version {key}: its lock file keeps being removed"
        )))
    }

    /// Like [`WriterLock::acquire`], but waits up to `patience` for the holder to finish,
    /// retrying with a growing pause. For short operations, which would otherwise fail whenever
    /// two of them meet. After `patience`, fails naming the holder.
    pub fn acquire_within(
        dir: &Path,
        key: &str,
        operation: &str,
        patience: Duration,
    ) -> Result<(Self, Option<String>)> {
        let deadline = Instant::now() + patience;
        // Pauses start short (metadata writes take milliseconds) and differ per process so that
        // many waiters do not retry in step.
        let mut pause = Duration::from_millis(2 + u64::from(std::process::id() % 7));
        loop {
            match Self::acquire(dir, key, operation) {
                Err(Error::Locked(msg)) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(Error::Locked(format!(
                            "{msg} (waited {} s)",
                            patience.as_secs()
                        )));
                    }
                    std::thread::sleep(pause.min(deadline - now));
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                other => return other,
            }
        }
    }

    /// Removes a lock whatever its state; returns who held it. A writer still running keeps
    /// going: the caller is told so, since it then no longer excludes others.
    /// Who holds the lock on `key` now, if anyone, without taking it for longer than a probe
    /// (and without writing a record): for showing whether a watch is being run.
    pub fn holder(dir: &Path, key: &str) -> Result<Option<String>> {
        let path = lock_path(dir, key)?;
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).ctx("open lock", &path),
        };
        if try_flock(&file, &path)? {
            return Ok(None); // Free: closing the file releases the probe.
        }
        Ok(Some(match read_record(&file) {
            Record::Holder(h) => h.describe(),
            Record::Empty | Record::Unreadable => "another process".into(),
        }))
    }

    pub fn force_release(dir: &Path, key: &str) -> Result<Option<String>> {
        let path = lock_path(dir, key)?;
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).ctx("open lock", &path),
        };
        let running = !try_flock(&file, &path)?;
        let who = match read_record(&file) {
            Record::Empty if !running => return Ok(None), // Released normally: nothing to do.
            Record::Holder(h) => h.describe(),
            Record::Empty | Record::Unreadable => "an unknown writer".into(),
        };
        fs::remove_file(&path).ctx("remove", &path)?;
        Ok(Some(if running {
            format!("{who}, which is still running")
        } else {
            who
        }))
    }
}

impl Drop for WriterLock {
    /// Clears our record so the next writer does not think we died; closing the file releases
    /// the `flock`. Only our own open file is touched, never the path: after a forced unlock it
    /// may name another writer's lock.
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

fn lock_path(dir: &Path, key: &str) -> Result<PathBuf> {
    crate::names::validate_file_key(key)?;
    Ok(dir.join(format!("{key}.lock")))
}

/// `flock(LOCK_EX | LOCK_NB)`: true when taken, false when another open file holds it.
fn try_flock(file: &File, path: &Path) -> Result<bool> {
    // SAFETY: flock on a descriptor we own; it stays open as long as `file`.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(e).ctx("lock", path)
    }
}

/// Whether `path` still names the file we hold open.
fn still_at(file: &File, path: &Path) -> Result<bool> {
    let ours = file.metadata().ctx("stat", path)?;
    match fs::metadata(path) {
        Ok(now) => Ok(now.dev() == ours.dev() && now.ino() == ours.ino()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).ctx("stat", path),
    }
}

enum Record {
    Empty,
    Unreadable,
    Holder(Holder),
}

fn read_record(mut file: &File) -> Record {
    let mut bytes = Vec::new();
    // Reads from wherever the cursor is; we never move it, so from the start.
    if file.read_to_end(&mut bytes).is_err() {
        return Record::Unreadable;
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Record::Empty;
    }
    match serde_json::from_slice(&bytes) {
        Ok(h) => Record::Holder(h),
        Err(_) => Record::Unreadable,
    }
}

fn read_holder(path: &Path) -> Option<Holder> {
    let bytes = fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn held_error(key: &str, holder: Option<Holder>) -> Error {
    // No record yet: the holder took the lock a moment ago and is writing it.
    let who = holder.map_or_else(|| "another writer".into(), |h| h.describe());
    Error::Locked(format!("version {key} is being written by {who}"))
}

pub fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock ticks since boot.
fn process_start(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; fields after it do not.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plant(dir: &Path, key: &str, pid: u32) {
        let dead = Holder {
            pid,
            host: crate::time::hostname(),
            user: "x".into(),
            since: 0,
            operation: "add".into(),
            started: None,
        };
        fs::write(
            lock_path(dir, key).unwrap(),
            serde_json::to_vec(&dead).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn second_writer_is_refused_and_stale_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let (lock, warn) = WriterLock::acquire(dir.path(), "abc", "add").unwrap();
        assert!(warn.is_none());
        let err = WriterLock::acquire(dir.path(), "abc", "sync").unwrap_err();
        assert_eq!(err.code(), "locked");
        assert!(err.to_string().contains("'add'"), "{err}");
        drop(lock);
        // Released normally: the next writer gets it without a warning.
        let (lock, warn) = WriterLock::acquire(dir.path(), "abc", "sync").unwrap();
        assert!(warn.is_none(), "{warn:?}");
        drop(lock);
        // A lock left by a process that no longer exists.
        plant(dir.path(), "abc", 999_999_999);
        let (_lock, warn) = WriterLock::acquire(dir.path(), "abc", "add").unwrap();
        assert!(warn.unwrap().contains("stale"));
    }

    #[test]
    fn a_record_of_a_live_process_is_respected_even_unlocked() {
        let dir = tempfile::tempdir().unwrap();
        plant(dir.path(), "abc", std::process::id());
        let err = WriterLock::acquire(dir.path(), "abc", "add").unwrap_err();
        assert!(err.to_string().contains("being written by 'add'"), "{err}");
    }

    #[test]
    fn a_reused_pid_does_not_keep_a_dead_writers_lock() {
        let dir = tempfile::tempdir().unwrap();
        let me = std::process::id();
        let Some(start) = process_start(me) else {
            return; // No /proc: start times are not recorded and pids are trusted as before.
        };
        let h = Holder {
            pid: me,
            host: crate::time::hostname(),
            user: "x".into(),
            since: 0,
            operation: "add".into(),
            started: Some(start + 1),
        };
        fs::write(
            lock_path(dir.path(), "k").unwrap(),
            serde_json::to_vec(&h).unwrap(),
        )
        .unwrap();
        let (_lock, warn) = WriterLock::acquire(dir.path(), "k", "meta").unwrap();
        assert!(warn.unwrap().contains("stale"));
    }

    #[test]
    fn dropping_a_force_released_lock_leaves_the_next_writers_lock_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = WriterLock::acquire(dir.path(), "abc", "add").unwrap();
        let who = WriterLock::force_release(dir.path(), "abc")
            .unwrap()
            .unwrap();
        assert!(
            who.contains("'add'") && who.contains("still running"),
            "{who}"
        );
        let (second, _) = WriterLock::acquire(dir.path(), "abc", "sync").unwrap();
        drop(first);
        // The second writer's lock is still in place and still excludes others.
        let held = read_holder(&lock_path(dir.path(), "abc").unwrap()).expect("a record");
        assert_eq!(held.operation, "sync");
        let err = WriterLock::acquire(dir.path(), "abc", "meta").unwrap_err();
        assert!(err.to_string().contains("'sync'"), "{err}");
        drop(second);
        WriterLock::acquire(dir.path(), "abc", "meta").unwrap();
    }

    #[test]
    fn racing_takeovers_of_a_stale_lock_admit_one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        plant(dir.path(), "abc", 999_999_999);
        let inside = std::sync::atomic::AtomicUsize::new(0);
        let most = std::sync::atomic::AtomicUsize::new(0);
        let stale_warnings = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    let (lock, warn) = WriterLock::acquire_within(
                        dir.path(),
                        "abc",
                        "meta",
                        Duration::from_secs(10),
                    )
                    .unwrap();
                    if warn.is_some() {
                        stale_warnings.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    let n = inside.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                    most.fetch_max(n, std::sync::atomic::Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    inside.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                    drop(lock);
                });
            }
        });
        assert_eq!(most.into_inner(), 1, "two writers held the lock at once");
        assert_eq!(
            stale_warnings.into_inner(),
            1,
            "the dead writer is reported once"
        );
    }

    #[test]
    fn waiting_gives_up_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let (_held, _) = WriterLock::acquire(dir.path(), "abc", "add").unwrap();
        let t = Instant::now();
        let err = WriterLock::acquire_within(dir.path(), "abc", "meta", Duration::from_millis(300))
            .unwrap_err();
        assert!(t.elapsed() >= Duration::from_millis(300));
        assert!(err.to_string().contains("'add'"), "{err}");
    }
}
