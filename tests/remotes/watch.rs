//! A watch with `--upload` against a real S3 server that goes away: versions keep being made,
//! wait in the queue, and reach the bucket once the server is back, none lost or sent twice.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc::channel;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::backend::Backend;
use crate::servers::Seaweed;

fn wait_until(what: &str, limit: Duration, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_watch_uploads_and_waits_for_a_remote_that_went_away() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Seaweed::start(&dir.path().join("sw"));
    let b = Backend::s3_at(&server.endpoint(), "watch-upload");
    let a = b.home();
    a.write("data/a.txt", b"a");
    std::thread::sleep(Duration::from_millis(2100));
    let folder = a.path("data");
    let mut child = a
        .cmd(&[
            "watch",
            folder.to_str().unwrap(),
            "--dataset",
            "p/w",
            "--quiet-for",
            "400ms",
            "--upload",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, lines) = channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let first = lines.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(first["semver"], "1.0.0");
    wait_until("the first upload", Duration::from_secs(30), || {
        b.list("log").len() == 1
    });

    // The server goes away; a change is still versioned here, and waits.
    server.kill();
    a.write("data/b.txt", b"b");
    let second = lines.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(second["semver"], "1.0.1");
    std::thread::sleep(Duration::from_secs(3));
    let local = a.json(&["show", "p/w@1.0.1"]);
    assert_ne!(local["upload_state"], "uploaded", "{local}");

    // Back: the watch's retry sends it, without a new change in the folder.
    server.restart();
    wait_until("the queued upload", Duration::from_secs(90), || {
        b.list("log").len() == 2
    });
    // SAFETY: signalling our own child.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let done = child.wait_with_output().unwrap();
    assert!(done.status.success());
    let err = String::from_utf8_lossy(&done.stderr);
    assert!(
        err.contains("error: remote 'team'"),
        "the wait was shown: {err}"
    );
    for v in a.json(&["log", "p/w"]).as_array().unwrap() {
        assert_eq!(v["upload_state"], "uploaded", "{v}");
    }
    assert_eq!(b.list("log").len(), 2, "each version sent once");
}
