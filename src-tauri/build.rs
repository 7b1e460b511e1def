/// The app's own commands, so the capability file can allow exactly these (`allow-<name>`).
const COMMANDS: &[&str] = &[
    "catalog",
    "dataset_versions",
    "version_detail",
    "version_files",
    "diff_versions",
    "snapshot_folder",
    "create_version",
    "add_paths",
    "remove_entries",
    "sync_folder",
    "finalize_version",
    "publish_version",
    "get_copy",
    "cancel_task",
    "squash_versions",
    "delete_version",
    "delete_dataset",
    "rename_dataset",
    "move_dataset",
    "set_metadata",
    "set_tags",
    "set_description",
    "reveal",
    "offline_mode",
    "set_offline_mode",
    "remotes",
    "remote_add",
    "remote_remove",
    "remote_set_default",
    "remote_test",
    "remote_login",
    "pull_remote",
    "upload_version",
    "push_all",
    "finalize_upload",
    "dataset_remote",
    "set_dataset_remote",
    "watches",
    "watch_add",
    "watch_pause",
    "watch_remove",
    "watch_version_now",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step");
}
