//! Versions as the catalog knows them.

use serde::Serialize;

use crate::error::{Error, Result};
use crate::hash::Hash;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Draft,
    Final,
    Published,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Draft => "draft",
            State::Final => "final",
            State::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "draft" => Ok(State::Draft),
            "final" => Ok(State::Final),
            "published" => Ok(State::Published),
            other => Err(Error::Corrupt {
                what: "catalog".into(),
                detail: format!("unknown state '{other}'"),
            }),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UploadState {
    /// Only here.
    Local,
    /// Waiting for `push` (made offline with `--upload`).
    Pending,
    /// An upload started and has not finished (interrupted uploads resume from here).
    Uploading,
    /// Here and on the remote.
    Uploaded,
    /// Known from a remote's catalog; its content has not been fetched.
    Remote,
}

impl UploadState {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::Local => "local",
            UploadState::Pending => "pending",
            UploadState::Uploading => "uploading",
            UploadState::Uploaded => "uploaded",
            UploadState::Remote => "remote",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "local" => Ok(UploadState::Local),
            "uploading" => Ok(UploadState::Uploading),
            "uploaded" => Ok(UploadState::Uploaded),
            "pending" => Ok(UploadState::Pending),
            "remote" => Ok(UploadState::Remote),
            other => Err(Error::Corrupt {
                what: "catalog".into(),
                detail: format!("unknown upload state '{other}'"),
            }),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Version {
    pub id: String,
    pub project: String,
    pub dataset: String,
    pub semver: String,
    pub parents: Vec<String>,
    pub state: State,
    pub upload_state: UploadState,
    pub tags: Vec<String>,
    pub description: String,
    pub metadata: serde_json::Map<String, serde_json::Value>,
    pub manifest: Hash,
    pub file_count: u64,
    pub total_bytes: u64,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
    pub created_by: String,
    pub finalized_at: Option<i64>,
    /// The remote it is shared on (or came from).
    pub remote: Option<String>,
}

impl Version {
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.project, self.dataset)
    }

    pub fn label(&self) -> String {
        format!("{}/{}@{}", self.project, self.dataset, self.semver)
    }

    pub fn semver(&self) -> semver::Version {
        semver::Version::parse(&self.semver).unwrap_or(semver::Version::new(0, 0, 0))
    }

    pub fn short_id(&self) -> &str {
        &self.id[..12.min(self.id.len())]
    }

    pub fn ensure_draft(&self) -> Result<()> {
        if self.state == State::Draft {
            Ok(())
        } else {
            Err(Error::Immutable {
                version: self.label(),
                state: self.state.as_str().into(),
            })
        }
    }
}

/// One dataset with its latest version, for listings.
#[derive(Clone, Debug, Serialize)]
pub struct DatasetSummary {
    pub project: String,
    pub name: String,
    pub version_count: u64,
    pub latest: Option<Version>,
}
