//! Many `strata` processes writing one version at once: every change that reports success is
//! there afterwards, and every change that is not there was reported as a failure.

use std::process::{Child, Stdio};

use crate::support::{Env, Run};

/// Starts every command before waiting for any, so they really overlap.
fn all_at_once(env: &Env, commands: &[Vec<String>]) -> Vec<Run> {
    let children: Vec<Child> = commands
        .iter()
        .map(|args| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            env.cmd(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn strata")
        })
        .collect();
    children
        .into_iter()
        .map(|c| Run {
            out: c.wait_with_output().expect("wait for strata"),
        })
        .collect()
}

fn args(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn paths_in(env: &Env, id: &str) -> Vec<String> {
    env.json(&["files", id])
        .as_array()
        .expect("files is a list")
        .iter()
        .map(|e| e["path"].as_str().expect("a path").to_string())
        .collect()
}

#[test]
fn twenty_concurrent_meta_writers_keep_all_twenty_keys() {
    let env = Env::new();
    let id = env.ok(&["create", "d/x"]).line();
    let commands: Vec<Vec<String>> = (0..20)
        .map(|i| args(&["meta", &id, &format!("k{i}={i}")]))
        .collect();
    for r in all_at_once(&env, &commands) {
        r.ok();
    }
    let meta = env.json(&["meta", &id]);
    for i in 0..20 {
        assert_eq!(meta[format!("k{i}")], i, "key k{i} was lost: {meta}");
    }
}

#[test]
fn concurrent_taggers_keep_every_tag() {
    let env = Env::new();
    let id = env.ok(&["create", "d/x"]).line();
    env.ok(&["finalize", &id]); // Tags change in any state.
    let commands: Vec<Vec<String>> = (0..8)
        .map(|i| args(&["tag", &id, &format!("+t{i}")]))
        .collect();
    for r in all_at_once(&env, &commands) {
        r.ok();
    }
    let mut tags: Vec<String> = env.json(&["show", &id])["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| t.as_str().expect("a tag").to_string())
        .collect();
    tags.sort();
    let want: Vec<String> = (0..8).map(|i| format!("t{i}")).collect();
    assert_eq!(tags, want);
}

#[test]
fn concurrent_adds_never_report_success_for_a_lost_file() {
    let env = Env::new();
    for round in 0..3 {
        let id = env.ok(&["create", "d/x"]).line();
        let mut commands = Vec::new();
        for i in 0..4 {
            // Folders of some size, so that the adds overlap while hashing.
            env.images(&format!("r{round}/in{i}"), 2, 200);
            commands.push(args(&[
                "add",
                &id,
                &format!("r{round}/in{i}"),
                "--to",
                &format!("in{i}"),
            ]));
        }
        let runs = all_at_once(&env, &commands);
        let present = paths_in(&env, &id);
        let mut succeeded = 0;
        for (i, r) in runs.iter().enumerate() {
            let mine = present
                .iter()
                .filter(|p| p.starts_with(&format!("in{i}/")))
                .count();
            if r.out.status.success() {
                succeeded += 1;
                assert_eq!(mine, 200, "add {i} reported success but its files are gone");
            } else {
                let e = r.error();
                assert!(e.contains("is being written by 'add'"), "{e}");
                assert_eq!(mine, 0, "a failed add left part of its files: {e}");
            }
        }
        assert!(succeeded >= 1, "every add failed");
        assert_eq!(env.json(&["show", &id])["file_count"], 200 * succeeded);
    }
}

#[test]
fn finalize_racing_an_add_never_hides_the_added_files() {
    let env = Env::new();
    env.images("data", 4, 400);
    for round in 0..4 {
        let id = env.ok(&["create", "d/x"]).line();
        let add = env
            .cmd(&["add", &id, "data"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn add");
        std::thread::sleep(std::time::Duration::from_millis(round * 15));
        let fin = env.run(&["finalize", &id]);
        let add = Run {
            out: add.wait_with_output().expect("wait for add"),
        };
        fin.ok();
        let v = env.json(&["show", &id]);
        assert_eq!(v["state"], "final");
        if add.out.status.success() {
            assert_eq!(
                v["file_count"], 400,
                "add succeeded but finalize lost its files"
            );
        } else {
            let e = add.error();
            assert!(
                e.contains("is final") || e.contains("is being written by 'finalize'"),
                "{e}"
            );
            assert_eq!(
                v["file_count"], 0,
                "a refused add changed the final version"
            );
        }
    }
}

#[test]
fn two_writers_taking_over_a_stale_lock_both_land_one_after_the_other() {
    let env = Env::new();
    let id = env.ok(&["create", "d/x"]).line();
    // A record left by a writer that died: a pid that cannot exist, on this host.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("hostname")
        .trim()
        .to_string();
    let body = serde_json::json!({
        "pid": 4_000_000_000u32, "host": host, "user": "someone", "since": 0, "operation": "add"
    });
    std::fs::create_dir_all(env.home().join("locks")).expect("locks dir");
    std::fs::write(
        env.home().join("locks").join(format!("{id}.lock")),
        body.to_string(),
    )
    .expect("plant lock");
    let runs = all_at_once(
        &env,
        &[args(&["meta", &id, "a=1"]), args(&["meta", &id, "b=2"])],
    );
    let warned = runs
        .iter()
        .filter(|r| r.stderr().contains("stale lock"))
        .count();
    for r in runs {
        r.ok();
    }
    assert_eq!(
        warned, 1,
        "exactly one writer takes over the dead writer's lock"
    );
    let meta = env.json(&["meta", &id]);
    assert_eq!(meta["a"], 1, "{meta}");
    assert_eq!(meta["b"], 2, "{meta}");
}

#[test]
fn concurrent_creates_get_distinct_numbers() {
    let env = Env::new();
    env.ok(&["create", "d/x"]);
    let commands: Vec<Vec<String>> = (0..6).map(|_| args(&["create", "d/x"])).collect();
    for r in all_at_once(&env, &commands) {
        r.ok();
    }
    let mut semvers: Vec<String> = env
        .json(&["log", "d/x"])
        .as_array()
        .expect("log is a list")
        .iter()
        .map(|v| v["semver"].as_str().expect("semver").to_string())
        .collect();
    semvers.sort();
    semvers.dedup();
    assert_eq!(semvers.len(), 7, "{semvers:?}");
}

#[test]
fn concurrent_read_only_gets_of_the_same_content_all_succeed_whole() {
    // Each extracts the same pool files at once: one replaces another's pool file between its
    // naming and its link into a copy, which must then take the file at the name instead.
    let env = Env::new();
    env.images("data", 4, 150);
    env.write("data/same-a.txt", b"twice");
    env.write("data/same-b.txt", b"twice");
    env.ok(&["snapshot", "d/x", "data"]);
    let want = crate::support::tree(&env.path("data"));
    for round in 0..3 {
        let _ = std::fs::remove_dir_all(env.home().join("cache"));
        let outs: Vec<String> = (0..3)
            .map(|i| env.path(&format!("out{round}-{i}")).display().to_string())
            .collect();
        let mut commands: Vec<Vec<String>> = outs
            .iter()
            .map(|o| args(&["get", "d/x", "--to", o]))
            .collect();
        commands.push(args(&["get", "d/x"]));
        for run in all_at_once(&env, &commands) {
            run.ok();
        }
        for o in &outs {
            assert_eq!(crate::support::tree(std::path::Path::new(o)), want);
        }
        env.ok(&["verify", "d/x"]);
    }
}
