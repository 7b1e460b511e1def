//! Cases every backend must pass. Each runs with its own prefix in the bucket and its own homes.

use std::process::Stdio;

use serde_json::Value;

use crate::backend::{Backend, Kind};
use crate::support::{noise, tree, Env};

/// Runs each case once per backend: `folder::case`, `s3::case`, `azure::case`.
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod folder { $( #[test] fn $case() { super::$case(super::Kind::Folder, concat!("f-", stringify!($case))) } )* }
        mod s3 { $( #[test] fn $case() { super::$case(super::Kind::S3, concat!("s-", stringify!($case))) } )* }
        mod azure { $( #[test] fn $case() { super::$case(super::Kind::Azure, concat!("a-", stringify!($case))) } )* }
    };
}

on_every_backend!(
    a_version_travels_between_two_homes,
    an_upload_after_a_change_sends_only_the_change,
    two_homes_uploading_at_once_both_keep_their_versions,
    a_corrupt_remote_object_is_caught_by_get_and_verify,
    work_done_offline_is_pushed_later,
    remote_gc_removes_only_what_no_version_needs,
    publish_and_rename_reach_other_homes,
    a_subset_fetches_only_its_own_bytes,
    stats_of_a_remote_version_fetch_its_labels_not_its_images,
    a_laptop_session_is_uploaded_and_finalized_from_another_home,
    freed_content_comes_back_from_the_remote,
    tags_descriptions_and_metadata_reach_other_homes,
    get_by_name_looks_on_the_remote_past_a_local_draft,
    large_files_arrive_whole_and_a_corrupt_one_is_refused_by_name,
    an_edit_inside_a_shard_moves_only_its_pieces,
);

/// A 24 MB shard is stored and sent as pieces; a 4 KB edit inside it moves a few hundred KB
/// each way (upload, and the other home's get), the pieces are checked one by one on arrival,
/// a subset leaves them alone, and a damaged piece is named by its file.
fn an_edit_inside_a_shard_moves_only_its_pieces(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let a = b.home();
    let shard = noise(24 << 20, 1);
    a.write("data/shard-000.tar", &shard);
    a.write("data/labels.csv", b"path,label\nshard-000.tar,cat\n");
    let data = a.path("data");
    a.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    let up = a.json(&["upload", "p/d"]);
    assert_eq!(up["sent_bytes"], (24 << 20) + 29, "{up}");
    assert!(
        up["sent_objects"].as_u64().unwrap() > 40,
        "sent as pieces: {up}"
    );
    assert!(
        b.list("objects").is_empty(),
        "no object of its own for the shard"
    );

    let mut edited = shard.clone();
    edited[13_000_000..13_004_096].copy_from_slice(&noise(4096, 2));
    a.write("data/shard-000.tar", &edited);
    a.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    let up = a.json(&["upload", "p/d"]);
    let sent = up["sent_bytes"].as_u64().unwrap();
    assert!(
        sent > 4096 && sent <= 2 << 20,
        "a 4 KB edit sent {sent} bytes: {up}"
    );
    assert!(up["skipped_bytes"].as_u64().unwrap() > 20 << 20, "{up}");

    // The other home, holding 1.0.0, fetches only the changed pieces for 1.0.1.
    let other = b.home();
    other.ok(&["get", "p/d@1.0.0", "--to", "v1", "--mutable"]);
    assert_eq!(
        std::fs::read(other.path("v1/shard-000.tar")).unwrap(),
        shard
    );
    let got = other.json(&["get", "p/d@1.0.1", "--to", "v2", "--mutable"]);
    let fetched = got["fetched_bytes"].as_u64().unwrap();
    assert!(fetched > 4096 && fetched <= 2 << 20, "{got}");
    assert_eq!(tree(&other.path("v2")), tree(&data), "byte for byte");
    other.ok(&["verify", "p/d"]);
    other.ok(&["verify", "p/d", "--remote", "team"]);
    // Read-only copies are assembled from the pieces too.
    let ro = other.json(&["get", "p/d"]);
    let ro_path = std::path::PathBuf::from(ro["path"].as_str().unwrap());
    assert_eq!(
        std::fs::read(ro_path.join("shard-000.tar")).unwrap(),
        edited
    );

    // A subset without the shard fetches none of its pieces; with it, exactly its bytes.
    let third = b.home();
    let labels = third.json(&["get", "p/d", "--include", "labels.csv"]);
    assert_eq!(labels["fetched_bytes"], 29, "{labels}");
    let shard_only = third.json(&["get", "p/d", "--include", "*.tar"]);
    assert_eq!(shard_only["fetched_bytes"], 24 << 20, "{shard_only}");

    // One byte of one piece damaged on the remote: a fresh home's get refuses it, naming the
    // piece's object, and keeps nothing of it; verify --remote names the file.
    let (pack, _) = b
        .list("packs")
        .into_iter()
        .max_by_key(|(_, len)| *len)
        .expect("a pack");
    let original = b.read(&pack);
    let mut body = original.clone();
    body[original.len() / 2] ^= 0x01;
    b.write(&pack, body);
    let fourth = b.home();
    let err = fourth
        .run(&["get", "p/d@1.0.0", "--to", "copy", "--mutable"])
        .fails()
        .error();
    assert!(err.contains("does not match its hash"), "{err}");
    assert!(!fourth.path("copy").exists(), "no copy from bad bytes");
    let report = other
        .run(&["verify", "p/d@1.0.0", "--remote", "team"])
        .fails()
        .stdout();
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("MISMATCH") && l.contains("shard-000.tar")),
        "{report}"
    );
    b.write(&pack, original);
    fourth.ok(&["get", "p/d@1.0.0", "--to", "copy", "--mutable"]);
    assert_eq!(
        std::fs::read(fourth.path("copy/shard-000.tar")).unwrap(),
        shard
    );

    // Remote gc after 1.0.0 is deleted keeps every piece 1.0.1 needs.
    a.ok(&["delete", "p/d@1.0.0", "--force"]);
    a.ok(&["gc", "--remote", "team", "--grace", "0s"]);
    let fifth = b.home();
    fifth.ok(&["get", "p/d@1.0.1", "--to", "copy", "--mutable"]);
    assert_eq!(tree(&fifth.path("copy")), tree(&data));
}

/// 120 small files in 4 classes and one 2 MB file (stored loose, sent in one piece).
fn dataset(env: &Env) -> std::path::PathBuf {
    let root = env.images("data", 4, 120);
    let big: Vec<u8> = (0..(2u32 << 20))
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    env.write("data/blobs/big.bin", &big);
    root
}

fn ids_by_semver(env: &Env) -> Vec<(String, String, String)> {
    let all = env.json(&["list", "--all"]);
    let mut v: Vec<(String, String, String)> = all
        .as_array()
        .expect("versions")
        .iter()
        .map(|x| {
            (
                format!(
                    "{}/{}",
                    x["project"].as_str().unwrap(),
                    x["dataset"].as_str().unwrap()
                ),
                x["semver"].as_str().unwrap().to_string(),
                x["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn a_version_travels_between_two_homes(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let a = b.home();
    let data = dataset(&a);
    a.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    let up = a.json(&["upload", "p/d"]);
    assert_eq!(up["sent_objects"], 121, "{up}");
    assert_eq!(up["uploaded"][0], "p/d@1.0.0");
    assert_eq!(a.json(&["show", "p/d"])["upload_state"], "uploaded");
    assert_eq!(b.list("log").len(), 1, "one create event");

    let other = b.home();
    assert_eq!(other.json(&["list", "--all"]), Value::Array(vec![]));
    let pulled = other.json(&["pull"]);
    assert_eq!(pulled["new_versions"][0], "p/d@1.0.0");
    let v = other.json(&["show", "p/d"]);
    assert_eq!(v["upload_state"], "remote", "remote-only until fetched");
    assert_eq!(v["id"], up["id"]);
    assert_eq!(v["file_count"], 121);
    let files = other.json(&["files", "p/d", "--glob", "class1/**"]);
    assert_eq!(
        files.as_array().unwrap().len(),
        30,
        "files listed without fetching content"
    );
    assert!(other
        .store_files()
        .iter()
        .all(|f| f.contains("/manifests/")));

    let got = other.json(&["get", "p/d", "--to", "copy"]);
    assert_eq!(got["fetched_objects"], 121);
    assert_eq!(tree(&other.path("copy")), tree(&data), "byte for byte");
    assert_eq!(other.json(&["show", "p/d"])["upload_state"], "uploaded");
    // Again: nothing to fetch, nothing written.
    let again = other.json(&["get", "p/d", "--to", "copy"]);
    assert_eq!(again["reused"], true);
    other.ok(&["verify", "p/d"]);
    other.ok(&["verify", "p/d", "--remote", "team"]);
}

fn an_upload_after_a_change_sends_only_the_change(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let a = b.home();
    let data = dataset(&a);
    a.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    a.ok(&["upload", "p/d"]);
    let before: Vec<String> = b.list("packs").into_iter().map(|(k, _)| k).collect();
    a.write("data/class0/img00000.jpg", b"relabelled");
    a.write("data/class9/new.jpg", b"a new image");
    a.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    let up = a.json(&["upload", "p/d"]);
    assert_eq!(up["sent_objects"], 2, "{up}");
    assert_eq!(up["sent_bytes"], 21);
    assert_eq!(up["skipped_objects"], 120);
    let after = b.list("packs");
    assert_eq!(after.len(), before.len() + 1, "one new small pack");
    let again = a.json(&["upload", "p/d"]);
    assert_eq!(again["already_uploaded"], true);

    // The other side, holding 1.0.0, fetches just the two changed files for 1.0.1.
    let other = b.home();
    other.ok(&["get", "p/d@1.0.0"]);
    let got = other.json(&["get", "p/d@1.0.1"]);
    assert_eq!(got["fetched_objects"], 2);
    assert_eq!(got["fetched_bytes"], 21);
    let path = got["path"].as_str().unwrap();
    assert_eq!(tree(std::path::Path::new(path)), tree(&data));
}

fn two_homes_uploading_at_once_both_keep_their_versions(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let (x, y) = (b.home(), b.home());
    x.images("data", 2, 40);
    y.images("data", 3, 30);
    y.write("data/only-y.txt", b"y");
    for h in [&x, &y] {
        h.ok(&["snapshot", "p/d", h.path("data").to_str().unwrap()]);
        assert_eq!(h.json(&["show", "p/d"])["semver"], "1.0.0");
    }
    let spawn = |h: &Env| {
        h.cmd(&["upload", "p/d", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (px, py) = (spawn(&x), spawn(&y));
    let (ox, oy) = (
        px.wait_with_output().unwrap(),
        py.wait_with_output().unwrap(),
    );
    for o in [&ox, &oy] {
        assert!(
            o.status.success(),
            "both uploads succeed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let jx: Value = serde_json::from_slice(&ox.stdout).unwrap();
    let jy: Value = serde_json::from_slice(&oy.stdout).unwrap();
    let renumbered: Vec<&Value> = [&jx, &jy]
        .into_iter()
        .filter(|j| !j["renumbered_from"].is_null())
        .collect();
    assert_eq!(renumbered.len(), 1, "exactly one is renumbered: {jx} {jy}");
    assert_eq!(renumbered[0]["renumbered_from"], "1.0.0");
    assert_eq!(renumbered[0]["version"], "p/d@1.0.1");
    assert_eq!(b.list("log").len(), 2);
    x.ok(&["pull"]);
    y.ok(&["pull"]);
    let (vx, vy) = (ids_by_semver(&x), ids_by_semver(&y));
    assert_eq!(vx, vy, "both homes agree on which version is which");
    assert_eq!(vx.len(), 2);
    // And each can fetch the other's content.
    for h in [&x, &y] {
        for v in ["p/d@1.0.0", "p/d@1.0.1"] {
            h.ok(&["get", v]);
        }
    }
}

fn a_corrupt_remote_object_is_caught_by_get_and_verify(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let a = b.home();
    let data = dataset(&a);
    a.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    a.ok(&["upload", "p/d"]);
    let (pack, _) = b.list("packs").into_iter().next().expect("a pack");
    let original = b.read(&pack);
    let mut body = original.clone();
    let mid = body.len() / 2;
    body[mid] ^= 0x55;
    b.write(&pack, body);

    let other = b.home();
    let r = other.run(&["get", "p/d", "--to", "copy"]).fails();
    let err = r.error();
    assert!(err.contains("does not match its hash"), "{err}");
    assert!(!other.path("copy").exists(), "no copy from bad bytes");
    let v = other.run(&["verify", "p/d", "--remote", "team"]).fails();
    assert!(v.stdout().contains("MISMATCH"), "{}", v.stdout());
    let mismatched = v
        .stdout()
        .lines()
        .filter(|l| l.starts_with("MISMATCH"))
        .count();
    assert_eq!(mismatched, 1, "only the damaged file: {}", v.stdout());
    // Repaired at the source, the next get fetches only the object it refused; what arrived
    // intact the first time was kept, and nothing damaged was.
    b.write(&pack, original);
    let got = other.json(&["get", "p/d", "--to", "copy"]);
    assert_eq!(got["fetched_objects"], 1, "{got}");
    assert_eq!(tree(&other.path("copy")), tree(&data));
    // The local copy on the first home is fine; only the remote one is damaged.
    a.ok(&["verify", "p/d"]);
}

fn work_done_offline_is_pushed_later(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let a = b.home();
    let data = dataset(&a);
    a.ok(&[
        "--offline",
        "snapshot",
        "p/d",
        data.to_str().unwrap(),
        "--upload",
    ]);
    a.write("data/extra.txt", b"more");
    a.ok(&[
        "--offline",
        "snapshot",
        "p/d",
        data.to_str().unwrap(),
        "--upload",
    ]);
    let shown = a.json(&["--offline", "show", "p/d"]);
    assert_eq!(shown["upload_state"], "pending");
    assert!(b.list("log").is_empty(), "nothing sent while offline");
    let r = a.run(&["--offline", "push"]).fails();
    assert!(r.error().contains("--offline"));
    let pushed = a.json(&["push"]);
    assert_eq!(
        pushed["uploaded"],
        serde_json::json!(["p/d@1.0.0", "p/d@1.0.1"])
    );
    assert_eq!(a.json(&["push"])["uploaded"], serde_json::json!([]));
    let other = b.home();
    let got = other.json(&["get", "p/d", "--to", "copy"]);
    assert_eq!(got["version"], "p/d@1.0.1");
    assert_eq!(tree(&other.path("copy")), tree(&data));
}

fn remote_gc_removes_only_what_no_version_needs(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let a = b.home();
    for i in 0..20 {
        a.write(
            &format!("one/f{i}.txt"),
            format!("only in one, {i}").as_bytes(),
        );
    }
    a.images("two", 2, 25);
    a.write("two/unique.txt", b"only in two");
    a.ok(&[
        "snapshot",
        "p/one",
        a.path("one").to_str().unwrap(),
        "--upload",
    ]);
    a.ok(&[
        "snapshot",
        "p/two",
        a.path("two").to_str().unwrap(),
        "--upload",
    ]);
    a.ok(&["delete", "p/one", "--all"]);
    let kept = a.json(&["gc", "--remote", "team"]);
    assert_eq!(
        kept["objects_removed"], 0,
        "all of it is younger than a day"
    );
    assert!(kept["kept_young"].as_u64().unwrap() > 0);
    let dry = a.json(&["gc", "--remote", "team", "--grace", "0s", "--dry-run"]);
    assert!(dry["objects_removed"].as_u64().unwrap() >= 3, "{dry}");
    let before = b.list("packs").len();
    let done = a.json(&["gc", "--remote", "team", "--grace", "0s"]);
    assert_eq!(done["objects_removed"], dry["objects_removed"]);
    assert_eq!(done["live_versions"], 1);
    assert!(b.list("packs").len() < before);
    let other = b.home();
    other.ok(&["pull"]);
    let names: Vec<String> = ids_by_semver(&other).into_iter().map(|v| v.0).collect();
    assert_eq!(names, ["p/two"], "the deleted dataset is gone everywhere");
    other.ok(&["get", "p/two", "--to", "copy"]);
    assert_eq!(tree(&other.path("copy")), tree(&a.path("two")));
}

fn publish_and_rename_reach_other_homes(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let a = b.home();
    let other = b.home();
    a.images("data", 2, 10);
    a.ok(&[
        "snapshot",
        "p/d",
        a.path("data").to_str().unwrap(),
        "--upload",
    ]);
    other.ok(&["pull"]);
    a.ok(&["publish", "p/d"]);
    a.ok(&["rename", "p/d", "e"]);
    a.ok(&["move", "p/e", "team/vision"]);
    let pulled = other.json(&["pull"]);
    assert_eq!(pulled["events"], 3);
    let v = other.json(&["show", "team/vision/e"]);
    assert_eq!(v["state"], "published");
    assert!(other
        .run(&["show", "p/d"])
        .fails()
        .error()
        .contains("not found"));
}

fn a_subset_fetches_only_its_own_bytes(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let a = b.home();
    let data = dataset(&a);
    a.ok(&["snapshot", "p/d", data.to_str().unwrap(), "--upload"]);
    let other = b.home();
    let sub = other.json(&["get", "p/d", "--include", "class2/**"]);
    assert_eq!(sub["files"], 30);
    assert_eq!(sub["fetched_objects"], 30);
    let class2: u64 = a
        .json(&["files", "p/d", "--glob", "class2/**"])
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["size"].as_u64().unwrap())
        .sum();
    assert_eq!(sub["fetched_bytes"], class2);
    assert_eq!(
        other.json(&["show", "p/d"])["upload_state"],
        "remote",
        "still partly remote"
    );
    let frac = other.json(&["get", "p/d", "--fraction", "0.25", "--seed", "7"]);
    let frac_again = a.json(&["get", "p/d", "--fraction", "0.25", "--seed", "7"]);
    let listed = |p: &Value| {
        tree(std::path::Path::new(p["path"].as_str().unwrap()))
            .into_iter()
            .map(|(k, _)| k)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        listed(&frac),
        listed(&frac_again),
        "same seed, same files on both"
    );
}

/// A PNG whose bytes follow `seed`.
fn png(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let img = image::ImageBuffer::from_fn(w, h, |x, y| {
        image::Rgb([
            seed,
            (x as u8).wrapping_mul(7),
            (y as u8).wrapping_add(seed),
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .expect("encode");
    out.into_inner()
}

fn stats_of_a_remote_version_fetch_its_labels_not_its_images(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let a = b.home();
    // YOLO: 6 images, a label file each (distinct content), classes alternating.
    a.write(
        "y/data.yaml",
        b"train: images/train\nnames:\n  0: cat\n  1: dog\n",
    );
    for i in 0..6u8 {
        a.write(&format!("y/images/train/i{i}.png"), &png(20, 10, i));
        let line = format!("{} 0.5 0.5 0.{} 0.1\n", i % 2, i + 1);
        a.write(&format!("y/labels/train/i{i}.txt"), line.as_bytes());
    }
    a.ok(&["snapshot", "p/y", a.path("y").to_str().unwrap(), "--upload"]);
    let here = a.json(&["stats", "p/y"]);

    let other = b.home();
    other.ok(&["pull"]);
    let s = other.json(&["stats", "p/y"]);
    assert_eq!(s["source"]["format"], "yolo");
    assert_eq!(s["classes"], here["classes"], "the same counts as at home");
    assert_eq!(
        s["classes"],
        serde_json::json!([
            {"name": "cat", "images": 3, "instances": 3},
            {"name": "dog", "images": 3, "instances": 3},
        ])
    );
    assert!(s["dimensions"].is_null(), "no image was downloaded: {s}");
    assert!(
        s["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["message"]
                .as_str()
                .unwrap()
                .contains("image sizes not read for 6 images")),
        "{}",
        s["warnings"]
    );
    assert_eq!(other.json(&["show", "p/y"])["upload_state"], "remote");
    // Only the images were left to fetch: the 7 label files came with the stats.
    let got = other.json(&["get", "p/y"]);
    assert_eq!(got["fetched_objects"], 6, "{got}");
    let complete = other.json(&["stats", "p/y"]);
    assert_eq!(complete["cached"], false, "a partial answer is not cached");
    assert_eq!(complete["dimensions"], here["dimensions"]);
    assert_eq!(other.json(&["stats", "p/y"])["cached"], true);

    // Offline with the labels not here: the usual "needs the network" refusal.
    let third = b.home();
    third.ok(&["pull"]);
    let r = third.run(&["--offline", "stats", "p/y", "--json"]).fails();
    let e = &r.json()["error"];
    assert_eq!(e["kind"], "unavailable", "{e}");
    assert_eq!(e["remedy"], "go_online");
}

/// The laptop's day: 1.0.0 shared in the morning, then offline a child and a draft with added
/// and removed files, exported. Meanwhile a teammate shared their own 1.0.1. A desk imports the
/// session with `--upload --finalize`: the laptop's child is renumbered after the teammate's,
/// and a fourth home pulls every version and gets the laptop's bytes.
fn a_laptop_session_is_uploaded_and_finalized_from_another_home(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let laptop = b.home();
    let data = dataset(&laptop);
    laptop.ok(&["snapshot", "p/d", data.to_str().unwrap(), "--upload"]);

    let mate = b.home();
    mate.ok(&["pull"]);
    mate.ok(&["get", "p/d", "--to", "mine", "--mutable"]);
    mate.write("mine/class0/mate.jpg", b"the teammate's picture");
    mate.ok(&["snapshot", "p/d", "mine", "--upload"]);

    laptop.write("data/class1/train.jpg", b"labelled on the train");
    laptop.ok(&["--offline", "snapshot", "p/d", data.to_str().unwrap()]);
    laptop.ok(&["--offline", "create", "p/d", "--parent", "p/d@1.0.1"]);
    laptop.write("late/extra.jpg", b"one more");
    laptop.ok(&[
        "--offline",
        "add",
        "p/d@1.0.2",
        "late/extra.jpg",
        "--to",
        "class2",
    ]);
    laptop.ok(&["--offline", "remove", "p/d@1.0.2", "class3/*"]);
    let ids: Vec<String> = ["p/d@1.0.0", "p/d@1.0.1", "p/d@1.0.2"]
        .iter()
        .map(|r| {
            laptop.json(&["--offline", "show", r])["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    laptop.ok(&["--offline", "export", "p/d", "-o", "day.strata"]);
    assert_eq!(
        b.list("log").len(),
        2,
        "nothing of the laptop's day is shared yet"
    );

    let desk = b.home();
    let file = laptop.path("day.strata");
    let out = desk.json(&["import", file.to_str().unwrap(), "--upload", "--finalize"]);
    let by_id = |id: &str| {
        out["versions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(by_id(&ids[0])["uploaded"], true);
    assert_eq!(
        by_id(&ids[0])["renumbered_from"],
        Value::Null,
        "already shared as 1.0.0"
    );
    let child = by_id(&ids[1]);
    assert_eq!(child["renumbered_from"], "1.0.1", "{out}");
    assert_eq!(child["uploaded"], true);
    let draft = by_id(&ids[2]);
    assert_eq!(draft["state"], "final");
    assert_eq!(draft["uploaded"], true);
    assert_eq!(out["finalized"].as_array().unwrap().len(), 1);
    // Importing again sends nothing.
    let again = desk.json(&["import", file.to_str().unwrap(), "--upload", "--finalize"]);
    assert_eq!(again["new_objects"], 0);
    assert_eq!(
        b.list("log").len(),
        4,
        "two creates from the import, none twice"
    );

    let fourth = b.home();
    fourth.ok(&["pull"]);
    for id in &ids {
        let laptop_copy = {
            laptop.ok(&["--offline", "get", id, "--to", &format!("l-{id}")]);
            tree(&laptop.path(&format!("l-{id}")))
        };
        fourth.ok(&["get", id, "--to", &format!("f-{id}")]);
        assert_eq!(tree(&fourth.path(&format!("f-{id}"))), laptop_copy, "{id}");
    }
    let numbers: Vec<String> = ids_by_semver(&fourth)
        .into_iter()
        .map(|(_, s, _)| s)
        .collect();
    assert_eq!(numbers, ["1.0.0", "1.0.1", "1.0.2", "1.0.3"]);

    // A home that only pulled exports too: the content is fetched first; offline it is named.
    let fifth = b.home();
    fifth.ok(&["pull"]);
    let err = fifth
        .run(&["--offline", "export", "p/d", "-o", "x.strata"])
        .fails()
        .error();
    assert!(err.contains("not on this machine"), "{err}");
    fifth.ok(&["export", "p/d", "-o", "all.strata"]);
    let sixth = Env::new();
    sixth.ok(&["import", fifth.path("all.strata").to_str().unwrap()]);
    sixth.ok(&["get", &ids[2], "--to", "copy"]);
    assert_eq!(
        tree(&sixth.path("copy")),
        tree(&fourth.path(&format!("f-{}", ids[2])))
    );
}

/// `free` checks the bucket itself (a pack cut short there keeps the version), drops the local
/// content, and `get` fetches it back byte for byte.
fn freed_content_comes_back_from_the_remote(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let a = b.home();
    let data = dataset(&a);
    a.ok(&["snapshot", "p/d", data.to_str().unwrap(), "--upload"]);
    let (pack, _) = b.list("packs").into_iter().next().expect("a pack");
    let original = b.read(&pack);
    b.write(&pack, original[..original.len() / 2].to_vec());
    let r = a.run(&["free", "p/d"]).fails();
    assert!(
        r.error().contains("has") && r.error().contains("bytes where"),
        "{}",
        r.stderr()
    );
    a.ok(&["verify", "p/d"]);

    b.write(&pack, original);
    let freed = a.json(&["free", "p/d"]);
    assert_eq!(freed["freed"][0]["version"], "p/d@1.0.0", "{freed}");
    assert!(freed["store_bytes"].as_u64().unwrap() > 2 << 20, "{freed}");
    assert!(a.store_files().iter().all(|f| f.contains("/manifests/")));
    let list = a.json(&["cache", "list"]);
    assert_eq!(list["versions"][0]["local"], "none", "{list}");
    let got = a.json(&["get", "p/d", "--to", "copy"]);
    assert_eq!(got["fetched_objects"], 121, "{got}");
    assert_eq!(tree(&a.path("copy")), tree(&data), "byte for byte");
    a.ok(&["verify", "p/d"]);
}

fn tags_descriptions_and_metadata_reach_other_homes(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let a = b.home();
    let other = b.home();
    a.images("data", 2, 6);
    a.ok(&[
        "snapshot",
        "p/d",
        a.path("data").to_str().unwrap(),
        "--upload",
    ]);
    other.ok(&["pull"]);
    a.ok(&["tag", "p/d", "+best", "+nightly"]);
    a.ok(&["describe", "p/d", "labels checked by hand"]);
    a.ok(&["meta", "p/d", "lr=0.001", "owner=ana"]);
    assert_eq!(b.list("log").len(), 4, "a create and three changes");
    let pulled = other.json(&["pull"]);
    assert_eq!(pulled["events"], 3, "{pulled}");
    let v = other.json(&["show", "p/d"]);
    assert_eq!(v["tags"], serde_json::json!(["best", "nightly"]), "{v}");
    assert_eq!(v["description"], "labels checked by hand");
    assert_eq!(
        v["metadata"],
        serde_json::json!({"lr": 0.001, "owner": "ana"})
    );
    assert_eq!(other.json(&["show", "p/d:best"])["id"], v["id"]);

    // Offline, each change waits in the queue and says so.
    let r = a.ok(&["--offline", "tag", "p/d", "-best", "+gold"]);
    assert!(
        r.stderr()
            .contains("warning: not yet shared on remote 'team' (offline); it waits to be pushed"),
        "{}",
        r.stderr()
    );
    a.ok(&["--offline", "meta", "p/d", "owner=", "split=v2"]);
    let described = a.json(&["--offline", "describe", "p/d", "relabelled 3 images"]);
    assert!(
        described["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("waits to be pushed")),
        "{described}"
    );
    assert_eq!(b.list("log").len(), 4, "nothing sent while offline");
    // Meanwhile the other home sets another key, and the same one: both keys survive, and on
    // the same key the change later in the log (the push) wins on every home.
    other.ok(&["meta", "p/d", "epochs=30", "split=v1"]);
    let pushed = a.json(&["push"]);
    assert_eq!(pushed["events"], 3, "{pushed}");
    other.ok(&["pull"]);
    let want_meta = serde_json::json!({"lr": 0.001, "split": "v2", "epochs": 30});
    for home in [&a, &other] {
        let v = home.json(&["show", "p/d"]);
        assert_eq!(v["tags"], serde_json::json!(["gold", "nightly"]), "{v}");
        assert_eq!(v["description"], "relabelled 3 images");
        assert_eq!(v["metadata"], want_meta, "{v}");
    }
}

/// A home holding only its own draft of a dataset: `get project/name` does not stop at "only
/// drafts here" but pulls, and gets the teammate's final version.
fn get_by_name_looks_on_the_remote_past_a_local_draft(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let a = b.home();
    let other = b.home();
    a.images("data", 2, 4);
    a.ok(&[
        "snapshot",
        "p/d",
        a.path("data").to_str().unwrap(),
        "--upload",
    ]);
    other.ok(&["create", "p/d", "--version", "2.0.0"]);
    let got = other.json(&["get", "p/d", "--to", "copy"]);
    assert_eq!(got["version"], "p/d@1.0.0", "{got}");
    assert_eq!(tree(&other.path("copy")), tree(&a.path("data")));
    assert_eq!(
        other.json(&["show", "p/d", "--include-drafts"])["semver"],
        "2.0.0"
    );
}

/// Large objects travel whole, not in packs, and are fetched several at once, each read in
/// large buffers: sizes that end mid-buffer and span several buffers (and, uploading, several
/// parts) must arrive byte for byte, and a damaged one must be refused by its key while the
/// intact ones are kept for the next try.
/// Large files stored whole, as every version made before pieces existed stores them: still
/// sent, fetched and checked as one object each, by homes that cut new files into pieces.
fn large_files_arrive_whole_and_a_corrupt_one_is_refused_by_name(kind: Kind, name: &str) {
    let b = Backend::new(kind, name);
    let mut a = b.home();
    a.vars.push(("STRATA_CHUNKED_MIN".into(), "off".into()));
    for (i, size) in [(0u32, 1u32 << 20), (1, (20 << 20) + 7), (2, (9 << 20) + 3)] {
        let body: Vec<u8> = (0..size)
            .map(|j| ((j ^ (i << 24)).wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        a.write(&format!("data/shard{i}.bin"), &body);
    }
    a.write("data/labels.csv", b"path,label\nshard0.bin,a\n");
    let data = a.path("data");
    a.ok(&["snapshot", "p/d", data.to_str().unwrap()]);
    a.ok(&["upload", "p/d"]);

    let other = b.home();
    other.ok(&["pull"]);
    let got = other.json(&["get", "p/d", "--to", "copy", "--mutable"]);
    assert_eq!(got["fetched_objects"], 4, "{got}");
    assert_eq!(tree(&other.path("copy")), tree(&data), "byte for byte");
    other.ok(&["verify", "p/d"]);
    other.ok(&["verify", "p/d", "--remote", "team"]);

    // One byte of the 20 MB object flipped, past its first buffers.
    let (big, _) = b
        .list("objects")
        .into_iter()
        .find(|(_, len)| *len == (20 << 20) + 7)
        .expect("the 20 MB object");
    let original = b.read(&big);
    let mut body = original.clone();
    body[(17 << 20) + 5] ^= 0x01;
    b.write(&big, body);
    let third = b.home();
    let err = third
        .run(&["get", "p/d", "--to", "copy", "--mutable"])
        .fails()
        .error();
    let hex = big.rsplit('/').next().unwrap_or_default();
    assert!(
        err.contains("does not match its hash") && err.contains(hex),
        "names the damaged object: {err}"
    );
    assert!(!third.path("copy").exists(), "no copy from bad bytes");
    assert!(
        !third.store_files().iter().any(|f| f.ends_with(hex)),
        "the damaged object is not stored"
    );
    let report = other
        .run(&["verify", "p/d", "--remote", "team"])
        .fails()
        .stdout();
    let mismatched: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("MISMATCH"))
        .collect();
    assert_eq!(mismatched.len(), 1, "{report}");
    assert!(mismatched[0].contains("shard1.bin"), "{report}");

    // Repaired, the next get fetches only what it refused: the intact objects were kept.
    b.write(&big, original);
    let got = third.json(&["get", "p/d", "--to", "copy", "--mutable"]);
    assert_eq!(got["fetched_objects"], 1, "{got}");
    assert_eq!(tree(&third.path("copy")), tree(&data));
}
