// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type UploadDto = { version: string, remote: string, uploaded: Array<string>, sentObjects: number, sentBytes: number, skippedObjects: number, renumberedFrom: string | null, };
