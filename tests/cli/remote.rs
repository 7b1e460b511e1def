//! remote add / list / remove / test, with credentials only from the environment.

use std::time::{Duration, Instant};

use crate::support::{Env, Run};

fn without_cloud_env(env: &Env, args: &[&str]) -> std::process::Command {
    let mut c = env.cmd(args);
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_CA_BUNDLE",
    ] {
        c.env_remove(k);
    }
    c
}

#[test]
fn remotes_are_added_listed_tested_and_removed() {
    let env = Env::new();
    let shared = env.path("shared");
    let url = format!("file://{}", shared.display());
    let r1 = env.json(&["remote", "add", "team", &url]);
    assert_eq!(r1["is_default"], true, "the first remote is the default");
    env.ok(&[
        "remote",
        "add",
        "lake",
        "s3://bucket/strata",
        "--endpoint",
        "http://127.0.0.1:9",
        "--allow-http",
    ]);
    let all = env.json(&["remote", "list"]);
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["team", "lake"]);

    let probe = env.json(&["remote", "test"]);
    assert_eq!(probe["remote"], "team");
    assert_eq!(probe["writable"], true);
    assert!(
        shared.join("strata").is_dir(),
        "the test wrote into the shared folder"
    );
    assert_eq!(
        std::fs::read_dir(shared.join("strata/probe"))
            .unwrap()
            .count(),
        0,
        "and cleaned up"
    );

    for (args, needle) in [
        (vec!["remote", "add", "team", "s3://b"], "exists"),
        (
            vec!["remote", "add", "Bad!", "s3://b"],
            "invalid remote name",
        ),
        (
            vec!["remote", "add", "x", "ftp://host/p"],
            "unsupported remote URL",
        ),
        (
            vec!["remote", "add", "x", "file://relative/path"],
            "absolute path",
        ),
        (
            vec![
                "remote",
                "add",
                "x",
                "s3://b",
                "--endpoint",
                "http://127.0.0.1:9",
            ],
            "--allow-http",
        ),
        (vec!["remote", "remove", "nope"], "remote not found: nope"),
        (vec!["remote", "test", "--offline", "team"], "--offline"),
    ] {
        let r = env.run(&args).fails();
        assert!(r.error().contains(needle), "{args:?}: {}", r.error());
    }
    env.ok(&["remote", "remove", "team"]);
    let all = env.json(&["remote", "list"]);
    assert_eq!(all[0]["name"], "lake");
    assert_eq!(
        all[0]["is_default"], true,
        "a default remains while remotes do"
    );
}

#[test]
fn missing_credentials_name_the_remote_and_the_variables() {
    let env = Env::new();
    env.ok(&[
        "remote",
        "add",
        "lake",
        "s3://bucket/strata",
        "--endpoint",
        "http://127.0.0.1:9",
        "--allow-http",
    ]);
    let r = Run {
        out: without_cloud_env(&env, &["remote", "test", "lake"])
            .output()
            .unwrap(),
    }
    .fails();
    let line = r.error();
    assert!(
        line.contains("remote 'lake'") && line.contains("AWS_ACCESS_KEY_ID"),
        "{line}"
    );
    assert!(line.contains("STRATA_REMOTE_LAKE_"), "{line}");
}

#[test]
fn an_unreachable_endpoint_fails_within_seconds_and_keeps_secrets_out() {
    let env = Env::new();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    env.ok(&[
        "remote",
        "add",
        "dead",
        "s3://bucket/strata",
        "--endpoint",
        &endpoint,
        "--allow-http",
    ]);
    let secret = "s3cr3t-value-that-must-not-leak";
    let mut cmd = without_cloud_env(&env, &["remote", "test", "dead"]);
    cmd.env("STRATA_REMOTE_DEAD_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("STRATA_REMOTE_DEAD_SECRET_ACCESS_KEY", secret);
    let start = Instant::now();
    let r = Run {
        out: cmd.output().unwrap(),
    }
    .fails();
    assert!(
        start.elapsed() < Duration::from_secs(40),
        "took {:?}",
        start.elapsed()
    );
    let line = r.error();
    assert!(line.contains("remote 'dead'"), "{line}");
    assert!(!r.stderr().contains(secret) && !r.stdout().contains(secret));
    for entry in std::fs::read_dir(env.home()).unwrap().flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds the secret",
                entry.path().display()
            );
        }
    }
}
