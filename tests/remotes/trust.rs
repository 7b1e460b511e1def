//! What a teammate plants in a shared bucket stays bounded: links in a pulled version cannot
//! read this machine's files or reach its internal network, a locator cannot point past a
//! pack, and an object larger than the manifest says is refused. A refused link fails the
//! whole `get` before anything is copied (a copy appears whole or not at all), naming the entry.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_core::{Entry, Hash, Manifest, RemoteSpec};
use strata_remote::log::{try_append, Event, RemoteVersion};
use strata_remote::object_store::path::Path as StorePath;
use strata_remote::{connect, Connected, Layout, Locator, Place};

use crate::backend::block;
use crate::support::Env;

/// A shared-folder bucket and a home that has it as remote `team`.
fn bucket(env: &Env) -> Connected {
    let dir = env.path("bucket");
    std::fs::create_dir_all(&dir).unwrap();
    let spec = RemoteSpec {
        name: "team".into(),
        url: format!("file://{}", dir.display()),
        endpoint: None,
        region: None,
        allow_http: false,
        is_default: true,
    };
    env.ok(&["remote", "add", "team", &spec.url]);
    connect(&spec).unwrap()
}

/// Writes a version straight into the bucket, as a hostile writer would: its objects, its
/// manifest and locator, and a create event at log position `seq`.
fn plant(
    c: &Connected,
    seq: u64,
    dataset: &str,
    manifest: &Manifest,
    locator: &Locator,
    objects: Vec<(StorePath, Vec<u8>)>,
) {
    let layout = Layout::new(&c.prefix);
    let (m, l) = (manifest.encode(), locator.encode());
    let version = RemoteVersion {
        id: format!("{seq:032x}"),
        dataset: dataset.into(),
        semver: "1.0.0".into(),
        parents: vec![],
        state: "final".into(),
        manifest: Hash::of(&m),
        locator: Hash::of(&l),
        file_count: manifest.len() as u64,
        total_bytes: manifest.total_bytes(),
        tags: vec![],
        description: String::new(),
        metadata: Default::default(),
        created_at: 0,
        created_by: "someone".into(),
        finalized_at: Some(0),
    };
    block(async {
        for (key, body) in objects {
            c.put_bytes(&key, body.into()).await.unwrap();
        }
        c.put_bytes(&layout.manifest(&Hash::of(&m)), m.into())
            .await
            .unwrap();
        c.put_bytes(&layout.locator(&Hash::of(&l)), l.into())
            .await
            .unwrap();
        let event = Event::Create {
            version: Box::new(version),
        };
        assert!(try_append(c, seq, 0, "someone", &event).await.unwrap());
    });
}

/// An ordinary packed file and a link, as one version.
fn with_link(
    c: &Connected,
    path: &str,
    link: &str,
    body: &[u8],
) -> (Manifest, Locator, Vec<(StorePath, Vec<u8>)>) {
    let plain = b"ordinary file".to_vec();
    let manifest = Manifest::from_entries(vec![
        Entry {
            path: "data/a.txt".into(),
            size: plain.len() as u64,
            hash: Hash::of(&plain),
            link: None,
            chunks: None,
        },
        Entry {
            path: path.into(),
            size: body.len() as u64,
            hash: Hash::of(body),
            link: Some(link.into()),
            chunks: None,
        },
    ]);
    let mut locator = Locator::default();
    locator.places.insert(
        Hash::of(&plain),
        Place::Packed {
            pack: "p1".into(),
            offset: 0,
            len: plain.len() as u64,
        },
    );
    let key = Layout::new(&c.prefix).pack("p1");
    (manifest, locator, vec![(key, plain)])
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_containing(&p, needle));
        } else if std::fs::read(&p)
            .map(|b| b.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
        {
            out.push(p.display().to_string());
        }
    }
    out
}

#[test]
fn a_file_link_from_a_bucket_reads_nothing_outside_allowed_folders() {
    let mut env = Env::new();
    let secret = b"victim-secret-7f3a9c".to_vec();
    let victim = env.write("victim/secret.txt", &secret);
    let c = bucket(&env);
    let link = format!("file://{}", victim.display());
    let (m, l, objects) = with_link(&c, "ext/secret.txt", &link, &secret);
    plant(&c, 1, "evil/d", &m, &l, objects);
    // `..` cannot climb out of an allowed folder.
    let climbing = format!(
        "file://{}/../victim/secret.txt",
        env.path("allowed").display()
    );
    std::fs::create_dir_all(env.path("allowed")).unwrap();
    let (m, l, objects) = with_link(&c, "ext/secret.txt", &climbing, &secret);
    plant(&c, 2, "evil/e", &m, &l, objects);
    env.ok(&["pull"]);

    let err = env.run(&["get", "evil/d", "--to", "copy"]).fails().error();
    assert!(
        err.contains("ext/secret.txt") && err.contains(&link) && err.contains("refused"),
        "{err}"
    );
    assert!(err.contains("STRATA_ALLOW_FILE_LINKS"), "{err}");
    assert!(!env.path("copy").exists(), "nothing was copied");
    assert_eq!(files_containing(&env.home(), &secret), Vec::<String>::new());

    // Allowed: the folder is one the user named.
    env.vars.push((
        "STRATA_ALLOW_FILE_LINKS".into(),
        env.path("allowed").display().to_string(),
    ));
    let err = env.run(&["get", "evil/e", "--to", "copy"]).fails().error();
    assert!(err.contains("refused"), "{err}");
    assert!(!env.path("copy").exists());

    env.vars.push((
        "STRATA_ALLOW_FILE_LINKS".into(),
        env.path("victim").display().to_string(),
    ));
    env.ok(&["get", "evil/d", "--to", "copy"]);
    assert_eq!(
        std::fs::read(env.path("copy/ext/secret.txt")).unwrap(),
        secret
    );
    assert_eq!(
        std::fs::read(env.path("copy/data/a.txt")).unwrap(),
        b"ordinary file"
    );
}

/// A web server on loopback that counts the connections it accepts and serves `body`.
fn counting_server(body: &'static [u8]) -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let seen = hits.clone();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            seen.fetch_add(1, Ordering::SeqCst);
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            while r.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(body);
        }
    });
    (port, hits)
}

#[test]
fn http_links_from_a_bucket_to_internal_addresses_are_refused_without_connecting() {
    let env = Env::new();
    let body: &'static [u8] = b"internal admin page";
    let (port, hits) = counting_server(body);
    let c = bucket(&env);
    let loopback = format!("http://127.0.0.1:{port}/admin");
    let (m, l, objects) = with_link(&c, "ext/admin.html", &loopback, body);
    plant(&c, 1, "evil/d", &m, &l, objects);
    let metadata = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";
    let (m, l, objects) = with_link(&c, "ext/creds.json", metadata, b"{}");
    plant(&c, 2, "evil/m", &m, &l, objects);
    env.ok(&["pull"]);

    let err = env.run(&["get", "evil/d", "--to", "copy"]).fails().error();
    assert!(
        err.contains("ext/admin.html") && err.contains(&loopback) && err.contains("loopback"),
        "{err}"
    );
    let start = Instant::now();
    let err = env.run(&["get", "evil/m", "--to", "copy"]).fails().error();
    assert!(
        err.contains("ext/creds.json") && err.contains("link-local"),
        "{err}"
    );
    // A connection attempt would have waited for its timeout; the refusal comes first.
    assert!(start.elapsed() < Duration::from_secs(4));
    assert!(!env.path("copy").exists());
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "no request reached the server"
    );

    // The user can allow it for this remote (an internal web server of the team's).
    env.ok(&["remote", "set", "team", "--allow-private-links", "true"]);
    let listed = env.json(&["remote", "list"]);
    assert_eq!(listed[0]["allow_private_links"], true, "{listed}");
    env.ok(&["get", "evil/d", "--to", "copy"]);
    assert_eq!(
        std::fs::read(env.path("copy/ext/admin.html")).unwrap(),
        body
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

#[test]
fn a_locator_whose_range_overflows_is_refused_at_pull() {
    let env = Env::new();
    let c = bucket(&env);
    let body = b"x".to_vec();
    let manifest = Manifest::from_entries(vec![Entry {
        path: "a.txt".into(),
        size: 10,
        hash: Hash::of(&body),
        link: None,
        chunks: None,
    }]);
    let mut locator = Locator::default();
    locator.places.insert(
        Hash::of(&body),
        Place::Packed {
            pack: "p1".into(),
            offset: u64::MAX - 1,
            len: 10,
        },
    );
    plant(&c, 1, "evil/o", &manifest, &locator, vec![]);
    let pulled = env.json(&["pull"]);
    let refused = pulled["refused"][0]["reason"].as_str().unwrap_or_default();
    assert!(
        refused.contains("evil/o@1.0.0") && refused.contains("reaches past"),
        "{pulled}"
    );
    assert_eq!(env.json(&["list", "--all"]), serde_json::json!([]));
}

#[test]
fn an_object_larger_than_its_manifest_says_is_refused() {
    let env = Env::new();
    let c = bucket(&env);
    // A large file (fetched whole, not from a pack) whose object in the bucket has more bytes
    // than the manifest and the locator say.
    let body: Vec<u8> = (0..(1u32 << 20) + 10).map(|i| (i % 253) as u8).collect();
    let h = Hash::of(&body);
    let manifest = Manifest::from_entries(vec![Entry {
        path: "big.bin".into(),
        size: body.len() as u64,
        hash: h,
        link: None,
        chunks: None,
    }]);
    let mut locator = Locator::default();
    locator.places.insert(
        h,
        Place::Loose {
            len: body.len() as u64,
        },
    );
    let mut stuffed = body.clone();
    stuffed.extend_from_slice(&[0u8; 4096]);
    plant(
        &c,
        1,
        "evil/big",
        &manifest,
        &locator,
        vec![(Layout::new(&c.prefix).object(&h), stuffed)],
    );
    // The locator disagrees with the manifest: nothing is asked of the bucket.
    let small = b"tiny".to_vec();
    let manifest = Manifest::from_entries(vec![Entry {
        path: "tiny.txt".into(),
        size: small.len() as u64,
        hash: Hash::of(&small),
        link: None,
        chunks: None,
    }]);
    let mut locator = Locator::default();
    locator.places.insert(
        Hash::of(&small),
        Place::Packed {
            pack: "p2".into(),
            offset: 0,
            len: 200 << 20,
        },
    );
    plant(&c, 2, "evil/lie", &manifest, &locator, vec![]);
    env.ok(&["pull"]);

    let err = env
        .run(&["get", "evil/big", "--to", "copy"])
        .fails()
        .error();
    assert!(
        err.contains(&format!("objects/{}", h.to_hex()))
            && err.contains(&format!("not the {} expected", body.len())),
        "{err}"
    );
    let err = env
        .run(&["get", "evil/lie", "--to", "copy"])
        .fails()
        .error();
    assert!(
        err.contains("locator") && err.contains("the manifest says 4 bytes"),
        "{err}"
    );
    assert!(!env.path("copy").exists());
}

/// A web server whose file grows after it was linked, sent without a length (read to close).
#[test]
fn a_linked_file_that_grew_at_the_source_is_refused_at_its_recorded_size() {
    let env = Env::new();
    let body = Arc::new(std::sync::Mutex::new(b"small".to_vec()));
    let served = body.clone();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            while r.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let bytes = served.lock().map(|b| b.clone()).unwrap_or_default();
            let _ = write!(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
            let _ = s.write_all(&bytes);
        }
    });
    env.ok(&["create", "p/d"]);
    env.ok(&[
        "add-link",
        "p/d",
        &format!("http://127.0.0.1:{port}/labels.csv"),
    ]);
    *body.lock().unwrap() = vec![b'x'; 3 << 20];
    let err = env
        .run(&["get", "p/d@1.0.0", "--to", "copy"])
        .fails()
        .error();
    assert!(
        err.contains("labels.csv") && err.contains("not the 5 it had; refused"),
        "{err}"
    );
    assert!(!env.path("copy").exists());
}

#[test]
fn a_bucket_link_keeps_its_rules_when_its_pulled_parent_is_gone() {
    let env = Env::new();
    let body: &'static [u8] = b"internal admin page";
    let (port, hits) = counting_server(body);
    let c = bucket(&env);
    let loopback = format!("http://127.0.0.1:{port}/admin");
    let (m, l, objects) = with_link(&c, "ext/admin.html", &loopback, body);
    plant(&c, 1, "evil/d", &m, &l, objects);
    env.ok(&["pull"]);
    // The user builds on the teammate's version: the draft inherits the planted link.
    let draft = env.ok(&["create", "mine/x", "--parent", "evil/d"]).line();
    // Squashing drops the lineage; deleting the pulled parent removes it.
    let squashed = env.json(&["squash", "mine/s", "evil/d", &draft])["id"]
        .as_str()
        .unwrap()
        .to_string();
    env.ok(&["delete", "evil/d", "--force"]);
    for (name, id) in [("draft", &draft), ("squashed", &squashed)] {
        let to = format!("copy-{name}");
        let err = env
            .run(&["get", id, "--include", "ext/**", "--to", &to])
            .fails()
            .error();
        assert!(
            err.contains("ext/admin.html") && err.contains("loopback"),
            "{name}: {err}"
        );
        assert!(!env.path(&to).exists());
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "no request reached the server"
    );
}
