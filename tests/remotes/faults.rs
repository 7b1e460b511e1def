//! What goes wrong in real life: wrong credentials, a server that dies mid-upload, a client
//! killed mid-upload, a server that is not there. Each must end in a clear error or a resume that
//! sends only what is missing, never in a version others can see with content missing.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::backend::{s3_vars, Backend, Kind};
use crate::proxy::Throttle;
use crate::servers::{self, Seaweed, AZ_ACCOUNT, S3_BUCKET};
use crate::support::{tree, Env};

/// About 24 MB in 800 small files: three packs, a few seconds through a throttle.
fn sizeable(env: &Env) -> std::path::PathBuf {
    for i in 0..800u32 {
        let body: Vec<u8> = (0..30_000u64)
            .map(|j| ((u64::from(i) << 20 | j).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8)
            .collect();
        env.write(&format!("data/c{}/f{i:04}.bin", i % 8), &body);
    }
    env.path("data")
}

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn wrong_s3_credentials_are_a_clear_error_naming_the_remote() {
    let b = Backend::new(Kind::S3, "wrong-s3");
    let mut a = b.home();
    a.vars = s3_vars("team");
    a.vars[1].1 = "not-the-secret".into();
    a.images("data", 2, 5);
    a.ok(&["snapshot", "p/d", a.path("data").to_str().unwrap()]);
    let start = Instant::now();
    let r = a.run(&["upload", "p/d"]).fails();
    assert!(start.elapsed() < Duration::from_secs(20));
    let err = r.error();
    assert!(err.contains("remote 'team'"), "{err}");
    assert!(!r.stderr().contains("not-the-secret") && !r.stdout().contains("not-the-secret"));
    assert!(b.list("log").is_empty());
}

#[test]
fn wrong_azure_credentials_are_a_clear_error_naming_the_remote() {
    let b = Backend::new(Kind::Azure, "wrong-az");
    let mut a = b.home();
    let bad = "QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5QmFkS2V5"; // valid base64, wrong key
    a.vars = vec![
        ("STRATA_REMOTE_TEAM_ACCOUNT_NAME".into(), AZ_ACCOUNT.into()),
        ("STRATA_REMOTE_TEAM_ACCOUNT_KEY".into(), bad.into()),
    ];
    let start = Instant::now();
    let r = a.run(&["remote", "test"]).fails();
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(r.error().contains("remote 'team'"), "{}", r.error());
    assert!(!r.stderr().contains(bad));
}

#[test]
fn an_unreachable_endpoint_fails_within_seconds() {
    let port = servers::free_port();
    let b = Backend::s3_at(&format!("http://127.0.0.1:{port}"), "nowhere");
    let a = b.home();
    a.images("data", 2, 5);
    a.ok(&["snapshot", "p/d", a.path("data").to_str().unwrap()]);
    for args in [&["upload", "p/d"][..], &["pull"], &["push"]] {
        let start = Instant::now();
        let r = a.run(args);
        if args[0] == "push" {
            // The version is not queued, so push has nothing to send and does not connect.
            continue;
        }
        let r = r.fails();
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{args:?} took {:?}",
            start.elapsed()
        );
        assert!(r.error().contains("remote 'team'"), "{}", r.error());
    }
    assert_eq!(
        a.json(&["show", "p/d"])["upload_state"],
        "local",
        "nothing was sent"
    );
}

#[test]
fn a_server_killed_mid_upload_is_resumed_after_it_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Seaweed::start(&dir.path().join("sw"));
    let throttle = Throttle::start(server.s3_port, 6 << 20);
    let b = Backend::s3_at(&throttle.endpoint(), "killed-server");
    let direct = Backend::s3_at(&server.endpoint(), "killed-server");
    let a = b.home();
    let data = sizeable(&a);
    a.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    let child = a
        .cmd(&["upload", "p/d"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the first pack", Duration::from_secs(60), || {
        !direct.list("packs").is_empty()
    });
    server.kill();
    let start = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        !out.status.success(),
        "the upload fails while the server is gone"
    );
    assert!(start.elapsed() < Duration::from_secs(60));
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(err.contains("remote 'team'"), "{err}");
    server.restart();
    assert!(
        direct.list("log").is_empty(),
        "no version without its content"
    );
    let landed = direct.list("packs").len();
    assert!(landed >= 1);
    let up = a.json(&["upload", "p/d"]);
    assert!(
        up["skipped_objects"].as_u64().unwrap() > 0,
        "what arrived is not sent again: {up}"
    );
    assert_eq!(
        up["sent_objects"].as_u64().unwrap() + up["skipped_objects"].as_u64().unwrap(),
        800,
        "{up}"
    );
    let other = direct.home();
    other.ok(&["get", "p/d", "--to", "copy"]);
    assert_eq!(tree(&other.path("copy")), tree(&data));
}

fn killed_client_resumes(b: &Backend, direct: &Backend) {
    let a = b.home();
    let data = sizeable(&a);
    a.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    let mut child = a
        .cmd(&["upload", "p/d"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the first pack", Duration::from_secs(60), || {
        !direct.list("packs").is_empty()
    });
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    assert!(
        direct.list("log").is_empty(),
        "no version without its content"
    );
    assert_eq!(a.json(&["show", "p/d"])["upload_state"], "uploading");
    let up = a.json(&["upload", "p/d"]);
    assert!(up["skipped_objects"].as_u64().unwrap() > 0, "{up}");
    let other = direct.home();
    other.ok(&["get", "p/d", "--to", "copy"]);
    assert_eq!(tree(&other.path("copy")), tree(&data));
}

#[test]
fn a_client_killed_mid_upload_to_s3_resumes() {
    let sw = &servers::shared().seaweed;
    let throttle = Throttle::start(sw.s3_port, 6 << 20);
    let b = Backend::s3_at(&throttle.endpoint(), "killed-client");
    let direct = Backend::s3_at(&sw.endpoint(), "killed-client");
    killed_client_resumes(&b, &direct);
}

#[test]
fn a_client_killed_mid_fetch_of_large_files_resumes() {
    let sw = &servers::shared().seaweed;
    let direct = Backend::s3_at(&sw.endpoint(), "killed-fetch");
    let throttle = Throttle::downloads(sw.s3_port, 8 << 20);
    let slow = Backend::s3_at(&throttle.endpoint(), "killed-fetch");
    // Stored whole (as before pieces existed), so each shard is one object of its own.
    let mut a = direct.home();
    a.vars.push(("STRATA_CHUNKED_MIN".into(), "off".into()));
    // Sizes apart, so the small one is in while the others are still on their way.
    for (i, mb) in [2u32, 16, 24, 32].into_iter().enumerate() {
        let body: Vec<u8> = (0..mb << 20)
            .map(|j| (j.wrapping_mul(2654435761) >> 13) as u8 ^ i as u8)
            .collect();
        a.write(&format!("data/shard{i}.bin"), &body);
    }
    let data = a.path("data");
    a.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    a.ok(&["upload", "p/d"]);

    let other = slow.home();
    other.ok(&["pull"]);
    let objects = |env: &Env| {
        env.store_files()
            .iter()
            .filter(|f| f.contains("/objects/"))
            .count()
    };
    let mut child = other
        .cmd(&["get", "p/d", "--to", "copy", "--mutable"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the first object", Duration::from_secs(60), || {
        objects(&other) >= 1
    });
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    let kept = objects(&other);
    assert!(kept < 4, "killed before the end");
    assert!(!other.path("copy").exists(), "no copy from a cut fetch");

    let got = other.json(&["get", "p/d", "--to", "copy", "--mutable"]);
    assert_eq!(
        got["fetched_objects"].as_u64(),
        Some(4 - kept as u64),
        "what arrived whole is not fetched again: {got}"
    );
    assert_eq!(tree(&other.path("copy")), tree(&data));
    other.ok(&["verify", "p/d"]);
}

/// A client killed while it sends a shard's pieces: nothing is visible on the remote, and the
/// rerun sends only the packs of pieces that had not landed.
#[test]
fn a_client_killed_mid_chunked_upload_resumes() {
    let sw = &servers::shared().seaweed;
    let throttle = Throttle::start(sw.s3_port, 6 << 20);
    let b = Backend::s3_at(&throttle.endpoint(), "killed-chunked");
    let direct = Backend::s3_at(&sw.endpoint(), "killed-chunked");
    let a = b.home();
    a.write("data/shard.bin", &crate::support::noise(40 << 20, 5));
    let data = a.path("data");
    a.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    let mut child = a
        .cmd(&["upload", "p/d"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the first pack", Duration::from_secs(60), || {
        !direct.list("packs").is_empty()
    });
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    assert!(
        direct.list("log").is_empty(),
        "no version without its content"
    );
    let landed = direct.list("packs").len();
    let up = a.json(&["upload", "p/d"]);
    assert!(up["skipped_objects"].as_u64().unwrap() > 0, "{up}");
    assert!(
        up["sent_bytes"].as_u64().unwrap() < 40 << 20,
        "the {landed} packs that landed are not sent again: {up}"
    );
    let other = direct.home();
    other.ok(&["get", "p/d", "--to", "copy", "--mutable"]);
    assert_eq!(tree(&other.path("copy")), tree(&data));
    other.ok(&["verify", "p/d"]);
}

/// A get killed while it fetches a large file's pieces: the pieces committed so far stay, and
/// the rerun fetches only the rest.
#[test]
fn a_client_killed_mid_fetch_of_pieces_resumes() {
    let sw = &servers::shared().seaweed;
    let direct = Backend::s3_at(&sw.endpoint(), "killed-pieces");
    // 4 MB/s a connection, 8 ranges in flight: the first commit (64 MB) about 2 s in, the end
    // of the 96 MB a second later.
    let throttle = Throttle::downloads(sw.s3_port, 4 << 20);
    let slow = Backend::s3_at(&throttle.endpoint(), "killed-pieces");
    let a = direct.home();
    a.write("data/shard.bin", &crate::support::noise(96 << 20, 9));
    let data = a.path("data");
    a.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    a.ok(&["upload", "p/d"]);

    let other = slow.home();
    other.ok(&["pull"]);
    let packs = |env: &Env| {
        env.store_files()
            .iter()
            .filter(|f| f.contains("/packs/"))
            .count()
    };
    let mut child = other
        .cmd(&["get", "p/d", "--to", "copy", "--mutable"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(
        "the first committed pieces",
        Duration::from_secs(60),
        || packs(&other) >= 1,
    );
    // A pack is renamed into place just before its objects are indexed (an index row never
    // names a pack a crash could lose): a kill in that moment would leave nothing to resume
    // from. The end is a second away at this throttle; a short wait lands between.
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    assert!(!other.path("copy").exists(), "no copy from a cut fetch");

    let got = other.json(&["get", "p/d", "--to", "copy", "--mutable"]);
    let fetched = got["fetched_bytes"].as_u64().unwrap();
    assert!(
        fetched > 0 && fetched < 96 << 20,
        "the pieces that arrived are not fetched again: {got}"
    );
    assert_eq!(tree(&other.path("copy")), tree(&data));
    other.ok(&["verify", "p/d"]);
}

#[test]
fn credentials_can_live_in_the_os_keychain() {
    let sw = &servers::shared().seaweed;
    // A name of its own: the keychain is shared by every process of this user.
    let name = format!("kc{}", std::process::id());
    let a = Env::new();
    a.ok(&[
        "remote",
        "add",
        &name,
        &format!("s3://{S3_BUCKET}/keychain"),
        "--endpoint",
        &sw.endpoint(),
        "--allow-http",
    ]);
    let missing = a.run(&["remote", "test", &name]).fails();
    assert!(
        missing.error().contains("remote login"),
        "{}",
        missing.error()
    );
    let mut login = a
        .cmd(&["remote", "login", &name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let stdin = login.stdin.as_mut().unwrap();
        writeln!(stdin, "{}\n{}", servers::S3_KEY, servers::S3_SECRET).unwrap();
    }
    let out = login.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    a.ok(&["remote", "test", &name]);
    a.images("data", 2, 5);
    a.ok(&[
        "snapshot",
        "p/d",
        a.path("data").to_str().unwrap(),
        "--upload",
    ]);
    // The secret is nowhere in the home.
    for (path, body) in tree(&a.home()) {
        assert!(
            !String::from_utf8_lossy(&body).contains(servers::S3_SECRET),
            "secret found in {path}"
        );
    }
    a.ok(&["remote", "logout", &name]);
    assert!(a
        .run(&["remote", "test", &name])
        .fails()
        .error()
        .contains("remote login"));
}

#[test]
fn a_dataset_can_be_shared_through_its_own_remote() {
    let (team, lake) = (
        Backend::new(Kind::Folder, "own-team"),
        Backend::new(Kind::Folder, "own-lake"),
    );
    let a = team.home();
    let mut args = vec!["remote", "add", "lake"];
    args.extend(lake.add_args.iter().map(String::as_str));
    a.ok(&args);
    a.images("data", 2, 4);
    let data = a.path("data");
    a.ok(&["snapshot", "p/special", data.to_str().unwrap()]);
    a.ok(&["remote", "default", "lake", "--dataset", "p/special"]);
    a.ok(&["upload", "p/special"]);
    a.ok(&["snapshot", "p/plain", data.to_str().unwrap(), "--upload"]);
    assert_eq!(
        lake.list("log").len(),
        1,
        "p/special went to its own remote"
    );
    assert_eq!(team.list("log").len(), 1, "p/plain to the default");
    assert_eq!(a.json(&["show", "p/special"])["remote"], "lake");
    let err = a
        .run(&["remote", "default", "nowhere", "--dataset", "p/special"])
        .fails()
        .error();
    assert!(err.contains("remote not found: nowhere"), "{err}");
}
