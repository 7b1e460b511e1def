// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type PullDto = { remote: string, events: number, newVersions: Array<string>, 
/**
 * "dataset old → new" for versions of ours renumbered because a team member took the number.
 */
renumbered: Array<string>, 
/**
 * Versions left out because their description was missing, damaged or unsafe.
 */
refused: Array<string>, };
