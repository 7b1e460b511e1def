//! `kill -9` at any point of add, snapshot, get or gc: the next command works and no finalized
//! content is lost.

use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::{tree, Env};

const DELAYS_MS: [u64; 8] = [0, 3, 8, 15, 30, 60, 120, 250];

fn spawn(env: &Env, args: &[&str]) -> Child {
    env.cmd(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn strata")
}

fn kill_after(mut child: Child, ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
}

fn dataset(env: &Env, round: usize) {
    env.images("data", 8, 1500);
    for i in 0..30 {
        env.write(
            &format!("data/round{round}/f{i}.txt"),
            format!("{round}-{i}").as_bytes(),
        );
    }
    env.write(
        &format!("data/big{}.bin", round % 3),
        &vec![round as u8; 3 << 20],
    );
}

/// Every version verifies (drafts included: their content must be whole too).
fn all_versions_whole(env: &Env) {
    for v in env.catalog_state().as_array().unwrap() {
        let id = v["id"].as_str().unwrap();
        let r = env.run(&["verify", id]);
        assert!(
            r.out.status.success(),
            "{} lost content: {}",
            v["semver"],
            r.stdout()
        );
    }
}

#[test]
fn killed_snapshots_leave_a_working_catalog() {
    let env = Env::new();
    for (round, ms) in DELAYS_MS.iter().enumerate() {
        dataset(&env, round);
        kill_after(spawn(&env, &["snapshot", "d/x", "data"]), *ms);
        all_versions_whole(&env);
        env.ok(&["snapshot", "d/x", "data"]);
        all_versions_whole(&env);
    }
    env.ok(&["gc"]);
    all_versions_whole(&env);
    let out = env.path("out");
    env.ok(&["get", "d/x", "--to", out.to_str().unwrap(), "--mutable"]);
    assert_eq!(tree(&out), tree(&env.path("data")));
}

#[test]
fn killed_adds_leave_the_draft_usable() {
    let env = Env::new();
    let id = env.ok(&["create", "d/x"]).line();
    for (round, ms) in DELAYS_MS.iter().enumerate() {
        dataset(&env, round);
        kill_after(spawn(&env, &["add", &id, "data"]), *ms);
        all_versions_whole(&env);
        // The dead writer's lock is stale and taken over.
        env.ok(&["add", &id, "data"]);
    }
    env.ok(&["finalize", &id]);
    env.ok(&["gc"]);
    all_versions_whole(&env);
}

#[test]
fn killed_gets_never_leave_half_a_copy() {
    let env = Env::new();
    dataset(&env, 0);
    env.ok(&["snapshot", "d/x", "data"]);
    let want = tree(&env.path("data"));
    for (round, ms) in DELAYS_MS.iter().enumerate() {
        let out = env.path(&format!("out{round}"));
        let o = out.to_str().unwrap().to_string();
        kill_after(spawn(&env, &["get", "d/x", "--to", &o, "--mutable"]), *ms);
        if out.exists() {
            assert_eq!(tree(&out), want, "a copy appears whole or not at all");
        }
        env.ok(&["get", "d/x", "--to", &o, "--mutable"]);
        assert_eq!(tree(&out), want);
        // The read-only cache too.
        let sub = format!("{}", round + 1);
        let frac = format!("0.{sub}");
        kill_after(spawn(&env, &["get", "d/x", "--fraction", &frac]), *ms);
        let g = env.json(&["get", "d/x", "--fraction", &frac]);
        let p = std::path::PathBuf::from(g["path"].as_str().unwrap());
        assert_eq!(tree(&p).len() as u64, g["files"].as_u64().unwrap());
    }
    let stray: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("strata-tmp"))
        .collect();
    assert!(
        stray.is_empty(),
        "staging folders of killed gets are swept: {stray:?}"
    );
}

#[test]
fn killed_gc_loses_nothing() {
    let env = Env::new();
    for (round, ms) in DELAYS_MS.iter().enumerate() {
        dataset(&env, round);
        env.ok(&["snapshot", "d/x", "data"]);
        // Make garbage: the oldest version's unique content, and a whole deleted dataset.
        let all = env.json(&["list", "d/x", "--all"]);
        if all.as_array().unwrap().len() > 1 {
            env.ok(&["delete", all[0]["id"].as_str().unwrap(), "--force"]);
        }
        env.write("other/f.txt", format!("other {round}").as_bytes());
        env.ok(&["snapshot", "d/y", "other"]);
        env.ok(&["delete", "d/y", "--all"]);
        kill_after(spawn(&env, &["gc"]), *ms);
        all_versions_whole(&env);
        env.ok(&["gc"]);
        all_versions_whole(&env);
    }
}

#[test]
fn ctrl_c_cancels_cleanly() {
    let env = Env::new();
    for i in 0..12 {
        env.write(&format!("big/shard{i}.bin"), &vec![i as u8; 24 << 20]);
    }
    let before = env.store_files();
    let child = env
        .cmd(&["snapshot", "d/x", "big"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(150));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().expect("wait");
    if out.status.success() {
        // The machine was fast enough to finish first; then the version must be whole.
        all_versions_whole(&env);
        return;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cancelled; nothing was changed"), "{err}");
    assert_eq!(
        env.catalog_state(),
        serde_json::json!([]),
        "no version appears"
    );
    let packs_and_manifests: Vec<_> = env
        .store_files()
        .into_iter()
        .filter(|f| !before.contains(f) && !f.contains("/objects/"))
        .collect();
    assert!(packs_and_manifests.is_empty(), "{packs_and_manifests:?}");
    env.ok(&["snapshot", "d/x", "big"]);
    all_versions_whole(&env);
}
