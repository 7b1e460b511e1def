//! The commands the window may call for catalog and versions: each a few lines over the engine,
//! run through `tasks.rs` (off the main thread; long ones with progress and cancel).

use std::path::PathBuf;

use strata_core::manifest::Change;
use strata_core::Diff;
use strata_engine::{AddRequest, CreateRequest, GetRequest, MetaOp};
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};

use crate::dto::*;
use crate::tasks::{changed, long, read, write, AppState, Res};

pub(crate) fn change_dto(c: strata_engine::Change) -> ChangeDto {
    ChangeDto {
        version: c.version.into(),
        created: c.created,
        changes: c.changes.into(),
    }
}

#[tauri::command]
pub async fn catalog(state: State<'_, AppState>) -> Res<CatalogDto> {
    let home = state.home.display().to_string();
    let datasets = read(&state, |e| e.list(None, &[])).await?;
    Ok(CatalogDto {
        home,
        datasets: datasets.into_iter().map(Into::into).collect(),
    })
}

#[tauri::command]
pub async fn dataset_versions(state: State<'_, AppState>, dataset: String) -> Res<Vec<VersionDto>> {
    let versions = read(&state, move |e| e.log(&dataset)).await?;
    Ok(versions.into_iter().map(Into::into).collect())
}

#[tauri::command]
pub async fn version_detail(
    state: State<'_, AppState>,
    reference: String,
) -> Res<VersionDetailDto> {
    let manifests = state.manifests.clone();
    read(&state, move |e| {
        let d = e.show(&reference)?;
        let against_parent = match d.parent_versions.first() {
            Some(p) => {
                let (old, new) = (manifests.of(e, p)?, manifests.of(e, &d.version)?);
                Some(Diff::totals_between(&old, &new).into())
            }
            None => None,
        };
        Ok(VersionDetailDto {
            version: d.version.into(),
            parents: d.parent_versions.into_iter().map(Into::into).collect(),
            against_parent,
            children: d.children.into_iter().map(Into::into).collect(),
        })
    })
    .await
}

/// One page of a version's files, filtered by glob; the UI asks only for the rows it shows.
#[tauri::command]
pub async fn version_files(
    state: State<'_, AppState>,
    reference: String,
    glob: Option<String>,
    offset: u64,
    limit: u64,
) -> Res<FilePageDto> {
    let globs: Vec<String> = glob.filter(|g| !g.trim().is_empty()).into_iter().collect();
    let manifests = state.manifests.clone();
    read(&state, move |engine| {
        let v = engine.resolve(&reference)?;
        let listing = manifests.listing(engine, &v, &globs)?;
        let page = listing.page(offset as usize, limit.min(5000) as usize);
        Ok(FilePageDto {
            total: listing.total() as u64,
            offset,
            files: page.into_iter().map(Into::into).collect(),
        })
    })
    .await
}

/// What changed between two versions: the totals, and the first `limit` paths of each kind
/// (a version of a million new files sends the window a page, not a million rows).
#[tauri::command]
pub async fn diff_versions(
    state: State<'_, AppState>,
    from: String,
    to: String,
    limit: u64,
) -> Res<DiffDto> {
    let n = limit.min(20_000) as usize;
    let manifests = state.manifests.clone();
    read(&state, move |e| {
        let (a, b) = (e.resolve(&from)?, e.resolve(&to)?);
        let (old, new) = (manifests.of(e, &a)?, manifests.of(e, &b)?);
        let (mut added, mut removed, mut modified) = (Vec::new(), Vec::new(), Vec::new());
        Diff::visit(&old, &new, |c| match c {
            Change::Added(x) if added.len() < n => added.push(x.clone().into()),
            Change::Removed(x) if removed.len() < n => removed.push(x.clone().into()),
            Change::Modified(o, x) if modified.len() < n => modified.push(ModifiedDto {
                path: x.path.clone(),
                old_size: o.size,
                new_size: x.size,
            }),
            _ => {}
        });
        Ok(DiffDto {
            totals: Diff::totals_between(&old, &new).into(),
            from: a.into(),
            to: b.into(),
            added,
            removed,
            modified,
        })
    })
    .await
}

/// A folder becomes the next version of a dataset (or its first).
#[tauri::command]
pub async fn snapshot_folder<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    task: u32,
    dataset: String,
    folder: String,
    on_progress: Channel<ProgressDto>,
) -> Res<ChangeDto> {
    let d = dataset.clone();
    let c = long(&state, task, on_progress, move |e, p, c| {
        e.snapshot(&d, &PathBuf::from(folder), &[], p, c)
    })
    .await?;
    changed(&app, Some(dataset), Some(c.version.id.clone()));
    Ok(change_dto(c))
}

#[tauri::command]
pub async fn create_version<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    dataset: String,
    parents: Vec<String>,
    version: Option<String>,
    description: Option<String>,
) -> Res<VersionDto> {
    let d = dataset.clone();
    let v = write(&app, &state, move |e| {
        e.create(
            &d,
            &CreateRequest {
                version: version.filter(|v| !v.trim().is_empty()),
                parents,
                tags: Vec::new(),
                description: description.unwrap_or_default(),
                remote: None,
            },
        )
    })
    .await?;
    changed(&app, Some(dataset), Some(v.id.clone()));
    Ok(v.into())
}

#[tauri::command]
pub async fn add_paths<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    task: u32,
    reference: String,
    paths: Vec<String>,
    to: Option<String>,
    on_progress: Channel<ProgressDto>,
) -> Res<ChangeDto> {
    let c = long(&state, task, on_progress, move |e, p, c| {
        let paths: Vec<PathBuf> = paths.into_iter().map(PathBuf::from).collect();
        let opts = AddRequest {
            to,
            ..Default::default()
        };
        e.add(&reference, &paths, &opts, p, c)
    })
    .await?;
    changed(&app, None, Some(c.version.id.clone()));
    Ok(change_dto(c))
}

#[tauri::command]
pub async fn remove_entries<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
    patterns: Vec<String>,
) -> Res<ChangeDto> {
    let c = write(&app, &state, move |e| e.remove(&reference, &patterns)).await?;
    changed(&app, None, Some(c.version.id.clone()));
    Ok(change_dto(c))
}

#[tauri::command]
pub async fn sync_folder<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    task: u32,
    reference: String,
    folder: String,
    on_progress: Channel<ProgressDto>,
) -> Res<ChangeDto> {
    let c = long(&state, task, on_progress, move |e, p, c| {
        e.sync(&reference, &PathBuf::from(folder), p, c)
    })
    .await?;
    changed(&app, None, Some(c.version.id.clone()));
    Ok(change_dto(c))
}

#[tauri::command]
pub async fn finalize_version<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
) -> Res<VersionDto> {
    let v = write(&app, &state, move |e| e.finalize(&reference)).await?;
    changed(&app, None, Some(v.id.clone()));
    Ok(v.into())
}

#[tauri::command]
pub async fn publish_version<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
) -> Res<VersionDto> {
    let v = write(&app, &state, move |e| e.publish(&reference)).await?;
    changed(&app, None, Some(v.id.clone()));
    Ok(v.into())
}

/// A copy of a version: the request is the engine's own (`CopyRequest` in the UI's bindings).
#[tauri::command]
pub async fn get_copy(
    state: State<'_, AppState>,
    task: u32,
    reference: String,
    request: GetRequest,
    on_progress: Channel<ProgressDto>,
) -> Res<CopyDto> {
    let g = long(&state, task, on_progress, move |e, p, c| {
        e.get(&reference, &request, p, c)
    })
    .await?;
    Ok(CopyDto {
        path: g.path.display().to_string(),
        version: g.version,
        files: g.files,
        bytes: g.bytes,
        mutable: g.mutable,
        reused: g.reused,
        fetched_objects: g.fetched_objects,
        fetched_bytes: g.fetched_bytes,
    })
}

#[tauri::command]
pub async fn cancel_task(state: State<'_, AppState>, task: u32) -> Res<bool> {
    Ok(state.cancel(task))
}

#[tauri::command]
pub async fn squash_versions<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    dataset: String,
    references: Vec<String>,
) -> Res<VersionDto> {
    let d = dataset.clone();
    let v = write(&app, &state, move |e| e.squash(&d, &references)).await?;
    changed(&app, Some(dataset), Some(v.id.clone()));
    Ok(v.into())
}

#[tauri::command]
pub async fn delete_version<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
    force: bool,
) -> Res<VersionDto> {
    let v = write(&app, &state, move |e| e.delete(&reference, force)).await?;
    changed(&app, Some(v.full_name()), None);
    Ok(v.into())
}

#[tauri::command]
pub async fn delete_dataset<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    dataset: String,
) -> Res<u64> {
    let d = dataset.clone();
    let gone = write(&app, &state, move |e| e.delete_dataset(&d)).await?;
    changed(&app, Some(dataset), None);
    Ok(gone.len() as u64)
}

#[tauri::command]
pub async fn rename_dataset<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    dataset: String,
    new_name: String,
) -> Res<String> {
    let to = write(&app, &state, move |e| e.rename(&dataset, &new_name))
        .await?
        .to_string();
    changed(&app, Some(to.clone()), None);
    Ok(to)
}

#[tauri::command]
pub async fn move_dataset<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    dataset: String,
    project: String,
) -> Res<String> {
    let to = write(&app, &state, move |e| e.move_dataset(&dataset, &project))
        .await?
        .to_string();
    changed(&app, Some(to.clone()), None);
    Ok(to)
}

/// Sets (`value` = JSON text) or removes (`value` = null) one metadata key.
#[tauri::command]
pub async fn set_metadata<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
    key: String,
    value: Option<String>,
) -> Res<VersionDto> {
    let v = write(&app, &state, move |e| {
        let op = match value {
            Some(v) => MetaOp::parse(&format!("{key}={v}"))?,
            None => MetaOp::Remove(key),
        };
        e.meta(&reference, &[op])?;
        e.resolve(&reference)
    })
    .await?;
    changed(&app, None, Some(v.id.clone()));
    Ok(v.into())
}

#[tauri::command]
pub async fn set_tags<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
    changes: Vec<String>,
) -> Res<VersionDto> {
    let v = write(&app, &state, move |e| e.tag(&reference, &changes)).await?;
    changed(&app, None, Some(v.id.clone()));
    Ok(v.into())
}

#[tauri::command]
pub async fn set_description<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
    description: String,
) -> Res<VersionDto> {
    let v = write(&app, &state, move |e| e.describe(&reference, &description)).await?;
    changed(&app, None, Some(v.id.clone()));
    Ok(v.into())
}

/// Whether the app works offline: changes to shared versions queue for "Upload & finalize
/// waiting", and nothing reaches a remote.
#[tauri::command]
pub async fn offline_mode(state: State<'_, AppState>) -> Res<bool> {
    Ok(state.is_offline())
}

/// Turns offline mode on or off; returns the mode now in force.
#[tauri::command]
pub async fn set_offline_mode(state: State<'_, AppState>, offline: bool) -> Res<bool> {
    state.set_offline(offline);
    tracing::info!(offline, "offline mode changed");
    Ok(state.is_offline())
}

/// Shows a folder in the system file manager.
#[tauri::command]
pub async fn reveal(path: String) -> Res<()> {
    let p = PathBuf::from(&path);
    if !p.exists() {
        return Err(strata_core::Error::not_found("folder", path).into());
    }
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    std::process::Command::new(opener)
        .arg(&p)
        .spawn()
        .map(|_| ())
        .map_err(|e| {
            strata_core::Error::Io {
                action: "open a file manager for",
                path: p,
                source: e,
            }
            .into()
        })
}
