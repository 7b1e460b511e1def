//! The one error type the engine speaks. Every variant maps to a stable `code()` that front ends
//! (the CLI's exit path, the app's IPC edge) can branch on without parsing messages.

use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user asked for something malformed (bad name, bad semver, bad glob, bad flag combination).
    #[error("{0}")]
    Invalid(String),
    /// A reference, dataset, path or object does not exist.
    #[error("{what} not found: {name}")]
    NotFound { what: &'static str, name: String },
    /// A short reference matched more than one version.
    #[error("reference '{reference}' is ambiguous: it matches {candidates}")]
    Ambiguous {
        reference: String,
        candidates: String,
    },
    /// The request collides with existing state (duplicate version, non-empty target, parent of others).
    #[error("{0}")]
    Conflict(String),
    /// A final or published version cannot change.
    #[error("version {version} is {state}; only a draft can be changed")]
    Immutable { version: String, state: String },
    /// Another writer holds the version.
    #[error("{0}")]
    Locked(String),
    /// A filesystem operation failed; `action` says what we were doing.
    #[error("cannot {action} '{}': {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Stored data does not match its hash or format.
    #[error("corrupt {what}: {detail}")]
    Corrupt { what: String, detail: String },
    /// A remote could not be reached or refused the request; `remote` names it.
    #[error("remote '{remote}': {message}")]
    Remote { remote: String, message: String },
    /// The operation was cancelled; nothing it started was committed.
    #[error("cancelled; nothing was changed")]
    Cancelled,
    /// The SQLite catalog failed.
    #[error("catalog: {0}")]
    Catalog(#[from] rusqlite::Error),
    /// A bug or an impossible state.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A stable machine-readable code, used by `--json` error output and the app.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid",
            Error::NotFound { .. } => "not_found",
            Error::Ambiguous { .. } => "ambiguous",
            Error::Conflict(_) => "conflict",
            Error::Immutable { .. } => "immutable",
            Error::Locked(_) => "locked",
            Error::Io { .. } => "io",
            Error::Corrupt { .. } => "corrupt",
            Error::Remote { .. } => "remote",
            Error::Cancelled => "cancelled",
            Error::Catalog(_) => "catalog",
            Error::Internal(_) => "internal",
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    pub fn not_found(what: &'static str, name: impl Into<String>) -> Self {
        Error::NotFound {
            what,
            name: name.into(),
        }
    }
}

/// Attach the action and path to an `io::Error`.
pub trait IoContext<T> {
    fn ctx(self, action: &'static str, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx(self, action: &'static str, path: &Path) -> Result<T> {
        self.map_err(|source| Error::Io {
            action,
            path: path.to_path_buf(),
            source,
        })
    }
}
