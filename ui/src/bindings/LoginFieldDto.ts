// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * A credential the Remotes page asks for.
 */
export type LoginFieldDto = { key: string, label: string, secret: boolean, };
