// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { ErrorKind } from "./ErrorKind";
import type { PendingDto } from "./PendingDto";
import type { WatchPhase } from "./WatchPhase";

/**
 * A watched folder as the Watched folders page shows it.
 */
export type WatchDto = { id: number, folder: string, 
/**
 * `project/name` of the dataset its versions belong to.
 */
dataset: string, quietMs: number, maxWaitMs: number, pollMs: number | null, upload: boolean, paused: boolean, state: WatchPhase, reason: string | null, 
/**
 * Events seen since the last version (what the watcher knows without reading the folder).
 */
pending: number, 
/**
 * While changes are pending: what its next version would record, counted as
 * `strata status` counts (refreshed every few seconds at most).
 */
changes: PendingDto | null, kind: ErrorKind | null, 
/**
 * Whether some process (this app or another) runs it now.
 */
running: boolean, 
/**
 * The process running it, when another one does (`strata watch run`, another app).
 */
elsewhere: string | null, 
/**
 * `project/name@semver` of the last version the watch made.
 */
lastVersion: string | null, 
/**
 * `project/name@semver` of the dataset's newest version (a "Version now" counts too).
 */
newestVersion: string | null, updatedAt: number | null, };
