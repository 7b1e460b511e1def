//! Remotes as the catalog keeps them: a name, a URL and connection settings. Never credentials:
//! those come from the environment (or the OS keychain) when a remote is used.

use serde::Serialize;

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RemoteSpec {
    pub name: String,
    /// `file:///shared/folder`, `s3://bucket/prefix`, `gs://bucket/prefix`,
    /// `azure://container/prefix` or `https://host/path` (read-only).
    pub url: String,
    /// A custom endpoint (MinIO-style S3, Azurite).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Plain HTTP to the endpoint (local test servers).
    pub allow_http: bool,
    pub is_default: bool,
}

/// Lower-case letters, digits, `-` and `_`, so a name maps onto environment variable names
/// (`STRATA_REMOTE_<NAME>_...`).
pub fn validate_remote_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "invalid remote name '{name}': use lower-case letters, digits, '-' and '_'"
        )))
    }
}
