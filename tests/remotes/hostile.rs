//! A bucket written by something other than Strata, or by a hostile teammate: what it says can
//! never lead a copy out of its folder, delete work that was never shared, or stop a pull. Each
//! case plants crafted log entries (and, where it matters, manifests and locators) next to real
//! versions a teammate shares, then checks that the victim's `pull` goes on, reports exactly the
//! bad entries, applies the good ones around them, and writes nothing outside its home.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use strata_core::{Entry, Hash, Manifest, RemoteSpec};
use strata_remote::log::{try_append, Event, RemoteVersion};
use strata_remote::{connect, Layout, Locator, Place};

use crate::backend::{block, Backend, Kind};
use crate::support::{tree, Env};

/// A bucket and a teammate home that shares real versions through it.
struct Team {
    b: Backend,
    mate: Env,
    shared: std::cell::Cell<usize>,
}

impl Team {
    fn new(kind: Kind, name: &str) -> Team {
        let b = Backend::new(kind, name);
        let mate = b.home();
        Team {
            b,
            mate,
            shared: Default::default(),
        }
    }

    /// The teammate snapshots a few new files into `dataset` and uploads; returns the label.
    fn share(&self, dataset: &str) -> String {
        let n = self.shared.get() + 1;
        self.shared.set(n);
        let dir = format!("src{n}");
        self.mate.images(&dir, 2, 4);
        self.mate
            .write(&format!("{dir}/own.txt"), format!("share {n}").as_bytes());
        let up = self.mate.json(&[
            "snapshot",
            dataset,
            self.mate.path(&dir).to_str().unwrap(),
            "--upload",
        ]);
        label(&up["version"])
    }

    fn key(&self, rel: &str) -> String {
        if self.b.prefix.is_empty() {
            format!("strata/{rel}")
        } else {
            format!("{}/strata/{rel}", self.b.prefix)
        }
    }

    fn log_key(seq: u64) -> String {
        format!("log/{seq:012}.json")
    }

    /// The log entry `seq` as JSON.
    fn entry(&self, seq: u64) -> Value {
        serde_json::from_slice(&self.b.read(&self.key(&Team::log_key(seq)))).unwrap()
    }

    fn plant(&self, seq: u64, body: Vec<u8>) {
        self.b.write(&self.key(&Team::log_key(seq)), body);
    }

    fn next_seq(&self) -> u64 {
        self.b.list("log").len() as u64 + 1
    }

    /// A copy of `create` entry `template` made a different version, changed by `f`.
    fn forged(&self, template: u64, f: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut e = self.entry(template);
        e["version"]["id"] = json!("ab".repeat(16));
        e["version"]["semver"] = json!("7.0.0");
        e["seq"] = json!(0);
        f(&mut e);
        serde_json::to_vec(&e).unwrap()
    }
}

/// `project/name@semver` of a version as `--json` shows it.
fn label(v: &Value) -> String {
    format!(
        "{}/{}@{}",
        v["project"].as_str().unwrap(),
        v["dataset"].as_str().unwrap(),
        v["semver"].as_str().unwrap()
    )
}

/// Every file and folder beside the home (the home's parent, minus the home), with contents.
fn outside_home(env: &Env) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &Path, p: &Path, skip: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(p).unwrap().flatten() {
            let path = e.path();
            if path == skip {
                continue;
            }
            let rel = path.strip_prefix(root).unwrap().display().to_string();
            if path.is_dir() {
                out.push((format!("{rel}/"), Vec::new()));
                walk(root, &path, skip, out);
            } else {
                out.push((rel, std::fs::read(&path).unwrap_or_default()));
            }
        }
    }
    let mut out = Vec::new();
    walk(env.dir.path(), env.dir.path(), &env.home(), &mut out);
    out.sort();
    out
}

/// `pull --json` that must succeed (warnings are in the JSON; stderr stays quiet).
fn pull(env: &Env) -> Value {
    env.json(&["pull"])
}

/// `pull` as a person runs it: the summary line and the warnings on stderr.
fn pull_by_hand(env: &Env) -> (String, String) {
    let r = env.ok(&["pull"]);
    (r.stdout(), r.stderr())
}

fn refused_seqs(pulled: &Value) -> Vec<u64> {
    pulled["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect()
}

fn reason(pulled: &Value, seq: u64) -> String {
    pulled["refused"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["seq"] == seq)
        .and_then(|r| r["reason"].as_str())
        .unwrap_or_else(|| panic!("entry {seq} not refused: {pulled}"))
        .to_string()
}

fn versions(env: &Env) -> Vec<String> {
    let mut v: Vec<String> = env
        .json(&["list", "--all"])
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            format!(
                "{}/{}@{}",
                x["project"].as_str().unwrap(),
                x["dataset"].as_str().unwrap(),
                x["semver"].as_str().unwrap()
            )
        })
        .collect();
    v.sort();
    v
}

/// Plants the entries `bad` makes (given the team, once its first version is in the log, and
/// the first free number) between two versions the teammate shares, and checks what the
/// victim's pull makes of them: each refused with a reason containing its needle, both good
/// versions in, nothing written outside the home, and each refusal reported once.
fn bad_entries_are_skipped(
    kind: Kind,
    name: &str,
    bad: impl FnOnce(&Team, u64) -> Vec<(Vec<u8>, &'static str)>,
) {
    let t = Team::new(kind, name);
    let victim = t.b.home();
    let watcher = t.b.home();
    let first = t.share("p/good");
    let from = t.next_seq();
    let planted: Vec<(u64, &str)> = bad(&t, from)
        .into_iter()
        .enumerate()
        .map(|(i, (body, needle))| {
            let seq = from + i as u64;
            t.plant(seq, renumbered(body, seq));
            (seq, needle)
        })
        .collect();
    // The teammate's next upload reads over the bad entries first, and still goes through.
    let second = t.share("p/good");

    let before = outside_home(&victim);
    let pulled = pull(&victim);
    let seqs: Vec<u64> = planted.iter().map(|(s, _)| *s).collect();
    assert_eq!(refused_seqs(&pulled), seqs, "{pulled}");
    let (summary, stderr) = pull_by_hand(&watcher);
    assert!(
        summary.contains(&format!("{} skipped", seqs.len())),
        "{summary}"
    );
    for (seq, needle) in &planted {
        let why = reason(&pulled, *seq);
        assert!(
            why.contains(needle),
            "entry {seq}: wanted '{needle}' in '{why}'"
        );
        assert!(!why.contains('\n') && !why.contains('\u{1b}'), "{why}");
        assert!(
            stderr.contains(&format!("warning: skipped log entry {seq}: ")),
            "{stderr}"
        );
    }
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("skipped log entry"))
            .count(),
        seqs.len(),
        "{stderr}"
    );
    assert_eq!(pulled["new_versions"], json!([first, second]), "{pulled}");
    assert_eq!(versions(&victim), [first.clone(), second.clone()]);
    let got = victim.json(&["get", &second]);
    assert!(Path::new(got["path"].as_str().unwrap()).starts_with(victim.home()));
    victim.ok(&["get", &first, "--to", "copy"]);
    let mut after = outside_home(&victim);
    after.retain(|(p, _)| !p.starts_with("copy"));
    assert_eq!(after, before, "something was written outside the home");
    assert!(!victim.dir.path().join("escaped").exists());

    let again = pull(&victim);
    assert_eq!(again["refused"], json!([]), "reported once: {again}");
    let (_, stderr) = pull_by_hand(&watcher);
    assert!(!stderr.contains("skipped"), "reported once: {stderr}");
}

/// Gives a JSON entry numbered 0 its place; other bodies are planted as they are.
fn renumbered(body: Vec<u8>, seq: u64) -> Vec<u8> {
    match serde_json::from_slice::<Value>(&body) {
        Ok(mut v) if v.get("seq") == Some(&json!(0)) => {
            v["seq"] = json!(seq);
            serde_json::to_vec(&v).unwrap()
        }
        _ => body,
    }
}

/// Copies of the teammate's first `create`, each made a different version and changed by `f`.
/// A change to a forged `create` entry, and the words its refusal must contain.
type Forgery = (fn(&mut Value), &'static str);

fn forged_cases(kind: Kind, name: &str, cases: Vec<Forgery>) {
    bad_entries_are_skipped(kind, name, |t, _| {
        cases
            .into_iter()
            .map(|(f, needle)| (t.forged(1, f), needle))
            .collect()
    });
}

/// Runs each case on a shared folder and on SeaweedFS.
macro_rules! on_folder_and_s3 {
    ($($case:ident),* $(,)?) => {
        mod folder { $( #[test] fn $case() { super::$case(super::Kind::Folder, concat!("hf-", stringify!($case))) } )* }
        mod s3 { $( #[test] fn $case() { super::$case(super::Kind::S3, concat!("hs-", stringify!($case))) } )* }
    };
}

on_folder_and_s3!(
    a_version_id_that_climbs_out_is_refused,
    an_absolute_version_id_is_refused,
    a_version_id_that_is_not_hex_is_refused,
    a_dataset_name_with_dots_or_control_characters_is_refused,
    a_semver_that_is_garbage_or_overflows_is_refused,
    parents_that_are_not_ids_are_refused,
    entries_that_are_not_events_are_refused,
    a_giant_entry_is_refused_without_being_read,
    a_hole_in_the_log_holds_back_what_follows_until_it_is_filled,
    a_teammates_delete_all_keeps_work_never_shared,
    a_teammates_rename_keeps_work_never_shared_under_the_old_name,
    upload_push_and_remote_gc_go_on_past_a_bad_entry,
    annotations_that_break_the_rules_are_refused_whole,
);

fn a_version_id_that_climbs_out_is_refused(kind: Kind, name: &str) {
    forged_cases(
        kind,
        name,
        vec![
            (
                |e| e["version"]["id"] = json!("../../../escaped"),
                "not a version id",
            ),
            (
                |e| e["version"]["id"] = json!("../../../escaped/0123456789abcdef0"),
                "not a version id",
            ),
        ],
    );
}

fn an_absolute_version_id_is_refused(kind: Kind, name: &str) {
    forged_cases(
        kind,
        name,
        vec![(
            |e| e["version"]["id"] = json!("/tmp/strata-escaped-absolute-id"),
            "not a version id",
        )],
    );
    assert!(!Path::new("/tmp/strata-escaped-absolute-id").exists());
}

fn a_version_id_that_is_not_hex_is_refused(kind: Kind, name: &str) {
    forged_cases(
        kind,
        name,
        vec![
            (
                |e| e["version"]["id"] = json!("ghijklmnopqrstuvghijklmnopqrstuv"),
                "not a version id",
            ),
            (
                |e| e["version"]["id"] = json!("ABCDEF0123456789ABCDEF0123456789"),
                "not a version id",
            ),
            (|e| e["version"]["id"] = json!(""), "not a version id"),
        ],
    );
}

fn a_dataset_name_with_dots_or_control_characters_is_refused(kind: Kind, name: &str) {
    forged_cases(
        kind,
        name,
        vec![
            (
                |e| e["version"]["dataset"] = json!("p/../../escaped"),
                "invalid project name",
            ),
            (
                |e| e["version"]["dataset"] = json!("p/bad\u{1b}[2Jname"),
                "invalid dataset name",
            ),
            (
                |e| e["version"]["dataset"] = json!(format!("p/{}", "x".repeat(300))),
                "at most",
            ),
            (
                |e| e["version"]["tags"] = json!(["ok", "bad\nline"]),
                "invalid tag",
            ),
            (
                |e| e["version"]["description"] = json!("d".repeat(70_000)),
                "description",
            ),
        ],
    );
}

fn a_semver_that_is_garbage_or_overflows_is_refused(kind: Kind, name: &str) {
    forged_cases(
        kind,
        name,
        vec![
            (
                |e| e["version"]["semver"] = json!("1.0.18446744073709551615"),
                "not supported",
            ),
            (
                |e| e["version"]["semver"] = json!("1.0.18446744073709551616"),
                "invalid semantic version",
            ),
            (
                |e| e["version"]["semver"] = json!("one"),
                "invalid semantic version",
            ),
            (|e| e["version"]["file_count"] = json!(u64::MAX), "files"),
            (
                |e| e["version"]["total_bytes"] = json!(u64::MAX),
                "total size",
            ),
            (|e| e["version"]["created_at"] = json!(-5), "creation time"),
        ],
    );
}

fn parents_that_are_not_ids_are_refused(kind: Kind, name: &str) {
    forged_cases(
        kind,
        name,
        vec![
            (|e| e["version"]["parents"] = json!(["../../x"]), "parent"),
            (
                |e| e["version"]["parents"] = json!(["ab".repeat(16)]),
                "its parent",
            ),
            (
                |e| e["version"]["state"] = json!("draft"),
                "cannot be shared",
            ),
        ],
    );
}

fn entries_that_are_not_events_are_refused(kind: Kind, name: &str) {
    let event = |v: Value| serde_json::to_vec(&v).unwrap();
    bad_entries_are_skipped(kind, name, |_, _| {
        let mut trailing =
            event(json!({"seq": 0, "at": 0, "by": "x", "kind": "publish", "id": "cd".repeat(16)}));
        trailing.extend_from_slice(b"trailing");
        vec![
            (b"{ this is not json".to_vec(), "not a Strata log event"),
            (Vec::new(), "not a Strata log event"),
            (
                event(json!({"seq": 0, "at": 0, "by": "x", "kind": "launch"})),
                "unknown variant",
            ),
            (
                event(json!({"seq": 0, "at": 0, "by": "x", "kind": "delete", "id": "../../x"})),
                "not a version id",
            ),
            (
                event(
                    json!({"seq": 0, "at": 0, "by": "x", "kind": "delete_dataset", "dataset": "../.."}),
                ),
                "invalid project name",
            ),
            (
                event(
                    json!({"seq": 0, "at": 0, "by": "x", "kind": "rename", "from": "p/good", "to": "../escaped"}),
                ),
                "invalid project name",
            ),
            (trailing, "not a Strata log event"),
            (
                event(
                    json!({"seq": 999, "at": 0, "by": "x", "kind": "publish", "id": "cd".repeat(16)}),
                ),
                "says it is number 999",
            ),
        ]
    });
}

fn a_giant_entry_is_refused_without_being_read(kind: Kind, name: &str) {
    let t = Team::new(kind, name);
    let victim = t.b.home();
    let first = t.share("p/good");
    // 50 MB that would even parse: a valid entry padded with spaces.
    let mut giant = t.forged(1, |e| e["seq"] = json!(2));
    giant.resize(50 << 20, b' ');
    t.plant(2, giant);
    let second = t.share("p/good");
    let started = Instant::now();
    let pulled = pull(&victim);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(refused_seqs(&pulled), [2], "{pulled}");
    assert!(reason(&pulled, 2).contains("larger than 1048576 bytes"));
    assert_eq!(pulled["new_versions"], json!([first, second]));
}

fn a_hole_in_the_log_holds_back_what_follows_until_it_is_filled(kind: Kind, name: &str) {
    let t = Team::new(kind, name);
    let victim = t.b.home();
    let first = t.share("p/g");
    let id = t.entry(1)["version"]["id"].clone();
    // Number 2 is missing; 3 deletes the first version; and one number far away.
    let delete = json!({"seq": 3, "at": 1, "by": "mate", "kind": "delete", "id": id});
    t.plant(3, serde_json::to_vec(&delete).unwrap());
    t.plant(999_999_999_999, b"junk".to_vec());
    let pulled = pull(&victim);
    assert_eq!(pulled["position"], 1, "{pulled}");
    assert_eq!(pulled["new_versions"], json!([first]));
    assert_eq!(pulled["refused"], json!([]));
    assert!(pulled["warnings"][0]
        .as_str()
        .unwrap()
        .contains("has no entry 2"));
    assert_eq!(versions(&victim), [first], "the delete waits");

    // The teammate's next upload takes number 2; then everything after it applies in order.
    let second = t.share("p/g");
    assert_eq!(t.entry(2)["version"]["semver"], "1.0.1");
    let (_, stderr) = pull_by_hand(&victim);
    assert!(stderr.contains("has no entry 4"), "{stderr}");
    let pulled = t.b.home().json(&["pull"]);
    assert_eq!(pulled["position"], 3, "{pulled}");
    assert_eq!(pulled["new_versions"], json!([second]), "{pulled}");
    assert_eq!(versions(&victim), [second]);
}

fn a_teammates_delete_all_keeps_work_never_shared(kind: Kind, name: &str) {
    let t = Team::new(kind, name);
    let victim = t.b.home();
    let shared = t.share("p/d");
    victim.ok(&["pull"]);
    victim.images("mine", 2, 6);
    let local =
        label(&victim.json(&["snapshot", "p/d", victim.path("mine").to_str().unwrap()])["version"]);
    let draft = label(&victim.json(&["create", "p/d"]));
    t.mate.ok(&["delete", "p/d", "--all"]);

    let pulled = pull(&victim);
    assert_eq!(pulled["deleted"], 1, "{pulled}");
    assert_eq!(pulled["kept_local"], json!([local, draft]), "{pulled}");
    assert_eq!(
        pulled["warnings"],
        json!([format!(
            "kept 2 version(s) of p/d not shared on 'team' (1.0.1, 1.0.2 (draft)); a team member deleted the dataset there"
        )]),
        "{pulled}"
    );
    assert_eq!(versions(&victim), [local.clone(), draft.clone()]);
    assert!(!versions(&victim).contains(&shared));
    // The kept versions are whole: listed, readable, and their content checks out.
    victim.ok(&["files", &local]);
    let verified = victim.json(&["verify", &local]);
    assert_eq!(verified["mismatches"], json!([]));
    victim.ok(&["get", &local, "--to", "copy"]);
    assert_eq!(tree(&victim.path("copy")), tree(&victim.path("mine")));
}

fn a_teammates_rename_keeps_work_never_shared_under_the_old_name(kind: Kind, name: &str) {
    let t = Team::new(kind, name);
    let victim = t.b.home();
    let shared = t.share("p/d");
    let shared_id = t.entry(1)["version"]["id"].clone();
    victim.ok(&["pull"]);
    victim.images("mine", 2, 6);
    let local =
        label(&victim.json(&["snapshot", "p/d", victim.path("mine").to_str().unwrap()])["version"]);
    t.mate.ok(&["rename", "p/d", "e"]);

    let (summary, stderr) = pull_by_hand(&victim);
    assert!(summary.contains("1 local versions kept"), "{summary}");
    assert!(
        stderr.contains(
            "warning: p/d became p/e on 'team'; 1 version(s) here not shared there stay under p/d"
        ),
        "{stderr}"
    );
    assert_eq!(
        versions(&victim),
        [local, "p/e@1.0.0".into()],
        "was {shared}"
    );
    assert_eq!(victim.json(&["show", "p/e"])["id"], shared_id);
    victim.ok(&["files", "p/d@1.0.1"]);
    // The kept version can still be shared, under its own name.
    let up = victim.json(&["upload", "p/d"]);
    assert_eq!(up["version"], "p/d@1.0.1");
    let mate = t.mate.json(&["pull"]);
    assert_eq!(mate["new_versions"], json!(["p/d@1.0.1"]));
}

fn upload_push_and_remote_gc_go_on_past_a_bad_entry(kind: Kind, name: &str) {
    let t = Team::new(kind, name);
    let victim = t.b.home();
    let first = t.share("p/good");
    t.plant(2, b"\x00\x01 garbage".to_vec());
    let forged = t.forged(1, |e| e["version"]["dataset"] = json!("../../escaped"));
    t.plant(3, renumbered(forged, 3));

    victim.images("mine", 2, 6);
    let up = victim.ok(&[
        "snapshot",
        "p/mine",
        victim.path("mine").to_str().unwrap(),
        "--upload",
    ]);
    assert!(
        up.stderr().contains("warning: skipped log entry 2: "),
        "{}",
        up.stderr()
    );
    assert_eq!(victim.json(&["show", "p/mine"])["upload_state"], "uploaded");

    victim.write("mine/more.txt", b"offline work");
    victim.ok(&[
        "--offline",
        "snapshot",
        "p/mine",
        victim.path("mine").to_str().unwrap(),
        "--upload",
    ]);
    let pushed = victim.json(&["push"]);
    assert_eq!(pushed["uploaded"], json!(["p/mine@1.0.1"]), "{pushed}");

    let gc = victim.json(&["gc", "--remote", "team", "--grace", "0s"]);
    assert_eq!(gc["live_versions"], 3, "{gc}");
    let refused: Vec<u64> = gc["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(refused, [2, 3], "{gc}");

    // Everything shared is still whole for a newcomer.
    let other = t.b.home();
    let pulled = pull(&other);
    assert_eq!(refused_seqs(&pulled), [2, 3]);
    other.ok(&["get", &first, "--to", "a"]);
    other.ok(&["get", "p/mine", "--to", "b"]);
    assert_eq!(tree(&other.path("b")), tree(&victim.path("mine")));
}

#[test]
fn remote_gc_keeps_what_a_refused_entry_names() {
    let t = Team::new(Kind::Folder, "gc-keeps");
    t.share("p/keep");
    let gone = t.share("p/x");
    let gone_create = t.entry(2);
    t.mate.ok(&["delete", &gone]);
    // Someone's version the log now refuses (a newer writer, a typo, a forgery): its content
    // must not be collected as if nothing named it.
    let seq = t.next_seq();
    let mut refused = gone_create.clone();
    refused["seq"] = json!(seq);
    refused["version"]["id"] = json!("ef".repeat(16));
    refused["version"]["dataset"] = json!("p/x\u{7}");
    t.plant(seq, serde_json::to_vec(&refused).unwrap());
    let manifests = t.b.list("manifests");
    let packs = t.b.list("packs");
    let gc = t.mate.json(&["gc", "--remote", "team", "--grace", "0s"]);
    assert_eq!(gc["live_versions"], 1, "{gc}");
    assert_eq!(gc["refused"][0]["seq"], seq, "{gc}");
    assert_eq!(t.b.list("manifests"), manifests, "{gc}");
    assert_eq!(t.b.list("packs"), packs, "{gc}");
    let m = gone_create["version"]["manifest"].as_str().unwrap();
    assert!(t.b.list("manifests").iter().any(|(k, _)| k.ends_with(m)));
}

#[test]
fn a_version_whose_paths_escape_is_refused_at_pull() {
    let env = Env::new();
    let bucket = env.path("bucket");
    std::fs::create_dir_all(&bucket).unwrap();
    let spec = RemoteSpec {
        name: "team".into(),
        url: format!("file://{}", bucket.display()),
        endpoint: None,
        region: None,
        allow_http: false,
        is_default: true,
    };
    let c = connect(&spec).unwrap();
    let layout = Layout::new(&c.prefix);
    let body = b"planted".to_vec();
    let hash = Hash::of(&body);
    let manifest = Manifest::from_entries(vec![Entry {
        path: "../../escaped.txt".into(),
        size: body.len() as u64,
        hash,
        link: None,
        chunks: None,
    }]);
    let mut locator = Locator::default();
    locator.places.insert(
        hash,
        Place::Packed {
            pack: "p1".into(),
            offset: 0,
            len: body.len() as u64,
        },
    );
    let (m, l) = (manifest.encode(), locator.encode());
    let version = RemoteVersion {
        id: "0123456789abcdef0123456789abcdef".into(),
        dataset: "evil/d".into(),
        semver: "1.0.0".into(),
        parents: vec![],
        state: "final".into(),
        manifest: Hash::of(&m),
        locator: Hash::of(&l),
        file_count: 1,
        total_bytes: body.len() as u64,
        tags: vec![],
        description: String::new(),
        metadata: Default::default(),
        created_at: 0,
        created_by: "someone".into(),
        finalized_at: Some(0),
    };
    block(async {
        c.put_bytes(&layout.pack("p1"), body.into()).await.unwrap();
        c.put_bytes(&layout.manifest(&Hash::of(&m)), m.into())
            .await
            .unwrap();
        c.put_bytes(&layout.locator(&Hash::of(&l)), l.into())
            .await
            .unwrap();
        let event = Event::Create {
            version: Box::new(version),
        };
        assert!(try_append(&c, 1, 0, "someone", &event).await.unwrap());
    });

    env.ok(&["remote", "add", "team", &spec.url]);
    // The pull goes on (one bad entry must not block a team's log) and says what it refused.
    let pulled = env.json(&["pull"]);
    assert_eq!(pulled["refused"][0]["seq"], 1, "{pulled}");
    let refused = pulled["refused"][0]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        refused.contains("evil/d@1.0.0")
            && refused.contains("unsafe path '../../escaped.txt' refused"),
        "{pulled}"
    );
    assert_eq!(env.json(&["list", "--all"]), serde_json::json!([]));
    let err = env.run(&["get", "evil/d", "--to", "copy"]).fails().error();
    assert!(err.contains("not found"), "{err}");
    assert!(!env.dir.path().join("escaped.txt").exists());
    assert!(!env.path("copy").exists());
}

#[test]
fn events_naming_versions_never_shared_leave_them_alone() {
    let t = Team::new(Kind::Folder, "unshared-ids");
    let victim = t.b.home();
    t.share("p/good");
    victim.images("mine", 2, 5);
    let mine = victim.json(&["snapshot", "p/mine", victim.path("mine").to_str().unwrap()]);
    let mine_id = mine["version"]["id"].as_str().unwrap().to_string();
    let draft = victim.json(&["create", "p/draft"]);
    let draft_id = draft["id"].as_str().unwrap().to_string();
    let event = |seq: u64, kind: &str, id: &str| {
        serde_json::to_vec(&json!({"seq": seq, "at": 1, "by": "mate", "kind": kind, "id": id}))
            .unwrap()
    };
    // A different version claiming the id of one never shared; a publish of a draft and of a
    // version never shared; a delete of one never shared.
    let claimed = mine_id.clone();
    t.plant(
        2,
        t.forged(1, move |e| {
            e["seq"] = json!(2);
            e["version"]["id"] = json!(claimed);
        }),
    );
    t.plant(3, event(3, "publish", &draft_id));
    t.plant(4, event(4, "publish", &mine_id));
    t.plant(5, event(5, "delete", &mine_id));
    let before = victim.json(&["list", "--all"]);

    let pulled = pull(&victim);
    assert_eq!(refused_seqs(&pulled), [2], "{pulled}");
    assert!(reason(&pulled, 2).contains("is already used here by p/mine@1.0.0"));
    assert_eq!(pulled["new_versions"], json!(["p/good@1.0.0"]));
    assert_eq!(pulled["kept_local"], json!(["p/mine@1.0.0"]), "{pulled}");
    assert_eq!(pulled["position"], 5);
    assert_eq!(victim.json(&["show", &draft_id])["state"], "draft");
    let mine = victim.json(&["show", &mine_id]);
    assert_eq!(mine["state"], "final");
    assert_eq!(mine["upload_state"], "local");
    let after = victim.json(&["list", "--all"]);
    for v in before.as_array().unwrap() {
        assert!(after.as_array().unwrap().contains(v), "{v} changed");
    }
}

/// Tag, description and metadata entries are checked like every other: one breaking a rule the
/// local commands keep is refused whole (none of its changes applied), the good ones around it
/// apply.
fn annotations_that_break_the_rules_are_refused_whole(kind: Kind, name: &str) {
    let t = Team::new(kind, name);
    let victim = t.b.home();
    let first = t.share("p/good");
    let id = t.mate.json(&["show", &first])["id"]
        .as_str()
        .unwrap()
        .to_string();
    victim.ok(&["pull"]);
    let from = t.next_seq();
    let entry = |seq: u64, event: Value| {
        let mut e = json!({"seq": seq, "at": 1, "by": "mate"});
        for (k, v) in event.as_object().unwrap() {
            e[k] = v.clone();
        }
        serde_json::to_vec(&e).unwrap()
    };
    let planted = [
        json!({"kind": "tag", "id": id, "added": ["half", "t".repeat(200)]}),
        json!({"kind": "meta", "id": id, "set": {"fine": 1, "bad\nkey": 2}}),
        json!({"kind": "meta", "id": id, "removed": ["k=v"]}),
        json!({"kind": "describe", "id": id, "description": "d".repeat(70_000)}),
        json!({"kind": "tag", "id": "../../x", "added": ["gold"]}),
        json!({"kind": "tag", "id": id, "added": ["gold"]}),
        json!({"kind": "meta", "id": id, "set": {"lr": 0.1}}),
        json!({"kind": "describe", "id": id, "description": "checked"}),
    ];
    for (i, e) in planted.into_iter().enumerate() {
        let seq = from + i as u64;
        t.plant(seq, entry(seq, e));
    }
    let pulled = pull(&victim);
    assert_eq!(
        refused_seqs(&pulled),
        (from..from + 5).collect::<Vec<_>>(),
        "{pulled}"
    );
    for (seq, needle) in [
        (from, "invalid tag"),
        (from + 1, "invalid metadata key"),
        (from + 2, "invalid metadata key"),
        (from + 3, "description of 70000 bytes"),
        (from + 4, "not a version id"),
    ] {
        let why = reason(&pulled, seq);
        assert!(
            why.contains(needle),
            "entry {seq}: wanted '{needle}' in '{why}'"
        );
        assert!(!why.contains('\n'), "{why}");
    }
    let v = victim.json(&["show", &first]);
    assert_eq!(
        v["tags"],
        json!(["gold"]),
        "a refused entry applied in part: {v}"
    );
    assert_eq!(v["metadata"], json!({"lr": 0.1}), "{v}");
    assert_eq!(v["description"], "checked");
}
