//! Checking that a remote answers and, unless it is read-only, takes a write.

use std::time::Instant;

use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::Serialize;
use strata_core::{Error, Result};

use crate::connect::Connected;

#[derive(Clone, Debug, Serialize)]
pub struct Probe {
    pub remote: String,
    pub writable: bool,
    pub millis: u64,
}

/// Writes a small object with create-if-absent (the only conditional write Strata relies on),
/// reads it back and removes it.
pub async fn probe(c: &Connected) -> Result<Probe> {
    let start = Instant::now();
    let fail = |e: object_store::Error| crate::connect::failure(&c.name, e);
    if c.read_only {
        match c.store.head(&c.prefix.clone().join("strata")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(fail(e)),
        }
    } else {
        let name = format!(
            "probe-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        );
        let key: StorePath = c
            .prefix
            .clone()
            .join("strata")
            .join("probe")
            .join(name.as_str());
        let body = PutPayload::from_static(b"strata probe");
        let opts = PutOptions {
            mode: PutMode::Create,
            ..Default::default()
        };
        c.store.put_opts(&key, body, opts).await.map_err(fail)?;
        // Read with a limit like everything else read from a bucket.
        let back = c.get_limited(&key, 1024).await?;
        let _ = c.store.delete(&key).await;
        if back.as_ref() != b"strata probe" {
            return Err(Error::Corrupt {
                what: format!("remote '{}'", c.name),
                detail: "a test object came back different".into(),
            });
        }
    }
    Ok(Probe {
        remote: c.name.clone(),
        writable: !c.read_only,
        millis: start.elapsed().as_millis() as u64,
    })
}
