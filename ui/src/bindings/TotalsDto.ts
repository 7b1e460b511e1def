// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type TotalsDto = { added: number, removed: number, modified: number, unchanged: number, addedBytes: number, removedBytes: number, modifiedBytes: number, };
