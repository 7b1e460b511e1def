//! get: read-only cache, mutable copies, subsets, idempotence.

use std::os::unix::fs::MetadataExt;

use crate::support::{tree, Env};

#[test]
fn read_only_cache_is_hard_linked_read_only_and_reused() {
    let env = Env::new();
    env.images("data", 3, 30);
    env.write("data/big.bin", &vec![7u8; 3 << 20]);
    env.ok(&["snapshot", "d/x", "data"]);
    let first = env.json(&["get", "d/x"]);
    assert_eq!(first["reused"], false);
    let path = std::path::PathBuf::from(first["path"].as_str().unwrap());
    assert!(path.starts_with(env.home().join("cache")));
    assert_eq!(tree(&path), tree(&env.path("data")));
    let m = std::fs::metadata(path.join("class0/img00000.jpg")).unwrap();
    assert!(m.permissions().readonly(), "cached files are read-only");
    assert!(m.nlink() >= 2, "cached files are hard links");
    assert!(std::fs::metadata(path.join("big.bin"))
        .unwrap()
        .permissions()
        .readonly());
    let again = env.json(&["get", "d/x"]);
    assert_eq!(again["reused"], true);
    assert_eq!(again["path"], first["path"]);
    // Without --json only the path is printed.
    assert_eq!(env.ok(&["get", "d/x"]).line(), path.display().to_string());
}

#[test]
fn mutable_copy_is_independent_and_never_clobbers_without_overwrite() {
    let env = Env::new();
    env.images("data", 2, 8);
    env.write("data/big.bin", &vec![1u8; 2 << 20]);
    env.ok(&["snapshot", "d/x", "data"]);
    let out = env.path("work");
    let o = out.to_str().unwrap();
    env.ok(&["get", "d/x", "--to", o, "--mutable"]);
    assert_eq!(tree(&out), tree(&env.path("data")));
    let big = out.join("big.bin");
    assert!(!std::fs::metadata(&big).unwrap().permissions().readonly());
    // Editing the copy changes neither the store nor the cache.
    std::fs::write(&big, b"edited").unwrap();
    std::fs::write(out.join("class0/img00000.jpg"), b"edited").unwrap();
    env.ok(&["verify", "d/x"]);
    // Same arguments on an untouched copy: nothing to do.
    let fresh = env.path("fresh");
    let f = fresh.to_str().unwrap();
    env.ok(&["get", "d/x", "--to", f, "--mutable"]);
    assert_eq!(
        env.json(&["get", "d/x", "--to", f, "--mutable"])["reused"],
        true
    );
    // An edited copy is not silently replaced.
    let r = env.run(&["get", "d/x", "--to", o, "--mutable"]).fails();
    assert!(r.error().contains("--overwrite"), "{}", r.error());
    assert_eq!(std::fs::read(&big).unwrap(), b"edited");
    env.ok(&["get", "d/x", "--to", o, "--mutable", "--overwrite"]);
    assert_eq!(tree(&out), tree(&env.path("data")));
    // No staging folders are left beside the target.
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("strata-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let nomut = env.run(&["get", "d/x", "--mutable"]).fails();
    assert!(nomut.stderr().contains("--to"), "{}", nomut.stderr());
}

#[test]
fn subsets_by_glob_and_seeded_fraction_are_reproducible() {
    let env = Env::new();
    env.images("data/train", 4, 200);
    env.images("data/val", 4, 40);
    env.ok(&["snapshot", "d/x", "data"]);
    let inc = env.json(&["get", "d/x", "--include", "train/**", "--exclude", "class3"]);
    assert_eq!(inc["files"], 150);
    let a = env.json(&["get", "d/x", "--fraction", "0.1", "--seed", "42"]);
    assert_eq!(a["files"], 24);
    let b = env.path("b");
    env.ok(&[
        "get",
        "d/x",
        "--fraction",
        "0.1",
        "--seed",
        "42",
        "--to",
        b.to_str().unwrap(),
    ]);
    let a_tree = tree(std::path::Path::new(a["path"].as_str().unwrap()));
    assert_eq!(a_tree, tree(&b), "same seed, same files");
    let c = env.json(&["get", "d/x", "--fraction", "0.1", "--seed", "7"]);
    assert_ne!(
        a_tree,
        tree(std::path::Path::new(c["path"].as_str().unwrap()))
    );
    // Fraction after filters, and the same subset in a fresh home given the same content.
    let other = Env::new();
    other.images("data/train", 4, 200);
    other.images("data/val", 4, 40);
    other.ok(&["snapshot", "d/x", "data"]);
    let o = other.json(&["get", "d/x", "--fraction", "0.1", "--seed", "42"]);
    assert_eq!(
        a_tree,
        tree(std::path::Path::new(o["path"].as_str().unwrap()))
    );
    let bad = env.run(&["get", "d/x", "--fraction", "1.5"]).fails();
    assert!(bad.error().contains("--fraction"), "{}", bad.error());
}

#[test]
fn a_changed_draft_gets_a_fresh_cached_copy() {
    let env = Env::new();
    env.write("data/a.txt", b"a");
    env.ok(&["create", "d/x"]);
    env.ok(&["add", "d/x", "data"]);
    let first = env.json(&["get", "d/x@1.0.0"]);
    env.write("data/b.txt", b"b");
    env.ok(&["add", "d/x", "data"]);
    let second = env.json(&["get", "d/x@1.0.0"]);
    assert_eq!(second["reused"], false);
    assert_ne!(first["path"], second["path"]);
    assert_eq!(
        tree(std::path::Path::new(second["path"].as_str().unwrap())),
        tree(&env.path("data"))
    );
}

#[test]
fn folders_beside_the_target_that_strata_did_not_make_are_never_removed() {
    let env = Env::new();
    env.images("data", 2, 6);
    env.ok(&["snapshot", "d/x", "data"]);
    let parent = env.path("parent");
    // Look like staging folders, but are the user's: no lock file proves them ours.
    let token = "0123456789abcdef0123456789abcdef";
    let mine = [
        ".target.strata-tmp-12345".to_string(),
        "mine.strata-tmp-1".to_string(),
        format!(".target.strata-tmp-{token}"),
    ];
    for m in &mine {
        env.write(&format!("parent/{m}/precious.txt"), b"mine");
    }
    // A real leftover of a killed get: the name, the lock file with its token, nobody holding it.
    let other = "fedcba9876543210fedcba9876543210";
    env.write(&format!("parent/.old.strata-tmp-{other}/half.txt"), b"half");
    env.write(
        &format!("parent/.old.strata-tmp-{other}.lock"),
        format!("strata staging {other}\n").as_bytes(),
    );
    // A lock file whose process was killed before making its folder (or after placing it).
    let gone = "00112233445566778899aabbccddeeff";
    env.write(
        &format!("parent/.gone.strata-tmp-{gone}.lock"),
        format!("strata staging {gone}\n").as_bytes(),
    );
    // A file of the user's with such a name but other content stays.
    let lookalike = format!(".note.strata-tmp-{token}.lock");
    env.write(&format!("parent/{lookalike}"), b"mine");
    let target = parent.join("target");
    env.ok(&["get", "d/x", "--to", target.to_str().unwrap()]);
    env.ok(&["get", "d/x", "--to", target.to_str().unwrap()]);
    assert!(!parent
        .join(format!(".gone.strata-tmp-{gone}.lock"))
        .exists());
    for m in &mine {
        assert_eq!(
            std::fs::read(parent.join(m).join("precious.txt")).unwrap(),
            b"mine",
            "{m} was touched"
        );
    }
    assert!(!parent.join(format!(".old.strata-tmp-{other}")).exists());
    assert!(!parent
        .join(format!(".old.strata-tmp-{other}.lock"))
        .exists());
    // Nothing of our own is left beside the target either.
    let mut names: Vec<String> = std::fs::read_dir(&parent)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    let mut expected: Vec<String> = mine.to_vec();
    expected.push("target".into());
    expected.push(lookalike);
    expected.sort();
    assert_eq!(names, expected);
}
