//! Bad input gets one clear error line, a non-zero exit, and leaves catalog and store as they were.

use std::os::unix::ffi::OsStrExt;

use crate::support::Env;

/// Runs a failing command and checks nothing changed.
fn refused(env: &Env, args: &[&str], needle: &str) {
    let before = (env.catalog_state(), env.store_files());
    let r = env.run(args).fails();
    let line = r.error();
    assert!(
        line.contains(needle),
        "{args:?}: expected '{needle}' in: {line}"
    );
    assert_eq!(r.out.status.code(), Some(1));
    assert_eq!(
        (env.catalog_state(), env.store_files()),
        before,
        "{args:?} changed state"
    );
}

fn setup() -> Env {
    let env = Env::new();
    env.images("data", 2, 10);
    env.ok(&["snapshot", "d/x", "data"]);
    env.ok(&["create", "d/draft"]);
    env
}

#[test]
fn missing_paths_and_wrong_references() {
    let env = setup();
    refused(&env, &["add", "d/draft", "nope"], "No such file");
    refused(&env, &["snapshot", "d/x", "nope"], "No such file");
    refused(
        &env,
        &["snapshot", "d/x", "data/class0/img00000.jpg"],
        "is a file; give a folder",
    );
    refused(&env, &["show", "d/nothing"], "dataset not found: d/nothing");
    refused(&env, &["show", "d/x@9.9.9"], "version not found: d/x@9.9.9");
    refused(&env, &["show", "ffffffff"], "version not found");
    refused(&env, &["show", "cats"], "not a reference");
    refused(&env, &["get", "d/x@1.x"], "invalid semantic version");
    refused(&env, &["create", "nodataset"], "not a dataset name");
    refused(&env, &["create", "d/.hidden"], "invalid dataset name");
    refused(&env, &["add", "d/x", "data"], "only a draft can be changed");
}

#[test]
fn existing_target_without_overwrite() {
    let env = setup();
    env.write("busy/keep.txt", b"mine");
    refused(
        &env,
        &["get", "d/x", "--to", "busy", "--mutable"],
        "pass --overwrite",
    );
    assert_eq!(std::fs::read(env.path("busy/keep.txt")).unwrap(), b"mine");
    env.write("afile", b"x");
    refused(
        &env,
        &["get", "d/x", "--to", "afile", "--mutable"],
        "give a folder",
    );
}

#[test]
fn symlink_loops_and_non_utf8_names() {
    let env = setup();
    std::fs::create_dir_all(env.path("loop/sub")).unwrap();
    env.write("loop/sub/f.txt", b"f");
    std::os::unix::fs::symlink(env.path("loop"), env.path("loop/sub/back")).unwrap();
    refused(&env, &["snapshot", "d/x", "loop"], "symlink loop");
    refused(&env, &["add", "d/draft", "loop"], "symlink loop");

    let bad = env.path("weird");
    std::fs::create_dir_all(&bad).unwrap();
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff-name.txt");
    std::fs::write(bad.join(name), b"x").unwrap();
    refused(&env, &["snapshot", "d/x", "weird"], "not valid UTF-8");

    // Names a manifest may not hold (they could mislead a listing or a terminal): refused before
    // anything is stored, so no version is made that could not be read back.
    let odd = env.path("odd");
    std::fs::create_dir_all(&odd).unwrap();
    env.write("odd/fine.txt", b"fine");
    std::fs::write(odd.join("two\nlines.txt"), b"x").unwrap();
    refused(&env, &["snapshot", "d/odd", "odd"], "control character");
    refused(&env, &["add", "d/draft", "odd"], "control character");
    refused(
        &env,
        &[
            "add",
            "d/draft",
            odd.join("two\nlines.txt").to_str().unwrap(),
        ],
        "control character",
    );
    assert!(
        !env.run(&["show", "d/odd"]).out.status.success(),
        "no version"
    );
}

#[test]
fn unreadable_files() {
    let env = setup();
    env.write("locked/ok.txt", b"fine");
    // As root, permissions do not stop reads; a file whose read fails does (EIO on /proc/self/mem).
    let is_root = unsafe { libc::geteuid() } == 0;
    if is_root {
        std::os::unix::fs::symlink("/proc/self/mem", env.path("locked/mem")).unwrap();
    } else {
        let p = env.write("locked/secret.txt", b"s");
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    }
    refused(&env, &["snapshot", "d/x", "locked"], "cannot read");
    refused(&env, &["add", "d/draft", "locked"], "cannot read");
}

#[test]
fn bad_globs_and_sizes() {
    let env = setup();
    refused(&env, &["files", "d/x", "--glob", "a[b"], "invalid glob");
    refused(
        &env,
        &["cache", "evict", "--max-size", "lots"],
        "invalid size",
    );
    refused(&env, &["tag", "d/x", "+a,b"], "invalid tag");
}

#[test]
fn json_errors_carry_a_code() {
    let env = setup();
    let r = env.run(&["show", "d/nothing", "--json"]).fails();
    let doc: serde_json::Value = serde_json::from_slice(&r.out.stdout).unwrap();
    assert_eq!(doc["error"]["code"], "not_found");
}
