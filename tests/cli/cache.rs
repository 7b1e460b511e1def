//! cache list / evict / pin.

use std::process::Stdio;
use std::time::Duration;

use crate::support::Env;

#[test]
fn evict_removes_least_recently_used_unpinned_copies() {
    let env = Env::new();
    env.images("a", 2, 50);
    env.images("b", 2, 60);
    env.ok(&["snapshot", "d/a", "a"]);
    env.ok(&["snapshot", "d/b", "b"]);
    env.ok(&["cache", "pin", "d/a"]);
    env.ok(&["get", "d/b"]);
    let list = env.json(&["cache", "list"]);
    assert_eq!(list["copies"].as_array().unwrap().len(), 2);
    assert!(list["disk_bytes"].as_u64().unwrap() > 0);
    let after = env.json(&["cache", "evict", "--max-size", "0"]);
    let left: Vec<&str> = after["copies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["d/a@1.0.0"], "the pinned copy stays");
    assert_eq!(after["evicted"].as_array().unwrap().len(), 1);
    // The pinned copy still works; the evicted one comes back on demand.
    env.ok(&["verify", "d/b"]);
    assert_eq!(env.json(&["get", "d/b"])["reused"], false);
    env.ok(&["cache", "unpin", "d/a"]);
    let after = env.json(&["cache", "evict", "--max-size", "1"]);
    assert_eq!(after["copies"].as_array().unwrap().len(), 0);
    assert_eq!(after["disk_bytes"], 0);
}

#[test]
fn a_leftover_of_a_killed_evict_never_fails_a_delete() {
    let env = Env::new();
    env.images("data", 4, 400);
    env.ok(&["snapshot", "d/x", "data"]);
    let copy = env.json(&["get", "d/x"]);
    let key = std::path::Path::new(copy["path"].as_str().unwrap())
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    // What a killed evict of this very copy left behind (the name earlier versions used too).
    env.write(
        &format!("home/cache/tmp/evict-{key}/class0/img00000.jpg"),
        b"half",
    );
    env.write("home/cache/tmp/trash-1-2-3/x.jpg", b"half");
    let deleted = env.run(&["delete", "d/x", "--json"]);
    assert!(
        deleted.out.status.success(),
        "delete failed: {}",
        deleted.stderr()
    );
    assert_eq!(env.catalog_state().as_array().unwrap().len(), 0);
    let list = env.json(&["cache", "list"]);
    assert_eq!(list["copies"].as_array().unwrap().len(), 0);
    let tmp = env.home().join("cache/tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().collect();
    assert!(left.is_empty(), "the trash was not finished: {left:?}");
}

#[test]
fn evict_killed_at_any_point_leaves_deletes_working() {
    let env = Env::new();
    for (round, ms) in [0u64, 5, 20, 60].iter().enumerate() {
        env.images("data", 8, 2000);
        env.write(&format!("data/round{round}.txt"), b"r");
        env.ok(&["snapshot", "d/x", "data"]);
        env.ok(&["get", "d/x"]);
        let mut child = env
            .cmd(&["cache", "evict", "--max-size", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(*ms));
        let _ = child.kill();
        let _ = child.wait();
        env.ok(&["delete", "d/x"]);
        env.ok(&["cache", "list"]);
    }
    assert_eq!(env.catalog_state().as_array().unwrap().len(), 0);
    let tmp = env.home().join("cache/tmp");
    let trash: Vec<_> = std::fs::read_dir(&tmp)
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with("g-"))
        .collect();
    assert!(
        trash.is_empty(),
        "trash left after a cache operation: {trash:?}"
    );
}
