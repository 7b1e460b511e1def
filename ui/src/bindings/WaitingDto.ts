// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { VersionDto } from "./VersionDto";

/**
 * Everything "Upload & finalize waiting" would send, and the drafts it may finalize first.
 */
export type WaitingDto = { 
/**
 * Final versions waiting to be uploaded (queued offline or interrupted).
 */
versions: Array<VersionDto>, 
/**
 * Catalog changes (publish, delete, rename, move) waiting to be sent.
 */
events: number, drafts: Array<VersionDto>, 
/**
 * The default remote, if there is one (without one, nothing can be sent).
 */
remote: string | null, };
