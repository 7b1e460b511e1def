// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * How to get a copy, from the UI.
 */
export type CopyRequest = { to: string | null, mutable: boolean, overwrite: boolean, include: Array<string>, exclude: Array<string>, fraction: number | null, seed: number, };
