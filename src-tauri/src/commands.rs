//! The commands the window may call: each a few lines over the engine. Long ones run on a
//! blocking thread, report through a channel, and can be cancelled by task id. Every command that
//! writes runs off the main thread (`async`): it may wait for another writer of the same version
//! (the CLI, say) or reach a remote, and the window must not freeze meanwhile.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use strata_core::{Cancel, Entry, Hash, Progress};
use strata_engine::{AddOptions, CreateOptions, Engine, GetOptions, MetaOp};
use tauri::ipc::Channel;
use tauri::{AppHandle, Emitter, Runtime, State};

use crate::dto::*;
use crate::progress::ChannelProgress;

pub type Res<T> = Result<T, ApiError>;

/// The app's state: where the catalog lives, and the cancel flags of running tasks. Each command
/// opens the engine itself (a few milliseconds): readers never wait for a long writer.
pub struct AppState {
    pub home: PathBuf,
    pub tasks: Mutex<HashMap<u32, Cancel>>,
    /// The last file listing asked for (manifest + filter), so scrolling through a million
    /// entries decodes the manifest once, not once per page.
    listing: Mutex<Option<Listing>>,
}

struct Listing {
    manifest: Hash,
    filter: String,
    files: Arc<Vec<Entry>>,
}

impl AppState {
    pub fn new(home: PathBuf) -> Self {
        AppState {
            home,
            tasks: Mutex::new(HashMap::new()),
            listing: Mutex::new(None),
        }
    }

    pub(crate) fn engine(&self) -> Res<Engine> {
        Ok(Engine::open(&self.home)?)
    }

    fn start(&self, task: u32) -> Cancel {
        let c = Cancel::new();
        if let Ok(mut t) = self.tasks.lock() {
            t.insert(task, c.clone());
        }
        c
    }

    fn finish(&self, task: u32) {
        if let Ok(mut t) = self.tasks.lock() {
            t.remove(&task);
        }
    }
}

/// Runs long engine work off the UI thread with a progress channel and a cancel flag.
pub(crate) async fn long<T: Send + 'static>(
    state: &AppState,
    task: u32,
    channel: Channel<ProgressDto>,
    work: impl FnOnce(&mut Engine, &dyn Progress, &Cancel) -> strata_core::Result<T> + Send + 'static,
) -> Res<T> {
    let mut engine = state.engine()?;
    let cancel = state.start(task);
    let c = cancel.clone();
    let out = tauri::async_runtime::spawn_blocking(move || {
        let progress = ChannelProgress::new(channel);
        work(&mut engine, &progress, &c)
    })
    .await;
    state.finish(task);
    match out {
        Ok(r) => r.map_err(Into::into),
        Err(e) => Err(ApiError {
            code: "internal".into(),
            message: format!("the task stopped unexpectedly: {e}"),
        }),
    }
}

pub(crate) fn changed<R: Runtime>(
    app: &AppHandle<R>,
    dataset: Option<String>,
    version: Option<String>,
) {
    let _ = app.emit("catalog://changed", CatalogChanged { dataset, version });
}

fn change_dto(c: strata_engine::Change) -> ChangeDto {
    ChangeDto {
        version: c.version.into(),
        created: c.created,
        changes: c.changes.into(),
    }
}

#[tauri::command]
pub fn catalog(state: State<'_, AppState>) -> Res<CatalogDto> {
    let engine = state.engine()?;
    Ok(CatalogDto {
        home: state.home.display().to_string(),
        datasets: engine
            .list(None, &[])?
            .into_iter()
            .map(Into::into)
            .collect(),
    })
}

#[tauri::command]
pub fn dataset_versions(state: State<'_, AppState>, dataset: String) -> Res<Vec<VersionDto>> {
    Ok(state
        .engine()?
        .log(&dataset)?
        .into_iter()
        .map(Into::into)
        .collect())
}

#[tauri::command]
pub fn version_detail(state: State<'_, AppState>, reference: String) -> Res<VersionDetailDto> {
    let engine = state.engine()?;
    let v = engine.resolve(&reference)?;
    let parents: Vec<_> = v
        .parents
        .iter()
        .filter_map(|p| engine.catalog().version(p).ok())
        .collect();
    let against_parent = match parents.first() {
        Some(p) => Some(engine.diff(&p.id, &v.id)?.totals.into()),
        None => None,
    };
    let children = engine.catalog().children_of(&v.id)?;
    Ok(VersionDetailDto {
        version: v.into(),
        parents: parents.into_iter().map(Into::into).collect(),
        against_parent,
        children: children.into_iter().map(Into::into).collect(),
    })
}

/// One page of a version's files, filtered by glob; the UI asks only for the rows it shows.
#[tauri::command]
pub fn version_files(
    state: State<'_, AppState>,
    reference: String,
    glob: Option<String>,
    offset: u64,
    limit: u64,
) -> Res<FilePageDto> {
    let globs: Vec<String> = glob.filter(|g| !g.trim().is_empty()).into_iter().collect();
    let key = globs.join("\n");
    let engine = state.engine()?;
    let manifest = engine.resolve(&reference)?.manifest;
    let cached = match state.listing.lock() {
        Ok(l) => l
            .as_ref()
            .filter(|l| l.manifest == manifest && l.filter == key)
            .map(|l| l.files.clone()),
        Err(_) => None,
    };
    let files = match cached {
        Some(f) => f,
        None => {
            let f = Arc::new(engine.files(&reference, &globs)?);
            if let Ok(mut l) = state.listing.lock() {
                *l = Some(Listing {
                    manifest,
                    filter: key,
                    files: f.clone(),
                });
            }
            f
        }
    };
    let total = files.len() as u64;
    let page = files
        .iter()
        .skip(offset as usize)
        .take(limit.min(5000) as usize)
        .cloned()
        .map(Into::into)
        .collect();
    Ok(FilePageDto {
        total,
        offset,
        files: page,
    })
}

#[tauri::command]
pub fn diff_versions(
    state: State<'_, AppState>,
    from: String,
    to: String,
    limit: u64,
) -> Res<DiffDto> {
    let d = state.engine()?.diff(&from, &to)?;
    let n = limit.min(20_000) as usize;
    Ok(DiffDto {
        totals: d.totals.into(),
        from: d.from.into(),
        to: d.to.into(),
        added: d.added.into_iter().take(n).map(Into::into).collect(),
        removed: d.removed.into_iter().take(n).map(Into::into).collect(),
        modified: d
            .modified
            .into_iter()
            .take(n)
            .map(|m| ModifiedDto {
                path: m.path,
                old_size: m.old_size,
                new_size: m.new_size,
            })
            .collect(),
    })
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

#[tauri::command(async)]
pub fn create_version<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    dataset: String,
    parents: Vec<String>,
    version: Option<String>,
    description: Option<String>,
) -> Res<VersionDto> {
    let v = state.engine()?.create(
        &dataset,
        &CreateOptions {
            version: version.filter(|v| !v.trim().is_empty()),
            parents,
            tags: Vec::new(),
            description: description.unwrap_or_default(),
        },
    )?;
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
        let opts = AddOptions {
            to,
            ..Default::default()
        };
        e.add(&reference, &paths, &opts, p, c)
    })
    .await?;
    changed(&app, None, Some(c.version.id.clone()));
    Ok(change_dto(c))
}

#[tauri::command(async)]
pub fn remove_entries<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
    patterns: Vec<String>,
) -> Res<ChangeDto> {
    let c = state.engine()?.remove(&reference, &patterns)?;
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

#[tauri::command(async)]
pub fn finalize_version<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
) -> Res<VersionDto> {
    let v = state.engine()?.finalize(&reference)?;
    changed(&app, None, Some(v.id.clone()));
    Ok(v.into())
}

#[tauri::command(async)]
pub fn publish_version<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
) -> Res<VersionDto> {
    let v = state.engine()?.publish(&reference)?;
    changed(&app, None, Some(v.id.clone()));
    Ok(v.into())
}

#[tauri::command]
pub async fn get_copy(
    state: State<'_, AppState>,
    task: u32,
    reference: String,
    request: CopyRequest,
    on_progress: Channel<ProgressDto>,
) -> Res<CopyDto> {
    let g = long(&state, task, on_progress, move |e, p, c| {
        let opts = GetOptions {
            to: request.to.filter(|t| !t.is_empty()).map(PathBuf::from),
            overwrite: request.overwrite,
            mutable: request.mutable,
            include: request.include,
            exclude: request.exclude,
            fraction: request.fraction,
            seed: request.seed,
            jobs: None,
        };
        e.get(&reference, &opts, p, c)
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
pub fn cancel_task(state: State<'_, AppState>, task: u32) -> bool {
    match state.tasks.lock() {
        Ok(t) => t.get(&task).map(|c| c.cancel()).is_some(),
        Err(_) => false,
    }
}

#[tauri::command(async)]
pub fn squash_versions<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    dataset: String,
    references: Vec<String>,
) -> Res<VersionDto> {
    let v = state.engine()?.squash(&dataset, &references)?;
    changed(&app, Some(dataset), Some(v.id.clone()));
    Ok(v.into())
}

#[tauri::command(async)]
pub fn delete_version<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
    force: bool,
) -> Res<VersionDto> {
    let v = state.engine()?.delete(&reference, force)?;
    changed(&app, Some(v.full_name()), None);
    Ok(v.into())
}

#[tauri::command(async)]
pub fn delete_dataset<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    dataset: String,
) -> Res<u64> {
    let gone = state.engine()?.delete_dataset(&dataset)?;
    changed(&app, Some(dataset), None);
    Ok(gone.len() as u64)
}

#[tauri::command(async)]
pub fn rename_dataset<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    dataset: String,
    new_name: String,
) -> Res<String> {
    let to = state.engine()?.rename(&dataset, &new_name)?.to_string();
    changed(&app, Some(to.clone()), None);
    Ok(to)
}

#[tauri::command(async)]
pub fn move_dataset<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    dataset: String,
    project: String,
) -> Res<String> {
    let to = state
        .engine()?
        .move_dataset(&dataset, &project)?
        .to_string();
    changed(&app, Some(to.clone()), None);
    Ok(to)
}

/// Sets (`value` = JSON text) or removes (`value` = null) one metadata key.
#[tauri::command(async)]
pub fn set_metadata<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
    key: String,
    value: Option<String>,
) -> Res<VersionDto> {
    let op = match value {
        Some(v) => MetaOp::parse(&format!("{key}={v}"))?,
        None => MetaOp::Remove(key),
    };
    let mut engine = state.engine()?;
    engine.meta(&reference, &[op])?;
    let v = engine.resolve(&reference)?;
    changed(&app, None, Some(v.id.clone()));
    Ok(v.into())
}

#[tauri::command(async)]
pub fn set_tags<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
    changes: Vec<String>,
) -> Res<VersionDto> {
    let v = state.engine()?.tag(&reference, &changes)?;
    changed(&app, None, Some(v.id.clone()));
    Ok(v.into())
}

#[tauri::command(async)]
pub fn set_description<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    reference: String,
    description: String,
) -> Res<VersionDto> {
    let v = state.engine()?.describe(&reference, &description)?;
    changed(&app, None, Some(v.id.clone()));
    Ok(v.into())
}

/// Shows a folder in the system file manager.
#[tauri::command]
pub fn reveal(path: String) -> Res<()> {
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
        .map_err(|e| ApiError {
            code: "io".into(),
            message: format!("cannot open a file manager ({opener}): {e}"),
        })
}
