// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { LoginFieldDto } from "./LoginFieldDto";

export type RemoteDto = { name: string, url: string, endpoint: string | null, region: string | null, allowHttp: boolean, isDefault: boolean, 
/**
 * Empty when the remote needs no credentials (a shared folder).
 */
loginFields: Array<LoginFieldDto>, };
