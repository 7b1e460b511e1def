//! Where a remote URL points.

use std::path::PathBuf;

use strata_core::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A shared folder (`file:///mnt/team/strata`).
    Folder(PathBuf),
    S3 {
        bucket: String,
        prefix: String,
    },
    Azure {
        container: String,
        prefix: String,
    },
    Gcs {
        bucket: String,
        prefix: String,
    },
    /// Read-only.
    Http(String),
}

impl Location {
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        refuse_userinfo(url)?;
        if let Some(rest) = url.strip_prefix("file://") {
            return folder(rest, url);
        }
        if url.starts_with('/') {
            return folder(url, url);
        }
        if url.starts_with("https://") || url.starts_with("http://") {
            return Ok(Location::Http(url.trim_end_matches('/').to_string()));
        }
        let (scheme, rest) = url.split_once("://").ok_or_else(|| unsupported(url))?;
        let (bucket, prefix) = match rest.split_once('/') {
            Some((b, p)) => (b, p.trim_matches('/')),
            None => (rest, ""),
        };
        if bucket.is_empty() {
            return Err(Error::invalid(format!(
                "remote URL '{url}' names no bucket"
            )));
        }
        if prefix.split('/').any(|s| s == "..") {
            return Err(Error::invalid(format!(
                "remote URL '{url}' must not contain '..'"
            )));
        }
        let (bucket, prefix) = (bucket.to_string(), prefix.to_string());
        match scheme {
            "s3" => Ok(Location::S3 { bucket, prefix }),
            "gs" => Ok(Location::Gcs { bucket, prefix }),
            "azure" | "az" => Ok(Location::Azure {
                container: bucket,
                prefix,
            }),
            _ => Err(unsupported(url)),
        }
    }

    pub fn read_only(&self) -> bool {
        matches!(self, Location::Http(_))
    }
}

/// Refuses `scheme://user:password@host/...`: a URL is stored in the catalog, printed, and a link
/// URL is shared with the team in every manifest, so it must never carry a secret.
pub fn refuse_userinfo(url: &str) -> Result<()> {
    if let Some((_, rest)) = url.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            return Err(Error::invalid(format!(
                "'{}' carries credentials: they belong in the OS keychain or the environment, \
                 not in the URL",
                redact_url(url)
            ))
            .with_remedy(strata_core::error::Remedy::Login));
        }
    }
    Ok(())
}

/// The URL with any `user:password@` replaced by `***@`, for display.
pub fn redact_url(url: &str) -> String {
    strata_core::remote::redact_userinfo(url)
}

fn folder(path: &str, url: &str) -> Result<Location> {
    let p = PathBuf::from(path);
    if !p.is_absolute() {
        return Err(Error::invalid(format!(
            "remote folder '{url}' must be an absolute path, e.g. file:///mnt/team/strata"
        )));
    }
    Ok(Location::Folder(p))
}

fn unsupported(url: &str) -> Error {
    Error::invalid(format!(
        "unsupported remote URL '{url}': use file:///folder, s3://bucket/prefix, \
         gs://bucket/prefix, azure://container/prefix or https://"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_by_scheme() {
        assert_eq!(
            Location::parse("s3://data/team/strata").unwrap(),
            Location::S3 {
                bucket: "data".into(),
                prefix: "team/strata".into()
            }
        );
        assert_eq!(
            Location::parse("file:///mnt/share").unwrap(),
            Location::Folder("/mnt/share".into())
        );
        assert!(matches!(
            Location::parse("azure://c").unwrap(),
            Location::Azure { .. }
        ));
        assert!(matches!(
            Location::parse("gs://b/p").unwrap(),
            Location::Gcs { .. }
        ));
        assert!(Location::parse("https://host/x").unwrap().read_only());
        assert!(Location::parse("ftp://x").is_err());
        assert!(Location::parse("file://relative").is_err());
        assert!(Location::parse("s3:///nobucket").is_err());
        assert!(Location::parse("s3://b/../up").is_err());
    }

    #[test]
    fn credentials_in_a_url_are_refused_without_being_repeated() {
        for url in [
            "s3://AKIA:s3cr3t@bucket/p",
            "https://user:s3cr3t@host/x",
            "http://s3cr3t@host",
        ] {
            let err = Location::parse(url).unwrap_err().to_string();
            assert!(err.contains("carries credentials"), "{err}");
            assert!(!err.contains("s3cr3t"), "{err}");
        }
        assert!(Location::parse("file:///data/with@sign").is_ok());
        assert_eq!(redact_url("https://u:p@host/a@b"), "https://***@host/a@b");
        assert_eq!(redact_url("s3://bucket/x"), "s3://bucket/x");
    }
}
