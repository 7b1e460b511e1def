// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type PullDto = { remote: string, events: number, newVersions: Array<string>, 
/**
 * "dataset old → new" for versions of ours renumbered because a team member took the number.
 */
renumbered: Array<string>, 
/**
 * Log entries skipped ("log entry N: reason"): malformed, unsafe or inconsistent.
 */
refused: Array<string>, 
/**
 * `project/name@semver` of versions here that a team member's delete, rename or move did not
 * touch because they are not shared on this remote.
 */
keptLocal: Array<string>, };
