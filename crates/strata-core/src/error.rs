//! The one error type the engine speaks. Every error has a [`Kind`] (a small public set a front end
//! decides what to offer on), a finer stable `code()`, and optionally a [`Remedy`]: the one action
//! that would resolve it. Messages name the problem only; each front end says how to act (the CLI
//! names its flag, the app shows its button), so no message here names a CLI flag.

use std::path::{Path, PathBuf};

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in the few classes a person acts on differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A name, reference, path or object does not exist. Check the spelling, or `pull` first.
    NotFound,
    /// The request itself is malformed or not allowed (bad name, bad semver, bad flags, an
    /// unusable folder). Change the request.
    Invalid,
    /// The request collides with the current state (an existing version, a non-empty target, a
    /// final version, another writer holding the draft). Wait, choose another name, or force.
    Conflict,
    /// A remote refused the credentials, or there are none. Log in again (`remote login`).
    Unauthorized,
    /// Something needed is not reachable now (a remote down or slow, offline mode, a full or
    /// failing disk, a busy catalog). Retry later, or work offline: changes queue for `push`.
    Unavailable,
    /// Stored data does not match its hash or format. Run `verify`; fetch or re-add the content.
    Corrupt,
    /// The user cancelled; nothing was committed.
    Cancelled,
    /// A bug or an impossible state. Report it with the log file.
    Internal,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NotFound => "not_found",
            Kind::Invalid => "invalid",
            Kind::Conflict => "conflict",
            Kind::Unauthorized => "unauthorized",
            Kind::Unavailable => "unavailable",
            Kind::Corrupt => "corrupt",
            Kind::Cancelled => "cancelled",
            Kind::Internal => "internal",
        }
    }
}

/// The one action that would resolve an error, when there is one. The CLI turns it into a flag
/// or command to type, the app into a button.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Delete anyway (a parent of other versions).
    Force,
    /// Replace the non-empty target folder.
    Overwrite,
    /// The change was queued; send it later (`push`).
    Push,
    /// Credentials are missing or were refused: log in to the remote.
    Login,
    /// Content is missing or damaged: verify, then fetch or re-add it.
    Verify,
    /// This catalog is behind the remote's: pull first.
    Pull,
    /// Only a final version can do this: finalize the draft first.
    Finalize,
    /// Another writer holds the draft; if it is gone, unlock it.
    Unlock,
    /// The endpoint is plain HTTP: allow it explicitly.
    AllowHttp,
    /// A link reaches a private address: allow private links for this remote.
    AllowPrivateLinks,
    /// No remote is configured yet: add one.
    AddRemote,
    /// The next version number cannot be chosen automatically: give one.
    GiveVersion,
    /// Offline mode forbids this: go online.
    GoOnline,
    /// A mutable copy needs a target folder: choose one.
    ChooseFolder,
    /// A dataset name passed its drafts over: let it reach drafts too.
    IncludeDrafts,
}

impl Remedy {
    pub fn as_str(self) -> &'static str {
        match self {
            Remedy::Force => "force",
            Remedy::Overwrite => "overwrite",
            Remedy::Push => "push",
            Remedy::Login => "login",
            Remedy::Verify => "verify",
            Remedy::Pull => "pull",
            Remedy::Finalize => "finalize",
            Remedy::Unlock => "unlock",
            Remedy::AllowHttp => "allow_http",
            Remedy::AllowPrivateLinks => "allow_private_links",
            Remedy::AddRemote => "add_remote",
            Remedy::GiveVersion => "give_version",
            Remedy::GoOnline => "go_online",
            Remedy::ChooseFolder => "choose_folder",
            Remedy::IncludeDrafts => "include_drafts",
        }
    }
}

/// The cause of a remote failure, kept for logs and `source()` chains; its text has had
/// credentials cut out before it got here.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The user asked for something malformed (bad name, bad semver, bad glob, bad flag combination).
    #[error("{0}")]
    Invalid(String),
    /// A reference, dataset, path or object does not exist.
    #[error("{what} not found: {name}")]
    NotFound { what: &'static str, name: String },
    /// A dataset exists but none of its versions fits the reference (only drafts, no published
    /// one, no version carrying the tag); the message says which there are.
    #[error("{0}")]
    NoMatch(String),
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
    /// A remote could not be reached, refused the credentials or the request; `remote` names it,
    /// `kind` says which (unauthorized, unavailable, conflict, invalid, ...).
    #[error("remote '{remote}': {message}")]
    Remote {
        remote: String,
        kind: Kind,
        message: String,
        #[source]
        source: Option<Source>,
    },
    /// Something needed is not reachable now, not a remote's doing (offline mode, say).
    #[error("{0}")]
    Unavailable(String),
    /// The operation was cancelled; nothing it started was committed.
    #[error("cancelled; nothing was changed")]
    Cancelled,
    /// The SQLite catalog failed.
    #[error("catalog: {0}")]
    Catalog(#[from] rusqlite::Error),
    /// A bug or an impossible state.
    #[error("internal error: {0}")]
    Internal(String),
    /// Another error, with the one action that would resolve it.
    #[error("{error}")]
    WithRemedy {
        #[source]
        error: Box<Error>,
        remedy: Remedy,
    },
}

impl Error {
    /// A stable machine-readable code, finer than [`Kind`], used by `--json` and the app.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid",
            Error::NotFound { .. } | Error::NoMatch(_) => "not_found",
            Error::Ambiguous { .. } => "ambiguous",
            Error::Conflict(_) => "conflict",
            Error::Immutable { .. } => "immutable",
            Error::Locked(_) => "locked",
            Error::Io { .. } => "io",
            Error::Corrupt { .. } => "corrupt",
            Error::Remote { .. } => "remote",
            Error::Unavailable(_) => "unavailable",
            Error::Cancelled => "cancelled",
            Error::Catalog(_) => "catalog",
            Error::Internal(_) => "internal",
            Error::WithRemedy { error, .. } => error.code(),
        }
    }

    /// Which class of failure this is: what a front end branches on.
    pub fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) | Error::Ambiguous { .. } => Kind::Invalid,
            Error::NotFound { .. } | Error::NoMatch(_) => Kind::NotFound,
            Error::Conflict(_) | Error::Immutable { .. } | Error::Locked(_) => Kind::Conflict,
            Error::Io { source, .. } => io_kind(source),
            Error::Corrupt { .. } => Kind::Corrupt,
            Error::Remote { kind, .. } => *kind,
            Error::Unavailable(_) => Kind::Unavailable,
            Error::Cancelled => Kind::Cancelled,
            Error::Catalog(e) => catalog_kind(e),
            Error::Internal(_) => Kind::Internal,
            Error::WithRemedy { error, .. } => error.kind(),
        }
    }

    /// The one action that would resolve this error, if there is one.
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            Error::WithRemedy { remedy, .. } => Some(*remedy),
            Error::Remote {
                kind: Kind::Unauthorized,
                ..
            } => Some(Remedy::Login),
            _ => None,
        }
    }

    /// The remote that failed, when a remote did.
    pub fn remote(&self) -> Option<&str> {
        match self {
            Error::Remote { remote, .. } => Some(remote),
            Error::WithRemedy { error, .. } => error.remote(),
            _ => None,
        }
    }

    /// The error itself, without the remedy attached to it: what code that branches on the
    /// variant matches.
    pub fn inner(&self) -> &Error {
        match self {
            Error::WithRemedy { error, .. } => error.inner(),
            e => e,
        }
    }

    /// Attaches the action that would resolve this error.
    pub fn with_remedy(self, remedy: Remedy) -> Self {
        match self {
            // One remedy at a time: the newest (closest to the user) wins.
            Error::WithRemedy { error, .. } => Error::WithRemedy { error, remedy },
            error => Error::WithRemedy {
                error: Box::new(error),
                remedy,
            },
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

    /// A remote's failure of the given kind, without a lower-level cause.
    pub fn remote_failure(
        remote: impl Into<String>,
        kind: Kind,
        message: impl Into<String>,
    ) -> Self {
        Error::Remote {
            remote: remote.into(),
            kind,
            message: message.into(),
            source: None,
        }
    }
}

fn io_kind(e: &std::io::Error) -> Kind {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => Kind::NotFound,
        // A folder this user may not use is a choice to change, not a login.
        K::PermissionDenied | K::InvalidInput | K::IsADirectory | K::NotADirectory => Kind::Invalid,
        K::AlreadyExists | K::DirectoryNotEmpty => Kind::Conflict,
        K::InvalidData | K::UnexpectedEof => Kind::Corrupt,
        // A full disk, a failing device, a dropped network share: retry when fixed.
        _ => Kind::Unavailable,
    }
}

fn catalog_kind(e: &rusqlite::Error) -> Kind {
    use rusqlite::ErrorCode as C;
    match e.sqlite_error_code() {
        Some(C::DatabaseBusy | C::DatabaseLocked) => Kind::Unavailable,
        Some(C::DatabaseCorrupt | C::NotADatabase) => Kind::Corrupt,
        Some(C::ConstraintViolation) => Kind::Conflict,
        Some(C::DiskFull | C::SystemIoFailure | C::CannotOpen | C::ReadOnly) => Kind::Unavailable,
        Some(C::PermissionDenied) => Kind::Invalid,
        _ => Kind::Internal,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remedy_keeps_the_message_kind_and_code() {
        let e = Error::Conflict("x is a parent of y".into()).with_remedy(Remedy::Force);
        assert_eq!(e.to_string(), "x is a parent of y");
        assert_eq!(e.kind(), Kind::Conflict);
        assert_eq!(e.code(), "conflict");
        assert_eq!(e.remedy(), Some(Remedy::Force));
        let e = e.with_remedy(Remedy::Overwrite);
        assert_eq!(e.remedy(), Some(Remedy::Overwrite));
    }

    #[test]
    fn refused_credentials_offer_a_login() {
        let e = Error::remote_failure("team", Kind::Unauthorized, "access denied");
        assert_eq!(e.kind(), Kind::Unauthorized);
        assert_eq!(e.remedy(), Some(Remedy::Login));
        assert_eq!(e.remote(), Some("team"));
        assert_eq!(e.to_string(), "remote 'team': access denied");
    }

    #[test]
    fn io_errors_are_classed_by_what_the_user_can_do() {
        let io = |k| Error::Io {
            action: "read",
            path: "/x".into(),
            source: std::io::Error::from(k),
        };
        assert_eq!(io(std::io::ErrorKind::NotFound).kind(), Kind::NotFound);
        assert_eq!(
            io(std::io::ErrorKind::PermissionDenied).kind(),
            Kind::Invalid
        );
        assert_eq!(
            io(std::io::ErrorKind::StorageFull).kind(),
            Kind::Unavailable
        );
    }
}
