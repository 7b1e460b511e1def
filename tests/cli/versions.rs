//! create, add, remove, sync, finalize, publish, snapshot, list, show, files, diff, log, squash,
//! delete, rename, move, meta, tag.

use crate::support::{tree, Env};

#[test]
fn semantic_versions_start_at_one_and_bump_the_patch() {
    let env = Env::new();
    let v1 = env.json(&["create", "vision/cats"]);
    assert_eq!(v1["semver"], "1.0.0");
    assert_eq!(v1["state"], "draft");
    let v2 = env.json(&["create", "vision/cats", "--version", "1.4.0"]);
    assert_eq!(v2["semver"], "1.4.0");
    let v3 = env.json(&["create", "vision/cats"]);
    assert_eq!(
        v3["semver"], "1.4.1",
        "auto-increment follows the highest version"
    );
    let dup = env
        .run(&["create", "vision/cats", "--version", "1.4.0"])
        .fails();
    assert!(
        dup.error().contains("1.4.0 of vision/cats already exists"),
        "{}",
        dup.error()
    );
    let bad = env
        .run(&["create", "vision/cats", "--version", "1.2.x"])
        .fails();
    assert!(
        bad.error().contains("invalid semantic version"),
        "{}",
        bad.error()
    );
}

#[test]
fn a_maxed_patch_number_has_no_successor_and_nothing_is_created() {
    let env = Env::new();
    // A number past what can be named again is refused outright.
    let e = env
        .run(&["create", "d/x", "--version", "1.0.18446744073709551615"])
        .fails()
        .error();
    assert!(e.contains("numbers above 4294967295"), "{e}");
    env.ok(&["create", "d/x", "--version", "1.0.4294967295"]);
    let before = env.catalog_state();
    let r = env.run(&["create", "d/x"]).fails();
    let e = r.error();
    assert!(
        e.contains("d/x@1.0.4294967295 has no next patch version") && e.contains("--version"),
        "{e}"
    );
    assert_eq!(
        env.catalog_state(),
        before,
        "the failed create changed the catalog"
    );
    // The way out the message gives works.
    let v = env.json(&["create", "d/x", "--version", "1.1.0"]);
    assert_eq!(v["semver"], "1.1.0");
}

#[test]
fn create_prints_the_id_and_nested_projects_work() {
    let env = Env::new();
    let id = env.ok(&["create", "team/vision/cats"]).line();
    assert_eq!(id.len(), 32);
    let show = env.json(&["show", &id[..8]]);
    assert_eq!(show["project"], "team/vision");
    assert_eq!(show["dataset"], "cats");
    let listed = env.json(&["list", "team"]);
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[test]
fn parents_merge_in_order_and_later_parents_win() {
    let env = Env::new();
    env.write("a/x.txt", b"from a");
    env.write("a/only-a.txt", b"a");
    env.write("b/x.txt", b"from b");
    let a = env.ok(&["create", "d/a"]).line();
    env.ok(&["add", &a, "a"]);
    let b = env.ok(&["create", "d/b"]).line();
    env.ok(&["add", &b, "b"]);
    let c = env.json(&["create", "d/c", "--parent", &a, "--parent", &b]);
    assert_eq!(c["parents"].as_array().unwrap().len(), 2);
    let out = env.path("out");
    // d/c has only a draft: named by its number.
    env.ok(&[
        "get",
        "d/c@1.0.0",
        "--to",
        out.to_str().unwrap(),
        "--mutable",
    ]);
    assert_eq!(std::fs::read(out.join("x.txt")).unwrap(), b"from b");
    assert!(out.join("only-a.txt").exists());
}

#[test]
fn add_with_to_globs_and_no_recursive() {
    let env = Env::new();
    env.write("src/top.csv", b"a,b\n");
    env.write("src/img/1.jpg", b"jpg1");
    env.write("src/img/2.png", b"png2");
    env.write("single.txt", b"one file");
    env.ok(&["create", "d/x"]);
    let c = env.json(&[
        "add", "d/x", "src", "--to", "train", "--glob", "*.jpg", "--glob", "*.csv",
    ]);
    assert_eq!(c["changes"]["added"], 2);
    env.json(&["add", "d/x", "single.txt", "--to", "docs/"]);
    env.json(&["add", "d/x", "src", "--to", "flat", "--no-recursive"]);
    let files: Vec<String> = env
        .json(&["files", "d/x", "--include-drafts"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        files,
        [
            "docs/single.txt",
            "flat/top.csv",
            "train/img/1.jpg",
            "train/top.csv"
        ]
    );
    // A changed file replaces its entry.
    env.write("single.txt", b"changed content");
    let c = env.json(&["add", "d/x", "single.txt", "--to", "docs"]);
    assert_eq!(c["changes"]["modified"], 1);
    assert_eq!(c["changes"]["added"], 0);
    let escape = env
        .run(&["add", "d/x", "single.txt", "--to", "../up"])
        .fails();
    assert!(escape.error().contains(".."), "{}", escape.error());
}

#[test]
fn remove_by_path_folder_and_glob() {
    let env = Env::new();
    env.images("data", 3, 30);
    env.write("data/labels.csv", b"f,c\n");
    env.ok(&["create", "d/x"]);
    env.ok(&["add", "d/x", "data"]);
    let c = env.json(&["remove", "d/x", "labels.csv"]);
    assert_eq!(c["changes"]["removed"], 1);
    let c = env.json(&["remove", "d/x", "class0"]);
    assert_eq!(c["changes"]["removed"], 10);
    let c = env.json(&["remove", "d/x", "class1/*.jpg"]);
    assert_eq!(c["changes"]["removed"], 10);
    assert_eq!(env.json(&["show", "d/x@1.0.0"])["file_count"], 10);
    let none = env.run(&["remove", "d/x", "nothing-here"]).fails();
    assert!(none.error().contains("not found"), "{}", none.error());
}

#[test]
fn sync_makes_the_draft_equal_to_the_folder() {
    let env = Env::new();
    env.images("data", 2, 10);
    env.ok(&["create", "d/x"]);
    env.ok(&["add", "d/x", "data"]);
    env.write("data/new.txt", b"new");
    env.write("data/class0/img00000.jpg", b"edited");
    std::fs::remove_file(env.path("data/class1/img00001.jpg")).unwrap();
    let c = env.json(&["sync", "d/x", "data"]);
    assert_eq!(
        (
            c["changes"]["added"].as_u64(),
            c["changes"]["modified"].as_u64(),
            c["changes"]["removed"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    let out = env.path("out");
    env.ok(&[
        "get",
        "d/x",
        "--include-drafts",
        "--to",
        out.to_str().unwrap(),
        "--mutable",
    ]);
    assert_eq!(tree(&out), tree(&env.path("data")));
}

#[test]
fn final_versions_cannot_change_but_can_be_published_and_tagged() {
    let env = Env::new();
    env.write("f.txt", b"x");
    env.ok(&["create", "d/x"]);
    env.ok(&["add", "d/x", "f.txt"]);
    let early = env.run(&["publish", "d/x@1.0.0"]).fails();
    assert!(early.error().contains("finalize it before publishing"));
    assert_eq!(env.json(&["finalize", "d/x"])["state"], "final");
    assert!(env.json(&["show", "d/x"])["finalized_at"].is_i64());
    for args in [
        vec!["add", "d/x", "f.txt"],
        vec!["remove", "d/x", "f.txt"],
        vec!["sync", "d/x", "."],
    ] {
        let r = env.run(&args).fails();
        assert!(
            r.error().contains("is final; only a draft can be changed"),
            "{args:?}: {}",
            r.error()
        );
    }
    // Metadata and the description describe a version, they are not its content: they may
    // change once it is final.
    assert_eq!(env.json(&["meta", "d/x", "k=1"])["k"], 1);
    env.ok(&["describe", "d/x", "checked by hand"]);
    assert_eq!(env.json(&["show", "d/x"])["description"], "checked by hand");
    assert_eq!(env.json(&["publish", "d/x"])["state"], "published");
    let tags = env.json(&["tag", "d/x", "+best", "gold", "-gold"]);
    assert_eq!(tags, serde_json::json!(["best"]));
    assert_eq!(
        env.json(&["list", "--tag", "best"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        env.json(&["list", "--tag", "nope"])
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn snapshot_makes_a_child_only_when_something_changed() {
    let env = Env::new();
    env.images("data", 4, 40);
    let first = env.json(&["snapshot", "d/x", "data", "--tag", "raw"]);
    assert_eq!(first["created"], true);
    assert_eq!(first["version"]["semver"], "1.0.0");
    assert_eq!(first["version"]["state"], "final");
    assert_eq!(first["version"]["tags"], serde_json::json!(["raw"]));
    let same = env.json(&["snapshot", "d/x", "data"]);
    assert_eq!(same["created"], false);
    assert_eq!(same["version"]["id"], first["version"]["id"]);
    env.write("data/class0/img00000.jpg", b"relabelled");
    env.write("data/class9/new.jpg", b"new");
    let second = env.json(&["snapshot", "d/x", "data"]);
    assert_eq!(second["version"]["semver"], "1.0.1");
    assert_eq!(second["version"]["parents"][0], first["version"]["id"]);
    assert_eq!(second["changes"]["modified"], 1);
    assert_eq!(second["changes"]["added"], 1);
    // The id alone is printed without --json.
    std::fs::remove_file(env.path("data/class9/new.jpg")).unwrap();
    let id = env.ok(&["snapshot", "d/x", "data"]).line();
    assert_eq!(env.json(&["show", &id])["semver"], "1.0.2");
}

#[test]
fn diff_and_log_show_what_changed_and_the_lineage() {
    let env = Env::new();
    env.images("data", 2, 6);
    env.ok(&["snapshot", "d/x", "data"]);
    env.write("data/class0/img00000.jpg", b"edited!");
    env.write("data/extra.txt", b"e");
    std::fs::remove_file(env.path("data/class1/img00001.jpg")).unwrap();
    env.ok(&["snapshot", "d/x", "data"]);
    let d = env.json(&["diff", "d/x@1.0.0", "d/x@1.0.1"]);
    assert_eq!(d["added"][0]["path"], "extra.txt");
    assert_eq!(d["removed"][0]["path"], "class1/img00001.jpg");
    assert_eq!(d["modified"][0]["path"], "class0/img00000.jpg");
    assert_eq!(d["totals"]["unchanged"], 4);
    let text = env.ok(&["diff", "d/x@1.0.0", "d/x"]).stdout();
    assert!(
        text.contains("+ extra.txt")
            && text.contains("- class1/img00001.jpg")
            && text.contains("~ class0/img00000.jpg"),
        "{text}"
    );
    // A merge of two lines of descent.
    env.ok(&[
        "create",
        "d/x",
        "--version",
        "2.0.0",
        "--parent",
        "d/x@1.0.0",
        "--parent",
        "d/x@1.0.1",
    ]);
    let log = env.ok(&["log", "d/x"]).stdout();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(
        lines[0].starts_with('*')
            && lines[0].contains("2.0.0")
            && lines[0].contains("merge of 1.0.0, 1.0.1"),
        "{log}"
    );
    assert!(
        lines[1].contains("1.0.1") && lines[2].contains("1.0.0"),
        "{log}"
    );
}

#[test]
fn squash_delete_rename_move() {
    let env = Env::new();
    env.write("a/1.txt", b"1");
    env.write("b/2.txt", b"2");
    let a = env.json(&["snapshot", "d/x", "a"])["version"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.write("a/3.txt", b"3");
    env.json(&["snapshot", "d/x", "a"]);
    let b = env.json(&["snapshot", "d/y", "b"])["version"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let s = env.json(&["squash", "d/all", &a, &b]);
    assert_eq!(s["file_count"], 2);
    assert_eq!(s["parents"], serde_json::json!([]));
    assert_eq!(s["metadata"]["squashed_from"], serde_json::json!([a, b]));

    let refused = env.run(&["delete", "d/x@1.0.0"]).fails();
    assert!(
        refused.error().contains("is a parent of d/x@1.0.1"),
        "{}",
        refused.error()
    );
    env.ok(&["delete", "d/x@1.0.0", "--force"]);
    assert_eq!(env.json(&["show", "d/x"])["parents"], serde_json::json!([]));
    env.ok(&["rename", "d/x", "renamed"]);
    env.ok(&["move", "d/renamed", "team/archive"]);
    let v = env.json(&["show", "team/archive/renamed"]);
    assert_eq!(v["semver"], "1.0.1");
    env.ok(&["delete", "d/y", "--all"]);
    let names: Vec<String> = env
        .json(&["list"])
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{}/{}",
                d["project"].as_str().unwrap(),
                d["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(names, ["d/all", "team/archive/renamed"]);
    let clash = env
        .run(&["rename", "team/archive/renamed", "renamed"])
        .fails();
    assert!(clash.error().contains("already exists"));
}

#[test]
fn metadata_reads_and_writes_json() {
    let env = Env::new();
    env.ok(&["create", "d/x"]);
    let m = env.json(&[
        "meta",
        "d/x",
        "lr=0.001",
        "classes=[\"cat\",\"dog\"]",
        "note=plain text",
    ]);
    assert_eq!(m["lr"], 0.001);
    assert_eq!(m["classes"][1], "dog");
    assert_eq!(m["note"], "plain text");
    assert_eq!(env.ok(&["meta", "d/x", "lr"]).line(), "0.001");
    let m = env.json(&["meta", "d/x", "note="]);
    assert!(m.get("note").is_none());
    env.ok(&["describe", "d/x", "first cut"]);
    assert_eq!(
        env.json(&["show", "d/x", "--include-drafts"])["description"],
        "first cut"
    );
}
