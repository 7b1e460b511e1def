//! The offline laptop in the window: what waits to be shared (versions, queued changes, drafts)
//! and one action that finalizes the drafts ticked and pushes it all; freeing a version's local
//! content; and whether the default remote answers now.

use std::time::Duration;

use serde::Serialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use crate::dto::{ProgressDto, PushDto, VersionDto};
use crate::tasks::{changed, long, read, AppState, Res};

/// How long the reachability probe waits for an answer.
const PROBE_WITHIN: Duration = Duration::from_secs(5);

/// Everything "Upload & finalize waiting" would send, and the drafts it may finalize first.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct WaitingDto {
    /// Final versions waiting to be uploaded (queued offline or interrupted).
    pub versions: Vec<VersionDto>,
    /// Catalog changes (publish, delete, rename, move) waiting to be sent.
    #[ts(type = "number")]
    pub events: u64,
    pub drafts: Vec<VersionDto>,
    /// The default remote, if there is one (without one, nothing can be sent).
    pub remote: Option<String>,
}

/// What "Free local space" did.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct FreeDto {
    /// `project/name@semver` of each version freed.
    pub freed: Vec<String>,
    /// "version: reason" for each version kept.
    pub kept: Vec<String>,
    #[ts(type = "number")]
    pub freed_bytes: u64,
    /// Bytes kept because a version that stays here holds them too.
    #[ts(type = "number")]
    pub shared_kept_bytes: u64,
}

/// How much of a version's content is on this machine.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LocalContentDto {
    /// `complete`, `partial` or `none`.
    pub local: String,
    #[ts(type = "number")]
    pub files: u64,
    #[ts(type = "number")]
    pub bytes: u64,
    #[ts(type = "number")]
    pub local_files: u64,
    #[ts(type = "number")]
    pub local_bytes: u64,
    /// The remote holding it, when it is uploaded or pulled (freeing is offered only then).
    pub remote: Option<String>,
}

/// Whether the default remote answered the last probe.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReachDto {
    /// None: no remote, or offline (nothing probed).
    pub remote: Option<String>,
    pub reachable: bool,
    /// Why not, when it did not answer.
    pub message: Option<String>,
}

#[tauri::command]
pub async fn waiting(state: State<'_, AppState>) -> Res<WaitingDto> {
    read(&state, |e| {
        let (versions, events) = e.pending()?;
        Ok(WaitingDto {
            versions: versions.into_iter().map(Into::into).collect(),
            events: events as u64,
            drafts: e.drafts()?.into_iter().map(Into::into).collect(),
            remote: e.remote(None).ok().map(|r| r.name),
        })
    })
    .await
}

/// Finalizes the drafts ticked, then uploads and sends everything waiting.
#[tauri::command]
pub async fn finalize_and_push<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    task: u32,
    drafts: Vec<String>,
    on_progress: Channel<ProgressDto>,
) -> Res<PushDto> {
    let r = long(&state, task, on_progress, move |e, p, c| {
        e.finalize_and_push(&drafts, p, c)
    })
    .await;
    // Drafts finalized before a failed push changed too.
    changed(&app, None, None);
    let p = r?;
    Ok(PushDto {
        uploaded: p.uploaded,
        events: p.events,
        sent_bytes: p.sent_bytes,
    })
}

#[tauri::command]
pub async fn free_version<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    task: u32,
    reference: String,
    on_progress: Channel<ProgressDto>,
) -> Res<FreeDto> {
    let r = long(&state, task, on_progress, move |e, p, c| {
        e.free(std::slice::from_ref(&reference), p, c)
    })
    .await?;
    changed(&app, None, r.freed.first().map(|f| f.id.clone()));
    Ok(FreeDto {
        freed: r.freed.iter().map(|f| f.version.clone()).collect(),
        kept: r
            .kept
            .iter()
            .map(|k| format!("{}: {}", k.version, k.reason))
            .collect(),
        freed_bytes: r.freed_bytes,
        shared_kept_bytes: r.freed.iter().map(|f| f.shared_kept_bytes).sum(),
    })
}

#[tauri::command]
pub async fn local_content(state: State<'_, AppState>, reference: String) -> Res<LocalContentDto> {
    let manifests = state.manifests.clone();
    read(&state, move |e| {
        let v = e.resolve(&reference)?;
        let m = manifests.of(e, &v)?;
        let h = e.holdings_in(&m)?;
        let on_remote = matches!(
            v.upload_state,
            strata_core::UploadState::Uploaded | strata_core::UploadState::Remote
        );
        Ok(LocalContentDto {
            local: h.local,
            files: h.files,
            bytes: h.bytes,
            local_files: h.local_files,
            local_bytes: h.local_bytes,
            remote: v.remote.filter(|_| on_remote),
        })
    })
    .await
}

/// One cheap probe of the default remote (a HEAD, no write), at most a few seconds.
#[tauri::command]
pub async fn remote_reachable(state: State<'_, AppState>) -> Res<ReachDto> {
    read(&state, |e| {
        Ok(match e.default_remote_answers(PROBE_WITHIN)? {
            None => ReachDto {
                remote: None,
                reachable: true,
                message: None,
            },
            Some((remote, Ok(_))) => ReachDto {
                remote: Some(remote),
                reachable: true,
                message: None,
            },
            Some((remote, Err(err))) => ReachDto {
                remote: Some(remote),
                reachable: false,
                message: Some(err.to_string()),
            },
        })
    })
    .await
}
