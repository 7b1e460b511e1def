//! Offline sessions for the window: export versions into one file and import one, with progress
//! and cancel like other long work. The file's path comes from the system's save/open dialog.

use std::path::PathBuf;

use strata_engine::ImportRequest;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};

use crate::dto::*;
use crate::tasks::{changed, long, AppState, Res};

/// Writes `what` (datasets `project/name`, or version references) into a session file at
/// `path`; with `since`, leaves out that version and its ancestors (the other home has them).
#[tauri::command]
pub async fn export_session(
    state: State<'_, AppState>,
    task: u32,
    on_progress: Channel<ProgressDto>,
    what: Vec<String>,
    since: Option<String>,
    path: String,
) -> Res<ExportDto> {
    let out = PathBuf::from(path);
    let o = long(&state, task, on_progress, move |e, p, c| {
        e.export(&what, since.as_deref(), &out, p, c)
    })
    .await?;
    Ok(ExportDto {
        path: o.path.display().to_string(),
        versions: o.versions,
        objects: o.objects,
        bytes: o.bytes,
    })
}

/// Imports a session file; `finalize` finalizes its drafts, `upload` uploads its final versions
/// (offline, they wait for "Upload & finalize waiting").
#[tauri::command]
pub async fn import_session<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    task: u32,
    on_progress: Channel<ProgressDto>,
    path: String,
    finalize: bool,
    upload: bool,
) -> Res<ImportDto> {
    let file = PathBuf::from(path);
    let req = ImportRequest {
        finalize,
        upload,
        remote: None,
    };
    let o = long(&state, task, on_progress, move |e, p, c| {
        e.import(&file, &req, p, c)
    })
    .await?;
    changed(&app, None, None);
    Ok(ImportDto {
        versions: o
            .versions
            .into_iter()
            .map(|v| ImportedDto {
                id: v.id,
                dataset: v.dataset,
                semver: v.semver,
                renumbered_from: v.renumbered_from,
                state: v.state,
                already_here: v.already_here,
                uploaded: v.uploaded,
            })
            .collect(),
        new_objects: o.new_objects,
        new_bytes: o.new_bytes,
        finalized: o.finalized,
    })
}
