//! A bucket written by something other than Strata (or by a hostile writer): what it says can
//! never lead a copy out of its folder, and nothing of it lands in the catalog.

use strata_core::{Entry, Hash, Manifest, RemoteSpec};
use strata_remote::log::{try_append, Event, RemoteVersion};
use strata_remote::{connect, Layout, Locator, Place};

use crate::backend::block;
use crate::support::Env;

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
