// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * Sent while long work runs.
 */
export type ProgressDto = { phase: string, files: number, totalFiles: number, bytes: number, totalBytes: number, 
/**
 * Bytes per second over the phase so far.
 */
rate: number, warning: string | null, };
