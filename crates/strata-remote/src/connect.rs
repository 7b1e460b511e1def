//! Building an `ObjectStore` for a remote. Credentials are read from the environment at the
//! moment of use: `STRATA_REMOTE_<NAME>_<KEY>` first (one remote among several), then the
//! provider's usual variables. They are never stored, logged or put in an error message.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::{ClientOptions, ObjectStore, RetryConfig};
use strata_core::error::Kind;
use strata_core::{Error, RemoteSpec, Result};

use crate::location::Location;

/// A reachable remote: the store, and the prefix everything of Strata's lives under.
pub struct Connected {
    pub name: String,
    pub store: Arc<dyn ObjectStore>,
    pub prefix: StorePath,
    pub read_only: bool,
}

/// A few quick retries, and timeouts short enough that a dead server is reported in seconds.
fn retry() -> RetryConfig {
    RetryConfig {
        max_retries: 2,
        retry_timeout: Duration::from_secs(10),
        ..Default::default()
    }
}

fn client(spec: &RemoteSpec) -> ClientOptions {
    ClientOptions::new()
        .with_connect_timeout(Duration::from_secs(5))
        .with_timeout(Duration::from_secs(120))
        .with_allow_http(spec.allow_http)
}

/// `STRATA_REMOTE_<NAME>_<key>`, else the OS keychain's entry for the remote, else the first of
/// `standard` that is set.
fn var(spec: &RemoteSpec, key: &str, standard: &[&str]) -> Option<String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let own = format!(
        "STRATA_REMOTE_{}_{key}",
        spec.name.to_ascii_uppercase().replace('-', "_")
    );
    env(&own)
        .or_else(|| crate::keychain::load(&spec.name, key))
        .or_else(|| standard.iter().find_map(|k| env(k)))
}

fn missing(spec: &RemoteSpec, what: &str, vars: &str) -> Error {
    Error::remote_failure(
        &spec.name,
        Kind::Unauthorized,
        format!(
            "no {what}: none in the OS keychain, and none of {vars} (or STRATA_REMOTE_{}_... for this remote only) is set",
            spec.name.to_ascii_uppercase().replace('-', "_")
        ),
    )
}

fn built<T>(spec: &RemoteSpec, secrets: &[String], r: object_store::Result<T>) -> Result<T> {
    r.map_err(|e| {
        let message = redact_secrets(&e.to_string(), secrets);
        Error::remote_failure(&spec.name, failure_kind(&e), message)
    })
}

/// An error text with every known secret value cut out, then [`redact`]ed.
fn redact_secrets(message: &str, secrets: &[String]) -> String {
    let mut out = message.to_string();
    for s in secrets.iter().filter(|s| s.len() >= 4) {
        out = out.replace(s.as_str(), "***");
    }
    redact(&out)
}

/// What a person can do about a bucket's error: log in again (401/403), retry later (the
/// server is down, slow or refused for a while), or change the request.
pub fn failure_kind(e: &object_store::Error) -> Kind {
    use object_store::Error as E;
    match e {
        E::NotFound { .. } => Kind::NotFound,
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => Kind::Unauthorized,
        E::AlreadyExists { .. } | E::Precondition { .. } | E::NotModified { .. } => Kind::Conflict,
        E::InvalidPath { .. }
        | E::NotSupported { .. }
        | E::NotImplemented { .. }
        | E::UnknownConfigurationKey { .. } => Kind::Invalid,
        E::JoinError { .. } => Kind::Internal,
        // Connection refused, timeouts, 5xx after retries, throttling.
        _ => Kind::Unavailable,
    }
}

/// A bucket's error as Strata's, classified, with credentials cut out of its text. The original
/// is kept as the source when its text quoted nothing to cut.
pub fn failure(remote: &str, e: object_store::Error) -> Error {
    let kind = failure_kind(&e);
    let text = e.to_string();
    let message = redact(&text);
    let source: strata_core::error::Source = if message == text {
        Box::new(e)
    } else {
        message.clone().into()
    };
    Error::Remote {
        remote: remote.to_string(),
        kind,
        message,
        source: Some(source),
    }
}

/// Cuts what could be a credential out of a message from a library (object_store, serde) that
/// may quote its input: `user:password@` in URLs, PEM private keys, and the whole message when
/// it quotes a service-account document. Messages reach terminals, logs and bug reports.
pub fn redact(message: &str) -> String {
    if message.contains("private_key") || message.contains("PRIVATE KEY") {
        return "(details withheld: the message quoted a credential)".into();
    }
    message
        .split(' ')
        .map(|word| {
            if word.contains("://") {
                crate::location::redact_url(word)
            } else {
                word.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn connect(spec: &RemoteSpec) -> Result<Connected> {
    let location = Location::parse(&spec.url)?;
    if let Some(e) = &spec.endpoint {
        crate::location::refuse_userinfo(e)?;
    }
    // Every credential used below, to be cut out of any error the builders return.
    let mut secrets: Vec<String> = Vec::new();
    let mut keep = |v: String| {
        secrets.push(v.clone());
        v
    };
    let read_only = location.read_only();
    let (store, prefix): (Arc<dyn ObjectStore>, String) = match &location {
        Location::Folder(root) => {
            std::fs::create_dir_all(root).map_err(|e| Error::Remote {
                remote: spec.name.clone(),
                kind: Kind::Unavailable,
                message: format!("cannot create folder '{}': {e}", root.display()),
                source: Some(Box::new(e)),
            })?;
            (
                Arc::new(built(spec, &[], LocalFileSystem::new_with_prefix(root))?),
                String::new(),
            )
        }
        Location::S3 { bucket, prefix } => {
            let key = var(spec, "ACCESS_KEY_ID", &["AWS_ACCESS_KEY_ID"]).ok_or_else(|| {
                missing(
                    spec,
                    "S3 credentials",
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                )
            })?;
            let secret = var(spec, "SECRET_ACCESS_KEY", &["AWS_SECRET_ACCESS_KEY"])
                .map(&mut keep)
                .ok_or_else(|| missing(spec, "S3 secret", "AWS_SECRET_ACCESS_KEY"))?;
            let region = spec
                .region
                .clone()
                .or_else(|| var(spec, "REGION", &["AWS_REGION", "AWS_DEFAULT_REGION"]))
                .unwrap_or_else(|| "us-east-1".into());
            let mut b = AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_region(region)
                .with_access_key_id(key)
                .with_secret_access_key(secret)
                .with_allow_http(spec.allow_http)
                .with_retry(retry())
                .with_client_options(client(spec));
            if let Some(t) = var(spec, "SESSION_TOKEN", &["AWS_SESSION_TOKEN"]).map(&mut keep) {
                b = b.with_token(t);
            }
            if let Some(e) = spec
                .endpoint
                .clone()
                .or_else(|| var(spec, "ENDPOINT", &["AWS_ENDPOINT_URL"]))
            {
                // MinIO-style servers address buckets by path, not by host name.
                b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
            }
            (Arc::new(built(spec, &secrets, b.build())?), prefix.clone())
        }
        Location::Azure { container, prefix } => {
            let account =
                var(spec, "ACCOUNT_NAME", &["AZURE_STORAGE_ACCOUNT_NAME"]).ok_or_else(|| {
                    missing(
                        spec,
                        "Azure account",
                        "AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY",
                    )
                })?;
            let key = var(
                spec,
                "ACCOUNT_KEY",
                &["AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_KEY"],
            )
            .map(&mut keep)
            .ok_or_else(|| missing(spec, "Azure key", "AZURE_STORAGE_ACCOUNT_KEY"))?;
            let mut b = MicrosoftAzureBuilder::new()
                .with_account(account)
                .with_access_key(key)
                .with_container_name(container)
                .with_allow_http(spec.allow_http)
                .with_retry(retry())
                .with_client_options(client(spec));
            if let Some(e) = &spec.endpoint {
                b = b.with_endpoint(e.clone());
            }
            (Arc::new(built(spec, &secrets, b.build())?), prefix.clone())
        }
        Location::Gcs { bucket, prefix } => {
            let mut b = GoogleCloudStorageBuilder::new()
                .with_bucket_name(bucket)
                .with_retry(retry())
                .with_client_options(client(spec));
            match var(
                spec,
                "SERVICE_ACCOUNT",
                &["GOOGLE_SERVICE_ACCOUNT", "GOOGLE_APPLICATION_CREDENTIALS"],
            ) {
                // The document itself rather than a file name: given as a key, never treated as a
                // path (a path is quoted in errors).
                Some(doc) if doc.trim_start().starts_with('{') => {
                    b = b.with_service_account_key(keep(doc))
                }
                Some(path) => b = b.with_service_account_path(path),
                None => {
                    return Err(missing(
                        spec,
                        "GCS credentials",
                        "GOOGLE_APPLICATION_CREDENTIALS (a service account file)",
                    ))
                }
            }
            (Arc::new(built(spec, &secrets, b.build())?), prefix.clone())
        }
        Location::Http(url) => (
            Arc::new(built(
                spec,
                &secrets,
                HttpBuilder::new()
                    .with_url(url)
                    .with_retry(retry())
                    .with_client_options(client(spec))
                    .build(),
            )?),
            String::new(),
        ),
    };
    Ok(Connected {
        name: spec.name.clone(),
        store,
        prefix: StorePath::from(prefix),
        read_only,
    })
}
