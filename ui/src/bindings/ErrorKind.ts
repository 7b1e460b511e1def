// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * What kind of failure: the UI decides what to offer on it (log in, retry, work offline...).
 */
export type ErrorKind = "not_found" | "invalid" | "conflict" | "unauthorized" | "unavailable" | "corrupt" | "cancelled" | "internal";
