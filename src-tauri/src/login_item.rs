//! "Start at login": the login item (an XDG autostart entry, a macOS launch agent, a Windows
//! Run key) that starts the app in the tray at login, so watched folders run without anyone
//! opening it.

use tauri::{AppHandle, Runtime};
use tauri_plugin_autostart::ManagerExt;

use crate::dto::ApiError;
use crate::tasks::Res;

fn failed(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(format!("could not change the login item: {e}"))
}

/// Whether the app starts at login.
#[tauri::command]
pub async fn start_at_login<R: Runtime>(app: AppHandle<R>) -> Res<bool> {
    app.autolaunch().is_enabled().map_err(failed)
}

/// Starts the app at login (in the tray), or stops doing so.
#[tauri::command]
pub async fn set_start_at_login<R: Runtime>(app: AppHandle<R>, on: bool) -> Res<bool> {
    let launcher = app.autolaunch();
    if on {
        launcher.enable().map_err(failed)?;
    } else {
        launcher.disable().map_err(failed)?;
    }
    launcher.is_enabled().map_err(failed)
}
