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

/// Every file under `dir` (recursively) that holds `needle`.
fn files_holding(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(files_holding(&p, needle));
        } else if std::fs::read(&p)
            .map(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            .unwrap_or(false)
        {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn credentials_in_a_url_are_refused_and_never_printed() {
    let env = Env::new();
    let secret = "hunter2-url-secret";
    for args in [
        vec![
            "remote".to_string(),
            "add".into(),
            "lake".into(),
            format!("s3://AKIA:{secret}@bucket/strata"),
        ],
        vec![
            "remote".into(),
            "add".into(),
            "web".into(),
            format!("https://user:{secret}@data.example.com/strata"),
        ],
        vec![
            "remote".into(),
            "add".into(),
            "minio".into(),
            "s3://bucket".into(),
            "--endpoint".into(),
            format!("http://admin:{secret}@127.0.0.1:9"),
            "--allow-http".into(),
        ],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = env.run(&args).fails();
        let line = r.error();
        assert!(
            line.contains("carries credentials") && line.contains("strata remote login"),
            "{line}"
        );
        assert!(!r.stderr().contains(secret) && !r.stdout().contains(secret));
    }
    assert_eq!(env.json(&["remote", "list"]), serde_json::json!([]));

    // One stored before such URLs were refused is shown without its password.
    let mut catalog = strata_core::Catalog::open(&env.home().join("catalog.db")).unwrap();
    catalog
        .write(|w| {
            w.add_remote(&strata_core::RemoteSpec {
                name: "old".into(),
                url: format!("s3://AKIA:{secret}@bucket/strata"),
                endpoint: Some(format!("http://admin:{secret}@127.0.0.1:9")),
                region: None,
                allow_http: true,
                is_default: true,
            })
        })
        .unwrap();
    drop(catalog);
    for args in [
        vec!["remote", "list"],
        vec!["remote", "list", "--json"],
        vec!["remote", "test", "old"],
    ] {
        let r = env.run(&args);
        assert!(
            !r.stdout().contains(secret) && !r.stderr().contains(secret),
            "{args:?}: {}{}",
            r.stdout(),
            r.stderr()
        );
    }
    assert!(env
        .ok(&["remote", "list"])
        .stdout()
        .contains("s3://***@bucket/strata"));
}

#[test]
fn a_service_account_document_in_the_environment_is_never_echoed() {
    let env = Env::new();
    env.ok(&["remote", "add", "gcs", "gs://bucket/strata"]);
    let marker = "SECRETMARKER0123456789";
    for doc in [
        // Malformed JSON: the parser's message must not quote it.
        format!("{{\"type\": \"service_account\", \"private_key\": \"{marker}"),
        // Well-formed, with a key that is not one.
        format!(
            "{{\"type\": \"service_account\", \"client_email\": \"x@y.iam.gserviceaccount.com\", \
             \"private_key_id\": \"{marker}\", \
             \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{marker}\\n-----END PRIVATE KEY-----\\n\"}}"
        ),
    ] {
        let mut cmd = env.cmd(&["remote", "test", "gcs"]);
        cmd.env("STRATA_REMOTE_GCS_SERVICE_ACCOUNT", &doc)
            .env_remove("GOOGLE_APPLICATION_CREDENTIALS")
            .env_remove("GOOGLE_SERVICE_ACCOUNT");
        let r = Run {
            out: cmd.output().unwrap(),
        }
        .fails();
        let line = r.error();
        assert!(line.contains("remote 'gcs'"), "{line}");
        assert!(
            !r.stderr().contains(marker) && !r.stdout().contains(marker),
            "{}{}",
            r.stdout(),
            r.stderr()
        );
        assert_eq!(files_holding(&env.home(), marker), Vec::<String>::new());
    }
}
