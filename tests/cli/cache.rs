//! cache list / evict / pin.

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
