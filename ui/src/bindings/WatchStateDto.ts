// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { ErrorKind } from "./ErrorKind";
import type { WatchPhase } from "./WatchPhase";

/**
 * A watched folder's state, dispatched to the window as it changes (`watch://state`).
 */
export type WatchStateDto = { folder: string, state: WatchPhase, 
/**
 * Why it waits, polls or failed (for `elsewhere`: which process runs it).
 */
reason: string | null, 
/**
 * Changes seen since the last version (`pending`).
 */
pending: number, 
/**
 * The failure's class, for `error`: what the UI offers (log in, retry...).
 */
kind: ErrorKind | null, };
