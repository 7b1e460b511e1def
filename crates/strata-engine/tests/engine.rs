//! The engine without any front end: progress reporting and cancellation as the app will use them.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use strata_core::{Cancel, NoProgress, Progress};
use strata_engine::{Engine, GetOptions};

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
    let opts = GetOptions {
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
    let opts = GetOptions {
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
        .get("p/d", &GetOptions::default(), &rec, &cancel)
        .unwrap_err();
    assert_eq!(err.code(), "cancelled");
    assert!(engine.cache_list().unwrap().copies.is_empty());
}
