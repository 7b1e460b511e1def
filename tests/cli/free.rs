//! `free`: local content of versions a remote holds dropped, checked against the remote first,
//! and fetched back by `get`; `cache list` shows what each version holds here.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::support::{tree, Env};

/// A home with a shared folder as its default remote.
fn with_remote() -> (Env, PathBuf) {
    let env = Env::new();
    let shared = env.path("shared");
    env.ok(&[
        "remote",
        "add",
        "team",
        &format!("file://{}", shared.display()),
    ]);
    (env, shared)
}

fn holdings<'a>(list: &'a Value, version: &str) -> &'a Value {
    list["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .find(|v| v["version"] == version)
        .unwrap_or_else(|| panic!("{version} missing from cache list: {list}"))
}

fn store_bytes(env: &Env) -> u64 {
    env.store_files()
        .iter()
        .filter(|f| !f.contains("/manifests/"))
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum()
}

fn error_of(r: &crate::support::Run) -> (String, String) {
    let e = &r.json()["error"];
    (
        e["kind"].as_str().unwrap_or_default().to_string(),
        e["remedy"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn freed_content_comes_back_on_get_byte_identical_and_hash_checked() {
    let (env, shared) = with_remote();
    env.images("data", 3, 120);
    env.write("data/big.bin", &vec![7u8; 3 << 20]);
    env.ok(&["snapshot", "d/x", "data", "--upload"]);
    env.ok(&["get", "d/x"]);
    let before = env.json(&["cache", "list"]);
    let h = holdings(&before, "d/x@1.0.0");
    assert_eq!(h["local"], "complete");
    assert_eq!(h["local_files"], 121);
    assert_eq!(h["remote"], "team");
    assert_eq!(h["copies"].as_array().unwrap().len(), 1);
    let stored = store_bytes(&env);

    let freed = env.json(&["free", "d/x"]);
    assert_eq!(freed["freed"][0]["version"], "d/x@1.0.0");
    assert_eq!(freed["kept"].as_array().unwrap().len(), 0);
    assert!(
        freed["store_bytes"].as_u64().unwrap() > 3 << 20,
        "store bytes given back: {freed}"
    );
    assert!(freed["cache_bytes"].as_u64().unwrap() > 0, "{freed}");
    assert_eq!(
        freed["freed_bytes"].as_u64().unwrap(),
        freed["store_bytes"].as_u64().unwrap() + freed["cache_bytes"].as_u64().unwrap()
    );
    assert!(store_bytes(&env) < stored / 10, "the store still holds it");
    // Checking freed content is the remote's job: said in one plain sentence.
    let r = env.run(&["verify", "d/x"]).fails();
    assert!(
        r.stderr().contains(
            "d/x@1.0.0 has 0 of its 121 stored files here; the rest was freed and is on remote \
             'team' only (verify it there with --remote, or get it first)"
        ),
        "{}",
        r.stderr()
    );
    let after = env.json(&["cache", "list"]);
    let h = holdings(&after, "d/x@1.0.0");
    assert_eq!(h["local"], "none", "{after}");
    assert_eq!(h["local_files"], 0);
    assert_eq!(h["files"], 121);
    assert_eq!(
        after["copies"].as_array().unwrap().len(),
        0,
        "the copy went"
    );
    assert!(
        env.catalog_state().as_array().unwrap().len() == 1,
        "still listed"
    );

    let got = env.json(&["get", "d/x", "--to", "back"]);
    assert_eq!(got["fetched_objects"], 121);
    assert_eq!(tree(&env.path("back")), tree(&env.path("data")));
    env.ok(&["verify", "d/x"]);
    assert_eq!(
        holdings(&env.json(&["cache", "list"]), "d/x@1.0.0")["local"],
        "complete"
    );

    // What comes back is checked against its hash: a remote pack changed after the upload is
    // refused, not used.
    env.ok(&["free", "d/x"]);
    let pack = std::fs::read_dir(shared.join("strata/packs"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let mut body = std::fs::read(&pack).unwrap();
    body[10] ^= 0xff;
    std::fs::write(&pack, body).unwrap();
    let r = env.run(&["get", "d/x", "--to", "again", "--json"]).fails();
    assert_eq!(error_of(&r).0, "corrupt", "{}", r.stdout());
    assert!(!env.path("again").exists());
}

#[test]
fn the_only_copy_is_never_freed() {
    let (env, _) = with_remote();
    env.images("data", 2, 40);
    env.ok(&["snapshot", "d/x", "data"]);
    env.ok(&["create", "d/draft"]);
    env.ok(&["add", "d/draft@1.0.0", "data"]);
    for reference in ["d/x", "d/draft@1.0.0"] {
        let r = env.run(&["free", reference, "--json"]).fails();
        let (kind, _) = error_of(&r);
        assert_eq!(kind, "invalid", "{}", r.stdout());
        assert!(r.stdout().contains("only"), "{}", r.stdout());
    }
    let local = env.run(&["free", "d/x"]).fails();
    assert!(
        local.error().contains("strata upload d/x@1.0.0"),
        "{}",
        local.stderr()
    );
    // Queued for upload (made offline): pushing is what helps.
    env.ok(&["--offline", "snapshot", "d/q", "data", "--upload"]);
    let queued = env.run(&["free", "d/q", "--json"]).fails();
    assert_eq!(error_of(&queued), ("invalid".into(), "push".into()));
    let files = env.store_files();
    for reference in ["d/x", "d/q", "d/draft@1.0.0"] {
        env.run(&["free", reference]).fails();
    }
    assert_eq!(env.store_files(), files, "nothing was dropped");
    // Uploaded but pinned for use offline: kept until unpinned.
    env.ok(&["upload", "d/x"]);
    env.ok(&["cache", "pin", "d/x"]);
    let pinned = env.run(&["free", "d/x"]).fails();
    assert!(
        pinned.error().contains("cache unpin"),
        "{}",
        pinned.stderr()
    );
    env.ok(&["cache", "unpin", "d/x"]);
    env.ok(&["free", "d/x"]);
    env.ok(&["verify", "d/x"]);
}

#[test]
fn content_a_local_only_version_shares_is_kept() {
    let (env, _) = with_remote();
    env.images("data", 2, 60);
    env.ok(&["snapshot", "d/x", "data", "--upload"]);
    env.write("data/extra.txt", b"only in the second version");
    env.ok(&["snapshot", "d/x", "data"]);
    let r = env.json(&["free", "d/x@1.0.0", "d/x@1.0.1"]);
    let freed: Vec<&str> = r["freed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["version"].as_str().unwrap())
        .collect();
    assert_eq!(freed, ["d/x@1.0.0"]);
    assert_eq!(r["kept"][0]["version"], "d/x@1.0.1");
    assert!(
        r["kept"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("only copy"),
        "{r}"
    );
    assert_eq!(
        r["store_bytes"], 0,
        "every object is the local-only version's too"
    );
    assert!(r["freed"][0]["shared_kept_bytes"].as_u64().unwrap() > 0);
    env.ok(&["verify", "d/x@1.0.1"]);
    let list = env.json(&["cache", "list"]);
    assert_eq!(holdings(&list, "d/x@1.0.1")["local"], "complete");
    assert_eq!(holdings(&list, "d/x@1.0.0")["local"], "complete");
}

#[test]
fn free_offline_is_refused() {
    let (env, _) = with_remote();
    env.images("data", 2, 20);
    env.ok(&["snapshot", "d/x", "data", "--upload"]);
    let files = env.store_files();
    let r = env.run(&["--offline", "free", "d/x", "--json"]).fails();
    assert_eq!(
        error_of(&r),
        ("unavailable".to_string(), "go_online".to_string())
    );
    assert_eq!(env.store_files(), files);
}

#[test]
fn a_version_whose_pack_the_remote_lost_is_not_freed() {
    let (env, shared) = with_remote();
    env.images("a", 2, 30);
    env.ok(&["snapshot", "d/a", "a", "--upload"]);
    let packs = |dir: &PathBuf| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("strata/packs"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        v.sort();
        v
    };
    let first = packs(&shared);
    env.images("b", 3, 31);
    env.ok(&["snapshot", "d/b", "b", "--upload"]);
    let lost: Vec<PathBuf> = packs(&shared)
        .into_iter()
        .filter(|p| !first.contains(p))
        .collect();
    assert_eq!(lost.len(), 1, "d/b has a pack of its own");
    std::fs::remove_file(&lost[0]).unwrap();
    let name = lost[0].file_name().unwrap().to_string_lossy().to_string();

    let r = env.json(&["free", "d/a", "d/b"]);
    assert_eq!(r["freed"][0]["version"], "d/a@1.0.0");
    assert_eq!(r["freed"].as_array().unwrap().len(), 1);
    assert_eq!(r["kept"][0]["version"], "d/b@1.0.0");
    let reason = r["kept"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&name) && reason.contains("missing"),
        "{reason}"
    );
    env.ok(&["verify", "d/b"]);
    assert_eq!(
        holdings(&env.json(&["cache", "list"]), "d/b@1.0.0")["local"],
        "complete"
    );
    // Asked alone, it is an error naming it, on the remote that lacks it.
    let alone = env.run(&["free", "d/b"]).fails();
    assert!(alone.error().contains(&name), "{}", alone.stderr());
    let alone = env.run(&["free", "d/b", "--json"]).fails().json();
    assert_eq!(alone["error"]["kind"], "not_found", "{alone}");
    assert_eq!(alone["error"]["remote"], "team");
    assert_eq!(alone["error"]["remedy"], "verify");
}

#[test]
fn a_free_killed_at_any_point_leaves_every_version_whole_or_fetchable() {
    let (env, _) = with_remote();
    env.images("data", 8, 1500);
    env.write("data/big.bin", &vec![3u8; 3 << 20]);
    env.ok(&["snapshot", "d/x", "data", "--upload"]);
    env.images("local", 2, 50);
    env.ok(&["snapshot", "d/local", "local"]);
    for (round, ms) in [0u64, 5, 15, 30, 60, 120].iter().enumerate() {
        env.ok(&["get", "d/x"]);
        let mut child = env
            .cmd(&["free", "d/x"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn strata");
        std::thread::sleep(Duration::from_millis(*ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let to = format!("back{round}");
        env.ok(&["get", "d/x", "--to", &to]);
        assert_eq!(
            tree(&env.path(&to)),
            tree(&env.path("data")),
            "round {round} (killed after {ms} ms)"
        );
        env.ok(&["verify", "d/x"]);
        env.ok(&["verify", "d/local"]);
        std::fs::remove_dir_all(env.path(&to)).unwrap();
    }
    env.ok(&["gc"]);
    env.ok(&["free", "d/x"]);
    env.ok(&["get", "d/x", "--to", "last"]);
    assert_eq!(tree(&env.path("last")), tree(&env.path("data")));
}

#[test]
fn switching_a_copy_away_from_freed_content_discards_no_local_change() {
    let (env, _) = with_remote();
    env.images("data", 2, 20);
    env.write("data/notes.txt", b"first");
    env.ok(&["snapshot", "d/x", "data", "--upload"]);
    env.ok(&["get", "d/x@1.0.0", "--to", "work", "--mutable"]);
    env.write("data/notes.txt", b"second");
    env.ok(&["snapshot", "d/x", "data", "--upload"]);
    let freed = env.json(&["free", "d/x@1.0.0"]);
    assert!(freed["store_bytes"].as_u64().unwrap() > 0, "{freed}");
    // notes.txt in the folder holds 1.0.0's content, now only on the remote: not a local edit.
    let switched = env.json(&[
        "get",
        "d/x@1.0.1",
        "--to",
        "work",
        "--mutable",
        "--overwrite",
    ]);
    assert_eq!(switched["discarded"], serde_json::json!([]), "{switched}");
    assert_eq!(switched["written"], 1);
    assert_eq!(tree(&env.path("work")), tree(&env.path("data")));
}
