//! Ingest against a real folder: a file that vanishes between scan and read is an error that
//! leaves nothing behind.

use strata_core::{Cancel, Manifest, NoProgress};
use strata_store::materialize::{write_tree, Mode, Target};
use strata_store::scan::Scan;
use strata_store::scan::{scan_folder, ScanOptions};
use strata_store::{ingest, Ingested, StatCache, Store};

/// Ingest as a dataset's first version (nothing to compare with), neither cancelled nor shown.
fn ingest_first(
    store: &Store,
    scan: &mut Scan,
    cache: &mut StatCache,
) -> strata_core::Result<Ingested> {
    ingest::ingest(
        store,
        scan,
        cache,
        &Manifest::default(),
        &NoProgress,
        &Cancel::new(),
    )
}

#[test]
fn a_file_vanishing_mid_scan_is_reported_and_nothing_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for i in 0..50 {
        std::fs::write(data.join(format!("{i}.txt")), format!("file {i}")).unwrap();
    }
    let store = Store::open(&dir.path().join("store")).unwrap();
    let mut scan = scan_folder(&data, &ScanOptions::default(), &NoProgress).unwrap();
    std::fs::remove_file(data.join("7.txt")).unwrap();
    let mut cache = StatCache::load(store.root(), &scan.root);
    let err = ingest_first(&store, &mut scan, &mut cache).unwrap_err();
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
    let mut scan = scan_folder(&data, &ScanOptions::default(), &NoProgress).unwrap();
    let mut cache = StatCache::load(store.root(), &scan.root);
    let got = ingest_first(&store, &mut scan, &mut cache).unwrap();
    assert_eq!(got.entries.len(), 20);
    assert_eq!(got.stored_objects, 1);
    assert_eq!(got.stored_bytes, 10);
}

#[test]
fn hashing_only_gives_ingests_entries_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    for i in 0..20 {
        std::fs::write(data.join(format!("sub/{i}.txt")), format!("file {i}")).unwrap();
    }
    // Above the loose-object size, where ingest copies while hashing.
    let large: Vec<u8> = (0..(3 << 20)).map(|i: u32| (i % 251) as u8).collect();
    std::fs::write(data.join("large.bin"), &large).unwrap();
    std::fs::write(data.join("empty"), b"").unwrap();
    // Older than the stat cache's racy window, so cached hashes are trusted below.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let store = Store::open(&dir.path().join("store")).unwrap();
    let stored = |sub: &str| walk_count(&dir.path().join("store").join(sub));
    let mut scan = scan_folder(&data, &ScanOptions::default(), &NoProgress).unwrap();
    let mut cache = StatCache::load(store.root(), &scan.root);
    let only = ingest::hash_only(&scan, &mut cache, &NoProgress, &Cancel::new()).unwrap();
    assert_eq!(only.hashed_files, 22);
    assert_eq!(only.hashed_bytes, 20 * 6 + 10 + (3 << 20));
    assert_eq!(
        (stored("packs"), stored("objects")),
        (0, 0),
        "hashing stored content"
    );
    // The stat cache now answers for every file.
    let again = ingest::hash_only(&scan, &mut cache, &NoProgress, &Cancel::new()).unwrap();
    assert_eq!(again.hashed_files, 0);
    assert_eq!(again.entries, only.entries);
    // The very entries ingest records, hashed the same way.
    let mut fresh = StatCache::load(store.root(), &scan.root);
    let got = ingest_first(&store, &mut scan, &mut fresh).unwrap();
    assert_eq!(got.entries, only.entries);
    let large_entry = only.entries.iter().find(|e| e.path == "large.bin").unwrap();
    assert_eq!(large_entry.hash, strata_core::Hash::of(&large));
}

fn walk_count(p: &std::path::Path) -> usize {
    std::fs::read_dir(p)
        .map(|items| {
            items
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk_count(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_folder_matches_its_version_until_a_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    for i in 0..20 {
        std::fs::write(data.join(format!("sub/{i}.txt")), format!("file {i}")).unwrap();
    }
    // Older than the stat cache's racy window, so cached hashes are trusted below.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let store = Store::open(&dir.path().join("store")).unwrap();
    let mut scan = scan_folder(&data, &ScanOptions::default(), &NoProgress).unwrap();
    let mut cache = StatCache::load(store.root(), &scan.root);
    let got = ingest_first(&store, &mut scan, &mut cache).unwrap();
    let version = Manifest::from_entries(got.entries.clone()).encode();
    // Ingest took the scan's files: the same folder scanned again, under the cache it filled.
    let scan = scan_folder(&data, &ScanOptions::default(), &NoProgress).unwrap();
    assert!(ingest::matches_encoded(&scan, &mut cache, &version).unwrap());
    cache.save(true).unwrap();

    // Same size, new content: the stat moved, so the cache no longer vouches for it.
    std::fs::write(data.join("sub/3.txt"), "file X").unwrap();
    let scan = scan_folder(&data, &ScanOptions::default(), &NoProgress).unwrap();
    let mut cache = StatCache::load(store.root(), &scan.root);
    assert!(!ingest::matches_encoded(&scan, &mut cache, &version).unwrap());

    // A file more than the version holds.
    std::fs::write(data.join("sub/3.txt"), "file 3").unwrap();
    std::fs::write(data.join("new.txt"), "new").unwrap();
    let scan = scan_folder(&data, &ScanOptions::default(), &NoProgress).unwrap();
    assert!(!ingest::matches_encoded(&scan, &mut cache, &version).unwrap());
}

/// More small files than one pack holds (a store told to close packs at 1,000 objects, as it
/// does at 262,144): packs close by count and are indexed as they close, an
/// object seen again after its pack closed is still stored once, and an ingest that fails after
/// that leaves the indexed packs (gc's to collect) and every object findable.
#[test]
fn packs_close_by_count_and_are_indexed_as_they_close() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    const PER_PACK: usize = 1000;
    let n = PER_PACK + 500;
    for i in 0..n {
        let d = data.join(format!("d{:03}", i / 100));
        if i % 100 == 0 {
            std::fs::create_dir_all(&d).unwrap();
        }
        // The last file repeats the first one's bytes: by then the first pack is closed.
        let body = if i + 1 == n {
            "file 0".to_string()
        } else {
            format!("file {i}")
        };
        std::fs::write(d.join(format!("{i}.txt")), body).unwrap();
    }
    let mut store = Store::open(&dir.path().join("store")).unwrap();
    store.set_pack_objects(PER_PACK);
    let run = || {
        // Ingest takes the scan's files: each run scans afresh.
        let mut scan = scan_folder(&data, &ScanOptions::default(), &NoProgress).unwrap();
        let mut cache = StatCache::load(store.root(), &scan.root);
        ingest_first(&store, &mut scan, &mut cache).unwrap()
    };
    let got = run();
    assert_eq!(
        got.stored_objects as usize,
        n - 1,
        "the repeat is stored once"
    );
    assert_eq!(got.packs.len(), 2);
    assert!(got.packs[0].indexed && got.packs[0].records.is_empty());
    assert!(!got.packs[1].indexed);
    // Failing now (an abort) keeps the indexed pack, whose objects stay findable, and removes
    // the other.
    let (kept, gone) = (got.packs[0].path.clone(), got.packs[1].path.clone());
    let first = got.entries[0].clone();
    got.abort();
    assert!(kept.exists() && !gone.exists());
    assert!(store.locate(&first.hash, first.size).unwrap().is_some());
    // Again: what the first pack holds is not stored twice; committed, everything is found.
    let got = run();
    assert_eq!(
        got.stored_objects as usize,
        n - 1 - PER_PACK,
        "only the aborted pack's objects"
    );
    store.commit(&got).unwrap();
    for e in &got.entries {
        assert!(
            store.locate(&e.hash, e.size).unwrap().is_some(),
            "{}",
            e.path
        );
    }
}

/// A piece list that does not make up the file's recorded hash (a forged manifest from a bucket
/// or a session): every piece is intact, yet neither copy is written, the error names the file,
/// and verify reports it.
#[test]
fn pieces_that_do_not_make_up_the_recorded_content_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut x = 7u64;
    let body: Vec<u8> = (0..(6 << 20))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(data.join("shard.bin"), &body).unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let mut scan = scan_folder(&data, &ScanOptions::default(), &NoProgress).unwrap();
    let mut cache = StatCache::load(store.root(), &scan.root);
    let got = ingest_first(&store, &mut scan, &mut cache).unwrap();
    store.commit(&got).unwrap();
    let mut forged = got.entries[0].clone();
    assert!(
        forged.chunks.as_ref().is_some_and(|c| c.len() > 1),
        "stored in pieces"
    );
    forged.hash = strata_core::Hash::of(b"other content");
    let entries = vec![forged];
    for mode in [Mode::Mutable, Mode::ReadOnly] {
        let dest = dir.path().join(format!("copy-{mode:?}"));
        std::fs::create_dir_all(&dest).unwrap();
        let target = Target {
            dest: &dest,
            mode,
            pool: &dir.path().join("pool"),
            jobs: None,
        };
        let err = write_tree(&store, &entries, &target, &NoProgress, &Cancel::new())
            .unwrap_err()
            .to_string();
        assert!(err.contains("shard.bin") && err.contains("pieces"), "{err}");
        assert!(
            !dest.join("shard.bin").exists(),
            "{mode:?}: nothing written"
        );
    }
    let found =
        strata_store::verify::verify(&store, &entries, &NoProgress, &Cancel::new()).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, "shard.bin");
}

/// Ingest moves each scanned path into its entry: under a dataset folder (`--to`) the entries
/// carry the folder, the stat cache keeps paths relative to the scanned root, and a second
/// ingest of the unchanged folder reads nothing and makes the same entries.
#[test]
fn files_placed_under_a_dataset_folder_are_cached_by_their_own_path() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    for i in 0..20 {
        std::fs::write(data.join(format!("sub/{i:02}.txt")), format!("file {i}")).unwrap();
    }
    std::fs::write(data.join("top.txt"), "top").unwrap();
    // Older than the stat cache's racy window, so cached hashes are trusted below.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let store = Store::open(&dir.path().join("store")).unwrap();
    let opts = ScanOptions {
        prefix: "train/part1",
        ..ScanOptions::default()
    };
    let ingest_once = || {
        let mut scan = scan_folder(&data, &opts, &NoProgress).unwrap();
        let mut cache = StatCache::load(store.root(), &scan.root);
        let got = ingest_first(&store, &mut scan, &mut cache).unwrap();
        assert!(
            scan.files.is_empty(),
            "the scan's files moved into the entries"
        );
        store.commit(&got).unwrap();
        cache.save(scan.complete).unwrap();
        got
    };
    let first = ingest_once();
    assert_eq!(first.hashed_files, 21);
    let paths: Vec<&str> = first.entries.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths[0], "train/part1/sub/00.txt");
    assert_eq!(paths[20], "train/part1/top.txt");
    assert_eq!(first.entries[20].hash, strata_core::Hash::of(b"top"));
    let again = ingest_once();
    assert_eq!(again.hashed_files, 0, "every file vouched for by the cache");
    assert_eq!(again.entries, first.entries);
}

#[test]
fn holds_each_answers_in_order_as_locate_does() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("small.txt"), "small").unwrap();
    std::fs::write(data.join("large.bin"), vec![5u8; 3 << 20]).unwrap();
    let store = Store::open(&dir.path().join("store")).unwrap();
    let mut scan = scan_folder(&data, &ScanOptions::default(), &NoProgress).unwrap();
    let mut cache = StatCache::load(store.root(), &scan.root);
    let got = ingest_first(&store, &mut scan, &mut cache).unwrap();
    store.commit(&got).unwrap();
    let mut asked: Vec<(strata_core::Hash, u64)> =
        got.entries.iter().flat_map(|e| e.objects()).collect();
    let stored = asked.len();
    // Absent: a small one, and a large one the store has no pieces for.
    asked.insert(0, (strata_core::Hash::of(b"not stored"), 10));
    asked.push((strata_core::Hash::of(b"nor this"), 5 << 20));
    let held = store.holds_each(&asked).unwrap();
    let want: Vec<bool> = asked
        .iter()
        .map(|(h, size)| store.locate(h, *size).unwrap().is_some())
        .collect();
    assert_eq!(held, want);
    assert_eq!(held.iter().filter(|h| **h).count(), stored);
    assert!(!held[0] && !held[held.len() - 1]);
}
