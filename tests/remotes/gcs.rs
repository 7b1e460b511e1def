//! Google Cloud Storage, read path: a bucket laid out by Strata (here copied into
//! fake-gcs-server, which lacks the API object_store writes with) is pulled and fetched.

use crate::backend::{Backend, Kind};
use crate::servers::FakeGcs;
use crate::support::{tree, Env};

#[test]
fn a_version_is_fetched_from_google_cloud_storage() {
    let folder = Backend::new(Kind::Folder, "gcs-source");
    let a = folder.home();
    a.images("data", 3, 30);
    a.write("data/blobs/big.bin", &vec![7u8; 3 << 20]);
    a.ok(&[
        "snapshot",
        "p/d",
        a.path("data").to_str().unwrap(),
        "--upload",
    ]);

    let dir = tempfile::tempdir().unwrap();
    let gcs = FakeGcs::start(dir.path());
    gcs.create_bucket("team-bucket");
    for (key, body) in folder.snapshot() {
        gcs.upload("team-bucket", &format!("lake/{key}"), &body);
    }
    let creds = dir.path().join("service-account.json");
    std::fs::write(
        &creds,
        format!(
            r#"{{"private_key":"","private_key_id":"","client_email":"","disable_oauth":true,"gcs_base_url":"{}"}}"#,
            gcs.base_url()
        ),
    )
    .unwrap();
    let mut b = Env::new();
    b.vars.push((
        "STRATA_REMOTE_TEAM_SERVICE_ACCOUNT".into(),
        creds.display().to_string(),
    ));
    b.ok(&[
        "remote",
        "add",
        "team",
        "gs://team-bucket/lake",
        "--allow-http",
    ]);
    let pulled = b.json(&["pull"]);
    assert_eq!(pulled["new_versions"][0], "p/d@1.0.0");
    let got = b.json(&["get", "p/d", "--to", "copy"]);
    assert_eq!(got["fetched_objects"], 31);
    assert_eq!(tree(&b.path("copy")), tree(&a.path("data")));
    b.ok(&["verify", "p/d", "--remote", "team"]);
}
