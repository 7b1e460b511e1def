//! `.strataignore` and built-in noise, seen from the command line: what they name never enters a
//! version, and changing it makes no new one.

use crate::support::Env;

fn paths_in(env: &Env, reference: &str) -> Vec<String> {
    let mut paths: Vec<String> = env
        .json(&["files", reference])
        .as_array()
        .expect("files is a list")
        .iter()
        .map(|e| e["path"].as_str().expect("a path").to_string())
        .collect();
    paths.sort();
    paths
}

#[test]
fn snapshot_leaves_out_ignored_files_and_ignores_their_edits() {
    let env = Env::new();
    env.write("data/.strataignore", b"# scratch output\n*.log\nscratch/\n");
    env.write("data/labels.csv", b"cat,1\n");
    env.write("data/img/0001.jpg", b"jpeg");
    env.write("data/.DS_Store", b"finder");
    env.write("data/x.swp", b"vim");
    env.write("data/train.log", b"epoch 1");
    env.write("data/scratch/tmp.bin", b"scratch");
    env.write("data/img/Thumbs.db", b"thumbs");

    let first = env.json(&["snapshot", "d/x", "data"]);
    assert_eq!(first["created"], true);
    let id = first["version"]["id"].as_str().expect("an id").to_string();
    assert_eq!(
        paths_in(&env, &id),
        ["img/0001.jpg", "labels.csv"],
        "ignored files, noise and the .strataignore itself stay out of the version"
    );

    // Only ignored files change (the .strataignore too, with a comment): no new version.
    env.write("data/.DS_Store", b"finder, moved icons");
    env.write("data/x.swp", b"vim, more edits");
    env.write("data/train.log", b"epoch 2");
    env.write("data/scratch/more.bin", b"more scratch");
    env.write("data/new.tmp", b"half-saved");
    env.write(
        "data/.strataignore",
        b"# scratch output, see README\n*.log\nscratch/\n",
    );
    let again = env.json(&["snapshot", "d/x", "data"]);
    assert_eq!(again["created"], false, "{again}");
    assert_eq!(again["version"]["id"], first["version"]["id"]);

    // A real change still makes one.
    env.write("data/labels.csv", b"cat,1\ndog,2\n");
    let next = env.json(&["snapshot", "d/x", "data"]);
    assert_eq!(next["created"], true);
    assert_eq!(next["changes"]["modified"], 1, "{next}");
}

#[test]
fn a_bad_strataignore_stops_the_snapshot_naming_file_and_line() {
    let env = Env::new();
    env.write("data/a.csv", b"a");
    let ignore = env.write("data/.strataignore", b"*.log\n[z-a]\n");
    let r = env.run(&["snapshot", "d/x", "data"]).fails();
    let line = r.error();
    let expected = format!("{} line 2: ", ignore.display());
    assert!(line.contains(&expected), "{line}");
    assert!(
        !env.run(&["show", "d/x"]).out.status.success(),
        "no version was made"
    );
}

#[test]
fn a_file_added_by_name_is_kept_and_its_copy_recognised() {
    let env = Env::new();
    env.write("data/run.tmp", b"the user wants this one");
    env.write("data/a.csv", b"a");
    let draft = env.ok(&["create", "d/x"]).line();
    env.ok(&["add", &draft, "data"]);
    env.ok(&["add", &draft, "data/run.tmp"]);
    assert_eq!(paths_in(&env, &draft), ["a.csv", "run.tmp"]);
    env.ok(&["finalize", &draft]);
    // A copy holding the file is the version: a second `get` into it needs no --overwrite.
    env.ok(&["get", &draft, "--to", "copy"]);
    env.ok(&["get", &draft, "--to", "copy"]);
}
