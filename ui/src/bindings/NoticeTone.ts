// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * How a notice looks: news (a watched folder made a version) or a warning.
 */
export type NoticeTone = "info" | "warning";
