//! verify finds every corrupted file; gc removes only what no version needs.

use std::io::{Seek, SeekFrom, Write};

use crate::support::{tree, Env};

#[test]
fn verify_reports_every_mismatch() {
    let env = Env::new();
    env.images("data", 2, 20);
    env.write("data/big.bin", &vec![3u8; 2 << 20]);
    env.ok(&["snapshot", "d/x", "data"]);
    let clean = env.json(&["verify", "d/x"]);
    assert_eq!(clean["mismatches"].as_array().unwrap().len(), 0);
    assert_eq!(clean["files"], 21);

    // Flip a byte inside the first packed object, and rewrite the large object.
    let packs = env.home().join("store/packs");
    let pack = std::fs::read_dir(&packs)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let mut f = std::fs::OpenOptions::new().write(true).open(&pack).unwrap();
    f.seek(SeekFrom::Start(9)).unwrap();
    f.write_all(b"#").unwrap();
    let big_hash = env.json(&["files", "d/x", "--glob", "big.bin"])[0]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let loose = env
        .home()
        .join("store/objects")
        .join(&big_hash[..2])
        .join(&big_hash);
    std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    std::fs::write(&loose, vec![4u8; 2 << 20]).unwrap();

    let r = env.run(&["verify", "d/x"]).fails();
    let out = r.stdout();
    assert_eq!(
        out.lines().filter(|l| l.starts_with("MISMATCH")).count(),
        2,
        "{out}"
    );
    assert!(out.contains("MISMATCH big.bin"), "{out}");
    assert!(
        r.error().contains("2 of 21 files failed verification"),
        "{}",
        r.error()
    );
    let j = env.run(&["verify", "d/x", "--json"]).fails().json();
    assert_eq!(j["mismatches"].as_array().unwrap().len(), 2);
}

#[test]
fn gc_frees_deleted_versions_and_keeps_the_rest_whole() {
    let env = Env::new();
    env.images("data", 4, 200);
    env.write("data/big1.bin", &vec![1u8; 2 << 20]);
    env.ok(&["snapshot", "d/x", "data"]);
    for i in 0..100 {
        std::fs::remove_file(env.path(&format!("data/class{}/img{i:05}.jpg", i % 4))).unwrap();
    }
    std::fs::remove_file(env.path("data/big1.bin")).unwrap();
    env.write("data/big2.bin", &vec![2u8; 2 << 20]);
    env.ok(&["snapshot", "d/x", "data"]);
    env.ok(&["get", "d/x@1.0.0"]);
    let before = env.store_files();

    let dry = env.json(&["gc", "--dry-run"]);
    assert_eq!(dry["objects_removed"], 0, "everything is still referenced");
    env.ok(&["delete", "d/x@1.0.0", "--force"]);
    let dry = env.json(&["gc", "--dry-run"]);
    assert_eq!(dry["objects_removed"], 101);
    assert_eq!(env.store_files(), before, "a dry run removes nothing");
    let done = env.json(&["gc"]);
    assert_eq!(done["objects_removed"], 101);
    assert!(done["bytes_removed"].as_u64().unwrap() > 2 << 20);
    env.ok(&["verify", "d/x"]);
    let out = env.path("out");
    env.ok(&["get", "d/x", "--to", out.to_str().unwrap(), "--mutable"]);
    assert_eq!(tree(&out), tree(&env.path("data")));
    assert_eq!(
        env.json(&["gc"])["objects_removed"],
        0,
        "a second gc finds nothing"
    );
    assert_eq!(
        env.json(&["cache", "list"])["copies"]
            .as_array()
            .unwrap()
            .len(),
        0,
        "copies of deleted versions go"
    );
}

#[test]
fn content_is_stored_once_across_datasets() {
    let env = Env::new();
    env.images("data", 2, 50);
    env.write("data/big.bin", &vec![9u8; 2 << 20]);
    env.ok(&["snapshot", "d/a", "data"]);
    let n = env.store_files().len();
    env.ok(&["snapshot", "d/b", "data"]);
    env.ok(&["create", "d/c"]);
    env.ok(&["add", "d/c", "data"]);
    // Only new manifests (one per new content listing) appear; no content is stored twice.
    let added: Vec<String> = env
        .store_files()
        .into_iter()
        .filter(|f| !f.contains("/manifests/"))
        .collect();
    assert_eq!(added.len(), n - 1, "only the manifest differs: {added:?}");
}

/// A read-only get writes each pool file beside its final name and renames it there; what a
/// killed one leaves (`.x-…`) is removed by gc, and the copies stay whole.
#[test]
fn gc_removes_pool_files_a_killed_get_left_half_written() {
    let env = Env::new();
    env.images("data", 2, 10);
    env.ok(&["snapshot", "d/x", "data"]);
    let got = env.json(&["get", "d/x"]);
    let copy = std::path::PathBuf::from(got["path"].as_str().unwrap());
    let pool = env.home().join("cache/objects");
    let bucket = std::fs::read_dir(&pool)
        .unwrap()
        .flatten()
        .find(|d| d.file_name().len() == 2)
        .expect("a pool folder")
        .path();
    assert!(
        std::fs::read_dir(&bucket)
            .unwrap()
            .flatten()
            .all(|f| !f.file_name().to_string_lossy().starts_with('.')),
        "a finished get leaves no file being written"
    );
    let leftover = bucket.join(".x-0123456789abcdef");
    std::fs::write(&leftover, b"half").unwrap();
    let gc = env.json(&["gc"]);
    assert!(!leftover.exists(), "{gc}");
    assert_eq!(tree(&copy), tree(&env.path("data")));
    env.ok(&["verify", "d/x"]);
}

#[test]
fn a_pool_file_no_record_vouches_for_is_never_linked() {
    // What a get killed after naming a pool file, before recording it, leaves behind; here cut
    // short too, as a file written in place would be: the next get must re-extract every one.
    let env = Env::new();
    env.images("data", 2, 10);
    env.write("data/same-a.txt", b"twice");
    env.write("data/same-b.txt", b"twice");
    env.ok(&["snapshot", "d/x", "data"]);
    env.ok(&["get", "d/x"]);
    let pool = env.home().join("cache/objects");
    for name in ["records.db", "records.db-wal", "records.db-shm"] {
        let _ = std::fs::remove_file(pool.join(name));
    }
    let mut planted = 0;
    for bucket in std::fs::read_dir(&pool).unwrap().flatten() {
        if bucket.file_name().len() != 2 || !bucket.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(bucket.path()).unwrap().flatten() {
            let p = f.path();
            std::fs::remove_file(&p).unwrap();
            std::fs::write(&p, b"half").unwrap();
            let mut perm = std::fs::metadata(&p).unwrap().permissions();
            perm.set_readonly(true);
            std::fs::set_permissions(&p, perm).unwrap();
            planted += 1;
        }
    }
    assert!(planted > 0);
    let out = env.path("out");
    env.ok(&["get", "d/x", "--to", out.to_str().unwrap()]);
    assert_eq!(tree(&out), tree(&env.path("data")));
    let again = env.path("again");
    env.ok(&["get", "d/x", "--to", again.to_str().unwrap()]);
    assert_eq!(tree(&again), tree(&env.path("data")));
    env.ok(&["verify", "d/x"]);
}
