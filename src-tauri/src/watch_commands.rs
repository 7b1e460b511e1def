//! The commands of the Watched folders page: list, add, pause or resume, remove, and "Version
//! now". The watches themselves run on the app's watch thread (`watches.rs`), which notices
//! changes made here within a few seconds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use strata_core::{Cancel, DatasetName, Error};
use strata_engine::{default_max_wait, WatchRequest};
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};

use crate::commands::change_dto;
use crate::dto::{ChangeDto, PendingDto, ProgressDto, WatchAddRequest, WatchDto, WatchPhase};
use crate::tasks::{changed, long, read, write, AppState, Res};
use crate::tray;

/// Bounds of the quiet window: shorter would version files mid-copy, longer is never wanted.
const QUIET_MIN: Duration = Duration::from_millis(100);
const QUIET_MAX: Duration = Duration::from_secs(24 * 3600);

/// The engine's request from the form, or what to fix in it.
pub fn watch_request(form: &WatchAddRequest) -> strata_core::Result<WatchRequest> {
    let folder = form.folder.trim();
    if folder.is_empty() {
        return Err(Error::invalid("choose the folder to watch"));
    }
    let folder = PathBuf::from(folder);
    if !folder.is_absolute() {
        return Err(Error::invalid(format!(
            "give the folder's full path, not '{}'",
            folder.display()
        )));
    }
    match std::fs::metadata(&folder) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::invalid(format!(
                "'{}' is a file, not a folder",
                folder.display()
            )))
        }
        Err(_) => return Err(Error::not_found("folder", folder.display().to_string())),
    }
    let dataset = form.dataset.trim();
    if dataset.is_empty() {
        return Err(Error::invalid(
            "name the dataset its versions go to, as project/name",
        ));
    }
    let dataset = DatasetName::parse(dataset)?.to_string();
    let quiet_for = Duration::from_millis(form.quiet_ms);
    if !(QUIET_MIN..=QUIET_MAX).contains(&quiet_for) {
        return Err(Error::invalid(
            "the quiet window must be between 0.1 seconds and 24 hours",
        ));
    }
    let max_wait = match form.max_wait_ms {
        Some(ms) => Duration::from_millis(ms),
        None => default_max_wait(quiet_for),
    };
    if max_wait < quiet_for {
        return Err(Error::invalid(
            "the longest wait must not be shorter than the quiet window",
        ));
    }
    let poll = form.poll_ms.map(Duration::from_millis);
    if poll.is_some_and(|p| p < QUIET_MIN) {
        return Err(Error::invalid("polling must be at least 0.1 seconds apart"));
    }
    Ok(WatchRequest {
        folder,
        dataset,
        quiet_for,
        max_wait,
        poll,
        upload: form.upload,
    })
}

/// Every watched folder, with its live state.
#[tauri::command]
pub async fn watches(state: State<'_, AppState>) -> Res<Vec<WatchDto>> {
    let board = state.watch_board();
    read(&state, move |e| {
        let newest: HashMap<String, String> = e
            .list(None, &[])?
            .into_iter()
            .filter_map(|d| {
                let name = format!("{}/{}", d.project, d.name);
                d.latest.map(|v| (name, v.label()))
            })
            .collect();
        let cancel = Cancel::new();
        Ok(e.watches()?
            .into_iter()
            .map(|w| {
                let newest = newest.get(&w.watch.dataset).cloned();
                let row = w.watch.clone();
                let mut d = board.dto(w, newest);
                if d.state == WatchPhase::Pending && !d.paused {
                    d.changes = board.changes(&d.folder, || {
                        e.watch_changes(&row, &cancel).map(|c| PendingDto {
                            added: c.added,
                            modified: c.modified,
                            removed: c.removed,
                        })
                    });
                }
                d
            })
            .collect())
    })
    .await
}

#[tauri::command]
pub async fn watch_add<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    request: WatchAddRequest,
) -> Res<WatchDto> {
    let request = watch_request(&request)?;
    let info = write(&app, &state, move |e| e.watch_add(&request)).await?;
    let board = state.watch_board();
    board.forget(&info.watch.folder);
    tray::refresh_soon(&app);
    Ok(board.dto(info, None))
}

/// Pauses (no versions until resumed) or resumes a watch.
#[tauri::command]
pub async fn watch_pause<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: i64,
    paused: bool,
) -> Res<WatchDto> {
    let info = write(&app, &state, move |e| {
        e.watch_pause(&id.to_string(), paused)
    })
    .await?;
    tray::refresh_soon(&app);
    Ok(state.watch_board().dto(info, None))
}

/// Forgets a watch; the folder and the versions it made stay.
#[tauri::command]
pub async fn watch_remove<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: i64,
) -> Res<()> {
    let row = write(&app, &state, move |e| e.watch_remove(&id.to_string())).await?;
    state.watch_board().forget(&row.folder);
    tray::refresh_soon(&app);
    Ok(())
}

/// Makes a version of the watched folder now, whatever the quiet window says.
#[tauri::command]
pub async fn watch_version_now<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    task: u32,
    id: i64,
    on_progress: Channel<ProgressDto>,
) -> Res<ChangeDto> {
    let c = long(&state, task, on_progress, move |e, p, c| {
        let w = e.watch(&id.to_string())?.watch;
        e.snapshot(&w.dataset, Path::new(&w.folder), &[], p, c)
    })
    .await?;
    if c.created {
        changed(
            &app,
            Some(c.version.full_name()),
            Some(c.version.id.clone()),
        );
    }
    Ok(change_dto(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(folder: &Path) -> WatchAddRequest {
        WatchAddRequest {
            folder: folder.display().to_string(),
            dataset: "lab/shots".into(),
            quiet_ms: 60_000,
            ..Default::default()
        }
    }

    fn refused(f: &WatchAddRequest) -> String {
        match watch_request(f) {
            Ok(r) => panic!("accepted {r:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_form_becomes_the_engines_request_with_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let r = watch_request(&form(dir.path())).unwrap();
        assert_eq!(r.dataset, "lab/shots");
        assert_eq!(r.quiet_for, Duration::from_secs(60));
        assert_eq!(r.max_wait, Duration::from_secs(600));
        assert_eq!((r.poll, r.upload), (None, false));
        // A quiet window longer than the default longest wait stretches it.
        let long = watch_request(&WatchAddRequest {
            quiet_ms: 3_600_000,
            ..form(dir.path())
        })
        .unwrap();
        assert_eq!(long.max_wait, Duration::from_secs(3600));
    }

    #[test]
    fn the_form_says_what_to_fix() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, b"a").unwrap();
        let f = form(dir.path());
        let cases = [
            (
                WatchAddRequest {
                    folder: " ".into(),
                    ..f.clone()
                },
                "choose the folder",
            ),
            (
                WatchAddRequest {
                    folder: "data/shots".into(),
                    ..f.clone()
                },
                "full path",
            ),
            (form(&dir.path().join("gone")), "not found"),
            (form(&file), "not a folder"),
            (
                WatchAddRequest {
                    dataset: "".into(),
                    ..f.clone()
                },
                "project/name",
            ),
            (
                WatchAddRequest {
                    quiet_ms: 0,
                    ..f.clone()
                },
                "quiet window",
            ),
            (
                WatchAddRequest {
                    max_wait_ms: Some(1000),
                    ..f.clone()
                },
                "longest wait",
            ),
            (
                WatchAddRequest {
                    poll_ms: Some(5),
                    ..f.clone()
                },
                "polling",
            ),
        ];
        for (bad, says) in cases {
            let message = refused(&bad);
            assert!(message.contains(says), "{bad:?}: {message}");
        }
        assert!(watch_request(&WatchAddRequest {
            dataset: "no-project".into(),
            ..f
        })
        .is_err());
    }
}
