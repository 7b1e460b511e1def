// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type FileDto = { path: string, size: number, hash: string, };
