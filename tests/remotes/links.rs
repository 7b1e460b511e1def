//! `add-link`: files left where they are — a shared folder, an S3 bucket, a web server — are
//! fetched on `get` with their hash checked, and `verify` notices when they change at the source.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use crate::backend::{Backend, Kind};
use crate::support::{tree, Env};

/// Serves files from memory over plain HTTP (GET and HEAD), like a static web server.
fn web_server(files: Vec<(String, Vec<u8>)>) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut line = String::new();
            let mut r = BufReader::new(s.try_clone().unwrap());
            if r.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if r.read_line(&mut h).map(|n| n == 0).unwrap_or(true) || h == "\r\n" {
                    break;
                }
            }
            let mut parts = line.split_whitespace();
            let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            match files.iter().find(|(p, _)| p == path) {
                Some((_, body)) => {
                    let _ = write!(
                        s,
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    if method == "GET" {
                        let _ = s.write_all(body);
                    }
                }
                None => {
                    let _ = write!(
                        s,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                }
            }
        }
    });
    port
}

#[test]
fn linked_files_from_a_folder_a_bucket_and_a_web_server_travel_with_the_version() {
    let b = Backend::new(Kind::S3, "links");
    let a = b.home();
    // Three external sources.
    let local = a.write("elsewhere/notes.txt", b"kept on a shared drive");
    let big: Vec<u8> = (0..(3u32 << 20)).map(|i| (i % 251) as u8).collect();
    b.write("links/external/weights.bin", big.clone());
    let port = web_server(vec![(
        "/labels.csv".into(),
        b"path,label\na.jpg,cat\n".to_vec(),
    )]);

    a.images("data", 2, 6);
    a.ok(&["snapshot", "p/d", a.path("data").to_str().unwrap()]);
    a.ok(&["create", "p/d", "--parent", "p/d"]);
    let linked = a.json(&[
        "add-link",
        "p/d@1.0.1",
        &format!("file://{}", local.display()),
        "s3://strata/links/external/weights.bin",
        &format!("http://127.0.0.1:{port}/labels.csv"),
        "--to",
        "ext",
    ]);
    assert_eq!(linked["changes"]["added"], 3, "{linked}");
    let files = a.json(&["files", "p/d@1.0.1", "--glob", "ext/**"]);
    let links: Vec<&str> = files
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["link"].as_str().unwrap())
        .collect();
    assert_eq!(links.len(), 3);
    assert_eq!(files[2]["size"], 3 << 20);
    a.ok(&["finalize", "p/d@1.0.1", "--upload"]);
    assert!(
        b.list("objects").is_empty(),
        "linked files are not copied into the bucket"
    );

    // On another machine the links came from the bucket: the shared drive and the team's web
    // server on loopback are read only once that machine's user allows them.
    let allow = |home: &mut Env| {
        home.vars.push((
            "STRATA_ALLOW_FILE_LINKS".into(),
            a.path("elsewhere").display().to_string(),
        ));
        home.ok(&["remote", "set", "team", "--allow-private-links", "true"]);
    };
    let mut other = b.home();
    let err = other
        .run(&["get", "p/d@1.0.1", "--to", "copy"])
        .fails()
        .error();
    assert!(err.contains("refused"), "{err}");
    assert!(!other.path("copy").exists());
    allow(&mut other);
    other.ok(&["get", "p/d@1.0.1", "--to", "copy"]);
    assert_eq!(
        std::fs::read(other.path("copy/ext/weights.bin")).unwrap(),
        big
    );
    assert_eq!(
        std::fs::read(other.path("copy/ext/notes.txt")).unwrap(),
        b"kept on a shared drive"
    );
    assert_eq!(
        std::fs::read(other.path("copy/ext/labels.csv")).unwrap(),
        b"path,label\na.jpg,cat\n"
    );
    other.ok(&["verify", "p/d@1.0.1"]);

    // The shared drive's file changes: verify says so, and a fresh get refuses the new bytes.
    std::fs::write(&local, b"edited in place").unwrap();
    let v = a.run(&["verify", "p/d@1.0.1"]).fails();
    assert!(
        v.stdout()
            .contains("MISMATCH ext/notes.txt: changed at the source"),
        "{}",
        v.stdout()
    );
    let mut fresh = b.home();
    allow(&mut fresh);
    let err = fresh
        .run(&["get", "p/d@1.0.1", "--to", "copy"])
        .fails()
        .error();
    assert!(err.contains("changed at the source"), "{err}");
    assert!(!fresh.path("copy").exists());
}

#[test]
fn a_link_that_names_nothing_is_refused_and_the_draft_is_unchanged() {
    let a = Env::new();
    a.images("data", 2, 4);
    a.ok(&["create", "p/d"]);
    a.ok(&["add", "p/d", a.path("data").to_str().unwrap()]);
    let before = a.json(&["files", "p/d@1.0.0"]);
    let missing = format!("file://{}", a.path("nope.bin").display());
    let err = a.run(&["add-link", "p/d", &missing]).fails().error();
    assert!(
        err.contains("not found") && err.contains("nope.bin"),
        "{err}"
    );
    let err = a.run(&["add-link", "p/d", "s3://bucket"]).fails().error();
    assert!(err.contains("names a bucket, not a file"), "{err}");
    let err = a.run(&["add-link", "p/d", "ftp://x/y"]).fails().error();
    assert!(err.contains("unsupported"), "{err}");
    assert_eq!(a.json(&["files", "p/d@1.0.0"]), before);
    let _ = tree(&a.path("data"));
}
