//! --json gives one document on stdout; piped output has no progress bars.

use crate::support::Env;

#[test]
fn json_is_one_document_and_pipes_get_no_bars() {
    let env = Env::new();
    env.images("data", 2, 400);
    let r = env.run(&["snapshot", "d/x", "data", "--json"]).ok();
    let doc = r.json();
    assert_eq!(doc["version"]["file_count"], 400);
    assert!(r.stderr().is_empty(), "nothing but JSON: {}", r.stderr());
    let r = env.run(&["get", "d/x"]).ok();
    assert!(
        !r.stderr().contains('\r') && !r.stderr().contains("ETA"),
        "{}",
        r.stderr()
    );
    for args in [
        vec!["list"],
        vec!["list", "--all"],
        vec!["show", "d/x"],
        vec!["files", "d/x"],
        vec!["log", "d/x"],
        vec!["diff", "d/x", "d/x"],
        vec!["verify", "d/x"],
        vec!["cache", "list"],
        vec!["gc", "--dry-run"],
        vec!["meta", "d/x"],
    ] {
        env.json(&args);
    }
    let q = env.run(&["snapshot", "d/x", "data", "-q"]).ok();
    assert!(q.stderr().is_empty());
}

fn error_doc(r: &crate::support::Run) -> serde_json::Value {
    serde_json::from_str(r.stdout().trim()).expect("an error document on stdout")
}

#[test]
fn errors_carry_a_kind_and_how_to_act_on_them() {
    let env = Env::new();
    // Not found: nothing to offer but the message.
    let r = env.run(&["show", "nope/none", "--json"]).fails();
    assert_eq!(
        error_doc(&r),
        serde_json::json!({"error": {
            "code": "not_found",
            "kind": "not_found",
            "message": "dataset not found: nope/none",
            "remote": null,
            "remedy": null,
            "hint": null,
        }})
    );
    assert_eq!(r.stderr().trim(), "error: dataset not found: nope/none");

    // A conflict the user can force: the engine names the problem, the CLI its flag.
    env.images("data", 1, 3);
    env.ok(&["snapshot", "d/x", "data"]);
    env.write("data/new.txt", b"new");
    env.ok(&["snapshot", "d/x", "data"]);
    let r = env.run(&["delete", "d/x@1.0.0", "--json"]).fails();
    assert_eq!(
        error_doc(&r),
        serde_json::json!({"error": {
            "code": "conflict",
            "kind": "conflict",
            "message": "d/x@1.0.0 is a parent of d/x@1.0.1",
            "remote": null,
            "remedy": "force",
            "hint": "pass --force to delete it anyway",
        }})
    );
    assert_eq!(
        r.stderr().trim(),
        "error: d/x@1.0.0 is a parent of d/x@1.0.1; pass --force to delete it anyway"
    );

    // No credentials for a remote: unauthorized, log in to that remote.
    env.ok(&[
        "remote",
        "add",
        "nocreds",
        "s3://bucket",
        "--endpoint",
        "http://127.0.0.1:9",
        "--allow-http",
    ]);
    let mut c = env.cmd(&["remote", "test", "nocreds", "--json"]);
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ] {
        c.env_remove(k);
    }
    let out = c.env("STRATA_KEYCHAIN", "kernel-keyring").output().unwrap();
    assert!(!out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &doc["error"];
    assert_eq!(e["code"], "remote");
    assert_eq!(e["kind"], "unauthorized");
    assert_eq!(e["remote"], "nocreds");
    assert_eq!(e["remedy"], "login");
    assert!(
        e["hint"]
            .as_str()
            .unwrap()
            .starts_with("run `strata remote login nocreds`"),
        "{e}"
    );

    // Offline: unavailable, go online.
    let r = env
        .run(&[
            "upload",
            "d/x",
            "--remote",
            "nocreds",
            "--offline",
            "--json",
        ])
        .fails();
    let e = &error_doc(&r)["error"];
    assert_eq!(
        (e["kind"].as_str(), e["remedy"].as_str()),
        (Some("unavailable"), Some("go_online"))
    );
}

#[test]
fn warnings_reach_stderr_and_the_json_document() {
    let env = Env::new();
    env.images("data", 1, 3);
    let bucket = env.path("bucket");
    env.ok(&[
        "remote",
        "add",
        "team",
        &format!("file://{}", bucket.display()),
    ]);
    env.ok(&["snapshot", "d/x", "data", "--upload"]);
    // Offline, publishing a shared version queues the change: said at once, and in the JSON.
    let r = env.run(&["publish", "d/x", "--offline", "--json"]).ok();
    let doc = r.json();
    assert_eq!(doc["state"], "published");
    assert_eq!(
        doc["warnings"],
        serde_json::json!(["not yet shared on remote 'team' (offline); it waits to be pushed"])
    );
    assert!(
        r.stderr()
            .contains("warning: not yet shared on remote 'team' (offline)"),
        "{}",
        r.stderr()
    );
    // Without warnings the document has none.
    let clean = env.json(&["show", "d/x"]);
    assert!(clean.get("warnings").is_none(), "{clean}");
    // `push` sends what waited.
    let pushed = env.json(&["push"]);
    assert_eq!(pushed["events"], 1);
}
