// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * How much of a version's content is on this machine.
 */
export type LocalContentDto = { 
/**
 * `complete`, `partial` or `none`.
 */
local: string, files: number, bytes: number, localFiles: number, localBytes: number, 
/**
 * The remote holding it, when it is uploaded or pulled (freeing is offered only then).
 */
remote: string | null, };
