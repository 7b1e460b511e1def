//! Large files stored in content-defined pieces: an edit stores only the pieces it touched,
//! copies are assembled and checked, a damaged piece is named, and versions stored whole before
//! pieces existed keep working beside new ones.

use std::io::{Seek, SeekFrom, Write};

use crate::support::{noise, tree, Env};

fn stored(j: &serde_json::Value) -> u64 {
    j["stored_bytes"].as_u64().expect("stored_bytes")
}

#[test]
fn an_edit_inside_a_large_file_stores_only_the_pieces_it_touched() {
    let env = Env::new();
    let shard = noise(32 << 20, 1);
    env.write("data/shard.tar", &shard);
    env.write("data/notes.txt", b"v1");
    let first = env.json(&["snapshot", "d/x", "data"]);
    assert_eq!(stored(&first), (32 << 20) + 2, "{first}");
    assert!(
        env.store_files().iter().all(|f| !f.contains("/objects/")),
        "pieces are packed, not an object of their own"
    );

    let mut edited = shard.clone();
    edited[20_000_000..20_004_096].copy_from_slice(&noise(4096, 2));
    env.write("data/shard.tar", &edited);
    let second = env.json(&["snapshot", "d/x", "data"]);
    assert_eq!(second["changes"]["modified"], 1, "{second}");
    let s = stored(&second);
    assert!(s > 4096 && s <= 2 << 20, "a 4 KB edit stored {s} bytes");

    // A file moved elsewhere in the folder is known by its content: nothing is stored again.
    std::fs::rename(env.path("data/shard.tar"), env.path("data/moved.tar")).unwrap();
    let moved = env.json(&["snapshot", "d/x", "data"]);
    assert_eq!(stored(&moved), 0, "{moved}");
    std::fs::rename(env.path("data/moved.tar"), env.path("data/shard.tar")).unwrap();
    env.ok(&["snapshot", "d/x", "data"]);

    // Both versions come back byte for byte, mutable and read-only.
    env.ok(&["get", "d/x@1.0.0", "--to", "v1", "--mutable"]);
    assert_eq!(std::fs::read(env.path("v1/shard.tar")).unwrap(), shard);
    let ro = env.json(&["get", "d/x@1.0.1"]);
    let ro = std::path::PathBuf::from(ro["path"].as_str().unwrap());
    assert_eq!(std::fs::read(ro.join("shard.tar")).unwrap(), edited);
    for v in ["d/x@1.0.0", "d/x@1.0.1", "d/x@1.0.2", "d/x@1.0.3"] {
        env.ok(&["verify", v]);
    }
    // The folder switched in place to 1.0.0: only the shard changes, and the unchanged file
    // that is stored in pieces is not taken for a local edit.
    env.ok(&["get", "d/x@1.0.1", "--to", "work", "--mutable"]);
    let switched = env.json(&[
        "get",
        "d/x@1.0.0",
        "--to",
        "work",
        "--mutable",
        "--overwrite",
    ]);
    assert_eq!(tree(&env.path("work")), tree(&env.path("v1")), "{switched}");

    // gc after 1.0.0 is deleted drops the pieces only it used, and keeps the rest whole.
    env.ok(&["delete", "d/x@1.0.0", "--force"]);
    let gc = env.json(&["gc"]);
    assert!(gc["bytes_removed"].as_u64().unwrap() > 0, "{gc}");
    assert!(gc["bytes_removed"].as_u64().unwrap() <= 2 << 20, "{gc}");
    env.ok(&["verify", "d/x@1.0.1"]);
    env.ok(&["get", "d/x@1.0.1", "--to", "after-gc", "--mutable"]);
    assert_eq!(
        std::fs::read(env.path("after-gc/shard.tar")).unwrap(),
        edited
    );
}

#[test]
fn a_damaged_piece_is_named_by_verify_and_refused_by_get() {
    let env = Env::new();
    env.write("data/shard.tar", &noise(12 << 20, 3));
    env.ok(&["snapshot", "d/x", "data"]);
    let pack = std::fs::read_dir(env.home().join("store/packs"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let mut f = std::fs::OpenOptions::new().write(true).open(&pack).unwrap();
    f.seek(SeekFrom::Start(5 << 20)).unwrap();
    f.write_all(b"#").unwrap();
    drop(f);

    let r = env.run(&["verify", "d/x"]).fails();
    let line = r
        .stdout()
        .lines()
        .find(|l| l.starts_with("MISMATCH"))
        .map(str::to_string)
        .unwrap_or_default();
    assert!(
        line.contains("shard.tar") && line.contains("piece") && line.contains("does not match"),
        "{}",
        r.stdout()
    );
    let err = env
        .run(&["get", "d/x", "--to", "copy", "--mutable"])
        .fails()
        .error();
    assert!(err.contains("shard.tar"), "{err}");
    assert!(!env.path("copy").exists(), "no copy from a damaged piece");
}

/// A home whose versions stored large files whole (as every version made before pieces existed
/// did) keeps reading them; new content is cut into pieces beside them, an unchanged large file
/// keeps its whole object, and gc keeps both kinds apart.
#[test]
fn versions_stored_whole_keep_working_beside_pieces() {
    let mut old = Env::new();
    old.vars.push(("STRATA_CHUNKED_MIN".into(), "off".into()));
    let a = noise(10 << 20, 4);
    let b = noise(9 << 20, 5);
    old.write("data/a.bin", &a);
    old.write("data/b.bin", &b);
    old.ok(&["snapshot", "d/x", "data"]);
    let objects = |env: &Env| {
        env.store_files()
            .iter()
            .filter(|f| f.contains("/objects/"))
            .count()
    };
    assert_eq!(objects(&old), 2, "stored whole");

    // The same home, now cutting large files: b edited, a untouched.
    old.vars.clear();
    let env = old;
    // a rewritten with the same bytes: read again (its stat moved), it keeps its whole object.
    env.write("data/a.bin", &a);
    let mut b2 = b.clone();
    b2[1_000_000..1_004_096].copy_from_slice(&noise(4096, 6));
    env.write("data/b.bin", &b2);
    let snap = env.json(&["snapshot", "d/x", "data"]);
    let s = stored(&snap);
    assert!(
        s == 9 << 20,
        "the edited file is stored once in pieces, the rewritten one not again: {s}"
    );
    assert_eq!(objects(&env), 2, "the old objects stay");
    let no_change = env.json(&["snapshot", "d/x", "data"]);
    assert_eq!(no_change["created"], false, "{no_change}");

    env.ok(&["get", "d/x@1.0.0", "--to", "old", "--mutable"]);
    env.ok(&["get", "d/x@1.0.1", "--to", "new", "--mutable"]);
    assert_eq!(std::fs::read(env.path("old/b.bin")).unwrap(), b);
    assert_eq!(std::fs::read(env.path("new/b.bin")).unwrap(), b2);
    assert_eq!(std::fs::read(env.path("new/a.bin")).unwrap(), a);
    env.ok(&["verify", "d/x@1.0.0"]);
    env.ok(&["verify", "d/x@1.0.1"]);

    // Deleting the old version frees b's whole object; a's is still used by 1.0.1.
    env.ok(&["delete", "d/x@1.0.0", "--force"]);
    env.ok(&["gc"]);
    assert_eq!(objects(&env), 1);
    env.ok(&["verify", "d/x@1.0.1"]);
    env.ok(&["get", "d/x@1.0.1", "--to", "after-gc", "--mutable"]);
    assert_eq!(tree(&env.path("after-gc")), tree(&env.path("new")));
}

/// A session carries a file stored in pieces as its pieces, and `--since` leaves out the pieces
/// the other side has.
#[test]
fn sessions_carry_pieces_and_leave_out_those_the_other_side_has() {
    let laptop = Env::new();
    let shard = noise(16 << 20, 7);
    laptop.write("data/shard.tar", &shard);
    laptop.ok(&["snapshot", "d/x", "data"]);
    let mut edited = shard.clone();
    edited[8_000_000..8_004_096].copy_from_slice(&noise(4096, 8));
    laptop.write("data/shard.tar", &edited);
    laptop.ok(&["snapshot", "d/x", "data"]);
    laptop.ok(&["export", "d/x@1.0.0", "-o", "base.strata"]);
    laptop.ok(&[
        "export",
        "d/x",
        "--since",
        "d/x@1.0.0",
        "-o",
        "delta.strata",
    ]);
    let delta = std::fs::metadata(laptop.path("delta.strata"))
        .unwrap()
        .len();
    assert!(
        delta < 2 << 20,
        "the delta carries only new pieces: {delta} bytes"
    );
    // A session with pieces says so in its layout number (a Strata from before pieces refuses
    // it with "update Strata"); one without is still written as layout 1.
    laptop.write("small/a.txt", b"tiny");
    laptop.ok(&["snapshot", "d/small", "small"]);
    laptop.ok(&["export", "d/small", "-o", "small.strata"]);
    let layout = |file: &str| {
        let out = std::process::Command::new("tar")
            .args(["-xOf", file, "strata-session.json"])
            .current_dir(laptop.path(""))
            .output()
            .expect("tar");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("header")["version"].clone()
    };
    assert_eq!(layout("base.strata"), 2);
    assert_eq!(layout("small.strata"), 1);

    let desk = Env::new();
    let base = laptop.path("base.strata");
    let delta = laptop.path("delta.strata");
    desk.ok(&["import", base.to_str().unwrap()]);
    desk.ok(&["import", delta.to_str().unwrap()]);
    desk.ok(&["get", "d/x@1.0.1", "--to", "copy", "--mutable"]);
    assert_eq!(std::fs::read(desk.path("copy/shard.tar")).unwrap(), edited);
    desk.ok(&["verify", "d/x@1.0.1"]);
}
