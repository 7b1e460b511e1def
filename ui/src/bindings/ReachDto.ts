// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
/**
 * Whether the default remote answered the last probe.
 */
export type ReachDto = { 
/**
 * None: no remote, or offline (nothing probed).
 */
remote: string | null, reachable: boolean, 
/**
 * Why not, when it did not answer.
 */
message: string | null, };
