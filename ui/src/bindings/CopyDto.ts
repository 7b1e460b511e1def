// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type CopyDto = { path: string, version: string, files: number, bytes: number, mutable: boolean, reused: boolean, 
/**
 * Objects and bytes fetched from a remote for this copy.
 */
fetchedObjects: number, fetchedBytes: number, };
