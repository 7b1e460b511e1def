// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * What `get` makes: the CLI maps its flags to this, the app receives it as it is (`CopyRequest`
 * in the UI's bindings).
 */
export type CopyRequest = { 
/**
 * Target folder; none (or empty) for the read-only cache.
 */
to: string | null, 
/**
 * Replace a non-empty target folder.
 */
overwrite: boolean, 
/**
 * Independent writable files (needs a target folder).
 */
mutable: boolean, include: Array<string>, exclude: Array<string>, 
/**
 * Keep this fraction of the selected files, chosen reproducibly by `seed`.
 */
fraction: number | null, seed: number, 
/**
 * Parallel writers [default: 8; file creation, not CPU, is the limit].
 */
jobs?: number, };
