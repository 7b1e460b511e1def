//! One remote per test, on one of the backends, and direct access to its objects (to count,
//! corrupt or remove them behind Strata's back).

use std::sync::Arc;

use futures::TryStreamExt;
use strata_remote::object_store::aws::AmazonS3Builder;
use strata_remote::object_store::azure::MicrosoftAzureBuilder;
use strata_remote::object_store::local::LocalFileSystem;
use strata_remote::object_store::path::Path as StorePath;
use strata_remote::object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::servers::{self, AZ_ACCOUNT, AZ_CONTAINER, AZ_KEY, S3_BUCKET, S3_KEY, S3_SECRET};
use crate::support::Env;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Folder,
    S3,
    Azure,
}

pub struct Backend {
    /// `remote add` arguments after the name.
    pub add_args: Vec<String>,
    /// Environment a home needs for this remote (credentials).
    pub vars: Vec<(String, String)>,
    /// The bucket root, as seen from outside Strata, with `prefix` below it.
    pub raw: Arc<dyn ObjectStore>,
    pub prefix: String,
    _dir: Option<tempfile::TempDir>,
}

pub fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

pub fn s3_store(endpoint: &str, secret_override: &str) -> Arc<dyn ObjectStore> {
    Arc::new(
        AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_bucket_name(S3_BUCKET)
            .with_access_key_id(S3_KEY)
            .with_secret_access_key(if secret_override.is_empty() {
                S3_SECRET
            } else {
                secret_override
            })
            .with_region("us-east-1")
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .build()
            .expect("s3 store"),
    )
}

pub fn s3_vars(remote: &str) -> Vec<(String, String)> {
    let up = remote.to_ascii_uppercase();
    vec![
        (format!("STRATA_REMOTE_{up}_ACCESS_KEY_ID"), S3_KEY.into()),
        (
            format!("STRATA_REMOTE_{up}_SECRET_ACCESS_KEY"),
            S3_SECRET.into(),
        ),
    ]
}

impl Backend {
    /// A fresh place on `kind` for one test, named after it.
    pub fn new(kind: Kind, test: &str) -> Backend {
        match kind {
            Kind::Folder => {
                let dir = tempfile::tempdir().expect("bucket dir");
                let root = dir.path().join("bucket");
                std::fs::create_dir_all(&root).expect("bucket");
                Backend {
                    add_args: vec![format!("file://{}", root.display())],
                    vars: vec![],
                    raw: Arc::new(LocalFileSystem::new_with_prefix(&root).expect("fs")),
                    prefix: String::new(),
                    _dir: Some(dir),
                }
            }
            Kind::S3 => {
                let sw = &servers::shared().seaweed;
                Backend::s3_at(&sw.endpoint(), test)
            }
            Kind::Azure => {
                let az = &servers::shared().azurite;
                let raw = MicrosoftAzureBuilder::new()
                    .with_account(AZ_ACCOUNT)
                    .with_access_key(AZ_KEY)
                    .with_container_name(AZ_CONTAINER)
                    .with_endpoint(az.endpoint())
                    .with_allow_http(true)
                    .build()
                    .expect("azure store");
                Backend {
                    add_args: vec![
                        format!("azure://{AZ_CONTAINER}/{test}"),
                        "--endpoint".into(),
                        az.endpoint(),
                        "--allow-http".into(),
                    ],
                    vars: vec![
                        ("STRATA_REMOTE_TEAM_ACCOUNT_NAME".into(), AZ_ACCOUNT.into()),
                        ("STRATA_REMOTE_TEAM_ACCOUNT_KEY".into(), AZ_KEY.into()),
                    ],
                    raw: Arc::new(raw),
                    prefix: test.to_string(),
                    _dir: None,
                }
            }
        }
    }

    /// An S3 remote on a given endpoint (a dedicated server, or a proxy in front of one).
    pub fn s3_at(endpoint: &str, test: &str) -> Backend {
        Backend {
            add_args: vec![
                format!("s3://{S3_BUCKET}/{test}"),
                "--endpoint".into(),
                endpoint.to_string(),
                "--allow-http".into(),
            ],
            vars: s3_vars("team"),
            raw: s3_store(endpoint, ""),
            prefix: test.to_string(),
            _dir: None,
        }
    }

    /// A home with this backend added as remote `team`.
    pub fn home(&self) -> Env {
        let mut env = Env::new();
        for (k, v) in &self.vars {
            env.vars.push((k.clone(), v.clone()));
        }
        let mut args = vec!["remote", "add", "team"];
        args.extend(self.add_args.iter().map(String::as_str));
        env.ok(&args);
        env
    }

    fn under(&self, rel: &str) -> StorePath {
        if self.prefix.is_empty() {
            StorePath::from(format!("strata/{rel}"))
        } else {
            StorePath::from(format!("{}/strata/{rel}", self.prefix))
        }
    }

    /// Objects under `strata/<dir>`, with sizes.
    pub fn list(&self, dir: &str) -> Vec<(String, u64)> {
        let p = self.under(dir);
        let mut v: Vec<(String, u64)> = block(async {
            self.raw
                .list(Some(&p))
                .map_ok(|m| (m.location.to_string(), m.size))
                .try_collect()
                .await
        })
        .expect("list");
        v.sort();
        v
    }

    pub fn read(&self, key: &str) -> Vec<u8> {
        block(async { self.raw.get(&key.into()).await?.bytes().await })
            .expect("read")
            .to_vec()
    }

    pub fn write(&self, key: &str, body: Vec<u8>) {
        block(async { self.raw.put(&key.into(), PutPayload::from(body)).await }).expect("write");
    }

    /// Every object of Strata's in the bucket, by path, with its bytes.
    pub fn snapshot(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for dir in ["packs", "objects", "manifests", "locators", "log"] {
            for (k, _) in self.list(dir) {
                let body = self.read(&k);
                out.push((k, body));
            }
        }
        out
    }
}
