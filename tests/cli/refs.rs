//! What a reference names: `project/name` never reaches a draft someone is editing unless asked
//! (`--include-drafts`, `@SEMVER`, an id, a tag), `--published` only published versions,
//! `project/name:TAG` the newest tagged one; ClearML's short versions (`1.0`, `2`) and
//! `create --output REMOTE`.

use crate::support::Env;

/// vision/cats: final 1.0.0 holding `a.txt`, and a draft 1.0.1 on top of it that adds `b.txt`
/// (someone is still editing it).
fn final_under_a_draft(env: &Env) {
    env.write("a.txt", b"one");
    env.write("b.txt", b"two");
    env.ok(&["create", "vision/cats"]);
    env.ok(&["add", "vision/cats", "a.txt"]);
    env.ok(&["finalize", "vision/cats"]);
    env.ok(&["create", "vision/cats", "--parent", "vision/cats"]);
    // A plain name in a command that edits a draft reaches the draft being built.
    env.ok(&["add", "vision/cats", "b.txt"]);
}

fn paths(files: &serde_json::Value) -> Vec<String> {
    files
        .as_array()
        .expect("a list of entries")
        .iter()
        .map(|e| e["path"].as_str().expect("a path").to_string())
        .collect()
}

#[test]
fn a_training_job_never_reads_the_draft_someone_is_editing() {
    let env = Env::new();
    final_under_a_draft(&env);
    let draft = env.json(&["show", "vision/cats@1.0.1"]);
    assert_eq!(draft["state"], "draft");
    assert_eq!(
        paths(&env.json(&["files", "vision/cats@1.0.1"])),
        ["a.txt", "b.txt"],
        "the draft was built from its parent"
    );

    let shown = env.json(&["show", "vision/cats"]);
    assert_eq!(shown["semver"], "1.0.0", "show picked {}", shown["semver"]);
    assert_eq!(paths(&env.json(&["files", "vision/cats"])), ["a.txt"]);
    let got = env.json(&["get", "vision/cats"]);
    assert_eq!(got["version"], "vision/cats@1.0.0", "{got}");
    let copy = std::path::PathBuf::from(got["path"].as_str().expect("a path"));
    assert!(copy.join("a.txt").exists() && !copy.join("b.txt").exists());
    let same = env.json(&["diff", "vision/cats@1.0.0", "vision/cats"]);
    assert_eq!(
        same["added"].as_array().map(Vec::len),
        Some(0),
        "diff compared against the draft: {same}"
    );
    let e = env
        .run(&["preview", "vision/cats", "b.txt"])
        .fails()
        .error();
    assert!(e.contains("not found: vision/cats@1.0.0/b.txt"), "{e}");
    let stats = env.json(&["stats", "vision/cats"]);
    assert_eq!(
        stats["version"], "vision/cats@1.0.0",
        "{}",
        stats["version"]
    );
    assert!(
        env.ok(&["log", "vision/cats"])
            .stdout()
            .lines()
            .any(|l| l.contains("1.0.0") && l.contains("<- vision/cats")),
        "log marks what the name stands for"
    );

    // Asked for, the draft is reached: by --include-drafts, by number, by id.
    let with = env.json(&["show", "vision/cats", "--include-drafts"]);
    assert_eq!(with["semver"], "1.0.1");
    assert_eq!(
        paths(&env.json(&["files", "--include-drafts", "vision/cats"])),
        ["a.txt", "b.txt"]
    );
    let got = env.json(&["get", "vision/cats", "--include-drafts"]);
    assert_eq!(got["version"], "vision/cats@1.0.1");
    let seen = env.json(&["preview", "vision/cats", "b.txt", "--include-drafts"]);
    assert_eq!(seen["text"], "two", "{seen}");
    let diff = env.json(&[
        "diff",
        "vision/cats@1.0.0",
        "vision/cats",
        "--include-drafts",
    ]);
    assert_eq!(diff["added"][0]["path"], "b.txt");
    assert_eq!(env.json(&["show", "vision/cats@1.0.1"])["semver"], "1.0.1");
    let id = draft["id"].as_str().expect("an id");
    assert_eq!(env.json(&["show", &id[..8]])["semver"], "1.0.1");
}

#[test]
fn published_names_the_newest_published_version_or_says_there_is_none() {
    let env = Env::new();
    final_under_a_draft(&env);
    let none = env.run(&["show", "vision/cats", "--published"]).fails();
    let e = none.error();
    assert!(
        e.contains("vision/cats has no published version")
            && e.contains("newest final one is vision/cats@1.0.0"),
        "{e}"
    );
    let doc = env
        .run(&["show", "vision/cats", "--published", "--json"])
        .fails()
        .json();
    assert_eq!(doc["error"]["kind"], "not_found", "{doc}");

    env.ok(&["publish", "vision/cats"]);
    // A newer final one does not move --published; it does move the plain name.
    env.ok(&["finalize", "vision/cats@1.0.1"]);
    assert_eq!(env.json(&["show", "vision/cats"])["semver"], "1.0.1");
    let p = env.json(&["show", "vision/cats", "--published"]);
    assert_eq!(
        (p["semver"].as_str(), p["state"].as_str()),
        (Some("1.0.0"), Some("published"))
    );
    assert_eq!(
        env.json(&["get", "--published", "vision/cats"])["version"],
        "vision/cats@1.0.0"
    );

    let both = env
        .run(&["show", "vision/cats", "--published", "--include-drafts"])
        .fails();
    assert!(
        both.stderr().contains("cannot be used with"),
        "{}",
        both.stderr()
    );
}

#[test]
fn a_dataset_with_only_drafts_says_how_to_reach_them() {
    let env = Env::new();
    env.ok(&["create", "vision/cats", "--version", "1.0.1"]);
    for cmd in [&["get", "vision/cats"][..], &["show", "vision/cats"]] {
        let r = env.run(cmd).fails();
        let e = r.error();
        assert!(
            e.contains("vision/cats has only drafts (1.0.1): name one as vision/cats@1.0.1")
                && e.contains("--include-drafts"),
            "{cmd:?}: {e}"
        );
    }
    let mut args = vec!["show", "vision/cats", "--json"];
    let doc = env.run(&args).fails().json();
    assert_eq!(doc["error"]["kind"], "not_found", "{doc}");
    assert_eq!(doc["error"]["remedy"], "include_drafts", "{doc}");
    args.push("--include-drafts");
    assert_eq!(env.ok(&args).json()["semver"], "1.0.1");
    // Nothing at all is still "not found", with no remedy to offer.
    let doc = env.run(&["show", "vision/dogs", "--json"]).fails().json();
    assert_eq!(doc["error"]["kind"], "not_found");
    assert!(doc["error"]["remedy"].is_null(), "{doc}");
}

#[test]
fn a_tag_names_the_newest_version_carrying_it() {
    let env = Env::new();
    env.write("a.txt", b"one");
    for v in ["1.0.0", "1.1.0", "1.2.0"] {
        env.ok(&["create", "vision/cats", "--version", v, "--tag", "nightly"]);
        env.ok(&["finalize", &format!("vision/cats@{v}")]);
    }
    env.ok(&["tag", "vision/cats@1.1.0", "+best"]);
    env.ok(&["tag", "vision/cats@1.0.0", "+best"]);
    assert_eq!(env.json(&["show", "vision/cats:best"])["semver"], "1.1.0");
    assert_eq!(
        env.json(&["get", "vision/cats:best"])["version"],
        "vision/cats@1.1.0"
    );
    // A tag is an explicit choice: it reaches a draft too.
    env.ok(&[
        "create",
        "vision/cats",
        "--version",
        "1.3.0",
        "--tag",
        "best",
    ]);
    assert_eq!(env.json(&["show", "vision/cats:best"])["semver"], "1.3.0");
    // ... but not past --published.
    let e = env
        .run(&["show", "vision/cats:best", "--published"])
        .fails()
        .error();
    assert!(
        e.contains("no published version of vision/cats carries the tag 'best'"),
        "{e}"
    );
    env.ok(&["publish", "vision/cats@1.0.0"]);
    assert_eq!(
        env.json(&["show", "vision/cats:best", "--published"])["semver"],
        "1.0.0"
    );
    let e = env.run(&["show", "vision/cats:gold"]).fails().error();
    assert!(
        e.contains("no version of vision/cats carries the tag 'gold'"),
        "{e}"
    );
    let e = env.run(&["show", "vision/cats:a,b"]).fails().error();
    assert!(e.contains("invalid tag"), "{e}");
}

#[test]
fn create_with_a_parent_name_takes_the_newest_final_version() {
    let env = Env::new();
    final_under_a_draft(&env);
    let child = env.json(&["create", "vision/kittens", "--parent", "vision/cats"]);
    let parent = env.json(&["show", "vision/cats@1.0.0"]);
    assert_eq!(child["parents"][0], parent["id"], "{child}");
    assert_eq!(
        paths(&env.json(&["files", &child["id"].as_str().unwrap()[..12]])),
        ["a.txt"]
    );
    let with = env.json(&[
        "create",
        "vision/tigers",
        "--parent",
        "vision/cats",
        "--include-drafts",
    ]);
    assert_eq!(
        paths(&env.json(&["files", "vision/tigers", "--include-drafts"])),
        ["a.txt", "b.txt"],
        "{with}"
    );
}

#[test]
fn short_versions_are_padded_and_garbage_is_refused() {
    let env = Env::new();
    assert_eq!(
        env.json(&["create", "vision/cats", "--version", "1.0"])["semver"],
        "1.0.0"
    );
    assert_eq!(
        env.json(&["create", "vision/cats", "--version", "2"])["semver"],
        "2.0.0"
    );
    assert_eq!(env.json(&["show", "vision/cats@1.0"])["semver"], "1.0.0");
    assert_eq!(env.json(&["show", "vision/cats@2"])["semver"], "2.0.0");
    for bad in ["1.x", "v1", "1..0", "1.0.0.0", ""] {
        let before = env.catalog_state();
        let e = env
            .run(&["create", "vision/cats", "--version", bad])
            .fails()
            .error();
        assert!(e.contains("invalid semantic version"), "{bad:?}: {e}");
        assert_eq!(env.catalog_state(), before, "{bad:?} created something");
    }
    let e = env.run(&["show", "vision/cats@1.x"]).fails().error();
    assert!(e.contains("invalid semantic version '1.x'"), "{e}");
}

#[test]
fn create_output_sets_the_datasets_remote() {
    let env = Env::new();
    let team = format!("file://{}", env.path("team").display());
    let lake = format!("file://{}", env.path("lake").display());
    env.ok(&["remote", "add", "team", &team]);
    env.ok(&["remote", "add", "lake", &lake]);
    env.ok(&["create", "vision/cats", "--output", "lake"]);
    env.write("a.txt", b"one");
    env.ok(&["add", "vision/cats", "a.txt"]);
    env.ok(&["finalize", "vision/cats", "--upload"]);
    assert_eq!(
        env.json(&["show", "vision/cats"])["remote"],
        "lake",
        "uploaded through the remote given at creation"
    );
    assert!(env
        .path("lake")
        .read_dir()
        .is_ok_and(|mut d| d.next().is_some()));

    let before = env.catalog_state();
    let r = env
        .run(&["create", "vision/dogs", "--output", "nowhere", "--json"])
        .fails();
    let doc = r.json();
    assert_eq!(doc["error"]["kind"], "not_found", "{doc}");
    assert!(
        doc["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("nowhere")),
        "{doc}"
    );
    assert_eq!(
        env.catalog_state(),
        before,
        "a failed create stored something"
    );
}
