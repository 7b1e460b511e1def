//! The engine without any front end: progress reporting and cancellation as the app will use them.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use strata_core::{Cancel, NoProgress, Progress, State};
use strata_engine::{Engine, GetRequest, MetaOp};

#[derive(Default)]
struct Recorder {
    phases: Mutex<Vec<(String, u64, u64)>>,
    files: AtomicU64,
    bytes: AtomicU64,
    cancel_after: Option<(u64, Cancel)>,
}

impl Progress for Recorder {
    fn begin(&self, phase: &str, files: u64, bytes: u64) {
        self.phases
            .lock()
            .unwrap()
            .push((phase.into(), files, bytes));
        self.files.store(0, Ordering::SeqCst);
        self.bytes.store(0, Ordering::SeqCst);
    }
    fn advance(&self, files: u64, bytes: u64) {
        let n = self.files.fetch_add(files, Ordering::SeqCst) + files;
        self.bytes.fetch_add(bytes, Ordering::SeqCst);
        if let Some((after, c)) = &self.cancel_after {
            if n >= *after {
                c.cancel();
            }
        }
    }
}

fn folder(root: &Path, n: usize) {
    for i in 0..n {
        let d = root.join(format!("c{}", i % 5));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("{i}.bin")), vec![i as u8; 1000 + i]).unwrap();
    }
}

#[test]
fn progress_reports_files_and_bytes_of_each_phase() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    folder(&data, 200);
    let mut engine = Engine::open(&dir.path().join("home")).unwrap();
    let rec = Recorder::default();
    let c = engine
        .snapshot("p/d", &data, &[], &rec, &Cancel::new())
        .unwrap();
    let phases = rec.phases.lock().unwrap().clone();
    let hashing = phases
        .iter()
        .find(|p| p.0 == "hashing")
        .expect("a hashing phase");
    assert_eq!(hashing.1, 200);
    assert_eq!(hashing.2, c.version.total_bytes);
    assert_eq!(rec.files.load(Ordering::SeqCst), 200);
    assert_eq!(rec.bytes.load(Ordering::SeqCst), c.version.total_bytes);

    let rec = Recorder::default();
    let out = dir.path().join("copy");
    let opts = GetRequest {
        to: Some(out),
        mutable: true,
        ..Default::default()
    };
    engine.get("p/d", &opts, &rec, &Cancel::new()).unwrap();
    let phases = rec.phases.lock().unwrap().clone();
    assert!(phases.iter().any(|p| p.0 == "writing" && p.1 == 200));
    assert_eq!(rec.files.load(Ordering::SeqCst), 200);
}

#[test]
fn a_cancelled_snapshot_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    folder(&data, 500);
    let home = dir.path().join("home");
    let mut engine = Engine::open(&home).unwrap();
    let cancel = Cancel::new();
    let rec = Recorder {
        cancel_after: Some((50, cancel.clone())),
        ..Default::default()
    };
    let err = engine
        .snapshot("p/d", &data, &[], &rec, &cancel)
        .unwrap_err();
    assert_eq!(err.code(), "cancelled");
    assert!(
        engine.list(None, &[]).unwrap().is_empty(),
        "no dataset appears"
    );
    let packs = std::fs::read_dir(home.join("store/packs")).unwrap().count();
    assert_eq!(packs, 0, "the cancelled ingest's packs are removed");
    // And the next attempt works.
    let c = engine
        .snapshot("p/d", &data, &[], &NoProgress, &Cancel::new())
        .unwrap();
    assert_eq!(c.version.file_count, 500);
}

#[test]
fn a_cancelled_get_leaves_no_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    folder(&data, 500);
    let mut engine = Engine::open(&dir.path().join("home")).unwrap();
    engine
        .snapshot("p/d", &data, &[], &NoProgress, &Cancel::new())
        .unwrap();
    let cancel = Cancel::new();
    let rec = Recorder {
        cancel_after: Some((20, cancel.clone())),
        ..Default::default()
    };
    let out = dir.path().join("copy");
    let opts = GetRequest {
        to: Some(out.clone()),
        mutable: true,
        jobs: Some(1),
        ..Default::default()
    };
    let err = engine.get("p/d", &opts, &rec, &cancel).unwrap_err();
    assert_eq!(err.code(), "cancelled");
    assert!(!out.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("strata-tmp"))
        .collect();
    assert!(leftovers.is_empty());
    let err = engine
        .get("p/d", &GetRequest::default(), &rec, &cancel)
        .unwrap_err();
    assert_eq!(err.code(), "cancelled");
    assert!(engine.cache_list().unwrap().copies.is_empty());
}

/// Runs `hook` once, the first time hashing advances: the moment an `add` holds its lock.
struct WhileHashing<F: Fn() + Send + Sync> {
    fired: std::sync::atomic::AtomicBool,
    hook: F,
}

impl<F: Fn() + Send + Sync> WhileHashing<F> {
    fn new(hook: F) -> Self {
        WhileHashing {
            fired: std::sync::atomic::AtomicBool::new(false),
            hook,
        }
    }
}

impl<F: Fn() + Send + Sync> Progress for WhileHashing<F> {
    fn advance(&self, _files: u64, _bytes: u64) {
        if !self.fired.swap(true, Ordering::SeqCst) {
            (self.hook)();
        }
    }
}

#[test]
fn writers_on_separate_handles_keep_every_metadata_key() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let id = Engine::open(&home)
        .unwrap()
        .create("p/d", &Default::default())
        .unwrap()
        .id;
    std::thread::scope(|s| {
        for i in 0..10 {
            let (home, id) = (&home, &id);
            s.spawn(move || {
                let mut e = Engine::open(home).unwrap();
                let op = MetaOp::parse(&format!("k{i}={i}")).unwrap();
                e.meta(id, &[op]).unwrap();
            });
        }
    });
    let meta = Engine::open(&home).unwrap().meta(&id, &[]).unwrap();
    assert_eq!(meta.len(), 10, "{meta:?}");
}

#[test]
fn finalize_waits_for_a_running_add_and_keeps_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    folder(&data, 300);
    let home = dir.path().join("home");
    let mut engine = Engine::open(&home).unwrap();
    let id = engine.create("p/d", &Default::default()).unwrap().id;
    let (started, hashing) = std::sync::mpsc::channel();
    let finalizer = {
        let (home, id) = (home.clone(), id.clone());
        std::thread::spawn(move || {
            hashing.recv().unwrap();
            Engine::open(&home).unwrap().finalize(&id)
        })
    };
    let progress = WhileHashing::new(|| {
        started.send(()).unwrap();
        // Long enough for the finalizer to resolve the draft and start waiting for the lock.
        std::thread::sleep(std::time::Duration::from_millis(300));
    });
    let added = engine
        .add(&id, &[data], &Default::default(), &progress, &Cancel::new())
        .unwrap();
    assert_eq!(added.version.file_count, 300);
    let v = finalizer.join().unwrap().unwrap();
    assert_eq!(v.state, State::Final);
    assert_eq!(
        v.file_count, 300,
        "finalize froze the draft without the add's files"
    );
}

#[test]
fn a_second_add_is_refused_naming_the_first_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    folder(&data, 100);
    let other = dir.path().join("other.txt");
    std::fs::write(&other, b"other").unwrap();
    let home = dir.path().join("home");
    let mut engine = Engine::open(&home).unwrap();
    let id = engine.create("p/d", &Default::default()).unwrap().id;
    let second = std::sync::Mutex::new(None);
    let progress = WhileHashing::new(|| {
        let mut e = Engine::open(&home).unwrap();
        let r = e.add(
            &id,
            std::slice::from_ref(&other),
            &Default::default(),
            &NoProgress,
            &Cancel::new(),
        );
        *second.lock().unwrap() = Some(r);
    });
    engine
        .add(&id, &[data], &Default::default(), &progress, &Cancel::new())
        .unwrap();
    let err = second.into_inner().unwrap().unwrap().unwrap_err();
    assert_eq!(err.code(), "locked");
    assert!(err.to_string().contains("being written by 'add'"), "{err}");
    assert_eq!(engine.resolve(&id).unwrap().file_count, 100);
}

#[test]
fn after_a_forced_unlock_the_slower_add_fails_instead_of_dropping_the_faster_ones_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    folder(&data, 100);
    let other = dir.path().join("other.txt");
    std::fs::write(&other, b"other").unwrap();
    let home = dir.path().join("home");
    let mut engine = Engine::open(&home).unwrap();
    let id = engine.create("p/d", &Default::default()).unwrap().id;
    let progress = WhileHashing::new(|| {
        // Someone decides the running add is stuck, forces the lock and adds their own file.
        let mut e = Engine::open(&home).unwrap();
        let who = e.unlock(&id).unwrap().unwrap();
        assert!(who.contains("still running"), "{who}");
        e.add(
            &id,
            std::slice::from_ref(&other),
            &Default::default(),
            &NoProgress,
            &Cancel::new(),
        )
        .unwrap();
    });
    let err = engine
        .add(&id, &[data], &Default::default(), &progress, &Cancel::new())
        .unwrap_err();
    assert_eq!(err.code(), "conflict");
    assert!(
        err.to_string().contains("changed by another writer"),
        "{err}"
    );
    let files = engine.files(&id, &[]).unwrap();
    assert_eq!(files.len(), 1, "the other writer's file is kept");
    assert_eq!(files[0].path, "other.txt");
}
