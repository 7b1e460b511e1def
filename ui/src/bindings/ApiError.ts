// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * Every failure the UI sees: `code` to branch on, `message` to show.
 */
export type ApiError = { code: string, message: string, };
