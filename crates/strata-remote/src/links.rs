//! External files (`add-link`): objects left where they are — a bucket, an https server, a
//! shared folder — recorded by size and hash and read from there when needed. A link inside a
//! configured remote's bucket is read with that remote's endpoint and credentials.

use futures::StreamExt;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use object_store::ObjectStoreExt;
use std::sync::Arc;
use strata_core::{Cancel, Error, Hash, RemoteSpec, Result};

use crate::connect::{connect, Connected};
use crate::location::Location;

/// Where a link's bytes are: a store and the key in it.
pub struct Link {
    pub url: String,
    pub at: Connected,
    pub key: StorePath,
}

impl Link {
    pub fn open(url: &str, remotes: &[RemoteSpec]) -> Result<Link> {
        let bad = |why: &str| Error::invalid(format!("link '{url}': {why}"));
        let loc = Location::parse(url)?;
        let (spec_url, key) = match &loc {
            Location::Folder(path) => {
                let key = StorePath::from_absolute_path(path).map_err(|e| bad(&e.to_string()))?;
                let at = Connected {
                    name: "link".into(),
                    store: Arc::new(LocalFileSystem::new()),
                    prefix: StorePath::default(),
                    read_only: true,
                };
                return Ok(Link {
                    url: url.to_string(),
                    at,
                    key,
                });
            }
            Location::S3 { bucket, prefix } => (format!("s3://{bucket}"), prefix.clone()),
            Location::Azure { container, prefix } => {
                (format!("azure://{container}"), prefix.clone())
            }
            Location::Gcs { bucket, prefix } => (format!("gs://{bucket}"), prefix.clone()),
            Location::Http(full) => {
                let (scheme, rest) = full.split_once("://").ok_or_else(|| bad("no host"))?;
                let (host, path) = rest.split_once('/').ok_or_else(|| bad("no file path"))?;
                (format!("{scheme}://{host}"), path.to_string())
            }
        };
        if key.is_empty() {
            return Err(bad("names a bucket, not a file"));
        }
        // The bucket of a configured remote: its endpoint and credentials apply.
        let same_bucket = remotes.iter().find(|r| {
            Location::parse(&r.url)
                .ok()
                .is_some_and(|l| same_root(&l, &loc))
        });
        let spec = match same_bucket {
            Some(r) => RemoteSpec {
                url: spec_url,
                ..r.clone()
            },
            None => RemoteSpec {
                name: "link".into(),
                url: spec_url,
                endpoint: None,
                region: None,
                allow_http: url.starts_with("http://"),
                is_default: false,
            },
        };
        let at = connect(&spec)?;
        Ok(Link {
            url: url.to_string(),
            at,
            key: StorePath::from(key),
        })
    }

    /// Reads the whole object once: its size and hash.
    pub async fn measure(&self, cancel: &Cancel) -> Result<(u64, Hash)> {
        let fail = |e: object_store::Error| match e {
            object_store::Error::NotFound { .. } => Error::NotFound {
                what: "linked file",
                name: self.url.clone(),
            },
            e => Error::Remote {
                remote: self.at.name.clone(),
                message: format!("{}: {e}", self.url),
            },
        };
        let mut stream = self
            .at
            .store
            .get(&self.key)
            .await
            .map_err(fail)?
            .into_stream();
        let mut hasher = blake3::Hasher::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            cancel.check()?;
            let chunk = chunk.map_err(fail)?;
            hasher.update(&chunk);
            size += chunk.len() as u64;
        }
        Ok((size, Hash::from(hasher.finalize())))
    }
}

fn same_root(a: &Location, b: &Location) -> bool {
    match (a, b) {
        (Location::S3 { bucket: x, .. }, Location::S3 { bucket: y, .. }) => x == y,
        (Location::Gcs { bucket: x, .. }, Location::Gcs { bucket: y, .. }) => x == y,
        (Location::Azure { container: x, .. }, Location::Azure { container: y, .. }) => x == y,
        _ => false,
    }
}
