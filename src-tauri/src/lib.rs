//! The Strata desktop app: builds the window, manages state, registers the commands and runs the
//! watched folders while it is open (and, with the window closed, from the tray). The engine does
//! the work; see `commands.rs`, `remote_commands.rs`, `session_commands.rs`, `watch_commands.rs`, `watches.rs` for the
//! watch thread, `tray.rs`, `alerts.rs` (desktop notifications) and `login_item.rs`.

mod alerts;
pub mod commands;
pub mod dto;
pub mod free_commands;
pub mod insight_commands;
pub mod login_item;
mod manifests;
mod progress;
pub mod remote_commands;
pub mod session_commands;
pub mod tasks;
pub mod tray;
pub mod watch_commands;
pub mod watches;

use std::path::PathBuf;
use std::time::Duration;

use tasks::AppState;
use tauri::Manager;
use watches::WatchRunner;

/// Every command the window may call; `build.rs` lists the same names so the capability file can
/// allow exactly these.
#[macro_export]
macro_rules! handlers {
    () => {
        tauri::generate_handler![
            $crate::commands::catalog,
            $crate::commands::dataset_versions,
            $crate::commands::version_detail,
            $crate::commands::version_files,
            $crate::commands::diff_versions,
            $crate::commands::snapshot_folder,
            $crate::commands::create_version,
            $crate::commands::add_paths,
            $crate::commands::remove_entries,
            $crate::commands::sync_folder,
            $crate::commands::finalize_version,
            $crate::commands::publish_version,
            $crate::commands::get_copy,
            $crate::commands::cancel_task,
            $crate::commands::squash_versions,
            $crate::commands::delete_version,
            $crate::commands::delete_dataset,
            $crate::commands::rename_dataset,
            $crate::commands::move_dataset,
            $crate::commands::set_metadata,
            $crate::commands::set_tags,
            $crate::commands::set_description,
            $crate::commands::reveal,
            $crate::commands::offline_mode,
            $crate::commands::set_offline_mode,
            $crate::remote_commands::remotes,
            $crate::remote_commands::remote_add,
            $crate::remote_commands::remote_remove,
            $crate::remote_commands::remote_set_default,
            $crate::remote_commands::remote_test,
            $crate::remote_commands::remote_login,
            $crate::remote_commands::pull_remote,
            $crate::remote_commands::upload_version,
            $crate::remote_commands::push_all,
            $crate::remote_commands::finalize_upload,
            $crate::remote_commands::dataset_remote,
            $crate::remote_commands::set_dataset_remote,
            $crate::session_commands::export_session,
            $crate::session_commands::import_session,
            $crate::watch_commands::watches,
            $crate::watch_commands::watch_add,
            $crate::watch_commands::watch_pause,
            $crate::watch_commands::watch_remove,
            $crate::watch_commands::watch_version_now,
            $crate::insight_commands::version_insight,
            $crate::insight_commands::file_preview,
            $crate::insight_commands::file_thumbnails,
            $crate::login_item::start_at_login,
            $crate::login_item::set_start_at_login,
            $crate::free_commands::waiting,
            $crate::free_commands::finalize_and_push,
            $crate::free_commands::free_version,
            $crate::free_commands::local_content,
            $crate::free_commands::remote_reachable,
        ]
    };
}

/// `STRATA_HOME`, or the platform data dir: the same catalog the CLI uses, resolved the same way.
pub fn home() -> PathBuf {
    strata_engine::Engine::home_from(None)
}

/// How long closing the app waits for the watches to finish what they are doing.
const WATCHES_STOP_WITHIN: Duration = Duration::from_secs(3);

pub fn run() {
    let home = home();
    // <home>/logs/strata.log, shared with the CLI; `STRATA_LOG` sets the levels.
    strata_engine::logging::init(&home, 0, "app");
    let state = AppState::new(home.clone());
    let board = state.watch_board();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        // The login item starts the app in the tray.
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .args([tray::HIDDEN_ARG])
                .build(),
        )
        .manage(state)
        .invoke_handler(handlers!())
        // The window exists by now: watched folders run while the app is open.
        .setup(move |app| {
            if let Err(e) = tray::build(app.handle()) {
                tracing::warn!(%e, "no tray icon: closing the window quits");
            }
            if let Some(window) = app.get_webview_window("main") {
                tray::hide_at_start(&window);
            }
            app.manage(WatchRunner::start(app.handle().clone(), home, board));
            Ok(())
        })
        .on_window_event(tray::on_window_event)
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            eprintln!("error: strata could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|app, event| {
        if let tauri::RunEvent::Exit = event {
            if let Some(runner) = app.try_state::<WatchRunner>() {
                runner.stop(WATCHES_STOP_WITHIN);
            }
        }
    });
}
