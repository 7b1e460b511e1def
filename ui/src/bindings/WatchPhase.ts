// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * What a watched folder is doing, in one word: what its runner said last (see
 * `strata_watch::WatchState`), or `elsewhere` when another process (a `strata watch run`
 * service) runs it.
 */
export type WatchPhase = "idle" | "pending" | "versioning" | "uploading" | "waiting" | "polling" | "missing" | "error" | "elsewhere";
