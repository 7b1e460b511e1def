// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * One thumbnail of a grid page: the PNG (base64) or why there is none.
 */
export type ThumbDto = { path: string, png: string | null, error: string | null, };
