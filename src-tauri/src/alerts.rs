//! Desktop notifications: a version a watch made, a watch that failed, the window closed to the
//! tray. Only when the window is out of view; otherwise the window's own notice says it. A
//! desktop without a notification service simply shows none (logged, never an error).

use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_notification::NotificationExt;

use crate::tray::window_in_view;

/// Tells the desktop, unless the user is looking at the window.
pub fn desktop<R: Runtime>(app: &AppHandle<R>, title: &str, body: &str) {
    if !window_in_view(app) {
        always(app, title, body);
    }
}

/// Tells the desktop whatever the window shows (it is being hidden: the window's own state
/// changes only once the event loop runs again).
pub fn always<R: Runtime>(app: &AppHandle<R>, title: &str, body: &str) {
    // An app built without the plugin (the command tests' mock app) has no desktop to tell.
    if app
        .try_state::<tauri_plugin_notification::Notification<R>>()
        .is_none()
    {
        return;
    }
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::debug!(%e, "no desktop notification");
    }
}
