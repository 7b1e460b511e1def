//! Content is what its hash says: files changing while hashed, edits that hide behind an old
//! mtime, and read-only copies edited in place never reach the store or another copy.

use std::fs::{self, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, SystemTime};

use crate::support::Env;

const BIG: usize = 64 << 20;

/// Runs `body` in a thread until the returned guard is dropped.
struct Looping {
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

impl Looping {
    fn start(mut body: impl FnMut(u64) + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let handle = thread::spawn(move || {
            let mut i = 0;
            while !s.load(Ordering::Relaxed) {
                body(i);
                i += 1;
            }
        });
        Looping {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Looping {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Every version in the catalog verifies, and its read-only copy holds the recorded bytes
/// (`verify` re-hashes cached copies too).
fn every_version_verifies(env: &Env) {
    for v in env.catalog_state().as_array().unwrap() {
        let id = v["id"].as_str().unwrap();
        env.ok(&["get", id]);
        let r = env.run(&["verify", id]);
        assert!(
            r.out.status.success(),
            "{id} does not verify: {}{}",
            r.stdout(),
            r.stderr()
        );
    }
}

#[test]
fn a_file_rewritten_while_hashed_is_stored_as_read_or_refused() {
    let env = Env::new();
    env.images("data", 2, 10);
    let big = env.write("data/big.bin", &vec![0u8; BIG]);
    let path = big.clone();
    let writer = Looping::start(move |i| {
        // In place, no truncation: a reader sees a mix of two fills unless it notices.
        if let Ok(mut f) = OpenOptions::new().write(true).open(&path) {
            let fill = vec![(i % 251) as u8 + 1; 4 << 20];
            for _ in 0..BIG / fill.len() {
                if f.write_all(&fill).is_err() {
                    break;
                }
            }
        }
    });
    let mut refused = 0;
    for _ in 0..4 {
        let r = env.run(&["snapshot", "d/x", "data"]);
        if !r.out.status.success() {
            let line = r.error();
            assert!(line.contains("big.bin"), "the error names the file: {line}");
            refused += 1;
        }
    }
    drop(writer);
    every_version_verifies(&env);
    // Once the writer is done, the file is taken whole.
    env.ok(&["snapshot", "d/x", "data"]);
    every_version_verifies(&env);
    let copy = PathBuf::from(env.json(&["get", "d/x"])["path"].as_str().unwrap());
    assert_eq!(
        fs::read(copy.join("big.bin")).unwrap(),
        fs::read(&big).unwrap()
    );
    assert!(refused <= 4);
}

#[test]
fn a_file_truncated_while_hashed_never_crashes_strata() {
    let env = Env::new();
    env.images("data", 2, 10);
    let big = env.write("data/big.bin", &vec![5u8; BIG]);
    let path = big.clone();
    let body = vec![9u8; BIG];
    let truncater = Looping::start(move |_| {
        if let Ok(mut f) = OpenOptions::new().write(true).open(&path) {
            let _ = f.set_len(0);
            let _ = f.seek(SeekFrom::Start(0));
            let _ = f.write_all(&body);
        }
    });
    for _ in 0..4 {
        let r = env.run(&["snapshot", "d/x", "data"]);
        assert_eq!(
            r.out.status.signal(),
            None,
            "strata was killed by a signal: {}",
            r.stderr()
        );
        if !r.out.status.success() {
            assert!(r.error().contains("big.bin"), "{}", r.stderr());
        }
    }
    drop(truncater);
    every_version_verifies(&env);
}

/// Puts a file's mtime back to what it was.
fn set_mtime(p: &Path, t: SystemTime) {
    let f = OpenOptions::new().write(true).open(p).unwrap();
    f.set_modified(t).unwrap();
}

#[test]
fn an_edit_of_the_same_size_with_the_old_mtime_is_seen() {
    let env = Env::new();
    let f = env.write("data/labels.csv", b"cat,1\n");
    env.write("data/other.txt", b"other");
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    set_mtime(&f, old);
    // Past the stat cache's racy window, so the first snapshot's entries are trusted.
    thread::sleep(Duration::from_millis(300));
    env.ok(&["snapshot", "d/x", "data"]);
    assert_eq!(env.json(&["snapshot", "d/x", "data"])["created"], false);
    fs::write(&f, b"dog,2\n").unwrap();
    set_mtime(&f, old);
    assert_eq!(fs::metadata(&f).unwrap().mtime(), 1_600_000_000);
    let second = env.json(&["snapshot", "d/x", "data"]);
    assert_eq!(second["created"], true, "the edit was missed: {second}");
    assert_eq!(second["changes"]["modified"], 1);
    let copy = PathBuf::from(env.json(&["get", "d/x"])["path"].as_str().unwrap());
    assert_eq!(fs::read(copy.join("labels.csv")).unwrap(), b"dog,2\n");
}

/// Edits a read-only file the way a user can: make it writable, write, then put the mode and
/// the mtime back so only the ctime tells.
fn edit_in_place(p: &Path, body: &[u8]) {
    let m = fs::metadata(p).unwrap();
    fs::set_permissions(p, fs::Permissions::from_mode(0o644)).unwrap();
    let mut f = OpenOptions::new().write(true).open(p).unwrap();
    f.write_all(body).unwrap();
    f.set_modified(m.modified().unwrap()).unwrap();
    drop(f);
    fs::set_permissions(p, fs::Permissions::from_mode(0o444)).unwrap();
}

#[test]
fn an_edit_through_a_read_only_copy_never_reaches_another_copy() {
    let env = Env::new();
    let small = b"the original small file".to_vec();
    let big = vec![3u8; 2 << 20];
    env.write("data/a/small.txt", &small);
    env.write("data/big.bin", &big);
    env.write("data/b/keep.txt", b"untouched");
    env.ok(&["snapshot", "d/x", "data"]);
    let first = PathBuf::from(env.json(&["get", "d/x"])["path"].as_str().unwrap());
    let copy_big = fs::metadata(first.join("big.bin")).unwrap().ino();

    edit_in_place(&first.join("a/small.txt"), b"THE POISONED small file");
    edit_in_place(&first.join("big.bin"), &[4u8; 1000]);

    // verify names each edited file of the cached copy and fails; the store itself is fine.
    let r = env.run(&["verify", "d/x", "--json"]);
    assert!(!r.out.status.success(), "verify passed an edited copy");
    let report = r.json();
    assert_eq!(report["mismatches"].as_array().unwrap().len(), 0);
    let edited: Vec<&str> = report["edited_copies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["path"].as_str().unwrap())
        .collect();
    assert_eq!(edited, ["a/small.txt", "big.bin"]);
    let text = env.run(&["verify", "d/x"]);
    assert!(
        text.stdout().contains("EDITED a/small.txt"),
        "{}",
        text.stdout()
    );

    // Another version sharing both files gets the original bytes.
    env.write("data/c/new.txt", b"new");
    env.ok(&["snapshot", "d/x", "data"]);
    let second = PathBuf::from(env.json(&["get", "d/x"])["path"].as_str().unwrap());
    assert_ne!(second, first);
    assert_eq!(fs::read(second.join("a/small.txt")).unwrap(), small);
    assert_eq!(fs::read(second.join("big.bin")).unwrap(), big);
    let m = fs::metadata(second.join("a/small.txt")).unwrap();
    assert_eq!(m.mode() & 0o222, 0, "copies stay read-only");

    // Asking for the edited version again heals its copy.
    let again = env.json(&["get", "d/x@1.0.0"]);
    assert_eq!(again["path"].as_str().unwrap(), first.to_str().unwrap());
    assert_eq!(again["healed"], 2);
    assert_eq!(fs::read(first.join("a/small.txt")).unwrap(), small);
    assert_eq!(fs::read(first.join("big.bin")).unwrap(), big);
    env.ok(&["verify", "d/x@1.0.0"]);
    env.ok(&["verify", "d/x"]);
    assert_eq!(env.json(&["get", "d/x@1.0.0"])["reused"], true);

    // The store was never reachable through the copy: the store's object is another inode.
    let objects = env.home().join("store/objects");
    for d in fs::read_dir(&objects).unwrap().flatten() {
        for o in fs::read_dir(d.path()).unwrap().flatten() {
            let m = o.metadata().unwrap();
            assert_eq!(m.nlink(), 1, "a store object is linked out: {:?}", o.path());
            assert_ne!(m.ino(), copy_big);
        }
    }
}

#[test]
fn a_writable_cached_file_is_replaced_even_with_unchanged_bytes() {
    let env = Env::new();
    env.write("data/a.txt", b"alpha");
    env.ok(&["snapshot", "d/x", "data"]);
    let copy = PathBuf::from(env.json(&["get", "d/x"])["path"].as_str().unwrap());
    let f = copy.join("a.txt");
    fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
    let again = env.json(&["get", "d/x"]);
    assert_eq!(again["healed"], 1);
    assert_eq!(fs::metadata(&f).unwrap().mode() & 0o222, 0);
    assert_eq!(fs::read(&f).unwrap(), b"alpha");
}
