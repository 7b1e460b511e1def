// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type MoveDto = { path: string, oldPath: string | null, from: string, to: string, };
