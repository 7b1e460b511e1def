// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { NoticeTone } from "./NoticeTone";

/**
 * A message for the window (`strata://notice`): a warning of an operation that had no progress
 * channel (a stale lock taken over, a change queued while offline), or news of work in the
 * background (a watched folder's new version).
 */
export type NoticeDto = { message: string, tone: NoticeTone, };
