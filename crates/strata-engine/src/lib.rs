//! The operations every front end calls: the CLI, the desktop app and tests run the same code.
//! An [`Engine`] is one home folder: the catalog, the content store and the read-only cache.
//!
//! # Where things live
//! One module per operation, named after it; each is an `impl Engine` block taking one request.
//! From a button or a command to the bucket: the CLI's `commands/<op>.rs` or the app's
//! `commands.rs` → the module here → `strata-store` (local content) or `strata-remote` (the
//! bucket).
//!
//! | module | operations |
//! |---|---|
//! | `engine` | [`Engine::open`], home folder, offline mode, warnings, resolving references |
//! | `create` | `create` a draft ([`CreateRequest`]) |
//! | `draft` | `add` ([`AddRequest`]), `remove`, `sync`: a draft's content |
//! | `links` | `add_link`, and which links may be followed |
//! | `annotate` | `meta`, `tag`, `describe` |
//! | `finalize`, `publish` | `finalize` (and `finalize_and_upload`), `publish` |
//! | `snapshot` | `snapshot`: a folder → the next final version |
//! | `status` | `status`: what a snapshot of a folder would record ([`FolderStatus`]), nothing stored |
//! | `squash`, `delete`, `rename` | `squash`; `delete`, `delete_dataset`; `rename`, `move_dataset` |
//! | `list`, `diff` | `list`, `list_versions`, `show`, `files`, `log`; `diff` |
//! | `get`, `cache` | `get` a copy ([`GetRequest`]), or switch a mutable one in place; the read-only cache: `cache_list`, `cache_evict`, `cache_pin` |
//! | `insight` | `stats` of a version ([`StatsRequest`]) and against another: label source, classes per split, image sizes, what moved; cached by manifest and label source |
//! | `verify`, `gc`, `free` | `verify`, `verify_remote`; `gc`, `gc_remote`; `free` (drop local content a remote holds), `holdings` |
//! | `remote` | remotes: `remote_add`, `remote_login`, `remote_test`, defaults |
//! | `upload`, `fetch`, `pull`, `push` | content and catalog to and from a remote |
//! | `share` | a change to shared versions sent now, or queued for `push` |
//! | `session` | `export` versions into one session file, `import` one (offline work carried between homes) |
//! | `runtime` | which remote to reach, offline checks, the one async runtime |
//! | `watch` | watched folders: `watch_add`, `watches`, `watch_pause`, `watch_remove`, `watch_folder` (run one), `run_watches`, `watch_service_install` |
//! | `writers`, `naming` | writer locks; version ids and numbers |
//! | `logging` | the log file |

mod annotate;
mod cache;
mod create;
mod delete;
mod diff;
mod draft;
mod engine;
mod fetch;
mod finalize;
mod free;
mod gc;
mod get;
mod insight;
mod links;
mod list;
pub mod logging;
mod naming;
mod publish;
mod pull;
mod push;
mod remote;
mod rename;
mod runtime;
mod session;
mod share;
mod snapshot;
mod squash;
mod status;
mod upload;
mod verify;
mod watch;
mod writers;

pub use annotate::MetaOp;
pub use cache::{CacheReport, CachedCopy, VersionHoldings};
pub use create::CreateRequest;
pub use diff::{Modified, VersionDiff};
pub use draft::{AddRequest, Change};
pub use engine::Engine;
pub use free::{FreeReport, FreedVersion, Holdings, KeptVersion};
pub use gc::RemoteGcReport;
pub use get::{GetOutcome, GetRequest};
pub use insight::{AgainstReport, StatsReport, StatsRequest, ThumbnailResult};
pub use list::VersionDetail;
pub use pull::{PullOutcome, Renumbered};
pub use push::PushOutcome;
pub use remote::Login;
pub use session::{ExportOutcome, ImportOutcome, ImportRequest, ImportedVersion};
pub use status::{FolderStatus, STATUS_PATHS};
pub use strata_core;
pub use strata_insight;
pub use strata_remote::Probe;
pub use strata_store::gc::GcReport;
pub use strata_store::verify::Mismatch;
pub use strata_watch::WatchState;
pub use upload::UploadOutcome;
pub use verify::VerifyReport;
pub use watch::{
    default_max_wait, PendingChanges, ServiceReport, WatchEvents, WatchInfo, WatchRequest,
    WatchVersion,
};
pub use writers::SHORT_WAIT;
