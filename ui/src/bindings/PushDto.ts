// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type PushDto = { uploaded: Array<string>, events: number, sentBytes: number, };
