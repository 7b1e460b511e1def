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

impl RemoteSpec {
    /// The spec as it may be shown: any `user:password@` in the URL or endpoint (stored before
    /// such URLs were refused) replaced by `***@`.
    pub fn redacted(&self) -> RemoteSpec {
        RemoteSpec {
            url: redact_userinfo(&self.url),
            endpoint: self.endpoint.as_deref().map(redact_userinfo),
            ..self.clone()
        }
    }
}

/// `scheme://user:password@host/...` → `scheme://***@host/...`; other text unchanged.
pub fn redact_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_credentials_are_never_shown() {
        let spec = RemoteSpec {
            name: "team".into(),
            url: "s3://AKIA:hunter2@bucket/p".into(),
            endpoint: Some("http://u:hunter2@minio:9000/x@y".into()),
            region: None,
            allow_http: true,
            is_default: true,
        };
        let shown = spec.redacted();
        assert_eq!(shown.url, "s3://***@bucket/p");
        assert_eq!(shown.endpoint.as_deref(), Some("http://***@minio:9000/x@y"));
        assert_eq!(redact_userinfo("file:///a@b"), "file:///a@b");
    }
}
