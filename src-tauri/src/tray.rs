//! The tray icon, so watched folders keep running with the window closed: its menu says how the
//! watches are doing and offers "Open Strata", "Pause all" / "Resume all" and "Quit"; closing the
//! window hides it instead of quitting while any watch is active (with nothing to watch, closing
//! quits as usual). Started at login (`--hidden`), the app starts in the tray.
//!
//! The status is a disabled first menu item as well as the tooltip: Linux trays
//! (StatusNotifierItem) show no tooltips.

use std::sync::Mutex;

use strata_engine::Engine;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Runtime, WebviewWindow, WindowEvent};

use crate::dto::WatchPhase;
use crate::tasks::{changed, notice, AppState};

const TRAY: &str = "strata";
/// The argument the login item starts the app with: straight to the tray.
pub const HIDDEN_ARG: &str = "--hidden";

/// The menu items whose text changes with the watches.
pub struct Tray<R: Runtime> {
    status: MenuItem<R>,
    pause: MenuItem<R>,
    /// What the status says now, so an unchanged one is not set again.
    said: Mutex<(String, bool)>,
}

/// How the watches are doing, in a few words, and whether every one is paused.
pub(crate) fn summary(phases: &[(WatchPhase, bool)]) -> (String, bool) {
    if phases.is_empty() {
        return ("No watched folders".into(), false);
    }
    let count = |f: &dyn Fn(WatchPhase, bool) -> bool| {
        phases.iter().filter(|(p, paused)| f(*p, *paused)).count()
    };
    let paused = count(&|_, paused| paused);
    let busy = count(&|p, paused| {
        !paused
            && matches!(
                p,
                WatchPhase::Pending | WatchPhase::Versioning | WatchPhase::Uploading
            )
    });
    let failing = count(&|p, paused| {
        !paused
            && matches!(
                p,
                WatchPhase::Error | WatchPhase::Missing | WatchPhase::Waiting
            )
    });
    let n = phases.len();
    let mut parts = vec![format!(
        "{n} watched folder{}",
        if n == 1 { "" } else { "s" }
    )];
    for (k, what) in [
        (busy, "changes pending"),
        (failing, "need attention"),
        (paused, "paused"),
    ] {
        if k > 0 {
            parts.push(format!("{k} {what}"));
        }
    }
    (parts.join(" · "), paused == n)
}

/// Builds the tray icon. An error (no tray on this desktop) leaves the app without one: closing
/// the window then quits, as it would without watches.
pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<()> {
    let status = MenuItem::with_id(app, "status", "Watched folders", false, None::<&str>)?;
    let open = MenuItem::with_id(app, "open", "Open Strata", true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause-all", "Pause all", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit Strata", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&status, &open, &pause, &quit])?;
    let mut tray = TrayIconBuilder::with_id(TRAY)
        .tooltip("Strata")
        .menu(&menu)
        .show_menu_on_left_click(false)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => show_window(app),
            "pause-all" => pause_all(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            } = event
            {
                show_window(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    app.manage(Tray {
        status,
        pause,
        said: Mutex::new((String::new(), false)),
    });
    refresh(app);
    Ok(())
}

/// Brings the window back (from the tray, or from behind other windows).
pub fn show_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window("main") {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
    }
}

/// Whether the window is where the user looks: news then goes to the window, not the desktop.
pub fn window_in_view<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.get_webview_window("main").is_some_and(|w| {
        w.is_visible().unwrap_or(false)
            && !w.is_minimized().unwrap_or(false)
            && w.is_focused().unwrap_or(false)
    })
}

/// Closing the window while watches run hides it to the tray; otherwise the app quits.
pub fn on_window_event<R: Runtime>(window: &tauri::Window<R>, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let app = window.app_handle();
    if app.try_state::<Tray<R>>().is_none() {
        return;
    }
    let active = active_watches(app);
    if active == 0 {
        return;
    }
    api.prevent_close();
    let _ = window.hide();
    crate::alerts::always(
        app,
        "Strata keeps watching",
        &format!(
            "{active} watched folder{} still versioned in the background. \
             Quit from the tray icon's menu.",
            if active == 1 { " is" } else { "s are" }
        ),
    );
}

fn active_watches<R: Runtime>(app: &AppHandle<R>) -> usize {
    let state = app.state::<AppState>();
    match Engine::open(&state.home).and_then(|e| e.watches()) {
        Ok(w) => w.iter().filter(|w| !w.watch.paused).count(),
        Err(e) => {
            tracing::warn!(%e, "could not read the watches; closing the window quits");
            0
        }
    }
}

/// Sets the status line and the pause item from the catalog and what the runner heard.
pub fn refresh<R: Runtime>(app: &AppHandle<R>) {
    let Some(tray) = app.try_state::<Tray<R>>() else {
        return;
    };
    let state = app.state::<AppState>();
    let board = state.watch_board();
    let phases: Vec<(WatchPhase, bool)> = match Engine::open(&state.home).and_then(|e| e.watches())
    {
        Ok(watches) => watches
            .into_iter()
            .map(|info| {
                let d = board.dto(info, None);
                (d.state, d.paused)
            })
            .collect(),
        Err(e) => {
            tracing::warn!(%e, "could not read the watches for the tray");
            return;
        }
    };
    let now = summary(&phases);
    let Ok(mut said) = tray.said.lock() else {
        return;
    };
    if *said == now {
        return;
    }
    let _ = tray.status.set_text(&now.0);
    let _ = tray
        .pause
        .set_text(if now.1 { "Resume all" } else { "Pause all" });
    let _ = tray.pause.set_enabled(!phases.is_empty());
    if let Some(icon) = app.tray_by_id(TRAY) {
        let _ = icon.set_tooltip(Some(format!("Strata — {}", now.0)));
    }
    *said = now;
}

/// [`refresh`] off the calling thread (a command's async worker must not wait on the catalog).
pub fn refresh_soon<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || refresh(&app));
}

/// "Pause all" pauses every watch; once all are paused the item reads "Resume all" and resumes
/// them. On a thread of its own: the catalog may be busy for a moment.
fn pause_all<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    std::thread::spawn(move || {
        let home = app.state::<AppState>().home.clone();
        let result = (|| -> strata_core::Result<()> {
            let mut engine = Engine::open(&home)?;
            let watches = engine.watches()?;
            let resume = !watches.is_empty() && watches.iter().all(|w| w.watch.paused);
            for w in watches.iter().filter(|w| w.watch.paused == resume) {
                engine.watch_pause(&w.watch.id.to_string(), !resume)?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            notice(&app, format!("Could not pause the watched folders: {e}"));
        }
        changed(&app, None, None);
        refresh(&app);
    });
}

/// Whether this start came from the login item: the window stays hidden in the tray.
pub fn started_hidden() -> bool {
    std::env::args().any(|a| a == HIDDEN_ARG)
}

/// Hides the window at start when the login item started the app and there is a tray to
/// bring it back from.
pub fn hide_at_start<R: Runtime>(window: &WebviewWindow<R>) {
    if started_hidden() && window.app_handle().try_state::<Tray<R>>().is_some() {
        let _ = window.hide();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_counts_what_needs_a_look() {
        assert_eq!(summary(&[]), ("No watched folders".into(), false));
        assert_eq!(
            summary(&[(WatchPhase::Idle, false)]),
            ("1 watched folder".into(), false)
        );
        assert_eq!(
            summary(&[
                (WatchPhase::Idle, false),
                (WatchPhase::Pending, false),
                (WatchPhase::Error, false),
                (WatchPhase::Error, true),
            ]),
            (
                "4 watched folders · 1 changes pending · 1 need attention · 1 paused".into(),
                false
            )
        );
        assert_eq!(
            summary(&[(WatchPhase::Idle, true), (WatchPhase::Error, true)]),
            ("2 watched folders · 2 paused".into(), true)
        );
    }
}
