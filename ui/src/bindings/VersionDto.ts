// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
export type VersionDto = { id: string, project: string, dataset: string, semver: string, parents: Array<string>, state: string, uploadState: string, tags: Array<string>, description: string, metadata: Record<string, unknown>, fileCount: number, totalBytes: number, createdAt: number, createdBy: string, finalizedAt: number | null, 
/**
 * The remote it is shared on (or came from).
 */
remote: string | null, };
