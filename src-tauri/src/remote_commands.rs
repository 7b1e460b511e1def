//! Remotes and transfers for the window: the Remotes page (add, test, default, credentials to the
//! keychain, remove) and transfers (pull, upload, push) with progress and cancel like other long
//! work. A paused transfer is a cancelled one that the window starts again: uploads and fetches
//! resume without re-sending what arrived.

use strata_core::RemoteSpec;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};

use crate::dto::*;
use crate::tasks::{changed, long, read, write, AppState, Res};

#[tauri::command]
pub async fn remotes(state: State<'_, AppState>) -> Res<RemotesDto> {
    read(&state, |engine| {
        let (waiting, events) = engine.pending()?;
        Ok(RemotesDto {
            remotes: engine
                .remotes()?
                .into_iter()
                .map(|r| {
                    let fields = engine
                        .login_fields(&r.name)
                        .map(|f| {
                            f.into_iter()
                                .map(|(key, label, secret)| LoginFieldDto {
                                    key: key.into(),
                                    label: label.into(),
                                    secret,
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    RemoteDto {
                        name: r.name,
                        url: r.url,
                        endpoint: r.endpoint,
                        region: r.region,
                        allow_http: r.allow_http,
                        is_default: r.is_default,
                        login_fields: fields,
                    }
                })
                .collect(),
            waiting_versions: waiting.len() as u64,
            waiting_events: events as u64,
            offline: engine.is_offline(),
        })
    })
    .await
}

#[tauri::command]
pub async fn remote_add<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: RemoteRequest,
) -> Res<()> {
    let spec = RemoteSpec {
        name: request.name.trim().to_string(),
        url: request.url.trim().to_string(),
        endpoint: request.endpoint.filter(|e| !e.trim().is_empty()),
        region: request.region.filter(|r| !r.trim().is_empty()),
        allow_http: request.allow_http,
        is_default: request.is_default,
    };
    write(&app, &state, move |e| e.remote_add(spec)).await?;
    Ok(())
}

#[tauri::command]
pub async fn remote_remove<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
) -> Res<()> {
    write(&app, &state, move |e| e.remote_remove(&name)).await
}

#[tauri::command]
pub async fn remote_set_default<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
) -> Res<()> {
    write(&app, &state, move |e| e.set_default_remote(&name)).await
}

#[tauri::command]
pub async fn remote_test(state: State<'_, AppState>, name: String) -> Res<ProbeDto> {
    let p = read(&state, move |e| e.remote_test(Some(&name))).await?;
    Ok(ProbeDto {
        millis: p.millis,
        writable: p.writable,
    })
}

/// Stores credentials in the OS keychain; they are tested and dropped if the remote refuses them.
/// Returns which keychain holds them, in words ("Secret Service (kept across restarts ...)").
#[tauri::command]
pub async fn remote_login<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    name: String,
    values: Vec<String>,
) -> Res<String> {
    write(&app, &state, move |engine| {
        let fields = engine.login_fields(&name)?;
        if fields.len() != values.len() {
            return Err(strata_core::Error::invalid("fill in every field"));
        }
        let pairs: Vec<(&str, String)> = fields
            .iter()
            .map(|f| f.0)
            .zip(values.into_iter().map(|v| v.trim().to_string()))
            .collect();
        let login = engine.remote_login(&name, &pairs)?;
        Ok(format!(
            "{} ({})",
            login.keychain.name(),
            login.keychain.explain()
        ))
    })
    .await
}

#[tauri::command]
pub async fn pull_remote<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    task: u32,
    remote: Option<String>,
    on_progress: Channel<ProgressDto>,
) -> Res<PullDto> {
    let p = long(&state, task, on_progress, move |e, p, _| {
        e.pull(remote.as_deref(), p)
    })
    .await?;
    changed(&app, None, None);
    Ok(PullDto {
        remote: p.remote,
        events: p.events,
        new_versions: p.new_versions,
        renumbered: p
            .renumbered
            .into_iter()
            .map(|r| format!("{} {} → {}", r.dataset, r.from, r.to))
            .collect(),
        refused: p.refused.iter().map(ToString::to_string).collect(),
        kept_local: p.kept_local,
    })
}

#[tauri::command]
pub async fn upload_version<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    task: u32,
    reference: String,
    remote: Option<String>,
    on_progress: Channel<ProgressDto>,
) -> Res<UploadDto> {
    let u = long(&state, task, on_progress, move |e, p, c| {
        e.upload(&reference, remote.as_deref(), p, c)
    })
    .await?;
    changed(&app, None, Some(u.id.clone()));
    Ok(UploadDto {
        version: u.version,
        remote: u.remote,
        uploaded: u.uploaded,
        sent_objects: u.sent_objects,
        sent_bytes: u.sent_bytes,
        skipped_objects: u.skipped_objects,
        renumbered_from: u.renumbered_from,
    })
}

/// Finalizes a draft and uploads it; when the remote cannot be reached the version stays final
/// and waits for "Upload & finalize waiting" (push).
#[tauri::command]
pub async fn finalize_upload<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    task: u32,
    reference: String,
    on_progress: Channel<ProgressDto>,
) -> Res<VersionDto> {
    let r = long(&state, task, on_progress, move |e, p, c| {
        e.finalize_and_upload(&reference, None, p, c)
    })
    .await;
    changed(&app, None, None);
    Ok(r?.0.into())
}

#[tauri::command]
pub async fn push_all<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    task: u32,
    on_progress: Channel<ProgressDto>,
) -> Res<PushDto> {
    let p = long(&state, task, on_progress, move |e, p, c| e.push(None, p, c)).await?;
    changed(&app, None, None);
    Ok(PushDto {
        uploaded: p.uploaded,
        events: p.events,
        sent_bytes: p.sent_bytes,
    })
}

/// The remote a dataset is shared through, when it is not the default one.
#[tauri::command]
pub async fn dataset_remote(state: State<'_, AppState>, dataset: String) -> Res<Option<String>> {
    read(&state, move |e| e.dataset_remote(&dataset)).await
}

/// Shares a dataset through its own remote (`None`: the default one again).
#[tauri::command]
pub async fn set_dataset_remote<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    dataset: String,
    remote: Option<String>,
) -> Res<()> {
    write(&app, &state, move |e| {
        e.set_dataset_remote(&dataset, remote.as_deref())
    })
    .await
}
