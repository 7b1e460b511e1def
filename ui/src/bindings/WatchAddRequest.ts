// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * A folder to watch, from the Add form. Durations in milliseconds.
 */
export type WatchAddRequest = { folder: string, 
/**
 * `project/name`.
 */
dataset: string, 
/**
 * How long writing must have stopped before a version is made.
 */
quietMs: number, 
/**
 * The longest a change waits under constant writing (null: ten minutes, or the quiet
 * window when that is longer).
 */
maxWaitMs: number | null, 
/**
 * Poll this often instead of waiting for filesystem events (network mounts).
 */
pollMs: number | null, 
/**
 * Upload each new version.
 */
upload: boolean, };
