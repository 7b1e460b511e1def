// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * The changes a watched folder's next version would record.
 */
export type PendingDto = { added: number, modified: number, removed: number, };
