//! Ingest against a real folder: a file that vanishes between scan and read is an error that
//! leaves nothing behind.

use std::collections::HashSet;

use strata_core::{Cancel, NoProgress};
use strata_store::scan::{scan_folder, ScanOptions};
use strata_store::{ingest, StatCache, Store};

#[test]
fn a_file_vanishing_mid_scan_is_reported_and_nothing_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for i in 0..50 {
        std::fs::write(data.join(format!("{i}.txt")), format!("file {i}")).unwrap();
    }
    let store = Store::open(&dir.path().join("store")).unwrap();
    let scan = scan_folder(&data, &ScanOptions::default(), &NoProgress).unwrap();
    std::fs::remove_file(data.join("7.txt")).unwrap();
    let mut cache = StatCache::load(store.root(), &scan.root);
    let err = ingest::ingest(
        &store,
        &scan,
        &mut cache,
        &HashSet::new(),
        &NoProgress,
        &Cancel::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("7.txt' disappeared"), "{err}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("store/packs"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn equal_content_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for i in 0..20 {
        std::fs::write(data.join(format!("{i}.txt")), "same bytes").unwrap();
    }
    let store = Store::open(&dir.path().join("store")).unwrap();
    let scan = scan_folder(&data, &ScanOptions::default(), &NoProgress).unwrap();
    let mut cache = StatCache::load(store.root(), &scan.root);
    let got = ingest::ingest(
        &store,
        &scan,
        &mut cache,
        &HashSet::new(),
        &NoProgress,
        &Cancel::new(),
    )
    .unwrap();
    assert_eq!(got.entries.len(), 20);
    assert_eq!(got.stored_objects, 1);
    assert_eq!(got.stored_bytes, 10);
}
