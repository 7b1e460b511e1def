// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type ErrorKind = "not_found" | "invalid" | "conflict" | "unauthorized" | "unavailable" | "corrupt" | "cancelled" | "internal";
