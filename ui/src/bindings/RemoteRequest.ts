// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type RemoteRequest = { name: string, url: string, endpoint: string | null, region: string | null, allowHttp: boolean, isDefault: boolean, };
