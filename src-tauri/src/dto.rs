//! What crosses the IPC boundary. camelCase, numbers as JS numbers, and TypeScript types generated
//! from here (see `bindings` test): the UI can never drift from the backend silently.

use serde::{Deserialize, Serialize};
use strata_core::error::Kind;
use strata_core::{DatasetSummary, DiffTotals, Entry, Error, Version};
use ts_rs::TS;

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VersionDto {
    pub id: String,
    pub project: String,
    pub dataset: String,
    pub semver: String,
    pub parents: Vec<String>,
    pub state: String,
    pub upload_state: String,
    pub tags: Vec<String>,
    pub description: String,
    #[ts(type = "Record<string, unknown>")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    #[ts(type = "number")]
    pub file_count: u64,
    #[ts(type = "number")]
    pub total_bytes: u64,
    #[ts(type = "number")]
    pub created_at: i64,
    pub created_by: String,
    #[ts(type = "number | null")]
    pub finalized_at: Option<i64>,
    /// The remote it is shared on (or came from).
    pub remote: Option<String>,
}

impl From<Version> for VersionDto {
    fn from(v: Version) -> Self {
        VersionDto {
            id: v.id,
            project: v.project,
            dataset: v.dataset,
            semver: v.semver,
            parents: v.parents,
            state: v.state.as_str().into(),
            upload_state: v.upload_state.as_str().into(),
            tags: v.tags,
            description: v.description,
            metadata: v.metadata,
            file_count: v.file_count,
            total_bytes: v.total_bytes,
            created_at: v.created_at,
            created_by: v.created_by,
            finalized_at: v.finalized_at,
            remote: v.remote,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DatasetDto {
    pub project: String,
    pub name: String,
    #[ts(type = "number")]
    pub version_count: u64,
    pub latest: Option<VersionDto>,
}

impl From<DatasetSummary> for DatasetDto {
    fn from(d: DatasetSummary) -> Self {
        DatasetDto {
            project: d.project,
            name: d.name,
            version_count: d.version_count,
            latest: d.latest.map(Into::into),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CatalogDto {
    pub home: String,
    pub datasets: Vec<DatasetDto>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TotalsDto {
    #[ts(type = "number")]
    pub added: u64,
    #[ts(type = "number")]
    pub removed: u64,
    #[ts(type = "number")]
    pub modified: u64,
    #[ts(type = "number")]
    pub unchanged: u64,
    #[ts(type = "number")]
    pub added_bytes: u64,
    #[ts(type = "number")]
    pub removed_bytes: u64,
    #[ts(type = "number")]
    pub modified_bytes: u64,
}

impl From<DiffTotals> for TotalsDto {
    fn from(t: DiffTotals) -> Self {
        TotalsDto {
            added: t.added,
            removed: t.removed,
            modified: t.modified,
            unchanged: t.unchanged,
            added_bytes: t.added_bytes,
            removed_bytes: t.removed_bytes,
            modified_bytes: t.modified_bytes,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VersionDetailDto {
    pub version: VersionDto,
    /// Parents as versions (deleted ones are left out).
    pub parents: Vec<VersionDto>,
    /// Against the first parent, when there is one.
    pub against_parent: Option<TotalsDto>,
    pub children: Vec<VersionDto>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FileDto {
    pub path: String,
    #[ts(type = "number")]
    pub size: u64,
    pub hash: String,
}

impl From<Entry> for FileDto {
    fn from(e: Entry) -> Self {
        FileDto {
            path: e.path,
            size: e.size,
            hash: e.hash.to_hex(),
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FilePageDto {
    /// Entries matching the filter.
    #[ts(type = "number")]
    pub total: u64,
    #[ts(type = "number")]
    pub offset: u64,
    pub files: Vec<FileDto>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ModifiedDto {
    pub path: String,
    #[ts(type = "number")]
    pub old_size: u64,
    #[ts(type = "number")]
    pub new_size: u64,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DiffDto {
    pub from: VersionDto,
    pub to: VersionDto,
    pub totals: TotalsDto,
    /// At most `limit` of each; `totals` has the full counts.
    pub added: Vec<FileDto>,
    pub removed: Vec<FileDto>,
    pub modified: Vec<ModifiedDto>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChangeDto {
    pub version: VersionDto,
    pub created: bool,
    pub changes: TotalsDto,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CopyDto {
    pub path: String,
    pub version: String,
    #[ts(type = "number")]
    pub files: u64,
    #[ts(type = "number")]
    pub bytes: u64,
    pub mutable: bool,
    pub reused: bool,
    /// Objects and bytes fetched from a remote for this copy.
    #[ts(type = "number")]
    pub fetched_objects: u64,
    #[ts(type = "number")]
    pub fetched_bytes: u64,
}

/// Sent while long work runs.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProgressDto {
    pub phase: String,
    #[ts(type = "number")]
    pub files: u64,
    #[ts(type = "number")]
    pub total_files: u64,
    #[ts(type = "number")]
    pub bytes: u64,
    #[ts(type = "number")]
    pub total_bytes: u64,
    /// Bytes per second over the phase so far.
    pub rate: f64,
    pub warning: Option<String>,
}

/// A credential the Remotes page asks for.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LoginFieldDto {
    pub key: String,
    pub label: String,
    pub secret: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RemoteDto {
    pub name: String,
    pub url: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub allow_http: bool,
    pub is_default: bool,
    /// Empty when the remote needs no credentials (a shared folder).
    pub login_fields: Vec<LoginFieldDto>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RemotesDto {
    pub remotes: Vec<RemoteDto>,
    /// Versions waiting to be uploaded (queued offline or interrupted).
    #[ts(type = "number")]
    pub waiting_versions: u64,
    /// Catalog changes waiting to be sent.
    #[ts(type = "number")]
    pub waiting_events: u64,
    pub offline: bool,
}

#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct RemoteRequest {
    pub name: String,
    pub url: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub allow_http: bool,
    pub is_default: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProbeDto {
    #[ts(type = "number")]
    pub millis: u64,
    pub writable: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PullDto {
    pub remote: String,
    #[ts(type = "number")]
    pub events: u64,
    pub new_versions: Vec<String>,
    /// "dataset old → new" for versions of ours renumbered because a team member took the number.
    pub renumbered: Vec<String>,
    /// Log entries skipped ("log entry N: reason"): malformed, unsafe or inconsistent.
    pub refused: Vec<String>,
    /// `project/name@semver` of versions here that a team member's delete, rename or move did not
    /// touch because they are not shared on this remote.
    pub kept_local: Vec<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UploadDto {
    pub version: String,
    pub remote: String,
    pub uploaded: Vec<String>,
    #[ts(type = "number")]
    pub sent_objects: u64,
    #[ts(type = "number")]
    pub sent_bytes: u64,
    #[ts(type = "number")]
    pub skipped_objects: u64,
    pub renumbered_from: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PushDto {
    pub uploaded: Vec<String>,
    #[ts(type = "number")]
    pub events: u64,
    #[ts(type = "number")]
    pub sent_bytes: u64,
}

/// A session file written.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportDto {
    pub path: String,
    /// `project/name@semver`, parents first.
    pub versions: Vec<String>,
    #[ts(type = "number")]
    pub objects: u64,
    #[ts(type = "number")]
    pub bytes: u64,
}

/// One version of an imported session, as it is here now.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportedDto {
    pub id: String,
    pub dataset: String,
    pub semver: String,
    /// Its number in the session, when this home or the team's bucket had used it.
    pub renumbered_from: Option<String>,
    pub state: String,
    pub already_here: bool,
    pub uploaded: bool,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ImportDto {
    pub versions: Vec<ImportedDto>,
    #[ts(type = "number")]
    pub new_objects: u64,
    #[ts(type = "number")]
    pub new_bytes: u64,
    pub finalized: Vec<String>,
}

/// What kind of failure: the UI decides what to offer on it (log in, retry, work offline...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    NotFound,
    Invalid,
    Conflict,
    Unauthorized,
    Unavailable,
    Corrupt,
    Cancelled,
    Internal,
}

impl From<Kind> for ErrorKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::NotFound => ErrorKind::NotFound,
            Kind::Invalid => ErrorKind::Invalid,
            Kind::Conflict => ErrorKind::Conflict,
            Kind::Unauthorized => ErrorKind::Unauthorized,
            Kind::Unavailable => ErrorKind::Unavailable,
            Kind::Corrupt => ErrorKind::Corrupt,
            Kind::Cancelled => ErrorKind::Cancelled,
            Kind::Internal => ErrorKind::Internal,
        }
    }
}

/// Every failure the UI sees: `kind` to decide what to offer, `code` for detail, `message` to show,
/// `remote` when a remote failed, `remedy` when one action would resolve it.
#[derive(Debug, Clone, Serialize, TS)]
pub struct ApiError {
    pub code: String,
    pub kind: ErrorKind,
    pub message: String,
    pub remote: Option<String>,
    pub remedy: Option<String>,
}

impl ApiError {
    /// A failure of the app itself (a task that stopped unexpectedly).
    pub fn internal(message: String) -> Self {
        ApiError {
            code: "internal".into(),
            kind: ErrorKind::Internal,
            message,
            remote: None,
            remedy: None,
        }
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError {
            code: e.code().into(),
            kind: e.kind().into(),
            message: e.to_string(),
            remote: e.remote().map(str::to_string),
            remedy: e.remedy().map(|r| r.as_str().to_string()),
        }
    }
}

/// How a notice looks: news (a watched folder made a version) or a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum NoticeTone {
    Info,
    Warning,
}

/// A message for the window (`strata://notice`): a warning of an operation that had no progress
/// channel (a stale lock taken over, a change queued while offline), or news of work in the
/// background (a watched folder's new version).
#[derive(Debug, Clone, Serialize, TS)]
pub struct NoticeDto {
    pub message: String,
    pub tone: NoticeTone,
}

/// Dispatched to the window when the catalog changed (`catalog://changed`).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CatalogChanged {
    pub dataset: Option<String>,
    pub version: Option<String>,
}

/// What a watched folder is doing, in one word: what its runner said last (see
/// `strata_watch::WatchState`), or `elsewhere` when another process (a `strata watch run`
/// service) runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum WatchPhase {
    /// Watching; nothing to do.
    Idle,
    /// Changes seen; waiting for writing to go quiet.
    Pending,
    /// Making a version.
    Versioning,
    /// Uploading what it versioned.
    Uploading,
    /// Some files were still being written; tried again shortly.
    Waiting,
    /// Watching by polling (filesystem events are unavailable); `reason` says why.
    Polling,
    /// The folder is gone or unreadable; watched again when it returns.
    Missing,
    /// Versioning failed; tried again with backoff.
    Error,
    /// Another process runs this watch.
    Elsewhere,
}

impl WatchPhase {
    /// The state a runner recorded in the catalog (`idle`, `pending`, `error`, ...).
    pub fn of_catalog(state: &str) -> Self {
        match state {
            "pending" => WatchPhase::Pending,
            "versioning" => WatchPhase::Versioning,
            "uploading" => WatchPhase::Uploading,
            "waiting" => WatchPhase::Waiting,
            "polling" => WatchPhase::Polling,
            "error" => WatchPhase::Error,
            _ => WatchPhase::Idle,
        }
    }
}

/// A watched folder's state, dispatched to the window as it changes (`watch://state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WatchStateDto {
    pub folder: String,
    pub state: WatchPhase,
    /// Why it waits, polls or failed (for `elsewhere`: which process runs it).
    pub reason: Option<String>,
    /// Changes seen since the last version (`pending`).
    #[ts(type = "number")]
    pub pending: u64,
    /// The failure's class, for `error`: what the UI offers (log in, retry...).
    pub kind: Option<ErrorKind>,
}

/// A watched folder as the Watched folders page shows it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WatchDto {
    #[ts(type = "number")]
    pub id: i64,
    pub folder: String,
    /// `project/name` of the dataset its versions belong to.
    pub dataset: String,
    #[ts(type = "number")]
    pub quiet_ms: u64,
    #[ts(type = "number")]
    pub max_wait_ms: u64,
    #[ts(type = "number | null")]
    pub poll_ms: Option<u64>,
    pub upload: bool,
    pub paused: bool,
    pub state: WatchPhase,
    pub reason: Option<String>,
    /// Events seen since the last version (what the watcher knows without reading the folder).
    #[ts(type = "number")]
    pub pending: u64,
    /// While changes are pending: what its next version would record, counted as
    /// `strata status` counts (refreshed every few seconds at most).
    pub changes: Option<PendingDto>,
    pub kind: Option<ErrorKind>,
    /// Whether some process (this app or another) runs it now.
    pub running: bool,
    /// The process running it, when another one does (`strata watch run`, another app).
    pub elsewhere: Option<String>,
    /// `project/name@semver` of the last version the watch made.
    pub last_version: Option<String>,
    /// `project/name@semver` of the dataset's newest version (a "Version now" counts too).
    pub newest_version: Option<String>,
    #[ts(type = "number | null")]
    pub updated_at: Option<i64>,
}

/// The changes a watched folder's next version would record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
pub struct PendingDto {
    #[ts(type = "number")]
    pub added: u64,
    #[ts(type = "number")]
    pub modified: u64,
    #[ts(type = "number")]
    pub removed: u64,
}

/// A folder to watch, from the Add form. Durations in milliseconds.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
pub struct WatchAddRequest {
    pub folder: String,
    /// `project/name`.
    pub dataset: String,
    /// How long writing must have stopped before a version is made.
    #[ts(type = "number")]
    pub quiet_ms: u64,
    /// The longest a change waits under constant writing (null: ten minutes, or the quiet
    /// window when that is longer).
    #[ts(type = "number | null")]
    pub max_wait_ms: Option<u64>,
    /// Poll this often instead of waiting for filesystem events (network mounts).
    #[ts(type = "number | null")]
    pub poll_ms: Option<u64>,
    /// Upload each new version.
    pub upload: bool,
}

/// A version's label statistics for its Insight section: the source and why it was chosen,
/// classes overall and per split, the histogram drawn, what is wrong, and with a comparison how
/// the classes moved.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InsightDto {
    /// `project/name@semver`.
    pub version: String,
    /// `imagefolder`, `csv`, `coco`, `yolo`, `voc`, or `none` when nothing fits.
    pub format: String,
    /// The label source as `--labels` spells it (`imagefolder`, `coco:FILE`...), to change it.
    pub labels: String,
    pub evidence: Vec<String>,
    pub classes: Vec<ClassDto>,
    /// Split names, training first; each class's `splits` follows this order.
    pub split_names: Vec<String>,
    #[ts(type = "number")]
    pub images: u64,
    #[ts(type = "number")]
    pub unlabelled: u64,
    #[ts(type = "number")]
    pub instances: u64,
    /// "cat has 13× the instances of fox", when over the warning ratio.
    pub imbalance: Option<String>,
    /// Image sizes in a sentence, when read.
    pub sizes: Option<String>,
    /// Each naming its file (and line): "labels/a.txt:3: class id 9 is not in names".
    pub warnings: Vec<String>,
    /// The class histogram (per split, stacked).
    pub svg: String,
    /// Where each class's bar is on it, with its counts: hover areas.
    pub regions: Vec<RegionDto>,
    /// Nothing was read: every figure came from the cache.
    pub cached: bool,
    pub against: Option<AgainstDto>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ClassDto {
    pub name: String,
    #[ts(type = "number")]
    pub images: u64,
    #[ts(type = "number")]
    pub instances: u64,
    /// Instances per split, in `InsightDto::split_names` order.
    #[ts(type = "number[]")]
    pub splits: Vec<u64>,
}

/// This version against another: the comparison chart and what changed.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AgainstDto {
    pub version: String,
    /// "relabelling moved 212 images from cat to lynx; dog lost 9 % of its training examples".
    pub summary: String,
    pub gained: Vec<String>,
    pub lost: Vec<String>,
    /// Classes whose counts changed: this version minus the other.
    pub delta: Vec<DeltaDto>,
    /// Files that changed class (at most a few hundred), and how many did in all.
    pub moved: Vec<MoveDto>,
    #[ts(type = "number")]
    pub moved_count: u64,
    pub svg: String,
    pub regions: Vec<RegionDto>,
}

/// A class's place on a chart, in fractions of the picture (0 to 1), and its counts in words.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RegionDto {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub tip: String,
}

impl From<strata_engine::strata_insight::plot::Region> for RegionDto {
    fn from(r: strata_engine::strata_insight::plot::Region) -> Self {
        RegionDto {
            x: r.x,
            y: r.y,
            w: r.w,
            h: r.h,
            tip: r.tip,
        }
    }
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeltaDto {
    pub name: String,
    #[ts(type = "number")]
    pub images: i64,
    #[ts(type = "number")]
    pub instances: i64,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MoveDto {
    pub path: String,
    pub old_path: Option<String>,
    pub from: String,
    pub to: String,
}

/// A preview of one file: an image (PNG, base64), the first rows of a table, the head of a
/// text, or why there is none.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum PreviewDto {
    Image {
        png: String,
        width: u32,
        height: u32,
        #[serde(rename = "sourceWidth")]
        source_width: u32,
        #[serde(rename = "sourceHeight")]
        source_height: u32,
        format: String,
    },
    Table {
        columns: Vec<String>,
        rows: Vec<Vec<String>>,
        truncated: bool,
        notes: Vec<String>,
    },
    Text {
        text: String,
        truncated: bool,
        notes: Vec<String>,
    },
    Unavailable {
        why: String,
    },
}

/// One thumbnail of a grid page: the PNG (base64) or why there is none.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ThumbDto {
    pub path: String,
    pub png: Option<String>,
    pub error: Option<String>,
}

#[cfg(test)]
mod bindings {
    use std::path::{Path, PathBuf};

    use ts_rs::TS;

    use super::*;

    /// The UI's TypeScript types are generated from these DTOs. This test fails when the committed
    /// files under ui/src/bindings differ from what the Rust types say; run it with
    /// `STRATA_UPDATE_BINDINGS=1` to rewrite them.
    #[test]
    fn typescript_bindings_are_current() {
        let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/bindings");
        let fresh = std::env::temp_dir().join(format!("strata-bindings-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&fresh);
        export_all(&fresh);
        for f in files(&fresh) {
            let p = fresh.join(&f);
            let text = std::fs::read_to_string(&p).unwrap();
            let body: Vec<&str> = text
                .lines()
                .filter(|l| !l.starts_with("// This file was generated"))
                .collect();
            let header =
                "// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.\n";
            std::fs::write(&p, format!("{header}{}\n", body.join("\n").trim())).unwrap();
        }
        if std::env::var_os("STRATA_UPDATE_BINDINGS").is_some() {
            let _ = std::fs::remove_dir_all(&committed);
            std::fs::create_dir_all(&committed).unwrap();
            for f in files(&fresh) {
                std::fs::copy(fresh.join(&f), committed.join(&f)).unwrap();
            }
        }
        let (want, have) = (files(&fresh), files(&committed));
        assert_eq!(
            want, have,
            "binding files differ; run with STRATA_UPDATE_BINDINGS=1"
        );
        for f in want {
            let a = std::fs::read_to_string(fresh.join(&f)).unwrap();
            let b = std::fs::read_to_string(committed.join(&f)).unwrap();
            assert_eq!(a, b, "{f} is stale; run with STRATA_UPDATE_BINDINGS=1");
        }
        let _ = std::fs::remove_dir_all(&fresh);
    }

    fn export_all(dir: &PathBuf) {
        CatalogDto::export_all_to(dir).unwrap();
        InsightDto::export_all_to(dir).unwrap();
        PreviewDto::export_all_to(dir).unwrap();
        ThumbDto::export_all_to(dir).unwrap();
        VersionDetailDto::export_all_to(dir).unwrap();
        FilePageDto::export_all_to(dir).unwrap();
        DiffDto::export_all_to(dir).unwrap();
        ChangeDto::export_all_to(dir).unwrap();
        CopyDto::export_all_to(dir).unwrap();
        strata_engine::GetRequest::export_all_to(dir).unwrap();
        ErrorKind::export_all_to(dir).unwrap();
        NoticeDto::export_all_to(dir).unwrap();
        ProgressDto::export_all_to(dir).unwrap();
        ApiError::export_all_to(dir).unwrap();
        CatalogChanged::export_all_to(dir).unwrap();
        RemotesDto::export_all_to(dir).unwrap();
        RemoteRequest::export_all_to(dir).unwrap();
        ProbeDto::export_all_to(dir).unwrap();
        PullDto::export_all_to(dir).unwrap();
        UploadDto::export_all_to(dir).unwrap();
        PushDto::export_all_to(dir).unwrap();
        ExportDto::export_all_to(dir).unwrap();
        ImportDto::export_all_to(dir).unwrap();
        WatchDto::export_all_to(dir).unwrap();
        WatchStateDto::export_all_to(dir).unwrap();
        WatchAddRequest::export_all_to(dir).unwrap();
        crate::free_commands::WaitingDto::export_all_to(dir).unwrap();
        crate::free_commands::FreeDto::export_all_to(dir).unwrap();
        crate::free_commands::LocalContentDto::export_all_to(dir).unwrap();
        crate::free_commands::ReachDto::export_all_to(dir).unwrap();
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map(|r| {
                r.flatten()
                    .map(|e| e.file_name().to_string_lossy().to_string())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }
}
