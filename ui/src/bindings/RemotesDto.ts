// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { RemoteDto } from "./RemoteDto";

export type RemotesDto = { remotes: Array<RemoteDto>, 
/**
 * Versions waiting to be uploaded (queued offline or interrupted).
 */
waitingVersions: number, 
/**
 * Catalog changes waiting to be sent.
 */
waitingEvents: number, offline: boolean, };
