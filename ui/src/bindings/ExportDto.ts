// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * A session file written.
 */
export type ExportDto = { path: string, 
/**
 * `project/name@semver`, parents first.
 */
versions: Array<string>, objects: number, bytes: number, };
