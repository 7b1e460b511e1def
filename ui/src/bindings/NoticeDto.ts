// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * A warning of an operation that had no progress channel, dispatched to the window
 * (`strata://notice`): a stale lock taken over, a change queued while offline.
 */
export type NoticeDto = { message: string, };
