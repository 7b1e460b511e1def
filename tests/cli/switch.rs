//! Switching a mutable copy to another version in place: only the files that differ are touched,
//! and local edits no version holds are refused, or discarded by name with --overwrite.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use crate::support::{tree, Env};

/// d/x@1.0.0: 50 images and `extra/only.txt`; d/x@1.0.1: one image changed, one added, and
/// `extra/only.txt` removed (its folder with it).
fn two_versions(env: &Env) {
    env.images("data", 5, 50);
    env.write("data/extra/only.txt", b"only in 1.0.0");
    env.ok(&["snapshot", "d/x", "data"]);
    env.write("data/class1/img00001.jpg", b"relabelled in 1.0.1");
    env.write("data/class2/added.jpg", b"new in 1.0.1");
    std::fs::remove_dir_all(env.path("data/extra")).unwrap();
    env.ok(&["snapshot", "d/x", "data"]);
}

/// A fresh mutable copy of `reference`, to compare a switched folder with.
fn fresh(env: &Env, reference: &str, name: &str) -> Vec<(String, Vec<u8>)> {
    let dir = env.path(name);
    env.ok(&["get", reference, "--to", dir.to_str().unwrap(), "--mutable"]);
    tree(&dir)
}

/// (inode, mtime, ctime) of a file: all three stay when a file is left alone.
fn identity(p: &Path) -> (u64, i64, i64, i64, i64) {
    let m = std::fs::metadata(p).unwrap();
    (
        m.ino(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
    )
}

#[test]
fn switching_rewrites_only_the_files_that_differ() {
    let env = Env::new();
    two_versions(&env);
    let work = env.path("work");
    let w = work.to_str().unwrap();
    env.ok(&["get", "d/x@1.0.0", "--to", w, "--mutable"]);
    let untouched = work.join("class0/img00000.jpg");
    let before = identity(&untouched);

    // A folder that is another version is not replaced without being told to.
    let r = env
        .run(&["get", "d/x@1.0.1", "--to", w, "--mutable"])
        .fails();
    assert!(r.error().contains("--overwrite"), "{}", r.error());

    let g = env.json(&["get", "d/x@1.0.1", "--to", w, "--mutable", "--overwrite"]);
    assert_eq!(g["reused"], false);
    assert_eq!(g["written"], 2, "the changed and the added file: {g}");
    assert_eq!(g["removed"], 1, "{g}");
    assert_eq!(g["unchanged"], 49, "{g}");
    assert_eq!(g["discarded"], serde_json::json!([]), "{g}");
    assert!(g.get("warnings").is_none(), "nothing local was lost: {g}");
    assert_eq!(
        identity(&untouched),
        before,
        "an unchanged file was rewritten"
    );
    assert_eq!(tree(&work), fresh(&env, "d/x@1.0.1", "fresh101"));
    assert!(
        !work.join("extra").exists(),
        "a folder the switch emptied is removed"
    );
    let m = std::fs::metadata(work.join("class2/added.jpg")).unwrap();
    assert!(!m.permissions().readonly() && m.nlink() == 1);

    // Asking again changes nothing; switching back restores 1.0.0 just as well.
    let again = env.json(&["get", "d/x@1.0.1", "--to", w, "--mutable"]);
    assert_eq!(
        (again["reused"].as_bool(), again["written"].as_u64()),
        (Some(true), Some(0))
    );
    let back = env.json(&["get", "d/x@1.0.0", "--to", w, "--mutable", "--overwrite"]);
    assert_eq!(
        (back["written"].as_u64(), back["removed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(identity(&untouched), before);
    assert_eq!(tree(&work), fresh(&env, "d/x@1.0.0", "fresh100"));

    // Nothing of the switch is left beside or inside the folder.
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("strata-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let human = env
        .ok(&["get", "d/x@1.0.1", "--to", w, "--mutable", "--overwrite"])
        .stderr();
    assert!(
        human.contains("switched (2 written, 1 removed, 49 unchanged) to d/x@1.0.1"),
        "{human}"
    );
}

#[test]
fn local_edits_are_refused_and_with_overwrite_discarded_by_name() {
    let env = Env::new();
    two_versions(&env);
    let work = env.path("work");
    let w = work.to_str().unwrap();
    env.ok(&["get", "d/x@1.0.0", "--to", w, "--mutable"]);
    std::fs::write(work.join("class3/img00003.jpg"), b"my local edit").unwrap();
    std::fs::write(work.join("notes.txt"), b"my notes").unwrap();

    let r = env
        .run(&["get", "d/x@1.0.1", "--to", w, "--mutable", "--json"])
        .fails();
    let err = &r.json()["error"];
    assert_eq!(
        (err["kind"].as_str(), err["remedy"].as_str()),
        (Some("conflict"), Some("overwrite"))
    );
    assert_eq!(std::fs::read(work.join("notes.txt")).unwrap(), b"my notes");
    assert_eq!(
        std::fs::read(work.join("class3/img00003.jpg")).unwrap(),
        b"my local edit"
    );

    let run = env.run(&[
        "get",
        "d/x@1.0.1",
        "--to",
        w,
        "--mutable",
        "--overwrite",
        "--json",
    ]);
    let g = run.ok().json();
    // Only what no version holds is named: the files 1.0.0 and 1.0.1 differ in are not.
    assert_eq!(
        g["discarded"],
        serde_json::json!(["class3/img00003.jpg", "notes.txt"]),
        "{g}"
    );
    let warning = g["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.contains("discarded 2 local change(s)")
            && warning.contains("class3/img00003.jpg")
            && warning.contains("notes.txt"),
        "{g}"
    );
    assert_eq!(g["written"], 3, "{g}");
    assert_eq!(g["removed"], 2, "{g}");
    assert_eq!(tree(&work), fresh(&env, "d/x@1.0.1", "fresh101"));
}

#[test]
fn an_edit_kept_in_a_version_is_replaced_without_being_named() {
    let env = Env::new();
    two_versions(&env);
    let work = env.path("work");
    let w = work.to_str().unwrap();
    env.ok(&["get", "d/x@1.0.0", "--to", w, "--mutable"]);
    std::fs::write(work.join("class3/img00003.jpg"), b"kept edit").unwrap();
    // The working folder becomes d/x@1.0.2: its edit is now in a version.
    env.ok(&["snapshot", "d/x", w]);
    let g = env.json(&["get", "d/x@1.0.1", "--to", w, "--mutable", "--overwrite"]);
    assert_eq!(g["discarded"], serde_json::json!([]), "{g}");
    assert!(g.get("warnings").is_none(), "{g}");
    assert_eq!(tree(&work), fresh(&env, "d/x@1.0.1", "fresh101"));
    // ... and switching to 1.0.2 brings it back.
    env.ok(&["get", "d/x@1.0.2", "--to", w, "--mutable", "--overwrite"]);
    assert_eq!(
        std::fs::read(work.join("class3/img00003.jpg")).unwrap(),
        b"kept edit"
    );
}

#[test]
fn a_read_only_copy_asked_for_as_mutable_becomes_independent_files() {
    let env = Env::new();
    two_versions(&env);
    let dir = env.path("copy");
    let d = dir.to_str().unwrap();
    env.ok(&["get", "d/x@1.0.0", "--to", d]);
    assert!(std::fs::metadata(dir.join("class0/img00000.jpg"))
        .unwrap()
        .permissions()
        .readonly());
    // Same content, so no --overwrite is needed; but no file may stay linked into the cache.
    let g = env.json(&["get", "d/x@1.0.0", "--to", d, "--mutable"]);
    assert_eq!(g["reused"], false);
    assert_eq!(g["written"], 51, "{g}");
    assert_eq!(g["discarded"], serde_json::json!([]));
    for (rel, _) in tree(&dir) {
        let m = std::fs::metadata(dir.join(&rel)).unwrap();
        assert!(!m.permissions().readonly(), "{rel} is still read-only");
        assert_eq!(m.nlink(), 1, "{rel} is still linked");
    }
    env.ok(&["verify", "d/x@1.0.0"]);
}

#[test]
fn a_symlinked_folder_inside_is_never_written_through() {
    let env = Env::new();
    two_versions(&env);
    let work = env.path("work");
    let w = work.to_str().unwrap();
    env.ok(&["get", "d/x@1.0.0", "--to", w, "--mutable"]);
    // class1 (where 1.0.1 changes a file) now lives elsewhere, linked into the copy.
    let outside = env.path("outside/class1");
    std::fs::create_dir_all(env.path("outside")).unwrap();
    std::fs::rename(work.join("class1"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, work.join("class1")).unwrap();
    let before = std::fs::read(outside.join("img00001.jpg")).unwrap();

    env.ok(&["get", "d/x@1.0.1", "--to", w, "--mutable", "--overwrite"]);
    assert_eq!(tree(&work), fresh(&env, "d/x@1.0.1", "fresh101"));
    assert!(!std::fs::symlink_metadata(work.join("class1"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read(outside.join("img00001.jpg")).unwrap(),
        before,
        "a file outside the copy was changed"
    );
}

#[test]
fn a_version_file_a_folder_scan_would_skip_is_compared_too() {
    let env = Env::new();
    env.images("data", 2, 4);
    // Added by name: taken whatever its name, though a folder's scan may leave such names out.
    env.write("loose/notes.tmp", b"kept by name");
    env.ok(&["create", "d/x"]);
    env.ok(&["add", "d/x@1.0.0", "data"]);
    env.ok(&["add", "d/x@1.0.0", "loose/notes.tmp"]);
    env.ok(&["finalize", "d/x@1.0.0"]);
    let work = env.path("work");
    let w = work.to_str().unwrap();
    env.ok(&["get", "d/x@1.0.0", "--to", w, "--mutable"]);
    assert_eq!(
        std::fs::read(work.join("notes.tmp")).unwrap(),
        b"kept by name"
    );
    let again = env.json(&["get", "d/x@1.0.0", "--to", w, "--mutable"]);
    assert_eq!(again["reused"], true, "{again}");
    assert_eq!(again["unchanged"], 5, "{again}");
}
