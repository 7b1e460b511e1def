// Generated from src-tauri/src/dto.rs by its bindings test; do not edit.
import type { VersionDto } from "./VersionDto";

export type DatasetDto = { project: string, name: string, versionCount: number, latest: VersionDto | null, };
