//! status: what a snapshot of a folder would record, with nothing made and nothing stored.

use crate::support::Env;

/// Lets the files just written age past the stat cache's racy window (a file changed within
/// 100 ms of a scan is hashed again next time), so a test can count the files hashed.
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(300));
}

#[test]
fn status_lists_what_a_snapshot_would_record_and_stores_nothing() {
    let env = Env::new();
    env.images("data", 3, 30);
    env.ok(&["snapshot", "d/x", "data"]);
    env.write("data/class0/img00000.jpg", b"relabelled");
    env.write("data/class1/new.jpg", b"new image");
    std::fs::remove_file(env.path("data/class2/img00002.jpg")).unwrap();
    let store = env.store_files();
    let catalog = env.catalog_state();

    let s = env.json(&["status", "data", "--dataset", "d/x"]);
    assert_eq!(s["against"], "d/x@1.0.0");
    assert_eq!(
        (s["added"].as_u64(), s["modified"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(s["removed"], 1);
    assert_eq!(s["unchanged"], 28);
    assert_eq!(s["added_paths"], serde_json::json!(["class1/new.jpg"]));
    assert_eq!(
        s["modified_paths"],
        serde_json::json!(["class0/img00000.jpg"])
    );
    assert_eq!(
        s["removed_paths"],
        serde_json::json!(["class2/img00002.jpg"])
    );
    assert_eq!(s["truncated"], false);
    assert_eq!(env.store_files(), store, "status stored content");
    assert_eq!(env.catalog_state(), catalog, "status made a version");

    // People read a summary and one line per path; a change is not a failure.
    let human = env.ok(&["status", "data", "--dataset", "d/x"]).stdout();
    let lines: Vec<&str> = human.lines().collect();
    assert_eq!(
        lines,
        [
            "1 added, 1 modified, 1 removed against d/x@1.0.0",
            "A class1/new.jpg",
            "M class0/img00000.jpg",
            "D class2/img00002.jpg",
        ]
    );

    // A snapshot records exactly that, and afterwards the folder is clean.
    settle();
    let snap = env.json(&["snapshot", "d/x", "data"]);
    assert_eq!(snap["changes"]["added"], 1);
    assert_eq!(snap["changes"]["modified"], 1);
    assert_eq!(snap["changes"]["removed"], 1);
    let clean = env.json(&["status", "data", "--dataset", "d/x"]);
    assert_eq!(clean["against"], "d/x@1.0.1");
    assert_eq!(
        clean["added"].as_u64().unwrap() + clean["modified"].as_u64().unwrap(),
        0
    );
    assert_eq!(clean["removed"], 0);
    assert_eq!(
        clean["hashed_files"], 0,
        "the stat cache answers for unchanged files"
    );
}

#[test]
fn a_dataset_without_a_version_has_everything_added() {
    let env = Env::new();
    env.images("data", 2, 6);
    let catalog = env.catalog_state();
    let s = env.json(&["status", "data", "--dataset", "d/new"]);
    assert_eq!(s["against"], serde_json::Value::Null);
    assert_eq!(s["added"], 6);
    assert_eq!(s["added_paths"].as_array().unwrap().len(), 6);
    let human = env.ok(&["status", "data", "--dataset", "d/new"]).line();
    assert!(
        human.starts_with("6 added, 0 modified, 0 removed against no version yet"),
        "{human}"
    );
    assert_eq!(env.catalog_state(), catalog, "status made a version");
}

#[test]
fn status_compares_with_the_newest_final_version_not_a_draft() {
    let env = Env::new();
    env.write("data/a.txt", b"a");
    env.ok(&["snapshot", "d/x", "data"]);
    env.ok(&["create", "d/x"]);
    env.write("other/b.txt", b"b");
    env.ok(&["add", "d/x@1.0.1", "other"]);
    let s = env.json(&["status", "data", "--dataset", "d/x"]);
    assert_eq!(s["against"], "d/x@1.0.0");
    assert_eq!(s["added"], 0);
    assert_eq!(s["removed"], 0);
}

#[test]
fn a_touched_file_is_read_once_and_is_not_a_change() {
    let env = Env::new();
    env.images("data", 2, 10);
    settle();
    env.ok(&["snapshot", "d/x", "data"]);
    let f = std::fs::File::options()
        .write(true)
        .open(env.path("data/class0/img00000.jpg"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
        .unwrap();
    drop(f);
    settle();
    let first = env.json(&["status", "data", "--dataset", "d/x"]);
    assert_eq!(first["hashed_files"], 1);
    assert_eq!(first["modified"], 0);
    // The hash read is kept: neither the next status nor a snapshot reads the file again.
    let again = env.json(&["status", "data", "--dataset", "d/x"]);
    assert_eq!(again["hashed_files"], 0);
    let snap = env.json(&["snapshot", "d/x", "data"]);
    assert_eq!(snap["created"], false);
    assert_eq!(snap["hashed_files"], 0);
}

#[test]
fn path_lists_are_cut_but_counts_are_whole() {
    let env = Env::new();
    for i in 0..1005 {
        env.write(&format!("data/f{i:04}.txt"), format!("{i}").as_bytes());
    }
    let s = env.json(&["status", "data", "--dataset", "d/x"]);
    assert_eq!(s["added"], 1005);
    assert_eq!(s["added_paths"].as_array().unwrap().len(), 1000);
    assert_eq!(s["truncated"], true);
    assert!(env
        .ok(&["status", "data", "--dataset", "d/x"])
        .stdout()
        .contains("each list stops at 1000 paths"));
}

#[test]
fn a_missing_folder_or_bad_dataset_name_fails_with_its_kind() {
    let env = Env::new();
    let r = env
        .run(&["status", "nowhere", "--dataset", "d/x", "--json"])
        .fails();
    assert_eq!(r.json()["error"]["kind"], "not_found", "{}", r.stdout());
    env.write("data/a.txt", b"a");
    let r = env
        .run(&["status", "data", "--dataset", "no-slash", "--json"])
        .fails();
    assert_eq!(r.json()["error"]["kind"], "invalid", "{}", r.stdout());
}
