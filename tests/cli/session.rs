//! Offline sessions as one file: `export` on one home, `import` on another; a damaged, cut,
//! forged or interrupted session never leaves half an import behind.

use std::fs;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use strata_core::{Entry, Hash, Manifest};

use crate::support::{tree, Env};

/// A laptop's day, offline: a first version, a child with a tag and metadata, and a draft
/// that adds and removes files.
fn laptop() -> Env {
    let env = Env::new();
    env.images("data", 3, 60);
    env.write("data/big.bin", &vec![7u8; 3 << 20]);
    env.ok(&["--offline", "snapshot", "vision/cats", "data"]);
    env.write("data/class0/new.jpg", b"a new cat");
    env.ok(&[
        "--offline",
        "snapshot",
        "vision/cats",
        "data",
        "--tag",
        "reviewed",
    ]);
    env.ok(&[
        "--offline",
        "create",
        "vision/cats",
        "--parent",
        "vision/cats@1.0.1",
    ]);
    env.ok(&["--offline", "meta", "vision/cats@1.0.2", "labeller=\"ana\""]);
    env.write("more/extra.jpg", b"one more");
    env.ok(&[
        "--offline",
        "add",
        "vision/cats@1.0.2",
        "more/extra.jpg",
        "--to",
        "class1",
    ]);
    env.ok(&["--offline", "remove", "vision/cats@1.0.2", "class2/*"]);
    env
}

fn versions(env: &Env) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = env
        .catalog_state()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["semver"].as_str().unwrap().to_string(),
                v["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn copy_of(env: &Env, reference: &str, to: &str) -> Vec<(String, Vec<u8>)> {
    env.ok(&["get", reference, "--to", to]);
    tree(&env.path(to))
}

#[test]
fn a_session_carries_versions_drafts_lineage_and_content_to_another_home() {
    let laptop = laptop();
    let out = laptop.json(&["export", "vision/cats", "-o", "day.strata"]);
    assert_eq!(
        out["versions"],
        serde_json::json!([
            "vision/cats@1.0.0",
            "vision/cats@1.0.1",
            "vision/cats@1.0.2"
        ])
    );
    let file = laptop.path("day.strata");

    let desk = Env::new();
    let imported = desk.json(&["import", file.to_str().unwrap()]);
    let list = imported["versions"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|v| v["already_here"] == false));
    assert_eq!(versions(&desk), versions(&laptop));
    let shown = desk.json(&["show", "vision/cats@1.0.1"]);
    assert_eq!(shown["tags"], serde_json::json!(["reviewed"]));
    let draft = desk.json(&["show", "vision/cats@1.0.2"]);
    assert_eq!(draft["metadata"]["labeller"], "ana");
    assert_eq!(draft["state"], "draft");
    assert_eq!(
        draft["parents"],
        laptop.json(&["show", "vision/cats@1.0.2"])["parents"]
    );
    for r in [
        "vision/cats@1.0.0",
        "vision/cats@1.0.1",
        "vision/cats@1.0.2",
    ] {
        assert_eq!(copy_of(&desk, r, r), copy_of(&laptop, r, r), "{r}");
        desk.ok(&["verify", r]);
    }
    // Twice is once.
    let before = desk.catalog_state();
    // Asked to upload with no remote set up: said before anything is imported.
    let bare = Env::new();
    let err = bare
        .run(&["import", file.to_str().unwrap(), "--upload"])
        .fails()
        .error();
    assert!(err.contains("remote"), "{err}");
    assert!(bare.catalog_state().as_array().unwrap().is_empty());
    let again = desk.json(&["import", file.to_str().unwrap()]);
    assert!(again["versions"]
        .as_array()
        .unwrap()
        .iter()
        .all(|v| v["already_here"] == true));
    assert_eq!(again["new_objects"], 0);
    assert_eq!(desk.catalog_state(), before);

    // The draft is still a draft: it can be changed here, and a later import keeps that work.
    desk.write("late.jpg", b"late");
    desk.ok(&["add", "vision/cats@1.0.2", "late.jpg"]);
    let r = desk.run(&["import", file.to_str().unwrap()]).ok();
    assert!(r.stderr().contains("kept as it is here"), "{}", r.stderr());
    let files = desk.ok(&["files", "vision/cats@1.0.2"]).stdout();
    assert!(files.contains("late.jpg"), "{files}");
}

#[test]
fn finalize_on_import_and_a_number_this_home_used_is_renumbered() {
    let laptop = laptop();
    laptop.ok(&["export", "vision/cats", "-o", "day.strata"]);
    let desk = Env::new();
    desk.images("own", 2, 5);
    // This home numbered its own 1.0.0 .. 1.0.1 of the dataset already.
    desk.ok(&["snapshot", "vision/cats", "own"]);
    desk.write("own/x.jpg", b"x");
    desk.ok(&["snapshot", "vision/cats", "own"]);
    let run = desk
        .run(&[
            "import",
            laptop.path("day.strata").to_str().unwrap(),
            "--finalize",
            "--json",
        ])
        .ok();
    let doc = run.json();
    let renumbered: Vec<(String, String)> = doc["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| !v["renumbered_from"].is_null())
        .map(|v| {
            (
                v["renumbered_from"].as_str().unwrap().to_string(),
                v["semver"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Its own 1.0.0 and 1.0.1 keep their numbers; the session's three follow them.
    assert_eq!(
        renumbered,
        vec![
            ("1.0.0".into(), "1.0.2".into()),
            ("1.0.1".into(), "1.0.3".into()),
            ("1.0.2".into(), "1.0.4".into())
        ]
    );
    assert!(
        run.stderr()
            .contains("vision/cats@1.0.0 is vision/cats@1.0.2 here"),
        "{}",
        run.stderr()
    );
    assert_eq!(doc["finalized"], serde_json::json!(["vision/cats@1.0.4"]));
    let states: Vec<Value> = doc["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["state"].clone())
        .collect();
    assert!(states.iter().all(|s| s == "final"), "{states:?}");
}

#[test]
fn since_leaves_out_what_the_other_home_has() {
    let laptop = laptop();
    let desk = Env::new();
    laptop.ok(&["export", "vision/cats@1.0.0", "-o", "first.strata"]);
    desk.ok(&["import", laptop.path("first.strata").to_str().unwrap()]);

    let full = laptop.json(&["export", "vision/cats", "-o", "all.strata"]);
    let rest = laptop.json(&[
        "export",
        "vision/cats",
        "--since",
        "vision/cats@1.0.0",
        "-o",
        "rest.strata",
    ]);
    assert_eq!(
        rest["versions"],
        serde_json::json!(["vision/cats@1.0.1", "vision/cats@1.0.2"])
    );
    // The 3 MiB file and the 60 images are in 1.0.0: not sent again.
    assert!(rest["object_bytes"].as_u64().unwrap() < 1000, "{rest}");
    assert!(full["object_bytes"].as_u64().unwrap() > 3 << 20);

    // A home without 1.0.0 is told what it lacks, and imports nothing.
    let stranger = Env::new();
    let err = stranger
        .run(&["import", laptop.path("rest.strata").to_str().unwrap()])
        .fails()
        .error();
    assert!(err.contains("does not have"), "{err}");
    assert!(stranger.catalog_state().as_array().unwrap().is_empty());

    desk.ok(&["import", laptop.path("rest.strata").to_str().unwrap()]);
    assert_eq!(versions(&desk), versions(&laptop));
    assert_eq!(
        copy_of(&desk, "vision/cats@1.0.2", "a"),
        copy_of(&laptop, "vision/cats@1.0.2", "a")
    );
}

/// Every failed import leaves the home exactly as it was: no version, nothing new in use.
fn refused(env: &Env, file: &std::path::Path, expect: &str) {
    let before = env.catalog_state();
    let r = env.run(&["import", file.to_str().unwrap()]).fails();
    let err = r.error();
    assert!(err.contains(expect), "expected '{expect}' in: {err}");
    assert!(
        err.contains("nothing was imported") || expect == "does not have",
        "{err}"
    );
    assert_eq!(env.catalog_state(), before);
}

#[test]
fn a_cut_or_tampered_session_is_refused_whole() {
    let laptop = laptop();
    laptop.ok(&["export", "vision/cats", "-o", "day.strata"]);
    let good = fs::read(laptop.path("day.strata")).unwrap();
    let desk = Env::new();

    // Cut anywhere: in the header, among manifests, inside the large object, at the very end.
    for cut in [
        100,
        700,
        3000,
        good.len() / 2,
        good.len() - 1024,
        good.len() - 1,
    ] {
        let f = desk.write(&format!("cut{cut}.strata"), &good[..cut]);
        let err = desk.run(&["import", f.to_str().unwrap()]).fails().error();
        assert!(
            err.contains("truncated") || err.contains("cut short") || err.contains("not readable"),
            "cut at {cut}: {err}"
        );
        assert!(err.contains("nothing was imported"), "{err}");
        assert!(desk.catalog_state().as_array().unwrap().is_empty());
    }

    // One byte of content changed: the object no longer matches its name. (A fresh home: the
    // one above kept the objects of the attempts that read them whole, and skips them.)
    let fresh = Env::new();
    let mut bad = good.clone();
    let at = find(&bad, &[7u8; 4096]).expect("the large object");
    bad[at + 1000] = 8;
    refused(
        &fresh,
        &fresh.write("flip.strata", &bad),
        "does not match its hash",
    );
    let mut bad = good.clone();
    let at = find(&bad, b"class 1 image 4").expect("a small object");
    bad[at] = b'C';
    refused(
        &fresh,
        &fresh.write("flip2.strata", &bad),
        "does not match its hash",
    );

    // A forged record: same length, so the archive itself stays valid.
    let forged = replace_once(&good, b"\"state\": \"final\"", b"\"state\": \"fiNal\"");
    refused(&desk, &desk.write("state.strata", &forged), "state");
    let forged = replace_once(&good, b"\"vision/cats\"", b"\"../../../ca\"");
    refused(
        &desk,
        &desk.write("name.strata", &forged),
        "nothing was imported",
    );

    // Not a session at all.
    refused(
        &desk,
        &desk.write("notes.strata", b"hello\n"),
        "not a Strata session",
    );
    let other = std::process::Command::new("tar")
        .args(["-cf", "other.tar", "data"])
        .current_dir(laptop.dir.path())
        .status()
        .unwrap();
    assert!(other.success());
    refused(&desk, &laptop.path("other.tar"), "not a Strata session");

    // The good file still imports.
    desk.ok(&["import", laptop.path("day.strata").to_str().unwrap()]);
    assert_eq!(versions(&desk), versions(&laptop));
}

#[test]
fn a_session_naming_a_path_outside_its_folder_is_refused() {
    let env = Env::new();
    let evil = Manifest::from_entries(vec![Entry {
        path: "../../.bashrc".into(),
        size: 4,
        hash: Hash::of(b"evil"),
        link: None,
        chunks: None,
    }]);
    let encoded = evil.encode();
    let mh = Hash::of(&encoded);
    let header = serde_json::json!({
        "format": "strata-session", "version": 1, "created_at": 1, "created_by": "x@y",
        "objects": 1, "object_bytes": 4,
        "versions": [{
            "id": "a".repeat(32), "dataset": "p/evil", "semver": "1.0.0", "parents": [],
            "state": "final", "manifest": mh, "file_count": 1, "total_bytes": 4,
            "created_at": 1, "created_by": "x@y", "finalized_at": 1
        }]
    });
    let tar = ustar(&[
        ("strata-session.json", serde_json::to_vec(&header).unwrap()),
        (&format!("manifests/{}", mh.to_hex()), encoded),
        (
            &format!("objects/{}", Hash::of(b"evil").to_hex()),
            b"evil".to_vec(),
        ),
    ]);
    refused(
        &env,
        &env.write("evil.strata", &tar),
        "nothing was imported",
    );
    assert!(env
        .run(&["show", "p/evil"])
        .fails()
        .error()
        .contains("not found"));

    // The same file with a harmless path imports: the refusal was for the path alone.
    let fine = Manifest::from_entries(vec![Entry {
        path: "notes/bashrc".into(),
        size: 4,
        hash: Hash::of(b"evil"),
        link: None,
        chunks: None,
    }]);
    let encoded = fine.encode();
    let fh = Hash::of(&encoded);
    let mut header = header;
    header["versions"][0]["manifest"] = serde_json::json!(fh);
    let tar = ustar(&[
        ("strata-session.json", serde_json::to_vec(&header).unwrap()),
        (&format!("manifests/{}", fh.to_hex()), encoded),
        (
            &format!("objects/{}", Hash::of(b"evil").to_hex()),
            b"evil".to_vec(),
        ),
    ]);
    env.ok(&["import", env.write("fine.strata", &tar).to_str().unwrap()]);
    assert_eq!(
        copy_of(&env, "p/evil@1.0.0", "out"),
        vec![("notes/bashrc".into(), b"evil".to_vec())]
    );
}

#[test]
fn a_killed_import_leaves_nothing_or_everything_and_runs_again() {
    let laptop = Env::new();
    laptop.images("data/small", 4, 2000);
    for round in 0..3u8 {
        for i in 0..8u8 {
            laptop.write(
                &format!("data/r{round}/chunk{i}.bin"),
                &vec![round * 8 + i; 2 << 20],
            );
        }
        laptop.ok(&["snapshot", "big/set", "data"]);
    }
    laptop.ok(&["export", "big/set", "-o", "big.strata"]);
    let file = laptop.path("big.strata");
    let desk = Env::new();
    for ms in [5, 40, 120, 300, 600] {
        let mut child = desk
            .cmd(&["import", file.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(ms));
        let _ = child.kill();
        let _ = child.wait();
        // All three versions or none: the catalog takes them in one transaction, last.
        let n = desk.catalog_state().as_array().unwrap().len();
        assert!(n == 0 || n == 3, "{n} versions after a kill at {ms} ms");
        if n == 3 {
            break; // imported before the kill landed
        }
    }
    desk.ok(&["import", file.to_str().unwrap()]);
    for v in ["big/set@1.0.0", "big/set@1.0.1", "big/set@1.0.2"] {
        desk.ok(&["verify", v]);
    }
    assert_eq!(copy_of(&desk, "big/set", "a"), tree(&laptop.path("data")));
}

#[test]
fn export_refuses_what_it_cannot_carry() {
    let env = laptop();
    let err = env
        .run(&["export", "nope/none", "-o", "x.strata"])
        .fails()
        .error();
    assert!(err.contains("not found"), "{err}");
    assert!(!env.path("x.strata").exists());
    let err = env
        .run(&[
            "export",
            "vision/cats",
            "--since",
            "vision/cats@1.0.2",
            "-o",
            "x.strata",
        ])
        .fails()
        .error();
    assert!(err.contains("nothing to export"), "{err}");
    // A folder that does not exist: nothing left behind.
    env.run(&["export", "vision/cats", "-o", "no/such/dir/x.strata"])
        .fails();
    assert!(fs::read_dir(env.dir.path())
        .unwrap()
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().contains("partial")));
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn replace_once(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = find(hay, from)
        .unwrap_or_else(|| panic!("{} not in the file", String::from_utf8_lossy(from)));
    let mut out = hay.to_vec();
    out[at..at + from.len()].copy_from_slice(to);
    out
}

/// A minimal POSIX tar, written here so forged sessions need no tool.
fn ustar(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in members {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        h[100..108].copy_from_slice(b"0000644\0");
        h[108..116].copy_from_slice(b"0000000\0");
        h[116..124].copy_from_slice(b"0000000\0");
        h[124..136].copy_from_slice(format!("{:011o}\0", data.len()).as_bytes());
        h[136..148].copy_from_slice(b"00000000000\0");
        h[156] = b'0';
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}
