//! The Strata desktop app: builds the window, manages state and registers the commands. The
//! engine does the work; see `commands.rs`.

pub mod commands;
pub mod dto;
mod progress;
pub mod remote_commands;
pub mod tasks;

use std::path::PathBuf;

use tasks::AppState;

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
        ]
    };
}

/// `STRATA_HOME`, or the platform data dir: the same catalog the CLI uses, resolved the same way.
pub fn home() -> PathBuf {
    strata_engine::Engine::home_from(None)
}

pub fn run() {
    let home = home();
    // <home>/logs/strata.log, shared with the CLI; `STRATA_LOG` sets the levels.
    strata_engine::logging::init(&home, 0, "app");
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(AppState::new(home))
        .invoke_handler(handlers!())
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("error: strata could not start: {e}");
        std::process::exit(1);
    }
}
